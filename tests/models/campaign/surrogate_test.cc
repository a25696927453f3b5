// The campaign surrogate: learns a simple relation, is less sure away from its data,
// pre-trains on prior cells and fine-tunes, round-trips through Serialize, and refuses
// to predict untrained.
#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "instruments/electrode_table.h"
#include "tests/testing/electrode_table.h"
#include "models/campaign/campaign_science.h"
#include "models/corpus/virtual_corpus.h"

namespace ionloop::models::campaign {
namespace {

using instruments::ElectrodeTable;
using instruments::Ion;
using ::testing::HasSubstr;

const ElectrodeTable& Table() { return ionloop::testing::DefaultElectrodeTable(); }

// NMC811/graphite coin cells, single-step charge 0.5..5C at 25 and 35 °C.
const std::vector<Candidate>& Candidates() {
  static const std::vector<Candidate>* c = [] {
    SearchSpace s;
    s.ions = {Ion::kLi};
    s.positive_electrodes = {"NMC811"};
    s.negative_electrodes = {"graphite"};
    s.charge.c1.min = 0.5;
    s.charge.c1.max = 5;
    s.charge.c1.levels = 24;
    s.temperature_c.values = {25, 35};
    absl::StatusOr<std::vector<Candidate>> r = EnumerateCandidates(s, Table(), 1000, 1);
    EXPECT_TRUE(r.ok()) << r.status();
    return new std::vector<Candidate>(r.ok() ? *r : std::vector<Candidate>());
  }();
  return *c;
}

// The synthetic truth: log10 life = 3.3 − 0.8 log10(rate) − 0.01 (T − 25).
double Truth(const Candidate& c) {
  return 3.3 - 0.8 * std::log10(c.config.protocol.charge_c_rate) -
         0.01 * (c.config.protocol.temperature_c - 25);
}

TEST(SurrogateTest, LearnsASimpleRelationAndIsUnsureAwayFromData) {
  const std::vector<Candidate>& c = Candidates();
  ASSERT_EQ(c.size(), 48u);
  // Observe the slow half only.
  std::vector<Observation> obs;
  for (const Candidate& k : c) {
    if (k.config.protocol.charge_c_rate <= 2) obs.push_back({k.index, std::pow(10, Truth(k)), false});
  }
  ASSERT_EQ(obs.size(), 16u);
  absl::StatusOr<Surrogate> s = Surrogate::Create(Table(), DefaultSurrogateSettings());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE(s->trained());
  EXPECT_EQ(s->version(), 0);
  EXPECT_EQ(s->Predict(c).status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(s->Fit(c, obs).ok());
  EXPECT_TRUE(s->trained());
  EXPECT_FALSE(s->pretrained());
  EXPECT_EQ(s->version(), 1);
  absl::StatusOr<Surrogate::Prediction> p = s->Predict(c);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->mean_log10.size(), c.size());
  ASSERT_EQ(p->members_log10.size(), 5u);
  double near_err = 0, near_sd = 0, far_sd = 0;
  int near = 0, far = 0;
  for (const Candidate& k : c) {
    const double rate = k.config.protocol.charge_c_rate;
    if (rate <= 2) {
      near_err += std::abs(p->mean_log10[k.index] - Truth(k));
      near_sd += p->stddev_log10[k.index];
      ++near;
    } else if (rate >= 3.5) {
      far_sd += p->stddev_log10[k.index];
      ++far;
    }
  }
  near_err /= near;
  near_sd /= near;
  far_sd /= far;
  EXPECT_LT(near_err, 0.05) << "mean absolute error in log10 cycles on the observed cells";
  EXPECT_GT(far_sd, 1.3 * near_sd) << "the spread must grow away from the data";
  // The trend: slower charging predicted to live longer, also where nothing was observed.
  EXPECT_GT(p->mean_log10[0], p->mean_log10[46]);

  // Deterministic: the same data and settings give the same model.
  absl::StatusOr<Surrogate> twin = Surrogate::Create(Table(), DefaultSurrogateSettings());
  ASSERT_TRUE(twin.ok() && twin->Fit(c, obs).ok());
  EXPECT_EQ(twin->Predict(c)->mean_log10, p->mean_log10);

  // Serialize round trip.
  absl::StatusOr<std::string> bytes = s->Serialize();
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  absl::StatusOr<Surrogate> back = Surrogate::Deserialize(*bytes, Table());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->version(), 1);
  EXPECT_EQ(back->Predict(c)->mean_log10, p->mean_log10);
  EXPECT_EQ(back->Predict(c)->stddev_log10, p->stddev_log10);
  EXPECT_EQ(Surrogate::Deserialize(bytes->substr(0, bytes->size() - 3), Table()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Surrogate::Deserialize("nonsense", Table()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SurrogateTest, FitErrors) {
  const std::vector<Candidate>& c = Candidates();
  absl::StatusOr<Surrogate> s = Surrogate::Create(Table(), DefaultSurrogateSettings());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->Fit(c, {{0, 100, false}, {1, 90, false}}).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s->Fit(c, {{99, 100, false}}).message(), HasSubstr("observations[0].candidate: 99"));
  EXPECT_THAT(s->Fit(c, {{1, -5, false}}).message(), HasSubstr("observations[0].cycle_life"));
  TrainingSettings bad = DefaultSurrogateSettings();
  bad.members = 0;
  EXPECT_THAT(Surrogate::Create(Table(), bad).status().message(), HasSubstr("settings.members"));
}

TEST(SurrogateTest, PretrainsOnPriorCellsThenFineTunes) {
  // A small prior: NMC811/graphite cells at a few charge rates, run on the virtual cycler
  // (a few with their cycle_life erased, to exercise the EOL crossing of the series).
  CorpusDesign design;
  design.max_cycles = 1500;
  design.curve_cycles = {};
  std::vector<CellSeries> prior;
  for (int i = 0; i < 16; ++i) {
    instruments::cycler::CellConfig cfg = Candidates()[static_cast<size_t>(i * 3)].config;
    absl::StatusOr<CellSeries> cell = RunVirtualTest(cfg, Table(), 100 + i, design);
    ASSERT_TRUE(cell.ok()) << cell.status();
    cell->id = "prior-" + std::to_string(i);
    if (i % 4 == 0) cell->cycle_life = NAN;
    prior.push_back(*std::move(cell));
  }
  absl::StatusOr<Surrogate> s = Surrogate::Create(Table(), DefaultSurrogateSettings());
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s->Pretrain(prior).ok());
  EXPECT_TRUE(s->pretrained());
  EXPECT_TRUE(s->trained());
  EXPECT_EQ(s->version(), 1);
  absl::StatusOr<Surrogate::Prediction> before = s->Predict(Candidates());
  ASSERT_TRUE(before.ok()) << before.status();
  // The prior teaches the physics: faster charging, shorter life.
  EXPECT_GT(before->mean_log10[0], before->mean_log10[46]);
  // Too few results to fine-tune on: the pre-trained model stands.
  ASSERT_TRUE(s->Fit(Candidates(), {{5, 300, false}}).ok());
  EXPECT_EQ(s->version(), 2);
  EXPECT_EQ(s->Predict(Candidates())->mean_log10, before->mean_log10);
  // Results that contradict the prior move the model towards them.
  std::vector<Observation> obs;
  for (int i = 0; i < 48; i += 4) obs.push_back({i, 5000, false});
  ASSERT_TRUE(s->Fit(Candidates(), obs).ok());
  EXPECT_EQ(s->version(), 3);
  const Surrogate::Prediction after = *s->Predict(Candidates());
  EXPECT_LT(std::abs(after.mean_log10[20] - std::log10(5000.0)),
            std::abs(before->mean_log10[20] - std::log10(5000.0)));
  // A prior without any usable cell is refused.
  EXPECT_EQ(s->Pretrain({}).code(), absl::StatusCode::kInvalidArgument);
}

// Predict caches the candidates' features (keyed by a fingerprint of their configs): a
// large set scored with the cache gives the same predictions and the same SelectBatch
// picks as a fresh surrogate that featurizes it anew; an edited set misses the cache.
TEST(SurrogateTest, FeatureCacheGivesIdenticalPredictionsAndPicks) {
  SearchSpace s;
  s.ions = {Ion::kLi};
  s.positive_electrodes = {"NMC811", "LFP"};
  s.negative_electrodes = {"graphite"};
  s.charge.c1.min = 1;
  s.charge.c1.max = 6;
  s.charge.c1.levels = 20;
  s.charge.soc1_percent.min = 10;
  s.charge.soc1_percent.max = 70;
  s.charge.soc1_percent.levels = 10;
  s.charge.c2.min = 0.5;
  s.charge.c2.max = 3;
  s.charge.c2.levels = 8;
  s.temperature_c.values = {15, 25, 35, 45};
  absl::StatusOr<std::vector<Candidate>> r = EnumerateCandidates(s, Table(), 20000, 3);
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<Candidate> c = *std::move(r);
  ASSERT_GT(c.size(), 5000u);
  std::vector<Observation> obs;
  for (size_t i = 0; i < c.size(); i += c.size() / 12) {
    obs.push_back({c[i].index, 300.0 + 10.0 * static_cast<double>(i % 97), false});
  }
  TrainingSettings settings = DefaultSurrogateSettings();
  settings.max_epochs = 30;
  absl::StatusOr<Surrogate> a = Surrogate::Create(Table(), settings);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(a->Fit(c, obs).ok());
  absl::StatusOr<std::string> bytes = a->Serialize();
  ASSERT_TRUE(bytes.ok()) << bytes.status();

  absl::StatusOr<Surrogate::Prediction> first = a->Predict(c);   // featurizes, fills the cache
  ASSERT_TRUE(first.ok()) << first.status();
  const std::vector<Candidate> copy = c;                          // another address, same set
  absl::StatusOr<Surrogate::Prediction> cached = a->Predict(copy);
  ASSERT_TRUE(cached.ok()) << cached.status();
  absl::StatusOr<Surrogate> b = Surrogate::Deserialize(*bytes, Table());  // empty cache
  ASSERT_TRUE(b.ok()) << b.status();
  absl::StatusOr<Surrogate::Prediction> fresh = b->Predict(c);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(cached->mean_log10, fresh->mean_log10);
  EXPECT_EQ(cached->stddev_log10, fresh->stddev_log10);
  EXPECT_EQ(cached->members_log10, fresh->members_log10);
  EXPECT_EQ(first->mean_log10, fresh->mean_log10);

  AcquisitionOptions options;
  options.policy = Policy::kUcb;
  const std::vector<int> pending = {static_cast<int>(c.size() / 2)};
  absl::StatusOr<std::vector<Pick>> pa = SelectBatch(c, &*cached, obs, pending, 16, options);
  absl::StatusOr<std::vector<Pick>> pb = SelectBatch(c, &*fresh, obs, pending, 16, options);
  ASSERT_TRUE(pa.ok() && pb.ok());
  ASSERT_EQ(pa->size(), 16u);
  for (size_t i = 0; i < pa->size(); ++i) {
    EXPECT_EQ((*pa)[i].candidate, (*pb)[i].candidate);
    EXPECT_EQ((*pa)[i].acquisition, (*pb)[i].acquisition);
  }

  // Edited in place (same vector, same size): the cache must not serve stale features.
  c[0].config.protocol.temperature_c += 10;
  absl::StatusOr<Surrogate::Prediction> edited = a->Predict(c);
  absl::StatusOr<Surrogate::Prediction> edited_fresh = b->Predict(c);
  ASSERT_TRUE(edited.ok() && edited_fresh.ok());
  EXPECT_EQ(edited->mean_log10, edited_fresh->mean_log10);
  EXPECT_NE(edited->mean_log10[0], first->mean_log10[0]);
}

}  // namespace
}  // namespace ionloop::models::campaign
