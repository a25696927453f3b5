#include "clients/report/campaign_report.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace ionloop::report {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

CampaignReportData Sample() {
  CampaignReportData d;
  d.campaign_id = "c-na-fastcharge";
  d.title = "Na-ion fast charging";
  d.policy = "ei";
  d.objective = "maximize cycles to 80 % SOH";
  d.generated_at = "2024-05-01T12:00:00Z";
  d.summary = {{"experiments", "24 / 24"}, {"best", "1412 cycles (cell p7)"}};
  FadeCurve a;
  a.label = "p1, 4C-3C";  // a comma: quoted in CSV
  a.cycles = {1, 100, 200};
  a.soh_percent = {100, 95.5, 90};
  FadeCurve b;
  b.label = "p2";
  b.cycles = {1, 50};
  b.soh_percent = {100, 97};
  b.early_stopped = true;
  b.predicted_cycles = {400, 800};
  b.predicted_soh_percent = {88, 80};
  d.fade_curves = {a, b};
  d.parity = {{"p1", 850, 800, 60, false}, {"p2", 800, 760, 90, true}};
  d.best_so_far = {500, 800, 850};
  d.random_best_so_far = {400, 400, 600, 700};
  d.random_baseline_note = "median of 100 random orderings";
  d.pareto = {{"p1", 0.5, 850, true}, {"p2", 0.8, 800, false}, {"p3", 1.0, 1200, true}};
  ProposalRow r;
  r.batch = 1;
  r.rank_in_batch = 1;
  r.proposal_id = "c-na-fastcharge/p1";
  r.job_id = "j-0001";
  r.candidate_label = "4C-3C \"fast\"";
  r.state = "finished";
  r.policy = "ei";
  r.model_version = 3;
  r.predicted_mean_cycles = 800;
  r.predicted_stddev_cycles = 60;
  r.acquisition = 12.5;
  r.outcome_cycles = 850;
  r.charge_time_h = 0.5;
  ProposalRow pending = r;
  pending.proposal_id = "c-na-fastcharge/p2";
  pending.state = "running";
  pending.outcome_cycles = kUnknown;
  d.proposals = {r, pending};
  return d;
}

TEST(CsvFieldTest, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField(""), "");
}

TEST(WriteCampaignReportTest, WritesEveryFileWithHeadersAndRows) {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/nested/report";  // parents are created
  const absl::StatusOr<std::string> index = WriteCampaignReport(Sample(), dir);
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(*index, dir + "/index.html");
  for (const char* f : {"index.html", "fade_curves.csv", "parity.csv", "best_so_far.csv",
                        "pareto.csv", "proposals.csv"}) {
    EXPECT_TRUE(fs::is_regular_file(fs::path(dir) / f)) << f;
  }
  for (const auto& entry : fs::directory_iterator(dir)) {
    EXPECT_NE(entry.path().extension(), ".tmp") << entry.path();
  }

  EXPECT_EQ(Lines(ReadFile(fs::path(dir) / "fade_curves.csv")),
            (std::vector<std::string>{
                "cell,cycle,soh_percent,kind,early_stopped",
                "\"p1, 4C-3C\",1,100,measured,false",
                "\"p1, 4C-3C\",100,95.5,measured,false",
                "\"p1, 4C-3C\",200,90,measured,false",
                "p2,1,100,measured,true",
                "p2,50,97,measured,true",
                "p2,400,88,predicted,true",
                "p2,800,80,predicted,true",
            }));
  EXPECT_EQ(Lines(ReadFile(fs::path(dir) / "parity.csv")),
            (std::vector<std::string>{
                "cell,measured_cycles,predicted_cycles,predicted_stddev_cycles,early_stopped",
                "p1,850,800,60,false",
                "p2,800,760,90,true",
            }));
  EXPECT_EQ(Lines(ReadFile(fs::path(dir) / "best_so_far.csv")),
            (std::vector<std::string>{
                "experiment,best_cycles,random_best_cycles",
                "1,500,400",
                "2,800,400",
                "3,850,600",
                "4,,700",
            }));
  EXPECT_EQ(Lines(ReadFile(fs::path(dir) / "pareto.csv")),
            (std::vector<std::string>{
                "cell,charge_time_h,cycle_life_cycles,on_front",
                "p1,0.5,850,true",
                "p2,0.8,800,false",
                "p3,1,1200,true",
            }));
  EXPECT_EQ(Lines(ReadFile(fs::path(dir) / "proposals.csv")),
            (std::vector<std::string>{
                "proposal_id,job_id,candidate,charge_time_h,policy,batch,rank_in_batch,"
                "model_version,predicted_mean_cycles,predicted_stddev_cycles,acquisition,state,"
                "outcome_cycles,outcome_predicted,outcome_censored",
                "c-na-fastcharge/p1,j-0001,\"4C-3C \"\"fast\"\"\",0.5,ei,1,1,3,800,60,12.5,"
                "finished,850,false,false",
                "c-na-fastcharge/p2,j-0001,\"4C-3C \"\"fast\"\"\",0.5,ei,1,1,3,800,60,12.5,"
                "running,,false,false",
            }));
}

TEST(WriteCampaignReportTest, HtmlHasOneSvgPerPlotAndLinksItsCsv) {
  testing::TempDir tmp;
  ASSERT_TRUE(WriteCampaignReport(Sample(), tmp.path()).ok());
  const std::string html = ReadFile(fs::path(tmp.path()) / "index.html");
  EXPECT_THAT(html, StartsWith("<!DOCTYPE html>"));
  EXPECT_EQ(Count(html, "<svg"), 4u);  // fade, parity, best so far, Pareto
  EXPECT_EQ(Count(html, "</svg>"), 4u);
  for (const char* csv : {"fade_curves.csv", "parity.csv", "best_so_far.csv", "pareto.csv",
                          "proposals.csv"}) {
    EXPECT_THAT(html, HasSubstr(std::string("href=\"") + csv + "\"")) << csv;
  }
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("http://www.w3.org/1999/xlink")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));  // no external assets
  EXPECT_THAT(html, HasSubstr("Na-ion fast charging"));
  EXPECT_THAT(html, HasSubstr("median of 100 random orderings"));
  EXPECT_THAT(html, HasSubstr("1412 cycles (cell p7)"));
  EXPECT_THAT(html, HasSubstr("80 % EOL"));
  EXPECT_THAT(html, HasSubstr("early-stopped (predicted)"));
  EXPECT_THAT(html, HasSubstr("800 \u00b1 60"));  // the reason columns
  EXPECT_THAT(html, HasSubstr("v3"));
  EXPECT_THAT(html, HasSubstr("4C-3C &quot;fast&quot;"));
}

TEST(WriteCampaignReportTest, SingleObjectiveHasNoParetoPlotOrCsv) {
  testing::TempDir tmp;
  CampaignReportData d = Sample();
  ASSERT_TRUE(WriteCampaignReport(d, tmp.path()).ok());
  ASSERT_TRUE(fs::exists(fs::path(tmp.path()) / "pareto.csv"));
  d.pareto.clear();
  ASSERT_TRUE(WriteCampaignReport(d, tmp.path()).ok());  // rewrites in place
  EXPECT_FALSE(fs::exists(fs::path(tmp.path()) / "pareto.csv"));  // the stale one is gone
  const std::string html = ReadFile(fs::path(tmp.path()) / "index.html");
  EXPECT_EQ(Count(html, "<svg"), 3u);
  EXPECT_THAT(html, Not(HasSubstr("id=\"pareto\"")));
}

TEST(WriteCampaignReportTest, EscapesEveryInputString) {
  CampaignReportData d = Sample();
  const std::string evil = "<script>alert(1)</script>";
  d.title = evil;
  d.campaign_id = evil;
  d.policy = evil;
  d.summary = {{evil, evil}};
  d.fade_curves[0].label = evil;
  d.parity[0].label = evil;
  d.pareto[0].label = evil;
  d.random_baseline_note = evil;
  d.proposals[0].candidate_label = evil;
  d.proposals[0].state = evil;
  d.proposals[0].job_id = evil;
  const absl::StatusOr<std::string> html = RenderCampaignReportHtml(d);
  ASSERT_TRUE(html.ok()) << html.status();
  EXPECT_THAT(*html, Not(HasSubstr("<script")));
  EXPECT_THAT(*html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

TEST(WriteCampaignReportTest, EmptyInputStillRenders) {
  testing::TempDir tmp;
  CampaignReportData d;
  d.campaign_id = "empty";
  const absl::StatusOr<std::string> index = WriteCampaignReport(d, tmp.path());
  ASSERT_TRUE(index.ok()) << index.status();
  const std::string html = ReadFile(*index);
  EXPECT_EQ(Count(html, "<svg"), 0u);
  EXPECT_EQ(Count(html, "No data yet"), 4u);  // fade, parity, best so far, proposals
  EXPECT_THAT(html, HasSubstr("Campaign empty"));
  EXPECT_EQ(ReadFile(fs::path(tmp.path()) / "parity.csv"),
            "cell,measured_cycles,predicted_cycles,predicted_stddev_cycles,early_stopped\n");
  EXPECT_FALSE(fs::exists(fs::path(tmp.path()) / "pareto.csv"));
}

TEST(WriteCampaignReportTest, NonFiniteValuesAreSkippedAndLeftBlank) {
  CampaignReportData d = Sample();
  d.parity = {{"nan", kUnknown, 800, 10, false}, {"zero", 0, 800, 10, false}};
  d.fade_curves[0].soh_percent[1] = kUnknown;
  const absl::StatusOr<std::string> html = RenderCampaignReportHtml(d);
  ASSERT_TRUE(html.ok());
  // No parity point can go on a log-log plot: the section says so instead.
  EXPECT_EQ(Count(*html, "<svg"), 3u);
  EXPECT_THAT(ParityCsv(d), HasSubstr("nan,,800,10,false"));
  EXPECT_THAT(FadeCurvesCsv(d), HasSubstr("\"p1, 4C-3C\",100,,measured,false"));
}

TEST(WriteCampaignReportTest, MismatchedFadeCurveIsInvalidArgumentNamingTheCell) {
  CampaignReportData d = Sample();
  d.fade_curves[1].soh_percent.pop_back();
  const absl::StatusOr<std::string> r = WriteCampaignReport(d, "/nonexistent-unused");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("fade_curves[1]"));
  EXPECT_THAT(r.status().message(), HasSubstr("p2"));
}

TEST(WriteCampaignReportTest, UnwritableDirectoryIsAnErrorNamingIt) {
  testing::TempDir tmp;
  const std::string file = tmp.path() + "/a-file";
  std::ofstream(file) << "x";
  // Under a regular file: fails even as root (where permission bits would not).
  const std::string dir = file + "/report";
  const absl::StatusOr<std::string> r = WriteCampaignReport(Sample(), dir);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr(dir));
}

TEST(WriteCampaignReportTest, FailedWriteNamesTheFile) {
  testing::TempDir tmp;
  fs::create_directories(fs::path(tmp.path()) / "index.html");  // a directory in the way
  const absl::StatusOr<std::string> r = WriteCampaignReport(Sample(), tmp.path());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr(tmp.path() + "/index.html"));
}

}  // namespace
}  // namespace ionloop::report
