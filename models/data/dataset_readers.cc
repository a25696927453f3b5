#include "models/data/dataset_readers.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "models/data/capacity_series.h"

namespace ionloop::models {
namespace {

namespace fs = std::filesystem;
using instruments::cycler::CellDesign;
using instruments::cycler::ChargeStep;

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return absl::NotFoundError(absl::StrCat("no such file: ", path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Lines without their '\r'; a UTF-8 byte-order mark at the start is dropped.
std::vector<absl::string_view> Lines(absl::string_view text) {
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  for (auto& l : lines) absl::ConsumeSuffix(&l, "\r");
  while (!lines.empty() && absl::StripAsciiWhitespace(lines.back()).empty()) {
    lines.pop_back();
  }
  return lines;
}

bool ParseNumber(absl::string_view s, double* out) {
  s = absl::StripAsciiWhitespace(s);
  if (s.empty()) return false;
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  if (*begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, *out);
  return ec == std::errc() && ptr == end && std::isfinite(*out);
}

std::string Where(const std::string& path, size_t line_index) {
  return absl::StrCat(path, ":", line_index + 1);
}

absl::Status BadLine(const std::string& path, size_t line_index, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(Where(path, line_index), ": ", what));
}

// ---------------------------------------------------------------- Severson

constexpr int kSeversonPoints = 1000;
constexpr int kSeversonFirstCycle = 2;
constexpr int kSeversonLastCycle = 100;

instruments::cycler::CellConfig SeversonConfig() {
  instruments::cycler::CellConfig config;
  config.ion = instruments::Ion::kLi;
  config.positive_electrode = "LFP";
  config.negative_electrode = "graphite";
  config.electrolyte = "not stated (commercial A123 APR18650M1A)";
  config.design = CellDesign::kCylindrical;
  config.nominal_capacity_ah = 1.1;
  config.protocol.discharge_c_rate = 4;
  config.protocol.voltage_min_v = 2.0;
  config.protocol.voltage_max_v = 3.6;
  config.protocol.temperature_c = 30;
  config.eol_soh_percent = 80;
  return config;
}

absl::StatusOr<std::vector<double>> ReadLives(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  std::vector<double> lives;
  const auto lines = Lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    double v;
    if (!ParseNumber(lines[i], &v) || v <= 0) {
      return BadLine(path, i, absl::StrCat("expected a positive cycle life, got '",
                                           lines[i], "'"));
    }
    lives.push_back(v);
  }
  return lives;
}

absl::StatusOr<CellSeries> ReadSeversonCell(const std::string& path, const std::string& id,
                                            const std::vector<double>& grid) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  const auto lines = Lines(text);
  if (lines.size() != kSeversonPoints) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": expected ", kSeversonPoints, " rows (voltage points), found ", lines.size()));
  }
  constexpr int kCycles = kSeversonLastCycle - kSeversonFirstCycle + 1;
  // q[cycle][point]
  std::vector<std::vector<double>> q(kCycles, std::vector<double>(kSeversonPoints));
  for (size_t row = 0; row < lines.size(); ++row) {
    int col = 0;
    for (absl::string_view field : absl::StrSplit(lines[row], ',')) {
      if (col >= kCycles) {
        return BadLine(path, row, absl::StrCat("more than ", kCycles, " columns"));
      }
      double v;
      if (!ParseNumber(field, &v)) {
        return BadLine(path, row, absl::StrCat("column ", col + 1, ": not a number: '",
                                               field, "'"));
      }
      q[col][row] = v;
      ++col;
    }
    if (col != kCycles) {
      return BadLine(path, row,
                     absl::StrCat("expected ", kCycles, " columns (cycles 2..100), found ", col));
    }
  }
  CellSeries cell;
  cell.id = id;
  cell.config = SeversonConfig();
  cell.curves.reserve(kCycles);
  for (int c = 0; c < kCycles; ++c) {
    const int cycle = kSeversonFirstCycle + c;
    cell.cycles.push_back(cycle);
    cell.capacity_ah.push_back(q[c].back());  // Q at 2.0 V
    DischargeCurve curve;
    curve.cycle = cycle;
    curve.voltage_v = grid;
    curve.capacity_ah = std::move(q[c]);
    cell.curves.push_back(std::move(curve));
  }
  return cell;
}

struct PolicyRow {
  double cycle_life = 0;
  std::vector<ChargeStep> steps;
};

absl::StatusOr<std::vector<PolicyRow>> ReadPolicyTable(const std::string& path,
                                                       absl::string_view split_label) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  const auto lines = Lines(text);
  if (lines.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": empty"));
  std::vector<std::string> header = absl::StrSplit(lines[0], ',');
  int dataset_col = -1, life_col = -1, policy_col = -1;
  for (int i = 0; i < static_cast<int>(header.size()); ++i) {
    const std::string h(absl::StripAsciiWhitespace(header[i]));
    if (h == "Dataset") dataset_col = i;
    if (h == "Cycle life") life_col = i;
    if (h == "Charging policy") policy_col = i;
  }
  if (dataset_col < 0 || life_col < 0 || policy_col < 0) {
    return BadLine(path, 0,
                   "header lacks one of 'Dataset', 'Cycle life', 'Charging policy'");
  }
  std::vector<PolicyRow> rows;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<absl::string_view> f = absl::StrSplit(lines[i], ',');
    const int need = std::max({dataset_col, life_col, policy_col});
    if (static_cast<int>(f.size()) <= need) {
      return BadLine(path, i, absl::StrCat("expected ", header.size(), " fields, found ",
                                           f.size()));
    }
    if (absl::StripAsciiWhitespace(f[dataset_col]) != split_label) continue;
    PolicyRow row;
    if (!ParseNumber(f[life_col], &row.cycle_life)) {
      return BadLine(path, i, absl::StrCat("Cycle life: not a number: '", f[life_col], "'"));
    }
    auto steps = ParseSeversonPolicy(absl::StripAsciiWhitespace(f[policy_col]));
    if (!steps.ok()) return BadLine(path, i, steps.status().message());
    row.steps = *std::move(steps);
    rows.push_back(std::move(row));
  }
  return rows;
}

// ---------------------------------------------------------------- INL

absl::StatusOr<std::string> FindPackFolder(const std::string& raw_dir,
                                           const std::string& pack) {
  std::error_code ec;
  if (!fs::is_directory(raw_dir, ec)) {
    return absl::NotFoundError(absl::StrCat("no such directory: ", raw_dir));
  }
  std::vector<std::string> matches;
  for (const auto& entry : fs::directory_iterator(raw_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && absl::StartsWith(name, pack + "_")) {
      matches.push_back(entry.path().string());
    }
  }
  if (ec) return absl::NotFoundError(absl::StrCat("cannot list ", raw_dir, ": ", ec.message()));
  if (matches.size() != 1) {
    return absl::NotFoundError(absl::StrCat("expected one folder '", pack, "_*' under ",
                                            raw_dir, ", found ", matches.size()));
  }
  return matches[0];
}

absl::Status ReadInlCapacity(const std::string& path, CellSeries* cell) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  const auto lines = Lines(text);
  if (lines.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no data rows"));
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<absl::string_view> f = absl::StrSplit(lines[i], ',');
    if (f.size() != 3) {
      return BadLine(path, i, absl::StrCat("expected 3 fields (index, cycle, capacity), found ",
                                           f.size()));
    }
    double cycle, q;
    if (!ParseNumber(f[1], &cycle) || cycle < 1 || cycle != std::floor(cycle)) {
      return BadLine(path, i, absl::StrCat("cycle: expected a positive integer, got '",
                                           f[1], "'"));
    }
    if (!ParseNumber(f[2], &q) || q < 0) {
      return BadLine(path, i, absl::StrCat("capacity: expected a number >= 0, got '", f[2],
                                           "'"));
    }
    if (!cell->cycles.empty() && !(cycle > cell->cycles.back())) {
      return BadLine(path, i, absl::StrCat("cycle ", cycle, " does not increase (after ",
                                           cell->cycles.back(), ")"));
    }
    cell->cycles.push_back(cycle);
    cell->capacity_ah.push_back(q);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<ChargeStep>> ParseSeversonPolicy(absl::string_view policy) {
  auto bad = [&policy](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("charging policy '", policy, "': ", why,
                     " (expected \"C1(Q1%)-C2\", e.g. \"5.4C(40%)-3.6C\")"));
  };
  absl::string_view s = absl::StripAsciiWhitespace(policy);
  const size_t open = s.find('(');
  const size_t close = s.find("%)-");
  if (open == absl::string_view::npos || close == absl::string_view::npos || close < open) {
    return bad("unrecognised form");
  }
  absl::string_view c1 = s.substr(0, open);
  absl::string_view q1 = s.substr(open + 1, close - open - 1);
  absl::string_view c2 = s.substr(close + 3);
  if (!absl::ConsumeSuffix(&c1, "C") || !absl::ConsumeSuffix(&c2, "C")) {
    return bad("C-rates must end in 'C'");
  }
  double r1, soc, r2;
  if (!ParseNumber(c1, &r1) || !ParseNumber(q1, &soc) || !ParseNumber(c2, &r2)) {
    return bad("not a number");
  }
  if (!(r1 > 0) || !(r2 > 0) || !(soc > 0) || soc > 80) {
    return bad("need positive rates and 0 < Q1 <= 80");
  }
  std::vector<ChargeStep> steps;
  steps.push_back({r1, soc});
  if (soc < 80) steps.push_back({r2, 80});
  return steps;
}

absl::StatusOr<DatasetSpec> ParseDatasetSpec(absl::string_view text) {
  const auto usage = [&text](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "data-set spec '", text, "': ", why,
        "; expected 'severson:ROOT:SPLIT' or 'inl:DIR'"));
  };
  const size_t colon = text.find(':');
  if (colon == absl::string_view::npos) return usage("no format prefix");
  DatasetSpec spec;
  spec.format = std::string(text.substr(0, colon));
  absl::string_view rest = text.substr(colon + 1);
  if (spec.format == "severson") {
    const size_t last = rest.rfind(':');
    if (last == absl::string_view::npos) return usage("missing SPLIT");
    spec.root = std::string(rest.substr(0, last));
    spec.split = std::string(rest.substr(last + 1));
    if (spec.root.empty()) return usage("empty ROOT");
    if (spec.split.empty()) return usage("empty SPLIT");
    return spec;
  }
  if (spec.format == "inl") {
    spec.root = std::string(rest);
    if (spec.root.empty()) return usage("empty DIR");
    return spec;
  }
  return usage(absl::StrCat("unknown format '", spec.format, "'"));
}

absl::StatusOr<std::vector<CellSeries>> ReadSeversonDataset(const std::string& root,
                                                            const std::string& split) {
  const fs::path dir = fs::path(root) / "data" / split;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat("Severson split directory not found: ",
                                            dir.string()));
  }
  std::map<int, std::string> files;  // N → path, ordered numerically
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    absl::string_view stem = name;
    int n;
    if (absl::ConsumePrefix(&stem, "cell") && absl::ConsumeSuffix(&stem, ".csv") &&
        absl::SimpleAtoi(stem, &n) && n > 0) {
      files[n] = entry.path().string();
    }
  }
  if (ec) return absl::NotFoundError(absl::StrCat("cannot list ", dir.string()));
  if (files.empty()) {
    return absl::NotFoundError(absl::StrCat("no cellN.csv files in ", dir.string()));
  }
  if (files.rbegin()->first != static_cast<int>(files.size())) {
    return absl::InvalidArgumentError(absl::StrCat(
        dir.string(), ": cell files are not numbered 1..", files.size(), " (highest is cell",
        files.rbegin()->first, ".csv)"));
  }
  const std::string lives_path =
      (fs::path(root) / "data" / "cycle_lives" / (split + "_cycle_lives.csv")).string();
  ASSIGN_OR_RETURN(std::vector<double> lives, ReadLives(lives_path));
  if (lives.size() != files.size()) {
    return absl::InvalidArgumentError(absl::StrCat(lives_path, ": ", lives.size(),
                                                   " cycle lives for ", files.size(),
                                                   " cells in ", dir.string()));
  }

  // Charging policies (optional; see the header for when they are trusted).
  std::vector<PolicyRow> policies;
  const std::string table_path =
      (fs::path(root) / "severson_et_al_SI_table9_train_test1.csv").string();
  const std::map<std::string, std::string> labels = {
      {"train", "Train"}, {"test1", "Prim. Test"}, {"test2", "Sec. Test"}};
  if (fs::is_regular_file(table_path, ec) && labels.count(split) > 0) {
    ASSIGN_OR_RETURN(policies, ReadPolicyTable(table_path, labels.at(split)));
    bool consistent = policies.size() == lives.size();
    for (size_t i = 0; consistent && i < policies.size(); ++i) {
      consistent = policies[i].cycle_life == lives[i];
    }
    if (!consistent) policies.clear();
  }

  std::vector<double> grid(kSeversonPoints);
  for (int i = 0; i < kSeversonPoints; ++i) {
    grid[i] = 3.6 - 1.6 * i / (kSeversonPoints - 1);
  }
  std::vector<CellSeries> cells;
  cells.reserve(files.size());
  for (const auto& [n, path] : files) {
    ASSIGN_OR_RETURN(CellSeries cell,
                     ReadSeversonCell(path, absl::StrCat(split, "/cell", n), grid));
    cell.cycle_life = lives[n - 1];
    if (!policies.empty()) cell.config.protocol.charge_steps = policies[n - 1].steps;
    cells.push_back(std::move(cell));
  }
  return cells;
}

absl::StatusOr<std::vector<CellSeries>> ReadInlDataset(const std::string& dir) {
  const std::string summary_path = (fs::path(dir) / "summary.csv").string();
  ASSIGN_OR_RETURN(std::string text, ReadFile(summary_path));
  const auto lines = Lines(text);
  if (lines.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(summary_path, ": empty"));
  }
  std::vector<std::string> header = absl::StrSplit(lines[0], ',');
  std::map<std::string, int> col;
  for (int i = 0; i < static_cast<int>(header.size()); ++i) {
    col[std::string(absl::StripAsciiWhitespace(header[i]))] = i;
  }
  for (const char* name :
       {"pack", "cathode", "loading", "cell", "charge_c_rate", "protocol",
        "charge_voltage_V"}) {
    if (col.count(name) == 0) {
      return BadLine(summary_path, 0, absl::StrCat("header lacks column '", name, "'"));
    }
  }
  const std::string raw_dir = (fs::path(dir) / "Battery raw data").string();
  std::vector<CellSeries> cells;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> f = absl::StrSplit(lines[i], ',');
    if (f.size() < header.size()) {
      return BadLine(summary_path, i, absl::StrCat("expected ", header.size(),
                                                   " fields, found ", f.size()));
    }
    for (auto& s : f) s = std::string(absl::StripAsciiWhitespace(s));
    const std::string& pack = f[col["pack"]];
    const std::string& cathode = f[col["cathode"]];
    const std::string& loading = f[col["loading"]];
    int cell_number;
    if (!absl::SimpleAtoi(f[col["cell"]], &cell_number) || cell_number < 0) {
      return BadLine(summary_path, i, absl::StrCat("cell: not a cell number: '",
                                                   f[col["cell"]], "'"));
    }
    absl::string_view rate_text = f[col["charge_c_rate"]];
    double rate;
    if (!absl::ConsumeSuffix(&rate_text, "C") || !ParseNumber(rate_text, &rate) ||
        rate <= 0) {
      return BadLine(summary_path, i, absl::StrCat("charge_c_rate: expected e.g. '4.5C', got '",
                                                   f[col["charge_c_rate"]], "'"));
    }
    if (f[col["protocol"]] != "CC-CV") {
      return BadLine(summary_path, i, absl::StrCat("protocol: only 'CC-CV' is known, got '",
                                                   f[col["protocol"]], "'"));
    }
    double charge_v;
    if (!ParseNumber(f[col["charge_voltage_V"]], &charge_v) || charge_v <= 0) {
      return BadLine(summary_path, i, absl::StrCat("charge_voltage_V: not a voltage: '",
                                                   f[col["charge_voltage_V"]], "'"));
    }
    if (cathode != "NMC532" && cathode != "NMC811") {
      return BadLine(summary_path, i, absl::StrCat("cathode: expected NMC532 or NMC811, got '",
                                                   cathode, "'"));
    }
    double level;
    if (loading == "low") {
      level = 1;
    } else if (loading == "moderate") {
      level = 2;
    } else if (loading == "high") {
      level = 3;
    } else {
      return BadLine(summary_path, i, absl::StrCat("loading: expected low, moderate or high, got '",
                                                   loading, "'"));
    }

    CellSeries cell;
    cell.id = absl::StrCat(pack, "-", cell_number);
    cell.loading_level = level;
    cell.config.ion = instruments::Ion::kLi;
    cell.config.positive_electrode = cathode;
    cell.config.negative_electrode = "graphite";
    cell.config.design = CellDesign::kPouch;
    cell.config.protocol.charge_c_rate = rate;
    cell.config.protocol.voltage_max_v = charge_v;
    cell.config.eol_soh_percent = 80;

    ASSIGN_OR_RETURN(std::string folder, FindPackFolder(raw_dir, pack));
    const std::string cap_path =
        (fs::path(folder) / absl::StrFormat("Capacity_Cell%02d.csv", cell_number)).string();
    RETURN_IF_ERROR(ReadInlCapacity(cap_path, &cell));
    cell.config.nominal_capacity_ah = MedianOfFirst(cell.capacity_ah, 5);
    if (!(cell.config.nominal_capacity_ah > 0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          cap_path, ": median of the first 5 capacities is not positive (",
          cell.config.nominal_capacity_ah, ")"));
    }
    ASSIGN_OR_RETURN(std::vector<double> corrected,
                     HampelFilter(cell.capacity_ah, /*half_window=*/5, /*n_sigmas=*/3));
    const double threshold = 0.8 * cell.config.nominal_capacity_ah;
    for (size_t k = 0; k < corrected.size(); ++k) {
      if (corrected[k] < threshold) {
        cell.cycle_life = cell.cycles[k];
        break;
      }
    }
    cells.push_back(std::move(cell));
  }
  return cells;
}

absl::StatusOr<std::vector<CellSeries>> ReadDataset(const DatasetSpec& spec) {
  if (spec.format == "severson") return ReadSeversonDataset(spec.root, spec.split);
  if (spec.format == "inl") return ReadInlDataset(spec.root);
  return absl::InvalidArgumentError(
      absl::StrCat("ReadDataset: unknown data-set format '", spec.format, "'"));
}

}  // namespace ionloop::models
