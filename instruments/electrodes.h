// The electrode catalogue: which electrode names a cell may use (DESIGN.md §6.4), their
// role in the cell and the working ions they are used with.
//
// For now a compact, compiled-in list of names. A later issue grows it into the full
// property table (average potential, specific capacity, density, ...; DESIGN.md §6.1)
// read from a data file; callers should only rely on FindElectrode / ElectrodeNames.
//
// Knows nothing of protobuf, gRPC or SQLite: adapters map ionloop.v1.Ion to Ion.
#ifndef IONLOOP_INSTRUMENTS_ELECTRODES_H_
#define IONLOOP_INSTRUMENTS_ELECTRODES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace ionloop::instruments {

enum class ElectrodeRole { kPositive, kNegative };

// The working ion of a cell.
enum class Ion : uint8_t { kLi, kNa, kK, kMg };

// "positive" / "negative".
absl::string_view ElectrodeRoleName(ElectrodeRole role);
// "Li", "Na", "K", "Mg".
absl::string_view IonSymbol(Ion ion);
// Standard reduction potential of the ion's metal couple, V vs SHE (CRC Handbook): moves
// a potential measured against one metal to another (docs/science.md lists them).
double StandardPotentialVsShe(Ion ion);

struct ElectrodeInfo {
  absl::string_view name;         // canonical name, e.g. "NMC811", "hard-carbon"
  absl::string_view description;  // composition / what it is, e.g. "LiNi0.8Mn0.1Co0.1O2"
  ElectrodeRole role;
  uint8_t ion_mask;         // bit (1 << Ion) for each working ion it is used with
  absl::string_view alias;  // another accepted name (e.g. "LiNiO2"), or empty

  bool UsedWith(Ion ion) const { return (ion_mask >> static_cast<int>(ion)) & 1u; }
  // The ions it is used with, in Ion order.
  std::vector<Ion> Ions() const;
};

// The electrode called `name` (its canonical name or its alias, compared
// case-insensitively: "nmc811", "LINIO2" and "LNO" all match), or nullptr when none is.
const ElectrodeInfo* FindElectrode(absl::string_view name);

// Canonical names of the electrodes of one role, in catalogue order (for error messages
// and docs).
std::vector<std::string> ElectrodeNames(ElectrodeRole role);

// Every electrode, positives first, in catalogue order.
absl::Span<const ElectrodeInfo> AllElectrodes();

}  // namespace ionloop::instruments

#endif  // IONLOOP_INSTRUMENTS_ELECTRODES_H_
