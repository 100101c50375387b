// File: node/persist/rdb_import.h
//
// Between Redis's RDB values (node/persist/rdb.h) and the keyspace: RESTORE
// and a Redis dump.rdb loaded at start build keys with the commands a client
// would send (SET, RPUSH, SADD, ZADD, HSET, XADD, XSETID, XGROUP, XCLAIM,
// PEXPIREAT), run on the key's shard, so an imported key takes the one write
// path (its deltas replicate and reach the log) with the CRDT metadata those
// commands give it. DUMP reads a key back with the read commands (GET,
// LRANGE, SMEMBERS, ZRANGE, HGETALL, XINFO STREAM FULL).
//
// Thread-safety: BuildKey/ReadKey run where the key's shard may be used (a
// command on that shard, the exclusive section, or before the workers
// start); ImportRdbFile before the workers start.
#ifndef LATTICE_NODE_PERSIST_RDB_IMPORT_H_
#define LATTICE_NODE_PERSIST_RDB_IMPORT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "node/command.h"
#include "node/persist/rdb.h"

namespace lattice::node {

class Server;

// Builds `key` (absent) in database `db` from `v`, with its TTL at
// `expire_ms` (unix ms; -1: none) and, when >= 0, the idle time or LFU
// counter RESTORE's IDLETIME / FREQ give. False with the refusing
// command's error.
bool BuildKey(const CommandContext& parent, int db, std::string_view key, const rdb::Value& v,
              int64_t expire_ms, int64_t idle_s, int freq, std::string* error);

// Reads `key` of database `db` into *out. False when it does not exist.
bool ReadKey(const CommandContext& parent, int db, std::string_view key, rdb::Value* out);

struct RdbImportInfo {
  uint64_t keys = 0;       // keys built
  uint64_t expired = 0;    // keys skipped because their TTL had passed
  uint64_t functions = 0;  // function libraries loaded
};

// Loads a dump.rdb written by Redis (the file at `path`, which starts with
// "REDIS"). Before the workers start.
absl::Status ImportRdbFile(Server& server, const std::string& path, RdbImportInfo* info);

}  // namespace lattice::node

#endif  // LATTICE_NODE_PERSIST_RDB_IMPORT_H_
