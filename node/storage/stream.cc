#include "node/storage/stream.h"

#include <algorithm>
#include <cstring>

#include "node/stamp_proto.h"
#include "node/storage/stable_hash.h"
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

// ---- StreamEntries ----
//
// A block's record: varint(ms - base.ms), varint(seq - base.seq when the
// ms are equal, else seq), varint(version count), then per version
// zigzag(counter - block's base counter), varint(node), varint(sub),
// varint(length << 1 | shared) and the bytes: the field/value pairs or,
// when `shared`, the values alone, the field names being the block's
// master names (those of the entry that started the block; Redis's
// listpacks keep a master entry the same way). The store wrote every byte,
// so the decoder trusts them.

namespace {

void PutZigzag(std::string* out, int64_t v) {
  PutVarint(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

uint64_t ReadVarint(const char** p) {
  uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    uint8_t b = static_cast<uint8_t>(*(*p)++);
    v |= uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
}

// Reads a record's id at *p, advancing it to the versions.
StreamId ReadId(const StreamId& base, const char** p) {
  uint64_t dms = ReadVarint(p);
  uint64_t seq = ReadVarint(p);
  return StreamId{base.ms + dms, dms == 0 ? base.seq + seq : seq};
}

// The field names of field/value bytes, each with its length (the master
// layout); false if the bytes do not parse.
bool NamesOf(std::string_view fields, std::string* names) {
  names->clear();
  std::string_view in = fields;
  while (!in.empty()) {
    const char* at = in.data();
    uint64_t fl, vl;
    if (!GetVarint(&in, &fl) || fl > in.size()) return false;
    in.remove_prefix(fl);
    names->append(at, static_cast<size_t>(in.data() - at));
    if (!GetVarint(&in, &vl) || vl > in.size()) return false;
    in.remove_prefix(vl);
  }
  return true;
}

// Appends the values of `fields` to *out if its names are `master`;
// false (nothing appended) otherwise.
bool ValuesIfShared(std::string_view fields, std::string_view master, std::string* out) {
  if (master.empty()) return false;
  size_t had = out->size();
  std::string_view in = fields;
  while (!in.empty()) {
    const char* at = in.data();
    uint64_t fl, vl;
    if (!GetVarint(&in, &fl) || fl > in.size()) break;
    in.remove_prefix(fl);
    size_t name_len = static_cast<size_t>(in.data() - at);
    if (master.size() < name_len || master.substr(0, name_len) != std::string_view(at, name_len)) {
      break;
    }
    master.remove_prefix(name_len);
    const char* v = in.data();
    if (!GetVarint(&in, &vl) || vl > in.size()) break;
    in.remove_prefix(vl);
    out->append(v, static_cast<size_t>(in.data() - v));
  }
  if (in.empty() && master.empty()) return true;
  out->resize(had);
  return false;
}

// Interleaves the master names with values-only bytes.
void Unshare(std::string_view master, const char* values, std::string* out) {
  out->clear();
  const char* p = values;
  while (!master.empty()) {
    const char* n = master.data();
    uint64_t nl = ReadVarint(&n);
    size_t name_bytes = static_cast<size_t>(n - master.data()) + nl;
    out->append(master.data(), name_bytes);
    master.remove_prefix(name_bytes);
    const char* v = p;
    uint64_t vl = ReadVarint(&p);
    p += vl;
    out->append(v, static_cast<size_t>(p - v));
  }
}

// Reads (into *v, if given) or skips the versions at *p. Shared-name
// versions are rebuilt in `scratch`, which must outlive the views.
void ReadVersions(uint64_t base_counter, std::string_view master, const char** p,
                  StreamEntries::Versions* v, StreamEntries::Scratch* scratch) {
  uint64_t n = ReadVarint(p);
  if (v) v->clear();
  for (uint64_t k = 0; k < n; k++) {
    uint64_t z = ReadVarint(p);
    int64_t delta = static_cast<int64_t>(z >> 1) ^ -static_cast<int64_t>(z & 1);
    crdt::Stamp dot;
    dot.counter = base_counter + static_cast<uint64_t>(delta);
    dot.node = static_cast<crdt::NodeId>(ReadVarint(p));
    dot.sub = static_cast<uint32_t>(ReadVarint(p));
    uint64_t lf = ReadVarint(p);
    size_t len = static_cast<size_t>(lf >> 1);
    if (v) {
      if (lf & 1) {
        scratch->emplace_back();
        Unshare(master, *p, &scratch->back());
        v->push_back({dot, scratch->back()});
      } else {
        v->push_back({dot, std::string_view(*p, len)});
      }
    }
    *p += len;
  }
}

}  // namespace

uint64_t StreamEntries::DigestOf(StreamId id, const Versions& v) {
  uint64_t sum = 0;
  for (const Version& x : v) sum += Mix64(StampDigest(x.dot) ^ StableHash64(x.fields));
  return Mix64(Mix64(id.ms * 0x9E3779B97F4A7C15ULL ^ id.seq) + sum + 0x57AE);
}

void StreamEntries::Encode(const StreamId& base, const Block& b, StreamId id, const Versions& v,
                           std::string* out) {
  PutVarint(out, id.ms - base.ms);
  PutVarint(out, id.ms == base.ms ? id.seq - base.seq : id.seq);
  PutVarint(out, v.size());
  std::string values;
  for (const Version& x : v) {
    PutZigzag(out, static_cast<int64_t>(x.dot.counter - b.base_counter));
    PutVarint(out, x.dot.node);
    PutVarint(out, x.dot.sub);
    values.clear();
    if (ValuesIfShared(x.fields, b.master, &values)) {
      PutVarint(out, values.size() << 1 | 1);
      out->append(values);
    } else {
      PutVarint(out, x.fields.size() << 1);
      out->append(x.fields.data(), x.fields.size());
    }
  }
}

void StreamEntries::Append(const StreamId& base, Block* b, StreamId id, const Versions& v) {
  if (b->count == 0) {
    b->base_counter = v.empty() ? 0 : v[0].dot.counter;
    if (v.empty() || !NamesOf(v[0].fields, &b->master)) b->master.clear();
    b->master.shrink_to_fit();
  }
  Encode(base, *b, id, v, &b->bytes);
  b->last = id;
  b->count++;
}

void StreamEntries::DecodeAll(const StreamId& base, const Block& b, std::vector<Decoded>* out,
                              Scratch* scratch) {
  out->clear();
  out->reserve(b.count);
  const char* p = b.bytes.data();
  const char* end = p + b.bytes.size();
  while (p < end) {
    Decoded d;
    d.id = ReadId(base, &p);
    ReadVersions(b.base_counter, b.master, &p, &d.versions, scratch);
    out->push_back(std::move(d));
  }
}

StreamId StreamEntries::first() const {
  const auto& [base, b] = *blocks_.begin();
  const char* p = b.bytes.data();
  return ReadId(base, &p);
}

bool StreamEntries::Get(StreamId id, Versions* out, Scratch* scratch) const {
  out->clear();
  auto it = blocks_.upper_bound(id);
  if (it == blocks_.begin() || id > std::prev(it)->second.last) return false;
  --it;
  const Block& b = it->second;
  const char* p = b.bytes.data();
  const char* end = p + b.bytes.size();
  while (p < end) {
    StreamId at = ReadId(it->first, &p);
    if (at > id) return false;
    ReadVersions(b.base_counter, b.master, &p, at == id ? out : nullptr, scratch);
    if (at == id) return true;
  }
  return false;
}

bool StreamEntries::Contains(StreamId id) const {
  Versions v;
  Scratch scratch;
  return Get(id, &v, &scratch);
}

void StreamEntries::Scan(StreamId start, StreamId end, bool rev,
                         const std::function<bool(StreamId, const Versions&)>& fn) const {
  if (start > end || blocks_.empty()) return;
  if (!rev) {
    auto it = blocks_.upper_bound(start);
    if (it != blocks_.begin()) --it;
    Versions v;
    Scratch scratch;
    for (; it != blocks_.end() && it->first <= end; ++it) {
      const Block& b = it->second;
      if (b.last < start) continue;
      const char* p = b.bytes.data();
      const char* stop = p + b.bytes.size();
      while (p < stop) {
        StreamId id = ReadId(it->first, &p);
        bool in = id >= start && id <= end;
        scratch.clear();
        ReadVersions(b.base_counter, b.master, &p, in ? &v : nullptr, &scratch);
        if (id < start) continue;
        if (id > end || !fn(id, v)) return;
      }
    }
    return;
  }
  auto it = blocks_.upper_bound(end);
  std::vector<Decoded> recs;
  Scratch scratch;
  while (it != blocks_.begin()) {
    --it;
    if (it->second.last < start) return;
    scratch.clear();
    DecodeAll(it->first, it->second, &recs, &scratch);
    for (size_t i = recs.size(); i-- > 0;) {
      if (recs[i].id > end) continue;
      if (recs[i].id < start || !fn(recs[i].id, recs[i].versions)) return;
    }
  }
}

void StreamEntries::Rewrite(Blocks::iterator it, StreamId base, const std::vector<Decoded>& recs) {
  // Built aside first: `recs` points into the block being replaced. A run
  // too long for one block is cut into equal half-full ones, so that
  // inserts in the middle leave no trail of small blocks.
  Block whole;
  for (const Decoded& r : recs) Append(base, &whole, r.id, r.versions);
  std::vector<std::pair<StreamId, Block>> fresh;
  if (recs.size() <= kBlockEntries && whole.bytes.size() <= kBlockBytes) {
    if (!recs.empty()) fresh.emplace_back(base, std::move(whole));
  } else {
    size_t parts = std::max((recs.size() + kBlockEntries / 2 - 1) / (kBlockEntries / 2),
                            (whole.bytes.size() + kBlockBytes / 2 - 1) / (kBlockBytes / 2));
    size_t per = (recs.size() + parts - 1) / parts;
    for (size_t i = 0; i < recs.size(); i++) {
      if (i % per == 0) fresh.emplace_back(i == 0 ? base : recs[i].id, Block{});
      Append(fresh.back().first, &fresh.back().second, recs[i].id, recs[i].versions);
    }
  }
  blocks_.erase(it);
  for (auto& [b, blk] : fresh) {
    blk.bytes.shrink_to_fit();
    blocks_.emplace(b, std::move(blk));
  }
}

void StreamEntries::Set(StreamId id, const Versions& v) {
  if (!v.empty() && (blocks_.empty() || id > last_)) {
    // The common case, an append: the tail block, or a new one.
    if (blocks_.empty()) blocks_.emplace(id, Block{});
    auto tail = std::prev(blocks_.end());
    Block* b = &tail->second;
    bool appended = false;
    if (b->count < kBlockEntries) {
      size_t had = b->bytes.size();
      StreamId had_last = b->last;
      Append(tail->first, b, id, v);
      appended = true;
      if (b->count > 1 && b->bytes.size() > kBlockBytes) {  // past the byte limit: undone
        b->bytes.resize(had);
        b->count--;
        b->last = had_last;
        appended = false;
      }
    }
    if (!appended) {  // the tail is full: this entry starts the next block
      b->bytes.shrink_to_fit();
      auto fresh = blocks_.emplace(id, Block{}).first;
      Append(id, &fresh->second, id, v);
    }
    count_++;
    last_ = id;
    digest_ += DigestOf(id, v);
    return;
  }
  if (blocks_.empty()) return;
  auto it = blocks_.upper_bound(id);
  if (it == blocks_.begin()) {
    // Below every entry: absent, or a new first entry, which moves the
    // first block's base (its records are re-encoded from it).
    if (v.empty()) return;
    std::vector<Decoded> recs;
    Scratch scratch;
    DecodeAll(it->first, it->second, &recs, &scratch);
    recs.insert(recs.begin(), Decoded{id, v});
    Rewrite(it, id, recs);
    count_++;
    digest_ += DigestOf(id, v);
    return;
  }
  --it;
  const StreamId base = it->first;
  Block& b = it->second;
  // The record's place: records are encoded against the block's base, not
  // each other, so one is spliced in or out without touching the rest.
  const char* data = b.bytes.data();
  const char* p = data;
  const char* end = data + b.bytes.size();
  size_t pos = b.bytes.size(), rec_end = pos;
  bool existing = false;
  Versions old;
  Scratch scratch;
  while (p < end) {
    const char* start = p;
    StreamId at = ReadId(base, &p);
    if (at >= id) {
      pos = static_cast<size_t>(start - data);
      existing = at == id;
      if (existing) {
        ReadVersions(b.base_counter, b.master, &p, &old, &scratch);
        rec_end = static_cast<size_t>(p - data);
      } else {
        rec_end = pos;
      }
      break;
    }
    ReadVersions(b.base_counter, b.master, &p, nullptr, nullptr);
  }
  if (!existing && v.empty()) return;
  if (existing) {
    digest_ -= DigestOf(id, old);
    count_--;
    b.count--;
  }
  std::string enc;  // first: `v` may point into this block
  if (!v.empty()) {
    Encode(base, b, id, v, &enc);
    digest_ += DigestOf(id, v);
    count_++;
    b.count++;
  }
  b.bytes.replace(pos, rec_end - pos, enc);
  if (b.count == 0) {
    blocks_.erase(it);
  } else {
    if (!v.empty() && id > b.last) b.last = id;
    if (v.empty() && id == b.last) {
      const char* q = b.bytes.data();
      const char* qend = q + b.bytes.size();
      while (q < qend) {
        b.last = ReadId(base, &q);
        ReadVersions(b.base_counter, b.master, &q, nullptr, nullptr);
      }
    }
    if (b.count > kBlockEntries || b.bytes.size() > kBlockBytes) {
      std::vector<Decoded> recs;
      Scratch recs_scratch;
      DecodeAll(base, b, &recs, &recs_scratch);
      Rewrite(it, base, recs);
    }
  }
  last_ = blocks_.empty() ? StreamId{} : blocks_.rbegin()->second.last;
}

size_t StreamEntries::MemoryUsage() const {
  // A btree node holds about 8 (id, block) slots, most nodes two-thirds full.
  size_t n = blocks_.size() * (sizeof(StreamId) + sizeof(Block)) * 3 / 2;
  for (const auto& [id, b] : blocks_) {
    n += b.bytes.capacity() > 15 ? b.bytes.capacity() + 1 : 0;
    n += b.master.capacity() > 15 ? b.master.capacity() + 1 : 0;
  }
  return n;
}

// ---- StreamObject ----

StreamObject::StreamObject() : Collection(ObjType::kStream, CollEnc::kStream) {
  map_.BuildIndex();
}

size_t StreamObject::MemoryUsage() const {
  size_t n = sizeof(*this) + map_.MemoryUsage() + entries_.MemoryUsage();
  for (const auto& e : map_.elements()) n += e.versions[0].value.heap_bytes();
  for (const auto& [name, g] : groups_) n += sizeof(g) + name.size() + g.pel.size() * 48;
  return n;
}

const crdt::CompactString* StreamObject::Find(std::string_view name) const {
  ptrdiff_t i = map_.Find(name);
  return i < 0 ? nullptr : &map_.at(static_cast<size_t>(i)).top().value;
}

std::string_view StreamObject::TopFields(const StreamEntries::Versions& v) {
  const StreamEntries::Version* top = &v[0];
  for (const auto& x : v) {
    if (top->dot < x.dot) top = &x;
  }
  return top->fields;
}

std::string StreamObject::EntryValue(StreamId id) const {
  StreamEntries::Versions v;
  StreamEntries::Scratch scratch;
  return entries_.Get(id, &v, &scratch) ? std::string(TopFields(v)) : std::string();
}

void StreamObject::ScanEntries(StreamId start, StreamId end, bool rev,
                               const std::function<bool(StreamId, std::string_view)>& fn) const {
  entries_.Scan(start, end, rev, [&](StreamId id, const StreamEntries::Versions& v) {
    return fn(id, TopFields(v));
  });
}

StreamMeta StreamObject::Meta() const {
  StreamMeta m = meta_;
  if (!entries_.empty()) m.last_id = std::max(m.last_id, entries_.last());
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
  Dots old;
  if (name.size() == 17 && name[0] == 'e') {
    StreamId id = GetId(name.data() + 1);
    StreamEntries::Versions cur;
    StreamEntries::Scratch scratch;
    // A new id above the last needs no lookup (local ids only grow).
    bool was = !entries_.empty() && id <= entries_.last() && entries_.Get(id, &cur, &scratch);
    for (const auto& v : cur) old.push_back(v.dot);
    entries_.Set(id, {{dot, value}});
    EntryChanged(id, was, true);
    return old;
  }
  ptrdiff_t i = map_.Find(name);
  if (i < 0) {
    map_.Insert(map_.size(), name, crdt::CompactString(value), dot);
  } else {
    old = map_.Put(static_cast<size_t>(i), crdt::CompactString(value), dot);
  }
  Reindex(name, 1);
  return old;
}

StreamObject::Dots StreamObject::Remove(std::string_view name) {
  if (name.size() == 17 && name[0] == 'e') {
    StreamId id = GetId(name.data() + 1);
    StreamEntries::Versions cur;
    StreamEntries::Scratch scratch;
    if (!entries_.Get(id, &cur, &scratch)) return {};
    Dots old;
    for (const auto& v : cur) old.push_back(v.dot);
    entries_.Set(id, {});
    EntryChanged(id, true, false);
    return old;
  }
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

void StreamObject::EntryChanged(StreamId id, bool was, bool now) {
  if (was == now) return;
  if (now) {
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
  } else {
    auto it = nodes_.upper_bound(id);
    if (it == nodes_.begin()) return;
    --it;
    if (--it->second.live == 0) nodes_.erase(it);
  }
}

void StreamObject::RebuildIndex() {
  groups_.clear();
  meta_ = StreamMeta{};
  nodes_.clear();
  node_counts_.clear();
  added_sum_ = 0;
  std::vector<std::string> names;
  names.reserve(map_.size());
  for (const auto& e : map_.elements()) names.emplace_back(e.name);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) Reindex(n);
  // The node layout, in id order.
  entries_.Scan({}, StreamId::Max(), false, [&](StreamId id, const StreamEntries::Versions&) {
    EntryChanged(id, false, true);
    return true;
  });
}

std::vector<StreamObject::OwnedEntry> StreamObject::TakeEntries(
    const std::function<bool(const crdt::Stamp&)>& keep) const {
  std::vector<OwnedEntry> out;
  out.reserve(entries_.size());
  entries_.Scan({}, StreamId::Max(), false, [&](StreamId id, const StreamEntries::Versions& v) {
    OwnedEntry e{id, {}};
    for (const auto& x : v) {
      if (keep(x.dot)) e.versions.emplace_back(x.dot, std::string(x.fields));
    }
    out.push_back(std::move(e));
    return true;
  });
  return out;
}

void StreamObject::PutEntries(const std::vector<OwnedEntry>& entries) {
  entries_ = StreamEntries();
  for (const OwnedEntry& e : entries) {
    StreamEntries::Versions v;
    for (const auto& [dot, fields] : e.versions) v.push_back({dot, fields});
    if (!v.empty()) entries_.Set(e.id, v);  // in id order: appends
  }
}

bool StreamObject::DropIf(const std::function<bool(const crdt::Stamp&)>& dead) {
  bool any = map_.DropIf(dead) > 0;
  bool entry = false;
  entries_.Scan({}, StreamId::Max(), false, [&](StreamId, const StreamEntries::Versions& v) {
    for (const auto& x : v) entry = entry || dead(x.dot);
    return !entry;
  });
  if (entry) PutEntries(TakeEntries([&](const crdt::Stamp& d) { return !dead(d); }));
  if (any || entry) RebuildIndex();
  return any || entry;
}

bool StreamObject::ApplyOps(const peer::Elements& m, crdt::Stamp dot) {
  bool changed = false;
  for (const peer::ElementOp& op : m.ops()) {
    if (op.element().size() == 17 && op.element()[0] == 'e' &&
        (op.kind() == peer::ElementOp::PUT || op.kind() == peer::ElementOp::REMOVE)) {
      // An entry, as crdt::OrMap applies a put or a remove: the versions
      // it names go; a put's own version joins unless already seen.
      StreamId id = GetId(op.element().data() + 1);
      StreamEntries::Versions cur, next;
      StreamEntries::Scratch scratch;
      bool was = entries_.Get(id, &cur, &scratch);
      Dots replaced = DotsFromProto(op.replaced());
      for (const auto& v : cur) {
        if (std::find(replaced.begin(), replaced.end(), v.dot) == replaced.end()) next.push_back(v);
      }
      if (op.kind() == peer::ElementOp::PUT) {
        crdt::Stamp d = OpDot(dot, op);
        bool have = std::any_of(next.begin(), next.end(), [&](const auto& v) { return v.dot == d; });
        if (!have && !ctx.Covers(d)) next.push_back({d, op.value()});
      }
      if (next.size() != cur.size() || !std::equal(next.begin(), next.end(), cur.begin(),
                                                   [](const auto& a, const auto& b) {
                                                     return a.dot == b.dot;
                                                   })) {
        entries_.Set(id, next);
        EntryChanged(id, was, !next.empty());
      }
      changed = true;
      continue;
    }
    switch (op.kind()) {
      case peer::ElementOp::PUT:
        map_.ApplyPut(op.element(), crdt::CompactString(op.value()), OpDot(dot, op),
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
  std::map<StreamId, std::vector<std::pair<crdt::Stamp, std::string>>> their_entries;
  for (const peer::ElementState& es : m.elements()) {
    if (es.element().size() == 17 && es.element()[0] == 'e') {
      auto& vs = their_entries[GetId(es.element().data() + 1)];
      for (const peer::ElementVersion& ver : es.versions()) {
        vs.emplace_back(FromProto(ver.dot()), ver.value());
      }
      continue;
    }
    for (const peer::ElementVersion& ver : es.versions()) {
      crdt::CausalContext empty;
      theirs.ApplyPut(es.element(), crdt::CompactString(ver.value()), FromProto(ver.dot()), {},
                      empty);
    }
  }
  bool changed = map_.MergeState(theirs, their_ctx, ctx);
  // Entries merge as the map's elements do: a version stays if both sides
  // have it, or one side has it and the other side's context has not seen
  // it.
  std::vector<OwnedEntry> ours = TakeEntries([](const crdt::Stamp&) { return true; });
  std::vector<OwnedEntry> merged;
  merged.reserve(ours.size() + their_entries.size());
  auto t = their_entries.begin();
  bool entries_changed = false;
  auto merge_one = [&](StreamId id, std::vector<std::pair<crdt::Stamp, std::string>>* mine,
                       std::vector<std::pair<crdt::Stamp, std::string>>* other) {
    OwnedEntry out{id, {}};
    for (auto& v : *mine) {
      bool both = std::any_of(other->begin(), other->end(),
                              [&](const auto& o) { return o.first == v.first; });
      if (both || !their_ctx.Covers(v.first)) {
        out.versions.push_back(std::move(v));
      } else {
        entries_changed = true;
      }
    }
    for (auto& o : *other) {
      bool both = std::any_of(out.versions.begin(), out.versions.end(),
                              [&](const auto& v) { return v.first == o.first; });
      if (!both && !ctx.Covers(o.first)) {
        out.versions.push_back(std::move(o));
        entries_changed = true;
      }
    }
    if (!out.versions.empty()) merged.push_back(std::move(out));
  };
  std::vector<std::pair<crdt::Stamp, std::string>> none;
  for (OwnedEntry& e : ours) {
    for (; t != their_entries.end() && t->first < e.id; ++t) merge_one(t->first, &none, &t->second);
    if (t != their_entries.end() && t->first == e.id) {
      merge_one(e.id, &e.versions, &t->second);
      ++t;
    } else {
      std::vector<std::pair<crdt::Stamp, std::string>> empty;
      merge_one(e.id, &e.versions, &empty);
    }
  }
  for (; t != their_entries.end(); ++t) merge_one(t->first, &none, &t->second);
  if (entries_changed) PutEntries(merged);
  if (changed || entries_changed) RebuildIndex();
  return changed || entries_changed;
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
  entries_.Scan({}, StreamId::Max(), false, [&](StreamId id, const StreamEntries::Versions& vs) {
    peer::ElementState* es = m->add_elements();
    es->set_element(stream_codec::EntryName(id));
    for (const auto& v : vs) {
      peer::ElementVersion* pv = es->add_versions();
      ToProto(v.dot, pv->mutable_dot());
      if (!v.fields.empty()) pv->set_value(v.fields.data(), v.fields.size());
    }
    return true;
  });
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
  // One dot per element (crdt/stamp.h): element i's is `dot` with sub i+1.
  for (size_t i = 0; i < map_.size(); i++) {
    crdt::Stamp d = dot;
    d.sub = static_cast<uint32_t>(i + 1);
    map_.Put(i, map_.at(i).top().value, d);
  }
  std::vector<OwnedEntry> entries;
  entries.reserve(entries_.size());
  uint32_t sub = static_cast<uint32_t>(map_.size());
  entries_.Scan({}, StreamId::Max(), false, [&](StreamId id, const StreamEntries::Versions& v) {
    crdt::Stamp d = dot;
    d.sub = ++sub;
    entries.push_back(OwnedEntry{id, {{d, std::string(TopFields(v))}}});
    return true;
  });
  PutEntries(entries);
  RebuildIndex();
  ctx = crdt::CausalContext();
  floor = {};
  ttl_stamp = dot;
}

}  // namespace lattice::node
