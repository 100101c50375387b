// File: node/persist/rdb.cc
//
// RDB decoding and encoding. In order: a bounds-checked reader that keeps
// the first failure; LZF; the packed blobs values hide inside strings
// (listpack, ziplist, intset, zipmap); one reader per RDB value type; the
// file and DUMP entry points; the encoder. Formats follow Redis's rdb.c,
// listpack.c, ziplist.c, intset.c, zipmap.c and t_stream.c.
#include "node/persist/rdb.h"

#include <algorithm>
#include <bit>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>

#include "node/persist/crc64.h"
#include "node/persist/file_util.h"
#include "node/str_util.h"

namespace lattice::node::rdb {

namespace {

using persist::GetLe;
using persist::PutLe;

// Value types (Redis src/rdb.h).
enum : int {
  kTypeString = 0,
  kTypeList = 1,
  kTypeSet = 2,
  kTypeZset = 3,
  kTypeHash = 4,
  kTypeZset2 = 5,
  kTypeModule = 6,
  kTypeModule2 = 7,
  kTypeHashZipmap = 9,
  kTypeListZiplist = 10,
  kTypeSetIntset = 11,
  kTypeZsetZiplist = 12,
  kTypeHashZiplist = 13,
  kTypeListQuicklist = 14,
  kTypeStreamListpacks = 15,
  kTypeHashListpack = 16,
  kTypeZsetListpack = 17,
  kTypeListQuicklist2 = 18,
  kTypeStreamListpacks2 = 19,
  kTypeSetListpack = 20,
  kTypeStreamListpacks3 = 21,
  kTypeFirstHashWithTtl = 22,  // 22..25: Redis 7.4 hashes with field TTLs
  kTypeLastHashWithTtl = 25,
};

// Opcodes that precede keys or stand between them.
enum : int {
  kOpSlotInfo = 244,
  kOpFunction2 = 245,
  kOpFunction = 246,  // Redis 7.0-rc1/rc2 function libraries
  kOpModuleAux = 247,
  kOpIdle = 248,
  kOpFreq = 249,
  kOpAux = 250,
  kOpResizeDb = 251,
  kOpExpireMs = 252,
  kOpExpireSec = 253,
  kOpSelectDb = 254,
  kOpEof = 255,
};

constexpr int kMaxVersion = 12;
constexpr int kDumpVersion = 10;
constexpr uint8_t kStreamDeleted = 1, kStreamSameFields = 2;  // entry flags
constexpr char kBadFooter[] = "DUMP payload version or checksum are wrong";
constexpr char kBadData[] = "Bad data format";

// ---------------------------------------------------------------------------
// Reading.

// The first problem found; later failures do not overwrite it, so the
// message names the root cause rather than a consequence.
struct Failure {
  bool failed = false;
  size_t offset = 0;
  std::string why;
};

// A cursor over one byte range. Nested readers (a listpack inside a string)
// share the Failure of the outer one. `base` is the file offset of data[0];
// a `pinned` reader (over LZF output, which has no file offsets) reports
// every failure at `base`, the offset of the compressed string.
class Reader {
 public:
  Reader(std::string_view data, size_t base, Failure* failure, bool pinned = false)
      : data_(data), base_(base), pinned_(pinned), failure_(failure) {}

  size_t remaining() const { return data_.size() - pos_; }
  bool at_end() const { return pos_ == data_.size(); }
  size_t offset() const { return pinned_ ? base_ : base_ + pos_; }
  Failure* failure() const { return failure_; }

  bool Fail(std::string why) { return FailAt(offset(), std::move(why)); }
  bool FailAt(size_t offset, std::string why) {
    if (!failure_->failed) *failure_ = {true, pinned_ ? base_ : offset, std::move(why)};
    return false;
  }

  bool Bytes(size_t n, std::string_view* out) {
    if (failure_->failed) return false;
    if (n > remaining()) {
      return Fail(StrCat("truncated: ", n, " bytes needed, ", remaining(), " left"));
    }
    *out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool Byte(uint8_t* b) {
    std::string_view s;
    if (!Bytes(1, &s)) return false;
    *b = static_cast<uint8_t>(s[0]);
    return true;
  }
  bool Le(int n, uint64_t* v) {
    std::string_view s;
    if (!Bytes(n, &s)) return false;
    *v = GetLe(s.data(), n);
    return true;
  }
  bool Be(int n, uint64_t* v) {
    std::string_view s;
    if (!Bytes(n, &s)) return false;
    *v = 0;
    for (char c : s) *v = (*v << 8) | static_cast<uint8_t>(c);
    return true;
  }
  bool Millis(int64_t* ms) {
    uint64_t v;
    if (!Le(8, &v)) return false;
    *ms = static_cast<int64_t>(v);
    return true;
  }

  // An RDB length; *encoded says it is instead a special string encoding.
  bool Length(uint64_t* len, bool* encoded) {
    uint8_t b, b2;
    if (!Byte(&b)) return false;
    *encoded = (b >> 6) == 3;
    switch (b >> 6) {
      case 0:
      case 3:
        *len = b & 0x3f;
        return true;
      case 1:
        if (!Byte(&b2)) return false;
        *len = (uint64_t(b & 0x3f) << 8) | b2;
        return true;
    }
    if (b == 0x80) return Be(4, len);
    if (b == 0x81) return Be(8, len);
    return Fail(StrCat("unknown length encoding 0x", Hex8(b)));
  }
  bool Len(uint64_t* len) {
    bool encoded;
    if (!Length(len, &encoded)) return false;
    return !encoded || Fail("string encoding where a length was expected");
  }
  // A count of items taking at least `min_bytes` each: bounded by what
  // remains, so a hostile count cannot make the caller loop or reserve.
  bool Count(uint64_t* n, size_t min_bytes) {
    size_t at = offset();
    if (!Len(n)) return false;
    if (*n > remaining() / min_bytes) {
      return FailAt(at, StrCat("count ", *n, " exceeds the ", remaining(), " bytes that remain"));
    }
    return true;
  }

  // An RDB string (raw, integer or LZF). *data_base, if given, gets the
  // file offset of the raw bytes, or of the string itself when they were
  // encoded (the blob parsers then pin their errors there).
  bool String(std::string* out, size_t* data_base = nullptr, bool* encoded_out = nullptr);

  static std::string Hex8(uint8_t b) {
    const char* d = "0123456789abcdef";
    return {d[b >> 4], d[b & 15]};
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  size_t base_;
  bool pinned_;
  Failure* failure_;
};

// LZF (liblzf's format): a control byte below 32 starts a run of ctrl+1
// literals; otherwise its top 3 bits are a length (7: one more length byte
// follows) and the low 5 bits plus the next byte an offset back into the
// output. The output must come out at exactly `out_len` bytes.
bool LzfDecompress(std::string_view in, size_t out_len, std::string* out) {
  out->assign(out_len, '\0');
  auto* o = reinterpret_cast<uint8_t*>(out->data());
  auto* p = reinterpret_cast<const uint8_t*>(in.data());
  size_t ip = 0, op = 0;
  while (ip < in.size()) {
    unsigned ctrl = p[ip++];
    if (ctrl < 32) {
      size_t n = ctrl + 1;
      if (n > in.size() - ip || n > out_len - op) return false;
      std::memcpy(o + op, p + ip, n);
      ip += n;
      op += n;
      continue;
    }
    size_t len = ctrl >> 5;
    if (len == 7) {
      if (ip >= in.size()) return false;
      len += p[ip++];
    }
    if (ip >= in.size()) return false;
    size_t back = ((ctrl & 0x1f) << 8) + p[ip++] + 1;
    len += 2;
    if (back > op || len > out_len - op) return false;
    for (size_t k = 0; k < len; k++, op++) o[op] = o[op - back];  // may overlap
  }
  return op == out_len;
}

// A back-reference of 3 bytes expands to at most 264: no valid LZF stream
// grows by more than that factor, which bounds what a length may claim.
constexpr uint64_t kLzfMaxRatio = 88;

bool Reader::String(std::string* out, size_t* data_base, bool* encoded_out) {
  size_t start = offset();
  uint64_t len;
  bool encoded;
  if (!Length(&len, &encoded)) return false;
  if (encoded_out) *encoded_out = encoded;
  if (data_base) *data_base = encoded ? start : offset();
  std::string_view raw;
  uint64_t v;
  if (!encoded) {
    if (!Bytes(len, &raw)) return false;
    out->assign(raw);
    return true;
  }
  switch (len) {
    case 0:  // INT8, INT16, INT32: little-endian two's complement
    case 1:
    case 2: {
      int n = 1 << len;
      if (!Le(n, &v)) return false;
      int shift = 64 - 8 * n;
      *out = StrCat(static_cast<int64_t>(v << shift) >> shift);
      return true;
    }
    case 3: {
      uint64_t clen, ulen;
      if (!Len(&clen) || !Len(&ulen) || !Bytes(clen, &raw)) return false;
      if (ulen > clen * kLzfMaxRatio) {
        return FailAt(start, StrCat("LZF string claims ", ulen, " bytes from ", clen));
      }
      if (!LzfDecompress(raw, ulen, out)) return FailAt(start, "invalid LZF compressed string");
      return true;
    }
  }
  return FailAt(start, StrCat("unknown string encoding ", len));
}

// Redis's string2ll rule, which decides when RDB, listpacks and ziplists
// store a string as an integer: the canonical decimal form of an int64 (no
// sign but '-', no leading zeros, no "-0").
bool CanonicalInt(std::string_view s, int64_t* v) {
  if (s.empty() || s.size() > 20) return false;
  size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size() || s[i] < '0' || s[i] > '9' || (s[i] == '0' && s.size() > 1)) return false;
  uint64_t mag = 0;
  for (; i < s.size(); i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    uint64_t d = s[i] - '0';
    if (mag > (UINT64_MAX - d) / 10) return false;
    mag = mag * 10 + d;
  }
  if (s[0] == '-') {
    if (mag > uint64_t(INT64_MAX) + 1) return false;
    *v = static_cast<int64_t>(0 - mag);
  } else {
    if (mag > uint64_t(INT64_MAX)) return false;
    *v = static_cast<int64_t>(mag);
  }
  return true;
}

// A score written as text (ZSET type 3, ziplist and listpack members).
bool ParseScore(std::string_view s, double* d) {
  std::string text(s);
  char* end = nullptr;
  *d = std::strtod(text.c_str(), &end);
  return !text.empty() && end == text.c_str() + text.size();
}

// ---------------------------------------------------------------------------
// Packed blobs.

// One element of a listpack or ziplist: an integer or a string (a view into
// the blob, which must outlive it).
struct Packed {
  bool is_int = false;
  int64_t i = 0;
  std::string_view s;
  std::string Str() const { return is_int ? StrCat(i) : std::string(s); }
};

int64_t SignExtend(uint64_t v, int bits) {
  int shift = 64 - bits;
  return static_cast<int64_t>(v << shift) >> shift;
}

// The listpack back-length: the entry's size in 7-bit groups, most
// significant first, every byte but the first flagged with 0x80, so it can
// be read backwards from the next entry.
void PutBacklen(std::string* out, uint64_t l) {
  int n = l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
  for (int i = n - 1; i >= 0; i--) {
    uint8_t b = (l >> (7 * i)) & 127;
    out->push_back(static_cast<char>(i == n - 1 ? b : b | 128));
  }
}

// Listpack: u32 total bytes, u16 count (65535: unknown), entries, 0xff.
// Each entry is <encoding + data><backlen>.
bool ParseListpack(Reader r, std::vector<Packed>* out) {
  uint64_t total, count;
  size_t size = r.remaining();
  if (!r.Le(4, &total) || !r.Le(2, &count)) return false;
  if (total != size) return r.Fail(StrCat("listpack header says ", total, " bytes, has ", size));
  while (true) {
    size_t at = r.offset();
    uint8_t b, b2;
    uint64_t v = 0, slen = 0;
    int hdr = 1, int_bytes = 0;
    Packed e;
    if (!r.Byte(&b)) return false;
    if (b == 0xff) break;
    if ((b & 0x80) == 0) {
      e = {true, b, {}};
    } else if ((b & 0xc0) == 0x80) {
      slen = b & 0x3f;
    } else if ((b & 0xe0) == 0xc0) {
      if (!r.Byte(&b2)) return false;
      e = {true, SignExtend((uint64_t(b & 0x1f) << 8) | b2, 13), {}};
      hdr = 2;
    } else if ((b & 0xf0) == 0xe0) {
      if (!r.Byte(&b2)) return false;
      slen = (uint64_t(b & 0x0f) << 8) | b2;
      hdr = 2;
    } else if (b == 0xf0) {
      if (!r.Le(4, &slen)) return false;
      hdr = 5;
    } else if (b >= 0xf1 && b <= 0xf4) {
      static constexpr int kWidth[] = {2, 3, 4, 8};
      int_bytes = kWidth[b - 0xf1];
      if (!r.Le(int_bytes, &v)) return false;
      e = {true, SignExtend(v, 8 * int_bytes), {}};
    } else {
      return r.FailAt(at, StrCat("bad listpack entry encoding 0x", Reader::Hex8(b)));
    }
    if (!e.is_int && !r.Bytes(slen, &e.s)) return false;
    uint64_t entry_len = e.is_int ? hdr + int_bytes : hdr + slen;
    std::string want;
    PutBacklen(&want, entry_len);
    std::string_view got;
    if (!r.Bytes(want.size(), &got)) return false;
    if (got != want) return r.FailAt(at, "listpack entry with a wrong back-length");
    out->push_back(e);
  }
  if (!r.at_end()) return r.Fail("listpack data after its end marker");
  if (count != 65535 && count != out->size()) {
    return r.Fail(StrCat("listpack header counts ", count, " entries, has ", out->size()));
  }
  return true;
}

// Ziplist: u32 bytes, u32 tail offset, u16 count, entries, 0xff. An entry is
// <prevlen: 1 byte, or 0xfe + u32><encoding><data>.
bool ParseZiplist(Reader r, std::vector<Packed>* out) {
  uint64_t total, tail, count;
  size_t size = r.remaining(), pos = 10, prev_len = 0, last = 10;
  if (!r.Le(4, &total) || !r.Le(4, &tail) || !r.Le(2, &count)) return false;
  if (total != size) return r.Fail(StrCat("ziplist header says ", total, " bytes, has ", size));
  while (true) {
    size_t at = r.offset(), before = r.remaining();
    uint8_t b, enc, b2;
    uint64_t prevlen, v;
    if (!r.Byte(&b)) return false;
    if (b == 0xff) break;
    prevlen = b;
    if (b == 0xfe && !r.Le(4, &prevlen)) return false;
    if (prevlen != prev_len) return r.FailAt(at, "ziplist entry with a wrong previous length");
    if (!r.Byte(&enc)) return false;
    Packed e;
    uint64_t slen = 0;
    switch (enc >> 6) {
      case 0:
        slen = enc & 0x3f;
        break;
      case 1:
        if (!r.Byte(&b2)) return false;
        slen = (uint64_t(enc & 0x3f) << 8) | b2;
        break;
      case 2:
        if (!r.Be(4, &slen)) return false;
        break;
      default: {
        int width = enc == 0xc0 ? 2 : enc == 0xd0 ? 4 : enc == 0xe0 ? 8 : enc == 0xf0 ? 3
                  : enc == 0xfe ? 1 : 0;
        e.is_int = true;
        if (width > 0) {
          if (!r.Le(width, &v)) return false;
          e.i = SignExtend(v, 8 * width);
        } else if (enc >= 0xf1 && enc <= 0xfd) {
          e.i = (enc & 0x0f) - 1;  // 4-bit immediate 0..12
        } else {
          return r.FailAt(at, StrCat("bad ziplist entry encoding 0x", Reader::Hex8(enc)));
        }
      }
    }
    if (!e.is_int && !r.Bytes(slen, &e.s)) return false;
    out->push_back(e);
    prev_len = before - r.remaining();
    last = pos;
    pos += prev_len;
  }
  if (!r.at_end()) return r.Fail("ziplist data after its end marker");
  if (tail != last) return r.Fail("ziplist tail offset does not point to its last entry");
  if (count != 65535 && count != out->size()) {
    return r.Fail(StrCat("ziplist header counts ", count, " entries, has ", out->size()));
  }
  return true;
}

// Intset: u32 width (2, 4 or 8), u32 count, strictly ascending integers.
bool ParseIntset(Reader r, std::vector<std::string>* out) {
  uint64_t width, count, v;
  if (!r.Le(4, &width) || !r.Le(4, &count)) return false;
  if (width != 2 && width != 4 && width != 8) return r.Fail(StrCat("bad intset width ", width));
  if (count * width != r.remaining()) return r.Fail("intset size does not match its count");
  int64_t prev = 0;
  for (uint64_t i = 0; i < count; i++) {
    if (!r.Le(width, &v)) return false;
    int64_t x = SignExtend(v, 8 * width);
    if (i > 0 && x <= prev) return r.Fail("intset not in ascending order");
    out->push_back(StrCat(x));
    prev = x;
  }
  return true;
}

// Zipmap (Redis < 2.6 hashes): u8 count, then <len>key<len><free>value
// <free bytes>..., 0xff; a length is one byte below 254, or 254 + u32.
bool ParseZipmap(Reader r, std::vector<std::pair<std::string, std::string>>* out) {
  uint8_t count, b, free;
  if (!r.Byte(&count)) return false;
  auto read_len = [&](uint8_t first, uint64_t* len) {
    *len = first;
    return first < 254 || (first == 254 && r.Le(4, len)) || r.Fail("bad zipmap length");
  };
  while (true) {
    uint64_t klen, vlen;
    std::string_view k, v, pad;
    if (!r.Byte(&b)) return false;
    if (b == 0xff) break;
    if (!read_len(b, &klen) || !r.Bytes(klen, &k) || !r.Byte(&b) || !read_len(b, &vlen) ||
        !r.Byte(&free) || !r.Bytes(vlen, &v) || !r.Bytes(free, &pad)) {
      return false;
    }
    out->emplace_back(std::string(k), std::string(v));
  }
  if (!r.at_end()) return r.Fail("zipmap data after its end marker");
  if (count < 254 && count != out->size()) return r.Fail("zipmap count does not match");
  return true;
}

// ---------------------------------------------------------------------------
// Values.

// The reason a value type cannot be read, or "" when it can.
std::string UnsupportedType(int type) {
  if (type == kTypeModule || type == kTypeModule2) {
    return "module value type, which this server cannot load";
  }
  if (type >= kTypeFirstHashWithTtl && type <= kTypeLastHashWithTtl) {
    return StrCat("hash with field expiration (value type ", type,
                  "), which this server cannot load");
  }
  if ((type >= kTypeString && type <= kTypeZset2) ||
      (type >= kTypeHashZipmap && type <= kTypeStreamListpacks3)) {
    return "";
  }
  return StrCat("unknown value type ", type);
}

// Reads an RDB string holding a packed blob, then parses it with `parse`
// (a reader over the blob, reporting file offsets).
template <typename Out, typename Parse>
bool ReadBlob(Reader& r, std::string* blob, Out* out, Parse parse) {
  size_t base;
  bool encoded;
  if (!r.String(blob, &base, &encoded)) return false;
  return parse(Reader(*blob, base, r.failure(), encoded), out);
}

// Appends a listpack's or ziplist's elements, integers in decimal.
bool ReadPackedElems(Reader& r, bool ziplist, std::vector<std::string>* elems) {
  std::string blob;
  std::vector<Packed> items;
  if (!ReadBlob(r, &blob, &items, ziplist ? ParseZiplist : ParseListpack)) return false;
  for (const Packed& p : items) elems->push_back(p.Str());
  return true;
}

// A packed blob of alternating field/value (or member/score) elements.
bool ReadPackedPairs(Reader& r, bool ziplist, std::vector<std::string>* flat) {
  size_t at = r.offset();
  if (!ReadPackedElems(r, ziplist, flat)) return false;
  return flat->size() % 2 == 0 || r.FailAt(at, "odd number of elements in a paired encoding");
}

bool ReadZsetPacked(Reader& r, bool ziplist, Value* v) {
  size_t at = r.offset();
  std::vector<std::string> flat;
  if (!ReadPackedPairs(r, ziplist, &flat)) return false;
  for (size_t i = 0; i < flat.size(); i += 2) {
    double score;
    if (!ParseScore(flat[i + 1], &score)) return r.FailAt(at, "bad zset score");
    v->zset.emplace_back(std::move(flat[i]), score);
  }
  return true;
}

bool ReadHashPacked(Reader& r, bool ziplist, Value* v) {
  std::vector<std::string> flat;
  if (!ReadPackedPairs(r, ziplist, &flat)) return false;
  for (size_t i = 0; i < flat.size(); i += 2) {
    v->hash.emplace_back(std::move(flat[i]), std::move(flat[i + 1]));
  }
  return true;
}

// ZSET (type 3) scores: a length byte, then text; 253..255 stand for NaN,
// +inf and -inf.
bool ReadTextScore(Reader& r, double* d) {
  uint8_t len;
  std::string_view text;
  if (!r.Byte(&len)) return false;
  if (len >= 253) {
    *d = len == 253 ? NAN : len == 254 ? INFINITY : -INFINITY;
    return true;
  }
  return r.Bytes(len, &text) && (ParseScore(text, d) || r.Fail("bad zset score"));
}

bool ReadStreamId(Reader& r, StreamId* id) { return r.Be(8, &id->ms) && r.Be(8, &id->seq); }

bool ReadLenId(Reader& r, StreamId* id) { return r.Len(&id->ms) && r.Len(&id->seq); }

// One radix-tree node: a listpack with the master entry (count, deleted,
// field count, field names, 0) then, per entry, flags, ms and seq deltas
// from the node's master ID, [field count, fields interleaved with values |
// values only, with SAMEFIELDS], and lp-count (the entry's element count).
bool ReadStreamNode(Reader& r, Stream* s, StreamId* prev, bool* any) {
  std::string key, blob;
  size_t base;
  bool encoded;
  if (!r.String(&key)) return false;
  if (key.size() != 16) return r.Fail("stream node key is not a 16-byte ID");
  StreamId master;  // the node key: ms and seq big-endian, so IDs sort bytewise
  for (int i = 0; i < 8; i++) master.ms = (master.ms << 8) | static_cast<uint8_t>(key[i]);
  for (int i = 8; i < 16; i++) master.seq = (master.seq << 8) | static_cast<uint8_t>(key[i]);
  if (!r.String(&blob, &base, &encoded)) return false;
  Reader lp_reader(blob, base, r.failure(), encoded);
  std::vector<Packed> items;
  if (!ParseListpack(lp_reader, &items)) return false;
  if (items.empty()) return r.FailAt(base, "empty listpack in a stream");

  size_t i = 0;
  auto bad = [&](const char* why) { return r.FailAt(base, StrCat("stream listpack: ", why)); };
  auto next_int = [&](int64_t* v) {
    if (i >= items.size()) return bad("ends inside an entry");
    const Packed& p = items[i++];
    if (p.is_int) *v = p.i;
    return p.is_int || CanonicalInt(p.s, v) || bad("integer expected");
  };
  auto next_str = [&](std::string* out) {
    if (i >= items.size()) return bad("ends inside an entry");
    *out = items[i++].Str();
    return true;
  };
  int64_t count, deleted, nmaster, zero;
  if (!next_int(&count) || !next_int(&deleted) || !next_int(&nmaster)) return false;
  if (count < 0 || deleted < 0 || nmaster < 0 || uint64_t(count) + deleted > items.size() ||
      uint64_t(nmaster) > items.size()) {
    return bad("bad master entry");
  }
  std::vector<std::string> master_fields(nmaster);
  for (auto& f : master_fields) {
    if (!next_str(&f)) return false;
  }
  if (!next_int(&zero)) return false;
  if (zero != 0) return bad("master entry not terminated by 0");
  for (int64_t n = count + deleted; n > 0; n--) {
    int64_t flags, dms, dseq, nfields, lp_count;
    if (!next_int(&flags) || !next_int(&dms) || !next_int(&dseq)) return false;
    bool same = flags & kStreamSameFields;
    nfields = nmaster;
    if (!same && !next_int(&nfields)) return false;
    if (nfields < 0 || uint64_t(nfields) > items.size() - i) return bad("bad field count");
    StreamEntry e;
    e.id = {master.ms + uint64_t(dms), master.seq + uint64_t(dseq)};
    e.fields.resize(nfields);
    for (int64_t f = 0; f < nfields; f++) {
      if (same) {
        e.fields[f].first = master_fields[f];
      } else if (!next_str(&e.fields[f].first)) {
        return false;
      }
      if (!next_str(&e.fields[f].second)) return false;
    }
    if (!next_int(&lp_count)) return false;
    if (lp_count != nfields + 3 + (same ? 0 : nfields + 1)) return bad("wrong lp-count");
    bool ascending = !*any || e.id.ms > prev->ms || (e.id.ms == prev->ms && e.id.seq > prev->seq);
    if (!ascending) return bad("entry IDs not ascending");
    *prev = e.id;
    *any = true;
    if (!(flags & kStreamDeleted)) s->entries.push_back(std::move(e));
  }
  return i == items.size() || bad("data after the last entry");
}

// A consumer group: name, last ID, entries-read (type >= 19), the global
// PEL (ID, delivery time, delivery count), then each consumer with its seen
// time, active time (type 21) and the IDs of the PEL entries it owns.
bool ReadStreamGroup(Reader& r, int type, StreamGroup* g) {
  uint64_t n, entries_read;
  if (!r.String(&g->name) || !ReadLenId(r, &g->last_id)) return false;
  if (type >= kTypeStreamListpacks2) {
    if (!r.Len(&entries_read)) return false;
    g->entries_read = static_cast<int64_t>(entries_read);
  }
  if (!r.Count(&n, 16 + 8 + 1)) return false;
  std::map<std::pair<uint64_t, uint64_t>, size_t> by_id;
  for (uint64_t k = 0; k < n; k++) {
    StreamPending p;
    size_t at = r.offset();
    if (!ReadStreamId(r, &p.id) || !r.Millis(&p.delivery_ms) || !r.Len(&p.delivery_count)) {
      return false;
    }
    if (!by_id.emplace(std::make_pair(p.id.ms, p.id.seq), k).second) {
      return r.FailAt(at, "duplicate entry in a group PEL");
    }
    g->pending.push_back(std::move(p));
  }
  std::vector<bool> owned(n, false);
  size_t min_consumer = type >= kTypeStreamListpacks3 ? 1 + 16 + 1 : 1 + 8 + 1;
  if (!r.Count(&n, min_consumer)) return false;
  for (uint64_t k = 0; k < n; k++) {
    StreamConsumer c;
    uint64_t owns;
    if (!r.String(&c.name) || !r.Millis(&c.seen_ms)) return false;
    if (type >= kTypeStreamListpacks3 && !r.Millis(&c.active_ms)) return false;
    if (!r.Count(&owns, 16)) return false;
    for (uint64_t j = 0; j < owns; j++) {
      StreamId id;
      size_t at = r.offset();
      if (!ReadStreamId(r, &id)) return false;
      auto it = by_id.find({id.ms, id.seq});
      if (it == by_id.end()) return r.FailAt(at, "consumer PEL entry not in the group PEL");
      if (owned[it->second]) return r.FailAt(at, "PEL entry owned twice");
      owned[it->second] = true;
      g->pending[it->second].consumer = c.name;
    }
    g->consumers.push_back(std::move(c));
  }
  // Redis only checks this under sanitize-dump-payload, and crashes later
  // on an owner-less entry (XCLAIM, XPENDING); refuse it up front.
  if (std::find(owned.begin(), owned.end(), false) != owned.end()) {
    return r.Fail("group PEL entry without a consumer");
  }
  return true;
}

bool ReadStream(Reader& r, int type, Stream* s) {
  uint64_t nodes, length, groups;
  StreamId prev;
  bool any = false;
  if (!r.Count(&nodes, 2)) return false;
  for (uint64_t k = 0; k < nodes; k++) {
    if (!ReadStreamNode(r, s, &prev, &any)) return false;
  }
  if (!r.Len(&length) || !ReadLenId(r, &s->last_id)) return false;
  if (type >= kTypeStreamListpacks2) {
    if (!ReadLenId(r, &s->first_id) || !ReadLenId(r, &s->max_deleted_id) ||
        !r.Len(&s->entries_added)) {
      return false;
    }
  } else {
    // What Redis derives for the older layout: no tombstones known, every
    // entry ever added still there.
    if (!s->entries.empty()) s->first_id = s->entries.front().id;
    s->entries_added = length;
  }
  if (!r.Count(&groups, 5)) return false;
  s->groups.resize(groups);
  for (StreamGroup& g : s->groups) {
    if (!ReadStreamGroup(r, type, &g)) return false;
  }
  return true;
}

template <typename T, typename Key>
bool HasDuplicates(const std::vector<T>& items, Key key) {
  std::vector<std::string_view> keys;
  keys.reserve(items.size());
  for (const T& item : items) keys.push_back(key(item));
  std::sort(keys.begin(), keys.end());
  return std::adjacent_find(keys.begin(), keys.end()) != keys.end();
}

// Reads a value of RDB `type` (already checked by UnsupportedType).
bool ReadValue(Reader& r, int type, Value* v) {
  size_t at = r.offset();
  uint64_t n;
  std::string blob;
  bool ok = true;
  switch (type) {
    case kTypeString:
      v->type = Type::kString;
      return r.String(&v->str);
    case kTypeList:
    case kTypeSet:
      v->type = type == kTypeList ? Type::kList : Type::kSet;
      if (!r.Count(&n, 1)) return false;
      v->elems.resize(n);
      for (std::string& e : v->elems) ok = ok && r.String(&e);
      break;
    case kTypeZset:
    case kTypeZset2:
      v->type = Type::kZset;
      if (!r.Count(&n, 2)) return false;
      v->zset.resize(n);
      for (auto& [member, score] : v->zset) {
        uint64_t bits;
        if (!r.String(&member)) return false;
        if (type == kTypeZset) {
          if (!ReadTextScore(r, &score)) return false;
        } else {
          if (!r.Le(8, &bits)) return false;
          score = std::bit_cast<double>(bits);  // ZSET_2: IEEE 754, little-endian
        }
      }
      break;
    case kTypeHash:
      v->type = Type::kHash;
      if (!r.Count(&n, 2)) return false;
      v->hash.resize(n);
      for (auto& [field, value] : v->hash) ok = ok && r.String(&field) && r.String(&value);
      break;
    case kTypeHashZipmap:
      v->type = Type::kHash;
      ok = ReadBlob(r, &blob, &v->hash, ParseZipmap);
      break;
    case kTypeListZiplist:
      v->type = Type::kList;
      ok = ReadPackedElems(r, true, &v->elems);
      break;
    case kTypeSetIntset:
      v->type = Type::kSet;
      ok = ReadBlob(r, &blob, &v->elems, ParseIntset);
      break;
    case kTypeSetListpack:
      v->type = Type::kSet;
      ok = ReadPackedElems(r, false, &v->elems);
      break;
    case kTypeZsetZiplist:
    case kTypeZsetListpack:
      v->type = Type::kZset;
      ok = ReadZsetPacked(r, type == kTypeZsetZiplist, v);
      break;
    case kTypeHashZiplist:
    case kTypeHashListpack:
      v->type = Type::kHash;
      ok = ReadHashPacked(r, type == kTypeHashZiplist, v);
      break;
    case kTypeListQuicklist:
    case kTypeListQuicklist2:
      // Nodes are ziplists (14) or <container><blob> with container 1 a
      // single plain element and 2 a listpack (18).
      v->type = Type::kList;
      if (!r.Count(&n, 2)) return false;
      for (uint64_t k = 0; k < n && ok; k++) {
        uint64_t container = 2;
        if (type == kTypeListQuicklist2 && !r.Len(&container)) return false;
        if (container == 1) {
          size_t node_at = r.offset();
          v->elems.emplace_back();
          ok = r.String(&v->elems.back()) &&
               (!v->elems.back().empty() || r.FailAt(node_at, "empty quicklist node"));
        } else if (container == 2) {
          ok = ReadPackedElems(r, type == kTypeListQuicklist, &v->elems);
        } else {
          return r.Fail(StrCat("unknown quicklist container ", container));
        }
      }
      break;
    default:  // the stream types
      v->type = Type::kStream;
      return ReadStream(r, type, &v->stream);
  }
  if (!ok) return false;
  auto first = [](const auto& p) { return std::string_view(p.first); };
  if (v->type == Type::kSet &&
      HasDuplicates(v->elems, [](const std::string& s) { return std::string_view(s); })) {
    return r.FailAt(at, "duplicate set member");
  }
  if (v->type == Type::kHash && HasDuplicates(v->hash, first)) {
    return r.FailAt(at, "duplicate hash field");
  }
  if (v->type == Type::kZset) {
    if (HasDuplicates(v->zset, first)) return r.FailAt(at, "duplicate zset member");
    for (const auto& [member, score] : v->zset) {
      if (std::isnan(score)) return r.FailAt(at, "zset score is NaN");
    }
  }
  return true;
}

// Redis drops empty collections when loading a file and refuses them in
// RESTORE (RDB_LOAD_ERR_EMPTY_KEY); a stream may be empty.
bool IsEmptyCollection(const Value& v) {
  switch (v.type) {
    case Type::kList:
    case Type::kSet:
      return v.elems.empty();
    case Type::kZset:
      return v.zset.empty();
    case Type::kHash:
      return v.hash.empty();
    default:
      return false;
  }
}

// Module AUX data (Redis >= 5) is a module ID, a "when" field and typed
// values up to an EOF opcode, so it can be skipped without the module.
bool SkipModuleAux(Reader& r) {
  uint64_t id, when_op, when, op, v;
  std::string_view skip;
  std::string s;
  if (!r.Len(&id) || !r.Len(&when_op) || !r.Len(&when)) return false;
  if (when_op != 2) return r.Fail("module AUX data in a layout that cannot be skipped");
  while (true) {
    size_t at = r.offset();
    if (!r.Len(&op)) return false;
    switch (op) {
      case 0:
        return true;
      case 1:  // signed and unsigned integers
      case 2:
        if (!r.Len(&v)) return false;
        break;
      case 3:  // float, double
      case 4:
        if (!r.Bytes(op == 3 ? 4 : 8, &skip)) return false;
        break;
      case 5:
        if (!r.String(&s)) return false;
        break;
      default:
        return r.FailAt(at, StrCat("module AUX data with unknown opcode ", op,
                                   ", which cannot be skipped"));
    }
  }
}

// Everything after the 9-byte header up to and including the checksum.
// With on_key null it only validates. Returns false on a parse failure
// (in r's Failure) or when on_key fails (in *key_error).
bool ReadRecords(Reader& r, int version, const std::function<absl::Status(Key&&)>* on_key,
                 std::vector<std::string>* functions, absl::Status* key_error) {
  Key key;
  int db = 0;
  while (true) {
    size_t at = r.offset();
    uint8_t type;
    uint64_t a, b;
    std::string s1, s2, s3, code;
    if (!r.Byte(&type)) return false;
    switch (type) {
      case kOpEof: {
        std::string_view crc;
        if (version >= 5 && !r.Bytes(8, &crc)) return false;  // checked by the caller
        return r.at_end() || r.Fail("unexpected data after the end of the file");
      }
      case kOpSelectDb:
        if (!r.Len(&a)) return false;
        if (a > INT_MAX) return r.FailAt(at, StrCat("database number ", a, " out of range"));
        db = static_cast<int>(a);
        continue;
      case kOpResizeDb:
        if (!r.Len(&a) || !r.Len(&b)) return false;
        continue;
      case kOpSlotInfo:
        if (!r.Len(&a) || !r.Len(&b) || !r.Len(&a)) return false;
        continue;
      case kOpAux:
        if (!r.String(&s1) || !r.String(&s2)) return false;
        continue;
      case kOpModuleAux:
        if (!SkipModuleAux(r)) return false;
        continue;
      case kOpExpireMs:
        if (!r.Millis(&key.expire_ms)) return false;
        continue;
      case kOpExpireSec:
        if (!r.Le(4, &a)) return false;
        key.expire_ms = int64_t{static_cast<int32_t>(a)} * 1000;
        continue;
      case kOpIdle:
        if (!r.Len(&a)) return false;
        key.idle_s = static_cast<int64_t>(std::min<uint64_t>(a, INT64_MAX));
        continue;
      case kOpFreq: {
        uint8_t f;
        if (!r.Byte(&f)) return false;
        key.freq = f;
        continue;
      }
      case kOpFunction2:
        if (!r.String(&s1)) return false;
        if (functions) functions->push_back(std::move(s1));
        continue;
      case kOpFunction:
        // name, engine, [description], code: the payload 7.0 GA writes is
        // the code with a "#!<engine> name=<name>" shebang (rdbFunctionLoad).
        if (!r.String(&s1) || !r.String(&s2) || !r.Len(&a) || (a && !r.String(&s3)) ||
            !r.String(&code)) {
          return false;
        }
        if (functions) functions->push_back(StrCat("#!", s2, " name=", s1, "\n", code));
        continue;
    }
    std::string why = UnsupportedType(type);
    if (!why.empty()) return r.FailAt(at, why);
    key.db = db;
    if (!r.String(&key.name) || !ReadValue(r, type, &key.value)) return false;
    if (on_key && !IsEmptyCollection(key.value)) {
      *key_error = (*on_key)(std::move(key));
      if (!key_error->ok()) return false;
    }
    key = Key();
  }
}

// ---------------------------------------------------------------------------
// Writing.

void PutLen(std::string* out, uint64_t len) {
  if (len < 64) {
    out->push_back(static_cast<char>(len));
  } else if (len < 16384) {
    out->push_back(static_cast<char>(0x40 | (len >> 8)));
    out->push_back(static_cast<char>(len & 0xff));
  } else {
    int n = len <= UINT32_MAX ? 4 : 8;
    out->push_back(static_cast<char>(n == 4 ? 0x80 : 0x81));
    for (int i = n - 1; i >= 0; i--) out->push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  }
}

// lzf_compress of liblzf 3.6 with its default lzfP.h (HLOG 16, VERY_FAST,
// the multiplicative hash), the library Debian's redis-server links, so
// compressed strings come out byte-identical to its DUMP. (Redis's own
// bundled copy, used by upstream builds, is an older liblzf: another hash
// and one more match condition, so some strings compress differently; both
// decode the same.) False when the output would not fit in max_out bytes,
// where lzf_compress returns 0. liblzf leaves the hash table uninitialised
// (INIT_HTAB 0); a fresh process's zeroed stack rejects every slot, so a
// fresh table gives the same output. The table lives per thread with a
// generation stamp, so short strings do not each pay to clear 64K slots.
bool LzfCompress(std::string_view in, size_t max_out, std::string* out) {
  constexpr unsigned kHlog = 16, kHsize = 1u << kHlog;
  constexpr unsigned kMaxLit = 32, kMaxOff = 1 << 13, kMaxRef = (1 << 8) + (1 << 3);
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  const size_t in_len = in.size();
  if (in_len < 3 || max_out == 0 || in_len > UINT32_MAX) return false;
  thread_local std::vector<uint64_t> table(kHsize);
  thread_local uint32_t generation = 0;
  if (++generation == 0) {
    std::fill(table.begin(), table.end(), 0);
    generation = 1;
  }
  auto idx = [](uint32_t h) { return ((h * 0x1e35a7bdu) >> (32 - kHlog - 8)) & (kHsize - 1); };
  auto get = [&](unsigned slot) -> int64_t {
    return (table[slot] >> 32) == generation ? int64_t(uint32_t(table[slot])) : -1;
  };
  auto put = [&](unsigned slot, size_t pos) { table[slot] = (uint64_t{generation} << 32) | pos; };

  // Slack: liblzf's run bookkeeping may step a byte past max_out before it
  // gives up.
  out->assign(max_out + 8, '\0');
  auto* o = reinterpret_cast<uint8_t*>(out->data());
  size_t ip = 0, op = 1;  // op 0 holds the first literal run's header
  unsigned lit = 0;
  uint32_t hval = (uint32_t{p[0]} << 8) | p[1];
  while (ip < in_len - 2) {
    hval = (hval << 8) | p[ip + 2];
    unsigned slot = idx(hval);
    int64_t ref = get(slot);
    put(slot, ip);
    size_t off = ip - ref - 1;  // only meaningful when ref >= 0
    if (ref > 0 && off < kMaxOff && p[ref] == p[ip] && p[ref + 1] == p[ip + 1] &&
        p[ref + 2] == p[ip + 2]) {
      unsigned len = 2;
      unsigned maxlen = std::min<size_t>(in_len - ip - len, kMaxRef);
      if (op - !lit + 3 + 1 >= max_out) return false;
      o[op - lit - 1] = static_cast<uint8_t>(lit - 1);  // close the literal run
      op -= !lit;                                       // or drop an empty one
      // liblzf first compares 16 bytes unrolled, without checking maxlen
      // (it can overshoot by up to 2), then byte by byte up to maxlen.
      bool done = false;
      if (maxlen > 16) {
        for (int k = 0; k < 16 && !done; k++) {
          len++;
          done = p[ref + len] != p[ip + len];
        }
      }
      if (!done) {
        do {
          len++;
        } while (len < maxlen && p[ref + len] == p[ip + len]);
      }
      len -= 2;
      ip++;
      if (len < 7) {
        o[op++] = static_cast<uint8_t>((off >> 8) + (len << 5));
      } else {
        o[op++] = static_cast<uint8_t>((off >> 8) + (7 << 5));
        o[op++] = static_cast<uint8_t>(len - 7);
      }
      o[op++] = static_cast<uint8_t>(off);
      lit = 0;
      op++;  // header of the next literal run
      ip += len + 1;
      if (ip >= in_len - 2) break;
      // VERY_FAST: hash the last two positions of the match only.
      ip -= 2;
      hval = (uint32_t{p[ip]} << 8) | p[ip + 1];
      hval = (hval << 8) | p[ip + 2];
      put(idx(hval), ip);
      ip++;
      hval = (hval << 8) | p[ip + 2];
      put(idx(hval), ip);
      ip++;
    } else {
      if (op >= max_out) return false;
      lit++;
      o[op++] = p[ip++];
      if (lit == kMaxLit) {
        o[op - lit - 1] = static_cast<uint8_t>(lit - 1);
        lit = 0;
        op++;
      }
    }
  }
  if (op + 3 > max_out) return false;
  while (ip < in_len) {
    lit++;
    o[op++] = p[ip++];
    if (lit == kMaxLit) {
      o[op - lit - 1] = static_cast<uint8_t>(lit - 1);
      lit = 0;
      op++;
    }
  }
  o[op - lit - 1] = static_cast<uint8_t>(lit - 1);
  op -= !lit;
  out->resize(op);
  return true;
}

// rdbSaveRawString: an int32-range canonical integer of up to 11 chars as
// INT8/16/32; over 20 bytes LZF when that saves more than 4 bytes
// (rdbSaveLzfStringObject gives lzf_compress len - 4 bytes of room); else
// raw.
void PutString(std::string* out, std::string_view s) {
  int64_t v;
  if (s.size() <= 11 && CanonicalInt(s, &v) && v >= INT32_MIN && v <= INT32_MAX) {
    int n = (v >= -128 && v <= 127) ? 1 : (v >= -32768 && v <= 32767) ? 2 : 4;
    out->push_back(static_cast<char>(0xc0 | (n == 1 ? 0 : n == 2 ? 1 : 2)));
    PutLe(out, static_cast<uint64_t>(v), n);
    return;
  }
  std::string compressed;
  if (s.size() > 20 && LzfCompress(s, s.size() - 4, &compressed)) {
    out->push_back(static_cast<char>(0xc3));
    PutLen(out, compressed.size());
    PutLen(out, s.size());
    out->append(compressed);
    return;
  }
  PutLen(out, s.size());
  out->append(s);
}

void PutId16(std::string* out, const StreamId& id) {
  for (int i = 7; i >= 0; i--) out->push_back(static_cast<char>((id.ms >> (8 * i)) & 0xff));
  for (int i = 7; i >= 0; i--) out->push_back(static_cast<char>((id.seq >> (8 * i)) & 0xff));
}

// Builds a listpack the way lpAppend does: strings that are canonical
// integers are stored as integers, in the smallest encoding.
class ListpackBuilder {
 public:
  void AddInt(int64_t v) {
    size_t start = body_.size();
    if (v >= 0 && v <= 127) {
      body_.push_back(static_cast<char>(v));
    } else if (v >= -4096 && v <= 4095) {
      uint64_t u = static_cast<uint64_t>(v) & 0x1fff;
      body_.push_back(static_cast<char>(0xc0 | (u >> 8)));
      body_.push_back(static_cast<char>(u & 0xff));
    } else {
      int n = (v >= -32768 && v <= 32767) ? 2 : (v >= -8388608 && v <= 8388607) ? 3
            : (v >= INT32_MIN && v <= INT32_MAX) ? 4 : 8;
      body_.push_back(static_cast<char>(n == 2 ? 0xf1 : n == 3 ? 0xf2 : n == 4 ? 0xf3 : 0xf4));
      PutLe(&body_, static_cast<uint64_t>(v), n);
    }
    End(start);
  }
  void Add(std::string_view s) {
    int64_t v;
    if (CanonicalInt(s, &v)) return AddInt(v);
    size_t start = body_.size();
    if (s.size() < 64) {
      body_.push_back(static_cast<char>(0x80 | s.size()));
    } else if (s.size() < 4096) {
      body_.push_back(static_cast<char>(0xe0 | (s.size() >> 8)));
      body_.push_back(static_cast<char>(s.size() & 0xff));
    } else {
      body_.push_back(static_cast<char>(0xf0));
      PutLe(&body_, s.size(), 4);
    }
    body_.append(s);
    End(start);
  }
  void Append(const ListpackBuilder& other) {
    body_ += other.body_;
    count_ += other.count_;
  }
  size_t count() const { return count_; }
  size_t bytes() const { return 6 + body_.size() + 1; }
  std::string Finish() const {
    std::string lp;
    PutLe(&lp, bytes(), 4);
    PutLe(&lp, std::min<size_t>(count_, 65535), 2);  // 65535: count unknown
    lp += body_;
    lp.push_back(static_cast<char>(0xff));
    return lp;
  }

 private:
  void End(size_t start) {
    PutBacklen(&body_, body_.size() - start);
    count_++;
  }
  std::string body_;
  size_t count_ = 0;
};

// Redis 7.0's list node limits: list-max-listpack-size -2 (8 KB), and
// elements of 1 GB or more (packed_threshold) as plain nodes.
void PutList(std::string* out, const std::vector<std::string>& elems) {
  constexpr size_t kNodeBytes = 8192, kNodeEntries = 128, kPlainThreshold = size_t{1} << 30;
  std::vector<std::pair<int, std::string>> nodes;  // container, blob
  ListpackBuilder node;
  auto flush = [&] {
    if (node.count() > 0) nodes.emplace_back(2, node.Finish());
    node = ListpackBuilder();
  };
  for (const std::string& e : elems) {
    if (e.size() >= kPlainThreshold) {
      flush();
      nodes.emplace_back(1, e);
      continue;
    }
    if (node.count() >= kNodeEntries || node.bytes() + e.size() + 10 > kNodeBytes) flush();
    node.Add(e);
  }
  flush();
  PutLen(out, nodes.size());
  for (const auto& [container, blob] : nodes) {
    PutLen(out, container);
    PutString(out, blob);
  }
}

// STREAM_LISTPACKS_2 with Redis's default node limits (stream-node-max-
// entries 100, stream-node-max-bytes 4096).
void PutStream(std::string* out, const Stream& s) {
  constexpr size_t kNodeBytes = 4096, kNodeEntries = 100;
  std::vector<std::pair<StreamId, std::string>> nodes;  // master ID, listpack
  for (size_t i = 0; i < s.entries.size();) {
    const StreamEntry& master = s.entries[i];
    ListpackBuilder body;
    size_t n = 0;
    for (; i < s.entries.size() && n < kNodeEntries && (n == 0 || body.bytes() < kNodeBytes);
         i++, n++) {
      const StreamEntry& e = s.entries[i];
      bool same = e.fields.size() == master.fields.size();
      for (size_t f = 0; same && f < e.fields.size(); f++) {
        same = e.fields[f].first == master.fields[f].first;
      }
      int64_t nf = static_cast<int64_t>(e.fields.size());
      body.AddInt(same ? kStreamSameFields : 0);
      body.AddInt(static_cast<int64_t>(e.id.ms - master.id.ms));
      body.AddInt(static_cast<int64_t>(e.id.seq - master.id.seq));
      if (!same) body.AddInt(nf);
      for (const auto& [field, value] : e.fields) {
        if (!same) body.Add(field);
        body.Add(value);
      }
      body.AddInt(same ? nf + 3 : 2 * nf + 4);  // lp-count
    }
    ListpackBuilder lp;
    lp.AddInt(static_cast<int64_t>(n));
    lp.AddInt(0);  // deleted
    lp.AddInt(static_cast<int64_t>(master.fields.size()));
    for (const auto& field : master.fields) lp.Add(field.first);
    lp.AddInt(0);  // master entry terminator
    lp.Append(body);
    nodes.emplace_back(master.id, lp.Finish());
  }
  PutLen(out, nodes.size());
  for (const auto& [id, lp] : nodes) {
    std::string key;
    PutId16(&key, id);
    PutString(out, key);
    PutString(out, lp);
  }
  PutLen(out, s.entries.size());
  for (const StreamId* id : {&s.last_id, &s.first_id, &s.max_deleted_id}) {
    PutLen(out, id->ms);
    PutLen(out, id->seq);
  }
  PutLen(out, s.entries_added);
  PutLen(out, s.groups.size());
  for (const StreamGroup& g : s.groups) {
    PutString(out, g.name);
    PutLen(out, g.last_id.ms);
    PutLen(out, g.last_id.seq);
    PutLen(out, static_cast<uint64_t>(g.entries_read));  // -1 as 2^64-1, as Redis does
    PutLen(out, g.pending.size());
    for (const StreamPending& p : g.pending) {
      PutId16(out, p.id);
      PutLe(out, static_cast<uint64_t>(p.delivery_ms), 8);
      PutLen(out, p.delivery_count);
    }
    std::vector<StreamConsumer> consumers = g.consumers;
    for (const StreamPending& p : g.pending) {
      auto named = [&](const StreamConsumer& c) { return c.name == p.consumer; };
      if (std::none_of(consumers.begin(), consumers.end(), named)) {
        consumers.push_back({p.consumer, 0, -1});
      }
    }
    PutLen(out, consumers.size());
    for (const StreamConsumer& c : consumers) {
      PutString(out, c.name);
      PutLe(out, static_cast<uint64_t>(c.seen_ms), 8);
      std::vector<const StreamId*> owned;
      for (const StreamPending& p : g.pending) {
        if (p.consumer == c.name) owned.push_back(&p.id);
      }
      PutLen(out, owned.size());
      for (const StreamId* id : owned) PutId16(out, *id);
    }
  }
}

}  // namespace

absl::Status ReadFile(std::string_view data, std::string_view file_name,
                      const std::function<absl::Status(Key&&)>& on_key,
                      std::vector<std::string>* functions) {
  Failure failure;
  auto bad = [&] {
    return absl::DataLossError(StrCat("Bad dump file ", file_name, " at offset ", failure.offset,
                                      ": ", failure.why));
  };
  Reader r(data, 0, &failure);
  std::string_view magic, digits, signature("REDIS");
  size_t n = std::min(data.size(), signature.size());
  if (data.substr(0, n) != signature.substr(0, n)) {
    r.FailAt(0, "not an RDB file (no REDIS signature)");
    return bad();
  }
  if (!r.Bytes(5, &magic) || !r.Bytes(4, &digits)) return bad();
  int version = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') {
      r.FailAt(5, StrCat("bad RDB version \"", digits, "\""));
      return bad();
    }
    version = version * 10 + (c - '0');
  }
  if (version < 1 || version > kMaxVersion) {
    r.FailAt(5, StrCat("unsupported RDB version ", version));
    return bad();
  }
  absl::Status key_error;
  if (version >= 5 && data.size() >= 9 + 1 + 8) {
    uint64_t stored = GetLe(data.data() + data.size() - 8, 8);
    if (stored != 0 && stored != Crc64(0, data.data(), data.size() - 8)) {
      // A truncated or damaged file looks just the same; a structural
      // error, when there is one, says more than "checksum mismatch".
      Reader check = r;
      if (!ReadRecords(check, version, nullptr, nullptr, &key_error)) return bad();
      r.FailAt(data.size() - 8, "checksum mismatch");
      return bad();
    }
  }
  if (!ReadRecords(r, version, &on_key, functions, &key_error)) {
    return key_error.ok() ? bad() : key_error;
  }
  return absl::OkStatus();
}

absl::Status DecodeDump(std::string_view payload, Value* out) {
  if (payload.size() < 10) return absl::InvalidArgumentError(kBadFooter);
  size_t body = payload.size() - 10;
  uint64_t version = GetLe(payload.data() + body, 2);
  uint64_t crc = GetLe(payload.data() + body + 2, 8);
  if (version > kMaxVersion || crc != Crc64(0, payload.data(), body + 2)) {
    return absl::InvalidArgumentError(kBadFooter);
  }
  Failure failure;
  Reader r(payload.substr(0, body), 0, &failure);
  uint8_t type;
  Value v;
  if (!r.Byte(&type) || !UnsupportedType(type).empty() || !ReadValue(r, type, &v) ||
      !r.at_end() || IsEmptyCollection(v)) {
    return absl::InvalidArgumentError(kBadData);
  }
  *out = std::move(v);
  return absl::OkStatus();
}

std::string EncodeDump(const Value& v) {
  std::string out;
  switch (v.type) {
    case Type::kString:
      out.push_back(kTypeString);
      PutString(&out, v.str);
      break;
    case Type::kList:
      out.push_back(kTypeListQuicklist2);
      PutList(&out, v.elems);
      break;
    case Type::kSet:
      out.push_back(kTypeSet);
      PutLen(&out, v.elems.size());
      for (const std::string& e : v.elems) PutString(&out, e);
      break;
    case Type::kZset:
      out.push_back(kTypeZset2);
      PutLen(&out, v.zset.size());
      for (const auto& [member, score] : v.zset) {
        PutString(&out, member);
        PutLe(&out, std::bit_cast<uint64_t>(score), 8);
      }
      break;
    case Type::kHash:
      out.push_back(kTypeHash);
      PutLen(&out, v.hash.size());
      for (const auto& [field, value] : v.hash) {
        PutString(&out, field);
        PutString(&out, value);
      }
      break;
    case Type::kStream:
      out.push_back(kTypeStreamListpacks2);
      PutStream(&out, v.stream);
      break;
  }
  PutLe(&out, kDumpVersion, 2);
  PutLe(&out, Crc64(0, out.data(), out.size()), 8);
  return out;
}

}  // namespace lattice::node::rdb
