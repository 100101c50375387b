// The sorted-set lattice: crdt::ScoreCounter (ZINCRBY's double-valued
// resettable counter) and the observed-remove map over scores that uses it
// (node/storage/zset.h). Lattice laws on seeded random states, the
// documented rules (ZADD last-writer-wins, ZINCRBY summed, add-wins against
// ZREM), and random histories on three replicas delivered in shuffled
// orders with repeats: every replica ends with the same bits.
#include "crdt/score_counter.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "crdt/causal_context.h"
#include "crdt/or_map.h"
#include "gtest/gtest.h"

namespace lattice::crdt {
namespace {

uint64_t Bits(double d) { return std::bit_cast<uint64_t>(d); }

double RandomIncrement(std::mt19937_64& rng) {
  static const double kPool[] = {1, -1, 0.1, 0.2, -0.3, 2.5, 1e300, -1e300, 1e-320, 0, -0.0, 7};
  if (rng() % 3 == 0) return static_cast<double>(static_cast<int64_t>(rng() % 41) - 20);
  return kPool[rng() % (sizeof kPool / sizeof kPool[0])];
}

// A counter on base (1, {1, 1}) after random increments by nodes 1..3,
// some contributions continued, others fresh copies (new epochs).
ScoreCounter RandomCounter(std::mt19937_64& rng, Stamp base_stamp = {1, 1}) {
  ScoreCounter c(1.5, base_stamp);
  int n = static_cast<int>(rng() % 6);
  for (int k = 0; k < n; k++) {
    NodeId node = 1 + static_cast<NodeId>(rng() % 3);
    uint64_t epoch = 1 + rng() % 3;
    ScoreCounter part(1.5, base_stamp);
    part.Add(node, epoch, std::abs(RandomIncrement(rng)));
    if (rng() % 2) part.Add(node, epoch, -std::abs(RandomIncrement(rng)));
    c.Merge(part);
  }
  return c;
}

TEST(ScoreCounter, MergeIsCommutativeAssociativeIdempotent) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 3000; i++) {
    Stamp sa{1 + rng() % 2, 1}, sb{1 + rng() % 2, 2}, sc{1 + rng() % 2, 1};
    ScoreCounter a = RandomCounter(rng, sa), b = RandomCounter(rng, sb), c = RandomCounter(rng, sc);
    ScoreCounter ab = a, ba = b;
    ab.Merge(b);
    ba.Merge(a);
    EXPECT_TRUE(ab == ba);
    EXPECT_EQ(Bits(ab.value()), Bits(ba.value()));
    ScoreCounter ab_c = ab, bc = b, a_bc = a;
    ab_c.Merge(c);
    bc.Merge(c);
    a_bc.Merge(bc);
    EXPECT_TRUE(ab_c == a_bc);
    EXPECT_EQ(Bits(ab_c.value()), Bits(a_bc.value()));
    ScoreCounter aa = a;
    aa.Merge(a);
    EXPECT_TRUE(aa == a);
  }
}

TEST(ScoreCounter, SumsInAFixedOrderWhateverTheArrivalOrder) {
  // 0.1 + 0.2 + 0.3 depends on the order of the additions; every replica
  // sums by (node, epoch), so all get the same bits.
  ScoreCounter x(0, {1, 1}), y(0, {1, 1}), z(0, {1, 1});
  ScoreCounter::Delta d1 = x.Add(3, 9, 0.1);
  ScoreCounter::Delta d2 = y.Add(1, 4, 0.2);
  ScoreCounter::Delta d3 = z.Add(2, 5, 0.3);
  std::vector<ScoreCounter::Delta> ds = {d1, d2, d3};
  std::vector<uint64_t> seen;
  std::sort(ds.begin(), ds.end(),
            [](const auto& a, const auto& b) { return a.contribution.node < b.contribution.node; });
  do {
    ScoreCounter r(0, {1, 1});
    for (const auto& d : ds) r.Merge(d);
    seen.push_back(Bits(r.value()));
  } while (std::next_permutation(ds.begin(), ds.end(), [](const auto& a, const auto& b) {
    return a.contribution.node < b.contribution.node;
  }));
  EXPECT_EQ(seen.size(), 6u);
  for (uint64_t b : seen) EXPECT_EQ(b, seen[0]);
  EXPECT_EQ(std::bit_cast<double>(seen[0]), (0.0 + 0.2) + 0.3 + 0.1);
}

TEST(ScoreCounter, OppositeInfinitiesOnTwoNodesNeverMakeNaN) {
  ScoreCounter a(5, {1, 1}), b(5, {1, 1});
  ScoreCounter::Delta da = a.Add(1, 2, INFINITY);
  ScoreCounter::Delta db = b.Add(2, 3, -INFINITY);
  a.Merge(db);
  b.Merge(da);
  EXPECT_FALSE(std::isnan(a.value()));
  EXPECT_EQ(Bits(a.value()), Bits(b.value()));
  EXPECT_EQ(a.value(), INFINITY);  // node 1's contribution comes first
}

TEST(ScoreCounter, ANewerBaseDropsIncrementsOnTheOldOne) {
  ScoreCounter a(10, {2, 1});
  a.Add(1, 3, 5);
  ScoreCounter newer(100, {9, 2});
  a.Merge(newer);
  EXPECT_EQ(a.value(), 100);
  ScoreCounter older(10, {2, 1});
  older.Add(3, 4, 1);
  a.Merge(older);
  EXPECT_EQ(a.value(), 100);
}

// ---- the map over scores ----

struct NoDigest {
  static uint64_t Of(const OrElement<double, ScoreCounter>&) { return 0; }
};
using ZMap = OrMap<double, NoDigest, ScoreCounter>;

struct Change {
  enum Kind { kPut, kRemove, kIncrement } kind;
  std::string name;
  double score = 0;
  Stamp dot;
  uint64_t prev = 0;
  ZMap::Dots replaced;
  ScoreCounter::Delta counter{};
};

struct Replica {
  explicit Replica(NodeId id) : clock(id) {}
  Replica(const Replica& o) : clock(o.clock.node(), o.clock.Now()), map(o.map), ctx(o.ctx) {}
  LamportClock clock;
  ZMap map;
  CausalContext ctx;

  Change Begin(Change::Kind kind, std::string_view name) {
    Change c{kind, std::string(name), 0, clock.Tick(), 0, {}, {}};
    c.prev = ctx.Head(c.dot.node);
    return c;
  }
  Change Finish(Change c) {
    ctx.Add(c.dot, c.prev);
    return c;
  }
  // ZADD member score.
  Change Put(std::string_view name, double score) {
    Change c = Begin(Change::kPut, name);
    c.score = score;
    ptrdiff_t i = map.Find(name);
    if (i < 0) {
      map.Insert(map.size(), name, score, c.dot);
    } else {
      c.replaced = map.Put(static_cast<size_t>(i), score, c.dot);
    }
    return Finish(c);
  }
  // ZREM member. REQUIRES: present.
  Change Remove(std::string_view name) {
    Change c = Begin(Change::kRemove, name);
    c.replaced = map.Remove(static_cast<size_t>(map.Find(name)));
    return Finish(c);
  }
  // ZINCRBY on a replicating node. REQUIRES: present.
  Change Increment(std::string_view name, double by) {
    Change c = Begin(Change::kIncrement, name);
    size_t i = static_cast<size_t>(map.Find(name));
    c.score = map.at(i).top().value;
    c.counter = map.Increment(i, c.score, c.dot.node, c.dot.counter, by);
    return Finish(c);
  }
  void Apply(const Change& c) {
    clock.Observe(c.dot);
    switch (c.kind) {
      case Change::kPut:
        map.ApplyPut(c.name, c.score, c.dot, c.replaced, ctx);
        break;
      case Change::kRemove:
        map.ApplyRemove(c.name, c.replaced);
        break;
      case Change::kIncrement:
        map.ApplyIncrement(c.name, c.score, c.counter, ctx);
        ctx.AddDot(c.counter.base_stamp);  // as ZsetObject::ApplyOps: the base is seen
        break;
    }
    ctx.Add(c.dot, c.prev);
    for (const Stamp& r : c.replaced) ctx.AddDot(r);
  }
  void MergeState(const Replica& o) {
    map.MergeState(o.map, o.ctx, ctx);
    ctx.Merge(o.ctx);
  }
  // The visible score's bits, as ZSCORE would print them ("none": absent).
  std::string Visible(std::string_view name) const {
    ptrdiff_t i = map.Find(name);
    if (i < 0) return "none";
    const auto& e = map.at(static_cast<size_t>(i));
    double v = e.live_counter() ? e.live_counter()->value() : e.top().value;
    return std::to_string(Bits(v));
  }
};

std::string Dump(const Replica& r) {
  std::string out;
  for (const auto& e : r.map.elements()) {
    out += e.name.str() + ":";
    for (const auto& v : e.versions) {
      out += " (" + std::to_string(v.dot.counter) + "," + std::to_string(v.dot.node) +
             ")=" + std::to_string(v.value);
    }
    if (e.counter()) {
      for (const auto& c : e.counter()->contributions()) {
        out += " [" + std::to_string(c.node) + "/" + std::to_string(c.epoch) + " +" +
               std::to_string(c.p) + " -" + std::to_string(c.n) + "]";
      }
    }
    out += "\n";
  }
  return out;
}

std::string BitsOf(double d) { return std::to_string(Bits(d)); }

TEST(OrZset, ConcurrentZaddOfOneMemberKeepsTheGreaterStampsScore) {
  Replica a(1), b(2);
  Change pa = a.Put("m", 1.5);
  Change pb = b.Put("m", 7);
  a.Apply(pb);
  b.Apply(pa);
  EXPECT_EQ(a.Visible("m"), BitsOf(pa.dot < pb.dot ? 7 : 1.5));
  EXPECT_EQ(a.Visible("m"), b.Visible("m"));
}

TEST(OrZset, ZincrbyOnTwoNodesSums) {
  Replica a(1), b(2);
  Change base = a.Put("m", 10);
  b.Apply(base);
  Change ia = a.Increment("m", 2.5);
  Change ib = b.Increment("m", -1);
  a.Apply(ib);
  b.Apply(ia);
  EXPECT_EQ(a.Visible("m"), BitsOf(11.5));
  EXPECT_EQ(b.Visible("m"), BitsOf(11.5));
  // A later ZADD sets a new base.
  Change reset = b.Put("m", 3);
  a.Apply(reset);
  EXPECT_EQ(a.Visible("m"), BitsOf(3));
}

TEST(OrZset, ZremLosesToAConcurrentZadd) {
  Replica a(1), b(2);
  Change add = a.Put("m", 1);
  b.Apply(add);
  Change rm = a.Remove("m");
  Change readd = b.Put("m", 2);
  a.Apply(readd);
  b.Apply(rm);
  EXPECT_EQ(a.Visible("m"), BitsOf(2));
  EXPECT_EQ(b.Visible("m"), BitsOf(2));
  EXPECT_TRUE(a.map == b.map);
}

TEST(OrZset, RandomHistoriesConvergeToTheSameBits) {
  const char* names[] = {"a", "b", "c", "d"};
  for (uint64_t seed = 1; seed <= 400; seed++) {
    SCOPED_TRACE(seed);
    std::mt19937_64 rng(seed);
    std::vector<Replica> reps;
    for (NodeId n = 1; n <= 3; n++) reps.emplace_back(n);
    std::vector<std::vector<Change>> inbox(3);
    std::vector<Change> all;
    for (int step = 0; step < 150; step++) {
      size_t r = rng() % 3;
      Replica& rep = reps[r];
      if (!inbox[r].empty() && rng() % 2) {
        size_t k = rng() % inbox[r].size();
        rep.Apply(inbox[r][k]);
        if (rng() % 4) inbox[r].erase(inbox[r].begin() + static_cast<ptrdiff_t>(k));
        continue;
      }
      std::string name = names[rng() % 4];
      ptrdiff_t i = rep.map.Find(name);
      int what = static_cast<int>(rng() % 3);
      Change ch;
      if (i >= 0 && what == 0) {
        ch = rep.Remove(name);
      } else if (i >= 0 && what == 1) {
        ch = rep.Increment(name, RandomIncrement(rng));
      } else {
        ch = rep.Put(name, RandomIncrement(rng));
      }
      all.push_back(ch);
      for (size_t o = 0; o < 3; o++) {
        if (o != r) inbox[o].push_back(ch);
      }
    }
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

TEST(OrZset, StateMergeIsAJoinAndAgreesWithTheDeltas) {
  for (uint64_t seed = 1; seed <= 300; seed++) {
    SCOPED_TRACE(seed);
    std::mt19937_64 rng(seed * 31337);
    std::vector<Replica> reps;
    for (NodeId n = 1; n <= 3; n++) reps.emplace_back(n);
    std::vector<Change> all;
    for (int step = 0; step < 80; step++) {
      Replica& rep = reps[rng() % 3];
      std::string name(1, static_cast<char>('a' + rng() % 4));
      ptrdiff_t i = rep.map.Find(name);
      int what = static_cast<int>(rng() % 3);
      if (i >= 0 && what == 0) {
        all.push_back(rep.Remove(name));
      } else if (i >= 0 && what == 1) {
        all.push_back(rep.Increment(name, RandomIncrement(rng)));
      } else {
        all.push_back(rep.Put(name, RandomIncrement(rng)));
      }
      if (rng() % 2) reps[rng() % 3].Apply(all[rng() % all.size()]);
    }
    auto merged = [](Replica x, const Replica& y) {
      x.MergeState(y);
      return x;
    };
    const Replica &a = reps[0], &b = reps[1], &c = reps[2];
    EXPECT_TRUE(merged(a, b).map == merged(b, a).map);
    EXPECT_TRUE(merged(merged(a, b), c).map == merged(a, merged(b, c)).map);
    EXPECT_TRUE(merged(a, a).map == a.map);
    Replica full = merged(merged(a, b), c);
    Replica by_ops = a;
    for (const Change& ch : all) by_ops.Apply(ch);
    EXPECT_TRUE(full.map == by_ops.map) << Dump(full) << "\nvs\n" << Dump(by_ops);
    for (const char* n : {"a", "b", "c", "d"}) EXPECT_EQ(full.Visible(n), by_ops.Visible(n));
  }
}

}  // namespace
}  // namespace lattice::crdt
