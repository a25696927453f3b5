// The synthetic handler against a fake JobContext: values, failure injection, resume,
// cancel and early stop.
#include "workers/synthetic/synthetic_handler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace ionloop::worker {
namespace {

// Records what the handler emits; cancels itself after `cancel_after` emitted rows.
class FakeContext final : public JobContext {
 public:
  explicit FakeContext(v1::SyntheticJob job, uint64_t resume_after = 0) : resume_after_(resume_after) {
    *spec_.mutable_synthetic() = job;
  }
  const v1::JobSpec& spec() const override { return spec_; }
  const std::string& job_id() const override { return job_id_; }
  uint32_t attempt() const override { return 1; }
  const std::string& checkpoint() const override { return checkpoint_; }
  uint64_t resume_after_measurement_seq() const override { return resume_after_; }
  absl::Status Emit(std::vector<v1::Measurement> ms, double progress, std::string) override {
    for (auto& m : ms) {
      m.set_seq(resume_after_ + emitted.size() + 1);  // what the runtime does
      emitted.push_back(std::move(m));
    }
    progresses.push_back(progress);
    if (cancel_after > 0 && emitted.size() >= cancel_after) {
      cancelled_ = true;
      reason_ = cancel_reason_to_use;
    }
    return emit_status;
  }
  absl::Status Flush() override { return absl::OkStatus(); }
  bool cancelled() const override { return cancelled_; }
  std::string cancel_reason() const override { return reason_; }
  bool SleepFor(absl::Duration d) override {
    slept += d;
    return !cancelled_;
  }

  std::vector<v1::Measurement> emitted;
  std::vector<double> progresses;
  absl::Duration slept;
  size_t cancel_after = 0;
  std::string cancel_reason_to_use = "user";
  absl::Status emit_status;

 private:
  v1::JobSpec spec_;
  std::string job_id_ = "job-1";
  std::string checkpoint_;
  uint64_t resume_after_;
  bool cancelled_ = false;
  std::string reason_;
};

v1::SyntheticJob Job(uint64_t n, uint32_t interval_ms = 0, uint32_t payload = 0, uint64_t fail_after = 0) {
  v1::SyntheticJob j;
  j.set_measurements(n);
  j.set_interval_ms(interval_ms);
  j.set_payload_bytes(payload);
  j.set_fail_after(fail_after);
  return j;
}

TEST(SyntheticValues, AreAPureFunctionOfSeq) {
  EXPECT_DOUBLE_EQ(SyntheticValue(0), 0.0);
  EXPECT_DOUBLE_EQ(SyntheticValue(100), std::sin(1.0) + 0.1);
  EXPECT_EQ(SyntheticPayload(7, 33), SyntheticPayload(7, 33));
  EXPECT_NE(SyntheticPayload(7, 33), SyntheticPayload(8, 33));
  EXPECT_EQ(SyntheticPayload(7, 33).size(), 33u);
  EXPECT_TRUE(SyntheticPayload(7, 0).empty());
}

TEST(SyntheticHandler, EmitsAllSamplesWithProgressAndSucceeds) {
  FakeContext ctx(Job(50, 2, 16));
  JobResultReport r = SyntheticHandler().Run(ctx);
  EXPECT_EQ(r.outcome, v1::JOB_OUTCOME_SUCCEEDED);
  ASSERT_EQ(ctx.emitted.size(), 50u);
  for (size_t i = 0; i < ctx.emitted.size(); ++i) {
    const uint64_t seq = i + 1;
    EXPECT_DOUBLE_EQ(ctx.emitted[i].synthetic().value(), SyntheticValue(seq));
    EXPECT_EQ(ctx.emitted[i].synthetic().payload(), SyntheticPayload(seq, 16));
  }
  EXPECT_DOUBLE_EQ(ctx.progresses.back(), 1.0);
  EXPECT_DOUBLE_EQ(ctx.progresses.front(), 1.0 / 50);
  EXPECT_EQ(ctx.slept, absl::Milliseconds(2 * 49));  // between samples, not after the last
  EXPECT_DOUBLE_EQ(r.summary.at("measurements"), 50);
}

TEST(SyntheticHandler, FailsAfterFailAfterSamples) {
  FakeContext ctx(Job(50, 0, 0, 20));
  JobResultReport r = SyntheticHandler().Run(ctx);
  EXPECT_EQ(r.outcome, v1::JOB_OUTCOME_FAILED);
  EXPECT_EQ(ctx.emitted.size(), 20u);
  EXPECT_NE(r.message.find("fail_after"), std::string::npos);
}

TEST(SyntheticHandler, FailAfterBeyondTheTotalNeverFires) {
  FakeContext ctx(Job(10, 0, 0, 11));
  EXPECT_EQ(SyntheticHandler().Run(ctx).outcome, v1::JOB_OUTCOME_SUCCEEDED);
  EXPECT_EQ(ctx.emitted.size(), 10u);
}

TEST(SyntheticHandler, ResumesAfterTheLastSpooledSample) {
  FakeContext ctx(Job(30, 0, 8), /*resume_after=*/12);
  JobResultReport r = SyntheticHandler().Run(ctx);
  EXPECT_EQ(r.outcome, v1::JOB_OUTCOME_SUCCEEDED);
  ASSERT_EQ(ctx.emitted.size(), 18u);
  EXPECT_EQ(ctx.emitted.front().seq(), 13u);
  EXPECT_DOUBLE_EQ(ctx.emitted.front().synthetic().value(), SyntheticValue(13));
  EXPECT_EQ(ctx.emitted.back().synthetic().payload(), SyntheticPayload(30, 8));
}

TEST(SyntheticHandler, ResumedPastTheEndJustSucceeds) {
  FakeContext ctx(Job(30), /*resume_after=*/30);
  EXPECT_EQ(SyntheticHandler().Run(ctx).outcome, v1::JOB_OUTCOME_SUCCEEDED);
  EXPECT_TRUE(ctx.emitted.empty());
}

TEST(SyntheticHandler, StopsOnCancel) {
  FakeContext ctx(Job(1000, 1));
  ctx.cancel_after = 7;
  JobResultReport r = SyntheticHandler().Run(ctx);
  EXPECT_EQ(r.outcome, v1::JOB_OUTCOME_CANCELLED);
  EXPECT_FALSE(r.stopped_early);
  EXPECT_EQ(ctx.emitted.size(), 7u);
  EXPECT_NE(r.message.find("user"), std::string::npos);
}

TEST(SyntheticHandler, EarlyStopIsASuccessThatStoppedEarly) {
  FakeContext ctx(Job(1000));
  ctx.cancel_after = 9;
  ctx.cancel_reason_to_use = kCancelEarlyStop;
  JobResultReport r = SyntheticHandler().Run(ctx);
  EXPECT_EQ(r.outcome, v1::JOB_OUTCOME_SUCCEEDED);
  EXPECT_TRUE(r.stopped_early);
  EXPECT_DOUBLE_EQ(r.summary.at("measurements"), 9);
}

TEST(SyntheticHandler, AnEmitErrorFailsTheAttempt) {
  FakeContext ctx(Job(10));
  ctx.emit_status = absl::FailedPreconditionError("job-1/1 is no longer this worker's");
  JobResultReport r = SyntheticHandler().Run(ctx);
  EXPECT_EQ(r.outcome, v1::JOB_OUTCOME_FAILED);
  EXPECT_EQ(ctx.emitted.size(), 1u);
}

// A context whose spec is not synthetic.
class CyclingContext final : public JobContext {
 public:
  CyclingContext() { spec_.mutable_cycling(); }
  const v1::JobSpec& spec() const override { return spec_; }
  const std::string& job_id() const override { return text_; }
  uint32_t attempt() const override { return 1; }
  const std::string& checkpoint() const override { return text_; }
  uint64_t resume_after_measurement_seq() const override { return 0; }
  absl::Status Emit(std::vector<v1::Measurement>, double, std::string) override {
    return absl::OkStatus();
  }
  absl::Status Flush() override { return absl::OkStatus(); }
  bool cancelled() const override { return false; }
  std::string cancel_reason() const override { return ""; }
  bool SleepFor(absl::Duration) override { return true; }

 private:
  v1::JobSpec spec_;
  std::string text_;
};

TEST(SyntheticHandler, ASpecOfAnotherKindFails) {
  CyclingContext ctx;
  JobResultReport r = SyntheticHandler().Run(ctx);
  EXPECT_EQ(r.outcome, v1::JOB_OUTCOME_FAILED);
  EXPECT_NE(r.message.find("spec.synthetic"), std::string::npos);
}

}  // namespace
}  // namespace ionloop::worker
