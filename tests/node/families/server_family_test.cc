#include "tests/node/test_utils.h"

namespace lattice::node {
namespace {

class ServerFamilyTest : public NodeTest {};

TEST_F(ServerFamilyTest, PingEchoAndUnknownCommands) {
  EXPECT_EQ(Run({"PING"}), "+PONG\r\n");
  EXPECT_EQ(Run({"PING", "hi"}), "$2\r\nhi\r\n");
  EXPECT_EQ(Run({"ECHO", "x"}), "$1\r\nx\r\n");
  EXPECT_EQ(Run({"NOPE", "a", "b"}),
            "-ERR unknown command 'NOPE', with args beginning with: 'a' 'b' \r\n");
}

TEST_F(ServerFamilyTest, HelloSwitchesToResp3) {
  std::string r = Run({"HELLO", "3"});
  EXPECT_EQ(r.substr(0, 3), "%7\r");
  EXPECT_EQ(Run({"GET", "missing"}), "_\r\n");
  EXPECT_EQ(Run({"HELLO", "4"}), "-NOPROTO unsupported protocol version\r\n");
  EXPECT_EQ(Run({"HELLO", "3", "AUTH", "bob", "pw"}),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(Run({"HELLO", "3", "AUTH", "default", "any"}).substr(0, 3), "%7\r");
  EXPECT_EQ(Run({"HELLO", "2"}).substr(0, 4), "*14\r");
  EXPECT_EQ(Run({"GET", "missing"}), "$-1\r\n");
}

TEST_F(ServerFamilyTest, SelectIsolatesDatabases) {
  Run({"SET", "k", "zero"});
  EXPECT_EQ(Run({"SELECT", "3"}), "+OK\r\n");
  EXPECT_EQ(Run({"GET", "k"}), "$-1\r\n");
  EXPECT_EQ(Run({"SELECT", "16"}), "-ERR DB index is out of range\r\n");
  EXPECT_EQ(Run({"SELECT", "x"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run({"FLUSHALL", "BAD"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"FLUSHALL", "ASYNC"}), "+OK\r\n");
  EXPECT_EQ(Run({"SELECT", "0"}), "+OK\r\n");
  EXPECT_EQ(Run({"DBSIZE"}), ":0\r\n");
}

TEST_F(ServerFamilyTest, ConfigGetSetRoundTrip) {
  EXPECT_EQ(Run({"CONFIG", "GET", "maxclients"}), "*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n");
  EXPECT_EQ(Run({"CONFIG", "SET", "maxclients", "500"}), "+OK\r\n");
  EXPECT_EQ(Run({"CONFIG", "GET", "maxclients"}), "*2\r\n$10\r\nmaxclients\r\n$3\r\n500\r\n");
  EXPECT_EQ(Run({"CONFIG", "SET", "nope", "1"}),
            "-ERR Unknown option or number of arguments for CONFIG SET - 'nope'\r\n");
  EXPECT_EQ(Run({"CONFIG", "SET", "port", "1"}),
            "-ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable "
            "config\r\n");
}

TEST_F(ServerFamilyTest, ClientCommands) {
  EXPECT_EQ(Run({"CLIENT", "SETNAME", "tester"}), "+OK\r\n");
  EXPECT_EQ(Run({"CLIENT", "GETNAME"}), "$6\r\ntester\r\n");
  EXPECT_EQ(Run({"CLIENT", "SETNAME", "has space"}),
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
  std::string list = Run({"CLIENT", "LIST"});
  EXPECT_NE(list.find("name=tester"), std::string::npos);
  RespClient other(port());
  EXPECT_EQ(other.Run({"PING"}), "+PONG\r\n");
  std::string id = other.Run({"CLIENT", "ID"});
  EXPECT_EQ(Run({"CLIENT", "KILL", "ID", id.substr(1, id.size() - 3)}), ":1\r\n");
  EXPECT_TRUE(other.Closed());
}

TEST_F(ServerFamilyTest, InfoHasTheRequestedSections) {
  Run({"SET", "k", "v"});
  std::string info = Run({"INFO"});
  for (const char* s :
       {"# Server", "# Clients", "# Memory", "# Stats", "# Keyspace", "db0:keys=1"}) {
    EXPECT_NE(info.find(s), std::string::npos) << s;
  }
  EXPECT_EQ(info.find("# Commandstats"), std::string::npos);
  EXPECT_NE(Run({"INFO", "commandstats"}).find("cmdstat_set:calls=1"), std::string::npos);
}

TEST_F(ServerFamilyTest, CommandIntrospection) {
  std::string count = Run({"COMMAND", "COUNT"});
  EXPECT_EQ(count[0], ':');
  EXPECT_GT(std::stoi(count.substr(1)), 50);
  EXPECT_EQ(Run({"COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"}),
            "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
  std::string info = Run({"COMMAND", "INFO", "get"});
  EXPECT_NE(info.find("$3\r\nget\r\n:2\r\n"), std::string::npos);
}

TEST_F(ServerFamilyTest, ProtocolErrorClosesAfterTheReply) {
  RespClient c(port());
  c.SendRaw("PING\r\n*1\r\n+foo\r\n");
  EXPECT_EQ(c.ReadReply(), "+PONG\r\n");
  EXPECT_EQ(c.ReadReply(), "-ERR Protocol error: expected '$', got '+'\r\n");
  EXPECT_TRUE(c.Closed());
  EXPECT_EQ(Run({"PING"}), "+PONG\r\n");
}

TEST_F(ServerFamilyTest, ClientKillAndListFiltersFollowRedis) {
  RespClient other(port());
  EXPECT_EQ(other.Run({"PING"}), "+PONG\r\n");
  EXPECT_EQ(Run({"CLIENT", "KILL", "TYPE", "pubsub"}), ":0\r\n");
  EXPECT_EQ(Run({"CLIENT", "KILL", "USER", "bob"}), "-ERR No such user 'bob'\r\n");
  EXPECT_EQ(Run({"CLIENT", "KILL", "TYPE", "bogus"}), "-ERR Unknown client type 'bogus'\r\n");
  EXPECT_EQ(Run({"CLIENT", "LIST", "TYPE", "pubsub"}), "$0\r\n\r\n");
  EXPECT_EQ(other.Run({"PING"}), "+PONG\r\n");
  EXPECT_EQ(Run({"CLIENT", "KILL", "TYPE", "normal"}), ":1\r\n");
  EXPECT_TRUE(other.Closed());
}

TEST_F(ServerFamilyTest, ConfigSetRejectsDuplicatesAndShutdownRejectsContradictions) {
  EXPECT_EQ(Run({"CONFIG", "SET", "maxclients", "10", "MAXCLIENTS", "20"}),
            "-ERR CONFIG SET failed (possibly related to argument 'MAXCLIENTS') - duplicate "
            "parameter\r\n");
  EXPECT_EQ(Run({"SHUTDOWN", "NOSAVE", "SAVE"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"SHUTDOWN", "ABORT"}), "-ERR No shutdown in progress.\r\n");
  std::string info = Run({"COMMAND", "INFO", "config|get"});
  EXPECT_NE(info.find("config|get"), std::string::npos);
}

class ShardedServerTest : public NodeTest {
 protected:
  void SetUp() override { StartNode(4); }
};

// A pipeline that waits on other shards and then quits, from a client that
// has already half-closed: the connection is closed by a task while its
// own read event may still be pending in the same batch.
TEST_F(ShardedServerTest, ClientsQuittingWhileWaitingOnOtherShardsAreCleanedUp) {
  for (int round = 0; round < 30; round++) {
    RespClient c(port());
    std::string pipeline;
    for (int i = 0; i < 16; i++) {
      std::string key = "k" + std::to_string(i);
      pipeline += "*2\r\n$3\r\nGET\r\n$" + std::to_string(key.size()) + "\r\n" + key + "\r\n";
    }
    pipeline += "*1\r\n$4\r\nQUIT\r\n";
    c.SendRaw(pipeline);
    c.ShutdownWrite();
    for (int i = 0; i < 16; i++) EXPECT_EQ(c.ReadReply(), "$-1\r\n");
    EXPECT_EQ(c.ReadReply(), "+OK\r\n");
    EXPECT_TRUE(c.Closed());
  }
  EXPECT_EQ(Run({"PING"}), "+PONG\r\n");
  std::string info = Run({"INFO", "clients"});
  EXPECT_NE(info.find("connected_clients:1\r\n"), std::string::npos) << info;
}

}  // namespace
}  // namespace lattice::node
