// The hash family: HSET and friends. Semantics and reply bytes follow Redis
// 7.0's t_hash.c; the merge rules across nodes are docs/consistency.md's
// "Collections" (fields add-wins, values last-writer-wins, HINCRBY summed).
#include <random>
#include <string>
#include <vector>

#include "node/families/families.h"
#include "node/families/util.h"
#include "node/glob.h"
#include "node/server.h"
#include "node/str_util.h"

namespace lattice::node {

namespace {

// The hash at `key` for reading: nullptr when missing (nothing replied) or
// after replying WRONGTYPE (*wrong set).
HashObject* ReadHash(CommandContext& ctx, std::string_view key, bool* wrong) {
  *wrong = false;
  Entry* e = LookupRead(ctx, key);
  if (!e) return nullptr;
  if (e->type() != ObjType::kHash) {
    ctx.rb->Error(errors::kWrongType);
    *wrong = true;
    return nullptr;
  }
  return static_cast<HashObject*>(e->collection());
}

// hashTypeTryConversion: a field or value longer than
// hash-max-listpack-value moves the hash to a table before it is written.
void ConvertForArgs(HashObject* h, std::span<const std::string_view> args) {
  if (h->enc() != CollEnc::kListpack) return;
  for (std::string_view a : args) {
    if (HashObject::TooLong(a.size())) {
      h->set_enc(CollEnc::kHashtable);
      h->map.BuildIndex();
      return;
    }
  }
}

// Sets one field (new or not) under its own dot; returns true if new.
bool SetField(CollectionWrite& w, HashObject* h, std::string_view field, std::string_view value) {
  crdt::Stamp dot = w.ElementDot();
  ptrdiff_t i = h->map.Find(field);
  if (i < 0) {
    h->map.Insert(h->map.size(), field, std::string(value), dot);
    w.Record(ElementOp{ElementOp::Kind::kPut, field, value, {}, {}, dot.sub});
    return true;
  }
  auto replaced = h->map.Put(static_cast<size_t>(i), std::string(value), dot);
  w.Record(ElementOp{ElementOp::Kind::kPut, field, value, std::move(replaced), {}, dot.sub});
  return false;
}

void HSetGeneric(CommandContext& ctx, bool reply_count) {
  if (ctx.args.size() % 2 != 0) {
    ReplyArityError(ctx);
    return;
  }
  CollectionWrite w(ctx, ctx.args[1], ObjType::kHash);
  if (!w.Open()) return;
  HashObject* h = w.Create<HashObject>();
  ConvertForArgs(h, ctx.args.subspan(2));
  int64_t created = 0;
  for (size_t j = 2; j + 1 < ctx.args.size(); j += 2) {
    created += SetField(w, h, ctx.args[j], ctx.args[j + 1]);
  }
  w.Done();
  if (reply_count) {
    ctx.rb->Integer(created);
  } else {
    ctx.rb->Ok();
  }
}

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return rng;
}

void ReplyField(CommandContext& ctx, const HashObject& h, size_t i, bool values) {
  if (values && ctx.rb->protocol() == 3) ctx.rb->ArrayHeader(2);
  ctx.rb->Bulk(h.map.at(i).name);
  if (values) {
    char buf[24];
    ctx.rb->Bulk(h.Value(i, buf));
  }
}

// HKEYS, HVALS, HGETALL.
void HGetAllGeneric(CommandContext& ctx, bool keys, bool values) {
  bool wrong;
  HashObject* h = ReadHash(ctx, ctx.args[1], &wrong);
  if (wrong) return;
  size_t n = h ? h->size() : 0;
  if (keys && values) {
    ctx.rb->MapHeader(static_cast<int64_t>(n));
  } else {
    ctx.rb->ArrayHeader(static_cast<int64_t>(n));
  }
  for (size_t i = 0; i < n; i++) {
    if (keys) ctx.rb->Bulk(h->map.at(i).name);
    if (values) {
      char buf[24];
      ctx.rb->Bulk(h->Value(i, buf));
    }
  }
}

}  // namespace

void CmdHSet(CommandContext& ctx) { HSetGeneric(ctx, true); }
void CmdHMSet(CommandContext& ctx) { HSetGeneric(ctx, false); }

void CmdHSetNx(CommandContext& ctx) {
  CollectionWrite w(ctx, ctx.args[1], ObjType::kHash);
  if (!w.Open()) return;
  HashObject* h = w.Get<HashObject>();
  if (h && h->map.Find(ctx.args[2]) >= 0) {
    w.Done();
    ctx.rb->Integer(0);
    return;
  }
  h = w.Create<HashObject>();
  ConvertForArgs(h, ctx.args.subspan(2));
  SetField(w, h, ctx.args[2], ctx.args[3]);
  w.Done();
  ctx.rb->Integer(1);
}

void CmdHGet(CommandContext& ctx) {
  bool wrong;
  HashObject* h = ReadHash(ctx, ctx.args[1], &wrong);
  if (wrong) return;
  ptrdiff_t i = h ? h->map.Find(ctx.args[2]) : -1;
  if (i < 0) {
    ctx.rb->Null();
    return;
  }
  char buf[24];
  ctx.rb->Bulk(h->Value(static_cast<size_t>(i), buf));
}

void CmdHMGet(CommandContext& ctx) {
  bool wrong;
  HashObject* h = ReadHash(ctx, ctx.args[1], &wrong);
  if (wrong) return;
  ctx.rb->ArrayHeader(static_cast<int64_t>(ctx.args.size() - 2));
  for (size_t j = 2; j < ctx.args.size(); j++) {
    ptrdiff_t i = h ? h->map.Find(ctx.args[j]) : -1;
    if (i < 0) {
      ctx.rb->Null();
      continue;
    }
    char buf[24];
    ctx.rb->Bulk(h->Value(static_cast<size_t>(i), buf));
  }
}

void CmdHExists(CommandContext& ctx) {
  bool wrong;
  HashObject* h = ReadHash(ctx, ctx.args[1], &wrong);
  if (wrong) return;
  ctx.rb->Integer(h && h->map.Find(ctx.args[2]) >= 0 ? 1 : 0);
}

void CmdHLen(CommandContext& ctx) {
  bool wrong;
  HashObject* h = ReadHash(ctx, ctx.args[1], &wrong);
  if (wrong) return;
  ctx.rb->Integer(h ? static_cast<int64_t>(h->size()) : 0);
}

void CmdHStrLen(CommandContext& ctx) {
  bool wrong;
  HashObject* h = ReadHash(ctx, ctx.args[1], &wrong);
  if (wrong) return;
  ptrdiff_t i = h ? h->map.Find(ctx.args[2]) : -1;
  if (i < 0) {
    ctx.rb->Integer(0);
    return;
  }
  char buf[24];
  ctx.rb->Integer(static_cast<int64_t>(h->Value(static_cast<size_t>(i), buf).size()));
}

void CmdHKeys(CommandContext& ctx) { HGetAllGeneric(ctx, true, false); }
void CmdHVals(CommandContext& ctx) { HGetAllGeneric(ctx, false, true); }
void CmdHGetAll(CommandContext& ctx) { HGetAllGeneric(ctx, true, true); }

void CmdHDel(CommandContext& ctx) {
  CollectionWrite w(ctx, ctx.args[1], ObjType::kHash);
  if (!w.Open()) return;
  HashObject* h = w.Get<HashObject>();
  int64_t deleted = 0;
  for (size_t j = 2; h && j < ctx.args.size(); j++) {
    ptrdiff_t i = h->map.Find(ctx.args[j]);
    if (i < 0) continue;
    auto dots = h->map.Remove(static_cast<size_t>(i));
    w.Record(ElementOp{ElementOp::Kind::kRemove, ctx.args[j], {}, std::move(dots), {}});
    deleted++;
    if (h->size() == 0) break;  // Redis stops once the hash is gone
  }
  w.Done();
  ctx.rb->Integer(deleted);
}

void CmdHIncrBy(CommandContext& ctx) {
  int64_t by;
  if (!ArgInt(ctx, ctx.args[3], &by)) return;
  CollectionWrite w(ctx, ctx.args[1], ObjType::kHash);
  if (!w.Open()) return;
  HashObject* h = w.Get<HashObject>();
  std::string_view field = ctx.args[2];
  ptrdiff_t i = h ? h->map.Find(field) : -1;
  int64_t current = 0;
  if (i >= 0) {
    char buf[24];
    if (!ParseInt64(h->Value(static_cast<size_t>(i), buf), &current)) {
      w.Done();
      ctx.rb->Error("ERR hash value is not an integer");
      return;
    }
  }
  if ((by < 0 && current < 0 && by < INT64_MIN - current) ||
      (by > 0 && current > 0 && by > INT64_MAX - current)) {
    w.Done();
    ctx.rb->Error(errors::kOverflow);
    return;
  }
  int64_t value = current + by;
  char buf[24];
  std::string formatted(buf, FormatInt64(value, buf));
  if (i >= 0 && w.replicating()) {
    // Increments from every node add up: a counter on the field's value
    // (docs/consistency.md, "Collections").
    crdt::Stamp dot = w.Dot();
    std::string_view base = w.Keep(h->map.at(static_cast<size_t>(i)).top().value.str());
    crdt::PnCounter::Delta d =
        h->map.Increment(static_cast<size_t>(i), current, dot.node, dot.counter, by);
    ElementOp op{ElementOp::Kind::kIncrement, field, base, {}, d};
    w.Record(std::move(op));
  } else {
    h = w.Create<HashObject>();
    ConvertForArgs(h, ctx.args.subspan(2, 1));
    SetField(w, h, field, w.Keep(formatted));
  }
  w.Done();
  ctx.rb->Integer(value);
}

void CmdHIncrByFloat(CommandContext& ctx) {
  long double by;
  if (!ParseLongDouble(ctx.args[3], &by)) {
    ctx.rb->Error(errors::kNotFloat);
    return;
  }
  if (std::isnan(by) || std::isinf(by)) {
    ctx.rb->Error("ERR value is NaN or Infinity");
    return;
  }
  CollectionWrite w(ctx, ctx.args[1], ObjType::kHash);
  if (!w.Open()) return;
  HashObject* h = w.Get<HashObject>();
  std::string_view field = ctx.args[2];
  ptrdiff_t i = h ? h->map.Find(field) : -1;
  long double current = 0;
  if (i >= 0) {
    char buf[24];
    if (!ParseLongDouble(h->Value(static_cast<size_t>(i), buf), &current)) {
      w.Done();
      ctx.rb->Error("ERR hash value is not a float");
      return;
    }
  }
  long double value = current + by;
  if (std::isnan(value) || std::isinf(value)) {
    w.Done();
    ctx.rb->Error("ERR increment would produce NaN or Infinity");
    return;
  }
  std::string_view formatted = w.Keep(FormatLongDouble(value));
  h = w.Create<HashObject>();
  std::string_view conv[] = {field, formatted};
  ConvertForArgs(h, conv);
  SetField(w, h, field, formatted);
  w.Done();
  ctx.rb->Bulk(formatted);
}

void CmdHRandField(CommandContext& ctx) {
  if (ctx.args.size() == 2) {
    bool wrong;
    HashObject* h = ReadHash(ctx, ctx.args[1], &wrong);
    if (wrong) return;
    if (!h) {
      ctx.rb->Null();
      return;
    }
    ctx.rb->Bulk(h->map.at(Rng()() % h->size()).name);
    return;
  }
  int64_t count;
  if (!ArgInt(ctx, ctx.args[2], &count)) return;
  bool values = false;
  if (ctx.args.size() == 4 && Is(ctx.args[3], "withvalues")) {
    values = true;
  } else if (ctx.args.size() >= 4) {
    ctx.rb->Error(errors::kSyntax);
    return;
  }
  if (count < -INT64_MAX / 2) {
    ctx.rb->Error("ERR value is out of range");
    return;
  }
  // Redis 7.0 builds any reply a negative count asks for and runs out of
  // memory on a huge one; a node must not (as SRANDMEMBER here).
  constexpr int64_t kMaxRepeatedPicks = int64_t{1} << 26;
  if (count < -kMaxRepeatedPicks) {
    ctx.rb->Error(StrCat("ERR value is out of range, value must between -", kMaxRepeatedPicks,
                         " and 9223372036854775807"));
    return;
  }
  bool wrong;
  HashObject* h = ReadHash(ctx, ctx.args[1], &wrong);
  if (wrong) return;
  size_t size = h ? h->size() : 0;
  if (size == 0 || count == 0) {
    ctx.rb->ArrayHeader(0);
    return;
  }
  auto header = [&](size_t n) {
    ctx.rb->ArrayHeader(static_cast<int64_t>(values && ctx.rb->protocol() == 2 ? n * 2 : n));
  };
  if (count < 0) {
    // Repeats allowed: |count| independent draws.
    size_t n = static_cast<size_t>(-count);
    header(n);
    for (size_t k = 0; k < n; k++) ReplyField(ctx, *h, Rng()() % size, values);
    return;
  }
  size_t n = static_cast<size_t>(count);
  if (n >= size) {
    // The whole hash, in its order (as Redis).
    header(size);
    for (size_t i = 0; i < size; i++) ReplyField(ctx, *h, i, values);
    return;
  }
  // n distinct fields: a partial Fisher-Yates shuffle of the positions.
  std::vector<size_t> pos(size);
  for (size_t i = 0; i < size; i++) pos[i] = i;
  for (size_t k = 0; k < n; k++) std::swap(pos[k], pos[k + Rng()() % (size - k)]);
  header(n);
  for (size_t k = 0; k < n; k++) ReplyField(ctx, *h, pos[k], values);
}

void CmdHScan(CommandContext& ctx) {
  // As Redis's hscanCommand: the cursor, then the key, then the options.
  uint64_t cursor;
  if (!ParseScanCursor(ctx, ctx.args[2], &cursor)) return;
  bool wrong;
  HashObject* h = ReadHash(ctx, ctx.args[1], &wrong);
  if (wrong) return;
  if (!h) {
    ReplyEmptyScan(ctx);
    return;
  }
  std::string_view pattern;
  bool use_pattern;
  if (!ParseScanOptions(ctx, 3, &pattern, &use_pattern)) return;
  // One page holds everything: COUNT is a hint, and a single page is what
  // Redis returns for a compact hash anyway.
  std::vector<size_t> hits;
  for (size_t i = 0; h && i < h->size(); i++) {
    if (!use_pattern || GlobMatch(pattern, h->map.at(i).name)) hits.push_back(i);
  }
  ctx.rb->ArrayHeader(2);
  ctx.rb->Bulk("0");
  ctx.rb->ArrayHeader(static_cast<int64_t>(hits.size() * 2));
  for (size_t i : hits) {
    char buf[24];
    ctx.rb->Bulk(h->map.at(i).name);
    ctx.rb->Bulk(h->Value(i, buf));
  }
}

}  // namespace lattice::node
