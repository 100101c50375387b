#include "node/persist/aof.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>

#include "node/cluster/delta_codec.h"
#include "node/cluster/functions_sync.h"
#include "node/cluster/replication.h"
#include "node/persist/crc64.h"
#include "node/persist/file_util.h"
#include "node/persist/snapshot.h"
#include "node/server.h"
#include "node/stamp_proto.h"
#include "node/str_util.h"
#include "proto/peer.pb.h"

namespace lattice::node {

namespace {

using persist::GetLe;
using persist::GetVarint;
using persist::PutLe;
using persist::PutVarint;

constexpr std::string_view kMagic("LATTICE-AOF\0", 12);
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 16;

int FsyncPolicy(std::string_view s) {
  if (s == "always") return AppendLog::kAlways;
  if (s == "no") return AppendLog::kNo;
  return AppendLog::kEverysec;
}

uint32_t RecordCheck(std::string_view payload) {
  return static_cast<uint32_t>(Crc64(0, payload.data(), payload.size()));
}

// `text` cut at every `sep`, runs of it counting as one when `skip_empty`.
std::vector<std::string_view> Split(std::string_view text, char sep, bool skip_empty) {
  std::vector<std::string_view> out;
  size_t from = 0;
  while (from <= text.size()) {
    size_t to = text.find(sep, from);
    if (to == std::string_view::npos) to = text.size();
    if (!skip_empty || to > from) out.push_back(text.substr(from, to - from));
    from = to + 1;
  }
  return out;
}

struct ManifestFile {
  std::string name;
  uint64_t seq = 0;
  char type = 0;  // 'b' base, 'i' incr, 'h' history (ignored)
};

absl::Status ParseManifest(const std::string& path, const std::string& text,
                           std::vector<ManifestFile>* out) {
  int line_no = 0;
  for (std::string_view line : Split(text, '\n', false)) {
    line_no++;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    auto bad = [&](std::string_view why) {
      return absl::DataLossError(
          StrCat("Bad append-only manifest ", path, " at line ", line_no, ": ", why));
    };
    std::vector<std::string_view> words = Split(line, ' ', true);
    if (words.size() % 2 != 0) return bad("keys and values do not pair up");
    ManifestFile f;
    for (size_t i = 0; i < words.size(); i += 2) {
      if (words[i] == "file") {
        f.name = std::string(words[i + 1]);
      } else if (words[i] == "seq") {
        int64_t seq;
        if (!ParseInt64(words[i + 1], &seq) || seq < 0) return bad("a seq that is not a number");
        f.seq = static_cast<uint64_t>(seq);
      } else if (words[i] == "type") {
        if (words[i + 1].size() != 1) return bad("an unknown file type");
        f.type = words[i + 1][0];
      }
    }
    if (f.name.empty() || f.name.find('/') != std::string::npos) return bad("no file name");
    if (f.type != 'b' && f.type != 'i' && f.type != 'h') return bad("an unknown file type");
    if (f.type == 'b' && !out->empty()) return bad("the base is not first");
    if (f.type != 'h') out->push_back(std::move(f));
  }
  return absl::OkStatus();
}

// Replays one incr file. A torn last record of the last file is cut off
// when `load_truncated`; any other bad byte is an error naming the offset.
absl::Status ReplayIncr(Server& server, const std::string& path, bool last, bool load_truncated,
                        AofLoadInfo* info) {
  std::string data;
  absl::Status st = persist::ReadWholeFile(path, "append-only", &data);
  if (absl::IsNotFound(st)) {
    return absl::DataLossError(
        StrCat("The append-only manifest names ", path, ", which does not exist"));
  }
  if (!st.ok()) return st;
  auto bad = [&](size_t offset, std::string_view why) {
    return absl::DataLossError(
        StrCat("Bad append-only file ", path, " at offset ", offset, ": ", why));
  };
  auto torn = [&](size_t offset) -> absl::Status {
    if (!last) return bad(offset, "truncated record in a file that is not the last");
    if (!load_truncated) {
      return bad(offset,
                 "truncated record (aof-load-truncated yes loads up to the last whole record)");
    }
    server.Log(Server::kWarning,
               StrCat("!!! Warning: short read while loading the append-only file ", path,
                      " at offset ", offset, ", ", data.size() - offset,
                      " bytes dropped; loaded anyway because aof-load-truncated is enabled"));
    if (::truncate(path.c_str(), static_cast<off_t>(offset)) != 0) {
      return absl::InternalError(persist::ErrnoText("Failed truncating", path));
    }
    info->truncated += data.size() - offset;
    return absl::OkStatus();
  };
  if (data.size() < kHeaderBytes) {
    // Cut while its header was written: only the last file can be.
    if (std::string_view(data) != kMagic.substr(0, std::min(data.size(), kMagic.size()))) {
      return bad(0, "not a Lattice append-only file (no LATTICE-AOF signature)");
    }
    absl::Status t = torn(0);
    if (!t.ok()) return t;
    std::string header(kMagic);
    PutLe(&header, kVersion, 4);
    return persist::WriteFileAtomically(path, header);
  }
  if (std::string_view(data).substr(0, kMagic.size()) != kMagic) {
    return bad(0, "not a Lattice append-only file (no LATTICE-AOF signature)");
  }
  uint32_t version = static_cast<uint32_t>(GetLe(data.data() + 12, 4));
  if (version != kVersion) {
    return bad(12, StrCat("format version ", version, ", this server reads ", kVersion));
  }
  const int databases = server.worker(0).shard().databases();
  const int64_t max_bulk = server.max_bulk_len();
  const int64_t now = NowMs();
  peer::Delta d;
  std::string why;
  size_t at = kHeaderBytes;
  while (at < data.size()) {
    const size_t start = at;
    uint64_t len;
    if (!GetVarint(data.data(), data.size(), &at, &len)) return torn(start);
    if (len == 0) return bad(start, "an empty record");
    if (len > data.size() - at || data.size() - at - len < 4) return torn(start);
    std::string_view payload(data.data() + at, len);
    const bool is_last = at + len + 4 == data.size();
    if (RecordCheck(payload) != static_cast<uint32_t>(GetLe(data.data() + at + len, 4))) {
      // A crash can leave garbage in the last record's pages.
      if (is_last) return torn(start);
      return bad(start, "checksum mismatch (the file is corrupt)");
    }
    if (payload[0] == '\0' && payload.size() >= 18 && payload[1] == 'E') {
      // An eviction: the key goes unless a later write is in it (no
      // tombstone: eviction is local).
      int db = static_cast<int>(GetLe(payload.data() + 2, 4));
      crdt::Stamp st{GetLe(payload.data() + 6, 8), static_cast<uint32_t>(GetLe(payload.data() + 14, 4))};
      if (db >= databases) return bad(start, "an eviction in a database this server lacks");
      std::string_view key = payload.substr(18);
      Db& d = server.worker(server.ShardIndexOf(key)).shard().db(db);
      if (const Entry* e = d.Peek(key); e && !(st < e->stamp())) d.Delete(key);
      at += len + 4;
      continue;
    }
    if (payload[0] == '\0' && payload.size() >= 2 && payload[1] == 'F') {
      peer::FunctionsState state;
      if (!state.ParseFromArray(payload.data() + 2, static_cast<int>(payload.size() - 2))) {
        return bad(start, "function libraries that do not parse");
      }
      MergeFunctions(server, state, path);
      at += len + 4;
      continue;
    }
    if (payload[0] == '\0') {
      if (payload.size() != 14 || payload[1] != 'A') return bad(start, "an unknown mark");
      uint32_t origin = static_cast<uint32_t>(GetLe(payload.data() + 2, 4));
      uint64_t seq = GetLe(payload.data() + 6, 8);
      uint64_t& have = info->applied[origin];
      have = std::max(have, seq);
      at += len + 4;
      continue;
    }
    if (!d.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
      return bad(start, "a record that does not parse");
    }
    if (!ValidDelta(d, databases, max_bulk, /*unnamed_origin_ok=*/true, &why)) {
      return bad(start, StrCat("an invalid record (", why, ")"));
    }
    MergeLoadedDelta(server, d, now);
    info->records++;
    at += len + 4;
  }
  return absl::OkStatus();
}

absl::Status CreateIncr(const std::string& path) {
  std::string header(kMagic);
  PutLe(&header, kVersion, 4);
  return persist::WriteFileAtomically(path, header);
}

}  // namespace

AppendLog::AppendLog(Server* server) : server_(server) {}

AppendLog::~AppendLog() {
  Stop();
  if (fd_ >= 0) ::close(fd_);
  for (int fd : retired_fds_) ::close(fd);
}

absl::Status AppendLog::Open(AofLoadInfo* info) {
  *info = AofLoadInfo{};
  const Config& c = server_->config();
  dir_ = c.appenddirname;
  name_ = c.appendfilename;
  set_fsync(c.appendfsync);
  const std::string manifest_path = StrCat(dir_, "/", name_, ".manifest");
  std::string text;
  absl::Status st = persist::ReadWholeFile(manifest_path, "append-only manifest", &text);
  if (st.ok()) {
    std::vector<ManifestFile> files;
    st = ParseManifest(manifest_path, text, &files);
    if (!st.ok()) return st;
    size_t incrs = 0;
    for (const ManifestFile& f : files) incrs += f.type == 'i';
    size_t seen_incrs = 0;
    for (const ManifestFile& f : files) {
      std::string path = StrCat(dir_, "/", f.name);
      seq_ = std::max(seq_, f.seq);
      if (f.type == 'b') {
        SnapshotInfo si;
        st = LoadSnapshot(*server_, path, &si);
        if (absl::IsNotFound(st)) {
          return absl::DataLossError(
              StrCat("The append-only manifest names ", path, ", which does not exist"));
        }
        if (!st.ok()) return st;
        base_name_ = f.name;
        base_bytes_ = si.bytes;
        info->base_keys = si.keys;
        continue;
      }
      seen_incrs++;
      st = ReplayIncr(*server_, path, seen_incrs == incrs, c.aof_load_truncated, info);
      if (!st.ok()) return st;
      incr_names_.push_back(f.name);
    }
    info->from_log = true;
    if (incr_names_.empty()) {
      incr_names_.push_back(StrCat(name_, ".", ++seq_, ".incr.aof"));
      st = CreateIncr(StrCat(dir_, "/", incr_names_.back()));
      if (st.ok()) st = WriteManifest();
      if (!st.ok()) return st;
    }
  } else if (absl::IsNotFound(st)) {
    // The first start with the log on: what is loaded already (dump.rdb)
    // becomes the base, so turning the log on never starts a node empty.
    if (::mkdir(dir_.c_str(), 0755) != 0 && errno != EEXIST) {
      return absl::InternalError(
          persist::ErrnoText("Can't create the append-only directory", dir_));
    }
    seq_ = 1;
    base_name_ = StrCat(name_, ".1.base.snap");
    incr_names_ = {StrCat(name_, ".1.incr.aof")};
    SnapshotInfo si;
    st = SaveSnapshot(*server_, StrCat(dir_, "/", base_name_), &si);
    if (st.ok()) st = CreateIncr(StrCat(dir_, "/", incr_names_.back()));
    if (st.ok()) st = WriteManifest();
    if (!st.ok()) return st;
    base_bytes_ = si.bytes;
    info->base_keys = si.keys;
  } else {
    return st;
  }
  // Tombstones serve merges with peers; a node without a peer service
  // needs none of those its replay left.
  if (c.ResolvedPeerPort() == 0) {
    for (int i = 0; i < server_->shard_count(); i++) {
      Shard& shard = server_->worker(i).shard();
      for (int db = 0; db < shard.databases(); db++) shard.db(db).ClearTombs();
    }
  }
  marks_ = info->applied;
  incr_path_ = StrCat(dir_, "/", incr_names_.back());
  fd_ = ::open(incr_path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) {
    return absl::InternalError(persist::ErrnoText("Failed opening the append-only file", incr_path_));
  }
  struct stat sb;
  if (::fstat(fd_, &sb) == 0) file_bytes_ = static_cast<uint64_t>(sb.st_size);
  everysec_ = std::thread([this] { EverysecLoop(); });
  return absl::OkStatus();
}

absl::Status AppendLog::WriteManifest() {
  std::string text;
  if (!base_name_.empty()) text += StrCat("file ", base_name_, " seq ", seq_, " type b\n");
  uint64_t s = seq_ - incr_names_.size();
  for (const std::string& n : incr_names_) text += StrCat("file ", n, " seq ", ++s, " type i\n");
  return persist::WriteFileAtomically(StrCat(dir_, "/", name_, ".manifest"), text);
}

void AppendLog::Append(std::string_view payload) {
  std::lock_guard<std::mutex> l(mu_);
  size_t before = pending_.size();
  PutVarint(&pending_, payload.size());
  pending_.append(payload);
  PutLe(&pending_, RecordCheck(payload), 4);
  appended_.fetch_add(pending_.size() - before, std::memory_order_release);
}

void AppendLog::Emit(const Delta& delta) {
  thread_local std::string buf;
  buf.clear();
  EncodeDelta(delta, &buf);
  Append(buf);
  if (DeltaSink* next = next_.load(std::memory_order_acquire)) next->Emit(delta);
}

void AppendLog::Applied(const peer::Delta& delta) {
  thread_local std::string buf;
  buf.clear();
  delta.SerializeToString(&buf);
  Append(buf);
}

void AppendLog::set_fsync(std::string_view policy) {
  fsync_.store(FsyncPolicy(policy), std::memory_order_relaxed);
}

void AppendLog::Evicted(int db, std::string_view key, crdt::Stamp stamp) {
  std::string rec("\0E", 2);
  PutLe(&rec, static_cast<uint32_t>(db), 4);
  PutLe(&rec, stamp.counter, 8);
  PutLe(&rec, stamp.node, 4);
  rec.append(key);
  Append(rec);
}

void AppendLog::AppendFunctions(std::string_view state) {
  std::string rec("\0F", 2);
  rec.append(state);
  Append(rec);
}

void AppendLog::AppendApplied(uint32_t origin, uint64_t seq) {
  {
    std::lock_guard<std::mutex> l(mu_);
    uint64_t& m = marks_[origin];
    m = std::max(m, seq);
  }
  std::string mark("\0A", 2);
  PutLe(&mark, origin, 4);
  PutLe(&mark, seq, 8);
  Append(mark);
}

absl::Status AppendLog::BeginRewrite(std::string* base_path) {
  std::lock_guard<std::mutex> io(io_mu_);
  if (!new_base_name_.empty()) return absl::FailedPreconditionError("a rewrite is in progress");
  std::string tail;
  uint64_t end;
  {
    std::lock_guard<std::mutex> l(mu_);
    end = appended_.load(std::memory_order_relaxed);
    tail.swap(pending_);
  }
  // Everything before this moment is in the old files, on disk.
  if ((!tail.empty() && !persist::WriteAll(fd_, tail.data(), tail.size())) || ::fdatasync(fd_) != 0) {
    std::string err = persist::ErrnoText("Error writing the append-only file", incr_path_);
    std::lock_guard<std::mutex> l(mu_);
    tail.append(pending_);
    pending_.swap(tail);
    return absl::InternalError(err);
  }
  std::string name = StrCat(name_, ".", seq_ + 1, ".incr.aof");
  std::string path = StrCat(dir_, "/", name);
  absl::Status st = CreateIncr(path);
  int fd = st.ok() ? ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC) : -1;
  if (st.ok() && fd < 0) st = absl::InternalError(persist::ErrnoText("Failed opening", path));
  if (st.ok()) {
    seq_++;
    incr_names_.push_back(name);
    st = WriteManifest();
    if (!st.ok()) {
      incr_names_.pop_back();
      seq_--;
    }
  }
  if (!st.ok()) {
    if (fd >= 0) ::close(fd);
    ::unlink(path.c_str());
    written_.store(end, std::memory_order_release);
    synced_.store(end, std::memory_order_release);
    durable_.store(end, std::memory_order_release);
    return st;
  }
  retired_fds_.push_back(fd_.exchange(fd));
  incr_path_ = path;
  file_bytes_.store(kHeaderBytes, std::memory_order_relaxed);
  written_.store(end, std::memory_order_release);
  synced_.store(end, std::memory_order_release);
  durable_.store(end, std::memory_order_release);
  new_base_name_ = StrCat(name_, ".", seq_, ".base.snap");
  *base_path = StrCat(dir_, "/", new_base_name_);
  // The new incr file stands on the new base alone: it repeats the marks.
  std::map<uint32_t, uint64_t> marks;
  {
    std::lock_guard<std::mutex> l(mu_);
    marks = marks_;
  }
  for (auto [origin, seq] : marks) {
    std::string mark("\0A", 2);
    PutLe(&mark, origin, 4);
    PutLe(&mark, seq, 8);
    Append(mark);
  }
  return absl::OkStatus();
}

absl::Status AppendLog::FinishRewrite(const absl::Status& base, uint64_t base_bytes) {
  std::lock_guard<std::mutex> io(io_mu_);
  std::string fresh = std::move(new_base_name_);
  new_base_name_.clear();
  if (!base.ok()) return base;
  std::vector<std::string> old;
  if (!base_name_.empty()) old.push_back(base_name_);
  old.insert(old.end(), incr_names_.begin(), incr_names_.end() - 1);
  std::string prev_base = base_name_;
  std::vector<std::string> prev_incrs = incr_names_;
  base_name_ = fresh;
  incr_names_ = {incr_names_.back()};
  absl::Status st = WriteManifest();
  if (!st.ok()) {
    base_name_ = prev_base;
    incr_names_ = prev_incrs;
    ::unlink(StrCat(dir_, "/", fresh).c_str());
    return st;
  }
  for (const std::string& f : old) ::unlink(StrCat(dir_, "/", f).c_str());
  for (int fd : retired_fds_) ::close(fd);
  retired_fds_.clear();
  base_bytes_.store(base_bytes, std::memory_order_relaxed);
  return absl::OkStatus();
}

void AppendLog::Flush() {
  if (Behind()) Commit();
  if (DeltaSink* next = next_.load(std::memory_order_acquire)) next->Flush();
}

crdt::Tombstone AppendLog::NewTombstone(crdt::Stamp stamp) {
  if (DeltaSink* next = next_.load(std::memory_order_acquire)) return next->NewTombstone(stamp);
  // No peers: this node's own earlier writes are all it has seen (the
  // shard also names the value the delete removed).
  crdt::Tombstone t;
  t.stamp = stamp;
  if (stamp.counter > 1) t.seen.Observe(stamp.node, stamp.counter - 1);
  return t;
}

bool AppendLog::Commit() {
  const int policy = fsync_.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> io(io_mu_);
  uint64_t end;
  {
    std::lock_guard<std::mutex> l(mu_);
    end = appended_.load(std::memory_order_relaxed);
    spare_.clear();
    spare_.swap(pending_);
  }
  if (!spare_.empty()) {
    if (!persist::WriteAll(fd_, spare_.data(), spare_.size())) {
      int err = errno;
      last_errno_ = err;
      // Whatever part reached the file goes, so a retry never leaves half a
      // record behind; the bytes wait for the next commit.
      if (::ftruncate(fd_, static_cast<off_t>(file_bytes_.load())) != 0) {
        // Nothing more to do: the next load stops at the torn record.
      }
      {
        std::lock_guard<std::mutex> l(mu_);
        spare_.append(pending_);
        pending_.swap(spare_);
      }
      if (write_ok_.exchange(false)) {
        server_->Log(Server::kWarning, StrCat("Error writing to the append-only file ",
                                              incr_path_, ": ", std::strerror(err)));
      }
      return false;
    }
    file_bytes_.fetch_add(spare_.size(), std::memory_order_relaxed);
    written_.store(end, std::memory_order_release);
    if (spare_.capacity() > (4u << 20)) std::string().swap(spare_);
  }
  if (policy == kAlways && synced_.load(std::memory_order_relaxed) < end) {
    if (::fdatasync(fd_) != 0) {
      last_errno_ = errno;
      if (write_ok_.exchange(false)) {
        server_->Log(Server::kWarning, StrCat("Error syncing the append-only file ", incr_path_,
                                              ": ", std::strerror(errno)));
      }
      return false;
    }
    synced_.store(end, std::memory_order_release);
    fsyncs_.fetch_add(1, std::memory_order_relaxed);
  }
  if (!write_ok_.load(std::memory_order_relaxed)) {
    write_ok_ = true;
    server_->Log(Server::kWarning, "The append-only file is written again.");
  }
  durable_.store(policy == kAlways ? synced_.load() : written_.load(), std::memory_order_release);
  return true;
}

absl::Status AppendLog::SyncAll() {
  if (!Commit()) return absl::InternalError(StrCat("Error writing ", incr_path_));
  std::lock_guard<std::mutex> io(io_mu_);
  if (::fdatasync(fd_) != 0) {
    return absl::InternalError(persist::ErrnoText("Error syncing", incr_path_));
  }
  synced_.store(written_.load());
  return absl::OkStatus();
}

void AppendLog::EverysecLoop() {
  std::unique_lock<std::mutex> l(stop_mu_);
  while (!stopping_) {
    stop_cv_.wait_for(l, std::chrono::seconds(1));
    if (stopping_ || fsync_.load(std::memory_order_relaxed) != kEverysec) continue;
    uint64_t w = written_.load(std::memory_order_acquire);
    if (w <= synced_.load(std::memory_order_relaxed)) continue;
    // Off the workers' path, as Redis's background fsync: writes go on.
    if (::fdatasync(fd_.load()) == 0) {
      uint64_t s = synced_.load();
      while (s < w && !synced_.compare_exchange_weak(s, w)) {
      }
      fsyncs_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

void AppendLog::Stop() {
  {
    std::lock_guard<std::mutex> l(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (everysec_.joinable()) everysec_.join();
}

}  // namespace lattice::node
