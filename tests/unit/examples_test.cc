// Every sample job under examples/jobs/ parses as a JobSpec (protobuf JSON mapping) and
// passes validation, and every job kind has at least one sample.
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "ionloop/v1/job.pb.h"
#include "orchestrator/jobs/job_validation.h"

#ifndef IONLOOP_EXAMPLES_DIR
#error "IONLOOP_EXAMPLES_DIR must name the examples/ folder"
#endif

namespace ionloop::orchestrator {
namespace {

namespace fs = std::filesystem;
using ::ionloop::v1::JobSpec;

const fs::path kJobsDir = fs::path(IONLOOP_EXAMPLES_DIR) / "jobs";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// file name -> parsed spec, for every *.json in examples/jobs.
std::map<std::string, JobSpec> LoadExamples() {
  std::map<std::string, JobSpec> specs;
  for (const fs::directory_entry& entry : fs::directory_iterator(kJobsDir)) {
    if (entry.path().extension() != ".json") continue;
    JobSpec spec;
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;  // a typo in a field name must fail
    const auto status =
        google::protobuf::util::JsonStringToMessage(ReadFile(entry.path()), &spec, options);
    EXPECT_TRUE(status.ok()) << entry.path() << ": " << status.ToString();
    specs.emplace(entry.path().filename().string(), spec);
  }
  return specs;
}

TEST(ExamplesTest, EveryJobFileParsesAndValidates) {
  ASSERT_TRUE(fs::is_directory(kJobsDir)) << kJobsDir;
  const std::map<std::string, JobSpec> specs = LoadExamples();
  ASSERT_FALSE(specs.empty()) << "no *.json under " << kJobsDir;
  for (const auto& [name, spec] : specs) {
    const absl::Status status = ValidateJobSpec(spec);
    EXPECT_TRUE(status.ok()) << name << ": " << status;
  }
}

TEST(ExamplesTest, EveryKindHasAnExample) {
  std::set<v1::JobKind> kinds;
  for (const auto& [name, spec] : LoadExamples()) kinds.insert(KindOf(spec));
  for (v1::JobKind kind : {v1::JOB_KIND_CYCLING, v1::JOB_KIND_XRD, v1::JOB_KIND_SIMULATION,
                           v1::JOB_KIND_LABEL, v1::JOB_KIND_SYNTHETIC, v1::JOB_KIND_TRAINING}) {
    EXPECT_EQ(kinds.count(kind), 1u) << "no example of " << v1::JobKind_Name(kind);
  }
  EXPECT_EQ(kinds.count(v1::JOB_KIND_UNSPECIFIED), 0u) << "an example sets no kind";
}

// The files say what examples/jobs/README.md says they are.
TEST(ExamplesTest, ExamplesMatchTheirDescriptions) {
  const std::map<std::string, JobSpec> specs = LoadExamples();
  for (const char* name : {"cycling.json", "cycling_fastcharge_li.json", "xrd.json",
                           "simulation.json", "label.json", "synthetic.json"}) {
    ASSERT_EQ(specs.count(name), 1u) << "missing " << name;
  }
  const v1::CellSpec& na = specs.at("cycling.json").cycling().cell();
  EXPECT_EQ(na.ion(), v1::ION_NA);
  EXPECT_EQ(na.positive_electrode(), "NVPF");
  EXPECT_EQ(na.negative_electrode(), "hard-carbon");

  const v1::CellSpec& lfp = specs.at("cycling_fastcharge_li.json").cycling().cell();
  EXPECT_EQ(lfp.ion(), v1::ION_LI);
  EXPECT_EQ(lfp.positive_electrode(), "LFP");
  EXPECT_GE(lfp.protocol().charge_steps_size(), 2);

  const v1::XrdJob& xrd = specs.at("xrd.json").xrd();
  EXPECT_TRUE(xrd.has_operando_cell());
  EXPECT_EQ(xrd.operando_cell().ion(), v1::ION_K);
  EXPECT_DOUBLE_EQ(xrd.wavelength_angstrom(), 1.54184);

  EXPECT_EQ(specs.at("simulation.json").simulation().salt(), "NaPF6");
  EXPECT_EQ(specs.at("label.json").label().method(), "GFN2-xTB");
}

}  // namespace
}  // namespace ionloop::orchestrator
