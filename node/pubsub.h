// File: node/pubsub.h
//
// Publish/subscribe on one node: who is subscribed to which channel,
// pattern and shard channel, and the delivery of a message to them. A
// subscription names its connection by (worker, connection id); delivery
// to a connection of another worker travels as a task to that worker,
// which encodes the message in the connection's protocol (RESP2 array or
// RESP3 push) and drops a subscriber whose output passes
// client-output-buffer-limit pubsub. Messages published on other nodes
// arrive through the relay (node/cluster/pubsub_relay.h) and are delivered
// here the same way, once.
//
// Thread-safety: every method may be called from any thread (one mutex).
#ifndef LATTICE_NODE_PUBSUB_H_
#define LATTICE_NODE_PUBSUB_H_

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace lattice::node {

class Worker;

class PubSub {
 public:
  enum Kind { kChannel = 0, kPattern = 1, kShard = 2 };

  // Adds / removes one subscription of connection `conn_id` of worker `w`.
  void Subscribe(Kind kind, std::string_view name, Worker* w, uint64_t conn_id);
  void Unsubscribe(Kind kind, std::string_view name, Worker* w, uint64_t conn_id);

  // Delivers `message` on `channel` to this node's subscribers: channel
  // subscribers and matching patterns (or shard-channel subscribers when
  // `shard`). Returns how many deliveries were made (a client subscribed
  // by channel and by a pattern counts twice, as in Redis). The connection
  // `self_conn` of the calling worker, when it is a receiver, gets the
  // message appended without a flush (its reply follows).
  int64_t Publish(std::string_view channel, std::string_view message, bool shard,
                  uint64_t self_conn = 0);

  // PUBSUB CHANNELS / SHARDCHANNELS: names with subscribers matching
  // `pattern` (empty: all).
  std::vector<std::string> Names(Kind kind, std::string_view pattern) const;
  int64_t Count(Kind kind, std::string_view name) const;
  int64_t patterns() const;
  // Messages published here and received from peers (INFO).
  uint64_t published() const;

 private:
  struct Sub {
    Worker* worker;
    uint64_t conn_id;
    bool operator==(const Sub& o) const { return worker == o.worker && conn_id == o.conn_id; }
  };
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, std::vector<Sub>> subs_[3];
  uint64_t published_ = 0;
};

}  // namespace lattice::node

#endif  // LATTICE_NODE_PUBSUB_H_
