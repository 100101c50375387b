// The stream family: XADD, ranges, XDEL/XTRIM/XSETID, XREAD (BLOCK),
// consumer groups (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM)
// and XINFO. Replies and errors follow Redis 7.0's t_stream.c; the value is
// node/storage/stream.h, whose elements every write puts or removes
// through one CollectionWrite, so a stream replicates like a hash
// (docs/consistency.md, "Streams").
#include <algorithm>
#include <string>
#include <vector>

#include "node/families/blocking.h"
#include "node/families/families.h"
#include "node/families/util.h"
#include "node/notify.h"
#include "node/server.h"
#include "node/storage/stream.h"
#include "node/str_util.h"

namespace lattice::node {

namespace {

namespace sc = stream_codec;

constexpr std::string_view kInvalidId = "ERR Invalid stream ID specified as stream command argument";
constexpr int64_t kInvalidRead = -1;  // SCG_INVALID_ENTRIES_READ
// Redis's stream-node-max-entries default: the unit of approximate trims
// and of the XINFO radix-tree figures.
constexpr size_t kNodeEntries = 100;

// Redis's string2ull: a strict integer (negative refused), else what
// strtoull takes whole (leading spaces, a sign, leading zeros; "-n" wraps).
bool ParseU64(std::string_view s, uint64_t* out) {
  int64_t ll;
  if (ParseInt64(s, &ll)) {
    if (ll < 0) return false;
    *out = static_cast<uint64_t>(ll);
    return true;
  }
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r'))) i++;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  if (i >= s.size()) return false;
  uint64_t v = 0;
  for (; i < s.size(); i++) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;  // ERANGE
    v = v * 10 + d;
  }
  *out = neg ? ~v + 1 : v;
  return true;
}

// Redis's streamGenericParseIDOrReply without the reply: "-" and "+"
// (unless strict), "<ms>" (seq = missing_seq), "<ms>-<seq>", and, when
// seq_given is passed, "<ms>-*" (seq_given false).
bool ParseIdRaw(std::string_view s, StreamId* id, uint64_t missing_seq, bool strict,
                bool* seq_given = nullptr) {
  if (seq_given) *seq_given = true;
  if (s.size() > 127) return false;
  if (!strict && s == "-") {
    *id = {0, 0};
    return true;
  }
  if (!strict && s == "+") {
    *id = StreamId::Max();
    return true;
  }
  size_t dot = s.find('-');
  if (dot == std::string_view::npos) {
    if (!ParseU64(s, &id->ms)) return false;
    id->seq = missing_seq;
    return true;
  }
  if (!ParseU64(s.substr(0, dot), &id->ms)) return false;
  std::string_view rest = s.substr(dot + 1);
  if (seq_given && rest == "*") {
    id->seq = 0;
    *seq_given = false;
    return true;
  }
  return ParseU64(rest, &id->seq);
}

bool ParseId(CommandContext& ctx, std::string_view s, StreamId* id, uint64_t missing_seq,
             bool strict, bool* seq_given = nullptr) {
  if (ParseIdRaw(s, id, missing_seq, strict, seq_given)) return true;
  ctx.rb->Error(kInvalidId);
  return false;
}

bool IncrId(StreamId* id) {
  if (id->seq == UINT64_MAX) {
    if (id->ms == UINT64_MAX) return false;
    id->ms++;
    id->seq = 0;
    return true;
  }
  id->seq++;
  return true;
}

bool DecrId(StreamId* id) {
  if (id->seq == 0) {
    if (id->ms == 0) return false;
    id->ms--;
    id->seq = UINT64_MAX;
    return true;
  }
  id->seq--;
  return true;
}

// An interval end: "(" excludes it (Redis's streamParseIntervalIDOrReply
// plus the increment or decrement its callers do).
bool ParseIntervalStart(CommandContext& ctx, std::string_view s, StreamId* id) {
  if (s.size() > 1 && s[0] == '(') {
    if (!ParseId(ctx, s.substr(1), id, 0, true)) return false;
    if (!IncrId(id)) {
      ctx.rb->Error("ERR invalid start ID for the interval");
      return false;
    }
    return true;
  }
  return ParseId(ctx, s, id, 0, false);
}

bool ParseIntervalEnd(CommandContext& ctx, std::string_view s, StreamId* id) {
  if (s.size() > 1 && s[0] == '(') {
    if (!ParseId(ctx, s.substr(1), id, UINT64_MAX, true)) return false;
    if (!DecrId(id)) {
      ctx.rb->Error("ERR invalid end ID for the interval");
      return false;
    }
    return true;
  }
  return ParseId(ctx, s, id, UINT64_MAX, false);
}

void ReplySubcommandSyntax(CommandContext& ctx, std::string_view container) {
  ctx.rb->Error(StrCat("ERR unknown subcommand or wrong number of arguments for '",
                       Clip(ctx.args[1], 128), "'. Try ", container, " HELP."));
}

void Notify(CommandContext& ctx, std::string_view event, std::string_view key) {
  NotifyKeyspaceEvent(kNotifyStream, event, key, ctx.db);
}

// ---- replies ----

void ReplyId(resp::ReplyBuilder* rb, StreamId id) { rb->Bulk(id.ToString()); }

void ReplyFields(resp::ReplyBuilder* rb, std::string_view bytes) {
  std::vector<std::string_view> parts;
  sc::DecodeFields(bytes, [&](std::string_view f, std::string_view v) {
    parts.push_back(f);
    parts.push_back(v);
  });
  rb->ArrayHeader(static_cast<int64_t>(parts.size()));
  for (std::string_view p : parts) rb->Bulk(p);
}

void ReplyEntry(resp::ReplyBuilder* rb, StreamId id, std::string_view fields) {
  rb->ArrayHeader(2);
  ReplyId(rb, id);
  ReplyFields(rb, fields);
}

void ReplyEntry(resp::ReplyBuilder* rb, const StreamObject& s, StreamId id) {
  ReplyEntry(rb, id, s.EntryValue(id));
}

// The live entries in [start, end], up to count (0: all), forward or back,
// with their fields, copied out (one buffer for all).
class EntryList {
 public:
  size_t size() const { return ids_.size(); }
  bool empty() const { return ids_.empty(); }
  StreamId id(size_t i) const { return ids_[i]; }
  std::string_view fields(size_t i) const {
    size_t from = i ? ends_[i - 1] : 0;
    return std::string_view(bytes_).substr(from, ends_[i] - from);
  }
  void Add(StreamId id, std::string_view fields) {
    ids_.push_back(id);
    bytes_.append(fields);
    ends_.push_back(bytes_.size());
  }

 private:
  std::vector<StreamId> ids_;
  std::vector<size_t> ends_;
  std::string bytes_;
};

EntryList Range(const StreamObject& s, StreamId start, StreamId end, size_t count, bool rev) {
  EntryList out;
  s.ScanEntries(start, end, rev, [&](StreamId id, std::string_view fields) {
    out.Add(id, fields);
    return !count || out.size() < count;
  });
  return out;
}

// The ids alone (trims).
std::vector<StreamId> RangeIds(const StreamObject& s, StreamId start, StreamId end, size_t count,
                               bool rev) {
  std::vector<StreamId> out;
  s.entries().Scan(start, end, rev, [&](StreamId id, const StreamEntries::Versions&) {
    out.push_back(id);
    return !count || out.size() < count;
  });
  return out;
}

// ---- lookups ----

// The stream at `key` for reading: nullptr when missing (nothing replied)
// or after replying WRONGTYPE (*wrong set).
const StreamObject* ReadStream(CommandContext& ctx, std::string_view key, bool* wrong) {
  *wrong = false;
  Entry* e = LookupRead(ctx, key);
  if (!e) return nullptr;
  if (e->type() != ObjType::kStream) {
    ctx.rb->Error(errors::kWrongType);
    *wrong = true;
    return nullptr;
  }
  return static_cast<const StreamObject*>(e->collection());
}

// One stream write: the element puts and removes of a command, recorded
// for its delta.
class StreamWrite {
 public:
  StreamWrite(CommandContext& ctx, std::string_view key) : w_(ctx, key, ObjType::kStream) {}

  bool Open() {
    if (!w_.Open()) return false;
    s_ = w_.Get<StreamObject>();
    return true;
  }
  StreamObject* stream() const { return s_; }
  // Creates the stream if missing (its metadata element keeps it alive
  // when its entries and groups go, as an empty Redis stream stays).
  StreamObject* Create() {
    if (!s_) {
      s_ = w_.Create<StreamObject>();
      Put(sc::kMetaName, StreamMeta{}.Encode());
    }
    return s_;
  }
  crdt::NodeId node() { return w_.Dot().node; }
  crdt::Stamp dot() { return w_.Dot(); }
  bool replicating() const { return w_.replicating(); }

  void Put(std::string_view name, std::string_view value) {
    crdt::Stamp dot = w_.ElementDot();
    StreamObject::Dots old = s_->Put(name, value, dot);
    if (!w_.replicating()) {
      w_.Touch();
      return;
    }
    w_.Record(ElementOp{ElementOp::Kind::kPut, w_.Keep(std::string(name)),
                        w_.Keep(std::string(value)), std::move(old), {}, dot.sub});
  }
  void Remove(std::string_view name) {
    StreamObject::Dots old = s_->Remove(name);
    if (old.empty()) return;
    if (!w_.replicating()) {
      w_.Touch();
      return;
    }
    w_.Record(ElementOp{ElementOp::Kind::kRemove, w_.Keep(std::string(name)), {}, std::move(old),
                        {}});
  }

  // Sets the metadata to `m` (with last_id covering the top entry) if the
  // merged view differs.
  void SetMeta(const StreamMeta& m) {
    StreamMeta cur = s_->Meta();
    if (cur.last_id == m.last_id && cur.max_deleted == m.max_deleted &&
        cur.added_offset == m.added_offset) {
      // The view matches, but concurrent versions may remain: fine.
      return;
    }
    Put(sc::kMetaName, m.Encode());
  }
  void RemoveEntry(StreamId id) { Remove(sc::EntryName(id)); }
  void PutGroup(std::string_view group, const StreamGroup& g) {
    Put(sc::GroupName(group), g.Encode());
  }
  void PutPending(std::string_view group, StreamId id, const StreamPending& p) {
    Put(sc::PendingName(group, id), p.Encode());
  }
  void RemovePending(std::string_view group, StreamId id) {
    Remove(sc::PendingName(group, id));
  }
  void PutConsumer(std::string_view group, std::string_view consumer, int64_t seen) {
    Put(sc::ConsumerName(group, consumer), sc::EncodeU64(static_cast<uint64_t>(seen)));
  }
  void RemoveConsumer(std::string_view group, std::string_view consumer) {
    Remove(sc::ConsumerName(group, consumer));
  }
  bool Done() { return w_.Done(); }

 private:
  CollectionWrite w_;
  StreamObject* s_ = nullptr;
};

// The consumers of a group as Redis lists them: those with an element and
// those owning pending entries (after concurrent writes on two nodes).
std::vector<std::string> ConsumersOf(const StreamObject::GroupIndex& gi) {
  std::vector<std::string> out(gi.consumers.begin(), gi.consumers.end());
  for (const auto& [name, ids] : gi.consumer_pel) {
    if (!gi.consumers.count(name)) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

const StreamObject::GroupIndex* GroupIndexOf(const StreamObject& s, std::string_view group) {
  auto it = s.groups().find(std::string(group));
  if (it == s.groups().end() || !it->second.live) return nullptr;
  return &it->second;
}

// Looks a consumer up as streamLookupConsumer (refreshing its seen time)
// and creates it if missing. Returns true if it was created.
bool TouchConsumer(CommandContext& ctx, StreamWrite& w, std::string_view group,
                   std::string_view consumer) {
  int64_t seen;
  bool existed = w.stream()->ConsumerSeen(group, consumer, &seen);
  w.PutConsumer(group, consumer, ctx.now_ms);
  return !existed;
}

// ---- trimming (XADD and XTRIM) ----

struct TrimArgs {
  enum class Strategy { kNone, kMaxlen, kMinid } strategy = Strategy::kNone;
  int64_t maxlen = 0;
  StreamId minid;
  bool approx = false;
  int64_t limit = 0;
  bool nomkstream = false;
  bool id_given = false;
  bool seq_given = true;
  StreamId id;
};

// Redis's streamParseAddOrTrimArgsOrReply: returns the position of the
// id (XADD) or past the options, or -1 after replying an error.
ptrdiff_t ParseAddOrTrim(CommandContext& ctx, TrimArgs* a, bool xadd) {
  size_t i = 2;
  bool limit_given = false;
  auto args = ctx.args;
  for (; i < args.size(); i++) {
    size_t more = args.size() - 1 - i;
    std::string_view opt = args[i];
    if (xadd && opt == "*") break;
    bool maxlen = Is(opt, "maxlen");
    if ((maxlen || Is(opt, "minid")) && more) {
      // MAXLEN|MINID [=|~] threshold: one strategy only.
      if (a->strategy != TrimArgs::Strategy::kNone) {
        ctx.rb->Error(
            "ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
        return -1;
      }
      a->approx = false;
      std::string_view next = args[i + 1];
      if (more >= 2 && next == "~") {
        a->approx = true;
        i++;
      } else if (more >= 2 && next == "=") {
        i++;
      }
      i++;
      if (!maxlen) {
        if (!ParseId(ctx, args[i], &a->minid, 0, true)) return -1;
        a->strategy = TrimArgs::Strategy::kMinid;
        continue;
      }
      if (!ArgInt(ctx, args[i], &a->maxlen)) return -1;
      if (a->maxlen < 0) {
        ctx.rb->Error("ERR The MAXLEN argument must be >= 0.");
        return -1;
      }
      a->strategy = TrimArgs::Strategy::kMaxlen;
    } else if (Is(opt, "limit") && more) {
      if (!ArgInt(ctx, args[i + 1], &a->limit)) return -1;
      if (a->limit < 0) {
        ctx.rb->Error("ERR The LIMIT argument must be >= 0.");
        return -1;
      }
      limit_given = true;
      i++;
    } else if (xadd && Is(opt, "nomkstream")) {
      a->nomkstream = true;
    } else if (xadd) {
      if (!ParseId(ctx, opt, &a->id, 0, true, &a->seq_given)) return -1;
      a->id_given = true;
      break;
    } else {
      ctx.rb->Error(errors::kSyntax);
      return -1;
    }
  }
  if (a->limit && a->strategy == TrimArgs::Strategy::kNone) {
    ctx.rb->Error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
    return -1;
  }
  if (!xadd && a->strategy == TrimArgs::Strategy::kNone) {
    ctx.rb->Error("ERR syntax error, XTRIM must be called with a trimming strategy");
    return -1;
  }
  if (limit_given) {
    if (!a->approx) {
      ctx.rb->Error("ERR syntax error, LIMIT cannot be used without the special ~ option");
      return -1;
    }
  } else if (a->approx) {
    a->limit = 100 * static_cast<int64_t>(kNodeEntries);
  } else {
    a->limit = 0;
  }
  return static_cast<ptrdiff_t>(i);
}

// Redis's streamTrim. Approximate trims remove whole nodes of
// kNodeEntries entries counted from the head, as Redis removes whole
// listpacks, and at most `limit` entries. Returns how many went.
int64_t Trim(StreamWrite& w, const TrimArgs& a) {
  StreamObject* s = w.stream();
  StreamMeta meta = s->Meta();
  int64_t removed = 0;
  auto doomed = [&](size_t len, StreamId first) {
    if (a.strategy == TrimArgs::Strategy::kMaxlen) return static_cast<int64_t>(len) > a.maxlen;
    return first < a.minid;
  };
  if (a.approx) {
    while (!s->nodes().empty()) {
      auto first = s->nodes().begin();
      auto next = std::next(first);
      StreamId end = StreamId::Max();
      if (next != s->nodes().end()) {
        end = next->first;
        DecrId(&end);
      }
      size_t n = first->second.live;
      bool whole;
      if (a.strategy == TrimArgs::Strategy::kMaxlen) {
        whole = static_cast<int64_t>(s->length() - n) >= a.maxlen;
      } else {
        std::vector<StreamId> last = RangeIds(*s, first->first, end, 1, true);
        whole = !last.empty() && last[0] < a.minid;
      }
      if (!whole) break;
      if (a.limit && removed + static_cast<int64_t>(n) > a.limit) break;
      for (StreamId id : RangeIds(*s, first->first, end, 0, false)) w.RemoveEntry(id);
      removed += static_cast<int64_t>(n);
    }
  } else {
    while (s->length() > 0 && doomed(s->length(), s->FirstId())) {
      w.RemoveEntry(s->FirstId());
      removed++;
    }
  }
  if (removed) w.SetMeta(StreamMeta{meta.last_id, meta.max_deleted, meta.added_offset});
  return removed;
}

// ---- XREAD / XREADGROUP ----

// Redis's streamRangeHasTombstones(s, start, NULL).
bool HasTombstonesFrom(const StreamObject& s, StreamId start) {
  StreamMeta m = s.Meta();
  if (s.length() == 0 || m.max_deleted.IsZero()) return false;
  if (s.FirstId() > m.max_deleted) return false;
  return start <= m.max_deleted;
}

// Redis's streamEstimateDistanceFromFirstEverEntry.
int64_t EstimateDistance(const StreamObject& s, StreamId id) {
  int64_t added = s.EntriesAdded();
  if (!added) return 0;
  StreamMeta m = s.Meta();
  if (s.length() == 0 && id <= m.last_id) return added;
  if (id == m.last_id) return added;
  if (id > m.last_id) return kInvalidRead;
  StreamId first = s.FirstId();
  if (m.max_deleted.IsZero() || m.max_deleted < first) {
    if (id < first) return added - static_cast<int64_t>(s.length());
    if (id == first) return added - static_cast<int64_t>(s.length()) + 1;
  }
  return kInvalidRead;
}

// Redis's streamReplyWithCGLag.
void ReplyLag(resp::ReplyBuilder* rb, const StreamObject& s, const StreamGroup& g) {
  int64_t added = s.EntriesAdded();
  if (!added) {
    rb->Integer(0);
  } else if (g.entries_read != kInvalidRead && !HasTombstonesFrom(s, g.last_id)) {
    rb->Integer(added - g.entries_read);
  } else {
    int64_t read = EstimateDistance(s, g.last_id);
    if (read != kInvalidRead) {
      rb->Integer(added - read);
    } else {
      rb->Null();
    }
  }
}

struct ReadArgs {
  int64_t count = 0;
  int64_t block_ms = -1;
  bool noack = false;
  std::string_view group, consumer;
  size_t streams = 0;  // position of the first key
  size_t nkeys = 0;
};

bool ParseRead(CommandContext& ctx, bool group_mode, ReadArgs* r) {
  auto args = ctx.args;
  for (size_t i = 1; i < args.size(); i++) {
    size_t more = args.size() - 1 - i;
    std::string_view o = args[i];
    if (Is(o, "block") && more) {
      i++;
      int64_t t;
      if (!ParseInt64(args[i], &t)) {
        ctx.rb->Error("ERR timeout is not an integer or out of range");
        return false;
      }
      if (t < 0) {
        ctx.rb->Error("ERR timeout is negative");
        return false;
      }
      if (t > 0 && t > INT64_MAX - ctx.now_ms) {
        ctx.rb->Error("ERR timeout is out of range");
        return false;
      }
      r->block_ms = t;
    } else if (Is(o, "count") && more) {
      i++;
      if (!ArgInt(ctx, args[i], &r->count)) return false;
      if (r->count < 0) r->count = 0;
    } else if (Is(o, "streams") && more) {
      r->streams = i + 1;
      size_t n = args.size() - r->streams;
      if (n % 2) {
        ctx.rb->Error(
            "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be "
            "specified.");
        return false;
      }
      r->nkeys = n / 2;
      break;
    } else if (Is(o, "group") && more >= 2) {
      if (!group_mode) {
        ctx.rb->Error(
            "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
        return false;
      }
      r->group = args[i + 1];
      r->consumer = args[i + 2];
      i += 2;
    } else if (Is(o, "noack")) {
      if (!group_mode) {
        ctx.rb->Error(
            "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
        return false;
      }
      r->noack = true;
    } else {
      ctx.rb->Error(errors::kSyntax);
      return false;
    }
  }
  if (!r->streams) {
    ctx.rb->Error(errors::kSyntax);
    return false;
  }
  if (group_mode && r->group.data() == nullptr) {
    ctx.rb->Error("ERR Missing GROUP option for XREADGROUP");
    return false;
  }
  return true;
}

// Serves one key of XREADGROUP: new entries (">") or the consumer's
// history. Writes the entries into rb; returns false if nothing may be
// served synchronously (">" with nothing new).
bool ServeGroup(CommandContext& ctx, StreamWrite& w, const ReadArgs& r, StreamId gt, bool history,
                StreamId visible, resp::ReplyBuilder* rb) {
  StreamObject* s = w.stream();
  StreamGroup g;
  s->Group(r.group, &g);
  size_t count = static_cast<size_t>(r.count);
  if (history) {
    TouchConsumer(ctx, w, r.group, r.consumer);
    const auto* gi = GroupIndexOf(*s, r.group);
    std::vector<StreamId> ids;
    if (auto it = gi->consumer_pel.find(std::string(r.consumer)); it != gi->consumer_pel.end()) {
      StreamId start = gt;
      if (!IncrId(&start)) start = StreamId::Max();
      for (auto p = it->second.lower_bound(start); p != it->second.end(); ++p) {
        ids.push_back(*p);
        if (count && ids.size() >= count) break;
      }
    }
    rb->ArrayHeader(static_cast<int64_t>(ids.size()));
    for (StreamId id : ids) {
      if (!s->HasEntry(id)) {
        rb->ArrayHeader(2);
        ReplyId(rb, id);
        rb->NullArray();
        continue;
      }
      ReplyEntry(rb, *s, id);
      StreamPending p;
      if (s->Pending(r.group, id, &p)) {
        p.delivery_time = ctx.now_ms;
        p.delivery_count++;
        w.PutPending(r.group, id, p);
      }
    }
    return true;
  }
  StreamId start = g.last_id;
  if (!IncrId(&start)) return false;
  EntryList ids = Range(*s, start, visible, count, false);
  if (ids.empty()) return false;
  TouchConsumer(ctx, w, r.group, r.consumer);
  rb->ArrayHeader(static_cast<int64_t>(ids.size()));
  for (size_t i = 0; i < ids.size(); i++) {
    StreamId id = ids.id(i);
    if (id > g.last_id) {
      if (g.entries_read != kInvalidRead && !HasTombstonesFrom(*s, id)) {
        g.entries_read++;
      } else if (s->EntriesAdded()) {
        g.entries_read = EstimateDistance(*s, id);
      }
      g.last_id = id;
    }
    ReplyEntry(rb, id, ids.fields(i));
    if (!r.noack) w.PutPending(r.group, id, StreamPending{ctx.now_ms, 1, std::string(r.consumer)});
  }
  w.PutGroup(r.group, g);
  return true;
}

void ReadGeneric(CommandContext& ctx, bool group_mode) {
  ReadArgs r;
  if (!ParseRead(ctx, group_mode, &r)) return;
  auto args = ctx.args;
  std::vector<StreamId> ids(r.nkeys);
  std::vector<bool> newest(r.nkeys, false);  // ">"
  // On a replicating node an entry becomes readable stream-read-delay ms
  // after its id's time, so that an entry another node added concurrently
  // with a smaller id has arrived before a reader moves past it
  // (docs/consistency.md, "Streams"). `visible` is the greatest readable id.
  int64_t delay = g_stream_read_delay.load(std::memory_order_relaxed);
  bool hold = false;
  for (size_t k = 0; k < r.nkeys && delay > 0; k++) {
    hold = hold || ctx.ShardFor(args[r.streams + k]).has_peers();
  }
  StreamId visible = StreamId::Max();
  if (hold) {
    visible = {static_cast<uint64_t>(std::max<int64_t>(ctx.now_ms - delay, 0)), 0};
    if (!DecrId(&visible)) visible = {0, 0};
  }
  for (size_t k = 0; k < r.nkeys; k++) {
    std::string_view key = args[r.streams + k];
    std::string_view id = args[r.streams + r.nkeys + k];
    if (group_mode && ctx.serving) {
      // A parked XREADGROUP woken because its stream or group went (as
      // Redis's serveClientsBlockedOnStreamKey tells it).
      Entry* e = ctx.DbFor(key).Find(key, ctx.now_ms);
      if (!e || e->type() != ObjType::kStream) {
        ctx.rb->Error("UNBLOCKED the stream key no longer exists");
        return;
      }
      if (!GroupIndexOf(*static_cast<const StreamObject*>(e->collection()), r.group)) {
        ctx.rb->Error("NOGROUP the consumer group this client was blocked on no longer exists");
        return;
      }
    }
    bool wrong;
    const StreamObject* s = ReadStream(ctx, key, &wrong);
    if (wrong) return;
    if (group_mode && (!s || !GroupIndexOf(*s, r.group))) {
      ctx.rb->Error(StrCat("NOGROUP No such key '", key, "' or consumer group '", r.group,
                           "' in XREADGROUP with GROUP option"));
      return;
    }
    if (id == "$") {
      if (group_mode) {
        ctx.rb->Error(
            "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the "
            "history of this consumer by specifying a proper ID, or use the > ID to get new "
            "messages. The $ ID would just return an empty result set.");
        return;
      }
      ids[k] = s ? s->LastId() : StreamId{};
      continue;
    }
    if (id == ">") {
      if (!group_mode) {
        ctx.rb->Error(
            "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
            "<consumer> option.");
        return;
      }
      newest[k] = true;
      continue;
    }
    if (!ParseId(ctx, id, &ids[k], 0, true)) return;
  }

  std::string body;
  resp::ReplyBuilder rb(&body, ctx.rb->protocol());
  int64_t served = 0;
  for (size_t k = 0; k < r.nkeys; k++) {
    std::string_view key = args[r.streams + k];
    if (!group_mode) {
      bool wrong;
      const StreamObject* s = ReadStream(ctx, key, &wrong);
      if (!s || s->length() == 0 || s->LastEntryId() <= ids[k]) continue;
      StreamId start = ids[k];
      IncrId(&start);
      EntryList got = Range(*s, start, visible, static_cast<size_t>(r.count), false);
      if (got.empty()) continue;
      if (rb.protocol() == 2) rb.ArrayHeader(2);
      rb.Bulk(key);
      rb.ArrayHeader(static_cast<int64_t>(got.size()));
      for (size_t i = 0; i < got.size(); i++) ReplyEntry(&rb, got.id(i), got.fields(i));
      served++;
      continue;
    }
    StreamWrite w(ctx, key);
    if (!w.Open() || !w.stream()) continue;
    std::string one;
    resp::ReplyBuilder orb(&one, rb.protocol());
    if (ServeGroup(ctx, w, r, ids[k], !newest[k], visible, &orb)) {
      if (rb.protocol() == 2) rb.ArrayHeader(2);
      rb.Bulk(key);
      rb.Raw(one);
      served++;
    }
    w.Done();
  }
  if (served) {
    if (ctx.rb->protocol() == 2) {
      ctx.rb->ArrayHeader(served);
    } else {
      ctx.rb->MapHeader(served);
    }
    ctx.rb->Raw(body);
    return;
  }
  if (r.block_ms < 0) {
    ctx.rb->NullArray();
    return;
  }
  // Parks the client; "$" becomes the id it stood for, so new entries
  // serve it when it runs again.
  std::vector<std::string> again(args.begin(), args.end());
  for (size_t k = 0; k < r.nkeys; k++) {
    if (!newest[k]) again[r.streams + r.nkeys + k] = ids[k].ToString();
  }
  BlockClient(ctx, args.subspan(r.streams, r.nkeys), r.block_ms, &again,
              hold ? std::max<int64_t>(10, delay / 4) : 0, group_mode);
}

// ---- XINFO ----

void ReplyPendingFull(resp::ReplyBuilder* rb, const StreamObject& s, std::string_view group,
                      StreamId id, bool with_consumer) {
  StreamPending p;
  s.Pending(group, id, &p);
  rb->ArrayHeader(with_consumer ? 4 : 3);
  ReplyId(rb, id);
  if (with_consumer) rb->Bulk(p.consumer);
  rb->Integer(p.delivery_time);
  rb->Integer(p.delivery_count);
}

void XInfoStream(CommandContext& ctx, const StreamObject& s, bool full, int64_t count) {
  auto* rb = ctx.rb;
  StreamMeta m = s.Meta();
  size_t keys = s.nodes().size();
  rb->MapHeader(full ? 9 : 10);
  rb->Bulk("length");
  rb->Integer(static_cast<int64_t>(s.length()));
  rb->Bulk("radix-tree-keys");
  rb->Integer(static_cast<int64_t>(keys));
  rb->Bulk("radix-tree-nodes");
  rb->Integer(static_cast<int64_t>(keys == 0 ? 1 : keys + 1));
  rb->Bulk("last-generated-id");
  ReplyId(rb, m.last_id);
  rb->Bulk("max-deleted-entry-id");
  ReplyId(rb, m.max_deleted);
  rb->Bulk("entries-added");
  rb->Integer(s.EntriesAdded());
  rb->Bulk("recorded-first-entry-id");
  ReplyId(rb, s.FirstId());
  std::vector<std::string> groups;
  for (const auto& [name, gi] : s.groups()) {
    if (gi.live) groups.push_back(name);
  }
  if (!full) {
    rb->Bulk("groups");
    rb->Integer(static_cast<int64_t>(groups.size()));
    rb->Bulk("first-entry");
    if (s.length()) {
      ReplyEntry(rb, s, s.FirstId());
    } else {
      rb->Null();
    }
    rb->Bulk("last-entry");
    if (s.length()) {
      ReplyEntry(rb, s, s.LastEntryId());
    } else {
      rb->Null();
    }
    return;
  }
  size_t n = static_cast<size_t>(count);
  rb->Bulk("entries");
  EntryList es = Range(s, {0, 0}, StreamId::Max(), n, false);
  rb->ArrayHeader(static_cast<int64_t>(es.size()));
  for (size_t i = 0; i < es.size(); i++) ReplyEntry(rb, es.id(i), es.fields(i));
  rb->Bulk("groups");
  rb->ArrayHeader(static_cast<int64_t>(groups.size()));
  for (const std::string& name : groups) {
    const auto& gi = s.groups().at(name);
    StreamGroup g;
    s.Group(name, &g);
    rb->MapHeader(7);
    rb->Bulk("name");
    rb->Bulk(name);
    rb->Bulk("last-delivered-id");
    ReplyId(rb, g.last_id);
    rb->Bulk("entries-read");
    if (g.entries_read != kInvalidRead) {
      rb->Integer(g.entries_read);
    } else {
      rb->Null();
    }
    rb->Bulk("lag");
    ReplyLag(rb, s, g);
    rb->Bulk("pel-count");
    rb->Integer(static_cast<int64_t>(gi.pel.size()));
    rb->Bulk("pending");
    size_t pn = n ? std::min(n, gi.pel.size()) : gi.pel.size();
    rb->ArrayHeader(static_cast<int64_t>(pn));
    size_t k = 0;
    for (auto it = gi.pel.begin(); k < pn; ++it, ++k) ReplyPendingFull(rb, s, name, it->first, true);
    std::vector<std::string> consumers = ConsumersOf(gi);
    rb->Bulk("consumers");
    rb->ArrayHeader(static_cast<int64_t>(consumers.size()));
    for (const std::string& c : consumers) {
      int64_t seen = 0;
      s.ConsumerSeen(name, c, &seen);
      auto cp = gi.consumer_pel.find(c);
      size_t cn = cp == gi.consumer_pel.end() ? 0 : cp->second.size();
      rb->MapHeader(4);
      rb->Bulk("name");
      rb->Bulk(c);
      rb->Bulk("seen-time");
      rb->Integer(seen);
      rb->Bulk("pel-count");
      rb->Integer(static_cast<int64_t>(cn));
      rb->Bulk("pending");
      size_t shown = n ? std::min(n, cn) : cn;
      rb->ArrayHeader(static_cast<int64_t>(shown));
      if (shown) {
        size_t j = 0;
        for (auto it = cp->second.begin(); j < shown; ++it, ++j) {
          ReplyPendingFull(rb, s, name, *it, false);
        }
      }
    }
  }
}

}  // namespace

// ---- commands ----

void CmdXAdd(CommandContext& ctx) {
  TrimArgs a;
  ptrdiff_t idpos = ParseAddOrTrim(ctx, &a, true);
  if (idpos < 0) return;
  size_t field_pos = static_cast<size_t>(idpos) + 1;
  size_t nfields = ctx.args.size() - std::min(ctx.args.size(), field_pos);
  if (nfields < 2 || nfields % 2) {
    ReplyArityError(ctx);
    return;
  }
  if (a.id_given && a.seq_given && a.id.IsZero()) {
    ctx.rb->Error("ERR The ID specified in XADD must be greater than 0-0");
    return;
  }
  std::string_view key = ctx.args[1];
  StreamWrite w(ctx, key);
  if (!w.Open()) return;
  if (!w.stream() && a.nomkstream) {
    w.Done();
    ctx.rb->Null();
    return;
  }
  StreamObject* s = w.Create();
  StreamId last = s->LastId();
  if (last == StreamId::Max()) {
    w.Done();
    ctx.rb->Error("ERR The stream has exhausted the last possible ID, unable to add more items");
    return;
  }
  // On a replicating node an id this node makes carries its node id in
  // the low 32 bits of the sequence, so two nodes never make the same id
  // (docs/consistency.md, "Streams").
  bool unique = w.replicating();
  crdt::NodeId node = w.node();
  auto next_after = [&](uint64_t ms, StreamId after, StreamId* out) {
    if (!unique) {
      if (ms > after.ms) {
        *out = {ms, 0};
        return true;
      }
      *out = after;
      return IncrId(out);
    }
    if (ms > after.ms) {
      *out = {ms, node};
      return true;
    }
    uint64_t high = after.seq >> 32;
    if (high == 0xffffffffULL) {
      if (after.ms == UINT64_MAX) return false;
      *out = {after.ms + 1, node};
      return true;
    }
    *out = {after.ms, ((high + 1) << 32) | node};
    return true;
  };
  StreamId id;
  bool ok = true;
  if (!a.id_given) {
    ok = next_after(static_cast<uint64_t>(ctx.now_ms), last, &id);
  } else if (!a.seq_given) {
    if (a.id.ms > last.ms) {
      id = {a.id.ms, unique ? node : 0};
    } else if (a.id.ms == last.ms && last.seq != UINT64_MAX) {
      ok = next_after(a.id.ms, last, &id) && id.ms == a.id.ms;
    } else {
      ok = false;
    }
  } else {
    id = a.id;
    ok = id > last;
  }
  if (!ok) {
    w.Done();
    ctx.rb->Error("ERR The ID specified in XADD is equal or smaller than the target stream top item");
    return;
  }
  w.Put(sc::EntryName(id), sc::EncodeFields(ctx.args.subspan(field_pos)));
  w.Put(sc::NodeName(node), sc::EncodeU64(static_cast<uint64_t>(s->NodeCount(node) + 1)));
  int64_t trimmed = a.strategy != TrimArgs::Strategy::kNone ? Trim(w, a) : 0;
  w.Done();
  ReplyId(ctx.rb, id);
  Notify(ctx, "xadd", key);
  if (trimmed) Notify(ctx, "xtrim", key);
}

void CmdXTrim(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  bool wrong;
  // Redis looks the key up before parsing the options.
  if (!ReadStream(ctx, key, &wrong)) {
    if (!wrong) ctx.rb->Integer(0);
    return;
  }
  TrimArgs a;
  ptrdiff_t end = ParseAddOrTrim(ctx, &a, false);
  if (end < 0) return;
  StreamWrite w(ctx, key);
  if (!w.Open()) return;
  int64_t n = Trim(w, a);
  w.Done();
  ctx.rb->Integer(n);
  if (n) Notify(ctx, "xtrim", key);
}

void CmdXLen(CommandContext& ctx) {
  bool wrong;
  const StreamObject* s = ReadStream(ctx, ctx.args[1], &wrong);
  if (wrong) return;
  ctx.rb->Integer(s ? static_cast<int64_t>(s->length()) : 0);
}

static void RangeGeneric(CommandContext& ctx, bool rev) {
  std::string_view startarg = ctx.args[rev ? 3 : 2], endarg = ctx.args[rev ? 2 : 3];
  StreamId start, end;
  if (!ParseIntervalStart(ctx, startarg, &start)) return;
  if (!ParseIntervalEnd(ctx, endarg, &end)) return;
  int64_t count = -1;
  for (size_t j = 4; j < ctx.args.size(); j++) {
    size_t more = ctx.args.size() - 1 - j;
    if (Is(ctx.args[j], "count") && more) {
      if (!ArgInt(ctx, ctx.args[j + 1], &count)) return;
      if (count < 0) count = 0;
      j++;
    } else {
      ctx.rb->Error(errors::kSyntax);
      return;
    }
  }
  bool wrong;
  const StreamObject* s = ReadStream(ctx, ctx.args[1], &wrong);
  if (wrong) return;
  if (!s) {
    ctx.rb->ArrayHeader(0);
    return;
  }
  if (count == 0) {
    ctx.rb->NullArray();
    return;
  }
  EntryList ids = Range(*s, start, end, count < 0 ? 0 : size_t(count), rev);
  ctx.rb->ArrayHeader(static_cast<int64_t>(ids.size()));
  for (size_t i = 0; i < ids.size(); i++) ReplyEntry(ctx.rb, ids.id(i), ids.fields(i));
}

void CmdXRange(CommandContext& ctx) { RangeGeneric(ctx, false); }
void CmdXRevRange(CommandContext& ctx) { RangeGeneric(ctx, true); }

void CmdXDel(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  bool wrong;
  if (!ReadStream(ctx, key, &wrong)) {
    if (!wrong) ctx.rb->Integer(0);
    return;
  }
  std::vector<StreamId> ids(ctx.args.size() - 2);
  for (size_t j = 2; j < ctx.args.size(); j++) {
    if (!ParseId(ctx, ctx.args[j], &ids[j - 2], 0, true)) return;
  }
  StreamWrite w(ctx, key);
  if (!w.Open()) return;
  StreamObject* s = w.stream();
  StreamMeta meta = s->Meta();
  int64_t deleted = 0;
  for (StreamId id : ids) {
    if (!s->HasEntry(id)) continue;
    w.RemoveEntry(id);
    deleted++;
    meta.max_deleted = std::max(meta.max_deleted, id);
  }
  if (deleted) w.SetMeta(meta);
  w.Done();
  ctx.rb->Integer(deleted);
  if (deleted) Notify(ctx, "xdel", key);
}

void CmdXSetId(CommandContext& ctx) {
  StreamId id, max_xdel;
  bool has_xdel = false;
  int64_t added = -1;
  if (!ParseId(ctx, ctx.args[2], &id, 0, true)) return;
  for (size_t i = 3; i < ctx.args.size(); i++) {
    size_t more = ctx.args.size() - 1 - i;
    if (Is(ctx.args[i], "entriesadded") && more) {
      if (!ArgInt(ctx, ctx.args[i + 1], &added)) return;
      if (added < 0) {
        ctx.rb->Error("ERR entries_added must be positive");
        return;
      }
      i++;
    } else if (Is(ctx.args[i], "maxdeletedid") && more) {
      if (!ParseId(ctx, ctx.args[i + 1], &max_xdel, 0, true)) return;
      if (id < max_xdel) {
        ctx.rb->Error("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
        return;
      }
      has_xdel = true;
      i++;
    } else {
      ctx.rb->Error(errors::kSyntax);
      return;
    }
  }
  std::string_view key = ctx.args[1];
  StreamWrite w(ctx, key);
  if (!w.Open()) return;
  StreamObject* s = w.stream();
  if (!s) {
    w.Done();
    ctx.rb->Error("ERR no such key");
    return;
  }
  int64_t now_added = s->EntriesAdded();
  if (s->length() > 0 && id < s->LastEntryId()) {
    w.Done();
    ctx.rb->Error("ERR The ID specified in XSETID is smaller than the target stream top item");
    return;
  }
  if (s->length() > 0 && added >= 0 && static_cast<size_t>(added) < s->length()) {
    w.Done();
    ctx.rb->Error(
        "ERR The entries_added specified in XSETID is smaller than the target stream length");
    return;
  }
  StreamMeta m = s->Meta();
  m.last_id = id;
  if (added >= 0) m.added_offset += added - now_added;
  if (has_xdel && !max_xdel.IsZero()) m.max_deleted = max_xdel;
  // A put of the whole metadata: XSETID may lower last_id, which only a
  // replacing write can do.
  w.Put(sc::kMetaName, m.Encode());
  w.Done();
  ctx.rb->Ok();
  Notify(ctx, "xsetid", key);
}

void CmdXRead(CommandContext& ctx) { ReadGeneric(ctx, false); }
void CmdXReadGroup(CommandContext& ctx) { ReadGeneric(ctx, true); }

// ---- XGROUP ----

namespace {

// Parses CREATE/SETID's trailing options and looks the key and group up
// as Redis's xgroupCommand does. Returns false after replying.
bool XGroupPrelude(CommandContext& ctx, bool create, bool setid, bool* mkstream,
                   int64_t* entries_read, StreamWrite& w) {
  if (create || setid) {
    for (size_t i = 5; i < ctx.args.size();) {
      if (create && Is(ctx.args[i], "mkstream")) {
        *mkstream = true;
        i++;
      } else if (Is(ctx.args[i], "entriesread") && i + 1 < ctx.args.size()) {
        if (!ArgInt(ctx, ctx.args[i + 1], entries_read)) return false;
        if (*entries_read < 0 && *entries_read != kInvalidRead) {
          ctx.rb->Error("ERR value for ENTRIESREAD must be positive or -1");
          return false;
        }
        i += 2;
      } else {
        ReplySubcommandSyntax(ctx, "XGROUP");
        return false;
      }
    }
  }
  if (!w.Open()) return false;
  if (!*mkstream) {
    if (!w.stream()) {
      ctx.rb->Error(
          "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may "
          "want to use the MKSTREAM option to create an empty stream automatically.");
      return false;
    }
    if (!create && !GroupIndexOf(*w.stream(), ctx.args[3]) &&
        !Is(ctx.cmd->name, "destroy")) {
      ctx.rb->Error(StrCat("NOGROUP No such consumer group '", ctx.args[3], "' for key name '",
                           ctx.args[2], "'"));
      return false;
    }
  }
  return true;
}

// Removes every element of a group: pending entries and consumers too.
void DropGroup(StreamWrite& w, std::string_view group) {
  StreamObject* s = w.stream();
  auto it = s->groups().find(std::string(group));
  if (it == s->groups().end()) return;
  std::vector<StreamId> pel;
  for (const auto& [id, owner] : it->second.pel) pel.push_back(id);
  std::vector<std::string> consumers(it->second.consumers.begin(), it->second.consumers.end());
  for (StreamId id : pel) w.RemovePending(group, id);
  for (const std::string& c : consumers) w.RemoveConsumer(group, c);
  w.Remove(sc::GroupName(group));
}

}  // namespace

void CmdXGroupCreate(CommandContext& ctx) {
  if (ctx.args.size() > 8) {
    ReplySubcommandSyntax(ctx, "XGROUP");
    return;
  }
  bool mkstream = false;
  int64_t entries_read = kInvalidRead;
  StreamWrite w(ctx, ctx.args[2]);
  if (!XGroupPrelude(ctx, true, false, &mkstream, &entries_read, w)) return;
  StreamId id;
  if (ctx.args[4] == "$") {
    id = w.stream() ? w.stream()->LastId() : StreamId{};
  } else if (!ParseId(ctx, ctx.args[4], &id, 0, true)) {
    w.Done();
    return;
  }
  StreamObject* s = w.Create();
  std::string_view group = ctx.args[3];
  if (GroupIndexOf(*s, group)) {
    w.Done();
    ctx.rb->Error("BUSYGROUP Consumer Group name already exists");
    return;
  }
  DropGroup(w, group);  // leftovers of a concurrently destroyed one
  w.PutGroup(group, StreamGroup{w.dot(), id, entries_read});
  w.Done();
  ctx.rb->Ok();
  Notify(ctx, "xgroup-create", ctx.args[2]);
}

void CmdXGroupSetId(CommandContext& ctx) {
  if (ctx.args.size() != 5 && ctx.args.size() != 7) {
    ReplySubcommandSyntax(ctx, "XGROUP");
    return;
  }
  bool mkstream = false;
  int64_t entries_read = kInvalidRead;
  StreamWrite w(ctx, ctx.args[2]);
  if (!XGroupPrelude(ctx, false, true, &mkstream, &entries_read, w)) return;
  StreamObject* s = w.stream();
  StreamId id;
  if (ctx.args[4] == "$") {
    id = s->LastId();
  } else if (!ParseId(ctx, ctx.args[4], &id, 0, false)) {
    w.Done();
    return;
  }
  StreamGroup g;
  s->Group(ctx.args[3], &g);
  // A SETID outranks every delivery made before it was stamped: its dot
  // is newer than each of theirs.
  w.PutGroup(ctx.args[3], StreamGroup{std::max(w.dot(), g.setid), id, entries_read});
  w.Done();
  ctx.rb->Ok();
  Notify(ctx, "xgroup-setid", ctx.args[2]);
}

void CmdXGroupDestroy(CommandContext& ctx) {
  bool mkstream = false;
  int64_t entries_read = kInvalidRead;
  StreamWrite w(ctx, ctx.args[2]);
  if (!XGroupPrelude(ctx, false, false, &mkstream, &entries_read, w)) return;
  if (!GroupIndexOf(*w.stream(), ctx.args[3])) {
    w.Done();
    ctx.rb->Integer(0);
    return;
  }
  DropGroup(w, ctx.args[3]);
  w.Done();
  ctx.rb->Integer(1);
  Notify(ctx, "xgroup-destroy", ctx.args[2]);
}

void CmdXGroupCreateConsumer(CommandContext& ctx) {
  bool mkstream = false;
  int64_t entries_read = kInvalidRead;
  StreamWrite w(ctx, ctx.args[2]);
  if (!XGroupPrelude(ctx, false, false, &mkstream, &entries_read, w)) return;
  int64_t seen;
  bool created = false;
  if (!w.stream()->ConsumerSeen(ctx.args[3], ctx.args[4], &seen)) {
    w.PutConsumer(ctx.args[3], ctx.args[4], ctx.now_ms);
    created = true;
  }
  w.Done();
  ctx.rb->Integer(created ? 1 : 0);
  if (created) Notify(ctx, "xgroup-createconsumer", ctx.args[2]);
}

void CmdXGroupDelConsumer(CommandContext& ctx) {
  bool mkstream = false;
  int64_t entries_read = kInvalidRead;
  StreamWrite w(ctx, ctx.args[2]);
  if (!XGroupPrelude(ctx, false, false, &mkstream, &entries_read, w)) return;
  StreamObject* s = w.stream();
  const auto* gi = GroupIndexOf(*s, ctx.args[3]);
  std::string consumer(ctx.args[4]);
  int64_t seen;
  bool exists = s->ConsumerSeen(ctx.args[3], consumer, &seen) || gi->consumer_pel.count(consumer);
  int64_t pending = 0;
  if (exists) {
    std::vector<StreamId> ids;
    if (auto it = gi->consumer_pel.find(consumer); it != gi->consumer_pel.end()) {
      ids.assign(it->second.begin(), it->second.end());
    }
    pending = static_cast<int64_t>(ids.size());
    for (StreamId id : ids) w.RemovePending(ctx.args[3], id);
    w.RemoveConsumer(ctx.args[3], consumer);
  }
  w.Done();
  ctx.rb->Integer(pending);
  if (exists) Notify(ctx, "xgroup-delconsumer", ctx.args[2]);
}

void CmdXGroupHelp(CommandContext& ctx) {
  static const char* const kLines[] = {
      "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CREATE <key> <groupname> <id|$> [option]",
      "    Create a new consumer group. Options are:",
      "    * MKSTREAM",
      "      Create the empty stream if it does not exist.",
      "    * ENTRIESREAD entries_read",
      "      Set the group's entries_read counter (internal use).",
      "CREATECONSUMER <key> <groupname> <consumer>",
      "    Create a new consumer in the specified group.",
      "DELCONSUMER <key> <groupname> <consumer>",
      "    Remove the specified consumer.",
      "DESTROY <key> <groupname>",
      "    Remove the specified group.",
      "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
      "    Set the current group ID and entries_read counter.",
      "HELP",
      "    Prints this help.",
  };
  ctx.rb->ArrayHeader(std::size(kLines));
  for (const char* l : kLines) ctx.rb->SimpleString(l);
}

// ---- XACK, XPENDING, XCLAIM, XAUTOCLAIM ----

void CmdXAck(CommandContext& ctx) {
  std::vector<StreamId> ids(ctx.args.size() - 3);
  std::string_view key = ctx.args[1], group = ctx.args[2];
  bool wrong;
  const StreamObject* rs = ReadStream(ctx, key, &wrong);
  if (wrong) return;
  for (size_t j = 3; j < ctx.args.size(); j++) {
    if (!ParseId(ctx, ctx.args[j], &ids[j - 3], 0, true)) return;
  }
  if (!rs || !GroupIndexOf(*rs, group)) {
    ctx.rb->Integer(0);
    return;
  }
  StreamWrite w(ctx, key);
  if (!w.Open()) return;
  const auto* gi = GroupIndexOf(*w.stream(), group);
  int64_t acked = 0;
  for (StreamId id : ids) {
    if (!gi->pel.contains(id)) continue;
    w.RemovePending(group, id);
    acked++;
    gi = GroupIndexOf(*w.stream(), group);
  }
  w.Done();
  ctx.rb->Integer(acked);
}

void CmdXPending(CommandContext& ctx) {
  auto args = ctx.args;
  size_t argc = args.size();
  if (argc != 3 && (argc < 6 || argc > 9)) {
    ctx.rb->Error(errors::kSyntax);
    return;
  }
  int64_t minidle = 0, count = 0;
  StreamId start, end;
  std::string_view consumer;
  bool has_consumer = false;
  if (argc >= 6) {
    size_t si = 3;
    if (Is(args[3], "idle")) {
      if (!ArgInt(ctx, args[4], &minidle)) return;
      if (argc < 8) {
        ctx.rb->Error(errors::kSyntax);
        return;
      }
      si += 2;
    }
    if (!ArgInt(ctx, args[si + 2], &count)) return;
    if (count < 0) count = 0;
    if (!ParseIntervalStart(ctx, args[si], &start)) return;
    if (!ParseIntervalEnd(ctx, args[si + 1], &end)) return;
    if (si + 3 < argc) {
      consumer = args[si + 3];
      has_consumer = true;
    }
  }
  std::string_view key = args[1], group = args[2];
  bool wrong;
  const StreamObject* s = ReadStream(ctx, key, &wrong);
  if (wrong) return;
  const StreamObject::GroupIndex* gi = s ? GroupIndexOf(*s, group) : nullptr;
  if (!gi) {
    ctx.rb->Error(StrCat("NOGROUP No such key '", key, "' or consumer group '", group, "'"));
    return;
  }
  auto* rb = ctx.rb;
  if (argc == 3) {
    rb->ArrayHeader(4);
    rb->Integer(static_cast<int64_t>(gi->pel.size()));
    if (gi->pel.empty()) {
      rb->Null();
      rb->Null();
      rb->NullArray();
      return;
    }
    ReplyId(rb, gi->pel.begin()->first);
    ReplyId(rb, gi->pel.rbegin()->first);
    std::vector<std::pair<std::string, size_t>> owners;
    for (const std::string& c : ConsumersOf(*gi)) {
      auto it = gi->consumer_pel.find(c);
      if (it != gi->consumer_pel.end() && !it->second.empty()) owners.emplace_back(c, it->second.size());
    }
    rb->ArrayHeader(static_cast<int64_t>(owners.size()));
    for (const auto& [c, n] : owners) {
      rb->ArrayHeader(2);
      rb->Bulk(c);
      rb->Bulk(StrCat(n));
    }
    return;
  }
  std::vector<StreamId> ids;
  if (has_consumer) {
    auto it = gi->consumer_pel.find(std::string(consumer));
    if (it != gi->consumer_pel.end()) {
      for (auto p = it->second.lower_bound(start); p != it->second.end() && *p <= end; ++p) {
        ids.push_back(*p);
      }
    }
  } else {
    for (auto p = gi->pel.lower_bound(start); p != gi->pel.end() && p->first <= end; ++p) {
      ids.push_back(p->first);
    }
  }
  std::string body;
  resp::ReplyBuilder out(&body, rb->protocol());
  int64_t n = 0;
  for (StreamId id : ids) {
    if (n >= count) break;
    StreamPending p;
    if (!s->Pending(group, id, &p)) continue;
    int64_t idle = ctx.now_ms - p.delivery_time;
    if (minidle && idle < minidle) continue;
    n++;
    out.ArrayHeader(4);
    ReplyId(&out, id);
    out.Bulk(p.consumer);
    out.Integer(idle < 0 ? 0 : idle);
    out.Integer(p.delivery_count);
  }
  rb->ArrayHeader(n);
  rb->Raw(body);
}

namespace {

// XCLAIM and XAUTOCLAIM begin alike: the group must exist, then comes the
// minimum idle time (negative: 0).
bool ClaimPrelude(CommandContext& ctx, std::string_view cmd, int64_t* minidle) {
  std::string_view key = ctx.args[1], group = ctx.args[2];
  bool wrong;
  const StreamObject* rs = ReadStream(ctx, key, &wrong);
  if (wrong) return false;
  if (!rs || !GroupIndexOf(*rs, group)) {
    ctx.rb->Error(StrCat("NOGROUP No such key '", key, "' or consumer group '", group, "'"));
    return false;
  }
  if (!ArgInt(ctx, ctx.args[4], minidle, StrCat("ERR Invalid min-idle-time argument for ", cmd))) {
    return false;
  }
  if (*minidle < 0) *minidle = 0;
  return true;
}

// Gives pending entry `id` (now `p`) to `consumer`, delivered at `when`,
// its count set to `count` (or bumped by one unless JUSTID), and replies
// it as the claims do. The consumer is looked up once per command.
struct Claim {
  CommandContext& ctx;
  StreamWrite& w;
  std::string_view group, consumer;
  bool justid;
  resp::ReplyBuilder* out;
  bool consumer_seen = false;
  int64_t n = 0;

  void One(StreamId id, StreamPending p, int64_t when, int64_t count) {
    if (!consumer_seen) {
      TouchConsumer(ctx, w, group, consumer);
      consumer_seen = true;
    }
    p.delivery_time = when;
    if (count >= 0) {
      p.delivery_count = count;
    } else if (!justid) {
      p.delivery_count++;
    }
    p.consumer.assign(consumer);
    w.PutPending(group, id, p);
    if (justid) {
      ReplyId(out, id);
    } else {
      ReplyEntry(out, *w.stream(), id);
    }
    n++;
  }
};

}  // namespace

void CmdXClaim(CommandContext& ctx) {
  auto args = ctx.args;
  std::string_view key = args[1], group = args[2], consumer = args[3];
  int64_t minidle;
  if (!ClaimPrelude(ctx, "XCLAIM", &minidle)) return;
  std::vector<StreamId> ids;
  size_t j = 5;
  for (; j < args.size(); j++) {
    StreamId id;
    if (!ParseIdRaw(args[j], &id, 0, true)) break;
    ids.push_back(id);
  }
  int64_t now = ctx.now_ms;
  int64_t deliverytime = -1, retrycount = -1;
  bool force = false, justid = false;
  StreamId last_id;
  for (; j < args.size(); j++) {
    size_t more = args.size() - 1 - j;
    std::string_view opt = args[j];
    if (Is(opt, "force")) {
      force = true;
    } else if (Is(opt, "justid")) {
      justid = true;
    } else if (Is(opt, "idle") && more) {
      j++;
      if (!ArgInt(ctx, args[j], &deliverytime, "ERR Invalid IDLE option argument for XCLAIM")) {
        return;
      }
      deliverytime = now - deliverytime;
    } else if (Is(opt, "time") && more) {
      j++;
      if (!ArgInt(ctx, args[j], &deliverytime, "ERR Invalid TIME option argument for XCLAIM")) {
        return;
      }
    } else if (Is(opt, "retrycount") && more) {
      j++;
      if (!ArgInt(ctx, args[j], &retrycount,
                  "ERR Invalid RETRYCOUNT option argument for XCLAIM")) {
        return;
      }
    } else if (Is(opt, "lastid") && more) {
      j++;
      if (!ParseId(ctx, args[j], &last_id, 0, true)) return;
    } else {
      ctx.rb->Error(StrCat("ERR Unrecognized XCLAIM option '", Clip(opt, 128), "'"));
      return;
    }
  }
  if (deliverytime != -1) {
    if (deliverytime < 0 || deliverytime > now) deliverytime = now;
  } else {
    deliverytime = now;
  }
  StreamWrite w(ctx, key);
  if (!w.Open()) return;
  StreamObject* s = w.stream();
  StreamGroup g;
  s->Group(group, &g);
  if (last_id > g.last_id) {
    g.last_id = last_id;
    w.PutGroup(group, g);
  }
  std::string body;
  resp::ReplyBuilder out(&body, ctx.rb->protocol());
  Claim claim{ctx, w, group, consumer, justid, &out};
  for (StreamId id : ids) {
    StreamPending p;
    bool pending = s->Pending(group, id, &p);
    if (!s->HasEntry(id)) {
      if (pending) w.RemovePending(group, id);
      continue;
    }
    bool forced = false;
    if (force && !pending) {
      p = StreamPending{now, 1, ""};
      pending = true;
      forced = true;
    }
    if (!pending) continue;
    if (!forced && minidle && now - p.delivery_time < minidle) continue;
    claim.One(id, std::move(p), deliverytime, retrycount);
  }
  w.Done();
  ctx.rb->ArrayHeader(claim.n);
  ctx.rb->Raw(body);
}

void CmdXAutoClaim(CommandContext& ctx) {
  auto args = ctx.args;
  std::string_view key = args[1], group = args[2], consumer = args[3];
  int64_t minidle;
  if (!ClaimPrelude(ctx, "XAUTOCLAIM", &minidle)) return;
  StreamId start;
  if (!ParseIntervalStart(ctx, args[5], &start)) return;
  int64_t count = 100;
  bool justid = false;
  constexpr int64_t kAttemptsFactor = 10;
  for (size_t j = 6; j < args.size(); j++) {
    size_t more = args.size() - 1 - j;
    if (Is(args[j], "count") && more) {
      int64_t v;
      int64_t max_count = INT64_MAX / std::max<int64_t>(sizeof(StreamId), kAttemptsFactor);
      if (!ParseInt64(args[j + 1], &v) || v < 1 || v > max_count) {
        ctx.rb->Error("ERR COUNT must be > 0");
        return;
      }
      count = v;
      j++;
    } else if (Is(args[j], "justid")) {
      justid = true;
    } else {
      ctx.rb->Error(errors::kSyntax);
      return;
    }
  }
  StreamWrite w(ctx, key);
  if (!w.Open()) return;
  StreamObject* s = w.stream();
  int64_t now = ctx.now_ms;
  int64_t attempts = count * kAttemptsFactor;
  std::string body;
  resp::ReplyBuilder out(&body, ctx.rb->protocol());
  Claim claim{ctx, w, group, consumer, justid, &out};
  std::vector<StreamId> deleted;
  // The candidates, in id order from start; the PEL changes as we go, so
  // they are taken first.
  std::vector<StreamId> cand;
  {
    const auto* gi = GroupIndexOf(*s, group);
    for (auto it = gi->pel.lower_bound(start); it != gi->pel.end(); ++it) cand.push_back(it->first);
  }
  size_t k = 0;
  for (; attempts-- && count && k < cand.size(); k++) {
    StreamId id = cand[k];
    StreamPending p;
    s->Pending(group, id, &p);
    if (!s->HasEntry(id)) {
      w.RemovePending(group, id);
      deleted.push_back(id);
      count--;
      continue;
    }
    if (minidle && now - p.delivery_time < minidle) continue;
    claim.One(id, std::move(p), now, -1);
    count--;
  }
  StreamId cursor = k < cand.size() ? cand[k] : StreamId{};
  w.Done();
  ctx.rb->ArrayHeader(3);
  ReplyId(ctx.rb, cursor);
  ctx.rb->ArrayHeader(claim.n);
  ctx.rb->Raw(body);
  ctx.rb->ArrayHeader(static_cast<int64_t>(deleted.size()));
  for (StreamId id : deleted) ReplyId(ctx.rb, id);
}

// ---- XINFO ----

void CmdXInfoStream(CommandContext& ctx) {
  auto args = ctx.args;
  bool wrong;
  const StreamObject* s = ReadStream(ctx, args[2], &wrong);
  if (wrong) return;
  if (!s) {
    ctx.rb->Error("ERR no such key");
    return;
  }
  bool full = false;
  int64_t count = 10;
  if (args.size() > 3) {
    if (!Is(args[3], "full") || (args.size() != 4 && args.size() != 6)) {
      ReplySubcommandSyntax(ctx, "XINFO");
      return;
    }
    full = true;
    if (args.size() == 6) {
      if (!Is(args[4], "count")) {
        ReplySubcommandSyntax(ctx, "XINFO");
        return;
      }
      if (!ArgInt(ctx, args[5], &count)) return;
      if (count < 0) count = 0;
    }
  }
  XInfoStream(ctx, *s, full, count);
}

void CmdXInfoGroups(CommandContext& ctx) {
  bool wrong;
  const StreamObject* s = ReadStream(ctx, ctx.args[2], &wrong);
  if (wrong) return;
  if (!s) {
    ctx.rb->Error("ERR no such key");
    return;
  }
  auto* rb = ctx.rb;
  std::vector<std::string> groups;
  for (const auto& [name, gi] : s->groups()) {
    if (gi.live) groups.push_back(name);
  }
  rb->ArrayHeader(static_cast<int64_t>(groups.size()));
  for (const std::string& name : groups) {
    const auto& gi = s->groups().at(name);
    StreamGroup g;
    s->Group(name, &g);
    rb->MapHeader(6);
    rb->Bulk("name");
    rb->Bulk(name);
    rb->Bulk("consumers");
    rb->Integer(static_cast<int64_t>(ConsumersOf(gi).size()));
    rb->Bulk("pending");
    rb->Integer(static_cast<int64_t>(gi.pel.size()));
    rb->Bulk("last-delivered-id");
    ReplyId(rb, g.last_id);
    rb->Bulk("entries-read");
    if (g.entries_read != kInvalidRead) {
      rb->Integer(g.entries_read);
    } else {
      rb->Null();
    }
    rb->Bulk("lag");
    ReplyLag(rb, *s, g);
  }
}

void CmdXInfoConsumers(CommandContext& ctx) {
  bool wrong;
  const StreamObject* s = ReadStream(ctx, ctx.args[2], &wrong);
  if (wrong) return;
  if (!s) {
    ctx.rb->Error("ERR no such key");
    return;
  }
  const auto* gi = GroupIndexOf(*s, ctx.args[3]);
  if (!gi) {
    ctx.rb->Error(StrCat("NOGROUP No such consumer group '", ctx.args[3], "' for key name '",
                         ctx.args[2], "'"));
    return;
  }
  std::vector<std::string> consumers = ConsumersOf(*gi);
  auto* rb = ctx.rb;
  rb->ArrayHeader(static_cast<int64_t>(consumers.size()));
  for (const std::string& c : consumers) {
    int64_t seen = 0;
    s->ConsumerSeen(ctx.args[3], c, &seen);
    int64_t idle = ctx.now_ms - seen;
    auto cp = gi->consumer_pel.find(c);
    rb->MapHeader(3);
    rb->Bulk("name");
    rb->Bulk(c);
    rb->Bulk("pending");
    rb->Integer(cp == gi->consumer_pel.end() ? 0 : static_cast<int64_t>(cp->second.size()));
    rb->Bulk("idle");
    rb->Integer(idle < 0 ? 0 : idle);
  }
}

void CmdXInfoHelp(CommandContext& ctx) {
  static const char* const kLines[] = {
      "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CONSUMERS <key> <groupname>",
      "    Show consumers of <groupname>.",
      "GROUPS <key>",
      "    Show the stream consumer groups.",
      "STREAM <key> [FULL [COUNT <count>]",
      "    Show information about the stream.",
      "HELP",
      "    Prints this help.",
  };
  ctx.rb->ArrayHeader(std::size(kLines));
  for (const char* l : kLines) ctx.rb->SimpleString(l);
}

}  // namespace lattice::node
