// File: node/storage/lazyfree.h
//
// Freeing big values away from the workers, as Redis's lazyfree thread:
// UNLINK of a collection with more than 64 elements and FLUSHALL/FLUSHDB
// ASYNC (or the lazyfree-lazy-* directives) detach the value from the
// keyspace at once and hand its destruction to one background thread, so
// the command costs O(1) for the client whatever the value's size. Values
// handed over are no longer reachable from any key, so nothing else touches
// them. INFO memory reports lazyfree_pending_objects and lazyfreed_objects.
//
// Thread-safety: every function from any thread.
#ifndef LATTICE_NODE_STORAGE_LAZYFREE_H_
#define LATTICE_NODE_STORAGE_LAZYFREE_H_

#include <cstdint>
#include <functional>

namespace lattice::node::lazyfree {

// Values with more elements than this are freed in the background.
inline constexpr size_t kThreshold = 64;

// Runs `job` (which frees `objects` values) on the background thread,
// started on first use.
void Submit(std::function<void()> job, uint64_t objects);
uint64_t Pending();
uint64_t Freed();

}  // namespace lattice::node::lazyfree

#endif  // LATTICE_NODE_STORAGE_LAZYFREE_H_
