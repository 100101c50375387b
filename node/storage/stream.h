// File: node/storage/stream.h
//
// The value of a stream key. The lattice is the observed-remove map of
// crdt/or_map.h (the one hashes use), whose elements are the stream's
// parts, each named by a tag byte and a fixed binary layout:
//
//   'e' id                 an entry; its value is the field/value pairs
//   'm'                    the stream's metadata (last id, max deleted id,
//                          the entries-added offset of XSETID)
//   'n' node               how many entries node `node` added (a G-counter
//                          in elements: only that node writes its own)
//   'g' group              a consumer group (SETID stamp, last delivered
//                          id, entries read)
//   'c' group consumer     a consumer (seen time)
//   'p' group id           a pending entry (delivery time and count, owner)
//
// (ids are 16 bytes big-endian, so they sort as Redis's rax keys do; group
// names carry a 4-byte length.) Every write is a put or a remove of such
// elements, so streams replicate, merge, repair and restamp exactly as
// hashes do: one write path. What a reader sees is derived from the live
// elements by rules that are the same on every node (see
// docs/consistency.md, "Streams"): concurrent versions of 'm' and of a
// consumer merge by maximum, a group takes the version with the greatest
// SETID stamp and then the greatest delivered id, a pending entry or an
// entry takes its greatest version (last writer wins).
//
// Beside the map, ordered indexes of the entries, the groups, their
// pending entries and consumers, kept in step with every change (local or
// remote) so that ranges are O(log n + k).
//
// Thread-safety: owned by the Entry, used on the shard's thread.
#ifndef LATTICE_NODE_STORAGE_STREAM_H_
#define LATTICE_NODE_STORAGE_STREAM_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/container/flat_hash_map.h"
#include "node/storage/collection.h"

namespace lattice::node {

// stream-read-delay (node/config.h), read by every shard.
extern std::atomic<int64_t> g_stream_read_delay;

struct StreamId {
  uint64_t ms = 0;
  uint64_t seq = 0;
  friend auto operator<=>(const StreamId&, const StreamId&) = default;
  bool IsZero() const { return ms == 0 && seq == 0; }
  std::string ToString() const;
  static constexpr StreamId Max() { return {UINT64_MAX, UINT64_MAX}; }
};

// Element names and values (the layouts above).
namespace stream_codec {
std::string EntryName(StreamId id);
std::string GroupName(std::string_view group);
std::string ConsumerName(std::string_view group, std::string_view consumer);
std::string PendingName(std::string_view group, StreamId id);
std::string NodeName(crdt::NodeId node);
inline constexpr std::string_view kMetaName = "m";
// The value of an 'n' or 'c' element: 8 bytes big-endian.
std::string EncodeU64(uint64_t v);
// Field/value pairs, each a varint length and the bytes.
std::string EncodeFields(std::span<const std::string_view> pairs);
// Calls fn(field, value) for each pair; false if the bytes are malformed.
bool DecodeFields(std::string_view bytes,
                  const std::function<void(std::string_view, std::string_view)>& fn);
}  // namespace stream_codec

struct StreamMeta {
  StreamId last_id;
  StreamId max_deleted;
  int64_t added_offset = 0;  // XSETID ENTRIESADDED minus the node counts then
  std::string Encode() const;
  static bool Decode(std::string_view b, StreamMeta* out);
};

struct StreamGroup {
  crdt::Stamp setid{};      // the CREATE or SETID that set last_id
  StreamId last_id;         // last delivered
  int64_t entries_read = -1;  // -1: unknown (Redis's SCG_INVALID_ENTRIES_READ)
  std::string Encode() const;
  static bool Decode(std::string_view b, StreamGroup* out);
};

struct StreamPending {
  int64_t delivery_time = 0;
  int64_t delivery_count = 0;
  std::string consumer;
  std::string Encode() const;
  static bool Decode(std::string_view b, StreamPending* out);
};

// A stream's entries, packed as Redis packs them into listpacks: runs of
// up to kBlockEntries entries in one byte string of at most about
// kBlockBytes, keyed by the id the run started at, so that an entry costs
// little more than its values (ids as varint deltas from the block's
// base, dots as varint deltas from the block's base counter, field names
// kept once per block when entries repeat those of the block's first, as
// Redis's master entry). Each entry
// keeps its versions (one, except after writes of one explicit id on both
// sides of a partition) with their dots: the observed-remove semantics of
// crdt/or_map.h, applied by StreamObject. Appends go to the tail block in
// O(1); an insert or delete elsewhere rewrites one block.
//
// Thread-safety: value type, owned by a StreamObject.
class StreamEntries {
 public:
  struct Version {
    crdt::Stamp dot;
    std::string_view fields;  // the field/value pairs (stream_codec layout)
  };
  using Versions = absl::InlinedVector<Version, 1>;
  // Where the fields of entries stored without their names are rebuilt
  // (a deque: its strings never move).
  using Scratch = std::deque<std::string>;
  static constexpr size_t kBlockEntries = 100;
  static constexpr size_t kBlockBytes = 4096;

  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  StreamId first() const;                   // REQUIRES: !empty()
  StreamId last() const { return last_; }   // REQUIRES: !empty()
  bool Contains(StreamId id) const;
  // Entry `id`'s versions; false if there is no such entry. The views
  // point into the store or into *scratch, valid until the next change.
  bool Get(StreamId id, Versions* out, Scratch* scratch) const;
  // Makes `v` entry `id`'s versions (erases the entry when `v` is empty).
  // `v` may point into this store.
  void Set(StreamId id, const Versions& v);
  // Calls fn(id, versions) for each entry in [start, end], in id order
  // (descending if `rev`), until fn returns false. The views are valid
  // during the call only.
  void Scan(StreamId start, StreamId end, bool rev,
            const std::function<bool(StreamId, const Versions&)>& fn) const;
  // Sum of the entries' digests (as the element map digests its elements).
  uint64_t digest() const { return digest_; }
  size_t MemoryUsage() const;
  size_t blocks() const { return blocks_.size(); }

  static uint64_t DigestOf(StreamId id, const Versions& v);

 private:
  struct Block {
    StreamId last;
    uint64_t base_counter = 0;
    uint32_t count = 0;
    std::string bytes;
    std::string master;  // the field names of the entry that started it
  };
  struct Decoded {
    StreamId id;
    Versions versions;
  };
  using Blocks = absl::btree_map<StreamId, Block>;  // by base id
  static void Encode(const StreamId& base, const Block& b, StreamId id, const Versions& v,
                     std::string* out);
  static void Append(const StreamId& base, Block* b, StreamId id, const Versions& v);
  static void DecodeAll(const StreamId& base, const Block& b, std::vector<Decoded>* out,
                        Scratch* scratch);
  // Re-encodes `recs` (sorted) as blocks from `base` on, replacing `it`.
  void Rewrite(Blocks::iterator it, StreamId base, const std::vector<Decoded>& recs);

  Blocks blocks_;
  size_t count_ = 0;
  StreamId last_;
  uint64_t digest_ = 0;
};

class StreamObject final : public Collection {
 public:
  using Dots = HashMap::Dots;

  // The derived view of one group.
  struct GroupIndex {
    bool live = false;
    absl::btree_map<StreamId, std::string> pel;  // id -> owner
    std::map<std::string, absl::btree_set<StreamId>> consumer_pel;
    std::set<std::string> consumers;  // with a 'c' element
  };

  StreamObject();
  StreamObject(const StreamObject& o) = default;

  size_t size() const override { return map_.size() + entries_.size(); }
  uint64_t digest() const override { return map_.digest() + entries_.digest(); }
  void EnableDigest() override { map_.EnableDigest(); }
  size_t MemoryUsage() const override;
  std::unique_ptr<Collection> Clone() const override {
    return std::make_unique<StreamObject>(*this);
  }
  bool DropIf(const std::function<bool(const crdt::Stamp&)>& dead) override;
  bool ApplyOps(const peer::Elements& m, crdt::Stamp dot) override;
  bool MergeState(const peer::Elements& m, const crdt::CausalContext& their_ctx) override;
  void StateToProto(peer::Elements* m) const override;
  void Normalize() override {}
  void Restamp(crdt::Stamp dot) override;

  const HashMap& map() const { return map_; }

  // ---- local writes: the caller records the returned dots in its delta ----

  // Writes element `name` with one version at `dot`; returns what it
  // replaced (empty for a new element).
  Dots Put(std::string_view name, std::string_view value, crdt::Stamp dot);
  // Removes element `name` if present; returns its versions.
  Dots Remove(std::string_view name);

  // ---- reads ----

  // The top value of element `name` (not an entry), or nullptr.
  const crdt::CompactString* Find(std::string_view name) const;
  const StreamEntries& entries() const { return entries_; }
  size_t length() const { return entries_.size(); }
  bool HasEntry(StreamId id) const { return entries_.Contains(id); }
  StreamId LastEntryId() const { return entries_.empty() ? StreamId{} : entries_.last(); }
  // The field/value bytes of a live entry (empty if none).
  std::string EntryValue(StreamId id) const;
  // Calls fn(id, fields) for the entries in [start, end], in id order
  // (descending if `rev`), until fn returns false. The view is valid
  // during the call only.
  void ScanEntries(StreamId start, StreamId end, bool rev,
                   const std::function<bool(StreamId, std::string_view)>& fn) const;
  // The merged metadata (last_id already includes the top entry).
  StreamMeta Meta() const;
  StreamId LastId() const { return Meta().last_id; }
  // entries-added: the offset plus every node's count.
  int64_t EntriesAdded() const;
  // This node's own count of added entries.
  int64_t NodeCount(crdt::NodeId node) const;
  StreamId FirstId() const { return entries_.empty() ? StreamId{} : entries_.first(); }

  const std::map<std::string, GroupIndex>& groups() const { return groups_; }

  // Redis's radix tree of listpacks, modelled for what it shows: nodes of
  // at most kNodeEntries entries, live and deleted counted, started when
  // the tail node is full, dropped when their last live entry goes. This
  // node's own view (a replica lays out what it received): it decides
  // approximate trims and XINFO's radix-tree-keys.
  struct Node {
    size_t total = 0;
    size_t live = 0;
  };
  static constexpr size_t kNodeEntries = 100;
  const absl::btree_map<StreamId, Node>& nodes() const { return nodes_; }
  // A live group's merged state; false if there is none.
  bool Group(std::string_view name, StreamGroup* out) const;
  bool Pending(std::string_view group, StreamId id, StreamPending* out) const;
  // A consumer's seen time; false if it has no element.
  bool ConsumerSeen(std::string_view group, std::string_view consumer, int64_t* out) const;

 private:
  struct OwnedEntry {
    StreamId id;
    std::vector<std::pair<crdt::Stamp, std::string>> versions;
  };
  // The entry versions for which keep(dot) holds, copied out in id order.
  std::vector<OwnedEntry> TakeEntries(const std::function<bool(const crdt::Stamp&)>& keep) const;
  // Replaces the entries with `entries` (in id order).
  void PutEntries(const std::vector<OwnedEntry>& entries);
  static std::string_view TopFields(const StreamEntries::Versions& v);
  // Brings the derived views in step with element `name` (not an entry);
  // `live` says whether it is in the map (-1: look it up).
  void Reindex(std::string_view name, int live = -1);
  // The node layout after entry `id` appeared (`now`) or went.
  void EntryChanged(StreamId id, bool was, bool now);
  void RebuildIndex();

  HashMap map_;  // every element but the entries
  StreamEntries entries_;
  std::map<std::string, GroupIndex> groups_;
  // The merged 'm' element and the 'n' counts, kept by Reindex so the
  // write path reads them without a lookup.
  absl::btree_map<StreamId, Node> nodes_;  // by first id
  StreamMeta meta_;
  absl::flat_hash_map<crdt::NodeId, int64_t> node_counts_;
  int64_t added_sum_ = 0;
};

}  // namespace lattice::node

#endif  // LATTICE_NODE_STORAGE_STREAM_H_
