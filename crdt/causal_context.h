// File: crdt/causal_context.h
//
// The causal context of one collection key: which writes ("dots") to the
// key this replica has seen, whether their elements are still present or
// were removed since. With it an observed-remove collection needs no
// per-element tombstone (docs/consistency.md, "Collections").
//
// A dot is the Lamport stamp of a write. Stamps of one node are unique and
// increasing, but not contiguous per key, so the context cannot be a plain
// version vector of counters. Instead every write to a key names the
// previous write its node made to the same key (`prev`, 0 for its first):
// per origin the context keeps the head of the chain it has seen without a
// gap (`vv`), and dots that arrived ahead of a gap in a small sorted
// "cloud". A dot joins `vv` when the chain reaches it, so the cloud is
// empty whenever each origin's writes arrived in order, which is what the
// ordered delta streams deliver.
//
// Thread-safety: value type; callers synchronize.
#ifndef LATTICE_CRDT_CAUSAL_CONTEXT_H_
#define LATTICE_CRDT_CAUSAL_CONTEXT_H_

#include <algorithm>
#include <cstdint>
#include <limits>

#include "absl/container/inlined_vector.h"
#include "crdt/stamp.h"
#include "crdt/tombstone.h"

namespace lattice::crdt {

class CausalContext {
 public:
  // `prev` of a dot whose chain predecessor is unknown (a dot learned as
  // removed, or from a tombstone): it leaves the cloud only once covered.
  static constexpr uint64_t kUnknownPrev = std::numeric_limits<uint64_t>::max();

  struct CloudDot {
    Stamp dot;
    uint64_t prev = kUnknownPrev;
    friend bool operator==(const CloudDot&, const CloudDot&) = default;
  };

  // The zero dot (a write made standalone, or already stable) is seen by
  // every context.
  bool Covers(const Stamp& d) const {
    if (d.IsZero()) return true;
    if (vv_.Has(d.node) && vv_.Get(d.node) >= d.counter) return true;
    // An element's dot is seen with its whole write, or alone (learned as
    // replaced by a later change).
    auto in_cloud = [&](const Stamp& s) {
      auto it = std::lower_bound(cloud_.begin(), cloud_.end(), s,
                                 [](const CloudDot& c, const Stamp& x) { return c.dot < x; });
      return it != cloud_.end() && it->dot == s;
    };
    return in_cloud(d) || (d.sub != 0 && in_cloud(d.Write()));
  }

  // The head of `node`'s gap-free chain: the `prev` its next write names.
  uint64_t Head(NodeId node) const { return vv_.Get(node); }

  // Records write `d`, whose node's previous write to this key was `prev`.
  void Add(const Stamp& d, uint64_t prev) {
    if (d.IsZero() || Covers(d)) return;
    if (prev != kUnknownPrev && vv_.Get(d.node) >= prev) {
      vv_.Observe(d.node, d.counter);
      Compact(d.node);
      return;
    }
    auto it = std::lower_bound(cloud_.begin(), cloud_.end(), d,
                               [](const CloudDot& c, const Stamp& s) { return c.dot < s; });
    cloud_.insert(it, CloudDot{d, prev});
  }
  void AddDot(const Stamp& d) { Add(d, kUnknownPrev); }

  void Merge(const CausalContext& other) {
    for (const auto& e : other.vv_.entries()) vv_.Observe(e.node, e.counter);
    for (const CloudDot& c : other.cloud_) Add(c.dot, c.prev);
    for (const auto& e : other.vv_.entries()) Compact(e.node);
  }

  // A tombstone covers what this context covers (and it is what a key's
  // context becomes once its last element is gone).
  Tombstone ToTombstone() const {
    Tombstone t;
    t.seen = vv_;
    for (const CloudDot& c : cloud_) t.AddDot(c.dot);
    return t;
  }
  void MergeTombstone(const Tombstone& t) {
    for (const auto& e : t.seen.entries()) vv_.Observe(e.node, e.counter);
    for (const Stamp& d : t.dots) AddDot(d);
    for (const auto& e : t.seen.entries()) Compact(e.node);
  }

  const VersionVector& vv() const { return vv_; }
  const absl::InlinedVector<CloudDot, 1>& cloud() const { return cloud_; }
  bool empty() const { return vv_.empty() && cloud_.empty(); }
  friend bool operator==(const CausalContext&, const CausalContext&) = default;

 private:
  // Folds into vv every cloud dot of `node` that the chain now reaches.
  void Compact(NodeId node) {
    bool moved = true;
    while (moved) {
      moved = false;
      uint64_t head = vv_.Get(node);
      for (auto it = cloud_.begin(); it != cloud_.end();) {
        if (it->dot.node != node) {
          ++it;
        } else if (it->dot.counter <= head && vv_.Has(node)) {
          it = cloud_.erase(it);
        } else if (it->prev != kUnknownPrev && it->prev <= head) {
          vv_.Observe(node, it->dot.counter);
          cloud_.erase(it);
          moved = true;
          break;
        } else {
          ++it;
        }
      }
    }
  }

  VersionVector vv_;
  absl::InlinedVector<CloudDot, 1> cloud_;  // sorted by dot
};

}  // namespace lattice::crdt

#endif  // LATTICE_CRDT_CAUSAL_CONTEXT_H_
