#include "orchestrator/jobs/job_states.h"

#include "absl/strings/str_cat.h"

namespace ionloop::orchestrator {

using ionloop::v1::JobState;

bool IsLegalTransition(JobState from, JobState to) {
  if (IsTerminal(from) || from == to) return false;
  switch (to) {
    case v1::JOB_STATE_ASSIGNED:
      return from == v1::JOB_STATE_QUEUED || from == v1::JOB_STATE_RETRYING;
    case v1::JOB_STATE_RUNNING:
      return from == v1::JOB_STATE_ASSIGNED;
    case v1::JOB_STATE_RETRYING:
      return from == v1::JOB_STATE_ASSIGNED || from == v1::JOB_STATE_RUNNING;
    // A worker may finish a job before it ever reported it running.
    case v1::JOB_STATE_SUCCEEDED:
    case v1::JOB_STATE_FAILED:
    case v1::JOB_STATE_LOST:
      return from == v1::JOB_STATE_ASSIGNED || from == v1::JOB_STATE_RUNNING ||
             (to == v1::JOB_STATE_FAILED && from == v1::JOB_STATE_RETRYING);
    case v1::JOB_STATE_CANCELLED:
      return true;  // from any non-terminal state
    default:
      return false;  // nothing returns to QUEUED or UNSPECIFIED
  }
}

absl::Status CheckTransition(absl::string_view job_id, JobState from, JobState to) {
  if (IsLegalTransition(from, to)) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      job_id, ": cannot go from ", StateName(from), " to ", StateName(to),
      IsTerminal(from) ? " (the job has finished)" : ""));
}

}  // namespace ionloop::orchestrator
