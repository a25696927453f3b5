// The lifetime generator's input vector (DESIGN.md §6.1): what a cell is and how it is
// cycled, known before any test, in numbers a network can read — including the electrode
// embeddings, so that a model trained on some chemistries can say something about others.
//
//   LifetimeFeaturizer featurizer(table, embedding);
//   ASSIGN_OR_RETURN(std::vector<float> x, featurizer.Features(cell.config, cell.loading_level));
//   featurizer.Names()[i]  // what x[i] is
//
// The SOH level the network is queried at is not part of this vector (the network appends
// it). Knows nothing of protobuf, gRPC, SQLite or torch.
#ifndef IONLOOP_MODELS_CORPUS_LIFETIME_FEATURES_H_
#define IONLOOP_MODELS_CORPUS_LIFETIME_FEATURES_H_

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "instruments/cycler/cycler_types.h"
#include "instruments/electrode_table.h"
#include "models/data/cell_series.h"
#include "models/data/matrix.h"
#include "models/embedding/electrode_embedding.h"

namespace ionloop::models {

// The time-weighted charge rate of a protocol: 1 / (hours to charge from 0 to 100 % SOC
// at the constant-current steps), the steps as the cycler runs them (after the last step,
// min(1C, last rate) to 100 %; the CV finish is not counted). Equal to charge_c_rate for
// a single-step charge.
double EffectiveChargeRate(const instruments::cycler::CyclingProtocol& protocol);
// The highest constant-current rate of the charge.
double MaxChargeRate(const instruments::cycler::CyclingProtocol& protocol);

class LifetimeFeaturizer {
 public:
  // Embeds every electrode of `table` once, here. A null `embedding` gives no embedding
  // features (a baseline featurizer that knows electrodes only through the table-derived
  // voltage feature). The table is copied.
  LifetimeFeaturizer(const instruments::ElectrodeTable& table,
                     std::shared_ptr<const ElectrodeEmbedding> embedding);

  // The features of one cell, in Names() order:
  //   ion_Li, ion_Na, ion_K, ion_Mg                     one-hot
  //   pos_emb_0 .. pos_emb_{d-1}, neg_emb_0 .. neg_emb_{d-1}
  //   design_coin ... design_three-electrode           one-hot (all six designs)
  //   log10_nominal_capacity_ah
  //   log10_charge_c_rate        EffectiveChargeRate
  //   log10_max_charge_c_rate    MaxChargeRate
  //   log10_discharge_c_rate
  //   voltage_min_v, voltage_max_v
  //   positive_top_vs_ocv_max_v  the positive electrode's estimated potential at the upper
  //                              cut-off (voltage_max_v + the negative's potential when
  //                              charged, vs the cell's ion) minus its table ocv_max_v (vs
  //                              the cell's ion): > 0 means charged beyond its practical
  //                              window (faster fade, more capacity)
  //   window_v                   voltage_max_v - voltage_min_v
  //   temperature_c, inv_temperature_1000_per_k
  //   rest_minutes, loading_level
  // NOT_FOUND naming the field and the electrode for an electrode that is not in the
  // table; INVALID_ARGUMENT for a wrong role or ion, a non-finite or non-positive input
  // that must be positive (capacity, rates), or any other non-finite input.
  absl::StatusOr<std::vector<float>> Features(const instruments::cycler::CellConfig& config,
                                              double loading_level) const;

  // One row per cell (Features(cell.config, cell.loading_level)); the first error is
  // returned prefixed with the cell's id.
  absl::StatusOr<Matrix> FeaturesMatrix(const std::vector<CellSeries>& cells) const;

  std::vector<std::string> Names() const { return names_; }
  int size() const { return static_cast<int>(names_.size()); }
  int embedding_dimensions() const { return dims_; }

 private:
  instruments::ElectrodeTable table_;
  std::shared_ptr<const ElectrodeEmbedding> embedding_;
  int dims_ = 0;
  std::unordered_map<std::string, std::vector<float>> embedded_;  // by canonical name
  std::vector<std::string> names_;
};

}  // namespace ionloop::models

#endif  // IONLOOP_MODELS_CORPUS_LIFETIME_FEATURES_H_
