// File: node/families/blocking.h
//
// Blocking pops (BLPOP, BLMOVE, BLMPOP, BZPOPMIN...): a command that finds
// nothing to pop parks its client instead of replying. The client waits in
// a FIFO per (database, key) on the shard that owns each key it names.
// Whatever adds to a key (a local command, a replicated delta, a repair
// merge, RENAME/COPY) signals it through its Db (Db::SignalKey); at the end
// of its event-loop iteration the shard serves the key's waiters in arrival
// order by running each one's command again, as Redis's
// handleClientsBlockedOnKeys does, until the key is empty. A waiter is
// served once: the first shard (or the timeout, or the disconnect) to claim
// it wins. See docs/architecture.md, "Blocking pops".
//
// Thread-safety: a Waiter is shared by the origin worker and the key
// shards; `done` is the only field written after creation. Each
// BlockingShard belongs to its worker's thread.
#ifndef LATTICE_NODE_FAMILIES_BLOCKING_H_
#define LATTICE_NODE_FAMILIES_BLOCKING_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "node/command.h"

namespace lattice::node {

class Worker;

struct Waiter {
  Worker* origin = nullptr;
  uint64_t conn_id = 0;
  int db = 0;
  int protocol = 2;
  const CommandId* cmd = nullptr;
  std::vector<std::string> args;  // the command, run again when served
  std::vector<std::string> keys;  // the keys it waits on
  int64_t deadline_ms = 0;        // 0: forever
  // Streams on a replicating node: entries become readable some time
  // after they arrive (stream-read-delay), so the waiter's keys are
  // signalled again every recheck_every_ms (0: never). Origin thread only.
  int64_t recheck_every_ms = 0;
  int64_t recheck_at_ms = 0;
  // XREADGROUP: run again also when its key goes or changes type, to be
  // told so (Redis's "UNBLOCKED the stream key no longer exists").
  bool wake_when_gone = false;
  // Answered, cancelled or timed out, for good: the shards drop it. While
  // a shard runs it (`serving`), `done` is also held true so that no other
  // shard or the timeout answers it too; the others must then keep it and
  // try again (a key written meanwhile would otherwise lose its waiter).
  std::atomic<bool> done{false};
  std::atomic<bool> serving{false};
  bool finished() const { return done.load() && !serving.load(); }
};

// Parses a blocking command's timeout (seconds, a float; 0: forever) as
// Redis's getTimeoutFromObjectOrReply, into a relative ms count.
bool ParseBlockTimeout(CommandContext& ctx, std::string_view arg, int64_t* ms);

// Parks the client of `ctx` on `keys` (in ctx.db) for `timeout_ms` (0:
// forever) and sets ctx.blocked: the handler must not reply. When the
// command is being served again (ctx.serving), it just stays parked. A
// command with no client to park (one forwarded from another node) gets an
// error naming the limit (docs/consistency.md, "Known gaps").
// `again`, when given, is the command to run when served instead of
// ctx.args (XREAD ... $ waits for entries after the id "$" stood for).
// See Waiter for `recheck_every_ms` and `wake_when_gone`.
void BlockClient(CommandContext& ctx, std::span<const std::string_view> keys, int64_t timeout_ms,
                 const std::vector<std::string>* again = nullptr, int64_t recheck_every_ms = 0,
                 bool wake_when_gone = false);

// The waiters of one shard, per (db, key), in arrival order.
class BlockingShard {
 public:
  void Add(const std::shared_ptr<Waiter>& w, const std::string& key);
  // Drops waiters already served, timed out or disconnected from `key`'s
  // queue; returns true if the queue is gone.
  bool Prune(int db, const std::string& key);
  std::deque<std::shared_ptr<Waiter>>* Queue(int db, const std::string& key);
  bool empty() const { return queues_.empty(); }

 private:
  absl::flat_hash_map<std::pair<int, std::string>, std::deque<std::shared_ptr<Waiter>>> queues_;
};

// The reply a waiter gets when its time is up (Redis 7.0: a null array for
// every blocking command, BLMOVE included).
std::string TimeoutReplyBytes(const Waiter& w);

}  // namespace lattice::node

#endif  // LATTICE_NODE_FAMILIES_BLOCKING_H_
