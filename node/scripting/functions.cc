#include "node/scripting/functions.h"

#include <algorithm>
#include <cstring>

#include "node/str_util.h"

namespace lattice::node {

namespace {

constexpr unsigned char kOpcodeFunction2 = 245;  // RDB_OPCODE_FUNCTION2
constexpr uint16_t kRdbVersion = 10;             // Redis 7.0

void PutLength(std::string* out, uint64_t n) {
  if (n < (1 << 6)) {
    out->push_back(static_cast<char>(n));
  } else if (n < (1 << 14)) {
    out->push_back(static_cast<char>(0x40 | (n >> 8)));
    out->push_back(static_cast<char>(n & 0xff));
  } else if (n <= 0xffffffffULL) {
    out->push_back(static_cast<char>(0x80));
    for (int i = 3; i >= 0; i--) out->push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  } else {
    out->push_back(static_cast<char>(0x81));
    for (int i = 7; i >= 0; i--) out->push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  }
}

// Reads an RDB length; *encoded set for the 11xxxxxx special forms.
bool GetLength(std::string_view& in, uint64_t* n, bool* encoded) {
  if (in.empty()) return false;
  unsigned char b = static_cast<unsigned char>(in[0]);
  *encoded = false;
  switch (b >> 6) {
    case 0:
      *n = b & 0x3f;
      in.remove_prefix(1);
      return true;
    case 1:
      if (in.size() < 2) return false;
      *n = ((b & 0x3f) << 8) | static_cast<unsigned char>(in[1]);
      in.remove_prefix(2);
      return true;
    case 2: {
      int bytes = b == 0x80 ? 4 : b == 0x81 ? 8 : 0;
      if (!bytes || in.size() < static_cast<size_t>(1 + bytes)) return false;
      uint64_t v = 0;
      for (int i = 1; i <= bytes; i++) v = (v << 8) | static_cast<unsigned char>(in[i]);
      *n = v;
      in.remove_prefix(1 + bytes);
      return true;
    }
    default:
      *encoded = true;
      *n = b & 0x3f;
      in.remove_prefix(1);
      return true;
  }
}

// LZF decompression (the format Redis's rdbSaveLzfStringObject writes).
bool LzfDecompress(std::string_view in, size_t out_len, std::string* out) {
  out->clear();
  out->reserve(out_len);
  size_t i = 0;
  while (i < in.size()) {
    unsigned ctrl = static_cast<unsigned char>(in[i++]);
    if (ctrl < 32) {
      size_t len = ctrl + 1;
      if (i + len > in.size() || out->size() + len > out_len) return false;
      out->append(in.substr(i, len));
      i += len;
      continue;
    }
    size_t len = ctrl >> 5;
    if (len == 7) {
      if (i >= in.size()) return false;
      len += static_cast<unsigned char>(in[i++]);
    }
    if (i >= in.size()) return false;
    size_t back = ((ctrl & 0x1f) << 8) + static_cast<unsigned char>(in[i++]) + 1;
    if (back > out->size() || out->size() + len + 2 > out_len) return false;
    size_t from = out->size() - back;
    for (size_t k = 0; k < len + 2; k++) out->push_back((*out)[from + k]);
  }
  return out->size() == out_len;
}

bool GetString(std::string_view& in, std::string* s) {
  uint64_t n;
  bool encoded;
  if (!GetLength(in, &n, &encoded)) return false;
  if (!encoded) {
    if (in.size() < n) return false;
    s->assign(in.substr(0, n));
    in.remove_prefix(n);
    return true;
  }
  if (n == 3) {  // LZF
    uint64_t clen, len;
    bool e1, e2;
    if (!GetLength(in, &clen, &e1) || !GetLength(in, &len, &e2) || e1 || e2 || in.size() < clen) {
      return false;
    }
    bool ok = LzfDecompress(in.substr(0, clen), len, s);
    in.remove_prefix(clen);
    return ok;
  }
  return false;  // integer encodings never hold a library's code
}

}  // namespace

uint64_t Crc64(uint64_t crc, std::string_view data) {
  for (unsigned char c : data) {
    crc ^= c;
    for (int k = 0; k < 8; k++) crc = (crc & 1) ? (crc >> 1) ^ 0x95AC9329AC4BC9B5ULL : crc >> 1;
  }
  return crc;
}

bool ValidFunctionName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '_')) {
      return false;
    }
  }
  return true;
}

bool ParseLibraryShebang(std::string_view code, std::string* name, std::string* error) {
  if (code.substr(0, 2) != "#!") {
    *error = "ERR Missing library metadata";
    return false;
  }
  std::string_view line = code.substr(0, code.find('\n'));
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= line.size()) {
    size_t end = line.find(' ', start);
    if (end == std::string_view::npos) end = line.size();
    if (end > start) parts.push_back(line.substr(start, end - start));
    start = end + 1;
  }
  std::string_view engine = parts[0].substr(2);
  if (engine != "lua") {
    *error = StrCat("ERR Engine '", engine, "' not found");
    return false;
  }
  bool have = false;
  for (size_t i = 1; i < parts.size(); i++) {
    if (parts[i].substr(0, 5) == "name=") {
      *name = std::string(parts[i].substr(5));
      have = true;
    } else {
      *error = StrCat("ERR Invalid metadata value given: ", parts[i]);
      return false;
    }
  }
  if (!have) {
    *error = "ERR Library name was not given";
    return false;
  }
  if (!ValidFunctionName(*name)) {
    *error =
        "ERR Library names can only contain letters, numbers, or underscores(_) and must be at "
        "least one character long";
    return false;
  }
  return true;
}

// Which libraries are visible: live ones stamped above the flush floor,
// newest first, each unless one of its functions is already taken by a
// newer visible one. Computed from the state alone, so every member that
// holds the same state shows the same libraries, whatever order the
// changes arrived in.
void Functions::IndexLocked() {
  function_lib_.clear();
  visible_.clear();
  std::vector<std::pair<crdt::Stamp, const std::string*>> live;
  for (const auto& [name, e] : libs_) {
    if (e.lib && floor_ < e.stamp) live.push_back({e.stamp, &name});
  }
  std::sort(live.begin(), live.end(), [](const auto& a, const auto& b) { return b.first < a.first; });
  for (const auto& [stamp, name] : live) {
    const Library& lib = *libs_.at(*name).lib;
    bool taken = false;
    for (const FunctionInfo& f : lib.functions) taken = taken || function_lib_.contains(f.name);
    if (taken) continue;
    for (const FunctionInfo& f : lib.functions) function_lib_[f.name] = *name;
    visible_.insert(*name);
  }
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

bool Functions::Add(std::shared_ptr<const Library> lib, bool replace, std::string* error,
                    crdt::Stamp stamp) {
  std::lock_guard<std::mutex> l(mu_);
  if (visible_.contains(lib->name) && !replace) {
    *error = StrCat("ERR Library '", lib->name, "' already exists");
    return false;
  }
  for (const FunctionInfo& f : lib->functions) {
    auto it = function_lib_.find(f.name);
    if (it != function_lib_.end() && it->second != lib->name) {
      *error = StrCat("ERR Function ", f.name, " already exists");
      return false;
    }
  }
  std::string name = lib->name;
  libs_[name] = Entry{std::move(lib), stamp};
  IndexLocked();
  return true;
}

bool Functions::Delete(std::string_view name, crdt::Stamp stamp) {
  std::lock_guard<std::mutex> l(mu_);
  std::string key(name);
  if (!visible_.contains(key)) return false;
  libs_[key] = Entry{nullptr, stamp};
  IndexLocked();
  return true;
}

void Functions::Flush(crdt::Stamp stamp) {
  std::lock_guard<std::mutex> l(mu_);
  floor_ = std::max(floor_, stamp);
  IndexLocked();
}

std::shared_ptr<const Library> Functions::FindFunction(std::string_view name,
                                                       const FunctionInfo** fn) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = function_lib_.find(std::string(name));
  if (it == function_lib_.end()) return nullptr;
  std::shared_ptr<const Library> lib = libs_.at(it->second).lib;
  for (const FunctionInfo& f : lib->functions) {
    if (f.name == name) *fn = &f;
  }
  return lib;
}

std::vector<std::shared_ptr<const Library>> Functions::All() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::shared_ptr<const Library>> out;
  for (const auto& [name, e] : libs_) {
    if (visible_.contains(name)) out.push_back(e.lib);
  }
  return out;
}

std::vector<Functions::Record> Functions::State(crdt::Stamp* floor) const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<Record> out;
  for (const auto& [name, e] : libs_) {
    out.push_back(Record{name, e.lib ? e.lib->code : std::string(), e.stamp, !e.lib});
  }
  *floor = floor_;
  return out;
}

uint64_t Functions::Digest() const {
  crdt::Stamp floor;
  std::vector<Record> state = State(&floor);
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&](uint64_t v) {
    for (int i = 0; i < 8; i++) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 1099511628211ULL;
    }
  };
  mix(floor.counter);
  mix(floor.node);
  for (const Record& r : state) {
    for (char c : r.name) mix(static_cast<unsigned char>(c));
    mix(r.name.size());
    mix(r.stamp.counter);
    mix(r.stamp.node);
    mix(r.deleted);
  }
  return h;
}

bool Functions::Merge(const std::string& name, std::shared_ptr<const Library> lib,
                      crdt::Stamp stamp) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = libs_.find(name);
  if (it != libs_.end() && !(it->second.stamp < stamp)) return false;
  libs_[name] = Entry{std::move(lib), stamp};
  IndexLocked();
  return true;
}

void Functions::MergeFloor(crdt::Stamp floor) {
  std::lock_guard<std::mutex> l(mu_);
  if (!(floor_ < floor)) return;
  floor_ = floor;
  IndexLocked();
}

std::string Functions::Dump() const {
  std::string out;
  for (const auto& lib : All()) {
    out.push_back(static_cast<char>(kOpcodeFunction2));
    PutLength(&out, lib->code.size());
    out.append(lib->code);
  }
  out.push_back(static_cast<char>(kRdbVersion & 0xff));
  out.push_back(static_cast<char>(kRdbVersion >> 8));
  uint64_t crc = Crc64(0, out);
  for (int i = 0; i < 8; i++) out.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  return out;
}

bool Functions::ParseDump(std::string_view payload, std::vector<std::string>* codes,
                          std::string* error) {
  *error = "ERR DUMP payload version or checksum are wrong";
  if (payload.size() < 10) return false;
  std::string_view body = payload.substr(0, payload.size() - 10);
  std::string_view footer = payload.substr(payload.size() - 10);
  uint16_t version = static_cast<uint16_t>(static_cast<unsigned char>(footer[0]) |
                                           (static_cast<unsigned char>(footer[1]) << 8));
  uint64_t crc = 0;
  for (int i = 0; i < 8; i++) crc |= static_cast<uint64_t>(static_cast<unsigned char>(footer[2 + i])) << (8 * i);
  if (version > kRdbVersion) return false;
  if (crc != 0 && Crc64(0, payload.substr(0, payload.size() - 8)) != crc) return false;
  while (!body.empty()) {
    if (static_cast<unsigned char>(body[0]) != kOpcodeFunction2) {
      *error = "ERR given type is not a function";
      return false;
    }
    body.remove_prefix(1);
    std::string code;
    if (!GetString(body, &code)) {
      *error = "ERR Failed loading library";
      return false;
    }
    codes->push_back(std::move(code));
  }
  return true;
}

}  // namespace lattice::node
