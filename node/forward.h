// File: node/forward.h
//
// Runs client commands that another node forwarded (gRPC Forward): the
// placement layer sends a command for keys this node replicates and relays
// the reply bytes to its client unchanged. The command runs exactly as a
// client's would: on the owning shard's thread (a posted task) or, when its
// keys span shards, in the exclusive section. Commands that belong to a
// connection (SELECT, CLIENT, HELLO, WAIT, ...) are refused: they must run
// where the client is.
//
// Thread-safety: Forward() is called on gRPC threads.
#ifndef LATTICE_NODE_FORWARD_H_
#define LATTICE_NODE_FORWARD_H_

#include <string>

#include "gossip/peer_service.h"

namespace lattice::node {

class Server;

class Forwarder final : public gossip::CommandHandler {
 public:
  explicit Forwarder(Server* server) : server_(server) {}
  grpc::Status Forward(const peer::ForwardRequest& req, peer::ForwardReply* reply) override;

 private:
  Server* server_;
};

}  // namespace lattice::node

#endif  // LATTICE_NODE_FORWARD_H_
