// File: node/cluster/placement.h
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
#ifndef LATTICE_NODE_CLUSTER_PLACEMENT_H_
#define LATTICE_NODE_CLUSTER_PLACEMENT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

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
  // The same, given the key's StableHash64 (reused when it has no tag).
  static uint64_t PointOf(std::string_view key, uint64_t key_hash);

  // True when every member holds every key (replicas `all`, or no more
  // members than replicas): nothing is routed or filtered.
  bool full() const { return full_; }
  // Replicas of the keys at ring point `point`, primary first. O(log n):
  // each segment's set is computed once, when the ring is built.
  const std::vector<uint32_t>& ReplicasAtPoint(uint64_t point) const;
  bool IsReplicaAt(uint64_t point, uint32_t member) const;
  // The member with id `id`, or null.
  const RingMember* Find(uint32_t id) const;

  // Member ids holding `key`, primary (first clockwise) first.
  std::vector<uint32_t> ReplicasFor(std::string_view key) const;
  bool IsReplica(std::string_view key, uint32_t member) const;
  // True if every key has the same replica set (multi-key commands that
  // must be atomic run only then; others fan out).
  bool SameReplicas(const std::vector<std::string_view>& keys) const;

  const std::vector<RingMember>& members() const { return members_; }
  int replicas() const { return replicas_; }

 private:
  // Walks the ring from points_[start] collecting distinct members.
  std::vector<uint32_t> Walk(size_t start) const;

  std::vector<RingMember> members_;
  int replicas_;
  bool full_;
  std::vector<std::pair<uint64_t, uint32_t>> points_;  // sorted; second: index in members_
  // segments_[i]: replicas of points in (points_[i-1].first, points_[i].first].
  std::vector<std::vector<uint32_t>> segments_;
  std::vector<uint32_t> all_ids_;  // full ring: every member, by id
};

// Where keys live right now, as this node knows it: the ring and the
// hot-key extra replicas gossiped by members. Immutable; Placement
// publishes a new view on every membership or hot-set change.
struct PlacementView {
  uint64_t version = 0;
  uint32_t self = 0;
  std::shared_ptr<const Ring> ring;  // null: no cluster
  // Hot-key extra replicas, by the key's StableHash64: the members holding
  // an extra copy (see node/cluster/hot_replication.h).
  absl::flat_hash_map<uint64_t, std::vector<uint32_t>> hot;
  // The keys this node holds as an extra replica.
  absl::flat_hash_set<std::string> self_hot;
  // Peer address and liveness of every member on the ring (kept with the
  // view so routing reads no membership locks; a state change publishes a
  // new view).
  struct MemberRoute {
    std::string peer_addr;
    bool alive = true;
  };
  absl::flat_hash_map<uint32_t, MemberRoute> routes;

  // Extra copies in the cluster: one per hot key and member holding it.
  size_t extra_replicas() const {
    size_t n = 0;
    for (const auto& [h, ids] : hot) n += ids.size();
    return n;
  }
  // True when keys are placed on a subset of the members.
  bool partial() const { return ring && !ring->full(); }
  // Does `member` hold the key (as a ring replica or an extra replica)?
  bool HoldsAt(uint32_t member, uint64_t point, uint64_t key_hash) const;
  bool Holds(uint32_t member, std::string_view key) const;
  // Is `member` one of the key's ring replicas (not counting extras)?
  bool ReplicaOf(uint32_t member, std::string_view key) const;
};

class Placement {
 public:
  std::shared_ptr<const PlacementView> view() const {
    std::lock_guard<std::mutex> l(mu_);
    return view_;
  }
  // Changes whenever a new view is published: a cheap check for threads
  // that cache the view.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }
  bool partial() const { return partial_.load(std::memory_order_relaxed); }
  void Publish(std::shared_ptr<PlacementView> view) {
    std::lock_guard<std::mutex> l(mu_);
    view->version = version_.load() + 1;
    partial_.store(view->partial(), std::memory_order_relaxed);
    view_ = std::move(view);
    version_.store(view_->version, std::memory_order_release);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const PlacementView> view_ = std::make_shared<PlacementView>();
  std::atomic<uint64_t> version_{0};
  std::atomic<bool> partial_{false};
};

}  // namespace lattice::node

#endif  // LATTICE_NODE_CLUSTER_PLACEMENT_H_
