// SORT and SORT_RO. Semantics and reply bytes follow Redis 7.0's sort.c:
// the option loop (C-string option names, LIMIT parsed as it comes), the
// sort key's types (list, set, sorted set), BY/GET patterns resolved the
// way lookupKeyByPattern does, the comparison (numeric with a binary
// tie-break, ALPHA with strcoll, or binary under STORE), the sort itself
// (glibc's qsort is a stable merge sort; a BY sort restricted by LIMIT uses
// Redis's partial quicksort, whose order of equal elements is kept here
// step for step), and STORE, which replaces the destination with a list
// written through a CollectionWrite, so it replicates.
//
// One Redis quirk is not reproduced: its numeric conversion tests errno ==
// ERANGE without clearing errno first, so an ERANGE left behind by an
// earlier command's float parse (a subnormal ZADD score, a ZRANGEBYSCORE
// bound of 1e400) fails a later SORT of non-integer elements until some
// parse clears it. Within the command it is reproduced (see the sorted-set
// conversion below).
//
// Patterns name arbitrary keys, which may live on other shards: the rows
// carry kCmdAllShards, so with several shards SORT runs in the exclusive
// section and every lookup here is safe.
// TODO(lattice): the dispatcher does not forward kCmdAllShards commands
// under partial placement, so there SORT sees this node's keys only; and
// key positions know no STORE destination (COMMAND GETKEYS, routing). Both
// want a per-command key finder (Redis's sortGetKeys).
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "node/families/families.h"
#include "node/families/util.h"
#include "node/storage/list.h"
#include "node/storage/zset.h"
#include "node/str_util.h"

namespace lattice::node {

namespace {


// lookupKeyByPattern: "#" is the element itself; otherwise the first '*'
// is replaced by the element to name a string key, or, with "->field"
// after the '*', a hash key and one of its fields. Nothing when the
// pattern has no '*', the key is missing or of another type, or the field
// is missing. *int_enc tells whether Redis would hand back an integer-encoded
// object (a string key of encoding "int", a listpack hash's integer value),
// which SORT converts without strtod.
std::optional<std::string> LookupByPattern(CommandContext& ctx, std::string_view pattern,
                                           std::string_view subst, bool* int_enc = nullptr) {
  bool int_dummy;
  if (!int_enc) int_enc = &int_dummy;
  *int_enc = false;
  std::string_view c = COption(pattern);
  if (c == "#") return std::string(subst);
  size_t star = c.find('*');
  if (star == std::string_view::npos) return std::nullopt;
  size_t arrow = c.find("->", star + 1);
  // strstr() found "->" and the byte after it is not a NUL.
  bool has_field = arrow != std::string_view::npos && arrow + 2 < c.size();
  std::string_view field = has_field ? pattern.substr(arrow + 2) : std::string_view();
  size_t postfix_len = pattern.size() - star - 1 - (has_field ? field.size() + 2 : 0);
  std::string key = StrCat(pattern.substr(0, star), subst, pattern.substr(star + 1, postfix_len));
  Entry* e = LookupRead(ctx, key);
  if (!e) return std::nullopt;
  char buf[24];
  if (has_field) {
    if (e->type() != ObjType::kHash) return std::nullopt;
    const auto* h = static_cast<const HashObject*>(e->collection());
    ptrdiff_t i = h->map.Find(field);
    if (i < 0) return std::nullopt;
    std::string_view v = h->Value(static_cast<size_t>(i), buf);
    int64_t ignored;
    *int_enc = h->enc() == CollEnc::kListpack && ParseInt64(v, &ignored);
    return std::string(v);
  }
  if (e->type() != ObjType::kString) return std::nullopt;
  *int_enc = e->is_int();
  return std::string(e->StringValue(buf));
}

// One element of the sorting vector (redisSortObject).
struct SortItem {
  std::string obj;
  double score = 0;
  bool has_cmp = false;  // u.cmpobj != NULL
  std::string cmp;       // the BY value, for ALPHA
};

struct SortOrder {
  bool desc = false;
  bool alpha = false;
  bool bypattern = false;
  bool store = false;
};

// sdscmp / compareStringObjects: bytes, then length; only the sign counts.
int Binary(const std::string& a, const std::string& b) {
  int c = std::string_view(a).compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// strcoll over the C strings (they end at the first NUL).
int Collate(const std::string& a, const std::string& b) {
  int c = strcoll(a.c_str(), b.c_str());
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// sortCompare.
int Compare(const SortOrder& o, const SortItem& a, const SortItem& b) {
  int c;
  if (!o.alpha) {
    if (a.score > b.score) {
      c = 1;
    } else if (a.score < b.score) {
      c = -1;
    } else {
      c = Binary(a.obj, b.obj);
    }
  } else if (o.bypattern) {
    if (!a.has_cmp || !b.has_cmp) {
      c = a.has_cmp == b.has_cmp ? 0 : (!a.has_cmp ? -1 : 1);
    } else {
      c = o.store ? Binary(a.cmp, b.cmp) : Collate(a.cmp, b.cmp);
    }
  } else {
    c = o.store ? Binary(a.obj, b.obj) : Collate(a.obj, b.obj);
  }
  return o.desc ? -c : c;
}

// Redis's pqsort (NetBSD's Bentley-McIlroy qsort, recursing only into the
// parts that overlap [lrange, rrange]), on elements rather than bytes. It
// is not stable: equal elements end where this exact sequence of swaps
// leaves them, which is why it is reproduced step for step.
class PartialSort {
 public:
  PartialSort(const SortOrder& o, std::vector<SortItem>& v) : o_(o), v_(v) {}

  void Run(size_t lrange, size_t rrange) {
    if (v_.empty()) return;
    lr_ = lrange;
    rr_ = rrange;
    Sort(0, v_.size());
  }

 private:
  int Cmp(size_t a, size_t b) const { return Compare(o_, v_[a], v_[b]); }
  void Swap(size_t a, size_t b) { std::swap(v_[a], v_[b]); }
  void VecSwap(size_t a, size_t b, size_t n) {
    for (size_t i = 0; i < n; i++) Swap(a + i, b + i);
  }
  size_t Med3(size_t a, size_t b, size_t c) const {
    return Cmp(a, b) < 0 ? (Cmp(b, c) < 0 ? b : (Cmp(a, c) < 0 ? c : a))
                         : (Cmp(b, c) > 0 ? b : (Cmp(a, c) < 0 ? a : c));
  }
  void Insertion(size_t a, size_t n) {
    for (size_t pm = a + 1; pm < a + n; pm++) {
      for (size_t pl = pm; pl > a && Cmp(pl - 1, pl) > 0; pl--) Swap(pl, pl - 1);
    }
  }
  // Whether [lo, lo + n) is wholly before or after the range wanted.
  bool Outside(size_t lo, size_t n) const {
    return (lr_ < lo && rr_ < lo) || (lr_ >= lo + n && rr_ >= lo + n);
  }

  void Sort(size_t a, size_t n) {
    for (;;) {
      bool swapped = false;
      if (n < 7) {
        Insertion(a, n);
        return;
      }
      size_t pm = a + n / 2;
      if (n > 7) {
        size_t pl = a, pn = a + n - 1;
        if (n > 40) {
          size_t d = n / 8;
          pl = Med3(pl, pl + d, pl + 2 * d);
          pm = Med3(pm - d, pm, pm + d);
          pn = Med3(pn - 2 * d, pn - d, pn);
        }
        pm = Med3(pl, pm, pn);
      }
      Swap(a, pm);
      size_t pa = a + 1, pb = a + 1;
      size_t pc = a + n - 1, pd = a + n - 1;
      for (;;) {
        int r;
        while (pb <= pc && (r = Cmp(pb, a)) <= 0) {
          if (r == 0) {
            swapped = true;
            Swap(pa, pb);
            pa++;
          }
          pb++;
        }
        while (pb <= pc && (r = Cmp(pc, a)) >= 0) {
          if (r == 0) {
            swapped = true;
            Swap(pc, pd);
            pd--;
          }
          pc--;
        }
        if (pb > pc) break;
        Swap(pb, pc);
        swapped = true;
        pb++;
        pc--;
      }
      if (!swapped) {
        Insertion(a, n);
        return;
      }
      size_t pn = a + n;
      size_t r = std::min(pa - a, pb - pa);
      VecSwap(a, pb - r, r);
      r = std::min(pd - pc, pn - pd - 1);
      VecSwap(pb, pn - r, r);
      if ((r = pb - pa) > 1 && !Outside(a, r)) Sort(a, r);
      if ((r = pd - pc) > 1) {
        a = pn - r;
        n = r;
        if (!Outside(a, n)) continue;
      }
      return;
    }
  }

  const SortOrder& o_;
  std::vector<SortItem>& v_;
  size_t lr_ = 0, rr_ = 0;
};

// Replaces `dst` with a list of `values` (deleted when there are none),
// whatever it held, as setKey / dbDelete do.
void StoreList(CommandContext& ctx, std::string_view dst, const std::vector<std::string>& values) {
  Db& db = ctx.DbFor(dst);
  if (Entry* e = db.Find(dst, ctx.now_ms)) {
    Killed killed = KilledOf(*e);
    db.Delete(dst);
    EmitDelete(ctx, dst, ctx.Tick(), ctx.db, killed);
  }
  if (values.empty()) return;
  CollectionWrite w(ctx, dst, ObjType::kList);
  w.Open();  // the key is gone: it cannot hold another type
  ListObject* l = w.Create<ListObject>();
  for (const std::string& v : values) {
    const crdt::SeqElement& e = l->PushBack(v, w.ElementDot());
    if (w.replicating()) {
      w.Record(ElementOp{ElementOp::Kind::kPut, w.Keep(e.pos.Encode()), w.Keep(e.value), {}, {},
                         e.value_dot.sub});
    } else {
      w.Touch();
    }
  }
  w.Done();
}

// sortCommandGeneric.
void SortGeneric(CommandContext& ctx, bool readonly) {
  const size_t argc = ctx.args.size();
  SortOrder order;
  bool dontsort = false;
  int64_t limit_start = 0, limit_count = -1;
  std::optional<std::string_view> sortby, storekey;
  std::vector<std::string_view> gets;
  for (size_t j = 2; j < argc; j++) {
    size_t left = argc - j - 1;
    std::string_view opt = COption(ctx.args[j]);
    if (Is(opt, "asc")) {
      order.desc = false;
    } else if (Is(opt, "desc")) {
      order.desc = true;
    } else if (Is(opt, "alpha")) {
      order.alpha = true;
    } else if (Is(opt, "limit") && left >= 2) {
      if (!ArgInt(ctx, ctx.args[j + 1], &limit_start)) return;
      if (!ArgInt(ctx, ctx.args[j + 2], &limit_count)) return;
      j += 2;
    } else if (!readonly && Is(opt, "store") && left >= 1) {
      storekey = ctx.args[++j];
    } else if (Is(opt, "by") && left >= 1) {
      sortby = ctx.args[++j];
      // A constant pattern: nothing to sort by, no weights to look up.
      if (COption(*sortby).find('*') == std::string_view::npos) dontsort = true;
    } else if (Is(opt, "get") && left >= 1) {
      gets.push_back(ctx.args[++j]);
    } else {
      ctx.rb->Error(errors::kSyntax);
      return;
    }
  }

  Entry* e = LookupRead(ctx, ctx.args[1]);
  if (e && e->type() != ObjType::kSet && e->type() != ObjType::kList &&
      e->type() != ObjType::kZset) {
    ctx.rb->Error(errors::kWrongType);
    return;
  }
  ObjType type = e ? e->type() : ObjType::kList;  // a missing key sorts as an empty list
  // A set's own order is not defined: what STORE keeps is sorted (ALPHA).
  if (dontsort && type == ObjType::kSet && storekey) {
    dontsort = false;
    order.alpha = true;
    sortby.reset();
  }
  // Redis converts a sorted set to its skiplist form for SORT, for good.
  // Converting a listpack parses its scores back with strtod (zzlStrtod),
  // and a subnormal one leaves errno at ERANGE, which the numeric
  // conversion below then sees for every value it parses with strtod
  // (Redis's SORT tests errno without clearing it): the sort fails.
  bool erange = false;
  if (type == ObjType::kZset) {
    auto* z = static_cast<ZsetObject*>(e->collection());
    if (z->enc() == CollEnc::kListpack) {
      for (size_t i = 0; i < z->size(); i++) {
        if (std::fpclassify(z->Score(i)) == FP_SUBNORMAL) erange = true;
      }
    }
    z->set_enc(CollEnc::kSkiplist);
  }

  int64_t vectorlen = e ? static_cast<int64_t>(e->collection()->size()) : 0;
  int64_t start = std::min(std::max<int64_t>(limit_start, 0), vectorlen);
  limit_count = std::min(std::max<int64_t>(limit_count, -1), vectorlen);
  int64_t end = limit_count < 0 ? vectorlen - 1 : start + limit_count - 1;
  if (start >= vectorlen) {
    start = vectorlen - 1;
    end = vectorlen - 2;
  }
  if (end >= vectorlen) end = vectorlen - 1;
  // Lists and sorted sets keep their own order without sorting: load only
  // the range wanted.
  if ((type == ObjType::kZset || type == ObjType::kList) && dontsort &&
      (start != 0 || end != vectorlen - 1)) {
    vectorlen = end - start + 1;
  }

  std::vector<SortItem> vector;
  vector.reserve(static_cast<size_t>(std::max<int64_t>(vectorlen, 0)));
  auto add = [&](std::string_view s) { vector.push_back(SortItem{std::string(s)}); };
  if (type == ObjType::kList && dontsort) {
    if (e && end >= start) {
      const auto& l = *static_cast<const ListObject*>(e->collection());
      int64_t len = static_cast<int64_t>(l.size());
      int64_t i = order.desc ? len - start - 1 : start;
      for (int64_t k = 0; k < vectorlen && i >= 0 && i < len; k++, i += order.desc ? -1 : 1) {
        add(l.at(static_cast<size_t>(i)).value);
      }
      end -= start;
      start = 0;
    }
  } else if (type == ObjType::kList) {
    if (e) {
      const auto& l = *static_cast<const ListObject*>(e->collection());
      for (size_t i = 0; i < l.size(); i++) add(l.at(i).value);
    }
  } else if (type == ObjType::kSet) {
    const auto& s = *static_cast<const SetObject*>(e->collection());
    for (size_t i = 0; i < s.size(); i++) add(s.map.at(i).name);
  } else if (dontsort) {
    const auto& z = *static_cast<const ZsetObject*>(e->collection());
    int64_t zlen = static_cast<int64_t>(z.size());
    const ZOrder::Node* n;
    if (order.desc) {
      n = start > 0 ? z.order().At(static_cast<size_t>(zlen - start - 1)) : z.order().last();
    } else {
      n = start > 0 ? z.order().At(static_cast<size_t>(start)) : z.order().first();
    }
    for (int64_t k = 0; k < vectorlen && n; k++) {
      add(n->member());
      n = order.desc ? n->prev() : n->next();
    }
    end -= start;
    start = 0;
  } else {
    const auto& z = *static_cast<const ZsetObject*>(e->collection());
    for (size_t i = 0; i < z.size(); i++) add(z.map().at(i).name);
  }

  bool conversion_error = false;
  if (!dontsort) {
    for (SortItem& item : vector) {
      std::optional<std::string> byval;
      bool int_enc = false;  // a sorted set's members never are
      if (sortby) {
        byval = LookupByPattern(ctx, *sortby, item.obj, &int_enc);
        if (!byval) continue;
      }
      const std::string& v = sortby ? *byval : item.obj;
      if (order.alpha) {
        if (sortby) {
          item.has_cmp = true;
          item.cmp = std::move(*byval);
        }
      } else {
        // strtod over the C string, as Redis (an empty string is 0).
        char* eptr;
        errno = 0;
        item.score = strtod(v.c_str(), &eptr);
        if (eptr[0] != '\0' || errno == ERANGE || std::isnan(item.score)) {
          conversion_error = true;
        }
        if (erange && !int_enc) conversion_error = true;
      }
    }
    order.bypattern = sortby.has_value();
    order.store = storekey.has_value();
    // The reply is an error then: the order does not matter (and NaN
    // scores are no order at all).
    if (!conversion_error) {
      int64_t n = static_cast<int64_t>(vector.size());
      if (sortby && (start != 0 || end != n - 1)) {
        PartialSort(order, vector).Run(static_cast<size_t>(start), static_cast<size_t>(end));
      } else {
        // glibc's qsort is a merge sort: stable.
        std::stable_sort(vector.begin(), vector.end(), [&](const SortItem& a, const SortItem& b) {
          return Compare(order, a, b) < 0;
        });
      }
    }
  }

  if (conversion_error) {
    ctx.rb->Error("ERR One or more scores can't be converted into double");
    return;
  }
  int64_t count = end - start + 1;
  int64_t outputlen = gets.empty() ? count : static_cast<int64_t>(gets.size()) * count;
  if (!storekey) {
    ctx.rb->ArrayHeader(outputlen);
    for (int64_t j = start; j <= end; j++) {
      const std::string& obj = vector[static_cast<size_t>(j)].obj;
      if (gets.empty()) ctx.rb->Bulk(obj);
      for (std::string_view g : gets) {
        std::optional<std::string> val = LookupByPattern(ctx, g, obj);
        if (val) {
          ctx.rb->Bulk(*val);
        } else {
          ctx.rb->Null();
        }
      }
    }
    return;
  }
  std::vector<std::string> values;
  values.reserve(static_cast<size_t>(std::max<int64_t>(outputlen, 0)));
  for (int64_t j = start; j <= end; j++) {
    std::string& obj = vector[static_cast<size_t>(j)].obj;
    if (gets.empty()) {
      values.push_back(std::move(obj));
      continue;
    }
    for (std::string_view g : gets) {
      std::optional<std::string> val = LookupByPattern(ctx, g, obj);
      values.push_back(val ? std::move(*val) : std::string());
    }
  }
  StoreList(ctx, *storekey, values);
  ctx.rb->Integer(outputlen);
}

}  // namespace

void CmdSort(CommandContext& ctx) { SortGeneric(ctx, false); }
void CmdSortRo(CommandContext& ctx) { SortGeneric(ctx, true); }

size_t SortStoreKey(std::span<const std::string_view> args) {
  // Redis's sortGetKeys: from argument 2, LIMIT skips two arguments, GET
  // and BY one; the last STORE names the destination key.
  size_t pos = 0;
  for (size_t i = 2; i < args.size(); i++) {
    std::string_view opt = COption(args[i]);
    if (Is(opt, "limit")) {
      i += 2;
    } else if (Is(opt, "get") || Is(opt, "by")) {
      i += 1;
    } else if (Is(opt, "store") && i + 1 < args.size()) {
      pos = i + 1;
      i++;
    }
  }
  return pos;
}

}  // namespace lattice::node
