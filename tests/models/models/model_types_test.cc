#include "models/model_types.h"

#include <cmath>

#include "gtest/gtest.h"

namespace ionloop::models {
namespace {

EvaluatedPoint Point(double soh, double truth, double predicted, double log_sd) {
  EvaluatedPoint p;
  p.soh_percent = soh;
  p.true_cycles = truth;
  p.predicted_cycles = predicted;
  p.predicted_log10_mean = std::log10(predicted);
  p.predicted_log10_stddev = log_sd;
  p.scored = IsScored(soh, truth);
  return p;
}

TEST(IsScoredTest, ExcludesTheStartAndTinyCycleCounts) {
  EXPECT_FALSE(IsScored(100, 500));
  EXPECT_FALSE(IsScored(99.5, 500));
  EXPECT_TRUE(IsScored(99, 500));
  EXPECT_FALSE(IsScored(95, 3));
  EXPECT_TRUE(IsScored(95, kDefaultMinScoredCycles));
  EXPECT_TRUE(IsScored(80, 19, 99, 10));
}

TEST(SummarizeTest, OnlyScoredPointsCount) {
  Evaluation e;
  e.points.push_back(Point(90, 100, 110, 0.1));  // 10 %
  e.points.push_back(Point(80, 200, 180, 0.1));  // 10 %
  e.points.push_back(Point(99, 3, 30, 0.1));     // 900 %, but under the floor
  e.points.push_back(Point(100, 40, 1, 0.1));    // SOH 100 %: not a crossing
  Summarize(&e);
  EXPECT_EQ(e.points_scored, 2);
  EXPECT_NEAR(e.mape_percent, 10, 1e-9);
  EXPECT_NEAR(e.rmse_cycles, std::sqrt((100.0 + 400.0) / 2), 1e-9);
}

TEST(SummarizeTest, CoverageIsCountedInLog10Space) {
  Evaluation e;
  // Truth 100; predicted median 125 (log error 0.0969): inside 1σ = 0.1, not inside
  // 1σ = 0.09; 1.96σ = 0.176 covers it in both.
  e.points.push_back(Point(90, 100, 125, 0.1));
  e.points.push_back(Point(90, 100, 125, 0.09));
  Summarize(&e);
  EXPECT_DOUBLE_EQ(e.coverage_68, 0.5);
  EXPECT_DOUBLE_EQ(e.coverage_95, 1.0);
}

TEST(SummarizeTest, FallsBackToCyclesWithoutLogStddev) {
  Evaluation e;
  EvaluatedPoint p;
  p.soh_percent = 80;
  p.true_cycles = 100;
  p.predicted_cycles = 110;
  p.predicted_stddev = 6;  // 10 > 6 but 10 < 1.96·6
  e.points.push_back(p);
  Summarize(&e);
  EXPECT_DOUBLE_EQ(e.coverage_68, 0);
  EXPECT_DOUBLE_EQ(e.coverage_95, 1);
}

TEST(SummarizeTest, NoScoredPointsGivesZeros) {
  Evaluation e;
  e.points.push_back(Point(100, 2, 3, 0.1));
  Summarize(&e);
  EXPECT_EQ(e.points_scored, 0);
  EXPECT_EQ(e.mape_percent, 0);
}

}  // namespace
}  // namespace ionloop::models
