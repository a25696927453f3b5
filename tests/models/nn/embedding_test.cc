// Electrode embeddings (DESIGN.md §6.1): PCA and the insertion-stable encoder.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "instruments/electrode_table.h"
#include "models/embedding/electrode_features.h"
#include "models/embedding/pca_embedding.h"
#include "models/nn/encoder_embedding.h"

namespace ionloop::models {
namespace {

using instruments::ElectrodeTable;

std::string TableText() {
  auto path = instruments::DefaultElectrodeTablePath();
  EXPECT_TRUE(path.ok()) << path.status();
  std::ifstream in(*path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ElectrodeTable FullTable() {
  auto t = instruments::ParseElectrodeTable(TableText(), "electrodes.csv");
  EXPECT_TRUE(t.ok()) << t.status();
  return *t;
}

// The default table without the row of `name`.
ElectrodeTable TableWithout(const std::string& name) {
  std::stringstream in(TableText()), out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + ",", 0) == 0) continue;
    out << line << "\n";
  }
  auto t = instruments::ParseElectrodeTable(out.str(), "electrodes-minus-one.csv");
  EXPECT_TRUE(t.ok()) << t.status();
  return *t;
}

double Distance(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(s);
}

// Name of the electrode of `table` closest to `name` in `embedding`.
std::string NearestNeighbour(const ElectrodeEmbedding& embedding, const ElectrodeTable& table,
                             const std::string& name) {
  const auto here = embedding.Embed(*table.Find(name));
  std::string best;
  double best_d = INFINITY;
  for (const auto& e : table.electrodes()) {
    if (e.name == name) continue;
    const double d = Distance(here, embedding.Embed(e));
    if (d < best_d) {
      best_d = d;
      best = e.name;
    }
  }
  return best;
}

TEST(ElectrodeFeaturesTest, StandardizedImputedAndFinite) {
  const ElectrodeTable table = FullTable();
  ASSERT_EQ(table.electrodes().size(), 19u);
  auto f = ElectrodeFeatures::Fit(table);
  ASSERT_TRUE(f.ok()) << f.status();
  const auto& names = f->feature_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "log10_electronic_conductivity_s_cm"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "family_layered"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "ion_Mg"), names.end());
  // PAQS has no volume change (NA): imputed with the column mean, i.e. 0.
  const size_t vol = std::find(names.begin(), names.end(), "volume_change_pct") - names.begin();
  ASSERT_LT(vol, names.size());
  const auto paqs = f->Encode(*table.Find("PAQS"));
  EXPECT_EQ(paqs[vol], 0.0f);
  double mean = 0;
  for (const auto& e : table.electrodes()) {
    const auto v = f->Encode(e);
    ASSERT_EQ(static_cast<int>(v.size()), f->size());
    for (float x : v) EXPECT_TRUE(std::isfinite(x)) << e.name;
    mean += v[0] / table.electrodes().size();
  }
  EXPECT_NEAR(mean, 0, 1e-5);
}

TEST(PcaEmbeddingTest, JacobiDiagonalizesAKnownMatrix) {
  // [[2,1],[1,2]]: eigenvalues 3 and 1, eigenvectors (1,1)/√2 and (1,−1)/√2 (sign: the
  // first of two equal-magnitude entries is positive).
  std::vector<double> values;
  std::vector<std::vector<double>> vectors;
  SymmetricEigen({2, 1, 1, 2}, 2, &values, &vectors);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_NEAR(values[0], 3, 1e-12);
  EXPECT_NEAR(values[1], 1, 1e-12);
  EXPECT_NEAR(vectors[0][0], M_SQRT1_2, 1e-12);
  EXPECT_NEAR(vectors[0][1], M_SQRT1_2, 1e-12);
  EXPECT_NEAR(vectors[1][0], M_SQRT1_2, 1e-12);
  EXPECT_NEAR(vectors[1][1], -M_SQRT1_2, 1e-12);
}

TEST(PcaEmbeddingTest, FitsRoundTripsAndOrdersComponents) {
  const ElectrodeTable table = FullTable();
  auto pca = PcaEmbedding::Fit(table, 4);
  ASSERT_TRUE(pca.ok()) << pca.status();
  EXPECT_EQ(pca->kind(), "pca");
  EXPECT_EQ(pca->dimensions(), 4);
  const auto& ratio = pca->explained_variance_ratio();
  ASSERT_EQ(ratio.size(), 4u);
  double total = 0;
  for (size_t k = 0; k < ratio.size(); ++k) {
    if (k > 0) {
      EXPECT_GE(ratio[k - 1], ratio[k]);
    }
    total += ratio[k];
  }
  EXPECT_GT(total, 0.5);
  EXPECT_LE(total, 1.0 + 1e-9);
  // Component scores have the eigenvalue as variance.
  double var0 = 0;
  for (const auto& e : table.electrodes()) {
    const double s = pca->Embed(e)[0];
    var0 += s * s / (table.electrodes().size() - 1);
  }
  EXPECT_NEAR(var0, pca->explained_variance()[0], 1e-4 * pca->explained_variance()[0]);

  auto back = PcaEmbedding::Deserialize(pca->Serialize());
  ASSERT_TRUE(back.ok()) << back.status();
  for (const auto& e : table.electrodes()) EXPECT_EQ(back->Embed(e), pca->Embed(e)) << e.name;
  EXPECT_EQ(PcaEmbedding::Deserialize("junk").status().code(), absl::StatusCode::kInvalidArgument);
  const std::string bytes = pca->Serialize();
  EXPECT_EQ(PcaEmbedding::Deserialize(bytes.substr(0, bytes.size() - 3)).status().code(),
            absl::StatusCode::kInvalidArgument);

  auto bad = PcaEmbedding::Fit(table, 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("dimensions = 0"), std::string::npos);
}

TEST(EncoderEmbeddingTest, OldPositionsDoNotMoveWhenAnElectrodeIsAdded) {
  const ElectrodeTable full = FullTable();
  const ElectrodeTable without = TableWithout("NVZP");
  ASSERT_EQ(without.electrodes().size(), 18u);
  ASSERT_EQ(without.Find("NVZP"), nullptr);

  auto encoder = EncoderEmbedding::Fit(without, 3, /*seed=*/1);
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  EXPECT_EQ(encoder->kind(), "encoder");
  EXPECT_LT(encoder->reconstruction_rmse(), 0.5);

  std::vector<std::vector<float>> before;
  for (const auto& e : without.electrodes()) before.push_back(encoder->Embed(e));
  // The new electrode arrives (the full table has it).
  const auto added = encoder->Embed(*full.Find("NVZP"));
  ASSERT_EQ(added.size(), 3u);
  for (float v : added) EXPECT_TRUE(std::isfinite(v));
  EXPECT_TRUE(std::isfinite(encoder->ReconstructionError(*full.Find("NVZP"))));
  // Old electrodes, embedded again from the grown table: bit for bit unchanged.
  for (size_t i = 0; i < without.electrodes().size(); ++i) {
    const auto& name = without.electrodes()[i].name;
    EXPECT_EQ(encoder->Embed(*full.Find(name)), before[i]) << name;
  }
  // A serialized copy (what the model registry stores) embeds identically.
  auto back = EncoderEmbedding::Deserialize(encoder->Serialize());
  ASSERT_TRUE(back.ok()) << back.status();
  for (const auto& e : full.electrodes()) EXPECT_EQ(back->Embed(e), encoder->Embed(e)) << e.name;
  EXPECT_EQ(back->Serialize(), encoder->Serialize());

  // Refitting PCA with the new electrode, by contrast, moves the old positions: the
  // problem the encoder solves.
  auto pca_old = PcaEmbedding::Fit(without, 3);
  auto pca_new = PcaEmbedding::Fit(full, 3);
  ASSERT_TRUE(pca_old.ok() && pca_new.ok());
  double moved = 0;
  for (const auto& e : without.electrodes()) {
    moved = std::max(moved, Distance(pca_old->Embed(e), pca_new->Embed(*full.Find(e.name))));
  }
  EXPECT_GT(moved, 0.05);
}

TEST(EncoderEmbeddingTest, DeterministicForASeed) {
  const ElectrodeTable table = FullTable();
  EncoderOptions o;
  o.epochs = 200;
  auto a = EncoderEmbedding::Fit(table, 2, 5, o);
  auto b = EncoderEmbedding::Fit(table, 2, 5, o);
  auto c = EncoderEmbedding::Fit(table, 2, 6, o);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->Serialize(), b->Serialize());
  EXPECT_NE(a->Serialize(), c->Serialize());
  EXPECT_EQ(EncoderEmbedding::Fit(table, 0, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EncoderEmbedding::Deserialize(a->Serialize().substr(0, 50)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(EmbeddingNeighboursTest, NeighboursMakeChemicalSense) {
  const ElectrodeTable table = FullTable();
  auto pca = PcaEmbedding::Fit(table, 4);
  auto encoder = EncoderEmbedding::Fit(table, 3, 1);
  ASSERT_TRUE(pca.ok() && encoder.ok());
  const std::vector<const ElectrodeEmbedding*> embeddings = {&*pca, &*encoder};
  for (const ElectrodeEmbedding* emb : embeddings) {
    const std::string nmc = NearestNeighbour(*emb, table, "NMC811");
    EXPECT_EQ(table.Find(nmc)->structure_family, "layered") << emb->kind() << ": " << nmc;
    const std::string paqs = NearestNeighbour(*emb, table, "PAQS");
    EXPECT_EQ(paqs, "PHBQS") << emb->kind();
    // Graphite's neighbour is another carbon negative (Si-graphite or hard carbon).
    const std::string graphite = NearestNeighbour(*emb, table, "graphite");
    EXPECT_TRUE(graphite == "Si-graphite" || graphite == "hard-carbon")
        << emb->kind() << ": " << graphite;
  }
}

}  // namespace
}  // namespace ionloop::models
