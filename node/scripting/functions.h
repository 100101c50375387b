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
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

class Functions {
 public:
  // Adds a loaded library (`replace`: an existing one of that name goes).
  // False with Redis's error when the name or a function name is taken.
  bool Add(std::shared_ptr<const Library> lib, bool replace, std::string* error);
  bool Delete(std::string_view name);
  void Flush();
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

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Library>> libs_;
  std::map<std::string, std::string> function_lib_;  // function -> library
  std::atomic<uint64_t> generation_{0};
};

// Redis's CRC-64 (Jones polynomial, reflected), as its DUMP payloads use.
uint64_t Crc64(uint64_t crc, std::string_view data);

}  // namespace lattice::node

#endif  // LATTICE_NODE_SCRIPTING_FUNCTIONS_H_
