#include "tests/node/test_utils.h"

namespace lattice::node {
namespace {

class StringFamilyTest : public NodeTest {};

TEST_F(StringFamilyTest, SetThenGetReturnsTheValue) {
  EXPECT_EQ(Run({"SET", "k", "v"}), "+OK\r\n");
  EXPECT_EQ(Run({"GET", "k"}), "$1\r\nv\r\n");
  EXPECT_EQ(Run({"GET", "missing"}), "$-1\r\n");
}

TEST_F(StringFamilyTest, WrongArityIsRejectedWithRedisText) {
  EXPECT_EQ(Run({"GET"}), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(Run({"set", "k"}), "-ERR wrong number of arguments for 'set' command\r\n");
}

TEST_F(StringFamilyTest, SetOptionsFollowRedis) {
  EXPECT_EQ(Run({"SET", "k", "1", "NX"}), "+OK\r\n");
  EXPECT_EQ(Run({"SET", "k", "2", "NX"}), "$-1\r\n");
  EXPECT_EQ(Run({"SET", "k", "3", "XX", "GET"}), "$1\r\n1\r\n");
  EXPECT_EQ(Run({"SET", "k", "3", "NX", "XX"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Run({"SET", "k", "3", "EX", "0"}), "-ERR invalid expire time in 'set' command\r\n");
  EXPECT_EQ(Run({"SET", "k", "3", "EX", "abc"}),
            "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run({"SET", "k", "4", "EX", "100"}), "+OK\r\n");
  EXPECT_EQ(Run({"SET", "k", "5", "KEEPTTL"}), "+OK\r\n");
  EXPECT_EQ(Run({"TTL", "k"}), ":100\r\n");
  EXPECT_EQ(Run({"SET", "k", "6"}), "+OK\r\n");
  EXPECT_EQ(Run({"TTL", "k"}), ":-1\r\n");
}

TEST_F(StringFamilyTest, IncrementsAreCountersWithOverflowChecks) {
  EXPECT_EQ(Run({"INCR", "c"}), ":1\r\n");
  EXPECT_EQ(Run({"INCRBY", "c", "41"}), ":42\r\n");
  EXPECT_EQ(Run({"DECRBY", "c", "2"}), ":40\r\n");
  EXPECT_EQ(Run({"OBJECT", "ENCODING", "c"}), "$3\r\nint\r\n");
  EXPECT_EQ(Run({"SET", "big", "9223372036854775807"}), "+OK\r\n");
  EXPECT_EQ(Run({"INCR", "big"}), "-ERR increment or decrement would overflow\r\n");
  EXPECT_EQ(Run({"SET", "s", "abc"}), "+OK\r\n");
  EXPECT_EQ(Run({"INCR", "s"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run({"DECRBY", "c", "-9223372036854775808"}), "-ERR decrement would overflow\r\n");
}

TEST_F(StringFamilyTest, IncrByFloatFormatsLikeRedis) {
  EXPECT_EQ(Run({"INCRBYFLOAT", "f", "10.5"}), "$4\r\n10.5\r\n");
  EXPECT_EQ(Run({"INCRBYFLOAT", "f", "0.1"}), "$4\r\n10.6\r\n");
  EXPECT_EQ(Run({"INCRBYFLOAT", "f", "-10.6"}), "$1\r\n0\r\n");
  EXPECT_EQ(Run({"OBJECT", "ENCODING", "f"}), "$6\r\nembstr\r\n");
  EXPECT_EQ(Run({"INCRBYFLOAT", "f", "x"}), "-ERR value is not a valid float\r\n");
}

TEST_F(StringFamilyTest, AppendSetRangeGetRange) {
  EXPECT_EQ(Run({"APPEND", "a", "Hello"}), ":5\r\n");
  EXPECT_EQ(Run({"APPEND", "a", " World"}), ":11\r\n");
  EXPECT_EQ(Run({"OBJECT", "ENCODING", "a"}), "$3\r\nraw\r\n");
  EXPECT_EQ(Run({"GETRANGE", "a", "-5", "-1"}), "$5\r\nWorld\r\n");
  EXPECT_EQ(Run({"SETRANGE", "z", "3", "ab"}), ":5\r\n");
  EXPECT_EQ(Run({"GET", "z"}), std::string("$5\r\n\0\0\0ab\r\n", 11));
  EXPECT_EQ(Run({"SETRANGE", "z", "-1", "ab"}), "-ERR offset is out of range\r\n");
  EXPECT_EQ(Run({"STRLEN", "a"}), ":11\r\n");
}

TEST_F(StringFamilyTest, MsetMgetMsetnx) {
  EXPECT_EQ(Run({"MSET", "a", "1", "b", "2"}), "+OK\r\n");
  EXPECT_EQ(Run({"MGET", "a", "b", "c"}), "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n");
  EXPECT_EQ(Run({"MSETNX", "c", "3", "a", "9"}), ":0\r\n");
  EXPECT_EQ(Run({"MSETNX", "c", "3", "d", "4"}), ":1\r\n");
  EXPECT_EQ(Run({"MSET", "a", "1", "b"}), "-ERR wrong number of arguments for 'mset' command\r\n");
}

TEST_F(StringFamilyTest, GetExAndGetDel) {
  Run({"SET", "k", "v"});
  EXPECT_EQ(Run({"GETEX", "k", "PX", "100000"}), "$1\r\nv\r\n");
  EXPECT_EQ(Run({"TTL", "k"}), ":100\r\n");
  EXPECT_EQ(Run({"GETEX", "k", "PERSIST"}), "$1\r\nv\r\n");
  EXPECT_EQ(Run({"TTL", "k"}), ":-1\r\n");
  EXPECT_EQ(Run({"GETDEL", "k"}), "$1\r\nv\r\n");
  EXPECT_EQ(Run({"EXISTS", "k"}), ":0\r\n");
}

TEST_F(StringFamilyTest, LcsComputesTheLongestCommonSubsequence) {
  Run({"MSET", "key1", "ohmytext", "key2", "mynewtext"});
  EXPECT_EQ(Run({"LCS", "key1", "key2"}), "$6\r\nmytext\r\n");
  EXPECT_EQ(Run({"LCS", "key1", "key2", "LEN"}), ":6\r\n");
  EXPECT_EQ(Run({"LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"}),
            "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$"
            "3\r\nlen\r\n:6\r\n");
}

TEST_F(StringFamilyTest, EveryWriteEmitsADeltaStampedByTheLamportClock) {
  uint64_t before = server_->clock().Now();
  Run({"SET", "k", "v"});
  Run({"INCR", "n"});
  Run({"DEL", "k"});
  EXPECT_EQ(server_->clock().Now(), before + 3);
  EXPECT_EQ(server_->worker(0).shard().deltas_emitted.load(), 3u);
}

class ShardedStringFamilyTest : public NodeTest {
 protected:
  void SetUp() override { StartNode(4); }
};

TEST_F(ShardedStringFamilyTest, MultiKeyCommandsSpanShardsAtomically) {
  std::vector<std::string> mset = {"MSET"};
  for (int i = 0; i < 50; i++) {
    mset.push_back("key" + std::to_string(i));
    mset.push_back(std::to_string(i));
  }
  EXPECT_EQ(Run(mset), "+OK\r\n");
  EXPECT_EQ(Run({"DBSIZE"}), ":50\r\n");
  for (int i = 0; i < 50; i++) {
    EXPECT_EQ(Run({"GET", "key" + std::to_string(i)}),
              "$" + std::to_string(std::to_string(i).size()) + "\r\n" + std::to_string(i) + "\r\n");
  }
  EXPECT_EQ(Run({"RENAME", "key1", "other"}), "+OK\r\n");
  EXPECT_EQ(Run({"GET", "other"}), "$1\r\n1\r\n");
  EXPECT_EQ(Run({"EXISTS", "key1", "key2", "other"}), ":2\r\n");
}

TEST_F(ShardedStringFamilyTest, ManyClientsIncrementingConvergeToTheTotal) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([this] {
      RespClient c(port());
      for (int i = 0; i < 500; i++) c.Run({"INCR", "counter" + std::to_string(i % 7)});
    });
  }
  for (auto& t : threads) t.join();
  int64_t total = 0;
  for (int i = 0; i < 7; i++) {
    std::string r = Run({"GET", "counter" + std::to_string(i)});
    total += std::stoll(r.substr(r.find("\r\n") + 2));
  }
  EXPECT_EQ(total, 2000);
}

}  // namespace
}  // namespace lattice::node
