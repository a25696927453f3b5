// Elastic-net linear regression (coordinate descent) and the two Severson et al. 2019
// baselines built on it.
//
// Objective (glmnet / scikit-learn convention), on standardized features:
//   1/(2n)·‖y − b − Xβ‖² + alpha·(l1_ratio·‖β‖₁ + (1 − l1_ratio)/2·‖β‖²)
// Features are centred and scaled by their population standard deviation (a constant
// feature gets coefficient 0); the intercept is not penalized. Coefficients are reported
// in the original units. alpha = 0 gives ordinary least squares.
#ifndef IONLOOP_MODELS_DATA_ELASTIC_NET_H_
#define IONLOOP_MODELS_DATA_ELASTIC_NET_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "models/data/cell_series.h"
#include "models/data/matrix.h"

namespace ionloop::models {

struct ElasticNetOptions {
  double alpha = 1.0;
  double l1_ratio = 0.5;      // 1 lasso, 0 ridge
  int max_iterations = 100000;  // full passes over the coordinates
  double tolerance = 1e-10;   // stop when no standardized coefficient moves more
};

class ElasticNet {
 public:
  // INVALID_ARGUMENT for an empty x, rows(x) != size(y), alpha < 0, l1_ratio outside
  // [0, 1], or non-finite inputs.
  static absl::StatusOr<ElasticNet> Fit(const Matrix& x, const std::vector<double>& y,
                                        const ElasticNetOptions& options);

  double Predict(const std::vector<double>& features) const;  // size() == num_features()
  std::vector<double> Predict(const Matrix& x) const;

  const std::vector<double>& coefficients() const { return coefficients_; }
  double intercept() const { return intercept_; }
  size_t num_features() const { return coefficients_.size(); }
  int iterations() const { return iterations_; }

 private:
  std::vector<double> coefficients_;  // original units
  double intercept_ = 0;
  int iterations_ = 0;
};

struct ElasticNetCvOptions {
  // Alpha path; empty: `num_alphas` values log-spaced from alpha_max (the smallest alpha
  // that zeroes every coefficient) down to alpha_max·alpha_min_ratio.
  std::vector<double> alphas;
  int num_alphas = 50;
  double alpha_min_ratio = 1e-3;
  std::vector<double> l1_ratios = {0.5};
  // k-fold CV, deterministic: row i is in fold i % folds (shuffle rows beforehand if their
  // order carries structure).
  int folds = 5;
  ElasticNetOptions fit;  // max_iterations / tolerance (alpha, l1_ratio are searched)
};

struct ElasticNetCvResult {
  ElasticNet model;  // refit on all rows with the best (alpha, l1_ratio)
  double best_alpha = 0;
  double best_l1_ratio = 0;
  double best_cv_mse = 0;
  // cv_mse[l][a]: mean held-out squared error for l1_ratios[l], alphas[a] (the path used).
  std::vector<double> alphas;
  std::vector<std::vector<double>> cv_mse;
};

// INVALID_ARGUMENT as Fit, or when folds < 2 or folds > rows.
absl::StatusOr<ElasticNetCvResult> FitElasticNetCv(const Matrix& x,
                                                   const std::vector<double>& y,
                                                   const ElasticNetCvOptions& options);

// Severson et al. 2019 "variance" model: log10(cycle life) = a + b·log10|var ΔQ_100−10(V)|,
// fitted by least squares (the published model is an elastic net on that one feature;
// with one feature the penalty only shrinks b, and the refit is plain OLS).
class SeversonVarianceModel {
 public:
  // Needs cells with cycle_life and curves for cycles 10 and 100 (and the capacities
  // ComputeEarlyFeatures needs); FAILED_PRECONDITION naming the cell otherwise.
  absl::Status Fit(const std::vector<CellSeries>& cells);
  absl::StatusOr<double> Predict(const CellSeries& cell) const;  // cycles
  const ElasticNet& model() const { return model_; }

 private:
  ElasticNet model_;
  bool fitted_ = false;
};

// Severson et al. 2019 "discharge" model: log10(cycle life) on the six features
// log|min ΔQ|, log|var ΔQ|, log|skew ΔQ|, log|kurt ΔQ|, Q(cycle 2), max Q − Q(cycle 2);
// elastic net with alpha and l1_ratio chosen by k-fold CV (as the paper, which used
// 4-fold CV; here `cv` defaults to 4 folds, l1_ratio in {0.1, 0.5, 0.9, 1}).
class SeversonDischargeModel {
 public:
  SeversonDischargeModel();
  explicit SeversonDischargeModel(ElasticNetCvOptions cv) : cv_(std::move(cv)) {}
  absl::Status Fit(const std::vector<CellSeries>& cells);
  absl::StatusOr<double> Predict(const CellSeries& cell) const;  // cycles
  const ElasticNetCvResult& cv_result() const { return result_; }
  static std::vector<std::string> FeatureNames();

 private:
  ElasticNetCvOptions cv_;
  ElasticNetCvResult result_;
  bool fitted_ = false;
};

}  // namespace ionloop::models

#endif  // IONLOOP_MODELS_DATA_ELASTIC_NET_H_
