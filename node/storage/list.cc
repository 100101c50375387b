#include "node/storage/list.h"

#include "node/stamp_proto.h"
#include "node/storage/stable_hash.h"
#include "proto/peer.pb.h"

namespace lattice::node {

uint64_t ListObject::DigestOf(const crdt::SeqElement& e) {
  uint64_t h = StableHash64(e.pos.Encode());
  h ^= Mix64(StableHash64(e.value) + 0x51ED270B);
  h ^= StampDigest(e.value_dot);
  return Mix64(h);
}

void ListObject::EnableDigest() {
  if (digesting_) return;
  digesting_ = true;
  digest_ = 0;
  for (const auto& e : seq_.elements()) digest_ += DigestOf(e);
}

size_t ListObject::MemoryUsage() const {
  size_t n = sizeof(*this);
  for (const auto& e : seq_.elements()) {
    n += sizeof(e) + (e.value.size() > 15 ? e.value.capacity() + 1 : 0) +
         (e.pos.path().size() > 1 ? e.pos.path().size() * sizeof(crdt::PosSegment) : 0);
  }
  return n;
}

const crdt::SeqElement& ListObject::PushBack(std::string_view v, crdt::Stamp dot) {
  const crdt::SeqElement& e = seq_.PushBack(std::string(v), dot);
  if (digesting_) digest_ += DigestOf(e);
  return e;
}

const crdt::SeqElement& ListObject::PushFront(std::string_view v, crdt::Stamp dot) {
  const crdt::SeqElement& e = seq_.PushFront(std::string(v), dot);
  if (digesting_) digest_ += DigestOf(e);
  return e;
}

const crdt::SeqElement& ListObject::InsertAt(size_t i, std::string_view v, crdt::Stamp dot) {
  const crdt::SeqElement& e = seq_.InsertAt(i, std::string(v), dot);
  if (digesting_) digest_ += DigestOf(e);
  return e;
}

void ListObject::Set(size_t i, std::string_view v, crdt::Stamp dot) {
  if (digesting_) digest_ -= DigestOf(seq_.at(i));
  seq_.Set(i, std::string(v), dot);
  if (digesting_) digest_ += DigestOf(seq_.at(i));
}

crdt::SeqElement ListObject::RemoveAt(size_t i) {
  if (digesting_) digest_ -= DigestOf(seq_.at(i));
  return seq_.RemoveAt(i);
}

bool ListObject::DropIf(const std::function<bool(const crdt::Stamp&)>& dead) {
  size_t gone = seq_.DropIf(dead);
  if (gone && digesting_) {
    digesting_ = false;
    EnableDigest();
  }
  return gone > 0;
}

bool ListObject::ApplyOps(const peer::Elements& m, crdt::Stamp dot) {
  bool changed = false;
  for (const peer::ElementOp& op : m.ops()) {
    crdt::Position pos;
    if (!crdt::Position::Decode(op.element(), &pos)) continue;  // validated on receipt
    ptrdiff_t i = seq_.Find(pos);
    if (digesting_ && i >= 0) digest_ -= DigestOf(seq_.at(static_cast<size_t>(i)));
    if (op.kind() == peer::ElementOp::PUT) {
      seq_.ApplyPut(pos, op.value(), OpDot(dot, op), ctx);
    } else if (op.kind() == peer::ElementOp::REMOVE) {
      seq_.ApplyRemove(pos);
    }
    ptrdiff_t j = seq_.Find(pos);
    if (digesting_ && j >= 0) digest_ += DigestOf(seq_.at(static_cast<size_t>(j)));
    changed = true;
  }
  return changed;
}

bool ListObject::MergeState(const peer::Elements& m, const crdt::CausalContext& their_ctx) {
  crdt::Sequence theirs;
  auto& elems = theirs.mutable_elements();
  for (const peer::ElementState& es : m.elements()) {
    crdt::Position pos;
    if (es.versions_size() != 1 || !crdt::Position::Decode(es.element(), &pos)) continue;
    elems.push_back(crdt::SeqElement{std::move(pos), FromProto(es.versions(0).dot()),
                                     es.versions(0).value()});
  }
  std::sort(elems.begin(), elems.end(),
            [](const crdt::SeqElement& a, const crdt::SeqElement& b) { return a.pos < b.pos; });
  elems.erase(std::unique(elems.begin(), elems.end(),
                          [](const crdt::SeqElement& a, const crdt::SeqElement& b) {
                            return a.pos == b.pos;
                          }),
              elems.end());
  bool changed = seq_.MergeState(theirs, their_ctx, ctx);
  if (changed && digesting_) {
    digesting_ = false;
    EnableDigest();
  }
  return changed;
}

void ListObject::StateToProto(peer::Elements* m) const {
  for (const auto& e : seq_.elements()) {
    peer::ElementState* es = m->add_elements();
    es->set_element(e.pos.Encode());
    peer::ElementVersion* v = es->add_versions();
    ToProto(e.value_dot, v->mutable_dot());
    v->set_value(e.value);
  }
}

void ListObject::Restamp(crdt::Stamp dot) {
  // A copy is a new list written at `dot`: fresh positions, one per
  // element, in order (all share the dot, so digits tell them apart).
  crdt::Sequence fresh;
  int64_t d = 0;
  for (const auto& e : seq_.elements()) {
    crdt::Stamp el{dot.counter, dot.node, static_cast<uint32_t>(d + 1)};  // its own dot
    fresh.mutable_elements().push_back(
        crdt::SeqElement{crdt::Position({crdt::PosSegment{d++, el}}), el, e.value});
  }
  seq_ = std::move(fresh);
  ctx = crdt::CausalContext();
  floor = {};
  ttl_stamp = dot;
  if (digesting_) {
    digesting_ = false;
    EnableDigest();
  }
}

}  // namespace lattice::node
