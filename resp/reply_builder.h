// File: resp/reply_builder.h
//
// Encodes replies in RESP2 or RESP3. Command code calls one typed method per
// reply element; every RESP2/RESP3 difference lives here (null, map, set,
// double, boolean, verbatim, push). Output is appended to a caller-owned
// std::string, so a connection batches the replies of a pipeline into one
// write.
//
// Thread-safety: a ReplyBuilder is used by one thread at a time.
#ifndef LATTICE_RESP_REPLY_BUILDER_H_
#define LATTICE_RESP_REPLY_BUILDER_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace lattice::resp {

class ReplyBuilder {
 public:
  // REQUIRES: out outlives the builder.
  explicit ReplyBuilder(std::string* out, int protocol = 2) : out_(out), protocol_(protocol) {}

  int protocol() const { return protocol_; }
  void set_protocol(int protocol) { protocol_ = protocol; }
  std::string* out() { return out_; }
  void set_out(std::string* out) { out_ = out; }

  // "+OK\r\n". REQUIRES: no CR or LF in s.
  void SimpleString(std::string_view s);
  void Ok() { SimpleString("OK"); }
  // "-<text>\r\n". `text` includes the code ("ERR ...", "WRONGTYPE ...");
  // CR/LF inside are replaced by spaces as Redis does.
  void Error(std::string_view text);
  void Integer(int64_t v);
  void Bulk(std::string_view s);
  // RESP2 "$-1", RESP3 "_".
  void Null();
  // RESP2 "*-1", RESP3 "_".
  void NullArray();
  void ArrayHeader(int64_t n);
  // RESP3 "%n"; RESP2 an array of 2n elements.
  void MapHeader(int64_t n);
  // RESP3 "~n"; RESP2 an array.
  void SetHeader(int64_t n);
  // RESP3 ">n"; RESP2 an array.
  void PushHeader(int64_t n);
  // RESP3 ",<%.17g>", RESP2 a bulk string of the same text; inf as Redis.
  void Double(double d);
  // A double already spelled (Redis's addReplyHumanLongDouble): RESP3
  // ",<text>", RESP2 a bulk string.
  void DoubleText(std::string_view text);
  // RESP3 "#t"/"#f"; RESP2 ":1"/":0".
  void Bool(bool b);
  // RESP3 "=len\r\ntxt:..."; RESP2 a bulk string. `format` is 3 chars.
  void Verbatim(std::string_view s, std::string_view format = "txt");
  // RESP3 "(<digits>"; RESP2 a bulk string.
  void BigNumber(std::string_view digits);
  // Appends pre-encoded protocol bytes.
  void Raw(std::string_view bytes) { out_->append(bytes); }

 private:
  void Header(char type, int64_t n);
  std::string* out_;
  int protocol_;
};

}  // namespace lattice::resp

#endif  // LATTICE_RESP_REPLY_BUILDER_H_
