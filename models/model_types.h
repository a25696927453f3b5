// Vocabulary shared by the lifetime and early-cycle models: training settings, progress,
// the report kept with a trained model, and evaluation results.
//
// How a model is scored (DESIGN.md §6.1; the seed's CIDETEC figure): the MAPE of the
// predicted cycle at which a held-out cell reaches each SOH level, over the levels it
// reached. Two kinds of truth are kept out of the figures (they are still listed, with
// `scored` false):
//   * SOH levels above kDefaultMaxScoredSohPercent (99 %): 100 % is where a cell starts,
//     not a crossing, and has no cycle count worth predicting;
//   * truths under kDefaultMinScoredCycles (20 cycles): the crossing cycle of a level is
//     only known to a few cycles (the capacity series is smoothed over an 11-cycle
//     Savitzky–Golay window, and read from noisy, sometimes formation-affected first
//     cycles), so a truth of 3 cycles carries a ±100 % relative uncertainty of its own and
//     a handful of them decide a mean relative error (the 2318 % of the first smoke run).
//     20 cycles is two smoothing windows, where the truth's own uncertainty falls under
//     ~25 %. RMSE is taken over the same scored points.
// Coverage is counted where the models predict: in log10(cycles). A truth is inside the
// 68 % (95 %) interval when |log10 truth − predicted log10 mean| ≤ 1 (1.96) predicted
// log10 stddev; this is the Gaussian the ensemble's stddev describes, so the coverages
// can be read against 0.683 and 0.95. (Points without a log10 stddev fall back to
// |truth − predicted| ≤ z · predicted_stddev in cycles.)
#ifndef IONLOOP_MODELS_MODEL_TYPES_H_
#define IONLOOP_MODELS_MODEL_TYPES_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ionloop::models {

inline constexpr double kDefaultMaxScoredSohPercent = 99;
inline constexpr double kDefaultMinScoredCycles = 20;

// Settings of the deep ensemble behind every model (models/nn/mlp_ensemble.h). The
// defaults were tuned on the virtual corpus and Severson's data (bench/models_bench.cc,
// docs/benchmarks.md "Models"); fields marked "model default" let each model pick its
// own value.
struct TrainingSettings {
  int members = 5;
  std::vector<int> hidden = {128, 128};
  int max_epochs = 300;
  double learning_rate = 3e-3;
  double validation_fraction = 0.15;  // of the cells
  int patience = 20;
  uint64_t seed = 1;
  int threads = 0;            // torch intra-op threads; 0: torch's default
  double weight_decay = -1;   // Adam L2; < 0: model default
  int batch_size = 0;         // rows per mini-batch; 0: model default
};

// Training progress: fraction done in [0, 1] and a line for humans. Returning false
// cancels the training (CANCELLED).
using TrainingProgressFn = std::function<bool(double fraction, const std::string& message)>;

// What is kept with a trained model: held-out figures and what it was trained on.
struct ModelReport {
  int training_cells = 0;
  int training_rows = 0;
  int validation_cells = 0;
  double rmse_cycles = 0;
  double mape_percent = 0;
  double coverage_68 = 0;
  double coverage_95 = 0;
  double training_seconds = 0;
};

// One truth against one prediction.
struct EvaluatedPoint {
  std::string cell_id;
  double soh_percent = 0;  // the SOH level (lifetime) or the EOL criterion (fade)
  double true_cycles = 0;
  double predicted_cycles = 0;
  double predicted_stddev = 0;  // cycles: half the width of the 1σ interval
  // The prediction in log10(cycles), where the models predict (0 stddev: unknown).
  double predicted_log10_mean = 0;
  double predicted_log10_stddev = 0;
  bool scored = true;  // counted in the figures (see the comment at the top)
};

struct Evaluation {
  std::vector<EvaluatedPoint> points;
  int cells_evaluated = 0;
  int cells_skipped = 0;  // no truth, or too few cycles
  int points_scored = 0;
  double rmse_cycles = 0;
  double mape_percent = 0;
  double coverage_68 = 0;
  double coverage_95 = 0;
};

// Whether a truth counts in the figures.
inline bool IsScored(double soh_percent, double true_cycles,
                     double max_soh_percent = kDefaultMaxScoredSohPercent,
                     double min_cycles = kDefaultMinScoredCycles) {
  return soh_percent <= max_soh_percent + 1e-9 && true_cycles >= min_cycles;
}

// Fills points_scored, rmse, mape and coverages of `evaluation` from its scored points.
void Summarize(Evaluation* evaluation);

}  // namespace ionloop::models

#endif  // IONLOOP_MODELS_MODEL_TYPES_H_
