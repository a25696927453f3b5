// LibTorch lives only in this .cc (STYLE.md 14). Members are plain tensors with a
// functional forward (no torch::nn modules): that keeps parameter order explicit for the
// flat serialization, and lets Predict run all members at once with batched matmuls.
#include "models/nn/mlp_ensemble.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "models/embedding/bytes_internal.h"
#include "spdlog/spdlog.h"

namespace ionloop::models {
namespace {

constexpr absl::string_view kMagic = "IONLOOP-MLP-ENSEMBLE";
constexpr uint32_t kVersion = 1;
constexpr int kMinRows = 4;
constexpr int64_t kPredictChunk = 16384;  // rows per batched forward in Predict
constexpr double kMinVariance = 1e-6;     // added to softplus: the variance floor

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A member's generator seed: distinct streams for every (seed, member, purpose).
uint64_t MemberSeed(uint64_t seed, int member, uint64_t purpose) {
  return SplitMix64(SplitMix64(seed) ^ SplitMix64(purpose * 1000003ull + member));
}

struct Member {
  std::vector<torch::Tensor> weights;  // layer l: [out, in]
  std::vector<torch::Tensor> biases;   // layer l: [out]
  float noise_var = 0;                 // homoscedastic members: residual variance

  std::vector<torch::Tensor> Parameters() const {
    std::vector<torch::Tensor> p;
    for (size_t l = 0; l < weights.size(); ++l) {
      p.push_back(weights[l]);
      p.push_back(biases[l]);
    }
    return p;
  }
  Member Clone() const {
    Member m;
    for (const auto& w : weights) m.weights.push_back(w.detach().clone());
    for (const auto& b : biases) m.biases.push_back(b.detach().clone());
    m.noise_var = noise_var;
    return m;
  }
};

torch::Tensor Forward(const Member& m, torch::Tensor h) {
  for (size_t l = 0; l < m.weights.size(); ++l) {
    h = torch::addmm(m.biases[l], h, m.weights[l].t());
    if (l + 1 < m.weights.size()) h = torch::relu(h);
  }
  return h;
}

torch::Tensor Loss(const torch::Tensor& out, const torch::Tensor& y, bool heteroscedastic) {
  const torch::Tensor mu = out.select(1, 0);
  if (!heteroscedastic) return (mu - y).pow(2).mean();
  const torch::Tensor var = torch::softplus(out.select(1, 1)) + kMinVariance;
  return (0.5 * (var.log() + (y - mu).pow(2) / var)).mean();
}

absl::Status ValidateOptions(const EnsembleOptions& o) {
  if (o.members < 1 || o.members > 1000) {
    return absl::InvalidArgumentError(absl::StrCat("members = ", o.members, " must be in 1..1000"));
  }
  for (size_t i = 0; i < o.hidden.size(); ++i) {
    if (o.hidden[i] < 1 || o.hidden[i] > 1 << 16) {
      return absl::InvalidArgumentError(
          absl::StrCat("hidden[", i, "] = ", o.hidden[i], " must be in 1..65536"));
    }
  }
  if (o.max_epochs < 1) {
    return absl::InvalidArgumentError(absl::StrCat("max_epochs = ", o.max_epochs, " must be >= 1"));
  }
  if (o.batch_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("batch_size = ", o.batch_size, " must be >= 1"));
  }
  if (!(o.learning_rate > 0) || !std::isfinite(o.learning_rate)) {
    return absl::InvalidArgumentError(
        absl::StrCat("learning_rate = ", o.learning_rate, " must be finite and > 0"));
  }
  if (!(o.weight_decay >= 0) || !std::isfinite(o.weight_decay)) {
    return absl::InvalidArgumentError(
        absl::StrCat("weight_decay = ", o.weight_decay, " must be finite and >= 0"));
  }
  if (!(o.validation_fraction >= 0 && o.validation_fraction <= 0.9)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "validation_fraction = ", o.validation_fraction, " must be in [0, 0.9]"));
  }
  if (o.patience < 1) {
    return absl::InvalidArgumentError(absl::StrCat("patience = ", o.patience, " must be >= 1"));
  }
  if (o.threads < 0) {
    return absl::InvalidArgumentError(absl::StrCat("threads = ", o.threads, " must be >= 0"));
  }
  return absl::OkStatus();
}

absl::Status ValidateData(const Matrix& x, const std::vector<float>& y) {
  if (x.cols < 1) return absl::InvalidArgumentError("x.cols = 0: no input features");
  if (x.values.size() != x.rows * x.cols) {
    return absl::InvalidArgumentError(absl::StrCat("x.values has ", x.values.size(),
                                                   " entries, x.rows * x.cols = ", x.rows * x.cols));
  }
  if (y.size() != x.rows) {
    return absl::InvalidArgumentError(
        absl::StrCat("y has ", y.size(), " values but x has ", x.rows, " rows"));
  }
  if (x.rows < static_cast<size_t>(kMinRows)) {
    return absl::InvalidArgumentError(
        absl::StrCat("x.rows = ", x.rows, ": need at least ", kMinRows, " rows to train"));
  }
  for (size_t r = 0; r < x.rows; ++r) {
    for (size_t c = 0; c < x.cols; ++c) {
      if (!std::isfinite(x.at(r, c))) {
        return absl::InvalidArgumentError(
            absl::StrCat("x[", r, "][", c, "] = ", x.at(r, c), " is not finite"));
      }
    }
    if (!std::isfinite(y[r])) {
      return absl::InvalidArgumentError(absl::StrCat("y[", r, "] = ", y[r], " is not finite"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

struct MlpEnsemble::Impl {
  int input_dim = 0;
  std::vector<int> hidden;
  bool heteroscedastic = true;
  std::vector<float> x_mean, x_std;
  float y_mean = 0, y_std = 1;
  std::vector<Member> members;
  std::vector<int> epochs_trained;

  // Predict's view of the members, rebuilt by Stack() after every change:
  // layer l weights [M, in, out] and biases [M, 1, out]; noise variances [M, 1].
  std::vector<torch::Tensor> stacked_w, stacked_b;
  torch::Tensor stacked_noise;
  torch::Tensor x_mean_t, x_std_t;

  int out_dim() const { return heteroscedastic ? 2 : 1; }

  void Stack() {
    stacked_w.clear();
    stacked_b.clear();
    const size_t layers = members.front().weights.size();
    for (size_t l = 0; l < layers; ++l) {
      std::vector<torch::Tensor> ws, bs;
      for (const Member& m : members) {
        ws.push_back(m.weights[l].detach().t());
        bs.push_back(m.biases[l].detach().unsqueeze(0));
      }
      stacked_w.push_back(torch::stack(ws).contiguous());
      stacked_b.push_back(torch::stack(bs).contiguous());
    }
    std::vector<float> noise;
    for (const Member& m : members) noise.push_back(m.noise_var);
    stacked_noise = torch::tensor(noise).unsqueeze(1);
    x_mean_t = torch::tensor(x_mean);
    x_std_t = torch::tensor(x_std);
  }

  // Standardized copies of the data as tensors.
  torch::Tensor StandardX(const Matrix& x) const {
    torch::Tensor t = torch::from_blob(const_cast<float*>(x.values.data()),
                                       {static_cast<int64_t>(x.rows), static_cast<int64_t>(x.cols)},
                                       torch::kFloat32);
    return ((t - x_mean_t) / x_std_t).contiguous();
  }
  torch::Tensor StandardY(const std::vector<float>& y) const {
    torch::Tensor t = torch::tensor(y);
    return ((t - y_mean) / y_std).contiguous();
  }

  Member NewMember(int member, uint64_t seed) const {
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(MemberSeed(seed, member, 1));
    Member m;
    int in = input_dim;
    std::vector<int> widths = hidden;
    widths.push_back(out_dim());
    for (int out : widths) {
      // PyTorch's nn.Linear default: U(−1/√fan_in, 1/√fan_in) for weights and biases.
      const double bound = 1.0 / std::sqrt(static_cast<double>(in));
      m.weights.push_back(torch::empty({out, in}).uniform_(-bound, bound, gen));
      m.biases.push_back(torch::empty({out}).uniform_(-bound, bound, gen));
      in = out;
    }
    return m;
  }

  // Trains `m` in place on standardized (xs, ys); reports as member `member`.
  absl::Status TrainMember(Member* m, int member, int total, const torch::Tensor& xs,
                           const torch::Tensor& ys, const EnsembleOptions& o, uint64_t purpose,
                           const ProgressFn& progress, int* epochs) const {
    at::Generator gen =
        at::make_generator<at::CPUGeneratorImpl>(MemberSeed(o.seed, member, purpose));
    const int64_t n = xs.size(0);
    int64_t n_val = static_cast<int64_t>(std::floor(n * o.validation_fraction));
    n_val = std::min<int64_t>(n_val, n - 2);
    const torch::Tensor perm = torch::randperm(n, gen, torch::kLong);
    const torch::Tensor val_idx = perm.slice(0, 0, n_val);
    const torch::Tensor train_idx = perm.slice(0, n_val, n);
    const torch::Tensor x_train = xs.index_select(0, train_idx);
    const torch::Tensor y_train = ys.index_select(0, train_idx);
    const torch::Tensor x_val = n_val > 0 ? xs.index_select(0, val_idx) : x_train;
    const torch::Tensor y_val = n_val > 0 ? ys.index_select(0, val_idx) : y_train;
    const int64_t n_train = x_train.size(0);

    for (auto& p : m->Parameters()) p.detach_().requires_grad_(true);
    std::vector<torch::Tensor> params = m->Parameters();
    torch::optim::Adam adam(params, torch::optim::AdamOptions(o.learning_rate)
                                        .weight_decay(o.weight_decay));
    double best = std::numeric_limits<double>::infinity();
    std::vector<torch::Tensor> best_params;
    int since_best = 0;
    int epoch = 0;
    for (; epoch < o.max_epochs; ++epoch) {
      const torch::Tensor order = torch::randperm(n_train, gen, torch::kLong);
      double sum = 0;
      for (int64_t s = 0; s < n_train; s += o.batch_size) {
        const torch::Tensor idx = order.slice(0, s, std::min<int64_t>(s + o.batch_size, n_train));
        adam.zero_grad();
        torch::Tensor loss =
            Loss(Forward(*m, x_train.index_select(0, idx)), y_train.index_select(0, idx),
                 heteroscedastic);
        loss.backward();
        adam.step();
        sum += loss.item<double>() * idx.size(0);
      }
      const double train_loss = sum / n_train;
      double val_loss = std::numeric_limits<double>::quiet_NaN();
      double monitored = train_loss;
      if (n_val > 0) {
        torch::NoGradGuard no_grad;
        val_loss = Loss(Forward(*m, x_val), y_val, heteroscedastic).item<double>();
        monitored = val_loss;
      }
      if (!std::isfinite(train_loss)) {
        return absl::InternalError(absl::StrCat("member ", member, " diverged at epoch ", epoch,
                                                " (training loss ", train_loss,
                                                "); lower learning_rate"));
      }
      if (monitored < best) {
        best = monitored;
        best_params.clear();
        for (const auto& p : params) best_params.push_back(p.detach().clone());
        since_best = 0;
      } else {
        ++since_best;
      }
      if (progress && !progress(TrainProgress{member, total, epoch,
                                              train_loss, val_loss})) {
        return absl::CancelledError(
            absl::StrCat("training cancelled at member ", member, ", epoch ", epoch));
      }
      if (since_best >= o.patience) {
        ++epoch;
        break;
      }
    }
    *epochs = std::min(epoch, o.max_epochs);
    {
      torch::NoGradGuard no_grad;
      for (size_t i = 0; i < best_params.size(); ++i) params[i].copy_(best_params[i]);
    }
    for (auto& p : m->Parameters()) p.requires_grad_(false);
    if (!heteroscedastic) {
      torch::NoGradGuard no_grad;
      const torch::Tensor mu = Forward(*m, x_val).select(1, 0);
      m->noise_var = std::max<float>((mu - y_val).pow(2).mean().item<float>(), kMinVariance);
    }
    return absl::OkStatus();
  }

  // Trains every member of `ms` (in place) on (x, y); Stack() is the caller's.
  absl::Status TrainAll(std::vector<Member>* ms, const Matrix& x, const std::vector<float>& y,
                        const EnsembleOptions& o, uint64_t purpose, const ProgressFn& progress,
                        std::vector<int>* epochs) const {
    if (o.threads > 0) at::set_num_threads(o.threads);
    const torch::Tensor xs = StandardX(x);
    const torch::Tensor ys = StandardY(y);
    epochs->assign(ms->size(), 0);
    for (size_t k = 0; k < ms->size(); ++k) {
      RETURN_IF_ERROR(TrainMember(&(*ms)[k], static_cast<int>(k), static_cast<int>(ms->size()),
                                  xs, ys, o, purpose, progress, &(*epochs)[k]));
    }
    return absl::OkStatus();
  }
};

MlpEnsemble::MlpEnsemble(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MlpEnsemble::MlpEnsemble(MlpEnsemble&&) noexcept = default;
MlpEnsemble& MlpEnsemble::operator=(MlpEnsemble&&) noexcept = default;
MlpEnsemble::~MlpEnsemble() = default;

int MlpEnsemble::input_dim() const { return impl_->input_dim; }
int MlpEnsemble::members() const { return static_cast<int>(impl_->members.size()); }
const std::vector<int>& MlpEnsemble::hidden() const { return impl_->hidden; }
bool MlpEnsemble::heteroscedastic() const { return impl_->heteroscedastic; }
const std::vector<int>& MlpEnsemble::epochs_trained() const { return impl_->epochs_trained; }

absl::StatusOr<MlpEnsemble> MlpEnsemble::Train(const Matrix& x, const std::vector<float>& y,
                                               const EnsembleOptions& options,
                                               const ProgressFn& progress) {
  RETURN_IF_ERROR(ValidateOptions(options));
  RETURN_IF_ERROR(ValidateData(x, y));
  try {
    auto impl = std::make_unique<Impl>();
    impl->input_dim = static_cast<int>(x.cols);
    impl->hidden = options.hidden;
    impl->heteroscedastic = options.heteroscedastic;
    // Standardization in double; a constant column or target gets std 1.
    const double n = static_cast<double>(x.rows);
    impl->x_mean.assign(x.cols, 0);
    impl->x_std.assign(x.cols, 1);
    for (size_t c = 0; c < x.cols; ++c) {
      double s = 0, s2 = 0;
      for (size_t r = 0; r < x.rows; ++r) s += x.at(r, c);
      const double mean = s / n;
      for (size_t r = 0; r < x.rows; ++r) s2 += (x.at(r, c) - mean) * (x.at(r, c) - mean);
      const double sd = std::sqrt(s2 / n);
      impl->x_mean[c] = static_cast<float>(mean);
      impl->x_std[c] = sd > 1e-12 * std::max(1.0, std::fabs(mean)) ? static_cast<float>(sd) : 1.0f;
    }
    {
      double s = 0, s2 = 0;
      for (float v : y) s += v;
      const double mean = s / n;
      for (float v : y) s2 += (v - mean) * (v - mean);
      const double sd = std::sqrt(s2 / n);
      impl->y_mean = static_cast<float>(mean);
      impl->y_std = sd > 1e-12 * std::max(1.0, std::fabs(mean)) ? static_cast<float>(sd) : 1.0f;
    }
    impl->x_mean_t = torch::tensor(impl->x_mean);
    impl->x_std_t = torch::tensor(impl->x_std);
    std::vector<Member> members;
    for (int k = 0; k < options.members; ++k) members.push_back(impl->NewMember(k, options.seed));
    RETURN_IF_ERROR(
        impl->TrainAll(&members, x, y, options, /*purpose=*/2, progress, &impl->epochs_trained));
    impl->members = std::move(members);
    impl->Stack();
    return MlpEnsemble(std::move(impl));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("MlpEnsemble::Train: LibTorch error: ", e.what()));
  }
}

absl::Status MlpEnsemble::FineTune(const Matrix& x, const std::vector<float>& y,
                                   const EnsembleOptions& options, const ProgressFn& progress) {
  RETURN_IF_ERROR(ValidateOptions(options));
  RETURN_IF_ERROR(ValidateData(x, y));
  if (static_cast<int>(x.cols) != impl_->input_dim) {
    return absl::InvalidArgumentError(absl::StrCat("x.cols = ", x.cols,
                                                   " but the ensemble was trained on ",
                                                   impl_->input_dim, " inputs"));
  }
  try {
    std::vector<Member> members;
    for (const Member& m : impl_->members) members.push_back(m.Clone());
    std::vector<int> epochs;
    RETURN_IF_ERROR(impl_->TrainAll(&members, x, y, options, /*purpose=*/3, progress, &epochs));
    impl_->members = std::move(members);
    impl_->epochs_trained = std::move(epochs);
    impl_->Stack();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("MlpEnsemble::FineTune: LibTorch error: ", e.what()));
  }
}

namespace {

// Runs every member on the standardized rows; returns [M, rows] means and variances
// (standardized units). With oneDNN (Debian's libtorch has it) each member is a chain of
// mkldnn_linear calls: Debian links LibTorch to the reference BLAS, whose sgemm is several
// times slower than oneDNN's JIT kernels. Without it, all members run at once through
// batched matmuls.
std::pair<torch::Tensor, torch::Tensor> MemberOutputs(const std::vector<Member>& members,
                                                      const std::vector<torch::Tensor>& w,
                                                      const std::vector<torch::Tensor>& b,
                                                      const torch::Tensor& noise,
                                                      bool heteroscedastic, torch::Tensor x) {
  torch::Tensor h;
  if (at::hasMKLDNN()) {
    const torch::Tensor xm = x.to_mkldnn();
    std::vector<torch::Tensor> outs;
    for (const Member& m : members) {
      torch::Tensor z = xm;
      for (size_t l = 0; l < m.weights.size(); ++l) {
        z = torch::mkldnn_linear(z, m.weights[l], m.biases[l]);
        if (l + 1 < m.weights.size()) z = torch::relu(z);
      }
      outs.push_back(z.to_dense());
    }
    h = torch::stack(outs);  // [M, rows, out]
  } else {
    // Layer 0 reads the same rows for every member: one [M, rows, out] matmul.
    h = torch::matmul(x, w[0]).add_(b[0]);
    for (size_t l = 1; l < w.size(); ++l) h = torch::baddbmm(b[l], h.relu_(), w[l]);
  }
  torch::Tensor mu = h.select(2, 0);
  torch::Tensor var = heteroscedastic ? torch::softplus(h.select(2, 1)) + kMinVariance
                                      : noise.expand_as(mu);
  return {mu, var};
}

}  // namespace

MlpEnsemble::Prediction MlpEnsemble::Predict(const Matrix& x, bool with_members) const {
  constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
  Prediction p;
  p.mean.assign(x.rows, kNan);
  p.stddev.assign(x.rows, kNan);
  if (with_members) p.members.assign(impl_->members.size(), std::vector<float>(x.rows, kNan));
  if (static_cast<int>(x.cols) != impl_->input_dim || x.values.size() != x.rows * x.cols) {
    spdlog::error("MlpEnsemble::Predict: x is {}x{} with {} values, the model has {} inputs",
                  x.rows, x.cols, x.values.size(), impl_->input_dim);
    return p;
  }
  try {
    c10::InferenceMode inference;
    const torch::Tensor xs = impl_->StandardX(x);
    for (int64_t s = 0; s < static_cast<int64_t>(x.rows); s += kPredictChunk) {
      const int64_t e = std::min<int64_t>(s + kPredictChunk, x.rows);
      auto [mu, var] = MemberOutputs(impl_->members, impl_->stacked_w, impl_->stacked_b,
                                     impl_->stacked_noise, impl_->heteroscedastic,
                                     xs.slice(0, s, e));
      // Mixture of Gaussians: variance = mean σ² + population variance of the means.
      const torch::Tensor mean = mu.mean(0);
      const torch::Tensor total = var.mean(0) + mu.var(0, /*unbiased=*/false);
      const torch::Tensor mean_out = (mean * impl_->y_std + impl_->y_mean).contiguous();
      const torch::Tensor std_out = (total.sqrt() * impl_->y_std).contiguous();
      std::copy_n(mean_out.data_ptr<float>(), e - s, p.mean.begin() + s);
      std::copy_n(std_out.data_ptr<float>(), e - s, p.stddev.begin() + s);
      if (with_members) {
        const torch::Tensor members_out = (mu * impl_->y_std + impl_->y_mean).contiguous();
        for (size_t k = 0; k < p.members.size(); ++k) {
          std::copy_n(members_out[k].data_ptr<float>(), e - s, p.members[k].begin() + s);
        }
      }
    }
  } catch (const std::exception& e) {
    spdlog::error("MlpEnsemble::Predict: LibTorch error: {}", e.what());
    std::fill(p.mean.begin(), p.mean.end(), kNan);
    std::fill(p.stddev.begin(), p.stddev.end(), kNan);
    for (std::vector<float>& m : p.members) std::fill(m.begin(), m.end(), kNan);
  }
  return p;
}

std::vector<std::vector<float>> MlpEnsemble::PredictMembers(const Matrix& x) const {
  return Predict(x, /*with_members=*/true).members;
}

absl::StatusOr<std::string> MlpEnsemble::Serialize() const {
  try {
    internal::ByteWriter w;
    w.Raw(kMagic.data(), kMagic.size());
    w.U32(kVersion);
    w.I32(impl_->input_dim);
    w.U64(impl_->hidden.size());
    for (int h : impl_->hidden) w.I32(h);
    w.U32(impl_->heteroscedastic ? 1 : 0);
    w.F32s(impl_->x_mean);
    w.F32s(impl_->x_std);
    w.F32(impl_->y_mean);
    w.F32(impl_->y_std);
    w.U64(impl_->members.size());
    for (size_t k = 0; k < impl_->members.size(); ++k) {
      const Member& m = impl_->members[k];
      w.I32(impl_->epochs_trained.size() > k ? impl_->epochs_trained[k] : 0);
      w.F32(m.noise_var);
      for (const torch::Tensor& p : m.Parameters()) {
        const torch::Tensor c = p.detach().contiguous();
        w.F32s(std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel()));
      }
    }
    return w.Take();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("MlpEnsemble::Serialize: LibTorch error: ", e.what()));
  }
}

absl::StatusOr<MlpEnsemble> MlpEnsemble::Deserialize(absl::string_view bytes) {
  internal::ByteReader r(bytes, "MlpEnsemble");
  uint32_t version = 0;
  RETURN_IF_ERROR(r.Header(kMagic, kVersion, &version));
  auto impl = std::make_unique<Impl>();
  int32_t input_dim = 0;
  RETURN_IF_ERROR(r.I32(&input_dim));
  uint64_t layers = 0;
  RETURN_IF_ERROR(r.U64(&layers));
  if (input_dim < 1 || layers > 1000) {
    return r.Corrupt(absl::StrCat("input_dim ", input_dim, ", hidden layers ", layers));
  }
  impl->input_dim = input_dim;
  impl->hidden.resize(layers);
  for (int& h : impl->hidden) {
    int32_t v = 0;
    RETURN_IF_ERROR(r.I32(&v));
    if (v < 1) return r.Corrupt(absl::StrCat("hidden width ", v));
    h = v;
  }
  uint32_t hetero = 0;
  RETURN_IF_ERROR(r.U32(&hetero));
  impl->heteroscedastic = hetero != 0;
  RETURN_IF_ERROR(r.F32s(&impl->x_mean));
  RETURN_IF_ERROR(r.F32s(&impl->x_std));
  RETURN_IF_ERROR(r.F32(&impl->y_mean));
  RETURN_IF_ERROR(r.F32(&impl->y_std));
  if (impl->x_mean.size() != static_cast<size_t>(input_dim) ||
      impl->x_std.size() != static_cast<size_t>(input_dim)) {
    return r.Corrupt("standardization length does not match input_dim");
  }
  uint64_t members = 0;
  RETURN_IF_ERROR(r.U64(&members));
  if (members < 1 || members > 1000) return r.Corrupt(absl::StrCat("member count ", members));
  try {
    std::vector<int> widths = impl->hidden;
    widths.push_back(impl->out_dim());
    for (uint64_t k = 0; k < members; ++k) {
      Member m;
      int32_t epochs = 0;
      RETURN_IF_ERROR(r.I32(&epochs));
      impl->epochs_trained.push_back(epochs);
      RETURN_IF_ERROR(r.F32(&m.noise_var));
      int64_t in = input_dim;
      for (int out : widths) {
        std::vector<float> wv, bv;
        RETURN_IF_ERROR(r.F32s(&wv));
        RETURN_IF_ERROR(r.F32s(&bv));
        if (wv.size() != static_cast<size_t>(out * in) || bv.size() != static_cast<size_t>(out)) {
          return r.Corrupt(absl::StrCat("member ", k, ": parameter sizes ", wv.size(), "/",
                                        bv.size(), " do not match the architecture"));
        }
        m.weights.push_back(torch::from_blob(wv.data(), {out, in}, torch::kFloat32).clone());
        m.biases.push_back(torch::from_blob(bv.data(), {out}, torch::kFloat32).clone());
        in = out;
      }
      impl->members.push_back(std::move(m));
    }
    RETURN_IF_ERROR(r.ExpectEnd());
    impl->Stack();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("MlpEnsemble::Deserialize: LibTorch error: ", e.what()));
  }
  return MlpEnsemble(std::move(impl));
}

absl::StatusOr<MlpEnsemble> MlpEnsemble::Clone() const {
  ASSIGN_OR_RETURN(std::string bytes, Serialize());
  return Deserialize(bytes);
}

}  // namespace ionloop::models
