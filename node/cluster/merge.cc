#include "node/cluster/merge.h"

#include <algorithm>

namespace lattice::node {

namespace {

// The key's tombstone merged with its database's flush tombstone, as far as
// the fate of one write is concerned.
struct Fate {
  crdt::Tombstone* tomb = nullptr;
  const crdt::Tombstone* flush = nullptr;

  bool Covers(const crdt::Stamp& s) const {
    return (tomb && tomb->Covers(s)) || (flush && s < flush->stamp);
  }
  // A write no greater than one already killed can never be the key's
  // greatest write again.
  bool Outranked(const crdt::Stamp& s) const { return tomb && s <= tomb->max_dead; }
};

Fate FateOf(Db& db, std::string_view key) { return Fate{db.FindTomb(key), db.flush_tomb()}; }

// `s` is the key's greatest write so far but a delete killed it: the key is
// gone, and the tombstone remembers `s` so that smaller writes stay dead.
bool Kill(Db& db, std::string_view key, Fate& fate, const crdt::Stamp& s, Entry* e) {
  crdt::Tombstone& t = fate.tomb ? *fate.tomb : db.TombFor(key);
  t.max_dead = std::max(t.max_dead, s);
  if (e) {
    db.Delete(key);
    return true;
  }
  return false;
}

}  // namespace

bool MergeAssign(Db& db, std::string_view key, crdt::Stamp stamp, std::string_view value,
                 int64_t expire_at, int64_t now_ms, uint32_t lru) {
  // An assignment whose TTL passed in transit expired everywhere already;
  // it still outranks smaller writes.
  if (expire_at >= 0 && expire_at <= now_ms) {
    Entry* e = db.Find(key, now_ms);
    if (e && e->stamp() < stamp) db.Delete(key);
    db.RememberDead(key, stamp);
    return e != nullptr && !db.FindRaw(key);
  }
  Fate fate = FateOf(db, key);
  if (fate.Outranked(stamp)) return false;
  Entry* e = db.Find(key, now_ms);
  if (e && stamp <= e->stamp()) return false;
  if (fate.Covers(stamp)) return Kill(db, key, fate, stamp, e);
  db.SetString(key, StringValue::Encode(value), stamp, expire_at, lru);
  return true;
}

bool MergeCounter(Db& db, std::string_view key, crdt::Stamp base_stamp, int64_t base,
                  int64_t expire_at, const crdt::PnCounter::Contribution& c, int64_t now_ms,
                  uint32_t lru) {
  if (expire_at >= 0 && expire_at <= now_ms) {
    Entry* e = db.Find(key, now_ms);
    if (e && e->stamp() < base_stamp) db.Delete(key);
    if (!base_stamp.IsZero()) db.RememberDead(key, base_stamp);
    return e != nullptr && !db.FindRaw(key);
  }
  Fate fate = FateOf(db, key);
  if (fate.Outranked(base_stamp)) return false;
  Entry* e = db.Find(key, now_ms);
  crdt::PnCounter::Delta d{base, base_stamp, c};
  if (e && base_stamp < e->stamp()) return false;
  if (e && base_stamp == e->stamp()) {
    if (e->enc() == Enc::kCounter) {
      int64_t before = e->counter()->value();
      db.MutateCounter(e, [&](crdt::PnCounter& c) { c.Merge(d); });
      return e->counter()->value() != before;
    }
    // The assignment that set this base arrived first: the key becomes a
    // counter on that base.
    auto* counter = new crdt::PnCounter(base, base_stamp);
    counter->Merge(d);
    db.SetString(key, StringValue{Enc::kCounter, {}, 0, counter}, base_stamp, Db::kKeepTtl, lru);
    return true;
  }
  if (fate.Covers(base_stamp)) return Kill(db, key, fate, base_stamp, e);
  auto* counter = new crdt::PnCounter(base, base_stamp);
  counter->Merge(d);
  db.SetString(key, StringValue{Enc::kCounter, {}, 0, counter}, base_stamp, expire_at, lru);
  return true;
}

bool MergeRemove(Db& db, std::string_view key, const crdt::Tombstone& t, int64_t now_ms) {
  crdt::Tombstone& tomb = db.TombFor(key);
  tomb.Merge(t);
  Entry* e = db.Find(key, now_ms);
  if (!e) return false;
  crdt::Stamp s = e->stamp();
  bool covered = tomb.Covers(s);
  if (!covered) return false;
  tomb.max_dead = std::max(tomb.max_dead, s);
  db.Delete(key);
  return true;
}

// A flush is a range delete ordered by stamp: it kills every write stamped
// below it, seen or not, so it needs no per-key memory (a FLUSHALL of a
// million keys must not leave a million tombstones behind).
void MergeFlush(Db& db, const crdt::Tombstone& t) {
  crdt::Tombstone& flush = db.MutableFlushTomb();
  flush.Merge(t);
  std::vector<std::string> doomed;
  db.ForEach([&](const Entry& e) {
    if (e.stamp() < flush.stamp) doomed.emplace_back(e.key());
  });
  for (const std::string& key : doomed) db.Delete(key);
}

crdt::Stamp FreshCounterBase(Db& db, std::string_view key, crdt::Stamp fresh) {
  const crdt::Tombstone* tomb = db.FindTomb(key);
  const crdt::Tombstone* flush = db.flush_tomb();
  if (!tomb && !flush) return {};
  crdt::Stamp newest{};
  if (tomb) newest = std::max(newest, tomb->stamp);
  if (flush) newest = std::max(newest, flush->stamp);
  if (newest.IsZero() || (tomb && newest <= tomb->max_dead)) return fresh;
  return newest;
}

}  // namespace lattice::node
