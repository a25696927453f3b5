// Can this worker run this job? Pure functions of a worker's Capabilities and a JobSpec
// (DESIGN.md §4; docs/worker-protocol.md, "Capabilities and matching", lists the rules).
//
// A job's requirements are derived from its spec (JobRequirements); a worker satisfies
// them when every one of these holds:
//
//   every kind   caps.kind == the job's kind
//   cycling      cell.ion ∈ caps.ions                       (empty list: any ion)
//                cell.design ∈ caps.cell_designs            (empty list: any design)
//                protocol.temperature_c ∈ [temperature_min_c, temperature_max_c]
//                [protocol.voltage_min_v, voltage_max_v] ⊆ [voltage_min_v, voltage_max_v]
//                max C-rate × nominal_capacity_ah ≤ current_max_a
//   xrd          wavelength within 0.001 Å of one of xrd_wavelengths_angstrom (empty: any);
//                with an operando_cell, that cell's requirements as for cycling
//   simulation   engine ∈ simulation_engines                (empty: any; exact match)
//   label        method ∈ label_methods                     (empty: any; exact match)
//   synthetic    the kind only
//
// "Max C-rate" is the largest of the discharge rate and the charge rate; when the
// protocol has charge_steps the charge rate is the largest step rate (charge_c_rate is
// ignored then, as cell.proto says, so it does not count).
//
// Unset ranges. proto3 cannot tell "not declared" from 0, so a range a worker leaves at
// 0..0 (temperature, voltage) and a current_max_a of 0 mean "no limit declared": the
// requirement passes. A worker that really is limited to exactly 0 °C or 0 V has no use
// for ionloop; one limited to 0..45 °C declares min 0, max 45 and is checked normally.
// Comparisons allow a relative 1e-9 so that 3 × 0.1 Ah reads as 0.3 A.
#ifndef IONLOOP_ORCHESTRATOR_SCHEDULER_CAPABILITY_MATCH_H_
#define IONLOOP_ORCHESTRATOR_SCHEDULER_CAPABILITY_MATCH_H_

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "ionloop/v1/cell.pb.h"
#include "ionloop/v1/job.pb.h"
#include "ionloop/v1/worker.pb.h"

namespace ionloop::orchestrator::scheduler {

// Two wavelengths closer than this are the same source (Cu Kα written 1.5406 or 1.54056).
inline constexpr double kWavelengthToleranceAngstrom = 0.001;

// What a job needs of a worker, derived from its spec. Plain values: cheap to copy,
// hash and compare, so that the scheduler checks each distinct set of requirements
// against each worker once, not each job.
struct JobRequirements {
  ionloop::v1::JobKind kind = ionloop::v1::JOB_KIND_UNSPECIFIED;

  // A cell on a channel: a cycling job, or an XRD job with an operando_cell.
  bool has_cell = false;
  bool operando = false;  // the cell is an XRD job's operando_cell (messages say so)
  ionloop::v1::Ion ion = ionloop::v1::ION_UNSPECIFIED;
  ionloop::v1::CellDesign design = ionloop::v1::CELL_DESIGN_UNSPECIFIED;
  double temperature_c = 0;
  double voltage_min_v = 0;
  double voltage_max_v = 0;
  double max_c_rate = 0;           // 1/h
  double nominal_capacity_ah = 0;  // Ah
  double current_a = 0;            // max_c_rate × nominal_capacity_ah

  bool has_wavelength = false;  // XRD jobs
  double wavelength_angstrom = 0;

  std::string engine;        // simulation jobs
  std::string label_method;  // label jobs

  friend bool operator==(const JobRequirements& a, const JobRequirements& b);
  friend bool operator!=(const JobRequirements& a, const JobRequirements& b) {
    return !(a == b);
  }
  template <typename H>
  friend H AbslHashValue(H h, const JobRequirements& r) {
    return H::combine(std::move(h), r.kind, r.has_cell, r.operando, r.ion, r.design,
                      r.temperature_c, r.voltage_min_v, r.voltage_max_v, r.max_c_rate,
                      r.nominal_capacity_ah, r.current_a, r.has_wavelength,
                      r.wavelength_angstrom, r.engine, r.label_method);
  }
};

JobRequirements RequirementsOf(const ionloop::v1::JobSpec& spec);

// OK when a worker with `caps` can run a job with these requirements, else
// FAILED_PRECONDITION naming the first unmet requirement and both values, e.g.
// "temperature 60 °C outside the worker's -10..45 °C",
// "needs ion NA, worker supports LI",
// "needs current 8.8 A (4C × 2.2 Ah), worker max 5 A".
// Requirements of an operando cell are prefixed "operando cell: ".
absl::Status CheckRequirements(const ionloop::v1::Capabilities& caps,
                               const JobRequirements& requirements);

// CheckRequirements(caps, requirements).ok(), without building a message: the
// scheduler's hot path.
bool Satisfies(const ionloop::v1::Capabilities& caps, const JobRequirements& requirements);

// CheckRequirements(caps, RequirementsOf(spec)).
absl::Status CheckCapabilities(const ionloop::v1::Capabilities& caps,
                               const ionloop::v1::JobSpec& spec);

// Pinned jobs cannot move to another worker: a cycling job and an operando XRD job
// (operando_cell set) hold a physical cell on a channel, so when their worker goes away
// for good they end LOST with their data kept. Everything else (XRD of a stored sample,
// simulation, label, synthetic) is restartable: requeued with attempt + 1. A spec with
// no kind is not pinned.
bool IsPinned(const ionloop::v1::JobSpec& spec);

}  // namespace ionloop::orchestrator::scheduler

#endif  // IONLOOP_ORCHESTRATOR_SCHEDULER_CAPABILITY_MATCH_H_
