#include "node/storage/stream.h"

#include <algorithm>
#include <cstring>

#include "node/str_util.h"
#include "proto/peer.pb.h"

namespace lattice::node {

std::atomic<int64_t> g_stream_read_delay{100};

namespace {

void PutU64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; i--) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
void PutU32(std::string* out, uint32_t v) {
  for (int i = 3; i >= 0; i--) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
void PutId(std::string* out, StreamId id) {
  PutU64(out, id.ms);
  PutU64(out, id.seq);
}
StreamId GetId(const char* p) { return {GetU64(p), GetU64(p + 8)}; }

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
bool GetVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in->empty()) return false;
    uint8_t b = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    *v |= uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

crdt::Stamp FromProto(const peer::Stamp& s) { return crdt::Stamp{s.counter(), s.node_id()}; }
void ToProto(const crdt::Stamp& s, peer::Stamp* out) {
  out->set_counter(s.counter);
  out->set_node_id(s.node);
}
HashMap::Dots DotsFromProto(const google::protobuf::RepeatedPtrField<peer::Stamp>& r) {
  HashMap::Dots d;
  for (const peer::Stamp& s : r) d.push_back(FromProto(s));
  return d;
}

// The group of a 'c' or 'p' name, and what follows it.
bool SplitGroup(std::string_view name, std::string_view* group, std::string_view* rest) {
  if (name.size() < 5) return false;
  uint32_t len = GetU32(name.data() + 1);
  if (name.size() < 5 + size_t(len)) return false;
  *group = name.substr(5, len);
  *rest = name.substr(5 + len);
  return true;
}

}  // namespace

std::string StreamId::ToString() const { return StrCat(ms, "-", seq); }

namespace stream_codec {

std::string EntryName(StreamId id) {
  std::string s(1, 'e');
  PutId(&s, id);
  return s;
}
std::string GroupName(std::string_view group) { return StrCat("g", group); }
static std::string GroupPrefixed(char tag, std::string_view group) {
  std::string s(1, tag);
  PutU32(&s, static_cast<uint32_t>(group.size()));
  s.append(group.data(), group.size());
  return s;
}
std::string ConsumerName(std::string_view group, std::string_view consumer) {
  std::string s = GroupPrefixed('c', group);
  s.append(consumer.data(), consumer.size());
  return s;
}
std::string PendingName(std::string_view group, StreamId id) {
  std::string s = GroupPrefixed('p', group);
  PutId(&s, id);
  return s;
}
std::string EncodeU64(uint64_t v) {
  std::string s;
  PutU64(&s, v);
  return s;
}
std::string NodeName(crdt::NodeId node) {
  std::string s(1, 'n');
  PutU32(&s, node);
  return s;
}

std::string EncodeFields(std::span<const std::string_view> pairs) {
  size_t n = 0;
  for (std::string_view p : pairs) n += p.size() + 2;
  std::string out;
  out.reserve(n);
  for (std::string_view p : pairs) {
    PutVarint(&out, p.size());
    out.append(p.data(), p.size());
  }
  return out;
}

bool DecodeFields(std::string_view in,
                  const std::function<void(std::string_view, std::string_view)>& fn) {
  while (!in.empty()) {
    uint64_t fl, vl;
    if (!GetVarint(&in, &fl) || fl > in.size()) return false;
    std::string_view f = in.substr(0, fl);
    in.remove_prefix(fl);
    if (!GetVarint(&in, &vl) || vl > in.size()) return false;
    std::string_view v = in.substr(0, vl);
    in.remove_prefix(vl);
    fn(f, v);
  }
  return true;
}

}  // namespace stream_codec

std::string StreamMeta::Encode() const {
  std::string s;
  PutId(&s, last_id);
  PutId(&s, max_deleted);
  PutU64(&s, static_cast<uint64_t>(added_offset));
  return s;
}
bool StreamMeta::Decode(std::string_view b, StreamMeta* out) {
  if (b.size() != 40) return false;
  out->last_id = GetId(b.data());
  out->max_deleted = GetId(b.data() + 16);
  out->added_offset = static_cast<int64_t>(GetU64(b.data() + 32));
  return true;
}

std::string StreamGroup::Encode() const {
  std::string s;
  PutU64(&s, setid.counter);
  PutU32(&s, setid.node);
  PutId(&s, last_id);
  PutU64(&s, static_cast<uint64_t>(entries_read));
  return s;
}
bool StreamGroup::Decode(std::string_view b, StreamGroup* out) {
  if (b.size() != 36) return false;
  out->setid = {GetU64(b.data()), GetU32(b.data() + 8)};
  out->last_id = GetId(b.data() + 12);
  out->entries_read = static_cast<int64_t>(GetU64(b.data() + 28));
  return true;
}

std::string StreamPending::Encode() const {
  std::string s;
  PutU64(&s, static_cast<uint64_t>(delivery_time));
  PutU64(&s, static_cast<uint64_t>(delivery_count));
  s += consumer;
  return s;
}
bool StreamPending::Decode(std::string_view b, StreamPending* out) {
  if (b.size() < 16) return false;
  out->delivery_time = static_cast<int64_t>(GetU64(b.data()));
  out->delivery_count = static_cast<int64_t>(GetU64(b.data() + 8));
  out->consumer.assign(b.data() + 16, b.size() - 16);
  return true;
}

StreamObject::StreamObject() : Collection(ObjType::kStream, CollEnc::kStream) {
  map_.BuildIndex();
}

size_t StreamObject::MemoryUsage() const {
  size_t n = sizeof(*this) + map_.MemoryUsage();
  for (const auto& e : map_.elements()) n += e.versions[0].value.heap_bytes();
  // A btree node holds about 16 ids of 16 bytes, most nodes two-thirds full.
  n += entries_.size() * 24;
  for (const auto& [name, g] : groups_) n += sizeof(g) + name.size() + g.pel.size() * 48;
  return n;
}

const crdt::CompactString* StreamObject::Find(std::string_view name) const {
  ptrdiff_t i = map_.Find(name);
  return i < 0 ? nullptr : &map_.at(static_cast<size_t>(i)).top().value;
}

std::string_view StreamObject::EntryValue(StreamId id) const {
  const crdt::CompactString* v = Find(stream_codec::EntryName(id));
  return v ? std::string_view(*v) : std::string_view();
}

StreamMeta StreamObject::Meta() const {
  StreamMeta m = meta_;
  if (!entries_.empty()) m.last_id = std::max(m.last_id, *entries_.rbegin());
  return m;
}

int64_t StreamObject::NodeCount(crdt::NodeId node) const {
  auto it = node_counts_.find(node);
  return it == node_counts_.end() ? 0 : it->second;
}

int64_t StreamObject::EntriesAdded() const { return meta_.added_offset + added_sum_; }

bool StreamObject::Group(std::string_view name, StreamGroup* out) const {
  ptrdiff_t i = map_.Find(stream_codec::GroupName(name));
  if (i < 0) return false;
  bool any = false;
  for (const auto& v : map_.at(static_cast<size_t>(i)).versions) {
    StreamGroup g;
    if (!StreamGroup::Decode(v.value, &g)) continue;
    if (!any || std::tie(out->setid, out->last_id, out->entries_read) <
                    std::tie(g.setid, g.last_id, g.entries_read)) {
      *out = g;
    }
    any = true;
  }
  return any;
}

bool StreamObject::Pending(std::string_view group, StreamId id, StreamPending* out) const {
  const crdt::CompactString* v = Find(stream_codec::PendingName(group, id));
  return v && StreamPending::Decode(*v, out);
}

bool StreamObject::ConsumerSeen(std::string_view group, std::string_view consumer,
                                int64_t* out) const {
  ptrdiff_t i = map_.Find(stream_codec::ConsumerName(group, consumer));
  if (i < 0) return false;
  *out = 0;
  for (const auto& v : map_.at(static_cast<size_t>(i)).versions) {
    if (v.value.size() == 8) *out = std::max(*out, static_cast<int64_t>(GetU64(v.value.data())));
  }
  return true;
}

StreamObject::Dots StreamObject::Put(std::string_view name, std::string_view value,
                                     crdt::Stamp dot) {
  // An entry's name is new (ids only grow): no lookup for it.
  ptrdiff_t i = name[0] == 'e' && !entries_.empty() && name.size() == 17 &&
                        GetId(name.data() + 1) > *entries_.rbegin()
                    ? -1
                    : map_.Find(name);
  Dots old;
  if (i < 0) {
    map_.Insert(map_.size(), name, crdt::CompactString(value), dot);
  } else {
    old = map_.Put(static_cast<size_t>(i), crdt::CompactString(value), dot);
  }
  Reindex(name, 1);
  return old;
}

StreamObject::Dots StreamObject::Remove(std::string_view name) {
  ptrdiff_t i = map_.Find(name);
  if (i < 0) return {};
  Dots old = map_.Remove(static_cast<size_t>(i));
  Reindex(name, 0);
  return old;
}

void StreamObject::Reindex(std::string_view name, int live_hint) {
  if (name.empty()) return;
  bool live = live_hint >= 0 ? live_hint == 1 : map_.Find(name) >= 0;
  switch (name[0]) {
    case 'm': {
      meta_ = StreamMeta{};
      ptrdiff_t i = map_.Find(name);
      if (i < 0) return;
      const auto& e = map_.at(static_cast<size_t>(i));
      // Concurrent versions: the greatest ids; the offset of the newest.
      for (const auto& v : e.versions) {
        StreamMeta x;
        if (!StreamMeta::Decode(v.value, &x)) continue;
        meta_.last_id = std::max(meta_.last_id, x.last_id);
        meta_.max_deleted = std::max(meta_.max_deleted, x.max_deleted);
      }
      StreamMeta top;
      if (StreamMeta::Decode(e.top().value, &top)) meta_.added_offset = top.added_offset;
      return;
    }
    case 'n': {
      if (name.size() != 5) return;
      crdt::NodeId node = GetU32(name.data() + 1);
      int64_t count = 0;
      if (ptrdiff_t i = live ? map_.Find(name) : -1; i >= 0) {
        for (const auto& v : map_.at(static_cast<size_t>(i)).versions) {
          if (v.value.size() == 8) count = std::max(count, static_cast<int64_t>(GetU64(v.value.data())));
        }
      }
      int64_t& slot = node_counts_[node];
      added_sum_ += count - slot;
      slot = count;
      return;
    }
    case 'e':
      if (name.size() != 17) return;
      {
        StreamId id = GetId(name.data() + 1);
        if (live) {
          if (!entries_.insert(id).second) return;
          auto it = nodes_.upper_bound(id);
          bool tail = it == nodes_.end();
          if (it == nodes_.begin()) {
            it = nodes_.emplace(id, Node{}).first;  // before every node: one of its own
          } else {
            --it;
            if (tail && it->second.total >= kNodeEntries) it = nodes_.emplace(id, Node{}).first;
          }
          it->second.total++;
          it->second.live++;
        } else if (entries_.erase(id)) {
          auto it = nodes_.upper_bound(id);
          if (it == nodes_.begin()) return;
          --it;
          if (--it->second.live == 0) nodes_.erase(it);
        }
      }
      return;
    case 'g': {
      std::string g(name.substr(1));
      if (live) {
        groups_[g].live = true;
      } else if (auto it = groups_.find(g); it != groups_.end()) {
        it->second.live = false;
        if (it->second.pel.empty() && it->second.consumers.empty()) groups_.erase(it);
      }
      return;
    }
    case 'c':
    case 'p': {
      std::string_view group, rest;
      if (!SplitGroup(name, &group, &rest)) return;
      std::string g(group);
      auto it = groups_.find(g);
      if (!live && it == groups_.end()) return;
      GroupIndex& gi = it == groups_.end() ? groups_[g] : it->second;
      if (name[0] == 'c') {
        if (live) {
          gi.consumers.emplace(rest);
        } else {
          gi.consumers.erase(std::string(rest));
        }
      } else {
        if (rest.size() != 16) return;
        StreamId id = GetId(rest.data());
        if (auto p = gi.pel.find(id); p != gi.pel.end()) {
          auto c = gi.consumer_pel.find(p->second);
          if (c != gi.consumer_pel.end()) {
            c->second.erase(id);
            if (c->second.empty()) gi.consumer_pel.erase(c);
          }
          gi.pel.erase(p);
        }
        StreamPending pe;
        if (live && Pending(group, id, &pe)) {
          gi.consumer_pel[pe.consumer].insert(id);
          gi.pel.emplace(id, std::move(pe.consumer));
        }
      }
      if (!gi.live && gi.pel.empty() && gi.consumers.empty()) groups_.erase(g);
      return;
    }
    default:
      return;
  }
}

void StreamObject::RebuildIndex() {
  entries_.clear();
  groups_.clear();
  meta_ = StreamMeta{};
  nodes_.clear();
  node_counts_.clear();
  added_sum_ = 0;
  std::vector<std::string> names;
  names.reserve(map_.size());
  for (const auto& e : map_.elements()) names.emplace_back(e.name);
  // Entries in id order (their names sort so), for the node layout.
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) Reindex(n);
}

bool StreamObject::DropIf(const std::function<bool(const crdt::Stamp&)>& dead) {
  bool any = map_.DropIf(dead) > 0;
  if (any) RebuildIndex();
  return any;
}

bool StreamObject::ApplyOps(const peer::Elements& m, crdt::Stamp dot) {
  bool changed = false;
  for (const peer::ElementOp& op : m.ops()) {
    switch (op.kind()) {
      case peer::ElementOp::PUT:
        map_.ApplyPut(op.element(), crdt::CompactString(op.value()), dot,
                      DotsFromProto(op.replaced()), ctx);
        break;
      case peer::ElementOp::REMOVE:
        map_.ApplyRemove(op.element(), DotsFromProto(op.replaced()));
        break;
      default:
        continue;  // streams have no counters
    }
    Reindex(op.element());
    changed = true;
  }
  return changed;
}

bool StreamObject::MergeState(const peer::Elements& m, const crdt::CausalContext& their_ctx) {
  HashMap theirs;
  for (const peer::ElementState& es : m.elements()) {
    for (const peer::ElementVersion& ver : es.versions()) {
      crdt::CausalContext empty;
      theirs.ApplyPut(es.element(), crdt::CompactString(ver.value()), FromProto(ver.dot()), {},
                      empty);
    }
  }
  bool changed = map_.MergeState(theirs, their_ctx, ctx);
  if (changed) RebuildIndex();
  return changed;
}

void StreamObject::StateToProto(peer::Elements* m) const {
  for (const auto& e : map_.elements()) {
    peer::ElementState* es = m->add_elements();
    es->set_element(e.name.data(), e.name.size());
    for (const auto& v : e.versions) {
      peer::ElementVersion* pv = es->add_versions();
      ToProto(v.dot, pv->mutable_dot());
      if (v.value.size() > 0) pv->set_value(v.value.data(), v.value.size());
    }
  }
}

void StreamObject::Restamp(crdt::Stamp dot) {
  // Concurrent versions collapse to the merged view first, so the copy
  // reads as the original did.
  StreamMeta meta = Meta();
  int64_t added = EntriesAdded();
  std::vector<std::pair<std::string, std::string>> groups;
  for (const auto& [name, gi] : groups_) {
    StreamGroup g;
    if (gi.live && Group(name, &g)) groups.emplace_back(name, g.Encode());
  }
  for (size_t i = 0; i < map_.size(); i++) {
    std::string v(map_.at(i).top().value);
    map_.Put(i, crdt::CompactString(v), dot);
  }
  // The per-node counts become one offset (the copy is this node's write).
  for (size_t i = 0; i < map_.size();) {
    if (map_.at(i).name.size() == 5 && map_.at(i).name.data()[0] == 'n') {
      map_.Remove(i);
    } else {
      i++;
    }
  }
  meta.added_offset = added;
  std::string mv = meta.Encode();
  ptrdiff_t mi = map_.Find(stream_codec::kMetaName);
  if (mi >= 0) {
    map_.Put(static_cast<size_t>(mi), crdt::CompactString(mv), dot);
  } else {
    map_.Insert(map_.size(), stream_codec::kMetaName, crdt::CompactString(mv), dot);
  }
  for (const auto& [name, v] : groups) {
    ptrdiff_t gi = map_.Find(stream_codec::GroupName(name));
    if (gi >= 0) map_.Put(static_cast<size_t>(gi), crdt::CompactString(v), dot);
  }
  RebuildIndex();
  ctx = crdt::CausalContext();
  floor = {};
  ttl_stamp = dot;
}

}  // namespace lattice::node
