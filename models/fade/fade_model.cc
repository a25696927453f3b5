#include "models/fade/fade_model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "models/data/capacity_series.h"
#include "models/data/early_features.h"
#include "models/data/elastic_net.h"
#include "models/embedding/bytes_internal.h"
#include "models/model_training_internal.h"
#include "models/nn/mlp_ensemble.h"

namespace ionloop::models {
namespace {

constexpr absl::string_view kMagic = "IONLOOP-FADE-MODEL";
constexpr uint32_t kVersion = 2;
constexpr int kDefaultCurvePoints = 40;

std::vector<std::string> FeatureNames() {
  std::vector<std::string> names = {"log10_nominal_capacity_ah", "temperature_c"};
  for (const std::string& n : EarlyCycleFeatures::Names()) names.push_back(n);
  names.push_back("soh_fraction");
  names.push_back("log10_fade_fraction");
  return names;
}

// The SOH inputs, as the lifetime model's.
void AppendSohInputs(double soh_percent, float* out) {
  out[0] = static_cast<float>(soh_percent / 100);
  out[1] = static_cast<float>(std::log10(1 - std::min(soh_percent, 99.9) / 100));
}

// Positions in the cell feature vector (log10 nominal, temperature, then
// EarlyCycleFeatures::Names()) of the base models' inputs.
int CellFeatureIndex(const std::string& name) {
  const std::vector<std::string> names = EarlyCycleFeatures::Names();
  return 2 + static_cast<int>(std::find(names.begin(), names.end(), name) - names.begin());
}
std::vector<int> BaseFeatures(const std::string& kind) {
  if (kind == "variance") return {CellFeatureIndex("log_var_dq")};
  if (kind == "discharge") {
    std::vector<int> out;
    for (const std::string& n : SeversonDischargeModel::FeatureNames()) {
      out.push_back(CellFeatureIndex(n));
    }
    return out;
  }
  return {};
}

// The part of a series the model may see: cycles up to `late_cycle`.
CellSeries EarlyPart(const CellSeries& cell, int late_cycle) {
  CellSeries early = cell;
  early.cycles.clear();
  early.capacity_ah.clear();
  for (size_t i = 0; i < cell.cycles.size() && cell.cycles[i] <= late_cycle; ++i) {
    early.cycles.push_back(cell.cycles[i]);
    early.capacity_ah.push_back(cell.capacity_ah[i]);
  }
  early.curves.clear();
  for (const DischargeCurve& c : cell.curves) {
    if (c.cycle <= late_cycle) early.curves.push_back(c);
  }
  return early;
}

double EolPercent(const CellSeries& cell) {
  return cell.config.eol_soh_percent > 0 ? cell.config.eol_soh_percent : 80;
}

EnsembleOptions EnsembleOptionsOf(const TrainingSettings& s) {
  EnsembleOptions o;
  o.members = s.members;
  o.hidden = s.hidden;
  o.max_epochs = s.max_epochs;
  o.learning_rate = s.learning_rate;
  o.patience = s.patience;
  o.seed = s.seed;
  o.threads = s.threads;
  o.validation_fraction = s.validation_fraction;
  o.batch_size = s.batch_size > 0 ? s.batch_size : 64;
  // Small corpora (Severson: 41 cells): keep the nets smooth.
  o.weight_decay = s.weight_decay >= 0 ? s.weight_decay : 1e-3;
  return o;
}

// Linear interpolation of y(x) at `at` on an increasing x; clamped at the ends.
double Interpolate(const std::vector<double>& x, const std::vector<double>& y, double at) {
  if (at <= x.front()) return y.front();
  if (at >= x.back()) return y.back();
  const size_t hi = std::upper_bound(x.begin(), x.end(), at) - x.begin();
  const size_t lo = hi - 1;
  const double t = (at - x[lo]) / (x[hi] - x[lo]);
  return y[lo] + t * (y[hi] - y[lo]);
}

}  // namespace

struct FadeModel::Impl {
  FadeOptions options;
  std::optional<MlpEnsemble> ensemble;
  std::vector<std::string> names = FeatureNames();
  ModelReport report;
  // The base: log10 life = intercept + Σ coefficients[i]·cell_features[base_features[i]].
  std::vector<int> base_features;
  std::vector<double> base_coefficients;
  double base_intercept = 0;
  double stddev_scale = 1;  // calibration of the ensemble's log10 stddev (see Train)

  double BaseLog10(const std::vector<float>& cell_features) const {
    double v = base_intercept;
    for (size_t i = 0; i < base_features.size(); ++i) {
      v += base_coefficients[i] * cell_features[base_features[i]];
    }
    return v;
  }

  // Fits the base on (cell features, log10 life) pairs. Falls back to "variance" when
  // there are too few cells for cross-validation, and to the mean when fewer still.
  absl::Status FitBase(const std::vector<std::vector<float>>& f, const std::vector<double>& y) {
    base_features.clear();
    base_coefficients.clear();
    base_intercept = 0;
    if (y.empty()) return absl::OkStatus();
    std::string kind = options.base;
    if (kind == "discharge" && y.size() < 12) kind = "variance";
    if (kind == "variance" && y.size() < 4) kind = "none";
    base_intercept = std::accumulate(y.begin(), y.end(), 0.0) / y.size();
    if (kind == "none") return absl::OkStatus();
    const std::vector<int> idx = BaseFeatures(kind);
    Matrix x(y.size(), idx.size());
    std::vector<double> yd(y);
    for (size_t r = 0; r < y.size(); ++r) {
      for (size_t c = 0; c < idx.size(); ++c) x.row(r)[c] = f[r][idx[c]];
    }
    ElasticNet model;
    if (kind == "variance") {
      ElasticNetOptions ols;
      ols.alpha = 0;
      ASSIGN_OR_RETURN(model, ElasticNet::Fit(x, yd, ols));
    } else {
      ElasticNetCvOptions cv;
      cv.folds = 4;
      cv.l1_ratios = {0.1, 0.5, 0.9, 1.0};
      ASSIGN_OR_RETURN(ElasticNetCvResult fit, FitElasticNetCv(x, yd, cv));
      model = std::move(fit.model);
    }
    base_features = idx;
    base_coefficients = model.coefficients();
    base_intercept = model.intercept();
    return absl::OkStatus();
  }

  // Nominal, temperature and the early features of a cell (without the SOH input).
  absl::StatusOr<std::vector<float>> CellFeatures(const CellSeries& cell) const {
    if (!(cell.config.nominal_capacity_ah > 0)) {
      return absl::FailedPreconditionError(absl::StrCat(
          cell.id, ": nominal_capacity_ah must be > 0, got ", cell.config.nominal_capacity_ah));
    }
    ASSIGN_OR_RETURN(EarlyCycleFeatures f, ComputeEarlyFeatures(EarlyPart(cell, options.late_cycle),
                                                                options.early_cycle,
                                                                options.late_cycle));
    std::vector<float> out = {static_cast<float>(std::log10(cell.config.nominal_capacity_ah)),
                              static_cast<float>(cell.config.protocol.temperature_c)};
    for (double v : f.ToVector()) {
      if (!std::isfinite(v)) {
        return absl::FailedPreconditionError(
            absl::StrCat(cell.id, ": an early-cycle feature is not finite (flat ΔQ(V)?)"));
      }
      out.push_back(static_cast<float>(v));
    }
    return out;
  }

  // (SOH, cycle) truths of a cell: its measured SOH points and its stated end of life.
  static std::vector<SohPoint> Truths(const CellSeries& cell, double step) {
    std::vector<SohPoint> truths;
    const double eol = EolPercent(cell);
    absl::StatusOr<CellSeries> clean = CleanCapacitySeries(cell);
    absl::StatusOr<double> reference = ReferenceCapacity(cell);
    if (clean.ok() && reference.ok() && clean->cycles.size() >= 2) {
      absl::StatusOr<std::vector<SohPoint>> points = UndersampleToSohPercentiles(
          clean->cycles, clean->capacity_ah, *reference, eol, step);
      if (points.ok()) {
        for (const SohPoint& p : *points) {
          if (p.cycle > clean->cycles.front()) truths.push_back(p);
        }
      }
    }
    const bool has_eol = std::any_of(truths.begin(), truths.end(),
                                     [&](const SohPoint& p) { return p.soh_percent <= eol; });
    if (cell.has_cycle_life() && !has_eol) truths.push_back({eol, cell.cycle_life});
    return truths;
  }
};

FadeModel::FadeModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FadeModel::FadeModel(FadeModel&&) noexcept = default;
FadeModel& FadeModel::operator=(FadeModel&&) noexcept = default;
FadeModel::~FadeModel() = default;

const ModelReport& FadeModel::report() const { return impl_->report; }
const std::vector<std::string>& FadeModel::feature_names() const { return impl_->names; }
int FadeModel::early_cycle() const { return impl_->options.early_cycle; }
int FadeModel::late_cycle() const { return impl_->options.late_cycle; }

absl::StatusOr<FadeModel> FadeModel::Train(const std::vector<CellSeries>& cells,
                                           const FadeOptions& options,
                                           const TrainingProgressFn& progress,
                                           const FadeModel* base) {
  const auto started = std::chrono::steady_clock::now();
  auto impl = std::make_unique<Impl>();
  impl->options = base != nullptr ? base->impl_->options : options;
  impl->options.training = options.training;

  const internal::CellSplit split = internal::SplitCells(
      cells.size(), options.training.validation_fraction, options.training.seed);

  if (base == nullptr && options.base != "variance" && options.base != "discharge" &&
      options.base != "none") {
    return absl::InvalidArgumentError(absl::StrCat(
        "base: unknown kind '", options.base, "' (known: variance, discharge, none)"));
  }
  struct Usable {
    std::vector<float> features;
    std::vector<SohPoint> truths;
    double log10_life = NAN;
  };
  std::vector<Usable> usable;
  int skipped = 0;
  for (int i : split.training) {
    const CellSeries& cell = cells[i];
    absl::StatusOr<std::vector<float>> f = impl->CellFeatures(cell);
    std::vector<SohPoint> truths = Impl::Truths(cell, impl->options.soh_step_percent);
    truths.erase(std::remove_if(truths.begin(), truths.end(),
                                [&](const SohPoint& t) {
                                  return t.soh_percent > kDefaultMaxScoredSohPercent + 1e-9 ||
                                         t.cycle < impl->options.min_training_cycles;
                                }),
                 truths.end());
    if (!f.ok() || truths.empty()) {
      ++skipped;
      continue;
    }
    usable.push_back({*std::move(f), std::move(truths),
                      cell.has_cycle_life() ? std::log10(std::max(cell.cycle_life, 1.0)) : NAN});
  }
  if (base != nullptr) {
    impl->base_features = base->impl_->base_features;
    impl->base_coefficients = base->impl_->base_coefficients;
    impl->base_intercept = base->impl_->base_intercept;
    impl->stddev_scale = base->impl_->stddev_scale;
  } else {
    std::vector<std::vector<float>> bf;
    std::vector<double> by;
    for (const Usable& u : usable) {
      if (std::isnan(u.log10_life)) continue;
      bf.push_back(u.features);
      by.push_back(u.log10_life);
    }
    RETURN_IF_ERROR(impl->FitBase(bf, by));
  }
  Matrix x(0, impl->names.size());
  std::vector<float> y;
  const int used = static_cast<int>(usable.size());
  std::vector<float> row(impl->names.size());
  for (const Usable& u : usable) {
    const double b = impl->BaseLog10(u.features);
    std::copy(u.features.begin(), u.features.end(), row.begin());
    for (const SohPoint& t : u.truths) {
      AppendSohInputs(t.soh_percent, row.data() + u.features.size());
      x.values.insert(x.values.end(), row.begin(), row.end());
      y.push_back(static_cast<float>(std::log10(std::max(t.cycle, 1.0)) - b));
      ++x.rows;
    }
  }
  if (x.rows < 8) {
    return absl::InvalidArgumentError(absl::StrCat(
        "too little data: ", x.rows, " SOH points from ", used, " usable cells (", skipped,
        " cells lack Q(V) at cycles ", impl->options.early_cycle, " and ",
        impl->options.late_cycle, ", capacities through cycle ", impl->options.late_cycle,
        ", or any fade truth)"));
  }

  const EnsembleOptions ensemble_options = EnsembleOptionsOf(options.training);
  ASSIGN_OR_RETURN(MlpEnsemble ensemble,
                   internal::TrainOrFineTune(base ? &*base->impl_->ensemble : nullptr, x, y,
                                             ensemble_options,
                                             internal::EpochProgress(progress, ensemble_options)));
  impl->ensemble.emplace(std::move(ensemble));

  FadeModel model(std::move(impl));
  ModelReport& report = model.impl_->report;
  report.training_cells = used;
  report.training_rows = static_cast<int>(x.rows);
  if (!split.validation.empty()) {
    std::vector<CellSeries> held;
    for (int i : split.validation) held.push_back(cells[i]);
    ASSIGN_OR_RETURN(Evaluation e, model.Evaluate(held));
    // Calibration as the lifetime model's (one point per cell here, so 5 suffice).
    if (const std::optional<double> scale = internal::StddevScale(e, 5)) {
      model.impl_->stddev_scale = *scale;
      ASSIGN_OR_RETURN(e, model.Evaluate(held));
    }
    internal::SetHeldOutFigures(e, &report);
  }
  report.training_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return model;
}

absl::StatusOr<FadeForecast> FadeModel::Predict(const CellSeries& early,
                                                std::vector<int> cycles) const {
  ASSIGN_OR_RETURN(std::vector<float> f, impl_->CellFeatures(early));
  const double eol = EolPercent(early);
  // Cycles at every SOH level from 100 % down to a little past EOL; EOL itself last.
  std::vector<double> levels;
  for (double s = 100; s > eol - 5 - 1e-9; s -= impl_->options.soh_step_percent) levels.push_back(s);
  levels.push_back(eol);
  Matrix x(levels.size(), impl_->names.size());
  for (size_t l = 0; l < levels.size(); ++l) {
    std::copy(f.begin(), f.end(), x.row(l));
    AppendSohInputs(levels[l], x.row(l) + f.size());
  }
  MlpEnsemble::Prediction p = impl_->ensemble->Predict(x);
  const double b = impl_->BaseLog10(f);
  for (float& m : p.mean) m = static_cast<float>(m + b);
  for (float& sd : p.stddev) sd = static_cast<float>(sd * impl_->stddev_scale);

  FadeForecast out;
  out.eol_soh_percent = eol;
  const size_t e = levels.size() - 1;
  out.eol_cycles_mean = std::pow(10.0, p.mean[e]);
  out.eol_cycles_low = std::pow(10.0, p.mean[e] - 1.96 * p.stddev[e]);
  out.eol_cycles_high = std::pow(10.0, p.mean[e] + 1.96 * p.stddev[e]);
  out.eol_cycles_stddev =
      0.5 * (std::pow(10.0, p.mean[e] + p.stddev[e]) - std::pow(10.0, p.mean[e] - p.stddev[e]));
  out.eol_log10_mean = p.mean[e];
  out.eol_log10_stddev = p.stddev[e];

  // SOH(cycle) by inverting cycle(SOH); the running max keeps each curve monotone (the
  // network is not constrained to be). Three curves: mean, and the ±1σ cycle curves,
  // whose SOH difference at a cycle is the SOH band.
  const size_t n = levels.size() - 1;
  std::vector<double> at_mean(n), at_low(n), at_high(n);
  double m0 = 0, m1 = 0, m2 = 0;
  for (size_t l = 0; l < n; ++l) {
    m0 = std::max(m0, std::pow(10.0, p.mean[l]));
    m1 = std::max(m1, std::pow(10.0, p.mean[l] - p.stddev[l]));
    m2 = std::max(m2, std::pow(10.0, p.mean[l] + p.stddev[l]));
    at_mean[l] = m0;
    at_low[l] = m1;
    at_high[l] = m2;
  }
  // Interpolate needs increasing x: reverse to cycles ascending with SOH descending.
  std::vector<double> c_mean(at_mean.begin(), at_mean.end()), c_low(at_low.begin(), at_low.end()),
      c_high(at_high.begin(), at_high.end()), s_desc(levels.begin(), levels.begin() + n);
  for (size_t l = 1; l < n; ++l) {  // strictly increasing for interpolation
    c_mean[l] = std::max(c_mean[l], c_mean[l - 1] + 1e-6);
    c_low[l] = std::max(c_low[l], c_low[l - 1] + 1e-6);
    c_high[l] = std::max(c_high[l], c_high[l - 1] + 1e-6);
  }
  if (cycles.empty()) {
    const double last = std::max(out.eol_cycles_high, static_cast<double>(impl_->options.late_cycle + 1));
    for (int i = 0; i < kDefaultCurvePoints; ++i) {
      cycles.push_back(static_cast<int>(std::round(
          impl_->options.late_cycle + (last - impl_->options.late_cycle) * i / (kDefaultCurvePoints - 1))));
    }
  }
  for (int cycle : cycles) {
    FadePoint& point = out.curve.emplace_back();
    point.cycle = cycle;
    point.soh_mean = Interpolate(c_mean, s_desc, cycle);
    // A cell that lives longer (high cycles) is at a higher SOH at this cycle.
    const double upper = Interpolate(c_high, s_desc, cycle);
    const double lower = Interpolate(c_low, s_desc, cycle);
    point.soh_stddev = 0.5 * std::abs(upper - lower);
  }
  return out;
}

absl::StatusOr<Evaluation> FadeModel::Evaluate(const std::vector<CellSeries>& cells) const {
  Evaluation e;
  for (const CellSeries& cell : cells) {
    if (!cell.has_cycle_life()) {
      ++e.cells_skipped;
      continue;
    }
    absl::StatusOr<FadeForecast> f = Predict(cell, {impl_->options.late_cycle});
    if (!f.ok()) {
      ++e.cells_skipped;
      continue;
    }
    EvaluatedPoint& p = e.points.emplace_back();
    p.cell_id = cell.id;
    p.soh_percent = f->eol_soh_percent;
    p.true_cycles = cell.cycle_life;
    p.predicted_cycles = f->eol_cycles_mean;
    p.predicted_stddev = f->eol_cycles_stddev;
    p.predicted_log10_mean = f->eol_log10_mean;
    p.predicted_log10_stddev = f->eol_log10_stddev;
    p.scored = IsScored(p.soh_percent, p.true_cycles, 100, kDefaultMinScoredCycles);
    ++e.cells_evaluated;
  }
  Summarize(&e);
  return e;
}

absl::StatusOr<std::string> FadeModel::Serialize() const {
  internal::ByteWriter w;
  w.Raw(kMagic.data(), kMagic.size());
  w.U32(kVersion);
  const FadeOptions& o = impl_->options;
  w.I32(o.early_cycle);
  w.I32(o.late_cycle);
  w.F64(o.soh_step_percent);
  w.Str(o.base);
  w.F64(o.min_training_cycles);
  w.F64s(std::vector<double>(impl_->base_features.begin(), impl_->base_features.end()));
  w.F64s(impl_->base_coefficients);
  w.F64(impl_->base_intercept);
  w.F64(impl_->stddev_scale);
  ASSIGN_OR_RETURN(std::string ensemble, impl_->ensemble->Serialize());
  w.Str(ensemble);
  internal::WriteReport(impl_->report, &w);
  return w.Take();
}

absl::StatusOr<FadeModel> FadeModel::Deserialize(absl::string_view bytes) {
  internal::ByteReader r(bytes, "FadeModel");
  uint32_t version = 0;
  RETURN_IF_ERROR(r.Header(kMagic, kVersion, &version));
  if (version != kVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "FadeModel: format version ", version, " predates the residual base of version ",
        kVersion, "; retrain the model"));
  }
  auto impl = std::make_unique<Impl>();
  FadeOptions& o = impl->options;
  int32_t early = 0, late = 0;
  RETURN_IF_ERROR(r.I32(&early));
  RETURN_IF_ERROR(r.I32(&late));
  RETURN_IF_ERROR(r.F64(&o.soh_step_percent));
  o.early_cycle = early;
  o.late_cycle = late;
  if (early < 1 || late <= early || !(o.soh_step_percent > 0)) return r.Corrupt("options");
  std::vector<double> base_features;
  RETURN_IF_ERROR(r.Str(&o.base));
  RETURN_IF_ERROR(r.F64(&o.min_training_cycles));
  RETURN_IF_ERROR(r.F64s(&base_features));
  RETURN_IF_ERROR(r.F64s(&impl->base_coefficients));
  RETURN_IF_ERROR(r.F64(&impl->base_intercept));
  RETURN_IF_ERROR(r.F64(&impl->stddev_scale));
  if (!(impl->stddev_scale > 0)) return r.Corrupt("stddev scale");
  const int cell_inputs = static_cast<int>(impl->names.size()) - 2;
  if (base_features.size() != impl->base_coefficients.size()) return r.Corrupt("base");
  for (double i : base_features) {
    if (!(i >= 0 && i < cell_inputs)) return r.Corrupt("base feature index");
    impl->base_features.push_back(static_cast<int>(i));
  }
  std::string ensemble;
  RETURN_IF_ERROR(r.Str(&ensemble));
  ASSIGN_OR_RETURN(MlpEnsemble e, MlpEnsemble::Deserialize(ensemble));
  impl->ensemble.emplace(std::move(e));
  RETURN_IF_ERROR(internal::ReadReport(&r, &impl->report));
  RETURN_IF_ERROR(r.ExpectEnd());
  if (static_cast<int>(impl->names.size()) != impl->ensemble->input_dim()) {
    return r.Corrupt(absl::StrCat("the network takes ", impl->ensemble->input_dim(),
                                  " inputs, the features are ", impl->names.size()));
  }
  return FadeModel(std::move(impl));
}

}  // namespace ionloop::models
