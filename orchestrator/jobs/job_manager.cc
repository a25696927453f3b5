#include "orchestrator/jobs/job_manager.h"

#include <algorithm>
#include <cmath>

#include "absl/hash/hash.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/job_id.h"
#include "common/status_macros.h"
#include "orchestrator/jobs/job_states.h"
#include "orchestrator/jobs/job_validation.h"

namespace ionloop::orchestrator {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr size_t kMaxReasonBytes = 256;

absl::Status ValidateReason(absl::string_view reason) {
  if (reason.size() > kMaxReasonBytes) {
    return absl::InvalidArgumentError(absl::StrCat("reason: at most ", kMaxReasonBytes,
                                                   " bytes, got ", reason.size()));
  }
  for (char c : reason) {
    if (absl::ascii_iscntrl(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(
          absl::StrCat("reason: control characters are not allowed, got '",
                       absl::CEscape(reason), "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

JobManager::JobManager(Store* store, JobEventBus* bus, const Clock* clock)
    : store_(store), bus_(bus), clock_(clock) {}

absl::StatusOr<v1::SubmitJobResponse> JobManager::Submit(const v1::SubmitJobRequest& request) {
  RETURN_IF_ERROR(ValidateSubmitJobRequest(request));
  // No job lock: nobody can watch or update a job before its id is returned, so
  // concurrent submits can share one store commit.
  ASSIGN_OR_RETURN(InsertJobResult inserted,
                   store_->InsertJob(request.spec(), request.idempotency_key(), clock_->Now()));
  if (inserted.event) bus_->Publish(*inserted.event, inserted.job);
  v1::SubmitJobResponse response;
  *response.mutable_job() = std::move(inserted.job);
  response.set_created(inserted.created);
  return response;
}

absl::StatusOr<v1::SubmitJobResponse> JobManager::Import(
    const v1::JobSpec& spec, const std::string& idempotency_key, const std::string& source,
    std::vector<v1::Measurement> measurements) {
  v1::SubmitJobRequest as_submit;
  *as_submit.mutable_spec() = spec;
  as_submit.set_idempotency_key(idempotency_key);
  RETURN_IF_ERROR(ValidateSubmitJobRequest(as_submit));
  if (source.size() > 512) {
    return absl::InvalidArgumentError(
        absl::StrCat("source: at most 512 bytes, got ", source.size()));
  }
  for (size_t i = 0; i < measurements.size(); ++i) {
    const v1::Measurement& m = measurements[i];
    const std::string field = absl::StrCat("measurements[", i, "]");
    if (m.value_case() == v1::Measurement::VALUE_NOT_SET) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": no value set"));
    }
    if (m.seq() != i + 1) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".seq: must be ", i + 1,
                                                     " (1, 2, 3, ... in order), got ", m.seq()));
    }
    if (!m.job_id().empty() || m.attempt() > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": leave job_id and attempt empty; the import assigns them"));
    }
  }
  const std::string message =
      source.empty() ? "imported" : absl::StrCat("imported from ", source);
  const JobDecision finish = [&](const JobRecord& record) -> absl::StatusOr<JobMutation> {
    JobMutation m;
    m.state = v1::JOB_STATE_SUCCEEDED;
    m.attempt = 1u;
    m.progress = 1.0;
    m.message = message;
    m.measurements = std::move(measurements);
    for (v1::Measurement& x : m.measurements) {
      x.set_job_id(record.job.id());
      x.set_attempt(1);
    }
    m.event_type = v1::JOB_EVENT_TYPE_STATE_CHANGED;
    return m;
  };
  ASSIGN_OR_RETURN(InsertJobResult inserted,
                   store_->InsertFinishedJob(spec, idempotency_key, finish, clock_->Now()));
  if (inserted.event) bus_->Publish(*inserted.event, inserted.job);
  if (inserted.finish_event) bus_->Publish(*inserted.finish_event, inserted.job);
  v1::SubmitJobResponse response;
  *response.mutable_job() = std::move(inserted.job);
  response.set_created(inserted.created);
  return response;
}

absl::StatusOr<v1::Job> JobManager::Get(const v1::GetJobRequest& request) {
  RETURN_IF_ERROR(ParseJobId(request.job_id()).status());
  return store_->GetJob(request.job_id());
}

absl::StatusOr<v1::ListJobsResponse> JobManager::List(const v1::ListJobsRequest& request) {
  RETURN_IF_ERROR(ValidateListJobsRequest(request));
  JobFilter filter;
  for (int s : request.states()) filter.states.push_back(static_cast<v1::JobState>(s));
  filter.kind = request.kind();
  filter.campaign_id = request.campaign_id();
  for (const auto& [k, v] : request.labels()) filter.labels.emplace_back(k, v);
  const int page_size =
      request.page_size() == 0 ? kDefaultPageSize : static_cast<int>(request.page_size());
  ASSIGN_OR_RETURN(JobPage page, store_->ListJobs(filter, page_size, request.page_token()));
  v1::ListJobsResponse response;
  for (v1::Job& job : page.jobs) *response.add_jobs() = std::move(job);
  response.set_next_page_token(std::move(page.next_page_token));
  return response;
}

absl::StatusOr<v1::Job> JobManager::Cancel(const v1::CancelJobRequest& request) {
  RETURN_IF_ERROR(ParseJobId(request.job_id()).status());
  RETURN_IF_ERROR(ValidateReason(request.reason()));
  const std::string reason = request.reason().empty() ? "user" : request.reason();
  return UpdateAndPublish(request.job_id(), [&](const JobRecord& record) -> absl::StatusOr<JobMutation> {
    const v1::Job& job = record.job;
    JobMutation m;
    if (IsTerminal(job.state())) {
      return absl::FailedPreconditionError(absl::StrCat(
          job.id(), ": cannot cancel a job that is already ", StateName(job.state())));
    }
    if (job.state() == v1::JOB_STATE_QUEUED || job.state() == v1::JOB_STATE_RETRYING) {
      m.state = v1::JOB_STATE_CANCELLED;
      m.cancel_reason = reason;
      m.message = absl::StrCat("cancelled: ", reason);
      m.event_type = v1::JOB_EVENT_TYPE_STATE_CHANGED;
    } else if (!job.cancel_requested()) {
      m.cancel_reason = reason;
      m.message = absl::StrCat("cancel requested: ", reason);
      m.event_type = v1::JOB_EVENT_TYPE_CANCEL_REQUESTED;
    }  // else: already requested; asking again changes nothing
    return m;
  });
}

absl::StatusOr<v1::Job> JobManager::Transition(absl::string_view job_id, v1::JobState to,
                                               const TransitionDetails& details) {
  RETURN_IF_ERROR(ParseJobId(job_id).status());
  return UpdateAndPublish(job_id, [&](const JobRecord& record) -> absl::StatusOr<JobMutation> {
    const v1::Job& job = record.job;
    RETURN_IF_ERROR(CheckTransition(job.id(), job.state(), to));
    JobMutation m;
    m.state = to;
    m.message = details.message.empty() ? absl::AsciiStrToLower(StateName(to)) : details.message;
    m.worker_id = details.worker_id;
    m.attempt = details.attempt;
    m.progress = details.progress;
    m.event_type = v1::JOB_EVENT_TYPE_STATE_CHANGED;
    return m;
  });
}

absl::StatusOr<v1::Job> JobManager::ReportProgress(absl::string_view job_id, double progress,
                                                   const std::string& message) {
  RETURN_IF_ERROR(ParseJobId(job_id).status());
  return UpdateAndPublish(job_id, [&](const JobRecord& record) -> absl::StatusOr<JobMutation> {
    const v1::Job& job = record.job;
    if (job.state() != v1::JOB_STATE_RUNNING) {
      return absl::FailedPreconditionError(
          absl::StrCat(job.id(), ": progress of a job that is ", StateName(job.state())));
    }
    JobMutation m;
    m.progress = std::clamp(progress, 0.0, 1.0);
    m.message = message;
    if (std::floor(*m.progress * 10) > std::floor(job.progress() * 10)) {
      m.event_type = v1::JOB_EVENT_TYPE_PROGRESS;
    }
    return m;
  });
}

absl::StatusOr<v1::Job> JobManager::UpdateAndPublish(absl::string_view job_id,
                                                     const JobDecision& decide) {
  absl::MutexLock lock(&JobLock(job_id));
  ASSIGN_OR_RETURN(JobChange change, store_->UpdateJob(job_id, decide, clock_->Now()));
  if (change.event) bus_->Publish(*change.event, change.job);
  return std::move(change.job);
}

size_t JobManager::StripeOf(absl::string_view job_id) {
  return absl::Hash<absl::string_view>()(job_id) % kJobLockStripes;
}

absl::Mutex& JobManager::JobLock(absl::string_view job_id) { return job_locks_[StripeOf(job_id)]; }

absl::StatusOr<JobManager::Watch> JobManager::StartWatch(const v1::WatchJobRequest& request,
                                                         JobEventBus::Callback on_event) {
  RETURN_IF_ERROR(ParseJobId(request.job_id()).status());
  // Holding the job's lock keeps any event of it from committing between the
  // snapshot and the subscription.
  absl::MutexLock lock(&JobLock(request.job_id()));
  ASSIGN_OR_RETURN(v1::Job job, store_->GetJob(request.job_id()));
  ASSIGN_OR_RETURN(std::vector<v1::JobEvent> events, store_->ListJobEvents(request.job_id(), 0));
  Watch watch;
  if (!events.empty()) *watch.current.mutable_event() = std::move(events.back());
  *watch.current.mutable_job() = std::move(job);
  watch.subscription = bus_->Subscribe(request.job_id(), std::move(on_event));
  return watch;
}

absl::StatusOr<JobManager::ReportOutcome> JobManager::ApplyUpdate(
    const std::string& worker_id, const v1::JobUpdate& update) {
  RETURN_IF_ERROR(ValidateJobUpdate(update));
  ReportOutcome outcome;
  ASSIGN_OR_RETURN(outcome.job,
                   UpdateAndPublish(update.job_id(),
                                    [&](const JobRecord& record) -> absl::StatusOr<JobMutation> {
                                      ASSIGN_OR_RETURN(ReportDecision d,
                                                       DecideUpdate(worker_id, update, record));
                                      outcome.duplicate = d.duplicate;
                                      return std::move(d.mutation);
                                    }));
  return outcome;
}

absl::StatusOr<JobManager::ReportOutcome> JobManager::ApplyResult(
    const std::string& worker_id, const v1::JobResult& result) {
  RETURN_IF_ERROR(ValidateJobResult(result));
  ReportOutcome outcome;
  ASSIGN_OR_RETURN(outcome.job,
                   UpdateAndPublish(result.job_id(),
                                    [&](const JobRecord& record) -> absl::StatusOr<JobMutation> {
                                      ASSIGN_OR_RETURN(ReportDecision d,
                                                       DecideResult(worker_id, result, record));
                                      outcome.duplicate = d.duplicate;
                                      return std::move(d.mutation);
                                    }));
  return outcome;
}

std::vector<absl::StatusOr<JobManager::AssignedJob>> JobManager::Assign(
    absl::Span<const std::pair<std::string, std::string>> job_and_worker) {
  std::vector<std::string> checkpoints(job_and_worker.size());
  std::vector<std::pair<std::string, JobDecision>> updates;
  updates.reserve(job_and_worker.size());
  for (size_t i = 0; i < job_and_worker.size(); ++i) {
    const std::string& worker_id = job_and_worker[i].second;
    updates.emplace_back(job_and_worker[i].first,
                         [&checkpoints, i, &worker_id](const JobRecord& record) {
                           checkpoints[i] = record.checkpoint;
                           return DecideAssign(worker_id, record);
                         });
  }
  std::vector<absl::StatusOr<JobChange>> changes = UpdateManyAndPublish(updates);
  std::vector<absl::StatusOr<AssignedJob>> assigned;
  assigned.reserve(changes.size());
  for (size_t i = 0; i < changes.size(); ++i) {
    if (!changes[i].ok()) {
      assigned.push_back(changes[i].status());
      continue;
    }
    assigned.push_back(AssignedJob{std::move(changes[i]->job), std::move(checkpoints[i])});
  }
  return assigned;
}

std::vector<absl::StatusOr<JobManager::ReportOutcome>> JobManager::ApplyUpdates(
    const std::string& worker_id, absl::Span<const v1::JobUpdate* const> updates) {
  std::vector<absl::StatusOr<ReportOutcome>> outcomes(updates.size(),
                                                      absl::InternalError("not applied"));
  std::vector<bool> duplicate(updates.size(), false);
  std::vector<std::pair<std::string, JobDecision>> decisions;
  std::vector<size_t> index;  // decisions[k] is updates[index[k]]
  for (size_t i = 0; i < updates.size(); ++i) {
    if (absl::Status valid = ValidateJobUpdate(*updates[i]); !valid.ok()) {
      outcomes[i] = valid;
      continue;
    }
    const v1::JobUpdate* update = updates[i];
    decisions.emplace_back(update->job_id(),
                           [&worker_id, update, &duplicate, i](
                               const JobRecord& record) -> absl::StatusOr<JobMutation> {
                             ASSIGN_OR_RETURN(ReportDecision d,
                                              DecideUpdate(worker_id, *update, record));
                             duplicate[i] = d.duplicate;
                             return std::move(d.mutation);
                           });
    index.push_back(i);
  }
  std::vector<absl::StatusOr<JobChange>> changes = UpdateManyAndPublish(decisions);
  for (size_t k = 0; k < changes.size(); ++k) {
    const size_t i = index[k];
    if (!changes[k].ok()) {
      outcomes[i] = changes[k].status();
    } else {
      outcomes[i] = ReportOutcome{std::move(changes[k]->job), duplicate[i]};
    }
  }
  return outcomes;
}

std::vector<absl::StatusOr<JobChange>> JobManager::UpdateManyAndPublish(
    absl::Span<const std::pair<std::string, JobDecision>> updates) {
  // Every involved job's lock, in stripe order (no deadlock between two batches), so
  // watchers see each job's events in commit order.
  std::vector<size_t> stripes;
  for (const auto& update : updates) stripes.push_back(StripeOf(update.first));
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  for (size_t stripe : stripes) job_locks_[stripe].Lock();
  std::vector<absl::StatusOr<JobChange>> changes = store_->UpdateJobs(updates, clock_->Now());
  for (const absl::StatusOr<JobChange>& change : changes) {
    if (change.ok() && change->event) bus_->Publish(*change->event, change->job);
  }
  for (auto it = stripes.rbegin(); it != stripes.rend(); ++it) job_locks_[*it].Unlock();
  return changes;
}

absl::StatusOr<v1::Job> JobManager::ReleaseJob(const std::string& job_id, const Release& release) {
  return UpdateAndPublish(job_id, [&](const JobRecord& record) {
    return DecideRelease(release, record);
  });
}

void JobManager::NoteMessages(
    absl::Span<const std::pair<std::string, std::string>> job_and_message) {
  std::vector<std::pair<std::string, JobDecision>> updates;
  updates.reserve(job_and_message.size());
  for (const auto& [job_id, message] : job_and_message) {
    updates.emplace_back(job_id, [&message = message](const JobRecord& record) {
      JobMutation m;
      if (record.job.message() != message) m.message = message;
      return absl::StatusOr<JobMutation>(std::move(m));
    });
  }
  UpdateManyAndPublish(updates);  // a job that moved on meanwhile is simply skipped
}

absl::StatusOr<int> JobManager::RecordMeasurements(absl::Span<const v1::Measurement> measurements) {
  return store_->AppendMeasurements(measurements);
}

absl::StatusOr<std::vector<v1::Measurement>> JobManager::MeasurementPage(
    const v1::ListMeasurementsRequest& request, MeasurementCursor after, int limit) {
  RETURN_IF_ERROR(ParseJobId(request.job_id()).status());
  return store_->ReadMeasurements(request.job_id(), request.attempt(), after, limit);
}

}  // namespace ionloop::orchestrator
