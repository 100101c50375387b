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
// Under an equal base, each contribution's p and n only grow, so merging
// takes the maximum per contribution: commutative, associative, idempotent.
//
// A contribution is named by its node *and an epoch*: the stamp counter of
// the node's first increment into it. A node adds only to the contribution
// this very copy of the counter created (`own`); a copy it received (after
// a restart, after the key moved away and back with the ring, or on a hot
// extra copy) gets a new contribution at the node's next increment.
// Totals must only grow, and a node that lost its copy cannot know whether
// its old totals are higher elsewhere than what it was sent back (a delta
// still in flight): continuing the old totals from a smaller value would
// make the maximum hide the new increments. A fresh epoch never collides.
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
    uint64_t p = 0;      // total increments by `node` since the base
    uint64_t n = 0;      // total decrements by `node` since the base
    uint64_t epoch = 0;  // with `node`, names the contribution (see above)
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

  // Adds `by` on behalf of `node` (always the local node: one copy lives on
  // one node) to the contribution this copy created, or to a new one named
  // (node, epoch) where `epoch` is the stamp counter of this increment.
  // Returns the delta: the same base and the contribution's new totals
  // (state-based, so replaying it is harmless).
  Delta Add(NodeId node, uint64_t epoch, int64_t by) {
    if (own_ == 0) own_ = epoch;
    Contribution& c = Find(node, own_);
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
      base_ = other.base_;
      base_stamp_ = other.base_stamp_;
      contributions_ = other.contributions_;
      own_ = 0;  // a contribution received is never continued here
      return;
    }
    for (const auto& oc : other.contributions_) {
      Contribution& c = Find(oc.node, oc.epoch);
      c.p = std::max(c.p, oc.p);
      c.n = std::max(c.n, oc.n);
    }
  }

  friend bool operator==(const PnCounter& a, const PnCounter& b) {
    if (a.base_ != b.base_ || a.base_stamp_ != b.base_stamp_) return false;
    std::vector<Contribution> sa(a.contributions_.begin(), a.contributions_.end());
    std::vector<Contribution> sb(b.contributions_.begin(), b.contributions_.end());
    auto by_node = [](const Contribution& x, const Contribution& y) {
      return x.node != y.node ? x.node < y.node : x.epoch < y.epoch;
    };
    std::sort(sa.begin(), sa.end(), by_node);
    std::sort(sb.begin(), sb.end(), by_node);
    return sa == sb;
  }

 private:
  Contribution& Find(NodeId node, uint64_t epoch) {
    for (auto& c : contributions_) {
      if (c.node == node && c.epoch == epoch) return c;
    }
    contributions_.push_back(Contribution{node, 0, 0, epoch});
    return contributions_.back();
  }

  int64_t base_ = 0;
  Stamp base_stamp_{};
  // The epoch of the contribution this copy created (0: none yet). Local
  // to this copy: never shipped, not part of the value.
  uint64_t own_ = 0;
  // Standalone and in small clusters most counters have one contributor:
  // keep it inline, so a counter is a single allocation.
  absl::InlinedVector<Contribution, 1> contributions_;
};

}  // namespace lattice::crdt

#endif  // LATTICE_CRDT_PN_COUNTER_H_
