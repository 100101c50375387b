#include "node/persist/bgsave.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "node/server.h"
#include "node/str_util.h"

namespace lattice::node {

namespace {

// Copies are handed to the writer in slices of about this size, and the
// scans pause while this much waits for it.
constexpr size_t kSliceBytes = 1 << 20;
constexpr uint64_t kMaxQueued = 8u << 20;

}  // namespace

// One shard's share: its scan position per database and the keys the
// hooks copied (or found missing) since the save began.
class BackgroundSave::ShardPart final : public SnapshotHook {
 public:
  ShardPart(BackgroundSave& save, Shard& shard)
      : save_(save), shard_(shard), dbs_(static_cast<size_t>(shard.databases())) {}

  void Attach() {
    for (int i = 0; i < shard_.databases(); i++) shard_.db(i).set_snapshot_hook(this);
  }
  void Detach() {
    for (int i = 0; i < shard_.databases(); i++) shard_.db(i).set_snapshot_hook(nullptr);
    attached_ = false;
  }
  bool attached() const { return attached_; }
  std::string& out() { return out_; }
  uint64_t& out_records() { return out_records_; }
  uint64_t keys() const { return keys_; }

  void BeforeChange(const Db& db, std::string_view key) override {
    DbState& s = dbs_[static_cast<size_t>(db.index())];
    if (s.done || save_.failed_.load(std::memory_order_relaxed)) return;
    const Entry* e = db.Peek(key);
    // Written since the save began (a local write's stamp is above the
    // clock then), or copied already: its state then is in the file.
    if (e && Newer(*e)) return;
    if (!s.copied.empty() && s.copied.contains(absl::string_view(key.data(), key.size()))) return;
    s.copied.emplace(key.data(), key.size());
    s.pending.emplace_back(key);
    if (e && Live(*e)) Copy(db, *e);
  }

  void BeforeClear(const Db& db) override {
    DbState& s = dbs_[static_cast<size_t>(db.index())];
    while (!s.done) ScanSome(db, s, INT64_MAX);
  }

  // Scans about budget_us of this shard. True once every database is done.
  bool Run(int64_t budget_us) {
    // Most changes restamp their key above the save's clock, which says
    // "copied" by itself: only the keys a change left unstamped (a peer's
    // older write, a TTL change) stay remembered.
    for (size_t i = 0; i < dbs_.size(); i++) {
      DbState& s = dbs_[i];
      if (s.pending.empty()) continue;
      const Db& db = shard_.db(static_cast<int>(i));
      for (const std::string& key : s.pending) {
        const Entry* e = db.Peek(key);
        if (!e || Newer(*e)) s.copied.erase(key);
      }
      s.pending.clear();
    }
    int64_t deadline = MonoUs() + budget_us;
    for (int i = 0; i < shard_.databases(); i++) {
      DbState& s = dbs_[static_cast<size_t>(i)];
      if (s.done) continue;
      ScanSome(shard_.db(i), s, deadline);
      if (!s.done) return false;
    }
    return true;
  }

  void Flush() {
    if (out_.empty()) return;
    save_.Push(std::move(out_), out_records_);
    out_ = std::string();
    out_records_ = 0;
  }

 private:
  struct DbState {
    uint64_t cursor = 0;
    bool started = false;
    bool done = false;
    absl::flat_hash_set<std::string> copied;
    std::vector<std::string> pending;  // copied since the last Run
  };

  bool Live(const Entry& e) const { return !e.has_expire() || e.expire_at() > save_.cut_ms_; }
  bool Newer(const Entry& e) const { return e.stamp().counter > save_.info_.clock; }

  void Copy(const Db& db, const Entry& e) {
    out_records_ += AppendEntryRecords(db, db.index(), e, &out_);
    keys_++;
    if (out_.size() >= kSliceBytes) Flush();
  }

  void ScanSome(const Db& db, DbState& s, int64_t deadline) {
    int steps = 0;
    do {
      s.started = true;
      s.cursor = db.Scan(s.cursor, [&](const Entry& e) {
        if (!Live(e) || Newer(e)) return;
        if (!s.copied.empty() && s.copied.contains(absl::string_view(e.key().data(), e.key().size()))) return;
        Copy(db, e);
      });
      if (s.cursor == 0) {
        s.done = true;
        absl::flat_hash_set<std::string>().swap(s.copied);
        std::vector<std::string>().swap(s.pending);
        return;
      }
    } while ((++steps & 63) != 0 || MonoUs() < deadline);
  }

  BackgroundSave& save_;
  Shard& shard_;
  std::vector<DbState> dbs_;
  std::string out_;
  uint64_t out_records_ = 0;
  uint64_t keys_ = 0;
  bool attached_ = true;
};

BackgroundSave::BackgroundSave(Server& server, Kind kind, std::string path, DoneFn done)
    : server_(server), kind_(kind), path_(std::move(path)), done_(std::move(done)) {}

BackgroundSave::~BackgroundSave() {
  Abort();
  if (writer_.joinable()) writer_.join();
  for (auto& p : parts_) {
    if (p->attached()) p->Detach();
  }
}

absl::Status BackgroundSave::Begin() {
  started_ms_ = NowMs();
  cut_ms_ = started_ms_;
  writes_at_start_ = server_.WritesSoFar();
  info_.node = server_.config().ResolvedPeerPort() == 0 ? 0 : server_.clock().node();
  info_.clock = server_.clock().Now();
  info_.written_ms = started_ms_;
  const int shards = server_.shard_count();
  const int databases = shards ? server_.worker(0).shard().databases() : 0;
  absl::Status st = file_.Create(path_, info_.node, info_.clock, databases);
  if (!st.ok()) return st;
  // Tombstones are few next to keys: copied here, in one go.
  std::string tombs;
  uint64_t count = 0;
  for (int i = 0; i < shards; i++) {
    Shard& shard = server_.worker(i).shard();
    for (int db = 0; db < shard.databases(); db++) count += AppendTombRecords(shard.db(db), db, &tombs);
  }
  st = file_.Append(tombs, count);
  if (!st.ok()) return st;
  functions_ = FunctionsBytes(server_);
  for (int i = 0; i < shards; i++) {
    parts_.push_back(std::make_unique<ShardPart>(*this, server_.worker(i).shard()));
    parts_.back()->Attach();
  }
  parts_left_ = shards;
  writer_ = std::thread([this] { WriterLoop(); });
  return absl::OkStatus();
}

BackgroundSave::Step BackgroundSave::Run(int shard, int64_t budget_us) {
  ShardPart& p = *parts_[static_cast<size_t>(shard)];
  if (!p.attached()) return kDone;
  bool done = abort_.load(std::memory_order_relaxed) || failed_.load(std::memory_order_relaxed);
  if (!done) {
    if (queued_.load(std::memory_order_relaxed) > kMaxQueued) return kWait;
    done = p.Run(budget_us);
  }
  if (!done) return kMore;
  p.Flush();
  p.Detach();
  {
    std::lock_guard<std::mutex> l(mu_);
    info_.keys += p.keys();
    parts_left_--;
  }
  cv_.notify_all();
  return kDone;
}

void BackgroundSave::Push(std::string bytes, uint64_t records) {
  uint64_t q = queued_.fetch_add(bytes.size(), std::memory_order_relaxed) + bytes.size();
  uint64_t peak = peak_queued_.load(std::memory_order_relaxed);
  while (q > peak && !peak_queued_.compare_exchange_weak(peak, q)) {
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    queue_.push_back(Chunk{std::move(bytes), records});
  }
  cv_.notify_all();
}

void BackgroundSave::Abort() {
  abort_.store(true);
  cv_.notify_all();
}

void BackgroundSave::WriterLoop() {
  absl::Status st;
  while (true) {
    Chunk c;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return !queue_.empty() || parts_left_ == 0 || abort_.load(); });
      if (abort_.load()) break;
      if (queue_.empty()) break;  // every part done, everything written
      c = std::move(queue_.front());
      queue_.pop_front();
    }
    queued_.fetch_sub(c.bytes.size(), std::memory_order_relaxed);
    if (st.ok()) {
      st = file_.Append(c.bytes, c.records);
      if (!st.ok()) failed_.store(true);
    }
  }
  if (abort_.load() && st.ok()) st = absl::CancelledError("the background save was stopped");
  if (st.ok()) st = file_.Commit(functions_);
  if (!st.ok()) file_.Abandon();
  info_.records = file_.records();
  info_.bytes = file_.bytes();
  if (done_) done_(st, info_);
  finished_.store(true, std::memory_order_release);
}

}  // namespace lattice::node
