#include "orchestrator/scheduler/scheduler.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/job_enums.h"
#include "common/proto_time.h"
#include "orchestrator/scheduler/capability_match.h"
#include "orchestrator/scheduler/scheduling_policy.h"
#include "spdlog/spdlog.h"

namespace ionloop::orchestrator::scheduler {
namespace {

constexpr size_t kMaxWorkerIdBytes = 128;

absl::Status ValidateHello(const v1::Hello& hello) {
  const std::string& id = hello.worker_id();
  if (id.empty() || id.size() > kMaxWorkerIdBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "hello.worker_id: must be 1..", kMaxWorkerIdBytes, " characters, got ", id.size()));
  }
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' &&
        c != ':' && c != '-') {
      return absl::InvalidArgumentError(
          absl::StrCat("hello.worker_id: '", absl::CEscape(id),
                       "' may only hold letters, digits and _ . : -"));
    }
  }
  const v1::Capabilities& caps = hello.capabilities();
  if (caps.kind() == v1::JOB_KIND_UNSPECIFIED || !v1::JobKind_IsValid(caps.kind())) {
    return absl::InvalidArgumentError(absl::StrCat("hello.capabilities.kind: must be set, got ",
                                                   static_cast<int>(caps.kind())));
  }
  if (RunsInOrchestrator(caps.kind())) {
    return absl::InvalidArgumentError(absl::StrCat("hello.capabilities.kind: ",
                                                   KindName(caps.kind()),
                                                   " jobs run inside ionloopd, not on workers"));
  }
  if (caps.channels() < 1 || caps.channels() > 10'000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "hello.capabilities.channels: must be within 1..10000, got ", caps.channels()));
  }
  return absl::OkStatus();
}

v1::OrchestratorMessage AckOf(const std::string& job_id, uint32_t attempt, uint64_t seq) {
  v1::OrchestratorMessage message;
  v1::Ack* ack = message.mutable_ack();
  ack->set_job_id(job_id);
  ack->set_attempt(attempt);
  ack->set_seq(seq);
  return message;
}

v1::OrchestratorMessage ErrorOf(const std::string& job_id, uint32_t attempt, uint64_t seq,
                                const absl::Status& status) {
  v1::OrchestratorMessage message;
  v1::ProtocolError* error = message.mutable_error();
  error->set_job_id(job_id);
  error->set_attempt(attempt);
  error->set_seq(seq);
  error->set_code(static_cast<int32_t>(status.code()));
  error->set_message(std::string(status.message()));
  return message;
}

v1::OrchestratorMessage CancelOf(const std::string& job_id, uint32_t attempt,
                                 const std::string& reason) {
  v1::OrchestratorMessage message;
  v1::Cancel* cancel = message.mutable_cancel();
  cancel->set_job_id(job_id);
  cancel->set_attempt(attempt);
  cancel->set_reason(reason);
  return message;
}

uint32_t Millis(absl::Duration d) { return static_cast<uint32_t>(absl::ToInt64Milliseconds(d)); }

}  // namespace

absl::Duration RetryBackoff(const SchedulerConfig& config, uint32_t attempt) {
  absl::Duration wait = config.backoff_base;
  for (uint32_t i = 1; i < attempt && wait < config.backoff_max; ++i) wait *= 2;
  return std::min(wait, config.backoff_max);
}

Scheduler::Scheduler(JobManager* jobs, const Clock* clock, SchedulerConfig config)
    : jobs_(jobs), clock_(clock), config_(config) {}

Scheduler::~Scheduler() { Stop(); }

absl::Status Scheduler::Recover() {
  absl::StatusOr<std::vector<JobRecord>> held = jobs_->store()->ListHeldJobs();
  if (!held.ok()) return held.status();
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  for (const JobRecord& record : *held) {
    const v1::Job& job = record.job;
    Session& session = sessions_[job.worker_id()];
    if (session.worker_id.empty()) {
      session.worker_id = job.worker_id();
      session.last_seen = now;
      session.disconnected_at = now;
    }
    HeldJob& h = session.jobs[job.id()];
    h.attempt = job.attempt();
    h.campaign_id = job.spec().campaign_id();
    h.pinned = IsPinned(job.spec());
    if (job.cancel_requested()) {
      h.cancel_sent_at = now;  // the timeout runs; re-sent when the worker returns
      h.cancel_reason = job.cancel_reason();
    }
    holder_of_[job.id()] = job.worker_id();
  }
  if (!held->empty()) {
    spdlog::info("scheduler: {} held job(s) wait up to {} for their workers", held->size(),
                 absl::FormatDuration(config_.grace));
  }
  return absl::OkStatus();
}

void Scheduler::Start() {
  absl::MutexLock lock(&mu_);
  if (loop_.joinable()) return;
  stopping_ = false;
  loop_ = std::thread([this] { RunLoop(); });
}

void Scheduler::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    wake_ = true;
  }
  if (loop_.joinable()) loop_.join();
}

void Scheduler::RunLoop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(
                               +[](bool* flag) { return *flag; }, &wake_),
                           config_.tick);
      if (stopping_) return;
      wake_ = false;
    }
    Tick();
  }
}

void Scheduler::Wake() { wake_ = true; }

absl::Status Scheduler::Connect(const v1::Hello& hello, std::shared_ptr<WorkerChannel> channel) {
  if (absl::Status s = ValidateHello(hello); !s.ok()) return s;
  const std::string& id = hello.worker_id();
  absl::flat_hash_map<std::string, HeldJob> previously_held;
  {
    absl::MutexLock lock(&mu_);
    Session& session = sessions_[id];
    if (session.channel != nullptr || session.connecting) {
      return absl::AlreadyExistsError(absl::StrCat(
          "worker '", id, "' is already connected (since ",
          absl::FormatTime(session.connected_at), "); one stream per worker id"));
    }
    session.worker_id = id;
    session.connecting = true;
    previously_held = session.jobs;
  }

  // Outside the lock: which reported jobs are still this worker's, from the store.
  v1::Welcome welcome;
  welcome.set_heartbeat_interval_ms(Millis(config_.heartbeat_interval));
  welcome.set_lease_ms(Millis(config_.lease));
  welcome.set_grace_ms(Millis(config_.grace));
  absl::flat_hash_map<std::string, HeldJob> kept;
  std::vector<v1::OrchestratorMessage> cancels;
  for (const v1::RunningJob& running : hello.running_jobs()) {
    absl::StatusOr<JobRecord> record = jobs_->store()->GetJobRecord(running.job_id());
    const bool ours = record.ok() && record->job.worker_id() == id &&
                      record->job.attempt() == running.attempt() &&
                      !IsTerminal(record->job.state());
    if (!ours) {
      cancels.push_back(CancelOf(running.job_id(), running.attempt(), "not_assigned"));
      continue;
    }
    *welcome.add_reattached() = AckOf(running.job_id(), running.attempt(), record->update_seq).ack();
    HeldJob h;
    auto it = previously_held.find(running.job_id());
    if (it != previously_held.end()) h = it->second;
    h.attempt = running.attempt();
    h.campaign_id = record->job.spec().campaign_id();
    h.pinned = IsPinned(record->job.spec());
    if (record->job.cancel_requested()) {
      h.cancel_reason = record->job.cancel_reason();
      h.cancel_sent_at = clock_->Now();
      cancels.push_back(CancelOf(running.job_id(), running.attempt(), h.cancel_reason));
    }
    kept[running.job_id()] = h;
  }
  // Jobs it held but no longer reports: it restarted without them.
  for (const auto& [job_id, held] : previously_held) {
    if (!kept.contains(job_id)) {
      ReleaseLostJob(id, job_id, held, "its worker came back without it");
    }
  }

  const absl::Time now = clock_->Now();
  {
    absl::MutexLock lock(&mu_);
    Session& session = sessions_[id];
    session.connecting = false;
    // Welcome first: once `channel` is set, Dispatch may send Assigns on it.
    v1::OrchestratorMessage first;
    *first.mutable_welcome() = welcome;
    channel->Send(first);
    session.channel = channel;
    if (!session.capabilities_known ||
        session.capabilities.SerializeAsString() != hello.capabilities().SerializeAsString()) {
      ++workers_version_;
    }
    session.capabilities = hello.capabilities();
    session.capabilities_known = true;
    session.software = hello.software();
    session.connected_at = now;
    session.last_seen = now;
    session.disconnected_at = absl::InfinitePast();
    session.gone = false;
    for (const auto& [job_id, held] : previously_held) {
      if (!kept.contains(job_id) && holder_of_[job_id] == id) holder_of_.erase(job_id);
    }
    session.jobs = std::move(kept);
    for (const auto& [job_id, held] : session.jobs) holder_of_[job_id] = id;
    Wake();
  }
  spdlog::info("worker {} connected ({} {} channel(s), {} job(s) re-attached)", id,
               KindName(hello.capabilities().kind()), hello.capabilities().channels(),
               welcome.reattached_size());
  for (const v1::OrchestratorMessage& cancel : cancels) channel->Send(cancel);
  return absl::OkStatus();
}

void Scheduler::Disconnect(const std::string& worker_id, const WorkerChannel* channel) {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(worker_id);
  if (it == sessions_.end() || it->second.channel.get() != channel) return;
  it->second.channel = nullptr;
  it->second.disconnected_at = clock_->Now();
  spdlog::info("worker {} disconnected; its {} job(s) wait {}", worker_id,
               it->second.jobs.size(), absl::FormatDuration(config_.grace));
}

void Scheduler::Heartbeat(const std::string& worker_id) {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(worker_id);
  if (it != sessions_.end()) it->second.last_seen = clock_->Now();
}

v1::OrchestratorMessage Scheduler::HandleUpdate(const std::string& worker_id,
                                                const v1::JobUpdate& update) {
  const v1::JobUpdate* one[] = {&update};
  return HandleUpdates(worker_id, one).front();
}

std::vector<v1::OrchestratorMessage> Scheduler::HandleUpdates(
    const std::string& worker_id, absl::Span<const v1::JobUpdate* const> updates) {
  Heartbeat(worker_id);  // any message renews the lease
  std::vector<absl::StatusOr<JobManager::ReportOutcome>> applied =
      jobs_->ApplyUpdates(worker_id, updates);
  std::vector<v1::OrchestratorMessage> answers;
  answers.reserve(updates.size());
  for (size_t i = 0; i < updates.size(); ++i) {
    const v1::JobUpdate& u = *updates[i];
    answers.push_back(applied[i].ok() ? AckOf(u.job_id(), u.attempt(), u.seq())
                                      : ErrorOf(u.job_id(), u.attempt(), u.seq(),
                                                applied[i].status()));
  }
  return answers;
}

v1::OrchestratorMessage Scheduler::HandleResult(const std::string& worker_id,
                                                const v1::JobResult& result) {
  Heartbeat(worker_id);
  absl::StatusOr<JobManager::ReportOutcome> applied = jobs_->ApplyResult(worker_id, result);
  if (!applied.ok()) {
    return ErrorOf(result.job_id(), result.attempt(), result.seq(), applied.status());
  }
  {
    absl::MutexLock lock(&mu_);
    auto it = sessions_.find(worker_id);
    if (it != sessions_.end()) it->second.jobs.erase(result.job_id());
    auto holder = holder_of_.find(result.job_id());
    if (holder != holder_of_.end() && holder->second == worker_id) holder_of_.erase(holder);
    Wake();  // a channel is free
  }
  return AckOf(result.job_id(), result.attempt(), result.seq());
}

void Scheduler::OnJobEvent(const v1::JobEvent& event, const v1::Job& job) {
  absl::MutexLock lock(&mu_);
  if (event.type() == v1::JOB_EVENT_TYPE_CANCEL_REQUESTED) {
    auto holder = holder_of_.find(job.id());
    if (holder == holder_of_.end()) return;
    Session& session = sessions_[holder->second];
    auto held = session.jobs.find(job.id());
    if (held == session.jobs.end()) return;
    held->second.cancel_reason = job.cancel_reason();
    held->second.cancel_sent_at = clock_->Now();
    if (session.channel != nullptr) {
      session.channel->Send(CancelOf(job.id(), held->second.attempt, job.cancel_reason()));
    }
    return;
  }
  if (event.type() != v1::JOB_EVENT_TYPE_STATE_CHANGED) return;
  if (event.state() == v1::JOB_STATE_QUEUED || event.state() == v1::JOB_STATE_RETRYING) {
    queue_changed_ = true;
    Wake();
  } else if (IsTerminal(event.state())) {
    // Ended by anyone (a result, a cancel timeout, a release): the channel is free.
    auto holder = holder_of_.find(job.id());
    if (holder != holder_of_.end()) {
      auto session = sessions_.find(holder->second);
      if (session != sessions_.end()) session->second.jobs.erase(job.id());
      holder_of_.erase(holder);
    }
    Wake();
  }
}

void Scheduler::Tick() {
  absl::MutexLock tick_lock(&tick_mu_);
  ExpireLeasesAndGraces();
  ExpireCancels();
  Dispatch();
}

void Scheduler::ExpireLeasesAndGraces() {
  const absl::Time now = clock_->Now();
  std::vector<std::shared_ptr<WorkerChannel>> to_close;
  std::vector<Expired> expired;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, session] : sessions_) {
      if (session.channel != nullptr && now - session.last_seen > config_.lease) {
        // Silent past its lease: treat as gone from the stream; the grace starts.
        to_close.push_back(std::move(session.channel));
        session.channel = nullptr;
        session.disconnected_at = now;
        spdlog::warn("worker {} silent for {}: lease expired", id,
                     absl::FormatDuration(now - session.last_seen));
      }
      if (session.channel == nullptr && !session.connecting && !session.jobs.empty() &&
          now - session.disconnected_at > config_.grace) {
        Expired e;
        e.worker_id = id;
        e.jobs.assign(session.jobs.begin(), session.jobs.end());
        for (const auto& [job_id, held] : session.jobs) holder_of_.erase(job_id);
        session.jobs.clear();
        session.gone = true;
        expired.push_back(std::move(e));
      }
    }
  }
  for (auto& channel : to_close) {
    channel->Close(absl::UnavailableError("lease expired: no heartbeat"));
  }
  for (const Expired& e : expired) {
    for (const auto& [job_id, held] : e.jobs) {
      ReleaseLostJob(e.worker_id, job_id, held,
                     absl::StrCat("worker ", e.worker_id, " silent past its grace period"));
    }
  }
}

void Scheduler::ReleaseLostJob(const std::string& worker_id, const std::string& job_id,
                               const HeldJob& held, const std::string& why) {
  Release release;
  release.worker_id = worker_id;
  release.attempt = held.attempt;
  if (held.cancel_sent_at != absl::InfiniteFuture()) {
    release.to = v1::JOB_STATE_CANCELLED;
    release.message = absl::StrCat("cancelled (", held.cancel_reason, "): ", why);
  } else if (held.pinned) {
    release.to = v1::JOB_STATE_LOST;
    release.message = absl::StrCat(why, "; the cell cannot move, its data is kept");
  } else if (static_cast<int>(held.attempt) >= config_.max_attempts) {
    release.to = v1::JOB_STATE_FAILED;
    release.message =
        absl::StrCat(why, "; attempt ", held.attempt, " of ", config_.max_attempts, ": giving up");
  } else {
    release.to = v1::JOB_STATE_RETRYING;
    const absl::Duration wait = RetryBackoff(config_, held.attempt);
    release.not_before = clock_->Now() + wait;
    release.message = absl::StrCat(why, "; retrying from its last checkpoint in ",
                                   absl::FormatDuration(wait));
  }
  absl::StatusOr<v1::Job> released = jobs_->ReleaseJob(job_id, release);
  if (released.ok()) {
    spdlog::warn("{}: {} ({})", job_id, StateName(released->state()), release.message);
  } else {
    spdlog::info("{}: not released: {}", job_id, released.status().ToString());
  }
}

void Scheduler::ExpireCancels() {
  const absl::Time now = clock_->Now();
  std::vector<std::pair<std::string, Release>> overdue;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, session] : sessions_) {
      for (const auto& [job_id, held] : session.jobs) {
        if (now - held.cancel_sent_at > config_.cancel_timeout) {
          Release r;
          r.worker_id = id;
          r.attempt = held.attempt;
          r.to = v1::JOB_STATE_CANCELLED;
          r.message = absl::StrCat("cancelled (", held.cancel_reason, "): worker ", id,
                                   " did not confirm within ",
                                   absl::FormatDuration(config_.cancel_timeout));
          overdue.emplace_back(job_id, std::move(r));
        }
      }
    }
  }
  for (const auto& [job_id, release] : overdue) {
    absl::StatusOr<v1::Job> released = jobs_->ReleaseJob(job_id, release);
    if (!released.ok()) spdlog::info("{}: {}", job_id, released.status().ToString());
  }
}

void Scheduler::Dispatch() {
  // Snapshot the free channels and every known capability.
  std::vector<std::string> worker_ids;
  std::vector<v1::Capabilities> capabilities;
  std::vector<int> free_slots;
  std::vector<std::string> known_ids;
  std::vector<v1::Capabilities> known_capabilities;
  absl::flat_hash_map<std::string, int> running_per_campaign;
  bool queue_changed = false;
  bool recheck_all = false;  // capabilities changed: every waiting job's reason may have
  int64_t noted_up_to = 0;
  {
    absl::MutexLock lock(&mu_);
    recheck_all = workers_version_ != noted_version_;
    queue_changed = queue_changed_ || recheck_all;
    queue_changed_ = false;
    noted_version_ = workers_version_;
    noted_up_to = recheck_all ? 0 : noted_up_to_order_;
    for (const auto& [id, session] : sessions_) {
      for (const auto& [job_id, held] : session.jobs) ++running_per_campaign[held.campaign_id];
      if (!session.capabilities_known) continue;
      known_ids.push_back(id);
      known_capabilities.push_back(session.capabilities);
      const int free = static_cast<int>(session.capabilities.channels()) -
                       static_cast<int>(session.jobs.size());
      if (session.channel != nullptr && free > 0) {
        worker_ids.push_back(id);
        capabilities.push_back(session.capabilities);
        free_slots.push_back(free);
      }
    }
  }
  // Reading the queue costs; skip it when nothing could come of it. Only jobs of kinds
  // a free channel serves can be assigned, so only those are read for assignment (jobs
  // no free worker can take never crowd them out of the window); the whole queue is
  // read only when jobs or capabilities changed, to say why a job waits.
  if (worker_ids.empty() && !queue_changed) return;
  std::vector<v1::JobKind> free_kinds;
  for (const v1::Capabilities& c : capabilities) {
    if (std::find(free_kinds.begin(), free_kinds.end(), c.kind()) == free_kinds.end()) {
      free_kinds.push_back(c.kind());
    }
  }
  absl::StatusOr<std::vector<JobRecord>> queue =
      free_kinds.empty() ? std::vector<JobRecord>()
                         : jobs_->store()->ListSchedulableJobs(config_.queue_window, free_kinds);
  if (!queue.ok()) {
    spdlog::error("scheduler: cannot read the queue: {}", queue.status().ToString());
    return;
  }

  std::vector<QueuedJob> queued;
  queued.reserve(queue->size());
  for (const JobRecord& record : *queue) {
    QueuedJob q;
    q.job_id = record.job.id();
    q.order = record.order;
    q.priority = record.job.spec().priority();
    q.campaign_id = record.job.spec().campaign_id();
    q.spec = &record.job.spec();
    q.not_before = record.not_before;
    queued.push_back(std::move(q));
  }
  std::vector<WorkerSlots> slots(worker_ids.size());
  for (size_t i = 0; i < worker_ids.size(); ++i) {
    slots[i] = WorkerSlots{worker_ids[i], &capabilities[i], free_slots[i]};
  }
  const absl::Time now = clock_->Now();
  std::vector<Assignment> assignments = Schedule(queued, slots, running_per_campaign, now);

  if (!assignments.empty()) {
    std::vector<std::pair<std::string, std::string>> pairs;
    pairs.reserve(assignments.size());
    for (const Assignment& a : assignments) pairs.emplace_back(a.job_id, a.worker_id);
    std::vector<absl::StatusOr<JobManager::AssignedJob>> assigned = jobs_->Assign(pairs);
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < assigned.size(); ++i) {
      if (!assigned[i].ok()) continue;  // cancelled or taken meanwhile
      const v1::Job& job = assigned[i]->job;
      Session& session = sessions_[pairs[i].second];
      HeldJob& held = session.jobs[job.id()];
      held.attempt = job.attempt();
      held.campaign_id = job.spec().campaign_id();
      held.pinned = IsPinned(job.spec());
      holder_of_[job.id()] = session.worker_id;
      if (session.channel == nullptr) continue;  // it left meanwhile: its grace applies
      v1::OrchestratorMessage message;
      v1::Assign* assign = message.mutable_assign();
      assign->set_job_id(job.id());
      assign->set_attempt(job.attempt());
      *assign->mutable_spec() = job.spec();
      *assign->mutable_lease_until() = ToProtoTime(now + config_.lease);
      assign->set_checkpoint(std::move(assigned[i]->checkpoint));
      session.channel->Send(message);
    }
  }

  // Say why a job waits when no known worker could ever run it: for jobs queued since
  // the last round, or for all of them when the capabilities changed.
  // With no worker registered at all there is nothing to say beyond `ionloop workers`
  // (and no write per submitted job); the first Hello changes the capabilities and
  // every waiting job is looked at then.
  if (!queue_changed || known_capabilities.empty()) return;
  queue = jobs_->store()->ListSchedulableJobs(config_.queue_window, {}, noted_up_to);
  if (!queue.ok()) return;
  absl::flat_hash_set<std::string> just_assigned;
  for (const Assignment& a : assignments) just_assigned.insert(a.job_id);
  std::vector<const v1::Capabilities*> known;
  for (const v1::Capabilities& c : known_capabilities) known.push_back(&c);
  std::vector<std::pair<std::string, std::string>> notes;
  {
    absl::MutexLock lock(&mu_);
    for (const JobRecord& record : *queue) {
      noted_up_to_order_ = std::max(noted_up_to_order_, record.order);
      if (just_assigned.contains(record.job.id())) continue;
      if (RunsInOrchestrator(record.job.kind())) continue;  // the model trainer's
      std::string why = WhyUnschedulable(record.job.spec(), known, known_ids);
      if (why.empty() && record.job.message().rfind("no registered worker", 0) == 0) {
        why = "queued";  // it was unschedulable; a capable worker is known now
      }
      if (!why.empty()) notes.emplace_back(record.job.id(), std::move(why));
    }
  }
  if (!notes.empty()) jobs_->NoteMessages(notes);
}

std::vector<v1::WorkerInfo> Scheduler::ListWorkers() const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::WorkerInfo> workers;
  for (const auto& [id, session] : sessions_) {
    v1::WorkerInfo& info = workers.emplace_back();
    info.set_worker_id(id);
    *info.mutable_capabilities() = session.capabilities;
    info.set_state(session.channel != nullptr ? v1::WORKER_STATE_CONNECTED
                   : session.gone             ? v1::WORKER_STATE_GONE
                                              : v1::WORKER_STATE_DISCONNECTED);
    for (const auto& [job_id, held] : session.jobs) info.add_running_job_ids(job_id);
    std::sort(info.mutable_running_job_ids()->begin(), info.mutable_running_job_ids()->end());
    if (session.last_seen != absl::InfinitePast()) {
      *info.mutable_last_seen() = ToProtoTime(session.last_seen);
    }
    if (session.connected_at != absl::InfinitePast()) {
      *info.mutable_connected_at() = ToProtoTime(session.connected_at);
    }
    info.set_software(session.software);
  }
  std::sort(workers.begin(), workers.end(),
            [](const v1::WorkerInfo& a, const v1::WorkerInfo& b) {
              return a.worker_id() < b.worker_id();
            });
  return workers;
}

}  // namespace ionloop::orchestrator::scheduler
