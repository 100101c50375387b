// Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and
// BITFIELD_RO. Semantics, argument checks (in Redis's order) and reply
// bytes follow Redis 7.0's bitops.c. Bitmaps are strings, as in Redis: an
// integer-encoded value reads as its decimal bytes, and a write turns the
// value into a raw string, growing it in place (Db::ResizeBytes) before
// changing bits. Every write replicates as an assignment of the whole
// string (EmitAssign, last writer wins; docs/consistency.md, "Bitmaps").
#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "node/families/families.h"
#include "node/families/util.h"
#include "node/server.h"

namespace lattice::node {

namespace {

constexpr std::string_view kBitOffsetError = "ERR bit offset is not an integer or out of range";
constexpr std::string_view kBitValueError = "ERR bit is not an integer or out of range";
constexpr std::string_view kBitfieldTypeError =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but "
    "i64 is.";

// getBitOffsetFromArgument: a bit offset below proto-max-bulk-len * 8; with
// `hash` and a width, "#N" means N * bits (multiplied as Redis does, with
// two's complement wrap-around).
bool ParseBitOffset(CommandContext& ctx, std::string_view arg, bool hash, int bits, uint64_t* out) {
  bool usehash = !arg.empty() && arg[0] == '#' && hash && bits > 0;
  int64_t v;
  if (!ParseInt64(arg.substr(usehash ? 1 : 0), &v)) {
    ctx.rb->Error(kBitOffsetError);
    return false;
  }
  if (usehash) v = static_cast<int64_t>(static_cast<uint64_t>(v) * static_cast<uint64_t>(bits));
  if (v < 0 || (v >> 3) >= ctx.server->config().proto_max_bulk_len) {
    ctx.rb->Error(kBitOffsetError);
    return false;
  }
  *out = static_cast<uint64_t>(v);
  return true;
}

// getBitfieldTypeFromArgument: i1..i64 or u1..u63 (the width is read up to
// the first NUL, as strlen does).
bool ParseBitfieldType(CommandContext& ctx, std::string_view arg, bool* sign, int* bits) {
  int64_t n;
  if (arg.empty() || (arg[0] != 'i' && arg[0] != 'u')) {
    ctx.rb->Error(kBitfieldTypeError);
    return false;
  }
  *sign = arg[0] == 'i';
  std::string_view width = arg.substr(1);
  size_t nul = width.find('\0');
  if (nul != std::string_view::npos) width = width.substr(0, nul);
  if (!ParseInt64(width, &n) || n < 1 || (*sign && n > 64) || (!*sign && n > 63)) {
    ctx.rb->Error(kBitfieldTypeError);
    return false;
  }
  *bits = static_cast<int>(n);
  return true;
}

// lookupStringForBitCommand: the string at ctx.args[1], created or
// zero-padded so that bit `maxbit` exists, as a raw string whose bytes may
// be changed in place (the caller then emits it). nullptr after replying
// WRONGTYPE.
Entry* StringForBitWrite(CommandContext& ctx, uint64_t maxbit) {
  std::string_view key = ctx.args[1];
  size_t need = static_cast<size_t>(maxbit >> 3) + 1;
  Db& db = ctx.DbFor(key);
  Entry* e = LookupWrite(ctx, key);
  if (e && e->type() != ObjType::kString) {
    ctx.rb->Error(errors::kWrongType);
    return nullptr;
  }
  crdt::Stamp stamp = ctx.Tick();
  if (!e) {
    e = db.SetString(key, StringValue{Enc::kRaw, {}, 0, nullptr}, stamp, -1, ctx.LruClock());
  } else if (e->is_int()) {
    // Redis's dbUnshareStringValue: the decimal bytes become a raw string.
    char buf[24];
    std::string raw(e->StringValue(buf));
    e = db.SetString(key, StringValue{Enc::kRaw, raw, 0, nullptr}, e->stamp(), Db::kKeepTtl,
                     e->lru());
  }
  size_t old = e->bytes().size();
  e = db.ResizeBytes(e, std::max(old, need), stamp);
  if (need > old) std::memset(e->mutable_bytes() + old, 0, need - old);
  return e;
}

// The string at `key` for reading: sets *e (nullptr if missing) and *s;
// false after replying WRONGTYPE.
bool ReadString(CommandContext& ctx, std::string_view key, Entry** e, std::string_view* s,
                char* buf) {
  *e = LookupRead(ctx, key);
  if (*e && (*e)->type() != ObjType::kString) {
    ctx.rb->Error(errors::kWrongType);
    return false;
  }
  *s = *e ? (*e)->StringValue(buf) : std::string_view();
  return true;
}

uint64_t PopcountPortable(const unsigned char* p, size_t n) {
  uint64_t bits = 0;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    bits += __builtin_popcountll(w);
  }
  while (n--) bits += __builtin_popcount(*p++);
  return bits;
}

#if defined(__x86_64__)
// The POPCNT instruction (most x86-64 CPUs; checked at run time), four
// independent counters so the popcounts overlap.
__attribute__((target("popcnt"))) uint64_t PopcountHw(const unsigned char* p, size_t n) {
  uint64_t c0 = 0, c1 = 0, c2 = 0, c3 = 0;
  for (; n >= 32; p += 32, n -= 32) {
    uint64_t w[4];
    std::memcpy(w, p, 32);
    c0 += __builtin_popcountll(w[0]);
    c1 += __builtin_popcountll(w[1]);
    c2 += __builtin_popcountll(w[2]);
    c3 += __builtin_popcountll(w[3]);
  }
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    c0 += __builtin_popcountll(w);
  }
  while (n--) c1 += __builtin_popcount(*p++);
  return c0 + c1 + c2 + c3;
}
#endif

// redisPopcount: set bits in p[0, n).
uint64_t Popcount(const unsigned char* p, size_t n) {
#if defined(__x86_64__)
  static const bool hw = __builtin_cpu_supports("popcnt");
  if (hw) return PopcountHw(p, n);
#endif
  return PopcountPortable(p, n);
}

// redisBitpos: the position of the first bit equal to `bit` in p[0, count).
// Not found: -1 for a 1, count * 8 for a 0 (the string is taken as
// zero-padded on the right).
int64_t FindBit(const unsigned char* p, size_t count, int bit) {
  const unsigned char skip = bit ? 0 : 0xff;
  size_t i = 0;
  const uint64_t skipw = bit ? 0 : ~uint64_t{0};
  for (; i + 8 <= count; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (w != skipw) break;
  }
  for (; i < count; i++) {
    if (p[i] != skip) {
      unsigned v = bit ? p[i] : static_cast<unsigned char>(~p[i]);
      return static_cast<int64_t>(i) * 8 + (__builtin_clz(v) - 24);
    }
  }
  return bit ? -1 : static_cast<int64_t>(count) * 8;
}

// The range of BITCOUNT / BITPOS, normalized as Redis does: on return
// [start, end] are byte indexes, and in BIT mode the masks flag the bits of
// the first and last byte outside the range.
void NormalizeRange(int64_t totlen, bool isbit, int64_t* start, int64_t* end,
                    unsigned char* first_mask, unsigned char* last_mask) {
  if (isbit) totlen <<= 3;
  if (*start < 0) *start = totlen + *start;
  if (*end < 0) *end = totlen + *end;
  if (*start < 0) *start = 0;
  if (*end < 0) *end = 0;
  if (*end >= totlen) *end = totlen - 1;
  if (isbit && *start <= *end) {
    *first_mask = ~((1 << (8 - (*start & 7))) - 1) & 0xff;
    *last_mask = (1 << (7 - (*end & 7))) - 1;
    *start >>= 3;
    *end >>= 3;
  }
}

// BIT / BYTE; false after replying a syntax error.
bool ParseBitUnit(CommandContext& ctx, std::string_view arg, bool* isbit) {
  if (IsOpt(arg, "bit")) {
    *isbit = true;
  } else if (IsOpt(arg, "byte")) {
    *isbit = false;
  } else {
    ctx.rb->Error(errors::kSyntax);
    return false;
  }
  return true;
}

// ---- BITFIELD ----

enum class Overflow { kWrap, kSat, kFail };

// checkUnsignedBitfieldOverflow: 0 if value + incr fits in `bits` unsigned
// bits, else 1 (overflow) or -1 (underflow) with *limit the value to store.
int CheckUnsignedOverflow(uint64_t value, int64_t incr, int bits, Overflow ow, uint64_t* limit) {
  uint64_t max = bits == 64 ? UINT64_MAX : ((uint64_t{1} << bits) - 1);
  int64_t maxincr = static_cast<int64_t>(max - value);
  int64_t minincr = static_cast<int64_t>(-value);
  auto wrap = [&] {
    uint64_t mask = bits == 64 ? 0 : (~uint64_t{0} << bits);
    *limit = (value + static_cast<uint64_t>(incr)) & ~mask;
  };
  if (value > max || (incr > 0 && incr > maxincr)) {
    if (ow == Overflow::kWrap) {
      wrap();
    } else if (ow == Overflow::kSat) {
      *limit = max;
    }
    return 1;
  }
  if (incr < 0 && incr < minincr) {
    if (ow == Overflow::kWrap) {
      wrap();
      return 1;
    }
    if (ow == Overflow::kSat) *limit = 0;
    return -1;
  }
  return 0;
}

// checkSignedBitfieldOverflow, the signed counterpart.
int CheckSignedOverflow(int64_t value, int64_t incr, int bits, Overflow ow, int64_t* limit) {
  int64_t max = bits == 64 ? INT64_MAX : ((int64_t{1} << (bits - 1)) - 1);
  int64_t min = -max - 1;
  int64_t maxincr = static_cast<int64_t>(static_cast<uint64_t>(max) - static_cast<uint64_t>(value));
  int64_t minincr = static_cast<int64_t>(static_cast<uint64_t>(min) - static_cast<uint64_t>(value));
  auto wrap = [&] {
    uint64_t c = static_cast<uint64_t>(value) + static_cast<uint64_t>(incr);
    if (bits < 64) {
      uint64_t mask = ~uint64_t{0} << bits;
      if (c & (uint64_t{1} << (bits - 1))) {
        c |= mask;
      } else {
        c &= ~mask;
      }
    }
    *limit = static_cast<int64_t>(c);
  };
  if (value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr)) {
    if (ow == Overflow::kWrap) {
      wrap();
    } else if (ow == Overflow::kSat) {
      *limit = max;
    }
    return 1;
  }
  if (value < min || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr)) {
    if (ow == Overflow::kWrap) {
      wrap();
      return 1;
    }
    if (ow == Overflow::kSat) *limit = min;
    return -1;
  }
  return 0;
}

// Bit 0 is the most significant bit of the first byte (as SETBIT).
uint64_t GetUnsigned(const unsigned char* p, uint64_t offset, int bits) {
  uint64_t value = 0;
  for (int j = 0; j < bits; j++, offset++) {
    value = (value << 1) | ((p[offset >> 3] >> (7 - (offset & 7))) & 1);
  }
  return value;
}

int64_t GetSigned(const unsigned char* p, uint64_t offset, int bits) {
  uint64_t v = GetUnsigned(p, offset, bits);
  if (bits < 64 && (v & (uint64_t{1} << (bits - 1)))) v |= ~uint64_t{0} << bits;
  return static_cast<int64_t>(v);
}

void SetUnsigned(unsigned char* p, uint64_t offset, int bits, uint64_t value) {
  for (int j = 0; j < bits; j++, offset++) {
    unsigned bitval = (value >> (bits - 1 - j)) & 1;
    unsigned bit = 7 - (offset & 7);
    unsigned char& b = p[offset >> 3];
    b = static_cast<unsigned char>((b & ~(1u << bit)) | (bitval << bit));
  }
}

enum class FieldOp { kGet, kSet, kIncrBy };

struct BitfieldOp {
  uint64_t offset;
  int64_t i64;
  FieldOp op;
  Overflow ow;
  int bits;
  bool sign;
};

// bitfieldGeneric: BITFIELD, or BITFIELD_RO when `read_only` (GET only).
void BitfieldGeneric(CommandContext& ctx, bool read_only) {
  auto& a = ctx.args;
  std::vector<BitfieldOp> ops;
  Overflow ow = Overflow::kWrap;
  bool readonly = true;
  uint64_t highest_write = 0;
  for (size_t j = 2; j < a.size(); j++) {
    size_t remargs = a.size() - j - 1;
    std::string_view sub = a[j];
    FieldOp op;
    if (IsOpt(sub, "get") && remargs >= 2) {
      op = FieldOp::kGet;
    } else if (IsOpt(sub, "set") && remargs >= 3) {
      op = FieldOp::kSet;
    } else if (IsOpt(sub, "incrby") && remargs >= 3) {
      op = FieldOp::kIncrBy;
    } else if (IsOpt(sub, "overflow") && remargs >= 1) {
      std::string_view type = a[++j];
      if (IsOpt(type, "wrap")) {
        ow = Overflow::kWrap;
      } else if (IsOpt(type, "sat")) {
        ow = Overflow::kSat;
      } else if (IsOpt(type, "fail")) {
        ow = Overflow::kFail;
      } else {
        ctx.rb->Error("ERR Invalid OVERFLOW type specified");
        return;
      }
      continue;
    } else {
      ctx.rb->Error(errors::kSyntax);
      return;
    }
    bool sign;
    int bits;
    uint64_t offset;
    if (!ParseBitfieldType(ctx, a[j + 1], &sign, &bits)) return;
    if (!ParseBitOffset(ctx, a[j + 2], true, bits, &offset)) return;
    int64_t i64 = 0;
    if (op != FieldOp::kGet) {
      readonly = false;
      highest_write = std::max(highest_write, offset + bits - 1);
      if (!ArgInt(ctx, a[j + 3], &i64)) return;
    }
    ops.push_back(BitfieldOp{offset, i64, op, ow, bits, sign});
    j += op == FieldOp::kGet ? 2 : 3;
  }

  Entry* e;
  char buf[24];
  std::string_view cur;
  if (readonly) {
    if (!ReadString(ctx, a[1], &e, &cur, buf)) return;
  } else {
    if (read_only) {
      ctx.rb->Error("ERR BITFIELD_RO only supports the GET subcommand");
      return;
    }
    e = StringForBitWrite(ctx, highest_write);
    if (!e) return;
  }

  ctx.rb->ArrayHeader(static_cast<int64_t>(ops.size()));
  for (const BitfieldOp& op : ops) {
    if (op.op == FieldOp::kGet) {
      // Up to 9 bytes copied to a zero-padded buffer, so a field may run
      // past the end of the string.
      std::string_view s = readonly ? cur : e->bytes();
      unsigned char field[9] = {};
      uint64_t byte = op.offset >> 3;
      for (uint64_t i = 0; i < 9 && byte + i < s.size(); i++) field[i] = s[byte + i];
      uint64_t at = op.offset - byte * 8;
      if (op.sign) {
        ctx.rb->Integer(GetSigned(field, at, op.bits));
      } else {
        ctx.rb->Integer(static_cast<int64_t>(GetUnsigned(field, at, op.bits)));
      }
      continue;
    }
    auto* p = reinterpret_cast<unsigned char*>(e->mutable_bytes());
    bool incr = op.op == FieldOp::kIncrBy;
    if (op.sign) {
      int64_t oldval = GetSigned(p, op.offset, op.bits);
      int64_t newval, retval, wrapped = 0;
      int overflow;
      if (incr) {
        overflow = CheckSignedOverflow(oldval, op.i64, op.bits, op.ow, &wrapped);
        newval = overflow ? wrapped
                          : static_cast<int64_t>(static_cast<uint64_t>(oldval) +
                                                 static_cast<uint64_t>(op.i64));
        retval = newval;
      } else {
        newval = op.i64;
        overflow = CheckSignedOverflow(newval, 0, op.bits, op.ow, &wrapped);
        if (overflow) newval = wrapped;
        retval = oldval;
      }
      if (overflow && op.ow == Overflow::kFail) {
        ctx.rb->Null();
      } else {
        ctx.rb->Integer(retval);
        SetUnsigned(p, op.offset, op.bits, static_cast<uint64_t>(newval));
      }
    } else {
      uint64_t oldval = GetUnsigned(p, op.offset, op.bits);
      uint64_t newval, retval, wrapped = 0;
      int overflow;
      if (incr) {
        newval = oldval + static_cast<uint64_t>(op.i64);
        overflow = CheckUnsignedOverflow(oldval, op.i64, op.bits, op.ow, &wrapped);
        if (overflow) newval = wrapped;
        retval = newval;
      } else {
        newval = static_cast<uint64_t>(op.i64);
        overflow = CheckUnsignedOverflow(newval, 0, op.bits, op.ow, &wrapped);
        if (overflow) newval = wrapped;
        retval = oldval;
      }
      if (overflow && op.ow == Overflow::kFail) {
        ctx.rb->Null();
      } else {
        ctx.rb->Integer(static_cast<int64_t>(retval));
        SetUnsigned(p, op.offset, op.bits, newval);
      }
    }
  }
  // The string was created or grown even if every write failed (as in
  // Redis): replicate what it now is.
  if (!readonly) EmitAssign(ctx, *e);
}

}  // namespace

void CmdSetBit(CommandContext& ctx) {
  uint64_t offset;
  if (!ParseBitOffset(ctx, ctx.args[2], false, 0, &offset)) return;
  int64_t on;
  if (!ArgInt(ctx, ctx.args[3], &on, kBitValueError)) return;
  if (on & ~int64_t{1}) {
    ctx.rb->Error(kBitValueError);
    return;
  }
  Entry* e = StringForBitWrite(ctx, offset);
  if (!e) return;
  unsigned char& byte = reinterpret_cast<unsigned char*>(e->mutable_bytes())[offset >> 3];
  unsigned bit = 7 - (offset & 7);
  bool was = (byte >> bit) & 1;
  byte = static_cast<unsigned char>((byte & ~(1u << bit)) | (unsigned(on) << bit));
  EmitAssign(ctx, *e);
  ctx.rb->Integer(was);
}

void CmdGetBit(CommandContext& ctx) {
  uint64_t offset;
  if (!ParseBitOffset(ctx, ctx.args[2], false, 0, &offset)) return;
  Entry* e;
  std::string_view s;
  char buf[24];
  if (!ReadString(ctx, ctx.args[1], &e, &s, buf)) return;
  uint64_t byte = offset >> 3;
  int bit = 0;
  if (byte < s.size()) bit = (static_cast<unsigned char>(s[byte]) >> (7 - (offset & 7))) & 1;
  ctx.rb->Integer(bit);
}

void CmdBitCount(CommandContext& ctx) {
  auto& a = ctx.args;
  // Redis 7.0 looks the key up first: a missing key is 0 whatever follows.
  Entry* e;
  std::string_view s;
  char buf[24];
  if (!ReadString(ctx, a[1], &e, &s, buf)) return;
  if (!e) {
    ctx.rb->Integer(0);
    return;
  }
  int64_t start, end;
  unsigned char first_mask = 0, last_mask = 0;
  if (a.size() == 4 || a.size() == 5) {
    if (!ArgInt(ctx, a[2], &start) || !ArgInt(ctx, a[3], &end)) return;
    if (start < 0 && end < 0 && start > end) {
      ctx.rb->Integer(0);
      return;
    }
    bool isbit = false;
    if (a.size() == 5 && !ParseBitUnit(ctx, a[4], &isbit)) return;
    NormalizeRange(static_cast<int64_t>(s.size()), isbit, &start, &end, &first_mask, &last_mask);
  } else if (a.size() == 2) {
    start = 0;
    end = static_cast<int64_t>(s.size()) - 1;
  } else {
    ctx.rb->Error(errors::kSyntax);
    return;
  }
  if (start > end) {
    ctx.rb->Integer(0);
    return;
  }
  auto* p = reinterpret_cast<const unsigned char*>(s.data());
  uint64_t count = Popcount(p + start, static_cast<size_t>(end - start + 1));
  // Bits of the edge bytes outside a BIT range.
  count -= __builtin_popcount(p[start] & first_mask);
  count -= __builtin_popcount(p[end] & last_mask);
  ctx.rb->Integer(static_cast<int64_t>(count));
}

void CmdBitPos(CommandContext& ctx) {
  auto& a = ctx.args;
  int64_t bit;
  if (!ArgInt(ctx, a[2], &bit)) return;
  if (bit != 0 && bit != 1) {
    ctx.rb->Error("ERR The bit argument must be 1 or 0.");
    return;
  }
  // A missing key is an infinite run of zeros, whatever follows.
  Entry* e;
  std::string_view s;
  char buf[24];
  if (!ReadString(ctx, a[1], &e, &s, buf)) return;
  if (!e) {
    ctx.rb->Integer(bit ? -1 : 0);
    return;
  }
  int64_t totlen = static_cast<int64_t>(s.size());
  int64_t start, end;
  bool end_given = false;
  unsigned char first_mask = 0, last_mask = 0;
  if (a.size() >= 4 && a.size() <= 6) {
    if (!ArgInt(ctx, a[3], &start)) return;
    bool isbit = false;
    if (a.size() == 6 && !ParseBitUnit(ctx, a[5], &isbit)) return;
    if (a.size() >= 5) {
      if (!ArgInt(ctx, a[4], &end)) return;
      end_given = true;
    } else {
      end = totlen - 1;
    }
    NormalizeRange(totlen, isbit, &start, &end, &first_mask, &last_mask);
  } else if (a.size() == 3) {
    start = 0;
    end = totlen - 1;
  } else {
    ctx.rb->Error(errors::kSyntax);
    return;
  }
  if (start > end) {
    ctx.rb->Integer(-1);
    return;
  }
  auto* p = reinterpret_cast<const unsigned char*>(s.data());
  int64_t bytes = end - start + 1;
  int64_t pos;
  // As Redis: the first and last bytes of a BIT range are searched with the
  // bits outside the range forced to the value not looked for.
  auto edge = [&](unsigned char c, unsigned char mask) -> unsigned char {
    return bit ? (c & ~mask) : (c | mask);
  };
  do {
    if (first_mask) {
      unsigned char c = edge(p[start], first_mask);
      if (last_mask && bytes == 1) c = edge(c, last_mask);
      pos = FindBit(&c, 1, int(bit));
      if (bytes == 1 || (pos != -1 && pos != 8)) break;
      start++;
      bytes--;
    }
    int64_t cur = bytes - (last_mask ? 1 : 0);
    if (cur > 0) {
      pos = FindBit(p + start, static_cast<size_t>(cur), int(bit));
      if (bytes == cur || (pos != -1 && pos != cur * 8)) break;
      start += cur;
      bytes -= cur;
    }
    unsigned char c = edge(p[end], last_mask);
    pos = FindBit(&c, 1, int(bit));
  } while (false);
  // With an explicit end, a range of ones has no clear bit (no padding).
  if (end_given && bit == 0 && pos == bytes * 8) {
    ctx.rb->Integer(-1);
    return;
  }
  if (pos != -1) pos += start * 8;
  ctx.rb->Integer(pos);
}

void CmdBitOp(CommandContext& ctx) {
  enum class Op { kAnd, kOr, kXor, kNot };
  auto& a = ctx.args;
  Op op;
  if (IsOpt(a[1], "and")) {
    op = Op::kAnd;
  } else if (IsOpt(a[1], "or")) {
    op = Op::kOr;
  } else if (IsOpt(a[1], "xor")) {
    op = Op::kXor;
  } else if (IsOpt(a[1], "not")) {
    op = Op::kNot;
  } else {
    ctx.rb->Error(errors::kSyntax);
    return;
  }
  if (op == Op::kNot && a.size() != 4) {
    ctx.rb->Error("ERR BITOP NOT must be called with a single source key.");
    return;
  }
  size_t n = a.size() - 3;
  std::vector<std::string_view> src(n);
  std::vector<std::array<char, 24>> bufs(n);
  size_t maxlen = 0;
  for (size_t j = 0; j < n; j++) {
    Entry* e;
    if (!ReadString(ctx, a[j + 3], &e, &src[j], bufs[j].data())) return;
    maxlen = std::max(maxlen, src[j].size());
  }
  std::string_view dst = a[2];
  if (maxlen == 0) {
    Db& db = ctx.DbFor(dst);
    if (Entry* e = db.Find(dst, ctx.now_ms)) {
      Killed killed = KilledOf(*e);
      db.Delete(dst);
      EmitDelete(ctx, dst, ctx.Tick(), ctx.db, killed);
    }
    ctx.rb->Integer(0);
    return;
  }
  // Sources are read in full before the destination (maybe one of them)
  // is replaced.
  std::string res(maxlen, '\0');
  auto* __restrict r = reinterpret_cast<unsigned char*>(res.data());
  if (!src[0].empty()) std::memcpy(r, src[0].data(), src[0].size());
  if (op == Op::kNot) {
    for (size_t i = 0; i < maxlen; i++) r[i] = static_cast<unsigned char>(~r[i]);
  }
  for (size_t j = 1; j < n; j++) {
    auto* __restrict s = reinterpret_cast<const unsigned char*>(src[j].data());
    size_t len = src[j].size();
    switch (op) {
      case Op::kAnd:
        for (size_t i = 0; i < len; i++) r[i] &= s[i];
        std::memset(r + len, 0, maxlen - len);
        break;
      case Op::kOr:
        for (size_t i = 0; i < len; i++) r[i] |= s[i];
        break;
      case Op::kXor:
        for (size_t i = 0; i < len; i++) r[i] ^= s[i];
        break;
      case Op::kNot:
        break;
    }
  }
  // Redis stores the result as a raw string whatever its length.
  Entry* e = ctx.DbFor(dst).SetString(dst, StringValue{Enc::kRaw, res, 0, nullptr}, ctx.Tick(), -1,
                                      ctx.LruClock());
  EmitAssign(ctx, *e);
  ctx.rb->Integer(static_cast<int64_t>(maxlen));
}

void CmdBitField(CommandContext& ctx) { BitfieldGeneric(ctx, false); }

void CmdBitFieldRo(CommandContext& ctx) { BitfieldGeneric(ctx, true); }

}  // namespace lattice::node
