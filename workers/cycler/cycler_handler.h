// The cycling job kind (JobSpec.cycling): one cell on one cycler channel, cycled until
// end of life, max_cycles, or a Cancel, streaming one CycleRecord per cycle (and a
// VoltageCurve, the discharge V(Q), after each cycle listed in voltage_curve_cycles).
//
// Backends (CyclerOptions::backend):
//   virtual  the virtual cycler (instruments/cycler/virtual_cell.h), deterministic per
//            seed: seed = CyclerSeed(--seed, job id, attempt). Stops when the model's
//            true capacity falls below the EOL criterion (VirtualCell::ReachedEol).
//   replay   a recorded cycler file (instruments/cycler_files) played back as if live:
//            its per-cycle summaries (cycles ≥ 1) become CycleRecords, its discharge
//            samples the VoltageCurves. Files are assigned to jobs round-robin. Stops at
//            the end of the file, at max_cycles, or at EOL: the measured discharge
//            capacity (cycles that discharged) ≤ eol_soh_percent of the job's nominal.
//
// Pacing: each emitted cycle is preceded by ctx.SleepFor(cycle_period), or, with
// time_scale > 0, by (the cycle's simulated/recorded duration in hours × time_scale)
// seconds: a Cancel ends the wait at once.
//
// Progress: max(cycles / max_cycles, (100 − SOH) / (100 − eol_soh_percent)), clamped to
// 0..1 and never decreasing, SOH being the model's true SOH (virtual) or the measured
// discharge capacity / nominal (replay).
//
// Outcome: SUCCEEDED at EOL, max_cycles or the end of the file; on Cancel
// JobResultReport::CancelledBy (SUCCEEDED + stopped_early for "early_stop", else
// CANCELLED; "shutdown" ends no attempt: the runtime sends no result and resumes it).
// Summary: cycles (last cycle index), final_discharge_capacity_ah (median of the last 5
// cycles that discharged), final_soh_percent (that / nominal × 100), eol_cycle (when EOL
// was reached), cycles_this_attempt.
//
// Resume. Both backends are deterministic, so a checkpoint (CyclerCheckpoint) only says
// which cell/file this is and where the attempt started: the handler re-runs the source
// from cycle 1 without emitting or pacing and continues with the measurement after
// ctx.resume_after_measurement_seq() (which may fall between a cycle's record and its
// curve). The checkpoint is emitted with the first batch of every Run and then every
// `checkpoint_every_cycles` cycles. A checkpoint of an earlier attempt (Assign.checkpoint)
// continues the same cell (same seed / file) after that checkpoint's `cycles`.
#ifndef IONLOOP_WORKERS_CYCLER_CYCLER_HANDLER_H_
#define IONLOOP_WORKERS_CYCLER_CYCLER_HANDLER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "instruments/electrode_table.h"
#include "workers/runtime/job_handler.h"

namespace ionloop::worker::cycler {

enum class CyclerBackend { kVirtual, kReplay };

// "virtual", "replay".
absl::string_view CyclerBackendName(CyclerBackend backend);

struct CyclerOptions {
  CyclerBackend backend = CyclerBackend::kVirtual;
  // Wall time per emitted cycle; zero: as fast as the runtime takes them.
  absl::Duration cycle_period = absl::Milliseconds(5);
  // > 0: wall seconds per simulated (recorded) hour, instead of cycle_period.
  double time_scale = 0;
  // Mixed with the job id and attempt into each cell's seed (virtual).
  uint64_t seed = 0;
  // replay: the files, assigned to jobs round-robin (ListReplayFiles).
  std::vector<std::string> replay_files;
  uint32_t checkpoint_every_cycles = 100;
};

// The virtual cell's seed of an attempt: a stable 64-bit mix (FNV-1a of the job id,
// SplitMix64) of `base` (--seed), the job id and the attempt.
uint64_t CyclerSeed(uint64_t base, absl::string_view job_id, uint32_t attempt);

// The resume state a cycling attempt emits (opaque to the runtime): text lines
// "key=value" after a first line "ionloop-cycler-checkpoint 1".
struct CyclerCheckpoint {
  CyclerBackend backend = CyclerBackend::kVirtual;
  uint64_t seed = 0;          // virtual: the cell's seed
  std::string replay_file;    // replay: the file being played
  uint32_t attempt = 0;       // the attempt that wrote it
  uint32_t start_cycle = 0;   // that attempt's first cycle is start_cycle + 1
  uint32_t cycles = 0;        // cycles whose measurements were all emitted with it

  std::string Encode() const;
  // INVALID_ARGUMENT naming the line for anything else.
  static absl::StatusOr<CyclerCheckpoint> Decode(absl::string_view text);
};

// `path` itself when it is a file; the cycler files of a directory (sorted by name; files
// whose format ReadCyclerFile cannot read, such as Arbin metadata, .res and .ndax, are
// left out). INVALID_ARGUMENT when nothing readable is there.
absl::StatusOr<std::vector<std::string>> ListReplayFiles(const std::string& path);

// A factory of cycling handlers sharing `options`, the electrode table (loaded here for
// the virtual backend: an error if it cannot be) and the replay round-robin.
absl::StatusOr<HandlerRegistry::Factory> MakeCyclerHandlerFactory(CyclerOptions options);
// The same with a given table (tests).
HandlerRegistry::Factory MakeCyclerHandlerFactory(CyclerOptions options,
                                                  instruments::ElectrodeTable table);

}  // namespace ionloop::worker::cycler

#endif  // IONLOOP_WORKERS_CYCLER_CYCLER_HANDLER_H_
