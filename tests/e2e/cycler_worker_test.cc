// Real ionloopd and `ionloop-worker --kind cycler` (virtual backend, 1 ms per cycle) on
// loopback: a cycling job streams its cycle records to SUCCEEDED; Cancel{early_stop}
// ends one SUCCEEDED, "stopped early".
#include <google/protobuf/util/json_util.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "ionloop/v1/jobs.grpc.pb.h"
#include "tests/e2e/process_helpers.h"

namespace ionloop::testing {
namespace {

class CyclerWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto daemon = DaemonProcess::Start(dir_.path() + "/data",
                                       {"--heartbeat-ms=100", "--lease-ms=800", "--grace-ms=20000"});
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = std::move(*daemon);
    jobs_ = v1::Jobs::NewStub(
        grpc::CreateChannel(daemon_->address(), grpc::InsecureChannelCredentials()));
    StartCycler("1");
  }

  void StartCycler(const std::string& period_ms) {
    auto worker = StartWorkerWithArgs(daemon_->address(), "cycler-1", dir_.path() + "/spool",
                                      /*channels=*/2, "cycler", {"--cycle-period-ms=" + period_ms});
    ASSERT_TRUE(worker.ok()) << worker.status();
    worker_ = std::move(*worker);
  }

  // examples/jobs/cycling.json with `max_cycles`.
  static v1::JobSpec ExampleCycling(uint32_t max_cycles) {
    std::ifstream in(ExamplesDir() + "/jobs/cycling.json");
    std::stringstream json;
    json << in.rdbuf();
    v1::JobSpec spec;
    const auto status = google::protobuf::util::JsonStringToMessage(json.str(), &spec);
    EXPECT_TRUE(status.ok()) << status.ToString();
    spec.mutable_cycling()->set_max_cycles(max_cycles);
    return spec;
  }

  std::string Submit(const v1::JobSpec& spec) {
    grpc::ClientContext ctx;
    v1::SubmitJobRequest request;
    *request.mutable_spec() = spec;
    v1::SubmitJobResponse response;
    const grpc::Status s = jobs_->SubmitJob(&ctx, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.job().id();
  }

  // Follows WatchJob until `done` holds or the job ends (deadline: a failure).
  v1::Job WaitUntil(const std::string& id, const std::function<bool(const v1::Job&)>& done) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    v1::WatchJobRequest request;
    request.set_job_id(id);
    auto reader = jobs_->WatchJob(&ctx, request);
    v1::WatchJobResponse message;
    v1::Job last;
    while (reader->Read(&message)) {
      last = message.job();
      if (done(last)) {
        ctx.TryCancel();
        break;
      }
    }
    reader->Finish();
    return last;
  }

  static bool Ended(const v1::Job& job) {
    return job.state() == v1::JOB_STATE_SUCCEEDED || job.state() == v1::JOB_STATE_FAILED ||
           job.state() == v1::JOB_STATE_CANCELLED || job.state() == v1::JOB_STATE_LOST;
  }

  std::vector<v1::Measurement> Measurements(const std::string& id) {
    grpc::ClientContext ctx;
    v1::ListMeasurementsRequest request;
    request.set_job_id(id);
    auto reader = jobs_->ListMeasurements(&ctx, request);
    std::vector<v1::Measurement> out;
    v1::Measurement m;
    while (reader->Read(&m)) out.push_back(m);
    EXPECT_TRUE(reader->Finish().ok());
    return out;
  }

  TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<ChildProcess> worker_;
  std::unique_ptr<v1::Jobs::Stub> jobs_;
};

TEST_F(CyclerWorkerTest, ACyclingJobStreamsItsCyclesToSucceeded) {
  const std::string id = Submit(ExampleCycling(300));
  const v1::Job done = WaitUntil(id, Ended);
  ASSERT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED) << done.message();
  EXPECT_EQ(done.worker_id(), "cycler-1");
  EXPECT_DOUBLE_EQ(done.progress(), 1.0);

  const std::vector<v1::Measurement> ms = Measurements(id);
  std::vector<v1::CycleRecord> cycles;
  std::vector<uint32_t> curve_cycles;
  for (size_t i = 0; i < ms.size(); ++i) {
    ASSERT_EQ(ms[i].seq(), i + 1);
    if (ms[i].has_cycle()) cycles.push_back(ms[i].cycle());
    if (ms[i].has_voltage_curve()) curve_cycles.push_back(ms[i].voltage_curve().cycle_index());
  }
  // Cycles 1..N, each once: N = 300, or fewer if the cell reached its EOL first.
  ASSERT_GE(cycles.size(), 100u);
  ASSERT_LE(cycles.size(), 300u);
  for (size_t i = 0; i < cycles.size(); ++i) ASSERT_EQ(cycles[i].cycle_index(), i + 1);
  EXPECT_EQ(curve_cycles, (std::vector<uint32_t>{10, 100}));  // voltage_curve_cycles
  EXPECT_EQ(ms.size(), cycles.size() + 2);
  // The capacity fades: the last ten cycles average less than the first ten.
  double first = 0, last = 0;
  for (size_t i = 0; i < 10; ++i) {
    first += cycles[i].discharge_capacity_ah();
    last += cycles[cycles.size() - 1 - i].discharge_capacity_ah();
  }
  EXPECT_LT(last, first);
  EXPECT_GT(cycles.back().elapsed_s(), cycles.front().elapsed_s());
}

TEST_F(CyclerWorkerTest, EarlyStopEndsSucceededStoppedEarly) {
  const std::string id = Submit(ExampleCycling(1'000'000));
  const v1::Job running = WaitUntil(id, [](const v1::Job& j) {
    return j.state() == v1::JOB_STATE_RUNNING && (j.measurement_count() > 0 || j.progress() > 0);
  });
  ASSERT_EQ(running.state(), v1::JOB_STATE_RUNNING) << running.message();
  {
    grpc::ClientContext ctx;
    v1::CancelJobRequest request;
    request.set_job_id(id);
    request.set_reason("early_stop");
    v1::Job job;
    const grpc::Status s = jobs_->CancelJob(&ctx, request, &job);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  const v1::Job done = WaitUntil(id, Ended);
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED) << done.message();
  EXPECT_TRUE(absl::StartsWith(done.message(), "stopped early")) << done.message();
  const std::vector<v1::Measurement> ms = Measurements(id);
  ASSERT_GE(ms.size(), 1u);
  uint32_t expected = 1;
  for (const v1::Measurement& m : ms) {
    if (m.has_cycle()) {
      EXPECT_EQ(m.cycle().cycle_index(), expected++);
    }
  }
}

// kill -9 mid-job, the same worker id and spool back within grace: the pinned job goes
// on in the same attempt with every cycle exactly once (the handler replays the seeded
// cell to its last spooled measurement).
TEST_F(CyclerWorkerTest, AKilledCyclerResumesThePinnedJobWithNoGapOrDuplicate) {
  worker_->Kill9();
  StartCycler("5");
  const std::string id = Submit(ExampleCycling(400));
  const v1::Job running = WaitUntil(id, [](const v1::Job& j) {
    return j.state() == v1::JOB_STATE_RUNNING && j.measurement_count() >= 50;
  });
  ASSERT_EQ(running.state(), v1::JOB_STATE_RUNNING) << running.message();
  worker_->Kill9();
  StartCycler("1");
  const v1::Job done = WaitUntil(id, Ended);
  ASSERT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED) << done.message();
  EXPECT_EQ(done.attempt(), 1u);
  const std::vector<v1::Measurement> ms = Measurements(id);
  uint32_t next_cycle = 1;
  for (size_t i = 0; i < ms.size(); ++i) {
    ASSERT_EQ(ms[i].seq(), i + 1);
    if (ms[i].has_cycle()) {
      ASSERT_EQ(ms[i].cycle().cycle_index(), next_cycle++) << "seq " << i + 1;
    }
  }
  EXPECT_GT(next_cycle, 100u);
}

}  // namespace
}  // namespace ionloop::testing
