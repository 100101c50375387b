// File: node/stamp_proto.h
//
// A crdt::Stamp on the wire (proto Stamp), in one place so that every
// delta, state and tombstone carries an element dot's `sub` alike.
//
// Thread-safety: pure functions.
#ifndef LATTICE_NODE_STAMP_PROTO_H_
#define LATTICE_NODE_STAMP_PROTO_H_

#include "absl/container/inlined_vector.h"
#include "crdt/stamp.h"
#include "proto/peer.pb.h"

namespace lattice::node {

inline crdt::Stamp FromProto(const peer::Stamp& s) {
  return crdt::Stamp{s.counter(), s.node_id(), s.sub()};
}

inline void ToProto(const crdt::Stamp& s, peer::Stamp* out) {
  out->set_counter(s.counter);
  out->set_node_id(s.node);
  if (s.sub != 0) out->set_sub(s.sub);
}

// The dot of the element version that PUT `op` of write `write` makes.
inline crdt::Stamp OpDot(crdt::Stamp write, const peer::ElementOp& op) {
  write.sub = op.sub();
  return write;
}

// The dots a delta names as replaced (crdt::OrMap<V>::Dots).
inline absl::InlinedVector<crdt::Stamp, 1> DotsFromProto(
    const google::protobuf::RepeatedPtrField<peer::Stamp>& r) {
  absl::InlinedVector<crdt::Stamp, 1> d;
  for (const peer::Stamp& s : r) d.push_back(FromProto(s));
  return d;
}

}  // namespace lattice::node

#endif  // LATTICE_NODE_STAMP_PROTO_H_
