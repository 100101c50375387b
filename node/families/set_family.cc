// Set commands. Semantics and reply bytes follow Redis 7.0's t_set.c: which
// key is checked first, which empty reply each command gives, and the order
// of members Redis replies for an intset (ascending integers; a hash table's
// order is unspecified). Every write goes through a CollectionWrite, one per
// key written, which records the element operations the delta replicates.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "node/families/families.h"
#include "node/families/util.h"
#include "node/glob.h"
#include "node/str_util.h"

namespace lattice::node {

namespace {

using Members = std::vector<std::string_view>;

int64_t IntsetLimit() { return g_encoding_limits.set_max_intset_entries.load(); }

bool IsIntMember(std::string_view m) {
  int64_t v;
  return SetMemberInt(m, &v);
}


// The position of `m` in `s`, or -1. An intset is searched by value, as
// intsetFind does: its members are canonical integers in ascending order.
ptrdiff_t FindMember(const SetObject& s, std::string_view m) {
  if (s.enc() != CollEnc::kIntset) return s.map.Find(m);
  int64_t v;
  if (!SetMemberInt(m, &v)) return -1;
  size_t lo = 0, hi = s.size();
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int64_t x = 0;
    SetMemberInt(s.map.at(mid).name, &x);
    if (x < v) {
      lo = mid + 1;
    } else if (x > v) {
      hi = mid;
    } else {
      return static_cast<ptrdiff_t>(mid);
    }
  }
  return -1;
}

size_t RandomIndex(size_t n) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return static_cast<size_t>(rng() % n);
}

// `count` distinct positions out of `n` (REQUIRES: count <= n), in random
// order: a partial Fisher-Yates shuffle.
std::vector<size_t> DistinctIndexes(size_t n, size_t count) {
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), size_t{0});
  for (size_t k = 0; k < count; k++) std::swap(idx[k], idx[k + RandomIndex(n - k)]);
  idx.resize(count);
  return idx;
}

// The set at `key` for reading: *out is null when the key is missing.
// False after replying WRONGTYPE.
bool ReadSet(CommandContext& ctx, std::string_view key, const SetObject** out) {
  Entry* e = LookupRead(ctx, key);
  if (e && e->type() != ObjType::kSet) {
    ctx.rb->Error(errors::kWrongType);
    return false;
  }
  *out = e ? static_cast<const SetObject*>(e->collection()) : nullptr;
  if (*out && (*out)->size() == 0) *out = nullptr;
  return true;
}

// Every key as a set, in order, a missing key as null. Stops at the first
// key of another type (replying WRONGTYPE), as Redis's loops over the keys do.
bool ReadSets(CommandContext& ctx, std::span<const std::string_view> keys,
              std::vector<const SetObject*>* out) {
  out->clear();
  for (std::string_view key : keys) {
    const SetObject* s;
    if (!ReadSet(ctx, key, &s)) return false;
    out->push_back(s);
  }
  return true;
}

// The temporary set Redis's sunionDiffGenericCommand and SINTERSTORE build
// their result in: it starts as an intset and turns into a hash table on
// the first non-integer member or once it outgrows set-max-intset-entries,
// never back. That decides the stored encoding and the reply order
// (ascending integers for an intset). Members are views into the source
// sets, which must not change while it is in use.
class ResultSet {
 public:
  bool Add(std::string_view m) {
    if (!seen_.insert(m).second) return false;
    order_.push_back(m);
    if (intset_ && (!IsIntMember(m) || static_cast<int64_t>(seen_.size()) > IntsetLimit())) {
      intset_ = false;
    }
    return true;
  }
  // REQUIRES: no Add after a Remove (SDIFF removes only after adding).
  bool Remove(std::string_view m) { return seen_.erase(m) > 0; }
  size_t size() const { return seen_.size(); }
  bool intset() const { return intset_; }

  // The members in the order Redis replies them.
  Members Finish() const {
    Members out;
    out.reserve(seen_.size());
    for (std::string_view m : order_) {
      if (seen_.contains(m)) out.push_back(m);
    }
    if (intset_) {
      std::vector<std::pair<int64_t, std::string_view>> nums;
      nums.reserve(out.size());
      for (std::string_view m : out) {
        int64_t v = 0;
        SetMemberInt(m, &v);
        nums.emplace_back(v, m);
      }
      std::sort(nums.begin(), nums.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      for (size_t i = 0; i < nums.size(); i++) out[i] = nums[i].second;
    }
    return out;
  }

 private:
  absl::flat_hash_set<std::string_view> seen_;
  Members order_;
  bool intset_ = true;
};

void ReplySetOf(CommandContext& ctx, const Members& members) {
  ctx.rb->SetHeader(static_cast<int64_t>(members.size()));
  for (std::string_view m : members) ctx.rb->Bulk(m);
}

// A new set for a write that creates `key`: an intset if the first member
// added is an integer, else a hash table (Redis's setTypeCreate).
SetObject* CreateSet(CollectionWrite& w, std::string_view first) {
  SetObject* s = w.Create<SetObject>();
  if (!IsIntMember(first)) {
    s->set_enc(CollEnc::kHashtable);
    s->map.BuildIndex();
  }
  return s;
}

// Adds `m` unless present; returns whether it was added.
bool AddMember(CollectionWrite& w, SetObject* s, std::string_view m) {
  if (FindMember(*s, m) >= 0) return false;
  size_t pos = s->PlaceFor(m);
  crdt::Stamp dot = w.ElementDot();
  s->map.Insert(pos, m, {}, dot);
  w.Record(ElementOp{ElementOp::Kind::kPut, m, {}, {}, {}, dot.sub});
  return true;
}

// Removes the member at `i`. `name` must outlive the write (an argument, or
// a copy made with w.Keep).
void RemoveAt(CollectionWrite& w, SetObject* s, size_t i, std::string_view name) {
  w.Record(ElementOp{ElementOp::Kind::kRemove, name, {}, s->map.Remove(i), {}});
}

// The *STORE commands' last step: `dst` is replaced by a set of `members`
// (deleted when there are none), whatever it held. `intset` is the
// encoding Redis's temporary result set ended with.
void StoreResult(CommandContext& ctx, std::string_view dst, const std::vector<std::string>& members,
                 bool intset) {
  Db& db = ctx.DbFor(dst);
  if (Entry* e = db.Find(dst, ctx.now_ms)) {
    Killed killed = KilledOf(*e);
    db.Delete(dst);
    EmitDelete(ctx, dst, ctx.Tick(), ctx.db, killed);
  }
  if (!members.empty()) {
    CollectionWrite w(ctx, dst, ObjType::kSet);
    w.Open();  // the key is gone: it cannot hold another type
    SetObject* s = w.Create<SetObject>();
    if (!intset) {
      s->set_enc(CollEnc::kHashtable);
      s->map.BuildIndex();
    }
    for (const std::string& m : members) {
      crdt::Stamp dot = w.ElementDot();
      s->map.Insert(s->PlaceFor(m), m, {}, dot);
      w.Record(ElementOp{ElementOp::Kind::kPut, m, {}, {}, {}, dot.sub});
    }
    w.Done();
  }
  ctx.rb->Integer(static_cast<int64_t>(members.size()));
}

std::vector<std::string> Copies(const Members& members) {
  return std::vector<std::string>(members.begin(), members.end());
}

// sinterGenericCommand: the members of every set, in the order of the
// smallest one, stopping at `limit` of them (0: no limit). Every key is
// type-checked before a missing one empties the result. False after
// replying WRONGTYPE.
bool Intersect(CommandContext& ctx, std::span<const std::string_view> keys, size_t limit,
               Members* out) {
  std::vector<const SetObject*> sets;
  if (!ReadSets(ctx, keys, &sets)) return false;
  if (std::find(sets.begin(), sets.end(), nullptr) != sets.end()) return true;
  // Smallest first, as Redis's qsort by cardinality (glibc's is stable).
  std::stable_sort(sets.begin(), sets.end(),
                   [](const SetObject* a, const SetObject* b) { return a->size() < b->size(); });
  const SetObject* first = sets[0];
  for (size_t i = 0; i < first->size(); i++) {
    std::string_view m = first->map.at(i).name;
    bool all = true;
    for (size_t j = 1; j < sets.size() && all; j++) {
      all = sets[j] == first || FindMember(*sets[j], m) >= 0;
    }
    if (!all) continue;
    out->push_back(m);
    if (limit && out->size() >= limit) break;
  }
  return true;
}

enum class SetOp { kUnion, kDiff };

// sunionDiffGenericCommand, including its choice of diff algorithm: the
// second one adds the whole first set before removing, which can turn the
// temporary set into a hash table that the first algorithm keeps an intset.
bool UnionDiff(CommandContext& ctx, std::span<const std::string_view> keys, SetOp op,
               ResultSet* result) {
  std::vector<const SetObject*> sets;
  if (!ReadSets(ctx, keys, &sets)) return false;
  if (op == SetOp::kUnion) {
    for (const SetObject* s : sets) {
      if (!s) continue;
      for (size_t i = 0; i < s->size(); i++) result->Add(s->map.at(i).name);
    }
    return true;
  }
  const SetObject* first = sets[0];
  if (!first) return true;
  for (size_t j = 1; j < sets.size(); j++) {
    if (sets[j] == first) return true;  // the same key again: nothing is left
  }
  int64_t algo_one = 0, algo_two = 0;
  for (const SetObject* s : sets) {
    if (!s) continue;
    algo_one += static_cast<int64_t>(first->size());
    algo_two += static_cast<int64_t>(s->size());
  }
  algo_one /= 2;
  if (algo_one <= algo_two) {
    for (size_t i = 0; i < first->size(); i++) {
      std::string_view m = first->map.at(i).name;
      bool elsewhere = false;
      for (size_t j = 1; j < sets.size() && !elsewhere; j++) {
        elsewhere = sets[j] && FindMember(*sets[j], m) >= 0;
      }
      if (!elsewhere) result->Add(m);
    }
    return true;
  }
  for (size_t j = 0; j < sets.size(); j++) {
    const SetObject* s = sets[j];
    if (!s) continue;
    for (size_t i = 0; i < s->size(); i++) {
      if (j == 0) {
        result->Add(s->map.at(i).name);
      } else {
        result->Remove(s->map.at(i).name);
      }
    }
    if (result->size() == 0) break;
  }
  return true;
}

void UnionDiffCommand(CommandContext& ctx, SetOp op) {
  ResultSet result;
  if (!UnionDiff(ctx, ctx.args.subspan(1), op, &result)) return;
  ReplySetOf(ctx, result.Finish());
}

void UnionDiffStoreCommand(CommandContext& ctx, SetOp op) {
  ResultSet result;
  if (!UnionDiff(ctx, ctx.args.subspan(2), op, &result)) return;
  // Copied before the destination, which may be a source, goes.
  StoreResult(ctx, ctx.args[1], Copies(result.Finish()), result.intset());
}

// SPOP key count.
void SPopCount(CommandContext& ctx) {
  // getPositiveLongFromObjectOrReply: one error for a non-number and a
  // negative one.
  constexpr std::string_view kPositive = "ERR value is out of range, must be positive";
  int64_t count;
  if (!ArgInt(ctx, ctx.args[2], &count, kPositive)) return;
  if (count < 0) {
    ctx.rb->Error(kPositive);
    return;
  }
  CollectionWrite w(ctx, ctx.args[1], ObjType::kSet);
  if (!w.Open()) return;
  SetObject* s = w.Get<SetObject>();
  if (!s || s->size() == 0 || count == 0) {
    ctx.rb->SetHeader(0);
    return;
  }
  size_t size = s->size();
  if (static_cast<uint64_t>(count) >= size) {
    // Redis replies the whole set through SUNION, so in the order of the
    // union's temporary set.
    ResultSet all;
    for (size_t i = 0; i < size; i++) all.Add(s->map.at(i).name);
    ReplySetOf(ctx, all.Finish());
    for (size_t i = size; i-- > 0;) RemoveAt(w, s, i, w.Keep(s->map.at(i).name.str()));
    w.Done();
    return;
  }
  std::vector<size_t> picks = DistinctIndexes(size, static_cast<size_t>(count));
  ctx.rb->SetHeader(count);
  for (size_t i : picks) ctx.rb->Bulk(s->map.at(i).name);
  // Highest position first: removing one moves only members behind it (a
  // hash table's swap with the last), which are gone already.
  std::sort(picks.begin(), picks.end(), std::greater<size_t>());
  for (size_t i : picks) RemoveAt(w, s, i, w.Keep(s->map.at(i).name.str()));
  w.Done();
}

// SRANDMEMBER key count.
void SRandMemberCount(CommandContext& ctx) {
  int64_t l;
  if (!ArgInt(ctx, ctx.args[2], &l)) return;
  if (l == INT64_MIN) {
    ctx.rb->Error(
        "ERR value is out of range, value must between -9223372036854775807 and "
        "9223372036854775807");
    return;
  }
  // Redis 7.0 builds any reply a negative count asks for, and runs out of
  // memory on a huge one; a node must not, so such counts are refused.
  constexpr int64_t kMaxRepeatedPicks = int64_t{1} << 26;
  if (l < -kMaxRepeatedPicks) {
    ctx.rb->Error(StrCat("ERR value is out of range, value must between -", kMaxRepeatedPicks,
                         " and 9223372036854775807"));
    return;
  }
  bool uniq = l >= 0;
  uint64_t count = uniq ? static_cast<uint64_t>(l) : static_cast<uint64_t>(-l);
  const SetObject* s;
  if (!ReadSet(ctx, ctx.args[1], &s)) return;
  if (!s || count == 0) {
    ctx.rb->ArrayHeader(0);
    return;
  }
  size_t size = s->size();
  if (!uniq || count == 1) {
    ctx.rb->ArrayHeader(static_cast<int64_t>(count));
    for (uint64_t k = 0; k < count; k++) ctx.rb->Bulk(s->map.at(RandomIndex(size)).name);
    return;
  }
  if (count >= size) {
    ctx.rb->ArrayHeader(static_cast<int64_t>(size));
    for (size_t i = 0; i < size; i++) ctx.rb->Bulk(s->map.at(i).name);
    return;
  }
  std::vector<size_t> picks = DistinctIndexes(size, static_cast<size_t>(count));
  ctx.rb->ArrayHeader(static_cast<int64_t>(count));
  for (size_t i : picks) ctx.rb->Bulk(s->map.at(i).name);
}

// parseScanCursorOrReply: strtoul over the argument as a C string, without
// leading space. Signs and the empty string are accepted ("-1" wraps), as
// in Redis; util.h's ParseScanCursor takes digits only.
}  // namespace

void CmdSAdd(CommandContext& ctx) {
  CollectionWrite w(ctx, ctx.args[1], ObjType::kSet);
  if (!w.Open()) return;
  SetObject* s = w.Get<SetObject>();
  if (!s) s = CreateSet(w, ctx.args[2]);
  int64_t added = 0;
  for (size_t j = 2; j < ctx.args.size(); j++) {
    if (AddMember(w, s, ctx.args[j])) added++;
  }
  w.Done();
  ctx.rb->Integer(added);
}

void CmdSRem(CommandContext& ctx) {
  CollectionWrite w(ctx, ctx.args[1], ObjType::kSet);
  if (!w.Open()) return;
  SetObject* s = w.Get<SetObject>();
  int64_t removed = 0;
  for (size_t j = 2; s && j < ctx.args.size() && s->size() > 0; j++) {
    ptrdiff_t i = FindMember(*s, ctx.args[j]);
    if (i < 0) continue;
    RemoveAt(w, s, static_cast<size_t>(i), ctx.args[j]);
    removed++;
  }
  w.Done();
  ctx.rb->Integer(removed);
}

void CmdSMove(CommandContext& ctx) {
  std::string_view src = ctx.args[1], dst = ctx.args[2], member = ctx.args[3];
  CollectionWrite sw(ctx, src, ObjType::kSet);
  if (!sw.Open()) return;
  SetObject* s = sw.Get<SetObject>();
  if (!s || s->size() == 0) {
    ctx.rb->Integer(0);  // a missing source wins over a destination of another type
    return;
  }
  if (src == dst) {
    ctx.rb->Integer(FindMember(*s, member) >= 0 ? 1 : 0);
    return;
  }
  // Both keys are checked before either changes (smoveCommand).
  CollectionWrite dw(ctx, dst, ObjType::kSet);
  if (!dw.Open()) return;
  ptrdiff_t i = FindMember(*s, member);
  if (i < 0) {
    ctx.rb->Integer(0);
    return;
  }
  RemoveAt(sw, s, static_cast<size_t>(i), member);
  sw.Done();
  SetObject* d = dw.Get<SetObject>();
  if (!d) d = CreateSet(dw, member);
  AddMember(dw, d, member);  // already there: the destination does not change
  dw.Done();
  ctx.rb->Integer(1);
}

void CmdSPop(CommandContext& ctx) {
  if (ctx.args.size() == 3) return SPopCount(ctx);
  if (ctx.args.size() > 3) {
    ctx.rb->Error(errors::kSyntax);
    return;
  }
  CollectionWrite w(ctx, ctx.args[1], ObjType::kSet);
  if (!w.Open()) return;
  SetObject* s = w.Get<SetObject>();
  if (!s || s->size() == 0) {
    ctx.rb->Null();
    return;
  }
  size_t i = RandomIndex(s->size());
  std::string_view name = w.Keep(s->map.at(i).name.str());
  RemoveAt(w, s, i, name);
  ctx.rb->Bulk(name);
  w.Done();
}

void CmdSRandMember(CommandContext& ctx) {
  if (ctx.args.size() == 3) return SRandMemberCount(ctx);
  if (ctx.args.size() > 3) {
    ctx.rb->Error(errors::kSyntax);
    return;
  }
  const SetObject* s;
  if (!ReadSet(ctx, ctx.args[1], &s)) return;
  if (!s) {
    ctx.rb->Null();
    return;
  }
  ctx.rb->Bulk(s->map.at(RandomIndex(s->size())).name);
}

void CmdSCard(CommandContext& ctx) {
  const SetObject* s;
  if (!ReadSet(ctx, ctx.args[1], &s)) return;
  ctx.rb->Integer(s ? static_cast<int64_t>(s->size()) : 0);
}

void CmdSIsMember(CommandContext& ctx) {
  const SetObject* s;
  if (!ReadSet(ctx, ctx.args[1], &s)) return;
  ctx.rb->Integer(s && FindMember(*s, ctx.args[2]) >= 0 ? 1 : 0);
}

void CmdSMIsMember(CommandContext& ctx) {
  const SetObject* s;
  if (!ReadSet(ctx, ctx.args[1], &s)) return;
  ctx.rb->ArrayHeader(static_cast<int64_t>(ctx.args.size() - 2));
  for (size_t j = 2; j < ctx.args.size(); j++) {
    ctx.rb->Integer(s && FindMember(*s, ctx.args[j]) >= 0 ? 1 : 0);
  }
}

// SMEMBERS is SINTER of one key in Redis 7.0: the set in its own order.
void CmdSMembers(CommandContext& ctx) {
  const SetObject* s;
  if (!ReadSet(ctx, ctx.args[1], &s)) return;
  size_t n = s ? s->size() : 0;
  ctx.rb->SetHeader(static_cast<int64_t>(n));
  for (size_t i = 0; i < n; i++) ctx.rb->Bulk(s->map.at(i).name);
}

void CmdSInter(CommandContext& ctx) {
  Members out;
  if (!Intersect(ctx, ctx.args.subspan(1), 0, &out)) return;
  ReplySetOf(ctx, out);
}

void CmdSInterStore(CommandContext& ctx) {
  Members out;
  if (!Intersect(ctx, ctx.args.subspan(2), 0, &out)) return;
  ResultSet result;
  for (std::string_view m : out) result.Add(m);
  // Copied before the destination, which may be a source, goes.
  StoreResult(ctx, ctx.args[1], Copies(out), result.intset());
}

void CmdSInterCard(CommandContext& ctx) {
  constexpr std::string_view kNumKeys = "ERR numkeys should be greater than 0";
  int64_t numkeys;
  if (!ArgInt(ctx, ctx.args[1], &numkeys, kNumKeys)) return;
  if (numkeys < 1) {
    ctx.rb->Error(kNumKeys);
    return;
  }
  if (numkeys > static_cast<int64_t>(ctx.args.size()) - 2) {
    ctx.rb->Error("ERR Number of keys can't be greater than number of args");
    return;
  }
  int64_t limit = 0;
  for (size_t j = 2 + static_cast<size_t>(numkeys); j < ctx.args.size(); j++) {
    bool more = j + 1 < ctx.args.size();
    if (Is(COption(ctx.args[j]), "limit") && more) {
      constexpr std::string_view kLimit = "ERR LIMIT can't be negative";
      if (!ArgInt(ctx, ctx.args[++j], &limit, kLimit)) return;
      if (limit < 0) {
        ctx.rb->Error(kLimit);
        return;
      }
    } else {
      ctx.rb->Error(errors::kSyntax);
      return;
    }
  }
  Members out;
  if (!Intersect(ctx, ctx.args.subspan(2, static_cast<size_t>(numkeys)), static_cast<size_t>(limit),
                 &out)) {
    return;
  }
  ctx.rb->Integer(static_cast<int64_t>(out.size()));
}

void CmdSUnion(CommandContext& ctx) { UnionDiffCommand(ctx, SetOp::kUnion); }
void CmdSUnionStore(CommandContext& ctx) { UnionDiffStoreCommand(ctx, SetOp::kUnion); }
void CmdSDiff(CommandContext& ctx) { UnionDiffCommand(ctx, SetOp::kDiff); }
void CmdSDiffStore(CommandContext& ctx) { UnionDiffStoreCommand(ctx, SetOp::kDiff); }

void CmdSScan(CommandContext& ctx) {
  // As Redis's sscanCommand: the cursor, then the key, then the options.
  uint64_t cursor;
  if (!ParseScanCursor(ctx, ctx.args[2], &cursor)) return;
  const SetObject* s;
  if (!ReadSet(ctx, ctx.args[1], &s)) return;
  if (!s) return ReplyEmptyScan(ctx);
  std::string_view pattern;
  bool use_pattern;
  if (!ParseScanOptions(ctx, 3, &pattern, &use_pattern)) return;
  // One page holds the whole set: COUNT is a hint in Redis, and an intset
  // is always scanned whole. Any cursor restarts, as for an intset.
  Members out;
  for (size_t i = 0; i < s->size(); i++) {
    std::string_view m = s->map.at(i).name;
    if (!use_pattern || GlobMatch(pattern, m)) out.push_back(m);
  }
  ctx.rb->ArrayHeader(2);
  ctx.rb->Bulk("0");
  ctx.rb->ArrayHeader(static_cast<int64_t>(out.size()));
  for (std::string_view m : out) ctx.rb->Bulk(m);
}

}  // namespace lattice::node
