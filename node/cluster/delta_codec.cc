#include "node/cluster/delta_codec.h"

#include "node/stamp_proto.h"
#include "proto/peer.pb.h"

namespace lattice::node {

namespace {

// Wire types.
constexpr uint32_t kVarint = 0, kLen = 2;

void Varint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

void Tag(uint32_t field, uint32_t type, std::string* out) { Varint((field << 3) | type, out); }

// proto3 omits zero scalars; so do we (parsers treat both alike).
void VarintField(uint32_t field, uint64_t v, std::string* out) {
  if (v == 0) return;
  Tag(field, kVarint, out);
  Varint(v, out);
}

void BytesField(uint32_t field, std::string_view b, std::string* out) {
  Tag(field, kLen, out);
  Varint(b.size(), out);
  out->append(b);
}

// A length-delimited submessage built by `fill` in a scratch buffer.
template <typename F>
void MessageField(uint32_t field, std::string* out, F fill) {
  std::string sub;
  fill(&sub);
  BytesField(field, sub, out);
}

// Size of a varint field with a one-byte tag (field numbers below 16).
size_t VarintFieldSize(uint64_t v) { return v ? 1 + VarintSize(v) : 0; }

// Peer.Stamp as field `field`; omitted when zero, as proto3 would.
void StampField(uint32_t field, const crdt::Stamp& s, std::string* out) {
  if (s.IsZero()) return;
  Tag(field, kLen, out);
  Varint(VarintFieldSize(s.counter) + VarintFieldSize(s.node) + VarintFieldSize(s.sub), out);
  VarintField(1, s.counter, out);
  VarintField(2, s.node, out);
  VarintField(3, s.sub, out);
}

// Bytes StampField writes (a one-byte tag, a one-byte length).
size_t StampFieldSize(const crdt::Stamp& s) {
  return s.IsZero() ? 0
                   : 2 + VarintFieldSize(s.counter) + VarintFieldSize(s.node) +
                         VarintFieldSize(s.sub);
}

}  // namespace

void EncodeDelta(const Delta& d, std::string* out) {
  if (d.db > 0) VarintField(1, static_cast<uint64_t>(d.db), out);
  if (!d.key.empty()) BytesField(2, d.key, out);
  switch (d.kind) {
    case Delta::Kind::kAssign: {
      StampField(3, d.stamp, out);
      uint64_t at = d.expire_at > 0 ? static_cast<uint64_t>(d.expire_at) : 0;
      size_t floor_size = d.hll && !d.hll_floor.IsZero() ? StampFieldSize(d.hll_floor) : 0;
      Tag(4, kLen, out);
      Varint((d.value.empty() ? 0 : 1 + VarintSize(d.value.size()) + d.value.size()) +
                 VarintFieldSize(at) + (d.hll ? 2 : 0) + floor_size,
             out);
      if (!d.value.empty()) BytesField(1, d.value, out);
      VarintField(2, at, out);
      if (d.hll) VarintField(3, 1, out);
      if (floor_size) StampField(4, d.hll_floor, out);
      break;
    }
    case Delta::Kind::kCounterAdd: {
      const crdt::PnCounter::Delta& c = *d.counter;
      StampField(3, c.base_stamp, out);
      uint64_t base = static_cast<uint64_t>(c.base);  // int64: two's complement
      uint64_t at = d.expire_at > 0 ? static_cast<uint64_t>(d.expire_at) : 0;
      Tag(5, kLen, out);
      Varint(VarintFieldSize(base) + VarintFieldSize(at) +
                 VarintFieldSize(c.contribution.node) + VarintFieldSize(c.contribution.p) +
                 VarintFieldSize(c.contribution.n) + VarintFieldSize(c.contribution.epoch),
             out);
      VarintField(1, base, out);
      VarintField(2, at, out);
      VarintField(3, c.contribution.node, out);
      VarintField(4, c.contribution.p, out);
      VarintField(5, c.contribution.n, out);
      VarintField(6, c.contribution.epoch, out);
      break;
    }
    case Delta::Kind::kDelete: {
      StampField(3, d.stamp, out);
      MessageField(d.key.empty() ? 7 : 6, out, [&](std::string* m) {
        if (!d.tomb) return;
        for (const auto& e : d.tomb->seen.entries()) {
          MessageField(1, m, [&](std::string* v) {
            VarintField(1, e.node, v);
            VarintField(2, e.counter, v);
          });
        }
        StampField(2, d.tomb->max_dead, m);
        for (const crdt::Stamp& dot : d.tomb->dots) StampField(3, dot, m);
        StampField(4, d.tomb->outranks, m);
        VarintField(5, d.tomb->outranks_type, m);
      });
      if (d.key.empty() && d.db < 0) VarintField(8, 1, out);
      break;
    }
    case Delta::Kind::kElements: {
      // Collections are rarer and richer than strings: the generated
      // encoder is clear enough here.
      StampField(3, d.stamp, out);
      const ElementsDelta& ed = *d.elements;
      peer::Elements m;
      m.set_type(ed.type);
      m.set_prev(ed.prev);
      for (const ElementOp& op : ed.ops) {
        peer::ElementOp* o = m.add_ops();
        o->set_kind(static_cast<peer::ElementOp::Kind>(op.kind));
        o->set_element(op.element.data(), op.element.size());
        if (!op.value.empty()) o->set_value(op.value.data(), op.value.size());
        for (const crdt::Stamp& r : op.replaced) ToProto(r, o->add_replaced());
        if (op.sub != 0) o->set_sub(op.sub);
        if (op.kind == ElementOp::Kind::kIncrement) {
          const crdt::PnCounter::Delta& c = op.counter;
          ToProto(c.base_stamp, o->mutable_base_stamp());
          o->set_base(c.base);
          o->set_node_id(c.contribution.node);
          o->set_increments(c.contribution.p);
          o->set_decrements(c.contribution.n);
          o->set_epoch(c.contribution.epoch);
        }
      }
      if (ed.ttl) {
        m.set_ttl(true);
        m.set_expire_at_ms(d.expire_at > 0 ? d.expire_at : 0);
      }
      BytesField(9, m.SerializeAsString(), out);
      break;
    }
  }
}

void RawBatch::SetHello(uint32_t origin) {
  MessageField(1, &bytes, [&](std::string* m) { VarintField(1, origin, m); });
}

void RawBatch::SetFirstSeq(uint64_t seq) { VarintField(2, seq, &bytes); }

void RawBatch::AddDelta(std::string_view encoded) {
  BytesField(3, encoded, &bytes);
  deltas++;
}

void RawBatch::SetFlag(uint32_t field) { VarintField(field, 1, &bytes); }

void RawBatch::SetClock(uint64_t clock) { VarintField(7, clock, &bytes); }

void RawBatch::SetLastSeq(uint64_t seq) { VarintField(8, seq, &bytes); }

void RawBatch::AddDep(uint32_t node, uint64_t counter) {
  MessageField(4, &bytes, [&](std::string* m) {
    VarintField(1, node, m);
    VarintField(2, counter, m);
  });
}

}  // namespace lattice::node
