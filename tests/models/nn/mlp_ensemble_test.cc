#include "models/nn/mlp_ensemble.h"

#include <cmath>
#include <random>
#include <iostream>
#include <thread>

#include "gtest/gtest.h"
#include "models/nn/metrics.h"

namespace ionloop::models {
namespace {

struct Data {
  Matrix x;
  std::vector<float> y;
};

// y = sin(x) + N(0, noise²), x uniform in [lo, hi].
Data Sine(int n, double lo, double hi, double noise, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::normal_distribution<double> g(0, noise);
  Data d{Matrix(n, 1), std::vector<float>(n)};
  for (int i = 0; i < n; ++i) {
    const double x = u(rng);
    d.x.at(i, 0) = static_cast<float>(x);
    d.y[i] = static_cast<float>(std::sin(x) + g(rng));
  }
  return d;
}

Matrix Grid(double lo, double hi, int n) {
  Matrix m(n, 1);
  for (int i = 0; i < n; ++i) m.at(i, 0) = static_cast<float>(lo + (hi - lo) * i / (n - 1));
  return m;
}

EnsembleOptions Small() {
  EnsembleOptions o;
  o.members = 4;
  o.hidden = {32, 32};
  o.max_epochs = 250;
  o.batch_size = 32;
  o.learning_rate = 3e-3;
  o.patience = 30;
  o.seed = 7;
  o.threads = 1;
  return o;
}

double Mean(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += x;
  return s / v.size();
}

TEST(MlpEnsembleTest, FitsNoisySineAndSpreadGrowsAwayFromData) {
  const Data d = Sine(300, -3, 3, 0.1, 1);
  auto model = MlpEnsemble::Train(d.x, d.y, Small());
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->input_dim(), 1);
  EXPECT_EQ(model->members(), 4);

  const Matrix inside = Grid(-2.5, 2.5, 101);
  const auto p = model->Predict(inside);
  std::vector<float> truth;
  for (size_t i = 0; i < inside.rows; ++i) truth.push_back(std::sin(inside.at(i, 0)));
  EXPECT_LT(*Rmse(truth, p.mean), 0.1);
  for (float s : p.stddev) EXPECT_GT(s, 0);

  // Extrapolation: the members disagree far from the data.
  const auto far = model->Predict(Grid(8, 10, 21));
  EXPECT_GT(Mean(far.stddev), 3 * Mean(p.stddev));
}

TEST(MlpEnsembleTest, DeterministicForASeed) {
  const Data d = Sine(80, -3, 3, 0.1, 2);
  EnsembleOptions o = Small();
  o.members = 2;
  o.max_epochs = 20;
  auto a = MlpEnsemble::Train(d.x, d.y, o);
  auto b = MlpEnsemble::Train(d.x, d.y, o);
  o.seed = 8;
  auto c = MlpEnsemble::Train(d.x, d.y, o);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  const Matrix g = Grid(-3, 3, 17);
  const auto pa = a->Predict(g), pb = b->Predict(g), pc = c->Predict(g);
  EXPECT_EQ(pa.mean, pb.mean);
  EXPECT_EQ(pa.stddev, pb.stddev);
  EXPECT_NE(pa.mean, pc.mean);
  EXPECT_EQ(*a->Serialize(), *b->Serialize());
}

TEST(MlpEnsembleTest, SerializeRoundTripsExactly) {
  const Data d = Sine(60, -3, 3, 0.1, 3);
  EnsembleOptions o = Small();
  o.members = 3;
  o.hidden = {8, 4};
  o.max_epochs = 10;
  auto model = MlpEnsemble::Train(d.x, d.y, o);
  ASSERT_TRUE(model.ok());
  auto bytes = model->Serialize();
  ASSERT_TRUE(bytes.ok());
  auto back = MlpEnsemble::Deserialize(*bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->members(), 3);
  EXPECT_EQ(back->hidden(), (std::vector<int>{8, 4}));
  EXPECT_TRUE(back->heteroscedastic());
  const Matrix g = Grid(-5, 5, 33);
  const auto p1 = model->Predict(g), p2 = back->Predict(g);
  EXPECT_EQ(p1.mean, p2.mean);
  EXPECT_EQ(p1.stddev, p2.stddev);
  EXPECT_EQ(*back->Serialize(), *bytes);

  auto clone = model->Clone();
  ASSERT_TRUE(clone.ok());
  EXPECT_EQ(clone->Predict(g).mean, p1.mean);

  // Corrupt input is INVALID_ARGUMENT, never a crash.
  EXPECT_EQ(MlpEnsemble::Deserialize("nonsense").status().code(),
            absl::StatusCode::kInvalidArgument);
  for (size_t cut : {size_t{10}, size_t{30}, bytes->size() / 2, bytes->size() - 1}) {
    EXPECT_EQ(MlpEnsemble::Deserialize(bytes->substr(0, cut)).status().code(),
              absl::StatusCode::kInvalidArgument)
        << cut;
  }
  EXPECT_EQ(MlpEnsemble::Deserialize(*bytes + "x").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MlpEnsembleTest, ProgressCanCancel) {
  const Data d = Sine(60, -3, 3, 0.1, 4);
  EnsembleOptions o = Small();
  o.members = 3;
  int calls = 0;
  auto model = MlpEnsemble::Train(d.x, d.y, o, [&](const TrainProgress& p) {
    ++calls;
    EXPECT_EQ(p.members, 3);
    EXPECT_TRUE(std::isfinite(p.train_loss));
    EXPECT_TRUE(std::isfinite(p.validation_loss));
    return !(p.member == 1 && p.epoch == 3);
  });
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kCancelled);
  EXPECT_NE(model.status().message().find("member 1, epoch 3"), std::string::npos);
}

TEST(MlpEnsembleTest, CalibratedOnHeteroscedasticData) {
  // y = x + N(0, (0.05 + 0.4·|x|)²): the noise grows with |x|.
  auto make = [](int n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(-2, 2);
    std::normal_distribution<double> g(0, 1);
    Data d{Matrix(n, 1), std::vector<float>(n)};
    for (int i = 0; i < n; ++i) {
      const double x = u(rng);
      d.x.at(i, 0) = static_cast<float>(x);
      d.y[i] = static_cast<float>(x + (0.05 + 0.4 * std::fabs(x)) * g(rng));
    }
    return d;
  };
  const Data train = make(600, 5), test = make(2000, 6);
  EnsembleOptions o = Small();
  o.members = 3;
  o.hidden = {32};
  o.max_epochs = 150;
  o.batch_size = 64;
  auto model = MlpEnsemble::Train(train.x, train.y, o);
  ASSERT_TRUE(model.ok());
  const auto p = model->Predict(test.x);
  const double c68 = *IntervalCoverage(test.y, p.mean, p.stddev, 1.0);
  const double c95 = *IntervalCoverage(test.y, p.mean, p.stddev, 1.96);
  std::cout << "coverage: 68% interval " << c68 << ", 95% interval " << c95 << "\n";
  EXPECT_GT(c68, 0.5);
  EXPECT_LT(c68, 0.9);
  EXPECT_GT(c95, 0.85);
  // The spread follows the noise: larger at |x| = 1.8 than at x = 0.
  Matrix probe(2, 1);
  probe.at(0, 0) = 0;
  probe.at(1, 0) = 1.8f;
  const auto q = model->Predict(probe);
  EXPECT_GT(q.stddev[1], 2 * q.stddev[0]);
}

TEST(MlpEnsembleTest, HomoscedasticModeUsesResidualVariance) {
  const Data d = Sine(200, -3, 3, 0.2, 9);
  EnsembleOptions o = Small();
  o.heteroscedastic = false;
  o.members = 3;
  auto model = MlpEnsemble::Train(d.x, d.y, o);
  ASSERT_TRUE(model.ok());
  EXPECT_FALSE(model->heteroscedastic());
  const auto p = model->Predict(Grid(-2, 2, 41));
  for (float s : p.stddev) {
    EXPECT_GT(s, 0.1);
    EXPECT_LT(s, 0.5);
  }
  auto back = MlpEnsemble::Deserialize(*model->Serialize());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->Predict(Grid(-2, 2, 41)).stddev, p.stddev);
}

TEST(MlpEnsembleTest, FineTuneMovesTowardNewData) {
  // Trained on y = sin(x); the "new chemistry" is y = sin(x) + 1.
  const Data d = Sine(200, -3, 3, 0.05, 10);
  EnsembleOptions o = Small();
  o.members = 2;
  o.max_epochs = 100;
  auto model = MlpEnsemble::Train(d.x, d.y, o);
  ASSERT_TRUE(model.ok());
  Data shifted = Sine(60, -3, 3, 0.05, 11);
  for (float& y : shifted.y) y += 1;
  const Matrix g = Grid(-2.5, 2.5, 51);
  std::vector<float> truth;
  for (size_t i = 0; i < g.rows; ++i) truth.push_back(std::sin(g.at(i, 0)) + 1);
  const double before = *Rmse(truth, model->Predict(g).mean);
  o.max_epochs = 100;
  ASSERT_TRUE(model->FineTune(shifted.x, shifted.y, o).ok());
  const double after = *Rmse(truth, model->Predict(g).mean);
  EXPECT_GT(before, 0.8);
  EXPECT_LT(after, 0.3);

  Matrix wrong(10, 2);
  auto st = model->FineTune(wrong, std::vector<float>(10, 0), o);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("x.cols = 2"), std::string::npos);
}

TEST(MlpEnsembleTest, RejectsBadInputWithNamedField) {
  EnsembleOptions o = Small();
  Matrix x(10, 2);
  std::vector<float> y(10, 1);
  auto check = [&](const Matrix& xx, const std::vector<float>& yy, const EnsembleOptions& oo,
                   const std::string& needle) {
    auto m = MlpEnsemble::Train(xx, yy, oo);
    ASSERT_FALSE(m.ok()) << needle;
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(m.status().message().find(needle), std::string::npos) << m.status();
  };
  check(x, std::vector<float>(9, 1), o, "y has 9 values but x has 10 rows");
  check(Matrix(3, 2), std::vector<float>(3, 1), o, "x.rows = 3");
  Matrix bad = x;
  bad.at(4, 1) = NAN;
  check(bad, y, o, "x[4][1] = nan");
  std::vector<float> bad_y = y;
  bad_y[2] = INFINITY;
  check(x, bad_y, o, "y[2] = inf");
  EnsembleOptions bo = o;
  bo.members = 0;
  check(x, y, bo, "members = 0");
  bo = o;
  bo.hidden = {8, 0};
  check(x, y, bo, "hidden[1] = 0");
  bo = o;
  bo.learning_rate = -1;
  check(x, y, bo, "learning_rate = -1");
  bo = o;
  bo.validation_fraction = 1.0;
  check(x, y, bo, "validation_fraction = 1");
}

TEST(MlpEnsembleTest, PredictsManyRowsAndIsThreadSafe) {
  const Data d = Sine(60, -3, 3, 0.1, 12);
  EnsembleOptions o = Small();
  o.members = 5;
  o.max_epochs = 5;
  auto model = MlpEnsemble::Train(d.x, d.y, o);
  ASSERT_TRUE(model.ok());
  const Matrix big = Grid(-4, 4, 100000);
  const auto reference = model->Predict(big);
  ASSERT_EQ(reference.mean.size(), 100000u);
  for (size_t i = 0; i < big.rows; i += 997) {
    EXPECT_TRUE(std::isfinite(reference.mean[i]));
    EXPECT_GT(reference.stddev[i], 0);
  }
  // The batched path agrees with a one-row-at-a-time prediction.
  Matrix one(1, 1);
  one.at(0, 0) = big.at(12345, 0);
  EXPECT_NEAR(model->Predict(one).mean[0], reference.mean[12345], 1e-5);
  // Members: their average is the ensemble mean.
  const auto members = model->PredictMembers(one);
  ASSERT_EQ(members.size(), 5u);
  double avg = 0;
  for (const auto& m : members) avg += m[0] / 5.0;
  EXPECT_NEAR(avg, model->Predict(one).mean[0], 1e-5);

  std::vector<std::thread> threads;
  std::vector<MlpEnsemble::Prediction> results(4);
  const Matrix g = Grid(-3, 3, 5000);
  const auto expected = model->Predict(g);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] { results[t] = model->Predict(g); });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) EXPECT_EQ(r.mean, expected.mean);

  // A wrong column count is a programming error: NaN, not a crash.
  const auto wrong = model->Predict(Matrix(3, 2));
  ASSERT_EQ(wrong.mean.size(), 3u);
  EXPECT_TRUE(std::isnan(wrong.mean[0]));
}

}  // namespace
}  // namespace ionloop::models
