// File: node/scripting/lua_engine.h
//
// A Lua 5.1 interpreter that runs EVAL scripts as Redis 7.0 does: the
// redis.* API (call, pcall, error_reply, status_reply, sha1hex, log,
// setresp, set_repl...), the conversions between Lua values and RESP2/RESP3
// replies, the cjson, bit, cmsgpack and struct libraries, and the sandbox
// (no os, io, loadfile or require; globals and library tables read-only;
// math.random from Redis's sequence). Commands a script calls run through
// the command table like a client's, in the script's context: its
// database, its RESP version, and the keys of the shard it runs on.
//
// Thread-safety: one engine per thread (ForThread); an engine is used only
// by the thread that made it. What engines share lives in Scripting.
#ifndef LATTICE_NODE_SCRIPTING_LUA_ENGINE_H_
#define LATTICE_NODE_SCRIPTING_LUA_ENGINE_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "node/command.h"
#include "node/scripting/functions.h"
#include "node/scripting/scripting.h"

struct lua_State;

namespace lattice::node {

class Server;

// How one script invocation runs.
struct ScriptCall {
  const Script* script = nullptr;  // EVAL...; null for FCALL
  std::string_view function;       // FCALL: the function's name
  // What error replies and logs name it: the script's SHA-1 or the function.
  std::string_view name() const { return script ? std::string_view(script->sha) : function; }
  std::span<const std::string_view> keys;
  std::span<const std::string_view> argv;
  bool read_only = false;  // EVAL_RO / EVALSHA_RO, or the no-writes flag
  // The shard whose keys the script may use, or -1 for every shard (it
  // runs in the exclusive section, or the node has one shard).
  int shard = -1;
};

class LuaEngine {
 public:
  explicit LuaEngine(Server* server);
  ~LuaEngine();
  LuaEngine(const LuaEngine&) = delete;
  LuaEngine& operator=(const LuaEngine&) = delete;

  // The calling thread's engine, made on first use.
  static LuaEngine& ForThread(Server* server);

  // Compiles the script unless this engine already holds it. False with
  // Redis's "Error compiling script" text in *error.
  bool Compile(const Script& script, std::string* error);
  // Runs a compiled-or-not script and writes its reply to cx.rb.
  void Run(CommandContext& cx, const ScriptCall& call);
  // FUNCTION LOAD: runs a library's code to learn what it registers. False
  // with Redis's error text. The registry then holds it; every engine loads
  // it again (SyncFunctions) before its next FCALL.
  bool LoadLibrary(std::string_view code, Library* out, std::string* error);
  // Bytes the interpreter holds (INFO used_memory_lua).
  int64_t memory() const;

  // For the redis.* functions (lua_engine.cc).
  struct Invocation;
  Invocation* current() { return current_; }
  Server* server() { return server_; }

 private:
  void Open();
  void DropStaleScripts();
  // Loads the registry's libraries again when they changed.
  void SyncFunctions();
  bool LoadInto(std::string_view code, Library* out, std::string* error, bool keep);
  lua_State* L_ = nullptr;
  Server* server_;
  Invocation* current_ = nullptr;
  uint64_t generation_ = 0;
  uint64_t functions_generation_ = UINT64_MAX;

 public:
  // While a library loads: what redis.register_function records.
  struct Loading {
    Library* lib;
  };
  Loading* loading() { return loading_; }

 private:
  Loading* loading_ = nullptr;
  int gc_countdown_ = 50;
};

// Total bytes of every thread's interpreter (INFO).
int64_t LuaMemoryAllThreads();

}  // namespace lattice::node

#endif  // LATTICE_NODE_SCRIPTING_LUA_ENGINE_H_
