#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "models/model_training_internal.h"

namespace ionloop::models::internal {

CellSplit SplitCells(size_t cells, double fraction, uint64_t seed) {
  std::vector<int> order(cells);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  const size_t held_out = cells >= 10 ? static_cast<size_t>(std::round(fraction * cells)) : 0;
  CellSplit split;
  split.validation.assign(order.begin(), order.begin() + held_out);
  split.training.assign(order.begin() + held_out, order.end());
  return split;
}

ProgressFn EpochProgress(const TrainingProgressFn& progress, const EnsembleOptions& options) {
  const int members = options.members;
  const int epochs = options.max_epochs;
  return [progress, members, epochs](const TrainProgress& p) {
    if (!progress) return true;
    const double fraction = (p.member + static_cast<double>(p.epoch + 1) / epochs) / members;
    return progress(std::min(fraction, 1.0),
                    absl::StrFormat("member %d/%d epoch %d: loss %.4f, validation %.4f",
                                    p.member + 1, p.members, p.epoch + 1, p.train_loss,
                                    p.validation_loss));
  };
}

absl::StatusOr<MlpEnsemble> TrainOrFineTune(const MlpEnsemble* base, const Matrix& x,
                                            const std::vector<float>& y,
                                            const EnsembleOptions& options,
                                            const ProgressFn& on_epoch) {
  if (base == nullptr) return MlpEnsemble::Train(x, y, options, on_epoch);
  ASSIGN_OR_RETURN(MlpEnsemble tuned, base->Clone());
  RETURN_IF_ERROR(tuned.FineTune(x, y, options, on_epoch));
  return tuned;
}

std::optional<double> StddevScale(const Evaluation& held_out, size_t min_points) {
  std::vector<double> z;
  for (const EvaluatedPoint& p : held_out.points) {
    if (p.scored && p.predicted_log10_stddev > 0) {
      z.push_back(std::abs(std::log10(p.true_cycles) - p.predicted_log10_mean) /
                  p.predicted_log10_stddev);
    }
  }
  if (z.size() < min_points || z.empty()) return std::nullopt;
  std::nth_element(z.begin(), z.begin() + z.size() / 2, z.end());
  return std::clamp(z[z.size() / 2] / 0.6745, 0.25, 20.0);
}

void SetHeldOutFigures(const Evaluation& e, ModelReport* report) {
  report->validation_cells = e.cells_evaluated;
  report->rmse_cycles = e.rmse_cycles;
  report->mape_percent = e.mape_percent;
  report->coverage_68 = e.coverage_68;
  report->coverage_95 = e.coverage_95;
}

void WriteReport(const ModelReport& r, ByteWriter* w) {
  w->I32(r.training_cells);
  w->I32(r.training_rows);
  w->I32(r.validation_cells);
  w->F64s({r.rmse_cycles, r.mape_percent, r.coverage_68, r.coverage_95, r.training_seconds});
}

absl::Status ReadReport(ByteReader* r, ModelReport* report) {
  int32_t cells = 0, rows = 0, validation = 0;
  std::vector<double> figures;
  RETURN_IF_ERROR(r->I32(&cells));
  RETURN_IF_ERROR(r->I32(&rows));
  RETURN_IF_ERROR(r->I32(&validation));
  RETURN_IF_ERROR(r->F64s(&figures));
  if (figures.size() != 5) return r->Corrupt("report figures");
  *report = {cells, rows, validation, figures[0], figures[1], figures[2], figures[3], figures[4]};
  return absl::OkStatus();
}

}  // namespace ionloop::models::internal
