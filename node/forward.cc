#include "node/forward.h"

#include <condition_variable>
#include <mutex>
#include <string_view>
#include <vector>

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
  const int db = static_cast<int>(req.db());
  const int proto = req.protocol() == 3 ? 3 : 2;
  std::vector<std::string_view> args(req.args().begin(), req.args().end());
  std::string out;
  resp::ReplyBuilder rb(&out, proto);
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
    bool ran;
    if (multi_shard && server_->multi_threaded()) {
      // Every worker paused, as for a client's multi-shard command.
      server_->world().Lock();
      run();
      server_->world().Unlock();
      ran = true;
    } else {
      ran = RunOn(server_->worker(target < 0 ? 0 : target), run);
    }
    if (!ran) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
  }
  reply->set_reply(std::move(out));
  return grpc::Status::OK;
}

}  // namespace lattice::node
