// File: crdt/tombstone.h
//
// Deletes that beat only the writes they have seen.
//
// A VersionVector records, per node, the greatest Lamport counter a node has
// seen from it. A Tombstone is a delete: its `seen` vector is what the
// deleting node had seen when it deleted, and it kills exactly the writes it
// covers. A write it does not cover (made concurrently, somewhere the delete
// had not heard of) survives it.
//
// A key's state is the greatest-stamped write ever made to it plus the
// merged tombstones; the key exists iff that write is not covered. Replicas
// that have seen the same writes and deletes agree, whatever the order,
// because both halves are joins (max of stamps, pointwise max of vectors).
// `max_dead` remembers the greatest write a tombstone killed, so a smaller
// write arriving late cannot take its place. See docs/consistency.md.
//
// Thread-safety: value types; callers synchronize.
#ifndef LATTICE_CRDT_TOMBSTONE_H_
#define LATTICE_CRDT_TOMBSTONE_H_

#include <algorithm>
#include <cstdint>

#include "absl/container/inlined_vector.h"
#include "crdt/stamp.h"

namespace lattice::crdt {

class VersionVector {
 public:
  struct Entry {
    NodeId node = 0;
    uint64_t counter = 0;
    friend bool operator==(const Entry&, const Entry&) = default;
  };

  uint64_t Get(NodeId node) const {
    for (const Entry& e : entries_) {
      if (e.node == node) return e.counter;
    }
    return 0;
  }
  // Raises the entry of `node` to at least `counter`.
  void Observe(NodeId node, uint64_t counter) {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), node,
                               [](const Entry& e, NodeId n) { return e.node < n; });
    if (it != entries_.end() && it->node == node) {
      it->counter = std::max(it->counter, counter);
    } else {
      entries_.insert(it, Entry{node, counter});
    }
  }
  void Merge(const VersionVector& other) {
    for (const Entry& e : other.entries_) Observe(e.node, e.counter);
  }
  // True if the write stamped `s` is among those this vector has seen.
  bool Covers(const Stamp& s) const { return Get(s.node) >= s.counter && Has(s.node); }
  bool Has(NodeId node) const {
    for (const Entry& e : entries_) {
      if (e.node == node) return true;
    }
    return false;
  }
  const absl::InlinedVector<Entry, 4>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  friend bool operator==(const VersionVector&, const VersionVector&) = default;

 private:
  absl::InlinedVector<Entry, 4> entries_;  // sorted by node
};

struct Tombstone {
  Stamp stamp{};     // greatest delete merged in
  Stamp max_dead{};  // greatest write known to be killed
  VersionVector seen;
  // Single writes the deleting node saw outside the order of their origin's
  // stream (a counter base that came with a third node's increment): covered
  // one by one, without claiming the origin's earlier writes. Sorted.
  absl::InlinedVector<Stamp, 1> dots;
  // The newest write of a collection that is gone (emptied or deleted), and
  // its type: a write of another type stamped below it loses, as it would
  // have against the collection (docs/consistency.md, "A key whose type
  // changes"). Zero for strings.
  Stamp outranks{};
  uint8_t outranks_type = 0;

  // The zero stamp (a counter never assigned) is killed by any delete.
  bool Covers(const Stamp& s) const {
    return s.IsZero() || seen.Covers(s) || std::binary_search(dots.begin(), dots.end(), s) ||
           (s.sub != 0 && std::binary_search(dots.begin(), dots.end(), s.Write()));
  }
  void AddDot(const Stamp& s) {
    auto it = std::lower_bound(dots.begin(), dots.end(), s);
    if (it == dots.end() || *it != s) dots.insert(it, s);
  }
  void Merge(const Tombstone& other) {
    stamp = std::max(stamp, other.stamp);
    max_dead = std::max(max_dead, other.max_dead);
    seen.Merge(other.seen);
    for (const Stamp& d : other.dots) AddDot(d);
    if (outranks < other.outranks) {
      outranks = other.outranks;
      outranks_type = other.outranks_type;
    }
    // Dots the vector now covers say nothing more.
    dots.erase(std::remove_if(dots.begin(), dots.end(), [&](const Stamp& d) { return seen.Covers(d); }),
               dots.end());
  }
  friend bool operator==(const Tombstone&, const Tombstone&) = default;
};

}  // namespace lattice::crdt

#endif  // LATTICE_CRDT_TOMBSTONE_H_
