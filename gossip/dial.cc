#include "gossip/dial.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel_posix.h"
#include "grpcpp/support/channel_arguments.h"

namespace lattice::gossip {

bool SplitHostPort(const std::string& addr, std::string* host, int* port) {
  size_t colon = addr.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  std::string h = addr.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  int p = 0;
  if (!absl::SimpleAtoi(addr.substr(colon + 1), &p) || p <= 0 || p > 65535) return false;
  *host = h;
  *port = p;
  return true;
}

namespace {

// Fills `ss` for host:port; false if host is not a numeric address.
bool MakeAddr(const std::string& host, int port, sockaddr_storage* ss, socklen_t* len) {
  std::memset(ss, 0, sizeof *ss);
  auto* v4 = reinterpret_cast<sockaddr_in*>(ss);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    *len = sizeof *v4;
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(ss);
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    *len = sizeof *v6;
    return true;
  }
  return false;
}

bool IsWildcard(const std::string& ip) {
  return ip.empty() || ip == "0.0.0.0" || ip == "*" || ip == "::" || ip == "::*";
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> DialPeer(const std::string& addr,
                                                        const std::string& source_ip,
                                                        int timeout_ms) {
  std::string host;
  int port;
  if (!SplitHostPort(addr, &host, &port)) {
    return absl::InvalidArgumentError(absl::StrCat("bad peer address '", addr, "'"));
  }
  if (host == "localhost") host = "127.0.0.1";
  sockaddr_storage dst;
  socklen_t dst_len;
  if (!MakeAddr(host, port, &dst, &dst_len)) {
    // A name (a container's service name, a DNS record): resolve it.
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
    if (rc != 0 || !res) {
      return absl::UnavailableError(
          absl::StrCat("cannot resolve peer '", addr, "': ", gai_strerror(rc)));
    }
    std::memcpy(&dst, res->ai_addr, res->ai_addrlen);
    dst_len = res->ai_addrlen;
    freeaddrinfo(res);
  }
  int fd = socket(dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("socket: ", std::strerror(errno)));
  auto fail = [&](std::string what) {
    int err = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat(what, " ", addr, ": ", std::strerror(err)));
  };
  if (!IsWildcard(source_ip)) {
    sockaddr_storage src;
    socklen_t src_len;
    if (MakeAddr(source_ip, 0, &src, &src_len) && src.ss_family == dst.ss_family &&
        bind(fd, reinterpret_cast<sockaddr*>(&src), src_len) != 0) {
      return fail(absl::StrCat("bind ", source_ip, " to dial"));
    }
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, reinterpret_cast<sockaddr*>(&dst), dst_len) != 0) {
    if (errno != EINPROGRESS) return fail("connect");
    pollfd p{fd, POLLOUT, 0};
    int r = poll(&p, 1, timeout_ms);
    if (r == 0) {
      errno = ETIMEDOUT;
      return fail("connect");
    }
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (r < 0 || err != 0) {
      errno = err ? err : errno;
      return fail("connect");
    }
  }
  // gRPC takes the socket over (it closes it with the channel).
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 2000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 2000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // gRPC stops pinging after 2 pings without data by default. A delta
  // stream waiting for acknowledgements (its window full, e.g. while the
  // receiver holds a causal batch) sends no data, so a link cut then would
  // go unnoticed until TCP gave up: keep pinging.
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomInsecureChannelFromFd(addr, fd, args);
}

}  // namespace lattice::gossip
