#include "workers/runtime/worker_runtime.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/job_enums.h"
#include "common/proto_time.h"
#include "ionloop/v1/workers.grpc.pb.h"
#include "spdlog/spdlog.h"

namespace ionloop::worker {
namespace {

using Stream = grpc::ClientReaderWriter<v1::WorkerMessage, v1::OrchestratorMessage>;

constexpr int kMaxMessageBytes = 64 << 20;  // an Assign may carry a 4 MiB checkpoint

bool ValidWorkerId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == ':' || c == '-';
  });
}

std::string OutcomeName(v1::JobOutcome outcome) {
  std::string name = v1::JobOutcome_Name(outcome);
  constexpr absl::string_view kPrefix = "JOB_OUTCOME_";
  if (absl::string_view(name).substr(0, kPrefix.size()) == kPrefix) name.erase(0, kPrefix.size());
  return name;
}

int64_t Millis(absl::Duration d) { return absl::ToInt64Milliseconds(d); }

// How strongly an attempt was stopped; a later stop only ever strengthens it.
enum class StopKind {
  kNone = 0,
  kCancel = 1,    // Cancel from the orchestrator: the handler ends, a result follows
  kShutdown = 2,  // the worker stops: no result, resumable after a restart
  kOrphan = 3,    // not re-attached: no more records; the spooled ones are resent
  kDiscard = 4,   // not ours / refused: no more records, the spool forgets it
};

}  // namespace

absl::Status ValidateWorkerOptions(const WorkerOptions& o) {
  if (o.server.empty()) return absl::InvalidArgumentError("server: must be host:port, got ''");
  if (!ValidWorkerId(o.worker_id)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "worker_id: must match [A-Za-z0-9_.:-]{1,128}, got '", o.worker_id, "'"));
  }
  if (o.capabilities.channels() < 1 || o.capabilities.channels() > 10'000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "capabilities.channels: must be within 1..10000, got ", o.capabilities.channels()));
  }
  if (o.capabilities.kind() == v1::JOB_KIND_UNSPECIFIED) {
    return absl::InvalidArgumentError("capabilities.kind: must be set");
  }
  if (o.spool_dir.empty()) return absl::InvalidArgumentError("spool_dir: must not be empty");
  if (o.max_unacked_updates_per_job < 1) {
    return absl::InvalidArgumentError("max_unacked_updates_per_job: must be ≥ 1, got 0");
  }
  if (o.max_unacked_bytes_per_job < 1) {
    return absl::InvalidArgumentError("max_unacked_bytes_per_job: must be ≥ 1, got 0");
  }
  if (o.welcome_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("welcome_timeout: must be > 0");
  }
  return absl::OkStatus();
}

class JobRun;

// One stream: Hello, Welcome, then traffic until it breaks. Its flags are guarded by
// Impl::wake_mu_.
struct Session {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<Stream> stream;
  v1::WorkerMessage hello;
  absl::Time started;
  bool welcomed = false;
  bool ending = false;           // the reader saw the end: the writer stops
  bool close_requested = false;  // graceful stop: the writer half-closes
  bool welcome_timed_out = false;
  absl::Duration heartbeat = absl::Seconds(5);
  // Reader thread only: a refusal asked to reconnect and resend; later refusals on this
  // stream are its echoes.
  bool resyncing = false;
};

enum class SessionEnd {
  kNotWelcomed,  // could not connect, or refused before Welcome
  kLost,         // welcomed, then the stream ended
  kResync,       // we ended it to resend from the committed seq (keeps the backoff)
};

struct WorkerRuntime::Impl {
  Impl(WorkerOptions o, HandlerRegistry h, const Clock* c, std::unique_ptr<Spool> s)
      : options(std::move(o)), handlers(std::move(h)), clock(c), spool(std::move(s)) {}

  void Start();
  void Stop(absl::Duration grace);

  // Connection.
  void ConnectionLoop();
  SessionEnd RunSession();
  void WriterLoop(const std::shared_ptr<Session>& session);
  v1::WorkerMessage BuildHello(std::vector<JobKey>* reported);
  void HandleWelcome(Session& session, const v1::Welcome& welcome,
                     const std::vector<JobKey>& reported);
  void HandleAssign(const v1::Assign& assign);
  void HandleCancel(const v1::Cancel& cancel);
  void HandleAck(const v1::Ack& ack);
  void HandleProtocolError(Session& session, const v1::ProtocolError& error);
  void WakeWriter();

  // Jobs.
  void Refuse(const v1::Assign& assign, const std::string& message);
  void ResumeRun(const JobKey& key, const SpoolJobState& state);
  void Orphan(const JobKey& key);
  void MaybeDropOrphan(const JobKey& key);
  void OnRunFinished(const JobKey& key);
  void MaintenanceLoop();

  const WorkerOptions options;
  const HandlerRegistry handlers;
  const Clock* const clock;

  mutable absl::Mutex mu;
  mutable absl::CondVar cv;  // state changes: acks, connection, stop, finished runs
  std::map<JobKey, std::shared_ptr<JobRun>> runs ABSL_GUARDED_BY(mu);
  std::vector<std::shared_ptr<JobRun>> finished ABSL_GUARDED_BY(mu);  // to join
  std::set<JobKey> orphans ABSL_GUARDED_BY(mu);
  std::shared_ptr<Session> session ABSL_GUARDED_BY(mu);
  bool started ABSL_GUARDED_BY(mu) = false;
  bool stopping ABSL_GUARDED_BY(mu) = false;
  bool stopped ABSL_GUARDED_BY(mu) = false;
  bool stop_connecting ABSL_GUARDED_BY(mu) = false;
  bool connection_done ABSL_GUARDED_BY(mu) = false;
  bool maintenance_stop ABSL_GUARDED_BY(mu) = false;
  bool connected ABSL_GUARDED_BY(mu) = false;
  uint64_t sessions ABSL_GUARDED_BY(mu) = 0;

  absl::Mutex wake_mu;  // the writer's wake-ups and the session flags
  absl::CondVar wake_cv;
  uint64_t wake_gen ABSL_GUARDED_BY(wake_mu) = 0;

  std::thread connection_thread;
  std::thread maintenance_thread;

  // Last: destroyed first, so its syncer (which calls WakeWriter) stops before the rest.
  std::unique_ptr<Spool> spool;
};

// ---------------------------------------------------------------------------------
// JobRun: one attempt on its own thread; the JobContext its handler sees.

class JobRun final : public JobContext {
 public:
  JobRun(WorkerRuntime::Impl* rt, JobKey key, v1::Assign assign, std::string checkpoint,
         uint64_t resume_after, std::unique_ptr<JobHandler> handler)
      : rt_(rt),
        key_(std::move(key)),
        assign_(std::move(assign)),
        checkpoint_(std::move(checkpoint)),
        resume_after_(resume_after),
        handler_(std::move(handler)),
        batcher_(rt->options.batch),
        last_measurement_seq_(resume_after) {}

  ~JobRun() override { Join(); }

  const v1::JobSpec& spec() const override { return assign_.spec(); }
  const std::string& job_id() const override { return key_.job_id; }
  uint32_t attempt() const override { return key_.attempt; }
  const std::string& checkpoint() const override { return checkpoint_; }
  uint64_t resume_after_measurement_seq() const override { return resume_after_; }
  bool cancelled() const override { return cancelled_.load(std::memory_order_acquire); }
  std::string cancel_reason() const override {
    absl::MutexLock lock(&mu_);
    return reason_;
  }

  absl::Status Emit(std::vector<v1::Measurement> measurements, double progress,
                    std::string checkpoint) override;
  absl::Status Flush() override;
  bool SleepFor(absl::Duration d) override;

  const JobKey& key() const { return key_; }
  void Start() {
    thread_ = std::thread([this] { Main(); });
  }
  void Stop(StopKind kind, const std::string& reason);
  void NotifyAcked() {
    absl::MutexLock lock(&mu_);
    cv_.SignalAll();
  }
  // Spools what waited `linger` for its update to fill, unless the job is at its limit
  // of unacknowledged updates.
  void LingerFlush(absl::Time now);
  void Join() {
    std::lock_guard<std::mutex> lock(join_mu_);
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  }

 private:
  void Main();
  bool GoneLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ >= StopKind::kOrphan; }
  absl::Status GoneError() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return absl::FailedPreconditionError(
        absl::StrCat(key_.ToString(), " is no longer this worker's: ", reason_));
  }
  bool HasRoomLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (GoneLocked() || stop_ == StopKind::kShutdown) return true;
    const Spool::Backlog backlog = rt_->spool->UnackedBacklog(key_);
    return backlog.updates == 0 ||
           (backlog.updates < rt_->options.max_unacked_updates_per_job &&
            backlog.bytes < rt_->options.max_unacked_bytes_per_job);
  }
  // Spools `update`, first waiting for room when `wait_for_room`. Caller set appending_.
  absl::Status AppendLocked(v1::JobUpdate update, bool wait_for_room)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status FlushPendingLocked(bool wait_for_room) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  WorkerRuntime::Impl* const rt_;
  const JobKey key_;
  const v1::Assign assign_;
  const std::string checkpoint_;
  const uint64_t resume_after_;
  std::unique_ptr<JobHandler> handler_;

  mutable absl::Mutex mu_;
  absl::CondVar cv_;  // acks (room), cancellation, appending_ released
  UpdateBatcher batcher_ ABSL_GUARDED_BY(mu_);
  uint64_t last_measurement_seq_ ABSL_GUARDED_BY(mu_);
  absl::Time pending_since_ ABSL_GUARDED_BY(mu_);
  bool appending_ ABSL_GUARDED_BY(mu_) = false;  // one thread spools at a time, in order
  StopKind stop_ ABSL_GUARDED_BY(mu_) = StopKind::kNone;
  std::string reason_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> cancelled_{false};

  std::mutex join_mu_;
  std::thread thread_;
};

absl::Status JobRun::AppendLocked(v1::JobUpdate update, bool wait_for_room) {
  while (wait_for_room && !HasRoomLocked()) cv_.Wait(&mu_);
  if (GoneLocked()) return GoneError();
  update.set_job_id(key_.job_id);
  update.set_attempt(key_.attempt);
  v1::WorkerMessage message;
  *message.mutable_update() = std::move(update);
  absl::StatusOr<SpooledRecord> spooled = rt_->spool->Append(std::move(message));
  return spooled.status();
}

absl::Status JobRun::FlushPendingLocked(bool wait_for_room) {
  std::optional<v1::JobUpdate> update = batcher_.TakeAll();
  if (!update.has_value()) return absl::OkStatus();
  appending_ = true;
  absl::Status status = AppendLocked(std::move(*update), wait_for_room);
  appending_ = false;
  cv_.SignalAll();
  return status;
}

absl::Status JobRun::Emit(std::vector<v1::Measurement> measurements, double progress,
                          std::string checkpoint) {
  if (checkpoint.size() > kMaxCheckpointBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint: at most ", kMaxCheckpointBytes, " bytes, got ", checkpoint.size()));
  }
  if (!std::isfinite(progress)) progress = 0;
  progress = std::clamp(progress, 0.0, 1.0);
  absl::MutexLock lock(&mu_);
  while (appending_ && !GoneLocked()) cv_.Wait(&mu_);
  if (GoneLocked()) return GoneError();
  const absl::Time now = rt_->clock->Now();
  for (v1::Measurement& m : measurements) {
    m.set_job_id(key_.job_id);
    m.set_attempt(key_.attempt);
    m.set_seq(++last_measurement_seq_);
    if (!m.has_recorded_at()) *m.mutable_recorded_at() = ToProtoTime(now);
  }
  if (!batcher_.has_pending()) pending_since_ = now;
  std::vector<v1::JobUpdate> ready =
      batcher_.Add(std::move(measurements), progress, std::move(checkpoint));
  if (ready.empty()) return absl::OkStatus();
  appending_ = true;
  absl::Status status;
  for (v1::JobUpdate& update : ready) {
    status = AppendLocked(std::move(update), /*wait_for_room=*/true);
    if (!status.ok()) break;
  }
  appending_ = false;
  pending_since_ = now;
  cv_.SignalAll();
  return status;
}

absl::Status JobRun::Flush() {
  absl::MutexLock lock(&mu_);
  while (appending_ && !GoneLocked()) cv_.Wait(&mu_);
  if (GoneLocked()) return GoneError();
  return FlushPendingLocked(/*wait_for_room=*/true);
}

bool JobRun::SleepFor(absl::Duration d) {
  // What is queued goes out after the linger time (MaintenanceLoop), sleeping or not:
  // flushing here would cut one update per sample for a handler that samples every ms.
  const absl::Time deadline = absl::Now() + d;
  absl::MutexLock lock(&mu_);
  while (!cancelled() && absl::Now() < deadline) cv_.WaitWithDeadline(&mu_, deadline);
  return !cancelled();
}

void JobRun::LingerFlush(absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (appending_ || GoneLocked() || !batcher_.has_pending()) return;
  if (now - pending_since_ < rt_->options.linger || !HasRoomLocked()) return;
  absl::Status s = FlushPendingLocked(/*wait_for_room=*/false);
  if (!s.ok()) spdlog::warn("{}: cannot spool an update: {}", key_.ToString(), s.ToString());
}

void JobRun::Stop(StopKind kind, const std::string& reason) {
  absl::MutexLock lock(&mu_);
  if (kind <= stop_) return;
  stop_ = kind;
  reason_ = reason;
  cancelled_.store(true, std::memory_order_release);
  cv_.SignalAll();
}

void JobRun::Main() {
  {
    // An update at once (ASSIGNED → RUNNING on the orchestrator), unless the attempt
    // already sent some before a restart.
    absl::MutexLock lock(&mu_);
    std::optional<SpoolJobState> state = rt_->spool->Job(key_);
    if (state.has_value() && state->last_seq == 0 && !GoneLocked()) {
      v1::JobUpdate started;
      started.set_progress(0);
      appending_ = true;
      absl::Status s = AppendLocked(std::move(started), /*wait_for_room=*/false);
      appending_ = false;
      if (!s.ok()) spdlog::warn("{}: cannot spool its first update: {}", key_.ToString(), s.ToString());
    }
  }
  JobResultReport report;
  try {
    report = handler_->Run(*this);
  } catch (const std::exception& e) {
    report = JobResultReport::Failed(absl::StrCat("the handler threw: ", e.what()));
  } catch (...) {
    report = JobResultReport::Failed("the handler threw a non-standard exception");
  }
  {
    absl::MutexLock lock(&mu_);
    while (appending_ && !GoneLocked()) cv_.Wait(&mu_);  // helper threads of the handler
    if (!GoneLocked()) {
      absl::Status s = FlushPendingLocked(/*wait_for_room=*/stop_ != StopKind::kShutdown);
      if (!s.ok()) spdlog::warn("{}: cannot spool the last update: {}", key_.ToString(), s.ToString());
    }
    if (stop_ == StopKind::kShutdown) {
      spdlog::info("{}: stopped for shutdown; a restarted worker resumes it if re-attached",
                   key_.ToString());
    } else if (GoneLocked()) {
      spdlog::info("{}: stopped ({})", key_.ToString(), reason_);
    } else {
      // Normalize what the handler reported.
      if (report.outcome == v1::JOB_OUTCOME_UNSPECIFIED) {
        report = JobResultReport::Failed(
            absl::StrCat("the handler returned no outcome", report.message.empty() ? "" : ": ",
                         report.message));
      }
      if (stop_ == StopKind::kCancel && reason_ != kCancelEarlyStop &&
          report.outcome == v1::JOB_OUTCOME_SUCCEEDED) {
        report.outcome = v1::JOB_OUTCOME_CANCELLED;
        report.message = absl::StrCat("cancelled (", reason_, ")");
      }
      if (stop_ == StopKind::kCancel && reason_ == kCancelEarlyStop &&
          report.outcome != v1::JOB_OUTCOME_FAILED) {
        report.stopped_early = true;  // SUCCEEDED or CANCELLED: the job counts as SUCCEEDED
      }
      if (report.outcome == v1::JOB_OUTCOME_FAILED) report.stopped_early = false;

      v1::WorkerMessage message;
      v1::JobResult* result = message.mutable_result();
      result->set_job_id(key_.job_id);
      result->set_attempt(key_.attempt);
      result->set_outcome(report.outcome);
      result->set_message(report.message);
      result->set_stopped_early(report.stopped_early);
      for (const auto& [name, value] : report.summary) (*result->mutable_summary())[name] = value;
      absl::StatusOr<SpooledRecord> spooled = rt_->spool->Append(std::move(message));
      if (spooled.ok()) {
        spdlog::info("{}: {}{}{}", key_.ToString(), OutcomeName(report.outcome),
                     report.stopped_early ? " (stopped early)" : "",
                     report.message.empty() ? "" : absl::StrCat(": ", report.message));
      } else {
        spdlog::error("{}: cannot spool its result: {}", key_.ToString(),
                      spooled.status().ToString());
      }
    }
  }
  rt_->OnRunFinished(key_);
}

// ---------------------------------------------------------------------------------
// The runtime.

void WorkerRuntime::Impl::Start() {
  {
    absl::MutexLock lock(&mu);
    if (started || stopped) return;
    started = true;
  }
  spool->SetDurableListener([this] { WakeWriter(); });
  const std::vector<std::pair<JobKey, SpoolJobState>> jobs = spool->Jobs();
  spdlog::info("worker {} ({} jobs, {} channel(s)) → {}; spool {}: {} attempt(s) to report",
               options.worker_id, KindName(options.capabilities.kind()),
               options.capabilities.channels(), options.server, spool->path(), jobs.size());
  connection_thread = std::thread([this] { ConnectionLoop(); });
  maintenance_thread = std::thread([this] { MaintenanceLoop(); });
}

void WorkerRuntime::Impl::Stop(absl::Duration grace) {
  std::vector<std::shared_ptr<JobRun>> to_stop;
  {
    absl::MutexLock lock(&mu);
    if (stopped || stopping) return;
    stopping = true;
    for (const auto& [key, run] : runs) to_stop.push_back(run);
  }
  const absl::Time deadline = absl::Now() + grace;
  for (const auto& run : to_stop) run->Stop(StopKind::kShutdown, kStopShutdown);
  for (const auto& run : to_stop) run->Join();

  bool was_started = false;
  {
    absl::MutexLock lock(&mu);
    was_started = started;
    // Finish sending: wait (reconnecting meanwhile) until everything spooled is acked.
    while (started && spool->unacked_records() > 0 && absl::Now() < deadline) {
      cv.WaitWithDeadline(&mu, std::min(deadline, absl::Now() + absl::Milliseconds(100)));
    }
    if (spool->unacked_records() > 0 && started) {
      spdlog::warn("stopping with {} unacknowledged record(s) in the spool; they are resent "
                   "when the worker starts again", spool->unacked_records());
    }
    stop_connecting = true;
    cv.SignalAll();
  }
  if (was_started) {
    std::shared_ptr<Session> current;
    {
      absl::MutexLock lock(&mu);
      current = session;
    }
    if (current != nullptr) {
      absl::MutexLock lock(&wake_mu);
      current->close_requested = true;
      ++wake_gen;
      wake_cv.SignalAll();
    }
    {
      // The orchestrator ends the stream after our half-close; give it a moment.
      absl::MutexLock lock(&mu);
      const absl::Time close_deadline = absl::Now() + absl::Seconds(2);
      while (!connection_done && absl::Now() < close_deadline) {
        cv.WaitWithDeadline(&mu, close_deadline);
      }
      current = connection_done ? nullptr : session;
    }
    if (current != nullptr) current->context->TryCancel();
    if (connection_thread.joinable()) connection_thread.join();
    {
      absl::MutexLock lock(&mu);
      maintenance_stop = true;
      cv.SignalAll();
    }
    if (maintenance_thread.joinable()) maintenance_thread.join();
  }
  std::vector<std::shared_ptr<JobRun>> to_join;
  {
    absl::MutexLock lock(&mu);
    to_join.swap(finished);
    // Runs started after the first sweep (a Welcome racing with Stop) stop here.
    for (const auto& [key, run] : runs) to_join.push_back(run);
  }
  for (const auto& run : to_join) run->Stop(StopKind::kShutdown, kStopShutdown);
  for (const auto& run : to_join) run->Join();
  spool->SetDurableListener(nullptr);
  absl::Status synced = spool->Sync();
  if (!synced.ok()) spdlog::error("spool: {}", synced.ToString());
  absl::MutexLock lock(&mu);
  stopped = true;
  connected = false;
  cv.SignalAll();
}

void WorkerRuntime::Impl::WakeWriter() {
  absl::MutexLock lock(&wake_mu);
  ++wake_gen;
  wake_cv.SignalAll();
}

void WorkerRuntime::Impl::ConnectionLoop() {
  std::mt19937_64 rng(options.random_seed != 0 ? options.random_seed
                                               : (static_cast<uint64_t>(std::random_device{}()) << 32) ^
                                                     std::random_device{}());
  Backoff backoff(options.reconnect_backoff, [&rng] { return rng(); });
  while (true) {
    {
      absl::MutexLock lock(&mu);
      if (stop_connecting) break;
    }
    if (RunSession() == SessionEnd::kLost) backoff.Reset();
    const absl::Duration delay = backoff.Next();
    absl::MutexLock lock(&mu);
    if (stop_connecting) break;
    spdlog::info("reconnecting to {} in {} ms (attempt {})", options.server, Millis(delay),
                 backoff.retry());
    const absl::Time until = absl::Now() + delay;
    while (!stop_connecting && absl::Now() < until) cv.WaitWithDeadline(&mu, until);
  }
  absl::MutexLock lock(&mu);
  connection_done = true;
  cv.SignalAll();
}

v1::WorkerMessage WorkerRuntime::Impl::BuildHello(std::vector<JobKey>* reported) {
  v1::WorkerMessage message;
  v1::Hello* hello = message.mutable_hello();
  hello->set_worker_id(options.worker_id);
  *hello->mutable_capabilities() = options.capabilities;
  hello->set_software(options.software);
  // Every attempt still running, waiting to resume, or with records to deliver.
  for (const auto& [key, state] : spool->Jobs()) {
    v1::RunningJob* job = hello->add_running_jobs();
    job->set_job_id(key.job_id);
    job->set_attempt(key.attempt);
    job->set_last_seq(state.last_seq);
    reported->push_back(key);
  }
  return message;
}

SessionEnd WorkerRuntime::Impl::RunSession() {
  auto current = std::make_shared<Session>();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  // Our own backoff paces reconnects: no shared subchannel and its own backoff state.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
              static_cast<int>(std::max<int64_t>(100, Millis(options.reconnect_backoff.max))));
  current->channel =
      grpc::CreateCustomChannel(options.server, grpc::InsecureChannelCredentials(), args);
  std::unique_ptr<v1::Workers::Stub> stub = v1::Workers::NewStub(current->channel);
  current->context = std::make_unique<grpc::ClientContext>();
  // Send the call's headers with Hello, so that starting the call never blocks here.
  current->context->set_initial_metadata_corked(true);
  std::vector<JobKey> reported;
  current->hello = BuildHello(&reported);
  current->started = absl::Now();
  {
    absl::MutexLock lock(&mu);
    if (stop_connecting) return SessionEnd::kNotWelcomed;
    session = current;
  }
  current->stream = stub->Connect(current->context.get());
  std::thread writer([this, current] { WriterLoop(current); });

  bool welcomed = false;
  v1::OrchestratorMessage message;
  while (current->stream->Read(&message)) {
    if (!welcomed) {
      if (!message.has_welcome()) {
        spdlog::error("{}: the first message was not Welcome (field {}); reconnecting",
                      options.server, static_cast<int>(message.kind_case()));
        current->context->TryCancel();
        while (current->stream->Read(&message)) {
        }
        break;
      }
      HandleWelcome(*current, message.welcome(), reported);
      welcomed = true;
      continue;
    }
    switch (message.kind_case()) {
      case v1::OrchestratorMessage::kAssign:
        HandleAssign(message.assign());
        break;
      case v1::OrchestratorMessage::kCancel:
        HandleCancel(message.cancel());
        break;
      case v1::OrchestratorMessage::kAck:
        HandleAck(message.ack());
        break;
      case v1::OrchestratorMessage::kError:
        HandleProtocolError(*current, message.error());
        break;
      case v1::OrchestratorMessage::kWelcome:
        spdlog::warn("{}: a second Welcome on the stream; ignored", options.server);
        break;
      default:
        spdlog::warn("{}: a message of unknown kind {}; ignored", options.server,
                     static_cast<int>(message.kind_case()));
    }
  }
  {
    absl::MutexLock lock(&wake_mu);
    current->ending = true;
    ++wake_gen;
    wake_cv.SignalAll();
  }
  writer.join();
  const grpc::Status status = current->stream->Finish();
  bool stopping_now = false;
  {
    absl::MutexLock lock(&mu);
    session.reset();
    connected = false;
    stopping_now = stop_connecting;
    cv.SignalAll();
  }
  if (stopping_now) {
    spdlog::info("stream to {} closed ({})", options.server,
                 status.ok() ? "OK" : status.error_message());
  } else if (welcomed && current->resyncing) {
    spdlog::info("stream to {} closed to resend from the committed seq", options.server);
  } else if (welcomed) {
    spdlog::warn("stream to {} ended: {} {}", options.server, static_cast<int>(status.error_code()),
                 status.error_message());
  } else if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
             status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
    spdlog::error("{} refused this worker: {} (check --worker-id, --kind and --channels; "
                  "retrying)", options.server, status.error_message());
  } else if (status.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
    spdlog::warn("{} refused the stream: {} (the orchestrator still holds an earlier stream "
                 "of worker {}; retrying)", options.server, status.error_message(),
                 options.worker_id);
  } else {
    spdlog::warn("cannot connect to {}: {} {}", options.server,
                 static_cast<int>(status.error_code()), status.error_message());
  }
  if (!welcomed) return SessionEnd::kNotWelcomed;
  return current->resyncing ? SessionEnd::kResync : SessionEnd::kLost;
}

void WorkerRuntime::Impl::WriterLoop(const std::shared_ptr<Session>& current) {
  Stream* stream = current->stream.get();
  if (!stream->Write(current->hello)) {
    current->context->TryCancel();
    return;
  }
  absl::Duration heartbeat;
  {
    absl::MutexLock lock(&wake_mu);
    while (!current->welcomed && !current->ending && !current->close_requested) {
      wake_cv.Wait(&wake_mu);
    }
    if (!current->welcomed) {
      if (current->close_requested && !current->ending) stream->WritesDone();
      return;
    }
    heartbeat = current->heartbeat;
  }
  absl::Time next_heartbeat = absl::Now() + heartbeat;
  v1::WorkerMessage heartbeat_message;
  heartbeat_message.mutable_heartbeat();
  uint64_t sent_lsn = 0;  // a new stream resends everything unacknowledged
  bool ok = true;
  while (ok) {
    uint64_t seen_gen = 0;
    {
      absl::MutexLock lock(&wake_mu);
      if (current->ending) return;
      if (current->close_requested) break;
      seen_gen = wake_gen;
    }
    // Everything durable and unacknowledged, in log order; pipelined (no waiting for
    // acks), bounded per job by Emit's backpressure.
    while (ok) {
      std::optional<SpooledRecord> record = spool->NextToSend(sent_lsn);
      if (!record.has_value()) break;
      ok = stream->Write(*record->message);
      sent_lsn = record->lsn;
      if (ok && absl::Now() >= next_heartbeat) {
        ok = stream->Write(heartbeat_message);
        next_heartbeat = absl::Now() + heartbeat;
      }
    }
    if (ok && absl::Now() >= next_heartbeat) {
      ok = stream->Write(heartbeat_message);
      next_heartbeat = absl::Now() + heartbeat;
    }
    if (!ok) break;
    absl::MutexLock lock(&wake_mu);
    while (wake_gen == seen_gen && !current->ending && !current->close_requested) {
      if (wake_cv.WaitWithDeadline(&wake_mu, next_heartbeat)) break;
    }
  }
  if (!ok) {
    current->context->TryCancel();  // the reader ends the session
    return;
  }
  stream->WritesDone();
}

void WorkerRuntime::Impl::HandleWelcome(Session& current, const v1::Welcome& welcome,
                                        const std::vector<JobKey>& reported) {
  const absl::Duration heartbeat = welcome.heartbeat_interval_ms() > 0
                                       ? absl::Milliseconds(welcome.heartbeat_interval_ms())
                                       : options.default_heartbeat_interval;
  spdlog::info("connected to {} as {}: heartbeat {} ms, lease {} ms, grace {} ms; {} of {} "
               "reported attempt(s) re-attached",
               options.server, options.worker_id, Millis(heartbeat), welcome.lease_ms(),
               welcome.grace_ms(), welcome.reattached_size(), reported.size());
  std::set<JobKey> reattached;
  for (const v1::Ack& ack : welcome.reattached()) {
    const JobKey key{ack.job_id(), ack.attempt()};
    std::optional<SpoolJobState> state = spool->Job(key);
    if (!state.has_value()) {
      spdlog::warn("Welcome re-attached {}, which this worker did not report; ignored",
                   key.ToString());
      continue;
    }
    if (state->acked_seq > ack.seq()) {
      // It lost reports it had acknowledged (a restored database?): the gap can never be
      // filled, so the attempt cannot go on here.
      spdlog::error("{}: the orchestrator re-attached it at seq {}, but had acknowledged up to "
                    "{}; the released reports are gone: dropping the attempt",
                    key.ToString(), ack.seq(), state->acked_seq);
      std::shared_ptr<JobRun> run;
      {
        absl::MutexLock lock(&mu);
        auto it = runs.find(key);
        if (it != runs.end()) run = it->second;
      }
      if (run != nullptr) run->Stop(StopKind::kDiscard, "acknowledged reports lost by the orchestrator");
      spool->Drop(key);
      continue;
    }
    reattached.insert(key);
    if (ack.seq() > state->last_seq) {
      spdlog::error("Welcome acknowledged {} up to seq {}, but this worker produced only up to "
                    "{} (was the spool replaced?)", key.ToString(), ack.seq(), state->last_seq);
    }
    spool->Ack(key, ack.seq());
  }
  for (const JobKey& key : reported) {
    if (reattached.count(key) == 0) Orphan(key);
  }
  for (const JobKey& key : reattached) {
    std::shared_ptr<JobRun> run;
    bool stop_now = false;
    {
      absl::MutexLock lock(&mu);
      orphans.erase(key);
      auto it = runs.find(key);
      if (it != runs.end()) run = it->second;
      stop_now = stopping;
    }
    if (run != nullptr) {
      run->NotifyAcked();
      continue;
    }
    std::optional<SpoolJobState> state = spool->Job(key);
    if (!state.has_value() || state->finished || stop_now) continue;
    ResumeRun(key, *state);
  }
  {
    absl::MutexLock lock(&mu);
    connected = true;
    ++sessions;
    cv.SignalAll();
  }
  absl::MutexLock lock(&wake_mu);
  current.welcomed = true;
  current.heartbeat = heartbeat;
  ++wake_gen;
  wake_cv.SignalAll();
}

void WorkerRuntime::Impl::ResumeRun(const JobKey& key, const SpoolJobState& state) {
  const v1::JobKind kind = KindOf(state.assign.spec());
  const HandlerRegistry::Factory* factory = handlers.Find(kind);
  if (factory == nullptr) {
    v1::WorkerMessage message;
    v1::JobResult* result = message.mutable_result();
    result->set_job_id(key.job_id);
    result->set_attempt(key.attempt);
    result->set_outcome(v1::JOB_OUTCOME_FAILED);
    result->set_message(absl::StrCat("cannot resume: this worker runs no ", KindName(kind),
                                     " jobs any more"));
    absl::StatusOr<SpooledRecord> spooled = spool->Append(std::move(message));
    spdlog::warn("{}: {}", key.ToString(), result->message());
    if (!spooled.ok()) spdlog::error("{}: {}", key.ToString(), spooled.status().ToString());
    return;
  }
  spdlog::info("{}: resuming after measurement {} (update seq {}, {} checkpoint)",
               key.ToString(), state.last_measurement_seq, state.last_seq,
               state.last_checkpoint.empty() ? "no" : "with a");
  auto run = std::make_shared<JobRun>(this, key, state.assign, state.last_checkpoint,
                                      state.last_measurement_seq, (*factory)());
  absl::MutexLock lock(&mu);
  if (stopping) return;  // stays in the spool, resumed after the next start
  runs[key] = run;
  run->Start();
}

void WorkerRuntime::Impl::HandleAssign(const v1::Assign& assign) {
  const JobKey key{assign.job_id(), assign.attempt()};
  if (key.job_id.empty()) {
    spdlog::warn("an Assign without job_id; ignored");
    return;
  }
  std::string refusal;
  size_t busy = 0;
  {
    absl::MutexLock lock(&mu);
    if (runs.count(key) > 0 || spool->Job(key).has_value()) {
      spdlog::warn("a second Assign for {}; ignored", key.ToString());
      return;
    }
    const v1::JobKind kind = KindOf(assign.spec());
    const HandlerRegistry::Factory* factory = handlers.Find(kind);
    const uint32_t channels = options.capabilities.channels();
    if (stopping) {
      refusal = "the worker is shutting down";
    } else if (factory == nullptr) {
      std::vector<std::string> served;
      for (v1::JobKind k : handlers.kinds()) served.push_back(KindName(k));
      refusal = absl::StrCat("this worker runs no ", KindName(kind), " jobs (it runs: ",
                             served.empty() ? "none" : absl::StrJoin(served, ", "), ")");
    } else if (runs.size() >= channels) {
      refusal = absl::StrCat("no free channel: all ", channels, " are busy");
    } else if (absl::Status s = spool->StartJob(assign); !s.ok()) {
      refusal = absl::StrCat("cannot spool the job: ", s.message());
    } else {
      auto run = std::make_shared<JobRun>(this, key, assign, assign.checkpoint(), 0, (*factory)());
      runs[key] = run;
      run->Start();
      busy = runs.size();
    }
  }
  if (!refusal.empty()) {
    Refuse(assign, refusal);
    return;
  }
  spdlog::info("{}: assigned ({} job); {} of {} channel(s) busy", key.ToString(),
               KindName(KindOf(assign.spec())), busy, options.capabilities.channels());
}

void WorkerRuntime::Impl::Refuse(const v1::Assign& assign, const std::string& why) {
  const JobKey key{assign.job_id(), assign.attempt()};
  spdlog::warn("{}: refused: {}", key.ToString(), why);
  absl::Status started = spool->StartJob(assign);
  if (!started.ok() && !absl::IsAlreadyExists(started)) {
    spdlog::error("{}: cannot spool the refusal: {}", key.ToString(), started.ToString());
    return;
  }
  v1::WorkerMessage message;
  v1::JobResult* result = message.mutable_result();
  result->set_job_id(key.job_id);
  result->set_attempt(key.attempt);
  result->set_outcome(v1::JOB_OUTCOME_FAILED);
  result->set_message(why);
  absl::StatusOr<SpooledRecord> spooled = spool->Append(std::move(message));
  if (!spooled.ok()) {
    spdlog::error("{}: cannot spool the refusal: {}", key.ToString(), spooled.status().ToString());
  }
}

void WorkerRuntime::Impl::Orphan(const JobKey& key) {
  std::shared_ptr<JobRun> run;
  {
    absl::MutexLock lock(&mu);
    auto it = runs.find(key);
    if (it != runs.end()) run = it->second;
    orphans.insert(key);
  }
  if (run != nullptr) run->Stop(StopKind::kOrphan, "not re-attached by the orchestrator");
  spdlog::info("{}: not re-attached by the orchestrator; {}its spooled records are delivered, "
               "then it is forgotten", key.ToString(), run != nullptr ? "stopped; " : "");
  MaybeDropOrphan(key);
}

void WorkerRuntime::Impl::MaybeDropOrphan(const JobKey& key) {
  std::optional<SpoolJobState> state = spool->Job(key);
  if (state.has_value() && state->unacked_records > 0) return;
  spool->Drop(key);
  absl::MutexLock lock(&mu);
  orphans.erase(key);
}

void WorkerRuntime::Impl::HandleCancel(const v1::Cancel& cancel) {
  const JobKey key{cancel.job_id(), cancel.attempt()};
  const std::string reason = cancel.reason().empty() ? "unspecified" : cancel.reason();
  std::shared_ptr<JobRun> run;
  {
    absl::MutexLock lock(&mu);
    auto it = runs.find(key);
    if (it != runs.end()) run = it->second;
  }
  if (reason == kCancelNotAssigned) {
    if (run != nullptr) run->Stop(StopKind::kDiscard, reason);
    const bool dropped = spool->Drop(key);
    {
      absl::MutexLock lock(&mu);
      orphans.erase(key);
    }
    if (run != nullptr || dropped) {
      spdlog::info("{}: not this worker's any more: stopped and dropped from the spool",
                   key.ToString());
      return;
    }
  } else if (run != nullptr) {
    spdlog::info("{}: cancel requested ({})", key.ToString(), reason);
    run->Stop(StopKind::kCancel, reason);
    return;
  }
  spdlog::info("Cancel for {} ({}), which this worker does not run; ignored", key.ToString(),
               reason);
}

void WorkerRuntime::Impl::HandleAck(const v1::Ack& ack) {
  const JobKey key{ack.job_id(), ack.attempt()};
  if (!spool->Ack(key, ack.seq())) {
    spdlog::debug("Ack for {} seq {}, which the spool no longer holds", key.ToString(), ack.seq());
  }
  std::shared_ptr<JobRun> run;
  bool orphan = false;
  {
    absl::MutexLock lock(&mu);
    auto it = runs.find(key);
    if (it != runs.end()) run = it->second;
    orphan = orphans.count(key) > 0;
    cv.SignalAll();
  }
  if (run != nullptr) run->NotifyAcked();
  if (orphan) MaybeDropOrphan(key);
}

void WorkerRuntime::Impl::HandleProtocolError(Session& current,
                                               const v1::ProtocolError& error) {
  const std::string name = error.job_id().empty()
                               ? std::string("the stream")
                               : absl::StrCat(error.job_id(), "/", error.attempt(), " seq ",
                                              error.seq());
  if (current.resyncing) {
    spdlog::debug("the orchestrator refused {} (code {}) while we resync; ignored", name,
                  error.code());
    return;
  }
  spdlog::warn("the orchestrator refused {} (code {}): {}", name, error.code(), error.message());
  if (error.job_id().empty()) return;
  const JobKey key{error.job_id(), error.attempt()};
  std::optional<SpoolJobState> state = spool->Job(key);
  std::shared_ptr<JobRun> run;
  {
    absl::MutexLock lock(&mu);
    auto it = runs.find(key);
    if (it != runs.end()) run = it->second;
  }
  if (!state.has_value() && run == nullptr) return;
  if (state.has_value() && error.seq() != 0 && error.seq() <= state->acked_seq) {
    spdlog::info("{}: the refusal names acknowledged seq {}; nothing to drop", key.ToString(),
                 error.seq());
    return;
  }
  // The orchestrator could not store it (busy, disk full), or we are out of step with
  // what it committed: keep every record, reconnect, and resend after the Welcome from
  // the seq it re-attaches. The reports pipelined behind this one are refused as out of
  // order meanwhile; those refusals are ignored.
  const absl::StatusCode code = static_cast<absl::StatusCode>(error.code());
  // ABORTED is the orchestrator's "out of order" (a gap in the numbering).
  const bool transient = code == absl::StatusCode::kUnavailable ||
                         code == absl::StatusCode::kResourceExhausted ||
                         code == absl::StatusCode::kInternal ||
                         code == absl::StatusCode::kAborted ||
                         code == absl::StatusCode::kDeadlineExceeded;
  if (transient) {
    current.resyncing = true;
    spdlog::warn("{}: records kept; reconnecting to resend them", key.ToString());
    current.context->TryCancel();
    return;
  }
  // Not held, finished, or malformed: every later record of the attempt would be
  // refused too. Fail it locally and forget it.
  if (run != nullptr) {
    run->Stop(StopKind::kDiscard, absl::StrCat("refused by the orchestrator: ", error.message()));
  }
  spool->Drop(key);
  {
    absl::MutexLock lock(&mu);
    orphans.erase(key);
  }
  spdlog::error("{}: stopped and dropped from the spool: the orchestrator will not accept its "
                "records", key.ToString());
}

void WorkerRuntime::Impl::OnRunFinished(const JobKey& key) {
  absl::MutexLock lock(&mu);
  auto it = runs.find(key);
  if (it != runs.end()) {
    finished.push_back(it->second);
    runs.erase(it);
  }
  cv.SignalAll();
}

void WorkerRuntime::Impl::MaintenanceLoop() {
  const absl::Duration tick =
      std::clamp(options.linger / 2, absl::Milliseconds(1), absl::Milliseconds(100));
  while (true) {
    std::vector<std::shared_ptr<JobRun>> live;
    std::vector<std::shared_ptr<JobRun>> done;
    std::shared_ptr<Session> current;
    {
      absl::MutexLock lock(&mu);
      if (maintenance_stop) break;
      cv.WaitWithTimeout(&mu, tick);
      if (maintenance_stop) break;
      for (const auto& [key, run] : runs) live.push_back(run);
      done.swap(finished);
      current = session;
    }
    const absl::Time now = clock->Now();
    for (const auto& run : live) run->LingerFlush(now);
    for (const auto& run : done) run->Join();
    if (current != nullptr) {
      bool cancel = false;
      {
        absl::MutexLock lock(&wake_mu);
        if (!current->welcomed && !current->ending && !current->welcome_timed_out &&
            absl::Now() - current->started > options.welcome_timeout) {
          current->welcome_timed_out = true;
          cancel = true;
        }
      }
      if (cancel) {
        spdlog::warn("{}: no Welcome within {} ms; reconnecting", options.server,
                     Millis(options.welcome_timeout));
        current->context->TryCancel();
      }
    }
  }
}

// ---------------------------------------------------------------------------------

WorkerRuntime::WorkerRuntime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WorkerRuntime::~WorkerRuntime() {
  if (impl_ != nullptr) impl_->Stop(absl::ZeroDuration());
}

absl::StatusOr<std::unique_ptr<WorkerRuntime>> WorkerRuntime::Create(WorkerOptions options,
                                                                     HandlerRegistry handlers,
                                                                     const Clock* clock) {
  absl::Status valid = ValidateWorkerOptions(options);
  if (!valid.ok()) return valid;
  const absl::Time opening = absl::Now();
  absl::StatusOr<std::unique_ptr<Spool>> spool =
      Spool::Open(options.spool_dir, options.worker_id, options.spool);
  if (!spool.ok()) return spool.status();
  spdlog::info("spool {}: {} bytes, {} unacknowledged record(s), replayed in {} ms",
               (*spool)->path(), (*spool)->stats().file_bytes, (*spool)->unacked_records(),
               Millis(absl::Now() - opening));
  if ((*spool)->stats().torn_bytes_dropped > 0) {
    spdlog::warn("spool {}: dropped a torn last record ({} bytes) left by a crash",
                 (*spool)->path(), (*spool)->stats().torn_bytes_dropped);
  }
  auto impl = std::make_unique<Impl>(std::move(options), std::move(handlers), clock,
                                     std::move(*spool));
  return std::unique_ptr<WorkerRuntime>(new WorkerRuntime(std::move(impl)));
}

void WorkerRuntime::Start() { impl_->Start(); }

void WorkerRuntime::Stop(absl::Duration grace) { impl_->Stop(grace); }

WorkerRuntime::Snapshot WorkerRuntime::snapshot() const {
  Snapshot s;
  {
    absl::MutexLock lock(&impl_->mu);
    s.connected = impl_->connected;
    s.sessions = impl_->sessions;
    s.running_jobs = impl_->runs.size();
  }
  s.unacked_records = impl_->spool->unacked_records();
  s.spool_health = impl_->spool->health();
  return s;
}

bool WorkerRuntime::WaitConnected(absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock lock(&impl_->mu);
  while (!impl_->connected && absl::Now() < deadline) {
    impl_->cv.WaitWithDeadline(&impl_->mu, deadline);
  }
  return impl_->connected;
}

}  // namespace ionloop::worker
