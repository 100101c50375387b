#include "node/cluster/functions_sync.h"

#include <chrono>
#include <memory>

#include "grpcpp/client_context.h"
#include "node/scripting/functions.h"
#include "node/scripting/lua_engine.h"
#include "node/server.h"
#include "node/stamp_proto.h"
#include "node/str_util.h"

namespace lattice::node {

namespace {

constexpr int kRoundMs = 1000;
constexpr int kCallTimeoutMs = 2000;

}  // namespace

FunctionsSync::FunctionsSync(Server* server, gossip::Membership* membership)
    : server_(server), membership_(membership) {}

FunctionsSync::~FunctionsSync() { Stop(); }

void FunctionsSync::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void FunctionsSync::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void FunctionsSync::Changed() {
  {
    std::lock_guard<std::mutex> l(mu_);
    changed_ = true;
  }
  cv_.notify_all();
}

grpc::Status FunctionsSync::Functions(const peer::FunctionsRequest& req,
                                      peer::FunctionsState* reply) {
  node::Functions& registry = server_->functions();
  uint64_t digest = registry.Digest();
  reply->set_digest(digest);
  if (req.digest() == digest) return grpc::Status::OK;
  FunctionsToProto(*server_, reply);
  reply->set_digest(digest);
  return grpc::Status::OK;
}

void FunctionsSync::Loop() {
  while (true) {
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_for(l, std::chrono::milliseconds(kRoundMs), [this] { return stop_ || changed_; });
      if (stop_) return;
      changed_ = false;
    }
    Round();
  }
}

void FunctionsSync::Round() {
  for (const gossip::MemberInfo& m : membership_->Snapshot()) {
    if (m.self || m.state != gossip::State::kAlive || m.peer_addr.empty()) continue;
    PullFrom(m);
  }
}

void FunctionsSync::PullFrom(const gossip::MemberInfo& m) {
  std::shared_ptr<grpc::Channel> channel = membership_->ChannelTo(m.peer_addr, 1000);
  if (!channel) return;
  auto stub = peer::Peer::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(kCallTimeoutMs));
  node::Functions& registry = server_->functions();
  peer::FunctionsRequest req;
  req.set_digest(registry.Digest());
  peer::FunctionsState state;
  grpc::Status st = stub->Functions(&ctx, req, &state);
  if (!st.ok() || state.digest() == req.digest()) return;
  merged_ += MergeFunctions(*server_, state, m.name);
}

void FunctionsToProto(Server& server, peer::FunctionsState* out) {
  node::Functions& registry = server.functions();
  out->set_digest(registry.Digest());
  crdt::Stamp floor;
  for (const node::Functions::Record& r : registry.State(&floor)) {
    peer::FunctionLibrary* lib = out->add_libraries();
    lib->set_name(r.name);
    lib->set_code(r.code);
    ToProto(r.stamp, lib->mutable_stamp());
    lib->set_deleted(r.deleted);
  }
  ToProto(floor, out->mutable_floor());
}

int MergeFunctions(Server& server, const peer::FunctionsState& state, std::string_view from) {
  node::Functions& registry = server.functions();
  crdt::Stamp floor = FromProto(state.floor());
  server.clock().Observe(floor);
  registry.MergeFloor(floor);
  LuaEngine& engine = LuaEngine::ForThread(&server);
  int merged = 0;
  for (const peer::FunctionLibrary& lib : state.libraries()) {
    crdt::Stamp stamp = FromProto(lib.stamp());
    if (stamp.node == 0 || lib.name().size() > 1024 || lib.code().size() > (64u << 20)) continue;
    server.clock().Observe(stamp);
    std::shared_ptr<Library> loaded;
    if (!lib.deleted()) {
      loaded = std::make_shared<Library>();
      std::string error;
      if (!engine.LoadLibrary(lib.code(), loaded.get(), &error) || loaded->name != lib.name()) {
        server.Log(Server::kWarning, StrCat("function library ", lib.name(), " from ", from,
                                             " does not load here: ", error));
        continue;
      }
    }
    if (registry.Merge(lib.name(), std::move(loaded), stamp)) merged++;
  }
  return merged;
}

}  // namespace lattice::node
