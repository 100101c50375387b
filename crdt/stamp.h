// File: crdt/stamp.h
//
// Lamport timestamps and the node clock that issues them. A Stamp orders
// writes totally: by counter, then by node id, so two replicas that have seen
// the same writes agree on the winner whatever the arrival order.
//
// Thread-safety: Stamp is a value type. LamportClock is safe for concurrent
// use (one per node, shared by every shard thread).
#ifndef LATTICE_CRDT_STAMP_H_
#define LATTICE_CRDT_STAMP_H_

#include <atomic>
#include <compare>
#include <cstdint>

namespace lattice::crdt {

using NodeId = uint32_t;

// `sub` tells apart the elements one collection write puts: the write is
// (counter, node) and its k-th element version is (counter, node, k), k
// from 1 (0 is the write itself). Naming one element's version as replaced
// then leaves the write's other elements alone (docs/consistency.md,
// "Element dots"). Every other comparison sees the write's (counter, node)
// first, so all elements of a write fall on one side of any other stamp.
// The field sits in what was padding: a Stamp is still 16 bytes.
struct Stamp {
  uint64_t counter = 0;
  NodeId node = 0;
  uint32_t sub = 0;

  friend auto operator<=>(const Stamp&, const Stamp&) = default;
  bool IsZero() const { return counter == 0 && node == 0; }
  // The write this dot belongs to (itself for a write's own stamp).
  Stamp Write() const { return Stamp{counter, node}; }
};
static_assert(sizeof(Stamp) == 16);

// A node's Lamport clock. Tick() issues a stamp greater than every stamp the
// node has issued or observed; Observe() folds in a remote stamp so that a
// write made after seeing a remote write is ordered after it.
class LamportClock {
 public:
  explicit LamportClock(NodeId node, uint64_t start = 0) : node_(node), counter_(start) {}

  NodeId node() const { return node_; }

  // Sequentially consistent (free on x86: a locked add either way) so that
  // Server::StableClock() can bound the ticks still in flight.
  Stamp Tick() { return Stamp{counter_.fetch_add(1) + 1, node_}; }

  void Observe(const Stamp& remote) {
    uint64_t seen = counter_.load(std::memory_order_relaxed);
    while (seen < remote.counter &&
           !counter_.compare_exchange_weak(seen, remote.counter, std::memory_order_relaxed)) {
    }
  }

  uint64_t Now() const { return counter_.load(); }

 private:
  const NodeId node_;
  std::atomic<uint64_t> counter_{0};
};

}  // namespace lattice::crdt

#endif  // LATTICE_CRDT_STAMP_H_
