// The lifetime generator (DESIGN.md §6.1; the seed's CIDETEC FNN): a regression, not a
// time series. A deep ensemble maps (cell features, SOH level) to the cycle at which the
// cell reaches that SOH. Querying many SOH levels draws the whole capacity curve; end of
// life is one query; no measured cycle is needed, so untested cells can be ranked.
//
// Training data: each cell's capacity series is cleaned (Hampel, Savitzky–Golay) and
// undersampled to one point per SOH percentile (models/data/capacity_series.h); every
// point at or below 99 % SOH and at or after min_training_cycles is one example. The
// target is log10(cycle), so that relative errors weigh alike from 50 to 5000 cycles.
// Cells are split (not points) for the held-out report.
//
// Inputs: the cell's features (models/corpus/lifetime_features.h), the SOH fraction and
// log10(1 − SOH): a fade that follows a power law 1 − SOH = a·n^α (SEI growth: α ≈ ½;
// linear wear: α ≈ 1) makes log10(cycles) linear in log10(1 − SOH), so the network only
// has to learn how a and α depend on the cell.
//
// Monotone by construction: Predict evaluates the network on the grid 100, 100 − step,
// … down to the lowest level asked, takes the running maximum of log10(cycles) from 100 %
// downwards, and interpolates it at the levels asked; a lower SOH never gets fewer cycles,
// and a level's answer does not depend on which other levels are asked with it. (The
// cost: a query for one level reads (100 − level)/step + 1 grid rows.)
//
// Evaluation follows models/model_types.h: truths above max_scored_soh_percent or under
// min_scored_cycles are listed but not scored; coverage is counted in log10(cycles).
//
// Torch-free header: the network lives in models/nn.
#ifndef IONLOOP_MODELS_LIFETIME_LIFETIME_MODEL_H_
#define IONLOOP_MODELS_LIFETIME_LIFETIME_MODEL_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "instruments/cycler/cycler_types.h"
#include "instruments/electrode_table.h"
#include "models/data/cell_series.h"
#include "models/model_types.h"

namespace ionloop::models {

struct LifetimeOptions {
  TrainingSettings training;
  std::string embedding = "encoder";  // or "pca"
  int embedding_dimensions = 3;
  double soh_step_percent = 1;        // one example per this many SOH percent
  double lowest_soh_percent = 60;     // never train below this (noise at the tail)
  // Truths earlier than this many cycles are not trained on (their crossing cycle is
  // noise; see models/model_types.h).
  double min_training_cycles = 10;
  // What Evaluate (and the held-out report) scores: models/model_types.h.
  double max_scored_soh_percent = kDefaultMaxScoredSohPercent;
  double min_scored_cycles = kDefaultMinScoredCycles;
};

// A cell to predict: what it is and how it will be cycled.
struct LifetimeQuery {
  instruments::cycler::CellConfig config;
  double loading_level = 0;
};

struct SohCycles {
  double soh_percent = 0;
  double cycles_mean = 0;    // 10^(log10 mean): the median of the predicted log-normal
  double cycles_stddev = 0;  // half the width of the 1σ interval, in cycles
  double log10_mean = 0;     // what the ensemble predicts: log10(cycles) ~ N(mean, stddev²)
  double log10_stddev = 0;
};

class LifetimeModel {
 public:
  LifetimeModel(LifetimeModel&&) noexcept;
  LifetimeModel& operator=(LifetimeModel&&) noexcept;
  ~LifetimeModel();

  // Trains on `cells` (each needs a config and a capacity series of ≥ 2 points). With
  // `base`, starts from its embedding, schema and weights and fine-tunes them (transfer
  // from Li to Na, K or Mg). INVALID_ARGUMENT when too few usable cells remain.
  static absl::StatusOr<LifetimeModel> Train(const std::vector<CellSeries>& cells,
                                             const instruments::ElectrodeTable& table,
                                             const LifetimeOptions& options,
                                             const TrainingProgressFn& progress = {},
                                             const LifetimeModel* base = nullptr);

  // For each query, the cycles at each of `soh_percent` (all queries × the SOH grid in
  // one batched forward pass), monotone in SOH (see above). NOT_FOUND for an electrode
  // the table does not know; INVALID_ARGUMENT for a level outside (0, 100].
  absl::StatusOr<std::vector<std::vector<SohCycles>>> Predict(
      const std::vector<LifetimeQuery>& queries, const std::vector<double>& soh_percent) const;

  // Truth vs prediction at every SOH point the cells crossed (≤ 100 down to their EOL or
  // `lowest_soh_percent`), scored as models/model_types.h says: the evaluation used for
  // the held-out report, benchmarks and the Models service's Evaluate.
  absl::StatusOr<Evaluation> Evaluate(const std::vector<CellSeries>& cells) const;

  const ModelReport& report() const;
  const std::vector<std::string>& feature_names() const;
  const std::string& embedding_kind() const;

  absl::StatusOr<std::string> Serialize() const;
  static absl::StatusOr<LifetimeModel> Deserialize(absl::string_view bytes,
                                                   const instruments::ElectrodeTable& table);

 private:
  struct Impl;
  explicit LifetimeModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ionloop::models

#endif  // IONLOOP_MODELS_LIFETIME_LIFETIME_MODEL_H_
