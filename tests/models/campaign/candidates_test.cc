// EnumerateCandidates: counts, validity on the virtual cycler, multi-step charge times,
// fixed-time protocols, seeded sampling, and errors that name the field.
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "instruments/cycler/virtual_cell.h"
#include "instruments/electrode_table.h"
#include "tests/testing/electrode_table.h"
#include "models/campaign/campaign_science.h"

namespace ionloop::models::campaign {
namespace {

using instruments::ElectrodeTable;
using instruments::Ion;
using instruments::cycler::CellDesign;
using instruments::cycler::VirtualCell;
using ::testing::HasSubstr;

const ElectrodeTable& Table() { return ionloop::testing::DefaultElectrodeTable(); }

Axis Range(double min, double max, int levels) {
  Axis a;
  a.min = min;
  a.max = max;
  a.levels = levels;
  return a;
}

SearchSpace LiNaSpace() {
  SearchSpace s;
  s.ions = {Ion::kLi, Ion::kNa};
  s.positive_electrodes = {"LFP", "NVPF"};
  s.negative_electrodes = {"graphite", "hard-carbon"};
  s.charge.c1.values = {2, 4, 6};
  s.charge.soc1_percent.values = {20, 50};
  s.charge.c2 = Range(1, 3, 2);
  s.temperature_c.values = {25, 35};
  return s;
}

TEST(EnumerateCandidatesTest, EveryValidCoupleTimesEveryProtocol) {
  absl::StatusOr<std::vector<Candidate>> c = EnumerateCandidates(LiNaSpace(), Table(), 1000, 1);
  ASSERT_TRUE(c.ok()) << c.status();
  // Couples: LFP/graphite (Li) and NVPF/hard-carbon (Na); 3 × 2 × 2 charges × 2 temperatures.
  ASSERT_EQ(c->size(), 2u * 3 * 2 * 2 * 2);
  std::set<std::string> labels, couples;
  for (size_t i = 0; i < c->size(); ++i) {
    const Candidate& k = (*c)[i];
    EXPECT_EQ(k.index, static_cast<int>(i));
    labels.insert(k.label);
    couples.insert(k.config.positive_electrode + "/" + k.config.negative_electrode);
    EXPECT_EQ(k.config.ion == Ion::kLi, k.config.positive_electrode == "LFP");
    EXPECT_EQ(k.config.design, CellDesign::kCoin);  // the default design
    EXPECT_EQ(k.config.protocol.discharge_c_rate, 1);  // the default discharge
    ASSERT_EQ(k.config.protocol.charge_steps.size(), 2u);
    EXPECT_EQ(k.config.protocol.charge_steps[1].until_soc_percent, 80);
    EXPECT_LT(k.config.protocol.voltage_min_v, k.config.protocol.voltage_max_v);
    EXPECT_TRUE(VirtualCell::Create(k.config, Table(), 7).ok()) << k.label;
    // 0 → 80 %: soc1 at c1, the rest at c2.
    const auto& st = k.config.protocol.charge_steps;
    const double expected = st[0].until_soc_percent / 100 / st[0].c_rate +
                            (80 - st[0].until_soc_percent) / 100 / st[1].c_rate;
    EXPECT_NEAR(k.charge_time_h, expected, 1e-12) << k.label;
  }
  EXPECT_EQ(labels.size(), c->size()) << "labels must tell candidates apart";
  EXPECT_EQ(couples, (std::set<std::string>{"LFP/graphite", "NVPF/hard-carbon"}));
  EXPECT_THAT((*c)[0].label, HasSubstr("LFP/graphite 2C(20%)-1C 25"));
}

TEST(EnumerateCandidatesTest, SingleStepAndRangeAxes) {
  SearchSpace s;
  s.ions = {Ion::kLi};
  s.positive_electrodes = {"NMC811"};
  s.negative_electrodes = {"graphite"};
  s.charge.c1 = Range(0.5, 2, 4);
  s.discharge_c_rate.values = {0.5, 1};
  absl::StatusOr<std::vector<Candidate>> c = EnumerateCandidates(s, Table(), 1000, 1);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->size(), 8u);
  for (const Candidate& k : *c) {
    EXPECT_TRUE(k.config.protocol.charge_steps.empty());
    EXPECT_NEAR(k.charge_time_h, 0.8 / k.config.protocol.charge_c_rate, 1e-12);
    EXPECT_THAT(k.label, HasSubstr("dis "));  // the discharge rate varies: it is labelled
  }
  EXPECT_EQ((*c)[0].config.protocol.charge_c_rate, 0.5);
  EXPECT_EQ((*c)[7].config.protocol.charge_c_rate, 2);
}

TEST(EnumerateCandidatesTest, FixedChargeTimeDerivesTheSecondStep) {
  SearchSpace s;
  s.ions = {Ion::kLi};
  s.positive_electrodes = {"LFP"};
  s.negative_electrodes = {"graphite"};
  s.designs = {CellDesign::kCylindrical};
  s.nominal_capacity_ah = 1.1;
  s.charge.c1.values = {3, 4.8, 6, 8};
  s.charge.soc1_percent.values = {10, 40, 70};
  s.charge.charge_time_to_80_h = 1.0 / 6;  // Attia's 10 minutes
  absl::StatusOr<std::vector<Candidate>> c = EnumerateCandidates(s, Table(), 1000, 1);
  ASSERT_TRUE(c.ok()) << c.status();
  // 3C to 40 % or 70 % takes longer than 10 min overall / leaves no time: skipped.
  EXPECT_LT(c->size(), 12u);
  EXPECT_GE(c->size(), 8u);
  for (const Candidate& k : *c) {
    EXPECT_NEAR(k.charge_time_h, 1.0 / 6, 1e-4) << k.label;
    EXPECT_GT(k.config.protocol.charge_steps[1].c_rate, 0);
  }
}

TEST(EnumerateCandidatesTest, SampledAboveTheCapDeterministically) {
  SearchSpace s = LiNaSpace();
  s.charge.c1 = Range(1, 6, 11);
  s.charge.soc1_percent = Range(10, 70, 7);
  absl::StatusOr<std::vector<Candidate>> all = EnumerateCandidates(s, Table(), 100000, 1);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_GT(all->size(), 500u);
  absl::StatusOr<std::vector<Candidate>> a = EnumerateCandidates(s, Table(), 50, 3);
  absl::StatusOr<std::vector<Candidate>> b = EnumerateCandidates(s, Table(), 50, 3);
  absl::StatusOr<std::vector<Candidate>> other = EnumerateCandidates(s, Table(), 50, 4);
  ASSERT_TRUE(a.ok() && b.ok() && other.ok());
  ASSERT_EQ(a->size(), 50u);
  std::set<std::string> all_labels, a_labels, other_labels;
  for (const Candidate& k : *all) all_labels.insert(k.label);
  for (size_t i = 0; i < 50; ++i) {
    EXPECT_EQ((*a)[i].label, (*b)[i].label);
    EXPECT_EQ((*a)[i].index, static_cast<int>(i));
    EXPECT_TRUE(all_labels.count((*a)[i].label)) << (*a)[i].label;
    a_labels.insert((*a)[i].label);
    other_labels.insert((*other)[i].label);
  }
  EXPECT_EQ(a_labels.size(), 50u);
  EXPECT_NE(a_labels, other_labels);
  // Both couples are sampled (a uniform sample, not a prefix of the enumeration).
  std::set<std::string> ions;
  for (const Candidate& k : *a) ions.insert(std::string(instruments::IonSymbol(k.config.ion)));
  EXPECT_EQ(ions.size(), 2u);
}

TEST(EnumerateCandidatesTest, ErrorsNameTheField) {
  const auto error = [](const SearchSpace& s) {
    return std::string(EnumerateCandidates(s, Table(), 100, 1).status().message());
  };
  SearchSpace s = LiNaSpace();
  s.positive_electrodes = {"XYZ"};
  EXPECT_THAT(error(s), HasSubstr("search_space.positive_electrodes: unknown electrode 'XYZ'"));
  s = LiNaSpace();
  s.negative_electrodes = {"LFP"};
  EXPECT_THAT(error(s), HasSubstr("search_space.negative_electrodes: 'LFP' is a positive"));
  s = LiNaSpace();
  s.ions = {Ion::kMg};
  EXPECT_THAT(error(s), HasSubstr("search_space.positive_electrodes: 'LFP' is used with none"));
  s = LiNaSpace();
  s.ions.clear();
  EXPECT_THAT(error(s), HasSubstr("search_space.ions: empty"));
  s = LiNaSpace();
  s.charge.c1 = Axis{};
  EXPECT_THAT(error(s), HasSubstr("search_space.charge.c1: empty"));
  s = LiNaSpace();
  s.charge.soc1_percent.values = {90};
  EXPECT_THAT(error(s), HasSubstr("search_space.charge.soc1_percent: must be in (0, 80)"));
  s = LiNaSpace();
  s.temperature_c = Range(40, 20, 3);
  EXPECT_THAT(error(s), HasSubstr("search_space.temperature_c: min 40 > max 20"));
  s = LiNaSpace();
  s.voltage_max_v.values = {1.0};  // below both couples' discharged OCV
  EXPECT_THAT(error(s), HasSubstr("accepted by the virtual cycler"));
  EXPECT_THAT(error(s), HasSubstr("voltage_max_v"));
  EXPECT_EQ(EnumerateCandidates(LiNaSpace(), Table(), 0, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ionloop::models::campaign
