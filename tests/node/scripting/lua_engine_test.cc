// The scripting pieces Redis cannot be compared with: inputs that crash
// or hang Redis 7.0.15 (error({})), hostile library inputs, and the shared
// helpers (SHA-1, shebangs, the random sequence, SCRIPT KILL's bookkeeping).
// Everything Redis defines is compared byte for byte in
// tests/integration/differential_test.py (family "scripting").
#include "node/scripting/scripting.h"

#include "tests/node/test_utils.h"

namespace lattice::node {
namespace {

TEST(Sha1Hex, MatchesKnownDigests) {
  EXPECT_EQ(Sha1Hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(Sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Sha1Hex("return 1"), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

TEST(ParseShebang, ReadsFlagsAndRefusesUnknownOnes) {
  bool shebang;
  uint32_t flags;
  std::string error;
  ASSERT_TRUE(ParseShebang("return 1", &shebang, &flags, &error));
  EXPECT_FALSE(shebang);
  ASSERT_TRUE(ParseShebang("#!lua flags=no-writes,allow-oom\nreturn 1", &shebang, &flags, &error));
  EXPECT_TRUE(shebang);
  EXPECT_EQ(flags, kScriptNoWrites | kScriptAllowOom);
  EXPECT_FALSE(ParseShebang("#!lua flags=nope\n", &shebang, &flags, &error));
  EXPECT_EQ(error, "ERR Unexpected flag in script shebang: nope");
  EXPECT_FALSE(ParseShebang("#!lua name=x\n", &shebang, &flags, &error));
  EXPECT_EQ(error, "ERR Unknown lua shebang option: name=x");
  EXPECT_FALSE(ParseShebang("#!perl\n", &shebang, &flags, &error));
  EXPECT_EQ(error, "ERR Unexpected engine in script shebang: #!perl");
}

TEST(Scripting, RandomSequenceIsDrand48s) {
  Scripting s;
  // Unseeded drand48 (state 0x1234ABCD330E), as redis-server 7.0.15 gives.
  EXPECT_NEAR(s.NextRandom(), 0.3964647736383904, 1e-15);
  EXPECT_NEAR(s.NextRandom(), 0.8404853697123403, 1e-15);
  s.Seed(5);
  EXPECT_NEAR(s.NextRandom(), 0.5248395793721264, 1e-15);
}

TEST(Scripting, KillRefusesWhileAScriptHasWritten) {
  Scripting s;
  EXPECT_EQ(s.Kill(), Scripting::KillResult::kNotBusy);
  RunningScript a, b;
  s.Register(&a);
  s.Register(&b);
  b.wrote = true;
  EXPECT_EQ(s.Kill(), Scripting::KillResult::kUnkillable);
  EXPECT_FALSE(a.kill.load());
  s.Unregister(&b);
  EXPECT_EQ(s.Kill(), Scripting::KillResult::kKilled);
  EXPECT_TRUE(a.kill.load());
  s.MarkBusy(&a);
  EXPECT_TRUE(s.busy());
  s.Unregister(&a);
  EXPECT_FALSE(s.busy());
}

class LuaEngineTest : public NodeTest {};

TEST_F(LuaEngineTest, AnErrorTableWithoutErrIsAnErrorNotACrash) {
  // Redis 7.0.15 crashes on this one.
  std::string r = Run({"EVAL", "error({})", "0"});
  EXPECT_EQ(r.substr(0, 5), "-ERR ") << r;
  r = Run({"EVAL", "error({err=5})", "0"});
  EXPECT_EQ(r[0], '-') << r;
  EXPECT_EQ(Run({"PING"}), "+PONG\r\n");
}

TEST_F(LuaEngineTest, RunawayRecursionAndHugeValuesFailCleanly) {
  std::string r = Run({"EVAL", "local function f(n) return f(n + 1) + 1 end return f(1)", "0"});
  EXPECT_NE(r.find("stack overflow"), std::string::npos) << r;
  r = Run({"EVAL", "local t = {} for i = 1, 200000 do t[i] = i end return t", "0"});
  EXPECT_EQ(r.substr(0, 9), "*200000\r\n");
  r = Run({"EVAL", "local t = {} local c = t for i = 1, 100000 do c[1] = {} c = c[1] end "
                   "return cmsgpack.pack(t):len()", "0"});
  EXPECT_EQ(r, ":17\r\n");  // deeper than 16 levels encodes as nil
  EXPECT_EQ(Run({"PING"}), "+PONG\r\n");
}

TEST_F(LuaEngineTest, GarbageForTheLibrariesIsALuaError) {
  for (const char* body :
       {"return cmsgpack.unpack('\\220\\255\\255')", "return cmsgpack.unpack('\\193')",
        "return cmsgpack.unpack('\\219\\255\\255\\255\\255ab')",
        "return cmsgpack.unpack_one('\\1', 5)", "return struct.unpack('>I4', 'ab')",
        "return struct.pack('i9', 1)", "return struct.unpack('s', 'abc')",
        "return cjson.decode('{\"a\":')", "return cjson.decode(string.rep('[', 2000))"}) {
    std::string r = Run({"EVAL", body, "0"});
    EXPECT_EQ(r.substr(0, 5), "-ERR ") << body << " -> " << r;
  }
  EXPECT_EQ(Run({"EVAL", "return {cmsgpack.unpack('\\196\\2hi\\147\\1\\2\\3')}", "0"}),
            "*2\r\n$2\r\nhi\r\n*3\r\n:1\r\n:2\r\n:3\r\n");
  EXPECT_EQ(Run({"PING"}), "+PONG\r\n");
}

TEST_F(LuaEngineTest, ScriptsSeeNoStateOfEarlierOnes) {
  EXPECT_EQ(Run({"EVAL", "rawset(KEYS, 'leak', 1) return 1", "0"}), ":1\r\n");
  // KEYS is made anew for every call; the globals cannot be written.
  EXPECT_EQ(Run({"EVAL", "return KEYS.leak", "0"}), "$-1\r\n");
  std::string r = Run({"EVAL", "local mt = getmetatable(_G) mt.__newindex = nil x = 1", "0"});
  EXPECT_NE(r.find("Attempt to modify a readonly table"), std::string::npos) << r;
  r = Run({"EVAL", "local f, s = pairs(string) s.evil = 1 return 1", "0"});
  EXPECT_NE(r.find("Attempt to modify a readonly table"), std::string::npos) << r;
  EXPECT_EQ(Run({"EVAL", "return string.evil", "0"}), "$-1\r\n");
}

TEST_F(LuaEngineTest, ScriptFlushForgetsCompiledScriptsOnEveryThread) {
  std::string sha = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db";
  EXPECT_EQ(Run({"SCRIPT", "LOAD", "return 1"}), "$40\r\n" + sha + "\r\n");
  EXPECT_EQ(Run({"EVALSHA", sha, "0"}), ":1\r\n");
  EXPECT_EQ(Run({"SCRIPT", "FLUSH"}), "+OK\r\n");
  EXPECT_EQ(Run({"EVALSHA", sha, "0"}), "-NOSCRIPT No matching script. Please use EVAL.\r\n");
  EXPECT_EQ(Run({"EVAL", "return 1", "0"}), ":1\r\n");
  EXPECT_EQ(Run({"EVALSHA", sha, "0"}), ":1\r\n");
}

}  // namespace
}  // namespace lattice::node
