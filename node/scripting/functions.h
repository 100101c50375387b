// File: node/scripting/functions.h
//
// Redis 7 functions: libraries of Lua functions loaded with FUNCTION LOAD
// and called with FCALL. The registry here holds each library's code and
// what its loading registered (names, flags, descriptions); every thread's
// interpreter loads the libraries itself when the registry's generation
// changes (node/scripting/lua_engine.h). Also the FUNCTION DUMP / RESTORE
// payload: Redis's RDB encoding of libraries (opcode 245, RDB version 10,
// CRC-64), so payloads move between Redis and Lattice both ways.
//
// Thread-safety: every method may be called from any thread (one mutex).
#ifndef LATTICE_NODE_SCRIPTING_FUNCTIONS_H_
#define LATTICE_NODE_SCRIPTING_FUNCTIONS_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crdt/stamp.h"

namespace lattice::node {

struct FunctionInfo {
  std::string name;
  std::optional<std::string> description;
  uint32_t flags = 0;  // ScriptFlag bits
};

struct Library {
  std::string name;
  std::string code;
  std::vector<FunctionInfo> functions;
};

// Parses a library's "#!lua name=<name>" line. False with Redis's error.
bool ParseLibraryShebang(std::string_view code, std::string* name, std::string* error);
// Letters, digits and underscores, at least one (library and function names).
bool ValidFunctionName(std::string_view name);

// Libraries are a last-writer-wins map from name to code (or a
// tombstone), stamped with the node's Lamport clock, plus a flush floor:
// FUNCTION LOAD, DELETE, FLUSH and RESTORE on any node win over older
// changes on every node (node/cluster/functions_sync.h carries them). What
// is visible is derived from that state alone: live libraries above the
// floor, the newer one keeping a function name two of them define.
class Functions {
 public:
  // Adds a loaded library (`replace`: an existing one of that name goes).
  // False with Redis's error when the name or a function name is taken.
  bool Add(std::shared_ptr<const Library> lib, bool replace, std::string* error,
           crdt::Stamp stamp = {});
  bool Delete(std::string_view name, crdt::Stamp stamp = {});
  void Flush(crdt::Stamp stamp = {});
  // The library holding function `name`, and the function, or null.
  std::shared_ptr<const Library> FindFunction(std::string_view name,
                                              const FunctionInfo** fn) const;
  std::vector<std::shared_ptr<const Library>> All() const;  // by name
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // FUNCTION DUMP's payload of every library, and RESTORE's parse of one
  // (the libraries' codes, in order). False with Redis's error text.
  std::string Dump() const;
  static bool ParseDump(std::string_view payload, std::vector<std::string>* codes,
                        std::string* error);

  // ---- replication ----
  struct Record {
    std::string name;
    std::string code;  // empty for a tombstone
    crdt::Stamp stamp;
    bool deleted = false;
  };
  // Every record (tombstones included) and the flush floor.
  std::vector<Record> State(crdt::Stamp* floor) const;
  // A hash of the state: equal states, equal digests.
  uint64_t Digest() const;
  // Merges a peer's record (`lib`: its loaded library; null for a
  // tombstone). True when it changed something.
  bool Merge(const std::string& name, std::shared_ptr<const Library> lib, crdt::Stamp stamp);
  void MergeFloor(crdt::Stamp floor);

 private:
  struct Entry {
    std::shared_ptr<const Library> lib;  // null: deleted
    crdt::Stamp stamp;
  };
  void IndexLocked();
  mutable std::mutex mu_;
  std::map<std::string, Entry> libs_;
  std::map<std::string, std::string> function_lib_;  // function -> visible library
  std::set<std::string> visible_;                     // libraries shown and callable
  crdt::Stamp floor_;
  std::atomic<uint64_t> generation_{0};
};

// Redis's CRC-64 (Jones polynomial, reflected), as its DUMP payloads use.
uint64_t Crc64(uint64_t crc, std::string_view data);

}  // namespace lattice::node

#endif  // LATTICE_NODE_SCRIPTING_FUNCTIONS_H_
