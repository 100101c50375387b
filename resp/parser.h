// File: resp/parser.h
//
// Incremental parser for client requests in the Redis protocol: RESP multibulk
// frames (`*N\r\n$L\r\n...`) and inline commands (`SET k v\r\n`, as telnet and
// redis-cli send). It knows nothing of the server.
//
// The caller owns the input buffer. Parse() looks at the unconsumed bytes,
// starting at the beginning of the command being parsed, and either completes
// one command, asks for more input, or reports a protocol error with Redis's
// error text. The parser remembers how far it got inside a partial command, so
// a command that arrives one byte at a time costs O(total bytes), not O(n^2).
//
// Thread-safety: a Parser is owned by one connection and used by one thread.
#ifndef LATTICE_RESP_PARSER_H_
#define LATTICE_RESP_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lattice::resp {

// Limits as in redis.conf. Redis rejects a multibulk count above INT_MAX and
// a bulk length above proto-max-bulk-len; an inline line or a length line
// without its CRLF may not exceed 64 KiB (PROTO_INLINE_MAX_SIZE).
struct ParserLimits {
  int64_t max_bulk_len = 512LL * 1024 * 1024;  // proto-max-bulk-len
  int64_t max_multibulk_len = 2147483647;      // INT_MAX, as Redis
  size_t max_inline_len = 64 * 1024;           // PROTO_INLINE_MAX_SIZE
};

enum class ParseStatus {
  kOk,        // one command parsed: args() is valid, *consumed bytes used
  kNeedMore,  // the command is incomplete; call again with more bytes
  kError,     // protocol error: error() holds Redis's text; close after reply
};

class Parser {
 public:
  explicit Parser(ParserLimits limits = {});

  // Parses the next command from `data`, which must start at the first byte
  // not yet consumed and must contain (at least) every byte passed in the
  // previous call that returned kNeedMore. Sets *consumed to the number of
  // bytes the caller may drop from the front of its buffer:
  //  - kOk: the bytes of the parsed command (args() views point into `data`
  //    and stay valid until the caller changes the buffer);
  //  - kNeedMore: always 0 (offsets are kept relative to the command start,
  //    so the caller may move the unconsumed bytes, e.g. to the front);
  //  - kError: 0.
  // An empty inline line or a `*0`/`*-1` multibulk is skipped silently, as
  // Redis does: the call returns kNeedMore or the next command with
  // *consumed covering the skipped bytes too. When the skipped bytes are all
  // the input, returns kNeedMore with *consumed > 0.
  ParseStatus Parse(std::string_view data, size_t* consumed);

  // Arguments of the last command parsed with kOk. Binary-safe.
  const std::vector<std::string_view>& args() const { return args_; }

  // Redis's reply text for the last kError, without the leading '-', e.g.
  // "ERR Protocol error: invalid multibulk length".
  const std::string& error() const { return error_; }

  // While a bulk argument of a multibulk command is incomplete: the total
  // buffer size (from the command start) needed to finish it, so the
  // connection can reserve once for large values. 0 when unknown.
  size_t BytesHint() const { return hint_; }

  // Forgets any partial command.
  void Reset();

  void set_limits(const ParserLimits& limits) { limits_ = limits; }

 private:
  ParseStatus ParseMultibulk(std::string_view data, size_t* consumed);
  ParseStatus ParseInline(std::string_view data, size_t* consumed);
  ParseStatus Fail(std::string text);

  // Finding the end of a length or inline line, resumable across calls.
  enum class LineStatus { kFound, kNeedMore, kTooBig };
  LineStatus FindLineEnd(std::string_view data, char delim, size_t* end);
  bool SplitInline(std::string_view line);

  ParserLimits limits_;
  std::vector<std::string_view> args_;
  std::string error_;
  std::string inline_storage_;  // unquoted inline arguments live here

  // Partial multibulk state, relative to the command start.
  bool in_multibulk_ = false;
  int64_t remaining_ = 0;                           // arguments still to read
  int64_t bulk_len_ = -1;                           // length of the argument being read, -1: none
  size_t pos_ = 0;                                  // parse position relative to the command start
  std::vector<std::pair<size_t, size_t>> offsets_;  // (offset, length)
  size_t hint_ = 0;
  // Where the search for the current line's end resumes, relative to the
  // command start; keeps a line that arrives byte by byte O(n).
  size_t scan_ = 0;
  // A NUL byte precedes the current line's end (see FindLineEnd()).
  bool line_blocked_ = false;
};

}  // namespace lattice::resp

#endif  // LATTICE_RESP_PARSER_H_
