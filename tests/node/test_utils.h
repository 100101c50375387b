// Fixture for command tests: starts an in-process lattice node on a free
// loopback port and talks RESP to it over a real socket, so every test goes
// through the parser, dispatcher, routing and reply encoder.
#ifndef LATTICE_TESTS_NODE_TEST_UTILS_H_
#define LATTICE_TESTS_NODE_TEST_UTILS_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "node/config.h"
#include "node/server.h"

namespace lattice::node {

inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

class RespClient {
 public:
  explicit RespClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < 200; i++) {
      if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return;
      usleep(10000);
    }
    ADD_FAILURE() << "cannot connect to port " << port;
  }
  ~RespClient() { close(fd_); }

  // Sends one command and returns the raw reply bytes.
  std::string Run(const std::vector<std::string>& args) {
    std::string req = "*" + std::to_string(args.size()) + "\r\n";
    for (const auto& a : args) req += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
    SendRaw(req);
    return ReadReply();
  }
  void SendRaw(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = write(fd_, bytes.data() + off, bytes.size() - off);
      if (n <= 0) return;
      off += n;
    }
  }
  // Reads exactly one RESP2/RESP3 reply (aggregates included).
  std::string ReadReply() {
    std::string out;
    ReadOne(&out);
    return out;
  }
  // Half-closes the connection: the server sees EOF after what was sent.
  void ShutdownWrite() { shutdown(fd_, SHUT_WR); }
  // True once the server has closed the connection.
  bool Closed() {
    char c;
    ssize_t n = recv(fd_, &c, 1, 0);
    return n == 0;
  }

 private:
  std::string Line() {
    while (true) {
      size_t p = buf_.find("\r\n");
      if (p != std::string::npos) {
        std::string l = buf_.substr(0, p + 2);
        buf_.erase(0, p + 2);
        return l;
      }
      if (!Fill()) return "";
    }
  }
  bool Fill() {
    char tmp[65536];
    ssize_t n = read(fd_, tmp, sizeof tmp);
    if (n <= 0) return false;
    buf_.append(tmp, n);
    return true;
  }
  void ReadOne(std::string* out) {
    std::string l = Line();
    out->append(l);
    if (l.empty()) return;
    char t = l[0];
    long long n = atoll(l.c_str() + 1);
    if (t == '$' || t == '=' || t == '!') {
      if (n < 0) return;
      while (buf_.size() < size_t(n) + 2) {
        if (!Fill()) return;
      }
      out->append(buf_.substr(0, n + 2));
      buf_.erase(0, n + 2);
    } else if (t == '*' || t == '~' || t == '>') {
      for (long long i = 0; i < n; i++) ReadOne(out);
    } else if (t == '%' || t == '|') {
      for (long long i = 0; i < 2 * n; i++) ReadOne(out);
    }
  }
  int fd_;
  std::string buf_;
};

class NodeTest : public ::testing::Test {
 protected:
  void StartNode(int threads) {
    Config config;
    config.port = FreePort();
    config.bind = {"127.0.0.1"};
    config.threads = threads;
    config.loglevel = "warning";
    server_ = std::make_unique<Server>(config);
    ASSERT_TRUE(server_->Listen().ok());
    server_->Start();
    client_ = std::make_unique<RespClient>(config.port);
  }
  void SetUp() override { StartNode(1); }
  void TearDown() override {
    client_.reset();
    if (server_) {
      server_->Shutdown();
      server_->Wait();
    }
  }
  std::string Run(const std::vector<std::string>& args) { return client_->Run(args); }
  int port() { return server_->config().port; }

  std::unique_ptr<Server> server_;
  std::unique_ptr<RespClient> client_;
};

}  // namespace lattice::node

#endif  // LATTICE_TESTS_NODE_TEST_UTILS_H_
