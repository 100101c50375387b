// File: node/tracking.h
//
// Client-side caching (CLIENT TRACKING): which clients must be told when a
// key changes. In the default mode the node remembers, per key, the
// tracking clients that read it (a read remembers its keys before it runs,
// so a write racing with it on another shard is never missed); a change
// tells each of them once and forgets them, as Redis's tracking table
// does. In BCAST mode a client registers prefixes and hears of every
// changed key under one. The change itself is seen where the keyspace
// changes (Db::Touch: local writes, expiry, deltas and repairs merged from
// peers), so a key changed on another node invalidates the caches of this
// node's clients once the delta arrives (docs/consistency.md, "Client-side
// caching").
//
// Thread-safety: every method may be called from any thread (one mutex);
// KeyChanged is called from shard threads and the exclusive section.
#ifndef LATTICE_NODE_TRACKING_H_
#define LATTICE_NODE_TRACKING_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace lattice::node {

class Server;
class Worker;

// What CLIENT TRACKING set on a connection (kept on the Connection).
struct TrackingState {
  bool on = false;
  bool bcast = false;
  bool optin = false;
  bool optout = false;
  bool noloop = false;
  uint64_t redirect = 0;
  std::vector<std::string> prefixes;
  // CLIENT CACHING yes/no, for the next command only: 0 none, 1 yes, -1 no.
  int caching = 0;
  bool caching_pending = false;  // set by CLIENT CACHING, cleared after the next command
};

// The client a change is reported to: the tracking connection, and the one
// that receives its messages (itself, or its REDIRECT target).
struct TrackedClient {
  Worker* worker;
  uint64_t conn_id;
  bool noloop;
  Worker* target_worker;
  uint64_t target_id;
  bool operator==(const TrackedClient& o) const {
    return worker == o.worker && conn_id == o.conn_id;
  }
};

class Tracking {
 public:
  explicit Tracking(Server* server) : server_(server) {}

  // Default mode: `client` read `key`.
  void Remember(std::string_view key, const TrackedClient& client);
  // BCAST mode: registers / drops a client's prefix.
  void AddPrefix(std::string_view prefix, const TrackedClient& client);
  void RemovePrefix(std::string_view prefix, Worker* worker, uint64_t conn_id);

  // A key changed; `writer` is the connection whose command changed it on
  // this node (0: a peer's delta, an expiry). Tells the clients concerned.
  void KeyChanged(std::string_view key, uint64_t writer);
  // FLUSHDB / FLUSHALL (here or from a peer): every tracking client is told
  // to drop its whole cache.
  void Flushed();
  // Connections that turned tracking on (Flushed tells them all).
  void Enable(const TrackedClient& client);
  void Disable(Worker* worker, uint64_t conn_id);

  // Whether any client tracks anything (checked before taking the lock).
  bool active() const { return active_.load(std::memory_order_relaxed); }
  uint64_t tracked_keys() const;

 private:
  void Deliver(const std::vector<TrackedClient>& to, std::string_view key, bool flush,
               uint64_t writer);

  Server* server_;
  std::atomic<bool> active_{false};
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, std::vector<TrackedClient>> keys_;
  absl::flat_hash_map<std::string, std::vector<TrackedClient>> prefixes_;
  std::vector<TrackedClient> clients_;
};

// The connection whose command runs on this thread now (0: none), for
// NOLOOP.
extern thread_local uint64_t tls_running_client;

}  // namespace lattice::node

#endif  // LATTICE_NODE_TRACKING_H_
