// File: node/write_path.h
//
// The write path's product: a Delta describes the CRDT state one command
// changed on one key, stamped with the node's Lamport clock. Every mutating
// command emits its deltas through its shard; standalone they are counted
// and dropped, with peers they are shipped to the key's replicas (see
// docs/architecture.md, "Write path").
//
// Thread-safety: a Delta is a view valid only during Emit(); a sink that
// keeps it must copy. Each shard has its own sink, called on the shard's
// thread or from the exclusive section (multi-shard MSET/RENAME/COPY,
// FLUSHALL) while that thread is paused, so calls never overlap.
#ifndef LATTICE_NODE_WRITE_PATH_H_
#define LATTICE_NODE_WRITE_PATH_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"

#include "crdt/pn_counter.h"
#include "crdt/stamp.h"
#include "crdt/tombstone.h"

namespace lattice::peer {
class Delta;
}  // namespace lattice::peer

namespace lattice::node {

// One element-level change of a collection command (proto ElementOp).
struct ElementOp {
  enum class Kind : uint8_t { kPut, kRemove, kIncrement };
  Kind kind;
  std::string_view element;
  std::string_view value;                       // kPut; kIncrement: the base's value
  absl::InlinedVector<crdt::Stamp, 1> replaced;  // kPut, kRemove: versions observed
  crdt::PnCounter::Delta counter{};             // kIncrement
  uint32_t sub = 0;  // kPut: the version's dot is the delta's stamp with this sub
};

// What one collection command changed on one key (proto Elements).
struct ElementsDelta {
  uint8_t type = 0;      // the key's ObjType
  uint64_t prev = 0;     // this node's previous write to the key
  std::vector<ElementOp> ops;
  bool ttl = false;      // a TTL change: Delta.expire_at under Delta.stamp
};

struct Delta {
  enum class Kind : uint8_t {
    kAssign,      // LWW register write: value + expiry, stamped
    kCounterAdd,  // PN-counter contribution of this node against a base
    kDelete,      // a delete (empty key: FLUSHDB, or FLUSHALL when db < 0)
    kElements,    // a collection's element-level change, dotted by `stamp`
  };
  Kind kind;
  int db;
  std::string_view key;
  crdt::Stamp stamp;
  std::string_view value;                           // kAssign
  int64_t expire_at = -1;                           // kAssign, kExpire
  bool hll = false;                                 // kAssign of PFADD / PFMERGE
  crdt::Stamp hll_floor{};                          // kAssign with hll
  const crdt::PnCounter::Delta* counter = nullptr;  // kCounterAdd
  crdt::Stamp killed{};                             // kDelete: the value it removed
  const crdt::Tombstone* tomb = nullptr;            // kDelete, set by the shard
  // kDelete of a collection: what it had seen, which the delete covers too.
  const crdt::Tombstone* observed = nullptr;
  const ElementsDelta* elements = nullptr;          // kElements
};

// Set on a worker thread while it runs a command forwarded by another node:
// the writes that node's clients had seen acknowledged on other replicas
// (ForwardRequest.seen). A delete's tombstone covers them too. Null
// otherwise.
extern thread_local const crdt::VersionVector* tls_forwarded_seen;

class DeltaSink {
 public:
  virtual ~DeltaSink() = default;
  virtual void Emit(const Delta& delta) = 0;
  // Called by each worker once per event-loop iteration: deltas emitted
  // since the last call may go out now (lets the sink batch them).
  virtual void Flush() {}
  // The tombstone a local delete stamped `stamp` leaves: it covers every
  // write this node has seen.
  virtual crdt::Tombstone NewTombstone(crdt::Stamp stamp) = 0;
  // Whether a local delete's tombstone is kept on the shard: peers' writes
  // may still arrive that it must cover. A node with no peers (its sink is
  // the append-only log alone) keeps none.
  virtual bool KeepsTombstones() const { return true; }
  // A delta from outside (a peer, a repair) that changed this shard's
  // state, called on the shard's thread: the append-only log keeps it.
  virtual void Applied(const peer::Delta& /*delta*/) {}
  // A key evicted here (maxmemory), holding a value stamped `stamp`: not a
  // delete, so peers never hear of it; the append-only log notes it, so a
  // replay does not bring the key back.
  virtual void Evicted(int /*db*/, std::string_view /*key*/, crdt::Stamp /*stamp*/) {}
};

}  // namespace lattice::node

#endif  // LATTICE_NODE_WRITE_PATH_H_
