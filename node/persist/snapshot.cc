#include "node/persist/snapshot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

#include "node/cluster/functions_sync.h"
#include "node/cluster/replication.h"
#include "node/persist/crc64.h"
#include "node/persist/file_util.h"
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

constexpr std::string_view kMagic = "LATTICE-SNAP";
constexpr uint32_t kVersion = 2;
constexpr size_t kHeaderBytes = 12 + 4 + 4 + 8 + 8 + 4;
constexpr size_t kFlushBytes = 1 << 20;

uint64_t AppendDeltas(const std::vector<peer::Delta>& deltas, std::string* out) {
  thread_local std::string one;
  for (const peer::Delta& d : deltas) {
    one.clear();
    d.SerializeToString(&one);
    PutVarint(out, one.size());
    out->append(one);
  }
  return deltas.size();
}

}  // namespace

void MergeLoadedDelta(Server& server, const peer::Delta& d, int64_t now_ms) {
  server.clock().Observe(FromProto(d.stamp()));
  if (d.change_case() == peer::Delta::kFlush) {
    for (int i = 0; i < server.shard_count(); i++) ApplyDelta(server.worker(i).shard(), d, now_ms);
    return;
  }
  ApplyDelta(server.worker(server.ShardIndexOf(d.key())).shard(), d, now_ms);
}

uint64_t AppendEntryRecords(const Db& db, int db_index, const Entry& e, std::string* out) {
  thread_local std::vector<peer::Delta> deltas;
  deltas.clear();
  EntryToDeltas(db, db_index, e, &deltas);
  return AppendDeltas(deltas, out);
}

uint64_t AppendTombRecords(const Db& d, int db_index, std::string* out) {
  std::vector<peer::Delta> deltas;
  d.ForEachTomb([&](std::string_view key, const crdt::Tombstone& t) {
    peer::Delta& del = deltas.emplace_back();
    del.set_db(static_cast<uint32_t>(db_index));
    del.set_key(key.data(), key.size());
    ToProto(t.stamp, del.mutable_stamp());
    TombToProto(t, del.mutable_remove());
  });
  if (const crdt::Tombstone* f = d.flush_tomb()) {
    peer::Delta& del = deltas.emplace_back();
    del.set_db(static_cast<uint32_t>(db_index));
    ToProto(f->stamp, del.mutable_stamp());
    TombToProto(*f, del.mutable_flush());
  }
  return AppendDeltas(deltas, out);
}

absl::Status SnapshotFile::Create(const std::string& path, uint32_t node, uint64_t clock,
                                  int databases) {
  path_ = path;
  tmp_ = StrCat(path, ".tmp-", getpid());
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    return absl::InternalError(persist::ErrnoText("Failed opening the snapshot file", tmp_));
  }
  std::string b(kMagic);
  PutLe(&b, kVersion, 4);
  PutLe(&b, node, 4);
  PutLe(&b, clock, 8);
  PutLe(&b, static_cast<uint64_t>(NowMs()), 8);
  PutLe(&b, static_cast<uint64_t>(databases), 4);
  return Write(b);
}

absl::Status SnapshotFile::Write(std::string_view bytes) {
  crc_ = Crc64(crc_, bytes.data(), bytes.size());
  if (!persist::WriteAll(fd_, bytes.data(), bytes.size())) {
    return absl::InternalError(persist::ErrnoText("Failed writing the snapshot file", tmp_));
  }
  bytes_ += bytes.size();
  return absl::OkStatus();
}

absl::Status SnapshotFile::Append(std::string_view records, uint64_t count) {
  records_ += count;
  return Write(records);
}

std::string FunctionsBytes(Server& server) {
  peer::FunctionsState state;
  FunctionsToProto(server, &state);
  return state.SerializeAsString();
}

absl::Status SnapshotFile::Commit(std::string_view functions) {
  std::string b;
  PutVarint(&b, 0);
  PutVarint(&b, functions.size());
  b.append(functions);
  PutLe(&b, records_, 8);
  absl::Status st = Write(b);
  if (st.ok()) {
    b.clear();
    PutLe(&b, crc_, 8);
    st = Write(b);
  }
  if (st.ok() && ::fsync(fd_) != 0) {
    st = absl::InternalError(persist::ErrnoText("Failed syncing the snapshot file", tmp_));
  }
  if (!st.ok()) return st;
  ::close(fd_);
  fd_ = -1;
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    st = absl::InternalError(persist::ErrnoText("Failed renaming the snapshot file to", path_));
    ::unlink(tmp_.c_str());
    tmp_.clear();
    return st;
  }
  tmp_.clear();
  // The rename is durable once the directory is.
  persist::FsyncParentDir(path_);
  return absl::OkStatus();
}

void SnapshotFile::Abandon() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
  tmp_.clear();
}

absl::Status SaveSnapshot(Server& server, const std::string& path, SnapshotInfo* info) {
  *info = SnapshotInfo{};
  // A standalone node's id is not kept across restarts: 0 says so.
  info->node = server.config().ResolvedPeerPort() == 0 ? 0 : server.clock().node();
  info->clock = server.clock().Now();
  info->written_ms = NowMs();
  int databases = server.shard_count() ? server.worker(0).shard().databases() : 0;
  SnapshotFile file;
  absl::Status st = file.Create(path, info->node, info->clock, databases);
  int64_t now = NowMs();
  std::string buf;
  uint64_t count = 0;
  auto flush = [&](bool force) {
    if (st.ok() && (force || buf.size() >= kFlushBytes)) {
      st = file.Append(buf, count);
      buf.clear();
      count = 0;
    }
  };
  for (int i = 0; st.ok() && i < server.shard_count(); i++) {
    Shard& shard = server.worker(i).shard();
    for (int db = 0; st.ok() && db < shard.databases(); db++) {
      Db& d = shard.db(db);
      count += AppendTombRecords(d, db, &buf);
      flush(false);
      uint64_t cursor = 0;
      do {
        cursor = d.Scan(cursor, [&](const Entry& e) {
          if (e.has_expire() && e.expire_at() <= now) return;
          count += AppendEntryRecords(d, db, e, &buf);
          info->keys++;
        });
        flush(false);
      } while (st.ok() && cursor != 0);
    }
  }
  flush(true);
  if (st.ok()) st = file.Commit(FunctionsBytes(server));
  info->records = file.records();
  info->bytes = file.bytes();
  return st;
}

absl::Status LoadSnapshot(Server& server, const std::string& path, SnapshotInfo* info) {
  *info = SnapshotInfo{};
  std::string data;
  absl::Status read = persist::ReadWholeFile(path, "snapshot", &data);
  if (!read.ok()) return read;
  auto bad = [&](size_t offset, std::string_view why) {
    return absl::DataLossError(
        StrCat("Bad snapshot file ", path, " at offset ", offset, ": ", why));
  };
  if (data.size() < kMagic.size() || std::string_view(data).substr(0, kMagic.size()) != kMagic) {
    return bad(0, "not a Lattice snapshot (no LATTICE-SNAP signature)");
  }
  if (data.size() < kHeaderBytes) return bad(data.size(), "truncated header");
  uint32_t version = static_cast<uint32_t>(GetLe(data.data() + 12, 4));
  if (version != kVersion && version != 1) {
    return bad(12, StrCat("format version ", version, ", this server reads ", kVersion));
  }
  info->node = static_cast<uint32_t>(GetLe(data.data() + 16, 4));
  info->clock = GetLe(data.data() + 20, 8);
  info->written_ms = static_cast<int64_t>(GetLe(data.data() + 28, 8));
  int databases = server.shard_count() ? server.worker(0).shard().databases() : 0;
  uint32_t saved_dbs = static_cast<uint32_t>(GetLe(data.data() + 36, 4));
  if (saved_dbs > static_cast<uint32_t>(databases)) {
    return bad(36, StrCat("written with ", saved_dbs, " databases, this server has ",
                                databases, " (raise `databases`)"));
  }
  uint32_t self = server.config().ResolvedPeerPort() == 0 ? 0 : server.clock().node();
  if (info->node != 0 && self != 0 && info->node != self) {
    return bad(16, StrCat("written by node ", info->node, ", this is node ", self));
  }
  // First pass: the structure, every record, the count and the checksum,
  // before anything is applied.
  const int64_t max_bulk = server.max_bulk_len();
  size_t at = kHeaderBytes;
  uint64_t records = 0;
  peer::Delta d;
  std::string why;
  while (true) {
    size_t start = at;
    uint64_t len;
    if (!GetVarint(data.data(), data.size(), &at, &len)) return bad(start, "truncated record");
    if (len == 0) break;
    if (len > data.size() - at) return bad(start, "truncated record");
    if (!d.ParseFromArray(data.data() + at, static_cast<int>(len))) {
      return bad(start, "a record that does not parse");
    }
    if (!ValidDelta(d, databases, max_bulk, /*unnamed_origin_ok=*/true, &why)) {
      return bad(start, StrCat("an invalid record (", why, ")"));
    }
    at += len;
    records++;
  }
  peer::FunctionsState functions;
  bool has_functions = false;
  if (version >= 2) {
    size_t start = at;
    uint64_t len;
    if (!GetVarint(data.data(), data.size(), &at, &len) || len > data.size() - at) {
      return bad(start, "truncated function libraries");
    }
    if (!functions.ParseFromArray(data.data() + at, static_cast<int>(len))) {
      return bad(start, "function libraries that do not parse");
    }
    has_functions = true;
    at += len;
  }
  if (data.size() - at != 16) {
    return bad(at, data.size() - at < 16 ? "truncated trailer" : "bytes after the trailer");
  }
  if (GetLe(data.data() + at, 8) != records) return bad(at, "record count does not match");
  uint64_t want = GetLe(data.data() + at + 8, 8);
  if (Crc64(0, data.data(), at + 8) != want) {
    return bad(at + 8, "checksum mismatch (the file is corrupt)");
  }
  // Second pass: merge, as a repair from a peer would.
  server.clock().Observe(crdt::Stamp{info->clock, 0});
  int64_t now = NowMs();
  at = kHeaderBytes;
  for (uint64_t k = 0; k < records; k++) {
    uint64_t len;
    GetVarint(data.data(), data.size(), &at, &len);
    d.ParseFromArray(data.data() + at, static_cast<int>(len));
    at += len;
    MergeLoadedDelta(server, d, now);
  }
  if (has_functions) MergeFunctions(server, functions, path);
  info->records = records;
  info->bytes = data.size();
  for (int i = 0; i < server.shard_count(); i++) {
    Shard& shard = server.worker(i).shard();
    for (int db = 0; db < shard.databases(); db++) info->keys += shard.db(db).size();
  }
  return absl::OkStatus();
}

}  // namespace lattice::node
