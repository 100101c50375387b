// File: tests/resp/parser_test.cc
//
// Tests of the incremental RESP request parser against the behaviour of
// Redis 7.0 (processInlineBuffer / processMultibulkBuffer). Inputs are fed
// whole, byte by byte and in seeded random chunks through a buffer that
// behaves like a connection's: consumed bytes are dropped from the front, so
// the parser also sees its input move between calls.

#include "resp/parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace lattice::resp {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

using Command = std::vector<std::string>;

Command ToCommand(const std::vector<std::string_view>& args) {
  return Command(args.begin(), args.end());
}

std::string Bulk(std::string_view s) {
  return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}

std::string Multibulk(const Command& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& arg : args) out += Bulk(arg);
  return out;
}

struct Outcome {
  std::vector<Command> commands;
  ParseStatus last = ParseStatus::kNeedMore;
  std::string error;
  size_t leftover = 0;  // bytes still buffered at the end
};

// Feeds `input` to `parser` in pieces whose sizes `next_chunk` picks, like a
// connection: append what was read, parse until more input is needed, drop
// the consumed bytes.
Outcome Feed(Parser& parser, std::string_view input, const std::function<size_t()>& next_chunk) {
  Outcome outcome;
  std::string buffer;
  size_t fed = 0;
  while (fed < input.size()) {
    const size_t chunk = std::min(next_chunk(), input.size() - fed);
    buffer.append(input.substr(fed, chunk));
    fed += chunk;
    for (;;) {
      size_t consumed = 0;
      const ParseStatus status = parser.Parse(buffer, &consumed);
      EXPECT_LE(consumed, buffer.size());
      outcome.last = status;
      if (status == ParseStatus::kError) {
        EXPECT_EQ(consumed, 0u);
        outcome.error = parser.error();
        outcome.leftover = buffer.size();
        return outcome;
      }
      if (status == ParseStatus::kOk) {
        EXPECT_GT(consumed, 0u);
        outcome.commands.push_back(ToCommand(parser.args()));
      }
      buffer.erase(0, consumed);
      if (status == ParseStatus::kNeedMore) break;
    }
  }
  outcome.leftover = buffer.size();
  return outcome;
}

Outcome FeedWhole(Parser& parser, std::string_view input) {
  return Feed(parser, input, [&] { return input.size(); });
}

Outcome FeedByteByByte(Parser& parser, std::string_view input) {
  return Feed(parser, input, [] { return size_t{1}; });
}

Outcome FeedRandomly(Parser& parser, std::string_view input, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> small(1, 8);
  std::uniform_int_distribution<size_t> large(1, 4096);
  return Feed(parser, input, [&] { return rng() % 2 ? small(rng) : large(rng); });
}

// Parses `input` whole, byte by byte and in random chunks, expects the same
// outcome each way, and returns it.
Outcome FeedAllWays(std::string_view input, ParserLimits limits = {}) {
  Parser whole_parser(limits);
  const Outcome whole = FeedWhole(whole_parser, input);
  Parser byte_parser(limits);
  const Outcome bytes = FeedByteByByte(byte_parser, input);
  EXPECT_EQ(bytes.commands, whole.commands);
  EXPECT_EQ(bytes.last, whole.last);
  EXPECT_EQ(bytes.error, whole.error);
  // After a "too big" error the buffered bytes depend on how the input was
  // split; the connection closes then anyway.
  if (whole.last != ParseStatus::kError) {
    EXPECT_EQ(bytes.leftover, whole.leftover);
  }
  for (uint32_t seed = 1; seed <= 5; ++seed) {
    Parser random_parser(limits);
    const Outcome random = FeedRandomly(random_parser, input, seed);
    EXPECT_EQ(random.commands, whole.commands) << "seed " << seed;
    EXPECT_EQ(random.error, whole.error) << "seed " << seed;
  }
  return whole;
}

// Expects `input` to fail with `error` (given without "ERR Protocol error: ")
// however it is split.
void ExpectProtocolError(std::string_view input, std::string_view error, ParserLimits limits = {}) {
  const Outcome outcome = FeedAllWays(input, limits);
  EXPECT_EQ(outcome.last, ParseStatus::kError) << input;
  EXPECT_EQ(outcome.error, "ERR Protocol error: " + std::string(error)) << input;
}

TEST(Parser, ParsesMultibulkCommandAndReportsItsSize) {
  Parser parser;
  const std::string input = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
  size_t consumed = 99;
  ASSERT_EQ(parser.Parse(input, &consumed), ParseStatus::kOk);
  EXPECT_EQ(consumed, input.size());
  EXPECT_THAT(parser.args(), ElementsAre("SET", "key", "value"));
}

TEST(Parser, ArgumentsPointIntoTheCallersBuffer) {
  Parser parser;
  const std::string input = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
  size_t consumed = 0;
  ASSERT_EQ(parser.Parse(input, &consumed), ParseStatus::kOk);
  ASSERT_EQ(parser.args().size(), 2u);
  EXPECT_EQ(parser.args()[0].data(), input.data() + 8);
  EXPECT_EQ(parser.args()[1].data(), input.data() + 17);
}

TEST(Parser, WaitsWithoutConsumingWhileACommandIsIncomplete) {
  Parser parser;
  const std::string input = "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n";
  for (size_t len = 0; len < input.size(); ++len) {
    size_t consumed = 99;
    EXPECT_EQ(parser.Parse(std::string_view(input).substr(0, len), &consumed),
              ParseStatus::kNeedMore)
        << "prefix of " << len << " bytes";
    EXPECT_EQ(consumed, 0u);
  }
  size_t consumed = 0;
  ASSERT_EQ(parser.Parse(input, &consumed), ParseStatus::kOk);
  EXPECT_EQ(consumed, input.size());
  EXPECT_THAT(parser.args(), ElementsAre("GET", "key"));
}

TEST(Parser, ParsesCommandFedByteByByte) {
  const std::string input = Multibulk({"SET", "key", "value"});
  const Outcome outcome = FeedAllWays(input);
  EXPECT_THAT(outcome.commands, ElementsAre(Command{"SET", "key", "value"}));
  EXPECT_EQ(outcome.leftover, 0u);
}

TEST(Parser, SurvivesTheBufferMovingBetweenCalls) {
  Parser parser;
  const std::string input = Multibulk({"SET", "key", std::string(100, 'v')});
  std::string buffer;
  size_t consumed = 0;
  for (size_t i = 0; i + 1 < input.size(); i += 7) {
    // A fresh copy each time: the old bytes live at a new address.
    buffer = std::string(input.substr(0, i + 1));
    ASSERT_EQ(parser.Parse(buffer, &consumed), ParseStatus::kNeedMore);
  }
  buffer = input;
  ASSERT_EQ(parser.Parse(buffer, &consumed), ParseStatus::kOk);
  EXPECT_THAT(parser.args(), ElementsAre("SET", "key", std::string(100, 'v')));
}

TEST(Parser, ParsesPipelinedCommandsFromOneBuffer) {
  Parser parser;
  const std::string first = Multibulk({"SET", "a", "1"});
  const std::string second = Multibulk({"GET", "a"});
  const std::string third = "PING\r\n";
  const std::string input = first + second + third;
  std::string_view rest = input;
  size_t consumed = 0;

  ASSERT_EQ(parser.Parse(rest, &consumed), ParseStatus::kOk);
  EXPECT_EQ(consumed, first.size());
  EXPECT_THAT(parser.args(), ElementsAre("SET", "a", "1"));
  rest.remove_prefix(consumed);

  ASSERT_EQ(parser.Parse(rest, &consumed), ParseStatus::kOk);
  EXPECT_EQ(consumed, second.size());
  EXPECT_THAT(parser.args(), ElementsAre("GET", "a"));
  rest.remove_prefix(consumed);

  ASSERT_EQ(parser.Parse(rest, &consumed), ParseStatus::kOk);
  EXPECT_EQ(consumed, third.size());
  EXPECT_THAT(parser.args(), ElementsAre("PING"));
  rest.remove_prefix(consumed);

  EXPECT_EQ(parser.Parse(rest, &consumed), ParseStatus::kNeedMore);
  EXPECT_EQ(consumed, 0u);
}

TEST(Parser, ParsesALongPipelineInRandomChunks) {
  std::mt19937 rng(42);
  std::string input;
  std::vector<Command> expected;
  for (int i = 0; i < 2000; ++i) {
    const std::string key = "key:" + std::to_string(rng() % 100000);
    Command command;
    switch (rng() % 4) {
      case 0:
        command = {"GET", key};
        break;
      case 1:
        command = {"SET", key, std::string(rng() % 300, 'x')};
        break;
      case 2:
        command = {"MSET", key, "1", key + "b", ""};
        break;
      default:
        command = {"PING"};
        break;
    }
    input += Multibulk(command);
    expected.push_back(command);
  }
  const Outcome outcome = FeedAllWays(input);
  EXPECT_EQ(outcome.commands, expected);
  EXPECT_EQ(outcome.last, ParseStatus::kNeedMore);
  EXPECT_EQ(outcome.leftover, 0u);
}

TEST(Parser, KeepsBinaryArgumentsIntact) {
  const std::string binary("a\0b\r\nc\r\n\0", 9);
  const std::string input = Multibulk({"SET", std::string("k\0", 2), binary});
  const Outcome outcome = FeedAllWays(input);
  EXPECT_THAT(outcome.commands, ElementsAre(Command{"SET", std::string("k\0", 2), binary}));
}

TEST(Parser, AcceptsEmptyBulkArguments) {
  const Outcome outcome = FeedAllWays("*3\r\n$3\r\nSET\r\n$0\r\n\r\n$0\r\n\r\n");
  EXPECT_THAT(outcome.commands, ElementsAre(Command{"SET", "", ""}));
}

TEST(Parser, SkipsTwoBytesAfterABulkWithoutCheckingThem) {
  // Redis trusts the length and never looks at the trailing CRLF.
  const Outcome outcome = FeedAllWays("*2\r\n$3\r\nGETXY$1\r\nkZZ");
  EXPECT_THAT(outcome.commands, ElementsAre(Command{"GET", "k"}));
}

TEST(Parser, AcceptsAnyByteAfterTheCarriageReturnOfALengthLine) {
  const Outcome outcome = FeedAllWays("*1\rX$4\r?PING\r\n");
  EXPECT_THAT(outcome.commands, ElementsAre(Command{"PING"}));
}

TEST(Parser, WaitsForTheByteAfterACarriageReturn) {
  Parser parser;
  size_t consumed = 0;
  EXPECT_EQ(parser.Parse("*1\r", &consumed), ParseStatus::kNeedMore);
  EXPECT_EQ(parser.Parse("*1\r\n$4\r", &consumed), ParseStatus::kNeedMore);
  EXPECT_EQ(parser.Parse("*1\r\n$4\r\nPING\r\n", &consumed), ParseStatus::kOk);
  EXPECT_THAT(parser.args(), ElementsAre("PING"));
}

TEST(Parser, SkipsEmptyMultibulkFrames) {
  const Outcome outcome = FeedAllWays("*0\r\n*-1\r\n*-7\r\n*1\r\n$4\r\nPING\r\n");
  EXPECT_THAT(outcome.commands, ElementsAre(Command{"PING"}));
  EXPECT_EQ(outcome.leftover, 0u);
}

TEST(Parser, ConsumesSkippedFramesWhenNothingElseIsBuffered) {
  Parser parser;
  size_t consumed = 0;
  EXPECT_EQ(parser.Parse("*0\r\n\r\n  \r\n", &consumed), ParseStatus::kNeedMore);
  EXPECT_EQ(consumed, 10u);
}

TEST(Parser, ConsumesSkippedFramesBeforeAPartialCommand) {
  Parser parser;
  size_t consumed = 0;
  // The partial command's state is relative to where it starts, after the
  // bytes the caller is told to drop.
  EXPECT_EQ(parser.Parse("\r\n*0\r\n*1\r\n$4\r\nPI", &consumed), ParseStatus::kNeedMore);
  EXPECT_EQ(consumed, 6u);
  EXPECT_EQ(parser.Parse("*1\r\n$4\r\nPING\r\n", &consumed), ParseStatus::kOk);
  EXPECT_EQ(consumed, 14u);
  EXPECT_THAT(parser.args(), ElementsAre("PING"));
}

TEST(Parser, CountsSkippedBytesInTheNextCommand) {
  Parser parser;
  size_t consumed = 0;
  EXPECT_EQ(parser.Parse("\n*0\r\nPING\r\n", &consumed), ParseStatus::kOk);
  EXPECT_EQ(consumed, 11u);
  EXPECT_THAT(parser.args(), ElementsAre("PING"));
}

TEST(Parser, ReportsTooBigMultibulkCountStringPast64KiB) {
  // Exactly 64 KiB without a CR is still a line in progress.
  Parser parser;
  size_t consumed = 0;
  const std::string at_limit = "*" + std::string(64 * 1024 - 1, '1');
  EXPECT_EQ(parser.Parse(at_limit, &consumed), ParseStatus::kNeedMore);
  EXPECT_EQ(parser.Parse(at_limit + "1", &consumed), ParseStatus::kError);
  EXPECT_EQ(parser.error(), "ERR Protocol error: too big mbulk count string");
}

TEST(Parser, ReportsInvalidMultibulkLengthForALongLineWithItsCR) {
  // Redis only limits a length line while its CR is missing.
  ExpectProtocolError("*" + std::string(70000, '1') + "\r\n", "invalid multibulk length",
                      ParserLimits{.max_inline_len = SIZE_MAX});
}

TEST(Parser, ReportsTooBigBulkCountStringPast64KiB) {
  ExpectProtocolError("*1\r\n$" + std::string(64 * 1024 + 10, '1'), "too big bulk count string");
}

TEST(Parser, ReportsInvalidMultibulkLengthForNonNumbers) {
  for (const char* input : {"*\r\n", "*abc\r\n", "*+1\r\n", "*01\r\n", "* 1\r\n", "*1 \r\n",
                            "*-\r\n", "*-0\r\n", "*1.5\r\n", "*99999999999999999999\r\n"}) {
    ExpectProtocolError(input, "invalid multibulk length");
  }
}

TEST(Parser, ReportsInvalidMultibulkLengthAboveIntMax) {
  ExpectProtocolError("*2147483648\r\n", "invalid multibulk length");
}

TEST(Parser, AcceptsIntMaxMultibulkCountAndWaitsForArguments) {
  Parser parser;
  size_t consumed = 99;
  EXPECT_EQ(parser.Parse("*2147483647\r\n", &consumed), ParseStatus::kNeedMore);
  EXPECT_EQ(consumed, 0u);
  EXPECT_EQ(parser.Parse("*2147483647\r\n$3\r\nSET\r\n", &consumed), ParseStatus::kNeedMore);
}

TEST(Parser, ReportsTheByteFoundInsteadOfDollar) {
  ExpectProtocolError("*1\r\nGET\r\n", "expected '$', got 'G'");
  ExpectProtocolError("*2\r\n$3\r\nGET\r\n:1\r\n", "expected '$', got ':'");
  ExpectProtocolError("*1\r\n\r\n", "expected '$', got '\r'");
}

TEST(Parser, WaitsForTheLineEndBeforeCheckingForDollar) {
  const Outcome outcome = FeedAllWays("*1\r\nGET");
  EXPECT_EQ(outcome.last, ParseStatus::kNeedMore);
}

TEST(Parser, ReportsInvalidBulkLengthForNonNumbers) {
  for (const char* input :
       {"*1\r\n$\r\n", "*1\r\n$x\r\n", "*1\r\n$+3\r\n", "*1\r\n$03\r\n", "*1\r\n$3 \r\n"}) {
    ExpectProtocolError(input, "invalid bulk length");
  }
}

TEST(Parser, ReportsInvalidBulkLengthForNegativeLengths) {
  ExpectProtocolError("*1\r\n$-1\r\n", "invalid bulk length");
}

TEST(Parser, ReportsInvalidBulkLengthForFourGigabytes) {
  ExpectProtocolError("*1\r\n$4294967296\r\n", "invalid bulk length");
}

TEST(Parser, ReportsInvalidBulkLengthAboveProtoMaxBulkLen) {
  ExpectProtocolError("*1\r\n$536870913\r\n", "invalid bulk length");
  const Outcome outcome = FeedAllWays("*1\r\n$536870912\r\n");
  EXPECT_EQ(outcome.last, ParseStatus::kNeedMore);
}

TEST(Parser, HintsTheBufferSizeNeededForALargeBulk) {
  Parser parser;
  size_t consumed = 0;
  const std::string head = "*2\r\n$3\r\nSET\r\n$1000000\r\n";
  EXPECT_EQ(parser.BytesHint(), 0u);
  ASSERT_EQ(parser.Parse(head + "abc", &consumed), ParseStatus::kNeedMore);
  EXPECT_EQ(parser.BytesHint(), head.size() + 1000000 + 2);
  ASSERT_EQ(parser.Parse(head + std::string(1000000, 'v') + "\r\n", &consumed), ParseStatus::kOk);
  EXPECT_EQ(parser.BytesHint(), 0u);
}

TEST(Parser, ForgetsAPartialCommandOnReset) {
  Parser parser;
  size_t consumed = 0;
  ASSERT_EQ(parser.Parse("*2\r\n$3\r\nGET\r\n", &consumed), ParseStatus::kNeedMore);
  parser.Reset();
  ASSERT_EQ(parser.Parse("PING\r\n", &consumed), ParseStatus::kOk);
  EXPECT_THAT(parser.args(), ElementsAre("PING"));
}

TEST(Parser, ParsesInlineCommands) {
  const Outcome outcome = FeedAllWays("SET key value\r\nGET key\nPING\r\n  spaced \t out  \r\n");
  EXPECT_THAT(outcome.commands, ElementsAre(Command{"SET", "key", "value"}, Command{"GET", "key"},
                                            Command{"PING"}, Command{"spaced", "out"}));
}

TEST(Parser, ReportsTheInlineCommandSize) {
  Parser parser;
  size_t consumed = 0;
  ASSERT_EQ(parser.Parse("GET k\r\nGET", &consumed), ParseStatus::kOk);
  EXPECT_EQ(consumed, 7u);
  ASSERT_EQ(parser.Parse("GET k\nGET", &consumed), ParseStatus::kOk);
  EXPECT_EQ(consumed, 6u);
}

TEST(Parser, SkipsEmptyInlineLines) {
  const Outcome outcome = FeedAllWays("\r\n\n   \r\n\t\r\nPING\r\n\r\n");
  EXPECT_THAT(outcome.commands, ElementsAre(Command{"PING"}));
  EXPECT_EQ(outcome.leftover, 0u);
}

TEST(Parser, UnescapesDoubleQuotedInlineArguments) {
  const Outcome outcome =
      FeedAllWays("SET \"a key\" \"x\\n\\r\\t\\b\\a\\\\\\\"\\x41\\x7a\\q\"\r\n");
  EXPECT_THAT(outcome.commands, ElementsAre(Command{"SET", "a key", "x\n\r\t\b\a\\\"Azq"}));
}

TEST(Parser, KeepsInvalidHexEscapesAsLetters) {
  const Outcome outcome = FeedAllWays("ECHO \"\\xg1\\x4\"\r\n");
  EXPECT_THAT(outcome.commands, ElementsAre(Command{"ECHO", "xg1x4"}));
}

TEST(Parser, UnescapesOnlyQuotesInSingleQuotedInlineArguments) {
  const Outcome outcome = FeedAllWays("SET k 'it\\'s \\n \"raw\"'\r\n");
  EXPECT_THAT(outcome.commands, ElementsAre(Command{"SET", "k", "it's \\n \"raw\""}));
}

TEST(Parser, JoinsAQuotedPartWithThePrecedingWord) {
  const Outcome outcome = FeedAllWays("SET key\"a b\" v'x'\r\n");
  EXPECT_THAT(outcome.commands, ElementsAre(Command{"SET", "keya b", "vx"}));
}

TEST(Parser, KeepsEmptyQuotedInlineArguments) {
  const Outcome outcome = FeedAllWays("SET k \"\"\r\nSET k ''\r\n");
  EXPECT_THAT(outcome.commands, ElementsAre(Command{"SET", "k", ""}, Command{"SET", "k", ""}));
}

TEST(Parser, TreatsVerticalTabAsPartOfAWord) {
  // sdssplitargs() skips any isspace() between words but only ends a word
  // at space, tab, CR or LF.
  const Outcome outcome = FeedAllWays("\vECHO a\vb \"q\"\f\r\n");
  EXPECT_THAT(outcome.commands, ElementsAre(Command{"ECHO", "a\vb", "q"}));
}

TEST(Parser, ReportsUnbalancedQuotes) {
  for (const char* input : {"SET k \"abc\r\n", "SET k 'abc\r\n", "SET k \"a\"b\r\n",
                            "SET k 'a'b\r\n", "SET k \"abc\\\"\r\n", "\"\r\n"}) {
    ExpectProtocolError(input, "unbalanced quotes in request");
  }
}

TEST(Parser, UnquotedInlineArgumentsPointIntoTheCallersBuffer) {
  Parser parser;
  const std::string input = "GET key\r\n";
  size_t consumed = 0;
  ASSERT_EQ(parser.Parse(input, &consumed), ParseStatus::kOk);
  EXPECT_EQ(parser.args()[1].data(), input.data() + 4);
}

TEST(Parser, ReportsTooBigInlineRequestPast64KiB) {
  Parser parser;
  size_t consumed = 0;
  const std::string at_limit(64 * 1024, 'a');
  EXPECT_EQ(parser.Parse(at_limit, &consumed), ParseStatus::kNeedMore);
  EXPECT_EQ(parser.Parse(at_limit + "a", &consumed), ParseStatus::kError);
  EXPECT_EQ(parser.error(), "ERR Protocol error: too big inline request");
}

TEST(Parser, AcceptsALongInlineLineOnceItsNewlineArrived) {
  const std::string word(100000, 'w');
  const Outcome outcome =
      FeedAllWays("ECHO " + word + "\r\n", ParserLimits{.max_inline_len = SIZE_MAX});
  EXPECT_THAT(outcome.commands, ElementsAre(Command{"ECHO", word}));
}

TEST(Parser, LetsANulByteHideTheLineEndAsRedisDoes) {
  // Redis looks for line ends with strchr(), which stops at a NUL byte.
  Parser parser;
  size_t consumed = 0;
  const std::string inline_nul("GET a\0b\r\n", 9);
  EXPECT_EQ(parser.Parse(inline_nul, &consumed), ParseStatus::kNeedMore);
  EXPECT_EQ(parser.Parse(inline_nul + std::string(64 * 1024, '\n'), &consumed),
            ParseStatus::kError);
  EXPECT_EQ(parser.error(), "ERR Protocol error: too big inline request");

  const std::string bulk_nul("*1\r\n$\0\r\n", 9);
  EXPECT_EQ(parser.Parse(bulk_nul, &consumed), ParseStatus::kNeedMore);
}

TEST(Parser, AppliesConfiguredLimits) {
  const ParserLimits limits{.max_bulk_len = 10, .max_multibulk_len = 3, .max_inline_len = 16};
  EXPECT_THAT(FeedAllWays(Multibulk({"SET", "k", "0123456789"}), limits).commands,
              ElementsAre(Command{"SET", "k", "0123456789"}));
  ExpectProtocolError(Multibulk({"SET", "k", "0123456789a"}), "invalid bulk length", limits);
  ExpectProtocolError(Multibulk({"A", "B", "C", "D"}), "invalid multibulk length", limits);
  ExpectProtocolError(std::string(17, 'x'), "too big inline request", limits);
  ExpectProtocolError("*" + std::string(17, '1'), "too big mbulk count string", limits);
  ExpectProtocolError("*1\r\n$" + std::string(17, '1'), "too big bulk count string", limits);
}

TEST(Parser, AppliesLimitsChangedAfterConstruction) {
  Parser parser;
  parser.set_limits(ParserLimits{.max_bulk_len = 2});
  size_t consumed = 0;
  EXPECT_EQ(parser.Parse("*1\r\n$3\r\nabc\r\n", &consumed), ParseStatus::kError);
  EXPECT_EQ(parser.error(), "ERR Protocol error: invalid bulk length");
}

TEST(Parser, ClearsArgumentsOnError) {
  Parser parser;
  size_t consumed = 0;
  ASSERT_EQ(parser.Parse("PING\r\n", &consumed), ParseStatus::kOk);
  ASSERT_EQ(parser.Parse("*x\r\n", &consumed), ParseStatus::kError);
  EXPECT_THAT(parser.args(), IsEmpty());
}

TEST(Parser, ParsesAHugeInlineLineFedByteByByteInLinearTime) {
  // Quadratic rescanning would take billions of steps here.
  const std::string input = "ECHO " + std::string(60000, 'x') + "\r\n";
  Parser parser;
  const Outcome outcome = FeedByteByByte(parser, input);
  ASSERT_EQ(outcome.commands.size(), 1u);
  EXPECT_EQ(outcome.commands[0][1].size(), 60000u);
}

}  // namespace
}  // namespace lattice::resp
