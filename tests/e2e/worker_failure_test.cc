// Real ionloopd and ionloop-worker processes on loopback, killed with SIGKILL at the
// worst moments: no acknowledged measurement may be lost or doubled, restartable jobs
// move on, pinned ones end LOST with their data.
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ionloop/v1/jobs.grpc.pb.h"
#include "tests/e2e/process_helpers.h"

namespace ionloop::testing {
namespace {

// Short timings so a test waits seconds, not minutes.
std::vector<std::string> FastTimings(int grace_ms) {
  return {"--heartbeat-ms=100", "--lease-ms=800", absl::StrCat("--grace-ms=", grace_ms),
          "--retry-backoff-ms=100", "--cancel-timeout-ms=3000"};
}

class WorkerFailureTest : public ::testing::Test {
 protected:
  void StartDaemon(int grace_ms, const std::string& listen = "") {
    std::vector<std::string> args = FastTimings(grace_ms);
    if (!listen.empty()) args.push_back("--listen=" + listen);
    auto daemon = DaemonProcess::Start(dir_.path() + "/data", args);
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = std::move(*daemon);
    channel_ = grpc::CreateChannel(daemon_->address(), grpc::InsecureChannelCredentials());
    jobs_ = v1::Jobs::NewStub(channel_);
  }

  std::unique_ptr<ChildProcess> Worker(const std::string& id) {
    auto worker = StartWorker(daemon_->address(), id, dir_.path() + "/spool-" + id);
    EXPECT_TRUE(worker.ok()) << worker.status();
    return worker.ok() ? std::move(*worker) : nullptr;
  }

  std::string Submit(const v1::JobSpec& spec) {
    grpc::ClientContext ctx;
    v1::SubmitJobRequest request;
    *request.mutable_spec() = spec;
    v1::SubmitJobResponse response;
    grpc::Status s = jobs_->SubmitJob(&ctx, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.job().id();
  }

  static v1::JobSpec Synthetic(uint64_t n, uint32_t interval_ms) {
    v1::JobSpec spec;
    spec.mutable_synthetic()->set_measurements(n);
    spec.mutable_synthetic()->set_interval_ms(interval_ms);
    spec.mutable_synthetic()->set_payload_bytes(32);
    return spec;
  }

  // Follows WatchJob (re-opening it if the daemon restarts) until `done` holds for the
  // job or the deadline passes; returns the last state seen.
  v1::Job WaitUntil(const std::string& id, const std::function<bool(const v1::Job&)>& done,
                    absl::Duration timeout = absl::Seconds(60)) {
    const absl::Time deadline = absl::Now() + timeout;
    v1::Job last;
    while (absl::Now() < deadline) {
      auto stub = v1::Jobs::NewStub(
          grpc::CreateChannel(daemon_->address(), grpc::InsecureChannelCredentials()));
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(deadline));
      ctx.set_wait_for_ready(true);
      v1::WatchJobRequest request;
      request.set_job_id(id);
      auto reader = stub->WatchJob(&ctx, request);
      v1::WatchJobResponse message;
      while (reader->Read(&message)) {
        last = message.job();
        if (done(last)) {
          ctx.TryCancel();
          reader->Finish();
          return last;
        }
      }
      reader->Finish();
      if (!last.id().empty() && (last.state() == v1::JOB_STATE_SUCCEEDED ||
                                 last.state() == v1::JOB_STATE_FAILED ||
                                 last.state() == v1::JOB_STATE_CANCELLED ||
                                 last.state() == v1::JOB_STATE_LOST)) {
        return last;  // ended without meeting `done`
      }
    }
    ADD_FAILURE() << id << ": condition not met within " << absl::FormatDuration(timeout)
                  << "; last state " << v1::JobState_Name(last.state());
    return last;
  }

  static bool Ended(const v1::Job& job) {
    return job.state() == v1::JOB_STATE_SUCCEEDED || job.state() == v1::JOB_STATE_FAILED ||
           job.state() == v1::JOB_STATE_CANCELLED || job.state() == v1::JOB_STATE_LOST;
  }

  std::vector<v1::Measurement> Measurements(const std::string& id, uint32_t attempt = 0) {
    grpc::ClientContext ctx;
    v1::ListMeasurementsRequest request;
    request.set_job_id(id);
    request.set_attempt(attempt);
    auto reader = jobs_->ListMeasurements(&ctx, request);
    std::vector<v1::Measurement> out;
    v1::Measurement m;
    while (reader->Read(&m)) out.push_back(m);
    EXPECT_TRUE(reader->Finish().ok());
    return out;
  }

  // Measurement seqs of one attempt are exactly first..last, each once.
  static void ExpectContiguous(const std::vector<v1::Measurement>& ms, uint64_t first,
                               uint64_t last, const std::string& what) {
    ASSERT_EQ(ms.size(), last - first + 1) << what;
    for (size_t i = 0; i < ms.size(); ++i) {
      ASSERT_EQ(ms[i].seq(), first + i) << what << " at index " << i;
    }
  }

  TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Jobs::Stub> jobs_;
};

TEST_F(WorkerFailureTest, ARestartableJobFinishesOnAnotherWorkerAfterKill9) {
  StartDaemon(/*grace_ms=*/1500);
  auto a = Worker("synth-a");
  const std::string id = Submit(Synthetic(100, 30));
  WaitUntil(id, [](const v1::Job& j) {
    return j.state() == v1::JOB_STATE_RUNNING && j.progress() >= 0.2;
  });
  a->Kill9();
  auto b = Worker("synth-b");
  const v1::Job done = WaitUntil(id, Ended);
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED) << done.message();
  EXPECT_EQ(done.worker_id(), "synth-b");
  EXPECT_EQ(done.attempt(), 2u);
  // What attempt 1 delivered before the kill is kept, gap-free.
  const std::vector<v1::Measurement> first = Measurements(id, 1);
  ASSERT_FALSE(first.empty());
  ExpectContiguous(first, 1, first.back().seq(), "attempt 1");
  const std::vector<v1::Measurement> second = Measurements(id, 2);
  ASSERT_FALSE(second.empty());
  ExpectContiguous(second, second.front().seq(), 100, "attempt 2");
}

TEST_F(WorkerFailureTest, AWorkerBackWithinGraceResumesItsJobWithNoGapOrDuplicate) {
  StartDaemon(/*grace_ms=*/20000);
  auto a = Worker("synth-a");
  const std::string id = Submit(Synthetic(80, 40));
  WaitUntil(id, [](const v1::Job& j) {
    return j.state() == v1::JOB_STATE_RUNNING && j.progress() >= 0.2;
  });
  a->Kill9();
  auto again = Worker("synth-a");  // same id, same spool
  const v1::Job done = WaitUntil(id, Ended);
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED) << done.message();
  EXPECT_EQ(done.attempt(), 1u);
  ExpectContiguous(Measurements(id), 1, 80, "the one attempt");
}

TEST_F(WorkerFailureTest, APinnedJobBecomesLostAfterGraceWithItsData) {
  StartDaemon(/*grace_ms=*/1000);
  // A virtual-cycler channel, paced so the cell is mid-test when its worker dies.
  auto cycler = StartWorkerWithArgs(daemon_->address(), "cycler-1",
                                    dir_.path() + "/spool-cycler-1", 8, "cycler",
                                    {"--cycle-period-ms=20"});
  ASSERT_TRUE(cycler.ok()) << cycler.status();

  v1::JobSpec spec;
  v1::CellSpec* cell = spec.mutable_cycling()->mutable_cell();
  cell->set_ion(v1::ION_LI);
  cell->set_positive_electrode("LFP");
  cell->set_negative_electrode("graphite");
  cell->set_design(v1::CELL_DESIGN_CYLINDRICAL);
  cell->set_nominal_capacity_ah(1.1);
  cell->mutable_protocol()->set_charge_c_rate(1);
  cell->mutable_protocol()->set_discharge_c_rate(1);
  cell->mutable_protocol()->set_voltage_min_v(2.0);
  cell->mutable_protocol()->set_voltage_max_v(3.6);
  cell->mutable_protocol()->set_temperature_c(30);
  spec.mutable_cycling()->set_max_cycles(1000);
  const std::string id = Submit(spec);
  const v1::Job running = WaitUntil(id, [](const v1::Job& j) {
    return j.state() == v1::JOB_STATE_RUNNING && j.progress() >= 0.02;
  });
  ASSERT_EQ(running.state(), v1::JOB_STATE_RUNNING);
  (*cycler)->Kill9();  // the cycler dies and does not come back

  const v1::Job done = WaitUntil(id, Ended);
  EXPECT_EQ(done.state(), v1::JOB_STATE_LOST) << done.message();
  EXPECT_NE(done.message().find("data is kept"), std::string::npos) << done.message();
  // Every acknowledged cycle is kept, gap-free from cycle 1.
  const std::vector<v1::Measurement> kept = Measurements(id);
  ASSERT_FALSE(kept.empty());
  ExpectContiguous(kept, 1, kept.back().seq(), "the lost cell's measurements");
  EXPECT_EQ(done.measurement_count(), kept.size());
}

TEST_F(WorkerFailureTest, Kill9OfIonloopdWhileEightWorkersStreamLosesAndDoublesNothing) {
  const std::string listen = absl::StrCat("127.0.0.1:", PickFreePort());
  StartDaemon(/*grace_ms=*/30000, listen);
  constexpr int kWorkers = 8;
  constexpr uint64_t kMeasurements = 150;
  std::vector<std::unique_ptr<ChildProcess>> workers;
  for (int w = 0; w < kWorkers; ++w) workers.push_back(Worker(absl::StrCat("synth-", w)));
  std::vector<std::string> ids;
  for (int w = 0; w < kWorkers; ++w) ids.push_back(Submit(Synthetic(kMeasurements, 15)));
  WaitUntil(ids.back(), [](const v1::Job& j) {
    return j.state() == v1::JOB_STATE_RUNNING && j.progress() >= 0.3;
  });
  daemon_->Kill9();  // mid-stream: every worker has updates in flight
  daemon_.reset();
  StartDaemon(/*grace_ms=*/30000, listen);

  for (const std::string& id : ids) {
    const v1::Job done = WaitUntil(id, Ended, absl::Seconds(90));
    EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED) << id << ": " << done.message();
    EXPECT_EQ(done.attempt(), 1u) << id;
    ExpectContiguous(Measurements(id), 1, kMeasurements, id);
    EXPECT_EQ(done.measurement_count(), kMeasurements) << id;
  }
}

}  // namespace
}  // namespace ionloop::testing
