// The electrode table: the shipped file loads, agrees with the compiled-in catalogue of
// instruments/electrodes.h, cites a source for every number, states physics we know, and
// malformed files are refused with file:line:column.
#include "instruments/electrode_table.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "instruments/electrodes.h"
#include "tests/testing/temp_dir.h"

namespace ionloop::instruments {
namespace {

using ::testing::HasSubstr;

ElectrodeTable LoadOrDie() {
  absl::StatusOr<ElectrodeTable> table = LoadDefaultElectrodeTable();
  EXPECT_TRUE(table.ok()) << table.status();
  return table.ok() ? *std::move(table) : ElectrodeTable();
}

// A minimal valid file: one reference, the header, two rows.
std::string MinimalTable() {
  return "# comment\n"
         "#ref R1: A. Author, J. Something 1 (2000) 1\n"
         "name,alias,role,ions,formula,structure_family,potential_vs,avg_potential_v,ocv_min_v,"
         "ocv_max_v,ocv_shape,practical_capacity_mah_g,theoretical_capacity_mah_g,density_g_cm3,"
         "volume_change_pct,electronic_conductivity_s_cm,ionic_conductivity_s_cm,electrons_per_fu,"
         "plating_prone,dissolution_fraction,sources,notes\n"
         "POS,,positive,Li,LiXO2,layered,Li,3.8,3.3,4.3,sloping,180,270,4.7,3,1e-5,1e-5,1,0,0,"
         "*=R1,\"a note, with a comma\"\n"
         "NEG,,negative,Li|Na,C,graphitic,Li,0.1,0.07,0.8,plateau,360,372,2.2,10,1e2,1e-5,1,1,0,"
         "*=R1,\n";
}

absl::Status ParseError(const std::string& text) {
  return ParseElectrodeTable(text, "t.csv").status();
}

TEST(ElectrodeTableTest, DefaultTableLoadsEveryDesignElectrode) {
  const ElectrodeTable table = LoadOrDie();
  // DESIGN.md §6.4 and issue 4.
  for (const char* name : {"LFP", "NCA", "NMC111", "NMC532", "NMC622", "NMC811", "LCO", "LNO",
                           "LNMO", "NVPF", "NVZP", "PAQS", "PHBQS", "graphite", "Si-graphite",
                           "LTO", "hard-carbon", "activated-carbon", "Mg"}) {
    EXPECT_NE(table.Find(name), nullptr) << name;
  }
  EXPECT_EQ(table.Find("LiNiO2"), table.Find("LNO"));  // alias
  EXPECT_EQ(table.Find("nmc811"), table.Find("NMC811"));  // case-insensitive
  EXPECT_EQ(table.Find("NMC9"), nullptr);
  EXPECT_TRUE(absl::EndsWith(table.source_name(), "electrodes.csv")) << table.source_name();
}

// Job validation uses the compiled-in catalogue; the cycler uses the table. They must
// name the same electrodes with the same roles, ions and aliases.
TEST(ElectrodeTableTest, CatalogueAndTableAgree) {
  const ElectrodeTable table = LoadOrDie();
  for (const ElectrodeInfo& info : AllElectrodes()) {
    const ElectrodeProperties* e = table.Find(info.name);
    ASSERT_NE(e, nullptr) << info.name << " is in electrodes.cc but not in the table";
    EXPECT_EQ(e->name, info.name);
    EXPECT_EQ(e->role, info.role) << info.name;
    EXPECT_EQ(e->ion_mask, info.ion_mask) << info.name;
    EXPECT_EQ(e->alias, std::string(info.alias)) << info.name;
  }
  for (const ElectrodeProperties& e : table.electrodes()) {
    const ElectrodeInfo* info = FindElectrode(e.name);
    ASSERT_NE(info, nullptr) << e.name << " (line " << e.line
                             << ") is in the table but not in electrodes.cc";
    EXPECT_EQ(info->name, e.name);
  }
  EXPECT_EQ(table.electrodes().size(), AllElectrodes().size());
}

TEST(ElectrodeTableTest, EveryNumberHasAKnownSource) {
  const ElectrodeTable table = LoadOrDie();
  EXPECT_GE(table.references().size(), 10u);
  for (const ElectrodeProperties& e : table.electrodes()) {
    for (const std::string& column : ElectrodeTable::NumericColumns()) {
      const double v = e.Numeric(column);
      if (std::isnan(v)) continue;
      const std::vector<std::string> refs = e.SourcesFor(column);
      EXPECT_FALSE(refs.empty()) << e.name << "." << column;
      for (const std::string& key : refs) {
        const ElectrodeReference* ref = table.FindReference(key);
        ASSERT_NE(ref, nullptr) << e.name << "." << column << " cites " << key;
        EXPECT_FALSE(ref->citation.empty());
      }
    }
  }
  EXPECT_THAT(table.FindReference("Nitta2015")->citation, HasSubstr("Materials Today 18"));
}

TEST(ElectrodeTableTest, StatesKnownPhysics) {
  const ElectrodeTable table = LoadOrDie();
  for (const ElectrodeProperties& e : table.electrodes()) {
    EXPECT_LE(e.ocv_min_v, e.avg_potential_v) << e.name;
    EXPECT_LE(e.avg_potential_v, e.ocv_max_v) << e.name;
    if (!std::isnan(e.theoretical_capacity_mah_g)) {
      EXPECT_GE(e.theoretical_capacity_mah_g, e.practical_capacity_mah_g) << e.name;
    }
    // Only organic positives dissolve; only low-potential insertion hosts plate.
    EXPECT_EQ(e.dissolution_prone(), e.structure_family == "organic") << e.name;
    if (e.plating_prone) {
      EXPECT_LT(e.ocv_min_v, 0.1) << e.name;
    }
  }
  // LTO works at ~1.55 V vs Li, far from plating; graphite at ~0.1 V plates.
  EXPECT_NEAR(table.Find("LTO")->avg_potential_v, 1.55, 0.05);
  EXPECT_FALSE(table.Find("LTO")->plating_prone);
  EXPECT_TRUE(table.Find("graphite")->plating_prone);
  EXPECT_TRUE(table.Find("Si-graphite")->plating_prone);
  EXPECT_LT(table.Find("LTO")->volume_change_pct, 1);  // "zero strain"
  EXPECT_GT(table.Find("Si-graphite")->volume_change_pct,
            table.Find("graphite")->volume_change_pct);
  // Ni-rich layered oxides: more capacity, more volume change (de Biasi 2017 trend).
  EXPECT_GT(table.Find("NMC811")->practical_capacity_mah_g,
            table.Find("NMC111")->practical_capacity_mah_g);
  EXPECT_GT(table.Find("NMC811")->volume_change_pct, table.Find("NMC111")->volume_change_pct);
  EXPECT_EQ(table.Find("LFP")->structure_family, "olivine");
  EXPECT_EQ(table.Find("NVPF")->potential_vs, Ion::kNa);
  EXPECT_EQ(table.Find("PAQS")->potential_vs, Ion::kMg);
  EXPECT_TRUE(table.Find("LNO")->UsedWith(Ion::kK));
  EXPECT_EQ(table.Find("Mg")->ocv_shape, OcvShape::kMetal);
}

TEST(ElectrodeTableTest, ParsesQuotedFieldsAndKeepsSources) {
  absl::StatusOr<ElectrodeTable> table = ParseElectrodeTable(MinimalTable(), "t.csv");
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_EQ(table->electrodes().size(), 2u);
  const ElectrodeProperties& pos = table->electrodes()[0];
  EXPECT_EQ(pos.notes, "a note, with a comma");
  EXPECT_EQ(pos.line, 4);
  EXPECT_DOUBLE_EQ(pos.Numeric("density_g_cm3"), 4.7);
  EXPECT_THAT(pos.SourcesFor("density_g_cm3"), ::testing::ElementsAre("R1"));
  const ElectrodeProperties& neg = table->electrodes()[1];
  EXPECT_TRUE(neg.UsedWith(Ion::kNa));
  EXPECT_TRUE(neg.plating_prone);
}

TEST(ElectrodeTableTest, AddingARowNeedsNoCodeChange) {
  std::string text = MinimalTable();
  text += "NEW,newalias,negative,K,C,amorphous carbon,K,0.3,0.05,1.0,sloping,250,NA,1.5,NA,1,NA,NA,"
          "0,0,*=R1,\n";
  absl::StatusOr<ElectrodeTable> table = ParseElectrodeTable(text, "t.csv");
  ASSERT_TRUE(table.ok()) << table.status();
  const ElectrodeProperties* e = table->Find("NEWALIAS");
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(std::isnan(e->theoretical_capacity_mah_g));
  EXPECT_TRUE(e->UsedWith(Ion::kK));
}

TEST(ElectrodeTableTest, MalformedFilesNameFileLineAndColumn) {
  const std::string good = MinimalTable();
  // A bad number: line 4, the density field starts at character column 62.
  {
    const std::string text = absl::StrReplaceAll(good, {{",270,4.7,", ",270,heavy,"}});
    const absl::Status s = ParseError(text);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(s.message(), HasSubstr("t.csv:4:"));
    EXPECT_THAT(s.message(), HasSubstr("column 'density_g_cm3': expected a number, got \"heavy\""));
  }
  {  // NA where a value is required
    const std::string text = absl::StrReplaceAll(good, {{",270,4.7,", ",270,NA,"}});
    EXPECT_THAT(ParseError(text).message(), HasSubstr("a value is required here, got NA"));
  }
  {  // out of range: potential in mV by mistake
    const std::string text = absl::StrReplaceAll(good, {{"Li,3.8,3.3,4.3,", "Li,3800,3.3,4.3,"}});
    EXPECT_THAT(ParseError(text).message(), HasSubstr("column 'avg_potential_v': must be in"));
  }
  {  // unknown role
    const std::string text = absl::StrReplaceAll(good, {{"POS,,positive,", "POS,,cathode,"}});
    const absl::Status s = ParseError(text);
    EXPECT_THAT(s.message(), HasSubstr("t.csv:4:6: column 'role'"));
  }
  {  // unknown ion
    const std::string text = absl::StrReplaceAll(good, {{"negative,Li|Na,", "negative,Li|Ca,"}});
    EXPECT_THAT(ParseError(text).message(), HasSubstr("t.csv:5:"));
  }
  {  // wrong number of fields
    const std::string text = good + "X,,positive\n";
    EXPECT_THAT(ParseError(text).message(), HasSubstr("t.csv:6:"));
    EXPECT_THAT(ParseError(text).message(), HasSubstr("expected 22 fields as in the header, got 3"));
  }
  {  // missing header column
    const std::string text = absl::StrReplaceAll(good, {{",density_g_cm3,", ",densidad,"}});
    EXPECT_THAT(ParseError(text).message(), HasSubstr("t.csv:3:1: header: missing column(s) density_g_cm3"));
  }
  {  // a reference that is not defined
    const std::string text = absl::StrReplaceAll(good, {{"*=R1,\"a note", "*=R2,\"a note"}});
    EXPECT_THAT(ParseError(text).message(), HasSubstr("column 'sources': unknown reference \"R2\""));
  }
  {  // a numeric value with no reference
    const std::string text =
        absl::StrReplaceAll(good, {{"*=R1,\"a note", "density_g_cm3=R1,\"a note"}});
    EXPECT_THAT(ParseError(text).message(),
                HasSubstr("no reference for column 'avg_potential_v'"));
  }
  {  // duplicate name (case-insensitive)
    const std::string text = good + absl::StrReplaceAll(good.substr(good.find("NEG,")),
                                                        {{"NEG,", "neg,"}});
    EXPECT_THAT(ParseError(text).message(), HasSubstr("\"neg\" is already used on line 5"));
  }
  {  // unterminated quote
    const std::string text = absl::StrReplaceAll(good, {{"\"a note, with a comma\"", "\"oops"}});
    EXPECT_THAT(ParseError(text).message(), HasSubstr("unterminated quoted field"));
  }
  {  // inconsistent window
    const std::string text = absl::StrReplaceAll(good, {{"Li,3.8,3.3,4.3,", "Li,3.8,3.9,4.3,"}});
    EXPECT_THAT(ParseError(text).message(), HasSubstr("must lie in [ocv_min_v, ocv_max_v]"));
  }
  EXPECT_EQ(ParseError("").code(), absl::StatusCode::kInvalidArgument);
}

TEST(ElectrodeTableTest, LoadReportsMissingFile) {
  const absl::StatusOr<ElectrodeTable> table = LoadElectrodeTable("/nonexistent/electrodes.csv");
  EXPECT_EQ(table.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(table.status().message(), HasSubstr("/nonexistent/electrodes.csv"));
}

// $IONLOOP_ELECTRODE_TABLE wins over the built-in locations, and a wrong path is an error,
// not a silent fallback.
TEST(ElectrodeTableTest, EnvironmentVariableOverridesTheDefaultPath) {
  ionloop::testing::TempDir dir;
  const std::string path = dir.path() + "/mine.csv";
  {
    std::ofstream out(path);
    out << MinimalTable();
  }
  const char* old = std::getenv("IONLOOP_ELECTRODE_TABLE");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("IONLOOP_ELECTRODE_TABLE", path.c_str(), 1);
  absl::StatusOr<ElectrodeTable> table = LoadDefaultElectrodeTable();
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->electrodes().size(), 2u);
  ::setenv("IONLOOP_ELECTRODE_TABLE", (dir.path() + "/missing.csv").c_str(), 1);
  EXPECT_EQ(DefaultElectrodeTablePath().status().code(), absl::StatusCode::kNotFound);
  if (old != nullptr) {
    ::setenv("IONLOOP_ELECTRODE_TABLE", saved.c_str(), 1);
  } else {
    ::unsetenv("IONLOOP_ELECTRODE_TABLE");
  }
  EXPECT_TRUE(DefaultElectrodeTablePath().ok());
}

}  // namespace
}  // namespace ionloop::instruments
