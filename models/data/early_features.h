// Early-cycle features of a cell (DESIGN.md §6.2): Severson et al., Nature Energy 4, 383
// (2019), "Data-driven prediction of battery cycle life before capacity degradation",
// plus the seed's ΔQ(3→100) and voltage-curve area difference.
//
// Definitions (and choices):
// - ΔQ(V) = Q_late(V) − Q_early(V) on the curves' common voltage grid (Severson:
//   ΔQ_100−10(V), early 10, late 100).
// - log_var_dq = log10|var ΔQ| (variance with N−1, as MATLAB's var in Severson's code);
//   log_abs_min_dq = log10|min ΔQ|; skew_dq = log10|skewness ΔQ|; kurt_dq =
//   log10|kurtosis ΔQ| (biased moment estimators, Pearson kurtosis — normal = 3 — as
//   MATLAB's skewness/kurtosis defaults). The skew/kurt fields hold the log10 of the
//   absolute value, as in Severson's Table 1. Every |x| is floored at 1e-12 before log10
//   (a flat ΔQ gives −12, not −inf); skewness and kurtosis are 0 when var ΔQ = 0.
// - fade_slope / fade_intercept: least-squares line through the measured discharge
//   capacity against cycle number over cycles 2..late (Severson's "slope/intercept of
//   the linear fit to the capacity fade curve, cycles 2 to 100"; BEEP also offers
//   91..100, which is noisier with 10 points — we use the published full-model variant).
//   Units: Ah per cycle, Ah (intercept at cycle 0).
// - capacity_cycle2: discharge capacity at cycle 2 (Ah); max_minus_cycle2: max discharge
//   capacity over cycles 2..late minus that at cycle 2 (Ah).
// - delta_q_3_100: discharge capacity at cycle `late` minus at cycle 3 (Ah; negative when
//   the cell fades). delta_area_3_100: ∫V dQ (trapezoid along the Q(V) curve, i.e. the
//   discharge energy in Wh between the grid's ends) of cycle `late` minus that of cycle 3.
// The capacity features read `cycles`/`capacity_ah`; the ΔQ and area features read
// `curves`. The field names keep "3_100" whatever `late_cycle` is.
#ifndef IONLOOP_MODELS_DATA_EARLY_FEATURES_H_
#define IONLOOP_MODELS_DATA_EARLY_FEATURES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/data/cell_series.h"

namespace ionloop::models {

struct EarlyCycleFeatures {
  double log_var_dq = 0;
  double log_abs_min_dq = 0;
  double skew_dq = 0;
  double kurt_dq = 0;
  double fade_slope = 0;
  double fade_intercept = 0;
  double capacity_cycle2 = 0;
  double max_minus_cycle2 = 0;
  double delta_q_3_100 = 0;
  double delta_area_3_100 = 0;

  // Field names in ToVector() order.
  static std::vector<std::string> Names();
  std::vector<double> ToVector() const;
};

// FAILED_PRECONDITION naming the cell and the cycle when a needed capacity (cycles 2, 3,
// late) or curve (early, 3, late) is missing, or when the curves' grids differ;
// INVALID_ARGUMENT when early_cycle >= late_cycle, early_cycle < 2 or late_cycle <= 3.
absl::StatusOr<EarlyCycleFeatures> ComputeEarlyFeatures(const CellSeries& cell,
                                                        int early_cycle = 10,
                                                        int late_cycle = 100);

// Moments used above, exposed for tests: sample variance (N−1), biased skewness and
// Pearson kurtosis (0 when the variance is 0).
double SampleVariance(const std::vector<double>& x);
double Skewness(const std::vector<double>& x);
double Kurtosis(const std::vector<double>& x);

}  // namespace ionloop::models

#endif  // IONLOOP_MODELS_DATA_EARLY_FEATURES_H_
