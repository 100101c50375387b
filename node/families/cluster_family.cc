// Cluster commands: WAIT, LATTICE NODES/HELP, and INFO's replication
// section. Redis's CLUSTER family is deliberately absent so cluster-aware
// clients never mistake a node for a Redis Cluster node.
#include <algorithm>
#include <climits>

#include "absl/strings/str_format.h"
#include "node/families/families.h"
#include "node/families/util.h"
#include "node/cluster/anti_entropy.h"
#include "node/cluster/hot_replication.h"
#include "node/cluster/replication.h"
#include "node/server.h"
#include "node/storage/stable_hash.h"
#include "node/str_util.h"

namespace lattice::node {

void CmdWait(CommandContext& ctx) {
  int64_t n, timeout;
  if (!ParseInt64(ctx.args[1], &n)) {
    ctx.rb->Error(errors::kNotInt);
    return;
  }
  if (!ParseInt64(ctx.args[2], &timeout)) {
    ctx.rb->Error("ERR timeout is not an integer or out of range");
    return;
  }
  if (timeout < 0) {
    ctx.rb->Error("ERR timeout is negative");
    return;
  }
  Replicator& r = ctx.server->replicator();
  // Every write this client made is at or below the log head now.
  uint64_t seq = r.head_seq();
  int count = r.CountAcked(seq);
  if (count >= n || !ctx.conn) {
    ctx.rb->Integer(count);
    return;
  }
  Connection* c = ctx.conn;
  c->pending = true;
  Worker* w = c->worker;
  uint64_t id = c->id;
  int64_t deadline = timeout > 0 ? ctx.now_ms + timeout : 0;
  r.AddWaiter(seq, static_cast<int>(std::min<int64_t>(n, INT_MAX)), deadline,
              [w, id](int acked) {
                w->Post([w, id, acked] { w->CompleteRemote(id, StrCat(":", acked, "\r\n")); });
              });
}

namespace {

std::string PeerLine(const PeerView& p) {
  return StrCat("name=", p.name, ",id=", p.id, ",addr=", p.addr,
                ",state=", gossip::StateName(p.state), ",connected=", p.connected ? 1 : 0,
                ",acked_seq=", p.acked_seq, ",backlog=", p.backlog, ",lag_ms=",
                absl::StrFormat("%.3f", p.last_lag_us / 1000.0), ",sent=", p.deltas_sent,
                ",bytes=", p.bytes_sent, ",batches=", p.batches_sent, ",snapshots=", p.snapshots,
                ",received=",
                p.deltas_received, ",applied=", p.deltas_applied,
                ",rejected=", p.batches_rejected, ",needs_repair=", p.needs_repair ? 1 : 0);
}

}  // namespace

void CmdLatticeNodes(CommandContext& ctx) {
  Server* s = ctx.server;
  std::string out;
  gossip::Membership* m = s->membership();
  if (!m) {
    StrAppend(&out, s->config().node_id.empty() ? "standalone" : s->config().node_id, " ",
              s->clock().node(), " - - zone=", s->config().zone, " alive incarnation=0 myself\n");
    ctx.rb->Bulk(out);
    return;
  }
  std::vector<PeerView> peers = s->replicator().Peers();
  for (const gossip::MemberInfo& info : m->Snapshot()) {
    StrAppend(&out, info.name, " ", info.id, " ", info.client_addr, " ", info.peer_addr,
              " zone=", info.zone, " ", gossip::StateName(info.state),
              " incarnation=", info.incarnation);
    if (info.self) {
      StrAppend(&out, " myself");
    } else {
      for (const PeerView& p : peers) {
        if (p.id != info.id) continue;
        StrAppend(&out, p.connected ? " connected" : " disconnected", " acked_seq=", p.acked_seq,
                  " backlog=", p.backlog);
        if (p.needs_repair) StrAppend(&out, " needs-repair");
      }
    }
    out += "\n";
  }
  ctx.rb->Bulk(out);
}

// LATTICE REPAIR <member-name | peer-addr>: one anti-entropy round now.
void CmdLatticeRepair(CommandContext& ctx) {
  Server* s = ctx.server;
  gossip::Membership* m = s->membership();
  if (!m || !s->anti_entropy()) {
    ctx.rb->Error("ERR this node has no peer service");
    return;
  }
  std::string addr;
  for (const gossip::MemberInfo& info : m->Snapshot()) {
    if (!info.self && (info.name == ctx.args[2] || info.peer_addr == ctx.args[2])) {
      addr = info.peer_addr;
    }
  }
  if (addr.empty()) {
    ctx.rb->Error(StrCat("ERR no member named '", ctx.args[2], "'"));
    return;
  }
  if (!ctx.conn) {
    ctx.rb->Error("ERR LATTICE REPAIR cannot run here");
    return;
  }
  Connection* c = ctx.conn;
  c->pending = true;
  Worker* w = c->worker;
  uint64_t id = c->id;
  int proto = c->rb.protocol();
  s->anti_entropy()->RepairAsync(addr, [w, id, proto](RepairStats st) {
    std::string out;
    resp::ReplyBuilder rb(&out, proto);
    if (!st.ok) {
      rb.Error(StrCat("ERR repair failed: ", st.error));
    } else {
      std::pair<const char*, uint64_t> fields[] = {
          {"keys_repaired", st.keys_repaired},   {"keys_compared", st.keys_compared},
          {"leaves_differing", st.leaves_differing}, {"dbs_differing", st.dbs_differing},
          {"bytes_sent", st.bytes_sent},         {"bytes_received", st.bytes_received},
          {"rpcs", st.rpcs},                     {"micros", uint64_t(st.micros)}};
      rb.MapHeader(std::size(fields));
      for (auto& [k, v] : fields) {
        rb.Bulk(k);
        rb.Integer(static_cast<int64_t>(v));
      }
    }
    w->Post([w, id, out = std::move(out)]() mutable { w->CompleteRemote(id, std::move(out)); });
  });
}

// LATTICE FORGET <member-name>: the member will not come back (its machine
// is gone); it stops holding tombstone collection back. If it does come
// back without a restart it stays out (see Membership::Forget).
void CmdLatticeForget(CommandContext& ctx) {
  gossip::Membership* m = ctx.server->membership();
  if (!m) {
    ctx.rb->Error("ERR this node has no peer service");
    return;
  }
  if (!m->Forget(std::string(ctx.args[2]))) {
    ctx.rb->Error(StrCat("ERR no member named '", ctx.args[2], "'"));
    return;
  }
  ctx.rb->Ok();
}

// LATTICE HOTKEYS: the most read keys of this node with their decayed
// read counts (half-life 5 s), highest first. Kept once the node has peers.
void CmdLatticeHotKeys(CommandContext& ctx) {
  std::vector<std::pair<std::string, uint32_t>> all;
  for (int i = 0; i < ctx.server->shard_count(); i++) {
    for (auto& kv : ctx.server->worker(i).shard().hot_keys.Top()) all.push_back(std::move(kv));
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (all.size() > 32) all.resize(32);
  ctx.rb->MapHeader(static_cast<int64_t>(all.size()));
  for (const auto& [k, n] : all) {
    ctx.rb->Bulk(k);
    ctx.rb->Integer(n);
  }
}

// LATTICE WHERE <key>: the members holding the key, as this node's
// placement view has it: "replicas" (ring order, primary first) and
// "extras" (hot-key copies). Without partial placement every member is a
// replica.
void CmdLatticeWhere(CommandContext& ctx) {
  std::shared_ptr<const PlacementView> v = ctx.server->placement().view();
  std::vector<std::string> replicas, extras;
  auto name_of = [&](uint32_t id) {
    const RingMember* m = v->ring ? v->ring->Find(id) : nullptr;
    return m ? m->name : std::to_string(id);
  };
  std::string_view key = ctx.args[2];
  if (v->ring) {
    uint64_t h = StableHash64(key);
    const std::vector<uint32_t>& reps = v->ring->ReplicasAtPoint(Ring::PointOf(key, h));
    for (uint32_t id : reps) replicas.push_back(name_of(id));
    auto it = v->hot.find(h);
    if (it != v->hot.end() && v->partial()) {
      for (uint32_t id : it->second) {
        if (std::find(reps.begin(), reps.end(), id) == reps.end()) extras.push_back(name_of(id));
      }
    }
  } else {
    replicas.push_back(ctx.server->config().node_id);
  }
  ctx.rb->MapHeader(2);
  ctx.rb->Bulk("replicas");
  ctx.rb->ArrayHeader(static_cast<int64_t>(replicas.size()));
  for (const auto& r : replicas) ctx.rb->Bulk(r);
  ctx.rb->Bulk("extras");
  ctx.rb->ArrayHeader(static_cast<int64_t>(extras.size()));
  for (const auto& r : extras) ctx.rb->Bulk(r);
}

void CmdLatticeHelp(CommandContext& ctx) {
  static const char* kLines[] = {
      "LATTICE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "FORGET <member-name>",
      "    Remove a member that will not come back; it stops holding tombstones.",
      "REPAIR <member-name | peer-addr>",
      "    Run one anti-entropy round with that member now; returns what it cost.",
      "HOTKEYS",
      "    The most read keys of this node, with decayed read counts (half-life 5 s).",
      "WHERE <key>",
      "    The members holding a key: its ring replicas and any extra (hot-key) copies.",
      "NODES",
      "    Return the cluster members as this node sees them, one per line:",
      "    <name> <id> <client-addr> <peer-addr> zone=<zone> <state> incarnation=<n> ...",
      "HELP",
      "    Print this help.",
  };
  ctx.rb->ArrayHeader(std::size(kLines));
  for (const char* l : kLines) ctx.rb->SimpleString(l);
}

void AppendReplicationInfo(Server* s, std::string* out) {
  auto line = [&](std::string_view k, auto v) { StrAppend(out, k, ":", v, "\r\n"); };
  line("role", "master");
  line("connected_slaves", 0);
  Replicator& r = s->replicator();
  line("lattice_consistency", s->config().consistency);
  line("lattice_node_id", s->clock().node());
  if (gossip::Membership* m = s->membership()) {
    int by_state[4] = {0, 0, 0, 0};
    std::vector<gossip::MemberInfo> members = m->Snapshot();
    for (const auto& info : members) by_state[static_cast<int>(info.state)]++;
    line("lattice_node_name", members[0].name);
    line("lattice_zone", members[0].zone);
    line("lattice_members", members.size());
    line("lattice_members_alive", by_state[0]);
    line("lattice_members_suspect", by_state[1]);
    line("lattice_members_dead", by_state[2]);
    line("lattice_members_left", by_state[3]);
  } else {
    line("lattice_members", 1);
  }
  std::vector<PeerView> peers = r.Peers();
  int connected = 0;
  for (const PeerView& p : peers) connected += p.connected;
  line("lattice_peers_connected", connected);
  line("lattice_repl_seq", r.head_seq());
  line("lattice_repl_backlog_bytes", r.log_bytes());
  line("lattice_deltas_applied", r.deltas_applied());
  line("lattice_causal_waits", r.causal_waits());
  line("lattice_causal_fetched", r.causal_fetched());
  line("lattice_repl_lag_p50_us", r.lag_all().Quantile(0.5));
  line("lattice_repl_lag_p99_us", r.lag_all().Quantile(0.99));
  line("lattice_replication_stream", s->replication_stream() ? "on" : "off");
  line("lattice_stable_counter", r.StableCounter());
  line("lattice_tombstones_collected", r.tombs_collected());
  if (AntiEntropy* ae = s->anti_entropy()) {
    line("lattice_anti_entropy_rounds", ae->rounds());
    line("lattice_anti_entropy_keys_repaired", ae->keys_repaired());
    line("lattice_keys_handed_off", ae->handed_off());
  }
  // Placement (INFO runs in the exclusive section: worker counters are
  // stable here).
  std::shared_ptr<const PlacementView> v = s->placement().view();
  line("lattice_replicas", s->config().ReplicasText());
  line("lattice_ring_members", v->ring ? v->ring->members().size() : 1);
  line("lattice_placement", v->partial() ? "partial" : "full");
  uint64_t local = 0, forwarded = 0, commands = 0;
  for (int i = 0; i < s->shard_count(); i++) {
    local += s->worker(i).reads_local;
    forwarded += s->worker(i).reads_forwarded;
    commands += s->worker(i).commands_forwarded;
  }
  line("lattice_reads_local", local);
  line("lattice_reads_forwarded", forwarded);
  line("lattice_commands_forwarded", commands);
  if (HotReplication* h = s->hot_replication()) {
    line("lattice_hot_keys_held", h->held_count());
    line("lattice_hot_keys_gained", h->gained());
    line("lattice_hot_keys_lost", h->lost());
  }
  line("lattice_extra_replicas", v->extra_replicas());
  for (size_t i = 0; i < peers.size(); i++) line(StrCat("peer", i), PeerLine(peers[i]));
}

}  // namespace lattice::node
