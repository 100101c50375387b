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

// Serves anti-entropy requests from the node's data.
class RepairHandler {
 public:
  virtual ~RepairHandler() = default;
  virtual grpc::Status Roots(const peer::RootsRequest& req, peer::RootsReply* reply) = 0;
  virtual grpc::Status Tree(const peer::TreeRequest& req, peer::TreeReply* reply) = 0;
  virtual grpc::Status LeafKeys(const peer::LeafKeysRequest& req, peer::LeafKeysReply* reply) = 0;
  virtual grpc::Status FetchKeys(const peer::KeysRequest& req, peer::DeltaBatch* reply) = 0;
  virtual grpc::Status PushKeys(const peer::DeltaBatch& req, peer::Ack* reply) = 0;
};

// Runs forwarded client commands.
class CommandHandler {
 public:
  virtual ~CommandHandler() = default;
  virtual grpc::Status Forward(const peer::ForwardRequest& req, peer::ForwardReply* reply) = 0;
};

// Delivers messages published on other nodes.
class PublishHandler {
 public:
  virtual ~PublishHandler() = default;
  virtual grpc::Status Publish(const peer::PublishBatch& req, peer::Ack* reply) = 0;
};

// Serves this node's function libraries.
class FunctionsHandler {
 public:
  virtual ~FunctionsHandler() = default;
  virtual grpc::Status Functions(const peer::FunctionsRequest& req, peer::FunctionsState* reply) = 0;
};

class PeerService final : public peer::Peer::Service {
 public:
  PeerService(Membership* membership, StreamHandler* streams, RepairHandler* repair = nullptr,
              CommandHandler* commands = nullptr, PublishHandler* publish = nullptr,
              FunctionsHandler* functions = nullptr)
      : membership_(membership),
        streams_(streams),
        repair_(repair),
        commands_(commands),
        publish_(publish),
        functions_(functions) {}

  grpc::Status Ping(grpc::ServerContext* context, const peer::PingRequest* request,
                    peer::PingReply* reply) override;
  grpc::Status Probe(grpc::ServerContext* context, const peer::ProbeRequest* request,
                     peer::ProbeReply* reply) override;
  grpc::Status Replicate(grpc::ServerContext* context,
                         grpc::ServerReaderWriter<peer::Ack, peer::DeltaBatch>* stream) override;
  grpc::Status Roots(grpc::ServerContext*, const peer::RootsRequest* req,
                     peer::RootsReply* reply) override;
  grpc::Status Tree(grpc::ServerContext*, const peer::TreeRequest* req,
                    peer::TreeReply* reply) override;
  grpc::Status LeafKeys(grpc::ServerContext*, const peer::LeafKeysRequest* req,
                        peer::LeafKeysReply* reply) override;
  grpc::Status FetchKeys(grpc::ServerContext*, const peer::KeysRequest* req,
                         peer::DeltaBatch* reply) override;
  grpc::Status PushKeys(grpc::ServerContext*, const peer::DeltaBatch* req,
                        peer::Ack* reply) override;
  grpc::Status Forward(grpc::ServerContext*, const peer::ForwardRequest* req,
                       peer::ForwardReply* reply) override;
  grpc::Status Publish(grpc::ServerContext*, const peer::PublishBatch* req,
                       peer::Ack* reply) override;
  grpc::Status Functions(grpc::ServerContext*, const peer::FunctionsRequest* req,
                         peer::FunctionsState* reply) override;

 private:
  Membership* membership_;
  StreamHandler* streams_;
  RepairHandler* repair_;
  CommandHandler* commands_;
  PublishHandler* publish_;
  FunctionsHandler* functions_;
};

// Starts a gRPC server for `service` on `address` ("127.0.0.1:16379"), with
// message size limits and keepalive settings fit for peers. Returns the
// server, or Unavailable naming the address.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartPeerServer(const std::string& address,
                                                              grpc::Service* service);

}  // namespace lattice::gossip

#endif  // LATTICE_GOSSIP_PEER_SERVICE_H_
