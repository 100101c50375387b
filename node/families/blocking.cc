#include "node/families/blocking.h"

#include <cmath>

#include "node/families/util.h"
#include "node/server.h"

namespace lattice::node {

bool ParseBlockTimeout(CommandContext& ctx, std::string_view arg, int64_t* ms) {
  long double seconds;
  if (!ParseLongDouble(arg, &seconds)) {
    ctx.rb->Error("ERR timeout is not a float or out of range");
    return false;
  }
  long double t = seconds * 1000.0L;
  if (std::isinf(t) || t >= 9.2e18L || t <= -9.2e18L) {
    ctx.rb->Error(t < 0 ? "ERR timeout is negative" : "ERR timeout is out of range");
    return false;
  }
  int64_t v = static_cast<int64_t>(std::ceil(t));  // rounds up, as Redis
  if (v < 0) {
    ctx.rb->Error("ERR timeout is negative");
    return false;
  }
  if (v > 0 && v > INT64_MAX - ctx.now_ms) {
    ctx.rb->Error("ERR timeout is out of range");
    return false;
  }
  *ms = v;
  return true;
}

std::string TimeoutReplyBytes(const Waiter& w) { return w.protocol == 3 ? "_\r\n" : "*-1\r\n"; }

void BlockClient(CommandContext& ctx, std::span<const std::string_view> keys, int64_t timeout_ms,
                 const std::vector<std::string>* again, int64_t recheck_every_ms,
                 bool wake_when_gone) {
  if (ctx.in_exec) {
    ctx.rb->NullArray();  // inside MULTI: as if the timeout had passed
    return;
  }
  if (ctx.serving) {
    ctx.blocked = true;  // served again, still nothing: keeps its place
    return;
  }
  if (!ctx.origin) {
    // No client here to park: a command forwarded by another node (partial
    // placement). Answering as a timeout would break BLPOP ... 0 (a client
    // would spin); say what happened instead.
    ctx.rb->Error(
        "ERR a blocking command that finds nothing cannot wait on a node that does not hold its "
        "keys yet: send it to one that does (LATTICE WHERE key)");
    return;
  }
  auto w = std::make_shared<Waiter>();
  w->origin = ctx.origin;
  w->conn_id = ctx.conn_id;
  w->db = ctx.db;
  w->protocol = ctx.rb->protocol();
  w->cmd = ctx.cmd;
  if (again) {
    w->args = *again;
  } else {
    w->args.assign(ctx.args.begin(), ctx.args.end());
  }
  w->keys.assign(keys.begin(), keys.end());
  w->deadline_ms = timeout_ms > 0 ? ctx.now_ms + timeout_ms : 0;
  w->recheck_every_ms = recheck_every_ms;
  w->recheck_at_ms = recheck_every_ms > 0 ? ctx.now_ms + recheck_every_ms : 0;
  w->wake_when_gone = wake_when_gone;
  ctx.blocked = true;
  Worker* origin = ctx.origin;
  origin->Post([origin, w] { origin->AddBlocked(w); });
  for (const std::string& key : w->keys) {
    Worker* kw = &ctx.server->worker(ctx.server->ShardIndexOf(key));
    kw->Post([kw, w, key] { kw->RegisterWaiter(w, key); });
  }
}

void BlockingShard::Add(const std::shared_ptr<Waiter>& w, const std::string& key) {
  auto& q = queues_[{w->db, key}];
  // A client waiting on one key twice (BLPOP k k 0) waits once.
  for (const auto& x : q) {
    if (x == w) return;
  }
  q.push_back(w);
}

std::deque<std::shared_ptr<Waiter>>* BlockingShard::Queue(int db, const std::string& key) {
  auto it = queues_.find(std::make_pair(db, key));
  return it == queues_.end() ? nullptr : &it->second;
}

bool BlockingShard::Prune(int db, const std::string& key) {
  auto it = queues_.find(std::make_pair(db, key));
  if (it == queues_.end()) return true;
  auto& q = it->second;
  q.erase(std::remove_if(q.begin(), q.end(), [](const auto& w) { return w->finished(); }),
          q.end());
  if (!q.empty()) return false;
  queues_.erase(it);
  return true;
}

}  // namespace lattice::node
