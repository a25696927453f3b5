// Private to the lifetime and early-cycle models: the parts of training, calibration and
// serialization they share (each model keeps its own features and targets).
#ifndef IONLOOP_MODELS_MODEL_TRAINING_INTERNAL_H_
#define IONLOOP_MODELS_MODEL_TRAINING_INTERNAL_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "models/data/matrix.h"
#include "models/embedding/bytes_internal.h"
#include "models/model_types.h"
#include "models/nn/mlp_ensemble.h"

namespace ionloop::models::internal {

// Whole cells held out for the report: a seeded shuffle, `fraction` of them when there
// are at least 10 cells (none otherwise).
struct CellSplit {
  std::vector<int> validation;
  std::vector<int> training;
};
CellSplit SplitCells(size_t cells, double fraction, uint64_t seed);

// Per-epoch ensemble progress as the models' TrainingProgressFn (fraction of all members'
// epochs, and a line for humans); a null `progress` never cancels.
ProgressFn EpochProgress(const TrainingProgressFn& progress, const EnsembleOptions& options);

// A fresh ensemble, or — with `base` — a copy of it fine-tuned on (x, y).
absl::StatusOr<MlpEnsemble> TrainOrFineTune(const MlpEnsemble* base, const Matrix& x,
                                            const std::vector<float>& y,
                                            const EnsembleOptions& options,
                                            const ProgressFn& on_epoch);

// Calibration: deep ensembles trained on rows that share cells are overconfident on new
// cells. The factor that makes the median standardized log10 error of `held_out` that of a
// Gaussian (0.6745), clamped to [0.25, 20]; nullopt with fewer than `min_points` scored
// points.
std::optional<double> StddevScale(const Evaluation& held_out, size_t min_points);

// The report's held-out figures from an evaluation.
void SetHeldOutFigures(const Evaluation& e, ModelReport* report);

// The report in the models' byte formats.
void WriteReport(const ModelReport& report, ByteWriter* w);
absl::Status ReadReport(ByteReader* r, ModelReport* report);

}  // namespace ionloop::models::internal

#endif  // IONLOOP_MODELS_MODEL_TRAINING_INTERNAL_H_
