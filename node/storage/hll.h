// Redis 7.0's HyperLogLog representation (hyperloglog.c), shared by the
// HLL commands (node/families/hll_family.cc) and by the merge of concurrent
// HLL writes (node/cluster/merge.cc): a 16-byte header ("HYLL", the
// encoding, three unused bytes, the cached cardinality in little-endian
// with bit 7 of its last byte meaning "stale"), then either 16384 6-bit
// registers packed LSB first (dense) or the sparse opcodes ZERO
// (00xxxxxx), XZERO (01xxxxxx yyyyyyyy) and VAL (1vvvvvll).
#ifndef LATTICE_NODE_STORAGE_HLL_H_
#define LATTICE_NODE_STORAGE_HLL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lattice::node::hll {

constexpr int kP = 14;               // register index bits
constexpr int kQ = 64 - kP;          // bits left for the zero run
constexpr int kRegisters = 1 << kP;  // 16384
constexpr int kBits = 6;             // bits per dense register
constexpr unsigned kRegisterMax = (1 << kBits) - 1;
constexpr size_t kHdrSize = 16;
constexpr size_t kDenseRegBytes = (kRegisters * kBits + 7) / 8;
constexpr size_t kDenseSize = kHdrSize + kDenseRegBytes;  // 12304
constexpr uint8_t kDense = 0;
constexpr uint8_t kSparse = 1;
constexpr size_t kEncodingByte = 4;
constexpr size_t kCardByte = 8;
constexpr int kSparseValMaxValue = 32;
constexpr int kSparseValMaxLen = 4;
constexpr int kSparseZeroMaxLen = 64;
constexpr int kSparseXzeroMaxLen = 16384;

// Dense registers: `r` points at kDenseRegBytes bytes. Redis reads (and
// writes zero bits of) the byte after the last register, its string's NUL
// terminator; here that byte is taken as zero.
inline unsigned DenseGet(const uint8_t* r, long i) {
  size_t byte = i * kBits / 8;
  unsigned fb = i * kBits & 7;
  unsigned b0 = r[byte];
  unsigned b1 = byte + 1 < kDenseRegBytes ? r[byte + 1] : 0;
  return ((b0 >> fb) | (b1 << (8 - fb))) & kRegisterMax;
}

inline void DenseSetRaw(uint8_t* r, long i, unsigned v) {
  size_t byte = i * kBits / 8;
  unsigned fb = i * kBits & 7;
  unsigned fb8 = 8 - fb;
  r[byte] &= ~(kRegisterMax << fb);
  r[byte] |= v << fb;
  if (byte + 1 < kDenseRegBytes) {
    r[byte + 1] &= ~(kRegisterMax >> fb8);
    r[byte + 1] |= v >> fb8;
  }
}

// hllDenseSet: 1 if the register grew.
inline int DenseSet(uint8_t* r, long i, unsigned count) {
  if (count > DenseGet(r, i)) {
    DenseSetRaw(r, i, count);
    return 1;
  }
  return 0;
}

inline uint8_t* Registers(std::string* s) { return reinterpret_cast<uint8_t*>(s->data()) + kHdrSize; }
inline const uint8_t* Registers(std::string_view s) {
  return reinterpret_cast<const uint8_t*>(s.data()) + kHdrSize;
}

// Sparse opcodes.
inline bool IsZero(uint8_t b) { return (b & 0xc0) == 0; }
inline bool IsXzero(uint8_t b) { return (b & 0xc0) == 0x40; }
inline bool IsVal(uint8_t b) { return (b & 0x80) != 0; }
inline int ZeroLen(uint8_t b) { return (b & 0x3f) + 1; }
inline int XzeroLen(uint8_t b0, uint8_t b1) { return (((b0 & 0x3f) << 8) | b1) + 1; }
inline int ValValue(uint8_t b) { return ((b >> 2) & 0x1f) + 1; }
inline int ValLen(uint8_t b) { return (b & 0x3) + 1; }
inline uint8_t ValOp(int value, int len) { return uint8_t(((value - 1) << 2 | (len - 1)) | 0x80); }
inline uint8_t ZeroOp(int len) { return uint8_t(len - 1); }
inline void XzeroOp(uint8_t* p, int len) {
  int l = len - 1;
  p[0] = uint8_t((l >> 8) | 0x40);
  p[1] = uint8_t(l & 0xff);
}

// Byte i of a sparse string, zero past its end (Redis reads the NUL
// terminator of a truncated XZERO).
inline uint8_t At(std::string_view s, size_t i) { return i < s.size() ? uint8_t(s[i]) : 0; }

// createHLLObject: an empty sparse HLL (one XZERO covering every register),
// the cached cardinality 0 and valid.
std::string CreateHll();

inline void InvalidateCache(std::string* s) { (*s)[kCardByte + 7] |= char(0x80); }

// isHLLObjectOrReply's checks past the type: the magic, a known encoding,
// and the exact dense length.
bool IsHllString(std::string_view s);

// hllSparseToDense: false if the opcodes do not cover exactly kRegisters.
bool SparseToDense(std::string* s);

// hllMerge: max[i] = MAX(max[i], register i of `s`), `max` holding
// kRegisters bytes; false if `s` is corrupted.
bool MaxInto(uint8_t* max, std::string_view s);

// A dense HLL holding registers `regs` (kRegisters bytes, each at most
// kRegisterMax), its cached cardinality zero and marked stale: the same
// registers always give the same bytes.
std::string DenseOf(const uint8_t* regs);

}  // namespace lattice::node::hll

#endif  // LATTICE_NODE_STORAGE_HLL_H_
