#include "orchestrator/scheduler/capability_match.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "common/job_enums.h"

namespace ionloop::orchestrator::scheduler {
namespace {

using ::ionloop::v1::Capabilities;
using ::ionloop::v1::CellSpec;
using ::ionloop::v1::JobSpec;

// ---------------------------------------------------------------------------------------
// Messages

// The shortest decimal (6 to 15 significant digits) that reads back as `v`; a value that
// needs more (4 × 2.2 = 8.8000000000000007) is written with 15 ("8.8").
std::string Num(double v) {
  char buf[32];
  for (int precision = 6; precision <= 15; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) return buf;
  }
  return buf;
}

std::string IonName(int ion) {
  const std::string& name = v1::Ion_Name(static_cast<v1::Ion>(ion));
  if (name.empty()) return absl::StrCat("ion_", ion);
  return std::string(absl::StripPrefix(name, "ION_"));
}

std::string DesignName(int design) {
  const std::string& name = v1::CellDesign_Name(static_cast<v1::CellDesign>(design));
  if (name.empty()) return absl::StrCat("design_", design);
  return std::string(absl::StripPrefix(name, "CELL_DESIGN_"));
}

// ---------------------------------------------------------------------------------------
// Comparisons. A relative 1e-9 absorbs binary rounding (3 × 0.1 = 0.30000000000000004);
// written as "inside" tests so that NaN fails them.

double Slack(double bound) { return 1e-9 * std::max(1.0, std::abs(bound)); }

bool AtLeast(double v, double lo) { return v >= lo - Slack(lo); }
bool AtMost(double v, double hi) { return v <= hi + Slack(hi); }

// 0..0: the worker declared no range (see the header).
bool Unset(double lo, double hi) { return lo == 0 && hi == 0; }

// ---------------------------------------------------------------------------------------
// The rules. `why` is null on the scheduler's hot path: no message is built then.

template <typename MakeMessage>
bool Fail(std::string* why, absl::string_view prefix, MakeMessage make) {
  if (why != nullptr) *why = absl::StrCat(prefix, make());
  return false;
}

bool CheckCell(const Capabilities& caps, const JobRequirements& r, std::string* why) {
  const absl::string_view prefix = r.operando ? "operando cell: " : "";
  if (caps.ions_size() > 0 &&
      std::find(caps.ions().begin(), caps.ions().end(), r.ion) == caps.ions().end()) {
    return Fail(why, prefix, [&] {
      return absl::StrCat("needs ion ", IonName(r.ion), ", worker supports ",
                          absl::StrJoin(caps.ions(), ", ", [](std::string* out, int ion) {
                            out->append(IonName(ion));
                          }));
    });
  }
  if (caps.cell_designs_size() > 0 &&
      std::find(caps.cell_designs().begin(), caps.cell_designs().end(), r.design) ==
          caps.cell_designs().end()) {
    return Fail(why, prefix, [&] {
      return absl::StrCat(
          "needs cell design ", DesignName(r.design), ", worker supports ",
          absl::StrJoin(caps.cell_designs(), ", ",
                        [](std::string* out, int design) { out->append(DesignName(design)); }));
    });
  }
  const double t_lo = caps.temperature_min_c();
  const double t_hi = caps.temperature_max_c();
  if (!Unset(t_lo, t_hi) && !(AtLeast(r.temperature_c, t_lo) && AtMost(r.temperature_c, t_hi))) {
    return Fail(why, prefix, [&] {
      return absl::StrCat("temperature ", Num(r.temperature_c), " °C outside the worker's ",
                          Num(t_lo), "..", Num(t_hi), " °C");
    });
  }
  const double v_lo = caps.voltage_min_v();
  const double v_hi = caps.voltage_max_v();
  if (!Unset(v_lo, v_hi) && !(AtLeast(r.voltage_min_v, v_lo) && AtMost(r.voltage_max_v, v_hi))) {
    return Fail(why, prefix, [&] {
      return absl::StrCat("voltage window ", Num(r.voltage_min_v), "..", Num(r.voltage_max_v),
                          " V outside the worker's ", Num(v_lo), "..", Num(v_hi), " V");
    });
  }
  const double i_max = caps.current_max_a();
  if (i_max != 0 && !AtMost(r.current_a, i_max)) {
    return Fail(why, prefix, [&] {
      return absl::StrCat("needs current ", Num(r.current_a), " A (", Num(r.max_c_rate), "C × ",
                          Num(r.nominal_capacity_ah), " Ah), worker max ", Num(i_max), " A");
    });
  }
  return true;
}

bool Check(const Capabilities& caps, const JobRequirements& r, std::string* why) {
  if (r.kind == v1::JOB_KIND_UNSPECIFIED) {
    return Fail(why, "", [] { return std::string("the job has no kind"); });
  }
  if (caps.kind() != r.kind) {
    return Fail(why, "", [&] {
      return absl::StrCat("worker kind ", KindName(caps.kind()), ", job is ", KindName(r.kind));
    });
  }
  switch (r.kind) {
    case v1::JOB_KIND_CYCLING:
      return CheckCell(caps, r, why);
    case v1::JOB_KIND_XRD: {
      const auto& waves = caps.xrd_wavelengths_angstrom();
      const bool wave_ok =
          waves.empty() || std::any_of(waves.begin(), waves.end(), [&](double w) {
            return std::abs(w - r.wavelength_angstrom) <= kWavelengthToleranceAngstrom;
          });
      if (!wave_ok) {
        return Fail(why, "", [&] {
          return absl::StrCat("needs wavelength ", Num(r.wavelength_angstrom),
                              " Å, worker has ",
                              absl::StrJoin(waves, ", ",
                                            [](std::string* out, double w) {
                                              out->append(Num(w));
                                            }),
                              " Å");
        });
      }
      return !r.has_cell || CheckCell(caps, r, why);
    }
    case v1::JOB_KIND_SIMULATION: {
      const auto& engines = caps.simulation_engines();
      if (!engines.empty() &&
          std::find(engines.begin(), engines.end(), r.engine) == engines.end()) {
        return Fail(why, "", [&] {
          return absl::StrCat("needs simulation engine ", r.engine, ", worker supports ",
                              absl::StrJoin(engines, ", "));
        });
      }
      return true;
    }
    case v1::JOB_KIND_LABEL: {
      const auto& methods = caps.label_methods();
      if (!methods.empty() &&
          std::find(methods.begin(), methods.end(), r.label_method) == methods.end()) {
        return Fail(why, "", [&] {
          return absl::StrCat("needs label method ", r.label_method, ", worker supports ",
                              absl::StrJoin(methods, ", "));
        });
      }
      return true;
    }
    default:  // synthetic: the kind is all
      return true;
  }
}

void AddCell(const CellSpec& cell, bool operando, JobRequirements* r) {
  r->has_cell = true;
  r->operando = operando;
  r->ion = cell.ion();
  r->design = cell.design();
  const v1::CyclingProtocol& p = cell.protocol();
  r->temperature_c = p.temperature_c();
  r->voltage_min_v = p.voltage_min_v();
  r->voltage_max_v = p.voltage_max_v();
  double charge = p.charge_c_rate();
  if (p.charge_steps_size() > 0) {  // charge_c_rate is ignored then (cell.proto)
    charge = 0;
    for (const v1::ChargeStep& step : p.charge_steps()) charge = std::max(charge, step.c_rate());
  }
  r->max_c_rate = std::max(charge, p.discharge_c_rate());
  r->nominal_capacity_ah = cell.nominal_capacity_ah();
  r->current_a = r->max_c_rate * r->nominal_capacity_ah;
}

}  // namespace

bool operator==(const JobRequirements& a, const JobRequirements& b) {
  return a.kind == b.kind && a.has_cell == b.has_cell && a.operando == b.operando &&
         a.ion == b.ion && a.design == b.design && a.temperature_c == b.temperature_c &&
         a.voltage_min_v == b.voltage_min_v && a.voltage_max_v == b.voltage_max_v &&
         a.max_c_rate == b.max_c_rate && a.nominal_capacity_ah == b.nominal_capacity_ah &&
         a.current_a == b.current_a && a.has_wavelength == b.has_wavelength &&
         a.wavelength_angstrom == b.wavelength_angstrom && a.engine == b.engine &&
         a.label_method == b.label_method;
}

JobRequirements RequirementsOf(const JobSpec& spec) {
  JobRequirements r;
  r.kind = KindOf(spec);
  switch (spec.kind_case()) {
    case JobSpec::kCycling:
      AddCell(spec.cycling().cell(), /*operando=*/false, &r);
      break;
    case JobSpec::kXrd:
      r.has_wavelength = true;
      r.wavelength_angstrom = spec.xrd().wavelength_angstrom();
      if (spec.xrd().has_operando_cell()) AddCell(spec.xrd().operando_cell(), true, &r);
      break;
    case JobSpec::kSimulation:
      r.engine = spec.simulation().engine();
      break;
    case JobSpec::kLabel:
      r.label_method = spec.label().method();
      break;
    default:
      break;
  }
  return r;
}

absl::Status CheckRequirements(const Capabilities& caps, const JobRequirements& requirements) {
  std::string why;
  if (Check(caps, requirements, &why)) return absl::OkStatus();
  return absl::FailedPreconditionError(why);
}

bool Satisfies(const Capabilities& caps, const JobRequirements& requirements) {
  return Check(caps, requirements, nullptr);
}

absl::Status CheckCapabilities(const Capabilities& caps, const JobSpec& spec) {
  return CheckRequirements(caps, RequirementsOf(spec));
}

bool IsPinned(const JobSpec& spec) {
  switch (spec.kind_case()) {
    case JobSpec::kCycling:
      return true;
    case JobSpec::kXrd:
      return spec.xrd().has_operando_cell();
    default:
      return false;
  }
}

}  // namespace ionloop::orchestrator::scheduler
