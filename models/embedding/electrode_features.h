// The input encoding shared by the electrode embeddings (PCA and encoder): one row of the
// electrode table → a fixed-length float vector, standardized with statistics frozen at
// fit time.
//
// Features, in order (feature_names() lists them):
//   * the numeric columns of ElectrodeTable::NumericColumns(), with the capacities and
//     conductivities as log10 (they span orders of magnitude; a value <= 0 counts as
//     missing);
//   * avg_potential_vs_she_v: the average potential moved to the SHE scale (E°: Li −3.04,
//     Na −2.71, K −2.93, Mg −2.37 V), so potentials measured against different metals
//     compare;
//   * indicators: role_positive, ion_Li/Na/K/Mg (the ion mask), plating_prone, ocv_shape
//     one-hot (5), and structure_family one-hot over the families present at fit time (a
//     family unknown at fit time encodes as all zeros).
// Standardization: numeric features are z-scored with the fit table's mean and standard
// deviation (a constant column gets std 1); indicators are only centred (0/1 minus the
// fit mean), so that a rare category does not dominate the variance. A missing (NaN)
// numeric value is imputed with the fit-table mean of its column, i.e. 0 after
// standardization. After Fit nothing changes: Encode() of a new electrode never alters
// the encoding of an old one.
#ifndef IONLOOP_MODELS_EMBEDDING_ELECTRODE_FEATURES_H_
#define IONLOOP_MODELS_EMBEDDING_ELECTRODE_FEATURES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "instruments/electrode_table.h"
#include "models/embedding/bytes_internal.h"

namespace ionloop::models {

class ElectrodeFeatures {
 public:
  // Fits the vocabulary and the standardization on every electrode of `table`.
  // INVALID_ARGUMENT for an empty table.
  static absl::StatusOr<ElectrodeFeatures> Fit(const instruments::ElectrodeTable& table);

  int size() const { return static_cast<int>(names_.size()); }
  const std::vector<std::string>& feature_names() const { return names_; }
  // Raw (transformed, unstandardized) features; NaN where a value is missing.
  std::vector<double> Raw(const instruments::ElectrodeProperties& electrode) const;
  // Standardized, imputed features (size() values, all finite).
  std::vector<float> Encode(const instruments::ElectrodeProperties& electrode) const;

  // Appends / reads this encoding inside an embedding's byte format.
  void WriteTo(internal::ByteWriter* out) const;
  static absl::StatusOr<ElectrodeFeatures> ReadFrom(internal::ByteReader* in);

 private:
  std::vector<std::string> families_;  // structure_family vocabulary, sorted
  std::vector<std::string> names_;
  std::vector<double> center_;
  std::vector<double> scale_;
};

}  // namespace ionloop::models

#endif  // IONLOOP_MODELS_EMBEDDING_ELECTRODE_FEATURES_H_
