// The Campaigns service in one process: every example campaign file is valid, specs are
// refused naming the field, and the unary calls answer NOT_FOUND / FAILED_PRECONDITION
// as documented. (tests/e2e/campaign_test.cc runs campaigns with real workers.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "google/protobuf/util/json_util.h"
#include "ionloop/v1/campaigns.grpc.pb.h"
#include "orchestrator/campaign/campaign_spec.h"
#include "tests/integration/service_fixture.h"

namespace ionloop::testing {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

v1::CampaignSpec LoadSpec(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  v1::CampaignSpec spec;
  const auto status = google::protobuf::util::JsonStringToMessage(text.str(), &spec);
  EXPECT_TRUE(status.ok()) << path << ": " << status.message();
  return spec;
}

class CampaignsServiceTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    campaigns_ = v1::Campaigns::NewStub(channel_);
  }
  grpc::Status Create(const v1::CampaignSpec& spec, v1::Campaign* out) {
    v1::CreateCampaignRequest request;
    *request.mutable_spec() = spec;
    grpc::ClientContext ctx;
    return campaigns_->CreateCampaign(&ctx, request, out);
  }
  std::unique_ptr<v1::Campaigns::Stub> campaigns_;
};

TEST_F(CampaignsServiceTest, EveryExampleCampaignIsValid) {
  const std::string dir = std::string(IONLOOP_EXAMPLES_DIR) + "/campaigns";
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    const v1::CampaignSpec spec = LoadSpec(entry.path().string());
    EXPECT_TRUE(orchestrator::ValidateCampaignSpec(spec).ok())
        << entry.path() << ": " << orchestrator::ValidateCampaignSpec(spec);
  }
  EXPECT_GE(files, 2);
  // The Li example creates as is (no model needed); it enumerates its Attia-style space.
  v1::CampaignSpec li = LoadSpec(dir + "/li_life_vs_charge_time.json");
  li.mutable_budget()->set_experiments(1);
  v1::Campaign created;
  const grpc::Status s = Create(li, &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(created.id(), "campaign-1");
  EXPECT_GT(created.candidates(), 50u);
  // The Na example names an early-cycle model that does not exist here.
  v1::Campaign na;
  const grpc::Status missing = Create(LoadSpec(dir + "/na_fast_charge.json"), &na);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(missing.error_message(), HasSubstr("spec.early_stop.fade_model"));
  EXPECT_THAT(missing.error_message(), HasSubstr("demo-fade"));
}

TEST_F(CampaignsServiceTest, RefusesSpecsNamingTheField) {
  const v1::CampaignSpec good = LoadSpec(std::string(IONLOOP_EXAMPLES_DIR) +
                                         "/campaigns/li_life_vs_charge_time.json");
  struct Case {
    std::function<void(v1::CampaignSpec&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](v1::CampaignSpec& s) { s.mutable_search_space()->clear_ions(); }, "spec.search_space.ions"},
      {[](v1::CampaignSpec& s) { s.mutable_search_space()->mutable_charge()->clear_c1_rate(); },
       "spec.search_space.charge.c1_rate"},
      {[](v1::CampaignSpec& s) {
         s.mutable_search_space()->mutable_charge()->mutable_c1_rate()->set_max(50);
       },
       "spec.search_space.charge.c1_rate.max"},
      {[](v1::CampaignSpec& s) { s.clear_budget(); }, "spec.budget"},
      {[](v1::CampaignSpec& s) { s.mutable_policy()->set_name("simulated-annealing"); },
       "spec.policy.name"},
      {[](v1::CampaignSpec& s) { s.mutable_early_stop()->set_enabled(true); },
       "spec.early_stop.fade_model"},
      {[](v1::CampaignSpec& s) { s.mutable_search_space()->set_positive_electrodes(0, "XYZ"); },
       "XYZ"},
      {[](v1::CampaignSpec& s) { s.mutable_constraints()->set_max_charge_time_h(0.001); },
       "spec.constraints.max_charge_time_h"},
  };
  for (const Case& c : cases) {
    v1::CampaignSpec spec = good;
    c.mutate(spec);
    v1::Campaign out;
    const grpc::Status s = Create(spec, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field << ": " << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr(c.field));
  }
}

TEST_F(CampaignsServiceTest, UnaryCallsAnswerWithTheDocumentedCodes) {
  v1::CampaignRequest request;
  request.set_campaign_id("campaign-4");
  v1::Campaign out;
  grpc::ClientContext c1;
  EXPECT_EQ(campaigns_->PauseCampaign(&c1, request, &out).error_code(), grpc::StatusCode::NOT_FOUND);
  request.set_campaign_id("nonsense");
  grpc::ClientContext c2;
  const grpc::Status bad = campaigns_->StopCampaign(&c2, request, &out);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad.error_message(), HasSubstr("campaign_id"));

  // With no worker, a campaign proposes and waits; pause, resume, stop work in order.
  v1::CampaignSpec spec = LoadSpec(std::string(IONLOOP_EXAMPLES_DIR) +
                                   "/campaigns/li_life_vs_charge_time.json");
  spec.mutable_policy()->set_name("random");
  ASSERT_TRUE(Create(spec, &out).ok());
  request.set_campaign_id(out.id());
  grpc::ClientContext c3;
  ASSERT_TRUE(campaigns_->PauseCampaign(&c3, request, &out).ok());
  EXPECT_EQ(out.state(), v1::CAMPAIGN_STATE_PAUSED);
  grpc::ClientContext c4;
  EXPECT_EQ(campaigns_->PauseCampaign(&c4, request, &out).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  grpc::ClientContext c5;
  ASSERT_TRUE(campaigns_->ResumeCampaign(&c5, request, &out).ok());
  EXPECT_EQ(out.state(), v1::CAMPAIGN_STATE_RUNNING);
  EXPECT_EQ(out.proposed(), 8u);  // one batch of `parallel` proposals
  grpc::ClientContext c6;
  ASSERT_TRUE(campaigns_->StopCampaign(&c6, request, &out).ok());
  EXPECT_EQ(out.state(), v1::CAMPAIGN_STATE_STOPPED);
  grpc::ClientContext c7;
  EXPECT_EQ(campaigns_->ResumeCampaign(&c7, request, &out).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // Its queued jobs were cancelled.
  v1::GetProposalsRequest proposals_request;
  proposals_request.set_campaign_id(request.campaign_id());
  v1::GetProposalsResponse proposals;
  grpc::ClientContext c8;
  ASSERT_TRUE(campaigns_->GetProposals(&c8, proposals_request, &proposals).ok());
  ASSERT_EQ(proposals.proposals_size(), 8);
  for (const v1::Proposal& p : proposals.proposals()) {
    v1::GetJobRequest get;
    get.set_job_id(p.job_id());
    v1::Job job;
    grpc::ClientContext c;
    ASSERT_TRUE(jobs_->GetJob(&c, get, &job).ok());
    EXPECT_EQ(job.state(), v1::JOB_STATE_CANCELLED) << p.id();
    EXPECT_EQ(job.spec().campaign_id(), request.campaign_id());
    EXPECT_FALSE(p.reason().policy().empty());
  }
}

}  // namespace
}  // namespace ionloop::testing
