// File: crdt/pn_counter.h
//
// A resettable PN-counter: the value of a Redis string that INCR and friends
// modify. It is an LWW base (what the last SET wrote, with its stamp) plus,
// per node, the increments and decrements that node applied on top of that
// base. value = base + sum(p) - sum(n).
//
// Merge: the greater base stamp wins and discards contributions made against
// an older base (a SET overwrites the increments it has seen and those
// concurrent with it that lost the stamp order; see docs/consistency.md).
// Under an equal base, each node's p and n only grow, so merging takes the
// per-node maximum: commutative, associative, idempotent.
//
// Thread-safety: value type; callers synchronize.
#ifndef LATTICE_CRDT_PN_COUNTER_H_
#define LATTICE_CRDT_PN_COUNTER_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "crdt/stamp.h"

namespace lattice::crdt {

class PnCounter {
 public:
  struct Contribution {
    NodeId node = 0;
    uint64_t p = 0;  // total increments by `node` since the base
    uint64_t n = 0;  // total decrements by `node` since the base
    friend bool operator==(const Contribution&, const Contribution&) = default;
  };

  // What one Add() changed: the node's new totals against the base. Being
  // state (totals, not increments), it can be applied any number of times.
  struct Delta {
    int64_t base = 0;
    Stamp base_stamp{};
    Contribution contribution;
  };

  PnCounter() = default;
  PnCounter(int64_t base, Stamp base_stamp) : base_(base), base_stamp_(base_stamp) {}

  // Two's-complement sum: overflow checks belong to the command (INCR
  // refuses to overflow), the lattice only adds.
  int64_t value() const {
    uint64_t v = static_cast<uint64_t>(base_);
    for (const auto& c : contributions_) v += c.p - c.n;
    return static_cast<int64_t>(v);
  }
  int64_t base() const { return base_; }
  const Stamp& base_stamp() const { return base_stamp_; }
  const absl::InlinedVector<Contribution, 1>& contributions() const { return contributions_; }

  // Adds `by` on behalf of `node`. Returns the delta: the same base and the
  // node's new totals (state-based, so replaying it is harmless).
  Delta Add(NodeId node, int64_t by) {
    Contribution& c = Find(node);
    if (by >= 0) {
      c.p += static_cast<uint64_t>(by);
    } else {
      c.n += static_cast<uint64_t>(0) - static_cast<uint64_t>(by);
    }
    return Delta{base_, base_stamp_, c};
  }

  // Merging a delta is merging the counter it describes.
  void Merge(const Delta& d) {
    PnCounter other(d.base, d.base_stamp);
    other.contributions_.push_back(d.contribution);
    Merge(other);
  }

  void Merge(const PnCounter& other) {
    if (other.base_stamp_ < base_stamp_) return;
    if (base_stamp_ < other.base_stamp_) {
      *this = other;
      return;
    }
    for (const auto& oc : other.contributions_) {
      Contribution& c = Find(oc.node);
      c.p = std::max(c.p, oc.p);
      c.n = std::max(c.n, oc.n);
    }
  }

  friend bool operator==(const PnCounter& a, const PnCounter& b) {
    if (a.base_ != b.base_ || a.base_stamp_ != b.base_stamp_) return false;
    std::vector<Contribution> sa(a.contributions_.begin(), a.contributions_.end());
    std::vector<Contribution> sb(b.contributions_.begin(), b.contributions_.end());
    auto by_node = [](const Contribution& x, const Contribution& y) { return x.node < y.node; };
    std::sort(sa.begin(), sa.end(), by_node);
    std::sort(sb.begin(), sb.end(), by_node);
    return sa == sb;
  }

 private:
  Contribution& Find(NodeId node) {
    for (auto& c : contributions_) {
      if (c.node == node) return c;
    }
    contributions_.push_back(Contribution{node, 0, 0});
    return contributions_.back();
  }

  int64_t base_ = 0;
  Stamp base_stamp_{};
  // Standalone and in small clusters most counters have one contributor:
  // keep it inline, so a counter is a single allocation.
  absl::InlinedVector<Contribution, 1> contributions_;
};

}  // namespace lattice::crdt

#endif  // LATTICE_CRDT_PN_COUNTER_H_
