// Reading real battery-cycler exports into per-cycle records and V(Q) curves.
//
// Formats (detected by content, the file name only breaks ties): Arbin CSV, Maccor text,
// Novonix CSV, BioLogic text (.mpt, or a ';'/tab separated export) and BioLogic .mpr
// binary, Neware CSV, Neware .ndax (a zip of binary .ndc tables; ndc version 17, BTS 8).
// Arbin .res (an Access database) and the old Neware .nda are detected and refused with
// UNIMPLEMENTED and a message saying how to export them. docs/cycler-files.md lists, per format, which column
// maps to which field and the unit conversions.
//
// Plain structs only: this library knows nothing of protobuf, gRPC or SQLite. Adapters
// convert CycleSummary to ionloop.v1.CycleRecord and VoltageCurve to its proto namesake.
//
// Errors: a value that does not parse is reported with the file name, the 1-based line
// and the column, e.g.
//   FastCharge_000025_CH8.csv:143: column 'Voltage' (8): "3.4x" is not a number
// (INVALID_ARGUMENT). Nothing is half-imported: the only row ever dropped is a torn last
// line (the file ends without a newline in the middle of a row), and that is recorded in
// CyclerFile::warnings.
#ifndef IONLOOP_INSTRUMENTS_CYCLER_FILES_CYCLER_FILE_H_
#define IONLOOP_INSTRUMENTS_CYCLER_FILES_CYCLER_FILE_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace ionloop::instruments::cycler_files {

enum class CyclerFormat {
  kUnknown,
  kArbinCsv,
  kArbinMetadata,  // the *_Metadata.csv beside an Arbin CSV: not data
  kArbinRes,       // MS Access (Jet) database: detected, not read
  kMaccorText,
  kNovonixCsv,
  kBiologicText,
  kBiologicMpr,
  kNewareCsv,
  kNewareNdax,  // zip of binary .ndc tables (ndc version 17, BTS 8)
  kNewareNda,   // older Neware binary: detected, not read
};

// "arbin-csv", "maccor-text", ... (stable names for logs, flags and docs).
absl::string_view FormatName(CyclerFormat format);

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One logged point, in SI-ish units. Capacities and energies are cumulative within the
// cycle for every format (each reader undoes its cycler's own reset rule: per step for
// Maccor and Neware, per half cycle for BioLogic and Novonix, per cycle for Arbin).
struct Sample {
  uint32_t line = 0;        // 1-based line of a text file; 1-based record of a binary one
  double test_time_s = 0;   // since the start of the test
  double step_time_s = kNaN;
  int64_t cycle = 0;        // as the file numbers it (see CycleSummary::cycle_index)
  int64_t step = 0;         // the file's step number (BioLogic: Ns)
  double current_a = 0;     // > 0 charging, < 0 discharging
  double voltage_v = 0;
  double charge_capacity_ah = 0;
  double discharge_capacity_ah = 0;
  double charge_energy_wh = kNaN;     // NaN when the file has no energy columns
  double discharge_energy_wh = kNaN;
  double temperature_c = kNaN;        // NaN where the file has no (valid) reading
  double internal_resistance_ohm = kNaN;
};

// One cycle, computed from the samples (the fields of ionloop.v1.CycleRecord).
struct CycleSummary {
  // 1-based: the file's cycle number, plus one where the format counts from 0 (Maccor,
  // BioLogic). 0 only for rows an Arbin file logs before its first cycle (Cycle_Index 0).
  int64_t cycle_index = 0;
  int64_t file_cycle = 0;  // the number as written in the file
  double charge_capacity_ah = 0;
  double discharge_capacity_ah = 0;
  double charge_energy_wh = 0;     // 0 when the file has no energies
  double discharge_energy_wh = 0;
  // discharge / charge capacity; absent when nothing was charged in the cycle.
  std::optional<double> coulombic_efficiency;
  // energy / capacity when the file has energies, else the capacity-weighted mean of the
  // voltage (trapezoids over dQ); absent when nothing was charged (discharged).
  std::optional<double> mean_charge_voltage_v;
  std::optional<double> mean_discharge_voltage_v;
  // The last non-zero reading in the cycle (cyclers log 0 between measurements).
  std::optional<double> internal_resistance_ohm;
  std::optional<double> temperature_c;  // mean of the readings in the cycle
  std::optional<double> min_temperature_c;
  std::optional<double> max_temperature_c;
  double start_s = 0;    // test time of the cycle's first sample
  double elapsed_s = 0;  // test time of the cycle's last sample
  size_t first_sample = 0;  // samples[first_sample, first_sample + num_samples)
  size_t num_samples = 0;
};

struct CyclerFile {
  std::string source;  // the file name as given (or the name passed to ParseCyclerFile)
  CyclerFormat format = CyclerFormat::kUnknown;
  std::vector<Sample> samples;
  std::vector<CycleSummary> cycles;  // in file order
  // Not errors, but what a reader should know: a dropped torn last line, readings treated
  // as missing (e.g. a disconnected thermocouple), a metadata file that could not be read.
  std::vector<std::string> warnings;
  // Header fields of the file (or of its Arbin metadata file): key, value.
  std::vector<std::pair<std::string, std::string>> metadata;
  bool has_energy = false;
  bool has_temperature = false;
  bool has_internal_resistance = false;
};

// V(Q) during the discharge (or charge) of one cycle: capacity cumulative within the cycle.
struct VoltageCurve {
  int64_t cycle_index = 0;  // as CycleSummary::cycle_index
  bool is_charge = false;
  std::vector<double> capacity_ah;
  std::vector<double> voltage_v;
};

struct ReadOptions {
  // Files larger than this are refused (RESOURCE_EXHAUSTED) before being read.
  size_t max_bytes = size_t{2} << 30;
  // Arbin CSV: read "<stem>_Metadata.csv" beside the data file into metadata when present.
  bool read_arbin_metadata = true;
};

// The format of `contents` (its first bytes suffice: 64 KiB is plenty), by content; the
// file name's extension only decides between formats the content cannot tell apart.
CyclerFormat DetectFormat(absl::string_view contents, absl::string_view file_name = "");

// Reads, detects and parses a cycler file. NOT_FOUND when it cannot be opened,
// UNIMPLEMENTED for formats that are only detected, INVALID_ARGUMENT for everything the
// file itself gets wrong (with file:line: column ...).
absl::StatusOr<CyclerFile> ReadCyclerFile(const std::string& path,
                                          const ReadOptions& options = {});

// The same on bytes in memory. `name` appears in messages and in CyclerFile::source;
// `format` kUnknown means "detect".
absl::StatusOr<CyclerFile> ParseCyclerFile(absl::string_view contents, absl::string_view name,
                                           CyclerFormat format = CyclerFormat::kUnknown);

// V(Q) curves of the discharges (is_charge false) or charges of the given cycles
// (CycleSummary::cycle_index; empty = every cycle). Points are the samples whose current
// has the right sign; cycles with no such sample give no curve.
std::vector<VoltageCurve> ExtractCurves(const CyclerFile& file, bool is_charge = false,
                                        absl::Span<const int64_t> cycle_indices = {});

}  // namespace ionloop::instruments::cycler_files

#endif  // IONLOOP_INSTRUMENTS_CYCLER_FILES_CYCLER_FILE_H_
