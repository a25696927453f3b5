#include "models/model_types.h"

#include <cmath>

namespace ionloop::models {

void Summarize(Evaluation* e) {
  double se = 0, ape = 0;
  int n = 0, in68 = 0, in95 = 0;
  for (const EvaluatedPoint& p : e->points) {
    if (!p.scored || !(p.true_cycles > 0) || !std::isfinite(p.predicted_cycles)) continue;
    const double err = p.predicted_cycles - p.true_cycles;
    se += err * err;
    ape += std::abs(err) / p.true_cycles;
    if (p.predicted_log10_stddev > 0) {
      const double log_err = std::abs(std::log10(p.true_cycles) - p.predicted_log10_mean);
      in68 += log_err <= p.predicted_log10_stddev;
      in95 += log_err <= 1.96 * p.predicted_log10_stddev;
    } else {
      in68 += std::abs(err) <= p.predicted_stddev;
      in95 += std::abs(err) <= 1.96 * p.predicted_stddev;
    }
    ++n;
  }
  e->points_scored = n;
  e->rmse_cycles = e->mape_percent = e->coverage_68 = e->coverage_95 = 0;
  if (n == 0) return;
  e->rmse_cycles = std::sqrt(se / n);
  e->mape_percent = 100 * ape / n;
  e->coverage_68 = static_cast<double>(in68) / n;
  e->coverage_95 = static_cast<double>(in95) / n;
}

}  // namespace ionloop::models
