// File: node/cluster/hot_replication.h
//
// Hot-key replication (after Anna's selective replication): a key this
// node reads far more often than the cluster's mean key, and that it does
// not replicate, gains an extra replica here so its reads stop crossing the
// network; it loses it, with hysteresis, when it cools.
//
// Once a second the node reads the hot-key sketches of its shards
// (node/cluster/hot_keys.h, fed by every read this node's clients make, local or
// forwarded). A key's read rate is its decayed count over the sketch's
// decay window. A key not held here whose rate is at least
// `hot-key-factor` times the mean rate per key (this node's read rate over
// the cluster's estimated key count) and at least `hot-key-min-rate`
// reads/s is fetched from a replica, merged, and announced: the node's
// gossiped member entry lists it (peer.Member.hot_keys), so writers ship
// the key's deltas here too and this node serves its reads. A held key
// whose rate stays under half of that threshold for `kCoolMs` is dropped:
// announced gone, then handed back to its replicas and deleted here.
//
// Writers learn of an extra replica by gossip, so writes made in that
// window reach it only through a re-fetch: each held key is fetched again
// a second after it was gained and every 10 s while held.
//
// Extra replicas hold database 0 only (the sketch counts key names).
//
// Thread-safety: one thread of its own; Held() from any thread.
#ifndef LATTICE_NODE_CLUSTER_HOT_REPLICATION_H_
#define LATTICE_NODE_CLUSTER_HOT_REPLICATION_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "proto/peer.grpc.pb.h"

namespace lattice::node {

class Server;

class HotReplication {
 public:
  // Hold a gained key at least this long, and drop it only after it stayed
  // cool this long.
  static constexpr int64_t kCoolMs = 10000;
  // The sketch halves every 5 s, so a steady rate r reads as about 7.2 r.
  static constexpr double kWindowSeconds = 7.2;
  static constexpr int64_t kDrainMs = 5000;

  explicit HotReplication(Server* server);
  ~HotReplication();
  void Start();
  void Stop();

  std::vector<std::string> Held() const;
  size_t held_count() const;
  uint64_t gained() const { return gained_.load(); }
  uint64_t lost() const { return lost_.load(); }
  uint64_t refetches() const { return refetches_.load(); }

 private:
  struct HeldKey {
    int64_t since_ms = 0;
    int64_t last_fetch_ms = 0;
    int64_t cool_since_ms = 0;  // 0: warm
    int fetches = 0;
  };
  void Loop();
  void Tick(int64_t now_ms);
  // Fetches the key's state (database 0) from a replica and merges it.
  bool Fetch(const std::string& key);

  Server* server_;
  mutable std::mutex mu_;
  std::map<std::string, HeldKey> held_;  // guarded by mu_
  // Keys announced gone, kept kDrainMs more while peers still route reads
  // here (gossip takes a few probe rounds), then handed off. Loop thread.
  std::map<std::string, int64_t> draining_;
  std::map<std::string, std::unique_ptr<peer::Peer::Stub>> stubs_;  // loop thread only
  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool stop_ = false;
  std::thread thread_;
  std::atomic<uint64_t> gained_{0}, lost_{0}, refetches_{0};
};

}  // namespace lattice::node

#endif  // LATTICE_NODE_CLUSTER_HOT_REPLICATION_H_
