// File: node/config.h
//
// Server configuration in redis.conf form: a file of `directive value...`
// lines plus `--directive value` overrides on the command line, applied in
// that order, as redis-server does. The same table serves CONFIG GET/SET.
//
// Thread-safety: Config is read by every worker thread and written only by
// CONFIG SET, which runs in the exclusive section (all workers paused), or
// before the workers start.
#ifndef LATTICE_NODE_CONFIG_H_
#define LATTICE_NODE_CONFIG_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace lattice::node {

struct Config {
  int port = 6379;
  std::vector<std::string> bind = {"127.0.0.1", "-::1"};
  int threads = 0;  // 0: one per CPU this process may run on
  std::string dir = ".";
  int maxclients = 10000;
  int databases = 16;
  int64_t proto_max_bulk_len = 512LL * 1024 * 1024;
  // Collection encodings (Redis's thresholds; mirrored into
  // g_encoding_limits, which the shards read).
  int64_t hash_max_listpack_entries = 128;
  int64_t hash_max_listpack_value = 64;
  int64_t set_max_intset_entries = 512;
  // HyperLogLog: a sparse HLL growing past this many bytes turns dense.
  int64_t hll_sparse_max_bytes = 3000;
  int64_t client_query_buffer_limit = 1024LL * 1024 * 1024;
  std::string loglevel = "notice";
  std::string logfile = "";
  bool daemonize = false;
  std::string pidfile = "";
  int timeout = 0;
  int tcp_keepalive = 300;
  int tcp_backlog = 511;
  int hz = 10;
  int64_t busy_reply_threshold = 5000;  // ms; also lua-time-limit
  // ms a stream entry waits on a replicating node before XREAD and
  // XREADGROUP > return it (docs/consistency.md, "Streams").
  int64_t stream_read_delay = 100;
  // Redis's classes and limits, as words: class hard soft seconds ...
  std::vector<std::string> client_output_buffer_limit = {
      "normal", "0", "0", "0", "slave", "268435456", "67108864", "60",
      "pubsub", "33554432", "8388608", "60"};
  int64_t maxmemory = 0;
  std::string maxmemory_policy = "noeviction";
  int maxmemory_samples = 5;
  int maxmemory_eviction_tenacity = 10;
  int lfu_log_factor = 10;
  int lfu_decay_time = 1;
  // Redis 7's save points (seconds, changes): a background snapshot when
  // that many writes happened in that many seconds.
  std::string save = "3600 1 300 100 60 10000";
  bool save_from_file = false;  // a config file or flag set `save` already
  // The snapshot file, in `dir` (node/persist/snapshot.h).
  std::string dbfilename = "dump.rdb";
  std::string appendonly = "no";
  // The append-only log (node/persist/aof.h): its directory in `dir`, the
  // base name of its files, the fsync policy, and whether a torn last
  // record is dropped at load.
  std::string appenddirname = "appendonlydir";
  std::string appendfilename = "appendonly.aof";
  // BGREWRITEAOF by itself once the log grew this much (percent) over the
  // base it had after the last rewrite, and is at least this big.
  int auto_aof_rewrite_percentage = 100;
  int64_t auto_aof_rewrite_min_size = 64ll << 20;
  std::string appendfsync = "everysec";
  bool aof_load_truncated = true;
  // Refuse writes (MISCONF) while the last background save failed and save
  // points are set, as Redis does.
  bool stop_writes_on_bgsave_error = true;
  // DEL acts as UNLINK, FLUSHALL/FLUSHDB without a mode as ASYNC.
  bool lazyfree_lazy_user_del = false;
  bool lazyfree_lazy_user_flush = false;
  std::string node_id = "";  // stable name; stored in dir when not configured
  std::string zone = "default";
  int peer_port = -1;  // -1: port + 10000; 0: no peer service (standalone only)
  std::vector<std::string> seeds;  // host:peer-port of nodes to join through
  std::string consistency = "eventual";
  int metrics_port = 0;  // 0: no Prometheus endpoint
  int64_t repl_backlog_size = 64LL * 1024 * 1024;
  std::string announce_ip = "";  // address peers and clients reach us at
  int anti_entropy_interval = 30;  // seconds between rounds; 0: only on demand
  std::string replication_stream = "yes";  // "no": deltas stay in the log
  int replicas = 3;  // copies of each key; 0 ("all"): every member holds every key
  // Hot-key replication (node/cluster/hot_replication.h): a key read here at least
  // hot_key_factor times the cluster's mean rate per key, and at least
  // hot_key_min_rate reads/s, gains an extra replica here; at most
  // hot_key_max keys at once.
  bool hot_key_replication = true;
  bool lua_shard_local = false;  // see "lua-shard-local" in config.cc
  std::string notify_keyspace_events = "";  // canonical, as CONFIG GET prints it
  int hot_key_factor = 100;
  int hot_key_min_rate = 100;
  int hot_key_max = 256;

  // `replicas` as written in a config: "all" or the number.
  std::string ReplicasText() const {
    return replicas == 0 ? std::string("all") : std::to_string(replicas);
  }
  int ResolvedPeerPort() const { return peer_port < 0 ? port + 10000 : peer_port; }
  std::string config_file;  // absolute path, "" when none

  int ResolvedThreads() const;
};

// Parses `argv` as redis-server does: an optional config file path first
// (anything not starting with "--"), then `--name value...` overrides.
// Returns the config or an error whose message is ready to print.
absl::StatusOr<Config> LoadConfig(int argc, char** argv);

// Applies one directive with its arguments (already split). `at_runtime`
// rejects immutable directives.
absl::Status ApplyDirective(Config& config, std::string_view name,
                            const std::vector<std::string>& args, bool at_runtime);

// CONFIG GET: (name, value) pairs for every directive matching any pattern,
// each name once.
std::vector<std::pair<std::string, std::string>> ConfigGet(
    const Config& config, const std::vector<std::string_view>& patterns);

// Parses "1gb", "512mb", "100k", "123" as Redis's memtoull. Returns false on
// a malformed value.
bool ParseMemory(std::string_view s, int64_t* out);

// Splits a config line with redis.conf quoting rules (sdssplitargs).
// Returns false on unbalanced quotes.
bool SplitConfigLine(std::string_view line, std::vector<std::string>* out);

}  // namespace lattice::node

#endif  // LATTICE_NODE_CONFIG_H_
