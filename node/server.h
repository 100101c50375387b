// File: node/server.h
//
// The process: N worker threads, each running an epoll loop that owns a
// slice of the connections (the kernel spreads accepts over one
// SO_REUSEPORT listener per worker) and one shard of the keyspace. See
// docs/threads.md for the full thread model.
//
// A command whose keys all live on the connection's own shard runs inline.
// A command whose keys live on one other shard travels there as a message
// (copied arguments) and its reply comes back as another message; the
// connection reads no further commands until then, so per-client ordering
// holds. A command that touches several shards, or all of them, runs in the
// exclusive section: every worker holds a reader lock on `world_` while it
// processes a batch of events, and the command takes the writer lock, so it
// sees every shard with no other thread running. With one worker there is
// no locking at all.
//
// Thread-safety: see each class.
#ifndef LATTICE_NODE_SERVER_H_
#define LATTICE_NODE_SERVER_H_

#include <sys/epoll.h>

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
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "gossip/membership.h"
#include "gossip/peer_service.h"
#include "grpcpp/server.h"
#include "crdt/stamp.h"
#include "node/command.h"
#include "node/families/blocking.h"
#include "node/config.h"
#include "node/evict.h"
#include "node/cluster/forward.h"
#include "node/cluster/hot_keys.h"
#include "node/storage/keyspace.h"
#include "node/tracking.h"
#include "node/cluster/placement.h"
#include "node/write_path.h"
#include "resp/parser.h"
#include "resp/reply_builder.h"

namespace lattice::node {

class AntiEntropy;
class PubSub;
class PubSubRelay;
class FunctionsSync;
class Scripting;
class Functions;
class HotReplication;
class CommandTable;
class MetricsExporter;
class Replicator;
class AppendLog;
class Server;
class Worker;
class BackgroundSave;

// The lock behind the exclusive section: workers hold it shared while they
// process a batch of events, a multi-shard command holds it exclusively.
// Writers are preferred (new readers wait while one is waiting), so a
// multi-shard command cannot starve behind busy workers. Built on
// std::mutex and std::condition_variable so ThreadSanitizer sees every
// edge (Debian's abseil is not instrumented).
class WorldLock {
 public:
  void ReaderLock() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] { return !writer_ && writers_waiting_ == 0; });
    readers_++;
  }
  void ReaderUnlock() {
    std::lock_guard<std::mutex> l(mu_);
    if (--readers_ == 0 && writers_waiting_ > 0) cv_.notify_all();
  }
  // As ReaderLock, except that it gives up and returns false when the
  // writer is a script that ran past busy-reply-threshold (SetBusy): the
  // worker then answers its clients BUSY without touching any shard.
  bool ReaderLockOrBusy() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] { return (!writer_ && writers_waiting_ == 0) || busy_; });
    if (busy_ && (writer_ || writers_waiting_ > 0)) return false;
    readers_++;
    return true;
  }
  // Set by the writer while its script is busy.
  void SetBusy(bool busy) {
    std::lock_guard<std::mutex> l(mu_);
    busy_ = busy;
    cv_.notify_all();
  }
  void Lock() {
    std::unique_lock<std::mutex> l(mu_);
    writers_waiting_++;
    cv_.wait(l, [this] { return !writer_ && readers_ == 0; });
    writers_waiting_--;
    writer_ = true;
  }
  void Unlock() {
    std::lock_guard<std::mutex> l(mu_);
    writer_ = false;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int readers_ = 0;
  int writers_waiting_ = 0;
  bool writer_ = false;
  bool busy_ = false;
};

// Per-command counters for INFO commandstats. One array per worker, summed
// when read (in the exclusive section).
struct CommandStats {
  // Latency histogram bounds in microseconds (the last bucket is +Inf).
  static constexpr int kBuckets = 12;
  static constexpr int64_t kBoundsUs[kBuckets - 1] = {10,   25,   50,   100,   250,  500,
                                                      1000, 2500, 5000, 10000, 100000};
  void Record(int64_t us) {
    calls++;
    usec += static_cast<uint64_t>(us);
    int i = 0;
    while (i < kBuckets - 1 && us > kBoundsUs[i]) i++;
    buckets[i]++;
  }
  uint64_t calls = 0;
  uint64_t usec = 0;
  uint64_t rejected = 0;
  uint64_t failed = 0;
  uint64_t buckets[kBuckets] = {};
};

// One slice of the keyspace. Owned by exactly one worker thread.
class Shard {
 public:
  Shard(int index, int databases);
  int index() const { return index_; }
  Db& db(int i) { return *dbs_[i]; }
  int databases() const { return static_cast<int>(dbs_.size()); }

  // Hands a delta to the sink (none standalone) and counts it. With a sink,
  // a delete also leaves a tombstone here (see node/cluster/merge.h).
  void Emit(const Delta& delta) {
    // One writer (the shard's thread); others read it (the save points).
    deltas_emitted.store(deltas_emitted.load(std::memory_order_relaxed) + 1,
                         std::memory_order_relaxed);
    DeltaSink* sink = sink_.load(std::memory_order_acquire);
    if (sink) EmitToSink(sink, delta);
  }
  // Attached once the node has peers; may happen while workers run.
  void set_sink(DeltaSink* sink) { sink_.store(sink, std::memory_order_release); }
  DeltaSink* sink() const { return sink_.load(std::memory_order_acquire); }
  // Whether commands build whole deltas (a sink is attached: peers, the
  // append-only log or both). Standalone without a log they skip the work.
  bool replicating() const { return sink_.load(std::memory_order_relaxed) != nullptr; }
  // Whether the node has peers (set once, with the replicator's sink):
  // what transaction groups, hot-key counts and stream read delays need.
  bool has_peers() const { return peers_.load(std::memory_order_relaxed); }
  void set_has_peers() { peers_.store(true, std::memory_order_release); }
  void FlushSink() {
    DeltaSink* sink = sink_.load(std::memory_order_acquire);
    if (sink) sink->Flush();
  }

  // Read rates of this shard's keys, kept once the node replicates (see
  // node/cluster/hot_keys.h): LATTICE HOTKEYS and the metrics read it.
  HotKeys hot_keys;
  std::atomic<uint64_t> deltas_emitted{0};
  uint64_t keyspace_hits = 0;
  uint64_t keyspace_misses = 0;
  uint64_t evicted_keys = 0;
  // Set by the last eviction pass: nothing here the policy may evict.
  std::atomic<bool> evict_exhausted{false};

 private:
  int index_;
  void EmitToSink(DeltaSink* sink, const Delta& delta);

  std::vector<std::unique_ptr<Db>> dbs_;
  std::atomic<DeltaSink*> sink_{nullptr};
  std::atomic<bool> peers_{false};
};

// A connection's query buffer. Unlike std::string it never zero-fills the
// space a read is about to overwrite; [head, end) holds the bytes not yet
// consumed by the parser.
class QueryBuffer {
 public:
  std::string_view data() const { return {buf_.get() + head_, end_ - head_}; }
  size_t size() const { return end_ - head_; }
  size_t capacity() const { return cap_; }
  // Drops n bytes from the front.
  void Consume(size_t n) {
    head_ += n;
    if (head_ == end_) head_ = end_ = 0;
  }
  // Returns room for at least `want` bytes after the data, moving the data
  // to the front or growing (geometrically) as needed.
  char* Prepare(size_t want);
  void Commit(size_t n) { end_ += n; }
  // Frees the storage of an empty buffer larger than `keep` bytes.
  void Trim(size_t keep) {
    if (size() == 0 && cap_ > keep) {
      buf_.reset();
      cap_ = head_ = end_ = 0;
    }
  }

 private:
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0, head_ = 0, end_ = 0;
};

// A client connection. Owned by one worker and touched only by its thread,
// except that CLIENT LIST/KILL read and flag it from the exclusive section.
class Connection {
 public:
  Connection(uint64_t id, int fd, Worker* worker, const resp::ParserLimits& limits);
  ~Connection();

  uint64_t id;
  int fd;
  Worker* worker;
  QueryBuffer in;
  resp::Parser parser;
  std::string out;  // pending reply bytes; unsent bytes start at out_head
  size_t out_head = 0;
  resp::ReplyBuilder rb;
  int db = 0;
  std::string name;
  std::string lib_name;
  std::string lib_ver;
  std::string addr;
  std::string laddr;
  int64_t ctime_ms = 0;
  int64_t last_interaction_ms = 0;
  const CommandId* last_cmd = nullptr;
  bool close_after_reply = false;
  bool kill_requested = false;  // set by CLIENT KILL from any worker
  bool pending = false;         // waiting for another shard's reply
  bool closed = false;          // socket closed; freed at the end of the batch
  bool read_eof = false;        // peer half-closed while a command was in flight
  bool writable_armed = false;  // EPOLLOUT registered

  // MULTI / EXEC / WATCH (node/families/transaction_family.cc).
  struct Queued {
    const CommandId* cmd;
    std::vector<std::string> args;
  };
  struct Watched {
    int db;
    std::string key;
    bool expired;  // already past its TTL when watched (its expiry then does not count)
  };
  bool in_multi = false;
  bool wrote = false;  // ran a write whose reply waits for the log
  bool multi_dirty = false;  // a command was refused while queuing: EXEC aborts
  std::vector<Queued> queued;
  std::shared_ptr<std::atomic<bool>> watch_dirty;  // set when a watched key changes
  std::vector<Watched> watched;

  // Pub/sub (node/pubsub.h): this connection's subscriptions by kind
  // (channels, patterns, shard channels). In RESP2 a connection with any
  // takes only the subscription commands, PING, QUIT and RESET.
  absl::flat_hash_set<std::string> subscriptions[3];
  int64_t obuf_soft_since_ms = 0;  // output above the soft limit since then
  // CLIENT TRACKING (node/tracking.h).
  TrackingState tracking;
  std::string deferred_pushes;  // invalidations that follow the running command's reply
  // Appends what waited for the reply just written.
  void ReleaseDeferred() {
    if (!deferred_pushes.empty()) {
      out.append(deferred_pushes);
      deferred_pushes.clear();
    }
  }
  size_t subscribed() const { return subscriptions[0].size() + subscriptions[1].size(); }
  bool in_pubsub() const { return subscribed() + subscriptions[2].size() > 0; }

  // Forwarded commands (node/cluster/routing.cc). Consecutive pipelined commands
  // for keys held elsewhere are sent together, one call per node, and
  // several calls may be in flight; replies wait in `slots`, in command
  // order, until every earlier one is there.
  struct Slot {
    bool done = false;
    std::string bytes;
  };
  struct OpenBatch {
    std::vector<ForwardClient::Target> targets;
    std::vector<std::vector<std::string>> commands;
    std::vector<uint64_t> slots;  // absolute slot numbers, one per command
    bool reads_only = true;       // every command read-only
  };
  std::deque<Slot> slots;
  uint64_t slot_base = 0;        // absolute number of slots.front()
  std::vector<OpenBatch> open_batches;  // being filled by this input pass
  std::vector<uint32_t> inflight_nodes;  // nodes with a call in flight
  bool fwd_blocked = false;      // input waits for the calls in flight
  bool busy() const { return pending || !slots.empty(); }
};

// One thread: an epoll loop, its connections, its shard, its task queue.
class Worker {
 public:
  Worker(Server* server, int index);
  ~Worker();

  int index() const { return index_; }
  Shard& shard() { return shard_; }
  Server* server() { return server_; }

  // Opens this worker's listening sockets. Called before Start().
  absl::Status Listen();
  void Start();
  void Join();

  // Runs `fn` on this worker's thread. Safe from any thread.
  void Post(std::function<void()> fn);

  // Closes connection `id` if it still exists. Worker thread only.
  void Kill(uint64_t id);
  // EXEC of connection c's queued commands, atomically (in the exclusive
  // section unless every key is on this worker's shard), replying to c.
  void RunTransaction(Connection* c, int64_t now_ms);
  // WATCH of `keys` in c's database.
  void WatchKeys(Connection* c, std::span<const std::string_view> keys, int64_t now_ms);
  // Ends a connection's wait for a reply produced elsewhere (another
  // shard, WAIT): appends `reply` and resumes its input. Worker thread only.
  void CompleteRemote(uint64_t conn_id, std::string reply);

  // Blocking pops (node/families/blocking.h). Worker thread only.
  // The client `w` names is parked here (its origin worker).
  void AddBlocked(std::shared_ptr<Waiter> w);
  // `w` waits on `key`, a key of this shard.
  void RegisterWaiter(std::shared_ptr<Waiter> w, const std::string& key);
  // A parked client of this worker was served: `reply` ends its wait.
  void FinishBlocked(uint64_t conn_id, std::string reply);
  size_t blocked_clients() const { return blocked_.size(); }

  // Pub/sub: appends a message to connection `conn_id` in its protocol
  // (and flushes it unless `flush` is false: its own reply follows),
  // dropping it when its output passes client-output-buffer-limit pubsub.
  // Worker thread only.
  enum class PushKind { kMessage, kPMessage, kSMessage };
  void DeliverPush(uint64_t conn_id, PushKind kind, std::string_view pattern,
                   std::string_view channel, std::string_view message, bool flush);
  // The same with the message already encoded for RESP2 and RESP3.
  void DeliverEncoded(uint64_t conn_id, std::string_view resp2, std::string_view resp3,
                      bool flush);
  // Writes out, once per event-loop iteration, the connections that got
  // pushes (messages, invalidations): one write for many messages.
  void FlushPushed();
  // Removes every subscription of c (close, RESET).
  void UnsubscribeAll(Connection* c);
  // Client-side caching: tells connection `target_id` that `key` (or, with
  // `flush`, everything) changed, on behalf of tracking connection
  // `source_id` (itself, or the client it redirects for). Worker thread.
  // `own`: the target's own command changed the key; the message then
  // follows that command's reply (Redis 7.0).
  void DeliverInvalidation(uint64_t source_id, uint64_t target_id, std::string_view key,
                           bool flush, bool own);
  // CLIENT TRACKING OFF, close: forgets c's tracking.
  void StopTracking(Connection* c);

  // A script running on this thread is past busy-reply-threshold: reads
  // what clients sent and answers BUSY, except to SCRIPT KILL, FUNCTION
  // KILL and SHUTDOWN NOSAVE (Redis's processEventsWhileBlocked). The
  // script's own connection is left alone. Worker thread only.
  void ServeBusy(uint64_t running_conn_id);
  // Set while a script of this worker's shard is busy: commands for this
  // shard from other workers get BUSY instead of waiting.
  std::atomic<bool> script_busy{false};

  // Connections owned by this worker; read only from its thread or the
  // exclusive section.
  const absl::flat_hash_map<uint64_t, std::unique_ptr<Connection>>& connections() const {
    return conns_;
  }
  std::vector<CommandStats> stats;  // indexed by CommandId::index
  uint64_t commands_processed = 0;
  // Placement: reads of keys held here / forwarded elsewhere, and commands
  // forwarded (read by metrics and INFO from the exclusive section).
  uint64_t reads_local = 0;
  uint64_t reads_forwarded = 0;
  uint64_t commands_forwarded = 0;
  uint64_t net_input_bytes = 0;
  uint64_t net_output_bytes = 0;

  // Runs fn with every worker stopped (Server::Exclusive), from this one
  // (a command that needs every shard only sometimes: SHUTDOWN's save).
  void RunExclusive(const std::function<void()>& fn);

 private:
  friend class Server;
  void Loop();
  void Accept(int listen_fd);
  void OnReadable(Connection* c);
  void OnWritable(Connection* c);
  // One batch of epoll events while some script is busy (ServeBusy).
  void ServeBusyEvents(const epoll_event* events, int n, uint64_t running_conn_id);
  void ReadBusy(Connection* c);
  // Parses and runs buffered commands until the buffer is empty, the
  // connection waits for another shard, or it must close.
  void ProcessInput(Connection* c);
  // Writes what can be written; closes when done and asked to.
  void Flush(Connection* c);
  void FlushAwaitingLog();
  void Close(Connection* c);
  // Registers the epoll events `c` needs now: reads unless the peer has
  // half-closed, writes while output is pending.
  void UpdateEvents(Connection* c, bool want_write);
  void RunTasks();
  void Cron(int64_t now_ms);
  // Serves the parked clients of keys that something added to; times out
  // parked clients of this worker; forgets one that went away.
  void ServeBlocked();
  void ServeKey(int db, const std::string& key);
  bool RunWaiter(Waiter& w, std::string* reply);
  void ExpireBlocked(int64_t now_ms);
  int64_t NextBlockedDeadline() const;
  void CancelBlocked(uint64_t conn_id);
  // Client-side caching: remembers the keys a tracking client's read
  // command is about to read.
  void TrackReads(Connection* c, const CommandId& cmd, std::span<const std::string_view> args);
  // Runs one command. False: it must wait until the connection's forwarded
  // commands in flight have completed (then it is parsed and run again).
  bool Dispatch(Connection* c, std::span<const std::string_view> args, int64_t now_ms);
  // Counts the keys of a read command in their shards' hot-key sketches.
  void CountReads(const CommandId& cmd, std::span<const std::string_view> args);
  // Runs a resolved command's handler and counts it (INFO commandstats).
  void RunCommand(CommandContext& cx);
  // MULTI: queues a command (or refuses it, which aborts the EXEC).
  void QueueCommand(Connection* c, const CommandId& cmd, std::span<const std::string_view> args);
  // Placement (node/cluster/routing.cc). Picks up a newer placement view.
  void RefreshView();
  // Handles a command whose keys this node does not all hold: forwards
  // it, fans it out or refuses it (CROSSSLOT). False: run it here.
  enum class Route { kLocal, kHandled, kWait };
  Route RouteCluster(Connection* c, const CommandId& cmd, std::span<const std::string_view> args);
  // Sends the connection's open batches (end of an input pass).
  void SendForwards(Connection* c);
  // A forwarded batch completed: fills its slots, releases what is in
  // order, resumes input. Worker thread.
  void OnForwarded(uint64_t conn_id, uint32_t node, std::vector<uint64_t> slots, bool ok,
                   std::vector<std::string> replies);
  void FanOut(Connection* c, const CommandId& cmd, std::span<const std::string_view> args,
              int kind);
  // Nodes serving `key`, best first (alive, same zone, ring order).
  std::vector<ForwardClient::Target> HoldersOf(const PlacementView& v, std::string_view key,
                                               bool reads);

  Server* server_;
  int index_;
  Shard shard_;
  int epfd_ = -1;
  int event_fd_ = -1;
  std::vector<int> listen_fds_;
  std::thread thread_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Connection>> conns_;
  // Parked clients of this worker's connections, and the waiters on this
  // shard's keys.
  absl::flat_hash_map<uint64_t, std::shared_ptr<Waiter>> blocked_;
  BlockingShard blocking_;
  // Connections closed during the current event batch. They stay allocated
  // until the batch ends, because later events of the same batch (or tasks)
  // may still name them; handlers skip connections marked closed.
  std::vector<std::unique_ptr<Connection>> graveyard_;
  // Connections with pushes appended since the last FlushPushed.
  std::vector<uint64_t> pushed_;
  // Connections whose replies wait for the append-only log to make this
  // iteration's writes durable (node/persist/aof.h); sent after Commit().
  std::vector<uint64_t> awaiting_log_;
  AppendLog* aof_ = nullptr;  // set before the workers start
  // A background save's share of this shard (node/persist/bgsave.h): set
  // in the exclusive section, cleared here once the share is copied.
  std::atomic<BackgroundSave*> bgsave_{nullptr};
  bool bgsave_waiting_ = false;  // the writer was behind at the last step
  EvictionPool evict_pool_;
  // maxmemory before a command: evicts from this shard; false (with the
  // OOM error sent) when the command must not run.
  bool CheckMemory(Connection* c, const CommandId& cmd);
  // Refuses writes (and PING) with MISCONF while the disk is failing us;
  // false after replying.
  bool CheckDisk(Connection* c, const CommandId& cmd);
  std::mutex queue_mu_;
  std::vector<std::function<void()>> queue_;
  std::vector<std::function<void()>> running_;
  int64_t next_cron_ms_ = 0;
  int64_t last_decay_ms_ = 0;
  std::shared_ptr<const PlacementView> view_;
  uint64_t view_version_ = 0;

 public:
  // The clock value when the current event-loop iteration began, or
  // UINT64_MAX between iterations. Read by Server::StableClock().
  std::atomic<uint64_t> iter_clock_{UINT64_MAX};
  // Set when the loop has ended: tasks posted from now on never run.
  std::atomic<bool> exited_{false};
};

class Server {
 public:
  explicit Server(Config config);
  ~Server();

  // Binds every worker's sockets. Fails with a message naming the address.
  absl::Status Listen();
  // Starts the peer service, membership and the metrics endpoint (when
  // configured). Call after Listen(), before Start().
  absl::Status StartCluster();
  void Start();
  // Blocks until Shutdown() is called and every worker stopped.
  void Wait();
  // Leaves the cluster and stops replication. Call after Wait().
  void StopCluster();
  // Asks every worker to stop. Safe from any thread and signal-safe enough
  // to call from a handler thread.
  void Shutdown();

  Config& config() { return config_; }
  const CommandTable& commands() const { return *commands_; }
  int shard_count() const { return static_cast<int>(workers_.size()); }
  Worker& worker(int i) { return *workers_[i]; }
  int ShardIndexOf(std::string_view key) const;
  // The shard all of an invocation's keys live on (-1: no keys), or sets
  // *multi_shard when they span shards or the command touches every shard.
  int ShardOf(const CommandId& cmd, std::span<const std::string_view> args,
              bool* multi_shard) const;
  Shard& ShardFor(std::string_view key) { return workers_[ShardIndexOf(key)]->shard(); }
  crdt::LamportClock& clock() { return clock_; }
  // The first IPv4 bind address: where the peer service listens and where
  // outgoing peer connections come from (see gossip/dial.h).
  std::string SourceIp() const;
  // A counter value every local write at or below which has been emitted to
  // the sink: the clock, bounded by the start of any event-loop iteration
  // still running (its commands may hold ticks not yet emitted).
  uint64_t StableClock();
  Replicator& replicator() { return *replicator_; }
  // Before StartCluster: the data was loaded from this node's own files,
  // whose log marks say how far each origin's stream is applied
  // (Replicator::RestoreApplied).
  void set_restored(std::map<uint32_t, uint64_t> applied) {
    restored_ = true;
    restored_applied_ = std::move(applied);
  }
  // The append-only log, or null when appendonly is no. set_aof attaches
  // it as every shard's sink; before the workers start.
  AppendLog* aof() { return aof_.get(); }
  void set_aof(std::unique_ptr<AppendLog> aof);
  // Null on a node without a peer service.
  gossip::Membership* membership() { return membership_.get(); }
  bool running() const { return running_.load(std::memory_order_relaxed); }
  // Set once every worker thread has been joined: shards may then be read
  // directly by the thread that stops the node.
  bool workers_joined() const { return workers_joined_.load(); }

  // Runs fn with every worker paused (writer side of world_). Called from a
  // worker thread in the middle of its batch.
  void Exclusive(const std::function<void()>& fn);
  bool multi_threaded() const { return workers_.size() > 1; }
  WorldLock& world() { return world_; }

  // Logging at Redis's levels, to logfile or stdout. Safe from any thread.
  void Log(int level, std::string_view msg);
  // Copies the settings other threads read (log level, bulk limit,
  // anti-entropy interval, stream switch) into atomics; called after
  // CONFIG SET.
  void ApplyRuntimeConfig();
  int64_t max_bulk_len() const { return max_bulk_len_.load(std::memory_order_relaxed); }
  int anti_entropy_interval() const { return ae_interval_.load(std::memory_order_relaxed); }
  bool replication_stream() const { return repl_stream_.load(std::memory_order_relaxed); }
  AntiEntropy* anti_entropy() { return anti_entropy_.get(); }
  Scripting& scripting() { return *scripting_; }
  Functions& functions() { return *functions_; }
  Tracking& tracking() { return *tracking_; }
  // The worker holding connection `id`, or null (CLIENT TRACKING REDIRECT).
  Worker* WorkerOfClient(uint64_t id);
  void IndexClient(uint64_t id, Worker* w);
  void UnindexClient(uint64_t id);
  PubSub& pubsub() { return *pubsub_; }
  // Sends a message published here to every other node (null standalone).
  PubSubRelay* pubsub_relay() { return relay_.get(); }
  // Carries function libraries between members (null standalone).
  FunctionsSync* functions_sync() { return functions_sync_.get(); }
  // After a local FUNCTION LOAD/DELETE/FLUSH/RESTORE: peers pull the new
  // state, and the append-only log keeps it.
  void FunctionsChanged();
  // client-output-buffer-limit pubsub: hard bytes, soft bytes, soft seconds.
  int64_t pubsub_hard_limit() const { return obuf_hard_.load(std::memory_order_relaxed); }
  int64_t pubsub_soft_limit() const { return obuf_soft_.load(std::memory_order_relaxed); }
  int64_t pubsub_soft_seconds() const { return obuf_soft_s_.load(std::memory_order_relaxed); }
  // busy-reply-threshold (lua-time-limit) in milliseconds; 0: never busy.
  int64_t busy_threshold_ms() const { return busy_ms_.load(std::memory_order_relaxed); }
  // lua-shard-local: scripts with keys on one shard run on that shard only.
  bool lua_shard_local() const { return lua_local_.load(std::memory_order_relaxed); }
  bool hot_key_replication() const { return hot_enabled_.load(std::memory_order_relaxed); }
  int hot_key_factor() const { return hot_factor_.load(std::memory_order_relaxed); }
  int hot_key_min_rate() const { return hot_min_rate_.load(std::memory_order_relaxed); }
  int hot_key_max() const { return hot_max_.load(std::memory_order_relaxed); }
  Placement& placement() { return placement_; }
  ForwardClient* forward_client() { return forward_client_.get(); }
  HotReplication* hot_replication() { return hot_.get(); }
  // Builds the placement view from membership and the hot-key lists and
  // publishes it; when the ring changed, re-keys the Merkle leaves and
  // starts handing off ranges this node no longer holds.
  void RebuildPlacement();
  enum { kDebug = 0, kVerbose = 1, kNotice = 2, kWarning = 3 };

  int64_t start_time_ms() const { return start_ms_; }
  std::string run_id() const { return run_id_; }
  std::atomic<int> clients{0};
  // Clients parked by a blocking command (INFO blocked_clients).
  std::atomic<int> blocked_clients{0};
  std::atomic<uint64_t> next_client_id{1};
  std::atomic<uint64_t> total_connections{0};
  std::atomic<uint64_t> rejected_connections{0};
  // Snapshots (node/persist/snapshot.h): the last SAVE's time (unix s; the
  // start time before any), whether it worked, and the writes counted
  // then (INFO rdb_changes_since_last_save counts from it).
  std::atomic<int64_t> last_save_unix{0};
  std::atomic<bool> last_save_ok{true};
  std::atomic<uint64_t> writes_at_last_save{0};
  std::atomic<bool> shutdown_by_signal{false};
  // Writes (deltas emitted) of every shard. REQUIRES: workers paused or
  // stopped, or a rough figure is fine.
  uint64_t WritesSoFar();
  // Saves the snapshot to `dbfilename` and logs the outcome. REQUIRES:
  // workers paused (RunExclusive) or stopped.
  absl::Status SaveNow();
  // Reset by CONFIG RESETSTAT.
  void ResetStats();

  // Background saves (node/persist/bgsave.h): BGSAVE, BGREWRITEAOF and the
  // save points, one at a time, as Redis runs one child at a time.
  enum class BgJob { kNone = 0, kRdb = 1, kAofRewrite = 2 };
  BgJob bg_job() const { return static_cast<BgJob>(bg_job_.load(std::memory_order_acquire)); }
  // Starts one. REQUIRES: workers paused (RunExclusive).
  absl::Status StartBackgroundSave(BgJob job);
  // Redis's MISCONF error while writes are refused for a persistence
  // failure (the last background save, a log write), or "".
  std::string DiskError() const;
  // Stops a running one (its file is dropped). REQUIRES: workers stopped.
  void StopBackgroundSave();
  // Save points, scheduled saves and automatic log rewrites; from worker
  // 0's cron.
  void PersistenceCron(Worker& w, int64_t now_ms);
  std::atomic<bool> bgsave_scheduled{false};
  std::atomic<bool> aof_rewrite_scheduled{false};
  std::atomic<int64_t> bg_started_ms{0};
  std::atomic<bool> last_bgsave_ok{true};
  std::atomic<int64_t> last_bgsave_secs{-1};
  std::atomic<int64_t> last_bgsave_try_unix{0};
  std::atomic<uint64_t> rdb_saves{0};
  std::atomic<bool> last_rewrite_ok{true};
  std::atomic<int64_t> last_rewrite_secs{-1};
  std::atomic<uint64_t> aof_rewrites{0};
  // used_memory's highest value seen (sampled by the cron and by INFO).
  int64_t NotePeakMemory(int64_t used) {
    int64_t p = peak_memory_.load(std::memory_order_relaxed);
    while (used > p && !peak_memory_.compare_exchange_weak(p, used)) {
    }
    return std::max(p, used);
  }
  int64_t startup_memory() const { return startup_memory_; }
  void set_startup_memory(int64_t v) { startup_memory_ = v; }
  // The most bytes of copies a background save held for its writer.
  std::atomic<uint64_t> bg_peak_queued{0};

 private:
  Config config_;
  std::unique_ptr<CommandTable> commands_;
  std::vector<std::unique_ptr<Worker>> workers_;
  crdt::LamportClock clock_;
  std::unique_ptr<gossip::Membership> membership_;
  std::unique_ptr<Replicator> replicator_;
  std::unique_ptr<AppendLog> aof_;
  std::mutex bg_mu_;
  std::unique_ptr<BackgroundSave> bg_;  // bg_mu_
  std::atomic<int> bg_job_{0};
  std::atomic<int64_t> peak_memory_{0};
  int64_t startup_memory_ = 0;
  std::atomic<uint64_t> bg_writes_at_start_{0};
  bool restored_ = false;
  std::map<uint32_t, uint64_t> restored_applied_;
  std::unique_ptr<gossip::PeerService> peer_service_;
  std::unique_ptr<grpc::Server> peer_server_;
  std::unique_ptr<MetricsExporter> metrics_;
  std::unique_ptr<AntiEntropy> anti_entropy_;
  std::unique_ptr<Scripting> scripting_;
  std::unique_ptr<Functions> functions_;
  std::unique_ptr<PubSub> pubsub_;
  std::unique_ptr<Tracking> tracking_;
  std::mutex clients_mu_;
  absl::flat_hash_map<uint64_t, Worker*> client_index_;  // guarded by clients_mu_
  std::unique_ptr<PubSubRelay> relay_;
  std::unique_ptr<FunctionsSync> functions_sync_;
  std::unique_ptr<Forwarder> forwarder_;
  std::unique_ptr<ForwardClient> forward_client_;
  std::unique_ptr<HotReplication> hot_;
  Placement placement_;
  std::mutex placement_mu_;  // serializes RebuildPlacement
  std::vector<uint32_t> ring_ids_;  // guarded by placement_mu_
  int ring_replicas_ = -1;          // guarded by placement_mu_
  absl::flat_hash_set<uint32_t> replicas_warned_;  // guarded by placement_mu_
  std::atomic<bool> leaving_{false};
  WorldLock world_;
  std::atomic<bool> running_{true};
  std::atomic<bool> workers_joined_{false};
  std::mutex log_mu_;
  std::atomic<int> log_level_{kNotice};
  std::atomic<int64_t> max_bulk_len_{0};
  std::atomic<int> ae_interval_{0};
  std::atomic<int64_t> busy_ms_{5000};
  std::atomic<bool> lua_local_{false};
  std::atomic<int64_t> obuf_hard_{32 << 20}, obuf_soft_{8 << 20}, obuf_soft_s_{60};
  std::atomic<bool> repl_stream_{true};
  std::atomic<bool> hot_enabled_{true};
  std::atomic<int> hot_factor_{100}, hot_min_rate_{100}, hot_max_{256};

  const std::string logfile_;  // immutable, so Log() needs no config access
  int64_t start_ms_;
  std::string run_id_;
};

int64_t NowMs();
int64_t NowUs();
// A monotonic clock in microseconds, for budgets and durations.
int64_t MonoUs();
// A pub/sub message as connection of `protocol` receives it.
std::string EncodePush(int protocol, Worker::PushKind kind, std::string_view pattern,
                       std::string_view channel, std::string_view message);
// The worker whose thread this is, or null (gRPC and other threads).
Worker* CurrentWorker();
// Whether this thread runs in the exclusive section (every worker
// stopped), as a multi-shard command does.
bool InExclusiveSection();
// The numeric node id for a node name: FNV-1a, stable across processes and
// builds (never 0).
crdt::NodeId NodeIdOf(std::string_view name);

}  // namespace lattice::node

#endif  // LATTICE_NODE_SERVER_H_
