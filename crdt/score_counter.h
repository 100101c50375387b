// File: crdt/score_counter.h
//
// A resettable PN-counter over doubles: the score of a sorted-set member
// that ZINCRBY modified on a replicating node. The same lattice as
// crdt/pn_counter.h with double totals: an LWW base (the score of the
// member's greatest version, with that version's dot as its stamp) plus, per
// contribution named (node, epoch), the sum of the positive increments `p`
// and of the magnitudes of the negative ones `n` that node applied on top
// of that base (docs/consistency.md, "Collections").
//
// p and n only grow (adding a non-negative double never makes a double
// smaller, rounding included), so merging takes the maximum of each per
// contribution: commutative, associative, idempotent. A greater base stamp
// discards the contributions made on an older base.
//
// value() sums in a fixed order, base first, then the contributions sorted
// by (node, epoch), each as (p - n), so every replica holding the same
// state computes the same bits. A contribution whose addition would make
// the sum NaN (opposite infinities added concurrently on two nodes; a node
// never adds one to its own view) is skipped, so a score is never NaN.
//
// Thread-safety: value type; callers synchronize.
#ifndef LATTICE_CRDT_SCORE_COUNTER_H_
#define LATTICE_CRDT_SCORE_COUNTER_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "crdt/stamp.h"

namespace lattice::crdt {

class ScoreCounter {
 public:
  // Equality of the bits (0 and -0 differ; totals are never NaN).
  static bool Same(double x, double y) { return x == y && std::signbit(x) == std::signbit(y); }

  struct Contribution {
    NodeId node = 0;
    double p = 0;        // total of the positive increments since the base
    double n = 0;        // total magnitude of the negative ones
    uint64_t epoch = 0;  // with `node`, names the contribution (pn_counter.h)
    friend bool operator==(const Contribution& a, const Contribution& b) {
      return a.node == b.node && a.epoch == b.epoch && Same(a.p, b.p) && Same(a.n, b.n);
    }
  };

  // What one Add() changed: the contribution's new totals on the base.
  struct Delta {
    double base = 0;
    Stamp base_stamp{};
    Contribution contribution;
  };

  ScoreCounter() = default;
  ScoreCounter(double base, Stamp base_stamp) : base_(base), base_stamp_(base_stamp) {}

  double value() const {
    std::vector<const Contribution*> order;
    order.reserve(contributions_.size());
    for (const Contribution& c : contributions_) order.push_back(&c);
    std::sort(order.begin(), order.end(), [](const Contribution* x, const Contribution* y) {
      return x->node != y->node ? x->node < y->node : x->epoch < y->epoch;
    });
    double v = base_;
    for (const Contribution* c : order) {
      double next = v + (c->p - c->n);
      if (!std::isnan(next)) v = next;
    }
    return v;
  }
  double base() const { return base_; }
  const Stamp& base_stamp() const { return base_stamp_; }
  const absl::InlinedVector<Contribution, 1>& contributions() const { return contributions_; }

  // Adds `by` (not NaN) on behalf of the local `node` to the contribution
  // this copy created, or to a new one named (node, epoch). Returns the
  // delta (state: replaying it is harmless).
  Delta Add(NodeId node, uint64_t epoch, double by) {
    if (own_ == 0) own_ = epoch;
    Contribution& c = Find(node, own_);
    if (by >= 0) {
      c.p += by;
    } else {
      c.n -= by;
    }
    return Delta{base_, base_stamp_, c};
  }

  void Merge(const Delta& d) {
    ScoreCounter other(d.base, d.base_stamp);
    other.contributions_.push_back(d.contribution);
    Merge(other);
  }

  void Merge(const ScoreCounter& other) {
    if (other.base_stamp_ < base_stamp_) return;
    if (base_stamp_ < other.base_stamp_) {
      base_ = other.base_;
      base_stamp_ = other.base_stamp_;
      contributions_ = other.contributions_;
      own_ = 0;
      return;
    }
    for (const Contribution& oc : other.contributions_) {
      Contribution& c = Find(oc.node, oc.epoch);
      c.p = Max(c.p, oc.p);
      c.n = Max(c.n, oc.n);
    }
  }

  friend bool operator==(const ScoreCounter& a, const ScoreCounter& b) {
    if (!Same(a.base_, b.base_) || a.base_stamp_ != b.base_stamp_) return false;
    if (a.contributions_.size() != b.contributions_.size()) return false;
    for (const Contribution& c : a.contributions_) {
      if (std::find(b.contributions_.begin(), b.contributions_.end(), c) ==
          b.contributions_.end()) {
        return false;
      }
    }
    return true;
  }

 private:
  // The greater total; of 0 and -0 (equal totals), +0.
  static double Max(double x, double y) {
    if (x == y) return std::signbit(x) ? y : x;
    return x < y ? y : x;
  }

  Contribution& Find(NodeId node, uint64_t epoch) {
    for (Contribution& c : contributions_) {
      if (c.node == node && c.epoch == epoch) return c;
    }
    contributions_.push_back(Contribution{node, 0, 0, epoch});
    return contributions_.back();
  }

  double base_ = 0;
  Stamp base_stamp_{};
  uint64_t own_ = 0;  // the epoch of the contribution this copy created
  absl::InlinedVector<Contribution, 1> contributions_;
};

}  // namespace lattice::crdt

#endif  // LATTICE_CRDT_SCORE_COUNTER_H_
