// File: node/families/util.h
//
// Small helpers shared by the command families: argument parsing with
// Redis's rules and key lookups that apply lazy expiry and keyspace stats.
//
// Thread-safety: same as the handlers that call them.
#ifndef LATTICE_NODE_FAMILIES_UTIL_H_
#define LATTICE_NODE_FAMILIES_UTIL_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "node/command.h"
#include "node/storage/keyspace.h"
#include "node/str_util.h"
#include "node/write_path.h"

namespace lattice::node {

inline bool Is(std::string_view arg, std::string_view word) { return EqualsIgnoreCase(arg, word); }

// An option word as Redis compares it (strcasecmp over the C string: it
// ends at its first NUL byte, so "count\0x" is COUNT).
inline std::string_view COption(std::string_view arg) { return arg.substr(0, arg.find('\0')); }
inline bool IsOpt(std::string_view arg, std::string_view word) { return Is(COption(arg), word); }

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

// Redis's getDoubleFromObject (string2d): strtod over the whole argument,
// no leading space, no overflow, no underflow to zero, no NaN.
bool ParseDouble(std::string_view s, double* out);
// ParseDouble, replying `error` on failure.
bool ArgDouble(CommandContext& ctx, std::string_view arg, double* out,
               std::string_view error = errors::kNotFloat);

// Redis's string2ld: strtold over the whole argument, no leading space, no
// NaN, no overflow.
bool ParseLongDouble(std::string_view s, long double* out);
// Redis's ld2string(LD_STR_HUMAN): "%.17Lf" without trailing zeros.
std::string FormatLongDouble(long double v);

// A SCAN-family cursor (an unsigned 64-bit decimal), or "ERR invalid cursor".
bool ParseScanCursor(CommandContext& ctx, std::string_view arg, uint64_t* out);
// HSCAN/SSCAN options from args[first]: MATCH and COUNT (a hint).
// *use_pattern is false when everything matches. Replies Redis's error on
// failure.
bool ParseScanOptions(CommandContext& ctx, size_t first, std::string_view* pattern,
                      bool* use_pattern);
// The reply to a scan of a missing key: cursor 0, no elements.
void ReplyEmptyScan(CommandContext& ctx);

// Looks a key up for reading: lazy expiry, LRU touch, hit/miss counting.
Entry* LookupRead(CommandContext& ctx, std::string_view key);
// Like LookupRead without touching the LRU clock (EXISTS, TYPE, TTL,
// OBJECT: Redis's LOOKUP_NOTOUCH, which still counts hits and misses).
Entry* LookupNoTouch(CommandContext& ctx, std::string_view key);
// Looks a key up for writing: lazy expiry only.
Entry* LookupWrite(CommandContext& ctx, std::string_view key);

// Emits the delta for a write that leaves `e` as the key's whole state (a
// string, or a collection copied whole by RENAME/COPY: every element
// written anew under e's stamp).
void EmitAssign(CommandContext& ctx, const Entry& e, int db = -1);

// What deleting entry `e` removes, captured before it goes: for a string
// its stamp; for a collection what it had seen (an observed-remove: a
// concurrent add elsewhere survives the delete).
struct Killed {
  crdt::Stamp stamp{};
  bool collection = false;
  crdt::Tombstone observed;
};
Killed KilledOf(const Entry& e);
void EmitDelete(CommandContext& ctx, std::string_view key, crdt::Stamp stamp, int db,
                const Killed& killed);
// `killed` is the stamp of the value the delete removed.
void EmitDelete(CommandContext& ctx, std::string_view key, crdt::Stamp stamp, int db,
                crdt::Stamp killed);
void EmitExpire(CommandContext& ctx, Entry& e, crdt::Stamp stamp);

// One command's write to one collection key (the write path of hashes and
// sets): finds the collection, or creates it on the first add; hands out the
// command's dot (one stamp per command and key); records the element
// operations for the delta; and at Done() stamps the entry, ships the
// delta and deletes the key if its last element went. Replicating nodes
// only pay for the delta.
//
//   CollectionWrite w(ctx, key, ObjType::kSet);
//   if (!w.Open()) return;            // replied WRONGTYPE
//   if (SetObject* s = w.Create<SetObject>()) ...
//   w.Done();
class CollectionWrite {
 public:
  CollectionWrite(CommandContext& ctx, std::string_view key, ObjType type, int db = -1);
  ~CollectionWrite();
  CollectionWrite(const CollectionWrite&) = delete;
  CollectionWrite& operator=(const CollectionWrite&) = delete;

  // Looks the key up; false after replying WRONGTYPE (if `reply`).
  bool Open(bool reply = true);
  bool exists() const { return e_ != nullptr; }
  Entry* entry() const { return e_; }
  template <typename T>
  T* Get() const {
    return e_ ? static_cast<T*>(e_->collection()) : nullptr;
  }
  // The collection, created empty if missing.
  template <typename T>
  T* Create() {
    if (!e_) Make(std::make_unique<T>());
    return static_cast<T*>(e_->collection());
  }
  // The stamp of this command's write.
  crdt::Stamp Dot();
  // The dot of the next element version this command puts: the write's
  // stamp with sub 1, 2, ...; its kPut op carries the same sub. One dot per
  // element, so that a later change replacing one of them names it alone.
  crdt::Stamp ElementDot() {
    crdt::Stamp d = Dot();
    d.sub = ++subs_;
    return d;
  }
  bool replicating() const { return replicating_; }
  // Records one element operation for the delta (no-op standalone). The
  // views must stay valid until Done(); Keep() stores a string until then.
  void Record(ElementOp op);
  std::string_view Keep(std::string s);
  // Marks the collection changed (an op recorded implies it).
  void Touch() { changed_ = true; }
  // Finishes the write. Returns true if the key still exists.
  bool Done();

 private:
  void Make(std::unique_ptr<Collection> c);

  CommandContext& ctx_;
  std::string_view key_;
  int db_index_;
  Db& db_;
  Shard& shard_;
  ObjType type_;
  bool replicating_;
  Entry* e_ = nullptr;
  bool out_of_leaves_ = false;
  bool changed_ = false;
  bool done_ = false;
  crdt::Stamp dot_{};
  uint64_t prev_ = 0;
  uint32_t subs_ = 0;
  ElementsDelta ed_;
  std::vector<std::unique_ptr<std::string>> kept_;
};

}  // namespace lattice::node

#endif  // LATTICE_NODE_FAMILIES_UTIL_H_
