#include "gossip/membership.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "gossip/dial.h"
#include "grpcpp/grpcpp.h"

namespace lattice::gossip {

namespace {

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

State FromProto(peer::MemberState s) {
  switch (s) {
    case peer::SUSPECT:
      return State::kSuspect;
    case peer::DEAD:
      return State::kDead;
    case peer::LEFT:
      return State::kLeft;
    default:
      return State::kAlive;
  }
}

peer::MemberState ToProto(State s) {
  switch (s) {
    case State::kSuspect:
      return peer::SUSPECT;
    case State::kDead:
      return peer::DEAD;
    case State::kLeft:
      return peer::LEFT;
    default:
      return peer::ALIVE;
  }
}

constexpr int kLogNotice = 2, kLogWarning = 3;

}  // namespace

const char* StateName(State s) {
  switch (s) {
    case State::kAlive:
      return "alive";
    case State::kSuspect:
      return "suspect";
    case State::kDead:
      return "dead";
    case State::kLeft:
      return "left";
  }
  return "?";
}

Membership::Membership(MemberInfo self, std::vector<std::string> seeds, MembershipOptions options,
                       LogFn log)
    : self_static_(std::move(self)),
      seeds_(std::move(seeds)),
      options_(std::move(options)),
      log_(std::move(log)),
      incarnation_(self_static_.incarnation),
      rng_(std::random_device{}()) {}

Membership::~Membership() { Stop(); }

void Membership::Start() { thread_ = std::thread([this] { Loop(); }); }

void Membership::Stop() {
  {
    std::lock_guard<std::mutex> l(run_mu_);
    stop_ = true;
  }
  run_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Membership::AddListener(std::function<void(const MemberInfo&)> fn) {
  std::lock_guard<std::mutex> l(mu_);
  listeners_.push_back(std::move(fn));
}

std::vector<MemberInfo> Membership::Snapshot() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<MemberInfo> out;
  MemberInfo me = self_static_;
  me.incarnation = incarnation_;
  me.state = self_state_;
  me.self = true;
  out.push_back(me);
  for (const auto& [id, e] : members_) out.push_back(e.info);
  std::sort(out.begin() + 1, out.end(),
            [](const MemberInfo& a, const MemberInfo& b) { return a.name < b.name; });
  return out;
}

namespace {
void MergeSeen(std::vector<std::pair<uint32_t, uint64_t>>* into,
               const google::protobuf::RepeatedPtrField<peer::VersionEntry>& from) {
  for (const peer::VersionEntry& e : from) {
    bool found = false;
    for (auto& [node, counter] : *into) {
      if (node == e.node_id()) {
        counter = std::max(counter, e.counter());
        found = true;
      }
    }
    if (!found && into->size() < 1024) into->emplace_back(e.node_id(), e.counter());
  }
}
// Takes m's hot-key list when it is newer: a later incarnation, or the same
// one with a greater hot_version. Returns whether the list changed.
bool MergeHot(MemberInfo* info, const peer::Member& m) {
  bool newer = m.incarnation() > info->incarnation ||
               (m.incarnation() == info->incarnation && m.hot_version() > info->hot_version);
  if (!newer || m.hot_keys_size() > 4096) return false;
  std::vector<std::string> keys(m.hot_keys().begin(), m.hot_keys().end());
  bool changed = keys != info->hot_keys;
  info->hot_keys = std::move(keys);
  info->hot_version = m.hot_version();
  return changed;
}
void FillSeen(const std::vector<std::pair<uint32_t, uint64_t>>& seen, peer::Member* m) {
  for (const auto& [node, counter] : seen) {
    peer::VersionEntry* e = m->add_seen();
    e->set_node_id(node);
    e->set_counter(counter);
  }
}
}  // namespace

void Membership::FillSelf(peer::Member* m) {
  if (self_seen_) FillSeen(self_seen_(), m);
  m->set_node_id(self_static_.id);
  m->set_name(self_static_.name);
  m->set_client_addr(self_static_.client_addr);
  m->set_peer_addr(self_static_.peer_addr);
  m->set_zone(self_static_.zone);
  m->set_incarnation(incarnation_);
  m->set_state(ToProto(self_state_));
  m->set_replicas(self_static_.replicas);
  if (self_hot_) {
    for (const std::string& k : self_hot_()) m->add_hot_keys(k);
  }
  m->set_hot_version(hot_version_);
}

void Membership::FillTable(google::protobuf::RepeatedPtrField<peer::Member>* out) {
  for (const auto& [id, e] : members_) {
    peer::Member* m = out->Add();
    m->set_node_id(e.info.id);
    m->set_name(e.info.name);
    m->set_client_addr(e.info.client_addr);
    m->set_peer_addr(e.info.peer_addr);
    m->set_zone(e.info.zone);
    m->set_incarnation(e.info.incarnation);
    m->set_state(ToProto(e.info.state));
    FillSeen(e.info.seen, m);
    for (const std::string& k : e.info.hot_keys) m->add_hot_keys(k);
    m->set_replicas(e.info.replicas);
    m->set_hot_version(e.info.hot_version);
  }
}

void Membership::SetStateLocked(Entry& e, State s, std::vector<MemberInfo>* changed) {
  if (e.info.state == s) return;
  e.info.state = s;
  e.info.since_ms = WallMs();
  changed->push_back(e.info);
}

void Membership::MergeLocked(const peer::Member& m, std::vector<MemberInfo>* changed) {
  if (m.node_id() == 0 || m.peer_addr().empty() || m.name().size() > 256 ||
      m.peer_addr().size() > 256 || m.client_addr().size() > 256 || m.zone().size() > 256) {
    return;  // not a member anybody could talk to; ignore rather than spread it
  }
  State state = FromProto(m.state());
  if (m.node_id() == self_static_.id) {
    if (m.name() != self_static_.name) {
      log_(kLogWarning, absl::StrCat("node ", m.name(), " at ", m.peer_addr(),
                                     " has the same node id as this node; give one of them "
                                     "another node-id"));
      return;
    }
    // Removed by an operator (LATTICE FORGET): do not refute. Coming back
    // with the state of before could resurrect what the cluster collected;
    // a restart (empty, with a new incarnation) rejoins.
    if (state == State::kLeft && self_state_ == State::kAlive &&
        m.incarnation() >= incarnation_) {
      self_state_ = State::kLeft;
      removed_ = true;
      log_(kLogWarning, "this node was removed from the cluster (LATTICE FORGET); it no "
                        "longer replicates. Restart it to rejoin with an empty keyspace.");
      return;
    }
    // Somebody thinks we are suspect or dead: refute.
    if (state != State::kAlive && self_state_ == State::kAlive &&
        m.incarnation() >= incarnation_) {
      incarnation_ = m.incarnation() + 1;
      log_(kLogNotice, absl::StrCat("refuting '", StateName(state), "' with incarnation ",
                                    incarnation_));
    }
    return;
  }
  auto it = members_.find(m.node_id());
  if (it == members_.end()) {
    Entry e;
    e.info.id = m.node_id();
    e.info.name = m.name();
    e.info.client_addr = m.client_addr();
    e.info.peer_addr = m.peer_addr();
    e.info.zone = m.zone();
    e.info.incarnation = m.incarnation();
    e.info.state = state;
    e.info.since_ms = WallMs();
    e.info.replicas = m.replicas().substr(0, 16);
    MergeSeen(&e.info.seen, m.seen());
    MergeHot(&e.info, m);
    members_.emplace(m.node_id(), e);
    order_.push_back(m.node_id());
    changed->push_back(e.info);
    return;
  }
  Entry& e = it->second;
  if (m.incarnation() >= e.info.incarnation) MergeSeen(&e.info.seen, m.seen());
  bool hot_changed = MergeHot(&e.info, m);
  bool newer = m.incarnation() > e.info.incarnation;
  bool same = m.incarnation() == e.info.incarnation;
  if (newer || (same && static_cast<int>(state) > static_cast<int>(e.info.state))) {
    bool addr_changed = e.info.peer_addr != m.peer_addr() ||
                        e.info.client_addr != m.client_addr() || e.info.zone != m.zone();
    e.info.incarnation = m.incarnation();
    e.info.replicas = m.replicas().substr(0, 16);
    e.info.name = m.name();
    e.info.client_addr = m.client_addr();
    e.info.peer_addr = m.peer_addr();
    e.info.zone = m.zone();
    if (e.info.state != state) {
      SetStateLocked(e, state, changed);
    } else if (addr_changed || newer || hot_changed) {
      changed->push_back(e.info);
    }
  } else if (hot_changed) {
    changed->push_back(e.info);
  }
}

void Membership::Notify(const std::vector<MemberInfo>& changed) {
  if (changed.empty()) return;
  std::vector<std::function<void(const MemberInfo&)>> listeners;
  {
    std::lock_guard<std::mutex> l(mu_);
    listeners = listeners_;
  }
  for (const MemberInfo& m : changed) {
    log_(kLogNotice, absl::StrCat("member ", m.name, " (", m.peer_addr, ", zone ", m.zone,
                                  ") is ", StateName(m.state), ", incarnation ",
                                  m.incarnation));
    for (auto& fn : listeners) fn(m);
  }
}

void Membership::HandlePing(const peer::PingRequest& req, peer::PingReply* reply) {
  std::vector<MemberInfo> changed;
  {
    std::lock_guard<std::mutex> l(mu_);
    MergeLocked(req.from(), &changed);
    for (const peer::Member& m : req.members()) MergeLocked(m, &changed);
    FillSelf(reply->mutable_from());
    FillTable(reply->mutable_members());
  }
  Notify(changed);
}

void Membership::HandleProbe(const peer::ProbeRequest& req, peer::ProbeReply* reply) {
  int timeout = std::clamp<int>(req.timeout_ms(), 10, 2000);
  reply->set_alive(DirectPing(req.target_addr(), timeout));
}

std::shared_ptr<grpc::Channel> Membership::ChannelTo(const std::string& peer_addr,
                                                     int timeout_ms) {
  {
    std::lock_guard<std::mutex> l(chan_mu_);
    // A channel over a dialled socket cannot report its state; callers
    // drop it when a call on it fails.
    auto it = channels_.find(peer_addr);
    if (it != channels_.end()) return it->second;
  }
  auto ch = DialPeer(peer_addr, options_.source_ip, timeout_ms);
  if (!ch.ok()) return nullptr;
  std::lock_guard<std::mutex> l(chan_mu_);
  channels_[peer_addr] = *ch;
  return *ch;
}

void Membership::DropChannel(const std::string& peer_addr) {
  std::lock_guard<std::mutex> l(chan_mu_);
  channels_.erase(peer_addr);
}

bool Membership::DirectPing(const std::string& addr, int timeout_ms) {
  probes_sent_++;
  auto ch = ChannelTo(addr, timeout_ms);
  if (!ch) {
    probes_failed_++;
    return false;
  }
  auto stub = peer::Peer::NewStub(ch);
  peer::PingRequest req;
  {
    std::lock_guard<std::mutex> l(mu_);
    FillSelf(req.mutable_from());
    FillTable(req.mutable_members());
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  peer::PingReply reply;
  grpc::Status st = stub->Ping(&ctx, req, &reply);
  if (!st.ok()) {
    probes_failed_++;
    DropChannel(addr);
    return false;
  }
  std::vector<MemberInfo> changed;
  {
    std::lock_guard<std::mutex> l(mu_);
    MergeLocked(reply.from(), &changed);
    // Direct evidence: the member answered, so it is alive at the
    // incarnation it reported.
    auto it = members_.find(reply.from().node_id());
    if (it != members_.end() && it->second.info.incarnation == reply.from().incarnation() &&
        reply.from().state() == peer::ALIVE && it->second.info.state == State::kSuspect) {
      SetStateLocked(it->second, State::kAlive, &changed);
    }
    for (const peer::Member& m : reply.members()) MergeLocked(m, &changed);
  }
  Notify(changed);
  return true;
}

bool Membership::IndirectPing(uint32_t target, const std::string& addr) {
  std::vector<std::string> helpers;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [id, e] : members_) {
      if (id != target && e.info.state == State::kAlive) helpers.push_back(e.info.peer_addr);
    }
  }
  std::shuffle(helpers.begin(), helpers.end(), rng_);
  if (helpers.size() > static_cast<size_t>(options_.indirect_probes)) {
    helpers.resize(options_.indirect_probes);
  }
  for (const std::string& h : helpers) {
    auto ch = ChannelTo(h, options_.probe_timeout_ms);
    if (!ch) continue;
    auto stub = peer::Peer::NewStub(ch);
    peer::ProbeRequest req;
    req.set_target(target);
    req.set_target_addr(addr);
    req.set_timeout_ms(options_.probe_timeout_ms);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(2 * options_.probe_timeout_ms));
    peer::ProbeReply reply;
    if (stub->Probe(&ctx, req, &reply).ok() && reply.alive()) return true;
  }
  return false;
}

void Membership::ProbeOnce(int64_t now_ms) {
  std::vector<MemberInfo> changed;
  uint32_t target = 0;
  std::string addr;
  bool was_dead = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    // Suspects that did not refute in time are dead.
    for (auto& [id, e] : members_) {
      if (e.info.state == State::kSuspect &&
          now_ms - e.info.since_ms >= options_.suspect_timeout_ms) {
        SetStateLocked(e, State::kDead, &changed);
      }
    }
    for (size_t tries = 0; tries < order_.size() && target == 0; tries++) {
      if (next_ >= order_.size()) {
        std::shuffle(order_.begin(), order_.end(), rng_);
        next_ = 0;
      }
      auto it = members_.find(order_[next_++]);
      if (it == members_.end()) continue;
      Entry& e = it->second;
      if (e.info.state == State::kLeft) continue;
      if (e.info.state == State::kDead && now_ms - e.last_probe_ms < options_.dead_probe_interval_ms) {
        continue;
      }
      e.last_probe_ms = now_ms;
      target = e.info.id;
      addr = e.info.peer_addr;
      was_dead = e.info.state == State::kDead;
    }
  }
  Notify(changed);
  changed.clear();
  if (target == 0) {
    // Nobody known yet (or everybody gone): knock on the seeds.
    for (const std::string& seed : seeds_) {
      if (seed != self_static_.peer_addr) DirectPing(seed, options_.probe_timeout_ms);
    }
    return;
  }
  if (DirectPing(addr, options_.probe_timeout_ms)) return;
  if (was_dead) return;
  if (IndirectPing(target, addr)) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = members_.find(target);
    if (it != members_.end() && it->second.info.state == State::kAlive) {
      SetStateLocked(it->second, State::kSuspect, &changed);
    }
  }
  Notify(changed);
}

void Membership::Loop() {
  // Join: introduce ourselves to the seeds before the first round.
  for (const std::string& seed : seeds_) {
    if (seed != self_static_.peer_addr) DirectPing(seed, options_.probe_timeout_ms);
  }
  int64_t last_seed_ms = WallMs();
  while (true) {
    {
      std::unique_lock<std::mutex> l(run_mu_);
      if (run_cv_.wait_for(l, std::chrono::milliseconds(options_.probe_interval_ms),
                           [this] { return stop_; })) {
        return;
      }
    }
    int64_t now = WallMs();
    ProbeOnce(now);
    // Seeds we do not know as members (a seed that was down when we
    // started) are retried every few seconds.
    if (now - last_seed_ms >= options_.dead_probe_interval_ms) {
      last_seed_ms = now;
      std::vector<std::string> unknown;
      {
        std::lock_guard<std::mutex> l(mu_);
        for (const std::string& seed : seeds_) {
          bool known = seed == self_static_.peer_addr;
          for (const auto& [id, e] : members_) known = known || e.info.peer_addr == seed;
          if (!known) unknown.push_back(seed);
        }
      }
      for (const std::string& seed : unknown) DirectPing(seed, options_.probe_timeout_ms);
    }
  }
}

State Membership::StateOf(uint32_t id) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = members_.find(id);
  return it == members_.end() ? State::kAlive : it->second.info.state;
}

bool Membership::Forget(const std::string& name) {
  std::vector<MemberInfo> changed;
  {
    std::lock_guard<std::mutex> l(mu_);
    Entry* target = nullptr;
    for (auto& [id, e] : members_) {
      if (e.info.name == name) target = &e;
    }
    if (!target) return false;
    // LEFT outranks every state at the same incarnation, so it spreads.
    SetStateLocked(*target, State::kLeft, &changed);
  }
  Notify(changed);
  return true;
}

void Membership::Leave() {
  std::vector<std::string> addrs;
  {
    std::lock_guard<std::mutex> l(mu_);
    self_state_ = State::kLeft;
    incarnation_++;
    for (const auto& [id, e] : members_) {
      if (e.info.state == State::kAlive || e.info.state == State::kSuspect) {
        addrs.push_back(e.info.peer_addr);
      }
    }
  }
  Stop();
  for (const std::string& a : addrs) DirectPing(a, options_.probe_timeout_ms);
  log_(kLogNotice, absl::StrCat("left the cluster (told ", addrs.size(), " members)"));
}

}  // namespace lattice::gossip
