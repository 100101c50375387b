#include "node/scripting/scripting.h"

#include <openssl/sha.h>

#include <algorithm>

#include "node/str_util.h"

namespace lattice::node {

std::string_view Script::code() const {
  if (!shebang) return body;
  size_t nl = body.find('\n');
  return nl == std::string::npos ? std::string_view() : std::string_view(body).substr(nl);
}

std::string Sha1Hex(std::string_view data) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * SHA_DIGEST_LENGTH, '0');
  for (int i = 0; i < SHA_DIGEST_LENGTH; i++) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 15];
  }
  return out;
}

namespace {

// The non-empty pieces of s between separators.
std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

bool ParseShebang(std::string_view body, bool* shebang, uint32_t* flags, std::string* error) {
  *shebang = false;
  *flags = 0;
  if (body.substr(0, 2) != "#!") return true;
  *shebang = true;
  std::string_view line = body.substr(0, body.find('\n'));
  std::vector<std::string_view> parts = Split(line, ' ');
  if (parts.empty() || parts[0] != "#!lua") {
    *error = StrCat("ERR Unexpected engine in script shebang: ", parts.empty() ? line : parts[0]);
    return false;
  }
  for (size_t i = 1; i < parts.size(); i++) {
    std::string_view part = parts[i];
    if (part.substr(0, 6) != "flags=") {
      *error = StrCat("ERR Unknown lua shebang option: ", part);
      return false;
    }
    for (std::string_view f : Split(part.substr(6), ',')) {
      if (f == "no-writes") {
        *flags |= kScriptNoWrites;
      } else if (f == "allow-oom") {
        *flags |= kScriptAllowOom;
      } else if (f == "allow-stale") {
        *flags |= kScriptAllowStale;
      } else if (f == "no-cluster") {
        *flags |= kScriptNoCluster;
      } else if (f == "allow-cross-slot-keys") {
        *flags |= kScriptAllowCrossSlot;
      } else {
        *error = StrCat("ERR Unexpected flag in script shebang: ", f);
        return false;
      }
    }
  }
  return true;
}

std::shared_ptr<const Script> Scripting::Find(std::string_view sha) const {
  if (sha.size() != 40) return nullptr;
  std::string lower = ToLower(sha);
  std::lock_guard<std::mutex> l(mu_);
  auto it = scripts_.find(lower);
  return it == scripts_.end() ? nullptr : it->second;
}

std::shared_ptr<const Script> Scripting::Add(std::shared_ptr<const Script> script) {
  std::lock_guard<std::mutex> l(mu_);
  auto [it, inserted] = scripts_.emplace(script->sha, script);
  if (inserted) bytes_ += script->body.size();
  return it->second;
}

void Scripting::Flush() {
  std::lock_guard<std::mutex> l(mu_);
  scripts_.clear();
  bytes_ = 0;
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

size_t Scripting::size() const {
  std::lock_guard<std::mutex> l(mu_);
  return scripts_.size();
}

size_t Scripting::bytes() const {
  std::lock_guard<std::mutex> l(mu_);
  return bytes_;
}

double Scripting::NextRandom() {
  constexpr uint64_t kMask = (1ULL << 48) - 1;
  std::lock_guard<std::mutex> l(rand_mu_);
  rand_state_ = (rand_state_ * 0x5DEECE66DULL + 0xB) & kMask;
  // lrand48's 31 bits, scaled as Lua's own math.random scales rand().
  constexpr int64_t kMax = 0x7fffffff;
  int64_t r = static_cast<int64_t>(rand_state_ >> 17);
  return static_cast<double>(r % kMax) / static_cast<double>(kMax);
}

void Scripting::Seed(int32_t seed) {
  std::lock_guard<std::mutex> l(rand_mu_);
  rand_state_ = (static_cast<uint64_t>(static_cast<uint32_t>(seed)) << 16) | 0x330E;
}

void Scripting::Register(RunningScript* s) {
  std::lock_guard<std::mutex> l(run_mu_);
  running_.push_back(s);
}

void Scripting::Unregister(RunningScript* s) {
  std::lock_guard<std::mutex> l(run_mu_);
  running_.erase(std::remove(running_.begin(), running_.end(), s), running_.end());
  if (s->busy.load()) busy_count_.fetch_sub(1, std::memory_order_acq_rel);
}

void Scripting::MarkBusy(RunningScript* s) {
  std::lock_guard<std::mutex> l(run_mu_);
  if (!s->busy.exchange(true)) busy_count_.fetch_add(1, std::memory_order_acq_rel);
}

Scripting::KillResult Scripting::Kill() {
  std::lock_guard<std::mutex> l(run_mu_);
  if (running_.empty()) return KillResult::kNotBusy;
  for (RunningScript* s : running_) {
    if (s->wrote.load()) return KillResult::kUnkillable;
  }
  for (RunningScript* s : running_) s->kill.store(true);
  return KillResult::kKilled;
}

}  // namespace lattice::node
