#include "node/cluster/hot_replication.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "gossip/dial.h"
#include "grpcpp/grpcpp.h"
#include "node/cluster/anti_entropy.h"
#include "node/cluster/replication.h"
#include "node/server.h"

namespace lattice::node {

HotReplication::HotReplication(Server* server) : server_(server) {}

HotReplication::~HotReplication() { Stop(); }

void HotReplication::Start() { thread_ = std::thread([this] { Loop(); }); }

void HotReplication::Stop() {
  {
    std::lock_guard<std::mutex> l(run_mu_);
    stop_ = true;
  }
  run_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<std::string> HotReplication::Held() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::string> out;
  for (const auto& [k, h] : held_) out.push_back(k);
  return out;
}

size_t HotReplication::held_count() const {
  std::lock_guard<std::mutex> l(mu_);
  return held_.size();
}

void HotReplication::Loop() {
  while (true) {
    {
      std::unique_lock<std::mutex> l(run_mu_);
      run_cv_.wait_for(l, std::chrono::seconds(1), [&] { return stop_; });
      if (stop_) return;
    }
    if (!server_->running()) continue;
    Tick(NowMs());
  }
}

bool HotReplication::Fetch(const std::string& key) {
  gossip::Membership* m = server_->membership();
  std::shared_ptr<const PlacementView> view = server_->placement().view();
  if (!m || !view->ring) return false;
  for (uint32_t id : view->ring->ReplicasFor(key)) {
    if (id == view->self || m->StateOf(id) != gossip::State::kAlive) continue;
    std::string addr;
    for (const auto& info : m->Snapshot()) {
      if (info.id == id) addr = info.peer_addr;
    }
    if (addr.empty()) continue;
    auto& stub = stubs_[addr];
    if (!stub) {
      auto channel = gossip::DialPeer(addr, server_->SourceIp(), 1000);
      if (!channel.ok()) continue;
      stub = peer::Peer::NewStub(*channel);
    }
    peer::KeysRequest req;
    req.set_db(0);
    req.add_keys(key);
    peer::DeltaBatch state;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    if (!stub->FetchKeys(&ctx, req, &state).ok()) {
      stub.reset();
      continue;
    }
    std::string why;
    state.set_snapshot(true);
    if (!server_->replicator().Validate(state, &why)) {
      server_->Log(Server::kWarning, absl::StrCat("hot key fetch from ", addr, ": ", why));
      return false;
    }
    server_->replicator().ApplyBatch(0, state, nullptr);
    return true;
  }
  return false;
}

void HotReplication::Tick(int64_t now_ms) {
  std::shared_ptr<const PlacementView> view = server_->placement().view();
  AntiEntropy* ae = server_->anti_entropy();
  gossip::Membership* m = server_->membership();
  if (!ae || !m) return;
  std::vector<std::string> dropped;
  bool changed = false;
  if (!view->partial() || !server_->hot_key_replication()) {
    // Nothing to gain: every key is local already, or the feature is off.
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [k, h] : held_) dropped.push_back(k);
    held_.clear();
    changed = !dropped.empty();
  } else {
    // Read rates from every shard's sketch: the top keys, the estimates of
    // the held keys, the total, and the key count.
    std::vector<std::string> held_keys = Held();
    std::mutex mu;
    std::vector<std::pair<std::string, double>> top;
    std::map<std::string, double> held_rate;
    double total = 0;
    uint64_t local_keys = 0;
    ae->OnEveryShard([&](Shard& s) {
      auto t = s.hot_keys.Top();
      std::vector<std::pair<std::string, double>> est;
      for (const std::string& k : held_keys) {
        if (server_->ShardIndexOf(k) == s.index()) {
          est.emplace_back(k, s.hot_keys.Estimate(k) / kWindowSeconds);
        }
      }
      std::lock_guard<std::mutex> l(mu);
      for (auto& [k, c] : t) top.emplace_back(std::move(k), c / kWindowSeconds);
      for (auto& [k, r] : est) held_rate[k] = r;
      total += static_cast<double>(s.hot_keys.total()) / kWindowSeconds;
      local_keys += s.db(0).size();
    });
    // The cluster's keys, estimated from ours: each key is on `replicas`
    // of the ring's members.
    double members = static_cast<double>(view->ring->members().size());
    double cluster_keys = std::max<double>(
        1.0, static_cast<double>(local_keys) * members / std::max(1, view->ring->replicas()));
    double mean = total / cluster_keys;
    double threshold = std::max<double>(server_->hot_key_min_rate(),
                                        server_->hot_key_factor() * mean);
    size_t max_keys = static_cast<size_t>(server_->hot_key_max());
    std::sort(top.begin(), top.end(),
              [](const auto& a, const auto& b) { return a.second > b.second; });
    // Cool keys first, then gain.
    {
      std::lock_guard<std::mutex> l(mu_);
      for (auto it = held_.begin(); it != held_.end();) {
        double r = held_rate.count(it->first) ? held_rate[it->first] : 0;
        HeldKey& h = it->second;
        if (r >= threshold / 2 && held_.size() <= max_keys) {
          h.cool_since_ms = 0;
        } else if (h.cool_since_ms == 0) {
          h.cool_since_ms = now_ms;
        }
        bool cold = h.cool_since_ms != 0 && now_ms - h.cool_since_ms >= kCoolMs &&
                    now_ms - h.since_ms >= kCoolMs;
        if (cold || held_.size() > max_keys) {
          dropped.push_back(it->first);
          it = held_.erase(it);
          lost_++;
          changed = true;
        } else {
          ++it;
        }
      }
    }
    for (const auto& [key, rate] : top) {
      if (rate < threshold) break;
      if (view->ReplicaOf(view->self, key)) continue;
      {
        std::lock_guard<std::mutex> l(mu_);
        if (held_.count(key) || held_.size() >= max_keys) continue;
      }
      if (!Fetch(key)) continue;
      std::lock_guard<std::mutex> l(mu_);
      held_[key] = HeldKey{now_ms, now_ms, 0, 1};
      gained_++;
      changed = true;
      server_->Log(Server::kVerbose,
                   absl::StrCat("hot key '", key, "' (", static_cast<int64_t>(rate),
                                " reads/s, threshold ", static_cast<int64_t>(threshold),
                                ") gains a replica here"));
    }
    // Writes made before every writer learned of this replica arrive by
    // re-fetching.
    std::vector<std::string> refetch;
    {
      std::lock_guard<std::mutex> l(mu_);
      for (auto& [k, h] : held_) {
        int64_t every = h.fetches < 3 ? 1000 : 10000;
        if (now_ms - h.last_fetch_ms >= every) {
          refetch.push_back(k);
          h.last_fetch_ms = now_ms;
          h.fetches++;
        }
      }
    }
    for (const std::string& k : refetch) {
      if (Fetch(k)) refetches_++;
    }
  }
  if (changed) {
    m->HotKeysChanged();
    server_->RebuildPlacement();
  }
  // Cooled keys go back to their replicas (anything written here reaches
  // them) and leave this node, once peers stopped sending reads here.
  for (const std::string& k : dropped) draining_[k] = now_ms;
  std::vector<std::string> done;
  for (auto it = draining_.begin(); it != draining_.end();) {
    bool again;
    {
      std::lock_guard<std::mutex> l(mu_);
      again = held_.count(it->first) > 0;
    }
    if (again) {
      it = draining_.erase(it);
    } else if (now_ms - it->second >= kDrainMs) {
      done.push_back(it->first);
      it = draining_.erase(it);
    } else {
      ++it;
    }
  }
  if (!done.empty()) ae->Handoff(&done);
}

}  // namespace lattice::node
