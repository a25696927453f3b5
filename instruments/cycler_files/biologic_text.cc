// BioLogic EC-Lab text: an .mpt ("EC-Lab ASCII FILE", "Nb header lines : N", tab
// separated, decimal point or comma), or a plain export whose first line is the header
// (';' or tab separated, as BEEP's MB fixtures). Column names carry their unit after a
// slash: "I/mA", "Q charge/mA.h", "time/s".
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "instruments/cycler_files/reader_internal.h"

namespace ionloop::instruments::cycler_files::internal {
namespace {

int FindName(const Header& header, std::initializer_list<absl::string_view> names) {
  for (const absl::string_view want : names) {
    for (size_t i = 0; i < header.names.size(); ++i) {
      if (absl::EqualsIgnoreCase(Trim(header.names[i]), want)) return static_cast<int>(i);
    }
  }
  return -1;
}

// The scale of a "name/unit" column, or an error at the header line.
absl::Status ScaleOf(const Header& header, absl::string_view file, int col, double* scale) {
  *scale = 1;
  if (col < 0) return absl::OkStatus();
  const ColumnName name = SplitColumnName(header.names[static_cast<size_t>(col)], true);
  bool ok = true;
  *scale = UnitScale(name.unit, &ok);
  if (!ok) {
    return LineError(file, header.line,
                     absl::StrCat("column '", header.names[static_cast<size_t>(col)],
                                  "': unknown unit ", QuoteForMessage(name.unit)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CyclerFile> ParseBiologicText(absl::string_view data, absl::string_view name) {
  CyclerFile file;
  file.source = std::string(name);
  file.format = CyclerFormat::kBiologicText;
  const absl::string_view base = BaseName(name);

  LineReader lines(data);
  Line line;
  if (!lines.Next(&line)) return absl::InvalidArgumentError(absl::StrCat(base, ": empty file"));
  char sep = ';';
  if (absl::StartsWith(Trim(line.text), "EC-Lab ASCII FILE")) {
    Line count;
    constexpr absl::string_view kNb = "Nb header lines :";
    if (!lines.Next(&count) || !absl::StartsWith(Trim(count.text), kNb)) {
      return LineError(base, 2, "expected \"Nb header lines : N\"");
    }
    int header_lines = 0;
    if (!absl::SimpleAtoi(Trim(Trim(count.text).substr(kNb.size())), &header_lines) ||
        header_lines < 3 || header_lines > 100000) {
      return LineError(base, 2,
                       absl::StrCat("bad header line count ", QuoteForMessage(count.text)));
    }
    for (int i = 2; i < header_lines; ++i) {
      if (!lines.Next(&line)) {
        return absl::InvalidArgumentError(absl::StrCat(
            base, ": the file ends at line ", i, " inside its ", header_lines,
            "-line header"));
      }
      if (i + 1 < header_lines) {
        const size_t colon = line.text.find(" : ");
        if (colon != absl::string_view::npos) {
          file.metadata.emplace_back(std::string(Trim(line.text.substr(0, colon))),
                                     std::string(Trim(line.text.substr(colon + 3))));
        }
      }
    }
    sep = '\t';
  } else {
    sep = line.text.find(';') != absl::string_view::npos    ? ';'
          : line.text.find('\t') != absl::string_view::npos ? '\t'
                                                             : ',';
  }
  Header header;
  header.line = line.number;
  std::vector<absl::string_view> fields;
  SplitFields(line.text, sep, &fields);
  for (const absl::string_view f : fields) header.names.emplace_back(Trim(f));

  const int time = FindName(header, {"time/s"});
  const int voltage = FindName(header, {"Ecell/V", "<Ecell>/V", "Ewe/V", "<Ewe>/V"});
  const int current = FindName(header, {"I/mA", "<I>/mA", "I/A", "<I>/A"});
  const int cycle = FindName(header, {"cycle number"});
  const int half_cycle = FindName(header, {"half cycle"});
  const int ns = FindName(header, {"Ns"});
  const int q_charge = FindName(header, {"Q charge/mA.h", "Q charge/A.h"});
  const int q_discharge = FindName(header, {"Q discharge/mA.h", "Q discharge/A.h"});
  const int dq = FindName(header, {"dq/mA.h", "dQ/mA.h"});
  const int q_qo = FindName(header, {"(Q-Qo)/mA.h"});
  const int e_charge = FindName(header, {"Energy charge/W.h"});
  const int e_discharge = FindName(header, {"Energy discharge/W.h"});
  int temp = -1;
  for (size_t i = 0; i < header.names.size() && temp < 0; ++i) {
    if (absl::StartsWithIgnoreCase(header.names[i], "Temperature/") ||
        absl::StartsWithIgnoreCase(header.names[i], "T/")) {
      temp = static_cast<int>(i);
    }
  }
  if (time < 0) return LineError(base, header.line, "no 'time/s' column in the header");
  if (voltage < 0) {
    return LineError(base, header.line, "no 'Ecell/V' or 'Ewe/V' column in the header");
  }
  if (current < 0) return LineError(base, header.line, "no 'I/mA' column in the header");
  const bool has_q = q_charge >= 0 && q_discharge >= 0;
  if (!has_q && dq < 0 && q_qo < 0) {
    return LineError(base, header.line,
                     "no capacity column ('Q charge/mA.h' and 'Q discharge/mA.h', "
                     "'dq/mA.h' or '(Q-Qo)/mA.h') in the header");
  }
  double current_scale = 1, q_scale = 1, dq_scale = 1;
  RETURN_IF_ERROR(ScaleOf(header, base, current, &current_scale));
  RETURN_IF_ERROR(ScaleOf(header, base, has_q ? q_charge : -1, &q_scale));
  RETURN_IF_ERROR(ScaleOf(header, base, dq >= 0 ? dq : q_qo, &dq_scale));

  // Decimal commas: with ';' or tab separators a ',' in a data line can only be one.
  TableOptions options;
  options.separator = sep;
  {
    LineReader peek = lines;
    Line first;
    while (peek.Next(&first) && Trim(first.text).empty()) {
    }
    options.decimal_comma = sep != ',' && first.text.find(',') != absl::string_view::npos;
  }

  bool time_is_date = false, first_row = true;
  double time_origin = 0;
  double sum_charge = 0, sum_discharge = 0, prev_q_qo = 0;
  int64_t prev_cycle = 0;
  RETURN_IF_ERROR(ReadRows(
      lines, header, options,
      [&](const Row& row) -> absl::Status {
        Sample s;
        s.line = row.line();
        const absl::string_view t = row.Field(time);
        double seconds = 0;
        if (first_row) time_is_date = t.find('/') != absl::string_view::npos;
        if (time_is_date) {
          if (!ParseDateTime(t, &seconds)) {
            return row.Error(time, absl::StrCat(QuoteForMessage(t),
                                                " is not a date (MM/DD/YYYY HH:MM:SS.fff)"));
          }
          if (first_row) time_origin = seconds;
          s.test_time_s = seconds - time_origin;
        } else {
          RETURN_IF_ERROR(row.Number(time, 1.0, &s.test_time_s));
        }
        RETURN_IF_ERROR(row.Number(voltage, 1.0, &s.voltage_v));
        RETURN_IF_ERROR(row.Number(current, current_scale, &s.current_a));
        if (cycle >= 0) {
          RETURN_IF_ERROR(row.Integer(cycle, &s.cycle));
        } else if (half_cycle >= 0) {
          int64_t half = 0;
          RETURN_IF_ERROR(row.Integer(half_cycle, &half));
          s.cycle = half / 2;
        }
        if (ns >= 0) RETURN_IF_ERROR(row.Integer(ns, &s.step));
        if (has_q) {
          RETURN_IF_ERROR(row.Number(q_charge, q_scale, &s.charge_capacity_ah));
          RETURN_IF_ERROR(row.Number(q_discharge, q_scale, &s.discharge_capacity_ah));
        } else {
          // Running sums within the cycle of the charge passed at each point.
          if (first_row || s.cycle != prev_cycle) sum_charge = sum_discharge = 0;
          double d = 0;
          if (dq >= 0) {
            RETURN_IF_ERROR(row.Number(dq, dq_scale, &d));
          } else {
            double q = 0;
            RETURN_IF_ERROR(row.Number(q_qo, dq_scale, &q));
            d = first_row ? 0 : q - prev_q_qo;
            prev_q_qo = q;
          }
          if (d > 0) sum_charge += d;
          if (d < 0) sum_discharge -= d;
          s.charge_capacity_ah = sum_charge;
          s.discharge_capacity_ah = sum_discharge;
        }
        if (e_charge >= 0) RETURN_IF_ERROR(row.OptionalNumber(e_charge, 1.0, &s.charge_energy_wh));
        if (e_discharge >= 0) {
          RETURN_IF_ERROR(row.OptionalNumber(e_discharge, 1.0, &s.discharge_energy_wh));
        }
        RETURN_IF_ERROR(row.OptionalNumber(temp, 1.0, &s.temperature_c));
        prev_cycle = s.cycle;
        first_row = false;
        file.samples.push_back(s);
        return absl::OkStatus();
      },
      &file));
  RETURN_IF_ERROR(Finish(CounterReset::kOnDrop, /*cycle_base=*/0, &file));
  return file;
}

}  // namespace ionloop::instruments::cycler_files::internal
