#include "node/cluster/replication.h"

#include "node/notify.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gossip/dial.h"
#include "grpcpp/grpcpp.h"
#include "node/cluster/merge.h"
#include "node/persist/aof.h"
#include "node/server.h"
#include "node/stamp_proto.h"
#include "node/storage/stable_hash.h"

namespace lattice::node {

// ---- LatencyHistogram ----

constexpr int64_t LatencyHistogram::kBoundsUs[];

void LatencyHistogram::Record(int64_t us) {
  if (us < 0) us = 0;
  int i = 0;
  while (i < kBuckets - 1 && us > kBoundsUs[i]) i++;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<uint64_t>(us), std::memory_order_relaxed);
}

int64_t LatencyHistogram::Quantile(double q) const {
  uint64_t total = count();
  if (total == 0) return 0;
  uint64_t want = static_cast<uint64_t>(q * static_cast<double>(total) + 0.5);
  if (want == 0) want = 1;
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; i++) {
    seen += bucket(i);
    if (seen >= want) return i < kBuckets - 1 ? kBoundsUs[i] : kBoundsUs[kBuckets - 2] * 2;
  }
  return kBoundsUs[kBuckets - 2] * 2;
}

void LatencyHistogram::Reset() {
  for (auto& b : buckets_) b.store(0, std::memory_order_relaxed);
  count_.store(0, std::memory_order_relaxed);
  sum_us_.store(0, std::memory_order_relaxed);
}

// ---- Link: one peer ----

struct Replicator::Link {
  explicit Link(const gossip::MemberInfo& m) : id(m.id), name(m.name), addr(m.peer_addr) {}
  const uint32_t id;
  // name/addr/state: guarded by Replicator::links_mu_.
  std::string name;
  std::string addr;
  gossip::State state = gossip::State::kAlive;
  std::atomic<bool> stop{false};
  std::atomic<bool> running{false};  // RunLink is active
  std::atomic<bool> connected{false};
  std::atomic<bool> needs_repair{false};
  std::atomic<uint64_t> acked{0};
  std::atomic<uint64_t> deltas_sent{0}, bytes_sent{0}, batches_sent{0}, reconnects{0},
      snapshots{0};
  std::atomic<uint64_t> deltas_received{0}, deltas_applied{0}, batches_rejected{0};
  std::atomic<int64_t> last_lag_us{0};
  LatencyHistogram lag;
  std::mutex ctx_mu;
  grpc::ClientContext* ctx = nullptr;  // the live session, to cancel on stop
  std::thread thread;
};

namespace {

int64_t WallUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

crdt::Tombstone TombFromProto(const peer::Delta& d, const peer::Remove& r) {
  crdt::Tombstone t;
  t.stamp = FromProto(d.stamp());
  t.max_dead = FromProto(r.max_dead());
  for (const peer::Stamp& d : r.dots()) t.AddDot(FromProto(d));
  for (const peer::VersionEntry& e : r.seen()) t.seen.Observe(e.node_id(), e.counter());
  t.outranks = FromProto(r.outranks());
  t.outranks_type = static_cast<uint8_t>(r.outranks_type());
  return t;
}

bool ApplyDeltaInner(Shard& shard, const peer::Delta& d, int64_t now_ms);

// A write merged from a peer, told as the event of its kind (the peer's
// command is not known here): docs/consistency.md, "Keyspace notifications".
void NotifyMerged(const peer::Delta& d) {
  switch (d.change_case()) {
    case peer::Delta::kAssign:
      NotifyKeyspaceEvent(kNotifyString, d.assign().hll() ? "pfadd" : "set", d.key(),
                          static_cast<int>(d.db()));
      return;
    case peer::Delta::kCounter:
      NotifyKeyspaceEvent(kNotifyString, "incrby", d.key(), static_cast<int>(d.db()));
      return;
    case peer::Delta::kRemove:
      NotifyKeyspaceEvent(kNotifyGeneric, "del", d.key(), static_cast<int>(d.db()));
      return;
    case peer::Delta::kElements: {
      static constexpr std::pair<uint32_t, std::string_view> kByType[] = {
          {kNotifyString, "set"}, {kNotifyHash, "hset"}, {kNotifySet, "sadd"},
          {kNotifyZset, "zadd"}, {kNotifyList, "lpush"}, {kNotifyStream, "xadd"}};
      uint32_t type = d.elements().type();
      if (type < std::size(kByType)) {
        NotifyKeyspaceEvent(kByType[type].first, kByType[type].second, d.key(),
                            static_cast<int>(d.db()));
      }
      return;
    }
    default:
      return;
  }
}

}  // namespace

// Applies one validated delta to `shard`. Runs on the shard's thread.
bool ApplyDelta(Shard& shard, const peer::Delta& d, int64_t now_ms) {
  bool applied = ApplyDeltaInner(shard, d, now_ms);
  if (!applied) return false;
  if (DeltaSink* sink = shard.sink()) sink->Applied(d);
  if (g_notify_flags.load(std::memory_order_relaxed)) NotifyMerged(d);
  return applied;
}

namespace {

bool ApplyDeltaInner(Shard& shard, const peer::Delta& d, int64_t now_ms) {
  uint32_t lru = InitialLru(now_ms);
  crdt::Stamp stamp = FromProto(d.stamp());
  switch (d.change_case()) {
    case peer::Delta::kAssign: {
      int64_t at = d.assign().expire_at_ms() > 0 ? d.assign().expire_at_ms() : -1;
      if (d.assign().hll()) {
        return MergeHll(shard.db(d.db()), d.key(), stamp, d.assign().value(), at,
                        FromProto(d.assign().hll_floor()), now_ms, lru);
      }
      return MergeAssign(shard.db(d.db()), d.key(), stamp, d.assign().value(), at, now_ms, lru);
    }
    case peer::Delta::kCounter: {
      const peer::CounterAdd& c = d.counter();
      int64_t at = c.expire_at_ms() > 0 ? c.expire_at_ms() : -1;
      crdt::PnCounter::Contribution contribution{c.node_id(), c.increments(), c.decrements(),
                                                 c.epoch()};
      return MergeCounter(shard.db(d.db()), d.key(), stamp, c.base(), at, contribution, now_ms,
                          lru);
    }
    case peer::Delta::kRemove:
      return MergeRemove(shard.db(d.db()), d.key(), TombFromProto(d, d.remove()), now_ms);
    case peer::Delta::kElements:
      return MergeElements(shard.db(d.db()), d.key(), stamp, d.elements(), now_ms, lru);
    case peer::Delta::kFlush: {
      crdt::Tombstone t = TombFromProto(d, d.flush());
      for (int i = 0; i < shard.databases(); i++) {
        if (d.all_dbs() || i == static_cast<int>(d.db())) MergeFlush(shard.db(i), t);
      }
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

void TombToProto(const crdt::Tombstone& t, peer::Remove* r) {
  for (const auto& e : t.seen.entries()) {
    peer::VersionEntry* v = r->add_seen();
    v->set_node_id(e.node);
    v->set_counter(e.counter);
  }
  if (!t.max_dead.IsZero()) ToProto(t.max_dead, r->mutable_max_dead());
  for (const crdt::Stamp& d : t.dots) ToProto(d, r->add_dots());
  if (!t.outranks.IsZero()) {
    ToProto(t.outranks, r->mutable_outranks());
    r->set_outranks_type(t.outranks_type);
  }
}

// The deltas that rebuild entry `e` of database `db` (`src`) on a replica:
// its assignment, for a counter one contribution per node on its base, for
// a merged HyperLogLog one HLL assignment per part, each naming the floor.
void EntryToDeltas(const Db& src, int db, const Entry& e, std::vector<peer::Delta>* out) {
  auto start = [&] {
    peer::Delta& d = out->emplace_back();
    d.set_db(static_cast<uint32_t>(db));
    d.set_key(e.key().data(), e.key().size());
    return &d;
  };
  int64_t at = e.has_expire() ? e.expire_at() : 0;
  if (e.is_collection()) {
    CollectionToDelta(db, e, &out->emplace_back());
    return;
  }
  if (e.enc() == Enc::kCounter) {
    const crdt::PnCounter& c = *e.counter();
    for (const auto& contribution : c.contributions()) {
      peer::Delta* d = start();
      ToProto(c.base_stamp(), d->mutable_stamp());
      peer::CounterAdd* add = d->mutable_counter();
      add->set_base(c.base());
      add->set_expire_at_ms(at);
      add->set_node_id(contribution.node);
      add->set_increments(contribution.p);
      add->set_decrements(contribution.n);
      add->set_epoch(contribution.epoch);
    }
    return;
  }
  if (const HllState* h = e.hll_merged() ? src.FindHll(e.key()) : nullptr) {
    auto part = [&](crdt::Stamp stamp, int64_t expire_at, std::string_view bytes) {
      peer::Delta* p = start();
      ToProto(stamp, p->mutable_stamp());
      peer::Assign* a = p->mutable_assign();
      a->set_value(bytes.data(), bytes.size());
      a->set_expire_at_ms(expire_at > 0 ? expire_at : 0);
      a->set_hll(true);
      if (!h->floor.IsZero()) ToProto(h->floor, a->mutable_hll_floor());
    };
    if (h->parts.empty()) part(e.stamp(), at, e.bytes());
    for (const HllPart& p : h->parts) part(p.stamp, p.expire_at, p.bytes);
    return;
  }
  peer::Delta* p = start();
  ToProto(e.stamp(), p->mutable_stamp());
  char buf[24];
  std::string_view v = e.StringValue(buf);
  p->mutable_assign()->set_value(v.data(), v.size());
  p->mutable_assign()->set_expire_at_ms(at);
}

void AppendKeyState(Db& db, int db_index, std::string_view key, int64_t now_ms,
                    std::vector<peer::Delta>* out) {
  if (const crdt::Tombstone* t = db.FindTomb(key)) {
    peer::Delta& del = out->emplace_back();
    del.set_db(static_cast<uint32_t>(db_index));
    del.set_key(key.data(), key.size());
    ToProto(t->stamp, del.mutable_stamp());
    TombToProto(*t, del.mutable_remove());
  }
  Entry* e = db.Find(key, now_ms);
  if (e) EntryToDeltas(db, db_index, *e, out);
}

// ---- Replicator ----

Replicator::Replicator(Server* server, gossip::Membership* membership, bool causal,
                       int64_t backlog_bytes, std::string source_ip)
    : server_(server),
      membership_(membership),
      causal_(causal),
      backlog_bytes_(backlog_bytes),
      source_ip_(std::move(source_ip)),
      self_(server->clock().node()),
      // Sequence numbers start at the start time (ms) shifted left by 12
      // bits: a restarted node continues above anything its previous life
      // sent unless it wrote more than 4096 deltas per ms on average.
      seq_base_(static_cast<uint64_t>(WallUs() / 1000) << 12),
      next_seq_(seq_base_ + 1),
      deps_now_(std::make_shared<std::vector<peer::VersionEntry>>()) {}

Replicator::~Replicator() { Stop(); }

void Replicator::AttachSinks() {
  if (attached_.exchange(true)) return;
  for (int i = 0; i < server_->shard_count(); i++) {
    Worker& w = server_->worker(i);
    w.shard().set_has_peers();
    // With an append-only log, the log stays the shard's sink and hands
    // every delta on to this replicator.
    if (!server_->aof()) w.shard().set_sink(this);
    // Merkle leaves for anti-entropy: built once here, then kept up to date
    // by every write (a standalone node never pays for them).
    w.Post([&w] {
      for (int d = 0; d < w.shard().databases(); d++) w.shard().db(d).EnableMerkle();
    });
  }
  if (server_->aof()) server_->aof()->set_next(this);
  server_->Log(Server::kNotice, "replication on: writes are shipped to peers from now on");
}

void Replicator::RestoreApplied(const std::map<uint32_t, uint64_t>& applied) {
  restored_ = true;
  std::lock_guard<std::mutex> l(recv_mu_);
  for (const auto& [origin, seq] : applied) {
    if (origin != self_) applied_[origin] = seq;
  }
}

// Marks in the append-only log what the origin's stream is applied up to.
void Replicator::NoteApplied(uint32_t origin, uint64_t seq) {
  if (AppendLog* log = server_->aof()) log->AppendApplied(origin, seq);
}

void Replicator::Start() {
  if (membership_) {
    membership_->set_self_seen([this] { return SeenVector(); });
    membership_->AddListener([this](const gossip::MemberInfo& m) { OnMember(m); });
    for (const gossip::MemberInfo& m : membership_->Snapshot()) {
      if (!m.self) OnMember(m);
    }
  }
  housekeeping_ = std::thread([this] { Housekeeping(); });
}

void Replicator::Stop() {
  if (stopping_.exchange(true)) return;
  {
    std::lock_guard<std::mutex> l(log_mu_);
  }
  log_cv_.notify_all();
  linger_cv_.notify_all();
  recv_cv_.notify_all();
  hk_cv_.notify_all();
  std::vector<Link*> links;
  {
    std::lock_guard<std::mutex> l(links_mu_);
    for (auto& [id, link] : links_) links.push_back(link.get());
  }
  for (Link* link : links) {
    link->stop = true;
    std::lock_guard<std::mutex> l(link->ctx_mu);
    if (link->ctx) link->ctx->TryCancel();
  }
  log_cv_.notify_all();
  for (Link* link : links) {
    if (link->thread.joinable()) link->thread.join();
  }
  if (housekeeping_.joinable()) housekeeping_.join();
  std::lock_guard<std::mutex> l(waiters_mu_);
  for (Waiter& w : waiters_) w.done(0);
  waiters_.clear();
}

Replicator::Link* Replicator::FindLink(uint32_t id) {
  std::lock_guard<std::mutex> l(links_mu_);
  auto it = links_.find(id);
  return it == links_.end() ? nullptr : it->second.get();
}

void Replicator::OnMember(const gossip::MemberInfo& m) {
  if (stopping_) return;
  Link* start = nullptr;
  {
    std::lock_guard<std::mutex> l(links_mu_);
    auto it = links_.find(m.id);
    if (it == links_.end()) {
      if (m.state == gossip::State::kLeft) return;
      auto link = std::make_unique<Link>(m);
      link->running = true;
      start = link.get();
      links_.emplace(m.id, std::move(link));
    } else {
      it->second->addr = m.peer_addr;
      it->second->name = m.name;
      // A member that left and came back gets its sender again.
      if (m.state != gossip::State::kLeft && !it->second->running) {
        it->second->running = true;
        start = it->second.get();
      }
    }
    links_[m.id]->state = m.state;
  }
  if (m.state != gossip::State::kLeft) AttachSinks();
  if (start) {
    if (start->thread.joinable()) start->thread.join();
    start->thread = std::thread([this, start] { RunLink(start); });
  }
  log_cv_.notify_all();
}

void Replicator::BeginGroup() {
  std::lock_guard<std::mutex> l(log_mu_);
  if (open_groups_++ == 0) group_start_ = next_seq_;
}

void Replicator::EndGroup() {
  {
    std::lock_guard<std::mutex> l(log_mu_);
    if (--open_groups_ > 0) return;
    uint64_t oldest = log_.empty() ? next_seq_ : log_.front().seq;
    if (next_seq_ - group_start_ > 1) {
      for (uint64_t seq = std::max(group_start_, oldest); seq < next_seq_; seq++) {
        log_[seq - oldest].group_end = next_seq_ - 1;
      }
    }
  }
  log_cv_.notify_all();
}

void Replicator::Emit(const Delta& delta) {
  Record r;
  r.wire.reserve(delta.key.size() + delta.value.size() + 40);
  EncodeDelta(delta, &r.wire);
  if (server_->placement().partial() && !delta.key.empty()) {
    r.routed = true;
    r.khash = StableHash64(delta.key);
    r.point = Ring::PointOf(delta.key, r.khash);
  }
  r.bytes = r.wire.size() + sizeof(Record);
  r.emit_us = WallUs();
  emitted_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> l(log_mu_);
    r.seq = next_seq_++;
    if (causal_) r.deps = deps_now_;
    log_bytes_ += r.bytes;
    log_.push_back(std::move(r));
    // The backlog is bounded: the oldest deltas go first. A peer that still
    // needed them notices when it resumes and is marked for repair.
    while (log_bytes_ > static_cast<uint64_t>(backlog_bytes_) && log_.size() > 1) {
      log_bytes_ -= log_.front().bytes;
      log_.pop_front();
    }
  }
  // Senders wake once per worker loop iteration (Flush), not per delta, so
  // a pipelined burst leaves as one batch.
  if (!unflushed_.load(std::memory_order_relaxed)) unflushed_.store(true);
}

crdt::Tombstone Replicator::NewTombstone(crdt::Stamp stamp) {
  crdt::Tombstone t;
  t.stamp = stamp;
  {
    std::lock_guard<std::mutex> l(recv_mu_);
    t.seen = seen_;
  }
  // Every earlier local write has a smaller counter.
  t.seen.Observe(self_, stamp.counter - 1);
  if (tls_forwarded_seen) t.seen.Merge(*tls_forwarded_seen);
  return t;
}

uint64_t Replicator::head_seq() const {
  std::lock_guard<std::mutex> l(log_mu_);
  return next_seq_ - 1;
}

uint64_t Replicator::log_bytes() const {
  std::lock_guard<std::mutex> l(log_mu_);
  return log_bytes_;
}

uint64_t Replicator::log_records() const {
  std::lock_guard<std::mutex> l(log_mu_);
  return log_.size();
}

int Replicator::CountAcked(uint64_t seq) const {
  std::lock_guard<std::mutex> l(links_mu_);
  int n = 0;
  for (const auto& [id, link] : links_) {
    if (link->state != gossip::State::kLeft && link->connected && link->acked >= seq) n++;
  }
  return n;
}

void Replicator::AddWaiter(uint64_t seq, int n, int64_t deadline_ms,
                           std::function<void(int)> done) {
  std::lock_guard<std::mutex> l(waiters_mu_);
  waiters_.push_back(Waiter{seq, n, deadline_ms, std::move(done)});
}

void Replicator::CheckWaiters(int64_t now_ms) {
  std::vector<std::pair<std::function<void(int)>, int>> ready;
  {
    std::lock_guard<std::mutex> l(waiters_mu_);
    for (size_t i = 0; i < waiters_.size();) {
      Waiter& w = waiters_[i];
      int count = CountAcked(w.seq);
      if (count >= w.n || (w.deadline_ms > 0 && now_ms >= w.deadline_ms) || stopping_) {
        ready.emplace_back(std::move(w.done), count);
        waiters_[i] = std::move(waiters_.back());
        waiters_.pop_back();
      } else {
        i++;
      }
    }
  }
  for (auto& [fn, count] : ready) fn(count);
}

void Replicator::Housekeeping() {
  while (!stopping_) {
    {
      std::unique_lock<std::mutex> l(hk_mu_);
      hk_cv_.wait_for(l, std::chrono::milliseconds(5), [this] { return stopping_.load(); });
    }
    int64_t now = WallUs() / 1000;
    CheckWaiters(now);
    if (now - last_gc_ms_ >= 1000) {
      last_gc_ms_ = now;
      CollectTombs();
    }
  }
  CheckWaiters(WallUs() / 1000);
}

std::vector<PeerView> Replicator::Peers() const {
  uint64_t head = head_seq();
  std::vector<PeerView> out;
  std::lock_guard<std::mutex> l(links_mu_);
  for (const auto& [id, link] : links_) {
    PeerView v;
    v.id = id;
    v.name = link->name;
    v.addr = link->addr;
    v.state = link->state;
    v.connected = link->connected;
    v.needs_repair = link->needs_repair;
    v.acked_seq = link->acked;
    uint64_t acked = std::max<uint64_t>(v.acked_seq, seq_base_);
    v.backlog = head > acked ? head - acked : 0;
    v.deltas_sent = link->deltas_sent;
    v.bytes_sent = link->bytes_sent;
    v.batches_sent = link->batches_sent;
    v.reconnects = link->reconnects;
    v.snapshots = link->snapshots;
    v.deltas_received = link->deltas_received;
    v.deltas_applied = link->deltas_applied;
    v.batches_rejected = link->batches_rejected;
    v.last_lag_us = link->last_lag_us;
    v.lag = &link->lag;
    out.push_back(v);
  }
  return out;
}

std::vector<std::pair<uint32_t, uint64_t>> Replicator::SeenVector() {
  std::vector<std::pair<uint32_t, uint64_t>> out;
  {
    std::lock_guard<std::mutex> l(recv_mu_);
    for (const auto& e : seen_.entries()) {
      if (e.node != self_) out.emplace_back(e.node, e.counter);
    }
  }
  out.emplace_back(self_, server_->StableClock());
  return out;
}

uint64_t Replicator::StableCounter() {
  if (!membership_) return 0;
  std::vector<gossip::MemberInfo> members = membership_->Snapshot();
  std::vector<uint32_t> origins;
  for (const auto& m : members) {
    if (m.state != gossip::State::kLeft) origins.push_back(m.id);
  }
  if (origins.size() < 2) return 0;  // nobody to be stable with
  uint64_t stable = UINT64_MAX;
  for (const auto& m : members) {
    if (m.state == gossip::State::kLeft) continue;
    std::vector<std::pair<uint32_t, uint64_t>> seen = m.self ? SeenVector() : m.seen;
    for (uint32_t o : origins) {
      uint64_t v = 0;
      for (const auto& [node, counter] : seen) {
        if (node == o) v = counter;
      }
      stable = std::min(stable, v);
    }
  }
  return stable == UINT64_MAX ? 0 : stable;
}

void Replicator::CollectTombs() {
  uint64_t stable = StableCounter();
  if (stable == 0 || !attached_) return;
  for (int i = 0; i < server_->shard_count(); i++) {
    Worker& w = server_->worker(i);
    w.Post([&w, stable, this] {
      size_t n = 0;
      for (int d = 0; d < w.shard().databases(); d++) n += w.shard().db(d).CollectTombs(stable);
      tombs_collected_ += n;
    });
  }
}

void Replicator::RepairDone(const std::string& peer_addr) {
  std::lock_guard<std::mutex> l(links_mu_);
  for (auto& [id, link] : links_) {
    if (link->addr == peer_addr) link->needs_repair = false;
  }
}

void Replicator::ResetLag() {
  lag_all_.Reset();
  std::lock_guard<std::mutex> l(links_mu_);
  for (auto& [id, link] : links_) link->lag.Reset();
}

// ---- sending ----

void Replicator::RunLink(Link* link) {
  int backoff_ms = 50;
  while (!link->stop && !stopping_) {
    {
      std::lock_guard<std::mutex> l(links_mu_);
      if (link->state == gossip::State::kLeft) break;
    }
    if (membership_ && membership_->removed()) break;
    // A session that got going resets the backoff; failures double it.
    // With replication-stream off (an operator's switch; the tests use it to
    // leave repair to anti-entropy) deltas stay in the log.
    if (!server_->replication_stream()) {
      backoff_ms = 100;
    } else {
      backoff_ms = Session(link) ? 50 : std::min(backoff_ms * 2, 1000);
    }
    std::unique_lock<std::mutex> l(log_mu_);
    log_cv_.wait_for(l, std::chrono::milliseconds(backoff_ms),
                     [&] { return link->stop.load() || stopping_.load(); });
  }
  link->connected = false;
  link->running = false;
}

bool Replicator::Session(Link* link) {
  std::string addr;
  {
    std::lock_guard<std::mutex> l(links_mu_);
    addr = link->addr;
  }
  auto channel = gossip::DialPeer(addr, source_ip_, 1000);
  if (!channel.ok()) return false;
  // The stream writes pre-encoded batches (RawBatch) on the generated
  // method's path; the receiver parses them as peer.DeltaBatch.
  static const char kMethod[] = "/lattice.peer.Peer/Replicate";
  grpc::internal::RpcMethod method(kMethod, grpc::internal::RpcMethod::BIDI_STREAMING);
  grpc::ClientContext ctx;
  {
    std::lock_guard<std::mutex> l(link->ctx_mu);
    if (link->stop) return false;
    link->ctx = &ctx;
  }
  std::unique_ptr<grpc::ClientReaderWriter<RawBatch, peer::Ack>> stream(
      grpc::internal::ClientReaderWriterFactory<RawBatch, peer::Ack>::Create(channel->get(),
                                                                             method, &ctx));
  auto finish = [&] {
    {
      std::lock_guard<std::mutex> l(link->ctx_mu);
      link->ctx = nullptr;
    }
    ctx.TryCancel();
  };
  RawBatch hello;
  hello.SetHello(self_);
  peer::Ack first;
  if (!stream->Write(hello) || !stream->Read(&first)) {
    finish();
    stream->Finish();
    return false;
  }
  // Resume right after what the peer has. A peer that has nothing from
  // this life of ours, or that missed deltas which left the backlog, first
  // gets a snapshot of the whole keyspace; the log continues after it.
  // A peer that has this life's deltas up to some point but missed some
  // that left the backlog holds most of the data already: it resumes at the
  // oldest delta kept and a Merkle round repairs the gap (cost grows with
  // the difference, not the data).
  uint64_t next;
  bool snapshot = false;
  bool repair = false;
  bool restarted = false;
  {
    std::lock_guard<std::mutex> l(log_mu_);
    uint64_t oldest = log_.empty() ? next_seq_ : log_.front().seq;
    next = std::max(first.applied_seq() + 1, seq_base_ + 1);
    // Sequence numbers of this life are above seq_base_; a peer that says
    // exactly seq_base_ got this life's snapshot (or its empty log start).
    if (first.applied_seq() < seq_base_ && restored_ && first.applied_seq() > 0) {
      // The peer has our writes from before a restart, and we came back
      // from our own files: what it lacks is at most what we wrote last
      // before stopping. This life's log from its start, and a Merkle
      // round for the rest, instead of the whole keyspace.
      repair = true;
      restarted = true;
      next = oldest;
    } else if (first.applied_seq() < seq_base_) {
      snapshot = true;
      next = next_seq_;
    } else if (next < oldest) {
      repair = true;
      next = oldest;
    }
    next = std::min(next, next_seq_);
    link->acked = snapshot ? first.applied_seq() : next - 1;
  }
  if (repair) {
    link->needs_repair = true;
    server_->Log(restarted ? Server::kNotice : Server::kWarning,
                 restarted ? absl::StrCat("peer ", addr, " has our writes from before our restart; "
                                          "repairing the rest by anti-entropy")
                           : absl::StrCat("peer ", addr, " missed deltas that left the "
                                          "backlog; repairing it by anti-entropy"));
    if (repair_request_) repair_request_(addr);
  }
  if (snapshot && !SendSnapshot(link, stream.get(), next)) {
    finish();
    stream->Finish();
    return false;
  }
  link->connected = true;
  link->reconnects++;
  server_->Log(Server::kNotice, absl::StrCat("replicating to ", addr, " from sequence ", next));

  // Acknowledgements arrive on their own thread.
  std::thread reader([&] {
    peer::Ack ack;
    while (stream->Read(&ack)) {
      uint64_t seq = ack.applied_seq();
      int64_t emit_us = 0;
      {
        std::lock_guard<std::mutex> l(log_mu_);
        if (seq > link->acked) link->acked = seq;
        if (!log_.empty() && seq >= log_.front().seq && seq < next_seq_) {
          emit_us = log_[seq - log_.front().seq].emit_us;
        }
      }
      if (emit_us) {
        int64_t lag = WallUs() - emit_us;
        link->lag.Record(lag);
        lag_all_.Record(lag);
        link->last_lag_us = lag;
      }
      if (idle_senders_.load() > 0) log_cv_.notify_all();  // a sender may wait on the window
      CheckWaiters(WallUs() / 1000);
    }
    link->connected = false;
    log_cv_.notify_all();
    linger_cv_.notify_all();
  });

  RawBatch batch;
  std::shared_ptr<const PlacementView> view = server_->placement().view();
  while (!link->stop && !stopping_ && link->connected && server_->replication_stream()) {
    batch.Clear();
    {
      std::unique_lock<std::mutex> l(log_mu_);
      idle_senders_++;
      bool ready = log_cv_.wait_for(l, std::chrono::milliseconds(kHeartbeatMs), [&] {
        return link->stop || stopping_ || !link->connected || !server_->replication_stream() ||
               (next < SendableEnd() && next - 1 - link->acked < kWindow);
      });
      idle_senders_--;
      if (link->stop || stopping_ || !link->connected || !server_->replication_stream()) break;
      if (!ready) {
        // Idle: tell the peer how far this node's clock is covered, so its
        // view of what we have seen (and tombstone collection) moves on.
        l.unlock();
        uint64_t stable = server_->StableClock();
        l.lock();
        if (next == next_seq_) {
          batch.Clear();
          batch.SetClock(stable);
          l.unlock();
          if (!stream->Write(batch)) break;
          continue;
        }
      }
      // Linger briefly for a fuller batch: every gRPC write costs thread
      // wakeups, so under load fewer, larger batches leave more CPU for
      // commands. Bounded, so an idle node still ships a lone write within
      // kLingerUs.
      if (next_seq_ - next < kBatchDeltas / 2) {
        linger_cv_.wait_for(l, std::chrono::microseconds(kLingerUs), [&] {
          return link->stop || stopping_ || !link->connected ||
                 next_seq_ - next >= kBatchDeltas / 2;
        });
        if (link->stop || stopping_ || !link->connected) break;
      }
      uint64_t oldest = log_.empty() ? next_seq_ : log_.front().seq;
      if (next < oldest) {
        // The peer fell behind the backlog mid-session: end the session;
        // the next one resumes at the oldest delta and asks for a repair.
        link->needs_repair = true;
        server_->Log(Server::kWarning, absl::StrCat("peer ", addr, " fell ", oldest - next,
                                                    " deltas behind the backlog; resyncing"));
        break;
      }
      // The view that decides which records this peer gets is the one in
      // force now, after the wait: a view picked up before a wait of up to
      // kHeartbeatMs could predate a ring change (members joining at
      // start-up), shipping a key's write to a node that is no longer its
      // replica and then skipping the delete that follows, which left a
      // stray copy that hand-off brought back after the tombstone went.
      if (view->version != server_->placement().version()) view = server_->placement().view();
      batch.SetFirstSeq(next);
      const Record* last = nullptr;
      const uint64_t first = next;
      bool skipped = false;
      // Causal mode: a batch holds records with one dependency vector
      // (those written between the same two applied remote batches), and
      // carries exactly it. Carrying the last record's vector for earlier
      // records would overstate their dependencies: two nodes' batches could
      // then each wait for the other's, a wait only anti-entropy ended.
      // A transaction's group goes whole, past the limits (and with its
      // last record's dependencies, which cover the earlier ones').
      const std::vector<peer::VersionEntry>* batch_deps = nullptr;
      const uint64_t end = SendableEnd();
      bool in_group = false, atomic = false;
      while (next < end && (in_group || (batch.deltas < kBatchDeltas &&
                                         batch.bytes.size() < kBatchBytes &&
                                         next - 1 - link->acked < kWindow))) {
        const Record& r = log_[next - oldest];
        if (causal_) {
          if (!last) {
            batch_deps = r.deps.get();
          } else if (r.deps.get() != batch_deps) {
            if (!in_group) break;
            batch_deps = r.deps.get();
          }
        }
        next++;
        last = &r;
        atomic = atomic || r.group_end != 0;
        in_group = r.group_end >= next;
        // Placement: only the keys this peer holds.
        if (r.routed && !view->HoldsAt(link->id, r.point, r.khash)) {
          skipped = true;
          continue;
        }
        batch.AddDelta(r.wire);
      }
      if (next == first) continue;
      if (skipped) batch.SetLastSeq(next - 1);
      if (atomic) batch.SetFlag(9);
      if (causal_ && batch_deps) {
        for (const peer::VersionEntry& e : *batch_deps) batch.AddDep(e.node_id(), e.counter());
      }
    }
    size_t n = batch.deltas;
    size_t wire = batch.bytes.size();
    if (!stream->Write(batch)) break;
    link->deltas_sent += n;
    link->batches_sent++;
    link->bytes_sent += wire;
  }
  link->connected = false;
  finish();
  reader.join();
  stream->Finish();
  return true;
}

bool Replicator::SendSnapshot(Link* link,
                              grpc::ClientReaderWriter<RawBatch, peer::Ack>* stream,
                              uint64_t resume) {
  // Read in slices on each shard's own thread (SCAN cursors survive
  // rehashing), so a snapshot never stops a shard for long.
  uint64_t entries = 0;
  for (int i = 0; i < server_->shard_count(); i++) {
    Worker& w = server_->worker(i);
    for (int db = 0; db < w.shard().databases(); db++) {
      uint64_t cursor = 0;
      bool first = true;
      do {
        struct Slice {
          std::mutex mu;
          std::condition_variable cv;
          bool done = false;
          std::vector<peer::Delta> deltas;
          uint64_t cursor = 0;
        };
        auto slice = std::make_shared<Slice>();
        std::shared_ptr<const PlacementView> view = server_->placement().view();
        uint32_t to = link->id;
        w.Post([&w, db, cursor, first, slice, view, to] {
          Db& d = w.shard().db(db);
          uint64_t c = cursor;
          // Placement: only the keys the peer holds.
          auto wanted = [&](std::string_view key) { return view->Holds(to, key); };
          if (first) {
            d.ForEachTomb([&](std::string_view key, const crdt::Tombstone& t) {
              if (!wanted(key)) return;
              peer::Delta& del = slice->deltas.emplace_back();
              del.set_db(static_cast<uint32_t>(db));
              del.set_key(key.data(), key.size());
              ToProto(t.stamp, del.mutable_stamp());
              TombToProto(t, del.mutable_remove());
            });
            if (const crdt::Tombstone* f = d.flush_tomb()) {
              peer::Delta& del = slice->deltas.emplace_back();
              del.set_db(static_cast<uint32_t>(db));
              ToProto(f->stamp, del.mutable_stamp());
              del.mutable_flush();
            }
          }
          int64_t now = NowMs();
          do {
            c = d.Scan(c, [&](const Entry& e) {
              if ((!e.has_expire() || e.expire_at() > now) && wanted(e.key())) {
                EntryToDeltas(d, db, e, &slice->deltas);
              }
            });
          } while (c != 0 && slice->deltas.size() < kBatchDeltas);
          std::lock_guard<std::mutex> l(slice->mu);
          slice->cursor = c;
          slice->done = true;
          slice->cv.notify_all();
        });
        {
          std::unique_lock<std::mutex> l(slice->mu);
          while (!slice->done) {
            if (link->stop || stopping_) return false;
            slice->cv.wait_for(l, std::chrono::milliseconds(100));
          }
        }
        first = false;
        cursor = slice->cursor;
        // Send in batches of at most kBatchDeltas.
        for (size_t off = 0; off < slice->deltas.size(); off += kBatchDeltas) {
          RawBatch batch;
          batch.SetFlag(5);  // snapshot
          size_t end = std::min(slice->deltas.size(), off + kBatchDeltas);
          std::string encoded;
          for (size_t k = off; k < end; k++) {
            encoded.clear();
            slice->deltas[k].SerializeToString(&encoded);
            batch.AddDelta(encoded);
          }
          entries += end - off;
          size_t wire = batch.bytes.size();
          if (!stream->Write(batch)) return false;
          link->deltas_sent += end - off;
          link->bytes_sent += wire;
          link->batches_sent++;
        }
      } while (cursor != 0);
    }
  }
  RawBatch done;
  done.SetFirstSeq(resume);
  done.SetFlag(6);  // snapshot_done
  if (!stream->Write(done)) return false;
  link->snapshots++;
  link->needs_repair = false;
  server_->Log(Server::kNotice, absl::StrCat("sent a snapshot of ", entries, " entries to ",
                                             link->name, "; the log continues at ", resume));
  return true;
}

// ---- receiving ----

bool ValidDelta(const peer::Delta& d, int databases, int64_t max_bulk, bool unnamed_origin_ok,
                std::string* why) {
  bool flush = d.change_case() == peer::Delta::kFlush;
  if (!flush || !d.all_dbs()) {
    if (d.db() >= static_cast<uint32_t>(databases)) {
      *why = absl::StrCat("database ", d.db(), " out of range");
      return false;
    }
  }
  if (static_cast<int64_t>(d.key().size()) > max_bulk || (!flush && d.key().empty())) {
    *why = "bad key length";
    return false;
  }
  bool zero_stamp = d.stamp().counter() == 0 && (!unnamed_origin_ok && d.stamp().node_id() == 0);
  switch (d.change_case()) {
    case peer::Delta::kAssign:
      if (zero_stamp || (!unnamed_origin_ok && d.stamp().node_id() == 0) || d.stamp().counter() == 0) {
        *why = "assignment without a stamp";
        return false;
      }
      if (static_cast<int64_t>(d.assign().value().size()) > max_bulk) {
        *why = "value longer than proto-max-bulk-len";
        return false;
      }
      if (d.assign().expire_at_ms() < 0) {
        *why = "negative expiry";
        return false;
      }
      break;
    case peer::Delta::kCounter:
      // A standalone node's counter may stand on no write (counter 0).
      if ((!unnamed_origin_ok && d.counter().node_id() == 0) || d.counter().expire_at_ms() < 0 ||
          (!zero_stamp && !unnamed_origin_ok &&
           (d.stamp().node_id() == 0 || d.stamp().counter() == 0))) {
        *why = "malformed counter";
        return false;
      }
      break;
    case peer::Delta::kElements: {
      const peer::Elements& m = d.elements();
      if (zero_stamp || (!unnamed_origin_ok && d.stamp().node_id() == 0) || d.stamp().counter() == 0 ||
          !NewCollection(static_cast<ObjType>(m.type())) || m.ops_size() > 1 << 20 ||
          m.expire_at_ms() < 0 || m.context().heads_size() > 4096 ||
          m.context().cloud_size() > 1 << 16) {
        *why = "malformed collection change";
        return false;
      }
      for (const peer::ElementOp& op : m.ops()) {
        if (static_cast<int64_t>(op.element().size()) > max_bulk ||
            static_cast<int64_t>(op.value().size()) > max_bulk || op.replaced_size() > 4096 ||
            (op.kind() == peer::ElementOp::INCREMENT &&
             ((m.type() != 1 && m.type() != 3) || (!unnamed_origin_ok && op.node_id() == 0)))) {
          *why = "malformed element change";
          return false;
        }
      }
      for (const peer::ElementState& es : m.elements()) {
        if (static_cast<int64_t>(es.element().size()) > max_bulk ||
            es.versions_size() > 4096 || es.counter_size() > 4096) {
          *why = "malformed element state";
          return false;
        }
        for (const peer::ElementVersion& v : es.versions()) {
          if (static_cast<int64_t>(v.value().size()) > max_bulk ||
              (!unnamed_origin_ok && v.dot().node_id() == 0) || v.dot().counter() == 0) {
            *why = "malformed element state";
            return false;
          }
        }
      }
      break;
    }
    case peer::Delta::kRemove:
    case peer::Delta::kFlush: {
      const peer::Remove& r = flush ? d.flush() : d.remove();
      bool has_dead = (r.has_max_dead() && (unnamed_origin_ok || r.max_dead().node_id() != 0)) ||
                      (r.has_outranks() && (unnamed_origin_ok || r.outranks().node_id() != 0));
      if ((zero_stamp && !has_dead) || (!zero_stamp && (!unnamed_origin_ok && d.stamp().node_id() == 0)) ||
          r.seen_size() > 4096 || r.dots_size() > 4096) {
        *why = "malformed delete";
        return false;
      }
      break;
    }
    default:
      *why = "delta without a change";
      return false;
  }
  return true;
}


bool Replicator::Validate(const peer::DeltaBatch& batch, std::string* why) const {
  const int databases = server_->config().databases;  // immutable
  const int64_t max_bulk = server_->max_bulk_len();
  if (batch.has_hello()) {
    *why = "hello after the stream started";
    return false;
  }
  if (batch.deltas_size() > 0 && batch.first_seq() == 0 && !batch.snapshot()) {
    *why = "batch without a sequence number";
    return false;
  }
  if (batch.last_seq() != 0 &&
      (batch.first_seq() == 0 || batch.last_seq() < batch.first_seq() ||
       batch.last_seq() - batch.first_seq() + 1 < static_cast<uint64_t>(batch.deltas_size()))) {
    *why = "last_seq does not cover the batch";
    return false;
  }
  if (batch.deps_size() > 4096) {
    *why = "oversized dependency vector";
    return false;
  }
  for (const peer::Delta& d : batch.deltas()) {
    if (!ValidDelta(d, databases, max_bulk, false, why)) return false;
  }
  return true;
}

void Replicator::ApplyBatch(uint32_t origin, peer::DeltaBatch& batch, Link* stats,
                            bool only_existing) {
  // Fold every stamp into the clock first: a write made here after this
  // batch is visible must be ordered after it. The seen vector (what a
  // delete made here will cover) takes only the origin's own writes from its
  // own ordered stream: a stamp of node X relayed by someone else (a counter
  // base, a snapshot) does not mean X's earlier writes arrived.
  {
    std::lock_guard<std::mutex> l(recv_mu_);
    for (const peer::Delta& d : batch.deltas()) {
      crdt::Stamp s = FromProto(d.stamp());
      if (s.IsZero()) continue;
      server_->clock().Observe(s);
      if (s.node == origin && !batch.snapshot()) seen_.Observe(s.node, s.counter);
    }
  }
  // The shard tasks own what they touch: if the node shuts down while they
  // are queued, they may run after this function gave up waiting.
  struct Job {
    peer::DeltaBatch batch;
    std::vector<std::vector<const peer::Delta*>> by_shard;
    std::mutex mu;
    std::condition_variable cv;
    int pending = 0;
  };
  auto job = std::make_shared<Job>();
  job->batch.Swap(&batch);
  int shards = server_->shard_count();
  job->by_shard.resize(shards);
  for (const peer::Delta& d : job->batch.deltas()) {
    if (d.change_case() == peer::Delta::kFlush) {
      for (auto& v : job->by_shard) v.push_back(&d);
    } else {
      job->by_shard[server_->ShardIndexOf(d.key())].push_back(&d);
    }
  }
  if (job->batch.atomic() && shards > 1) {
    // A transaction's deltas: every worker stopped while they apply, so no
    // reader on any shard sees part of them.
    server_->Exclusive([&] {
      int64_t now = NowMs();
      for (int i = 0; i < shards; i++) {
        for (const peer::Delta* d : job->by_shard[i]) ApplyDelta(server_->worker(i).shard(), *d, now);
      }
    });
    for (int i = 0; i < shards; i++) server_->worker(i).Post([] {});  // serve woken waiters
    applied_total_.fetch_add(job->batch.deltas_size(), std::memory_order_relaxed);
    if (stats) stats->deltas_applied += job->batch.deltas_size();
    return;
  }
  for (auto& v : job->by_shard) job->pending += !v.empty();
  for (int i = 0; i < shards; i++) {
    if (job->by_shard[i].empty()) continue;
    Worker& w = server_->worker(i);
    w.Post([&w, job, i, only_existing] {
      int64_t now = NowMs();
      for (const peer::Delta* d : job->by_shard[i]) {
        if (only_existing && d->change_case() != peer::Delta::kFlush &&
            !w.shard().db(static_cast<int>(d->db())).FindRaw(d->key())) {
          continue;
        }
        ApplyDelta(w.shard(), *d, now);
      }
      std::lock_guard<std::mutex> l(job->mu);
      if (--job->pending == 0) job->cv.notify_all();
    });
  }
  {
    std::unique_lock<std::mutex> l(job->mu);
    while (job->pending > 0 && !stopping_) {
      job->cv.wait_for(l, std::chrono::milliseconds(100));
      // A worker whose loop ended (shutdown) never runs its task.
      bool waiting = false;
      for (int i = 0; i < shards; i++) {
        waiting = waiting || (!job->by_shard[i].empty() && !server_->worker(i).exited_.load());
      }
      if (!waiting) break;
    }
  }
  applied_total_.fetch_add(job->batch.deltas_size(), std::memory_order_relaxed);
  if (stats) stats->deltas_applied += job->batch.deltas_size();
}

grpc::Status Replicator::Replicate(grpc::ServerContext* context,
                                   grpc::ServerReaderWriter<peer::Ack, peer::DeltaBatch>* stream) {
  peer::DeltaBatch batch;
  if (!stream->Read(&batch)) return grpc::Status::OK;
  const std::string who = context->peer();
  auto reject = [&](const std::string& why) {
    server_->Log(Server::kWarning, absl::StrCat("dropping delta stream from ", who, ": ", why));
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, why);
  };
  if (!batch.has_hello()) return reject("stream does not start with a hello");
  uint32_t origin = batch.hello().origin();
  if (origin == 0 || origin == self_) return reject(absl::StrCat("bad origin ", origin));
  if (membership_ && (membership_->removed() ||
                      membership_->StateOf(origin) == gossip::State::kLeft)) {
    // A removed node's state is from before the cluster collected what it
    // deleted: it must not flow back in (it rejoins after a restart).
    return reject(absl::StrCat("origin ", origin, " is not a member"));
  }
  {
    // One stream per origin. A new one replaces an old one the origin has
    // given up on (a cut link can leave it open here until keepalive
    // notices).
    std::unique_lock<std::mutex> l(recv_mu_);
    auto it = origin_stream_.find(origin);
    if (it != origin_stream_.end()) it->second->TryCancel();
    if (!recv_cv_.wait_for(l, std::chrono::seconds(5),
                           [&] { return !origin_stream_.contains(origin); })) {
      return reject("a stream from this origin is still open");
    }
    origin_stream_[origin] = context;
  }
  struct Release {
    Replicator* r;
    uint32_t origin;
    ~Release() {
      {
        std::lock_guard<std::mutex> l(r->recv_mu_);
        r->origin_stream_.erase(origin);
      }
      r->recv_cv_.notify_all();
    }
  } release{this, origin};
  Link* stats = FindLink(origin);
  uint64_t applied;
  {
    std::lock_guard<std::mutex> l(recv_mu_);
    applied = applied_[origin];
  }
  peer::Ack ack;
  ack.set_applied_seq(applied);
  if (!stream->Write(ack)) return grpc::Status::OK;
  while (!stopping_ && stream->Read(&batch)) {
    std::string why;
    if (!Validate(batch, &why)) {
      if (stats) stats->batches_rejected++;
      return reject(why);
    }
    if (!stats) stats = FindLink(origin);
    if (batch.snapshot()) {
      if (stats) stats->deltas_received += batch.deltas_size();
      ApplyBatch(origin, batch, stats);
      ack.set_applied_seq(applied);
      if (!stream->Write(ack)) break;
      continue;
    }
    if (batch.snapshot_done()) {
      // The log continues at first_seq: everything before it is in the
      // snapshot just applied.
      if (batch.first_seq() > 0 && batch.first_seq() - 1 > applied) {
        applied = batch.first_seq() - 1;
        {
          std::lock_guard<std::mutex> l(recv_mu_);
          applied_[origin] = applied;
        }
        NoteApplied(origin, applied);
      }
      recv_cv_.notify_all();
      ack.set_applied_seq(applied);
      if (!stream->Write(ack)) break;
      continue;
    }
    size_t n = batch.deltas_size();
    if (n == 0 && batch.last_seq() > applied) {
      // Placement: a stretch of the origin's log with nothing for us.
      applied = batch.last_seq();
      {
        std::lock_guard<std::mutex> l(recv_mu_);
        applied_[origin] = applied;
      }
      NoteApplied(origin, applied);
      ack.set_applied_seq(applied);
      if (!stream->Write(ack)) break;
      continue;
    }
    if (n == 0) {
      if (batch.clock() > 0) {
        // Heartbeat: everything the origin stamped up to here has arrived.
        std::lock_guard<std::mutex> l(recv_mu_);
        seen_.Observe(origin, batch.clock());
      }
      continue;
    }
    uint64_t first = batch.first_seq();
    uint64_t last = batch.last_seq() ? batch.last_seq() : first + n - 1;
    // A filtered batch has gaps: its deltas cannot be matched to sequence
    // numbers, and an overlap is applied whole (merges are idempotent).
    const bool gapped = last != first + n - 1;
    if (last <= applied) continue;  // a resend of what we have
    if (first > applied + 1 && applied != 0) {
      server_->Log(Server::kWarning,
                   absl::StrCat("deltas ", applied + 1, "..", first - 1, " from node ", origin,
                                " were lost (backlog overflow or restart); anti-entropy must "
                                "repair them"));
    }
    if (first <= applied && !gapped) {
      // Overlap: drop the prefix we already applied.
      peer::DeltaBatch rest;
      rest.set_first_seq(applied + 1);
      for (size_t i = applied + 1 - first; i < n; i++) *rest.add_deltas() = batch.deltas(i);
      *rest.mutable_deps() = batch.deps();
      batch.Swap(&rest);
    }
    if (stats) stats->deltas_received += batch.deltas_size();
    if (causal_) {
      // Wait until everything the origin had applied when it wrote this
      // batch is applied here too.
      std::unique_lock<std::mutex> l(recv_mu_);
      auto ready = [&] {
        for (const peer::VersionEntry& e : batch.deps()) {
          if (e.node_id() == self_ || e.node_id() == origin) continue;
          if (applied_[e.node_id()] < e.counter()) return false;
        }
        return true;
      };
      if (!ready()) {
        causal_waits_++;
        // Normally the causes arrive on their own streams within
        // milliseconds of a heal. But a stream can stay stalled for many
        // seconds after a partition heals (a TCP connection in retransmit
        // backoff, or a session the origin has not yet given up on), and
        // another origin's batches that depend on it wait as long. So a
        // batch still waiting after kCausalFetchMs *fetches* its causes: a
        // Merkle round with each origin it waits for brings that origin's
        // whole state here, which contains the awaited writes (the origin
        // had them before the batch's origin applied them). Once every such
        // round succeeded the batch applies: its causes are visible. A
        // round that fails (the origin is still cut off) is retried after
        // another kCausalFetchMs; the batch waits for as long as the
        // partition lasts, which is causal mode's price.
        struct Fetch {
          std::atomic<int> pending{0};
          std::atomic<bool> failed{false};
        };
        std::shared_ptr<Fetch> fetch;
        auto began = std::chrono::steady_clock::now();
        while (!ready()) {
          if (stopping_ || context->IsCancelled()) return grpc::Status::OK;
          if (fetch && fetch->pending.load() == 0) {
            if (!fetch->failed.load()) {
              causal_fetched_++;
              break;  // every awaited origin's state is here
            }
            fetch = nullptr;
            began = std::chrono::steady_clock::now();
          }
          auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - began)
                            .count();
          if (!fetch && waited >= kCausalFetchMs && repair_async_) {
            std::vector<uint32_t> awaited;
            std::string missing;
            for (const peer::VersionEntry& e : batch.deps()) {
              if (e.node_id() == self_ || e.node_id() == origin) continue;
              if (applied_[e.node_id()] >= e.counter()) continue;
              awaited.push_back(e.node_id());
              absl::StrAppend(&missing, " node ", e.node_id(), " seq ", e.counter(), " (applied ",
                              applied_[e.node_id()], ")");
            }
            l.unlock();
            std::vector<std::string> addrs;
            {
              std::lock_guard<std::mutex> ll(links_mu_);
              for (uint32_t id : awaited) {
                auto it = links_.find(id);
                if (it != links_.end()) addrs.push_back(it->second->addr);
              }
            }
            if (!addrs.empty()) {
              fetch = std::make_shared<Fetch>();
              fetch->pending = static_cast<int>(addrs.size());
              server_->Log(Server::kVerbose,
                           absl::StrCat("a batch from node ", origin, " waited ", waited,
                                        " ms for its causes:", missing,
                                        "; fetching them by anti-entropy from ",
                                        absl::StrJoin(addrs, ", ")));
              for (const std::string& a : addrs) {
                // The loop polls `fetch`; the callback touches nothing else,
                // so it may outlive this stream.
                repair_async_(a, [fetch](bool ok) {
                  if (!ok) fetch->failed = true;
                  fetch->pending--;
                });
              }
            }
            l.lock();
          }
          recv_cv_.wait_for(l, std::chrono::milliseconds(50));
        }
      }
    }
    ApplyBatch(origin, batch, stats);
    if (stopping_) break;  // a shard may not have applied its part
    applied = last;
    {
      std::lock_guard<std::mutex> l(recv_mu_);
      applied_[origin] = applied;
    }
    NoteApplied(origin, applied);
    if (causal_) {
      auto deps = std::make_shared<std::vector<peer::VersionEntry>>();
      {
        std::lock_guard<std::mutex> l(recv_mu_);
        for (const auto& [node, seq] : applied_) {
          peer::VersionEntry e;
          e.set_node_id(node);
          e.set_counter(seq);
          deps->push_back(e);
        }
      }
      {
        std::lock_guard<std::mutex> l(log_mu_);
        deps_now_ = std::move(deps);
      }
      recv_cv_.notify_all();
    }
    ack.set_applied_seq(applied);
    if (!stream->Write(ack)) break;
  }
  return grpc::Status::OK;
}

}  // namespace lattice::node
