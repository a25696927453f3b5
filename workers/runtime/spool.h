// The worker's durable outbox. Every JobUpdate and JobResult is appended here and
// fsynced before it may be sent; an Ack from the orchestrator releases it. After a
// reconnect everything unacknowledged is resent in log order; after a crash or kill -9
// the spool is reloaded and tells the runtime which attempts were running, how far they
// got (last seq, last measurement seq, last checkpoint) and what is still unacked.
//
// One file, <dir>/spool.log, append-only:
//   header  "ILSPOOL1"
//   record  u32 body_len | u32 crc32(body) | body = u8 type, payload     (little-endian)
// Types: 1 ASSIGN (v1.Assign: an attempt started here), 2 UPDATE (v1.JobUpdate),
// 3 RESULT (v1.JobResult), 4 ACK (v1.Ack: released ≤ seq), 5 DROP (v1.Ack: forget the
// attempt), 6 SNAPSHOT (an attempt's state, written by compaction). A torn last record
// (short, or a bad CRC at the very end) is the trace of a crash mid-append: it was never
// fsynced, so never sent, and is dropped. A bad CRC followed by more records is damage:
// Open fails with DATA_LOSS naming the file and offset, and the runtime refuses to start.
//
// Group commit: appends only queue bytes; one syncer thread writes whatever queued while
// the previous fdatasync ran and syncs it once, so N concurrent appends cost one fsync.
// ACK and DROP records ride along unsynced (losing them only causes harmless resends).
//
// Compaction rewrites the file (write a new one, fsync, rename, fsync the directory)
// with one SNAPSHOT per live attempt plus its unacked records, once the file is at
// least `compact_min_bytes` and `compact_live_ratio` times its live bytes: when
// everything is acked that is as soon as it reaches compact_min_bytes; under steady
// load each compaction rewrites at most 1/ratio of what was appended since the last.
// It runs on the syncer thread, after an Ack or Drop and after Open (which itself only
// replays the file and cuts a torn tail off).
//
// Thread-safe. <dir>/LOCK (flock) keeps a second worker off the directory, and
// <dir>/worker_id ties the spool to one worker id.
#ifndef IONLOOP_WORKERS_RUNTIME_SPOOL_H_
#define IONLOOP_WORKERS_RUNTIME_SPOOL_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "ionloop/v1/workers.pb.h"

namespace ionloop::worker {

class WindowReader;  // spool.cc

// One attempt of one job.
struct JobKey {
  std::string job_id;
  uint32_t attempt = 0;

  friend bool operator<(const JobKey& a, const JobKey& b) {
    return std::tie(a.job_id, a.attempt) < std::tie(b.job_id, b.attempt);
  }
  friend bool operator==(const JobKey& a, const JobKey& b) {
    return a.job_id == b.job_id && a.attempt == b.attempt;
  }
  std::string ToString() const;  // "job-7/2"
};

// The largest checkpoint workers.proto allows.
inline constexpr size_t kMaxCheckpointBytes = 4u << 20;

struct SpoolOptions {
  uint64_t compact_min_bytes = 1u << 20;  // never compact a smaller file
  uint64_t compact_live_ratio = 4;        // compact a file this many times its live bytes
};

// A spooled JobUpdate or JobResult, in log order (lsn: log sequence number, 1-based,
// across all jobs).
struct SpooledRecord {
  uint64_t lsn = 0;
  std::shared_ptr<const v1::WorkerMessage> message;
};

// What the spool knows of one attempt: it is unfinished (no result spooled) or has
// unacknowledged records.
struct SpoolJobState {
  v1::Assign assign;                 // as assigned (spec, lease, the earlier checkpoint)
  uint64_t acked_seq = 0;
  uint64_t last_seq = 0;             // of the last update/result spooled
  uint64_t last_measurement_seq = 0;
  std::string last_checkpoint;       // the last non-empty one, else Assign.checkpoint
  bool finished = false;             // its JobResult is spooled
  size_t unacked_records = 0;
  size_t unacked_updates = 0;
  uint64_t unacked_bytes = 0;        // of those records, as spooled
};

class Spool {
 public:
  // Creates `dir` when missing, locks it, and reloads spool.log. FAILED_PRECONDITION:
  // another process holds the directory, or it belongs to another worker id;
  // DATA_LOSS: a damaged record (not a torn tail) or a file that is not a spool.
  static absl::StatusOr<std::unique_ptr<Spool>> Open(const std::string& dir,
                                                     const std::string& worker_id,
                                                     SpoolOptions options = {});
  ~Spool();  // writes what is queued, stops the syncer, unlocks
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Records that an attempt started here (its spec is needed to resume it after a
  // restart). ALREADY_EXISTS when the spool already holds the attempt.
  absl::Status StartJob(const v1::Assign& assign);

  // Queues an update or a result of a started attempt and numbers it: seq = the
  // attempt's last seq + 1 (set in the returned message). Returns at once; the record
  // is sendable (NextToSend) once the syncer has fsynced it — WaitDurable waits for
  // that. FAILED_PRECONDITION: unknown attempt or one that already has its result;
  // INVALID_ARGUMENT: not an update/result, or a checkpoint over 4 MiB; DATA_LOSS
  // after a failed write.
  absl::StatusOr<SpooledRecord> Append(v1::WorkerMessage message);
  absl::Status WaitDurable(uint64_t lsn);
  // Everything queued so far is on disk (ACK/DROP records too), and a compaction
  // requested so far has finished.
  absl::Status Sync();

  // Everything of `key` up to `seq` is acknowledged. Returns false when the spool does
  // not hold the attempt. An attempt whose result is acked is forgotten.
  bool Ack(const JobKey& key, uint64_t seq);
  // Forgets an attempt and its unacked records. False when unknown.
  bool Drop(const JobKey& key);

  // The first durable, unacknowledged record with lsn > after_lsn, in log order.
  std::optional<SpooledRecord> NextToSend(uint64_t after_lsn) const;
  // Called (from the syncer thread, no lock held) whenever records became durable.
  void SetDurableListener(std::function<void()> listener);

  std::optional<SpoolJobState> Job(const JobKey& key) const;
  std::vector<std::pair<JobKey, SpoolJobState>> Jobs() const;
  // Updates (not the result) of `key` spooled and not acknowledged, and the bytes of
  // all its unacknowledged records: what backpressure looks at.
  struct Backlog {
    size_t updates = 0;
    uint64_t bytes = 0;
  };
  Backlog UnackedBacklog(const JobKey& key) const;
  size_t UnackedUpdates(const JobKey& key) const { return UnackedBacklog(key).updates; }
  size_t unacked_records() const;
  // OK, or the DATA_LOSS that stopped writing.
  absl::Status health() const;

  struct Stats {
    uint64_t appends = 0;        // updates and results
    uint64_t syncs = 0;          // fdatasync calls for appended batches
    uint64_t compactions = 0;
    uint64_t file_bytes = 0;     // spool.log as written so far
    uint64_t torn_bytes_dropped = 0;  // at Open
  };
  Stats stats() const;
  const std::string& path() const { return path_; }

 private:
  struct Entry {
    JobKey key;
    uint64_t seq = 0;
    bool is_result = false;
    uint64_t frame_bytes = 0;
    std::shared_ptr<const v1::WorkerMessage> message;
  };
  struct JobEntry {
    SpoolJobState state;
    std::map<uint64_t, uint64_t> unacked;  // seq → lsn
    uint64_t frame_bytes = 0;              // live bytes: the snapshot-size estimate
  };

  Spool(std::string dir, SpoolOptions options);
  // Replays spool.log; returns the length of its good prefix (0: no file yet).
  absl::StatusOr<uint64_t> Load() ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<uint64_t> Replay(WindowReader& file) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status ApplyRecord(uint8_t type, const char* payload, size_t size,
                           uint64_t payload_offset, uint64_t frame_bytes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void QueueFrame(uint8_t type, const std::string& payload, bool needs_sync)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseUpTo(JobEntry& job, uint64_t seq) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaybeRequestCompaction() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string BuildSnapshot() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status WriteCompacted(const std::string& bytes) ABSL_LOCKS_EXCLUDED(mu_);
  void SyncerLoop();

  const std::string dir_;
  const std::string path_;
  const SpoolOptions options_;
  int lock_fd_ = -1;
  int fd_ = -1;  // touched by the syncer thread only (and Open/destructor)

  mutable absl::Mutex mu_;
  absl::CondVar work_cv_;     // syncer: something to write
  absl::CondVar durable_cv_;  // waiters: durable_lsn_ moved or broken_
  std::map<JobKey, JobEntry> jobs_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, Entry> by_lsn_ ABSL_GUARDED_BY(mu_);  // unacked updates/results
  uint64_t unacked_bytes_ ABSL_GUARDED_BY(mu_) = 0;        // their frames' bytes
  uint64_t last_lsn_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t durable_lsn_ ABSL_GUARDED_BY(mu_) = 0;
  std::string pending_ ABSL_GUARDED_BY(mu_);
  bool pending_needs_sync_ ABSL_GUARDED_BY(mu_) = false;
  bool compact_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool sync_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool compacting_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // ever queued (monotonic)
  uint64_t synced_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // of those, written and synced
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status broken_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
  std::function<void()> listener_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<std::thread> syncer_;
  // During Load only: where each unacked report's payload is in the file.
  std::map<uint64_t, std::pair<uint64_t, size_t>> replay_payloads_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ionloop::worker

#endif  // IONLOOP_WORKERS_RUNTIME_SPOOL_H_
