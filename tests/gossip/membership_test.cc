// Membership over real gRPC on loopback: three members find each other
// through one seed, a member that stops answering becomes suspect then dead,
// one that leaves is marked left, and a restarted member (higher
// incarnation) is alive again.
#include "gossip/membership.h"

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gossip/peer_service.h"
#include "gtest/gtest.h"
#include "tests/node/test_utils.h"

namespace lattice::gossip {
namespace {

struct Member {
  std::unique_ptr<Membership> membership;
  std::unique_ptr<PeerService> service;
  std::unique_ptr<grpc::Server> server;
  std::string addr;
};

MembershipOptions FastOptions() {
  MembershipOptions o;
  o.probe_interval_ms = 100;
  o.probe_timeout_ms = 200;
  o.suspect_timeout_ms = 600;
  o.dead_probe_interval_ms = 300;
  return o;
}

std::unique_ptr<Member> Start(uint32_t id, int port, std::vector<std::string> seeds,
                              uint64_t incarnation = 1) {
  auto m = std::make_unique<Member>();
  m->addr = "127.0.0.1:" + std::to_string(port);
  MemberInfo self;
  self.id = id;
  self.name = "m" + std::to_string(id);
  self.peer_addr = m->addr;
  self.client_addr = "127.0.0.1:1";
  self.zone = id == 3 ? "z2" : "z1";
  self.incarnation = incarnation;
  m->membership = std::make_unique<Membership>(self, std::move(seeds), FastOptions(),
                                               [](int, const std::string&) {});
  m->service = std::make_unique<PeerService>(m->membership.get(), nullptr);
  auto server = StartPeerServer(m->addr, m->service.get());
  EXPECT_TRUE(server.ok()) << server.status();
  m->server = std::move(*server);
  m->membership->Start();
  return m;
}

void Kill(Member& m) {
  m.membership->Stop();
  m.server->Shutdown(std::chrono::system_clock::now());
}

// State of member `id` as `m` sees it, or -1 when unknown.
int StateOf(Member& m, uint32_t id) {
  for (const MemberInfo& info : m.membership->Snapshot()) {
    if (info.id == id) return static_cast<int>(info.state);
  }
  return -1;
}

// Every state `m` reports for member `id` through its listener, in the
// order reported, by name (readable in a failure), consecutive repeats
// dropped (the listener also fires on address and hot-key changes).
class StateLog {
 public:
  StateLog(Member& m, uint32_t id) {
    m.membership->AddListener([this, id](const MemberInfo& info) {
      if (info.id != id) return;
      std::lock_guard<std::mutex> l(mu_);
      std::string name = StateName(info.state);
      if (states_.empty() || states_.back() != name) states_.push_back(std::move(name));
    });
  }
  void Clear() {
    std::lock_guard<std::mutex> l(mu_);
    states_.clear();
  }
  std::vector<std::string> states() const {
    std::lock_guard<std::mutex> l(mu_);
    return states_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> states_;
};

bool Eventually(const std::function<bool()>& pred, int timeout_ms = 10000) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

TEST(Membership, JoinsThroughASeedAndDetectsFailureLeaveAndRejoin) {
  int p1 = node::FreePort(), p2 = node::FreePort(), p3 = node::FreePort();
  std::string seed = "127.0.0.1:" + std::to_string(p1);
  auto a = Start(1, p1, {});
  auto b = Start(2, p2, {seed});
  auto c = Start(3, p3, {seed});
  // b and c learn of each other only by gossip through a.
  ASSERT_TRUE(Eventually([&] {
    return StateOf(*b, 3) == int(State::kAlive) && StateOf(*c, 2) == int(State::kAlive) &&
           StateOf(*a, 2) == int(State::kAlive) && StateOf(*a, 3) == int(State::kAlive);
  }));
  for (const MemberInfo& info : b->membership->Snapshot()) {
    if (info.id == 3) {
      EXPECT_EQ(info.zone, "z2");
    }
  }

  // c stops answering: suspect first, then dead, on both others. A member
  // is declared dead only after it was suspect (on the node that declares
  // it, or by a rumour that reaches the other within a probe interval,
  // long before the suspect timeout), so each sees exactly that sequence.
  StateLog a_saw(*a, 3), b_saw(*b, 3);
  a_saw.Clear();
  b_saw.Clear();
  Kill(*c);
  ASSERT_TRUE(Eventually(
      [&] { return StateOf(*a, 3) == int(State::kDead) && StateOf(*b, 3) == int(State::kDead); }));
  const std::vector<std::string> suspect_then_dead = {"suspect", "dead"};
  EXPECT_EQ(a_saw.states(), suspect_then_dead);
  EXPECT_EQ(b_saw.states(), suspect_then_dead);

  // c comes back with a higher incarnation (a restart): alive again.
  c.reset();
  auto c2 = Start(3, p3, {seed}, /*incarnation=*/100);
  ASSERT_TRUE(Eventually(
      [&] { return StateOf(*a, 3) == int(State::kAlive) && StateOf(*b, 3) == int(State::kAlive); }));

  // b leaves gracefully: marked left, never suspected.
  b->membership->Leave();
  b->server->Shutdown(std::chrono::system_clock::now());
  ASSERT_TRUE(Eventually(
      [&] { return StateOf(*a, 2) == int(State::kLeft) && StateOf(*c2, 2) == int(State::kLeft); }));
  Kill(*a);
  Kill(*c2);
}

TEST(Membership, SuspectRefutesByRaisingItsIncarnation) {
  int p1 = node::FreePort(), p2 = node::FreePort();
  auto a = Start(1, p1, {});
  auto b = Start(2, p2, {"127.0.0.1:" + std::to_string(p1)});
  ASSERT_TRUE(Eventually([&] { return StateOf(*a, 2) == int(State::kAlive); }));
  // Tell b that a considers it suspect at its own incarnation.
  peer::PingRequest req;
  req.mutable_from()->set_node_id(1);
  req.mutable_from()->set_name("m1");
  req.mutable_from()->set_peer_addr(a->addr);
  req.mutable_from()->set_incarnation(1);
  peer::Member* rumor = req.add_members();
  rumor->set_node_id(2);
  rumor->set_name("m2");
  rumor->set_peer_addr(b->addr);
  rumor->set_incarnation(1);
  rumor->set_state(peer::SUSPECT);
  peer::PingReply reply;
  b->membership->HandlePing(req, &reply);
  EXPECT_EQ(reply.from().incarnation(), 2u);
  EXPECT_EQ(reply.from().state(), peer::ALIVE);
  Kill(*a);
  Kill(*b);
}

}  // namespace
}  // namespace lattice::gossip
