// The merge rules of docs/consistency.md, one test per rule, plus a
// randomized check that every replica ends up with the same visible state
// whatever order (and how many times) it receives the same changes.
#include "node/cluster/merge.h"

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "gtest/gtest.h"

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
using Change = std::variant<Assign, Counter, Remove, Flush>;

void Apply(Db& db, const Change& ch) {
  if (auto* a = std::get_if<Assign>(&ch)) {
    MergeAssign(db, a->key, a->stamp, a->value, a->expire_at, kNow, 0);
  } else if (auto* c = std::get_if<Counter>(&ch)) {
    MergeCounter(db, c->key, c->base_stamp, c->base, -1, c->c, kNow, 0);
  } else if (auto* r = std::get_if<Remove>(&ch)) {
    MergeRemove(db, r->key, r->t, kNow);
  } else {
    MergeFlush(db, std::get<Flush>(ch).t);
  }
}

// What a client sees: key -> value (and TTL).
std::map<std::string, std::string> Visible(Db& db) {
  std::map<std::string, std::string> out;
  db.ForEach([&](const Entry& e) {
    char buf[24];
    std::string v(e.StringValue(buf));
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
        case 3: {
          Tombstone t;
          t.stamp = s;
          for (crdt::NodeId n = 1; n <= 3; n++) {
            if (rng() % 3) t.seen.Observe(n, rng() % (counter + 1));
          }
          changes.push_back(Remove{key, t});
          break;
        }
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
    std::map<std::string, std::string> first = ApplyAll(changes);
    for (int round = 0; round < 20; round++) {
      std::vector<Change> order = changes;
      if (round % 2) order.insert(order.end(), changes.begin(), changes.begin() + round % 7);
      std::shuffle(order.begin(), order.end(), rng);
      ASSERT_EQ(ApplyAll(order), first) << "history " << history << " round " << round;
    }
  }
}

}  // namespace
}  // namespace lattice::node
