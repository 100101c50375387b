// File: tests/resp/reply_builder_test.cc
//
// Tests that every reply type encodes byte for byte as Redis 7.0 does, in
// RESP2 and in RESP3.

#include "resp/reply_builder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>

namespace lattice::resp {
namespace {

// Encodes with `build` under `protocol` and returns the bytes.
template <typename Build>
std::string Encode(int protocol, Build build) {
  std::string out;
  ReplyBuilder builder(&out, protocol);
  build(builder);
  return out;
}

std::string Resp2(void (*build)(ReplyBuilder&)) { return Encode(2, build); }
std::string Resp3(void (*build)(ReplyBuilder&)) { return Encode(3, build); }

std::string PrintfG17(double d) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", d);
  return buf;
}

TEST(ReplyBuilder, EncodesSimpleStrings) {
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.SimpleString("PONG"); }), "+PONG\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Ok(); }), "+OK\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.SimpleString(""); }), "+\r\n");
}

TEST(ReplyBuilder, EncodesErrorsWithTheirCode) {
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Error("ERR unknown command"); }),
            "-ERR unknown command\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Error("WRONGTYPE Operation against a key"); }),
            "-WRONGTYPE Operation against a key\r\n");
}

TEST(ReplyBuilder, ReplacesLineBreaksInErrorsWithSpaces) {
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Error("ERR Protocol error: expected '$', got '\r'"); }),
            "-ERR Protocol error: expected '$', got ' '\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Error("ERR a\r\nb\nc"); }), "-ERR a  b c\r\n");
}

TEST(ReplyBuilder, KeepsEarlierOutputWhenSanitizingAnError) {
  std::string out = "+keep\r\n";
  ReplyBuilder builder(&out);
  builder.Error("ERR x\ny");
  EXPECT_EQ(out, "+keep\r\n-ERR x y\r\n");
}

TEST(ReplyBuilder, EncodesIntegersLikePrintf) {
  const int64_t values[] = {0,
                            1,
                            -1,
                            9,
                            10,
                            99,
                            100,
                            101,
                            999,
                            1000,
                            12345,
                            -12345,
                            1000000007,
                            std::numeric_limits<int64_t>::max(),
                            std::numeric_limits<int64_t>::min(),
                            std::numeric_limits<int64_t>::min() + 1};
  for (const int64_t v : values) {
    std::string out;
    ReplyBuilder builder(&out);
    builder.Integer(v);
    EXPECT_EQ(out, ":" + std::to_string(v) + "\r\n");
  }
}

TEST(ReplyBuilder, EncodesEveryIntegerUpToTwentyThousand) {
  std::string out;
  std::string expected;
  ReplyBuilder builder(&out);
  for (int64_t v = -20000; v <= 20000; ++v) {
    builder.Integer(v);
    expected += ":" + std::to_string(v) + "\r\n";
  }
  EXPECT_EQ(out, expected);
}

TEST(ReplyBuilder, EncodesBulkStrings) {
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Bulk("bar"); }), "$3\r\nbar\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Bulk(""); }), "$0\r\n\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Bulk(std::string_view("a\0\r\nb", 5)); }),
            std::string("$5\r\na\0\r\nb\r\n", 11));
}

TEST(ReplyBuilder, EncodesBulkStringsOfEverySize) {
  // Crosses the size where the builder stops assembling on the stack.
  for (size_t size = 0; size < 1100; ++size) {
    const std::string value(size, static_cast<char>('a' + size % 26));
    std::string out = "prefix";
    ReplyBuilder builder(&out);
    builder.Bulk(value);
    EXPECT_EQ(out, "prefix$" + std::to_string(size) + "\r\n" + value + "\r\n");
  }
}

TEST(ReplyBuilder, EncodesNullsPerProtocol) {
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Null(); }), "$-1\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Null(); }), "_\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.NullArray(); }), "*-1\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.NullArray(); }), "_\r\n");
}

TEST(ReplyBuilder, EncodesAggregateHeadersPerProtocol) {
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.ArrayHeader(3); }), "*3\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.ArrayHeader(0); }), "*0\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.MapHeader(2); }), "*4\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.MapHeader(2); }), "%2\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.SetHeader(5); }), "*5\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.SetHeader(5); }), "~5\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.PushHeader(3); }), "*3\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.PushHeader(3); }), ">3\r\n");
}

TEST(ReplyBuilder, EncodesDoublesAsBulkStringsInResp2) {
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Double(1.5); }), "$3\r\n1.5\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Double(0.1); }), "$19\r\n0.10000000000000001\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Double(3); }), "$1\r\n3\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Double(INFINITY); }), "$3\r\ninf\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Double(-INFINITY); }), "$4\r\n-inf\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Double(NAN); }), "$3\r\nnan\r\n");
}

TEST(ReplyBuilder, EncodesDoublesNativelyInResp3) {
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Double(1.5); }), ",1.5\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Double(-0.0); }), ",-0\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Double(INFINITY); }), ",inf\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Double(-INFINITY); }), ",-inf\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Double(-NAN); }), ",nan\r\n");
}

TEST(ReplyBuilder, FormatsDoublesExactlyLikePrintfG17) {
  const double values[] = {0.0,     1.0,  -2.5,   1e16,          1e17,
                           1.5e300, 1e-5, 1e-320, 123456789.123, 3.14159,
                           2.0 / 3, 1e21, -1e-7,  4.9e-324,      1.7976931348623157e308};
  for (const double d : values) {
    std::string out;
    ReplyBuilder builder(&out, 3);
    builder.Double(d);
    EXPECT_EQ(out, "," + PrintfG17(d) + "\r\n");
  }
}

TEST(ReplyBuilder, EncodesBooleansPerProtocol) {
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Bool(true); }), ":1\r\n");
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Bool(false); }), ":0\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Bool(true); }), "#t\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Bool(false); }), "#f\r\n");
}

TEST(ReplyBuilder, EncodesVerbatimStringsPerProtocol) {
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Verbatim("# Server\r\n"); }), "$10\r\n# Server\r\n\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Verbatim("# Server\r\n"); }),
            "=14\r\ntxt:# Server\r\n\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.Verbatim("**x**", "mkd"); }), "=9\r\nmkd:**x**\r\n");
}

TEST(ReplyBuilder, EncodesBigNumbersPerProtocol) {
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.BigNumber("1234567890123456789012345"); }),
            "$25\r\n1234567890123456789012345\r\n");
  EXPECT_EQ(Resp3([](ReplyBuilder& b) { b.BigNumber("-1234567890123456789012345"); }),
            "(-1234567890123456789012345\r\n");
}

TEST(ReplyBuilder, AppendsRawBytesUnchanged) {
  EXPECT_EQ(Resp2([](ReplyBuilder& b) { b.Raw("+PONG\r\n:1\r\n"); }), "+PONG\r\n:1\r\n");
}

TEST(ReplyBuilder, SwitchesProtocolAndOutput) {
  std::string first;
  std::string second;
  ReplyBuilder builder(&first);
  EXPECT_EQ(builder.protocol(), 2);
  builder.Null();
  builder.set_protocol(3);
  builder.set_out(&second);
  EXPECT_EQ(builder.out(), &second);
  builder.Null();
  EXPECT_EQ(first, "$-1\r\n");
  EXPECT_EQ(second, "_\r\n");
}

TEST(ReplyBuilder, BatchesAPipelineOfRepliesIntoOneBuffer) {
  std::string out;
  ReplyBuilder builder(&out);
  builder.Ok();
  builder.Bulk("v");
  builder.Null();
  builder.ArrayHeader(2);
  builder.Integer(1);
  builder.Bulk("x");
  EXPECT_EQ(out, "+OK\r\n$1\r\nv\r\n$-1\r\n*2\r\n:1\r\n$1\r\nx\r\n");
}

}  // namespace
}  // namespace lattice::resp
