// File: node/cluster/anti_entropy.h
//
// Merkle-tree anti-entropy: repairs what the delta stream could not (a
// peer that missed deltas, writes made while the stream was off, expired
// state) at a cost that grows with the number of differing keys.
//
// Every database keeps 65536 leaf digests per shard, updated on every
// change (node/storage/keyspace.h); the node's leaf is the XOR of its shards'. Inner
// nodes have 16 children (levels 0..4). A round with a peer:
//
//   1. Roots: one digest per database (an idle round is this one call).
//   2. For each database whose roots differ, descend level by level asking
//      only for the children of differing nodes.
//   3. LeafKeys: the (key, digest) lists of the differing leaves; keys whose
//      digests differ, or that one side lacks, are the repair set.
//   4. FetchKeys: the peer's CRDT state (value, counter contributions,
//      tombstone) for those keys, merged here; PushKeys: ours, merged there.
//
// Both sides merge, never overwrite, so a round can run concurrently with
// the delta stream and with writes. Rounds run every
// `anti-entropy-interval` seconds with one peer (round robin), on demand
// with LATTICE REPAIR, and after a peer's stream fell behind the backlog.
//
// Thread-safety: the handlers run on gRPC threads and read shards through
// tasks posted to their workers; Repair() runs on the caller's thread (never
// a worker).
#ifndef LATTICE_NODE_CLUSTER_ANTI_ENTROPY_H_
#define LATTICE_NODE_CLUSTER_ANTI_ENTROPY_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gossip/peer_service.h"
#include "proto/peer.grpc.pb.h"

namespace lattice::node {

class Server;
class Shard;

struct RepairStats {
  bool ok = false;
  std::string error;
  uint64_t rpcs = 0;
  uint64_t bytes_sent = 0;      // request payloads
  uint64_t bytes_received = 0;  // reply payloads
  uint64_t dbs_differing = 0;
  uint64_t leaves_differing = 0;
  uint64_t keys_compared = 0;
  uint64_t keys_repaired = 0;   // keys whose state was exchanged
  int64_t micros = 0;
};

class AntiEntropy final : public gossip::RepairHandler {
 public:
  static constexpr int kFanout = 16;
  static constexpr int kLevels = 5;  // 0: root .. 4: leaves

  explicit AntiEntropy(Server* server);
  ~AntiEntropy() override;

  // Periodic rounds; interval from config().anti_entropy_interval.
  void Start();
  void Stop();

  // One round with the peer at `peer_addr`.
  RepairStats Repair(const std::string& peer_addr);
  // Asks for a round with `peer_addr` soon (from any thread).
  void RequestRepair(const std::string& peer_addr);
  // After a ring change: hands off what this node no longer holds, then
  // runs a round with every alive peer (new replicas receive their ranges).
  void RequestRebalance();
  // Pushes the keys this node holds but no longer replicates (its ring
  // ranges moved, or it is leaving) to their replicas, and drops each here
  // once a replica took it. `only`: just these keys (cooled hot keys).
  // Returns the number of keys handed off.
  uint64_t Handoff(const std::vector<std::string>* only = nullptr);
  // Runs a round on a thread of its own and calls done(stats) there.
  void RepairAsync(std::string peer_addr, std::function<void(RepairStats)> done);

  uint64_t rounds() const { return rounds_.load(); }
  uint64_t keys_repaired() const { return keys_repaired_.load(); }

  // gossip::RepairHandler
  grpc::Status Roots(const peer::RootsRequest& req, peer::RootsReply* reply) override;
  grpc::Status Tree(const peer::TreeRequest& req, peer::TreeReply* reply) override;
  grpc::Status LeafKeys(const peer::LeafKeysRequest& req, peer::LeafKeysReply* reply) override;
  grpc::Status FetchKeys(const peer::KeysRequest& req, peer::DeltaBatch* reply) override;
  grpc::Status PushKeys(const peer::DeltaBatch& req, peer::Ack* reply) override;

  // The whole tree of database `db` on this node, over the keys shared
  // with node `peer` (with placement; all keys without): levels[l][i].
  std::vector<std::vector<uint64_t>> TreeOf(int db, uint32_t peer);
  // Root digests of every database, cheap for databases without keys.
  std::vector<uint64_t> RootsOf(uint32_t peer);
  // (key, digest) of this node's keys in `leaves` of database `db` that it
  // shares with `peer`.
  std::vector<std::pair<std::string, uint64_t>> KeysIn(int db, const std::vector<uint32_t>& leaves,
                                                       uint32_t peer);
  uint64_t handed_off() const { return handed_off_.load(); }
  // Runs fn on every shard's thread and waits. False if the node stops.
  bool OnEveryShard(const std::function<void(Shard&)>& fn);

 private:
  // The CRDT state of the requested keys here (FetchKeys without the
  // shutdown check, for this node's own pushes).
  grpc::Status StateOf(const peer::KeysRequest& req, peer::DeltaBatch* reply);
  void Loop();

  Server* server_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> rounds_{0}, keys_repaired_{0}, handed_off_{0};
  bool rebalance_ = false;  // guarded by mu_
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> requested_;
  std::thread thread_;
  std::vector<std::thread> on_demand_;  // guarded by mu_; joined by Stop()
};

}  // namespace lattice::node

#endif  // LATTICE_NODE_CLUSTER_ANTI_ENTROPY_H_
