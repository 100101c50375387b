// The list family: pushes, pops, ranges, LMOVE and the blocking pops.
// Semantics and reply bytes follow Redis 7.0's t_list.c; across nodes a
// list is the sequence CRDT of crdt/sequence.h (docs/consistency.md,
// "Lists").
#include <string>
#include <vector>

#include "node/families/blocking.h"
#include "node/families/families.h"
#include "node/families/util.h"
#include "node/server.h"
#include "node/storage/list.h"
#include "node/str_util.h"

namespace lattice::node {

namespace {

enum class End { kLeft, kRight };

bool ParseEnd(std::string_view arg, End* end) {
  if (Is(arg, "left")) {
    *end = End::kLeft;
  } else if (Is(arg, "right")) {
    *end = End::kRight;
  } else {
    return false;
  }
  return true;
}

// The list at `key` for reading: nullptr when missing (nothing replied) or
// after replying WRONGTYPE (*wrong set).
const ListObject* ReadList(CommandContext& ctx, std::string_view key, bool* wrong) {
  *wrong = false;
  Entry* e = LookupRead(ctx, key);
  if (!e) return nullptr;
  if (e->type() != ObjType::kList) {
    ctx.rb->Error(errors::kWrongType);
    *wrong = true;
    return nullptr;
  }
  return static_cast<const ListObject*>(e->collection());
}

void RecordPut(CollectionWrite& w, const crdt::SeqElement& e) {
  if (!w.replicating()) {
    w.Touch();
    return;
  }
  w.Record(ElementOp{ElementOp::Kind::kPut, w.Keep(e.pos.Encode()), w.Keep(e.value), {}, {},
                     e.value_dot.sub});
}

void RecordRemove(CollectionWrite& w, const crdt::SeqElement& e) {
  if (!w.replicating()) {
    w.Touch();
    return;
  }
  w.Record(ElementOp{ElementOp::Kind::kRemove, w.Keep(e.pos.Encode()), {}, {e.pos.dot()}, {}});
}

// Pushes `values` at one end of the list in `w` (created if missing).
void Push(CollectionWrite& w, ListObject* l, std::span<const std::string_view> values, End end) {
  for (std::string_view v : values) {
    crdt::Stamp dot = w.ElementDot();
    RecordPut(w, end == End::kLeft ? l->PushFront(v, dot) : l->PushBack(v, dot));
  }
}

void PushGeneric(CommandContext& ctx, End end, bool only_existing) {
  CollectionWrite w(ctx, ctx.args[1], ObjType::kList);
  if (!w.Open()) return;
  ListObject* l = w.Get<ListObject>();
  if (!l && only_existing) {
    w.Done();
    ctx.rb->Integer(0);
    return;
  }
  if (!l) l = w.Create<ListObject>();
  Push(w, l, ctx.args.subspan(2), end);
  int64_t len = static_cast<int64_t>(l->size());
  w.Done();
  ctx.rb->Integer(len);
}

// Pops one element from `end` of the list in `w`; returns its value.
std::string PopOne(CollectionWrite& w, ListObject* l, End end) {
  size_t i = end == End::kLeft ? 0 : l->size() - 1;
  crdt::SeqElement e = l->RemoveAt(i);
  RecordRemove(w, e);
  return std::move(e.value);
}

// LPOP/RPOP key [count].
void PopGeneric(CommandContext& ctx, End end) {
  if (ctx.args.size() > 3) {
    ReplyArityError(ctx);
    return;
  }
  bool has_count = ctx.args.size() == 3;
  int64_t count = 1;
  if (has_count && (!ParseInt64(ctx.args[2], &count) || count < 0)) {
    ctx.rb->Error("ERR value is out of range, must be positive");
    return;
  }
  CollectionWrite w(ctx, ctx.args[1], ObjType::kList);
  if (!w.Open()) return;
  ListObject* l = w.Get<ListObject>();
  if (!l) {
    w.Done();
    if (has_count) {
      ctx.rb->NullArray();
    } else {
      ctx.rb->Null();
    }
    return;
  }
  if (!has_count) {
    std::string v = PopOne(w, l, end);
    w.Done();
    ctx.rb->Bulk(v);
    return;
  }
  size_t n = std::min<size_t>(static_cast<size_t>(count), l->size());
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t k = 0; k < n; k++) out.push_back(PopOne(w, l, end));
  w.Done();
  ctx.rb->ArrayHeader(static_cast<int64_t>(out.size()));
  for (const auto& v : out) ctx.rb->Bulk(v);
}

// Redis's index normalization for LRANGE/LTRIM: [start, end] clamped.
bool Range(int64_t start, int64_t stop, size_t len, size_t* from, size_t* to) {
  int64_t n = static_cast<int64_t>(len);
  if (start < 0) start += n;
  if (stop < 0) stop += n;
  if (start < 0) start = 0;
  if (start > stop || start >= n) return false;
  if (stop >= n) stop = n - 1;
  *from = static_cast<size_t>(start);
  *to = static_cast<size_t>(stop);
  return true;
}

// LMOVE's work: pops from src's `from` end, pushes at dst's `to` end.
// Replies the element, or null when src is missing. WRONGTYPE on either
// key before anything changes, as Redis.
void MoveGeneric(CommandContext& ctx, std::string_view src, std::string_view dst, End from,
                 End to, bool* moved) {
  *moved = false;
  Entry* se = LookupWrite(ctx, src);
  if (se && se->type() != ObjType::kList) {
    ctx.rb->Error(errors::kWrongType);
    return;
  }
  if (!se) {
    ctx.rb->Null();
    return;
  }
  Entry* de = LookupWrite(ctx, dst);
  if (de && de->type() != ObjType::kList) {
    ctx.rb->Error(errors::kWrongType);
    return;
  }
  std::string value;
  {
    CollectionWrite w(ctx, src, ObjType::kList);
    if (!w.Open()) return;
    value = PopOne(w, w.Get<ListObject>(), from);
    w.Done();
  }
  CollectionWrite w(ctx, dst, ObjType::kList);
  if (!w.Open()) return;
  ListObject* l = w.Create<ListObject>();
  std::string_view v = value;
  Push(w, l, std::span<const std::string_view>(&v, 1), to);
  w.Done();
  ctx.rb->Bulk(value);
  *moved = true;
}

// The first non-empty list among `keys`, for LMPOP/BLMPOP; WRONGTYPE on the
// first key that is not a list (as Redis, which checks while scanning).
// Returns -1 if none (or after an error: *error).
ptrdiff_t FirstNonEmpty(CommandContext& ctx, std::span<const std::string_view> keys, bool* error) {
  *error = false;
  for (size_t i = 0; i < keys.size(); i++) {
    Entry* e = LookupWrite(ctx, keys[i]);
    if (!e) continue;
    if (e->type() != ObjType::kList) {
      ctx.rb->Error(errors::kWrongType);
      *error = true;
      return -1;
    }
    return static_cast<ptrdiff_t>(i);
  }
  return -1;
}

// Pops up to `count` from `end` of `key` and replies [key, [elements]].
void MPopReply(CommandContext& ctx, std::string_view key, End end, int64_t count) {
  CollectionWrite w(ctx, key, ObjType::kList);
  if (!w.Open()) return;
  ListObject* l = w.Get<ListObject>();
  size_t n = std::min<size_t>(static_cast<size_t>(count), l->size());
  std::vector<std::string> out;
  for (size_t k = 0; k < n; k++) out.push_back(PopOne(w, l, end));
  w.Done();
  ctx.rb->ArrayHeader(2);
  ctx.rb->Bulk(key);
  ctx.rb->ArrayHeader(static_cast<int64_t>(out.size()));
  for (const auto& v : out) ctx.rb->Bulk(v);
}

// Parses LMPOP/BLMPOP's numkeys key... LEFT|RIGHT [COUNT n] from args[at].
bool ParseMPop(CommandContext& ctx, size_t at, std::span<const std::string_view>* keys, End* end,
               int64_t* count) {
  int64_t numkeys;
  if (!ParseInt64(ctx.args[at], &numkeys) || numkeys <= 0 || numkeys > INT32_MAX) {
    ctx.rb->Error("ERR numkeys should be greater than 0");
    return false;
  }
  size_t first = at + 1;
  if (static_cast<size_t>(numkeys) >= ctx.args.size() - first + 1 ||
      first + static_cast<size_t>(numkeys) >= ctx.args.size()) {
    ctx.rb->Error(errors::kSyntax);
    return false;
  }
  *keys = ctx.args.subspan(first, static_cast<size_t>(numkeys));
  size_t j = first + static_cast<size_t>(numkeys);
  if (!ParseEnd(ctx.args[j], end)) {
    ctx.rb->Error(errors::kSyntax);
    return false;
  }
  *count = 1;
  bool seen_count = false;
  for (j++; j < ctx.args.size(); j++) {
    if (Is(ctx.args[j], "count") && !seen_count && j + 1 < ctx.args.size()) {
      if (!ParseInt64(ctx.args[j + 1], count) || *count <= 0) {
        ctx.rb->Error("ERR count should be greater than 0");
        return false;
      }
      seen_count = true;
      j++;
    } else {
      ctx.rb->Error(errors::kSyntax);
      return false;
    }
  }
  return true;
}

}  // namespace

void CmdLPush(CommandContext& ctx) { PushGeneric(ctx, End::kLeft, false); }
void CmdRPush(CommandContext& ctx) { PushGeneric(ctx, End::kRight, false); }
void CmdLPushX(CommandContext& ctx) { PushGeneric(ctx, End::kLeft, true); }
void CmdRPushX(CommandContext& ctx) { PushGeneric(ctx, End::kRight, true); }
void CmdLPop(CommandContext& ctx) { PopGeneric(ctx, End::kLeft); }
void CmdRPop(CommandContext& ctx) { PopGeneric(ctx, End::kRight); }

void CmdLLen(CommandContext& ctx) {
  bool wrong;
  const ListObject* l = ReadList(ctx, ctx.args[1], &wrong);
  if (wrong) return;
  ctx.rb->Integer(l ? static_cast<int64_t>(l->size()) : 0);
}

void CmdLRange(CommandContext& ctx) {
  int64_t start, stop;
  if (!ArgInt(ctx, ctx.args[2], &start) || !ArgInt(ctx, ctx.args[3], &stop)) return;
  bool wrong;
  const ListObject* l = ReadList(ctx, ctx.args[1], &wrong);
  if (wrong) return;
  size_t from, to;
  if (!l || !Range(start, stop, l->size(), &from, &to)) {
    ctx.rb->ArrayHeader(0);
    return;
  }
  ctx.rb->ArrayHeader(static_cast<int64_t>(to - from + 1));
  for (size_t i = from; i <= to; i++) ctx.rb->Bulk(l->at(i).value);
}

void CmdLIndex(CommandContext& ctx) {
  int64_t index;
  if (!ArgInt(ctx, ctx.args[2], &index)) return;
  bool wrong;
  const ListObject* l = ReadList(ctx, ctx.args[1], &wrong);
  if (wrong) return;
  int64_t n = l ? static_cast<int64_t>(l->size()) : 0;
  if (index < 0) index += n;
  if (!l || index < 0 || index >= n) {
    ctx.rb->Null();
    return;
  }
  ctx.rb->Bulk(l->at(static_cast<size_t>(index)).value);
}

void CmdLSet(CommandContext& ctx) {
  int64_t index;
  if (!ArgInt(ctx, ctx.args[2], &index)) return;
  CollectionWrite w(ctx, ctx.args[1], ObjType::kList);
  if (!w.Open()) return;
  ListObject* l = w.Get<ListObject>();
  if (!l) {
    w.Done();
    ctx.rb->Error(errors::kNoSuchKey);
    return;
  }
  int64_t n = static_cast<int64_t>(l->size());
  if (index < 0) index += n;
  if (index < 0 || index >= n) {
    w.Done();
    ctx.rb->Error("ERR index out of range");
    return;
  }
  l->Set(static_cast<size_t>(index), ctx.args[3], w.ElementDot());
  RecordPut(w, l->at(static_cast<size_t>(index)));
  w.Done();
  ctx.rb->Ok();
}

void CmdLInsert(CommandContext& ctx) {
  bool after;
  if (Is(ctx.args[2], "after")) {
    after = true;
  } else if (Is(ctx.args[2], "before")) {
    after = false;
  } else {
    ctx.rb->Error(errors::kSyntax);
    return;
  }
  CollectionWrite w(ctx, ctx.args[1], ObjType::kList);
  if (!w.Open()) return;
  ListObject* l = w.Get<ListObject>();
  if (!l) {
    w.Done();
    ctx.rb->Integer(0);
    return;
  }
  for (size_t i = 0; i < l->size(); i++) {
    if (l->at(i).value != ctx.args[3]) continue;
    RecordPut(w, l->InsertAt(after ? i + 1 : i, ctx.args[4], w.ElementDot()));
    int64_t len = static_cast<int64_t>(l->size());
    w.Done();
    ctx.rb->Integer(len);
    return;
  }
  w.Done();
  ctx.rb->Integer(-1);
}

void CmdLRem(CommandContext& ctx) {
  int64_t count;
  if (!ArgInt(ctx, ctx.args[2], &count)) return;
  CollectionWrite w(ctx, ctx.args[1], ObjType::kList);
  if (!w.Open()) return;
  ListObject* l = w.Get<ListObject>();
  int64_t removed = 0;
  if (l) {
    std::string_view target = ctx.args[3];
    if (count >= 0) {
      for (size_t i = 0; i < l->size() && (count == 0 || removed < count);) {
        if (l->at(i).value == target) {
          RecordRemove(w, l->RemoveAt(i));
          removed++;
        } else {
          i++;
        }
      }
    } else {
      for (size_t i = l->size(); i-- > 0 && removed < -count;) {
        if (l->at(i).value == target) {
          RecordRemove(w, l->RemoveAt(i));
          removed++;
        }
      }
    }
  }
  w.Done();
  ctx.rb->Integer(removed);
}

void CmdLTrim(CommandContext& ctx) {
  int64_t start, stop;
  if (!ArgInt(ctx, ctx.args[2], &start) || !ArgInt(ctx, ctx.args[3], &stop)) return;
  CollectionWrite w(ctx, ctx.args[1], ObjType::kList);
  if (!w.Open()) return;
  ListObject* l = w.Get<ListObject>();
  if (l) {
    size_t from, to;
    size_t n = l->size();
    if (!Range(start, stop, n, &from, &to)) {
      from = n;  // everything goes
      to = n;
    }
    // Drop the tail after `to`, then the head before `from`.
    if (from < n) {
      for (size_t i = n; i-- > to + 1;) RecordRemove(w, l->RemoveAt(i));
    }
    size_t head = std::min(from, l->size());
    for (size_t k = 0; k < head; k++) RecordRemove(w, l->RemoveAt(0));
  }
  w.Done();
  ctx.rb->Ok();
}

void CmdLPos(CommandContext& ctx) {
  int64_t rank = 1, count = -1, maxlen = 0;
  for (size_t j = 3; j < ctx.args.size(); j += 2) {
    if (j + 1 >= ctx.args.size()) {
      ctx.rb->Error(errors::kSyntax);
      return;
    }
    std::string_view opt = ctx.args[j];
    int64_t v;
    if (Is(opt, "rank")) {
      if (!ArgInt(ctx, ctx.args[j + 1], &v)) return;
      if (v == 0) {
        ctx.rb->Error(
            "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
            "or use negative to start from the end of the list");
        return;
      }
      rank = v;
    } else if (Is(opt, "count")) {
      if (!ArgInt(ctx, ctx.args[j + 1], &v)) return;
      if (v < 0) {
        ctx.rb->Error("ERR COUNT can't be negative");
        return;
      }
      count = v;
    } else if (Is(opt, "maxlen")) {
      if (!ArgInt(ctx, ctx.args[j + 1], &v)) return;
      if (v < 0) {
        ctx.rb->Error("ERR MAXLEN can't be negative");
        return;
      }
      maxlen = v;
    } else {
      ctx.rb->Error(errors::kSyntax);
      return;
    }
  }
  bool wrong;
  const ListObject* l = ReadList(ctx, ctx.args[1], &wrong);
  if (wrong) return;
  std::vector<int64_t> hits;
  if (l) {
    int64_t n = static_cast<int64_t>(l->size());
    // Skip |rank|-1 matches, scanning from the head (rank > 0) or tail.
    // LLONG_MIN as a rank wraps as in Redis (-rank overflows to itself).
    uint64_t skip = rank > 0 ? static_cast<uint64_t>(rank) - 1 : (0 - static_cast<uint64_t>(rank)) - 1;
    int64_t want = count < 0 ? 1 : count;
    for (int64_t k = 0; k < n && (maxlen == 0 || k < maxlen); k++) {
      int64_t i = rank > 0 ? k : n - 1 - k;
      if (l->at(static_cast<size_t>(i)).value != ctx.args[2]) continue;
      if (skip > 0) {
        skip--;
        continue;
      }
      hits.push_back(i);
      if (want != 0 && static_cast<int64_t>(hits.size()) >= want) break;
    }
  }
  if (count < 0) {
    if (hits.empty()) {
      ctx.rb->Null();
    } else {
      ctx.rb->Integer(hits[0]);
    }
    return;
  }
  ctx.rb->ArrayHeader(static_cast<int64_t>(hits.size()));
  for (int64_t h : hits) ctx.rb->Integer(h);
}

void CmdLMove(CommandContext& ctx) {
  End from, to;
  if (!ParseEnd(ctx.args[3], &from) || !ParseEnd(ctx.args[4], &to)) {
    ctx.rb->Error(errors::kSyntax);
    return;
  }
  bool moved;
  MoveGeneric(ctx, ctx.args[1], ctx.args[2], from, to, &moved);
}

void CmdRPopLPush(CommandContext& ctx) {
  bool moved;
  MoveGeneric(ctx, ctx.args[1], ctx.args[2], End::kRight, End::kLeft, &moved);
}

void CmdLMPop(CommandContext& ctx) {
  std::span<const std::string_view> keys;
  End end;
  int64_t count;
  if (!ParseMPop(ctx, 1, &keys, &end, &count)) return;
  bool error;
  ptrdiff_t i = FirstNonEmpty(ctx, keys, &error);
  if (error) return;
  if (i < 0) {
    ctx.rb->NullArray();
    return;
  }
  MPopReply(ctx, keys[static_cast<size_t>(i)], end, count);
}

// ---- blocking pops ----

namespace {

void BPopGeneric(CommandContext& ctx, End end) {
  int64_t timeout_ms;
  if (!ParseBlockTimeout(ctx, ctx.args.back(), &timeout_ms)) return;
  std::span<const std::string_view> keys = ctx.args.subspan(1, ctx.args.size() - 2);
  bool error;
  ptrdiff_t i = FirstNonEmpty(ctx, keys, &error);
  if (error) return;
  if (i < 0) {
    BlockClient(ctx, keys, timeout_ms);
    return;
  }
  std::string_view key = keys[static_cast<size_t>(i)];
  CollectionWrite w(ctx, key, ObjType::kList);
  if (!w.Open()) return;
  std::string v = PopOne(w, w.Get<ListObject>(), end);
  w.Done();
  ctx.rb->ArrayHeader(2);
  ctx.rb->Bulk(key);
  ctx.rb->Bulk(v);
}

void BMoveGeneric(CommandContext& ctx, End from, End to, std::string_view timeout) {
  int64_t timeout_ms;
  if (!ParseBlockTimeout(ctx, timeout, &timeout_ms)) return;
  std::string_view src = ctx.args[1], dst = ctx.args[2];
  Entry* se = LookupWrite(ctx, src);
  if (se && se->type() != ObjType::kList) {
    ctx.rb->Error(errors::kWrongType);
    return;
  }
  if (!se) {
    // Redis 7.0 answers a timed-out BLMOVE with a null array, but one
    // inside MULTI with a null bulk.
    if (ctx.in_exec) {
      ctx.rb->Null();
      return;
    }
    BlockClient(ctx, ctx.args.subspan(1, 1), timeout_ms);
    return;
  }
  bool moved;
  MoveGeneric(ctx, src, dst, from, to, &moved);
}

}  // namespace

void CmdBLPop(CommandContext& ctx) { BPopGeneric(ctx, End::kLeft); }
void CmdBRPop(CommandContext& ctx) { BPopGeneric(ctx, End::kRight); }

void CmdBLMove(CommandContext& ctx) {
  End from, to;
  if (!ParseEnd(ctx.args[3], &from) || !ParseEnd(ctx.args[4], &to)) {
    ctx.rb->Error(errors::kSyntax);
    return;
  }
  BMoveGeneric(ctx, from, to, ctx.args[5]);
}

void CmdBRPopLPush(CommandContext& ctx) {
  BMoveGeneric(ctx, End::kRight, End::kLeft, ctx.args[3]);
}

void CmdBLMPop(CommandContext& ctx) {
  int64_t timeout_ms;
  if (!ParseBlockTimeout(ctx, ctx.args[1], &timeout_ms)) return;
  std::span<const std::string_view> keys;
  End end;
  int64_t count;
  if (!ParseMPop(ctx, 2, &keys, &end, &count)) return;
  bool error;
  ptrdiff_t i = FirstNonEmpty(ctx, keys, &error);
  if (error) return;
  if (i < 0) {
    BlockClient(ctx, keys, timeout_ms);
    return;
  }
  MPopReply(ctx, keys[static_cast<size_t>(i)], end, count);
}

}  // namespace lattice::node
