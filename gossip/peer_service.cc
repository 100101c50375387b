#include "gossip/peer_service.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"

namespace lattice::gossip {

grpc::ServerUnaryReactor* PeerService::Ping(grpc::CallbackServerContext* context,
                                            const peer::PingRequest* request,
                                            peer::PingReply* reply) {
  reply->set_node_id(node_id_);
  reply->set_incarnation(incarnation_);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

absl::StatusOr<std::unique_ptr<grpc::Server>> StartPeerServer(const std::string& address,
                                                              PeerService* service) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for peers on ", address));
  }
  return server;
}

absl::StatusOr<uint32_t> PingPeer(const std::string& address, uint32_t self, int timeout_ms) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto stub = peer::Peer::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  peer::PingRequest req;
  req.set_node_id(self);
  peer::PingReply reply;
  grpc::Status st = stub->Ping(&ctx, req, &reply);
  if (!st.ok()) {
    return absl::UnavailableError(absl::StrCat("ping ", address, ": ", st.error_message()));
  }
  return reply.node_id();
}

}  // namespace lattice::gossip
