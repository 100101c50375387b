#include "node/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

#include "absl/hash/hash.h"
#include "absl/strings/str_format.h"
#include "node/cluster/anti_entropy.h"
#include "node/command_table.h"
#include "node/families/families.h"
#include "node/cluster/forward.h"
#include "node/cluster/hot_replication.h"
#include "node/storage/stable_hash.h"
#include "node/storage/stream.h"
#include "node/metrics.h"
#include "node/cluster/replication.h"
#include "node/cluster/functions_sync.h"
#include "node/cluster/pubsub_relay.h"
#include "node/notify.h"
#include "node/persist/aof.h"
#include "node/memory.h"
#include "node/persist/bgsave.h"
#include "node/persist/snapshot.h"
#include "node/pubsub.h"
#include "node/scripting/functions.h"
#include "node/scripting/scripting.h"
#include "node/str_util.h"

namespace lattice::node {

namespace {

constexpr size_t kReadChunk = 16 * 1024;  // Redis's PROTO_IOBUF_LEN
constexpr int kMaxEvents = 256;
// A background save's slice of copying per event-loop iteration.
constexpr int64_t kBgSaveSliceUs = 1000;
constexpr std::string_view kBusyError =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";

thread_local Worker* tls_worker = nullptr;
thread_local bool tls_exclusive = false;

std::string PeerName(int fd, bool local) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  int rc = local ? getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len)
                 : getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (rc != 0) return "?:0";
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
    return StrCat(host, ":", port);
  }
  auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
  inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
  port = ntohs(a->sin6_port);
  return StrCat(host, ":", port);
}

}  // namespace

Worker* CurrentWorker() { return tls_worker; }
bool InExclusiveSection() { return tls_exclusive; }

int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

int64_t NowUs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

int64_t MonoUs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

// ---- CommandContext ----

Db& CommandContext::DbFor(std::string_view key) const { return DbFor(key, db); }

Db& CommandContext::DbFor(std::string_view key, int db_index) const {
  return server->ShardFor(key).db(db_index);
}

Shard& CommandContext::ShardFor(std::string_view key) const { return server->ShardFor(key); }

crdt::Stamp CommandContext::Tick() const { return server->clock().Tick(); }

// ---- Shard ----

Shard::Shard(int index, int databases) : index_(index) {
  for (int i = 0; i < databases; i++) {
    dbs_.push_back(std::make_unique<Db>());
    dbs_.back()->set_index(i);
  }
}

void Shard::EmitToSink(DeltaSink* sink, const Delta& delta) {
  if (delta.kind != Delta::Kind::kDelete) {
    sink->Emit(delta);
    return;
  }
  // A delete leaves a tombstone covering what this node has seen; FLUSH
  // tombstones are recorded on every shard by the command itself.
  crdt::Tombstone t = sink->NewTombstone(delta.stamp);
  // The removed value is dead even if this node learned of it indirectly
  // (a counter's base arrives with an increment from a third node): name it
  // explicitly, and remember it as the greatest killed write.
  if (!delta.killed.IsZero()) {
    t.max_dead = delta.killed;
    if (!t.seen.Covers(delta.killed)) t.AddDot(delta.killed);
  }
  if (delta.observed) {
    crdt::Stamp stamp = t.stamp;
    t.Merge(*delta.observed);
    t.stamp = stamp;
  }
  if (!delta.key.empty() && sink->KeepsTombstones()) db(delta.db).TombFor(delta.key).Merge(t);
  Delta d = delta;
  d.tomb = &t;
  sink->Emit(d);
}

// ---- Connection ----

Connection::Connection(uint64_t id_, int fd_, Worker* worker_, const resp::ParserLimits& limits)
    : id(id_), fd(fd_), worker(worker_), parser(limits), rb(&out, 2) {}

Connection::~Connection() {
  if (fd >= 0) close(fd);
}

// ---- Worker ----

Worker::Worker(Server* server, int index)
    : server_(server), index_(index), shard_(index, server->config().databases) {
  stats.resize(server->commands().slot_count());
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // nullptr marks the event fd
  epoll_ctl(epfd_, EPOLL_CTL_ADD, event_fd_, &ev);
}

Worker::~Worker() {
  conns_.clear();
  for (int fd : listen_fds_) close(fd);
  if (event_fd_ >= 0) close(event_fd_);
  if (epfd_ >= 0) close(epfd_);
}

absl::Status Worker::Listen() {
  const Config& cfg = server_->config();
  for (const std::string& spec : cfg.bind) {
    // A leading '-' marks an address that may be unavailable (as Redis).
    bool optional = !spec.empty() && spec[0] == '-';
    std::string host = optional ? spec.substr(1) : spec;
    bool v6 = host.find(':') != std::string::npos;
    if (host == "*") host = "0.0.0.0";
    if (host == "::*") host = "::";
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return absl::InternalError(StrCat("socket(): ", strerror(errno)));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    int rc;
    if (v6) {
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      a.sin6_port = htons(cfg.port);
      rc = inet_pton(AF_INET6, host.c_str(), &a.sin6_addr) == 1
               ? bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a)
               : -2;
    } else {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(cfg.port);
      rc = inet_pton(AF_INET, host.c_str(), &a.sin_addr) == 1
               ? bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a)
               : -2;
    }
    if (rc == 0) rc = listen(fd, cfg.tcp_backlog);
    if (rc != 0) {
      std::string why = rc == -2 ? "Invalid bind address" : strerror(errno);
      close(fd);
      if (optional) continue;
      return absl::UnavailableError(
          StrCat("Could not create server TCP listening socket ", host, ":", cfg.port, ": ", why));
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    listen_fds_.push_back(fd);
    // Listening sockets are tagged by their position + 1 in the high bits.
    ev.data.u64 = (uint64_t(listen_fds_.size()) << 48) | 1;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
  }
  if (listen_fds_.empty()) {
    return absl::UnavailableError("Failed listening on any bind address");
  }
  return absl::OkStatus();
}

void Worker::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Worker::Join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    queue_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(event_fd_, &one, sizeof one);
}

void Worker::RunTasks() {
  uint64_t count;
  [[maybe_unused]] ssize_t n = read(event_fd_, &count, sizeof count);
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    running_.swap(queue_);
  }
  for (auto& fn : running_) fn();
  running_.clear();
}

void Worker::Loop() {
  tls_worker = this;
  epoll_event events[kMaxEvents];
  const bool multi = server_->multi_threaded();
  while (server_->running()) {
    int64_t now = NowMs();
    int64_t wake = next_cron_ms_;
    if (!blocked_.empty()) wake = std::min(wake, NextBlockedDeadline());
    int timeout = wake > now ? static_cast<int>(wake - now) : 0;
    // A background save's share: copied between events, never waiting.
    if (bgsave_.load(std::memory_order_acquire)) timeout = bgsave_waiting_ ? std::min(timeout, 1) : 0;
    int n = epoll_wait(epfd_, events, kMaxEvents, timeout);
    if (n < 0 && errno != EINTR) break;
    if (multi && !server_->world().ReaderLockOrBusy()) {
      // A script holds every shard and is busy: answer BUSY, then look
      // again a little later (the events stay ready until served).
      ServeBusyEvents(events, n, 0);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    // Every tick of this iteration is above this value until it ends (see
    // Server::StableClock).
    iter_clock_.store(server_->clock().Now());
    for (int i = 0; i < n; i++) {
      epoll_event& ev = events[i];
      if (ev.data.ptr == nullptr) {
        RunTasks();
        continue;
      }
      if ((ev.data.u64 & 0xFFFF) == 1 && (ev.data.u64 >> 48) != 0) {
        Accept(listen_fds_[(ev.data.u64 >> 48) - 1]);
        continue;
      }
      auto* c = static_cast<Connection*>(ev.data.ptr);
      // Closed earlier in this batch (by a task, CLIENT KILL or QUIT).
      if (c->closed) continue;
      if (ev.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        OnReadable(c);
        continue;
      }
      if (ev.events & EPOLLOUT) OnWritable(c);
    }
    now = NowMs();
    if (now >= next_cron_ms_) {
      Cron(now);
      next_cron_ms_ = now + std::max(1, 1000 / std::max(1, server_->config().hz));
    }
    if (!blocked_.empty()) ExpireBlocked(now);
    ServeBlocked();
    FlushPushed();
    graveyard_.clear();
    if (g_evict.maxmemory.load(std::memory_order_relaxed) > 0 && OverMaxmemory()) {
      // Every shard sheds its share, commands or not (node/evict.h).
      bool none_left;
      EvictFromShard(shard_, evict_pool_, now, &none_left);
    }
    if (BackgroundSave* bg = bgsave_.load(std::memory_order_acquire)) {
      BackgroundSave::Step step = bg->Run(shard_.index(), kBgSaveSliceUs);
      bgsave_waiting_ = step == BackgroundSave::kWait;
      if (step == BackgroundSave::kDone) bgsave_.store(nullptr, std::memory_order_release);
    }
    shard_.FlushSink();
    if (!awaiting_log_.empty()) FlushAwaitingLog();
    iter_clock_.store(UINT64_MAX);
    if (multi) server_->world().ReaderUnlock();
  }
  exited_.store(true);
  conns_.clear();
}

void Worker::Accept(int listen_fd) {
  for (int i = 0; i < 64; i++) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd =
        accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) {
        server_->Log(Server::kWarning,
                     StrCat("Error accepting a client connection: ", strerror(errno)));
      }
      return;
    }
    const Config& cfg = server_->config();
    // As Redis: the client over the limit gets an error and is closed. The
    // slot is taken before the check, so concurrent accepts on other
    // workers cannot both squeeze past the limit.
    if (server_->clients.fetch_add(1) >= cfg.maxclients) {
      server_->clients--;
      static constexpr char kMsg[] = "-ERR max number of clients reached\r\n";
      [[maybe_unused]] ssize_t w = write(fd, kMsg, sizeof kMsg - 1);
      server_->rejected_connections++;
      close(fd);
      continue;
    }
    server_->total_connections++;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (cfg.tcp_keepalive > 0) setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    resp::ParserLimits limits;
    limits.max_bulk_len = cfg.proto_max_bulk_len;
    uint64_t id = server_->next_client_id++;
    auto conn = std::make_unique<Connection>(id, fd, this, limits);
    conn->addr = PeerName(fd, false);
    conn->laddr = PeerName(fd, true);
    conn->ctime_ms = conn->last_interaction_ms = NowMs();
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = conn.get();
    epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
    server_->IndexClient(id, this);
    conns_.emplace(id, std::move(conn));
  }
}

char* QueryBuffer::Prepare(size_t want) {
  if (cap_ - end_ >= want) return buf_.get() + end_;
  size_t len = end_ - head_;
  if (head_ > 0 && cap_ - len >= want) {
    std::memmove(buf_.get(), buf_.get() + head_, len);
  } else {
    size_t cap = std::max(cap_ * 2, len + want);
    std::unique_ptr<char[]> next(new char[cap]);  // deliberately not zeroed
    if (len) std::memcpy(next.get(), buf_.get() + head_, len);
    buf_ = std::move(next);
    cap_ = cap;
  }
  head_ = 0;
  end_ = len;
  return buf_.get() + end_;
}

void Worker::OnReadable(Connection* c) {
  size_t avail = c->in.size();
  size_t want = kReadChunk;
  size_t hint = c->parser.BytesHint();
  if (hint > avail && hint - avail > want) want = hint - avail;
  char* dst = c->in.Prepare(want);
  ssize_t n = read(c->fd, dst, want);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n == 0 && blocked_.contains(c->id)) {
      // A parked client that hangs up leaves its queues (Redis drops it).
      Close(c);
      return;
    }
    if (n == 0 && c->busy()) {
      // The client half-closed (as `printf ... | nc` does) while a command
      // waits on another shard: finish the commands it sent, as Redis
      // would have, then close once the replies are out.
      c->read_eof = true;
      UpdateEvents(c, c->writable_armed);
      return;
    }
    Close(c);
    return;
  }
  c->in.Commit(n);
  net_input_bytes += n;
  c->last_interaction_ms = NowMs();
  if (static_cast<int64_t>(c->in.size()) > server_->config().client_query_buffer_limit) {
    server_->Log(Server::kWarning,
                 StrCat("Closing client that reached max query buffer length: id=", c->id,
                        " addr=", c->addr, " qbuf=", c->in.size()));
    Close(c);
    return;
  }
  ProcessInput(c);
  Flush(c);
}

void Worker::ProcessInput(Connection* c) {
  // One clock read per batch of pipelined commands: they all run "now".
  const int64_t now_ms = NowMs();
  while (!c->pending && !c->fwd_blocked && !c->close_after_reply && c->in.size() > 0) {
    std::string_view data = c->in.data();
    size_t consumed = 0;
    resp::ParseStatus st = c->parser.Parse(data, &consumed);
    if (st == resp::ParseStatus::kNeedMore) {
      c->in.Consume(consumed);
      break;
    }
    if (st == resp::ParseStatus::kError) {
      c->rb.Error(c->parser.error());
      c->close_after_reply = true;
      server_->Log(Server::kVerbose, StrCat("Protocol error (", c->parser.error(),
                                            ") from client: id=", c->id, " addr=", c->addr));
      break;
    }
    // Arguments are views into c->in: run the command before consuming.
    const auto& args = c->parser.args();
    // While forwarded commands are in flight, replies wait in slots so the
    // client reads them in command order (node/cluster/routing.cc).
    const bool capture = !c->slots.empty();
    const size_t before = c->out.size();
    if (!Dispatch(c, std::span<const std::string_view>(args.data(), args.size()), now_ms)) {
      // Must wait for the forwarded commands in flight: parse it again then.
      c->fwd_blocked = true;
      c->parser.Reset();
      break;
    }
    if (capture && c->out.size() > before) {
      c->slots.push_back(Connection::Slot{true, c->out.substr(before)});
      c->out.resize(before);
    }
    c->in.Consume(consumed);
  }
  if (!c->open_batches.empty()) SendForwards(c);
  // A buffer grown for a big argument goes back as soon as it is drained.
  c->in.Trim(64 * 1024);
}

void Worker::Flush(Connection* c) {
  // Replies leave only once the writes before them are durable by the
  // log's policy (node/persist/aof.h): held until this iteration's commit.
  // While the log cannot be written, only clients that wrote wait: the
  // others' replies (reads, MISCONF refusals) go out, as in Redis.
  if (AppendLog* log = aof_; log && c->out_head < c->out.size() && log->Behind() &&
                             (c->wrote || log->last_write_ok())) {
    awaiting_log_.push_back(c->id);
    return;
  }
  c->wrote = false;
  while (c->out_head < c->out.size()) {
    ssize_t n = write(c->fd, c->out.data() + c->out_head, c->out.size() - c->out_head);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      Close(c);
      return;
    }
    net_output_bytes += n;
    c->out_head += n;
    c->last_interaction_ms = NowMs();  // writing counts as activity, as in Redis
  }
  if (c->out_head == c->out.size()) {
    c->out.clear();
    c->out_head = 0;
    if (c->out.capacity() > 64 * 1024) c->out.shrink_to_fit();
    if (c->writable_armed) UpdateEvents(c, false);
    if (c->close_after_reply || c->kill_requested || (c->read_eof && !c->busy())) Close(c);
    return;
  }
  // Keep only the unsent tail, so a slow reader costs its backlog, not
  // every byte sent since the buffer last drained.
  if (c->out_head >= 64 * 1024) {
    c->out.erase(0, c->out_head);
    c->out_head = 0;
  }
  if (!c->writable_armed) UpdateEvents(c, true);
}

bool Worker::CheckMemory(Connection* c, const CommandId& cmd) {
  if (!OverMaxmemory()) return true;
  bool none_left = false;
  EvictFromShard(shard_, evict_pool_, NowMs(), &none_left);
  // Redis's rule: deny-oom commands are refused while over the limit, and
  // inside MULTI every command but EXEC, DISCARD, QUIT and RESET (queuing
  // takes memory too).
  const std::string_view name = cmd.fullname;
  const bool deny = (cmd.flags & kCmdDenyOom) ||
                    (c->in_multi && name != "exec" && name != "discard" && name != "quit" &&
                     name != "reset");
  if (!deny || !OverMaxmemory()) return true;
  // Under a policy that can still evict somewhere (the other shards shed
  // theirs at the end of their iterations), the command runs.
  if (g_evict.policy.load(std::memory_order_relaxed) != int(EvictPolicy::kNoEviction)) {
    bool all_exhausted = none_left;
    for (int i = 0; all_exhausted && i < server_->shard_count(); i++) {
      if (i != index_) all_exhausted = server_->worker(i).shard().evict_exhausted.load();
    }
    if (!all_exhausted) return true;
  }
  c->rb.Error("OOM command not allowed when used memory > 'maxmemory'.");
  c->multi_dirty = c->multi_dirty || c->in_multi;
  return false;
}

bool Worker::CheckDisk(Connection* c, const CommandId& cmd) {
  if (!(cmd.flags & kCmdWrite) && cmd.handler != CmdPing) return true;
  if (server_->last_bgsave_ok.load(std::memory_order_relaxed) &&
      (!aof_ || aof_->last_write_ok())) {
    return true;
  }
  std::string err = server_->DiskError();
  if (err.empty()) return true;
  c->rb.Error(err);
  stats[cmd.index].rejected++;
  c->multi_dirty = c->multi_dirty || c->in_multi;
  return false;
}

void Worker::FlushAwaitingLog() {
  // This worker's own commit ran in FlushSink(); another worker's deltas
  // (a command run on its shard for our client) may still be pending.
  if (aof_->Behind()) aof_->Commit();
  std::vector<uint64_t> ids;
  ids.swap(awaiting_log_);
  for (uint64_t id : ids) {
    auto it = conns_.find(id);
    if (it == conns_.end() || it->second->closed) continue;
    Connection* c = it->second.get();
    if (aof_->Behind() && (c->wrote || aof_->last_write_ok())) {
      // A write or fsync error: a writer's reply waits for the disk.
      awaiting_log_.push_back(id);
      continue;
    }
    Flush(c);
  }
  graveyard_.clear();
}

void Worker::UpdateEvents(Connection* c, bool want_write) {
  epoll_event ev{};
  ev.events = (c->read_eof ? 0u : uint32_t{EPOLLIN}) | (want_write ? uint32_t{EPOLLOUT} : 0u);
  ev.data.ptr = c;
  epoll_ctl(epfd_, EPOLL_CTL_MOD, c->fd, &ev);
  c->writable_armed = want_write;
}

void Worker::OnWritable(Connection* c) { Flush(c); }

void Worker::Close(Connection* c) {
  if (c->closed) return;
  c->closed = true;
  if (!blocked_.empty()) CancelBlocked(c->id);
  if (c->in_pubsub()) UnsubscribeAll(c);
  if (c->tracking.on) StopTracking(c);
  server_->UnindexClient(c->id);
  epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd, nullptr);
  close(c->fd);
  c->fd = -1;
  server_->clients--;
  auto it = conns_.find(c->id);
  graveyard_.push_back(std::move(it->second));
  conns_.erase(it);
}

void Worker::Kill(uint64_t id) {
  auto it = conns_.find(id);
  if (it != conns_.end()) Close(it->second.get());
}

void Worker::CountReads(const CommandId& cmd, std::span<const std::string_view> args) {
  // Sinks are attached to every shard at once: this shard tells for all,
  // so a standalone node hashes no key here.
  if (!(cmd.flags & kCmdReadOnly) || !shard_.has_peers()) return;
  ForEachKeyPosition(cmd, args,
                     [&](size_t pos) { server_->ShardFor(args[pos]).hot_keys.Add(args[pos]); });
}

void Worker::Cron(int64_t now_ms) {
  if (shard_.index() == 0) server_->PersistenceCron(*this, now_ms);
  // Hot-key rates decay by half every 5 s.
  if (now_ms - last_decay_ms_ >= 5000) {
    last_decay_ms_ = now_ms;
    shard_.hot_keys.Decay();
  }
  // Active expiry: at most a quarter of a cron period per round, per db.
  int hz = std::max(1, server_->config().hz);
  int64_t deadline = MonoUs() + 250000 / hz;
  for (int i = 0; i < shard_.databases(); i++) {
    Db& db = shard_.db(i);
    if (db.expires_size() > 0) db.ActiveExpire(NowMs(), deadline);
    // Redis's activerehashing: up to 1 ms per database per cron tick.
    db.RehashFor(1000);
  }
  // Idle timeouts and CLIENT KILL requests.
  int timeout = server_->config().timeout;
  std::vector<Connection*> doomed;
  for (auto& [id, c] : conns_) {
    // As Redis's clientsCronResizeQueryBuffer: idle clients give back their
    // query buffers, so thousands of idle connections cost little memory.
    if (!c->busy() && now_ms - c->last_interaction_ms > 2000) c->in.Trim(0);
    if (c->kill_requested ||
        (timeout > 0 && !c->busy() && now_ms - c->last_interaction_ms > int64_t(timeout) * 1000)) {
      doomed.push_back(c.get());
    }
  }
  for (Connection* c : doomed) Close(c);
}

// ---- Blocking pops (node/families/blocking.h) ----

void Worker::AddBlocked(std::shared_ptr<Waiter> w) {
  auto it = conns_.find(w->conn_id);
  if (it == conns_.end() || it->second->closed) {
    w->done.store(true);  // the client left before it was parked
    return;
  }
  if (blocked_.insert_or_assign(w->conn_id, w).second) server_->blocked_clients++;
}

void Worker::RegisterWaiter(std::shared_ptr<Waiter> w, const std::string& key) {
  if (w->finished()) return;
  blocking_.Add(w, key);
  Db& db = shard_.db(w->db);
  db.Wait(key);
  // Something may have arrived between the command and this registration.
  if (Entry* e = db.Find(key, NowMs()); e && e->is_collection()) db.SignalKey(key);
}

void Worker::FinishBlocked(uint64_t conn_id, std::string reply) {
  if (blocked_.erase(conn_id)) server_->blocked_clients--;
  CompleteRemote(conn_id, std::move(reply));
}

void Worker::ServeBlocked() {
  if (blocking_.empty()) return;
  for (int i = 0; i < shard_.databases(); i++) {
    Db& db = shard_.db(i);
    if (!db.has_ready()) continue;
    for (const std::string& key : db.TakeReady()) ServeKey(i, key);
  }
}

void Worker::ServeKey(int dbi, const std::string& key) {
  for (auto* q = blocking_.Queue(dbi, key); q && !q->empty(); q = blocking_.Queue(dbi, key)) {
    std::shared_ptr<Waiter> w = q->front();
    if (w->finished()) {
      q->pop_front();
      continue;
    }
    if (w->serving.load()) {
      // Another shard runs it right now (a multi-key read): look again
      // next iteration, when it is either answered or waiting again.
      shard_.db(dbi).SignalKey(key);
      break;
    }
    Entry* e = shard_.db(dbi).Find(key, NowMs());
    bool gone = !e || e->type() != ObjType::kStream;
    if ((!e || !e->is_collection() || e->collection()->size() == 0) &&
        !(gone && w->wake_when_gone)) {
      break;
    }
    if (w->serving.exchange(true)) {
      shard_.db(dbi).SignalKey(key);
      break;
    }
    if (w->done.exchange(true)) {
      w->serving.store(false);
      q->pop_front();
      continue;
    }
    std::string reply;
    if (RunWaiter(*w, &reply)) {
      w->done.store(false);  // still nothing for it (another type now)
      w->serving.store(false);
      break;
    }
    w->serving.store(false);
    q = blocking_.Queue(dbi, key);
    if (q && !q->empty() && q->front() == w) q->pop_front();
    // Its other keys' shards drop it when they meet it (done).
    Worker* origin = w->origin;
    uint64_t id = w->conn_id;
    origin->Post([origin, id, reply = std::move(reply)]() mutable {
      origin->FinishBlocked(id, std::move(reply));
    });
  }
  if (blocking_.Prune(dbi, key)) shard_.db(dbi).Unwait(key);
}

bool Worker::RunWaiter(Waiter& w, std::string* reply) {
  std::vector<std::string_view> views(w.args.begin(), w.args.end());
  resp::ReplyBuilder rb(reply, w.protocol);
  CommandContext cx{views, &rb, server_, nullptr, w.db, NowMs(), w.cmd};
  cx.origin = w.origin;
  cx.conn_id = w.conn_id;
  cx.serving = true;
  bool local = !server_->multi_threaded();
  if (!local) {
    bool multi;
    int target = server_->ShardOf(*w.cmd, views, &multi);
    local = !multi && (target == -1 || target == index_);
  }
  int64_t start = MonoUs();
  if (local) {
    RunNotified(cx);
  } else {
    // BLMOVE to a key of another shard: as the dispatcher runs multi-shard
    // commands.
    RunExclusive([&] { RunNotified(cx); });
  }
  stats[w.cmd->index].Record(MonoUs() - start);
  return cx.blocked;
}

void Worker::CancelBlocked(uint64_t conn_id) {
  auto it = blocked_.find(conn_id);
  if (it == blocked_.end()) return;
  std::shared_ptr<Waiter> w = std::move(it->second);
  blocked_.erase(it);
  server_->blocked_clients--;
  w->done.store(true);
  for (const std::string& key : w->keys) {
    Worker* kw = &server_->worker(server_->ShardIndexOf(key));
    int db = w->db;
    kw->Post([kw, db, key] {
      if (kw->blocking_.Prune(db, key)) kw->shard_.db(db).Unwait(key);
    });
  }
}

int64_t Worker::NextBlockedDeadline() const {
  int64_t next = INT64_MAX;
  for (const auto& [id, w] : blocked_) {
    if (w->deadline_ms > 0) next = std::min(next, w->deadline_ms);
    if (w->recheck_at_ms > 0) next = std::min(next, w->recheck_at_ms);
  }
  return next;
}

void Worker::ExpireBlocked(int64_t now_ms) {
  std::vector<std::shared_ptr<Waiter>> expired;
  for (const auto& [id, w] : blocked_) {
    if (w->deadline_ms > 0 && w->deadline_ms <= now_ms) {
      expired.push_back(w);
    } else if (w->recheck_at_ms > 0 && w->recheck_at_ms <= now_ms) {
      // Its keys' shards run it again (a stream entry may have become
      // readable).
      w->recheck_at_ms = now_ms + w->recheck_every_ms;
      for (const std::string& key : w->keys) {
        Worker* kw = &server_->worker(server_->ShardIndexOf(key));
        int dbi = w->db;
        kw->Post([kw, dbi, key] { kw->shard_.db(dbi).SignalKey(key); });
      }
    }
  }
  for (const auto& w : expired) {
    bool mine = !w->done.exchange(true);  // a shard may be serving it right now
    if (!mine) continue;
    CancelBlocked(w->conn_id);
    CompleteRemote(w->conn_id, TimeoutReplyBytes(*w));
  }
}

void Worker::CompleteRemote(uint64_t conn_id, std::string reply) {
  auto it = conns_.find(conn_id);
  if (it == conns_.end()) return;  // the client left meanwhile
  Connection* c = it->second.get();
  if (c->closed) return;
  c->out.append(reply);
  c->ReleaseDeferred();
  c->pending = false;
  ProcessInput(c);
  Flush(c);
}

// ---- pub/sub ----

std::string EncodePush(int protocol, Worker::PushKind kind, std::string_view pattern,
                       std::string_view channel, std::string_view message) {
  std::string out;
  resp::ReplyBuilder rb(&out, protocol);
  const int64_t n = kind == Worker::PushKind::kPMessage ? 4 : 3;
  if (protocol >= 3) {
    rb.PushHeader(n);
  } else {
    rb.ArrayHeader(n);
  }
  rb.Bulk(kind == Worker::PushKind::kMessage    ? "message"
          : kind == Worker::PushKind::kPMessage ? "pmessage"
                                                : "smessage");
  if (kind == Worker::PushKind::kPMessage) rb.Bulk(pattern);
  rb.Bulk(channel);
  rb.Bulk(message);
  return out;
}

void Worker::DeliverPush(uint64_t conn_id, PushKind kind, std::string_view pattern,
                         std::string_view channel, std::string_view message, bool flush) {
  auto it = conns_.find(conn_id);
  if (it == conns_.end() || it->second->closed) return;
  std::string bytes = EncodePush(it->second->rb.protocol(), kind, pattern, channel, message);
  DeliverEncoded(conn_id, bytes, bytes, flush);
}

void Worker::DeliverEncoded(uint64_t conn_id, std::string_view resp2, std::string_view resp3,
                            bool flush) {
  auto it = conns_.find(conn_id);
  if (it == conns_.end() || it->second->closed) return;
  Connection* c = it->second.get();
  const size_t bytes_before = c->out.size() - c->out_head;
  c->out.append(c->rb.protocol() >= 3 ? resp3 : resp2);
  // client-output-buffer-limit pubsub: past the hard limit, or past the
  // soft one for longer than its seconds, the subscriber is dropped rather
  // than buffered without bound (Redis's checkClientOutputBufferLimits).
  const int64_t pending = static_cast<int64_t>(c->out.size() - c->out_head);
  const int64_t hard = server_->pubsub_hard_limit(), soft = server_->pubsub_soft_limit();
  bool over = hard > 0 && pending > hard;
  if (!over && soft > 0 && pending > soft) {
    const int64_t now = NowMs();
    if (c->obuf_soft_since_ms == 0) {
      c->obuf_soft_since_ms = now;
    } else if (now - c->obuf_soft_since_ms > server_->pubsub_soft_seconds() * 1000) {
      over = true;
    }
  } else if (pending <= soft) {
    c->obuf_soft_since_ms = 0;
  }
  if (over) {
    server_->Log(Server::kWarning,
                 StrCat("Client id=", c->id, " addr=", c->addr,
                        " closed for overcoming of output buffer limits (pubsub, ", pending,
                        " bytes pending)."));
    if (flush) {
      Close(c);
    } else {
      c->close_after_reply = true;  // the caller is in the middle of its command
    }
    return;
  }
  if (flush && bytes_before == 0 && !c->writable_armed) pushed_.push_back(c->id);
}

void Worker::FlushPushed() {
  for (uint64_t id : pushed_) {
    auto it = conns_.find(id);
    if (it != conns_.end() && !it->second->closed) Flush(it->second.get());
  }
  pushed_.clear();
}

void Worker::UnsubscribeAll(Connection* c) {
  for (int k = 0; k < 3; k++) {
    for (const std::string& name : c->subscriptions[k]) {
      server_->pubsub().Unsubscribe(static_cast<PubSub::Kind>(k), name, this, c->id);
    }
    c->subscriptions[k].clear();
  }
}

// ---- client-side caching ----

void Worker::DeliverInvalidation(uint64_t source_id, uint64_t target_id, std::string_view key,
                                 bool flush, bool own) {
  auto it = conns_.find(target_id);
  if (it == conns_.end() || it->second->closed) return;
  Connection* c = it->second.get();
  // A connection that turned tracking off is not told; one that redirects
  // here is checked where it lives.
  if (source_id == target_id && !c->tracking.on) return;
  const bool defer = own && (c->id == tls_running_client || c->pending);
  std::string bytes;
  resp::ReplyBuilder rb(&bytes, c->rb.protocol());
  if (rb.protocol() >= 3) {
    rb.PushHeader(2);
    rb.Bulk("invalidate");
  } else if (source_id != target_id && c->in_pubsub()) {
    // A RESP2 redirect target gets a message on __redis__:invalidate.
    rb.ArrayHeader(3);
    rb.Bulk("message");
    rb.Bulk("__redis__:invalidate");
  } else {
    return;  // RESP2 without a redirect has no way to hear it (as Redis)
  }
  if (flush) {
    rb.Null();
  } else {
    rb.ArrayHeader(1);
    rb.Bulk(key);
  }
  if (defer) {
    c->deferred_pushes.append(bytes);
    return;
  }
  const bool was_empty = c->out.size() == c->out_head;
  c->out.append(bytes);
  if (c->id != tls_running_client && was_empty && !c->writable_armed) pushed_.push_back(c->id);
}

void Worker::StopTracking(Connection* c) {
  Tracking& t = server_->tracking();
  for (const std::string& p : c->tracking.prefixes) t.RemovePrefix(p, this, c->id);
  t.Disable(this, c->id);
  c->tracking = TrackingState{};
}

Worker* Server::WorkerOfClient(uint64_t id) {
  std::lock_guard<std::mutex> l(clients_mu_);
  auto it = client_index_.find(id);
  return it == client_index_.end() ? nullptr : it->second;
}

void Server::IndexClient(uint64_t id, Worker* w) {
  std::lock_guard<std::mutex> l(clients_mu_);
  client_index_[id] = w;
}

void Server::UnindexClient(uint64_t id) {
  std::lock_guard<std::mutex> l(clients_mu_);
  client_index_.erase(id);
}

// ---- busy scripts ----

void Worker::ServeBusy(uint64_t running_conn_id) {
  epoll_event events[kMaxEvents];
  int n = epoll_wait(epfd_, events, kMaxEvents, 0);
  if (n > 0) ServeBusyEvents(events, n, running_conn_id);
}

void Worker::ServeBusyEvents(const epoll_event* events, int n, uint64_t running_conn_id) {
  for (int i = 0; i < n; i++) {
    const epoll_event& ev = events[i];
    if (ev.data.ptr == nullptr) continue;  // tasks wait for the script to end
    if ((ev.data.u64 & 0xFFFF) == 1 && (ev.data.u64 >> 48) != 0) {
      Accept(listen_fds_[(ev.data.u64 >> 48) - 1]);
      continue;
    }
    auto* c = static_cast<Connection*>(ev.data.ptr);
    if (c->closed || c->id == running_conn_id || c->busy() || blocked_.contains(c->id)) continue;
    if (ev.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
      ReadBusy(c);
    } else if (ev.events & EPOLLOUT) {
      OnWritable(c);
    }
  }
}

void Worker::ReadBusy(Connection* c) {
  char* dst = c->in.Prepare(kReadChunk);
  ssize_t got = read(c->fd, dst, kReadChunk);
  if (got <= 0) {
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
    Close(c);
    return;
  }
  c->in.Commit(got);
  net_input_bytes += got;
  c->last_interaction_ms = NowMs();
  while (!c->close_after_reply && c->in.size() > 0) {
    size_t consumed = 0;
    resp::ParseStatus st = c->parser.Parse(c->in.data(), &consumed);
    if (st == resp::ParseStatus::kNeedMore) {
      c->in.Consume(consumed);
      break;
    }
    if (st == resp::ParseStatus::kError) {
      c->rb.Error(c->parser.error());
      c->close_after_reply = true;
      break;
    }
    const auto& args = c->parser.args();
    std::string error;
    const CommandId* cmd = server_->commands().Resolve(args, &error);
    // Only what ends the wait runs (Redis's allow-busy commands that touch
    // no data): SCRIPT KILL, FUNCTION KILL, SHUTDOWN NOSAVE, QUIT.
    bool nosave = false;
    for (size_t i = 1; i < args.size(); i++) nosave = nosave || EqualsIgnoreCase(args[i], "nosave");
    if (cmd && ArityOk(*cmd, args.size()) &&
        (cmd->handler == CmdScriptKill || cmd->handler == CmdFunctionKill ||
         cmd->handler == CmdQuit ||
         (cmd->handler == CmdShutdown && nosave))) {
      CommandContext cx{args, &c->rb, server_, c, c->db, NowMs(), cmd};
      cx.origin = this;
      cx.conn_id = c->id;
      RunCommand(cx);
    } else {
      c->rb.Error(kBusyError);
      c->multi_dirty = c->multi_dirty || c->in_multi;
    }
    c->in.Consume(consumed);
  }
  Flush(c);
}

namespace {

// The commands that act at once inside MULTI instead of being queued
// (Redis's processCommand list).
bool ActsInMulti(const CommandId& cmd) {
  return cmd.handler == CmdExec || cmd.handler == CmdDiscard || cmd.handler == CmdMulti ||
         cmd.handler == CmdWatch || cmd.handler == CmdQuit || cmd.handler == CmdReset;
}

// What a RESP2 connection with subscriptions may still run.
bool AllowedWhenSubscribed(const CommandId& cmd) {
  Handler h = cmd.handler;
  return h == CmdSubscribe || h == CmdUnsubscribe || h == CmdPSubscribe ||
         h == CmdPUnsubscribe || h == CmdSSubscribe || h == CmdSUnsubscribe || h == CmdPing ||
         h == CmdQuit || h == CmdReset;
}

}  // namespace

void Worker::TrackReads(Connection* c, const CommandId& cmd,
                        std::span<const std::string_view> args) {
  TrackingState& t = c->tracking;
  // CLIENT CACHING applies to the command right after it (Dispatch ends it).
  const int caching = t.caching_pending ? t.caching : 0;
  if (t.bcast || !(cmd.flags & kCmdReadOnly) || !cmd.has_keys()) return;
  if ((t.optin && caching != 1) || (t.optout && caching == -1)) return;
  Worker* target_worker = this;
  uint64_t target = c->id;
  if (t.redirect != 0) {
    target = t.redirect;
    target_worker = server_->WorkerOfClient(target);
    if (!target_worker) return;
  }
  TrackedClient tc{this, c->id, t.noloop, target_worker, target};
  ForEachKeyPosition(cmd, args, [&](size_t pos) { server_->tracking().Remember(args[pos], tc); });
}

void Worker::RunExclusive(const std::function<void()>& fn) {
  server_->world().ReaderUnlock();  // this worker's share of the world lock
  server_->Exclusive(fn);
  server_->world().ReaderLock();
}

void Worker::RunCommand(CommandContext& cx) {
  int64_t start = MonoUs();
  size_t before = cx.rb->out()->size();
  RunNotified(cx);
  CountReads(*cx.cmd, cx.args);
  CommandStats& st = stats[cx.cmd->index];
  st.Record(MonoUs() - start);
  if (cx.rb->out()->size() > before && (*cx.rb->out())[before] == '-') st.failed++;
  commands_processed++;
}

bool Worker::Dispatch(Connection* c, std::span<const std::string_view> args, int64_t now_ms) {
  std::string error;
  const CommandId* cmd = server_->commands().Resolve(args, &error);
  if (!cmd) {
    c->rb.Error(error);
    c->multi_dirty = c->in_multi;  // Redis's flagTransaction
    return true;
  }
  if (!ArityOk(*cmd, args.size())) {
    c->rb.Error(ArityError(*cmd));
    stats[cmd->index].rejected++;
    c->multi_dirty = c->multi_dirty || c->in_multi;
    return true;
  }
  // With forwarded commands in flight, a command that belongs to the
  // connection (SELECT changes what later commands see; WAIT parks) waits
  // for them, and so does one queued by MULTI (its +QUEUED comes after
  // their replies).
  if (c->in_pubsub() && c->rb.protocol() == 2 && !AllowedWhenSubscribed(*cmd)) {
    c->rb.Error(StrCat("ERR Can't execute '", cmd->fullname,
                       "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are "
                       "allowed in this context"));
    return true;
  }
  if (g_evict.maxmemory.load(std::memory_order_relaxed) > 0 && !CheckMemory(c, *cmd)) return true;
  if (!CheckDisk(c, *cmd)) return true;
  if (cmd->flags & kCmdWrite) c->wrote = true;
  const bool in_flight = !c->slots.empty();
  if (in_flight && ((cmd->flags & kCmdConnection) || c->in_multi)) return false;
  c->last_cmd = cmd;
  if (c->in_multi && !ActsInMulti(*cmd)) {
    QueueCommand(c, *cmd, args);
    return true;
  }
  // Before it runs (here or on another shard or node), so that a write
  // racing with the read is never missed.
  if (c->tracking.on) TrackReads(c, *cmd, args);
  // CLIENT CACHING yes/no holds until a command other than a CLIENT
  // subcommand has run outside MULTI (Redis's resetClient), which still sees
  // it.
  struct CachingScope {
    TrackingState* t;
    ~CachingScope() {
      if (t) {
        t->caching_pending = false;
        t->caching = 0;
      }
    }
  } caching_scope{c->tracking.caching_pending && !c->in_multi &&
                          !cmd->fullname.starts_with("client|")
                      ? &c->tracking
                      : nullptr};
  // Placement: keys this node does not hold are served elsewhere.
  // (SORT runs in the exclusive section here but is routed by its key.)
  if (server_->placement().partial() && cmd->has_keys() && !(cmd->flags & kCmdConnection)) {
    RefreshView();
    if (view_->partial()) {
      Route r = RouteCluster(c, *cmd, args);
      if (r == Route::kWait) {
        caching_scope.t = nullptr;  // it runs again later
        return false;
      }
      if (r == Route::kHandled) return true;
    }
  }
  CommandContext ctx{args, &c->rb, server_, c, c->db, now_ms, cmd};
  ctx.origin = this;
  ctx.conn_id = c->id;
  auto run = [&](CommandContext& cx) {
    tls_running_client = cx.conn_id;
    RunCommand(cx);
    tls_running_client = 0;
    c->ReleaseDeferred();
  };
  if (!server_->multi_threaded() || (cmd->flags & kCmdConnection) ||
      (!cmd->has_keys() && !(cmd->flags & kCmdAllShards))) {
    run(ctx);
    if (ctx.blocked) c->pending = true;
    return true;
  }
  bool multi_shard;
  int target = server_->ShardOf(*cmd, args, &multi_shard);
  if (multi_shard) {
    // A busy script holds a shard: the exclusive section would wait for it.
    if (server_->scripting().busy()) {
      c->rb.Error(kBusyError);
      return true;
    }
    RunExclusive([&] { run(ctx); });
    if (ctx.blocked) c->pending = true;
    return true;
  }
  if (target == -1 || target == index_) {
    run(ctx);
    if (ctx.blocked) c->pending = true;
    return true;
  }
  // The reply would come back out of order with the forwarded ones.
  if (in_flight) {
    caching_scope.t = nullptr;  // it runs again later
    return false;
  }
  if (server_->worker(target).script_busy.load(std::memory_order_acquire)) {
    c->rb.Error(kBusyError);
    return true;
  }
  // The key lives on another shard: ship a copy of the arguments there and
  // park the connection until the reply comes back.
  struct Remote {
    std::vector<std::string> storage;
    std::vector<std::string_view> views;
    std::string reply;
  };
  auto remote = std::make_shared<Remote>();
  remote->storage.assign(args.begin(), args.end());
  for (const auto& s : remote->storage) remote->views.push_back(s);
  c->pending = true;
  Worker* origin = this;
  Worker* owner = &server_->worker(target);
  uint64_t conn_id = c->id;
  int db = c->db;
  int proto = c->rb.protocol();
  owner->Post([remote, origin, owner, conn_id, db, proto, cmd] {
    resp::ReplyBuilder rb(&remote->reply, proto);
    CommandContext cx{remote->views, &rb, owner->server(), nullptr, db, NowMs(), cmd};
    cx.origin = origin;
    cx.conn_id = conn_id;
    int64_t start = MonoUs();
    tls_running_client = conn_id;
    RunNotified(cx);
    tls_running_client = 0;
    owner->CountReads(*cmd, cx.args);
    owner->stats[cmd->index].Record(MonoUs() - start);
    owner->commands_processed++;
    if (cx.blocked) return;  // parked: the reply comes when it is served
    origin->Post(
        [remote, origin, conn_id] { origin->CompleteRemote(conn_id, std::move(remote->reply)); });
  });
  return true;
}

// ---- MULTI / EXEC / WATCH ----

void Worker::QueueCommand(Connection* c, const CommandId& cmd,
                          std::span<const std::string_view> args) {
  if (cmd.flags & kCmdNoMulti) {
    c->rb.Error("ERR Command not allowed inside a transaction");
    c->multi_dirty = true;
    return;
  }
  // Under partial placement a transaction runs where its keys are; one
  // node cannot make writes on two replica sets atomic.
  if (server_->placement().partial() && cmd.has_keys()) {
    RefreshView();
    bool here = true;
    if (view_->partial()) {
      ForEachKeyPosition(cmd, args, [&](size_t pos) {
        here = here && view_->ReplicaOf(view_->self, args[pos]);
      });
    }
    if (!here) {
      c->rb.Error(
          "ERR a transaction can only use keys this node holds: run MULTI on a node that holds "
          "them all (LATTICE WHERE key)");
      c->multi_dirty = true;
      return;
    }
  }
  c->queued.push_back(Connection::Queued{&cmd, std::vector<std::string>(args.begin(), args.end())});
  c->rb.SimpleString("QUEUED");
}

void Worker::RunTransaction(Connection* c, int64_t now_ms) {
  std::vector<Connection::Queued> queued = std::move(c->queued);
  bool dirty = c->multi_dirty;
  c->queued.clear();
  c->in_multi = false;
  c->multi_dirty = false;
  std::shared_ptr<std::atomic<bool>> watch = std::move(c->watch_dirty);
  std::vector<Connection::Watched> watched = std::move(c->watched);
  c->watch_dirty.reset();
  c->watched.clear();
  if (dirty) {
    c->rb.Error("EXECABORT Transaction discarded because of previous errors.");
    return;
  }
  // Atomic: on this worker's thread alone if every key (queued or
  // watched) lives on its shard, else in the exclusive section. When the
  // node replicates, its deltas form one group (peers apply it at once),
  // which the exclusive section keeps contiguous in the log.
  const bool group = shard_.has_peers();
  bool local = !server_->multi_threaded();
  if (!local && !group) {
    local = true;
    for (const Connection::Watched& w : watched) {
      local = local && server_->ShardIndexOf(w.key) == index_;
    }
    for (const Connection::Queued& q : queued) {
      std::vector<std::string_view> views(q.args.begin(), q.args.end());
      bool multi;
      int target = server_->ShardOf(*q.cmd, views, &multi);
      if (multi || (target != -1 && target != index_)) local = false;
    }
  }
  auto body = [&] {
    bool changed = watch && watch->load();
    for (const Connection::Watched& w : watched) {
      if (changed || w.expired) continue;
      // A watched key that expired since counts as changed (Redis 7.0).
      Entry* e = server_->ShardFor(w.key).db(w.db).FindRaw(w.key);
      changed = e && e->has_expire() && e->expire_at() <= now_ms;
    }
    if (changed) {
      c->rb.NullArray();
      return;
    }
    c->rb.ArrayHeader(static_cast<int64_t>(queued.size()));
    for (const Connection::Queued& q : queued) {
      std::vector<std::string_view> views(q.args.begin(), q.args.end());
      CommandContext cx{views, &c->rb, server_, c, c->db, now_ms, q.cmd};
      cx.origin = this;
      cx.conn_id = c->id;
      cx.in_exec = true;
      RunCommand(cx);
    }
  };
  if (group) server_->replicator().BeginGroup();
  if (local) {
    body();
  } else {
    RunExclusive(body);
  }
  if (group) server_->replicator().EndGroup();
}

void Worker::WatchKeys(Connection* c, std::span<const std::string_view> keys, int64_t now_ms) {
  if (!c->watch_dirty) c->watch_dirty = std::make_shared<std::atomic<bool>>(false);
  bool local = !server_->multi_threaded();
  if (!local) {
    local = true;
    for (std::string_view k : keys) local = local && server_->ShardIndexOf(k) == index_;
  }
  auto body = [&] {
    for (std::string_view key : keys) {
      bool seen = false;
      for (const Connection::Watched& w : c->watched) seen = seen || (w.db == c->db && w.key == key);
      if (seen) continue;
      Db& d = server_->ShardFor(key).db(c->db);
      Entry* e = d.FindRaw(key);
      bool expired = e && e->has_expire() && e->expire_at() <= now_ms;
      d.Watch(key, c->watch_dirty);
      c->watched.push_back(Connection::Watched{c->db, std::string(key), expired});
    }
  };
  if (local) {
    body();
  } else {
    RunExclusive(body);
  }
}

// ---- Server ----

Server::Server(Config config)
    : config_(std::move(config)),
      commands_(std::make_unique<CommandTable>()),
      clock_(config_.node_id.empty() ? static_cast<crdt::NodeId>(std::random_device{}() | 1)
                                     : NodeIdOf(config_.node_id),
             // Start the clock at the wall time so that a restarted node's
             // writes order after those of its previous life.
             static_cast<uint64_t>(NowMs()) << 12),
      scripting_(std::make_unique<Scripting>()),
      functions_(std::make_unique<Functions>()),
      pubsub_(std::make_unique<PubSub>()),
      tracking_(std::make_unique<Tracking>(this)),
      logfile_(config_.logfile),
      start_ms_(NowMs()) {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 40; i++) run_id_ += kHex[rd() % 16];
  ApplyRuntimeConfig();
  int n = config_.ResolvedThreads();
  for (int i = 0; i < n; i++) workers_.push_back(std::make_unique<Worker>(this, i));
  replicator_ = std::make_unique<Replicator>(this, nullptr, config_.consistency == "causal",
                                             config_.repl_backlog_size, SourceIp());
}

Server::~Server() = default;

absl::Status Server::Listen() {
  for (auto& w : workers_) {
    absl::Status st = w->Listen();
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

uint64_t Server::StableClock() {
  // Clock first: a worker that starts an iteration after we read it ticks
  // above this value (all seq_cst).
  uint64_t s = clock_.Now();
  for (auto& w : workers_) {
    uint64_t it = w->iter_clock_.load();
    if (it < s) s = it;
  }
  return s;
}

crdt::NodeId NodeIdOf(std::string_view name) {
  uint32_t h = 2166136261u;
  for (unsigned char c : name) {
    h ^= c;
    h *= 16777619u;
  }
  return h == 0 ? 1 : h;
}

std::string Server::SourceIp() const {
  for (const std::string& b : config_.bind) {
    std::string_view a = b;
    if (!a.empty() && a[0] == '-') a.remove_prefix(1);
    if (a.find(':') == std::string_view::npos) return std::string(a);  // IPv4 first
  }
  return "";
}

absl::Status Server::StartCluster() {
  int peer_port = config_.ResolvedPeerPort();
  if (peer_port == 0) return absl::OkStatus();
  if (config_.peer_port < 0 && peer_port > 65535) {
    Log(kWarning, StrCat("no peer service: the default peer port (port + 10000 = ", peer_port,
                         ") does not exist; set peer-port to join a cluster"));
    return absl::OkStatus();
  }
  // The address peers and clients are told: announce-ip, else the bind
  // address, else loopback.
  std::string host = config_.announce_ip.empty() ? SourceIp() : config_.announce_ip;
  if (host.empty() || host == "0.0.0.0" || host == "*") host = "127.0.0.1";
  gossip::MemberInfo self;
  self.id = clock_.node();
  self.name = config_.node_id.empty() ? StrCat("node-", clock_.node()) : config_.node_id;
  self.client_addr = StrCat(host, ":", config_.port);
  self.peer_addr = StrCat(host, ":", peer_port);
  self.zone = config_.zone;
  self.incarnation = static_cast<uint64_t>(NowMs());
  self.replicas = config_.ReplicasText();
  gossip::MembershipOptions options;
  options.source_ip = SourceIp();
  membership_ = std::make_unique<gossip::Membership>(
      self, config_.seeds, options,
      [this](int level, const std::string& msg) { Log(level, msg); });
  replicator_ = std::make_unique<Replicator>(this, membership_.get(),
                                             config_.consistency == "causal",
                                             config_.repl_backlog_size, SourceIp());
  if (restored_) replicator_->RestoreApplied(restored_applied_);
  anti_entropy_ = std::make_unique<AntiEntropy>(this);
  replicator_->set_repair_request(
      [ae = anti_entropy_.get()](const std::string& addr) { ae->RequestRepair(addr); });
  replicator_->set_repair_async([ae = anti_entropy_.get()](const std::string& addr,
                                                           std::function<void(bool)> done) {
    ae->RepairAsync(addr, [done = std::move(done)](RepairStats st) { done(st.ok); });
  });
  forwarder_ = std::make_unique<Forwarder>(this);
  forward_client_ = std::make_unique<ForwardClient>(this, forwarder_.get(), SourceIp());
  hot_ = std::make_unique<HotReplication>(this);
  membership_->set_self_hot([h = hot_.get(), this] {
    return leaving_ ? std::vector<std::string>{} : h->Held();
  });
  membership_->AddListener([this](const gossip::MemberInfo&) { RebuildPlacement(); });
  RebuildPlacement();
  relay_ = std::make_unique<PubSubRelay>(this, membership_.get());
  functions_sync_ = std::make_unique<FunctionsSync>(this, membership_.get());
  peer_service_ = std::make_unique<gossip::PeerService>(membership_.get(), replicator_.get(),
                                                        anti_entropy_.get(), forwarder_.get(),
                                                        relay_.get(), functions_sync_.get());
  // Listen on the bind address (all interfaces when bound to a wildcard).
  std::string listen_host = SourceIp();
  if (listen_host.empty() || listen_host == "*") listen_host = "0.0.0.0";
  auto server = gossip::StartPeerServer(StrCat(listen_host, ":", peer_port), peer_service_.get());
  if (!server.ok()) return server.status();
  peer_server_ = std::move(*server);
  if (config_.metrics_port > 0) {
    auto metrics = MetricsExporter::Start(this, StrCat(listen_host, ":", config_.metrics_port));
    if (!metrics.ok()) return metrics.status();
    metrics_ = std::move(*metrics);
  }
  Log(kNotice, StrCat("node ", self.name, " (id ", self.id, ", zone ", self.zone,
                      ") peer service on ", self.peer_addr, ", ", config_.consistency,
                      " consistency"));
  return absl::OkStatus();
}

void Server::Start() {
  for (auto& w : workers_) w->Start();
  replicator_->Start();
  if (membership_) membership_->Start();
  if (anti_entropy_) anti_entropy_->Start();
  if (hot_) hot_->Start();
  if (relay_) relay_->Start();
  if (functions_sync_) functions_sync_->Start();
}

void Server::Wait() {
  for (auto& w : workers_) w->Join();
  workers_joined_ = true;
}

void Server::StopCluster() {
  if (relay_) relay_->Stop();
  if (functions_sync_) functions_sync_->Stop();
  if (hot_) hot_->Stop();
  if (forward_client_) forward_client_->Stop();
  if (anti_entropy_) anti_entropy_->Stop();
  if (membership_ && placement_.partial() && !membership_->removed()) {
    // A leaving node hands its ranges to the nodes that hold them once it
    // is gone, before it says goodbye (others then stop routing here).
    leaving_ = true;
    RebuildPlacement();
    uint64_t n = anti_entropy_->Handoff();
    Log(kNotice, StrCat("handed off ", n, " keys before leaving"));
  }
  if (membership_) membership_->Leave();
  replicator_->Stop();
  if (peer_server_) {
    peer_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }
  metrics_.reset();
}

void Server::Shutdown() {
  running_ = false;
  for (auto& w : workers_) w->Post([] {});
}

void Server::RebuildPlacement() {
  if (!membership_) return;
  std::lock_guard<std::mutex> l(placement_mu_);
  auto view = std::make_shared<PlacementView>();
  view->self = membership_->self_id();
  std::vector<RingMember> members;
  for (const gossip::MemberInfo& m : membership_->Snapshot()) {
    if (m.self ? leaving_.load() : m.state == gossip::State::kLeft) continue;
    if (!m.self && !m.replicas.empty() && m.replicas != membership_->self_static().replicas &&
        replicas_warned_.insert(m.id).second) {
      Log(kWarning, StrCat("member ", m.name, " has replicas ", m.replicas, ", this node ",
                           membership_->self_static().replicas,
                           ": nodes disagree on where keys live; give every node the same "
                           "replicas setting"));
    }
    members.push_back(RingMember{m.id, m.name, m.zone});
    view->routes[m.id] = PlacementView::MemberRoute{m.peer_addr, m.self || m.state == gossip::State::kAlive};
    if (!m.self) {
      for (const std::string& k : m.hot_keys) view->hot[StableHash64(k)].push_back(m.id);
    }
  }
  if (hot_ && !leaving_) {
    for (std::string& k : hot_->Held()) {
      view->hot[StableHash64(k)].push_back(view->self);
      view->self_hot.insert(std::move(k));
    }
  }
  std::vector<uint32_t> ids;
  for (const RingMember& m : members) ids.push_back(m.id);
  std::sort(ids.begin(), ids.end());
  std::shared_ptr<const PlacementView> old = placement_.view();
  bool ring_changed = !old->ring || ids != ring_ids_ || ring_replicas_ != config_.replicas;
  view->ring = ring_changed ? std::make_shared<const Ring>(std::move(members), config_.replicas)
                            : old->ring;
  bool was_partial = old->partial();
  ring_ids_ = std::move(ids);
  ring_replicas_ = config_.replicas;
  std::shared_ptr<const Ring> ring = view->ring;
  uint32_t self = view->self;
  placement_.Publish(std::move(view));
  // Merkle leaves are kept per peer under partial placement: re-key them
  // (not while stopping: nobody compares with a leaving node).
  if (!ring_changed || workers_joined_) return;
  for (auto& w : workers_) {
    Worker* worker = w.get();
    auto rekey = [worker, ring, self] {
      for (int i = 0; i < worker->shard().databases(); i++) {
        worker->shard().db(i).SetRing(ring, self);
      }
    };
    worker->Post(rekey);
  }
  if (anti_entropy_ && (was_partial || !ring->full()) && !leaving_) {
    Log(kNotice, StrCat("placement: ", ring->members().size(), " members, replicas ",
                        config_.ReplicasText(),
                        "; moving ranges"));
    anti_entropy_->RequestRebalance();
  }
}

int Server::ShardOf(const CommandId& cmd, std::span<const std::string_view> args,
                    bool* multi_shard) const {
  int target = -1;
  *multi_shard = (cmd.flags & kCmdAllShards) != 0;
  if (*multi_shard) return target;
  ForEachKeyPosition(cmd, args, [&](size_t pos) {
    int s = ShardIndexOf(args[pos]);
    if (target == -1) {
      target = s;
    } else if (s != target) {
      *multi_shard = true;
    }
  });
  // A script may touch keys it did not declare (Redis allows it outside
  // cluster mode; job-queue libraries do it), so it runs with every shard
  // stopped unless lua-shard-local says its keys are all declared. On a
  // node with peers its deltas form one group, kept contiguous in the log
  // by the exclusive section (as EXEC's).
  if ((cmd.flags & kCmdScript) && workers_.size() > 1 &&
      (target == -1 || !lua_shard_local() || workers_[0]->shard().has_peers())) {
    *multi_shard = true;
  }
  return target;
}

int Server::ShardIndexOf(std::string_view key) const {
  if (workers_.size() == 1) return 0;
  return static_cast<int>(absl::HashOf(key, 0x5eed) % workers_.size());
}

void Server::Exclusive(const std::function<void()>& fn) {
  world_.Lock();
  tls_exclusive = true;
  fn();
  tls_exclusive = false;
  world_.Unlock();
}

void Server::Log(int level, std::string_view msg) {
  if (level < log_level_.load(std::memory_order_relaxed)) return;
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t;
  localtime_r(&ts.tv_sec, &t);
  char when[64];
  strftime(when, sizeof when, "%d %b %Y %H:%M:%S", &t);
  static constexpr char kMarks[] = ".-*#";
  std::string line =
      absl::StrFormat("%d:M %s.%03d %c %s\n", getpid(), when, int(ts.tv_nsec / 1000000),
                      kMarks[std::min(level, 3)], std::string(msg));
  std::lock_guard<std::mutex> lock(log_mu_);
  if (logfile_.empty()) {
    fwrite(line.data(), 1, line.size(), stdout);
    fflush(stdout);
  } else if (FILE* f = fopen(logfile_.c_str(), "a")) {
    fwrite(line.data(), 1, line.size(), f);
    fclose(f);
  }
}

void Server::ApplyRuntimeConfig() {
  static constexpr std::string_view kLevels[] = {"debug", "verbose", "notice", "warning",
                                                 "nothing"};
  for (int i = 0; i < 5; i++) {
    if (config_.loglevel == kLevels[i]) log_level_ = i;
  }
  max_bulk_len_ = config_.proto_max_bulk_len;
  ae_interval_ = config_.anti_entropy_interval;
  busy_ms_ = config_.busy_reply_threshold;
  g_stream_read_delay = config_.stream_read_delay;
  lua_local_ = config_.lua_shard_local;
  g_evict.maxmemory = config_.maxmemory;
  g_evict.policy = static_cast<int>(ParseEvictPolicy(config_.maxmemory_policy));
  g_evict.samples = config_.maxmemory_samples;
  g_evict.tenacity = config_.maxmemory_eviction_tenacity;
  g_evict.lfu_log_factor = config_.lfu_log_factor;
  g_evict.lfu_decay_time = config_.lfu_decay_time;
  if (aof_) aof_->set_fsync(config_.appendfsync);
  uint32_t notify = 0;
  ParseNotifyFlags(config_.notify_keyspace_events, &notify);
  SetNotifyServer(this);
  g_notify_flags = notify;
  // "pubsub <hard> <soft> <seconds>" among the classes; others are not
  // enforced yet.
  for (size_t i = 0; i + 3 < config_.client_output_buffer_limit.size(); i += 4) {
    const auto& v = config_.client_output_buffer_limit;
    int64_t hard, soft, secs;
    if (v[i] == "pubsub" && ParseMemory(v[i + 1], &hard) && ParseMemory(v[i + 2], &soft) &&
        ParseInt64(v[i + 3], &secs)) {
      obuf_hard_ = hard;
      obuf_soft_ = soft;
      obuf_soft_s_ = secs;
    }
  }
  repl_stream_ = config_.replication_stream == "yes";
  hot_enabled_ = config_.hot_key_replication;
  hot_factor_ = config_.hot_key_factor;
  hot_min_rate_ = config_.hot_key_min_rate;
  hot_max_ = config_.hot_key_max;
}

void Server::set_aof(std::unique_ptr<AppendLog> aof) {
  aof_ = std::move(aof);
  for (auto& w : workers_) {
    w->aof_ = aof_.get();
    w->shard().set_sink(aof_.get());
  }
}

uint64_t Server::WritesSoFar() {
  uint64_t n = 0;
  for (auto& w : workers_) n += w->shard().deltas_emitted.load(std::memory_order_relaxed);
  return n;
}

absl::Status Server::SaveNow() {
  SnapshotInfo info;
  int64_t start = MonoUs();
  absl::Status st = SaveSnapshot(*this, config_.dbfilename, &info);
  last_save_ok = st.ok();
  if (!st.ok()) {
    Log(kWarning, StrCat("Failed saving the snapshot: ", std::string(st.message())));
    return st;
  }
  last_save_unix = NowMs() / 1000;
  writes_at_last_save = WritesSoFar();
  Log(kNotice, StrCat("DB saved on disk: ", info.keys, " keys, ", info.bytes, " bytes in ",
                      (MonoUs() - start) / 1000, " ms"));
  return absl::OkStatus();
}

absl::Status Server::StartBackgroundSave(BgJob job) {
  std::lock_guard<std::mutex> l(bg_mu_);
  if (bg_ && !bg_->finished()) {
    return absl::FailedPreconditionError(bg_->kind() == BackgroundSave::kRdb
                                             ? "Background save already in progress"
                                             : "Background append only file rewriting already in progress");
  }
  bg_.reset();
  const bool rewrite = job == BgJob::kAofRewrite;
  std::string path = config_.dbfilename;
  if (rewrite) {
    if (!aof_) return absl::FailedPreconditionError("the append-only log is off");
    absl::Status st = aof_->BeginRewrite(&path);
    if (!st.ok()) return st;
  } else {
    last_bgsave_try_unix = NowMs() / 1000;
  }
  const int64_t started = NowMs();
  auto done = [this, job, started](const absl::Status& st, const SnapshotInfo& info) {
    int64_t secs = (NowMs() - started) / 1000;
    if (job == BgJob::kRdb) {
      last_bgsave_ok = st.ok();
      last_save_ok = st.ok();
      last_bgsave_secs = secs;
      if (st.ok()) {
        last_save_unix = NowMs() / 1000;
        writes_at_last_save = bg_writes_at_start_.load();
        rdb_saves++;
        Log(kNotice, StrCat("Background saving terminated with success (", info.keys, " keys, ",
                            info.bytes, " bytes in ", NowMs() - started, " ms)"));
      } else {
        Log(kWarning, StrCat("Background saving error: ", std::string(st.message())));
      }
    } else {
      absl::Status fin = aof_->FinishRewrite(st, info.bytes);
      last_rewrite_ok = fin.ok();
      last_rewrite_secs = secs;
      if (fin.ok()) {
        aof_rewrites++;
        Log(kNotice, StrCat("Background AOF rewrite finished successfully (", info.keys,
                            " keys, base ", info.bytes, " bytes in ", NowMs() - started, " ms)"));
      } else {
        Log(kWarning, StrCat("Background AOF rewrite failed: ", std::string(fin.message())));
      }
    }
    bg_job_.store(int(BgJob::kNone), std::memory_order_release);
  };
  auto bg = std::make_unique<BackgroundSave>(
      *this, rewrite ? BackgroundSave::kAofRewrite : BackgroundSave::kRdb, path, done);
  absl::Status st = bg->Begin();
  if (!st.ok()) {
    if (rewrite) aof_->FinishRewrite(st, 0).IgnoreError();
    if (job == BgJob::kRdb) last_bgsave_ok = false;
    Log(kWarning, StrCat("Can't start the background save: ", std::string(st.message())));
    return st;
  }
  bg_writes_at_start_ = bg->writes_at_start();
  bg_started_ms = started;
  bg_job_.store(int(job), std::memory_order_release);
  bg_ = std::move(bg);
  for (auto& w : workers_) w->bgsave_.store(bg_.get(), std::memory_order_release);
  Log(kNotice, rewrite ? "Background append only file rewriting started"
                       : "Background saving started");
  return absl::OkStatus();
}

std::string Server::DiskError() const {
  if (config_.stop_writes_on_bgsave_error && !config_.save.empty() && !last_bgsave_ok.load()) {
    return "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to "
           "persist to disk. Commands that may modify the data set are disabled, because this "
           "instance is configured to report errors during writes if RDB snapshotting fails "
           "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about "
           "the RDB error.";
  }
  if (aof_ && !aof_->last_write_ok()) {
    return StrCat("MISCONF Errors writing to the AOF file: ", aof_->last_error());
  }
  return "";
}

void Server::FunctionsChanged() {
  if (functions_sync_) functions_sync_->Changed();
  if (aof_) {
    peer::FunctionsState state;
    FunctionsToProto(*this, &state);
    aof_->AppendFunctions(state.SerializeAsString());
  }
}

void Server::StopBackgroundSave() {
  std::lock_guard<std::mutex> l(bg_mu_);
  if (!bg_) return;
  if (!bg_->finished()) Log(kWarning, "Stopping the background save in progress");
  for (auto& w : workers_) w->bgsave_.store(nullptr);
  bg_.reset();  // aborts, joins, detaches the hooks
}

namespace {

// `save` as (seconds, changes) pairs (validated when set).
std::vector<std::pair<int64_t, int64_t>> SavePoints(const std::string& text) {
  std::vector<std::pair<int64_t, int64_t>> out;
  std::vector<int64_t> nums;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') i++;
    size_t j = i;
    while (j < text.size() && text[j] != ' ') j++;
    int64_t v;
    if (j > i && ParseInt64(std::string_view(text).substr(i, j - i), &v)) nums.push_back(v);
    i = j;
  }
  for (size_t k = 0; k + 1 < nums.size(); k += 2) out.emplace_back(nums[k], nums[k + 1]);
  return out;
}

}  // namespace

void Server::PersistenceCron(Worker& w, int64_t now_ms) {
  NotePeakMemory(mem::UsedBytes());
  if (bg_job() != BgJob::kNone) return;
  BgJob job = BgJob::kNone;
  if (aof_rewrite_scheduled.load() && aof_) {
    job = BgJob::kAofRewrite;
  } else if (bgsave_scheduled.load()) {
    job = BgJob::kRdb;
  } else {
    const int64_t now_s = now_ms / 1000;
    const uint64_t writes = WritesSoFar();
    const uint64_t at_save = writes_at_last_save.load();
    const uint64_t changes = writes > at_save ? writes - at_save : 0;
    // After a failure, retry no sooner than 5 s later (Redis's
    // CONFIG_BGSAVE_RETRY_DELAY).
    const bool may_retry = last_bgsave_ok.load() || now_s - last_bgsave_try_unix.load() > 5;
    for (auto [secs, min_changes] : SavePoints(config_.save)) {
      if (changes >= uint64_t(min_changes) && now_s - last_save_unix.load() >= secs && may_retry) {
        Log(kNotice, StrCat(changes, " changes in ", secs, " seconds. Saving..."));
        job = BgJob::kRdb;
        break;
      }
    }
    if (job == BgJob::kNone && aof_ && config_.auto_aof_rewrite_percentage > 0) {
      uint64_t size = aof_->current_size() + aof_->base_size();
      uint64_t base = std::max<uint64_t>(aof_->base_size(), 1);
      if (size > uint64_t(config_.auto_aof_rewrite_min_size) &&
          (size - std::min(size, base)) * 100 / base >= uint64_t(config_.auto_aof_rewrite_percentage) &&
          (last_rewrite_ok.load() || now_ms - bg_started_ms.load() > 5000)) {
        Log(kNotice, StrCat("Starting automatic rewriting of AOF on ", (size - base) * 100 / base,
                            "% growth"));
        job = BgJob::kAofRewrite;
      }
    }
  }
  if (job == BgJob::kNone) return;
  if (job == BgJob::kAofRewrite) aof_rewrite_scheduled = false;
  if (job == BgJob::kRdb) bgsave_scheduled = false;
  auto start = [&] {
    absl::Status st = StartBackgroundSave(job);
    if (!st.ok() && job == BgJob::kAofRewrite) {
      last_rewrite_ok = false;
      bg_started_ms = now_ms;
    }
  };
  // One worker is exclusive already (it holds no share of the world lock).
  if (multi_threaded()) {
    w.RunExclusive(start);
  } else {
    start();
  }
}

void Server::ResetStats() {
  for (auto& w : workers_) {
    for (auto& s : w->stats) s = CommandStats{};
    w->commands_processed = 0;
    w->net_input_bytes = 0;
    w->net_output_bytes = 0;
    w->shard().keyspace_hits = 0;
    w->shard().keyspace_misses = 0;
    for (int i = 0; i < w->shard().databases(); i++) w->shard().db(i).expired_keys = 0;
  }
  replicator_->ResetLag();
  total_connections = 0;
  rejected_connections = 0;
}

}  // namespace lattice::node
