// The two models of DESIGN.md §6.1–6.3, each figure beside a baseline measured in the
// same run (and the published figure it answers to):
//
//   lifetime    the lifetime generator on held-out virtual-cycler cells (Li + Na): MAPE
//               of the cycle at which each SOH level is reached (scored as
//               models/model_types.h says: levels ≤ 99 %, truths ≥ 20 cycles), beside a
//               per-couple median per SOH level and a ridge regression on the same
//               inputs; the seed's CIDETEC FNN reached 6.6 % on its own held-out cells.
//   transfer    Li → Na: trained on Li plus a few Na cells (jointly, and Li then
//               fine-tuned on the few Na), scored on held-out Na; beside Na-only from
//               scratch on the same few Na cells and Li-only.
//   inl         the lifetime generator on the INL NMC/graphite pouch cells (Chen, Walker
//               et al., github.com/hypochen/Battery-aging-modes-across-NMC): held-out
//               cells, MAPE per SOH level, beside the training median per level.
//   fade        the early-cycle model on Severson et al. (Nature Energy 4 (2019) 383)
//               train → test1: RMSE and MAPE of the cycle life, beside the variance and
//               discharge models refitted here (published test1 RMSE: 138 and 91
//               cycles, the latter with one outlier cell excluded).
//   speed       training time of the lifetime model on the corpus; predictions per
//               second for --predict-cells candidate cells at EOL (one batched forward)
//               beside PlainTorchForwardSeconds of the same rows (the floor).
//   Every row also gives the 68 % / 95 % coverage of the predicted intervals.
//
//   build/bench/models_bench [--cells=1000] [--seed=1] [--sections=all] [--help]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/bench_util.h"
#include "common/flag_table.h"
#include "instruments/electrode_table.h"
#include "models/corpus/lifetime_features.h"
#include "models/data/capacity_series.h"
#include "models/data/elastic_net.h"
#include "models/dataset_loader.h"
#include "models/fade/fade_model.h"
#include "models/lifetime/lifetime_model.h"
#include "models/nn/torch_baseline.h"

namespace {

using ionloop::bench::OrDie;

namespace m = ionloop::models;
using ionloop::instruments::ElectrodeTable;

struct Config {
  int cells = 1000;
  int seed = 1;
  std::string sections = "all";
  int members = 0;
  std::string hidden;
  int epochs = 0;
  double lr = 0;
  double wd = -1;
  int patience = 0;
  int batch = 0;
  int threads = 2;
  int na_few = 20;
  double test_fraction = 0.2;
  int predict_cells = 100000;
  std::string fade_base = "variance";
  std::string data_dir = IONLOOP_SHARED_DATA_DIR;
};


m::TrainingSettings Settings(const Config& c) {
  m::TrainingSettings s;
  if (c.members > 0) s.members = c.members;
  if (!c.hidden.empty()) {
    s.hidden.clear();
    for (absl::string_view h : absl::StrSplit(c.hidden, ',')) s.hidden.push_back(std::atoi(std::string(h).c_str()));
  }
  if (c.epochs > 0) s.max_epochs = c.epochs;
  if (c.lr > 0) s.learning_rate = c.lr;
  if (c.wd >= 0) s.weight_decay = c.wd;
  if (c.patience > 0) s.patience = c.patience;
  if (c.batch > 0) s.batch_size = c.batch;
  s.seed = c.seed;
  s.threads = c.threads;
  return s;
}

// Seeded split of cells into (train, test).
void Split(const std::vector<m::CellSeries>& cells, double test_fraction, uint64_t seed,
           std::vector<m::CellSeries>* train, std::vector<m::CellSeries>* test) {
  std::vector<int> order(cells.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  const size_t n_test = static_cast<size_t>(std::round(test_fraction * cells.size()));
  for (size_t k = 0; k < order.size(); ++k) (k < n_test ? test : train)->push_back(cells[order[k]]);
}

std::string Couple(const m::CellSeries& c) {
  return c.config.positive_electrode + "/" + c.config.negative_electrode;
}

// Truths (scored rule of model_types.h) of a cell, as the lifetime model reads them.
std::vector<m::SohPoint> Truths(const m::CellSeries& cell) {
  std::vector<m::SohPoint> out;
  if (cell.cycles.size() < 2) return out;
  absl::StatusOr<m::CellSeries> clean = m::CleanCapacitySeries(cell);
  absl::StatusOr<double> ref = m::ReferenceCapacity(cell);
  if (!clean.ok() || !ref.ok()) return out;
  absl::StatusOr<std::vector<m::SohPoint>> pts =
      m::UndersampleToSohPercentiles(clean->cycles, clean->capacity_ah, *ref, 60, 1);
  if (!pts.ok()) return out;
  for (const m::SohPoint& p : *pts) {
    if (p.cycle > clean->cycles.front()) out.push_back(p);
  }
  return out;
}

struct Row {
  std::string name;
  m::Evaluation e;
  std::string note;
};

void PrintRows(const char* title, const std::vector<Row>& rows) {
  std::printf("\n%s\n", title);
  std::printf("  %-46s %7s %9s %8s %6s %6s  %s\n", "model", "points", "MAPE %", "RMSE", "cov68",
              "cov95", "note");
  for (const Row& r : rows) {
    const bool has_cov = r.e.coverage_68 > 0 || r.e.coverage_95 > 0;
    std::printf("  %-46s %7d %9.1f %8.1f %6s %6s  %s\n", r.name.c_str(), r.e.points_scored,
                r.e.mape_percent, r.e.rmse_cycles,
                has_cov ? absl::StrFormat("%.2f", r.e.coverage_68).c_str() : "-",
                has_cov ? absl::StrFormat("%.2f", r.e.coverage_95).c_str() : "-", r.note.c_str());
  }
}

// Per-(couple, SOH level) median of the training truths; the per-level median over all
// couples where a couple has no cell at that level.
m::Evaluation MedianBaseline(const std::vector<m::CellSeries>& train,
                             const std::vector<m::CellSeries>& test, bool per_couple) {
  std::map<std::pair<std::string, int>, std::vector<double>> by;
  std::map<int, std::vector<double>> all;
  for (const m::CellSeries& c : train) {
    for (const m::SohPoint& p : Truths(c)) {
      const int level = static_cast<int>(std::lround(p.soh_percent));
      by[{per_couple ? Couple(c) : "", level}].push_back(p.cycle);
      all[level].push_back(p.cycle);
    }
  }
  auto median = [](std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  };
  m::Evaluation e;
  for (const m::CellSeries& c : test) {
    for (const m::SohPoint& p : Truths(c)) {
      const int level = static_cast<int>(std::lround(p.soh_percent));
      auto it = by.find({per_couple ? Couple(c) : "", level});
      double pred = NAN;
      if (it != by.end()) {
        pred = median(it->second);
      } else if (all.count(level)) {
        pred = median(all[level]);
      }
      if (std::isnan(pred)) continue;
      m::EvaluatedPoint& q = e.points.emplace_back();
      q.cell_id = c.id;
      q.soh_percent = p.soh_percent;
      q.true_cycles = p.cycle;
      q.predicted_cycles = pred;
      q.scored = m::IsScored(p.soh_percent, p.cycle);
    }
    ++e.cells_evaluated;
  }
  m::Summarize(&e);
  return e;
}

// Ridge regression of log10(cycles) on the lifetime model's inputs (cell features, SOH
// fraction, log10(1 − SOH)).
m::Evaluation RidgeBaseline(const std::vector<m::CellSeries>& train,
                            const std::vector<m::CellSeries>& test, const ElectrodeTable& table) {
  m::LifetimeFeaturizer featurizer(table, nullptr);
  auto rows = [&](const std::vector<m::CellSeries>& cells, m::Matrix* x, std::vector<double>* y,
                  std::vector<std::pair<int, m::SohPoint>>* who) {
    x->cols = featurizer.size() + 2;
    for (size_t i = 0; i < cells.size(); ++i) {
      absl::StatusOr<std::vector<float>> f = featurizer.Features(cells[i].config, cells[i].loading_level);
      if (!f.ok()) continue;
      for (const m::SohPoint& p : Truths(cells[i])) {
        if (p.soh_percent > 99 + 1e-9 || p.cycle < 10) continue;
        x->values.insert(x->values.end(), f->begin(), f->end());
        x->values.push_back(static_cast<float>(p.soh_percent / 100));
        x->values.push_back(static_cast<float>(std::log10(1 - std::min(p.soh_percent, 99.9) / 100)));
        ++x->rows;
        y->push_back(std::log10(p.cycle));
        if (who) who->push_back({static_cast<int>(i), p});
      }
    }
  };
  m::Matrix xtr, xte;
  std::vector<double> ytr, yte;
  std::vector<std::pair<int, m::SohPoint>> who;
  rows(train, &xtr, &ytr, nullptr);
  rows(test, &xte, &yte, &who);
  m::ElasticNetOptions o;
  o.alpha = 1e-4;
  o.l1_ratio = 0;
  o.max_iterations = 2000;
  o.tolerance = 1e-7;
  m::ElasticNet model = OrDie(m::ElasticNet::Fit(xtr, ytr, o), "ridge");
  const std::vector<double> pred = model.Predict(xte);
  m::Evaluation e;
  for (size_t r = 0; r < pred.size(); ++r) {
    m::EvaluatedPoint& q = e.points.emplace_back();
    q.cell_id = test[who[r].first].id;
    q.soh_percent = who[r].second.soh_percent;
    q.true_cycles = who[r].second.cycle;
    q.predicted_cycles = std::pow(10.0, pred[r]);
    q.scored = m::IsScored(q.soh_percent, q.true_cycles);
  }
  m::Summarize(&e);
  return e;
}

m::LifetimeModel TrainLifetime(const std::vector<m::CellSeries>& cells, const ElectrodeTable& table,
                               const Config& c, double* seconds,
                               const m::LifetimeModel* base = nullptr) {
  m::LifetimeOptions o;
  o.training = Settings(c);
  const absl::Time start = absl::Now();
  m::LifetimeModel model = OrDie(m::LifetimeModel::Train(cells, table, o, {}, base), "lifetime train");
  if (seconds) *seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return model;
}

std::string PerLevel(const m::Evaluation& e, const std::vector<int>& levels) {
  std::string out;
  for (int level : levels) {
    double ape = 0;
    int n = 0;
    for (const m::EvaluatedPoint& p : e.points) {
      if (!p.scored || std::lround(p.soh_percent) != level) continue;
      ape += std::abs(p.predicted_cycles - p.true_cycles) / p.true_cycles;
      ++n;
    }
    out += n ? absl::StrFormat(" %d%%:%.1f(%d)", level, 100 * ape / n, n)
             : absl::StrFormat(" %d%%:-", level);
  }
  return out;
}

bool Wants(const Config& c, const std::string& s) {
  return c.sections == "all" || absl::StrContains(c.sections, s);
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  ionloop::FlagTable flags(
      "models_bench: the lifetime and early-cycle models beside baselines (see the file's "
      "header).\nUsage: models_bench [flags]\n");
  flags.Int("cells", &c.cells, "Virtual-cycler cells in the corpus (Li + Na).");
  flags.Int("seed", &c.seed, "Corpus, split and training seed.");
  flags.String("sections", &c.sections, "Comma list of lifetime,transfer,inl,fade,speed or all.");
  flags.Int("members", &c.members, "Ensemble members (0: the models' default).");
  flags.String("hidden", &c.hidden, "Hidden widths, e.g. 64,64 (empty: default).");
  flags.Int("epochs", &c.epochs, "Max epochs (0: default).");
  flags.Double("lr", &c.lr, "Learning rate (0: default).");
  flags.Double("wd", &c.wd, "Weight decay (< 0: the model's default).");
  flags.Int("patience", &c.patience, "Early-stopping patience (0: default).");
  flags.Int("batch", &c.batch, "Batch size (0: the model's default).");
  flags.Int("threads", &c.threads, "Torch and corpus threads.");
  flags.Int("na-few", &c.na_few, "Na cells available to the transfer models.");
  flags.Double("test-fraction", &c.test_fraction, "Held-out share of the cells.");
  flags.Int("predict-cells", &c.predict_cells, "Candidate cells in the speed test.");
  flags.String("fade-base", &c.fade_base, "The fade model's base: discharge, variance, none.");
  flags.String("data-dir", &c.data_dir, "The shared reference data (Severson, INL).");
  if (const std::optional<int> exit_code = ionloop::bench::ParseFlags(flags, argc, argv)) {
    return *exit_code;
  }
  const ElectrodeTable table = OrDie(ionloop::instruments::LoadDefaultElectrodeTable(), "table");
  std::printf("models_bench: cells=%d seed=%d threads=%d\n", c.cells, c.seed, c.threads);

  std::vector<m::CellSeries> corpus;
  if (Wants(c, "lifetime") || Wants(c, "transfer") || Wants(c, "speed")) {
    const absl::Time t0 = absl::Now();
    corpus = OrDie(m::LoadDataset(absl::StrFormat("virtual:%d:%d", c.cells, c.seed), table, c.threads),
                   "corpus");
    std::printf("corpus: %zu virtual-cycler cells in %.1f s\n", corpus.size(),
                absl::ToDoubleSeconds(absl::Now() - t0));
  }

  double train_seconds = NAN;
  std::vector<m::CellSeries> train, test;
  Split(corpus, c.test_fraction, c.seed, &train, &test);
  std::optional<m::LifetimeModel> lifetime;
  if (Wants(c, "lifetime") || Wants(c, "speed")) {
    lifetime.emplace(TrainLifetime(train, table, c, &train_seconds));
    std::vector<Row> rows;
    rows.push_back({"lifetime generator (deep ensemble)", OrDie(lifetime->Evaluate(test), "evaluate"),
                    absl::StrFormat("trained on %zu cells in %.1f s", train.size(), train_seconds)});
    rows.push_back({"ridge on the same inputs", RidgeBaseline(train, test, table), "measured here"});
    rows.push_back({"per-couple median per SOH level", MedianBaseline(train, test, true), "measured here"});
    rows.push_back({"CIDETEC FNN (seed, its own cells)", {}, "published: 6.6 % MAPE"});
    PrintRows(absl::StrFormat("Lifetime generator, held-out virtual cells (%zu train / %zu test)",
                              train.size(), test.size()).c_str(), rows);
    std::printf("  per SOH level (MAPE %%, points):%s\n",
                PerLevel(rows[0].e, {99, 95, 90, 85, 80}).c_str());
  }

  if (Wants(c, "transfer")) {
    std::vector<m::CellSeries> li, na;
    for (const m::CellSeries& cell : corpus) {
      (cell.config.ion == ionloop::instruments::Ion::kNa ? na : li).push_back(cell);
    }
    std::vector<m::CellSeries> na_train, na_test;
    Split(na, 1.0 - static_cast<double>(c.na_few) / na.size(), c.seed + 1, &na_train, &na_test);
    std::vector<m::CellSeries> joint = li;
    joint.insert(joint.end(), na_train.begin(), na_train.end());
    double s_li = 0, s_joint = 0, s_ft = 0, s_na = 0;
    m::LifetimeModel li_model = TrainLifetime(li, table, c, &s_li);
    m::LifetimeModel joint_model = TrainLifetime(joint, table, c, &s_joint);
    Config ft = c;
    ft.epochs = c.epochs > 0 ? c.epochs : 200;
    m::LifetimeModel tuned = TrainLifetime(na_train, table, ft, &s_ft, &li_model);
    m::LifetimeModel na_only = TrainLifetime(na_train, table, c, &s_na);
    std::vector<Row> rows;
    rows.push_back({"Li + few Na, trained jointly", OrDie(joint_model.Evaluate(na_test), "e"),
                    absl::StrFormat("%zu Li + %zu Na", li.size(), na_train.size())});
    rows.push_back({"Li, then fine-tuned on the few Na", OrDie(tuned.Evaluate(na_test), "e"), ""});
    rows.push_back({"Na only, from scratch (same few Na)", OrDie(na_only.Evaluate(na_test), "e"), ""});
    rows.push_back({"Li only", OrDie(li_model.Evaluate(na_test), "e"), "no Na seen"});
    rows.push_back({"per-couple median (few Na)", MedianBaseline(na_train, na_test, true), ""});
    PrintRows(absl::StrFormat("Li -> Na transfer: %zu held-out Na cells", na_test.size()).c_str(), rows);
  }

  if (Wants(c, "inl")) {
    const std::string dir = c.data_dir + "/inl_nmc_pouch";
    if (!std::filesystem::exists(dir)) {
      std::printf("\nINL: %s absent, skipped\n", dir.c_str());
    } else {
      std::vector<m::CellSeries> inl = OrDie(m::LoadDataset("inl:" + dir, table), "inl");
      std::vector<m::CellSeries> itrain, itest;
      Split(inl, 0.25, c.seed, &itrain, &itest);
      double s = 0;
      m::LifetimeModel model = TrainLifetime(itrain, table, c, &s);
      std::vector<Row> rows;
      rows.push_back({"lifetime generator (trained on INL)", OrDie(model.Evaluate(itest), "e"),
                      absl::StrFormat("%zu train cells", itrain.size())});
      rows.push_back({"ridge on the same inputs", RidgeBaseline(itrain, itest, table), ""});
      rows.push_back({"median per SOH level", MedianBaseline(itrain, itest, false), ""});
      PrintRows(absl::StrFormat("INL NMC/graphite pouch cells: %zu held-out cells", itest.size()).c_str(),
                rows);
      for (const Row& r : rows) {
        std::printf("  %-36s per level:%s\n", r.name.c_str(),
                    PerLevel(r.e, {99, 97, 95, 93, 90, 85, 80}).c_str());
      }
    }
  }

  if (Wants(c, "fade")) {
    const std::string root = c.data_dir + "/severson";
    if (!std::filesystem::exists(root)) {
      std::printf("\nSeverson: %s absent, skipped\n", root.c_str());
    } else {
      std::vector<m::CellSeries> strain = OrDie(m::LoadDataset("severson:" + root + ":train", table), "sev");
      std::vector<m::CellSeries> stest = OrDie(m::LoadDataset("severson:" + root + ":test1", table), "sev");
      std::vector<Row> rows;
      std::vector<std::string> bases = {c.fade_base};
      for (const char* b : {"discharge", "variance", "none"}) {
        if (b != c.fade_base) bases.push_back(b);
      }
      for (const std::string& base : bases) {
        m::FadeOptions o;
        o.training = Settings(c);
        o.base = base;
        const absl::Time t0 = absl::Now();
        m::FadeModel model = OrDie(m::FadeModel::Train(strain, o), "fade train");
        const double s = absl::ToDoubleSeconds(absl::Now() - t0);
        rows.push_back({absl::StrFormat("early-cycle model, base=%s", base),
                        OrDie(model.Evaluate(stest), "e"), absl::StrFormat("%.1f s", s)});
      }
      auto baseline = [&](auto& model, const char* name, const char* note) {
        if (absl::Status st = model.Fit(strain); !st.ok()) {
          std::fprintf(stderr, "%s: %s\n", name, st.ToString().c_str());
          return;
        }
        m::Evaluation e;
        for (const m::CellSeries& cell : stest) {
          absl::StatusOr<double> p = model.Predict(cell);
          if (!p.ok() || !cell.has_cycle_life()) continue;
          m::EvaluatedPoint& q = e.points.emplace_back();
          q.cell_id = cell.id;
          q.soh_percent = 80;
          q.true_cycles = cell.cycle_life;
          q.predicted_cycles = *p;
        }
        m::Summarize(&e);
        rows.push_back({name, e, note});
      };
      m::SeversonVarianceModel variance;
      m::SeversonDischargeModel discharge;
      baseline(variance, "Severson variance model (refit)", "published test1 RMSE 138");
      baseline(discharge, "Severson discharge model (refit)", "published 91 (1 outlier excl.)");
      PrintRows(absl::StrFormat("Early-cycle model, Severson train (%zu) -> test1 (%zu), cycle life",
                                strain.size(), stest.size()).c_str(), rows);
    }
  }

  if (Wants(c, "speed") && lifetime) {
    std::vector<m::LifetimeQuery> queries;
    for (int i = 0; i < c.predict_cells; ++i) {
      const m::CellSeries& cell = corpus[i % corpus.size()];
      queries.push_back({cell.config, cell.loading_level});
    }
    const absl::Time t0 = absl::Now();
    auto p = OrDie(lifetime->Predict(queries, {80}), "predict");
    const double s = absl::ToDoubleSeconds(absl::Now() - t0);
    const m::TrainingSettings st = Settings(c);
    const int grid = 21;  // 100, 99, ..., 80: the monotone grid of an EOL query
    const double floor_s =
        ionloop::models::PlainTorchForwardSeconds(static_cast<int64_t>(c.predict_cells) * grid,
                                                  lifetime->feature_names().size(), st.hidden,
                                                  st.members, 1);
    const double floor_one = ionloop::models::PlainTorchForwardSeconds(
        c.predict_cells, lifetime->feature_names().size(), st.hidden, st.members, 1);
    std::printf("\nSpeed (%d torch threads)\n", c.threads);
    std::printf("  training, lifetime generator on %zu cells:       %8.1f s\n", train.size(), train_seconds);
    std::printf("  Predict at EOL, %d cells (features + %d-level grid + ensemble): %.3f s = %.0f cells/s\n",
                c.predict_cells, grid, s, c.predict_cells / s);
    std::printf("  plain LibTorch forward, same %d rows x %d members: %.3f s = %.0f cells/s (floor)\n",
                c.predict_cells * grid, st.members, floor_s, c.predict_cells / floor_s);
    std::printf("  plain LibTorch forward, %d rows (no grid):          %.3f s\n", c.predict_cells,
                floor_one);
    std::printf("  (checksum %.3f)\n", p[0][0].cycles_mean);
  }
  return 0;
}
