// The scheduler core with a fake clock and fake worker channels: no network, no
// threads. Each test drives time by hand and calls Tick().
#include "orchestrator/scheduler/scheduler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "orchestrator/store/sqlite_store.h"
#include "tests/testing/job_specs.h"
#include "tests/testing/temp_dir.h"

namespace ionloop::orchestrator::scheduler {
namespace {

using ::ionloop::testing::CyclingSpec;
using ::ionloop::testing::SyntheticSpec;
using ::testing::HasSubstr;

// Records what the scheduler sends.
class FakeChannel final : public WorkerChannel {
 public:
  void Send(const v1::OrchestratorMessage& message) override { sent.push_back(message); }
  void Close(const absl::Status& status) override { closed = status; }

  std::vector<v1::Assign> Assigns() const {
    std::vector<v1::Assign> out;
    for (const auto& m : sent) {
      if (m.has_assign()) out.push_back(m.assign());
    }
    return out;
  }
  std::vector<v1::Cancel> Cancels() const {
    std::vector<v1::Cancel> out;
    for (const auto& m : sent) {
      if (m.has_cancel()) out.push_back(m.cancel());
    }
    return out;
  }

  std::vector<v1::OrchestratorMessage> sent;
  std::optional<absl::Status> closed;
};

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Open(dir_.path() + "/ionloop.db");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    jobs_ = std::make_unique<JobManager>(store_.get(), &bus_, &clock_);
    config_.lease = absl::Seconds(5);
    config_.grace = absl::Seconds(30);
    config_.cancel_timeout = absl::Seconds(20);
    config_.max_attempts = 2;
    MakeScheduler();
  }

  void MakeScheduler() {
    subscription_.reset();
    scheduler_ = std::make_unique<Scheduler>(jobs_.get(), &clock_, config_);
    subscription_ = bus_.Subscribe("", [this](const v1::JobEvent& e, const v1::Job& j) {
      scheduler_->OnJobEvent(e, j);
    });
  }

  static v1::Hello SyntheticHello(const std::string& id, int channels = 1) {
    v1::Hello hello;
    hello.set_worker_id(id);
    hello.mutable_capabilities()->set_kind(v1::JOB_KIND_SYNTHETIC);
    hello.mutable_capabilities()->set_channels(channels);
    return hello;
  }

  static v1::Hello CyclerHello(const std::string& id, int channels = 2) {
    v1::Hello hello;
    hello.set_worker_id(id);
    v1::Capabilities* caps = hello.mutable_capabilities();
    caps->set_kind(v1::JOB_KIND_CYCLING);
    caps->set_channels(channels);
    caps->set_temperature_min_c(-20);
    caps->set_temperature_max_c(60);
    caps->set_voltage_min_v(0);
    caps->set_voltage_max_v(5);
    caps->set_current_max_a(10);
    return hello;
  }

  std::shared_ptr<FakeChannel> Connect(const v1::Hello& hello) {
    auto channel = std::make_shared<FakeChannel>();
    absl::Status s = scheduler_->Connect(hello, channel);
    EXPECT_TRUE(s.ok()) << s;
    return channel;
  }

  std::string Submit(const v1::JobSpec& spec) {
    v1::SubmitJobRequest request;
    *request.mutable_spec() = spec;
    auto response = jobs_->Submit(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response->job().id();
  }

  v1::Job Get(const std::string& id) { return *store_->GetJob(id); }

  v1::JobUpdate Update(const v1::Assign& assign, uint64_t seq, int measurements = 1) {
    v1::JobUpdate u;
    u.set_job_id(assign.job_id());
    u.set_attempt(assign.attempt());
    u.set_seq(seq);
    u.set_progress(0.5);
    for (int i = 0; i < measurements; ++i) {
      v1::Measurement* m = u.add_measurements();
      m->set_seq((seq - 1) * measurements + i + 1);
      m->mutable_synthetic()->set_value(1.0);
    }
    return u;
  }

  v1::JobResult Result(const v1::Assign& assign, uint64_t seq, v1::JobOutcome outcome) {
    v1::JobResult r;
    r.set_job_id(assign.job_id());
    r.set_attempt(assign.attempt());
    r.set_seq(seq);
    r.set_outcome(outcome);
    return r;
  }

  ionloop::testing::TempDir dir_;
  FakeClock clock_;
  JobEventBus bus_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<JobManager> jobs_;
  SchedulerConfig config_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<JobEventBus::Subscription> subscription_;
};

TEST_F(SchedulerTest, WelcomeComesFirstAndCarriesTheTimings) {
  auto channel = Connect(SyntheticHello("w1"));
  ASSERT_FALSE(channel->sent.empty());
  ASSERT_TRUE(channel->sent[0].has_welcome());
  EXPECT_EQ(channel->sent[0].welcome().lease_ms(), 5000u);
  EXPECT_EQ(channel->sent[0].welcome().grace_ms(), 30000u);
}

TEST_F(SchedulerTest, AssignsOnlyToACapableWorkerWithAFreeChannel) {
  const std::string synthetic = Submit(SyntheticSpec());
  const std::string cycling = Submit(CyclingSpec());
  auto w1 = Connect(SyntheticHello("w1", 1));
  auto cycler = Connect(CyclerHello("cycler-1"));
  scheduler_->Tick();
  ASSERT_EQ(w1->Assigns().size(), 1u);
  EXPECT_EQ(w1->Assigns()[0].job_id(), synthetic);
  EXPECT_EQ(w1->Assigns()[0].attempt(), 1u);
  ASSERT_EQ(cycler->Assigns().size(), 1u);
  EXPECT_EQ(cycler->Assigns()[0].job_id(), cycling);
  EXPECT_EQ(Get(synthetic).state(), v1::JOB_STATE_ASSIGNED);
  EXPECT_EQ(Get(synthetic).worker_id(), "w1");

  // The channel is full: a second synthetic job waits.
  const std::string waiting = Submit(SyntheticSpec());
  scheduler_->Tick();
  EXPECT_EQ(w1->Assigns().size(), 1u);
  EXPECT_EQ(Get(waiting).state(), v1::JOB_STATE_QUEUED);
}

TEST_F(SchedulerTest, HigherPriorityGoesFirst) {
  v1::JobSpec low = SyntheticSpec();
  v1::JobSpec high = SyntheticSpec();
  high.set_priority(50);
  Submit(low);
  const std::string urgent = Submit(high);
  auto w1 = Connect(SyntheticHello("w1", 1));
  scheduler_->Tick();
  ASSERT_EQ(w1->Assigns().size(), 1u);
  EXPECT_EQ(w1->Assigns()[0].job_id(), urgent);
}

TEST_F(SchedulerTest, AJobNoWorkerCanRunSaysSo) {
  v1::JobSpec hot = CyclingSpec();
  hot.mutable_cycling()->mutable_cell()->mutable_protocol()->set_temperature_c(75);
  const std::string id = Submit(hot);
  Connect(CyclerHello("cycler-1"));
  scheduler_->Tick();
  EXPECT_EQ(Get(id).state(), v1::JOB_STATE_QUEUED);
  EXPECT_THAT(Get(id).message(), HasSubstr("no registered worker can run this job"));
  EXPECT_THAT(Get(id).message(), HasSubstr("cycler-1"));
  EXPECT_THAT(Get(id).message(), HasSubstr("75"));
}

TEST_F(SchedulerTest, UpdatesAreAppliedInOrderExactlyOnce) {
  Submit(SyntheticSpec());
  auto w1 = Connect(SyntheticHello("w1"));
  scheduler_->Tick();
  const v1::Assign assign = w1->Assigns().at(0);

  v1::OrchestratorMessage ack = scheduler_->HandleUpdate("w1", Update(assign, 1, 3));
  ASSERT_TRUE(ack.has_ack()) << ack.DebugString();
  EXPECT_EQ(ack.ack().seq(), 1u);
  EXPECT_EQ(Get(assign.job_id()).state(), v1::JOB_STATE_RUNNING);
  // A resend is acked again and stores nothing twice.
  ack = scheduler_->HandleUpdate("w1", Update(assign, 1, 3));
  EXPECT_TRUE(ack.has_ack());
  EXPECT_EQ(Get(assign.job_id()).measurement_count(), 3u);
  // A gap is refused, nothing stored.
  v1::OrchestratorMessage gap = scheduler_->HandleUpdate("w1", Update(assign, 3, 3));
  ASSERT_TRUE(gap.has_error());
  EXPECT_EQ(gap.error().code(), static_cast<int>(absl::StatusCode::kAborted));
  EXPECT_THAT(gap.error().message(), HasSubstr("expected seq 2"));
  EXPECT_EQ(Get(assign.job_id()).measurement_count(), 3u);
  ASSERT_TRUE(scheduler_->HandleUpdate("w1", Update(assign, 2, 3)).has_ack());
  ASSERT_TRUE(
      scheduler_->HandleResult("w1", Result(assign, 3, v1::JOB_OUTCOME_SUCCEEDED)).has_ack());
  EXPECT_EQ(Get(assign.job_id()).state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(Get(assign.job_id()).measurement_count(), 6u);
  // The result's resend is still acked after the job ended.
  EXPECT_TRUE(
      scheduler_->HandleResult("w1", Result(assign, 3, v1::JOB_OUTCOME_SUCCEEDED)).has_ack());
}

TEST_F(SchedulerTest, ReportsForJobsTheWorkerDoesNotHoldAreRefused) {
  Submit(SyntheticSpec());
  auto w1 = Connect(SyntheticHello("w1"));
  auto w2 = Connect(SyntheticHello("w2"));
  scheduler_->Tick();
  const v1::Assign assign = !w1->Assigns().empty() ? w1->Assigns()[0] : w2->Assigns()[0];
  const std::string holder = !w1->Assigns().empty() ? "w1" : "w2";
  const std::string other = holder == "w1" ? "w2" : "w1";
  v1::OrchestratorMessage refused = scheduler_->HandleUpdate(other, Update(assign, 1));
  ASSERT_TRUE(refused.has_error());
  EXPECT_THAT(refused.error().message(), HasSubstr("not held by worker '" + other + "'"));
  v1::JobUpdate wrong_attempt = Update(assign, 1);
  wrong_attempt.set_attempt(7);
  EXPECT_TRUE(scheduler_->HandleUpdate(holder, wrong_attempt).has_error());
  v1::JobUpdate unknown = Update(assign, 1);
  unknown.set_job_id("job-999");
  v1::OrchestratorMessage missing = scheduler_->HandleUpdate(holder, unknown);
  ASSERT_TRUE(missing.has_error());
  EXPECT_EQ(missing.error().code(), static_cast<int>(absl::StatusCode::kNotFound));
  v1::JobUpdate malformed = Update(assign, 1);
  malformed.set_progress(2.0);
  v1::OrchestratorMessage bad = scheduler_->HandleUpdate(holder, malformed);
  ASSERT_TRUE(bad.has_error());
  EXPECT_EQ(bad.error().code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(Get(assign.job_id()).measurement_count(), 0u);
}

TEST_F(SchedulerTest, ADuplicateWorkerIdIsRefusedWhileTheFirstIsLive) {
  auto first = Connect(SyntheticHello("w1"));
  auto second = std::make_shared<FakeChannel>();
  absl::Status s = scheduler_->Connect(SyntheticHello("w1"), second);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(second->sent.empty());
  scheduler_->Disconnect("w1", first.get());
  EXPECT_TRUE(scheduler_->Connect(SyntheticHello("w1"), second).ok());
}

TEST_F(SchedulerTest, MalformedHellosAreRefused) {
  auto channel = std::make_shared<FakeChannel>();
  v1::Hello no_id = SyntheticHello("");
  EXPECT_EQ(scheduler_->Connect(no_id, channel).code(), absl::StatusCode::kInvalidArgument);
  v1::Hello bad_id = SyntheticHello("w 1/2");
  EXPECT_EQ(scheduler_->Connect(bad_id, channel).code(), absl::StatusCode::kInvalidArgument);
  v1::Hello no_channels = SyntheticHello("w1", 0);
  EXPECT_EQ(scheduler_->Connect(no_channels, channel).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SchedulerTest, ASilentWorkerLosesItsLeaseThenARestartableJobIsRequeuedWithBackoff) {
  const std::string id = Submit(SyntheticSpec());
  auto w1 = Connect(SyntheticHello("w1"));
  scheduler_->Tick();
  ASSERT_EQ(w1->Assigns().size(), 1u);

  clock_.Advance(absl::Seconds(4));
  scheduler_->Heartbeat("w1");
  clock_.Advance(absl::Seconds(4));
  scheduler_->Tick();
  EXPECT_FALSE(w1->closed.has_value());  // the heartbeat renewed the lease
  clock_.Advance(absl::Seconds(2));
  scheduler_->Tick();
  ASSERT_TRUE(w1->closed.has_value());  // 6 s silent > 5 s lease
  EXPECT_EQ(Get(id).state(), v1::JOB_STATE_ASSIGNED);  // waits out the grace

  clock_.Advance(absl::Seconds(31));
  scheduler_->Tick();
  const v1::Job retrying = Get(id);
  EXPECT_EQ(retrying.state(), v1::JOB_STATE_RETRYING);
  EXPECT_EQ(retrying.attempt(), 1u);
  EXPECT_THAT(retrying.message(), HasSubstr("silent past its grace"));

  // Another worker gets it only after the backoff (1 s for a first retry).
  auto w2 = Connect(SyntheticHello("w2"));
  scheduler_->Tick();
  EXPECT_TRUE(w2->Assigns().empty());
  clock_.Advance(absl::Seconds(2));
  scheduler_->Tick();
  ASSERT_EQ(w2->Assigns().size(), 1u);
  EXPECT_EQ(w2->Assigns()[0].attempt(), 2u);
}

TEST_F(SchedulerTest, ARestartableJobFailsAfterMaxAttempts) {
  const std::string id = Submit(SyntheticSpec());
  for (int attempt = 1; attempt <= config_.max_attempts; ++attempt) {
    const std::string worker = "w" + std::to_string(attempt);
    auto channel = Connect(SyntheticHello(worker));
    clock_.Advance(absl::Minutes(2));  // past any backoff
    scheduler_->Heartbeat(worker);
    scheduler_->Tick();
    ASSERT_EQ(channel->Assigns().size(), 1u) << attempt;
    scheduler_->Disconnect(worker, channel.get());
    clock_.Advance(absl::Seconds(31));
    scheduler_->Tick();
  }
  EXPECT_EQ(Get(id).state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(Get(id).message(), HasSubstr("giving up"));
}

TEST_F(SchedulerTest, APinnedJobBecomesLostWithItsDataKept) {
  const std::string id = Submit(CyclingSpec());
  auto cycler = Connect(CyclerHello("cycler-1"));
  scheduler_->Tick();
  const v1::Assign assign = cycler->Assigns().at(0);
  ASSERT_TRUE(scheduler_->HandleUpdate("cycler-1", Update(assign, 1, 5)).has_ack());
  scheduler_->Disconnect("cycler-1", cycler.get());
  clock_.Advance(absl::Seconds(29));
  scheduler_->Tick();
  EXPECT_EQ(Get(id).state(), v1::JOB_STATE_RUNNING);
  clock_.Advance(absl::Seconds(2));
  scheduler_->Tick();
  EXPECT_EQ(Get(id).state(), v1::JOB_STATE_LOST);
  EXPECT_EQ(Get(id).measurement_count(), 5u);
}

TEST_F(SchedulerTest, AWorkerBackWithinGraceReattachesItsJobs) {
  const std::string id = Submit(CyclingSpec());
  auto cycler = Connect(CyclerHello("cycler-1"));
  scheduler_->Tick();
  const v1::Assign assign = cycler->Assigns().at(0);
  ASSERT_TRUE(scheduler_->HandleUpdate("cycler-1", Update(assign, 1)).has_ack());
  scheduler_->Disconnect("cycler-1", cycler.get());
  clock_.Advance(absl::Seconds(20));

  v1::Hello hello = CyclerHello("cycler-1");
  v1::RunningJob* running = hello.add_running_jobs();
  running->set_job_id(id);
  running->set_attempt(assign.attempt());
  running->set_last_seq(2);
  v1::RunningJob* stale = hello.add_running_jobs();  // not its job: told to stop
  stale->set_job_id("job-77");
  stale->set_attempt(1);
  auto back = Connect(hello);
  ASSERT_TRUE(back->sent.at(0).has_welcome());
  const v1::Welcome& welcome = back->sent[0].welcome();
  ASSERT_EQ(welcome.reattached_size(), 1);
  EXPECT_EQ(welcome.reattached(0).job_id(), id);
  EXPECT_EQ(welcome.reattached(0).seq(), 1u);  // what it has committed
  ASSERT_EQ(back->Cancels().size(), 1u);
  EXPECT_EQ(back->Cancels()[0].job_id(), "job-77");
  EXPECT_EQ(back->Cancels()[0].reason(), "not_assigned");

  clock_.Advance(absl::Seconds(20));  // past the original grace: no longer counts
  scheduler_->Heartbeat("cycler-1");
  scheduler_->Tick();
  EXPECT_EQ(Get(id).state(), v1::JOB_STATE_RUNNING);
  EXPECT_TRUE(scheduler_->HandleUpdate("cycler-1", Update(assign, 2)).has_ack());
}

TEST_F(SchedulerTest, AWorkerBackWithoutItsJobReleasesIt) {
  const std::string id = Submit(SyntheticSpec());
  auto w1 = Connect(SyntheticHello("w1"));
  scheduler_->Tick();
  scheduler_->Disconnect("w1", w1.get());
  Connect(SyntheticHello("w1"));  // restarted, reports nothing
  EXPECT_EQ(Get(id).state(), v1::JOB_STATE_RETRYING);
  EXPECT_THAT(Get(id).message(), HasSubstr("came back without it"));
}

TEST_F(SchedulerTest, CancelReachesTheWorkerAndEndsWhenConfirmed) {
  const std::string id = Submit(SyntheticSpec());
  auto w1 = Connect(SyntheticHello("w1"));
  scheduler_->Tick();
  const v1::Assign assign = w1->Assigns().at(0);
  v1::CancelJobRequest cancel;
  cancel.set_job_id(id);
  cancel.set_reason("early_stop");
  ASSERT_TRUE(jobs_->Cancel(cancel).ok());
  ASSERT_EQ(w1->Cancels().size(), 1u);  // at once, not at the next tick
  EXPECT_EQ(w1->Cancels()[0].reason(), "early_stop");
  v1::JobResult confirmed = Result(assign, 1, v1::JOB_OUTCOME_CANCELLED);
  confirmed.set_stopped_early(true);
  ASSERT_TRUE(scheduler_->HandleResult("w1", confirmed).has_ack());
  EXPECT_EQ(Get(id).state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_THAT(Get(id).message(), HasSubstr("stopped early"));
}

TEST_F(SchedulerTest, AnUnconfirmedCancelTimesOut) {
  const std::string id = Submit(SyntheticSpec());
  auto w1 = Connect(SyntheticHello("w1"));
  scheduler_->Tick();
  v1::CancelJobRequest cancel;
  cancel.set_job_id(id);
  ASSERT_TRUE(jobs_->Cancel(cancel).ok());
  clock_.Advance(absl::Seconds(3));
  scheduler_->Heartbeat("w1");
  scheduler_->Tick();
  EXPECT_EQ(Get(id).state(), v1::JOB_STATE_ASSIGNED);
  for (int i = 0; i < 6; ++i) {
    clock_.Advance(absl::Seconds(4));
    scheduler_->Heartbeat("w1");
    scheduler_->Tick();
  }
  EXPECT_EQ(Get(id).state(), v1::JOB_STATE_CANCELLED);
  EXPECT_THAT(Get(id).message(), HasSubstr("did not confirm"));
}

TEST_F(SchedulerTest, AfterARestartHeldJobsWaitForTheirWorkers) {
  const std::string id = Submit(SyntheticSpec());
  auto w1 = Connect(SyntheticHello("w1"));
  scheduler_->Tick();
  const v1::Assign assign = w1->Assigns().at(0);
  ASSERT_TRUE(scheduler_->HandleUpdate("w1", Update(assign, 1)).has_ack());

  // ionloopd restarts: a new scheduler over the same store.
  MakeScheduler();
  ASSERT_TRUE(scheduler_->Recover().ok());
  std::vector<v1::WorkerInfo> workers = scheduler_->ListWorkers();
  ASSERT_EQ(workers.size(), 1u);
  EXPECT_EQ(workers[0].state(), v1::WORKER_STATE_DISCONNECTED);
  EXPECT_THAT(workers[0].running_job_ids(), ::testing::ElementsAre(id));

  v1::Hello hello = SyntheticHello("w1");
  v1::RunningJob* running = hello.add_running_jobs();
  running->set_job_id(id);
  running->set_attempt(1);
  auto back = Connect(hello);
  ASSERT_EQ(back->sent.at(0).welcome().reattached_size(), 1);
  EXPECT_TRUE(scheduler_->HandleUpdate("w1", Update(assign, 2)).has_ack());
  EXPECT_EQ(scheduler_->ListWorkers()[0].state(), v1::WORKER_STATE_CONNECTED);
}

TEST(RetryBackoffTest, DoublesUpToTheCap) {
  SchedulerConfig config;
  config.backoff_base = absl::Seconds(1);
  config.backoff_max = absl::Seconds(10);
  EXPECT_EQ(RetryBackoff(config, 1), absl::Seconds(1));
  EXPECT_EQ(RetryBackoff(config, 2), absl::Seconds(2));
  EXPECT_EQ(RetryBackoff(config, 4), absl::Seconds(8));
  EXPECT_EQ(RetryBackoff(config, 5), absl::Seconds(10));
  EXPECT_EQ(RetryBackoff(config, 60), absl::Seconds(10));
}

// Training jobs run inside ionloopd; a worker cannot offer to run them, and the
// scheduler writes no "no registered worker" reason on them.
TEST_F(SchedulerTest, TrainingIsNeverAWorkersKind) {
  v1::Hello hello = SyntheticHello("trainer");
  hello.mutable_capabilities()->set_kind(v1::JOB_KIND_TRAINING);
  const absl::Status refused = scheduler_->Connect(hello, std::make_shared<FakeChannel>());
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.message()), HasSubstr("hello.capabilities.kind"));
  EXPECT_THAT(std::string(refused.message()), HasSubstr("inside ionloopd"));

  v1::JobSpec spec;
  spec.mutable_training()->set_kind(v1::MODEL_KIND_LIFETIME);
  spec.mutable_training()->set_model_name("life");
  spec.mutable_training()->mutable_data()->set_folder("virtual:10");
  const std::string id = Submit(spec);
  auto w1 = Connect(SyntheticHello("w1"));
  scheduler_->Tick();
  v1::GetJobRequest get;
  get.set_job_id(id);
  const absl::StatusOr<v1::Job> job = jobs_->Get(get);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state(), v1::JOB_STATE_QUEUED);
  EXPECT_THAT(job->message(), ::testing::Not(HasSubstr("no registered worker")));
}

}  // namespace
}  // namespace ionloop::orchestrator::scheduler
