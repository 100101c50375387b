#include "node/evict.h"

#include <algorithm>
#include <chrono>
#include <climits>

#include "node/memory.h"
#include "node/notify.h"
#include "node/server.h"
#include "node/storage/keyspace.h"

namespace lattice::node {

EvictSettings g_evict;

namespace {

constexpr uint32_t kLfuInit = 5;


uint32_t Minutes(int64_t now_ms) { return static_cast<uint32_t>(now_ms / 60000) & 65535; }

uint32_t MinutesSince(uint32_t then, uint32_t now) {
  return now >= then ? now - then : 65535 - then + now;
}

// A cheap per-thread generator for the LFU increments and random picks.
double Random01() {
  thread_local uint64_t x = 0x2545F4914F6CDD1DULL ^ reinterpret_cast<uintptr_t>(&x);
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return static_cast<double>(x >> 11) / static_cast<double>(1ULL << 53);
}

uint32_t LogIncr(uint32_t counter) {
  if (counter >= 255) return 255;
  double base = counter > kLfuInit ? counter - kLfuInit : 0;
  double p = 1.0 / (base * g_evict.lfu_log_factor.load(std::memory_order_relaxed) + 1);
  return Random01() < p ? counter + 1 : counter;
}

// Redis's evictionTimeLimitUs: 50 us per tenacity step up to 10, then
// growing by 15% a step; 100 is unlimited.
int64_t TimeLimitUs() {
  int t = g_evict.tenacity.load(std::memory_order_relaxed);
  if (t <= 10) return 50 * std::max(t, 1);
  if (t < 100) {
    double us = 500;
    for (int i = 10; i < t; i++) us *= 1.15;
    return static_cast<int64_t>(us);
  }
  return INT64_MAX;
}

bool Volatile(EvictPolicy p) {
  return p == EvictPolicy::kVolatileLru || p == EvictPolicy::kVolatileLfu ||
         p == EvictPolicy::kVolatileRandom || p == EvictPolicy::kVolatileTtl;
}

uint64_t Score(EvictPolicy p, const Entry& e, int64_t now_ms) {
  switch (p) {
    case EvictPolicy::kAllKeysLru:
    case EvictPolicy::kVolatileLru: {
      uint32_t now = static_cast<uint32_t>(now_ms / 1000);
      return now >= e.lru() ? now - e.lru() : 0;
    }
    case EvictPolicy::kAllKeysLfu:
    case EvictPolicy::kVolatileLfu:
      return 255 - LfuCount(e, now_ms);
    case EvictPolicy::kVolatileTtl:
      return UINT64_MAX - static_cast<uint64_t>(std::max<int64_t>(e.expire_at(), 0));
    default:
      return 0;
  }
}

// Samples each database of the shard into the pool (evict.c's
// evictionPoolPopulate).
void Populate(Shard& shard, EvictionPool& pool, EvictPolicy p, int64_t now_ms) {
  const int samples = std::max(1, g_evict.samples.load(std::memory_order_relaxed));
  auto& best = pool.best;
  for (int i = 0; i < shard.databases(); i++) {
    Db& db = shard.db(i);
    if (Volatile(p) ? db.expires_size() == 0 : db.size() == 0) continue;
    for (int k = 0; k < samples; k++) {
      Entry* e = Volatile(p) ? db.RandomVolatile() : db.RandomEntry(now_ms);
      if (!e) break;
      uint64_t score = Score(p, *e, now_ms);
      if (best.size() >= EvictionPool::kSize && score <= best.front().score) continue;
      std::string_view key = e->key();
      bool dup = false;
      for (const auto& c : best) dup = dup || (c.db == i && c.key == key);
      if (dup) continue;
      auto at = std::upper_bound(best.begin(), best.end(), score,
                                 [](uint64_t s, const EvictionPool::Candidate& c) {
                                   return s < c.score;
                                 });
      best.insert(at, EvictionPool::Candidate{score, i, std::string(key)});
      if (best.size() > EvictionPool::kSize) best.erase(best.begin());
    }
  }
}

}  // namespace

EvictPolicy ParseEvictPolicy(std::string_view name) {
  static constexpr std::pair<std::string_view, EvictPolicy> kNames[] = {
      {"allkeys-lru", EvictPolicy::kAllKeysLru},       {"volatile-lru", EvictPolicy::kVolatileLru},
      {"allkeys-lfu", EvictPolicy::kAllKeysLfu},       {"volatile-lfu", EvictPolicy::kVolatileLfu},
      {"allkeys-random", EvictPolicy::kAllKeysRandom},
      {"volatile-random", EvictPolicy::kVolatileRandom},
      {"volatile-ttl", EvictPolicy::kVolatileTtl}};
  for (const auto& [n, p] : kNames) {
    if (n == name) return p;
  }
  return EvictPolicy::kNoEviction;
}

uint32_t InitialLru(int64_t now_ms) {
  if (g_evict.lfu()) return (Minutes(now_ms) << 8) | kLfuInit;
  return static_cast<uint32_t>(now_ms / 1000);
}

uint32_t LfuCount(const Entry& e, int64_t now_ms) {
  uint32_t ldt = (e.lru() >> 8) & 65535;
  uint32_t counter = e.lru() & 255;
  int decay = g_evict.lfu_decay_time.load(std::memory_order_relaxed);
  uint32_t periods = decay > 0 ? MinutesSince(ldt, Minutes(now_ms)) / decay : 0;
  return periods > counter ? 0 : counter - periods;
}

void TouchEntry(Entry* e, int64_t now_ms) {
  if (!g_evict.lfu()) {
    e->set_lru(static_cast<uint32_t>(now_ms / 1000));
    return;
  }
  e->set_lru((Minutes(now_ms) << 8) | LogIncr(LfuCount(*e, now_ms)));
}

bool OverMaxmemory() {
  int64_t limit = g_evict.maxmemory.load(std::memory_order_relaxed);
  return limit > 0 && mem::UsedBytes() > limit;
}

bool RepairMayAddKeys() {
  int64_t limit = g_evict.maxmemory.load(std::memory_order_relaxed);
  return limit <= 0 || mem::UsedBytes() < limit / 2;
}

size_t EvictFromShard(Shard& shard, EvictionPool& pool, int64_t now_ms, bool* none_left) {
  *none_left = false;
  const auto p = static_cast<EvictPolicy>(g_evict.policy.load(std::memory_order_relaxed));
  if (p == EvictPolicy::kNoEviction) {
    *none_left = true;
    return 0;
  }
  const int64_t deadline = TimeLimitUs() == INT64_MAX ? INT64_MAX : MonoUs() + TimeLimitUs();
  size_t evicted = 0;
  int next_db = 0;
  while (OverMaxmemory()) {
    int db_index = -1;
    std::string key;
    if (p == EvictPolicy::kAllKeysRandom || p == EvictPolicy::kVolatileRandom) {
      for (int k = 0; k < shard.databases() && db_index < 0; k++) {
        int i = (next_db + k) % shard.databases();
        Db& db = shard.db(i);
        Entry* e = Volatile(p) ? db.RandomVolatile() : db.RandomEntry(now_ms);
        if (e) {
          db_index = i;
          key = std::string(e->key());
        }
      }
      next_db = db_index + 1;
    } else {
      Populate(shard, pool, p, now_ms);
      while (!pool.best.empty() && db_index < 0) {
        EvictionPool::Candidate c = std::move(pool.best.back());
        pool.best.pop_back();
        Entry* e = shard.db(c.db).FindRaw(c.key);
        if (e && (!Volatile(p) || e->has_expire())) {
          db_index = c.db;
          key = std::move(c.key);
        }
      }
    }
    if (db_index < 0) {
      *none_left = true;
      break;
    }
    Db& db = shard.db(db_index);
    if (DeltaSink* sink = shard.sink()) {
      if (const Entry* e = db.Peek(key)) sink->Evicted(db_index, key, e->stamp());
    }
    db.Delete(key);
    shard.evicted_keys++;
    evicted++;
    NotifyKeyspaceEvent(kNotifyEvicted, "evicted", key, db_index);
    if (evicted % 16 == 0 && MonoUs() > deadline) break;
  }
  shard.evict_exhausted.store(*none_left, std::memory_order_relaxed);
  return evicted;
}

}  // namespace lattice::node
