// Maccor text export: a few preamble lines ("Today's Date ..."), then a tab-separated
// table whose header starts with "Rec#". Amp-hr and Watt-hr restart at every step and
// carry no sign: the State column says C(harge), D(ischarge), R(est) or other.
#include <algorithm>
#include <cmath>
#include <utility>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "instruments/cycler_files/reader_internal.h"

namespace ionloop::instruments::cycler_files::internal {
namespace {

int FindExact(const Header& header, std::initializer_list<absl::string_view> names) {
  for (const absl::string_view want : names) {
    for (size_t i = 0; i < header.names.size(); ++i) {
      if (absl::EqualsIgnoreCase(Trim(header.names[i]), want)) return static_cast<int>(i);
    }
  }
  return -1;
}

// The known "Key: value" fields of the preamble lines, e.g.
//   Today's Date 09/01/2020  Date of Test:\t12/16/2019\t Filename:\tE:\\x.034 Procedure: P.000
// A value runs to the next tab or the next known key.
void PreambleMetadata(absl::string_view text, CyclerFile* file) {
  static constexpr absl::string_view kKeys[] = {
      "Today's Date", "Date of Test", "Filename", "Procedure", "Comment/Barcode",
      "Tester Channel", "Description"};
  std::vector<std::pair<size_t, absl::string_view>> found;  // position, key
  for (const absl::string_view key : kKeys) {
    const size_t at = text.find(key);
    if (at != absl::string_view::npos) found.emplace_back(at, key);
  }
  std::sort(found.begin(), found.end());
  for (size_t i = 0; i < found.size(); ++i) {
    size_t begin = found[i].first + found[i].second.size();
    size_t end = i + 1 < found.size() ? found[i + 1].first : text.size();
    if (begin > end) continue;
    absl::string_view value = text.substr(begin, end - begin);
    while (!value.empty() && (value.front() == ':' || value.front() == ' ' ||
                              value.front() == '\t')) {
      value.remove_prefix(1);
    }
    const size_t tab = value.find('\t');
    if (tab != absl::string_view::npos) value = value.substr(0, tab);
    file->metadata.emplace_back(std::string(found[i].second), std::string(Trim(value)));
  }
}

}  // namespace

absl::StatusOr<CyclerFile> ParseMaccorText(absl::string_view data, absl::string_view name) {
  CyclerFile file;
  file.source = std::string(name);
  file.format = CyclerFormat::kMaccorText;
  const absl::string_view base = BaseName(name);

  LineReader lines(data);
  Line line;
  Header header;
  for (int i = 0; i < 32 && lines.Next(&line); ++i) {
    if (absl::StartsWith(Trim(line.text), "Rec#")) {
      header.line = line.number;
      break;
    }
    PreambleMetadata(line.text, &file);
  }
  if (header.line == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(base, ": no Maccor header line (one starting with \"Rec#\") in the "
                           "first 32 lines"));
  }
  std::vector<absl::string_view> fields;
  SplitFields(line.text, '\t', &fields);
  for (const absl::string_view f : fields) header.names.emplace_back(Trim(f));

  const int cycle = FindExact(header, {"Cyc#", "Cycle"});
  const int step = FindExact(header, {"Step"});
  const int time = FindExact(header, {"Test (Sec)", "TestTime", "Test Time"});
  const int step_time = FindExact(header, {"Step (Sec)", "StepTime", "Step Time"});
  const int amp_hr = FindExact(header, {"Amp-hr", "Capacity"});
  const int watt_hr = FindExact(header, {"Watt-hr", "Energy"});
  const int amps = FindExact(header, {"Amps", "Current"});
  const int volts = FindExact(header, {"Volts", "Voltage"});
  const int state = FindExact(header, {"State", "MD"});
  const int dcir = FindExact(header, {"DCIR/Ohms"});
  const int acimp = FindExact(header, {"ACImp/Ohms"});
  int temp = FindExact(header, {"Temp 1", "Temperature"});
  // "Aux #N" followed by a " Units" column: the first one whose unit is C is a
  // temperature (checked row by row).
  int aux_temp = -1;
  for (size_t i = 0; temp < 0 && i + 1 < header.names.size(); ++i) {
    if (absl::StartsWith(header.names[i], "Aux #") &&
        absl::EqualsIgnoreCase(header.names[i + 1], "Units")) {
      aux_temp = static_cast<int>(i);
      break;
    }
  }
  const std::pair<int, const char*> required[] = {
      {cycle, "Cyc#"}, {step, "Step"},   {time, "Test (Sec) or TestTime"}, {amp_hr, "Amp-hr"},
      {amps, "Amps"},  {volts, "Volts"}, {state, "State"}};
  for (const auto& [index, what] : required) {
    if (index < 0) {
      return LineError(base, header.line, absl::StrCat("no '", what, "' column in the header"));
    }
  }

  size_t missing_temperature = 0;
  uint32_t first_missing_line = 0;
  RETURN_IF_ERROR(ReadRows(
      lines, header, TableOptions{'\t'},
      [&](const Row& row) -> absl::Status {
        Sample s;
        s.line = row.line();
        RETURN_IF_ERROR(row.Integer(cycle, &s.cycle));
        RETURN_IF_ERROR(row.Integer(step, &s.step));
        RETURN_IF_ERROR(row.Duration(time, &s.test_time_s));
        if (step_time >= 0) RETURN_IF_ERROR(row.Duration(step_time, &s.step_time_s));
        double ah = 0, wh = kNaN, amp = 0;
        RETURN_IF_ERROR(row.Number(amp_hr, 1.0, &ah));
        if (watt_hr >= 0) RETURN_IF_ERROR(row.Number(watt_hr, 1.0, &wh));
        RETURN_IF_ERROR(row.Number(amps, 1.0, &amp));
        RETURN_IF_ERROR(row.Number(volts, 1.0, &s.voltage_v));
        const absl::string_view st = row.Field(state);
        if (st.empty()) return row.Error(state, "is empty");
        const bool charge = st == "C";
        const bool discharge = st == "D";
        s.current_a = charge ? std::fabs(amp) : discharge ? -std::fabs(amp) : amp;
        s.charge_capacity_ah = charge ? ah : kNaN;
        s.discharge_capacity_ah = discharge ? ah : kNaN;
        s.charge_energy_wh = charge ? wh : kNaN;
        s.discharge_energy_wh = discharge ? wh : kNaN;
        double r = kNaN;
        if (dcir >= 0) RETURN_IF_ERROR(row.OptionalNumber(dcir, 1.0, &r));
        if ((!std::isfinite(r) || r == 0) && acimp >= 0) {
          RETURN_IF_ERROR(row.OptionalNumber(acimp, 1.0, &r));
        }
        s.internal_resistance_ohm = r;
        if (temp >= 0) {
          RETURN_IF_ERROR(row.OptionalNumber(temp, 1.0, &s.temperature_c));
        } else if (aux_temp >= 0 && absl::EqualsIgnoreCase(row.Field(aux_temp + 1), "C")) {
          RETURN_IF_ERROR(row.OptionalNumber(aux_temp, 1.0, &s.temperature_c));
        }
        // An open thermocouple reads about -2500 C: no reading.
        if (s.temperature_c < -273.15) {
          if (missing_temperature++ == 0) first_missing_line = s.line;
          s.temperature_c = kNaN;
        }
        file.samples.push_back(s);
        return absl::OkStatus();
      },
      &file));
  if (missing_temperature > 0) {
    file.warnings.push_back(absl::StrCat(
        base, ": ", missing_temperature,
        " temperature readings below absolute zero (first at line ", first_missing_line,
        ") treated as missing: the sensor is not connected"));
  }
  RETURN_IF_ERROR(Finish(CounterReset::kEachStep, /*cycle_base=*/0, &file));
  return file;
}

}  // namespace ionloop::instruments::cycler_files::internal
