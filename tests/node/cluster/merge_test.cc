// The merge rules of docs/consistency.md, one test per rule, plus a
// randomized check that every replica ends up with the same visible state
// whatever order (and how many times) it receives the same changes.
#include "node/cluster/merge.h"

#include <algorithm>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "gtest/gtest.h"
#include "node/stamp_proto.h"
#include "node/storage/hll.h"
#include "node/storage/zset.h"

namespace lattice::node {
namespace {

using crdt::Stamp;
using crdt::Tombstone;

constexpr int64_t kNow = 1'000'000;

struct Assign {
  std::string key;
  Stamp stamp;
  std::string value;
  int64_t expire_at = -1;
};
struct Counter {
  std::string key;
  Stamp base_stamp;
  int64_t base;
  crdt::PnCounter::Contribution c;
};
struct Remove {
  std::string key;
  Tombstone t;
};
struct Flush {
  Tombstone t;
};
// A PFADD / PFMERGE result: an HLL write, with the writer's floor.
struct Hll {
  std::string key;
  Stamp stamp;
  std::string value;
  Stamp floor;
};
using Change = std::variant<Assign, Counter, Remove, Flush, Hll>;

void Apply(Db& db, const Change& ch) {
  if (auto* a = std::get_if<Assign>(&ch)) {
    MergeAssign(db, a->key, a->stamp, a->value, a->expire_at, kNow, 0);
  } else if (auto* c = std::get_if<Counter>(&ch)) {
    MergeCounter(db, c->key, c->base_stamp, c->base, -1, c->c, kNow, 0);
  } else if (auto* r = std::get_if<Remove>(&ch)) {
    MergeRemove(db, r->key, r->t, kNow);
  } else if (auto* h = std::get_if<Hll>(&ch)) {
    MergeHll(db, h->key, h->stamp, h->value, -1, h->floor, kNow, 0);
  } else {
    MergeFlush(db, std::get<Flush>(ch).t);
  }
}

// What a client sees: key -> value (and TTL).
std::map<std::string, std::string> Visible(Db& db) {
  std::map<std::string, std::string> out;
  db.ForEach([&](const Entry& e) {
    char buf[24];
    std::string v;
    if (e.type() == ObjType::kHash) {
      const auto& h = static_cast<const HashObject&>(*e.collection());
      std::vector<std::string> f;
      for (size_t i = 0; i < h.size(); i++) f.push_back(h.map.at(i).name.str() + "=" + std::string(h.Value(i, buf)));
      std::sort(f.begin(), f.end());
      v = "hash{";
      for (const auto& x : f) v += x + ",";
      v += "}";
    } else if (e.type() == ObjType::kZset) {
      // In (score, member) order, scores as their exact "%.17g".
      const auto& z = static_cast<const ZsetObject&>(*e.collection());
      v = "zset{";
      for (const ZOrder::Node* n = z.order().first(); n; n = n->next()) {
        char s[40];
        snprintf(s, sizeof s, "%.17g", n->score);
        v += std::string(n->member()) + "=" + s + ",";
      }
      v += "}";
    } else if (e.type() == ObjType::kSet) {
      const auto& st = static_cast<const SetObject&>(*e.collection());
      std::vector<std::string> m;
      for (size_t i = 0; i < st.size(); i++) m.push_back(st.map.at(i).name.str());
      std::sort(m.begin(), m.end());
      v = "set{";
      for (const auto& x : m) v += x + ",";
      v += "}";
    } else {
      v = std::string(e.StringValue(buf));
      if (v.substr(0, 4) == "HYLL") {
        // HLL bytes, shortened: a hash of them (equal bytes, equal hash).
        v = "hll#" + std::to_string(std::hash<std::string>{}(v) % 1000003);
      }
    }
    if (e.has_expire()) v += " ttl@" + std::to_string(e.expire_at());
    out[std::string(e.key())] = v;
  });
  return out;
}

std::map<std::string, std::string> ApplyAll(const std::vector<Change>& changes) {
  Db db;
  for (const Change& ch : changes) Apply(db, ch);
  return Visible(db);
}

Tombstone Delete(Stamp stamp, std::vector<std::pair<crdt::NodeId, uint64_t>> seen) {
  Tombstone t;
  t.stamp = stamp;
  for (auto [n, c] : seen) t.seen.Observe(n, c);
  return t;
}

// Applies `changes` in many orders, with repeats, and expects `want` each time.
void ExpectEveryOrderGives(std::vector<Change> changes,
                           const std::map<std::string, std::string>& want) {
  std::mt19937 rng(7);
  for (int round = 0; round < 60; round++) {
    std::vector<Change> order = changes;
    if (round % 3 == 2) order.insert(order.end(), changes.begin(), changes.end());
    std::shuffle(order.begin(), order.end(), rng);
    EXPECT_EQ(ApplyAll(order), want) << "round " << round;
  }
}

TEST(Merge, StringsTakeTheGreatestStampInAnyOrder) {
  ExpectEveryOrderGives(
      {Assign{"k", {5, 1}, "a"}, Assign{"k", {5, 2}, "b"}, Assign{"k", {4, 3}, "c"},
       Assign{"j", {1, 3}, "x"}},
      {{"k", "b"}, {"j", "x"}});
}

TEST(Merge, ConcurrentIncrementsOnDifferentNodesAllCount) {
  // Totals are state: node 1 reached 3 then 5, node 2 reached 4 (-1).
  ExpectEveryOrderGives(
      {Counter{"c", {}, 0, {1, 3, 0}}, Counter{"c", {}, 0, {1, 5, 0}},
       Counter{"c", {}, 0, {2, 4, 1}}},
      {{"c", "8"}});
}

TEST(Merge, IncrementsApplyToTheBaseTheyWereMadeOn) {
  // SET c 10 at (2,1); node 2 increments that base by 5.
  ExpectEveryOrderGives({Assign{"c", {2, 1}, "10"}, Counter{"c", {2, 1}, 10, {2, 5, 0}}},
                        {{"c", "15"}});
}

TEST(Merge, SetWinsOverIncrementsOnAnOlderBase) {
  // Node 2 increments the old base while node 1 SETs (stamp after it): the
  // SET is the new base and the increments against the old one are gone;
  // later increments against the new base count.
  ExpectEveryOrderGives({Assign{"c", {2, 1}, "10"}, Counter{"c", {2, 1}, 10, {2, 7, 0}},
                         Assign{"c", {9, 1}, "100"}, Counter{"c", {9, 1}, 100, {3, 1, 0}}},
                        {{"c", "101"}});
}

TEST(Merge, DeleteKillsTheWritesItSaw) {
  ExpectEveryOrderGives({Assign{"k", {5, 1}, "v"}, Remove{"k", Delete({6, 2}, {{1, 5}})}}, {});
}

TEST(Merge, WriteTheDeleteDidNotSeeSurvives) {
  // Node 2 deleted after seeing (5,1); node 3 wrote (7,3) without having
  // heard of the delete.
  ExpectEveryOrderGives({Assign{"k", {5, 1}, "old"}, Remove{"k", Delete({6, 2}, {{1, 5}})},
                         Assign{"k", {7, 3}, "new"}},
                        {{"k", "new"}});
}

TEST(Merge, DeleteCoversASingleWriteWithoutItsOriginsEarlierOnes) {
  // The deleting node saw node 1's (9,1) only as a counter base relayed by
  // node 3, not node 1's earlier (5,1) on another key: the delete names
  // (9,1) as a dot, and (5,1) survives a delete of its own key that did not
  // see it.
  Tombstone t = Delete({12, 2}, {{2, 11}});
  t.AddDot({9, 1});
  ExpectEveryOrderGives({Counter{"c", {9, 1}, 10, {3, 1, 0}}, Remove{"c", t},
                         Assign{"x", {5, 1}, "v1"}, Remove{"x", Delete({13, 2}, {{2, 12}})}},
                        {{"x", "v1"}});
}

TEST(Merge, UnseenWriteBelowAKilledOneStaysDead) {
  // (3,3) lost to (5,1) by stamp; the delete killed (5,1). No replica may
  // show "small", whether it arrived before or after the delete.
  ExpectEveryOrderGives({Assign{"k", {5, 1}, "big"}, Assign{"k", {3, 3}, "small"},
                         Remove{"k", Delete({6, 2}, {{1, 5}})}},
                        {});
}

TEST(Merge, AWriteAboveATombstoneRetiresIt) {
  // Everything the tombstone covers is stamped below the delete, hence below
  // the new write: the tombstone has nothing left to do.
  Db db;
  MergeAssign(db, "k", {5, 1}, "v", -1, kNow, 0);
  MergeRemove(db, "k", Delete({6, 2}, {{1, 5}}), kNow);
  EXPECT_EQ(db.tomb_count(), 1u);
  MergeAssign(db, "k", {4, 3}, "late", -1, kNow, 0);  // covered? no: outranked
  EXPECT_EQ(db.size(), 0u);
  MergeAssign(db, "k", {7, 3}, "new", -1, kNow, 0);
  EXPECT_EQ(db.tomb_count(), 0u);
  EXPECT_EQ(Visible(db), (std::map<std::string, std::string>{{"k", "new"}}));
}

TEST(Merge, DeleteOfACounterKillsItsIncrements) {
  ExpectEveryOrderGives({Counter{"c", {}, 0, {1, 4, 0}}, Counter{"c", {}, 0, {2, 2, 0}},
                         Remove{"c", Delete({9, 1}, {{1, 8}, {2, 8}})}},
                        {});
}

TEST(Merge, IncrementsAfterADeleteStartFromZero) {
  // Both nodes saw the delete (8,1) and incremented on the base it left.
  ExpectEveryOrderGives({Counter{"c", {}, 0, {1, 4, 0}}, Remove{"c", Delete({8, 1}, {{1, 7}})},
                         Counter{"c", {8, 1}, 0, {1, 1, 0}}, Counter{"c", {8, 1}, 0, {2, 2, 0}}},
                        {{"c", "3"}});
}

TEST(Merge, FreshCounterBaseIsTheNewestDelete) {
  Db db;
  EXPECT_TRUE(FreshCounterBase(db, "c", {50, 9}).IsZero());
  MergeRemove(db, "c", Delete({8, 1}, {{1, 7}}), kNow);
  EXPECT_EQ(FreshCounterBase(db, "c", {50, 9}), (Stamp{8, 1}));
  // A killed write above every delete's stamp rules the delete out as a
  // base: the INCR's own stamp serves.
  MergeAssign(db, "d", {20, 3}, "x", -1, kNow, 0);
  MergeRemove(db, "d", Delete({21, 1}, {{3, 20}}), kNow);
  MergeAssign(db, "d", {30, 3}, "y", -1, kNow, 0);
  MergeRemove(db, "d", Delete({10, 4}, {{3, 30}}), kNow);
  EXPECT_EQ(FreshCounterBase(db, "d", {50, 9}), (Stamp{50, 9}));
}

TEST(Merge, TtlTravelsWithTheAssignment) {
  ExpectEveryOrderGives({Assign{"k", {5, 1}, "v"}, Assign{"k", {6, 2}, "v", kNow + 5000}},
                        {{"k", "v ttl@" + std::to_string(kNow + 5000)}});
}

TEST(Merge, AssignmentThatExpiredInTransitIsDropped) {
  Db db;
  EXPECT_FALSE(MergeAssign(db, "k", {5, 1}, "v", kNow - 1, kNow, 0));
  EXPECT_EQ(db.size(), 0u);
}

TEST(Merge, AnExpiredWriteStillOutranksSmallerLateWrites) {
  // (5,1) with a TTL beat the concurrent (3,3); it expired. A node that got
  // (3,3) late, and one that got the expired write late, both show nothing.
  const int64_t later = kNow + 20;
  Db a;
  a.EnableMerkle();  // a replicating node
  MergeAssign(a, "k", {5, 1}, "big", kNow + 10, kNow, 0);
  EXPECT_EQ(a.Find("k", later), nullptr);  // expires here
  MergeAssign(a, "k", {3, 3}, "small", -1, later, 0);
  EXPECT_EQ(a.FindRaw("k"), nullptr);

  Db b;
  b.EnableMerkle();
  MergeAssign(b, "k", {3, 3}, "small", -1, kNow, 0);
  MergeAssign(b, "k", {5, 1}, "big", kNow + 10, later, 0);  // expired in transit
  EXPECT_EQ(b.FindRaw("k"), nullptr);
  MergeAssign(b, "k", {3, 3}, "small", -1, later, 0);  // a repeat changes nothing
  EXPECT_EQ(b.FindRaw("k"), nullptr);
  // A greater write is a new life for the key.
  MergeAssign(b, "k", {9, 2}, "new", -1, later, 0);
  EXPECT_NE(b.FindRaw("k"), nullptr);
}

TEST(Merge, FlushKillsEverythingStampedBelowIt) {
  Tombstone flush;
  flush.stamp = {10, 2};
  ExpectEveryOrderGives({Assign{"a", {5, 1}, "1"}, Assign{"b", {11, 3}, "2"},
                         Counter{"c", {}, 0, {1, 3, 0}}, Flush{flush}},
                        {{"b", "2"}});
}

// Random histories: a few keys, three nodes, assignments, counter totals,
// deletes with random seen vectors and flushes. Every order, with repeats,
// must give the same visible state.
std::string Describe(const std::vector<Change>& changes);

// A delete of `key` stamped `s` that saw a random part of what nodes 1..3
// wrote up to `counter`.
Remove RandomDelete(const std::string& key, Stamp s, uint64_t counter, std::mt19937& rng) {
  Tombstone t;
  t.stamp = s;
  for (crdt::NodeId n = 1; n <= 3; n++) {
    if (rng() % 3) t.seen.Observe(n, rng() % (counter + 1));
  }
  return Remove{key, t};
}

// Applies `changes` in 20 shuffled orders, some with repeats, and expects
// the outcome of applying them in order every time.
void ExpectShuffledOrdersAgree(const std::vector<Change>& changes, std::mt19937& rng,
                               int history) {
  std::map<std::string, std::string> first = ApplyAll(changes);
  for (int round = 0; round < 20; round++) {
    std::vector<Change> order = changes;
    if (round % 2) {
      order.insert(order.end(), changes.begin(),
                   changes.begin() + std::min<size_t>(round % 7, changes.size()));
    }
    std::shuffle(order.begin(), order.end(), rng);
    ASSERT_EQ(ApplyAll(order), first) << "history " << history << " round " << round << "\n"
                                      << Describe(changes) << "order:\n" << Describe(order);
  }
}

TEST(Merge, RandomHistoriesConvergeInAnyOrder) {
  std::mt19937 rng(20261121);
  for (int history = 0; history < 200; history++) {
    std::vector<Change> changes;
    std::map<std::pair<std::string, Stamp>, int64_t> bases;  // one base value per stamp
    std::map<std::tuple<std::string, Stamp, crdt::NodeId>, crdt::PnCounter::Contribution> totals;
    uint64_t counter = 1;
    for (int i = 0; i < 12; i++) {
      std::string key = "k" + std::to_string(rng() % 3);
      crdt::NodeId node = 1 + rng() % 3;
      Stamp s{counter += 1 + rng() % 2, node};
      switch (rng() % 5) {
        case 0:
        case 1:
          changes.push_back(Assign{key, s, std::to_string(rng() % 100)});
          bases[{key, s}] = 0;
          break;
        case 2: {
          // Increment on an existing base (or the zero base).
          Stamp base{};
          int64_t base_value = 0;
          for (auto& [kb, v] : bases) {
            if (kb.first == key && rng() % 2) {
              base = kb.second;
              base_value = v;
            }
          }
          auto& t = totals[{key, base, node}];
          t.node = node;
          t.p += rng() % 5;
          t.n += rng() % 2;
          changes.push_back(Counter{key, base, base_value, t});
          break;
        }
        case 3:
          changes.push_back(RandomDelete(key, s, counter, rng));
          break;
        default:
          if (rng() % 4 == 0) {
            Tombstone t;
            t.stamp = s;
            changes.push_back(Flush{t});
          } else {
            changes.push_back(Assign{key, s, "v" + std::to_string(rng() % 10)});
          }
      }
    }
    // Counter base values must match the assignment that made the base:
    // fix them up now that all assignments are known.
    for (Change& ch : changes) {
      if (auto* c = std::get_if<Counter>(&ch); c && !c->base_stamp.IsZero()) {
        for (const Change& a : changes) {
          auto* as = std::get_if<Assign>(&a);
          if (as && as->key == c->key && as->stamp == c->base_stamp) {
            c->base = std::stoll(as->value.substr(as->value[0] == 'v' ? 1 : 0));
          }
        }
      }
    }
    for (Change& ch : changes) {
      if (auto* a = std::get_if<Assign>(&ch); a && a->value[0] == 'v') {
        a->value = a->value.substr(1);  // numeric, so counters can sit on it
      }
    }
    ExpectShuffledOrdersAgree(changes, rng, history);
    if (HasFailure()) return;
  }
}

// ---- HyperLogLog ----

// A dense HLL with registers `regs` (as PFMERGE would leave it).
std::string HllOf(const std::vector<uint8_t>& regs) { return hll::DenseOf(regs.data()); }

// How Visible shows HLL bytes.
std::string Shown(const std::string& hll) {
  return "hll#" + std::to_string(std::hash<std::string>{}(hll) % 1000003);
}

std::vector<uint8_t> Registers(std::initializer_list<std::pair<int, uint8_t>> set) {
  std::vector<uint8_t> r(hll::kRegisters, 0);
  for (auto [i, v] : set) r[i] = v;
  return r;
}

std::vector<uint8_t> Max(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  std::vector<uint8_t> m(a.size());
  for (size_t i = 0; i < a.size(); i++) m[i] = std::max(a[i], b[i]);
  return m;
}

TEST(MergeHll, ConcurrentHllWritesMergeRegisterWise) {
  auto a = Registers({{1, 3}, {7, 1}});
  auto b = Registers({{1, 2}, {9, 5}});
  ExpectEveryOrderGives({Hll{"h", {10, 1}, HllOf(a), {}}, Hll{"h", {11, 2}, HllOf(b), {}}},
                        {{"h", Shown(HllOf(Max(a, b)))}});
}

TEST(MergeHll, ANewerWriteWithEveryRegisterReplacesTheOlder) {
  // The second writer had seen the first: its registers cover it, so its
  // bytes (here sparse: the empty HLL grown nowhere) are what remains.
  auto a = Registers({{1, 3}});
  auto b = Registers({{1, 3}, {2, 1}});
  ExpectEveryOrderGives({Hll{"h", {10, 1}, HllOf(a), {}}, Hll{"h", {11, 2}, HllOf(b), {}}},
                        {{"h", Shown(HllOf(b))}});
}

TEST(MergeHll, APlainWriteKillsOnlyTheHllWritesBelowIt) {
  auto x = Registers({{4, 2}});
  auto y = Registers({{5, 1}});
  ExpectEveryOrderGives({Hll{"h", {10, 1}, HllOf(x), {}}, Assign{"h", {15, 3}, "foo"},
                         Hll{"h", {20, 2}, HllOf(y), {}}},
                        {{"h", Shown(HllOf(y))}});
  // Newest of all, the plain write wins outright.
  ExpectEveryOrderGives({Hll{"h", {10, 1}, HllOf(x), {}}, Assign{"h", {25, 3}, "foo"},
                         Hll{"h", {20, 2}, HllOf(y), {}}},
                        {{"h", "foo"}});
}

TEST(MergeHll, AFloorNamedByTheWriterKillsOlderWrites) {
  // Node 2 wrote y over a SET it had seen (stamp 15); node 1's x is older.
  auto x = Registers({{4, 2}});
  auto y = Registers({{5, 1}});
  ExpectEveryOrderGives({Hll{"h", {10, 1}, HllOf(x), {}}, Assign{"h", {15, 3}, "foo"},
                         Hll{"h", {20, 2}, HllOf(y), {15, 3}}},
                        {{"h", Shown(HllOf(y))}});
}

TEST(MergeHll, ADeleteKillsTheHllWritesStampedBeforeIt) {
  auto x = Registers({{4, 2}});
  auto y = Registers({{5, 1}});
  // Between the two: x goes, y stays.
  ExpectEveryOrderGives({Hll{"h", {10, 1}, HllOf(x), {}}, Hll{"h", {20, 2}, HllOf(y), {}},
                         Remove{"h", Delete({15, 3}, {{1, 10}})}},
                        {{"h", Shown(HllOf(y))}});
  // After both: both go, seen or not (an HLL delete is a write like SET).
  ExpectEveryOrderGives({Hll{"h", {10, 1}, HllOf(x), {}}, Hll{"h", {20, 2}, HllOf(y), {}},
                         Remove{"h", Delete({25, 3}, {{1, 10}})}},
                        {});
}

TEST(MergeHll, AFlushKillsTheHllWritesBelowIt) {
  auto x = Registers({{4, 2}});
  auto y = Registers({{5, 1}});
  Tombstone f;
  f.stamp = {15, 3};
  ExpectEveryOrderGives({Hll{"h", {10, 1}, HllOf(x), {}}, Hll{"h", {20, 2}, HllOf(y), {}},
                         Flush{f}},
                        {{"h", Shown(HllOf(y))}});
}

std::string Describe(const std::vector<Change>& changes) {
  std::string out;
  auto st = [](Stamp s) { return std::to_string(s.counter) + "." + std::to_string(s.node); };
  for (const Change& ch : changes) {
    if (auto* a = std::get_if<Assign>(&ch)) {
      out += "  set " + a->key + "@" + st(a->stamp) +
             (a->value.substr(0, 4) == "HYLL" ? " <hll>" : " " + a->value) + "\n";
    } else if (auto* h = std::get_if<Hll>(&ch)) {
      out += "  hll " + h->key + "@" + st(h->stamp) + " floor " + st(h->floor) + " #" +
             std::to_string(std::hash<std::string>{}(h->value) % 1000003) + "\n";
    } else if (auto* r = std::get_if<Remove>(&ch)) {
      out += "  del " + r->key + "@" + st(r->t.stamp) + " seen";
      for (const auto& e : r->t.seen.entries()) out += " " + std::to_string(e.node) + ":" + std::to_string(e.counter);
      out += "\n";
    } else if (auto* f = std::get_if<Flush>(&ch)) {
      out += "  flush@" + st(f->t.stamp) + "\n";
    }
  }
  return out;
}

TEST(MergeHll, RandomHistoriesConvergeInAnyOrder) {
  std::mt19937 rng(20261201);
  for (int history = 0; history < 300; history++) {
    std::vector<Change> changes;
    std::map<std::string, std::vector<Stamp>> plain;  // plain writes per key
    uint64_t counter = 1;
    for (int i = 0; i < 10; i++) {
      std::string key = "h" + std::to_string(rng() % 2);
      crdt::NodeId node = 1 + rng() % 3;
      Stamp s{counter += 1 + rng() % 2, node};
      switch (rng() % 6) {
        case 0:
        case 1:
        case 2: {
          std::vector<uint8_t> r(hll::kRegisters, 0);
          for (int j = 0; j < 3; j++) r[rng() % 8] = uint8_t(1 + rng() % 4);
          Stamp floor{};
          auto& p = plain[key];
          if (!p.empty() && rng() % 2) floor = p[rng() % p.size()];
          changes.push_back(Hll{key, s, rng() % 5 ? HllOf(r) : hll::CreateHll(), floor});
          break;
        }
        case 3: {
          std::vector<uint8_t> r(hll::kRegisters, 0);
          r[rng() % 8] = 2;
          changes.push_back(Assign{key, s, rng() % 2 ? "v" + std::to_string(rng() % 9) : HllOf(r)});
          plain[key].push_back(s);
          break;
        }
        case 4:
          changes.push_back(RandomDelete(key, s, counter, rng));
          break;
        default: {
          Tombstone t;
          t.stamp = s;
          if (rng() % 3 == 0) changes.push_back(Flush{t});
        }
      }
    }
    ExpectShuffledOrdersAgree(changes, rng, history);
    if (HasFailure()) return;
  }
}

// ---- collections ----

// A node of a simulated cluster: its own keyspace and clock. Its local
// collection commands are built the way the families build them (dot,
// predecessor, the versions they replace) and applied through the same
// merge functions a replica uses, then shipped as the same changes.
struct Node {
  explicit Node(crdt::NodeId id) : id(id), clock(id) { db.EnableMerkle(); }
  crdt::NodeId id;
  crdt::LamportClock clock;
  Db db;

  struct Op {
    std::string key;
    Stamp stamp;
    peer::Elements m;
  };

  uint64_t Prev(const std::string& key) {
    Entry* e = db.Find(key, kNow);
    if (e && e->is_collection()) return e->collection()->ctx.Head(id);
    const Tombstone* t = db.FindTomb(key);
    return t ? t->seen.Get(id) : 0;
  }
  // The versions of `element` this node sees (empty if none).
  std::vector<Stamp> Versions(const std::string& key, ObjType type, const std::string& element) {
    std::vector<Stamp> out;
    Entry* e = db.Find(key, kNow);
    if (!e || e->type() != type) return out;
    if (type == ObjType::kHash) {
      auto& h = static_cast<HashObject&>(*e->collection());
      ptrdiff_t i = h.map.Find(element);
      if (i >= 0) for (const auto& v : h.map.at(i).versions) out.push_back(v.dot);
    } else if (type == ObjType::kZset) {
      auto& z = static_cast<ZsetObject&>(*e->collection());
      ptrdiff_t i = z.map().Find(element);
      if (i >= 0) for (const auto& v : z.map().at(i).versions) out.push_back(v.dot);
    } else {
      auto& st = static_cast<SetObject&>(*e->collection());
      ptrdiff_t i = st.map.Find(element);
      if (i >= 0) for (const auto& v : st.map.at(i).versions) out.push_back(v.dot);
    }
    return out;
  }
  struct ElementChange {
    peer::ElementOp::Kind kind;
    std::string element;
    std::string value;
  };
  // One write of several element changes (HSET h f1 v1 f2 v2, SADD s a b),
  // each put under its own dot as CollectionWrite::ElementDot gives them:
  // the write's stamp with sub 1, 2, ...
  Op Elements(const std::string& key, ObjType type, const std::vector<ElementChange>& changes) {
    Op op{key, clock.Tick(), {}};
    op.m.set_type(static_cast<uint32_t>(type));
    op.m.set_prev(Prev(key));
    uint32_t sub = 0;
    for (const ElementChange& ch : changes) {
      peer::ElementOp* o = op.m.add_ops();
      o->set_kind(ch.kind);
      o->set_element(ch.element);
      o->set_value(ch.value);
      if (ch.kind == peer::ElementOp::PUT) o->set_sub(++sub);
      for (const Stamp& d : Versions(key, type, ch.element)) ToProto(d, o->add_replaced());
    }
    MergeElements(db, key, op.stamp, op.m, kNow, 0);
    return op;
  }
  Op Element(const std::string& key, ObjType type, peer::ElementOp::Kind kind,
             const std::string& element, const std::string& value) {
    return Elements(key, type, {{kind, element, value}});
  }
  void Apply(const Op& op) {
    clock.Observe(op.stamp);
    MergeElements(db, op.key, op.stamp, op.m, kNow, 0);
  }
  // ZADD key score member, as zset_family.cc ships it.
  Op ZAdd(const std::string& key, const std::string& member, double score) {
    return Element(key, ObjType::kZset, peer::ElementOp::PUT, member, EncodeScore(score));
  }
  // ZINCRBY on a replicating node: a contribution to the member's counter
  // on its greatest version. REQUIRES: the member is present.
  Op ZIncrBy(const std::string& key, const std::string& member, double by) {
    Op op{key, clock.Tick(), {}};
    op.m.set_type(static_cast<uint32_t>(ObjType::kZset));
    op.m.set_prev(Prev(key));
    Entry* e = db.Find(key, kNow);
    std::unique_ptr<Collection> copy = e->collection()->Clone();
    auto* z = static_cast<ZsetObject*>(copy.get());
    double base = z->map().at(static_cast<size_t>(z->map().Find(member))).top().value;
    crdt::PnCounter::Delta w =
        ScoreDeltaToWire(z->Increment(member, id, op.stamp.counter, by));
    peer::ElementOp* o = op.m.add_ops();
    o->set_kind(peer::ElementOp::INCREMENT);
    o->set_element(member);
    o->set_value(EncodeScore(base));
    ToProto(w.base_stamp, o->mutable_base_stamp());
    o->set_base(w.base);
    o->set_node_id(w.contribution.node);
    o->set_increments(w.contribution.p);
    o->set_decrements(w.contribution.n);
    o->set_epoch(w.contribution.epoch);
    MergeElements(db, key, op.stamp, op.m, kNow, 0);
    return op;
  }
};

using NodeChange = std::variant<Node::Op, Assign, Remove>;

std::string S(const Stamp& s) {
  return "(" + std::to_string(s.counter) + "," + std::to_string(s.node) +
         (s.sub ? "." + std::to_string(s.sub) : "") + ")";
}

std::string Describe(const std::vector<NodeChange>& changes) {
  std::string out;
  for (const NodeChange& ch : changes) {
    if (auto* op = std::get_if<Node::Op>(&ch)) {
      out += "  elements " + op->key + " " + S(op->stamp) + " type " +
             std::to_string(op->m.type()) + " prev " + std::to_string(op->m.prev());
      for (const auto& o : op->m.ops()) {
        out += (o.kind() == peer::ElementOp::PUT ? " put." + std::to_string(o.sub()) + " " : " rm ") +
               o.element() + "=" + o.value() + " replacing";
        for (const auto& r : o.replaced()) out += " " + S(FromProto(r));
      }
    } else if (auto* a = std::get_if<Assign>(&ch)) {
      out += "  set " + a->key + " " + S(a->stamp) + " " + a->value;
    } else {
      const auto& r = std::get<Remove>(ch);
      out += "  del " + r.key + " " + S(r.t.stamp) + " seen";
      for (const auto& e : r.t.seen.entries()) out += " " + std::to_string(e.node) + ":" + std::to_string(e.counter);
      for (const auto& d : r.t.dots) out += " dot" + S(d);
    }
    out += "\n";
  }
  return out;
}

void ApplyNodeChange(Db& db, const NodeChange& ch) {
  if (auto* op = std::get_if<Node::Op>(&ch)) {
    MergeElements(db, op->key, op->stamp, op->m, kNow, 0);
  } else if (auto* a = std::get_if<Assign>(&ch)) {
    MergeAssign(db, a->key, a->stamp, a->value, a->expire_at, kNow, 0);
  } else {
    const auto& r = std::get<Remove>(ch);
    MergeRemove(db, r.key, r.t, kNow);
  }
}

std::map<std::string, std::string> ApplyAllNodeChanges(const std::vector<NodeChange>& changes) {
  Db db;
  db.EnableMerkle();
  for (const NodeChange& ch : changes) ApplyNodeChange(db, ch);
  return Visible(db);
}

TEST(MergeCollections, ConcurrentAddsOfANewKeyOnTwoNodesAreBothKept) {
  Node a(1), b(2);
  auto x = a.Element("s", ObjType::kSet, peer::ElementOp::PUT, "x", "");
  auto y = b.Element("s", ObjType::kSet, peer::ElementOp::PUT, "y", "");
  a.Apply(y);
  b.Apply(x);
  EXPECT_EQ(Visible(a.db), (std::map<std::string, std::string>{{"s", "set{x,y,}"}}));
  EXPECT_EQ(Visible(a.db), Visible(b.db));
}

TEST(MergeCollections, RemoveDeletesOnlyWhatItObserved) {
  Node a(1), b(2);
  auto add = a.Element("s", ObjType::kSet, peer::ElementOp::PUT, "x", "");
  b.Apply(add);
  auto rm = b.Element("s", ObjType::kSet, peer::ElementOp::REMOVE, "x", "");
  auto readd = a.Element("s", ObjType::kSet, peer::ElementOp::PUT, "x", "");  // concurrent
  a.Apply(rm);
  b.Apply(readd);
  EXPECT_EQ(Visible(a.db), (std::map<std::string, std::string>{{"s", "set{x,}"}}));
  EXPECT_EQ(Visible(b.db), Visible(a.db));
}

TEST(MergeCollections, DelOfACollectionKeepsConcurrentAdds) {
  Node a(1), b(2);
  auto add = a.Element("h", ObjType::kHash, peer::ElementOp::PUT, "f", "1");
  b.Apply(add);
  // b deletes the key, having seen a's field; a concurrently adds another.
  Tombstone t;
  t.stamp = b.clock.Tick();
  t.seen.Observe(1, add.stamp.counter);
  t.seen.Observe(2, t.stamp.counter - 1);
  MergeRemove(b.db, "h", t, kNow);
  auto add2 = a.Element("h", ObjType::kHash, peer::ElementOp::PUT, "g", "2");
  MergeRemove(a.db, "h", t, kNow);
  b.Apply(add2);
  EXPECT_EQ(Visible(a.db), (std::map<std::string, std::string>{{"h", "hash{g=2,}"}}));
  EXPECT_EQ(Visible(b.db), Visible(a.db));
  // A late copy of the deleted field does not come back.
  b.Apply(add);
  EXPECT_EQ(Visible(b.db), Visible(a.db));
}

TEST(MergeCollections, HashFieldValuesAreLastWriterWins) {
  Node a(1), b(2);
  auto va = a.Element("h", ObjType::kHash, peer::ElementOp::PUT, "f", "from-a");
  auto vb = b.Element("h", ObjType::kHash, peer::ElementOp::PUT, "f", "from-b");
  for (int order = 0; order < 2; order++) {
    std::vector<NodeChange> ch = {va, vb};
    if (order) std::swap(ch[0], ch[1]);
    EXPECT_EQ(ApplyAllNodeChanges(ch),
              (std::map<std::string, std::string>{
                  {"h", va.stamp < vb.stamp ? "hash{f=from-b,}" : "hash{f=from-a,}"}}));
  }
}

TEST(MergeCollections, ConcurrentZaddOfOneMemberTakesTheGreaterStampsScoreEverywhere) {
  Node a(1), b(2);
  auto za = a.ZAdd("z", "m", 1.5);
  auto zb = b.ZAdd("z", "m", 7);
  a.Apply(zb);
  b.Apply(za);
  std::string want = za.stamp < zb.stamp ? "zset{m=7,}" : "zset{m=1.5,}";
  EXPECT_EQ(Visible(a.db), (std::map<std::string, std::string>{{"z", want}}));
  EXPECT_EQ(Visible(b.db), Visible(a.db));
  for (int order = 0; order < 2; order++) {
    std::vector<NodeChange> ch = {za, zb};
    if (order) std::swap(ch[0], ch[1]);
    EXPECT_EQ(ApplyAllNodeChanges(ch), Visible(a.db));
  }
}

TEST(MergeCollections, ZincrbyOnTwoNodesSums) {
  Node a(1), b(2), c(3);
  auto base = a.ZAdd("z", "m", 10);
  b.Apply(base);
  auto ia = a.ZIncrBy("z", "m", 2.5);
  auto ib = b.ZIncrBy("z", "m", -1);
  a.Apply(ib);
  b.Apply(ia);
  const std::map<std::string, std::string> want = {{"z", "zset{m=11.5,}"}};
  EXPECT_EQ(Visible(a.db), want);
  EXPECT_EQ(Visible(b.db), want);
  // Any order, with repeats, on a third node.
  for (const auto& ch : {ib, ia, base, ib}) c.Apply(ch);
  EXPECT_EQ(Visible(c.db), want);
  // A later ZADD is a new base: the increments on the old one are gone.
  auto reset = b.ZAdd("z", "m", 3);
  a.Apply(reset);
  EXPECT_EQ(Visible(a.db), (std::map<std::string, std::string>{{"z", "zset{m=3,}"}}));
}

TEST(MergeCollections, ZremLosesToAConcurrentZadd) {
  Node a(1), b(2);
  auto add = a.ZAdd("z", "m", 1);
  auto add_n = a.ZAdd("z", "n", 2);
  b.Apply(add);
  b.Apply(add_n);
  auto rm = b.Element("z", ObjType::kZset, peer::ElementOp::REMOVE, "m", "");
  auto rm_n = b.Element("z", ObjType::kZset, peer::ElementOp::REMOVE, "n", "");
  auto readd = a.ZAdd("z", "m", 5);  // concurrent with b's ZREM of m
  a.Apply(rm);
  a.Apply(rm_n);
  b.Apply(readd);
  EXPECT_EQ(Visible(a.db), (std::map<std::string, std::string>{{"z", "zset{m=5,}"}}));
  EXPECT_EQ(Visible(b.db), Visible(a.db));
}

// Merkle repair and snapshots ship a zset's whole state: versions,
// contexts and every counter, also those on a smaller concurrent version.
TEST(MergeCollections, ZsetStatesMergeAsTheirDeltasWould) {
  Node a(1), b(2), c(3);
  auto va = a.ZAdd("z", "m", 1);
  auto vb = b.ZAdd("z", "m", 2);  // concurrent: two live versions of m
  auto ia = a.ZIncrBy("z", "m", 10);  // on a's own version
  auto ib = b.ZIncrBy("z", "m", 100);
  auto other = a.ZAdd("z", "x", 0.5);
  auto ship = [](Node& from, Node& to) {
    peer::Delta d;
    CollectionToDelta(0, *from.db.Find("z", kNow), &d);
    crdt::Stamp stamp{d.stamp().counter(), d.stamp().node_id()};
    to.clock.Observe(stamp);
    MergeElements(to.db, "z", stamp, d.elements(), kNow, 0);
  };
  ship(a, b);
  ship(b, a);
  for (const auto& ch : {va, vb, ia, ib, other}) c.Apply(ch);
  EXPECT_EQ(Visible(a.db), Visible(c.db));
  EXPECT_EQ(Visible(b.db), Visible(c.db));
  // Removing the winning version brings back the other one with its own
  // increments, the same everywhere.
  crdt::Stamp top = std::max(va.stamp, vb.stamp);
  Node& winner = top == va.stamp ? a : b;
  peer::ElementOp* rm = nullptr;
  Node::Op op{"z", winner.clock.Tick(), {}};
  op.m.set_type(static_cast<uint32_t>(ObjType::kZset));
  op.m.set_prev(winner.Prev("z"));
  rm = op.m.add_ops();
  rm->set_kind(peer::ElementOp::REMOVE);
  rm->set_element("m");
  ToProto(Stamp{top.counter, top.node, 1}, rm->add_replaced());  // m's version: sub 1
  for (Node* n : {&a, &b, &c}) n->Apply(op);
  std::string want = top == va.stamp ? "zset{x=0.5,m=102,}" : "zset{x=0.5,m=11,}";
  EXPECT_EQ(Visible(a.db), (std::map<std::string, std::string>{{"z", want}}));
  EXPECT_EQ(Visible(b.db), Visible(a.db));
  EXPECT_EQ(Visible(c.db), Visible(a.db));
}

// Node 1 writes two elements in one command; node 2, having seen it,
// changes one of them; node 3 gets node 2's change first (node 1's link to
// it was down). The change names only the version it replaced, so node 3
// keeps the write's other element, and whole-state merges (Merkle repair)
// agree.
TEST(MergeCollections, AChangeOvertakingAWriteOfSeveralElementsLeavesItsOtherElements) {
  for (ObjType type : {ObjType::kHash, ObjType::kSet, ObjType::kZset}) {
    SCOPED_TRACE(static_cast<int>(type));
    auto value = [&](int v) {
      return type == ObjType::kZset ? EncodeScore(v) : std::to_string(v);
    };
    Node a(1), b(2), c(3);
    auto write = a.Elements("k", type, {{peer::ElementOp::PUT, "f1", value(1)},
                                        {peer::ElementOp::PUT, "f2", value(2)}});
    b.Apply(write);
    auto change = b.Element("k", type,
                            type == ObjType::kSet ? peer::ElementOp::REMOVE : peer::ElementOp::PUT,
                            "f1", value(3));
    a.Apply(change);
    c.Apply(change);
    c.Apply(write);
    EXPECT_FALSE(c.Versions("k", type, "f2").empty());
    EXPECT_EQ(Visible(c.db), Visible(a.db));
    EXPECT_EQ(Visible(b.db), Visible(a.db));
    // Whole states, as Merkle repair ships them, change nothing.
    for (Node* from : {&a, &b, &c}) {
      peer::Delta d;
      CollectionToDelta(0, *from->db.Find("k", kNow), &d);
      for (Node* to : {&a, &b, &c}) {
        MergeElements(to->db, "k", FromProto(d.stamp()), d.elements(), kNow, 0);
      }
    }
    EXPECT_FALSE(a.Versions("k", type, "f2").empty());
    EXPECT_EQ(Visible(c.db), Visible(a.db));
    EXPECT_EQ(Visible(b.db), Visible(a.db));
    // A late repeat of the write brings back no replaced version.
    for (Node* n : {&a, &b, &c}) n->Apply(write);
    EXPECT_EQ(Visible(c.db), Visible(a.db));
    EXPECT_EQ(a.Versions("k", type, "f1").size(), type == ObjType::kSet ? 0u : 1u);
  }
}

TEST(MergeCollections, AStringWriteNewerThanACollectionReplacesIt) {
  Node a(1);
  auto add = a.Element("k", ObjType::kSet, peer::ElementOp::PUT, "x", "");
  Assign set{"k", a.clock.Tick(), "str"};
  EXPECT_EQ(ApplyAllNodeChanges({add, set}), (std::map<std::string, std::string>{{"k", "str"}}));
  EXPECT_EQ(ApplyAllNodeChanges({set, add}), (std::map<std::string, std::string>{{"k", "str"}}));
}

// A million add/remove cycles must not grow a key's metadata: the context
// keeps one chain head per writing node (the cloud stays empty when changes
// arrive in order), and an emptied key leaves one tombstone, collected at
// causal stability.
TEST(MergeCollections, AddRemoveCyclesLeaveBoundedMetadata) {
  Node a(1), b(2);
  b.Apply(a.Element("s", ObjType::kSet, peer::ElementOp::PUT, "keep", ""));
  for (int i = 0; i < 100000; i++) {
    b.Apply(a.Element("s", ObjType::kSet, peer::ElementOp::PUT, "x", ""));
    b.Apply(a.Element("s", ObjType::kSet, peer::ElementOp::REMOVE, "x", ""));
  }
  for (Node* n : {&a, &b}) {
    Entry* e = n->db.Find("s", kNow);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->collection()->size(), 1u);
    EXPECT_TRUE(e->collection()->ctx.cloud().empty());
    EXPECT_EQ(e->collection()->ctx.vv().entries().size(), 1u);
    EXPECT_LT(e->collection()->MemoryUsage(), 1024u);
  }
  // Emptied each time: one tombstone, gone once every node is past it.
  uint64_t last = 0;
  for (int i = 0; i < 1000; i++) {
    b.Apply(a.Element("t", ObjType::kSet, peer::ElementOp::PUT, "x", ""));
    Node::Op rm = a.Element("t", ObjType::kSet, peer::ElementOp::REMOVE, "x", "");
    b.Apply(rm);
    last = rm.stamp.counter;
  }
  EXPECT_EQ(b.db.Find("t", kNow), nullptr);
  EXPECT_EQ(b.db.tomb_count(), 1u);
  EXPECT_EQ(b.db.CollectTombs(last), 1u);
  EXPECT_EQ(b.db.tomb_count(), 0u);
}

// Random histories on three nodes: set and hash element writes, string
// SETs and DELs on a few shared keys, delivered partially while the nodes
// write (so later writes replace what they saw). Afterwards every order of
// all the changes, with repeats, must give one visible state, and so must
// each node once it has everything.
TEST(MergeCollections, RandomHistoriesWithTypeChangesConvergeInAnyOrder) {
  std::mt19937 rng(20261201);
  for (int history = 0; history < 600; history++) {
    std::deque<Node> nodes;
    for (crdt::NodeId n = 1; n <= 3; n++) nodes.emplace_back(n);
    std::vector<NodeChange> all;
    std::vector<std::vector<size_t>> pending(3);
    for (int i = 0; i < 30; i++) {
      size_t ni = rng() % 3;
      Node& node = nodes[ni];
      if (!pending[ni].empty() && rng() % 2) {
        size_t k = rng() % pending[ni].size();
        ApplyNodeChange(node.db, all[pending[ni][k]]);
        if (auto* op = std::get_if<Node::Op>(&all[pending[ni][k]])) node.clock.Observe(op->stamp);
        pending[ni].erase(pending[ni].begin() + static_cast<ptrdiff_t>(k));
        continue;
      }
      std::string key = "k" + std::to_string(rng() % 2);
      Entry* e = node.db.Find(key, kNow);
      int what = static_cast<int>(rng() % 10);
      NodeChange ch;
      std::string el(1, static_cast<char>('a' + rng() % 3));
      if (what < 1) {
        ch = Assign{key, node.clock.Tick(), std::to_string(rng() % 9)};
        ApplyNodeChange(node.db, ch);
      } else if (what < 2) {
        Tombstone t;
        t.stamp = node.clock.Tick();
        for (crdt::NodeId n = 1; n <= 3; n++) {
          if (rng() % 2) t.seen.Observe(n, rng() % (t.stamp.counter + 1));
        }
        if (e && e->is_collection()) t.Merge(e->collection()->ctx.ToTombstone());
        ch = Remove{key, t};
        ApplyNodeChange(node.db, ch);
      } else {
        // Element writes only where the command would run: the key is
        // missing or of that type.
        ObjType type = e && e->is_collection() ? e->type()
                       : e                     ? ObjType::kString
                       : (rng() % 2 ? ObjType::kSet : (rng() % 2 ? ObjType::kZset : ObjType::kHash));
        if (type == ObjType::kString) {
          ch = Assign{key, node.clock.Tick(), "s" + std::to_string(rng() % 9)};
          ApplyNodeChange(node.db, ch);
        } else {
          bool present = !node.Versions(key, type, el).empty();
          auto kind = present && rng() % 2 ? peer::ElementOp::REMOVE : peer::ElementOp::PUT;
          if (type == ObjType::kZset && kind == peer::ElementOp::PUT) {
            ch = node.ZAdd(key, el, static_cast<double>(rng() % 5) / 2);
          } else if (type == ObjType::kZset && present && rng() % 3 == 0) {
            ch = node.ZIncrBy(key, el, static_cast<double>(rng() % 7) - 3);
          } else if (rng() % 3 == 0) {
            // Two elements in one write (HSET k a 1 b 2), each under its
            // own dot: a later change of one must leave the other alone.
            std::string el2(1, static_cast<char>('a' + (el[0] - 'a' + 1 + rng() % 2) % 3));
            std::vector<Node::ElementChange> two;
            for (const std::string& x : {el, el2}) {
              bool has = !node.Versions(key, type, x).empty();
              auto k = has && rng() % 2 ? peer::ElementOp::REMOVE : peer::ElementOp::PUT;
              two.push_back({k, x,
                             type == ObjType::kZset ? EncodeScore(static_cast<double>(rng() % 5))
                                                    : std::to_string(rng() % 5)});
            }
            ch = node.Elements(key, type, two);
          } else {
            ch = node.Element(key, type, kind, el, std::to_string(rng() % 5));
          }
        }
      }
      all.push_back(ch);
      for (size_t o = 0; o < 3; o++) {
        if (o != ni) pending[o].push_back(all.size() - 1);
      }
    }
    std::map<std::string, std::string> first = ApplyAllNodeChanges(all);
    for (int round = 0; round < 12; round++) {
      std::vector<NodeChange> order = all;
      if (round % 2) order.insert(order.end(), all.begin(), all.begin() + round % 7);
      std::shuffle(order.begin(), order.end(), rng);
      ASSERT_EQ(ApplyAllNodeChanges(order), first)
          << "history " << history << " round " << round << "\norder:\n"
          << Describe(order) << "\nfirst:\n" << Describe(all);
    }
    for (size_t ni = 0; ni < 3; ni++) {
      for (size_t k : pending[ni]) ApplyNodeChange(nodes[ni].db, all[k]);
      EXPECT_EQ(Visible(nodes[ni].db), first) << "history " << history << " node " << ni;
    }
  }
}

}  // namespace
}  // namespace lattice::node
