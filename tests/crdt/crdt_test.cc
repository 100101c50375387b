// Merge laws for the CRDT value types, on seeded random values.
#include <random>
#include <vector>

#include "crdt/lww_register.h"
#include "crdt/pn_counter.h"
#include "crdt/stamp.h"
#include "gtest/gtest.h"

namespace lattice::crdt {
namespace {

// Checks commutativity, associativity and idempotence of T::Merge on 2000
// triples of seeded random values from `random(rng)`.
template <typename Random>
void ExpectMergeLaws(uint64_t seed, Random random) {
  std::mt19937_64 rng(seed);
  auto merged = [](auto x, const auto& y) {
    x.Merge(y);
    return x;
  };
  for (int i = 0; i < 2000; i++) {
    auto a = random(rng), b = random(rng), c = random(rng);
    EXPECT_EQ(merged(a, b), merged(b, a));
    EXPECT_EQ(merged(merged(a, b), c), merged(a, merged(b, c)));
    EXPECT_EQ(merged(a, a), a);
  }
}

Stamp RandomStamp(std::mt19937_64& rng) {
  // Small ranges so that equal counters with different nodes happen often.
  return Stamp{rng() % 8, static_cast<NodeId>(rng() % 4)};
}

LwwRegister<std::string> RandomRegister(std::mt19937_64& rng) {
  Stamp s = RandomStamp(rng);
  // The value is a function of the stamp: a node never reuses a stamp.
  return LwwRegister<std::string>("v" + std::to_string(s.counter) + "@" + std::to_string(s.node),
                                  s);
}

TEST(LamportClock, TicksAreStrictlyIncreasing) {
  LamportClock clock(7);
  Stamp a = clock.Tick();
  Stamp b = clock.Tick();
  EXPECT_LT(a, b);
  EXPECT_EQ(b.node, 7u);
}

TEST(LamportClock, ObservingARemoteStampOrdersLaterWritesAfterIt) {
  LamportClock clock(1);
  clock.Observe(Stamp{1000, 9});
  Stamp next = clock.Tick();
  EXPECT_GT(next, (Stamp{1000, 9}));
}

TEST(Stamp, TiesOnCounterAreBrokenByNodeId) {
  EXPECT_LT((Stamp{5, 1}), (Stamp{5, 2}));
  EXPECT_LT((Stamp{4, 9}), (Stamp{5, 1}));
}

TEST(LwwRegister, MergeIsCommutativeAssociativeAndIdempotent) {
  ExpectMergeLaws(42, [](std::mt19937_64& rng) { return RandomRegister(rng); });
}

TEST(LwwRegister, ReplicasSeeingWritesInOppositeOrderAgree) {
  LwwRegister<std::string> x("a", Stamp{3, 1}), y("b", Stamp{3, 2});
  auto r1 = x;
  r1.Merge(y);
  auto r2 = y;
  r2.Merge(x);
  EXPECT_EQ(r1.value(), "b");
  EXPECT_EQ(r2.value(), "b");
}

PnCounter RandomCounter(std::mt19937_64& rng) {
  // Bases are a function of their stamp, as a SET's are.
  Stamp base = Stamp{rng() % 3, static_cast<NodeId>(rng() % 2)};
  PnCounter c(static_cast<int64_t>(base.counter * 100 + base.node), base);
  int ops = rng() % 4;
  for (int i = 0; i < ops; i++) {
    c.Add(static_cast<NodeId>(rng() % 3), 1 + rng() % 3, static_cast<int64_t>(rng() % 2000) - 1000);
  }
  return c;
}

TEST(PnCounter, MergeIsCommutativeAssociativeAndIdempotent) {
  ExpectMergeLaws(7, [](std::mt19937_64& rng) { return RandomCounter(rng); });
}

TEST(PnCounter, ConcurrentIncrementsOnDifferentNodesAreAllKept) {
  PnCounter n1(10, Stamp{1, 1}), n2(10, Stamp{1, 1});
  PnCounter::Delta d1 = n1.Add(1, 11, 5);
  PnCounter::Delta d2 = n2.Add(2, 12, -3);
  n1.Merge(d2);
  n2.Merge(d1);
  EXPECT_EQ(n1.value(), 12);
  EXPECT_EQ(n2.value(), 12);
}

TEST(PnCounter, ReplayingADeltaIsHarmless) {
  PnCounter a(0, Stamp{});
  PnCounter::Delta d = a.Add(1, 1, 4);
  a.Merge(d);
  a.Merge(d);
  EXPECT_EQ(a.value(), 4);
}

TEST(PnCounter, ANewerBaseDiscardsIncrementsAgainstTheOlderOne) {
  PnCounter a(0, Stamp{1, 1});
  a.Add(1, 1, 7);
  PnCounter set(100, Stamp{2, 2});
  a.Merge(set);
  EXPECT_EQ(a.value(), 100);
}

TEST(PnCounter, LargeValuesWrapLikeTwosComplementWithoutLosingBits) {
  PnCounter a(INT64_MAX - 1, Stamp{});
  a.Add(1, 1, 1);
  EXPECT_EQ(a.value(), INT64_MAX);
  a.Add(2, 2, -5);
  EXPECT_EQ(a.value(), INT64_MAX - 5);
}

// A node that lost its copy (restart, the key moved away and back) and got
// back an older state of its own contribution must not continue it: the
// maximum with its real, higher totals elsewhere would hide the new
// increments. Its next increment opens a contribution of its own.
TEST(PnCounter, ACopyNeverContinuesAContributionItReceived) {
  PnCounter original(0, Stamp{});
  original.Add(1, 10, 5);
  PnCounter stale = original;  // what a replica had when node 1 dropped the key
  original.Add(1, 11, 3);      // node 1's last increments, still in flight (total 8)
  PnCounter again(0, Stamp{});
  again.Merge(stale);          // node 1 holds the key again: it receives 5
  PnCounter::Delta d = again.Add(1, 20, 2);
  EXPECT_EQ(again.value(), 7);
  original.Merge(d);           // the in-flight 8 and the new 2 both count
  again.Merge(original);
  EXPECT_EQ(original.value(), 10);
  EXPECT_EQ(again.value(), 10);
  EXPECT_EQ(again.contributions().size(), 2u);
}

TEST(PnCounter, OneCopyKeepsAddingToTheContributionItCreated) {
  PnCounter a(0, Stamp{});
  a.Add(1, 10, 5);
  a.Add(1, 11, 3);
  PnCounter::Delta d = a.Add(1, 12, 1);
  EXPECT_EQ(a.contributions().size(), 1u);
  EXPECT_EQ(d.contribution.epoch, 10u);
  EXPECT_EQ(d.contribution.p, 9u);
}

}  // namespace
}  // namespace lattice::crdt
