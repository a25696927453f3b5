#include "orchestrator/jobs/job_manager.h"

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
  return UpdateAndPublish(request.job_id(), [&](const v1::Job& job) -> absl::StatusOr<JobMutation> {
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
  return UpdateAndPublish(job_id, [&](const v1::Job& job) -> absl::StatusOr<JobMutation> {
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

absl::StatusOr<v1::Job> JobManager::UpdateAndPublish(absl::string_view job_id,
                                                     const JobDecision& decide) {
  absl::MutexLock lock(&JobLock(job_id));
  ASSIGN_OR_RETURN(JobChange change, store_->UpdateJob(job_id, decide, clock_->Now()));
  if (change.event) bus_->Publish(*change.event, change.job);
  return std::move(change.job);
}

absl::Mutex& JobManager::JobLock(absl::string_view job_id) {
  return job_locks_[absl::Hash<absl::string_view>()(job_id) % kJobLockStripes];
}

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

absl::StatusOr<int> JobManager::RecordMeasurements(absl::Span<const v1::Measurement> measurements) {
  return store_->AppendMeasurements(measurements);
}

absl::StatusOr<std::vector<v1::Measurement>> JobManager::MeasurementPage(
    const v1::ListMeasurementsRequest& request, MeasurementCursor after, int limit) {
  RETURN_IF_ERROR(ParseJobId(request.job_id()).status());
  return store_->ReadMeasurements(request.job_id(), request.attempt(), after, limit);
}

}  // namespace ionloop::orchestrator
