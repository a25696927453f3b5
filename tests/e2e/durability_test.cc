// kill -9 ionloopd while clients submit; restart it on the same data dir: every job
// whose SubmitJob returned OK is there, with its events.
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ionloop/v1/jobs.grpc.pb.h"
#include "tests/e2e/process_helpers.h"

namespace ionloop::testing {
namespace {

std::unique_ptr<v1::Jobs::Stub> Connect(const std::string& address) {
  return v1::Jobs::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

v1::JobSpec SyntheticJob(int client, int n) {
  v1::JobSpec spec;
  spec.mutable_synthetic()->set_measurements(static_cast<uint64_t>(n + 1));
  (*spec.mutable_labels())["client"] = absl::StrCat(client);
  return spec;
}

TEST(DurabilityTest, EveryAcknowledgedJobSurvivesKillNine) {
  TempDir dir;
  auto daemon = DaemonProcess::Start(dir.path());
  ASSERT_TRUE(daemon.ok()) << daemon.status();

  constexpr int kClients = 4;
  std::mutex mu;
  std::map<std::string, std::string> acked;  // idempotency key -> job id
  std::vector<std::string> cancelled;
  std::atomic<bool> stop{false};
  std::atomic<int> acked_count{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto stub = Connect((*daemon)->address());
      for (int n = 0; !stop.load(); ++n) {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        v1::SubmitJobRequest request;
        *request.mutable_spec() = SyntheticJob(c, n);
        request.set_idempotency_key(absl::StrCat("client-", c, "-job-", n));
        v1::SubmitJobResponse response;
        if (!stub->SubmitJob(&ctx, request, &response).ok()) break;  // the daemon died
        std::lock_guard<std::mutex> lock(mu);
        acked[request.idempotency_key()] = response.job().id();
        acked_count.fetch_add(1);
        // Every tenth job is also cancelled: its second event must survive too.
        if (n % 10 == 0) {
          grpc::ClientContext cctx;
          v1::CancelJobRequest cancel;
          cancel.set_job_id(response.job().id());
          v1::Job job;
          if (stub->CancelJob(&cctx, cancel, &job).ok()) cancelled.push_back(job.id());
        }
      }
    });
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (acked_count.load() < 200 && absl::Now() < deadline) std::this_thread::yield();
  (*daemon)->Kill9();  // mid-stream: clients are still submitting
  stop = true;
  for (std::thread& t : clients) t.join();
  ASSERT_GE(acked.size(), 200u);

  auto restarted = DaemonProcess::Start(dir.path());
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  auto stub = Connect((*restarted)->address());
  for (const auto& [key, id] : acked) {
    grpc::ClientContext ctx;
    v1::GetJobRequest get;
    get.set_job_id(id);
    v1::Job job;
    grpc::Status s = stub->GetJob(&ctx, get, &job);
    ASSERT_TRUE(s.ok()) << id << ": " << s.error_message();
    EXPECT_EQ(job.idempotency_key(), key);

    // A client retrying after the crash gets the same job, not a second one.
    grpc::ClientContext rctx;
    v1::SubmitJobRequest retry;
    *retry.mutable_spec() = job.spec();
    retry.set_idempotency_key(key);
    v1::SubmitJobResponse again;
    ASSERT_TRUE(stub->SubmitJob(&rctx, retry, &again).ok());
    EXPECT_FALSE(again.created());
    EXPECT_EQ(again.job().id(), id);
  }
  for (const std::string& id : cancelled) {
    grpc::ClientContext ctx;
    v1::WatchJobRequest watch;
    watch.set_job_id(id);
    auto reader = stub->WatchJob(&ctx, watch);
    v1::WatchJobResponse current;
    ASSERT_TRUE(reader->Read(&current)) << id;
    EXPECT_EQ(current.job().state(), v1::JOB_STATE_CANCELLED) << id;
    EXPECT_EQ(current.event().seq(), 2u) << id;  // created, then cancelled
    EXPECT_EQ(current.event().state(), v1::JOB_STATE_CANCELLED) << id;
    EXPECT_FALSE(reader->Read(&current));
    EXPECT_TRUE(reader->Finish().ok());
  }
}

TEST(DurabilityTest, GracefulStopOnSigterm) {
  TempDir dir;
  auto daemon = DaemonProcess::Start(dir.path());
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  EXPECT_EQ((*daemon)->Terminate(), 0);
  // The data dir lock is released: a second daemon starts on it.
  auto again = DaemonProcess::Start(dir.path());
  ASSERT_TRUE(again.ok()) << again.status();
}

TEST(DurabilityTest, ASecondDaemonOnTheSameDataDirIsRefused) {
  TempDir dir;
  auto first = DaemonProcess::Start(dir.path());
  ASSERT_TRUE(first.ok()) << first.status();
  CommandResult second = RunCommand(
      {IonloopdPath(), "--listen=127.0.0.1:0", "--data-dir=" + dir.path()}, absl::Seconds(30));
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("in use by another ionloopd"), std::string::npos) << second.err;
}

}  // namespace
}  // namespace ionloop::testing
