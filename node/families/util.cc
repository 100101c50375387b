#include "node/families/util.h"

#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "node/command_table.h"
#include "node/server.h"
#include "node/storage/list.h"
#include "node/storage/stream.h"
#include "node/storage/zset.h"
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

bool ParseScanCursor(CommandContext& ctx, std::string_view arg, uint64_t* out) {
  // parseScanCursorOrReply: strtoul over the C string (it ends at a NUL),
  // so "-1" wraps, "+1" and "" are accepted, a leading space is not.
  std::string s(arg.substr(0, arg.find('\0')));
  bool ok = s.empty() || !std::isspace(static_cast<unsigned char>(s[0]));
  if (ok) {
    errno = 0;
    char* end;
    unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    ok = *end == '\0' && errno != ERANGE;
    *out = v;
  }
  if (!ok) ctx.rb->Error("ERR invalid cursor");
  return ok;
}

bool ParseScanOptions(CommandContext& ctx, size_t first, std::string_view* pattern,
                      bool* use_pattern) {
  *pattern = {};
  *use_pattern = false;
  for (size_t i = first; i < ctx.args.size();) {
    size_t left = ctx.args.size() - i;
    // Options are compared as C strings: "count\0x" is COUNT.
    std::string_view opt = COption(ctx.args[i]);
    if (Is(opt, "count") && left >= 2) {
      int64_t count;
      if (!ArgInt(ctx, ctx.args[i + 1], &count)) return false;
      if (count < 1) {
        ctx.rb->Error(errors::kSyntax);
        return false;
      }
      i += 2;
    } else if (Is(opt, "match") && left >= 2) {
      *pattern = ctx.args[i + 1];
      *use_pattern = *pattern != "*";
      i += 2;
    } else {
      ctx.rb->Error(errors::kSyntax);
      return false;
    }
  }
  return true;
}

void ReplyEmptyScan(CommandContext& ctx) {
  ctx.rb->ArrayHeader(2);
  ctx.rb->Bulk("0");
  ctx.rb->ArrayHeader(0);
}

bool ParseDouble(std::string_view s, double* out) {
  if (s.empty() || s.size() > 5000 || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  std::string buf(s);
  errno = 0;
  char* end;
  double v = std::strtod(buf.c_str(), &end);
  if (static_cast<size_t>(end - buf.c_str()) != s.size() ||
      (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || std::fpclassify(v) == FP_ZERO)) ||
      std::isnan(v)) {
    return false;
  }
  *out = v;
  return true;
}

bool ArgDouble(CommandContext& ctx, std::string_view arg, double* out, std::string_view error) {
  if (ParseDouble(arg, out)) return true;
  ctx.rb->Error(error);
  return false;
}

Entry* LookupRead(CommandContext& ctx, std::string_view key) {
  Shard& shard = ctx.ShardFor(key);
  Entry* e = shard.db(ctx.db).Find(key, ctx.now_ms);
  if (e) {
    shard.keyspace_hits++;
    TouchEntry(e, ctx.now_ms);
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
  if (e) TouchEntry(e, ctx.now_ms);
  return e;
}

namespace {

// Every element of collection `e` as one put under e's stamp.
void EmitCollectionCopy(CommandContext& ctx, const Entry& e, int db) {
  Shard& shard = ctx.ShardFor(e.key());
  if (!shard.replicating()) return;
  Collection& c = *e.collection();
  ElementsDelta ed;
  ed.type = static_cast<uint8_t>(c.type());
  ed.prev = c.ctx.Head(e.stamp().node);
  c.ctx.Add(e.stamp(), ed.prev);
  std::vector<std::string> values;
  if (c.type() == ObjType::kHash) {
    auto& h = static_cast<HashObject&>(c);
    values.reserve(h.size());
    for (size_t i = 0; i < h.size(); i++) {
      char buf[24];
      values.emplace_back(h.Value(i, buf));
      ed.ops.push_back(ElementOp{ElementOp::Kind::kPut, h.map.at(i).name, values.back(), {}, {},
                                 h.map.at(i).top().dot.sub});
    }
  } else if (c.type() == ObjType::kList) {
    auto& l = static_cast<ListObject&>(c);
    values.reserve(l.size());
    for (size_t i = 0; i < l.size(); i++) {
      values.push_back(l.at(i).pos.Encode());
      ed.ops.push_back(ElementOp{ElementOp::Kind::kPut, values.back(), l.at(i).value, {}, {},
                                 l.at(i).value_dot.sub});
    }
  } else if (c.type() == ObjType::kZset) {
    auto& z = static_cast<ZsetObject&>(c);
    values.reserve(z.size());  // the ops point into it: no reallocation
    for (size_t i = 0; i < z.size(); i++) {
      values.push_back(EncodeScore(z.Score(i)));
      ed.ops.push_back(ElementOp{ElementOp::Kind::kPut, z.map().at(i).name, values.back(), {}, {},
                                 z.map().at(i).top().dot.sub});
    }
  } else if (c.type() == ObjType::kStream) {
    auto& st = static_cast<StreamObject&>(c);
    for (size_t i = 0; i < st.map().size(); i++) {
      const auto& el = st.map().at(i);
      ed.ops.push_back(
          ElementOp{ElementOp::Kind::kPut, el.name, el.top().value, {}, {}, el.top().dot.sub});
    }
    values.reserve(2 * st.entries().size());  // the ops point into it: no reallocation
    st.entries().Scan({}, StreamId::Max(), false,
                      [&](StreamId id, const StreamEntries::Versions& v) {
                        values.push_back(stream_codec::EntryName(id));
                        std::string_view name = values.back();
                        values.emplace_back(v[0].fields);
                        ed.ops.push_back(ElementOp{ElementOp::Kind::kPut, name, values.back(), {},
                                                   {}, v[0].dot.sub});
                        return true;
                      });
  } else if (c.type() == ObjType::kSet) {
    auto& s = static_cast<SetObject&>(c);
    for (size_t i = 0; i < s.size(); i++) {
      ed.ops.push_back(ElementOp{ElementOp::Kind::kPut, s.map.at(i).name, {}, {}, {},
                                 s.map.at(i).top().dot.sub});
    }
  }
  ed.ttl = true;
  c.ttl_stamp = e.stamp();
  Delta d{Delta::Kind::kElements, db, e.key(), e.stamp()};
  d.expire_at = e.has_expire() ? e.expire_at() : -1;
  d.elements = &ed;
  shard.Emit(d);
}

}  // namespace

Killed KilledOf(const Entry& e) {
  Killed k;
  if (e.is_collection()) {
    k.collection = true;
    k.observed = e.collection()->ctx.ToTombstone();
    k.observed.max_dead = e.collection()->floor;
    k.observed.outranks = e.stamp();
    k.observed.outranks_type = static_cast<uint8_t>(e.type());
  } else {
    k.stamp = e.stamp();
  }
  return k;
}

void EmitDelete(CommandContext& ctx, std::string_view key, crdt::Stamp stamp, int db,
                const Killed& killed) {
  Delta d{Delta::Kind::kDelete, db, key, stamp};
  d.killed = killed.stamp;
  if (killed.collection) d.observed = &killed.observed;
  ctx.ShardFor(key).Emit(d);
}

void EmitAssign(CommandContext& ctx, const Entry& e, int db) {
  if (e.is_collection()) {
    EmitCollectionCopy(ctx, e, db < 0 ? ctx.db : db);
    return;
  }
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
  if (e.is_collection()) {
    // A collection's TTL is a register of its own, stamped by this change.
    Shard& shard = ctx.ShardFor(e.key());
    db.SetStamp(&e, stamp);
    if (!shard.replicating()) return;
    Collection& c = *e.collection();
    ElementsDelta ed;
    ed.type = static_cast<uint8_t>(c.type());
    ed.prev = c.ctx.Head(stamp.node);
    ed.ttl = true;
    c.ctx.Add(stamp, ed.prev);
    c.ttl_stamp = stamp;
    Delta d{Delta::Kind::kElements, ctx.db, e.key(), stamp};
    d.expire_at = e.has_expire() ? e.expire_at() : -1;
    d.elements = &ed;
    shard.Emit(d);
    return;
  }
  if (e.enc() == Enc::kCounter) {
    n = db.SetString(e.key(), StringValue::Int(e.int_value()), stamp, Db::kKeepTtl, e.lru());
  } else {
    db.SetStamp(&e, stamp);
  }
  EmitAssign(ctx, *n);
}

// ---- CollectionWrite ----

CollectionWrite::CollectionWrite(CommandContext& ctx, std::string_view key, ObjType type, int db)
    : ctx_(ctx),
      key_(key),
      db_index_(db < 0 ? ctx.db : db),
      db_(ctx.DbFor(key, db_index_)),
      shard_(ctx.ShardFor(key)),
      type_(type),
      replicating_(shard_.replicating()) {
  ed_.type = static_cast<uint8_t>(type);
}

CollectionWrite::~CollectionWrite() {
  if (!done_) Done();
}

bool CollectionWrite::Open(bool reply) {
  e_ = db_.Find(key_, ctx_.now_ms);
  if (e_ && e_->type() != type_) {
    e_ = nullptr;
    if (reply) ctx_.rb->Error(errors::kWrongType);
    done_ = true;
    return false;
  }
  if (e_) {
    TouchEntry(e_, ctx_.now_ms);
    db_.LeafOut(e_);
    out_of_leaves_ = true;
  }
  return true;
}

crdt::Stamp CollectionWrite::Dot() {
  if (dot_.IsZero()) {
    dot_ = ctx_.Tick();
    if (e_) prev_ = e_->collection()->ctx.Head(dot_.node);
  }
  return dot_;
}

void CollectionWrite::Make(std::unique_ptr<Collection> c) {
  crdt::Stamp dot = Dot();
  if (replicating_) {
    // What the key saw before stays dead under the new collection.
    if (const crdt::Tombstone* t = db_.FindTomb(key_)) {
      c->ctx.MergeTombstone(*t);
      c->floor = t->max_dead;
    }
  }
  e_ = db_.SetString(key_, StringValue::Object(c.release()), dot, -1, ctx_.LruClock());
  prev_ = e_->collection()->ctx.Head(dot.node);
  db_.LeafOut(e_);
  out_of_leaves_ = true;
}

void CollectionWrite::Record(ElementOp op) {
  changed_ = true;
  if (replicating_) ed_.ops.push_back(std::move(op));
}

std::string_view CollectionWrite::Keep(std::string s) {
  kept_.push_back(std::make_unique<std::string>(std::move(s)));
  return *kept_.back();
}

bool CollectionWrite::Done() {
  if (done_) return e_ != nullptr;
  done_ = true;
  if (!e_) return false;
  Collection& c = *e_->collection();
  if (!changed_) {
    if (out_of_leaves_) db_.LeafRestore(e_);
    if (c.size() == 0) {
      db_.Delete(key_);  // created, then nothing added (HSETNX on a taken field...)
      e_ = nullptr;
    }
    return e_ != nullptr;
  }
  crdt::Stamp dot = Dot();
  if (replicating_) c.ctx.Add(dot, prev_);
  c.Normalize();
  db_.LeafIn(e_, dot);
  if (replicating_) {
    ed_.prev = prev_;
    Delta d{Delta::Kind::kElements, db_index_, e_->key(), dot};
    d.elements = &ed_;
    shard_.Emit(d);
  }
  if (c.size() == 0) {
    if (replicating_) Db::RememberContext(*e_, &db_.TombFor(key_));
    db_.Delete(key_);
    e_ = nullptr;
    return false;
  }
  return true;
}

}  // namespace lattice::node
