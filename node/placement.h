// File: node/placement.h
//
// Where a key lives: a consistent-hash ring of the cluster's members, each
// present as `vnodes` points, and a replication factor. A key's replicas are
// the first `replicas` distinct members clockwise from the key's point,
// taking members from zones not yet used first, so replicas spread across
// zones whenever there are enough of them.
//
// A key's point hashes only its Redis hash tag (the part between the first
// '{' and the next '}', when non-empty), so `{user1}:name` and
// `{user1}:mail` share replicas, as they share a slot in Redis Cluster.
//
// Adding or removing a member moves only the ranges next to its points:
// about 1/N of the keys for one member of N.
//
// Thread-safety: a Ring is immutable after construction; share it by
// shared_ptr<const Ring> and build a new one on membership changes.
#ifndef LATTICE_NODE_PLACEMENT_H_
#define LATTICE_NODE_PLACEMENT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lattice::node {

struct RingMember {
  uint32_t id = 0;
  std::string name;
  std::string zone;
};

class Ring {
 public:
  static constexpr int kDefaultVnodes = 128;
  // `replicas` <= 0 means every member holds every key.
  Ring(std::vector<RingMember> members, int replicas, int vnodes = kDefaultVnodes);

  // Redis's hash tag rule (keyHashSlot): the content of the first {...}
  // when non-empty, else the whole key.
  static std::string_view HashTag(std::string_view key);
  static uint64_t PointOf(std::string_view key);

  // Member ids holding `key`, primary (first clockwise) first.
  std::vector<uint32_t> ReplicasFor(std::string_view key) const;
  bool IsReplica(std::string_view key, uint32_t member) const;
  // True if every key has the same replica set (multi-key commands that
  // must be atomic run only then; others fan out).
  bool SameReplicas(const std::vector<std::string_view>& keys) const;

  const std::vector<RingMember>& members() const { return members_; }
  int replicas() const { return replicas_; }

 private:
  std::vector<uint32_t> ReplicasAt(uint64_t point) const;

  std::vector<RingMember> members_;
  int replicas_;
  std::vector<std::pair<uint64_t, uint32_t>> points_;  // sorted; second: index in members_
};

}  // namespace lattice::node

#endif  // LATTICE_NODE_PLACEMENT_H_
