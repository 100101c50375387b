// File: node/cluster/functions_sync.h
//
// Keeps every member's function libraries (node/scripting/functions.h)
// equal: once a second (and soon after a local change) this node asks each
// live member for its libraries unless their digests already agree, loads
// what is newer into its own interpreter and merges it (last writer wins
// per library, FUNCTION FLUSH as a floor). Pull from both sides converges
// after any loss: a member that was away catches up on its first round
// (docs/consistency.md, "Functions").
//
// Thread-safety: one thread of its own; Functions() on gRPC threads.
#ifndef LATTICE_NODE_CLUSTER_FUNCTIONS_SYNC_H_
#define LATTICE_NODE_CLUSTER_FUNCTIONS_SYNC_H_

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "gossip/membership.h"
#include "gossip/peer_service.h"

namespace lattice::node {

class Server;

// The function registry's whole state as a peer receives it; snapshots and
// the append-only log keep the same message.
void FunctionsToProto(Server& server, peer::FunctionsState* out);
// Merges a state from a peer or from disk (`from` names it in the log when a
// library does not load here). Returns how many records changed.
int MergeFunctions(Server& server, const peer::FunctionsState& state, std::string_view from);

class Server;

class FunctionsSync : public gossip::FunctionsHandler {
 public:
  FunctionsSync(Server* server, gossip::Membership* membership);
  ~FunctionsSync() override;
  void Start();
  void Stop();
  // A local FUNCTION change: the next round starts now.
  void Changed();

  grpc::Status Functions(const peer::FunctionsRequest& req, peer::FunctionsState* reply) override;

  uint64_t merged() const { return merged_.load(); }

 private:
  void Loop();
  void Round();
  void PullFrom(const gossip::MemberInfo& m);

  Server* server_;
  gossip::Membership* membership_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool changed_ = false;
  std::thread thread_;
  std::atomic<uint64_t> merged_{0};
};

}  // namespace lattice::node

#endif  // LATTICE_NODE_CLUSTER_FUNCTIONS_SYNC_H_
