// Regression and calibration metrics (DESIGN.md §6.1–6.3). Plain C++, no LibTorch.
//
// Every function checks that the vectors are non-empty and of equal length and returns
// INVALID_ARGUMENT naming the argument otherwise; sums are accumulated in double.
#ifndef IONLOOP_MODELS_NN_METRICS_H_
#define IONLOOP_MODELS_NN_METRICS_H_

#include <vector>

#include "absl/status/statusor.h"

namespace ionloop::models {

// Root mean squared error.
absl::StatusOr<double> Rmse(const std::vector<float>& truth, const std::vector<float>& predicted);
// Mean absolute error.
absl::StatusOr<double> Mae(const std::vector<float>& truth, const std::vector<float>& predicted);
// Mean absolute percentage error, in percent (6.6 means 6.6 %). INVALID_ARGUMENT when a
// truth is 0 (the error is undefined there).
absl::StatusOr<double> Mape(const std::vector<float>& truth, const std::vector<float>& predicted);
// Fraction (0..1) of truths inside mean ± z·stddev. For a calibrated Gaussian predictor:
// z = 1 → about 0.683, z = 1.96 → about 0.95. INVALID_ARGUMENT for z < 0 or a negative or
// NaN stddev.
absl::StatusOr<double> IntervalCoverage(const std::vector<float>& truth,
                                        const std::vector<float>& mean,
                                        const std::vector<float>& stddev, double z);
// Mean Gaussian negative log-likelihood of the truths under N(mean, stddev²) — lower is
// better; rewards both accuracy and honest spreads. stddev must be > 0.
absl::StatusOr<double> GaussianNll(const std::vector<float>& truth, const std::vector<float>& mean,
                                   const std::vector<float>& stddev);

}  // namespace ionloop::models

#endif  // IONLOOP_MODELS_NN_METRICS_H_
