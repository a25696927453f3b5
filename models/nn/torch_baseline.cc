#include "models/nn/torch_baseline.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

namespace ionloop::models {

double PlainTorchForwardSeconds(int64_t rows, int64_t inputs, std::vector<int> hidden,
                                int members, int repeats) {
  try {
    torch::manual_seed(0);
    std::vector<torch::nn::Sequential> nets;
    for (int k = 0; k < members; ++k) {
      torch::nn::Sequential net;
      int64_t in = inputs;
      for (int h : hidden) {
        net->push_back(torch::nn::Linear(in, h));
        net->push_back(torch::nn::ReLU());
        in = h;
      }
      net->push_back(torch::nn::Linear(in, 2));
      net->eval();
      nets.push_back(net);
    }
    c10::InferenceMode inference;
    const torch::Tensor x = torch::randn({rows, inputs});
    double best = std::numeric_limits<double>::infinity();
    for (int r = 0; r < std::max(1, repeats); ++r) {
      const auto start = std::chrono::steady_clock::now();
      double sink = 0;
      for (auto& net : nets) sink += net->forward(x).sum().item<double>();
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
      if (std::isfinite(sink)) best = std::min(best, took.count());
    }
    return best;
  } catch (const std::exception&) {
    return std::numeric_limits<double>::quiet_NaN();
  }
}

}  // namespace ionloop::models
