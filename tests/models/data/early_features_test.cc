#include "models/data/early_features.h"

#include <cmath>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ionloop::models {
namespace {

using ::testing::HasSubstr;

constexpr int kPoints = 1000;

double QMax(int cycle) { return 1.1 - 0.001 * (cycle - 2); }

// Q_c(V) = QMax(c)·(3.6 − V)/1.6 on 1000 points 3.6 → 2.0 V, cycles 2..100: ΔQ is linear
// in V, so its moments are known in closed form.
CellSeries SyntheticCell() {
  CellSeries cell;
  cell.id = "synthetic";
  std::vector<double> grid(kPoints);
  for (int i = 0; i < kPoints; ++i) grid[i] = 3.6 - 1.6 * i / (kPoints - 1);
  for (int c = 2; c <= 100; ++c) {
    cell.cycles.push_back(c);
    cell.capacity_ah.push_back(QMax(c));
    DischargeCurve curve;
    curve.cycle = c;
    curve.voltage_v = grid;
    for (double v : grid) curve.capacity_ah.push_back(QMax(c) * (3.6 - v) / 1.6);
    cell.curves.push_back(curve);
  }
  return cell;
}

TEST(MomentsTest, KnownSamples) {
  EXPECT_NEAR(SampleVariance({1, 2, 3, 4}), 5.0 / 3.0, 1e-12);
  EXPECT_NEAR(Skewness({0, 0, 0, 1}), 1.1547005383792515, 1e-12);
  EXPECT_NEAR(Kurtosis({0, 1, 0, 1}), 1.0, 1e-12);
  EXPECT_NEAR(Kurtosis({0, 0, 0, 1}), 2.3333333333333335, 1e-12);
  EXPECT_EQ(Skewness({2, 2, 2}), 0);
  EXPECT_EQ(Kurtosis({2, 2, 2}), 0);
}

TEST(EarlyFeaturesTest, LinearDeltaQHasClosedFormFeatures) {
  auto f = ComputeEarlyFeatures(SyntheticCell());
  ASSERT_TRUE(f.ok()) << f.status();
  const double d = QMax(100) - QMax(10);  // −0.09 Ah at 2.0 V
  const double n = kPoints;
  const double var = d * d * n * (n + 1) / (12 * (n - 1) * (n - 1));
  EXPECT_NEAR(f->log_var_dq, std::log10(var), 1e-9);
  EXPECT_NEAR(f->log_abs_min_dq, std::log10(0.09), 1e-9);
  EXPECT_LT(f->skew_dq, -10);  // symmetric: |skew| ~ 0, floored
  // Discrete uniform on N points: Pearson kurtosis = 1.8 − 2.4/(N² − 1)... ≈ 1.8.
  EXPECT_NEAR(f->kurt_dq, std::log10(1.8), 1e-4);
  EXPECT_NEAR(f->fade_slope, -0.001, 1e-12);
  EXPECT_NEAR(f->fade_intercept, 1.102, 1e-10);
  EXPECT_DOUBLE_EQ(f->capacity_cycle2, 1.1);
  EXPECT_NEAR(f->max_minus_cycle2, 0, 1e-15);
  EXPECT_NEAR(f->delta_q_3_100, QMax(100) - QMax(3), 1e-12);
  // ∫V dQ = QMax·(3.6² − 2.0²)/(2·1.6) = 2.8·QMax (Wh).
  EXPECT_NEAR(f->delta_area_3_100, 2.8 * (QMax(100) - QMax(3)), 1e-9);

  const auto names = EarlyCycleFeatures::Names();
  const auto values = f->ToVector();
  ASSERT_EQ(names.size(), values.size());
  EXPECT_EQ(names[0], "log_var_dq");
  EXPECT_EQ(values[0], f->log_var_dq);
  EXPECT_EQ(names.back(), "delta_area_3_100");
  EXPECT_EQ(values.back(), f->delta_area_3_100);
}

TEST(EarlyFeaturesTest, MaxMinusCycle2ReadsTheCapacitySeries) {
  CellSeries cell = SyntheticCell();
  cell.capacity_ah[3] = 1.2;  // cycle 5
  auto f = ComputeEarlyFeatures(cell);
  ASSERT_TRUE(f.ok());
  EXPECT_NEAR(f->max_minus_cycle2, 0.1, 1e-12);
}

TEST(EarlyFeaturesTest, OtherEarlyAndLateCycles) {
  auto f = ComputeEarlyFeatures(SyntheticCell(), 5, 50);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_NEAR(f->log_abs_min_dq, std::log10(0.045), 1e-9);
  EXPECT_NEAR(f->delta_q_3_100, QMax(50) - QMax(3), 1e-12);
}

TEST(EarlyFeaturesTest, MissingCurveOrCycleIsAFailedPreconditionNamingIt) {
  CellSeries cell = SyntheticCell();
  cell.curves.erase(cell.curves.begin() + 8);  // cycle 10
  auto f = ComputeEarlyFeatures(cell);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(f.status().message(), HasSubstr("cycle 10"));
  EXPECT_THAT(f.status().message(), HasSubstr("synthetic"));

  cell = SyntheticCell();
  cell.cycles.erase(cell.cycles.begin());
  cell.capacity_ah.erase(cell.capacity_ah.begin());
  f = ComputeEarlyFeatures(cell);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(f.status().message(), HasSubstr("cycle 2"));

  cell = SyntheticCell();
  cell.curves.back().voltage_v[10] += 0.01;
  EXPECT_EQ(ComputeEarlyFeatures(cell).status().code(),
            absl::StatusCode::kFailedPrecondition);

  EXPECT_EQ(ComputeEarlyFeatures(SyntheticCell(), 100, 10).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ionloop::models
