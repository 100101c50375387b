// File: node/storage/list.h
//
// The value of a list key: a crdt::Sequence (dense positions, observed
// removes; crdt/sequence.h) behind the Collection interface. Every change
// goes through this class so the Merkle digest stays in step. Redis 7.0
// reports every list as "quicklist", so that is the only encoding name.
//
// Thread-safety: owned by the Entry, used on the shard's thread.
#ifndef LATTICE_NODE_STORAGE_LIST_H_
#define LATTICE_NODE_STORAGE_LIST_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "crdt/sequence.h"
#include "node/storage/collection.h"

namespace lattice::node {

class ListObject final : public Collection {
 public:
  ListObject() : Collection(ObjType::kList, CollEnc::kQuicklist) {}

  size_t size() const override { return seq_.size(); }
  uint64_t digest() const override { return digest_; }
  void EnableDigest() override;
  size_t MemoryUsage() const override;
  std::unique_ptr<Collection> Clone() const override {
    return std::make_unique<ListObject>(*this);
  }
  bool DropIf(const std::function<bool(const crdt::Stamp&)>& dead) override;
  bool ApplyOps(const peer::Elements& m, crdt::Stamp dot) override;
  bool MergeState(const peer::Elements& m, const crdt::CausalContext& their_ctx) override;
  void StateToProto(peer::Elements* m) const override;
  void Normalize() override {}
  void Restamp(crdt::Stamp dot) override;

  const crdt::SeqElement& at(size_t i) const { return seq_.at(i); }
  const crdt::Sequence& seq() const { return seq_; }

  // Local writes; each returns the element as written (for the delta).
  const crdt::SeqElement& PushBack(std::string_view v, crdt::Stamp dot);
  const crdt::SeqElement& PushFront(std::string_view v, crdt::Stamp dot);
  const crdt::SeqElement& InsertAt(size_t i, std::string_view v, crdt::Stamp dot);
  void Set(size_t i, std::string_view v, crdt::Stamp dot);
  crdt::SeqElement RemoveAt(size_t i);

 private:
  static uint64_t DigestOf(const crdt::SeqElement& e);

  crdt::Sequence seq_;
  bool digesting_ = false;
  uint64_t digest_ = 0;
};

}  // namespace lattice::node

#endif  // LATTICE_NODE_STORAGE_LIST_H_
