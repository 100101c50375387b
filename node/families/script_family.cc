// Scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT, with Redis
// 7.0's semantics. A script runs atomically: the dispatcher routes it by its
// declared keys like a multi-key command, so it runs on the thread of the
// shard that holds them all, or in the exclusive section when they span
// shards or it declares none (node/server.cc, Server::ShardOf). Its writes
// go through the handlers of the commands it calls, so they become deltas
// like any client's and, on a node with peers, one group that peers apply
// at once: a script replicates by its effects, never by running again
// (docs/consistency.md, "Scripts").
#include "node/families/families.h"
#include "node/families/util.h"
#include "node/cluster/functions_sync.h"
#include "node/cluster/replication.h"
#include "node/glob.h"
#include "node/scripting/functions.h"
#include "node/scripting/lua_engine.h"
#include "node/server.h"
#include "node/str_util.h"

namespace lattice::node {

namespace {

// The cached script for `body`, compiled on this thread to check it; null
// with the error replied when it does not parse.
std::shared_ptr<const Script> LoadScript(CommandContext& ctx, std::string_view body) {
  Scripting& scripting = ctx.server->scripting();
  std::string sha = Sha1Hex(body);
  if (auto cached = scripting.Find(sha)) return cached;
  auto script = std::make_shared<Script>();
  std::string error;
  if (!ParseShebang(body, &script->shebang, &script->flags, &error)) {
    ctx.rb->Error(error);
    return nullptr;
  }
  script->sha = std::move(sha);
  script->body = std::string(body);
  if (!LuaEngine::ForThread(ctx.server).Compile(*script, &error)) {
    ctx.rb->Error(error);
    return nullptr;
  }
  return scripting.Add(std::move(script));
}

// EVAL's and FCALL's numkeys argument, checked as Redis does.
bool ParseNumKeys(CommandContext& ctx, int64_t* numkeys) {
  if (!ParseInt64(ctx.args[2], numkeys)) {
    ctx.rb->Error(errors::kNotInt);
    return false;
  }
  if (*numkeys > static_cast<int64_t>(ctx.args.size()) - 3) {
    ctx.rb->Error("ERR Number of keys can't be greater than number of args");
    return false;
  }
  if (*numkeys < 0) {
    ctx.rb->Error("ERR Number of keys can't be negative");
    return false;
  }
  return true;
}

// Runs a script or function on this thread's interpreter: its shard (or
// every shard) and its delta group.
void RunCall(CommandContext& ctx, ScriptCall& call) {
  // On the thread of its keys' shard a script may use that shard only; in
  // the exclusive section (or with one shard) every shard.
  if (ctx.server->multi_threaded() && !InExclusiveSection()) {
    Worker* w = CurrentWorker();
    call.shard = w ? w->index() : 0;
  }
  const bool group = ctx.server->worker(0).shard().has_peers();
  if (group) ctx.server->replicator().BeginGroup();
  LuaEngine::ForThread(ctx.server).Run(ctx, call);
  if (group) ctx.server->replicator().EndGroup();
}

void EvalGeneric(CommandContext& ctx, bool by_sha, bool read_only) {
  int64_t numkeys;
  if (!ParseNumKeys(ctx, &numkeys)) return;
  std::shared_ptr<const Script> script;
  if (by_sha) {
    script = ctx.server->scripting().Find(ctx.args[1]);
    if (!script) {
      ctx.rb->Error("NOSCRIPT No matching script. Please use EVAL.");
      return;
    }
  } else {
    script = LoadScript(ctx, ctx.args[1]);
    if (!script) return;
  }
  if ((script->flags & kScriptNoCluster) && ctx.server->worker(0).shard().has_peers()) {
    ctx.rb->Error("ERR Can not run script on cluster, 'no-cluster' flag is set.");
    return;
  }
  ScriptCall call;
  call.script = script.get();
  call.keys = ctx.args.subspan(3, static_cast<size_t>(numkeys));
  call.argv = ctx.args.subspan(3 + static_cast<size_t>(numkeys));
  call.read_only = read_only || (script->flags & kScriptNoWrites);
  RunCall(ctx, call);
}

void FcallGeneric(CommandContext& ctx, bool read_only) {
  int64_t numkeys;
  if (!ParseNumKeys(ctx, &numkeys)) return;
  const FunctionInfo* fn = nullptr;
  std::shared_ptr<const Library> lib = ctx.server->functions().FindFunction(ctx.args[1], &fn);
  if (!lib) {
    ctx.rb->Error("ERR Function not found");
    return;
  }
  if (read_only && !(fn->flags & kScriptNoWrites)) {
    ctx.rb->Error("ERR Can not execute a script with write flag using *_ro command.");
    return;
  }
  if ((fn->flags & kScriptNoCluster) && ctx.server->worker(0).shard().has_peers()) {
    ctx.rb->Error("ERR Can not run script on cluster, 'no-cluster' flag is set.");
    return;
  }
  ScriptCall call;
  call.function = fn->name;
  call.keys = ctx.args.subspan(3, static_cast<size_t>(numkeys));
  call.argv = ctx.args.subspan(3 + static_cast<size_t>(numkeys));
  call.read_only = (fn->flags & kScriptNoWrites) != 0;
  RunCall(ctx, call);
}

void ReplyLibrary(CommandContext& ctx, const Library& lib, bool with_code) {
  resp::ReplyBuilder* rb = ctx.rb;
  rb->MapHeader(with_code ? 4 : 3);
  rb->Bulk("library_name");
  rb->Bulk(lib.name);
  rb->Bulk("engine");
  rb->Bulk("LUA");
  rb->Bulk("functions");
  rb->ArrayHeader(static_cast<int64_t>(lib.functions.size()));
  for (const FunctionInfo& f : lib.functions) {
    rb->MapHeader(3);
    rb->Bulk("name");
    rb->Bulk(f.name);
    rb->Bulk("description");
    if (f.description) {
      rb->Bulk(*f.description);
    } else {
      rb->Null();
    }
    rb->Bulk("flags");
    static constexpr std::pair<uint32_t, std::string_view> kFlags[] = {
        {kScriptNoWrites, "no-writes"},   {kScriptAllowOom, "allow-oom"},
        {kScriptAllowStale, "allow-stale"}, {kScriptNoCluster, "no-cluster"},
        {kScriptAllowCrossSlot, "allow-cross-slot-keys"}};
    int64_t n = 0;
    for (const auto& [bit, name] : kFlags) n += (f.flags & bit) ? 1 : 0;
    rb->SetHeader(n);
    for (const auto& [bit, name] : kFlags) {
      if (f.flags & bit) rb->SimpleString(name);
    }
  }
  if (with_code) {
    rb->Bulk("library_code");
    rb->Bulk(lib.code);
  }
}

// SCRIPT KILL and FUNCTION KILL: every running script or function (one
// registry for both).
void ReplyKill(CommandContext& ctx) {
  switch (ctx.server->scripting().Kill()) {
    case Scripting::KillResult::kNotBusy:
      ctx.rb->Error("NOTBUSY No scripts in execution right now.");
      return;
    case Scripting::KillResult::kUnkillable:
      ctx.rb->Error(
          "UNKILLABLE Sorry the script already executed write commands against the dataset. You "
          "can either wait the script termination or kill the server in a hard way using the "
          "SHUTDOWN NOSAVE command.");
      return;
    case Scripting::KillResult::kKilled:
      ctx.rb->Ok();
      return;
  }
}

}  // namespace

void CmdEval(CommandContext& ctx) { EvalGeneric(ctx, false, false); }
void CmdFcall(CommandContext& ctx) { FcallGeneric(ctx, false); }
void CmdFcallRo(CommandContext& ctx) { FcallGeneric(ctx, true); }

void CmdFunctionLoad(CommandContext& ctx) {
  bool replace = false;
  size_t i = 2;
  for (; i + 1 < ctx.args.size(); i++) {
    if (!Is(ctx.args[i], "replace")) {
      ctx.rb->Error(StrCat("ERR Unknown option given: ", ctx.args[i]));
      return;
    }
    replace = true;
  }
  if (i >= ctx.args.size()) {
    ctx.rb->Error("ERR Function code was not given");
    return;
  }
  auto lib = std::make_shared<Library>();
  std::string error;
  if (!LuaEngine::ForThread(ctx.server).LoadLibrary(ctx.args[i], lib.get(), &error) ||
      !ctx.server->functions().Add(lib, replace, &error, ctx.Tick())) {
    ctx.rb->Error(error);
    return;
  }
  ctx.server->FunctionsChanged();
  ctx.rb->Bulk(lib->name);
}

void CmdFunctionDelete(CommandContext& ctx) {
  if (!ctx.server->functions().Delete(ctx.args[2], ctx.Tick())) {
    ctx.rb->Error("ERR Library not found");
    return;
  }
  ctx.server->FunctionsChanged();
  ctx.rb->Ok();
}

void CmdFunctionFlush(CommandContext& ctx) {
  if (ctx.args.size() > 3 ||
      (ctx.args.size() == 3 && !Is(ctx.args[2], "sync") && !Is(ctx.args[2], "async"))) {
    ctx.rb->Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
    return;
  }
  ctx.server->functions().Flush(ctx.Tick());
  ctx.server->FunctionsChanged();
  ctx.rb->Ok();
}

void CmdFunctionList(CommandContext& ctx) {
  bool with_code = false;
  std::string_view pattern;
  bool have_pattern = false;
  for (size_t i = 2; i < ctx.args.size(); i++) {
    if (Is(ctx.args[i], "withcode")) {
      with_code = true;
    } else if (Is(ctx.args[i], "libraryname") && i + 1 < ctx.args.size()) {
      pattern = ctx.args[++i];
      have_pattern = true;
    } else {
      ctx.rb->Error(StrCat("ERR Unknown argument ", ctx.args[i]));
      return;
    }
  }
  std::vector<std::shared_ptr<const Library>> libs;
  for (auto& lib : ctx.server->functions().All()) {
    if (!have_pattern || GlobMatch(pattern, lib->name)) libs.push_back(std::move(lib));
  }
  ctx.rb->ArrayHeader(static_cast<int64_t>(libs.size()));
  for (const auto& lib : libs) ReplyLibrary(ctx, *lib, with_code);
}

void CmdFunctionStats(CommandContext& ctx) {
  auto libs = ctx.server->functions().All();
  int64_t functions = 0;
  for (const auto& lib : libs) functions += static_cast<int64_t>(lib->functions.size());
  resp::ReplyBuilder* rb = ctx.rb;
  rb->MapHeader(2);
  rb->Bulk("running_script");
  rb->Null();  // while one runs, only the kill commands are served
  rb->Bulk("engines");
  rb->MapHeader(1);
  rb->Bulk("LUA");
  rb->MapHeader(2);
  rb->Bulk("libraries_count");
  rb->Integer(static_cast<int64_t>(libs.size()));
  rb->Bulk("functions_count");
  rb->Integer(functions);
}

void CmdFunctionDump(CommandContext& ctx) { ctx.rb->Bulk(ctx.server->functions().Dump()); }

void CmdFunctionRestore(CommandContext& ctx) {
  enum { kAppend, kReplace, kFlush } policy = kAppend;
  if (ctx.args.size() > 4) {
    ctx.rb->Error(errors::kSyntax);
    return;
  }
  if (ctx.args.size() == 4) {
    if (Is(ctx.args[3], "append")) {
      policy = kAppend;
    } else if (Is(ctx.args[3], "replace")) {
      policy = kReplace;
    } else if (Is(ctx.args[3], "flush")) {
      policy = kFlush;
    } else {
      ctx.rb->Error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or "
                    "REPLACE.");
      return;
    }
  }
  std::vector<std::string> codes;
  std::string error;
  if (!Functions::ParseDump(ctx.args[2], &codes, &error)) {
    ctx.rb->Error(error);
    return;
  }
  // Load everything first: a payload that does not load changes nothing.
  std::vector<std::shared_ptr<Library>> libs;
  LuaEngine& engine = LuaEngine::ForThread(ctx.server);
  for (const std::string& code : codes) {
    auto lib = std::make_shared<Library>();
    if (!engine.LoadLibrary(code, lib.get(), &error)) {
      ctx.rb->Error(error);
      return;
    }
    libs.push_back(std::move(lib));
  }
  Functions& functions = ctx.server->functions();
  // The flush is older than the libraries that follow it, on every node.
  if (policy == kFlush) functions.Flush(ctx.Tick());
  const crdt::Stamp stamp = ctx.Tick();
  if (policy == kAppend) {
    for (const auto& lib : libs) {
      const FunctionInfo* fn;
      for (const auto& have : functions.All()) {
        if (have->name == lib->name) {
          ctx.rb->Error(StrCat("ERR Library ", lib->name, " already exists"));
          return;
        }
      }
      for (const FunctionInfo& f : lib->functions) {
        if (functions.FindFunction(f.name, &fn)) {
          ctx.rb->Error(StrCat("ERR Function ", f.name, " already exists"));
          return;
        }
      }
    }
  }
  for (const auto& lib : libs) {
    if (!functions.Add(lib, true, &error, stamp)) {
      ctx.rb->Error(error);
      return;
    }
  }
  ctx.server->FunctionsChanged();
  ctx.rb->Ok();
}

void CmdFunctionKill(CommandContext& ctx) { ReplyKill(ctx); }

void CmdFunctionHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "LOAD [REPLACE] <FUNCTION CODE>",
      "    Create a new library with the given library name and code.",
      "DELETE <LIBRARY NAME>",
      "    Delete the given library.",
      "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
      "    Return general information on all the libraries:",
      "    * Library name",
      "    * The engine used to run the Library",
      "    * Library description",
      "    * Functions list",
      "    * Library code (if WITHCODE is given)",
      "    It also possible to get only function that matches a pattern using LIBRARYNAME "
      "argument.",
      "STATS",
      "    Return information about the current function running:",
      "    * Function name",
      "    * Command used to run the function",
      "    * Duration in MS that the function is running",
      "    If no function is running, return nil",
      "    In addition, returns a list of available engines.",
      "KILL",
      "    Kill the current running function.",
      "FLUSH [ASYNC|SYNC]",
      "    Delete all the libraries.",
      "    When called without the optional mode argument, the behavior is determined by the",
      "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
      "    * ASYNC: Asynchronously flush the libraries.",
      "    * SYNC: Synchronously flush the libraries.",
      "DUMP",
      "    Return a serialized payload representing the current libraries, can be restored "
      "using FUNCTION RESTORE command",
      "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
      "    Restore the libraries represented by the given payload, it is possible to give a "
      "restore policy to",
      "    control how to handle existing libraries (default APPEND):",
      "    * FLUSH: delete all existing libraries.",
      "    * APPEND: appends the restored libraries to the existing libraries. On collision, "
      "abort.",
      "    * REPLACE: appends the restored libraries to the existing libraries, On collision, "
      "replace the old",
      "      libraries with the new libraries (notice that even on this option there is a "
      "chance of failure",
      "      in case of functions name collision with another library).",
      "HELP",
      "    Prints this help.",
  };
  ctx.rb->ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) ctx.rb->SimpleString(line);
}
void CmdEvalSha(CommandContext& ctx) { EvalGeneric(ctx, true, false); }
void CmdEvalRo(CommandContext& ctx) { EvalGeneric(ctx, false, true); }
void CmdEvalShaRo(CommandContext& ctx) { EvalGeneric(ctx, true, true); }

void CmdScriptLoad(CommandContext& ctx) {
  std::shared_ptr<const Script> script = LoadScript(ctx, ctx.args[2]);
  if (script) ctx.rb->Bulk(script->sha);
}

void CmdScriptExists(CommandContext& ctx) {
  Scripting& scripting = ctx.server->scripting();
  ctx.rb->ArrayHeader(static_cast<int64_t>(ctx.args.size() - 2));
  for (size_t i = 2; i < ctx.args.size(); i++) {
    ctx.rb->Integer(scripting.Find(ctx.args[i]) ? 1 : 0);
  }
}

void CmdScriptFlush(CommandContext& ctx) {
  if (ctx.args.size() > 3 ||
      (ctx.args.size() == 3 && !Is(ctx.args[2], "sync") && !Is(ctx.args[2], "async"))) {
    ctx.rb->Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
    return;
  }
  ctx.server->scripting().Flush();
  ctx.rb->Ok();
}

void CmdScriptKill(CommandContext& ctx) { ReplyKill(ctx); }

void CmdScriptDebug(CommandContext& ctx) {
  if (!Is(ctx.args[2], "yes") && !Is(ctx.args[2], "sync") && !Is(ctx.args[2], "no")) {
    ctx.rb->Error("ERR Use SCRIPT DEBUG YES/SYNC/NO");
    return;
  }
  if (Is(ctx.args[2], "no")) {
    ctx.rb->Ok();
    return;
  }
  ctx.rb->Error("ERR SCRIPT DEBUG (the Lua debugger) is not supported by this server");
}

void CmdScriptHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "DEBUG (YES|SYNC|NO)",
      "    Set the debug mode for subsequent scripts executed.",
      "EXISTS <sha1> [<sha1> ...]",
      "    Return information about the existence of the scripts in the script cache.",
      "FLUSH [ASYNC|SYNC]",
      "    Flush the Lua scripts cache. Very dangerous on replicas.",
      "    When called without the optional mode argument, the behavior is determined by the",
      "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
      "    * ASYNC: Asynchronously flush the scripts cache.",
      "    * SYNC: Synchronously flush the scripts cache.",
      "KILL",
      "    Kill the currently executing Lua script.",
      "LOAD <script>",
      "    Load a script into the scripts cache without executing it.",
      "HELP",
      "    Prints this help.",
  };
  ctx.rb->ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) ctx.rb->SimpleString(line);
}

}  // namespace lattice::node
