// The electrode property table (DESIGN.md §6.1, §6.4): every electrode a cell may use,
// with measurable properties (average potential, capacity, density, structure family,
// volume change, conductivities, ...) and a literature source for each number.
//
// The table is data, read at run time from one CSV file (instruments/data/electrodes.csv;
// docs/science.md documents the columns), so that adding an electrode is one line and
// no rebuild. Malformed rows are refused with `file:line:column: column 'name': ...`.
//
// Where the file is found (DefaultElectrodeTablePath), first match wins:
//   1. $IONLOOP_ELECTRODE_TABLE — a path to the file (an explicit setting: if it names a
//      file that does not exist, loading fails rather than falling back);
//   2. <directory of the running executable>/../share/ionloop/electrodes.csv — the
//      installed layout (`cmake --install` puts the file there);
//   3. the source tree's instruments/data/electrodes.csv, compiled in as
//      IONLOOP_ELECTRODE_TABLE_SOURCE_PATH — builds, tests and the demo run from a checkout.
//
// The compiled-in catalogue of instruments/electrodes.h (names, roles, ions) is what job
// validation uses; tests/unit/electrode_table_test.cc checks that the two agree, name for
// name, role for role and ion for ion.
//
// Knows nothing of protobuf, gRPC or SQLite.
#ifndef IONLOOP_INSTRUMENTS_ELECTRODE_TABLE_H_
#define IONLOOP_INSTRUMENTS_ELECTRODE_TABLE_H_

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "instruments/electrodes.h"

namespace ionloop::instruments {

// The parametric shape of an electrode's open-circuit potential over its practical window
// (used by the virtual cycler; docs/science.md gives the formulas).
enum class OcvShape : uint8_t {
  kPlateau,     // two-phase: flat, steep ends (LFP, LTO, graphite, LNMO)
  kTwoPlateau,  // two flat steps (NVPF)
  kSloping,     // solid solution (layered oxides, hard carbon, organics)
  kCapacitive,  // linear in charge (activated carbon)
  kMetal,       // constant (a metal counter electrode)
};

// "plateau", "two-plateau", "sloping", "capacitive", "metal".
absl::string_view OcvShapeName(OcvShape shape);

// A literature reference the table cites: `#ref KEY: citation` lines of the file.
struct ElectrodeReference {
  std::string key;
  std::string citation;
};

// One row of the table. Numbers that do not apply or are not known are NaN (`NA` in the
// file); HasValue() tells which.
struct ElectrodeProperties {
  std::string name;   // canonical, e.g. "NMC811", "hard-carbon"
  std::string alias;  // another accepted name ("LiNiO2"), or empty
  ElectrodeRole role = ElectrodeRole::kPositive;
  uint8_t ion_mask = 0;  // bit (1 << Ion) for each working ion, as ElectrodeInfo
  std::string formula;
  std::string structure_family;  // olivine, layered, spinel, NASICON, organic, ...
  Ion potential_vs = Ion::kLi;   // the metal the potentials below are measured against

  double avg_potential_v = NAN;  // average potential vs `potential_vs` metal, V
  double ocv_min_v = NAN;        // lowest potential of the practical window, V
  double ocv_max_v = NAN;        // highest potential of the practical window, V
  OcvShape ocv_shape = OcvShape::kSloping;
  double practical_capacity_mah_g = NAN;
  double theoretical_capacity_mah_g = NAN;
  double density_g_cm3 = NAN;
  double volume_change_pct = NAN;  // unit-cell / particle volume change over the window, %
  double electronic_conductivity_s_cm = NAN;  // order of magnitude
  double ionic_conductivity_s_cm = NAN;       // order of magnitude (working ion)
  double electrons_per_fu = NAN;              // electrons per formula (repeat) unit
  bool plating_prone = false;        // the working metal may plate on it while charging
  double dissolution_fraction = 0;   // share of active material that can dissolve, 0..1

  // For each column name, the reference keys behind its value (after '*' expansion).
  std::vector<std::pair<std::string, std::vector<std::string>>> sources;
  std::string notes;
  int line = 0;  // line of the row in its file

  bool UsedWith(Ion ion) const { return (ion_mask >> static_cast<int>(ion)) & 1u; }
  bool dissolution_prone() const { return dissolution_fraction > 0; }
  // Reference keys for `column` (empty if none).
  std::vector<std::string> SourcesFor(absl::string_view column) const;
  // The numeric property called `column` (one of ElectrodeTable::NumericColumns()), or NaN
  // for an unknown column.
  double Numeric(absl::string_view column) const;
  static bool HasValue(double v) { return !std::isnan(v); }
};

class ElectrodeTable {
 public:
  ElectrodeTable() = default;

  // The electrode called `name`, its canonical name or alias, compared
  // case-insensitively; nullptr if none.
  const ElectrodeProperties* Find(absl::string_view name) const;
  const std::vector<ElectrodeProperties>& electrodes() const { return electrodes_; }
  const std::vector<ElectrodeReference>& references() const { return references_; }
  const ElectrodeReference* FindReference(absl::string_view key) const;
  // Where the table was read from (a path, or the name given to ParseElectrodeTable).
  const std::string& source_name() const { return source_name_; }

  // The numeric property columns, in file order: what an embedding (PCA, encoder) reads.
  static const std::vector<std::string>& NumericColumns();
  // Every column the file must have, in the canonical order.
  static const std::vector<std::string>& RequiredColumns();

 private:
  friend absl::StatusOr<ElectrodeTable> ParseElectrodeTable(absl::string_view text,
                                                             absl::string_view source_name);
  std::vector<ElectrodeProperties> electrodes_;
  std::vector<ElectrodeReference> references_;
  std::string source_name_;
};

// Parses the CSV text of an electrode table; `source_name` prefixes error messages.
// INVALID_ARGUMENT with `source_name:line:column: column 'c': what` for a malformed row.
absl::StatusOr<ElectrodeTable> ParseElectrodeTable(absl::string_view text,
                                                   absl::string_view source_name);

// Reads and parses the file at `path`. NOT_FOUND if it cannot be opened.
absl::StatusOr<ElectrodeTable> LoadElectrodeTable(const std::string& path);

// The file the default table is read from (see the header comment), or an error that
// lists the places tried.
absl::StatusOr<std::string> DefaultElectrodeTablePath();

// LoadElectrodeTable(DefaultElectrodeTablePath()).
absl::StatusOr<ElectrodeTable> LoadDefaultElectrodeTable();

}  // namespace ionloop::instruments

#endif  // IONLOOP_INSTRUMENTS_ELECTRODE_TABLE_H_
