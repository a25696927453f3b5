// Every data-set form the Models API accepts, in one call:
//   severson:ROOT:SPLIT, inl:DIR       public layouts (models/data/dataset_readers.h)
//   virtual:N[:SEED[:IONS[:POS/NEG]]]  N virtual-cycler tests over the seed's Table-1
//                                      design (models/corpus/virtual_corpus.h); IONS
//                                      picks the chemistries: li, na, li+na (default), ...;
//                                      POS/NEG one couple, e.g. NVPF/hard-carbon
#ifndef IONLOOP_MODELS_DATASET_LOADER_H_
#define IONLOOP_MODELS_DATASET_LOADER_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "instruments/electrode_table.h"
#include "models/data/cell_series.h"

namespace ionloop::models {

// INVALID_ARGUMENT naming the text for an unknown form; the readers' errors otherwise.
// `threads` generate virtual corpora (<= 0: all cores).
absl::StatusOr<std::vector<CellSeries>> LoadDataset(absl::string_view spec,
                                                    const instruments::ElectrodeTable& table,
                                                    int threads = 0);

}  // namespace ionloop::models

#endif  // IONLOOP_MODELS_DATASET_LOADER_H_
