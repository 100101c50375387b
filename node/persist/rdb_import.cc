#include "node/persist/rdb_import.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/strings/str_format.h"
#include "node/command_table.h"
#include "node/evict.h"
#include "node/persist/file_util.h"
#include "node/scripting/lua_engine.h"
#include "node/server.h"
#include "node/storage/keyspace.h"
#include "node/str_util.h"
#include "resp/reply_builder.h"

namespace lattice::node {

namespace {

// ---- running commands on the key's shard ----

// A RESP2 reply, parsed (only what the read commands here answer).
struct Reply {
  char type = 0;  // '+', '-', ':', '$', '*'
  bool null = false;
  std::string str;
  int64_t num = 0;
  std::vector<Reply> items;
};

bool ParseReply(std::string_view in, size_t* at, Reply* out) {
  if (*at >= in.size()) return false;
  size_t eol = in.find("\r\n", *at);
  if (eol == std::string_view::npos) return false;
  out->type = in[*at];
  std::string_view line = in.substr(*at + 1, eol - *at - 1);
  *at = eol + 2;
  switch (out->type) {
    case '+':
    case '-':
      out->str = std::string(line);
      return true;
    case ':':
      return ParseInt64(line, &out->num);
    case '$': {
      int64_t n;
      if (!ParseInt64(line, &n)) return false;
      if (n < 0) {
        out->null = true;
        return true;
      }
      if (in.size() - *at < static_cast<size_t>(n) + 2) return false;
      out->str = std::string(in.substr(*at, static_cast<size_t>(n)));
      *at += static_cast<size_t>(n) + 2;
      return true;
    }
    case '*': {
      int64_t n;
      if (!ParseInt64(line, &n)) return false;
      if (n < 0) {
        out->null = true;
        return true;
      }
      out->items.resize(static_cast<size_t>(n));
      for (Reply& r : out->items) {
        if (!ParseReply(in, at, &r)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

// Runs one command as `parent` would (same server, time, client), in
// database `db`; returns its RESP2 reply.
std::string Call(const CommandContext& parent, int db, const std::vector<std::string>& args) {
  std::vector<std::string_view> views(args.begin(), args.end());
  std::string error;
  const CommandId* cmd = parent.server->commands().Resolve(views, &error);
  std::string reply;
  resp::ReplyBuilder rb(&reply, 2);
  if (!cmd || !cmd->handler) {
    rb.Error(error.empty() ? "ERR unknown command" : error);
    return reply;
  }
  CommandContext cx{views, &rb, parent.server, nullptr, db, parent.now_ms, cmd};
  cx.origin = parent.origin;
  cx.conn_id = parent.conn_id;
  cx.in_exec = true;  // nothing blocks
  cmd->handler(cx);
  return reply;
}

bool Parsed(const std::string& raw, Reply* r) {
  size_t at = 0;
  return ParseReply(raw, &at, r) && at == raw.size();
}

std::string IdText(const rdb::StreamId& id) { return StrCat(id.ms, "-", id.seq); }

bool ParseId(std::string_view s, rdb::StreamId* id) {
  size_t dash = s.find('-');
  if (dash == std::string_view::npos) return false;
  int64_t ms, seq;
  if (!ParseInt64(s.substr(0, dash), &ms) || !ParseInt64(s.substr(dash + 1), &seq)) return false;
  id->ms = static_cast<uint64_t>(ms);
  id->seq = static_cast<uint64_t>(seq);
  return true;
}

std::string ScoreText(double d) {
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  return absl::StrFormat("%.17g", d);
}

// Builds the key with `cmds`, stopping at the first error.
class Builder {
 public:
  Builder(const CommandContext& parent, int db) : parent_(parent), db_(db) {}
  bool Run(std::vector<std::string> args) {
    std::string r = Call(parent_, db_, args);
    if (!r.empty() && r[0] == '-') {
      error_ = r.substr(1, r.size() >= 3 ? r.size() - 3 : 0);
      return false;
    }
    return true;
  }
  // `head` then the items, in commands of at most 1024 items each.
  bool RunChunked(const std::vector<std::string>& head, const std::vector<std::string>& items,
                  size_t per_item) {
    size_t step = 1024 * per_item;
    for (size_t i = 0; i < items.size(); i += step) {
      std::vector<std::string> args = head;
      args.insert(args.end(), items.begin() + i, items.begin() + std::min(items.size(), i + step));
      if (!Run(std::move(args))) return false;
    }
    return true;
  }
  const std::string& error() const { return error_; }

 private:
  const CommandContext& parent_;
  int db_;
  std::string error_;
};

bool BuildStream(Builder& b, std::string_view key, const rdb::Stream& s) {
  std::string k(key);
  for (const rdb::StreamEntry& e : s.entries) {
    std::vector<std::string> args = {"XADD", k, IdText(e.id)};
    for (const auto& [f, v] : e.fields) {
      args.push_back(f);
      args.push_back(v);
    }
    if (!b.Run(std::move(args))) return false;
  }
  if (s.entries.empty()) {
    // An empty stream exists too: made by a group created with MKSTREAM.
    if (!b.Run({"XGROUP", "CREATE", k, "lattice-restore", "0", "MKSTREAM"}) ||
        !b.Run({"XGROUP", "DESTROY", k, "lattice-restore"})) {
      return false;
    }
  }
  std::vector<std::string> setid = {"XSETID", k, IdText(s.last_id), "ENTRIESADDED",
                                    std::to_string(s.entries_added), "MAXDELETEDID",
                                    IdText(s.max_deleted_id)};
  if (!b.Run(std::move(setid))) return false;
  for (const rdb::StreamGroup& g : s.groups) {
    std::vector<std::string> create = {"XGROUP", "CREATE", k, g.name, IdText(g.last_id)};
    if (g.entries_read >= 0) {
      create.push_back("ENTRIESREAD");
      create.push_back(std::to_string(g.entries_read));
    }
    if (!b.Run(std::move(create))) return false;
    for (const rdb::StreamConsumer& c : g.consumers) {
      if (!b.Run({"XGROUP", "CREATECONSUMER", k, g.name, c.name})) return false;
    }
    for (const rdb::StreamPending& p : g.pending) {
      // FORCE puts the entry in the consumer's pending list as delivered at
      // that time that many times (JUSTID: no delivery counted now).
      if (!b.Run({"XCLAIM", k, g.name, p.consumer, "0", IdText(p.id), "TIME",
                  std::to_string(p.delivery_ms), "RETRYCOUNT", std::to_string(p.delivery_count),
                  "FORCE", "JUSTID"})) {
        return false;
      }
    }
  }
  return true;
}

// XINFO STREAM FULL's flat name/value array as a lookup.
const Reply* Field(const Reply& r, std::string_view name) {
  for (size_t i = 0; i + 1 < r.items.size(); i += 2) {
    if (r.items[i].str == name) return &r.items[i + 1];
  }
  return nullptr;
}

bool ReadStream(const CommandContext& parent, int db, const std::string& key, rdb::Stream* s) {
  Reply r;
  if (!Parsed(Call(parent, db, {"XINFO", "STREAM", key, "FULL", "COUNT", "0"}), &r) ||
      r.type != '*') {
    return false;
  }
  const Reply* entries = Field(r, "entries");
  const Reply* last = Field(r, "last-generated-id");
  const Reply* maxdel = Field(r, "max-deleted-entry-id");
  const Reply* added = Field(r, "entries-added");
  const Reply* first = Field(r, "recorded-first-entry-id");
  const Reply* groups = Field(r, "groups");
  if (!entries || !last) return false;
  ParseId(last->str, &s->last_id);
  if (maxdel) ParseId(maxdel->str, &s->max_deleted_id);
  if (first) ParseId(first->str, &s->first_id);
  if (added) s->entries_added = static_cast<uint64_t>(added->num);
  for (const Reply& e : entries->items) {
    if (e.items.size() != 2) return false;
    rdb::StreamEntry& out = s->entries.emplace_back();
    if (!ParseId(e.items[0].str, &out.id)) return false;
    const auto& fv = e.items[1].items;
    for (size_t i = 0; i + 1 < fv.size(); i += 2) out.fields.emplace_back(fv[i].str, fv[i + 1].str);
  }
  if (groups) {
    for (const Reply& g : groups->items) {
      rdb::StreamGroup& out = s->groups.emplace_back();
      const Reply* name = Field(g, "name");
      const Reply* gl = Field(g, "last-delivered-id");
      const Reply* read = Field(g, "entries-read");
      if (!name || !gl) return false;
      out.name = name->str;
      ParseId(gl->str, &out.last_id);
      out.entries_read = read && !read->null ? read->num : -1;
      if (const Reply* pel = Field(g, "pending")) {
        for (const Reply& p : pel->items) {
          if (p.items.size() < 4) return false;
          rdb::StreamPending& pe = out.pending.emplace_back();
          ParseId(p.items[0].str, &pe.id);
          pe.consumer = p.items[1].str;
          pe.delivery_ms = p.items[2].num;
          pe.delivery_count = static_cast<uint64_t>(p.items[3].num);
        }
      }
      if (const Reply* cs = Field(g, "consumers")) {
        for (const Reply& c : cs->items) {
          const Reply* cname = Field(c, "name");
          if (!cname) return false;
          rdb::StreamConsumer& co = out.consumers.emplace_back();
          co.name = cname->str;
          if (const Reply* seen = Field(c, "seen-time")) co.seen_ms = seen->num;
        }
      }
    }
  }
  return true;
}

}  // namespace

bool BuildKey(const CommandContext& parent, int db, std::string_view key, const rdb::Value& v,
              int64_t expire_ms, int64_t idle_s, int freq, std::string* error) {
  Builder b(parent, db);
  std::string k(key);
  bool ok = true;
  switch (v.type) {
    case rdb::Type::kString:
      ok = b.Run({"SET", k, v.str});
      break;
    case rdb::Type::kList:
      ok = b.RunChunked({"RPUSH", k}, v.elems, 1);
      break;
    case rdb::Type::kSet:
      ok = b.RunChunked({"SADD", k}, v.elems, 1);
      break;
    case rdb::Type::kZset: {
      std::vector<std::string> items;
      items.reserve(v.zset.size() * 2);
      for (const auto& [member, score] : v.zset) {
        if (std::isnan(score)) {
          *error = "Bad data format";
          return false;
        }
        items.push_back(ScoreText(score));
        items.push_back(member);
      }
      ok = b.RunChunked({"ZADD", k}, items, 2);
      break;
    }
    case rdb::Type::kHash: {
      std::vector<std::string> items;
      items.reserve(v.hash.size() * 2);
      for (const auto& [f, val] : v.hash) {
        items.push_back(f);
        items.push_back(val);
      }
      ok = b.RunChunked({"HSET", k}, items, 2);
      break;
    }
    case rdb::Type::kStream:
      ok = BuildStream(b, key, v.stream);
      break;
  }
  if (ok && expire_ms >= 0) ok = b.Run({"PEXPIREAT", k, std::to_string(expire_ms)});
  if (!ok) {
    *error = b.error();
    // Half a key is worse than none.
    Call(parent, db, {"DEL", k});
    return false;
  }
  if (idle_s >= 0 || freq >= 0) {
    // As Redis's objectSetLRUOrLFU: FREQ under an LFU policy, IDLETIME
    // otherwise.
    Db& d = parent.DbFor(key, db);
    if (Entry* e = d.FindRaw(key)) {
      if (g_evict.lfu() && freq >= 0) {
        e->set_lru((InitialLru(parent.now_ms) & ~255u) | static_cast<uint32_t>(freq));
      } else if (!g_evict.lfu() && idle_s >= 0) {
        e->set_lru(static_cast<uint32_t>(std::max<int64_t>(0, parent.now_ms / 1000 - idle_s)));
      }
    }
  }
  return true;
}

bool ReadKey(const CommandContext& parent, int db, std::string_view key, rdb::Value* out) {
  std::string k(key);
  Reply type;
  if (!Parsed(Call(parent, db, {"TYPE", k}), &type)) return false;
  Reply r;
  auto strings = [&](std::vector<std::string> args, std::vector<std::string>* into) {
    if (!Parsed(Call(parent, db, args), &r) || r.type != '*') return false;
    for (Reply& x : r.items) into->push_back(std::move(x.str));
    return true;
  };
  if (type.str == "string") {
    out->type = rdb::Type::kString;
    if (!Parsed(Call(parent, db, {"GET", k}), &r) || r.type != '$' || r.null) return false;
    out->str = std::move(r.str);
    return true;
  }
  if (type.str == "list") {
    out->type = rdb::Type::kList;
    return strings({"LRANGE", k, "0", "-1"}, &out->elems);
  }
  if (type.str == "set") {
    out->type = rdb::Type::kSet;
    return strings({"SMEMBERS", k}, &out->elems);
  }
  if (type.str == "zset") {
    out->type = rdb::Type::kZset;
    std::vector<std::string> flat;
    if (!strings({"ZRANGE", k, "0", "-1", "WITHSCORES"}, &flat) || flat.size() % 2) return false;
    for (size_t i = 0; i < flat.size(); i += 2) {
      out->zset.emplace_back(std::move(flat[i]), std::strtod(flat[i + 1].c_str(), nullptr));
    }
    return true;
  }
  if (type.str == "hash") {
    out->type = rdb::Type::kHash;
    std::vector<std::string> flat;
    if (!strings({"HGETALL", k}, &flat) || flat.size() % 2) return false;
    for (size_t i = 0; i < flat.size(); i += 2) {
      out->hash.emplace_back(std::move(flat[i]), std::move(flat[i + 1]));
    }
    return true;
  }
  if (type.str == "stream") {
    out->type = rdb::Type::kStream;
    return ReadStream(parent, db, k, &out->stream);
  }
  return false;  // "none"
}

absl::Status ImportRdbFile(Server& server, const std::string& path, RdbImportInfo* info) {
  *info = RdbImportInfo{};
  std::string data;
  absl::Status st = persist::ReadWholeFile(path, "snapshot", &data);
  if (!st.ok()) return st;
  const int databases = server.worker(0).shard().databases();
  const int64_t now = NowMs();
  std::string reply;
  resp::ReplyBuilder rb(&reply, 2);
  CommandContext parent{{}, &rb, &server, nullptr, 0, now, nullptr};
  std::vector<std::string> functions;
  st = rdb::ReadFile(
      data, path,
      [&](rdb::Key&& k) -> absl::Status {
        if (k.db < 0 || k.db >= databases) {
          return absl::DataLossError(StrCat("Bad dump file ", path, ": key in database ", k.db,
                                            ", this server has ", databases,
                                            " (raise `databases`)"));
        }
        if (k.expire_ms >= 0 && k.expire_ms <= now) {
          info->expired++;  // as Redis loading as a master
          return absl::OkStatus();
        }
        std::string error;
        Call(parent, k.db, {"DEL", k.name});  // a key repeated in the file: the last wins
        if (!BuildKey(parent, k.db, k.name, k.value, k.expire_ms, k.idle_s, k.freq, &error)) {
          return absl::DataLossError(StrCat("Bad dump file ", path, ": key '", k.name,
                                            "' does not load here: ", error));
        }
        info->keys++;
        return absl::OkStatus();
      },
      &functions);
  if (!st.ok()) return st;
  for (const std::string& code : functions) {
    std::string r = Call(parent, 0, {"FUNCTION", "LOAD", "REPLACE", code});
    if (!r.empty() && r[0] == '-') {
      return absl::DataLossError(StrCat("Bad dump file ", path, ": a function library does not load: ",
                                        r.substr(1, r.size() - 3)));
    }
    info->functions++;
  }
  return absl::OkStatus();
}

}  // namespace lattice::node
