// The transport-free core of the Jobs API: validates requests, applies the job state
// machine atomically in the store, and publishes each committed event to watchers.
// gRPC handlers translate to and from it; tests drive it directly.
#ifndef IONLOOP_ORCHESTRATOR_JOBS_JOB_MANAGER_H_
#define IONLOOP_ORCHESTRATOR_JOBS_JOB_MANAGER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "common/clock.h"
#include "ionloop/v1/jobs.pb.h"
#include "ionloop/v1/workers.pb.h"
#include "orchestrator/jobs/job_event_bus.h"
#include "orchestrator/jobs/worker_reports.h"
#include "orchestrator/store/store.h"

namespace ionloop::orchestrator {

// Optional changes that travel with a state transition.
struct TransitionDetails {
  std::string message;
  std::optional<std::string> worker_id;
  std::optional<uint32_t> attempt;
  std::optional<double> progress;
};

class JobManager {
 public:
  // Does not take ownership; all three must outlive the manager.
  JobManager(Store* store, JobEventBus* bus, const Clock* clock);

  absl::StatusOr<ionloop::v1::SubmitJobResponse> Submit(
      const ionloop::v1::SubmitJobRequest& request);
  // A test recorded elsewhere, stored as a SUCCEEDED job (attempt 1) with its
  // measurements in one commit. The measurements are numbered seq 1..N in order;
  // job_id/attempt are filled in. With an idempotency key already used, returns that job
  // and stores nothing.
  absl::StatusOr<ionloop::v1::SubmitJobResponse> Import(
      const ionloop::v1::JobSpec& spec, const std::string& idempotency_key,
      const std::string& source, std::vector<ionloop::v1::Measurement> measurements);
  absl::StatusOr<ionloop::v1::Job> Get(const ionloop::v1::GetJobRequest& request);
  absl::StatusOr<ionloop::v1::ListJobsResponse> List(const ionloop::v1::ListJobsRequest& request);
  // QUEUED/RETRYING: CANCELLED at once. ASSIGNED/RUNNING: cancel_requested, and the
  // job ends when its worker confirms. Finished: FAILED_PRECONDITION.
  absl::StatusOr<ionloop::v1::Job> Cancel(const ionloop::v1::CancelJobRequest& request);

  // One state change, checked against the state machine (FAILED_PRECONDITION when
  // illegal). Used by the scheduler and by workers' reports.
  absl::StatusOr<ionloop::v1::Job> Transition(absl::string_view job_id, ionloop::v1::JobState to,
                                             const TransitionDetails& details);

  // Progress of a RUNNING job that ionloopd runs itself (training): stores `progress` and
  // `message` on the job, with a PROGRESS event once per tenth (as for workers' updates).
  // Returns the job, whose cancel_requested tells the runner to stop.
  absl::StatusOr<ionloop::v1::Job> ReportProgress(absl::string_view job_id, double progress,
                                                  const std::string& message);

  // Subscribes `on_event` to the job and returns its current state and latest event.
  // No event is lost or repeated between the two: on_event sees exactly the events
  // after `current.event`.
  struct Watch {
    ionloop::v1::WatchJobResponse current;
    std::unique_ptr<JobEventBus::Subscription> subscription;
  };
  absl::StatusOr<Watch> StartWatch(const ionloop::v1::WatchJobRequest& request,
                                   JobEventBus::Callback on_event);

  // ---- the worker protocol (called by the scheduler and the Workers service) ----

  // A report applied, or recognized as a resend of one already applied.
  struct ReportOutcome {
    ionloop::v1::Job job;
    bool duplicate = false;
  };
  // Validates, checks the worker holds the attempt and the seq follows, stores the
  // measurements and progress in one commit. See worker_reports.h for the rules.
  absl::StatusOr<ReportOutcome> ApplyUpdate(const std::string& worker_id,
                                            const ionloop::v1::JobUpdate& update);
  // Several updates of one worker in one commit, applied in order (consecutive seqs
  // of one job included); each succeeds or fails alone.
  std::vector<absl::StatusOr<ReportOutcome>> ApplyUpdates(
      const std::string& worker_id, absl::Span<const ionloop::v1::JobUpdate* const> updates);
  absl::StatusOr<ReportOutcome> ApplyResult(const std::string& worker_id,
                                            const ionloop::v1::JobResult& result);

  struct AssignedJob {
    ionloop::v1::Job job;
    std::string checkpoint;  // from an earlier attempt, for the Assign message
  };
  // (job_id, worker_id) pairs, all in one commit; each succeeds or fails alone.
  std::vector<absl::StatusOr<AssignedJob>> Assign(
      absl::Span<const std::pair<std::string, std::string>> job_and_worker);

  // Takes a job away from a worker that went away; see Release.
  absl::StatusOr<ionloop::v1::Job> ReleaseJob(const std::string& job_id, const Release& release);

  // Sets each job's message (no event) where it differs, in one commit: why a job is
  // not scheduled.
  void NoteMessages(absl::Span<const std::pair<std::string, std::string>> job_and_message);

  // Idempotent on (job_id, attempt, seq); returns how many were new.
  absl::StatusOr<int> RecordMeasurements(absl::Span<const ionloop::v1::Measurement> measurements);
  // One page of a ListMeasurements stream, after `after`.
  absl::StatusOr<std::vector<ionloop::v1::Measurement>> MeasurementPage(
      const ionloop::v1::ListMeasurementsRequest& request, MeasurementCursor after, int limit);

  Store* store() const { return store_; }
  const Clock* clock() const { return clock_; }

 private:
  // Runs a store update and publishes its event, both under the job's lock, so every
  // watcher sees a job's events in commit order. Different jobs take different locks
  // (mostly), so their updates can share a group commit.
  absl::StatusOr<ionloop::v1::Job> UpdateAndPublish(absl::string_view job_id,
                                                    const JobDecision& decide);
  // The same for several jobs in one commit, each succeeding or failing alone.
  std::vector<absl::StatusOr<JobChange>> UpdateManyAndPublish(
      absl::Span<const std::pair<std::string, JobDecision>> updates);
  absl::Mutex& JobLock(absl::string_view job_id);
  static size_t StripeOf(absl::string_view job_id);

  static constexpr size_t kJobLockStripes = 64;
  Store* const store_;
  JobEventBus* const bus_;
  const Clock* const clock_;
  absl::Mutex job_locks_[kJobLockStripes];
};

}  // namespace ionloop::orchestrator

#endif  // IONLOOP_ORCHESTRATOR_JOBS_JOB_MANAGER_H_
