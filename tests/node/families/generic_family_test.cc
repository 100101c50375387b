#include "tests/node/test_utils.h"

namespace lattice::node {
namespace {

class GenericFamilyTest : public NodeTest {};

TEST_F(GenericFamilyTest, DelExistsType) {
  Run({"MSET", "a", "1", "b", "2"});
  EXPECT_EQ(Run({"EXISTS", "a", "a", "zz"}), ":2\r\n");
  EXPECT_EQ(Run({"TYPE", "a"}), "+string\r\n");
  EXPECT_EQ(Run({"TYPE", "zz"}), "+none\r\n");
  EXPECT_EQ(Run({"DEL", "a", "b", "zz"}), ":2\r\n");
  EXPECT_EQ(Run({"DBSIZE"}), ":0\r\n");
}

TEST_F(GenericFamilyTest, ExpireOptionsFollowRedis) {
  Run({"SET", "k", "v"});
  EXPECT_EQ(Run({"EXPIRE", "k", "100", "XX"}), ":0\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "100", "NX"}), ":1\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "50", "GT"}), ":0\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "50", "LT"}), ":1\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "50", "NX", "XX"}),
            "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "50", "FOO"}), "-ERR Unsupported option FOO\r\n");
  EXPECT_EQ(Run({"TTL", "k"}), ":50\r\n");
  EXPECT_EQ(Run({"PERSIST", "k"}), ":1\r\n");
  EXPECT_EQ(Run({"TTL", "k"}), ":-1\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "-1"}), ":1\r\n");
  EXPECT_EQ(Run({"EXISTS", "k"}), ":0\r\n");
  EXPECT_EQ(Run({"TTL", "k"}), ":-2\r\n");
}

TEST_F(GenericFamilyTest, ExpiredKeysAreReclaimedByTheActiveCycleWithoutAccess) {
  for (int i = 0; i < 200; i++) Run({"SET", "t" + std::to_string(i), "v", "PX", "20"});
  Run({"SET", "keep", "v"});
  std::string r;
  for (int i = 0; i < 300; i++) {
    r = Run({"INFO", "keyspace"});
    if (r.find("keys=1,") != std::string::npos) break;
    usleep(10000);
  }
  EXPECT_NE(r.find("db0:keys=1,expires=0"), std::string::npos) << r;
}

TEST_F(GenericFamilyTest, RenameCopyAndErrors) {
  EXPECT_EQ(Run({"RENAME", "nope", "x"}), "-ERR no such key\r\n");
  Run({"SET", "a", "1", "EX", "100"});
  EXPECT_EQ(Run({"RENAME", "a", "b"}), "+OK\r\n");
  EXPECT_EQ(Run({"TTL", "b"}), ":100\r\n");
  EXPECT_EQ(Run({"COPY", "b", "b"}), "-ERR source and destination objects are the same\r\n");
  EXPECT_EQ(Run({"COPY", "b", "c", "DB", "1"}), ":1\r\n");
  EXPECT_EQ(Run({"COPY", "b", "c", "DB", "99"}), "-ERR DB index is out of range\r\n");
  EXPECT_EQ(Run({"SELECT", "1"}), "+OK\r\n");
  EXPECT_EQ(Run({"GET", "c"}), "$1\r\n1\r\n");
  EXPECT_EQ(Run({"RENAMENX", "c", "c"}), ":0\r\n");
}

TEST_F(GenericFamilyTest, KeysAndScanSeeEveryKey) {
  for (int i = 0; i < 100; i++) Run({"SET", "user:" + std::to_string(i), "v"});
  Run({"SET", "other", "v"});
  std::string keys = Run({"KEYS", "user:*"});
  EXPECT_EQ(keys.substr(0, 6), "*100\r\n");
  std::set<std::string> seen;
  std::string cursor = "0";
  do {
    std::string r = Run({"SCAN", cursor, "MATCH", "user:*", "COUNT", "7"});
    size_t p = r.find("$");
    size_t nl = r.find("\r\n", p);
    size_t len = std::stoul(r.substr(p + 1, nl - p - 1));
    cursor = r.substr(nl + 2, len);
    size_t pos = r.find("user:");
    while (pos != std::string::npos) {
      seen.insert(r.substr(pos, r.find("\r\n", pos) - pos));
      pos = r.find("user:", pos + 1);
    }
  } while (cursor != "0");
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_EQ(Run({"SCAN", "abc"}), "-ERR invalid cursor\r\n");
}

TEST_F(GenericFamilyTest, ObjectSubcommands) {
  Run({"SET", "i", "12"});
  EXPECT_EQ(Run({"OBJECT", "ENCODING", "i"}), "$3\r\nint\r\n");
  EXPECT_EQ(Run({"OBJECT", "REFCOUNT", "i"}), ":2147483647\r\n");
  EXPECT_EQ(Run({"OBJECT", "ENCODING", "missing"}), "$-1\r\n");
  EXPECT_EQ(Run({"OBJECT", "FOO", "i"}), "-ERR unknown subcommand 'FOO'. Try OBJECT HELP.\r\n");
  EXPECT_EQ(Run({"OBJECT"}), "-ERR wrong number of arguments for 'object' command\r\n");
  EXPECT_EQ(Run({"OBJECT", "ENCODING"}),
            "-ERR wrong number of arguments for 'object|encoding' command\r\n");
}

}  // namespace
}  // namespace lattice::node
