#include "models/fade/fade_model.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "instruments/electrode_table.h"
#include "models/data/elastic_net.h"
#include "models/dataset_loader.h"

namespace ionloop::models {
namespace {

using ::testing::HasSubstr;

std::string DataPath(const std::string& sub) {
  return std::string(IONLOOP_SHARED_DATA_DIR) + "/" + sub;
}

// Virtual-cycler cells (Q(V) kept at cycles 3, 10 and 100) that lived past cycle 100.
const std::vector<CellSeries>& Corpus() {
  static const std::vector<CellSeries>* corpus = [] {
    absl::StatusOr<instruments::ElectrodeTable> table = instruments::LoadDefaultElectrodeTable();
    EXPECT_TRUE(table.ok()) << table.status();
    absl::StatusOr<std::vector<CellSeries>> c = LoadDataset("virtual:120:11", *table, 2);
    EXPECT_TRUE(c.ok()) << c.status();
    auto* out = new std::vector<CellSeries>();
    if (c.ok()) {
      for (CellSeries& cell : *c) {
        if (cell.curves.size() == 3 && cell.cycles.size() > 100) out->push_back(std::move(cell));
      }
    }
    return out;
  }();
  return *corpus;
}

FadeOptions SmallOptions() {
  FadeOptions o;
  o.training.members = 3;
  o.training.hidden = {16, 16};
  o.training.max_epochs = 100;
  o.training.patience = 20;
  o.training.threads = 1;
  o.training.seed = 3;
  return o;
}

const FadeModel& Trained() {
  static const FadeModel* model = [] {
    absl::StatusOr<FadeModel> m = FadeModel::Train(Corpus(), SmallOptions());
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? new FadeModel(*std::move(m)) : nullptr;
  }();
  return *model;
}

TEST(FadeModelTest, TrainsOnVirtualCellsAndForecastsAMonotoneCurve) {
  ASSERT_GE(Corpus().size(), 30u);
  const FadeModel& model = Trained();
  EXPECT_GT(model.report().training_cells, 20);
  EXPECT_EQ(model.early_cycle(), 10);
  EXPECT_EQ(model.late_cycle(), 100);
  EXPECT_EQ(model.feature_names().back(), "log10_fade_fraction");
  absl::StatusOr<FadeForecast> f = model.Predict(Corpus()[0]);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_GT(f->eol_cycles_mean, 0);
  EXPECT_LT(f->eol_cycles_low, f->eol_cycles_mean);
  EXPECT_GT(f->eol_cycles_high, f->eol_cycles_mean);
  EXPECT_GT(f->eol_log10_stddev, 0);
  ASSERT_EQ(f->curve.size(), 40u);
  for (size_t i = 1; i < f->curve.size(); ++i) {
    EXPECT_GE(f->curve[i].cycle, f->curve[i - 1].cycle);
    EXPECT_LE(f->curve[i].soh_mean, f->curve[i - 1].soh_mean + 1e-9);
  }
  absl::StatusOr<Evaluation> e = model.Evaluate(Corpus());
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_GT(e->cells_evaluated, 0);
  EXPECT_GT(e->mape_percent, 0);
}

TEST(FadeModelTest, MissingCycle100IsAFailedPreconditionNamingIt) {
  CellSeries early = Corpus()[0];
  early.cycles.resize(50);
  early.capacity_ah.resize(50);
  std::vector<DischargeCurve> curves;
  for (const DischargeCurve& c : early.curves) {
    if (c.cycle <= 50) curves.push_back(c);
  }
  early.curves = curves;
  absl::StatusOr<FadeForecast> f = Trained().Predict(early);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kFailedPrecondition) << f.status();
  EXPECT_THAT(std::string(f.status().message()), HasSubstr("100"));
}

TEST(FadeModelTest, SerializeRoundTripsExactly) {
  absl::StatusOr<std::string> bytes = Trained().Serialize();
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  absl::StatusOr<FadeModel> back = FadeModel::Deserialize(*bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back->Serialize(), *bytes);
  auto a = Trained().Predict(Corpus()[1]);
  auto b = back->Predict(Corpus()[1]);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->eol_cycles_mean, b->eol_cycles_mean);
  EXPECT_EQ(a->eol_cycles_stddev, b->eol_cycles_stddev);
  EXPECT_FALSE(FadeModel::Deserialize(bytes->substr(0, 40)).ok());
}

TEST(FadeModelTest, UnknownBaseIsInvalid) {
  FadeOptions o = SmallOptions();
  o.base = "quadratic";
  EXPECT_EQ(FadeModel::Train(Corpus(), o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(FadeModelTest, FineTuneKeepsTheSchema) {
  FadeOptions o = SmallOptions();
  o.training.max_epochs = 20;
  const std::vector<CellSeries> some(Corpus().begin(), Corpus().begin() + 20);
  absl::StatusOr<FadeModel> tuned = FadeModel::Train(some, o, {}, &Trained());
  ASSERT_TRUE(tuned.ok()) << tuned.status();
  EXPECT_EQ(tuned->feature_names(), Trained().feature_names());
  EXPECT_TRUE(tuned->Predict(Corpus()[2]).ok());
}

// Severson et al. 2019, train → test1 (skipped without ../shared/data/severson).
TEST(FadeModelTest, SeversonTest1IsLearned) {
  const std::string root = DataPath("severson");
  if (!std::filesystem::exists(root + "/data/train")) GTEST_SKIP() << root << " absent";
  absl::StatusOr<instruments::ElectrodeTable> table = instruments::LoadDefaultElectrodeTable();
  ASSERT_TRUE(table.ok());
  auto train = LoadDataset("severson:" + root + ":train", *table);
  auto test = LoadDataset("severson:" + root + ":test1", *table);
  ASSERT_TRUE(train.ok() && test.ok()) << train.status() << test.status();
  FadeOptions o;  // the defaults, as the benchmark runs them
  o.training.threads = 1;
  absl::StatusOr<FadeModel> model = FadeModel::Train(*train, o);
  ASSERT_TRUE(model.ok()) << model.status();
  absl::StatusOr<Evaluation> e = model->Evaluate(*test);
  ASSERT_TRUE(e.ok()) << e.status();
  SeversonVarianceModel variance;
  ASSERT_TRUE(variance.Fit(*train).ok());
  double se = 0;
  int n = 0;
  for (const CellSeries& c : *test) {
    absl::StatusOr<double> p = variance.Predict(c);
    if (!p.ok() || !c.has_cycle_life()) continue;
    se += (*p - c.cycle_life) * (*p - c.cycle_life);
    ++n;
  }
  std::printf("Severson test1: fade model RMSE %.1f cycles, MAPE %.1f %%, coverage %.2f/%.2f "
              "(%d cells); variance model RMSE %.1f\n",
              e->rmse_cycles, e->mape_percent, e->coverage_68, e->coverage_95,
              e->cells_evaluated, std::sqrt(se / n));
  EXPECT_GE(e->cells_evaluated, 40);
  EXPECT_LT(e->rmse_cycles, 250);
}

}  // namespace
}  // namespace ionloop::models
