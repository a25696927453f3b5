// Every Jobs RPC through a real in-process gRPC server, including its errors.
#include <gmock/gmock.h>
#include <grpcpp/client_context.h>
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "tests/integration/service_fixture.h"
#include "tests/testing/job_specs.h"

namespace ionloop::testing {
namespace {

using ::testing::HasSubstr;

class JobsServiceTest : public ServiceTest {
 protected:
  grpc::Status Submit(const v1::JobSpec& spec, v1::SubmitJobResponse* response,
                      const std::string& key = "") {
    grpc::ClientContext ctx;
    v1::SubmitJobRequest request;
    *request.mutable_spec() = spec;
    request.set_idempotency_key(key);
    return jobs_->SubmitJob(&ctx, request, response);
  }

  v1::Job MustSubmit(const v1::JobSpec& spec) {
    v1::SubmitJobResponse response;
    grpc::Status s = Submit(spec, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.job();
  }

  grpc::Status Cancel(const std::string& id, v1::Job* job) {
    grpc::ClientContext ctx;
    v1::CancelJobRequest request;
    request.set_job_id(id);
    return jobs_->CancelJob(&ctx, request, job);
  }

  // Reads a whole WatchJob stream.
  grpc::Status WatchAll(const std::string& id, std::vector<v1::WatchJobResponse>* out) {
    grpc::ClientContext ctx;
    v1::WatchJobRequest request;
    request.set_job_id(id);
    auto reader = jobs_->WatchJob(&ctx, request);
    v1::WatchJobResponse message;
    while (reader->Read(&message)) out->push_back(message);
    return reader->Finish();
  }
};

// Each invalid spec must be INVALID_ARGUMENT and the message must name the field
// and the value.
struct BadSpecCase {
  const char* name;
  std::function<void(v1::JobSpec*)> mutate;
  const char* field;
  const char* value;
};

TEST_F(JobsServiceTest, SubmitRejectsInvalidSpecsNamingFieldAndValue) {
  const std::vector<BadSpecCase> cases = {
      {"c-rate <= 0",
       [](v1::JobSpec* s) {
         s->mutable_cycling()->mutable_cell()->mutable_protocol()->set_charge_c_rate(-0.5);
       },
       "charge_c_rate", "-0.5"},
      {"window min >= max",
       [](v1::JobSpec* s) {
         s->mutable_cycling()->mutable_cell()->mutable_protocol()->set_voltage_min_v(4.25);
       },
       "voltage_min_v", "4.25"},
      {"unknown electrode",
       [](v1::JobSpec* s) {
         s->mutable_cycling()->mutable_cell()->set_positive_electrode("NMC999");
       },
       "positive_electrode", "NMC999"},
      {"temperature out of range",
       [](v1::JobSpec* s) {
         s->mutable_cycling()->mutable_cell()->mutable_protocol()->set_temperature_c(95);
       },
       "temperature_c", "95"},
      {"no kind", [](v1::JobSpec* s) { s->clear_kind(); }, "spec", ""},
      {"priority", [](v1::JobSpec* s) { s->set_priority(1000); }, "priority", "1000"},
  };
  for (const BadSpecCase& c : cases) {
    v1::JobSpec spec = CyclingSpec();
    c.mutate(&spec);
    v1::SubmitJobResponse response;
    grpc::Status s = Submit(spec, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.name;
    EXPECT_THAT(s.error_message(), HasSubstr(c.field)) << c.name;
    EXPECT_THAT(s.error_message(), HasSubstr(c.value)) << c.name;
  }
  grpc::ClientContext ctx;
  v1::SubmitJobResponse response;
  grpc::Status missing = jobs_->SubmitJob(&ctx, v1::SubmitJobRequest(), &response);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(missing.error_message(), HasSubstr("spec"));
}

TEST_F(JobsServiceTest, SubmitThenGet) {
  v1::SubmitJobResponse submitted;
  ASSERT_TRUE(Submit(CyclingSpec("camp-1"), &submitted).ok());
  EXPECT_TRUE(submitted.created());
  EXPECT_EQ(submitted.job().state(), v1::JOB_STATE_QUEUED);

  grpc::ClientContext ctx;
  v1::GetJobRequest request;
  request.set_job_id(submitted.job().id());
  v1::Job job;
  ASSERT_TRUE(jobs_->GetJob(&ctx, request, &job).ok());
  EXPECT_EQ(job.id(), submitted.job().id());
  EXPECT_EQ(job.spec().campaign_id(), "camp-1");
  EXPECT_EQ(job.spec().cycling().cell().positive_electrode(), "NVPF");
}

TEST_F(JobsServiceTest, SubmitWithTheSameKeyReturnsTheSameJob) {
  v1::SubmitJobResponse first, second;
  ASSERT_TRUE(Submit(CyclingSpec(), &first, "lab-7-cell-12").ok());
  ASSERT_TRUE(Submit(CyclingSpec(), &second, "lab-7-cell-12").ok());
  EXPECT_TRUE(first.created());
  EXPECT_FALSE(second.created());
  EXPECT_EQ(first.job().id(), second.job().id());
}

TEST_F(JobsServiceTest, GetJobErrors) {
  for (const auto& [id, code] : std::vector<std::pair<std::string, grpc::StatusCode>>{
           {"job-404", grpc::StatusCode::NOT_FOUND},
           {"", grpc::StatusCode::INVALID_ARGUMENT},
           {"job-abc", grpc::StatusCode::INVALID_ARGUMENT}}) {
    grpc::ClientContext ctx;
    v1::GetJobRequest request;
    request.set_job_id(id);
    v1::Job job;
    grpc::Status s = jobs_->GetJob(&ctx, request, &job);
    EXPECT_EQ(s.error_code(), code) << id;
    EXPECT_THAT(s.error_message(), HasSubstr("job_id")) << id;
  }
}

TEST_F(JobsServiceTest, ListJobsFiltersAndPaginates) {
  for (int i = 0; i < 7; ++i) MustSubmit(SyntheticSpec());
  v1::JobSpec labeled = CyclingSpec("camp-X");
  (*labeled.mutable_labels())["ion"] = "na";
  const v1::Job cycling = MustSubmit(labeled);

  std::vector<std::string> ids;
  std::string token;
  int pages = 0;
  do {
    grpc::ClientContext ctx;
    v1::ListJobsRequest request;
    request.set_page_size(3);
    request.set_page_token(token);
    v1::ListJobsResponse response;
    ASSERT_TRUE(jobs_->ListJobs(&ctx, request, &response).ok());
    for (const v1::Job& j : response.jobs()) ids.push_back(j.id());
    token = response.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(ids.size(), 8u);
  EXPECT_EQ(ids.front(), cycling.id());

  grpc::ClientContext ctx;
  v1::ListJobsRequest request;
  request.set_kind(v1::JOB_KIND_CYCLING);
  request.set_campaign_id("camp-X");
  (*request.mutable_labels())["ion"] = "na";
  request.add_states(v1::JOB_STATE_QUEUED);
  v1::ListJobsResponse response;
  ASSERT_TRUE(jobs_->ListJobs(&ctx, request, &response).ok());
  ASSERT_EQ(response.jobs_size(), 1);
  EXPECT_EQ(response.jobs(0).id(), cycling.id());
}

TEST_F(JobsServiceTest, ListJobsErrors) {
  {
    grpc::ClientContext ctx;
    v1::ListJobsRequest request;
    request.set_page_size(5000);
    v1::ListJobsResponse response;
    grpc::Status s = jobs_->ListJobs(&ctx, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("page_size"));
    EXPECT_THAT(s.error_message(), HasSubstr("5000"));
  }
  {
    grpc::ClientContext ctx;
    v1::ListJobsRequest request;
    request.set_page_token("garbage");
    v1::ListJobsResponse response;
    grpc::Status s = jobs_->ListJobs(&ctx, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("page_token"));
  }
  {
    grpc::ClientContext ctx;
    v1::ListJobsRequest request;
    request.add_states(static_cast<v1::JobState>(42));
    v1::ListJobsResponse response;
    grpc::Status s = jobs_->ListJobs(&ctx, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("42"));
  }
}

TEST_F(JobsServiceTest, CancelJobAndItsErrors) {
  const v1::Job job = MustSubmit(SyntheticSpec());
  v1::Job cancelled;
  ASSERT_TRUE(Cancel(job.id(), &cancelled).ok());
  EXPECT_EQ(cancelled.state(), v1::JOB_STATE_CANCELLED);
  v1::Job ignored;
  grpc::Status again = Cancel(job.id(), &ignored);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(again.error_message(), HasSubstr(job.id()));
  EXPECT_EQ(Cancel("job-999", &ignored).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Cancel("nope", &ignored).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(JobsServiceTest, WatchSendsCurrentStateThenTransitionsAndEndsAtTerminal) {
  const v1::Job job = MustSubmit(SyntheticSpec());
  orchestrator::JobManager* core = server_->jobs();

  grpc::ClientContext ctx;
  v1::WatchJobRequest request;
  request.set_job_id(job.id());
  auto reader = jobs_->WatchJob(&ctx, request);
  v1::WatchJobResponse message;
  ASSERT_TRUE(reader->Read(&message));
  EXPECT_EQ(message.job().state(), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(message.event().seq(), 1u);

  // A worker takes the job, runs it, and finishes it.
  ASSERT_TRUE(core->Transition(job.id(), v1::JOB_STATE_ASSIGNED,
                               Details("", "cycler-1", 1u)).ok());
  ASSERT_TRUE(core->Transition(job.id(), v1::JOB_STATE_RUNNING, {}).ok());
  ASSERT_TRUE(core->Transition(job.id(), v1::JOB_STATE_SUCCEEDED, Details("", {}, {}, 1.0)).ok());

  std::vector<v1::JobState> states;
  while (reader->Read(&message)) states.push_back(message.job().state());
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_THAT(states, ::testing::ElementsAre(v1::JOB_STATE_ASSIGNED, v1::JOB_STATE_RUNNING,
                                             v1::JOB_STATE_SUCCEEDED));
  EXPECT_EQ(message.job().worker_id(), "cycler-1");
}

TEST_F(JobsServiceTest, WatchOfAFinishedJobSendsOneMessage) {
  const v1::Job job = MustSubmit(SyntheticSpec());
  v1::Job cancelled;
  ASSERT_TRUE(Cancel(job.id(), &cancelled).ok());
  std::vector<v1::WatchJobResponse> messages;
  ASSERT_TRUE(WatchAll(job.id(), &messages).ok());
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].job().state(), v1::JOB_STATE_CANCELLED);
}

TEST_F(JobsServiceTest, WatchOfAnUnknownJobIsNotFound) {
  std::vector<v1::WatchJobResponse> messages;
  grpc::Status s = WatchAll("job-31337", &messages);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(messages.empty());
  EXPECT_EQ(WatchAll("bad", &messages).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(JobsServiceTest, ManyWatchersSeeEveryEventInOrder) {
  const v1::Job job = MustSubmit(SyntheticSpec());
  constexpr int kWatchers = 8;
  std::vector<std::vector<uint64_t>> seqs(kWatchers);
  std::vector<std::thread> threads;
  std::atomic<int> started{0};
  for (int w = 0; w < kWatchers; ++w) {
    threads.emplace_back([&, w] {
      grpc::ClientContext ctx;
      v1::WatchJobRequest request;
      request.set_job_id(job.id());
      auto reader = jobs_->WatchJob(&ctx, request);
      v1::WatchJobResponse message;
      bool first = true;
      while (reader->Read(&message)) {
        if (first) started.fetch_add(1);
        first = false;
        seqs[w].push_back(message.event().seq());
      }
      reader->Finish();
    });
  }
  // Transitions race with the watchers' subscriptions; each watcher must still see a
  // gap-free tail ending at the terminal event.
  orchestrator::JobManager* core = server_->jobs();
  ASSERT_TRUE(core->Transition(job.id(), v1::JOB_STATE_ASSIGNED, {}).ok());
  ASSERT_TRUE(core->Transition(job.id(), v1::JOB_STATE_RUNNING, {}).ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (started.load() < kWatchers && absl::Now() < deadline) std::this_thread::yield();
  ASSERT_TRUE(core->Transition(job.id(), v1::JOB_STATE_FAILED, Details("boom")).ok());
  for (std::thread& t : threads) t.join();
  for (const auto& s : seqs) {
    ASSERT_FALSE(s.empty());
    EXPECT_EQ(s.back(), 4u);
    for (size_t i = 1; i < s.size(); ++i) EXPECT_EQ(s[i], s[i - 1] + 1);
  }
}

TEST_F(JobsServiceTest, ListMeasurementsStreamsEveryPageInOrder) {
  const v1::Job job = MustSubmit(CyclingSpec());
  std::vector<v1::Measurement> batch;
  for (uint64_t seq = 1; seq <= 1200; ++seq) batch.push_back(CycleMeasurement(job.id(), 1, seq));
  for (uint64_t seq = 1; seq <= 3; ++seq) batch.push_back(CycleMeasurement(job.id(), 2, seq));
  ASSERT_EQ(*server_->jobs()->RecordMeasurements(batch), 1203);

  auto read_all = [&](uint32_t attempt, std::vector<v1::Measurement>* out) {
    grpc::ClientContext ctx;
    v1::ListMeasurementsRequest request;
    request.set_job_id(job.id());
    request.set_attempt(attempt);
    auto reader = jobs_->ListMeasurements(&ctx, request);
    v1::Measurement m;
    while (reader->Read(&m)) out->push_back(m);
    return reader->Finish();
  };
  std::vector<v1::Measurement> all;
  ASSERT_TRUE(read_all(0, &all).ok());
  ASSERT_EQ(all.size(), 1203u);
  for (size_t i = 0; i < 1200; ++i) ASSERT_EQ(all[i].seq(), i + 1);
  EXPECT_EQ(all[1200].attempt(), 2u);
  EXPECT_EQ(all[599].cycle().cycle_index(), 600u);

  std::vector<v1::Measurement> second;
  ASSERT_TRUE(read_all(2, &second).ok());
  EXPECT_EQ(second.size(), 3u);
}

TEST_F(JobsServiceTest, ListMeasurementsErrorsAndEmptyJobs) {
  const v1::Job job = MustSubmit(CyclingSpec());
  grpc::ClientContext ctx;
  v1::ListMeasurementsRequest request;
  request.set_job_id(job.id());
  auto reader = jobs_->ListMeasurements(&ctx, request);
  v1::Measurement m;
  EXPECT_FALSE(reader->Read(&m));
  EXPECT_TRUE(reader->Finish().ok());

  grpc::ClientContext ctx2;
  request.set_job_id("job-777");
  auto missing = jobs_->ListMeasurements(&ctx2, request);
  EXPECT_FALSE(missing->Read(&m));
  grpc::Status s = missing->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("job-777"));
}

// Streams `chunks` to ImportJob and returns its status.
grpc::Status Import(v1::Jobs::Stub* stub, const std::vector<v1::ImportJobRequest>& chunks,
                    v1::SubmitJobResponse* response) {
  grpc::ClientContext ctx;
  auto writer = stub->ImportJob(&ctx, response);
  for (const v1::ImportJobRequest& chunk : chunks) {
    if (!writer->Write(chunk)) break;
  }
  writer->WritesDone();
  return writer->Finish();
}

v1::ImportJobRequest Cycles(uint64_t first, uint64_t n) {
  v1::ImportJobRequest chunk;
  for (uint64_t seq = first; seq < first + n; ++seq) {
    v1::Measurement* m = chunk.add_measurements();
    m->set_seq(seq);
    m->mutable_cycle()->set_cycle_index(static_cast<uint32_t>(seq));
    m->mutable_cycle()->set_discharge_capacity_ah(1.1 - 1e-4 * static_cast<double>(seq));
  }
  return chunk;
}

TEST_F(JobsServiceTest, ImportStoresAFinishedJobWithItsMeasurementsInOneGo) {
  v1::ImportJobRequest first = Cycles(1, 3);
  *first.mutable_spec() = CyclingSpec();
  first.set_source("maccor_text: test.034");
  first.set_idempotency_key("imp-1");
  v1::SubmitJobResponse response;
  ASSERT_TRUE(Import(jobs_.get(), {first, Cycles(4, 2)}, &response).ok());
  EXPECT_TRUE(response.created());
  EXPECT_EQ(response.job().state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(response.job().measurement_count(), 5u);
  EXPECT_THAT(response.job().message(), HasSubstr("maccor_text: test.034"));
  v1::SubmitJobResponse again;
  ASSERT_TRUE(Import(jobs_.get(), {first, Cycles(4, 2)}, &again).ok());
  EXPECT_FALSE(again.created());
  EXPECT_EQ(again.job().id(), response.job().id());
  EXPECT_EQ(again.job().measurement_count(), 5u);
}

TEST_F(JobsServiceTest, ImportRefusesBadStreamsAndStoresNothing) {
  v1::SubmitJobResponse response;
  // No spec at all.
  grpc::Status s = Import(jobs_.get(), {Cycles(1, 2)}, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("spec"));
  // A gap in the numbering.
  v1::ImportJobRequest first = Cycles(1, 2);
  *first.mutable_spec() = CyclingSpec();
  s = Import(jobs_.get(), {first, Cycles(4, 1)}, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("measurements[2].seq"));
  // The spec again in a later message.
  v1::ImportJobRequest late = Cycles(3, 1);
  *late.mutable_spec() = CyclingSpec();
  s = Import(jobs_.get(), {first, late}, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // An invalid spec.
  v1::ImportJobRequest bad = Cycles(1, 1);
  *bad.mutable_spec() = CyclingSpec();
  bad.mutable_spec()->mutable_cycling()->mutable_cell()->mutable_protocol()->set_temperature_c(99);
  s = Import(jobs_.get(), {bad}, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("temperature_c"));

  grpc::ClientContext ctx;
  v1::ListJobsResponse listed;
  ASSERT_TRUE(jobs_->ListJobs(&ctx, v1::ListJobsRequest(), &listed).ok());
  EXPECT_EQ(listed.jobs_size(), 0);
}

}  // namespace
}  // namespace ionloop::testing
