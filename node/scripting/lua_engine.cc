#include "node/scripting/lua_engine.h"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
int luaopen_cjson(lua_State* L);
int luaopen_bit(lua_State* L);
}

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "node/command_meta.h"
#include "node/command_table.h"
#include "node/families/families.h"
#include "node/notify.h"
#include "node/scripting/lua_libs.h"
#include "node/server.h"
#include "node/str_util.h"

namespace lattice::node {

// One script invocation, as the redis.* functions see it.
struct LuaEngine::Invocation {
  CommandContext* cx;
  const ScriptCall* call;
  int db;
  int resp = 2;  // what redis.call replies are converted from (redis.setresp)
  bool in_call = false;
  bool killed = false;
  RunningScript state;
};

namespace {

// Registry keys: the addresses of these bytes.
char kEngineKey, kScriptsKey, kProxiesKey, kEnvKey, kFunctionsKey, kLoadingKey, kRedisKey,
    kLoadRedisKey;

std::atomic<int64_t> g_lua_memory{0};

LuaEngine* EngineOf(lua_State* L) {
  lua_pushlightuserdata(L, &kEngineKey);
  lua_rawget(L, LUA_REGISTRYINDEX);
  auto* e = static_cast<LuaEngine*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return e;
}

// ---- errors as tables ----

// Pushes Redis's error table {err = "CODE message"} for `text`, which is
// either "-CODE message" (a reply) or a bare message (given code ERR).
void PushErrorTable(lua_State* L, std::string_view text) {
  std::string code = "ERR", msg;
  if (!text.empty() && text[0] == '-') {
    text.remove_prefix(1);
    size_t sp = text.find(' ');
    if (sp == std::string_view::npos) {
      msg = std::string(text);
    } else {
      code = std::string(text.substr(0, sp));
      msg = std::string(text.substr(sp + 1));
    }
  } else {
    msg = std::string(text);
  }
  while (!msg.empty() && (msg.back() == '\r' || msg.back() == '\n')) msg.pop_back();
  while (!msg.empty() && (msg.front() == '\r' || msg.front() == '\n')) msg.erase(0, 1);
  std::string full = code + " " + msg;
  lua_newtable(L);
  lua_pushlstring(L, full.data(), full.size());
  lua_setfield(L, -2, "err");
}

// Marks the error table on top as already counted in the error stats.
void MarkCounted(lua_State* L) {
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, "ignore_error_stats_update");
}

// ---- read-only tables ----
//
// Debian's Lua has no read-only tables, so each protected table is seen
// through an empty proxy whose metatable reads from it and refuses writes.
// pairs, next, rawget, rawset and setmetatable look through proxies.

int ReadOnlyError(lua_State* L) { return luaL_error(L, "Attempt to modify a readonly table"); }

// The real table behind the proxy at `idx`, pushed; or the value itself.
void PushReal(lua_State* L, int idx) {
  idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
  if (lua_type(L, idx) == LUA_TTABLE) {
    lua_pushlightuserdata(L, &kProxiesKey);
    lua_rawget(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, idx);
    lua_rawget(L, -2);
    lua_remove(L, -2);
    if (!lua_isnil(L, -1)) return;
    lua_pop(L, 1);
  }
  lua_pushvalue(L, idx);
}

bool IsProxy(lua_State* L, int idx) {
  if (lua_type(L, idx) != LUA_TTABLE) return false;
  idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
  lua_pushlightuserdata(L, &kProxiesKey);
  lua_rawget(L, LUA_REGISTRYINDEX);
  lua_pushvalue(L, idx);
  lua_rawget(L, -2);
  bool proxy = !lua_isnil(L, -1);
  lua_pop(L, 2);
  return proxy;
}

// Replaces the table on top with its read-only proxy.
void Protect(lua_State* L) {
  int real = lua_gettop(L);
  lua_newtable(L);  // proxy
  int proxy = real + 1;
  lua_newtable(L);  // its metatable
  lua_pushvalue(L, real);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, ReadOnlyError);
  lua_setfield(L, -2, "__newindex");
  // getmetatable() of a proxy gives a read-only empty table.
  lua_newtable(L);
  lua_newtable(L);
  lua_pushcfunction(L, ReadOnlyError);
  lua_setfield(L, -2, "__newindex");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, proxy);
  lua_pushlightuserdata(L, &kProxiesKey);
  lua_rawget(L, LUA_REGISTRYINDEX);
  lua_pushvalue(L, proxy);
  lua_pushvalue(L, real);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  lua_remove(L, real);
}

int NextThrough(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  PushReal(L, 1);
  lua_replace(L, 1);
  if (lua_next(L, 1)) return 2;
  lua_pushnil(L);
  return 1;
}

int PairsThrough(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_pushcfunction(L, NextThrough);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

int RawGetThrough(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  PushReal(L, 1);
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  return 1;
}

int RawSetGuarded(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  luaL_checkany(L, 3);
  if (IsProxy(L, 1)) {
    lua_pushstring(L, "Attempt to modify a readonly table");
    return lua_error(L);
  }
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 1;
}

int SetMetatableGuarded(lua_State* L) {
  if (IsProxy(L, 1)) {
    lua_pushstring(L, "Attempt to modify a readonly table");
    return lua_error(L);
  }
  lua_pushvalue(L, lua_upvalueindex(1));  // the original setmetatable
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

// loadstring and load: the chunk they make sees the script globals.
int LoadInSandbox(lua_State* L) {
  int n = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, n, LUA_MULTRET);
  if (lua_isfunction(L, 1)) {
    lua_pushlightuserdata(L, &kEnvKey);
    lua_rawget(L, LUA_REGISTRYINDEX);
    lua_setfenv(L, 1);
  }
  return lua_gettop(L);
}

int MissingGlobal(lua_State* L) {
  const char* name = lua_tostring(L, 2);
  return luaL_error(L, "Script attempted to access nonexistent global variable '%s'",
                    name ? name : "?");
}

// ---- Redis replies -> Lua values ----

int64_t ParseInt(const char*& p) {
  bool neg = *p == '-';
  if (neg) p++;
  int64_t v = 0;
  while (*p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
  p += 2;  // CRLF
  return neg ? -v : v;
}

std::string_view ParseLine(const char*& p) {
  const char* start = p;
  while (*p != '\r') p++;
  std::string_view line(start, p - start);
  p += 2;
  return line;
}

// Pushes the reply at p (well formed: our own reply builder wrote it) and
// returns the position after it. `push` false parses without pushing
// (attributes).
const char* PushReply(lua_State* L, const char* p, bool push) {
  if (push) lua_checkstack(L, 4);
  char type = *p++;
  switch (type) {
    case '+': {
      std::string_view s = ParseLine(p);
      if (push) {
        lua_newtable(L);
        lua_pushlstring(L, s.data(), s.size());
        lua_setfield(L, -2, "ok");
      }
      return p;
    }
    case '-': {
      std::string_view s = ParseLine(p);
      if (push) {
        PushErrorTable(L, StrCat("-", s));
        MarkCounted(L);
      }
      return p;
    }
    case ':': {
      int64_t v = ParseInt(p);
      if (push) lua_pushnumber(L, static_cast<lua_Number>(v));
      return p;
    }
    case '$': {
      int64_t len = ParseInt(p);
      if (len < 0) {
        if (push) lua_pushboolean(L, 0);
        return p;
      }
      if (push) lua_pushlstring(L, p, static_cast<size_t>(len));
      return p + len + 2;
    }
    case '=': {
      int64_t len = ParseInt(p);
      if (push) {
        lua_newtable(L);
        lua_newtable(L);
        lua_pushlstring(L, p + 4, static_cast<size_t>(len - 4));
        lua_setfield(L, -2, "string");
        lua_pushlstring(L, p, 3);
        lua_setfield(L, -2, "format");
        lua_setfield(L, -2, "verbatim_string");
      }
      return p + len + 2;
    }
    case '*': {
      int64_t n = ParseInt(p);
      if (n < 0) {
        if (push) lua_pushboolean(L, 0);
        return p;
      }
      if (push) lua_createtable(L, static_cast<int>(n), 0);
      for (int64_t i = 0; i < n; i++) {
        p = PushReply(L, p, push);
        if (push) lua_rawseti(L, -2, static_cast<int>(i + 1));
      }
      return p;
    }
    case '%': {
      int64_t n = ParseInt(p);
      if (push) {
        lua_newtable(L);
        lua_newtable(L);
      }
      for (int64_t i = 0; i < n; i++) {
        p = PushReply(L, p, push);
        p = PushReply(L, p, push);
        if (push) lua_settable(L, -3);
      }
      if (push) lua_setfield(L, -2, "map");
      return p;
    }
    case '~': {
      int64_t n = ParseInt(p);
      if (push) {
        lua_newtable(L);
        lua_newtable(L);
      }
      for (int64_t i = 0; i < n; i++) {
        p = PushReply(L, p, push);
        if (push) {
          lua_pushboolean(L, 1);
          lua_settable(L, -3);
        }
      }
      if (push) lua_setfield(L, -2, "set");
      return p;
    }
    case '_':
      p += 2;
      if (push) lua_pushnil(L);
      return p;
    case '#': {
      bool b = *p == 't';
      p += 3;
      if (push) lua_pushboolean(L, b);
      return p;
    }
    case ',': {
      std::string s(ParseLine(p));
      if (push) {
        lua_newtable(L);
        lua_pushnumber(L, std::strtod(s.c_str(), nullptr));
        lua_setfield(L, -2, "double");
      }
      return p;
    }
    case '(': {
      std::string_view s = ParseLine(p);
      if (push) {
        lua_newtable(L);
        lua_pushlstring(L, s.data(), s.size());
        lua_setfield(L, -2, "big_number");
      }
      return p;
    }
    case '|': {
      int64_t n = ParseInt(p);
      for (int64_t i = 0; i < 2 * n; i++) p = PushReply(L, p, false);
      return PushReply(L, p, push);
    }
    default:  // '>' and anything else: a reply a script never gets
      if (push) lua_pushnil(L);
      return p;
  }
}

// ---- Lua values -> replies ----

// (long long)n as Redis's x86 build gives it: out of range and NaN give
// the smallest value.
int64_t LuaToInteger(lua_Number n) {
  if (!(n >= -9223372036854775808.0 && n < 9223372036854775808.0)) return INT64_MIN;
  return static_cast<int64_t>(n);
}

std::string NoNewlines(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return out;
}

// Pushes t[name] (raw) of the table at `table` (default: the top) and
// returns true when it is of `type`; otherwise pushes nothing and returns
// false.
bool Field(lua_State* L, const char* name, int type, int table = -1) {
  if (table < 0) table = lua_gettop(L) + table + 1;
  lua_pushstring(L, name);
  lua_rawget(L, table);
  if (lua_type(L, -1) == type) return true;
  lua_pop(L, 1);
  return false;
}

// The string on top of the stack (valid while it stays there).
std::string_view TopString(lua_State* L) {
  size_t len;
  const char* s = lua_tolstring(L, -1, &len);
  return std::string_view(s, len);
}

// Writes the value on top of the stack to rb and pops it.
void WriteReply(lua_State* L, resp::ReplyBuilder* rb, int script_resp) {
  if (!lua_checkstack(L, 4)) {
    rb->Error("ERR reached lua stack limit");
    lua_pop(L, 1);
    return;
  }
  switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
      size_t len;
      const char* s = lua_tolstring(L, -1, &len);
      rb->Bulk(std::string_view(s, len));
      break;
    }
    case LUA_TBOOLEAN:
      if (script_resp == 2) {
        if (lua_toboolean(L, -1)) {
          rb->Integer(1);
        } else {
          rb->Null();
        }
      } else {
        rb->Bool(lua_toboolean(L, -1));
      }
      break;
    case LUA_TNUMBER:
      rb->Integer(LuaToInteger(lua_tonumber(L, -1)));
      break;
    case LUA_TTABLE: {
      // Redis's special reply tables, recognised by one field each (read
      // raw, as Redis does).
      if (Field(L, "err", LUA_TSTRING)) {
        rb->Error(TopString(L));
        lua_pop(L, 2);
        return;
      }
      if (Field(L, "ok", LUA_TSTRING)) {
        rb->SimpleString(NoNewlines(TopString(L)));
        lua_pop(L, 2);
        return;
      }
      if (Field(L, "double", LUA_TNUMBER)) {
        rb->Double(lua_tonumber(L, -1));
        lua_pop(L, 2);
        return;
      }
      if (Field(L, "big_number", LUA_TSTRING)) {
        rb->BigNumber(NoNewlines(TopString(L)));
        lua_pop(L, 2);
        return;
      }
      if (Field(L, "verbatim_string", LUA_TTABLE)) {
        if (Field(L, "format", LUA_TSTRING)) {
          if (Field(L, "string", LUA_TSTRING, -2)) {
            std::string_view text = TopString(L);
            lua_pop(L, 1);
            std::string_view format = TopString(L);
            rb->Verbatim(text, format.substr(0, 3));
            lua_pop(L, 3);
            return;
          }
          lua_pop(L, 1);
        }
        lua_pop(L, 1);
      }
      const bool map = Field(L, "map", LUA_TTABLE);
      if (map || Field(L, "set", LUA_TTABLE)) {
        int64_t n = 0;
        lua_pushnil(L);
        while (lua_next(L, -2)) {
          lua_pop(L, 1);
          n++;
        }
        if (map) {
          rb->MapHeader(n);
        } else {
          rb->SetHeader(n);
        }
        lua_pushnil(L);
        while (lua_next(L, -2)) {
          if (map) {
            lua_pushvalue(L, -2);
            WriteReply(L, rb, script_resp);  // key
            WriteReply(L, rb, script_resp);  // value
          } else {
            lua_pop(L, 1);  // the set's `true`
            lua_pushvalue(L, -1);
            WriteReply(L, rb, script_resp);
          }
        }
        lua_pop(L, 2);
        return;
      }
      // An array: elements 1, 2, ... up to the first nil.
      int n = 0;
      while (true) {
        lua_rawgeti(L, -1, n + 1);
        bool nil = lua_isnil(L, -1);
        lua_pop(L, 1);
        if (nil) break;
        n++;
      }
      rb->ArrayHeader(n);
      for (int i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        WriteReply(L, rb, script_resp);
      }
      break;
    }
    default:
      rb->Null();
  }
  lua_pop(L, 1);
}

// ---- the error handler ----

// Turns any error into Redis's error table and adds where it was raised
// (the first Lua function on the stack: a redis.call or error() is C).
int ErrorHandler(lua_State* L) {
  lua_settop(L, 1);
  lua_Debug ar;
  bool have = lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar);
  if (have && std::strcmp(ar.what, "C") == 0) {
    have = lua_getstack(L, 2, &ar) && lua_getinfo(L, "Sl", &ar);
  }
  if (!lua_istable(L, 1)) {
    lua_newtable(L);
    lua_pushstring(L, "ERR ");
    lua_getglobal(L, "tostring");
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    lua_concat(L, 2);
    lua_setfield(L, -2, "err");
    lua_replace(L, 1);
  }
  if (have) {
    lua_pushstring(L, ar.source);
    lua_setfield(L, 1, "source");
    lua_pushinteger(L, ar.currentline);
    lua_setfield(L, 1, "line");
  }
  return 1;
}

// ---- redis.* ----

LuaEngine::Invocation* RunOf(lua_State* L) {
  LuaEngine* e = EngineOf(L);
  return e ? e->current() : nullptr;
}

// redis.call / redis.pcall. Every C++ object lives in CallImpl, so that
// lua_error (a longjmp) never skips a destructor.
bool CallImpl(lua_State* L, LuaEngine* engine, LuaEngine::Invocation* run, bool raise);

int CallCommon(lua_State* L, bool raise) {
  LuaEngine* engine = EngineOf(L);
  LuaEngine::Invocation* run = engine ? engine->current() : nullptr;
  if (!run) {
    PushErrorTable(L, "redis.call/pcall can only be called inside a script invocation");
    return lua_error(L);
  }
  if (CallImpl(L, engine, run, raise)) return lua_error(L);
  return 1;
}

int RedisCall(lua_State* L) { return CallCommon(L, true); }
int RedisPCall(lua_State* L) { return CallCommon(L, false); }

// The command a script may not use, or its refusal text.
std::string Refusal(Server* server, LuaEngine::Invocation& run, const CommandId& cmd,
                    std::span<const std::string_view> args) {
  const CommandMeta* meta = MetaOf(cmd);
  bool noscript = (cmd.flags & kCmdNoScript) || (meta && (meta->flags & kRfNoscript));
  if (noscript || ((cmd.flags & kCmdConnection) && cmd.handler != CmdSelect)) {
    return "This Redis command is not allowed from script";
  }
  if ((cmd.flags & kCmdWrite) && run.call->read_only) {
    return "Write commands are not allowed from read-only scripts.";
  }
  const int shard = run.call->shard;
  if (shard >= 0 && (cmd.flags & kCmdAllShards)) {
    return StrCat("'", cmd.fullname,
                  "' reads every shard; a script with keys runs on its keys' shard: call it "
                  "from a script that declares no keys");
  }
  std::string refusal;
  const bool partial = server->placement().partial();
  std::shared_ptr<const PlacementView> view;
  if (partial) view = server->placement().view();
  ForEachKeyPosition(cmd, args, [&](size_t pos) {
    if (!refusal.empty()) return;
    std::string_view key = args[pos];
    if (shard >= 0 && server->ShardIndexOf(key) != shard) {
      refusal = StrCat("Script attempted to access key '", key,
                       "' that it did not declare, on another shard than its declared keys: "
                       "pass every key a script uses in KEYS");
    } else if (view && view->partial() && !view->ReplicaOf(view->self, key)) {
      refusal = StrCat("Script attempted to access key '", key,
                       "' that this node does not hold: pass every key a script uses in KEYS");
    }
  });
  return refusal;
}

bool CallImpl(lua_State* L, LuaEngine* engine, LuaEngine::Invocation* run, bool raise) {
  int argc = lua_gettop(L);
  if (argc == 0) {
    PushErrorTable(L, "Please specify at least one argument for this redis lib call");
    return raise;
  }
  std::vector<std::string> args;
  args.reserve(argc);
  bool bad = false;
  for (int i = 1; i <= argc && !bad; i++) {
    if (lua_type(L, i) == LUA_TNUMBER) {
      // Not lua_tostring: its %.14g loses digits.
      char buf[64];
      int n = std::snprintf(buf, sizeof buf, "%.17g", static_cast<double>(lua_tonumber(L, i)));
      args.emplace_back(buf, n);
    } else if (lua_type(L, i) == LUA_TSTRING) {
      size_t len;
      const char* s = lua_tolstring(L, i, &len);
      args.emplace_back(s, len);
    } else {
      bad = true;
    }
  }
  lua_pop(L, argc);
  if (bad) {
    PushErrorTable(L, "Lua redis lib command arguments must be strings or integers");
    return raise;
  }
  if (run->in_call) {
    PushErrorTable(L, "redis.call() recursive call detected");
    return raise;
  }
  Server* server = engine->server();
  std::vector<std::string_view> views(args.begin(), args.end());
  std::string ignored;
  const CommandId* cmd = server->commands().Resolve(views, &ignored);
  if (!cmd) {
    PushErrorTable(L, "Unknown Redis command called from script");
    return raise;
  }
  if (!ArityOk(*cmd, views.size())) {
    PushErrorTable(L, "Wrong number of args calling Redis command from script");
    return raise;
  }
  std::string refusal = Refusal(server, *run, *cmd, views);
  if (!refusal.empty()) {
    PushErrorTable(L, refusal);
    MarkCounted(L);
    return raise;
  }
  std::string reply;
  resp::ReplyBuilder rb(&reply, run->resp);
  if (cmd->handler == CmdSelect) {
    // SELECT changes the script's database only (Redis 7).
    int64_t id;
    if (!ParseInt64(views[1], &id)) {
      rb.Error(errors::kNotInt);
    } else if (id < 0 || id >= server->config().databases) {
      rb.Error(errors::kDbIndex);
    } else {
      run->db = static_cast<int>(id);
      rb.Ok();
    }
  } else {
    run->in_call = true;
    CommandContext cx{views, &rb, server, nullptr, run->db, run->cx->now_ms, cmd};
    cx.origin = run->cx->origin;
    cx.conn_id = run->cx->conn_id;
    cx.in_exec = true;  // a blocking command answers at once
    int64_t start = NowUs();
    RunNotified(cx);
    if (Worker* w = CurrentWorker()) {
      w->stats[cmd->index].Record(NowUs() - start);
      w->commands_processed++;
      if (!reply.empty() && reply[0] == '-') w->stats[cmd->index].failed++;
    }
    run->in_call = false;
    if (cmd->flags & kCmdWrite) run->state.wrote.store(true, std::memory_order_relaxed);
  }
  const bool is_error = !reply.empty() && reply[0] == '-';
  reply.push_back('\0');  // the parser stops at CRs; a terminator is cheap insurance
  PushReply(L, reply.data(), true);
  return raise && is_error;
}

bool Sha1Impl(lua_State* L) {
  if (lua_gettop(L) != 1) {
    PushErrorTable(L, "wrong number of arguments");
    return true;
  }
  size_t len;
  const char* s = lua_tolstring(L, 1, &len);
  std::string hex = Sha1Hex(s ? std::string_view(s, len) : std::string_view());
  lua_pushlstring(L, hex.data(), hex.size());
  return false;
}

int RedisSha1Hex(lua_State* L) { return Sha1Impl(L) ? lua_error(L) : 1; }

int RedisErrorReply(lua_State* L) {
  if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
    PushErrorTable(L, "wrong number or type of arguments");
    return 1;
  }
  size_t len;
  const char* s = lua_tolstring(L, 1, &len);
  std::string text(s, len);
  if (text.empty() || text[0] != '-') text.insert(0, "-");
  PushErrorTable(L, text);
  return 1;
}

int RedisStatusReply(lua_State* L) {
  if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
    PushErrorTable(L, "wrong number or type of arguments");
    return 1;
  }
  lua_newtable(L);
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "ok");
  return 1;
}

// Raises a Redis error table with `msg` (no C++ objects alive).
int RaiseError(lua_State* L, const char* msg) {
  PushErrorTable(L, msg);
  return lua_error(L);
}

bool LogImpl(lua_State* L, const char** error) {
  int argc = lua_gettop(L);
  if (argc < 2) {
    *error = "redis.log() requires two arguments or more.";
    return false;
  }
  if (!lua_isnumber(L, 1)) {
    *error = "First argument must be a number (log level).";
    return false;
  }
  int level = static_cast<int>(lua_tonumber(L, 1));
  if (level < Server::kDebug || level > Server::kWarning) {
    *error = "Invalid debug level.";
    return false;
  }
  std::string line;
  for (int i = 2; i <= argc; i++) {
    size_t len;
    const char* s = lua_tolstring(L, i, &len);
    if (!s) continue;
    if (i != 2) line.push_back(' ');
    line.append(s, len);
  }
  EngineOf(L)->server()->Log(level, line);
  return true;
}

int RedisLog(lua_State* L) {
  const char* error = nullptr;
  if (!LogImpl(L, &error)) return RaiseError(L, error);
  return 0;
}

int RedisSetResp(lua_State* L) {
  LuaEngine::Invocation* run = RunOf(L);
  if (!run) return RaiseError(L, "redis.setresp can only be called inside a script invocation");
  if (lua_gettop(L) != 1) return RaiseError(L, "redis.setresp() requires one argument.");
  int resp = static_cast<int>(lua_tonumber(L, 1));
  if (resp != 2 && resp != 3) return RaiseError(L, "RESP version must be 2 or 3.");
  run->resp = resp;
  return 0;
}

int RedisSetRepl(lua_State* L) {
  if (!RunOf(L)) return RaiseError(L, "redis.set_repl can only be called inside a script invocation");
  if (lua_gettop(L) != 1) return RaiseError(L, "redis.set_repl() requires two arguments.");
  int flags = static_cast<int>(lua_tonumber(L, 1));
  if ((flags & ~3) != 0) {
    return RaiseError(L,
                      "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or "
                      "REPL_NONE.");
  }
  // A script's writes reach the peers as the deltas they are; there is no
  // command stream to leave them out of (docs/consistency.md, "Scripts").
  return 0;
}

int RedisReplicateCommands(lua_State* L) {
  lua_pushboolean(L, 1);
  return 1;
}

int RedisBreakpoint(lua_State* L) {
  lua_pushboolean(L, 0);
  return 1;
}

int RedisDebug(lua_State* L) { return 0; }

bool AclCheckImpl(lua_State* L) {
  int argc = lua_gettop(L);
  if (argc == 0) {
    PushErrorTable(L, "Please specify at least one argument for this redis lib call");
    return true;
  }
  std::vector<std::string> args;
  for (int i = 1; i <= argc; i++) {
    size_t len;
    const char* s = lua_tolstring(L, i, &len);
    if (!s) {
      PushErrorTable(L, "Lua redis lib command arguments must be strings or integers");
      return true;
    }
    args.emplace_back(s, len);
  }
  std::vector<std::string_view> views(args.begin(), args.end());
  std::string ignored;
  if (!EngineOf(L)->server()->commands().Resolve(views, &ignored)) {
    PushErrorTable(L, "Invalid command passed to redis.acl_check_cmd()");
    return true;
  }
  // Every connection may run every command until ACLs exist.
  lua_pushboolean(L, 1);
  return false;
}

int RedisAclCheckCmd(lua_State* L) {
  if (!RunOf(L)) {
    return RaiseError(L, "redis.acl_check_cmd can only be called inside a script invocation");
  }
  return AclCheckImpl(L) ? lua_error(L) : 1;
}

// Redis's pcall: an error table with an `err` string comes back as that
// string, as it did before Redis 7 made errors tables.
int Pcall(lua_State* L) {
  int argc = lua_gettop(L);
  luaL_checkany(L, 1);
  lua_pushboolean(L, 1);
  lua_insert(L, 1);
  if (lua_pcall(L, argc - 1, LUA_MULTRET, 0) != 0) {
    lua_remove(L, 1);
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "err");
      if (lua_isstring(L, -1)) {
        lua_replace(L, -2);
      } else {
        lua_pop(L, 1);
      }
    }
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
  }
  return lua_gettop(L);
}

int MathRandom(lua_State* L) {
  LuaEngine* e = EngineOf(L);
  if (!e->current()) return luaL_error(L, "math.random can only be called inside a script invocation");
  lua_Number r = e->server()->scripting().NextRandom();
  switch (lua_gettop(L)) {
    case 0:
      lua_pushnumber(L, r);
      break;
    case 1: {
      int u = luaL_checkint(L, 1);
      luaL_argcheck(L, 1 <= u, 1, "interval is empty");
      lua_pushnumber(L, std::floor(r * u) + 1);
      break;
    }
    case 2: {
      int l = luaL_checkint(L, 1);
      int u = luaL_checkint(L, 2);
      luaL_argcheck(L, l <= u, 2, "interval is empty");
      lua_pushnumber(L, std::floor(r * (u - l + 1)) + l);
      break;
    }
    default:
      return luaL_error(L, "wrong number of arguments");
  }
  return 1;
}

int MathRandomSeed(lua_State* L) {
  LuaEngine* e = EngineOf(L);
  if (!e->current()) {
    return luaL_error(L, "math.randomseed can only be called inside a script invocation");
  }
  e->server()->scripting().Seed(luaL_checkint(L, 1));
  return 0;
}

// Every 100,000 instructions: past busy-reply-threshold the node answers
// other clients BUSY (and takes SCRIPT KILL) while the script runs on.
void CountHook(lua_State* L, lua_Debug*) {
  LuaEngine* e = EngineOf(L);
  LuaEngine::Invocation* run = e ? e->current() : nullptr;
  if (!run) return;
  Server* server = e->server();
  if (!run->killed) {
    int64_t threshold = server->busy_threshold_ms();
    if (threshold > 0 && !run->state.busy.load(std::memory_order_relaxed) &&
        NowMs() - run->state.start_ms >= threshold) {
      server->scripting().MarkBusy(&run->state);
      server->Log(Server::kWarning,
                  StrCat("Slow script detected: still in execution after ",
                         NowMs() - run->state.start_ms,
                         " milliseconds. You can try killing the script using the SCRIPT KILL "
                         "command. Script name is: ",
                         run->call->name(), "."));
      if (run->call->shard < 0 && server->multi_threaded()) server->world().SetBusy(true);
      if (Worker* w = CurrentWorker()) w->script_busy.store(true);
    }
    if (run->state.busy.load(std::memory_order_relaxed)) {
      if (Worker* w = CurrentWorker()) w->ServeBusy(run->cx->conn_id);
    }
    if (!run->state.kill.load() && server->running()) return;
    run->killed = true;
    server->Log(Server::kWarning, "Lua script killed by user with SCRIPT KILL.");
    // Every line from now on raises again, so a pcall cannot swallow it.
    lua_sethook(L, CountHook, LUA_MASKLINE, 0);
  }
  RaiseError(L, "Script killed by user with SCRIPT KILL...");
}

void SetFunctions(lua_State* L, const luaL_Reg* fns) {
  for (; fns->name; fns++) {
    lua_pushcfunction(L, fns->func);
    lua_setfield(L, -2, fns->name);
  }
}

void SetNumber(lua_State* L, const char* name, lua_Number v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, name);
}

// redis.register_function(name, callback) or ({function_name=, callback=,
// flags=, description=}), at FUNCTION LOAD only. Returns an error text.
const char* RegisterImpl(lua_State* L, LuaEngine::Loading* loading) {
  int argc = lua_gettop(L);
  if (argc < 1 || argc > 2) return "wrong number of arguments to redis.register_function";
  FunctionInfo fn;
  if (argc == 1) {
    if (!lua_istable(L, 1)) {
      return "calling redis.register_function with a single argument is only applicable to Lua "
             "table (representing named arguments).";
    }
    bool have_cb = false;
    lua_pushnil(L);
    while (lua_next(L, 1)) {
      if (lua_type(L, -2) != LUA_TSTRING) return "named argument key given to redis.register_function is not a string";
      std::string key = lua_tostring(L, -2);
      if (key == "function_name") {
        if (lua_type(L, -1) != LUA_TSTRING) return "function_name argument given to redis.register_function must be a string";
        fn.name = lua_tostring(L, -1);
      } else if (key == "description") {
        if (lua_type(L, -1) != LUA_TSTRING) return "description argument given to redis.register_function must be a string";
        fn.description = lua_tostring(L, -1);
      } else if (key == "callback") {
        if (!lua_isfunction(L, -1)) return "callback argument given to redis.register_function must be a function";
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, "lattice.register.callback");
        have_cb = true;
      } else if (key == "flags") {
        if (!lua_istable(L, -1)) return "flags argument to redis.register_function must be a table representing function flags";
        for (int i = 1;; i++) {
          lua_rawgeti(L, -1, i);
          if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            break;
          }
          if (lua_type(L, -1) != LUA_TSTRING) return "unknown flag given";
          std::string f = lua_tostring(L, -1);
          lua_pop(L, 1);
          if (f == "no-writes") {
            fn.flags |= kScriptNoWrites;
          } else if (f == "allow-oom") {
            fn.flags |= kScriptAllowOom;
          } else if (f == "allow-stale") {
            fn.flags |= kScriptAllowStale;
          } else if (f == "no-cluster") {
            fn.flags |= kScriptNoCluster;
          } else if (f == "allow-cross-slot-keys") {
            fn.flags |= kScriptAllowCrossSlot;
          } else {
            return "unknown flag given";
          }
        }
      } else {
        return "unknown argument given to redis.register_function";
      }
      lua_pop(L, 1);
    }
    if (fn.name.empty()) return "redis.register_function must get a function name argument";
    if (!have_cb) return "redis.register_function must get a callback argument";
  } else {
    if (lua_type(L, 1) != LUA_TSTRING) return "first argument to redis.register_function must be a string";
    if (!lua_isfunction(L, 2)) return "second argument to redis.register_function must be a function";
    fn.name = lua_tostring(L, 1);
    lua_pushvalue(L, 2);
    lua_setfield(L, LUA_REGISTRYINDEX, "lattice.register.callback");
  }
  // Redis 7.0 says "Library" here too.
  if (!ValidFunctionName(fn.name)) {
    return "Library names can only contain letters, numbers, or underscores(_) and must be at "
           "least one character long";
  }
  for (const FunctionInfo& have : loading->lib->functions) {
    if (have.name == fn.name) return "Function already exists in the library";
  }
  lua_pushlightuserdata(L, &kLoadingKey);
  lua_rawget(L, LUA_REGISTRYINDEX);
  lua_getfield(L, LUA_REGISTRYINDEX, "lattice.register.callback");
  lua_setfield(L, -2, fn.name.c_str());
  lua_pop(L, 1);
  loading->lib->functions.push_back(std::move(fn));
  return nullptr;
}

int RegisterFunction(lua_State* L) {
  LuaEngine* e = EngineOf(L);
  LuaEngine::Loading* loading = e ? e->loading() : nullptr;
  if (!loading) return RaiseError(L, "redis.register_function can only be called on FUNCTION LOAD command");
  const char* err = RegisterImpl(L, loading);
  if (err) return RaiseError(L, err);
  return 0;
}

thread_local std::unique_ptr<LuaEngine> tls_engine;

}  // namespace

LuaEngine::LuaEngine(Server* server) : server_(server) { Open(); }

LuaEngine::~LuaEngine() {
  if (L_) {
    g_lua_memory.fetch_sub(memory());
    lua_close(L_);
  }
}

LuaEngine& LuaEngine::ForThread(Server* server) {
  if (!tls_engine || tls_engine->server_ != server) tls_engine = std::make_unique<LuaEngine>(server);
  return *tls_engine;
}

int64_t LuaEngine::memory() const { return static_cast<int64_t>(lua_gc(L_, LUA_GCCOUNT, 0)) * 1024; }

int64_t LuaMemoryAllThreads() { return g_lua_memory.load(); }

void LuaEngine::Open() {
  lua_State* L = luaL_newstate();
  L_ = L;
  lua_pushlightuserdata(L, &kEngineKey);
  lua_pushlightuserdata(L, this);
  lua_rawset(L, LUA_REGISTRYINDEX);
  lua_pushlightuserdata(L, &kScriptsKey);
  lua_newtable(L);
  lua_rawset(L, LUA_REGISTRYINDEX);
  lua_pushlightuserdata(L, &kProxiesKey);
  lua_newtable(L);
  lua_rawset(L, LUA_REGISTRYINDEX);

  // The libraries Redis loads: base, table, string, math, and cjson,
  // struct, cmsgpack and bit. Not os, io, package or debug.
  const luaL_Reg libs[] = {{"", luaopen_base},
                           {LUA_TABLIBNAME, luaopen_table},
                           {LUA_STRLIBNAME, luaopen_string},
                           {LUA_MATHLIBNAME, luaopen_math}};
  for (const luaL_Reg& lib : libs) {
    lua_pushcfunction(L, lib.func);
    lua_pushstring(L, lib.name);
    lua_call(L, 1, 0);
  }
  lua_pushcfunction(L, luaopen_cjson);
  lua_call(L, 0, 1);
  lua_setglobal(L, "cjson");
  lua_pushcfunction(L, luaopen_bit);
  lua_call(L, 0, 1);
  lua_setglobal(L, "bit");
  lua_pushcfunction(L, OpenMsgpack);
  lua_call(L, 0, 1);
  lua_setglobal(L, "cmsgpack");
  lua_pushcfunction(L, OpenStruct);
  lua_call(L, 0, 1);
  lua_setglobal(L, "struct");
  // luaL_register leaves package.loaded-style entries in the registry
  // only; the globals below are what Redis removes.
  for (const char* name : {"dofile", "loadfile", "print", "getfenv", "setfenv", "newproxy",
                           "module", "require"}) {
    lua_pushnil(L);
    lua_setglobal(L, name);
  }

  // redis.*
  lua_newtable(L);
  const luaL_Reg redis_fns[] = {{"call", RedisCall},
                                {"pcall", RedisPCall},
                                {"sha1hex", RedisSha1Hex},
                                {"error_reply", RedisErrorReply},
                                {"status_reply", RedisStatusReply},
                                {"log", RedisLog},
                                {"setresp", RedisSetResp},
                                {"set_repl", RedisSetRepl},
                                {"replicate_commands", RedisReplicateCommands},
                                {"breakpoint", RedisBreakpoint},
                                {"debug", RedisDebug},
                                {"acl_check_cmd", RedisAclCheckCmd},
                                {nullptr, nullptr}};
  SetFunctions(L, redis_fns);
  SetNumber(L, "LOG_DEBUG", Server::kDebug);
  SetNumber(L, "LOG_VERBOSE", Server::kVerbose);
  SetNumber(L, "LOG_NOTICE", Server::kNotice);
  SetNumber(L, "LOG_WARNING", Server::kWarning);
  SetNumber(L, "REPL_NONE", 0);
  SetNumber(L, "REPL_AOF", 1);
  SetNumber(L, "REPL_SLAVE", 2);
  SetNumber(L, "REPL_REPLICA", 2);
  SetNumber(L, "REPL_ALL", 3);
  lua_pushlstring(L, kCompatVersion.data(), kCompatVersion.size());
  lua_setfield(L, -2, "REDIS_VERSION");
  SetNumber(L, "REDIS_VERSION_NUM", kCompatVersionNum);
  lua_setglobal(L, "redis");

  lua_getglobal(L, "math");
  lua_pushcfunction(L, MathRandom);
  lua_setfield(L, -2, "random");
  lua_pushcfunction(L, MathRandomSeed);
  lua_setfield(L, -2, "randomseed");
  lua_pop(L, 1);

  lua_pushcfunction(L, Pcall);
  lua_setglobal(L, "pcall");
  lua_pushcfunction(L, ErrorHandler);
  lua_setglobal(L, "__redis__err__handler");
  lua_pushcfunction(L, PairsThrough);
  lua_setglobal(L, "pairs");
  lua_pushcfunction(L, NextThrough);
  lua_setglobal(L, "next");
  lua_pushcfunction(L, RawGetThrough);
  lua_setglobal(L, "rawget");
  lua_pushcfunction(L, RawSetGuarded);
  lua_setglobal(L, "rawset");
  lua_getglobal(L, "setmetatable");
  lua_pushcclosure(L, SetMetatableGuarded, 1);
  lua_setglobal(L, "setmetatable");
  for (const char* name : {"loadstring", "load"}) {
    lua_getglobal(L, name);
    lua_pushcclosure(L, LoadInSandbox, 1);
    lua_setglobal(L, name);
  }

  // Library tables become read-only proxies; the string metatable reads
  // through the proxy too, so ("x"):upper() still works.
  for (const char* name :
       {"string", "math", "table", "coroutine", "cjson", "bit", "cmsgpack", "struct", "redis"}) {
    lua_getglobal(L, name);
    Protect(L);
    lua_setglobal(L, name);
  }
  lua_pushstring(L, "");
  lua_getmetatable(L, -1);
  lua_getglobal(L, "string");
  lua_setfield(L, -2, "__index");
  lua_pop(L, 2);
  lua_pushlightuserdata(L, &kRedisKey);
  lua_getglobal(L, "redis");
  lua_rawset(L, LUA_REGISTRYINDEX);
  // What FUNCTION LOAD's code sees as `redis`: register_function and log
  // (anything else is a missing global, as in Redis).
  lua_newtable(L);
  lua_pushcfunction(L, RegisterFunction);
  lua_setfield(L, -2, "register_function");
  lua_pushcfunction(L, RedisLog);
  lua_setfield(L, -2, "log");
  SetNumber(L, "LOG_DEBUG", Server::kDebug);
  SetNumber(L, "LOG_VERBOSE", Server::kVerbose);
  SetNumber(L, "LOG_NOTICE", Server::kNotice);
  SetNumber(L, "LOG_WARNING", Server::kWarning);
  lua_pushlstring(L, kCompatVersion.data(), kCompatVersion.size());
  lua_setfield(L, -2, "REDIS_VERSION");
  SetNumber(L, "REDIS_VERSION_NUM", kCompatVersionNum);
  lua_newtable(L);
  lua_pushcfunction(L, MissingGlobal);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  Protect(L);
  lua_pushlightuserdata(L, &kLoadRedisKey);
  lua_insert(L, -2);
  lua_rawset(L, LUA_REGISTRYINDEX);
  lua_pushlightuserdata(L, &kFunctionsKey);
  lua_newtable(L);
  lua_rawset(L, LUA_REGISTRYINDEX);

  // Scripts run in a read-only view of the globals; reading a global that
  // does not exist is an error (Redis's luaSetErrorMetatable).
  lua_newtable(L);
  lua_pushcfunction(L, MissingGlobal);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, LUA_GLOBALSINDEX);
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  Protect(L);
  lua_pushlightuserdata(L, &kEnvKey);
  lua_pushvalue(L, -2);
  lua_rawset(L, LUA_REGISTRYINDEX);
  lua_setfield(L, LUA_GLOBALSINDEX, "_G");
  lua_newtable(L);
  lua_setfield(L, LUA_GLOBALSINDEX, "KEYS");
  lua_newtable(L);
  lua_setfield(L, LUA_GLOBALSINDEX, "ARGV");
  lua_gc(L, LUA_GCCOLLECT, 0);
  g_lua_memory.fetch_add(memory());
}

void LuaEngine::DropStaleScripts() {
  uint64_t gen = server_->scripting().generation();
  if (gen == generation_) return;
  generation_ = gen;
  lua_pushlightuserdata(L_, &kScriptsKey);
  lua_newtable(L_);
  lua_rawset(L_, LUA_REGISTRYINDEX);
  lua_gc(L_, LUA_GCCOLLECT, 0);
}

bool LuaEngine::Compile(const Script& script, std::string* error) {
  DropStaleScripts();
  lua_pushlightuserdata(L_, &kScriptsKey);
  lua_rawget(L_, LUA_REGISTRYINDEX);
  lua_getfield(L_, -1, script.sha.c_str());
  bool have = lua_isfunction(L_, -1);
  lua_pop(L_, 1);
  if (have) {
    lua_pop(L_, 1);
    return true;
  }
  std::string_view code = script.code();
  if (luaL_loadbuffer(L_, code.data(), code.size(), "@user_script") != 0) {
    const char* msg = lua_tostring(L_, -1);
    *error = StrCat("ERR Error compiling script (new function): ", msg ? msg : "?");
    lua_pop(L_, 2);
    return false;
  }
  lua_pushlightuserdata(L_, &kEnvKey);
  lua_rawget(L_, LUA_REGISTRYINDEX);
  lua_setfenv(L_, -2);
  lua_setfield(L_, -2, script.sha.c_str());
  lua_pop(L_, 1);
  return true;
}

bool LuaEngine::LoadLibrary(std::string_view code, Library* out, std::string* error) {
  return LoadInto(code, out, error, false);
}

bool LuaEngine::LoadInto(std::string_view code, Library* out, std::string* error, bool keep) {
  if (!ParseLibraryShebang(code, &out->name, error)) return false;
  out->code = std::string(code);
  out->functions.clear();
  lua_State* L = L_;
  const int base = lua_gettop(L);
  size_t nl = code.find('\n');
  std::string_view body = nl == std::string_view::npos ? std::string_view() : code.substr(nl);
  if (luaL_loadbuffer(L, body.data(), body.size(), "@user_function") != 0) {
    const char* msg = lua_tostring(L, -1);
    *error = StrCat("ERR Error compiling function: ", msg ? msg : "?");
    lua_settop(L, base);
    return false;
  }
  lua_pushlightuserdata(L, &kEnvKey);
  lua_rawget(L, LUA_REGISTRYINDEX);
  lua_setfenv(L, -2);
  lua_pushlightuserdata(L, &kLoadingKey);
  lua_newtable(L);
  lua_rawset(L, LUA_REGISTRYINDEX);
  // The code runs with `redis` swapped for the load-time API.
  lua_pushlightuserdata(L, &kLoadRedisKey);
  lua_rawget(L, LUA_REGISTRYINDEX);
  lua_setfield(L, LUA_GLOBALSINDEX, "redis");
  Loading loading{out};
  loading_ = &loading;
  lua_pushcfunction(L, ErrorHandler);
  lua_insert(L, -2);
  const bool hook = server_->busy_threshold_ms() > 0;
  int rc = lua_pcall(L, 0, 0, -2);
  (void)hook;
  loading_ = nullptr;
  lua_pushlightuserdata(L, &kRedisKey);
  lua_rawget(L, LUA_REGISTRYINDEX);
  lua_setfield(L, LUA_GLOBALSINDEX, "redis");
  bool ok = rc == 0;
  if (!ok) {
    const char* msg = nullptr;
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "err");
      msg = lua_tostring(L, -1);
    } else {
      msg = lua_tostring(L, -1);
    }
    *error = StrCat("ERR Error registering functions: ", msg ? msg : "unknown error");
  } else if (out->functions.empty()) {
    *error = "ERR No functions registered";
    ok = false;
  }
  if (ok && keep) {
    lua_pushlightuserdata(L, &kFunctionsKey);
    lua_rawget(L, LUA_REGISTRYINDEX);
    lua_pushlightuserdata(L, &kLoadingKey);
    lua_rawget(L, LUA_REGISTRYINDEX);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_settable(L, -5);
    }
    lua_pop(L, 2);
  }
  lua_pushlightuserdata(L, &kLoadingKey);
  lua_pushnil(L);
  lua_rawset(L, LUA_REGISTRYINDEX);
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "lattice.register.callback");
  lua_settop(L, base);
  return ok;
}

void LuaEngine::SyncFunctions() {
  Functions& registry = server_->functions();
  uint64_t gen = registry.generation();
  if (gen == functions_generation_) return;
  functions_generation_ = gen;
  lua_pushlightuserdata(L_, &kFunctionsKey);
  lua_newtable(L_);
  lua_rawset(L_, LUA_REGISTRYINDEX);
  for (const auto& lib : registry.All()) {
    Library scratch;
    std::string error;
    // It loaded when it was added; a failure now would be a bug of ours.
    if (!LoadInto(lib->code, &scratch, &error, true)) {
      server_->Log(Server::kWarning, StrCat("library ", lib->name, " failed to load: ", error));
    }
  }
}

namespace {

void PushArray(lua_State* L, std::span<const std::string_view> items) {
  lua_createtable(L, static_cast<int>(items.size()), 0);
  for (size_t i = 0; i < items.size(); i++) {
    lua_pushlstring(L, items[i].data(), items[i].size());
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
}

}  // namespace

void LuaEngine::Run(CommandContext& cx, const ScriptCall& call) {
  std::string error;
  if (call.script) {
    if (!Compile(*call.script, &error)) {
      cx.rb->Error(error);
      return;
    }
  } else {
    SyncFunctions();
  }
  if (current_) {  // cannot happen: scripts do not call EVAL
    cx.rb->Error("ERR a script is already running on this thread");
    return;
  }
  Invocation run{};
  run.cx = &cx;
  run.call = &call;
  run.db = cx.db;
  run.state.start_ms = NowMs();
  Scripting& scripting = server_->scripting();
  scripting.Register(&run.state);
  scripting.runs.fetch_add(1, std::memory_order_relaxed);
  current_ = &run;
  lua_State* L = L_;
  const int64_t before = memory();
  const int base = lua_gettop(L);
  lua_pushcfunction(L, ErrorHandler);
  int nargs = 0;
  if (call.script) {
    lua_pushlightuserdata(L, &kScriptsKey);
    lua_rawget(L, LUA_REGISTRYINDEX);
    lua_getfield(L, -1, call.script->sha.c_str());
    lua_remove(L, -2);
    PushArray(L, call.keys);
    lua_setfield(L, LUA_GLOBALSINDEX, "KEYS");
    PushArray(L, call.argv);
    lua_setfield(L, LUA_GLOBALSINDEX, "ARGV");
  } else {
    // A function gets KEYS and ARGV as arguments; they are no globals.
    lua_pushnil(L);
    lua_setfield(L, LUA_GLOBALSINDEX, "KEYS");
    lua_pushnil(L);
    lua_setfield(L, LUA_GLOBALSINDEX, "ARGV");
    lua_pushlightuserdata(L, &kFunctionsKey);
    lua_rawget(L, LUA_REGISTRYINDEX);
    lua_pushlstring(L, call.function.data(), call.function.size());
    lua_rawget(L, -2);
    lua_remove(L, -2);
    PushArray(L, call.keys);
    PushArray(L, call.argv);
    nargs = 2;
  }
  const bool hook = server_->busy_threshold_ms() > 0;
  if (hook) lua_sethook(L, CountHook, LUA_MASKCOUNT, 100000);
  int rc = lua_isfunction(L, base + 2) ? lua_pcall(L, nargs, 1, base + 1) : -1;
  if (hook) lua_sethook(L, nullptr, 0, 0);
  if (rc != 0) {
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "err");
      lua_getfield(L, -2, "source");
      lua_getfield(L, -3, "line");
      const char* msg = lua_tostring(L, -3);
      const char* source = lua_tostring(L, -2);
      const char* line = lua_tostring(L, -1);
      std::string text = msg ? msg : "ERR unknown error (an error table without 'err')";
      if (source && line) {
        StrAppend(&text, " script: ", call.name(), ", on ", source, ":", line, ".");
      }
      cx.rb->Error(text);
    } else {
      const char* msg = lua_tostring(L, -1);
      cx.rb->Error(StrCat("ERR Error running script ", call.name(), ", ",
                          std::string_view(msg ? msg : "execution failure").substr(0, 100)));
    }
  } else {
    WriteReply(L, cx.rb, run.resp);
  }
  lua_settop(L, base);
  current_ = nullptr;
  if (run.state.busy.load()) {
    if (call.shard < 0 && server_->multi_threaded()) server_->world().SetBusy(false);
    if (Worker* w = CurrentWorker()) w->script_busy.store(false);
  }
  scripting.Unregister(&run.state);
  // A small collection step now and then rather than a full cycle in the
  // middle of some script (Redis's LUA_GC_CYCLE_PERIOD).
  if (--gc_countdown_ == 0) {
    gc_countdown_ = 50;
    lua_gc(L, LUA_GCSTEP, 50);
  }
  g_lua_memory.fetch_add(memory() - before);
}

}  // namespace lattice::node
