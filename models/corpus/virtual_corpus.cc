#include "models/corpus/virtual_corpus.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "instruments/cycler/electrode_ocv.h"
#include "instruments/cycler/model_parameters.h"
#include "instruments/cycler/random.h"
#include "instruments/cycler/virtual_cell.h"
#include "models/data/voltage_grid.h"

namespace ionloop::models {
namespace {

using instruments::ElectrodeProperties;
using instruments::ElectrodeRole;
using instruments::ElectrodeTable;
using instruments::Ion;
using instruments::OcvShape;
using instruments::cycler::CellConfig;
using instruments::cycler::CellDesign;
using instruments::cycler::ChargeStep;
using instruments::cycler::CycleRecord;
using instruments::cycler::ModelParameters;
using instruments::cycler::Rng;
using instruments::cycler::VirtualCell;

// Nominal capacities (Ah) by design, sampled log-uniformly before rating: coin 2032,
// 18650/21700, research and commercial pouch, prismatic, Swagelok and three-electrode lab
// cells (orders of magnitude).
struct CapacityRange {
  double low_ah, high_ah;
};
CapacityRange DesignCapacity(CellDesign design) {
  switch (design) {
    case CellDesign::kCoin:
      return {0.002, 0.005};
    case CellDesign::kCylindrical:
      return {1.1, 3.5};
    case CellDesign::kPouch:
      return {0.2, 5.0};
    case CellDesign::kPrismatic:
      return {10, 50};
    case CellDesign::kSwagelok:
      return {0.0005, 0.002};
    case CellDesign::kThreeElectrode:
      return {0.001, 0.003};
  }
  return {0.002, 0.005};
}

// Informational electrolyte (DESIGN.md §6.4): carbonate APF6 for Li/Na/K, the seed's Mg
// electrolyte for Mg.
std::string Electrolyte(Ion ion) {
  switch (ion) {
    case Ion::kLi:
      return "1 M LiPF6 in EC/EMC";
    case Ion::kNa:
      return "1 M NaPF6 in EC/EMC";
    case Ion::kK:
      return "1 M KPF6 in EC/EMC";
    case Ion::kMg:
      return "Mg(TFSI)2 + MgCl2 in DME";
  }
  return "";
}

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("CorpusDesign.", field, ": ", what));
}

absl::Status ValidateDesign(const CorpusDesign& d) {
  if (d.cells < 1) return Invalid("cells", absl::StrCat("must be >= 1, got ", d.cells));
  if (d.ions.empty()) return Invalid("ions", "empty");
  if (!(std::isfinite(d.min_c_rate) && d.min_c_rate > 0 && d.min_c_rate <= 20)) {
    return Invalid("min_c_rate", absl::StrCat("must be in (0, 20] C, got ", d.min_c_rate));
  }
  if (!(std::isfinite(d.max_c_rate) && d.max_c_rate >= d.min_c_rate && d.max_c_rate <= 20)) {
    return Invalid("max_c_rate", absl::StrCat("must be in [min_c_rate, 20] C, got ", d.max_c_rate));
  }
  if (!(std::isfinite(d.max_ir_drop_v) && d.max_ir_drop_v > 0)) {
    return Invalid("max_ir_drop_v", absl::StrCat("must be > 0 V, got ", d.max_ir_drop_v));
  }
  if (!(d.multi_step_fraction >= 0 && d.multi_step_fraction <= 1)) {
    return Invalid("multi_step_fraction",
                   absl::StrCat("must be in [0, 1], got ", d.multi_step_fraction));
  }
  if (d.temperatures_c.empty()) return Invalid("temperatures_c", "empty");
  for (double t : d.temperatures_c) {
    if (!(std::isfinite(t) && t >= -40 && t <= 80)) {
      return Invalid("temperatures_c", absl::StrCat("must be in [-40, 80] °C, got ", t));
    }
  }
  if (d.rest_minutes.empty()) return Invalid("rest_minutes", "empty");
  for (double r : d.rest_minutes) {
    if (!(std::isfinite(r) && r >= 0 && r <= 1440)) {
      return Invalid("rest_minutes", absl::StrCat("must be in [0, 1440] min, got ", r));
    }
  }
  if (d.designs.empty()) return Invalid("designs", "empty");
  if (d.counter_electrode_designs.empty()) return Invalid("counter_electrode_designs", "empty");
  if (!(d.upper_offset_min_v <= d.upper_offset_max_v)) {
    return Invalid("upper_offset_min_v", "must be <= upper_offset_max_v");
  }
  if (!(d.lower_offset_min_v <= d.lower_offset_max_v)) {
    return Invalid("lower_offset_min_v", "must be <= lower_offset_max_v");
  }
  if (!(std::isfinite(d.min_window_v) && d.min_window_v > 0 && d.min_window_v < 4)) {
    return Invalid("min_window_v", absl::StrCat("must be in (0, 4) V, got ", d.min_window_v));
  }
  if (!(d.eol_soh_percent > 0 && d.eol_soh_percent < 100)) {
    return Invalid("eol_soh_percent", absl::StrCat("must be in (0, 100), got ", d.eol_soh_percent));
  }
  if (!(d.min_initial_margin_percent >= 0 &&
        d.eol_soh_percent + d.min_initial_margin_percent < 100)) {
    return Invalid(
        "min_initial_margin_percent",
        absl::StrCat("must be >= 0 with eol + margin < 100, got ", d.min_initial_margin_percent));
  }
  if (d.max_redraws < 0)
    return Invalid("max_redraws", absl::StrCat("must be >= 0, got ", d.max_redraws));
  if (d.max_cycles < 1)
    return Invalid("max_cycles", absl::StrCat("must be >= 1, got ", d.max_cycles));
  for (int c : d.curve_cycles) {
    if (c < 1) return Invalid("curve_cycles", absl::StrCat("cycles are 1-based, got ", c));
  }
  if (d.curve_grid_points < 2) {
    return Invalid("curve_grid_points", absl::StrCat("must be >= 2, got ", d.curve_grid_points));
  }
  if (d.curve_source_points < 2) {
    return Invalid("curve_source_points",
                   absl::StrCat("must be >= 2, got ", d.curve_source_points));
  }
  return absl::OkStatus();
}

absl::StatusOr<const ElectrodeProperties*> Electrode(const ElectrodeTable& table,
                                                     absl::string_view field,
                                                     absl::string_view name, ElectrodeRole role,
                                                     Ion ion) {
  const ElectrodeProperties* e = table.Find(name);
  if (e == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": unknown electrode \"", name,
                                                   "\" (not in ", table.source_name(), ")"));
  }
  if (e->role != role) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": \"", name, "\" is a ", instruments::ElectrodeRoleName(e->role), " electrode"));
  }
  if (!e->UsedWith(ion)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", name, "\" is not used with ", instruments::IonSymbol(ion)));
  }
  return e;
}

struct Couple {
  Ion ion;
  const ElectrodeProperties* positive;
  const ElectrodeProperties* negative;
  CoupleWindow window;
  bool counter_electrode;  // metal or capacitive negative in excess: a lab half cell
};

// The sampled factors of one test (Latin-hypercube dimensions).
enum Dim {
  kChargeRate,
  kDischargeRate,
  kUpperOffset,
  kLowerOffset,
  kCapacity,
  kTemperature,
  kDesign,
  kRest,
  kMultiStep,
  kStepSoc,
  kStepRatio,
  kDims
};
// One sampled test, before it becomes a CellConfig: every coordinate in [0, 1).
struct Point {
  double u[kDims];
};

template <typename T>
const T& Pick(const std::vector<T>& v, double u) {
  size_t i = static_cast<size_t>(u * static_cast<double>(v.size()));
  return v[std::min(i, v.size() - 1)];
}

double LogUniform(double lo, double hi, double u) {
  return std::exp(std::log(lo) + u * (std::log(hi) - std::log(lo)));
}

double Round(double x, double step) { return std::round(x / step) * step; }

CellConfig MakeConfig(const Couple& couple, const CorpusDesign& d, const Point& p,
                      double rate_scale) {
  const ModelParameters params;
  CellConfig c;
  c.ion = couple.ion;
  c.positive_electrode = couple.positive->name;
  c.negative_electrode = couple.negative->name;
  c.electrolyte = Electrolyte(couple.ion);
  c.design = Pick(couple.counter_electrode ? d.counter_electrode_designs : d.designs, p.u[kDesign]);
  c.eol_soh_percent = d.eol_soh_percent;

  const CapacityRange cap = DesignCapacity(c.design);
  c.nominal_capacity_ah = LogUniform(cap.low_ah, cap.high_ah, p.u[kCapacity]);

  // The rate cap of this design: IR drop at the top rate below max_ir_drop_v.
  const double r_design = params.design[static_cast<size_t>(c.design)].r_ohm_ah;
  const double top = std::max(d.min_c_rate, std::min(d.max_c_rate, d.max_ir_drop_v / r_design));
  const auto rate = [&](double u) {
    return std::max(0.01, Round(LogUniform(d.min_c_rate, top, u) * rate_scale, 0.01));
  };
  auto& pr = c.protocol;
  pr.charge_c_rate = rate(p.u[kChargeRate]);
  pr.discharge_c_rate = rate(p.u[kDischargeRate]);
  if (p.u[kMultiStep] < d.multi_step_fraction) {
    // C1 to S1 (20-60 %), C2 (0.3-1.5 x C1, within the design's range) to 80 %.
    const double s1 = Round(20 + 40 * p.u[kStepSoc], 1);
    const double c2 =
        std::clamp(Round(pr.charge_c_rate * LogUniform(0.3, 1.5, p.u[kStepRatio]), 0.01),
                   std::max(0.01, d.min_c_rate * rate_scale), top * rate_scale);
    pr.charge_steps = {ChargeStep{pr.charge_c_rate, s1}, ChargeStep{c2, 80}};
  }
  pr.temperature_c = Pick(d.temperatures_c, p.u[kTemperature]);
  pr.rest_minutes = Pick(d.rest_minutes, p.u[kRest]);

  const CoupleWindow& w = couple.window;
  double v_max = w.ocv_full_v + d.upper_offset_min_v +
                 p.u[kUpperOffset] * (d.upper_offset_max_v - d.upper_offset_min_v);
  double v_min = w.ocv_empty_v + d.lower_offset_min_v +
                 p.u[kLowerOffset] * (d.lower_offset_max_v - d.lower_offset_min_v);
  v_max = std::clamp(Round(v_max, 0.01), 0.05 + d.min_window_v, 4.95);
  v_min = std::clamp(Round(v_min, 0.01), 0.05, v_max - d.min_window_v);
  pr.voltage_max_v = v_max;
  pr.voltage_min_v = v_min;
  return c;
}

// The probe seed: rating and acceptance are properties of the design point, not of the
// cell that is then tested (whose own seed draws its cell-to-cell variation).
constexpr uint64_t kProbeSeed = 0;

// Rates the configuration (nominal capacity at C/5, 25 °C, in its own window) and checks
// that its first cycle under its own protocol stays clear of end of life.
absl::StatusOr<bool> RateAndAccept(const ElectrodeTable& table, const CorpusDesign& d,
                                   CellConfig* c) {
  CellConfig rating = *c;
  rating.protocol.charge_steps.clear();
  rating.protocol.charge_c_rate = 0.2;
  rating.protocol.discharge_c_rate = 0.2;
  rating.protocol.temperature_c = 25;
  rating.protocol.rest_minutes = 0;
  ASSIGN_OR_RETURN(VirtualCell rated, VirtualCell::Create(rating, table, kProbeSeed));
  const double delivered = rated.RunCycle().true_discharge_capacity_ah;
  if (!(delivered > 0.05 * c->nominal_capacity_ah)) return false;  // a window that barely opens
  // Three significant digits, as on a data sheet.
  const double digits = std::pow(10.0, std::floor(std::log10(delivered)) - 2);
  c->nominal_capacity_ah = std::round(delivered / digits) * digits;

  ASSIGN_OR_RETURN(VirtualCell probe, VirtualCell::Create(*c, table, kProbeSeed));
  const CycleRecord first = probe.RunCycle();
  return first.true_discharge_capacity_ah >=
         (d.eol_soh_percent + d.min_initial_margin_percent) / 100.0 * c->nominal_capacity_ah;
}

bool Selected(const std::vector<std::string>& names, const std::string& name) {
  return names.empty() || std::any_of(names.begin(), names.end(), [&](const std::string& n) {
           return absl::EqualsIgnoreCase(n, name);
         });
}

absl::StatusOr<std::vector<Couple>> Couples(const ElectrodeTable& table, const CorpusDesign& d) {
  std::vector<Couple> couples;
  for (Ion ion : d.ions) {
    for (const ElectrodeProperties& pos : table.electrodes()) {
      if (pos.role != ElectrodeRole::kPositive || !pos.UsedWith(ion)) continue;
      if (!Selected(d.positive_electrodes, pos.name)) continue;
      for (const ElectrodeProperties& neg : table.electrodes()) {
        if (neg.role != ElectrodeRole::kNegative || !neg.UsedWith(ion)) continue;
        if (!Selected(d.negative_electrodes, neg.name)) continue;
        CellConfig probe;
        probe.ion = ion;
        probe.positive_electrode = pos.name;
        probe.negative_electrode = neg.name;
        ASSIGN_OR_RETURN(CoupleWindow w, PracticalWindow(table, probe));
        const bool counter =
            neg.ocv_shape == OcvShape::kMetal || neg.ocv_shape == OcvShape::kCapacitive;
        couples.push_back(Couple{ion, &pos, &neg, w, counter});
      }
    }
  }
  if (couples.empty()) {
    std::string ions;
    for (Ion ion : d.ions)
      absl::StrAppend(&ions, ions.empty() ? "" : ",", instruments::IonSymbol(ion));
    return absl::FailedPreconditionError(
        absl::StrCat("CorpusDesign.ions: no positive/negative couple of ", table.source_name(),
                     " works with ", ions));
  }
  return couples;
}

}  // namespace

absl::StatusOr<CoupleWindow> PracticalWindow(const ElectrodeTable& table,
                                             const CellConfig& config) {
  ASSIGN_OR_RETURN(const ElectrodeProperties* pos,
                   Electrode(table, "positive_electrode", config.positive_electrode,
                             ElectrodeRole::kPositive, config.ion));
  ASSIGN_OR_RETURN(const ElectrodeProperties* neg,
                   Electrode(table, "negative_electrode", config.negative_electrode,
                             ElectrodeRole::kNegative, config.ion));
  const ModelParameters params;
  const double e0 = StandardPotentialVsShe(config.ion);
  const double pos_offset = StandardPotentialVsShe(pos->potential_vs) - e0;
  const double neg_offset = StandardPotentialVsShe(neg->potential_vs) - e0;
  const bool metal = neg->ocv_shape == OcvShape::kMetal;
  const double np = config.np_ratio > 0                       ? config.np_ratio
                    : neg->ocv_shape == OcvShape::kCapacitive ? params.np_capacitive
                                                              : params.np_insertion;
  namespace cy = instruments::cycler;
  CoupleWindow w;
  w.positive_top_v = pos->ocv_max_v + pos_offset;
  w.negative_charged_v = metal ? neg_offset + neg->avg_potential_v
                               : cy::ElectrodePotential(*neg, 1.0 / np) + neg_offset;
  const double negative_empty_v =
      metal ? w.negative_charged_v : cy::ElectrodePotential(*neg, 0.0) + neg_offset;
  w.ocv_empty_v = cy::ElectrodePotential(*pos, 0.0) + pos_offset - negative_empty_v;
  w.ocv_full_v = cy::ElectrodePotential(*pos, 1.0) + pos_offset - w.negative_charged_v;
  return w;
}

uint64_t CorpusCellSeed(uint64_t design_seed, int index) {
  uint64_t state = design_seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(index);
  return instruments::cycler::SplitMix64(&state);
}

absl::StatusOr<std::vector<CellConfig>> DesignCorpus(const ElectrodeTable& table,
                                                     const CorpusDesign& design) {
  RETURN_IF_ERROR(ValidateDesign(design));
  ASSIGN_OR_RETURN(std::vector<Couple> couples, Couples(table, design));
  Rng rng(design.seed, /*stream=*/7);

  // Cells per couple: equal shares, the remainder to the first couples of a shuffle.
  std::vector<size_t> order(couples.size());
  std::iota(order.begin(), order.end(), 0);
  for (size_t i = order.size(); i > 1; --i) {
    std::swap(order[i - 1], order[static_cast<size_t>(rng.Uniform() * static_cast<double>(i))]);
  }
  const int n = static_cast<int>(couples.size());
  std::vector<int> share(couples.size(), design.cells / n);
  for (int i = 0; i < design.cells % n; ++i) share[order[static_cast<size_t>(i)]] += 1;

  // Latin hypercube per couple; the couples' cells interleave so that a prefix of the
  // corpus is itself spread over the couples.
  std::vector<std::vector<Point>> points(couples.size());
  for (size_t k = 0; k < couples.size(); ++k) {
    const int m = share[k];
    points[k].resize(static_cast<size_t>(m));
    for (int dim = 0; dim < kDims; ++dim) {
      std::vector<int> perm(static_cast<size_t>(m));
      std::iota(perm.begin(), perm.end(), 0);
      for (size_t i = perm.size(); i > 1; --i) {
        std::swap(perm[i - 1], perm[static_cast<size_t>(rng.Uniform() * static_cast<double>(i))]);
      }
      for (int j = 0; j < m; ++j) {
        points[k][static_cast<size_t>(j)].u[dim] =
            (perm[static_cast<size_t>(j)] + rng.Uniform()) / m;
      }
    }
  }

  std::vector<CellConfig> configs;
  configs.reserve(static_cast<size_t>(design.cells));
  const int rounds = *std::max_element(share.begin(), share.end());
  for (int j = 0; j < rounds; ++j) {
    for (size_t k : order) {
      if (j >= share[k]) continue;
      const Couple& couple = couples[k];
      Point p = points[k][static_cast<size_t>(j)];
      absl::Status last = absl::OkStatus();
      bool accepted = false;
      CellConfig config;
      // The stratified point, then uniform redraws, then the redraws at lower rates.
      for (int attempt = 0; attempt <= design.max_redraws + 6 && !accepted; ++attempt) {
        const double rate_scale =
            attempt <= design.max_redraws ? 1.0 : std::pow(0.5, attempt - design.max_redraws);
        if (attempt > 0 && attempt <= design.max_redraws) {
          for (double& u : p.u) u = rng.Uniform();
        }
        config = MakeConfig(couple, design, p, rate_scale);
        absl::StatusOr<bool> ok = RateAndAccept(table, design, &config);
        if (!ok.ok()) {
          last = ok.status();
          continue;
        }
        accepted = *ok;
      }
      if (!accepted) {
        return absl::FailedPreconditionError(absl::StrCat(
            "no cycling window of ", couple.positive->name, "/", couple.negative->name, " (",
            instruments::IonSymbol(couple.ion), ") keeps the first cycle above ",
            design.eol_soh_percent + design.min_initial_margin_percent, " % of nominal",
            last.ok() ? "" : absl::StrCat("; last error: ", last.message())));
      }
      configs.push_back(std::move(config));
    }
  }
  return configs;
}

absl::StatusOr<CellSeries> RunVirtualTest(const CellConfig& config, const ElectrodeTable& table,
                                          uint64_t seed, const CorpusDesign& design) {
  RETURN_IF_ERROR(ValidateDesign(design));
  ASSIGN_OR_RETURN(VirtualCell cell, VirtualCell::Create(config, table, seed));
  CellSeries series;
  series.config = config;
  series.cycles.reserve(static_cast<size_t>(std::min(design.max_cycles, 4096)));
  series.capacity_ah.reserve(series.cycles.capacity());
  const std::vector<double> grid = LinearVoltageGrid(
      config.protocol.voltage_max_v, config.protocol.voltage_min_v, design.curve_grid_points);
  std::vector<int> curve_cycles = design.curve_cycles;
  std::sort(curve_cycles.begin(), curve_cycles.end());
  curve_cycles.erase(std::unique(curve_cycles.begin(), curve_cycles.end()), curve_cycles.end());
  size_t next_curve = 0;

  for (int i = 1; i <= design.max_cycles; ++i) {
    const CycleRecord r = cell.RunCycle();
    series.cycles.push_back(static_cast<double>(r.cycle_index));
    series.capacity_ah.push_back(r.discharge_capacity_ah);
    while (next_curve < curve_cycles.size() && curve_cycles[next_curve] < i) ++next_curve;
    if (next_curve < curve_cycles.size() && curve_cycles[next_curve] == i) {
      ASSIGN_OR_RETURN(
          DischargeCurve curve,
          ResampleToVoltageGrid(cell.DischargeCurve(design.curve_source_points), grid));
      curve.cycle = i;
      series.curves.push_back(std::move(curve));
      ++next_curve;
    }
    if (cell.ReachedEol()) {
      series.cycle_life = i;
      break;
    }
  }
  return series;
}

absl::StatusOr<std::vector<CellSeries>> GenerateVirtualCorpus(const ElectrodeTable& table,
                                                              const CorpusDesign& design,
                                                              int threads) {
  ASSIGN_OR_RETURN(std::vector<CellConfig> configs, DesignCorpus(table, design));
  const int n = static_cast<int>(configs.size());
  std::vector<absl::StatusOr<CellSeries>> results(configs.size(), absl::UnknownError("not run"));
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = std::min(threads, n);
  std::atomic<int> next{0};
  const auto work = [&] {
    for (int i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
      const size_t k = static_cast<size_t>(i);
      results[k] = RunVirtualTest(configs[k], table, CorpusCellSeed(design.seed, i), design);
      if (results[k].ok()) results[k]->id = absl::StrFormat("virtual-%04d", i);
    }
  };
  if (threads <= 1) {
    work();
  } else {
    std::vector<std::thread> pool;
    pool.reserve(static_cast<size_t>(threads));
    for (int t = 0; t < threads; ++t) pool.emplace_back(work);
    for (std::thread& t : pool) t.join();
  }
  std::vector<CellSeries> corpus;
  corpus.reserve(configs.size());
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<CellSeries>& r = results[static_cast<size_t>(i)];
    if (!r.ok()) {
      return absl::Status(r.status().code(),
                          absl::StrFormat("virtual-%04d: %s", i, r.status().message()));
    }
    corpus.push_back(*std::move(r));
  }
  return corpus;
}

CorpusSummary SummarizeCorpus(const std::vector<CellSeries>& corpus) {
  CorpusSummary s;
  s.cells = static_cast<int>(corpus.size());
  std::vector<double> lives;
  s.min_charge_c_rate = std::numeric_limits<double>::infinity();
  s.max_charge_c_rate = 0;
  s.min_temperature_c = std::numeric_limits<double>::infinity();
  s.max_temperature_c = -std::numeric_limits<double>::infinity();
  for (const CellSeries& c : corpus) {
    const CellConfig& k = c.config;
    const std::string ion(instruments::IonSymbol(k.ion));
    s.cells_per_ion[ion] += 1;
    s.cells_per_couple[absl::StrCat(k.positive_electrode, "/", k.negative_electrode, " (", ion,
                                    ")")] += 1;
    s.cells_per_design[std::string(instruments::cycler::CellDesignName(k.design))] += 1;
    s.positive_electrodes[k.positive_electrode] += 1;
    s.negative_electrodes[k.negative_electrode] += 1;
    double top_rate = k.protocol.charge_c_rate;
    if (!k.protocol.charge_steps.empty()) {
      s.multi_step_cells += 1;
      top_rate = 0;
      for (const ChargeStep& st : k.protocol.charge_steps) top_rate = std::max(top_rate, st.c_rate);
    }
    s.min_charge_c_rate = std::min(s.min_charge_c_rate, top_rate);
    s.max_charge_c_rate = std::max(s.max_charge_c_rate, top_rate);
    s.min_temperature_c = std::min(s.min_temperature_c, k.protocol.temperature_c);
    s.max_temperature_c = std::max(s.max_temperature_c, k.protocol.temperature_c);
    s.total_cycles += static_cast<long long>(c.cycles.size());
    if (c.has_cycle_life()) {
      s.reached_eol += 1;
      lives.push_back(c.cycle_life);
    }
  }
  if (!lives.empty()) {
    std::sort(lives.begin(), lives.end());
    for (double q : {0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0}) {
      const double pos = q * static_cast<double>(lives.size() - 1);
      const size_t lo = static_cast<size_t>(pos);
      const size_t hi = std::min(lo + 1, lives.size() - 1);
      s.life_quantiles.push_back(lives[lo] +
                                 (pos - static_cast<double>(lo)) * (lives[hi] - lives[lo]));
    }
  }
  return s;
}

std::string FormatCorpusSummary(const CorpusSummary& s) {
  const auto join = [](const std::map<std::string, int>& m) {
    std::string out;
    for (const auto& [k, v] : m) absl::StrAppend(&out, out.empty() ? "" : ", ", k, " ", v);
    return out;
  };
  std::string out = absl::StrFormat(
      "corpus: %d cells, %d couples, %d positive and %d negative electrodes, %lld cycles\n",
      s.cells, s.cells_per_couple.size(), s.positive_electrodes.size(),
      s.negative_electrodes.size(), s.total_cycles);
  absl::StrAppend(&out, "  ions: ", join(s.cells_per_ion), "\n");
  absl::StrAppend(&out, "  designs: ", join(s.cells_per_design), "\n");
  absl::StrAppend(&out, "  couples: ", join(s.cells_per_couple), "\n");
  absl::StrAppend(
      &out,
      absl::StrFormat("  charge rates %.2f-%.2f C (%d multi-step), temperatures %.0f-%.0f °C\n",
                      s.min_charge_c_rate, s.max_charge_c_rate, s.multi_step_cells,
                      s.min_temperature_c, s.max_temperature_c));
  absl::StrAppend(&out, absl::StrFormat("  reached EOL: %d of %d (%.1f %%)", s.reached_eol, s.cells,
                                        s.cells > 0 ? 100.0 * s.reached_eol / s.cells : 0.0));
  if (s.life_quantiles.size() == 7) {
    absl::StrAppend(
        &out, absl::StrFormat("; cycle life min %.0f, p10 %.0f, p25 %.0f, median %.0f, p75 %.0f, "
                              "p90 %.0f, max %.0f",
                              s.life_quantiles[0], s.life_quantiles[1], s.life_quantiles[2],
                              s.life_quantiles[3], s.life_quantiles[4], s.life_quantiles[5],
                              s.life_quantiles[6]));
  }
  absl::StrAppend(&out, "\n");
  return out;
}

}  // namespace ionloop::models
