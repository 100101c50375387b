// File: crdt/sequence.h
//
// The list lattice: a sequence CRDT with dense positions (in the Logoot
// family) and observed removes. See docs/consistency.md, "Lists".
//
// Every element carries a Position: a path of (digit, dot) segments, ordered
// lexicographically (a prefix sorts first). The last segment's dot is the
// write that inserted the element, so positions are unique and name the
// element. LPUSH takes a digit below the first element's, RPUSH one above
// the last's, LINSERT a path strictly between two neighbours; concurrent
// inserts at one place get equal digits and are ordered by their dots, so
// every replica keeps all of them, in one order.
//
// A remove names the element's position; the key's CausalContext records
// its dot, so an insert that arrives after its own removal stays removed,
// and no tombstone is kept per element. LSET writes the element's value
// under a new dot (last writer wins between concurrent LSETs; an LSET of an
// element removed concurrently is lost with it, whatever the arrival order). A pop concurrent on two
// nodes hands the same element to both clients (at-least-once) and removes
// it once.
//
// Thread-safety: value type; callers synchronize.
#ifndef LATTICE_CRDT_SEQUENCE_H_
#define LATTICE_CRDT_SEQUENCE_H_

#include <algorithm>
#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <string_view>

#include "absl/container/inlined_vector.h"
#include "crdt/causal_context.h"
#include "crdt/stamp.h"

namespace lattice::crdt {

struct PosSegment {
  int64_t digit = 0;
  Stamp dot;
  friend auto operator<=>(const PosSegment&, const PosSegment&) = default;
};

class Position {
 public:
  Position() = default;
  explicit Position(absl::InlinedVector<PosSegment, 1> path) : path_(std::move(path)) {}

  const absl::InlinedVector<PosSegment, 1>& path() const { return path_; }
  // The write that inserted the element.
  Stamp dot() const { return path_.empty() ? Stamp{} : path_.back().dot; }
  bool empty() const { return path_.empty(); }

  friend bool operator==(const Position&, const Position&) = default;
  friend bool operator<(const Position& a, const Position& b) {
    return std::lexicographical_compare(a.path_.begin(), a.path_.end(), b.path_.begin(),
                                        b.path_.end());
  }

  // A position after every position with `last`'s first digit... precisely:
  // strictly after `last` and before anything a later RPUSH elsewhere would
  // take (one digit up). `last` empty: the first element of a list.
  static Position After(const Position* last, Stamp dot) {
    if (!last) return Position({PosSegment{0, dot}});
    int64_t d = last->path_[0].digit;
    if (d < std::numeric_limits<int64_t>::max()) return Position({PosSegment{d + 1, dot}});
    return Between(last, nullptr, dot);
  }
  static Position Before(const Position* first, Stamp dot) {
    if (!first) return Position({PosSegment{0, dot}});
    int64_t d = first->path_[0].digit;
    if (d > std::numeric_limits<int64_t>::min()) return Position({PosSegment{d - 1, dot}});
    return Between(nullptr, first, dot);
  }

  // A position strictly between `a` and `b` (null: unbounded on that side).
  // REQUIRES: a < b when both are given.
  static Position Between(const Position* a, const Position* b, Stamp dot) {
    constexpr int64_t kStep = int64_t(1) << 32;
    absl::InlinedVector<PosSegment, 1> p;
    if (!a && !b) return Position({PosSegment{0, dot}});
    if (!a) {
      // Below b: one digit under its first segment, or under its suffix.
      for (const PosSegment& s : b->path_) {
        if (s.digit > std::numeric_limits<int64_t>::min()) {
          p.push_back(PosSegment{s.digit - 1, dot});
          return Position(std::move(p));
        }
        p.push_back(s);
      }
      p.push_back(PosSegment{std::numeric_limits<int64_t>::min(), dot});  // unreachable in practice
      return Position(std::move(p));
    }
    size_t i = 0;
    const auto& ap = a->path_;
    if (b) {
      const auto& bp = b->path_;
      while (i < ap.size() && i < bp.size() && ap[i] == bp[i]) p.push_back(ap[i++]);
      if (i == ap.size()) {
        // a is a prefix of b: go under b's next segment.
        Position rest(absl::InlinedVector<PosSegment, 1>(bp.begin() + i, bp.end()));
        Position below = Between(nullptr, &rest, dot);
        for (const PosSegment& s : below.path_) p.push_back(s);
        return Position(std::move(p));
      }
      __int128 gap = static_cast<__int128>(bp[i].digit) - ap[i].digit;
      if (gap > 1) {
        p.push_back(PosSegment{static_cast<int64_t>(ap[i].digit + gap / 2), dot});
        return Position(std::move(p));
      }
      p.push_back(ap[i++]);
    }
    // Above a's remaining suffix, unbounded: any greater continuation.
    for (; i < ap.size(); i++) {
      if (ap[i].digit < std::numeric_limits<int64_t>::max() - kStep) {
        p.push_back(PosSegment{ap[i].digit + kStep, dot});
        return Position(std::move(p));
      }
      p.push_back(ap[i]);
    }
    p.push_back(PosSegment{0, dot});
    return Position(std::move(p));
  }

  // Wire form: varint count, then per segment zigzag digit, counter, node.
  std::string Encode() const;
  static bool Decode(std::string_view in, Position* out);

 private:
  absl::InlinedVector<PosSegment, 1> path_;
};

struct SeqElement {
  Position pos;
  Stamp value_dot;  // the write of the value (the insert, or the last LSET)
  std::string value;
  friend bool operator==(const SeqElement&, const SeqElement&) = default;
};

class Sequence {
 public:
  size_t size() const { return elems_.size(); }
  bool empty() const { return elems_.empty(); }
  const SeqElement& at(size_t i) const { return elems_[i]; }
  const std::deque<SeqElement>& elements() const { return elems_; }

  // ---- local writes (return the element written, for the delta) ----
  const SeqElement& PushBack(std::string value, Stamp dot) {
    elems_.push_back(SeqElement{Position::After(elems_.empty() ? nullptr : &elems_.back().pos, dot),
                                dot, std::move(value)});
    return elems_.back();
  }
  const SeqElement& PushFront(std::string value, Stamp dot) {
    elems_.push_front(
        SeqElement{Position::Before(elems_.empty() ? nullptr : &elems_.front().pos, dot), dot,
                   std::move(value)});
    return elems_.front();
  }
  // Inserts before index i (i == size(): at the end).
  const SeqElement& InsertAt(size_t i, std::string value, Stamp dot) {
    const Position* a = i > 0 ? &elems_[i - 1].pos : nullptr;
    const Position* b = i < elems_.size() ? &elems_[i].pos : nullptr;
    Position p = Position::Between(a, b, dot);
    auto it = elems_.insert(elems_.begin() + static_cast<ptrdiff_t>(i),
                            SeqElement{std::move(p), dot, std::move(value)});
    return *it;
  }
  void Set(size_t i, std::string value, Stamp dot) {
    elems_[i].value = std::move(value);
    elems_[i].value_dot = dot;
  }
  SeqElement RemoveAt(size_t i) {
    SeqElement e = std::move(elems_[i]);
    elems_.erase(elems_.begin() + static_cast<ptrdiff_t>(i));
    return e;
  }

  // ---- remote writes ----
  // Index of the element at `pos`, or -1.
  ptrdiff_t Find(const Position& pos) const {
    auto it = std::lower_bound(elems_.begin(), elems_.end(), pos,
                               [](const SeqElement& e, const Position& p) { return e.pos < p; });
    return it != elems_.end() && it->pos == pos ? it - elems_.begin() : -1;
  }
  // An insert (value_dot == pos.dot()) or an LSET (a newer value_dot) of
  // the element at `pos`. `ctx`: the receiver's context before this write.
  void ApplyPut(const Position& pos, std::string_view value, Stamp value_dot,
                const CausalContext& ctx) {
    auto it = std::lower_bound(elems_.begin(), elems_.end(), pos,
                               [](const SeqElement& e, const Position& p) { return e.pos < p; });
    if (it != elems_.end() && it->pos == pos) {
      if (it->value_dot < value_dot) {
        it->value.assign(value);
        it->value_dot = value_dot;
      }
      return;
    }
    // Not here: removed already (its insert was seen), or new. An LSET that
    // overtook the insert of its element inserts it with the LSET's value:
    // the insert, arriving later, finds it and loses to the newer value.
    if (ctx.Covers(pos.dot())) return;
    elems_.insert(it, SeqElement{pos, value_dot, std::string(value)});
  }
  bool ApplyRemove(const Position& pos) {
    ptrdiff_t i = Find(pos);
    if (i < 0) return false;
    elems_.erase(elems_.begin() + i);
    return true;
  }
  // Merges a whole remote state: an element survives if both sides have
  // it, or one side has it and the other side's context has not seen it.
  bool MergeState(const Sequence& other, const CausalContext& other_ctx, const CausalContext& ctx) {
    std::deque<SeqElement> out;
    bool changed = false;
    size_t i = 0, j = 0;
    while (i < elems_.size() || j < other.elems_.size()) {
      bool take_mine = j >= other.elems_.size() ||
                       (i < elems_.size() && elems_[i].pos < other.elems_[j].pos);
      bool take_theirs = i >= elems_.size() ||
                         (j < other.elems_.size() && other.elems_[j].pos < elems_[i].pos);
      if (take_mine) {
        if (!other_ctx.Covers(elems_[i].pos.dot())) {
          out.push_back(std::move(elems_[i]));
        } else {
          changed = true;
        }
        i++;
      } else if (take_theirs) {
        if (!ctx.Covers(other.elems_[j].pos.dot())) {
          out.push_back(other.elems_[j]);
          changed = true;
        }
        j++;
      } else {
        SeqElement e = std::move(elems_[i]);
        if (e.value_dot < other.elems_[j].value_dot) {
          e.value = other.elems_[j].value;
          e.value_dot = other.elems_[j].value_dot;
          changed = true;
        }
        out.push_back(std::move(e));
        i++;
        j++;
      }
    }
    elems_.swap(out);
    return changed;
  }
  template <typename Pred>
  size_t DropIf(Pred dead) {
    size_t before = elems_.size();
    elems_.erase(std::remove_if(elems_.begin(), elems_.end(),
                                [&](const SeqElement& e) { return dead(e.pos.dot()); }),
                 elems_.end());
    return before - elems_.size();
  }
  // Mutable access for local commands that rewrite in place (LTRIM, LREM).
  std::deque<SeqElement>& mutable_elements() { return elems_; }

  friend bool operator==(const Sequence&, const Sequence&) = default;

 private:
  std::deque<SeqElement> elems_;  // ordered by pos
};

inline std::string Position::Encode() const {
  std::string out;
  auto varint = [&](uint64_t v) {
    while (v >= 0x80) {
      out.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<char>(v));
  };
  varint(path_.size());
  for (const PosSegment& s : path_) {
    varint((static_cast<uint64_t>(s.digit) << 1) ^ static_cast<uint64_t>(s.digit >> 63));
    varint(s.dot.counter);
    // An element dot's sub rides above the node id (absent when zero).
    varint(static_cast<uint64_t>(s.dot.node) | (static_cast<uint64_t>(s.dot.sub) << 32));
  }
  return out;
}

inline bool Position::Decode(std::string_view in, Position* out) {
  size_t i = 0;
  auto varint = [&](uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (i >= in.size()) return false;
      uint8_t b = static_cast<uint8_t>(in[i++]);
      *v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  };
  uint64_t n;
  if (!varint(&n) || n == 0 || n > 1024) return false;
  absl::InlinedVector<PosSegment, 1> path;
  for (uint64_t k = 0; k < n; k++) {
    uint64_t z, c, node;
    if (!varint(&z) || !varint(&c) || !varint(&node)) return false;
    int64_t digit = static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1));
    path.push_back(PosSegment{
        digit, Stamp{c, static_cast<NodeId>(node), static_cast<uint32_t>(node >> 32)}});
  }
  if (i != in.size()) return false;
  *out = Position(std::move(path));
  return true;
}

}  // namespace lattice::crdt

#endif  // LATTICE_CRDT_SEQUENCE_H_
