#include "node/cluster/pubsub_relay.h"

#include <chrono>
#include <vector>

#include "grpcpp/client_context.h"
#include "node/pubsub.h"
#include "node/server.h"
#include "node/str_util.h"

namespace lattice::node {

namespace {

// A relay that cannot keep up drops rather than buffer without bound, as a
// slow subscriber is dropped by client-output-buffer-limit.
constexpr size_t kMaxQueuedBytes = 64 << 20;
constexpr size_t kMaxBatchBytes = 4 << 20;
constexpr int kCallTimeoutMs = 2000;

}  // namespace

PubSubRelay::PubSubRelay(Server* server, gossip::Membership* membership)
    : server_(server), membership_(membership) {}

PubSubRelay::~PubSubRelay() { Stop(); }

void PubSubRelay::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void PubSubRelay::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PubSubRelay::Send(std::string_view channel, std::string_view message, bool shard) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stop_) return;
    size_t size = channel.size() + message.size();
    if (queued_bytes_ + size > kMaxQueuedBytes) {
      dropped_++;
      return;
    }
    peer::PublishedMessage m;
    m.set_channel(std::string(channel));
    m.set_message(std::string(message));
    m.set_shard(shard);
    queue_.push_back(std::move(m));
    queued_bytes_ += size;
  }
  cv_.notify_one();
}

grpc::Status PubSubRelay::Publish(const peer::PublishBatch& req, peer::Ack* reply) {
  for (const peer::PublishedMessage& m : req.messages()) {
    server_->pubsub().Publish(m.channel(), m.message(), m.shard());
    received_++;
  }
  return grpc::Status::OK;
}

void PubSubRelay::Loop() {
  while (true) {
    peer::PublishBatch batch;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      size_t bytes = 0;
      while (!queue_.empty() && bytes < kMaxBatchBytes) {
        bytes += queue_.front().channel().size() + queue_.front().message().size();
        *batch.add_messages() = std::move(queue_.front());
        queue_.pop_front();
      }
      queued_bytes_ -= bytes;
    }
    batch.set_origin(membership_->self_id());
    for (const gossip::MemberInfo& m : membership_->Snapshot()) {
      if (m.self || m.state == gossip::State::kDead || m.state == gossip::State::kLeft ||
          m.peer_addr.empty()) {
        continue;
      }
      std::shared_ptr<grpc::Channel> channel = membership_->ChannelTo(m.peer_addr, 1000);
      if (!channel) {
        dropped_ += batch.messages_size();
        continue;
      }
      auto stub = peer::Peer::NewStub(channel);
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(kCallTimeoutMs));
      peer::Ack ack;
      grpc::Status st = stub->Publish(&ctx, batch, &ack);
      if (st.ok()) {
        sent_ += batch.messages_size();
      } else {
        dropped_ += batch.messages_size();
        membership_->DropChannel(m.peer_addr);
        server_->Log(Server::kVerbose, StrCat("pub/sub: ", batch.messages_size(),
                                              " messages not delivered to ", m.name, ": ",
                                              st.error_message()));
      }
    }
  }
}

}  // namespace lattice::node
