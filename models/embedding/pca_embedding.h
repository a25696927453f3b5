// PCA electrode embedding (DESIGN.md §6.1): the electrode features of
// models/embedding/electrode_features.h (standardized numeric columns plus centred
// indicators; NaN imputed with the fit mean) projected onto their first principal
// components.
//
// The covariance matrix is diagonalized by cyclic Jacobi rotations (no external library);
// components are sorted by decreasing eigenvalue and each eigenvector's sign is fixed so
// that its largest-magnitude entry (the first one, on a tie) is positive: the same table
// gives the same embedding on every machine.
//
// Caveat (the reason the encoder embedding exists): refitting after adding an electrode
// changes the means, the covariance and therefore every existing position.
#ifndef IONLOOP_MODELS_EMBEDDING_PCA_EMBEDDING_H_
#define IONLOOP_MODELS_EMBEDDING_PCA_EMBEDDING_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "instruments/electrode_table.h"
#include "models/embedding/electrode_embedding.h"
#include "models/embedding/electrode_features.h"

namespace ionloop::models {

class PcaEmbedding final : public ElectrodeEmbedding {
 public:
  // INVALID_ARGUMENT unless 1 <= dimensions <= the number of features and the table has
  // at least 2 electrodes.
  static absl::StatusOr<PcaEmbedding> Fit(const instruments::ElectrodeTable& table,
                                          int dimensions);
  static absl::StatusOr<PcaEmbedding> Deserialize(absl::string_view bytes);

  std::string kind() const override { return "pca"; }
  int dimensions() const override { return static_cast<int>(components_.size()); }
  std::vector<float> Embed(const instruments::ElectrodeProperties& electrode) const override;
  std::string Serialize() const override;

  // Variance of the standardized features along each kept component (its eigenvalue).
  const std::vector<double>& explained_variance() const { return explained_variance_; }
  // explained_variance() / the total variance of all features (each in 0..1).
  const std::vector<double>& explained_variance_ratio() const { return explained_ratio_; }
  const ElectrodeFeatures& features() const { return features_; }

 private:
  ElectrodeFeatures features_;
  std::vector<std::vector<double>> components_;  // dimensions × features, unit vectors
  std::vector<double> mean_;                     // mean encoded row of the fit table
  std::vector<double> explained_variance_;
  std::vector<double> explained_ratio_;
};

// Eigen-decomposition of a symmetric n×n matrix (row-major) by cyclic Jacobi rotations:
// eigenvalues in decreasing order, eigenvectors as rows with the sign convention above.
// Exposed for tests.
void SymmetricEigen(std::vector<double> a, int n, std::vector<double>* eigenvalues,
                    std::vector<std::vector<double>>* eigenvectors);

}  // namespace ionloop::models

#endif  // IONLOOP_MODELS_EMBEDDING_PCA_EMBEDDING_H_
