// File: node/persist/rdb.h
//
// A pure codec for Redis's RDB serialization, the format of dump.rdb files
// and of DUMP / RESTORE payloads. It knows nothing of Lattice's keyspace:
// values come and go as plain structs, and the caller turns them into (or
// out of) its own data types.
//
// Decoding accepts everything Redis 7.0 and 7.2 write and every older
// encoding they can still load (RDB versions 1..12: zipmaps, ziplists,
// intsets, quicklists, listpacks, the three stream layouts). Encoding writes
// what Redis 7.0 RESTORE accepts. Module values and hashes with per-field
// TTLs (Redis 7.4) are refused with an error that says so.
//
// Hostile input never crashes the decoder nor makes it allocate more than a
// small multiple of its input: every count and length is bounded by the
// bytes that remain.
//
// Thread-safety: pure functions on caller-owned data.
#ifndef LATTICE_NODE_PERSIST_RDB_H_
#define LATTICE_NODE_PERSIST_RDB_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace lattice::node::rdb {

enum class Type { kString, kList, kSet, kZset, kHash, kStream };

struct StreamId {
  uint64_t ms = 0, seq = 0;
  bool operator==(const StreamId&) const = default;
};

struct StreamEntry {
  StreamId id;
  std::vector<std::pair<std::string, std::string>> fields;
  bool operator==(const StreamEntry&) const = default;
};

// A pending (delivered, not acknowledged) entry of a consumer group.
struct StreamPending {
  StreamId id;
  int64_t delivery_ms = 0;  // unix ms of the last delivery
  uint64_t delivery_count = 0;
  std::string consumer;  // name of the owning consumer
  bool operator==(const StreamPending&) const = default;
};

struct StreamConsumer {
  std::string name;
  int64_t seen_ms = 0;     // last interaction, unix ms
  int64_t active_ms = -1;  // last successful read (RDB type 21 only); -1 when absent
  bool operator==(const StreamConsumer&) const = default;
};

struct StreamGroup {
  std::string name;
  StreamId last_id;
  int64_t entries_read = -1;  // -1: unknown (Redis's SCG_INVALID_ENTRIES_READ)
  std::vector<StreamPending> pending;  // the group's PEL
  std::vector<StreamConsumer> consumers;
  bool operator==(const StreamGroup&) const = default;
};

struct Stream {
  std::vector<StreamEntry> entries;  // live entries, ascending IDs
  StreamId last_id, first_id, max_deleted_id;
  uint64_t entries_added = 0;
  std::vector<StreamGroup> groups;
  bool operator==(const Stream&) const = default;
};

// One key's value; only the member matching `type` is meaningful.
struct Value {
  Type type = Type::kString;
  std::string str;                                        // kString
  std::vector<std::string> elems;                         // kList (in order), kSet
  std::vector<std::pair<std::string, double>> zset;       // member, score (any order)
  std::vector<std::pair<std::string, std::string>> hash;  // field, value
  Stream stream;
  bool operator==(const Value&) const = default;
};

struct Key {
  int db = 0;
  std::string name;
  Value value;
  int64_t expire_ms = -1;  // absolute unix ms; -1: no TTL
  int64_t idle_s = -1;     // LRU idle time (IDLE opcode); -1: absent
  int freq = -1;           // LFU counter (FREQ opcode); -1: absent
};

// Parses a whole dump.rdb ("REDIS" + 4-digit version 1..12), calling on_key
// for each key in file order; if on_key fails, parsing stops and its status
// is returned unchanged. Empty collections are skipped, as Redis does.
// Function libraries (FUNCTION2, and the 7.0-rc FUNCTION opcode translated
// to the same "#!engine name=..." form) are appended to *functions (may be
// null to drop them). AUX, RESIZEDB, SLOT_INFO and module AUX records are
// skipped. When the file's CRC-64 does not match, on_key is not called at
// all: the file is checked first. A zero checksum means "not computed".
//
// Errors: DataLossError("Bad dump file <file_name> at offset <N>: <why>"),
// N being the offset of the byte where the problem was found (for data
// inside an LZF-compressed string, the offset of that string).
absl::Status ReadFile(std::string_view data, std::string_view file_name,
                      const std::function<absl::Status(Key&&)>& on_key,
                      std::vector<std::string>* functions);

// Decodes a DUMP payload: <type byte><value><u16 LE RDB version><u64 LE
// CRC-64 of everything before it>. InvalidArgumentError with Redis's RESTORE
// texts: "DUMP payload version or checksum are wrong" for a footer whose
// version is above 12 or whose CRC does not match, "Bad data format" for a
// body that does not parse exactly up to the footer (or is an empty
// collection, which Redis also refuses).
absl::Status DecodeDump(std::string_view payload, Value* out);

// Encodes v as a DUMP payload that Redis 7.0 RESTORE accepts, RDB version 10
// in the footer. Strings are byte-identical to the DUMP of Debian 12's
// redis-server (integer encodings; LZF as the liblzf 3.6 it links does it;
// an upstream build's bundled LZF may compress some strings differently,
// equally valid). Lists are quicklists of listpacks, sets,
// sorted sets and hashes the plain encodings (RESTORE re-packs small ones),
// streams Redis 7.0's STREAM_LISTPACKS_2.
// REQUIRES: no NaN score; stream entries in ascending ID order. A pending
// entry whose consumer is missing from the group's consumers gets a consumer
// of that name (seen_ms 0), since Redis requires every PEL entry to have one.
std::string EncodeDump(const Value& v);

}  // namespace lattice::node::rdb

#endif  // LATTICE_NODE_PERSIST_RDB_H_
