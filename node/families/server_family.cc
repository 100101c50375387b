// Connection and server commands: PING, ECHO, HELLO, QUIT, SELECT, DBSIZE,
// FLUSHDB, FLUSHALL, INFO, CONFIG, CLIENT, TIME, COMMAND, SHUTDOWN.
// Replies follow Redis 7.0. Commands flagged kCmdConnection run on the
// connection's own thread; the kCmdAllShards ones run with every worker
// paused, so they may read any shard and any connection.
#include <malloc.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <climits>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "node/command_meta.h"
#include "node/command_table.h"
#include "node/families/families.h"
#include "node/families/util.h"
#include "node/glob.h"
#include "node/memory.h"
#include "node/persist/aof.h"
#include "node/server.h"
#include "node/pubsub.h"
#include "node/scripting/lua_engine.h"
#include "node/storage/lazyfree.h"
#include "node/str_util.h"

namespace lattice::node {

namespace {

// The Redis version we present to clients: client libraries gate features
// on it, and our command set follows Redis 7.0 semantics.
constexpr std::string_view kLatticeVersion = "0.1.0";

template <typename F>
void ForEachWorker(CommandContext& ctx, F fn) {
  for (int i = 0; i < ctx.server->shard_count(); i++) fn(ctx.server->worker(i));
}

void ReplyHelp(CommandContext& ctx, std::string_view head, std::vector<std::string_view> lines) {
  ctx.rb->ArrayHeader(lines.size() + 3);
  ctx.rb->SimpleString(head);
  for (auto l : lines) ctx.rb->SimpleString(l);
  ctx.rb->SimpleString("HELP");
  ctx.rb->SimpleString("    Print this help.");
}

// Redis's "flags=" letters for CLIENT LIST: N for a plain client.
std::string ClientLine(const Connection& c, int64_t now_ms) {
  int64_t age = (now_ms - c.ctime_ms) / 1000;
  int64_t idle = (now_ms - c.last_interaction_ms) / 1000;
  std::string cmd = c.last_cmd ? c.last_cmd->fullname : "NULL";
  size_t qbuf = c.in.size();
  return absl::StrFormat(
      "id=%d addr=%s laddr=%s fd=%d name=%s age=%d idle=%d flags=N db=%d sub=0 psub=0 ssub=0 "
      "multi=-1 qbuf=%d qbuf-free=%d argv-mem=0 multi-mem=0 rbs=%d rbp=0 obl=0 oll=0 omem=%d "
      "tot-mem=%d events=r cmd=%s user=default redir=-1 resp=%d lib-name=%s lib-ver=%s\n",
      c.id, c.addr, c.laddr, c.fd, c.name, age, idle, c.db, qbuf, c.in.capacity() - qbuf,
      c.in.capacity(), c.out.size() - c.out_head, c.in.capacity() + c.out.capacity(), cmd,
      c.rb.protocol(), c.lib_name, c.lib_ver);
}

// Closes `c` after its pending replies; another worker's connection is
// closed by a message to that worker, which owns its socket.
void RequestKill(CommandContext& ctx, Connection* c) {
  if (c == ctx.conn) {
    c->close_after_reply = true;
    return;
  }
  c->kill_requested = true;
  Worker* w = c->worker;
  uint64_t id = c->id;
  w->Post([w, id] { w->Kill(id); });
}

bool KnownClientType(std::string_view t) {
  return Is(t, "normal") || Is(t, "master") || Is(t, "replica") || Is(t, "slave") ||
         Is(t, "pubsub");
}

bool ValidClientName(std::string_view name) {
  for (char ch : name) {
    if (ch < '!' || ch > '~') return false;
  }
  return true;
}

void FlushGeneric(CommandContext& ctx, bool all) {
  if (ctx.args.size() > 2) {
    ctx.rb->Error(errors::kSyntax);
    return;
  }
  if (ctx.args.size() == 2 && !Is(ctx.args[1], "sync") && !Is(ctx.args[1], "async")) {
    ctx.rb->Error(errors::kSyntax);
    return;
  }
  // ASYNC hands the old tables to the background freer; no argument
  // follows lazyfree-lazy-user-flush.
  const bool lazy = ctx.args.size() == 2 ? Is(ctx.args[1], "async")
                                         : ctx.server->config().lazyfree_lazy_user_flush;
  crdt::Stamp stamp = ctx.Tick();
  ForEachWorker(ctx, [&](Worker& w) {
    for (int i = 0; i < w.shard().databases(); i++) {
      if (!all && i != ctx.db) continue;
      Db& db = w.shard().db(i);
      db.Clear(lazy);
      if (w.shard().replicating()) {
        // A flush kills every write stamped below it (node/cluster/merge.h); the
        // key tombstones it subsumes go.
        db.ClearTombs();
        db.MutableFlushTomb().stamp = stamp;
      }
    }
  });
  // Tracking clients drop their whole cache (Redis's
  // trackingInvalidateKeysOnFlush).
  if (ctx.server->tracking().active()) ctx.server->tracking().Flushed();
  Delta d{Delta::Kind::kDelete, all ? -1 : ctx.db, {}, stamp};
  ctx.server->worker(0).shard().Emit(d);
  ctx.rb->Ok();
}

std::string InfoText(CommandContext& ctx, const std::vector<std::string>& wanted) {
  auto want = [&](std::string_view section, bool in_default = true) {
    if (wanted.empty()) return in_default;
    for (const auto& w : wanted) {
      if (Is(w, section)) return true;
      if (Is(w, "all") && section != "commandstats" ? true : false) return true;
      if (Is(w, "all") || Is(w, "everything")) return true;
      if (Is(w, "default") && in_default) return true;
    }
    return false;
  };
  Server* s = ctx.server;
  std::string out;
  auto section = [&](std::string_view name) {
    if (!out.empty()) out += "\r\n";
    StrAppend(&out, "# ", name, "\r\n");
  };
  auto line = [&](std::string_view k, auto v) { StrAppend(&out, k, ":", v, "\r\n"); };
  int64_t uptime = (ctx.now_ms - s->start_time_ms()) / 1000;
  if (want("server")) {
    section("Server");
    line("redis_version", kCompatVersion);
    line("lattice_version", kLatticeVersion);
    line("redis_mode", "standalone");
    line("os", "Linux");
    line("arch_bits", 64);
    line("multiplexing_api", "epoll");
    line("process_id", getpid());
    line("run_id", s->run_id());
    line("node_id", s->clock().node());
    line("tcp_port", s->config().port);
    line("server_time_usec", NowUs());
    line("uptime_in_seconds", uptime);
    line("uptime_in_days", uptime / 86400);
    line("hz", s->config().hz);
    line("io_threads_active", 0);
    line("shard_threads", s->shard_count());
    line("executable", "lattice-server");
    line("config_file", s->config().config_file);
  }
  if (want("clients")) {
    section("Clients");
    line("connected_clients", s->clients.load());
    line("maxclients", s->config().maxclients);
    line("blocked_clients", s->blocked_clients.load());
  }
  if (want("memory")) {
    section("Memory");
    int64_t rss = 0;
    std::ifstream statm("/proc/self/statm");
    int64_t pages_total = 0, pages_rss = 0;
    if (statm >> pages_total >> pages_rss) rss = pages_rss * sysconf(_SC_PAGESIZE);
    // What maxmemory compares against (node/memory.h).
    int64_t used = mem::UsedBytes();
    line("used_memory", used);
    line("used_memory_human", absl::StrFormat("%.2fM", used / 1048576.0));
    int64_t peak = s->NotePeakMemory(used);
    line("used_memory_peak", peak);
    line("used_memory_peak_human", absl::StrFormat("%.2fM", peak / 1048576.0));
    line("used_memory_startup", s->startup_memory());
    line("used_memory_rss", rss);
    line("used_memory_rss_human", absl::StrFormat("%.2fM", rss / 1048576.0));
    int64_t lua = LuaMemoryAllThreads();
    line("used_memory_lua", lua);
    line("used_memory_vm_eval", lua);
    line("used_memory_lua_human", absl::StrFormat("%.2fK", lua / 1024.0));
    line("used_memory_scripts_eval", s->scripting().bytes());
    line("number_of_cached_scripts", s->scripting().size());
    line("maxmemory", s->config().maxmemory);
    line("maxmemory_policy", s->config().maxmemory_policy);
    line("mem_fragmentation_ratio", absl::StrFormat("%.2f", used ? double(rss) / used : 0.0));
    line("mem_allocator", "libc");
    line("lazyfree_pending_objects", lazyfree::Pending());
    line("lazyfreed_objects", lazyfree::Freed());
  }
  if (want("persistence")) {
    section("Persistence");
    line("loading", 0);
    line("async_loading", 0);
    uint64_t writes = 0;
    ForEachWorker(ctx, [&](Worker& w) { writes += w.shard().deltas_emitted.load(); });
    uint64_t at_save = s->writes_at_last_save.load();
    line("rdb_changes_since_last_save", writes > at_save ? writes - at_save : 0);
    const Server::BgJob job = s->bg_job();
    const int64_t running_secs =
        job == Server::BgJob::kNone ? -1 : (NowMs() - s->bg_started_ms.load()) / 1000;
    line("rdb_bgsave_in_progress", job == Server::BgJob::kRdb ? 1 : 0);
    line("rdb_last_save_time", s->last_save_unix.load());
    line("rdb_last_bgsave_status", s->last_save_ok.load() ? "ok" : "err");
    line("rdb_last_bgsave_time_sec", s->last_bgsave_secs.load());
    line("rdb_current_bgsave_time_sec", job == Server::BgJob::kRdb ? running_secs : -1);
    line("rdb_saves", s->rdb_saves.load());
    // No fork, so no copy-on-write: what a background save held instead,
    // copies waiting for its writer.
    line("rdb_last_cow_size", s->bg_peak_queued.load());
    AppendLog* log = s->aof();
    line("aof_enabled", log ? 1 : 0);
    line("aof_rewrite_in_progress", job == Server::BgJob::kAofRewrite ? 1 : 0);
    line("aof_rewrite_scheduled", s->aof_rewrite_scheduled.load() ? 1 : 0);
    line("aof_last_rewrite_time_sec", s->last_rewrite_secs.load());
    line("aof_current_rewrite_time_sec", job == Server::BgJob::kAofRewrite ? running_secs : -1);
    line("aof_last_bgrewrite_status", s->last_rewrite_ok.load() ? "ok" : "err");
    line("aof_rewrites", s->aof_rewrites.load());
    line("aof_last_write_status", !log || log->last_write_ok() ? "ok" : "err");
    if (log) {
      line("aof_current_size", log->current_size());
      line("aof_base_size", log->base_size());
      line("aof_pending_rewrite", 0);
      line("aof_buffer_length", 0);
      line("aof_pending_bio_fsync", 0);
      line("aof_delayed_fsync", log->delayed_fsync());
      line("aof_fsyncs", log->fsyncs());
    }
  }
  if (want("stats")) {
    section("Stats");
    uint64_t cmds = 0, in = 0, outb = 0, hits = 0, misses = 0, expired = 0, deltas = 0, tombs = 0;
    ForEachWorker(ctx, [&](Worker& w) {
      cmds += w.commands_processed;
      in += w.net_input_bytes;
      outb += w.net_output_bytes;
      hits += w.shard().keyspace_hits;
      misses += w.shard().keyspace_misses;
      deltas += w.shard().deltas_emitted.load();
      for (int i = 0; i < w.shard().databases(); i++) tombs += w.shard().db(i).tomb_count();
      for (int i = 0; i < w.shard().databases(); i++) expired += w.shard().db(i).expired_keys;
    });
    line("total_connections_received", s->total_connections.load());
    line("total_commands_processed", cmds);
    line("total_net_input_bytes", in);
    line("total_net_output_bytes", outb);
    line("rejected_connections", s->rejected_connections.load());
    line("expired_keys", expired);
    uint64_t evicted = 0;
    ForEachWorker(ctx, [&](Worker& w) { evicted += w.shard().evicted_keys; });
    line("evicted_keys", evicted);
    line("keyspace_hits", hits);
    line("keyspace_misses", misses);
    line("pubsub_channels", s->pubsub().Names(PubSub::kChannel, {}).size());
    line("pubsub_patterns", s->pubsub().patterns());
    line("pubsubshard_channels", s->pubsub().Names(PubSub::kShard, {}).size());
    line("lattice_deltas_emitted", deltas);
    line("lattice_tombstones", tombs);
    line("lattice_lamport_clock", s->clock().Now());
  }
  if (want("replication")) {
    section("Replication");
    AppendReplicationInfo(s, &out);
  }
  if (want("cpu")) {
    section("CPU");
    rusage self;
    getrusage(RUSAGE_SELF, &self);
    line("used_cpu_sys", absl::StrFormat("%d.%06d", self.ru_stime.tv_sec, self.ru_stime.tv_usec));
    line("used_cpu_user", absl::StrFormat("%d.%06d", self.ru_utime.tv_sec, self.ru_utime.tv_usec));
  }
  if (want("commandstats", false)) {
    section("Commandstats");
    const CommandTable& table = s->commands();
    for (size_t i = 0; i < table.slot_count(); i++) {
      CommandStats sum;
      ForEachWorker(ctx, [&](Worker& w) {
        if (i < w.stats.size()) {
          sum.calls += w.stats[i].calls;
          sum.usec += w.stats[i].usec;
          sum.rejected += w.stats[i].rejected;
          sum.failed += w.stats[i].failed;
        }
      });
      if (sum.calls == 0 && sum.rejected == 0) continue;
      absl::StrAppendFormat(&out,
                            "cmdstat_%s:calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,"
                            "failed_calls=%d\r\n",
                            table.slot(i).fullname, sum.calls, sum.usec,
                            sum.calls ? double(sum.usec) / sum.calls : 0.0, sum.rejected,
                            sum.failed);
    }
  }
  if (want("keyspace")) {
    section("Keyspace");
    for (int db = 0; db < s->config().databases; db++) {
      size_t keys = 0, expires = 0;
      ForEachWorker(ctx, [&](Worker& w) {
        keys += w.shard().db(db).size();
        expires += w.shard().db(db).expires_size();
      });
      if (keys) StrAppend(&out, "db", db, ":keys=", keys, ",expires=", expires, ",avg_ttl=0\r\n");
    }
  }
  return out;
}

// "get" or "config|get", case-insensitively.
const CommandId* FindByFullName(const CommandTable& t, std::string_view name) {
  size_t bar = name.find('|');
  const CommandId* c = t.Find(name.substr(0, bar));
  if (!c || bar == std::string_view::npos) return c;
  for (const CommandId& sub : c->subcommands) {
    if (EqualsIgnoreCase(sub.name, name.substr(bar + 1))) return &sub;
  }
  return nullptr;
}

// The flags COMMAND INFO reports: Redis 7.0.15's for the commands it knows
// (node/command_meta.h), else the row's.
uint32_t ReportedFlags(const CommandId& c, const CommandMeta* meta) {
  uint32_t f = 0;
  if (meta && meta->has_flags) {
    f = meta->flags;
  } else {
    if (c.flags & kCmdWrite) f |= kRfWrite;
    if (c.flags & kCmdReadOnly) f |= kRfReadonly;
    if (c.flags & kCmdDenyOom) f |= kRfDenyoom;
    if (c.flags & kCmdAdmin) f |= kRfAdmin;
    if (c.flags & kCmdNoScript) f |= kRfNoscript;
    if (c.flags & kCmdBlocking) f |= kRfBlocking;
    if (c.flags & kCmdLoading) f |= kRfLoading;
    if (c.flags & kCmdStale) f |= kRfStale;
    if (c.flags & kCmdFast) f |= kRfFast;
    if (c.flags & kCmdNoAuth) f |= kRfNoAuth;
    if (c.flags & kCmdNoMulti) f |= kRfNoMulti;
  }
  if (c.keynum > 0) f |= kRfMovablekeys;
  return f;
}

// A set of simple strings, one per bit of `bits`, named by name(bit).
template <typename NameFn>
void ReplyBitSet(CommandContext& ctx, uint32_t bits, int count, NameFn name,
                 std::string_view prefix = "") {
  ctx.rb->SetHeader(std::popcount(bits));
  for (int i = 0; i < count; i++) {
    if (!(bits & (1u << i))) continue;
    if (prefix.empty()) {
      ctx.rb->SimpleString(name(i));
    } else {
      ctx.rb->SimpleString(StrCat(prefix, name(i)));
    }
  }
}

void ReplyKeySpec(CommandContext& ctx, const KeySpec& ks) {
  ctx.rb->MapHeader(ks.notes.empty() ? 3 : 4);
  if (!ks.notes.empty()) {
    ctx.rb->Bulk("notes");
    ctx.rb->Bulk(ks.notes);
  }
  ctx.rb->Bulk("flags");
  ReplyBitSet(ctx, ks.flags, kKeySpecFlagCount, KeySpecFlagName);
  ctx.rb->Bulk("begin_search");
  ctx.rb->MapHeader(2);
  ctx.rb->Bulk("type");
  switch (ks.begin) {
    case KeySpec::Begin::kIndex:
      ctx.rb->Bulk("index");
      ctx.rb->Bulk("spec");
      ctx.rb->MapHeader(1);
      ctx.rb->Bulk("index");
      ctx.rb->Integer(ks.index);
      break;
    case KeySpec::Begin::kKeyword:
      ctx.rb->Bulk("keyword");
      ctx.rb->Bulk("spec");
      ctx.rb->MapHeader(2);
      ctx.rb->Bulk("keyword");
      ctx.rb->Bulk(ks.keyword);
      ctx.rb->Bulk("startfrom");
      ctx.rb->Integer(ks.startfrom);
      break;
    case KeySpec::Begin::kUnknown:
      ctx.rb->Bulk("unknown");
      ctx.rb->Bulk("spec");
      ctx.rb->MapHeader(0);
      break;
  }
  ctx.rb->Bulk("find_keys");
  ctx.rb->MapHeader(2);
  ctx.rb->Bulk("type");
  switch (ks.find) {
    case KeySpec::Find::kRange:
      ctx.rb->Bulk("range");
      ctx.rb->Bulk("spec");
      ctx.rb->MapHeader(3);
      ctx.rb->Bulk("lastkey");
      ctx.rb->Integer(ks.lastkey);
      ctx.rb->Bulk("keystep");
      ctx.rb->Integer(ks.keystep);
      ctx.rb->Bulk("limit");
      ctx.rb->Integer(ks.limit);
      break;
    case KeySpec::Find::kKeynum:
      ctx.rb->Bulk("keynum");
      ctx.rb->Bulk("spec");
      ctx.rb->MapHeader(3);
      ctx.rb->Bulk("keynumidx");
      ctx.rb->Integer(ks.keynumidx);
      ctx.rb->Bulk("firstkey");
      ctx.rb->Integer(ks.firstkey);
      ctx.rb->Bulk("keystep");
      ctx.rb->Integer(ks.keystep);
      break;
    case KeySpec::Find::kUnknown:
      ctx.rb->Bulk("unknown");
      ctx.rb->Bulk("spec");
      ctx.rb->MapHeader(0);
      break;
  }
}

// One COMMAND INFO entry, as Redis 7.0's addReplyCommandInfo.
void ReplyCommandInfo(CommandContext& ctx, const CommandId& c) {
  const CommandMeta* meta = MetaOf(c);
  ctx.rb->ArrayHeader(10);
  ctx.rb->Bulk(c.fullname);
  ctx.rb->Integer(c.arity);
  ReplyBitSet(ctx, ReportedFlags(c, meta), kRedisFlagCount, RedisFlagName);
  ctx.rb->Integer(c.first_key);
  ctx.rb->Integer(c.last_key);
  ctx.rb->Integer(c.key_step);
  // Every row has metadata (tests/node/command_meta_test.cc); @slow is
  // Redis's default for a command that declares no category.
  ReplyBitSet(ctx, meta ? meta->acl : kAclSlow, kAclCategoryCount, AclCategoryName, "@");
  std::span<const std::string_view> tips = meta ? meta->tips : std::span<const std::string_view>();
  ctx.rb->SetHeader(tips.size());
  for (std::string_view tip : tips) ctx.rb->Bulk(tip);
  std::span<const KeySpec> specs = meta ? meta->key_specs : std::span<const KeySpec>();
  ctx.rb->SetHeader(specs.size());
  for (const KeySpec& ks : specs) ReplyKeySpec(ctx, ks);
  if (c.subcommands.empty()) {
    ctx.rb->SetHeader(0);
    return;
  }
  // In table order: Redis lists them in its hash table's order, which
  // changes with each process's hash seed.
  ctx.rb->ArrayHeader(c.subcommands.size());
  for (const CommandId& sub : c.subcommands) ReplyCommandInfo(ctx, sub);
}

void ReplyCommandArgs(CommandContext& ctx, std::span<const CommandArg> args) {
  ctx.rb->ArrayHeader(args.size());
  for (const CommandArg& a : args) {
    int n = 2 + (a.key_spec_index >= 0) + !a.token.empty() + !a.summary.empty() + !a.since.empty() +
            !a.deprecated_since.empty() + (a.flags != 0) + !a.args.empty();
    ctx.rb->MapHeader(n);
    ctx.rb->Bulk("name");
    ctx.rb->Bulk(a.name);
    ctx.rb->Bulk("type");
    ctx.rb->Bulk(ArgTypeName(a.type));
    if (a.key_spec_index >= 0) {
      ctx.rb->Bulk("key_spec_index");
      ctx.rb->Integer(a.key_spec_index);
    }
    std::pair<std::string_view, std::string_view> texts[] = {
        {"token", a.token},
        {"summary", a.summary},
        {"since", a.since},
        {"deprecated_since", a.deprecated_since}};
    for (const auto& [field, value] : texts) {
      if (value.empty()) continue;
      ctx.rb->Bulk(field);
      ctx.rb->Bulk(value);
    }
    if (a.flags) {
      ctx.rb->Bulk("flags");
      ReplyBitSet(ctx, a.flags, kArgFlagCount, ArgFlagName);
    }
    if (!a.args.empty()) {
      ctx.rb->Bulk("arguments");
      ReplyCommandArgs(ctx, a.args);
    }
  }
}

// One COMMAND DOCS entry (name, then its map), as Redis 7.0's
// addReplyCommandDocs.
void ReplyCommandDocs(CommandContext& ctx, const CommandId& c) {
  const CommandMeta* meta = MetaOf(c);
  ctx.rb->Bulk(c.fullname);
  if (!meta) {
    ctx.rb->MapHeader(c.subcommands.empty() ? 3 : 4);
    ctx.rb->Bulk("summary");
    ctx.rb->Bulk(c.summary);
    ctx.rb->Bulk("since");
    ctx.rb->Bulk(c.since);
    ctx.rb->Bulk("group");
    ctx.rb->Bulk(c.group);
  } else {
    const CommandMeta& m = *meta;
    int n = 3 + m.has_complexity + (m.doc_flags != 0) + !m.deprecated_since.empty() +
            !m.replaced_by.empty() + !m.history.empty() + m.has_args + !c.subcommands.empty();
    ctx.rb->MapHeader(n);
    ctx.rb->Bulk("summary");
    ctx.rb->Bulk(m.summary);
    ctx.rb->Bulk("since");
    ctx.rb->Bulk(m.since);
    ctx.rb->Bulk("group");
    ctx.rb->Bulk(m.group);
    if (m.has_complexity) {
      ctx.rb->Bulk("complexity");
      ctx.rb->Bulk(m.complexity);
    }
    if (m.doc_flags) {
      ctx.rb->Bulk("doc_flags");
      ReplyBitSet(ctx, m.doc_flags, kDocFlagCount, DocFlagName);
    }
    if (!m.deprecated_since.empty()) {
      ctx.rb->Bulk("deprecated_since");
      ctx.rb->Bulk(m.deprecated_since);
    }
    if (!m.replaced_by.empty()) {
      ctx.rb->Bulk("replaced_by");
      ctx.rb->Bulk(m.replaced_by);
    }
    if (!m.history.empty()) {
      ctx.rb->Bulk("history");
      ctx.rb->SetHeader(m.history.size());
      for (const HistoryEntry& h : m.history) {
        ctx.rb->ArrayHeader(2);
        ctx.rb->Bulk(h.version);
        ctx.rb->Bulk(h.text);
      }
    }
    if (m.has_args) {
      ctx.rb->Bulk("arguments");
      ReplyCommandArgs(ctx, m.args);
    }
  }
  if (!c.subcommands.empty()) {
    ctx.rb->Bulk("subcommands");
    ctx.rb->MapHeader(c.subcommands.size());
    for (const CommandId& sub : c.subcommands) ReplyCommandDocs(ctx, sub);
  }
}

}  // namespace

void CmdPing(CommandContext& ctx) {
  if (ctx.args.size() > 2) {
    ReplyArityError(ctx);
    return;
  }
  // A RESP2 connection in subscribed mode gets ["pong", arg] (Redis).
  if (ctx.conn && ctx.conn->in_pubsub() && ctx.rb->protocol() == 2) {
    ctx.rb->ArrayHeader(2);
    ctx.rb->Bulk("pong");
    ctx.rb->Bulk(ctx.args.size() == 1 ? std::string_view() : ctx.args[1]);
    return;
  }
  if (ctx.args.size() == 1) {
    ctx.rb->SimpleString("PONG");
  } else {
    ctx.rb->Bulk(ctx.args[1]);
  }
}

void CmdEcho(CommandContext& ctx) { ctx.rb->Bulk(ctx.args[1]); }

void CmdHello(CommandContext& ctx) {
  Connection* c = ctx.conn;
  int64_t ver = 0;
  size_t next = 1;
  if (ctx.args.size() >= 2) {
    if (!ParseInt64(ctx.args[next++], &ver)) {
      ctx.rb->Error("ERR Protocol version is not an integer or out of range");
      return;
    }
    if (ver < 2 || ver > 3) {
      ctx.rb->Error("NOPROTO unsupported protocol version");
      return;
    }
  }
  std::string_view name;
  bool set_name = false;
  for (size_t j = next; j < ctx.args.size(); j++) {
    size_t more = ctx.args.size() - 1 - j;
    if (Is(ctx.args[j], "auth") && more >= 2) {
      // TODO(lattice): AUTH/ACL. Until then there is one user, "default",
      // with no password, and Redis accepts any password for such a user.
      if (ctx.args[j + 1] != "default") {
        ctx.rb->Error("WRONGPASS invalid username-password pair or user is disabled.");
        return;
      }
      j += 2;
    } else if (Is(ctx.args[j], "setname") && more) {
      name = ctx.args[++j];
      set_name = true;
    } else {
      ctx.rb->Error(StrCat("ERR Syntax error in HELLO option '", ctx.args[j], "'"));
      return;
    }
  }
  if (set_name) {
    if (!ValidClientName(name)) {
      ctx.rb->Error("ERR Client names cannot contain spaces, newlines or special characters.");
      return;
    }
    c->name = std::string(name);
  }
  if (ver) c->rb.set_protocol(static_cast<int>(ver));
  ctx.rb->MapHeader(7);
  ctx.rb->Bulk("server");
  ctx.rb->Bulk("redis");
  ctx.rb->Bulk("version");
  ctx.rb->Bulk(kCompatVersion);
  ctx.rb->Bulk("proto");
  ctx.rb->Integer(c->rb.protocol());
  ctx.rb->Bulk("id");
  ctx.rb->Integer(c->id);
  ctx.rb->Bulk("mode");
  ctx.rb->Bulk("standalone");
  ctx.rb->Bulk("role");
  ctx.rb->Bulk("master");
  ctx.rb->Bulk("modules");
  ctx.rb->ArrayHeader(0);
}

void CmdQuit(CommandContext& ctx) {
  ctx.rb->Ok();
  ctx.conn->close_after_reply = true;
}

void CmdSelect(CommandContext& ctx) {
  int id;
  if (!ArgDbIndex(ctx, ctx.args[1], &id)) return;
  ctx.conn->db = id;
  ctx.rb->Ok();
}

void CmdDbSize(CommandContext& ctx) {
  size_t n = 0;
  ForEachWorker(ctx, [&](Worker& w) { n += w.shard().db(ctx.db).size(); });
  ctx.rb->Integer(n);
}

void CmdFlushDb(CommandContext& ctx) { FlushGeneric(ctx, false); }
void CmdFlushAll(CommandContext& ctx) { FlushGeneric(ctx, true); }

void CmdInfo(CommandContext& ctx) {
  std::vector<std::string> wanted(ctx.args.begin() + 1, ctx.args.end());
  ctx.rb->Verbatim(InfoText(ctx, wanted));
}

void CmdConfigGet(CommandContext& ctx) {
  std::vector<std::string_view> patterns(ctx.args.begin() + 2, ctx.args.end());
  auto pairs = ConfigGet(ctx.server->config(), patterns);
  ctx.rb->MapHeader(pairs.size());
  for (const auto& [k, v] : pairs) {
    ctx.rb->Bulk(k);
    ctx.rb->Bulk(v);
  }
}

void CmdConfigSet(CommandContext& ctx) {
  if (ctx.args.size() % 2 != 0) {
    ReplyArityError(ctx);
    return;
  }
  // All or nothing, as Redis 7: apply to a copy, then swap it in.
  Config next = ctx.server->config();
  for (size_t i = 2; i < ctx.args.size(); i += 2) {
    std::string name(ctx.args[i]);
    for (size_t j = 2; j < i; j += 2) {
      if (EqualsIgnoreCase(ctx.args[j], name)) {
        ctx.rb->Error(StrCat("ERR CONFIG SET failed (possibly related to argument '", name,
                             "') - duplicate parameter"));
        return;
      }
    }
    absl::Status st = ApplyDirective(next, name, {std::string(ctx.args[i + 1])}, true);
    if (absl::IsNotFound(st)) {
      ctx.rb->Error(
          StrCat("ERR Unknown option or number of arguments for CONFIG SET - '", name, "'"));
      return;
    }
    if (!st.ok()) {
      ctx.rb->Error(StrCat("ERR CONFIG SET failed (possibly related to argument '", name, "') - ",
                           std::string(st.message())));
      return;
    }
  }
  bool bulk_changed = next.proto_max_bulk_len != ctx.server->config().proto_max_bulk_len;
  ctx.server->config() = next;
  ctx.server->ApplyRuntimeConfig();
  if (bulk_changed) {
    resp::ParserLimits limits;
    limits.max_bulk_len = next.proto_max_bulk_len;
    ForEachWorker(ctx, [&](Worker& w) {
      for (const auto& [id, conn] : w.connections()) conn->parser.set_limits(limits);
    });
  }
  ctx.rb->Ok();
}

void CmdConfigResetStat(CommandContext& ctx) {
  ctx.server->ResetStats();
  ctx.rb->Ok();
}

void CmdConfigHelp(CommandContext& ctx) {
  ReplyHelp(
      ctx, "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      {"GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
       "SET <directive> <value>", "    Set the configuration <directive> to <value>.", "RESETSTAT",
       "    Reset statistics reported by the INFO command."});
}

void CmdClientId(CommandContext& ctx) { ctx.rb->Integer(ctx.conn->id); }

void CmdClientSetName(CommandContext& ctx) {
  if (!ValidClientName(ctx.args[2])) {
    ctx.rb->Error("ERR Client names cannot contain spaces, newlines or special characters.");
    return;
  }
  ctx.conn->name = std::string(ctx.args[2]);
  ctx.rb->Ok();
}

void CmdClientGetName(CommandContext& ctx) {
  if (ctx.conn->name.empty()) {
    ctx.rb->Null();
  } else {
    ctx.rb->Bulk(ctx.conn->name);
  }
}

// ---- CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO ----

void CmdClientTracking(CommandContext& ctx) {
  Connection* c = ctx.conn;
  bool on;
  if (Is(ctx.args[2], "on")) {
    on = true;
  } else if (Is(ctx.args[2], "off")) {
    on = false;
  } else {
    ctx.rb->Error(errors::kSyntax);
    return;
  }
  bool bcast = false, optin = false, optout = false, noloop = false;
  uint64_t redirect = 0;
  std::vector<std::string> prefixes;
  for (size_t i = 3; i < ctx.args.size(); i++) {
    std::string_view a = ctx.args[i];
    bool more = i + 1 < ctx.args.size();
    if (Is(a, "redirect") && more) {
      int64_t id;
      if (!ParseInt64(ctx.args[++i], &id)) {
        ctx.rb->Error(errors::kNotInt);
        return;
      }
      if (id != static_cast<int64_t>(c->id) && !ctx.server->WorkerOfClient(id)) {
        ctx.rb->Error("ERR The client ID you want redirect to does not exist");
        return;
      }
      redirect = static_cast<uint64_t>(id);
    } else if (Is(a, "bcast")) {
      bcast = true;
    } else if (Is(a, "optin")) {
      optin = true;
    } else if (Is(a, "optout")) {
      optout = true;
    } else if (Is(a, "noloop")) {
      noloop = true;
    } else if (Is(a, "prefix") && more) {
      prefixes.emplace_back(ctx.args[++i]);
    } else {
      ctx.rb->Error(errors::kSyntax);
      return;
    }
  }
  Worker* w = ctx.origin;
  if (!on) {
    if (c->tracking.on) w->StopTracking(c);
    ctx.rb->Ok();
    return;
  }
  if (!bcast && !prefixes.empty()) {
    ctx.rb->Error("ERR PREFIX option requires BCAST mode to be enabled");
    return;
  }
  if (c->tracking.on && c->tracking.bcast != bcast) {
    ctx.rb->Error(
        "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and "
        "then re-enabling it with a different mode.");
    return;
  }
  if (optin && optout) {
    ctx.rb->Error("ERR You can't specify both OPTIN mode and OPTOUT mode");
    return;
  }
  if ((optin && c->tracking.optout) || (optout && c->tracking.optin)) {
    ctx.rb->Error(
        "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and "
        "then re-enabling it with a different mode.");
    return;
  }
  if (bcast && (optin || optout)) {
    ctx.rb->Error("ERR OPTIN and OPTOUT are not compatible with BCAST");
    return;
  }
  // Prefixes of one client may not overlap, among themselves or with the
  // ones it has (Redis's checkPrefixCollisionsOrReply).
  auto overlap = [](std::string_view a, std::string_view b) {
    size_t n = std::min(a.size(), b.size());
    return a.substr(0, n) == b.substr(0, n);
  };
  for (size_t i = 0; i < prefixes.size(); i++) {
    for (const std::string& have : c->tracking.prefixes) {
      if (have != prefixes[i] && overlap(have, prefixes[i])) {
        ctx.rb->Error(StrCat("ERR Prefix '", prefixes[i], "' overlaps with an existing prefix '",
                             have, "'. Prefixes for a single client must not overlap."));
        return;
      }
    }
    for (size_t j = i + 1; j < prefixes.size(); j++) {
      if (prefixes[i] != prefixes[j] && overlap(prefixes[i], prefixes[j])) {
        ctx.rb->Error(StrCat("ERR Prefix '", prefixes[i],
                             "' overlaps with another provided prefix '", prefixes[j],
                             "'. Prefixes for a single client must not overlap."));
        return;
      }
    }
  }
  TrackingState& t = c->tracking;
  t.on = true;
  t.bcast = bcast;
  t.optin = optin;
  t.optout = optout;
  t.noloop = noloop;
  t.redirect = redirect == c->id ? 0 : redirect;
  Worker* target_worker = t.redirect ? ctx.server->WorkerOfClient(t.redirect) : w;
  TrackedClient tc{w, c->id, noloop, target_worker ? target_worker : w,
                   t.redirect ? t.redirect : c->id};
  Tracking& tracking = ctx.server->tracking();
  tracking.Enable(tc);
  if (bcast) {
    if (prefixes.empty() && t.prefixes.empty()) prefixes.emplace_back();  // every key
    for (const std::string& p : prefixes) {
      if (std::find(t.prefixes.begin(), t.prefixes.end(), p) == t.prefixes.end()) {
        t.prefixes.push_back(p);
      }
    }
    for (const std::string& p : t.prefixes) tracking.AddPrefix(p, tc);
  }
  ctx.rb->Ok();
}

void CmdClientCaching(CommandContext& ctx) {
  TrackingState& t = ctx.conn->tracking;
  if (!t.on || (!t.optin && !t.optout)) {
    ctx.rb->Error(
        "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or "
        "OPTOUT mode enabled");
    return;
  }
  if (Is(ctx.args[2], "yes")) {
    if (!t.optin) {
      ctx.rb->Error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
      return;
    }
    t.caching = 1;
  } else if (Is(ctx.args[2], "no")) {
    if (!t.optout) {
      ctx.rb->Error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
      return;
    }
    t.caching = -1;
  } else {
    ctx.rb->Error(errors::kSyntax);
    return;
  }
  t.caching_pending = true;
  ctx.rb->Ok();
}

void CmdClientGetRedir(CommandContext& ctx) {
  const TrackingState& t = ctx.conn->tracking;
  ctx.rb->Integer(t.on ? static_cast<int64_t>(t.redirect) : -1);
}

void CmdClientTrackingInfo(CommandContext& ctx) {
  const TrackingState& t = ctx.conn->tracking;
  ctx.rb->MapHeader(3);
  ctx.rb->Bulk("flags");
  std::vector<std::string_view> flags;
  if (!t.on) {
    flags.push_back("off");
  } else {
    flags.push_back("on");
    if (t.bcast) flags.push_back("bcast");
    if (t.optin) flags.push_back("optin");
    if (t.optout) flags.push_back("optout");
    if (t.caching_pending && t.caching == 1) flags.push_back("caching-yes");
    if (t.caching_pending && t.caching == -1) flags.push_back("caching-no");
    if (t.noloop) flags.push_back("noloop");
    if (t.redirect && !ctx.server->WorkerOfClient(t.redirect)) flags.push_back("broken_redirect");
  }
  ctx.rb->SetHeader(static_cast<int64_t>(flags.size()));
  for (std::string_view f : flags) ctx.rb->Bulk(f);
  ctx.rb->Bulk("redirect");
  ctx.rb->Integer(t.on ? static_cast<int64_t>(t.redirect) : -1);
  ctx.rb->Bulk("prefixes");
  ctx.rb->ArrayHeader(static_cast<int64_t>(t.prefixes.size()));
  for (const std::string& p : t.prefixes) ctx.rb->Bulk(p);
}

void CmdClientInfo(CommandContext& ctx) { ctx.rb->Verbatim(ClientLine(*ctx.conn, ctx.now_ms)); }

void CmdClientList(CommandContext& ctx) {
  std::vector<uint64_t> ids;
  bool filter_ids = false;
  bool only_none = false;
  for (size_t i = 2; i < ctx.args.size(); i++) {
    if (Is(ctx.args[i], "id") && i + 1 < ctx.args.size()) {
      filter_ids = true;
      for (size_t j = i + 1; j < ctx.args.size(); j++) {
        int64_t id;
        if (!ParseInt64(ctx.args[j], &id) || id <= 0) {
          ctx.rb->Error("ERR Invalid client ID");
          return;
        }
        ids.push_back(id);
      }
      break;
    } else if (Is(ctx.args[i], "type") && i + 1 < ctx.args.size()) {
      std::string_view t = ctx.args[++i];
      if (!KnownClientType(t)) {
        ctx.rb->Error(StrCat("ERR Unknown client type '", t, "'"));
        return;
      }
      // Every client is a normal one until pub/sub and replicas exist.
      only_none = !Is(t, "normal");
    } else {
      ctx.rb->Error(errors::kSyntax);
      return;
    }
  }
  std::string out;
  ForEachWorker(ctx, [&](Worker& w) {
    for (const auto& [id, conn] : w.connections()) {
      if (only_none) continue;
      if (filter_ids && std::find(ids.begin(), ids.end(), id) == ids.end()) continue;
      out += ClientLine(*conn, ctx.now_ms);
    }
  });
  ctx.rb->Verbatim(out);
}

void CmdClientKill(CommandContext& ctx) {
  auto& a = ctx.args;
  // Old form: CLIENT KILL addr:port.
  if (a.size() == 3) {
    std::vector<Connection*> found;
    ForEachWorker(ctx, [&](Worker& w) {
      for (const auto& [id, conn] : w.connections()) {
        if (conn->addr == a[2]) found.push_back(conn.get());
      }
    });
    if (found.empty()) {
      ctx.rb->Error("ERR No such client");
      return;
    }
    for (Connection* c : found) RequestKill(ctx, c);
    ctx.rb->Ok();
    return;
  }
  int64_t want_id = 0;
  std::string_view want_addr, want_laddr;
  bool skipme = true;
  bool match_none = false;
  if (a.size() % 2 != 0) {
    ctx.rb->Error(errors::kSyntax);
    return;
  }
  for (size_t i = 2; i + 1 < a.size(); i += 2) {
    if (Is(a[i], "id")) {
      if (!ParseInt64(a[i + 1], &want_id) || want_id <= 0) {
        ctx.rb->Error("ERR client-id should be greater than 0");
        return;
      }
    } else if (Is(a[i], "addr")) {
      want_addr = a[i + 1];
    } else if (Is(a[i], "laddr")) {
      want_laddr = a[i + 1];
    } else if (Is(a[i], "type")) {
      if (!KnownClientType(a[i + 1])) {
        ctx.rb->Error(StrCat("ERR Unknown client type '", a[i + 1], "'"));
        return;
      }
      match_none = match_none || !Is(a[i + 1], "normal");
    } else if (Is(a[i], "user")) {
      // Every client is the default user until ACLs land.
      if (a[i + 1] != "default") {
        ctx.rb->Error(StrCat("ERR No such user '", a[i + 1], "'"));
        return;
      }
    } else if (Is(a[i], "skipme")) {
      if (Is(a[i + 1], "yes")) {
        skipme = true;
      } else if (Is(a[i + 1], "no")) {
        skipme = false;
      } else {
        ctx.rb->Error(errors::kSyntax);
        return;
      }
    } else {
      ctx.rb->Error(errors::kSyntax);
      return;
    }
  }
  int64_t killed = 0;
  ForEachWorker(ctx, [&](Worker& w) {
    for (const auto& [id, conn] : w.connections()) {
      if (match_none) continue;
      if (want_id && int64_t(id) != want_id) continue;
      if (!want_addr.empty() && conn->addr != want_addr) continue;
      if (!want_laddr.empty() && conn->laddr != want_laddr) continue;
      if (skipme && conn.get() == ctx.conn) continue;
      RequestKill(ctx, conn.get());
      killed++;
    }
  });
  ctx.rb->Integer(killed);
}

void CmdClientSetInfo(CommandContext& ctx) {
  std::string_view attr = ctx.args[2], val = ctx.args[3];
  if (!ValidClientName(val)) {
    ctx.rb->Error(StrCat("ERR ", attr, " cannot contain spaces, newlines or special characters."));
    return;
  }
  if (Is(attr, "lib-name")) {
    ctx.conn->lib_name = std::string(val);
  } else if (Is(attr, "lib-ver")) {
    ctx.conn->lib_ver = std::string(val);
  } else {
    ctx.rb->Error(StrCat("ERR Unrecognized option '", attr, "'"));
    return;
  }
  ctx.rb->Ok();
}

void CmdClientHelp(CommandContext& ctx) {
  ReplyHelp(
      ctx, "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      {"GETNAME", "    Return the name of the current connection.", "ID",
       "    Return the ID of the current connection.", "INFO",
       "    Return information about the current client connection.", "KILL <ip:port>",
       "    Kill connection made from <ip:port>.", "KILL <option> <value> [<option> <value> [...]]",
       "    Kill connections. Options are: ID, ADDR, LADDR, TYPE, USER, SKIPME.",
       "LIST [options ...]", "    Return information about client connections.",
       "SETINFO <option> <value>", "    Set client meta attr. Options are LIB-NAME, LIB-VER.",
       "SETNAME <name>", "    Assign the name <name> to the current connection."});
}

void CmdTime(CommandContext& ctx) {
  int64_t us = NowUs();
  ctx.rb->ArrayHeader(2);
  ctx.rb->Bulk(std::to_string(us / 1000000));
  ctx.rb->Bulk(std::to_string(us % 1000000));
}

void CmdCommand(CommandContext& ctx) {
  const auto& all = ctx.server->commands().all();
  ctx.rb->ArrayHeader(all.size());
  for (const auto& c : all) ReplyCommandInfo(ctx, *c);
}

void CmdCommandCount(CommandContext& ctx) { ctx.rb->Integer(ctx.server->commands().all().size()); }

void CmdCommandInfo(CommandContext& ctx) {
  const CommandTable& t = ctx.server->commands();
  if (ctx.args.size() == 2) return CmdCommand(ctx);
  ctx.rb->ArrayHeader(ctx.args.size() - 2);
  for (size_t i = 2; i < ctx.args.size(); i++) {
    const CommandId* c = FindByFullName(t, ctx.args[i]);
    if (c) {
      ReplyCommandInfo(ctx, *c);
    } else {
      ctx.rb->Null();  // Redis: addReplyNull, "$-1" in RESP2
    }
  }
}

void CmdCommandDocs(CommandContext& ctx) {
  const CommandTable& t = ctx.server->commands();
  std::vector<const CommandId*> cmds;
  if (ctx.args.size() == 2) {
    for (const auto& c : t.all()) cmds.push_back(c.get());
  } else {
    for (size_t i = 2; i < ctx.args.size(); i++) {
      if (const CommandId* c = FindByFullName(t, ctx.args[i])) cmds.push_back(c);
    }
  }
  ctx.rb->MapHeader(cmds.size());
  for (const CommandId* c : cmds) ReplyCommandDocs(ctx, *c);
}

void CmdCommandList(CommandContext& ctx) {
  const CommandTable& t = ctx.server->commands();
  std::string_view pattern;
  if (ctx.args.size() == 5 && Is(ctx.args[2], "filterby") && Is(ctx.args[3], "pattern")) {
    pattern = ctx.args[4];
  } else if (ctx.args.size() != 2) {
    ctx.rb->Error(errors::kSyntax);
    return;
  }
  std::vector<std::string> names;
  for (const auto& c : t.all()) {
    if (pattern.empty() || GlobMatch(pattern, c->fullname, true)) names.push_back(c->fullname);
    for (const auto& s : c->subcommands) {
      if (pattern.empty() || GlobMatch(pattern, s.fullname, true)) names.push_back(s.fullname);
    }
  }
  ctx.rb->ArrayHeader(names.size());
  for (const auto& n : names) ctx.rb->Bulk(n);
}

void CmdCommandGetKeys(CommandContext& ctx) {
  std::span<const std::string_view> sub = ctx.args.subspan(2);
  std::string err;
  const CommandId* c = ctx.server->commands().Resolve(sub, &err);
  if (!c) {
    ctx.rb->Error("ERR Invalid command specified");
    return;
  }
  if ((c->arity > 0 && int(sub.size()) != c->arity) || int(sub.size()) < -c->arity) {
    ctx.rb->Error("ERR Invalid number of arguments specified for command");
    return;
  }
  std::vector<size_t> pos = KeyPositions(*c, sub);
  if (pos.empty()) {
    ctx.rb->Error("ERR The command has no key arguments");
    return;
  }
  ctx.rb->ArrayHeader(pos.size());
  for (size_t p : pos) ctx.rb->Bulk(sub[p]);
}

void CmdCommandHelp(CommandContext& ctx) {
  ReplyHelp(ctx, "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            {"(no subcommand)", "    Return details about all Redis commands.", "COUNT",
             "    Return the total number of commands in this Redis server.", "LIST",
             "    Return a list of all commands in this Redis server.", "INFO [<command-name> ...]",
             "    Return details about multiple Redis commands.", "DOCS [<command-name> ...]",
             "    Return documentation details about multiple Redis commands.",
             "GETKEYS <full-command>", "    Return the keys from a full Redis command."});
}

// SAVE: the snapshot, written while every shard is paused (Redis's SAVE
// blocks too).
void CmdSave(CommandContext& ctx) {
  if (ctx.server->bg_job() == Server::BgJob::kRdb) {
    ctx.rb->Error("ERR Background save already in progress");
    return;
  }
  absl::Status st = ctx.server->SaveNow();
  if (!st.ok()) {
    ctx.rb->Error(StrCat("ERR ", std::string(st.message())));
    return;
  }
  ctx.rb->Ok();
}

// Runs in the exclusive section (the table's ALL flag), where a background
// save begins.
void CmdBgSave(CommandContext& ctx) {
  bool schedule = false;
  if (ctx.args.size() > 1) {
    if (ctx.args.size() == 2 && EqualsIgnoreCase(ctx.args[1], "schedule")) {
      schedule = true;
    } else {
      ctx.rb->Error(errors::kSyntax);
      return;
    }
  }
  Server& s = *ctx.server;
  Server::BgJob job = s.bg_job();
  if (job == Server::BgJob::kRdb) {
    ctx.rb->Error("ERR Background save already in progress");
    return;
  }
  if (job != Server::BgJob::kNone || ctx.in_exec) {
    if (schedule || ctx.in_exec) {
      s.bgsave_scheduled = true;
      ctx.rb->SimpleString("Background saving scheduled");
    } else {
      ctx.rb->Error(
          "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE "
          "SCHEDULE in order to schedule a BGSAVE whenever possible.");
    }
    return;
  }
  absl::Status st = s.StartBackgroundSave(Server::BgJob::kRdb);
  if (!st.ok()) {
    ctx.rb->Error(StrCat("ERR ", std::string(st.message())));
    return;
  }
  ctx.rb->SimpleString("Background saving started");
}

void CmdBgRewriteAof(CommandContext& ctx) {
  Server& s = *ctx.server;
  Server::BgJob job = s.bg_job();
  if (job == Server::BgJob::kAofRewrite) {
    ctx.rb->Error("ERR Background append only file rewriting already in progress");
    return;
  }
  if (!s.aof()) {
    // Redis rewrites into a log it does not use; here the log exists only
    // while appendonly is on (it is fixed at start).
    ctx.rb->Error("ERR Can't execute an AOF background rewriting: appendonly is no");
    return;
  }
  if (job != Server::BgJob::kNone || ctx.in_exec) {
    s.aof_rewrite_scheduled = true;
    ctx.rb->SimpleString("Background append only file rewriting scheduled");
    return;
  }
  absl::Status st = s.StartBackgroundSave(Server::BgJob::kAofRewrite);
  if (!st.ok()) {
    ctx.rb->Error(
        "ERR Can't execute an AOF background rewriting. Please check the server logs for more "
        "information.");
    return;
  }
  ctx.rb->SimpleString("Background append only file rewriting started");
}

// ---- MEMORY ----

namespace {

int64_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t pages_total = 0, pages_rss = 0;
  if (statm >> pages_total >> pages_rss) return pages_rss * sysconf(_SC_PAGESIZE);
  return 0;
}

// What one key costs: its entry (header, key, value or pointer, TTL), its
// bucket slot, and what the value owns (a counter's parts, a collection).
int64_t KeyBytes(const Entry& e) {
  int64_t n = static_cast<int64_t>(malloc_usable_size(const_cast<Entry*>(&e))) + sizeof(void*);
  if (e.enc() == Enc::kCounter) {
    const auto& parts = e.counter()->contributions();
    n += static_cast<int64_t>(sizeof(crdt::PnCounter) +
                              (parts.size() > 1 ? parts.capacity() * sizeof(parts[0]) : 0));
  }
  if (e.is_collection()) n += static_cast<int64_t>(e.collection()->MemoryUsage());
  return n;
}

}  // namespace

void CmdMemoryUsage(CommandContext& ctx) {
  for (size_t j = 3; j < ctx.args.size(); j++) {
    if (Is(ctx.args[j], "samples") && j + 1 < ctx.args.size()) {
      int64_t samples;
      if (!ParseInt64(ctx.args[j + 1], &samples)) {
        ctx.rb->Error(errors::kNotInt);
        return;
      }
      if (samples < 0) {
        ctx.rb->Error(errors::kSyntax);
        return;
      }
      j++;  // every element is counted: the figure is exact, not sampled
    } else {
      ctx.rb->Error(errors::kSyntax);
      return;
    }
  }
  Entry* e = LookupNoTouch(ctx, ctx.args[2]);
  if (!e) {
    ctx.rb->Null();
    return;
  }
  ctx.rb->Integer(KeyBytes(*e));
}

void CmdMemoryStats(CommandContext& ctx) {
  Server& s = *ctx.server;
  const int64_t used = mem::UsedBytes();
  const int64_t peak = s.NotePeakMemory(used);
  const int64_t rss = RssBytes();
  int64_t keys = 0, dataset = 0;
  std::vector<std::pair<int, std::pair<int64_t, int64_t>>> dbs;  // db, (main, expires) overhead
  int databases = ctx.server->worker(0).shard().databases();
  std::vector<int64_t> main_overhead(databases), expires_overhead(databases), db_keys(databases);
  ForEachWorker(ctx, [&](Worker& w) {
    for (int i = 0; i < databases; i++) {
      Db& db = w.shard().db(i);
      db.ForEach([&](const Entry& e) {
        keys++;
        dataset += KeyBytes(e);
      });
      db_keys[i] += static_cast<int64_t>(db.size());
      main_overhead[i] += static_cast<int64_t>(db.bucket_count() * sizeof(void*));
      expires_overhead[i] += static_cast<int64_t>(db.expires_size() * sizeof(void*));
    }
  });
  int64_t overhead = 0;
  for (int i = 0; i < databases; i++) overhead += main_overhead[i] + expires_overhead[i];
  const int64_t lua = LuaMemoryAllThreads() + static_cast<int64_t>(s.scripting().bytes());
  const int64_t startup = s.startup_memory();
  overhead += startup + lua;
  int shown_dbs = 0;
  for (int i = 0; i < databases; i++) shown_dbs += db_keys[i] > 0;
  ctx.rb->MapHeader(17 + shown_dbs);
  auto num = [&](std::string_view name, int64_t v) {
    ctx.rb->Bulk(name);
    ctx.rb->Integer(v);
  };
  auto dbl = [&](std::string_view name, double v) {
    ctx.rb->Bulk(name);
    ctx.rb->Double(v);
  };
  num("peak.allocated", peak);
  num("total.allocated", used);
  num("startup.allocated", startup);
  num("replication.backlog", 0);
  num("clients.normal", 0);
  num("aof.buffer", 0);
  num("lua.caches", lua);
  num("functions.caches", 0);
  for (int i = 0; i < databases; i++) {
    if (db_keys[i] == 0) continue;
    ctx.rb->Bulk(StrCat("db.", i));
    ctx.rb->MapHeader(2);
    num("overhead.hashtable.main", main_overhead[i]);
    num("overhead.hashtable.expires", expires_overhead[i]);
  }
  num("overhead.total", overhead);
  num("keys.count", keys);
  num("keys.bytes-per-key", keys ? (used - startup) / keys : 0);
  num("dataset.bytes", dataset);
  dbl("dataset.percentage", used > startup ? 100.0 * double(dataset) / double(used - startup) : 0);
  dbl("peak.percentage", peak ? 100.0 * double(used) / double(peak) : 0);
  num("allocator.resident", rss);
  dbl("fragmentation", used ? double(rss) / double(used) : 0);
  num("fragmentation.bytes", rss - used);
}

void CmdMemoryDoctor(CommandContext& ctx) {
  Server& s = *ctx.server;
  const int64_t used = mem::UsedBytes();
  const int64_t peak = s.NotePeakMemory(used);
  const int64_t rss = RssBytes();
  const int64_t maxmemory = s.config().maxmemory;
  std::vector<std::string> issues;
  if (used < (5 << 20)) {
    ctx.rb->Verbatim(
        "This instance holds too little data (under 5 MB) for a memory report to say anything "
        "useful. Load some data and ask again.");
    return;
  }
  if (peak > used * 3 / 2) {
    issues.push_back(absl::StrFormat(
        " * Peak memory: the peak (%.1f MB) is over 1.5 times what is in use now (%.1f MB): "
        "much of the process's RSS may be free memory the allocator keeps; MEMORY PURGE gives "
        "back what it can.",
        peak / 1048576.0, used / 1048576.0));
  }
  if (rss > used * 14 / 10 && rss - used > (10 << 20)) {
    issues.push_back(absl::StrFormat(
        " * Fragmentation: the resident size (%.1f MB) is %.2f times the memory in use: freed "
        "memory the allocator has not returned. MEMORY PURGE may help.",
        rss / 1048576.0, double(rss) / double(used)));
  }
  if (maxmemory > 0 && used > maxmemory * 9 / 10) {
    issues.push_back(absl::StrFormat(
        " * Near maxmemory: %.1f MB in use of %.1f MB allowed; with policy %s %s.",
        used / 1048576.0, maxmemory / 1048576.0, s.config().maxmemory_policy,
        s.config().maxmemory_policy == "noeviction" ? "writes that need memory will be refused"
                                                    : "keys are being evicted"));
  }
  if (issues.empty()) {
    ctx.rb->Verbatim("No memory problem found: usage, peak and fragmentation look normal.");
    return;
  }
  std::string out = "Memory report: these are worth a look.\n\n";
  for (const std::string& i : issues) out += i + "\n\n";
  ctx.rb->Verbatim(out);
}

void CmdMemoryMallocStats(CommandContext& ctx) {
  ctx.rb->Verbatim("Stats not supported for the current allocator");
}

void CmdMemoryPurge(CommandContext& ctx) {
  malloc_trim(0);
  ctx.rb->Ok();
}

void CmdMemoryHelp(CommandContext& ctx) {
  ReplyHelp(ctx, "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            {"DOCTOR",
             "    Return memory problems reports.",
             "MALLOC-STATS",
             "    Return internal statistics report from the memory allocator.",
             "PURGE",
             "    Attempt to purge dirty pages for reclamation by the allocator.",
             "STATS",
             "    Return information about the memory usage of the server.",
             "USAGE <key> [SAMPLES <count>]",
             "    Return memory in bytes used by <key> and its value. Nested values are",
             "    sampled up to <count> times (default: 5, 0 means sample all)."});
}

void CmdLastSave(CommandContext& ctx) { ctx.rb->Integer(ctx.server->last_save_unix.load()); }

void CmdShutdown(CommandContext& ctx) {
  bool save = false, nosave = false, abort = false, other = false;
  for (size_t i = 1; i < ctx.args.size(); i++) {
    std::string_view a = ctx.args[i];
    if (Is(a, "nosave")) {
      nosave = true;
    } else if (Is(a, "save")) {
      save = true;
    } else if (Is(a, "now") || Is(a, "force")) {
      other = true;
    } else if (Is(a, "abort")) {
      abort = true;
    } else {
      ctx.rb->Error(errors::kSyntax);
      return;
    }
  }
  if ((abort && (save || nosave || other)) || (save && nosave)) {
    ctx.rb->Error(errors::kSyntax);
    return;
  }
  if (abort) {
    ctx.rb->Error("ERR No shutdown in progress.");
    return;
  }
  ctx.server->Log(Server::kWarning, "User requested shutdown...");
  // As Redis: a snapshot first when asked (SAVE) or when save points are
  // configured, unless NOSAVE; if it fails, no shutdown.
  if (save || (!nosave && !ctx.server->config().save.empty())) {
    ctx.server->Log(Server::kNotice, "Saving the final snapshot before exiting.");
    bool saved = false;
    ctx.origin->RunExclusive([&] { saved = ctx.server->SaveNow().ok(); });
    if (!saved) {
      ctx.rb->Error("ERR Errors trying to SHUTDOWN. Check logs.");
      return;
    }
  }
  ctx.server->Shutdown();
  // Redis closes the connection without a reply on success.
  ctx.conn->close_after_reply = true;
}

}  // namespace lattice::node
