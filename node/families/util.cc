#include "node/families/util.h"

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "node/command_table.h"
#include "node/server.h"
#include "node/str_util.h"

namespace lattice::node {

bool ArgDbIndex(CommandContext& ctx, std::string_view arg, int* out) {
  int64_t id;
  if (!ArgInt(ctx, arg, &id)) return false;
  if (id < INT_MIN || id > INT_MAX) {
    ctx.rb->Error(errors::kIntRange);
    return false;
  }
  if (id < 0 || id >= ctx.server->config().databases) {
    ctx.rb->Error(errors::kDbIndex);
    return false;
  }
  *out = static_cast<int>(id);
  return true;
}

void ReplyArityError(CommandContext& ctx) {
  ctx.rb->Error(ArityError(*ctx.cmd));
}

bool ParseLongDouble(std::string_view s, long double* out) {
  char buf[5 * 1024];  // MAX_LONG_DOUBLE_CHARS
  if (s.empty() || s.size() >= sizeof buf) return false;
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  errno = 0;
  char* end;
  long double v = strtold(buf, &end);
  if (std::isspace(static_cast<unsigned char>(buf[0])) || *end != '\0' ||
      size_t(end - buf) != s.size() ||
      (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || std::fpclassify(v) == FP_ZERO)) ||
      errno == EINVAL || std::isnan(v)) {
    return false;
  }
  *out = v;
  return true;
}

std::string FormatLongDouble(long double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[5 * 1024];
  int l = snprintf(buf, sizeof buf, "%.17Lf", v);
  if (l <= 0 || size_t(l) >= sizeof buf) return "0";
  if (std::memchr(buf, '.', l)) {
    char* p = buf + l - 1;
    while (*p == '0') {
      p--;
      l--;
    }
    if (*p == '.') l--;
  }
  if (l == 2 && buf[0] == '-' && buf[1] == '0') return "0";
  return std::string(buf, l);
}

Entry* LookupRead(CommandContext& ctx, std::string_view key) {
  Shard& shard = ctx.ShardFor(key);
  Entry* e = shard.db(ctx.db).Find(key, ctx.now_ms);
  if (e) {
    shard.keyspace_hits++;
    e->set_lru(ctx.LruClock());
  } else {
    shard.keyspace_misses++;
  }
  return e;
}

Entry* LookupNoTouch(CommandContext& ctx, std::string_view key) {
  Shard& shard = ctx.ShardFor(key);
  Entry* e = shard.db(ctx.db).Find(key, ctx.now_ms);
  if (e) {
    shard.keyspace_hits++;
  } else {
    shard.keyspace_misses++;
  }
  return e;
}

Entry* LookupWrite(CommandContext& ctx, std::string_view key) {
  Entry* e = ctx.DbFor(key).Find(key, ctx.now_ms);
  if (e) e->set_lru(ctx.LruClock());
  return e;
}

void EmitAssign(CommandContext& ctx, const Entry& e, int db) {
  Delta d{Delta::Kind::kAssign, db < 0 ? ctx.db : db, e.key(), e.stamp()};
  char buf[24];
  d.value = e.StringValue(buf);
  d.expire_at = e.has_expire() ? e.expire_at() : -1;
  ctx.ShardFor(e.key()).Emit(d);
}

void EmitDelete(CommandContext& ctx, std::string_view key, crdt::Stamp stamp, int db,
                crdt::Stamp killed) {
  Delta d{Delta::Kind::kDelete, db, key, stamp};
  d.killed = killed;
  ctx.ShardFor(key).Emit(d);
}

void EmitExpire(CommandContext& ctx, Entry& e, crdt::Stamp stamp) {
  // A TTL change replicates as an assignment of the value with its new TTL
  // under a new stamp (docs/consistency.md, "TTLs"). A counter becomes a
  // plain integer on a new base, which is what the replicas will store.
  Db& db = ctx.DbFor(e.key());
  Entry* n = &e;
  if (e.enc() == Enc::kCounter) {
    n = db.SetString(e.key(), StringValue::Int(e.int_value()), stamp, Db::kKeepTtl, e.lru());
  } else {
    db.SetStamp(&e, stamp);
  }
  EmitAssign(ctx, *n);
}

}  // namespace lattice::node
