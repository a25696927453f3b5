// Neware BTS CSV export (one header row, comma separated). Chg./DChg. capacity and energy
// restart at every step; "Time" is the step time and "Cumulative Time"/"Total Time" the
// test time, both as HH:MM:SS (hours may exceed 24) or plain numbers in their unit.
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "instruments/cycler_files/reader_internal.h"

namespace ionloop::instruments::cycler_files::internal {
namespace {

// A time in column `col`: "HH:MM:SS" or a number in the column's unit.
absl::Status TimeValue(const Row& row, const Column& col, double* seconds) {
  const absl::string_view text = row.Field(col.index);
  if (text.find(':') != absl::string_view::npos) return row.Duration(col.index, seconds);
  return row.Number(col.index, col.scale, seconds);
}

}  // namespace

absl::StatusOr<CyclerFile> ParseNewareCsv(absl::string_view data, absl::string_view name) {
  CyclerFile file;
  file.source = std::string(name);
  file.format = CyclerFormat::kNewareCsv;
  const absl::string_view base = BaseName(name);

  LineReader lines(data);
  Line line;
  ASSIGN_OR_RETURN(const Header header, ReadHeaderLine(lines, base, ','));

  Column cycle, step, step_type, time, step_time, current, voltage, cc, dc, ce, de, temp, ir;
  RETURN_IF_ERROR(
      FindColumn(header, base, {"cycle index", "cycle id", "cycle"}, "cycle", true, &cycle));
  RETURN_IF_ERROR(
      FindColumn(header, base, {"step index", "step id", "steps", "step"}, "step", true, &step));
  RETURN_IF_ERROR(FindColumn(header, base, {"step type", "step name", "status"}, "step type",
                             true, &step_type));
  RETURN_IF_ERROR(FindColumn(header, base, {"cumulative time", "total time", "test time"},
                             "test time", true, &time));
  RETURN_IF_ERROR(FindColumn(header, base, {"time", "relative time", "step time"}, "step time",
                             false, &step_time));
  RETURN_IF_ERROR(FindColumn(header, base, {"current"}, "current", true, &current));
  RETURN_IF_ERROR(FindColumn(header, base, {"voltage"}, "voltage", true, &voltage));
  RETURN_IF_ERROR(FindColumn(header, base, {"chg. cap.", "chg. capacity", "charge capacity"},
                             "charge capacity", true, &cc));
  RETURN_IF_ERROR(FindColumn(header, base,
                             {"dchg. cap.", "dchg. capacity", "discharge capacity"},
                             "discharge capacity", true, &dc));
  RETURN_IF_ERROR(FindColumn(header, base, {"chg. energy", "charge energy"}, "charge energy",
                             false, &ce));
  RETURN_IF_ERROR(FindColumn(header, base, {"dchg. energy", "discharge energy"},
                             "discharge energy", false, &de));
  RETURN_IF_ERROR(FindColumn(header, base, {"temperature", "t1", "auxiliary temperature"},
                             "temperature", false, &temp));
  RETURN_IF_ERROR(FindColumn(header, base, {"dcir"}, "DC internal resistance", false, &ir));

  RETURN_IF_ERROR(ReadRows(
      lines, header, TableOptions{','},
      [&](const Row& row) -> absl::Status {
        Sample s;
        s.line = row.line();
        RETURN_IF_ERROR(row.Integer(cycle.index, &s.cycle));
        RETURN_IF_ERROR(row.Integer(step.index, &s.step));
        RETURN_IF_ERROR(TimeValue(row, time, &s.test_time_s));
        if (step_time.index >= 0) RETURN_IF_ERROR(TimeValue(row, step_time, &s.step_time_s));
        RETURN_IF_ERROR(row.Number(current.index, current.scale, &s.current_a));
        RETURN_IF_ERROR(row.Number(voltage.index, voltage.scale, &s.voltage_v));
        RETURN_IF_ERROR(row.Number(cc.index, cc.scale, &s.charge_capacity_ah));
        RETURN_IF_ERROR(row.Number(dc.index, dc.scale, &s.discharge_capacity_ah));
        RETURN_IF_ERROR(row.OptionalNumber(ce.index, ce.scale, &s.charge_energy_wh));
        RETURN_IF_ERROR(row.OptionalNumber(de.index, de.scale, &s.discharge_energy_wh));
        RETURN_IF_ERROR(row.OptionalNumber(temp.index, 1.0, &s.temperature_c));
        RETURN_IF_ERROR(row.OptionalNumber(ir.index, ir.scale, &s.internal_resistance_ohm));
        const std::string type = absl::AsciiStrToLower(row.Field(step_type.index));
        if (type.empty()) return row.Error(step_type.index, "is empty");
        if (absl::StrContains(type, "dchg") || absl::StrContains(type, "discharge")) {
          s.current_a = -std::fabs(s.current_a);
        } else if (absl::StrContains(type, "chg") || absl::StrContains(type, "charge")) {
          s.current_a = std::fabs(s.current_a);
        }
        file.samples.push_back(s);
        return absl::OkStatus();
      },
      &file));
  RETURN_IF_ERROR(Finish(CounterReset::kEachStep, /*cycle_base=*/1, &file));
  return file;
}

}  // namespace ionloop::instruments::cycler_files::internal
