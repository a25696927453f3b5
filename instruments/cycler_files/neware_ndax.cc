// Neware .ndax (BTS 8): a zip archive of XML files and binary .ndc tables.
//
// The zip reader below is minimal and bounds-checked: end-of-central-directory record,
// central directory (with the zip64 extra field BTS 8 writes for every entry), local
// headers; "stored" and "deflate" entries (zlib raw inflate); no zip64 end record,
// encryption or multi-disk archives. Every size is checked against the archive, against
// deflate's best ratio and against kMaxEntryBytes before anything is allocated, and the
// CRC-32 is verified.
//
// The .ndc layout was learnt from the open-source NewareNDA package (NewareNDAx.py; no
// code copied) and checked against a BTS 8.0 export (ndc version 17). Every .ndc table
// starts with a 4096-byte file header whose little-endian uint16 at offset 2 is the ndc
// version; then 4096-byte pages: uint16 page type, uint16 record count, a bitmap of used
// slots, and the records from offset 132 at a fixed stride.
//   data.ndc          stride 8:   float32 voltage V, float32 current A
//   data_runInfo.ndc  stride 100: int32 step time ms @0; float32 charge / discharge
//                                 capacity Ah @5, @9 and energy Wh @13, @17 (each reset
//                                 at the start of a step); int32 unix time s @33; int32
//                                 step (1-based, sequential) @37; int32 index of the
//                                 data.ndc record (1-based) @41
//   data_step.ndc     stride 100: int32 cycle (0-based) @0; int32 step index @4
// runInfo holds a row only every so often (about once a minute in the fixture) while
// data.ndc holds every voltage/current reading; a sample is emitted for each runInfo row
// (where time and capacities are known exactly), with the voltage and current of the
// data.ndc record it names. The readings in between are not interpolated.
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "instruments/cycler_files/cycler_file.h"
#include "instruments/cycler_files/reader_internal.h"

namespace ionloop::instruments::cycler_files::internal {
namespace {

// Largest entry (uncompressed) inflated; far above a real .ndc table (a year of
// 1 s records is ~250 MB) while keeping a zip bomb from exhausting memory.
constexpr uint64_t kMaxEntryBytes = uint64_t{512} << 20;
constexpr size_t kNdcHeader = 4096;
constexpr size_t kNdcPage = 4096;
constexpr size_t kNdcFirstRecord = 132;

uint16_t U16(absl::string_view d, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(d[at]) |
                               (static_cast<uint8_t>(d[at + 1]) << 8));
}
uint32_t U32(absl::string_view d, size_t at) {
  return static_cast<uint32_t>(U16(d, at)) | (static_cast<uint32_t>(U16(d, at + 2)) << 16);
}
int32_t I32(absl::string_view d, size_t at) { return static_cast<int32_t>(U32(d, at)); }
float F32(absl::string_view d, size_t at) {
  const uint32_t bits = U32(d, at);
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

struct ZipEntry {
  std::string name;
  uint16_t method = 0;
  uint16_t flags = 0;
  uint32_t crc = 0;
  uint64_t compressed = 0;
  uint64_t size = 0;
  uint64_t local_offset = 0;
};

absl::Status ZipError(absl::string_view file, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(file, ": not a readable .ndax (zip): ", what));
}

absl::StatusOr<std::vector<ZipEntry>> ListZip(absl::string_view data, absl::string_view file) {
  constexpr size_t kEocd = 22;
  if (data.size() < kEocd) return ZipError(file, "too short for a zip archive");
  // The end-of-central-directory record is in the last 22 + 65535 (comment)
  // bytes.
  size_t eocd = std::string::npos;
  const size_t lowest = data.size() > kEocd + 65535 ? data.size() - kEocd - 65535 : 0;
  for (size_t at = data.size() - kEocd + 1; at-- > lowest;) {
    if (U32(data, at) == 0x06054b50) {
      eocd = at;
      break;
    }
  }
  if (eocd == std::string::npos) {
    return ZipError(file, "no end-of-central-directory record (truncated?)");
  }
  const uint16_t entries = U16(data, eocd + 10);
  const uint32_t cd_size = U32(data, eocd + 12);
  const uint32_t cd_offset = U32(data, eocd + 16);
  if (U16(data, eocd + 4) != 0 || U16(data, eocd + 6) != 0 || U16(data, eocd + 8) != entries) {
    return absl::UnimplementedError(absl::StrCat(file, ": multi-disk zip archives are not read"));
  }
  if (entries == 0xffff || cd_size == 0xffffffffu || cd_offset == 0xffffffffu) {
    return absl::UnimplementedError(absl::StrCat(file, ": zip64 archives are not read"));
  }
  if (uint64_t{cd_offset} + cd_size > eocd) {
    return ZipError(file, "central directory lies outside the archive (truncated?)");
  }
  std::vector<ZipEntry> out;
  size_t at = cd_offset;
  const size_t cd_end = size_t{cd_offset} + cd_size;
  for (int i = 0; i < entries; ++i) {
    if (at + 46 > cd_end || U32(data, at) != 0x02014b50) {
      return ZipError(file, absl::StrCat("central directory entry ", i + 1, " is damaged"));
    }
    ZipEntry e;
    e.flags = U16(data, at + 8);
    e.method = U16(data, at + 10);
    e.crc = U32(data, at + 16);
    e.compressed = U32(data, at + 20);
    e.size = U32(data, at + 24);
    const size_t name_len = U16(data, at + 28);
    const size_t extra_len = U16(data, at + 30);
    const size_t comment_len = U16(data, at + 32);
    e.local_offset = U32(data, at + 42);
    if (at + 46 + name_len + extra_len + comment_len > cd_end) {
      return ZipError(file, absl::StrCat("central directory entry ", i + 1, " is damaged"));
    }
    e.name = std::string(data.substr(at + 46, name_len));
    // Sizes or offset of 0xffffffff are in the zip64 extra field (id 1), in this order
    // (BTS 8 writes them even for small entries).
    size_t x = at + 46 + name_len;
    const size_t x_end = x + extra_len;
    while (x + 4 <= x_end) {
      const uint16_t id = U16(data, x);
      const size_t len = U16(data, x + 2);
      if (x + 4 + len > x_end) break;
      if (id == 1) {
        size_t f = x + 4;
        for (uint64_t *field : {&e.size, &e.compressed, &e.local_offset}) {
          if (*field != 0xffffffffu) continue;
          if (f + 8 > x + 4 + len) {
            return ZipError(file, absl::StrCat("zip64 field of ", e.name, " is damaged"));
          }
          *field = uint64_t{U32(data, f)} | (uint64_t{U32(data, f + 4)} << 32);
          f += 8;
        }
      }
      x += 4 + len;
    }
    at += 46 + name_len + extra_len + comment_len;
    out.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<std::string> ExtractZip(absl::string_view data, const ZipEntry &e,
                                       absl::string_view file) {
  const std::string where = absl::StrCat(file, ": ", e.name, ": ");
  if (e.flags & 1) return absl::UnimplementedError(absl::StrCat(where, "encrypted zip entry"));
  if (e.size > kMaxEntryBytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        where, e.size, " bytes uncompressed, more than the limit of ", kMaxEntryBytes));
  }
  if (e.local_offset > data.size() || data.size() - e.local_offset < 30 ||
      U32(data, e.local_offset) != 0x04034b50) {
    return ZipError(file, absl::StrCat("local header of ", e.name, " is damaged"));
  }
  const uint64_t start =
      e.local_offset + 30 + U16(data, e.local_offset + 26) + U16(data, e.local_offset + 28);
  if (e.compressed > data.size() || start > data.size() - e.compressed) {
    return ZipError(file, absl::StrCat(e.name, " runs past the end of the archive (truncated?)"));
  }
  const absl::string_view packed = data.substr(start, e.compressed);
  std::string out;
  if (e.method == 0) {
    if (e.compressed != e.size)
      return ZipError(file, absl::StrCat(e.name, ": stored sizes differ"));
    out = std::string(packed);
  } else if (e.method == 8) {
    // Deflate cannot compress better than about 1032:1; a larger claim is a
    // bomb or junk.
    if (e.size > e.compressed * 1100 + 4096) {
      return ZipError(file, absl::StrCat(e.name, " claims ", e.size, " bytes from ", e.compressed,
                                         " compressed (impossible ratio)"));
    }
    out.resize(e.size);
    z_stream s;
    std::memset(&s, 0, sizeof s);
    if (inflateInit2(&s, -MAX_WBITS) != Z_OK) {
      return absl::InternalError(absl::StrCat(where, "zlib inflateInit2 failed"));
    }
    s.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(packed.data()));
    s.avail_in = static_cast<uInt>(packed.size());
    // One spare byte of room: output beyond the declared size shows as
    // avail_out == 0.
    std::string room(1, '\0');
    s.next_out = reinterpret_cast<Bytef *>(out.data());
    s.avail_out = static_cast<uInt>(out.size());
    int rc = inflate(&s, Z_FINISH);
    if ((rc == Z_OK || rc == Z_BUF_ERROR) && s.avail_out == 0) {
      s.next_out = reinterpret_cast<Bytef *>(room.data());
      s.avail_out = 1;
      rc = inflate(&s, Z_FINISH);
      if (s.avail_out == 0) {
        inflateEnd(&s);
        return ZipError(
            file, absl::StrCat(e.name, " inflates to more than its declared ", e.size, " bytes"));
      }
    }
    const uint64_t produced = s.total_out;
    const std::string msg = s.msg != nullptr ? s.msg : "ended early";
    inflateEnd(&s);
    if (rc != Z_STREAM_END || produced != e.size) {
      return ZipError(file, absl::StrCat(e.name, ": deflate data is damaged (", msg, ")"));
    }
  } else {
    return absl::UnimplementedError(absl::StrCat(where, "zip compression method ", e.method,
                                                 " is not read (only stored and deflate)"));
  }
  const uLong crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef *>(out.data()),
                          static_cast<uInt>(out.size()));
  if (crc != e.crc) return ZipError(file, absl::StrCat(e.name, ": CRC-32 mismatch (damaged)"));
  return out;
}

// The records of an .ndc table, `stride` bytes each, in page order.
absl::StatusOr<std::vector<absl::string_view>> NdcRecords(absl::string_view ndc, size_t stride,
                                                          absl::string_view file,
                                                          absl::string_view table) {
  if (ndc.size() < kNdcHeader || (ndc.size() - kNdcHeader) % kNdcPage != 0) {
    return absl::DataLossError(absl::StrCat(file, ": ", table, ": ", ndc.size(),
                                            " bytes, not a 4096-byte header plus whole pages"));
  }
  std::vector<absl::string_view> out;
  for (size_t page = kNdcHeader; page < ndc.size(); page += kNdcPage) {
    const size_t count = U16(ndc, page + 2);
    if (kNdcFirstRecord + count * stride > kNdcPage) {
      return absl::DataLossError(absl::StrCat(file, ": ", table, ": page at byte ", page,
                                              " claims ", count, " records, more than fit"));
    }
    for (size_t k = 0; k < count; ++k) {
      out.push_back(ndc.substr(page + kNdcFirstRecord + k * stride, stride));
    }
  }
  return out;
}

// The value of attribute `attr` in an XML text, or "".
std::string XmlAttribute(absl::string_view xml, absl::string_view attr) {
  const std::string key = absl::StrCat(" ", attr, "=\"");
  const size_t at = xml.find(key);
  if (at == absl::string_view::npos) return "";
  const size_t begin = at + key.size();
  const size_t end = xml.find('"', begin);
  if (end == absl::string_view::npos || end - begin > 200) return "";
  return std::string(xml.substr(begin, end - begin));
}

}  // namespace

absl::StatusOr<CyclerFile> ParseNewareNdax(absl::string_view data, absl::string_view name) {
  const absl::string_view base = BaseName(name);
  absl::StatusOr<std::vector<ZipEntry>> entries = ListZip(data, base);
  if (!entries.ok()) return entries.status();
  auto extract = [&](absl::string_view entry, bool required) -> absl::StatusOr<std::string> {
    for (const ZipEntry &e : *entries) {
      if (e.name == entry) return ExtractZip(data, e, base);
    }
    if (!required) return std::string();
    return absl::InvalidArgumentError(
        absl::StrCat(base, ": the .ndax archive has no ", entry, " (not a Neware .ndax?)"));
  };

  CyclerFile file;
  file.source = std::string(name);
  file.format = CyclerFormat::kNewareNdax;

  absl::StatusOr<std::string> version_xml = extract("VersionInfo.xml", false);
  if (!version_xml.ok()) return version_xml.status();
  for (const char *attr : {"SvrVer", "CurrClientVer", "ZwjVersion", "MainXwjVer"}) {
    std::string v = XmlAttribute(*version_xml, attr);
    if (!v.empty()) file.metadata.emplace_back(attr, std::move(v));
  }

  absl::StatusOr<std::string> data_ndc = extract("data.ndc", true);
  if (!data_ndc.ok()) return data_ndc.status();
  if (data_ndc->size() < 4) {
    return absl::DataLossError(absl::StrCat(base, ": data.ndc: too short for its header"));
  }
  const int version = U16(*data_ndc, 2);
  file.metadata.emplace_back("ndc_version", absl::StrCat(version));
  if (version != 17) {
    return absl::UnimplementedError(
        absl::StrCat(base, ": data.ndc is ndc version ", version,
                     ", which ionloop does not read (only version 17, BTS 8): "
                     "export the file to CSV "
                     "from Neware BTS and import the CSV"));
  }
  absl::StatusOr<std::string> run_ndc = extract("data_runInfo.ndc", true);
  if (!run_ndc.ok()) return run_ndc.status();
  absl::StatusOr<std::string> step_ndc = extract("data_step.ndc", true);
  if (!step_ndc.ok()) return step_ndc.status();
  for (const auto &[table, bytes] :
       {std::pair<const char *, const std::string *>{"data_runInfo.ndc", &*run_ndc},
        {"data_step.ndc", &*step_ndc}}) {
    if (bytes->size() < 4 || U16(*bytes, 2) != version) {
      return absl::UnimplementedError(
          absl::StrCat(base, ": ", table, " is not ndc version ", version, " like data.ndc"));
    }
  }

  absl::StatusOr<std::vector<absl::string_view>> readings =
      NdcRecords(*data_ndc, 8, base, "data.ndc");
  if (!readings.ok()) return readings.status();
  absl::StatusOr<std::vector<absl::string_view>> runs =
      NdcRecords(*run_ndc, 100, base, "data_runInfo.ndc");
  if (!runs.ok()) return runs.status();
  absl::StatusOr<std::vector<absl::string_view>> steps =
      NdcRecords(*step_ndc, 100, base, "data_step.ndc");
  if (!steps.ok()) return steps.status();

  double time_base_s = 0;  // test time at the start of the current step
  double last_step_time_s = 0;
  int64_t last_step = -1;
  for (size_t i = 0; i < runs->size(); ++i) {
    const absl::string_view r = (*runs)[i];
    const int64_t step_seq = I32(r, 37);
    const int64_t index = I32(r, 41);
    if (index < 1 || static_cast<uint64_t>(index) > readings->size()) {
      return absl::DataLossError(absl::StrCat(base, ": data_runInfo.ndc record ", i + 1,
                                              " names reading ", index, " but data.ndc holds ",
                                              readings->size()));
    }
    if (step_seq < 1 || static_cast<uint64_t>(step_seq) > steps->size()) {
      return absl::DataLossError(absl::StrCat(base, ": data_runInfo.ndc record ", i + 1,
                                              " names step ", step_seq, " but data_step.ndc holds ",
                                              steps->size()));
    }
    const double step_time_s = I32(r, 0) / 1000.0;
    if (step_seq != last_step) {
      if (last_step >= 0) time_base_s += last_step_time_s;
      last_step = step_seq;
    }
    last_step_time_s = step_time_s;
    const absl::string_view reading = (*readings)[static_cast<size_t>(index - 1)];
    const absl::string_view step = (*steps)[static_cast<size_t>(step_seq - 1)];
    Sample s;
    s.line = static_cast<uint32_t>(index);
    s.test_time_s = time_base_s + step_time_s;
    s.step_time_s = step_time_s;
    s.cycle = I32(step, 0);
    s.step = I32(step, 4);
    s.voltage_v = F32(reading, 0);
    s.current_a = F32(reading, 4);
    s.charge_capacity_ah = F32(r, 5);
    s.discharge_capacity_ah = F32(r, 9);
    s.charge_energy_wh = F32(r, 13);
    s.discharge_energy_wh = F32(r, 17);
    for (double v : {s.voltage_v, s.current_a, s.charge_capacity_ah, s.discharge_capacity_ah,
                     s.charge_energy_wh, s.discharge_energy_wh}) {
      if (!std::isfinite(v)) {
        return absl::DataLossError(absl::StrCat(base, ": data_runInfo.ndc record ", i + 1,
                                                " (reading ", index, ") is not a finite number"));
      }
    }
    file.samples.push_back(s);
  }
  file.has_energy = true;
  if (readings->size() > file.samples.size()) {
    file.warnings.push_back(absl::StrCat("samples are the ", file.samples.size(),
                                         " data_runInfo.ndc rows (exact time and "
                                         "capacity); the other ",
                                         readings->size() - file.samples.size(),
                                         " voltage/current readings of data.ndc between them are "
                                         "not interpolated"));
  }
  absl::Status finished = Finish(CounterReset::kEachStep, /*cycle_base=*/0, &file);
  if (!finished.ok()) {
    return absl::Status(finished.code(), absl::StrCat(base, ": ", finished.message()));
  }
  return file;
}

}  // namespace ionloop::instruments::cycler_files::internal
