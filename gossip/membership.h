// File: gossip/membership.h
//
// Who is in the cluster, SWIM-style (Das et al., 2002; see
// docs/architecture.md, "Membership"):
//
// * Every probe interval a node pings one member, round robin over a
//   shuffled list. The ping carries the sender's whole member table and the
//   reply carries the receiver's, so tables converge by gossip (clusters
//   here are small: tens of nodes, so whole tables are cheaper than deltas).
// * A member that does not answer is probed indirectly through up to
//   `indirect_probes` others; if nobody reaches it, it becomes SUSPECT. A
//   suspect that does not refute within `suspect_timeout_ms` is DEAD.
// * Each member owns an incarnation number. Hearing itself suspected or
//   declared dead, a live node refutes by raising its incarnation. Entries
//   merge by (incarnation, state rank ALIVE < SUSPECT < DEAD < LEFT).
// * A node starts with incarnation = its start time in ms, so a restarted
//   node outranks what the cluster remembers about its previous life.
// * Leave() marks the node LEFT and tells everyone it can reach.
// * DEAD members are still probed, slowly, so both sides of a healed
//   partition find each other again.
//
// Thread-safety: all public methods are safe from any thread. Listeners run
// on the membership threads and must not block for long.
#ifndef LATTICE_GOSSIP_MEMBERSHIP_H_
#define LATTICE_GOSSIP_MEMBERSHIP_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "proto/peer.grpc.pb.h"

namespace lattice::gossip {

enum class State { kAlive = 0, kSuspect = 1, kDead = 2, kLeft = 3 };
const char* StateName(State s);

struct MemberInfo {
  uint32_t id = 0;
  std::string name;
  std::string client_addr;
  std::string peer_addr;
  std::string zone;
  uint64_t incarnation = 0;
  State state = State::kAlive;
  int64_t since_ms = 0;  // when this node last saw the state change
  bool self = false;
  // What the member has seen, per origin (see peer.Member.seen).
  std::vector<std::pair<uint32_t, uint64_t>> seen;
  // Keys the member holds as extra (hot-key) replicas, and the version of
  // that list within its incarnation.
  std::vector<std::string> hot_keys;
  uint64_t hot_version = 0;
  std::string replicas;  // the member's `replicas` setting, "" if unknown
};

struct MembershipOptions {
  int probe_interval_ms = 400;
  int probe_timeout_ms = 300;
  int indirect_probes = 2;
  int suspect_timeout_ms = 2500;
  int dead_probe_interval_ms = 2000;
  std::string source_ip;  // outgoing connections bind here (see dial.h)
};

// Logs one line; level as Server::Log.
using LogFn = std::function<void(int level, const std::string& msg)>;

class Membership {
 public:
  Membership(MemberInfo self, std::vector<std::string> seeds, MembershipOptions options,
             LogFn log);
  ~Membership();

  void Start();
  // Announces LEFT to every reachable member, then stops probing.
  void Leave();
  void Stop();

  // Called with the member's new info on every state or address change of
  // another member (never for self).
  void AddListener(std::function<void(const MemberInfo&)> fn);
  // Supplies this node's own seen vector for the pings it sends.
  void set_self_seen(std::function<std::vector<std::pair<uint32_t, uint64_t>>()> fn) {
    std::lock_guard<std::mutex> l(mu_);
    self_seen_ = std::move(fn);
  }
  // Supplies this node's hot-key list for gossip; call HotKeysChanged()
  // when it changes, so peers learn the new list on the next probes.
  void set_self_hot(std::function<std::vector<std::string>()> fn) {
    std::lock_guard<std::mutex> l(mu_);
    self_hot_ = std::move(fn);
  }
  void HotKeysChanged() {
    std::lock_guard<std::mutex> l(mu_);
    hot_version_++;
  }
  // Marks a member that will not come back as removed (LEFT): it stops
  // holding tombstone collection back. False if unknown or self.
  bool Forget(const std::string& name);
  // True once this node learned the cluster removed it.
  bool removed() const { return removed_.load(); }
  // The state of member `id` as this node sees it (kAlive if unknown).
  State StateOf(uint32_t id) const;

  std::vector<MemberInfo> Snapshot() const;
  const MemberInfo& self_static() const { return self_static_; }
  uint32_t self_id() const { return self_static_.id; }

  // Service side.
  void HandlePing(const peer::PingRequest& req, peer::PingReply* reply);
  void HandleProbe(const peer::ProbeRequest& req, peer::ProbeReply* reply);

  // A channel to `peer_addr`, dialled on demand and cached while it works.
  std::shared_ptr<grpc::Channel> ChannelTo(const std::string& peer_addr, int timeout_ms);
  void DropChannel(const std::string& peer_addr);

  uint64_t probes_sent() const { return probes_sent_.load(); }
  uint64_t probes_failed() const { return probes_failed_.load(); }

 private:
  struct Entry {
    MemberInfo info;
    int64_t last_probe_ms = 0;
  };
  void Loop();
  void ProbeOnce(int64_t now_ms);
  // Pings `addr` directly; merges the reply. Returns false on failure.
  bool DirectPing(const std::string& addr, int timeout_ms);
  bool IndirectPing(uint32_t target, const std::string& addr);
  void FillSelf(peer::Member* m);
  void FillTable(google::protobuf::RepeatedPtrField<peer::Member>* out);
  // Merges one gossiped entry. REQUIRES: mu_ held. Appends changed members.
  void MergeLocked(const peer::Member& m, std::vector<MemberInfo>* changed);
  void SetStateLocked(Entry& e, State s, std::vector<MemberInfo>* changed);
  void Notify(const std::vector<MemberInfo>& changed);

  const MemberInfo self_static_;
  const std::vector<std::string> seeds_;
  const MembershipOptions options_;
  LogFn log_;

  mutable std::mutex mu_;
  uint64_t incarnation_;
  State self_state_ = State::kAlive;
  absl::flat_hash_map<uint32_t, Entry> members_;  // others only
  std::vector<uint32_t> order_;
  size_t next_ = 0;
  std::mt19937_64 rng_;
  std::vector<std::function<void(const MemberInfo&)>> listeners_;
  std::function<std::vector<std::pair<uint32_t, uint64_t>>()> self_seen_;
  std::function<std::vector<std::string>()> self_hot_;
  uint64_t hot_version_ = 0;
  std::atomic<bool> removed_{false};

  std::mutex chan_mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<grpc::Channel>> channels_;

  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool stop_ = false;
  std::thread thread_;
  std::atomic<uint64_t> probes_sent_{0}, probes_failed_{0};
};

}  // namespace lattice::gossip

#endif  // LATTICE_GOSSIP_MEMBERSHIP_H_
