// The campaign surrogate (campaign_science.h): a small deep ensemble on
//   LifetimeFeaturizer features (encoder electrode embedding, 3 dimensions)
//   ++ the charge-shape features of campaign_features_internal.h
// → log10 cycle life.
//
// Choices:
//   * homoscedastic members (MSE; each member's variance is its residual variance): with
//     the handful of rows a campaign has early on, a Gaussian-NLL variance head fits the
//     noise of the few points it saw; the spread that acquisition needs is the epistemic
//     part, the disagreement of the members;
//   * no validation split below 50 rows (each member then trains on every observation,
//     early stopping on the training loss): a 15 % split of 8 rows is one row;
//   * Fit always restarts from the pre-trained weights (a clone), never from the last
//     fit, so a model is a function of (prior, observations, settings) alone;
//   * pre-training targets: a cell's stated cycle_life, else the first crossing of its
//     cleaned capacity series under the EOL criterion; a cell that never got there
//     contributes its last measured cycle as a censored lower bound (dropping long-lived
//     cells would teach the model that nothing lives long); cells with fewer than 10
//     cycles are skipped;
//   * Predict caches the feature matrix of the last candidate set it saw (the features
//     depend only on the candidates and the table's embedding, never on the weights), so
//     re-scoring the same candidates after each Fit costs the ensemble's forward only. The
//     cache is keyed by a 64-bit fingerprint of every field of every candidate's CellConfig
//     (and their count), recomputed on each call: a set edited in place, reordered or
//     rebuilt at the same address misses the cache. The fingerprint costs a few % of
//     featurizing.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "models/campaign/campaign_features_internal.h"
#include "models/campaign/campaign_science.h"
#include "models/corpus/lifetime_features.h"
#include "models/data/capacity_series.h"
#include "models/embedding/bytes_internal.h"
#include "models/nn/encoder_embedding.h"
#include "models/nn/mlp_ensemble.h"

namespace ionloop::models::campaign {
namespace {

constexpr int kEmbeddingDimensions = 3;
constexpr int kMinFitRows = 4;           // MlpEnsemble's minimum
constexpr int kMinValidationRows = 50;   // below: no validation split
constexpr double kMinPriorCycles = 10;
constexpr char kMagic[] = "IONLOOP-CAMPAIGN-SURROGATE";

EnsembleOptions EnsembleOptionsOf(const TrainingSettings& s, size_t rows) {
  EnsembleOptions o;
  o.members = s.members;
  o.hidden = s.hidden;
  o.max_epochs = s.max_epochs;
  o.learning_rate = s.learning_rate;
  o.validation_fraction = rows >= kMinValidationRows ? s.validation_fraction : 0.0;
  o.patience = s.patience;
  o.seed = s.seed;
  o.threads = s.threads;
  o.batch_size = s.batch_size > 0 ? s.batch_size : 64;
  o.weight_decay = s.weight_decay >= 0 ? s.weight_decay : 1e-4;
  o.heteroscedastic = false;
  return o;
}

// Cycles to EOL of a prior cell (see the header comment); nullopt to skip it.
std::optional<double> PriorLife(const CellSeries& cell) {
  if (cell.has_cycle_life()) {
    if (std::isfinite(cell.cycle_life) && cell.cycle_life >= 1) return cell.cycle_life;
    return std::nullopt;
  }
  if (cell.cycles.size() < 2 || cell.cycles.size() != cell.capacity_ah.size()) return std::nullopt;
  if (cell.cycles.back() < kMinPriorCycles) return std::nullopt;
  absl::StatusOr<CellSeries> clean = CleanCapacitySeries(cell);
  absl::StatusOr<double> reference = ReferenceCapacity(cell);
  if (!clean.ok() || !reference.ok()) return std::nullopt;
  const double eol = cell.config.eol_soh_percent / 100.0 * *reference;
  const std::vector<double>& q = clean->capacity_ah;
  for (size_t i = 0; i < q.size(); ++i) {
    if (q[i] < eol) {
      if (i == 0) return clean->cycles[0];
      const double f = (q[i - 1] - eol) / (q[i - 1] - q[i]);
      return clean->cycles[i - 1] + f * (clean->cycles[i] - clean->cycles[i - 1]);
    }
  }
  return cell.cycles.back();  // censored: a lower bound
}

void WriteSettings(const TrainingSettings& s, models::internal::ByteWriter* w) {
  w->I32(s.members);
  w->U64(s.hidden.size());
  for (int h : s.hidden) w->I32(h);
  w->I32(s.max_epochs);
  w->F64(s.learning_rate);
  w->F64(s.validation_fraction);
  w->I32(s.patience);
  w->U64(s.seed);
  w->I32(s.threads);
  w->F64(s.weight_decay);
  w->I32(s.batch_size);
}

absl::Status ReadSettings(models::internal::ByteReader* r, TrainingSettings* s) {
  RETURN_IF_ERROR(r->I32(&s->members));
  uint64_t n = 0;
  RETURN_IF_ERROR(r->U64(&n));
  if (n > 64) return r->Corrupt(absl::StrCat(n, " hidden layers"));
  s->hidden.assign(n, 0);
  for (int& h : s->hidden) RETURN_IF_ERROR(r->I32(&h));
  RETURN_IF_ERROR(r->I32(&s->max_epochs));
  RETURN_IF_ERROR(r->F64(&s->learning_rate));
  RETURN_IF_ERROR(r->F64(&s->validation_fraction));
  RETURN_IF_ERROR(r->I32(&s->patience));
  RETURN_IF_ERROR(r->U64(&s->seed));
  RETURN_IF_ERROR(r->I32(&s->threads));
  RETURN_IF_ERROR(r->F64(&s->weight_decay));
  return r->I32(&s->batch_size);
}

uint64_t Mix64(uint64_t h, uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  h ^= h >> 31;
  h *= 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 29);
}
uint64_t MixDouble(uint64_t h, double v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  return Mix64(h, bits);
}
uint64_t MixString(uint64_t h, const std::string& v) {
  return Mix64(Mix64(h, v.size()), std::hash<std::string_view>{}(v));
}

// A fingerprint of every field of every candidate's config (see the file comment).
uint64_t FingerprintOf(const std::vector<Candidate>& candidates) {
  uint64_t h = Mix64(0x6A09E667F3BCC909ull, candidates.size());
  for (const Candidate& cand : candidates) {
    const instruments::cycler::CellConfig& c = cand.config;
    h = Mix64(h, static_cast<uint64_t>(c.ion));
    h = MixString(h, c.positive_electrode);
    h = MixString(h, c.negative_electrode);
    h = MixString(h, c.electrolyte);
    h = Mix64(h, static_cast<uint64_t>(c.design));
    h = MixDouble(h, c.nominal_capacity_ah);
    h = MixDouble(h, c.eol_soh_percent);
    h = MixDouble(h, c.np_ratio);
    const instruments::cycler::CyclingProtocol& p = c.protocol;
    h = MixDouble(h, p.charge_c_rate);
    h = Mix64(h, p.charge_steps.size());
    for (const instruments::cycler::ChargeStep& st : p.charge_steps) {
      h = MixDouble(h, st.c_rate);
      h = MixDouble(h, st.until_soc_percent);
    }
    h = MixDouble(h, p.discharge_c_rate);
    h = MixDouble(h, p.voltage_min_v);
    h = MixDouble(h, p.voltage_max_v);
    h = MixDouble(h, p.temperature_c);
    h = MixDouble(h, p.rest_minutes);
  }
  return h;
}

}  // namespace

TrainingSettings DefaultSurrogateSettings() {
  TrainingSettings s;
  s.members = 5;
  s.hidden = {32, 32};
  s.max_epochs = 200;
  s.learning_rate = 3e-3;
  s.validation_fraction = 0.15;
  s.patience = 20;
  s.weight_decay = 1e-4;
  s.batch_size = 64;
  return s;
}

struct Surrogate::Impl {
  TrainingSettings settings;
  std::shared_ptr<const EncoderEmbedding> embedding;
  std::unique_ptr<LifetimeFeaturizer> featurizer;
  std::optional<MlpEnsemble> pretrained;
  std::optional<MlpEnsemble> fitted;
  int version = 0;

  // Predict's feature cache (see the file comment); guarded by cache_mutex so that
  // concurrent const Predict calls stay safe.
  mutable std::mutex cache_mutex;
  mutable uint64_t cache_key = 0;
  mutable size_t cache_rows = 0;
  mutable std::shared_ptr<const Matrix> cache;

  // The candidates' feature matrix, from the cache when it holds this set.
  absl::StatusOr<std::shared_ptr<const Matrix>> CachedCandidateMatrix(
      const std::vector<Candidate>& candidates) const {
    const uint64_t key = FingerprintOf(candidates);
    {
      std::lock_guard<std::mutex> lock(cache_mutex);
      if (cache != nullptr && cache_key == key && cache_rows == candidates.size()) return cache;
    }
    ASSIGN_OR_RETURN(Matrix x, CandidateMatrix(candidates));
    auto shared = std::make_shared<const Matrix>(std::move(x));
    std::lock_guard<std::mutex> lock(cache_mutex);
    cache_key = key;
    cache_rows = candidates.size();
    cache = shared;
    return shared;
  }

  int cols() const { return featurizer->size() + internal::kChargeShapeBins; }

  absl::Status Row(const instruments::cycler::CellConfig& config, double loading,
                   float* out) const {
    ASSIGN_OR_RETURN(std::vector<float> f, featurizer->Features(config, loading));
    std::copy(f.begin(), f.end(), out);
    const auto shape = internal::ChargeShapeFeatures(config.protocol);
    std::copy(shape.begin(), shape.end(), out + f.size());
    return absl::OkStatus();
  }

  absl::StatusOr<Matrix> CandidateMatrix(const std::vector<Candidate>& candidates) const {
    Matrix x(candidates.size(), static_cast<size_t>(cols()));
    for (size_t i = 0; i < candidates.size(); ++i) {
      absl::Status s = Row(candidates[i].config, 0, x.row(i));
      if (!s.ok()) {
        return absl::Status(s.code(), absl::StrCat("candidates[", i, "] (", candidates[i].label,
                                                   "): ", s.message()));
      }
    }
    return x;
  }

  const MlpEnsemble* current() const {
    if (fitted) return &*fitted;
    if (pretrained) return &*pretrained;
    return nullptr;
  }
};

Surrogate::Surrogate(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Surrogate::Surrogate(Surrogate&&) noexcept = default;
Surrogate& Surrogate::operator=(Surrogate&&) noexcept = default;
Surrogate::~Surrogate() = default;

absl::StatusOr<Surrogate> Surrogate::Create(const instruments::ElectrodeTable& table,
                                            const TrainingSettings& settings) {
  if (settings.members < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("settings.members: must be >= 1, got ", settings.members));
  }
  if (settings.max_epochs < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("settings.max_epochs: must be >= 1, got ", settings.max_epochs));
  }
  auto impl = std::make_unique<Impl>();
  impl->settings = settings;
  ASSIGN_OR_RETURN(EncoderEmbedding e,
                   EncoderEmbedding::Fit(table, kEmbeddingDimensions, settings.seed));
  impl->embedding = std::make_shared<EncoderEmbedding>(std::move(e));
  impl->featurizer = std::make_unique<LifetimeFeaturizer>(table, impl->embedding);
  return Surrogate(std::move(impl));
}

absl::Status Surrogate::Pretrain(const std::vector<CellSeries>& prior) {
  Matrix x;
  x.cols = static_cast<size_t>(impl_->cols());
  std::vector<float> y;
  std::vector<float> row(x.cols);
  for (const CellSeries& cell : prior) {
    const std::optional<double> life = PriorLife(cell);
    if (!life) continue;
    absl::Status s = impl_->Row(cell.config, cell.loading_level, row.data());
    if (!s.ok()) return absl::Status(s.code(), absl::StrCat("prior cell ", cell.id, ": ", s.message()));
    x.values.insert(x.values.end(), row.begin(), row.end());
    y.push_back(static_cast<float>(std::log10(std::max(*life, 1.0))));
    ++x.rows;
  }
  if (x.rows < static_cast<size_t>(kMinFitRows)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "prior: ", x.rows, " usable cells of ", prior.size(), " (need ", kMinFitRows,
        "; a cell needs a cycle_life or at least ", kMinPriorCycles, " measured cycles)"));
  }
  ASSIGN_OR_RETURN(MlpEnsemble trained,
                   MlpEnsemble::Train(x, y, EnsembleOptionsOf(impl_->settings, x.rows)));
  impl_->pretrained.emplace(std::move(trained));
  impl_->fitted.reset();
  ++impl_->version;
  return absl::OkStatus();
}

absl::Status Surrogate::Fit(const std::vector<Candidate>& candidates,
                            const std::vector<Observation>& observations) {
  Matrix x;
  x.cols = static_cast<size_t>(impl_->cols());
  std::vector<float> y;
  for (size_t i = 0; i < observations.size(); ++i) {
    const Observation& o = observations[i];
    if (o.candidate < 0 || static_cast<size_t>(o.candidate) >= candidates.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("observations[", i, "].candidate: ", o.candidate, " is not in [0, ",
                       candidates.size(), ")"));
    }
    if (!(std::isfinite(o.cycle_life) && o.cycle_life > 0)) {
      return absl::InvalidArgumentError(absl::StrCat("observations[", i,
                                                     "].cycle_life: must be > 0, got ",
                                                     o.cycle_life));
    }
    x.values.resize(x.values.size() + x.cols);
    RETURN_IF_ERROR(impl_->Row(candidates[static_cast<size_t>(o.candidate)].config, 0,
                               x.values.data() + x.rows * x.cols));
    y.push_back(static_cast<float>(std::log10(std::max(o.cycle_life, 1.0))));
    ++x.rows;
  }
  const EnsembleOptions options = EnsembleOptionsOf(impl_->settings, x.rows);
  if (x.rows < static_cast<size_t>(kMinFitRows)) {
    if (!impl_->pretrained) {
      return absl::FailedPreconditionError(
          absl::StrCat("observations: ", x.rows, " results; fitting from scratch needs at least ",
                       kMinFitRows, " (or a pre-trained surrogate)"));
    }
    // Too few rows to fine-tune on: the pre-trained model stands as it is.
    impl_->fitted.reset();
    ++impl_->version;
    return absl::OkStatus();
  }
  if (impl_->pretrained) {
    ASSIGN_OR_RETURN(MlpEnsemble tuned, impl_->pretrained->Clone());
    RETURN_IF_ERROR(tuned.FineTune(x, y, options));
    impl_->fitted.emplace(std::move(tuned));
  } else {
    ASSIGN_OR_RETURN(MlpEnsemble trained, MlpEnsemble::Train(x, y, options));
    impl_->fitted.emplace(std::move(trained));
  }
  ++impl_->version;
  return absl::OkStatus();
}

bool Surrogate::trained() const { return impl_->current() != nullptr; }
bool Surrogate::pretrained() const { return impl_->pretrained.has_value(); }
int Surrogate::version() const { return impl_->version; }

absl::StatusOr<Surrogate::Prediction> Surrogate::Predict(
    const std::vector<Candidate>& candidates) const {
  const MlpEnsemble* model = impl_->current();
  if (model == nullptr) {
    return absl::FailedPreconditionError("surrogate: not trained (call Pretrain or Fit first)");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const Matrix> features,
                   impl_->CachedCandidateMatrix(candidates));
  const Matrix& x = *features;
  // Mean, spread and each member's mean (Thompson sampling) from one forward pass.
  const MlpEnsemble::Prediction p = model->Predict(x, /*with_members=*/true);
  const std::vector<std::vector<float>>& members = p.members;
  Prediction out;
  out.mean_log10.assign(p.mean.begin(), p.mean.end());
  out.stddev_log10.assign(p.stddev.begin(), p.stddev.end());
  out.members_log10.reserve(members.size());
  for (const std::vector<float>& m : members) out.members_log10.emplace_back(m.begin(), m.end());
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (!std::isfinite(out.mean_log10[i]) || !std::isfinite(out.stddev_log10[i])) {
      return absl::InternalError(
          absl::StrCat("surrogate: non-finite prediction for candidates[", i, "]"));
    }
  }
  return out;
}

absl::StatusOr<std::string> Surrogate::Serialize() const {
  models::internal::ByteWriter w;
  w.Raw(kMagic, sizeof kMagic - 1);
  w.U32(1);
  WriteSettings(impl_->settings, &w);
  w.I32(impl_->version);
  w.Str(impl_->embedding->Serialize());
  for (const std::optional<MlpEnsemble>* m : {&impl_->pretrained, &impl_->fitted}) {
    w.U32(m->has_value() ? 1 : 0);
    if (m->has_value()) {
      ASSIGN_OR_RETURN(std::string bytes, (*m)->Serialize());
      w.Str(bytes);
    }
  }
  return w.Take();
}

absl::StatusOr<Surrogate> Surrogate::Deserialize(absl::string_view bytes,
                                                 const instruments::ElectrodeTable& table) {
  models::internal::ByteReader r(bytes, "Surrogate");
  uint32_t format = 0;
  RETURN_IF_ERROR(r.Header(absl::string_view(kMagic, sizeof kMagic - 1), 1, &format));
  auto impl = std::make_unique<Impl>();
  RETURN_IF_ERROR(ReadSettings(&r, &impl->settings));
  RETURN_IF_ERROR(r.I32(&impl->version));
  std::string embedding;
  RETURN_IF_ERROR(r.Str(&embedding));
  ASSIGN_OR_RETURN(EncoderEmbedding e, EncoderEmbedding::Deserialize(embedding));
  impl->embedding = std::make_shared<EncoderEmbedding>(std::move(e));
  impl->featurizer = std::make_unique<LifetimeFeaturizer>(table, impl->embedding);
  for (std::optional<MlpEnsemble>* m : {&impl->pretrained, &impl->fitted}) {
    uint32_t present = 0;
    RETURN_IF_ERROR(r.U32(&present));
    if (present > 1) return r.Corrupt("model presence flag");
    if (present == 1) {
      std::string model;
      RETURN_IF_ERROR(r.Str(&model));
      ASSIGN_OR_RETURN(MlpEnsemble ensemble, MlpEnsemble::Deserialize(model));
      if (ensemble.input_dim() != impl->cols()) {
        return r.Corrupt(absl::StrCat("the ensemble reads ", ensemble.input_dim(),
                                      " inputs, this table's features are ", impl->cols()));
      }
      m->emplace(std::move(ensemble));
    }
  }
  RETURN_IF_ERROR(r.ExpectEnd());
  return Surrogate(std::move(impl));
}

}  // namespace ionloop::models::campaign
