// File: node/command_table.h
//
// Every command the server knows, declared in one table
// (node/command_table.cc) and looked up case-insensitively by name.
//
// Thread-safety: immutable after construction; shared by all workers.
#ifndef LATTICE_NODE_COMMAND_TABLE_H_
#define LATTICE_NODE_COMMAND_TABLE_H_

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "node/command.h"
#include "node/str_util.h"

namespace lattice::node {

class CommandTable {
 public:
  CommandTable();

  // Resolves args[0] (and args[1] for container commands). On failure
  // returns nullptr and sets *error to Redis's reply text.
  const CommandId* Resolve(std::span<const std::string_view> args, std::string* error) const;
  const CommandId* Find(std::string_view name) const;
  const std::vector<std::unique_ptr<CommandId>>& all() const { return commands_; }
  // Top-level commands and subcommands, for stats arrays.
  size_t slot_count() const { return slots_.size(); }
  const CommandId& slot(size_t i) const { return *slots_[i]; }

 private:
  std::vector<std::unique_ptr<CommandId>> commands_;
  std::vector<const CommandId*> slots_;
  absl::flat_hash_map<std::string, const CommandId*> by_name_;
};

// The number of keys a movable-keys invocation names at args[cmd.keynum],
// or 0 when the count is not a usable number (the handler reports it).
int64_t KeynumCount(const CommandId& cmd, std::span<const std::string_view> args);

// Calls fn(position) for each key argument of an invocation, without
// allocating (the dispatcher routes with it).
template <typename F>
void ForEachKeyPosition(const CommandId& cmd, std::span<const std::string_view> args, F fn) {
  size_t argc = args.size();
  if (cmd.first_key > 0) {
    int last = cmd.last_key < 0 ? int(argc) + cmd.last_key : cmd.last_key;
    for (int i = cmd.first_key; i <= last && i < int(argc); i += cmd.key_step) fn(size_t(i));
  }
  if (cmd.keynum > 0) {
    int64_t n = KeynumCount(cmd, args);
    for (int64_t i = 0; i < n; i++) fn(size_t(cmd.keynum + 1 + i));
  }
  if (cmd.option_key) {
    if (size_t pos = cmd.option_key(args)) fn(pos);
  }
  if (cmd.streams_from > 0) {
    for (size_t i = size_t(cmd.streams_from); i < argc; i++) {
      if (!EqualsIgnoreCase(args[i], "streams")) continue;
      size_t n = (argc - i - 1) / 2;
      for (size_t k = 0; k < n; k++) fn(i + 1 + k);
      break;
    }
  }
}

// Whether `argc` arguments (the name included) fit the command's arity, and
// Redis's error text when they do not.
inline bool ArityOk(const CommandId& cmd, size_t argc) {
  return cmd.arity > 0 ? int(argc) == cmd.arity : int(argc) >= -cmd.arity;
}
std::string ArityError(const CommandId& cmd);

// Key positions of a command invocation (COMMAND GETKEYS).
std::vector<size_t> KeyPositions(const CommandId& cmd, std::span<const std::string_view> args);

}  // namespace lattice::node

#endif  // LATTICE_NODE_COMMAND_TABLE_H_
