// File: node/families/util.h
//
// Small helpers shared by the command families: argument parsing with
// Redis's rules and key lookups that apply lazy expiry and keyspace stats.
//
// Thread-safety: same as the handlers that call them.
#ifndef LATTICE_NODE_FAMILIES_UTIL_H_
#define LATTICE_NODE_FAMILIES_UTIL_H_

#include <string_view>

#include "node/command.h"
#include "node/storage/keyspace.h"
#include "node/str_util.h"

namespace lattice::node {

inline bool Is(std::string_view arg, std::string_view word) { return EqualsIgnoreCase(arg, word); }

// Parses an int64 argument; on failure replies `error` and returns false.
inline bool ArgInt(CommandContext& ctx, std::string_view arg, int64_t* out,
                   std::string_view error = "ERR value is not an integer or out of range") {
  if (ParseInt64(arg, out)) return true;
  ctx.rb->Error(error);
  return false;
}

// A database index as SELECT and COPY ... DB take it (getIntFromObject,
// then the range check), replying Redis's error on failure.
bool ArgDbIndex(CommandContext& ctx, std::string_view arg, int* out);

// Replies Redis's arity error for the running command.
void ReplyArityError(CommandContext& ctx);

// Redis's string2ld: strtold over the whole argument, no leading space, no
// NaN, no overflow.
bool ParseLongDouble(std::string_view s, long double* out);
// Redis's ld2string(LD_STR_HUMAN): "%.17Lf" without trailing zeros.
std::string FormatLongDouble(long double v);

// Looks a key up for reading: lazy expiry, LRU touch, hit/miss counting.
Entry* LookupRead(CommandContext& ctx, std::string_view key);
// Like LookupRead without touching the LRU clock (EXISTS, TYPE, TTL,
// OBJECT: Redis's LOOKUP_NOTOUCH, which still counts hits and misses).
Entry* LookupNoTouch(CommandContext& ctx, std::string_view key);
// Looks a key up for writing: lazy expiry only.
Entry* LookupWrite(CommandContext& ctx, std::string_view key);

// Emits the delta for a write that leaves `e` as the key's whole state.
void EmitAssign(CommandContext& ctx, const Entry& e, int db = -1);
// `killed` is the stamp of the value the delete removed.
void EmitDelete(CommandContext& ctx, std::string_view key, crdt::Stamp stamp, int db,
                crdt::Stamp killed);
void EmitExpire(CommandContext& ctx, Entry& e, crdt::Stamp stamp);

}  // namespace lattice::node

#endif  // LATTICE_NODE_FAMILIES_UTIL_H_
