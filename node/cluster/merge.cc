#include "node/cluster/merge.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "node/stamp_proto.h"
#include "node/storage/hll.h"

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

// Deletes collection `e` if its last element went, keeping what it had seen.
bool DropIfEmpty(Db& db, Entry* e) {
  if (e->collection()->size() > 0) return false;
  std::string key(e->key());
  Db::RememberContext(*e, &db.TombFor(key));
  db.Delete(key);
  return true;
}

crdt::CausalContext ContextFromProto(const peer::CausalContext& p) {
  crdt::CausalContext c;
  for (const peer::VersionEntry& h : p.heads()) c.Add(crdt::Stamp{h.counter(), h.node_id()}, 0);
  for (const peer::CloudDot& d : p.cloud()) {
    c.Add(FromProto(d.dot()), d.prev_known() ? d.prev() : crdt::CausalContext::kUnknownPrev);
  }
  return c;
}

// The parts of a HyperLogLog as they stand: a merged entry's parts, or the
// entry itself if it is an HLL (a plain write whose bytes are an HLL counts
// as a part too). Raises *floor to a plain entry's stamp.
std::vector<HllPart> HllPartsOf(Db& db, const Entry& e, crdt::Stamp* floor) {
  std::vector<HllPart> parts;
  int64_t at = e.has_expire() ? e.expire_at() : -1;
  if (e.hll_merged()) {
    const HllState* h = db.FindHll(e.key());
    if (h) *floor = std::max(*floor, h->floor);
    if (h && !h->parts.empty()) return h->parts;
    parts.push_back(HllPart{e.stamp(), at, std::string(e.bytes())});
    return parts;
  }
  *floor = std::max(*floor, e.stamp());
  if (!e.is_int() && !e.is_collection() && hll::IsHllString(e.bytes())) {
    parts.push_back(HllPart{e.stamp(), at, std::string(e.bytes())});
  }
  return parts;
}

// Stores what survives of `parts` as key's value: a part lives if no
// delete saw it, no flush is above it, it is not below `floor` and no
// killed write outranks it; of the living, one newer with registers no
// smaller replaces another. One part: its bytes as written. Several: a
// dense HLL of their register-wise max, stamped with the newest. None:
// the key is gone, its newest part remembered as dead. Returns false if
// nothing survives.
bool StoreHll(Db& db, std::string_view key, crdt::Stamp floor, std::vector<HllPart> parts,
              uint32_t lru) {
  Fate fate = FateOf(db, key);
  crdt::Stamp top{};
  for (const HllPart& p : parts) top = std::max(top, p.stamp);
  // A delete kills every part stamped before it, seen or not, as a plain
  // write does: a rule of stamps alone, so a part that another newer part
  // replaced (its registers no larger) can never be needed again.
  auto killed = [&](const HllPart& p) {
    return (fate.tomb && p.stamp < fate.tomb->stamp) || fate.Covers(p.stamp);
  };
  if (fate.tomb) {
    for (const HllPart& p : parts) {
      if (killed(p)) fate.tomb->max_dead = std::max(fate.tomb->max_dead, p.stamp);
    }
  }
  auto dead = [&](const HllPart& p) {
    return p.stamp < floor || killed(p) || fate.Outranked(p.stamp);
  };
  parts.erase(std::remove_if(parts.begin(), parts.end(), dead), parts.end());
  if (parts.empty()) {
    if (!top.IsZero()) db.TombFor(key).max_dead = std::max(db.TombFor(key).max_dead, top);
    db.Delete(key);
    return false;
  }
  std::sort(parts.begin(), parts.end(),
            [](const HllPart& a, const HllPart& b) { return a.stamp < b.stamp; });
  if (parts.size() > 1) {
    std::vector<std::vector<uint8_t>> regs(parts.size(), std::vector<uint8_t>(hll::kRegisters));
    for (size_t i = 0; i < parts.size(); i++) hll::MaxInto(regs[i].data(), parts[i].bytes);
    std::vector<bool> drop(parts.size(), false);
    for (size_t i = 0; i < parts.size(); i++) {
      for (size_t j = i + 1; j < parts.size() && !drop[i]; j++) {
        if (drop[j]) continue;
        bool covered = true;
        for (int r = 0; r < hll::kRegisters && covered; r++) covered = regs[i][r] <= regs[j][r];
        drop[i] = covered;
      }
    }
    std::vector<HllPart> kept;
    std::vector<uint8_t> max(hll::kRegisters, 0);
    for (size_t i = 0; i < parts.size(); i++) {
      if (drop[i]) continue;
      for (int r = 0; r < hll::kRegisters; r++) max[r] = std::max(max[r], regs[i][r]);
      kept.push_back(std::move(parts[i]));
    }
    parts = std::move(kept);
    if (parts.size() > 1) {
      const HllPart& newest = parts.back();
      std::string value = hll::DenseOf(max.data());
      db.SetHll(key, value, newest.stamp, newest.expire_at, lru, HllState{floor, std::move(parts)});
      return true;
    }
  }
  HllPart& only = parts.front();
  std::string value = std::move(only.bytes);
  db.SetHll(key, value, only.stamp, only.expire_at, lru, HllState{floor, {}});
  return true;
}

}  // namespace

bool MergeHll(Db& db, std::string_view key, crdt::Stamp stamp, std::string_view value,
              int64_t expire_at, crdt::Stamp floor, int64_t now_ms, uint32_t lru) {
  if (!hll::IsHllString(value) || (expire_at >= 0 && expire_at <= now_ms)) {
    // Not an HLL after all (a corrupted one): an assignment like any other.
    // Expired in transit: as an assignment, it outranks smaller writes.
    return MergeAssign(db, key, stamp, value, expire_at, now_ms, lru);
  }
  // A part a delete saw still arrives: it outranks the parts below it
  // (StoreHll kills those too), as it did where it arrived first.
  Fate fate = FateOf(db, key);
  if (fate.Outranked(stamp)) return false;
  Entry* e = db.Find(key, now_ms);
  std::vector<HllPart> parts;
  if (e && e->is_collection()) {
    if (stamp < e->stamp()) {
      StringLostToCollection(db, e, stamp);
      return false;
    }
    floor = std::max(floor, e->stamp());
  } else if (e) {
    if (!e->hll_merged() && stamp < e->stamp()) return false;  // a newer plain write
    if (e->stamp() == stamp) return false;                     // already here
    if (const HllState* h = e->hll_merged() ? db.FindHll(key) : nullptr) {
      for (const HllPart& p : h->parts) {
        if (p.stamp == stamp) return false;
      }
    }
    parts = HllPartsOf(db, *e, &floor);
  } else if (fate.tomb && fate.tomb->outranks_type != 0) {
    // A collection, now gone, was written after this part: it lost to it;
    // written before: it is this HLL's floor.
    if (stamp < fate.tomb->outranks) {
      fate.tomb->max_dead = std::max(fate.tomb->max_dead, stamp);
      return false;
    }
    floor = std::max(floor, fate.tomb->outranks);
  }
  if (stamp < floor) return false;
  parts.push_back(HllPart{stamp, expire_at, std::string(value)});
  return StoreHll(db, key, floor, std::move(parts), lru);
}

void HllLostTo(Db& db, Entry* e, crdt::Stamp stamp, uint32_t lru) {
  crdt::Stamp floor = stamp;
  std::string key(e->key());
  std::vector<HllPart> parts = HllPartsOf(db, *e, &floor);
  floor = std::max(floor, stamp);
  StoreHll(db, key, floor, std::move(parts), lru);
}

void StringLostToCollection(Db& db, Entry* e, crdt::Stamp stamp) {
  db.MutateCollection(e, [&](Collection& c) {
    c.floor = std::max(c.floor, stamp);
    c.DropIf([&](const crdt::Stamp& dot) { return dot < stamp; });
    return 0;
  });
  DropIfEmpty(db, e);
}

bool MergeElements(Db& db, std::string_view key, crdt::Stamp stamp, const peer::Elements& m,
                   int64_t now_ms, uint32_t lru) {
  ObjType type = static_cast<ObjType>(m.type());
  Fate fate = FateOf(db, key);
  Entry* e = db.Find(key, now_ms);
  std::unique_ptr<Collection> fresh;
  crdt::Stamp floor{};
  if (e && (!e->is_collection() || e->type() != type)) {
    // Another type holds the key: the type of the newest write wins, and
    // of this type only what was written after the other type's last write
    // survives.
    if (stamp < e->stamp()) {
      if (e->is_collection()) {
        StringLostToCollection(db, e, stamp);  // may delete e
      } else if (e->hll_merged()) {
        HllLostTo(db, e, stamp, lru);
      }
      return false;
    }
    floor = e->stamp();
    e = nullptr;
  }
  if (!e && fate.tomb && fate.tomb->outranks_type != 0 &&
      fate.tomb->outranks_type != static_cast<uint8_t>(type)) {
    // A collection of another type, now gone, was written last: if after
    // this change, this change lost to it; if before, it is this
    // collection's floor.
    if (stamp < fate.tomb->outranks) {
      fate.tomb->max_dead = std::max(fate.tomb->max_dead, stamp);
      return false;
    }
    floor = std::max(floor, fate.tomb->outranks);
  }
  Collection* c = e ? e->collection() : nullptr;
  if (!c) {
    fresh = NewCollection(type);
    if (!fresh) return false;  // rejected by validation; never reached
    c = fresh.get();
    // What the key saw before it held this collection stays dead.
    if (fate.tomb) {
      c->ctx.MergeTombstone(*fate.tomb);
      c->floor = std::max(fate.tomb->max_dead, floor);
    } else {
      c->floor = floor;
    }
  }
  // A change whose dot was seen still runs: its dot may be known only as
  // replaced by a later change that arrived first, and what it replaced
  // must go all the same. Each step is idempotent.
  auto apply = [&](Collection& col) {
    bool changed = false;
    if (m.state()) {
      crdt::CausalContext theirs = ContextFromProto(m.context());
      col.floor = std::max(col.floor, FromProto(m.floor()));
      changed = col.MergeState(m, theirs);
      col.ctx.Merge(theirs);
    } else {
      bool dead = stamp < col.floor || (fate.flush && stamp < fate.flush->stamp);
      if (!dead) changed = col.ApplyOps(m, stamp);
      col.ctx.Add(stamp, m.prev());
      for (const peer::ElementOp& op : m.ops()) {
        for (const peer::Stamp& r : op.replaced()) col.ctx.AddDot(FromProto(r));
      }
    }
    // Versions below the floor or a flush are dead whatever carried them.
    crdt::Stamp below = col.floor;
    if (fate.flush) below = std::max(below, fate.flush->stamp);
    if (!below.IsZero()) col.DropIf([&](const crdt::Stamp& dot) { return dot < below; });
    col.Normalize();
    return changed;
  };
  // The TTL is a register of its own: the newest change wins.
  auto ttl_change = [&](Entry* entry) {
    Collection& col = *entry->collection();
    crdt::Stamp ts = m.state() ? FromProto(m.ttl_stamp()) : (m.ttl() ? stamp : crdt::Stamp{});
    if (ts.IsZero() || !(col.ttl_stamp < ts)) return entry;
    col.ttl_stamp = ts;
    return db.SetExpire(entry, m.expire_at_ms() > 0 ? m.expire_at_ms() : -1);
  };
  if (fresh) {
    bool changed = apply(*fresh);
    if (fresh->size() == 0) {
      // Nothing of this collection survives; the other type it replaced
      // is gone all the same (the newer write was of this type).
      crdt::Tombstone& t = db.TombFor(key);
      t.max_dead = std::max(t.max_dead, fresh->floor);
      t.Merge(fresh->ctx.ToTombstone());
      t.stamp = std::max(t.stamp, stamp);
      if (t.outranks < stamp) {
        t.outranks = stamp;
        t.outranks_type = static_cast<uint8_t>(type);
      }
      Entry* old = db.Find(key, now_ms);
      if (old) db.Delete(key);
      return old != nullptr;
    }
    (void)changed;
    // The key's newest write may be one of this collection's that arrived
    // while the key was empty.
    crdt::Stamp last = stamp;
    if (fate.tomb && fate.tomb->outranks_type == static_cast<uint8_t>(type)) {
      last = std::max(last, fate.tomb->outranks);
    }
    Entry* n = db.SetString(key, StringValue::Object(fresh.release()), last, -1, lru);
    n = ttl_change(n);
    if (n->has_expire() && n->expire_at() <= now_ms) {
      Db::RememberContext(*n, &db.TombFor(key));
      db.Delete(key);
    }
    return true;
  }
  bool changed = db.MutateCollection(e, apply);
  if (e->stamp() < stamp) db.SetStamp(e, stamp);
  if (DropIfEmpty(db, e)) return true;
  Entry* n = ttl_change(e);
  if (n->has_expire() && n->expire_at() <= now_ms) {
    Db::RememberContext(*n, &db.TombFor(key));
    db.Delete(key);
    return true;
  }
  return changed;
}

void CollectionToDelta(int db, const Entry& e, peer::Delta* d) {
  const Collection& c = *e.collection();
  d->set_db(static_cast<uint32_t>(db));
  d->set_key(e.key().data(), e.key().size());
  ToProto(e.stamp(), d->mutable_stamp());
  peer::Elements* m = d->mutable_elements();
  m->set_type(static_cast<uint32_t>(c.type()));
  m->set_state(true);
  for (const auto& h : c.ctx.vv().entries()) {
    peer::VersionEntry* v = m->mutable_context()->add_heads();
    v->set_node_id(h.node);
    v->set_counter(h.counter);
  }
  for (const auto& cd : c.ctx.cloud()) {
    peer::CloudDot* p = m->mutable_context()->add_cloud();
    ToProto(cd.dot, p->mutable_dot());
    if (cd.prev != crdt::CausalContext::kUnknownPrev) {
      p->set_prev_known(true);
      p->set_prev(cd.prev);
    }
  }
  if (!c.floor.IsZero()) ToProto(c.floor, m->mutable_floor());
  // A standalone node stamps no TTL register (it has no peer to merge
  // with): its TTL then travels as of the key's newest write, so that a
  // snapshot keeps it.
  crdt::Stamp ttl = c.ttl_stamp.IsZero() && e.has_expire() ? e.stamp() : c.ttl_stamp;
  if (!ttl.IsZero()) ToProto(ttl, m->mutable_ttl_stamp());
  if (e.has_expire()) m->set_expire_at_ms(e.expire_at());
  c.StateToProto(m);
}

bool MergeAssign(Db& db, std::string_view key, crdt::Stamp stamp, std::string_view value,
                 int64_t expire_at, int64_t now_ms, uint32_t lru) {
  // An assignment whose TTL passed in transit expired everywhere already;
  // it still outranks smaller writes.
  if (expire_at >= 0 && expire_at <= now_ms) {
    Entry* e = db.Find(key, now_ms);
    if (e && e->stamp() < stamp) db.Delete(key);
    db.RememberDead(key, stamp);
    Entry* left = db.FindRaw(key);
    if (left && left->hll_merged()) {
      // The parts it outranks are dead too.
      crdt::Stamp floor{};
      std::vector<HllPart> parts = HllPartsOf(db, *left, &floor);
      StoreHll(db, key, floor, std::move(parts), lru);
    }
    return e != nullptr && !db.FindRaw(key);
  }
  Fate fate = FateOf(db, key);
  if (fate.Outranked(stamp)) return false;
  Entry* e = db.Find(key, now_ms);
  if (e && e->is_collection() && stamp < e->stamp()) {
    StringLostToCollection(db, e, stamp);
    return false;
  }
  if (!e && fate.tomb && stamp < fate.tomb->outranks) {
    // A collection written after this string is gone: the string lost to
    // it all the same, and what that type writes later stays above it.
    fate.tomb->max_dead = std::max(fate.tomb->max_dead, stamp);
    return false;
  }
  if (e && e->hll_merged() && stamp < e->stamp()) {
    // Older than the HLL's newest part: kills the parts below it, and
    // counts as a part if its bytes are an HLL.
    // Seen by a delete, it still kills what is below it.
    crdt::Stamp floor{};
    std::vector<HllPart> parts = HllPartsOf(db, *e, &floor);
    if (stamp < floor) return false;
    floor = stamp;
    if (!fate.Covers(stamp) && hll::IsHllString(value)) {
      parts.push_back(HllPart{stamp, expire_at, std::string(value)});
    }
    StoreHll(db, key, floor, std::move(parts), lru);
    return true;
  }
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
  if (e && e->is_collection() && base_stamp < e->stamp()) {
    StringLostToCollection(db, e, base_stamp);
    return false;
  }
  if (!e && fate.tomb && base_stamp < fate.tomb->outranks) {
    fate.tomb->max_dead = std::max(fate.tomb->max_dead, base_stamp);
    return false;
  }
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
  if (e->is_collection()) {
    // Removes what the delete saw; elements it did not see survive.
    bool changed = db.MutateCollection(e, [&](Collection& c) {
      c.ctx.MergeTombstone(tomb);
      return c.DropIf([&](const crdt::Stamp& dot) { return tomb.Covers(dot); });
    });
    DropIfEmpty(db, e);
    return changed;
  }
  if (e->hll_merged()) {
    // Removes the parts the delete saw (and those they outrank).
    crdt::Stamp floor{};
    std::string k(key);
    std::vector<HllPart> parts = HllPartsOf(db, *e, &floor);
    size_t before = parts.size();
    crdt::Stamp top = e->stamp();
    bool left = StoreHll(db, k, floor, std::move(parts), e->lru());
    Entry* now = left ? db.FindRaw(k) : nullptr;
    return !now || now->stamp() != top || (now->hll_merged() && db.FindHll(k)->parts.size() != before);
  }
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
  std::vector<std::string> collections;
  std::vector<std::string> hlls;
  db.ForEach([&](const Entry& e) {
    if (e.is_collection()) {
      collections.emplace_back(e.key());
    } else if (e.stamp() < flush.stamp) {
      doomed.emplace_back(e.key());
    } else if (e.hll_merged()) {
      hlls.emplace_back(e.key());
    }
  });
  for (const std::string& key : doomed) db.Delete(key);
  // A merged HyperLogLog loses its parts written before the flush.
  for (const std::string& key : hlls) {
    Entry* e = db.FindRaw(key);
    crdt::Stamp floor{};
    std::vector<HllPart> parts = HllPartsOf(db, *e, &floor);
    StoreHll(db, key, floor, std::move(parts), e->lru());
  }
  // A collection loses the element versions written before the flush.
  for (const std::string& key : collections) {
    Entry* e = db.FindRaw(key);
    db.MutateCollection(e, [&](Collection& c) {
      return c.DropIf([&](const crdt::Stamp& dot) { return dot < flush.stamp; });
    });
    DropIfEmpty(db, e);
  }
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
