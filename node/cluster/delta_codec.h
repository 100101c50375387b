// File: node/cluster/delta_codec.h
//
// Hand-rolled protobuf encoding of the sender's side of the delta stream.
// A delta is encoded once, on the shard thread that made it, straight from
// the write path's `Delta` view (no protobuf objects, one allocation), and
// batches for every peer are the concatenation of those bytes. Receivers
// parse with the generated `peer::DeltaBatch` classes: the bytes are exactly
// proto/peer.proto's wire format, which tests/node/cluster/delta_codec_test.cc
// checks field by field against the generated parser.
//
// `RawBatch` carries pre-encoded bytes through gRPC's sync streaming API
// (SerializationTraits below), so a batch is copied once into a slice.
//
// Thread-safety: free functions on caller-owned buffers.
#ifndef LATTICE_NODE_CLUSTER_DELTA_CODEC_H_
#define LATTICE_NODE_CLUSTER_DELTA_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/impl/serialization_traits.h"
#include "grpcpp/support/slice.h"
#include "grpcpp/support/status.h"
#include "node/write_path.h"

namespace lattice::node {

// Appends the peer.Delta encoding of `d` (a kAssign, kCounterAdd or
// kDelete view) to `out`.
void EncodeDelta(const Delta& d, std::string* out);

// A DeltaBatch being built.
struct RawBatch {
  std::string bytes;
  size_t deltas = 0;

  void Clear() {
    bytes.clear();
    deltas = 0;
  }
  void SetHello(uint32_t origin);
  void SetFirstSeq(uint64_t seq);
  // Appends one encoded peer.Delta.
  void AddDelta(std::string_view encoded);
  void AddDep(uint32_t node, uint64_t counter);
  // Sets a bool field (snapshot = 5, snapshot_done = 6).
  void SetFlag(uint32_t field);
  // A heartbeat's clock (field 7).
  void SetClock(uint64_t clock);
  // The last log sequence a filtered batch covers (field 8).
  void SetLastSeq(uint64_t seq);
};

}  // namespace lattice::node

namespace grpc {

template <>
class SerializationTraits<lattice::node::RawBatch> {
 public:
  static Status Serialize(const lattice::node::RawBatch& msg, ByteBuffer* bb, bool* own_buffer) {
    Slice slice(msg.bytes.data(), msg.bytes.size());
    *bb = ByteBuffer(&slice, 1);
    *own_buffer = true;
    return Status::OK;
  }
  static Status Deserialize(ByteBuffer*, lattice::node::RawBatch*) {
    return Status(StatusCode::UNIMPLEMENTED, "RawBatch is write-only");
  }
};

}  // namespace grpc

#endif  // LATTICE_NODE_CLUSTER_DELTA_CODEC_H_
