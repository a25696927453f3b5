#include "models/lifetime/lifetime_model.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "instruments/electrode_table.h"
#include "tests/testing/electrode_table.h"
#include "models/dataset_loader.h"

namespace ionloop::models {
namespace {

using instruments::ElectrodeTable;
using instruments::Ion;
using ::testing::HasSubstr;

const ElectrodeTable& Table() { return ionloop::testing::DefaultElectrodeTable(); }

// 96 virtual-cycler cells (Li + Na), generated once.
const std::vector<CellSeries>& Corpus() {
  static const std::vector<CellSeries>* corpus = [] {
    absl::StatusOr<std::vector<CellSeries>> c = LoadDataset("virtual:96:7", Table(), 2);
    EXPECT_TRUE(c.ok()) << c.status();
    return new std::vector<CellSeries>(c.ok() ? *std::move(c) : std::vector<CellSeries>());
  }();
  return *corpus;
}

LifetimeOptions SmallOptions() {
  LifetimeOptions o;
  o.training.members = 3;
  o.training.hidden = {32, 32};
  o.training.max_epochs = 80;
  o.training.patience = 15;
  o.training.learning_rate = 3e-3;
  o.training.threads = 1;
  o.training.seed = 5;
  return o;
}

// Cells 0..75 train, 76..95 test (the corpus order is the design's, not sorted).
std::vector<CellSeries> Part(bool test) {
  const std::vector<CellSeries>& c = Corpus();
  return test ? std::vector<CellSeries>(c.begin() + 76, c.end())
              : std::vector<CellSeries>(c.begin(), c.begin() + 76);
}

// One model for the tests that only read it.
const LifetimeModel& Trained() {
  static const LifetimeModel* model = [] {
    absl::StatusOr<LifetimeModel> m = LifetimeModel::Train(Part(false), Table(), SmallOptions());
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? new LifetimeModel(*std::move(m)) : nullptr;
  }();
  return *model;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

TEST(LifetimeModelTest, BeatsTheTrainingMedianPerSohLevelOnHeldOutCells) {
  const LifetimeModel& model = Trained();
  EXPECT_EQ(model.embedding_kind(), "encoder");
  EXPECT_GT(model.report().training_rows, 100);
  EXPECT_GT(model.report().validation_cells, 0);
  // The truths of the training cells (Evaluate lists them) give the baseline.
  absl::StatusOr<Evaluation> on_train = model.Evaluate(Part(false));
  ASSERT_TRUE(on_train.ok()) << on_train.status();
  std::map<long, std::vector<double>> by_level;
  for (const EvaluatedPoint& p : on_train->points) by_level[std::lround(p.soh_percent)].push_back(p.true_cycles);

  absl::StatusOr<Evaluation> e = model.Evaluate(Part(true));
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_GT(e->points_scored, 20);
  Evaluation baseline;
  for (const EvaluatedPoint& p : e->points) {
    auto it = by_level.find(std::lround(p.soh_percent));
    if (it == by_level.end()) continue;
    EvaluatedPoint b = p;
    b.predicted_cycles = Median(it->second);
    b.predicted_log10_stddev = 0;
    baseline.points.push_back(b);
  }
  Summarize(&baseline);
  std::printf("held-out MAPE %.1f %% (median per level %.1f %%), coverage %.2f/%.2f, %d points\n",
              e->mape_percent, baseline.mape_percent, e->coverage_68, e->coverage_95,
              e->points_scored);
  EXPECT_LT(e->mape_percent, baseline.mape_percent);
  EXPECT_GT(e->coverage_95, 0.3);
  // Unscored truths are still listed.
  for (const EvaluatedPoint& p : e->points) {
    EXPECT_EQ(p.scored, IsScored(p.soh_percent, p.true_cycles)) << p.cell_id;
  }
}

TEST(LifetimeModelTest, PredictionsAreMonotoneInSoh) {
  const LifetimeModel& model = Trained();
  std::vector<LifetimeQuery> queries;
  for (const CellSeries& c : Part(true)) queries.push_back({c.config, c.loading_level});
  std::vector<double> levels;
  for (double s = 100; s >= 55; s -= 0.5) levels.push_back(s);
  levels.push_back(72.25);  // off the grid
  absl::StatusOr<std::vector<std::vector<SohCycles>>> p = model.Predict(queries, levels);
  ASSERT_TRUE(p.ok()) << p.status();
  for (size_t q = 0; q < queries.size(); ++q) {
    for (size_t a = 0; a < levels.size(); ++a) {
      for (size_t b = 0; b < levels.size(); ++b) {
        if (levels[a] < levels[b]) {
          EXPECT_GE((*p)[q][a].cycles_mean, (*p)[q][b].cycles_mean)
              << "query " << q << " at " << levels[a] << " vs " << levels[b];
        }
      }
      EXPECT_GT((*p)[q][a].cycles_stddev, 0);
      EXPECT_GT((*p)[q][a].log10_stddev, 0);
    }
  }
  // A level's answer does not depend on the other levels asked.
  absl::StatusOr<std::vector<std::vector<SohCycles>>> one = model.Predict(queries, {80});
  ASSERT_TRUE(one.ok());
  const size_t at80 = std::find(levels.begin(), levels.end(), 80.0) - levels.begin();
  for (size_t q = 0; q < queries.size(); ++q) {
    EXPECT_DOUBLE_EQ((*one)[q][0].cycles_mean, (*p)[q][at80].cycles_mean);
  }
}

TEST(LifetimeModelTest, SerializeRoundTripsExactly) {
  const LifetimeModel& model = Trained();
  absl::StatusOr<std::string> bytes = model.Serialize();
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  absl::StatusOr<LifetimeModel> back = LifetimeModel::Deserialize(*bytes, Table());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->feature_names(), model.feature_names());
  EXPECT_EQ(back->embedding_kind(), model.embedding_kind());
  EXPECT_EQ(back->report().training_rows, model.report().training_rows);
  EXPECT_EQ(back->report().mape_percent, model.report().mape_percent);
  EXPECT_EQ(*back->Serialize(), *bytes);
  std::vector<LifetimeQuery> queries;
  for (const CellSeries& c : Part(true)) queries.push_back({c.config, c.loading_level});
  auto a = model.Predict(queries, {95, 80.5, 70});
  auto b = back->Predict(queries, {95, 80.5, 70});
  ASSERT_TRUE(a.ok() && b.ok());
  for (size_t q = 0; q < queries.size(); ++q) {
    for (size_t l = 0; l < 3; ++l) {
      EXPECT_EQ((*a)[q][l].cycles_mean, (*b)[q][l].cycles_mean);
      EXPECT_EQ((*a)[q][l].cycles_stddev, (*b)[q][l].cycles_stddev);
    }
  }
  EXPECT_FALSE(LifetimeModel::Deserialize(bytes->substr(0, bytes->size() - 3), Table()).ok());
}

TEST(LifetimeModelTest, UnknownElectrodeIsNotFound) {
  LifetimeQuery q{Part(true)[0].config, 0};
  q.config.positive_electrode = "unobtainium";
  auto p = Trained().Predict({q}, {80});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound) << p.status();
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("unobtainium"));
}

TEST(LifetimeModelTest, LevelOutsideTheRangeIsInvalid) {
  LifetimeQuery q{Part(true)[0].config, 0};
  EXPECT_EQ(Trained().Predict({q}, {0}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Trained().Predict({q}, {101}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LifetimeModelTest, TooLittleDataIsInvalid) {
  // Two cells of one measured cycle each: no SOH crossing to learn from.
  std::vector<CellSeries> two(Corpus().begin(), Corpus().begin() + 2);
  for (CellSeries& c : two) {
    c.cycles.resize(1);
    c.capacity_ah.resize(1);
  }
  absl::StatusOr<LifetimeModel> m = LifetimeModel::Train(two, Table(), SmallOptions());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument) << m.status();
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("too little data"));
}

TEST(LifetimeModelTest, FineTuneKeepsTheSchemaAndMovesTowardTheNewData) {
  std::vector<CellSeries> li, na;
  for (const CellSeries& c : Corpus()) (c.config.ion == Ion::kNa ? na : li).push_back(c);
  ASSERT_GE(na.size(), 10u);
  const std::vector<CellSeries> na_train(na.begin(), na.begin() + na.size() / 2);
  const std::vector<CellSeries> na_test(na.begin() + na.size() / 2, na.end());
  LifetimeOptions o = SmallOptions();
  o.embedding = "pca";
  absl::StatusOr<LifetimeModel> base = LifetimeModel::Train(li, Table(), o);
  ASSERT_TRUE(base.ok()) << base.status();
  LifetimeOptions tune = SmallOptions();  // its embedding is ignored: the base's is kept
  tune.training.max_epochs = 60;
  absl::StatusOr<LifetimeModel> tuned = LifetimeModel::Train(na_train, Table(), tune, {}, &*base);
  ASSERT_TRUE(tuned.ok()) << tuned.status();
  EXPECT_EQ(tuned->feature_names(), base->feature_names());
  EXPECT_EQ(tuned->embedding_kind(), "pca");
  auto before = base->Evaluate(na_test);
  auto after = tuned->Evaluate(na_test);
  ASSERT_TRUE(before.ok() && after.ok());
  std::printf("Na held-out MAPE: Li model %.1f %%, fine-tuned %.1f %%\n", before->mape_percent,
              after->mape_percent);
  EXPECT_LT(after->mape_percent, before->mape_percent);
  // The base itself is unchanged.
  auto again = base->Evaluate(na_test);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->mape_percent, before->mape_percent);
}

TEST(LifetimeModelTest, ProgressCanCancel) {
  LifetimeOptions o = SmallOptions();
  int calls = 0;
  absl::StatusOr<LifetimeModel> m = LifetimeModel::Train(
      Part(false), Table(), o, [&](double fraction, const std::string&) {
        EXPECT_GE(fraction, 0);
        EXPECT_LE(fraction, 1);
        return ++calls < 3;
      });
  EXPECT_EQ(m.status().code(), absl::StatusCode::kCancelled) << m.status();
}

}  // namespace
}  // namespace ionloop::models
