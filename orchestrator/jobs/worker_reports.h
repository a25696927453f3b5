// What a worker's report does to a job, as pure decisions over the stored record
// (JobDecision bodies): the exactly-once and ownership rules of the worker protocol
// live here, testable without a store or a network.
#ifndef IONLOOP_ORCHESTRATOR_JOBS_WORKER_REPORTS_H_
#define IONLOOP_ORCHESTRATOR_JOBS_WORKER_REPORTS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ionloop/v1/workers.pb.h"
#include "orchestrator/store/store.h"

namespace ionloop::orchestrator {

// Checks an update or result for shape alone (ids, seq ≥ 1, finite progress, sizes,
// measurement numbering); INVALID_ARGUMENT naming the field.
absl::Status ValidateJobUpdate(const ionloop::v1::JobUpdate& update);
absl::Status ValidateJobResult(const ionloop::v1::JobResult& result);

// A report whose seq was already applied: acknowledge again, change nothing.
struct ReportDecision {
  JobMutation mutation;
  bool duplicate = false;
};

// `update` from `worker_id` against the job as stored. FAILED_PRECONDITION when the
// worker does not hold that attempt or the job has finished; ABORTED when seq leaves a
// gap (resend from the expected seq).
absl::StatusOr<ReportDecision> DecideUpdate(const std::string& worker_id,
                                            const ionloop::v1::JobUpdate& update,
                                            const JobRecord& current);
absl::StatusOr<ReportDecision> DecideResult(const std::string& worker_id,
                                            const ionloop::v1::JobResult& result,
                                            const JobRecord& current);

// QUEUED/RETRYING → ASSIGNED to `worker_id` as the next attempt.
absl::StatusOr<JobMutation> DecideAssign(const std::string& worker_id, const JobRecord& current);

// How a job leaves a worker that went away (or never confirmed a cancel).
struct Release {
  std::string worker_id;        // the holder it must still have
  uint32_t attempt = 0;         // ... and the attempt
  ionloop::v1::JobState to = ionloop::v1::JOB_STATE_UNSPECIFIED;  // LOST, RETRYING, FAILED, CANCELLED
  std::string message;
  absl::Time not_before = absl::InfinitePast();  // for RETRYING: backoff
};
// FAILED_PRECONDITION when the job moved on meanwhile (another holder or attempt).
absl::StatusOr<JobMutation> DecideRelease(const Release& release, const JobRecord& current);

}  // namespace ionloop::orchestrator

#endif  // IONLOOP_ORCHESTRATOR_JOBS_WORKER_REPORTS_H_
