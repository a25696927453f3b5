// The science of a closed-loop campaign (DESIGN.md §6.7; Attia et al., Nature 578 (2020)
// 397): the candidate cells of a search space, a surrogate that predicts each one's cycle
// life with uncertainty (a deep ensemble, optionally pre-trained on prior data of another
// chemistry and fine-tuned as results arrive), acquisition functions that pick the next
// batch with diversity, and the early-stopping rule. Plain structs in and out: the
// orchestrator's campaign engine (orchestrator/campaign) turns them into jobs and rows, and
// bench/campaign_bench runs the same loop in silico on the virtual cycler.
//
// Torch-free header.
#ifndef IONLOOP_MODELS_CAMPAIGN_CAMPAIGN_SCIENCE_H_
#define IONLOOP_MODELS_CAMPAIGN_CAMPAIGN_SCIENCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "instruments/cycler/cycler_types.h"
#include "instruments/electrode_table.h"
#include "models/data/cell_series.h"
#include "models/fade/fade_model.h"
#include "models/model_types.h"

namespace ionloop::models::campaign {

// A range or a list of values for one protocol knob. A list wins when both are given.
// "Empty" means no values and min == max == 0 (so a single 0 must be given as a list).
struct Axis {
  double min = 0, max = 0;      // inclusive; min == max: a single value
  std::vector<double> values;   // explicit values
  int levels = 3;               // grid points when drawn from [min, max]
};

// One or two constant-current charge steps (Attia et al.: C1 to SOC1, then C2 to 80 %).
struct ChargeStepsSpace {
  Axis c1, soc1_percent, c2;    // c2 empty (values empty and max == 0): single-step
  // > 0: Attia et al.'s constraint of a fixed time from 0 to 80 % SOC (hours; their 10 min
  // is 1/6): c2 is not an axis but derived from (c1, soc1) so that the charge takes this
  // long; combinations that would need c2 <= 0 or above the cycler's 20C are skipped.
  double charge_time_to_80_h = 0;
};

struct SearchSpace {
  std::vector<instruments::Ion> ions;
  std::vector<std::string> positive_electrodes;  // table names; every valid couple is used
  std::vector<std::string> negative_electrodes;
  std::vector<instruments::cycler::CellDesign> designs;  // empty: coin
  double nominal_capacity_ah = 0.005;
  ChargeStepsSpace charge;
  Axis discharge_c_rate;  // empty: 1C
  Axis temperature_c;     // empty: 25 °C
  // Empty (max == 0): the couple's practical window (models/corpus PracticalWindow):
  // ocv_full_v on top, ocv_empty_v − 0.2 V at the bottom, rounded to 10 mV.
  Axis voltage_min_v, voltage_max_v;
  double eol_soh_percent = 80;
};

// One cell the campaign may test, with what the objectives need.
struct Candidate {
  int index = 0;                               // position in the enumeration
  instruments::cycler::CellConfig config;
  double charge_time_h = 0;                    // 0 → 80 % SOC at the protocol's rates
  std::string label;                           // "NVPF/hard-carbon 5.4C(40%)-3.6C 25°C"
};

// Every combination of the space's axes that the virtual cycler accepts (valid couples
// and windows), deterministic order; more than `max_candidates` → a seeded uniform sample
// of that many. INVALID_ARGUMENT naming the field for an empty or inconsistent space.
absl::StatusOr<std::vector<Candidate>> EnumerateCandidates(
    const SearchSpace& space, const instruments::ElectrodeTable& table, int max_candidates,
    uint64_t seed);

// A measured (or early-stopped and predicted) outcome of one candidate.
struct Observation {
  int candidate = 0;
  double cycle_life = 0;
  bool predicted = false;  // from the early-cycle model, not measured to EOL
};

// The surrogate: a deep ensemble on the lifetime features of a candidate (electrode
// embedding included, so Li data informs Na/K/Mg) → log10 cycle life.
// 5 members × [32, 32], 200 epochs, lr 3e-3: refits on a few hundred rows in well under
// a second on one core (the TrainingSettings defaults are the lifetime model's, 16× the
// weights).
TrainingSettings DefaultSurrogateSettings();

class Surrogate {
 public:
  Surrogate(Surrogate&&) noexcept;
  Surrogate& operator=(Surrogate&&) noexcept;
  ~Surrogate();

  // An untrained surrogate for `table` (its embedding fitted once, here). `settings` are
  // used as given; DefaultSurrogateSettings() is the small, fast ensemble meant here.
  static absl::StatusOr<Surrogate> Create(const instruments::ElectrodeTable& table,
                                          const TrainingSettings& settings);

  // Pre-training on prior cells of any chemistry (their cycle_life, or the EOL crossing of
  // their series). Later Fit calls fine-tune from these weights (transfer).
  absl::Status Pretrain(const std::vector<CellSeries>& prior);

  // (Re)fits on the campaign's observations: from the pre-trained weights when there are
  // some, else from scratch. Bumps version().
  absl::Status Fit(const std::vector<Candidate>& candidates,
                   const std::vector<Observation>& observations);

  bool trained() const;
  bool pretrained() const;
  int version() const;  // 0 before any Pretrain/Fit

  struct Prediction {
    std::vector<double> mean_log10;    // per candidate
    std::vector<double> stddev_log10;
    std::vector<std::vector<double>> members_log10;  // per member, per candidate (Thompson)
  };
  // FAILED_PRECONDITION before the first Pretrain/Fit.
  absl::StatusOr<Prediction> Predict(const std::vector<Candidate>& candidates) const;

  absl::StatusOr<std::string> Serialize() const;
  static absl::StatusOr<Surrogate> Deserialize(absl::string_view bytes,
                                               const instruments::ElectrodeTable& table);

 private:
  struct Impl;
  explicit Surrogate(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

enum class Policy { kRandom, kGrid, kUcb, kEi, kThompson };
absl::string_view PolicyName(Policy policy);         // "random", "grid", "ucb", "ei", "thompson"
absl::StatusOr<Policy> ParsePolicy(absl::string_view name);

enum class Objective {
  kMaximizeLife,             // cycles to EOL
  kLifeVsChargeTime,         // two objectives: maximize life, minimize charge time (Pareto)
};

struct AcquisitionOptions {
  Policy policy = Policy::kUcb;
  Objective objective = Objective::kMaximizeLife;
  double ucb_kappa = 1.0;     // mean + kappa * stddev (log10 cycles); tuned in campaign_bench
  double ei_xi = 0.01;        // EI exploration margin (log10 cycles)
  // Batch diversity by local penalization (González et al. 2016): after each pick, the
  // acquisition of candidates within this feature-space radius of a picked or pending
  // (running) candidate is scaled down smoothly.
  double penalty_radius = 0.25;  // tuned in campaign_bench: 0.5 over-explores
  uint64_t seed = 1;
};

// Why a candidate was proposed: stored with the proposal.
struct Pick {
  int candidate = 0;
  double mean_log10 = 0, stddev_log10 = 0;
  double acquisition = 0;
  int rank = 0;               // 1 = best of this batch
};

// Picks `count` candidates not yet observed or pending. Random and grid need no
// surrogate (`prediction` may be null). The two-objective case scalarizes with a random
// Chebyshev weight per pick (ParEGO-style) so a batch spreads along the front.
absl::StatusOr<std::vector<Pick>> SelectBatch(const std::vector<Candidate>& candidates,
                                              const Surrogate::Prediction* prediction,
                                              const std::vector<Observation>& observed,
                                              const std::vector<int>& pending, int count,
                                              const AcquisitionOptions& options);

// Pareto-optimal observations for (maximize life, minimize charge time), sorted by
// charge time.
std::vector<Observation> ParetoFront(const std::vector<Candidate>& candidates,
                                     const std::vector<Observation>& observations);

// Attia et al. 2020: stop a test once the early-cycle model is confident of its EOL.
struct EarlyStopRule {
  bool enabled = false;
  int min_cycles = 100;                // the model's late_cycle; data before it are not enough
  double max_relative_interval = 0.8; // (high − low) / mean of the 95 % EOL interval
};
// True when `forecast` (made after `cycles_done` cycles) is confident enough.
bool ShouldStopEarly(const EarlyStopRule& rule, int cycles_done, const FadeForecast& forecast);

}  // namespace ionloop::models::campaign

#endif  // IONLOOP_MODELS_CAMPAIGN_CAMPAIGN_SCIENCE_H_
