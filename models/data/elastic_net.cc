#include "models/data/elastic_net.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "models/data/early_features.h"

namespace ionloop::models {
namespace {

absl::Status CheckData(const Matrix& x, const std::vector<double>& y) {
  if (x.rows == 0 || x.cols == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("elastic net: empty design matrix (", x.rows, "x", x.cols, ")"));
  }
  if (x.values.size() != x.rows * x.cols || y.size() != x.rows) {
    return absl::InvalidArgumentError(absl::StrCat("elastic net: x is ", x.rows, "x",
                                                   x.cols, " but y has ", y.size(),
                                                   " values"));
  }
  for (size_t i = 0; i < x.values.size(); ++i) {
    if (!std::isfinite(x.values[i])) {
      return absl::InvalidArgumentError(absl::StrCat("elastic net: x(", i / x.cols, ", ",
                                                     i % x.cols, ") is not finite"));
    }
  }
  for (size_t i = 0; i < y.size(); ++i) {
    if (!std::isfinite(y[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("elastic net: y[", i, "] is not finite (", y[i], ")"));
    }
  }
  return absl::OkStatus();
}

double SoftThreshold(double z, double g) {
  if (z > g) return z - g;
  if (z < -g) return z + g;
  return 0;
}

struct Standardized {
  size_t n = 0, p = 0;
  std::vector<double> z;  // column-major n×p
  std::vector<double> mean, scale;
  double y_mean = 0;
  std::vector<double> yc;
};

Standardized Standardize(const Matrix& x, const std::vector<double>& y) {
  Standardized s;
  s.n = x.rows;
  s.p = x.cols;
  s.z.assign(s.n * s.p, 0.0);
  s.mean.assign(s.p, 0.0);
  s.scale.assign(s.p, 0.0);
  for (size_t j = 0; j < s.p; ++j) {
    double m = 0;
    for (size_t i = 0; i < s.n; ++i) m += x.at(i, j);
    m /= s.n;
    double v = 0;
    for (size_t i = 0; i < s.n; ++i) v += (x.at(i, j) - m) * (x.at(i, j) - m);
    const double sd = std::sqrt(v / s.n);
    s.mean[j] = m;
    s.scale[j] = sd;
    for (size_t i = 0; i < s.n; ++i) {
      s.z[j * s.n + i] = sd > 0 ? (x.at(i, j) - m) / sd : 0.0;
    }
  }
  for (double v : y) s.y_mean += v;
  s.y_mean /= s.n;
  s.yc.resize(s.n);
  for (size_t i = 0; i < s.n; ++i) s.yc[i] = y[i] - s.y_mean;
  return s;
}

double AlphaMax(const Standardized& s, double l1_ratio) {
  double m = 0;
  for (size_t j = 0; j < s.p; ++j) {
    double d = 0;
    for (size_t i = 0; i < s.n; ++i) d += s.z[j * s.n + i] * s.yc[i];
    m = std::max(m, std::fabs(d) / s.n);
  }
  return m / std::max(l1_ratio, 1e-3);
}

}  // namespace

absl::StatusOr<ElasticNet> ElasticNet::Fit(const Matrix& x, const std::vector<double>& y,
                                           const ElasticNetOptions& options) {
  RETURN_IF_ERROR(CheckData(x, y));
  if (!(options.alpha >= 0) || !std::isfinite(options.alpha)) {
    return absl::InvalidArgumentError(
        absl::StrCat("elastic net: alpha must be >= 0, got ", options.alpha));
  }
  if (!(options.l1_ratio >= 0 && options.l1_ratio <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("elastic net: l1_ratio must be in [0, 1], got ", options.l1_ratio));
  }
  const Standardized s = Standardize(x, y);
  const size_t n = s.n, p = s.p;
  std::vector<double> beta(p, 0.0);
  std::vector<double> r = s.yc;  // residual yc − Zβ
  const double l1 = options.alpha * options.l1_ratio;
  const double l2 = options.alpha * (1 - options.l1_ratio);
  int it = 0;
  for (; it < options.max_iterations; ++it) {
    double max_change = 0;
    for (size_t j = 0; j < p; ++j) {
      if (s.scale[j] == 0) continue;
      const double* zj = &s.z[j * n];
      double rho = 0;
      for (size_t i = 0; i < n; ++i) rho += zj[i] * r[i];
      rho = rho / n + beta[j];  // (1/n)Σz² = 1 for a standardized column
      const double updated = SoftThreshold(rho, l1) / (1 + l2);
      const double delta = updated - beta[j];
      if (delta != 0) {
        for (size_t i = 0; i < n; ++i) r[i] -= delta * zj[i];
        beta[j] = updated;
      }
      max_change = std::max(max_change, std::fabs(delta));
    }
    if (max_change <= options.tolerance) {
      ++it;
      break;
    }
  }
  ElasticNet model;
  model.iterations_ = it;
  model.coefficients_.assign(p, 0.0);
  model.intercept_ = s.y_mean;
  for (size_t j = 0; j < p; ++j) {
    if (s.scale[j] == 0) continue;
    model.coefficients_[j] = beta[j] / s.scale[j];
    model.intercept_ -= model.coefficients_[j] * s.mean[j];
  }
  return model;
}

double ElasticNet::Predict(const std::vector<double>& features) const {
  double v = intercept_;
  for (size_t j = 0; j < coefficients_.size() && j < features.size(); ++j) {
    v += coefficients_[j] * features[j];
  }
  return v;
}

std::vector<double> ElasticNet::Predict(const Matrix& x) const {
  std::vector<double> out(x.rows);
  for (size_t i = 0; i < x.rows; ++i) {
    double v = intercept_;
    for (size_t j = 0; j < coefficients_.size() && j < x.cols; ++j) {
      v += coefficients_[j] * x.at(i, j);
    }
    out[i] = v;
  }
  return out;
}

absl::StatusOr<ElasticNetCvResult> FitElasticNetCv(const Matrix& x,
                                                   const std::vector<double>& y,
                                                   const ElasticNetCvOptions& options) {
  RETURN_IF_ERROR(CheckData(x, y));
  if (options.folds < 2 || static_cast<size_t>(options.folds) > x.rows) {
    return absl::InvalidArgumentError(absl::StrCat(
        "elastic net CV: folds must be in [2, rows=", x.rows, "], got ", options.folds));
  }
  if (options.l1_ratios.empty()) {
    return absl::InvalidArgumentError("elastic net CV: l1_ratios is empty");
  }
  ElasticNetCvResult result;
  result.best_cv_mse = INFINITY;
  const Standardized full = Standardize(x, y);
  for (size_t l = 0; l < options.l1_ratios.size(); ++l) {
    const double l1_ratio = options.l1_ratios[l];
    std::vector<double> alphas = options.alphas;
    if (alphas.empty()) {
      if (options.num_alphas < 1 || !(options.alpha_min_ratio > 0)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "elastic net CV: need num_alphas >= 1 and alpha_min_ratio > 0, got ",
            options.num_alphas, " and ", options.alpha_min_ratio));
      }
      const double amax = std::max(AlphaMax(full, l1_ratio), 1e-12);
      for (int a = 0; a < options.num_alphas; ++a) {
        const double f =
            options.num_alphas == 1 ? 0.0 : static_cast<double>(a) / (options.num_alphas - 1);
        alphas.push_back(amax * std::pow(options.alpha_min_ratio, f));
      }
    }
    std::vector<double> mse(alphas.size(), 0.0);
    for (int fold = 0; fold < options.folds; ++fold) {
      std::vector<size_t> train, held;
      for (size_t i = 0; i < x.rows; ++i) {
        (static_cast<int>(i % options.folds) == fold ? held : train).push_back(i);
      }
      Matrix xt(train.size(), x.cols);
      std::vector<double> yt(train.size());
      for (size_t k = 0; k < train.size(); ++k) {
        std::copy(x.row(train[k]), x.row(train[k]) + x.cols, xt.row(k));
        yt[k] = y[train[k]];
      }
      for (size_t a = 0; a < alphas.size(); ++a) {
        ElasticNetOptions fit = options.fit;
        fit.alpha = alphas[a];
        fit.l1_ratio = l1_ratio;
        ASSIGN_OR_RETURN(ElasticNet m, ElasticNet::Fit(xt, yt, fit));
        for (size_t i : held) {
          std::vector<double> row(x.row(i), x.row(i) + x.cols);
          const double e = m.Predict(row) - y[i];
          mse[a] += e * e;
        }
      }
    }
    for (double& m : mse) m /= x.rows;
    for (size_t a = 0; a < alphas.size(); ++a) {
      if (mse[a] < result.best_cv_mse) {
        result.best_cv_mse = mse[a];
        result.best_alpha = alphas[a];
        result.best_l1_ratio = l1_ratio;
      }
    }
    if (l == 0 || options.alphas.empty()) result.alphas = alphas;
    result.cv_mse.push_back(std::move(mse));
  }
  ElasticNetOptions fit = options.fit;
  fit.alpha = result.best_alpha;
  fit.l1_ratio = result.best_l1_ratio;
  ASSIGN_OR_RETURN(result.model, ElasticNet::Fit(x, y, fit));
  return result;
}

// ---------------------------------------------------------------- Severson baselines

namespace {

constexpr int kEarly = 10;
constexpr int kLate = 100;

absl::StatusOr<std::vector<double>> VarianceFeatures(const CellSeries& cell) {
  ASSIGN_OR_RETURN(EarlyCycleFeatures f, ComputeEarlyFeatures(cell, kEarly, kLate));
  return std::vector<double>{f.log_var_dq};
}

absl::StatusOr<std::vector<double>> DischargeFeatures(const CellSeries& cell) {
  ASSIGN_OR_RETURN(EarlyCycleFeatures f, ComputeEarlyFeatures(cell, kEarly, kLate));
  return std::vector<double>{f.log_abs_min_dq, f.log_var_dq,      f.skew_dq,
                             f.kurt_dq,        f.capacity_cycle2, f.max_minus_cycle2};
}

template <typename FeatureFn>
absl::Status BuildTrainingSet(const std::vector<CellSeries>& cells, FeatureFn features,
                              Matrix* x, std::vector<double>* y) {
  if (cells.empty()) return absl::InvalidArgumentError("Severson model: no training cells");
  std::vector<std::vector<double>> rows;
  for (const CellSeries& cell : cells) {
    if (!cell.has_cycle_life() || !(cell.cycle_life > 0)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "Severson model: training cell '", cell.id, "' has no cycle_life"));
    }
    ASSIGN_OR_RETURN(std::vector<double> row, features(cell));
    rows.push_back(std::move(row));
    y->push_back(std::log10(cell.cycle_life));
  }
  *x = Matrix(rows.size(), rows[0].size());
  for (size_t i = 0; i < rows.size(); ++i) {
    for (size_t j = 0; j < rows[i].size(); ++j) x->at(i, j) = static_cast<float>(rows[i][j]);
  }
  return absl::OkStatus();
}

// Round features through float like the training matrix, so that train predictions
// from Predict() equal those of the fit.
std::vector<double> AsFloat(std::vector<double> v) {
  for (double& d : v) d = static_cast<float>(d);
  return v;
}

}  // namespace

absl::Status SeversonVarianceModel::Fit(const std::vector<CellSeries>& cells) {
  Matrix x;
  std::vector<double> y;
  RETURN_IF_ERROR(BuildTrainingSet(cells, VarianceFeatures, &x, &y));
  ElasticNetOptions options;
  options.alpha = 0;
  ASSIGN_OR_RETURN(model_, ElasticNet::Fit(x, y, options));
  fitted_ = true;
  return absl::OkStatus();
}

absl::StatusOr<double> SeversonVarianceModel::Predict(const CellSeries& cell) const {
  if (!fitted_) return absl::FailedPreconditionError("SeversonVarianceModel: not fitted");
  ASSIGN_OR_RETURN(std::vector<double> f, VarianceFeatures(cell));
  return std::pow(10.0, model_.Predict(AsFloat(std::move(f))));
}

SeversonDischargeModel::SeversonDischargeModel() {
  cv_.folds = 4;
  cv_.l1_ratios = {0.1, 0.5, 0.9, 1.0};
}

std::vector<std::string> SeversonDischargeModel::FeatureNames() {
  return {"log_abs_min_dq", "log_var_dq", "skew_dq", "kurt_dq", "capacity_cycle2",
          "max_minus_cycle2"};
}

absl::Status SeversonDischargeModel::Fit(const std::vector<CellSeries>& cells) {
  Matrix x;
  std::vector<double> y;
  RETURN_IF_ERROR(BuildTrainingSet(cells, DischargeFeatures, &x, &y));
  ASSIGN_OR_RETURN(result_, FitElasticNetCv(x, y, cv_));
  fitted_ = true;
  return absl::OkStatus();
}

absl::StatusOr<double> SeversonDischargeModel::Predict(const CellSeries& cell) const {
  if (!fitted_) return absl::FailedPreconditionError("SeversonDischargeModel: not fitted");
  ASSIGN_OR_RETURN(std::vector<double> f, DischargeFeatures(cell));
  return std::pow(10.0, result_.model.Predict(AsFloat(std::move(f))));
}

}  // namespace ionloop::models
