// The sorted-set storage: the order-statistic skiplist against a sorted
// std::set under random inserts and erases (rank, select, seek, links), and
// ZsetObject keeping that index in step with its map through local writes,
// remote deltas, DropIf and encodings.
#include "node/storage/zset.h"

#include <iterator>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "proto/peer.pb.h"

namespace lattice::node {
namespace {

struct Less {
  bool operator()(const std::pair<double, std::string>& a,
                  const std::pair<double, std::string>& b) const {
    return ZLess(a.first, a.second, b.first, b.second);
  }
};
using Model = std::set<std::pair<double, std::string>, Less>;

void ExpectSame(const ZOrder& o, const Model& m) {
  ASSERT_EQ(o.size(), m.size());
  size_t r = 0;
  const ZOrder::Node* prev = nullptr;
  for (const ZOrder::Node* n = o.first(); n; n = n->next(), r++) {
    auto it = std::next(m.begin(), static_cast<ptrdiff_t>(r));
    EXPECT_EQ(n->score, it->first);
    EXPECT_EQ(n->member(), it->second);
    EXPECT_EQ(n->prev(), prev);
    EXPECT_EQ(o.Rank(n->score, n->member()), r);
    EXPECT_EQ(o.At(r), n);
    prev = n;
  }
  EXPECT_EQ(o.last(), prev);
  EXPECT_EQ(o.At(m.size()), nullptr);
}

TEST(ZOrder, RanksSelectsAndSeeksMatchASortedSet) {
  std::mt19937_64 rng(5);
  ZOrder o;
  Model m;
  for (int step = 0; step < 4000; step++) {
    double score = static_cast<double>(rng() % 50) / 4;
    std::string member = "m" + std::to_string(rng() % 300);
    auto it = m.find({score, member});
    if (it != m.end()) {
      EXPECT_TRUE(o.Erase(score, member));
      m.erase(it);
    } else {
      // One member once, as ZsetObject guarantees.
      bool taken = false;
      for (const auto& [s, mm] : m) taken = taken || mm == member;
      if (taken) continue;
      o.Insert(score, member);
      m.insert({score, member});
    }
    EXPECT_FALSE(o.Erase(score + 1000, member));
    if (step % 250 == 0) ExpectSame(o, m);
    double bound = static_cast<double>(rng() % 60) / 4;
    auto [n, rank] = o.Seek([&](const ZOrder::Node& x) { return x.score < bound; });
    auto lb = m.lower_bound({bound, ""});
    EXPECT_EQ(rank, static_cast<size_t>(std::distance(m.begin(), lb)));
    EXPECT_EQ(n == nullptr, lb == m.end());
  }
  ExpectSame(o, m);
  ZOrder copy = o;
  ExpectSame(copy, m);
  o.Clear();
  EXPECT_EQ(o.size(), 0u);
  EXPECT_EQ(o.first(), nullptr);
}

// The index holds exactly the map's members at their visible scores.
void ExpectIndexed(const ZsetObject& z) {
  Model want;
  for (size_t i = 0; i < z.size(); i++) want.insert({z.Score(i), z.map().at(i).name.str()});
  ExpectSame(z.order(), want);
}

peer::Elements Op(peer::ElementOp::Kind kind, const std::string& member, double score,
                  std::vector<crdt::Stamp> replaced) {
  peer::Elements m;
  m.set_type(static_cast<uint32_t>(ObjType::kZset));
  peer::ElementOp* o = m.add_ops();
  o->set_kind(kind);
  o->set_element(member);
  if (kind == peer::ElementOp::PUT) o->set_value(EncodeScore(score));
  for (const crdt::Stamp& r : replaced) {
    peer::Stamp* s = o->add_replaced();
    s->set_counter(r.counter);
    s->set_node_id(r.node);
  }
  return m;
}

TEST(ZsetObject, KeepsItsOrderIndexInStepWithTheMap) {
  std::mt19937_64 rng(11);
  ZsetObject z;
  z.EnableDigest();
  uint64_t counter = 0;
  for (int step = 0; step < 3000; step++) {
    std::string member = "m" + std::to_string(rng() % 40);
    double score = static_cast<double>(static_cast<int64_t>(rng() % 21) - 10) / 2;
    double cur;
    bool present = z.ScoreOf(member, &cur);
    crdt::Stamp dot{++counter, static_cast<crdt::NodeId>(1 + rng() % 3)};
    switch (rng() % 5) {
      case 0:
        if (present) z.Remove(member);
        break;
      case 1:
        if (present) z.Increment(member, dot.node, dot.counter, score);
        break;
      case 2: {  // a remote ZADD that saw nothing: a concurrent version
        z.ApplyOps(Op(peer::ElementOp::PUT, member, score, {}), dot);
        z.ctx.Add(dot, crdt::CausalContext::kUnknownPrev);
        break;
      }
      case 3: {
        std::vector<crdt::Stamp> seen;
        if (present) {
          for (const auto& v : z.map().at(static_cast<size_t>(z.map().Find(member))).versions) {
            seen.push_back(v.dot);
          }
        }
        z.ApplyOps(Op(peer::ElementOp::REMOVE, member, 0, seen), dot);
        break;
      }
      default:
        z.PrepareAdd(member.size(), present ? 0 : 1);
        z.Set(member, score, dot);
        break;
    }
    if (step % 100 == 0) {
      ExpectIndexed(z);
      crdt::Stamp below{counter - 50, 0};
      z.DropIf([&](const crdt::Stamp& d) { return d < below && d.node == 2; });
      ExpectIndexed(z);
    }
  }
  ExpectIndexed(z);
  // A whole state round trip keeps scores, counters and order.
  peer::Elements state;
  z.StateToProto(&state);
  ZsetObject w;
  w.MergeState(state, z.ctx);
  w.ctx.Merge(z.ctx);
  ExpectIndexed(w);
  ASSERT_EQ(w.size(), z.size());
  for (size_t i = 0; i < z.size(); i++) {
    double s;
    ASSERT_TRUE(w.ScoreOf(z.map().at(i).name, &s));
    EXPECT_EQ(EncodeScore(s), EncodeScore(z.Score(i)));
  }
  w.EnableDigest();
  EXPECT_EQ(w.digest(), z.digest());
}

TEST(ZsetObject, ListpackUntilItsLimitsThenSkiplistForGood) {
  ZsetObject z;
  for (int i = 0; i < 128; i++) {
    z.PrepareAdd(2, 1);
    z.Set("m" + std::to_string(i), i, {static_cast<uint64_t>(i + 1), 1});
  }
  EXPECT_EQ(z.enc(), CollEnc::kListpack);
  z.PrepareAdd(4, 1);
  z.Set("last", -0.0, {500, 1});
  EXPECT_EQ(z.enc(), CollEnc::kSkiplist);
  double s;
  ASSERT_TRUE(z.ScoreOf("last", &s));
  EXPECT_TRUE(std::signbit(s));  // a skiplist keeps -0
  for (int i = 0; i < 120; i++) z.Remove("m" + std::to_string(i));
  z.Normalize();
  EXPECT_EQ(z.enc(), CollEnc::kSkiplist);
  ZsetObject small;
  small.Set("x", -0.0, {1, 1});
  ASSERT_TRUE(small.ScoreOf("x", &s));
  EXPECT_FALSE(std::signbit(s));  // a listpack stores it as 0
}

TEST(ZsetWire, ScoresTravelAsTheirExactBits) {
  for (double d : {0.1, -0.0, 1e300, -1e-320, double{INFINITY}, -double{INFINITY}, 3.0}) {
    double back;
    ASSERT_TRUE(DecodeScore(EncodeScore(d), &back));
    EXPECT_EQ(EncodeScore(back), EncodeScore(d));
  }
  double out;
  EXPECT_FALSE(DecodeScore("1234567", &out));
  EXPECT_FALSE(DecodeScore(EncodeScore(NAN), &out));
}

}  // namespace
}  // namespace lattice::node
