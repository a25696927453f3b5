// What an instrument driver writes: a JobHandler per job kind. The runtime owns the
// stream, the spool, numbering, batching, acks and reconnects; a handler only reads its
// spec, emits measurements and returns how the attempt ended.
//
//   class MyHandler : public JobHandler {
//    public:
//     JobResultReport Run(JobContext& ctx) override {
//       for (uint64_t i = ctx.resume_after_measurement_seq(); i < n; ++i) {
//         if (ctx.cancelled()) break;
//         v1::Measurement m = Measure();            // seq/job_id/attempt left empty
//         if (absl::Status s = ctx.Emit({m}, double(i + 1) / n, ""); !s.ok())
//           return JobResultReport::Failed(std::string(s.message()));
//       }
//       if (ctx.cancelled()) return JobResultReport::CancelledBy(ctx);
//       return JobResultReport::Succeeded({{"points", n}});
//     }
//   };
//
// Each attempt runs Run() once on its own thread. A handler must notice cancelled()
// (or a false return of SleepFor) within a few seconds and return: the runtime waits for
// it on Cancel and on shutdown.
#ifndef IONLOOP_WORKERS_RUNTIME_JOB_HANDLER_H_
#define IONLOOP_WORKERS_RUNTIME_JOB_HANDLER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "ionloop/v1/job.pb.h"
#include "ionloop/v1/measurement.pb.h"
#include "ionloop/v1/workers.pb.h"

namespace ionloop::worker {

// Cancel reasons with a meaning for handlers (workers.proto, Cancel).
inline constexpr char kCancelEarlyStop[] = "early_stop";
inline constexpr char kCancelNotAssigned[] = "not_assigned";
// Not sent by the orchestrator: the worker itself is stopping (SIGTERM). The attempt
// is *not* ended: the runtime reports no result and resumes the job after a restart
// if the orchestrator re-attaches it.
inline constexpr char kStopShutdown[] = "shutdown";

class JobContext;

// How an attempt ended: becomes the JobResult (the runtime fills job_id/attempt/seq).
struct JobResultReport {
  v1::JobOutcome outcome = v1::JOB_OUTCOME_UNSPECIFIED;  // UNSPECIFIED is reported as FAILED
  std::string message;
  bool stopped_early = false;  // with SUCCEEDED, after Cancel{reason: "early_stop"}
  std::map<std::string, double> summary;

  static JobResultReport Succeeded(std::map<std::string, double> summary = {});
  static JobResultReport Failed(std::string message);
  static JobResultReport Cancelled(std::string message);
  // SUCCEEDED with stopped_early (an early_stop Cancel honoured).
  static JobResultReport StoppedEarly(std::map<std::string, double> summary = {});
  // The usual answer to ctx.cancelled(): StoppedEarly for "early_stop", else Cancelled
  // naming the reason.
  static JobResultReport CancelledBy(const JobContext& ctx,
                                     std::map<std::string, double> summary = {});
};

// What a handler sees of its attempt. Thread-safe: a handler may emit from helper
// threads too, but measurements are numbered in the order Emit is called.
class JobContext {
 public:
  virtual ~JobContext() = default;

  virtual const v1::JobSpec& spec() const = 0;
  virtual const std::string& job_id() const = 0;
  virtual uint32_t attempt() const = 0;

  // The opaque resume state: on a fresh attempt Assign.checkpoint (an earlier attempt's
  // last checkpoint, often empty); when resumed after a worker restart, the last
  // checkpoint this attempt emitted.
  virtual const std::string& checkpoint() const = 0;
  // 0 on a fresh start. When resumed after a worker restart: the last measurement seq
  // this attempt produced (spooled); continue with the measurement after it. The runtime
  // numbers the next emitted measurement resume_after_measurement_seq() + 1.
  virtual uint64_t resume_after_measurement_seq() const = 0;
  bool resumed() const { return resume_after_measurement_seq() > 0 || !checkpoint().empty(); }

  // Queues measurements (job_id, attempt, seq and an unset recorded_at are filled in
  // here) and the attempt's progress (0..1). The runtime coalesces them into JobUpdates
  // of up to 4096 measurements / 1 MiB, each appended to the on-disk spool (fsynced)
  // before it is sent. A non-empty `checkpoint` (≤ 4 MiB) is resume state valid after
  // these measurements: it cuts an update at once. Blocks while the job has too many
  // unacknowledged updates (backpressure). Errors: FAILED_PRECONDITION once the job is
  // no longer this worker's (Cancel "not_assigned", a refused update) — stop then;
  // INVALID_ARGUMENT for a checkpoint over 4 MiB; DATA_LOSS when the spool cannot write.
  virtual absl::Status Emit(std::vector<v1::Measurement> measurements, double progress,
                            std::string checkpoint) = 0;
  // Cuts an update from what Emit queued now instead of after the linger time (20 ms by
  // default). Rarely needed: the runtime flushes after the linger time by itself, and
  // when Run returns.
  virtual absl::Status Flush() = 0;

  // Set by Cancel (any reason), by the loss of the job, and by the worker stopping.
  virtual bool cancelled() const = 0;
  // "user", "early_stop", "superseded", ... (workers.proto Cancel), "shutdown" when
  // the worker stops, or the orchestrator's refusal. Empty until cancelled().
  virtual std::string cancel_reason() const = 0;
  // Waits `d` (real time) unless cancelled meanwhile. True when the full time passed,
  // false when cancelled.
  virtual bool SleepFor(absl::Duration d) = 0;
};

class JobHandler {
 public:
  virtual ~JobHandler() = default;
  // Runs one attempt to its end. Exceptions are caught and reported as FAILED.
  virtual JobResultReport Run(JobContext& ctx) = 0;
};

// One handler per job kind. A worker binary registers the kinds it serves; an Assign
// for another kind is answered FAILED.
class HandlerRegistry {
 public:
  using Factory = std::function<std::unique_ptr<JobHandler>()>;
  void Register(v1::JobKind kind, Factory factory) { factories_[kind] = std::move(factory); }
  // nullptr when no handler serves `kind`.
  const Factory* Find(v1::JobKind kind) const;
  std::vector<v1::JobKind> kinds() const;

 private:
  std::map<v1::JobKind, Factory> factories_;
};

}  // namespace ionloop::worker

#endif  // IONLOOP_WORKERS_RUNTIME_JOB_HANDLER_H_
