#include "node/storage/collection.h"

#include <algorithm>

#include "node/stamp_proto.h"
#include "node/storage/keyspace.h"
#include "node/storage/list.h"
#include "node/storage/stable_hash.h"
#include "node/storage/stream.h"
#include "node/storage/zset.h"
#include "proto/peer.pb.h"

namespace lattice::node {

EncodingLimits g_encoding_limits;

namespace {

template <typename V>
uint64_t VersionsDigest(const crdt::OrElement<V>& e, uint64_t (*value)(const V&)) {
  uint64_t sum = 0;
  for (const auto& v : e.versions) sum += Mix64(StampDigest(v.dot) ^ value(v.value));
  uint64_t d = Mix64(StableHash64(e.name) ^ Mix64(sum + 7));
  if (e.counter()) {
    uint64_t c = StampDigest(e.counter()->base_stamp()) ^ Mix64(uint64_t(e.counter()->base()) + 11);
    for (const auto& part : e.counter()->contributions()) {
      c += Mix64(Mix64(part.node + 0x100000000ULL) ^ Mix64(part.p) * 3 ^ Mix64(~part.n) ^
                 Mix64(part.epoch) * 5);
    }
    d ^= Mix64(c);
  }
  return d;
}

uint64_t StringValueDigest(const crdt::CompactString& s) { return StableHash64(s); }
uint64_t NoValueDigest(const crdt::NoValue&) { return 0; }

// Builds an OrMap from the elements of a whole state.
template <typename Map, typename MakeValue>
void StateFromProto(const peer::Elements& m, Map* out, MakeValue make) {
  for (const peer::ElementState& es : m.elements()) {
    if (es.versions_size() == 0) continue;
    ptrdiff_t i = out->Find(es.element());
    if (i >= 0) continue;  // a duplicate name: keep the first
    const peer::ElementVersion& first = es.versions(0);
    out->Insert(out->size(), es.element(), make(first.value()), FromProto(first.dot()));
    i = out->Find(es.element());
    for (int v = 1; v < es.versions_size(); v++) {
      const peer::ElementVersion& ver = es.versions(v);
      typename Map::Dots none;
      crdt::CausalContext empty;
      out->ApplyPut(es.element(), make(ver.value()), FromProto(ver.dot()), none, empty);
    }
    if (es.counter_size() > 0) {
      for (const peer::CounterPart& part : es.counter()) {
        crdt::PnCounter::Delta d{es.counter_base(), FromProto(es.counter_base_stamp()),
                                 {part.node_id(), part.increments(), part.decrements(),
                                  part.epoch()}};
        crdt::CausalContext empty;
        out->ApplyIncrement(es.element(), make(first.value()), d, empty);
      }
    }
  }
}

template <typename Map, typename ValueBytes>
void StateToProtoImpl(const Map& map, peer::Elements* m, ValueBytes bytes) {
  for (const auto& e : map.elements()) {
    peer::ElementState* es = m->add_elements();
    es->set_element(e.name.data(), e.name.size());
    for (const auto& v : e.versions) {
      peer::ElementVersion* pv = es->add_versions();
      ToProto(v.dot, pv->mutable_dot());
      std::string_view b = bytes(v.value);
      if (!b.empty()) pv->set_value(b.data(), b.size());
    }
    if (const crdt::PnCounter* c = e.live_counter()) {
      ToProto(c->base_stamp(), es->mutable_counter_base_stamp());
      es->set_counter_base(c->base());
      for (const auto& part : c->contributions()) {
        peer::CounterPart* p = es->add_counter();
        p->set_node_id(part.node);
        p->set_increments(part.p);
        p->set_decrements(part.n);
        p->set_epoch(part.epoch);
      }
    }
  }
}

}  // namespace

std::string_view CollEncName(CollEnc enc) {
  switch (enc) {
    case CollEnc::kListpack:
      return "listpack";
    case CollEnc::kHashtable:
      return "hashtable";
    case CollEnc::kIntset:
      return "intset";
    case CollEnc::kSkiplist:
      return "skiplist";
    case CollEnc::kQuicklist:
      return "quicklist";
    case CollEnc::kStream:
      return "stream";
  }
  return "unknown";
}

uint64_t ElementDigest::Of(const crdt::OrElement<crdt::CompactString>& e) {
  return VersionsDigest<crdt::CompactString>(e, StringValueDigest);
}

uint64_t ElementDigest::Of(const crdt::OrElement<crdt::NoValue>& e) {
  return VersionsDigest<crdt::NoValue>(e, NoValueDigest);
}

bool SetMemberInt(std::string_view s, int64_t* v) { return ParseInt64(s, v); }

std::unique_ptr<Collection> NewCollection(ObjType type) {
  switch (type) {
    case ObjType::kHash:
      return std::make_unique<HashObject>();
    case ObjType::kSet:
      return std::make_unique<SetObject>();
    case ObjType::kList:
      return std::make_unique<ListObject>();
    case ObjType::kZset:
      return std::make_unique<ZsetObject>();
    case ObjType::kStream:
      return std::make_unique<StreamObject>();
    default:
      return nullptr;  // not a collection type this node knows
  }
}

// ---- hashes ----

std::string_view HashObject::Value(size_t i, char* buf) const {
  const auto& e = map.at(i);
  if (const crdt::PnCounter* c = e.live_counter()) return {buf, FormatInt64(c->value(), buf)};
  return e.top().value;
}

bool HashObject::ApplyOps(const peer::Elements& m, crdt::Stamp dot) {
  bool changed = false;
  for (const peer::ElementOp& op : m.ops()) {
    switch (op.kind()) {
      case peer::ElementOp::PUT:
        map.ApplyPut(op.element(), op.value(), OpDot(dot, op), DotsFromProto(op.replaced()),
                     ctx);
        changed = true;
        break;
      case peer::ElementOp::REMOVE:
        map.ApplyRemove(op.element(), DotsFromProto(op.replaced()));
        changed = true;
        break;
      case peer::ElementOp::INCREMENT: {
        crdt::PnCounter::Delta d{op.base(), FromProto(op.base_stamp()),
                                 {op.node_id(), op.increments(), op.decrements(), op.epoch()}};
        map.ApplyIncrement(op.element(), op.value(), d, ctx);
        // The base version, if it was new here, is now seen (as in zset.cc).
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

bool HashObject::MergeState(const peer::Elements& m, const crdt::CausalContext& their_ctx) {
  HashMap theirs;
  StateFromProto(m, &theirs, [](const std::string& v) { return crdt::CompactString(v); });
  return map.MergeState(theirs, their_ctx, ctx);
}

void HashObject::StateToProto(peer::Elements* m) const {
  StateToProtoImpl(map, m, [](const crdt::CompactString& v) { return v.view(); });
}

void HashObject::Normalize() {
  if (enc() == CollEnc::kHashtable) return;
  bool convert = static_cast<int64_t>(map.size()) >
                 g_encoding_limits.hash_max_listpack_entries.load();
  for (size_t i = 0; !convert && i < map.size(); i++) {
    const auto& e = map.at(i);
    convert = TooLong(e.name.size());
    for (const auto& v : e.versions) convert = convert || TooLong(v.value.size());
  }
  if (!convert) return;
  set_enc(CollEnc::kHashtable);
  map.BuildIndex();
}

void HashObject::Restamp(crdt::Stamp dot) {
  for (size_t i = 0; i < map.size(); i++) {
    char buf[24];
    std::string v(Value(i, buf));
    map.Put(i, std::move(v), crdt::Stamp{dot.counter, dot.node, static_cast<uint32_t>(i + 1)});
  }
  ctx = crdt::CausalContext();
  floor = {};
  ttl_stamp = dot;
}

// ---- sets ----

bool SetObject::ApplyOps(const peer::Elements& m, crdt::Stamp dot) {
  bool changed = false;
  for (const peer::ElementOp& op : m.ops()) {
    if (op.kind() == peer::ElementOp::PUT) {
      crdt::Stamp d = OpDot(dot, op);
      if (map.Find(op.element()) < 0 && !ctx.Covers(d)) {
        size_t pos = PlaceFor(op.element());
        map.Insert(pos, op.element(), {}, d);
        map.ApplyRemove(op.element(), DotsFromProto(op.replaced()));
      } else {
        map.ApplyPut(op.element(), {}, d, DotsFromProto(op.replaced()), ctx);
      }
      changed = true;
    } else if (op.kind() == peer::ElementOp::REMOVE) {
      map.ApplyRemove(op.element(), DotsFromProto(op.replaced()));
      changed = true;
    }
  }
  return changed;
}

bool SetObject::MergeState(const peer::Elements& m, const crdt::CausalContext& their_ctx) {
  SetMap theirs;
  StateFromProto(m, &theirs, [](const std::string&) { return crdt::NoValue{}; });
  bool changed = map.MergeState(theirs, their_ctx, ctx);
  Normalize();
  if (enc() == CollEnc::kIntset) {
    map.SortBy([](const auto& a, const auto& b) {
      int64_t x = 0, y = 0;
      SetMemberInt(a.name, &x);
      SetMemberInt(b.name, &y);
      return x < y;
    });
  }
  return changed;
}

void SetObject::StateToProto(peer::Elements* m) const {
  StateToProtoImpl(map, m, [](const crdt::NoValue&) { return std::string_view(); });
}

void SetObject::Normalize() {
  if (enc() == CollEnc::kHashtable) return;
  bool convert = static_cast<int64_t>(map.size()) > g_encoding_limits.set_max_intset_entries.load();
  int64_t v;
  for (size_t i = 0; !convert && i < map.size(); i++) convert = !SetMemberInt(map.at(i).name, &v);
  if (!convert) return;
  set_enc(CollEnc::kHashtable);
  map.BuildIndex();
}

void SetObject::Restamp(crdt::Stamp dot) {
  for (size_t i = 0; i < map.size(); i++) {
    map.Put(i, {}, crdt::Stamp{dot.counter, dot.node, static_cast<uint32_t>(i + 1)});
  }
  ctx = crdt::CausalContext();
  floor = {};
  ttl_stamp = dot;
}

size_t SetObject::PlaceFor(std::string_view member) {
  if (enc() == CollEnc::kIntset) {
    int64_t v;
    if (!SetMemberInt(member, &v) ||
        static_cast<int64_t>(map.size()) + 1 > g_encoding_limits.set_max_intset_entries.load()) {
      set_enc(CollEnc::kHashtable);
      map.BuildIndex();
      return map.size();
    }
    // Binary search over the ascending integers.
    size_t lo = 0, hi = map.size();
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      int64_t m = 0;
      SetMemberInt(map.at(mid).name, &m);
      if (m < v) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }
  return map.size();
}

}  // namespace lattice::node
