// File: node/storage/collection.h
//
// The value of a collection key (hash, set): an observed-remove map from
// crdt/or_map.h plus the key-level CRDT metadata every collection carries:
// its causal context (which writes it has seen), a floor (element writes
// stamped below it are dead: the key was a string, or flushed, in between)
// and the stamp of its TTL (an LWW register). An Entry of a collection type
// points to one of these (see keyspace.h).
//
// The encoding is the name Redis would report for the same contents and
// settings (listpack, intset, hashtable), with Redis's one-way conversion:
// a collection that outgrew its compact form keeps the hash table form.
// The compact forms keep Redis's element order (insertion order for
// listpack, ascending integers for intset), so replies match byte for
// byte; the hash table form has no defined order, as in Redis.
//
// Thread-safety: owned by the Entry, used on the shard's thread.
#ifndef LATTICE_NODE_STORAGE_COLLECTION_H_
#define LATTICE_NODE_STORAGE_COLLECTION_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "crdt/causal_context.h"
#include "crdt/or_map.h"
#include "crdt/stamp.h"

namespace lattice::peer {
class Elements;
}

namespace lattice::node {

enum class ObjType : uint8_t { kString = 0, kHash = 1, kSet = 2, kZset = 3, kList = 4,
                             kStream = 5 };

// Redis's encoding names for collections.
enum class CollEnc : uint8_t { kListpack, kHashtable, kIntset, kSkiplist, kQuicklist, kStream };
std::string_view CollEncName(CollEnc enc);

// Redis's conversion thresholds (CONFIG SET hash-max-listpack-entries and
// friends). Read by every shard; written by CONFIG SET.
struct EncodingLimits {
  std::atomic<int64_t> hash_max_listpack_entries{128};
  std::atomic<int64_t> hash_max_listpack_value{64};
  std::atomic<int64_t> set_max_intset_entries{512};
  // Sorted sets (node/storage/zset.h).
  std::atomic<int64_t> zset_max_listpack_entries{128};
  std::atomic<int64_t> zset_max_listpack_value{64};
};
extern EncodingLimits g_encoding_limits;

// Stable (cross-node) digest of one element, for the Merkle leaves.
struct ElementDigest {
  static uint64_t Of(const crdt::OrElement<crdt::CompactString>& e);
  static uint64_t Of(const crdt::OrElement<crdt::NoValue>& e);
};

using HashMap = crdt::OrMap<crdt::CompactString, ElementDigest>;
using SetMap = crdt::OrMap<crdt::NoValue, ElementDigest>;

class Collection {
 public:
  explicit Collection(ObjType type, CollEnc enc) : type_(type), enc_(enc) {}
  virtual ~Collection() = default;
  Collection(const Collection&) = default;

  ObjType type() const { return type_; }
  CollEnc enc() const { return enc_; }
  void set_enc(CollEnc enc) { enc_ = enc; }

  virtual size_t size() const = 0;
  virtual uint64_t digest() const = 0;
  virtual void EnableDigest() = 0;
  virtual size_t MemoryUsage() const = 0;
  virtual std::unique_ptr<Collection> Clone() const = 0;
  // Drops the element versions `dead` names; returns true if any went.
  virtual bool DropIf(const std::function<bool(const crdt::Stamp&)>& dead) = 0;
  // Applies the element operations of a remote delta stamped `dot`
  // (REQUIRES: ctx() has not seen it; the caller records it afterwards).
  virtual bool ApplyOps(const peer::Elements& m, crdt::Stamp dot) = 0;
  // Merges a whole remote state (m.state()): elements against contexts.
  virtual bool MergeState(const peer::Elements& m, const crdt::CausalContext& their_ctx) = 0;
  // Writes the elements of this collection into m (a whole state).
  virtual void StateToProto(peer::Elements* m) const = 0;
  // Converts to the hash table form if the contents outgrew the compact one.
  virtual void Normalize() = 0;
  // Makes every element a single version written at `dot` with its visible
  // value (COPY, RENAME: the copy is a new write). Clears the context.
  virtual void Restamp(crdt::Stamp dot) = 0;

  crdt::CausalContext ctx;
  crdt::Stamp floor{};      // element versions with a smaller dot are dead
  crdt::Stamp ttl_stamp{};  // the stamp of the last TTL change (EXPIRE, PERSIST)

 private:
  ObjType type_;
  CollEnc enc_;
};

class HashObject final : public Collection {
 public:
  HashObject() : Collection(ObjType::kHash, CollEnc::kListpack) {}
  size_t size() const override { return map.size(); }
  uint64_t digest() const override { return map.digest(); }
  void EnableDigest() override { map.EnableDigest(); }
  size_t MemoryUsage() const override { return sizeof(*this) + map.MemoryUsage(); }
  std::unique_ptr<Collection> Clone() const override {
    return std::make_unique<HashObject>(*this);
  }
  bool DropIf(const std::function<bool(const crdt::Stamp&)>& dead) override {
    return map.DropIf(dead) > 0;
  }
  bool ApplyOps(const peer::Elements& m, crdt::Stamp dot) override;
  bool MergeState(const peer::Elements& m, const crdt::CausalContext& their_ctx) override;
  void StateToProto(peer::Elements* m) const override;
  void Normalize() override;
  void Restamp(crdt::Stamp dot) override;
  // Whether a field or value of this length forces the hash table form.
  static bool TooLong(size_t len) {
    return static_cast<int64_t>(len) > g_encoding_limits.hash_max_listpack_value.load();
  }

  // The visible value of element i (its greatest version, plus the counter
  // increments on it). `buf` holds at least 21 bytes.
  std::string_view Value(size_t i, char* buf) const;

  HashMap map;
};

class SetObject final : public Collection {
 public:
  SetObject() : Collection(ObjType::kSet, CollEnc::kIntset) {}
  size_t size() const override { return map.size(); }
  uint64_t digest() const override { return map.digest(); }
  void EnableDigest() override { map.EnableDigest(); }
  size_t MemoryUsage() const override { return sizeof(*this) + map.MemoryUsage(); }
  std::unique_ptr<Collection> Clone() const override { return std::make_unique<SetObject>(*this); }
  bool DropIf(const std::function<bool(const crdt::Stamp&)>& dead) override {
    return map.DropIf(dead) > 0;
  }
  bool ApplyOps(const peer::Elements& m, crdt::Stamp dot) override;
  bool MergeState(const peer::Elements& m, const crdt::CausalContext& their_ctx) override;
  void StateToProto(peer::Elements* m) const override;
  void Normalize() override;
  void Restamp(crdt::Stamp dot) override;

  // Where a new member goes: in an intset, its place in ascending order;
  // otherwise at the end. Converts to the hash table form first if the
  // member or the new size does not fit an intset.
  size_t PlaceFor(std::string_view member);

  SetMap map;
};

// An empty collection of `type` (a replica creating a key from a delta).
// Sorted sets are ZsetObject, in node/storage/zset.h.
std::unique_ptr<Collection> NewCollection(ObjType type);

// An intset member: a canonical int64 (Redis's string2ll) sorts by value.
bool SetMemberInt(std::string_view s, int64_t* v);

}  // namespace lattice::node

#endif  // LATTICE_NODE_STORAGE_COLLECTION_H_
