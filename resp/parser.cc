// File: resp/parser.cc
//
// Follows Redis 7.0 src/networking.c (processInlineBuffer and
// processMultibulkBuffer) rule by rule, including its quirks, so that a
// client sees the same replies and the same protocol errors as from Redis.

#include "resp/parser.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace lattice::resp {
namespace {

// Offsets of inline arguments that were unescaped into inline_storage_ carry
// this bit; the others point into the caller's buffer.
constexpr size_t kInStorage = size_t{1} << (sizeof(size_t) * 8 - 1);

// Redis's LONG_STR_SIZE: string2ll() rejects strings of 21 bytes or more.
constexpr size_t kLongStrSize = 21;

// Redis's string2ll(): an optional '-', then "0" alone or a digit 1-9
// followed by digits, nothing else (no '+', no spaces, no leading zeros).
bool String2ll(const char* s, size_t len, int64_t* value) {
  if (len == 0 || len >= kLongStrSize) return false;
  if (len == 1 && s[0] == '0') {
    *value = 0;
    return true;
  }
  size_t i = 0;
  bool negative = false;
  if (s[0] == '-') {
    negative = true;
    if (++i == len) return false;
  }
  if (s[i] < '1' || s[i] > '9') return false;
  uint64_t v = static_cast<uint64_t>(s[i++] - '0');
  for (; i < len; ++i) {
    const unsigned digit = static_cast<unsigned char>(s[i]) - '0';
    if (digit > 9) return false;
    if (v > UINT64_MAX / 10) return false;
    v *= 10;
    if (v > UINT64_MAX - digit) return false;
    v += digit;
  }
  if (negative) {
    if (v > static_cast<uint64_t>(INT64_MAX) + 1) return false;
    *value = static_cast<int64_t>(0 - v);
  } else {
    if (v > static_cast<uint64_t>(INT64_MAX)) return false;
    *value = static_cast<int64_t>(v);
  }
  return true;
}

// Fast path for the common length line: the type byte at p[start], then 1 to
// 18 digits without a leading zero (so no overflow), then '\r' and one more
// byte. Returns false for anything else, including input that is merely
// incomplete; the caller then takes the general path, which decides as Redis.
inline bool ReadShortLength(const char* p, size_t n, size_t start, size_t* cr, int64_t* value) {
  size_t i = start + 1;
  const size_t stop = std::min(n, i + 18);
  uint64_t v = 0;
  for (; i < stop; ++i) {
    const unsigned digit = static_cast<unsigned char>(p[i]) - '0';
    if (digit > 9) break;
    v = v * 10 + digit;
  }
  const size_t digits = i - start - 1;
  if (digits == 0 || i + 1 >= n || p[i] != '\r') return false;
  if (p[start + 1] == '0' && digits > 1) return false;
  *cr = i;
  *value = static_cast<int64_t>(v);
  return true;
}

// The blanks sdssplitargs() skips between arguments: C isspace().
inline bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// The characters that end an unquoted argument in sdssplitargs(). Unlike
// IsSpace() this excludes '\v' and '\f': Redis keeps them inside a word.
inline bool EndsWord(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

inline bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

inline int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

}  // namespace

Parser::Parser(ParserLimits limits) : limits_(limits) {
  args_.reserve(16);
  offsets_.reserve(16);
}

void Parser::Reset() {
  in_multibulk_ = false;
  remaining_ = 0;
  bulk_len_ = -1;
  pos_ = 0;
  scan_ = 0;
  line_blocked_ = false;
  offsets_.clear();
  hint_ = 0;
}

ParseStatus Parser::Fail(std::string text) {
  error_ = std::move(text);
  args_.clear();
  Reset();
  return ParseStatus::kError;
}

ParseStatus Parser::Parse(std::string_view data, size_t* consumed) {
  *consumed = 0;
  // The caller broke the contract (dropped bytes of a partial command);
  // start over rather than read out of bounds.
  if (data.size() < scan_ || data.size() < pos_) Reset();
  size_t skipped = 0;
  for (;;) {
    const std::string_view command = data.substr(skipped);
    if (command.empty()) {
      hint_ = 0;
      *consumed = skipped;
      return ParseStatus::kNeedMore;
    }
    size_t used = 0;
    // As processInputBuffer(): the first byte of a request picks the
    // protocol, and an incomplete request keeps that byte at the front.
    const ParseStatus status =
        command[0] == '*' ? ParseMultibulk(command, &used) : ParseInline(command, &used);
    if (status == ParseStatus::kOk) {
      if (args_.empty()) {
        // An empty line or "*0": Redis resets the client without a reply.
        skipped += used;
        continue;
      }
      *consumed = skipped + used;
      return status;
    }
    // On kNeedMore the partial state is relative to data + skipped, which
    // is where the caller's buffer starts once it drops *consumed bytes.
    if (status == ParseStatus::kNeedMore) *consumed = skipped;
    return status;
  }
}

Parser::LineStatus Parser::FindLineEnd(std::string_view data, char delim, size_t* end) {
  const char* p = data.data();
  const size_t n = data.size();
  if (!line_blocked_) {
    const size_t from = std::max(scan_, pos_);
    const char* hit = static_cast<const char*>(std::memchr(p + from, delim, n - from));
    const size_t limit = hit != nullptr ? static_cast<size_t>(hit - p) : n;
    // Redis searches with strchr() on its NUL-terminated query buffer, so a
    // NUL byte hides every later delimiter: the line can then only grow
    // until it is too big. Keep that behaviour rather than accept input
    // Redis would never parse.
    if (std::memchr(p + from, '\0', limit - from) != nullptr) {
      line_blocked_ = true;
    } else if (hit != nullptr) {
      *end = limit;
      scan_ = limit;
      return LineStatus::kFound;
    } else {
      scan_ = n;
    }
  }
  if (n - pos_ > limits_.max_inline_len) return LineStatus::kTooBig;
  return LineStatus::kNeedMore;
}

ParseStatus Parser::ParseMultibulk(std::string_view data, size_t* used) {
  const char* p = data.data();
  const size_t n = data.size();
  if (!in_multibulk_) {
    size_t cr;
    int64_t count;
    if (!ReadShortLength(p, n, 0, &cr, &count)) {
      const LineStatus line = FindLineEnd(data, '\r', &cr);
      if (line == LineStatus::kTooBig) {
        return Fail("ERR Protocol error: too big mbulk count string");
      }
      // Redis also wants the byte after '\r' in the buffer, but never looks
      // at it: "*1\rX" is as good as "*1\r\n".
      if (line == LineStatus::kNeedMore || cr + 1 >= n) {
        hint_ = 0;
        return ParseStatus::kNeedMore;
      }
      if (!String2ll(p + 1, cr - 1, &count)) {
        return Fail("ERR Protocol error: invalid multibulk length");
      }
    }
    if (count > limits_.max_multibulk_len) {
      return Fail("ERR Protocol error: invalid multibulk length");
    }
    pos_ = cr + 2;
    if (count <= 0) {
      *used = pos_;
      args_.clear();
      Reset();
      return ParseStatus::kOk;
    }
    // Not reserving `count` entries: a client must not be able to make us
    // allocate gigabytes by announcing "*2147483647".
    offsets_.clear();
    remaining_ = count;
    bulk_len_ = -1;
    scan_ = pos_;
    in_multibulk_ = true;
  }

  while (remaining_ > 0) {
    if (bulk_len_ < 0) {
      size_t cr;
      int64_t len;
      if (pos_ >= n || p[pos_] != '$' || !ReadShortLength(p, n, pos_, &cr, &len)) {
        const LineStatus line = FindLineEnd(data, '\r', &cr);
        if (line == LineStatus::kTooBig) {
          return Fail("ERR Protocol error: too big bulk count string");
        }
        if (line == LineStatus::kNeedMore || cr + 1 >= n) {
          hint_ = 0;
          return ParseStatus::kNeedMore;
        }
        if (p[pos_] != '$') {
          std::string error = "ERR Protocol error: expected '$', got ' '";
          error[error.size() - 2] = p[pos_];
          return Fail(std::move(error));
        }
        if (!String2ll(p + pos_ + 1, cr - pos_ - 1, &len) || len < 0) {
          return Fail("ERR Protocol error: invalid bulk length");
        }
      }
      if (len > limits_.max_bulk_len) {
        return Fail("ERR Protocol error: invalid bulk length");
      }
      pos_ = cr + 2;
      bulk_len_ = len;
    }
    // Redis skips the two bytes after the argument without checking that
    // they are "\r\n"; so do we.
    const uint64_t need = static_cast<uint64_t>(bulk_len_) + 2;
    if (n - pos_ < need) {
      hint_ = pos_ + need;
      return ParseStatus::kNeedMore;
    }
    offsets_.emplace_back(pos_, static_cast<size_t>(bulk_len_));
    pos_ += need;
    scan_ = pos_;
    bulk_len_ = -1;
    --remaining_;
  }

  args_.clear();
  for (const auto& [offset, length] : offsets_) {
    args_.emplace_back(p + offset, length);
  }
  *used = pos_;
  Reset();
  return ParseStatus::kOk;
}

ParseStatus Parser::ParseInline(std::string_view data, size_t* used) {
  size_t newline;
  const LineStatus line = FindLineEnd(data, '\n', &newline);
  if (line == LineStatus::kTooBig) {
    return Fail("ERR Protocol error: too big inline request");
  }
  if (line == LineStatus::kNeedMore) {
    hint_ = 0;
    return ParseStatus::kNeedMore;
  }
  size_t length = newline;
  size_t terminator = 1;
  if (newline > 0 && data[newline - 1] == '\r') {
    --length;
    ++terminator;
  }
  if (!SplitInline(data.substr(0, length))) {
    return Fail("ERR Protocol error: unbalanced quotes in request");
  }
  *used = length + terminator;
  Reset();
  return ParseStatus::kOk;
}

// sdssplitargs() over a line without NUL bytes (FindLineEnd() guarantees
// it). Plain words are views into `line`; words with quotes are unescaped
// into inline_storage_, which never needs more bytes than the line has.
bool Parser::SplitInline(std::string_view line) {
  const char* p = line.data();
  const size_t n = line.size();
  // Out-of-line bytes read as NUL, the terminator sdssplitargs() sees.
  const auto at = [p, n](size_t i) { return i < n ? p[i] : '\0'; };

  offsets_.clear();
  inline_storage_.clear();
  char* out = nullptr;
  size_t out_len = 0;
  size_t i = 0;
  for (;;) {
    while (i < n && IsSpace(p[i])) ++i;
    if (i == n) break;
    const size_t start = i;
    while (i < n && !EndsWord(p[i]) && p[i] != '"' && p[i] != '\'') ++i;
    if (i == n || EndsWord(p[i])) {
      offsets_.emplace_back(start, i - start);
      if (i < n) ++i;  // sdssplitargs() consumes the separator
      continue;
    }
    // A quote inside or at the start of a word: Redis joins the plain
    // prefix, the unescaped quoted part and anything after it (until a
    // separator) into one argument.
    if (out == nullptr) {
      inline_storage_.resize(n);
      out = inline_storage_.data();
    }
    const size_t word = out_len;
    std::memcpy(out + out_len, p + start, i - start);
    out_len += i - start;
    if (p[i] == '"') {
      for (++i;; ++i) {
        if (i >= n) return false;  // unterminated quotes
        if (p[i] == '\\' && at(i + 1) == 'x' && IsHexDigit(at(i + 2)) && IsHexDigit(at(i + 3))) {
          out[out_len++] =
              static_cast<char>(HexDigitValue(p[i + 2]) * 16 + HexDigitValue(p[i + 3]));
          i += 3;
        } else if (p[i] == '\\' && i + 1 < n) {
          ++i;
          char e = p[i];
          switch (e) {
            case 'n':
              e = '\n';
              break;
            case 'r':
              e = '\r';
              break;
            case 't':
              e = '\t';
              break;
            case 'b':
              e = '\b';
              break;
            case 'a':
              e = '\a';
              break;
            default:
              break;
          }
          out[out_len++] = e;
        } else if (p[i] == '"') {
          break;
        } else {
          out[out_len++] = p[i];
        }
      }
    } else {
      for (++i;; ++i) {
        if (i >= n) return false;
        if (p[i] == '\\' && at(i + 1) == '\'') {
          ++i;
          out[out_len++] = '\'';
        } else if (p[i] == '\'') {
          break;
        } else {
          out[out_len++] = p[i];
        }
      }
    }
    // The closing quote ends the argument. Redis requires a blank or the end
    // of the line after it ("a"b is an error, not two arguments); that blank
    // may be '\v' or '\f' too.
    ++i;
    if (i < n && !IsSpace(p[i])) return false;
    offsets_.emplace_back(word | kInStorage, out_len - word);
  }

  args_.clear();
  const char* storage = inline_storage_.data();
  for (const auto& [offset, length] : offsets_) {
    if (offset & kInStorage) {
      args_.emplace_back(storage + (offset & ~kInStorage), length);
    } else {
      args_.emplace_back(p + offset, length);
    }
  }
  offsets_.clear();
  return true;
}

}  // namespace lattice::resp
