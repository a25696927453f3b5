// Line/field splitting, number, duration and date parsing, located errors, the row loop.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "instruments/cycler_files/reader_internal.h"

namespace ionloop::instruments::cycler_files::internal {

// ---- lines ----------------------------------------------------------------------------

LineReader::LineReader(absl::string_view data) : data_(data) {
  if (absl::StartsWith(data_, "\xEF\xBB\xBF")) pos_ = 3;
}

bool LineReader::Next(Line* line) {
  if (pos_ >= data_.size()) return false;
  const size_t nl = data_.find('\n', pos_);
  const size_t end = nl == absl::string_view::npos ? data_.size() : nl;
  absl::string_view text = data_.substr(pos_, end - pos_);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  line->text = text;
  line->number = ++number_;
  line->terminated = nl != absl::string_view::npos;
  pos_ = nl == absl::string_view::npos ? data_.size() : nl + 1;
  return true;
}

bool LineReader::AtLastNonBlank() const {
  for (size_t i = pos_; i < data_.size(); ++i) {
    const char c = data_[i];
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

void SplitFields(absl::string_view line, char sep, std::vector<absl::string_view>* out) {
  out->clear();
  const size_t n = line.size();
  size_t i = 0;
  while (true) {
    // Leading spaces before a quote still mark a quoted field ("a, "b"").
    size_t q = i;
    while (q < n && line[q] == ' ' && sep != ' ') ++q;
    if (q < n && line[q] == '"') {
      size_t j = q + 1;
      while (j < n) {
        if (line[j] == '"') {
          if (j + 1 < n && line[j + 1] == '"') {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      out->push_back(line.substr(q + 1, j - (q + 1)));
      if (j >= n) return;  // unterminated quote: the field runs to the end
      const size_t k = line.find(sep, j + 1);
      if (k == absl::string_view::npos) return;
      i = k + 1;
      continue;
    }
    const size_t k = line.find(sep, i);
    if (k == absl::string_view::npos) {
      out->push_back(line.substr(i));
      return;
    }
    out->push_back(line.substr(i, k - i));
    i = k + 1;
  }
}

absl::string_view Trim(absl::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// ---- numbers, durations, dates --------------------------------------------------------

bool ParseNumber(absl::string_view text, double* out, bool decimal_comma) {
  text = Trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty() || text.size() > 64) return false;
  char buf[65];
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    // Only what a decimal number may contain: this also keeps from_chars away from
    // "inf", "nan" and hexadecimal.
    const bool ok = (c >= '0' && c <= '9') || c == '.' || c == '-' || c == 'e' ||
                    c == 'E' || c == '+' || (decimal_comma && c == ',');
    if (!ok) return false;
    buf[i] = (decimal_comma && c == ',') ? '.' : c;
  }
  double value = 0;
  const char* end = buf + text.size();
  const auto result = std::from_chars(buf, end, value, std::chars_format::general);
  if (result.ec != std::errc() || result.ptr != end) return false;
  if (!std::isfinite(value)) return false;
  *out = value;
  return true;
}

namespace {

// Non-negative decimal number (digits with an optional fraction), whole text.
bool ParseUnsigned(absl::string_view text, double* out) {
  if (text.empty()) return false;
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || c == '.')) return false;
  }
  return ParseNumber(text, out);
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool ParseSmallInt(absl::string_view text, int64_t lo, int64_t hi, int64_t* out) {
  text = Trim(text);
  if (text.empty() || text.size() > 6) return false;
  int64_t v = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v < lo || v > hi) return false;
  *out = v;
  return true;
}

// "HH:MM:SS[.fff]" with hours unbounded (up to 10^7); false on anything else.
bool ParseClock(absl::string_view text, double* seconds) {
  const size_t c1 = text.find(':');
  if (c1 == absl::string_view::npos) return false;
  const size_t c2 = text.find(':', c1 + 1);
  if (c2 == absl::string_view::npos) return false;
  int64_t h = 0, m = 0;
  double s = 0;
  if (!ParseSmallInt(text.substr(0, c1), 0, 9999999, &h)) return false;
  if (!ParseSmallInt(text.substr(c1 + 1, c2 - c1 - 1), 0, 59, &m)) return false;
  if (!ParseUnsigned(Trim(text.substr(c2 + 1)), &s) || s >= 61) return false;
  *seconds = static_cast<double>(h) * 3600.0 + static_cast<double>(m) * 60.0 + s;
  return true;
}

}  // namespace

bool ParseDuration(absl::string_view text, double* seconds) {
  text = Trim(text);
  if (text.empty()) return false;
  if (text.find(':') == absl::string_view::npos) return ParseNumber(text, seconds);
  double days = 0;
  const size_t d = text.find('d');
  if (d != absl::string_view::npos) {
    int64_t n = 0;
    if (!ParseSmallInt(text.substr(0, d), 0, 999999, &n)) return false;
    days = static_cast<double>(n);
    text = Trim(text.substr(d + 1));
  }
  double clock = 0;
  if (!ParseClock(text, &clock)) return false;
  *seconds = days * 86400.0 + clock;
  return true;
}

bool ParseDateTime(absl::string_view text, double* seconds) {
  text = Trim(text);
  const size_t space = text.find(' ');
  if (space == absl::string_view::npos) return false;
  absl::string_view date = text.substr(0, space);
  absl::string_view rest = Trim(text.substr(space + 1));
  bool pm = false, am = false;
  if (absl::EndsWithIgnoreCase(rest, "PM")) pm = true;
  if (absl::EndsWithIgnoreCase(rest, "AM")) am = true;
  if (pm || am) rest = Trim(rest.substr(0, rest.size() - 2));
  int64_t y = 0, mo = 0, d = 0;
  if (date.size() == 10 && date[2] == '/' && date[5] == '/') {  // MM/DD/YYYY
    if (!ParseSmallInt(date.substr(0, 2), 1, 12, &mo) ||
        !ParseSmallInt(date.substr(3, 2), 1, 31, &d) ||
        !ParseSmallInt(date.substr(6, 4), 1900, 9999, &y)) {
      return false;
    }
  } else if (date.size() == 10 && date[4] == '-' && date[7] == '-') {  // YYYY-MM-DD
    if (!ParseSmallInt(date.substr(0, 4), 1900, 9999, &y) ||
        !ParseSmallInt(date.substr(5, 2), 1, 12, &mo) ||
        !ParseSmallInt(date.substr(8, 2), 1, 31, &d)) {
      return false;
    }
  } else {
    return false;
  }
  double clock = 0;
  if (!ParseClock(rest, &clock) || clock >= 86401) return false;
  if (am || pm) {
    const double hours = std::floor(clock / 3600.0);
    if (hours < 1 || hours > 12) return false;
    if (am && hours == 12) clock -= 12 * 3600.0;
    if (pm && hours != 12) clock += 12 * 3600.0;
  }
  *seconds = static_cast<double>(DaysFromCivil(y, mo, d)) * 86400.0 + clock;
  return true;
}

// ---- messages -------------------------------------------------------------------------

std::string QuoteForMessage(absl::string_view text) {
  std::string out = "\"";
  size_t shown = 0;
  for (const char c : text) {
    if (shown == 40) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      out += buf;
    }
    ++shown;
  }
  out += '"';
  return out;
}

absl::Status LineError(absl::string_view file, uint32_t line, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(file, ":", line, ": ", message));
}

absl::string_view BaseName(absl::string_view path) {
  const size_t slash = path.find_last_of('/');
  return slash == absl::string_view::npos ? path : path.substr(slash + 1);
}

ColumnName SplitColumnName(absl::string_view name, bool slash_units) {
  name = Trim(name);
  ColumnName out;
  if (slash_units) {
    const size_t slash = name.find('/');
    if (slash != absl::string_view::npos) {
      out.base = absl::AsciiStrToLower(Trim(name.substr(0, slash)));
      out.unit = std::string(Trim(name.substr(slash + 1)));
      return out;
    }
  } else if (!name.empty() && name.back() == ')') {
    const size_t open = name.rfind('(');
    if (open != absl::string_view::npos) {
      out.base = absl::AsciiStrToLower(Trim(name.substr(0, open)));
      out.unit = std::string(Trim(name.substr(open + 1, name.size() - open - 2)));
      return out;
    }
  }
  out.base = absl::AsciiStrToLower(name);
  return out;
}

double UnitScale(absl::string_view unit, bool* ok) {
  *ok = true;
  unit = Trim(unit);
  // A degree sign in any encoding (UTF-8 "°", Latin-1 0xB0) or "deg" before C.
  while (!unit.empty() && static_cast<unsigned char>(unit.front()) >= 0x80) {
    unit.remove_prefix(1);
  }
  if (absl::StartsWithIgnoreCase(unit, "deg")) unit.remove_prefix(3);
  struct Entry {
    const char* unit;
    double scale;
  };
  static constexpr Entry kUnits[] = {
      {"", 1},       {"s", 1},        {"sec", 1},     {"ms", 1e-3},   {"min", 60},
      {"h", 3600},   {"hr", 3600},    {"A", 1},       {"mA", 1e-3},   {"uA", 1e-6},
      {"V", 1},      {"mV", 1e-3},    {"Ah", 1},      {"A.h", 1},     {"mAh", 1e-3},
      {"mA.h", 1e-3}, {"uAh", 1e-6},  {"uA.h", 1e-6}, {"Wh", 1},      {"W.h", 1},
      {"mWh", 1e-3}, {"mW.h", 1e-3},  {"Ohm", 1},     {"ohm", 1},     {"Ohms", 1},
      {"mOhm", 1e-3}, {"mohm", 1e-3}, {"mO", 1e-3},   {"C", 1},
  };
  for (const Entry& e : kUnits) {
    if (unit == e.unit) return e.scale;
  }
  *ok = false;
  return 1;
}

// ---- tables ---------------------------------------------------------------------------

int Header::Find(std::initializer_list<absl::string_view> bases, bool slash_units) const {
  for (const absl::string_view base : bases) {
    for (size_t i = 0; i < names.size(); ++i) {
      if (SplitColumnName(names[i], slash_units).base == base) return static_cast<int>(i);
    }
  }
  return -1;
}

absl::Status FindColumn(const Header& header, absl::string_view file,
                        std::initializer_list<absl::string_view> bases,
                        absl::string_view what, bool required, Column* out,
                        bool slash_units) {
  out->index = header.Find(bases, slash_units);
  out->scale = 1;
  if (out->index < 0) {
    if (!required) return absl::OkStatus();
    return LineError(file, header.line,
                     absl::StrCat("no ", what, " column (looked for '", *bases.begin(),
                                  "') in the header"));
  }
  bool ok = true;
  const std::string& full = header.names[static_cast<size_t>(out->index)];
  const ColumnName name = SplitColumnName(full, slash_units);
  out->scale = UnitScale(name.unit, &ok);
  if (!ok) {
    return LineError(file, header.line,
                     absl::StrCat("column '", full, "': unknown unit ",
                                  QuoteForMessage(name.unit)));
  }
  return absl::OkStatus();
}

absl::string_view Row::Field(int col) const {
  if (col < 0 || static_cast<size_t>(col) >= fields_.size()) return {};
  return Trim(fields_[static_cast<size_t>(col)]);
}

absl::Status Row::Error(int col, absl::string_view what) const {
  failed_column_ = col;
  const std::string name = (col >= 0 && static_cast<size_t>(col) < header_.names.size())
                               ? header_.names[static_cast<size_t>(col)]
                               : std::string("?");
  return LineError(file_, line_,
                   absl::StrCat("column '", name, "' (", col + 1, "): ", what));
}

absl::Status Row::Number(int col, double scale, double* out) const {
  const absl::string_view text = Field(col);
  if (text.empty()) return Error(col, "is empty");
  double value = 0;
  if (!ParseNumber(text, &value, decimal_comma_)) {
    return Error(col, absl::StrCat(QuoteForMessage(text), " is not a number"));
  }
  *out = value * scale;
  return absl::OkStatus();
}

absl::Status Row::OptionalNumber(int col, double scale, double* out) const {
  if (col < 0 || Field(col).empty()) {
    *out = kNaN;
    return absl::OkStatus();
  }
  return Number(col, scale, out);
}

absl::Status Row::Integer(int col, int64_t* out) const {
  const absl::string_view text = Field(col);
  if (text.empty()) return Error(col, "is empty");
  double value = 0;
  if (!ParseNumber(text, &value, decimal_comma_) || value != std::floor(value) ||
      std::fabs(value) > 1e15) {
    return Error(col, absl::StrCat(QuoteForMessage(text), " is not a whole number"));
  }
  *out = static_cast<int64_t>(value);
  return absl::OkStatus();
}

absl::Status Row::Duration(int col, double* seconds) const {
  const absl::string_view text = Field(col);
  if (text.empty()) return Error(col, "is empty");
  if (!ParseDuration(text, seconds)) {
    return Error(col, absl::StrCat(QuoteForMessage(text), " is not a duration"));
  }
  return absl::OkStatus();
}

absl::Status ReadRows(LineReader& lines, const Header& header, const TableOptions& options,
                      const std::function<absl::Status(const Row&)>& parse_row,
                      CyclerFile* file) {
  const absl::string_view name = BaseName(file->source);
  const size_t want = header.names.size();
  std::vector<absl::string_view> fields;
  Line line;
  while (lines.Next(&line)) {
    absl::string_view text = line.text;
    if (Trim(text).empty()) continue;
    if (options.unwrap_quoted_line) {
      absl::string_view t = Trim(text);
      if (!t.empty() && t.front() == '"') {
        t.remove_prefix(1);
        if (!t.empty() && t.back() == '"') t.remove_suffix(1);
        text = t;
      }
    }
    SplitFields(text, options.separator, &fields);
    while (fields.size() > want && Trim(fields.back()).empty()) fields.pop_back();
    absl::Status status;
    bool short_row = false;
    int failed_column = -1;
    if (fields.size() > want) {
      status = LineError(name, line.number,
                         absl::StrCat("has ", fields.size(), " fields, the header (line ",
                                      header.line, ") has ", want));
    } else if (fields.size() < want) {
      short_row = true;
      status = LineError(name, line.number,
                         absl::StrCat("has ", fields.size(), " fields, the header (line ",
                                      header.line, ") has ", want));
    } else {
      const Row row(name, header, line.number, fields, options.decimal_comma);
      status = parse_row(row);
      failed_column = row.failed_column();
    }
    if (status.ok()) continue;
    // A torn last line: the file stops in the middle of it (no newline follows) and what
    // is wrong is that it is short or that its last field is cut.
    const bool torn = !line.terminated &&
                      (short_row || (failed_column >= 0 &&
                                     static_cast<size_t>(failed_column) + 1 == fields.size()));
    if (torn) {
      file->warnings.push_back(absl::StrCat(
          name, ":", line.number, ": torn last line dropped (the file ends in the middle of it: ",
          status.message(), ")"));
      return absl::OkStatus();
    }
    return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<Header> ReadHeaderLine(LineReader& lines, absl::string_view base, char sep) {
  Line line;
  if (!lines.Next(&line)) return absl::InvalidArgumentError(absl::StrCat(base, ": empty file"));
  Header header;
  header.line = line.number;
  std::vector<absl::string_view> fields;
  SplitFields(line.text, sep, &fields);
  for (const absl::string_view f : fields) header.names.emplace_back(Trim(f));
  return header;
}

}  // namespace ionloop::instruments::cycler_files::internal
