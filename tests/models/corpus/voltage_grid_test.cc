#include "models/data/voltage_grid.h"

#include <cmath>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "instruments/cycler/random.h"

namespace ionloop::models {
namespace {

using instruments::cycler::VoltageCurve;
using ::testing::HasSubstr;

VoltageCurve Linear(double v0, double v1, double q_total, int n) {
  VoltageCurve c;
  c.cycle_index = 7;
  for (int i = 0; i < n; ++i) {
    const double f = static_cast<double>(i) / (n - 1);
    c.capacity_ah.push_back(f * q_total);
    c.voltage_v.push_back(v0 + f * (v1 - v0));
  }
  return c;
}

TEST(VoltageGridTest, LinearGridRunsFromHighToLow) {
  const std::vector<double> g = LinearVoltageGrid(4.2, 2.8, 8);
  ASSERT_EQ(g.size(), 8u);
  EXPECT_EQ(g.front(), 4.2);
  EXPECT_EQ(g.back(), 2.8);
  for (size_t i = 1; i < g.size(); ++i) EXPECT_NEAR(g[i - 1] - g[i], 0.2, 1e-12);
  EXPECT_TRUE(LinearVoltageGrid(4.2, 2.8, 0).empty());
  EXPECT_EQ(LinearVoltageGrid(4.2, 2.8, 1), std::vector<double>{4.2});
}

TEST(VoltageGridTest, InvertsALinearDischargeExactly) {
  const VoltageCurve c = Linear(4.0, 3.0, 2.0, 11);  // Q = 2 (4 - V)
  absl::StatusOr<DischargeCurve> q = ResampleToVoltageGrid(c, LinearVoltageGrid(3.9, 3.1, 9));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->cycle, 7);
  ASSERT_EQ(q->capacity_ah.size(), 9u);
  for (size_t i = 0; i < 9; ++i) {
    EXPECT_NEAR(q->capacity_ah[i], 2 * (4.0 - q->voltage_v[i]), 1e-12) << i;
  }
  // An increasing grid gives the same values in its own order.
  absl::StatusOr<DischargeCurve> up = ResampleToVoltageGrid(c, {3.1, 3.5, 3.9});
  ASSERT_TRUE(up.ok());
  EXPECT_NEAR(up->capacity_ah[0], 1.8, 1e-12);
  EXPECT_NEAR(up->capacity_ah[2], 0.2, 1e-12);
}

TEST(VoltageGridTest, ClampsOutsideTheCurvesRangeToItsEndCapacities) {
  const VoltageCurve c = Linear(4.0, 3.0, 2.0, 11);
  absl::StatusOr<DischargeCurve> q = ResampleToVoltageGrid(c, {4.5, 4.0, 3.0, 2.5});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->capacity_ah[0], 0.0);  // above the start: the first capacity
  EXPECT_EQ(q->capacity_ah[1], 0.0);
  EXPECT_NEAR(q->capacity_ah[2], 2.0, 1e-12);
  EXPECT_EQ(q->capacity_ah[3], 2.0);  // below the end: the total discharged
}

TEST(VoltageGridTest, NoisyCurveGivesAMonotoneAndAccurateQofV) {
  // A sloping discharge with 2 mV noise: non-monotone in places.
  VoltageCurve c = Linear(4.1, 2.9, 1.0, 400);
  instruments::cycler::Rng rng(3);
  for (double& v : c.voltage_v) v += 0.002 * rng.Normal();
  absl::StatusOr<DischargeCurve> q = ResampleToVoltageGrid(c, LinearVoltageGrid(4.0, 3.0, 200));
  ASSERT_TRUE(q.ok());
  for (size_t i = 1; i < q->capacity_ah.size(); ++i) {
    EXPECT_GE(q->capacity_ah[i], q->capacity_ah[i - 1]) << i;
  }
  for (size_t i = 0; i < q->capacity_ah.size(); ++i) {
    const double truth = (4.1 - q->voltage_v[i]) / 1.2;
    EXPECT_NEAR(q->capacity_ah[i], truth, 0.01) << q->voltage_v[i];
  }
}

TEST(VoltageGridTest, FlatPlateauMapsToItsStart) {
  VoltageCurve c;
  c.capacity_ah = {0, 0.1, 0.5, 0.9, 1.0};
  c.voltage_v = {3.5, 3.3, 3.3, 3.3, 2.5};
  absl::StatusOr<DischargeCurve> q = ResampleToVoltageGrid(c, {3.4, 3.3, 3.0});
  ASSERT_TRUE(q.ok());
  EXPECT_NEAR(q->capacity_ah[0], 0.05, 1e-12);
  EXPECT_NEAR(q->capacity_ah[1], 0.1, 1e-12);
  EXPECT_NEAR(q->capacity_ah[2], 0.9 + 0.1 * 0.3 / 0.8, 1e-12);
}

TEST(VoltageGridTest, RefusesMalformedInput) {
  VoltageCurve c = Linear(4.0, 3.0, 1.0, 5);
  VoltageCurve bad = c;
  bad.voltage_v.pop_back();
  EXPECT_THAT(ResampleToVoltageGrid(bad, {3.5}).status().message(), HasSubstr("voltage_v has 4"));
  bad = c;
  bad.capacity_ah[2] = NAN;
  EXPECT_THAT(ResampleToVoltageGrid(bad, {3.5}).status().message(), HasSubstr("point 2"));
  bad = c;
  bad.capacity_ah[3] = 0.1;
  EXPECT_THAT(ResampleToVoltageGrid(bad, {3.5}).status().message(), HasSubstr("capacity_ah[3]"));
  EXPECT_THAT(ResampleToVoltageGrid(c, {3.5, 3.6, 3.4}).status().message(), HasSubstr("grid[2]"));
  EXPECT_EQ(ResampleToVoltageGrid(c, {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ResampleToVoltageGrid(Linear(4, 3, 1, 1), {3.5}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ionloop::models
