#include "node/tracking.h"

#include <algorithm>
#include <memory>

#include "node/server.h"

namespace lattice::node {

thread_local uint64_t tls_running_client = 0;
std::atomic<bool> g_keys_tracked{false};

namespace {
// The node whose clients track keys (one per process: tests that run
// several nodes in one process do not use tracking).
std::atomic<Tracking*> g_tracking{nullptr};
}  // namespace

void NotifyKeyChanged(std::string_view key) {
  if (Tracking* t = g_tracking.load(std::memory_order_acquire)) t->KeyChanged(key, tls_running_client);
}

namespace {

void AddUnique(std::vector<TrackedClient>& v, const TrackedClient& c) {
  for (TrackedClient& have : v) {
    if (have == c) {
      have = c;  // newer settings (redirect, noloop)
      return;
    }
  }
  v.push_back(c);
}

void RemoveClient(std::vector<TrackedClient>& v, Worker* w, uint64_t id) {
  v.erase(std::remove_if(v.begin(), v.end(),
                         [&](const TrackedClient& c) { return c.worker == w && c.conn_id == id; }),
          v.end());
}

}  // namespace

void Tracking::Remember(std::string_view key, const TrackedClient& client) {
  std::lock_guard<std::mutex> l(mu_);
  AddUnique(keys_[std::string(key)], client);
}

void Tracking::AddPrefix(std::string_view prefix, const TrackedClient& client) {
  std::lock_guard<std::mutex> l(mu_);
  AddUnique(prefixes_[std::string(prefix)], client);
}

void Tracking::RemovePrefix(std::string_view prefix, Worker* worker, uint64_t conn_id) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = prefixes_.find(std::string(prefix));
  if (it == prefixes_.end()) return;
  RemoveClient(it->second, worker, conn_id);
  if (it->second.empty()) prefixes_.erase(it);
}

void Tracking::Enable(const TrackedClient& client) {
  std::lock_guard<std::mutex> l(mu_);
  AddUnique(clients_, client);
  active_.store(true, std::memory_order_relaxed);
  g_tracking.store(this, std::memory_order_release);
  g_keys_tracked.store(true, std::memory_order_relaxed);
}

void Tracking::Disable(Worker* worker, uint64_t conn_id) {
  std::lock_guard<std::mutex> l(mu_);
  RemoveClient(clients_, worker, conn_id);
  // Its default-mode entries go when their keys change (Redis leaves them
  // too); delivery skips a connection that no longer tracks.
}

void Tracking::KeyChanged(std::string_view key, uint64_t writer) {
  std::vector<TrackedClient> to;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!keys_.empty()) {
      auto it = keys_.find(std::string(key));
      if (it != keys_.end()) {
        to = std::move(it->second);
        keys_.erase(it);
      }
    }
    for (const auto& [prefix, clients] : prefixes_) {
      if (key.substr(0, prefix.size()) != prefix) continue;
      to.insert(to.end(), clients.begin(), clients.end());
    }
  }
  if (writer != 0) {
    to.erase(std::remove_if(to.begin(), to.end(),
                            [&](const TrackedClient& c) {
                              return c.noloop && c.conn_id == writer;
                            }),
             to.end());
  }
  if (!to.empty()) Deliver(to, key, false, writer);
}

void Tracking::Flushed() {
  std::vector<TrackedClient> to;
  {
    std::lock_guard<std::mutex> l(mu_);
    to = clients_;
    keys_.clear();
  }
  if (!to.empty()) Deliver(to, {}, true, tls_running_client);
}

uint64_t Tracking::tracked_keys() const {
  std::lock_guard<std::mutex> l(mu_);
  return keys_.size();
}

void Tracking::Deliver(const std::vector<TrackedClient>& to, std::string_view key, bool flush,
                       uint64_t writer) {
  Worker* here = CurrentWorker();
  std::shared_ptr<std::string> copy;
  for (const TrackedClient& c : to) {
    Worker* w = c.target_worker;
    if (w == here && !InExclusiveSection()) {
      w->DeliverInvalidation(c.conn_id, c.target_id, key, flush, c.target_id == writer);
      continue;
    }
    if (!copy) copy = std::make_shared<std::string>(key);
    w->Post([w, copy, source = c.conn_id, target = c.target_id, flush, own = c.target_id == writer] {
      w->DeliverInvalidation(source, target, *copy, flush, own);
    });
  }
}

}  // namespace lattice::node
