// The cycling instruments, each figure beside a baseline measured in the same run:
//
//   virtual cycler  simulated cycles/s of the physics-informed model (SEI √t with
//                   Arrhenius, rate/DoD/voltage wear, plating, noise), beside a plain
//                   empirical fade law Q(n) = Q0·(1 − a·√n − b·n) evaluated per cycle:
//                   what the physics costs over the cheapest possible stand-in.
//   cycler files    MB/s reading each real export in ../shared/data, beside the least
//                   any text reader must do: read the file, split lines and fields,
//                   strtod every field (binary formats: read the bytes).
//
//   build/bench/instruments_bench [--cells=32] [--cycles=2000] [--repeat=5]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "common/flag_table.h"
#include "instruments/cycler/virtual_cell.h"
#include "instruments/cycler_files/cycler_file.h"
#include "instruments/electrode_table.h"

namespace {

namespace cycler = ionloop::instruments::cycler;
namespace files = ionloop::instruments::cycler_files;

cycler::CellConfig Cell(int i) {
  cycler::CellConfig c;
  const bool lfp = i % 2 == 0;
  c.ion = ionloop::instruments::Ion::kLi;
  c.positive_electrode = lfp ? "LFP" : "NMC811";
  c.negative_electrode = "graphite";
  c.design = cycler::CellDesign::kCylindrical;
  c.nominal_capacity_ah = lfp ? 1.1 : 3.0;
  c.protocol.charge_c_rate = 1 + (i % 4);
  c.protocol.discharge_c_rate = 1;
  c.protocol.voltage_min_v = lfp ? 2.0 : 2.8;
  c.protocol.voltage_max_v = lfp ? 3.6 : 4.2;
  c.protocol.temperature_c = 25 + 5 * (i % 3);
  return c;
}

void BenchVirtualCycler(int cells, int cycles) {
  absl::StatusOr<ionloop::instruments::ElectrodeTable> table =
      ionloop::instruments::LoadDefaultElectrodeTable();
  if (!table.ok()) {
    std::fprintf(stderr, "electrode table: %s\n", table.status().ToString().c_str());
    std::exit(1);
  }
  long simulated = 0;
  double sink = 0;
  absl::Time start = absl::Now();
  for (int i = 0; i < cells; ++i) {
    absl::StatusOr<cycler::VirtualCell> cell = cycler::VirtualCell::Create(Cell(i), *table, i + 1);
    if (!cell.ok()) {
      std::fprintf(stderr, "cell %d: %s\n", i, cell.status().ToString().c_str());
      std::exit(1);
    }
    for (int n = 0; n < cycles && !cell->ReachedEol(); ++n) {
      sink += cell->RunCycle().discharge_capacity_ah;
      ++simulated;
    }
  }
  const double model_s = absl::ToDoubleSeconds(absl::Now() - start);

  long evaluated = 0;
  start = absl::Now();
  for (int i = 0; i < cells; ++i) {
    const double q0 = Cell(i).nominal_capacity_ah, a = 2e-3 * (1 + i % 3), b = 5e-5 * (1 + i % 4);
    for (int n = 1; n <= cycles; ++n) {
      const double q = q0 * (1 - a * std::sqrt(n) - b * n);
      sink += q;
      ++evaluated;
      if (q < 0.8 * q0) break;
    }
  }
  const double law_s = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("Virtual cycler: %d cells, up to %d cycles each (to EOL)\n", cells, cycles);
  std::printf("%-58s %14s\n", "path", "cycles/s");
  std::printf("%-58s %14.0f\n", "empirical fade law, one evaluation per cycle (baseline)",
              evaluated / std::max(law_s, 1e-9));
  std::printf("%-58s %14.0f  (%ld cycles, %.1f µs each)\n",
              "virtual cycler, VirtualCell::RunCycle", simulated / model_s, simulated,
              1e6 * model_s / std::max<long>(simulated, 1));
  if (sink == 42) std::printf(" ");  // keeps the loops from being optimized away
}

// The least a text reader does: read, split lines and fields, strtod each field.
double Baseline(const std::string& path, bool text, double* checksum) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string data = ss.str();
  if (!text) return static_cast<double>(data.size());
  const char* p = data.data();
  const char* end = p + data.size();
  while (p < end) {
    const char* field = p;
    while (p < end && *p != ',' && *p != '\t' && *p != ';' && *p != '\n') ++p;
    *checksum += std::strtod(std::string(field, p).c_str(), nullptr);
    ++p;
  }
  return static_cast<double>(data.size());
}

void BenchCyclerFiles(const std::string& data_dir, int repeat) {
  const std::vector<std::pair<std::string, bool>> fixtures = {
      {"beep_fixtures/FastCharge_000025_CH8.csv", true},
      {"beep_fixtures/PreDiag_000229_000229_truncated.034", true},
      {"beep_fixtures/test_Nova_Form-CH01-01_short.csv", true},
      {"beep_fixtures/test_loopsnewoutput_MB_CE1_short10k.csv", true},
      {"cellpy_fixtures/maccor_001.txt", true},
      {"cellpy_fixtures/neware_uio.csv", true},
      {"cellpy_fixtures/biol.mpr", false},
      {"cellpy_fixtures/20260302_IFE_BTS85_2_9_8_1.ndax", false},
  };
  std::printf("\nCycler files (%s), best of %d\n", data_dir.c_str(), repeat);
  std::printf("%-54s %9s %12s %12s %8s\n", "file", "MB", "baseline MB/s", "reader MB/s",
              "cycles");
  double checksum = 0;
  for (const auto& [name, text] : fixtures) {
    const std::string path = data_dir + "/" + name;
    if (!std::filesystem::exists(path)) {
      std::printf("%-54s (absent)\n", name.c_str());
      continue;
    }
    double best_base = 1e9, best_reader = 1e9, bytes = 0;
    size_t cycles = 0;
    for (int r = 0; r < repeat; ++r) {
      absl::Time t = absl::Now();
      bytes = Baseline(path, text, &checksum);
      best_base = std::min(best_base, absl::ToDoubleSeconds(absl::Now() - t));
      t = absl::Now();
      absl::StatusOr<files::CyclerFile> file = files::ReadCyclerFile(path);
      best_reader = std::min(best_reader, absl::ToDoubleSeconds(absl::Now() - t));
      if (!file.ok()) {
        std::printf("%-54s error: %s\n", name.c_str(), file.status().ToString().c_str());
        break;
      }
      cycles = file->cycles.size();
    }
    const double mb = bytes / 1e6;
    std::printf("%-54s %9.2f %12.1f %12.1f %8zu\n", name.c_str(), mb, mb / best_base,
                mb / best_reader, cycles);
  }
  if (checksum == 42) std::printf(" ");
}

}  // namespace

int main(int argc, char** argv) {
  int cells = 32;
  int cycles = 2000;
  int repeat = 5;
  std::string data_dir = IONLOOP_SHARED_DATA_DIR;
  ionloop::FlagTable flags(
      "instruments_bench — the virtual cycler's cycles/s beside an empirical fade law, and\n"
      "the cycler-file readers' MB/s beside a bare read/split/strtod pass, in one run.");
  flags.Int("cells", &cells, "Virtual cells to simulate.");
  flags.Int("cycles", &cycles, "Cycles per cell at most (each stops at EOL).");
  flags.Int("repeat", &repeat, "Reads per file; the best is reported.");
  flags.String("data-dir", &data_dir, "The shared reference data (cycler fixtures).");
  auto parsed = flags.Parse(argc, argv);
  if (flags.help_requested()) {
    std::printf("%s", flags.Help().c_str());
    return 0;
  }
  if (!parsed.ok() || cells < 1 || cycles < 1 || repeat < 1) {
    std::fprintf(stderr, "instruments_bench: %s\n",
                 parsed.ok() ? "counts must be >= 1" : parsed.status().ToString().c_str());
    return 2;
  }
  BenchVirtualCycler(cells, cycles);
  BenchCyclerFiles(data_dir, repeat);
  return 0;
}
