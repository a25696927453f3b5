// A floor for the lead's benchmark (bench/): the time of a plain LibTorch forward of the
// same size as an MlpEnsemble::Predict, to set beside it.
#ifndef IONLOOP_MODELS_NN_TORCH_BASELINE_H_
#define IONLOOP_MODELS_NN_TORCH_BASELINE_H_

#include <cstdint>
#include <vector>

namespace ionloop::models {

// Seconds (wall clock, best of `repeats`) for `members` forwards of a
// torch::nn::Sequential(Linear, ReLU, …, Linear(→2)) with the given hidden widths over
// `rows` × `inputs` random rows, under inference mode — one network per member, one
// after another, as a naive ensemble would run. Returns NaN on a LibTorch error.
double PlainTorchForwardSeconds(int64_t rows, int64_t inputs, std::vector<int> hidden,
                                int members, int repeats = 3);

}  // namespace ionloop::models

#endif  // IONLOOP_MODELS_NN_TORCH_BASELINE_H_
