#include "node/pubsub.h"

#include <algorithm>
#include <memory>

#include "node/glob.h"
#include "node/server.h"

namespace lattice::node {

void PubSub::Subscribe(Kind kind, std::string_view name, Worker* w, uint64_t conn_id) {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<Sub>& v = subs_[kind][std::string(name)];
  Sub s{w, conn_id};
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

void PubSub::Unsubscribe(Kind kind, std::string_view name, Worker* w, uint64_t conn_id) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = subs_[kind].find(std::string(name));
  if (it == subs_[kind].end()) return;
  std::vector<Sub>& v = it->second;
  v.erase(std::remove(v.begin(), v.end(), Sub{w, conn_id}), v.end());
  if (v.empty()) subs_[kind].erase(it);
}

int64_t PubSub::Publish(std::string_view channel, std::string_view message, bool shard,
                        uint64_t self_conn) {
  struct Target {
    Sub sub;
    Worker::PushKind kind;
    std::string pattern;
  };
  std::vector<Target> targets;
  {
    std::lock_guard<std::mutex> l(mu_);
    published_++;
    if (shard) {
      auto it = subs_[kShard].find(absl::string_view(channel.data(), channel.size()));
      if (it != subs_[kShard].end()) {
        for (const Sub& s : it->second) targets.push_back({s, Worker::PushKind::kSMessage, {}});
      }
    } else {
      auto it = subs_[kChannel].find(absl::string_view(channel.data(), channel.size()));
      if (it != subs_[kChannel].end()) {
        for (const Sub& s : it->second) targets.push_back({s, Worker::PushKind::kMessage, {}});
      }
      for (const auto& [pattern, subs] : subs_[kPattern]) {
        if (!GlobMatch(pattern, channel)) continue;
        for (const Sub& s : subs) targets.push_back({s, Worker::PushKind::kPMessage, pattern});
      }
    }
  }
  Worker* here = CurrentWorker();
  // A channel message is encoded once per protocol for this worker's
  // subscribers (a pattern message per pattern: rarer).
  std::string resp2, resp3;
  // Other workers get one task each, carrying one copy of the message.
  struct Shared {
    std::string channel, message;
  };
  std::shared_ptr<Shared> shared;
  for (const Target& t : targets) {
    if (t.sub.worker == here) {
      if (t.kind == Worker::PushKind::kPMessage) {
        here->DeliverPush(t.sub.conn_id, t.kind, t.pattern, channel, message,
                          t.sub.conn_id != self_conn);
        continue;
      }
      if (resp2.empty()) {
        resp2 = EncodePush(2, t.kind, {}, channel, message);
        resp3 = EncodePush(3, t.kind, {}, channel, message);
      }
      here->DeliverEncoded(t.sub.conn_id, resp2, resp3, t.sub.conn_id != self_conn);
      continue;
    }
    if (!shared) shared = std::make_shared<Shared>(Shared{std::string(channel), std::string(message)});
    Worker* w = t.sub.worker;
    w->Post([w, shared, id = t.sub.conn_id, kind = t.kind, pattern = t.pattern] {
      w->DeliverPush(id, kind, pattern, shared->channel, shared->message, true);
    });
  }
  return static_cast<int64_t>(targets.size());
}

std::vector<std::string> PubSub::Names(Kind kind, std::string_view pattern) const {
  std::vector<std::string> out;
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [name, subs] : subs_[kind]) {
    if (pattern.empty() || GlobMatch(pattern, name)) out.push_back(name);
  }
  return out;
}

int64_t PubSub::Count(Kind kind, std::string_view name) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = subs_[kind].find(std::string(name));
  return it == subs_[kind].end() ? 0 : static_cast<int64_t>(it->second.size());
}

int64_t PubSub::patterns() const {
  std::lock_guard<std::mutex> l(mu_);
  return static_cast<int64_t>(subs_[kPattern].size());
}

uint64_t PubSub::published() const {
  std::lock_guard<std::mutex> l(mu_);
  return published_;
}

}  // namespace lattice::node
