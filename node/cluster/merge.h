// File: node/cluster/merge.h
//
// Applying a replicated change to a shard's keyspace: the merge rules of
// docs/consistency.md, one function per kind of change. Each is a join: the
// result depends only on the set of changes applied, never on their order
// or on how often one is repeated. The functions return true if the visible
// state of the key changed.
//
// Local commands do not go through here: a local write's stamp is greater
// than everything the node has seen, so it always wins; only DEL/FLUSH
// record tombstones (RecordDelete, RecordFlush).
//
// Thread-safety: called on the thread that owns the Db.
#ifndef LATTICE_NODE_CLUSTER_MERGE_H_
#define LATTICE_NODE_CLUSTER_MERGE_H_

#include <cstdint>
#include <string_view>

#include "crdt/pn_counter.h"
#include "crdt/stamp.h"
#include "crdt/tombstone.h"
#include "node/storage/keyspace.h"
#include "proto/peer.pb.h"

namespace lattice::node {

// An LWW assignment (SET and every command that rewrites the value, EXPIRE
// included). expire_at < 0: no TTL.
bool MergeAssign(Db& db, std::string_view key, crdt::Stamp stamp, std::string_view value,
                 int64_t expire_at, int64_t now_ms, uint32_t lru);

// A PFADD / PFMERGE result (`value` a HyperLogLog): merges register-wise
// with the key's other HLL writes above its newest plain write; `floor` is
// the writer's newest plain write (docs/consistency.md, "HyperLogLog").
bool MergeHll(Db& db, std::string_view key, crdt::Stamp stamp, std::string_view value,
              int64_t expire_at, crdt::Stamp floor, int64_t now_ms, uint32_t lru);

// The parts of merged HyperLogLog `e` written below `stamp` are dead: a
// write of another kind (a string, a collection) stamped `stamp` that lost
// to newer parts.
void HllLostTo(Db& db, Entry* e, crdt::Stamp stamp, uint32_t lru);

// One node's PN-counter totals against the base (value, stamp, TTL).
bool MergeCounter(Db& db, std::string_view key, crdt::Stamp base_stamp, int64_t base,
                  int64_t expire_at, const crdt::PnCounter::Contribution& c, int64_t now_ms,
                  uint32_t lru);

// A change of a collection key (element operations, a TTL change, or a
// whole state): the rules of docs/consistency.md, "Collections". `stamp`
// is the change's dot (a state: the stamp of its newest write).
bool MergeElements(Db& db, std::string_view key, crdt::Stamp stamp, const peer::Elements& m,
                   int64_t now_ms, uint32_t lru);

// A string write stamped `stamp` lost against the newer collection `e`: the
// collection's elements written before it are dead (docs/consistency.md,
// "A key whose type changes"). Deletes the key if nothing is left.
void StringLostToCollection(Db& db, Entry* e, crdt::Stamp stamp);

// Appends the peer deltas that rebuild collection entry `e` of database `db`
// on a replica (one whole state).
void CollectionToDelta(int db, const Entry& e, peer::Delta* out);

// A delete of one key.
bool MergeRemove(Db& db, std::string_view key, const crdt::Tombstone& t, int64_t now_ms);

// FLUSHDB: deletes every key the flush covers; keys written concurrently
// survive.
void MergeFlush(Db& db, const crdt::Tombstone& t);

// The base stamp a local INCR gives a key that does not exist: the newest
// delete's stamp, which every replica that saw that delete shares, so
// increments made after it on different nodes add up. Zero when the key was
// never deleted.
// `fresh` (a stamp the INCR itself drew) serves when the newest delete
// cannot: when a greater write was already killed.
crdt::Stamp FreshCounterBase(Db& db, std::string_view key, crdt::Stamp fresh);

}  // namespace lattice::node

#endif  // LATTICE_NODE_CLUSTER_MERGE_H_
