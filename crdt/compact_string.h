// A byte string in 24 bytes: up to 22 bytes inline, longer ones in one
// heap block of exactly their size. Collection element names (hash fields,
// set and sorted-set members) are mostly short, and std::string's 32 bytes
// hold only 15 inline, so a million 16-22 byte members cost a heap block
// each; here they cost nothing beyond the 24 bytes.
#ifndef LATTICE_CRDT_COMPACT_STRING_H_
#define LATTICE_CRDT_COMPACT_STRING_H_

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace lattice::crdt {

class CompactString {
 public:
  static constexpr size_t kInline = 22;

  CompactString() { Clear(); }
  CompactString(std::string_view s) { Init(s); }  // NOLINT: implicit, as std::string
  CompactString(const char* s) { Init(s); }       // NOLINT
  CompactString(const std::string& s) { Init(s); }  // NOLINT
  CompactString(const CompactString& o) { Init(o.view()); }
  CompactString(CompactString&& o) noexcept {
    std::memcpy(bytes_, o.bytes_, sizeof bytes_);
    o.Clear();
  }
  CompactString& operator=(const CompactString& o) {
    if (this != &o) assign(o.view());
    return *this;
  }
  CompactString& operator=(CompactString&& o) noexcept {
    if (this != &o) {
      Free();
      std::memcpy(bytes_, o.bytes_, sizeof bytes_);
      o.Clear();
    }
    return *this;
  }
  CompactString& operator=(std::string_view s) {
    assign(s);
    return *this;
  }
  ~CompactString() { Free(); }

  void assign(std::string_view s) {
    if (s.data() >= data() && s.data() < data() + size()) {  // a part of itself
      std::string tmp(s);
      Free();
      Init(tmp);
      return;
    }
    Free();
    Init(s);
  }

  const char* data() const { return heap() ? HeapPtr() : bytes_; }
  size_t size() const { return heap() ? HeapSize() : static_cast<uint8_t>(bytes_[kTag]); }
  bool empty() const { return size() == 0; }
  std::string_view view() const { return {data(), size()}; }
  operator std::string_view() const { return view(); }  // NOLINT
  std::string str() const { return std::string(view()); }
  // Heap bytes beyond the object itself.
  size_t heap_bytes() const { return heap() ? HeapSize() : 0; }

  friend bool operator==(const CompactString& a, const CompactString& b) {
    return a.view() == b.view();
  }
  friend bool operator==(const CompactString& a, std::string_view b) { return a.view() == b; }
  friend bool operator<(const CompactString& a, const CompactString& b) {
    return a.view() < b.view();
  }

 private:
  static constexpr size_t kTag = 23;      // the last byte: length, or kHeap
  static constexpr uint8_t kHeap = 0x80;  // heap: pointer at 0, size at 8

  bool heap() const { return static_cast<uint8_t>(bytes_[kTag]) == kHeap; }
  char* HeapPtr() const {
    char* p;
    std::memcpy(&p, bytes_, sizeof p);
    return p;
  }
  size_t HeapSize() const {
    uint64_t n;
    std::memcpy(&n, bytes_ + 8, sizeof n);
    return static_cast<size_t>(n);
  }
  void Clear() {
    std::memset(bytes_, 0, sizeof bytes_);
  }
  void Init(std::string_view s) {
    Clear();
    if (s.size() <= kInline) {
      if (!s.empty()) std::memcpy(bytes_, s.data(), s.size());
      bytes_[kTag] = static_cast<char>(s.size());
      return;
    }
    // Through operator new, so the node's memory count sees it.
    char* p = static_cast<char*>(::operator new(s.size()));
    std::memcpy(p, s.data(), s.size());
    uint64_t n = s.size();
    std::memcpy(bytes_, &p, sizeof p);
    std::memcpy(bytes_ + 8, &n, sizeof n);
    bytes_[kTag] = static_cast<char>(kHeap);
  }
  void Free() {
    if (heap()) ::operator delete(HeapPtr());
  }

  alignas(8) char bytes_[24];
};

}  // namespace lattice::crdt

#endif  // LATTICE_CRDT_COMPACT_STRING_H_
