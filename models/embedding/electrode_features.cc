#include "models/embedding/electrode_features.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace ionloop::models {
namespace {

using instruments::ElectrodeProperties;
using instruments::Ion;
using instruments::OcvShape;

bool IsLogColumn(const std::string& column) {
  return column == "practical_capacity_mah_g" || column == "theoretical_capacity_mah_g" ||
         column == "electronic_conductivity_s_cm" || column == "ionic_conductivity_s_cm";
}

constexpr OcvShape kShapes[] = {OcvShape::kPlateau, OcvShape::kTwoPlateau, OcvShape::kSloping,
                                OcvShape::kCapacitive, OcvShape::kMetal};
constexpr Ion kIons[] = {Ion::kLi, Ion::kNa, Ion::kK, Ion::kMg};

size_t NumericCount() { return instruments::ElectrodeTable::NumericColumns().size() + 1; }

std::vector<std::string> Names(const std::vector<std::string>& families) {
  std::vector<std::string> names;
  for (const std::string& c : instruments::ElectrodeTable::NumericColumns()) {
    names.push_back(IsLogColumn(c) ? absl::StrCat("log10_", c) : c);
  }
  names.push_back("avg_potential_vs_she_v");
  names.push_back("role_positive");
  for (Ion ion : kIons) names.push_back(absl::StrCat("ion_", instruments::IonSymbol(ion)));
  names.push_back("plating_prone");
  for (OcvShape s : kShapes) names.push_back(absl::StrCat("ocv_shape_", OcvShapeName(s)));
  for (const std::string& f : families) names.push_back(absl::StrCat("family_", f));
  return names;
}

}  // namespace

std::vector<double> ElectrodeFeatures::Raw(const ElectrodeProperties& e) const {
  std::vector<double> v;
  v.reserve(names_.size());
  for (const std::string& c : instruments::ElectrodeTable::NumericColumns()) {
    double x = e.Numeric(c);
    if (IsLogColumn(c)) x = (std::isfinite(x) && x > 0) ? std::log10(x) : NAN;
    v.push_back(std::isfinite(x) ? x : NAN);
  }
  v.push_back(e.avg_potential_v + StandardPotentialVsShe(e.potential_vs));
  v.push_back(e.role == instruments::ElectrodeRole::kPositive ? 1 : 0);
  for (Ion ion : kIons) v.push_back(e.UsedWith(ion) ? 1 : 0);
  v.push_back(e.plating_prone ? 1 : 0);
  for (OcvShape s : kShapes) v.push_back(e.ocv_shape == s ? 1 : 0);
  for (const std::string& f : families_) v.push_back(e.structure_family == f ? 1 : 0);
  return v;
}

std::vector<float> ElectrodeFeatures::Encode(const ElectrodeProperties& e) const {
  std::vector<double> raw = Raw(e);
  std::vector<float> out(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    // NaN → the fit mean → 0 after standardization.
    out[i] = std::isnan(raw[i]) ? 0.0f : static_cast<float>((raw[i] - center_[i]) / scale_[i]);
  }
  return out;
}

absl::StatusOr<ElectrodeFeatures> ElectrodeFeatures::Fit(const instruments::ElectrodeTable& table) {
  if (table.electrodes().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("electrode table '", table.source_name(), "' has no electrodes to fit on"));
  }
  ElectrodeFeatures f;
  for (const ElectrodeProperties& e : table.electrodes()) f.families_.push_back(e.structure_family);
  std::sort(f.families_.begin(), f.families_.end());
  f.families_.erase(std::unique(f.families_.begin(), f.families_.end()), f.families_.end());
  f.names_ = Names(f.families_);
  const size_t p = f.names_.size();
  f.center_.assign(p, 0.0);
  f.scale_.assign(p, 1.0);
  std::vector<std::vector<double>> rows;
  for (const ElectrodeProperties& e : table.electrodes()) rows.push_back(f.Raw(e));
  for (size_t j = 0; j < p; ++j) {
    double sum = 0, sum2 = 0;
    int n = 0;
    for (const auto& r : rows) {
      if (std::isnan(r[j])) continue;
      sum += r[j];
      ++n;
    }
    if (n == 0) continue;  // never observed: every value imputes to 0
    const double mean = sum / n;
    for (const auto& r : rows) {
      if (!std::isnan(r[j])) sum2 += (r[j] - mean) * (r[j] - mean);
    }
    const double sd = std::sqrt(sum2 / n);
    f.center_[j] = mean;
    if (j < NumericCount()) f.scale_[j] = sd > 1e-12 ? sd : 1.0;
  }
  return f;
}

void ElectrodeFeatures::WriteTo(internal::ByteWriter* out) const {
  out->U64(families_.size());
  for (const std::string& s : families_) out->Str(s);
  out->U64(names_.size());
  for (const std::string& s : names_) out->Str(s);
  out->F64s(center_);
  out->F64s(scale_);
}

absl::StatusOr<ElectrodeFeatures> ElectrodeFeatures::ReadFrom(internal::ByteReader* in) {
  ElectrodeFeatures f;
  uint64_t n = 0;
  RETURN_IF_ERROR(in->U64(&n));
  if (n > 10000) return in->Corrupt(absl::StrCat("structure family count ", n));
  f.families_.resize(n);
  for (std::string& s : f.families_) RETURN_IF_ERROR(in->Str(&s));
  RETURN_IF_ERROR(in->U64(&n));
  if (n > 10000) return in->Corrupt(absl::StrCat("feature count ", n));
  std::vector<std::string> names(n);
  for (std::string& s : names) RETURN_IF_ERROR(in->Str(&s));
  f.names_ = Names(f.families_);
  if (names != f.names_) {
    return in->Corrupt(
        "its electrode features differ from this build's (electrode table columns changed?)");
  }
  RETURN_IF_ERROR(in->F64s(&f.center_));
  RETURN_IF_ERROR(in->F64s(&f.scale_));
  if (f.center_.size() != n || f.scale_.size() != n) {
    return in->Corrupt("standardization length does not match the feature count");
  }
  return f;
}

}  // namespace ionloop::models
