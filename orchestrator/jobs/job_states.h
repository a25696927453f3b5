// The job state machine (DESIGN.md §4):
//   QUEUED → ASSIGNED → RUNNING → {SUCCEEDED, FAILED, CANCELLED, LOST}
//   ASSIGNED/RUNNING → RETRYING → ASSIGNED (restartable kinds whose worker went away)
// and any non-terminal state → CANCELLED. Terminal states are final.
#ifndef IONLOOP_ORCHESTRATOR_JOBS_JOB_STATES_H_
#define IONLOOP_ORCHESTRATOR_JOBS_JOB_STATES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "ionloop/v1/job.pb.h"

namespace ionloop::orchestrator {

bool IsTerminal(ionloop::v1::JobState state);
bool IsLegalTransition(ionloop::v1::JobState from, ionloop::v1::JobState to);

// OK, or FAILED_PRECONDITION naming the job and both states.
absl::Status CheckTransition(absl::string_view job_id, ionloop::v1::JobState from,
                             ionloop::v1::JobState to);

// "QUEUED", "RUNNING", ...: the enum name without its prefix.
std::string StateName(ionloop::v1::JobState state);
// "cycling", "xrd", ...
std::string KindName(ionloop::v1::JobKind kind);

}  // namespace ionloop::orchestrator

#endif  // IONLOOP_ORCHESTRATOR_JOBS_JOB_STATES_H_
