#include "node/storage/keyspace.h"

#include "node/memory.h"
#include "node/notify.h"

#include <malloc.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <memory>
#include <cstdlib>
#include <optional>

#include "absl/hash/hash.h"
#include "node/storage/lazyfree.h"
#include "node/storage/stable_hash.h"

namespace lattice::node {

namespace {

constexpr size_t kInitialBuckets = 4;

uint64_t NowMicros() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

// Reverses the bits of v (for the SCAN cursor).
uint64_t Rev(uint64_t v) {
  v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
  v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
  v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
  v = ((v >> 8) & 0x00FF00FF00FF00FFULL) | ((v & 0x00FF00FF00FF00FFULL) << 8);
  v = ((v >> 16) & 0x0000FFFF0000FFFFULL) | ((v & 0x0000FFFF0000FFFFULL) << 16);
  return (v >> 32) | (v << 32);
}

}  // namespace

bool ParseInt64(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  size_t i = 0;
  bool neg = false;
  if (s[0] == '-') {
    neg = true;
    i = 1;
    if (s.size() == 1) return false;
  }
  if (s[i] == '0') {
    if (s.size() == 1) {
      *out = 0;
      return true;
    }
    return false;  // leading zero or "-0"
  }
  uint64_t v = 0;
  for (; i < s.size(); i++) {
    unsigned d = static_cast<unsigned char>(s[i]) - '0';
    if (d > 9) return false;
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  if (neg) {
    if (v > uint64_t(INT64_MAX) + 1) return false;
    *out = static_cast<int64_t>(0 - v);
  } else {
    if (v > uint64_t(INT64_MAX)) return false;
    *out = static_cast<int64_t>(v);
  }
  return true;
}

size_t FormatInt64(int64_t v, char* buf) {
  char tmp[24];
  char* p = tmp + sizeof tmp;
  uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  do {
    *--p = char('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) *--p = '-';
  size_t n = tmp + sizeof tmp - p;
  std::memcpy(buf, p, n);
  return n;
}

int64_t Entry::int_value() const {
  if (enc_ == uint8_t(Enc::kCounter)) return counter()->value();
  int64_t v;
  std::memcpy(&v, Data() + key_len_, sizeof v);
  return v;
}

std::string_view Entry::StringValue(char* buf) const {
  if (!is_int()) return bytes();
  return {buf, FormatInt64(int_value(), buf)};
}

StringValue StringValue::Encode(std::string_view s) {
  int64_t v;
  if (s.size() <= 20 && ParseInt64(s, &v)) return Int(v);
  return {s.size() <= 44 ? Enc::kEmbstr : Enc::kRaw, s, 0, nullptr};
}

Db::Db() { table_[0].assign(kInitialBuckets, nullptr); }

Db::~Db() { Clear(); }

uint64_t Db::HashOf(std::string_view key) { return StableHash64(key); }

uint64_t Db::DigestOf(const Entry& e, uint64_t key_hash) {
  uint64_t d = Mix64(key_hash ^ Mix64(e.stamp_counter_ * 0x9E3779B97F4A7C15ULL ^
                                      (uint64_t(e.stamp_node_) << 1)));
  if (e.enc() == Enc::kCounter) {
    // Order-independent over contributions.
    uint64_t sum = 0;
    for (const auto& c : e.counter()->contributions()) {
      sum += Mix64(Mix64(c.node + 0x100000000ULL) ^ Mix64(c.p) * 3 ^ Mix64(~c.n) ^
                   Mix64(c.epoch) * 5);
    }
    d ^= Mix64(sum + 1);
  } else if (e.enc() == Enc::kObject) {
    d ^= Mix64(e.collection()->digest() + uint64_t(e.type()) * 0x2545F4914F6CDD1DULL);
  }
  return d;
}

uint64_t HllState::Digest() const {
  uint64_t sum = Mix64(floor.counter * 0x9E3779B97F4A7C15ULL ^ (uint64_t(floor.node) << 1) ^ 7);
  for (const HllPart& p : parts) {
    sum += Mix64(p.stamp.counter * 0xC2B2AE3D27D4EB4FULL ^ (uint64_t(p.stamp.node) << 1));
  }
  return Mix64(sum + parts.size());
}

uint64_t Db::Digest(const Entry& e, uint64_t key_hash) const {
  uint64_t d = DigestOf(e, key_hash);
  if (e.hll_merged()) {
    if (const HllState* h = FindHll(e.key())) d ^= h->Digest();
  }
  return d;
}

void Db::Fold(const Entry* e, uint64_t hash) {
  if (!leaves_) return;
  uint64_t d = Digest(*e, hash);
  leaves_[LeafOf(hash)] ^= d;
  if (ring_) FoldPeers(e, hash, d);
}

void Db::FoldPeers(const Entry* e, uint64_t hash, uint64_t digest) {
  const std::vector<uint32_t>& reps = ring_->ReplicasAtPoint(Ring::PointOf(e->key(), hash));
  if (std::find(reps.begin(), reps.end(), self_) == reps.end()) return;
  for (uint32_t peer : reps) {
    if (peer == self_) continue;
    auto& leaves = peer_leaves_[peer];
    if (!leaves) leaves.reset(new uint64_t[kLeaves]());
    leaves[LeafOf(hash)] ^= digest;
  }
}

void Db::SetRing(std::shared_ptr<const Ring> ring, uint32_t self) {
  if (ring && ring->full()) ring.reset();
  ring_ = std::move(ring);
  self_ = self;
  peer_leaves_.clear();
  if (!ring_ || !leaves_) return;
  ForEach([&](const Entry& e) {
    uint64_t h = HashOf(e.key());
    FoldPeers(&e, h, Digest(e, h));
  });
}

bool Db::Shared(std::string_view key, uint32_t peer) const {
  if (!ring_) return true;
  const std::vector<uint32_t>& reps = ring_->ReplicasAtPoint(Ring::PointOf(key, HashOf(key)));
  return std::find(reps.begin(), reps.end(), self_) != reps.end() &&
         std::find(reps.begin(), reps.end(), peer) != reps.end();
}

void Db::EnableMerkle() {
  if (leaves_) return;
  leaves_.reset(new uint64_t[kLeaves]());
  ForEach([&](const Entry& e) {
    if (e.is_collection()) e.collection()->EnableDigest();
    Fold(&e, HashOf(e.key()));
  });
}

void Db::RememberExpired(const Entry& e) {
  if (!leaves_) return;  // standalone: nobody sends late writes
  crdt::Tombstone& t = TombFor(e.key());
  if (e.is_collection()) {
    RememberContext(e, &t);
    return;
  }
  t.max_dead = std::max(t.max_dead, e.stamp());
}

void Db::RememberContext(const Entry& e, crdt::Tombstone* t) {
  // A collection that goes keeps what it had seen: a late copy of an
  // element it held (or had removed) must not bring it back. Its elements'
  // writes are not "killed" in the string sense: a concurrent add survives.
  const crdt::CausalContext& ctx = e.collection()->ctx;
  t->Merge(ctx.ToTombstone());
  t->max_dead = std::max(t->max_dead, e.collection()->floor);
  if (t->outranks < e.stamp()) {
    t->outranks = e.stamp();
    t->outranks_type = static_cast<uint8_t>(e.type());
  }
  crdt::Stamp newest{};
  for (const auto& h : ctx.vv().entries()) newest = std::max(newest, crdt::Stamp{h.counter, h.node});
  for (const auto& c : ctx.cloud()) newest = std::max(newest, c.dot);
  t->stamp = std::max(t->stamp, newest);
}

void Db::RememberDead(std::string_view key, crdt::Stamp stamp) {
  if (!leaves_) return;
  crdt::Tombstone& t = TombFor(key);
  t.max_dead = std::max(t.max_dead, stamp);
}

size_t Db::CollectTombs(uint64_t stable) {
  size_t n = 0;
  for (auto it = tombs_.begin(); it != tombs_.end();) {
    const crdt::Tombstone& t = it->second;
    bool done = t.stamp.counter <= stable && t.max_dead.counter <= stable &&
                t.outranks.counter <= stable;
    for (const crdt::Stamp& d : t.dots) done = done && d.counter <= stable;
    if (done) {
      tombs_.erase(it++);
      n++;
    } else {
      ++it;
    }
  }
  if (has_flush_tomb_ && flush_tomb_.stamp.counter <= stable) {
    has_flush_tomb_ = false;
    flush_tomb_ = crdt::Tombstone{};
    n++;
  }
  return n;
}

void Db::SetStamp(Entry* e, crdt::Stamp stamp) {
  Touch(e->key());
  uint64_t h = HashOf(e->key());
  Unfold(e, h);
  if (e->hll_merged()) {
    hll_.erase(absl::string_view(e->key().data(), e->key().size()));
    e->flags_ &= ~Entry::kHllMerged;
  }
  e->stamp_counter_ = stamp.counter;
  e->stamp_node_ = stamp.node;
  Fold(e, h);
}

void Db::ForEachInLeaf(uint32_t leaf, const std::function<void(const Entry&)>& fn) const {
  for (const auto& table : table_) {
    size_t size = table.size();
    if (size == 0) continue;
    if (size >= kLeaves) {
      for (size_t b = leaf; b < size; b += kLeaves) {
        for (Entry* e = table[b]; e; e = e->next_) fn(*e);
      }
    } else {
      for (Entry* e = table[leaf & (size - 1)]; e; e = e->next_) {
        if (LeafOfKey(e->key()) == leaf) fn(*e);
      }
    }
  }
}

Entry** Db::FindRef(std::string_view key, uint64_t hash) {
  if (rehashing()) RehashStep(1);
  Entry** ref = nullptr;
  for (int t = 0; t <= (rehashing() ? 1 : 0); t++) {
    std::vector<Entry*>& table = table_[t];
    size_t idx = hash & (table.size() - 1);
    if (t == 0 && rehashing() && int64_t(idx) < rehash_idx_) continue;  // moved already
    ref = &table[idx];
    while (*ref) {
      Entry* e = *ref;
      if (e->key_len_ == key.size() && std::memcmp(e->Data(), key.data(), key.size()) == 0) {
        return ref;
      }
      ref = &e->next_;
    }
  }
  // Not found: the tail of the chain new keys go to (the new table while
  // rehashing, since it is searched last).
  return ref;
}

const Entry* Db::Peek(std::string_view key) const {
  uint64_t hash = HashOf(key);
  for (int t = 0; t <= (rehashing() ? 1 : 0); t++) {
    const std::vector<Entry*>& table = table_[t];
    if (table.empty()) continue;
    size_t idx = hash & (table.size() - 1);
    if (t == 0 && rehashing() && int64_t(idx) < rehash_idx_) continue;
    for (const Entry* e = table[idx]; e; e = e->next_) {
      if (e->key_len_ == key.size() && std::memcmp(e->Data(), key.data(), key.size()) == 0) {
        return e;
      }
    }
  }
  return nullptr;
}

Entry* Db::FindRaw(std::string_view key) { return *FindRef(key, HashOf(key)); }

Entry* Db::Find(std::string_view key, int64_t now_ms) {
  Entry** ref = FindRef(key, HashOf(key));
  Entry* e = *ref;
  if (e && e->has_expire() && e->expire_at() <= now_ms) {
    RememberExpired(*e);
    std::string key_copy;
    if (g_notify_flags.load(std::memory_order_relaxed)) key_copy = std::string(e->key());
    if (e->type() == ObjType::kStream) SignalKey(e->key());  // as Delete
    Unlink(ref);
    expired_keys++;
    MaybeShrink();
    if (!key_copy.empty()) NotifyKeyspaceEvent(kNotifyExpired, "expired", key_copy, index_);
    return nullptr;
  }
  return e;
}

Entry* Db::Allocate(std::string_view key, size_t val_len, bool with_expire) {
  size_t size =
      offsetof(Entry, data_) + (with_expire ? Entry::kExpireSize : 0) + key.size() + val_len;
  // The header's sizeof includes tail padding past data_: never allocate
  // less than the object the placement new below constructs.
  size = std::max(size, sizeof(Entry));
  void* mem = mem::Malloc(size);
  if (!mem) std::abort();
  Entry* e = new (mem) Entry;
  e->next_ = nullptr;
  e->key_len_ = static_cast<uint32_t>(key.size());
  e->val_len_ = static_cast<uint32_t>(val_len);
  e->type_ = uint8_t(ObjType::kString);
  e->enc_ = uint8_t(Enc::kRaw);
  e->flags_ = with_expire ? Entry::kHasExpire : 0;
  e->lru_ = 0;
  std::memcpy(e->Data(), key.data(), key.size());
  return e;
}

void Db::FreeEntry(Entry* e, bool lazy) {
  if (lazy && e->enc() == Enc::kObject && e->collection()->size() > lazyfree::kThreshold) {
    Collection* c = e->collection();
    lazyfree::Submit([c] { delete c; }, 1);
    mem::Free(e);
    return;
  }
  if (e->enc() == Enc::kCounter) delete e->counter();
  if (e->enc() == Enc::kObject) delete e->collection();
  mem::Free(e);
}

void Db::Unlink(Entry** ref, bool lazy) {
  Entry* e = *ref;
  Touch(e->key());
  Unfold(e, HashOf(e->key()));
  if (e->hll_merged()) hll_.erase(absl::string_view(e->key().data(), e->key().size()));
  *ref = e->next_;
  if (e->has_expire()) VolatileRemove(e);
  FreeEntry(e, lazy);
  size_--;
}

void Db::VolatileAdd(Entry* e) {
  e->set_volatile_index(static_cast<uint32_t>(volatile_.size()));
  volatile_.push_back(e);
}

void Db::VolatileRemove(Entry* e) {
  uint32_t i = e->volatile_index();
  Entry* last = volatile_.back();
  volatile_[i] = last;
  last->set_volatile_index(i);
  volatile_.pop_back();
}

Entry* Db::SetString(std::string_view key, const StringValue& v, crdt::Stamp stamp,
                     int64_t expire_at, uint32_t lru) {
  Touch(key);
  if (!tombs_.empty() && v.enc != Enc::kObject) {
    // A write stamped above a tombstone (and above what it killed) makes it
    // useless: every write it covers is smaller and loses to this one.
    auto it = tombs_.find(absl::string_view(key.data(), key.size()));
    if (it != tombs_.end() && it->second.stamp < stamp && it->second.max_dead < stamp) {
      tombs_.erase(it);
    }
  }
  uint64_t hash = HashOf(key);
  Entry** ref = FindRef(key, hash);
  Entry* old = *ref;
  bool replaced_stream = old && old->type() == ObjType::kStream;
  if (expire_at == kKeepTtl) expire_at = (old && old->has_expire()) ? old->expire_at() : -1;
  bool with_expire = expire_at >= 0;
  size_t val_len =
      v.enc == Enc::kInt || v.enc == Enc::kCounter || v.enc == Enc::kObject ? 8 : v.bytes.size();
  Entry* e = Allocate(key, val_len, with_expire);
  e->enc_ = uint8_t(v.enc);
  if (v.enc == Enc::kObject) {
    e->type_ = uint8_t(v.object->type());
    if (leaves_) v.object->EnableDigest();
    std::memcpy(e->mutable_bytes(), &v.object, 8);
  } else if (v.enc == Enc::kInt) {
    std::memcpy(e->mutable_bytes(), &v.integer, 8);
  } else if (v.enc == Enc::kCounter) {
    std::memcpy(e->mutable_bytes(), &v.counter, 8);
  } else if (!v.bytes.empty()) {
    std::memcpy(e->mutable_bytes(), v.bytes.data(), v.bytes.size());
  }
  e->stamp_counter_ = stamp.counter;
  e->stamp_node_ = stamp.node;
  e->lru_ = lru;
  if (with_expire) {
    e->set_expire_raw(expire_at);
  }
  Fold(e, hash);
  if (old) {
    Unfold(old, hash);
    if (old->hll_merged()) hll_.erase(absl::string_view(key.data(), key.size()));
    e->next_ = old->next_;
    *ref = e;
    if (old->has_expire()) VolatileRemove(old);
    FreeEntry(old);
  } else {
    e->next_ = nullptr;
    *ref = e;
    size_++;
  }
  if (with_expire) VolatileAdd(e);
  if (!old) MaybeGrow();
  // A stream replaced by another type wakes its group readers too (they
  // are told the key is gone, as Redis's signalDeletedKeyAsReady).
  if (v.enc == Enc::kObject || replaced_stream) SignalKey(key);
  return e;
}

Entry* Db::SetHll(std::string_view key, std::string_view bytes, crdt::Stamp stamp,
                  int64_t expire_at, uint32_t lru, HllState state) {
  // Unlike a plain write, an HLL part does not outrank the key's older
  // writes (they merge into it), so a delete's tombstone stays: it must
  // still kill the parts it saw that arrive later.
  crdt::Tombstone* t = FindTomb(key);
  std::optional<crdt::Tombstone> kept;
  if (t) kept = *t;
  Entry* e = SetString(key, StringValue{Enc::kRaw, bytes, 0, nullptr}, stamp, expire_at, lru);
  if (kept && !FindTomb(key)) TombFor(key) = std::move(*kept);
  uint64_t h = HashOf(key);
  Unfold(e, h);
  e->flags_ |= Entry::kHllMerged;
  hll_[absl::string_view(key.data(), key.size())] = std::move(state);
  Fold(e, h);
  return e;
}

Entry* Db::ResizeBytes(Entry* e, size_t new_len, crdt::Stamp stamp) {
  size_t header = offsetof(Entry, data_) + (e->has_expire() ? Entry::kExpireSize : 0) + e->key_len_;
  SetStamp(e, stamp);  // the digest covers key and stamp, not the bytes
  e->enc_ = uint8_t(Enc::kRaw);
  if (header + new_len <= malloc_usable_size(e)) {
    e->val_len_ = static_cast<uint32_t>(new_len);
    return e;
  }
  // Grow geometrically so repeated APPENDs cost amortized O(1) per byte,
  // as Redis's sds preallocation does (doubling up to 1 MB, then +1 MB).
  size_t want = new_len;
  if (want < 1024 * 1024) {
    want *= 2;
  } else {
    want += 1024 * 1024;
  }
  Entry** ref = FindRef(e->key(), HashOf(e->key()));
  bool vol = e->has_expire();
  uint32_t vi = vol ? e->volatile_index() : 0;
  Entry* n = static_cast<Entry*>(mem::Realloc(e, std::max(header + want, sizeof(Entry))));
  if (!n) std::abort();
  *ref = n;
  if (vol) volatile_[vi] = n;
  n->val_len_ = static_cast<uint32_t>(new_len);
  return n;
}

Entry* Db::SetExpire(Entry* e, int64_t at) {
  Touch(e->key());
  if (at >= 0 && e->has_expire()) {
    e->set_expire_raw(at);
    return e;
  }
  if (at < 0 && !e->has_expire()) return e;
  // Adding or dropping the TTL changes the layout: rebuild the blob.
  Entry** ref = FindRef(e->key(), HashOf(e->key()));
  bool with = at >= 0;
  size_t val_len = e->val_len_;
  Entry* n = Allocate(e->key(), val_len, with);
  std::memcpy(n->mutable_bytes(), e->Data() + e->key_len_, val_len);
  n->stamp_counter_ = e->stamp_counter_;
  n->stamp_node_ = e->stamp_node_;
  n->lru_ = e->lru_;
  n->type_ = e->type_;
  n->enc_ = e->enc_;
  n->flags_ |= e->flags_ & Entry::kHllMerged;
  n->next_ = e->next_;
  if (e->has_expire()) VolatileRemove(e);
  mem::Free(e);  // payload ownership (counter) moved to n
  *ref = n;
  if (with) {
    n->set_expire_raw(at);
    VolatileAdd(n);
  }
  return n;
}

Entry* Db::CopyFrom(std::string_view key, const Entry& src, crdt::Stamp stamp, bool drop_ttl) {
  if (src.is_collection()) {
    // A copy is a new write: every element is written anew under `stamp`.
    std::unique_ptr<Collection> c = src.collection()->Clone();
    c->Restamp(stamp);
    if (leaves_) {
      // What the key saw before (a removed collection, a string it held)
      // stays dead under the copy.
      if (const crdt::Tombstone* t = FindTomb(key)) {
        c->ctx.MergeTombstone(*t);
        c->floor = std::max(c->floor, t->max_dead);
      }
      if (Entry* old = FindRaw(key)) {
        if (old->is_collection()) {
          c->ctx.Merge(old->collection()->ctx);
        } else {
          c->floor = std::max(c->floor, old->stamp());
        }
      }
    }
    int64_t at = (!drop_ttl && src.has_expire()) ? src.expire_at() : -1;
    return SetString(key, StringValue::Object(c.release()), stamp, at, src.lru());
  }
  StringValue v;
  v.enc = src.enc();
  if (src.is_int()) {
    // A copy is a new assignment: a counter's value becomes its base.
    v.enc = Enc::kInt;
    v.integer = src.int_value();
  } else {
    v.bytes = src.bytes();
  }
  // The source may live in this table: copy the bytes out first if so.
  std::string tmp;
  if (!v.bytes.empty()) {
    tmp.assign(v.bytes);
    v.bytes = tmp;
  }
  int64_t at = (!drop_ttl && src.has_expire()) ? src.expire_at() : -1;
  return SetString(key, v, stamp, at, src.lru());
}

bool Db::Delete(std::string_view key, bool lazy) {
  Entry** ref = FindRef(key, HashOf(key));
  if (!*ref) return false;
  // A deleted stream's group readers are told it is gone (before the
  // unlink: `key` may be the entry's own).
  if ((*ref)->type() == ObjType::kStream) SignalKey(key);
  Unlink(ref, lazy);
  MaybeShrink();
  return true;
}

void Db::Watch(std::string_view key, const std::shared_ptr<WatchFlag>& flag) {
  // Connections that went (or unwatched) leave expired entries behind:
  // sweep them now and then, so the table stays the size of what is
  // watched.
  if (++watch_calls_ % 1024 == 0) {
    for (auto it = watchers_.begin(); it != watchers_.end();) {
      auto& v = it->second;
      v.erase(std::remove_if(v.begin(), v.end(), [](const auto& w) { return w.expired(); }),
              v.end());
      if (v.empty()) {
        watchers_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  watchers_[absl::string_view(key.data(), key.size())].push_back(flag);
}

void Db::TouchWatched(std::string_view key) {
  auto it = watchers_.find(absl::string_view(key.data(), key.size()));
  if (it == watchers_.end()) return;
  for (const auto& w : it->second) {
    if (auto flag = w.lock()) flag->store(true, std::memory_order_relaxed);
  }
  watchers_.erase(it);
}

void Db::Clear(bool lazy) {
  if (snapshot_hook_) snapshot_hook_->BeforeClear(*this);
  // A flush changes the watched keys it removes (not those it did not hold).
  if (!watchers_.empty()) {
    std::vector<std::string> held;
    for (const auto& [key, w] : watchers_) {
      if (FindRaw(key)) held.push_back(key);
    }
    for (const std::string& key : held) TouchWatched(key);
  }
  if (lazy && size_ > 0) {
    // The tables go to the background freer whole; fresh ones take over.
    auto tables = std::make_shared<std::array<std::vector<Entry*>, 2>>();
    (*tables)[0].swap(table_[0]);
    (*tables)[1].swap(table_[1]);
    rehash_idx_ = -1;
    lazyfree::Submit([tables] {
      for (auto& table : *tables) {
        for (Entry* head : table) {
          while (head) {
            Entry* next = head->next_;
            FreeEntry(head);
            head = next;
          }
        }
      }
    }, size_);
  }
  for (auto& table : table_) {
    for (Entry*& head : table) {
      while (head) {
        Entry* next = head->next_;
        FreeEntry(head);
        head = next;
      }
    }
  }
  volatile_.clear();
  volatile_.shrink_to_fit();
  hll_.clear();
  if (leaves_) std::fill(leaves_.get(), leaves_.get() + kLeaves, 0);
  peer_leaves_.clear();
  size_ = 0;
  table_[0].assign(kInitialBuckets, nullptr);
  table_[0].shrink_to_fit();
  table_[1] = {};
  rehash_idx_ = -1;
}

void Db::MaybeGrow() {
  if (!rehashing() && size_ > table_[0].size()) StartRehash(table_[0].size() * 2);
}

void Db::MaybeShrink() {
  // As Redis: shrink when fewer than 10% of buckets would be used.
  if (!rehashing() && table_[0].size() > kInitialBuckets && size_ * 10 < table_[0].size()) {
    size_t n = kInitialBuckets;
    while (n < size_) n *= 2;
    StartRehash(n);
  }
}

void Db::StartRehash(size_t new_buckets) {
  table_[1].assign(new_buckets, nullptr);
  rehash_idx_ = 0;
}

void Db::RehashStep(int n) {
  int empty_visits = n * 10;
  std::vector<Entry*>& from = table_[0];
  std::vector<Entry*>& to = table_[1];
  size_t mask = to.size() - 1;
  while (n-- > 0 && size_t(rehash_idx_) < from.size()) {
    while (size_t(rehash_idx_) < from.size() && from[rehash_idx_] == nullptr) {
      rehash_idx_++;
      if (--empty_visits == 0) return;
    }
    if (size_t(rehash_idx_) >= from.size()) break;
    Entry* e = from[rehash_idx_];
    while (e) {
      Entry* next = e->next_;
      Entry*& slot = to[HashOf(e->key()) & mask];
      e->next_ = slot;
      slot = e;
      e = next;
    }
    from[rehash_idx_++] = nullptr;
  }
  if (size_t(rehash_idx_) >= from.size()) {
    table_[0].swap(table_[1]);
    table_[1] = {};
    rehash_idx_ = -1;
  }
}

bool Db::RehashFor(int64_t budget_us) {
  int64_t deadline = int64_t(NowMicros()) + budget_us;
  while (true) {
    if (!rehashing()) {
      // As Redis's tryResizeHashTables: a table left oversized by a burst of
      // deletes (shrinks start only between rehashes) is resized here.
      MaybeShrink();
      if (!rehashing()) break;
    }
    RehashStep(100);
    if (int64_t(NowMicros()) >= deadline) break;
  }
  return rehashing();
}

uint64_t Db::Scan(uint64_t cursor, const std::function<void(const Entry&)>& fn) const {
  auto visit = [&](const std::vector<Entry*>& table, uint64_t idx) {
    for (const Entry* e = table[idx]; e; e = e->next_) fn(*e);
  };
  // Increments the reversed cursor (Redis's dictScan): high bits first, so
  // buckets visited before a resize map to buckets visited after it.
  auto next = [](uint64_t v, uint64_t mask) {
    v |= ~mask;
    v = Rev(v);
    v++;
    return Rev(v);
  };
  if (!rehashing()) {
    uint64_t mask = table_[0].size() - 1;
    visit(table_[0], cursor & mask);
    return next(cursor, mask);
  }
  // While rehashing, visit the cursor's bucket in the smaller table, then
  // every bucket of the larger table that it expands to.
  const std::vector<Entry*>* small = &table_[0];
  const std::vector<Entry*>* large = &table_[1];
  if (small->size() > large->size()) std::swap(small, large);
  uint64_t m0 = small->size() - 1, m1 = large->size() - 1;
  visit(*small, cursor & m0);
  do {
    visit(*large, cursor & m1);
    cursor = next(cursor, m1);
  } while (cursor & (m0 ^ m1));
  return cursor;
}

void Db::ForEach(const std::function<void(const Entry&)>& fn) const {
  for (const auto& table : table_) {
    for (const Entry* head : table) {
      for (const Entry* e = head; e; e = e->next_) fn(*e);
    }
  }
}

Entry* Db::RandomEntry(int64_t now_ms) {
  for (int tries = 0; size_ > 0 && tries < 100; tries++) {
    Entry* e = nullptr;
    size_t chain = 0;
    // Draw over the live buckets of both tables while rehashing.
    size_t lo = rehashing() ? size_t(rehash_idx_) : 0;
    size_t span = table_[0].size() - lo + table_[1].size();
    while (!e) {
      rng_ ^= rng_ << 13;
      rng_ ^= rng_ >> 7;
      rng_ ^= rng_ << 17;
      size_t i = lo + rng_ % span;
      e = i < table_[0].size() ? table_[0][i] : table_[1][i - table_[0].size()];
    }
    for (Entry* p = e; p; p = p->next_) chain++;
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    for (size_t i = rng_ % chain; i > 0; i--) e = e->next_;
    if (e->has_expire() && e->expire_at() <= now_ms) {
      std::string key(e->key());
      Delete(key);
      expired_keys++;
      NotifyKeyspaceEvent(kNotifyExpired, "expired", key, index_);
      continue;
    }
    return e;
  }
  return nullptr;
}

size_t Db::ActiveExpire(int64_t now_ms, int64_t deadline_us) {
  constexpr int kSample = 20;
  size_t total = 0;
  while (!volatile_.empty()) {
    int expired = 0;
    int sampled = 0;
    for (; sampled < kSample && !volatile_.empty(); sampled++) {
      rng_ ^= rng_ << 13;
      rng_ ^= rng_ >> 7;
      rng_ ^= rng_ << 17;
      Entry* e = volatile_[rng_ % volatile_.size()];
      if (e->expire_at() <= now_ms) {
        RememberExpired(*e);
        std::string key(e->key());
        Delete(key);
        expired++;
        NotifyKeyspaceEvent(kNotifyExpired, "expired", key, index_);
      }
    }
    total += expired;
    expired_keys += expired;
    // Keep going only while the sample says many keys are stale (> 25%).
    if (expired * 4 <= sampled) break;
    if (int64_t(NowMicros()) >= deadline_us) break;
  }
  return total;
}

}  // namespace lattice::node
