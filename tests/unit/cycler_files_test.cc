// Cycler-file readers: synthetic files (always run), then the real exports in
// ../shared/data (skipped with a message when that folder is absent). Expected numbers
// for the real files were read from the files by hand; each test says how.
#include "instruments/cycler_files/cycler_file.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <tuple>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "instruments/cycler_files/reader_internal.h"
#include "zlib.h"

#ifndef IONLOOP_SHARED_DATA_DIR
#define IONLOOP_SHARED_DATA_DIR ""
#endif

namespace ionloop::instruments::cycler_files {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

// ---- helpers ----------------------------------------------------------------------------

// Relative tolerance for numbers printed with ~10 significant digits.
constexpr double kTol = 1e-9;

std::string SharedData() { return IONLOOP_SHARED_DATA_DIR; }

bool HaveSharedData() {
  std::error_code ec;
  return !SharedData().empty() &&
         std::filesystem::is_directory(SharedData() + "/beep_fixtures", ec) &&
         std::filesystem::is_directory(SharedData() + "/cellpy_fixtures", ec);
}

#define SKIP_WITHOUT_SHARED_DATA()                                                   \
  if (!HaveSharedData()) {                                                           \
    GTEST_SKIP() << "real cycler exports not found under '" << SharedData()          \
                 << "' (../shared/data/{beep,cellpy}_fixtures): skipping; the core " \
                    "suite does not need them";                                      \
  }

std::string Fixture(const std::string& rel) { return SharedData() + "/" + rel; }

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A scratch directory for modified copies of fixtures, removed at the end.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::path(::testing::TempDir()) /
            absl::StrCat("cycler_files_", info->name(), "_", ::getpid());
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string Write(const std::string& name, const std::string& contents) const {
    const std::string p = (path_ / name).string();
    std::ofstream(p, std::ios::binary) << contents;
    return p;
  }

 private:
  std::filesystem::path path_;
};

// Replaces field `col` (0-based) of line `line` (1-based) of `text`, split at `sep`.
std::string ReplaceField(const std::string& text, int line, int col, char sep,
                         const std::string& value) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  std::vector<std::string> fields = absl::StrSplit(lines.at(line - 1), sep);
  fields.at(col) = value;
  lines.at(line - 1) = absl::StrJoin(fields, std::string(1, sep));
  return absl::StrJoin(lines, "\n");
}

// The file cut in the middle of line `line` (1-based): `keep` characters of it remain.
std::string CutInLine(const std::string& text, int line, size_t keep) {
  size_t pos = 0;
  for (int i = 1; i < line; ++i) pos = text.find('\n', pos) + 1;
  return text.substr(0, pos + keep);
}

// ---- pieces ---------------------------------------------------------------------------

TEST(CyclerFilesTextTest, NumbersDurationsAndDates) {
  double v = 0;
  EXPECT_TRUE(internal::ParseNumber(" +3.5e-1 ", &v));
  EXPECT_DOUBLE_EQ(v, 0.35);
  EXPECT_TRUE(internal::ParseNumber("3,41", &v, /*decimal_comma=*/true));
  EXPECT_DOUBLE_EQ(v, 3.41);
  EXPECT_FALSE(internal::ParseNumber("3.4x", &v));
  EXPECT_FALSE(internal::ParseNumber("nan", &v));
  EXPECT_FALSE(internal::ParseNumber("1e999", &v));
  EXPECT_FALSE(internal::ParseNumber("", &v));

  EXPECT_TRUE(internal::ParseDuration("  2d 02:52:51.5699996948242", &v));  // Maccor
  EXPECT_NEAR(v, 2 * 86400 + 2 * 3600 + 52 * 60 + 51.57, 1e-6);
  EXPECT_TRUE(internal::ParseDuration("144:02:18", &v));  // Neware: hours past 24
  EXPECT_DOUBLE_EQ(v, 144 * 3600 + 2 * 60 + 18);
  EXPECT_TRUE(internal::ParseDuration("  0d 00:00:5.05", &v));  // unpadded seconds
  EXPECT_DOUBLE_EQ(v, 5.05);
  EXPECT_FALSE(internal::ParseDuration("00:61:00", &v));
  EXPECT_FALSE(internal::ParseDuration("1:2", &v));

  double a = 0, b = 0;
  EXPECT_TRUE(internal::ParseDateTime("05/05/2021 15:36:22.757", &a));
  EXPECT_TRUE(internal::ParseDateTime("05/06/2021 15:36:23.757", &b));
  EXPECT_NEAR(b - a, 86401.0, 1e-6);
  EXPECT_TRUE(internal::ParseDateTime("2022-04-11 12:58:07 AM", &a));
  EXPECT_TRUE(internal::ParseDateTime("2022-04-11 1:58:07 PM", &b));
  EXPECT_NEAR(b - a, 13 * 3600.0, 1e-6);
  EXPECT_FALSE(internal::ParseDateTime("13/05/2021 15:36:22", &a));
}

TEST(CyclerFilesTextTest, QuotedFieldsAndUnits) {
  std::vector<absl::string_view> f;
  internal::SplitFields(R"(0,"ArbinResult_6,ArbinResult_7,",x)", ',', &f);
  ASSERT_THAT(f, SizeIs(3));
  EXPECT_EQ(f[1], "ArbinResult_6,ArbinResult_7,");
  internal::SplitFields(R"(a,"unterminated)", ',', &f);
  ASSERT_THAT(f, SizeIs(2));
  EXPECT_EQ(f[1], "unterminated");

  const internal::ColumnName c = internal::SplitColumnName("Chg. Cap.(mAh)");
  EXPECT_EQ(c.base, "chg. cap.");
  EXPECT_EQ(c.unit, "mAh");
  bool ok = false;
  EXPECT_DOUBLE_EQ(internal::UnitScale("mAh", &ok), 1e-3);
  EXPECT_TRUE(ok);
  EXPECT_DOUBLE_EQ(internal::UnitScale("h", &ok), 3600);
  EXPECT_DOUBLE_EQ(internal::UnitScale("\xC2\xB0" "C", &ok), 1);  // UTF-8 °C
  EXPECT_TRUE(ok);
  internal::UnitScale("furlong", &ok);
  EXPECT_FALSE(ok);
}

// ---- synthetic files --------------------------------------------------------------------

// Two cycles; capacities cumulative within the cycle as Arbin writes them.
constexpr char kArbin[] =
    "Data_Point,Test_Time(s),Step_Index,Cycle_Index,Current(A),Voltage(V),"
    "Charge_Capacity(Ah),Discharge_Capacity(Ah),Charge_Energy(Wh),Discharge_Energy(Wh),"
    "Internal_Resistance(Ohm),Temperature (C)_1\n"
    "1,0,1,1,1.0,3.0,0.0,0.0,0.0,0.0,0,25\n"
    "2,1800,1,1,1.0,3.5,0.5,0.0,1.6,0.0,0.021,26\n"
    "3,3600,1,1,1.0,4.0,1.0,0.0,3.5,0.0,0,27\n"
    "4,3601,2,1,-1.0,3.9,1.0,0.0,3.5,0.0,0,27\n"
    "5,7200,2,1,-1.0,3.0,1.0,0.9,3.5,3.2,0,26\n"
    "6,7201,1,2,1.0,3.1,0.0,0.0,0.0,0.0,0,25\n"
    "7,10800,1,2,1.0,4.0,0.95,0.0,3.4,0.0,0.023,25\n"
    "8,10801,2,2,-1.0,3.9,0.95,0.0,3.4,0.0,0,25\n"
    "9,14400,2,2,-1.0,3.0,0.95,0.85,3.4,3.0,0,25\n";

TEST(CyclerFilesSyntheticTest, ArbinSummaryAndCurves) {
  absl::StatusOr<CyclerFile> f = ParseCyclerFile(kArbin, "cell.csv");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->format, CyclerFormat::kArbinCsv);
  ASSERT_THAT(f->samples, SizeIs(9));
  ASSERT_THAT(f->cycles, SizeIs(2));
  const CycleSummary& c1 = f->cycles[0];
  EXPECT_EQ(c1.cycle_index, 1);
  EXPECT_DOUBLE_EQ(c1.charge_capacity_ah, 1.0);
  EXPECT_DOUBLE_EQ(c1.discharge_capacity_ah, 0.9);
  EXPECT_DOUBLE_EQ(c1.charge_energy_wh, 3.5);
  EXPECT_DOUBLE_EQ(*c1.coulombic_efficiency, 0.9);
  EXPECT_DOUBLE_EQ(*c1.mean_charge_voltage_v, 3.5);  // energy / capacity
  EXPECT_NEAR(*c1.mean_discharge_voltage_v, 3.2 / 0.9, 1e-12);
  EXPECT_DOUBLE_EQ(*c1.internal_resistance_ohm, 0.021);
  EXPECT_NEAR(*c1.temperature_c, 131.0 / 5, 1e-12);
  EXPECT_DOUBLE_EQ(*c1.max_temperature_c, 27);
  EXPECT_DOUBLE_EQ(c1.elapsed_s, 7200);
  EXPECT_DOUBLE_EQ(f->cycles[1].discharge_capacity_ah, 0.85);
  EXPECT_DOUBLE_EQ(f->cycles[1].start_s, 7201);

  const std::vector<VoltageCurve> curves = ExtractCurves(*f, false, {2});
  ASSERT_THAT(curves, SizeIs(1));
  EXPECT_EQ(curves[0].cycle_index, 2);
  EXPECT_EQ(curves[0].capacity_ah, (std::vector<double>{0.0, 0.85}));
  EXPECT_EQ(curves[0].voltage_v, (std::vector<double>{3.9, 3.0}));
  EXPECT_THAT(ExtractCurves(*f, true), SizeIs(2));
}

// Maccor: Amp-hr restarts at every step and carries no sign; the State column does.
constexpr char kMaccor[] =
    "Today's Date 09/01/2020  Date of Test:\t12/16/2019\t Filename:\tx.001\r\n"
    "Rec#\tCyc#\tStep\tTest (Sec)\tStep (Sec)\tAmp-hr\tWatt-hr\tAmps\tVolts\tState\tES\r\n"
    "1\t0\t1\t0\t0\t0\t0\t0\t3.0\tR\t0\r\n"
    "2\t0\t2\t10\t0\t0.0\t0.0\t1.0\t3.5\tC\t0\r\n"
    "3\t0\t2\t20\t10\t0.6\t2.1\t1.0\t4.0\tC\t0\r\n"
    "4\t0\t3\t30\t0\t0.0\t0.0\t0.1\t4.2\tC\t0\r\n"
    "5\t0\t3\t40\t10\t0.3\t1.2\t0.05\t4.2\tC\t0\r\n"
    "6\t0\t4\t50\t0\t0.0\t0.0\t1.0\t4.0\tD\t0\r\n"
    "7\t0\t4\t60\t10\t0.8\t2.9\t1.0\t3.0\tD\t0\r\n";

TEST(CyclerFilesSyntheticTest, MaccorStepCountersAndSigns) {
  absl::StatusOr<CyclerFile> f = ParseCyclerFile(kMaccor, "x.001");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->format, CyclerFormat::kMaccorText);
  ASSERT_THAT(f->cycles, SizeIs(1));
  EXPECT_EQ(f->cycles[0].cycle_index, 1);  // Maccor counts from 0
  EXPECT_DOUBLE_EQ(f->cycles[0].charge_capacity_ah, 0.9);  // 0.6 (step 2) + 0.3 (step 3)
  EXPECT_DOUBLE_EQ(f->cycles[0].discharge_capacity_ah, 0.8);
  EXPECT_DOUBLE_EQ(f->cycles[0].charge_energy_wh, 3.3);
  EXPECT_LT(f->samples[6].current_a, 0);
  EXPECT_DOUBLE_EQ(f->samples[4].charge_capacity_ah, 0.9);
}

TEST(CyclerFilesSyntheticTest, BadValueIsLocated) {
  const std::string bad = absl::StrReplaceAll(kArbin, {{"5,7200,2,1,-1.0,3.0,", "5,7200,2,1,-1.0,3.4x,"}});
  absl::StatusOr<CyclerFile> f = ParseCyclerFile(bad, "/some/dir/cell.csv");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.status().message(),
            "cell.csv:6: column 'Voltage(V)' (6): \"3.4x\" is not a number");
}

TEST(CyclerFilesSyntheticTest, TornLastLineIsDroppedWithAWarning) {
  std::string torn(kArbin);
  torn.resize(torn.size() - 20);  // cut inside line 10, no newline after it
  absl::StatusOr<CyclerFile> f = ParseCyclerFile(torn, "cell.csv");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_THAT(f->samples, SizeIs(8));
  ASSERT_THAT(f->warnings, SizeIs(1));
  EXPECT_THAT(f->warnings[0], HasSubstr("cell.csv:10: torn last line dropped"));
}

TEST(CyclerFilesSyntheticTest, ShortRowInTheMiddleIsAnError) {
  const std::string bad = absl::StrReplaceAll(kArbin, {{"4,3601,2,1,-1.0,3.9,1.0,0.0,3.5,0.0,0,27\n", "4,3601,2,1\n"}});
  absl::StatusOr<CyclerFile> f = ParseCyclerFile(bad, "cell.csv");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), "cell.csv:5: has 4 fields, the header (line 1) has 12");
}

TEST(CyclerFilesSyntheticTest, CompleteLastLineWithoutNewlineIsKept) {
  std::string s(kArbin);
  s.pop_back();
  absl::StatusOr<CyclerFile> f = ParseCyclerFile(s, "cell.csv");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_THAT(f->samples, SizeIs(9));
  EXPECT_TRUE(f->warnings.empty());
}

TEST(CyclerFilesSyntheticTest, HeaderOnlyAndEmptyFilesAreErrors) {
  const std::string header_only(kArbin, std::string(kArbin).find('\n') + 1);
  absl::StatusOr<CyclerFile> f = ParseCyclerFile(header_only, "cell.csv");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), "cell.csv: no data rows");
  f = ParseCyclerFile("", "empty.csv");
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("cannot tell the cycler format"));
}

TEST(CyclerFilesSyntheticTest, BiologicMptWithDecimalCommas) {
  const std::string mpt =
      "EC-Lab ASCII FILE\r\nNb header lines : 4\r\nAcquisition started on : 01/02/2021\r\n"
      "mode\ttime/s\tEwe/V\tI/mA\tcycle number\tQ charge/mA.h\tQ discharge/mA.h\r\n"
      "1\t0,0\t3,0\t100,0\t0\t0,0\t0,0\r\n"
      "1\t3600,0\t4,0\t100,0\t0\t100,0\t0,0\r\n"
      "1\t3601,0\t3,9\t-100,0\t0\t0,0\t0,01\r\n"
      "1\t7200,0\t3,0\t-100,0\t0\t0,0\t95,0\r\n";
  absl::StatusOr<CyclerFile> f = ParseCyclerFile(mpt, "run.mpt");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->format, CyclerFormat::kBiologicText);
  ASSERT_THAT(f->cycles, SizeIs(1));
  EXPECT_EQ(f->cycles[0].cycle_index, 1);
  EXPECT_DOUBLE_EQ(f->cycles[0].charge_capacity_ah, 0.1);
  EXPECT_DOUBLE_EQ(f->cycles[0].discharge_capacity_ah, 0.095);
  EXPECT_DOUBLE_EQ(f->samples[1].current_a, 0.1);
  // No energies: the mean voltage is ∫V dQ / Q.
  EXPECT_NEAR(*f->cycles[0].mean_charge_voltage_v, 3.5, 1e-12);
  ASSERT_THAT(f->metadata, SizeIs(1));
  EXPECT_EQ(f->metadata[0].first, "Acquisition started on");
}

TEST(CyclerFilesSyntheticTest, DetectionIgnoresTheExtension) {
  EXPECT_EQ(DetectFormat(kArbin, "x.txt"), CyclerFormat::kArbinCsv);
  EXPECT_EQ(DetectFormat(kMaccor, "x.csv"), CyclerFormat::kMaccorText);
  EXPECT_EQ(DetectFormat("BIO-LOGIC MODULAR FILE\x1a", "x.csv"), CyclerFormat::kBiologicMpr);
  EXPECT_EQ(DetectFormat(std::string("\0\x01\0\0Standard Jet DB\0", 20), "x.csv"),
            CyclerFormat::kArbinRes);
  EXPECT_EQ(DetectFormat("hello\n", "x.csv"), CyclerFormat::kUnknown);
}

// ---- Neware .ndax -----------------------------------------------------------------------

void PutU16(std::string* s, size_t at, uint16_t v) {
  (*s)[at] = static_cast<char>(v & 0xff);
  (*s)[at + 1] = static_cast<char>(v >> 8);
}
void PutU32(std::string* s, size_t at, uint32_t v) {
  PutU16(s, at, static_cast<uint16_t>(v & 0xffff));
  PutU16(s, at + 2, static_cast<uint16_t>(v >> 16));
}
void PutF32(std::string* s, size_t at, float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  PutU32(s, at, bits);
}

// A zip archive of "stored" (uncompressed) entries.
std::string StoredZip(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out, cd;
  for (const auto& [name, data] : entries) {
    const uint32_t crc = static_cast<uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
    std::string local(30, '\0');
    PutU32(&local, 0, 0x04034b50);
    PutU32(&local, 14, crc);
    PutU32(&local, 18, static_cast<uint32_t>(data.size()));
    PutU32(&local, 22, static_cast<uint32_t>(data.size()));
    PutU16(&local, 26, static_cast<uint16_t>(name.size()));
    std::string central(46, '\0');
    PutU32(&central, 0, 0x02014b50);
    PutU32(&central, 16, crc);
    PutU32(&central, 20, static_cast<uint32_t>(data.size()));
    PutU32(&central, 24, static_cast<uint32_t>(data.size()));
    PutU16(&central, 28, static_cast<uint16_t>(name.size()));
    PutU32(&central, 42, static_cast<uint32_t>(out.size()));
    cd += central + name;
    out += local + name + data;
  }
  std::string eocd(22, '\0');
  PutU32(&eocd, 0, 0x06054b50);
  PutU16(&eocd, 8, static_cast<uint16_t>(entries.size()));
  PutU16(&eocd, 10, static_cast<uint16_t>(entries.size()));
  PutU32(&eocd, 12, static_cast<uint32_t>(cd.size()));
  PutU32(&eocd, 16, static_cast<uint32_t>(out.size()));
  return out + cd + eocd;
}

// An .ndc table of one page holding `records` (each `stride` bytes).
std::string NdcTable(uint16_t version, const std::vector<std::string>& records, size_t stride) {
  std::string t(8192, '\0');
  PutU16(&t, 2, version);
  PutU16(&t, 4096 + 2, static_cast<uint16_t>(records.size()));
  for (size_t i = 0; i < records.size(); ++i) {
    t.replace(4096 + 132 + i * stride, stride, records[i]);
  }
  return t;
}

// A two-step synthetic ndax (ndc version `version`): rest then a charge, four readings,
// three runInfo rows.
std::string SyntheticNdax(uint16_t version) {
  std::vector<std::string> readings;
  for (const auto& [v, i] : {std::pair<float, float>{3.0f, 0.0f}, {3.5f, 0.5f}, {3.6f, 0.5f},
                             {3.7f, 0.5f}}) {
    std::string r(8, '\0');
    PutF32(&r, 0, v);
    PutF32(&r, 4, i);
    readings.push_back(r);
  }
  std::vector<std::string> runs;
  // step time ms, charge Ah, charge Wh, step sequence, reading index
  for (const auto& [ms, q, e, step, index] :
       {std::tuple<int, float, float, int, int>{10000, 0.0f, 0.0f, 1, 1},
        {0, 0.0f, 0.0f, 2, 2},
        {3600000, 0.5f, 1.75f, 2, 4}}) {
    std::string r(100, '\0');
    PutU32(&r, 0, static_cast<uint32_t>(ms));
    PutF32(&r, 5, q);
    PutF32(&r, 13, e);
    PutU32(&r, 37, static_cast<uint32_t>(step));
    PutU32(&r, 41, static_cast<uint32_t>(index));
    runs.push_back(r);
  }
  std::vector<std::string> steps;
  for (int k = 1; k <= 2; ++k) {
    std::string r(100, '\0');
    PutU32(&r, 4, static_cast<uint32_t>(k));
    steps.push_back(r);
  }
  return StoredZip({{"VersionInfo.xml", "<config SvrVer=\"BTSServer 8\" />"},
                    {"data.ndc", NdcTable(version, readings, 8)},
                    {"data_runInfo.ndc", NdcTable(version, runs, 100)},
                    {"data_step.ndc", NdcTable(version, steps, 100)}});
}

TEST(CyclerFilesNdaxTest, SyntheticArchive) {
  const std::string ndax = SyntheticNdax(17);
  EXPECT_EQ(DetectFormat(ndax, "x"), CyclerFormat::kNewareNdax);
  absl::StatusOr<CyclerFile> f = ParseCyclerFile(ndax, "s.ndax");
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_THAT(f->samples, SizeIs(3));
  ASSERT_THAT(f->cycles, SizeIs(1));
  EXPECT_EQ(f->cycles[0].cycle_index, 1);
  EXPECT_DOUBLE_EQ(f->cycles[0].charge_capacity_ah, 0.5);
  EXPECT_DOUBLE_EQ(f->cycles[0].charge_energy_wh, 1.75);
  EXPECT_DOUBLE_EQ(f->samples[2].test_time_s, 10 + 3600);  // step 1 lasted 10 s
  EXPECT_EQ(f->samples[2].step, 2);
  EXPECT_EQ(f->samples[2].line, 4u);
  EXPECT_FLOAT_EQ(f->samples[2].voltage_v, 3.7f);
  EXPECT_FLOAT_EQ(f->samples[2].current_a, 0.5f);
  ASSERT_THAT(f->warnings, SizeIs(1));  // reading 3 has no runInfo row
}

TEST(CyclerFilesNdaxTest, UnknownVersionAndDamagedArchives) {
  absl::StatusOr<CyclerFile> f = ParseCyclerFile(SyntheticNdax(14), "s.ndax");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(f.status().message(), HasSubstr("ndc version 14"));

  const std::string good = SyntheticNdax(17);
  f = ParseCyclerFile(good.substr(0, good.size() - 10), "s.ndax", CyclerFormat::kNewareNdax);
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("no end-of-central-directory record"));

  std::string bad = good;
  const size_t at = bad.find("data_runInfo.ndc");  // its local header; the table follows
  bad[at + 16 + 4096 + 132 + 41] = 9;               // runInfo row 1 names reading 9
  f = ParseCyclerFile(bad, "s.ndax");
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("CRC-32 mismatch"));

  // An entry that declares a huge size is refused before anything is allocated.
  bad = good;
  const size_t cd = bad.rfind("data.ndc") - 46;
  PutU32(&bad, cd + 24, 0xfffffff0u);
  f = ParseCyclerFile(bad, "s.ndax");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kResourceExhausted);

  f = ParseCyclerFile(StoredZip({{"TestInfo.xml", "<x/>"}}), "s.ndax");
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("has no data.ndc"));
}

// ---- the real exports -------------------------------------------------------------------

class CyclerFixturesTest : public ::testing::Test {
 protected:
  void SetUp() override { SKIP_WITHOUT_SHARED_DATA(); }

  static CyclerFile Read(const std::string& rel, CyclerFormat want) {
    absl::StatusOr<CyclerFile> f = ReadCyclerFile(Fixture(rel));
    EXPECT_TRUE(f.ok()) << f.status();
    if (!f.ok()) return {};
    EXPECT_EQ(f->format, want) << FormatName(f->format);
    EXPECT_EQ(DetectFormat(ReadAll(Fixture(rel)).substr(0, 65536), "no-extension"), want);
    return *std::move(f);
  }
};

// Arbin: a rest-only stretch of a Severson cell (all rows Cycle_Index 0, current 0).
// awk -F, 'NR>1{s+=$15;n++} END{print s/n, n}' → mean Temperature 29.4844458 over 248 rows;
// last row Test_Time 1800.0104.
TEST_F(CyclerFixturesTest, ArbinCsv) {
  const CyclerFile f = Read("beep_fixtures/FastCharge_000025_CH8.csv", CyclerFormat::kArbinCsv);
  ASSERT_THAT(f.samples, SizeIs(248));
  ASSERT_THAT(f.cycles, SizeIs(1));
  EXPECT_EQ(f.cycles[0].cycle_index, 0);  // rows before the first cycle
  EXPECT_EQ(f.cycles[0].charge_capacity_ah, 0);
  EXPECT_FALSE(f.cycles[0].coulombic_efficiency.has_value());
  EXPECT_NEAR(*f.cycles[0].temperature_c, 29.4844458, 1e-6);
  EXPECT_DOUBLE_EQ(f.cycles[0].elapsed_s, 1800.0104);
  EXPECT_DOUBLE_EQ(f.samples[0].voltage_v, 3.3011441);
  EXPECT_TRUE(f.has_temperature);
  // From FastCharge_000025_CH8_Metadata.csv beside it.
  EXPECT_THAT(f.metadata, ::testing::Contains(std::make_pair(std::string("item_id"),
                                                             std::string("EL150800453116"))));
}

// Maccor .034: Amp-hr restarts per step, so a cycle's capacity is the sum of the last
// Amp-hr of each of its C (or D) steps:
// awk -F'\t' 'NR>2{k=$2" "$3" "$10; a[k]=$6; w[k]=$7} END{for(k in a) print k, a[k], w[k]}'
//   cycle 0: C step 2 0.0013437400 (Wh 0.0048935428), C step 5 3.8515574693 (15.0058252125),
//            D step 6 4.7626133936 (17.4241777953)
//   cycle 1: C step 5 4.7733510840 (18.1465531291), D step 6 0.0000039788 (cut file)
TEST_F(CyclerFixturesTest, MaccorPreDiag) {
  const CyclerFile f =
      Read("beep_fixtures/PreDiag_000229_000229_truncated.034", CyclerFormat::kMaccorText);
  ASSERT_THAT(f.samples, SizeIs(4061));
  ASSERT_THAT(f.cycles, SizeIs(2));
  const CycleSummary& c = f.cycles[0];
  EXPECT_EQ(c.cycle_index, 1);
  EXPECT_EQ(c.file_cycle, 0);
  EXPECT_NEAR(c.charge_capacity_ah, 0.0013437400 + 3.8515574693, kTol);
  EXPECT_NEAR(c.discharge_capacity_ah, 4.7626133936, kTol);
  EXPECT_NEAR(c.charge_energy_wh, 0.0048935428 + 15.0058252125, kTol);
  EXPECT_NEAR(c.discharge_energy_wh, 17.4241777953, kTol);
  EXPECT_NEAR(*c.mean_discharge_voltage_v, 17.4241777953 / 4.7626133936, 1e-9);
  EXPECT_NEAR(f.cycles[1].charge_capacity_ah, 4.7733510840, kTol);
  EXPECT_NEAR(f.cycles[1].discharge_capacity_ah, 0.0000039788, kTol);
  EXPECT_DOUBLE_EQ(f.cycles[1].elapsed_s, 82621.28);
  // The D rows carry a negative current after normalisation, whatever the file's sign.
  const std::vector<VoltageCurve> curves = ExtractCurves(f, false, {1});
  ASSERT_THAT(curves, SizeIs(1));
  EXPECT_THAT(curves[0].voltage_v, SizeIs(1452));  // the 1452 rows of cycle 0 step 6
  EXPECT_NEAR(curves[0].capacity_ah.back(), 4.7626133936, kTol);
  EXPECT_THAT(f.metadata, ::testing::Contains(std::make_pair(std::string("Comment/Barcode"),
                                                             std::string("000229"))));
}

// Maccor .041: an EIS run, 74 rows in cycle 0, "0d 00:00:10.0000" time stamps, no charge.
TEST_F(CyclerFixturesTest, MaccorEis) {
  const CyclerFile f =
      Read("beep_fixtures/maccor_test_file_4267-66-6519.041", CyclerFormat::kMaccorText);
  ASSERT_THAT(f.samples, SizeIs(74));
  ASSERT_THAT(f.cycles, SizeIs(1));
  EXPECT_EQ(f.cycles[0].charge_capacity_ah, 0);
  EXPECT_DOUBLE_EQ(f.cycles[0].elapsed_s, 10);
}

// cellpy's Maccor export: a rate test logged entirely as cycle 0; Aux #1 (C) reads about
// -2500 (no thermocouple). Sums of the last Amp-hr of each step (awk as above, NR>4):
// C steps 4,5,9,10,14,15,19,20 → 17.6236 Ah (69.8538 Wh); D steps 2,7,12,17,22 → 17.3631 Ah.
TEST_F(CyclerFixturesTest, MaccorCellpy) {
  const CyclerFile f = Read("cellpy_fixtures/maccor_001.txt", CyclerFormat::kMaccorText);
  ASSERT_THAT(f.samples, SizeIs(6704));
  ASSERT_THAT(f.cycles, SizeIs(1));
  EXPECT_NEAR(f.cycles[0].charge_capacity_ah,
              3.36871 + 1.15388 + 3.35664 + 1.15991 + 3.17303 + 1.15305 + 3.11128 + 1.14710,
              1e-9);
  EXPECT_NEAR(f.cycles[0].discharge_capacity_ah, 0.63781 + 4.54403 + 4.35400 + 4.28448 + 3.54279,
              1e-9);
  EXPECT_NEAR(f.cycles[0].discharge_energy_wh,
              2.01593 + 16.56370 + 14.81356 + 13.50010 + 10.00696, 1e-9);
  EXPECT_NEAR(f.cycles[0].elapsed_s, 2 * 86400 + 2 * 3600 + 52 * 60 + 51.5699996948242, 1e-6);
  EXPECT_FALSE(f.has_temperature);
  ASSERT_THAT(f.warnings, SizeIs(1));
  EXPECT_THAT(f.warnings[0], HasSubstr("below absolute zero"));
}

// Novonix: header after "[Data]" at line 58, rows 59..4000 (3942), all cycle 1, a CC-CV
// charge (step types 7, 8) then a CC charge (1) that the short file cuts. Capacity runs on
// through the steps: the last row's 0.0294679161 Ah, 0.0909615734 Wh, Run Time 17.4345750 h.
TEST_F(CyclerFixturesTest, Novonix) {
  const CyclerFile f =
      Read("beep_fixtures/test_Nova_Form-CH01-01_short.csv", CyclerFormat::kNovonixCsv);
  ASSERT_THAT(f.samples, SizeIs(3942));
  ASSERT_THAT(f.cycles, SizeIs(1));
  EXPECT_EQ(f.cycles[0].cycle_index, 1);
  EXPECT_NEAR(f.cycles[0].charge_capacity_ah, 0.0294679161, kTol);
  EXPECT_NEAR(f.cycles[0].charge_energy_wh, 0.0909615734, kTol);
  EXPECT_EQ(f.cycles[0].discharge_capacity_ah, 0);
  EXPECT_NEAR(f.cycles[0].elapsed_s, 17.4345750 * 3600, 1e-6);
  EXPECT_TRUE(f.cycles[0].temperature_c.has_value());
  EXPECT_EQ(f.samples[0].line, 59u);
  EXPECT_THAT(f.metadata, ::testing::Contains(std::make_pair(std::string("Capacity (Ah)"),
                                                             std::string("0.24"))));
}

// BioLogic MB export (';'): Q charge / Q discharge (mA.h) restart each half cycle; the
// per-cycle maximum is the capacity:
// awk -F';' 'NR>1{c=$15; if($30>qc[c])qc[c]=$30; if($31>qd[c])qd[c]=$31} ...'
//   cycle number 0: 1461.87505884 / 2324.59768063 mA.h, 5.90132039084 / 8.72652526068 W.h
//   cycle number 1: 2371.31558234 / 2326.58610341 mA.h;  2: 2324.41200102 / 0.
TEST_F(CyclerFixturesTest, BiologicText) {
  const CyclerFile f = Read("beep_fixtures/test_loopsnewoutput_MB_CE1_short10k.csv",
                            CyclerFormat::kBiologicText);
  ASSERT_THAT(f.samples, SizeIs(9999));
  ASSERT_THAT(f.cycles, SizeIs(3));
  EXPECT_EQ(f.cycles[0].cycle_index, 1);
  EXPECT_NEAR(f.cycles[0].charge_capacity_ah, 1.46187505884, 1e-10);
  EXPECT_NEAR(f.cycles[0].discharge_capacity_ah, 2.32459768063, 1e-10);
  EXPECT_NEAR(f.cycles[0].charge_energy_wh, 5.90132039084, 1e-10);
  EXPECT_NEAR(f.cycles[0].discharge_energy_wh, 8.72652526068, 1e-10);  // |negative| in file
  EXPECT_NEAR(f.cycles[1].charge_capacity_ah, 2.37131558234, 1e-10);
  EXPECT_NEAR(f.cycles[1].discharge_capacity_ah, 2.32658610341, 1e-10);
  EXPECT_NEAR(*f.cycles[1].coulombic_efficiency, 2326.58610341 / 2371.31558234, 1e-10);
  EXPECT_NEAR(f.cycles[2].charge_capacity_ah, 2.32441200102, 1e-10);
  // time/s holds dates here: 05/05/2021 15:36:22.757 → 05/06/2021 19:57:03.527.
  EXPECT_NEAR(f.samples.back().test_time_s, 86400 + 4 * 3600 + 20 * 60 + 40.770, 1e-3);
  EXPECT_NEAR(f.samples[1].current_a, 2.49326220703125, 1e-15);  // 2493.26 mA
}

// Neware: Chg./DChg. Cap.(Ah) restart at every step; per cycle, the sum of each step's last
// value: awk -F, 'NR>1{k=$2" "$3; if(k!=p && p!=""){...qc[cycle]+=last} ...}'
TEST_F(CyclerFixturesTest, NewareCsv) {
  const CyclerFile f = Read("cellpy_fixtures/neware_uio.csv", CyclerFormat::kNewareCsv);
  ASSERT_THAT(f.samples, SizeIs(9065));
  ASSERT_THAT(f.cycles, SizeIs(4));
  const double qc[] = {0.00424934, 0.00424668, 0.00783477, 0.00143796};
  const double qd[] = {0.00508628, 0.00436841, 0.00797423, 0.00331516};
  const double ed[] = {0.00086494, 0.00085389, 0.00159758, 0.00070913};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(f.cycles[i].cycle_index, i + 1);
    EXPECT_NEAR(f.cycles[i].charge_capacity_ah, qc[i], 1e-12) << i;
    EXPECT_NEAR(f.cycles[i].discharge_capacity_ah, qd[i], 1e-12) << i;
    EXPECT_NEAR(f.cycles[i].discharge_energy_wh, ed[i], 1e-12) << i;
  }
  // Cycle 1 discharges in three steps (2, 4, 6): 0.00468031 + 0.00028183 + 0.00012414.
  EXPECT_NEAR(0.00468031 + 0.00028183 + 0.00012414, qd[0], 1e-12);
  EXPECT_DOUBLE_EQ(f.cycles[3].elapsed_s, 144 * 3600 + 2 * 60 + 18);  // "144:02:18"
  const std::vector<VoltageCurve> curves = ExtractCurves(f);
  ASSERT_THAT(curves, SizeIs(4));
  EXPECT_NEAR(curves[0].capacity_ah.back(), qd[0], 1e-12);
}

// BioLogic .mpr: one delithiation half cycle (half cycle 0 throughout) with EIS and rests;
// decoded by hand with Python's struct (36 columns, 153-byte records, 23561 points): the
// positive dq/mA.h sum to 4.976893132347388 mA.h; Energy charge/W.h peaks at
// 0.002129686910542435.
TEST_F(CyclerFixturesTest, BiologicMpr) {
  const CyclerFile f = Read("cellpy_fixtures/biol.mpr", CyclerFormat::kBiologicMpr);
  ASSERT_THAT(f.samples, SizeIs(23561));
  ASSERT_THAT(f.cycles, SizeIs(1));
  EXPECT_NEAR(f.cycles[0].charge_capacity_ah, 4.976893132347388e-3, 1e-12);
  EXPECT_NEAR(f.cycles[0].charge_energy_wh, 0.002129686910542435, 1e-12);
  EXPECT_EQ(f.cycles[0].discharge_capacity_ah, 0);
  EXPECT_NEAR(f.samples[0].voltage_v, 0.1235, 1e-4);
}

// Neware .ndax (BTS 8, ndc version 17): one cycle (step.ndc cycle 0 throughout) of rest,
// CC and CV charge steps; no discharge. Checked independently with /usr/bin/python3:
// zipfile.ZipFile(...).read("data_runInfo.ndc"), 4096-byte pages after a 4096-byte header,
// uint16 record count at page+2, 100-byte records from page+132; struct '<i' @0 (step ms),
// '<4f' @5 (charge/discharge Ah, Wh), '<i' @37 (step), '<i' @41 (data.ndc index). The sum
// over steps of each step's last value: charge 1.41873008677 Ah, 6.14429892888 Wh; the
// step times sum to 252896 s. 4374 runInfo rows; data.ndc holds 252951 readings ('<ff'
// volts, amps; reading 3603 = 0.39186084270477295 V, 0.05985574796795845 A).
TEST_F(CyclerFixturesTest, NewareNdax) {
  const std::string rel = "cellpy_fixtures/20260302_IFE_BTS85_2_9_8_1.ndax";
  const CyclerFile f = Read(rel, CyclerFormat::kNewareNdax);
  ASSERT_THAT(f.samples, SizeIs(4374));
  ASSERT_THAT(f.cycles, SizeIs(1));
  EXPECT_EQ(f.cycles[0].cycle_index, 1);
  EXPECT_NEAR(f.cycles[0].charge_capacity_ah, 1.41873008677, 1e-9);
  EXPECT_NEAR(f.cycles[0].charge_energy_wh, 6.14429892888, 1e-9);
  EXPECT_EQ(f.cycles[0].discharge_capacity_ah, 0);
  EXPECT_NEAR(f.samples.back().test_time_s, 252896, 1e-6);
  EXPECT_EQ(f.samples.back().line, 252901u);
  EXPECT_NEAR(f.samples.back().voltage_v, 4.748419284820557, 1e-12);
  bool found = false;
  for (const Sample& s : f.samples) {
    if (s.line != 3603) continue;
    found = true;
    EXPECT_NEAR(s.voltage_v, 0.39186084270477295, 1e-12);
    EXPECT_NEAR(s.current_a, 0.05985574796795845, 1e-12);
    EXPECT_EQ(s.step, 2);
    EXPECT_EQ(s.cycle, 0);
  }
  EXPECT_TRUE(found);
  ASSERT_THAT(f.warnings, SizeIs(1));
  EXPECT_THAT(f.warnings[0], HasSubstr("other 248577 voltage/current readings"));
}

TEST_F(CyclerFixturesTest, DamagedNdax) {
  ScratchDir dir;
  const std::string ndax = ReadAll(Fixture("cellpy_fixtures/20260302_IFE_BTS85_2_9_8_1.ndax"));
  absl::StatusOr<CyclerFile> f =
      ReadCyclerFile(dir.Write("cut.ndax", ndax.substr(0, ndax.size() / 2)));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(),
            "cut.ndax: not a readable .ndax (zip): no end-of-central-directory record "
            "(truncated?)");
  // One byte of data.ndc's deflate stream flipped (the first "data.ndc" is its local
  // header; its compressed bytes follow).
  std::string bad = ndax;
  const size_t at = bad.find("data.ndc");
  ASSERT_NE(at, std::string::npos);
  bad[at + 5000] = static_cast<char>(bad[at + 5000] ^ 0x5a);
  f = ReadCyclerFile(dir.Write("bad.ndax", bad));
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("bad.ndax: not a readable .ndax (zip): data.ndc"));
}

TEST_F(CyclerFixturesTest, UnsupportedFormatsAreDetectedAndRefused) {
  absl::StatusOr<CyclerFile> f =
      ReadCyclerFile(Fixture("cellpy_fixtures/20160805_test001_45_cc_01.res"));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(f.status().message(), HasSubstr("Microsoft Access"));
  f = ReadCyclerFile(Fixture("beep_fixtures/FastCharge_000025_CH8_Metadata.csv"));
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("metadata file of an Arbin CSV export"));
  f = ReadCyclerFile(Fixture("beep_fixtures/no_such_file.csv"));
  EXPECT_EQ(f.status().code(), absl::StatusCode::kNotFound);
}

// ---- damaged copies of the real exports (made in a temp dir at test time) ---------------

TEST_F(CyclerFixturesTest, CorruptedValueGivesLineAndColumn) {
  ScratchDir dir;
  const std::string arbin = ReadAll(Fixture("beep_fixtures/FastCharge_000025_CH8.csv"));
  const std::string path =
      dir.Write("FastCharge_000025_CH8.csv", ReplaceField(arbin, 143, 7, ',', "3.4x"));
  absl::StatusOr<CyclerFile> f = ReadCyclerFile(path);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(),
            "FastCharge_000025_CH8.csv:143: column 'Voltage' (8): \"3.4x\" is not a number");

  const std::string maccor =
      ReadAll(Fixture("beep_fixtures/PreDiag_000229_000229_truncated.034"));
  f = ParseCyclerFile(ReplaceField(maccor, 2000, 8, '\t', "4.1.9"), "p.034");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), "p.034:2000: column 'Volts' (9): \"4.1.9\" is not a number");

  const std::string neware = ReadAll(Fixture("cellpy_fixtures/neware_uio.csv"));
  f = ParseCyclerFile(ReplaceField(neware, 5000, 5, ',', "12:3x:00"), "n.csv");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(),
            "n.csv:5000: column 'Cumulative Time' (6): \"12:3x:00\" is not a duration");

  const std::string biologic =
      ReadAll(Fixture("beep_fixtures/test_loopsnewoutput_MB_CE1_short10k.csv"));
  f = ParseCyclerFile(ReplaceField(biologic, 7000, 29, ';', "12..5"), "b.csv");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(),
            "b.csv:7000: column 'Q charge/mA.h' (30): \"12..5\" is not a number");

  const std::string novonix = ReadAll(Fixture("beep_fixtures/test_Nova_Form-CH01-01_short.csv"));
  f = ParseCyclerFile(ReplaceField(novonix, 3000, 1, ',', "one"), "x.csv");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(),
            "x.csv:3000: column 'Cycle Number' (2): \"one\" is not a whole number");
}

TEST_F(CyclerFixturesTest, MissingFieldInTheMiddleIsAnError) {
  std::string neware = ReadAll(Fixture("cellpy_fixtures/neware_uio.csv"));
  std::vector<std::string> lines = absl::StrSplit(neware, '\n');
  lines[99] = lines[99].substr(0, lines[99].rfind(','));  // line 100 loses its last field
  absl::StatusOr<CyclerFile> f = ParseCyclerFile(absl::StrJoin(lines, "\n"), "n.csv");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), "n.csv:100: has 25 fields, the header (line 1) has 26");
}

TEST_F(CyclerFixturesTest, TruncatedFiles) {
  // Cut in the middle of a data row: that torn row is dropped, with a warning; all rows
  // before it are there.
  const std::string maccor =
      ReadAll(Fixture("beep_fixtures/PreDiag_000229_000229_truncated.034"));
  absl::StatusOr<CyclerFile> f = ParseCyclerFile(CutInLine(maccor, 3000, 40), "p.034");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_THAT(f->samples, SizeIs(3000 - 3));  // lines 3..2999
  ASSERT_THAT(f->warnings, SizeIs(1));
  EXPECT_THAT(f->warnings[0], HasSubstr("p.034:3000: torn last line dropped"));

  const std::string novonix = ReadAll(Fixture("beep_fixtures/test_Nova_Form-CH01-01_short.csv"));
  f = ParseCyclerFile(CutInLine(novonix, 2500, 70), "x.csv");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_THAT(f->samples, SizeIs(2500 - 59));
  EXPECT_THAT(f->warnings, SizeIs(1));

  // Cut inside the header: an error, never an empty import.
  f = ParseCyclerFile(CutInLine(maccor, 2, 30), "p.034");
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("p.034:2: no 'Amp-hr' column"));
  f = ParseCyclerFile(CutInLine(novonix, 40, 0), "x.csv");
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("no \"[Data]\" line"));

  // Binary: the data module announces more bytes than are left.
  const std::string mpr = ReadAll(Fixture("cellpy_fixtures/biol.mpr"));
  f = ParseCyclerFile(mpr.substr(0, mpr.size() / 2), "b.mpr");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(),
            absl::StrCat("b.mpr: byte 3369: module 'VMP data' declares 3605238 bytes, only ",
                         mpr.size() / 2 - 3369 - 57, " are left (truncated file)"));
}

TEST_F(CyclerFixturesTest, CorruptedMprColumnId) {
  std::string mpr = ReadAll(Fixture("cellpy_fixtures/biol.mpr"));
  // The data module's column ids start at byte 0xd67; the 9th (time/s, id 4) → 999.
  ASSERT_EQ(mpr[0xd67 + 16], 4);
  mpr[0xd67 + 16] = static_cast<char>(999 & 0xff);
  mpr[0xd67 + 17] = static_cast<char>(999 >> 8);
  absl::StatusOr<CyclerFile> f = ParseCyclerFile(mpr, "b.mpr");
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("column id 999 is unknown (after 'I Range')"));
}

}  // namespace
}  // namespace ionloop::instruments::cycler_files
