// zipf_load: a RESP load generator for skewed reads (tests/bench/zipf_bench.py).
//
// Opens `--conns` connections spread round robin over the given servers and
// keeps `--pipeline` GETs in flight on each, from one epoll thread. Keys are
// "<prefix><i>" with i drawn from a Zipf distribution over [0, --keys) with
// exponent --skew (0.99 as in YCSB), by inverse CDF over a precomputed
// table, from a fixed seed, so every run asks for the same sequence.
// `--load` SETs every key once first (value: the key's number).
//
// Prints one line: "ops=<n> seconds=<s> ops_per_sec=<r> errors=<e>".
// Errors are replies starting with '-'; a closed connection ends the run
// with exit status 1.
//
//   zipf_load --servers 127.0.0.1:6379,127.0.0.2:6379 --keys 100000
//             --skew 0.99 --seconds 10 --conns 12 --pipeline 16 [--load]
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

struct Options {
  std::vector<std::pair<std::string, int>> servers;
  int keys = 100000;
  double skew = 0.99;
  double seconds = 10;
  int conns = 12;
  int pipeline = 16;
  bool load = false;
  std::string prefix = "z:";
};

[[noreturn]] void Die(const std::string& msg) {
  fprintf(stderr, "zipf_load: %s\n", msg.c_str());
  exit(2);
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value for " + a);
      return argv[++i];
    };
    if (a == "--servers") {
      std::string list = next();
      size_t pos = 0;
      while (pos <= list.size()) {
        size_t comma = list.find(',', pos);
        std::string hp = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        size_t colon = hp.rfind(':');
        if (colon == std::string::npos) Die("bad server " + hp);
        o.servers.emplace_back(hp.substr(0, colon), atoi(hp.c_str() + colon + 1));
        if (comma == std::string::npos) break;
        pos = comma + 1;
      }
    } else if (a == "--keys") {
      o.keys = atoi(next().c_str());
    } else if (a == "--skew") {
      o.skew = atof(next().c_str());
    } else if (a == "--seconds") {
      o.seconds = atof(next().c_str());
    } else if (a == "--conns") {
      o.conns = atoi(next().c_str());
    } else if (a == "--pipeline") {
      o.pipeline = atoi(next().c_str());
    } else if (a == "--prefix") {
      o.prefix = next();
    } else if (a == "--load") {
      o.load = true;
    } else {
      Die("unknown option " + a);
    }
  }
  if (o.servers.empty() || o.keys <= 0 || o.conns <= 0 || o.pipeline <= 0) Die("bad options");
  return o;
}

int Connect(const std::string& host, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) Die("bad address " + host);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    Die("connect " + host + ":" + std::to_string(port) + ": " + strerror(errno));
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

void AppendCommand(std::string* out, const std::vector<std::string>& args) {
  *out += "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& s : args) *out += "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}

// Consumes complete simple replies (bulk, null, status, error, integer) from
// the front of buf; returns how many, counting errors.
int ConsumeReplies(std::string* buf, size_t* pos, uint64_t* errors) {
  int n = 0;
  while (true) {
    size_t eol = buf->find("\r\n", *pos);
    if (eol == std::string::npos) break;
    char t = (*buf)[*pos];
    size_t end = eol + 2;
    if (t == '$') {
      long len = atol(buf->c_str() + *pos + 1);
      if (len >= 0) {
        end += static_cast<size_t>(len) + 2;
        if (end > buf->size()) break;
      }
    } else if (t == '-') {
      (*errors)++;
    }
    *pos = end;
    n++;
  }
  if (*pos > 65536 || *pos == buf->size()) {
    buf->erase(0, *pos);
    *pos = 0;
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = Parse(argc, argv);
  // Zipf CDF over ranks; rank r maps to a shuffled key so hot keys land on
  // every node.
  std::vector<double> cdf(o.keys);
  double sum = 0;
  for (int i = 0; i < o.keys; i++) sum += 1.0 / std::pow(i + 1.0, o.skew);
  double acc = 0;
  for (int i = 0; i < o.keys; i++) {
    acc += 1.0 / std::pow(i + 1.0, o.skew) / sum;
    cdf[i] = acc;
  }
  std::vector<int> key_of(o.keys);
  for (int i = 0; i < o.keys; i++) key_of[i] = i;
  std::mt19937_64 rng(12345);
  std::shuffle(key_of.begin(), key_of.end(), rng);
  std::uniform_real_distribution<double> uni(0, 1);

  if (o.load) {
    int fd = Connect(o.servers[0].first, o.servers[0].second);
    std::string out, in;
    uint64_t errors = 0;
    for (int base = 0; base < o.keys; base += 1000) {
      out.clear();
      int n = std::min(1000, o.keys - base);
      for (int i = base; i < base + n; i++) {
        AppendCommand(&out, {"SET", o.prefix + std::to_string(i), std::to_string(i)});
      }
      if (write(fd, out.data(), out.size()) != static_cast<ssize_t>(out.size())) Die("write");
      int got = 0;
      size_t pos = 0;
      char chunk[65536];
      while (got < n) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r <= 0) Die("connection closed while loading");
        in.append(chunk, static_cast<size_t>(r));
        got += ConsumeReplies(&in, &pos, &errors);
      }
    }
    close(fd);
    if (errors) Die("errors while loading");
  }

  struct Conn {
    int fd;
    std::string in;
    size_t pos = 0;
    int inflight = 0;
  };
  std::vector<Conn> conns(o.conns);
  int ep = epoll_create1(0);
  auto send_batch = [&](Conn& c) {
    std::string out;
    for (int i = 0; i < o.pipeline; i++) {
      double u = uni(rng);
      int rank = static_cast<int>(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
      if (rank >= o.keys) rank = o.keys - 1;
      AppendCommand(&out, {"GET", o.prefix + std::to_string(key_of[rank])});
    }
    if (write(c.fd, out.data(), out.size()) != static_cast<ssize_t>(out.size())) Die("write");
    c.inflight = o.pipeline;
  };
  for (int i = 0; i < o.conns; i++) {
    const auto& [host, port] = o.servers[i % o.servers.size()];
    conns[i].fd = Connect(host, port);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(i);
    epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
  }
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::duration<double>(o.seconds);
  uint64_t ops = 0, errors = 0;
  for (Conn& c : conns) send_batch(c);
  std::vector<epoll_event> events(64);
  char chunk[65536];
  bool stopping = false;
  int active = o.conns;
  while (active > 0) {
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 1000);
    if (std::chrono::steady_clock::now() >= deadline) stopping = true;
    for (int e = 0; e < n; e++) {
      Conn& c = conns[events[e].data.u32];
      ssize_t r = read(c.fd, chunk, sizeof chunk);
      if (r <= 0) {
        fprintf(stderr, "zipf_load: connection closed by the server\n");
        return 1;
      }
      c.in.append(chunk, static_cast<size_t>(r));
      int got = ConsumeReplies(&c.in, &c.pos, &errors);
      c.inflight -= got;
      ops += static_cast<uint64_t>(got);
      if (c.inflight == 0) {
        if (stopping) {
          epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
          active--;
        } else {
          send_batch(c);
        }
      }
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  printf("ops=%llu seconds=%.3f ops_per_sec=%.0f errors=%llu\n",
         static_cast<unsigned long long>(ops), secs, ops / secs,
         static_cast<unsigned long long>(errors));
  for (Conn& c : conns) close(c.fd);
  return errors ? 1 : 0;
}
