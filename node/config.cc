#include "node/config.h"

#include <sched.h>
#include <unistd.h>

#include <cctype>
#include <climits>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "node/glob.h"
#include "node/notify.h"
#include "node/storage/collection.h"
#include "node/str_util.h"

namespace lattice::node {

namespace {

enum class Kind { kInt, kMemory, kBool, kString, kEnum, kList };

struct Param {
  std::string_view name;
  Kind kind;
  bool immutable;
  int64_t min = 0;
  int64_t max = INT_MAX;
  std::vector<std::string_view> choices = {};
  std::function<std::string(const Config&)> get;
  std::function<void(Config&, const std::vector<std::string>&, int64_t)> set;
};

std::string MemToString(int64_t v) { return std::to_string(v); }

const std::vector<Param>& Params() {
  static const auto* params = new std::vector<Param>{
      {"port",
       Kind::kInt,
       true,
       0,
       65535,
       {},
       [](const Config& c) { return std::to_string(c.port); },
       [](Config& c, const auto&, int64_t v) { c.port = int(v); }},
      {"bind",
       Kind::kList,
       true,
       0,
       0,
       {},
       [](const Config& c) { return StrJoin(c.bind, " "); },
       [](Config& c, const auto& a, int64_t) { c.bind = a; }},
      {"threads",
       Kind::kInt,
       true,
       0,
       256,
       {},
       [](const Config& c) { return std::to_string(c.threads); },
       [](Config& c, const auto&, int64_t v) { c.threads = int(v); }},
      // Immutable until something reads it at runtime (Redis chdirs).
      {"dir",
       Kind::kString,
       true,
       0,
       0,
       {},
       [](const Config& c) { return c.dir; },
       [](Config& c, const auto& a, int64_t) { c.dir = a[0]; }},
      // Only the pubsub class is enforced (subscribers' output).
      {"client-output-buffer-limit",
       Kind::kList,
       false,
       0,
       0,
       {},
       [](const Config& c) { return StrJoin(c.client_output_buffer_limit, " "); },
       [](Config& c, const auto& a, int64_t) {
         // CONFIG SET gives one class at a time; merge it into the rest.
         std::vector<std::string> words;
         for (const std::string& arg : a) {
           std::istringstream in(arg);
           std::string w;
           while (in >> w) words.push_back(ToLower(w));
         }
         for (size_t i = 0; i + 3 < words.size(); i += 4) {
           std::string cls = words[i] == "replica" ? "slave" : words[i];
           auto& v = c.client_output_buffer_limit;
           for (size_t j = 0; j + 3 < v.size(); j += 4) {
             if (v[j] != cls) continue;
             int64_t n;
             for (int k = 1; k <= 3; k++) {
               v[j + k] = ParseMemory(words[i + k], &n) ? std::to_string(n) : v[j + k];
             }
           }
         }
       }},
      {"stream-read-delay",
       Kind::kInt,
       false,
       0,
       60000,
       {},
       [](const Config& c) { return std::to_string(c.stream_read_delay); },
       [](Config& c, const auto&, int64_t v) { c.stream_read_delay = v; }},
      // Redis 7 renamed lua-time-limit; both names set one value.
      {"busy-reply-threshold",
       Kind::kInt,
       false,
       0,
       LLONG_MAX,
       {},
       [](const Config& c) { return std::to_string(c.busy_reply_threshold); },
       [](Config& c, const auto&, int64_t v) { c.busy_reply_threshold = v; }},
      {"lua-time-limit",
       Kind::kInt,
       false,
       0,
       LLONG_MAX,
       {},
       [](const Config& c) { return std::to_string(c.busy_reply_threshold); },
       [](Config& c, const auto&, int64_t v) { c.busy_reply_threshold = v; }},
      {"maxclients",
       Kind::kInt,
       false,
       1,
       INT_MAX,
       {},
       [](const Config& c) { return std::to_string(c.maxclients); },
       [](Config& c, const auto&, int64_t v) { c.maxclients = int(v); }},
      {"databases",
       Kind::kInt,
       true,
       1,
       INT_MAX,
       {},
       [](const Config& c) { return std::to_string(c.databases); },
       [](Config& c, const auto&, int64_t v) { c.databases = int(v); }},
      {"proto-max-bulk-len",
       Kind::kMemory,
       false,
       1024 * 1024,
       UINT32_MAX,
       {},
       [](const Config& c) { return MemToString(c.proto_max_bulk_len); },
       [](Config& c, const auto&, int64_t v) { c.proto_max_bulk_len = v; }},
      {"hash-max-listpack-entries",
       Kind::kInt,
       false,
       0,
       LLONG_MAX,
       {},
       [](const Config& c) { return std::to_string(c.hash_max_listpack_entries); },
       [](Config& c, const auto&, int64_t v) {
         c.hash_max_listpack_entries = v;
         g_encoding_limits.hash_max_listpack_entries = v;
       }},
      {"hash-max-listpack-value",
       Kind::kMemory,
       false,
       0,
       LLONG_MAX,
       {},
       [](const Config& c) { return MemToString(c.hash_max_listpack_value); },
       [](Config& c, const auto&, int64_t v) {
         c.hash_max_listpack_value = v;
         g_encoding_limits.hash_max_listpack_value = v;
       }},
      {"set-max-intset-entries",
       Kind::kInt,
       false,
       0,
       LLONG_MAX,
       {},
       [](const Config& c) { return std::to_string(c.set_max_intset_entries); },
       [](Config& c, const auto&, int64_t v) {
         c.set_max_intset_entries = v;
         g_encoding_limits.set_max_intset_entries = v;
       }},
      {"hll-sparse-max-bytes",
       Kind::kMemory,
       false,
       0,
       LLONG_MAX,
       {},
       [](const Config& c) { return MemToString(c.hll_sparse_max_bytes); },
       [](Config& c, const auto&, int64_t v) { c.hll_sparse_max_bytes = v; }},
      // Sorted sets: the limits live in g_encoding_limits only.
      {"zset-max-listpack-entries",
       Kind::kInt,
       false,
       0,
       LLONG_MAX,
       {},
       [](const Config&) { return std::to_string(g_encoding_limits.zset_max_listpack_entries); },
       [](Config&, const auto&, int64_t v) { g_encoding_limits.zset_max_listpack_entries = v; }},
      {"zset-max-listpack-value",
       Kind::kMemory,
       false,
       0,
       LLONG_MAX,
       {},
       [](const Config&) { return MemToString(g_encoding_limits.zset_max_listpack_value); },
       [](Config&, const auto&, int64_t v) { g_encoding_limits.zset_max_listpack_value = v; }},
      {"client-query-buffer-limit",
       Kind::kMemory,
       false,
       1024 * 1024,
       LLONG_MAX,
       {},
       [](const Config& c) { return MemToString(c.client_query_buffer_limit); },
       [](Config& c, const auto&, int64_t v) { c.client_query_buffer_limit = v; }},
      {"loglevel",
       Kind::kEnum,
       false,
       0,
       0,
       {"debug", "verbose", "notice", "warning", "nothing"},
       [](const Config& c) { return c.loglevel; },
       [](Config& c, const auto& a, int64_t) { c.loglevel = ToLower(a[0]); }},
      {"logfile",
       Kind::kString,
       true,
       0,
       0,
       {},
       [](const Config& c) { return c.logfile; },
       [](Config& c, const auto& a, int64_t) { c.logfile = a[0]; }},
      {"daemonize",
       Kind::kBool,
       true,
       0,
       0,
       {},
       [](const Config& c) { return std::string(c.daemonize ? "yes" : "no"); },
       [](Config& c, const auto&, int64_t v) { c.daemonize = v; }},
      {"pidfile",
       Kind::kString,
       true,
       0,
       0,
       {},
       [](const Config& c) { return c.pidfile; },
       [](Config& c, const auto& a, int64_t) { c.pidfile = a[0]; }},
      {"timeout",
       Kind::kInt,
       false,
       0,
       INT_MAX,
       {},
       [](const Config& c) { return std::to_string(c.timeout); },
       [](Config& c, const auto&, int64_t v) { c.timeout = int(v); }},
      {"tcp-keepalive",
       Kind::kInt,
       false,
       0,
       INT_MAX,
       {},
       [](const Config& c) { return std::to_string(c.tcp_keepalive); },
       [](Config& c, const auto&, int64_t v) { c.tcp_keepalive = int(v); }},
      {"tcp-backlog",
       Kind::kInt,
       true,
       0,
       INT_MAX,
       {},
       [](const Config& c) { return std::to_string(c.tcp_backlog); },
       [](Config& c, const auto&, int64_t v) { c.tcp_backlog = int(v); }},
      {"hz",
       Kind::kInt,
       false,
       1,
       500,
       {},
       [](const Config& c) { return std::to_string(c.hz); },
       [](Config& c, const auto&, int64_t v) { c.hz = int(v); }},
      // Eviction (node/evict.h).
      {"maxmemory",
       Kind::kMemory,
       false,
       0,
       LLONG_MAX,
       {},
       [](const Config& c) { return MemToString(c.maxmemory); },
       [](Config& c, const auto&, int64_t v) { c.maxmemory = v; }},
      {"maxmemory-policy",
       Kind::kEnum,
       false,
       0,
       0,
       {"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru",
        "allkeys-lfu", "allkeys-random", "noeviction"},
       [](const Config& c) { return c.maxmemory_policy; },
       [](Config& c, const auto& a, int64_t) { c.maxmemory_policy = ToLower(a[0]); }},
      {"maxmemory-samples",
       Kind::kInt,
       false,
       1,
       64,
       {},
       [](const Config& c) { return std::to_string(c.maxmemory_samples); },
       [](Config& c, const auto&, int64_t v) { c.maxmemory_samples = int(v); }},
      {"maxmemory-eviction-tenacity",
       Kind::kInt,
       false,
       0,
       100,
       {},
       [](const Config& c) { return std::to_string(c.maxmemory_eviction_tenacity); },
       [](Config& c, const auto&, int64_t v) { c.maxmemory_eviction_tenacity = int(v); }},
      {"lfu-log-factor",
       Kind::kInt,
       false,
       0,
       INT_MAX,
       {},
       [](const Config& c) { return std::to_string(c.lfu_log_factor); },
       [](Config& c, const auto&, int64_t v) { c.lfu_log_factor = int(v); }},
      {"lfu-decay-time",
       Kind::kInt,
       false,
       0,
       INT_MAX,
       {},
       [](const Config& c) { return std::to_string(c.lfu_decay_time); },
       [](Config& c, const auto&, int64_t v) { c.lfu_decay_time = int(v); }},
      {"save",
       Kind::kList,
       false,
       0,
       0,
       {},
       [](const Config& c) { return c.save; },
       [](Config& c, const auto& a, int64_t) { c.save = StrJoin(a, " "); }},
      // Immutable: CONFIG SET would let a client write files by any name.
      {"dbfilename",
       Kind::kString,
       true,
       0,
       0,
       {},
       [](const Config& c) { return c.dbfilename; },
       [](Config& c, const auto& a, int64_t) { c.dbfilename = a[0]; }},
      // Immutable for now: turning the log on at runtime needs a base
      // written in the background (BGREWRITEAOF), which is not built yet.
      {"appendonly",
       Kind::kEnum,
       true,
       0,
       0,
       {"no", "yes"},
       [](const Config& c) { return c.appendonly; },
       [](Config& c, const auto& a, int64_t) { c.appendonly = ToLower(a[0]); }},
      {"auto-aof-rewrite-percentage",
       Kind::kInt,
       false,
       0,
       INT_MAX,
       {},
       [](const Config& c) { return std::to_string(c.auto_aof_rewrite_percentage); },
       [](Config& c, const auto&, int64_t v) { c.auto_aof_rewrite_percentage = int(v); }},
      {"auto-aof-rewrite-min-size",
       Kind::kMemory,
       false,
       0,
       LLONG_MAX,
       {},
       [](const Config& c) { return MemToString(c.auto_aof_rewrite_min_size); },
       [](Config& c, const auto&, int64_t v) { c.auto_aof_rewrite_min_size = v; }},
      {"appendfsync",
       Kind::kEnum,
       false,
       0,
       0,
       {"always", "everysec", "no"},
       [](const Config& c) { return c.appendfsync; },
       [](Config& c, const auto& a, int64_t) { c.appendfsync = ToLower(a[0]); }},
      // Immutable: as dbfilename, a client must not pick file names.
      {"appenddirname",
       Kind::kString,
       true,
       0,
       0,
       {},
       [](const Config& c) { return c.appenddirname; },
       [](Config& c, const auto& a, int64_t) { c.appenddirname = a[0]; }},
      {"appendfilename",
       Kind::kString,
       true,
       0,
       0,
       {},
       [](const Config& c) { return c.appendfilename; },
       [](Config& c, const auto& a, int64_t) { c.appendfilename = a[0]; }},
      {"lazyfree-lazy-user-del",
       Kind::kBool,
       false,
       0,
       0,
       {},
       [](const Config& c) { return std::string(c.lazyfree_lazy_user_del ? "yes" : "no"); },
       [](Config& c, const auto&, int64_t v) { c.lazyfree_lazy_user_del = v; }},
      {"lazyfree-lazy-user-flush",
       Kind::kBool,
       false,
       0,
       0,
       {},
       [](const Config& c) { return std::string(c.lazyfree_lazy_user_flush ? "yes" : "no"); },
       [](Config& c, const auto&, int64_t v) { c.lazyfree_lazy_user_flush = v; }},
      {"stop-writes-on-bgsave-error",
       Kind::kBool,
       false,
       0,
       0,
       {},
       [](const Config& c) { return std::string(c.stop_writes_on_bgsave_error ? "yes" : "no"); },
       [](Config& c, const auto&, int64_t v) { c.stop_writes_on_bgsave_error = v; }},
      {"aof-load-truncated",
       Kind::kBool,
       false,
       0,
       0,
       {},
       [](const Config& c) { return std::string(c.aof_load_truncated ? "yes" : "no"); },
       [](Config& c, const auto&, int64_t v) { c.aof_load_truncated = v; }},
      {"node-id",
       Kind::kString,
       true,
       0,
       0,
       {},
       [](const Config& c) { return c.node_id; },
       [](Config& c, const auto& a, int64_t) { c.node_id = a[0]; }},
      {"zone",
       Kind::kString,
       true,
       0,
       0,
       {},
       [](const Config& c) { return c.zone; },
       [](Config& c, const auto& a, int64_t) { c.zone = a[0]; }},
      {"peer-port",
       Kind::kInt,
       true,
       -1,
       65535,
       {},
       [](const Config& c) { return std::to_string(c.ResolvedPeerPort()); },
       [](Config& c, const auto&, int64_t v) { c.peer_port = int(v); }},
      {"seeds",
       Kind::kList,
       true,
       0,
       0,
       {},
       [](const Config& c) { return StrJoin(c.seeds, " "); },
       [](Config& c, const auto& a, int64_t) { c.seeds = a; }},
      {"consistency",
       Kind::kEnum,
       true,
       0,
       0,
       {"eventual", "causal"},
       [](const Config& c) { return c.consistency; },
       [](Config& c, const auto& a, int64_t) { c.consistency = ToLower(a[0]); }},
      {"metrics-port",
       Kind::kInt,
       true,
       0,
       65535,
       {},
       [](const Config& c) { return std::to_string(c.metrics_port); },
       [](Config& c, const auto&, int64_t v) { c.metrics_port = int(v); }},
      {"repl-backlog-size",
       Kind::kMemory,
       true,
       1024 * 1024,
       LLONG_MAX,
       {},
       [](const Config& c) { return MemToString(c.repl_backlog_size); },
       [](Config& c, const auto&, int64_t v) { c.repl_backlog_size = v; }},
      {"anti-entropy-interval",
       Kind::kInt,
       false,
       0,
       86400,
       {},
       [](const Config& c) { return std::to_string(c.anti_entropy_interval); },
       [](Config& c, const auto&, int64_t v) { c.anti_entropy_interval = int(v); }},
      {"replication-stream",
       Kind::kEnum,
       false,
       0,
       0,
       {"yes", "no"},
       [](const Config& c) { return c.replication_stream; },
       [](Config& c, const auto& a, int64_t) { c.replication_stream = ToLower(a[0]); }},
      {"replicas",
       Kind::kInt,
       true,
       0,
       255,
       {},
       [](const Config& c) { return c.ReplicasText(); },
       [](Config& c, const auto&, int64_t v) { c.replicas = int(v); }},
      // no: a script runs with every shard stopped (it may touch any key,
      // as on Redis); yes: a script whose declared keys share a shard runs
      // on that shard alone and may touch only its keys.
      {"lua-shard-local",
       Kind::kBool,
       false,
       0,
       0,
       {},
       [](const Config& c) { return std::string(c.lua_shard_local ? "yes" : "no"); },
       [](Config& c, const auto&, int64_t v) { c.lua_shard_local = v != 0; }},
      {"notify-keyspace-events",
       Kind::kString,
       false,
       0,
       0,
       {},
       [](const Config& c) { return c.notify_keyspace_events; },
       [](Config& c, const auto& a, int64_t) {
         uint32_t flags = 0;
         ParseNotifyFlags(a.empty() ? "" : a[0], &flags);
         c.notify_keyspace_events = NotifyFlagsText(flags);
       }},
      {"hot-key-replication",
       Kind::kBool,
       false,
       0,
       0,
       {},
       [](const Config& c) { return std::string(c.hot_key_replication ? "yes" : "no"); },
       [](Config& c, const auto&, int64_t v) { c.hot_key_replication = v != 0; }},
      {"hot-key-factor",
       Kind::kInt,
       false,
       2,
       1000000,
       {},
       [](const Config& c) { return std::to_string(c.hot_key_factor); },
       [](Config& c, const auto&, int64_t v) { c.hot_key_factor = int(v); }},
      {"hot-key-min-rate",
       Kind::kInt,
       false,
       1,
       100000000,
       {},
       [](const Config& c) { return std::to_string(c.hot_key_min_rate); },
       [](Config& c, const auto&, int64_t v) { c.hot_key_min_rate = int(v); }},
      {"hot-key-max",
       Kind::kInt,
       false,
       0,
       4096,
       {},
       [](const Config& c) { return std::to_string(c.hot_key_max); },
       [](Config& c, const auto&, int64_t v) { c.hot_key_max = int(v); }},
      {"announce-ip",
       Kind::kString,
       true,
       0,
       0,
       {},
       [](const Config& c) { return c.announce_ip; },
       [](Config& c, const auto& a, int64_t) { c.announce_ip = a[0]; }},
  };
  return *params;
}

const Param* FindParam(std::string_view name) {
  for (const Param& p : Params()) {
    if (EqualsIgnoreCase(p.name, name)) return &p;
  }
  return nullptr;
}

}  // namespace

int Config::ResolvedThreads() const {
  if (threads > 0) return threads;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

bool ParseMemory(std::string_view s, int64_t* out) {
  std::string lower = ToLower(s);
  int64_t mul = 1;
  auto suffix = [&](std::string_view suf, int64_t m) {
    if (lower.size() > suf.size() && lower.ends_with(suf)) {
      lower.resize(lower.size() - suf.size());
      mul = m;
      return true;
    }
    return false;
  };
  suffix("kb", 1024) || suffix("mb", 1024LL * 1024) || suffix("gb", 1024LL * 1024 * 1024) ||
      suffix("k", 1000) || suffix("m", 1000LL * 1000) || suffix("g", 1000LL * 1000 * 1000) ||
      suffix("b", 1);
  if (lower.empty()) return false;
  for (char c : lower) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  uint64_t v;
  if (!absl::SimpleAtoi(lower, &v)) return false;
  if (v > uint64_t(LLONG_MAX) / uint64_t(mul)) return false;
  *out = int64_t(v) * mul;
  return true;
}

bool SplitConfigLine(std::string_view line, std::vector<std::string>* out) {
  out->clear();
  size_t i = 0;
  auto is_hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  auto hex = [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (std::tolower(c) - 'a' + 10);
  };
  while (true) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) i++;
    if (i >= line.size()) return true;
    std::string cur;
    bool inq = false, insq = false, done = false;
    while (!done) {
      if (inq) {
        if (i >= line.size()) return false;
        if (line[i] == '\\' && i + 3 < line.size() && line[i + 1] == 'x' && is_hex(line[i + 2]) &&
            is_hex(line[i + 3])) {
          cur.push_back(char(hex(line[i + 2]) * 16 + hex(line[i + 3])));
          i += 3;
        } else if (line[i] == '\\' && i + 1 < line.size()) {
          i++;
          char c = line[i];
          cur.push_back(c == 'n'   ? '\n'
                        : c == 'r' ? '\r'
                        : c == 't' ? '\t'
                        : c == 'b' ? '\b'
                        : c == 'a' ? '\a'
                                   : c);
        } else if (line[i] == '"') {
          if (i + 1 < line.size() && !std::isspace(static_cast<unsigned char>(line[i + 1])))
            return false;
          done = true;
        } else {
          cur.push_back(line[i]);
        }
      } else if (insq) {
        if (i >= line.size()) return false;
        if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '\'') {
          i++;
          cur.push_back('\'');
        } else if (line[i] == '\'') {
          if (i + 1 < line.size() && !std::isspace(static_cast<unsigned char>(line[i + 1])))
            return false;
          done = true;
        } else {
          cur.push_back(line[i]);
        }
      } else {
        if (i >= line.size()) {
          done = true;
          break;
        }
        char c = line[i];
        if (std::isspace(static_cast<unsigned char>(c))) {
          done = true;
        } else if (c == '"') {
          inq = true;
        } else if (c == '\'') {
          insq = true;
        } else {
          cur.push_back(c);
        }
      }
      if (i < line.size()) i++;
    }
    out->push_back(std::move(cur));
  }
}

absl::Status ApplyDirective(Config& config, std::string_view name,
                            const std::vector<std::string>& args, bool at_runtime) {
  const Param* p = FindParam(name);
  if (!p) return absl::NotFoundError("Bad directive or wrong number of arguments");
  if (at_runtime && p->immutable)
    return absl::FailedPreconditionError("can't set immutable config");
  if (p->kind != Kind::kList && args.size() != 1) {
    return absl::InvalidArgumentError("wrong number of arguments");
  }
  int64_t v = 0;
  // `replicas all` (every member holds every key) is stored as 0.
  std::vector<std::string> all_args;
  if (EqualsIgnoreCase(p->name, "replicas") && args.size() == 1 && EqualsIgnoreCase(args[0], "all")) {
    all_args = {"0"};
  }
  if (!all_args.empty()) {
    p->set(config, all_args, 0);
    return absl::OkStatus();
  }
  if (EqualsIgnoreCase(p->name, "replicas") && args.size() == 1 && args[0] == "0") {
    return absl::InvalidArgumentError("argument must be 'all' or between 1 and 255");
  }
  if (EqualsIgnoreCase(p->name, "dbfilename") && args.size() == 1 &&
      (args[0].empty() || args[0].find('/') != std::string::npos)) {
    return absl::InvalidArgumentError("dbfilename can't be a path, just a filename");
  }
  if (EqualsIgnoreCase(p->name, "appendfilename") && args.size() == 1 &&
      (args[0].empty() || args[0].find('/') != std::string::npos)) {
    return absl::InvalidArgumentError("appendfilename can't be a path, just a filename");
  }
  if (EqualsIgnoreCase(p->name, "appenddirname") && args.size() == 1 &&
      (args[0].empty() || args[0].find('/') != std::string::npos)) {
    return absl::InvalidArgumentError("appenddirname can't be a path, just a dirname");
  }
  if (EqualsIgnoreCase(p->name, "save")) {
    // Pairs of <seconds> <changes>; "" turns the save points off. As in
    // Redis, several `save` lines of one config file add up, replacing the
    // defaults, while CONFIG SET replaces the whole list.
    std::vector<std::string> words;
    for (const std::string& a : args) {
      std::string w;
      for (char ch : a + " ") {
        if (ch == ' ') {
          if (!w.empty()) words.push_back(std::move(w));
          w.clear();
        } else {
          w += ch;
        }
      }
    }
    if (words.size() % 2 != 0) return absl::InvalidArgumentError("Invalid save parameters");
    for (const std::string& w : words) {
      int64_t n;
      if (!absl::SimpleAtoi(w, &n) || n < 0) return absl::InvalidArgumentError("Invalid save parameters");
    }
    std::string joined = StrJoin(words, " ");
    if (!at_runtime && config.save_from_file && !config.save.empty() && !joined.empty()) {
      config.save += " " + joined;
    } else {
      config.save = joined;
    }
    config.save_from_file = !at_runtime;
    return absl::OkStatus();
  }
  uint32_t notify;
  if (EqualsIgnoreCase(p->name, "notify-keyspace-events") &&
      !ParseNotifyFlags(args.empty() ? "" : args[0], &notify)) {
    return absl::InvalidArgumentError(
        "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
  }
  switch (p->kind) {
    case Kind::kInt:
      if (!absl::SimpleAtoi(args[0], &v)) {
        return absl::InvalidArgumentError("argument couldn't be parsed into an integer");
      }
      if (v < p->min || v > p->max) {
        return absl::InvalidArgumentError(
            StrCat("argument must be between ", p->min, " and ", p->max, " inclusive"));
      }
      break;
    case Kind::kMemory:
      if (!ParseMemory(args[0], &v)) {
        return absl::InvalidArgumentError("argument must be a memory value");
      }
      if (v < p->min || v > p->max) {
        return absl::InvalidArgumentError(
            StrCat("argument must be between ", p->min, " and ", p->max, " inclusive"));
      }
      break;
    case Kind::kBool: {
      std::string s = ToLower(args[0]);
      if (s == "yes") {
        v = 1;
      } else if (s != "no") {
        return absl::InvalidArgumentError("argument must be 'yes' or 'no'");
      }
      break;
    }
    case Kind::kEnum: {
      bool ok = false;
      for (auto c : p->choices) ok = ok || EqualsIgnoreCase(c, args[0]);
      if (!ok)
        return absl::InvalidArgumentError("argument(s) must be one of the following: " +
                                          StrJoin(p->choices, ", "));
      break;
    }
    case Kind::kString:
    case Kind::kList:
      break;
  }
  p->set(config, args, v);
  return absl::OkStatus();
}

absl::StatusOr<Config> LoadConfig(int argc, char** argv) {
  Config config;
  std::string text;
  int i = 1;
  if (i < argc && !std::string_view(argv[i]).starts_with("--")) {
    std::string path = argv[i++];
    std::ifstream in(path);
    if (!in) return absl::NotFoundError(StrCat("Fatal error, can't open config file '", path, "'"));
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
    char abs[PATH_MAX];
    config.config_file = realpath(path.c_str(), abs) ? abs : path;
  }
  // Command-line overrides become config lines appended after the file.
  std::string overrides;
  for (; i < argc; i++) {
    std::string_view a = argv[i];
    if (a.starts_with("--")) {
      if (!overrides.empty()) overrides += "\n";
      overrides += a.substr(2);
    } else {
      std::string quoted = "\"";
      for (char c : a) {
        if (c == '"' || c == '\\') quoted += '\\';
        quoted += c;
      }
      overrides += " " + quoted + "\"";
    }
  }
  std::string all = text + "\n" + overrides;
  std::istringstream lines(all);
  std::string line;
  int lineno = 0;
  std::vector<std::string> words;
  while (std::getline(lines, line)) {
    lineno++;
    std::string_view sv = line;
    while (!sv.empty() && std::isspace(static_cast<unsigned char>(sv.front()))) sv.remove_prefix(1);
    while (!sv.empty() && std::isspace(static_cast<unsigned char>(sv.back()))) sv.remove_suffix(1);
    if (sv.empty() || sv[0] == '#') continue;
    auto fail = [&](std::string_view why) {
      return absl::InvalidArgumentError(StrCat(
          "\n*** FATAL CONFIG FILE ERROR (Lattice) ***\nReading the configuration file, at line ",
          lineno, "\n>>> '", sv, "'\n", why));
    };
    if (!SplitConfigLine(sv, &words)) return fail("Unbalanced quotes in configuration line");
    if (words.empty()) continue;
    std::string name = ToLower(words[0]);
    std::vector<std::string> args(words.begin() + 1, words.end());
    if (name == "include") continue;  // TODO(lattice): follow include files.
    absl::Status st = ApplyDirective(config, name, args, false);
    if (!st.ok()) return fail(std::string(st.message()));
  }
  return config;
}

std::vector<std::pair<std::string, std::string>> ConfigGet(
    const Config& config, const std::vector<std::string_view>& patterns) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Param& p : Params()) {
    for (auto pat : patterns) {
      if (GlobMatch(pat, p.name, true)) {
        out.emplace_back(std::string(p.name), p.get(config));
        break;
      }
    }
  }
  return out;
}

}  // namespace lattice::node
