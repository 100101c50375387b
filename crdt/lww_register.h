// File: crdt/lww_register.h
//
// Last-writer-wins register: the value written with the greatest Stamp wins.
// Merge is commutative, associative and idempotent because Stamp is a total
// order and equal stamps imply the same write (a node never reuses a stamp).
//
// Thread-safety: value type; callers synchronize.
#ifndef LATTICE_CRDT_LWW_REGISTER_H_
#define LATTICE_CRDT_LWW_REGISTER_H_

#include <utility>

#include "crdt/stamp.h"

namespace lattice::crdt {

template <typename T>
class LwwRegister {
 public:
  LwwRegister() = default;
  LwwRegister(T value, Stamp stamp) : value_(std::move(value)), stamp_(stamp) {}

  const T& value() const { return value_; }
  const Stamp& stamp() const { return stamp_; }

  // Local write: returns the delta to ship, which is the whole new state.
  // REQUIRES: stamp comes from the local clock, so it beats the current one.
  LwwRegister Assign(T value, Stamp stamp) {
    value_ = std::move(value);
    stamp_ = stamp;
    return *this;
  }

  // Keeps the state with the greater stamp. Returns true if `other` won.
  bool Merge(const LwwRegister& other) {
    if (other.stamp_ <= stamp_) return false;
    value_ = other.value_;
    stamp_ = other.stamp_;
    return true;
  }

  friend bool operator==(const LwwRegister&, const LwwRegister&) = default;

 private:
  T value_{};
  Stamp stamp_{};
};

}  // namespace lattice::crdt

#endif  // LATTICE_CRDT_LWW_REGISTER_H_
