#include "models/data/elastic_net.h"

#include <cmath>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/data/dataset_readers.h"

namespace ionloop::models {
namespace {

std::string SharedData(const std::string& sub) {
  return std::string(IONLOOP_SHARED_DATA_DIR) + "/" + sub;
}

#define SKIP_WITHOUT(sub)                                                          \
  if (std::error_code ec; !std::filesystem::exists(SharedData(sub), ec))           \
  GTEST_SKIP() << "shared data not found: " << SharedData(sub)                     \
               << " (real-data check skipped; synthetic tests still run)"

// y = 3 + 2·x0 − 0.5·x1 + 0·x2 + noise, x ~ N(0, scale_j²).
void LinearData(size_t n, double noise, unsigned seed, Matrix* x, std::vector<double>* y) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g(0, 1);
  *x = Matrix(n, 3);
  y->resize(n);
  for (size_t i = 0; i < n; ++i) {
    const double a = 10 * g(rng), b = 0.1 * g(rng), c = g(rng);
    x->at(i, 0) = static_cast<float>(a);
    x->at(i, 1) = static_cast<float>(b);
    x->at(i, 2) = static_cast<float>(c);
    (*y)[i] = 3 + 2 * x->at(i, 0) - 0.5 * x->at(i, 1) + noise * g(rng);
  }
}

TEST(ElasticNetTest, AlphaZeroIsLeastSquares) {
  Matrix x;
  std::vector<double> y;
  LinearData(200, 0, 1, &x, &y);
  ElasticNetOptions options;
  options.alpha = 0;
  auto m = ElasticNet::Fit(x, y, options);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_NEAR(m->intercept(), 3, 1e-6);
  EXPECT_NEAR(m->coefficients()[0], 2, 1e-6);
  EXPECT_NEAR(m->coefficients()[1], -0.5, 1e-5);
  EXPECT_NEAR(m->coefficients()[2], 0, 1e-6);
  const auto pred = m->Predict(x);
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(pred[i], y[i], 1e-5);
}

TEST(ElasticNetTest, LassoZeroesIrrelevantFeaturesAndLargeAlphaZeroesAll) {
  Matrix x;
  std::vector<double> y;
  LinearData(300, 0.5, 2, &x, &y);
  ElasticNetOptions options;
  options.alpha = 0.1;
  options.l1_ratio = 1;
  auto m = ElasticNet::Fit(x, y, options);
  ASSERT_TRUE(m.ok());
  EXPECT_NEAR(m->coefficients()[0], 2, 0.05);
  EXPECT_EQ(m->coefficients()[2], 0);
  options.alpha = 1e6;
  m = ElasticNet::Fit(x, y, options);
  ASSERT_TRUE(m.ok());
  for (double c : m->coefficients()) EXPECT_EQ(c, 0);
  double mean = 0;
  for (double v : y) mean += v / y.size();
  EXPECT_NEAR(m->intercept(), mean, 1e-9);
}

TEST(ElasticNetTest, RidgeShrinksTowardZero) {
  Matrix x;
  std::vector<double> y;
  LinearData(200, 0.1, 3, &x, &y);
  ElasticNetOptions options;
  options.l1_ratio = 0;
  options.alpha = 1;  // standardized β / (1 + alpha) for orthogonal-ish columns
  auto m = ElasticNet::Fit(x, y, options);
  ASSERT_TRUE(m.ok());
  EXPECT_GT(m->coefficients()[0], 0.8);
  EXPECT_LT(m->coefficients()[0], 1.2);
}

TEST(ElasticNetTest, RejectsBadInput) {
  Matrix x(3, 1);
  EXPECT_FALSE(ElasticNet::Fit(x, {1, 2}, {}).ok());
  EXPECT_FALSE(ElasticNet::Fit(Matrix(), {}, {}).ok());
  ElasticNetOptions bad;
  bad.l1_ratio = 2;
  EXPECT_FALSE(ElasticNet::Fit(x, {1, 2, 3}, bad).ok());
  x.at(0, 0) = NAN;
  EXPECT_FALSE(ElasticNet::Fit(x, {1, 2, 3}, {}).ok());
  ElasticNetCvOptions cv;
  cv.folds = 5;
  EXPECT_FALSE(FitElasticNetCv(Matrix(3, 1), {1, 2, 3}, cv).ok());
}

TEST(ElasticNetCvTest, PicksASmallAlphaForCleanDataAndALargeOneForPureNoise) {
  Matrix x;
  std::vector<double> y;
  LinearData(200, 0.1, 4, &x, &y);
  ElasticNetCvOptions cv;
  auto r = FitElasticNetCv(x, y, cv);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->alphas.size(), 50u);
  EXPECT_LT(r->best_alpha, r->alphas[10]);
  EXPECT_NEAR(r->model.coefficients()[0], 2, 0.05);

  std::mt19937 rng(5);
  std::normal_distribution<double> g(0, 1);
  for (double& v : y) v = g(rng);  // no relation to x
  r = FitElasticNetCv(x, y, cv);
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->best_alpha, r->alphas[30]) << "noise should be fitted with a heavy penalty";
}

// ---------------------------------------------------------------- Severson baselines

struct Errors {
  double rmse = 0, mape = 0;
};

template <typename Model>
Errors Evaluate(const Model& model, const std::vector<CellSeries>& cells) {
  Errors e;
  for (const CellSeries& cell : cells) {
    auto p = model.Predict(cell);
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) continue;
    e.rmse += std::pow(*p - cell.cycle_life, 2);
    e.mape += std::fabs(*p - cell.cycle_life) / cell.cycle_life;
  }
  e.rmse = std::sqrt(e.rmse / cells.size());
  e.mape = 100 * e.mape / cells.size();
  return e;
}

// test1 without its one premature failure (cycle life 148), which Severson et al. report
// separately; printed for comparison only.
std::vector<CellSeries> WithoutPrematureFailures(const std::vector<CellSeries>& cells) {
  std::vector<CellSeries> out;
  for (const CellSeries& c : cells) {
    if (c.cycle_life >= 200) out.push_back(c);
  }
  return out;
}

class SeversonBaselinesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT("severson");
    auto train = ReadSeversonDataset(SharedData("severson"), "train");
    ASSERT_TRUE(train.ok()) << train.status();
    auto test1 = ReadSeversonDataset(SharedData("severson"), "test1");
    ASSERT_TRUE(test1.ok()) << test1.status();
    train_ = *std::move(train);
    test1_ = *std::move(test1);
  }
  std::vector<CellSeries> train_, test1_;
};

TEST_F(SeversonBaselinesTest, VarianceModel) {
  SeversonVarianceModel model;
  ASSERT_TRUE(model.Fit(train_).ok());
  const Errors tr = Evaluate(model, train_);
  const Errors te = Evaluate(model, test1_);
  std::cout << "[ Severson variance model ] (Severson et al., Nature Energy 2019; published "
               "RMSE 103 / 138) coef "
            << model.model().coefficients()[0] << " intercept " << model.model().intercept()
            << "\n  train: RMSE " << tr.rmse << " cycles, MAPE " << tr.mape
            << " %\n  test1: RMSE " << te.rmse << " cycles, MAPE " << te.mape << " %\n";
  const Errors te42 = Evaluate(model, WithoutPrematureFailures(test1_));
  std::cout << "  test1 without the 148-cycle cell: RMSE " << te42.rmse << " cycles, MAPE "
            << te42.mape << " %\n";
  EXPECT_GT(tr.rmse, 90);
  EXPECT_LT(tr.rmse, 120);
  EXPECT_GT(te.rmse, 120);
  EXPECT_LT(te.rmse, 160);
  EXPECT_LT(model.model().coefficients()[0], 0) << "larger var ΔQ, shorter life";
}

TEST_F(SeversonBaselinesTest, DischargeModel) {
  SeversonDischargeModel model;
  ASSERT_TRUE(model.Fit(train_).ok());
  const Errors tr = Evaluate(model, train_);
  const Errors te = Evaluate(model, test1_);
  std::cout << "[ Severson discharge model ] (published RMSE 76 / 91) alpha "
            << model.cv_result().best_alpha << " l1_ratio "
            << model.cv_result().best_l1_ratio << " coefs";
  for (double c : model.cv_result().model.coefficients()) std::cout << " " << c;
  std::cout << "\n  train: RMSE " << tr.rmse << " cycles, MAPE " << tr.mape
            << " %\n  test1: RMSE " << te.rmse << " cycles, MAPE " << te.mape << " %\n";
  const Errors te42 = Evaluate(model, WithoutPrematureFailures(test1_));
  std::cout << "  test1 without the 148-cycle cell: RMSE " << te42.rmse << " cycles, MAPE "
            << te42.mape << " %\n";
  EXPECT_LT(tr.rmse, 110);
  EXPECT_LT(te.rmse, 200);
}

}  // namespace
}  // namespace ionloop::models
