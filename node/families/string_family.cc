// String commands. Semantics and reply bytes follow Redis 7.0's t_string.c;
// every write goes through the keyspace with a fresh Lamport stamp and emits
// its delta (node/write_path.h). Counters (INCR and friends) are PN-counters
// so that replicas can later sum concurrent increments.
#include <climits>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "node/families/families.h"
#include "node/families/util.h"
#include "node/cluster/merge.h"
#include "node/server.h"
#include "node/str_util.h"

namespace lattice::node {

namespace {

constexpr std::string_view kEmptyBulk = "$0\r\n\r\n";

enum SetFlags : unsigned {
  kNx = 1,
  kXx = 2,
  kGet = 4,
  kKeepTtl = 8,
  kPersist = 16,
  kEx = 32,
  kPx = 64,
  kExAt = 128,
  kPxAt = 256,
};

enum class ExtendedFor { kSet, kGet };

// Redis's parseExtendedStringArgumentsOrReply, including which option
// combinations it accepts (e.g. EX given twice is allowed, the last wins).
bool ParseExtended(CommandContext& ctx, size_t from, ExtendedFor kind, unsigned* flags,
                   std::string_view* expire) {
  auto& a = ctx.args;
  for (size_t j = from; j < a.size(); j++) {
    std::string_view opt = a[j];
    bool has_next = j + 1 < a.size();
    unsigned f = *flags;
    bool set = kind == ExtendedFor::kSet;
    if (Is(opt, "nx") && !(f & kXx) && set) {
      *flags |= kNx;
    } else if (Is(opt, "xx") && !(f & kNx) && set) {
      *flags |= kXx;
    } else if (Is(opt, "get") && set) {
      *flags |= kGet;
    } else if (Is(opt, "keepttl") && !(f & (kPersist | kEx | kExAt | kPx | kPxAt)) && set) {
      *flags |= kKeepTtl;
    } else if (Is(opt, "persist") && !set && !(f & (kEx | kExAt | kPx | kPxAt | kKeepTtl))) {
      *flags |= kPersist;
    } else if (Is(opt, "ex") && !(f & (kKeepTtl | kPersist | kExAt | kPx | kPxAt)) && has_next) {
      *flags |= kEx;
      *expire = a[++j];
    } else if (Is(opt, "px") && !(f & (kKeepTtl | kPersist | kEx | kExAt | kPxAt)) && has_next) {
      *flags |= kPx;
      *expire = a[++j];
    } else if (Is(opt, "exat") && !(f & (kKeepTtl | kPersist | kEx | kPx | kPxAt)) && has_next) {
      *flags |= kExAt;
      *expire = a[++j];
    } else if (Is(opt, "pxat") && !(f & (kKeepTtl | kPersist | kEx | kExAt | kPx)) && has_next) {
      *flags |= kPxAt;
      *expire = a[++j];
    } else {
      ctx.rb->Error(errors::kSyntax);
      return false;
    }
  }
  return true;
}

void ReplyInvalidExpire(CommandContext& ctx) {
  ctx.rb->Error(StrCat("ERR invalid expire time in '", ctx.cmd->fullname, "' command"));
}

// Redis's getExpireMillisecondsOrReply: absolute unix ms, or false after
// replying the error.
bool ExpireMs(CommandContext& ctx, std::string_view arg, unsigned flags, bool seconds,
              int64_t* out) {
  int64_t v;
  if (!ArgInt(ctx, arg, &v)) return false;
  if (v <= 0 || (seconds && v > LLONG_MAX / 1000)) {
    ReplyInvalidExpire(ctx);
    return false;
  }
  if (seconds) v *= 1000;
  if (flags & (kEx | kPx)) {
    if (__builtin_add_overflow(v, ctx.now_ms, &v)) v = -1;
  }
  if (v <= 0) {
    ReplyInvalidExpire(ctx);
    return false;
  }
  *out = v;
  return true;
}

// Replies the value of a string entry as a bulk string.
void ReplyValue(CommandContext& ctx, const Entry& e) {
  char buf[24];
  ctx.rb->Bulk(e.StringValue(buf));
}

// getGenericCommand: replies the value or null; false on WRONGTYPE.
bool GetGeneric(CommandContext& ctx, std::string_view key) {
  Entry* e = LookupRead(ctx, key);
  if (!e) {
    ctx.rb->Null();
    return true;
  }
  if (e->type() != ObjType::kString) {
    ctx.rb->Error(errors::kWrongType);
    return false;
  }
  ReplyValue(ctx, *e);
  return true;
}

// The string at `key` for commands that read it before changing it
// (GETDEL, GETEX): nullptr after replying null (missing) or WRONGTYPE.
Entry* StringOrReply(CommandContext& ctx, std::string_view key) {
  Entry* e = LookupRead(ctx, key);
  if (!e) {
    ctx.rb->Null();
  } else if (e->type() != ObjType::kString) {
    ctx.rb->Error(errors::kWrongType);
    e = nullptr;
  }
  return e;
}

Entry* Assign(CommandContext& ctx, std::string_view key, const StringValue& v, int64_t expire_at) {
  Entry* e = ctx.DbFor(key).SetString(key, v, ctx.Tick(), expire_at, ctx.LruClock());
  EmitAssign(ctx, *e);
  return e;
}

// setGenericCommand.
void SetGeneric(CommandContext& ctx, unsigned flags, std::string_view key, std::string_view value,
                std::string_view expire, bool seconds, std::string_view ok_reply,
                std::string_view abort_reply) {
  int64_t when = -1;
  if (expire.data() && !ExpireMs(ctx, expire, flags, seconds, &when)) return;
  if (flags & kGet) {
    if (!GetGeneric(ctx, key)) return;
  }
  bool found = LookupWrite(ctx, key) != nullptr;
  if (((flags & kNx) && found) || ((flags & kXx) && !found)) {
    if (!(flags & kGet)) {
      if (abort_reply.empty()) {
        ctx.rb->Null();
      } else {
        ctx.rb->Raw(abort_reply);
      }
    }
    return;
  }
  int64_t at = when >= 0 ? when : ((flags & kKeepTtl) ? Db::kKeepTtl : -1);
  Assign(ctx, key, StringValue::Encode(value), at);
  if (!(flags & kGet)) {
    if (ok_reply.empty()) {
      ctx.rb->Ok();
    } else {
      ctx.rb->Raw(ok_reply);
    }
  }
}

bool CheckStringLength(CommandContext& ctx, int64_t size, int64_t append) {
  int64_t total;
  if (__builtin_add_overflow(size, append, &total) ||
      total > ctx.server->config().proto_max_bulk_len) {
    ctx.rb->Error(errors::kStringTooLong);
    return false;
  }
  return true;
}

// incrDecrCommand over a PN-counter.
void IncrDecr(CommandContext& ctx, int64_t incr) {
  std::string_view key = ctx.args[1];
  Db& db = ctx.DbFor(key);
  Entry* e = LookupWrite(ctx, key);
  if (e && e->type() != ObjType::kString) {
    ctx.rb->Error(errors::kWrongType);
    return;
  }
  int64_t old = 0;
  if (e) {
    if (e->is_int()) {
      old = e->int_value();
    } else if (!ParseInt64(e->bytes(), &old)) {
      ctx.rb->Error(errors::kNotInt);
      return;
    }
  }
  if ((incr < 0 && old < 0 && incr < (LLONG_MIN - old)) ||
      (incr > 0 && old > 0 && incr > (LLONG_MAX - old))) {
    ctx.rb->Error(errors::kOverflow);
    return;
  }
  crdt::Stamp stamp = ctx.Tick();
  crdt::NodeId self = ctx.server->clock().node();
  crdt::PnCounter::Delta delta;
  if (e && e->enc() == Enc::kCounter) {
    db.MutateCounter(e, [&](crdt::PnCounter& c) { delta = c.Add(self, stamp.counter, incr); });
  } else {
    // The base is what the last assignment wrote; a missing key has the
    // zero base with the zero stamp, so increments on different replicas of
    // a new key share a base and add up.
    // After a delete, the base is the delete itself (see node/cluster/merge.h).
    crdt::Stamp base_stamp = e ? e->stamp() : FreshCounterBase(db, key, stamp);
    auto* counter = new crdt::PnCounter(old, base_stamp);
    delta = counter->Add(self, stamp.counter, incr);
    StringValue v{Enc::kCounter, {}, 0, counter};
    e = db.SetString(key, v, base_stamp, Db::kKeepTtl, ctx.LruClock());
  }
  Delta d{Delta::Kind::kCounterAdd, ctx.db, key, stamp};
  d.counter = &delta;
  d.expire_at = e->has_expire() ? e->expire_at() : -1;
  ctx.ShardFor(key).Emit(d);
  ctx.rb->Integer(old + incr);
}

}  // namespace

void CmdGet(CommandContext& ctx) { GetGeneric(ctx, ctx.args[1]); }

void CmdSet(CommandContext& ctx) {
  unsigned flags = 0;
  std::string_view expire;
  if (!ParseExtended(ctx, 3, ExtendedFor::kSet, &flags, &expire)) return;
  SetGeneric(ctx, flags, ctx.args[1], ctx.args[2], expire, (flags & (kEx | kExAt)) != 0, {}, {});
}

void CmdSetNx(CommandContext& ctx) {
  SetGeneric(ctx, kNx, ctx.args[1], ctx.args[2], {}, false, ":1\r\n", ":0\r\n");
}

void CmdSetEx(CommandContext& ctx) {
  SetGeneric(ctx, kEx, ctx.args[1], ctx.args[3], ctx.args[2], true, {}, {});
}

void CmdPSetEx(CommandContext& ctx) {
  SetGeneric(ctx, kPx, ctx.args[1], ctx.args[3], ctx.args[2], false, {}, {});
}

void CmdGetSet(CommandContext& ctx) {
  if (!GetGeneric(ctx, ctx.args[1])) return;
  Assign(ctx, ctx.args[1], StringValue::Encode(ctx.args[2]), -1);
}

void CmdGetDel(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  Entry* e = StringOrReply(ctx, key);
  if (!e) return;
  ReplyValue(ctx, *e);
  crdt::Stamp killed = e->stamp();
  ctx.DbFor(key).Delete(key);
  EmitDelete(ctx, key, ctx.Tick(), ctx.db, killed);
}

void CmdGetEx(CommandContext& ctx) {
  unsigned flags = 0;
  std::string_view expire;
  if (!ParseExtended(ctx, 2, ExtendedFor::kGet, &flags, &expire)) return;
  std::string_view key = ctx.args[1];
  Entry* e = StringOrReply(ctx, key);
  if (!e) return;
  int64_t when = -1;
  if (expire.data() && !ExpireMs(ctx, expire, flags, (flags & (kEx | kExAt)) != 0, &when)) return;
  ReplyValue(ctx, *e);
  Db& db = ctx.DbFor(key);
  if ((flags & (kPxAt | kExAt)) && when <= ctx.now_ms) {
    crdt::Stamp killed = e->stamp();
    db.Delete(key);
    EmitDelete(ctx, key, ctx.Tick(), ctx.db, killed);
  } else if (expire.data()) {
    crdt::Stamp stamp = ctx.Tick();
    e = db.SetExpire(e, when);
    EmitExpire(ctx, *e, stamp);
  } else if ((flags & kPersist) && e->has_expire()) {
    crdt::Stamp stamp = ctx.Tick();
    e = db.SetExpire(e, -1);
    EmitExpire(ctx, *e, stamp);
  }
}

void CmdMGet(CommandContext& ctx) {
  ctx.rb->ArrayHeader(ctx.args.size() - 1);
  for (size_t i = 1; i < ctx.args.size(); i++) {
    Entry* e = LookupRead(ctx, ctx.args[i]);
    if (!e || e->type() != ObjType::kString) {
      ctx.rb->Null();
    } else {
      ReplyValue(ctx, *e);
    }
  }
}

void CmdMSet(CommandContext& ctx) {
  if (ctx.args.size() % 2 == 0) return ReplyArityError(ctx);
  for (size_t i = 1; i < ctx.args.size(); i += 2) {
    Assign(ctx, ctx.args[i], StringValue::Encode(ctx.args[i + 1]), -1);
  }
  ctx.rb->Ok();
}

void CmdMSetNx(CommandContext& ctx) {
  if (ctx.args.size() % 2 == 0) return ReplyArityError(ctx);
  for (size_t i = 1; i < ctx.args.size(); i += 2) {
    if (LookupWrite(ctx, ctx.args[i])) {
      ctx.rb->Integer(0);
      return;
    }
  }
  for (size_t i = 1; i < ctx.args.size(); i += 2) {
    Assign(ctx, ctx.args[i], StringValue::Encode(ctx.args[i + 1]), -1);
  }
  ctx.rb->Integer(1);
}

void CmdAppend(CommandContext& ctx) {
  std::string_view key = ctx.args[1], tail = ctx.args[2];
  Entry* e = LookupWrite(ctx, key);
  if (!e) {
    Assign(ctx, key, StringValue::Encode(tail), -1);
    ctx.rb->Integer(tail.size());
    return;
  }
  if (e->type() != ObjType::kString) {
    ctx.rb->Error(errors::kWrongType);
    return;
  }
  char buf[24];
  std::string_view cur = e->StringValue(buf);
  if (!CheckStringLength(ctx, cur.size(), tail.size())) return;
  Db& db = ctx.DbFor(key);
  if (e->is_int()) {
    // Redis turns an int-encoded value into a raw string before appending.
    std::string raw(cur);
    e = db.SetString(key, StringValue{Enc::kRaw, raw, 0, nullptr}, e->stamp(), Db::kKeepTtl,
                     e->lru());
  }
  size_t old = e->bytes().size();
  e = db.ResizeBytes(e, old + tail.size(), ctx.Tick());
  std::memcpy(e->mutable_bytes() + old, tail.data(), tail.size());
  EmitAssign(ctx, *e);
  ctx.rb->Integer(old + tail.size());
}

void CmdStrLen(CommandContext& ctx) {
  Entry* e = LookupRead(ctx, ctx.args[1]);
  if (!e) {
    ctx.rb->Integer(0);
    return;
  }
  if (e->type() != ObjType::kString) {
    ctx.rb->Error(errors::kWrongType);
    return;
  }
  char buf[24];
  ctx.rb->Integer(e->StringValue(buf).size());
}

void CmdGetRange(CommandContext& ctx) {
  int64_t start, end;
  if (!ArgInt(ctx, ctx.args[2], &start) || !ArgInt(ctx, ctx.args[3], &end)) return;
  Entry* e = LookupRead(ctx, ctx.args[1]);
  if (!e) {
    ctx.rb->Raw(kEmptyBulk);
    return;
  }
  if (e->type() != ObjType::kString) {
    ctx.rb->Error(errors::kWrongType);
    return;
  }
  char buf[24];
  std::string_view s = e->StringValue(buf);
  int64_t len = static_cast<int64_t>(s.size());
  if (start < 0 && end < 0 && start > end) {
    ctx.rb->Raw(kEmptyBulk);
    return;
  }
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len == 0) {
    ctx.rb->Raw(kEmptyBulk);
    return;
  }
  ctx.rb->Bulk(s.substr(start, end - start + 1));
}

void CmdSetRange(CommandContext& ctx) {
  std::string_view key = ctx.args[1], value = ctx.args[3];
  int64_t offset;
  if (!ArgInt(ctx, ctx.args[2], &offset)) return;
  if (offset < 0) {
    ctx.rb->Error("ERR offset is out of range");
    return;
  }
  Db& db = ctx.DbFor(key);
  Entry* e = LookupWrite(ctx, key);
  if (!e) {
    if (value.empty()) {
      ctx.rb->Integer(0);
      return;
    }
    if (!CheckStringLength(ctx, offset, value.size())) return;
    e = db.SetString(key, StringValue{Enc::kRaw, {}, 0, nullptr}, ctx.Tick(), -1, ctx.LruClock());
  } else {
    if (e->type() != ObjType::kString) {
      ctx.rb->Error(errors::kWrongType);
      return;
    }
    char buf[24];
    std::string_view cur = e->StringValue(buf);
    if (value.empty()) {
      ctx.rb->Integer(cur.size());
      return;
    }
    if (!CheckStringLength(ctx, offset, value.size())) return;
    if (e->is_int()) {
      std::string raw(cur);
      e = db.SetString(key, StringValue{Enc::kRaw, raw, 0, nullptr}, e->stamp(), Db::kKeepTtl,
                       e->lru());
    }
  }
  size_t old = e->bytes().size();
  size_t need = std::max<size_t>(old, offset + value.size());
  e = db.ResizeBytes(e, need, ctx.Tick());
  if (need > old) std::memset(e->mutable_bytes() + old, 0, need - old);
  std::memcpy(e->mutable_bytes() + offset, value.data(), value.size());
  EmitAssign(ctx, *e);
  ctx.rb->Integer(need);
}

void CmdIncr(CommandContext& ctx) { IncrDecr(ctx, 1); }
void CmdDecr(CommandContext& ctx) { IncrDecr(ctx, -1); }

void CmdIncrBy(CommandContext& ctx) {
  int64_t by;
  if (!ArgInt(ctx, ctx.args[2], &by)) return;
  IncrDecr(ctx, by);
}

void CmdDecrBy(CommandContext& ctx) {
  int64_t by;
  if (!ArgInt(ctx, ctx.args[2], &by)) return;
  if (by == LLONG_MIN) {
    ctx.rb->Error("ERR decrement would overflow");
    return;
  }
  IncrDecr(ctx, -by);
}

// INCRBYFLOAT stores its result as a plain string, as Redis does (and
// replicates it as an assignment, since float addition does not commute
// exactly). See docs/consistency.md.
void CmdIncrByFloat(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  Entry* e = LookupWrite(ctx, key);
  if (e && e->type() != ObjType::kString) {
    ctx.rb->Error(errors::kWrongType);
    return;
  }
  long double value = 0, incr;
  if (e) {
    if (e->is_int()) {
      value = static_cast<long double>(e->int_value());
    } else if (!ParseLongDouble(e->bytes(), &value)) {
      ctx.rb->Error(errors::kNotFloat);
      return;
    }
  }
  if (!ParseLongDouble(ctx.args[2], &incr)) {
    ctx.rb->Error(errors::kNotFloat);
    return;
  }
  value += incr;
  if (std::isnan(value) || std::isinf(value)) {
    ctx.rb->Error("ERR increment would produce NaN or Infinity");
    return;
  }
  std::string s = FormatLongDouble(value);
  // createStringObjectFromLongDouble never makes an "int" encoding.
  StringValue v{s.size() <= 44 ? Enc::kEmbstr : Enc::kRaw, s, 0, nullptr};
  Assign(ctx, key, v, Db::kKeepTtl);
  ctx.rb->Bulk(s);
}

void CmdLcs(CommandContext& ctx) {
  Entry* ea = LookupRead(ctx, ctx.args[1]);
  Entry* eb = LookupRead(ctx, ctx.args[2]);
  if ((ea && ea->type() != ObjType::kString) || (eb && eb->type() != ObjType::kString)) {
    ctx.rb->Error("ERR The specified keys must contain string values");
    return;
  }
  char abuf[24], bbuf[24];
  std::string a(ea ? ea->StringValue(abuf) : std::string_view());
  std::string b(eb ? eb->StringValue(bbuf) : std::string_view());
  bool getlen = false, getidx = false, withmatchlen = false;
  int64_t minmatchlen = 0;
  for (size_t j = 3; j < ctx.args.size(); j++) {
    std::string_view opt = ctx.args[j];
    bool more = j + 1 < ctx.args.size();
    if (Is(opt, "idx")) {
      getidx = true;
    } else if (Is(opt, "len")) {
      getlen = true;
    } else if (Is(opt, "withmatchlen")) {
      withmatchlen = true;
    } else if (Is(opt, "minmatchlen") && more) {
      if (!ArgInt(ctx, ctx.args[j + 1], &minmatchlen)) return;
      if (minmatchlen < 0) minmatchlen = 0;
      j++;
    } else {
      ctx.rb->Error(errors::kSyntax);
      return;
    }
  }
  if (getidx && getlen) {
    ctx.rb->Error("ERR If you want both the length and indexes, please just use IDX.");
    return;
  }
  if (a.size() >= UINT32_MAX - 1 || b.size() >= UINT32_MAX - 1) {
    ctx.rb->Error("ERR String too long for LCS");
    return;
  }
  uint32_t alen = a.size(), blen = b.size();
  uint64_t cells = uint64_t(alen + 1) * (blen + 1);
  if (cells * sizeof(uint32_t) > uint64_t(ctx.server->config().proto_max_bulk_len)) {
    ctx.rb->Error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
    return;
  }
  std::vector<uint32_t> dp(cells);
  auto at = [&](uint32_t i, uint32_t j) -> uint32_t& { return dp[j + uint64_t(i) * (blen + 1)]; };
  for (uint32_t i = 1; i <= alen; i++) {
    for (uint32_t j = 1; j <= blen; j++) {
      at(i, j) = a[i - 1] == b[j - 1] ? at(i - 1, j - 1) + 1 : std::max(at(i - 1, j), at(i, j - 1));
    }
  }
  uint32_t idx = at(alen, blen);
  bool compute = getidx || !getlen;
  std::string result(compute ? idx : 0, '\0');
  std::string ranges;
  resp::ReplyBuilder rrb(&ranges, ctx.rb->protocol());
  uint32_t count = 0;
  uint32_t as = alen, ae = 0, bs = 0, be = 0;
  uint32_t i = alen, j = blen;
  while (compute && i > 0 && j > 0) {
    bool emit = false;
    if (a[i - 1] == b[j - 1]) {
      result[idx - 1] = a[i - 1];
      if (as == alen) {
        as = ae = i - 1;
        bs = be = j - 1;
      } else if (as == i && bs == j) {
        as--;
        bs--;
      } else {
        emit = true;
      }
      if (as == 0 || bs == 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      if (at(i - 1, j) > at(i, j - 1)) {
        i--;
      } else {
        j--;
      }
      if (as != alen) emit = true;
    }
    uint32_t match_len = ae - as + 1;
    if (emit) {
      if ((minmatchlen == 0 || match_len >= minmatchlen) && getidx) {
        rrb.ArrayHeader(2 + withmatchlen);
        rrb.ArrayHeader(2);
        rrb.Integer(as);
        rrb.Integer(ae);
        rrb.ArrayHeader(2);
        rrb.Integer(bs);
        rrb.Integer(be);
        if (withmatchlen) rrb.Integer(match_len);
        count++;
      }
      as = alen;
    }
  }
  if (getidx) {
    ctx.rb->MapHeader(2);
    ctx.rb->Bulk("matches");
    ctx.rb->ArrayHeader(count);
    ctx.rb->Raw(ranges);
    ctx.rb->Bulk("len");
    ctx.rb->Integer(at(alen, blen));
  } else if (getlen) {
    ctx.rb->Integer(idx);
  } else {
    ctx.rb->Bulk(result);
  }
}

}  // namespace lattice::node
