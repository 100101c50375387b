// File: resp/reply_builder.cc
//
// Byte-for-byte the encodings of Redis 7.0 src/networking.c (addReply*).
// Integer and Bulk replies are the bulk of a pipelined GET/SET workload, so
// they format digits by hand and append each reply with as few calls as
// possible.

#include "resp/reply_builder.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace lattice::resp {
namespace {

constexpr char kTwoDigits[] =
    "00010203040506070809"
    "10111213141516171819"
    "20212223242526272829"
    "30313233343536373839"
    "40414243444546474849"
    "50515253545556575859"
    "60616263646566676869"
    "70717273747576777879"
    "80818283848586878889"
    "90919293949596979899";

// Big enough for a type byte, "-9223372036854775808" and "\r\n".
constexpr size_t kHeaderBufferSize = 32;

// Writes the decimal digits of v so that they end just before `end`;
// returns the first digit. Two digits per division halve the dependent
// divisions, the cost that dominates here.
char* FormatUnsigned(uint64_t v, char* end) {
  if (v < 10) {
    *--end = static_cast<char>('0' + v);
    return end;
  }
  while (v >= 100) {
    const size_t i = static_cast<size_t>(v % 100) * 2;
    v /= 100;
    end -= 2;
    std::memcpy(end, kTwoDigits + i, 2);
  }
  if (v >= 10) {
    end -= 2;
    std::memcpy(end, kTwoDigits + v * 2, 2);
  } else {
    *--end = static_cast<char>('0' + v);
  }
  return end;
}

char* FormatSigned(int64_t v, char* end) {
  // Negating in unsigned arithmetic keeps INT64_MIN well defined.
  const uint64_t magnitude = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  char* start = FormatUnsigned(magnitude, end);
  if (v < 0) *--start = '-';
  return start;
}

// Writes "<type><n>\r\n" so that it ends at `end`; returns its start.
char* FormatHeader(char type, int64_t n, char* end) {
  end[-2] = '\r';
  end[-1] = '\n';
  char* start = FormatSigned(n, end - 2);
  *--start = type;
  return start;
}

// Replies up to this size are assembled on the stack and appended at once.
constexpr size_t kSmallBulk = 256;

}  // namespace

void ReplyBuilder::Header(char type, int64_t n) {
  char buf[kHeaderBufferSize];
  char* end = buf + sizeof(buf);
  const char* start = FormatHeader(type, n, end);
  out_->append(start, end - start);
}

void ReplyBuilder::SimpleString(std::string_view s) {
  if (s.size() <= kSmallBulk) {
    char buf[kSmallBulk + 3];
    buf[0] = '+';
    if (!s.empty()) std::memcpy(buf + 1, s.data(), s.size());
    buf[s.size() + 1] = '\r';
    buf[s.size() + 2] = '\n';
    out_->append(buf, s.size() + 3);
    return;
  }
  out_->push_back('+');
  out_->append(s);
  out_->append("\r\n", 2);
}

void ReplyBuilder::Error(std::string_view text) {
  // Redis's addReplyErrorFormat first trims CR/LF from the end, then maps
  // the remaining ones to spaces, so that an error built from user input
  // cannot break the protocol stream.
  while (!text.empty() && (text.back() == '\r' || text.back() == '\n')) text.remove_suffix(1);
  const size_t start = out_->size();
  out_->push_back('-');
  out_->append(text);
  for (size_t i = start + 1; i < out_->size(); ++i) {
    char& c = (*out_)[i];
    if (c == '\r' || c == '\n') c = ' ';
  }
  out_->append("\r\n", 2);
}

void ReplyBuilder::Integer(int64_t v) { Header(':', v); }

void ReplyBuilder::Bulk(std::string_view s) {
  if (s.size() <= kSmallBulk) {
    char buf[kHeaderBufferSize + kSmallBulk + 2];
    char* end = buf + sizeof(buf);
    end[-2] = '\r';
    end[-1] = '\n';
    char* body = end - 2 - s.size();
    if (!s.empty()) std::memcpy(body, s.data(), s.size());
    const char* start = FormatHeader('$', static_cast<int64_t>(s.size()), body);
    out_->append(start, end - start);
    return;
  }
  Header('$', static_cast<int64_t>(s.size()));
  out_->append(s);
  out_->append("\r\n", 2);
}

void ReplyBuilder::Null() {
  if (protocol_ >= 3) {
    out_->append("_\r\n", 3);
  } else {
    out_->append("$-1\r\n", 5);
  }
}

void ReplyBuilder::NullArray() {
  if (protocol_ >= 3) {
    out_->append("_\r\n", 3);
  } else {
    out_->append("*-1\r\n", 5);
  }
}

void ReplyBuilder::ArrayHeader(int64_t n) { Header('*', n); }

void ReplyBuilder::MapHeader(int64_t n) {
  if (protocol_ >= 3) {
    Header('%', n);
  } else {
    Header('*', n * 2);
  }
}

void ReplyBuilder::SetHeader(int64_t n) { Header(protocol_ >= 3 ? '~' : '*', n); }

void ReplyBuilder::PushHeader(int64_t n) { Header(protocol_ >= 3 ? '>' : '*', n); }

void ReplyBuilder::DoubleText(std::string_view text) {
  if (protocol_ >= 3) {
    out_->push_back(',');
    out_->append(text);
    out_->append("\r\n", 2);
  } else {
    Bulk(text);
  }
}

void ReplyBuilder::Double(double d) {
  // Redis spells infinities itself rather than trust libc (addReplyDouble);
  // NaN is spelled the same way so that "-nan" never reaches a client.
  char buf[64];
  std::string_view text;
  if (std::isinf(d)) {
    text = d > 0 ? "inf" : "-inf";
  } else if (std::isnan(d)) {
    text = "nan";
  } else {
    // Same digits as printf("%.17g") in the C locale, without the locale
    // lookup and format parsing.
    const auto result = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::general, 17);
    text = std::string_view(buf, result.ptr - buf);
  }
  DoubleText(text);
}

void ReplyBuilder::Bool(bool b) {
  if (protocol_ >= 3) {
    out_->append(b ? "#t\r\n" : "#f\r\n", 4);
  } else {
    out_->append(b ? ":1\r\n" : ":0\r\n", 4);
  }
}

void ReplyBuilder::Verbatim(std::string_view s, std::string_view format) {
  if (protocol_ < 3) {
    Bulk(s);
    return;
  }
  // "=<len>\r\n<fmt>:<s>\r\n", where len counts the 4 bytes of "<fmt>:".
  Header('=', static_cast<int64_t>(s.size() + 4));
  out_->append(format.substr(0, 3));
  out_->push_back(':');
  out_->append(s);
  out_->append("\r\n", 2);
}

void ReplyBuilder::BigNumber(std::string_view digits) {
  if (protocol_ < 3) {
    Bulk(digits);
    return;
  }
  out_->push_back('(');
  out_->append(digits);
  out_->append("\r\n", 2);
}

}  // namespace lattice::resp
