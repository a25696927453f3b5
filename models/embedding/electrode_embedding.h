// An electrode embedding (DESIGN.md §6.1): a few numbers per electrode, computed from the
// measurable properties of the electrode table, that the lifetime models read instead of
// the electrode's name, so that a model trained on Li electrodes can say something about
// Na, K or Mg ones.
//
// Two implementations: PCA (models/embedding/pca_embedding.h) and the seed's proposed
// encoder (models/nn/encoder_embedding.h), whose existing positions do not move when an
// electrode is added. Both serialize to bytes for the model registry.
#ifndef IONLOOP_MODELS_EMBEDDING_ELECTRODE_EMBEDDING_H_
#define IONLOOP_MODELS_EMBEDDING_ELECTRODE_EMBEDDING_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "instruments/electrode_table.h"

namespace ionloop::models {

class ElectrodeEmbedding {
 public:
  virtual ~ElectrodeEmbedding() = default;

  // "pca" or "encoder".
  virtual std::string kind() const = 0;
  // Length of every embedding vector.
  virtual int dimensions() const = 0;
  // The embedding of `electrode` (a row of any electrode table: it need not be one the
  // embedding was fitted on). Missing (NaN) properties are imputed as the fit describes.
  virtual std::vector<float> Embed(const instruments::ElectrodeProperties& electrode) const = 0;
  // Everything needed to rebuild this embedding (Deserialize in its own header).
  virtual std::string Serialize() const = 0;
};

}  // namespace ionloop::models

#endif  // IONLOOP_MODELS_EMBEDDING_ELECTRODE_EMBEDDING_H_
