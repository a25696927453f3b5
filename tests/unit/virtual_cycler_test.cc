// The virtual cycler states the physics it is meant to reproduce (DESIGN.md §6.4, issue 4):
// chemistries, temperature, charge rate, plating knees (and none on LTO), sodium on hard
// carbon, organic-cathode dissolution, recovery after rests, cell-to-cell variation,
// noise and outliers, exact reproducibility per seed — and, where a published data set
// exists (Severson et al. 2019, ../shared/data), that its lives fall in the real range.
#include "instruments/cycler/virtual_cell.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "instruments/cycler/fade_analysis.h"
#include "instruments/electrode_table.h"
#include "tests/testing/electrode_table.h"

namespace ionloop::instruments::cycler {
namespace {

using ::testing::HasSubstr;

const ElectrodeTable& Table() { return ionloop::testing::DefaultElectrodeTable(); }

CellConfig Cell(Ion ion, const char* pos, const char* neg, CellDesign design, double capacity_ah,
                double charge_c, double discharge_c, double v_min, double v_max,
                double temperature_c, double rest_minutes = 0) {
  CellConfig c;
  c.ion = ion;
  c.positive_electrode = pos;
  c.negative_electrode = neg;
  c.design = design;
  c.nominal_capacity_ah = capacity_ah;
  c.protocol.charge_c_rate = charge_c;
  c.protocol.discharge_c_rate = discharge_c;
  c.protocol.voltage_min_v = v_min;
  c.protocol.voltage_max_v = v_max;
  c.protocol.temperature_c = temperature_c;
  c.protocol.rest_minutes = rest_minutes;
  return c;
}

// 18650 LFP/graphite (A123-like), 2.0-3.6 V.
CellConfig LfpGraphite(double charge_c, double temperature_c) {
  return Cell(Ion::kLi, "LFP", "graphite", CellDesign::kCylindrical, 1.1, charge_c, 1, 2.0, 3.6,
              temperature_c);
}
// NMC811/graphite pouch, 2.8-4.2 V.
CellConfig Nmc811Graphite(double charge_c, double temperature_c, double v_max = 4.2) {
  return Cell(Ion::kLi, "NMC811", "graphite", CellDesign::kPouch, 2.0, charge_c, 1, 2.8, v_max,
              temperature_c);
}

VirtualCell Make(const CellConfig& config, uint64_t seed,
                 const ModelParameters& params = ModelParameters()) {
  absl::StatusOr<VirtualCell> cell = VirtualCell::Create(config, Table(), seed, params);
  EXPECT_TRUE(cell.ok()) << cell.status();
  return *std::move(cell);
}

struct Life {
  std::vector<double> soh;  // true discharge capacity / nominal, per cycle
  int cycles_to_eol = -1;   // -1: not reached within the limit
};

Life RunToEol(const CellConfig& config, uint64_t seed, int max_cycles) {
  VirtualCell cell = Make(config, seed);
  Life life;
  for (int i = 0; i < max_cycles; ++i) {
    const CycleRecord r = cell.RunCycle();
    life.soh.push_back(r.true_discharge_capacity_ah / config.nominal_capacity_ah);
    if (cell.ReachedEol()) {
      life.cycles_to_eol = static_cast<int>(cell.cycles());
      break;
    }
  }
  return life;
}

TEST(VirtualCyclerTest, SameSeedReproducesExactly) {
  const CellConfig config = LfpGraphite(4, 25);
  VirtualCell a = Make(config, 42);
  VirtualCell b = Make(config, 42);
  for (int i = 0; i < 500; ++i) {
    const CycleRecord ra = a.RunCycle();
    const CycleRecord rb = b.RunCycle();
    ASSERT_EQ(ra.discharge_capacity_ah, rb.discharge_capacity_ah) << "cycle " << i + 1;
    ASSERT_EQ(ra.charge_capacity_ah, rb.charge_capacity_ah);
    ASSERT_EQ(ra.discharge_energy_wh, rb.discharge_energy_wh);
    ASSERT_EQ(ra.internal_resistance_ohm, rb.internal_resistance_ohm);
    ASSERT_EQ(ra.temperature_c, rb.temperature_c);
    ASSERT_EQ(ra.elapsed_s, rb.elapsed_s);
    ASSERT_EQ(ra.outlier, rb.outlier);
    if (i % 100 == 0) {  // asking for a curve does not disturb the cycle records
      EXPECT_EQ(a.DischargeCurve().voltage_v, b.DischargeCurve().voltage_v);
    }
  }
  // A copy is an identical twin from here on.
  VirtualCell c = a;
  for (int i = 0; i < 50; ++i) EXPECT_EQ(a.RunCycle().discharge_capacity_ah, c.RunCycle().discharge_capacity_ah);
}

TEST(VirtualCyclerTest, DifferentSeedsDifferLikeRealCells) {
  // Cell-to-cell variation: same design and protocol, different seeds.
  std::vector<double> first, lives;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    const Life life = RunToEol(LfpGraphite(4, 25), seed, 5000);
    ASSERT_GT(life.cycles_to_eol, 0) << "seed " << seed;
    first.push_back(life.soh.front());
    lives.push_back(life.cycles_to_eol);
  }
  const auto cv = [](const std::vector<double>& v) {
    const double mean = std::accumulate(v.begin(), v.end(), 0.0) / v.size();
    double ss = 0;
    for (double x : v) ss += (x - mean) * (x - mean);
    return std::sqrt(ss / (v.size() - 1)) / mean;
  };
  // Initial capacities within ~0.5 %, lives within ~5-30 % (Baumhöfer et al. 2014;
  // Severson's same-policy cells differ by ~10-20 %).
  EXPECT_GT(cv(first), 0.0005);
  EXPECT_LT(cv(first), 0.02);
  EXPECT_GT(cv(lives), 0.03);
  EXPECT_LT(cv(lives), 0.4);
}

TEST(VirtualCyclerTest, LfpOutlivesNmc811At1CAnd25C) {
  const Life lfp = RunToEol(Cell(Ion::kLi, "LFP", "graphite", CellDesign::kPouch, 2.0, 1, 1, 2.0,
                                 3.6, 25),
                            1, 20000);
  const Life nmc = RunToEol(Nmc811Graphite(1, 25), 1, 20000);
  ASSERT_GT(lfp.cycles_to_eol, 0);
  ASSERT_GT(nmc.cycles_to_eol, 0);
  std::printf("LFP/graphite %d cycles, NMC811/graphite %d cycles to 80 %% (1C, 25 °C)\n",
              lfp.cycles_to_eol, nmc.cycles_to_eol);
  EXPECT_GT(lfp.cycles_to_eol, 2 * nmc.cycles_to_eol);
  // Orders of magnitude of published cycling (Preger et al. 2020: LFP thousands, Ni-rich
  // about a thousand at 25 °C, full depth).
  EXPECT_GT(lfp.cycles_to_eol, 2500);
  EXPECT_GT(nmc.cycles_to_eol, 500);
  EXPECT_LT(nmc.cycles_to_eol, 2500);
}

TEST(VirtualCyclerTest, HotterCellsAgeFaster) {
  for (const CellConfig& at25 : {LfpGraphite(1, 25), Nmc811Graphite(1, 25)}) {
    CellConfig at45 = at25;
    at45.protocol.temperature_c = 45;
    const Life cool = RunToEol(at25, 3, 20000);
    const Life hot = RunToEol(at45, 3, 20000);
    ASSERT_GT(hot.cycles_to_eol, 0);
    ASSERT_GT(cool.cycles_to_eol, 0);
    // Ea ~32 kJ/mol: rates x2.2 from 25 to 45 °C.
    EXPECT_LT(hot.cycles_to_eol, 0.7 * cool.cycles_to_eol) << at25.positive_electrode;
    EXPECT_LT(hot.soh[199], cool.soh[199]) << at25.positive_electrode;
  }
}

TEST(VirtualCyclerTest, FastChargeAgesFasterAndShowsAKnee) {
  for (const bool lfp : {true, false}) {
    const CellConfig slow = lfp ? LfpGraphite(1, 25) : Nmc811Graphite(1, 25);
    const CellConfig fast = lfp ? LfpGraphite(4, 25) : Nmc811Graphite(4, 25);
    const Life s = RunToEol(slow, 5, 20000);
    const Life f = RunToEol(fast, 5, 20000);
    ASSERT_GT(s.cycles_to_eol, 0);
    ASSERT_GT(f.cycles_to_eol, 0);
    EXPECT_LT(f.cycles_to_eol, 0.5 * s.cycles_to_eol) << slow.positive_electrode;
    // The knee, measured: the fade rate of the last 20 % of life against that of 10-40 %.
    const double fast_acc = FadeAcceleration(f.soh);
    const double slow_acc = FadeAcceleration(s.soh);
    std::printf("%s/graphite 25 °C: 1C charge %d cycles (fade acceleration %.2f), 4C charge %d "
                "cycles (fade acceleration %.2f, knee at cycle %d)\n",
                slow.positive_electrode.c_str(), s.cycles_to_eol, slow_acc, f.cycles_to_eol,
                fast_acc, KneeIndex(f.soh) + 1);
    EXPECT_GE(fast_acc, 2.0) << slow.positive_electrode;
    EXPECT_LT(slow_acc, 1.5) << slow.positive_electrode;
    const int knee = KneeIndex(f.soh);
    EXPECT_GT(knee, f.cycles_to_eol / 3);  // a late knee, not early death
  }
}

TEST(VirtualCyclerTest, LowTemperatureFastChargePlatesGraphiteButNotLto) {
  // 4C charge at 0 °C: graphite's potential sinks to the Li metal's, LTO's (~1.55 V) never.
  const CellConfig graphite = Cell(Ion::kLi, "NMC111", "graphite", CellDesign::kPouch, 2.0, 4, 1,
                                   2.8, 4.2, 0);
  const CellConfig lto =
      Cell(Ion::kLi, "NMC111", "LTO", CellDesign::kPouch, 2.0, 4, 1, 1.5, 2.8, 0);
  const Life g = RunToEol(graphite, 9, 3000);
  ASSERT_GT(g.cycles_to_eol, 0);
  EXPECT_LT(g.cycles_to_eol, 100);

  VirtualCell cell = Make(lto, 9);
  std::vector<double> soh;
  double plated = 0;
  for (int i = 0; i < 3000; ++i) {
    const CycleRecord r = cell.RunCycle();
    soh.push_back(r.true_discharge_capacity_ah / lto.nominal_capacity_ah);
    plated += cell.state().plated_last_cycle;
  }
  EXPECT_EQ(plated, 0);
  EXPECT_EQ(cell.state().lli_plating, 0);
  EXPECT_FALSE(cell.ReachedEol());
  const double acc = FadeAcceleration(soh);
  std::printf("NMC111/LTO 4C, 0 °C: SOH %.3f after 3000 cycles, fade acceleration %.2f; "
              "NMC111/graphite: %d cycles\n",
              soh.back(), acc, g.cycles_to_eol);
  EXPECT_LT(acc, 1.5);
  // The same at 25 °C: the positive electrode wears (4C is a mechanical stress), but
  // smoothly, with no knee.
  CellConfig lto25 = lto;
  lto25.protocol.temperature_c = 25;
  VirtualCell warm = Make(lto25, 9);
  std::vector<double> soh25;
  for (int i = 0; i < 2000 && !warm.ReachedEol(); ++i) {
    soh25.push_back(warm.RunCycle().true_discharge_capacity_ah / lto25.nominal_capacity_ah);
  }
  EXPECT_EQ(warm.state().lli_plating, 0);
  EXPECT_LT(FadeAcceleration(soh25), 1.5);
}

TEST(VirtualCyclerTest, UpperCutOffAndDepthOfDischargeRaiseFade) {
  const Life v41 = RunToEol(Nmc811Graphite(1, 25, 4.1), 2, 20000);
  const Life v43 = RunToEol(Nmc811Graphite(1, 25, 4.3), 2, 20000);
  ASSERT_GT(v41.cycles_to_eol, 0);
  ASSERT_GT(v43.cycles_to_eol, 0);
  EXPECT_GT(v41.cycles_to_eol, v43.cycles_to_eol);
  EXPECT_GT(v43.soh.front(), v41.soh.front());  // more capacity, faster fade: the trade-off

  // Depth of discharge: the same cell cycled over a narrower window loses less per cycle.
  VirtualCell full = Make(Nmc811Graphite(1, 25), 2);
  VirtualCell shallow = Make(Cell(Ion::kLi, "NMC811", "graphite", CellDesign::kPouch, 2.0, 1, 1,
                                  3.7, 4.2, 25),
                             2);
  for (int i = 0; i < 500; ++i) {
    full.RunCycle();
    shallow.RunCycle();
  }
  EXPECT_GT(full.state().lam_positive, 1.5 * shallow.state().lam_positive);
  EXPECT_GT(full.state().lam_negative, shallow.state().lam_negative);
}

TEST(VirtualCyclerTest, CapacityRecoversAfterALongRest) {
  VirtualCell cell = Make(Nmc811Graphite(1, 25), 4);
  CycleRecord before;
  for (int i = 0; i < 200; ++i) before = cell.RunCycle();
  const double pool = cell.state().reversible_loss;
  EXPECT_GT(pool, 0.003);
  cell.Rest(48);
  EXPECT_LT(cell.state().reversible_loss, 0.01 * pool);
  const CycleRecord after = cell.RunCycle();
  EXPECT_GT(after.true_discharge_capacity_ah - before.true_discharge_capacity_ah,
            0.5 * pool * 2.0);
  EXPECT_NEAR(after.elapsed_s - before.elapsed_s, 48 * 3600.0, 4 * 3600.0);
  // ... and the recovered capacity fades again as cycling resumes.
  CycleRecord later;
  for (int i = 0; i < 60; ++i) later = cell.RunCycle();
  EXPECT_LT(later.true_discharge_capacity_ah, after.true_discharge_capacity_ah);
}

TEST(VirtualCyclerTest, MgOrganicCathodesFadeFastEarly) {
  for (const char* organic : {"PAQS", "PHBQS"}) {
    const CellConfig config = Cell(Ion::kMg, organic, "Mg", CellDesign::kSwagelok, 0.001, 0.2, 0.2,
                                   0.5, organic == std::string("PAQS") ? 2.4 : 2.8, 25);
    VirtualCell cell = Make(config, 6);
    std::vector<double> q;
    for (int i = 0; i < 200; ++i) q.push_back(cell.RunCycle().true_discharge_capacity_ah);
    const double early_rate = (q[0] - q[19]) / 19;
    const double late_rate = (q[99] - q[199]) / 100;
    std::printf("Mg/%s C/5: capacity after 20 cycles %.0f %% of the first, after 200 %.0f %%\n",
                organic, 100 * q[19] / q[0], 100 * q[199] / q[0]);
    EXPECT_LT(q[19], 0.85 * q[0]) << organic;  // dissolution: fast early fade
    EXPECT_GT(early_rate, 10 * late_rate) << organic;  // ... that levels off
    EXPECT_GT(q[199], 0.4 * q[0]) << organic;
    EXPECT_GT(cell.state().lam_dissolution, 0.2);
    EXPECT_EQ(cell.state().lli_total(), 0);  // the Mg foil is a reservoir
  }
  // An inorganic cathode on the same schedule does not.
  const Life lfp = RunToEol(LfpGraphite(0.2, 25), 6, 200);
  EXPECT_GT(lfp.soh[19], 0.98 * lfp.soh[0]);
}

TEST(VirtualCyclerTest, SodiumOnHardCarbonHasItsOwnPhysics) {
  const CellConfig na = Cell(Ion::kNa, "NVPF", "hard-carbon", CellDesign::kCoin, 0.004, 1, 1, 2.0,
                             4.25, 25);
  VirtualCell cell = Make(na, 8);
  const CycleRecord r = cell.RunCycle();
  // NVPF (~3.9 V vs Na) minus hard carbon (~0.25 V vs Na).
  EXPECT_GT(r.mean_discharge_voltage_v, 3.0);
  EXPECT_LT(r.mean_discharge_voltage_v, 3.8);
  EXPECT_GT(r.true_discharge_capacity_ah, 0.9 * na.nominal_capacity_ah);
  // Hard carbon's low plateau is close to Na plating: cold fast charging plates it.
  CellConfig cold = na;
  cold.protocol.charge_c_rate = 4;
  cold.protocol.temperature_c = 0;
  VirtualCell cold_cell = Make(cold, 8);
  for (int i = 0; i < 5; ++i) cold_cell.RunCycle();
  EXPECT_GT(cold_cell.state().lli_plating, 0);
  // Its own SEI parameters: Na's less stable, more soluble SEI (sei_ion_factor) costs more
  // inventory than a Li-like SEI would on the same electrode and schedule.
  ModelParameters li_like;
  li_like.sei_ion_factor[static_cast<size_t>(Ion::kNa)] = 1.0;
  VirtualCell li_sei = Make(na, 8, li_like);
  VirtualCell na_sei = Make(na, 8);
  for (int i = 0; i < 300; ++i) {
    li_sei.RunCycle();
    na_sei.RunCycle();
  }
  EXPECT_GT(na_sei.state().lli_sei, 1.3 * li_sei.state().lli_sei);
}

TEST(VirtualCyclerTest, LargerForeignIonsFadeLiNiO2Faster) {
  // LiNiO2 vs activated carbon in Li, Na and K PF6 electrolytes, C/10, three-electrode
  // cells (BIG-MAP D11.5 §5: fading larger with KPF6).
  std::vector<int> lives;
  for (Ion ion : {Ion::kLi, Ion::kNa, Ion::kK}) {
    const Life life = RunToEol(Cell(ion, "LNO", "activated-carbon", CellDesign::kThreeElectrode,
                                    0.002, 0.1, 0.1, 0.2, 2.5, 25),
                               10, 3000);
    ASSERT_GT(life.cycles_to_eol, 0);
    lives.push_back(life.cycles_to_eol);
  }
  EXPECT_GT(lives[0], lives[1]);
  EXPECT_GT(lives[1], lives[2]);
}

TEST(VirtualCyclerTest, RecordsAreConsistent) {
  const CellConfig config = Nmc811Graphite(1, 25);
  VirtualCell cell = Make(config, 11);
  const double r0 = cell.initial_resistance_ohm();
  EXPECT_NEAR(r0, 0.035 / 2.0, 0.01);
  double elapsed = 0;
  CycleRecord first, r;
  for (int i = 0; i < 1500 && !cell.ReachedEol(); ++i) {
    r = cell.RunCycle();
    if (i == 0) first = r;
    EXPECT_EQ(r.cycle_index, static_cast<uint32_t>(i + 1));
    EXPECT_GT(r.elapsed_s, elapsed);
    elapsed = r.elapsed_s;
    EXPECT_NEAR(r.coulombic_efficiency, r.discharge_capacity_ah / r.charge_capacity_ah, 1e-12);
    EXPECT_NEAR(r.discharge_energy_wh, r.discharge_capacity_ah * r.mean_discharge_voltage_v, 1e-9);
    EXPECT_GT(r.mean_charge_voltage_v, r.mean_discharge_voltage_v);
    EXPECT_GT(r.mean_discharge_voltage_v, 3.4);
    EXPECT_LT(r.mean_charge_voltage_v, 4.2);
    EXPECT_GT(r.temperature_c, 24.5);
    EXPECT_LT(r.temperature_c, 30);
    if (i > 0 && !r.outlier) {
      EXPECT_GT(r.coulombic_efficiency, 0.995);
      EXPECT_LT(r.coulombic_efficiency, 1.001);
    }
  }
  // A cycle at 1C/1C with CV takes a little over two hours.
  EXPECT_NEAR(first.elapsed_s / 3600, 2.0, 0.3);
  // Resistance grows with ageing.
  EXPECT_GT(r.internal_resistance_ohm, 1.15 * first.internal_resistance_ohm);
  EXPECT_GT(cell.state().resistance_growth, 0.1);
}

TEST(VirtualCyclerTest, VoltageCurvesFollowTheOcvAndAge) {
  const CellConfig config = LfpGraphite(4, 30);
  VirtualCell cell = Make(config, 12);
  EXPECT_TRUE(cell.DischargeCurve().capacity_ah.empty());
  cell.RunCycle();
  const CycleRecord r = cell.RunCycle();
  const VoltageCurve early = cell.DischargeCurve(200);
  ASSERT_EQ(early.capacity_ah.size(), 200u);
  EXPECT_EQ(early.cycle_index, 2u);
  EXPECT_FALSE(early.is_charge);
  EXPECT_NEAR(early.capacity_ah.back(), r.true_discharge_capacity_ah, 1e-9);
  // The discharge ends at the cut-off or where the negative electrode is empty.
  EXPECT_LT(early.voltage_v.back(), 2.3);
  // LFP's plateau: flat in the middle, ~3.2 V at 1C... at 4C minus the IR drop.
  EXPECT_NEAR(early.voltage_v[100], 3.2, 0.15);
  for (size_t i = 1; i < early.voltage_v.size(); ++i) {
    EXPECT_LT(early.voltage_v[i], early.voltage_v[i - 1] + 0.005) << i;  // decreasing, noise aside
  }
  const VoltageCurve charge = cell.ChargeCurve(100);
  EXPECT_TRUE(charge.is_charge);
  EXPECT_NEAR(charge.voltage_v.back(), config.protocol.voltage_max_v, 0.01);
  // After ageing, at the same voltage less capacity has been delivered: Severson's ΔQ(V).
  for (int i = 0; i < 400; ++i) cell.RunCycle();
  const VoltageCurve late = cell.DischargeCurve(200);
  EXPECT_LT(late.capacity_ah.back(), early.capacity_ah.back());
  EXPECT_LT(late.voltage_v[100], early.voltage_v[100] + 0.002);  // the IR drop grew
}

TEST(VirtualCyclerTest, NoiseAndOccasionalOutliers) {
  ModelParameters params;
  params.outlier_probability = 0.01;
  VirtualCell cell = Make(LfpGraphite(1, 25), 13, params);
  int outliers = 0, dips = 0;
  double max_normal_error = 0;
  for (int i = 0; i < 4000; ++i) {
    const CycleRecord r = cell.RunCycle();
    const double rel = r.discharge_capacity_ah / r.true_discharge_capacity_ah - 1;
    if (r.outlier) {
      ++outliers;
      if (rel < -0.015) ++dips;
    } else {
      max_normal_error = std::max(max_normal_error, std::abs(rel));
    }
  }
  EXPECT_GE(outliers, 20);
  EXPECT_LE(outliers, 70);
  EXPECT_GT(dips, outliers / 2);
  EXPECT_GT(max_normal_error, 0.0003);  // noise is there...
  EXPECT_LT(max_normal_error, 0.005);   // ... and small
}

TEST(VirtualCyclerTest, CreateRejectsWhatNoCyclerCouldRun) {
  const auto error = [](CellConfig c) {
    return VirtualCell::Create(c, Table(), 1).status();
  };
  CellConfig c = LfpGraphite(1, 25);
  c.positive_electrode = "LMO";
  EXPECT_THAT(error(c).message(), HasSubstr("positive_electrode: unknown electrode \"LMO\""));
  c = LfpGraphite(1, 25);
  c.positive_electrode = "graphite";
  EXPECT_THAT(error(c).message(), HasSubstr("is a negative electrode"));
  c = LfpGraphite(1, 25);
  c.ion = Ion::kNa;
  EXPECT_THAT(error(c).message(), HasSubstr("\"LFP\" is not used with Na"));
  c = LfpGraphite(1, 25);
  c.protocol.voltage_min_v = 1.0;
  c.protocol.voltage_max_v = 2.1;  // below the discharged cell's OCV
  EXPECT_THAT(error(c).message(), HasSubstr("protocol.voltage_max_v: 2.1 V is not above"));
  c = LfpGraphite(1, 25);
  c.protocol.voltage_min_v = 3.75;  // above the charged cell's OCV
  c.protocol.voltage_max_v = 3.8;
  EXPECT_THAT(error(c).message(), HasSubstr("protocol.voltage_min_v: 3.75 V is not below"));
  c = LfpGraphite(1, 25);
  c.protocol.charge_steps = {{4, 50}, {2, 40}};
  EXPECT_THAT(error(c).message(), HasSubstr("charge_steps[1].until_soc_percent"));
  c = LfpGraphite(0, 25);
  EXPECT_THAT(error(c).message(), HasSubstr("protocol.charge_c_rate: must be in (0, 20]"));
  c = LfpGraphite(1, 25);
  c.nominal_capacity_ah = -1;
  EXPECT_EQ(error(c).code(), absl::StatusCode::kInvalidArgument);
}

// Demos run 16 channels x thousands of cycles: 1000 cycles must take milliseconds.
TEST(VirtualCyclerTest, ThousandCyclesTakeMilliseconds) {
  VirtualCell cell = Make(LfpGraphite(1, 25), 14);
  const auto start = std::chrono::steady_clock::now();
  double sink = 0;
  for (int i = 0; i < 1000; ++i) sink += cell.RunCycle().discharge_capacity_ah;
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("1000 cycles in %.2f ms (%g)\n", ms, sink);
  EXPECT_LT(ms, 100);  // ~2-3 ms here; a wide margin for loaded or instrumented builds
}

// ---- Severson et al., Nature Energy 4 (2019) 383: A123 APR18650M1A LFP/graphite, 1.1 Ah,
// 30 °C chamber, charge C1 to Q1 % SOC then C2 to 80 %, then 1C CC-CV to 3.6 V; 4C
// discharge to 2.0 V. Life = first cycle below 0.88 Ah (80 % of nominal).

#ifdef IONLOOP_SHARED_DATA_DIR
constexpr const char* kSharedData = IONLOOP_SHARED_DATA_DIR;
#else
constexpr const char* kSharedData = "";
#endif

std::vector<double> ReadNumbers(const std::string& path) {
  std::vector<double> v;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) v.push_back(std::stod(line));
  }
  return v;
}

struct SeversonCell {
  double c1, q1, c2, life;
};

std::vector<SeversonCell> ReadSeversonPolicies(const std::string& path) {
  std::vector<SeversonCell> cells;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string field[5];
    for (std::string& f : field) std::getline(ss, f, ',');
    SeversonCell c;
    // e.g. "5.4C(40%)-3.6C"
    if (std::sscanf(field[4].c_str(), "%lfC(%lf%%)-%lfC", &c.c1, &c.q1, &c.c2) != 3) continue;
    c.life = std::stod(field[3]);
    cells.push_back(c);
  }
  return cells;
}

double Correlation(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n;
  const double mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

TEST(VirtualCyclerTest, SeversonPoliciesLiveAsLongAsTheRealCells) {
  const std::string dir = std::string(kSharedData) + "/severson";
  std::vector<double> real_lives = ReadNumbers(dir + "/data/cycle_lives/train_cycle_lives.csv");
  const std::vector<double> test1 = ReadNumbers(dir + "/data/cycle_lives/test1_cycle_lives.csv");
  const std::vector<SeversonCell> cells =
      ReadSeversonPolicies(dir + "/severson_et_al_SI_table9_train_test1.csv");
  if (real_lives.empty() || test1.empty() || cells.empty()) {
    GTEST_SKIP() << "Severson data not found under " << dir
                 << " (../shared/data is absent): the comparison with real cells is skipped";
  }
  real_lives.insert(real_lives.end(), test1.begin(), test1.end());
  const double real_min = *std::min_element(real_lives.begin(), real_lives.end());
  const double real_max = *std::max_element(real_lives.begin(), real_lives.end());

  // Every cell of the train and primary-test sets, one seed per cell.
  std::vector<double> log_real, log_sim;
  double sum_sq = 0, sim_min = 1e9, sim_max = 0;
  uint64_t seed = 0;
  for (const SeversonCell& s : cells) {
    CellConfig config = Cell(Ion::kLi, "LFP", "graphite", CellDesign::kCylindrical, 1.1, 1, 4,
                             2.0, 3.6, 30, /*rest_minutes=*/1);
    config.protocol.charge_steps = {{s.c1, s.q1}};
    if (s.q1 < 80) config.protocol.charge_steps.push_back({s.c2, 80});
    const Life life = RunToEol(config, ++seed, 6000);
    ASSERT_GT(life.cycles_to_eol, 0);
    const double sim = life.cycles_to_eol;
    EXPECT_GE(sim, real_min) << s.c1 << "C(" << s.q1 << "%)-" << s.c2 << "C";
    EXPECT_LE(sim, real_max) << s.c1 << "C(" << s.q1 << "%)-" << s.c2 << "C";
    sim_min = std::min(sim_min, sim);
    sim_max = std::max(sim_max, sim);
    log_real.push_back(std::log(s.life));
    log_sim.push_back(std::log(sim));
    sum_sq += (log_sim.back() - log_real.back()) * (log_sim.back() - log_real.back());
  }
  const double rms_log = std::sqrt(sum_sq / cells.size());
  const double r = Correlation(log_real, log_sim);
  std::printf("Severson et al. 2019, %zu cells: real lives %.0f-%.0f, simulated %.0f-%.0f; "
              "per-cell RMS log error %.2f (x%.2f), correlation of log lives %.2f\n",
              cells.size(), real_min, real_max, sim_min, sim_max, rms_log, std::exp(rms_log), r);
  // Calibrated against these very cells (docs/science.md): typical error within a factor
  // ~1.5, ranking better than chance (policy alone explains only part of the real spread:
  // same-policy cells differ by up to 2x across batches).
  EXPECT_LT(rms_log, 0.6);
  EXPECT_GT(r, 0.3);
}

}  // namespace
}  // namespace ionloop::instruments::cycler
