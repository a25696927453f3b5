#include "models/data/capacity_series.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace ionloop::models {
namespace {

double Median(std::vector<double> v) {
  if (v.empty()) return NAN;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  const double upper = v[mid];
  if (v.size() % 2 == 1) return upper;
  const double lower = *std::max_element(v.begin(), v.begin() + mid);
  return 0.5 * (lower + upper);
}

absl::Status CheckFinite(const std::vector<double>& values, const char* what) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, "[", i, "] is not finite (", values[i], ")"));
    }
  }
  return absl::OkStatus();
}

// Solves the small dense system a·x = b (n×n, row-major) by Gaussian elimination with
// partial pivoting. The Savitzky–Golay normal matrices are tiny and well conditioned
// (coordinates scaled to [-1, 1]).
std::vector<double> Solve(std::vector<double> a, std::vector<double> b, int n) {
  for (int col = 0; col < n; ++col) {
    int pivot = col;
    for (int r = col + 1; r < n; ++r) {
      if (std::fabs(a[r * n + col]) > std::fabs(a[pivot * n + col])) pivot = r;
    }
    if (pivot != col) {
      for (int c = 0; c < n; ++c) std::swap(a[col * n + c], a[pivot * n + c]);
      std::swap(b[col], b[pivot]);
    }
    for (int r = col + 1; r < n; ++r) {
      const double f = a[r * n + col] / a[col * n + col];
      for (int c = col; c < n; ++c) a[r * n + c] -= f * a[col * n + c];
      b[r] -= f * b[col];
    }
  }
  std::vector<double> x(n);
  for (int r = n - 1; r >= 0; --r) {
    double s = b[r];
    for (int c = r + 1; c < n; ++c) s -= a[r * n + c] * x[c];
    x[r] = s / a[r * n + r];
  }
  return x;
}

// Weights w_j (j over the window) such that Σ w_j y_j is the least-squares polynomial of
// degree `order` through the window, evaluated at window position `at`.
std::vector<double> SavgolWeights(int window, int order, int at) {
  const int k = order + 1;
  const double half = std::max(1.0, (window - 1) / 2.0);
  const double center = (window - 1) / 2.0;
  std::vector<double> t(window);
  for (int j = 0; j < window; ++j) t[j] = (j - center) / half;
  // Normal matrix AᵀA with A_jm = t_j^m.
  std::vector<double> ata(k * k, 0.0);
  for (int j = 0; j < window; ++j) {
    double pr = 1;
    std::vector<double> powers(2 * k - 1);
    for (int m = 0; m < 2 * k - 1; ++m) {
      powers[m] = pr;
      pr *= t[j];
    }
    for (int r = 0; r < k; ++r) {
      for (int c = 0; c < k; ++c) ata[r * k + c] += powers[r + c];
    }
  }
  // e = powers of the evaluation point; w_j = A_j · (AᵀA)⁻¹ e (AᵀA symmetric).
  std::vector<double> e(k);
  double pr = 1;
  for (int m = 0; m < k; ++m) {
    e[m] = pr;
    pr *= t[at];
  }
  const std::vector<double> z = Solve(ata, e, k);
  std::vector<double> w(window);
  for (int j = 0; j < window; ++j) {
    double s = 0, p = 1;
    for (int m = 0; m < k; ++m) {
      s += p * z[m];
      p *= t[j];
    }
    w[j] = s;
  }
  return w;
}

}  // namespace

double MedianOfFirst(const std::vector<double>& values, size_t n) {
  n = std::min(n, values.size());
  return Median(std::vector<double>(values.begin(), values.begin() + n));
}

absl::StatusOr<std::vector<double>> HampelFilter(const std::vector<double>& values,
                                                 int half_window, double n_sigmas,
                                                 std::vector<int>* replaced,
                                                 double min_relative_deviation) {
  if (half_window < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("HampelFilter: half_window must be >= 1, got ", half_window));
  }
  if (!(n_sigmas > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("HampelFilter: n_sigmas must be > 0, got ", n_sigmas));
  }
  if (!(min_relative_deviation >= 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "HampelFilter: min_relative_deviation must be >= 0, got ", min_relative_deviation));
  }
  RETURN_IF_ERROR(CheckFinite(values, "HampelFilter: values"));
  if (replaced != nullptr) replaced->clear();
  const int n = static_cast<int>(values.size());
  std::vector<double> out = values;
  const int width = std::min(n, 2 * half_window + 1);
  std::vector<double> window(width), deviations(width);
  for (int i = 0; i < n; ++i) {
    int begin = std::clamp(i - half_window, 0, n - width);
    window.assign(values.begin() + begin, values.begin() + begin + width);
    const double median = Median(window);
    for (int j = 0; j < width; ++j) deviations[j] = std::fabs(window[j] - median);
    const double sigma = 1.4826 * Median(deviations);
    const double band = std::max(n_sigmas * sigma, min_relative_deviation * std::fabs(median));
    if (sigma > 0 && std::fabs(values[i] - median) > band) {
      out[i] = median;
      if (replaced != nullptr) replaced->push_back(i);
    }
  }
  return out;
}

absl::StatusOr<std::vector<double>> SavitzkyGolay(const std::vector<double>& values,
                                                  int window, int poly_order) {
  if (window < 1 || window % 2 == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("SavitzkyGolay: window must be odd and >= 1, got ", window));
  }
  if (poly_order < 0 || poly_order >= window) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SavitzkyGolay: poly_order must be in [0, window), got ", poly_order,
        " with window ", window));
  }
  RETURN_IF_ERROR(CheckFinite(values, "SavitzkyGolay: values"));
  const int n = static_cast<int>(values.size());
  if (n < 2) return values;
  if (window > n) {
    window = (n % 2 == 1) ? n : n - 1;
    poly_order = std::min(poly_order, window - 1);
  }
  const int half = window / 2;
  std::vector<std::vector<double>> weights(window);
  for (int at = 0; at < window; ++at) weights[at] = SavgolWeights(window, poly_order, at);
  std::vector<double> out(n);
  for (int i = 0; i < n; ++i) {
    int begin, at;
    if (i < half) {
      begin = 0;
      at = i;
    } else if (i >= n - half) {
      begin = n - window;
      at = i - begin;
    } else {
      begin = i - half;
      at = half;
    }
    double s = 0;
    for (int j = 0; j < window; ++j) s += weights[at][j] * values[begin + j];
    out[i] = s;
  }
  return out;
}

absl::StatusOr<std::vector<SohPoint>> UndersampleToSohPercentiles(
    const std::vector<double>& cycles, const std::vector<double>& capacity,
    double reference_capacity_ah, double lowest_soh_percent, double step_percent) {
  if (cycles.empty() || cycles.size() != capacity.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "UndersampleToSohPercentiles: need equal, non-empty cycles and capacity, got ",
        cycles.size(), " and ", capacity.size()));
  }
  if (!(reference_capacity_ah > 0) || !std::isfinite(reference_capacity_ah)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "UndersampleToSohPercentiles: reference_capacity_ah must be > 0, got ",
        reference_capacity_ah));
  }
  if (!(step_percent > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "UndersampleToSohPercentiles: step_percent must be > 0, got ", step_percent));
  }
  if (!(lowest_soh_percent > 0 && lowest_soh_percent <= 100)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "UndersampleToSohPercentiles: lowest_soh_percent must be in (0, 100], got ",
        lowest_soh_percent));
  }
  RETURN_IF_ERROR(CheckFinite(cycles, "UndersampleToSohPercentiles: cycles"));
  RETURN_IF_ERROR(CheckFinite(capacity, "UndersampleToSohPercentiles: capacity"));
  for (size_t i = 1; i < cycles.size(); ++i) {
    if (!(cycles[i] > cycles[i - 1])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "UndersampleToSohPercentiles: cycles must be strictly increasing; cycles[", i,
          "] = ", cycles[i], " after ", cycles[i - 1]));
    }
  }
  std::vector<double> soh(capacity.size());
  for (size_t i = 0; i < capacity.size(); ++i) {
    soh[i] = 100.0 * capacity[i] / reference_capacity_ah;
  }
  std::vector<SohPoint> points;
  size_t segment = 0;  // first index not yet known to be above the current level
  constexpr double kSlack = 1e-9;
  for (int k = 0;; ++k) {
    const double level = 100.0 - k * step_percent;
    if (level < lowest_soh_percent - kSlack) break;
    double cycle;
    if (level >= soh[0]) {
      cycle = cycles[0];
    } else {
      while (segment < soh.size() && soh[segment] > level) ++segment;
      if (segment == soh.size()) break;  // never reached
      // soh[segment - 1] > level >= soh[segment], segment >= 1 since soh[0] > level.
      const double s0 = soh[segment - 1], s1 = soh[segment];
      const double f = (s0 - level) / (s0 - s1);
      cycle = cycles[segment - 1] + f * (cycles[segment] - cycles[segment - 1]);
    }
    if (!points.empty()) cycle = std::max(cycle, points.back().cycle);
    points.push_back({level, cycle});
  }
  return points;
}

absl::StatusOr<CellSeries> CleanCapacitySeries(const CellSeries& cell,
                                               const CleaningOptions& options,
                                               std::vector<int>* replaced) {
  if (cell.cycles.size() != cell.capacity_ah.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CleanCapacitySeries: cell '", cell.id, "' has ", cell.cycles.size(),
        " cycles but ", cell.capacity_ah.size(), " capacities"));
  }
  CellSeries out = cell;
  if (replaced != nullptr) replaced->clear();
  auto with_id = [&cell](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat("cell '", cell.id, "': ", s.message()));
  };
  if (options.correct_outliers) {
    auto filtered = HampelFilter(out.capacity_ah, options.hampel_half_window,
                                 options.hampel_n_sigmas, replaced,
                                 options.hampel_min_relative_deviation);
    if (!filtered.ok()) return with_id(filtered.status());
    out.capacity_ah = *std::move(filtered);
  }
  if (options.smooth) {
    auto smoothed =
        SavitzkyGolay(out.capacity_ah, options.savgol_window, options.savgol_poly_order);
    if (!smoothed.ok()) return with_id(smoothed.status());
    out.capacity_ah = *std::move(smoothed);
  }
  return out;
}

absl::StatusOr<double> ReferenceCapacity(const CellSeries& cell) {
  if (cell.config.nominal_capacity_ah > 0) return cell.config.nominal_capacity_ah;
  if (cell.capacity_ah.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("ReferenceCapacity: cell '", cell.id,
                     "' has no nominal_capacity_ah and no measured capacity"));
  }
  return MedianOfFirst(cell.capacity_ah, 5);
}

}  // namespace ionloop::models
