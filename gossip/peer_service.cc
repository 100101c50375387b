#include "gossip/peer_service.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"

namespace lattice::gossip {

grpc::Status PeerService::Ping(grpc::ServerContext* context, const peer::PingRequest* request,
                               peer::PingReply* reply) {
  membership_->HandlePing(*request, reply);
  return grpc::Status::OK;
}

grpc::Status PeerService::Probe(grpc::ServerContext* context, const peer::ProbeRequest* request,
                                peer::ProbeReply* reply) {
  membership_->HandleProbe(*request, reply);
  return grpc::Status::OK;
}

grpc::Status PeerService::Replicate(
    grpc::ServerContext* context, grpc::ServerReaderWriter<peer::Ack, peer::DeltaBatch>* stream) {
  if (!streams_) return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "replication is off");
  return streams_->Replicate(context, stream);
}

namespace {
grpc::Status NoRepair() { return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no repair"); }
}  // namespace

grpc::Status PeerService::Roots(grpc::ServerContext*, const peer::RootsRequest* req,
                                peer::RootsReply* reply) {
  return repair_ ? repair_->Roots(*req, reply) : NoRepair();
}
grpc::Status PeerService::Tree(grpc::ServerContext*, const peer::TreeRequest* req,
                               peer::TreeReply* reply) {
  return repair_ ? repair_->Tree(*req, reply) : NoRepair();
}
grpc::Status PeerService::LeafKeys(grpc::ServerContext*, const peer::LeafKeysRequest* req,
                                   peer::LeafKeysReply* reply) {
  return repair_ ? repair_->LeafKeys(*req, reply) : NoRepair();
}
grpc::Status PeerService::FetchKeys(grpc::ServerContext*, const peer::KeysRequest* req,
                                    peer::DeltaBatch* reply) {
  return repair_ ? repair_->FetchKeys(*req, reply) : NoRepair();
}
grpc::Status PeerService::PushKeys(grpc::ServerContext*, const peer::DeltaBatch* req,
                                   peer::Ack* reply) {
  return repair_ ? repair_->PushKeys(*req, reply) : NoRepair();
}

grpc::Status PeerService::Forward(grpc::ServerContext*, const peer::ForwardRequest* req,
                                  peer::ForwardReply* reply) {
  if (!commands_) return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no commands");
  return commands_->Forward(*req, reply);
}

grpc::Status PeerService::Publish(grpc::ServerContext*, const peer::PublishBatch* req,
                                  peer::Ack* reply) {
  if (!publish_) return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no pub/sub");
  return publish_->Publish(*req, reply);
}

grpc::Status PeerService::Functions(grpc::ServerContext*, const peer::FunctionsRequest* req,
                                    peer::FunctionsState* reply) {
  if (!functions_) return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no functions");
  return functions_->Functions(*req, reply);
}

absl::StatusOr<std::unique_ptr<grpc::Server>> StartPeerServer(const std::string& address,
                                                              grpc::Service* service) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(service);
  builder.SetMaxReceiveMessageSize(64 << 20);
  // Peers send keepalive pings on idle streams so a cut link is noticed in
  // seconds; allow them.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 1000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  // Keep pinging streams that carry no data (see gossip/dial.cc).
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 2000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 2000);
  // Few peers, long-lived streams: one completion queue keeps thread
  // handoffs down. Up to 16 idle polling threads stay: forwarded commands
  // arrive as many concurrent short calls, each holding its thread while
  // the command runs, and with fewer idle pollers gRPC created and
  // destroyed a thread per call (half the CPU of a forwarded GET).
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::NUM_CQS, 1);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 1);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 16);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for peers on ", address));
  }
  return server;
}

}  // namespace lattice::gossip
