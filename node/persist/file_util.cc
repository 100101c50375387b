#include "node/persist/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "node/str_util.h"

namespace lattice::node::persist {

std::string ErrnoText(std::string_view what, const std::string& path) {
  return StrCat(what, " ", path, ": ", std::strerror(errno));
}

absl::Status ReadWholeFile(const std::string& path, std::string_view kind, std::string* data) {
  data->clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(path);
    return absl::InternalError(ErrnoText(StrCat("Failed opening the ", kind, " file"), path));
  }
  struct stat st;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) data->reserve(static_cast<size_t>(st.st_size));
  char chunk[1 << 16];
  while (true) {
    ssize_t r = ::read(fd, chunk, sizeof(chunk));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      std::string err = ErrnoText(StrCat("Failed reading the ", kind, " file"), path);
      ::close(fd);
      return absl::InternalError(err);
    }
    if (r == 0) break;
    data->append(chunk, static_cast<size_t>(r));
  }
  ::close(fd);
  return absl::OkStatus();
}

bool WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

void FsyncParentDir(const std::string& path) {
  std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  int dfd = ::open(dir.empty() ? "/" : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view content) {
  std::string tmp = StrCat(path, ".tmp-", getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(ErrnoText("Failed opening", tmp));
  if (!WriteAll(fd, content.data(), content.size()) || ::fsync(fd) != 0) {
    std::string err = ErrnoText("Failed writing", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return absl::InternalError(err);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = ErrnoText("Failed renaming to", path);
    ::unlink(tmp.c_str());
    return absl::InternalError(err);
  }
  FsyncParentDir(path);
  return absl::OkStatus();
}

}  // namespace lattice::node::persist
