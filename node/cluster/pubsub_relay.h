// File: node/cluster/pubsub_relay.h
//
// Carries messages published on this node to every other live member, and
// delivers the ones other members publish to this node's subscribers
// (node/pubsub.h). One thread sends, in publish order, one batch per
// member per round, so a subscriber anywhere receives one publisher's
// messages in the order they were published. Delivery is at most once: a
// member that is down or unreachable when a batch goes out misses it (as a
// Redis Cluster node that is down misses a PUBLISH); nothing is retried,
// so nothing is delivered twice (docs/consistency.md, "Pub/sub").
//
// Thread-safety: Send() from any thread; Publish() on gRPC threads.
#ifndef LATTICE_NODE_CLUSTER_PUBSUB_RELAY_H_
#define LATTICE_NODE_CLUSTER_PUBSUB_RELAY_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "gossip/membership.h"
#include "gossip/peer_service.h"

namespace lattice::node {

class Server;

class PubSubRelay : public gossip::PublishHandler {
 public:
  PubSubRelay(Server* server, gossip::Membership* membership);
  ~PubSubRelay() override;
  void Start();
  void Stop();

  // Queues a message published here for the other members.
  void Send(std::string_view channel, std::string_view message, bool shard);

  // A batch from another member: delivered here, in order.
  grpc::Status Publish(const peer::PublishBatch& req, peer::Ack* reply) override;

  uint64_t sent() const { return sent_.load(); }
  uint64_t received() const { return received_.load(); }
  uint64_t dropped() const { return dropped_.load(); }

 private:
  void Loop();

  Server* server_;
  gossip::Membership* membership_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<peer::PublishedMessage> queue_;
  size_t queued_bytes_ = 0;
  bool stop_ = false;
  std::thread thread_;
  std::atomic<uint64_t> sent_{0}, received_{0}, dropped_{0};
};

}  // namespace lattice::node

#endif  // LATTICE_NODE_CLUSTER_PUBSUB_RELAY_H_
