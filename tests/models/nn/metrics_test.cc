#include "models/nn/metrics.h"

#include <cmath>

#include "gtest/gtest.h"

namespace ionloop::models {
namespace {

TEST(MetricsTest, RmseMaeMape) {
  const std::vector<float> truth = {100, 200, 400};
  const std::vector<float> pred = {110, 180, 400};
  EXPECT_NEAR(*Rmse(truth, pred), std::sqrt((100.0 + 400.0) / 3), 1e-9);
  EXPECT_NEAR(*Mae(truth, pred), 10.0, 1e-9);
  EXPECT_NEAR(*Mape(truth, pred), 100.0 * (0.1 + 0.1) / 3, 1e-9);
}

TEST(MetricsTest, IntervalCoverage) {
  const std::vector<float> truth = {0, 1, 2, 3};
  const std::vector<float> mean = {0, 0, 0, 0};
  const std::vector<float> sd = {1, 1, 1, 1};
  EXPECT_DOUBLE_EQ(*IntervalCoverage(truth, mean, sd, 1.0), 0.5);    // 0 and 1 inside
  EXPECT_DOUBLE_EQ(*IntervalCoverage(truth, mean, sd, 1.96), 0.5);
  EXPECT_DOUBLE_EQ(*IntervalCoverage(truth, mean, sd, 3.0), 1.0);
  EXPECT_DOUBLE_EQ(*IntervalCoverage(truth, mean, sd, 0.0), 0.25);
}

TEST(MetricsTest, GaussianNllOfStandardNormalAtMean) {
  EXPECT_NEAR(*GaussianNll({0}, {0}, {1}), 0.5 * std::log(2 * M_PI), 1e-9);
}

TEST(MetricsTest, BadInputsNameTheProblem) {
  auto s = Rmse({1, 2}, {1});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("predicted has 1 values"), std::string::npos);
  EXPECT_FALSE(Rmse({}, {}).ok());
  auto m = Mape({0, 1}, {1, 1});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("truth[0] = 0"), std::string::npos);
  auto c = IntervalCoverage({1}, {1}, {-1}, 1.0);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("stddev[0] = -1"), std::string::npos);
  EXPECT_FALSE(IntervalCoverage({1}, {1}, {1}, -1.0).ok());
  EXPECT_FALSE(GaussianNll({1}, {1}, {0}).ok());
}

}  // namespace
}  // namespace ionloop::models
