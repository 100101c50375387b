// The command table: every command the server knows, one row each, grouped
// by family and sorted by name. Columns follow Redis: arity counts the name
// (negative: at least), first/last key positions (negative last: from the
// end), key step. Subcommands of container commands nest in their parent.
#include "node/command_table.h"

#include <cctype>

#include "node/command_meta.h"
#include "node/families/families.h"
#include "node/storage/keyspace.h"
#include "node/str_util.h"

namespace lattice::node {

namespace {

constexpr uint32_t W = kCmdWrite, R = kCmdReadOnly, F = kCmdFast, M = kCmdDenyOom, A = kCmdAdmin,
                   NS = kCmdNoScript, L = kCmdLoading, S = kCmdStale, NA = kCmdNoAuth,
                   C = kCmdConnection, ALL = kCmdAllShards, D = kCmdDangerous, B = kCmdBlocking;

CommandId Row(std::string_view name, int arity, uint32_t flags, int first, int last, int step,
              Handler h, std::string_view group, std::string_view since, std::string_view summary,
              std::vector<CommandId> subs = {}) {
  return CommandId{name,  arity,   flags, first,           last, step, h,
                   group, summary, since, std::move(subs), {},   0};
}

CommandId WithKeynum(CommandId c, int keynum) {
  c.keynum = keynum;
  return c;
}

// XREAD / XREADGROUP: the keys are the first half of what follows the
// STREAMS keyword, searched for from args[from].
CommandId WithStreamsKeys(CommandId c, int from) {
  c.streams_from = from;
  return c;
}

CommandId WithOptionKey(CommandId c, size_t (*option_key)(std::span<const std::string_view>)) {
  c.option_key = option_key;
  return c;
}

std::vector<CommandId> Rows() {
  return {
      // ---- connection and server (server_family.cc) ----
      Row("client", -2, S | C, 0, 0, 0, nullptr, "connection", "2.4.0",
          "A container for client connection commands.",
          {
              Row("caching", 3, NS | L | S | C, 0, 0, 0, CmdClientCaching, "connection",
                  "6.0.0", "Instructs the server whether to track the keys in the next request."),
              Row("getname", 2, NS | L | S | C, 0, 0, 0, CmdClientGetName, "connection", "2.6.9",
                  "Returns the name of the connection."),
              Row("getredir", 2, NS | L | S | C, 0, 0, 0, CmdClientGetRedir, "connection",
                  "6.0.0", "Returns the client ID to which the connection's tracking notifications "
                  "are redirected."),
              Row("help", 2, L | S | C, 0, 0, 0, CmdClientHelp, "connection", "5.0.0",
                  "Returns helpful text about the different subcommands."),
              Row("id", 2, NS | L | S | C, 0, 0, 0, CmdClientId, "connection", "5.0.0",
                  "Returns the unique client ID of the connection."),
              Row("info", 2, NS | L | S | C, 0, 0, 0, CmdClientInfo, "connection", "6.2.0",
                  "Returns information about the connection."),
              Row("kill", -3, A | NS | L | S | ALL | D, 0, 0, 0, CmdClientKill, "connection",
                  "2.4.0", "Terminates open connections."),
              Row("list", -2, A | NS | L | S | ALL | D, 0, 0, 0, CmdClientList, "connection",
                  "2.4.0", "Lists open connections."),
              Row("setinfo", 4, NS | L | S | C, 0, 0, 0, CmdClientSetInfo, "connection", "7.2.0",
                  "Sets information specific to the client or connection."),
              Row("setname", 3, NS | L | S | C, 0, 0, 0, CmdClientSetName, "connection", "2.6.9",
                  "Sets the connection name."),
              Row("tracking", -3, NS | L | S | C, 0, 0, 0, CmdClientTracking, "connection",
                  "6.0.0", "Controls server-assisted client-side caching for the connection."),
              Row("trackinginfo", 2, NS | L | S | C, 0, 0, 0, CmdClientTrackingInfo,
                  "connection", "6.2.0",
                  "Returns information about server-assisted client-side caching for the "
                  "connection."),
          }),
      Row("command", -1, L | S | C, 0, 0, 0, CmdCommand, "server", "2.8.13",
          "Returns detailed information about all commands.",
          {
              Row("count", 2, L | S | C, 0, 0, 0, CmdCommandCount, "server", "2.8.13",
                  "Returns a count of commands."),
              Row("docs", -2, L | S | C, 0, 0, 0, CmdCommandDocs, "server", "7.0.0",
                  "Returns documentary information about one, multiple or all commands."),
              Row("getkeys", -4, L | S | C, 0, 0, 0, CmdCommandGetKeys, "server", "2.8.13",
                  "Extracts the key names from an arbitrary command."),
              Row("help", 2, L | S | C, 0, 0, 0, CmdCommandHelp, "server", "5.0.0",
                  "Returns helpful text about the different subcommands."),
              Row("info", -2, L | S | C, 0, 0, 0, CmdCommandInfo, "server", "2.8.13",
                  "Returns information about one, multiple or all commands."),
              Row("list", -2, L | S | C, 0, 0, 0, CmdCommandList, "server", "7.0.0",
                  "Returns a list of command names."),
          }),
      Row("config", -2, C, 0, 0, 0, nullptr, "server", "2.0.0",
          "A container for server configuration commands.",
          {
              Row("get", -3, A | NS | L | S | ALL, 0, 0, 0, CmdConfigGet, "server", "2.0.0",
                  "Returns the effective values of configuration parameters."),
              Row("help", 2, L | S | C, 0, 0, 0, CmdConfigHelp, "server", "5.0.0",
                  "Returns helpful text about the different subcommands."),
              Row("resetstat", 2, A | NS | L | S | ALL, 0, 0, 0, CmdConfigResetStat, "server",
                  "2.0.0", "Resets the server's statistics."),
              Row("set", -4, A | NS | L | S | ALL, 0, 0, 0, CmdConfigSet, "server", "2.0.0",
                  "Sets configuration parameters in-flight."),
          }),
      Row("dbsize", 1, R | F | ALL, 0, 0, 0, CmdDbSize, "server", "1.0.0",
          "Returns the number of keys in the database."),
      Row("echo", 2, F, 0, 0, 0, CmdEcho, "connection", "1.0.0", "Returns the given string."),
      Row("flushall", -1, W | ALL, 0, 0, 0, CmdFlushAll, "server", "1.0.0",
          "Removes all keys from all databases."),
      Row("flushdb", -1, W | ALL, 0, 0, 0, CmdFlushDb, "server", "1.0.0",
          "Remove all keys from the current database."),
      Row("hello", -1, NS | L | S | F | NA | C, 0, 0, 0, CmdHello, "connection", "6.0.0",
          "Handshakes with the Redis server."),
      Row("lattice", -2, S, 0, 0, 0, nullptr, "server", "0.1.0",
          "A container for Lattice cluster commands.",
          {
              Row("forget", 3, A | NS, 0, 0, 0, CmdLatticeForget, "server", "0.1.0",
                  "Removes a member that will not come back."),
              Row("help", 2, L | S, 0, 0, 0, CmdLatticeHelp, "server", "0.1.0",
                  "Returns helpful text about the different subcommands."),
              Row("hotkeys", 2, L | S | ALL, 0, 0, 0, CmdLatticeHotKeys, "server", "0.1.0",
                  "Returns the most read keys of this node."),
              Row("nodes", 2, L | S, 0, 0, 0, CmdLatticeNodes, "server", "0.1.0",
                  "Returns the cluster members as this node sees them."),
              Row("repair", 3, A | NS, 0, 0, 0, CmdLatticeRepair, "server", "0.1.0",
                  "Runs one anti-entropy round with a member."),
              Row("where", 3, L | S, 0, 0, 0, CmdLatticeWhere, "server", "0.1.0",
                  "Returns the members holding a key."),
          }),
      Row("wait", 3, NS, 0, 0, 0, CmdWait, "generic", "3.0.0",
          "Blocks until the asynchronous replication of all preceding write commands sent by "
          "the connection is completed."),
      Row("info", -1, L | S | ALL, 0, 0, 0, CmdInfo, "server", "1.0.0",
          "Returns information and statistics about the server."),
      Row("ping", -1, F, 0, 0, 0, CmdPing, "connection", "1.0.0",
          "Returns the server's liveliness response."),
      Row("quit", -1, NS | L | S | F | NA | C, 0, 0, 0, CmdQuit, "connection", "1.0.0",
          "Closes the connection."),
      Row("select", 2, L | S | F | C, 0, 0, 0, CmdSelect, "connection", "1.0.0",
          "Changes the selected database."),
      Row("save", 1, A | NS | ALL, 0, 0, 0, CmdSave, "server", "1.0.0",
          "Synchronously saves the database(s) to disk."),
      Row("bgsave", -1, A | NS | ALL, 0, 0, 0, CmdBgSave, "server", "1.0.0",
          "Asynchronously saves the database(s) to disk."),
      Row("bgrewriteaof", 1, A | NS | ALL, 0, 0, 0, CmdBgRewriteAof, "server", "1.0.0",
          "Asynchronously rewrites the append-only file to disk."),
      Row("memory", -2, 0, 0, 0, 0, nullptr, "server", "4.0.0",
          "A container for memory diagnostics commands.",
          {
              Row("doctor", 2, 0, 0, 0, 0, CmdMemoryDoctor, "server", "4.0.0",
                  "Outputs a memory problems report."),
              Row("help", 2, L | S, 0, 0, 0, CmdMemoryHelp, "server", "4.0.0",
                  "Returns helpful text about the different subcommands."),
              Row("malloc-stats", 2, 0, 0, 0, 0, CmdMemoryMallocStats, "server", "4.0.0",
                  "Returns the allocator statistics."),
              Row("purge", 2, 0, 0, 0, 0, CmdMemoryPurge, "server", "4.0.0",
                  "Asks the allocator to release memory."),
              Row("stats", 2, ALL, 0, 0, 0, CmdMemoryStats, "server", "4.0.0",
                  "Returns details about memory usage."),
              Row("usage", -3, R, 2, 2, 1, CmdMemoryUsage, "server", "4.0.0",
                  "Estimates the memory usage of a key."),
          }),
      Row("lastsave", 1, L | S | F, 0, 0, 0, CmdLastSave, "server", "1.0.0",
          "Returns the Unix timestamp of the last successful save to disk."),
      Row("shutdown", -1, A | NS | L | S | C, 0, 0, 0, CmdShutdown, "server", "1.0.0",
          "Synchronously saves the database(s) to disk and shuts down the Redis server."),
      Row("time", 1, L | S | F, 0, 0, 0, CmdTime, "server", "2.6.0", "Returns the server time."),

      // ---- pub/sub (pubsub_family.cc) ----
      Row("psubscribe", -2, NS | L | S | C, 0, 0, 0, CmdPSubscribe, "pubsub", "2.0.0",
          "Listens for messages published to channels that match one or more patterns."),
      Row("publish", 3, L | S | F, 0, 0, 0, CmdPublish, "pubsub", "2.0.0",
          "Posts a message to a channel."),
      Row("pubsub", -2, 0, 0, 0, 0, nullptr, "pubsub", "2.8.0",
          "A container for Pub/Sub commands.",
          {
              Row("channels", -2, L | S, 0, 0, 0, CmdPubsubChannels, "pubsub", "2.8.0",
                  "Returns the active channels."),
              Row("help", 2, L | S, 0, 0, 0, CmdPubsubHelp, "pubsub", "6.2.0",
                  "Returns helpful text about the different subcommands."),
              Row("numpat", 2, L | S, 0, 0, 0, CmdPubsubNumPat, "pubsub", "2.8.0",
                  "Returns a count of unique pattern subscriptions."),
              Row("numsub", -2, L | S, 0, 0, 0, CmdPubsubNumSub, "pubsub", "2.8.0",
                  "Returns a count of subscribers to channels."),
              Row("shardchannels", -2, L | S, 0, 0, 0, CmdPubsubShardChannels, "pubsub", "7.0.0",
                  "Returns the active shard channels."),
              Row("shardnumsub", -2, L | S, 0, 0, 0, CmdPubsubShardNumSub, "pubsub", "7.0.0",
                  "Returns the count of subscribers of shard channels."),
          }),
      Row("punsubscribe", -1, NS | L | S | C, 0, 0, 0, CmdPUnsubscribe, "pubsub", "2.0.0",
          "Stops listening to messages published to channels that match one or more "
          "patterns."),
      Row("spublish", 3, L | S | F, 1, 1, 1, CmdSPublish, "pubsub", "7.0.0",
          "Post a message to a shard channel"),
      Row("ssubscribe", -2, NS | L | S | C, 1, -1, 1, CmdSSubscribe, "pubsub", "7.0.0",
          "Listens for messages published to shard channels."),
      Row("subscribe", -2, NS | L | S | C, 0, 0, 0, CmdSubscribe, "pubsub", "2.0.0",
          "Listens for messages published to channels."),
      Row("sunsubscribe", -1, NS | L | S | C, 1, -1, 1, CmdSUnsubscribe, "pubsub", "7.0.0",
          "Stops listening to messages posted to shard channels."),
      Row("unsubscribe", -1, NS | L | S | C, 0, 0, 0, CmdUnsubscribe, "pubsub", "2.0.0",
          "Stops listening to messages posted to channels."),

      // ---- scripting (script_family.cc) ----
      WithKeynum(Row("eval", -3, NS | S | kCmdScript, 0, 0, 0, CmdEval, "scripting", "2.6.0",
                     "Executes a server-side Lua script."),
                 2),
      WithKeynum(Row("eval_ro", -3, R | NS | S | kCmdScript, 0, 0, 0, CmdEvalRo, "scripting",
                     "7.0.0", "Executes a read-only server-side Lua script."),
                 2),
      WithKeynum(Row("evalsha", -3, NS | S | kCmdScript, 0, 0, 0, CmdEvalSha, "scripting",
                     "2.6.0", "Executes a server-side Lua script by SHA1 digest."),
                 2),
      WithKeynum(Row("evalsha_ro", -3, R | NS | S | kCmdScript, 0, 0, 0, CmdEvalShaRo,
                     "scripting", "7.0.0",
                     "Executes a read-only server-side Lua script by SHA1 digest."),
                 2),
      WithKeynum(Row("fcall", -3, NS | S | kCmdScript, 0, 0, 0, CmdFcall, "scripting", "7.0.0",
                     "Invokes a function."),
                 2),
      WithKeynum(Row("fcall_ro", -3, R | NS | S | kCmdScript, 0, 0, 0, CmdFcallRo, "scripting",
                     "7.0.0", "Invokes a read-only function."),
                 2),
      Row("function", -2, 0, 0, 0, 0, nullptr, "scripting", "7.0.0",
          "A container for function commands.",
          {
              Row("delete", 3, W | NS, 0, 0, 0, CmdFunctionDelete, "scripting", "7.0.0",
                  "Deletes a library and its functions."),
              Row("dump", 2, NS, 0, 0, 0, CmdFunctionDump, "scripting", "7.0.0",
                  "Dumps all libraries into a serialized binary payload."),
              Row("flush", -2, W | NS, 0, 0, 0, CmdFunctionFlush, "scripting", "7.0.0",
                  "Deletes all libraries and functions."),
              Row("help", 2, L | S, 0, 0, 0, CmdFunctionHelp, "scripting", "7.0.0",
                  "Returns helpful text about the different subcommands."),
              Row("kill", 2, NS, 0, 0, 0, CmdFunctionKill, "scripting", "7.0.0",
                  "Terminates a function during execution."),
              Row("list", -2, NS, 0, 0, 0, CmdFunctionList, "scripting", "7.0.0",
                  "Returns information about all libraries."),
              Row("load", -3, W | M | NS, 0, 0, 0, CmdFunctionLoad, "scripting", "7.0.0",
                  "Creates a library."),
              Row("restore", -3, W | M | NS, 0, 0, 0, CmdFunctionRestore, "scripting", "7.0.0",
                  "Restores all libraries from a payload."),
              Row("stats", 2, NS, 0, 0, 0, CmdFunctionStats, "scripting", "7.0.0",
                  "Returns information about a function during execution."),
          }),
      Row("script", -2, 0, 0, 0, 0, nullptr, "scripting", "2.6.0",
          "A container for Lua scripts management commands.",
          {
              Row("debug", 3, NS, 0, 0, 0, CmdScriptDebug, "scripting", "3.2.0",
                  "Sets the debug mode of server-side Lua scripts."),
              Row("exists", -3, NS, 0, 0, 0, CmdScriptExists, "scripting", "2.6.0",
                  "Determines whether server-side Lua scripts exist in the script cache."),
              Row("flush", -2, NS, 0, 0, 0, CmdScriptFlush, "scripting", "2.6.0",
                  "Removes all server-side Lua scripts from the script cache."),
              Row("help", 2, L | S, 0, 0, 0, CmdScriptHelp, "scripting", "5.0.0",
                  "Returns helpful text about the different subcommands."),
              Row("kill", 2, NS, 0, 0, 0, CmdScriptKill, "scripting", "2.6.0",
                  "Terminates a server-side Lua script during execution."),
              Row("load", 3, NS | S, 0, 0, 0, CmdScriptLoad, "scripting", "2.6.0",
                  "Loads a server-side Lua script to the script cache."),
          }),

      // ---- transactions (transaction_family.cc) ----
      Row("discard", 1, NS | L | S | F | C, 0, 0, 0, CmdDiscard, "transactions", "2.0.0",
          "Discards a transaction."),
      Row("exec", 1, NS | L | S | C, 0, 0, 0, CmdExec, "transactions", "1.2.0",
          "Executes all commands in a transaction."),
      Row("multi", 1, NS | L | S | F | C, 0, 0, 0, CmdMulti, "transactions", "1.2.0",
          "Starts a transaction."),
      Row("reset", 1, NS | L | S | F | NA | C, 0, 0, 0, CmdReset, "connection", "6.2.0",
          "Resets the connection."),
      Row("unwatch", 1, NS | L | S | F | C, 0, 0, 0, CmdUnwatch, "transactions", "2.2.0",
          "Forgets about watched keys of a transaction."),
      Row("watch", -2, NS | L | S | F | C, 1, -1, 1, CmdWatch, "transactions", "2.2.0",
          "Monitors changes to keys to determine the execution of a transaction."),

      // ---- keyspace (generic_family.cc) ----
      Row("copy", -3, W | M, 1, 2, 1, CmdCopy, "generic", "6.2.0",
          "Copies the value of a key to a new key."),
      Row("del", -2, W, 1, -1, 1, CmdDel, "generic", "1.0.0", "Deletes one or more keys."),
      Row("exists", -2, R | F, 1, -1, 1, CmdExists, "generic", "1.0.0",
          "Determines whether one or more keys exist."),
      Row("expire", -3, W | F, 1, 1, 1, CmdExpire, "generic", "1.0.0",
          "Sets the expiration time of a key in seconds."),
      Row("expireat", -3, W | F, 1, 1, 1, CmdExpireAt, "generic", "1.2.0",
          "Sets the expiration time of a key to a Unix timestamp."),
      Row("expiretime", 2, R | F, 1, 1, 1, CmdExpireTime, "generic", "7.0.0",
          "Returns the expiration time of a key as a Unix timestamp."),
      Row("keys", 2, R | ALL, 0, 0, 0, CmdKeys, "generic", "1.0.0",
          "Returns all key names that match a pattern."),
      Row("dump", 2, R, 1, 1, 1, CmdDump, "generic", "2.6.0",
          "Returns a serialized representation of the value stored at a key."),
      Row("restore", -4, W | M, 1, 1, 1, CmdRestore, "generic", "2.6.0",
          "Creates a key from the serialized representation of a value."),
      Row("move", 3, W | F, 1, 1, 1, CmdMove, "generic", "1.0.0",
          "Moves a key to another database."),
      Row("object", -2, 0, 0, 0, 0, nullptr, "generic", "2.2.3",
          "A container for object introspection commands.",
          {
              Row("encoding", 3, R, 2, 2, 1, CmdObjectEncoding, "generic", "2.2.3",
                  "Returns the internal encoding of a Redis object."),
              Row("freq", 3, R, 2, 2, 1, CmdObjectFreq, "generic", "4.0.0",
                  "Returns the logarithmic access frequency counter of a Redis object."),
              Row("help", 2, L | S, 0, 0, 0, CmdObjectHelp, "generic", "6.2.0",
                  "Returns helpful text about the different subcommands."),
              Row("idletime", 3, R, 2, 2, 1, CmdObjectIdleTime, "generic", "2.2.3",
                  "Returns the time since the last access to a Redis object."),
              Row("refcount", 3, R, 2, 2, 1, CmdObjectRefCount, "generic", "2.2.3",
                  "Returns the reference count of a value of a key."),
          }),
      Row("persist", 2, W | F, 1, 1, 1, CmdPersist, "generic", "2.2.0",
          "Removes the expiration time of a key."),
      Row("pexpire", -3, W | F, 1, 1, 1, CmdPExpire, "generic", "2.6.0",
          "Sets the expiration time of a key in milliseconds."),
      Row("pexpireat", -3, W | F, 1, 1, 1, CmdPExpireAt, "generic", "2.6.0",
          "Sets the expiration time of a key to a Unix milliseconds timestamp."),
      Row("pexpiretime", 2, R | F, 1, 1, 1, CmdPExpireTime, "generic", "7.0.0",
          "Returns the expiration time of a key as a Unix milliseconds timestamp."),
      Row("pttl", 2, R | F, 1, 1, 1, CmdPTtl, "generic", "2.6.0",
          "Returns the expiration time in milliseconds of a key."),
      Row("randomkey", 1, R | ALL, 0, 0, 0, CmdRandomKey, "generic", "1.0.0",
          "Returns a random key name from the database."),
      Row("rename", 3, W, 1, 2, 1, CmdRename, "generic", "1.0.0",
          "Renames a key and overwrites the destination."),
      Row("renamenx", 3, W | F, 1, 2, 1, CmdRenameNx, "generic", "1.0.0",
          "Renames a key only when the target key name doesn't exist."),
      Row("scan", -2, R | ALL, 0, 0, 0, CmdScan, "generic", "2.8.0",
          "Iterates over the key names in the database."),
      Row("touch", -2, R | F, 1, -1, 1, CmdTouch, "generic", "3.2.1",
          "Returns the number of existing keys out of those specified after updating the time they "
          "were last accessed."),
      Row("ttl", 2, R | F, 1, 1, 1, CmdTtl, "generic", "1.0.0",
          "Returns the expiration time in seconds of a key."),
      Row("type", 2, R | F, 1, 1, 1, CmdType, "generic", "1.0.0",
          "Determines the type of value stored at a key."),
      Row("unlink", -2, W | F, 1, -1, 1, CmdDel, "generic", "4.0.0",
          "Asynchronously deletes one or more keys."),

      // ---- sorting (sort_family.cc) ----
      // BY/GET patterns name keys of any shard: run with every shard held.
      WithOptionKey(
          Row("sort", -2, W | M | ALL, 1, 1, 1, CmdSort, "generic", "1.0.0",
              "Sorts the elements in a list, a set, or a sorted set, optionally storing the result."),
          SortStoreKey),
      Row("sort_ro", -2, R | ALL, 1, 1, 1, CmdSortRo, "generic", "7.0.0",
          "Returns the sorted elements of a list, a set, or a sorted set."),

      // ---- hashes (hash_family.cc) ----
      Row("hdel", -3, W | F, 1, 1, 1, CmdHDel, "hash", "2.0.0",
          "Deletes one or more fields and their values from a hash. Deletes the hash if no "
          "fields remain."),
      Row("hexists", 3, R | F, 1, 1, 1, CmdHExists, "hash", "2.0.0",
          "Determines whether a field exists in a hash."),
      Row("hget", 3, R | F, 1, 1, 1, CmdHGet, "hash", "2.0.0",
          "Returns the value of a field in a hash."),
      Row("hgetall", 2, R, 1, 1, 1, CmdHGetAll, "hash", "2.0.0",
          "Returns all fields and values in a hash."),
      Row("hincrby", 4, W | M | F, 1, 1, 1, CmdHIncrBy, "hash", "2.0.0",
          "Increments the integer value of a field in a hash by a number. Uses 0 as initial "
          "value if the field doesn't exist."),
      Row("hincrbyfloat", 4, W | M | F, 1, 1, 1, CmdHIncrByFloat, "hash", "2.6.0",
          "Increments the floating point value of a field by a number. Uses 0 as initial value "
          "if the field doesn't exist."),
      Row("hkeys", 2, R, 1, 1, 1, CmdHKeys, "hash", "2.0.0", "Returns all fields in a hash."),
      Row("hlen", 2, R | F, 1, 1, 1, CmdHLen, "hash", "2.0.0",
          "Returns the number of fields in a hash."),
      Row("hmget", -3, R | F, 1, 1, 1, CmdHMGet, "hash", "2.0.0",
          "Returns the values of all fields in a hash."),
      Row("hmset", -4, W | M | F, 1, 1, 1, CmdHMSet, "hash", "2.0.0",
          "Sets the values of multiple fields."),
      Row("hrandfield", -2, R, 1, 1, 1, CmdHRandField, "hash", "6.2.0",
          "Returns one or more random fields from a hash."),
      Row("hscan", -3, R, 1, 1, 1, CmdHScan, "hash", "2.8.0",
          "Iterates over fields and values of a hash."),
      Row("hset", -4, W | M | F, 1, 1, 1, CmdHSet, "hash", "2.0.0",
          "Creates or modifies the value of a field in a hash."),
      Row("hsetnx", 4, W | M | F, 1, 1, 1, CmdHSetNx, "hash", "2.0.0",
          "Sets the value of a field in a hash only when the field doesn't exist."),
      Row("hstrlen", 3, R | F, 1, 1, 1, CmdHStrLen, "hash", "3.2.0",
          "Returns the length of the value of a field."),
      Row("hvals", 2, R, 1, 1, 1, CmdHVals, "hash", "2.0.0", "Returns all values in a hash."),

      // ---- lists (list_family.cc) ----
      Row("blmove", 6, W | M | NS | B, 1, 2, 1, CmdBLMove, "list", "6.2.0",
          "Pops an element from a list, pushes it to another list and returns it. Blocks until an "
          "element is available otherwise. Deletes the list if the last element was moved."),
      WithKeynum(Row("blmpop", -5, W | B, 0, 0, 0, CmdBLMPop, "list", "7.0.0",
                     "Pops the first element from one of multiple lists. Blocks until an element "
                     "is available otherwise. Deletes the list if the last element was popped."),
                 2),
      Row("blpop", -3, W | NS | B, 1, -2, 1, CmdBLPop, "list", "2.0.0",
          "Removes and returns the first element in a list. Blocks until an element is available "
          "otherwise. Deletes the list if the last element was popped."),
      Row("brpop", -3, W | NS | B, 1, -2, 1, CmdBRPop, "list", "2.0.0",
          "Removes and returns the last element in a list. Blocks until an element is available "
          "otherwise. Deletes the list if the last element was popped."),
      Row("brpoplpush", 4, W | M | NS | B, 1, 2, 1, CmdBRPopLPush, "list", "2.2.0",
          "Pops an element from a list, pushes it to another list and returns it. Block until an "
          "element is available otherwise. Deletes the list if the last element was popped."),
      Row("lindex", 3, R, 1, 1, 1, CmdLIndex, "list", "1.0.0",
          "Returns an element from a list by its index."),
      Row("linsert", 5, W | M, 1, 1, 1, CmdLInsert, "list", "2.2.0",
          "Inserts an element before or after another element in a list."),
      Row("llen", 2, R | F, 1, 1, 1, CmdLLen, "list", "1.0.0", "Returns the length of a list."),
      Row("lmove", 5, W | M, 1, 2, 1, CmdLMove, "list", "6.2.0",
          "Returns an element after popping it from one list and pushing it to another. Deletes "
          "the list if the last element was moved."),
      WithKeynum(Row("lmpop", -4, W, 0, 0, 0, CmdLMPop, "list", "7.0.0",
                     "Returns multiple elements from a list after removing them. Deletes the list "
                     "if the last element was popped."),
                 1),
      Row("lpop", -2, W | F, 1, 1, 1, CmdLPop, "list", "1.0.0",
          "Returns the first elements in a list after removing it. Deletes the list if the last "
          "element was popped."),
      Row("lpos", -3, R, 1, 1, 1, CmdLPos, "list", "6.0.6",
          "Returns the index of matching elements in a list."),
      Row("lpush", -3, W | M | F, 1, 1, 1, CmdLPush, "list", "1.0.0",
          "Prepends one or more elements to a list. Creates the key if it doesn't exist."),
      Row("lpushx", -3, W | M | F, 1, 1, 1, CmdLPushX, "list", "2.2.0",
          "Prepends one or more elements to a list only when the list exists."),
      Row("lrange", 4, R, 1, 1, 1, CmdLRange, "list", "1.0.0",
          "Returns a range of elements from a list."),
      Row("lrem", 4, W, 1, 1, 1, CmdLRem, "list", "1.0.0",
          "Removes elements from a list. Deletes the list if the last element was removed."),
      Row("lset", 4, W | M, 1, 1, 1, CmdLSet, "list", "1.0.0",
          "Sets the value of an element in a list by its index."),
      Row("ltrim", 4, W, 1, 1, 1, CmdLTrim, "list", "1.0.0",
          "Removes elements from both ends a list. Deletes the list if all elements were "
          "trimmed."),
      Row("rpop", -2, W | F, 1, 1, 1, CmdRPop, "list", "1.0.0",
          "Returns and removes the last elements of a list. Deletes the list if the last element "
          "was popped."),
      Row("rpoplpush", 3, W | M, 1, 2, 1, CmdRPopLPush, "list", "1.2.0",
          "Returns the last element of a list after removing and pushing it to another list. "
          "Deletes the list if the last element was popped."),
      Row("rpush", -3, W | M | F, 1, 1, 1, CmdRPush, "list", "1.0.0",
          "Appends one or more elements to a list. Creates the key if it doesn't exist."),
      Row("rpushx", -3, W | M | F, 1, 1, 1, CmdRPushX, "list", "2.2.0",
          "Appends an element to a list only when the list exists."),

      // ---- sets (set_family.cc) ----
      Row("sadd", -3, W | M | F, 1, 1, 1, CmdSAdd, "set", "1.0.0",
          "Adds one or more members to a set. Creates the key if it doesn't exist."),
      Row("scard", 2, R | F, 1, 1, 1, CmdSCard, "set", "1.0.0",
          "Returns the number of members in a set."),
      Row("sdiff", -2, R, 1, -1, 1, CmdSDiff, "set", "1.0.0",
          "Returns the difference of multiple sets."),
      Row("sdiffstore", -3, W | M, 1, -1, 1, CmdSDiffStore, "set", "1.0.0",
          "Stores the difference of multiple sets in a key."),
      Row("sinter", -2, R, 1, -1, 1, CmdSInter, "set", "1.0.0",
          "Returns the intersect of multiple sets."),
      WithKeynum(Row("sintercard", -3, R, 0, 0, 0, CmdSInterCard, "set", "7.0.0",
                     "Returns the number of members of the intersect of multiple sets."),
                 1),
      Row("sinterstore", -3, W | M, 1, -1, 1, CmdSInterStore, "set", "1.0.0",
          "Stores the intersect of multiple sets in a key."),
      Row("sismember", 3, R | F, 1, 1, 1, CmdSIsMember, "set", "1.0.0",
          "Determines whether a member belongs to a set."),
      Row("smembers", 2, R, 1, 1, 1, CmdSMembers, "set", "1.0.0",
          "Returns all members of a set."),
      Row("smismember", -3, R | F, 1, 1, 1, CmdSMIsMember, "set", "6.2.0",
          "Determines whether multiple members belong to a set."),
      Row("smove", 4, W | F, 1, 2, 1, CmdSMove, "set", "1.0.0",
          "Moves a member from one set to another."),
      Row("spop", -2, W | F, 1, 1, 1, CmdSPop, "set", "1.0.0",
          "Returns one or more random members from a set after removing them. Deletes the set "
          "if the last member was popped."),
      Row("srandmember", -2, R, 1, 1, 1, CmdSRandMember, "set", "1.0.0",
          "Get one or multiple random members from a set"),
      Row("srem", -3, W | F, 1, 1, 1, CmdSRem, "set", "1.0.0",
          "Removes one or more members from a set. Deletes the set if the last member was "
          "removed."),
      Row("sscan", -3, R, 1, 1, 1, CmdSScan, "set", "2.8.0", "Iterates over members of a set."),
      Row("sunion", -2, R, 1, -1, 1, CmdSUnion, "set", "1.0.0",
          "Returns the union of multiple sets."),
      Row("sunionstore", -3, W | M, 1, -1, 1, CmdSUnionStore, "set", "1.0.0",
          "Stores the union of multiple sets in a key."),

      // ---- sorted sets (zset_family.cc) ----
      WithKeynum(Row("bzmpop", -5, W | B, 0, 0, 0, CmdBZMPop, "sorted-set", "7.0.0",
                     "Removes and returns a member by score from one or more sorted sets. Blocks "
                     "until a member is available otherwise. Deletes the sorted set if the last "
                     "element was popped."),
                 2),
      Row("bzpopmax", -3, W | NS | F | B, 1, -2, 1, CmdBZPopMax, "sorted-set", "5.0.0",
          "Removes and returns the member with the highest score from one or more sorted sets. "
          "Blocks until a member available otherwise.  Deletes the sorted set if the last "
          "element was popped."),
      Row("bzpopmin", -3, W | NS | F | B, 1, -2, 1, CmdBZPopMin, "sorted-set", "5.0.0",
          "Removes and returns the member with the lowest score from one or more sorted sets. "
          "Blocks until a member is available otherwise. Deletes the sorted set if the last "
          "element was popped."),
      Row("zadd", -4, W | M | F, 1, 1, 1, CmdZAdd, "sorted-set", "1.2.0",
          "Add one or more members to a sorted set, or update its score if it already exists"),
      Row("zcard", 2, R | F, 1, 1, 1, CmdZCard, "sorted-set", "1.2.0",
          "Get the number of members in a sorted set"),
      Row("zcount", 4, R | F, 1, 1, 1, CmdZCount, "sorted-set", "2.0.0",
          "Count the members in a sorted set with scores within the given values"),
      WithKeynum(Row("zdiff", -3, R, 0, 0, 0, CmdZDiff, "sorted-set", "6.2.0",
                     "Subtract multiple sorted sets"),
                 1),
      WithKeynum(Row("zdiffstore", -4, W | M, 1, 1, 1, CmdZDiffStore, "sorted-set", "6.2.0",
                     "Subtract multiple sorted sets and store the resulting sorted set in a new "
                     "key"),
                 2),
      Row("zincrby", 4, W | M | F, 1, 1, 1, CmdZIncrBy, "sorted-set", "1.2.0",
          "Increment the score of a member in a sorted set"),
      WithKeynum(Row("zinter", -3, R, 0, 0, 0, CmdZInter, "sorted-set", "6.2.0",
                     "Intersect multiple sorted sets"),
                 1),
      WithKeynum(Row("zintercard", -3, R, 0, 0, 0, CmdZInterCard, "sorted-set", "7.0.0",
                     "Intersect multiple sorted sets and return the cardinality of the result"),
                 1),
      WithKeynum(Row("zinterstore", -4, W | M, 1, 1, 1, CmdZInterStore, "sorted-set", "2.0.0",
                     "Intersect multiple sorted sets and store the resulting sorted set in a new "
                     "key"),
                 2),
      Row("zlexcount", 4, R | F, 1, 1, 1, CmdZLexCount, "sorted-set", "2.8.9",
          "Count the number of members in a sorted set between a given lexicographical range"),
      WithKeynum(Row("zmpop", -4, W, 0, 0, 0, CmdZMPop, "sorted-set", "7.0.0",
                     "Remove and return members with scores in a sorted set"),
                 1),
      Row("zmscore", -3, R | F, 1, 1, 1, CmdZMScore, "sorted-set", "6.2.0",
          "Get the score associated with the given members in a sorted set"),
      Row("zpopmax", -2, W | F, 1, 1, 1, CmdZPopMax, "sorted-set", "5.0.0",
          "Remove and return members with the highest scores in a sorted set"),
      Row("zpopmin", -2, W | F, 1, 1, 1, CmdZPopMin, "sorted-set", "5.0.0",
          "Remove and return members with the lowest scores in a sorted set"),
      Row("zrandmember", -2, R, 1, 1, 1, CmdZRandMember, "sorted-set", "6.2.0",
          "Get one or multiple random elements from a sorted set"),
      Row("zrange", -4, R, 1, 1, 1, CmdZRange, "sorted-set", "1.2.0",
          "Return a range of members in a sorted set"),
      Row("zrangebylex", -4, R, 1, 1, 1, CmdZRangeByLex, "sorted-set", "2.8.9",
          "Return a range of members in a sorted set, by lexicographical range"),
      Row("zrangebyscore", -4, R, 1, 1, 1, CmdZRangeByScore, "sorted-set", "1.0.5",
          "Return a range of members in a sorted set, by score"),
      Row("zrangestore", -5, W | M, 1, 2, 1, CmdZRangeStore, "sorted-set", "6.2.0",
          "Store a range of members from sorted set into another key"),
      Row("zrank", 3, R | F, 1, 1, 1, CmdZRank, "sorted-set", "2.0.0",
          "Determine the index of a member in a sorted set"),
      Row("zrem", -3, W | F, 1, 1, 1, CmdZRem, "sorted-set", "1.2.0",
          "Remove one or more members from a sorted set"),
      Row("zremrangebylex", 4, W, 1, 1, 1, CmdZRemRangeByLex, "sorted-set", "2.8.9",
          "Remove all members in a sorted set between the given lexicographical range"),
      Row("zremrangebyrank", 4, W, 1, 1, 1, CmdZRemRangeByRank, "sorted-set", "2.0.0",
          "Remove all members in a sorted set within the given indexes"),
      Row("zremrangebyscore", 4, W, 1, 1, 1, CmdZRemRangeByScore, "sorted-set", "1.2.0",
          "Remove all members in a sorted set within the given scores"),
      Row("zrevrange", -4, R, 1, 1, 1, CmdZRevRange, "sorted-set", "1.2.0",
          "Return a range of members in a sorted set, by index, with scores ordered from high to "
          "low"),
      Row("zrevrangebylex", -4, R, 1, 1, 1, CmdZRevRangeByLex, "sorted-set", "2.8.9",
          "Return a range of members in a sorted set, by lexicographical range, ordered from "
          "higher to lower strings."),
      Row("zrevrangebyscore", -4, R, 1, 1, 1, CmdZRevRangeByScore, "sorted-set", "2.2.0",
          "Return a range of members in a sorted set, by score, with scores ordered from high to "
          "low"),
      Row("zrevrank", 3, R | F, 1, 1, 1, CmdZRevRank, "sorted-set", "2.0.0",
          "Determine the index of a member in a sorted set, with scores ordered from high to low"),
      Row("zscan", -3, R, 1, 1, 1, CmdZScan, "sorted-set", "2.8.0",
          "Incrementally iterate sorted sets elements and associated scores"),
      Row("zscore", 3, R | F, 1, 1, 1, CmdZScore, "sorted-set", "1.2.0",
          "Get the score associated with the given member in a sorted set"),
      WithKeynum(Row("zunion", -3, R, 0, 0, 0, CmdZUnion, "sorted-set", "6.2.0",
                     "Add multiple sorted sets"),
                 1),
      WithKeynum(Row("zunionstore", -4, W | M, 1, 1, 1, CmdZUnionStore, "sorted-set", "2.0.0",
                     "Add multiple sorted sets and store the resulting sorted set in a new key"),
                 2),

      // ---- geo (geo_family.cc) ----
      // GEORADIUS[BYMEMBER] ... STORE key: the option key is routed too.
      Row("geoadd", -5, W | M, 1, 1, 1, CmdGeoAdd, "geo", "3.2.0",
          "Add one or more geospatial items in the geospatial index represented using a sorted "
          "set"),
      Row("geodist", -4, R, 1, 1, 1, CmdGeoDist, "geo", "3.2.0",
          "Returns the distance between two members of a geospatial index"),
      Row("geohash", -2, R, 1, 1, 1, CmdGeoHash, "geo", "3.2.0",
          "Returns members of a geospatial index as standard geohash strings"),
      Row("geopos", -2, R, 1, 1, 1, CmdGeoPos, "geo", "3.2.0",
          "Returns longitude and latitude of members of a geospatial index"),
      WithOptionKey(Row("georadius", -6, W | M, 1, 1, 1, CmdGeoRadius, "geo", "3.2.0",
                        "Query a sorted set representing a geospatial index to fetch members "
                        "matching a given maximum distance from a point"),
                    GeoRadiusStoreKey),
      Row("georadius_ro", -6, R, 1, 1, 1, CmdGeoRadiusRo, "geo", "3.2.10",
          "A read-only variant for GEORADIUS"),
      WithOptionKey(
          Row("georadiusbymember", -5, W | M, 1, 1, 1, CmdGeoRadiusByMember, "geo", "3.2.0",
              "Query a sorted set representing a geospatial index to fetch members "
              "matching a given maximum distance from a member"),
          GeoRadiusStoreKey),
      Row("georadiusbymember_ro", -5, R, 1, 1, 1, CmdGeoRadiusByMemberRo, "geo", "3.2.10",
          "A read-only variant for GEORADIUSBYMEMBER"),
      Row("geosearch", -7, R, 1, 1, 1, CmdGeoSearch, "geo", "6.2.0",
          "Query a sorted set representing a geospatial index to fetch members inside an area of "
          "a box or a circle."),
      Row("geosearchstore", -8, W | M, 1, 2, 1, CmdGeoSearchStore, "geo", "6.2.0",
          "Query a sorted set representing a geospatial index to fetch members inside an area of "
          "a box or a circle, and store the result in another key."),

      // ---- bitmaps (bitmap_family.cc) ----
      Row("bitcount", -2, R, 1, 1, 1, CmdBitCount, "bitmap", "2.6.0",
          "Count set bits in a string"),
      Row("bitfield", -2, W | M, 1, 1, 1, CmdBitField, "bitmap", "3.2.0",
          "Perform arbitrary bitfield integer operations on strings"),
      Row("bitfield_ro", -2, R | F, 1, 1, 1, CmdBitFieldRo, "bitmap", "6.0.0",
          "Perform arbitrary bitfield integer operations on strings. Read-only variant of "
          "BITFIELD"),
      Row("bitop", -4, W | M, 2, -1, 1, CmdBitOp, "bitmap", "2.6.0",
          "Perform bitwise operations between strings"),
      Row("bitpos", -3, R, 1, 1, 1, CmdBitPos, "bitmap", "2.8.7",
          "Find first bit set or clear in a string"),
      Row("getbit", 3, R | F, 1, 1, 1, CmdGetBit, "bitmap", "2.2.0",
          "Returns the bit value at offset in the string value stored at key"),
      Row("setbit", 4, W | M, 1, 1, 1, CmdSetBit, "bitmap", "2.2.0",
          "Sets or clears the bit at offset in the string value stored at key"),

      // ---- hyperloglog (hll_family.cc) ----
      Row("pfadd", -2, W | M | F, 1, 1, 1, CmdPfAdd, "hyperloglog", "2.8.9",
          "Adds elements to a HyperLogLog key. Creates the key if it doesn't exist."),
      Row("pfcount", -2, R, 1, -1, 1, CmdPfCount, "hyperloglog", "2.8.9",
          "Returns the approximated cardinality of the set(s) observed by the HyperLogLog "
          "key(s)."),
      Row("pfdebug", 3, W | M | A, 2, 2, 1, CmdPfDebug, "hyperloglog", "2.8.9",
          "Internal commands for debugging HyperLogLog values."),
      Row("pfmerge", -2, W | M, 1, -1, 1, CmdPfMerge, "hyperloglog", "2.8.9",
          "Merges one or more HyperLogLog values into a single key."),
      Row("pfselftest", 1, A, 0, 0, 0, CmdPfSelfTest, "hyperloglog", "2.8.9",
          "An internal command for testing HyperLogLog values."),

      // ---- streams (stream_family.cc) ----
      Row("xack", -4, W | F, 1, 1, 1, CmdXAck, "stream", "5.0.0",
          "Returns the number of messages that were successfully acknowledged by the consumer "
          "group member of a stream."),
      Row("xadd", -5, W | M | F, 1, 1, 1, CmdXAdd, "stream", "5.0.0",
          "Appends a new message to a stream. Creates the key if it doesn't exist."),
      Row("xautoclaim", -6, W | F, 1, 1, 1, CmdXAutoClaim, "stream", "6.2.0",
          "Changes, or acquires, ownership of messages in a consumer group, as if the messages "
          "were delivered to as consumer group member."),
      Row("xclaim", -6, W | F, 1, 1, 1, CmdXClaim, "stream", "5.0.0",
          "Changes, or acquires, ownership of a message in a consumer group, as if the message "
          "was delivered a consumer group member."),
      Row("xdel", -3, W | F, 1, 1, 1, CmdXDel, "stream", "5.0.0",
          "Returns the number of messages after removing them from a stream."),
      Row("xgroup", -2, 0, 0, 0, 0, nullptr, "stream", "5.0.0",
          "A container for consumer groups commands.",
          {
              Row("create", -5, W | M, 2, 2, 1, CmdXGroupCreate, "stream", "5.0.0",
                  "Creates a consumer group."),
              Row("createconsumer", 5, W | M, 2, 2, 1, CmdXGroupCreateConsumer, "stream",
                  "6.2.0", "Creates a consumer in a consumer group."),
              Row("delconsumer", 5, W, 2, 2, 1, CmdXGroupDelConsumer, "stream", "5.0.0",
                  "Deletes a consumer from a consumer group."),
              Row("destroy", 4, W, 2, 2, 1, CmdXGroupDestroy, "stream", "5.0.0",
                  "Destroys a consumer group."),
              Row("help", 2, L | S, 0, 0, 0, CmdXGroupHelp, "stream", "5.0.0",
                  "Returns helpful text about the different subcommands."),
              Row("setid", -5, W, 2, 2, 1, CmdXGroupSetId, "stream", "5.0.0",
                  "Sets the last-delivered ID of a consumer group."),
          }),
      Row("xinfo", -2, 0, 0, 0, 0, nullptr, "stream", "5.0.0",
          "A container for stream introspection commands.",
          {
              Row("consumers", 4, R, 2, 2, 1, CmdXInfoConsumers, "stream", "5.0.0",
                  "Returns a list of the consumers in a consumer group."),
              Row("groups", 3, R, 2, 2, 1, CmdXInfoGroups, "stream", "5.0.0",
                  "Returns a list of the consumer groups of a stream."),
              Row("help", 2, L | S, 0, 0, 0, CmdXInfoHelp, "stream", "5.0.0",
                  "Returns helpful text about the different subcommands."),
              Row("stream", -3, R, 2, 2, 1, CmdXInfoStream, "stream", "5.0.0",
                  "Returns information about a stream."),
          }),
      Row("xlen", 2, R | F, 1, 1, 1, CmdXLen, "stream", "5.0.0",
          "Return the number of messages in a stream."),
      Row("xpending", -3, R, 1, 1, 1, CmdXPending, "stream", "5.0.0",
          "Returns the information and entries from a stream consumer group's pending entries "
          "list."),
      Row("xrange", -4, R, 1, 1, 1, CmdXRange, "stream", "5.0.0",
          "Returns the messages from a stream within a range of IDs."),
      WithStreamsKeys(Row("xread", -4, R | B, 0, 0, 0, CmdXRead, "stream", "5.0.0",
                          "Returns messages from multiple streams with IDs greater than the "
                          "ones requested. Blocks until a message is available otherwise."),
                      1),
      WithStreamsKeys(Row("xreadgroup", -7, W | B, 0, 0, 0, CmdXReadGroup, "stream", "5.0.0",
                          "Returns new or historical messages from a stream for a consumer in a "
                          "group. Blocks until a message is available otherwise."),
                      4),
      Row("xrevrange", -4, R, 1, 1, 1, CmdXRevRange, "stream", "5.0.0",
          "Returns the messages from a stream within a range of IDs in reverse order."),
      Row("xsetid", -3, W | M | F, 1, 1, 1, CmdXSetId, "stream", "5.0.0",
          "An internal command for replicating stream values."),
      Row("xtrim", -4, W, 1, 1, 1, CmdXTrim, "stream", "5.0.0",
          "Deletes messages from the beginning of a stream."),
      // ---- strings (string_family.cc) ----
      Row("append", 3, W | M | F, 1, 1, 1, CmdAppend, "string", "2.0.0",
          "Appends a string to the value of a key. Creates the key if it doesn't exist."),
      Row("decr", 2, W | M | F, 1, 1, 1, CmdDecr, "string", "1.0.0",
          "Decrements the integer value of a key by one. Uses 0 as initial value if the key "
          "doesn't exist."),
      Row("decrby", 3, W | M | F, 1, 1, 1, CmdDecrBy, "string", "1.0.0",
          "Decrements a number from the integer value of a key. Uses 0 as initial value if the key "
          "doesn't exist."),
      Row("get", 2, R | F, 1, 1, 1, CmdGet, "string", "1.0.0",
          "Returns the string value of a key."),
      Row("getdel", 2, W | F, 1, 1, 1, CmdGetDel, "string", "6.2.0",
          "Returns the string value of a key after deleting the key."),
      Row("getex", -2, W | F, 1, 1, 1, CmdGetEx, "string", "6.2.0",
          "Returns the string value of a key after setting its expiration time."),
      Row("getrange", 4, R, 1, 1, 1, CmdGetRange, "string", "2.4.0",
          "Returns a substring of the string stored at a key."),
      Row("getset", 3, W | M | F, 1, 1, 1, CmdGetSet, "string", "1.0.0",
          "Returns the previous string value of a key after setting it to a new value."),
      Row("incr", 2, W | M | F, 1, 1, 1, CmdIncr, "string", "1.0.0",
          "Increments the integer value of a key by one. Uses 0 as initial value if the key "
          "doesn't exist."),
      Row("incrby", 3, W | M | F, 1, 1, 1, CmdIncrBy, "string", "1.0.0",
          "Increments the integer value of a key by a number. Uses 0 as initial value if the key "
          "doesn't exist."),
      Row("incrbyfloat", 3, W | M | F, 1, 1, 1, CmdIncrByFloat, "string", "2.6.0",
          "Increment the floating point value of a key by a number. Uses 0 as initial value if the "
          "key doesn't exist."),
      Row("lcs", -3, R, 1, 2, 1, CmdLcs, "string", "7.0.0", "Finds the longest common substring."),
      Row("mget", -2, R | F, 1, -1, 1, CmdMGet, "string", "1.0.0",
          "Atomically returns the string values of one or more keys."),
      Row("mset", -3, W | M, 1, -1, 2, CmdMSet, "string", "1.0.1",
          "Atomically creates or modifies the string values of one or more keys."),
      Row("msetnx", -3, W | M, 1, -1, 2, CmdMSetNx, "string", "1.0.1",
          "Atomically modifies the string values of one or more keys only when all keys don't "
          "exist."),
      Row("psetex", 4, W | M, 1, 1, 1, CmdPSetEx, "string", "2.6.0",
          "Sets both string value and expiration time in milliseconds of a key. The key is created "
          "if it doesn't exist."),
      Row("set", -3, W | M, 1, 1, 1, CmdSet, "string", "1.0.0",
          "Sets the string value of a key, ignoring its type. The key is created if it doesn't "
          "exist."),
      Row("setex", 4, W | M, 1, 1, 1, CmdSetEx, "string", "2.0.0",
          "Sets the string value and expiration time of a key. Creates the key if it doesn't "
          "exist."),
      Row("setnx", 3, W | M | F, 1, 1, 1, CmdSetNx, "string", "1.0.0",
          "Set the string value of a key only when the key doesn't exist."),
      Row("setrange", 4, W | M, 1, 1, 1, CmdSetRange, "string", "2.2.0",
          "Overwrites a part of a string value with another by an offset. Creates the key if it "
          "doesn't exist."),
      Row("strlen", 2, R | F, 1, 1, 1, CmdStrLen, "string", "2.2.0",
          "Returns the length of a string value."),
      Row("substr", 4, R, 1, 1, 1, CmdGetRange, "string", "1.0.0",
          "Returns a substring from a string value."),
  };
}

// ASCII only, without the locale lookup std::tolower makes per character.
void Lower(std::string_view in, std::string* out) {
  out->assign(in);
  for (char& c : *out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  }
}


}  // namespace

CommandTable::CommandTable() {
  for (CommandId& row : Rows()) {
    auto cmd = std::make_unique<CommandId>(std::move(row));
    cmd->fullname = std::string(cmd->name);
    cmd->index = static_cast<uint32_t>(slots_.size());
    cmd->meta = FindMeta(cmd->fullname);
    slots_.push_back(cmd.get());
    for (CommandId& sub : cmd->subcommands) {
      sub.fullname = StrCat(cmd->name, "|", sub.name);
      sub.meta = FindMeta(sub.fullname);
      sub.index = static_cast<uint32_t>(slots_.size());
      slots_.push_back(&sub);
    }
    by_name_[std::string(cmd->name)] = cmd.get();
    commands_.push_back(std::move(cmd));
  }
}

const CommandId* CommandTable::Find(std::string_view name) const {
  thread_local std::string lower;
  Lower(name, &lower);
  auto it = by_name_.find(lower);
  return it == by_name_.end() ? nullptr : it->second;
}

const CommandId* CommandTable::Resolve(std::span<const std::string_view> args,
                                       std::string* error) const {
  const CommandId* cmd = Find(args[0]);
  if (!cmd) {
    // Redis: "unknown command '<name>', with args beginning with: 'a' 'b' "
    // quoting arguments until 128 bytes of them have been printed.
    std::string listed;
    for (size_t i = 1; i < args.size() && listed.size() < 128; i++) {
      StrAppend(&listed, "'", Clip(args[i], 128 - listed.size()), "' ");
    }
    *error = StrCat("ERR unknown command '", Clip(args[0], 128),
                    "', with args beginning with: ", listed);
    for (char& c : *error) {
      if (c == '\r' || c == '\n') c = ' ';
    }
    return nullptr;
  }
  if (cmd->subcommands.empty() || args.size() < 2) {
    if (!cmd->handler && args.size() >= 2) return nullptr;
    return cmd;
  }
  std::string lower;
  Lower(args[1], &lower);
  for (const CommandId& sub : cmd->subcommands) {
    if (sub.name == lower) return &sub;
  }
  std::string upper(cmd->name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  *error = StrCat("ERR unknown subcommand '", Clip(args[1], 128), "'. Try ", upper, " HELP.");
  for (char& c : *error) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return nullptr;
}

std::string ArityError(const CommandId& cmd) {
  return StrCat("ERR wrong number of arguments for '", cmd.fullname, "' command");
}

int64_t KeynumCount(const CommandId& cmd, std::span<const std::string_view> args) {
  if (cmd.keynum <= 0 || size_t(cmd.keynum) >= args.size()) return 0;
  int64_t n;
  if (!ParseInt64(args[cmd.keynum], &n) || n <= 0) return 0;
  if (n > int64_t(args.size()) - cmd.keynum - 1) return 0;
  return n;
}

std::vector<size_t> KeyPositions(const CommandId& cmd, std::span<const std::string_view> args) {
  std::vector<size_t> out;
  ForEachKeyPosition(cmd, args, [&](size_t pos) { out.push_back(pos); });
  return out;
}

}  // namespace lattice::node
