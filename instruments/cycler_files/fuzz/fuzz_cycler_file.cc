// libFuzzer entry point for one cycler-file parser, chosen at compile time by
// IONLOOP_FUZZ_FORMAT_<name> (see CMakeLists.txt). Any input must give either an error
// status or a file whose summaries and curves can be walked; never a crash, a sanitizer
// report, or an inconsistent result.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "instruments/cycler_files/cycler_file.h"

namespace cf = ionloop::instruments::cycler_files;

namespace {

constexpr cf::CyclerFormat kFormat =
#if defined(IONLOOP_FUZZ_FORMAT_arbin_csv)
    cf::CyclerFormat::kArbinCsv;
#elif defined(IONLOOP_FUZZ_FORMAT_maccor_text)
    cf::CyclerFormat::kMaccorText;
#elif defined(IONLOOP_FUZZ_FORMAT_novonix_csv)
    cf::CyclerFormat::kNovonixCsv;
#elif defined(IONLOOP_FUZZ_FORMAT_biologic_text)
    cf::CyclerFormat::kBiologicText;
#elif defined(IONLOOP_FUZZ_FORMAT_biologic_mpr)
    cf::CyclerFormat::kBiologicMpr;
#elif defined(IONLOOP_FUZZ_FORMAT_neware_csv)
    cf::CyclerFormat::kNewareCsv;
#elif defined(IONLOOP_FUZZ_FORMAT_neware_ndax)
    cf::CyclerFormat::kNewareNdax;
#else
    cf::CyclerFormat::kUnknown;  // through DetectFormat
#endif

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view contents(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<cf::CyclerFile> file = cf::ParseCyclerFile(contents, "fuzz.dat", kFormat);
  if (!file.ok()) {
    Check(!file.status().message().empty());
    return 0;
  }
  Check(!file->samples.empty());
  size_t covered = 0;
  for (const cf::CycleSummary& c : file->cycles) {
    Check(c.first_sample == covered && c.num_samples > 0);
    covered += c.num_samples;
    Check(!(c.charge_capacity_ah < 0) && !(c.discharge_capacity_ah < 0));
  }
  Check(covered == file->samples.size());
  for (const bool charge : {false, true}) {
    for (const cf::VoltageCurve& curve : cf::ExtractCurves(*file, charge)) {
      Check(curve.capacity_ah.size() == curve.voltage_v.size());
    }
  }
  return 0;
}
