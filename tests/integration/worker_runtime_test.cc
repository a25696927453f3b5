// The worker runtime end to end over real gRPC on loopback: against a scripted fake
// orchestrator (a Workers::CallbackService in this file) for every protocol path —
// assign → updates → acks → result, reconnect and resend, restart and resume, cancel,
// refusals, backpressure — and once against the real in-process ionloopd.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "ionloop/v1/jobs.grpc.pb.h"
#include "ionloop/v1/workers.grpc.pb.h"
#include "orchestrator/service/server.h"
#include "tests/testing/temp_dir.h"
#include "workers/runtime/worker_runtime.h"
#include "workers/synthetic/synthetic_handler.h"

namespace ionloop::worker {
namespace {

using ::ionloop::testing::TempDir;
using ::testing::HasSubstr;
using Key = std::pair<std::string, uint32_t>;

constexpr absl::Duration kWait = absl::Seconds(60);

// What the fake committed of one attempt.
struct Attempt {
  uint64_t committed = 0;                      // last report seq applied
  std::map<uint64_t, v1::Measurement> rows;    // by measurement seq
  uint64_t duplicate_rows = 0;                 // a measurement seq applied twice
  std::optional<v1::JobResult> result;
  uint64_t resends = 0;                        // reports at or below `committed`
  uint64_t updates = 0;                        // applied updates
};

// A scripted orchestrator. Applies reports in order exactly once like ionloopd (a
// resend is acked again and ignored; a gap is refused), with knobs to lose acks, drop
// reports, refuse, and break the stream.
class FakeOrchestrator final : public v1::Workers::CallbackService {
 public:
  // ---- knobs (set before the messages they affect) ----
  void set_ack(bool ack) {
    absl::MutexLock lock(&mu_);
    ack_ = ack;
  }
  // Reports with seq above this are dropped silently (lost on the way).
  void set_accept_up_to(uint64_t seq) {
    absl::MutexLock lock(&mu_);
    accept_up_to_ = seq;
  }
  void set_reattach(bool reattach) {
    absl::MutexLock lock(&mu_);
    reattach_ = reattach;
  }
  void set_heartbeat_ms(uint32_t ms) {
    absl::MutexLock lock(&mu_);
    heartbeat_ms_ = ms;
  }
  // Refuse every report of `job_id` with `code`; `times` refusals, then accept again.
  void Refuse(const std::string& job_id, int code, std::string message, int times = 1 << 30) {
    absl::MutexLock lock(&mu_);
    refusals_[job_id] = Refusal{code, std::move(message), times};
  }

  // ---- actions ----
  void Send(const v1::OrchestratorMessage& message);
  void Assign(const std::string& job_id, uint32_t attempt, const v1::JobSpec& spec) {
    v1::OrchestratorMessage m;
    m.mutable_assign()->set_job_id(job_id);
    m.mutable_assign()->set_attempt(attempt);
    *m.mutable_assign()->mutable_spec() = spec;
    Send(m);
  }
  void Cancel(const std::string& job_id, uint32_t attempt, const std::string& reason) {
    v1::OrchestratorMessage m;
    m.mutable_cancel()->set_job_id(job_id);
    m.mutable_cancel()->set_attempt(attempt);
    m.mutable_cancel()->set_reason(reason);
    Send(m);
  }
  // Ends the current stream with UNAVAILABLE (a network break / orchestrator restart).
  void BreakStream();

  // ---- observation ----
  // Waits until `pred` holds over the fake's state (re-checked on every change).
  bool WaitFor(const std::function<bool()>& pred, absl::Duration timeout = kWait) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&pred, &std::function<bool()>::operator()), timeout);
  }
  // Reads state under the lock.
  template <typename F>
  auto Locked(F f) {
    absl::MutexLock lock(&mu_);
    return f();
  }
  // Unlocked accessors: call inside Locked() or WaitFor() predicates.
  Attempt& attempt(const std::string& job_id, uint32_t n) { return attempts_[{job_id, n}]; }
  const std::vector<v1::Hello>& hellos() const { return hellos_; }
  int heartbeats() const { return heartbeats_; }
  int streams() const { return streams_; }
  int open_streams() const { return open_streams_; }

 private:
  class Stream;
  struct Refusal {
    int code;
    std::string message;
    int times;
  };

  grpc::ServerBidiReactor<v1::WorkerMessage, v1::OrchestratorMessage>* Connect(
      grpc::CallbackServerContext* /*context*/) override;
  // Returns the replies to queue on `stream`.
  std::vector<v1::OrchestratorMessage> Handle(Stream* stream, const v1::WorkerMessage& message);
  void Detach(Stream* stream);

  absl::Mutex mu_;
  Stream* current_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool ack_ = true;
  uint64_t accept_up_to_ = UINT64_MAX;
  bool reattach_ = true;
  uint32_t heartbeat_ms_ = 1000;
  std::map<std::string, Refusal> refusals_;
  std::map<Key, Attempt> attempts_;
  std::vector<v1::Hello> hellos_;
  int heartbeats_ = 0;
  int streams_ = 0;
  int open_streams_ = 0;
};

// One worker stream; reads are handled inline (the fake never blocks), writes go
// through a queue with one in flight; Finish waits for the queue to drain.
class FakeOrchestrator::Stream final
    : public grpc::ServerBidiReactor<v1::WorkerMessage, v1::OrchestratorMessage> {
 public:
  explicit Stream(FakeOrchestrator* owner) : owner_(owner) { StartRead(&in_); }

  void OnReadDone(bool ok) override {
    if (!ok) {
      RequestFinish(grpc::Status::OK);
      return;
    }
    for (auto& reply : owner_->Handle(this, in_)) Enqueue(std::move(reply));
    {
      absl::MutexLock lock(&mu_);
      if (finish_) return;
    }
    StartRead(&in_);
  }
  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) pending_.clear();
    }
    Pump();
  }
  void OnCancel() override { RequestFinish(grpc::Status::CANCELLED); }
  void OnDone() override {
    owner_->Detach(this);
    delete this;
  }

  void Enqueue(v1::OrchestratorMessage message) {
    {
      absl::MutexLock lock(&mu_);
      if (finish_) return;
      pending_.push_back(std::move(message));
    }
    Pump();
  }
  void RequestFinish(const grpc::Status& status) {
    {
      absl::MutexLock lock(&mu_);
      if (!finish_) finish_ = status;
    }
    Pump();
  }

 private:
  void Pump() {
    bool write = false;
    std::optional<grpc::Status> finish;
    {
      absl::MutexLock lock(&mu_);
      if (writing_ || finished_) return;
      if (!pending_.empty()) {
        out_ = std::move(pending_.front());
        pending_.pop_front();
        writing_ = write = true;
      } else if (finish_) {
        finished_ = true;
        finish = finish_;
      }
    }
    if (write) StartWrite(&out_);
    if (finish) Finish(*finish);
  }

  FakeOrchestrator* const owner_;
  v1::WorkerMessage in_;
  v1::OrchestratorMessage out_;
  absl::Mutex mu_;
  std::deque<v1::OrchestratorMessage> pending_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> finish_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

grpc::ServerBidiReactor<v1::WorkerMessage, v1::OrchestratorMessage>* FakeOrchestrator::Connect(
    grpc::CallbackServerContext* /*context*/) {
  auto* stream = new Stream(this);
  absl::MutexLock lock(&mu_);
  ++open_streams_;
  return stream;
}

void FakeOrchestrator::Detach(Stream* stream) {
  absl::MutexLock lock(&mu_);
  --open_streams_;
  if (current_ == stream) current_ = nullptr;
}

void FakeOrchestrator::Send(const v1::OrchestratorMessage& message) {
  absl::MutexLock lock(&mu_);
  if (current_ != nullptr) current_->Enqueue(message);
}

void FakeOrchestrator::BreakStream() {
  absl::MutexLock lock(&mu_);
  if (current_ != nullptr) {
    current_->RequestFinish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "test: stream broken"));
    current_ = nullptr;  // what arrives on it from now on is not applied
  }
}

std::vector<v1::OrchestratorMessage> FakeOrchestrator::Handle(Stream* stream,
                                                              const v1::WorkerMessage& message) {
  std::vector<v1::OrchestratorMessage> out;
  absl::MutexLock lock(&mu_);
  if (message.has_hello()) {
    hellos_.push_back(message.hello());
    ++streams_;
    current_ = stream;
    v1::OrchestratorMessage welcome;
    welcome.mutable_welcome()->set_heartbeat_interval_ms(heartbeat_ms_);
    welcome.mutable_welcome()->set_lease_ms(5000);
    welcome.mutable_welcome()->set_grace_ms(30000);
    std::vector<v1::OrchestratorMessage> cancels;
    for (const v1::RunningJob& r : message.hello().running_jobs()) {
      if (reattach_) {
        v1::Ack* ack = welcome.mutable_welcome()->add_reattached();
        ack->set_job_id(r.job_id());
        ack->set_attempt(r.attempt());
        ack->set_seq(attempts_[{r.job_id(), r.attempt()}].committed);
      } else {
        v1::OrchestratorMessage cancel;
        cancel.mutable_cancel()->set_job_id(r.job_id());
        cancel.mutable_cancel()->set_attempt(r.attempt());
        cancel.mutable_cancel()->set_reason("not_assigned");
        cancels.push_back(cancel);
      }
    }
    out.push_back(welcome);
    for (auto& c : cancels) out.push_back(c);
    return out;
  }
  if (stream != current_) return out;  // a broken stream's leftovers
  if (message.has_heartbeat()) {
    ++heartbeats_;
    return out;
  }
  const bool is_result = message.has_result();
  const std::string& job_id = is_result ? message.result().job_id() : message.update().job_id();
  const uint32_t n = is_result ? message.result().attempt() : message.update().attempt();
  const uint64_t seq = is_result ? message.result().seq() : message.update().seq();
  auto refuse = [&](int code, const std::string& text) {
    v1::OrchestratorMessage e;
    e.mutable_error()->set_job_id(job_id);
    e.mutable_error()->set_attempt(n);
    e.mutable_error()->set_seq(seq);
    e.mutable_error()->set_code(code);
    e.mutable_error()->set_message(text);
    out.push_back(e);
  };
  if (seq > accept_up_to_) return out;  // lost on the way
  auto refusal = refusals_.find(job_id);
  if (refusal != refusals_.end() && refusal->second.times > 0) {
    --refusal->second.times;
    refuse(refusal->second.code, refusal->second.message);
    return out;
  }
  Attempt& a = attempts_[{job_id, n}];
  if (seq <= a.committed) {
    ++a.resends;
  } else if (seq != a.committed + 1 || a.result.has_value()) {
    refuse(10, absl::StrCat(job_id, " attempt ", n, ": out of order: expected seq ",
                           a.committed + 1, ", got ", seq));
    return out;
  } else {
    a.committed = seq;
    if (is_result) {
      a.result = message.result();
    } else {
      ++a.updates;
      for (const v1::Measurement& m : message.update().measurements()) {
        if (!a.rows.emplace(m.seq(), m).second) ++a.duplicate_rows;
      }
    }
  }
  if (ack_) {
    v1::OrchestratorMessage ack;
    ack.mutable_ack()->set_job_id(job_id);
    ack.mutable_ack()->set_attempt(n);
    ack.mutable_ack()->set_seq(seq);
    out.push_back(ack);
  }
  return out;
}

v1::JobSpec Synthetic(uint64_t measurements, uint32_t interval_ms = 0, uint32_t payload = 0,
                      uint64_t fail_after = 0) {
  v1::JobSpec spec;
  spec.mutable_synthetic()->set_measurements(measurements);
  spec.mutable_synthetic()->set_interval_ms(interval_ms);
  spec.mutable_synthetic()->set_payload_bytes(payload);
  spec.mutable_synthetic()->set_fail_after(fail_after);
  return spec;
}

// Rows 1..n present once each, with the synthetic values.
void ExpectRows(const Attempt& a, uint64_t n) {
  EXPECT_EQ(a.duplicate_rows, 0u);
  ASSERT_EQ(a.rows.size(), n);
  uint64_t expected = 1;
  for (const auto& [seq, m] : a.rows) {
    ASSERT_EQ(seq, expected) << "gap";
    EXPECT_DOUBLE_EQ(m.synthetic().value(), SyntheticValue(seq));
    ++expected;
  }
}

class WorkerRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&fake_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }
  void TearDown() override {
    runtime_.reset();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }

  WorkerOptions Options(uint32_t channels = 2) {
    WorkerOptions o;
    o.server = absl::StrCat("127.0.0.1:", port_);
    o.worker_id = "test-worker";
    o.capabilities.set_kind(v1::JOB_KIND_SYNTHETIC);
    o.capabilities.set_channels(channels);
    o.software = "worker_runtime_test";
    o.spool_dir = dir_.path() + "/spool";
    o.reconnect_backoff = BackoffPolicy{absl::Milliseconds(5), absl::Milliseconds(100), 2};
    o.random_seed = 1;
    o.batch.max_measurements = 16;
    o.linger = absl::Milliseconds(5);
    return o;
  }

  void StartRuntime(WorkerOptions options) {
    HandlerRegistry handlers;
    handlers.Register(v1::JOB_KIND_SYNTHETIC, [] { return std::make_unique<SyntheticHandler>(); });
    auto created = WorkerRuntime::Create(std::move(options), std::move(handlers), SystemClock::Get());
    ASSERT_TRUE(created.ok()) << created.status();
    runtime_ = std::move(*created);
    runtime_->Start();
    ASSERT_TRUE(runtime_->WaitConnected(kWait));
  }

  // For the worker's own state (not observable at the fake): re-check whenever the
  // fake's state changes, or at the latest every 20 ms.
  bool Eventually(const std::function<bool()>& pred) {
    const absl::Time deadline = absl::Now() + kWait;
    while (!pred()) {
      if (absl::Now() > deadline) return false;
      absl::Mutex mu;
      absl::CondVar cv;
      absl::MutexLock lock(&mu);
      cv.WaitWithTimeout(&mu, absl::Milliseconds(20));
    }
    return true;
  }

  const v1::JobResult* ResultOf(const std::string& job_id, uint32_t n = 1) {
    const Attempt& a = fake_.attempt(job_id, n);
    return a.result.has_value() ? &*a.result : nullptr;
  }

  TempDir dir_;
  FakeOrchestrator fake_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<WorkerRuntime> runtime_;
};

TEST_F(WorkerRuntimeTest, SaysHelloWithItsCapabilities) {
  StartRuntime(Options(3));
  fake_.Locked([&] {
    ASSERT_EQ(fake_.hellos().size(), 1u);
    const v1::Hello& h = fake_.hellos()[0];
    EXPECT_EQ(h.worker_id(), "test-worker");
    EXPECT_EQ(h.capabilities().kind(), v1::JOB_KIND_SYNTHETIC);
    EXPECT_EQ(h.capabilities().channels(), 3u);
    EXPECT_EQ(h.software(), "worker_runtime_test");
    EXPECT_EQ(h.running_jobs_size(), 0);
  });
}

TEST_F(WorkerRuntimeTest, RunsAJobToItsResultWithContiguousNumbering) {
  StartRuntime(Options());
  fake_.Assign("job-1", 1, Synthetic(1000, 0, 32));
  ASSERT_TRUE(fake_.WaitFor([&] { return ResultOf("job-1") != nullptr; }));
  fake_.Locked([&] {
    const Attempt& a = fake_.attempt("job-1", 1);
    EXPECT_EQ(a.result->outcome(), v1::JOB_OUTCOME_SUCCEEDED);
    EXPECT_EQ(a.result->seq(), a.committed);
    EXPECT_EQ(a.resends, 0u);
    // A first update at once, then ≤ 16 rows each: at least 1 + 1000/16.
    EXPECT_GE(a.updates, 1u + 63u);
    EXPECT_DOUBLE_EQ(a.result->summary().at("measurements"), 1000);
    ExpectRows(a, 1000);
    const v1::Measurement& m = a.rows.at(7);
    EXPECT_EQ(m.job_id(), "job-1");
    EXPECT_EQ(m.attempt(), 1u);
    EXPECT_TRUE(m.has_recorded_at());
    EXPECT_EQ(m.synthetic().payload(), SyntheticPayload(7, 32));
  });
  EXPECT_TRUE(Eventually([&] {
    const auto s = runtime_->snapshot();
    return s.unacked_records == 0 && s.running_jobs == 0;
  }));
}

TEST_F(WorkerRuntimeTest, RunsAsManyJobsAsChannelsAndRefusesTheNext) {
  StartRuntime(Options(2));
  fake_.Assign("job-1", 1, Synthetic(100000, 1));
  fake_.Assign("job-2", 1, Synthetic(100000, 1));
  ASSERT_TRUE(fake_.WaitFor([&] {
    return fake_.attempt("job-1", 1).committed > 0 && fake_.attempt("job-2", 1).committed > 0;
  }));
  fake_.Assign("job-3", 1, Synthetic(10));
  ASSERT_TRUE(fake_.WaitFor([&] { return ResultOf("job-3") != nullptr; }));
  fake_.Locked([&] {
    const v1::JobResult& r = *ResultOf("job-3");
    EXPECT_EQ(r.outcome(), v1::JOB_OUTCOME_FAILED);
    EXPECT_EQ(r.seq(), 1u);
    EXPECT_THAT(r.message(), HasSubstr("no free channel"));
  });
  fake_.Cancel("job-1", 1, "user");
  fake_.Cancel("job-2", 1, "user");
  ASSERT_TRUE(fake_.WaitFor([&] { return ResultOf("job-1") && ResultOf("job-2"); }));
  // A channel is free again.
  fake_.Assign("job-4", 1, Synthetic(10));
  ASSERT_TRUE(fake_.WaitFor([&] { return ResultOf("job-4") != nullptr; }));
  fake_.Locked([&] { EXPECT_EQ(ResultOf("job-4")->outcome(), v1::JOB_OUTCOME_SUCCEEDED); });
}

TEST_F(WorkerRuntimeTest, RefusesAKindItDoesNotRun) {
  StartRuntime(Options());
  v1::JobSpec cycling;
  cycling.mutable_cycling()->set_max_cycles(10);
  fake_.Assign("job-1", 1, cycling);
  ASSERT_TRUE(fake_.WaitFor([&] { return ResultOf("job-1") != nullptr; }));
  fake_.Locked([&] {
    EXPECT_EQ(ResultOf("job-1")->outcome(), v1::JOB_OUTCOME_FAILED);
    EXPECT_THAT(ResultOf("job-1")->message(), HasSubstr("runs no cycling jobs"));
  });
}

TEST_F(WorkerRuntimeTest, ReportsFailureFromTheHandler) {
  StartRuntime(Options());
  fake_.Assign("job-1", 1, Synthetic(100, 0, 0, 40));
  ASSERT_TRUE(fake_.WaitFor([&] { return ResultOf("job-1") != nullptr; }));
  fake_.Locked([&] {
    EXPECT_EQ(ResultOf("job-1")->outcome(), v1::JOB_OUTCOME_FAILED);
    EXPECT_FALSE(ResultOf("job-1")->stopped_early());
    ExpectRows(fake_.attempt("job-1", 1), 40);
  });
}

TEST_F(WorkerRuntimeTest, CancelEndsTheJobWithCancelled) {
  StartRuntime(Options());
  fake_.Assign("job-1", 1, Synthetic(100000, 1));
  ASSERT_TRUE(fake_.WaitFor([&] { return fake_.attempt("job-1", 1).rows.size() >= 5; }));
  fake_.Cancel("job-1", 1, "cell swelling");
  ASSERT_TRUE(fake_.WaitFor([&] { return ResultOf("job-1") != nullptr; }));
  fake_.Locked([&] {
    const Attempt& a = fake_.attempt("job-1", 1);
    EXPECT_EQ(a.result->outcome(), v1::JOB_OUTCOME_CANCELLED);
    EXPECT_THAT(a.result->message(), HasSubstr("cell swelling"));
    EXPECT_FALSE(a.result->stopped_early());
    EXPECT_LT(a.rows.size(), 100000u);
    ExpectRows(a, a.rows.size());  // flushed before the result, contiguous
  });
}

TEST_F(WorkerRuntimeTest, EarlyStopEndsWithStoppedEarly) {
  StartRuntime(Options());
  fake_.Assign("job-1", 1, Synthetic(100000, 1));
  ASSERT_TRUE(fake_.WaitFor([&] { return fake_.attempt("job-1", 1).rows.size() >= 3; }));
  fake_.Cancel("job-1", 1, "early_stop");
  ASSERT_TRUE(fake_.WaitFor([&] { return ResultOf("job-1") != nullptr; }));
  fake_.Locked([&] {
    EXPECT_EQ(ResultOf("job-1")->outcome(), v1::JOB_OUTCOME_SUCCEEDED);
    EXPECT_TRUE(ResultOf("job-1")->stopped_early());
  });
}

TEST_F(WorkerRuntimeTest, CancelForAJobItDoesNotHoldIsIgnored) {
  StartRuntime(Options());
  fake_.Cancel("job-77", 1, "user");
  fake_.Assign("job-1", 1, Synthetic(20));
  ASSERT_TRUE(fake_.WaitFor([&] { return ResultOf("job-1") != nullptr; }));
  fake_.Locked([&] {
    EXPECT_EQ(ResultOf("job-1")->outcome(), v1::JOB_OUTCOME_SUCCEEDED);
    EXPECT_EQ(ResultOf("job-77"), nullptr);
  });
}

TEST_F(WorkerRuntimeTest, NotAssignedStopsTheJobWithoutAResult) {
  StartRuntime(Options());
  fake_.Assign("job-1", 1, Synthetic(100000, 1));
  ASSERT_TRUE(fake_.WaitFor([&] { return fake_.attempt("job-1", 1).rows.size() >= 3; }));
  fake_.Cancel("job-1", 1, "not_assigned");
  EXPECT_TRUE(Eventually([&] {
    const auto s = runtime_->snapshot();
    return s.running_jobs == 0 && s.unacked_records == 0;
  }));
  // It is forgotten: a later job still runs, and job-1 never got a result.
  fake_.Assign("job-2", 1, Synthetic(5));
  ASSERT_TRUE(fake_.WaitFor([&] { return ResultOf("job-2") != nullptr; }));
  fake_.Locked([&] { EXPECT_EQ(ResultOf("job-1"), nullptr); });
}

TEST_F(WorkerRuntimeTest, SendsHeartbeats) {
  fake_.set_heartbeat_ms(10);
  StartRuntime(Options());
  EXPECT_TRUE(fake_.WaitFor([&] { return fake_.heartbeats() >= 5; }));
}

TEST_F(WorkerRuntimeTest, ResendsWhatWasLostAfterAReconnect) {
  fake_.set_accept_up_to(5);  // seq 6 onwards is lost on the way, unacknowledged
  WorkerOptions options = Options();
  options.max_unacked_updates_per_job = 4;  // the handler waits for acks
  StartRuntime(options);
  fake_.Assign("job-1", 1, Synthetic(500));
  // 1..5 applied and acked; 6..9 in flight; the handler blocks on backpressure.
  ASSERT_TRUE(fake_.WaitFor([&] { return fake_.attempt("job-1", 1).committed == 5; }));
  fake_.Locked([&] { EXPECT_EQ(ResultOf("job-1"), nullptr); });
  fake_.set_accept_up_to(UINT64_MAX);
  fake_.BreakStream();
  ASSERT_TRUE(fake_.WaitFor([&] { return ResultOf("job-1") != nullptr; }));
  fake_.Locked([&] {
    ASSERT_GE(fake_.hellos().size(), 2u);
    const v1::Hello& again = fake_.hellos()[1];
    ASSERT_EQ(again.running_jobs_size(), 1);
    EXPECT_EQ(again.running_jobs(0).job_id(), "job-1");
    EXPECT_GE(again.running_jobs(0).last_seq(), 6u);
    const Attempt& a = fake_.attempt("job-1", 1);
    EXPECT_EQ(a.result->outcome(), v1::JOB_OUTCOME_SUCCEEDED);
    ExpectRows(a, 500);
  });
}

TEST_F(WorkerRuntimeTest, LostAcksMeanResendsThatAreAckedAgain) {
  fake_.set_ack(false);  // applied, but the acks never arrive
  StartRuntime(Options());
  fake_.Assign("job-1", 1, Synthetic(200));
  ASSERT_TRUE(fake_.WaitFor([&] { return ResultOf("job-1") != nullptr; }));
  EXPECT_GT(runtime_->snapshot().unacked_records, 0u);
  fake_.set_ack(true);
  fake_.set_reattach(true);
  fake_.BreakStream();
  // Welcome re-attaches at the committed seq: everything is released without resends.
  EXPECT_TRUE(Eventually([&] { return runtime_->snapshot().unacked_records == 0; }));
  fake_.Locked([&] { ExpectRows(fake_.attempt("job-1", 1), 200); });
}

TEST_F(WorkerRuntimeTest, ARestartedWorkerResumesWhereItStopped) {
  fake_.set_accept_up_to(5);
  WorkerOptions options = Options();
  options.max_unacked_updates_per_job = 4;
  StartRuntime(options);
  fake_.Assign("job-1", 1, Synthetic(600, 0, 8));
  ASSERT_TRUE(fake_.WaitFor([&] { return fake_.attempt("job-1", 1).committed == 5; }));
  ASSERT_TRUE(Eventually([&] { return runtime_->snapshot().unacked_records >= 4; }));
  runtime_->Stop(absl::ZeroDuration());  // like a restart: unacked records stay spooled
  runtime_.reset();
  fake_.Locked([&] { EXPECT_EQ(ResultOf("job-1"), nullptr); });

  fake_.set_accept_up_to(UINT64_MAX);
  StartRuntime(options);  // the same spool directory
  ASSERT_TRUE(fake_.WaitFor([&] { return ResultOf("job-1") != nullptr; }));
  fake_.Locked([&] {
    const v1::Hello& after = fake_.hellos().back();
    ASSERT_EQ(after.running_jobs_size(), 1);
    EXPECT_EQ(after.running_jobs(0).job_id(), "job-1");
    EXPECT_GT(after.running_jobs(0).last_seq(), 5u);
    const Attempt& a = fake_.attempt("job-1", 1);
    EXPECT_EQ(a.result->outcome(), v1::JOB_OUTCOME_SUCCEEDED);
    ExpectRows(a, 600);  // exactly 1..600: resent, then resumed after the last spooled row
    EXPECT_EQ(a.rows.at(600).synthetic().payload(), SyntheticPayload(600, 8));
  });
  EXPECT_TRUE(Eventually([&] { return runtime_->snapshot().unacked_records == 0; }));
}

TEST_F(WorkerRuntimeTest, ARestartedWorkerDropsWhatIsNotReattached) {
  fake_.set_accept_up_to(2);
  WorkerOptions options = Options();
  options.max_unacked_updates_per_job = 2;
  StartRuntime(options);
  fake_.Assign("job-1", 1, Synthetic(600));
  ASSERT_TRUE(Eventually([&] { return runtime_->snapshot().unacked_records >= 2; }));
  runtime_.reset();  // destructor: stop with no grace

  fake_.set_reattach(false);  // "not yours any more": Cancel not_assigned after Welcome
  fake_.set_accept_up_to(UINT64_MAX);
  StartRuntime(options);
  EXPECT_TRUE(Eventually([&] {
    const auto s = runtime_->snapshot();
    return s.unacked_records == 0 && s.running_jobs == 0;
  }));
  fake_.Locked([&] {
    EXPECT_EQ(fake_.hellos().back().running_jobs_size(), 1);
    EXPECT_EQ(ResultOf("job-1"), nullptr);
  });
  // After another reconnect nothing is reported any more.
  fake_.BreakStream();
  ASSERT_TRUE(fake_.WaitFor([&] { return fake_.hellos().size() >= 3; }));
  fake_.Locked([&] { EXPECT_EQ(fake_.hellos().back().running_jobs_size(), 0); });
}

TEST_F(WorkerRuntimeTest, ARefusedJobIsStoppedAndForgotten) {
  StartRuntime(Options());
  fake_.Refuse("job-1", 9, "job-1 attempt 1 is not held by worker 'test-worker'");
  fake_.Assign("job-1", 1, Synthetic(100000, 1));
  EXPECT_TRUE(Eventually([&] {
    const auto s = runtime_->snapshot();
    return s.running_jobs == 0 && s.unacked_records == 0;
  }));
  fake_.Locked([&] { EXPECT_EQ(ResultOf("job-1"), nullptr); });
  EXPECT_TRUE(runtime_->snapshot().connected);
}

TEST_F(WorkerRuntimeTest, ATransientRefusalIsResentAfterAReconnect) {
  StartRuntime(Options());
  fake_.Refuse("job-1", 14, "store busy", /*times=*/1);
  fake_.Assign("job-1", 1, Synthetic(300));
  ASSERT_TRUE(fake_.WaitFor([&] { return ResultOf("job-1") != nullptr; }));
  fake_.Locked([&] {
    EXPECT_GE(fake_.streams(), 2);
    EXPECT_EQ(ResultOf("job-1")->outcome(), v1::JOB_OUTCOME_SUCCEEDED);
    ExpectRows(fake_.attempt("job-1", 1), 300);
  });
}

TEST_F(WorkerRuntimeTest, GracefulStopDeliversWhatIsSpooled) {
  fake_.set_ack(false);
  StartRuntime(Options());
  fake_.Assign("job-1", 1, Synthetic(100));
  ASSERT_TRUE(fake_.WaitFor([&] { return ResultOf("job-1") != nullptr; }));
  fake_.set_ack(true);
  fake_.BreakStream();  // the next stream re-attaches at the committed seq
  runtime_->Stop(absl::Seconds(30));
  EXPECT_EQ(runtime_->snapshot().unacked_records, 0u);
  EXPECT_TRUE(fake_.WaitFor([&] { return fake_.open_streams() == 0; }));  // closed, not cut
}

TEST_F(WorkerRuntimeTest, KeepsRetryingUntilTheOrchestratorIsBack) {
  // A port with nobody listening: reconnects back off, then the server appears.
  int port = 0;
  {
    grpc::ServerBuilder probe;
    probe.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    auto s = probe.BuildAndStart();
    s->Shutdown();
  }
  WorkerOptions options = Options();
  options.server = absl::StrCat("127.0.0.1:", port);
  HandlerRegistry handlers;
  handlers.Register(v1::JOB_KIND_SYNTHETIC, [] { return std::make_unique<SyntheticHandler>(); });
  auto created = WorkerRuntime::Create(options, std::move(handlers), SystemClock::Get());
  ASSERT_TRUE(created.ok());
  runtime_ = std::move(*created);
  runtime_->Start();
  EXPECT_FALSE(runtime_->WaitConnected(absl::Milliseconds(300)));

  FakeOrchestrator late;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat("127.0.0.1:", port), grpc::InsecureServerCredentials());
  builder.RegisterService(&late);
  auto server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(runtime_->WaitConnected(kWait));
  runtime_.reset();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

TEST(WorkerRuntimeOptions, AreValidated) {
  WorkerOptions o;
  o.worker_id = "bad id!";
  o.capabilities.set_kind(v1::JOB_KIND_SYNTHETIC);
  o.capabilities.set_channels(1);
  o.spool_dir = "/tmp/x";
  absl::Status s = ValidateWorkerOptions(o);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("worker_id"));
  o.worker_id = "ok-id";
  o.capabilities.set_channels(0);
  EXPECT_THAT(std::string(ValidateWorkerOptions(o).message()), HasSubstr("channels"));
}

// The real orchestrator in this process, reached over loopback: a synthetic job goes
// QUEUED → SUCCEEDED through the scheduler, and every measurement is stored once.
TEST(WorkerRuntimeWithIonloopd, RunsASubmittedJob) {
  TempDir dir;
  orchestrator::OrchestratorConfig config;
  config.listen_address = "127.0.0.1:0";
  config.data_dir = dir.path() + "/data";
  config.scheduler.tick = absl::Milliseconds(10);
  auto started = orchestrator::Orchestrator::Start(config, SystemClock::Get());
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<orchestrator::Orchestrator> ionloopd = std::move(*started);

  WorkerOptions o;
  o.server = ionloopd->listen_address();
  o.worker_id = "synthetic-1";
  o.capabilities.set_kind(v1::JOB_KIND_SYNTHETIC);
  o.capabilities.set_channels(2);
  o.spool_dir = dir.path() + "/spool";
  HandlerRegistry handlers;
  handlers.Register(v1::JOB_KIND_SYNTHETIC, [] { return std::make_unique<SyntheticHandler>(); });
  auto runtime = WorkerRuntime::Create(o, std::move(handlers), SystemClock::Get());
  ASSERT_TRUE(runtime.ok()) << runtime.status();
  (*runtime)->Start();
  ASSERT_TRUE((*runtime)->WaitConnected(kWait));

  auto jobs = v1::Jobs::NewStub(ionloopd->InProcessChannel());
  v1::SubmitJobRequest request;
  *request.mutable_spec() = Synthetic(3000, 0, 64);
  v1::SubmitJobResponse submitted;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(jobs->SubmitJob(&ctx, request, &submitted).ok());
  }
  const std::string id = submitted.job().id();
  {
    grpc::ClientContext ctx;
    v1::WatchJobRequest watch;
    watch.set_job_id(id);
    auto reader = jobs->WatchJob(&ctx, watch);
    v1::WatchJobResponse event;
    v1::JobState last = v1::JOB_STATE_UNSPECIFIED;
    while (reader->Read(&event)) {
      if (event.has_event()) last = event.event().state();
      if (event.has_job()) last = event.job().state();
      if (last == v1::JOB_STATE_SUCCEEDED || last == v1::JOB_STATE_FAILED) break;
    }
    ctx.TryCancel();
    EXPECT_EQ(last, v1::JOB_STATE_SUCCEEDED);
  }
  {
    grpc::ClientContext ctx;
    v1::ListMeasurementsRequest list;
    list.set_job_id(id);
    auto reader = jobs->ListMeasurements(&ctx, list);
    v1::Measurement m;
    std::set<uint64_t> seqs;
    while (reader->Read(&m)) {
      EXPECT_DOUBLE_EQ(m.synthetic().value(), SyntheticValue(m.seq()));
      seqs.insert(m.seq());
    }
    EXPECT_TRUE(reader->Finish().ok());
    EXPECT_EQ(seqs.size(), 3000u);
    EXPECT_EQ(*seqs.begin(), 1u);
    EXPECT_EQ(*seqs.rbegin(), 3000u);
  }
  (*runtime)->Stop(absl::Seconds(5));
  EXPECT_EQ((*runtime)->snapshot().unacked_records, 0u);
  runtime->reset();
  ionloopd->Shutdown(absl::Seconds(1));
}

}  // namespace
}  // namespace ionloop::worker
