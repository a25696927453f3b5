// SelectBatch, ParetoFront and ShouldStopEarly on hand-made candidates and predictions:
// UCB against EI, no repeats, local penalization, Thompson, the two-objective scalarization,
// the grid order, and the early-stopping rule.
#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/campaign/campaign_science.h"

namespace ionloop::models::campaign {
namespace {

using ::testing::HasSubstr;

// 20 single-step LFP/graphite candidates at rates 0.5..5C (log-spaced): a 1-D space.
std::vector<Candidate> Line(int n = 20) {
  std::vector<Candidate> out;
  for (int i = 0; i < n; ++i) {
    Candidate c;
    c.index = i;
    c.config.positive_electrode = "LFP";
    c.config.negative_electrode = "graphite";
    c.config.protocol.charge_c_rate = 0.5 * std::pow(10.0, static_cast<double>(i) / (n - 1));
    c.charge_time_h = 0.8 / c.config.protocol.charge_c_rate;
    c.label = std::to_string(i);
    out.push_back(c);
  }
  return out;
}

Surrogate::Prediction Flat(size_t n, double mean, double stddev) {
  Surrogate::Prediction p;
  p.mean_log10.assign(n, mean);
  p.stddev_log10.assign(n, stddev);
  p.members_log10.assign(3, std::vector<double>(n, mean));
  return p;
}

// A bump of predicted life centred on candidate 10.
Surrogate::Prediction Bump(size_t n) {
  Surrogate::Prediction p = Flat(n, 3, 0.05);
  for (size_t i = 0; i < n; ++i) {
    const double d = (static_cast<double>(i) - 10) / 4;
    p.mean_log10[i] = 3 + 0.5 * std::exp(-d * d);
  }
  p.members_log10.assign(3, p.mean_log10);
  return p;
}

std::vector<int> Indices(const std::vector<Pick>& picks) {
  std::vector<int> out;
  for (const Pick& p : picks) out.push_back(p.candidate);
  return out;
}

TEST(SelectBatchTest, UcbPrefersUncertaintyWhereEiPrefersASureGain) {
  const std::vector<Candidate> c = Line();
  Surrogate::Prediction p = Flat(c.size(), 2.5, 0.01);
  p.mean_log10[3] = 3.2;  // sure and good
  p.stddev_log10[3] = 0.01;
  p.mean_log10[12] = 2.9;  // worse on average, very uncertain
  p.stddev_log10[12] = 0.3;
  const std::vector<Observation> observed = {{0, 1000, false}};  // best so far: log10 = 3
  AcquisitionOptions o;
  o.policy = Policy::kUcb;
  o.ucb_kappa = 2;
  absl::StatusOr<std::vector<Pick>> ucb = SelectBatch(c, &p, observed, {}, 1, o);
  ASSERT_TRUE(ucb.ok()) << ucb.status();
  EXPECT_EQ((*ucb)[0].candidate, 12);
  EXPECT_NEAR((*ucb)[0].acquisition, 2.9 + 0.6, 1e-9);
  EXPECT_EQ((*ucb)[0].rank, 1);
  EXPECT_NEAR((*ucb)[0].stddev_log10, 0.3, 1e-12);
  o.policy = Policy::kEi;
  absl::StatusOr<std::vector<Pick>> ei = SelectBatch(c, &p, observed, {}, 1, o);
  ASSERT_TRUE(ei.ok()) << ei.status();
  EXPECT_EQ((*ei)[0].candidate, 3);
  EXPECT_NEAR((*ei)[0].acquisition, 0.2 - o.ei_xi, 1e-3);
  // A small kappa turns UCB greedy.
  o.policy = Policy::kUcb;
  o.ucb_kappa = 0.1;
  EXPECT_EQ(SelectBatch(c, &p, observed, {}, 1, o)->at(0).candidate, 3);
}

TEST(SelectBatchTest, NeverProposesObservedPendingOrTwice) {
  const std::vector<Candidate> c = Line();
  const Surrogate::Prediction p = Bump(c.size());
  for (Policy policy :
       {Policy::kRandom, Policy::kGrid, Policy::kUcb, Policy::kEi, Policy::kThompson}) {
    for (Objective objective : {Objective::kMaximizeLife, Objective::kLifeVsChargeTime}) {
      AcquisitionOptions o;
      o.policy = policy;
      o.objective = objective;
      std::vector<Observation> observed = {{10, 3000, false}, {4, 500, true}};
      std::vector<int> pending = {9, 11};
      std::set<int> seen = {10, 4, 9, 11};
      // Rounds until the space is exhausted: every candidate exactly once.
      for (int round = 0; round < 10; ++round) {
        absl::StatusOr<std::vector<Pick>> picks = SelectBatch(c, &p, observed, pending, 5, o);
        ASSERT_TRUE(picks.ok()) << picks.status();
        const size_t expected = std::min<size_t>(5, c.size() - seen.size());
        ASSERT_EQ(picks->size(), expected) << PolicyName(policy);
        for (size_t k = 0; k < picks->size(); ++k) {
          const Pick& pk = (*picks)[k];
          EXPECT_EQ(pk.rank, static_cast<int>(k) + 1);
          EXPECT_TRUE(seen.insert(pk.candidate).second)
              << PolicyName(policy) << " proposed " << pk.candidate << " again";
          observed.push_back({pk.candidate, 1000, false});
        }
      }
      EXPECT_EQ(seen.size(), c.size()) << PolicyName(policy);
    }
  }
}

TEST(SelectBatchTest, LocalPenalizationSpreadsABatch) {
  const std::vector<Candidate> c = Line();
  const Surrogate::Prediction p = Bump(c.size());
  AcquisitionOptions o;
  o.policy = Policy::kUcb;
  o.penalty_radius = 0;  // no diversity: the top of the bump and its neighbours
  std::vector<int> plain = Indices(*SelectBatch(c, &p, {}, {}, 4, o));
  std::sort(plain.begin(), plain.end());
  EXPECT_EQ(plain, (std::vector<int>{8, 9, 10, 11}));
  o.penalty_radius = 0.5;
  std::vector<int> spread = Indices(*SelectBatch(c, &p, {}, {}, 4, o));
  EXPECT_EQ(spread[0], 10);
  std::sort(spread.begin(), spread.end());
  int adjacent = 0;
  for (size_t i = 1; i < spread.size(); ++i) adjacent += spread[i] - spread[i - 1] == 1;
  EXPECT_LE(adjacent, 1) << "picks should not be a run of neighbours";
  EXPECT_GE(spread.back() - spread.front(), 5);
  // A running experiment counts as picked: the batch avoids its neighbourhood.
  const std::vector<Pick> around = *SelectBatch(c, &p, {}, {10}, 1, o);
  EXPECT_THAT(std::set<int>({9, 10, 11}).count(around[0].candidate), 0);
}

TEST(SelectBatchTest, ThompsonMaximizesOneMemberPerPick) {
  const std::vector<Candidate> c = Line();
  Surrogate::Prediction p = Flat(c.size(), 3, 0.1);
  p.members_log10.assign(2, std::vector<double>(c.size(), 3));
  p.members_log10[0][2] = 3.5;   // member 0 likes candidate 2
  p.members_log10[1][17] = 3.5;  // member 1 likes candidate 17
  AcquisitionOptions o;
  o.policy = Policy::kThompson;
  std::set<int> firsts;
  for (uint64_t seed = 1; seed <= 16; ++seed) {
    o.seed = seed;
    const std::vector<Pick> picks = *SelectBatch(c, &p, {}, {}, 1, o);
    firsts.insert(picks[0].candidate);
  }
  EXPECT_EQ(firsts, (std::set<int>{2, 17}));
  p.members_log10.clear();
  EXPECT_EQ(SelectBatch(c, &p, {}, {}, 1, o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SelectBatchTest, TwoObjectivesSpreadAlongTheTradeOff) {
  // Slow charges live longer: life and charge time conflict.
  const std::vector<Candidate> c = Line();
  Surrogate::Prediction p = Flat(c.size(), 3, 0.02);
  for (size_t i = 0; i < c.size(); ++i) p.mean_log10[i] = 3.5 - 0.05 * static_cast<double>(i);
  p.members_log10.assign(3, p.mean_log10);
  for (Policy policy : {Policy::kUcb, Policy::kEi, Policy::kThompson}) {
    AcquisitionOptions o;
    o.policy = policy;
    o.objective = Objective::kLifeVsChargeTime;
    o.penalty_radius = 0;
    const std::vector<Observation> observed = {{0, 3000, false}, {19, 800, false}};
    const std::vector<int> picks = Indices(*SelectBatch(c, &p, observed, {}, 6, o));
    const auto [lo, hi] = std::minmax_element(picks.begin(), picks.end());
    EXPECT_GE(*hi - *lo, 6) << PolicyName(policy) << ": a batch should cover the front";
    // With one objective the same policy goes to the long-life end only.
    o.objective = Objective::kMaximizeLife;
    const std::vector<int> single = Indices(*SelectBatch(c, &p, observed, {}, 6, o));
    EXPECT_LE(*std::max_element(single.begin(), single.end()), 7) << PolicyName(policy);
  }
}

TEST(SelectBatchTest, GridIsSpaceFillingAndRandomIsSeeded) {
  const std::vector<Candidate> c = Line();
  AcquisitionOptions o;
  o.policy = Policy::kGrid;
  std::vector<int> grid = Indices(*SelectBatch(c, nullptr, {}, {}, 3, o));
  EXPECT_NEAR(grid[0], 9.5, 0.6);  // the centre first
  std::sort(grid.begin() + 1, grid.end());
  EXPECT_EQ(grid[1], 0);
  EXPECT_EQ(grid[2], 19);
  // The next round fills the largest gaps.
  std::vector<Observation> observed;
  for (int i : grid) observed.push_back({i, 100, false});
  const std::vector<int> next = Indices(*SelectBatch(c, nullptr, observed, {}, 2, o));
  for (int i : next) EXPECT_TRUE((i >= 3 && i <= 7) || (i >= 12 && i <= 16)) << i;

  o.policy = Policy::kRandom;
  o.seed = 5;
  const std::vector<int> a = Indices(*SelectBatch(c, nullptr, {}, {}, 8, o));
  const std::vector<int> b = Indices(*SelectBatch(c, nullptr, {}, {}, 8, o));
  o.seed = 6;
  const std::vector<int> other = Indices(*SelectBatch(c, nullptr, {}, {}, 8, o));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, other);
}

TEST(SelectBatchTest, Errors) {
  const std::vector<Candidate> c = Line();
  AcquisitionOptions o;
  o.policy = Policy::kUcb;
  EXPECT_EQ(SelectBatch(c, nullptr, {}, {}, 2, o).status().code(),
            absl::StatusCode::kFailedPrecondition);
  Surrogate::Prediction short_p = Flat(c.size() - 1, 3, 0.1);
  EXPECT_EQ(SelectBatch(c, &short_p, {}, {}, 2, o).status().code(),
            absl::StatusCode::kInvalidArgument);
  const Surrogate::Prediction p = Flat(c.size(), 3, 0.1);
  EXPECT_THAT(SelectBatch(c, &p, {{25, 100, false}}, {}, 2, o).status().message(),
              HasSubstr("observed[0].candidate: 25"));
  EXPECT_THAT(SelectBatch(c, &p, {}, {-1}, 2, o).status().message(), HasSubstr("pending[0]"));
  EXPECT_TRUE(SelectBatch(c, &p, {}, {}, 0, o)->empty());
}

TEST(PolicyTest, NamesRoundTrip) {
  for (Policy policy :
       {Policy::kRandom, Policy::kGrid, Policy::kUcb, Policy::kEi, Policy::kThompson}) {
    absl::StatusOr<Policy> parsed = ParsePolicy(PolicyName(policy));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, policy);
  }
  EXPECT_EQ(*ParsePolicy("UCB"), Policy::kUcb);
  EXPECT_THAT(ParsePolicy("bayes").status().message(), HasSubstr("policy: unknown 'bayes'"));
}

TEST(ParetoFrontTest, HandMadeSet) {
  std::vector<Candidate> c(7);
  const double hours[] = {0.2, 0.3, 0.3, 0.5, 0.8, 1.0, 0.25};
  for (int i = 0; i < 7; ++i) {
    c[i].index = i;
    c[i].charge_time_h = hours[i];
  }
  const std::vector<Observation> obs = {
      {0, 400, false},   // fastest: on the front
      {1, 700, false},   // on the front
      {2, 650, false},   // same time as 1, shorter life: dominated
      {3, 600, true},    // slower and shorter than 1: dominated
      {4, 1200, false},  // on the front
      {5, 1200, false},  // slower, same life as 4: dominated
      {6, 400, false},   // slower than 0 with the same life: dominated
      {9, 5000, false},  // not a candidate: ignored
  };
  const std::vector<Observation> front = ParetoFront(c, obs);
  std::vector<int> ids;
  for (const Observation& o : front) ids.push_back(o.candidate);
  EXPECT_EQ(ids, (std::vector<int>{0, 1, 4}));
  EXPECT_TRUE(ParetoFront(c, {}).empty());
}

TEST(EarlyStopTest, ConfidentAfterEnoughCycles) {
  EarlyStopRule rule;
  rule.enabled = true;
  rule.min_cycles = 100;
  rule.max_relative_interval = 0.5;
  FadeForecast f;
  f.eol_cycles_mean = 800;
  f.eol_cycles_low = 650;
  f.eol_cycles_high = 1000;  // (1000 - 650) / 800 = 0.44
  EXPECT_TRUE(ShouldStopEarly(rule, 100, f));
  EXPECT_TRUE(ShouldStopEarly(rule, 250, f));
  EXPECT_FALSE(ShouldStopEarly(rule, 99, f));  // before the model's late cycle
  f.eol_cycles_high = 1100;                    // 0.56: not confident enough
  EXPECT_FALSE(ShouldStopEarly(rule, 100, f));
  rule.max_relative_interval = 0.6;
  EXPECT_TRUE(ShouldStopEarly(rule, 100, f));
  rule.enabled = false;
  EXPECT_FALSE(ShouldStopEarly(rule, 500, f));
  rule.enabled = true;
  f.eol_cycles_mean = NAN;
  EXPECT_FALSE(ShouldStopEarly(rule, 500, f));
  f.eol_cycles_mean = 0;
  EXPECT_FALSE(ShouldStopEarly(rule, 500, f));
}

}  // namespace
}  // namespace ionloop::models::campaign
