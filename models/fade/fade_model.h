// The early-cycle capacity-fade model (DESIGN.md §6.2; Severson et al. 2019; the seed's
// DNN): from the nominal capacity, the temperature and features of the first cycles
// (ΔQ(V) statistics, fade slope and intercept, ΔQ and Δ area from cycle 3 to 100), a
// deep ensemble predicts the cycle at which the cell reaches each SOH level — the rest of
// its capacity curve and its end of life, with an interval.
//
// It is trained in the same "(features, SOH) → log10 cycles" form as the lifetime
// generator: each training cell gives the SOH points it measured (cleaned, one per
// percent, ≤ 99 % and at or after min_training_cycles) and, where known, its end of life.
// Public early-prediction data (Severson's files stop at cycle 100) then still teach the
// long horizon through the EOL point. The SOH enters as its fraction and log10(1 − SOH)
// (see lifetime_model.h).
//
// Residual design (`base`): a log-linear model of the end of life is fitted first, on the
// training cells' stated cycle lives, and the ensemble learns the rest:
//   log10 cycles(SOH) = base(cell) + network(features, SOH).
//   "variance"  Severson's variance model, log10 life = a + b·log10 var ΔQ(V) (OLS);
//   "discharge" Severson's discharge model (six features, elastic net, 4-fold CV);
//   "none"      the network alone.
// With ~40 training cells (Severson's train split) a network alone learns the strong
// one-feature trend poorly; starting from the linear model it only has to learn what the
// line misses (the other features, the curve below EOL), and where it has learned nothing
// (strong weight decay pulls it to a constant) it falls back to the published model.
// The base is refitted when training from scratch and kept when fine-tuning.
//
// Torch-free header: the network lives in models/nn.
#ifndef IONLOOP_MODELS_FADE_FADE_MODEL_H_
#define IONLOOP_MODELS_FADE_FADE_MODEL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "models/data/cell_series.h"
#include "models/model_types.h"

namespace ionloop::models {

struct FadeOptions {
  TrainingSettings training;
  int early_cycle = 10;    // ΔQ(V) = Q_late(V) − Q_early(V) (Severson: 10 and 100)
  int late_cycle = 100;    // the last cycle the model may look at
  double soh_step_percent = 1;
  std::string base = "variance";  // "variance", "discharge" or "none" (see above)
  double min_training_cycles = 10;  // earlier SOH truths are noise (models/model_types.h)
};

struct FadePoint {
  int cycle = 0;
  double soh_mean = 0;  // percent
  double soh_stddev = 0;
};

struct FadeForecast {
  std::vector<FadePoint> curve;
  double eol_soh_percent = 80;
  double eol_cycles_mean = 0;
  double eol_cycles_low = 0;   // 95 % interval
  double eol_cycles_high = 0;
  double eol_cycles_stddev = 0;
  double eol_log10_mean = 0;  // the prediction: log10(EOL cycles) ~ N(mean, stddev²)
  double eol_log10_stddev = 0;
};

class FadeModel {
 public:
  FadeModel(FadeModel&&) noexcept;
  FadeModel& operator=(FadeModel&&) noexcept;
  ~FadeModel();

  // Cells need Q(V) curves at early_cycle and late_cycle and capacities through
  // late_cycle; those without are skipped (counted in the report).
  static absl::StatusOr<FadeModel> Train(const std::vector<CellSeries>& cells,
                                         const FadeOptions& options,
                                         const TrainingProgressFn& progress = {},
                                         const FadeModel* base = nullptr);

  // The forecast from the cell's first late_cycle cycles only (later data is ignored).
  // `cycles` are where to report the curve; empty: 40 points from late_cycle to beyond EOL.
  // FAILED_PRECONDITION naming what is missing when the early data are insufficient.
  absl::StatusOr<FadeForecast> Predict(const CellSeries& early, std::vector<int> cycles = {}) const;

  // Predicted against stated end of life (cells without one are skipped).
  absl::StatusOr<Evaluation> Evaluate(const std::vector<CellSeries>& cells) const;

  const ModelReport& report() const;
  const std::vector<std::string>& feature_names() const;
  int early_cycle() const;
  int late_cycle() const;

  absl::StatusOr<std::string> Serialize() const;
  static absl::StatusOr<FadeModel> Deserialize(absl::string_view bytes);

 private:
  struct Impl;
  explicit FadeModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ionloop::models

#endif  // IONLOOP_MODELS_FADE_FADE_MODEL_H_
