// File: node/memory.h
//
// Memory accounting for maxmemory and INFO used_memory: every C++ heap
// allocation (operator new and delete are replaced in memory.cc) and every
// keyspace entry (allocated through Malloc/Realloc/Free below) is counted
// at its usable size. What is not counted: the Lua heap (INFO reports it
// as used_memory_lua, as Redis does) and the C parts of gRPC.
//
// The count is kept per thread (a slot each; only its thread writes it)
// and summed on read, so counting costs an allocation a few instructions
// and no shared cache line.
//
// Thread-safety: everything here is safe from any thread.
#ifndef LATTICE_NODE_MEMORY_H_
#define LATTICE_NODE_MEMORY_H_

#include <cstddef>
#include <cstdint>

namespace lattice::node::mem {

// Bytes allocated and not yet freed, over all threads.
int64_t UsedBytes();

void* Malloc(size_t n);
void* Realloc(void* p, size_t n);
void Free(void* p);

}  // namespace lattice::node::mem

#endif  // LATTICE_NODE_MEMORY_H_
