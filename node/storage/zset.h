// File: node/storage/zset.h
//
// The value of a sorted-set key. The lattice is the observed-remove map of
// crdt/or_map.h with a double per version (the score a ZADD wrote) and a
// crdt::ScoreCounter on the greatest version once ZINCRBY ran on a
// replicating node: membership is add-wins, a ZADD's score is
// last-writer-wins by dot, ZINCRBY contributions add up
// (docs/consistency.md, "Collections").
//
// Beside the map, an order-statistic index of (visible score, member): a
// skiplist with spans, as Redis's zskiplist, so rank and range queries are
// O(log n) whatever the encoding. Every change of a member's visible score
// goes through ZsetObject, which keeps the index in step with the map.
//
// Encodings are the names Redis reports: "listpack" up to
// zset-max-listpack-entries members of at most zset-max-listpack-value
// bytes, "skiplist" beyond, converted one way only. Both reply in the same
// (score, member bytes) order, as Redis's do. One listpack quirk is kept:
// Redis stores a listpack score -0 as the integer 0, so a listpack zset
// never holds -0 (a skiplist one does).
//
// On the wire (proto ElementOp.value, ElementVersion.value) a score is its
// IEEE-754 binary64 bit pattern, 8 bytes little-endian: exact, and the same
// bits on every node. A ScoreCounter travels in the PnCounter fields (base,
// increments, decrements, counter_base) as the bit patterns of its doubles.
//
// Thread-safety: owned by the Entry, used on the shard's thread.
#ifndef LATTICE_NODE_STORAGE_ZSET_H_
#define LATTICE_NODE_STORAGE_ZSET_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "crdt/or_map.h"
#include "crdt/pn_counter.h"
#include "crdt/score_counter.h"
#include "node/storage/collection.h"

namespace lattice::node {

struct ZsetDigest {
  static uint64_t Of(const crdt::OrElement<double, crdt::ScoreCounter>& e);
};
using ZsetMap = crdt::OrMap<double, ZsetDigest, crdt::ScoreCounter>;

// The wire form of a score (see above) and back; Decode refuses anything
// but 8 bytes holding a number (not NaN).
std::string EncodeScore(double score);
bool DecodeScore(std::string_view bytes, double* out);
// A ScoreCounter delta in the PnCounter fields of the wire, and back.
crdt::PnCounter::Delta ScoreDeltaToWire(const crdt::ScoreCounter::Delta& d);
bool ScoreDeltaFromWire(const crdt::PnCounter::Delta& w, crdt::ScoreCounter::Delta* out);

// Order by (score, member bytes), as Redis's zslInsert and listpack.
inline bool ZLess(double sa, std::string_view ma, double sb, std::string_view mb) {
  return sa < sb || (sa == sb && ma < mb);
}

// A skiplist of (score, member) with spans (Redis's zskiplist): insert,
// erase, rank and seek in O(log n) expected. Members are unique; the
// caller (ZsetObject) guarantees it.
class ZOrder {
 public:
  struct Node;
  struct Level {
    Node* forward = nullptr;
    size_t span = 0;
  };
  // One allocation: this header, `height` levels, then the member's bytes.
  // The levels follow the score closely, so a search step touches one
  // cache line per node, as in Redis's zskiplistNode.
  struct Node {
    double score;
    Node* backward = nullptr;
    uint32_t member_len = 0;  // the member's bytes follow the levels
    int32_t height = 0;
    Level* lv() { return reinterpret_cast<Level*>(this + 1); }
    const Level* lv() const { return reinterpret_cast<const Level*>(this + 1); }
    std::string_view member() const {
      return {reinterpret_cast<const char*>(lv() + height), member_len};
    }
    const Node* next() const { return lv()[0].forward; }
    const Node* prev() const { return backward; }
  };

  ZOrder();
  ~ZOrder();
  ZOrder(const ZOrder& o);
  ZOrder& operator=(const ZOrder& o);

  size_t size() const { return length_; }
  const Node* first() const { return head_->lv()[0].forward; }
  const Node* last() const { return tail_; }

  void Insert(double score, std::string_view member);
  bool Erase(double score, std::string_view member);
  // Changes a member's score, moving its node. False if it is not there.
  bool Move(double from, double to, std::string_view member);
  void Clear();
  // 0-based rank of (score, member). REQUIRES: present.
  size_t Rank(double score, std::string_view member) const;
  // The node at 0-based `rank`, or nullptr.
  const Node* At(size_t rank) const;
  // The first node for which before(node) is false, and its rank (size()
  // and nullptr if none). REQUIRES: before is true on a prefix of the order
  // (a monotone predicate).
  std::pair<const Node*, size_t> Seek(const std::function<bool(const Node&)>& before) const;
  size_t MemoryUsage() const;

 private:
  static constexpr int kMaxLevel = 32;
  static constexpr int kHeadLevels = 2;
  static Node* NewNode(int height, double score, std::string_view member);
  static void FreeNode(Node* n);
  // Links node x (its score, member and height set) in order / takes the
  // node of (score, member) out of the list without freeing it.
  void Link(Node* x);
  Node* Unlink(double score, std::string_view member);
  int RandomLevel();

  Node* head_;
  Node* tail_ = nullptr;
  size_t length_ = 0;
  int level_ = 1;
  uint64_t rng_ = 0x2545F4914F6CDD1DULL;
};

class ZsetObject final : public Collection {
 public:
  using Dots = ZsetMap::Dots;

  ZsetObject();
  ZsetObject(const ZsetObject& o) = default;

  size_t size() const override { return map_.size(); }
  uint64_t digest() const override { return map_.digest(); }
  void EnableDigest() override { map_.EnableDigest(); }
  size_t MemoryUsage() const override {
    return sizeof(*this) + map_.MemoryUsage() + order_.MemoryUsage();
  }
  std::unique_ptr<Collection> Clone() const override { return std::make_unique<ZsetObject>(*this); }
  bool DropIf(const std::function<bool(const crdt::Stamp&)>& dead) override;
  bool ApplyOps(const peer::Elements& m, crdt::Stamp dot) override;
  bool MergeState(const peer::Elements& m, const crdt::CausalContext& their_ctx) override;
  void StateToProto(peer::Elements* m) const override;
  void Normalize() override;
  void Restamp(crdt::Stamp dot) override;

  const ZsetMap& map() const { return map_; }
  const ZOrder& order() const { return order_; }

  // The visible score of map element i: its greatest version's score plus
  // the counter increments on it.
  double Score(size_t i) const;
  // The score of `member`; false if it is not a member.
  bool ScoreOf(std::string_view member, double* out) const;

  // ---- local writes (the command's dot; the order index kept in step) ----

  // zsetAdd's conversion check before a write of a member of `len` bytes
  // that adds `added` members: a listpack that would outgrow its limits
  // becomes a skiplist first.
  void PrepareAdd(size_t len, size_t added);
  // Sets `member` to `score` (-0 becomes 0 in a listpack, as Redis stores
  // it) with one version at `dot`. Returns the versions it replaced (none
  // for a new member).
  Dots Set(std::string_view member, double score, crdt::Stamp dot);
  // Removes `member`; returns its versions. REQUIRES: a member.
  Dots Remove(std::string_view member);
  // Adds `by` to `member`'s score through its counter (contribution
  // (node, epoch)). REQUIRES: a member.
  crdt::ScoreCounter::Delta Increment(std::string_view member, crdt::NodeId node, uint64_t epoch,
                                      double by);

  // Whether a member of this length forces the skiplist form.
  static bool TooLong(size_t len);
  // Whether `n` members of at most `max_len` bytes fit a listpack.
  static bool FitsListpack(size_t n, size_t max_len);

 private:
  // Runs fn, a change of element `name` in the map, and moves the element
  // in the order index to its new visible score (or out of it).
  template <typename F>
  void Track(std::string_view name, F fn);
  void RebuildOrder();

  ZsetMap map_;
  ZOrder order_;
};

}  // namespace lattice::node

#endif  // LATTICE_NODE_STORAGE_ZSET_H_
