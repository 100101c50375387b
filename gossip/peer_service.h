// File: gossip/peer_service.h
//
// The gRPC side of a node: the Peer service other nodes call. This first
// version answers membership pings; delta replication streams come with
// multi-node replication. Handlers stay thin and never touch shard data.
//
// Thread-safety: PeerService is called by gRPC's threads; its state is
// immutable after construction.
#ifndef LATTICE_GOSSIP_PEER_SERVICE_H_
#define LATTICE_GOSSIP_PEER_SERVICE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/server.h"
#include "proto/peer.grpc.pb.h"

namespace lattice::gossip {

class PeerService final : public peer::Peer::CallbackService {
 public:
  PeerService(uint32_t node_id, uint64_t incarnation)
      : node_id_(node_id), incarnation_(incarnation) {}

  grpc::ServerUnaryReactor* Ping(grpc::CallbackServerContext* context,
                                 const peer::PingRequest* request, peer::PingReply* reply) override;

 private:
  const uint32_t node_id_;
  const uint64_t incarnation_;
};

// Starts a gRPC server for `service` on `address` ("127.0.0.1:16379").
// Returns the server, or Unavailable naming the address.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartPeerServer(const std::string& address,
                                                              PeerService* service);

// Pings the node at `address` once with a deadline. Returns its node id.
absl::StatusOr<uint32_t> PingPeer(const std::string& address, uint32_t self, int timeout_ms);

}  // namespace lattice::gossip

#endif  // LATTICE_GOSSIP_PEER_SERVICE_H_
