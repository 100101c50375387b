// Placement routing on the worker: commands for keys this node does not
// hold go to a node that does (node/cluster/forward.h), multi-key commands whose
// keys live on different replica sets fan out or are refused. See
// docs/architecture.md ("Placement").
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "node/command_table.h"
#include "node/cluster/forward.h"
#include "node/server.h"
#include "node/storage/stable_hash.h"
#include "node/str_util.h"

namespace lattice::node {

namespace {

// Redis Cluster's text, so cluster-aware client code recognizes it.
constexpr std::string_view kCrossSlot = "CROSSSLOT Keys in request don't hash to the same slot";

enum class FanKind { kNone, kMget, kMset, kSum };

FanKind FanKindOf(const CommandId& cmd) {
  std::string_view n = cmd.name;
  if (n == "mget") return FanKind::kMget;
  if (n == "mset") return FanKind::kMset;
  if (n == "del" || n == "unlink" || n == "exists" || n == "touch") return FanKind::kSum;
  return FanKind::kNone;
}

// Splits one RESP reply element off the front of `s`. Handles the shapes a
// fanned-out command returns (bulk, null, integer, simple, error).
bool NextElement(std::string_view* s, std::string_view* elem) {
  size_t eol = s->find("\r\n");
  if (eol == std::string_view::npos || s->empty()) return false;
  size_t len = eol + 2;
  if ((*s)[0] == '$') {
    int64_t n = 0;
    if (!ParseInt64(s->substr(1, eol - 1), &n)) return false;
    if (n >= 0) len += static_cast<size_t>(n) + 2;
  }
  if (len > s->size()) return false;
  *elem = s->substr(0, len);
  s->remove_prefix(len);
  return true;
}

}  // namespace

void Worker::RefreshView() {
  uint64_t v = server_->placement().version();
  if (v != view_version_ || !view_) {
    view_ = server_->placement().view();
    view_version_ = view_->version;
  }
}

std::vector<ForwardClient::Target> Worker::HoldersOf(const PlacementView& v, std::string_view key,
                                                     bool reads) {
  uint64_t h = StableHash64(key);
  std::vector<uint32_t> ids = v.ring->ReplicasAtPoint(Ring::PointOf(key, h));
  if (reads) {
    // Extra (hot-key) replicas serve reads; writes go to the ring replicas,
    // which ship them on to the extras.
    auto it = v.hot.find(h);
    if (it != v.hot.end()) {
      for (uint32_t id : it->second) {
        if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
      }
    }
  }
  const std::string& zone = server_->config().zone;
  // Alive before suspect/dead, reachable from here before nodes whose
  // calls just failed, then the same zone first, then ring order (the
  // primary first).
  struct Ranked {
    int rank;
    uint32_t id;
    const PlacementView::MemberRoute* route;
  };
  std::vector<Ranked> ranked;
  const int64_t now_ms = NowMs();
  for (size_t i = 0; i < ids.size(); i++) {
    auto r = v.routes.find(ids[i]);
    if (r == v.routes.end()) continue;
    const RingMember* rm = v.ring->Find(ids[i]);
    int rank = static_cast<int>(i);
    if (!(rm && rm->zone == zone)) rank += 1000;
    if (!r->second.alive) rank += 100000;
    if (ids[i] != v.self && server_->forward_client()->Unreachable(ids[i], now_ms)) rank += 10000;
    ranked.push_back(Ranked{rank, ids[i], &r->second});
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const Ranked& a, const Ranked& b) { return a.rank < b.rank; });
  std::vector<ForwardClient::Target> out;
  for (const Ranked& r : ranked) {
    out.push_back(ForwardClient::Target{r.id, r.id == v.self ? "" : r.route->peer_addr});
  }
  return out;
}

Worker::Route Worker::RouteCluster(Connection* c, const CommandId& cmd,
                                  std::span<const std::string_view> args) {
  const PlacementView& v = *view_;
  const bool reads = (cmd.flags & kCmdReadOnly) != 0;
  bool all_local = true, same = true;
  // The first key's replica set (a segment table entry: keys in one
  // segment share the vector, so most comparisons are a pointer check).
  const std::vector<uint32_t>* first = nullptr;
  ForEachKeyPosition(cmd, args, [&](size_t pos) {
    std::string_view key = args[pos];
    const std::vector<uint32_t>& reps =
        v.ring->ReplicasAtPoint(Ring::PointOf(key, StableHash64(key)));
    // Extra (hot-key) replicas hold database 0 only, and serve only reads:
    // a copy may not have fetched the key's state yet, and an increment
    // made on it would count against a stale base.
    bool local = std::find(reps.begin(), reps.end(), v.self) != reps.end() ||
                 (reads && c->db == 0 && !v.self_hot.empty() &&
                  v.self_hot.contains(absl::string_view(key.data(), key.size())));
    all_local = all_local && local;
    if (!first) {
      first = &reps;
    } else if (same && &reps != first) {
      same = reps.size() == first->size() &&
             std::is_permutation(reps.begin(), reps.end(), first->begin());
    }
  });
  if (!first) return Route::kLocal;  // no keys after all (optional key positions)
  FanKind fan = same ? FanKind::kNone : FanKindOf(cmd);
  if (!same && fan == FanKind::kNone) {
    // Atomic multi-key commands need all their keys on one replica set,
    // whichever node the client asked: the same answer everywhere.
    c->rb.Error(kCrossSlot);
    stats[cmd.index].rejected++;
    return Route::kHandled;
  }
  if (all_local) {
    if (reads) reads_local++;
    return Route::kLocal;  // counted in the sketch when it runs
  }
  std::vector<ForwardClient::Target> targets;
  if (same) {
    // One replica set holds every key: the whole command goes there.
    std::string_view key0;
    ForEachKeyPosition(cmd, args, [&](size_t pos) {
      if (key0.empty()) key0 = args[pos];
    });
    targets = HoldersOf(v, key0, reads && c->db == 0);
    if (targets.empty()) {
      c->rb.Error("CLUSTERDOWN no node holding this key is known");
      return Route::kHandled;
    }
    // One call per node in flight per connection: the node runs a call's
    // commands in order, but two calls could overtake each other.
    uint32_t node = targets[0].id;
    if (std::find(c->inflight_nodes.begin(), c->inflight_nodes.end(), node) !=
        c->inflight_nodes.end()) {
      return Route::kWait;
    }
  } else if (!c->slots.empty()) {
    return Route::kWait;  // a fan-out waits for what is in flight
  }
  if (reads) {
    reads_forwarded++;
    CountReads(cmd, args);
  }
  commands_forwarded++;
  if (!same) {
    FanOut(c, cmd, args, static_cast<int>(fan));
    return Route::kHandled;
  }
  // Joins this pass's batch for that node; sent at the end of the pass.
  uint32_t node = targets[0].id;
  Connection::OpenBatch* batch = nullptr;
  for (auto& b : c->open_batches) {
    if (b.targets[0].id == node) batch = &b;
  }
  if (!batch) {
    batch = &c->open_batches.emplace_back();
    batch->targets = std::move(targets);
  } else {
    // The batch may fall back to its next target only where every one of
    // its commands' keys lives: keep the holders this command shares.
    auto& bt = batch->targets;
    bt.erase(std::remove_if(bt.begin() + 1, bt.end(),
                            [&](const ForwardClient::Target& t) {
                              return std::none_of(targets.begin(), targets.end(),
                                                  [&](const ForwardClient::Target& u) {
                                                    return u.id == t.id;
                                                  });
                            }),
             bt.end());
  }
  batch->reads_only = batch->reads_only && reads;
  batch->commands.emplace_back(args.begin(), args.end());
  batch->slots.push_back(c->slot_base + c->slots.size());
  c->slots.emplace_back();
  return Route::kHandled;
}

namespace {

// The client's error for a forwarded call that failed. A write whose call
// left without a reply may have run: it gets a plain ERR (never
// CLUSTERDOWN or TRYAGAIN, which cluster clients retry, applying it twice).
std::string ForwardError(std::string_view error, std::string_view what) {
  constexpr std::string_view kUncertain = "UNCERTAIN ";
  if (error.substr(0, kUncertain.size()) == kUncertain) {
    error.remove_prefix(kUncertain.size());
    return StrCat("-ERR no reply from the node holding ", what, " (", error,
                  "): the write may or may not have been applied\r\n");
  }
  return StrCat("-CLUSTERDOWN no node holding ", what, " answered (", error, ")\r\n");
}

}  // namespace

void Worker::SendForwards(Connection* c) {
  Worker* self = this;
  uint64_t conn_id = c->id;
  for (Connection::OpenBatch& b : c->open_batches) {
    uint32_t node = b.targets[0].id;
    c->inflight_nodes.push_back(node);
    server_->forward_client()->SendBatch(
        std::move(b.targets), c->db, c->rb.protocol(), std::move(b.commands), b.reads_only,
        [self, conn_id, node, slots = std::move(b.slots)](
            bool ok, std::vector<std::string> replies, std::string error) mutable {
          if (!ok) {
            replies.assign(slots.size(), ForwardError(error, "this key"));
          }
          self->Post([self, conn_id, node, slots = std::move(slots), ok,
                      replies = std::move(replies)]() mutable {
            self->OnForwarded(conn_id, node, std::move(slots), ok, std::move(replies));
          });
        });
  }
  c->open_batches.clear();
}

void Worker::OnForwarded(uint64_t conn_id, uint32_t node, std::vector<uint64_t> slots, bool ok,
                         std::vector<std::string> replies) {
  auto it = conns_.find(conn_id);
  if (it == conns_.end() || it->second->closed) return;  // the client left meanwhile
  Connection* c = it->second.get();
  auto n = std::find(c->inflight_nodes.begin(), c->inflight_nodes.end(), node);
  if (n != c->inflight_nodes.end()) c->inflight_nodes.erase(n);
  for (size_t i = 0; i < slots.size() && i < replies.size(); i++) {
    Connection::Slot& s = c->slots[slots[i] - c->slot_base];
    s.done = true;
    s.bytes = std::move(replies[i]);
  }
  // Release every reply whose predecessors are all there.
  while (!c->slots.empty() && c->slots.front().done) {
    c->out.append(c->slots.front().bytes);
    c->slots.pop_front();
    c->slot_base++;
  }
  if (c->fwd_blocked && c->inflight_nodes.empty()) {
    c->fwd_blocked = false;
    ProcessInput(c);
  } else if (!c->fwd_blocked && !c->pending) {
    ProcessInput(c);  // commands that arrived meanwhile
  }
  Flush(c);
}

void Worker::FanOut(Connection* c, const CommandId& cmd, std::span<const std::string_view> args,
                    int kind_int) {
  FanKind kind = static_cast<FanKind>(kind_int);
  const PlacementView& v = *view_;
  const bool reads = (cmd.flags & kCmdReadOnly) != 0;
  const size_t step = kind == FanKind::kMset ? 2 : 1;
  // Group the keys by the node that serves them (this node when it holds
  // them).
  struct Part {
    std::vector<ForwardClient::Target> targets;
    std::vector<std::string> args;
    std::vector<size_t> index;  // key positions in the original order
    std::string reply;
  };
  std::vector<Part> parts;
  absl::flat_hash_map<uint32_t, size_t> by_node;
  size_t nkeys = 0;
  for (size_t pos = 1; pos + step - 1 < args.size(); pos += step, nkeys++) {
    std::string_view key = args[pos];
    std::vector<ForwardClient::Target> targets;
    if (v.ReplicaOf(v.self, key) ||
        (reads && c->db == 0 && v.self_hot.contains(absl::string_view(key.data(), key.size())))) {
      targets.push_back(ForwardClient::Target{v.self, ""});
    } else {
      targets = HoldersOf(v, key, reads && c->db == 0);
    }
    uint32_t node = targets.empty() ? 0 : targets[0].id;
    auto [it, fresh] = by_node.try_emplace(node, parts.size());
    if (fresh) {
      Part& p = parts.emplace_back();
      p.targets = std::move(targets);
      p.args.emplace_back(args[0]);
    }
    Part& p = parts[it->second];
    for (size_t j = 0; j < step; j++) p.args.emplace_back(args[pos + j]);
    p.index.push_back(nkeys);
  }
  struct State {
    std::mutex mu;
    std::vector<Part> parts;
    size_t remaining;
    size_t nkeys;
    FanKind kind;
    int proto;
    std::string error;
  };
  auto st = std::make_shared<State>();
  st->parts = std::move(parts);
  st->remaining = st->parts.size();
  st->nkeys = nkeys;
  st->kind = kind;
  st->proto = c->rb.protocol();
  c->pending = true;
  Worker* self = this;
  uint64_t conn_id = c->id;
  auto finish = [st, self, conn_id] {
    std::string out;
    resp::ReplyBuilder rb(&out, st->proto);
    if (!st->error.empty()) {
      out = st->error;
    } else if (st->kind == FanKind::kMset) {
      rb.Ok();
    } else if (st->kind == FanKind::kSum) {
      int64_t sum = 0;
      for (const Part& p : st->parts) {
        int64_t n = 0;
        std::string_view r = p.reply;
        if (r.size() > 3 && r[0] == ':') ParseInt64(r.substr(1, r.size() - 3), &n);
        sum += n;
      }
      rb.Integer(sum);
    } else {
      // MGET: put each part's elements back in key order.
      std::vector<std::string_view> elems(st->nkeys);
      bool ok = true;
      for (const Part& p : st->parts) {
        std::string_view r = p.reply;
        size_t eol = r.find("\r\n");
        if (r.empty() || r[0] != '*' || eol == std::string_view::npos) {
          ok = false;
          break;
        }
        r.remove_prefix(eol + 2);
        for (size_t i : p.index) ok = ok && NextElement(&r, &elems[i]);
      }
      if (!ok) {
        out = "-ERR a node answered a fanned-out MGET with a malformed reply\r\n";
      } else {
        out = StrCat("*", st->nkeys, "\r\n");
        for (std::string_view e : elems) out.append(e);
      }
    }
    self->Post([self, conn_id, out = std::move(out)]() mutable {
      self->CompleteRemote(conn_id, std::move(out));
    });
  };
  for (size_t i = 0; i < st->parts.size(); i++) {
    Part& p = st->parts[i];
    std::vector<ForwardClient::Target> targets = std::move(p.targets);
    std::vector<std::string> part_args = std::move(p.args);
    server_->forward_client()->Send(
        std::move(targets), c->db, st->proto, std::move(part_args), reads,
        [st, i, finish](bool ok, std::string reply) {
          bool last;
          {
            std::lock_guard<std::mutex> l(st->mu);
            if (!ok && st->error.empty()) {
              st->error = ForwardError(reply, "some of these keys");
            } else if (ok && !reply.empty() && reply[0] == '-' && st->error.empty()) {
              st->error = reply;
            }
            st->parts[i].reply = std::move(reply);
            last = --st->remaining == 0;
          }
          if (last) finish();
        });
  }
}

}  // namespace lattice::node
