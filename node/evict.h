// File: node/evict.h
//
// maxmemory: Redis's eight eviction policies, its sampled approximations
// and its LFU counter. Memory is node/memory.h's count. Each worker evicts
// from its own shard (the shard's keys belong to its thread): before a
// command when the node is over maxmemory, and at the end of every event-
// loop iteration while it stays over, so a shard that receives no commands
// still sheds its share.
//
// Sampling follows Redis (evict.c): `maxmemory-samples` keys per database
// feed a pool of the 16 best candidates kept across calls; the best is
// evicted. The score is the idle time (LRU), 255 minus the decayed LFU
// counter (LFU) or the nearness of the expiry (volatile-ttl); the random
// policies take a random key. The volatile-* policies look only at keys
// with a TTL. Under noeviction, or when nothing can go, commands flagged
// deny-oom get Redis's OOM error.
//
// The LFU counter lives in the entry's lru field when an LFU policy is
// selected: the minute of its last decrement (16 bits) above an 8-bit
// logarithmic counter (lfu-log-factor) that starts at 5 for a new key and
// loses one per lfu-decay-time minutes without access.
//
// Evicting is local: a key evicted here is not deleted on other nodes and
// no delta is emitted (docs/consistency.md, "Eviction").
//
// Thread-safety: the settings are atomics; Evict runs on the shard's
// thread.
#ifndef LATTICE_NODE_EVICT_H_
#define LATTICE_NODE_EVICT_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lattice::node {

class Entry;
class Shard;

enum class EvictPolicy : int {
  kNoEviction,
  kAllKeysLru,
  kVolatileLru,
  kAllKeysLfu,
  kVolatileLfu,
  kAllKeysRandom,
  kVolatileRandom,
  kVolatileTtl,
};

struct EvictSettings {
  std::atomic<int64_t> maxmemory{0};
  std::atomic<int> policy{0};
  std::atomic<int> samples{5};
  std::atomic<int> tenacity{10};
  std::atomic<int> lfu_log_factor{10};
  std::atomic<int> lfu_decay_time{1};
  bool lfu() const {
    int p = policy.load(std::memory_order_relaxed);
    return p == int(EvictPolicy::kAllKeysLfu) || p == int(EvictPolicy::kVolatileLfu);
  }
};
extern EvictSettings g_evict;

// "allkeys-lru" etc.; kNoEviction for anything else.
EvictPolicy ParseEvictPolicy(std::string_view name);

// The lru field of a new key: the LRU clock (seconds) or a fresh LFU
// counter.
uint32_t InitialLru(int64_t now_ms);
// An access: the LRU clock, or the LFU counter decayed then incremented.
void TouchEntry(Entry* e, int64_t now_ms);
// OBJECT FREQ: the LFU counter after decay.
uint32_t LfuCount(const Entry& e, int64_t now_ms);

// Whether the node uses more than maxmemory (false when unlimited).
bool OverMaxmemory();
// Whether anti-entropy may bring in keys this node does not hold: always
// without maxmemory, else only below half of it, so that a repair never
// pulls back what eviction just dropped (docs/consistency.md, "Eviction").
bool RepairMayAddKeys();

struct EvictionPool {
  struct Candidate {
    uint64_t score = 0;  // higher goes first
    int db = 0;
    std::string key;
  };
  std::vector<Candidate> best;  // ascending score, at most kSize
  static constexpr size_t kSize = 16;
};

// Evicts keys from `shard` while the node is over maxmemory, for at most
// the tenacity's time budget. Returns the keys evicted; *none_left when
// the shard has nothing the policy may evict.
size_t EvictFromShard(Shard& shard, EvictionPool& pool, int64_t now_ms, bool* none_left);

}  // namespace lattice::node

#endif  // LATTICE_NODE_EVICT_H_
