// File: node/scripting/scripting.h
//
// What every thread's Lua interpreter shares (node/scripting/lua_engine.h):
// the script cache that EVAL, SCRIPT LOAD and EVALSHA use, the one random
// sequence math.random draws from, and the registry of running scripts
// that SCRIPT KILL and the BUSY replies read.
//
// Thread-safety: every method may be called from any thread.
#ifndef LATTICE_NODE_SCRIPTING_SCRIPTING_H_
#define LATTICE_NODE_SCRIPTING_SCRIPTING_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace lattice::node {

// Flags a script declares on its first line ("#!lua flags=no-writes,...").
enum ScriptFlag : uint32_t {
  kScriptNoWrites = 1 << 0,
  kScriptAllowOom = 1 << 1,
  kScriptAllowStale = 1 << 2,
  kScriptNoCluster = 1 << 3,
  kScriptAllowCrossSlot = 1 << 4,
};

// A script of the cache. Immutable once built.
struct Script {
  std::string sha;   // 40 lowercase hex digits of the body's SHA-1
  std::string body;  // as the client sent it
  // Without a shebang a script may write and its flags are Redis's
  // defaults for EVAL (no flags).
  bool shebang = false;
  uint32_t flags = 0;
  // What Lua compiles: the body with the shebang line blanked, so that line
  // numbers stay those of the client's text.
  std::string_view code() const;
};

// The lowercase hex SHA-1 of `data` (redis.sha1hex, script names).
std::string Sha1Hex(std::string_view data);

// Parses a script's shebang. False with Redis's error text in *error when
// the line names another engine, an unknown option or an unknown flag.
bool ParseShebang(std::string_view body, bool* shebang, uint32_t* flags, std::string* error);

// One script running on some thread: what SCRIPT KILL and the BUSY checks
// need to see of it.
struct RunningScript {
  int64_t start_ms = 0;
  std::atomic<bool> wrote{false};
  std::atomic<bool> kill{false};
  std::atomic<bool> busy{false};  // ran past busy-reply-threshold
};

class Scripting {
 public:
  // ---- the cache (EVAL, EVALSHA, SCRIPT LOAD/EXISTS/FLUSH) ----
  // The script with this SHA-1 (any case), or null.
  std::shared_ptr<const Script> Find(std::string_view sha) const;
  // Adds a script (idempotent) and returns the cached copy.
  std::shared_ptr<const Script> Add(std::shared_ptr<const Script> script);
  // Forgets every script. Interpreters drop their compiled functions when
  // they see the generation change.
  void Flush();
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  size_t size() const;
  size_t bytes() const;  // body bytes, for INFO's used_memory_scripts

  // ---- math.random: one sequence for the whole server, as Redis's ----
  double NextRandom();
  void Seed(int32_t seed);

  // ---- running scripts (BUSY, SCRIPT KILL) ----
  void Register(RunningScript* s);
  void Unregister(RunningScript* s);
  // Some running script ran past the threshold.
  bool busy() const { return busy_count_.load(std::memory_order_acquire) > 0; }
  void MarkBusy(RunningScript* s);
  enum class KillResult { kNotBusy, kUnkillable, kKilled };
  // SCRIPT KILL: asks every running script to stop unless one has written.
  KillResult Kill();

  // Total scripts run (INFO), and scripts killed.
  std::atomic<uint64_t> runs{0};

 private:
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const Script>> scripts_;
  size_t bytes_ = 0;
  std::atomic<uint64_t> generation_{0};

  std::mutex rand_mu_;
  // A 48-bit linear congruential generator with POSIX drand48's constants,
  // started where drand48 starts unseeded: Redis's redisLrand48, so that a
  // script's math.random sequence is the one Redis gives.
  uint64_t rand_state_ = 0x1234ABCD330EULL;

  std::mutex run_mu_;
  std::vector<RunningScript*> running_;
  std::atomic<int> busy_count_{0};
};

}  // namespace lattice::node

#endif  // LATTICE_NODE_SCRIPTING_SCRIPTING_H_
