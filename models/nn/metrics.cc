#include "models/nn/metrics.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace ionloop::models {
namespace {

absl::Status CheckSizes(const std::vector<float>& truth, const std::vector<float>& other,
                        const char* other_name) {
  if (truth.empty()) return absl::InvalidArgumentError("truth is empty");
  if (other.size() != truth.size()) {
    return absl::InvalidArgumentError(absl::StrCat(other_name, " has ", other.size(),
                                                   " values, truth has ", truth.size()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<double> Rmse(const std::vector<float>& truth, const std::vector<float>& predicted) {
  RETURN_IF_ERROR(CheckSizes(truth, predicted, "predicted"));
  double s = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    const double d = static_cast<double>(predicted[i]) - truth[i];
    s += d * d;
  }
  return std::sqrt(s / truth.size());
}

absl::StatusOr<double> Mae(const std::vector<float>& truth, const std::vector<float>& predicted) {
  RETURN_IF_ERROR(CheckSizes(truth, predicted, "predicted"));
  double s = 0;
  for (size_t i = 0; i < truth.size(); ++i) s += std::fabs(static_cast<double>(predicted[i]) - truth[i]);
  return s / truth.size();
}

absl::StatusOr<double> Mape(const std::vector<float>& truth, const std::vector<float>& predicted) {
  RETURN_IF_ERROR(CheckSizes(truth, predicted, "predicted"));
  double s = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("truth[", i, "] = 0: percentage error undefined"));
    }
    s += std::fabs((static_cast<double>(predicted[i]) - truth[i]) / truth[i]);
  }
  return 100.0 * s / truth.size();
}

absl::StatusOr<double> IntervalCoverage(const std::vector<float>& truth,
                                        const std::vector<float>& mean,
                                        const std::vector<float>& stddev, double z) {
  RETURN_IF_ERROR(CheckSizes(truth, mean, "mean"));
  RETURN_IF_ERROR(CheckSizes(truth, stddev, "stddev"));
  if (!(z >= 0)) return absl::InvalidArgumentError(absl::StrCat("z = ", z, " must be >= 0"));
  size_t inside = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    if (!(stddev[i] >= 0)) {
      return absl::InvalidArgumentError(absl::StrCat("stddev[", i, "] = ", stddev[i], " must be >= 0"));
    }
    if (std::fabs(static_cast<double>(truth[i]) - mean[i]) <= z * stddev[i]) ++inside;
  }
  return static_cast<double>(inside) / truth.size();
}

absl::StatusOr<double> GaussianNll(const std::vector<float>& truth, const std::vector<float>& mean,
                                   const std::vector<float>& stddev) {
  RETURN_IF_ERROR(CheckSizes(truth, mean, "mean"));
  RETURN_IF_ERROR(CheckSizes(truth, stddev, "stddev"));
  constexpr double kHalfLog2Pi = 0.91893853320467274178;
  double s = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    if (!(stddev[i] > 0)) {
      return absl::InvalidArgumentError(absl::StrCat("stddev[", i, "] = ", stddev[i], " must be > 0"));
    }
    const double r = (static_cast<double>(truth[i]) - mean[i]) / stddev[i];
    s += 0.5 * r * r + std::log(static_cast<double>(stddev[i])) + kHalfLog2Pi;
  }
  return s / truth.size();
}

}  // namespace ionloop::models
