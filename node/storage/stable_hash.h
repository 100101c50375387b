// File: node/storage/stable_hash.h
//
// A 64-bit hash that is the same in every process, build and node: the
// keyspace's table index and the Merkle tree's leaf of a key both come from
// it, so two replicas put a key in the same leaf and a leaf's keys sit in
// predictable buckets (see Db::ForEachInLeaf).
//
// Not keyed: a client that can choose many keys with colliding hashes can
// lengthen chains in one table (the price of stable leaves; Redis keys its
// dict hash per process). Chains stay short for ordinary keys.
#ifndef LATTICE_NODE_STORAGE_STABLE_HASH_H_
#define LATTICE_NODE_STORAGE_STABLE_HASH_H_

#include <cstdint>
#include <cstring>
#include <string_view>

#include "crdt/stamp.h"

namespace lattice::node {

inline uint64_t Mix64(uint64_t x) {
  // splitmix64's finalizer.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// A dot's share of a Merkle digest.
inline uint64_t StampDigest(const crdt::Stamp& s) {
  return Mix64(s.counter * 0x9E3779B97F4A7C15ULL ^ (uint64_t(s.node) << 1) ^
               (uint64_t(s.sub) << 33) ^ 0x5bd1e995);
}

inline uint64_t StableHash64(std::string_view s) {
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ (s.size() * 0xff51afd7ed558ccdULL);
  const char* p = s.data();
  size_t n = s.size();
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    h = (h ^ Mix64(v)) * 0x9E3779B97F4A7C15ULL;
    h = (h << 29) | (h >> 35);
    p += 8;
    n -= 8;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p, n);
  h ^= Mix64(tail ^ (uint64_t(n) << 56));
  return Mix64(h);
}

}  // namespace lattice::node

#endif  // LATTICE_NODE_STORAGE_STABLE_HASH_H_
