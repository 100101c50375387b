// File: node/cluster/hot_keys.h
//
// Per-key access rates in constant memory: a count-min sketch (depth 4,
// width 4096 counters) whose counters halve every `half_life` of calls to
// Decay(), plus a small top-k table of the keys with the highest estimates.
// A key's estimate never undercounts its decayed accesses; it overcounts by
// at most about e/width of the decayed total with high probability.
//
// Used to find keys far above the cluster's mean rate (hot keys gain
// replicas, see docs/architecture.md). One instance per shard.
//
// Thread-safety: none; owned by one shard thread.
#ifndef LATTICE_NODE_CLUSTER_HOT_KEYS_H_
#define LATTICE_NODE_CLUSTER_HOT_KEYS_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lattice::node {

class HotKeys {
 public:
  static constexpr int kDepth = 4;
  static constexpr int kWidth = 4096;

  explicit HotKeys(size_t top_k = 32) : top_k_(top_k) {}

  // Counts one access; returns the key's new estimate.
  uint32_t Add(std::string_view key);
  uint32_t Estimate(std::string_view key) const;
  // Halves every counter (and the top-k estimates): old accesses weigh half
  // as much after each call. Call it on a fixed period.
  void Decay();
  // Decayed accesses counted in total (for the mean rate).
  uint64_t total() const { return total_; }
  // The top keys, highest estimate first.
  std::vector<std::pair<std::string, uint32_t>> Top() const;

 private:
  size_t top_k_;
  std::array<std::array<uint32_t, kWidth>, kDepth> counts_{};
  uint64_t total_ = 0;
  std::vector<std::pair<std::string, uint32_t>> top_;  // unsorted, at most top_k_
};

}  // namespace lattice::node

#endif  // LATTICE_NODE_CLUSTER_HOT_KEYS_H_
