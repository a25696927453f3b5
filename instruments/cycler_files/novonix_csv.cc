// Novonix HPC CSV: "[Summary]" key: value lines, a "[Protocol]" section, then "[Data]"
// and a comma-separated table (each row may be wrapped whole in double quotes).
// Capacity (Ah) and Energy (Wh) are one unsigned counter each, running through a half
// cycle; the Step Type code says which way the current flows.
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "instruments/cycler_files/reader_internal.h"

namespace ionloop::instruments::cycler_files::internal {
namespace {

// Novonix step types: 0 open circuit, 1 CC charge, 2 CC discharge, 7/8 CC-CV charge
// (CC part, CV hold), 9/10 CC-CV discharge. Others: by the sign of the current.
int Direction(int64_t step_type, double current) {
  switch (step_type) {
    case 0:
      return 0;
    case 1:
    case 7:
    case 8:
      return 1;
    case 2:
    case 9:
    case 10:
      return -1;
    default:
      return current > 0 ? 1 : current < 0 ? -1 : 0;
  }
}

absl::string_view Unquote(absl::string_view s) {
  s = Trim(s);
  if (!s.empty() && s.front() == '"') s.remove_prefix(1);
  if (!s.empty() && s.back() == '"') s.remove_suffix(1);
  return s;
}

}  // namespace

absl::StatusOr<CyclerFile> ParseNovonixCsv(absl::string_view data, absl::string_view name) {
  CyclerFile file;
  file.source = std::string(name);
  file.format = CyclerFormat::kNovonixCsv;
  const absl::string_view base = BaseName(name);

  LineReader lines(data);
  Line line;
  bool in_summary = false, found_data = false;
  while (lines.Next(&line)) {
    const absl::string_view t = Unquote(line.text);
    if (t == "[Data]") {
      found_data = true;
      break;
    }
    if (t == "[Summary]") in_summary = true;
    if (t == "[End Summary]") in_summary = false;
    if (in_summary) {
      const size_t colon = t.find(':');
      if (colon != absl::string_view::npos) {
        file.metadata.emplace_back(std::string(Trim(t.substr(0, colon))),
                                   std::string(Trim(t.substr(colon + 1))));
      }
    }
  }
  if (!found_data) {
    return absl::InvalidArgumentError(
        absl::StrCat(base, ": no \"[Data]\" line: not a Novonix file, or cut before its data"));
  }
  if (!lines.Next(&line)) {
    return absl::InvalidArgumentError(
        absl::StrCat(base, ": the file ends after \"[Data]\": no header and no data"));
  }
  Header header;
  header.line = line.number;
  std::vector<absl::string_view> fields;
  SplitFields(Unquote(line.text), ',', &fields);
  for (const absl::string_view f : fields) header.names.emplace_back(Trim(f));

  Column cycle, step_type, time, step_time, current, voltage, capacity, energy, temp, step;
  RETURN_IF_ERROR(FindColumn(header, base, {"cycle number"}, "cycle", true, &cycle));
  RETURN_IF_ERROR(FindColumn(header, base, {"step type"}, "step type", true, &step_type));
  RETURN_IF_ERROR(FindColumn(header, base, {"run time"}, "run time", true, &time));
  RETURN_IF_ERROR(FindColumn(header, base, {"step time"}, "step time", false, &step_time));
  RETURN_IF_ERROR(FindColumn(header, base, {"current"}, "current", true, &current));
  RETURN_IF_ERROR(FindColumn(header, base, {"potential", "voltage"}, "potential", true,
                             &voltage));
  RETURN_IF_ERROR(FindColumn(header, base, {"capacity"}, "capacity", true, &capacity));
  RETURN_IF_ERROR(FindColumn(header, base, {"energy"}, "energy", false, &energy));
  RETURN_IF_ERROR(FindColumn(header, base, {"temperature"}, "temperature", false, &temp));
  RETURN_IF_ERROR(FindColumn(header, base, {"step number"}, "step number", false, &step));
  if (time.scale == 1 && SplitColumnName(header.names[static_cast<size_t>(time.index)]).unit
                             .empty()) {
    time.scale = 3600;  // Novonix run time is in hours
  }

  TableOptions options;
  options.separator = ',';
  options.unwrap_quoted_line = true;
  RETURN_IF_ERROR(ReadRows(
      lines, header, options,
      [&](const Row& row) -> absl::Status {
        Sample s;
        s.line = row.line();
        int64_t type = 0;
        RETURN_IF_ERROR(row.Integer(cycle.index, &s.cycle));
        RETURN_IF_ERROR(row.Integer(step_type.index, &type));
        RETURN_IF_ERROR(row.Number(time.index, time.scale, &s.test_time_s));
        RETURN_IF_ERROR(row.OptionalNumber(step_time.index, step_time.scale, &s.step_time_s));
        RETURN_IF_ERROR(row.Number(current.index, current.scale, &s.current_a));
        RETURN_IF_ERROR(row.Number(voltage.index, voltage.scale, &s.voltage_v));
        double q = 0, e = kNaN;
        RETURN_IF_ERROR(row.Number(capacity.index, capacity.scale, &q));
        RETURN_IF_ERROR(row.OptionalNumber(energy.index, energy.scale, &e));
        RETURN_IF_ERROR(row.OptionalNumber(temp.index, 1.0, &s.temperature_c));
        if (step.index >= 0) RETURN_IF_ERROR(row.Integer(step.index, &s.step));
        const int dir = Direction(type, s.current_a);
        if (dir != 0) s.current_a = dir * std::fabs(s.current_a);
        s.charge_capacity_ah = dir > 0 ? q : kNaN;
        s.discharge_capacity_ah = dir < 0 ? q : kNaN;
        s.charge_energy_wh = dir > 0 ? e : kNaN;
        s.discharge_energy_wh = dir < 0 ? e : kNaN;
        file.samples.push_back(s);
        return absl::OkStatus();
      },
      &file));
  RETURN_IF_ERROR(Finish(CounterReset::kOnDrop, /*cycle_base=*/1, &file));
  return file;
}

}  // namespace ionloop::instruments::cycler_files::internal
