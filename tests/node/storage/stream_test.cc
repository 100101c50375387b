// The stream storage (node/storage/stream.h): replicas that apply the same
// element deltas in any causal order, repeated, end with the same visible stream
// (entries, metadata, entries-added, groups, pending entries, consumers);
// the ordered indexes kept in step by every change equal those rebuilt from
// the state; the value codecs refuse malformed bytes.
#include "node/storage/stream.h"

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "node/stamp_proto.h"
#include "proto/peer.pb.h"

namespace lattice::node {
namespace {

namespace sc = stream_codec;

struct Op {
  size_t index = 0;          // in the log
  std::vector<size_t> deps;  // the writes its replica had applied
  crdt::Stamp dot;
  uint32_t subs = 0;  // element dots given so far (CollectionWrite::ElementDot)
  peer::Elements msg;
};

std::vector<StreamId> Ids(const StreamObject& s) {
  std::vector<StreamId> out;
  s.ScanEntries({}, StreamId::Max(), false, [&](StreamId id, std::string_view) {
    out.push_back(id);
    return true;
  });
  return out;
}

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
    for (const crdt::Stamp& d : dots) ToProto(d, op->add_replaced());
  }
  void Put(Op* o, const std::string& name, const std::string& value) {
    peer::ElementOp* op = o->msg.add_ops();
    op->set_kind(peer::ElementOp::PUT);
    op->set_element(name);
    op->set_value(value);
    crdt::Stamp dot = o->dot;
    dot.sub = ++o->subs;
    op->set_sub(dot.sub);
    AddReplaced(op, s.Put(name, value, dot));
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
      for (const peer::Stamp& r : op.replaced()) s.ctx.AddDot(FromProto(r));
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
          std::vector<StreamId> ids = Ids(s);
          StreamId victim = ids[rng() % ids.size()];
          StreamMeta m = s.Meta();
          m.max_deleted = std::max(m.max_deleted, victim);
          Remove(&o, sc::EntryName(victim));
          Put(&o, std::string(sc::kMetaName), m.Encode());
        }
        break;
      case 4: {  // a group read: advance and make pending
        std::string g = rng() % 2 ? "g1" : "g2";
        StreamGroup grp;
        s.Group(g, &grp);
        std::vector<StreamId> ids = Ids(s);
        auto it = std::upper_bound(ids.begin(), ids.end(), grp.last_id);
        if (it == ids.end()) {
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
  s.ScanEntries({}, StreamId::Max(), false, [&](StreamId id, std::string_view fields) {
    out += id.ToString() + "=";
    sc::DecodeFields(fields, [&](std::string_view f, std::string_view v) {
      out += std::string(f) + ":" + std::string(v) + ",";
    });
    out += ";";
    return true;
  });
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

// Node 1's XADD (its entry, the metadata, its count) reaches node 3 after
// node 2's XADD, which replaced node 1's metadata: node 3 keeps node 1's
// entry, since node 2's change named only the metadata's dot.
TEST(StreamObject, AnXaddOvertakenByAnotherNodesXaddKeepsItsEntry) {
  Replica a(1), b(2), c(3);
  auto xadd = [](Replica& r, StreamId id) {
    Op o = r.Begin();
    std::string_view kv[] = {"f", "v"};
    r.Put(&o, sc::EntryName(id), sc::EncodeFields(kv));
    StreamMeta m = r.s.Meta();
    r.Put(&o, std::string(sc::kMetaName), m.Encode());
    r.Put(&o, sc::NodeName(r.node), sc::EncodeU64(static_cast<uint64_t>(r.s.NodeCount(r.node) + 1)));
    r.Finish(o, 0);
    return o;
  };
  Op first = xadd(a, {1, 1});
  b.Apply(first);
  Op second = xadd(b, {2, 2});
  c.Apply(second);
  c.Apply(first);
  a.Apply(second);
  EXPECT_EQ(Ids(c.s), (std::vector<StreamId>{{1, 1}, {2, 2}}));
  EXPECT_EQ(View(c.s), View(a.s));
  EXPECT_EQ(View(c.s), View(b.s));
  EXPECT_EQ(c.s.EntriesAdded(), 2);
}

// The packed entries against a plain ordered map, through appends, inserts
// before, between and after, replacements and deletes.
TEST(StreamEntries, BehaveAsAnOrderedMapOfVersions) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 20; round++) {
    StreamEntries e;
    std::map<StreamId, std::vector<std::pair<crdt::Stamp, std::string>>> model;
    auto versions_of = [](const std::vector<std::pair<crdt::Stamp, std::string>>& vs) {
      StreamEntries::Versions out;
      for (const auto& [d, f] : vs) out.push_back({d, f});
      return out;
    };
    for (int step = 0; step < 3000; step++) {
      int what = static_cast<int>(rng() % 10);
      StreamId id;
      if (what < 5 || model.empty()) {  // append, mostly
        StreamId last = model.empty() ? StreamId{1000, 0} : model.rbegin()->first;
        id = rng() % 3 ? StreamId{last.ms + rng() % 3, last.seq + 1 + rng() % 5}
                       : StreamId{last.ms + 1 + rng() % 100000, rng() % 2 ? 0 : rng()};
      } else if (what < 7) {  // anywhere, below the first included
        id = {rng() % 1200, rng() % 4};
      } else {  // an existing entry
        auto it = model.begin();
        std::advance(it, static_cast<long>(rng() % model.size()));
        id = it->first;
      }
      std::vector<std::pair<crdt::Stamp, std::string>> vs;
      if (what != 9) {
        size_t n = 1 + (rng() % 8 == 0);
        for (size_t k = 0; k < n; k++) {
          crdt::Stamp d{rng() % 2 ? 1 + rng() % 100 : rng(), static_cast<crdt::NodeId>(rng() % 5),
                        static_cast<uint32_t>(rng() % 4)};
          // Mostly the same field names (stored once per block), some
          // other names, some bytes that are no field list at all.
          std::string v1(rng() % 30, static_cast<char>('a' + rng() % 26));
          std::string v2 = std::to_string(rng() % 100000);
          int kind = static_cast<int>(rng() % 6);
          std::string_view same[] = {"event", v1, "jobId", v2};
          std::string_view other[] = {"event", v1};
          vs.emplace_back(d, kind < 4    ? sc::EncodeFields(same)
                             : kind == 4 ? sc::EncodeFields(other)
                                         : std::string(rng() % 60, 'z'));
        }
      }
      e.Set(id, versions_of(vs));
      if (vs.empty()) {
        model.erase(id);
      } else {
        model[id] = vs;
      }
      ASSERT_EQ(e.size(), model.size());
      if (step % 97 != 0) continue;
      // Every entry, forward and back, and a few bounded ranges.
      std::vector<StreamId> fwd, back;
      uint64_t digest = 0;
      e.Scan({}, StreamId::Max(), false, [&](StreamId x, const StreamEntries::Versions& v) {
        fwd.push_back(x);
        const auto& want = model.at(x);
        EXPECT_EQ(v.size(), want.size());
        for (size_t k = 0; k < v.size() && k < want.size(); k++) {
          EXPECT_EQ(v[k].dot, want[k].first);
          EXPECT_EQ(v[k].fields, want[k].second);
        }
        digest += StreamEntries::DigestOf(x, v);
        return true;
      });
      e.Scan({}, StreamId::Max(), true, [&](StreamId x, const StreamEntries::Versions&) {
        back.push_back(x);
        return true;
      });
      std::vector<StreamId> keys;
      for (const auto& [k, v] : model) keys.push_back(k);
      ASSERT_EQ(fwd, keys);
      std::reverse(back.begin(), back.end());
      ASSERT_EQ(back, keys);
      EXPECT_EQ(e.digest(), digest);
      if (!keys.empty()) {
        EXPECT_EQ(e.first(), keys.front());
        EXPECT_EQ(e.last(), keys.back());
        StreamId lo = keys[rng() % keys.size()], hi = keys[rng() % keys.size()];
        if (hi < lo) std::swap(lo, hi);
        std::vector<StreamId> got, want;
        e.Scan(lo, hi, rng() % 2, [&](StreamId x, const StreamEntries::Versions&) {
          got.push_back(x);
          return got.size() < 10;
        });
        std::sort(got.begin(), got.end());
        for (StreamId k : keys) {
          if (k >= lo && k <= hi) want.push_back(k);
        }
        if (got.size() == 10) {
          // Stopped early: the first ten from whichever end it started.
          EXPECT_TRUE(std::includes(want.begin(), want.end(), got.begin(), got.end()));
        } else {
          EXPECT_EQ(got, want);
        }
        StreamEntries::Versions v;
        StreamEntries::Scratch scratch;
        StreamId k = keys[rng() % keys.size()];
        ASSERT_TRUE(e.Get(k, &v, &scratch));
        ASSERT_EQ(v.size(), model.at(k).size());
        for (size_t i = 0; i < v.size(); i++) EXPECT_EQ(v[i].fields, model.at(k)[i].second);
        EXPECT_FALSE(e.Contains(StreamId{keys.back().ms, keys.back().seq + 1}));
      }
    }
    // Packed: about kBlockEntries entries per block.
    if (e.size() > 1000) {
      EXPECT_LT(e.blocks(), e.size() / 30);
    }
    StreamEntries copy = e;
    EXPECT_EQ(copy.digest(), e.digest());
  }
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
