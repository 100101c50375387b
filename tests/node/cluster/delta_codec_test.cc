// The hand-rolled sender encoding must be exactly proto/peer.proto's wire
// format: every kind of delta and batch field is encoded here and parsed
// back with the generated classes.
#include "node/cluster/delta_codec.h"

#include "gtest/gtest.h"
#include "proto/peer.pb.h"

namespace lattice::node {
namespace {

peer::Delta RoundTrip(const Delta& d) {
  std::string wire;
  EncodeDelta(d, &wire);
  peer::Delta out;
  EXPECT_TRUE(out.ParseFromString(wire));
  return out;
}

TEST(DeltaCodec, Assignment) {
  Delta d{Delta::Kind::kAssign, 3, "key:1", {0x1234567890ULL, 4000000000u}};
  const std::string value(300, 'v');  // a two-byte length
  d.value = value;
  d.expire_at = 1795268180565;
  peer::Delta p = RoundTrip(d);
  EXPECT_EQ(p.db(), 3u);
  EXPECT_EQ(p.key(), "key:1");
  EXPECT_EQ(p.stamp().counter(), 0x1234567890ULL);
  EXPECT_EQ(p.stamp().node_id(), 4000000000u);
  ASSERT_EQ(p.change_case(), peer::Delta::kAssign);
  EXPECT_EQ(p.assign().value(), std::string(300, 'v'));
  EXPECT_EQ(p.assign().expire_at_ms(), 1795268180565);
}

TEST(DeltaCodec, HllAssignmentCarriesItsFloor) {
  Delta d{Delta::Kind::kAssign, 0, "h", {0x7000000000001ULL, 3}};
  const std::string value(12304, 'r');
  d.value = value;
  d.hll = true;
  d.hll_floor = {0x6FFFFFFFFFFFFULL, 2000000000u};
  peer::Delta p = RoundTrip(d);
  ASSERT_EQ(p.change_case(), peer::Delta::kAssign);
  EXPECT_EQ(p.assign().value(), value);
  EXPECT_TRUE(p.assign().hll());
  EXPECT_EQ(p.assign().hll_floor().counter(), 0x6FFFFFFFFFFFFULL);
  EXPECT_EQ(p.assign().hll_floor().node_id(), 2000000000u);
  d.hll_floor = {};  // no floor: omitted
  p = RoundTrip(d);
  EXPECT_TRUE(p.assign().hll());
  EXPECT_FALSE(p.assign().has_hll_floor());
  d.hll = false;
  p = RoundTrip(d);
  EXPECT_FALSE(p.assign().hll());
}

TEST(DeltaCodec, EmptyValueWithoutTtlStillSetsTheChange) {
  Delta d{Delta::Kind::kAssign, 0, "k", {1, 1}};
  peer::Delta p = RoundTrip(d);
  EXPECT_EQ(p.db(), 0u);
  ASSERT_EQ(p.change_case(), peer::Delta::kAssign);
  EXPECT_EQ(p.assign().value(), "");
  EXPECT_EQ(p.assign().expire_at_ms(), 0);
}

TEST(DeltaCodec, CounterWithNegativeBaseAndZeroStamp) {
  crdt::PnCounter::Delta c{-42, {}, {7, 10, 3, 123456789}};
  Delta d{Delta::Kind::kCounterAdd, 1, "c", {99, 7}};
  d.counter = &c;
  d.expire_at = 5000;
  peer::Delta p = RoundTrip(d);
  EXPECT_FALSE(p.has_stamp());  // the zero base stamp
  ASSERT_EQ(p.change_case(), peer::Delta::kCounter);
  EXPECT_EQ(p.counter().base(), -42);
  EXPECT_EQ(p.counter().expire_at_ms(), 5000);
  EXPECT_EQ(p.counter().node_id(), 7u);
  EXPECT_EQ(p.counter().increments(), 10u);
  EXPECT_EQ(p.counter().decrements(), 3u);
  EXPECT_EQ(p.counter().epoch(), 123456789u);
}

TEST(DeltaCodec, DeleteAndFlush) {
  crdt::Tombstone t;
  t.stamp = {50, 2};
  t.max_dead = {40, 9};
  t.seen.Observe(1, 30);
  t.seen.Observe(2, 49);
  t.AddDot({45, 3});
  Delta d{Delta::Kind::kDelete, 0, "gone", {50, 2}};
  d.tomb = &t;
  peer::Delta p = RoundTrip(d);
  ASSERT_EQ(p.change_case(), peer::Delta::kRemove);
  ASSERT_EQ(p.remove().seen_size(), 2);
  EXPECT_EQ(p.remove().seen(0).node_id(), 1u);
  EXPECT_EQ(p.remove().seen(0).counter(), 30u);
  EXPECT_EQ(p.remove().seen(1).counter(), 49u);
  EXPECT_EQ(p.remove().max_dead().counter(), 40u);
  ASSERT_EQ(p.remove().dots_size(), 1);
  EXPECT_EQ(p.remove().dots(0).counter(), 45u);
  EXPECT_EQ(p.remove().dots(0).node_id(), 3u);
  EXPECT_EQ(p.stamp().counter(), 50u);

  Delta flush{Delta::Kind::kDelete, -1, "", {60, 2}};
  p = RoundTrip(flush);
  ASSERT_EQ(p.change_case(), peer::Delta::kFlush);
  EXPECT_TRUE(p.all_dbs());
}

TEST(DeltaCodec, Batch) {
  RawBatch hello;
  hello.SetHello(123456);
  peer::DeltaBatch h;
  ASSERT_TRUE(h.ParseFromString(hello.bytes));
  EXPECT_EQ(h.hello().origin(), 123456u);

  RawBatch b;
  b.SetFirstSeq(7353423444132704ULL);
  for (int i = 0; i < 3; i++) {
    std::string w;
    const std::string key = "k" + std::to_string(i);
    Delta d{Delta::Kind::kAssign, 0, key, {uint64_t(i + 1), 1}};
    d.value = "v";
    EncodeDelta(d, &w);
    b.AddDelta(w);
  }
  b.AddDep(9, 77);
  b.SetFlag(5);
  peer::DeltaBatch p;
  ASSERT_TRUE(p.ParseFromString(b.bytes));
  EXPECT_EQ(b.deltas, 3u);
  EXPECT_EQ(p.first_seq(), 7353423444132704ULL);
  ASSERT_EQ(p.deltas_size(), 3);
  EXPECT_EQ(p.deltas(2).key(), "k2");
  ASSERT_EQ(p.deps_size(), 1);
  EXPECT_EQ(p.deps(0).node_id(), 9u);
  EXPECT_EQ(p.deps(0).counter(), 77u);
  EXPECT_TRUE(p.snapshot());
  EXPECT_FALSE(p.snapshot_done());
}

}  // namespace
}  // namespace lattice::node
