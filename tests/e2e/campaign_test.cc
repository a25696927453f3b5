// Closed-loop campaigns against real processes: ionloopd, a virtual-cycler worker and the
// CLI. A campaign proposes, runs and learns to its budget; killing ionloopd in the middle
// and starting it again continues it with no proposal lost or duplicated; the report is
// written.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"
#include "ionloop/v1/campaigns.grpc.pb.h"
#include "tests/e2e/process_helpers.h"
#include "tests/testing/temp_dir.h"

namespace ionloop::testing {
namespace {

using ::testing::HasSubstr;

// A small Na-ion space (12 protocols), random policy: no model training in the loop.
constexpr char kSpec[] = R"json({
  "name": "e2e",
  "search_space": {
    "ions": ["ION_NA"], "positive_electrodes": ["NVPF"], "negative_electrodes": ["hard-carbon"],
    "charge": {"c1_rate": {"values": [2, 4, 6]}, "soc1_percent": {"values": [20, 60]},
               "c2_rate": {"values": [1, 3]}}
  },
  "budget": {"experiments": %d},
  "policy": {"name": "random", "parallel": 3, "seed": 5},
  "max_cycles": 300
})json";

class CampaignTest : public ::testing::Test {
 protected:
  void StartDaemon() {
    auto daemon = DaemonProcess::Start(dir_.path() + "/data", {"--listen=" + listen_});
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = *std::move(daemon);
  }
  void StartCycler(int period_ms) {
    auto worker = StartWorkerWithArgs(daemon_->address(), "cycler-1", dir_.path() + "/spool", 3,
                                      "cycler", {absl::StrCat("--cycle-period-ms=", period_ms)});
    ASSERT_TRUE(worker.ok()) << worker.status();
    worker_ = *std::move(worker);
  }
  CommandResult Cli(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {IonloopCliPath(), "--server", listen_};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, absl::Seconds(180));
  }
  std::string SpecFile(int experiments) {
    const std::string path = dir_.path() + "/campaign.json";
    std::ofstream(path) << absl::StrFormat(kSpec, experiments);
    return path;
  }
  v1::GetProposalsResponse Proposals(const std::string& id) {
    const CommandResult r = Cli({"--output", "json", "campaign", "proposals", id});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    v1::GetProposalsResponse response;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &response).ok()) << r.out;
    return response;
  }
  // Every proposal once, every candidate once, every job distinct.
  static void ExpectNoDuplicates(const v1::GetProposalsResponse& proposals) {
    std::set<uint32_t> seqs, candidates;
    std::set<std::string> jobs;
    for (const v1::Proposal& p : proposals.proposals()) {
      EXPECT_TRUE(seqs.insert(p.seq()).second) << p.id();
      EXPECT_TRUE(candidates.insert(p.candidate_index()).second) << p.id();
      EXPECT_TRUE(jobs.insert(p.job_id()).second) << p.id();
      EXPECT_FALSE(p.job_id().empty()) << p.id();
    }
    ASSERT_FALSE(seqs.empty());
    EXPECT_EQ(*seqs.rbegin(), seqs.size());  // 1..n with no gap
  }

  TempDir dir_;
  std::string listen_ = absl::StrCat("127.0.0.1:", PickFreePort());
  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<ChildProcess> worker_;
};

TEST_F(CampaignTest, RunsToItsBudgetAndWritesAReport) {
  StartDaemon();
  StartCycler(0);
  const CommandResult created = Cli({"campaign", "create", SpecFile(6), "--watch"});
  ASSERT_EQ(created.exit_code, 0) << Describe(created);
  EXPECT_THAT(created.out, HasSubstr("created campaign-1: 12 candidate cells"));
  EXPECT_THAT(created.out, HasSubstr("COMPLETED"));
  EXPECT_THAT(created.out, HasSubstr("proposed NVPF/hard-carbon"));

  const v1::GetProposalsResponse proposals = Proposals("campaign-1");
  ASSERT_EQ(proposals.proposals_size(), 6);
  ExpectNoDuplicates(proposals);
  for (const v1::Proposal& p : proposals.proposals()) {
    EXPECT_EQ(p.state(), v1::PROPOSAL_STATE_FINISHED) << p.id();
    EXPECT_GT(p.outcome_cycles(), 0) << p.id();
    EXPECT_EQ(p.reason().policy(), "random");
    EXPECT_GT(p.channel_hours(), 0);
  }
  const CommandResult status = Cli({"campaign", "status", "campaign-1"});
  EXPECT_THAT(status.out, HasSubstr("COMPLETED"));
  EXPECT_THAT(status.out, HasSubstr("6/6 experiments"));

  const std::string out = dir_.path() + "/report";
  const CommandResult report = Cli({"campaign", "report", "campaign-1", "--out", out});
  ASSERT_EQ(report.exit_code, 0) << Describe(report);
  EXPECT_EQ(std::string(absl::StripAsciiWhitespace(report.out)), out + "/index.html");
  std::ifstream html(out + "/index.html");
  const std::string page((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  EXPECT_THAT(page, HasSubstr("<svg"));
  EXPECT_THAT(page, HasSubstr("NVPF/hard-carbon"));
  std::ifstream fade(out + "/fade_curves.csv");
  std::string header;
  std::getline(fade, header);
  EXPECT_THAT(header, HasSubstr("soh_percent"));
}

TEST_F(CampaignTest, BadSpecsNameTheField) {
  StartDaemon();
  const std::string path = dir_.path() + "/bad.json";
  std::ofstream(path) << R"({"search_space": {"ions": ["ION_NA"], "positive_electrodes": ["NVPF"],
      "negative_electrodes": ["unobtainium"], "charge": {"c1_rate": {"values": [1]}}},
      "budget": {"experiments": 3}})";
  const CommandResult r = Cli({"campaign", "create", path});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(r.err, HasSubstr("unobtainium"));

  std::ofstream(path) << R"({"search_space": {"ions": ["ION_NA"], "positive_electrodes": ["NVPF"],
      "negative_electrodes": ["hard-carbon"], "charge": {"c1_rate": {"values": [1]}}}})";
  const CommandResult no_budget = Cli({"campaign", "create", path});
  EXPECT_EQ(no_budget.exit_code, 1) << Describe(no_budget);
  EXPECT_THAT(no_budget.err, HasSubstr("spec.budget"));

  const CommandResult unknown = Cli({"campaign", "status", "campaign-9"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("NOT_FOUND"));
  const CommandResult malformed = Cli({"campaign", "pause", "job-1"});
  EXPECT_EQ(malformed.exit_code, 1);
  EXPECT_THAT(malformed.err, HasSubstr("campaign_id"));
}

// kill -9 of ionloopd mid-campaign, then a restart: the campaign goes on to its budget,
// and every proposal exists once with one job.
TEST_F(CampaignTest, SurvivesAnIonloopdCrash) {
  StartDaemon();
  StartCycler(5);  // 300 cycles ≈ 1.5 s per test: the crash lands mid-campaign
  const CommandResult created = Cli({"campaign", "create", SpecFile(9), "--quiet"});
  ASSERT_EQ(created.exit_code, 0) << Describe(created);
  // Wait (by watching) until the first result, then crash.
  auto channel = grpc::CreateChannel(listen_, grpc::InsecureChannelCredentials());
  auto stub = v1::Campaigns::NewStub(channel);
  {
    grpc::ClientContext ctx;
    v1::CampaignRequest request;
    request.set_campaign_id("campaign-1");
    auto reader = stub->WatchCampaign(&ctx, request);
    v1::CampaignEvent event;
    while (reader->Read(&event) && event.campaign().finished() < 1) {
    }
    ctx.TryCancel();
    reader->Finish();
  }
  daemon_->Kill9();
  daemon_.reset();
  StartDaemon();
  const CommandResult watched = Cli({"campaign", "watch", "campaign-1"});
  ASSERT_EQ(watched.exit_code, 0) << Describe(watched);
  EXPECT_THAT(watched.out, HasSubstr("COMPLETED"));
  const v1::GetProposalsResponse proposals = Proposals("campaign-1");
  ASSERT_EQ(proposals.proposals_size(), 9);
  ExpectNoDuplicates(proposals);
  // The jobs of the campaign are exactly its proposals' jobs.
  const CommandResult jobs = Cli({"list", "--campaign", "campaign-1", "--all", "--output", "json"});
  ASSERT_EQ(jobs.exit_code, 0) << Describe(jobs);
  size_t count = 0;
  for (size_t at = jobs.out.find("\"id\""); at != std::string::npos; at = jobs.out.find("\"id\"", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 9u) << jobs.out;
}

}  // namespace
}  // namespace ionloop::testing
