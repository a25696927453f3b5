// Format detection, dispatch, and reading from disk.
#include "instruments/cycler_files/cycler_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "instruments/cycler_files/reader_internal.h"

namespace ionloop::instruments::cycler_files {

using internal::BaseName;
using internal::Trim;

absl::string_view FormatName(CyclerFormat format) {
  switch (format) {
    case CyclerFormat::kUnknown:
      return "unknown";
    case CyclerFormat::kArbinCsv:
      return "arbin-csv";
    case CyclerFormat::kArbinMetadata:
      return "arbin-metadata";
    case CyclerFormat::kArbinRes:
      return "arbin-res";
    case CyclerFormat::kMaccorText:
      return "maccor-text";
    case CyclerFormat::kNovonixCsv:
      return "novonix-csv";
    case CyclerFormat::kBiologicText:
      return "biologic-text";
    case CyclerFormat::kBiologicMpr:
      return "biologic-mpr";
    case CyclerFormat::kNewareCsv:
      return "neware-csv";
    case CyclerFormat::kNewareNdax:
      return "neware-ndax";
    case CyclerFormat::kNewareNda:
      return "neware-nda";
  }
  return "unknown";
}

CyclerFormat DetectFormat(absl::string_view contents, absl::string_view file_name) {
  const absl::string_view head = contents.substr(0, 64 * 1024);
  if (absl::StartsWith(head, "BIO-LOGIC MODULAR FILE")) return CyclerFormat::kBiologicMpr;
  if (head.size() >= 19 &&
      (head.substr(4, 15) == "Standard Jet DB" || head.substr(4, 15) == "Standard ACE DB")) {
    return CyclerFormat::kArbinRes;
  }
  if (absl::StartsWith(head, "PK\x03\x04")) {
    if (absl::StrContains(head, "data.ndc") || absl::StrContains(head, "TestInfo.xml") ||
        absl::EndsWithIgnoreCase(file_name, ".ndax")) {
      return CyclerFormat::kNewareNdax;
    }
    return CyclerFormat::kUnknown;
  }
  if (absl::StartsWith(head, "NEWARE")) return CyclerFormat::kNewareNda;

  internal::LineReader lines(head);
  internal::Line line;
  std::string first;
  for (int i = 0; i < 40 && lines.Next(&line); ++i) {
    absl::string_view t = Trim(line.text);
    if (!t.empty() && t.front() == '"') t.remove_prefix(1);
    if (!t.empty() && t.back() == '"') t.remove_suffix(1);
    if (i == 0) {
      first = absl::AsciiStrToLower(t);
      if (absl::StartsWith(t, "EC-Lab ASCII FILE")) return CyclerFormat::kBiologicText;
      if (t == "[Summary]" &&
          (absl::StrContains(head, "Novonix") || absl::StrContains(head, "[Data]"))) {
        return CyclerFormat::kNovonixCsv;
      }
      if (absl::StartsWith(t, "Today's Date")) return CyclerFormat::kMaccorText;
    }
    if (absl::StartsWith(t, "Rec#") && absl::StrContains(t, "\tCyc#")) {
      return CyclerFormat::kMaccorText;
    }
  }
  if (absl::StrContains(first, "data_point") && absl::StrContains(first, "cycle_index") &&
      absl::StrContains(first, "test_time")) {
    return CyclerFormat::kArbinCsv;
  }
  if (absl::StrContains(first, "test_id") && absl::StrContains(first, "schedule_file_name")) {
    return CyclerFormat::kArbinMetadata;
  }
  if ((absl::StrContains(first, "cycle index") || absl::StrContains(first, "cycle id")) &&
      (absl::StrContains(first, "step type") || absl::StrContains(first, "step name")) &&
      absl::StrContains(first, "voltage")) {
    return CyclerFormat::kNewareCsv;
  }
  if (absl::StrContains(first, "time/s") &&
      (absl::StrContains(first, "ewe/v") || absl::StrContains(first, "ecell/v"))) {
    return CyclerFormat::kBiologicText;
  }
  // Content says nothing: the extension decides.
  if (absl::EndsWithIgnoreCase(file_name, ".mpt")) return CyclerFormat::kBiologicText;
  if (absl::EndsWithIgnoreCase(file_name, ".res")) return CyclerFormat::kArbinRes;
  return CyclerFormat::kUnknown;
}

absl::StatusOr<CyclerFile> ParseCyclerFile(absl::string_view contents, absl::string_view name,
                                           CyclerFormat format) {
  const absl::string_view base = BaseName(name);
  if (format == CyclerFormat::kUnknown) format = DetectFormat(contents, name);
  switch (format) {
    case CyclerFormat::kArbinCsv:
      return internal::ParseArbinCsv(contents, name);
    case CyclerFormat::kMaccorText:
      return internal::ParseMaccorText(contents, name);
    case CyclerFormat::kNovonixCsv:
      return internal::ParseNovonixCsv(contents, name);
    case CyclerFormat::kBiologicText:
      return internal::ParseBiologicText(contents, name);
    case CyclerFormat::kBiologicMpr:
      return internal::ParseBiologicMpr(contents, name);
    case CyclerFormat::kNewareCsv:
      return internal::ParseNewareCsv(contents, name);
    case CyclerFormat::kArbinMetadata:
      return absl::InvalidArgumentError(absl::StrCat(
          base, " is the metadata file of an Arbin CSV export, not data: read the data file "
                "beside it (its name without \"_Metadata\")"));
    case CyclerFormat::kArbinRes:
      return absl::UnimplementedError(absl::StrCat(
          base, " is an Arbin .res file, a Microsoft Access (Jet) database, which ionloop "
                "does not read: export it to CSV (Arbin MITS Pro / Data Watcher, or "
                "`mdb-export ", base, " Channel_Normal_Table > data.csv` from mdbtools) "
                "and import the CSV"));
    case CyclerFormat::kNewareNdax:
      return internal::ParseNewareNdax(contents, name);
    case CyclerFormat::kNewareNda:
      return absl::UnimplementedError(absl::StrCat(
          base, " is a Neware .nda binary file, which ionloop does not read: export it to "
                "CSV from Neware BTS and import the CSV"));
    case CyclerFormat::kUnknown:
      break;
  }
  internal::LineReader lines(contents.substr(0, 4096));
  internal::Line line;
  const absl::string_view first = lines.Next(&line) ? line.text : absl::string_view();
  return absl::InvalidArgumentError(absl::StrCat(
      base, ": cannot tell the cycler format from its content (first line ",
      internal::QuoteForMessage(first),
      "); known: Arbin CSV, Maccor text, Novonix CSV, BioLogic .mpt/.mpr/text export, "
      "Neware CSV/.ndax"));
}

namespace {

absl::StatusOr<std::string> ReadWholeFile(const std::string& path, size_t max_bytes) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    return absl::FailedPreconditionError(absl::StrCat(path, ": ", std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(path, ": ", st.st_size,
                                                     " bytes, more than the limit of ",
                                                     max_bytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": cannot open: ",
                                                      std::strerror(errno)));
  }
  std::string contents(static_cast<size_t>(st.st_size), '\0');
  in.read(contents.data(), static_cast<std::streamsize>(contents.size()));
  contents.resize(static_cast<size_t>(in.gcount()));
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return contents;
}

}  // namespace

absl::StatusOr<CyclerFile> ReadCyclerFile(const std::string& path, const ReadOptions& options) {
  absl::StatusOr<std::string> contents = ReadWholeFile(path, options.max_bytes);
  if (!contents.ok()) return contents.status();
  absl::StatusOr<CyclerFile> file = ParseCyclerFile(*contents, path);
  if (!file.ok() || file->format != CyclerFormat::kArbinCsv || !options.read_arbin_metadata) {
    return file;
  }
  // FastCharge_000025_CH8.csv → FastCharge_000025_CH8_Metadata.csv
  if (!absl::EndsWithIgnoreCase(path, ".csv")) return file;
  const std::string meta_path = absl::StrCat(path.substr(0, path.size() - 4), "_Metadata.csv");
  struct stat st;
  if (::stat(meta_path.c_str(), &st) != 0) return file;
  absl::StatusOr<std::string> meta = ReadWholeFile(meta_path, size_t{1} << 20);
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> pairs =
      meta.ok() ? internal::ParseArbinMetadata(*meta, meta_path)
                : absl::StatusOr<std::vector<std::pair<std::string, std::string>>>(
                      meta.status());
  if (!pairs.ok()) {
    file->warnings.push_back(absl::StrCat("metadata file not read: ", pairs.status().message()));
    return file;
  }
  for (auto& kv : *pairs) file->metadata.push_back(std::move(kv));
  return file;
}

}  // namespace ionloop::instruments::cycler_files
