#include "node/metrics.h"

#include <chrono>
#include <algorithm>
#include <limits>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "node/command_table.h"
#include "node/cluster/replication.h"
#include "node/server.h"
#include "node/cluster/hot_replication.h"
#include "node/cluster/anti_entropy.h"
#include "prometheus/collectable.h"
#include "prometheus/exposer.h"
#include "prometheus/text_serializer.h"

namespace lattice::node {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Per-command counters summed over workers, each read on its own thread.
struct RoutingTotals {
  uint64_t reads_local = 0, reads_forwarded = 0, forwarded = 0;
};

std::vector<CommandStats> GatherCommandStats(Server* server, uint64_t* keys,
                                             std::vector<std::pair<std::string, uint32_t>>* hot,
                                             RoutingTotals* routing) {
  struct Gather {
    std::mutex mu;
    std::condition_variable cv;
    int pending = 0;
    std::vector<CommandStats> sum;
    uint64_t keys = 0;
    std::vector<std::pair<std::string, uint32_t>> hot;
    RoutingTotals routing;
  };
  auto g = std::make_shared<Gather>();
  g->pending = server->shard_count();
  for (int i = 0; i < server->shard_count(); i++) {
    Worker* w = &server->worker(i);
    w->Post([w, g] {
      uint64_t keys = 0;
      for (int d = 0; d < w->shard().databases(); d++) keys += w->shard().db(d).size();
      auto top = w->shard().hot_keys.Top();
      std::lock_guard<std::mutex> l(g->mu);
      g->hot.insert(g->hot.end(), top.begin(), top.end());
      if (g->sum.size() < w->stats.size()) g->sum.resize(w->stats.size());
      for (size_t c = 0; c < w->stats.size(); c++) {
        const CommandStats& s = w->stats[c];
        CommandStats& t = g->sum[c];
        t.calls += s.calls;
        t.usec += s.usec;
        t.failed += s.failed;
        t.rejected += s.rejected;
        for (int b = 0; b < CommandStats::kBuckets; b++) t.buckets[b] += s.buckets[b];
      }
      g->keys += keys;
      g->routing.reads_local += w->reads_local;
      g->routing.reads_forwarded += w->reads_forwarded;
      g->routing.forwarded += w->commands_forwarded;
      if (--g->pending == 0) g->cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> l(g->mu);
  g->cv.wait_for(l, std::chrono::seconds(2), [&] { return g->pending == 0; });
  *keys = g->keys;
  *hot = g->hot;
  *routing = g->routing;
  return g->sum;
}

MetricFamily Family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

ClientMetric Value(double v, std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  m.counter.value = v;
  m.gauge.value = v;
  return m;
}

std::vector<MetricFamily> Collect(Server* server) {
  std::vector<MetricFamily> out;
  uint64_t keys = 0;
  std::vector<std::pair<std::string, uint32_t>> hot;
  RoutingTotals routing;
  std::vector<CommandStats> stats = GatherCommandStats(server, &keys, &hot, &routing);
  {
    std::sort(hot.begin(), hot.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    auto f = Family("lattice_hot_key_reads",
                    "Decayed read count (half-life 5 s) of this node's ten most read keys.",
                    MetricType::Gauge);
    for (size_t i = 0; i < hot.size() && i < 10; i++) {
      f.metric.push_back(Value(hot[i].second, {{"key", hot[i].first}}));
    }
    out.push_back(std::move(f));
  }

  auto calls = Family("lattice_commands_total", "Commands executed, by command.",
                      MetricType::Counter);
  auto failed = Family("lattice_command_errors_total",
                       "Commands that replied with an error, by command.", MetricType::Counter);
  auto latency = Family("lattice_command_duration_seconds",
                        "Time spent executing commands, by command.", MetricType::Histogram);
  const CommandTable& table = server->commands();
  for (size_t i = 0; i < table.slot_count(); i++) {
    const CommandId& cmd = table.slot(i);
    if (cmd.index >= stats.size()) continue;
    const CommandStats& s = stats[cmd.index];
    if (s.calls == 0 && s.failed == 0) continue;
    std::vector<ClientMetric::Label> labels = {{"cmd", cmd.fullname}};
    calls.metric.push_back(Value(static_cast<double>(s.calls), labels));
    failed.metric.push_back(Value(static_cast<double>(s.failed), labels));
    ClientMetric h;
    h.label = labels;
    h.histogram.sample_count = s.calls;
    h.histogram.sample_sum = static_cast<double>(s.usec) / 1e6;
    uint64_t cumulative = 0;
    for (int b = 0; b < CommandStats::kBuckets; b++) {
      cumulative += s.buckets[b];
      double bound = b < CommandStats::kBuckets - 1
                         ? static_cast<double>(CommandStats::kBoundsUs[b]) / 1e6
                         : std::numeric_limits<double>::infinity();
      h.histogram.bucket.push_back({cumulative, bound});
    }
    latency.metric.push_back(std::move(h));
  }
  out.push_back(std::move(calls));
  out.push_back(std::move(failed));
  out.push_back(std::move(latency));

  auto gauge = [&](std::string name, std::string help, double v) {
    auto f = Family(std::move(name), std::move(help), MetricType::Gauge);
    f.metric.push_back(Value(v));
    out.push_back(std::move(f));
  };
  auto counter = [&](std::string name, std::string help, double v) {
    auto f = Family(std::move(name), std::move(help), MetricType::Counter);
    f.metric.push_back(Value(v));
    out.push_back(std::move(f));
  };
  gauge("lattice_connected_clients", "Client connections open.", server->clients.load());
  gauge("lattice_keys", "Keys held by this node, all databases.", static_cast<double>(keys));
  Replicator& r = server->replicator();
  counter("lattice_deltas_emitted_total", "Deltas this node's writes produced for its peers.",
          static_cast<double>(r.deltas_emitted()));
  counter("lattice_deltas_applied_total", "Deltas received from peers and applied.",
          static_cast<double>(r.deltas_applied()));
  counter("lattice_causal_waits_total",
          "Batches held back until the deltas they depend on had been applied.",
          static_cast<double>(r.causal_waits()));
  counter("lattice_causal_fetched_total",
          "Causal batches whose causes were fetched by anti-entropy after a 1 s wait.",
          static_cast<double>(r.causal_fetched()));
  gauge("lattice_replication_log_bytes", "Bytes held in the delta backlog.",
        static_cast<double>(r.log_bytes()));
  {
    // Placement and hot keys.
    auto reads = Family("lattice_reads_total",
                        "Reads of keys by this node's clients, by where they were served: "
                        "local (held here) or forwarded.",
                        MetricType::Counter);
    reads.metric.push_back(Value(static_cast<double>(routing.reads_local), {{"served", "local"}}));
    reads.metric.push_back(
        Value(static_cast<double>(routing.reads_forwarded), {{"served", "forwarded"}}));
    out.push_back(std::move(reads));
    counter("lattice_commands_forwarded_total",
            "Client commands sent to (or fanned out over) the nodes holding their keys.",
            static_cast<double>(routing.forwarded));
    std::shared_ptr<const PlacementView> v = server->placement().view();
    gauge("lattice_ring_members", "Members on the placement ring.",
          v->ring ? static_cast<double>(v->ring->members().size()) : 1.0);
    gauge("lattice_extra_replicas",
          "Extra (hot-key) replicas in the cluster, as gossiped: one per key and member.",
          static_cast<double>(v->extra_replicas()));
    if (HotReplication* hot_r = server->hot_replication()) {
      gauge("lattice_hot_keys_held", "Hot keys this node holds as an extra replica.",
            static_cast<double>(hot_r->held_count()));
      counter("lattice_hot_keys_gained_total", "Hot keys that gained an extra replica here.",
              static_cast<double>(hot_r->gained()));
      counter("lattice_hot_keys_lost_total", "Extra replicas dropped here after the key cooled.",
              static_cast<double>(hot_r->lost()));
    }
    if (AntiEntropy* ae = server->anti_entropy()) {
      counter("lattice_keys_handed_off_total",
              "Keys pushed to their new replicas and dropped here after a ring change.",
              static_cast<double>(ae->handed_off()));
    }
  }

  auto sent = Family("lattice_peer_deltas_sent_total", "Deltas sent to a peer.",
                     MetricType::Counter);
  auto bytes = Family("lattice_peer_bytes_sent_total", "Delta stream bytes sent to a peer.",
                      MetricType::Counter);
  auto received = Family("lattice_peer_deltas_received_total", "Deltas received from a peer.",
                         MetricType::Counter);
  auto applied = Family("lattice_peer_deltas_applied_total",
                        "Deltas received from a peer and applied.", MetricType::Counter);
  auto rejected = Family("lattice_peer_batches_rejected_total",
                         "Malformed batches from a peer (its stream was dropped).",
                         MetricType::Counter);
  auto backlog = Family("lattice_peer_backlog_deltas",
                        "Deltas written here that a peer has not acknowledged.",
                        MetricType::Gauge);
  auto connected = Family("lattice_peer_connected",
                          "1 while the delta stream to a peer is up.", MetricType::Gauge);
  auto repair = Family("lattice_peer_needs_repair",
                       "1 when a peer missed deltas that left the backlog.", MetricType::Gauge);
  auto state = Family("lattice_member_state", "1 for the state each member is in.",
                      MetricType::Gauge);
  auto lag = Family("lattice_peer_replication_lag_seconds",
                    "Time from a local write to the peer's acknowledgement of it.",
                    MetricType::Histogram);
  for (const PeerView& p : r.Peers()) {
    std::vector<ClientMetric::Label> labels = {{"peer", p.name}};
    sent.metric.push_back(Value(static_cast<double>(p.deltas_sent), labels));
    bytes.metric.push_back(Value(static_cast<double>(p.bytes_sent), labels));
    received.metric.push_back(Value(static_cast<double>(p.deltas_received), labels));
    applied.metric.push_back(Value(static_cast<double>(p.deltas_applied), labels));
    rejected.metric.push_back(Value(static_cast<double>(p.batches_rejected), labels));
    backlog.metric.push_back(Value(static_cast<double>(p.backlog), labels));
    connected.metric.push_back(Value(p.connected ? 1 : 0, labels));
    repair.metric.push_back(Value(p.needs_repair ? 1 : 0, labels));
    ClientMetric h;
    h.label = labels;
    h.histogram.sample_count = p.lag->count();
    h.histogram.sample_sum = static_cast<double>(p.lag->sum_us()) / 1e6;
    uint64_t cumulative = 0;
    for (int b = 0; b < LatencyHistogram::kBuckets; b++) {
      cumulative += p.lag->bucket(b);
      double bound = b < LatencyHistogram::kBuckets - 1
                         ? static_cast<double>(LatencyHistogram::kBoundsUs[b]) / 1e6
                         : std::numeric_limits<double>::infinity();
      h.histogram.bucket.push_back({cumulative, bound});
    }
    lag.metric.push_back(std::move(h));
  }
  if (gossip::Membership* m = server->membership()) {
    for (const gossip::MemberInfo& info : m->Snapshot()) {
      state.metric.push_back(
          Value(1, {{"member", info.name}, {"zone", info.zone}, {"state", StateName(info.state)}}));
    }
  }
  for (auto* f : {&sent, &bytes, &received, &applied, &rejected, &backlog, &connected, &repair,
                  &state, &lag}) {
    out.push_back(std::move(*f));
  }
  return out;
}

class NodeCollectable : public prometheus::Collectable {
 public:
  explicit NodeCollectable(Server* server) : server_(server) {}
  std::vector<MetricFamily> Collect() const override { return node::Collect(server_); }

 private:
  Server* server_;
};

}  // namespace

struct MetricsExporter::Impl {
  std::unique_ptr<prometheus::Exposer> exposer;
  std::shared_ptr<NodeCollectable> collectable;
};

MetricsExporter::MetricsExporter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MetricsExporter::~MetricsExporter() = default;

absl::StatusOr<std::unique_ptr<MetricsExporter>> MetricsExporter::Start(
    Server* server, const std::string& address) {
  auto impl = std::make_unique<Impl>();
  try {
    impl->exposer = std::make_unique<prometheus::Exposer>(address);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address, ": ", e.what()));
  }
  impl->collectable = std::make_shared<NodeCollectable>(server);
  impl->exposer->RegisterCollectable(impl->collectable);
  return std::unique_ptr<MetricsExporter>(new MetricsExporter(std::move(impl)));
}

std::string MetricsText(Server* server) {
  return prometheus::TextSerializer().Serialize(Collect(server));
}

}  // namespace lattice::node
