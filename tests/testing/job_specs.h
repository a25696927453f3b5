// Valid job specs and measurements for tests.
#ifndef IONLOOP_TESTS_TESTING_JOB_SPECS_H_
#define IONLOOP_TESTS_TESTING_JOB_SPECS_H_

#include <optional>
#include <string>

#include "ionloop/v1/job.pb.h"
#include "orchestrator/jobs/job_manager.h"
#include "ionloop/v1/measurement.pb.h"

namespace ionloop::testing {

// A valid Na-ion coin cell cycling job.
inline v1::JobSpec CyclingSpec(const std::string& campaign = "") {
  v1::JobSpec spec;
  v1::CellSpec* cell = spec.mutable_cycling()->mutable_cell();
  cell->set_ion(v1::ION_NA);
  cell->set_positive_electrode("NVPF");
  cell->set_negative_electrode("hard-carbon");
  cell->set_electrolyte("1 M NaPF6 in EC/DEC");
  cell->set_design(v1::CELL_DESIGN_COIN);
  cell->set_nominal_capacity_ah(0.004);
  v1::CyclingProtocol* p = cell->mutable_protocol();
  p->set_charge_c_rate(1);
  p->set_discharge_c_rate(1);
  p->set_voltage_min_v(2.0);
  p->set_voltage_max_v(4.25);
  p->set_temperature_c(25);
  spec.mutable_cycling()->set_max_cycles(500);
  spec.set_campaign_id(campaign);
  return spec;
}

inline v1::JobSpec SyntheticSpec(uint64_t measurements = 10) {
  v1::JobSpec spec;
  spec.mutable_synthetic()->set_measurements(measurements);
  return spec;
}

inline v1::Measurement CycleMeasurement(const std::string& job_id, uint32_t attempt,
                                        uint64_t seq) {
  v1::Measurement m;
  m.set_job_id(job_id);
  m.set_attempt(attempt);
  m.set_seq(seq);
  m.mutable_recorded_at()->set_seconds(1'700'000'000 + static_cast<int64_t>(seq));
  v1::CycleRecord* c = m.mutable_cycle();
  c->set_cycle_index(static_cast<uint32_t>(seq));
  c->set_discharge_capacity_ah(1.1 - 1e-4 * static_cast<double>(seq));
  c->set_charge_capacity_ah(1.1);
  return m;
}

// TransitionDetails without C++20 designated initializers.
inline orchestrator::TransitionDetails Details(std::string message = "",
                                               std::optional<std::string> worker_id = {},
                                               std::optional<uint32_t> attempt = {},
                                               std::optional<double> progress = {}) {
  orchestrator::TransitionDetails d;
  d.message = std::move(message);
  d.worker_id = std::move(worker_id);
  d.attempt = attempt;
  d.progress = progress;
  return d;
}

}  // namespace ionloop::testing

#endif  // IONLOOP_TESTS_TESTING_JOB_SPECS_H_
