#include "instruments/electrode_table.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"

namespace ionloop::instruments {
namespace {

using Member = double ElectrodeProperties::*;

struct NumericColumn {
  const char* name;
  Member member;
  bool optional;  // may be NA
};

// File order. Ranges are checked in CheckRow.
constexpr NumericColumn kNumeric[] = {
    {"avg_potential_v", &ElectrodeProperties::avg_potential_v, false},
    {"ocv_min_v", &ElectrodeProperties::ocv_min_v, false},
    {"ocv_max_v", &ElectrodeProperties::ocv_max_v, false},
    {"practical_capacity_mah_g", &ElectrodeProperties::practical_capacity_mah_g, false},
    {"theoretical_capacity_mah_g", &ElectrodeProperties::theoretical_capacity_mah_g, true},
    {"density_g_cm3", &ElectrodeProperties::density_g_cm3, false},
    {"volume_change_pct", &ElectrodeProperties::volume_change_pct, true},
    {"electronic_conductivity_s_cm", &ElectrodeProperties::electronic_conductivity_s_cm, true},
    {"ionic_conductivity_s_cm", &ElectrodeProperties::ionic_conductivity_s_cm, true},
    {"electrons_per_fu", &ElectrodeProperties::electrons_per_fu, true},
    {"dissolution_fraction", &ElectrodeProperties::dissolution_fraction, false},
};

// A field of a CSV line and the 1-based character column where it starts.
struct Field {
  std::string text;
  int column;
};

std::string Where(absl::string_view file, int line, int column) {
  return absl::StrCat(file, ":", line, ":", column, ": ");
}

// Splits one CSV line (RFC 4180 quoting; no newlines inside quotes).
absl::StatusOr<std::vector<Field>> SplitCsvLine(absl::string_view line, absl::string_view file,
                                                int line_no) {
  std::vector<Field> fields;
  size_t i = 0;
  while (true) {
    Field f;
    f.column = static_cast<int>(i) + 1;
    // Leading blanks of a field are not part of it.
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i < line.size() && line[i] == '"') {
      const int quote_col = static_cast<int>(i) + 1;
      ++i;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            f.text.push_back('"');
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        f.text.push_back(line[i++]);
      }
      if (!closed) {
        return absl::InvalidArgumentError(
            absl::StrCat(Where(file, line_no, quote_col), "unterminated quoted field"));
      }
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i < line.size() && line[i] != ',') {
        return absl::InvalidArgumentError(absl::StrCat(
            Where(file, line_no, static_cast<int>(i) + 1), "expected ',' after a quoted field"));
      }
    } else {
      const size_t start = i;
      while (i < line.size() && line[i] != ',') ++i;
      f.text = std::string(absl::StripAsciiWhitespace(line.substr(start, i - start)));
    }
    fields.push_back(std::move(f));
    if (i >= line.size()) break;
    ++i;  // the comma
  }
  return fields;
}

bool ParseIon(absl::string_view s, Ion* ion) {
  for (Ion candidate : {Ion::kLi, Ion::kNa, Ion::kK, Ion::kMg}) {
    if (absl::EqualsIgnoreCase(s, IonSymbol(candidate))) {
      *ion = candidate;
      return true;
    }
  }
  return false;
}

bool ParseShape(absl::string_view s, OcvShape* shape) {
  for (OcvShape candidate : {OcvShape::kPlateau, OcvShape::kTwoPlateau, OcvShape::kSloping,
                             OcvShape::kCapacitive, OcvShape::kMetal}) {
    if (s == OcvShapeName(candidate)) {
      *shape = candidate;
      return true;
    }
  }
  return false;
}

// One row under construction, with what error messages need.
class RowParser {
 public:
  RowParser(absl::string_view file, int line, const std::vector<Field>& fields,
            const absl::flat_hash_map<std::string, size_t>& index)
      : file_(file), line_(line), fields_(fields), index_(index) {}

  const Field& Get(absl::string_view column) const { return fields_[index_.at(column)]; }

  absl::Status Error(absl::string_view column, absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(Where(file_, line_, Get(column).column),
                                                   "column '", column, "': ", what));
  }

  absl::Status Number(absl::string_view column, bool optional, double* out) const {
    const std::string& s = Get(column).text;
    if (s == "NA") {
      if (!optional) return Error(column, "a value is required here, got NA");
      *out = NAN;
      return absl::OkStatus();
    }
    double v;
    if (s.empty() || !absl::SimpleAtod(s, &v) || !std::isfinite(v)) {
      return Error(column, absl::StrCat("expected a number", optional ? " or NA" : "",
                                        ", got \"", s, "\""));
    }
    *out = v;
    return absl::OkStatus();
  }

 private:
  absl::string_view file_;
  int line_;
  const std::vector<Field>& fields_;
  const absl::flat_hash_map<std::string, size_t>& index_;
};

absl::Status CheckRange(const RowParser& row, absl::string_view column, double v, double lo,
                        double hi, absl::string_view unit) {
  if (std::isnan(v) || (v >= lo && v <= hi)) return absl::OkStatus();
  return row.Error(column, absl::StrCat("must be in [", lo, ", ", hi, "]", unit, ", got ", v));
}

absl::Status CheckPositive(const RowParser& row, absl::string_view column, double v) {
  if (std::isnan(v) || v > 0) return absl::OkStatus();
  return row.Error(column, absl::StrCat("must be > 0, got ", v));
}

// Parses the `sources` column into (column -> refs) and checks that every numeric value
// has a reference and every reference exists.
absl::Status ParseSources(const RowParser& row, const absl::flat_hash_set<std::string>& columns,
                          const absl::flat_hash_set<std::string>& refs, ElectrodeProperties* e) {
  const std::string& text = row.Get("sources").text;
  std::vector<std::string> star;
  absl::flat_hash_map<std::string, std::vector<std::string>> named;
  for (absl::string_view item : absl::StrSplit(text, ';', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    const size_t eq = item.find('=');
    if (eq == absl::string_view::npos) {
      return row.Error("sources", absl::StrCat("expected columns=refs, got \"", item, "\""));
    }
    const absl::string_view cols = absl::StripAsciiWhitespace(item.substr(0, eq));
    std::vector<std::string> keys;
    for (absl::string_view key : absl::StrSplit(item.substr(eq + 1), '+', absl::SkipWhitespace())) {
      key = absl::StripAsciiWhitespace(key);
      if (!refs.contains(key)) {
        return row.Error("sources", absl::StrCat("unknown reference \"", key,
                                                 "\" (define it with a '#ref ", key,
                                                 ": citation' line)"));
      }
      keys.emplace_back(key);
    }
    if (keys.empty()) {
      return row.Error("sources", absl::StrCat("no reference for \"", cols, "\""));
    }
    if (cols == "*") {
      star.insert(star.end(), keys.begin(), keys.end());
      continue;
    }
    for (absl::string_view col : absl::StrSplit(cols, '|', absl::SkipWhitespace())) {
      col = absl::StripAsciiWhitespace(col);
      if (!columns.contains(col)) {
        return row.Error("sources", absl::StrCat("names no column of the table: \"", col, "\""));
      }
      auto& list = named[std::string(col)];
      list.insert(list.end(), keys.begin(), keys.end());
    }
  }
  for (const NumericColumn& c : kNumeric) {
    auto it = named.find(c.name);
    std::vector<std::string> keys = it != named.end() ? it->second : star;
    if (it != named.end()) named.erase(it);
    if (keys.empty() && !std::isnan(e->*c.member)) {
      return row.Error("sources", absl::StrCat("no reference for column '", c.name,
                                               "' (add '", c.name, "=KEY' or '*=KEY')"));
    }
    if (!keys.empty()) e->sources.emplace_back(c.name, std::move(keys));
  }
  for (auto& [col, keys] : named) e->sources.emplace_back(col, std::move(keys));
  return absl::OkStatus();
}

absl::StatusOr<ElectrodeProperties> ParseRow(const RowParser& row,
                                             const absl::flat_hash_set<std::string>& columns,
                                             const absl::flat_hash_set<std::string>& refs,
                                             int line) {
  ElectrodeProperties e;
  e.line = line;
  e.name = row.Get("name").text;
  if (e.name.empty()) return row.Error("name", "must not be empty");
  e.alias = row.Get("alias").text;

  const std::string& role = row.Get("role").text;
  if (role == "positive") {
    e.role = ElectrodeRole::kPositive;
  } else if (role == "negative") {
    e.role = ElectrodeRole::kNegative;
  } else {
    return row.Error("role", absl::StrCat("must be positive or negative, got \"", role, "\""));
  }

  const std::string& ions = row.Get("ions").text;
  for (absl::string_view s : absl::StrSplit(ions, '|')) {
    Ion ion;
    if (!ParseIon(absl::StripAsciiWhitespace(s), &ion)) {
      return row.Error("ions", absl::StrCat("expected ions from Li, Na, K, Mg separated by '|', "
                                            "got \"", ions, "\""));
    }
    e.ion_mask |= static_cast<uint8_t>(1u << static_cast<int>(ion));
  }
  e.formula = row.Get("formula").text;
  e.structure_family = row.Get("structure_family").text;
  if (e.structure_family.empty()) return row.Error("structure_family", "must not be empty");
  const std::string& vs = row.Get("potential_vs").text;
  if (!ParseIon(vs, &e.potential_vs)) {
    return row.Error("potential_vs", absl::StrCat("expected Li, Na, K or Mg, got \"", vs, "\""));
  }
  const std::string& shape = row.Get("ocv_shape").text;
  if (!ParseShape(shape, &e.ocv_shape)) {
    return row.Error("ocv_shape",
                     absl::StrCat("expected plateau, two-plateau, sloping, capacitive or metal, "
                                  "got \"", shape, "\""));
  }
  const std::string& plating = row.Get("plating_prone").text;
  if (plating == "1" || plating == "true") {
    e.plating_prone = true;
  } else if (plating == "0" || plating == "false") {
    e.plating_prone = false;
  } else {
    return row.Error("plating_prone", absl::StrCat("expected 0 or 1, got \"", plating, "\""));
  }
  for (const NumericColumn& c : kNumeric) {
    RETURN_IF_ERROR(row.Number(c.name, c.optional, &(e.*c.member)));
  }

  // Ranges: wide enough for any battery electrode, narrow enough to catch unit slips
  // (mV for V, Ah/kg typos, percent written as a fraction is not caught).
  RETURN_IF_ERROR(CheckRange(row, "avg_potential_v", e.avg_potential_v, -0.5, 6, " V"));
  RETURN_IF_ERROR(CheckRange(row, "ocv_min_v", e.ocv_min_v, -0.5, 6, " V"));
  RETURN_IF_ERROR(CheckRange(row, "ocv_max_v", e.ocv_max_v, -0.5, 6, " V"));
  if (!(e.ocv_min_v <= e.avg_potential_v && e.avg_potential_v <= e.ocv_max_v)) {
    return row.Error("avg_potential_v",
                     absl::StrCat("must lie in [ocv_min_v, ocv_max_v] = [", e.ocv_min_v, ", ",
                                  e.ocv_max_v, "], got ", e.avg_potential_v));
  }
  if (e.ocv_shape == OcvShape::kMetal) {
    if (e.ocv_min_v != e.ocv_max_v) {
      return row.Error("ocv_max_v", "a metal electrode has one potential: ocv_min_v == ocv_max_v");
    }
  } else if (!(e.ocv_max_v - e.ocv_min_v >= 0.05)) {
    return row.Error("ocv_max_v", absl::StrCat("must exceed ocv_min_v by at least 0.05 V, got [",
                                               e.ocv_min_v, ", ", e.ocv_max_v, "]"));
  }
  RETURN_IF_ERROR(CheckPositive(row, "practical_capacity_mah_g", e.practical_capacity_mah_g));
  RETURN_IF_ERROR(CheckRange(row, "practical_capacity_mah_g", e.practical_capacity_mah_g, 0,
                             5000, " mAh/g"));
  if (!std::isnan(e.theoretical_capacity_mah_g) &&
      !(e.theoretical_capacity_mah_g >= e.practical_capacity_mah_g)) {
    return row.Error("theoretical_capacity_mah_g",
                     absl::StrCat("must be >= practical_capacity_mah_g (",
                                  e.practical_capacity_mah_g, "), got ",
                                  e.theoretical_capacity_mah_g));
  }
  RETURN_IF_ERROR(CheckRange(row, "density_g_cm3", e.density_g_cm3, 0.05, 25, " g/cm3"));
  RETURN_IF_ERROR(CheckRange(row, "volume_change_pct", e.volume_change_pct, 0, 400, " %"));
  RETURN_IF_ERROR(
      CheckPositive(row, "electronic_conductivity_s_cm", e.electronic_conductivity_s_cm));
  RETURN_IF_ERROR(CheckPositive(row, "ionic_conductivity_s_cm", e.ionic_conductivity_s_cm));
  RETURN_IF_ERROR(CheckPositive(row, "electrons_per_fu", e.electrons_per_fu));
  if (!(e.dissolution_fraction >= 0 && e.dissolution_fraction < 1)) {
    return row.Error("dissolution_fraction",
                     absl::StrCat("must be in [0, 1), got ", e.dissolution_fraction));
  }
  if (e.plating_prone && e.role != ElectrodeRole::kNegative) {
    return row.Error("plating_prone", "only a negative electrode can be plating-prone");
  }
  RETURN_IF_ERROR(ParseSources(row, columns, refs, &e));
  e.notes = row.Get("notes").text;
  return e;
}

}  // namespace

absl::string_view OcvShapeName(OcvShape shape) {
  switch (shape) {
    case OcvShape::kPlateau:
      return "plateau";
    case OcvShape::kTwoPlateau:
      return "two-plateau";
    case OcvShape::kSloping:
      return "sloping";
    case OcvShape::kCapacitive:
      return "capacitive";
    case OcvShape::kMetal:
      return "metal";
  }
  return "?";
}

std::vector<std::string> ElectrodeProperties::SourcesFor(absl::string_view column) const {
  for (const auto& [col, keys] : sources) {
    if (col == column) return keys;
  }
  return {};
}

double ElectrodeProperties::Numeric(absl::string_view column) const {
  for (const NumericColumn& c : kNumeric) {
    if (column == c.name) return this->*c.member;
  }
  return NAN;
}

const std::vector<std::string>& ElectrodeTable::NumericColumns() {
  static const auto* columns = [] {
    auto* v = new std::vector<std::string>;
    for (const NumericColumn& c : kNumeric) v->emplace_back(c.name);
    return v;
  }();
  return *columns;
}

const std::vector<std::string>& ElectrodeTable::RequiredColumns() {
  static const auto* columns = new std::vector<std::string>{
      "name",
      "alias",
      "role",
      "ions",
      "formula",
      "structure_family",
      "potential_vs",
      "avg_potential_v",
      "ocv_min_v",
      "ocv_max_v",
      "ocv_shape",
      "practical_capacity_mah_g",
      "theoretical_capacity_mah_g",
      "density_g_cm3",
      "volume_change_pct",
      "electronic_conductivity_s_cm",
      "ionic_conductivity_s_cm",
      "electrons_per_fu",
      "plating_prone",
      "dissolution_fraction",
      "sources",
      "notes",
  };
  return *columns;
}

const ElectrodeProperties* ElectrodeTable::Find(absl::string_view name) const {
  if (name.empty()) return nullptr;
  for (const ElectrodeProperties& e : electrodes_) {
    if (absl::EqualsIgnoreCase(name, e.name) ||
        (!e.alias.empty() && absl::EqualsIgnoreCase(name, e.alias))) {
      return &e;
    }
  }
  return nullptr;
}

const ElectrodeReference* ElectrodeTable::FindReference(absl::string_view key) const {
  for (const ElectrodeReference& r : references_) {
    if (r.key == key) return &r;
  }
  return nullptr;
}

absl::StatusOr<ElectrodeTable> ParseElectrodeTable(absl::string_view text,
                                                   absl::string_view source_name) {
  ElectrodeTable table;
  table.source_name_ = std::string(source_name);

  // Pass 1: references (they may appear anywhere in the comments).
  {
    int line_no = 0;
    absl::flat_hash_set<std::string> seen;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      ++line_no;
      line = absl::StripSuffix(line, "\r");
      if (!absl::ConsumePrefix(&line, "#ref")) continue;
      const size_t colon = line.find(':');
      const absl::string_view key =
          absl::StripAsciiWhitespace(colon == absl::string_view::npos ? line : line.substr(0, colon));
      if (colon == absl::string_view::npos || key.empty() ||
          absl::StripAsciiWhitespace(line.substr(colon + 1)).empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(Where(source_name, line_no, 1), "expected '#ref KEY: citation'"));
      }
      if (!seen.insert(std::string(key)).second) {
        return absl::InvalidArgumentError(
            absl::StrCat(Where(source_name, line_no, 6), "reference \"", key, "\" defined twice"));
      }
      table.references_.push_back(
          {std::string(key), std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)))});
    }
  }
  absl::flat_hash_set<std::string> refs;
  for (const ElectrodeReference& r : table.references_) refs.insert(r.key);

  // Pass 2: header and rows.
  absl::flat_hash_map<std::string, size_t> index;
  absl::flat_hash_set<std::string> columns;
  size_t header_fields = 0;
  bool have_header = false;
  absl::flat_hash_map<std::string, int> names;  // lower-case name or alias -> line
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = absl::StripSuffix(line, "\r");
    if (absl::StripAsciiWhitespace(line).empty() || absl::StartsWith(line, "#")) continue;
    ASSIGN_OR_RETURN(std::vector<Field> fields, SplitCsvLine(line, source_name, line_no));
    if (!have_header) {
      have_header = true;
      header_fields = fields.size();
      for (size_t i = 0; i < fields.size(); ++i) {
        if (fields[i].text.empty() || !index.emplace(fields[i].text, i).second) {
          return absl::InvalidArgumentError(
              absl::StrCat(Where(source_name, line_no, fields[i].column), "header: column \"",
                           fields[i].text, "\" is empty or repeated"));
        }
        columns.insert(fields[i].text);
      }
      std::vector<std::string> missing;
      for (const std::string& c : ElectrodeTable::RequiredColumns()) {
        if (!index.contains(c)) missing.push_back(c);
      }
      if (!missing.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(Where(source_name, line_no, 1),
                                                       "header: missing column(s) ",
                                                       absl::StrJoin(missing, ", ")));
      }
      continue;
    }
    if (fields.size() != header_fields) {
      const int col = fields.size() > header_fields ? fields[header_fields].column
                                                    : static_cast<int>(line.size()) + 1;
      return absl::InvalidArgumentError(absl::StrCat(Where(source_name, line_no, col), "expected ",
                                                     header_fields, " fields as in the header, got ",
                                                     fields.size()));
    }
    const RowParser row(source_name, line_no, fields, index);
    ASSIGN_OR_RETURN(ElectrodeProperties e, ParseRow(row, columns, refs, line_no));
    for (const std::string* n : {&e.name, &e.alias}) {
      if (n->empty()) continue;
      const auto [it, inserted] = names.emplace(absl::AsciiStrToLower(*n), line_no);
      if (!inserted) {
        return row.Error(n == &e.name ? "name" : "alias",
                         absl::StrCat("\"", *n, "\" is already used on line ", it->second));
      }
    }
    table.electrodes_.push_back(std::move(e));
  }
  if (!have_header) {
    return absl::InvalidArgumentError(absl::StrCat(source_name, ": no header row"));
  }
  if (table.electrodes_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source_name, ": no electrodes"));
  }
  return table;
}

absl::StatusOr<ElectrodeTable> LoadElectrodeTable(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("electrode table ", path, ": cannot open: ", std::strerror(errno)));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParseElectrodeTable(buffer.str(), path);
}

namespace {

bool IsReadable(const std::string& path) { return ::access(path.c_str(), R_OK) == 0; }

std::string ExecutableDir() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  std::string exe(buf, static_cast<size_t>(n));
  const size_t slash = exe.rfind('/');
  return slash == std::string::npos ? "" : exe.substr(0, slash);
}

}  // namespace

absl::StatusOr<std::string> DefaultElectrodeTablePath() {
  if (const char* env = std::getenv("IONLOOP_ELECTRODE_TABLE"); env != nullptr && *env != '\0') {
    if (!IsReadable(env)) {
      return absl::NotFoundError(
          absl::StrCat("IONLOOP_ELECTRODE_TABLE=", env, ": no readable file there"));
    }
    return std::string(env);
  }
  std::vector<std::string> tried;
  const std::string exe_dir = ExecutableDir();
  if (!exe_dir.empty()) {
    std::string installed = exe_dir + "/../share/ionloop/electrodes.csv";
    if (IsReadable(installed)) return installed;
    tried.push_back(std::move(installed));
  }
#ifdef IONLOOP_ELECTRODE_TABLE_SOURCE_PATH
  if (IsReadable(IONLOOP_ELECTRODE_TABLE_SOURCE_PATH)) {
    return std::string(IONLOOP_ELECTRODE_TABLE_SOURCE_PATH);
  }
  tried.emplace_back(IONLOOP_ELECTRODE_TABLE_SOURCE_PATH);
#endif
  return absl::NotFoundError(absl::StrCat("no electrode table found; set IONLOOP_ELECTRODE_TABLE "
                                          "to the path of electrodes.csv (tried: ",
                                          absl::StrJoin(tried, ", "), ")"));
}

absl::StatusOr<ElectrodeTable> LoadDefaultElectrodeTable() {
  ASSIGN_OR_RETURN(std::string path, DefaultElectrodeTablePath());
  return LoadElectrodeTable(path);
}

}  // namespace ionloop::instruments
