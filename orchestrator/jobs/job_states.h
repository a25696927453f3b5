// The job state machine (DESIGN.md §4):
//   QUEUED → ASSIGNED → RUNNING → {SUCCEEDED, FAILED, CANCELLED, LOST}
//   ASSIGNED/RUNNING → RETRYING → ASSIGNED (restartable kinds whose worker went away)
// and any non-terminal state → CANCELLED. Terminal states are final.
#ifndef IONLOOP_ORCHESTRATOR_JOBS_JOB_STATES_H_
#define IONLOOP_ORCHESTRATOR_JOBS_JOB_STATES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/job_enums.h"
#include "ionloop/v1/job.pb.h"

namespace ionloop::orchestrator {

bool IsLegalTransition(ionloop::v1::JobState from, ionloop::v1::JobState to);

// OK, or FAILED_PRECONDITION naming the job and both states.
absl::Status CheckTransition(absl::string_view job_id, ionloop::v1::JobState from,
                             ionloop::v1::JobState to);

}  // namespace ionloop::orchestrator

#endif  // IONLOOP_ORCHESTRATOR_JOBS_JOB_STATES_H_
