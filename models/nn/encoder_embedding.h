// Encoder electrode embedding (DESIGN.md §6.1, the default): a small autoencoder trained
// on the electrode features of models/embedding/electrode_features.h (the same encoding as
// PCA); the embedding is the bottleneck of its encoder.
//
// Stable under insertion: Fit freezes the feature standardization and the encoder; Embed
// is then a fixed function of one electrode's own properties (evaluated in plain C++ in
// double, a fixed order of operations, no LibTorch kernels), so embedding a new electrode
// never moves an existing position, and Deserialize(Serialize()) embeds bit for bit alike.
// Only an explicit refit moves positions.
//
// Network: features → hidden (tanh) → dimensions (linear code) → hidden (tanh) → features,
// trained full-batch with Adam on the mean squared reconstruction error of the fit table,
// with small Gaussian input noise (a denoising autoencoder, so that nearby property
// vectors map to nearby codes). All randomness comes from a generator seeded by `seed`.
#ifndef IONLOOP_MODELS_NN_ENCODER_EMBEDDING_H_
#define IONLOOP_MODELS_NN_ENCODER_EMBEDDING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "instruments/electrode_table.h"
#include "models/embedding/electrode_embedding.h"
#include "models/embedding/electrode_features.h"

namespace ionloop::models {

struct EncoderOptions {
  int hidden = 16;
  int epochs = 2000;
  double learning_rate = 1e-2;
  double weight_decay = 1e-4;
  double input_noise = 0.05;  // stddev of the denoising noise, standardized units
};

class EncoderEmbedding final : public ElectrodeEmbedding {
 public:
  // INVALID_ARGUMENT unless 1 <= dimensions <= the feature count, the table has at least
  // 2 electrodes and the options are sane (named). INTERNAL for a LibTorch error.
  static absl::StatusOr<EncoderEmbedding> Fit(const instruments::ElectrodeTable& table,
                                              int dimensions, uint64_t seed,
                                              const EncoderOptions& options = {});
  static absl::StatusOr<EncoderEmbedding> Deserialize(absl::string_view bytes);

  std::string kind() const override { return "encoder"; }
  int dimensions() const override { return dimensions_; }
  std::vector<float> Embed(const instruments::ElectrodeProperties& electrode) const override;
  std::string Serialize() const override;

  // Root mean squared reconstruction error of the fit table, standardized feature units
  // (1.0 ≈ no better than predicting the mean).
  double reconstruction_rmse() const { return reconstruction_rmse_; }
  // The same for one electrode: large values flag an electrode unlike the fit table.
  double ReconstructionError(const instruments::ElectrodeProperties& electrode) const;
  const ElectrodeFeatures& features() const { return features_; }

 private:
  // Dense layer y = W·x + b, W row-major [out × in].
  struct Layer {
    int in = 0, out = 0;
    std::vector<float> w, b;
  };
  static std::vector<double> Apply(const Layer& layer, const std::vector<double>& x, bool tanh);
  std::vector<double> Code(const std::vector<float>& features) const;

  ElectrodeFeatures features_;
  int dimensions_ = 0;
  Layer enc1_, enc2_, dec1_, dec2_;
  double reconstruction_rmse_ = 0;
};

}  // namespace ionloop::models

#endif  // IONLOOP_MODELS_NN_ENCODER_EMBEDDING_H_
