// File: node/persist/file_util.h
//
// Byte and file helpers shared by the snapshot and the append-only log:
// little-endian integers, varints, reading a whole file, writing one
// atomically (temp file, fsync, rename, directory fsync).
//
// Thread-safety: free functions on caller-owned buffers and paths.
#ifndef LATTICE_NODE_PERSIST_FILE_UTIL_H_
#define LATTICE_NODE_PERSIST_FILE_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace lattice::node::persist {

inline void PutLe(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

inline uint64_t GetLe(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; i--) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

inline void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Reads a varint at data[*at], advancing *at; false if it runs off `size`.
inline bool GetVarint(const char* data, size_t size, size_t* at, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*at >= size) return false;
    uint8_t b = static_cast<uint8_t>(data[(*at)++]);
    *v |= uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

// "<what> <path>: <strerror(errno)>".
std::string ErrnoText(std::string_view what, const std::string& path);

// The whole file into *data. NotFound when it does not exist; `kind` names
// the file in other errors ("snapshot", "append-only").
absl::Status ReadWholeFile(const std::string& path, std::string_view kind, std::string* data);

// Writes all of [p, p + n) to fd, retrying short writes. False with errno.
bool WriteAll(int fd, const char* p, size_t n);

// fsyncs the directory holding `path`, so a rename or create in it lasts.
void FsyncParentDir(const std::string& path);

// Replaces `path` with `content` so that a crash leaves the old file or
// the new one.
absl::Status WriteFileAtomically(const std::string& path, std::string_view content);

}  // namespace lattice::node::persist

#endif  // LATTICE_NODE_PERSIST_FILE_UTIL_H_
