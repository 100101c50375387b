#include "node/memory.h"

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>

namespace lattice::node::mem {

namespace {

constexpr int kSlots = 256;

struct alignas(64) Slot {
  std::atomic<int64_t> bytes{0};
};

Slot g_slots[kSlots];
Slot g_shared;  // threads past kSlots share this one (atomic adds)
std::atomic<int> g_next{0};
thread_local Slot* tl_slot = nullptr;

inline void Account(int64_t delta) {
  Slot* s = tl_slot;
  if (__builtin_expect(s == nullptr, 0)) {
    int i = g_next.fetch_add(1, std::memory_order_relaxed);
    s = i < kSlots ? &g_slots[i] : &g_shared;
    tl_slot = s;
  }
  if (s == &g_shared) {
    s->bytes.fetch_add(delta, std::memory_order_relaxed);
  } else {
    // Only this thread writes its slot: no read-modify-write needed.
    s->bytes.store(s->bytes.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  }
}

inline void* Counted(void* p) {
  if (p) Account(static_cast<int64_t>(malloc_usable_size(p)));
  return p;
}

inline void Uncount(void* p) {
  if (p) Account(-static_cast<int64_t>(malloc_usable_size(p)));
}

void* NewOrThrow(size_t n) {
  void* p = std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  return Counted(p);
}

void* NewAligned(size_t n, std::align_val_t al) {
  size_t a = static_cast<size_t>(al);
  if (a < sizeof(void*)) a = sizeof(void*);
  void* p = nullptr;
  if (posix_memalign(&p, a, n ? n : 1) != 0) return nullptr;
  return Counted(p);
}

}  // namespace

int64_t UsedBytes() {
  int n = g_next.load(std::memory_order_relaxed);
  if (n > kSlots) n = kSlots;
  int64_t total = g_shared.bytes.load(std::memory_order_relaxed);
  for (int i = 0; i < n; i++) total += g_slots[i].bytes.load(std::memory_order_relaxed);
  return total;
}

void* Malloc(size_t n) { return Counted(std::malloc(n)); }

void* Realloc(void* p, size_t n) {
  int64_t old = p ? static_cast<int64_t>(malloc_usable_size(p)) : 0;
  void* q = std::realloc(p, n);
  if (q) Account(static_cast<int64_t>(malloc_usable_size(q)) - old);
  return q;
}

void Free(void* p) {
  Uncount(p);
  std::free(p);
}

}  // namespace lattice::node::mem

// The replaced global allocation functions (all of them, so that every
// new is matched by a counted delete).
using lattice::node::mem::Free;

void* operator new(size_t n) { return lattice::node::mem::NewOrThrow(n); }
void* operator new[](size_t n) { return lattice::node::mem::NewOrThrow(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  return lattice::node::mem::Malloc(n ? n : 1);
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  return lattice::node::mem::Malloc(n ? n : 1);
}
void* operator new(size_t n, std::align_val_t al) {
  void* p = lattice::node::mem::NewAligned(n, al);
  if (!p) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t n, std::align_val_t al) {
  void* p = lattice::node::mem::NewAligned(n, al);
  if (!p) throw std::bad_alloc();
  return p;
}
void* operator new(size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
  return lattice::node::mem::NewAligned(n, al);
}
void* operator new[](size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
  return lattice::node::mem::NewAligned(n, al);
}
void operator delete(void* p) noexcept { Free(p); }
void operator delete[](void* p) noexcept { Free(p); }
void operator delete(void* p, size_t) noexcept { Free(p); }
void operator delete[](void* p, size_t) noexcept { Free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { Free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { Free(p); }
void operator delete(void* p, std::align_val_t) noexcept { Free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { Free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { Free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { Free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { Free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { Free(p); }
