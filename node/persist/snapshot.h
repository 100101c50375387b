// File: node/persist/snapshot.h
//
// Snapshots: a node's whole state in one file, with the CRDT metadata a
// restarted node needs to merge with its peers exactly as before it
// stopped. A record is the replication stream's own encoding of a key's
// state: the peer::Delta messages that rebuild it on a replica
// (node/cluster/replication.h, EntryToDeltas: an assignment with its
// stamp, a counter's per-node contributions on its base, a collection's
// whole state with its causal context and floor, an HLL's parts), a key's
// tombstone and a database's flush. Loading merges the records into the
// empty node as a repair from a peer would, and raises the node's clock
// above every stamp it saved. One encoding serves replication and disk.
//
// File layout (integers little-endian):
//   "LATTICE-SNAP"      12 bytes
//   u32 version         2 (1 is read too)
//   u32 node id, u64 Lamport clock, i64 written at (unix ms), u32 databases
//   records             varint length (> 0), serialized peer::Delta
//   varint 0            end of the records
//   varint n, n bytes   the function libraries (peer::FunctionsState;
//                       version 2 on, version 1 files have none)
//   u64 record count
//   u64 CRC-64          Redis's (node/persist/crc64.h), of every byte before
//
// SaveSnapshot writes "<path>.tmp-<pid>", fsyncs it, renames it over
// <path> and fsyncs the directory, so a crash leaves the old file or the
// new one. LoadSnapshot refuses a file that is truncated, corrupt or not a
// snapshot, naming the file and the offset of the first bad byte.
//
// Thread-safety: SaveSnapshot reads every shard: the workers must be
// paused (Server::RunExclusive) or stopped. LoadSnapshot writes every
// shard: call it before the workers start.
#ifndef LATTICE_NODE_PERSIST_SNAPSHOT_H_
#define LATTICE_NODE_PERSIST_SNAPSHOT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace lattice::peer {
class Delta;
}  // namespace lattice::peer

namespace lattice::node {

class Db;
class Entry;
class Server;

struct SnapshotInfo {
  uint32_t node = 0;
  uint64_t clock = 0;
  int64_t written_ms = 0;
  uint64_t records = 0;  // deltas
  uint64_t keys = 0;     // live keys
  uint64_t bytes = 0;
};

absl::Status SaveSnapshot(Server& server, const std::string& path, SnapshotInfo* info);

// Writes one snapshot file from records made elsewhere (SaveSnapshot, and
// the background save's shards, node/persist/bgsave.h). Not thread-safe.
class SnapshotFile {
 public:
  SnapshotFile() = default;
  ~SnapshotFile() { Abandon(); }
  SnapshotFile(const SnapshotFile&) = delete;
  SnapshotFile& operator=(const SnapshotFile&) = delete;

  // Creates "<path>.tmp-<pid>" and writes the header: `node` (0 standalone)
  // and `clock`, above every stamp the records will hold.
  absl::Status Create(const std::string& path, uint32_t node, uint64_t clock, int databases);
  // Appends `count` records, each a varint length and a serialized delta.
  absl::Status Append(std::string_view records, uint64_t count);
  // Writes the function libraries (a serialized peer::FunctionsState) and
  // the trailer, fsyncs the file, renames it over the path and fsyncs the
  // directory.
  absl::Status Commit(std::string_view functions);
  // Removes the temporary file unless committed.
  void Abandon();
  uint64_t bytes() const { return bytes_; }
  uint64_t records() const { return records_; }

 private:
  absl::Status Write(std::string_view bytes);
  std::string path_;
  std::string tmp_;
  int fd_ = -1;
  uint64_t crc_ = 0;
  uint64_t bytes_ = 0;
  uint64_t records_ = 0;
};

// Appends the records that rebuild entry `e` of database `db` (numbered
// `db_index`) as of now to *out; returns how many.
uint64_t AppendEntryRecords(const Db& db, int db_index, const Entry& e, std::string* out);
// The function libraries as Commit takes them. REQUIRES: workers paused
// or stopped (no FUNCTION command runs).
std::string FunctionsBytes(Server& server);
// Appends a database's tombstones (and its flush tombstone) as records.
uint64_t AppendTombRecords(const Db& db, int db_index, std::string* out);

// NotFound when there is no file at `path`.
absl::Status LoadSnapshot(Server& server, const std::string& path, SnapshotInfo* info);

// Merges one validated delta read from disk into the shard that owns its
// key (every shard for a flush) and raises the clock above its stamp.
// Before the workers start.
void MergeLoadedDelta(Server& server, const peer::Delta& d, int64_t now_ms);

}  // namespace lattice::node

#endif  // LATTICE_NODE_PERSIST_SNAPSHOT_H_
