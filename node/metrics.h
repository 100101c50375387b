// File: node/metrics.h
//
// The Prometheus endpoint (metrics-port): an HTTP server from prometheus-cpp
// whose one collectable reads the node's own counters at scrape time, so
// the command path pays nothing for metrics beyond the per-worker counters
// INFO already keeps. Per-worker command counters are read on each worker's
// own thread (a posted task), so a scrape never races a command.
//
// Thread-safety: Collect() runs on the exposer's threads.
#ifndef LATTICE_NODE_METRICS_H_
#define LATTICE_NODE_METRICS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace lattice::node {

class Server;

class MetricsExporter {
 public:
  // Serves /metrics on `address` ("127.0.0.1:9121").
  static absl::StatusOr<std::unique_ptr<MetricsExporter>> Start(Server* server,
                                                                const std::string& address);
  ~MetricsExporter();

  struct Impl;

 private:
  explicit MetricsExporter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The metrics text a scrape returns (for tests and LATTICE METRICS).
std::string MetricsText(Server* server);

}  // namespace lattice::node

#endif  // LATTICE_NODE_METRICS_H_
