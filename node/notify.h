// File: node/notify.h
//
// Keyspace notifications (notify-keyspace-events): after a write command,
// the keys it changed are published on __keyspace@<db>__:<key> (the event
// name as message) and __keyevent@<db>__:<event> (the key as message), to
// this node's subscribers, with Redis 7.0's classes and event names. The
// keys a command changed are not guessed from its arguments: every
// keyspace mutation goes through Db::Touch, which records the key while a
// command runs under a capture (RunNotified). Expired keys are told from
// the expiry paths, and writes merged from peers by the replication path,
// with the event of their delta's kind (docs/consistency.md, "Keyspace
// notifications").
//
// Thread-safety: the flags are an atomic; everything else runs on the
// thread that runs the command or the expiry.
#ifndef LATTICE_NODE_NOTIFY_H_
#define LATTICE_NODE_NOTIFY_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "node/command.h"

namespace lattice::node {

enum NotifyClass : uint32_t {
  kNotifyKeyspace = 1 << 0,  // K
  kNotifyKeyevent = 1 << 1,  // E
  kNotifyGeneric = 1 << 2,   // g
  kNotifyString = 1 << 3,    // $
  kNotifyList = 1 << 4,      // l
  kNotifySet = 1 << 5,       // s
  kNotifyHash = 1 << 6,      // h
  kNotifyZset = 1 << 7,      // z
  kNotifyExpired = 1 << 8,   // x
  kNotifyEvicted = 1 << 9,   // e
  kNotifyStream = 1 << 10,   // t
  kNotifyKeyMiss = 1 << 11,  // m
  kNotifyModule = 1 << 12,   // d
  kNotifyNew = 1 << 13,      // n
};

// notify-keyspace-events text <-> flags, as Redis parses and prints them.
bool ParseNotifyFlags(std::string_view text, uint32_t* flags);
std::string NotifyFlagsText(uint32_t flags);

// The node's flags (set from the config) and where notifications go.
extern std::atomic<uint32_t> g_notify_flags;
void SetNotifyServer(Server* server);

// Publishes one event of class `cls` on `key` of database `db`.
void NotifyKeyspaceEvent(uint32_t cls, std::string_view event, std::string_view key, int db);

// The keys a running command changed, in the order it changed them.
struct TouchCapture {
  std::vector<std::pair<int, std::string>> keys;
  void Add(int db, std::string_view key);
};
extern thread_local TouchCapture* tls_touch_capture;

// Runs cx's handler; when notifications are on and the command writes,
// publishes the events of the keys it changed.
void RunNotified(CommandContext& cx);

}  // namespace lattice::node

#endif  // LATTICE_NODE_NOTIFY_H_
