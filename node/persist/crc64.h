// File: node/persist/crc64.h
//
// CRC-64 as Redis computes it (CRC-64/REDIS: Jones polynomial
// 0xad93d23594c935a9, reflected in and out, initial value 0, no final
// xor; "123456789" gives 0xe9c6d914c4b8d9ca). It checks Lattice's
// snapshots, and is the checksum of Redis's DUMP payloads and dump.rdb
// files.
//
// Thread-safety: pure function (its table is built once, thread-safely).
#ifndef LATTICE_NODE_PERSIST_CRC64_H_
#define LATTICE_NODE_PERSIST_CRC64_H_

#include <cstddef>
#include <cstdint>

namespace lattice::node {

// Continues `crc` over n bytes (start with 0).
uint64_t Crc64(uint64_t crc, const void* data, size_t n);

}  // namespace lattice::node

#endif  // LATTICE_NODE_PERSIST_CRC64_H_
