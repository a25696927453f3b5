// The Workers protocol through a real in-process gRPC server, speaking raw messages:
// the happy path, and every kind of bad input a driver could send.
#include <gmock/gmock.h>
#include <grpcpp/client_context.h>
#include <gtest/gtest.h>

#include <chrono>

#include "ionloop/v1/workers.grpc.pb.h"
#include "tests/integration/service_fixture.h"
#include "tests/testing/job_specs.h"

namespace ionloop::testing {
namespace {

using ::testing::HasSubstr;
using Stream = grpc::ClientReaderWriter<v1::WorkerMessage, v1::OrchestratorMessage>;

class WorkersServiceTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    workers_ = v1::Workers::NewStub(channel_);
  }

  struct Connection {
    std::unique_ptr<grpc::ClientContext> context;
    std::unique_ptr<Stream> stream;
  };

  Connection Open() {
    Connection c;
    c.context = std::make_unique<grpc::ClientContext>();
    c.context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    c.stream = workers_->Connect(c.context.get());
    return c;
  }

  static v1::WorkerMessage Hello(const std::string& id) {
    v1::WorkerMessage m;
    m.mutable_hello()->set_worker_id(id);
    m.mutable_hello()->mutable_capabilities()->set_kind(v1::JOB_KIND_SYNTHETIC);
    m.mutable_hello()->mutable_capabilities()->set_channels(1);
    return m;
  }

  static v1::WorkerMessage Update(const v1::Assign& a, uint64_t seq, uint64_t first_measurement,
                                  int n) {
    v1::WorkerMessage m;
    v1::JobUpdate* u = m.mutable_update();
    u->set_job_id(a.job_id());
    u->set_attempt(a.attempt());
    u->set_seq(seq);
    u->set_progress(0.5);
    for (int i = 0; i < n; ++i) {
      v1::Measurement* x = u->add_measurements();
      x->set_seq(first_measurement + i);
      x->mutable_synthetic()->set_value(static_cast<double>(first_measurement + i));
    }
    return m;
  }

  v1::OrchestratorMessage Next(Stream* stream) {
    v1::OrchestratorMessage m;
    EXPECT_TRUE(stream->Read(&m)) << "stream ended early";
    return m;
  }

  std::string SubmitSynthetic() {
    grpc::ClientContext ctx;
    v1::SubmitJobRequest request;
    *request.mutable_spec() = SyntheticSpec(3);
    v1::SubmitJobResponse response;
    EXPECT_TRUE(jobs_->SubmitJob(&ctx, request, &response).ok());
    return response.job().id();
  }

  v1::Job GetJob(const std::string& id) {
    grpc::ClientContext ctx;
    v1::GetJobRequest request;
    request.set_job_id(id);
    v1::Job job;
    EXPECT_TRUE(jobs_->GetJob(&ctx, request, &job).ok());
    return job;
  }

  std::unique_ptr<v1::Workers::Stub> workers_;
};

TEST_F(WorkersServiceTest, TheFirstMessageMustBeHello) {
  Connection c = Open();
  v1::WorkerMessage heartbeat;
  heartbeat.mutable_heartbeat();
  c.stream->Write(heartbeat);
  v1::OrchestratorMessage m;
  EXPECT_FALSE(c.stream->Read(&m));
  grpc::Status s = c.stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("Hello"));
}

TEST_F(WorkersServiceTest, AMalformedHelloIsRefused) {
  Connection c = Open();
  v1::WorkerMessage hello = Hello("bad id!");
  c.stream->Write(hello);
  v1::OrchestratorMessage m;
  EXPECT_FALSE(c.stream->Read(&m));
  grpc::Status s = c.stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("worker_id"));
}

TEST_F(WorkersServiceTest, AJobRunsEndToEndAndBadMessagesAreRefusedWithoutHarm) {
  Connection c = Open();
  ASSERT_TRUE(c.stream->Write(Hello("synth-1")));
  ASSERT_TRUE(Next(c.stream.get()).has_welcome());
  const std::string id = SubmitSynthetic();
  const v1::OrchestratorMessage assigned = Next(c.stream.get());
  ASSERT_TRUE(assigned.has_assign()) << assigned.DebugString();
  const v1::Assign assign = assigned.assign();
  EXPECT_EQ(assign.job_id(), id);
  EXPECT_EQ(assign.spec().synthetic().measurements(), 3u);

  ASSERT_TRUE(c.stream->Write(Update(assign, 1, 1, 2)));
  v1::OrchestratorMessage ack = Next(c.stream.get());
  ASSERT_TRUE(ack.has_ack()) << ack.DebugString();
  EXPECT_EQ(ack.ack().seq(), 1u);
  // A resend: acked again, stored once.
  ASSERT_TRUE(c.stream->Write(Update(assign, 1, 1, 2)));
  EXPECT_TRUE(Next(c.stream.get()).has_ack());
  // Out of order.
  ASSERT_TRUE(c.stream->Write(Update(assign, 5, 9, 1)));
  v1::OrchestratorMessage gap = Next(c.stream.get());
  ASSERT_TRUE(gap.has_error());
  EXPECT_THAT(gap.error().message(), HasSubstr("out of order"));
  // A job it does not hold.
  v1::WorkerMessage foreign = Update(assign, 2, 3, 1);
  foreign.mutable_update()->set_job_id("job-4242");
  ASSERT_TRUE(c.stream->Write(foreign));
  v1::OrchestratorMessage missing = Next(c.stream.get());
  ASSERT_TRUE(missing.has_error());
  EXPECT_EQ(missing.error().code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  // Malformed: an empty message, a measurement for another job, a second Hello.
  ASSERT_TRUE(c.stream->Write(v1::WorkerMessage()));
  EXPECT_EQ(Next(c.stream.get()).error().code(),
            static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  v1::WorkerMessage mixed = Update(assign, 2, 3, 1);
  mixed.mutable_update()->mutable_measurements(0)->set_job_id("job-1234");
  ASSERT_TRUE(c.stream->Write(mixed));
  v1::OrchestratorMessage mixed_error = Next(c.stream.get());
  EXPECT_EQ(mixed_error.error().code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(mixed_error.error().message(), HasSubstr("measurements[0].job_id"));
  ASSERT_TRUE(c.stream->Write(Hello("synth-1")));
  EXPECT_THAT(Next(c.stream.get()).error().message(), HasSubstr("Hello only once"));

  // The stream survived all of it.
  ASSERT_TRUE(c.stream->Write(Update(assign, 2, 3, 1)));
  EXPECT_EQ(Next(c.stream.get()).ack().seq(), 2u);
  v1::WorkerMessage result;
  result.mutable_result()->set_job_id(assign.job_id());
  result.mutable_result()->set_attempt(assign.attempt());
  result.mutable_result()->set_seq(3);
  result.mutable_result()->set_outcome(v1::JOB_OUTCOME_SUCCEEDED);
  ASSERT_TRUE(c.stream->Write(result));
  EXPECT_EQ(Next(c.stream.get()).ack().seq(), 3u);

  const v1::Job job = GetJob(id);
  EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(job.measurement_count(), 3u);
  c.stream->WritesDone();
  EXPECT_TRUE(c.stream->Finish().ok());
}

TEST_F(WorkersServiceTest, ASecondStreamWithALiveWorkersIdIsRefused) {
  Connection first = Open();
  ASSERT_TRUE(first.stream->Write(Hello("synth-1")));
  ASSERT_TRUE(Next(first.stream.get()).has_welcome());

  Connection second = Open();
  ASSERT_TRUE(second.stream->Write(Hello("synth-1")));
  v1::OrchestratorMessage m;
  EXPECT_FALSE(second.stream->Read(&m));
  grpc::Status s = second.stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(s.error_message(), HasSubstr("synth-1"));

  // The first stream is untouched and still gets work.
  const std::string id = SubmitSynthetic();
  const v1::OrchestratorMessage assigned = Next(first.stream.get());
  ASSERT_TRUE(assigned.has_assign());
  EXPECT_EQ(assigned.assign().job_id(), id);

  grpc::ClientContext ctx;
  v1::ListWorkersResponse listed;
  ASSERT_TRUE(workers_->ListWorkers(&ctx, v1::ListWorkersRequest(), &listed).ok());
  ASSERT_EQ(listed.workers_size(), 1);
  EXPECT_EQ(listed.workers(0).state(), v1::WORKER_STATE_CONNECTED);
  EXPECT_THAT(listed.workers(0).running_job_ids(), ::testing::ElementsAre(id));
  first.stream->WritesDone();
  first.stream->Finish();
}

TEST_F(WorkersServiceTest, CancelReachesTheWorkerOnItsStream) {
  Connection c = Open();
  ASSERT_TRUE(c.stream->Write(Hello("synth-1")));
  ASSERT_TRUE(Next(c.stream.get()).has_welcome());
  const std::string id = SubmitSynthetic();
  const v1::Assign assign = Next(c.stream.get()).assign();
  grpc::ClientContext ctx;
  v1::CancelJobRequest cancel;
  cancel.set_job_id(id);
  cancel.set_reason("user");
  v1::Job job;
  ASSERT_TRUE(jobs_->CancelJob(&ctx, cancel, &job).ok());
  EXPECT_TRUE(job.cancel_requested());
  const v1::OrchestratorMessage m = Next(c.stream.get());
  ASSERT_TRUE(m.has_cancel()) << m.DebugString();
  EXPECT_EQ(m.cancel().job_id(), id);
  EXPECT_EQ(m.cancel().reason(), "user");
  v1::WorkerMessage result;
  result.mutable_result()->set_job_id(id);
  result.mutable_result()->set_attempt(assign.attempt());
  result.mutable_result()->set_seq(1);
  result.mutable_result()->set_outcome(v1::JOB_OUTCOME_CANCELLED);
  ASSERT_TRUE(c.stream->Write(result));
  EXPECT_TRUE(Next(c.stream.get()).has_ack());
  EXPECT_EQ(GetJob(id).state(), v1::JOB_STATE_CANCELLED);
  c.stream->WritesDone();
  c.stream->Finish();
}

}  // namespace
}  // namespace ionloop::testing
