#include "models/data/capacity_series.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ionloop::models {
namespace {

using ::testing::ElementsAre;

std::string SharedData(const std::string& sub) {
  return std::string(IONLOOP_SHARED_DATA_DIR) + "/" + sub;
}

#define SKIP_WITHOUT(sub)                                                          \
  if (std::error_code ec; !std::filesystem::exists(SharedData(sub), ec))           \
  GTEST_SKIP() << "shared data not found: " << SharedData(sub)                     \
               << " (real-data check skipped; synthetic tests still run)"

// Reads columns `cycle_col` and `cap_col` (0-based) of a CSV with one header row.
void ReadColumns(const std::string& path, int cycle_col, int cap_col,
                 std::vector<double>* cycles, std::vector<double>* capacity) {
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream ss(line);
    std::string f;
    while (std::getline(ss, f, ',')) fields.push_back(f);
    ASSERT_GT(static_cast<int>(fields.size()), std::max(cycle_col, cap_col)) << line;
    cycles->push_back(std::stod(fields[cycle_col]));
    capacity->push_back(std::stod(fields[cap_col]));
  }
}

std::vector<double> SyntheticFade(int n, double noise, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> gauss(0, noise);
  std::vector<double> q(n);
  for (int i = 0; i < n; ++i) {
    const double c = i + 1;
    q[i] = 1.1 - 1e-4 * c - 2e-9 * c * c * c + gauss(rng);  // slow fade, then a knee
  }
  return q;
}

// ---------------------------------------------------------------- Hampel

TEST(HampelFilterTest, ReplacesIsolatedSpikesWithTheLocalMedian) {
  std::vector<double> q = SyntheticFade(300, 0.002, 1);
  const std::vector<double> clean = q;
  q[50] -= 0.15;   // a dip like CALCE CS2_38 cycle 118
  q[200] += 0.08;  // a spike
  std::vector<int> replaced;
  auto out = HampelFilter(q, 5, 3, &replaced);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(replaced, ElementsAre(50, 200));
  EXPECT_NEAR((*out)[50], clean[50], 0.01);
  EXPECT_NEAR((*out)[200], clean[200], 0.01);
}

TEST(HampelFilterTest, WithoutTheRelativeFloorItIsTheTextbookFilter) {
  // A 0.5 % dip on a noiseless slope: under the 2 % floor, caught by the pure 3σ rule.
  std::vector<double> q(100);
  for (int i = 0; i < 100; ++i) q[i] = 1.0 - 0.0001 * i;
  q[40] -= 0.005;
  std::vector<int> replaced;
  ASSERT_TRUE(HampelFilter(q, 5, 3, &replaced).ok());
  EXPECT_TRUE(replaced.empty());
  auto out = HampelFilter(q, 5, 3, &replaced, /*min_relative_deviation=*/0);
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(replaced, ElementsAre(40));
  EXPECT_NEAR((*out)[40], 0.996, 2e-4);  // the window's median
}

TEST(HampelFilterTest, LeavesASmoothSeriesAndAFlatOneAlone) {
  std::vector<double> smooth(100), flat(100, 1.0);
  for (int i = 0; i < 100; ++i) smooth[i] = 1.0 - 0.001 * i;
  std::vector<int> replaced;
  ASSERT_TRUE(HampelFilter(smooth, 5, 3, &replaced).ok());
  EXPECT_TRUE(replaced.empty());
  auto out = HampelFilter(flat, 5, 3, &replaced);
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(replaced.empty());
  EXPECT_EQ(*out, flat);
}

TEST(HampelFilterTest, RejectsBadArguments) {
  EXPECT_EQ(HampelFilter({1, 2, 3}, 0, 3).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HampelFilter({1, 2, 3}, 2, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HampelFilter({1, 2, 3}, 2, 3, nullptr, -1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HampelFilter({1, NAN, 3}, 2, 3).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto empty = HampelFilter({}, 2, 3);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(HampelFilterRealDataTest, CatchesTheCalceCs2_38DipAtCycle118) {
  SKIP_WITHOUT("calce_cs2_summary");
  std::vector<double> cycles, q;
  ReadColumns(SharedData("calce_cs2_summary/CS2_38.csv"), 1, 2, &cycles, &q);
  ASSERT_GT(q.size(), 900u);
  std::vector<int> replaced;
  auto out = HampelFilter(q, 5, 3, &replaced);
  ASSERT_TRUE(out.ok()) << out.status();
  int at118 = -1;
  for (size_t i = 0; i < cycles.size(); ++i) {
    if (cycles[i] == 118) at118 = static_cast<int>(i);
  }
  ASSERT_GE(at118, 0);
  EXPECT_THAT(replaced, ::testing::Contains(at118));
  EXPECT_LT(q[at118], 0.9);
  EXPECT_GT((*out)[at118], 1.0);  // neighbours are ~1.02-1.03 Ah
  EXPECT_LT((*out)[at118], 1.04);
  std::ostringstream list;
  for (int i : replaced) list << cycles[i] << " ";
  std::cout << "[ CS2_38 ] Hampel(5, 3σ, 2 % floor) replaced " << replaced.size() << " of " << q.size()
            << " points, cycle 118: " << q[at118] << " -> " << (*out)[at118]
            << " Ah; cycles: " << list.str() << "\n";
  EXPECT_LE(replaced.size(), 10u) << "ordinary points flagged";
}

TEST(HampelFilterRealDataTest, FewFalsePositivesOnNasaB0005) {
  SKIP_WITHOUT("nasa_pcoe_summary");
  std::vector<double> cycles, q;
  ReadColumns(SharedData("nasa_pcoe_summary/B0005.csv"), 0, 4, &cycles, &q);
  ASSERT_GT(q.size(), 150u);
  std::vector<int> replaced;
  ASSERT_TRUE(HampelFilter(q, 5, 3, &replaced).ok());
  std::ostringstream list;
  for (int i : replaced) list << cycles[i] << " ";
  std::cout << "[ B0005 ] Hampel(5, 3σ, 2 % floor) replaced " << replaced.size() << " of " << q.size()
            << " points: cycles " << list.str() << "\n";
  // B0005 has real capacity recovery after rest periods; those jumps are not errors and
  // should mostly survive.
  EXPECT_LE(replaced.size(), 4u);
}

// ---------------------------------------------------------------- Savitzky–Golay

TEST(SavitzkyGolayTest, PreservesPolynomialsOfItsOrderEverywhereIncludingEdges) {
  for (int order : {0, 1, 2, 3}) {
    std::vector<double> y(40);
    for (int i = 0; i < 40; ++i) {
      const double x = i;
      y[i] = 0.7 + (order >= 1 ? 0.05 * x : 0) + (order >= 2 ? -0.003 * x * x : 0) +
             (order >= 3 ? 2e-5 * x * x * x : 0);
    }
    auto out = SavitzkyGolay(y, 9, order);
    ASSERT_TRUE(out.ok()) << out.status();
    for (int i = 0; i < 40; ++i) EXPECT_NEAR((*out)[i], y[i], 1e-9) << "order " << order;
  }
}

TEST(SavitzkyGolayTest, ReducesNoiseVariance) {
  const std::vector<double> clean = SyntheticFade(500, 0, 0);
  const std::vector<double> noisy = SyntheticFade(500, 0.005, 7);
  auto out = SavitzkyGolay(noisy, 11, 2);
  ASSERT_TRUE(out.ok());
  double before = 0, after = 0;
  for (size_t i = 0; i < clean.size(); ++i) {
    before += std::pow(noisy[i] - clean[i], 2);
    after += std::pow((*out)[i] - clean[i], 2);
  }
  // Window 11, order 2: the white-noise variance ratio is about 0.2 in the interior.
  EXPECT_LT(after, 0.35 * before);
}

TEST(SavitzkyGolayTest, ShortSeriesAndBadArguments) {
  auto short_out = SavitzkyGolay({1.0, 2.0, 3.0, 4.0}, 11, 2);
  ASSERT_TRUE(short_out.ok());
  EXPECT_EQ(short_out->size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR((*short_out)[i], i + 1.0, 1e-9);
  auto one = SavitzkyGolay({5.0}, 11, 2);
  ASSERT_TRUE(one.ok());
  EXPECT_THAT(*one, ElementsAre(5.0));
  EXPECT_EQ(SavitzkyGolay({1, 2, 3}, 4, 2).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SavitzkyGolay({1, 2, 3}, 5, 5).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------- SOH percentiles

TEST(UndersampleTest, LinearFadeGivesExactCrossings) {
  // 1 % SOH per 10 cycles from 100 % at cycle 1: level L at cycle 1 + 10·(100 − L).
  std::vector<double> cycles, q;
  for (int c = 1; c <= 300; c += 3) {
    cycles.push_back(c);
    q.push_back(2.0 * (1 - 0.001 * (c - 1)));
  }
  auto points = UndersampleToSohPercentiles(cycles, q, 2.0, 80);
  ASSERT_TRUE(points.ok()) << points.status();
  ASSERT_EQ(points->size(), 21u);  // 100..80
  for (int k = 0; k <= 20; ++k) {
    EXPECT_DOUBLE_EQ((*points)[k].soh_percent, 100 - k);
    EXPECT_NEAR((*points)[k].cycle, 1 + 10.0 * k, 1e-9);
  }
}

TEST(UndersampleTest, StopsAtTheLastReachedLevelAndMapsHighLevelsToTheFirstCycle) {
  // Starts at 97 % (reference larger than the first cycle), ends at 94.5 %.
  const std::vector<double> cycles = {5, 6, 7, 8};
  const std::vector<double> q = {0.97, 0.96, 0.95, 0.945};
  auto points = UndersampleToSohPercentiles(cycles, q, 1.0, 80);
  ASSERT_TRUE(points.ok());
  ASSERT_EQ(points->size(), 6u);  // 100, 99, 98, 97 → cycle 5; 96 → 6; 95 → 7
  for (int k = 0; k < 4; ++k) EXPECT_DOUBLE_EQ((*points)[k].cycle, 5);
  EXPECT_NEAR((*points)[4].cycle, 6, 1e-9);
  EXPECT_NEAR((*points)[5].cycle, 7, 1e-9);
}

TEST(UndersampleTest, FirstCrossingIsKeptAndCyclesAreMonotone) {
  // Drops to 95 %, recovers to 99 % after a rest, then fades: level 96 is the first drop.
  const std::vector<double> cycles = {1, 2, 3, 4, 5, 6};
  const std::vector<double> q = {1.0, 0.95, 0.99, 0.97, 0.93, 0.90};
  auto points = UndersampleToSohPercentiles(cycles, q, 1.0, 90, 1);
  ASSERT_TRUE(points.ok());
  ASSERT_EQ(points->size(), 11u);
  EXPECT_NEAR((*points)[4].cycle, 1.8, 1e-9);  // 96 % between cycles 1 and 2
  for (size_t k = 1; k < points->size(); ++k) {
    EXPECT_GE((*points)[k].cycle, (*points)[k - 1].cycle);
  }
  EXPECT_NEAR(points->back().cycle, 6, 1e-9);
}

TEST(UndersampleTest, RejectsBadInput) {
  EXPECT_FALSE(UndersampleToSohPercentiles({}, {}, 1, 80).ok());
  EXPECT_FALSE(UndersampleToSohPercentiles({1, 2}, {1}, 1, 80).ok());
  EXPECT_FALSE(UndersampleToSohPercentiles({2, 1}, {1, 1}, 1, 80).ok());
  EXPECT_FALSE(UndersampleToSohPercentiles({1, 2}, {1, 1}, 0, 80).ok());
  EXPECT_FALSE(UndersampleToSohPercentiles({1, 2}, {1, 1}, 1, 0).ok());
  EXPECT_FALSE(UndersampleToSohPercentiles({1, 2}, {1, 1}, 1, 80, 0).ok());
}

// ---------------------------------------------------------------- Cleaning

TEST(CleanCapacitySeriesTest, RemovesOutlierThenSmooths) {
  CellSeries cell;
  cell.id = "synthetic";
  const std::vector<double> clean = SyntheticFade(200, 0, 0);
  cell.capacity_ah = SyntheticFade(200, 0.002, 3);
  for (int i = 0; i < 200; ++i) cell.cycles.push_back(i + 1);
  cell.capacity_ah[120] -= 0.2;
  std::vector<int> replaced;
  auto out = CleanCapacitySeries(cell, {}, &replaced);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(replaced, ::testing::Contains(120));
  for (int i = 0; i < 200; ++i) EXPECT_NEAR(out->capacity_ah[i], clean[i], 0.004) << i;
  EXPECT_EQ(out->cycles, cell.cycles);

  cell.cycles.pop_back();
  EXPECT_EQ(CleanCapacitySeries(cell).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ReferenceCapacityTest, NominalElseMedianOfFirstFive) {
  CellSeries cell;
  cell.config.nominal_capacity_ah = 1.1;
  cell.capacity_ah = {0.5, 1.0, 1.02, 1.01, 1.03, 0.2};
  EXPECT_DOUBLE_EQ(*ReferenceCapacity(cell), 1.1);
  cell.config.nominal_capacity_ah = 0;
  EXPECT_DOUBLE_EQ(*ReferenceCapacity(cell), 1.01);
  cell.capacity_ah.clear();
  EXPECT_EQ(ReferenceCapacity(cell).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace ionloop::models
