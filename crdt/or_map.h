// File: crdt/or_map.h
//
// Observed-remove map without tombstones (ORSWOT, in its delta-state form:
// Almeida, Shoker and Baquero, "Delta State Replicated Data Types"): the
// lattice behind sets (value-less) and hashes (a value per field). See
// docs/consistency.md, "Collections".
//
// Each element holds its live *versions*: the dots (write stamps) that added
// it, each with the value it wrote. Normally one; two or more only after
// concurrent writes of one element on different nodes. The element's value
// is that of its greatest dot (last writer wins among live versions). A
// key's CausalContext (kept beside the map) says which dots were ever seen.
//
// Local writes (this node): Put replaces every version with one new dot and
// returns the dots it replaced; Remove drops the element and returns its
// dots. Both ship as deltas that name those dots, so a receiver removes
// exactly what the writer observed: a version the writer never saw (a
// concurrent add) survives, which is add-wins.
//
// Remote writes: ApplyPut / ApplyRemove do the same on a replica. Whole
// states merge with MergeState: a version survives if both sides have it,
// or one side has it and the other side's context has not seen it.
//
// A hash field that HINCRBY touched also carries a PnCounter whose base is
// the field's greatest version (base stamp = its dot): increments from every
// node add up; a newer HSET (a greater dot) starts a new base. A sorted-set
// member that ZINCRBY touched carries a ScoreCounter (crdt/score_counter.h)
// the same way: the map is templated on the counter type.
//
// Storage: a vector of elements, in the order the caller chooses (insertion
// order or sorted, as Redis's listpack and intset), plus, once the caller
// asks for it (large collections), a hash index; then removal swaps with
// the last element and the order is unspecified, as a Redis hash table's.
//
// Thread-safety: value type; callers synchronize.
#ifndef LATTICE_CRDT_OR_MAP_H_
#define LATTICE_CRDT_OR_MAP_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/hash/hash.h"
#include "crdt/causal_context.h"
#include "crdt/compact_string.h"
#include "crdt/pn_counter.h"
#include "crdt/stamp.h"

namespace lattice::crdt {

// The value of a set member: nothing.
struct NoValue {
  friend bool operator==(const NoValue&, const NoValue&) { return true; }
};

template <typename V>
struct OrVersion {
  Stamp dot;
  V value{};
  friend bool operator==(const OrVersion&, const OrVersion&) = default;
};

// `C` is the counter an increment puts on the greatest version: PnCounter
// for hash fields (HINCRBY), ScoreCounter for sorted-set scores (ZINCRBY).
//
// A counter belongs to one version (its base). Normally there is one, on
// the greatest version. After concurrent writes of the element on two
// nodes each node may increment its own greatest version; the counters on
// smaller live versions are "shelved", not dropped, so that every replica
// keeps the same counters whatever the order in which it learned of the
// versions (one of them becomes visible again if the greater version is
// removed). A counter goes with its base version.
template <typename V, typename C = PnCounter>
struct OrElement {
  CompactString name;
  absl::InlinedVector<OrVersion<V>, 1> versions;  // never empty while in the map
  // After an increment: the counter on the greatest base, and those on
  // smaller live bases ("shelved", rare). One pointer: most elements have
  // none.
  struct Counters {
    C live;
    std::vector<C> shelved;
  };
  std::unique_ptr<Counters> counters;

  C* counter() { return counters ? &counters->live : nullptr; }
  const C* counter() const { return counters ? &counters->live : nullptr; }
  // The shelved counters, or nullptr if there are none.
  const std::vector<C>* shelved() const {
    return counters && !counters->shelved.empty() ? &counters->shelved : nullptr;
  }

  const OrVersion<V>& top() const {
    const OrVersion<V>* best = &versions[0];
    for (const OrVersion<V>& v : versions) {
      if (best->dot < v.dot) best = &v;
    }
    return *best;
  }
  // The counter applies while its base is the greatest version.
  const C* live_counter() const {
    if (versions.empty()) return nullptr;
    return const_cast<OrElement*>(this)->CounterOn(top().dot);
  }
  bool HasVersion(const Stamp& d) const {
    for (const OrVersion<V>& v : versions) {
      if (v.dot == d) return true;
    }
    return false;
  }
  // The counter on base `d`, or nullptr.
  C* CounterOn(const Stamp& d) {
    if (!counters) return nullptr;
    if (counters->live.base_stamp() == d) return &counters->live;
    for (C& c : counters->shelved) {
      if (c.base_stamp() == d) return &c;
    }
    return nullptr;
  }
  // Creates the counter on base (`base`, `d`). REQUIRES: CounterOn(d) is
  // null. The pointer is valid until the next change of the counters.
  template <typename B>
  C* AddCounter(B base, const Stamp& d) {
    if (!counters) {
      counters.reset(new Counters{C(base, d), {}});
      return &counters->live;
    }
    if (counters->live.base_stamp() < d) {
      counters->shelved.push_back(std::move(counters->live));
      counters->live = C(base, d);
      return &counters->live;
    }
    counters->shelved.push_back(C(base, d));
    return &counters->shelved.back();
  }
  // Drops the counters whose base version is gone.
  void PruneCounters() {
    if (!counters) return;
    std::vector<C>& shelf = counters->shelved;
    shelf.erase(std::remove_if(shelf.begin(), shelf.end(),
                               [&](const C& c) { return !HasVersion(c.base_stamp()); }),
                shelf.end());
    if (!HasVersion(counters->live.base_stamp())) {
      if (shelf.empty()) {
        counters.reset();
        return;
      }
      auto best = shelf.begin();
      for (auto it = shelf.begin(); it != shelf.end(); ++it) {
        if (best->base_stamp() < it->base_stamp()) best = it;
      }
      counters->live = std::move(*best);
      shelf.erase(best);
    }
    if (shelf.empty()) shelf.shrink_to_fit();
  }
};

// `Digest::Of(const OrElement<V, C>&)` hashes one element for the Merkle
// leaves (a stable hash: equal on every node); it must accept an element
// whose versions are empty.
template <typename V, typename Digest, typename C = PnCounter>
class OrMap {
 public:
  using Version = OrVersion<V>;
  using Element = OrElement<V, C>;
  using Counter = C;
  using Versions = absl::InlinedVector<Version, 1>;
  using Dots = absl::InlinedVector<Stamp, 1>;

  static Dots DotsOf(const Element& e) {
    Dots d;
    for (const Version& v : e.versions) d.push_back(v.dot);
    return d;
  }

  OrMap() = default;
  OrMap(const OrMap& o) : OrMap() { *this = o; }
  OrMap& operator=(const OrMap& o) {
    if (this == &o) return *this;
    elements_.clear();
    for (const Element& e : o.elements_) {
      Element c{e.name, e.versions,
                e.counters ? std::make_unique<typename Element::Counters>(*e.counters) : nullptr};
      elements_.push_back(std::move(c));
    }
    digesting_ = o.digesting_;
    digest_ = o.digest_;
    index_.reset();
    if (o.indexed()) BuildIndex();
    return *this;
  }

  size_t size() const { return elements_.size(); }
  bool empty() const { return elements_.empty(); }
  const Element& at(size_t i) const { return elements_[i]; }
  const std::vector<Element>& elements() const { return elements_; }

  // Position of `name`, or -1.
  ptrdiff_t Find(std::string_view name) const {
    if (indexed()) {
      auto it = index_->find(name);
      return it == index_->end() ? -1 : static_cast<ptrdiff_t>(*it);
    }
    for (size_t i = 0; i < elements_.size(); i++) {
      if (elements_[i].name == name) return static_cast<ptrdiff_t>(i);
    }
    return -1;
  }

  // ---- local writes ----

  // Inserts a new element at `pos` (ignored once indexed: appends).
  // REQUIRES: Find(name) < 0.
  void Insert(size_t pos, std::string_view name, V value, Stamp dot) {
    Element e;
    e.name.assign(name);
    e.versions.push_back(Version{dot, std::move(value)});
    InsertElement(pos, std::move(e));
  }
  // Replaces element i's versions with one; returns the replaced dots.
  Dots Put(size_t i, V value, Stamp dot) {
    return Mutate(i, [&](Element& e) {
      Dots old = DotsOf(e);
      e.versions.clear();
      e.versions.push_back(Version{dot, std::move(value)});
      e.counters.reset();
      return old;
    });
  }
  // Removes element i; returns its dots.
  Dots Remove(size_t i) {
    Dots old = DotsOf(elements_[i]);
    EraseAt(i);
    return old;
  }
  // Adds `by` to element i's counter on its greatest version whose value is
  // `base` (the caller parsed it), creating the counter if needed. Returns
  // the contribution's new totals.
  template <typename Base, typename By>
  typename C::Delta Increment(size_t i, Base base, NodeId node, uint64_t epoch, By by) {
    return Mutate(i, [&](Element& e) {
      Stamp top = e.top().dot;
      C* c = e.CounterOn(top);
      if (!c) c = e.AddCounter(base, top);
      return c->Add(node, epoch, by);
    });
  }

  // ---- remote writes (deltas) ----

  // A remote put of `name` with `dot`, replacing `replaced`. `ctx` is the
  // receiver's context before this write. Returns true if the element is
  // present afterwards.
  bool ApplyPut(std::string_view name, const V& value, Stamp dot, const Dots& replaced,
                const CausalContext& ctx) {
    ptrdiff_t i = Find(name);
    if (i >= 0) {
      DropDots(static_cast<size_t>(i), replaced);
      i = Find(name);
    }
    if (ctx.Covers(dot)) return i >= 0;
    if (i < 0) {
      Insert(elements_.size(), name, value, dot);
    } else {
      Mutate(static_cast<size_t>(i), [&](Element& e) {
        for (const Version& v : e.versions) {
          if (v.dot == dot) return 0;
        }
        e.versions.push_back(Version{dot, value});
        return 0;
      });
    }
    return true;
  }
  void ApplyRemove(std::string_view name, const Dots& removed) {
    ptrdiff_t i = Find(name);
    if (i >= 0) DropDots(static_cast<size_t>(i), removed);
  }
  // A remote increment: `d` is the contribution on base (d.base_stamp,
  // d.base) of element `name`. A base the receiver has seen removed or
  // replaced loses the increment; a base not seen yet is added with it.
  void ApplyIncrement(std::string_view name, const V& base_value, const typename C::Delta& d,
                      const CausalContext& ctx) {
    ptrdiff_t i = Find(name);
    bool has_base = false;
    if (i >= 0) {
      for (const Version& v : elements_[i].versions) has_base = has_base || v.dot == d.base_stamp;
    }
    if (!has_base) {
      if (ctx.Covers(d.base_stamp)) return;
      if (i < 0) {
        Insert(elements_.size(), name, base_value, d.base_stamp);
        i = Find(name);
      } else {
        Mutate(static_cast<size_t>(i), [&](Element& e) {
          e.versions.push_back(Version{d.base_stamp, base_value});
          return 0;
        });
      }
    }
    Mutate(static_cast<size_t>(i), [&](Element& e) {
      C* c = e.CounterOn(d.base_stamp);
      if (!c) c = e.AddCounter(d.base, d.base_stamp);
      c->Merge(d);
      return 0;
    });
  }

  // Merges a whole remote state: its elements and context, against ours.
  // Returns true if anything changed.
  bool MergeState(const OrMap& other, const CausalContext& other_ctx, const CausalContext& ctx) {
    bool changed = false;
    // Ours: drop versions the other side saw and no longer has.
    for (size_t i = 0; i < elements_.size();) {
      ptrdiff_t j = other.Find(elements_[i].name);
      Dots gone;
      for (const Version& v : elements_[i].versions) {
        bool theirs = false;
        if (j >= 0) {
          for (const Version& w : other.elements_[j].versions) theirs = theirs || w.dot == v.dot;
        }
        if (!theirs && other_ctx.Covers(v.dot)) gone.push_back(v.dot);
      }
      size_t before = elements_.size();
      if (!gone.empty()) {
        DropDots(i, gone);
        changed = true;
      }
      if (elements_.size() == before) i++;
    }
    // Theirs: add versions we have not seen.
    for (const Element& o : other.elements_) {
      for (const Version& w : o.versions) {
        if (ctx.Covers(w.dot)) continue;
        ptrdiff_t i = Find(o.name);
        if (i < 0) {
          Insert(elements_.size(), o.name, w.value, w.dot);
          changed = true;
          continue;
        }
        bool have = false;
        for (const Version& v : elements_[i].versions) have = have || v.dot == w.dot;
        if (have) continue;
        Mutate(static_cast<size_t>(i), [&](Element& e) {
          e.versions.push_back(w);
          return 0;
        });
        changed = true;
      }
      ptrdiff_t i = Find(o.name);
      if (i >= 0) {
        auto merge_counter = [&](const C& oc) {
          Mutate(static_cast<size_t>(i), [&](Element& e) {
            if (!e.HasVersion(oc.base_stamp())) return 0;
            C* c = e.CounterOn(oc.base_stamp());
            if (!c) {
              e.AddCounter(oc.base(), oc.base_stamp())->Merge(oc);
              changed = true;
            } else if (!(*c == oc)) {
              C before = *c;
              c->Merge(oc);
              changed = changed || !(before == *c);
            }
            return 0;
          });
        };
        if (const C* oc = o.counter()) merge_counter(*oc);
        if (const std::vector<C>* shelf = o.shelved()) {
          for (const C& oc : *shelf) merge_counter(oc);
        }
      }
    }
    return changed;
  }

  // Drops every version whose dot `dead` says is dead (a FLUSH: below its
  // stamp; a DEL: covered by its tombstone). Returns how many elements went.
  template <typename Pred>
  size_t DropIf(Pred dead) {
    size_t gone = 0;
    for (size_t i = 0; i < elements_.size();) {
      Dots doomed;
      for (const Version& v : elements_[i].versions) {
        if (dead(v.dot)) doomed.push_back(v.dot);
      }
      size_t before = elements_.size();
      if (!doomed.empty()) DropDots(i, doomed);
      if (elements_.size() < before) {
        gone++;
      } else {
        i++;
      }
    }
    return gone;
  }

  // Element i with `fn` applied, keeping the digest in step.
  template <typename F>
  auto Mutate(size_t i, F fn) {
    uint64_t before = digesting_ ? DigestOf(elements_[i]) : 0;
    auto r = fn(elements_[i]);
    if (digesting_) digest_ += DigestOf(elements_[i]) - before;
    return r;
  }

  void EraseAt(size_t i) {
    if (digesting_) digest_ -= DigestOf(elements_[i]);
    if (!indexed()) {
      elements_.erase(elements_.begin() + static_cast<ptrdiff_t>(i));
      return;
    }
    size_t last = elements_.size() - 1;
    index_->erase(std::string_view(elements_[i].name));
    if (i != last) {
      index_->erase(std::string_view(elements_[last].name));
      elements_[i] = std::move(elements_[last]);
      elements_.pop_back();
      index_->insert(static_cast<uint32_t>(i));
    } else {
      elements_.pop_back();
    }
  }

  // Reorders the elements (compact forms only: REQUIRES !indexed()).
  template <typename Less>
  void SortBy(Less less) {
    std::stable_sort(elements_.begin(), elements_.end(), less);
  }

  // Starts keeping a hash index (Redis's conversion to a hash table).
  void BuildIndex() {
    // Allocated only now: a compact collection pays nothing for it.
    index_ = std::make_unique<Index>(0, IndexHash{this}, IndexEq{this});
    index_->reserve(elements_.size());
    for (size_t i = 0; i < elements_.size(); i++) index_->insert(static_cast<uint32_t>(i));
  }
  bool indexed() const { return index_ != nullptr; }

  // Order-independent digest of the elements (names, versions, counters),
  // maintained incrementally once enabled (replicating nodes only).
  void EnableDigest() {
    if (digesting_) return;
    digesting_ = true;
    digest_ = 0;
    for (const Element& e : elements_) digest_ += DigestOf(e);
  }
  uint64_t digest() const { return digest_; }
  static uint64_t DigestOf(const Element& e) { return Digest::Of(e); }

  size_t MemoryUsage() const {
    size_t n = sizeof(*this) + elements_.capacity() * sizeof(Element) +
               (indexed() ? sizeof(Index) + index_->capacity() * (sizeof(uint32_t) + 1) : 0);
    for (const Element& e : elements_) {
      n += e.name.heap_bytes();
      if (e.versions.size() > 1) n += e.versions.capacity() * sizeof(Version);
      if (e.counters) n += sizeof(*e.counters) + e.counters->shelved.capacity() * sizeof(C);
    }
    return n;
  }

  // Equality as a lattice state: the same elements with the same versions
  // and counters, in any order.
  friend bool operator==(const OrMap& a, const OrMap& b) {
    if (a.size() != b.size()) return false;
    for (const Element& e : a.elements_) {
      ptrdiff_t j = b.Find(e.name);
      if (j < 0) return false;
      const Element& f = b.elements_[j];
      if (e.versions.size() != f.versions.size()) return false;
      for (const Version& v : e.versions) {
        if (std::find(f.versions.begin(), f.versions.end(), v) == f.versions.end()) return false;
      }
      const C* ca = e.live_counter();
      const C* cb = f.live_counter();
      if ((ca == nullptr) != (cb == nullptr)) return false;
      if (ca && !(*ca == *cb)) return false;
    }
    return true;
  }

 private:
  struct IndexHash {
    using is_transparent = void;
    const OrMap* m;
    size_t operator()(uint32_t i) const { return absl::HashOf(std::string_view(m->elements_[i].name)); }
    size_t operator()(std::string_view s) const { return absl::HashOf(s); }
  };
  struct IndexEq {
    using is_transparent = void;
    const OrMap* m;
    std::string_view Name(uint32_t i) const { return m->elements_[i].name; }
    std::string_view Name(std::string_view s) const { return s; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return Name(a) == Name(b);
    }
  };

  void InsertElement(size_t pos, Element e) {
    if (digesting_) digest_ += DigestOf(e);
    if (!indexed() && elements_.size() == elements_.capacity()) {
      // Compact collections grow by a quarter, not double: most stay small
      // and the slack is memory per key.
      elements_.reserve(elements_.size() + elements_.size() / 4 + 1);
    }
    if (indexed() || pos >= elements_.size()) {
      elements_.push_back(std::move(e));
      if (indexed()) index_->insert(static_cast<uint32_t>(elements_.size() - 1));
      return;
    }
    elements_.insert(elements_.begin() + static_cast<ptrdiff_t>(pos), std::move(e));
  }

  // Removes the versions of element i named in `dots`; the element goes
  // when none is left. A counter whose base version went goes too: a
  // removed dot never comes back.
  void DropDots(size_t i, const Dots& dots) {
    bool empty = Mutate(i, [&](Element& e) {
      e.versions.erase(std::remove_if(e.versions.begin(), e.versions.end(),
                                      [&](const Version& v) {
                                        return std::find(dots.begin(), dots.end(), v.dot) !=
                                               dots.end();
                                      }),
                       e.versions.end());
      e.PruneCounters();
      return e.versions.empty();
    });
    if (empty) EraseAt(i);
  }

  std::vector<Element> elements_;
  using Index = absl::flat_hash_set<uint32_t, IndexHash, IndexEq>;
  std::unique_ptr<Index> index_;  // hash table form only
  bool digesting_ = false;
  uint64_t digest_ = 0;
};

}  // namespace lattice::crdt

#endif  // LATTICE_CRDT_OR_MAP_H_
