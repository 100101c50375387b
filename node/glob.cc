#include "node/glob.h"

#include <cctype>

namespace lattice::node {

namespace {

char Fold(char c, bool nocase) {
  return nocase ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : c;
}

// Iterative with one backtrack point for '*', so hostile patterns such as
// "*a*a*a*a*b" cost O(pattern x string), never exponential time.
bool Match(const char* p, const char* pend, const char* s, const char* send, bool nocase) {
  const char* star_p = nullptr;
  const char* star_s = nullptr;
  while (s < send) {
    if (p < pend) {
      char pc = *p;
      if (pc == '*') {
        while (p + 1 < pend && p[1] == '*') p++;
        star_p = p++;
        star_s = s;
        continue;
      }
      if (pc == '?') {
        p++;
        s++;
        continue;
      }
      if (pc == '[') {
        const char* q = p + 1;
        bool negate = false;
        if (q < pend && *q == '^') {
          negate = true;
          q++;
        }
        bool matched = false;
        while (q < pend) {
          if (*q == '\\' && q + 1 < pend) {
            q++;
            if (Fold(*q, nocase) == Fold(*s, nocase)) matched = true;
          } else if (*q == ']') {
            break;
          } else if (q + 2 < pend && q[1] == '-') {
            char lo = Fold(q[0], nocase), hi = Fold(q[2], nocase), c = Fold(*s, nocase);
            if (lo > hi) std::swap(lo, hi);
            if (c >= lo && c <= hi) matched = true;
            q += 2;
          } else if (Fold(*q, nocase) == Fold(*s, nocase)) {
            matched = true;
          }
          q++;
        }
        // Redis treats an unterminated class as ending at the pattern's end.
        if (negate) matched = !matched;
        if (matched) {
          p = q < pend ? q + 1 : q;
          s++;
          continue;
        }
      } else {
        if (pc == '\\' && p + 1 < pend) {
          p++;
          pc = *p;
        }
        if (Fold(pc, nocase) == Fold(*s, nocase)) {
          p++;
          s++;
          continue;
        }
      }
    }
    if (!star_p) return false;
    p = star_p + 1;
    s = ++star_s;
  }
  while (p < pend && *p == '*') p++;
  return p == pend;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view str, bool nocase) {
  return Match(pattern.data(), pattern.data() + pattern.size(), str.data(), str.data() + str.size(),
               nocase);
}

}  // namespace lattice::node
