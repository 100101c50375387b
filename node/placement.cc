#include "node/placement.h"

#include <algorithm>
#include <set>

#include "node/stable_hash.h"

namespace lattice::node {

Ring::Ring(std::vector<RingMember> members, int replicas, int vnodes)
    : members_(std::move(members)), replicas_(replicas) {
  // Sorted by id so every node builds the same ring from the same set,
  // whatever order it learned the members in.
  std::sort(members_.begin(), members_.end(),
            [](const RingMember& a, const RingMember& b) { return a.id < b.id; });
  for (uint32_t i = 0; i < members_.size(); i++) {
    for (int v = 0; v < vnodes; v++) {
      std::string label = members_[i].name + "#" + std::to_string(v);
      points_.emplace_back(StableHash64(label), i);
    }
  }
  std::sort(points_.begin(), points_.end());
}

std::string_view Ring::HashTag(std::string_view key) {
  size_t open = key.find('{');
  if (open == std::string_view::npos) return key;
  size_t close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

uint64_t Ring::PointOf(std::string_view key) { return StableHash64(HashTag(key)); }

std::vector<uint32_t> Ring::ReplicasAt(uint64_t point) const {
  std::vector<uint32_t> out;
  if (members_.empty()) return out;
  size_t want = replicas_ <= 0 ? members_.size()
                               : std::min<size_t>(static_cast<size_t>(replicas_), members_.size());
  size_t zones_total;
  {
    std::set<std::string_view> zones;
    for (const RingMember& m : members_) zones.insert(m.zone);
    zones_total = zones.size();
  }
  auto start = std::lower_bound(points_.begin(), points_.end(),
                                std::make_pair(point, uint32_t{0}));
  std::vector<bool> taken(members_.size(), false);
  std::set<std::string_view> zones_used;
  // Pass 1: distinct members from zones not used yet. Pass 2: fill up in
  // ring order (fewer zones than replicas).
  for (int pass = 0; pass < 2 && out.size() < want; pass++) {
    for (size_t n = 0; n < points_.size() && out.size() < want; n++) {
      auto it = start + static_cast<std::ptrdiff_t>(n);
      if (it >= points_.end()) it -= static_cast<std::ptrdiff_t>(points_.size());
      uint32_t idx = it->second;
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

std::vector<uint32_t> Ring::ReplicasFor(std::string_view key) const {
  return ReplicasAt(PointOf(key));
}

bool Ring::IsReplica(std::string_view key, uint32_t member) const {
  std::vector<uint32_t> r = ReplicasFor(key);
  return std::find(r.begin(), r.end(), member) != r.end();
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

}  // namespace lattice::node
