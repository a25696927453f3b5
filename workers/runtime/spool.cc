#include "workers/runtime/spool.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <google/protobuf/arena.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace ionloop::worker {
namespace {

constexpr char kMagic[] = "ILSPOOL1";  // 8 bytes, no terminator written
constexpr size_t kMagicBytes = 8;
constexpr size_t kFrameHeaderBytes = 8;
// Largest body: a 4 MiB checkpoint beside 1 MiB of measurements, with room to spare.
constexpr uint32_t kMaxBodyBytes = 64u << 20;

enum RecordType : uint8_t {
  kAssign = 1,
  kUpdate = 2,
  kResult = 3,
  kAck = 4,
  kDrop = 5,
  kSnapshot = 6,
};

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

uint32_t Crc32(const char* data, size_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths; bodies are ≤ 64 MiB, but stay general.
  while (size > 0) {
    const uInt chunk = static_cast<uInt>(std::min<size_t>(size, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data), chunk);
    data += chunk;
    size -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

std::string Frame(uint8_t type, const std::string& payload) {
  std::string body;
  body.reserve(payload.size() + 1);
  body.push_back(static_cast<char>(type));
  body.append(payload);
  std::string frame;
  frame.reserve(kFrameHeaderBytes + body.size());
  PutU32(&frame, static_cast<uint32_t>(body.size()));
  PutU32(&frame, Crc32(body.data(), body.size()));
  frame.append(body);
  return frame;
}

std::string ErrnoText() { return std::strerror(errno); }

absl::Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::DataLossError(absl::StrCat("spool ", path, ": write failed: ", ErrnoText()));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status SyncFd(int fd, const std::string& path) {
  while (::fdatasync(fd) != 0) {
    if (errno == EINTR) continue;
    return absl::DataLossError(absl::StrCat("spool ", path, ": fdatasync failed: ", ErrnoText()));
  }
  return absl::OkStatus();
}

absl::Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return absl::DataLossError(absl::StrCat("spool directory ", dir, ": open failed: ", ErrnoText()));
  }
  absl::Status s = absl::OkStatus();
  if (::fsync(fd) != 0) {
    s = absl::DataLossError(absl::StrCat("spool directory ", dir, ": fsync failed: ", ErrnoText()));
  }
  ::close(fd);
  return s;
}

// Writes `path` atomically: temp file, fsync, rename, fsync the directory.
absl::Status WriteFileAtomically(const std::string& dir, const std::string& path,
                                 const std::string& contents) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot write ", tmp, ": ", ErrnoText()));
  }
  absl::Status s = WriteAll(fd, contents, tmp);
  if (s.ok()) s = SyncFd(fd, tmp);
  ::close(fd);
  RETURN_IF_ERROR(s);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot rename ", tmp, " to ", path, ": ", ErrnoText()));
  }
  return SyncDir(dir);
}

JobKey KeyOf(const std::string& job_id, uint32_t attempt) { return JobKey{job_id, attempt}; }

uint64_t MaxMeasurementSeq(const v1::JobUpdate& update) {
  uint64_t max_seq = 0;
  for (const v1::Measurement& m : update.measurements()) max_seq = std::max(max_seq, m.seq());
  return max_seq;
}

// SNAPSHOT payload: u32 len, Assign | u64 acked | u64 last_seq | u64 last_measurement_seq
// | u8 flags (1: finished) | u32 len, last checkpoint.
std::string EncodeSnapshot(const SpoolJobState& s) {
  std::string assign = s.assign.SerializeAsString();
  std::string out;
  PutU32(&out, static_cast<uint32_t>(assign.size()));
  out.append(assign);
  PutU64(&out, s.acked_seq);
  PutU64(&out, s.last_seq);
  PutU64(&out, s.last_measurement_seq);
  out.push_back(static_cast<char>(s.finished ? 1 : 0));
  PutU32(&out, static_cast<uint32_t>(s.last_checkpoint.size()));
  out.append(s.last_checkpoint);
  return out;
}

bool DecodeSnapshot(const std::string& in, SpoolJobState* s) {
  size_t off = 0;
  auto have = [&](size_t n) { return in.size() - off >= n; };
  if (!have(4)) return false;
  const uint32_t assign_len = GetU32(in.data() + off);
  off += 4;
  if (!have(assign_len)) return false;
  if (!s->assign.ParseFromArray(in.data() + off, static_cast<int>(assign_len))) return false;
  off += assign_len;
  if (!have(8 * 3 + 1 + 4)) return false;
  s->acked_seq = GetU64(in.data() + off);
  s->last_seq = GetU64(in.data() + off + 8);
  s->last_measurement_seq = GetU64(in.data() + off + 16);
  s->finished = (in[off + 24] & 1) != 0;
  off += 25;
  const uint32_t checkpoint_len = GetU32(in.data() + off);
  off += 4;
  if (in.size() - off != checkpoint_len) return false;
  s->last_checkpoint = in.substr(off);
  return true;
}

std::string AckPayload(const JobKey& key, uint64_t seq) {
  v1::Ack ack;
  ack.set_job_id(key.job_id);
  ack.set_attempt(key.attempt);
  ack.set_seq(seq);
  return ack.SerializeAsString();
}

// What replay needs of an UPDATE or RESULT without parsing its measurements: the
// attempt, the seq, the last measurement (the one with the highest seq, as the runtime
// numbers them in order) and the checkpoint. JobUpdate and JobResult share fields 1-3.
struct ReportHeader {
  std::string job_id;
  uint32_t attempt = 0;
  uint64_t seq = 0;
  const char* last_measurement = nullptr;
  int last_measurement_bytes = 0;
  const char* checkpoint = nullptr;
  int checkpoint_bytes = 0;
};

bool ScanReport(const char* data, size_t size, bool is_update, ReportHeader* h) {
  using google::protobuf::internal::WireFormatLite;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(data),
                                            static_cast<int>(size));
  while (const uint32_t tag = in.ReadTag()) {
    const int field = WireFormatLite::GetTagFieldNumber(tag);
    const auto wire = WireFormatLite::GetTagWireType(tag);
    const bool bytes = wire == WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
    const bool varint = wire == WireFormatLite::WIRETYPE_VARINT;
    if (field == 1 && bytes) {
      if (!WireFormatLite::ReadString(&in, &h->job_id)) return false;
    } else if (field == 2 && varint) {
      if (!in.ReadVarint32(&h->attempt)) return false;
    } else if (field == 3 && varint) {
      if (!in.ReadVarint64(&h->seq)) return false;
    } else if (is_update && (field == 4 || field == 6) && bytes) {
      uint32_t length = 0;
      if (!in.ReadVarint32(&length)) return false;
      const char* at = data + in.CurrentPosition();
      if (!in.Skip(static_cast<int>(length))) return false;
      if (field == 4) {
        h->last_measurement = at;
        h->last_measurement_bytes = static_cast<int>(length);
      } else {
        h->checkpoint = at;
        h->checkpoint_bytes = static_cast<int>(length);
      }
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return false;
    }
  }
  return in.ConsumedEntireMessage();
}

}  // namespace

// Reads a file through one reusable window (a spool can be tens of MiB; one buffer of
// its size costs more in page faults than the replay itself).
class WindowReader {
 public:
  WindowReader(int fd, uint64_t size) : fd_(fd), size_(size) {}
  uint64_t size() const { return size_; }
  // Bytes [offset, offset + n) of the file, valid until the next call; nullptr when
  // they are not all there (past the end, or a read error).
  const char* Get(uint64_t offset, size_t n) {
    if (offset > size_ || n > size_ - offset) return nullptr;
    if (offset < start_ || offset + n > start_ + filled_) {
      const size_t want = static_cast<size_t>(
          std::min<uint64_t>(std::max<size_t>(n, kWindowBytes), size_ - offset));
      if (window_.size() < want) window_.resize(want);
      size_t done = 0;
      while (done < want) {
        const ssize_t got = ::pread(fd_, window_.data() + done, want - done,
                                    static_cast<off_t>(offset + done));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        done += static_cast<size_t>(got);
      }
      start_ = offset;
      filled_ = done;
      if (done < n) return nullptr;
    }
    return window_.data() + (offset - start_);
  }
  // Whether every byte from `offset` to the end is zero (a zero-filled torn tail).
  bool ZeroFrom(uint64_t offset) {
    while (offset < size_) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(kWindowBytes, size_ - offset));
      const char* p = Get(offset, n);
      if (p == nullptr || !std::all_of(p, p + n, [](char c) { return c == 0; })) return false;
      offset += n;
    }
    return true;
  }

 private:
  static constexpr size_t kWindowBytes = 4u << 20;
  const int fd_;
  const uint64_t size_;
  std::string window_;
  uint64_t start_ = 0;
  size_t filled_ = 0;
};

std::string JobKey::ToString() const { return absl::StrCat(job_id, "/", attempt); }

Spool::Spool(std::string dir, SpoolOptions options)
    : dir_(std::move(dir)), path_(dir_ + "/spool.log"), options_(options) {}

absl::StatusOr<std::unique_ptr<Spool>> Spool::Open(const std::string& dir,
                                                   const std::string& worker_id,
                                                   SpoolOptions options) {
  if (dir.empty()) return absl::InvalidArgumentError("spool directory: must not be empty");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create spool directory ", dir, ": ", ec.message()));
  }
  std::unique_ptr<Spool> spool(new Spool(dir, options));

  const std::string lock_path = dir + "/LOCK";
  spool->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (spool->lock_fd_ < 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot open ", lock_path, ": ", ErrnoText()));
  }
  if (::flock(spool->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "spool directory ", dir, " is in use by another ionloop-worker (", lock_path,
        " is locked)"));
  }

  const std::string id_path = dir + "/worker_id";
  if (std::filesystem::exists(id_path, ec)) {
    std::ifstream in(id_path);
    std::stringstream text;
    text << in.rdbuf();
    const std::string owner(absl::StripAsciiWhitespace(text.str()));
    if (owner != worker_id) {
      return absl::FailedPreconditionError(absl::StrCat(
          "spool directory ", dir, " belongs to worker '", owner, "', not '", worker_id,
          "': pass that --worker-id, or another --spool-dir"));
    }
  } else {
    RETURN_IF_ERROR(WriteFileAtomically(dir, id_path, worker_id + "\n"));
  }

  ASSIGN_OR_RETURN(const uint64_t good_bytes, spool->Load());
  if (good_bytes < kMagicBytes) {
    // A new spool (or one whose creation was cut short): start the file.
    std::string snapshot;
    {
      absl::MutexLock lock(&spool->mu_);
      snapshot = spool->BuildSnapshot();
    }
    RETURN_IF_ERROR(spool->WriteCompacted(snapshot));
    absl::MutexLock lock(&spool->mu_);
    spool->stats_.file_bytes = snapshot.size();
  } else {
    // Keep the file (a start must not cost time in proportion to the backlog); cut a
    // torn tail off so that appends follow the last good record. Compaction, if the
    // file deserves one, runs on the syncer thread.
    spool->fd_ = ::open(spool->path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (spool->fd_ < 0) {
      return absl::DataLossError(
          absl::StrCat("spool ", spool->path_, ": open failed: ", ErrnoText()));
    }
    absl::MutexLock lock(&spool->mu_);
    if (spool->stats_.torn_bytes_dropped > 0) {
      if (::ftruncate(spool->fd_, static_cast<off_t>(good_bytes)) != 0) {
        return absl::DataLossError(absl::StrCat("spool ", spool->path_,
                                                ": cannot cut the torn tail: ", ErrnoText()));
      }
      RETURN_IF_ERROR(SyncFd(spool->fd_, spool->path_));
    }
    spool->stats_.file_bytes = good_bytes;
    spool->MaybeRequestCompaction();
  }
  spool->syncer_ = std::make_unique<std::thread>([s = spool.get()] { s->SyncerLoop(); });
  return spool;
}

Spool::~Spool() {
  if (syncer_ != nullptr) {
    {
      absl::MutexLock lock(&mu_);
      closing_ = true;
      work_cv_.Signal();
    }
    syncer_->join();
  }
  if (fd_ >= 0) ::close(fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

absl::StatusOr<uint64_t> Spool::Load() {
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return 0;  // a new spool
    return absl::DataLossError(absl::StrCat("spool ", path_, ": open failed: ", ErrnoText()));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return absl::DataLossError(absl::StrCat("spool ", path_, ": stat failed: ", ErrnoText()));
  }
  WindowReader file(fd, static_cast<uint64_t>(st.st_size));
  absl::StatusOr<uint64_t> good = Replay(file);
  ::close(fd);
  return good;
}

absl::StatusOr<uint64_t> Spool::Replay(WindowReader& file) {
  absl::MutexLock lock(&mu_);
  const uint64_t size = file.size();
  if (size < kMagicBytes) {
    const char* head = file.Get(0, static_cast<size_t>(size));
    if (head != nullptr && std::memcmp(head, kMagic, static_cast<size_t>(size)) == 0) {
      stats_.torn_bytes_dropped = size;
      return 0;
    }
    return absl::DataLossError(absl::StrCat(path_, " is not an ionloop worker spool (bad header)"));
  }
  const char* head = file.Get(0, kMagicBytes);
  if (head == nullptr || std::memcmp(head, kMagic, kMagicBytes) != 0) {
    return absl::DataLossError(absl::StrCat(path_, " is not an ionloop worker spool (bad header)"));
  }
  uint64_t off = kMagicBytes;
  auto damaged = [&](uint64_t at, const std::string& what) {
    return absl::DataLossError(absl::StrCat(
        "spool ", path_, ": record at byte ", at, " ", what,
        " (the file is damaged, not just cut short). Move the directory aside to start "
        "without it; its unacknowledged updates are then lost."));
  };
  while (off < size) {
    const uint64_t remaining = size - off;
    if (remaining < kFrameHeaderBytes) break;  // torn header
    const char* header = file.Get(off, kFrameHeaderBytes);
    if (header == nullptr) break;
    const uint32_t body_len = GetU32(header);
    const uint32_t crc = GetU32(header + 4);
    if (body_len == 0 || body_len > kMaxBodyBytes) {
      if (file.ZeroFrom(off)) break;  // a zero-filled torn tail
      if (kFrameHeaderBytes + static_cast<uint64_t>(body_len) >= remaining) break;
      return damaged(off, absl::StrCat("has an impossible length ", body_len));
    }
    if (kFrameHeaderBytes + static_cast<uint64_t>(body_len) > remaining) break;  // torn body
    const uint64_t frame_bytes = kFrameHeaderBytes + body_len;
    const char* body = file.Get(off + kFrameHeaderBytes, body_len);
    if (body == nullptr) break;
    if (Crc32(body, body_len) != crc) {
      if (frame_bytes == remaining || file.ZeroFrom(off)) break;  // the torn last record
      return damaged(off, "fails its CRC check");
    }
    absl::Status applied = ApplyRecord(static_cast<uint8_t>(body[0]), body + 1, body_len - 1,
                                       off + kFrameHeaderBytes + 1, frame_bytes);
    if (!applied.ok()) return damaged(off, std::string(applied.message()));
    off += frame_bytes;
  }
  stats_.torn_bytes_dropped = size - off;
  // Only the records still unacknowledged are parsed in full (to be resent).
  for (auto& [lsn, entry] : by_lsn_) {
    auto raw = replay_payloads_.find(lsn);
    if (raw == replay_payloads_.end()) continue;
    const uint64_t at = raw->second.first;
    const size_t bytes = raw->second.second;
    const char* payload = file.Get(at, bytes);
    // One arena per record: a MiB update holds thousands of small messages, and
    // allocating them one by one dominated the replay.
    google::protobuf::ArenaOptions arena_options;
    arena_options.start_block_size = std::max<size_t>(bytes + bytes / 2, 4096);
    arena_options.max_block_size = std::max<size_t>(arena_options.start_block_size, 8u << 20);
    auto arena = std::make_shared<google::protobuf::Arena>(arena_options);
    auto* message = google::protobuf::Arena::CreateMessage<v1::WorkerMessage>(arena.get());
    const int n = static_cast<int>(bytes);
    const bool parsed =
        payload != nullptr && (entry.is_result ? message->mutable_result()->ParseFromArray(payload, n)
                                               : message->mutable_update()->ParseFromArray(payload, n));
    if (!parsed) {
      replay_payloads_.clear();
      return damaged(at, "holds an unreadable report");
    }
    // The message lives as long as its arena.
    entry.message = std::shared_ptr<const v1::WorkerMessage>(arena, message);
  }
  replay_payloads_.clear();
  // An attempt whose result is acknowledged is done.
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    if (it->second.state.finished && it->second.unacked.empty()) {
      it = jobs_.erase(it);
    } else {
      ++it;
    }
  }
  durable_lsn_ = last_lsn_;
  return off;
}

absl::Status Spool::ApplyRecord(uint8_t type, const char* payload, size_t size,
                                uint64_t payload_offset, uint64_t frame_bytes) {
  switch (type) {
    case kAssign: {
      v1::Assign assign;
      if (!assign.ParseFromArray(payload, static_cast<int>(size))) {
        return absl::DataLossError("holds an unreadable Assign");
      }
      JobEntry& job = jobs_[KeyOf(assign.job_id(), assign.attempt())];
      job.state.last_checkpoint = assign.checkpoint();
      job.state.assign = std::move(assign);
      return absl::OkStatus();
    }
    case kSnapshot: {
      SpoolJobState state;
      if (!DecodeSnapshot(std::string(payload, size), &state)) {
        return absl::DataLossError("holds an unreadable snapshot");
      }
      JobEntry& job = jobs_[KeyOf(state.assign.job_id(), state.assign.attempt())];
      ReleaseUpTo(job, UINT64_MAX);
      job.state = std::move(state);
      job.state.unacked_records = 0;
      job.state.unacked_updates = 0;
      job.state.unacked_bytes = 0;
      return absl::OkStatus();
    }
    case kUpdate:
    case kResult: {
      ReportHeader h;
      if (!ScanReport(payload, size, type == kUpdate, &h)) {
        return absl::DataLossError(type == kUpdate ? "holds an unreadable JobUpdate"
                                                   : "holds an unreadable JobResult");
      }
      const JobKey key = KeyOf(h.job_id, h.attempt);
      auto [it, inserted] = jobs_.try_emplace(key);
      JobEntry& job = it->second;
      if (inserted) {  // only after a lost ASSIGN; keep what we can
        job.state.assign.set_job_id(key.job_id);
        job.state.assign.set_attempt(key.attempt);
      }
      job.state.last_seq = std::max(job.state.last_seq, h.seq);
      if (type == kUpdate) {
        if (h.last_measurement != nullptr) {
          v1::Measurement last;
          if (!last.ParseFromArray(h.last_measurement, h.last_measurement_bytes)) {
            return absl::DataLossError("holds an unreadable Measurement");
          }
          job.state.last_measurement_seq = std::max(job.state.last_measurement_seq, last.seq());
        }
        if (h.checkpoint_bytes > 0) {
          job.state.last_checkpoint.assign(h.checkpoint, static_cast<size_t>(h.checkpoint_bytes));
        }
      } else {
        job.state.finished = true;
      }
      if (h.seq > job.state.acked_seq && job.unacked.count(h.seq) == 0) {
        const uint64_t lsn = ++last_lsn_;
        job.unacked[h.seq] = lsn;
        if (type == kUpdate) ++job.state.unacked_updates;
        ++job.state.unacked_records;
        job.state.unacked_bytes += frame_bytes;
        unacked_bytes_ += frame_bytes;
        // Parsed in full at the end of the replay if it is still unacknowledged then.
        by_lsn_[lsn] = Entry{key, h.seq, type == kResult, frame_bytes, nullptr};
        replay_payloads_[lsn] = {payload_offset, size};
      }
      return absl::OkStatus();
    }
    case kAck:
    case kDrop: {
      v1::Ack ack;
      if (!ack.ParseFromArray(payload, static_cast<int>(size))) {
        return absl::DataLossError("holds an unreadable Ack");
      }
      auto it = jobs_.find(KeyOf(ack.job_id(), ack.attempt()));
      if (it == jobs_.end()) return absl::OkStatus();
      if (type == kDrop) {
        ReleaseUpTo(it->second, UINT64_MAX);
        jobs_.erase(it);
        return absl::OkStatus();
      }
      it->second.state.acked_seq = std::max(it->second.state.acked_seq, ack.seq());
      ReleaseUpTo(it->second, ack.seq());
      if (it->second.state.finished && it->second.unacked.empty()) jobs_.erase(it);
      return absl::OkStatus();
    }
    default:
      return absl::DataLossError(absl::StrCat("has an unknown type ", static_cast<int>(type)));
  }
}

void Spool::ReleaseUpTo(JobEntry& job, uint64_t seq) {
  for (auto it = job.unacked.begin(); it != job.unacked.end() && it->first <= seq;) {
    auto entry = by_lsn_.find(it->second);
    if (entry != by_lsn_.end()) {
      if (!entry->second.is_result) --job.state.unacked_updates;
      unacked_bytes_ -= entry->second.frame_bytes;
      job.state.unacked_bytes -= entry->second.frame_bytes;
      by_lsn_.erase(entry);
    }
    --job.state.unacked_records;
    it = job.unacked.erase(it);
  }
}

void Spool::QueueFrame(uint8_t type, const std::string& payload, bool needs_sync) {
  std::string frame = Frame(type, payload);
  stats_.file_bytes += frame.size();
  queued_bytes_ += frame.size();
  pending_.append(frame);
  pending_needs_sync_ = pending_needs_sync_ || needs_sync;
}

absl::Status Spool::StartJob(const v1::Assign& assign) {
  const JobKey key = KeyOf(assign.job_id(), assign.attempt());
  std::string payload = assign.SerializeAsString();
  absl::MutexLock lock(&mu_);
  if (!broken_.ok()) return broken_;
  if (jobs_.count(key) > 0) {
    return absl::AlreadyExistsError(absl::StrCat("spool already holds ", key.ToString()));
  }
  JobEntry& job = jobs_[key];
  job.state.assign = assign;
  job.state.last_checkpoint = assign.checkpoint();
  // Synced with the attempt's first update (no update can be durable before it).
  QueueFrame(kAssign, payload, /*needs_sync=*/false);
  return absl::OkStatus();
}

absl::StatusOr<SpooledRecord> Spool::Append(v1::WorkerMessage message) {
  const bool is_result = message.has_result();
  if (!is_result && !message.has_update()) {
    return absl::InvalidArgumentError("spool: only JobUpdate and JobResult are spooled");
  }
  const JobKey key = is_result ? KeyOf(message.result().job_id(), message.result().attempt())
                               : KeyOf(message.update().job_id(), message.update().attempt());
  if (!is_result && message.update().checkpoint().size() > kMaxCheckpointBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint: at most ", kMaxCheckpointBytes, " bytes, got ",
        message.update().checkpoint().size()));
  }
  // Number and serialize outside the lock (an update can be a MiB); commit under it,
  // retrying if another thread appended to the same attempt meanwhile.
  while (true) {
    uint64_t seq = 0;
    {
      absl::MutexLock lock(&mu_);
      if (!broken_.ok()) return broken_;
      auto it = jobs_.find(key);
      if (it == jobs_.end()) {
        return absl::FailedPreconditionError(
            absl::StrCat("spool does not hold ", key.ToString(), " (dropped or never started)"));
      }
      if (it->second.state.finished) {
        return absl::FailedPreconditionError(
            absl::StrCat(key.ToString(), " already has its result"));
      }
      seq = it->second.state.last_seq + 1;
    }
    std::string payload;
    if (is_result) {
      message.mutable_result()->set_seq(seq);
      payload = message.result().SerializeAsString();
    } else {
      message.mutable_update()->set_seq(seq);
      payload = message.update().SerializeAsString();
    }
    std::string frame = Frame(is_result ? kResult : kUpdate, payload);

    absl::MutexLock lock(&mu_);
    if (!broken_.ok()) return broken_;
    auto it = jobs_.find(key);
    if (it == jobs_.end() || it->second.state.finished || it->second.state.last_seq + 1 != seq) {
      continue;  // re-validate and renumber
    }
    JobEntry& job = it->second;
    const uint64_t lsn = ++last_lsn_;
    stats_.file_bytes += frame.size();
    queued_bytes_ += frame.size();
    ++stats_.appends;
    pending_.append(frame);
    pending_needs_sync_ = true;
    job.state.last_seq = seq;
    ++job.state.unacked_records;
    if (is_result) {
      job.state.finished = true;
    } else {
      ++job.state.unacked_updates;
      job.state.last_measurement_seq =
          std::max(job.state.last_measurement_seq, MaxMeasurementSeq(message.update()));
      if (!message.update().checkpoint().empty()) {
        job.state.last_checkpoint = message.update().checkpoint();
      }
    }
    job.unacked[seq] = lsn;
    auto shared = std::make_shared<const v1::WorkerMessage>(std::move(message));
    unacked_bytes_ += frame.size();
    job.state.unacked_bytes += frame.size();
    by_lsn_[lsn] = Entry{key, seq, is_result, frame.size(), shared};
    work_cv_.Signal();
    return SpooledRecord{lsn, std::move(shared)};
  }
}

absl::Status Spool::WaitDurable(uint64_t lsn) {
  absl::MutexLock lock(&mu_);
  while (durable_lsn_ < lsn && broken_.ok()) durable_cv_.Wait(&mu_);
  return durable_lsn_ >= lsn ? absl::OkStatus() : broken_;
}

absl::Status Spool::Sync() {
  absl::MutexLock lock(&mu_);
  const uint64_t target = queued_bytes_;
  if (synced_bytes_ < target) {
    sync_requested_ = true;
    work_cv_.Signal();
  }
  while (broken_.ok() && (synced_bytes_ < target || compact_requested_ || compacting_)) {
    durable_cv_.Wait(&mu_);
  }
  return broken_;
}

bool Spool::Ack(const JobKey& key, uint64_t seq) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(key);
  if (it == jobs_.end()) return false;
  JobEntry& job = it->second;
  seq = std::min(seq, job.state.last_seq);  // never release what was not produced
  if (seq <= job.state.acked_seq) return true;
  job.state.acked_seq = seq;
  ReleaseUpTo(job, seq);
  if (broken_.ok()) QueueFrame(kAck, AckPayload(key, seq), /*needs_sync=*/false);
  if (job.state.finished && job.unacked.empty()) jobs_.erase(it);
  MaybeRequestCompaction();
  return true;
}

bool Spool::Drop(const JobKey& key) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(key);
  if (it == jobs_.end()) return false;
  ReleaseUpTo(it->second, UINT64_MAX);
  jobs_.erase(it);
  if (broken_.ok()) QueueFrame(kDrop, AckPayload(key, 0), /*needs_sync=*/false);
  MaybeRequestCompaction();
  return true;
}

void Spool::MaybeRequestCompaction() {
  if (compact_requested_ || !broken_.ok() || stats_.file_bytes < options_.compact_min_bytes) {
    return;
  }
  // What a snapshot would hold: unacked frames, and one SNAPSHOT per attempt.
  uint64_t live = kMagicBytes + unacked_bytes_;
  for (const auto& [key, job] : jobs_) {
    live += kFrameHeaderBytes + 64 + job.state.assign.ByteSizeLong() +
            job.state.last_checkpoint.size();
  }
  if (stats_.file_bytes >= live * std::max<uint64_t>(options_.compact_live_ratio, 2)) {
    compact_requested_ = true;
    work_cv_.Signal();
  }
}

std::string Spool::BuildSnapshot() const {
  std::string out(kMagic, kMagicBytes);
  for (const auto& [key, job] : jobs_) {
    out.append(Frame(kSnapshot, EncodeSnapshot(job.state)));
  }
  for (const auto& [lsn, entry] : by_lsn_) {
    if (entry.is_result) {
      out.append(Frame(kResult, entry.message->result().SerializeAsString()));
    } else {
      out.append(Frame(kUpdate, entry.message->update().SerializeAsString()));
    }
  }
  return out;
}

absl::Status Spool::WriteCompacted(const std::string& bytes) {
  const std::string tmp = path_ + ".compact";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::DataLossError(absl::StrCat("spool ", tmp, ": open failed: ", ErrnoText()));
  }
  absl::Status s = WriteAll(fd, bytes, tmp);
  if (s.ok()) s = SyncFd(fd, tmp);
  if (s.ok() && ::rename(tmp.c_str(), path_.c_str()) != 0) {
    s = absl::DataLossError(absl::StrCat("spool ", tmp, ": rename failed: ", ErrnoText()));
  }
  if (s.ok()) s = SyncDir(dir_);
  if (!s.ok()) {
    ::close(fd);
    return s;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;  // the renamed file, open for appending
  return absl::OkStatus();
}

void Spool::SyncerLoop() {
  absl::MutexLock lock(&mu_);
  while (true) {
    while (pending_.empty() && !compact_requested_ && !sync_requested_ && !closing_) {
      work_cv_.Wait(&mu_);
    }
    if (!broken_.ok()) {
      pending_.clear();
      compact_requested_ = false;
      sync_requested_ = false;
      durable_cv_.SignalAll();
      if (closing_) break;
      continue;
    }
    const uint64_t covered = last_lsn_;
    const uint64_t queued = queued_bytes_;
    absl::Status written;
    bool synced = false;
    if (compact_requested_) {
      std::string snapshot = BuildSnapshot();
      pending_.clear();
      pending_needs_sync_ = false;
      compact_requested_ = false;
      sync_requested_ = false;
      compacting_ = true;
      mu_.Unlock();
      written = WriteCompacted(snapshot);
      mu_.Lock();
      compacting_ = false;
      if (written.ok()) {
        ++stats_.compactions;
        // Whatever was appended meanwhile sits in pending_, on top of the snapshot.
        stats_.file_bytes = snapshot.size() + pending_.size();
        synced = true;
      }
    } else if (!pending_.empty() || sync_requested_ || (closing_ && synced_bytes_ < queued)) {
      std::string batch;
      batch.swap(pending_);
      const bool needs_sync = pending_needs_sync_ || sync_requested_ || closing_;
      pending_needs_sync_ = false;
      sync_requested_ = false;
      mu_.Unlock();
      if (!batch.empty()) written = WriteAll(fd_, batch, path_);
      if (written.ok() && needs_sync) written = SyncFd(fd_, path_);
      mu_.Lock();
      if (needs_sync) ++stats_.syncs;
      synced = needs_sync;
    } else {
      break;  // closing, everything written and synced
    }
    if (!written.ok()) {
      broken_ = written;
    } else if (synced) {
      durable_lsn_ = std::max(durable_lsn_, covered);
      synced_bytes_ = std::max(synced_bytes_, queued);
    }
    durable_cv_.SignalAll();
    std::function<void()> listener = listener_;
    if (listener && synced) {
      mu_.Unlock();
      listener();
      mu_.Lock();
    }
  }
  durable_cv_.SignalAll();
}

void Spool::SetDurableListener(std::function<void()> listener) {
  absl::MutexLock lock(&mu_);
  listener_ = std::move(listener);
}

std::optional<SpooledRecord> Spool::NextToSend(uint64_t after_lsn) const {
  absl::MutexLock lock(&mu_);
  auto it = by_lsn_.upper_bound(after_lsn);
  if (it == by_lsn_.end() || it->first > durable_lsn_) return std::nullopt;
  return SpooledRecord{it->first, it->second.message};
}

std::optional<SpoolJobState> Spool::Job(const JobKey& key) const {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(key);
  if (it == jobs_.end()) return std::nullopt;
  return it->second.state;
}

std::vector<std::pair<JobKey, SpoolJobState>> Spool::Jobs() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::pair<JobKey, SpoolJobState>> out;
  out.reserve(jobs_.size());
  for (const auto& [key, job] : jobs_) out.emplace_back(key, job.state);
  return out;
}

Spool::Backlog Spool::UnackedBacklog(const JobKey& key) const {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(key);
  if (it == jobs_.end()) return {};
  return Backlog{it->second.state.unacked_updates, it->second.state.unacked_bytes};
}

size_t Spool::unacked_records() const {
  absl::MutexLock lock(&mu_);
  return by_lsn_.size();
}

absl::Status Spool::health() const {
  absl::MutexLock lock(&mu_);
  return broken_;
}

Spool::Stats Spool::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace ionloop::worker
