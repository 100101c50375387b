#include "node/cluster/hot_keys.h"

#include <algorithm>

#include "node/storage/stable_hash.h"

namespace lattice::node {

namespace {
// Row i's column for a key: two hashes combined (Kirsch-Mitzenmacher).
uint32_t Column(uint64_t h, int row) {
  uint32_t a = static_cast<uint32_t>(h), b = static_cast<uint32_t>(h >> 32) | 1;
  return (a + static_cast<uint32_t>(row) * b) % HotKeys::kWidth;
}
}  // namespace

uint32_t HotKeys::Add(std::string_view key) {
  uint64_t h = StableHash64(key);
  uint32_t est = UINT32_MAX;
  // Conservative update: raise only the counters at the current minimum,
  // which keeps overestimates down.
  for (int r = 0; r < kDepth; r++) est = std::min(est, counts_[r][Column(h, r)]);
  if (est == UINT32_MAX) return est;
  est++;
  for (int r = 0; r < kDepth; r++) {
    uint32_t& c = counts_[r][Column(h, r)];
    if (c < est) c = est;
  }
  total_++;
  for (auto& [k, v] : top_) {
    if (k == key) {
      v = est;
      return est;
    }
  }
  if (top_.size() < top_k_) {
    top_.emplace_back(std::string(key), est);
  } else {
    auto low = std::min_element(top_.begin(), top_.end(),
                                [](const auto& a, const auto& b) { return a.second < b.second; });
    if (low->second < est) *low = {std::string(key), est};
  }
  return est;
}

uint32_t HotKeys::Estimate(std::string_view key) const {
  uint64_t h = StableHash64(key);
  uint32_t est = UINT32_MAX;
  for (int r = 0; r < kDepth; r++) est = std::min(est, counts_[r][Column(h, r)]);
  return est;
}

void HotKeys::Decay() {
  for (auto& row : counts_) {
    for (uint32_t& c : row) c >>= 1;
  }
  total_ >>= 1;
  for (auto& kv : top_) kv.second >>= 1;
  top_.erase(std::remove_if(top_.begin(), top_.end(), [](const auto& kv) { return kv.second == 0; }),
             top_.end());
}

std::vector<std::pair<std::string, uint32_t>> HotKeys::Top() const {
  auto out = top_;
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  return out;
}

}  // namespace lattice::node
