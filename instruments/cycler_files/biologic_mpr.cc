// BioLogic EC-Lab .mpr binary. Undocumented; the layout follows the reverse engineering
// of the galvani project (echemdata/galvani, BioLogic.py): a 52-byte magic, then modules
// ("MODULE", short name, long name, length, version, date, data). The "VMP data" module
// holds the point count, the column ids (their order fixes the record layout: each id has
// a fixed type; flag ids share one byte) and the packed little-endian records.
// An unknown column id makes the layout unknowable, so it is an error, as in galvani.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "instruments/cycler_files/reader_internal.h"

namespace ionloop::instruments::cycler_files::internal {
namespace {

enum class Type : uint8_t { kFlags, kU1, kU2, kU4, kF4, kF8 };

size_t SizeOf(Type t) {
  switch (t) {
    case Type::kFlags:
    case Type::kU1:
      return 1;
    case Type::kU2:
      return 2;
    case Type::kU4:
    case Type::kF4:
      return 4;
    case Type::kF8:
      return 8;
  }
  return 0;
}

struct ColumnType {
  uint16_t id;
  Type type;
  const char* name;
};

// From galvani's VMPdata_colID_dtype_map (and its flag map: ids 1, 2, 3, 21, 31, 65).
constexpr ColumnType kColumns[] = {
    {1, Type::kFlags, "mode"},
    {2, Type::kFlags, "ox/red"},
    {3, Type::kFlags, "error"},
    {21, Type::kFlags, "control changes"},
    {31, Type::kFlags, "Ns changes"},
    {65, Type::kFlags, "counter inc."},
    {4, Type::kF8, "time/s"},
    {5, Type::kF4, "control/V/mA"},
    {6, Type::kF4, "Ewe/V"},
    {7, Type::kF8, "dq/mA.h"},
    {8, Type::kF4, "I/mA"},
    {9, Type::kF4, "Ece/V"},
    {11, Type::kF8, "<I>/mA"},
    {13, Type::kF8, "(Q-Qo)/mA.h"},
    {16, Type::kF4, "Analog IN 1/V"},
    {17, Type::kF4, "Analog IN 2/V"},
    {19, Type::kF4, "control/V"},
    {20, Type::kF4, "control/mA"},
    {23, Type::kF8, "dQ/mA.h"},
    {24, Type::kF8, "cycle number"},
    {26, Type::kF4, "Rapp/Ohm"},
    {27, Type::kF4, "Ewe-Ece/V"},
    {32, Type::kF4, "freq/Hz"},
    {33, Type::kF4, "|Ewe|/V"},
    {34, Type::kF4, "|I|/A"},
    {35, Type::kF4, "Phase(Z)/deg"},
    {36, Type::kF4, "|Z|/Ohm"},
    {37, Type::kF4, "Re(Z)/Ohm"},
    {38, Type::kF4, "-Im(Z)/Ohm"},
    {39, Type::kU2, "I Range"},
    {69, Type::kF4, "R/Ohm"},
    {70, Type::kF4, "P/W"},
    {74, Type::kF8, "|Energy|/W.h"},
    {75, Type::kF4, "Analog OUT/V"},
    {76, Type::kF4, "<I>/mA"},
    {77, Type::kF4, "<Ewe>/V"},
    {78, Type::kF4, "Cs-2/uF-2"},
    {96, Type::kF4, "|Ece|/V"},
    {98, Type::kF4, "Phase(Zce)/deg"},
    {99, Type::kF4, "|Zce|/Ohm"},
    {100, Type::kF4, "Re(Zce)/Ohm"},
    {101, Type::kF4, "-Im(Zce)/Ohm"},
    {123, Type::kF8, "Energy charge/W.h"},
    {124, Type::kF8, "Energy discharge/W.h"},
    {125, Type::kF8, "Capacitance charge/uF"},
    {126, Type::kF8, "Capacitance discharge/uF"},
    {131, Type::kU2, "Ns"},
    {163, Type::kF4, "|Estack|/V"},
    {168, Type::kF4, "Rcmp/Ohm"},
    {169, Type::kF4, "Cs/uF"},
    {172, Type::kF4, "Cp/uF"},
    {173, Type::kF4, "Cp-2/uF-2"},
    {174, Type::kF4, "<Ewe>/V"},
    {178, Type::kF4, "(Q-Qo)/C"},
    {179, Type::kF4, "dQ/C"},
    {182, Type::kF8, "step time/s"},
    {211, Type::kF8, "Q charge/discharge/mA.h"},
    {212, Type::kU4, "half cycle"},
    {213, Type::kU4, "z cycle"},
    {217, Type::kF4, "THD Ewe/%"},
    {218, Type::kF4, "THD I/%"},
    {220, Type::kF4, "NSD Ewe/%"},
    {221, Type::kF4, "NSD I/%"},
    {223, Type::kF4, "NSR Ewe/%"},
    {224, Type::kF4, "NSR I/%"},
    {230, Type::kF4, "|Ewe h2|/V"},
    {231, Type::kF4, "|Ewe h3|/V"},
    {232, Type::kF4, "|Ewe h4|/V"},
    {233, Type::kF4, "|Ewe h5|/V"},
    {234, Type::kF4, "|Ewe h6|/V"},
    {235, Type::kF4, "|Ewe h7|/V"},
    {236, Type::kF4, "|I h2|/A"},
    {237, Type::kF4, "|I h3|/A"},
    {238, Type::kF4, "|I h4|/A"},
    {239, Type::kF4, "|I h5|/A"},
    {240, Type::kF4, "|I h6|/A"},
    {241, Type::kF4, "|I h7|/A"},
    {242, Type::kF4, "|E2|/V"},
    {271, Type::kF4, "Phase(Z1)/deg"},
    {272, Type::kF4, "Phase(Z2)/deg"},
    {301, Type::kF4, "|Z1|/Ohm"},
    {302, Type::kF4, "|Z2|/Ohm"},
    {331, Type::kF4, "Re(Z1)/Ohm"},
    {332, Type::kF4, "Re(Z2)/Ohm"},
    {361, Type::kF4, "-Im(Z1)/Ohm"},
    {362, Type::kF4, "-Im(Z2)/Ohm"},
    {391, Type::kF4, "<E1>/V"},
    {392, Type::kF4, "<E2>/V"},
    {422, Type::kF4, "Phase(Zstack)/deg"},
    {423, Type::kF4, "|Zstack|/Ohm"},
    {424, Type::kF4, "Re(Zstack)/Ohm"},
    {425, Type::kF4, "-Im(Zstack)/Ohm"},
    {426, Type::kF4, "<Estack>/V"},
    {430, Type::kF4, "Phase(Zwe-ce)/deg"},
    {431, Type::kF4, "|Zwe-ce|/Ohm"},
    {432, Type::kF4, "Re(Zwe-ce)/Ohm"},
    {433, Type::kF4, "-Im(Zwe-ce)/Ohm"},
    {434, Type::kF4, "(Q-Qo)/C"},
    {435, Type::kF4, "dQ/C"},
    {438, Type::kF8, "step time/s"},
    {441, Type::kF4, "<Ecv>/V"},
    {462, Type::kF4, "Temperature/degC"},
    {467, Type::kF8, "Q charge/discharge/mA.h"},
    {468, Type::kU4, "half cycle"},
    {469, Type::kU4, "z cycle"},
    {471, Type::kF4, "<Ece>/V"},
    {473, Type::kF4, "THD Ewe/%"},
    {474, Type::kF4, "THD I/%"},
    {476, Type::kF4, "NSD Ewe/%"},
    {477, Type::kF4, "NSD I/%"},
    {479, Type::kF4, "NSR Ewe/%"},
    {480, Type::kF4, "NSR I/%"},
    {486, Type::kF4, "|Ewe h2|/V"},
    {487, Type::kF4, "|Ewe h3|/V"},
    {488, Type::kF4, "|Ewe h4|/V"},
    {489, Type::kF4, "|Ewe h5|/V"},
    {490, Type::kF4, "|Ewe h6|/V"},
    {491, Type::kF4, "|Ewe h7|/V"},
    {492, Type::kF4, "|I h2|/A"},
    {493, Type::kF4, "|I h3|/A"},
    {494, Type::kF4, "|I h4|/A"},
    {495, Type::kF4, "|I h5|/A"},
    {496, Type::kF4, "|I h6|/A"},
    {497, Type::kF4, "|I h7|/A"},
    {498, Type::kF8, "Q charge/mA.h"},
    {499, Type::kF8, "Q discharge/mA.h"},
    {500, Type::kF8, "step time/s"},
    {501, Type::kF8, "Efficiency/%"},
    {502, Type::kF8, "Capacity/mA.h"},
    {505, Type::kF4, "Rdc/Ohm"},
    {509, Type::kU1, "Acir/Dcir Control"},
};

const ColumnType* FindType(uint16_t id) {
  for (const ColumnType& c : kColumns) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

uint64_t ReadLe(const unsigned char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

// Reads one field of `type` at p as a double.
double ReadValue(const unsigned char* p, Type type) {
  switch (type) {
    case Type::kFlags:
    case Type::kU1:
      return p[0];
    case Type::kU2:
      return static_cast<double>(ReadLe(p, 2));
    case Type::kU4:
      return static_cast<double>(ReadLe(p, 4));
    case Type::kF4: {
      const auto bits = static_cast<uint32_t>(ReadLe(p, 4));
      float f;
      std::memcpy(&f, &bits, sizeof(f));
      return static_cast<double>(f);
    }
    case Type::kF8: {
      const uint64_t bits = ReadLe(p, 8);
      double d;
      std::memcpy(&d, &bits, sizeof(d));
      return d;
    }
  }
  return 0;
}

struct Module {
  std::string short_name;
  uint32_t version = 0;
  size_t data_offset = 0;  // in the file
  absl::string_view data;
};

constexpr size_t kMagicSize = 52;

}  // namespace

absl::StatusOr<CyclerFile> ParseBiologicMpr(absl::string_view data, absl::string_view name) {
  CyclerFile file;
  file.source = std::string(name);
  file.format = CyclerFormat::kBiologicMpr;
  const absl::string_view base = BaseName(name);
  auto error = [&](size_t offset, absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(base, ": byte ", offset, ": ", what));
  };

  constexpr absl::string_view kMagic = "BIO-LOGIC MODULAR FILE\x1a";
  if (data.size() < kMagicSize || data.substr(0, kMagic.size()) != kMagic) {
    return error(0, "not a BioLogic .mpr file (no \"BIO-LOGIC MODULAR FILE\" magic)");
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());

  std::vector<Module> modules;
  size_t pos = kMagicSize;
  while (pos < data.size()) {
    constexpr size_t kV1 = 6 + 10 + 25 + 4 + 4 + 8;
    constexpr size_t kV2 = 6 + 10 + 25 + 4 + 4 + 4 + 4 + 8;
    if (data.size() - pos < kV1) {
      return error(pos, "the file ends inside a module header (truncated)");
    }
    if (data.substr(pos, 6) != "MODULE") {
      return error(pos, absl::StrCat("expected \"MODULE\", found ",
                                     QuoteForMessage(data.substr(pos, 6))));
    }
    Module m;
    m.short_name = std::string(Trim(data.substr(pos + 6, 10)));
    size_t length = 0;
    size_t header = kV1;
    if (ReadLe(bytes + pos + 41, 4) == 0xFFFFFFFFu) {  // EC-Lab >= 11.50
      if (data.size() - pos < kV2) {
        return error(pos, "the file ends inside a module header (truncated)");
      }
      header = kV2;
      length = ReadLe(bytes + pos + 45, 4);
      m.version = static_cast<uint32_t>(ReadLe(bytes + pos + 49, 4));
    } else {
      length = ReadLe(bytes + pos + 41, 4);
      m.version = static_cast<uint32_t>(ReadLe(bytes + pos + 45, 4));
    }
    m.data_offset = pos + header;
    if (length > data.size() - m.data_offset) {
      return error(pos, absl::StrCat("module '", m.short_name, "' declares ", length,
                                     " bytes, only ", data.size() - m.data_offset,
                                     " are left (truncated file)"));
    }
    m.data = data.substr(m.data_offset, length);
    pos = m.data_offset + length;
    modules.push_back(std::move(m));
  }
  const Module* dm = nullptr;
  for (const Module& m : modules) {
    if (m.short_name == "VMP data") {
      if (dm != nullptr) return error(m.data_offset, "two 'VMP data' modules");
      dm = &m;
    }
  }
  if (dm == nullptr) return error(pos, "no 'VMP data' module");

  const absl::string_view d = dm->data;
  const auto* db = reinterpret_cast<const unsigned char*>(d.data());
  if (d.size() < 5) return error(dm->data_offset, "the data module is too short");
  const uint64_t n_points = ReadLe(db, 4);
  const size_t n_columns = db[4];
  std::vector<uint16_t> ids;
  size_t main_offset = 0;
  if (dm->version == 0) {
    main_offset = 100;
    if (d.size() < main_offset) return error(dm->data_offset, "the data module is too short");
    if (n_columns > 0 && db[5] == 0) {  // EC-Lab >= 11.50 writes "0 id 0 id ..."
      if (5 + 2 * n_columns > main_offset) return error(dm->data_offset, "too many columns");
      for (size_t i = 0; i < n_columns; ++i) ids.push_back(db[5 + 2 * i + 1]);
    } else {
      if (5 + n_columns > main_offset) return error(dm->data_offset, "too many columns");
      for (size_t i = 0; i < n_columns; ++i) ids.push_back(db[5 + i]);
    }
  } else if (dm->version == 2 || dm->version == 3) {
    main_offset = dm->version == 3 ? 406 : 405;
    if (d.size() < main_offset || 5 + 2 * n_columns > main_offset) {
      return error(dm->data_offset, "the data module is too short");
    }
    for (size_t i = 0; i < n_columns; ++i) {
      ids.push_back(static_cast<uint16_t>(ReadLe(db + 5 + 2 * i, 2)));
    }
  } else {
    return error(dm->data_offset,
                 absl::StrCat("data module version ", dm->version, " is not known"));
  }

  // Record layout.
  struct Field {
    const ColumnType* type;
    size_t offset;
  };
  std::vector<Field> layout;
  size_t record = 0;
  size_t flags_offset = SIZE_MAX;
  for (const uint16_t id : ids) {
    const ColumnType* t = FindType(id);
    if (t == nullptr) {
      return error(dm->data_offset,
                   absl::StrCat("column id ", id, " is unknown (after '",
                                layout.empty() ? "start" : layout.back().type->name,
                                "'): the record layout cannot be worked out"));
    }
    if (t->type == Type::kFlags) {
      if (flags_offset == SIZE_MAX) {
        flags_offset = record;
        record += 1;
      }
      layout.push_back({t, flags_offset});
      continue;
    }
    layout.push_back({t, record});
    record += SizeOf(t->type);
  }
  if (record == 0) return error(dm->data_offset, "no columns");
  const size_t available = d.size() - main_offset;
  if (n_points > available / record) {
    return error(dm->data_offset + main_offset,
                 absl::StrCat("the header announces ", n_points, " points of ", record,
                              " bytes, only ", available / record,
                              " are there (truncated file)"));
  }
  if (available != n_points * record) {
    file.warnings.push_back(absl::StrCat(base, ": ", available - n_points * record,
                                         " bytes after the last of ", n_points,
                                         " points ignored"));
  }

  auto find = [&](std::initializer_list<uint16_t> wanted) -> const Field* {
    for (const uint16_t id : wanted) {
      for (const Field& f : layout) {
        if (f.type->id == id) return &f;
      }
    }
    return nullptr;
  };
  const Field* time = find({4});
  const Field* voltage = find({6, 77, 174});
  const Field* current = find({8, 11, 76});
  const Field* cycle = find({24});
  const Field* half_cycle = find({468, 212});
  const Field* ns = find({131});
  const Field* dq = find({7, 23});
  const Field* q_charge = find({498});
  const Field* q_discharge = find({499});
  const Field* q_qo = find({13});
  const Field* e_charge = find({123});
  const Field* e_discharge = find({124});
  const Field* temp = find({462});
  const Field* step_time = find({182, 438, 500});
  if (time == nullptr) return error(dm->data_offset, "no 'time/s' column");
  if (voltage == nullptr) return error(dm->data_offset, "no 'Ewe/V' column");
  if (current == nullptr) return error(dm->data_offset, "no 'I/mA' column");
  if ((q_charge == nullptr || q_discharge == nullptr) && dq == nullptr && q_qo == nullptr) {
    return error(dm->data_offset, "no capacity column (dq/mA.h, Q charge/discharge)");
  }

  file.samples.reserve(n_points);
  double sum_charge = 0, sum_discharge = 0, prev_q_qo = 0;
  for (uint64_t i = 0; i < n_points; ++i) {
    const size_t at = main_offset + i * record;
    const unsigned char* rec = db + at;
    auto value = [&](const Field* f) { return ReadValue(rec + f->offset, f->type->type); };
    auto bad = [&](const Field* f, double v) {
      return error(dm->data_offset + at + f->offset,
                   absl::StrCat("record ", i + 1, ": '", f->type->name, "' is ", v));
    };
    Sample s;
    s.line = static_cast<uint32_t>(std::min<uint64_t>(i + 1, UINT32_MAX));
    s.test_time_s = value(time);
    if (!std::isfinite(s.test_time_s)) return bad(time, s.test_time_s);
    s.voltage_v = value(voltage);
    if (!std::isfinite(s.voltage_v)) return bad(voltage, s.voltage_v);
    s.current_a = value(current) * 1e-3;
    if (!std::isfinite(s.current_a)) return bad(current, s.current_a);
    if (step_time != nullptr) s.step_time_s = value(step_time);
    if (cycle != nullptr) {
      const double c = value(cycle);
      if (!std::isfinite(c) || c != std::floor(c) || std::fabs(c) > 1e15) return bad(cycle, c);
      s.cycle = static_cast<int64_t>(c);
    } else if (half_cycle != nullptr) {
      s.cycle = static_cast<int64_t>(value(half_cycle)) / 2;
    }
    if (ns != nullptr) s.step = static_cast<int64_t>(value(ns));
    if (q_charge != nullptr && q_discharge != nullptr) {
      s.charge_capacity_ah = value(q_charge) * 1e-3;
      s.discharge_capacity_ah = value(q_discharge) * 1e-3;
      if (!std::isfinite(s.charge_capacity_ah)) return bad(q_charge, s.charge_capacity_ah);
      if (!std::isfinite(s.discharge_capacity_ah)) {
        return bad(q_discharge, s.discharge_capacity_ah);
      }
    } else {
      if (i == 0 || s.cycle != file.samples.back().cycle) sum_charge = sum_discharge = 0;
      double delta = 0;
      if (dq != nullptr) {
        delta = value(dq) * 1e-3;
        if (!std::isfinite(delta)) return bad(dq, delta);
      } else {
        const double q = value(q_qo) * 1e-3;
        if (!std::isfinite(q)) return bad(q_qo, q);
        delta = i == 0 ? 0 : q - prev_q_qo;
        prev_q_qo = q;
      }
      if (delta > 0) sum_charge += delta;
      if (delta < 0) sum_discharge -= delta;
      s.charge_capacity_ah = sum_charge;
      s.discharge_capacity_ah = sum_discharge;
    }
    if (e_charge != nullptr) s.charge_energy_wh = value(e_charge);
    if (e_discharge != nullptr) s.discharge_energy_wh = value(e_discharge);
    if (temp != nullptr) s.temperature_c = value(temp);
    for (double* v : {&s.charge_energy_wh, &s.discharge_energy_wh, &s.temperature_c,
                      &s.step_time_s}) {
      if (std::isinf(*v)) *v = kNaN;
    }
    file.samples.push_back(s);
  }
  RETURN_IF_ERROR(Finish(CounterReset::kOnDrop, /*cycle_base=*/0, &file));
  return file;
}

}  // namespace ionloop::instruments::cycler_files::internal
