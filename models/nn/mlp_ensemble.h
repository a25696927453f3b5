// Deep ensembles of MLP regressors (Lakshminarayanan, Pritzel, Blundell 2017; DESIGN.md
// §6.3): K independently initialized networks, each trained on its own seeded
// train/validation split; the spread of the members is the uncertainty that the lifetime
// and early-cycle models report and that acquisition functions read.
//
// Model:
//   * inputs and the target are standardized with the mean and standard deviation of the
//     training set given to Train() (a constant column gets std 1); the statistics are
//     stored inside and reused unchanged by FineTune and Predict;
//   * each member: Linear → ReLU → … → Linear; with `heteroscedastic` it outputs a mean
//     and a variance (softplus + 1e-6) and trains on the Gaussian negative log-likelihood
//     0.5·(log σ² + (y − μ)²/σ²); otherwise it outputs the mean, trains on MSE, and its
//     variance is the mean squared residual on its validation split (its training split
//     when there is none), a constant;
//   * Adam (L2 `weight_decay`), shuffled mini-batches, early stopping on the validation
//     loss with the best weights restored;
//   * prediction: mean = mean of member means; stddev = sqrt(mean of member variances +
//     variance of member means) — aleatoric plus epistemic.
//
// Determinism: every member draws its initial weights, split and batch order from its own
// generator seeded from (options.seed, member index), never from LibTorch's global one, so
// training is reproducible for a seed and thread count and safe to run beside other
// training. `threads` > 0 calls at::set_num_threads (process-wide) first.
//
// Serialization: own flat little-endian format ("IONLOOP-MLP-ENSEMBLE", version 1, the
// architecture, the standardization, then every member's parameters as float32 bit
// patterns); Deserialize(Serialize()) predicts identically.
//
// MlpEnsemble is movable, not copyable (a pimpl); Clone() makes a deep copy, e.g. to
// fine-tune a Li model for Na while keeping the original. Predict is const and safe to
// call from several threads at once; FineTune must not run concurrently with anything
// else on the same object.
#ifndef IONLOOP_MODELS_NN_MLP_ENSEMBLE_H_
#define IONLOOP_MODELS_NN_MLP_ENSEMBLE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "models/data/matrix.h"

namespace ionloop::models {

struct EnsembleOptions {
  int members = 5;
  std::vector<int> hidden = {64, 64};  // hidden layer widths (empty = linear model)
  int max_epochs = 400;
  int batch_size = 64;
  double learning_rate = 1e-3;
  double weight_decay = 1e-5;
  double validation_fraction = 0.15;  // 0 = no validation split: stop on training loss
  int patience = 25;                  // epochs without validation improvement before stop
  uint64_t seed = 1;
  bool heteroscedastic = true;  // each member outputs mean and variance (Gaussian NLL)
  int threads = 0;              // > 0: at::set_num_threads(threads); 0 leaves it alone
};

struct TrainProgress {
  int member;   // 0-based
  int members;
  int epoch;    // 0-based
  double train_loss;       // mean loss over the epoch, standardized units
  double validation_loss;  // NaN when there is no validation split
};

// Called after every epoch of every member; returning false cancels training (CANCELLED).
using ProgressFn = std::function<bool(const TrainProgress&)>;

class MlpEnsemble {
 public:
  // Trains options.members networks on x (rows × inputs) and y (rows).
  // INVALID_ARGUMENT: fewer than 4 rows, y.size() != x.rows, x.values.size() !=
  // rows·cols, a non-finite value (named by row and column), or a bad option (named).
  // CANCELLED when `progress` returns false. INTERNAL for an error inside LibTorch.
  static absl::StatusOr<MlpEnsemble> Train(const Matrix& x, const std::vector<float>& y,
                                           const EnsembleOptions& options,
                                           const ProgressFn& progress = {});
  static absl::StatusOr<MlpEnsemble> Deserialize(absl::string_view bytes);

  MlpEnsemble(MlpEnsemble&&) noexcept;
  MlpEnsemble& operator=(MlpEnsemble&&) noexcept;
  MlpEnsemble(const MlpEnsemble&) = delete;
  MlpEnsemble& operator=(const MlpEnsemble&) = delete;
  ~MlpEnsemble();

  struct Prediction {
    std::vector<float> mean;
    std::vector<float> stddev;
    // With `with_members`: each member's mean (members() vectors of x.rows values), for
    // diagnostics and Thompson sampling, from the same forward pass.
    std::vector<std::vector<float>> members;
  };
  // Batched (all members in one pass per layer, rows in chunks), no autograd.
  // Precondition: x.cols == input_dim(); otherwise (a programming error) every mean and
  // stddev is NaN. Rows with non-finite inputs give NaN.
  Prediction Predict(const Matrix& x, bool with_members = false) const;
  // Predict(x, true).members.
  std::vector<std::vector<float>> PredictMembers(const Matrix& x) const;

  absl::StatusOr<std::string> Serialize() const;

  // Continues training every member on (x, y) (transfer learning, e.g. Li → Na): fresh
  // Adam state, the options' epochs, batch size, learning rate, weight decay, validation
  // fraction, patience, seed and threads; the architecture (hidden, heteroscedastic) and
  // the standardization stay those of the trained model. On error or cancellation the
  // model is left unchanged.
  absl::Status FineTune(const Matrix& x, const std::vector<float>& y,
                        const EnsembleOptions& options, const ProgressFn& progress = {});

  absl::StatusOr<MlpEnsemble> Clone() const;

  int input_dim() const;
  int members() const;
  const std::vector<int>& hidden() const;
  bool heteroscedastic() const;
  // Epochs each member trained in the last Train/FineTune (after early stopping).
  const std::vector<int>& epochs_trained() const;

 private:
  struct Impl;
  explicit MlpEnsemble(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ionloop::models

#endif  // IONLOOP_MODELS_NN_MLP_ENSEMBLE_H_
