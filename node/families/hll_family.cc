// HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG and PFSELFTEST. An HLL is a
// string holding Redis 7.0's exact representation (hyperloglog.c): a 16-byte
// header ("HYLL", the encoding, three unused bytes, the cached cardinality
// in little-endian with bit 7 of its last byte meaning "stale"), then either
// 16384 6-bit registers packed LSB first (dense, 12304 bytes in all) or the
// sparse opcodes ZERO (00xxxxxx), XZERO (01xxxxxx yyyyyyyy) and VAL
// (1vvvvvll). Elements hash with MurmurHash64A (Redis's seed); the low 14
// bits pick the register and the run of zeros after them, plus one, is its
// candidate value. Cardinalities use Ertl's estimator, as Redis 5.0 and
// later do, so a Redis-made HLL and a Lattice-made one are the same bytes
// and count the same.
//
// Every write replicates as an HLL assignment of the whole string, which
// replicas merge register-wise with the HLL writes they got concurrently
// (Store; docs/consistency.md, "HyperLogLog"). PFCOUNT's cache refresh
// stays local: it does not change what the HLL counts.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "node/families/families.h"
#include "node/families/util.h"
#include "node/server.h"
#include "node/storage/hll.h"
#include "node/str_util.h"

namespace lattice::node {

namespace {

using hll::At;
using hll::CreateHll;
using hll::DenseGet;
using hll::DenseSet;
using hll::DenseSetRaw;
using hll::InvalidateCache;
using hll::IsVal;
using hll::IsXzero;
using hll::IsZero;
using hll::kCardByte;
using hll::kDense;
using hll::kDenseRegBytes;
using hll::kDenseSize;
using hll::kEncodingByte;
using hll::kHdrSize;
using hll::kP;
using hll::kQ;
using hll::kRegisterMax;
using hll::kRegisters;
using hll::kSparse;
using hll::kSparseValMaxLen;
using hll::kSparseValMaxValue;
using hll::kSparseZeroMaxLen;
using hll::Registers;
using hll::SparseToDense;
using hll::ValLen;
using hll::ValOp;
using hll::ValValue;
using hll::XzeroLen;
using hll::XzeroOp;
using hll::ZeroLen;
using hll::ZeroOp;

constexpr double kAlphaInf = 0.721347520444481703680;  // 0.5 / ln(2)

constexpr std::string_view kInvalidHll = "INVALIDOBJ Corrupted HLL object detected";
constexpr std::string_view kNotHll = "WRONGTYPE Key is not a valid HyperLogLog string value.";

// MurmurHash64A as Redis has it (little-endian reads, seed 0xadc83b19).
uint64_t MurmurHash64A(std::string_view s, uint64_t seed) {
  const uint64_t m = 0xc6a4a7935bd1e995ULL;
  const int r = 47;
  const auto* data = reinterpret_cast<const uint8_t*>(s.data());
  size_t len = s.size();
  uint64_t h = seed ^ (static_cast<uint64_t>(static_cast<int>(len)) * m);
  const uint8_t* end = data + (len - (len & 7));
  while (data != end) {
    uint64_t k = 0;
    for (int i = 7; i >= 0; i--) k = (k << 8) | data[i];
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
    data += 8;
  }
  size_t rest = len & 7;
  if (rest) {
    for (size_t i = rest; i-- > 0;) h ^= static_cast<uint64_t>(data[i]) << (8 * i);
    h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

// hllPatLen: the register an element maps to and the length of its
// "000...1" pattern (1..kQ+1).
int PatLen(std::string_view ele, long* reg) {
  uint64_t hash = MurmurHash64A(ele, 0xadc83b19ULL);
  *reg = static_cast<long>(hash & (kRegisters - 1));
  hash >>= kP;
  hash |= uint64_t{1} << kQ;
  int count = 1;
  for (uint64_t bit = 1; (hash & bit) == 0; bit <<= 1) count++;
  return count;
}

// isHLLObjectOrReply's checks past the type: a byte string with the magic,
// a known encoding, and the exact dense length.
bool IsHll(const Entry& e) {
  return !e.is_int() && !e.is_collection() && hll::IsHllString(e.bytes());
}

// The HLL entry at `key` for a command: sets *e (nullptr if missing); false
// after replying WRONGTYPE (another type, or a string that is no HLL).
bool HllOrReply(CommandContext& ctx, Entry* e) {
  if (!e) return true;
  if (e->type() != ObjType::kString) {
    ctx.rb->Error(errors::kWrongType);
    return false;
  }
  if (!IsHll(*e)) {
    ctx.rb->Error(kNotHll);
    return false;
  }
  return true;
}

// hllSparseSet: sets register `index` to `count` if that grows it, in
// place where possible, promoting to dense when the value does not fit a
// VAL opcode or the string would pass `max_bytes`. Returns 1 if the
// register grew, 0 if not, -1 for a corrupted HLL.
int SparseSet(std::string* s, long index, int count, int64_t max_bytes) {
  auto promote = [&]() -> int {
    if (!SparseToDense(s)) return -1;
    return DenseSet(Registers(s), index, count);
  };
  if (count > kSparseValMaxValue) return promote();

  auto u = [&](size_t i) { return At(*s, i); };
  size_t end = s->size();
  size_t p = kHdrSize;
  size_t prev = 0;  // 0: none
  long first = 0, span = 0;
  while (p < end) {
    size_t oplen = 1;
    uint8_t b = u(p);
    if (IsZero(b)) {
      span = ZeroLen(b);
    } else if (IsVal(b)) {
      span = ValLen(b);
    } else {
      span = XzeroLen(b, u(p + 1));
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = p;
    p += oplen;
    first += span;
  }
  if (span == 0 || p >= end) return -1;

  uint8_t op = u(p);
  bool is_zero = IsZero(op), is_xzero = IsXzero(op), is_val = !is_zero && !is_xzero;
  long runlen = is_zero ? ZeroLen(op) : is_xzero ? XzeroLen(op, u(p + 1)) : ValLen(op);

  bool simple = false;
  if (is_val) {
    if (ValValue(op) >= count) return 0;
    if (runlen == 1) {
      (*s)[p] = char(ValOp(count, 1));
      simple = true;
    }
  }
  if (!simple && is_zero && runlen == 1) {
    (*s)[p] = char(ValOp(count, 1));
    simple = true;
  }
  if (!simple) {
    // Split the opcode: at worst XZERO-VAL-XZERO, five bytes.
    uint8_t seq[5];
    uint8_t* n = seq;
    long last = first + span - 1;
    auto zeros = [&](long len) {
      if (len > kSparseZeroMaxLen) {
        XzeroOp(n, int(len));
        n += 2;
      } else {
        *n++ = ZeroOp(int(len));
      }
    };
    if (is_zero || is_xzero) {
      if (index != first) zeros(index - first);
      *n++ = ValOp(count, 1);
      if (index != last) zeros(last - index);
    } else {
      int curval = ValValue(op);
      if (index != first) *n++ = ValOp(curval, int(index - first));
      *n++ = ValOp(count, 1);
      if (index != last) *n++ = ValOp(curval, int(last - index));
    }
    int seqlen = int(n - seq);
    int oldlen = is_xzero ? 2 : 1;
    int deltalen = seqlen - oldlen;
    if (deltalen > 0 && int64_t(s->size()) + deltalen > max_bytes) return promote();
    // As Redis: the bytes from the next opcode move by deltalen and the
    // length changes by deltalen, so a truncated XZERO at the end (whose
    // second byte was the terminator) loses the sequence's last byte.
    size_t old_size = s->size();
    std::string tail = p + oldlen < old_size ? s->substr(p + oldlen) : std::string();
    s->resize(p);
    s->append(reinterpret_cast<char*>(seq), seqlen);
    s->append(tail);
    s->resize(old_size + deltalen);
    end = s->size();
  }

  // Merge adjacent VAL opcodes of equal value, scanning up to five opcodes
  // from the one before the change.
  p = prev ? prev : kHdrSize;
  int scanlen = 5;
  while (p < end && scanlen--) {
    uint8_t b = u(p);
    if (IsXzero(b)) {
      p += 2;
      continue;
    }
    if (IsZero(b)) {
      p++;
      continue;
    }
    if (p + 1 < end && IsVal(u(p + 1))) {
      int v1 = ValValue(b), v2 = ValValue(u(p + 1));
      if (v1 == v2) {
        int len = ValLen(b) + ValLen(u(p + 1));
        if (len <= kSparseValMaxLen) {
          (*s)[p + 1] = char(ValOp(v1, len));
          s->erase(p, 1);
          end--;
          continue;
        }
      }
    }
    p++;
  }
  InvalidateCache(s);
  return 1;
}

// hllAdd: 1 if a register grew, 0 if not, -1 for a corrupted HLL.
int Add(std::string* s, std::string_view ele, int64_t max_bytes) {
  long index;
  int count = PatLen(ele, &index);
  switch (uint8_t((*s)[kEncodingByte])) {
    case kDense:
      return DenseSet(Registers(s), index, count);
    case kSparse:
      return SparseSet(s, index, count, max_bytes);
    default:
      return -1;
  }
}

double Sigma(double x) {
  if (x == 1.) return INFINITY;
  double z_prime;
  double y = 1;
  double z = x;
  do {
    x *= x;
    z_prime = z;
    z += x * y;
    y += y;
  } while (z_prime != z);
  return z;
}

double Tau(double x) {
  if (x == 0. || x == 1.) return 0.;
  double z_prime;
  double y = 1.0;
  double z = 1 - x;
  do {
    x = std::sqrt(x);
    z_prime = z;
    y *= 0.5;
    z -= std::pow(1 - x, 2) * y;
  } while (z_prime != z);
  return z / 3;
}

// Ertl's estimate ("New cardinality estimation algorithms for HyperLogLog
// sketches", arXiv:1702.01284) from the register histogram, as hllCount.
uint64_t Estimate(const int* reghisto) {
  double m = kRegisters;
  double z = m * Tau((m - reghisto[kQ + 1]) / m);
  for (int j = kQ; j >= 1; --j) {
    z += reghisto[j];
    z *= 0.5;
  }
  z += m * Sigma(reghisto[0] / m);
  return static_cast<uint64_t>(llroundl(kAlphaInf * m * m / z));
}

// hllCount over an HLL string; *invalid is set for a sparse HLL that does
// not cover exactly kRegisters.
uint64_t Count(std::string_view s, bool* invalid) {
  int reghisto[64] = {0};
  if (uint8_t(s[kEncodingByte]) == kDense) {
    const uint8_t* regs = Registers(s);
    for (long i = 0; i < kRegisters; i++) reghisto[DenseGet(regs, i)]++;
  } else {
    long idx = 0;
    for (size_t p = kHdrSize; p < s.size();) {
      uint8_t b = uint8_t(s[p]);
      if (IsZero(b)) {
        int runlen = ZeroLen(b);
        idx += runlen;
        reghisto[0] += runlen;
        p++;
      } else if (IsXzero(b)) {
        int runlen = XzeroLen(b, At(s, p + 1));
        idx += runlen;
        reghisto[0] += runlen;
        p += 2;
      } else {
        int runlen = ValLen(b);
        idx += runlen;
        reghisto[ValValue(b)] += runlen;
        p++;
      }
    }
    if (idx != kRegisters) *invalid = true;
  }
  return Estimate(reghisto);
}

// The count of a set of raw (one byte each) registers.
uint64_t CountRaw(const uint8_t* regs) {
  int reghisto[64] = {0};
  for (long i = 0; i < kRegisters; i++) reghisto[regs[i] & 63]++;
  return Estimate(reghisto);
}

int64_t SparseMaxBytes(CommandContext& ctx) { return ctx.server->config().hll_sparse_max_bytes; }

// Redis's dbUnshareStringValue: an HLL written (or whose cache is
// refreshed) becomes a raw string. A change of encoding only: same stamp,
// nothing replicated.
Entry* Unshare(CommandContext& ctx, std::string_view key, Entry* e) {
  if (e->enc() == Enc::kRaw) return e;
  std::string raw(e->bytes());
  return ctx.DbFor(key).SetString(key, StringValue{Enc::kRaw, raw, 0, nullptr}, e->stamp(),
                                  Db::kKeepTtl, e->lru());
}

// Stores `s` as the key's new value (keeping a TTL) and replicates it as
// an HLL write, which merges register-wise with concurrent ones elsewhere
// (docs/consistency.md, "HyperLogLog"). `s` holds every register the key
// had, so here it is the key's only part; its floor is the newest plain
// write below it.
void Store(CommandContext& ctx, std::string_view key, bool existed, const std::string& s) {
  Db& db = ctx.DbFor(key);
  Shard& shard = ctx.ShardFor(key);
  int64_t at = existed ? Db::kKeepTtl : -1;
  if (!shard.replicating()) {
    db.SetString(key, StringValue{Enc::kRaw, s, 0, nullptr}, ctx.Tick(), at, ctx.LruClock());
    return;
  }
  crdt::Stamp floor{};
  if (const Entry* old = existed ? db.FindRaw(key) : nullptr) {
    const HllState* h = old->hll_merged() ? db.FindHll(key) : nullptr;
    floor = h ? h->floor : old->stamp();
  }
  crdt::Stamp stamp = ctx.Tick();
  Entry* e = db.SetHll(key, s, stamp, at, ctx.LruClock(), HllState{floor, {}});
  Delta d{Delta::Kind::kAssign, ctx.db, e->key(), stamp};
  d.value = e->bytes();
  d.expire_at = e->has_expire() ? e->expire_at() : -1;
  d.hll = true;
  d.hll_floor = floor;
  shard.Emit(d);
}

}  // namespace

void CmdPfAdd(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  Entry* e = LookupWrite(ctx, key);
  if (!HllOrReply(ctx, e)) return;
  bool existed = e != nullptr;
  std::string s = existed ? std::string(e->bytes()) : CreateHll();
  int updated = existed ? 0 : 1;
  int64_t max_bytes = SparseMaxBytes(ctx);
  for (size_t j = 2; j < ctx.args.size(); j++) {
    int r = Add(&s, ctx.args[j], max_bytes);
    if (r == 1) {
      updated++;
    } else if (r < 0) {
      // Redis changed the value in place up to the corrupted opcode and
      // returns without invalidating the cache: keep what it kept.
      if (!existed || s != e->bytes()) {
        Store(ctx, key, existed, s);
      } else {
        Unshare(ctx, key, e);
      }
      ctx.rb->Error(kInvalidHll);
      return;
    }
  }
  if (updated) {
    InvalidateCache(&s);
    Store(ctx, key, existed, s);
  } else {
    Unshare(ctx, key, e);
  }
  ctx.rb->Integer(updated ? 1 : 0);
}

void CmdPfCount(CommandContext& ctx) {
  if (ctx.args.size() > 2) {
    // Several keys: merge into raw registers on the fly; no cache.
    std::vector<uint8_t> max(kRegisters, 0);
    for (size_t j = 1; j < ctx.args.size(); j++) {
      Entry* e = LookupRead(ctx, ctx.args[j]);
      if (!e) continue;
      if (!HllOrReply(ctx, e)) return;
      if (!hll::MaxInto(max.data(), e->bytes())) {
        ctx.rb->Error(kInvalidHll);
        return;
      }
    }
    ctx.rb->Integer(static_cast<int64_t>(CountRaw(max.data())));
    return;
  }
  std::string_view key = ctx.args[1];
  Entry* e = LookupRead(ctx, key);
  if (!e) {
    ctx.rb->Integer(0);
    return;
  }
  if (!HllOrReply(ctx, e)) return;
  e = Unshare(ctx, key, e);
  auto* card = reinterpret_cast<uint8_t*>(e->mutable_bytes()) + kCardByte;
  uint64_t n = 0;
  if ((card[7] & 0x80) == 0) {
    for (int i = 7; i >= 0; i--) n = (n << 8) | card[i];
  } else {
    bool invalid = false;
    n = Count(e->bytes(), &invalid);
    if (invalid) {
      ctx.rb->Error(kInvalidHll);
      return;
    }
    // Redis writes the cache back into the value (and propagates it); here
    // it stays local: the stamp is unchanged, so replicas do not see a new
    // write that could shadow a concurrent PFADD.
    for (int i = 0; i < 8; i++) card[i] = uint8_t(n >> (8 * i));
  }
  ctx.rb->Integer(static_cast<int64_t>(n));
}

void CmdPfMerge(CommandContext& ctx) {
  std::vector<uint8_t> max(kRegisters, 0);
  bool use_dense = false;
  for (size_t j = 1; j < ctx.args.size(); j++) {
    Entry* e = LookupRead(ctx, ctx.args[j]);
    if (!e) continue;
    if (!HllOrReply(ctx, e)) return;
    if (uint8_t(e->bytes()[kEncodingByte]) == kDense) use_dense = true;
    if (!hll::MaxInto(max.data(), e->bytes())) {
      ctx.rb->Error(kInvalidHll);
      return;
    }
  }
  std::string_view key = ctx.args[1];
  Entry* e = LookupWrite(ctx, key);
  bool existed = e != nullptr;
  std::string s = existed ? std::string(e->bytes()) : CreateHll();
  if (use_dense && !SparseToDense(&s)) {
    ctx.rb->Error(kInvalidHll);
    return;
  }
  int64_t max_bytes = SparseMaxBytes(ctx);
  for (long j = 0; j < kRegisters; j++) {
    if (max[j] == 0) continue;
    if (uint8_t(s[kEncodingByte]) == kDense) {
      DenseSet(Registers(&s), j, max[j]);
    } else {
      SparseSet(&s, j, max[j], max_bytes);
    }
  }
  InvalidateCache(&s);
  Store(ctx, key, existed, s);
  ctx.rb->Ok();
}

// PFDEBUG <subcommand> <key>: GETREG, DECODE, ENCODING, TODENSE, as
// pfdebugCommand.
void CmdPfDebug(CommandContext& ctx) {
  std::string_view cmd = ctx.args[1], key = ctx.args[2];
  Entry* e = LookupWrite(ctx, key);
  if (!e) {
    ctx.rb->Error("ERR The specified key does not exist");
    return;
  }
  if (!HllOrReply(ctx, e)) return;
  e = Unshare(ctx, key, e);
  std::string s(e->bytes());
  if (Is(cmd, "getreg")) {
    if (ctx.args.size() != 3) return ReplyArityError(ctx);
    if (uint8_t(s[kEncodingByte]) == kSparse) {
      if (!SparseToDense(&s)) {
        ctx.rb->Error(kInvalidHll);
        return;
      }
      Store(ctx, key, true, s);
    }
    const uint8_t* regs = Registers(std::string_view(s));
    ctx.rb->ArrayHeader(kRegisters);
    for (long j = 0; j < kRegisters; j++) ctx.rb->Integer(DenseGet(regs, j));
  } else if (Is(cmd, "decode")) {
    if (ctx.args.size() != 3) return ReplyArityError(ctx);
    if (uint8_t(s[kEncodingByte]) != kSparse) {
      ctx.rb->Error("ERR HLL encoding is not sparse");
      return;
    }
    std::string out;
    for (size_t p = kHdrSize; p < s.size();) {
      uint8_t b = uint8_t(s[p]);
      if (IsZero(b)) {
        out += "z:" + std::to_string(ZeroLen(b)) + " ";
        p++;
      } else if (IsXzero(b)) {
        out += "Z:" + std::to_string(XzeroLen(b, At(s, p + 1))) + " ";
        p += 2;
      } else {
        out += "v:" + std::to_string(ValValue(b)) + "," + std::to_string(ValLen(b)) + " ";
        p++;
      }
    }
    if (!out.empty()) out.pop_back();
    ctx.rb->Bulk(out);
  } else if (Is(cmd, "encoding")) {
    if (ctx.args.size() != 3) return ReplyArityError(ctx);
    ctx.rb->SimpleString(uint8_t(s[kEncodingByte]) == kDense ? "dense" : "sparse");
  } else if (Is(cmd, "todense")) {
    if (ctx.args.size() != 3) return ReplyArityError(ctx);
    bool conv = false;
    if (uint8_t(s[kEncodingByte]) == kSparse) {
      if (!SparseToDense(&s)) {
        ctx.rb->Error(kInvalidHll);
        return;
      }
      conv = true;
      Store(ctx, key, true, s);
    }
    ctx.rb->Integer(conv ? 1 : 0);
  } else {
    ctx.rb->Error(StrCat("ERR Unknown PFDEBUG subcommand '", cmd, "'"));
  }
}

// PFSELFTEST, as pfselftestCommand: dense registers read back what was
// written, and a sparse and a dense HLL fed the same 10M elements agree,
// within six standard errors of the true count at every power of ten.
void CmdPfSelfTest(CommandContext& ctx) {
  std::mt19937_64 rng(static_cast<uint64_t>(ctx.now_ms));
  std::string dense(kDenseSize, '\0');
  uint8_t* regs = Registers(&dense);
  std::vector<uint8_t> bytes(kRegisters);
  for (int cycle = 0; cycle < 1000; cycle++) {
    for (long i = 0; i < kRegisters; i++) {
      bytes[i] = uint8_t(rng() & kRegisterMax);
      DenseSetRaw(regs, i, bytes[i]);
    }
    for (long i = 0; i < kRegisters; i++) {
      unsigned v = DenseGet(regs, i);
      if (v != bytes[i]) {
        ctx.rb->Error(
            StrCat("TESTFAILED Register ", i, " should be ", int(bytes[i]), " but is ", v));
        return;
      }
    }
  }
  std::memcpy(dense.data(), "HYLL", 4);
  std::memset(regs, 0, kDenseRegBytes);
  std::string sparse = CreateHll();
  int64_t max_bytes = SparseMaxBytes(ctx);
  double relerr = 1.04 / std::sqrt(double(kRegisters));
  int64_t checkpoint = 1;
  uint64_t seed = rng();
  for (int64_t j = 1; j <= 10000000; j++) {
    uint64_t ele = uint64_t(j) ^ seed;
    std::string_view v(reinterpret_cast<const char*>(&ele), sizeof ele);
    Add(&dense, v, max_bytes);
    Add(&sparse, v, max_bytes);
    if (j != checkpoint) continue;
    if (j < max_bytes / 2 && uint8_t(sparse[kEncodingByte]) != kSparse) {
      ctx.rb->Error("TESTFAILED sparse encoding not used");
      return;
    }
    bool invalid = false;
    uint64_t card = Count(dense, &invalid);
    if (card != Count(sparse, &invalid)) {
      ctx.rb->Error("TESTFAILED dense/sparse disagree");
      return;
    }
    int64_t abserr = checkpoint - int64_t(card);
    uint64_t maxerr = uint64_t(std::ceil(relerr * 6 * checkpoint));
    // Redis's allowance: at 10 a collision is statistically likely.
    if (j == 10) maxerr = 1;
    if (abserr < 0) abserr = -abserr;
    if (abserr > int64_t(maxerr)) {
      ctx.rb->Error(StrCat("TESTFAILED Too big error. card:", checkpoint, " abserr:", abserr));
      return;
    }
    checkpoint *= 10;
  }
  ctx.rb->Ok();
}

}  // namespace lattice::node
