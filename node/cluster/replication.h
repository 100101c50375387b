// File: node/cluster/replication.h
//
// Delta replication: the write path's sink on a node with peers, and the
// receiving end of other nodes' delta streams. See docs/architecture.md
// ("Replication") for the protocol and docs/consistency.md for what a
// receiver does with a delta.
//
// Sending. Every delta the shards emit is appended to one node-wide log
// with consecutive sequence numbers (starting from the node's start time,
// so a restarted node never reuses a number). One thread per peer keeps a
// gRPC Replicate stream open to it, sends the log from where that peer left
// off in batches, and at most `kWindow` deltas ahead of the peer's
// acknowledgements (backpressure: a slow peer slows only its own stream).
// The log keeps at most `repl-backlog-size` bytes. A peer that has nothing
// from this node's current life (new, or restarted) or that fell behind the
// backlog (down too long) first gets a snapshot: the whole keyspace with its
// tombstones, read slice by slice on the shard threads, after which the log
// continues. Merges are idempotent, so overlap between the two is harmless.
//
// Receiving. The first message names the origin; the receiver answers with
// the last sequence it applied from it, so the stream resumes without gaps
// or repeats. Batches are validated whole (a peer that sends garbage is
// dropped and logged, nothing applied), applied on the owning shards' threads
// and acknowledged. In causal mode a batch waits until the receiver has
// applied everything the batch's origin had applied when it wrote it.
//
// Thread-safety: Emit() is called from shard threads; Replicate() from gRPC
// threads; the rest from anywhere. Internal state is guarded by the mutexes
// named next to it.
#ifndef LATTICE_NODE_CLUSTER_REPLICATION_H_
#define LATTICE_NODE_CLUSTER_REPLICATION_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "crdt/tombstone.h"
#include "gossip/membership.h"
#include "gossip/peer_service.h"
#include "grpcpp/support/sync_stream.h"
#include "node/cluster/delta_codec.h"
#include "node/storage/keyspace.h"
#include "node/write_path.h"
#include "proto/peer.pb.h"

namespace lattice::node {

class Server;
class Shard;

// Fixed log-scale buckets in microseconds; counts are atomics so readers
// never block writers.
class LatencyHistogram {
 public:
  static constexpr int kBuckets = 24;
  static constexpr int64_t kBoundsUs[kBuckets - 1] = {
      25,   50,   75,    100,   150,   200,    300,    400,    500,     750,     1000,   1500,
      2000, 3000, 5000,  7500,  10000, 25000,  50000,  100000, 250000,  1000000, 5000000};
  void Record(int64_t us);
  // Upper bound of the bucket holding quantile q, in microseconds.
  int64_t Quantile(double q) const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  uint64_t sum_us() const { return sum_us_.load(std::memory_order_relaxed); }
  uint64_t bucket(int i) const { return buckets_[i].load(std::memory_order_relaxed); }
  void Reset();

 private:
  std::atomic<uint64_t> buckets_[kBuckets] = {};
  std::atomic<uint64_t> count_{0}, sum_us_{0};
};

// What INFO, LATTICE NODES and the metrics endpoint show about one peer.
struct PeerView {
  uint32_t id = 0;
  std::string name;
  std::string addr;
  gossip::State state = gossip::State::kAlive;
  bool connected = false;
  bool needs_repair = false;
  uint64_t acked_seq = 0;
  uint64_t backlog = 0;  // deltas written here that the peer has not acked
  uint64_t deltas_sent = 0, bytes_sent = 0, batches_sent = 0, reconnects = 0, snapshots = 0;
  uint64_t deltas_received = 0, deltas_applied = 0, batches_rejected = 0;
  int64_t last_lag_us = 0;
  const LatencyHistogram* lag = nullptr;
};

// The deltas that rebuild entry `e` of database `db` on a replica.
void EntryToDeltas(const Db& src, int db, const Entry& e, std::vector<peer::Delta>* out);
void TombToProto(const crdt::Tombstone& t, peer::Remove* r);
// A key's whole replicated state (tombstone and value) as deltas.
void AppendKeyState(Db& db, int db_index, std::string_view key, int64_t now_ms,
                    std::vector<peer::Delta>* out);
// Checks one delta from outside (a peer, a snapshot file) before it is
// applied; false with *why otherwise. `unnamed_origin_ok` admits stamps of
// node 0 (what a standalone node writes).
bool ValidDelta(const peer::Delta& d, int databases, int64_t max_bulk, bool unnamed_origin_ok,
                std::string* why);
// Merges one validated delta into `shard`. Runs on the shard's thread (or
// before the workers start).
bool ApplyDelta(Shard& shard, const peer::Delta& d, int64_t now_ms);

class Replicator final : public DeltaSink, public gossip::StreamHandler {
 public:
  struct Link;
  static constexpr uint64_t kWindow = 16384;  // unacked deltas in flight per peer
  static constexpr size_t kBatchDeltas = 2048;
  static constexpr size_t kBatchBytes = 1 << 20;
  static constexpr int kLingerUs = 2000;
  static constexpr int kHeartbeatMs = 500;
  // Causal mode: a batch whose causes have not arrived after kCausalFetchMs
  // fetches them by a Merkle round with each origin it waits for, and
  // applies once those rounds succeeded (see Replicate()).
  static constexpr int64_t kCausalFetchMs = 1000;

  Replicator(Server* server, gossip::Membership* membership, bool causal, int64_t backlog_bytes,
             std::string source_ip);
  ~Replicator() override;

  // Starts sending to the members known now and to those that appear later.
  void Start();
  // Before Start(), on a node that loaded its data from its own files:
  // `applied` is, per origin, the last sequence of its stream those files
  // hold (the append-only log's marks; empty from a snapshot alone).
  // Streams from those origins resume after it, and a peer that has this
  // node's writes from before the restart gets a Merkle round instead of a
  // full snapshot.
  void RestoreApplied(const std::map<uint32_t, uint64_t>& applied);
  void Stop();

  // DeltaSink (shard threads).
  void Emit(const Delta& delta) override;
  // A transaction (EXEC): the deltas emitted between BeginGroup and
  // EndGroup form one group, which a sender keeps in one batch (waiting
  // until it is complete) and a peer applies at once. Groups that overlap
  // merge into one.
  void BeginGroup();
  void EndGroup();
  void Flush() override {
    if (unflushed_.load(std::memory_order_relaxed) && unflushed_.exchange(false) &&
        idle_senders_.load() > 0) {
      log_cv_.notify_all();
    }
  }
  crdt::Tombstone NewTombstone(crdt::Stamp stamp) override;

  // StreamHandler (gRPC threads).
  grpc::Status Replicate(grpc::ServerContext* context,
                         grpc::ServerReaderWriter<peer::Ack, peer::DeltaBatch>* stream) override;

  bool causal() const { return causal_; }
  // Checks a batch received outside a stream (anti-entropy) and applies it
  // (merged, never overwritten). `origin` 0: no origin's seen vector moves.
  bool Validate(const peer::DeltaBatch& batch, std::string* why) const;
  // `only_existing`: deltas of keys the shard does not hold are left out
  // (a repair push to a node near its maxmemory).
  void ApplyBatch(uint32_t origin, peer::DeltaBatch& batch, Link* stats,
                  bool only_existing = false);
  uint64_t head_seq() const;
  uint64_t log_bytes() const;
  uint64_t log_records() const;
  // Peers (not LEFT) whose acknowledgements reach `seq`.
  int CountAcked(uint64_t seq) const;
  // WAIT: calls done(count) once `n` peers acknowledged `seq` or at
  // `deadline_ms` (0: never), from a replicator thread.
  void AddWaiter(uint64_t seq, int n, int64_t deadline_ms, std::function<void(int)> done);
  std::vector<PeerView> Peers() const;
  uint64_t deltas_emitted() const { return emitted_.load(std::memory_order_relaxed); }
  uint64_t deltas_applied() const { return applied_total_.load(std::memory_order_relaxed); }
  uint64_t causal_waits() const { return causal_waits_.load(std::memory_order_relaxed); }
  uint64_t causal_fetched() const { return causal_fetched_.load(std::memory_order_relaxed); }
  const LatencyHistogram& lag_all() const { return lag_all_; }
  // CONFIG RESETSTAT: clears the lag histograms.
  void ResetLag();
  // Called with a peer's address when it missed deltas (anti-entropy).
  void set_repair_request(std::function<void(const std::string&)> fn) {
    repair_request_ = std::move(fn);
  }
  // Runs a Merkle round with a peer now and calls done(ok) when it ended
  // (any thread). Set before Start().
  void set_repair_async(std::function<void(const std::string&, std::function<void(bool)>)> fn) {
    repair_async_ = std::move(fn);
  }
  // Marks a repaired peer as whole again.
  void RepairDone(const std::string& peer_addr);
  // This node's seen vector for gossip: per origin the greatest counter
  // applied from its stream, and its own stable clock.
  std::vector<std::pair<uint32_t, uint64_t>> SeenVector();
  // The counter every current member has seen past from every current
  // origin (0: unknown yet); tombstones at or below it are collected.
  uint64_t StableCounter();
  uint64_t tombs_collected() const { return tombs_collected_.load(); }

 private:
  struct Record {
    uint64_t seq;
    int64_t emit_us;
    size_t bytes;
    std::string wire;  // the encoded peer.Delta (node/cluster/delta_codec.h)
    // With partial placement: the key's ring point and StableHash64; the
    // record goes only to peers holding the key. Unrouted records (flushes,
    // or written before placement was partial) go to every peer.
    bool routed = false;
    uint64_t point = 0;
    uint64_t khash = 0;
    std::shared_ptr<const std::vector<peer::VersionEntry>> deps;  // causal only
    // In a transaction's group: the sequence number of its last record.
    uint64_t group_end = 0;
  };
  struct Waiter {
    uint64_t seq;
    int n;
    int64_t deadline_ms;
    std::function<void(int)> done;
  };

  void OnMember(const gossip::MemberInfo& m);
  void RunLink(Link* link);
  // One connected session; returns when the stream breaks or on stop.
  // Returns true if the stream got past the handshake.
  bool Session(Link* link);
  // Streams the whole keyspace and its tombstones, then says the log
  // resumes at `resume`. False if the stream broke or the node stops.
  bool SendSnapshot(Link* link, grpc::ClientReaderWriter<RawBatch, peer::Ack>* stream,
                    uint64_t resume);
  void CheckWaiters(int64_t now_ms);
  void Housekeeping();
  Link* FindLink(uint32_t id);

  void AttachSinks();
  void NoteApplied(uint32_t origin, uint64_t seq);

  Server* server_;
  gossip::Membership* membership_;
  const bool causal_;
  const int64_t backlog_bytes_;
  const std::string source_ip_;
  const uint32_t self_;
  const uint64_t seq_base_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> attached_{false};
  bool restored_ = false;  // set before Start()
  std::atomic<bool> unflushed_{false};  // Emit() since the last Flush()
  std::function<void(const std::string&)> repair_request_;  // set before Start()
  std::function<void(const std::string&, std::function<void(bool)>)> repair_async_;

  // The log. Guarded by log_mu_; log_cv_ wakes senders on new records,
  // acknowledgements and stop.
  mutable std::mutex log_mu_;
  std::condition_variable log_cv_;     // new deltas, acks, stop
  std::condition_variable linger_cv_;  // stop only: senders lingering for a batch
  std::atomic<int> idle_senders_{0};   // senders waiting on log_cv_
  std::deque<Record> log_;
  uint64_t next_seq_;  // next sequence to assign
  uint64_t log_bytes_ = 0;
  std::shared_ptr<const std::vector<peer::VersionEntry>> deps_now_;

  // Receiving side. Guarded by recv_mu_.
  mutable std::mutex recv_mu_;
  std::condition_variable recv_cv_;
  absl::flat_hash_map<uint32_t, uint64_t> applied_;  // origin -> last applied seq
  absl::flat_hash_map<uint32_t, grpc::ServerContext*> origin_stream_;  // the open one
  crdt::VersionVector seen_;                         // stamps observed per origin

  // Peers. Guarded by links_mu_ (the map; Link fields are atomics or owned
  // by the link's thread).
  mutable std::mutex links_mu_;
  std::map<uint32_t, std::unique_ptr<Link>> links_;

  std::mutex waiters_mu_;
  std::vector<Waiter> waiters_;

  std::thread housekeeping_;
  std::mutex hk_mu_;
  std::condition_variable hk_cv_;

  std::atomic<uint64_t> emitted_{0}, applied_total_{0}, causal_waits_{0}, tombs_collected_{0},
      causal_fetched_{0};
  int open_groups_ = 0;      // log_mu_
  uint64_t group_start_ = 0;  // log_mu_: first sequence number of the open group
  // The end of what senders may ship: not into a group still open.
  uint64_t SendableEnd() const { return open_groups_ ? group_start_ : next_seq_; }
  int64_t last_gc_ms_ = 0;  // housekeeping thread only
  void CollectTombs();
  LatencyHistogram lag_all_;
};

}  // namespace lattice::node

#endif  // LATTICE_NODE_CLUSTER_REPLICATION_H_
