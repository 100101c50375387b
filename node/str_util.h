// File: node/str_util.h
//
// String helpers over std::string_view. Debian 12's abseil is built with its
// own absl::string_view (not an alias of std::string_view), so absl::StrCat
// and friends do not accept std::string_view; these small equivalents do.
//
// Thread-safety: pure functions.
#ifndef LATTICE_NODE_STR_UTIL_H_
#define LATTICE_NODE_STR_UTIL_H_

#include <cctype>
#include <charconv>
#include <string>
#include <string_view>
#include <type_traits>

namespace lattice::node {

namespace internal {
template <typename T>
void AppendOne(std::string* out, const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    out->append(v ? "1" : "0");
  } else if constexpr (std::is_integral_v<T>) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out->append(buf, r.ptr);
  } else if constexpr (std::is_floating_point_v<T>) {
    out->append(std::to_string(v));
  } else {
    out->append(std::string_view(v));
  }
}
}  // namespace internal

template <typename... T>
void StrAppend(std::string* out, const T&... args) {
  (internal::AppendOne(out, args), ...);
}

template <typename... T>
std::string StrCat(const T&... args) {
  std::string out;
  StrAppend(&out, args...);
  return out;
}

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

inline std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

template <typename Range>
std::string StrJoin(const Range& parts, std::string_view sep) {
  std::string out;
  bool first = true;
  for (const auto& p : parts) {
    if (!first) out.append(sep);
    first = false;
    out.append(std::string_view(p));
  }
  return out;
}

// Redis prints at most 128 bytes of a name and stops at a NUL (it formats
// with %s); callers turn newlines into spaces so a reply stays one line.
inline std::string Clip(std::string_view s, size_t n) {
  size_t nul = s.find('\0');
  if (nul != std::string_view::npos) s = s.substr(0, nul);
  return std::string(s.substr(0, n));
}

}  // namespace lattice::node

#endif  // LATTICE_NODE_STR_UTIL_H_
