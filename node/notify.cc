#include "node/notify.h"

#include "absl/container/flat_hash_map.h"
#include "node/families/families.h"
#include "node/pubsub.h"
#include "node/server.h"
#include "node/str_util.h"

namespace lattice::node {

std::atomic<uint32_t> g_notify_flags{0};
thread_local TouchCapture* tls_touch_capture = nullptr;

namespace {

std::atomic<Server*> g_notify_server{nullptr};

constexpr uint32_t kAllClasses = kNotifyGeneric | kNotifyString | kNotifyList | kNotifySet |
                                 kNotifyHash | kNotifyZset | kNotifyExpired | kNotifyEvicted |
                                 kNotifyStream | kNotifyModule;

struct Event {
  uint32_t cls;
  std::string_view name;
};

// The event a write command's changed keys get (Redis 7.0's
// notifyKeyspaceEvent calls). Commands whose keys play different roles
// (RENAME, LMOVE, SMOVE...) are handled in RoleEvent.
const absl::flat_hash_map<std::string_view, Event>& Events() {
  static const auto* m = new absl::flat_hash_map<std::string_view, Event>{
      {"set", {kNotifyString, "set"}},
      {"setnx", {kNotifyString, "set"}},
      {"setex", {kNotifyString, "set"}},
      {"psetex", {kNotifyString, "set"}},
      {"getset", {kNotifyString, "set"}},
      {"mset", {kNotifyString, "set"}},
      {"msetnx", {kNotifyString, "set"}},
      {"append", {kNotifyString, "append"}},
      {"setrange", {kNotifyString, "setrange"}},
      {"incr", {kNotifyString, "incrby"}},
      {"incrby", {kNotifyString, "incrby"}},
      // Redis 7.0 tells "incrby" for DECR and DECRBY too.
      {"decr", {kNotifyString, "incrby"}},
      {"decrby", {kNotifyString, "incrby"}},
      {"incrbyfloat", {kNotifyString, "incrbyfloat"}},
      {"getdel", {kNotifyGeneric, "del"}},
      {"setbit", {kNotifyString, "setbit"}},
      {"bitfield", {kNotifyString, "setbit"}},
      {"bitop", {kNotifyString, "set"}},
      {"pfadd", {kNotifyString, "pfadd"}},
      {"pfmerge", {kNotifyString, "pfadd"}},
      {"del", {kNotifyGeneric, "del"}},
      {"unlink", {kNotifyGeneric, "del"}},
      {"expire", {kNotifyGeneric, "expire"}},
      {"pexpire", {kNotifyGeneric, "expire"}},
      {"expireat", {kNotifyGeneric, "expire"}},
      {"pexpireat", {kNotifyGeneric, "expire"}},
      {"persist", {kNotifyGeneric, "persist"}},
      {"sort", {kNotifyList, "sortstore"}},
      {"lpush", {kNotifyList, "lpush"}},
      {"lpushx", {kNotifyList, "lpush"}},
      {"rpush", {kNotifyList, "rpush"}},
      {"rpushx", {kNotifyList, "rpush"}},
      {"lpop", {kNotifyList, "lpop"}},
      {"blpop", {kNotifyList, "lpop"}},
      {"rpop", {kNotifyList, "rpop"}},
      {"brpop", {kNotifyList, "rpop"}},
      {"linsert", {kNotifyList, "linsert"}},
      {"lset", {kNotifyList, "lset"}},
      {"lrem", {kNotifyList, "lrem"}},
      {"ltrim", {kNotifyList, "ltrim"}},
      {"hset", {kNotifyHash, "hset"}},
      {"hmset", {kNotifyHash, "hset"}},
      {"hsetnx", {kNotifyHash, "hset"}},
      {"hdel", {kNotifyHash, "hdel"}},
      {"hincrby", {kNotifyHash, "hincrby"}},
      {"hincrbyfloat", {kNotifyHash, "hincrbyfloat"}},
      {"sadd", {kNotifySet, "sadd"}},
      {"srem", {kNotifySet, "srem"}},
      {"spop", {kNotifySet, "spop"}},
      {"sinterstore", {kNotifySet, "sinterstore"}},
      {"sunionstore", {kNotifySet, "sunionstore"}},
      {"sdiffstore", {kNotifySet, "sdiffstore"}},
      {"zadd", {kNotifyZset, "zadd"}},
      {"zincrby", {kNotifyZset, "zincr"}},
      {"zrem", {kNotifyZset, "zrem"}},
      {"zremrangebyscore", {kNotifyZset, "zremrangebyscore"}},
      {"zremrangebyrank", {kNotifyZset, "zremrangebyrank"}},
      {"zremrangebylex", {kNotifyZset, "zremrangebylex"}},
      {"zpopmin", {kNotifyZset, "zpopmin"}},
      {"bzpopmin", {kNotifyZset, "zpopmin"}},
      {"zpopmax", {kNotifyZset, "zpopmax"}},
      {"bzpopmax", {kNotifyZset, "zpopmax"}},
      {"zunionstore", {kNotifyZset, "zunionstore"}},
      {"zinterstore", {kNotifyZset, "zinterstore"}},
      {"zdiffstore", {kNotifyZset, "zdiffstore"}},
      {"zrangestore", {kNotifyZset, "zrangestore"}},
      {"geoadd", {kNotifyZset, "zadd"}},
      {"georadius", {kNotifyZset, "georadiusstore"}},
      {"georadiusbymember", {kNotifyZset, "georadiusstore"}},
      {"geosearchstore", {kNotifyZset, "geosearchstore"}},
  };
  return *m;
}

bool IsCollectionClass(uint32_t cls) {
  return cls & (kNotifyList | kNotifySet | kNotifyHash | kNotifyZset);
}

bool HasArg(std::span<const std::string_view> args, std::string_view word) {
  for (size_t i = 1; i < args.size(); i++) {
    if (EqualsIgnoreCase(args[i], word)) return true;
  }
  return false;
}

// Events of the commands whose keys play roles: fills `out` in Redis's
// order and returns true, or false for a plain command.
bool RoleEvents(const CommandContext& cx, std::vector<std::pair<std::string, Event>>* out) {
  std::string_view name = cx.cmd->fullname;
  auto args = cx.args;
  auto side = [&](std::string_view dir, bool pop) -> std::string_view {
    bool left = EqualsIgnoreCase(dir, "left");
    return pop ? (left ? "lpop" : "rpop") : (left ? "lpush" : "rpush");
  };
  if (name == "rename" || name == "renamenx") {
    out->push_back({std::string(args[1]), {kNotifyGeneric, "rename_from"}});
    out->push_back({std::string(args[2]), {kNotifyGeneric, "rename_to"}});
  } else if (name == "copy") {
    out->push_back({std::string(args[2]), {kNotifyGeneric, "copy_to"}});
  } else if (name == "smove") {
    out->push_back({std::string(args[1]), {kNotifySet, "srem"}});
    out->push_back({std::string(args[2]), {kNotifySet, "sadd"}});
  } else if (name == "rpoplpush" || name == "brpoplpush") {
    // The push is told before the pop (Redis's lmoveGenericCommand).
    out->push_back({std::string(args[2]), {kNotifyList, "lpush"}});
    out->push_back({std::string(args[1]), {kNotifyList, "rpop"}});
  } else if (name == "lmove" || name == "blmove") {
    out->push_back({std::string(args[2]), {kNotifyList, side(args[4], false)}});
    out->push_back({std::string(args[1]), {kNotifyList, side(args[3], true)}});
  } else if (name == "lmpop" || name == "blmpop") {
    return false;  // the direction decides; handled as plain below
  } else {
    return false;
  }
  return true;
}

Event PlainEvent(const CommandContext& cx, bool* found) {
  std::string_view name = cx.cmd->fullname;
  *found = true;
  if (name == "lmpop" || name == "blmpop") {
    return {kNotifyList, HasArg(cx.args, "left") ? "lpop" : "rpop"};
  }
  if (name == "zmpop" || name == "bzmpop") {
    return {kNotifyZset, HasArg(cx.args, "min") ? "zpopmin" : "zpopmax"};
  }
  if (name == "zadd" && HasArg(cx.args, "incr")) return {kNotifyZset, "zincr"};
  if (name == "getex") {
    return {kNotifyGeneric, HasArg(cx.args, "persist") ? "persist" : "expire"};
  }
  auto it = Events().find(name);
  if (it == Events().end()) {
    *found = false;
    return {};
  }
  return it->second;
}

bool Exists(Server* s, int db, std::string_view key) {
  return s->ShardFor(key).db(db).FindRaw(key) != nullptr;
}

}  // namespace

void CaptureTouch(TouchCapture* capture, int db, std::string_view key) { capture->Add(db, key); }

void TouchCapture::Add(int db, std::string_view key) {
  for (const auto& [d, k] : keys) {
    if (d == db && k == key) return;
  }
  keys.emplace_back(db, std::string(key));
}

bool ParseNotifyFlags(std::string_view text, uint32_t* flags) {
  uint32_t f = 0;
  for (char c : text) {
    switch (c) {
      case 'A': f |= kAllClasses; break;
      case 'g': f |= kNotifyGeneric; break;
      case '$': f |= kNotifyString; break;
      case 'l': f |= kNotifyList; break;
      case 's': f |= kNotifySet; break;
      case 'h': f |= kNotifyHash; break;
      case 'z': f |= kNotifyZset; break;
      case 'x': f |= kNotifyExpired; break;
      case 'e': f |= kNotifyEvicted; break;
      case 'K': f |= kNotifyKeyspace; break;
      case 'E': f |= kNotifyKeyevent; break;
      case 't': f |= kNotifyStream; break;
      case 'm': f |= kNotifyKeyMiss; break;
      case 'd': f |= kNotifyModule; break;
      case 'n': f |= kNotifyNew; break;
      default: return false;
    }
  }
  *flags = f;
  return true;
}

std::string NotifyFlagsText(uint32_t f) {
  std::string s;
  if ((f & kAllClasses) == kAllClasses) {
    s += 'A';
  } else {
    static constexpr std::pair<uint32_t, char> kOrder[] = {
        {kNotifyGeneric, 'g'}, {kNotifyString, '$'},  {kNotifyList, 'l'},
        {kNotifySet, 's'},     {kNotifyHash, 'h'},    {kNotifyZset, 'z'},
        {kNotifyExpired, 'x'}, {kNotifyEvicted, 'e'}, {kNotifyStream, 't'},
        {kNotifyModule, 'd'},  {kNotifyNew, 'n'}};
    for (const auto& [bit, c] : kOrder) {
      if (f & bit) s += c;
    }
  }
  if (f & kNotifyKeyspace) s += 'K';
  if (f & kNotifyKeyevent) s += 'E';
  if (f & kNotifyKeyMiss) s += 'm';
  return s;
}

void SetNotifyServer(Server* server) { g_notify_server.store(server, std::memory_order_release); }

void NotifyKeyspaceEvent(uint32_t cls, std::string_view event, std::string_view key, int db) {
  uint32_t flags = g_notify_flags.load(std::memory_order_relaxed);
  if (!(flags & cls)) return;
  Server* server = g_notify_server.load(std::memory_order_acquire);
  if (!server) return;
  if (flags & kNotifyKeyspace) {
    server->pubsub().Publish(StrCat("__keyspace@", db, "__:", key), event, false);
  }
  if (flags & kNotifyKeyevent) {
    server->pubsub().Publish(StrCat("__keyevent@", db, "__:", event), key, false);
  }
}

void RunNotified(CommandContext& cx) {
  if (g_notify_flags.load(std::memory_order_relaxed) == 0 || !(cx.cmd->flags & kCmdWrite) ||
      tls_touch_capture) {
    cx.cmd->handler(cx);
    return;
  }
  TouchCapture capture;
  tls_touch_capture = &capture;
  cx.cmd->handler(cx);
  tls_touch_capture = nullptr;
  if (capture.keys.empty()) return;
  Server* s = cx.server;
  if (cx.cmd->fullname == "move") {
    // move_from in the source database, then move_to (Redis's order).
    for (const auto& [db, k] : capture.keys) {
      if (db == cx.db) NotifyKeyspaceEvent(kNotifyGeneric, "move_from", k, db);
    }
    for (const auto& [db, k] : capture.keys) {
      if (db != cx.db) NotifyKeyspaceEvent(kNotifyGeneric, "move_to", k, db);
    }
    return;
  }
  std::vector<std::pair<std::string, Event>> roles;
  if (RoleEvents(cx, &roles)) {
    for (const auto& [key, ev] : roles) {
      for (const auto& [db, k] : capture.keys) {
        if (k != key) continue;
        NotifyKeyspaceEvent(ev.cls, ev.name, k, db);
        if (IsCollectionClass(ev.cls) && !Exists(s, db, k)) {
          NotifyKeyspaceEvent(kNotifyGeneric, "del", k, db);
        }
        break;
      }
    }
    return;
  }
  bool found;
  Event ev = PlainEvent(cx, &found);
  if (!found) return;
  std::string_view name = cx.cmd->fullname;
  const bool sets_ttl = name == "setex" || name == "psetex" ||
                        (name == "set" && (HasArg(cx.args, "ex") || HasArg(cx.args, "px") ||
                                           HasArg(cx.args, "exat") || HasArg(cx.args, "pxat")));
  const bool expire_cmd = ev.name == "expire";
  for (const auto& [db, key] : capture.keys) {
    const bool exists = Exists(s, db, key);
    // An expiry set in the past deletes the key (Redis tells "del").
    if (expire_cmd && !exists) {
      NotifyKeyspaceEvent(kNotifyGeneric, "del", key, db);
      continue;
    }
    NotifyKeyspaceEvent(ev.cls, ev.name, key, db);
    if (sets_ttl && exists) NotifyKeyspaceEvent(kNotifyGeneric, "expire", key, db);
    if ((IsCollectionClass(ev.cls) || ev.name == "sortstore") && !exists) {
      NotifyKeyspaceEvent(kNotifyGeneric, "del", key, db);
    }
  }
}

}  // namespace lattice::node
