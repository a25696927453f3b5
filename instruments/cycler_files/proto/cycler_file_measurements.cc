#include "instruments/cycler_files/proto/cycler_file_measurements.h"

namespace ionloop::instruments::cycler_files {

v1::CycleRecord ToCycleRecord(const CycleSummary& cycle) {
  v1::CycleRecord r;
  r.set_cycle_index(cycle.cycle_index > 0 ? static_cast<uint32_t>(cycle.cycle_index) : 0);
  r.set_charge_capacity_ah(cycle.charge_capacity_ah);
  r.set_discharge_capacity_ah(cycle.discharge_capacity_ah);
  r.set_charge_energy_wh(cycle.charge_energy_wh);
  r.set_discharge_energy_wh(cycle.discharge_energy_wh);
  r.set_coulombic_efficiency(cycle.coulombic_efficiency.value_or(0));
  r.set_mean_charge_voltage_v(cycle.mean_charge_voltage_v.value_or(0));
  r.set_mean_discharge_voltage_v(cycle.mean_discharge_voltage_v.value_or(0));
  r.set_internal_resistance_ohm(cycle.internal_resistance_ohm.value_or(0));
  r.set_temperature_c(cycle.temperature_c.value_or(0));
  r.set_elapsed_s(cycle.elapsed_s);
  return r;
}

v1::VoltageCurve ToVoltageCurve(const VoltageCurve& curve) {
  v1::VoltageCurve v;
  v.set_cycle_index(curve.cycle_index > 0 ? static_cast<uint32_t>(curve.cycle_index) : 0);
  v.set_is_charge(curve.is_charge);
  v.mutable_capacity_ah()->Add(curve.capacity_ah.begin(), curve.capacity_ah.end());
  v.mutable_voltage_v()->Add(curve.voltage_v.begin(), curve.voltage_v.end());
  return v;
}

std::vector<v1::Measurement> ToMeasurements(const CyclerFile& file,
                                            const MeasurementOptions& options) {
  std::vector<VoltageCurve> curves;
  if (options.discharge_curves) curves = ExtractCurves(file, /*is_charge=*/false);
  size_t next_curve = 0;
  std::vector<v1::Measurement> out;
  uint64_t seq = 0;
  for (const CycleSummary& cycle : file.cycles) {
    if (cycle.cycle_index < 1) continue;  // logged before the first cycle
    v1::Measurement& m = out.emplace_back();
    m.set_seq(++seq);
    *m.mutable_cycle() = ToCycleRecord(cycle);
    while (next_curve < curves.size() && curves[next_curve].cycle_index < cycle.cycle_index) {
      ++next_curve;
    }
    if (next_curve < curves.size() && curves[next_curve].cycle_index == cycle.cycle_index &&
        !curves[next_curve].voltage_v.empty()) {
      v1::Measurement& curve = out.emplace_back();
      curve.set_seq(++seq);
      *curve.mutable_voltage_curve() = ToVoltageCurve(curves[next_curve++]);
    }
  }
  return out;
}

}  // namespace ionloop::instruments::cycler_files
