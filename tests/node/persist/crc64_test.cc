// CRC-64/REDIS: the catalogue's check value, the checksum of Redis's DUMP
// payload of an integer, and slicing by 8 against the byte-wise definition over
// every split of a buffer.
#include "node/persist/crc64.h"

#include <string>

#include "gtest/gtest.h"

namespace lattice::node {
namespace {

uint64_t Bytewise(const std::string& s) {
  uint64_t crc = 0;
  for (unsigned char c : s) {
    crc ^= c;
    for (int b = 0; b < 8; b++) crc = (crc & 1) ? (crc >> 1) ^ 0x95AC9329AC4BC9B5ULL : crc >> 1;
  }
  return crc;
}

TEST(Crc64, MatchesRedis) {
  EXPECT_EQ(Crc64(0, "123456789", 9), 0xe9c6d914c4b8d9caULL);
  // Redis's DUMP of the integer 10 (redis.io's DUMP page): type 0, the
  // int8 encoding 0xc0, 10, RDB version 10 (little-endian), then this CRC
  // little-endian: "n\x9fWE\x0e\xaec\xbb".
  std::string payload("\x00\xc0\n\n\x00", 5);
  EXPECT_EQ(Crc64(0, payload.data(), payload.size()), 0xbb63ae0e45579f6eULL);
}

TEST(Crc64, SlicedEqualsBytewiseForEverySplit) {
  std::string s;
  for (int i = 0; i < 300; i++) s.push_back(static_cast<char>((i * 131 + 7) & 0xff));
  uint64_t want = Bytewise(s);
  EXPECT_EQ(Crc64(0, s.data(), s.size()), want);
  for (size_t cut = 0; cut <= s.size(); cut += 13) {
    uint64_t crc = Crc64(0, s.data(), cut);
    EXPECT_EQ(Crc64(crc, s.data() + cut, s.size() - cut), want) << cut;
  }
}

}  // namespace
}  // namespace lattice::node
