#include "orchestrator/jobs/job_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "orchestrator/store/sqlite_store.h"
#include "tests/testing/job_specs.h"
#include "tests/testing/temp_dir.h"

namespace ionloop::orchestrator {
namespace {

using ::ionloop::testing::CycleMeasurement;
using ::ionloop::testing::Details;
using ::ionloop::testing::CyclingSpec;
using ::ionloop::testing::SyntheticSpec;
using ::testing::HasSubstr;

class JobManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Open(dir_.path() + "/ionloop.db");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    manager_ = std::make_unique<JobManager>(store_.get(), &bus_, &clock_);
  }

  v1::Job Submit(const v1::JobSpec& spec, const std::string& key = "") {
    v1::SubmitJobRequest request;
    *request.mutable_spec() = spec;
    request.set_idempotency_key(key);
    auto response = manager_->Submit(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->job() : v1::Job();
  }

  absl::StatusOr<v1::Job> Cancel(const std::string& id, const std::string& reason = "") {
    v1::CancelJobRequest request;
    request.set_job_id(id);
    request.set_reason(reason);
    return manager_->Cancel(request);
  }

  ionloop::testing::TempDir dir_;
  FakeClock clock_;
  JobEventBus bus_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<JobManager> manager_;
};

TEST_F(JobManagerTest, SubmitValidatesBeforeStoring) {
  v1::JobSpec bad = CyclingSpec();
  bad.mutable_cycling()->mutable_cell()->mutable_protocol()->set_charge_c_rate(-1);
  v1::SubmitJobRequest request;
  *request.mutable_spec() = bad;
  auto response = manager_->Submit(request);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(response.status().message()), HasSubstr("charge_c_rate"));
  EXPECT_EQ(store_->Stats()->job_total, 0u);
}

TEST_F(JobManagerTest, SubmitStampsTheInjectedClock) {
  clock_.Set(absl::FromUnixSeconds(1'800'000'000));
  const v1::Job job = Submit(CyclingSpec());
  EXPECT_EQ(job.created_at().seconds(), 1'800'000'000);
  EXPECT_EQ(job.state(), v1::JOB_STATE_QUEUED);
}

TEST_F(JobManagerTest, IdempotentSubmitReportsNotCreated) {
  v1::SubmitJobRequest request;
  *request.mutable_spec() = SyntheticSpec();
  request.set_idempotency_key("run-17");
  auto first = manager_->Submit(request);
  auto second = manager_->Submit(request);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(first->created());
  EXPECT_FALSE(second->created());
  EXPECT_EQ(first->job().id(), second->job().id());
}

TEST_F(JobManagerTest, CancellingAQueuedJobEndsItAtOnce) {
  const v1::Job job = Submit(SyntheticSpec());
  auto cancelled = Cancel(job.id(), "operator");
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->state(), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(cancelled->cancel_reason(), "operator");
  auto again = Cancel(job.id());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(again.status().message()), HasSubstr("CANCELLED"));
}

TEST_F(JobManagerTest, CancellingARunningJobAsksItsWorker) {
  const v1::Job job = Submit(SyntheticSpec());
  ASSERT_TRUE(manager_->Transition(job.id(), v1::JOB_STATE_ASSIGNED,
                                   Details("", "w1", 1u)).ok());
  ASSERT_TRUE(manager_->Transition(job.id(), v1::JOB_STATE_RUNNING, {}).ok());
  auto requested = Cancel(job.id());
  ASSERT_TRUE(requested.ok()) << requested.status();
  EXPECT_EQ(requested->state(), v1::JOB_STATE_RUNNING);
  EXPECT_TRUE(requested->cancel_requested());
  EXPECT_EQ(requested->cancel_reason(), "user");  // the default reason
  EXPECT_EQ(requested->worker_id(), "w1");
  // Asking twice adds no event.
  const size_t events = store_->ListJobEvents(job.id(), 0)->size();
  ASSERT_TRUE(Cancel(job.id()).ok());
  EXPECT_EQ(store_->ListJobEvents(job.id(), 0)->size(), events);
  // The worker confirms.
  auto done = manager_->Transition(job.id(), v1::JOB_STATE_CANCELLED, Details("stopped"));
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state(), v1::JOB_STATE_CANCELLED);
}

TEST_F(JobManagerTest, IllegalTransitionsAreFailedPrecondition) {
  const v1::Job job = Submit(SyntheticSpec());
  auto r = manager_->Transition(job.id(), v1::JOB_STATE_SUCCEEDED, {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->GetJob(job.id())->state(), v1::JOB_STATE_QUEUED);
}

TEST_F(JobManagerTest, BadIdsAndReasons) {
  EXPECT_EQ(Cancel("job-99").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Cancel("99").status().code(), absl::StatusCode::kInvalidArgument);
  const v1::Job job = Submit(SyntheticSpec());
  EXPECT_EQ(Cancel(job.id(), std::string(300, 'x')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Cancel(job.id(), "bad\nreason").status().code(), absl::StatusCode::kInvalidArgument);
  v1::GetJobRequest get;
  get.set_job_id("");
  auto r = manager_->Get(get);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("job_id"));
}

TEST_F(JobManagerTest, WatchSeesTheCurrentStateThenEveryLaterEvent) {
  const v1::Job job = Submit(SyntheticSpec());
  ASSERT_TRUE(manager_->Transition(job.id(), v1::JOB_STATE_ASSIGNED, {}).ok());
  std::vector<v1::JobEvent> seen;
  v1::WatchJobRequest request;
  request.set_job_id(job.id());
  auto watch = manager_->StartWatch(
      request, [&](const v1::JobEvent& e, const v1::Job&) { seen.push_back(e); });
  ASSERT_TRUE(watch.ok()) << watch.status();
  EXPECT_EQ(watch->current.job().state(), v1::JOB_STATE_ASSIGNED);
  EXPECT_EQ(watch->current.event().seq(), 2u);
  ASSERT_TRUE(manager_->Transition(job.id(), v1::JOB_STATE_RUNNING, {}).ok());
  ASSERT_TRUE(manager_->Transition(job.id(), v1::JOB_STATE_SUCCEEDED, {}).ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].seq(), 3u);
  EXPECT_EQ(seen[1].state(), v1::JOB_STATE_SUCCEEDED);
  // Other jobs' events do not reach this watcher.
  Submit(SyntheticSpec());
  EXPECT_EQ(seen.size(), 2u);
  watch->subscription.reset();
  EXPECT_EQ(bus_.SubscriberCount(), 0u);
}

TEST_F(JobManagerTest, MeasurementPagesFollowTheCursor) {
  const v1::Job job = Submit(CyclingSpec());
  std::vector<v1::Measurement> batch;
  for (uint64_t seq = 1; seq <= 7; ++seq) batch.push_back(CycleMeasurement(job.id(), 1, seq));
  ASSERT_EQ(*manager_->RecordMeasurements(batch), 7);
  v1::ListMeasurementsRequest request;
  request.set_job_id(job.id());
  auto page = manager_->MeasurementPage(request, MeasurementCursor{1, 3}, 3);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ(page->front().seq(), 4u);
}

}  // namespace
}  // namespace ionloop::orchestrator
