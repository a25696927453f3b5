// Closed-loop campaigns in silico (DESIGN.md §6.7; issue 6), on the virtual cycler where
// the truth is known. After Attia et al., "Closed-loop optimization of fast-charging
// protocols for batteries with machine learning", Nature 578 (2020) 397: 224 two-to-four
// step 10-minute fast-charging protocols of LFP/graphite 18650 cells, searched with a
// Bayesian optimizer and early prediction in 16 days instead of ~500.
//
//   search      a space of ~200 two-step protocols (C1 to SOC1, then the C2 that reaches
//               80 % SOC in exactly 10 minutes; LFP/graphite 18650, 1.1 Ah, 4C
//               discharge, 30 °C, as Attia et al.). Truth = the mean cycle life of
//               --truth-seeds virtual cells per protocol; an experiment reveals the life of
//               one more cell (its own seed: cell-to-cell noise, as in a real campaign).
//               For each policy: experiments until one tested protocol's true life is
//               within 2 % of the best, over --seeds campaigns, beside random search and
//               the grid (maximin) order measured in the same run.
//   earlystop   the same loop where every test is stopped after 100 cycles when the
//               early-cycle fade model (trained here on a separate virtual corpus of
//               LFP/graphite cells) is confident; a fixed budget of experiments; channel-
//               hours against running the same tests to EOL, and the regret of the
//               protocol the campaign recommends (best observed, measured or predicted)
//               beside the regret of the campaign without early stopping.
//   transfer    a Na space (NVPF/hard-carbon); experiments to within 2 % of the best with
//               the surrogate pre-trained on a virtual corpus of Li cells and fine-tuned,
//               against the same surrogate trained from scratch.
//   speed       issue 6's "100 000 candidates in well under a second": a space of
//               --speed-candidates cells (three couples × a fine C1 × SOC1 × C2 ×
//               temperature grid) and a surrogate pre-trained on --speed-prior-cells
//               virtual Li/Na cells; the time of EnumerateCandidates, of Surrogate::Predict
//               over all of them (first call, and again with the model changed, as after a
//               Fit: the candidates' features are then cached), and of SelectBatch (UCB,
//               batch of 16, local penalization), beside the floors measured in the same
//               run: a plain LibTorch forward of the same size (PlainTorchForwardSeconds) and
//               the raw LifetimeFeaturizer cost of the same candidates.
//
//   build-campaign/bench/campaign_bench [--seeds=10] [--batch=8] [--sections=all] [--help]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/bench_util.h"
#include "common/flag_table.h"
#include "instruments/cycler/random.h"
#include "instruments/cycler/virtual_cell.h"
#include "instruments/electrode_table.h"
#include "models/campaign/campaign_science.h"
#include "models/corpus/virtual_corpus.h"
#include "models/corpus/lifetime_features.h"
#include "models/fade/fade_model.h"
#include "models/nn/encoder_embedding.h"
#include "models/nn/torch_baseline.h"

namespace {

using ionloop::bench::OrDie;

namespace m = ionloop::models;
namespace mc = ionloop::models::campaign;
namespace cy = ionloop::instruments::cycler;
using ionloop::instruments::ElectrodeTable;
using ionloop::instruments::Ion;

// An axis of `levels` values evenly spaced over [min, max].
void SetRange(mc::Axis* axis, double min, double max, int levels) {
  axis->min = min;
  axis->max = max;
  axis->levels = levels;
}

struct Config {
  int seeds = 10;
  int batch = 8;
  int budget = 0;  // 0: the whole space (search, transfer); earlystop uses --es-budget
  int es_budget = 40;
  int truth_seeds = 32;
  std::string sections = "all";
  std::string policies = "random,grid,ucb,ei,thompson";
  double kappa = 1.0;
  double xi = 0.01;
  double radius = 0.25;
  std::string init = "random";  // first round of the model-based policies: grid or random
  int fade_cells = 300;
  int prior_cells = 600;
  double es_interval = 0.8;
  std::string transfer_policy = "ucb";
  std::string es_policy = "ucb";
  int threads = 0;
  bool print_space = false;
  int speed_candidates = 100000;
  int speed_prior_cells = 200;
  int speed_repeats = 3;
};


bool Wants(const Config& c, absl::string_view section) {
  return c.sections == "all" || absl::StrContains(absl::StrCat(",", c.sections, ","),
                                                  absl::StrCat(",", section, ","));
}

uint64_t Mix(uint64_t a, uint64_t b) {
  uint64_t s = a * 0x9E3779B97F4A7C15ull + b;
  return cy::SplitMix64(&s);
}

// One cell to EOL (or max_cycles): its life and the hours it took, and the hours of its
// first `early` cycles.
struct CellRun {
  double life = 0;  // cycles; max_cycles when not reached
  double hours = 0;
  double early_hours = 0;
};

constexpr int kMaxCycles = 5000;

CellRun RunCell(const cy::CellConfig& config, const ElectrodeTable& table, uint64_t seed,
                int early) {
  cy::VirtualCell cell = OrDie(cy::VirtualCell::Create(config, table, seed), "cell");
  CellRun r;
  for (int i = 1; i <= kMaxCycles; ++i) {
    cell.RunCycle();
    if (i == early) r.early_hours = cell.elapsed_s() / 3600;
    if (cell.ReachedEol()) {
      r.life = i;
      break;
    }
  }
  if (r.life == 0) r.life = kMaxCycles;
  r.hours = cell.elapsed_s() / 3600;
  if (r.early_hours == 0) r.early_hours = r.hours;
  return r;
}

struct Space {
  std::string name;
  std::vector<mc::Candidate> candidates;
  std::vector<double> truth;  // mean cycle life over the truth seeds
  double best = 0;
  int within = 0;  // candidates within 2 % of the best
  bool Hit(int i) const { return truth[static_cast<size_t>(i)] >= 0.98 * best; }
};

Space MakeSpace(const std::string& name, const mc::SearchSpace& s, const ElectrodeTable& table,
                int truth_seeds) {
  Space sp;
  sp.name = name;
  sp.candidates = OrDie(mc::EnumerateCandidates(s, table, 100000, 1), "candidates");
  for (const mc::Candidate& c : sp.candidates) {
    double sum = 0;
    for (int k = 0; k < truth_seeds; ++k) {
      sum += RunCell(c.config, table, Mix(1000 + c.index, k), 0).life;
    }
    sp.truth.push_back(sum / truth_seeds);
  }
  sp.best = *std::max_element(sp.truth.begin(), sp.truth.end());
  for (size_t i = 0; i < sp.truth.size(); ++i) sp.within += sp.Hit(static_cast<int>(i));
  return sp;
}

void PrintSpace(const Space& sp, bool full) {
  std::vector<double> t = sp.truth;
  std::sort(t.begin(), t.end());
  const auto q = [&](double f) { return t[static_cast<size_t>(f * (t.size() - 1))]; };
  int best = static_cast<int>(std::max_element(sp.truth.begin(), sp.truth.end()) - sp.truth.begin());
  std::printf("%s: %zu protocols; true life min %.0f, median %.0f, max %.0f cycles (%s); "
              "%d within 2 %% of the best (random search needs %.1f experiments on average)\n",
              sp.name.c_str(), sp.truth.size(), q(0), q(0.5), q(1),
              sp.candidates[static_cast<size_t>(best)].label.c_str(), sp.within,
              (sp.truth.size() + 1.0) / (sp.within + 1.0));
  if (full) {
    for (size_t i = 0; i < sp.truth.size(); ++i) {
      std::printf("  %-48s %6.0f%s\n", sp.candidates[i].label.c_str(), sp.truth[i],
                  sp.Hit(static_cast<int>(i)) ? "  *" : "");
    }
  }
}


// ---- The campaign loop.

struct Outcome {
  int to_hit = 0;       // experiments (proposal order) until a hit; budget + 1 if none
  int rounds = 0;       // rounds run
  int hit_round = 0;    // the round that found the hit
  int experiments = 0;  // experiments run
  double regret = 0;    // 1 - truth(recommended) / best, at the end
  double hours = 0;     // channel-hours spent
  double hours_full = 0;  // the same experiments run to EOL
  int stopped_early = 0;
  double fit_seconds = 0;
  int fits = 0;
};

struct Loop {
  mc::Policy policy = mc::Policy::kRandom;
  int batch = 8;
  int budget = 0;
  bool stop_at_hit = true;
  const std::string* surrogate_bytes = nullptr;  // a (maybe pre-trained) surrogate
  const m::FadeModel* fade = nullptr;            // early stopping when set
  mc::EarlyStopRule rule;
  uint64_t seed = 1;
  mc::AcquisitionOptions acquisition;
  mc::Policy init = mc::Policy::kGrid;
};

// One experiment on a new cell of the protocol: what the campaign observes and the hours
// it costs (100 cycles when the fade model stops it early).
struct Experiment {
  mc::Observation observation;
  double hours = 0, hours_full = 0;
};

Experiment RunExperiment(const Space& sp, const ElectrodeTable& table, int candidate,
                         uint64_t seed, const Loop& loop) {
  const mc::Candidate& c = sp.candidates[static_cast<size_t>(candidate)];
  Experiment e;
  e.observation.candidate = candidate;
  if (loop.fade == nullptr) {
    const CellRun r = RunCell(c.config, table, seed, 0);
    e.observation.cycle_life = r.life;
    e.hours = e.hours_full = r.hours;
    return e;
  }
  const int early = loop.fade->late_cycle();
  const CellRun r = RunCell(c.config, table, seed, early);
  e.hours_full = r.hours;
  e.observation.cycle_life = r.life;
  e.hours = r.hours;
  if (r.life <= early) return e;
  m::CorpusDesign d;
  d.max_cycles = early;
  d.curve_cycles = {3, loop.fade->early_cycle(), early};
  m::CellSeries series = OrDie(m::RunVirtualTest(c.config, table, seed, d), "early test");
  absl::StatusOr<m::FadeForecast> f = loop.fade->Predict(series);
  if (f.ok() && mc::ShouldStopEarly(loop.rule, early, *f)) {
    e.observation.cycle_life = f->eol_cycles_mean;
    e.observation.predicted = true;
    e.hours = r.early_hours;
  }
  return e;
}

Outcome RunCampaign(const Space& sp, const ElectrodeTable& table, const Loop& loop) {
  const int n = static_cast<int>(sp.candidates.size());
  const int budget = loop.budget > 0 ? std::min(loop.budget, n) : n;
  std::optional<mc::Surrogate> surrogate;
  const bool model = loop.policy == mc::Policy::kUcb || loop.policy == mc::Policy::kEi ||
                     loop.policy == mc::Policy::kThompson;
  if (model) surrogate.emplace(OrDie(mc::Surrogate::Deserialize(*loop.surrogate_bytes, table), "surrogate"));
  std::vector<mc::Observation> observed;
  Outcome out;
  out.to_hit = budget + 1;
  bool hit = false;
  while (static_cast<int>(observed.size()) < budget && !(hit && loop.stop_at_hit)) {
    const int count = std::min(loop.batch, budget - static_cast<int>(observed.size()));
    mc::AcquisitionOptions a = loop.acquisition;
    a.policy = loop.policy;
    a.seed = loop.seed;
    std::optional<mc::Surrogate::Prediction> prediction;
    if (model) {
      if (observed.size() >= 4) {
        const absl::Time t = absl::Now();
        OrDie(surrogate->Fit(sp.candidates, observed), "fit");
        out.fit_seconds += absl::ToDoubleSeconds(absl::Now() - t);
        ++out.fits;
      }
      if (surrogate->trained()) {
        prediction = OrDie(surrogate->Predict(sp.candidates), "predict");
      } else {
        a.policy = loop.init;  // the initial design
      }
    }
    const std::vector<mc::Pick> picks = OrDie(
        mc::SelectBatch(sp.candidates, prediction ? &*prediction : nullptr, observed, {}, count, a),
        "select");
    ++out.rounds;
    const bool had_hit = hit;
    for (const mc::Pick& p : picks) {
      const Experiment e = RunExperiment(sp, table, p.candidate,
                                         Mix(Mix(loop.seed, 77), static_cast<uint64_t>(p.candidate)), loop);
      observed.push_back(e.observation);
      out.hours += e.hours;
      out.hours_full += e.hours_full;
      out.stopped_early += e.observation.predicted;
      if (!hit && sp.Hit(p.candidate)) {
        hit = true;
        out.to_hit = static_cast<int>(observed.size());
      }
    }
    if (!had_hit) out.hit_round = out.rounds;  // the round that found it (or the last one)
  }
  out.experiments = static_cast<int>(observed.size());
  // The recommendation: the best observed (measured or predicted) life.
  const auto best = std::max_element(observed.begin(), observed.end(),
                                     [](const mc::Observation& x, const mc::Observation& y) {
                                       return x.cycle_life < y.cycle_life;
                                     });
  out.regret = 1 - sp.truth[static_cast<size_t>(best->candidate)] / sp.best;
  return out;
}

struct Stats {
  double mean = 0, half = 0;  // 95 % CI half-width (Student t)
};

Stats StatsOf(const std::vector<double>& v) {
  Stats s;
  const double n = static_cast<double>(v.size());
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / n;
  double ss = 0;
  for (double x : v) ss += (x - s.mean) * (x - s.mean);
  const double sd = v.size() > 1 ? std::sqrt(ss / (n - 1)) : 0;
  // t(0.975, n-1) for small n; 1.96 beyond 30.
  static const double t[] = {0, 12.71, 4.30, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23,
                             2.20, 2.18, 2.16, 2.14, 2.13, 2.12, 2.11, 2.10, 2.09, 2.09,
                             2.08, 2.07, 2.07, 2.06, 2.06, 2.06, 2.05, 2.05, 2.05, 2.04};
  const size_t df = v.size() - 1;
  s.half = (df >= 1 && df <= 30 ? t[df] : 1.96) * sd / std::sqrt(n);
  return s;
}

std::string Format(const Stats& s, int digits = 1) {
  return absl::StrFormat("%.*f ± %.*f", digits, s.mean, digits, s.half);
}

// ---- Speed (issue 6: 100 000 candidates scored in well under a second).

double Seconds(absl::Time t0) { return absl::ToDoubleSeconds(absl::Now() - t0); }

void RunSpeed(const Config& c, const ElectrodeTable& table) {
  std::printf("\n## Speed: scoring %d candidates\n", c.speed_candidates);
  mc::SearchSpace s;
  s.ions = {Ion::kLi, Ion::kNa};
  s.positive_electrodes = {"LFP", "NMC811", "NVPF"};
  s.negative_electrodes = {"graphite", "hard-carbon"};
  s.designs = {cy::CellDesign::kCoin};
  SetRange(&s.charge.c1, 1, 8, 30);
  SetRange(&s.charge.soc1_percent, 10, 70, 13);
  SetRange(&s.charge.c2, 0.5, 4, 12);
  SetRange(&s.temperature_c, 10, 45, 8);
  const int repeats = std::max(1, c.speed_repeats);
  std::vector<mc::Candidate> candidates;
  double t_enum = 1e300;
  for (int r = 0; r < repeats; ++r) {
    const absl::Time t0 = absl::Now();
    candidates = OrDie(mc::EnumerateCandidates(s, table, c.speed_candidates, 1), "candidates");
    t_enum = std::min(t_enum, Seconds(t0));
  }
  const size_t n = candidates.size();

  absl::Time t0 = absl::Now();
  m::CorpusDesign pd;
  pd.cells = c.speed_prior_cells;
  pd.ions = {Ion::kLi, Ion::kNa};
  pd.curve_cycles = {};
  const std::vector<m::CellSeries> prior =
      OrDie(m::GenerateVirtualCorpus(table, pd, 2), "prior corpus");
  m::TrainingSettings settings = mc::DefaultSurrogateSettings();
  settings.threads = c.threads;
  mc::Surrogate surrogate = OrDie(mc::Surrogate::Create(table, settings), "surrogate");
  OrDie(surrogate.Pretrain(prior), "pretrain");
  const double t_pretrain = Seconds(t0);

  // Predict: the first call featurizes the candidates; later calls (a new model version, as
  // after each Fit) reuse the features.
  t0 = absl::Now();
  mc::Surrogate::Prediction p = OrDie(surrogate.Predict(candidates), "predict");
  const double t_predict_first = Seconds(t0);
  std::vector<mc::Observation> observed;
  for (int k = 0; k < 8; ++k) {
    const int i = static_cast<int>((static_cast<uint64_t>(k) * 7919 * 131) % n);
    observed.push_back({i, std::pow(10.0, p.mean_log10[static_cast<size_t>(i)]) * (1 + 0.1 * k), false});
  }
  t0 = absl::Now();
  OrDie(surrogate.Fit(candidates, observed), "fit");
  const double t_fit = Seconds(t0);
  double t_predict = 1e300;
  for (int r = 0; r < repeats; ++r) {
    t0 = absl::Now();
    p = OrDie(surrogate.Predict(candidates), "predict");
    t_predict = std::min(t_predict, Seconds(t0));
  }

  mc::AcquisitionOptions a;
  a.policy = mc::Policy::kUcb;
  a.ucb_kappa = c.kappa;
  a.penalty_radius = c.radius;
  const std::vector<int> pending = {static_cast<int>(n / 3), static_cast<int>(2 * n / 3)};
  std::vector<mc::Pick> picks;
  double t_select = 1e300;
  for (int r = 0; r < repeats; ++r) {
    t0 = absl::Now();
    picks = OrDie(mc::SelectBatch(candidates, &p, observed, pending, 16, a), "select");
    t_select = std::min(t_select, Seconds(t0));
  }

  // Floors: the raw featurization of the same candidates, a plain torch forward of the
  // same size.
  auto embedding = std::make_shared<m::EncoderEmbedding>(
      OrDie(m::EncoderEmbedding::Fit(table, 3, settings.seed), "embedding"));
  const m::LifetimeFeaturizer featurizer(table, embedding);
  double t_features = 1e300;
  double checksum = 0;
  for (int r = 0; r < repeats; ++r) {
    t0 = absl::Now();
    for (const mc::Candidate& cand : candidates) {
      checksum += OrDie(featurizer.Features(cand.config, 0), "features")[0];
    }
    t_features = std::min(t_features, Seconds(t0));
  }
  const int inputs = featurizer.size() + 4;  // + the four charge-shape bins
  const double t_torch = m::PlainTorchForwardSeconds(static_cast<int64_t>(n), inputs,
                                                     settings.hidden, settings.members, repeats);

  std::printf("%zu candidates (%s ... %s); surrogate %d members x [%d, %d], %d inputs, "
              "pre-trained on %zu virtual cells in %.1f s, fine-tuned on %zu in %.2f s; "
              "%d torch threads (0: default), best of %d\n",
              n, candidates.front().label.c_str(), candidates.back().label.c_str(),
              settings.members, settings.hidden[0], settings.hidden[1], inputs, prior.size(),
              t_pretrain, observed.size(), t_fit, c.threads, repeats);
  std::printf("| step | seconds | per candidate |\n|---|---|---|\n");
  const auto row = [&](const char* what, double sec) {
    std::printf("| %s | %.4f | %.2f µs |\n", what, sec, 1e6 * sec / static_cast<double>(n));
  };
  row("EnumerateCandidates", t_enum);
  row("Surrogate::Predict, first call (featurizes)", t_predict_first);
  row("Surrogate::Predict, after a Fit (features cached)", t_predict);
  row("SelectBatch UCB, 16 picks, local penalization", t_select);
  row("**Predict (after a Fit) + SelectBatch**", t_predict + t_select);
  row("floor: LifetimeFeaturizer::Features, every candidate", t_features);
  row("floor: plain LibTorch forward, same rows x members", t_torch);
  std::printf("  (first pick %s, UCB %.3f; checksum %.3f)\n",
              candidates[static_cast<size_t>(picks.front().candidate)].label.c_str(),
              picks.front().acquisition, checksum);
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  ionloop::FlagTable flags(
      "campaign_bench: closed-loop campaigns on the virtual cycler (see the file's header).\n"
      "Usage: campaign_bench [flags]\n");
  flags.Int("seeds", &c.seeds, "Campaigns per policy (different random streams and cells).");
  flags.Int("batch", &c.batch, "Experiments per round (channels); 1 = sequential.");
  flags.Int("budget", &c.budget, "Most experiments per campaign (0: the whole space).");
  flags.Int("es-budget", &c.es_budget, "Experiments per campaign in the early-stopping section.");
  flags.Int("truth-seeds", &c.truth_seeds, "Virtual cells averaged into each protocol's truth.");
  flags.String("sections", &c.sections,
               "Comma list of search,earlystop,transfer,speed or all.");
  flags.String("policies", &c.policies, "Policies of the search section.");
  flags.Double("kappa", &c.kappa, "UCB kappa (log10 cycles).");
  flags.Double("xi", &c.xi, "EI margin (log10 cycles).");
  flags.Double("radius", &c.radius, "Local-penalization radius (standardized design units).");
  flags.String("init", &c.init, "First round of the model-based policies: grid or random.");
  flags.Int("fade-cells", &c.fade_cells, "LFP/graphite cells the early-cycle model trains on.");
  flags.Int("prior-cells", &c.prior_cells, "Li cells of the transfer prior.");
  flags.Double("es-interval", &c.es_interval, "Early stop when (high - low) / mean of the 95 % EOL interval is below this.");
  flags.String("transfer-policy", &c.transfer_policy, "Policy of the transfer section.");
  flags.String("es-policy", &c.es_policy, "Policy of the early-stopping section.");
  flags.Int("threads", &c.threads, "Torch threads (0: torch's default).");
  flags.Bool("print-space", &c.print_space, "Print every protocol's true life.");
  flags.Int("speed-candidates", &c.speed_candidates, "Candidates of the speed section.");
  flags.Int("speed-prior-cells", &c.speed_prior_cells,
            "Virtual cells the speed section's surrogate is pre-trained on.");
  flags.Int("speed-repeats", &c.speed_repeats, "Timed repeats in the speed section (best of).");
  if (const std::optional<int> exit_code = ionloop::bench::ParseFlags(flags, argc, argv)) {
    return *exit_code;
  }
  const ElectrodeTable table = OrDie(ionloop::instruments::LoadDefaultElectrodeTable(), "table");

  if (Wants(c, "speed")) RunSpeed(c, table);
  if (!Wants(c, "search") && !Wants(c, "earlystop") && !Wants(c, "transfer")) return 0;

  mc::SearchSpace li;
  li.ions = {Ion::kLi};
  li.positive_electrodes = {"LFP"};
  li.negative_electrodes = {"graphite"};
  li.designs = {cy::CellDesign::kCylindrical};
  li.nominal_capacity_ah = 1.1;
  SetRange(&li.charge.c1, 3, 8, 14);
  SetRange(&li.charge.soc1_percent, 5, 75, 15);
  li.charge.charge_time_to_80_h = 1.0 / 6;
  li.discharge_c_rate.values = {4};
  li.temperature_c.values = {30};
  const absl::Time t0 = absl::Now();
  const Space space = MakeSpace("LFP/graphite 10-min two-step protocols", li, table, c.truth_seeds);
  PrintSpace(space, c.print_space);
  std::printf("  (%d truth cells per protocol in %.1f s)\n", c.truth_seeds,
              absl::ToDoubleSeconds(absl::Now() - t0));

  m::TrainingSettings settings = mc::DefaultSurrogateSettings();
  settings.threads = c.threads;
  const mc::Surrogate prototype = OrDie(mc::Surrogate::Create(table, settings), "surrogate");
  const std::string scratch_bytes = OrDie(prototype.Serialize(), "serialize");
  mc::AcquisitionOptions acquisition;
  acquisition.ucb_kappa = c.kappa;
  acquisition.ei_xi = c.xi;
  acquisition.penalty_radius = c.radius;
  const mc::Policy init = OrDie(mc::ParsePolicy(c.init), "--init");

  const auto run_seeds = [&](const Space& sp, Loop loop) {
    std::vector<Outcome> v;
    for (int seed = 1; seed <= c.seeds; ++seed) {
      loop.seed = static_cast<uint64_t>(seed);
      v.push_back(RunCampaign(sp, table, loop));
    }
    return v;
  };
  const auto stat = [](const std::vector<Outcome>& v, auto field) {
    std::vector<double> x;
    for (const Outcome& o : v) x.push_back(field(o));
    return StatsOf(x);
  };

  if (Wants(c, "search")) {
    std::printf("\n## Search: experiments until a protocol within 2 %% of the best is tested\n");
    std::printf("%d campaigns per policy, batches of %d, first round of the model-based policies: "
                "%s; UCB kappa %.2f, EI xi %.3f, penalization radius %.2f\n",
                c.seeds, c.batch, c.init.c_str(), c.kappa, c.xi, c.radius);
    std::printf("| policy | experiments (proposal order) | experiments (whole rounds) | "
                "vs random | fits, s per fit |\n|---|---|---|---|---|\n");
    double random_mean = 0;
    for (absl::string_view name : absl::StrSplit(c.policies, ',')) {
      Loop loop;
      loop.policy = OrDie(mc::ParsePolicy(name), "--policies");
      loop.batch = c.batch;
      loop.budget = c.budget;
      loop.surrogate_bytes = &scratch_bytes;
      loop.acquisition = acquisition;
      loop.init = init;
      const std::vector<Outcome> v = run_seeds(space, loop);
      const Stats hit = stat(v, [](const Outcome& o) { return o.to_hit; });
      const Stats whole = stat(v, [&](const Outcome& o) { return o.hit_round * c.batch; });
      if (loop.policy == mc::Policy::kRandom) random_mean = hit.mean;
      double fits = 0, secs = 0;
      for (const Outcome& o : v) {
        fits += o.fits;
        secs += o.fit_seconds;
      }
      std::printf("| %s | %s | %s | %s | %s |\n", std::string(name).c_str(), Format(hit).c_str(),
                  Format(whole).c_str(),
                  random_mean > 0 ? absl::StrFormat("%.1f×", random_mean / hit.mean).c_str() : "-",
                  fits > 0 ? absl::StrFormat("%.0f, %.2f", fits / v.size(), secs / fits).c_str() : "-");
      std::fflush(stdout);
    }
  }

  if (Wants(c, "earlystop")) {
    std::printf("\n## Early stopping (Attia et al. 2020): tests stopped after 100 cycles when the "
                "early-cycle model is confident\n");
    // The fade model's own corpus: LFP/graphite 18650s under random two-step charges of
    // 8-15 min to 80 %, other seeds than the campaign's cells.
    const absl::Time tf = absl::Now();
    cy::Rng rng(4242, 3);
    std::vector<m::CellSeries> fade_corpus;
    m::CorpusDesign d;
    d.curve_cycles = {3, 10, 100};
    d.max_cycles = kMaxCycles;
    while (static_cast<int>(fade_corpus.size()) < c.fade_cells) {
      cy::CellConfig cfg = space.candidates[0].config;
      const double minutes = rng.Uniform(8, 15);
      const double c1 = rng.Uniform(2, 8), s1 = rng.Uniform(5, 75);
      const double left = minutes / 60 - s1 / 100 / c1;
      if (!(left > 0)) continue;
      const double c2 = (80 - s1) / 100 / left;
      if (!(c2 > 0.3 && c2 <= 12)) continue;
      cfg.protocol.charge_steps = {cy::ChargeStep{c1, s1}, cy::ChargeStep{c2, 80}};
      absl::StatusOr<m::CellSeries> cell =
          m::RunVirtualTest(cfg, table, Mix(9999, fade_corpus.size()), d);
      if (!cell.ok()) continue;
      cell->id = absl::StrFormat("fade-%04d", fade_corpus.size());
      fade_corpus.push_back(*std::move(cell));
    }
    m::FadeOptions fo;
    fo.training.threads = c.threads;
    fo.training.hidden = {64, 64};
    const m::FadeModel fade = OrDie(m::FadeModel::Train(fade_corpus, fo), "fade model");
    std::printf("fade model: %d cells, trained in %.1f s (corpus included); held-out EOL MAPE "
                "%.1f %%, 95 %% coverage %.2f\n",
                fade.report().training_cells, absl::ToDoubleSeconds(absl::Now() - tf),
                fade.report().mape_percent, fade.report().coverage_95);
    Loop loop;
    loop.policy = OrDie(mc::ParsePolicy(c.es_policy), "--es-policy");
    loop.batch = c.batch;
    loop.budget = c.es_budget;
    loop.stop_at_hit = false;
    loop.surrogate_bytes = &scratch_bytes;
    loop.acquisition = acquisition;
    loop.init = init;
    const std::vector<Outcome> full = run_seeds(space, loop);
    loop.fade = &fade;
    loop.rule.enabled = true;
    loop.rule.min_cycles = fade.late_cycle();
    loop.rule.max_relative_interval = c.es_interval;
    const std::vector<Outcome> early = run_seeds(space, loop);
    std::printf("%s, %d experiments per campaign, %d campaigns, stop when (high - low) / mean of "
                "the 95 %% EOL interval <= %.2f\n",
                c.es_policy.c_str(), c.es_budget, c.seeds, c.es_interval);
    std::printf("| campaign | channel-hours | saved vs the same tests to EOL | stopped early | "
                "regret of the recommendation | experiments to within 2 %% |\n"
                "|---|---|---|---|---|---|\n");
    for (const auto& [name, v] : {std::pair<const char*, const std::vector<Outcome>*>{"run to EOL", &full},
                                  {"early stopping", &early}}) {
      std::printf("| %s | %s | %s %% | %s %% | %s %% | %s |\n", name,
                  Format(stat(*v, [](const Outcome& o) { return o.hours; }), 0).c_str(),
                  Format(stat(*v, [](const Outcome& o) { return 100 * (1 - o.hours / o.hours_full); })).c_str(),
                  Format(stat(*v, [](const Outcome& o) { return 100.0 * o.stopped_early / o.experiments; })).c_str(),
                  Format(stat(*v, [](const Outcome& o) { return 100 * o.regret; })).c_str(),
                  Format(stat(*v, [](const Outcome& o) { return o.to_hit; })).c_str());
    }
  }

  if (Wants(c, "transfer")) {
    std::printf("\n## Transfer Li -> Na: a surrogate pre-trained on Li cells vs from scratch\n");
    mc::SearchSpace na;
    na.ions = {Ion::kNa};
    na.positive_electrodes = {"NVPF"};
    na.negative_electrodes = {"hard-carbon"};
    na.designs = {cy::CellDesign::kPouch};
    na.nominal_capacity_ah = 1.0;
    SetRange(&na.charge.c1, 2, 6, 13);
    SetRange(&na.charge.soc1_percent, 5, 75, 15);
    na.charge.charge_time_to_80_h = 0.25;
    na.discharge_c_rate.values = {1};
    na.temperature_c.values = {25};
    const Space na_space = MakeSpace("NVPF/hard-carbon 15-min two-step protocols", na, table,
                                     c.truth_seeds);
    PrintSpace(na_space, c.print_space);
    const absl::Time tp = absl::Now();
    m::CorpusDesign pd;
    pd.cells = c.prior_cells;
    pd.ions = {Ion::kLi};
    pd.curve_cycles = {};
    const std::vector<m::CellSeries> prior =
        OrDie(m::GenerateVirtualCorpus(table, pd, 2), "Li prior corpus");
    mc::Surrogate pre = OrDie(mc::Surrogate::Deserialize(scratch_bytes, table), "surrogate");
    OrDie(pre.Pretrain(prior), "pretrain");
    const std::string pre_bytes = OrDie(pre.Serialize(), "serialize");
    // How much the prior alone knows about the Na space: rank correlation with the truth.
    const mc::Surrogate::Prediction p0 = OrDie(pre.Predict(na_space.candidates), "predict");
    const auto ranks = [](const std::vector<double>& v) {
      std::vector<size_t> o(v.size());
      std::iota(o.begin(), o.end(), 0);
      std::sort(o.begin(), o.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
      std::vector<double> r(v.size());
      for (size_t i = 0; i < o.size(); ++i) r[o[i]] = static_cast<double>(i);
      return r;
    };
    const std::vector<double> rp = ranks(p0.mean_log10), rt = ranks(na_space.truth);
    double num = 0, dp = 0, dt = 0;
    const double mid = (rp.size() - 1) / 2.0;
    for (size_t i = 0; i < rp.size(); ++i) {
      num += (rp[i] - mid) * (rt[i] - mid);
      dp += (rp[i] - mid) * (rp[i] - mid);
      dt += (rt[i] - mid) * (rt[i] - mid);
    }
    std::printf("Li prior: %zu virtual cells, pre-trained in %.1f s; "
                "Spearman of its Na predictions vs the truth, before any Na result: %.2f\n",
                prior.size(), absl::ToDoubleSeconds(absl::Now() - tp), num / std::sqrt(dp * dt));
    std::printf("| surrogate | policy | experiments (proposal order) | experiments (whole rounds) | "
                "vs random |\n|---|---|---|---|---|\n");
    Loop loop;
    loop.batch = c.batch;
    loop.budget = c.budget;
    loop.acquisition = acquisition;
    loop.init = init;
    loop.policy = mc::Policy::kRandom;
    const std::vector<Outcome> rnd = run_seeds(na_space, loop);
    const double rmean = stat(rnd, [](const Outcome& o) { return o.to_hit; }).mean;
    const auto row = [&](const char* what, const std::vector<Outcome>& v) {
      const Stats hit = stat(v, [](const Outcome& o) { return o.to_hit; });
      std::printf("| %s | %s | %s | %s | %.1f× |\n", what,
                  std::string(mc::PolicyName(loop.policy)).c_str(), Format(hit).c_str(),
                  Format(stat(v, [&](const Outcome& o) { return o.hit_round * c.batch; })).c_str(),
                  rmean / hit.mean);
    };
    row("none", rnd);
    loop.policy = OrDie(mc::ParsePolicy(c.transfer_policy), "--transfer-policy");
    loop.surrogate_bytes = &scratch_bytes;
    row("from scratch", run_seeds(na_space, loop));
    loop.surrogate_bytes = &pre_bytes;
    row("pre-trained on Li, fine-tuned", run_seeds(na_space, loop));
  }
  return 0;
}
