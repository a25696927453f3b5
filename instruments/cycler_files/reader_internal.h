// Shared pieces of the cycler-file readers: line and field splitting, number and
// duration parsing with located errors, the row loop (torn-last-line rule), and the
// counter normalisation and per-cycle summary every reader ends with.
#ifndef IONLOOP_INSTRUMENTS_CYCLER_FILES_READER_INTERNAL_H_
#define IONLOOP_INSTRUMENTS_CYCLER_FILES_READER_INTERNAL_H_

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "instruments/cycler_files/cycler_file.h"

namespace ionloop::instruments::cycler_files::internal {

// ---- text ----------------------------------------------------------------------------

// One physical line (without its "\n" or "\r\n") and its 1-based number.
struct Line {
  absl::string_view text;
  uint32_t number = 0;
  bool terminated = true;  // a newline follows it
};

// Iterates over the lines of a text file; skips a UTF-8 byte-order mark.
class LineReader {
 public:
  explicit LineReader(absl::string_view data);
  bool Next(Line* line);
  // Whether no non-blank line follows the last one returned.
  bool AtLastNonBlank() const;

 private:
  absl::string_view data_;
  size_t pos_ = 0;
  uint32_t number_ = 0;
};

// Splits at `sep`. A field that starts with '"' runs to the matching '"' (doubled quotes
// stay doubled) and is returned without its quotes. No allocation beyond `out`.
void SplitFields(absl::string_view line, char sep, std::vector<absl::string_view>* out);

// Trims spaces, tabs and "\r".
absl::string_view Trim(absl::string_view s);

// A double from `text` (trimmed; a leading '+' is allowed; `decimal_comma` reads "3,41"
// as 3.41). False unless the whole field is a finite number.
bool ParseNumber(absl::string_view text, double* out, bool decimal_comma = false);

// A duration in seconds: "12.5" (seconds), "HH:MM:SS[.fff]" (hours may exceed 24),
// "Nd HH:MM:SS[.fff]" (Maccor), "N-HH:MM:SS" (days first). False on anything else.
bool ParseDuration(absl::string_view text, double* seconds);

// Seconds since 1970-01-01 of "MM/DD/YYYY HH:MM:SS[.fff]" or "YYYY-MM-DD HH:MM:SS[.fff]"
// with an optional " AM"/" PM". False on anything else.
bool ParseDateTime(absl::string_view text, double* seconds);

// The text, quoted, with non-printable bytes escaped and cut to 40 characters.
std::string QuoteForMessage(absl::string_view text);

// "name:line: message".
absl::Status LineError(absl::string_view file, uint32_t line, absl::string_view message);

// Base name of a path (what messages show).
absl::string_view BaseName(absl::string_view path);

// A header name split into its base name (lower case, trimmed) and unit: "Voltage(V)" →
// ("voltage", "V"); "Test_Time (s)" → ("test_time", "s"); "I/mA" → ("i", "mA") when
// `slash_units`.
struct ColumnName {
  std::string base;
  std::string unit;
};
ColumnName SplitColumnName(absl::string_view name, bool slash_units = false);

// The factor that converts a value in `unit` to the SI-ish unit of its kind (s, A, V, Ah,
// Wh, Ohm, degC): "mAh" → 1e-3, "h" → 3600. `ok` false for a unit it does not know.
double UnitScale(absl::string_view unit, bool* ok);

// ---- tables ---------------------------------------------------------------------------

// A header row: the column names, as written.
struct Header {
  std::vector<std::string> names;
  uint32_t line = 0;
  // Index of the first column whose SplitColumnName(...).base equals one of `bases`
  // (in the order given), or -1.
  int Find(std::initializer_list<absl::string_view> bases, bool slash_units = false) const;
};

// The first line of `lines` as a header of `sep`-separated, trimmed names;
// INVALID_ARGUMENT "<base>: empty file" when there is none.
absl::StatusOr<Header> ReadHeaderLine(LineReader& lines, absl::string_view base, char sep);

// A column and the factor its unit (from its name) converts by.
struct Column {
  int index = -1;
  double scale = 1;
};

// The column whose base name is one of `bases`. A missing required column, or a unit
// UnitScale does not know, is an error located at the header line.
absl::Status FindColumn(const Header& header, absl::string_view file,
                        std::initializer_list<absl::string_view> bases,
                        absl::string_view what, bool required, Column* out,
                        bool slash_units = false);

// One data row being parsed. Getters report errors located at file:line: column.
class Row {
 public:
  Row(absl::string_view file, const Header& header, uint32_t line,
      const std::vector<absl::string_view>& fields, bool decimal_comma = false)
      : file_(file), header_(header), line_(line), fields_(fields),
        decimal_comma_(decimal_comma) {}

  uint32_t line() const { return line_; }
  size_t size() const { return fields_.size(); }
  absl::string_view Field(int col) const;  // "" when absent
  // The number in column `col`, times `scale`. Missing or empty is an error.
  absl::Status Number(int col, double scale, double* out) const;
  // As Number, but an empty field (or col < 0) gives NaN.
  absl::Status OptionalNumber(int col, double scale, double* out) const;
  // A whole number (written "3", "3.0" or "3.000E+000").
  absl::Status Integer(int col, int64_t* out) const;
  absl::Status Duration(int col, double* seconds) const;
  absl::Status Error(int col, absl::string_view what) const;
  // The column of the last error, for the torn-line rule.
  int failed_column() const { return failed_column_; }

 private:
  absl::string_view file_;
  const Header& header_;
  uint32_t line_;
  const std::vector<absl::string_view>& fields_;
  bool decimal_comma_;
  mutable int failed_column_ = -1;
};

struct TableOptions {
  char separator = ',';
  bool decimal_comma = false;
  // Novonix writes each row as one quoted field: "a,b,c".
  bool unwrap_quoted_line = false;
};

// Reads data rows until the end of `lines`, calling `parse_row` for each non-blank one.
// A row with fewer fields than the header, or one `parse_row` rejects, is an error, except
// a torn last line (no newline after it and the failure is in its last field present),
// which is dropped with a warning in `file`. Extra trailing empty fields are ignored.
absl::Status ReadRows(LineReader& lines, const Header& header, const TableOptions& options,
                      const std::function<absl::Status(const Row&)>& parse_row,
                      CyclerFile* file);

// ---- finishing ------------------------------------------------------------------------

// How a format's raw capacity/energy counters reset.
enum class CounterReset {
  // Back to zero at the start of every step (Maccor, Neware): banked at step boundaries.
  kEachStep,
  // Somewhere within the cycle, seen as a drop (Arbin: per cycle; BioLogic, Novonix:
  // per half cycle). A drop below half the previous value is a reset.
  kOnDrop,
};

// Turns the raw counters the reader stored in samples (NaN = "this row does not update
// this counter") into values cumulative within each cycle, then fills file->cycles.
// `cycle_base` is the number the format gives its first cycle (0 or 1). Fails when
// there is no sample at all.
absl::Status Finish(CounterReset reset, int cycle_base, CyclerFile* file);

// ---- the readers ----------------------------------------------------------------------
// Each parses a whole file of its format; `name` is used in messages.

absl::StatusOr<CyclerFile> ParseArbinCsv(absl::string_view data, absl::string_view name);
absl::StatusOr<CyclerFile> ParseMaccorText(absl::string_view data, absl::string_view name);
absl::StatusOr<CyclerFile> ParseNovonixCsv(absl::string_view data, absl::string_view name);
absl::StatusOr<CyclerFile> ParseBiologicText(absl::string_view data, absl::string_view name);
absl::StatusOr<CyclerFile> ParseBiologicMpr(absl::string_view data, absl::string_view name);
absl::StatusOr<CyclerFile> ParseNewareCsv(absl::string_view data, absl::string_view name);
// A Neware .ndax archive (zip of .ndc tables; ndc version 17).
absl::StatusOr<CyclerFile> ParseNewareNdax(absl::string_view data, absl::string_view name);

// Key/value pairs of an Arbin *_Metadata.csv (header row + one value row).
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseArbinMetadata(
    absl::string_view data, absl::string_view name);

}  // namespace ionloop::instruments::cycler_files::internal

#endif  // IONLOOP_INSTRUMENTS_CYCLER_FILES_READER_INTERNAL_H_
