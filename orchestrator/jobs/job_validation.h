// Request validation for the Jobs API. Pure functions of the request: every error is
// INVALID_ARGUMENT with a message that names the field path and the offending value,
// e.g. "spec.cycling.cell.protocol.charge_c_rate: must be > 0, got -1".
#ifndef IONLOOP_ORCHESTRATOR_JOBS_JOB_VALIDATION_H_
#define IONLOOP_ORCHESTRATOR_JOBS_JOB_VALIDATION_H_

#include "absl/status/status.h"
#include "common/job_enums.h"
#include "ionloop/v1/cell.pb.h"
#include "ionloop/v1/job.pb.h"
#include "ionloop/v1/jobs.pb.h"

namespace ionloop::orchestrator {

// `path` prefixes field names in messages ("spec.cycling.cell").
absl::Status ValidateCellSpec(const ionloop::v1::CellSpec& cell, absl::string_view path);
absl::Status ValidateJobSpec(const ionloop::v1::JobSpec& spec, absl::string_view path = "spec");
absl::Status ValidateSubmitJobRequest(const ionloop::v1::SubmitJobRequest& request);
absl::Status ValidateListJobsRequest(const ionloop::v1::ListJobsRequest& request);

}  // namespace ionloop::orchestrator

#endif  // IONLOOP_ORCHESTRATOR_JOBS_JOB_VALIDATION_H_
