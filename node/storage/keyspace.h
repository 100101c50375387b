// File: node/storage/keyspace.h
//
// The per-shard keyspace: one Db per logical database, each a chained hash
// table of Entry blobs. An Entry is a single allocation holding the key, the
// value, the CRDT metadata the write path needs (the Lamport stamp of the
// last assignment) and, only for keys with a TTL, the absolute expiry time.
// See docs/architecture.md ("Keyspace layout") for the memory budget.
//
// The table is a power-of-two bucket array with intrusive chains, rehashed
// incrementally, which lets SCAN use Redis's reverse-binary cursor: every key
// present for the whole scan is returned at least once, even if the table
// grows or shrinks between calls.
//
// Thread-safety: a Db belongs to one shard and is used only by the thread
// that owns the shard (or by a thread holding the cluster-wide exclusive
// section, see node/shard.h).
#ifndef LATTICE_NODE_STORAGE_KEYSPACE_H_
#define LATTICE_NODE_STORAGE_KEYSPACE_H_

#include <atomic>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "crdt/pn_counter.h"
#include "crdt/stamp.h"
#include "crdt/tombstone.h"
#include "node/cluster/placement.h"
#include "node/storage/collection.h"

namespace lattice::node {

// How a string value is stored; OBJECT ENCODING reports these the way Redis
// does ("int", "embstr", "raw"), because clients and tests look at them.
enum class Enc : uint8_t {
  kRaw = 0,      // bytes, reported "raw"
  kEmbstr = 1,   // bytes, reported "embstr" (Redis: <= 44 bytes, set whole)
  kInt = 2,      // int64 payload, reported "int"
  kCounter = 3,  // crdt::PnCounter* payload (after INCR), reported "int"
  kObject = 4,   // Collection* payload (hashes, sets): see collection.h
};

class Entry {
 public:
  Entry(const Entry&) = delete;
  Entry& operator=(const Entry&) = delete;

  std::string_view key() const { return {Data(), key_len_}; }
  ObjType type() const { return static_cast<ObjType>(type_); }
  Enc enc() const { return static_cast<Enc>(enc_); }
  bool is_int() const { return enc_ == uint8_t(Enc::kInt) || enc_ == uint8_t(Enc::kCounter); }
  crdt::Stamp stamp() const { return {stamp_counter_, stamp_node_}; }
  bool has_expire() const { return flags_ & kHasExpire; }
  // A HyperLogLog whose value merges concurrent PFADD/PFMERGE writes; its
  // parts are in Db::FindHll (docs/consistency.md, "HyperLogLog").
  bool hll_merged() const { return flags_ & kHllMerged; }
  // Absolute expiry in unix ms. REQUIRES: has_expire().
  int64_t expire_at() const {
    int64_t v;
    std::memcpy(&v, Data() - kExpireSize, sizeof v);
    return v;
  }
  uint32_t lru() const { return lru_; }
  void set_lru(uint32_t lru) { lru_ = lru; }

  // Byte payload. REQUIRES: !is_int().
  std::string_view bytes() const { return {Data() + key_len_, val_len_}; }
  // Integer value. REQUIRES: is_int().
  int64_t int_value() const;
  // REQUIRES: enc() == kCounter.
  crdt::PnCounter* counter() const {
    crdt::PnCounter* c;
    std::memcpy(&c, Data() + key_len_, sizeof c);
    return c;
  }
  // REQUIRES: enc() == kObject.
  Collection* collection() const {
    Collection* c;
    std::memcpy(&c, Data() + key_len_, sizeof c);
    return c;
  }
  bool is_collection() const { return enc_ == uint8_t(Enc::kObject); }
  // The value as a string (formats integers). `buf` holds at least 21 bytes.
  std::string_view StringValue(char* buf) const;

  char* mutable_bytes() { return Data() + key_len_; }

 private:
  friend class Db;
  static constexpr uint8_t kHasExpire = 1;
  static constexpr uint8_t kHllMerged = 2;
  // Expiry (int64) + index into Db::volatile_ (uint32), stored before the key.
  static constexpr size_t kExpireSize = 12;

  Entry() = default;
  char* Data() { return data_ + ((flags_ & kHasExpire) ? kExpireSize : 0); }
  const char* Data() const { return data_ + ((flags_ & kHasExpire) ? kExpireSize : 0); }
  uint32_t volatile_index() const {
    uint32_t v;
    std::memcpy(&v, data_ + 8, sizeof v);
    return v;
  }
  void set_volatile_index(uint32_t i) { std::memcpy(data_ + 8, &i, sizeof i); }
  void set_expire_raw(int64_t at) { std::memcpy(data_, &at, sizeof at); }

  Entry* next_;
  uint64_t stamp_counter_;
  uint32_t stamp_node_;
  uint32_t key_len_;
  uint32_t val_len_;
  uint32_t lru_;
  uint8_t type_;
  uint8_t enc_;
  uint8_t flags_;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
  char data_[];
#pragma GCC diagnostic pop
};

// What a string write stores. Exactly one of bytes / integer is used.
struct StringValue {
  Enc enc = Enc::kRaw;
  std::string_view bytes;
  int64_t integer = 0;
  crdt::PnCounter* counter = nullptr;  // ownership passes to the entry
  Collection* object = nullptr;        // kObject: ownership passes to the entry

  // Redis's tryObjectEncoding: int if the bytes are a canonical int64 of at
  // most 20 chars, embstr up to 44 bytes, raw beyond.
  static StringValue Encode(std::string_view s);
  static StringValue Int(int64_t v) { return {Enc::kInt, {}, v, nullptr}; }
  static StringValue Object(Collection* c) { return {Enc::kObject, {}, 0, nullptr, c}; }
};

// A HyperLogLog that concurrent writes reached (docs/consistency.md,
// "HyperLogLog"): its value is the register-wise max of its parts, the
// PFADD / PFMERGE writes above its floor, the newest plain write known to
// have been overwritten by them (every write below the floor is dead).
// A part newer than another with registers no smaller replaces it, so
// after any write made here there is one part again.
struct HllPart {
  crdt::Stamp stamp;
  int64_t expire_at = -1;
  std::string bytes;
};
struct HllState {
  crdt::Stamp floor;
  std::vector<HllPart> parts;  // empty: the entry itself is the only part
  // Order-independent over the parts; the floor counts too.
  uint64_t Digest() const;
};

// Client-side caching (node/tracking.h): set once some client tracks keys;
// every changed key is then reported to NotifyKeyChanged (tracking.cc).
extern std::atomic<bool> g_keys_tracked;
void NotifyKeyChanged(std::string_view key);
// Keyspace notifications (node/notify.h): the keys a running command
// changes are recorded while a capture is set on this thread.
struct TouchCapture;
extern thread_local TouchCapture* tls_touch_capture;
void CaptureTouch(TouchCapture* capture, int db, std::string_view key);

class Db;

// A background snapshot in progress (node/persist/bgsave.h). A database
// with a hook calls it before any key changes, so the snapshot can copy the
// key as it was when the snapshot began, and before a flush empties it.
class SnapshotHook {
 public:
  virtual ~SnapshotHook() = default;
  virtual void BeforeChange(const Db& db, std::string_view key) = 0;
  virtual void BeforeClear(const Db& db) = 0;
};

class Db {
 public:
  Db();
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  size_t size() const { return size_; }
  size_t expires_size() const { return volatile_.size(); }

  // Finds a live key; a key whose TTL has passed is deleted first (lazy
  // expiry) and counted in *expired_keys. Does not touch the LRU clock.
  Entry* Find(std::string_view key, int64_t now_ms);
  // Like Find, ignoring TTL (for the expiry cycle and tests).
  Entry* FindRaw(std::string_view key);

  // Creates or replaces the string at `key`. `expire_at` < 0 drops any TTL,
  // kKeepTtl keeps the old one, otherwise sets it. Returns the new entry.
  static constexpr int64_t kKeepTtl = -2;
  Entry* SetString(std::string_view key, const StringValue& v, crdt::Stamp stamp, int64_t expire_at,
                   uint32_t lru);
  // Resizes the byte value of an existing raw string in place or by
  // reallocation (amortized growth for APPEND). Sets enc to raw. Returns the
  // entry, which may have moved.
  Entry* ResizeBytes(Entry* e, size_t new_len, crdt::Stamp stamp);
  // Sets or clears (at < 0) the TTL. Returns the entry, which may have moved.
  Entry* SetExpire(Entry* e, int64_t at);
  // Also ends a merged HyperLogLog: a write stamped here (APPEND, SETRANGE,
  // EXPIRE...) is a plain write of the bytes it leaves.
  void SetStamp(Entry* e, crdt::Stamp stamp);
  // A HyperLogLog's merged state (nullptr unless e->hll_merged()).
  const HllState* FindHll(std::string_view key) const {
    if (hll_.empty()) return nullptr;
    auto it = hll_.find(absl::string_view(key.data(), key.size()));
    return it == hll_.end() ? nullptr : &it->second;
  }
  // Stores an HLL write's outcome: `bytes` (the parts' max, or the only
  // part) under `stamp` (the newest part's) with TTL `expire_at`, and its
  // state, replacing whatever the key held.
  Entry* SetHll(std::string_view key, std::string_view bytes, crdt::Stamp stamp, int64_t expire_at,
                uint32_t lru, HllState state);
  // Runs fn on a counter entry's PN-counter (INCR, a remote contribution),
  // keeping the Merkle leaf in step. REQUIRES: e->enc() == Enc::kCounter.
  template <typename F>
  void MutateCounter(Entry* e, F fn) {
    Touch(e->key());
    uint64_t h = HashOf(e->key());
    Unfold(e, h);
    fn(*e->counter());
    Fold(e, h);
  }
  // Runs fn on a collection entry's value, keeping the Merkle leaf in step.
  // REQUIRES: e->is_collection().
  template <typename F>
  auto MutateCollection(Entry* e, F fn) {
    Touch(e->key());
    uint64_t h = HashOf(e->key());
    Unfold(e, h);
    auto r = fn(*e->collection());
    Fold(e, h);
    SignalKey(e->key());
    return r;
  }
  // WATCH (node/families/transaction_family.cc): the connections watching
  // keys of this database. Any change of a watched key, local or merged from
  // a peer, expiry and flush included, sets the flag of every connection
  // watching it (Redis's touchWatchedKey); the key then forgets them.
  using WatchFlag = std::atomic<bool>;
  void Watch(std::string_view key, const std::shared_ptr<WatchFlag>& flag);
  void Touch(std::string_view key) {
    if (snapshot_hook_) snapshot_hook_->BeforeChange(*this, key);
    if (!watchers_.empty()) TouchWatched(key);
    if (g_keys_tracked.load(std::memory_order_relaxed)) NotifyKeyChanged(key);
    if (tls_touch_capture) CaptureTouch(tls_touch_capture, index_, key);
  }
  // This database's number (keyspace notifications name it).
  void set_index(int index) { index_ = index; }
  int index() const { return index_; }
  // Blocking pops (node/families/blocking.h): keys with parked clients,
  // and those of them that something added to since the last TakeReady.
  void Wait(std::string_view key) { waited_.emplace(key); }
  void Unwait(std::string_view key) { waited_.erase(absl::string_view(key.data(), key.size())); }
  void SignalKey(std::string_view key) {
    if (!waited_.empty() && waited_.contains(absl::string_view(key.data(), key.size()))) {
      ready_.emplace_back(key);
    }
  }
  bool has_ready() const { return !ready_.empty(); }
  std::vector<std::string> TakeReady() { return std::move(ready_); }

  // For a caller that changes a collection in several steps: takes the
  // entry out of the Merkle leaves, and puts it back (with `stamp` as its
  // newest write) once done.
  void LeafOut(Entry* e) {
    if (snapshot_hook_) snapshot_hook_->BeforeChange(*this, e->key());
    if (leaves_) Unfold(e, HashOf(e->key()));
  }
  // Puts back an entry LeafOut took out that did not change: no WATCH,
  // tracking or notification hears of it.
  void LeafRestore(Entry* e) {
    if (leaves_) Fold(e, HashOf(e->key()));
  }
  void LeafIn(Entry* e, crdt::Stamp stamp) {
    Touch(e->key());
    e->stamp_counter_ = stamp.counter;
    e->stamp_node_ = stamp.node;
    if (leaves_) Fold(e, HashOf(e->key()));
    SignalKey(e->key());
  }
  // Creates a copy of `src` (any database or shard) under `key`, replacing
  // what is there. Keeps src's TTL unless `drop_ttl`.
  Entry* CopyFrom(std::string_view key, const Entry& src, crdt::Stamp stamp, bool drop_ttl);

  // `lazy`: a big collection is freed in the background
  // (node/storage/lazyfree.h).
  bool Delete(std::string_view key, bool lazy = false);
  void Clear(bool lazy = false);

  // Set on the shard's thread (or in the exclusive section) while a
  // background snapshot runs; null otherwise.
  void set_snapshot_hook(SnapshotHook* hook) { snapshot_hook_ = hook; }
  // A key's entry, expired or not, without moving any bucket of an
  // incremental rehash (safe while a caller holds a bucket reference).
  const Entry* Peek(std::string_view key) const;

  // One SCAN step over buckets; returns the next cursor (0 when done).
  uint64_t Scan(uint64_t cursor, const std::function<void(const Entry&)>& fn) const;
  // A uniformly-ish random live key, or nullptr when empty.
  Entry* RandomEntry(int64_t now_ms);
  // A random key with a TTL (expired or not), or nullptr when none.
  Entry* RandomVolatile() {
    if (volatile_.empty()) return nullptr;
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return volatile_[rng_ % volatile_.size()];
  }
  void ForEach(const std::function<void(const Entry&)>& fn) const;

  // One bounded round of active expiry (Redis's activeExpireCycle): samples
  // keys with a TTL and deletes the expired ones, repeating while more than a
  // quarter of a sample had expired and time remains. Returns keys deleted.
  size_t ActiveExpire(int64_t now_ms, int64_t deadline_us);

  // Moves buckets to the new table for about `budget_us` microseconds (the
  // cron's share of incremental rehashing), starting a shrink first if the
  // table is oversized. Returns true while still rehashing.
  bool RehashFor(int64_t budget_us);
  bool rehashing() const { return rehash_idx_ >= 0; }
  size_t bucket_count() const { return table_[0].size() + table_[1].size(); }
  uint64_t expired_keys = 0;  // lazily or actively expired, for INFO

  // Merkle leaves (anti-entropy). Each key falls in leaf
  // StableHash64(key) % kLeaves; a leaf's digest is the XOR of its keys'
  // digests (key, stamp, counter contributions), updated on every change,
  // so two replicas with the same data have the same leaves and reading
  // them costs nothing. Leaves of an empty database are all zero.
  static constexpr int kLeafBits = 16;
  static constexpr uint32_t kLeaves = 1u << kLeafBits;
  static uint32_t LeafOf(uint64_t key_hash) { return key_hash & (kLeaves - 1); }
  static uint32_t LeafOfKey(std::string_view key) { return LeafOf(HashOf(key)); }
  uint64_t leaf(uint32_t i) const { return leaves_ ? leaves_[i] : 0; }
  bool has_leaves() const { return leaves_ != nullptr; }
  // The digest of one entry as it counts in its leaf.
  static uint64_t DigestOf(const Entry& e) { return DigestOf(e, HashOf(e.key())); }
  static uint64_t DigestOf(const Entry& e, uint64_t key_hash);
  // DigestOf plus a merged HyperLogLog's parts: what the leaves hold.
  uint64_t Digest(const Entry& e) const { return Digest(e, HashOf(e.key())); }
  uint64_t Digest(const Entry& e, uint64_t key_hash) const;
  // Starts keeping leaves (one pass over the keys); a standalone node never
  // pays for them.
  void EnableMerkle();
  // With placement, per peer leaves over only the keys both this node and
  // that peer replicate (ring replicas; extra hot-key copies are not
  // counted), so two nodes holding different key sets still compare equal
  // where they share keys. Set on the shard's thread; rebuilds the leaves
  // in one pass. `ring` null or full: only the all-keys leaves.
  void SetRing(std::shared_ptr<const Ring> ring, uint32_t self);
  // The leaf of keys shared with `peer` (the all-keys leaf without
  // placement).
  uint64_t shared_leaf(uint32_t peer, uint32_t i) const {
    if (!ring_) return leaf(i);
    auto it = peer_leaves_.find(peer);
    return it == peer_leaves_.end() ? 0 : it->second[i];
  }
  bool placed() const { return ring_ != nullptr; }
  // Whether `key` counts in the leaves shared with `peer`.
  bool Shared(std::string_view key, uint32_t peer) const;
  void EraseTomb(std::string_view key) { tombs_.erase(absl::string_view(key.data(), key.size())); }
  // Calls fn for every entry in leaf `leaf`, visiting only the buckets that
  // can hold it (a leaf is a residue of the table index).
  void ForEachInLeaf(uint32_t leaf, const std::function<void(const Entry&)>& fn) const;

  // Tombstones, kept only on nodes that replicate (see crdt/tombstone.h).
  // The flush tombstone is FLUSHDB/FLUSHALL: it covers every key at once.
  crdt::Tombstone* FindTomb(std::string_view key) {
    if (tombs_.empty()) return nullptr;
    auto it = tombs_.find(absl::string_view(key.data(), key.size()));
    return it == tombs_.end() ? nullptr : &it->second;
  }
  crdt::Tombstone& TombFor(std::string_view key) {
    return tombs_[absl::string_view(key.data(), key.size())];
  }
  const crdt::Tombstone* flush_tomb() const { return has_flush_tomb_ ? &flush_tomb_ : nullptr; }
  crdt::Tombstone& MutableFlushTomb() {
    has_flush_tomb_ = true;
    return flush_tomb_;
  }
  size_t tomb_count() const { return tombs_.size() + (has_flush_tomb_ ? 1 : 0); }
  // Drops the tombstones every replica has seen past (causal stability:
  // every member applied every write at or below `stable` from every
  // origin, so no write a tombstone covers or outranks can still arrive).
  // Returns how many went.
  size_t CollectTombs(uint64_t stable);
  // A write that expired (here, or in transit) stays the key's greatest
  // write: a smaller concurrent write arriving later must not take the key
  // back. Recorded as a tombstone's max_dead on replicating nodes, where it
  // is collected like any tombstone.
  void RememberDead(std::string_view key, crdt::Stamp stamp);
  template <typename F>
  void ForEachTomb(F fn) const {
    for (const auto& [key, t] : tombs_) fn(std::string_view(key), t);
  }
  void ClearTombs() { tombs_.clear(); }

 private:
  static uint64_t HashOf(std::string_view key);
  void Fold(const Entry* e, uint64_t hash);
  void RememberExpired(const Entry& e);
 public:
  // Merges what collection entry `e` has seen into tombstone `t` (the key's
  // memory once the collection is gone).
  static void RememberContext(const Entry& e, crdt::Tombstone* t);
 private:
  void Unfold(const Entry* e, uint64_t hash) { Fold(e, hash); }  // XOR is its own inverse
  Entry** FindRef(std::string_view key, uint64_t hash);
  Entry* Allocate(std::string_view key, size_t val_len, bool with_expire);
  void Unlink(Entry** ref, bool lazy = false);
  static void FreeEntry(Entry* e, bool lazy = false);
  void VolatileAdd(Entry* e);
  void VolatileRemove(Entry* e);
  void MaybeGrow();
  void MaybeShrink();
  // Starts moving entries into a table of `new_buckets` buckets.
  void StartRehash(size_t new_buckets);
  // Moves up to `n` non-empty buckets (visiting at most 10n empty ones).
  void RehashStep(int n);

  // As Redis's dict: table_[0] is the live table; while rehashing, entries
  // move bucket by bucket into table_[1], a few per operation and more from
  // the cron, so no single command pays for a whole resize. Buckets of
  // table_[0] below rehash_idx_ are already empty.
  std::vector<Entry*> table_[2];
  SnapshotHook* snapshot_hook_ = nullptr;
  int64_t rehash_idx_ = -1;
  size_t size_ = 0;
  std::vector<Entry*> volatile_;  // entries with a TTL, for sampling
  std::unique_ptr<uint64_t[]> leaves_;  // kLeaves digests, allocated on first write
  std::shared_ptr<const Ring> ring_;    // partial placement only
  uint32_t self_ = 0;
  absl::flat_hash_map<uint32_t, std::unique_ptr<uint64_t[]>> peer_leaves_;
  void FoldPeers(const Entry* e, uint64_t hash, uint64_t digest);
  absl::flat_hash_map<std::string, crdt::Tombstone> tombs_;
  absl::flat_hash_map<std::string, HllState> hll_;  // merged HyperLogLogs
  void TouchWatched(std::string_view key);
  absl::flat_hash_map<std::string, std::vector<std::weak_ptr<WatchFlag>>> watchers_;
  uint64_t watch_calls_ = 0;
  int index_ = 0;
  absl::flat_hash_set<std::string> waited_;
  std::vector<std::string> ready_;
  crdt::Tombstone flush_tomb_;
  bool has_flush_tomb_ = false;
  uint64_t rng_ = 0x9E3779B97F4A7C15ULL;
};

// Canonical int64 parsing as Redis's string2ll (no spaces, no '+', no
// leading zeros, "-0" rejected).
bool ParseInt64(std::string_view s, int64_t* out);
// Formats v into buf (>= 21 bytes), returns the length.
size_t FormatInt64(int64_t v, char* buf);

}  // namespace lattice::node

#endif  // LATTICE_NODE_STORAGE_KEYSPACE_H_
