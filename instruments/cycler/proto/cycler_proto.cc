#include "instruments/cycler/proto/cycler_proto.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ionloop::instruments::cycler {

namespace cyc = instruments::cycler;
namespace files = instruments::cycler_files;

std::optional<instruments::Ion> IonFromProto(v1::Ion ion) {
  switch (ion) {
    case v1::ION_LI: return instruments::Ion::kLi;
    case v1::ION_NA: return instruments::Ion::kNa;
    case v1::ION_K: return instruments::Ion::kK;
    case v1::ION_MG: return instruments::Ion::kMg;
    default: return std::nullopt;
  }
}

v1::Ion IonToProto(instruments::Ion ion) {
  switch (ion) {
    case instruments::Ion::kLi: return v1::ION_LI;
    case instruments::Ion::kNa: return v1::ION_NA;
    case instruments::Ion::kK: return v1::ION_K;
    case instruments::Ion::kMg: return v1::ION_MG;
  }
  return v1::ION_UNSPECIFIED;
}

std::optional<cyc::CellDesign> DesignFromProto(v1::CellDesign design) {
  switch (design) {
    case v1::CELL_DESIGN_COIN: return cyc::CellDesign::kCoin;
    case v1::CELL_DESIGN_CYLINDRICAL: return cyc::CellDesign::kCylindrical;
    case v1::CELL_DESIGN_POUCH: return cyc::CellDesign::kPouch;
    case v1::CELL_DESIGN_PRISMATIC: return cyc::CellDesign::kPrismatic;
    case v1::CELL_DESIGN_SWAGELOK: return cyc::CellDesign::kSwagelok;
    case v1::CELL_DESIGN_THREE_ELECTRODE: return cyc::CellDesign::kThreeElectrode;
    default: return std::nullopt;
  }
}

v1::CellDesign DesignToProto(cyc::CellDesign design) {
  switch (design) {
    case cyc::CellDesign::kCoin: return v1::CELL_DESIGN_COIN;
    case cyc::CellDesign::kCylindrical: return v1::CELL_DESIGN_CYLINDRICAL;
    case cyc::CellDesign::kPouch: return v1::CELL_DESIGN_POUCH;
    case cyc::CellDesign::kPrismatic: return v1::CELL_DESIGN_PRISMATIC;
    case cyc::CellDesign::kSwagelok: return v1::CELL_DESIGN_SWAGELOK;
    case cyc::CellDesign::kThreeElectrode: return v1::CELL_DESIGN_THREE_ELECTRODE;
  }
  return v1::CELL_DESIGN_UNSPECIFIED;
}

double EolSohPercent(const v1::CellSpec& cell) {
  return cell.eol_soh_percent() == 0 ? kDefaultEolSohPercent : cell.eol_soh_percent();
}

absl::StatusOr<cyc::CellConfig> CellConfigFromProto(const v1::CellSpec& cell) {
  cyc::CellConfig config;
  const std::optional<instruments::Ion> ion = IonFromProto(cell.ion());
  if (!ion) {
    return absl::InvalidArgumentError(
        absl::StrCat("cell.ion: must be set, got ", v1::Ion_Name(cell.ion())));
  }
  const std::optional<cyc::CellDesign> design = DesignFromProto(cell.design());
  if (!design) {
    return absl::InvalidArgumentError(
        absl::StrCat("cell.design: must be set, got ", v1::CellDesign_Name(cell.design())));
  }
  config.ion = *ion;
  config.design = *design;
  config.positive_electrode = cell.positive_electrode();
  config.negative_electrode = cell.negative_electrode();
  config.electrolyte = cell.electrolyte();
  config.nominal_capacity_ah = cell.nominal_capacity_ah();
  config.eol_soh_percent = EolSohPercent(cell);
  const v1::CyclingProtocol& p = cell.protocol();
  cyc::CyclingProtocol& out = config.protocol;
  out.charge_c_rate = p.charge_c_rate();
  out.charge_steps.clear();
  for (const v1::ChargeStep& step : p.charge_steps()) {
    out.charge_steps.push_back(cyc::ChargeStep{step.c_rate(), step.until_soc_percent()});
  }
  out.discharge_c_rate = p.discharge_c_rate();
  out.voltage_min_v = p.voltage_min_v();
  out.voltage_max_v = p.voltage_max_v();
  out.temperature_c = p.temperature_c();
  out.rest_minutes = p.rest_minutes();
  return config;
}

v1::CellSpec CellConfigToProto(const cyc::CellConfig& c) {
  v1::CellSpec cell;
  cell.set_ion(IonToProto(c.ion));
  cell.set_positive_electrode(c.positive_electrode);
  cell.set_negative_electrode(c.negative_electrode);
  cell.set_electrolyte(c.electrolyte);
  cell.set_design(DesignToProto(c.design));
  cell.set_nominal_capacity_ah(c.nominal_capacity_ah);
  v1::CyclingProtocol* p = cell.mutable_protocol();
  p->set_charge_c_rate(c.protocol.charge_c_rate);
  for (const cyc::ChargeStep& s : c.protocol.charge_steps) {
    v1::ChargeStep* step = p->add_charge_steps();
    step->set_c_rate(s.c_rate);
    step->set_until_soc_percent(s.until_soc_percent);
  }
  p->set_discharge_c_rate(c.protocol.discharge_c_rate);
  p->set_voltage_min_v(c.protocol.voltage_min_v);
  p->set_voltage_max_v(c.protocol.voltage_max_v);
  p->set_temperature_c(c.protocol.temperature_c);
  p->set_rest_minutes(c.protocol.rest_minutes);
  cell.set_eol_soh_percent(c.eol_soh_percent);
  return cell;
}

v1::CycleRecord CycleRecordToProto(const cyc::CycleRecord& r) {
  v1::CycleRecord out;
  out.set_cycle_index(r.cycle_index);
  out.set_charge_capacity_ah(r.charge_capacity_ah);
  out.set_discharge_capacity_ah(r.discharge_capacity_ah);
  out.set_charge_energy_wh(r.charge_energy_wh);
  out.set_discharge_energy_wh(r.discharge_energy_wh);
  out.set_coulombic_efficiency(r.coulombic_efficiency);
  out.set_mean_charge_voltage_v(r.mean_charge_voltage_v);
  out.set_mean_discharge_voltage_v(r.mean_discharge_voltage_v);
  out.set_internal_resistance_ohm(r.internal_resistance_ohm);
  out.set_temperature_c(r.temperature_c);
  out.set_elapsed_s(r.elapsed_s);
  return out;
}

v1::VoltageCurve VoltageCurveToProto(const cyc::VoltageCurve& c) {
  v1::VoltageCurve out;
  out.set_cycle_index(c.cycle_index);
  out.set_is_charge(c.is_charge);
  out.mutable_capacity_ah()->Add(c.capacity_ah.begin(), c.capacity_ah.end());
  out.mutable_voltage_v()->Add(c.voltage_v.begin(), c.voltage_v.end());
  return out;
}

}  // namespace ionloop::instruments::cycler
