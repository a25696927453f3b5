// The worker side of the Workers protocol (protos/ionloop/v1/workers.proto), for any
// instrument driver: connect and say Hello, keep the stream alive with heartbeats and
// reconnect with backoff, run each Assign on its own thread through the JobHandler of
// its kind (up to `channels` at once), spool every update and result durably before it
// is sent, release it on Ack, resend what is unacknowledged after a reconnect, and
// after a restart re-attach and resume the attempts the orchestrator still gives it.
//
//   HandlerRegistry handlers;
//   handlers.Register(v1::JOB_KIND_SYNTHETIC, [] { return std::make_unique<SyntheticHandler>(); });
//   auto runtime = WorkerRuntime::Create(options, std::move(handlers), SystemClock::Get());
//   (*runtime)->Start();
//   ...                                     // until SIGTERM
//   (*runtime)->Stop(absl::Seconds(5));     // flush, wait for acks, close the stream
//
// This header is gRPC-free; the stream lives in worker_runtime.cc.
#ifndef IONLOOP_WORKERS_RUNTIME_WORKER_RUNTIME_H_
#define IONLOOP_WORKERS_RUNTIME_WORKER_RUNTIME_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "ionloop/v1/worker.pb.h"
#include "workers/runtime/backoff.h"
#include "workers/runtime/job_handler.h"
#include "workers/runtime/spool.h"
#include "workers/runtime/update_batcher.h"

namespace ionloop::worker {

struct WorkerOptions {
  std::string server = "127.0.0.1:50051";  // the orchestrator, host:port
  // Stable across restarts: [A-Za-z0-9_.:-]{1,128}.
  std::string worker_id;
  // kind and channels (≥ 1: jobs run at once) at least.
  v1::Capabilities capabilities;
  std::string software = "ionloop-worker";  // Hello.software
  std::string spool_dir;                    // required
  SpoolOptions spool;

  BackoffPolicy reconnect_backoff;          // 100 ms doubling to 10 s, full jitter
  uint64_t random_seed = 0;                 // for the jitter; 0: from std::random_device
  // A stream that brings no Welcome within this time is abandoned and retried.
  absl::Duration welcome_timeout = absl::Seconds(10);
  // Used when Welcome.heartbeat_interval_ms is 0.
  absl::Duration default_heartbeat_interval = absl::Seconds(5);

  BatchLimits batch;                        // 4096 measurements / 1 MiB per update
  // Queued measurements wait at most this long (by the injected clock) for more to fill
  // their update.
  absl::Duration linger = absl::Milliseconds(20);
  // Emit blocks while an attempt has this many updates, or this many bytes of
  // updates, spooled but not acknowledged (pipelining window; bounds memory to about
  // channels × max_unacked_bytes_per_job).
  size_t max_unacked_updates_per_job = 64;
  uint64_t max_unacked_bytes_per_job = 8u << 20;
};

// Returns INVALID_ARGUMENT naming the field when an option is out of range.
absl::Status ValidateWorkerOptions(const WorkerOptions& options);

class WorkerRuntime {
 public:
  // Opens (and reloads) the spool. Errors: INVALID_ARGUMENT for bad options; the
  // spool's FAILED_PRECONDITION / DATA_LOSS (see Spool::Open).
  static absl::StatusOr<std::unique_ptr<WorkerRuntime>> Create(WorkerOptions options,
                                                               HandlerRegistry handlers,
                                                               const Clock* clock);
  ~WorkerRuntime();  // Stop(zero grace) if still running
  WorkerRuntime(const WorkerRuntime&) = delete;
  WorkerRuntime& operator=(const WorkerRuntime&) = delete;

  // Starts connecting (and reconnecting until Stop).
  void Start();

  // Graceful stop: refuses new Assigns, stops the handlers with reason "shutdown"
  // (their attempts are not ended: no JobResult is sent, so a restarted worker with the
  // same --spool-dir resumes them if the orchestrator re-attaches them), spools what
  // they emitted, waits up to `grace` for the orchestrator to acknowledge everything
  // spooled (reconnecting meanwhile if needed), then half-closes the stream and waits
  // briefly for the orchestrator to end it. Idempotent.
  void Stop(absl::Duration grace);

  struct Snapshot {
    bool connected = false;         // a Welcome arrived on the current stream
    uint64_t sessions = 0;          // streams that reached Welcome
    size_t running_jobs = 0;        // handler threads alive
    size_t unacked_records = 0;
    absl::Status spool_health;      // DATA_LOSS once the spool cannot be written
  };
  Snapshot snapshot() const;
  // Blocks until the runtime is connected or `timeout` passed (real time). For tests and
  // readiness checks.
  bool WaitConnected(absl::Duration timeout) const;

  struct Impl;

 private:
  explicit WorkerRuntime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ionloop::worker

#endif  // IONLOOP_WORKERS_RUNTIME_WORKER_RUNTIME_H_
