#include "models/corpus/lifetime_features.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "instruments/electrode_table.h"
#include "tests/testing/electrode_table.h"

namespace ionloop::models {
namespace {

using instruments::ElectrodeTable;
using instruments::Ion;
using instruments::cycler::CellConfig;
using instruments::cycler::CellDesign;
using ::testing::HasSubstr;

const ElectrodeTable& Table() { return ionloop::testing::DefaultElectrodeTable(); }

// Two numbers per electrode: its average potential and its log10 practical capacity.
class FakeEmbedding : public ElectrodeEmbedding {
 public:
  std::string kind() const override { return "fake"; }
  int dimensions() const override { return 2; }
  std::vector<float> Embed(const instruments::ElectrodeProperties& e) const override {
    ++calls;
    return {static_cast<float>(e.avg_potential_v),
            static_cast<float>(std::log10(e.practical_capacity_mah_g))};
  }
  std::string Serialize() const override { return ""; }
  mutable int calls = 0;
};

CellConfig Nmc811() {
  CellConfig c;
  c.ion = Ion::kLi;
  c.positive_electrode = "NMC811";
  c.negative_electrode = "graphite";
  c.design = CellDesign::kPouch;
  c.nominal_capacity_ah = 2.0;
  c.protocol.charge_c_rate = 2;
  c.protocol.discharge_c_rate = 1;
  c.protocol.voltage_min_v = 2.8;
  c.protocol.voltage_max_v = 4.2;
  c.protocol.temperature_c = 25;
  c.protocol.rest_minutes = 5;
  return c;
}

float Get(const LifetimeFeaturizer& f, const std::vector<float>& x, const std::string& name) {
  const std::vector<std::string> names = f.Names();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return x[i];
  }
  ADD_FAILURE() << "no feature " << name;
  return NAN;
}

TEST(LifetimeFeaturesTest, NamesAndValues) {
  auto embedding = std::make_shared<FakeEmbedding>();
  const LifetimeFeaturizer f(Table(), embedding);
  EXPECT_EQ(embedding->calls, static_cast<int>(Table().electrodes().size()));  // once each
  ASSERT_EQ(f.size(), 4 + 2 * 2 + 6 + 12);
  EXPECT_EQ(f.Names().size(), static_cast<size_t>(f.size()));
  EXPECT_EQ(f.Names()[0], "ion_Li");
  EXPECT_EQ(f.Names()[4], "pos_emb_0");
  EXPECT_EQ(f.Names()[6], "neg_emb_0");
  EXPECT_EQ(f.Names()[8], "design_coin");
  EXPECT_EQ(f.Names().back(), "loading_level");

  absl::StatusOr<std::vector<float>> x = f.Features(Nmc811(), 2);
  ASSERT_TRUE(x.ok()) << x.status();
  ASSERT_EQ(x->size(), static_cast<size_t>(f.size()));
  EXPECT_EQ(embedding->calls, static_cast<int>(Table().electrodes().size()));  // cached
  EXPECT_EQ(Get(f, *x, "ion_Li"), 1);
  EXPECT_EQ(Get(f, *x, "ion_Na"), 0);
  EXPECT_FLOAT_EQ(Get(f, *x, "pos_emb_0"), 3.8f);  // NMC811's average potential
  EXPECT_FLOAT_EQ(Get(f, *x, "neg_emb_0"), 0.1f);  // graphite's
  EXPECT_EQ(Get(f, *x, "design_pouch"), 1);
  EXPECT_EQ(Get(f, *x, "design_coin"), 0);
  EXPECT_NEAR(Get(f, *x, "log10_nominal_capacity_ah"), std::log10(2.0), 1e-6);
  EXPECT_NEAR(Get(f, *x, "log10_charge_c_rate"), std::log10(2.0), 1e-6);
  EXPECT_NEAR(Get(f, *x, "log10_max_charge_c_rate"), std::log10(2.0), 1e-6);
  EXPECT_NEAR(Get(f, *x, "log10_discharge_c_rate"), 0, 1e-6);
  EXPECT_FLOAT_EQ(Get(f, *x, "voltage_min_v"), 2.8f);
  EXPECT_FLOAT_EQ(Get(f, *x, "voltage_max_v"), 4.2f);
  EXPECT_NEAR(Get(f, *x, "window_v"), 1.4, 1e-6);
  // 4.2 V over charged graphite (~0.09 V) puts NMC811 just under its 4.3 V window top.
  EXPECT_NEAR(Get(f, *x, "positive_top_vs_ocv_max_v"), -0.01, 0.03);
  EXPECT_FLOAT_EQ(Get(f, *x, "temperature_c"), 25);
  EXPECT_NEAR(Get(f, *x, "inv_temperature_1000_per_k"), 1000 / 298.15, 1e-5);
  EXPECT_FLOAT_EQ(Get(f, *x, "rest_minutes"), 5);
  EXPECT_FLOAT_EQ(Get(f, *x, "loading_level"), 2);

  // A higher cut-off raises the positive's top-of-charge feature one for one.
  CellConfig high = Nmc811();
  high.protocol.voltage_max_v = 4.3;
  absl::StatusOr<std::vector<float>> xh = f.Features(high, 2);
  ASSERT_TRUE(xh.ok());
  EXPECT_NEAR(Get(f, *xh, "positive_top_vs_ocv_max_v") - Get(f, *x, "positive_top_vs_ocv_max_v"),
              0.1, 1e-5);
}

TEST(LifetimeFeaturesTest, ChargeRateIsTimeWeightedOverSteps) {
  CellConfig c = Nmc811();
  // 6C to 40 %, 3C to 80 %, then 1C to 100 %: 0.4/6 + 0.4/3 + 0.2/1 = 0.4 h.
  c.protocol.charge_steps = {{6, 40}, {3, 80}};
  EXPECT_NEAR(EffectiveChargeRate(c.protocol), 2.5, 1e-12);
  EXPECT_EQ(MaxChargeRate(c.protocol), 6);
  const LifetimeFeaturizer f(Table(), std::make_shared<FakeEmbedding>());
  absl::StatusOr<std::vector<float>> x = f.Features(c, 0);
  ASSERT_TRUE(x.ok());
  EXPECT_NEAR(Get(f, *x, "log10_charge_c_rate"), std::log10(2.5), 1e-6);
  EXPECT_NEAR(Get(f, *x, "log10_max_charge_c_rate"), std::log10(6.0), 1e-6);
  // A slow last step finishes at its own rate.
  c.protocol.charge_steps = {{0.5, 50}};
  EXPECT_NEAR(EffectiveChargeRate(c.protocol), 0.5, 1e-12);
}

TEST(LifetimeFeaturesTest, OtherIonsAndNoEmbedding) {
  const LifetimeFeaturizer f(Table(), nullptr);
  EXPECT_EQ(f.size(), 4 + 6 + 12);
  CellConfig c;
  c.ion = Ion::kMg;
  c.positive_electrode = "PAQS";
  c.negative_electrode = "Mg";
  c.design = CellDesign::kSwagelok;
  c.protocol.charge_c_rate = 0.2;
  c.protocol.discharge_c_rate = 0.2;
  c.protocol.voltage_min_v = 0.5;
  c.protocol.voltage_max_v = 2.4;
  absl::StatusOr<std::vector<float>> x = f.Features(c, 0);
  ASSERT_TRUE(x.ok()) << x.status();
  EXPECT_EQ(Get(f, *x, "ion_Mg"), 1);
  EXPECT_EQ(Get(f, *x, "design_swagelok"), 1);
  EXPECT_NEAR(Get(f, *x, "positive_top_vs_ocv_max_v"), 0, 1e-6);  // 2.4 V vs Mg = its top
  // The alias works as the name does.
  c.ion = Ion::kK;
  c.positive_electrode = "LiNiO2";
  c.negative_electrode = "activated-carbon";
  c.design = CellDesign::kThreeElectrode;
  EXPECT_TRUE(f.Features(c, 0).ok());
}

TEST(LifetimeFeaturesTest, RefusesUnknownElectrodesAndNonFiniteInput) {
  const LifetimeFeaturizer f(Table(), std::make_shared<FakeEmbedding>());
  CellConfig c = Nmc811();
  c.positive_electrode = "LMO";
  absl::Status s = f.Features(c, 0).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("positive_electrode: unknown electrode \"LMO\""));
  c = Nmc811();
  c.negative_electrode = "Li-metal";
  EXPECT_THAT(f.Features(c, 0).status().message(), HasSubstr("\"Li-metal\""));
  c = Nmc811();
  c.positive_electrode = "graphite";  // a known electrode in the wrong role
  EXPECT_EQ(f.Features(c, 0).status().code(), absl::StatusCode::kInvalidArgument);

  const auto code = [&](auto mutate, double loading = 0) {
    CellConfig k = Nmc811();
    mutate(&k);
    return f.Features(k, loading).status();
  };
  EXPECT_THAT(code([](CellConfig* k) { k->protocol.temperature_c = NAN; }).message(),
              HasSubstr("protocol.temperature_c"));
  EXPECT_THAT(code([](CellConfig* k) { k->protocol.charge_c_rate = INFINITY; }).message(),
              HasSubstr("protocol.charge_c_rate"));
  EXPECT_THAT(code([](CellConfig* k) { k->protocol.discharge_c_rate = 0; }).message(),
              HasSubstr("protocol.discharge_c_rate"));
  EXPECT_THAT(code([](CellConfig* k) { k->nominal_capacity_ah = NAN; }).message(),
              HasSubstr("nominal_capacity_ah"));
  EXPECT_THAT(code([](CellConfig* k) { k->protocol.voltage_max_v = NAN; }).message(),
              HasSubstr("protocol.voltage_max_v"));
  EXPECT_THAT(code([](CellConfig* k) {
                k->protocol.charge_steps = {{NAN, 50}};
              }).message(),
              HasSubstr("charge_steps[0].c_rate"));
  EXPECT_THAT(code([](CellConfig*) {}, NAN).message(), HasSubstr("loading_level"));
  EXPECT_EQ(code([](CellConfig*) {}, NAN).code(), absl::StatusCode::kInvalidArgument);
}

TEST(LifetimeFeaturesTest, MatrixHasOneRowPerCell) {
  const LifetimeFeaturizer f(Table(), std::make_shared<FakeEmbedding>());
  std::vector<CellSeries> cells(3);
  for (size_t i = 0; i < cells.size(); ++i) {
    cells[i].id = "cell" + std::to_string(i);
    cells[i].config = Nmc811();
    cells[i].config.protocol.temperature_c = 10.0 * static_cast<double>(i);
    cells[i].loading_level = static_cast<double>(i);
  }
  absl::StatusOr<Matrix> m = f.FeaturesMatrix(cells);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->rows, 3u);
  EXPECT_EQ(m->cols, static_cast<size_t>(f.size()));
  for (size_t r = 0; r < 3; ++r) {
    absl::StatusOr<std::vector<float>> x = f.Features(cells[r].config, cells[r].loading_level);
    ASSERT_TRUE(x.ok());
    EXPECT_EQ(std::vector<float>(m->row(r), m->row(r) + m->cols), *x);
  }
  cells[1].config.negative_electrode = "unobtainium";
  absl::Status s = f.FeaturesMatrix(cells).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("cell1: negative_electrode"));
}

}  // namespace
}  // namespace ionloop::models
