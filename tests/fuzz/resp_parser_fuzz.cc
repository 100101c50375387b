// File: tests/fuzz/resp_parser_fuzz.cc
//
// libFuzzer target for resp::Parser. Each input is parsed as one piece and
// again in chunks whose sizes come from a generator seeded with a hash of
// the input (including one byte at a time), through a buffer that behaves
// like a connection's and sometimes moves to a new address. Checks that the
// parser never reads out of bounds (ASan), never consumes more than it was
// given, returns sane arguments, and finds the same commands however the
// bytes arrive. Every input runs under Redis's default limits and under tiny
// limits derived from the input, so the "too big" and "invalid length"
// errors are reachable from short inputs.
//
// Build: cmake -DLATTICE_FUZZ=ON with clang; run with the seed corpus in
// tests/fuzz/corpus/resp_parser/ (copy it first: libFuzzer adds to it).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "resp/parser.h"

namespace lattice::resp {
namespace {

// Aborts with a message; libFuzzer reports the input that got here.
void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

uint64_t Fnv1a(std::string_view data) {
  uint64_t h = 14695981039346656037ull;
  for (const char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// xorshift64*: small, deterministic, good enough to pick chunk sizes.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed | 1) {}
  uint64_t Next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 2685821657736338717ull;
  }

 private:
  uint64_t state_;
};

enum class Split { kWhole, kBytes, kRandom };

struct Run {
  std::vector<std::vector<std::string>> commands;
  ParseStatus last = ParseStatus::kNeedMore;
  std::string error;
  bool too_big = false;  // the error depends on how the input was split
};

Run Parse(std::string_view input, const ParserLimits& limits, Split split, uint64_t seed) {
  static const std::string_view kPrefix = "ERR Protocol error: ";
  Parser parser(limits);
  Rng rng(seed);
  Run run;
  std::string buffer;
  size_t fed = 0;
  while (fed < input.size()) {
    size_t chunk = input.size() - fed;
    if (split == Split::kBytes) {
      chunk = 1;
    } else if (split == Split::kRandom) {
      const uint64_t r = rng.Next();
      chunk = std::min<size_t>(chunk, 1 + (r >> 8) % ((r & 1) ? 8 : 512));
      // Like a connection compacting or growing its buffer: the partial
      // command moves to another address.
      if ((r & 6) == 0) buffer = std::string(buffer);
    }
    buffer.append(input.substr(fed, chunk));
    fed += chunk;
    for (;;) {
      size_t consumed = 12345;
      const ParseStatus status = parser.Parse(buffer, &consumed);
      Check(consumed <= buffer.size(), "consumed more than the buffer");
      run.last = status;
      if (status == ParseStatus::kError) {
        Check(consumed == 0, "consumed bytes on error");
        run.error = parser.error();
        Check(run.error.compare(0, kPrefix.size(), kPrefix) == 0,
              "error text is not a protocol error");
        run.too_big = run.error.find("too big") != std::string::npos;
        return run;
      }
      if (status == ParseStatus::kNeedMore) {
        const size_t rest = buffer.size() - consumed;
        Check(parser.BytesHint() == 0 || parser.BytesHint() > rest,
              "hint does not ask for more bytes");
        buffer.erase(0, consumed);
        break;
      }
      Check(consumed > 0, "a command of zero bytes");
      Check(!parser.args().empty(), "a command without arguments");
      std::vector<std::string> command;
      size_t total = 0;
      for (const std::string_view arg : parser.args()) {
        // Unescaped inline arguments are never longer than their line.
        total += arg.size();
        Check(total <= consumed, "arguments longer than the command");
        // Arguments are views into the consumed bytes, except inline words
        // with quotes, which the parser unescapes into its own storage.
        const char* begin = buffer.data();
        const bool in_buffer = arg.data() >= begin && arg.data() + arg.size() <= begin + consumed;
        Check(in_buffer || std::string_view(buffer).substr(0, consumed).find_first_of("\"'") !=
                               std::string::npos,
              "an argument outside the consumed bytes");
        command.emplace_back(arg);  // reads every byte: ASan checks the view
      }
      run.commands.push_back(std::move(command));
      buffer.erase(0, consumed);
    }
  }
  return run;
}

bool IsPrefix(const std::vector<std::vector<std::string>>& prefix,
              const std::vector<std::vector<std::string>>& all) {
  if (prefix.size() > all.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (prefix[i] != all[i]) return false;
  }
  return true;
}

void Compare(const Run& whole, const Run& split) {
  if (split.too_big) {
    // The split run may have given up on a line whose end the whole run
    // found beyond the limit; everything before must agree.
    Check(IsPrefix(split.commands, whole.commands), "split run disagrees before a too-big error");
    return;
  }
  Check(split.commands == whole.commands, "split run found other commands");
  Check(split.last == whole.last, "split run ended differently");
  Check(split.error == whole.error, "split run reported another error");
}

}  // namespace
}  // namespace lattice::resp

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lattice::resp;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const uint64_t hash = Fnv1a(input);
  ParserLimits tiny;
  tiny.max_bulk_len = static_cast<int64_t>(hash % 64);
  tiny.max_multibulk_len = static_cast<int64_t>((hash >> 8) % 16);
  tiny.max_inline_len = 1 + (hash >> 16) % 48;
  for (const ParserLimits& limits : {ParserLimits{}, tiny}) {
    const Run whole = Parse(input, limits, Split::kWhole, 0);
    Compare(whole, Parse(input, limits, Split::kBytes, 0));
    Compare(whole, Parse(input, limits, Split::kRandom, hash));
    Compare(whole, Parse(input, limits, Split::kRandom, hash >> 32));
  }
  return 0;
}
