#include "instruments/electrodes.h"

#include <array>

#include "absl/strings/match.h"

namespace ionloop::instruments {
namespace {

constexpr uint8_t Bit(Ion ion) { return static_cast<uint8_t>(1u << static_cast<int>(ion)); }

constexpr uint8_t kLi = Bit(Ion::kLi);
constexpr uint8_t kNa = Bit(Ion::kNa);
constexpr uint8_t kK = Bit(Ion::kK);
constexpr uint8_t kMg = Bit(Ion::kMg);

constexpr ElectrodeRole kPos = ElectrodeRole::kPositive;
constexpr ElectrodeRole kNeg = ElectrodeRole::kNegative;

// The ions listed for an electrode are those DESIGN.md §6.4 pairs it with; a cell whose
// ion is not listed is rejected rather than silently simulated with made-up physics.
// Widening a mask later is backward compatible; narrowing one is not.
constexpr std::array<ElectrodeInfo, 19> kElectrodes = {{
    // Positive electrodes.
    {"LFP", "LiFePO4 (olivine)", kPos, kLi, ""},
    {"NCA", "LiNi0.8Co0.15Al0.05O2 (layered)", kPos, kLi, ""},
    {"NMC111", "LiNi1/3Mn1/3Co1/3O2 (layered)", kPos, kLi, ""},
    {"NMC532", "LiNi0.5Mn0.3Co0.2O2 (layered)", kPos, kLi, ""},
    {"NMC622", "LiNi0.6Mn0.2Co0.2O2 (layered)", kPos, kLi, ""},
    {"NMC811", "LiNi0.8Mn0.1Co0.1O2 (layered)", kPos, kLi, ""},
    {"LCO", "LiCoO2 (layered)", kPos, kLi, ""},
    // Layered A_xNiO2: after the first charge, Na+ or K+ from the electrolyte may
    // intercalate (DESIGN.md §6.5), so it is cycled in Li, Na and K electrolytes.
    {"LNO", "LiNiO2 (layered, R-3m)", kPos, kLi | kNa | kK, "LiNiO2"},
    {"LNMO", "LiNi0.5Mn1.5O4 (high-voltage spinel)", kPos, kLi, ""},
    {"NVPF", "Na3V2(PO4)2F3 (NASICON-type)", kPos, kNa, ""},
    {"NVZP", "Na3.2V1.8Zn0.2(PO4)3 (NASICON-type)", kPos, kNa, ""},
    {"PAQS", "poly(anthraquinonyl sulfide) (organic)", kPos, kMg, ""},
    {"PHBQS", "poly(hydrobenzoquinonyl-benzoquinonyl sulfide) (organic)", kPos, kMg, ""},
    // Negative electrodes.
    {"graphite", "graphite", kNeg, kLi, ""},
    {"Si-graphite", "silicon-graphite composite", kNeg, kLi, ""},
    {"LTO", "Li4Ti5O12 (spinel)", kNeg, kLi, ""},
    {"hard-carbon", "hard carbon", kNeg, kNa, ""},
    // Capacitive counter electrode of the K (and Li/Na analogue) three-electrode cells.
    {"activated-carbon", "activated carbon (capacitive)", kNeg, kLi | kNa | kK, ""},
    {"Mg", "magnesium metal", kNeg, kMg, ""},
}};

}  // namespace

absl::string_view ElectrodeRoleName(ElectrodeRole role) {
  return role == ElectrodeRole::kPositive ? "positive" : "negative";
}

double StandardPotentialVsShe(Ion ion) {
  switch (ion) {
    case Ion::kLi:
      return -3.04;
    case Ion::kNa:
      return -2.71;
    case Ion::kK:
      return -2.93;
    case Ion::kMg:
      return -2.37;
  }
  return -3.04;
}

absl::string_view IonSymbol(Ion ion) {
  switch (ion) {
    case Ion::kLi:
      return "Li";
    case Ion::kNa:
      return "Na";
    case Ion::kK:
      return "K";
    case Ion::kMg:
      return "Mg";
  }
  return "?";
}

std::vector<Ion> ElectrodeInfo::Ions() const {
  std::vector<Ion> ions;
  for (Ion ion : {Ion::kLi, Ion::kNa, Ion::kK, Ion::kMg}) {
    if (UsedWith(ion)) ions.push_back(ion);
  }
  return ions;
}

const ElectrodeInfo* FindElectrode(absl::string_view name) {
  if (name.empty()) return nullptr;
  for (const ElectrodeInfo& e : kElectrodes) {
    if (absl::EqualsIgnoreCase(name, e.name) ||
        (!e.alias.empty() && absl::EqualsIgnoreCase(name, e.alias))) {
      return &e;
    }
  }
  return nullptr;
}

std::vector<std::string> ElectrodeNames(ElectrodeRole role) {
  std::vector<std::string> names;
  for (const ElectrodeInfo& e : kElectrodes) {
    if (e.role == role) names.emplace_back(e.name);
  }
  return names;
}

absl::Span<const ElectrodeInfo> AllElectrodes() { return kElectrodes; }

}  // namespace ionloop::instruments
