// The virtual-cycler corpus: a valid, covering test plan; deterministic generation on any
// number of threads; series as a cycler reports them; lives spread wide and following the
// physics (charge rate, temperature, upper cut-off) on average.
#include "models/corpus/virtual_corpus.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "instruments/cycler/model_parameters.h"
#include "instruments/cycler/virtual_cell.h"
#include "instruments/electrode_table.h"
#include "tests/testing/electrode_table.h"

namespace ionloop::models {
namespace {

using instruments::ElectrodeProperties;
using instruments::ElectrodeRole;
using instruments::ElectrodeTable;
using instruments::Ion;
using instruments::cycler::CellConfig;
using instruments::cycler::CellDesign;
using instruments::cycler::VirtualCell;
using ::testing::HasSubstr;

const ElectrodeTable& Table() { return ionloop::testing::DefaultElectrodeTable(); }

std::string CoupleName(const CellConfig& c) {
  return c.positive_electrode + "/" + c.negative_electrode + " (" +
         std::string(instruments::IonSymbol(c.ion)) + ")";
}

TEST(VirtualCorpusTest, PracticalWindowComesFromTheTable) {
  CellConfig c;
  c.positive_electrode = "NMC811";
  c.negative_electrode = "graphite";
  absl::StatusOr<CoupleWindow> w = PracticalWindow(Table(), c);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_NEAR(w->ocv_full_v, 4.2, 0.1);   // the usual 4.2 V cut-off
  EXPECT_NEAR(w->ocv_empty_v, 2.5, 0.1);  // 3.3 V - 0.8 V
  EXPECT_NEAR(w->positive_top_v, 4.3, 1e-9);
  // LiNiO2 and activated carbon are both tabulated vs Li: in a K cell both shift alike.
  c.ion = Ion::kK;
  c.positive_electrode = "LNO";
  c.negative_electrode = "activated-carbon";
  absl::StatusOr<CoupleWindow> k = PracticalWindow(Table(), c);
  c.ion = Ion::kLi;
  absl::StatusOr<CoupleWindow> li = PracticalWindow(Table(), c);
  ASSERT_TRUE(k.ok() && li.ok());
  EXPECT_NEAR(k->ocv_full_v, li->ocv_full_v, 1e-9);
  EXPECT_NEAR(k->positive_top_v, li->positive_top_v - 0.11, 1e-9);
  // Mg metal counter electrode: the cell voltage is the organic's own potential.
  c.ion = Ion::kMg;
  c.positive_electrode = "PAQS";
  c.negative_electrode = "Mg";
  absl::StatusOr<CoupleWindow> mg = PracticalWindow(Table(), c);
  ASSERT_TRUE(mg.ok());
  EXPECT_NEAR(mg->ocv_full_v, 2.4, 1e-6);
  EXPECT_NEAR(mg->ocv_empty_v, 1.0, 1e-6);
  c.negative_electrode = "LMO";
  EXPECT_THAT(PracticalWindow(Table(), c).status().message(), HasSubstr("\"LMO\""));
}

TEST(VirtualCorpusTest, DesignIsValidAndCoversEveryCouple) {
  CorpusDesign design;
  design.cells = 240;
  design.ions = {Ion::kLi, Ion::kNa, Ion::kK, Ion::kMg};
  absl::StatusOr<std::vector<CellConfig>> configs = DesignCorpus(Table(), design);
  ASSERT_TRUE(configs.ok()) << configs.status();
  ASSERT_EQ(configs->size(), 240u);

  // Every couple the table allows, and nothing else.
  std::set<std::string> expected;
  for (Ion ion : design.ions) {
    for (const ElectrodeProperties& p : Table().electrodes()) {
      for (const ElectrodeProperties& n : Table().electrodes()) {
        if (p.role == ElectrodeRole::kPositive && n.role == ElectrodeRole::kNegative &&
            p.UsedWith(ion) && n.UsedWith(ion)) {
          CellConfig c;
          c.ion = ion;
          c.positive_electrode = p.name;
          c.negative_electrode = n.name;
          expected.insert(CoupleName(c));
        }
      }
    }
  }
  std::map<std::string, int> per_couple;
  std::set<CellDesign> designs;
  std::set<double> temperatures;
  int multi_step = 0;
  double min_rate = 100, max_rate = 0;
  const instruments::cycler::ModelParameters params;
  for (size_t i = 0; i < configs->size(); ++i) {
    const CellConfig& c = (*configs)[i];
    per_couple[CoupleName(c)] += 1;
    designs.insert(c.design);
    temperatures.insert(c.protocol.temperature_c);
    if (!c.protocol.charge_steps.empty()) ++multi_step;
    // The virtual cycler accepts every one, and its first cycle is clear of end of life.
    absl::StatusOr<VirtualCell> cell = VirtualCell::Create(c, Table(), 99);
    ASSERT_TRUE(cell.ok()) << i << " " << CoupleName(c) << ": " << cell.status();
    EXPECT_GT(cell->RunCycle().true_discharge_capacity_ah, 0.83 * c.nominal_capacity_ah)
        << CoupleName(c);
    // Rates inside the design's range.
    const double cap =
        std::min(design.max_c_rate,
                 design.max_ir_drop_v / params.design[static_cast<size_t>(c.design)].r_ohm_ah);
    for (double r : {c.protocol.charge_c_rate, c.protocol.discharge_c_rate}) {
      EXPECT_LE(r, cap + 0.01) << CoupleName(c);
      min_rate = std::min(min_rate, r);
      max_rate = std::max(max_rate, r);
    }
    EXPECT_GE(c.protocol.voltage_max_v - c.protocol.voltage_min_v, design.min_window_v - 1e-9);
    // Counter electrodes in excess (metal, capacitive) are laboratory cells.
    const ElectrodeProperties* neg = Table().Find(c.negative_electrode);
    const bool lab = c.design == CellDesign::kSwagelok || c.design == CellDesign::kThreeElectrode;
    EXPECT_EQ(lab, neg->ocv_shape == instruments::OcvShape::kMetal ||
                       neg->ocv_shape == instruments::OcvShape::kCapacitive)
        << CoupleName(c);
  }
  std::set<std::string> got;
  for (const auto& [k, v] : per_couple) got.insert(k);
  EXPECT_EQ(got, expected);
  for (const auto& [k, v] : per_couple) {
    EXPECT_GE(v, static_cast<int>(240 / expected.size())) << k;
    EXPECT_LE(v, static_cast<int>(240 / expected.size()) + 1) << k;
  }
  EXPECT_GE(designs.size(), 5u);  // coin, cylindrical, pouch + the two lab designs
  EXPECT_EQ(temperatures.size(), design.temperatures_c.size());
  EXPECT_GT(multi_step, 240 / 10);
  EXPECT_LT(min_rate, 0.2);
  EXPECT_GT(max_rate, 5);

  // Same seed, same plan; another seed, another plan.
  absl::StatusOr<std::vector<CellConfig>> again = DesignCorpus(Table(), design);
  ASSERT_TRUE(again.ok());
  for (size_t i = 0; i < configs->size(); ++i) {
    EXPECT_EQ((*again)[i].protocol.charge_c_rate, (*configs)[i].protocol.charge_c_rate);
    EXPECT_EQ((*again)[i].nominal_capacity_ah, (*configs)[i].nominal_capacity_ah);
  }
  design.seed = 2;
  absl::StatusOr<std::vector<CellConfig>> other = DesignCorpus(Table(), design);
  ASSERT_TRUE(other.ok());
  EXPECT_NE((*other)[0].protocol.charge_c_rate, (*configs)[0].protocol.charge_c_rate);
}

TEST(VirtualCorpusTest, RunVirtualTestReportsWhatACyclerMeasures) {
  CellConfig c;
  c.positive_electrode = "NMC811";
  c.negative_electrode = "graphite";
  c.design = CellDesign::kPouch;
  c.nominal_capacity_ah = 2.0;
  c.protocol.charge_c_rate = 4;
  c.protocol.voltage_min_v = 2.8;
  c.protocol.voltage_max_v = 4.2;
  CorpusDesign design;
  design.curve_grid_points = 50;
  absl::StatusOr<CellSeries> s = RunVirtualTest(c, Table(), 5, design);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE(s->has_cycle_life());
  EXPECT_TRUE(s->id.empty());
  ASSERT_EQ(s->cycles.size(), static_cast<size_t>(s->cycle_life));  // stops at end of life
  ASSERT_EQ(s->capacity_ah.size(), s->cycles.size());
  for (size_t i = 0; i < s->cycles.size(); ++i) EXPECT_EQ(s->cycles[i], i + 1.0);

  // cycle_life is the true value: the same cell, re-run, crosses 80 % there.
  absl::StatusOr<VirtualCell> cell = VirtualCell::Create(c, Table(), 5);
  ASSERT_TRUE(cell.ok());
  int crossed = 0, outliers = 0;
  double max_noise = 0;
  for (int i = 1; i <= static_cast<int>(s->cycle_life); ++i) {
    const auto r = cell->RunCycle();
    EXPECT_EQ(r.discharge_capacity_ah, s->capacity_ah[static_cast<size_t>(i - 1)]);
    if (r.outlier) ++outliers;
    max_noise =
        std::max(max_noise, std::abs(r.discharge_capacity_ah - r.true_discharge_capacity_ah));
    if (crossed == 0 && r.true_discharge_capacity_ah < 0.8 * c.nominal_capacity_ah) crossed = i;
  }
  EXPECT_EQ(crossed, static_cast<int>(s->cycle_life));
  EXPECT_GT(max_noise, 0);  // measured, not true, capacities

  // Curves at cycles 3, 10, 100 on the cell's own grid, Q(V) rising as V falls.
  ASSERT_EQ(s->curves.size(), s->cycle_life >= 100 ? 3u : 2u);
  EXPECT_EQ(s->curves[0].cycle, 3);
  EXPECT_EQ(s->curves[1].cycle, 10);
  for (const DischargeCurve& curve : s->curves) {
    ASSERT_EQ(curve.voltage_v.size(), 50u);
    EXPECT_EQ(curve.voltage_v.front(), 4.2);
    EXPECT_EQ(curve.voltage_v.back(), 2.8);
    EXPECT_EQ(curve.capacity_ah.front(), 0);
    for (size_t i = 1; i < curve.capacity_ah.size(); ++i) {
      EXPECT_GE(curve.capacity_ah[i], curve.capacity_ah[i - 1]);
    }
    EXPECT_NEAR(curve.capacity_ah.back(), s->capacity_ah[static_cast<size_t>(curve.cycle - 1)],
                0.03 * 2.0);
  }
  // Fade shows in the curves: less charge delivered at cycle 100 than at 3.
  if (s->curves.size() == 3) {
    EXPECT_LT(s->curves[2].capacity_ah.back(), s->curves[0].capacity_ah.back());
  }

  // The cap: NaN life, max_cycles records.
  c.protocol.charge_c_rate = 1;
  design.max_cycles = 50;
  absl::StatusOr<CellSeries> capped = RunVirtualTest(c, Table(), 5, design);
  ASSERT_TRUE(capped.ok());
  EXPECT_FALSE(capped->has_cycle_life());
  EXPECT_EQ(capped->cycles.size(), 50u);
  EXPECT_EQ(capped->curves.size(), 2u);

  // Errors pass through, naming the field.
  c.positive_electrode = "graphite";
  EXPECT_THAT(RunVirtualTest(c, Table(), 5, design).status().message(),
              HasSubstr("positive_electrode"));
  design.max_cycles = 0;
  EXPECT_THAT(RunVirtualTest(c, Table(), 5, design).status().message(),
              HasSubstr("CorpusDesign.max_cycles"));
}

TEST(VirtualCorpusTest, SameCorpusOnAnyNumberOfThreads) {
  CorpusDesign design;
  design.cells = 30;
  design.max_cycles = 300;
  absl::StatusOr<std::vector<CellSeries>> one = GenerateVirtualCorpus(Table(), design, 1);
  absl::StatusOr<std::vector<CellSeries>> three = GenerateVirtualCorpus(Table(), design, 3);
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_TRUE(three.ok()) << three.status();
  ASSERT_EQ(one->size(), 30u);
  ASSERT_EQ(three->size(), 30u);
  for (size_t i = 0; i < one->size(); ++i) {
    const CellSeries& a = (*one)[i];
    const CellSeries& b = (*three)[i];
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.capacity_ah, b.capacity_ah) << a.id;
    EXPECT_EQ(a.cycles, b.cycles);
    ASSERT_EQ(a.curves.size(), b.curves.size());
    for (size_t k = 0; k < a.curves.size(); ++k) {
      EXPECT_EQ(a.curves[k].capacity_ah, b.curves[k].capacity_ah);
    }
    EXPECT_TRUE(a.cycle_life == b.cycle_life ||
                (std::isnan(a.cycle_life) && std::isnan(b.cycle_life)));
  }
  char id[16];
  std::snprintf(id, sizeof(id), "virtual-%04d", 17);
  EXPECT_EQ((*one)[17].id, id);
}

TEST(VirtualCorpusTest, LivesSpreadWideAcrossTheCorpus) {
  CorpusDesign design;
  design.cells = 126;  // three per couple (Li + Na)
  design.seed = 3;
  absl::StatusOr<std::vector<CellSeries>> corpus = GenerateVirtualCorpus(Table(), design, 2);
  ASSERT_TRUE(corpus.ok()) << corpus.status();
  const CorpusSummary s = SummarizeCorpus(*corpus);
  std::printf("%s", FormatCorpusSummary(s).c_str());
  EXPECT_EQ(s.cells, 126);
  EXPECT_GE(s.positive_electrodes.size(), 11u);
  EXPECT_GE(s.negative_electrodes.size(), 4u);
  EXPECT_EQ(s.cells_per_ion.size(), 2u);
  ASSERT_EQ(s.life_quantiles.size(), 7u);
  // Tens to thousands of cycles; some cells outlive the cap.
  EXPECT_LT(s.life_quantiles[1], 100);
  EXPECT_GT(s.life_quantiles[6], 1000);
  EXPECT_GT(s.reached_eol, s.cells / 3);
  EXPECT_LT(s.reached_eol, s.cells);
}

// Mean log10(cycle life) of `configs` after `change`, lives censored at the cap counted at
// the cap (which only understates the difference).
template <typename Change>
double MeanLogLife(const std::vector<CellConfig>& configs, const CorpusDesign& design,
                   Change change) {
  double sum = 0;
  for (size_t i = 0; i < configs.size(); ++i) {
    CellConfig c = configs[i];
    change(&c);
    absl::StatusOr<CellSeries> s = RunVirtualTest(c, Table(), 100 + i, design);
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok()) continue;
    sum += std::log10(s->has_cycle_life() ? s->cycle_life : design.max_cycles);
  }
  return sum / static_cast<double>(configs.size());
}

TEST(VirtualCorpusTest, LivesFollowThePhysicsOnAverage) {
  // Full cells from the plan (coin/cylindrical/pouch), one factor changed at a time,
  // the others held at each cell's own design point.
  CorpusDesign design;
  design.cells = 84;
  design.seed = 4;
  design.max_cycles = 2500;
  design.multi_step_fraction = 0;
  absl::StatusOr<std::vector<CellConfig>> plan = DesignCorpus(Table(), design);
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::vector<CellConfig> cells;
  for (const CellConfig& c : *plan) {
    if (c.design == CellDesign::kPouch || c.design == CellDesign::kCylindrical) {
      cells.push_back(c);
    }
  }
  ASSERT_GE(cells.size(), 20u);
  cells.resize(20);
  const auto at = [](double charge, double temperature) {
    return [=](CellConfig* c) {
      c->protocol.charge_c_rate = charge;
      c->protocol.discharge_c_rate = 1;
      c->protocol.temperature_c = temperature;
    };
  };
  const double slow = MeanLogLife(cells, design, at(0.5, 25));
  const double fast = MeanLogLife(cells, design, at(4, 25));
  const double hot = MeanLogLife(cells, design, at(0.5, 45));
  const double cold_fast = MeanLogLife(cells, design, at(4, 0));
  const double high_v = MeanLogLife(cells, design, [&](CellConfig* c) {
    at(0.5, 25)(c);
    c->protocol.voltage_max_v += 0.1;
  });
  std::printf(
      "mean log10 life over %zu cells: 0.5C/25C %.2f, 4C/25C %.2f, 0.5C/45C %.2f, "
      "4C/0C %.2f, 0.5C/25C +0.1 V %.2f\n",
      cells.size(), slow, fast, hot, cold_fast, high_v);
  EXPECT_LT(fast, slow - 0.1);       // faster charge, shorter life
  EXPECT_LT(hot, slow - 0.1);        // hotter, shorter
  EXPECT_LT(cold_fast, fast - 0.1);  // cold fast charge plates
  EXPECT_LT(high_v, slow - 0.02);    // higher upper cut-off, shorter
}

TEST(VirtualCorpusTest, RefusesABadDesign) {
  CorpusDesign design;
  design.cells = 0;
  EXPECT_THAT(DesignCorpus(Table(), design).status().message(), HasSubstr("CorpusDesign.cells"));
  design = CorpusDesign();
  design.max_c_rate = 30;
  EXPECT_THAT(DesignCorpus(Table(), design).status().message(), HasSubstr("max_c_rate"));
  design = CorpusDesign();
  design.temperatures_c = {25, 120};
  EXPECT_THAT(DesignCorpus(Table(), design).status().message(), HasSubstr("temperatures_c"));
  design = CorpusDesign();
  design.curve_cycles = {0};
  EXPECT_THAT(GenerateVirtualCorpus(Table(), design, 1).status().message(),
              HasSubstr("curve_cycles"));
  // A table with no couple for the ions: the default file without its negative
  // electrodes.
  absl::StatusOr<std::string> path = instruments::DefaultElectrodeTablePath();
  ASSERT_TRUE(path.ok()) << path.status();
  std::ifstream in(*path);
  std::string line, text;
  while (std::getline(in, line)) {
    if (line.find(",negative,") == std::string::npos) text += line + "\n";
  }
  absl::StatusOr<ElectrodeTable> positives =
      instruments::ParseElectrodeTable(text, "positives.csv");
  ASSERT_TRUE(positives.ok()) << positives.status();
  const absl::Status none = DesignCorpus(*positives, CorpusDesign()).status();
  EXPECT_EQ(none.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(none.message(), HasSubstr("Li,Na"));
}

// The full 1000-cell corpus and its cost: run with --gtest_also_run_disabled_tests.
TEST(VirtualCorpusTest, DISABLED_FullCorpusSummaryAndTiming) {
  const CorpusDesign design;
  for (int threads : {1, 2}) {
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::vector<CellSeries>> corpus =
        GenerateVirtualCorpus(Table(), design, threads);
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_TRUE(corpus.ok()) << corpus.status();
    std::printf("%d thread(s): %.2f s\n", threads, s);
    if (threads == 1) std::printf("%s", FormatCorpusSummary(SummarizeCorpus(*corpus)).c_str());
  }
}

}  // namespace
}  // namespace ionloop::models
