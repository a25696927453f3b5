// The virtual-cycler training corpus (DESIGN.md §6.1-6.4): a designed set of cycling tests
// like the seed's Table 1 (about 1000 tests over 11+ positive and 4+ negative electrodes,
// coin / cylindrical / pouch cells, C/10 to 8C, varied voltage windows and temperatures,
// Li and Na; optionally K and Mg), run on the virtual cycler
// (instruments/cycler/virtual_cell.h) and returned as the models' CellSeries.
//
//   ASSIGN_OR_RETURN(ElectrodeTable table, LoadDefaultElectrodeTable());
//   CorpusDesign design;                      // 1000 cells, Li + Na, seed 1
//   ASSIGN_OR_RETURN(std::vector<CellSeries> corpus,
//                    GenerateVirtualCorpus(table, design, /*threads=*/2));
//   std::printf("%s", FormatCorpusSummary(SummarizeCorpus(corpus)).c_str());
//
// Everything is deterministic in CorpusDesign::seed: the same design gives the same corpus,
// bit for bit, on any number of threads.
//
// Knows nothing of protobuf, gRPC, SQLite or torch.
#ifndef IONLOOP_MODELS_CORPUS_VIRTUAL_CORPUS_H_
#define IONLOOP_MODELS_CORPUS_VIRTUAL_CORPUS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "instruments/cycler/cycler_types.h"
#include "instruments/electrode_table.h"
#include "instruments/electrodes.h"
#include "models/data/cell_series.h"

namespace ionloop::models {

struct CorpusDesign {
  // Number of cycling tests.
  int cells = 1000;
  // Working ions. Every (positive, negative) pair of the electrode table that both support
  // one of these ions is a couple of the corpus; each couple gets cells / couples tests
  // (the remainder to the first couples of a seeded shuffle).
  std::vector<instruments::Ion> ions = {instruments::Ion::kLi, instruments::Ion::kNa};
  // Only these electrodes (table names, case-insensitive); empty: every one.
  std::vector<std::string> positive_electrodes, negative_electrodes;

  // Charge and discharge C-rates, sampled log-uniformly. The upper end is lowered per cell
  // design so that the IR drop at the highest rate stays below max_ir_drop_v (a coin or
  // Swagelok cell is not cycled at 8C): min(max_c_rate, max_ir_drop_v / r_design).
  double min_c_rate = 0.1;
  double max_c_rate = 8;
  double max_ir_drop_v = 0.4;
  // Share of cells charged with a multi-step protocol (Severson/Attia style: C1 to
  // S1 % SOC, C2 to 80 %, then min(1C, C2) with the CV finish).
  double multi_step_fraction = 0.25;

  // Chamber temperatures (°C), sampled stratified.
  std::vector<double> temperatures_c = {0, 10, 25, 35, 45};
  // Rests after each half cycle (minutes), sampled uniformly.
  std::vector<double> rest_minutes = {0, 5, 15, 30};

  // Designs of full cells, and of laboratory cells with a counter electrode in excess (a
  // metal or capacitive negative electrode: the seed's Swagelok and three-electrode
  // cells).
  std::vector<instruments::cycler::CellDesign> designs = {
      instruments::cycler::CellDesign::kCoin, instruments::cycler::CellDesign::kCylindrical,
      instruments::cycler::CellDesign::kPouch};
  std::vector<instruments::cycler::CellDesign> counter_electrode_designs = {
      instruments::cycler::CellDesign::kSwagelok, instruments::cycler::CellDesign::kThreeElectrode};

  // Voltage window around the couple's practical window (PracticalWindow below): the
  // upper cut-off is ocv_full_v + U(upper_offset_v), the lower ocv_empty_v +
  // U(lower_offset_v); clamped to [0.05, 4.95] V and at least min_window_v wide.
  double upper_offset_min_v = -0.15, upper_offset_max_v = 0.10;
  double lower_offset_min_v = -0.30, lower_offset_max_v = 0.30;
  double min_window_v = 0.5;

  // End-of-life criterion (% of nominal, on the true capacity).
  double eol_soh_percent = 80;
  // A design point is kept only if a probe cell's first cycle under the test's own
  // protocol delivers at least eol_soh_percent + min_initial_margin_percent of nominal
  // (a cell that is "dead" at cycle 1 because of its IR drop teaches nothing); otherwise
  // it is redrawn (uniformly, at most max_redraws times, then the rates are halved).
  double min_initial_margin_percent = 8;
  int max_redraws = 30;

  // Cycling stops at end of life or after max_cycles (then cycle_life is NaN).
  int max_cycles = 3000;
  // Cycles whose discharge curve Q(V) is kept, on a linear grid of curve_grid_points from
  // the cell's voltage_max_v down to its voltage_min_v; V(Q) is taken at
  // curve_source_points points before resampling.
  std::vector<int> curve_cycles = {3, 10, 100};
  int curve_grid_points = 200;
  int curve_source_points = 400;

  uint64_t seed = 1;
};

// The open-circuit window of a couple, from the electrode table (potentials moved to the
// cell's ion with standard potentials, as the virtual cycler does) and the cycler's OCV
// shapes: what bounds a sensible cycling window.
struct CoupleWindow {
  double ocv_empty_v = 0;         // cell OCV fully discharged (both electrodes at their start)
  double ocv_full_v = 0;          // cell OCV with the positive at the top of its practical window
  double positive_top_v = 0;      // positive electrode's ocv_max_v, vs the cell's ion
  double negative_charged_v = 0;  // negative electrode's potential when the cell is charged
                                  // (at 1 / N:P of its window; 0 for a metal), vs the ion
};

// INVALID_ARGUMENT naming the field for an unknown electrode, a wrong role or an ion the
// electrode is not used with.
absl::StatusOr<CoupleWindow> PracticalWindow(const instruments::ElectrodeTable& table,
                                             const instruments::cycler::CellConfig& config);

// The test plan: `design.cells` configurations, every one accepted by VirtualCell::Create.
// Couples are enumerated from the table (roles and ions); within a couple the continuous
// factors (log charge rate, log discharge rate, upper and lower voltage offsets, log
// capacity) and the categorical ones (temperature, design, rest, multi-step or not) are
// Latin-hypercube sampled, so each couple covers its whole range. The nominal capacity is
// the design's capacity rated as a manufacturer would: at C/5, 25 °C, in the cell's own
// voltage window (so the first cycles start near 100 % SOH whatever the window).
// INVALID_ARGUMENT for a bad design (naming the field); FAILED_PRECONDITION if the table
// has no couple for the ions.
absl::StatusOr<std::vector<instruments::cycler::CellConfig>> DesignCorpus(
    const instruments::ElectrodeTable& table, const CorpusDesign& design);

// Runs one cycling test on a virtual cell seeded with `seed`: until end of life or
// design.max_cycles. capacity_ah is the measured discharge capacity per cycle (noise and
// outliers included, as a real cycler reports it); curves are Q(V) at design.curve_cycles
// (those the cell lived to); cycle_life is the first cycle whose true capacity is below
// the EOL criterion, NaN if not reached within the cap. `id` is left empty (the caller
// names the cell). Errors from VirtualCell::Create pass through.
absl::StatusOr<CellSeries> RunVirtualTest(const instruments::cycler::CellConfig& config,
                                          const instruments::ElectrodeTable& table, uint64_t seed,
                                          const CorpusDesign& design);

// The seed of cell `index` of a corpus: SplitMix64 of the design seed and the index.
uint64_t CorpusCellSeed(uint64_t design_seed, int index);

// DesignCorpus, then RunVirtualTest for every configuration on `threads` workers (<= 0:
// the hardware concurrency) pulling cell indices; cell i has id "virtual-%04d" and seed
// CorpusCellSeed(design.seed, i). The result does not depend on `threads`. The first
// error, by cell index, is returned, prefixed with the cell's id.
absl::StatusOr<std::vector<CellSeries>> GenerateVirtualCorpus(
    const instruments::ElectrodeTable& table, const CorpusDesign& design, int threads);

// What a corpus holds.
struct CorpusSummary {
  int cells = 0;
  int reached_eol = 0;
  std::map<std::string, int> cells_per_ion;
  std::map<std::string, int> cells_per_couple;  // "NMC811/graphite (Li)"
  std::map<std::string, int> cells_per_design;
  std::map<std::string, int> positive_electrodes;
  std::map<std::string, int> negative_electrodes;
  // Cycle-life quantiles over the cells that reached EOL (0, 10, 25, 50, 75, 90, 100 %).
  std::vector<double> life_quantiles;
  double min_charge_c_rate = 0, max_charge_c_rate = 0;
  double min_temperature_c = 0, max_temperature_c = 0;
  int multi_step_cells = 0;
  long long total_cycles = 0;
};

CorpusSummary SummarizeCorpus(const std::vector<CellSeries>& corpus);
// A few human-readable lines.
std::string FormatCorpusSummary(const CorpusSummary& summary);

}  // namespace ionloop::models

#endif  // IONLOOP_MODELS_CORPUS_VIRTUAL_CORPUS_H_
