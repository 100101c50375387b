#include "node/cluster/forward.h"

#include "node/notify.h"

#include <condition_variable>
#include <mutex>
#include <string_view>
#include <vector>

#include "gossip/dial.h"
#include "node/command_table.h"
#include "node/server.h"
#include "node/str_util.h"
#include "resp/reply_builder.h"

namespace lattice::node {

thread_local const crdt::VersionVector* tls_forwarded_seen = nullptr;

namespace {

// Makes `seen` the forwarded causality of commands run in this scope.
struct ForwardedScope {
  explicit ForwardedScope(const crdt::VersionVector* seen) : prev(tls_forwarded_seen) {
    tls_forwarded_seen = seen;
  }
  ~ForwardedScope() { tls_forwarded_seen = prev; }
  const crdt::VersionVector* prev;
};

// Runs fn on worker `w`'s thread and waits until it ran or the worker's loop
// ended (shutdown; then it never runs). Returns whether it ran.
bool RunOn(Worker& w, const std::function<void()>& fn) {
  struct Wait {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
  };
  auto wait = std::make_shared<Wait>();
  w.Post([wait, &fn] {
    fn();
    std::lock_guard<std::mutex> l(wait->mu);
    wait->done = true;
    wait->cv.notify_all();
  });
  std::unique_lock<std::mutex> l(wait->mu);
  while (!wait->done) {
    if (w.exited_.load()) return false;
    wait->cv.wait_for(l, std::chrono::milliseconds(100));
  }
  return true;
}

}  // namespace

grpc::Status Forwarder::Forward(const peer::ForwardRequest& req, peer::ForwardReply* reply) {
  if ((req.args_size() == 0 && req.commands_size() == 0) || req.args_size() > 1024 * 1024 ||
      req.commands_size() > 1024 * 1024) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad argument count");
  }
  if (req.db() >= static_cast<uint32_t>(server_->config().databases)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "database out of range");
  }
  const int db = static_cast<int>(req.db());
  const int proto = req.protocol() == 3 ? 3 : 2;
  // Refused before anything ran: the sender may take it to another holder,
  // write or not (UNAVAILABLE below means a command may have run).
  if (!server_->running()) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "leaving; not run");
  }
  if (req.clock() > 0) server_->clock().Observe(crdt::Stamp{req.clock(), 0});
  crdt::VersionVector seen;
  for (const peer::VersionEntry& e : req.seen()) {
    if (e.node_id() != 0) seen.Observe(e.node_id(), e.counter());
  }
  const crdt::VersionVector* hint = req.seen_size() > 0 ? &seen : nullptr;
  if (req.commands_size() > 0) {
    std::vector<std::vector<std::string_view>> commands;
    for (const peer::ForwardCommand& fc : req.commands()) {
      if (fc.args_size() == 0 || fc.args_size() > 1024 * 1024) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad argument count");
      }
      commands.emplace_back(fc.args().begin(), fc.args().end());
    }
    std::vector<std::string> replies;
    if (!RunMany(db, proto, commands, &replies, hint)) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
    }
    for (std::string& r : replies) reply->add_replies(std::move(r));
    reply->set_clock(server_->clock().Now());
    return grpc::Status::OK;
  }
  std::vector<std::string_view> args(req.args().begin(), req.args().end());
  std::string out;
  if (!Run(db, proto, args, &out, hint)) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
  }
  reply->set_reply(std::move(out));
  reply->set_clock(server_->clock().Now());
  return grpc::Status::OK;
}

bool Forwarder::Run(int db, int proto, std::span<const std::string_view> args, std::string* out,
                    const crdt::VersionVector* seen) {
  resp::ReplyBuilder rb(out, proto);
  std::string error;
  const CommandId* cmd = server_->commands().Resolve(args, &error);
  if (!cmd) {
    rb.Error(error);
  } else if (!ArityOk(*cmd, args.size())) {
    rb.Error(ArityError(*cmd));
  } else if (cmd->flags & kCmdConnection) {
    rb.Error(StrCat("ERR '", cmd->fullname, "' belongs to a connection and cannot be forwarded"));
  } else {
    auto run = [&] {
      ForwardedScope scope(seen);
      CommandContext cx{args, &rb, server_, nullptr, db, NowMs(), cmd};
      RunNotified(cx);
    };
    bool multi_shard;
    int target = server_->ShardOf(*cmd, args, &multi_shard);
    if (multi_shard && server_->multi_threaded()) {
      // Every worker paused, as for a client's multi-shard command.
      server_->Exclusive(run);
    } else if (!RunOn(server_->worker(target < 0 ? 0 : target), run)) {
      return false;
    }
  }
  return true;
}

bool Forwarder::RunMany(int db, int proto,
                        const std::vector<std::vector<std::string_view>>& commands,
                        std::vector<std::string>* replies, const crdt::VersionVector* seen) {
  // Each command's shard, or -1 when it must go through Run (an error
  // reply, or keys on several shards).
  std::vector<const CommandId*> cmds(commands.size(), nullptr);
  std::vector<int> shard(commands.size(), -1);
  for (size_t i = 0; i < commands.size(); i++) {
    std::string error;
    const CommandId* cmd = server_->commands().Resolve(commands[i], &error);
    if (!cmd || !ArityOk(*cmd, commands[i].size()) || (cmd->flags & kCmdConnection)) continue;
    bool multi;
    int t = server_->ShardOf(*cmd, commands[i], &multi);
    if (multi) continue;
    cmds[i] = cmd;
    shard[i] = t < 0 ? 0 : t;
  }
  replies->resize(commands.size());
  size_t i = 0;
  while (i < commands.size()) {
    if (shard[i] < 0) {
      if (!Run(db, proto, commands[i], &(*replies)[i], seen)) return false;
      i++;
      continue;
    }
    // A run of commands on one shard goes there as one task.
    size_t j = i + 1;
    while (j < commands.size() && shard[j] == shard[i]) j++;
    bool ran = RunOn(server_->worker(shard[i]), [&] {
      ForwardedScope scope(seen);
      for (size_t k = i; k < j; k++) {
        resp::ReplyBuilder rb(&(*replies)[k], proto);
        CommandContext cx{commands[k], &rb, server_, nullptr, db, NowMs(), cmds[k]};
        RunNotified(cx);
      }
    });
    if (!ran) return false;
    i = j;
  }
  return true;
}

ForwardClient::ForwardClient(Server* server, Forwarder* local, std::string source_ip)
    : server_(server), local_(local), source_ip_(std::move(source_ip)) {
  thread_ = std::thread([this] { Loop(); });
}

ForwardClient::~ForwardClient() { Stop(); }

void ForwardClient::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ForwardClient::Send(std::vector<Target> targets, int db, int proto,
                         std::vector<std::string> args, bool reads_only, Done done) {
  std::vector<std::vector<std::string>> commands;
  commands.push_back(std::move(args));
  SendBatch(std::move(targets), db, proto, std::move(commands), reads_only,
            [done = std::move(done)](bool ok, std::vector<std::string> replies, std::string error) {
              done(ok, ok && !replies.empty() ? std::move(replies[0]) : std::move(error));
            });
}

void ForwardClient::SendBatch(std::vector<Target> targets, int db, int proto,
                              std::vector<std::vector<std::string>> commands, bool reads_only,
                              BatchDone done) {
  auto job = std::make_shared<Job>();
  job->targets = std::move(targets);
  job->db = db;
  job->proto = proto;
  job->commands = std::move(commands);
  job->done = std::move(done);
  job->reads_only = reads_only;
  // A node already dialled: the call leaves from this thread (issuing an
  // asynchronous call does not block), saving a thread handoff.
  if (!job->targets.empty() && !job->targets[0].peer_addr.empty()) {
    bool cached;
    {
      std::lock_guard<std::mutex> l(stubs_mu_);
      cached = stubs_.contains(job->targets[0].peer_addr);
    }
    bool stopping;
    {
      std::lock_guard<std::mutex> l(mu_);
      stopping = stop_;
    }
    if (cached && !stopping) {
      Start(std::move(job));
      return;
    }
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!stop_) {
      queue_.push_back(std::move(job));
      job = nullptr;
    }
  }
  if (job) {
    job->done(false, {}, "shutting down");
    return;
  }
  cv_.notify_one();
}

void ForwardClient::Loop() {
  while (true) {
    std::shared_ptr<Job> job;
    {
      ReapRetired();
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_for(l, std::chrono::seconds(1), [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty() && !stop_) continue;
      if (queue_.empty()) return;  // stopping and drained
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    Start(std::move(job));
  }
}

std::shared_ptr<peer::Peer::Stub> ForwardClient::StubFor(const std::string& addr,
                                                         std::string* error) {
  {
    std::lock_guard<std::mutex> l(stubs_mu_);
    auto it = stubs_.find(addr);
    if (it != stubs_.end()) return it->second;
  }
  auto channel = gossip::DialPeer(addr, source_ip_, 1000);
  if (!channel.ok()) {
    *error = std::string(channel.status().message());
    return nullptr;
  }
  auto stub = std::shared_ptr<peer::Peer::Stub>(peer::Peer::NewStub(*channel).release());
  std::lock_guard<std::mutex> l(stubs_mu_);
  stubs_[addr] = stub;
  return stub;
}

void ForwardClient::DropStub(const std::string& addr, const peer::Peer::Stub* stub) {
  std::lock_guard<std::mutex> l(stubs_mu_);
  auto it = stubs_.find(addr);
  if (it != stubs_.end() && it->second.get() == stub) {
    retired_.push_back(std::move(it->second));
    stubs_.erase(it);
  }
}

bool ForwardClient::Unreachable(uint32_t id, int64_t now_ms) const {
  if (unreachable_count_.load(std::memory_order_relaxed) == 0) return false;
  std::lock_guard<std::mutex> l(unreachable_mu_);
  auto it = unreachable_.find(id);
  return it != unreachable_.end() && it->second > now_ms;
}

void ForwardClient::MarkUnreachable(uint32_t id, bool failed) {
  if (!failed && unreachable_count_.load(std::memory_order_relaxed) == 0) return;
  std::lock_guard<std::mutex> l(unreachable_mu_);
  if (failed) {
    unreachable_[id] = NowMs() + kUnreachableMs;
  } else {
    unreachable_.erase(id);
  }
  unreachable_count_.store(static_cast<int>(unreachable_.size()), std::memory_order_relaxed);
}

void ForwardClient::ReapRetired() {
  std::vector<std::shared_ptr<peer::Peer::Stub>> dead;
  {
    std::lock_guard<std::mutex> l(stubs_mu_);
    for (size_t i = 0; i < retired_.size();) {
      if (retired_[i].use_count() == 1) {
        dead.push_back(std::move(retired_[i]));
        retired_[i] = std::move(retired_.back());
        retired_.pop_back();
      } else {
        i++;
      }
    }
  }
  // `dead` goes out of scope here, on this thread.
}

// Runs on the client's thread (first attempt, retries after a failed dial)
// or on a gRPC thread (retry after a call that never left).
void ForwardClient::Start(std::shared_ptr<Job> job) {
  while (job->next < job->targets.size()) {
    const Target& t = job->targets[job->next++];
    if (t.peer_addr.empty()) {
      std::vector<std::vector<std::string_view>> views;
      for (const auto& c : job->commands) views.emplace_back(c.begin(), c.end());
      std::vector<std::string> out;
      if (local_->RunMany(job->db, job->proto, views, &out)) {
        forwarded_++;
        job->done(true, std::move(out), "");
        return;
      }
      job->last_error = "shutting down";
      continue;
    }
    std::string error;
    std::shared_ptr<peer::Peer::Stub> stub = StubFor(t.peer_addr, &error);
    if (!stub) {
      job->last_error = t.peer_addr + ": " + error;
      MarkUnreachable(t.id, true);
      continue;
    }
    struct Call {
      grpc::ClientContext ctx;
      peer::ForwardRequest req;
      peer::ForwardReply reply;
      std::shared_ptr<peer::Peer::Stub> stub;
    };
    auto call = std::make_shared<Call>();
    call->stub = stub;
    call->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    call->req.set_db(static_cast<uint32_t>(job->db));
    call->req.set_protocol(static_cast<uint32_t>(job->proto));
    call->req.set_clock(server_->clock().Now());
    {
      std::lock_guard<std::mutex> l(replied_mu_);
      for (const auto& [node, clock] : replied_) {
        peer::VersionEntry* e = call->req.add_seen();
        e->set_node_id(node);
        e->set_counter(clock);
      }
    }
    for (const auto& c : job->commands) {
      peer::ForwardCommand* fc = call->req.add_commands();
      for (const std::string& a : c) fc->add_args(a);
    }
    std::string addr = t.peer_addr;
    uint32_t target = t.id;
    stub->async()->Forward(
        &call->ctx, &call->req, &call->reply, [this, job, call, addr, target](grpc::Status s) {
          if (s.ok() && call->reply.replies_size() == static_cast<int>(job->commands.size())) {
            forwarded_++;
            MarkUnreachable(target, false);
            server_->clock().Observe(crdt::Stamp{call->reply.clock(), 0});
            {
              std::lock_guard<std::mutex> l(replied_mu_);
              uint64_t& c = replied_[target];
              c = std::max(c, call->reply.clock());
            }
            std::vector<std::string> replies;
            for (std::string& r : *call->reply.mutable_replies()) replies.push_back(std::move(r));
            job->done(true, std::move(replies), "");
            return;
          }
          if (s.ok()) s = grpc::Status(grpc::StatusCode::INTERNAL, "short reply");
          DropStub(addr, call->stub.get());
          if (s.error_code() == grpc::StatusCode::UNAVAILABLE ||
              s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
            MarkUnreachable(target, true);
          }
          job->last_error = addr + ": " + s.error_message();
          // The call left: it may have run there, whatever the status
          // says (UNAVAILABLE also reports a connection that broke after
          // the request went out, e.g. a keepalive timeout while the peer
          // was paused). Reads may go to the next holder; a write must not
          // run twice, so its client learns the outcome is unknown.
          const bool not_run = s.error_code() == grpc::StatusCode::FAILED_PRECONDITION;
          if ((job->reads_only || not_run) && job->next < job->targets.size()) {
            std::lock_guard<std::mutex> l(mu_);
            if (!stop_) {
              queue_.push_front(job);
              cv_.notify_one();
              return;
            }
          }
          failed_++;
          const bool maybe_ran = !job->reads_only && !not_run;
          job->done(false, {}, (maybe_ran ? "UNCERTAIN " : "") + job->last_error);
        });
    return;
  }
  failed_++;
  job->done(false, {}, job->last_error.empty() ? "no node holds the key" : job->last_error);
}

}  // namespace lattice::node
