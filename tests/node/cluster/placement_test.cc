// The placement ring: deterministic, balanced, zone-aware, hash tags as
// Redis Cluster reads them, and little movement when membership changes.
#include "node/cluster/placement.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "node/storage/stable_hash.h"

namespace lattice::node {
namespace {

std::vector<RingMember> Members(int n, int zones = 2) {
  std::vector<RingMember> out;
  for (int i = 1; i <= n; i++) {
    out.push_back({uint32_t(1000 + i), "node" + std::to_string(i),
                   "zone-" + std::to_string(i % zones)});
  }
  return out;
}

TEST(Ring, HashTagsFollowRedisCluster) {
  EXPECT_EQ(Ring::HashTag("{user1000}.following"), "user1000");
  EXPECT_EQ(Ring::HashTag("foo{}{bar}"), "foo{}{bar}");  // first {} empty: whole key
  EXPECT_EQ(Ring::HashTag("foo{{bar}}zap"), "{bar");
  EXPECT_EQ(Ring::HashTag("foo{bar}{zap}"), "bar");
  EXPECT_EQ(Ring::HashTag("nobraces"), "nobraces");
  EXPECT_EQ(Ring::HashTag("open{only"), "open{only");
  Ring ring(Members(5), 3);
  EXPECT_EQ(ring.ReplicasFor("{u1}:name"), ring.ReplicasFor("{u1}:mail"));
  EXPECT_TRUE(ring.SameReplicas({"{u1}:a", "{u1}:b", "{u1}:c"}));
}

TEST(Ring, SameMembersInAnyOrderGiveTheSameRing) {
  std::vector<RingMember> m = Members(5);
  Ring a(m, 3);
  std::reverse(m.begin(), m.end());
  Ring b(m, 3);
  for (int k = 0; k < 1000; k++) {
    std::string key = "key:" + std::to_string(k);
    EXPECT_EQ(a.ReplicasFor(key), b.ReplicasFor(key));
  }
}

TEST(Ring, ReplicasAreDistinctAndSpreadAcrossZones) {
  Ring ring(Members(5, 2), 3);
  for (int k = 0; k < 2000; k++) {
    std::string key = "k" + std::to_string(k);
    std::vector<uint32_t> r = ring.ReplicasFor(key);
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(std::set<uint32_t>(r.begin(), r.end()).size(), 3u);
    std::set<std::string> zones;
    for (uint32_t id : r) zones.insert("zone-" + std::to_string((id - 1000) % 2));
    EXPECT_EQ(zones.size(), 2u) << key;  // both zones hold a copy
  }
}

TEST(Ring, ReplicationFactorAllAndLargerThanTheCluster) {
  Ring all(Members(4), 0);
  EXPECT_EQ(all.ReplicasFor("x").size(), 4u);
  Ring more(Members(2), 3);
  EXPECT_EQ(more.ReplicasFor("x").size(), 2u);
  Ring none({}, 3);
  EXPECT_TRUE(none.ReplicasFor("x").empty());
}

TEST(Ring, PrimariesAreBalanced) {
  Ring ring(Members(5), 1);
  std::map<uint32_t, int> count;
  const int kKeys = 100000;
  for (int k = 0; k < kKeys; k++) count[ring.ReplicasFor("key:" + std::to_string(k))[0]]++;
  ASSERT_EQ(count.size(), 5u);
  for (auto& [id, n] : count) {
    EXPECT_GT(n, kKeys / 5 * 0.75) << id;
    EXPECT_LT(n, kKeys / 5 * 1.25) << id;
  }
}

TEST(Ring, AddingAMemberMovesAboutItsShare) {
  Ring before(Members(4), 1);
  Ring after(Members(5), 1);
  const int kKeys = 50000;
  int moved = 0;
  for (int k = 0; k < kKeys; k++) {
    std::string key = "key:" + std::to_string(k);
    uint32_t a = before.ReplicasFor(key)[0], b = after.ReplicasFor(key)[0];
    if (a != b) {
      moved++;
      EXPECT_EQ(b, 1005u) << "a key moved between two old members";
    }
  }
  // The new member's share is 1/5 of the keys.
  EXPECT_GT(moved, kKeys / 5 * 0.7);
  EXPECT_LT(moved, kKeys / 5 * 1.3);
}

// The per-segment tables answer exactly what walking the ring clockwise
// from the key's point answers.
TEST(Ring, SegmentTablesMatchAWalkOfTheRing) {
  std::vector<RingMember> members = Members(6, 3);
  Ring ring(members, 3, 16);
  for (int k = 0; k < 3000; k++) {
    std::string key = "key:" + std::to_string(k);
    uint64_t point = Ring::PointOf(key);
    // Reference: the members of each vnode point, sorted by point, walked
    // from the first point at or after the key's, zones not yet used first.
    std::vector<std::pair<uint64_t, size_t>> points;
    for (size_t i = 0; i < members.size(); i++) {
      for (int v = 0; v < 16; v++) {
        points.emplace_back(StableHash64(members[i].name + "#" + std::to_string(v)), i);
      }
    }
    std::sort(points.begin(), points.end());
    size_t start = 0;
    while (start < points.size() && points[start].first < point) start++;
    std::vector<uint32_t> want;
    std::set<std::string> zones;
    for (int pass = 0; pass < 2 && want.size() < 3; pass++) {
      for (size_t n = 0; n < points.size() && want.size() < 3; n++) {
        const RingMember& m = members[points[(start + n) % points.size()].second];
        if (std::find(want.begin(), want.end(), m.id) != want.end()) continue;
        if (pass == 0 && zones.count(m.zone)) continue;
        zones.insert(m.zone);
        want.push_back(m.id);
      }
    }
    ASSERT_EQ(ring.ReplicasFor(key), want) << key;
    for (uint32_t id : want) EXPECT_TRUE(ring.IsReplica(key, id));
  }
}

TEST(PlacementView, HotKeyExtrasHoldTheirKeysOnly) {
  PlacementView v;
  v.self = 1001;
  v.ring = std::make_shared<Ring>(Members(4), 1);
  EXPECT_TRUE(v.partial());
  std::string key = "hot";
  uint32_t owner = v.ring->ReplicasFor(key)[0];
  uint32_t other = owner == 1001 ? 1002 : 1001;
  EXPECT_TRUE(v.Holds(owner, key));
  EXPECT_FALSE(v.Holds(other, key));
  v.hot[StableHash64(key)].push_back(other);
  EXPECT_TRUE(v.Holds(other, key));
  EXPECT_FALSE(v.ReplicaOf(other, key));  // an extra copy, not a ring replica
  EXPECT_FALSE(v.Holds(other, "another key on the same owner? no: different hash"));
  // Full placement: everyone holds everything.
  PlacementView full;
  full.ring = std::make_shared<Ring>(Members(3), 3);
  EXPECT_FALSE(full.partial());
  EXPECT_TRUE(full.Holds(1003, key));
}

}  // namespace
}  // namespace lattice::node
