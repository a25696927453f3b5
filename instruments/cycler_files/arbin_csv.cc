// Arbin CSV export (MITS Pro / Data Watcher "Channel_Normal_Table" columns), with or
// without units in the names: Test_Time or Test_Time(s), Voltage or Voltage(V), ...
// Charge_Capacity/Discharge_Capacity (and energies) are cumulative within a cycle.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "instruments/cycler_files/reader_internal.h"

namespace ionloop::instruments::cycler_files::internal {
absl::StatusOr<CyclerFile> ParseArbinCsv(absl::string_view data, absl::string_view name) {
  CyclerFile file;
  file.source = std::string(name);
  file.format = CyclerFormat::kArbinCsv;
  const absl::string_view base = BaseName(name);

  LineReader lines(data);
  Line line;
  ASSIGN_OR_RETURN(const Header header, ReadHeaderLine(lines, base, ','));

  Column time, step_time, cycle, step, current, voltage, cc, dc, ce, de, ir, temp;
  RETURN_IF_ERROR(FindColumn(header, base, {"test_time"}, "test time", true, &time));
  RETURN_IF_ERROR(FindColumn(header, base, {"step_time"}, "step time", false, &step_time));
  RETURN_IF_ERROR(FindColumn(header, base, {"cycle_index"}, "cycle", true, &cycle));
  RETURN_IF_ERROR(FindColumn(header, base, {"step_index"}, "step", true, &step));
  RETURN_IF_ERROR(FindColumn(header, base, {"current"}, "current", true, &current));
  RETURN_IF_ERROR(FindColumn(header, base, {"voltage"}, "voltage", true, &voltage));
  RETURN_IF_ERROR(
      FindColumn(header, base, {"charge_capacity"}, "charge capacity", true, &cc));
  RETURN_IF_ERROR(
      FindColumn(header, base, {"discharge_capacity"}, "discharge capacity", true, &dc));
  RETURN_IF_ERROR(FindColumn(header, base, {"charge_energy"}, "charge energy", false, &ce));
  RETURN_IF_ERROR(
      FindColumn(header, base, {"discharge_energy"}, "discharge energy", false, &de));
  RETURN_IF_ERROR(FindColumn(header, base, {"internal_resistance"}, "internal resistance",
                             false, &ir));
  RETURN_IF_ERROR(FindColumn(header, base, {"temperature", "aux_temperature_1"},
                             "temperature", false, &temp));
  if (temp.index < 0) {
    // "Temperature (C)_1", "Aux_Temperature_1 (C)": the first column named like one, in °C.
    for (size_t i = 0; i < header.names.size(); ++i) {
      const std::string lower = absl::AsciiStrToLower(header.names[i]);
      if (absl::StartsWith(lower, "temperature") || absl::StartsWith(lower, "aux_temperature")) {
        temp.index = static_cast<int>(i);
        break;
      }
    }
  }

  RETURN_IF_ERROR(ReadRows(
      lines, header, TableOptions{','},
      [&](const Row& row) -> absl::Status {
        Sample s;
        s.line = row.line();
        RETURN_IF_ERROR(row.Number(time.index, time.scale, &s.test_time_s));
        RETURN_IF_ERROR(row.OptionalNumber(step_time.index, step_time.scale, &s.step_time_s));
        RETURN_IF_ERROR(row.Integer(cycle.index, &s.cycle));
        RETURN_IF_ERROR(row.Integer(step.index, &s.step));
        RETURN_IF_ERROR(row.Number(current.index, current.scale, &s.current_a));
        RETURN_IF_ERROR(row.Number(voltage.index, voltage.scale, &s.voltage_v));
        RETURN_IF_ERROR(row.Number(cc.index, cc.scale, &s.charge_capacity_ah));
        RETURN_IF_ERROR(row.Number(dc.index, dc.scale, &s.discharge_capacity_ah));
        RETURN_IF_ERROR(row.OptionalNumber(ce.index, ce.scale, &s.charge_energy_wh));
        RETURN_IF_ERROR(row.OptionalNumber(de.index, de.scale, &s.discharge_energy_wh));
        RETURN_IF_ERROR(row.OptionalNumber(ir.index, ir.scale, &s.internal_resistance_ohm));
        RETURN_IF_ERROR(row.OptionalNumber(temp.index, 1.0, &s.temperature_c));
        file.samples.push_back(s);
        return absl::OkStatus();
      },
      &file));
  RETURN_IF_ERROR(Finish(CounterReset::kOnDrop, /*cycle_base=*/1, &file));
  return file;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseArbinMetadata(
    absl::string_view data, absl::string_view name) {
  LineReader lines(data);
  Line head, values;
  if (!lines.Next(&head) || !lines.Next(&values)) {
    return absl::InvalidArgumentError(
        absl::StrCat(BaseName(name), ": an Arbin metadata file has a header and a value row"));
  }
  std::vector<absl::string_view> keys, vals;
  SplitFields(head.text, ',', &keys);
  SplitFields(values.text, ',', &vals);
  if (keys.size() != vals.size()) {
    return LineError(BaseName(name), values.number,
                     absl::StrCat("has ", vals.size(), " fields, the header has ", keys.size()));
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < keys.size(); ++i) {
    const absl::string_view key = Trim(keys[i]);
    if (key.empty()) continue;  // the index column pandas wrote
    out.emplace_back(std::string(key), std::string(Trim(vals[i])));
  }
  return out;
}

}  // namespace ionloop::instruments::cycler_files::internal
