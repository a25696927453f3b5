// Plain structs in and out of the virtual cycler. They mirror ionloop.v1.CellSpec,
// CycleRecord and VoltageCurve (protos/ionloop/v1/{cell,measurement}.proto) so that the
// worker's adapter is a field-by-field copy; nothing here knows protobuf.
#ifndef IONLOOP_INSTRUMENTS_CYCLER_CYCLER_TYPES_H_
#define IONLOOP_INSTRUMENTS_CYCLER_CYCLER_TYPES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "instruments/electrodes.h"

namespace ionloop::instruments::cycler {

enum class CellDesign : uint8_t {
  kCoin,
  kCylindrical,
  kPouch,
  kPrismatic,
  kSwagelok,
  kThreeElectrode,
};

// "coin", "cylindrical", "pouch", "prismatic", "swagelok", "three-electrode".
absl::string_view CellDesignName(CellDesign design);

// One constant-current step of a multi-step charge: the cell charges at `c_rate` until
// its state of charge reaches `until_soc_percent` (SOC counted in percent of the nominal
// capacity from the discharged state, as Severson et al. 2019 / Attia et al. 2020).
struct ChargeStep {
  double c_rate = 1;
  double until_soc_percent = 100;
};

struct CyclingProtocol {
  // Constant-current charge rate (1/h) when `charge_steps` is empty.
  double charge_c_rate = 1;
  // Multi-step fast charge. If the last step ends below 100 % SOC, the rest of the
  // charge runs at min(1C, last step's rate), as in Severson et al. 2019.
  std::vector<ChargeStep> charge_steps;
  double discharge_c_rate = 1;  // 1/h, constant current to voltage_min_v
  double voltage_min_v = 2.5;   // lower cut-off (discharge ends here)
  double voltage_max_v = 4.2;   // upper cut-off (charge: CC, then CV here until C/50)
  double temperature_c = 25;    // ambient (chamber) temperature
  double rest_minutes = 0;      // open-circuit rest after each half cycle
};

struct CellConfig {
  Ion ion = Ion::kLi;
  std::string positive_electrode;  // names from the electrode table
  std::string negative_electrode;
  std::string electrolyte;  // free text; informational
  CellDesign design = CellDesign::kCoin;
  double nominal_capacity_ah = 0.001;
  CyclingProtocol protocol;
  // End of life: true discharge capacity below this % of nominal. (The proto's 0, "the
  // default", maps to 80 in the adapter.)
  double eol_soh_percent = 80;
  // Negative-to-positive capacity ratio; 0 picks the default for the negative electrode
  // (1.1 for insertion hosts, 2 for activated carbon; metal counter electrodes are an
  // unlimited reservoir).
  double np_ratio = 0;
};

// One charge/discharge cycle as a cycler reports it (measured values: noise and the
// occasional outlier included).
struct CycleRecord {
  uint32_t cycle_index = 0;  // 1-based
  double charge_capacity_ah = 0;
  double discharge_capacity_ah = 0;
  double charge_energy_wh = 0;
  double discharge_energy_wh = 0;
  double coulombic_efficiency = 0;  // discharge / charge capacity
  double mean_charge_voltage_v = 0;
  double mean_discharge_voltage_v = 0;
  double internal_resistance_ohm = 0;  // DC resistance at 50 % SOC, cell temperature
  double temperature_c = 0;            // mean cell temperature over the cycle
  double elapsed_s = 0;                // test time at the end of this cycle

  // Ground truth, for tests and for scoring predictions on the virtual cycler; a real
  // cycler has neither (the worker does not send them).
  double true_discharge_capacity_ah = 0;  // before noise and outliers
  bool outlier = false;                   // this record was corrupted on purpose
};

// V(Q) during one half cycle.
struct VoltageCurve {
  uint32_t cycle_index = 0;
  bool is_charge = false;
  std::vector<double> capacity_ah;  // from 0 (start of the half cycle), increasing
  std::vector<double> voltage_v;    // same length
};

}  // namespace ionloop::instruments::cycler

#endif  // IONLOOP_INSTRUMENTS_CYCLER_CYCLER_TYPES_H_
