#include "orchestrator/campaign/campaign_spec.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "instruments/cycler/proto/cycler_proto.h"
#include "orchestrator/jobs/job_validation.h"

namespace ionloop::orchestrator {
namespace {

namespace v1 = ::ionloop::v1;
namespace mc = ::ionloop::models::campaign;

template <typename... Args>
absl::Status Invalid(absl::string_view path, const Args&... args) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", args...));
}

std::string Field(absl::string_view path, absl::string_view name) {
  return absl::StrCat(path, ".", name);
}

// `required`: the axis must give at least one value.
absl::Status CheckAxis(const v1::Axis& a, absl::string_view path, double lo, double hi,
                       bool required) {
  const bool empty = a.values().empty() && a.min() == 0 && a.max() == 0;
  if (empty) return required ? Invalid(path, "must give values or a min..max range") : absl::OkStatus();
  for (int i = 0; i < a.values_size(); ++i) {
    const double v = a.values(i);
    if (!std::isfinite(v) || v < lo || v > hi) {
      return Invalid(absl::StrCat(path, ".values[", i, "]"), "must be in [", lo, ", ", hi,
                     "], got ", v);
    }
  }
  if (a.values().empty()) {
    if (!std::isfinite(a.min()) || a.min() < lo || a.min() > hi) {
      return Invalid(Field(path, "min"), "must be in [", lo, ", ", hi, "], got ", a.min());
    }
    if (!std::isfinite(a.max()) || a.max() < a.min() || a.max() > hi) {
      return Invalid(Field(path, "max"), "must be in [min, ", hi, "] = [", a.min(), ", ", hi,
                     "], got ", a.max());
    }
  }
  if (a.levels() > 50) return Invalid(Field(path, "levels"), "must be 0..50, got ", a.levels());
  return absl::OkStatus();
}

mc::Axis AxisOf(const v1::Axis& a) {
  mc::Axis out;
  out.min = a.min();
  out.max = a.max();
  out.values.assign(a.values().begin(), a.values().end());
  out.levels = a.levels() > 0 ? static_cast<int>(a.levels()) : 3;
  return out;
}

}  // namespace

absl::Status ValidateCampaignSpec(const v1::CampaignSpec& spec, absl::string_view path) {
  if (spec.name().size() > 128) {
    return Invalid(Field(path, "name"), "at most 128 bytes, got ", spec.name().size());
  }
  const std::string space = Field(path, "search_space");
  const v1::SearchSpace& s = spec.search_space();
  if (s.ions().empty()) return Invalid(Field(space, "ions"), "name at least one ion");
  for (int i = 0; i < s.ions_size(); ++i) {
    if (s.ions(i) == v1::ION_UNSPECIFIED || !v1::Ion_IsValid(s.ions(i))) {
      return Invalid(absl::StrCat(space, ".ions[", i, "]"), "unknown ion ", s.ions(i));
    }
  }
  if (s.positive_electrodes().empty()) {
    return Invalid(Field(space, "positive_electrodes"), "name at least one electrode");
  }
  if (s.negative_electrodes().empty()) {
    return Invalid(Field(space, "negative_electrodes"), "name at least one electrode");
  }
  for (int i = 0; i < s.designs_size(); ++i) {
    if (s.designs(i) == v1::CELL_DESIGN_UNSPECIFIED || !v1::CellDesign_IsValid(s.designs(i))) {
      return Invalid(absl::StrCat(space, ".designs[", i, "]"), "unknown design ", s.designs(i));
    }
  }
  if (!(s.nominal_capacity_ah() >= 0 && s.nominal_capacity_ah() <= 1000)) {
    return Invalid(Field(space, "nominal_capacity_ah"), "must be in [0, 1000] Ah, got ",
                   s.nominal_capacity_ah());
  }
  const std::string charge = Field(space, "charge");
  RETURN_IF_ERROR(CheckAxis(s.charge().c1_rate(), Field(charge, "c1_rate"), 0.01, 20, true));
  RETURN_IF_ERROR(CheckAxis(s.charge().soc1_percent(), Field(charge, "soc1_percent"), 1, 79,
                            false));
  RETURN_IF_ERROR(CheckAxis(s.charge().c2_rate(), Field(charge, "c2_rate"), 0.01, 20, false));
  RETURN_IF_ERROR(CheckAxis(s.discharge_c_rate(), Field(space, "discharge_c_rate"), 0.01, 20, false));
  RETURN_IF_ERROR(CheckAxis(s.temperature_c(), Field(space, "temperature_c"), -40, 80, false));
  RETURN_IF_ERROR(CheckAxis(s.voltage_min_v(), Field(space, "voltage_min_v"), 0, 5, false));
  RETURN_IF_ERROR(CheckAxis(s.voltage_max_v(), Field(space, "voltage_max_v"), 0, 5, false));
  if (s.eol_soh_percent() != 0 && !(s.eol_soh_percent() > 0 && s.eol_soh_percent() < 100)) {
    return Invalid(Field(space, "eol_soh_percent"), "must be 0 (80 %) or in (0, 100), got ",
                   s.eol_soh_percent());
  }
  if (!v1::CampaignObjective_IsValid(spec.objective())) {
    return Invalid(Field(path, "objective"), "unknown value ", spec.objective());
  }
  if (!(spec.constraints().max_charge_time_h() >= 0)) {
    return Invalid(Field(path, "constraints.max_charge_time_h"), "must be >= 0, got ",
                   spec.constraints().max_charge_time_h());
  }
  const v1::CampaignBudget& b = spec.budget();
  if (b.experiments() == 0 && b.channel_hours() == 0 && b.wall_time_s() == 0) {
    return Invalid(Field(path, "budget"),
                   "set at least one of experiments, channel_hours, wall_time_s");
  }
  if (!(b.channel_hours() >= 0) || !(b.wall_time_s() >= 0)) {
    return Invalid(Field(path, "budget"), "limits must be >= 0");
  }
  const std::string policy = Field(path, "policy");
  if (!spec.policy().name().empty()) {
    absl::StatusOr<mc::Policy> p = mc::ParsePolicy(spec.policy().name());
    if (!p.ok()) {
      return Invalid(Field(policy, "name"), "unknown policy \"", spec.policy().name(),
                     "\" (known: random, grid, ucb, ei, thompson)");
    }
  }
  if (!(spec.policy().ucb_kappa() >= 0 && spec.policy().ucb_kappa() <= 100)) {
    return Invalid(Field(policy, "ucb_kappa"), "must be in [0, 100], got ",
                   spec.policy().ucb_kappa());
  }
  if (spec.policy().parallel() > 1000) {
    return Invalid(Field(policy, "parallel"), "must be 0..1000, got ", spec.policy().parallel());
  }
  if (spec.policy().initial_random() > 10000) {
    return Invalid(Field(policy, "initial_random"), "must be 0..10000, got ",
                   spec.policy().initial_random());
  }
  if (spec.prior().has_data()) {
    const v1::DatasetSource& d = spec.prior().data();
    if (d.source_case() == v1::DatasetSource::SOURCE_NOT_SET ||
        (d.has_folder() && d.folder().empty())) {
      return Invalid(Field(path, "prior.data"), "set a folder or a store query");
    }
  }
  if (spec.early_stop().enabled()) {
    if (spec.early_stop().fade_model().empty()) {
      return Invalid(Field(path, "early_stop.fade_model"),
                     "name an early_fade model when early stopping is enabled");
    }
    const double w = spec.early_stop().max_relative_interval();
    if (!(w >= 0 && w <= 10)) {
      return Invalid(Field(path, "early_stop.max_relative_interval"), "must be in [0, 10], got ", w);
    }
  }
  if (spec.max_cycles() > 1'000'000) {
    return Invalid(Field(path, "max_cycles"), "must be 0..1000000, got ", spec.max_cycles());
  }
  v1::JobSpec labels_only;
  *labels_only.mutable_labels() = spec.labels();
  labels_only.mutable_synthetic()->set_measurements(1);
  absl::Status labels = ValidateJobSpec(labels_only, path);
  if (!labels.ok()) return labels;
  return absl::OkStatus();
}

mc::SearchSpace SearchSpaceOf(const v1::SearchSpace& s) {
  mc::SearchSpace out;
  for (int ion : s.ions()) {
    if (auto i = instruments::cycler::IonFromProto(static_cast<v1::Ion>(ion))) out.ions.push_back(*i);
  }
  out.positive_electrodes.assign(s.positive_electrodes().begin(), s.positive_electrodes().end());
  out.negative_electrodes.assign(s.negative_electrodes().begin(), s.negative_electrodes().end());
  for (int d : s.designs()) {
    if (auto design = instruments::cycler::DesignFromProto(static_cast<v1::CellDesign>(d))) {
      out.designs.push_back(*design);
    }
  }
  if (out.designs.empty()) out.designs.push_back(instruments::cycler::CellDesign::kCoin);
  if (s.nominal_capacity_ah() > 0) out.nominal_capacity_ah = s.nominal_capacity_ah();
  out.charge.c1 = AxisOf(s.charge().c1_rate());
  out.charge.soc1_percent = AxisOf(s.charge().soc1_percent());
  out.charge.c2 = AxisOf(s.charge().c2_rate());
  out.discharge_c_rate = AxisOf(s.discharge_c_rate());
  if (out.discharge_c_rate.values.empty() && out.discharge_c_rate.max == 0) {
    out.discharge_c_rate.values = {1};
  }
  out.temperature_c = AxisOf(s.temperature_c());
  if (out.temperature_c.values.empty() && out.temperature_c.max == 0 &&
      out.temperature_c.min == 0) {
    out.temperature_c.values = {25};
  }
  out.voltage_min_v = AxisOf(s.voltage_min_v());
  out.voltage_max_v = AxisOf(s.voltage_max_v());
  if (s.eol_soh_percent() > 0) out.eol_soh_percent = s.eol_soh_percent();
  return out;
}

mc::AcquisitionOptions AcquisitionOf(const v1::CampaignSpec& spec) {
  mc::AcquisitionOptions o;
  if (!spec.policy().name().empty()) o.policy = *mc::ParsePolicy(spec.policy().name());
  o.objective = spec.objective() == v1::CAMPAIGN_OBJECTIVE_LIFE_VS_CHARGE_TIME
                    ? mc::Objective::kLifeVsChargeTime
                    : mc::Objective::kMaximizeLife;
  if (spec.policy().ucb_kappa() > 0) o.ucb_kappa = spec.policy().ucb_kappa();
  o.seed = spec.policy().seed() > 0 ? spec.policy().seed() : 1;
  return o;
}

uint32_t ParallelOf(const v1::CampaignSpec& spec) {
  return spec.policy().parallel() > 0 ? spec.policy().parallel() : kDefaultParallel;
}

uint32_t MaxCyclesOf(const v1::CampaignSpec& spec) {
  return spec.max_cycles() > 0 ? spec.max_cycles() : kDefaultCampaignMaxCycles;
}

}  // namespace ionloop::orchestrator
