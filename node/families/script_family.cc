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
#include "node/cluster/replication.h"
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

void EvalGeneric(CommandContext& ctx, bool by_sha, bool read_only) {
  int64_t numkeys;
  if (!ParseInt64(ctx.args[2], &numkeys)) {
    ctx.rb->Error(errors::kNotInt);
    return;
  }
  if (numkeys > static_cast<int64_t>(ctx.args.size()) - 3) {
    ctx.rb->Error("ERR Number of keys can't be greater than number of args");
    return;
  }
  if (numkeys < 0) {
    ctx.rb->Error("ERR Number of keys can't be negative");
    return;
  }
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
  ScriptCall call;
  call.script = script.get();
  call.keys = ctx.args.subspan(3, static_cast<size_t>(numkeys));
  call.argv = ctx.args.subspan(3 + static_cast<size_t>(numkeys));
  call.read_only = read_only || (script->flags & kScriptNoWrites);
  // On the thread of its keys' shard a script may use that shard only; in
  // the exclusive section (or with one shard) every shard.
  if (ctx.server->multi_threaded() && !InExclusiveSection()) {
    Worker* w = CurrentWorker();
    call.shard = w ? w->index() : 0;
  }
  const bool group = ctx.server->worker(0).shard().replicating();
  if (group) ctx.server->replicator().BeginGroup();
  LuaEngine::ForThread(ctx.server).Run(ctx, call);
  if (group) ctx.server->replicator().EndGroup();
}

}  // namespace

void CmdEval(CommandContext& ctx) { EvalGeneric(ctx, false, false); }
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

void CmdScriptKill(CommandContext& ctx) {
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
