// The observed-remove map and its causal context: documented merge rules
// (add-wins, removes of observed versions only, summed increments) and the
// lattice laws, over seeded random histories on three replicas whose deltas
// arrive in shuffled orders with repeats.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "crdt/causal_context.h"
#include "crdt/or_map.h"
#include "gtest/gtest.h"

namespace lattice::crdt {
namespace {

struct NoDigest {
  static uint64_t Of(const OrElement<std::string>&) { return 0; }
};
using Map = OrMap<std::string, NoDigest>;

// One replicated change, as the node ships it (proto Elements with one op).
struct Change {
  enum Kind { kPut, kRemove, kIncrement } kind;
  std::string name;
  std::string value;
  Stamp dot;
  uint64_t prev = 0;
  Map::Dots replaced;
  PnCounter::Delta counter{};
};

struct Replica {
  explicit Replica(NodeId id) : clock(id) {}
  Replica(const Replica& o) : clock(o.clock.node(), o.clock.Now()), map(o.map), ctx(o.ctx) {}
  LamportClock clock;
  Map map;
  CausalContext ctx;

  Change Begin(Change::Kind kind, std::string_view name) {
    Change c{kind, std::string(name), {}, clock.Tick(), 0, {}, {}};
    c.prev = ctx.Head(c.dot.node);
    return c;
  }
  Change Finish(Change c) {
    ctx.Add(c.dot, c.prev);
    return c;
  }
  Change Put(std::string_view name, std::string value) {
    Change c = Begin(Change::kPut, name);
    c.value = value;
    ptrdiff_t i = map.Find(name);
    if (i < 0) {
      map.Insert(map.size(), name, value, c.dot);
    } else {
      c.replaced = map.Put(static_cast<size_t>(i), value, c.dot);
    }
    return Finish(c);
  }
  // REQUIRES: the element is present.
  Change Remove(std::string_view name) {
    Change c = Begin(Change::kRemove, name);
    c.replaced = map.Remove(static_cast<size_t>(map.Find(name)));
    return Finish(c);
  }
  // REQUIRES: present with an integer value.
  Change Increment(std::string_view name, int64_t by) {
    Change c = Begin(Change::kIncrement, name);
    size_t i = static_cast<size_t>(map.Find(name));
    c.value = map.at(i).top().value;
    c.counter = map.Increment(i, std::stoll(c.value), c.dot.node, c.dot.counter, by);
    return Finish(c);
  }
  // The receiver's side (node/storage/collection.cc does the same from the
  // proto). A change whose dot was seen still drops what it replaced: its
  // dot may be known only as replaced by a later change that arrived first.
  void Apply(const Change& c) {
    clock.Observe(c.dot);
    switch (c.kind) {
      case Change::kPut:
        map.ApplyPut(c.name, c.value, c.dot, c.replaced, ctx);
        break;
      case Change::kRemove:
        map.ApplyRemove(c.name, c.replaced);
        break;
      case Change::kIncrement:
        map.ApplyIncrement(c.name, c.value, c.counter, ctx);
        break;
    }
    ctx.Add(c.dot, c.prev);
    for (const Stamp& r : c.replaced) ctx.AddDot(r);
  }
  void MergeState(const Replica& o) {
    map.MergeState(o.map, o.ctx, ctx);
    ctx.Merge(o.ctx);
  }
  std::string Visible(std::string_view name) const {
    ptrdiff_t i = map.Find(name);
    if (i < 0) return "<none>";
    const auto& e = map.at(static_cast<size_t>(i));
    if (const PnCounter* c = e.live_counter()) return std::to_string(c->value());
    return e.top().value;
  }
};

std::string Dump(const Replica& r) {
  std::string out;
  for (const auto& e : r.map.elements()) {
    out += e.name.str() + ":";
    for (const auto& v : e.versions) {
      out += " (" + std::to_string(v.dot.counter) + "," + std::to_string(v.dot.node) + ")=" + v.value;
    }
    if (e.counter()) {
      out += " counter base (" + std::to_string(e.counter()->base_stamp().counter) + "," +
             std::to_string(e.counter()->base_stamp().node) + ")=" + std::to_string(e.counter()->base());
      for (const auto& c : e.counter()->contributions()) {
        out += " [" + std::to_string(c.node) + "/" + std::to_string(c.epoch) + " +" +
               std::to_string(c.p) + " -" + std::to_string(c.n) + "]";
      }
    }
    out += "\n";
  }
  return out;
}

TEST(CausalContext, InOrderChainsStayInTheVector) {
  CausalContext c;
  c.Add(Stamp{5, 1}, 0);
  c.Add(Stamp{9, 1}, 5);
  EXPECT_TRUE(c.cloud().empty());
  EXPECT_EQ(c.Head(1), 9u);
  EXPECT_TRUE(c.Covers(Stamp{7, 1}));  // no write of node 1 between 5 and 9
  EXPECT_FALSE(c.Covers(Stamp{10, 1}));
  EXPECT_FALSE(c.Covers(Stamp{3, 2}));
}

TEST(CausalContext, AWriteAheadOfAGapWaitsInTheCloudThenJoins) {
  CausalContext c;
  c.Add(Stamp{5, 1}, 0);
  c.Add(Stamp{12, 1}, 9);  // 9 not seen yet
  EXPECT_EQ(c.Head(1), 5u);
  EXPECT_TRUE(c.Covers(Stamp{12, 1}));
  EXPECT_FALSE(c.Covers(Stamp{9, 1}));
  c.Add(Stamp{9, 1}, 5);
  EXPECT_TRUE(c.cloud().empty());
  EXPECT_EQ(c.Head(1), 12u);
}

// Contexts built from each node's one chain of writes to the key (every
// write names its predecessor, as on the wire), seen in random subsets and
// orders, some only as dots of unknown predecessor.
TEST(CausalContext, MergeIsAJoin) {
  std::mt19937_64 rng(7);
  std::vector<std::vector<uint64_t>> chains(4);
  for (NodeId n = 1; n <= 3; n++) {
    uint64_t c = 0;
    for (int k = 0; k < 8; k++) chains[n].push_back(c += 1 + rng() % 4);
  }
  auto random = [&] {
    CausalContext c;
    std::vector<std::pair<NodeId, size_t>> picks;
    for (NodeId n = 1; n <= 3; n++) {
      for (size_t k = 0; k < 8; k++) {
        if (rng() % 2) picks.emplace_back(n, k);
      }
    }
    std::shuffle(picks.begin(), picks.end(), rng);
    for (auto [n, k] : picks) {
      Stamp d{chains[n][k], n};
      if (rng() % 4 == 0) {
        c.AddDot(d);
      } else {
        c.Add(d, k == 0 ? 0 : chains[n][k - 1]);
      }
    }
    return c;
  };
  auto covers = [&](const CausalContext& c) {
    std::vector<bool> out;
    for (NodeId n = 1; n <= 3; n++) {
      for (uint64_t k : chains[n]) out.push_back(c.Covers(Stamp{k, n}));
    }
    return out;
  };
  for (int i = 0; i < 2000; i++) {
    CausalContext a = random(), b = random(), c = random();
    CausalContext ab = a, ba = b;
    ab.Merge(b);
    ba.Merge(a);
    EXPECT_EQ(covers(ab), covers(ba));
    CausalContext ab_c = ab, a_bc = a, bc = b;
    ab_c.Merge(c);
    bc.Merge(c);
    a_bc.Merge(bc);
    EXPECT_EQ(covers(ab_c), covers(a_bc));
    CausalContext aa = a;
    aa.Merge(a);
    EXPECT_EQ(covers(aa), covers(a));
    // A merge covers exactly what either side covered.
    std::vector<bool> ca = covers(a), cb = covers(b), cab = covers(ab);
    for (size_t k = 0; k < ca.size(); k++) EXPECT_EQ(cab[k], ca[k] || cb[k]);
  }
}

TEST(OrMap, ConcurrentAddSurvivesARemoveThatDidNotSeeIt) {
  Replica a(1), b(2);
  Change put = a.Put("x", "1");
  b.Apply(put);
  Change rm = a.Remove("x");     // a removes what it saw
  Change readd = b.Put("x", "2");  // b writes x again, concurrently
  a.Apply(readd);
  b.Apply(rm);
  EXPECT_EQ(a.Visible("x"), "2");
  EXPECT_EQ(b.Visible("x"), "2");
  EXPECT_TRUE(a.map == b.map);
}

TEST(OrMap, RemoveBeforeItsAddStillRemovesIt) {
  Replica a(1), b(2), c(3);
  Change put = a.Put("x", "1");
  b.Apply(put);
  Change rm = b.Remove("x");
  c.Apply(rm);   // the remove arrives first
  c.Apply(put);  // then the add it removed
  EXPECT_EQ(c.Visible("x"), "<none>");
}

TEST(OrMap, ConcurrentPutsKeepTheGreaterStampEverywhere) {
  Replica a(1), b(2);
  Change pa = a.Put("f", "from-a");
  Change pb = b.Put("f", "from-b");
  a.Apply(pb);
  b.Apply(pa);
  EXPECT_EQ(a.Visible("f"), pa.dot < pb.dot ? "from-b" : "from-a");
  EXPECT_EQ(a.Visible("f"), b.Visible("f"));
  // Removing the winner where only it was seen leaves the other version.
  EXPECT_EQ(a.map.at(0).versions.size(), 2u);
}

TEST(OrMap, ConcurrentIncrementsAddUp) {
  Replica a(1), b(2), c(3);
  Change base = a.Put("n", "10");
  b.Apply(base);
  c.Apply(base);
  Change ia = a.Increment("n", 5);
  Change ib = b.Increment("n", -2);
  Change ic = c.Increment("n", 4);
  for (Replica* r : {&a, &b, &c}) {
    for (const Change* ch : {&ia, &ib, &ic}) r->Apply(*ch);
  }
  EXPECT_EQ(a.Visible("n"), "17");
  EXPECT_EQ(b.Visible("n"), "17");
  EXPECT_EQ(c.Visible("n"), "17");
  // A newer put starts a new base and drops increments on the old one.
  Change reset = b.Put("n", "0");
  a.Apply(reset);
  EXPECT_EQ(a.Visible("n"), "0");
}

// Random histories: every replica makes local changes, and receives the
// others' changes in shuffled order, some twice, interleaved with its own.
TEST(OrMap, RandomHistoriesConvergeWhateverTheDeliveryOrder) {
  for (uint64_t seed = 1; seed <= 60; seed++) {
    SCOPED_TRACE(seed);
    std::mt19937_64 rng(seed);
    std::vector<Replica> reps;
    for (NodeId n = 1; n <= 3; n++) reps.emplace_back(n);
    std::vector<std::vector<Change>> inbox(3);
    std::vector<Change> all;
    const char* names[] = {"a", "b", "c", "d"};
    for (int step = 0; step < 120; step++) {
      size_t r = rng() % 3;
      Replica& rep = reps[r];
      if (!inbox[r].empty() && rng() % 2) {
        // Deliver a random pending change (kept for a repeat sometimes).
        size_t k = rng() % inbox[r].size();
        rep.Apply(inbox[r][k]);
        if (rng() % 4) inbox[r].erase(inbox[r].begin() + static_cast<ptrdiff_t>(k));
        continue;
      }
      std::string name = names[rng() % 4];
      Change ch;
      ptrdiff_t i = rep.map.Find(name);
      int what = static_cast<int>(rng() % 3);
      if (i >= 0 && what == 0) {
        ch = rep.Remove(name);
      } else if (i >= 0 && what == 1 && rep.map.at(static_cast<size_t>(i)).top().value[0] != 'v') {
        ch = rep.Increment(name, static_cast<int64_t>(rng() % 7) - 3);
      } else {
        ch = rep.Put(name, rng() % 2 ? std::to_string(rng() % 100) : "v" + std::to_string(step));
      }
      all.push_back(ch);
      for (size_t o = 0; o < 3; o++) {
        if (o != r) inbox[o].push_back(ch);
      }
    }
    // Everything arrives in the end, in a fresh random order, with repeats.
    for (size_t r = 0; r < 3; r++) {
      std::vector<Change> rest = all;
      std::shuffle(rest.begin(), rest.end(), rng);
      for (const Change& ch : rest) reps[r].Apply(ch);
      for (size_t k = 0; k < rest.size() / 3; k++) reps[r].Apply(rest[rng() % rest.size()]);
    }
    for (size_t r = 1; r < 3; r++) {
      EXPECT_TRUE(reps[0].map == reps[r].map) << Dump(reps[0]) << "\nvs\n" << Dump(reps[r]);
      for (const char* n : names) EXPECT_EQ(reps[0].Visible(n), reps[r].Visible(n)) << n;
    }
  }
}

// Whole states (Merkle repair, snapshots) merge as a join.
TEST(OrMap, StateMergeIsCommutativeAssociativeIdempotent) {
  for (uint64_t seed = 1; seed <= 40; seed++) {
    SCOPED_TRACE(seed);
    std::mt19937_64 rng(seed * 977);
    std::vector<Replica> reps;
    for (NodeId n = 1; n <= 3; n++) reps.emplace_back(n);
    std::vector<Change> all;
    for (int step = 0; step < 60; step++) {
      Replica& rep = reps[rng() % 3];
      std::string name(1, static_cast<char>('a' + rng() % 4));
      ptrdiff_t i = rep.map.Find(name);
      if (i >= 0 && rng() % 3 == 0) {
        all.push_back(rep.Remove(name));
      } else {
        all.push_back(rep.Put(name, std::to_string(step)));
      }
      // Partial, random propagation.
      if (rng() % 2) reps[rng() % 3].Apply(all[rng() % all.size()]);
    }
    auto merged = [](Replica x, const Replica& y) {
      x.MergeState(y);
      return x;
    };
    const Replica &a = reps[0], &b = reps[1], &c = reps[2];
    Replica ab = merged(a, b), ba = merged(b, a);
    EXPECT_TRUE(ab.map == ba.map);
    EXPECT_TRUE(merged(ab, c).map == merged(a, merged(b, c)).map);
    EXPECT_TRUE(merged(a, a).map == a.map);
    // And a state merge agrees with delivering every change.
    Replica full = merged(merged(a, b), c);
    Replica by_ops = a;
    for (const Change& ch : all) by_ops.Apply(ch);
    Replica b2 = b, c2 = c;
    for (const Change& ch : all) b2.Apply(ch), c2.Apply(ch);
    EXPECT_TRUE(full.map == by_ops.map);
    EXPECT_TRUE(by_ops.map == b2.map);
    EXPECT_TRUE(b2.map == c2.map);
  }
}

}  // namespace
}  // namespace lattice::crdt
