// Transactions: MULTI, EXEC, DISCARD, WATCH and UNWATCH (and RESET), with Redis 7.0's
// semantics. The connection queues commands after MULTI (the dispatcher,
// Worker::QueueCommand, answers +QUEUED, or refuses a command and marks the
// transaction for EXECABORT); EXEC runs them one after the other with
// nothing else in between (Worker::RunTransaction). WATCH registers the
// connection's flag with each key's database, which sets it on any change
// of the key: a local write, a delta or repair from a peer, an expiry, a
// flush (docs/consistency.md, "Transactions").
#include "node/families/families.h"
#include "node/server.h"

namespace lattice::node {

namespace {

void Unwatch(Connection* c) {
  c->watch_dirty.reset();  // the databases drop their expired references lazily
  c->watched.clear();
}

}  // namespace

void CmdMulti(CommandContext& ctx) {
  if (ctx.conn->in_multi) {
    ctx.rb->Error("ERR MULTI calls can not be nested");
    return;
  }
  ctx.conn->in_multi = true;
  ctx.conn->multi_dirty = false;
  ctx.conn->queued.clear();
  ctx.rb->Ok();
}

void CmdExec(CommandContext& ctx) {
  if (!ctx.conn->in_multi) {
    ctx.rb->Error("ERR EXEC without MULTI");
    return;
  }
  ctx.origin->RunTransaction(ctx.conn, ctx.now_ms);
}

void CmdDiscard(CommandContext& ctx) {
  if (!ctx.conn->in_multi) {
    ctx.rb->Error("ERR DISCARD without MULTI");
    return;
  }
  ctx.conn->in_multi = false;
  ctx.conn->multi_dirty = false;
  ctx.conn->queued.clear();
  Unwatch(ctx.conn);
  ctx.rb->Ok();
}

void CmdWatch(CommandContext& ctx) {
  if (ctx.conn->in_multi) {
    ctx.rb->Error("ERR WATCH inside MULTI is not allowed");
    return;
  }
  ctx.origin->WatchKeys(ctx.conn, ctx.args.subspan(1), ctx.now_ms);
  ctx.rb->Ok();
}

void CmdUnwatch(CommandContext& ctx) {
  Unwatch(ctx.conn);
  ctx.rb->Ok();
}

// RESET: the connection as it was when it connected (Redis's
// clearClientConnectionState): no transaction, nothing watched, database
// 0, RESP2, no name.
void CmdReset(CommandContext& ctx) {
  Connection* c = ctx.conn;
  c->in_multi = false;
  c->multi_dirty = false;
  c->queued.clear();
  Unwatch(c);
  if (c->in_pubsub()) ctx.origin->UnsubscribeAll(c);
  c->db = 0;
  c->name.clear();
  c->rb.set_protocol(2);
  ctx.rb->SimpleString("RESET");
}

}  // namespace lattice::node
