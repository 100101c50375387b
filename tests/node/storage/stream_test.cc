// The stream storage (node/storage/stream.h): replicas that apply the same
// element deltas in any causal order, repeated, end with the same visible stream
// (entries, metadata, entries-added, groups, pending entries, consumers);
// the ordered indexes kept in step by every change equal those rebuilt from
// the state; the value codecs refuse malformed bytes.
#include "node/storage/stream.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proto/peer.pb.h"

namespace lattice::node {
namespace {

namespace sc = stream_codec;

struct Op {
  size_t index = 0;          // in the log
  std::vector<size_t> deps;  // the writes its replica had applied
  crdt::Stamp dot;
  peer::Elements msg;
};

// A replica that records each local write as the delta a node would ship.
struct Replica {
  explicit Replica(crdt::NodeId id) : node(id) {}
  crdt::NodeId node;
  uint64_t clock = 0;
  StreamObject s;

  std::vector<bool> applied;  // by log index

  crdt::Stamp Tick() { return {++clock, node}; }
  bool Ready(const Op& o) const {
    for (size_t d : o.deps) {
      if (d >= applied.size() || !applied[d]) return false;
    }
    return true;
  }
  void Observe(const crdt::Stamp& d) { clock = std::max(clock, d.counter); }

  static void AddReplaced(peer::ElementOp* op, const StreamObject::Dots& dots) {
    for (const crdt::Stamp& d : dots) {
      peer::Stamp* p = op->add_replaced();
      p->set_counter(d.counter);
      p->set_node_id(d.node);
    }
  }
  void Put(Op* o, const std::string& name, const std::string& value) {
    peer::ElementOp* op = o->msg.add_ops();
    op->set_kind(peer::ElementOp::PUT);
    op->set_element(name);
    op->set_value(value);
    AddReplaced(op, s.Put(name, value, o->dot));
  }
  void Remove(Op* o, const std::string& name) {
    StreamObject::Dots dots = s.Remove(name);
    if (dots.empty()) return;
    peer::ElementOp* op = o->msg.add_ops();
    op->set_kind(peer::ElementOp::REMOVE);
    op->set_element(name);
    AddReplaced(op, dots);
  }
  Op Begin() {
    Op o;
    for (size_t i = 0; i < applied.size(); i++) {
      if (applied[i]) o.deps.push_back(i);
    }
    o.dot = Tick();
    o.msg.set_type(static_cast<uint32_t>(ObjType::kStream));
    return o;
  }
  void Finish(Op& o, size_t index) {
    s.ctx.AddDot(o.dot);
    o.index = index;
    Mark(index);
  }
  void Mark(size_t index) {
    if (applied.size() <= index) applied.resize(index + 1, false);
    applied[index] = true;
  }

  // As node/cluster/merge.cc applies a change: always (each step is
  // idempotent, and a change seen only as replaced must still remove what
  // it replaced), then its dot and the dots it replaced are seen.
  void Apply(const Op& o) {
    s.ApplyOps(o.msg, o.dot);
    s.ctx.AddDot(o.dot);
    for (const peer::ElementOp& op : o.msg.ops()) {
      for (const peer::Stamp& r : op.replaced()) s.ctx.AddDot({r.counter(), r.node_id()});
    }
    Observe(o.dot);
    Mark(o.index);
  }

  // One random local command's element changes.
  Op RandomWrite(std::mt19937_64& rng, int n, size_t index) {
    Op o = Begin();
    switch (rng() % 7) {
      case 0:
      case 1:
      case 2: {  // XADD with a node-unique id
        StreamId last = s.LastId();
        StreamId id{last.ms + rng() % 3, 0};
        if (id.ms == last.ms) id.seq = (((last.seq >> 32) + 1) << 32) | node;
        if (id <= last) id = {last.ms + 1, node};
        std::string_view kv[] = {"n", "x"};
        std::string v = std::to_string(n);
        kv[1] = v;
        Put(&o, sc::EntryName(id), sc::EncodeFields(kv));
        std::string count(8, '\0');
        uint64_t c = static_cast<uint64_t>(s.NodeCount(node) + 1);
        for (int i = 0; i < 8; i++) count[i] = static_cast<char>((c >> (8 * (7 - i))) & 0xff);
        Put(&o, sc::NodeName(node), count);
        break;
      }
      case 3:  // XDEL of a random entry
        if (s.length()) {
          auto it = s.entries().begin();
          std::advance(it, rng() % s.length());
          StreamMeta m = s.Meta();
          m.max_deleted = std::max(m.max_deleted, *it);
          Remove(&o, sc::EntryName(*it));
          Put(&o, std::string(sc::kMetaName), m.Encode());
        }
        break;
      case 4: {  // a group read: advance and make pending
        std::string g = rng() % 2 ? "g1" : "g2";
        StreamGroup grp;
        s.Group(g, &grp);
        auto it = s.entries().upper_bound(grp.last_id);
        if (it == s.entries().end()) {
          Put(&o, sc::GroupName(g), StreamGroup{o.dot, grp.last_id, grp.entries_read}.Encode());
          break;
        }
        grp.last_id = *it;
        Put(&o, sc::GroupName(g), grp.Encode());
        std::string consumer = "c" + std::to_string(node);
        Put(&o, sc::PendingName(g, *it), StreamPending{n, 1, consumer}.Encode());
        std::string seen(8, '\0');
        seen[7] = static_cast<char>(n & 0x7f);
        Put(&o, sc::ConsumerName(g, consumer), seen);
        break;
      }
      case 5: {  // XACK of a random pending entry
        for (const auto& [name, gi] : s.groups()) {
          if (gi.pel.empty()) continue;
          Remove(&o, sc::PendingName(name, gi.pel.begin()->first));
          break;
        }
        break;
      }
      default: {  // XGROUP DESTROY of g2 (its consumers and pending too)
        auto it = s.groups().find("g2");
        if (it == s.groups().end()) break;
        std::vector<StreamId> pel;
        for (const auto& [id, owner] : it->second.pel) pel.push_back(id);
        std::vector<std::string> cs(it->second.consumers.begin(), it->second.consumers.end());
        for (StreamId id : pel) Remove(&o, sc::PendingName("g2", id));
        for (const std::string& c : cs) Remove(&o, sc::ConsumerName("g2", c));
        Remove(&o, sc::GroupName("g2"));
        break;
      }
    }
    Finish(o, index);
    return o;
  }
};

// Delivers what is ready of `ops` to r (a change only after every change
// its writer had seen: the replication stream is causal per key, a
// replaced dot being taken as its whole write seen), `pick` choosing which.
template <typename Pick>
void Deliver(Replica& r, const std::vector<Op>& ops, Pick pick) {
  for (bool progress = true; progress;) {
    progress = false;
    for (const Op& o : ops) {
      if (o.index < r.applied.size() && r.applied[o.index]) {
        if (pick()) r.Apply(o);  // a repeat: idempotent
        continue;
      }
      if (r.Ready(o) && pick()) {
        r.Apply(o);
        progress = true;
      }
    }
  }
}

// Everything a reader can see.
std::string View(const StreamObject& s) {
  std::string out;
  for (StreamId id : s.entries()) {
    out += id.ToString() + "=";
    sc::DecodeFields(s.EntryValue(id), [&](std::string_view f, std::string_view v) {
      out += std::string(f) + ":" + std::string(v) + ",";
    });
    out += ";";
  }
  StreamMeta m = s.Meta();
  out += "|last=" + m.last_id.ToString() + " maxdel=" + m.max_deleted.ToString() +
         " added=" + std::to_string(s.EntriesAdded());
  for (const auto& [name, gi] : s.groups()) {
    StreamGroup g;
    bool live = s.Group(name, &g);
    out += "|group " + name + " live=" + std::to_string(live) + " last=" + g.last_id.ToString();
    for (const auto& [id, owner] : gi.pel) out += " p" + id.ToString() + "@" + owner;
    for (const std::string& c : gi.consumers) {
      int64_t seen = 0;
      s.ConsumerSeen(name, c, &seen);
      out += " c" + c + "/" + std::to_string(seen);
    }
  }
  return out;
}

// The views rebuilt from the state alone (what a repair would produce).
std::string Rebuilt(const StreamObject& s) {
  peer::Elements state;
  s.StateToProto(&state);
  StreamObject fresh;
  fresh.MergeState(state, s.ctx);
  fresh.ctx = s.ctx;
  return View(fresh);
}

TEST(StreamObject, ReplicasConvergeWhateverTheDeliveryOrder) {
  for (uint64_t seed = 1; seed <= 40; seed++) {
    std::mt19937_64 rng(seed);
    std::vector<Replica> rs{Replica(11), Replica(22), Replica(33)};
    std::vector<Op> log;
    // Rounds of concurrent local writes, each followed by partial delivery.
    for (int round = 0; round < 12; round++) {
      for (auto& r : rs) {
        for (int k = 0; k < 4; k++) log.push_back(r.RandomWrite(rng, round * 10 + k, log.size()));
      }
      for (auto& r : rs) Deliver(r, log, [&] { return rng() % 3 == 0; });
    }
    // Everything, shuffled (in any order its dependencies allow), to each.
    for (auto& r : rs) {
      std::vector<Op> all = log;
      std::shuffle(all.begin(), all.end(), rng);
      Deliver(r, all, [] { return true; });
    }
    std::string v0 = View(rs[0].s);
    EXPECT_EQ(View(rs[1].s), v0) << "seed " << seed;
    EXPECT_EQ(View(rs[2].s), v0) << "seed " << seed;
    for (auto& r : rs) EXPECT_EQ(Rebuilt(r.s), View(r.s)) << "seed " << seed;
    EXPECT_GT(rs[0].s.length(), 0u);
  }
}

TEST(StreamObject, EntriesAddedSumsEveryNodesAdds) {
  Replica c(3), d(4);
  std::vector<Op> ops;
  for (int i = 0; i < 5; i++) {
    Op o = c.Begin();
    std::string_view kv[] = {"f", "v"};
    c.Put(&o, sc::EntryName({100, (uint64_t(i + 1) << 32) | 3}), sc::EncodeFields(kv));
    std::string count(8, '\0');
    count[7] = static_cast<char>(i + 1);
    c.Put(&o, sc::NodeName(3), count);
    c.Finish(o, ops.size());
    ops.push_back(o);
  }
  for (int i = 0; i < 3; i++) {
    Op o = d.Begin();
    std::string_view kv[] = {"f", "w"};
    d.Put(&o, sc::EntryName({100, (uint64_t(i + 1) << 32) | 4}), sc::EncodeFields(kv));
    std::string count(8, '\0');
    count[7] = static_cast<char>(i + 1);
    d.Put(&o, sc::NodeName(4), count);
    d.Finish(o, ops.size());
    ops.push_back(o);
  }
  // c and d wrote concurrently (no dependencies between them).
  for (Op& o : ops) o.deps.clear();
  for (const Op& o : ops) {
    c.Apply(o);
    d.Apply(o);
  }
  EXPECT_EQ(c.s.EntriesAdded(), 8);
  EXPECT_EQ(d.s.EntriesAdded(), 8);
  EXPECT_EQ(c.s.length(), 8u);
  EXPECT_EQ(View(c.s), View(d.s));
}

TEST(StreamObject, NodesModelRedisListpacks) {
  Replica r(1);
  for (uint64_t i = 1; i <= 250; i++) {
    Op o = r.Begin();
    std::string_view kv[] = {"f", "v"};
    r.Put(&o, sc::EntryName({i, 0}), sc::EncodeFields(kv));
    r.Finish(o, i);
  }
  ASSERT_EQ(r.s.nodes().size(), 3u);
  EXPECT_EQ(r.s.nodes().begin()->second.live, 100u);
  // A deleted entry still counts in its node; the node goes with its last.
  Op o = r.Begin();
  r.Remove(&o, sc::EntryName({5, 0}));
  EXPECT_EQ(r.s.nodes().begin()->second.live, 99u);
  EXPECT_EQ(r.s.nodes().begin()->second.total, 100u);
  for (uint64_t i = 1; i <= 100; i++) r.Remove(&o, sc::EntryName({i, 0}));
  EXPECT_EQ(r.s.nodes().size(), 2u);
  EXPECT_EQ(r.s.nodes().begin()->first, (StreamId{101, 0}));
}

TEST(StreamCodec, RoundTripsAndRefusesMalformedBytes) {
  std::string big(300, 'x');
  std::string_view kv[] = {"", "v", big, std::string_view("\0b", 2)};
  std::string enc = sc::EncodeFields(kv);
  std::vector<std::string> got;
  ASSERT_TRUE(sc::DecodeFields(enc, [&](std::string_view f, std::string_view v) {
    got.emplace_back(f);
    got.emplace_back(v);
  }));
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[2], big);
  EXPECT_EQ(got[3], std::string("\0b", 2));
  auto noop = [](std::string_view, std::string_view) {};
  EXPECT_FALSE(sc::DecodeFields(enc.substr(0, enc.size() - 1), noop));
  EXPECT_FALSE(sc::DecodeFields(std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11),
                                noop));
  EXPECT_FALSE(sc::DecodeFields(std::string("\x05" "ab", 3), noop));
  StreamMeta m;
  EXPECT_FALSE(StreamMeta::Decode("short", &m));
  StreamGroup g;
  EXPECT_FALSE(StreamGroup::Decode(std::string(35, 'a'), &g));
  StreamPending p;
  EXPECT_FALSE(StreamPending::Decode(std::string(15, 'a'), &p));
  StreamMeta m2{{7, 8}, {3, 4}, -5};
  ASSERT_TRUE(StreamMeta::Decode(m2.Encode(), &m));
  EXPECT_EQ(m.last_id, (StreamId{7, 8}));
  EXPECT_EQ(m.added_offset, -5);
}

}  // namespace
}  // namespace lattice::node
