// The function-library registry as a CRDT (node/scripting/functions.h): a
// last-writer-wins map of name -> library or tombstone plus a flush floor.
// Members exchange whole states (node/cluster/functions_sync.h), so the
// merge must not care about order, grouping or repeats: checked on seeded
// random histories. Also the DUMP payload codec and CRC-64 against Redis's
// reference value.
#include "node/scripting/functions.h"

#include <algorithm>
#include <random>

#include "gtest/gtest.h"

namespace lattice::node {
namespace {

std::shared_ptr<const Library> Lib(const std::string& name, const std::string& fn, int version) {
  auto lib = std::make_shared<Library>();
  lib->name = name;
  lib->code = "#!lua name=" + name + "\n-- v" + std::to_string(version);
  lib->functions.push_back(FunctionInfo{fn, std::nullopt, 0});
  return lib;
}

struct Op {
  enum Kind { kPut, kDelete, kFloor } kind;
  std::string name, fn;
  int version;
  crdt::Stamp stamp;
};

void Apply(Functions& f, const Op& op) {
  switch (op.kind) {
    case Op::kPut:
      f.Merge(op.name, Lib(op.name, op.fn, op.version), op.stamp);
      break;
    case Op::kDelete:
      f.Merge(op.name, nullptr, op.stamp);
      break;
    case Op::kFloor:
      f.MergeFloor(op.stamp);
      break;
  }
}

TEST(Functions, MergeIgnoresOrderAndRepeats) {
  std::mt19937 rng(20261201);
  for (int round = 0; round < 300; round++) {
    std::vector<Op> ops;
    int n = 1 + static_cast<int>(rng() % 12);
    for (int i = 0; i < n; i++) {
      Op op;
      int r = static_cast<int>(rng() % 10);
      op.kind = r < 6 ? Op::kPut : r < 9 ? Op::kDelete : Op::kFloor;
      op.name = "lib" + std::to_string(rng() % 3);
      // Function names collide across libraries now and then.
      op.fn = "f" + std::to_string(rng() % 4);
      op.version = i;
      // Distinct stamps: two changes never share one (a node never reuses
      // a tick, and stamps carry the node id).
      op.stamp = crdt::Stamp{1 + rng() % 1000, static_cast<crdt::NodeId>(1 + i)};
      ops.push_back(op);
    }
    Functions first;
    for (const Op& op : ops) Apply(first, op);
    for (int shuffle = 0; shuffle < 5; shuffle++) {
      std::vector<Op> again = ops;
      std::shuffle(again.begin(), again.end(), rng);
      // Repeats, as repeated pulls deliver.
      again.insert(again.end(), ops.begin(), ops.begin() + rng() % (ops.size() + 1));
      Functions other;
      for (const Op& op : again) Apply(other, op);
      ASSERT_EQ(other.Digest(), first.Digest()) << "round " << round;
      std::vector<std::string> a, b;
      for (const auto& lib : first.All()) a.push_back(lib->code);
      for (const auto& lib : other.All()) b.push_back(lib->code);
      ASSERT_EQ(a, b) << "round " << round;
    }
    // No two live libraries define one function.
    std::vector<std::string> fns;
    for (const auto& lib : first.All()) {
      for (const FunctionInfo& f : lib->functions) fns.push_back(f.name);
    }
    std::sort(fns.begin(), fns.end());
    ASSERT_EQ(std::adjacent_find(fns.begin(), fns.end()), fns.end());
  }
}

TEST(Functions, ANewerChangeWinsAndTheFloorKillsOlderLibraries) {
  Functions f;
  f.Merge("a", Lib("a", "fa", 1), {10, 1});
  f.Merge("a", Lib("a", "fa", 2), {5, 2});  // older: ignored
  ASSERT_EQ(f.All().size(), 1u);
  EXPECT_NE(f.All()[0]->code.find("v1"), std::string::npos);
  f.Merge("a", nullptr, {11, 2});
  EXPECT_TRUE(f.All().empty());
  f.Merge("b", Lib("b", "fb", 1), {20, 1});
  f.MergeFloor({30, 1});
  EXPECT_TRUE(f.All().empty());
  f.Merge("c", Lib("c", "fc", 1), {25, 1});  // below the floor
  EXPECT_TRUE(f.All().empty());
  f.Merge("c", Lib("c", "fc", 1), {31, 1});
  EXPECT_EQ(f.All().size(), 1u);
}

TEST(Functions, DumpRoundTripsAndChecksItsChecksum) {
  Functions f;
  std::string error;
  ASSERT_TRUE(f.Add(Lib("one", "f1", 1), false, &error, {1, 1}));
  ASSERT_TRUE(f.Add(Lib("two", "f2", 1), false, &error, {2, 1}));
  std::string payload = f.Dump();
  std::vector<std::string> codes;
  ASSERT_TRUE(Functions::ParseDump(payload, &codes, &error)) << error;
  ASSERT_EQ(codes.size(), 2u);
  EXPECT_EQ(codes[0], f.All()[0]->code);
  payload[3] ^= 1;
  codes.clear();
  EXPECT_FALSE(Functions::ParseDump(payload, &codes, &error));
  EXPECT_EQ(error, "ERR DUMP payload version or checksum are wrong");
  EXPECT_FALSE(Functions::ParseDump("short", &codes, &error));
}

TEST(Crc64, MatchesRedisReferenceValue) {
  // Redis's crc64.c self-test: crc64(0, "123456789") == 0xe9c6d914c4b8d9ca.
  EXPECT_EQ(Crc64(0, "123456789"), 0xe9c6d914c4b8d9caULL);
}

}  // namespace
}  // namespace lattice::node
