// The peer service over real gRPC on loopback: a node answers pings with its
// id, and a ping to an address nobody serves fails within its deadline.
#include "gossip/peer_service.h"

#include "gtest/gtest.h"
#include "tests/node/test_utils.h"

namespace lattice::gossip {
namespace {

TEST(PeerService, AnswersPingsWithItsNodeId) {
  PeerService service(/*node_id=*/42, /*incarnation=*/7);
  std::string address = "127.0.0.1:" + std::to_string(node::FreePort());
  auto server = StartPeerServer(address, &service);
  ASSERT_TRUE(server.ok()) << server.status();
  auto id = PingPeer(address, /*self=*/1, /*timeout_ms=*/5000);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, 42u);
  (*server)->Shutdown();
}

TEST(PeerService, PingToAnAbsentPeerFailsWithinTheDeadline) {
  std::string address = "127.0.0.1:" + std::to_string(node::FreePort());
  auto id = PingPeer(address, 1, 300);
  EXPECT_FALSE(id.ok());
  EXPECT_TRUE(absl::IsUnavailable(id.status()));
}

}  // namespace
}  // namespace lattice::gossip
