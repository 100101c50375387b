#include "node/storage/zset.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <new>
#include <vector>

#include "node/stamp_proto.h"
#include "node/storage/stable_hash.h"
#include "proto/peer.pb.h"

namespace lattice::node {

namespace {

uint64_t Bits(double d) { return std::bit_cast<uint64_t>(d); }

bool ValidTotal(double d) { return !std::isnan(d) && !(d < 0); }

}  // namespace

// ---- wire form ----

std::string EncodeScore(double score) {
  uint64_t b = Bits(score);
  std::string out(8, '\0');
  for (int i = 0; i < 8; i++) out[i] = static_cast<char>((b >> (8 * i)) & 0xff);
  return out;
}

bool DecodeScore(std::string_view bytes, double* out) {
  if (bytes.size() != 8) return false;
  uint64_t b = 0;
  for (int i = 0; i < 8; i++) b |= uint64_t(static_cast<unsigned char>(bytes[i])) << (8 * i);
  double d = std::bit_cast<double>(b);
  if (std::isnan(d)) return false;
  *out = d;
  return true;
}

crdt::PnCounter::Delta ScoreDeltaToWire(const crdt::ScoreCounter::Delta& d) {
  return crdt::PnCounter::Delta{
      std::bit_cast<int64_t>(d.base),
      d.base_stamp,
      {d.contribution.node, Bits(d.contribution.p), Bits(d.contribution.n), d.contribution.epoch}};
}

bool ScoreDeltaFromWire(const crdt::PnCounter::Delta& w, crdt::ScoreCounter::Delta* out) {
  out->base = std::bit_cast<double>(w.base);
  out->base_stamp = w.base_stamp;
  out->contribution = {w.contribution.node, std::bit_cast<double>(w.contribution.p),
                       std::bit_cast<double>(w.contribution.n), w.contribution.epoch};
  return !std::isnan(out->base) && ValidTotal(out->contribution.p) &&
         ValidTotal(out->contribution.n);
}

uint64_t ZsetDigest::Of(const crdt::OrElement<double, crdt::ScoreCounter>& e) {
  uint64_t sum = 0;
  for (const auto& v : e.versions) sum += Mix64(StampDigest(v.dot) ^ Mix64(Bits(v.value) + 3));
  uint64_t d = Mix64(StableHash64(e.name) ^ Mix64(sum + 7));
  auto counter_digest = [](const crdt::ScoreCounter& k) {
    uint64_t c = StampDigest(k.base_stamp()) ^ Mix64(Bits(k.base()) + 11);
    for (const auto& part : k.contributions()) {
      c += Mix64(Mix64(part.node + 0x100000000ULL) ^ Mix64(Bits(part.p)) * 3 ^
                 Mix64(~Bits(part.n)) ^ Mix64(part.epoch) * 5);
    }
    return Mix64(c);
  };
  // Order-independent over the counters (which one is shelved depends on
  // nothing but the stamps, but a sum needs no care).
  uint64_t counters = 0;
  if (e.counter()) counters += counter_digest(*e.counter());
  if (e.shelved()) {
    for (const auto& k : *e.shelved()) counters += counter_digest(k);
  }
  return counters ? d ^ Mix64(counters) : d;
}

// ---- ZOrder ----

ZOrder::Node* ZOrder::NewNode(int height, double score, std::string_view member) {
  size_t levels = sizeof(Level) * static_cast<size_t>(height);
  void* mem = ::operator new(sizeof(Node) + levels + member.size());
  char* bytes = static_cast<char*>(mem) + sizeof(Node) + levels;
  if (!member.empty()) std::memcpy(bytes, member.data(), member.size());
  Node* n = new (mem) Node{score, nullptr, static_cast<uint32_t>(member.size()), height};
  for (int i = 0; i < height; i++) new (&n->lv()[i]) Level();
  return n;
}

void ZOrder::FreeNode(Node* n) {
  n->~Node();
  ::operator delete(static_cast<void*>(n));
}

// The head starts low and grows with the tallest node (a small zset should
// not pay for 32 levels).
ZOrder::ZOrder() : head_(NewNode(kHeadLevels, 0, {})) {}

ZOrder::~ZOrder() {
  Clear();
  FreeNode(head_);
}

ZOrder::ZOrder(const ZOrder& o) : ZOrder() { *this = o; }

ZOrder& ZOrder::operator=(const ZOrder& o) {
  if (this == &o) return *this;
  Clear();
  // Appending in order: every insert lands at the tail.
  for (const Node* n = o.first(); n; n = n->next()) Insert(n->score, n->member());
  return *this;
}

void ZOrder::Clear() {
  Node* n = head_->lv()[0].forward;
  while (n) {
    Node* next = n->lv()[0].forward;
    FreeNode(n);
    n = next;
  }
  for (int i = 0; i < head_->height; i++) head_->lv()[i] = Level();
  tail_ = nullptr;
  length_ = 0;
  level_ = 1;
}

int ZOrder::RandomLevel() {
  // Redis's ZSKIPLIST_P = 1/4, from a xorshift generator.
  int level = 1;
  while (level < kMaxLevel) {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    if ((rng_ & 3) != 0) break;
    level++;
  }
  return level;
}

void ZOrder::Insert(double score, std::string_view member) {
  Link(NewNode(RandomLevel(), score, member));
}

void ZOrder::Link(Node* x) {
  const int level = x->height;
  const double score = x->score;
  const std::string_view member = x->member();
  if (level > head_->height) {
    // Nothing points at the head but head_ (a first node's backward is null).
    Node* grown = NewNode(std::min(kMaxLevel, std::max(level, head_->height * 2)), 0, {});
    for (int i = 0; i < head_->height; i++) grown->lv()[i] = head_->lv()[i];
    FreeNode(head_);
    head_ = grown;
  }
  Node* update[kMaxLevel];
  size_t rank[kMaxLevel];
  Node* p = head_;
  for (int i = level_ - 1; i >= 0; i--) {
    rank[i] = i == level_ - 1 ? 0 : rank[i + 1];
    while (p->lv()[i].forward &&
           ZLess(p->lv()[i].forward->score, p->lv()[i].forward->member(), score, member)) {
      rank[i] += p->lv()[i].span;
      p = p->lv()[i].forward;
    }
    update[i] = p;
  }
  if (level > level_) {
    for (int i = level_; i < level; i++) {
      rank[i] = 0;
      update[i] = head_;
      update[i]->lv()[i].span = length_;
    }
    level_ = level;
  }
  for (int i = 0; i < level; i++) {
    x->lv()[i].forward = update[i]->lv()[i].forward;
    update[i]->lv()[i].forward = x;
    x->lv()[i].span = update[i]->lv()[i].span - (rank[0] - rank[i]);
    update[i]->lv()[i].span = (rank[0] - rank[i]) + 1;
  }
  for (int i = level; i < level_; i++) update[i]->lv()[i].span++;
  x->backward = update[0] == head_ ? nullptr : update[0];
  if (x->lv()[0].forward) {
    x->lv()[0].forward->backward = x;
  } else {
    tail_ = x;
  }
  length_++;
}

ZOrder::Node* ZOrder::Unlink(double score, std::string_view member) {
  Node* update[kMaxLevel];
  Node* x = head_;
  for (int i = level_ - 1; i >= 0; i--) {
    while (x->lv()[i].forward &&
           ZLess(x->lv()[i].forward->score, x->lv()[i].forward->member(), score, member)) {
      x = x->lv()[i].forward;
    }
    update[i] = x;
  }
  x = x->lv()[0].forward;
  if (!x || !(x->score == score) || x->member() != member) return nullptr;
  for (int i = 0; i < level_; i++) {
    if (update[i]->lv()[i].forward == x) {
      update[i]->lv()[i].span += x->lv()[i].span - 1;
      update[i]->lv()[i].forward = x->lv()[i].forward;
    } else {
      update[i]->lv()[i].span -= 1;
    }
  }
  if (x->lv()[0].forward) {
    x->lv()[0].forward->backward = x->backward;
  } else {
    tail_ = x->backward;
  }
  while (level_ > 1 && head_->lv()[level_ - 1].forward == nullptr) level_--;
  length_--;
  return x;
}

bool ZOrder::Erase(double score, std::string_view member) {
  Node* x = Unlink(score, member);
  if (!x) return false;
  FreeNode(x);
  return true;
}

bool ZOrder::Move(double from, double to, std::string_view member) {
  // One node, unlinked and linked again: no allocation, no copy of the
  // member (Redis's zslUpdateScore allocates a node here).
  Node* x = Unlink(from, member);
  if (!x) return false;
  x->score = to;
  Link(x);
  return true;
}

size_t ZOrder::Rank(double score, std::string_view member) const {
  size_t rank = 0;
  const Node* x = head_;
  for (int i = level_ - 1; i >= 0; i--) {
    while (x->lv()[i].forward &&
           ZLess(x->lv()[i].forward->score, x->lv()[i].forward->member(), score, member)) {
      rank += x->lv()[i].span;
      x = x->lv()[i].forward;
    }
  }
  return rank;
}

const ZOrder::Node* ZOrder::At(size_t rank) const {
  if (rank >= length_) return nullptr;
  size_t target = rank + 1, traversed = 0;
  const Node* x = head_;
  for (int i = level_ - 1; i >= 0; i--) {
    while (x->lv()[i].forward && traversed + x->lv()[i].span <= target) {
      traversed += x->lv()[i].span;
      x = x->lv()[i].forward;
    }
    if (traversed == target) return x;
  }
  return nullptr;
}

std::pair<const ZOrder::Node*, size_t> ZOrder::Seek(
    const std::function<bool(const Node&)>& before) const {
  size_t rank = 0;
  const Node* x = head_;
  for (int i = level_ - 1; i >= 0; i--) {
    while (x->lv()[i].forward && before(*x->lv()[i].forward)) {
      rank += x->lv()[i].span;
      x = x->lv()[i].forward;
    }
  }
  return {x->lv()[0].forward, rank};
}

size_t ZOrder::MemoryUsage() const {
  size_t n = sizeof(Node) + static_cast<size_t>(head_->height) * sizeof(Level);
  for (const Node* x = first(); x; x = x->next()) {
    n += sizeof(Node) + static_cast<size_t>(x->height) * sizeof(Level);
    n += x->member().size();
  }
  return n;
}

// ---- ZsetObject ----

namespace {

void CounterToProto(const crdt::ScoreCounter& c, peer::ElementState* es) {
  ToProto(c.base_stamp(), es->mutable_counter_base_stamp());
  es->set_counter_base(std::bit_cast<int64_t>(c.base()));
  for (const auto& part : c.contributions()) {
    peer::CounterPart* p = es->add_counter();
    p->set_node_id(part.node);
    p->set_increments(Bits(part.p));
    p->set_decrements(Bits(part.n));
    p->set_epoch(part.epoch);
  }
}

}  // namespace

ZsetObject::ZsetObject() : Collection(ObjType::kZset, CollEnc::kListpack) {
  // Lookups by member are hashed at every size: the map's element order
  // is never a reply order (the index is).
  map_.BuildIndex();
}

bool ZsetObject::TooLong(size_t len) {
  return static_cast<int64_t>(len) > g_encoding_limits.zset_max_listpack_value.load();
}

bool ZsetObject::FitsListpack(size_t n, size_t max_len) {
  return static_cast<int64_t>(n) <= g_encoding_limits.zset_max_listpack_entries.load() &&
         !TooLong(max_len);
}

double ZsetObject::Score(size_t i) const {
  const auto& e = map_.at(i);
  if (const crdt::ScoreCounter* c = e.live_counter()) return c->value();
  return e.top().value;
}

bool ZsetObject::ScoreOf(std::string_view member, double* out) const {
  ptrdiff_t i = map_.Find(member);
  if (i < 0) return false;
  *out = Score(static_cast<size_t>(i));
  return true;
}

template <typename F>
void ZsetObject::Track(std::string_view name, F fn) {
  // The name may live in the element about to go: keep a copy (in a buffer
  // that keeps its capacity, so the hot path does not allocate).
  thread_local std::string key;
  key.assign(name.data(), name.size());
  double before = 0;
  bool had = ScoreOf(key, &before);
  fn();
  double after = 0;
  bool has = ScoreOf(key, &after);
  if (had && has && before == after && std::signbit(before) == std::signbit(after)) return;
  if (had && has) {
    order_.Move(before, after, key);
  } else if (had) {
    order_.Erase(before, key);
  } else if (has) {
    order_.Insert(after, key);
  }
}

void ZsetObject::RebuildOrder() {
  order_.Clear();
  std::vector<std::pair<double, std::string_view>> all;
  all.reserve(map_.size());
  for (size_t i = 0; i < map_.size(); i++) all.emplace_back(Score(i), map_.at(i).name);
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return ZLess(a.first, a.second, b.first, b.second);
  });
  for (const auto& [s, m] : all) order_.Insert(s, m);
}

void ZsetObject::PrepareAdd(size_t len, size_t added) {
  if (enc() != CollEnc::kListpack) return;
  if (FitsListpack(map_.size() + added, len)) return;
  set_enc(CollEnc::kSkiplist);
}

ZsetObject::Dots ZsetObject::Set(std::string_view member, double score, crdt::Stamp dot) {
  if (enc() == CollEnc::kListpack && score == 0) score = 0;  // -0: the listpack's integer 0
  Dots replaced;
  Track(member, [&] {
    ptrdiff_t i = map_.Find(member);
    if (i < 0) {
      map_.Insert(map_.size(), member, score, dot);
    } else {
      replaced = map_.Put(static_cast<size_t>(i), score, dot);
    }
  });
  return replaced;
}

ZsetObject::Dots ZsetObject::Remove(std::string_view member) {
  Dots dots;
  Track(member, [&] { dots = map_.Remove(static_cast<size_t>(map_.Find(member))); });
  return dots;
}

crdt::ScoreCounter::Delta ZsetObject::Increment(std::string_view member, crdt::NodeId node,
                                                uint64_t epoch, double by) {
  crdt::ScoreCounter::Delta d;
  Track(member, [&] {
    size_t i = static_cast<size_t>(map_.Find(member));
    double base = map_.at(i).top().value;
    d = map_.Increment(i, base, node, epoch, by);
  });
  return d;
}

bool ZsetObject::DropIf(const std::function<bool(const crdt::Stamp&)>& dead) {
  // Only the members with a dead version can move in the order.
  std::vector<std::pair<std::string, double>> touched;
  for (size_t i = 0; i < map_.size(); i++) {
    const auto& e = map_.at(i);
    for (const auto& v : e.versions) {
      if (dead(v.dot)) {
        touched.emplace_back(e.name, Score(i));
        break;
      }
    }
  }
  if (touched.empty()) return false;
  size_t gone = map_.DropIf(dead);
  for (const auto& [name, before] : touched) {
    order_.Erase(before, name);
    double after;
    if (ScoreOf(name, &after)) order_.Insert(after, name);
  }
  return gone > 0 || !touched.empty();
}

bool ZsetObject::ApplyOps(const peer::Elements& m, crdt::Stamp dot) {
  bool changed = false;
  for (const peer::ElementOp& op : m.ops()) {
    const std::string& name = op.element();
    switch (op.kind()) {
      case peer::ElementOp::PUT: {
        double score;
        if (!DecodeScore(op.value(), &score)) break;  // not a score: ignored
        Track(name, [&] { map_.ApplyPut(name, score, OpDot(dot, op), DotsFromProto(op.replaced()), ctx); });
        changed = true;
        break;
      }
      case peer::ElementOp::REMOVE:
        Track(name, [&] { map_.ApplyRemove(name, DotsFromProto(op.replaced())); });
        changed = true;
        break;
      case peer::ElementOp::INCREMENT: {
        double base_value;
        crdt::ScoreCounter::Delta d;
        crdt::PnCounter::Delta w{op.base(),
                                 FromProto(op.base_stamp()),
                                 {op.node_id(), op.increments(), op.decrements(), op.epoch()}};
        if (!DecodeScore(op.value(), &base_value) || !ScoreDeltaFromWire(w, &d)) break;
        Track(name, [&] { map_.ApplyIncrement(name, base_value, d, ctx); });
        // The base version, if it was new here, is now seen: a later whole
        // state without it must remove it, as a delta replacing it would.
        ctx.AddDot(d.base_stamp);
        changed = true;
        break;
      }
      default:
        break;
    }
  }
  return changed;
}

bool ZsetObject::MergeState(const peer::Elements& m, const crdt::CausalContext& their_ctx) {
  ZsetMap theirs;
  // Versions first (the first entry of an element has them), then every
  // entry's counter.
  for (const peer::ElementState& es : m.elements()) {
    if (es.versions_size() == 0 || theirs.Find(es.element()) >= 0) continue;
    double first;
    if (!DecodeScore(es.versions(0).value(), &first)) continue;
    theirs.Insert(theirs.size(), es.element(), first, FromProto(es.versions(0).dot()));
    crdt::CausalContext empty;
    for (int v = 1; v < es.versions_size(); v++) {
      double score;
      if (!DecodeScore(es.versions(v).value(), &score)) continue;
      theirs.ApplyPut(es.element(), score, FromProto(es.versions(v).dot()), {}, empty);
    }
  }
  for (const peer::ElementState& es : m.elements()) {
    ptrdiff_t i = theirs.Find(es.element());
    if (i < 0) continue;
    double first = theirs.at(static_cast<size_t>(i)).versions[0].value;
    crdt::CausalContext empty;
    for (const peer::CounterPart& part : es.counter()) {
      crdt::PnCounter::Delta w{
          es.counter_base(),
          FromProto(es.counter_base_stamp()),
          {part.node_id(), part.increments(), part.decrements(), part.epoch()}};
      crdt::ScoreCounter::Delta d;
      if (!ScoreDeltaFromWire(w, &d)) continue;
      if (!theirs.at(static_cast<size_t>(i)).HasVersion(d.base_stamp)) continue;  // malformed
      theirs.ApplyIncrement(es.element(), first, d, empty);
    }
  }
  bool changed = map_.MergeState(theirs, their_ctx, ctx);
  if (changed) RebuildOrder();
  Normalize();
  return changed;
}

void ZsetObject::StateToProto(peer::Elements* m) const {
  for (const auto& e : map_.elements()) {
    peer::ElementState* es = m->add_elements();
    es->set_element(e.name.data(), e.name.size());
    for (const auto& v : e.versions) {
      peer::ElementVersion* pv = es->add_versions();
      ToProto(v.dot, pv->mutable_dot());
      pv->set_value(EncodeScore(v.value));
    }
    // Every counter, the shelved ones (on smaller live versions) each in
    // an extra ElementState of the same element without versions.
    if (e.counter()) CounterToProto(*e.counter(), es);
    if (e.shelved()) {
      for (const auto& c : *e.shelved()) {
        peer::ElementState* extra = m->add_elements();
        extra->set_element(e.name.data(), e.name.size());
        CounterToProto(c, extra);
      }
    }
  }
}

void ZsetObject::Normalize() {
  if (enc() != CollEnc::kListpack) return;
  size_t max_len = 0;
  for (const auto& e : map_.elements()) max_len = std::max(max_len, e.name.size());
  if (!FitsListpack(map_.size(), max_len)) set_enc(CollEnc::kSkiplist);
}

void ZsetObject::Restamp(crdt::Stamp dot) {
  for (size_t i = 0; i < map_.size(); i++) {
    double s = Score(i);
    map_.Put(i, s, crdt::Stamp{dot.counter, dot.node, static_cast<uint32_t>(i + 1)});
  }
  ctx = crdt::CausalContext();
  floor = {};
  ttl_stamp = dot;
}

}  // namespace lattice::node
