#include "node/storage/hll.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace lattice::node::hll {

namespace {

// A dense HLL with the header bytes of `header` (its encoding byte set to
// dense) and registers `regs`.
std::string DenseWith(std::string_view header, const uint8_t* regs) {
  std::string s(kDenseSize, '\0');
  std::memcpy(s.data(), header.data(), kHdrSize);
  s[kEncodingByte] = char(kDense);
  uint8_t* r = Registers(&s);
  for (long i = 0; i < kRegisters; i++) {
    if (regs[i]) DenseSetRaw(r, i, regs[i]);
  }
  return s;
}

}  // namespace

std::string CreateHll() {
  std::string s(kHdrSize + ((kRegisters + kSparseXzeroMaxLen - 1) / kSparseXzeroMaxLen) * 2, '\0');
  std::memcpy(s.data(), "HYLL", 4);
  s[kEncodingByte] = char(kSparse);
  auto* p = reinterpret_cast<uint8_t*>(s.data()) + kHdrSize;
  for (int aux = kRegisters; aux > 0;) {
    int xzero = std::min(aux, kSparseXzeroMaxLen);
    XzeroOp(p, xzero);
    p += 2;
    aux -= xzero;
  }
  return s;
}

bool IsHllString(std::string_view s) {
  if (s.size() < kHdrSize || s.substr(0, 4) != "HYLL") return false;
  uint8_t enc = uint8_t(s[kEncodingByte]);
  if (enc > kSparse) return false;
  return enc != kDense || s.size() == kDenseSize;
}

bool SparseToDense(std::string* s) {
  if (uint8_t((*s)[kEncodingByte]) == kDense) return true;
  std::vector<uint8_t> regs(kRegisters, 0);
  if (!MaxInto(regs.data(), *s)) return false;
  *s = DenseWith(*s, regs.data());  // magic and cached cardinality kept
  return true;
}

bool MaxInto(uint8_t* max, std::string_view s) {
  if (uint8_t(s[kEncodingByte]) == kDense) {
    const uint8_t* regs = Registers(s);
    for (long i = 0; i < kRegisters; i++) {
      uint8_t v = uint8_t(DenseGet(regs, i));
      if (v > max[i]) max[i] = v;
    }
    return true;
  }
  long i = 0;
  for (size_t p = kHdrSize; p < s.size();) {
    uint8_t b = uint8_t(s[p]);
    if (IsZero(b)) {
      i += ZeroLen(b);
      p++;
    } else if (IsXzero(b)) {
      i += XzeroLen(b, At(s, p + 1));
      p += 2;
    } else {
      long runlen = ValLen(b);
      uint8_t regval = uint8_t(ValValue(b));
      if (runlen + i > kRegisters) break;  // overflow
      while (runlen--) {
        if (regval > max[i]) max[i] = regval;
        i++;
      }
      p++;
    }
  }
  return i == kRegisters;
}

std::string DenseOf(const uint8_t* regs) {
  std::string header(kHdrSize, '\0');
  std::memcpy(header.data(), "HYLL", 4);
  std::string s = DenseWith(header, regs);
  InvalidateCache(&s);
  return s;
}

}  // namespace lattice::node::hll
