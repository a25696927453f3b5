#include "models/embedding/pca_embedding.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "models/embedding/bytes_internal.h"

namespace ionloop::models {
namespace {
constexpr absl::string_view kMagic = "IONLOOP-PCA-EMBEDDING";
constexpr uint32_t kVersion = 1;
}  // namespace

void SymmetricEigen(std::vector<double> a, int n, std::vector<double>* eigenvalues,
                    std::vector<std::vector<double>>* eigenvectors) {
  std::vector<double> v(static_cast<size_t>(n) * n, 0.0);  // columns = eigenvectors
  for (int i = 0; i < n; ++i) v[i * n + i] = 1.0;
  auto A = [&](int i, int j) -> double& { return a[static_cast<size_t>(i) * n + j]; };
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0, total = 0;
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) {
        total += A(i, j) * A(i, j);
        if (i != j) off += A(i, j) * A(i, j);
      }
    }
    if (off <= 1e-26 * std::max(total, 1e-300)) break;
    for (int p = 0; p < n - 1; ++p) {
      for (int q = p + 1; q < n; ++q) {
        const double apq = A(p, q);
        if (std::fabs(apq) < 1e-300) continue;
        // Rotation angle that zeroes A(p,q) (Golub & Van Loan, symmetric Schur).
        const double theta = (A(q, q) - A(p, p)) / (2 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int k = 0; k < n; ++k) {  // A ← A·J
          const double akp = A(k, p), akq = A(k, q);
          A(k, p) = c * akp - s * akq;
          A(k, q) = s * akp + c * akq;
        }
        for (int k = 0; k < n; ++k) {  // A ← Jᵀ·A
          const double apk = A(p, k), aqk = A(q, k);
          A(p, k) = c * apk - s * aqk;
          A(q, k) = s * apk + c * aqk;
        }
        for (int k = 0; k < n; ++k) {  // V ← V·J
          const double vkp = v[k * n + p], vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return A(x, x) > A(y, y); });
  eigenvalues->clear();
  eigenvectors->clear();
  for (int idx : order) {
    eigenvalues->push_back(A(idx, idx));
    std::vector<double> vec(n);
    for (int k = 0; k < n; ++k) vec[k] = v[k * n + idx];
    // Sign: the largest-magnitude entry (first on a tie, within a relative 1e-9) positive.
    int best = 0;
    for (int k = 1; k < n; ++k) {
      if (std::fabs(vec[k]) > std::fabs(vec[best]) * (1 + 1e-9)) best = k;
    }
    if (vec[best] < 0) {
      for (double& x : vec) x = -x;
    }
    eigenvectors->push_back(std::move(vec));
  }
}

absl::StatusOr<PcaEmbedding> PcaEmbedding::Fit(const instruments::ElectrodeTable& table,
                                               int dimensions) {
  if (table.electrodes().size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PcaEmbedding: the table needs at least 2 electrodes, has ", table.electrodes().size()));
  }
  PcaEmbedding pca;
  ASSIGN_OR_RETURN(pca.features_, ElectrodeFeatures::Fit(table));
  const int p = pca.features_.size();
  if (dimensions < 1 || dimensions > p) {
    return absl::InvalidArgumentError(absl::StrCat("PcaEmbedding: dimensions = ", dimensions,
                                                   " must be in 1..", p, " (the feature count)"));
  }
  std::vector<std::vector<float>> rows;
  for (const auto& e : table.electrodes()) rows.push_back(pca.features_.Encode(e));
  const double n = static_cast<double>(rows.size());
  pca.mean_.assign(p, 0.0);
  for (const auto& r : rows) {
    for (int j = 0; j < p; ++j) pca.mean_[j] += r[j] / n;
  }
  std::vector<double> cov(static_cast<size_t>(p) * p, 0.0);
  for (const auto& r : rows) {
    for (int i = 0; i < p; ++i) {
      for (int j = 0; j < p; ++j) {
        cov[i * p + j] += (r[i] - pca.mean_[i]) * (r[j] - pca.mean_[j]) / (n - 1);
      }
    }
  }
  std::vector<double> values;
  std::vector<std::vector<double>> vectors;
  SymmetricEigen(cov, p, &values, &vectors);
  double total = 0;
  for (double v : values) total += std::max(v, 0.0);
  for (int k = 0; k < dimensions; ++k) {
    pca.components_.push_back(vectors[k]);
    pca.explained_variance_.push_back(std::max(values[k], 0.0));
    pca.explained_ratio_.push_back(total > 0 ? std::max(values[k], 0.0) / total : 0.0);
  }
  return pca;
}

std::vector<float> PcaEmbedding::Embed(const instruments::ElectrodeProperties& electrode) const {
  const std::vector<float> x = features_.Encode(electrode);
  std::vector<float> out;
  out.reserve(components_.size());
  for (const auto& c : components_) {
    double s = 0;
    for (size_t j = 0; j < c.size(); ++j) s += c[j] * (x[j] - mean_[j]);
    out.push_back(static_cast<float>(s));
  }
  return out;
}

std::string PcaEmbedding::Serialize() const {
  internal::ByteWriter w;
  w.Raw(kMagic.data(), kMagic.size());
  w.U32(kVersion);
  features_.WriteTo(&w);
  w.F64s(mean_);
  w.F64s(explained_variance_);
  w.F64s(explained_ratio_);
  w.U64(components_.size());
  for (const auto& c : components_) w.F64s(c);
  return w.Take();
}

absl::StatusOr<PcaEmbedding> PcaEmbedding::Deserialize(absl::string_view bytes) {
  internal::ByteReader r(bytes, "PcaEmbedding");
  uint32_t version = 0;
  RETURN_IF_ERROR(r.Header(kMagic, kVersion, &version));
  PcaEmbedding pca;
  ASSIGN_OR_RETURN(pca.features_, ElectrodeFeatures::ReadFrom(&r));
  const size_t p = pca.features_.size();
  RETURN_IF_ERROR(r.F64s(&pca.mean_));
  RETURN_IF_ERROR(r.F64s(&pca.explained_variance_));
  RETURN_IF_ERROR(r.F64s(&pca.explained_ratio_));
  uint64_t k = 0;
  RETURN_IF_ERROR(r.U64(&k));
  if (k < 1 || k > p || pca.mean_.size() != p || pca.explained_variance_.size() != k ||
      pca.explained_ratio_.size() != k) {
    return r.Corrupt(absl::StrCat("inconsistent sizes (dimensions ", k, ", features ", p, ")"));
  }
  pca.components_.resize(k);
  for (auto& c : pca.components_) {
    RETURN_IF_ERROR(r.F64s(&c));
    if (c.size() != p) return r.Corrupt("component length does not match the feature count");
  }
  RETURN_IF_ERROR(r.ExpectEnd());
  return pca;
}

}  // namespace ionloop::models
