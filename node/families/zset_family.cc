// Sorted-set commands. Semantics and reply bytes follow Redis 7.0's
// t_zset.c: option parsing and the order of its checks, which key is looked
// at first, the empty reply each command gives, RESP2 flat and RESP3 nested
// WITHSCORES replies, and scores printed as "%.17g". Every write goes
// through a CollectionWrite, one per key written, which records the element
// operations the delta replicates; the merge rules are docs/consistency.md's
// "Collections" (members add-wins, ZADD scores last-writer-wins, ZINCRBY
// summed on replicating nodes).
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "node/families/blocking.h"
#include "node/families/families.h"
#include "node/families/util.h"
#include "node/families/zset_util.h"
#include "node/glob.h"
#include "node/storage/zset.h"
#include "node/str_util.h"

namespace lattice::node {

// ---- shared with geo_family.cc (zset_util.h) ----

// The sorted set at `key` for reading: *out is null when the key is
// missing. False after replying WRONGTYPE.
bool ReadZset(CommandContext& ctx, std::string_view key, const ZsetObject** out) {
  Entry* e = LookupRead(ctx, key);
  if (e && e->type() != ObjType::kZset) {
    ctx.rb->Error(errors::kWrongType);
    return false;
  }
  *out = e ? static_cast<const ZsetObject*>(e->collection()) : nullptr;
  if (*out && (*out)->size() == 0) *out = nullptr;
  return true;
}

// Records a put of `member` at its score as the zset now holds it.
void RecordPut(CollectionWrite& w, ZsetObject* z, std::string_view member, crdt::Stamp dot,
               ZsetObject::Dots replaced) {
  if (!w.replicating()) {
    w.Touch();  // standalone: no delta to fill
    return;
  }
  double stored = 0;
  z->ScoreOf(member, &stored);
  w.Record(ElementOp{ElementOp::Kind::kPut, member, w.Keep(EncodeScore(stored)),
                     std::move(replaced), {}, dot.sub});
}

// The *STORE commands' last step: `dst` is replaced by a zset of `items`
// (deleted when there are none), whatever it held. The stored encoding is
// what zsetConvertToListpackIfNeeded leaves.
void StoreZsetResult(CommandContext& ctx, std::string_view dst,
                     const std::vector<std::pair<std::string_view, double>>& items) {
  // Copied before the destination, which may be a source, goes.
  std::vector<std::pair<std::string, double>> copy(items.begin(), items.end());
  Db& db = ctx.DbFor(dst);
  if (Entry* e = db.Find(dst, ctx.now_ms)) {
    Killed killed = KilledOf(*e);
    db.Delete(dst);
    EmitDelete(ctx, dst, ctx.Tick(), ctx.db, killed);
  }
  if (!copy.empty()) {
    CollectionWrite w(ctx, dst, ObjType::kZset);
    w.Open();  // the key is gone: it cannot hold another type
    ZsetObject* z = w.Create<ZsetObject>();
    size_t max_len = 0;
    for (const auto& [m, s] : copy) max_len = std::max(max_len, m.size());
    if (!ZsetObject::FitsListpack(copy.size(), max_len)) z->set_enc(CollEnc::kSkiplist);
    for (const auto& [m, s] : copy) {
      crdt::Stamp dot = w.ElementDot();
      z->Set(m, s, dot);
      RecordPut(w, z, w.replicating() ? w.Keep(m) : std::string_view(m), dot, {});
    }
    w.Done();
  }
  ctx.rb->Integer(static_cast<int64_t>(copy.size()));
}

namespace {

using Node = ZOrder::Node;
// A reply or stored result: members (views into a zset, or into strings
// the caller keeps) with their scores.
using Scored = std::vector<std::pair<std::string_view, double>>;

constexpr std::string_view kNanError = "ERR resulting score is not a number (NaN)";
constexpr std::string_view kMinMaxFloat = "ERR min or max is not a float";
constexpr std::string_view kMinMaxLex = "ERR min or max not valid string range item";

// "%.17g" (addReplyDouble's digits, and ZSCAN's ld2string ones).
std::string FormatScore(double d) {
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::general, 17);
  return std::string(buf, r.ptr);
}

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return rng;
}


void ReplyScored(CommandContext& ctx, const Scored& items, bool withscores) {
  bool resp3 = ctx.rb->protocol() >= 3;
  ctx.rb->ArrayHeader(static_cast<int64_t>(withscores && !resp3 ? items.size() * 2 : items.size()));
  for (const auto& [m, s] : items) {
    if (withscores && resp3) ctx.rb->ArrayHeader(2);
    ctx.rb->Bulk(m);
    if (withscores) ctx.rb->Double(s);
  }
}

// ---- ranges ----

// zrangespec: a score interval, parsed as zslParseRange does: strtod over
// the argument as a C string (it ends at a NUL), "(" for an open end; the
// empty string is 0 and overflow is infinity, as in Redis.
struct ScoreRange {
  double min = 0, max = 0;
  bool minex = false, maxex = false;

  bool GteMin(double v) const { return minex ? v > min : v >= min; }
  bool LteMax(double v) const { return maxex ? v < max : v <= max; }
  bool Empty() const { return min > max || (min == max && (minex || maxex)); }
};

bool ParseRangeEnd(std::string_view arg, double* v, bool* ex) {
  std::string s(arg.substr(0, arg.find('\0')));
  const char* p = s.c_str();
  *ex = false;
  if (p[0] == '(') {
    *ex = true;
    p++;
  }
  char* end;
  *v = std::strtod(p, &end);
  return *end == '\0' && !std::isnan(*v);
}

bool ParseScoreRange(std::string_view min, std::string_view max, ScoreRange* r) {
  return ParseRangeEnd(min, &r->min, &r->minex) && ParseRangeEnd(max, &r->max, &r->maxex);
}

// zlexrangespec: "-" and "+" are the smallest and greatest strings, "(" and
// "[" open and closed ends.
struct LexEnd {
  enum Kind { kMinString, kMaxString, kString } kind = kString;
  std::string s;
};

struct LexRange {
  LexEnd min, max;
  bool minex = false, maxex = false;

  // sdscmplex: the special ends compare below / above everything.
  static int Cmp(std::string_view v, const LexEnd& e) {
    if (e.kind == LexEnd::kMinString) return 1;
    if (e.kind == LexEnd::kMaxString) return -1;
    int c = v.compare(e.s);
    return c < 0 ? -1 : c > 0;
  }
  bool GteMin(std::string_view v) const { return minex ? Cmp(v, min) > 0 : Cmp(v, min) >= 0; }
  bool LteMax(std::string_view v) const { return maxex ? Cmp(v, max) < 0 : Cmp(v, max) <= 0; }
  bool Empty() const {
    int cmp;
    if (min.kind == max.kind && min.kind != LexEnd::kString) {
      cmp = 0;  // the same shared string
    } else if (min.kind == LexEnd::kMinString || max.kind == LexEnd::kMaxString) {
      cmp = -1;
    } else if (min.kind == LexEnd::kMaxString || max.kind == LexEnd::kMinString) {
      cmp = 1;
    } else {
      int c = min.s.compare(max.s);
      cmp = c < 0 ? -1 : c > 0;
    }
    return cmp > 0 || (cmp == 0 && (minex || maxex));
  }
};

bool ParseLexEnd(std::string_view arg, LexEnd* e, bool* ex) {
  // zslParseLexRangeItem looks at the C string: "+" may be followed by a
  // NUL and anything.
  if (arg.empty()) return false;
  switch (arg[0]) {
    case '+':
    case '-':
      if (arg.size() > 1 && arg[1] != '\0') return false;
      *ex = true;
      e->kind = arg[0] == '+' ? LexEnd::kMaxString : LexEnd::kMinString;
      return true;
    case '(':
    case '[':
      *ex = arg[0] == '(';
      e->kind = LexEnd::kString;
      e->s.assign(arg.substr(1));
      return true;
    default:
      return false;
  }
}

bool ParseLexRange(std::string_view min, std::string_view max, LexRange* r) {
  return ParseLexEnd(min, &r->min, &r->minex) && ParseLexEnd(max, &r->max, &r->maxex);
}

// The first and last nodes in a score range (zslFirstInRange /
// zslLastInRange); the predicates are monotone along the order, so the
// skiplist descent finds them in O(log n).
const Node* FirstInRange(const ZOrder& o, const ScoreRange& r, size_t* rank = nullptr) {
  if (r.Empty() || !o.last() || !r.GteMin(o.last()->score) || !r.LteMax(o.first()->score)) {
    return nullptr;
  }
  auto [n, k] = o.Seek([&](const Node& x) { return !r.GteMin(x.score); });
  if (!n || !r.LteMax(n->score)) return nullptr;
  if (rank) *rank = k;
  return n;
}

const Node* LastInRange(const ZOrder& o, const ScoreRange& r, size_t* rank = nullptr) {
  if (r.Empty() || !o.last() || !r.GteMin(o.last()->score) || !r.LteMax(o.first()->score)) {
    return nullptr;
  }
  auto [after, k] = o.Seek([&](const Node& x) { return r.LteMax(x.score); });
  const Node* n = after ? after->prev() : o.last();
  if (!n || k == 0 || !r.GteMin(n->score)) return nullptr;
  if (rank) *rank = k - 1;
  return n;
}

// Lexicographic ranges assume one score for every member. Where scores
// differ the answer depends on the structure, as in Redis: a listpack is
// scanned from its ends (zzlFirstInLexRange), a skiplist is descended.
bool LexInRange(const ZOrder& o, const LexRange& r) {
  return !r.Empty() && o.last() && r.GteMin(o.last()->member()) && r.LteMax(o.first()->member());
}

const Node* FirstInLex(const ZsetObject& z, const LexRange& r, size_t* rank = nullptr) {
  const ZOrder& o = z.order();
  if (!LexInRange(o, r)) return nullptr;
  const Node* n;
  size_t k = 0;
  if (z.enc() == CollEnc::kListpack) {
    n = o.first();
    while (n && !r.GteMin(n->member())) n = n->next(), k++;
  } else {
    std::tie(n, k) = o.Seek([&](const Node& x) { return !r.GteMin(x.member()); });
  }
  if (!n || !r.LteMax(n->member())) return nullptr;
  if (rank) *rank = k;
  return n;
}

const Node* LastInLex(const ZsetObject& z, const LexRange& r, size_t* rank = nullptr) {
  const ZOrder& o = z.order();
  if (!LexInRange(o, r)) return nullptr;
  const Node* n;
  size_t k;
  if (z.enc() == CollEnc::kListpack) {
    n = o.last();
    k = o.size() - 1;
    while (n && !r.LteMax(n->member())) n = n->prev(), k--;
  } else {
    auto [after, a] = o.Seek([&](const Node& x) { return r.LteMax(x.member()); });
    n = after ? after->prev() : o.last();
    if (a == 0) n = nullptr;
    k = a - 1;
  }
  if (!n || !r.GteMin(n->member())) return nullptr;
  if (rank) *rank = k;
  return n;
}

// Walks from `start` (the first node in range, or the last when
// `reverse`), skipping `offset` nodes, then takes nodes while `in` holds,
// at most `limit` (negative: no limit), as genericZrangebyscoreCommand.
void Walk(const Node* start, bool reverse, int64_t offset, int64_t limit,
          const std::function<bool(const Node&)>& in, Scored* out) {
  if (offset < 0) return;  // Redis walks off the end: nothing
  const Node* n = start;
  while (n && offset-- > 0) n = reverse ? n->prev() : n->next();
  while (n && limit != 0) {
    if (!in(*n)) break;
    out->emplace_back(n->member(), n->score);
    if (limit > 0) limit--;
    n = reverse ? n->prev() : n->next();
  }
}

// Rank range [start, end] after Redis's sanitizing; false when empty.
bool RankRange(int64_t size, int64_t* start, int64_t* end) {
  if (*start < 0) *start += size;
  if (*end < 0) *end += size;
  if (*start < 0) *start = 0;
  if (*start > *end || *start >= size) return false;
  if (*end >= size) *end = size - 1;
  return true;
}

// ---- writes ----


// Removes `member` (present); `member` must outlive the write.
void RemoveMember(CollectionWrite& w, ZsetObject* z, std::string_view member) {
  w.Record(ElementOp{ElementOp::Kind::kRemove, member, {}, z->Remove(member), {}});
}

// Sets an existing member's score to `score` (ZADD), or adds `by` to it
// (ZINCRBY, ZADD INCR: `score` is the sum the origin computed). On a
// replicating node an increment goes to the member's counter, so that
// concurrent increments on other nodes add up; the reply is then the
// counter's sum. Returns the member's score afterwards.
double UpdateMember(CollectionWrite& w, ZsetObject* z, std::string_view member, double score,
                    bool incr, double by) {
  if (incr && w.replicating()) {
    crdt::Stamp dot = w.Dot();
    ptrdiff_t i = z->map().Find(member);
    std::string_view base = w.Keep(EncodeScore(z->map().at(static_cast<size_t>(i)).top().value));
    crdt::ScoreCounter::Delta d = z->Increment(member, dot.node, dot.counter, by);
    w.Record(ElementOp{ElementOp::Kind::kIncrement, member, base, {}, ScoreDeltaToWire(d)});
    double now = score;
    z->ScoreOf(member, &now);
    return now;
  }
  crdt::Stamp dot = w.ElementDot();
  ZsetObject::Dots replaced = z->Set(member, score, dot);
  RecordPut(w, z, member, dot, std::move(replaced));
  return score;
}

void AddMember(CollectionWrite& w, ZsetObject* z, std::string_view member, double score) {
  z->PrepareAdd(member.size(), 1);
  crdt::Stamp dot = w.ElementDot();
  ZsetObject::Dots none = z->Set(member, score, dot);
  RecordPut(w, z, member, dot, std::move(none));
}

// A new zset for a write creating `key` (zaddGenericCommand): a skiplist
// at once if the first member does not fit a listpack.
ZsetObject* CreateZset(CollectionWrite& w, size_t first_len) {
  ZsetObject* z = w.Create<ZsetObject>();
  if (g_encoding_limits.zset_max_listpack_entries.load() == 0 || ZsetObject::TooLong(first_len)) {
    z->set_enc(CollEnc::kSkiplist);
  }
  return z;
}


// ---- ZADD ----

void ZAddGeneric(CommandContext& ctx, bool incr_cmd) {
  bool nx = false, xx = false, gt = false, lt = false, ch = false, incr = incr_cmd;
  size_t scoreidx = 2;
  if (!incr_cmd) {
    for (; scoreidx < ctx.args.size(); scoreidx++) {
      std::string_view opt = ctx.args[scoreidx];
      if (IsOpt(opt, "nx")) {
        nx = true;
      } else if (IsOpt(opt, "xx")) {
        xx = true;
      } else if (IsOpt(opt, "ch")) {
        ch = true;
      } else if (IsOpt(opt, "incr")) {
        incr = true;
      } else if (IsOpt(opt, "gt")) {
        gt = true;
      } else if (IsOpt(opt, "lt")) {
        lt = true;
      } else {
        break;
      }
    }
  }
  size_t elements = ctx.args.size() - scoreidx;
  if (elements % 2 != 0 || elements == 0) {
    ctx.rb->Error(errors::kSyntax);
    return;
  }
  elements /= 2;
  if (nx && xx) {
    ctx.rb->Error("ERR XX and NX options at the same time are not compatible");
    return;
  }
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    ctx.rb->Error("ERR GT, LT, and/or NX options at the same time are not compatible");
    return;
  }
  if (incr && elements > 1) {
    ctx.rb->Error("ERR INCR option supports a single increment-element pair");
    return;
  }
  std::vector<double> scores(elements);
  for (size_t j = 0; j < elements; j++) {
    if (!ArgDouble(ctx, ctx.args[scoreidx + j * 2], &scores[j])) return;
  }
  CollectionWrite w(ctx, ctx.args[1], ObjType::kZset);
  if (!w.Open()) return;
  ZsetObject* z = w.Get<ZsetObject>();
  int64_t added = 0, updated = 0, processed = 0;
  double newscore = 0;
  if (!z && !xx) z = CreateZset(w, ctx.args[scoreidx + 1].size());
  for (size_t j = 0; z && j < elements; j++) {
    std::string_view member = ctx.args[scoreidx + j * 2 + 1];
    double score = scores[j];
    double cur;
    if (z->ScoreOf(member, &cur)) {
      if (nx) continue;
      double by = score;
      if (incr) {
        score += cur;
        if (std::isnan(score)) {
          w.Done();
          ctx.rb->Error(kNanError);
          return;
        }
      }
      if ((lt && score >= cur) || (gt && score <= cur)) continue;
      newscore = score;
      processed++;
      if (score != cur) {
        newscore = UpdateMember(w, z, member, score, incr, by);
        updated++;
      }
    } else if (!xx) {
      AddMember(w, z, member, score);
      newscore = score;
      added++;
      processed++;
    }
  }
  w.Done();
  if (incr) {
    if (processed) {
      ctx.rb->Double(newscore);
    } else {
      ctx.rb->Null();
    }
  } else {
    ctx.rb->Integer(ch ? added + updated : added);
  }
}

// ---- ZRANGE and friends ----

enum class RangeType { kAuto, kRank, kScore, kLex };
enum class Direction { kAuto, kForward, kReverse };

// zrangeGenericCommand: Z[REV]RANGE[BYSCORE|BYLEX] and ZRANGESTORE (the
// source at args[argc_start], the destination at args[1]).
void ZRangeGeneric(CommandContext& ctx, size_t argc_start, bool store, RangeType type,
                   Direction dir) {
  std::string_view key = ctx.args[argc_start];
  size_t minidx = argc_start + 1, maxidx = argc_start + 2;
  bool withscores = false;
  int64_t offset = 0, limit = -1;
  bool has_limit = false;
  for (size_t j = argc_start + 3; j < ctx.args.size(); j++) {
    size_t left = ctx.args.size() - j - 1;
    std::string_view a = ctx.args[j];
    if (!store && IsOpt(a, "withscores")) {
      withscores = true;
    } else if (IsOpt(a, "limit") && left >= 2) {
      if (!ArgInt(ctx, ctx.args[j + 1], &offset) || !ArgInt(ctx, ctx.args[j + 2], &limit)) return;
      has_limit = true;
      j += 2;
    } else if (dir == Direction::kAuto && IsOpt(a, "rev")) {
      dir = Direction::kReverse;
    } else if (type == RangeType::kAuto && IsOpt(a, "bylex")) {
      type = RangeType::kLex;
    } else if (type == RangeType::kAuto && IsOpt(a, "byscore")) {
      type = RangeType::kScore;
    } else {
      ctx.rb->Error(errors::kSyntax);
      return;
    }
  }
  if (dir == Direction::kAuto) dir = Direction::kForward;
  if (type == RangeType::kAuto) type = RangeType::kRank;
  // Redis tests opt_limit != -1: "LIMIT 0 -1" passes with a rank range.
  if (has_limit && limit != -1 && type == RangeType::kRank) {
    ctx.rb->Error(
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
    return;
  }
  if (withscores && type == RangeType::kLex) {
    ctx.rb->Error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    return;
  }
  bool reverse = dir == Direction::kReverse;
  if (reverse && type != RangeType::kRank) std::swap(minidx, maxidx);
  int64_t start = 0, end = 0;
  ScoreRange sr;
  LexRange lr;
  switch (type) {
    case RangeType::kScore:
      if (!ParseScoreRange(ctx.args[minidx], ctx.args[maxidx], &sr)) {
        ctx.rb->Error(kMinMaxFloat);
        return;
      }
      break;
    case RangeType::kLex:
      if (!ParseLexRange(ctx.args[minidx], ctx.args[maxidx], &lr)) {
        ctx.rb->Error(kMinMaxLex);
        return;
      }
      break;
    default:
      if (!ArgInt(ctx, ctx.args[minidx], &start) || !ArgInt(ctx, ctx.args[maxidx], &end)) return;
      break;
  }
  Entry* e = LookupRead(ctx, key);
  if (!e) {
    if (store) {
      StoreZsetResult(ctx, ctx.args[1], {});
    } else {
      ctx.rb->ArrayHeader(0);
    }
    return;
  }
  if (e->type() != ObjType::kZset) {
    ctx.rb->Error(errors::kWrongType);
    return;
  }
  const auto& z = static_cast<const ZsetObject&>(*e->collection());
  const ZOrder& o = z.order();
  Scored out;
  switch (type) {
    case RangeType::kScore: {
      if (offset > 0 && offset >= static_cast<int64_t>(z.size())) break;
      const Node* first = reverse ? LastInRange(o, sr) : FirstInRange(o, sr);
      Walk(
          first, reverse, offset, limit,
          [&](const Node& n) { return reverse ? sr.GteMin(n.score) : sr.LteMax(n.score); }, &out);
      break;
    }
    case RangeType::kLex: {
      if (offset > 0 && offset >= static_cast<int64_t>(z.size())) break;
      const Node* first = reverse ? LastInLex(z, lr) : FirstInLex(z, lr);
      Walk(
          first, reverse, offset, limit,
          [&](const Node& n) { return reverse ? lr.GteMin(n.member()) : lr.LteMax(n.member()); }, &out);
      break;
    }
    default: {
      int64_t size = static_cast<int64_t>(z.size());
      if (!RankRange(size, &start, &end)) break;
      size_t n = static_cast<size_t>(end - start + 1);
      out.reserve(n);
      const Node* x = o.At(static_cast<size_t>(reverse ? size - 1 - start : start));
      for (size_t k = 0; x && k < n; k++) {
        out.emplace_back(x->member(), x->score);
        x = reverse ? x->prev() : x->next();
      }
      break;
    }
  }
  if (store) {
    StoreZsetResult(ctx, ctx.args[1], out);
  } else {
    ReplyScored(ctx, out, withscores);
  }
}

// ZREMRANGEBYRANK / BYSCORE / BYLEX (zremrangeGenericCommand).
void ZRemRangeGeneric(CommandContext& ctx, RangeType type) {
  int64_t start = 0, end = 0;
  ScoreRange sr;
  LexRange lr;
  if (type == RangeType::kRank) {
    if (!ArgInt(ctx, ctx.args[2], &start) || !ArgInt(ctx, ctx.args[3], &end)) return;
  } else if (type == RangeType::kScore) {
    if (!ParseScoreRange(ctx.args[2], ctx.args[3], &sr)) {
      ctx.rb->Error(kMinMaxFloat);
      return;
    }
  } else if (!ParseLexRange(ctx.args[2], ctx.args[3], &lr)) {
    ctx.rb->Error(kMinMaxLex);
    return;
  }
  CollectionWrite w(ctx, ctx.args[1], ObjType::kZset);
  if (!w.Open()) return;
  ZsetObject* z = w.Get<ZsetObject>();
  if (!z) {
    ctx.rb->Integer(0);
    return;
  }
  const ZOrder& o = z->order();
  std::vector<std::string> doomed;
  if (type == RangeType::kRank) {
    int64_t size = static_cast<int64_t>(z->size());
    if (!RankRange(size, &start, &end)) {
      ctx.rb->Integer(0);
      return;
    }
    const Node* x = o.At(static_cast<size_t>(start));
    for (int64_t k = start; x && k <= end; k++, x = x->next()) doomed.emplace_back(x->member());
  } else if (type == RangeType::kScore) {
    for (const Node* x = FirstInRange(o, sr); x && sr.LteMax(x->score); x = x->next()) {
      doomed.emplace_back(x->member());
    }
  } else {
    const Node* x;
    if (z->enc() == CollEnc::kListpack) {
      x = FirstInLex(*z, lr);
    } else {
      // zslDeleteRangeByLex descends without the empty-range test.
      x = o.Seek([&](const Node& n) { return !lr.GteMin(n.member()); }).first;
    }
    for (; x && lr.LteMax(x->member()); x = x->next()) doomed.emplace_back(x->member());
  }
  for (const std::string& m : doomed) RemoveMember(w, z, m);  // `doomed` outlives the write
  w.Done();
  ctx.rb->Integer(static_cast<int64_t>(doomed.size()));
}

// ---- union, intersection, difference ----

// One input of ZUNION & co (zsetopsrc): a sorted set, a set (every member
// scores 1) or a missing key.
struct Source {
  const ZsetObject* zset = nullptr;
  const SetObject* set = nullptr;
  double weight = 1;

  const void* subject() const {
    return zset ? static_cast<const void*>(zset) : static_cast<const void*>(set);
  }
  size_t size() const { return zset ? zset->size() : set ? set->size() : 0; }
  // Calls fn(member, score) in Redis's iteration order (zuiNext).
  template <typename F>
  void ForEach(F fn) const {
    if (zset) {
      for (const Node* n = zset->order().first(); n; n = n->next()) fn(n->member(), n->score);
    } else if (set) {
      for (size_t i = 0; i < set->size(); i++) fn(std::string_view(set->map.at(i).name), 1.0);
    }
  }
  bool Find(std::string_view m, double* score) const {
    if (zset) return zset->ScoreOf(m, score);
    if (set && set->map.Find(m) >= 0) {
      *score = 1.0;
      return true;
    }
    return false;
  }
};

enum class SetOp { kUnion, kInter, kDiff };
enum class Aggregate { kSum, kMin, kMax };

void AggregateInto(double* target, double val, Aggregate a) {
  if (a == Aggregate::kSum) {
    *target = *target + val;
    // +inf plus -inf: Redis's convention is 0.
    if (std::isnan(*target)) *target = 0.0;
  } else if (a == Aggregate::kMin) {
    *target = val < *target ? val : *target;
  } else {
    *target = val > *target ? val : *target;
  }
}

// zunionInterDiffGenericCommand. `dst` is empty unless storing.
void ZSetOpGeneric(CommandContext& ctx, std::string_view dst, size_t numkeys_idx, SetOp op,
                   bool cardinality_only) {
  int64_t setnum;
  if (!ArgInt(ctx, ctx.args[numkeys_idx], &setnum)) return;
  if (setnum < 1) {
    ctx.rb->Error(
        StrCat("ERR at least 1 input key is needed for '", ctx.cmd->fullname, "' command"));
    return;
  }
  if (setnum > static_cast<int64_t>(ctx.args.size() - (numkeys_idx + 1))) {
    ctx.rb->Error(errors::kSyntax);
    return;
  }
  std::vector<Source> src(static_cast<size_t>(setnum));
  size_t j = numkeys_idx + 1;
  for (size_t i = 0; i < src.size(); i++, j++) {
    Entry* e = LookupRead(ctx, ctx.args[j]);
    if (!e) continue;
    if (e->type() == ObjType::kZset) {
      src[i].zset = static_cast<const ZsetObject*>(e->collection());
    } else if (e->type() == ObjType::kSet) {
      src[i].set = static_cast<const SetObject*>(e->collection());
    } else {
      ctx.rb->Error(errors::kWrongType);
      return;
    }
  }
  Aggregate aggregate = Aggregate::kSum;
  bool withscores = false;
  int64_t limit = 0;
  bool store = !dst.empty();
  while (j < ctx.args.size()) {
    size_t remaining = ctx.args.size() - j;
    std::string_view a = ctx.args[j];
    if (op != SetOp::kDiff && !cardinality_only && remaining >= src.size() + 1 &&
        IsOpt(a, "weights")) {
      j++;
      for (Source& s : src) {
        if (!ArgDouble(ctx, ctx.args[j++], &s.weight, "ERR weight value is not a float")) return;
      }
    } else if (op != SetOp::kDiff && !cardinality_only && remaining >= 2 && IsOpt(a, "aggregate")) {
      std::string_view v = ctx.args[j + 1];
      if (IsOpt(v, "sum")) {
        aggregate = Aggregate::kSum;
      } else if (IsOpt(v, "min")) {
        aggregate = Aggregate::kMin;
      } else if (IsOpt(v, "max")) {
        aggregate = Aggregate::kMax;
      } else {
        ctx.rb->Error(errors::kSyntax);
        return;
      }
      j += 2;
    } else if (!store && !cardinality_only && IsOpt(a, "withscores")) {
      j++;
      withscores = true;
    } else if (cardinality_only && remaining >= 2 && IsOpt(a, "limit")) {
      constexpr std::string_view kLimit = "ERR LIMIT can't be negative";
      if (!ArgInt(ctx, ctx.args[j + 1], &limit, kLimit)) return;
      if (limit < 0) {
        ctx.rb->Error(kLimit);
        return;
      }
      j += 2;
    } else {
      ctx.rb->Error(errors::kSyntax);
      return;
    }
  }
  if (op != SetOp::kDiff) {
    // Smallest first (Redis's qsort by cardinality; glibc's is stable).
    std::stable_sort(src.begin(), src.end(),
                     [](const Source& a, const Source& b) { return a.size() < b.size(); });
  }
  Scored out;
  int64_t cardinality = 0;
  if (op == SetOp::kInter) {
    if (src[0].size() > 0) {
      bool stop = false;
      src[0].ForEach([&](std::string_view m, double s0) {
        if (stop) return;
        double score = src[0].weight * s0;
        if (std::isnan(score)) score = 0;
        size_t k = 1;
        for (; k < src.size(); k++) {
          double value;
          if (src[k].subject() == src[0].subject()) {
            AggregateInto(&score, s0 * src[k].weight, aggregate);
          } else if (src[k].Find(m, &value)) {
            AggregateInto(&score, value * src[k].weight, aggregate);
          } else {
            break;
          }
        }
        if (k < src.size()) return;
        if (cardinality_only) {
          cardinality++;
          if (limit && cardinality >= limit) stop = true;
        } else {
          out.emplace_back(m, score);
        }
      });
    }
  } else if (op == SetOp::kUnion) {
    absl::flat_hash_map<std::string_view, size_t> index;
    for (const Source& s : src) {
      s.ForEach([&](std::string_view m, double v) {
        double score = s.weight * v;
        if (std::isnan(score)) score = 0;
        auto [it, fresh] = index.try_emplace(m, out.size());
        if (fresh) {
          out.emplace_back(m, score);
        } else {
          AggregateInto(&out[it->second].second, score, aggregate);
        }
      });
    }
  } else {
    if (src[0].size() > 0) {
      src[0].ForEach([&](std::string_view m, double s0) {
        for (size_t k = 1; k < src.size(); k++) {
          double value;
          if (src[k].subject() == src[0].subject() || src[k].Find(m, &value)) return;
        }
        out.emplace_back(m, s0);
      });
    }
  }
  if (cardinality_only) {
    ctx.rb->Integer(cardinality);
    return;
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return ZLess(a.second, a.first, b.second, b.first);
  });
  if (store) {
    StoreZsetResult(ctx, dst, out);
  } else {
    ReplyScored(ctx, out, withscores);
  }
}

// ---- ZRANDMEMBER ----

void ReplyMember(CommandContext& ctx, const Node& n, bool withscores) {
  if (withscores && ctx.rb->protocol() >= 3) ctx.rb->ArrayHeader(2);
  ctx.rb->Bulk(n.member());
  if (withscores) ctx.rb->Double(n.score);
}

void ZRandMemberCount(CommandContext& ctx) {
  int64_t l;
  if (!ArgInt(ctx, ctx.args[2], &l)) return;
  if (l == INT64_MIN) {
    ctx.rb->Error(
        "ERR value is out of range, value must between -9223372036854775807 and "
        "9223372036854775807");
    return;
  }
  bool withscores = false;
  if (ctx.args.size() > 4 || (ctx.args.size() == 4 && !IsOpt(ctx.args[3], "withscores"))) {
    ctx.rb->Error(errors::kSyntax);
    return;
  }
  if (ctx.args.size() == 4) {
    withscores = true;
    if (l < -INT64_MAX / 2 || l > INT64_MAX / 2) {
      ctx.rb->Error("ERR value is out of range");
      return;
    }
  }
  // Redis 7.0 builds any reply a negative count asks for, and runs out of
  // memory on a huge one; a node must not, so such counts are refused (as
  // SRANDMEMBER does here).
  constexpr int64_t kMaxRepeatedPicks = int64_t{1} << 26;
  if (l < -kMaxRepeatedPicks) {
    ctx.rb->Error(StrCat("ERR value is out of range, value must between -", kMaxRepeatedPicks,
                         " and 9223372036854775807"));
    return;
  }
  const ZsetObject* z;
  if (!ReadZset(ctx, ctx.args[1], &z)) return;
  bool uniq = l >= 0;
  uint64_t count = uniq ? static_cast<uint64_t>(l) : static_cast<uint64_t>(-l);
  if (!z || count == 0) {
    ctx.rb->ArrayHeader(0);
    return;
  }
  bool flat_pairs = withscores && ctx.rb->protocol() == 2;
  const ZOrder& o = z->order();
  size_t size = z->size();
  if (!uniq || count == 1) {
    ctx.rb->ArrayHeader(static_cast<int64_t>(flat_pairs ? count * 2 : count));
    for (uint64_t k = 0; k < count; k++) ReplyMember(ctx, *o.At(Rng()() % size), withscores);
    return;
  }
  size_t n = std::min<uint64_t>(count, size);
  ctx.rb->ArrayHeader(static_cast<int64_t>(flat_pairs ? n * 2 : n));
  if (count >= size) {
    // The whole zset, as zuiNext walks it: from the greatest down.
    for (const Node* x = o.last(); x; x = x->prev()) ReplyMember(ctx, *x, withscores);
    return;
  }
  // n distinct members: a partial Fisher-Yates shuffle of the ranks.
  std::vector<size_t> ranks(size);
  std::iota(ranks.begin(), ranks.end(), size_t{0});
  for (size_t k = 0; k < n; k++) std::swap(ranks[k], ranks[k + Rng()() % (size - k)]);
  for (size_t k = 0; k < n; k++) ReplyMember(ctx, *o.At(ranks[k]), withscores);
}

}  // namespace

// ---- pops (shared with the blocking commands) ----

ZPopOutcome ZPopGeneric(CommandContext& ctx, std::span<const std::string_view> keys, bool max,
                        int64_t count, bool emit_key, bool nested, ZPopEmpty empty) {
  // The first key holding a sorted set; a key of another type on the way
  // is an error (genericZpopCommand's loop).
  for (std::string_view key : keys) {
    CollectionWrite w(ctx, key, ObjType::kZset);
    if (!w.Open()) return ZPopOutcome::kWrongType;
    ZsetObject* z = w.Get<ZsetObject>();
    if (!z || z->size() == 0) continue;
    if (count == 0) {
      ctx.rb->ArrayHeader(0);
      return ZPopOutcome::kPopped;
    }
    if (count < 0) count = 1;
    int64_t n = std::min<int64_t>(count, static_cast<int64_t>(z->size()));
    if (!nested && !emit_key) {
      ctx.rb->ArrayHeader(n * 2);
    } else if (nested && !emit_key) {
      ctx.rb->ArrayHeader(n);
    } else if (!nested) {
      ctx.rb->ArrayHeader(n * 2 + 1);
      ctx.rb->Bulk(key);
    } else {
      ctx.rb->ArrayHeader(2);
      ctx.rb->Bulk(key);
      ctx.rb->ArrayHeader(n);
    }
    for (int64_t k = 0; k < n; k++) {
      const Node* x = max ? z->order().last() : z->order().first();
      // The node goes with the member: a delta needs a copy.
      std::string_view member = w.replicating() ? w.Keep(std::string(x->member())) : std::string_view(x->member());
      double score = x->score;
      if (nested) ctx.rb->ArrayHeader(2);
      ctx.rb->Bulk(member);
      ctx.rb->Double(score);
      RemoveMember(w, z, member);
    }
    w.Done();
    return ZPopOutcome::kPopped;
  }
  if (empty == ZPopEmpty::kNullArray) {
    ctx.rb->NullArray();
  } else if (empty == ZPopEmpty::kEmptyArray) {
    ctx.rb->ArrayHeader(0);
  }
  return ZPopOutcome::kEmpty;
}

void CmdZAdd(CommandContext& ctx) { ZAddGeneric(ctx, false); }

void CmdZIncrBy(CommandContext& ctx) {
  // zincrbyCommand is ZADD INCR of one pair: args are key, increment, member.
  ZAddGeneric(ctx, true);
}

void CmdZRem(CommandContext& ctx) {
  CollectionWrite w(ctx, ctx.args[1], ObjType::kZset);
  if (!w.Open()) return;
  ZsetObject* z = w.Get<ZsetObject>();
  int64_t deleted = 0;
  for (size_t j = 2; z && j < ctx.args.size() && z->size() > 0; j++) {
    double s;
    if (!z->ScoreOf(ctx.args[j], &s)) continue;
    RemoveMember(w, z, ctx.args[j]);
    deleted++;
  }
  w.Done();
  ctx.rb->Integer(deleted);
}

void CmdZScore(CommandContext& ctx) {
  const ZsetObject* z;
  if (!ReadZset(ctx, ctx.args[1], &z)) return;
  double s;
  if (!z || !z->ScoreOf(ctx.args[2], &s)) {
    ctx.rb->Null();
    return;
  }
  ctx.rb->Double(s);
}

void CmdZMScore(CommandContext& ctx) {
  const ZsetObject* z;
  if (!ReadZset(ctx, ctx.args[1], &z)) return;
  ctx.rb->ArrayHeader(static_cast<int64_t>(ctx.args.size() - 2));
  for (size_t j = 2; j < ctx.args.size(); j++) {
    double s;
    if (z && z->ScoreOf(ctx.args[j], &s)) {
      ctx.rb->Double(s);
    } else {
      ctx.rb->Null();
    }
  }
}

namespace {

void ZRankGeneric(CommandContext& ctx, bool reverse) {
  const ZsetObject* z;
  if (!ReadZset(ctx, ctx.args[1], &z)) return;
  double s;
  if (!z || !z->ScoreOf(ctx.args[2], &s)) {
    ctx.rb->Null();
    return;
  }
  size_t rank = z->order().Rank(s, ctx.args[2]);
  ctx.rb->Integer(static_cast<int64_t>(reverse ? z->size() - 1 - rank : rank));
}

void ZPopMinMax(CommandContext& ctx, bool max) {
  if (ctx.args.size() > 3) {
    ctx.rb->Error(errors::kSyntax);
    return;
  }
  int64_t count = -1;
  if (ctx.args.size() == 3) {
    constexpr std::string_view kPositive = "ERR value is out of range, must be positive";
    if (!ArgInt(ctx, ctx.args[2], &count, kPositive)) return;
    if (count < 0) {
      ctx.rb->Error(kPositive);
      return;
    }
  }
  // RESP3 with a count: nested pairs.
  bool nested = ctx.rb->protocol() >= 3 && count != -1;
  ZPopGeneric(ctx, ctx.args.subspan(1, 1), max, count, false, nested, ZPopEmpty::kEmptyArray);
}

}  // namespace

void CmdZRank(CommandContext& ctx) { ZRankGeneric(ctx, false); }
void CmdZRevRank(CommandContext& ctx) { ZRankGeneric(ctx, true); }

void CmdZCard(CommandContext& ctx) {
  const ZsetObject* z;
  if (!ReadZset(ctx, ctx.args[1], &z)) return;
  ctx.rb->Integer(z ? static_cast<int64_t>(z->size()) : 0);
}

void CmdZCount(CommandContext& ctx) {
  ScoreRange r;
  if (!ParseScoreRange(ctx.args[2], ctx.args[3], &r)) {
    ctx.rb->Error(kMinMaxFloat);
    return;
  }
  const ZsetObject* z;
  if (!ReadZset(ctx, ctx.args[1], &z)) return;
  int64_t count = 0;
  size_t first, last;
  if (z && FirstInRange(z->order(), r, &first) && LastInRange(z->order(), r, &last)) {
    count = static_cast<int64_t>(last - first + 1);
  }
  ctx.rb->Integer(count);
}

void CmdZLexCount(CommandContext& ctx) {
  LexRange r;
  if (!ParseLexRange(ctx.args[2], ctx.args[3], &r)) {
    ctx.rb->Error(kMinMaxLex);
    return;
  }
  const ZsetObject* z;
  if (!ReadZset(ctx, ctx.args[1], &z)) return;
  int64_t count = 0;
  if (z && z->enc() == CollEnc::kListpack) {
    // zzlFirstInLexRange, then forward while in range.
    for (const Node* x = FirstInLex(*z, r); x && r.LteMax(x->member()); x = x->next()) count++;
  } else if (z) {
    size_t first, last;
    if (FirstInLex(*z, r, &first) && LastInLex(*z, r, &last) && last >= first) {
      count = static_cast<int64_t>(last - first + 1);
    }
  }
  ctx.rb->Integer(count);
}

void CmdZRange(CommandContext& ctx) {
  ZRangeGeneric(ctx, 1, false, RangeType::kAuto, Direction::kAuto);
}
void CmdZRangeStore(CommandContext& ctx) {
  ZRangeGeneric(ctx, 2, true, RangeType::kAuto, Direction::kAuto);
}
void CmdZRevRange(CommandContext& ctx) {
  ZRangeGeneric(ctx, 1, false, RangeType::kRank, Direction::kReverse);
}
void CmdZRangeByScore(CommandContext& ctx) {
  ZRangeGeneric(ctx, 1, false, RangeType::kScore, Direction::kForward);
}
void CmdZRevRangeByScore(CommandContext& ctx) {
  ZRangeGeneric(ctx, 1, false, RangeType::kScore, Direction::kReverse);
}
void CmdZRangeByLex(CommandContext& ctx) {
  ZRangeGeneric(ctx, 1, false, RangeType::kLex, Direction::kForward);
}
void CmdZRevRangeByLex(CommandContext& ctx) {
  ZRangeGeneric(ctx, 1, false, RangeType::kLex, Direction::kReverse);
}

void CmdZRemRangeByRank(CommandContext& ctx) { ZRemRangeGeneric(ctx, RangeType::kRank); }
void CmdZRemRangeByScore(CommandContext& ctx) { ZRemRangeGeneric(ctx, RangeType::kScore); }
void CmdZRemRangeByLex(CommandContext& ctx) { ZRemRangeGeneric(ctx, RangeType::kLex); }

void CmdZPopMin(CommandContext& ctx) { ZPopMinMax(ctx, false); }
void CmdZPopMax(CommandContext& ctx) { ZPopMinMax(ctx, true); }

namespace {

// ZMPOP/BZMPOP's numkeys key... MIN|MAX [COUNT n], from args[at].
bool ParseZMPop(CommandContext& ctx, size_t at, std::span<const std::string_view>* keys,
                bool* max, int64_t* count) {
  constexpr std::string_view kNumKeys = "ERR numkeys should be greater than 0";
  int64_t numkeys;
  if (!ArgInt(ctx, ctx.args[at], &numkeys, kNumKeys)) return false;
  if (numkeys < 1) {
    ctx.rb->Error(kNumKeys);
    return false;
  }
  if (numkeys >= static_cast<int64_t>(ctx.args.size() - at) - 1) {
    ctx.rb->Error(errors::kSyntax);  // no room for MIN|MAX
    return false;
  }
  size_t where_idx = at + 1 + static_cast<size_t>(numkeys);
  if (IsOpt(ctx.args[where_idx], "min")) {
    *max = false;
  } else if (IsOpt(ctx.args[where_idx], "max")) {
    *max = true;
  } else {
    ctx.rb->Error(errors::kSyntax);
    return false;
  }
  *count = -1;
  for (size_t j = where_idx + 1; j < ctx.args.size(); j++) {
    bool more = j + 1 < ctx.args.size();
    if (*count == -1 && IsOpt(ctx.args[j], "count") && more) {
      constexpr std::string_view kCount = "ERR count should be greater than 0";
      if (!ArgInt(ctx, ctx.args[++j], count, kCount)) return false;
      if (*count < 1) {
        ctx.rb->Error(kCount);
        return false;
      }
    } else {
      ctx.rb->Error(errors::kSyntax);
      return false;
    }
  }
  if (*count == -1) *count = 1;
  *keys = ctx.args.subspan(at + 1, static_cast<size_t>(numkeys));
  return true;
}

// BZPOPMIN/BZPOPMAX key... timeout.
void BZPopMinMax(CommandContext& ctx, bool max) {
  int64_t timeout_ms;
  if (!ParseBlockTimeout(ctx, ctx.args.back(), &timeout_ms)) return;
  std::span<const std::string_view> keys = ctx.args.subspan(1, ctx.args.size() - 2);
  if (ZPopGeneric(ctx, keys, max, -1, true, false, ZPopEmpty::kNone) == ZPopOutcome::kEmpty) {
    BlockClient(ctx, keys, timeout_ms);
  }
}

}  // namespace

void CmdZMPop(CommandContext& ctx) {
  std::span<const std::string_view> keys;
  bool max;
  int64_t count;
  if (!ParseZMPop(ctx, 1, &keys, &max, &count)) return;
  ZPopGeneric(ctx, keys, max, count, true, true, ZPopEmpty::kNullArray);
}

void CmdBZPopMin(CommandContext& ctx) { BZPopMinMax(ctx, false); }
void CmdBZPopMax(CommandContext& ctx) { BZPopMinMax(ctx, true); }

void CmdBZMPop(CommandContext& ctx) {
  int64_t timeout_ms;
  if (!ParseBlockTimeout(ctx, ctx.args[1], &timeout_ms)) return;
  std::span<const std::string_view> keys;
  bool max;
  int64_t count;
  if (!ParseZMPop(ctx, 2, &keys, &max, &count)) return;
  if (ZPopGeneric(ctx, keys, max, count, true, true, ZPopEmpty::kNone) == ZPopOutcome::kEmpty) {
    BlockClient(ctx, keys, timeout_ms);
  }
}

void CmdZRandMember(CommandContext& ctx) {
  if (ctx.args.size() >= 3) return ZRandMemberCount(ctx);
  const ZsetObject* z;
  if (!ReadZset(ctx, ctx.args[1], &z)) return;
  if (!z) {
    ctx.rb->Null();
    return;
  }
  ctx.rb->Bulk(z->order().At(Rng()() % z->size())->member());
}

void CmdZUnion(CommandContext& ctx) { ZSetOpGeneric(ctx, {}, 1, SetOp::kUnion, false); }
void CmdZInter(CommandContext& ctx) { ZSetOpGeneric(ctx, {}, 1, SetOp::kInter, false); }
void CmdZDiff(CommandContext& ctx) { ZSetOpGeneric(ctx, {}, 1, SetOp::kDiff, false); }
void CmdZUnionStore(CommandContext& ctx) {
  ZSetOpGeneric(ctx, ctx.args[1], 2, SetOp::kUnion, false);
}
void CmdZInterStore(CommandContext& ctx) {
  ZSetOpGeneric(ctx, ctx.args[1], 2, SetOp::kInter, false);
}
void CmdZDiffStore(CommandContext& ctx) { ZSetOpGeneric(ctx, ctx.args[1], 2, SetOp::kDiff, false); }
void CmdZInterCard(CommandContext& ctx) { ZSetOpGeneric(ctx, {}, 1, SetOp::kInter, true); }

void CmdZScan(CommandContext& ctx) {
  // As Redis's zscanCommand: the cursor, then the key, then the options.
  uint64_t cursor;
  if (!ParseScanCursor(ctx, ctx.args[2], &cursor)) return;
  const ZsetObject* z;
  if (!ReadZset(ctx, ctx.args[1], &z)) return;
  if (!z) return ReplyEmptyScan(ctx);
  std::string_view pattern;
  bool use_pattern;
  if (!ParseScanOptions(ctx, 3, &pattern, &use_pattern)) return;
  // One page holds everything (COUNT is a hint; a listpack is always
  // scanned whole). Scores are bulk strings even in RESP3, as Redis's.
  std::vector<const Node*> hits;
  for (const Node* x = z->order().first(); x; x = x->next()) {
    if (!use_pattern || GlobMatch(pattern, x->member())) hits.push_back(x);
  }
  ctx.rb->ArrayHeader(2);
  ctx.rb->Bulk("0");
  ctx.rb->ArrayHeader(static_cast<int64_t>(hits.size() * 2));
  for (const Node* x : hits) {
    ctx.rb->Bulk(x->member());
    ctx.rb->Bulk(FormatScore(x->score));
  }
}

}  // namespace lattice::node
