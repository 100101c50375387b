// lattice-server: starts a node from a redis.conf-style file and
// `--directive value` overrides, as redis-server does.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <cstring>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "node/cluster/replication.h"
#include "node/config.h"
#include "node/persist/aof.h"
#include "node/memory.h"
#include "node/persist/rdb_import.h"
#include "node/persist/snapshot.h"
#include "node/server.h"
#include "node/str_util.h"

using lattice::node::StrCat;

namespace {

// Raises the open-files limit so maxclients can be honoured (Redis's
// adjustOpenFilesLimit), and lowers maxclients when the kernel refuses.
void AdjustOpenFiles(lattice::node::Config& config) {
  rlim_t want = static_cast<rlim_t>(config.maxclients) + 32;
  rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur >= want) return;
  rlimit next = lim;
  next.rlim_cur = std::min(want, lim.rlim_max);
  if (setrlimit(RLIMIT_NOFILE, &next) != 0) next.rlim_cur = lim.rlim_cur;
  if (next.rlim_cur < want) {
    config.maxclients = static_cast<int>(next.rlim_cur) - 32;
    std::fprintf(stderr,
                 "You requested maxclients of %d requiring at least %d max file descriptors; "
                 "lowered maxclients to %d\n",
                 int(want - 32), int(want), config.maxclients);
  }
}

// A node's name must survive restarts (its writes and tombstones carry its
// id). Unless configured, it is generated once and kept in the data dir.
// Whether the file at `path` is a Redis dump ("REDIS" and a version).
bool IsRedisDump(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[5] = {};
  return in.read(head, 5) && std::string_view(head, 5) == "REDIS";
}

bool ResolveNodeName(lattice::node::Config& config) {
  if (!config.node_id.empty() || config.ResolvedPeerPort() == 0) return true;
  const char* kFile = "lattice-node.id";
  std::ifstream in(kFile);
  std::string name;
  if (in && std::getline(in, name) && !name.empty()) {
    config.node_id = name;
    return true;
  }
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rd()));
  name = StrCat("node-", buf);
  std::ofstream out(kFile);
  out << name << "\n";
  if (!out) {
    std::fprintf(stderr, "Can't write %s in '%s': %s\n", kFile, config.dir.c_str(),
                 std::strerror(errno));
    return false;
  }
  config.node_id = name;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  // gRPC locks absl::Mutex on every call; Debian's abseil tracks lock order
  // for deadlock detection on each acquisition, which a server does not need
  // (it showed in profiles of forwarded commands).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (argc == 2 &&
      (std::string_view(argv[1]) == "--version" || std::string_view(argv[1]) == "-v")) {
    std::printf("lattice-server v=0.1.0 (Redis protocol 7.0 compatible)\n");
    return 0;
  }
  if (argc == 2 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
    std::printf(
        "Usage: lattice-server [/path/to/lattice.conf] [--directive value ...]\n"
        "Example: lattice-server --port 7777 --threads 2\n");
    return 0;
  }
  auto config = lattice::node::LoadConfig(argc, argv);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", std::string(config.status().message()).c_str());
    return 1;
  }
  AdjustOpenFiles(*config);
  if (config->daemonize) {
    if (daemon(1, 0) != 0) {
      std::perror("daemon");
      return 1;
    }
  }
  if (!config->dir.empty() && chdir(config->dir.c_str()) != 0) {
    std::fprintf(stderr, "Can't chdir to '%s': %s\n", config->dir.c_str(), strerror(errno));
    return 1;
  }
  if (!ResolveNodeName(*config)) return 1;
  signal(SIGPIPE, SIG_IGN);
  // Signals are taken by a dedicated thread so workers never see them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  lattice::node::Server server(*config);
  // MEMORY STATS's startup.allocated: what the server holds with no data.
  server.set_startup_memory(lattice::node::mem::UsedBytes());
  // The snapshot, before any client or peer is served (in `dir`, where
  // the process now runs).
  // With the append-only log on, an existing log is the node's data (as
  // Redis, dump.rdb is then ignored); without one yet, dump.rdb is loaded
  // and becomes the log's first base.
  const bool aof_on = config->appendonly == "yes";
  bool aof_exists = false;
  if (aof_on) {
    struct stat sb;
    aof_exists = ::stat(StrCat(config->appenddirname, "/", config->appendfilename, ".manifest").c_str(),
                        &sb) == 0;
  }
  bool restored = false;  // the data came from this node's own files
  std::map<uint32_t, uint64_t> applied;
  if (!aof_exists) {
    auto t0 = std::chrono::steady_clock::now();
    lattice::node::SnapshotInfo info;
    absl::Status loaded;
    if (IsRedisDump(config->dbfilename)) {
      // Moving from Redis: its dump.rdb, built key by key through the
      // commands (node/persist/rdb_import.h).
      lattice::node::RdbImportInfo rdb;
      loaded = lattice::node::ImportRdbFile(server, config->dbfilename, &rdb);
      if (loaded.ok()) {
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        server.Log(lattice::node::Server::kNotice,
                   StrCat("DB loaded from a Redis dump file: ", absl::StrFormat("%.3f", secs),
                          " seconds, ", rdb.keys, " keys (", rdb.expired, " expired skipped), ",
                          rdb.functions, " function libraries"));
        // Not this node's own file: no clock, marks or tombstones came with it.
        restored = false;
      } else {
        server.Log(lattice::node::Server::kWarning, std::string(loaded.message()));
        return 1;
      }
    } else if ((loaded = lattice::node::LoadSnapshot(server, config->dbfilename, &info)).ok()) {
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      server.Log(lattice::node::Server::kNotice,
                 StrCat("DB loaded from disk: ", absl::StrFormat("%.3f", secs), " seconds, ",
                        info.keys, " keys"));
      restored = true;
    } else if (!absl::IsNotFound(loaded)) {
      server.Log(lattice::node::Server::kWarning, std::string(loaded.message()));
      return 1;
    }
  }
  server.last_save_unix = lattice::node::NowMs() / 1000;
  if (aof_on) {
    auto t0 = std::chrono::steady_clock::now();
    auto log = std::make_unique<lattice::node::AppendLog>(&server);
    lattice::node::AofLoadInfo info;
    absl::Status opened = log->Open(&info);
    if (!opened.ok()) {
      server.Log(lattice::node::Server::kWarning, std::string(opened.message()));
      return 1;
    }
    if (info.from_log) {
      restored = true;
      applied = info.applied;
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      server.Log(lattice::node::Server::kNotice,
                 StrCat("DB loaded from append only file: ", absl::StrFormat("%.3f", secs),
                        " seconds, ", info.base_keys, " keys in the base, ", info.records,
                        " deltas replayed"));
    } else {
      server.Log(lattice::node::Server::kNotice,
                 StrCat("Created the append-only log in ", config->appenddirname, ", its base ",
                        info.base_keys, " keys"));
    }
    server.set_aof(std::move(log));
  }
  if (restored) server.set_restored(std::move(applied));
  absl::Status st = server.Listen();
  if (st.ok()) st = server.StartCluster();
  if (!st.ok()) {
    server.Log(lattice::node::Server::kWarning, std::string(st.message()));
    return 1;
  }
  std::string pidfile = config->pidfile;
  if (pidfile.empty() && config->daemonize)
    pidfile = "/var/run/lattice_" + std::to_string(config->port) + ".pid";
  if (!pidfile.empty()) {
    std::ofstream(pidfile) << getpid() << "\n";
  }
  server.Log(lattice::node::Server::kNotice,
             StrCat("Lattice 0.1.0 started, port=", config->port, " threads=", server.shard_count(),
                    " pid=", getpid()));
  server.Log(lattice::node::Server::kNotice, "Ready to accept connections tcp");
  server.Start();
  int exit_code = 0;
  std::thread signals([&server, set] {
    int sig = 0;
    sigwait(&set, &sig);
    if (server.running()) {
      server.Log(
          lattice::node::Server::kWarning,
          StrCat("Received ", sig == SIGINT ? "SIGINT" : "SIGTERM", " scheduling shutdown..."));
      server.shutdown_by_signal = true;
      server.Shutdown();
    }
  });
  server.Wait();
  // A background save still copying stops here; its temporary file goes.
  server.StopBackgroundSave();
  // SIGTERM/SIGINT with save points configured: the final snapshot, now
  // that every worker stopped (SHUTDOWN saved before it stopped them).
  if (server.shutdown_by_signal && !config->save.empty()) {
    server.Log(lattice::node::Server::kNotice, "Saving the final snapshot before exiting.");
    if (!server.SaveNow().ok()) exit_code = 1;
  }
  // The log's last writes reach the disk whatever the policy (Redis
  // fsyncs the AOF at shutdown too).
  if (server.aof()) {
    absl::Status synced = server.aof()->SyncAll();
    if (!synced.ok()) {
      server.Log(lattice::node::Server::kWarning, std::string(synced.message()));
      exit_code = 1;
    }
    server.aof()->Stop();
  }
  server.StopCluster();
  server.Log(lattice::node::Server::kWarning, "Lattice is now ready to exit, bye bye...");
  if (!pidfile.empty()) unlink(pidfile.c_str());
  // The signal thread may still be parked in sigwait: leave without joining.
  signals.detach();
  std::fflush(stdout);
  _exit(exit_code);
}
