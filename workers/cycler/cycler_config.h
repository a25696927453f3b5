// The cycler worker's settings as ionloop-worker's flags (or --config file) spell them,
// turned into the Capabilities it announces and the handler's CyclerOptions. main.cc
// owns the flag table; this file only checks and converts the values.
#ifndef IONLOOP_WORKERS_CYCLER_CYCLER_CONFIG_H_
#define IONLOOP_WORKERS_CYCLER_CYCLER_CONFIG_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ionloop/v1/worker.pb.h"
#include "workers/cycler/cycler_handler.h"

namespace ionloop::worker::cycler {

struct CyclerFlags {
  std::string backend = "virtual";                  // --backend virtual|replay
  std::string replay_file;                          // --replay-file FILE|DIR
  int cycle_period_ms = 5;                          // --cycle-period-ms, ≥ 0
  double time_scale = 0;                            // --time-scale, wall s per simulated h
  std::string seed = "0";                           // --seed, uint64
  std::string temperature_range = "-20:60";         // --temperature-range MIN:MAX, °C
  std::string voltage_range = "0:5";                // --voltage-range MIN:MAX, V
  double max_current_a = 10;                        // --max-current-a, A (0: no limit)
  std::string ions = "li,na,k,mg";                  // --ions, comma-separated
  std::string designs =                             // --designs, comma-separated
      "coin,cylindrical,pouch,prismatic,swagelok,three-electrode";
};

// Fills the cycling-specific fields of `caps` (temperature and voltage ranges, current
// limit, ions, cell designs). INVALID_ARGUMENT naming the flag and the value.
absl::Status FillCyclerCapabilities(const CyclerFlags& flags, v1::Capabilities* caps);

// backend, pacing, seed and the replay files (listed now: ListReplayFiles).
absl::StatusOr<CyclerOptions> CyclerOptionsFromFlags(const CyclerFlags& flags);

}  // namespace ionloop::worker::cycler

#endif  // IONLOOP_WORKERS_CYCLER_CYCLER_CONFIG_H_
