#include "node/persist/crc64.h"

#include <array>

namespace lattice::node {

namespace {

// Eight tables (slicing by 8): table[0] is the byte-wise table of the
// reflected polynomial, table[k] advances table[k-1] by one more byte.
struct Tables {
  std::array<std::array<uint64_t, 256>, 8> t{};
  Tables() {
    constexpr uint64_t kReflected = 0x95AC9329AC4BC9B5ULL;  // 0xad93d23594c935a9 reflected
    for (uint64_t i = 0; i < 256; i++) {
      uint64_t c = i;
      for (int b = 0; b < 8; b++) c = (c & 1) ? (c >> 1) ^ kReflected : c >> 1;
      t[0][i] = c;
    }
    for (int k = 1; k < 8; k++) {
      for (int i = 0; i < 256; i++) t[k][i] = t[0][t[k - 1][i] & 0xff] ^ (t[k - 1][i] >> 8);
    }
  }
};

const Tables& T() {
  static const Tables tables;
  return tables;
}

}  // namespace

uint64_t Crc64(uint64_t crc, const void* data, size_t n) {
  const auto& t = T().t;
  const unsigned char* p = static_cast<const unsigned char*>(data);
  while (n >= 8) {
    uint64_t v = crc;
    for (int i = 0; i < 8; i++) v ^= static_cast<uint64_t>(p[i]) << (8 * i);
    crc = t[7][v & 0xff] ^ t[6][(v >> 8) & 0xff] ^ t[5][(v >> 16) & 0xff] ^
          t[4][(v >> 24) & 0xff] ^ t[3][(v >> 32) & 0xff] ^ t[2][(v >> 40) & 0xff] ^
          t[1][(v >> 48) & 0xff] ^ t[0][v >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

}  // namespace lattice::node
