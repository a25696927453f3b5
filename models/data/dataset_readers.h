// Readers for public battery data-set layouts, each producing one CellSeries per cell.
// Read at run time from a directory the caller names (tests use ../shared/data); no data
// is compiled in or copied.
//
// Data-set specs (command lines, configs): "FORMAT:..." with
//   severson:ROOT:SPLIT   Severson et al. 2019 as laid out by
//                         github.com/petermattia/revisit-severson-et-al
//                         (ROOT/data/SPLIT/cellN.csv, ROOT/data/cycle_lives/SPLIT_cycle_lives.csv)
//   inl:DIR               INL NMC pouch cells (github.com/hypochen/Battery-aging-modes-across-NMC):
//                         DIR/summary.csv + DIR/Battery raw data/<pack folder>/Capacity_CellXX.csv
// ROOT and DIR may contain ':' (SPLIT is what follows the last ':'); SPLIT may not.
// New formats (e.g. "virtual:...") add a branch to ParseDatasetSpec and ReadDataset.
#ifndef IONLOOP_MODELS_DATA_DATASET_READERS_H_
#define IONLOOP_MODELS_DATA_DATASET_READERS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "models/data/cell_series.h"

namespace ionloop::models {

struct DatasetSpec {
  std::string format;  // "severson", "inl"
  std::string root;    // directory
  std::string split;   // severson: "train", "test1", "test2"; empty otherwise
};

// INVALID_ARGUMENT naming `text` for an unknown format or a missing part.
absl::StatusOr<DatasetSpec> ParseDatasetSpec(absl::string_view text);

// Severson et al. 2019 (Nature Energy 4, 383), one split.
// - Cells: ROOT/data/SPLIT/cellN.csv, N = 1..count, ordered by N numerically; id
//   "SPLIT/cellN". Each file: no header, 1000 rows (voltage 3.6 → 2.0 V, linear) × 99
//   columns (cycles 2..100) of discharge capacity Q (Ah).
// - curves: one DischargeCurve per cycle 2..100 on that grid.
// - capacity per cycle: Q at 2.0 V (the last row), i.e. the capacity discharged down to
//   the cut-off (≈1.07 Ah when new; consistent with the 0.88 Ah end-of-life threshold).
// - cycle_life: line N of ROOT/data/cycle_lives/SPLIT_cycle_lives.csv (first cycle under
//   0.88 Ah = 80 % of 1.1 Ah).
// - config: LFP / graphite, cylindrical (A123 APR18650M1A), 1.1 Ah, 30 °C chamber,
//   2.0–3.6 V, 4C discharge, rest left at 0, EOL 80 %. Charging policy from
//   ROOT/severson_et_al_SI_table9_train_test1.csv when present: "C1(Q1%)-C2" becomes
//   charge_steps {C1 until Q1 %}, {C2 until 80 %} (one step when Q1 = 80); the rest of the
//   charge is 1C CC-CV (CyclingProtocol's rule). Table rows map to cells by order: the
//   k-th row whose "Dataset" is the split's label ("Train", "Prim. Test", "Sec. Test") is
//   cellk. The mapping is used only if the number of rows equals the number of cells and
//   every row's "Cycle life" equals the cycle-lives file (true for train and test1 of the
//   revisit-severson-et-al files); otherwise protocols keep their defaults apart from
//   the facts above (charge_c_rate 1, no steps).
// Errors: NOT_FOUND for a missing directory or file; INVALID_ARGUMENT naming file:line
// for malformed content.
absl::StatusOr<std::vector<CellSeries>> ReadSeversonDataset(const std::string& root,
                                                            const std::string& split);

// INL single-layer NMC/graphite pouch cells (Chen, Walker et al., Joule 2022/2023).
// One CellSeries per summary.csv row (id "PACK-CELL", e.g. "P492-24"), capacity from
// "Battery raw data/<folder starting with PACK_>/Capacity_CellXX.csv" (XX = cell, two
// digits; folder names carry typos such as "deisgn", so only the pack prefix is matched).
// - config: positive = summary cathode (NMC532 / NMC811, electrode-table names),
//   negative graphite, pouch, charge_c_rate from "4.5C", CC-CV to charge_voltage_V.
//   Not stated in SOURCE.txt or summary.csv, so left at CyclingProtocol defaults:
//   discharge rate (1C), lower cut-off (2.5 V), temperature (25 °C), rest (0).
// - loading_level: low 1, moderate 2, high 3.
// - nominal_capacity_ah: median of the first 5 measured cycles (no rated capacity is
//   given; the median skips a low first formation-like cycle seen in P531/P540).
// - cycle_life: first cycle whose Hampel-corrected capacity (half window 5, 3σ, 2 % floor) is below
//   80 % of that nominal, NaN if none (most cells end above 80 %). The stored capacity is
//   the raw measurement.
// Errors: NOT_FOUND (missing summary, folder or file), INVALID_ARGUMENT naming file:line.
absl::StatusOr<std::vector<CellSeries>> ReadInlDataset(const std::string& dir);

// Dispatches on spec.format.
absl::StatusOr<std::vector<CellSeries>> ReadDataset(const DatasetSpec& spec);

// "5.4C(40%)-3.6C" → steps {5.4, 40}, {3.6, 80}; "4.8C(80%)-4.8C" → {4.8, 80}.
// INVALID_ARGUMENT naming the text otherwise.
absl::StatusOr<std::vector<instruments::cycler::ChargeStep>> ParseSeversonPolicy(
    absl::string_view policy);

}  // namespace ionloop::models

#endif  // IONLOOP_MODELS_DATA_DATASET_READERS_H_
