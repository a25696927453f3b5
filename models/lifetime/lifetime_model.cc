#include "models/lifetime/lifetime_model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "models/corpus/lifetime_features.h"
#include "models/data/capacity_series.h"
#include "models/embedding/bytes_internal.h"
#include "models/model_training_internal.h"
#include "models/embedding/pca_embedding.h"
#include "models/nn/encoder_embedding.h"
#include "models/nn/mlp_ensemble.h"

namespace ionloop::models {
namespace {

constexpr absl::string_view kMagic = "IONLOOP-LIFETIME-MODEL";
constexpr uint32_t kVersion = 2;

// One training example per SOH percentile a cell crossed: (its features, the SOH) →
// log10(cycle).
struct Examples {
  Matrix x;
  std::vector<float> y;
  std::vector<int> cell;  // index of the cell each row came from
};

// The measured SOH points of a cell after cleaning: the truth the model learns and is
// scored against. Levels the cell started below (no crossing was seen) are dropped.
absl::StatusOr<std::vector<SohPoint>> SohPointsOf(const CellSeries& cell, double lowest,
                                                  double step) {
  if (cell.cycles.size() < 2) return std::vector<SohPoint>();
  ASSIGN_OR_RETURN(CellSeries clean, CleanCapacitySeries(cell));
  ASSIGN_OR_RETURN(double reference, ReferenceCapacity(cell));
  ASSIGN_OR_RETURN(std::vector<SohPoint> points,
                   UndersampleToSohPercentiles(clean.cycles, clean.capacity_ah, reference,
                                               lowest, step));
  std::vector<SohPoint> crossed;
  for (const SohPoint& p : points) {
    if (p.cycle > clean.cycles.front()) crossed.push_back(p);
  }
  return crossed;
}

std::unique_ptr<ElectrodeEmbedding> CopyEmbedding(const ElectrodeEmbedding& e) {
  if (e.kind() == "pca") {
    auto copy = PcaEmbedding::Deserialize(e.Serialize());
    return copy.ok() ? std::make_unique<PcaEmbedding>(*std::move(copy)) : nullptr;
  }
  auto copy = EncoderEmbedding::Deserialize(e.Serialize());
  return copy.ok() ? std::make_unique<EncoderEmbedding>(*std::move(copy)) : nullptr;
}

absl::StatusOr<std::shared_ptr<const ElectrodeEmbedding>> DeserializeEmbedding(
    const std::string& kind, absl::string_view bytes) {
  if (kind == "pca") {
    ASSIGN_OR_RETURN(PcaEmbedding e, PcaEmbedding::Deserialize(bytes));
    return std::make_shared<PcaEmbedding>(std::move(e));
  }
  if (kind == "encoder") {
    ASSIGN_OR_RETURN(EncoderEmbedding e, EncoderEmbedding::Deserialize(bytes));
    return std::make_shared<EncoderEmbedding>(std::move(e));
  }
  return absl::InvalidArgumentError(absl::StrCat("embedding: unknown kind '", kind,
                                                 "' (known: encoder, pca)"));
}

// The two SOH inputs appended to the cell's features.
constexpr double kMaxFadeInputSoh = 99.9;  // log10(1 − SOH) is −3 at and above this
void AppendSohInputs(double soh_percent, float* out) {
  out[0] = static_cast<float>(soh_percent / 100);
  out[1] = static_cast<float>(std::log10(1 - std::min(soh_percent, kMaxFadeInputSoh) / 100));
}
std::vector<std::string> SohInputNames() { return {"soh_fraction", "log10_fade_fraction"}; }

// Half the width of the 1σ interval in cycles, for a Gaussian in log10(cycles).
double CyclesStddev(double log_mean, double log_stddev) {
  return 0.5 * (std::pow(10.0, log_mean + log_stddev) - std::pow(10.0, log_mean - log_stddev));
}

EnsembleOptions EnsembleOptionsOf(const TrainingSettings& s) {
  EnsembleOptions o;
  o.members = s.members;
  o.hidden = s.hidden;
  o.max_epochs = s.max_epochs;
  o.learning_rate = s.learning_rate;
  o.validation_fraction = 0.15;
  o.patience = s.patience;
  o.seed = s.seed;
  o.threads = s.threads;
  o.batch_size = s.batch_size > 0 ? s.batch_size : 512;
  o.weight_decay = s.weight_decay >= 0 ? s.weight_decay : 1e-5;
  return o;
}

}  // namespace

struct LifetimeModel::Impl {
  LifetimeOptions options;
  std::shared_ptr<const ElectrodeEmbedding> embedding;
  std::unique_ptr<LifetimeFeaturizer> featurizer;
  std::optional<MlpEnsemble> ensemble;
  std::vector<std::string> names;  // featurizer names + SohInputNames()
  ModelReport report;
  double stddev_scale = 1;  // calibration of the ensemble's log10 stddev (see Train)

  absl::StatusOr<Examples> ExamplesOf(const std::vector<CellSeries>& cells,
                                      const std::vector<int>& which, int* skipped) const {
    Examples ex;
    ex.x.cols = names.size();
    std::vector<float> row(names.size());
    for (int i : which) {
      const CellSeries& cell = cells[i];
      absl::StatusOr<std::vector<SohPoint>> points =
          SohPointsOf(cell, options.lowest_soh_percent, options.soh_step_percent);
      if (!points.ok() || points->empty()) {
        ++*skipped;
        continue;
      }
      absl::StatusOr<std::vector<float>> f = featurizer->Features(cell.config, cell.loading_level);
      if (!f.ok()) {
        return absl::Status(f.status().code(), absl::StrCat(cell.id, ": ", f.status().message()));
      }
      std::copy(f->begin(), f->end(), row.begin());
      for (const SohPoint& p : *points) {
        if (p.soh_percent > options.max_scored_soh_percent + 1e-9 ||
            p.cycle < options.min_training_cycles) {
          continue;
        }
        AppendSohInputs(p.soh_percent, row.data() + f->size());
        ex.x.values.insert(ex.x.values.end(), row.begin(), row.end());
        ex.y.push_back(static_cast<float>(std::log10(std::max(p.cycle, 1.0))));
        ex.cell.push_back(i);
        ++ex.x.rows;
      }
    }
    return ex;
  }
};

LifetimeModel::LifetimeModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LifetimeModel::LifetimeModel(LifetimeModel&&) noexcept = default;
LifetimeModel& LifetimeModel::operator=(LifetimeModel&&) noexcept = default;
LifetimeModel::~LifetimeModel() = default;

const ModelReport& LifetimeModel::report() const { return impl_->report; }
const std::vector<std::string>& LifetimeModel::feature_names() const { return impl_->names; }
const std::string& LifetimeModel::embedding_kind() const {
  static const std::string* const none = new std::string("none");
  return impl_->embedding ? impl_->options.embedding : *none;
}

absl::StatusOr<LifetimeModel> LifetimeModel::Train(const std::vector<CellSeries>& cells,
                                                   const instruments::ElectrodeTable& table,
                                                   const LifetimeOptions& options,
                                                   const TrainingProgressFn& progress,
                                                   const LifetimeModel* base) {
  const auto started = std::chrono::steady_clock::now();
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (base != nullptr) {
    // Fine-tuning keeps the base's electrode map and feature schema: its inputs must mean
    // the same thing.
    impl->options.embedding = base->impl_->options.embedding;
    impl->options.embedding_dimensions = base->impl_->options.embedding_dimensions;
    impl->options.soh_step_percent = base->impl_->options.soh_step_percent;
    impl->stddev_scale = base->impl_->stddev_scale;
    impl->embedding = CopyEmbedding(*base->impl_->embedding);
    if (impl->embedding == nullptr) return absl::InternalError("base model: embedding copy failed");
  } else if (options.embedding == "encoder") {
    ASSIGN_OR_RETURN(EncoderEmbedding e, EncoderEmbedding::Fit(table, options.embedding_dimensions,
                                                              options.training.seed));
    impl->embedding = std::make_shared<EncoderEmbedding>(std::move(e));
  } else if (options.embedding == "pca") {
    ASSIGN_OR_RETURN(PcaEmbedding e, PcaEmbedding::Fit(table, options.embedding_dimensions));
    impl->embedding = std::make_shared<PcaEmbedding>(std::move(e));
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("embedding: unknown kind '", options.embedding, "' (known: encoder, pca)"));
  }
  impl->featurizer = std::make_unique<LifetimeFeaturizer>(table, impl->embedding);
  impl->names = impl->featurizer->Names();
  for (const std::string& n : SohInputNames()) impl->names.push_back(n);

  // Hold out whole cells for the report.
  const internal::CellSplit split = internal::SplitCells(
      cells.size(), options.training.validation_fraction, options.training.seed);
  const std::vector<int>& validation = split.validation;
  const std::vector<int>& training = split.training;

  int skipped = 0;
  ASSIGN_OR_RETURN(Examples train, impl->ExamplesOf(cells, training, &skipped));
  if (train.x.rows < 8) {
    return absl::InvalidArgumentError(absl::StrCat(
        "too little data: ", train.x.rows, " SOH points from ", training.size() - skipped,
        " usable cells (", skipped, " cells have fewer than 2 cycles or never lost 1 % SOH)"));
  }

  const EnsembleOptions ensemble_options = EnsembleOptionsOf(options.training);
  ASSIGN_OR_RETURN(MlpEnsemble ensemble,
                   internal::TrainOrFineTune(base ? &*base->impl_->ensemble : nullptr, train.x,
                                             train.y, ensemble_options,
                                             internal::EpochProgress(progress, ensemble_options)));
  impl->ensemble.emplace(std::move(ensemble));

  LifetimeModel model(std::move(impl));
  ModelReport& report = model.impl_->report;
  report.training_cells = static_cast<int>(training.size()) - skipped;
  report.training_rows = static_cast<int>(train.x.rows);
  if (!validation.empty()) {
    std::vector<CellSeries> held;
    for (int i : validation) held.push_back(cells[i]);
    ASSIGN_OR_RETURN(Evaluation e, model.Evaluate(held));
    // One stddev scale, fitted on cells the networks never saw. The report's coverages
    // are then measured on the cells that set the scale; benchmarks score separate cells.
    if (const std::optional<double> scale = internal::StddevScale(e, 10)) {
      model.impl_->stddev_scale = *scale;
      ASSIGN_OR_RETURN(e, model.Evaluate(held));
    }
    internal::SetHeldOutFigures(e, &report);
  }
  report.training_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return model;
}

absl::StatusOr<std::vector<std::vector<SohCycles>>> LifetimeModel::Predict(
    const std::vector<LifetimeQuery>& queries, const std::vector<double>& soh_percent) const {
  const size_t levels = soh_percent.size();
  double lowest = 100;
  for (size_t l = 0; l < levels; ++l) {
    if (!(soh_percent[l] > 0 && soh_percent[l] <= 100)) {
      return absl::InvalidArgumentError(
          absl::StrCat("soh_percent[", l, "] = ", soh_percent[l], " must be in (0, 100]"));
    }
    lowest = std::min(lowest, soh_percent[l]);
  }
  // The grid 100, 100 − step, … down to the first level at or below `lowest`.
  const double step = impl_->options.soh_step_percent > 0 ? impl_->options.soh_step_percent : 1;
  std::vector<double> grid = {100};
  while (grid.back() > lowest + 1e-9) grid.push_back(std::max(grid.back() - step, 1e-3));
  const size_t g = grid.size();
  const size_t inputs = impl_->names.size();
  Matrix x(queries.size() * g, inputs);
  for (size_t q = 0; q < queries.size(); ++q) {
    absl::StatusOr<std::vector<float>> f =
        impl_->featurizer->Features(queries[q].config, queries[q].loading_level);
    if (!f.ok()) {
      return absl::Status(f.status().code(), absl::StrCat("cells[", q, "]: ", f.status().message()));
    }
    for (size_t k = 0; k < g; ++k) {
      float* row = x.row(q * g + k);
      std::copy(f->begin(), f->end(), row);
      AppendSohInputs(grid[k], row + f->size());
    }
  }
  const MlpEnsemble::Prediction p = impl_->ensemble->Predict(x);
  std::vector<std::vector<SohCycles>> out(queries.size(), std::vector<SohCycles>(levels));
  std::vector<double> mean(g), sd(g);
  for (size_t q = 0; q < queries.size(); ++q) {
    double running = -1e300;
    for (size_t k = 0; k < g; ++k) {
      running = std::max(running, static_cast<double>(p.mean[q * g + k]));
      mean[k] = running;
      sd[k] = p.stddev[q * g + k];
    }
    for (size_t l = 0; l < levels; ++l) {
      // grid[k] ≥ level > grid[k + 1]; interpolate linearly in SOH.
      const double s = soh_percent[l];
      size_t k = std::min(static_cast<size_t>(std::floor((100 - s) / step)), g - 1);
      double m = mean[k], d = sd[k];
      if (k + 1 < g && grid[k] > s) {
        const double t = (grid[k] - s) / (grid[k] - grid[k + 1]);
        m += t * (mean[k + 1] - mean[k]);
        d += t * (sd[k + 1] - sd[k]);
      }
      SohCycles& c = out[q][l];
      c.soh_percent = s;
      d *= impl_->stddev_scale;
      c.log10_mean = m;
      c.log10_stddev = d;
      c.cycles_mean = std::pow(10.0, m);
      c.cycles_stddev = CyclesStddev(m, d);
    }
  }
  return out;
}

absl::StatusOr<Evaluation> LifetimeModel::Evaluate(const std::vector<CellSeries>& cells) const {
  Evaluation e;
  std::vector<LifetimeQuery> queries(1);
  for (const CellSeries& cell : cells) {
    absl::StatusOr<std::vector<SohPoint>> points =
        SohPointsOf(cell, impl_->options.lowest_soh_percent, impl_->options.soh_step_percent);
    if (!points.ok() || points->empty()) {
      ++e.cells_skipped;
      continue;
    }
    queries[0] = {cell.config, cell.loading_level};
    std::vector<double> levels;
    for (const SohPoint& p : *points) levels.push_back(p.soh_percent);
    absl::StatusOr<std::vector<std::vector<SohCycles>>> predicted = Predict(queries, levels);
    if (!predicted.ok()) {
      return absl::Status(predicted.status().code(),
                          absl::StrCat(cell.id, ": ", predicted.status().message()));
    }
    for (size_t i = 0; i < points->size(); ++i) {
      EvaluatedPoint& point = e.points.emplace_back();
      const SohCycles& c = (*predicted)[0][i];
      point.cell_id = cell.id;
      point.soh_percent = (*points)[i].soh_percent;
      point.true_cycles = (*points)[i].cycle;
      point.predicted_cycles = c.cycles_mean;
      point.predicted_stddev = c.cycles_stddev;
      point.predicted_log10_mean = c.log10_mean;
      point.predicted_log10_stddev = c.log10_stddev;
      point.scored = IsScored(point.soh_percent, point.true_cycles,
                              impl_->options.max_scored_soh_percent,
                              impl_->options.min_scored_cycles);
    }
    ++e.cells_evaluated;
  }
  Summarize(&e);
  return e;
}

absl::StatusOr<std::string> LifetimeModel::Serialize() const {
  internal::ByteWriter w;
  w.Raw(kMagic.data(), kMagic.size());
  w.U32(kVersion);
  const LifetimeOptions& o = impl_->options;
  w.Str(o.embedding);
  w.I32(o.embedding_dimensions);
  w.F64(o.soh_step_percent);
  w.F64(o.lowest_soh_percent);
  w.F64s({o.min_training_cycles, o.max_scored_soh_percent, o.min_scored_cycles,
          impl_->stddev_scale});
  w.Str(impl_->embedding->Serialize());
  ASSIGN_OR_RETURN(std::string ensemble, impl_->ensemble->Serialize());
  w.Str(ensemble);
  internal::WriteReport(impl_->report, &w);
  return w.Take();
}

absl::StatusOr<LifetimeModel> LifetimeModel::Deserialize(absl::string_view bytes,
                                                         const instruments::ElectrodeTable& table) {
  internal::ByteReader r(bytes, "LifetimeModel");
  uint32_t version = 0;
  RETURN_IF_ERROR(r.Header(kMagic, kVersion, &version));
  if (version != kVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "LifetimeModel: format version ", version, " predates the SOH inputs of version ",
        kVersion, "; retrain the model"));
  }
  auto impl = std::make_unique<Impl>();
  LifetimeOptions& o = impl->options;
  int32_t dims = 0;
  RETURN_IF_ERROR(r.Str(&o.embedding));
  RETURN_IF_ERROR(r.I32(&dims));
  o.embedding_dimensions = dims;
  RETURN_IF_ERROR(r.F64(&o.soh_step_percent));
  RETURN_IF_ERROR(r.F64(&o.lowest_soh_percent));
  std::vector<double> scoring;
  RETURN_IF_ERROR(r.F64s(&scoring));
  if (scoring.size() != 4 || !(o.soh_step_percent > 0) || !(scoring[3] > 0)) {
    return r.Corrupt("options");
  }
  impl->stddev_scale = scoring[3];
  o.min_training_cycles = scoring[0];
  o.max_scored_soh_percent = scoring[1];
  o.min_scored_cycles = scoring[2];
  std::string embedding, ensemble;
  RETURN_IF_ERROR(r.Str(&embedding));
  RETURN_IF_ERROR(r.Str(&ensemble));
  ASSIGN_OR_RETURN(impl->embedding, DeserializeEmbedding(o.embedding, embedding));
  ASSIGN_OR_RETURN(MlpEnsemble e, MlpEnsemble::Deserialize(ensemble));
  impl->ensemble.emplace(std::move(e));
  RETURN_IF_ERROR(internal::ReadReport(&r, &impl->report));
  RETURN_IF_ERROR(r.ExpectEnd());
  impl->featurizer = std::make_unique<LifetimeFeaturizer>(table, impl->embedding);
  impl->names = impl->featurizer->Names();
  for (const std::string& n : SohInputNames()) impl->names.push_back(n);
  if (static_cast<int>(impl->names.size()) != impl->ensemble->input_dim()) {
    return r.Corrupt(absl::StrCat("the network takes ", impl->ensemble->input_dim(),
                                  " inputs, the features are ", impl->names.size()));
  }
  return LifetimeModel(std::move(impl));
}

}  // namespace ionloop::models
