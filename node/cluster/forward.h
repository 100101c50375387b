// File: node/cluster/forward.h
//
// Runs client commands that another node forwarded (gRPC Forward): the
// placement layer sends a command for keys this node replicates and relays
// the reply bytes to its client unchanged. The command runs exactly as a
// client's would: on the owning shard's thread (a posted task) or, when its
// keys span shards, in the exclusive section. Commands that belong to a
// connection (SELECT, CLIENT, HELLO, WAIT, ...) are refused: they must run
// where the client is.
//
// Thread-safety: Forward() is called on gRPC threads.
#ifndef LATTICE_NODE_CLUSTER_FORWARD_H_
#define LATTICE_NODE_CLUSTER_FORWARD_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "crdt/tombstone.h"
#include "gossip/peer_service.h"
#include "proto/peer.grpc.pb.h"

namespace lattice::node {

class Server;

class Forwarder final : public gossip::CommandHandler {
 public:
  explicit Forwarder(Server* server) : server_(server) {}
  grpc::Status Forward(const peer::ForwardRequest& req, peer::ForwardReply* reply) override;
  // Runs one command here as Forward does and returns its reply bytes.
  // Blocks; never call it on a worker thread. False when shutting down.
  // `seen`: the forwarding node's ForwardRequest.seen (deletes cover it).
  bool Run(int db, int proto, std::span<const std::string_view> args, std::string* out,
           const crdt::VersionVector* seen = nullptr);
  // Runs commands in order; consecutive ones on one shard go there as one
  // task. Sets `replies` to one reply per command.
  bool RunMany(int db, int proto, const std::vector<std::vector<std::string_view>>& commands,
               std::vector<std::string>* replies, const crdt::VersionVector* seen = nullptr);

 private:
  Server* server_;
};

// The sending side: a client command for keys this node does not hold goes
// to a node that does, and the reply bytes come back to the connection.
// Calls are asynchronous (gRPC's callback API), so a worker never blocks on
// the network; one thread dials peers (cached channels) and runs the local
// parts of fanned-out commands.
//
// Thread-safety: Send() from any thread; `done` runs on a gRPC or the
// client's thread.
class ForwardClient {
 public:
  ForwardClient(Server* server, Forwarder* local, std::string source_ip);
  ~ForwardClient();
  void Stop();

  struct Target {
    uint32_t id = 0;        // the node's id; the local node runs it here
    std::string peer_addr;  // empty for the local node
  };
  // ok=false: no target answered; `reply` then holds the reason.
  using Done = std::function<void(bool ok, std::string reply)>;
  // One reply per command, or ok=false and the reason in `error`.
  using BatchDone =
      std::function<void(bool ok, std::vector<std::string> replies, std::string error)>;
  // Sends several commands of one connection in one call, run in order.
  // `reads_only`: every command is read-only (the caller resolved them).
  void SendBatch(std::vector<Target> targets, int db, int proto,
                 std::vector<std::vector<std::string>> commands, bool reads_only,
                 BatchDone done);
  // Sends the command to the first target; when it cannot be reached (the
  // call never left), to the next. A call that left is repeated elsewhere
  // only when every command in it is read-only: a write that left may have
  // run, and running it again on another replica would apply it twice (an
  // INCRBY counted twice), so its client gets an error instead.
  void Send(std::vector<Target> targets, int db, int proto, std::vector<std::string> args,
            bool reads_only, Done done);

  // True while calls from here to node `id` recently failed (no connection,
  // no reply): routing then prefers its other holders, so clients do not
  // queue behind a node this one cannot reach even though gossip (probing
  // it through others) still calls it alive.
  bool Unreachable(uint32_t id, int64_t now_ms) const;
  static constexpr int64_t kUnreachableMs = 2000;

  uint64_t forwarded() const { return forwarded_.load(); }
  uint64_t failed() const { return failed_.load(); }

 private:
  struct Job {
    std::vector<Target> targets;
    size_t next = 0;
    int db = 0;
    int proto = 2;
    std::vector<std::vector<std::string>> commands;
    BatchDone done;
    std::string last_error;
    bool reads_only = false;  // every command read-only: safe to repeat
  };
  void Loop();
  void Start(std::shared_ptr<Job> job);
  std::shared_ptr<peer::Peer::Stub> StubFor(const std::string& addr, std::string* error);
  void DropStub(const std::string& addr, const peer::Peer::Stub* stub);

  Server* server_;
  Forwarder* local_;
  const std::string source_ip_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  bool stop_ = false;
  std::thread thread_;
  std::mutex stubs_mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<peer::Peer::Stub>> stubs_;
  // Dropped peers whose calls may still hold their stub. A channel must
  // not be destroyed on a gRPC callback thread (gRPC 1.51 then frees its
  // callback completion queue twice and the process aborts): the last
  // reference is always released here, by Loop(), once nothing else holds
  // the stub.
  std::vector<std::shared_ptr<peer::Peer::Stub>> retired_;
  void MarkUnreachable(uint32_t id, bool failed);
  mutable std::mutex unreachable_mu_;
  absl::flat_hash_map<uint32_t, int64_t> unreachable_;  // id -> until (ms)
  std::atomic<int> unreachable_count_{0};
  void ReapRetired();
  std::atomic<uint64_t> forwarded_{0}, failed_{0};
  // Per node, the greatest clock a reply from it carried (sent along as
  // ForwardRequest.seen).
  std::mutex replied_mu_;
  absl::flat_hash_map<uint32_t, uint64_t> replied_;
};

}  // namespace lattice::node

#endif  // LATTICE_NODE_CLUSTER_FORWARD_H_
