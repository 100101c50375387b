// File: node/persist/aof.h
//
// The append-only log: every delta this node applies, local writes and
// peers' alike, in the replication stream's own encoding, so a node that
// restarts replays exactly what it had merged. See docs/operations.md
// ("Append-only log") for the operator's view and the recovery story.
//
// Layout, Redis 7's multi-part AOF: a directory (`appenddirname`) holding
//   <appendfilename>.manifest          which files make up the log, in order
//   <appendfilename>.<n>.base.snap     a snapshot (node/persist/snapshot.h)
//   <appendfilename>.<n>.incr.aof      deltas written after that base
// Manifest lines are Redis's: `file <name> seq <n> type b|i`. An incr file
// starts with "LATTICE-AOF\0" and a u32 version, then records:
//   varint length (> 0), a serialized peer::Delta, u32 check (the low 32
//   bits of the payload's CRC-64, little-endian).
// A payload starting with a zero byte (never a protobuf's first byte) is a
// mark: "\0A", u32 origin, u64 sequence says the deltas before it include
// everything the origin's stream carried up to that sequence; "\0E", u32
// db, u64 stamp counter, u32 stamp node, then the key, says the key was
// evicted holding that write (replay drops it unless written since); "\0F"
// and a serialized peer::FunctionsState is the function libraries' state.
// A record cut short at the end of the last file (a crash mid-write) is
// dropped when `aof-load-truncated` is yes, as Redis does, and the file is
// cut back to its last whole record; anywhere else a bad record stops the
// node with the file's name and the offset.
//
// Durability. Emit() appends the encoded delta to a buffer; the worker
// loop's Flush() writes the buffer out and, with `appendfsync always`,
// fdatasyncs it before any reply leaves (Worker defers replies while
// Behind()). Concurrent workers share one write and one fsync (group
// commit: whoever syncs takes every byte appended so far). `everysec`
// writes at the end of every event-loop iteration and syncs once a second
// from a background thread; `no` leaves syncing to the kernel. Either way
// a reply never leaves before its delta reached the kernel, so killing the
// process loses nothing acknowledged; only a machine crash can lose what
// everysec had not synced.
//
// Replaying merges records as a peer's deltas (idempotent and order-
// insensitive), so a base taken while writes went on, followed by a tail
// that repeats some of them, replays to the right state.
//
// Thread-safety: Emit/Applied/Flush from shard threads (or the exclusive
// section); Commit and Behind from any worker; Open before the workers
// start; the rest from anywhere.
#ifndef LATTICE_NODE_PERSIST_AOF_H_
#define LATTICE_NODE_PERSIST_AOF_H_

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "node/write_path.h"

namespace lattice::node {

class Server;

struct AofLoadInfo {
  bool from_log = false;     // an existing log was replayed
  uint64_t records = 0;      // deltas replayed from incr files
  uint64_t base_keys = 0;    // keys the base snapshot held
  uint64_t truncated = 0;    // bytes of a torn last record cut off
  // Per origin node, the last sequence of its delta stream whose deltas
  // the log holds (Replicator::RestoreApplied resumes from there).
  std::map<uint32_t, uint64_t> applied;
};

class AppendLog final : public DeltaSink {
 public:
  enum Fsync : int { kAlways = 0, kEverysec = 1, kNo = 2 };
  explicit AppendLog(Server* server);
  ~AppendLog() override;
  AppendLog(const AppendLog&) = delete;
  AppendLog& operator=(const AppendLog&) = delete;

  // Loads the log named by the config (or, when there is none yet, keeps
  // what is loaded already, from dump.rdb, as the first base) and opens
  // the last incr file for appending. Before the workers start.
  absl::Status Open(AofLoadInfo* info);

  // DeltaSink.
  void Emit(const Delta& delta) override;
  void Applied(const peer::Delta& delta) override;
  void Evicted(int db, std::string_view key, crdt::Stamp stamp) override;
  // The function libraries' whole state (a serialized peer::FunctionsState)
  // after a change: replay merges it.
  void AppendFunctions(std::string_view state);
  // A mark: the origin's stream is applied up to `seq` (after its deltas).
  void AppendApplied(uint32_t origin, uint64_t seq);
  void Flush() override;
  crdt::Tombstone NewTombstone(crdt::Stamp stamp) override;
  bool KeepsTombstones() const override {
    return next_.load(std::memory_order_acquire) != nullptr;
  }

  // The replicator, once the node has peers: deltas go on to it.
  void set_next(DeltaSink* next) { next_.store(next, std::memory_order_release); }

  // Bytes appended that the policy has not yet made durable (written for
  // everysec and no, fsynced for always): replies wait for Commit().
  bool Behind() const {
    return appended_.load(std::memory_order_acquire) > durable_.load(std::memory_order_acquire);
  }
  // Writes out what is pending and, with always, fsyncs it. False after a
  // write or fsync error (logged).
  bool Commit();
  // Writes and fsyncs everything (SHUTDOWN, SIGTERM).
  absl::Status SyncAll();
  // BGREWRITEAOF, in the exclusive section: what was appended so far is
  // synced into the current incr file, later deltas go to a new one (which
  // starts with the marks), and *base_path is where the new base, the
  // state at this moment, is to be written.
  absl::Status BeginRewrite(std::string* base_path);
  // Once the new base is written (`base` ok) the manifest names it and the
  // new incr file alone and the older files go; otherwise the manifest
  // keeps the old base and every incr file, which replay as before.
  absl::Status FinishRewrite(const absl::Status& base, uint64_t base_bytes);
  // `appendfsync` as configured: "always", "everysec" or "no".
  void set_fsync(std::string_view policy);
  void Stop();

  // INFO persistence.
  uint64_t current_size() const { return file_bytes_.load(std::memory_order_relaxed); }
  uint64_t base_size() const { return base_bytes_.load(std::memory_order_relaxed); }
  bool last_write_ok() const { return write_ok_.load(std::memory_order_relaxed); }
  // The last write or sync error, as strerror says it.
  std::string last_error() const { return std::strerror(last_errno_.load()); }
  uint64_t fsyncs() const { return fsyncs_.load(std::memory_order_relaxed); }
  uint64_t delayed_fsync() const { return 0; }
  std::string incr_path() const { return incr_path_; }

 private:
  void Append(std::string_view payload);
  void EverysecLoop();
  absl::Status WriteManifest();

  Server* server_;
  std::string dir_;
  std::string name_;
  uint64_t seq_ = 1;
  std::string base_name_;
  std::vector<std::string> incr_names_;
  std::string incr_path_;
  std::atomic<int> fd_{-1};
  std::vector<int> retired_fds_;  // io_mu_: incr files closed at the next rewrite's end
  std::string new_base_name_;     // io_mu_: the base a rewrite is writing
  std::map<uint32_t, uint64_t> marks_;  // mu_: the newest mark per origin
  std::atomic<uint64_t> base_bytes_{0};
  std::atomic<DeltaSink*> next_{nullptr};
  std::atomic<int> fsync_{kEverysec};

  std::mutex mu_;         // pending_ and the appended count
  std::string pending_;
  std::atomic<uint64_t> appended_{0};  // bytes appended since Open
  std::mutex io_mu_;      // one writer at a time
  std::string spare_;     // io_mu_: the buffer last written, kept for reuse
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> synced_{0};
  std::atomic<uint64_t> durable_{0};
  std::atomic<uint64_t> file_bytes_{0};
  std::atomic<bool> write_ok_{true};
  std::atomic<int> last_errno_{0};
  std::atomic<uint64_t> fsyncs_{0};

  std::thread everysec_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // stop_mu_
};

}  // namespace lattice::node

#endif  // LATTICE_NODE_PERSIST_AOF_H_
