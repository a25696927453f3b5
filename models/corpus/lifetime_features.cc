#include "models/corpus/lifetime_features.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "models/corpus/virtual_corpus.h"

namespace ionloop::models {
namespace {

using instruments::ElectrodeProperties;
using instruments::ElectrodeRole;
using instruments::Ion;
using instruments::cycler::CellConfig;
using instruments::cycler::CellDesign;
using instruments::cycler::ChargeStep;
using instruments::cycler::CyclingProtocol;

constexpr Ion kIons[] = {Ion::kLi, Ion::kNa, Ion::kK, Ion::kMg};
constexpr CellDesign kDesigns[] = {CellDesign::kCoin,     CellDesign::kCylindrical,
                                   CellDesign::kPouch,    CellDesign::kPrismatic,
                                   CellDesign::kSwagelok, CellDesign::kThreeElectrode};
constexpr double kZeroCelsius = 273.15;

absl::Status CheckFinite(absl::string_view field, double v) {
  if (std::isfinite(v)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(field, ": must be finite, got ", v));
}

absl::Status CheckPositive(absl::string_view field, double v) {
  if (std::isfinite(v) && v > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(field, ": must be finite and > 0, got ", v));
}

}  // namespace

double EffectiveChargeRate(const CyclingProtocol& protocol) {
  if (protocol.charge_steps.empty()) return protocol.charge_c_rate;
  double hours = 0, soc = 0;
  for (const ChargeStep& s : protocol.charge_steps) {
    const double end = std::min(100.0, std::max(soc, s.until_soc_percent));
    hours += (end - soc) / 100.0 / s.c_rate;
    soc = end;
  }
  if (soc < 100) hours += (100 - soc) / 100.0 / std::min(1.0, protocol.charge_steps.back().c_rate);
  return hours > 0 ? 1.0 / hours : protocol.charge_steps.front().c_rate;
}

double MaxChargeRate(const CyclingProtocol& protocol) {
  if (protocol.charge_steps.empty()) return protocol.charge_c_rate;
  double top = 0;
  for (const ChargeStep& s : protocol.charge_steps) top = std::max(top, s.c_rate);
  return top;
}

LifetimeFeaturizer::LifetimeFeaturizer(const instruments::ElectrodeTable& table,
                                       std::shared_ptr<const ElectrodeEmbedding> embedding)
    : table_(table), embedding_(std::move(embedding)) {
  dims_ = embedding_ ? embedding_->dimensions() : 0;
  if (embedding_) {
    for (const ElectrodeProperties& e : table_.electrodes()) {
      std::vector<float> v = embedding_->Embed(e);
      v.resize(static_cast<size_t>(dims_), 0.0f);  // an implementation's broken contract
                                                   // must not shift the later columns
      embedded_.emplace(e.name, std::move(v));
    }
  }
  for (Ion ion : kIons) names_.push_back(absl::StrCat("ion_", instruments::IonSymbol(ion)));
  for (int i = 0; i < dims_; ++i) names_.push_back(absl::StrCat("pos_emb_", i));
  for (int i = 0; i < dims_; ++i) names_.push_back(absl::StrCat("neg_emb_", i));
  for (CellDesign d : kDesigns) {
    names_.push_back(absl::StrCat("design_", instruments::cycler::CellDesignName(d)));
  }
  for (const char* n : {"log10_nominal_capacity_ah", "log10_charge_c_rate",
                        "log10_max_charge_c_rate", "log10_discharge_c_rate", "voltage_min_v",
                        "voltage_max_v", "positive_top_vs_ocv_max_v", "window_v", "temperature_c",
                        "inv_temperature_1000_per_k", "rest_minutes", "loading_level"}) {
    names_.push_back(n);
  }
}

absl::StatusOr<std::vector<float>> LifetimeFeaturizer::Features(const CellConfig& config,
                                                                double loading_level) const {
  // Electrodes first: an unknown one is NOT_FOUND (PracticalWindow says INVALID_ARGUMENT).
  for (const auto& [field, name] : {std::pair<const char*, const std::string*>{
                                        "positive_electrode", &config.positive_electrode},
                                    {"negative_electrode", &config.negative_electrode}}) {
    if (table_.Find(*name) == nullptr) {
      return absl::NotFoundError(absl::StrCat(field, ": unknown electrode \"", *name, "\" (not in ",
                                              table_.source_name(), ")"));
    }
  }
  const CyclingProtocol& p = config.protocol;
  RETURN_IF_ERROR(CheckPositive("nominal_capacity_ah", config.nominal_capacity_ah));
  if (p.charge_steps.empty()) {
    RETURN_IF_ERROR(CheckPositive("protocol.charge_c_rate", p.charge_c_rate));
  }
  for (size_t i = 0; i < p.charge_steps.size(); ++i) {
    RETURN_IF_ERROR(CheckPositive(absl::StrCat("protocol.charge_steps[", i, "].c_rate"),
                                  p.charge_steps[i].c_rate));
    RETURN_IF_ERROR(CheckFinite(absl::StrCat("protocol.charge_steps[", i, "].until_soc_percent"),
                                p.charge_steps[i].until_soc_percent));
  }
  RETURN_IF_ERROR(CheckPositive("protocol.discharge_c_rate", p.discharge_c_rate));
  RETURN_IF_ERROR(CheckFinite("protocol.voltage_min_v", p.voltage_min_v));
  RETURN_IF_ERROR(CheckFinite("protocol.voltage_max_v", p.voltage_max_v));
  RETURN_IF_ERROR(CheckFinite("protocol.temperature_c", p.temperature_c));
  if (!(p.temperature_c > -kZeroCelsius)) {
    return absl::InvalidArgumentError(
        absl::StrCat("protocol.temperature_c: below absolute zero, got ", p.temperature_c));
  }
  RETURN_IF_ERROR(CheckFinite("protocol.rest_minutes", p.rest_minutes));
  RETURN_IF_ERROR(CheckFinite("loading_level", loading_level));
  ASSIGN_OR_RETURN(const CoupleWindow window, PracticalWindow(table_, config));

  std::vector<float> x;
  x.reserve(names_.size());
  for (Ion ion : kIons) x.push_back(config.ion == ion ? 1.0f : 0.0f);
  if (dims_ > 0) {
    for (const std::string* name : {&config.positive_electrode, &config.negative_electrode}) {
      const std::vector<float>& e = embedded_.at(table_.Find(*name)->name);
      x.insert(x.end(), e.begin(), e.end());
    }
  }
  for (CellDesign d : kDesigns) x.push_back(config.design == d ? 1.0f : 0.0f);
  const double positive_top = p.voltage_max_v + window.negative_charged_v;
  for (double v : {std::log10(config.nominal_capacity_ah), std::log10(EffectiveChargeRate(p)),
                   std::log10(MaxChargeRate(p)), std::log10(p.discharge_c_rate), p.voltage_min_v,
                   p.voltage_max_v, positive_top - window.positive_top_v,
                   p.voltage_max_v - p.voltage_min_v, p.temperature_c,
                   1000.0 / (p.temperature_c + kZeroCelsius), p.rest_minutes, loading_level}) {
    x.push_back(static_cast<float>(v));
  }
  return x;
}

absl::StatusOr<Matrix> LifetimeFeaturizer::FeaturesMatrix(
    const std::vector<CellSeries>& cells) const {
  Matrix m(cells.size(), names_.size());
  for (size_t r = 0; r < cells.size(); ++r) {
    absl::StatusOr<std::vector<float>> x = Features(cells[r].config, cells[r].loading_level);
    if (!x.ok()) {
      return absl::Status(x.status().code(), absl::StrCat(cells[r].id, ": ", x.status().message()));
    }
    std::copy(x->begin(), x->end(), m.row(r));
  }
  return m;
}

}  // namespace ionloop::models
