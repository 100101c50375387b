// File: node/command_meta.h
//
// Redis 7.0's metadata of each command, kept beside the command table
// (node/command_table.cc) and keyed by the command's full name ("get",
// "config|get"): ACL categories, the command flags Redis reports, command
// tips, key specs, and the COMMAND DOCS fields (summary, since, group,
// complexity, doc_flags, deprecated_since, replaced_by, history, arguments).
// COMMAND INFO and COMMAND DOCS print from it (node/families/server_family.cc)
// and access control can be built from it alone.
//
// The table (node/command_meta.cc) is generated from redis-server 7.0.15 by
// tests/tools/gen_command_meta.py, which also holds the hand-written entries
// of commands Redis 7.0.15 does not know (LATTICE, CLIENT SETINFO). It holds
// every Redis 7.0.15 command and subcommand, whether or not the command table
// has a row for it yet, so a row added later finds its metadata by name
// without anyone touching this file.
//
// Thread-safety: constant data, safe to read from any thread.
#ifndef LATTICE_NODE_COMMAND_META_H_
#define LATTICE_NODE_COMMAND_META_H_

#include <cstdint>
#include <span>
#include <string_view>

namespace lattice::node {

struct CommandId;

// Redis's ACL categories; the bit order is the order Redis prints them in.
enum AclCategory : uint32_t {
  kAclKeyspace = 1 << 0,
  kAclRead = 1 << 1,
  kAclWrite = 1 << 2,
  kAclSet = 1 << 3,
  kAclSortedSet = 1 << 4,
  kAclList = 1 << 5,
  kAclHash = 1 << 6,
  kAclString = 1 << 7,
  kAclBitmap = 1 << 8,
  kAclHyperLogLog = 1 << 9,
  kAclGeo = 1 << 10,
  kAclStream = 1 << 11,
  kAclPubSub = 1 << 12,
  kAclAdmin = 1 << 13,
  kAclFast = 1 << 14,
  kAclSlow = 1 << 15,
  kAclBlocking = 1 << 16,
  kAclDangerous = 1 << 17,
  kAclConnection = 1 << 18,
  kAclTransaction = 1 << 19,
  kAclScripting = 1 << 20,
};
inline constexpr int kAclCategoryCount = 21;
// "keyspace", "read", ... for bit i (without the '@').
std::string_view AclCategoryName(int bit);

// The command flags Redis 7.0 reports in COMMAND INFO, in its print order.
enum RedisFlag : uint32_t {
  kRfWrite = 1 << 0,
  kRfReadonly = 1 << 1,
  kRfDenyoom = 1 << 2,
  kRfModule = 1 << 3,
  kRfAdmin = 1 << 4,
  kRfPubsub = 1 << 5,
  kRfNoscript = 1 << 6,
  kRfBlocking = 1 << 7,
  kRfLoading = 1 << 8,
  kRfStale = 1 << 9,
  kRfSkipMonitor = 1 << 10,
  kRfSkipSlowlog = 1 << 11,
  kRfAsking = 1 << 12,
  kRfFast = 1 << 13,
  kRfNoAuth = 1 << 14,
  kRfNoMandatoryKeys = 1 << 15,
  kRfNoAsyncLoading = 1 << 16,
  kRfNoMulti = 1 << 17,
  kRfMovablekeys = 1 << 18,
  kRfAllowBusy = 1 << 19,
};
inline constexpr int kRedisFlagCount = 20;
std::string_view RedisFlagName(int bit);

// Key spec flags, in Redis's print order.
enum KeySpecFlag : uint32_t {
  kKsRO = 1 << 0,
  kKsRW = 1 << 1,
  kKsOW = 1 << 2,
  kKsRM = 1 << 3,
  kKsAccess = 1 << 4,
  kKsUpdate = 1 << 5,
  kKsInsert = 1 << 6,
  kKsDelete = 1 << 7,
  kKsNotKey = 1 << 8,
  kKsIncomplete = 1 << 9,
  kKsVariableFlags = 1 << 10,
};
inline constexpr int kKeySpecFlagCount = 11;
std::string_view KeySpecFlagName(int bit);

// Redis 7.0 key spec: where the keys start (begin_search) and how many
// follow (find_keys).
struct KeySpec {
  uint32_t flags = 0;  // KeySpecFlag bits
  std::string_view notes;
  enum class Begin : uint8_t { kIndex, kKeyword, kUnknown };
  Begin begin = Begin::kUnknown;
  int index = 0;             // kIndex: argument position of the first key
  std::string_view keyword;  // kKeyword: the token before the keys...
  int startfrom = 0;         // ...searched from this position (negative: from the end)
  enum class Find : uint8_t { kRange, kKeynum, kUnknown };
  Find find = Find::kUnknown;
  int lastkey = 0;    // kRange: last key relative to the first (negative: from the end)
  int keystep = 0;    // kRange and kKeynum
  int limit = 0;      // kRange
  int keynumidx = 0;  // kKeynum: the count's position relative to begin_search
  int firstkey = 0;   // kKeynum: first key relative to begin_search
};

enum class ArgType : uint8_t {
  kString,
  kInteger,
  kDouble,
  kKey,
  kPattern,
  kUnixTime,
  kPureToken,
  kOneof,
  kBlock,
};
std::string_view ArgTypeName(ArgType t);  // "string", "unix-time", "pure-token"...

enum ArgFlag : uint8_t {
  kArgOptional = 1 << 0,
  kArgMultiple = 1 << 1,
  kArgMultipleToken = 1 << 2,
};
inline constexpr int kArgFlagCount = 3;
std::string_view ArgFlagName(int bit);

// One argument of COMMAND DOCS (oneof and block nest further arguments).
struct CommandArg {
  std::string_view name;
  ArgType type = ArgType::kString;
  int key_spec_index = -1;  // kKey: index into the command's key_specs
  std::string_view token;
  std::string_view summary;
  std::string_view since;
  std::string_view deprecated_since;
  uint8_t flags = 0;  // ArgFlag bits
  std::span<const CommandArg> args;
};

enum DocFlag : uint8_t {
  kDocDeprecated = 1 << 0,
  kDocSyscmd = 1 << 1,
};
inline constexpr int kDocFlagCount = 2;
std::string_view DocFlagName(int bit);

struct HistoryEntry {
  std::string_view version;
  std::string_view text;
};

struct CommandMeta {
  std::string_view fullname;  // "get", "config|get"
  // True when the values are redis-server 7.0.15's; false for commands it
  // does not know (LATTICE, CLIENT SETINFO), whose values are documented in
  // tests/tools/gen_command_meta.py.
  bool redis = false;
  uint32_t acl = 0;    // AclCategory bits
  uint32_t flags = 0;  // RedisFlag bits, when has_flags
  // Whether `flags` is set; otherwise COMMAND INFO reports the row's flags.
  bool has_flags = false;
  std::span<const std::string_view> tips;
  std::span<const KeySpec> key_specs;
  // COMMAND DOCS.
  std::string_view summary;
  std::string_view since;
  std::string_view group;
  std::string_view complexity;
  bool has_complexity = false;
  uint8_t doc_flags = 0;  // DocFlag bits
  std::string_view deprecated_since;
  std::string_view replaced_by;
  std::span<const HistoryEntry> history;
  std::span<const CommandArg> args;
  bool has_args = false;  // Redis prints "arguments" only for commands that declare them
};

// The metadata of a full name ("config|get"; lowercase), or nullptr.
const CommandMeta* FindMeta(std::string_view fullname);
// The metadata of a command of the table (CommandTable fills cmd.meta; this
// falls back to a lookup by cmd.fullname), or nullptr.
const CommandMeta* MetaOf(const CommandId& cmd);
// Every entry, sorted by fullname.
std::span<const CommandMeta> AllCommandMeta();

}  // namespace lattice::node

#endif  // LATTICE_NODE_COMMAND_META_H_
