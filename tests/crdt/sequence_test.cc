// The list lattice: dense positions, observed removes. Documented rules
// (concurrent pushes both kept in one order, removes of observed elements,
// LSET last-writer-wins) and convergence over random three-replica
// histories whose changes arrive in shuffled orders with repeats.
#include "crdt/sequence.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace lattice::crdt {
namespace {

struct Change {
  enum Kind { kPut, kRemove } kind;
  Position pos;
  std::string value;
  Stamp dot;       // the change's dot (an insert: pos.dot())
  uint64_t prev = 0;
};

struct Replica {
  explicit Replica(NodeId id) : clock(id) {}
  Replica(const Replica& o) : clock(o.clock.node(), o.clock.Now()), seq(o.seq), ctx(o.ctx) {}
  LamportClock clock;
  Sequence seq;
  CausalContext ctx;

  Change Finish(Change c) {
    c.prev = ctx.Head(c.dot.node);
    ctx.Add(c.dot, c.prev);
    return c;
  }
  Change PushBack(std::string v) {
    Stamp d = clock.Tick();
    const SeqElement& e = seq.PushBack(v, d);
    return Finish(Change{Change::kPut, e.pos, v, d});
  }
  Change PushFront(std::string v) {
    Stamp d = clock.Tick();
    const SeqElement& e = seq.PushFront(v, d);
    return Finish(Change{Change::kPut, e.pos, v, d});
  }
  Change InsertAt(size_t i, std::string v) {
    Stamp d = clock.Tick();
    const SeqElement& e = seq.InsertAt(i, v, d);
    return Finish(Change{Change::kPut, e.pos, v, d});
  }
  Change Set(size_t i, std::string v) {
    Stamp d = clock.Tick();
    seq.Set(i, v, d);
    return Finish(Change{Change::kPut, seq.at(i).pos, v, d});
  }
  Change RemoveAt(size_t i) {
    Stamp d = clock.Tick();
    SeqElement e = seq.RemoveAt(i);
    return Finish(Change{Change::kRemove, e.pos, {}, d});
  }
  // As ListObject::ApplyOps plus MergeElements' context bookkeeping.
  void Apply(const Change& c) {
    clock.Observe(c.dot);
    if (c.kind == Change::kPut) {
      seq.ApplyPut(c.pos, c.value, c.dot, ctx);
    } else {
      seq.ApplyRemove(c.pos);
    }
    ctx.Add(c.dot, c.prev);
    if (c.kind == Change::kRemove) ctx.AddDot(c.pos.dot());
  }
  std::vector<std::string> Values() const {
    std::vector<std::string> out;
    for (const auto& e : seq.elements()) out.push_back(e.value);
    return out;
  }
};

TEST(Position, BetweenIsStrictlyBetween) {
  std::mt19937_64 rng(3);
  std::vector<Position> sorted;
  Stamp s{1, 1};
  sorted.push_back(Position::Between(nullptr, nullptr, s));
  for (int k = 0; k < 2000; k++) {
    s.counter++;
    s.node = 1 + rng() % 3;
    size_t i = rng() % (sorted.size() + 1);
    const Position* a = i > 0 ? &sorted[i - 1] : nullptr;
    const Position* b = i < sorted.size() ? &sorted[i] : nullptr;
    Position p = Position::Between(a, b, s);
    if (a) {
      ASSERT_TRUE(*a < p);
    }
    if (b) {
      ASSERT_TRUE(p < *b);
    }
    Position round;
    ASSERT_TRUE(Position::Decode(p.Encode(), &round));
    ASSERT_EQ(round, p);
    sorted.insert(sorted.begin() + static_cast<ptrdiff_t>(i), p);
  }
}

TEST(Sequence, ConcurrentPushesAreBothKeptInOneOrder) {
  Replica a(1), b(2);
  Change base = a.PushBack("x");
  b.Apply(base);
  Change pa = a.PushBack("from-a");
  Change pb = b.PushBack("from-b");
  a.Apply(pb);
  b.Apply(pa);
  EXPECT_EQ(a.Values(), b.Values());
  EXPECT_EQ(a.Values().size(), 3u);
  // The smaller stamp first.
  EXPECT_EQ(a.Values()[1], pa.dot < pb.dot ? "from-a" : "from-b");
}

TEST(Sequence, APopRemovesOnlyTheElementItSaw) {
  Replica a(1), b(2);
  Change x = a.PushBack("x");
  b.Apply(x);
  Change pop = b.RemoveAt(0);
  Change y = a.PushFront("y");  // concurrent with the pop
  a.Apply(pop);
  b.Apply(y);
  EXPECT_EQ(a.Values(), std::vector<std::string>{"y"});
  EXPECT_EQ(b.Values(), a.Values());
}

TEST(Sequence, AnInsertArrivingAfterItsRemovalStaysRemoved) {
  Replica a(1), b(2), c(3);
  Change x = a.PushBack("x");
  b.Apply(x);
  Change pop = b.RemoveAt(0);
  c.Apply(pop);
  c.Apply(x);
  EXPECT_TRUE(c.seq.empty());
}

TEST(Sequence, ConcurrentLSetsKeepTheGreaterStamp) {
  Replica a(1), b(2);
  Change x = a.PushBack("x");
  b.Apply(x);
  Change sa = a.Set(0, "A");
  Change sb = b.Set(0, "B");
  a.Apply(sb);
  b.Apply(sa);
  EXPECT_EQ(a.Values(), b.Values());
  EXPECT_EQ(a.Values()[0], sa.dot < sb.dot ? "B" : "A");
}

TEST(Sequence, RandomHistoriesConvergeWhateverTheDeliveryOrder) {
  for (uint64_t seed = 1; seed <= 80; seed++) {
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
      std::string v = "v" + std::to_string(step);
      Change ch;
      size_t n = rep.seq.size();
      switch (n == 0 ? rng() % 2 : rng() % 6) {
        case 0:
          ch = rep.PushBack(v);
          break;
        case 1:
          ch = rep.PushFront(v);
          break;
        case 2:
          ch = rep.InsertAt(rng() % (n + 1), v);
          break;
        case 3:
          ch = rep.Set(rng() % n, v);
          break;
        default:
          ch = rep.RemoveAt(rng() % 2 ? 0 : n - 1);
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
    EXPECT_EQ(reps[0].Values(), reps[1].Values());
    EXPECT_EQ(reps[1].Values(), reps[2].Values());
    EXPECT_TRUE(reps[0].seq == reps[1].seq);
    // Whole-state merges agree with the deltas and are a join.
    Replica m = reps[0];
    m.seq.MergeState(reps[1].seq, reps[1].ctx, m.ctx);
    EXPECT_TRUE(m.seq == reps[0].seq);
  }
}

TEST(Sequence, StateMergeIsCommutativeAssociativeIdempotent) {
  for (uint64_t seed = 1; seed <= 40; seed++) {
    SCOPED_TRACE(seed);
    std::mt19937_64 rng(seed * 31);
    std::vector<Replica> reps;
    for (NodeId n = 1; n <= 3; n++) reps.emplace_back(n);
    std::vector<Change> all;
    for (int step = 0; step < 60; step++) {
      Replica& rep = reps[rng() % 3];
      size_t n = rep.seq.size();
      if (n > 0 && rng() % 3 == 0) {
        all.push_back(rep.RemoveAt(rng() % n));
      } else {
        all.push_back(rep.InsertAt(n == 0 ? 0 : rng() % (n + 1), "v" + std::to_string(step)));
      }
      if (rng() % 2) reps[rng() % 3].Apply(all[rng() % all.size()]);
    }
    auto merged = [](Replica x, const Replica& y) {
      x.seq.MergeState(y.seq, y.ctx, x.ctx);
      x.ctx.Merge(y.ctx);
      return x;
    };
    const Replica &a = reps[0], &b = reps[1], &c = reps[2];
    EXPECT_TRUE(merged(a, b).seq == merged(b, a).seq);
    EXPECT_TRUE(merged(merged(a, b), c).seq == merged(a, merged(b, c)).seq);
    EXPECT_TRUE(merged(a, a).seq == a.seq);
    Replica full = merged(merged(a, b), c);
    Replica by_ops = a;
    for (const Change& ch : all) by_ops.Apply(ch);
    EXPECT_TRUE(full.seq == by_ops.seq);
  }
}

}  // namespace
}  // namespace lattice::crdt
