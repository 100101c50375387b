// Keyspace commands: DEL, EXISTS, TYPE, KEYS, SCAN, RANDOMKEY, RENAME, COPY, MOVE,
// TOUCH, the EXPIRE/TTL family and OBJECT. Semantics and reply bytes follow
// Redis 7.0's db.c, expire.c and object.c.
#include <climits>
#include <random>
#include <string>
#include <vector>

#include "node/families/families.h"
#include "node/families/util.h"
#include "node/glob.h"
#include "node/persist/rdb.h"
#include "node/persist/rdb_import.h"
#include "node/server.h"
#include "node/str_util.h"

namespace lattice::node {

namespace {

std::string_view TypeName(const Entry* e) {
  if (!e) return "none";
  switch (e->type()) {
    case ObjType::kString:
      return "string";
    case ObjType::kHash:
      return "hash";
    case ObjType::kSet:
      return "set";
    case ObjType::kZset:
      return "zset";
    case ObjType::kList:
      return "list";
    case ObjType::kStream:
      return "stream";
  }
  return "none";
}

std::string_view EncodingName(const Entry& e) {
  switch (e.enc()) {
    case Enc::kInt:
    case Enc::kCounter:
      return "int";
    case Enc::kEmbstr:
      return "embstr";
    case Enc::kRaw:
      return "raw";
    case Enc::kObject:
      return CollEncName(e.collection()->enc());
  }
  return "raw";
}

// expireGenericCommand. `basetime` is now for relative forms, 0 for
// absolute ones.
void ExpireGeneric(CommandContext& ctx, int64_t basetime, bool seconds) {
  std::string_view key = ctx.args[1];
  bool nx = false, xx = false, gt = false, lt = false;
  for (size_t j = 3; j < ctx.args.size(); j++) {
    std::string_view opt = ctx.args[j];
    // Redis compares and echoes these options as C strings: an option ends
    // at its first NUL byte ("xx\0" is XX).
    opt = COption(opt);
    if (Is(opt, "nx")) {
      nx = true;
    } else if (Is(opt, "xx")) {
      xx = true;
    } else if (Is(opt, "gt")) {
      gt = true;
    } else if (Is(opt, "lt")) {
      lt = true;
    } else {
      ctx.rb->Error(StrCat("ERR Unsupported option ", opt));
      return;
    }
  }
  if ((nx && xx) || (nx && gt) || (nx && lt)) {
    ctx.rb->Error("ERR NX and XX, GT or LT options at the same time are not compatible");
    return;
  }
  if (gt && lt) {
    ctx.rb->Error("ERR GT and LT options at the same time are not compatible");
    return;
  }
  int64_t when;
  if (!ArgInt(ctx, ctx.args[2], &when)) return;
  auto invalid = [&] {
    ctx.rb->Error(StrCat("ERR invalid expire time in '", ctx.cmd->fullname, "' command"));
  };
  if (seconds) {
    if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) return invalid();
    when *= 1000;
  }
  if (when > LLONG_MAX - basetime) return invalid();
  when += basetime;
  Db& db = ctx.DbFor(key);
  Entry* e = LookupWrite(ctx, key);
  if (!e) {
    ctx.rb->Integer(0);
    return;
  }
  int64_t current = e->has_expire() ? e->expire_at() : -1;
  if ((nx && current != -1) || (xx && current == -1) ||
      (gt && (when <= current || current == -1)) || (lt && current != -1 && when >= current)) {
    ctx.rb->Integer(0);
    return;
  }
  crdt::Stamp stamp = ctx.Tick();
  if (when <= ctx.now_ms) {
    Killed killed = KilledOf(*e);
    db.Delete(key);
    EmitDelete(ctx, key, stamp, ctx.db, killed);
  } else {
    e = db.SetExpire(e, when);
    EmitExpire(ctx, *e, stamp);
  }
  ctx.rb->Integer(1);
}

// ttlGenericCommand.
void TtlGeneric(CommandContext& ctx, bool ms, bool absolute) {
  Entry* e = LookupNoTouch(ctx, ctx.args[1]);
  if (!e) {
    ctx.rb->Integer(-2);
    return;
  }
  if (!e->has_expire()) {
    ctx.rb->Integer(-1);
    return;
  }
  int64_t ttl = absolute ? e->expire_at() : e->expire_at() - ctx.now_ms;
  if (ttl < 0) ttl = 0;
  // Unsigned: a TTL near INT64_MAX must round without overflowing.
  ctx.rb->Integer(ms ? ttl : static_cast<int64_t>((static_cast<uint64_t>(ttl) + 500) / 1000));
}

// Every (shard, db) pair in shard order; SCAN and KEYS walk them.
std::vector<Db*> DbsOf(CommandContext& ctx, int db) {
  std::vector<Db*> out;
  for (int i = 0; i < ctx.server->shard_count(); i++)
    out.push_back(&ctx.server->worker(i).shard().db(db));
  return out;
}

void RenameGeneric(CommandContext& ctx, bool nx) {
  std::string_view src = ctx.args[1], dst = ctx.args[2];
  Entry* e = LookupWrite(ctx, src);
  if (!e) {
    ctx.rb->Error(errors::kNoSuchKey);
    return;
  }
  if (src == dst) {
    if (nx) {
      ctx.rb->Integer(0);
    } else {
      ctx.rb->Ok();
    }
    return;
  }
  Db& ddb = ctx.DbFor(dst);
  if (LookupWrite(ctx, dst)) {
    if (nx) {
      ctx.rb->Integer(0);
      return;
    }
  }
  Entry* old = ddb.Find(dst, ctx.now_ms);
  if (old && old->is_collection() && ctx.ShardFor(dst).replicating()) {
    // The replicas' destination collection goes first (a copy does not
    // merge into it).
    EmitDelete(ctx, dst, ctx.Tick(), ctx.db, KilledOf(*old));
  }
  crdt::Stamp stamp = ctx.Tick();
  Killed killed = KilledOf(*e);
  Entry* n = ddb.CopyFrom(dst, *e, stamp, false);
  EmitAssign(ctx, *n);
  ctx.DbFor(src).Delete(src);
  EmitDelete(ctx, src, stamp, ctx.db, killed);
  if (nx) {
    ctx.rb->Integer(1);
  } else {
    ctx.rb->Ok();
  }
}

}  // namespace

void CmdDel(CommandContext& ctx) {
  // UNLINK (and DEL with lazyfree-lazy-user-del) frees big values in the
  // background.
  const bool lazy = ctx.cmd->name == "unlink" || ctx.server->config().lazyfree_lazy_user_del;
  int64_t n = 0;
  for (size_t i = 1; i < ctx.args.size(); i++) {
    std::string_view key = ctx.args[i];
    Db& db = ctx.DbFor(key);
    Entry* e = db.Find(key, ctx.now_ms);
    if (!e) continue;
    Killed killed = KilledOf(*e);
    if (db.Delete(key, lazy)) {
      n++;
      EmitDelete(ctx, key, ctx.Tick(), ctx.db, killed);
    }
  }
  ctx.rb->Integer(n);
}

void CmdExists(CommandContext& ctx) {
  int64_t n = 0;
  for (size_t i = 1; i < ctx.args.size(); i++) {
    if (LookupNoTouch(ctx, ctx.args[i])) n++;
  }
  ctx.rb->Integer(n);
}

void CmdTouch(CommandContext& ctx) {
  int64_t n = 0;
  for (size_t i = 1; i < ctx.args.size(); i++) {
    if (LookupRead(ctx, ctx.args[i])) n++;
  }
  ctx.rb->Integer(n);
}

void CmdType(CommandContext& ctx) {
  ctx.rb->SimpleString(TypeName(LookupNoTouch(ctx, ctx.args[1])));
}

void CmdKeys(CommandContext& ctx) {
  std::string_view pattern = ctx.args[1];
  bool all = pattern == "*";
  std::vector<std::string> keys;
  for (Db* db : DbsOf(ctx, ctx.db)) {
    db->ForEach([&](const Entry& e) {
      if (e.has_expire() && e.expire_at() <= ctx.now_ms) return;
      if (all || GlobMatch(pattern, e.key())) keys.emplace_back(e.key());
    });
  }
  ctx.rb->ArrayHeader(keys.size());
  for (const auto& k : keys) ctx.rb->Bulk(k);
}

void CmdScan(CommandContext& ctx) {
  uint64_t cursor = 0;
  if (!ParseScanCursor(ctx, ctx.args[1], &cursor)) return;
  int64_t count = 10;
  std::string_view pattern, type;
  bool use_pattern = false;
  for (size_t i = 2; i < ctx.args.size();) {
    size_t left = ctx.args.size() - i;
    if (Is(ctx.args[i], "count") && left >= 2) {
      if (!ArgInt(ctx, ctx.args[i + 1], &count)) return;
      if (count < 1) {
        ctx.rb->Error(errors::kSyntax);
        return;
      }
      i += 2;
    } else if (Is(ctx.args[i], "match") && left >= 2) {
      pattern = ctx.args[i + 1];
      use_pattern = pattern != "*";
      i += 2;
    } else if (Is(ctx.args[i], "type") && left >= 2) {
      type = ctx.args[i + 1];
      i += 2;
    } else {
      ctx.rb->Error(errors::kSyntax);
      return;
    }
  }
  // With several shards the low 8 bits of the cursor name the shard and
  // the rest is that shard's table cursor.
  std::vector<Db*> dbs = DbsOf(ctx, ctx.db);
  bool sharded = dbs.size() > 1;
  size_t shard = sharded ? (cursor & 0xFF) : 0;
  uint64_t inner = sharded ? (cursor >> 8) : cursor;
  std::vector<std::string> keys;
  int64_t budget = count * 10;
  if (shard >= dbs.size()) {
    shard = dbs.size();
    inner = 0;
  }
  while (shard < dbs.size()) {
    inner = dbs[shard]->Scan(inner, [&](const Entry& e) { keys.emplace_back(e.key()); });
    if (inner == 0) {
      shard++;
      if (int64_t(keys.size()) >= count || budget-- <= 0) break;
      continue;
    }
    if (int64_t(keys.size()) >= count || budget-- <= 0) break;
  }
  uint64_t next = 0;
  if (shard < dbs.size()) next = sharded ? ((inner << 8) | shard) : inner;
  std::vector<std::string> out;
  for (auto& k : keys) {
    Db& db = ctx.DbFor(k);
    Entry* e = db.Find(k, ctx.now_ms);  // expires stale keys, as Redis does
    if (!e) continue;
    if (use_pattern && !GlobMatch(pattern, k)) continue;
    if (!type.empty() && !Is(type, TypeName(e))) continue;
    out.push_back(std::move(k));
  }
  ctx.rb->ArrayHeader(2);
  ctx.rb->Bulk(std::to_string(next));
  ctx.rb->ArrayHeader(out.size());
  for (const auto& k : out) ctx.rb->Bulk(k);
}

void CmdRandomKey(CommandContext& ctx) {
  std::vector<Db*> dbs = DbsOf(ctx, ctx.db);
  size_t total = 0;
  for (Db* db : dbs) total += db->size();
  for (int tries = 0; total > 0 && tries < 16; tries++) {
    // Pick a shard weighted by its size, then a key inside it.
    thread_local std::mt19937_64 rng(std::random_device{}());
    size_t pick = static_cast<size_t>(rng() % total);
    size_t i = 0;
    while (pick >= dbs[i]->size()) pick -= dbs[i++]->size();
    if (Entry* e = dbs[i]->RandomEntry(ctx.now_ms)) {
      ctx.rb->Bulk(e->key());
      return;
    }
    total = 0;
    for (Db* db : dbs) total += db->size();
  }
  ctx.rb->Null();
}

void CmdRename(CommandContext& ctx) { RenameGeneric(ctx, false); }
void CmdRenameNx(CommandContext& ctx) { RenameGeneric(ctx, true); }

void CmdCopy(CommandContext& ctx) {
  std::string_view src = ctx.args[1], dst = ctx.args[2];
  bool replace = false;
  int dst_db = ctx.db;
  for (size_t j = 3; j < ctx.args.size(); j++) {
    bool more = j + 1 < ctx.args.size();
    if (Is(ctx.args[j], "replace")) {
      replace = true;
    } else if (Is(ctx.args[j], "db") && more) {
      if (!ArgDbIndex(ctx, ctx.args[j + 1], &dst_db)) return;
      j++;
    } else {
      ctx.rb->Error(errors::kSyntax);
      return;
    }
  }
  if (dst_db == ctx.db && src == dst) {
    ctx.rb->Error("ERR source and destination objects are the same");
    return;
  }
  Entry* e = LookupRead(ctx, src);
  if (!e) {
    ctx.rb->Integer(0);
    return;
  }
  Db& ddb = ctx.DbFor(dst, dst_db);
  Entry* old = ddb.Find(dst, ctx.now_ms);
  if (old && !replace) {
    ctx.rb->Integer(0);
    return;
  }
  if (old && old->is_collection() && ctx.ShardFor(dst).replicating()) {
    EmitDelete(ctx, dst, ctx.Tick(), dst_db, KilledOf(*old));
  }
  Entry* n = ddb.CopyFrom(dst, *e, ctx.Tick(), false);
  EmitAssign(ctx, *n, dst_db);
  ctx.rb->Integer(1);
}

// moveCommand: the key goes to database `db` with its TTL, unless that
// database has it already. The same key lives on the same shard in every
// database. Both changes replicate as RENAME's do: a copy written anew
// under the command's stamp, then the source deleted under it.
void CmdMove(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  int dst_db;
  if (!ArgDbIndex(ctx, ctx.args[2], &dst_db)) return;
  if (dst_db == ctx.db) {
    ctx.rb->Error("ERR source and destination objects are the same");
    return;
  }
  Entry* e = LookupWrite(ctx, key);
  if (!e) {
    ctx.rb->Integer(0);
    return;
  }
  Db& ddb = ctx.DbFor(key, dst_db);
  if (ddb.Find(key, ctx.now_ms)) {
    ctx.rb->Integer(0);
    return;
  }
  crdt::Stamp stamp = ctx.Tick();
  Killed killed = KilledOf(*e);
  Entry* n = ddb.CopyFrom(key, *e, stamp, false);
  EmitAssign(ctx, *n, dst_db);
  ctx.DbFor(key).Delete(key);
  EmitDelete(ctx, key, stamp, ctx.db, killed);
  ctx.rb->Integer(1);
}

void CmdExpire(CommandContext& ctx) { ExpireGeneric(ctx, ctx.now_ms, true); }
void CmdPExpire(CommandContext& ctx) { ExpireGeneric(ctx, ctx.now_ms, false); }
void CmdExpireAt(CommandContext& ctx) { ExpireGeneric(ctx, 0, true); }
void CmdPExpireAt(CommandContext& ctx) { ExpireGeneric(ctx, 0, false); }
void CmdTtl(CommandContext& ctx) { TtlGeneric(ctx, false, false); }
void CmdPTtl(CommandContext& ctx) { TtlGeneric(ctx, true, false); }
void CmdExpireTime(CommandContext& ctx) { TtlGeneric(ctx, false, true); }
void CmdPExpireTime(CommandContext& ctx) { TtlGeneric(ctx, true, true); }

void CmdPersist(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  Entry* e = LookupWrite(ctx, key);
  if (!e || !e->has_expire()) {
    ctx.rb->Integer(0);
    return;
  }
  crdt::Stamp stamp = ctx.Tick();
  e = ctx.DbFor(key).SetExpire(e, -1);
  EmitExpire(ctx, *e, stamp);
  ctx.rb->Integer(1);
}

void CmdObjectEncoding(CommandContext& ctx) {
  Entry* e = LookupNoTouch(ctx, ctx.args[2]);
  if (!e) {
    ctx.rb->Null();
    return;
  }
  ctx.rb->Bulk(EncodingName(*e));
}

void CmdObjectIdleTime(CommandContext& ctx) {
  Entry* e = LookupNoTouch(ctx, ctx.args[2]);
  if (!e) {
    ctx.rb->Null();
    return;
  }
  if (g_evict.lfu()) {
    ctx.rb->Error(
        "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
        "switching between policies at runtime LRU and LFU data will take some time to adjust.");
    return;
  }
  uint32_t now = static_cast<uint32_t>(ctx.now_ms / 1000);
  ctx.rb->Integer(now >= e->lru() ? now - e->lru() : 0);
}

void CmdObjectFreq(CommandContext& ctx) {
  Entry* e = LookupNoTouch(ctx, ctx.args[2]);
  if (!e) {
    ctx.rb->Null();
    return;
  }
  if (!g_evict.lfu()) {
    ctx.rb->Error(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
        "that when switching between policies at runtime LRU and LFU data will take some time to "
        "adjust.");
    return;
  }
  ctx.rb->Integer(LfuCount(*e, ctx.now_ms));
}

void CmdObjectRefCount(CommandContext& ctx) {
  Entry* e = LookupNoTouch(ctx, ctx.args[2]);
  if (!e) {
    ctx.rb->Null();
    return;
  }
  // Redis shares the integers 0..9999 and reports INT_MAX for them.
  if (e->is_int() && e->int_value() >= 0 && e->int_value() < 10000) {
    ctx.rb->Integer(INT_MAX);
  } else {
    ctx.rb->Integer(1);
  }
}

void CmdObjectHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "ENCODING <key>",
      "    Return the kind of internal representation used in order to store the value",
      "    associated with a <key>.",
      "FREQ <key>",
      "    Return the access frequency index of the <key>. The returned integer is",
      "    proportional to the logarithm of the recent access frequency of the key.",
      "IDLETIME <key>",
      "    Return the idle time of the <key>, that is the approximated number of",
      "    seconds elapsed since the last access to the key.",
      "REFCOUNT <key>",
      "    Return the number of references of the value associated with the specified",
      "    <key>.",
      "HELP",
      "    Print this help.",
  };
  ctx.rb->ArrayHeader(std::size(kLines));
  for (auto l : kLines) ctx.rb->SimpleString(l);
}

}  // namespace lattice::node

// ---- DUMP / RESTORE (Redis's serialization: node/persist/rdb.h) ----

namespace lattice::node {

void CmdDump(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  if (!LookupNoTouch(ctx, key)) {
    ctx.rb->Null();
    return;
  }
  rdb::Value v;
  if (!ReadKey(ctx, ctx.db, key, &v)) {
    ctx.rb->Null();
    return;
  }
  ctx.rb->Bulk(rdb::EncodeDump(v));
}

// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f], checked
// in Redis's order so the same bad input gets the same error.
void CmdRestore(CommandContext& ctx) {
  bool replace = false, absttl = false;
  int64_t idle = -1, freq = -1;
  for (size_t j = 4; j < ctx.args.size(); j++) {
    const bool more = j + 1 < ctx.args.size();
    if (EqualsIgnoreCase(ctx.args[j], "replace")) {
      replace = true;
    } else if (EqualsIgnoreCase(ctx.args[j], "absttl")) {
      absttl = true;
    } else if (EqualsIgnoreCase(ctx.args[j], "idletime") && more && freq == -1) {
      if (!ParseInt64(ctx.args[j + 1], &idle)) {
        ctx.rb->Error(errors::kNotInt);
        return;
      }
      if (idle < 0) {
        ctx.rb->Error("ERR Invalid IDLETIME value, must be >= 0");
        return;
      }
      j++;
    } else if (EqualsIgnoreCase(ctx.args[j], "freq") && more && idle == -1) {
      if (!ParseInt64(ctx.args[j + 1], &freq)) {
        ctx.rb->Error(errors::kNotInt);
        return;
      }
      if (freq < 0 || freq > 255) {
        ctx.rb->Error("ERR Invalid FREQ value, must be >= 0 and <= 255");
        return;
      }
      j++;
    } else {
      ctx.rb->Error(errors::kSyntax);
      return;
    }
  }
  int64_t ttl;
  if (!ParseInt64(ctx.args[2], &ttl)) {
    ctx.rb->Error(errors::kNotInt);
    return;
  }
  if (ttl < 0) {
    ctx.rb->Error("ERR Invalid TTL value, must be >= 0");
    return;
  }
  std::string_view key = ctx.args[1];
  Db& db = ctx.DbFor(key);
  if (!replace && db.Find(key, ctx.now_ms)) {
    ctx.rb->Error("BUSYKEY Target key name already exists.");
    return;
  }
  rdb::Value v;
  absl::Status st = rdb::DecodeDump(ctx.args[3], &v);
  if (!st.ok()) {
    ctx.rb->Error(StrCat("ERR ", std::string(st.message())));
    return;
  }
  int64_t expire_at = -1;
  if (ttl > 0) expire_at = absttl ? ttl : ctx.now_ms + ttl;
  if (replace && db.Find(key, ctx.now_ms)) {
    std::vector<std::string_view> del = {"DEL", key};
    std::string ignored;
    resp::ReplyBuilder rb(&ignored, 2);
    CommandContext cx{del, &rb, ctx.server, nullptr, ctx.db, ctx.now_ms, ctx.cmd};
    CmdDel(cx);
  }
  if (expire_at >= 0 && expire_at <= ctx.now_ms) {
    // Already expired: nothing is created (a replaced key stays deleted).
    ctx.rb->Ok();
    return;
  }
  std::string error;
  if (!BuildKey(ctx, ctx.db, key, v, expire_at, idle, static_cast<int>(freq), &error)) {
    ctx.rb->Error("ERR Bad data format");
    return;
  }
  ctx.rb->Ok();
}

}  // namespace lattice::node
