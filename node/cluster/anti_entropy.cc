#include "node/cluster/anti_entropy.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "gossip/dial.h"
#include "grpcpp/grpcpp.h"
#include "node/cluster/replication.h"
#include "node/server.h"
#include "node/storage/stable_hash.h"
#include "node/cluster/placement.h"
#include "absl/container/flat_hash_map.h"

namespace lattice::node {

namespace {

int64_t MonoMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// An inner node's digest: 0 for an empty subtree, so empty databases and
// empty ranges compare equal at no cost.
uint64_t Combine(const uint64_t* children) {
  uint64_t h = 0;
  bool any = false;
  for (int j = 0; j < AntiEntropy::kFanout; j++) {
    any = any || children[j] != 0;
    h = Mix64(h ^ (children[j] + 0x9E3779B97F4A7C15ULL * uint64_t(j + 1)));
  }
  return any ? (h | 1) : 0;
}

constexpr int kRpcTimeoutMs = 10000;

}  // namespace

AntiEntropy::AntiEntropy(Server* server) : server_(server) {}

AntiEntropy::~AntiEntropy() { Stop(); }

void AntiEntropy::Start() { thread_ = std::thread([this] { Loop(); }); }

void AntiEntropy::Stop() {
  std::vector<std::thread> on_demand;
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
    on_demand.swap(on_demand_);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& t : on_demand) t.join();
}

void AntiEntropy::RepairAsync(std::string peer_addr, std::function<void(RepairStats)> done) {
  std::lock_guard<std::mutex> l(mu_);
  if (stopping_) {
    RepairStats st;
    st.error = "shutting down";
    done(st);
    return;
  }
  on_demand_.emplace_back([this, peer_addr, done] { done(Repair(peer_addr)); });
}

void AntiEntropy::RequestRepair(const std::string& peer_addr) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (std::find(requested_.begin(), requested_.end(), peer_addr) == requested_.end()) {
      requested_.push_back(peer_addr);
    }
  }
  cv_.notify_all();
}

void AntiEntropy::RequestRebalance() {
  {
    std::lock_guard<std::mutex> l(mu_);
    rebalance_ = true;
  }
  cv_.notify_all();
}

void AntiEntropy::Loop() {
  size_t next = 0;
  auto last = std::chrono::steady_clock::now();
  while (!stopping_) {
    std::vector<std::string> targets;
    bool rebalance = false;
    {
      std::unique_lock<std::mutex> l(mu_);
      int interval = server_->anti_entropy_interval();
      auto wake = interval > 0 ? last + std::chrono::seconds(interval)
                               : std::chrono::steady_clock::now() + std::chrono::hours(1);
      cv_.wait_until(l, wake,
                     [&] { return stopping_.load() || !requested_.empty() || rebalance_; });
      if (stopping_) return;
      targets.swap(requested_);
      rebalance = rebalance_;
      rebalance_ = false;
    }
    if (rebalance) {
      // Let the new member list settle (gossip reaches every node within a
      // few probe rounds), then move ranges.
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait_for(l, std::chrono::milliseconds(1500), [&] { return stopping_.load(); });
        if (stopping_) return;
        rebalance_ = false;
      }
      uint64_t n = Handoff();
      if (n > 0) server_->Log(Server::kNotice, absl::StrCat("handed off ", n, " keys"));
      if (gossip::Membership* m = server_->membership()) {
        for (const auto& info : m->Snapshot()) {
          if (!info.self && info.state == gossip::State::kAlive &&
              std::find(targets.begin(), targets.end(), info.peer_addr) == targets.end()) {
            targets.push_back(info.peer_addr);
          }
        }
      }
    }
    if (targets.empty()) {
      // Periodic: ranges that moved away go first, then the next alive peer.
      if (server_->placement().partial()) Handoff();
      // Periodic: the next alive peer, round robin.
      last = std::chrono::steady_clock::now();
      gossip::Membership* m = server_->membership();
      if (!m) continue;
      std::vector<std::string> alive;
      for (const auto& info : m->Snapshot()) {
        if (!info.self && info.state == gossip::State::kAlive) alive.push_back(info.peer_addr);
      }
      if (alive.empty()) continue;
      targets.push_back(alive[next++ % alive.size()]);
    }
    if (server_->membership() && server_->membership()->removed()) continue;
    for (const std::string& addr : targets) {
      RepairStats st = Repair(addr);
      if (!st.ok) {
        server_->Log(Server::kVerbose, absl::StrCat("anti-entropy with ", addr, ": ", st.error));
      } else if (st.keys_repaired > 0) {
        server_->Log(Server::kNotice,
                     absl::StrCat("anti-entropy with ", addr, " repaired ", st.keys_repaired,
                                  " keys (", st.leaves_differing, " leaves differed, ",
                                  st.bytes_sent + st.bytes_received, " bytes, ",
                                  st.micros / 1000, " ms)"));
      }
    }
  }
}

bool AntiEntropy::OnEveryShard(const std::function<void(Shard&)>& fn) {
  struct Wait {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<bool> done;
  };
  int n = server_->shard_count();
  if (server_->workers_joined()) {
    // Stopping (a leaving node's handoff): no thread owns the shards now.
    for (int i = 0; i < n; i++) fn(server_->worker(i).shard());
    return true;
  }
  auto w = std::make_shared<Wait>();
  w->done.assign(n, false);
  for (int i = 0; i < n; i++) {
    Worker* worker = &server_->worker(i);
    worker->Post([worker, w, &fn, i] {
      fn(worker->shard());
      std::lock_guard<std::mutex> l(w->mu);
      w->done[i] = true;
      w->cv.notify_all();
    });
  }
  // The tasks reference `fn` and the caller's locals: wait until each has
  // run, or its worker's loop has ended (then it never will: shutdown).
  std::unique_lock<std::mutex> l(w->mu);
  while (true) {
    bool waiting = false, complete = true;
    for (int i = 0; i < n; i++) {
      if (w->done[i]) continue;
      complete = false;
      if (!server_->worker(i).exited_.load()) waiting = true;
    }
    if (complete) return true;
    if (!waiting) return false;
    w->cv.wait_for(l, std::chrono::milliseconds(100));
  }
}

std::vector<uint64_t> AntiEntropy::RootsOf(uint32_t peer) {
  int dbs = server_->config().databases;
  std::vector<bool> used(dbs, false);
  std::mutex mu;
  OnEveryShard([&](Shard& s) {
    std::lock_guard<std::mutex> l(mu);
    for (int d = 0; d < dbs; d++) used[d] = used[d] || (s.db(d).has_leaves() && s.db(d).size() > 0);
  });
  std::vector<uint64_t> roots(dbs, 0);
  for (int d = 0; d < dbs; d++) {
    if (used[d]) roots[d] = TreeOf(d, peer)[0][0];
  }
  return roots;
}

std::vector<std::vector<uint64_t>> AntiEntropy::TreeOf(int db, uint32_t peer) {
  std::vector<std::vector<uint64_t>> levels(kLevels);
  std::vector<uint64_t>& leaves = levels[kLevels - 1];
  leaves.assign(Db::kLeaves, 0);
  std::mutex mu;
  OnEveryShard([&](Shard& s) {
    const Db& d = s.db(db);
    if (!d.has_leaves()) return;
    std::lock_guard<std::mutex> l(mu);
    if (d.placed()) {
      for (uint32_t i = 0; i < Db::kLeaves; i++) leaves[i] ^= d.shared_leaf(peer, i);
    } else {
      for (uint32_t i = 0; i < Db::kLeaves; i++) leaves[i] ^= d.leaf(i);
    }
  });
  for (int l = kLevels - 2; l >= 0; l--) {
    const std::vector<uint64_t>& below = levels[l + 1];
    levels[l].resize(below.size() / kFanout);
    for (size_t i = 0; i < levels[l].size(); i++) levels[l][i] = Combine(&below[i * kFanout]);
  }
  return levels;
}

std::vector<std::pair<std::string, uint64_t>> AntiEntropy::KeysIn(
    int db, const std::vector<uint32_t>& leaves, uint32_t peer) {
  std::vector<std::pair<std::string, uint64_t>> out;
  std::set<uint32_t> wanted(leaves.begin(), leaves.end());
  std::mutex mu;
  int64_t now = NowMs();
  OnEveryShard([&](Shard& s) {
    Db& d = s.db(db);
    std::vector<std::pair<std::string, uint64_t>> mine;
    for (uint32_t leaf : wanted) {
      d.ForEachInLeaf(leaf, [&](const Entry& e) {
        if ((!e.has_expire() || e.expire_at() > now) && d.Shared(e.key(), peer)) {
          mine.emplace_back(e.key(), d.Digest(e));
        }
      });
    }
    // Keys known only by a tombstone: digest 0, so the peer learns of them.
    d.ForEachTomb([&](std::string_view key, const crdt::Tombstone&) {
      if (wanted.count(Db::LeafOfKey(key)) && !d.FindRaw(key) && d.Shared(key, peer)) {
        mine.emplace_back(key, 0);
      }
    });
    std::lock_guard<std::mutex> l(mu);
    out.insert(out.end(), mine.begin(), mine.end());
  });
  return out;
}

namespace {
// A stopping node's shards belong to its own shutdown (a leaving node's
// handoff reads them directly): peers' rounds are refused meanwhile.
grpc::Status Stopping() { return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"); }
}  // namespace

grpc::Status AntiEntropy::Roots(const peer::RootsRequest& req, peer::RootsReply* reply) {
  if (!server_->running()) return Stopping();
  for (uint64_t r : RootsOf(req.from())) reply->add_roots(r);
  return grpc::Status::OK;
}

grpc::Status AntiEntropy::Tree(const peer::TreeRequest& req, peer::TreeReply* reply) {
  if (!server_->running()) return Stopping();
  if (req.db() >= static_cast<uint32_t>(server_->config().databases) || req.level() == 0 ||
      req.level() >= static_cast<uint32_t>(kLevels) || req.nodes_size() > int(Db::kLeaves)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad tree request");
  }
  auto tree = TreeOf(static_cast<int>(req.db()), req.from());
  const std::vector<uint64_t>& level = tree[req.level()];
  for (uint32_t n : req.nodes()) {
    if (n >= level.size()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad node");
    reply->add_digests(level[n]);
  }
  return grpc::Status::OK;
}

grpc::Status AntiEntropy::LeafKeys(const peer::LeafKeysRequest& req, peer::LeafKeysReply* reply) {
  if (!server_->running()) return Stopping();
  if (req.db() >= static_cast<uint32_t>(server_->config().databases) ||
      req.leaves_size() > int(Db::kLeaves)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad leaf request");
  }
  std::vector<uint32_t> leaves;
  for (uint32_t l : req.leaves()) {
    if (l >= Db::kLeaves) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad leaf");
    leaves.push_back(l);
  }
  reply->set_holds_only(!RepairMayAddKeys());
  for (auto& [key, digest] : KeysIn(static_cast<int>(req.db()), leaves, req.from())) {
    peer::KeyDigest* kd = reply->add_keys();
    kd->set_key(std::move(key));
    kd->set_digest(digest);
  }
  return grpc::Status::OK;
}

grpc::Status AntiEntropy::FetchKeys(const peer::KeysRequest& req, peer::DeltaBatch* reply) {
  if (!server_->running()) return Stopping();
  return StateOf(req, reply);
}

grpc::Status AntiEntropy::StateOf(const peer::KeysRequest& req, peer::DeltaBatch* reply) {
  if (req.db() >= static_cast<uint32_t>(server_->config().databases)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad database");
  }
  int db = static_cast<int>(req.db());
  std::vector<std::vector<std::string>> by_shard(server_->shard_count());
  for (const std::string& k : req.keys()) by_shard[server_->ShardIndexOf(k)].push_back(k);
  std::vector<peer::Delta> out;
  std::mutex mu;
  int64_t now = NowMs();
  OnEveryShard([&](Shard& s) {
    std::vector<peer::Delta> mine;
    for (const std::string& k : by_shard[s.index()]) AppendKeyState(s.db(db), db, k, now, &mine);
    std::lock_guard<std::mutex> l(mu);
    for (auto& d : mine) out.push_back(std::move(d));
  });
  reply->set_snapshot(true);
  for (auto& d : out) reply->add_deltas()->Swap(&d);
  return grpc::Status::OK;
}

grpc::Status AntiEntropy::PushKeys(const peer::DeltaBatch& req, peer::Ack* reply) {
  if (!server_->running()) {
    // Shutting down: the sender must keep its keys or push them elsewhere.
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
  }
  std::string why;
  peer::DeltaBatch batch = req;
  batch.set_snapshot(true);
  Replicator& r = server_->replicator();
  if (!r.Validate(batch, &why)) {
    server_->Log(Server::kWarning, absl::StrCat("refusing anti-entropy push: ", why));
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, why);
  }
  keys_repaired_ += batch.deltas_size();
  r.ApplyBatch(0, batch, nullptr, /*only_existing=*/req.repair() && !RepairMayAddKeys());
  return grpc::Status::OK;
}

RepairStats AntiEntropy::Repair(const std::string& peer_addr) {
  RepairStats st;
  int64_t start = MonoMicros();
  gossip::Membership* m = server_->membership();
  if (!m) {
    st.error = "no peer service";
    return st;
  }
  // A connection of its own: rounds are rare, and a cached channel may
  // point at a peer's previous life.
  auto channel = gossip::DialPeer(peer_addr, server_->SourceIp(), 1000);
  if (!channel.ok()) {
    st.error = std::string(channel.status().message());
    return st;
  }
  auto stub = peer::Peer::NewStub(*channel);
  auto call = [&](auto method, const auto& req, auto* reply) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(kRpcTimeoutMs));
    grpc::Status s = (stub.get()->*method)(&ctx, req, reply);
    st.rpcs++;
    st.bytes_sent += req.ByteSizeLong();
    st.bytes_received += reply->ByteSizeLong();
    if (!s.ok()) st.error = s.error_message();
    return s.ok();
  };
  // With placement the two nodes compare only the keys they both hold.
  const uint32_t self = m->self_id();
  uint32_t peer_id = 0;
  for (const auto& info : m->Snapshot()) {
    if (!info.self && info.peer_addr == peer_addr) peer_id = info.id;
  }
  peer::RootsRequest rreq;
  rreq.set_from(self);
  peer::RootsReply roots;
  if (!call(&peer::Peer::Stub::Roots, rreq, &roots)) return st;
  std::vector<uint64_t> mine = RootsOf(peer_id);
  Replicator& r = server_->replicator();
  for (int db = 0; db < static_cast<int>(mine.size()); db++) {
    uint64_t theirs = db < roots.roots_size() ? roots.roots(db) : 0;
    if (theirs == mine[db]) continue;
    st.dbs_differing++;
    auto tree = TreeOf(db, peer_id);
    std::vector<uint32_t> diff = {0};
    for (int level = 1; level < kLevels && !diff.empty(); level++) {
      peer::TreeRequest req;
      req.set_db(db);
      req.set_level(level);
      req.set_from(self);
      for (uint32_t parent : diff) {
        for (int j = 0; j < kFanout; j++) req.add_nodes(parent * kFanout + j);
      }
      peer::TreeReply reply;
      if (!call(&peer::Peer::Stub::Tree, req, &reply)) return st;
      if (reply.digests_size() != req.nodes_size()) {
        st.error = "short tree reply";
        return st;
      }
      diff.clear();
      for (int i = 0; i < req.nodes_size(); i++) {
        if (reply.digests(i) != tree[level][req.nodes(i)]) diff.push_back(req.nodes(i));
      }
    }
    st.leaves_differing += diff.size();
    if (diff.empty()) continue;
    // Leaves in chunks, so that no step holds the keys of every differing
    // leaf at once (that memory counts against maxmemory).
    constexpr size_t kLeafChunk = 2048;
    for (size_t lo = 0; lo < diff.size(); lo += kLeafChunk) {
      std::vector<uint32_t> part(diff.begin() + lo,
                                 diff.begin() + std::min(diff.size(), lo + kLeafChunk));
      // Keys of the differing leaves, both sides.
      peer::LeafKeysRequest lreq;
      lreq.set_db(db);
      lreq.set_from(self);
      for (uint32_t leaf : part) lreq.add_leaves(leaf);
      peer::LeafKeysReply lreply;
      if (!call(&peer::Peer::Stub::LeafKeys, lreq, &lreply)) return st;
      std::map<std::string, uint64_t> local;
      for (auto& [k, d] : KeysIn(db, part, peer_id)) local.emplace(std::move(k), d);
      // Near maxmemory a side takes no key it lacks (docs/consistency.md,
      // "Eviction"): such keys are left out of the repair on both sides, so
      // what eviction dropped is neither pulled back nor shipped for nothing.
      const bool we_add = RepairMayAddKeys();
      const bool they_add = !lreply.holds_only();
      std::set<std::string> repair;
      for (const peer::KeyDigest& kd : lreply.keys()) {
        auto it = local.find(kd.key());
        if (it == local.end() ? we_add : it->second != kd.digest()) repair.insert(kd.key());
      }
      std::set<std::string> theirs_keys;
      for (const peer::KeyDigest& kd : lreply.keys()) theirs_keys.insert(kd.key());
      for (const auto& [k, d] : local) {
        if (!theirs_keys.count(k) && they_add) repair.insert(k);
      }
      st.keys_compared += local.size() + lreply.keys_size();
      if (repair.empty()) continue;
      st.keys_repaired += repair.size();
      // Theirs, merged here.
      peer::KeysRequest kreq;
      kreq.set_db(db);
      for (const std::string& k : repair) kreq.add_keys(k);
      const peer::KeysRequest& fetch = kreq;
      // In chunks, so a large repair never holds all of its state at once
      // (the memory counts against maxmemory while it is held).
      constexpr int kFetchChunk = 512;
      for (int off = 0; off < fetch.keys_size(); off += kFetchChunk) {
        peer::KeysRequest chunk;
        chunk.set_db(db);
        for (int k = off; k < std::min(fetch.keys_size(), off + kFetchChunk); k++) {
          chunk.add_keys(fetch.keys(k));
        }
        peer::DeltaBatch fetched;
        if (!call(&peer::Peer::Stub::FetchKeys, chunk, &fetched)) return st;
        std::string why;
        fetched.set_snapshot(true);
        if (!r.Validate(fetched, &why)) {
          st.error = "peer sent bad state: " + why;
          return st;
        }
        r.ApplyBatch(0, fetched, nullptr);
      }
      // Ours, merged there.
      peer::DeltaBatch push;
      StateOf(kreq, &push);
      push.set_repair(true);
      peer::Ack ack;
      if (!call(&peer::Peer::Stub::PushKeys, push, &ack)) return st;
    }
  }
  st.ok = true;
  st.micros = MonoMicros() - start;
  server_->replicator().RepairDone(peer_addr);
  rounds_++;
  keys_repaired_ += st.keys_repaired;
  return st;
}

uint64_t AntiEntropy::Handoff(const std::vector<std::string>* only) {
  gossip::Membership* m = server_->membership();
  std::shared_ptr<const PlacementView> view = server_->placement().view();
  if (!m || !view->ring) return 0;
  const uint32_t self = view->self;
  // 1. What this node holds but should not: (db, key, digest at the time).
  struct Stray {
    int db;
    std::string key;
    uint64_t digest;  // 0: tombstone only
  };
  constexpr size_t kMaxPerPass = 200000;
  std::vector<Stray> strays;
  std::mutex mu;
  OnEveryShard([&](Shard& s) {
    std::vector<Stray> mine;
    for (int db = 0; db < s.databases(); db++) {
      Db& d = s.db(db);
      auto consider = [&](std::string_view key, uint64_t digest) {
        if (mine.size() >= kMaxPerPass) return;
        if (!view->Holds(self, key)) mine.push_back(Stray{db, std::string(key), digest});
      };
      if (only) {
        for (const std::string& k : *only) {
          if (const Entry* e = d.FindRaw(k)) consider(k, d.Digest(*e));
          else if (d.FindTomb(k)) consider(k, 0);
        }
        continue;
      }
      if (d.size() == 0 && d.tomb_count() == 0) continue;
      d.ForEach([&](const Entry& e) { consider(e.key(), d.Digest(e)); });
      d.ForEachTomb([&](std::string_view key, const crdt::Tombstone&) {
        if (!d.FindRaw(key)) consider(key, 0);
      });
    }
    std::lock_guard<std::mutex> l(mu);
    for (auto& x : mine) strays.push_back(std::move(x));
  });
  if (strays.empty()) return 0;
  // 2. Push each key's state to every reachable replica.
  std::map<uint32_t, std::string> addrs;
  for (const auto& info : m->Snapshot()) {
    if (!info.self && info.state == gossip::State::kAlive) addrs[info.id] = info.peer_addr;
  }
  // A leaving node has seconds, not minutes: bounded calls.
  const int rpc_ms = server_->workers_joined() ? 3000 : kRpcTimeoutMs;
  // (target, db) -> indexes into strays
  std::map<std::pair<uint32_t, int>, std::vector<size_t>> plan;
  for (size_t i = 0; i < strays.size(); i++) {
    for (uint32_t id : view->ring->ReplicasFor(strays[i].key)) {
      if (id != self && addrs.count(id)) plan[{id, strays[i].db}].push_back(i);
    }
  }
  std::vector<bool> delivered(strays.size(), false);
  std::map<uint32_t, std::unique_ptr<peer::Peer::Stub>> stubs;
  for (auto& [target, idx] : plan) {
    auto& stub = stubs[target.first];
    if (!stub) {
      auto channel = gossip::DialPeer(addrs[target.first], server_->SourceIp(), 1000);
      if (!channel.ok()) continue;
      stub = peer::Peer::NewStub(*channel);
    }
    for (size_t off = 0; off < idx.size(); off += 1024) {
      size_t end = std::min(idx.size(), off + 1024);
      peer::KeysRequest kreq;
      kreq.set_db(target.second);
      for (size_t k = off; k < end; k++) kreq.add_keys(strays[idx[k]].key);
      peer::DeltaBatch push;
      StateOf(kreq, &push);
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(rpc_ms));
      peer::Ack ack;
      if (!stub->PushKeys(&ctx, push, &ack).ok()) break;
      for (size_t k = off; k < end; k++) delivered[idx[k]] = true;
    }
  }
  // 3. Drop what a replica took, unless it changed meanwhile (a delta that
  // arrived after the push; the next pass moves it).
  std::atomic<uint64_t> dropped{0};
  std::shared_ptr<const PlacementView> now_view = server_->placement().view();
  OnEveryShard([&](Shard& s) {
    for (size_t i = 0; i < strays.size(); i++) {
      if (!delivered[i] || server_->ShardIndexOf(strays[i].key) != s.index()) continue;
      Db& d = s.db(strays[i].db);
      const Entry* e = d.FindRaw(strays[i].key);
      if (e ? d.Digest(*e) != strays[i].digest : strays[i].digest != 0) continue;
      if (!now_view->Holds(self, strays[i].key)) {
        if (e) d.Delete(strays[i].key);
        d.EraseTomb(strays[i].key);
        dropped++;
      }
    }
  });
  handed_off_ += dropped.load();
  return dropped.load();
}

}  // namespace lattice::node
