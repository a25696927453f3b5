// Candidates, acquisition, Pareto front and the early-stopping rule (campaign_science.h).
// The surrogate lives in surrogate.cc.
//
// Decisions (documented here once):
//   * Design space: SelectBatch measures distances (grid order, local penalization) on the
//     candidates' own knobs, standardized over the candidate set: couple and design
//     one-hots, the charge shape (log10 mean rate in four SOC bins), log10 discharge
//     rate, temperature, voltage window. Columns constant over the set are dropped. It
//     needs no surrogate, so random, grid and the model-based policies share one metric.
//   * Grid: a greedy maximin (farthest-point) order in that space, starting from the
//     candidate nearest the centroid; observed and pending candidates count as chosen.
//     Deterministic, space-filling at every prefix — the "grid" a chemist would lay out
//     for a budget smaller than the full factorial.
//   * Random: one seeded permutation of all candidates; each call takes its first
//     `count` free entries, so successive rounds with one seed draw without replacement
//     from a single random order.
//   * Local penalization (after González et al. 2016, simplified to a fixed radius r):
//     the utility u(x) = acquisition(x) − min over free candidates (≥ 0) is multiplied,
//     for every already picked or pending x_j, by 1 − exp(−d(x, x_j)² / (2 r²)). A pick's
//     stored acquisition is the raw value, before the shift and the penalty.
//   * EI is computed on log10 cycles against the best observed log10 life (measured or
//     predicted); with no observation yet, against the best predicted mean.
//   * Thompson: each pick draws one ensemble member (seeded by options.seed and the
//     number of observed and pending candidates, so successive rounds differ) and
//     maximizes its prediction, penalized like the others.
//   * Two objectives (ParEGO, Knowles 2006): per pick a weight λ ~ U(0, 1); life
//     L = normalized log10 life (over the predicted means), time T = normalized charge
//     time; scalarized s = −max(λ(1 − L), (1 − λ)T) − 0.05(λ(1 − L) + (1 − λ)T) (higher
//     is better). UCB and Thompson put their optimistic / sampled life into L; EI is the
//     expected improvement of s over the best observed s, by a fixed 16-point Gaussian
//     quadrature of the life.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <numeric>
#include <unordered_set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "instruments/cycler/random.h"
#include "instruments/cycler/virtual_cell.h"
#include "models/campaign/campaign_features_internal.h"
#include "models/campaign/campaign_science.h"
#include "models/corpus/virtual_corpus.h"

namespace ionloop::models::campaign {

namespace cy = instruments::cycler;
using instruments::ElectrodeProperties;
using instruments::ElectrodeRole;
using instruments::Ion;

namespace internal {

double ChargeRateAt(const cy::CyclingProtocol& p, double soc_percent) {
  if (p.charge_steps.empty()) return p.charge_c_rate;
  for (const cy::ChargeStep& s : p.charge_steps) {
    if (soc_percent < s.until_soc_percent) return s.c_rate;
  }
  return std::min(1.0, p.charge_steps.back().c_rate);
}

double ChargeHours(const cy::CyclingProtocol& p, double from, double to) {
  // Piecewise constant: integrate between the step boundaries. Runs per candidate in
  // featurization and SelectBatch: the edges live on the stack for up to 14 steps.
  constexpr size_t kStackEdges = 16;
  std::array<double, kStackEdges> stack_edges;
  std::vector<double> heap_edges;
  double* edges = stack_edges.data();
  if (p.charge_steps.size() + 2 > kStackEdges) {
    heap_edges.resize(p.charge_steps.size() + 2);
    edges = heap_edges.data();
  }
  size_t count = 0;
  edges[count++] = from;
  edges[count++] = to;
  for (const cy::ChargeStep& s : p.charge_steps) {
    if (s.until_soc_percent > from && s.until_soc_percent < to) edges[count++] = s.until_soc_percent;
  }
  std::sort(edges, edges + count);
  double hours = 0;
  for (size_t i = 0; i + 1 < count; ++i) {
    const double a = edges[i], b = edges[i + 1];
    if (b <= a) continue;
    hours += (b - a) / 100.0 / ChargeRateAt(p, 0.5 * (a + b));
  }
  return hours;
}

std::array<float, kChargeShapeBins> ChargeShapeFeatures(const cy::CyclingProtocol& p) {
  std::array<float, kChargeShapeBins> out{};
  for (int b = 0; b < kChargeShapeBins; ++b) {
    const double from = 20.0 * b, to = 20.0 * (b + 1);
    const double hours = ChargeHours(p, from, to);
    out[static_cast<size_t>(b)] = static_cast<float>(std::log10((to - from) / 100.0 / hours));
  }
  return out;
}

std::vector<std::string> ChargeShapeNames() {
  return {"log10_charge_rate_soc_0_20", "log10_charge_rate_soc_20_40",
          "log10_charge_rate_soc_40_60", "log10_charge_rate_soc_60_80"};
}

}  // namespace internal

namespace {

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("search_space.", field, ": ", what));
}

bool AxisEmpty(const Axis& a) { return a.values.empty() && a.min == 0 && a.max == 0; }

// The values of an axis; `fallback` when it is empty (nullopt: empty is an error).
absl::StatusOr<std::vector<double>> AxisValues(const Axis& a, absl::string_view field,
                                               std::optional<double> fallback) {
  if (!a.values.empty()) {
    std::vector<double> v = a.values;
    for (double x : v) {
      if (!std::isfinite(x)) return Invalid(field, absl::StrCat("non-finite value ", x));
    }
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  }
  if (AxisEmpty(a)) {
    if (fallback) return std::vector<double>{*fallback};
    return Invalid(field, "empty (give values or a [min, max] range)");
  }
  if (!(std::isfinite(a.min) && std::isfinite(a.max))) {
    return Invalid(field, absl::StrCat("non-finite range [", a.min, ", ", a.max, "]"));
  }
  if (a.min > a.max) return Invalid(field, absl::StrCat("min ", a.min, " > max ", a.max));
  if (a.min == a.max) return std::vector<double>{a.min};
  if (a.levels < 2) {
    return Invalid(field, absl::StrCat("levels must be >= 2 for a range, got ", a.levels));
  }
  std::vector<double> v;
  for (int i = 0; i < a.levels; ++i) {
    // Rounded to 1e-6 so that printed labels and repeated enumerations agree.
    const double x = a.min + (a.max - a.min) * i / (a.levels - 1);
    v.push_back(std::round(x * 1e6) / 1e6);
  }
  return v;
}

absl::Status CheckPositive(const std::vector<double>& v, absl::string_view field) {
  for (double x : v) {
    if (!(x > 0)) return Invalid(field, absl::StrCat("must be > 0, got ", x));
  }
  return absl::OkStatus();
}

std::string FormatNumber(double x) { return absl::StrFormat("%.3g", x); }

struct Couple {
  Ion ion;
  std::string positive, negative;
};

absl::StatusOr<std::vector<Couple>> CouplesOf(const SearchSpace& s,
                                              const instruments::ElectrodeTable& table) {
  if (s.ions.empty()) return Invalid("ions", "empty");
  if (s.positive_electrodes.empty()) return Invalid("positive_electrodes", "empty");
  if (s.negative_electrodes.empty()) return Invalid("negative_electrodes", "empty");
  const auto resolve = [&](const std::vector<std::string>& names, ElectrodeRole role,
                           absl::string_view field)
      -> absl::StatusOr<std::vector<const ElectrodeProperties*>> {
    std::vector<const ElectrodeProperties*> out;
    for (const std::string& name : names) {
      const ElectrodeProperties* e = table.Find(name);
      if (e == nullptr) {
        return Invalid(field, absl::StrCat("unknown electrode '", name, "' (not in ",
                                           table.source_name(), ")"));
      }
      if (e->role != role) {
        return Invalid(field, absl::StrCat("'", name, "' is a ",
                                           instruments::ElectrodeRoleName(e->role),
                                           " electrode"));
      }
      bool any = false;
      for (Ion ion : s.ions) any = any || e->UsedWith(ion);
      if (!any) {
        std::string ions;
        for (Ion ion : s.ions) absl::StrAppend(&ions, ions.empty() ? "" : ", ", instruments::IonSymbol(ion));
        return Invalid(field, absl::StrCat("'", name, "' is used with none of the ions ", ions));
      }
      if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
    }
    return out;
  };
  ASSIGN_OR_RETURN(auto positives, resolve(s.positive_electrodes, ElectrodeRole::kPositive,
                                           "positive_electrodes"));
  ASSIGN_OR_RETURN(auto negatives, resolve(s.negative_electrodes, ElectrodeRole::kNegative,
                                           "negative_electrodes"));
  std::vector<Couple> couples;
  std::vector<Ion> ions = s.ions;
  std::sort(ions.begin(), ions.end());
  ions.erase(std::unique(ions.begin(), ions.end()), ions.end());
  for (Ion ion : ions) {
    for (const ElectrodeProperties* p : positives) {
      for (const ElectrodeProperties* n : negatives) {
        if (p->UsedWith(ion) && n->UsedWith(ion)) couples.push_back({ion, p->name, n->name});
      }
    }
  }
  if (couples.empty()) {
    return Invalid("positive_electrodes", "no positive/negative pair shares one of the ions");
  }
  return couples;
}

// A protocol's charge steps from (c1, soc1, c2); c2 <= 0: single step.
struct ChargeChoice {
  double c1 = 1, soc1 = 0, c2 = 0;
};

std::vector<cy::ChargeStep> StepsOf(const ChargeChoice& c) {
  if (c.c2 <= 0) return {};
  return {cy::ChargeStep{c.c1, c.soc1}, cy::ChargeStep{c.c2, 80}};
}

absl::StatusOr<std::vector<ChargeChoice>> ChargeChoices(const ChargeStepsSpace& space) {
  ASSIGN_OR_RETURN(std::vector<double> c1, AxisValues(space.c1, "charge.c1", std::nullopt));
  RETURN_IF_ERROR(CheckPositive(c1, "charge.c1"));
  std::vector<ChargeChoice> out;
  const bool fixed_time = space.charge_time_to_80_h > 0;
  if (!std::isfinite(space.charge_time_to_80_h) || space.charge_time_to_80_h < 0) {
    return Invalid("charge.charge_time_to_80_h",
                   absl::StrCat("must be >= 0, got ", space.charge_time_to_80_h));
  }
  if (!fixed_time && AxisEmpty(space.c2)) {
    for (double a : c1) out.push_back({a, 0, 0});
    return out;
  }
  ASSIGN_OR_RETURN(std::vector<double> soc1,
                   AxisValues(space.soc1_percent, "charge.soc1_percent", std::nullopt));
  for (double s : soc1) {
    if (!(s > 0 && s < 80)) {
      return Invalid("charge.soc1_percent", absl::StrCat("must be in (0, 80) %, got ", s));
    }
  }
  if (fixed_time) {
    const double t = space.charge_time_to_80_h;
    for (double a : c1) {
      for (double s : soc1) {
        const double left = t - s / 100.0 / a;  // hours for soc1 → 80 %
        if (!(left > 0)) continue;
        const double c2 = std::round((80.0 - s) / 100.0 / left * 1e4) / 1e4;
        if (!(c2 > 0 && c2 <= 20)) continue;
        out.push_back({a, s, c2});
      }
    }
    if (out.empty()) {
      return Invalid("charge.charge_time_to_80_h",
                     absl::StrCat("no (c1, soc1) reaches 80 % in ", t,
                                  " h with a second step in (0, 20] C"));
    }
    return out;
  }
  ASSIGN_OR_RETURN(std::vector<double> c2, AxisValues(space.c2, "charge.c2", std::nullopt));
  RETURN_IF_ERROR(CheckPositive(c2, "charge.c2"));
  for (double a : c1) {
    for (double s : soc1) {
      for (double b : c2) out.push_back({a, s, b});
    }
  }
  return out;
}

// Mixed-radix enumeration of every raw combination.
struct Dimensions {
  std::vector<Couple> couples;
  std::vector<cy::CellDesign> designs;
  std::vector<ChargeChoice> charges;
  std::vector<double> discharge, temperature;
  std::vector<double> vmin, vmax;  // empty: the couple's practical window
  bool practical_vmin = false, practical_vmax = false;

  uint64_t Count() const {
    return static_cast<uint64_t>(couples.size()) * designs.size() * charges.size() *
           discharge.size() * temperature.size() * std::max<size_t>(1, vmin.size()) *
           std::max<size_t>(1, vmax.size());
  }
};

std::string ChargeLabel(const ChargeChoice& c) {
  if (c.c2 <= 0) return absl::StrCat(FormatNumber(c.c1), "C");
  return absl::StrCat(FormatNumber(c.c1), "C(", FormatNumber(c.soc1), "%)-", FormatNumber(c.c2),
                      "C");
}

}  // namespace

absl::StatusOr<std::vector<Candidate>> EnumerateCandidates(
    const SearchSpace& space, const instruments::ElectrodeTable& table, int max_candidates,
    uint64_t seed) {
  if (max_candidates < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_candidates: must be >= 1, got ", max_candidates));
  }
  if (!(std::isfinite(space.nominal_capacity_ah) && space.nominal_capacity_ah > 0)) {
    return Invalid("nominal_capacity_ah",
                   absl::StrCat("must be > 0, got ", space.nominal_capacity_ah));
  }
  if (!(space.eol_soh_percent > 0 && space.eol_soh_percent < 100)) {
    return Invalid("eol_soh_percent",
                   absl::StrCat("must be in (0, 100) %, got ", space.eol_soh_percent));
  }
  Dimensions d;
  ASSIGN_OR_RETURN(d.couples, CouplesOf(space, table));
  d.designs = space.designs.empty() ? std::vector<cy::CellDesign>{cy::CellDesign::kCoin}
                                    : space.designs;
  std::sort(d.designs.begin(), d.designs.end());
  d.designs.erase(std::unique(d.designs.begin(), d.designs.end()), d.designs.end());
  ASSIGN_OR_RETURN(d.charges, ChargeChoices(space.charge));
  ASSIGN_OR_RETURN(d.discharge, AxisValues(space.discharge_c_rate, "discharge_c_rate", 1.0));
  RETURN_IF_ERROR(CheckPositive(d.discharge, "discharge_c_rate"));
  ASSIGN_OR_RETURN(d.temperature, AxisValues(space.temperature_c, "temperature_c", 25.0));
  d.practical_vmin = AxisEmpty(space.voltage_min_v);
  d.practical_vmax = AxisEmpty(space.voltage_max_v);
  if (!d.practical_vmin) {
    ASSIGN_OR_RETURN(d.vmin, AxisValues(space.voltage_min_v, "voltage_min_v", std::nullopt));
  }
  if (!d.practical_vmax) {
    ASSIGN_OR_RETURN(d.vmax, AxisValues(space.voltage_max_v, "voltage_max_v", std::nullopt));
  }

  // Practical windows per couple.
  std::vector<CoupleWindow> windows;
  for (const Couple& c : d.couples) {
    cy::CellConfig probe;
    probe.ion = c.ion;
    probe.positive_electrode = c.positive;
    probe.negative_electrode = c.negative;
    absl::StatusOr<CoupleWindow> w = PracticalWindow(table, probe);
    if (!w.ok()) return Invalid("positive_electrodes", w.status().message());
    windows.push_back(*w);
  }

  const uint64_t total = d.Count();
  constexpr uint64_t kMaxCombinations = 50'000'000;
  if (total > kMaxCombinations) {
    return absl::InvalidArgumentError(absl::StrCat(
        "search_space: ", total, " combinations; at most ", kMaxCombinations,
        " can be enumerated (narrow an axis)"));
  }
  const size_t nvmin = std::max<size_t>(1, d.vmin.size());
  const size_t nvmax = std::max<size_t>(1, d.vmax.size());
  const bool many_designs = d.designs.size() > 1, many_discharge = d.discharge.size() > 1;
  const bool many_windows = nvmin > 1 || nvmax > 1;

  // Builds combination `k` (mixed radix, last axis fastest); false when the cycler
  // refuses it (`why` gets the reason).
  const auto build = [&](uint64_t k, Candidate* out, absl::Status* why) {
    uint64_t r = k;
    const size_t ivmax = r % nvmax; r /= nvmax;
    const size_t ivmin = r % nvmin; r /= nvmin;
    const size_t itemp = r % d.temperature.size(); r /= d.temperature.size();
    const size_t idis = r % d.discharge.size(); r /= d.discharge.size();
    const size_t icharge = r % d.charges.size(); r /= d.charges.size();
    const size_t idesign = r % d.designs.size(); r /= d.designs.size();
    const size_t icouple = static_cast<size_t>(r);
    const Couple& couple = d.couples[icouple];
    const CoupleWindow& w = windows[icouple];
    const ChargeChoice& charge = d.charges[icharge];
    cy::CellConfig c;
    c.ion = couple.ion;
    c.positive_electrode = couple.positive;
    c.negative_electrode = couple.negative;
    c.design = d.designs[idesign];
    c.nominal_capacity_ah = space.nominal_capacity_ah;
    c.eol_soh_percent = space.eol_soh_percent;
    c.protocol.charge_c_rate = charge.c1;
    c.protocol.charge_steps = StepsOf(charge);
    c.protocol.discharge_c_rate = d.discharge[idis];
    c.protocol.temperature_c = d.temperature[itemp];
    c.protocol.voltage_max_v =
        d.practical_vmax ? std::round(w.ocv_full_v * 100) / 100 : d.vmax[ivmax];
    c.protocol.voltage_min_v =
        d.practical_vmin ? std::round((w.ocv_empty_v - 0.2) * 100) / 100 : d.vmin[ivmin];
    if (d.practical_vmin) c.protocol.voltage_min_v = std::max(0.05, c.protocol.voltage_min_v);
    absl::StatusOr<cy::VirtualCell> cell = cy::VirtualCell::Create(c, table, /*seed=*/0);
    if (!cell.ok()) {
      *why = cell.status();
      return false;
    }
    out->config = std::move(c);
    const cy::CellConfig& k2 = out->config;
    out->charge_time_h = internal::ChargeHours(k2.protocol, 0, 80);
    std::string label = absl::StrCat(couple.positive, "/", couple.negative);
    if (many_designs) absl::StrAppend(&label, " ", cy::CellDesignName(k2.design));
    absl::StrAppend(&label, " ", ChargeLabel(charge));
    if (many_discharge) absl::StrAppend(&label, " dis ", FormatNumber(k2.protocol.discharge_c_rate), "C");
    absl::StrAppend(&label, " ", FormatNumber(k2.protocol.temperature_c), "°C");
    if (many_windows) {
      absl::StrAppend(&label, " ", absl::StrFormat("%.2f-%.2fV", k2.protocol.voltage_min_v,
                                                   k2.protocol.voltage_max_v));
    }
    out->label = std::move(label);
    return true;
  };

  std::vector<uint64_t> order;  // raw combinations to try, in the order to try them
  if (total <= static_cast<uint64_t>(max_candidates)) {
    order.resize(total);
    std::iota(order.begin(), order.end(), 0);
  } else {
    // A seeded permutation; the first max_candidates accepted ones are kept (then put
    // back in enumeration order).
    cy::Rng rng(seed, /*stream=*/11);
    constexpr uint64_t kMaxPermuted = 4'000'000;
    if (total <= kMaxPermuted) {
      order.resize(total);
      std::iota(order.begin(), order.end(), 0);
      for (size_t i = order.size(); i > 1; --i) {
        std::swap(order[i - 1],
                  order[static_cast<size_t>(rng.Uniform() * static_cast<double>(i))]);
      }
    } else {
      // Too many to permute: distinct uniform draws (enough for the sample, with room
      // for the combinations the cycler refuses).
      std::unordered_set<uint64_t> seen;
      const size_t want = 4 * static_cast<size_t>(max_candidates) + 1000;
      while (order.size() < want && seen.size() < total) {
        const uint64_t k = rng.Next() % total;
        if (seen.insert(k).second) order.push_back(k);
      }
    }
  }
  std::vector<std::pair<uint64_t, Candidate>> kept;
  absl::Status last = absl::OkStatus();
  for (uint64_t k : order) {
    Candidate c;
    if (build(k, &c, &last)) {
      kept.emplace_back(k, std::move(c));
      if (kept.size() >= static_cast<size_t>(max_candidates)) break;
    }
  }
  if (kept.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "search_space: none of the ", total,
        " combinations is accepted by the virtual cycler; last reason: ", last.message()));
  }
  std::sort(kept.begin(), kept.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Candidate> out;
  out.reserve(kept.size());
  for (auto& [k, c] : kept) {
    c.index = static_cast<int>(out.size());
    out.push_back(std::move(c));
  }
  return out;
}

// ----------------------------------------------------------------------------------------
// Acquisition.

absl::string_view PolicyName(Policy policy) {
  switch (policy) {
    case Policy::kRandom: return "random";
    case Policy::kGrid: return "grid";
    case Policy::kUcb: return "ucb";
    case Policy::kEi: return "ei";
    case Policy::kThompson: return "thompson";
  }
  return "unknown";
}

absl::StatusOr<Policy> ParsePolicy(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  for (Policy p : {Policy::kRandom, Policy::kGrid, Policy::kUcb, Policy::kEi, Policy::kThompson}) {
    if (lower == PolicyName(p)) return p;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "policy: unknown '", name, "' (known: random, grid, ucb, ei, thompson)"));
}

namespace {

double NormalPdf(double z) { return 0.3989422804014327 * std::exp(-0.5 * z * z); }
double NormalCdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

double ExpectedImprovement(double mean, double stddev, double best, double xi) {
  const double gain = mean - best - xi;
  if (!(stddev > 1e-12)) return std::max(0.0, gain);
  const double z = gain / stddev;
  return gain * NormalCdf(z) + stddev * NormalPdf(z);
}

// The standardized design vectors of the candidates (see the file comment), row-major.
struct DesignSpace {
  size_t dims = 0;
  std::vector<double> x;
  const double* row(size_t i) const { return x.data() + i * dims; }
  double Distance2(size_t a, size_t b) const {
    double s = 0;
    for (size_t k = 0; k < dims; ++k) {
      const double d = row(a)[k] - row(b)[k];
      s += d * d;
    }
    return s;
  }
};

DesignSpace DesignSpaceOf(const std::vector<Candidate>& candidates) {
  const size_t n = candidates.size();
  // Couples in order of first appearance, compared field by field (no key strings: this
  // runs over every candidate of every SelectBatch call).
  struct CoupleRef {
    Ion ion;
    const std::string* positive;
    const std::string* negative;
  };
  std::vector<CoupleRef> couples;
  std::vector<size_t> couple_of(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const cy::CellConfig& c = candidates[i].config;
    size_t k = 0;
    while (k < couples.size() &&
           !(couples[k].ion == c.ion && *couples[k].positive == c.positive_electrode &&
             *couples[k].negative == c.negative_electrode)) {
      ++k;
    }
    if (k == couples.size()) couples.push_back({c.ion, &c.positive_electrode, &c.negative_electrode});
    couple_of[i] = k;
  }
  const size_t raw_dims = couples.size() + 6 + internal::kChargeShapeBins + 4;
  std::vector<double> raw(n * raw_dims, 0.0);
  for (size_t i = 0; i < n; ++i) {
    const cy::CellConfig& c = candidates[i].config;
    double* r = raw.data() + i * raw_dims;
    r[couple_of[i]] = 1;
    r[couples.size() + static_cast<size_t>(c.design)] = 1;
    size_t k = couples.size() + 6;
    for (float f : internal::ChargeShapeFeatures(c.protocol)) r[k++] = f;
    r[k++] = std::log10(std::max(1e-3, c.protocol.discharge_c_rate));
    r[k++] = c.protocol.temperature_c;
    r[k++] = c.protocol.voltage_min_v;
    r[k++] = c.protocol.voltage_max_v;
  }
  // Column means and standard deviations, accumulated row by row (the same order of
  // additions per column as a column-wise loop, cache-friendly).
  std::vector<size_t> keep;
  std::vector<double> mean(raw_dims, 0), sd(raw_dims, 0);
  for (size_t i = 0; i < n; ++i) {
    const double* r = raw.data() + i * raw_dims;
    for (size_t k = 0; k < raw_dims; ++k) mean[k] += r[k];
  }
  for (size_t k = 0; k < raw_dims; ++k) mean[k] /= std::max<size_t>(1, n);
  for (size_t i = 0; i < n; ++i) {
    const double* r = raw.data() + i * raw_dims;
    for (size_t k = 0; k < raw_dims; ++k) {
      const double d = r[k] - mean[k];
      sd[k] += d * d;
    }
  }
  for (size_t k = 0; k < raw_dims; ++k) {
    sd[k] = std::sqrt(sd[k] / std::max<size_t>(1, n));
    if (sd[k] > 1e-9) keep.push_back(k);
  }
  DesignSpace s;
  s.dims = keep.size();
  s.x.resize(n * s.dims);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < keep.size(); ++j) {
      const size_t k = keep[j];
      s.x[i * s.dims + j] = (raw[i * raw_dims + k] - mean[k]) / sd[k];
    }
  }
  return s;
}

// Greedy maximin order over the free candidates, `taken` counting as chosen.
std::vector<size_t> MaximinPicks(const DesignSpace& space, const std::vector<bool>& free,
                                 const std::vector<size_t>& taken, int count) {
  const size_t n = free.size();
  std::vector<double> nearest(n, std::numeric_limits<double>::infinity());
  const auto chosen = [&](size_t j) {
    for (size_t i = 0; i < n; ++i) nearest[i] = std::min(nearest[i], space.Distance2(i, j));
  };
  for (size_t j : taken) chosen(j);
  std::vector<bool> avail = free;
  std::vector<size_t> picks;
  if (taken.empty() && space.dims > 0) {
    // Start nearest the centroid (the standardized mean is the origin).
    size_t best = n;
    double best_d = std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < n; ++i) {
      if (!avail[i]) continue;
      double d = 0;
      for (size_t k = 0; k < space.dims; ++k) d += space.row(i)[k] * space.row(i)[k];
      if (d < best_d - 1e-12) {
        best_d = d;
        best = i;
      }
    }
    if (best < n && count > 0) {
      picks.push_back(best);
      avail[best] = false;
      chosen(best);
    }
  }
  while (static_cast<int>(picks.size()) < count) {
    size_t best = n;
    double best_d = -1;
    for (size_t i = 0; i < n; ++i) {
      if (avail[i] && nearest[i] > best_d + 1e-12) {
        best_d = nearest[i];
        best = i;
      }
    }
    if (best == n) break;
    picks.push_back(best);
    avail[best] = false;
    chosen(best);
  }
  return picks;
}

}  // namespace

absl::StatusOr<std::vector<Pick>> SelectBatch(const std::vector<Candidate>& candidates,
                                              const Surrogate::Prediction* prediction,
                                              const std::vector<Observation>& observed,
                                              const std::vector<int>& pending, int count,
                                              const AcquisitionOptions& options) {
  const size_t n = candidates.size();
  if (count < 0) return absl::InvalidArgumentError(absl::StrCat("count: must be >= 0, got ", count));
  if (!(options.penalty_radius >= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("penalty_radius: must be >= 0, got ", options.penalty_radius));
  }
  std::vector<bool> free(n, true);
  std::vector<size_t> taken;  // observed or pending
  for (size_t i = 0; i < observed.size(); ++i) {
    const int c = observed[i].candidate;
    if (c < 0 || static_cast<size_t>(c) >= n) {
      return absl::InvalidArgumentError(absl::StrCat("observed[", i, "].candidate: ", c,
                                                     " is not in [0, ", n, ")"));
    }
    if (free[static_cast<size_t>(c)]) taken.push_back(static_cast<size_t>(c));
    free[static_cast<size_t>(c)] = false;
  }
  std::vector<size_t> pending_idx;
  for (size_t i = 0; i < pending.size(); ++i) {
    const int c = pending[i];
    if (c < 0 || static_cast<size_t>(c) >= n) {
      return absl::InvalidArgumentError(
          absl::StrCat("pending[", i, "]: ", c, " is not in [0, ", n, ")"));
    }
    if (free[static_cast<size_t>(c)]) {
      taken.push_back(static_cast<size_t>(c));
      pending_idx.push_back(static_cast<size_t>(c));
    }
    free[static_cast<size_t>(c)] = false;
  }
  const bool needs_model = options.policy == Policy::kUcb || options.policy == Policy::kEi ||
                           options.policy == Policy::kThompson;
  if (prediction != nullptr || needs_model) {
    if (prediction == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "policy ", PolicyName(options.policy), " needs a prediction (train the surrogate)"));
    }
    if (prediction->mean_log10.size() != n || prediction->stddev_log10.size() != n) {
      return absl::InvalidArgumentError(absl::StrCat(
          "prediction: ", prediction->mean_log10.size(), " means and ",
          prediction->stddev_log10.size(), " stddevs for ", n, " candidates"));
    }
    for (const std::vector<double>& m : prediction->members_log10) {
      if (m.size() != n) {
        return absl::InvalidArgumentError("prediction.members_log10: a member's size differs");
      }
    }
    if (options.policy == Policy::kThompson && prediction->members_log10.empty()) {
      return absl::InvalidArgumentError("prediction.members_log10: empty (Thompson sampling)");
    }
  }
  const auto make_pick = [&](size_t i, double acquisition, int rank) {
    Pick p;
    p.candidate = static_cast<int>(i);
    if (prediction != nullptr) {
      p.mean_log10 = prediction->mean_log10[i];
      p.stddev_log10 = prediction->stddev_log10[i];
    }
    p.acquisition = acquisition;
    p.rank = rank;
    return p;
  };
  std::vector<Pick> picks;
  const int available = static_cast<int>(std::count(free.begin(), free.end(), true));
  count = std::min(count, available);
  if (count == 0) return picks;

  if (options.policy == Policy::kRandom) {
    cy::Rng rng(options.seed, /*stream=*/21);
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    for (size_t i = n; i > 1; --i) {
      std::swap(order[i - 1], order[static_cast<size_t>(rng.Uniform() * static_cast<double>(i))]);
    }
    for (size_t i : order) {
      if (!free[i]) continue;
      picks.push_back(make_pick(i, 0, static_cast<int>(picks.size()) + 1));
      if (static_cast<int>(picks.size()) == count) break;
    }
    return picks;
  }

  const DesignSpace space = DesignSpaceOf(candidates);
  if (options.policy == Policy::kGrid) {
    for (size_t i : MaximinPicks(space, free, taken, count)) {
      picks.push_back(make_pick(i, 0, static_cast<int>(picks.size()) + 1));
    }
    return picks;
  }

  // Model-based: per-pick acquisition values, then local penalization.
  const Surrogate::Prediction& pr = *prediction;
  cy::Rng rng(options.seed ^ (0x9E3779B97F4A7C15ull * (observed.size() + 1)),
              /*stream=*/31 + pending.size());
  const bool two = options.objective == Objective::kLifeVsChargeTime;

  double best_obs = -std::numeric_limits<double>::infinity();
  for (const Observation& o : observed) {
    if (o.cycle_life > 0) best_obs = std::max(best_obs, std::log10(o.cycle_life));
  }
  double mean_lo = std::numeric_limits<double>::infinity(), mean_hi = -mean_lo;
  double time_lo = std::numeric_limits<double>::infinity(), time_hi = -time_lo;
  for (size_t i = 0; i < n; ++i) {
    mean_lo = std::min(mean_lo, pr.mean_log10[i]);
    mean_hi = std::max(mean_hi, pr.mean_log10[i]);
    time_lo = std::min(time_lo, candidates[i].charge_time_h);
    time_hi = std::max(time_hi, candidates[i].charge_time_h);
  }
  if (!std::isfinite(best_obs)) best_obs = mean_hi;
  const double mean_span = std::max(1e-9, mean_hi - mean_lo);
  const double time_span = std::max(1e-12, time_hi - time_lo);
  const auto life01 = [&](double log_life) { return (log_life - mean_lo) / mean_span; };
  const auto time01 = [&](size_t i) { return (candidates[i].charge_time_h - time_lo) / time_span; };
  const auto scalarize = [&](double l01, double t01, double lambda) {
    const double a = lambda * (1 - l01), b = (1 - lambda) * t01;
    return -std::max(a, b) - 0.05 * (a + b);
  };
  // Fixed Gaussian quadrature nodes for EI of the scalarized objective.
  constexpr int kNodes = 16;
  std::array<double, kNodes> z{};
  for (int k = 0; k < kNodes; ++k) {
    // Inverse normal CDF at (k + 0.5) / kNodes by bisection (once per call).
    const double p = (k + 0.5) / kNodes;
    double lo = -8, hi = 8;
    for (int it = 0; it < 80; ++it) {
      const double mid = 0.5 * (lo + hi);
      (NormalCdf(mid) < p ? lo : hi) = mid;
    }
    z[static_cast<size_t>(k)] = 0.5 * (lo + hi);
  }

  const double r2 = options.penalty_radius * options.penalty_radius;
  std::vector<double> acq(n, 0.0);
  std::vector<bool> avail = free;
  std::vector<double> penalty(n, 1.0);
  const auto penalize = [&](size_t j) {
    if (r2 <= 0) return;
    // Only candidates still available are ever read again (avail only turns false), so
    // the others are skipped: O(free · dims) per picked or pending point.
    for (size_t i = 0; i < n; ++i) {
      if (!avail[i]) continue;
      penalty[i] *= 1.0 - std::exp(-space.Distance2(i, j) / (2 * r2));
    }
  };
  for (size_t j : pending_idx) penalize(j);
  for (int rank = 1; rank <= count; ++rank) {
    const double lambda = two ? rng.Uniform() : 1.0;
    const size_t member =
        pr.members_log10.empty()
            ? 0
            : static_cast<size_t>(rng.Uniform() * static_cast<double>(pr.members_log10.size())) %
                  pr.members_log10.size();
    double best_scalar = -std::numeric_limits<double>::infinity();
    if (two && options.policy == Policy::kEi) {
      for (const Observation& o : observed) {
        if (o.cycle_life <= 0) continue;
        best_scalar = std::max(best_scalar, scalarize(life01(std::log10(o.cycle_life)),
                                                      time01(static_cast<size_t>(o.candidate)),
                                                      lambda));
      }
    }
    double acq_min = std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < n; ++i) {
      if (!avail[i]) continue;
      const double m = pr.mean_log10[i], s = pr.stddev_log10[i];
      double a = 0;
      switch (options.policy) {
        case Policy::kUcb:
          a = two ? scalarize(life01(m + options.ucb_kappa * s), time01(i), lambda)
                  : m + options.ucb_kappa * s;
          break;
        case Policy::kThompson: {
          const double v = pr.members_log10[member][i];
          a = two ? scalarize(life01(v), time01(i), lambda) : v;
          break;
        }
        case Policy::kEi:
          if (!two) {
            a = ExpectedImprovement(m, s, best_obs, options.ei_xi);
          } else {
            const double base = std::isfinite(best_scalar)
                                    ? best_scalar
                                    : -std::numeric_limits<double>::infinity();
            double sum = 0;
            for (double zk : z) {
              const double v = scalarize(life01(m + s * zk), time01(i), lambda);
              sum += std::isfinite(base) ? std::max(0.0, v - base - options.ei_xi / mean_span)
                                         : v;
            }
            a = sum / kNodes;
          }
          break;
        default:
          break;
      }
      acq[i] = a;
      acq_min = std::min(acq_min, a);
    }
    size_t best = n;
    double best_u = -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < n; ++i) {
      if (!avail[i]) continue;
      // + 1e-12: a candidate tied at the minimum still ranks by its penalty.
      const double u = (acq[i] - acq_min + 1e-12) * penalty[i];
      if (u > best_u) {
        best_u = u;
        best = i;
      }
    }
    if (best == n) break;
    picks.push_back(make_pick(best, acq[best], rank));
    avail[best] = false;
    penalize(best);
  }
  return picks;
}

std::vector<Observation> ParetoFront(const std::vector<Candidate>& candidates,
                                     const std::vector<Observation>& observations) {
  std::vector<Observation> valid;
  for (const Observation& o : observations) {
    if (o.candidate >= 0 && static_cast<size_t>(o.candidate) < candidates.size() &&
        std::isfinite(o.cycle_life)) {
      valid.push_back(o);
    }
  }
  const auto time = [&](const Observation& o) {
    return candidates[static_cast<size_t>(o.candidate)].charge_time_h;
  };
  // By charge time, then the longest life first; a point is on the front when it lives
  // strictly longer than every faster-charging (or equally fast) point before it.
  std::stable_sort(valid.begin(), valid.end(), [&](const Observation& a, const Observation& b) {
    if (time(a) != time(b)) return time(a) < time(b);
    return a.cycle_life > b.cycle_life;
  });
  std::vector<Observation> front;
  double best = -std::numeric_limits<double>::infinity();
  for (const Observation& o : valid) {
    if (o.cycle_life > best) {
      front.push_back(o);
      best = o.cycle_life;
    }
  }
  return front;
}

bool ShouldStopEarly(const EarlyStopRule& rule, int cycles_done, const FadeForecast& forecast) {
  if (!rule.enabled || cycles_done < rule.min_cycles) return false;
  const double mean = forecast.eol_cycles_mean;
  if (!(std::isfinite(mean) && mean > 0 && std::isfinite(forecast.eol_cycles_low) &&
        std::isfinite(forecast.eol_cycles_high))) {
    return false;
  }
  const double width = forecast.eol_cycles_high - forecast.eol_cycles_low;
  return width >= 0 && width / mean <= rule.max_relative_interval;
}

}  // namespace ionloop::models::campaign
