// Pub/sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE,
// SUNSUBSCRIBE, PUBLISH, SPUBLISH and PUBSUB, with Redis 7.0's replies
// (RESP2 arrays, RESP3 pushes). Subscriptions live in the node's registry
// (node/pubsub.h) and on the connection; a message published here is
// delivered to this node's subscribers and relayed to every other member
// (node/cluster/pubsub_relay.h), which delivers it to its own. PUBLISH
// answers the receivers on this node, as a Redis Cluster node does
// (docs/consistency.md, "Pub/sub").
#include "node/cluster/pubsub_relay.h"
#include "node/families/families.h"
#include "node/families/util.h"
#include "node/pubsub.h"
#include "node/server.h"
#include "node/str_util.h"

namespace lattice::node {

namespace {

void Confirm(CommandContext& ctx, std::string_view what, const std::string_view* name,
             int64_t count) {
  resp::ReplyBuilder* rb = ctx.rb;
  if (rb->protocol() >= 3) {
    rb->PushHeader(3);
  } else {
    rb->ArrayHeader(3);
  }
  rb->Bulk(what);
  if (name) {
    rb->Bulk(*name);
  } else {
    rb->Null();
  }
  rb->Integer(count);
}

int64_t CountFor(const Connection* c, PubSub::Kind kind) {
  return kind == PubSub::kShard ? static_cast<int64_t>(c->subscriptions[2].size())
                                : static_cast<int64_t>(c->subscribed());
}

void SubscribeGeneric(CommandContext& ctx, PubSub::Kind kind, std::string_view what) {
  Connection* c = ctx.conn;
  for (size_t i = 1; i < ctx.args.size(); i++) {
    std::string_view name = ctx.args[i];
    if (c->subscriptions[kind].insert(std::string(name)).second) {
      ctx.server->pubsub().Subscribe(kind, name, ctx.origin, c->id);
    }
    Confirm(ctx, what, &name, CountFor(c, kind));
  }
}

void UnsubscribeGeneric(CommandContext& ctx, PubSub::Kind kind, std::string_view what) {
  Connection* c = ctx.conn;
  std::vector<std::string> names;
  if (ctx.args.size() > 1) {
    names.assign(ctx.args.begin() + 1, ctx.args.end());
  } else {
    names.assign(c->subscriptions[kind].begin(), c->subscriptions[kind].end());
    if (names.empty()) {
      Confirm(ctx, what, nullptr, CountFor(c, kind));
      return;
    }
  }
  for (const std::string& name : names) {
    if (c->subscriptions[kind].erase(name) > 0) {
      ctx.server->pubsub().Unsubscribe(kind, name, ctx.origin, c->id);
    }
    std::string_view view = name;
    Confirm(ctx, what, &view, CountFor(c, kind));
  }
}

void PublishGeneric(CommandContext& ctx, bool shard) {
  Server* s = ctx.server;
  int64_t n = s->pubsub().Publish(ctx.args[1], ctx.args[2], shard,
                                  ctx.origin == CurrentWorker() ? ctx.conn_id : 0);
  if (PubSubRelay* relay = s->pubsub_relay()) relay->Send(ctx.args[1], ctx.args[2], shard);
  ctx.rb->Integer(n);
}

void ReplyNames(CommandContext& ctx, PubSub::Kind kind) {
  std::string_view pattern = ctx.args.size() > 2 ? ctx.args[2] : std::string_view();
  std::vector<std::string> names = ctx.server->pubsub().Names(kind, pattern);
  ctx.rb->ArrayHeader(static_cast<int64_t>(names.size()));
  for (const std::string& n : names) ctx.rb->Bulk(n);
}

void ReplyCounts(CommandContext& ctx, PubSub::Kind kind) {
  // A flat array of name, count pairs, in RESP3 too (Redis 7.0).
  int64_t n = static_cast<int64_t>(ctx.args.size() - 2);
  ctx.rb->ArrayHeader(2 * n);
  for (size_t i = 2; i < ctx.args.size(); i++) {
    ctx.rb->Bulk(ctx.args[i]);
    ctx.rb->Integer(ctx.server->pubsub().Count(kind, ctx.args[i]));
  }
}

}  // namespace

void CmdSubscribe(CommandContext& ctx) { SubscribeGeneric(ctx, PubSub::kChannel, "subscribe"); }
void CmdPSubscribe(CommandContext& ctx) { SubscribeGeneric(ctx, PubSub::kPattern, "psubscribe"); }
void CmdSSubscribe(CommandContext& ctx) { SubscribeGeneric(ctx, PubSub::kShard, "ssubscribe"); }
void CmdUnsubscribe(CommandContext& ctx) {
  UnsubscribeGeneric(ctx, PubSub::kChannel, "unsubscribe");
}
void CmdPUnsubscribe(CommandContext& ctx) {
  UnsubscribeGeneric(ctx, PubSub::kPattern, "punsubscribe");
}
void CmdSUnsubscribe(CommandContext& ctx) {
  UnsubscribeGeneric(ctx, PubSub::kShard, "sunsubscribe");
}
void CmdPublish(CommandContext& ctx) { PublishGeneric(ctx, false); }
void CmdSPublish(CommandContext& ctx) { PublishGeneric(ctx, true); }

void CmdPubsubChannels(CommandContext& ctx) { ReplyNames(ctx, PubSub::kChannel); }
void CmdPubsubShardChannels(CommandContext& ctx) { ReplyNames(ctx, PubSub::kShard); }
void CmdPubsubNumSub(CommandContext& ctx) { ReplyCounts(ctx, PubSub::kChannel); }
void CmdPubsubShardNumSub(CommandContext& ctx) { ReplyCounts(ctx, PubSub::kShard); }
void CmdPubsubNumPat(CommandContext& ctx) { ctx.rb->Integer(ctx.server->pubsub().patterns()); }

void CmdPubsubHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CHANNELS [<pattern>]",
      "    Return the currently active channels matching a <pattern> (default: '*').",
      "NUMPAT",
      "    Return number of subscriptions to patterns.",
      "NUMSUB [<channel> ...]",
      "    Return the number of subscribers for the specified channels, excluding",
      "    pattern subscriptions(default: no channels).",
      "SHARDCHANNELS [<pattern>]",
      "    Return the currently active shard level channels matching a <pattern> (default: '*').",
      "SHARDNUMSUB [<shardchannel> ...]",
      "    Return the number of subscribers for the specified shard level channel(s)",
      "HELP",
      "    Prints this help.",
  };
  ctx.rb->ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) ctx.rb->SimpleString(line);
}

}  // namespace lattice::node
