#include "workers/cycler/cycler_config.h"

#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"

namespace ionloop::worker::cycler {
namespace {

absl::Status Invalid(absl::string_view flag, absl::string_view value, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", what, ", got '", value, "'"));
}

// "MIN:MAX" with MIN < MAX, both finite.
absl::StatusOr<std::pair<double, double>> ParseRange(absl::string_view flag,
                                                     absl::string_view value) {
  const std::vector<absl::string_view> parts = absl::StrSplit(value, ':');
  double lo = 0, hi = 0;
  if (parts.size() != 2 || !absl::SimpleAtod(absl::StripAsciiWhitespace(parts[0]), &lo) ||
      !absl::SimpleAtod(absl::StripAsciiWhitespace(parts[1]), &hi) || !std::isfinite(lo) ||
      !std::isfinite(hi) || !(lo < hi)) {
    return Invalid(flag, value, "expected MIN:MAX with MIN < MAX (e.g. -20:60)");
  }
  return std::make_pair(lo, hi);
}

std::vector<std::string> List(absl::string_view value) {
  std::vector<std::string> out;
  for (absl::string_view item : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
    out.push_back(absl::AsciiStrToLower(absl::StripAsciiWhitespace(item)));
  }
  return out;
}

}  // namespace

absl::Status FillCyclerCapabilities(const CyclerFlags& flags, v1::Capabilities* caps) {
  ASSIGN_OR_RETURN(const auto temperature, ParseRange("temperature-range", flags.temperature_range));
  ASSIGN_OR_RETURN(const auto voltage, ParseRange("voltage-range", flags.voltage_range));
  if (!(flags.max_current_a >= 0) || !std::isfinite(flags.max_current_a)) {
    return Invalid("max-current-a", absl::StrCat(flags.max_current_a), "must be ≥ 0 (0: no limit)");
  }
  caps->set_temperature_min_c(temperature.first);
  caps->set_temperature_max_c(temperature.second);
  caps->set_voltage_min_v(voltage.first);
  caps->set_voltage_max_v(voltage.second);
  caps->set_current_max_a(flags.max_current_a);
  caps->clear_ions();
  for (const std::string& name : List(flags.ions)) {
    v1::Ion ion = v1::ION_UNSPECIFIED;
    if (!v1::Ion_Parse(absl::StrCat("ION_", absl::AsciiStrToUpper(name)), &ion) ||
        ion == v1::ION_UNSPECIFIED) {
      return Invalid("ions", flags.ions, absl::StrCat("unknown ion '", name, "' (li, na, k, mg)"));
    }
    caps->add_ions(ion);
  }
  caps->clear_cell_designs();
  for (const std::string& name : List(flags.designs)) {
    std::string upper = absl::AsciiStrToUpper(name);
    for (char& c : upper) {
      if (c == '-') c = '_';
    }
    v1::CellDesign design = v1::CELL_DESIGN_UNSPECIFIED;
    if (!v1::CellDesign_Parse(absl::StrCat("CELL_DESIGN_", upper), &design) ||
        design == v1::CELL_DESIGN_UNSPECIFIED) {
      return Invalid("designs", flags.designs,
                     absl::StrCat("unknown design '", name,
                                  "' (coin, cylindrical, pouch, prismatic, swagelok, "
                                  "three-electrode)"));
    }
    caps->add_cell_designs(design);
  }
  return absl::OkStatus();
}

absl::StatusOr<CyclerOptions> CyclerOptionsFromFlags(const CyclerFlags& flags) {
  CyclerOptions options;
  if (flags.backend == "virtual") {
    options.backend = CyclerBackend::kVirtual;
  } else if (flags.backend == "replay") {
    options.backend = CyclerBackend::kReplay;
  } else {
    return Invalid("backend", flags.backend, "must be virtual or replay");
  }
  if (flags.cycle_period_ms < 0) {
    return Invalid("cycle-period-ms", absl::StrCat(flags.cycle_period_ms), "must be ≥ 0");
  }
  options.cycle_period = absl::Milliseconds(flags.cycle_period_ms);
  if (!(flags.time_scale >= 0) || !std::isfinite(flags.time_scale)) {
    return Invalid("time-scale", absl::StrCat(flags.time_scale), "must be ≥ 0 (0: off)");
  }
  options.time_scale = flags.time_scale;
  if (!absl::SimpleAtoi(flags.seed, &options.seed)) {
    return Invalid("seed", flags.seed, "must be an unsigned 64-bit integer");
  }
  if (options.backend == CyclerBackend::kReplay) {
    if (flags.replay_file.empty()) {
      return absl::InvalidArgumentError("--replay-file: required with --backend replay");
    }
    ASSIGN_OR_RETURN(options.replay_files, ListReplayFiles(flags.replay_file));
  } else if (!flags.replay_file.empty()) {
    return absl::InvalidArgumentError("--replay-file: only with --backend replay");
  }
  return options;
}

}  // namespace ionloop::worker::cycler
