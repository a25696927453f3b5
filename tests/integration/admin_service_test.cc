#include <gmock/gmock.h>
#include <grpcpp/client_context.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>
#include <gtest/gtest.h>

#include "tests/integration/service_fixture.h"
#include "tests/testing/job_specs.h"

namespace ionloop::testing {
namespace {

using AdminServiceTest = ServiceTest;

TEST_F(AdminServiceTest, ReportsVersionStoreAndCounts) {
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext ctx;
    v1::SubmitJobRequest request;
    *request.mutable_spec() = SyntheticSpec();
    v1::SubmitJobResponse response;
    ASSERT_TRUE(jobs_->SubmitJob(&ctx, request, &response).ok());
  }
  clock_.Advance(absl::Seconds(90));
  grpc::ClientContext ctx;
  v1::ServerInfo info;
  ASSERT_TRUE(admin_->GetServerInfo(&ctx, v1::GetServerInfoRequest(), &info).ok());
  EXPECT_EQ(info.version(), "test-1.2.3");
  EXPECT_DOUBLE_EQ(info.uptime_s(), 90.0);
  EXPECT_EQ(info.store_path(), dir_.path() + "/ionloop.db");
  EXPECT_GE(info.schema_version(), 2u);
  EXPECT_EQ(info.job_total(), 3u);
  ASSERT_EQ(info.job_counts_size(), 1);
  EXPECT_EQ(info.job_counts(0).state(), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(info.job_counts(0).count(), 3u);
}

// grpc.health.v1.Health/Check with an empty request answers SERVING (status = 1),
// which serializes as the two bytes 08 01.
TEST_F(AdminServiceTest, HealthServiceAnswersServing) {
  grpc::GenericStub stub(channel_);
  grpc::ClientContext ctx;
  grpc::Slice empty("", 0);
  grpc::ByteBuffer request(&empty, 1);  // empty HealthCheckRequest: the whole server
  grpc::ByteBuffer response;
  grpc::Status status;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   std::lock_guard<std::mutex> lock(mu);
                   status = std::move(s);
                   done = true;
                   cv.notify_one();
                 });
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return done; }));
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));
}

}  // namespace
}  // namespace ionloop::testing
