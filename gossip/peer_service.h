// File: gossip/peer_service.h
//
// The gRPC side of a node: the Peer service other nodes call. Membership
// RPCs go to Membership; the delta stream goes to whatever implements
// StreamHandler (the node's replicator). The service itself holds no state.
//
// Thread-safety: called on gRPC's threads; handlers synchronize themselves.
#ifndef LATTICE_GOSSIP_PEER_SERVICE_H_
#define LATTICE_GOSSIP_PEER_SERVICE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "gossip/membership.h"
#include "grpcpp/server.h"
#include "proto/peer.grpc.pb.h"

namespace lattice::gossip {

class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  // Serves one incoming delta stream until it ends.
  virtual grpc::Status Replicate(grpc::ServerContext* context,
                                 grpc::ServerReaderWriter<peer::Ack, peer::DeltaBatch>* stream) = 0;
};

class PeerService final : public peer::Peer::Service {
 public:
  PeerService(Membership* membership, StreamHandler* streams)
      : membership_(membership), streams_(streams) {}

  grpc::Status Ping(grpc::ServerContext* context, const peer::PingRequest* request,
                    peer::PingReply* reply) override;
  grpc::Status Probe(grpc::ServerContext* context, const peer::ProbeRequest* request,
                     peer::ProbeReply* reply) override;
  grpc::Status Replicate(grpc::ServerContext* context,
                         grpc::ServerReaderWriter<peer::Ack, peer::DeltaBatch>* stream) override;

 private:
  Membership* membership_;
  StreamHandler* streams_;
};

// Starts a gRPC server for `service` on `address` ("127.0.0.1:16379"), with
// message size limits and keepalive settings fit for peers. Returns the
// server, or Unavailable naming the address.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartPeerServer(const std::string& address,
                                                              grpc::Service* service);

}  // namespace lattice::gossip

#endif  // LATTICE_GOSSIP_PEER_SERVICE_H_
