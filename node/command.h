// File: node/command.h
//
// The shape of a command: its table row (CommandId) and what a handler sees
// when it runs (CommandContext). The dispatcher checks existence, arity and
// routing once, generically, from the row; handlers never re-check arity and
// never see RESP bytes.
//
// Thread-safety: CommandIds are immutable after startup. A CommandContext
// lives for one command on one thread.
#ifndef LATTICE_NODE_COMMAND_H_
#define LATTICE_NODE_COMMAND_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "crdt/stamp.h"
#include "node/evict.h"
#include "resp/reply_builder.h"

namespace lattice::node {

class Connection;
class Db;
class Worker;
class Server;
class Shard;

enum CmdFlag : uint32_t {
  kCmdWrite = 1 << 0,
  kCmdReadOnly = 1 << 1,
  kCmdFast = 1 << 2,
  kCmdDenyOom = 1 << 3,
  kCmdAdmin = 1 << 4,
  kCmdNoScript = 1 << 5,
  kCmdLoading = 1 << 6,
  kCmdStale = 1 << 7,
  kCmdNoAuth = 1 << 8,
  kCmdNoMulti = 1 << 9,
  kCmdDangerous = 1 << 10,
  kCmdBlocking = 1 << 11,
  // Routing, not reported by COMMAND INFO:
  // Runs on the connection's own thread and may touch connection state.
  kCmdConnection = 1 << 16,
  // Reads or writes every shard (DBSIZE, KEYS, FLUSHALL, INFO...): runs in
  // the exclusive section when there is more than one shard.
  kCmdAllShards = 1 << 17,
  // A script (EVAL...): routed by its declared keys; one that declares none
  // runs in the exclusive section, since it may touch any key.
  kCmdScript = 1 << 18,
};

// The Redis version this server answers as (INFO, redis.REDIS_VERSION).
inline constexpr std::string_view kCompatVersion = "7.0.15";
inline constexpr int kCompatVersionNum = 0x07000f;

struct CommandContext;
struct CommandMeta;  // node/command_meta.h
using Handler = void (*)(CommandContext&);

struct CommandId {
  std::string_view name;  // lowercase, as Redis declares it
  int arity;              // counts the name; negative: at least -arity
  uint32_t flags;
  int first_key;  // 0: no keys
  int last_key;   // negative: counted from the end
  int key_step;
  Handler handler;
  std::string_view group;    // COMMAND DOCS
  std::string_view summary;  // COMMAND DOCS
  std::string_view since;    // COMMAND DOCS
  std::vector<CommandId> subcommands;
  // Filled by the table: "object|encoding" for subcommands.
  std::string fullname;
  uint32_t index = 0;  // position in the stats arrays
  // Movable keys (Redis's "keynum" key spec): args[keynum] counts the keys
  // that follow it (SINTERCARD, ZUNIONSTORE...). 0: none.
  int keynum = 0;
  // A key named by an option (GEORADIUS ... STORE key): its position in
  // args, or 0 when the invocation names none. Null: no such option.
  size_t (*option_key)(std::span<const std::string_view> args) = nullptr;
  // Redis 7.0's ACL categories, key specs and docs (node/command_meta.h),
  // filled by the table from the side table keyed by fullname; null when
  // there is none (MetaOf() also looks it up).
  const CommandMeta* meta = nullptr;
  // XREAD / XREADGROUP: keys follow the STREAMS keyword, searched for from
  // this argument on (Redis's keyword key spec). 0: none.
  int streams_from = 0;

  bool has_keys() const { return first_key > 0 || keynum > 0 || streams_from > 0; }
};

// Everything a handler may use. Keys are resolved with DbFor(), which works
// the same whether the command runs on its own shard, on another shard's
// thread, or in the exclusive section.
struct CommandContext {
  std::span<const std::string_view> args;  // args[0] is the command name
  resp::ReplyBuilder* rb;
  Server* server;
  // The connection; only for kCmdConnection commands (others may run on a
  // thread that does not own it).
  Connection* conn;
  int db;
  int64_t now_ms;
  const CommandId* cmd;

  // Blocking commands (node/families/blocking.h): the client to answer
  // later (set by the dispatcher; null for a forwarded command), whether
  // this run serves a parked command again, and whether the handler parked
  // the client instead of replying.
  Worker* origin = nullptr;
  uint64_t conn_id = 0;
  bool serving = false;
  bool blocked = false;
  // Run by EXEC: a blocking command that finds nothing answers at once, as
  // if its timeout had passed (Redis's CLIENT_DENY_BLOCKING).
  bool in_exec = false;

  Db& DbFor(std::string_view key) const;
  Db& DbFor(std::string_view key, int db_index) const;
  Shard& ShardFor(std::string_view key) const;
  // Issues a Lamport stamp for a write.
  crdt::Stamp Tick() const;
  // Seconds clock for LRU idle times.
  // The lru field of a key created now (node/evict.h: seconds, or a fresh
  // LFU counter under an LFU policy).
  uint32_t LruClock() const { return InitialLru(now_ms); }
};

// Redis's canonical error texts, in one place.
namespace errors {
inline constexpr std::string_view kSyntax = "ERR syntax error";
inline constexpr std::string_view kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr std::string_view kNotInt = "ERR value is not an integer or out of range";
// getIntFromObjectOrReply's text for an int64 outside the int range.
inline constexpr std::string_view kIntRange =
    "ERR value is out of range, value must between -2147483648 and 2147483647";
inline constexpr std::string_view kNotFloat = "ERR value is not a valid float";
inline constexpr std::string_view kOverflow = "ERR increment or decrement would overflow";
inline constexpr std::string_view kNoSuchKey = "ERR no such key";
inline constexpr std::string_view kDbIndex = "ERR DB index is out of range";
inline constexpr std::string_view kStringTooLong =
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
}  // namespace errors

}  // namespace lattice::node

#endif  // LATTICE_NODE_COMMAND_H_
