#include "node/forward.h"

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

namespace {

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
  if (req.args_size() == 0 || req.args_size() > 1024 * 1024) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad argument count");
  }
  if (req.db() >= static_cast<uint32_t>(server_->config().databases)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "database out of range");
  }
  std::vector<std::string_view> args(req.args().begin(), req.args().end());
  std::string out;
  if (!server_->running() ||
      !Run(static_cast<int>(req.db()), req.protocol() == 3 ? 3 : 2, args, &out)) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
  }
  reply->set_reply(std::move(out));
  reply->set_clock(server_->clock().Now());
  return grpc::Status::OK;
}

bool Forwarder::Run(int db, int proto, std::span<const std::string_view> args, std::string* out) {
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
      CommandContext cx{args, &rb, server_, nullptr, db, NowMs(), cmd};
      cmd->handler(cx);
    };
    bool multi_shard;
    int target = server_->ShardOf(*cmd, args, &multi_shard);
    if (multi_shard && server_->multi_threaded()) {
      // Every worker paused, as for a client's multi-shard command.
      server_->world().Lock();
      run();
      server_->world().Unlock();
    } else if (!RunOn(server_->worker(target < 0 ? 0 : target), run)) {
      return false;
    }
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
                         std::vector<std::string> args, Done done) {
  auto job = std::make_shared<Job>();
  job->targets = std::move(targets);
  job->db = db;
  job->proto = proto;
  job->args = std::move(args);
  job->done = std::move(done);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!stop_) {
      queue_.push_back(std::move(job));
      job = nullptr;
    }
  }
  if (job) {
    job->done(false, "shutting down");
    return;
  }
  cv_.notify_one();
}

void ForwardClient::Loop() {
  while (true) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
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
  if (it != stubs_.end() && it->second.get() == stub) stubs_.erase(it);
}

// Runs on the client's thread (first attempt, retries after a failed dial)
// or on a gRPC thread (retry after a call that never left).
void ForwardClient::Start(std::shared_ptr<Job> job) {
  while (job->next < job->targets.size()) {
    const Target& t = job->targets[job->next++];
    if (t.peer_addr.empty()) {
      std::vector<std::string_view> views(job->args.begin(), job->args.end());
      std::string out;
      if (local_->Run(job->db, job->proto, views, &out)) {
        forwarded_++;
        job->done(true, std::move(out));
        return;
      }
      job->last_error = "shutting down";
      continue;
    }
    std::string error;
    std::shared_ptr<peer::Peer::Stub> stub = StubFor(t.peer_addr, &error);
    if (!stub) {
      job->last_error = t.peer_addr + ": " + error;
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
    for (const std::string& a : job->args) call->req.add_args(a);
    std::string addr = t.peer_addr;
    stub->async()->Forward(
        &call->ctx, &call->req, &call->reply, [this, job, call, addr](grpc::Status s) {
          if (s.ok()) {
            forwarded_++;
            server_->clock().Observe(crdt::Stamp{call->reply.clock(), 0});
            job->done(true, std::move(*call->reply.mutable_reply()));
            return;
          }
          DropStub(addr, call->stub.get());
          job->last_error = addr + ": " + s.error_message();
          // UNAVAILABLE: the call never reached a command (no connection,
          // or the node is leaving): the next holder may take it. Anything
          // else may have run there: report, do not repeat.
          if (s.error_code() == grpc::StatusCode::UNAVAILABLE && job->next < job->targets.size()) {
            std::lock_guard<std::mutex> l(mu_);
            if (!stop_) {
              queue_.push_front(job);
              cv_.notify_one();
              return;
            }
          }
          failed_++;
          job->done(false, job->last_error);
        });
    return;
  }
  failed_++;
  job->done(false, job->last_error.empty() ? "no node holds the key" : job->last_error);
}

}  // namespace lattice::node
