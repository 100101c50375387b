#include "node/cluster/placement.h"

#include <algorithm>
#include <set>

#include "node/storage/stable_hash.h"

namespace lattice::node {

Ring::Ring(std::vector<RingMember> members, int replicas, int vnodes)
    : members_(std::move(members)), replicas_(replicas) {
  // Sorted by id so every node builds the same ring from the same set,
  // whatever order it learned the members in.
  std::sort(members_.begin(), members_.end(),
            [](const RingMember& a, const RingMember& b) { return a.id < b.id; });
  for (const RingMember& m : members_) all_ids_.push_back(m.id);
  full_ = replicas_ <= 0 || members_.size() <= static_cast<size_t>(replicas_);
  if (full_) return;
  for (uint32_t i = 0; i < members_.size(); i++) {
    for (int v = 0; v < vnodes; v++) {
      std::string label = members_[i].name + "#" + std::to_string(v);
      points_.emplace_back(StableHash64(label), i);
    }
  }
  std::sort(points_.begin(), points_.end());
  segments_.reserve(points_.size());
  for (size_t i = 0; i < points_.size(); i++) segments_.push_back(Walk(i));
}

std::string_view Ring::HashTag(std::string_view key) {
  size_t open = key.find('{');
  if (open == std::string_view::npos) return key;
  size_t close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

uint64_t Ring::PointOf(std::string_view key) { return StableHash64(HashTag(key)); }

uint64_t Ring::PointOf(std::string_view key, uint64_t key_hash) {
  std::string_view tag = HashTag(key);
  return tag.size() == key.size() ? key_hash : StableHash64(tag);
}

std::vector<uint32_t> Ring::Walk(size_t start) const {
  std::vector<uint32_t> out;
  size_t want = std::min<size_t>(static_cast<size_t>(replicas_), members_.size());
  std::set<std::string_view> zones;
  for (const RingMember& m : members_) zones.insert(m.zone);
  const size_t zones_total = zones.size();
  std::vector<bool> taken(members_.size(), false);
  std::set<std::string_view> zones_used;
  // Pass 1: distinct members from zones not used yet. Pass 2: fill up in
  // ring order (fewer zones than replicas).
  for (int pass = 0; pass < 2 && out.size() < want; pass++) {
    for (size_t n = 0; n < points_.size() && out.size() < want; n++) {
      uint32_t idx = points_[(start + n) % points_.size()].second;
      if (taken[idx]) continue;
      const RingMember& m = members_[idx];
      if (pass == 0 && zones_used.count(m.zone) && zones_used.size() < zones_total) continue;
      taken[idx] = true;
      zones_used.insert(m.zone);
      out.push_back(m.id);
    }
  }
  return out;
}

const std::vector<uint32_t>& Ring::ReplicasAtPoint(uint64_t point) const {
  if (full_) return all_ids_;
  auto it = std::lower_bound(points_.begin(), points_.end(), std::make_pair(point, uint32_t{0}));
  size_t i = it == points_.end() ? 0 : static_cast<size_t>(it - points_.begin());
  return segments_[i];
}

bool Ring::IsReplicaAt(uint64_t point, uint32_t member) const {
  const std::vector<uint32_t>& r = ReplicasAtPoint(point);
  return std::find(r.begin(), r.end(), member) != r.end();
}

const RingMember* Ring::Find(uint32_t id) const {
  auto it = std::lower_bound(members_.begin(), members_.end(), id,
                             [](const RingMember& m, uint32_t v) { return m.id < v; });
  return it != members_.end() && it->id == id ? &*it : nullptr;
}

std::vector<uint32_t> Ring::ReplicasFor(std::string_view key) const {
  return ReplicasAtPoint(PointOf(key));
}

bool Ring::IsReplica(std::string_view key, uint32_t member) const {
  return IsReplicaAt(PointOf(key), member);
}

bool Ring::SameReplicas(const std::vector<std::string_view>& keys) const {
  if (keys.empty()) return true;
  std::vector<uint32_t> first = ReplicasFor(keys[0]);
  std::sort(first.begin(), first.end());
  for (size_t i = 1; i < keys.size(); i++) {
    std::vector<uint32_t> r = ReplicasFor(keys[i]);
    std::sort(r.begin(), r.end());
    if (r != first) return false;
  }
  return true;
}

bool PlacementView::HoldsAt(uint32_t member, uint64_t point, uint64_t key_hash) const {
  if (!ring || ring->full()) return true;
  if (ring->IsReplicaAt(point, member)) return true;
  if (hot.empty()) return false;
  auto it = hot.find(key_hash);
  return it != hot.end() && std::find(it->second.begin(), it->second.end(), member) != it->second.end();
}

bool PlacementView::Holds(uint32_t member, std::string_view key) const {
  uint64_t h = StableHash64(key);
  return HoldsAt(member, Ring::PointOf(key, h), h);
}

bool PlacementView::ReplicaOf(uint32_t member, std::string_view key) const {
  if (!ring || ring->full()) return true;
  return ring->IsReplica(key, member);
}

}  // namespace lattice::node
