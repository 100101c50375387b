#include "node/persist/snapshot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

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
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 12 + 4 + 4 + 8 + 8 + 4;
constexpr size_t kFlushBytes = 1 << 20;

// Buffers the file's bytes, checksumming them as they go out.
class Writer {
 public:
  explicit Writer(int fd) : fd_(fd) {}
  std::string& buf() { return buf_; }
  bool MaybeFlush() { return buf_.size() < kFlushBytes || Flush(); }
  bool Flush() {
    crc_ = Crc64(crc_, buf_.data(), buf_.size());
    if (!persist::WriteAll(fd_, buf_.data(), buf_.size())) return false;
    bytes_ += buf_.size();
    buf_.clear();
    return true;
  }
  uint64_t crc() const { return crc_; }
  uint64_t bytes() const { return bytes_ + buf_.size(); }

 private:
  int fd_;
  std::string buf_;
  uint64_t crc_ = 0;
  uint64_t bytes_ = 0;
};

bool WriteDeltas(Writer& w, std::vector<peer::Delta>* deltas, uint64_t* records) {
  std::string one;
  for (const peer::Delta& d : *deltas) {
    one.clear();
    d.SerializeToString(&one);
    PutVarint(&w.buf(), one.size());
    w.buf() += one;
    (*records)++;
    if (!w.MaybeFlush()) return false;
  }
  deltas->clear();
  return true;
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

absl::Status SaveSnapshot(Server& server, const std::string& path, SnapshotInfo* info) {
  std::string tmp = StrCat(path, ".tmp-", getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(persist::ErrnoText("Failed opening the snapshot file", tmp));
  Writer w(fd);
  *info = SnapshotInfo{};
  // A standalone node's id is not kept across restarts: 0 says so.
  info->node = server.config().ResolvedPeerPort() == 0 ? 0 : server.clock().node();
  info->clock = server.clock().Now();
  info->written_ms = NowMs();
  int databases = server.shard_count() ? server.worker(0).shard().databases() : 0;
  std::string& b = w.buf();
  b.append(kMagic);
  PutLe(&b, kVersion, 4);
  PutLe(&b, info->node, 4);
  PutLe(&b, info->clock, 8);
  PutLe(&b, static_cast<uint64_t>(info->written_ms), 8);
  PutLe(&b, static_cast<uint64_t>(databases), 4);
  bool ok = true;
  int64_t now = NowMs();
  std::vector<peer::Delta> deltas;
  for (int i = 0; ok && i < server.shard_count(); i++) {
    Shard& shard = server.worker(i).shard();
    for (int db = 0; ok && db < shard.databases(); db++) {
      Db& d = shard.db(db);
      d.ForEachTomb([&](std::string_view key, const crdt::Tombstone& t) {
        peer::Delta& del = deltas.emplace_back();
        del.set_db(static_cast<uint32_t>(db));
        del.set_key(key.data(), key.size());
        ToProto(t.stamp, del.mutable_stamp());
        TombToProto(t, del.mutable_remove());
      });
      if (const crdt::Tombstone* f = d.flush_tomb()) {
        peer::Delta& del = deltas.emplace_back();
        del.set_db(static_cast<uint32_t>(db));
        ToProto(f->stamp, del.mutable_stamp());
        TombToProto(*f, del.mutable_flush());
      }
      ok = WriteDeltas(w, &deltas, &info->records);
      uint64_t cursor = 0;
      do {
        cursor = d.Scan(cursor, [&](const Entry& e) {
          if (e.has_expire() && e.expire_at() <= now) return;
          EntryToDeltas(d, db, e, &deltas);
          info->keys++;
        });
        ok = ok && WriteDeltas(w, &deltas, &info->records);
      } while (ok && cursor != 0);
    }
  }
  if (ok) {
    PutVarint(&b, 0);
    PutLe(&b, info->records, 8);
    ok = w.Flush();
  }
  if (ok) {
    std::string crc;
    PutLe(&crc, w.crc(), 8);
    b = crc;
    ok = w.Flush();
  }
  info->bytes = w.bytes();
  if (!ok || ::fsync(fd) != 0) {
    std::string err = persist::ErrnoText("Failed writing the snapshot file", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return absl::InternalError(err);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = persist::ErrnoText("Failed renaming the snapshot file to", path);
    ::unlink(tmp.c_str());
    return absl::InternalError(err);
  }
  // The rename is durable once the directory is.
  persist::FsyncParentDir(path);
  return absl::OkStatus();
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
  if (version != kVersion) {
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
  info->records = records;
  info->bytes = data.size();
  for (int i = 0; i < server.shard_count(); i++) {
    Shard& shard = server.worker(i).shard();
    for (int db = 0; db < shard.databases(); db++) info->keys += shard.db(db).size();
  }
  return absl::OkStatus();
}

}  // namespace lattice::node
