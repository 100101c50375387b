// File: node/persist/bgsave.h
//
// Background snapshots without fork(): BGSAVE, the save points and the base
// of BGREWRITEAOF. Redis forks and lets the kernel copy pages the parent
// writes, which can approach twice the memory under a write-heavy load.
// Here every shard copies its own keys from its own thread, a bounded slice
// per event-loop iteration, into the snapshot format (node/persist/
// snapshot.h), and a writer thread puts the slices in the file.
//
// The file is the state at the moment the save began (point in time, so a
// transaction is in it whole or not at all), although the copying takes a
// while: the save begins in the exclusive section, noting the Lamport clock,
// and each database gets a hook (Db::set_snapshot_hook) that runs before
// any key changes. The first change to a key not copied yet copies the key
// first, as it was. Every local write stamps its key above the noted clock,
// so a stamp above it says "changed since the start, copied then or created
// since" and the scan skips such keys; the few keys a change leaves
// unstamped (a TTL change, a peer's older write) are remembered by name
// until the save ends. A key deleted later was copied by the hook before it
// went; a flush finishes its database's copy first. The extra memory is
// those few names plus the copies waiting for the writer (bounded: the
// scan pauses while the writer is behind), never a second keyspace. A
// peer's delta merged during the save may land in the file too (its key
// then holds a later state); merging is what the node does with it anyway,
// so a node restarted from the file still converges. A key written after
// the scan passed it may be copied twice, both copies of the same state;
// loading merges them into one.
//
// Thread-safety: Begin in the exclusive section; Run(i) only from shard i's
// worker; the hooks on the shard's thread or in the exclusive section;
// finished/Abort from anywhere; the destructor with the workers stopped or
// every shard's part done.
#ifndef LATTICE_NODE_PERSIST_BGSAVE_H_
#define LATTICE_NODE_PERSIST_BGSAVE_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "node/persist/snapshot.h"

namespace lattice::node {

class Server;

class BackgroundSave {
 public:
  enum Kind { kRdb, kAofRewrite };
  // Called once on the writer thread with the outcome.
  using DoneFn = std::function<void(const absl::Status&, const SnapshotInfo&)>;
  BackgroundSave(Server& server, Kind kind, std::string path, DoneFn done);
  ~BackgroundSave();
  BackgroundSave(const BackgroundSave&) = delete;
  BackgroundSave& operator=(const BackgroundSave&) = delete;

  // In the exclusive section: creates the file, writes the tombstones and
  // hooks every database.
  absl::Status Begin();

  enum Step { kMore, kWait, kDone };
  // Copies about `budget_us` of shard `shard`'s keys. kWait: the writer is
  // behind, try again a little later; kDone: this shard's part is finished
  // (its hooks are off).
  Step Run(int shard, int64_t budget_us);

  Kind kind() const { return kind_; }
  int64_t started_ms() const { return started_ms_; }
  // The writes counted when the save began (rdb_changes_since_last_save).
  uint64_t writes_at_start() const { return writes_at_start_; }
  bool finished() const { return finished_.load(std::memory_order_acquire); }
  // Stops early: the file is dropped and the done callback hears so.
  void Abort();
  // Peak bytes of copies waiting for the writer (INFO, benchmarks).
  uint64_t peak_queued() const { return peak_queued_.load(std::memory_order_relaxed); }

 private:
  class ShardPart;
  friend class ShardPart;
  void Push(std::string bytes, uint64_t records);
  void PartDone();
  void WriterLoop();

  Server& server_;
  const Kind kind_;
  const std::string path_;
  DoneFn done_;
  int64_t started_ms_ = 0;
  int64_t cut_ms_ = 0;  // keys expired at this time are not saved
  uint64_t writes_at_start_ = 0;
  SnapshotFile file_;
  std::string functions_;  // the libraries when the save began
  SnapshotInfo info_;
  std::vector<std::unique_ptr<ShardPart>> parts_;

  std::mutex mu_;
  std::condition_variable cv_;
  struct Chunk {
    std::string bytes;
    uint64_t records;
  };
  std::deque<Chunk> queue_;       // mu_
  int parts_left_ = 0;            // mu_
  std::atomic<uint64_t> queued_{0};
  std::atomic<uint64_t> peak_queued_{0};
  std::atomic<bool> failed_{false};
  std::atomic<bool> abort_{false};
  std::atomic<bool> finished_{false};
  std::thread writer_;
};

}  // namespace lattice::node

#endif  // LATTICE_NODE_PERSIST_BGSAVE_H_
