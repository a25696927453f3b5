#include "models/data/early_features.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ionloop::models {
namespace {

constexpr double kLogFloor = 1e-12;

double Log10Abs(double x) { return std::log10(std::max(std::fabs(x), kLogFloor)); }

double Mean(const std::vector<double>& x) {
  double s = 0;
  for (double v : x) s += v;
  return x.empty() ? 0 : s / static_cast<double>(x.size());
}

// Central moment of order k (biased, divides by N).
double CentralMoment(const std::vector<double>& x, int k) {
  const double m = Mean(x);
  double s = 0;
  for (double v : x) s += std::pow(v - m, k);
  return x.empty() ? 0 : s / static_cast<double>(x.size());
}

const DischargeCurve* FindCurve(const CellSeries& cell, int cycle) {
  for (const DischargeCurve& c : cell.curves) {
    if (c.cycle == cycle) return &c;
  }
  return nullptr;
}

absl::StatusOr<const DischargeCurve*> NeedCurve(const CellSeries& cell, int cycle) {
  const DischargeCurve* c = FindCurve(cell, cycle);
  if (c == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "ComputeEarlyFeatures: cell '", cell.id, "' has no Q(V) curve for cycle ", cycle));
  }
  if (c->voltage_v.size() != c->capacity_ah.size() || c->voltage_v.size() < 2) {
    return absl::FailedPreconditionError(absl::StrCat(
        "ComputeEarlyFeatures: cell '", cell.id, "' curve of cycle ", cycle, " has ",
        c->voltage_v.size(), " voltages and ", c->capacity_ah.size(), " capacities"));
  }
  return c;
}

absl::StatusOr<double> NeedCapacity(const CellSeries& cell, int cycle) {
  const size_t n = std::min(cell.cycles.size(), cell.capacity_ah.size());
  for (size_t i = 0; i < n; ++i) {
    if (cell.cycles[i] == cycle) return cell.capacity_ah[i];
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "ComputeEarlyFeatures: cell '", cell.id, "' has no measured capacity for cycle ",
      cycle));
}

absl::Status SameGrid(const CellSeries& cell, const DischargeCurve& a,
                      const DischargeCurve& b) {
  bool same = a.voltage_v.size() == b.voltage_v.size();
  for (size_t i = 0; same && i < a.voltage_v.size(); ++i) {
    same = std::fabs(a.voltage_v[i] - b.voltage_v[i]) <= 1e-9;
  }
  if (!same) {
    return absl::FailedPreconditionError(absl::StrCat(
        "ComputeEarlyFeatures: cell '", cell.id, "' curves of cycles ", a.cycle, " and ",
        b.cycle, " are not on the same voltage grid"));
  }
  return absl::OkStatus();
}

// ∫V dQ along the curve (trapezoid), Wh when V in volts and Q in Ah.
double Area(const DischargeCurve& c) {
  double s = 0;
  for (size_t i = 0; i + 1 < c.voltage_v.size(); ++i) {
    s += 0.5 * (c.voltage_v[i] + c.voltage_v[i + 1]) *
         (c.capacity_ah[i + 1] - c.capacity_ah[i]);
  }
  return s;
}

}  // namespace

double SampleVariance(const std::vector<double>& x) {
  if (x.size() < 2) return 0;
  const double m = Mean(x);
  double s = 0;
  for (double v : x) s += (v - m) * (v - m);
  return s / static_cast<double>(x.size() - 1);
}

double Skewness(const std::vector<double>& x) {
  const double m2 = CentralMoment(x, 2);
  if (!(m2 > 0)) return 0;
  return CentralMoment(x, 3) / std::pow(m2, 1.5);
}

double Kurtosis(const std::vector<double>& x) {
  const double m2 = CentralMoment(x, 2);
  if (!(m2 > 0)) return 0;
  return CentralMoment(x, 4) / (m2 * m2);
}

std::vector<std::string> EarlyCycleFeatures::Names() {
  return {"log_var_dq",      "log_abs_min_dq",  "skew_dq",
          "kurt_dq",         "fade_slope",      "fade_intercept",
          "capacity_cycle2", "max_minus_cycle2", "delta_q_3_100",
          "delta_area_3_100"};
}

std::vector<double> EarlyCycleFeatures::ToVector() const {
  return {log_var_dq,      log_abs_min_dq,   skew_dq,       kurt_dq,
          fade_slope,      fade_intercept,   capacity_cycle2, max_minus_cycle2,
          delta_q_3_100,   delta_area_3_100};
}

absl::StatusOr<EarlyCycleFeatures> ComputeEarlyFeatures(const CellSeries& cell,
                                                        int early_cycle, int late_cycle) {
  if (early_cycle < 2 || late_cycle <= 3 || early_cycle >= late_cycle) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ComputeEarlyFeatures: need 2 <= early_cycle < late_cycle and late_cycle > 3, got "
        "early_cycle=",
        early_cycle, " late_cycle=", late_cycle));
  }
  EarlyCycleFeatures f;

  // ΔQ(V) features.
  auto early = NeedCurve(cell, early_cycle);
  if (!early.ok()) return early.status();
  auto late = NeedCurve(cell, late_cycle);
  if (!late.ok()) return late.status();
  auto third = NeedCurve(cell, 3);
  if (!third.ok()) return third.status();
  if (auto s = SameGrid(cell, **early, **late); !s.ok()) return s;
  const size_t n = (*late)->capacity_ah.size();
  std::vector<double> dq(n);
  for (size_t i = 0; i < n; ++i) dq[i] = (*late)->capacity_ah[i] - (*early)->capacity_ah[i];
  f.log_var_dq = Log10Abs(SampleVariance(dq));
  f.log_abs_min_dq = Log10Abs(*std::min_element(dq.begin(), dq.end()));
  f.skew_dq = Log10Abs(Skewness(dq));
  f.kurt_dq = Log10Abs(Kurtosis(dq));
  f.delta_area_3_100 = Area(**late) - Area(**third);

  // Capacity-series features.
  auto q2 = NeedCapacity(cell, 2);
  if (!q2.ok()) return q2.status();
  auto q3 = NeedCapacity(cell, 3);
  if (!q3.ok()) return q3.status();
  auto q_late = NeedCapacity(cell, late_cycle);
  if (!q_late.ok()) return q_late.status();
  f.capacity_cycle2 = *q2;
  f.delta_q_3_100 = *q_late - *q3;
  double max_q = *q2;
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  int count = 0;
  for (size_t i = 0; i < std::min(cell.cycles.size(), cell.capacity_ah.size()); ++i) {
    const double c = cell.cycles[i];
    if (c < 2 || c > late_cycle) continue;
    const double q = cell.capacity_ah[i];
    max_q = std::max(max_q, q);
    sx += c;
    sy += q;
    sxx += c * c;
    sxy += c * q;
    ++count;
  }
  f.max_minus_cycle2 = max_q - *q2;
  const double denom = count * sxx - sx * sx;  // count >= 3 (cycles 2, 3, late found)
  f.fade_slope = (count * sxy - sx * sy) / denom;
  f.fade_intercept = (sy - f.fade_slope * sx) / count;
  return f;
}

}  // namespace ionloop::models
