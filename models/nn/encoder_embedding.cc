#include "models/nn/encoder_embedding.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "models/embedding/bytes_internal.h"

namespace ionloop::models {
namespace {

constexpr absl::string_view kMagic = "IONLOOP-ENCODER-EMBEDDING";
constexpr uint32_t kVersion = 1;

absl::Status ValidateOptions(const EncoderOptions& o) {
  if (o.hidden < 1 || o.hidden > 4096) {
    return absl::InvalidArgumentError(absl::StrCat("hidden = ", o.hidden, " must be in 1..4096"));
  }
  if (o.epochs < 1) return absl::InvalidArgumentError(absl::StrCat("epochs = ", o.epochs, " must be >= 1"));
  if (!(o.learning_rate > 0) || !std::isfinite(o.learning_rate)) {
    return absl::InvalidArgumentError(
        absl::StrCat("learning_rate = ", o.learning_rate, " must be finite and > 0"));
  }
  if (!(o.weight_decay >= 0) || !std::isfinite(o.weight_decay)) {
    return absl::InvalidArgumentError(
        absl::StrCat("weight_decay = ", o.weight_decay, " must be finite and >= 0"));
  }
  if (!(o.input_noise >= 0) || !std::isfinite(o.input_noise)) {
    return absl::InvalidArgumentError(
        absl::StrCat("input_noise = ", o.input_noise, " must be finite and >= 0"));
  }
  return absl::OkStatus();
}

std::vector<float> ToVector(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

}  // namespace

std::vector<double> EncoderEmbedding::Apply(const Layer& layer, const std::vector<double>& x,
                                            bool tanh) {
  std::vector<double> y(layer.out);
  for (int o = 0; o < layer.out; ++o) {
    double s = layer.b[o];
    const float* row = layer.w.data() + static_cast<size_t>(o) * layer.in;
    for (int i = 0; i < layer.in; ++i) s += static_cast<double>(row[i]) * x[i];
    y[o] = tanh ? std::tanh(s) : s;
  }
  return y;
}

std::vector<double> EncoderEmbedding::Code(const std::vector<float>& features) const {
  std::vector<double> x(features.begin(), features.end());
  return Apply(enc2_, Apply(enc1_, x, true), false);
}

std::vector<float> EncoderEmbedding::Embed(const instruments::ElectrodeProperties& e) const {
  const std::vector<double> code = Code(features_.Encode(e));
  return std::vector<float>(code.begin(), code.end());
}

double EncoderEmbedding::ReconstructionError(const instruments::ElectrodeProperties& e) const {
  const std::vector<float> x = features_.Encode(e);
  const std::vector<double> r = Apply(dec2_, Apply(dec1_, Code(x), true), false);
  double s = 0;
  for (size_t i = 0; i < x.size(); ++i) s += (r[i] - x[i]) * (r[i] - x[i]);
  return std::sqrt(s / x.size());
}

absl::StatusOr<EncoderEmbedding> EncoderEmbedding::Fit(const instruments::ElectrodeTable& table,
                                                       int dimensions, uint64_t seed,
                                                       const EncoderOptions& options) {
  RETURN_IF_ERROR(ValidateOptions(options));
  if (table.electrodes().size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "EncoderEmbedding: the table needs at least 2 electrodes, has ", table.electrodes().size()));
  }
  EncoderEmbedding emb;
  ASSIGN_OR_RETURN(emb.features_, ElectrodeFeatures::Fit(table));
  const int p = emb.features_.size();
  if (dimensions < 1 || dimensions > p) {
    return absl::InvalidArgumentError(absl::StrCat("EncoderEmbedding: dimensions = ", dimensions,
                                                   " must be in 1..", p, " (the feature count)"));
  }
  emb.dimensions_ = dimensions;
  try {
    const int64_t n = static_cast<int64_t>(table.electrodes().size());
    std::vector<float> rows;
    for (const auto& e : table.electrodes()) {
      const std::vector<float> f = emb.features_.Encode(e);
      rows.insert(rows.end(), f.begin(), f.end());
    }
    const torch::Tensor x = torch::from_blob(rows.data(), {n, p}, torch::kFloat32).clone();
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    const int h = options.hidden;
    // [in, out] of the four layers; nn.Linear's default initialization.
    const int shapes[4][2] = {{p, h}, {h, dimensions}, {dimensions, h}, {h, p}};
    std::vector<torch::Tensor> w, b;
    for (const auto& s : shapes) {
      const double bound = 1.0 / std::sqrt(static_cast<double>(s[0]));
      w.push_back(torch::empty({s[1], s[0]}).uniform_(-bound, bound, gen).requires_grad_(true));
      b.push_back(torch::empty({s[1]}).uniform_(-bound, bound, gen).requires_grad_(true));
    }
    auto forward = [&](const torch::Tensor& in) {
      torch::Tensor z = torch::tanh(torch::addmm(b[0], in, w[0].t()));
      z = torch::addmm(b[1], z, w[1].t());
      z = torch::tanh(torch::addmm(b[2], z, w[2].t()));
      return torch::addmm(b[3], z, w[3].t());
    };
    std::vector<torch::Tensor> params = {w[0], b[0], w[1], b[1], w[2], b[2], w[3], b[3]};
    torch::optim::Adam adam(
        params, torch::optim::AdamOptions(options.learning_rate).weight_decay(options.weight_decay));
    for (int epoch = 0; epoch < options.epochs; ++epoch) {
      torch::Tensor in = x;
      if (options.input_noise > 0) {
        in = x + torch::empty_like(x).normal_(0.0, options.input_noise, gen);
      }
      adam.zero_grad();
      torch::Tensor loss = (forward(in) - x).pow(2).mean();
      loss.backward();
      adam.step();
    }
    Layer* layers[4] = {&emb.enc1_, &emb.enc2_, &emb.dec1_, &emb.dec2_};
    for (int l = 0; l < 4; ++l) {
      layers[l]->in = shapes[l][0];
      layers[l]->out = shapes[l][1];
      layers[l]->w = ToVector(w[l]);
      layers[l]->b = ToVector(b[l]);
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("EncoderEmbedding::Fit: LibTorch error: ", e.what()));
  }
  double s = 0;
  for (const auto& e : table.electrodes()) {
    const double r = emb.ReconstructionError(e);
    s += r * r;
  }
  emb.reconstruction_rmse_ = std::sqrt(s / table.electrodes().size());
  return emb;
}

std::string EncoderEmbedding::Serialize() const {
  internal::ByteWriter w;
  w.Raw(kMagic.data(), kMagic.size());
  w.U32(kVersion);
  features_.WriteTo(&w);
  w.I32(dimensions_);
  w.F64(reconstruction_rmse_);
  for (const Layer* l : {&enc1_, &enc2_, &dec1_, &dec2_}) {
    w.I32(l->in);
    w.I32(l->out);
    w.F32s(l->w);
    w.F32s(l->b);
  }
  return w.Take();
}

absl::StatusOr<EncoderEmbedding> EncoderEmbedding::Deserialize(absl::string_view bytes) {
  internal::ByteReader r(bytes, "EncoderEmbedding");
  uint32_t version = 0;
  RETURN_IF_ERROR(r.Header(kMagic, kVersion, &version));
  EncoderEmbedding emb;
  ASSIGN_OR_RETURN(emb.features_, ElectrodeFeatures::ReadFrom(&r));
  int32_t d = 0;
  RETURN_IF_ERROR(r.I32(&d));
  RETURN_IF_ERROR(r.F64(&emb.reconstruction_rmse_));
  const int p = emb.features_.size();
  if (d < 1 || d > p) return r.Corrupt(absl::StrCat("dimensions ", d));
  emb.dimensions_ = d;
  Layer* layers[4] = {&emb.enc1_, &emb.enc2_, &emb.dec1_, &emb.dec2_};
  for (Layer* l : layers) {
    RETURN_IF_ERROR(r.I32(&l->in));
    RETURN_IF_ERROR(r.I32(&l->out));
    RETURN_IF_ERROR(r.F32s(&l->w));
    RETURN_IF_ERROR(r.F32s(&l->b));
    if (l->in < 1 || l->out < 1 || l->w.size() != static_cast<size_t>(l->in) * l->out ||
        l->b.size() != static_cast<size_t>(l->out)) {
      return r.Corrupt("layer sizes do not match their weights");
    }
  }
  if (emb.enc1_.in != p || emb.enc2_.in != emb.enc1_.out || emb.enc2_.out != d ||
      emb.dec1_.in != d || emb.dec2_.in != emb.dec1_.out || emb.dec2_.out != p) {
    return r.Corrupt("layer shapes do not chain");
  }
  RETURN_IF_ERROR(r.ExpectEnd());
  return emb;
}

}  // namespace ionloop::models
