#include "orchestrator/jobs/worker_reports.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/job_enums.h"
#include "common/job_id.h"
#include "common/status_macros.h"
#include "orchestrator/jobs/job_states.h"

namespace ionloop::orchestrator {
namespace {

constexpr size_t kMaxCheckpointBytes = 4 << 20;
constexpr int kMaxMeasurementsPerUpdate = 100'000;

absl::Status CheckReportIds(absl::string_view job_id, uint32_t attempt, uint64_t seq,
                            absl::string_view what) {
  RETURN_IF_ERROR(ParseJobId(job_id, absl::StrCat(what, ".job_id")).status());
  if (attempt < 1) {
    return absl::InvalidArgumentError(absl::StrCat(what, ".attempt: must be >= 1, got 0"));
  }
  if (seq < 1) return absl::InvalidArgumentError(absl::StrCat(what, ".seq: must be >= 1, got 0"));
  return absl::OkStatus();
}

// The holder and attempt must match, and the job must still be live. A terminal job
// still acknowledges resends of what it already applied.
absl::Status CheckHolder(const std::string& worker_id, absl::string_view job_id, uint32_t attempt,
                         uint64_t seq, const JobRecord& current, bool* duplicate) {
  const v1::Job& job = current.job;
  const bool same_attempt = job.worker_id() == worker_id && job.attempt() == attempt;
  if (same_attempt && seq <= current.update_seq) {
    *duplicate = true;
    return absl::OkStatus();
  }
  if (!same_attempt) {
    return absl::FailedPreconditionError(absl::StrCat(
        job_id, " attempt ", attempt, " is not held by worker '", worker_id, "'",
        job.worker_id().empty() ? std::string(" (no worker holds it)")
                                : absl::StrCat(" (held by '", job.worker_id(), "', attempt ",
                                               job.attempt(), ")")));
  }
  if (job.state() != v1::JOB_STATE_ASSIGNED && job.state() != v1::JOB_STATE_RUNNING) {
    return absl::FailedPreconditionError(absl::StrCat(job_id, " is ", StateName(job.state()),
                                                      "; it takes no more reports"));
  }
  if (seq != current.update_seq + 1) {
    // ABORTED, not FAILED_PRECONDITION: the job is still the worker's; it resends from
    // the expected seq.
    return absl::AbortedError(absl::StrCat(job_id, " attempt ", attempt,
                                                      ": out of order: expected seq ",
                                                      current.update_seq + 1, ", got ", seq));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateJobUpdate(const v1::JobUpdate& update) {
  RETURN_IF_ERROR(CheckReportIds(update.job_id(), update.attempt(), update.seq(), "update"));
  if (!std::isfinite(update.progress()) || update.progress() < 0 || update.progress() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("update.progress: must be within 0..1, got ", update.progress()));
  }
  if (update.checkpoint().size() > kMaxCheckpointBytes) {
    return absl::InvalidArgumentError(absl::StrCat("update.checkpoint: at most ",
                                                   kMaxCheckpointBytes, " bytes, got ",
                                                   update.checkpoint().size()));
  }
  if (update.measurements_size() > kMaxMeasurementsPerUpdate) {
    return absl::InvalidArgumentError(absl::StrCat("update.measurements: at most ",
                                                   kMaxMeasurementsPerUpdate, " per update, got ",
                                                   update.measurements_size()));
  }
  for (int i = 0; i < update.measurements_size(); ++i) {
    const v1::Measurement& m = update.measurements(i);
    const std::string field = absl::StrCat("update.measurements[", i, "]");
    if (!m.job_id().empty() && m.job_id() != update.job_id()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".job_id: '", m.job_id(),
                                                     "' in an update of ", update.job_id()));
    }
    if (m.attempt() != 0 && m.attempt() != update.attempt()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".attempt: ", m.attempt(),
                                                     " in an update of attempt ",
                                                     update.attempt()));
    }
    if (m.seq() < 1) return absl::InvalidArgumentError(absl::StrCat(field, ".seq: must be >= 1"));
    if (m.value_case() == v1::Measurement::VALUE_NOT_SET) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": no value set"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateJobResult(const v1::JobResult& result) {
  RETURN_IF_ERROR(CheckReportIds(result.job_id(), result.attempt(), result.seq(), "result"));
  if (result.outcome() == v1::JOB_OUTCOME_UNSPECIFIED || !v1::JobOutcome_IsValid(result.outcome())) {
    return absl::InvalidArgumentError(
        absl::StrCat("result.outcome: must be SUCCEEDED, FAILED or CANCELLED, got ",
                     static_cast<int>(result.outcome())));
  }
  if (result.stopped_early() && result.outcome() != v1::JOB_OUTCOME_SUCCEEDED &&
      result.outcome() != v1::JOB_OUTCOME_CANCELLED) {
    return absl::InvalidArgumentError("result.stopped_early: only with SUCCEEDED or CANCELLED");
  }
  return absl::OkStatus();
}

absl::StatusOr<ReportDecision> DecideUpdate(const std::string& worker_id,
                                            const v1::JobUpdate& update,
                                            const JobRecord& current) {
  ReportDecision d;
  RETURN_IF_ERROR(CheckHolder(worker_id, update.job_id(), update.attempt(), update.seq(), current,
                              &d.duplicate));
  if (d.duplicate) return d;
  JobMutation& m = d.mutation;
  m.update_seq = update.seq();
  m.progress = update.progress();
  if (!update.checkpoint().empty()) m.checkpoint = update.checkpoint();
  if (!update.message().empty()) m.message = update.message();
  m.measurements.assign(update.measurements().begin(), update.measurements().end());
  for (v1::Measurement& measurement : m.measurements) {
    measurement.set_job_id(update.job_id());
    measurement.set_attempt(update.attempt());
  }
  if (current.job.state() == v1::JOB_STATE_ASSIGNED) {
    m.state = v1::JOB_STATE_RUNNING;
    if (!m.message) m.message = "running";
    m.event_type = v1::JOB_EVENT_TYPE_STATE_CHANGED;
  } else if (std::floor(update.progress() * 10) > std::floor(current.job.progress() * 10)) {
    // A stored progress event per tenth: watchers see motion, the log stays small.
    m.event_type = v1::JOB_EVENT_TYPE_PROGRESS;
  }
  return d;
}

absl::StatusOr<ReportDecision> DecideResult(const std::string& worker_id,
                                            const v1::JobResult& result,
                                            const JobRecord& current) {
  ReportDecision d;
  RETURN_IF_ERROR(CheckHolder(worker_id, result.job_id(), result.attempt(), result.seq(), current,
                              &d.duplicate));
  if (d.duplicate) return d;
  JobMutation& m = d.mutation;
  m.update_seq = result.seq();
  m.event_type = v1::JOB_EVENT_TYPE_STATE_CHANGED;
  std::string message = result.message();
  if (result.stopped_early()) {
    m.state = v1::JOB_STATE_SUCCEEDED;
    message = absl::StrCat("stopped early", message.empty() ? "" : ": ", message);
  } else if (result.outcome() == v1::JOB_OUTCOME_SUCCEEDED) {
    m.state = v1::JOB_STATE_SUCCEEDED;
    m.progress = 1.0;
  } else if (result.outcome() == v1::JOB_OUTCOME_FAILED) {
    m.state = v1::JOB_STATE_FAILED;
  } else {
    m.state = v1::JOB_STATE_CANCELLED;
  }
  m.message = message.empty() ? absl::AsciiStrToLower(StateName(*m.state)) : message;
  return d;
}

absl::StatusOr<JobMutation> DecideAssign(const std::string& worker_id, const JobRecord& current) {
  const v1::Job& job = current.job;
  RETURN_IF_ERROR(CheckTransition(job.id(), job.state(), v1::JOB_STATE_ASSIGNED));
  if (job.cancel_requested()) {
    return absl::FailedPreconditionError(absl::StrCat(job.id(), ": cancel requested"));
  }
  JobMutation m;
  m.state = v1::JOB_STATE_ASSIGNED;
  m.worker_id = worker_id;
  m.attempt = job.attempt() + 1;
  m.update_seq = 0;
  m.message = absl::StrCat("assigned to ", worker_id, " (attempt ", job.attempt() + 1, ")");
  m.event_type = v1::JOB_EVENT_TYPE_STATE_CHANGED;
  return m;
}

absl::StatusOr<JobMutation> DecideRelease(const Release& release, const JobRecord& current) {
  const v1::Job& job = current.job;
  if (job.worker_id() != release.worker_id || job.attempt() != release.attempt) {
    return absl::FailedPreconditionError(
        absl::StrCat(job.id(), ": no longer held by '", release.worker_id, "' attempt ",
                     release.attempt));
  }
  RETURN_IF_ERROR(CheckTransition(job.id(), job.state(), release.to));
  JobMutation m;
  m.state = release.to;
  m.message = release.message;
  m.event_type = v1::JOB_EVENT_TYPE_STATE_CHANGED;
  if (release.to == v1::JOB_STATE_RETRYING) {
    m.worker_id = "";  // free for any worker; attempt stays until the next Assign
    m.not_before = release.not_before;
  }
  return m;
}

}  // namespace ionloop::orchestrator
