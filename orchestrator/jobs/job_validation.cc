#include "orchestrator/jobs/job_validation.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/job_id.h"
#include "common/model_ref.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "instruments/electrodes.h"

namespace ionloop::orchestrator {
namespace {

using ::ionloop::instruments::ElectrodeInfo;
using ::ionloop::instruments::ElectrodeNames;
using ::ionloop::instruments::ElectrodeRole;
using ::ionloop::instruments::ElectrodeRoleName;
using ::ionloop::instruments::FindElectrode;
using ::ionloop::v1::CellSpec;
using ::ionloop::v1::CyclingJob;
using ::ionloop::v1::CyclingProtocol;
using ::ionloop::v1::DatasetSource;
using ::ionloop::v1::JobKind;
using ::ionloop::v1::JobSpec;
using ::ionloop::v1::LabelJob;
using ::ionloop::v1::SimulationJob;
using ::ionloop::v1::SyntheticJob;
using ::ionloop::v1::TrainingJob;
using ::ionloop::v1::TrainingOptions;
using ::ionloop::v1::XrdJob;

// ---------------------------------------------------------------------------------------
// Limits. docs/api.md has the same table; change both together.

// Closed or half-open intervals of allowed values, with the unit used in messages
// (written with its separator, so that "80 °C" and "180°" both read right).
struct Range {
  double lo;
  double hi;
  bool lo_open;  // `lo` itself is not allowed
  absl::string_view unit;
};

constexpr Range kCRate{0, 20, true, "C"};                 // 1/h, written "20C"
constexpr Range kStepSoc{0, 100, true, " %"};             // until_soc_percent
constexpr Range kCellVoltage{0, 5, false, " V"};          // cut-off voltages
constexpr Range kCellTemperature{-40, 80, false, " °C"};  // chamber temperature
constexpr Range kRestMinutes{0, 1440, false, " min"};     // one day
constexpr Range kNominalCapacity{0, 1000, true, " Ah"};
constexpr Range kWavelength{0.1, 3, false, " Å"};  // Cu Kα 1.54184, Mo 0.71
constexpr Range kTwoTheta{0, 180, true, "°"};
constexpr Range kTwoThetaStep{0, 180, true, "°"};
constexpr Range kMolality{0, 5, true, " mol/kg"};
constexpr Range kSimTemperature{200, 600, false, " K"};
constexpr Range kTimestep{0, 5, true, " fs"};

constexpr uint32_t kMaxCycles = 1'000'000;
constexpr size_t kMaxChargeSteps = 32;
constexpr size_t kMaxVoltageCurveCycles = 10'000;
constexpr uint32_t kMaxScans = 100'000;
constexpr uint64_t kMaxXrdPoints = 1'000'000;
constexpr uint64_t kMaxSimulationSteps = 10'000'000'000;  // 1e10
constexpr size_t kMaxFrameSeqs = 100'000;
constexpr uint64_t kMaxSyntheticMeasurements = 10'000'000;
constexpr uint32_t kMaxPayloadBytes = 1 << 20;  // 1 MiB
constexpr uint32_t kMaxIntervalMs = 3'600'000;  // one hour
constexpr int32_t kMinPriority = -100;
constexpr int32_t kMaxPriority = 100;
constexpr size_t kMaxCampaignIdChars = 128;
constexpr size_t kMaxLabels = 64;
constexpr size_t kMaxLabelKeyBytes = 63;
constexpr size_t kMaxLabelValueBytes = 256;
constexpr size_t kMaxIdempotencyKeyBytes = 256;
constexpr uint32_t kMaxPageSize = 1000;

// Free-text fields the protos leave unbounded get a generous cap, so that a stray
// megabyte does not land in every row and message.
constexpr size_t kMaxNameBytes = 256;           // engine, solvent, sample_id, electrolyte
constexpr size_t kMaxStructureBytes = 1 << 20;  // CIF text

constexpr absl::string_view kSimulationSalts[] = {"LiPF6", "NaPF6", "KPF6", "Mg(ClO4)2"};
constexpr uint32_t kMaxMembers = 32;
constexpr size_t kMaxHiddenLayers = 8;
constexpr uint32_t kMaxHiddenUnits = 1024;
constexpr uint32_t kMaxEpochs = 100'000;
constexpr size_t kMaxPathBytes = 4096;
constexpr Range kLearningRate{0, 1, true, ""};
constexpr Range kValidationFraction{0.05, 0.5, false, ""};
constexpr absl::string_view kEmbeddings[] = {"encoder", "pca"};
constexpr absl::string_view kLabelMethods[] = {"GFN2-xTB", "GFN1-xTB"};

// ---------------------------------------------------------------------------------------
// Message helpers. Every error is "<field path>: <what is wrong>, got <value>".

std::string Field(absl::string_view path, absl::string_view name) {
  return path.empty() ? std::string(name) : absl::StrCat(path, ".", name);
}

std::string Element(absl::string_view path, size_t index) {
  return absl::StrCat(path, "[", index, "]");
}

template <typename... Args>
absl::Status Invalid(absl::string_view path, const Args&... args) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", args...));
}

// The shortest decimal that reads back as `v` ("4.3", not "4.2999999999999998").
std::string Num(double v) {
  char buf[32];
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

// A bound with its unit; zero needs none ("> 0", "<= 20C", "<= 5 mol/kg").
std::string Bound(double v, absl::string_view unit) {
  return v == 0 ? Num(v) : absl::StrCat(Num(v), unit);
}

// A user-supplied string, quoted and escaped, cut to about 64 bytes (at a UTF-8
// character boundary).
std::string Quote(absl::string_view s) {
  constexpr size_t kShown = 64;
  if (s.size() <= kShown) return absl::StrCat("\"", absl::Utf8SafeCHexEscape(s), "\"");
  size_t cut = kShown;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat("\"", absl::Utf8SafeCHexEscape(s.substr(0, cut)), "\"... (", s.size(),
                      " bytes)");
}

// ---------------------------------------------------------------------------------------
// Checks.

absl::Status CheckFinite(absl::string_view path, double v) {
  if (std::isfinite(v)) return absl::OkStatus();
  return Invalid(path, "must be a finite number, got ", Num(v));
}

// `v` finite and inside `r`. A closed range reads "must be within -40..80 °C"; a
// half-open one names the side that was crossed ("must be > 0", "must be <= 20 C").
absl::Status CheckNumber(absl::string_view path, double v, const Range& r) {
  RETURN_IF_ERROR(CheckFinite(path, v));
  const bool below = r.lo_open ? !(v > r.lo) : v < r.lo;
  const bool above = v > r.hi;
  if (!below && !above) return absl::OkStatus();
  if (!r.lo_open) {
    return Invalid(path, "must be within ", Num(r.lo), "..", Num(r.hi), r.unit, ", got ", Num(v));
  }
  if (below) return Invalid(path, "must be > ", Bound(r.lo, r.unit), ", got ", Num(v));
  return Invalid(path, "must be <= ", Bound(r.hi, r.unit), ", got ", Num(v));
}

// An integer in lo..hi. `hi_name` names a bound that comes from another field
// ("must be within 1..max_cycles (1000)").
template <typename T>
absl::Status CheckInt(absl::string_view path, T v, T lo, T hi, absl::string_view hi_name = "") {
  if (v >= lo && v <= hi) return absl::OkStatus();
  const std::string upper =
      hi_name.empty() ? absl::StrCat(hi) : absl::StrCat(hi_name, " (", hi, ")");
  if (lo == 0) return Invalid(path, "must be <= ", upper, ", got ", v);
  return Invalid(path, "must be within ", lo, "..", upper, ", got ", v);
}

absl::Status CheckSize(absl::string_view path, size_t size, size_t max, absl::string_view what) {
  if (size <= max) return absl::OkStatus();
  return Invalid(path, "at most ", max, " ", what, " allowed, got ", size);
}

absl::Status CheckText(absl::string_view path, absl::string_view s, size_t max_bytes,
                       bool required) {
  if (required && s.empty()) return Invalid(path, "must not be empty, got \"\"");
  if (s.size() > max_bytes) {
    return Invalid(path, "must be at most ", max_bytes, " bytes, got ", s.size(), " bytes ",
                   Quote(s));
  }
  return absl::OkStatus();
}

// `s` is exactly one of `allowed` (case-sensitive: these are chemical formulas and
// method names that workers compare as given).
absl::Status CheckOneOf(absl::string_view path, absl::string_view s,
                        absl::Span<const absl::string_view> allowed, absl::string_view what) {
  if (std::find(allowed.begin(), allowed.end(), s) != allowed.end()) return absl::OkStatus();
  const std::string known = absl::StrJoin(allowed, ", ");
  if (s.empty()) return Invalid(path, "must be set (one of ", known, "), got \"\"");
  return Invalid(path, "unknown ", what, " ", Quote(s), " (known: ", known, ")");
}

std::string EnumValueText(const google::protobuf::EnumDescriptor* d, int v) {
  const google::protobuf::EnumValueDescriptor* value = d->FindValueByNumber(v);
  return value != nullptr ? value->name() : absl::StrCat(v);
}

// `v` is a value of `d`; the zero (UNSPECIFIED) value only when `allow_unspecified`.
absl::Status CheckEnum(absl::string_view path, const google::protobuf::EnumDescriptor* d, int v,
                       bool allow_unspecified) {
  if (d->FindValueByNumber(v) != nullptr && (v != 0 || allow_unspecified)) {
    return absl::OkStatus();
  }
  std::vector<std::string> names;
  for (int i = 0; i < d->value_count(); ++i) {
    if (d->value(i)->number() != 0 || allow_unspecified) names.push_back(d->value(i)->name());
  }
  return Invalid(path, "must be one of ", absl::StrJoin(names, ", "), ", got ",
                 EnumValueText(d, v));
}

// Every element of `values` is distinct (reports the first repeat).
template <typename T>
absl::Status CheckDistinct(absl::string_view path,
                           const google::protobuf::RepeatedField<T>& values) {
  std::vector<std::pair<T, int>> sorted;
  sorted.reserve(values.size());
  for (int i = 0; i < values.size(); ++i) sorted.emplace_back(values.Get(i), i);
  std::sort(sorted.begin(), sorted.end());
  int first_repeat = -1;
  for (size_t i = 1; i < sorted.size(); ++i) {
    if (sorted[i].first == sorted[i - 1].first &&
        (first_repeat < 0 || sorted[i].second < first_repeat)) {
      first_repeat = sorted[i].second;
    }
  }
  if (first_repeat < 0) return absl::OkStatus();
  return Invalid(Element(path, first_repeat), "duplicate value, got ", values.Get(first_repeat));
}

// The electrode table knows nothing of protobuf: map the wire enum to its ion.
bool ToInstrumentIon(ionloop::v1::Ion ion, instruments::Ion* out) {
  switch (ion) {
    case ionloop::v1::ION_LI:
      *out = instruments::Ion::kLi;
      return true;
    case ionloop::v1::ION_NA:
      *out = instruments::Ion::kNa;
      return true;
    case ionloop::v1::ION_K:
      *out = instruments::Ion::kK;
      return true;
    case ionloop::v1::ION_MG:
      *out = instruments::Ion::kMg;
      return true;
    default:
      return false;
  }
}

std::string IonListText(const ElectrodeInfo& e) {
  std::vector<std::string> ions;
  for (instruments::Ion ion : e.Ions()) ions.emplace_back(instruments::IonSymbol(ion));
  if (ions.size() <= 1) return absl::StrJoin(ions, "");
  return absl::StrCat(absl::StrJoin(ions.begin(), ions.end() - 1, ", "), " or ", ions.back());
}

// `name` is a known electrode of `role`, used with the cell's ion (already validated).
absl::Status CheckElectrode(absl::string_view path, absl::string_view name, ElectrodeRole role,
                            ionloop::v1::Ion ion) {
  const std::string role_name(ElectrodeRoleName(role));
  const std::string known = absl::StrJoin(ElectrodeNames(role), ", ");
  if (name.empty()) {
    return Invalid(path, "must be set (", role_name, " electrodes: ", known, "), got \"\"");
  }
  const ElectrodeInfo* e = FindElectrode(name);
  if (e == nullptr) {
    return Invalid(path, "unknown electrode ", Quote(name), " (known: ", known, ")");
  }
  if (e->role != role) {
    return Invalid(path, Quote(name), " is a ", ElectrodeRoleName(e->role), " electrode, not a ",
                   role_name, " one (", role_name, " electrodes: ", known, ")");
  }
  instruments::Ion cell_ion;
  if (ToInstrumentIon(ion, &cell_ion) && !e->UsedWith(cell_ion)) {
    return Invalid(path, Quote(name), " is used in ", IonListText(*e), " cells, not with ion ",
                   ionloop::v1::Ion_Name(ion));
  }
  return absl::OkStatus();
}

bool IsLabelKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '/' ||
         c == '-';
}

bool IsCampaignIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ':' || c == '-';
}

// Empty (no campaign) or at most 128 characters of [A-Za-z0-9_.:-].
absl::Status CheckCampaignId(absl::string_view path, absl::string_view id) {
  if (id.size() > kMaxCampaignIdChars) {
    return Invalid(path, "must be at most ", kMaxCampaignIdChars, " characters, got ", id.size(),
                   " ", Quote(id));
  }
  for (size_t i = 0; i < id.size(); ++i) {
    if (!IsCampaignIdChar(id[i])) {
      return Invalid(path, "must contain only [A-Za-z0-9_.:-], got ", Quote(id),
                     " (bad character at ", i, ")");
    }
  }
  return absl::OkStatus();
}

// At most 64 labels; keys [a-z0-9_./-]{1,63}; values at most 256 bytes. Keys are
// checked in sorted order so that the first error does not depend on map order.
absl::Status CheckLabels(absl::string_view path,
                         const google::protobuf::Map<std::string, std::string>& labels) {
  RETURN_IF_ERROR(CheckSize(path, labels.size(), kMaxLabels, "labels"));
  std::vector<const std::string*> keys;
  keys.reserve(labels.size());
  for (const auto& [key, value] : labels) keys.push_back(&key);
  std::sort(keys.begin(), keys.end(),
            [](const std::string* a, const std::string* b) { return *a < *b; });
  for (const std::string* key : keys) {
    if (key->empty() || key->size() > kMaxLabelKeyBytes ||
        !std::all_of(key->begin(), key->end(), IsLabelKeyChar)) {
      return Invalid(path, "key must match [a-z0-9_./-]{1,63}, got ", Quote(*key));
    }
    const std::string& value = labels.at(*key);
    if (value.size() > kMaxLabelValueBytes) {
      return Invalid(absl::StrCat(path, "[", Quote(*key), "]"), "value must be at most ",
                     kMaxLabelValueBytes, " bytes, got ", value.size(), " bytes ", Quote(value));
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------
// Messages of the API, one function each, fields in field-number order.

absl::Status ValidateProtocol(const CyclingProtocol& p, absl::string_view path) {
  const auto& steps = p.charge_steps();
  if (steps.empty()) {
    RETURN_IF_ERROR(CheckNumber(Field(path, "charge_c_rate"), p.charge_c_rate(), kCRate));
  } else {
    // Ignored when charge_steps is set: 0 is fine, anything else must still make sense.
    if (p.charge_c_rate() != 0) {
      RETURN_IF_ERROR(CheckNumber(Field(path, "charge_c_rate"), p.charge_c_rate(), kCRate));
    }
    const std::string steps_path = Field(path, "charge_steps");
    RETURN_IF_ERROR(CheckSize(steps_path, steps.size(), kMaxChargeSteps, "steps"));
    for (int i = 0; i < steps.size(); ++i) {
      const std::string step = Element(steps_path, i);
      RETURN_IF_ERROR(CheckNumber(Field(step, "c_rate"), steps[i].c_rate(), kCRate));
      const std::string soc = Field(step, "until_soc_percent");
      RETURN_IF_ERROR(CheckNumber(soc, steps[i].until_soc_percent(), kStepSoc));
      if (i > 0 && !(steps[i].until_soc_percent() > steps[i - 1].until_soc_percent())) {
        return Invalid(soc, "must be > ", Element("charge_steps", i - 1), ".until_soc_percent (",
                       Num(steps[i - 1].until_soc_percent()), "), got ",
                       Num(steps[i].until_soc_percent()));
      }
    }
  }
  RETURN_IF_ERROR(CheckNumber(Field(path, "discharge_c_rate"), p.discharge_c_rate(), kCRate));
  const std::string v_min = Field(path, "voltage_min_v");
  RETURN_IF_ERROR(CheckNumber(v_min, p.voltage_min_v(), kCellVoltage));
  RETURN_IF_ERROR(CheckNumber(Field(path, "voltage_max_v"), p.voltage_max_v(), kCellVoltage));
  if (!(p.voltage_min_v() < p.voltage_max_v())) {
    return Invalid(v_min, "must be < voltage_max_v (", Num(p.voltage_max_v()), "), got ",
                   Num(p.voltage_min_v()));
  }
  RETURN_IF_ERROR(CheckNumber(Field(path, "temperature_c"), p.temperature_c(), kCellTemperature));
  RETURN_IF_ERROR(CheckNumber(Field(path, "rest_minutes"), p.rest_minutes(), kRestMinutes));
  return absl::OkStatus();
}

absl::Status ValidateCycling(const CyclingJob& job, absl::string_view path) {
  if (!job.has_cell()) return Invalid(Field(path, "cell"), "missing");
  RETURN_IF_ERROR(ValidateCellSpec(job.cell(), Field(path, "cell")));
  RETURN_IF_ERROR(CheckInt<uint32_t>(Field(path, "max_cycles"), job.max_cycles(), 1, kMaxCycles));
  const std::string curves = Field(path, "voltage_curve_cycles");
  RETURN_IF_ERROR(
      CheckSize(curves, job.voltage_curve_cycles_size(), kMaxVoltageCurveCycles, "cycles"));
  for (int i = 0; i < job.voltage_curve_cycles_size(); ++i) {
    RETURN_IF_ERROR(CheckInt<uint32_t>(Element(curves, i), job.voltage_curve_cycles(i), 1,
                                       job.max_cycles(), "max_cycles"));
  }
  return CheckDistinct(curves, job.voltage_curve_cycles());
}

absl::Status ValidateXrd(const XrdJob& job, absl::string_view path) {
  if (job.sample_id().empty() && job.structure().empty()) {
    return Invalid(path, "one of sample_id or structure must be set, got both empty");
  }
  RETURN_IF_ERROR(CheckText(Field(path, "sample_id"), job.sample_id(), kMaxNameBytes, false));
  RETURN_IF_ERROR(CheckText(Field(path, "structure"), job.structure(), kMaxStructureBytes, false));
  RETURN_IF_ERROR(
      CheckNumber(Field(path, "wavelength_angstrom"), job.wavelength_angstrom(), kWavelength));
  const std::string min = Field(path, "two_theta_min_deg");
  RETURN_IF_ERROR(CheckNumber(min, job.two_theta_min_deg(), kTwoTheta));
  RETURN_IF_ERROR(
      CheckNumber(Field(path, "two_theta_max_deg"), job.two_theta_max_deg(), kTwoTheta));
  if (!(job.two_theta_min_deg() < job.two_theta_max_deg())) {
    return Invalid(min, "must be < two_theta_max_deg (", Num(job.two_theta_max_deg()), "), got ",
                   Num(job.two_theta_min_deg()));
  }
  const std::string step = Field(path, "two_theta_step_deg");
  RETURN_IF_ERROR(CheckNumber(step, job.two_theta_step_deg(), kTwoThetaStep));
  const double points =
      std::floor((job.two_theta_max_deg() - job.two_theta_min_deg()) / job.two_theta_step_deg() +
                 1e-9) +
      1;
  if (points > static_cast<double>(kMaxXrdPoints)) {
    return Invalid(step, "gives ", Num(points), " points over ", Num(job.two_theta_min_deg()), "..",
                   Num(job.two_theta_max_deg()), "° (at most ", kMaxXrdPoints, "), got ",
                   Num(job.two_theta_step_deg()));
  }
  RETURN_IF_ERROR(CheckInt<uint32_t>(Field(path, "scans"), job.scans(), 1, kMaxScans));
  if (job.has_operando_cell()) {
    RETURN_IF_ERROR(ValidateCellSpec(job.operando_cell(), Field(path, "operando_cell")));
  }
  return absl::OkStatus();
}

absl::Status ValidateSimulation(const SimulationJob& job, absl::string_view path) {
  RETURN_IF_ERROR(CheckText(Field(path, "engine"), job.engine(), kMaxNameBytes, true));
  RETURN_IF_ERROR(CheckOneOf(Field(path, "salt"), job.salt(), kSimulationSalts, "salt"));
  RETURN_IF_ERROR(CheckText(Field(path, "solvent"), job.solvent(), kMaxNameBytes, true));
  RETURN_IF_ERROR(CheckNumber(Field(path, "salt_molality_mol_per_kg"),
                              job.salt_molality_mol_per_kg(), kMolality));
  RETURN_IF_ERROR(CheckNumber(Field(path, "temperature_k"), job.temperature_k(), kSimTemperature));
  RETURN_IF_ERROR(CheckNumber(Field(path, "timestep_fs"), job.timestep_fs(), kTimestep));
  RETURN_IF_ERROR(CheckInt<uint64_t>(Field(path, "steps"), job.steps(), 1, kMaxSimulationSteps));
  RETURN_IF_ERROR(CheckInt<uint64_t>(Field(path, "frame_interval_steps"),
                                     job.frame_interval_steps(), 1, job.steps(), "steps"));
  return CheckText(Field(path, "potential_model_id"), job.potential_model_id(), kMaxNameBytes,
                   false);
}

absl::Status ValidateLabel(const LabelJob& job, absl::string_view path) {
  RETURN_IF_ERROR(CheckOneOf(Field(path, "method"), job.method(), kLabelMethods, "method"));
  RETURN_IF_ERROR(ParseJobId(job.source_job_id(), Field(path, "source_job_id")).status());
  const std::string seqs = Field(path, "frame_seqs");
  if (job.frame_seqs().empty()) return Invalid(seqs, "must not be empty, got 0 frames");
  RETURN_IF_ERROR(CheckSize(seqs, job.frame_seqs_size(), kMaxFrameSeqs, "frames"));
  for (int i = 0; i < job.frame_seqs_size(); ++i) {
    if (job.frame_seqs(i) == 0) {
      return Invalid(Element(seqs, i), "must be >= 1 (measurement seqs are 1-based), got 0");
    }
  }
  return CheckDistinct(seqs, job.frame_seqs());
}

absl::Status ValidateSynthetic(const SyntheticJob& job, absl::string_view path) {
  RETURN_IF_ERROR(CheckInt<uint64_t>(Field(path, "measurements"), job.measurements(), 1,
                                     kMaxSyntheticMeasurements));
  RETURN_IF_ERROR(
      CheckInt<uint32_t>(Field(path, "interval_ms"), job.interval_ms(), 0, kMaxIntervalMs));
  RETURN_IF_ERROR(
      CheckInt<uint32_t>(Field(path, "payload_bytes"), job.payload_bytes(), 0, kMaxPayloadBytes));
  return CheckInt<uint64_t>(Field(path, "fail_after"), job.fail_after(), 0, job.measurements(),
                            "measurements");
}

// Model names: [a-z0-9_.-]{1,63}, so that "name@version" parses without escaping.
absl::Status CheckModelName(absl::string_view path, absl::string_view name) {
  if (name.find('@') != absl::string_view::npos) {
    return Invalid(path, "must match [a-z0-9_.-]{1,63} (no @version), got ", Quote(name));
  }
  return ParseModelRef(name, path).status();
}

absl::Status ValidateTrainingOptions(const TrainingOptions& o, absl::string_view path) {
  RETURN_IF_ERROR(
      CheckInt<uint32_t>(Field(path, "ensemble_members"), o.ensemble_members(), 0, kMaxMembers));
  RETURN_IF_ERROR(
      CheckSize(Field(path, "hidden_units"), o.hidden_units_size(), kMaxHiddenLayers, "layers"));
  for (int i = 0; i < o.hidden_units_size(); ++i) {
    RETURN_IF_ERROR(CheckInt<uint32_t>(Element(Field(path, "hidden_units"), i),
                                       o.hidden_units(i), 1, kMaxHiddenUnits));
  }
  RETURN_IF_ERROR(CheckInt<uint32_t>(Field(path, "max_epochs"), o.max_epochs(), 0, kMaxEpochs));
  if (o.learning_rate() != 0) {
    RETURN_IF_ERROR(CheckNumber(Field(path, "learning_rate"), o.learning_rate(), kLearningRate));
  }
  if (o.validation_fraction() != 0) {
    RETURN_IF_ERROR(CheckNumber(Field(path, "validation_fraction"), o.validation_fraction(),
                                kValidationFraction));
  }
  RETURN_IF_ERROR(CheckInt<uint32_t>(Field(path, "patience"), o.patience(), 0, kMaxEpochs));
  if (!o.embedding().empty()) {
    RETURN_IF_ERROR(
        CheckOneOf(Field(path, "embedding"), o.embedding(), kEmbeddings, "embedding"));
  }
  if (!o.base_model().empty()) {
    RETURN_IF_ERROR(ParseModelRef(o.base_model(), Field(path, "base_model")).status());
  }
  return absl::OkStatus();
}

absl::Status ValidateTraining(const TrainingJob& job, absl::string_view path) {
  RETURN_IF_ERROR(CheckEnum(Field(path, "kind"), ionloop::v1::ModelKind_descriptor(), job.kind(),
                            /*allow_unspecified=*/false));
  RETURN_IF_ERROR(CheckModelName(Field(path, "model_name"), job.model_name()));
  const std::string data = Field(path, "data");
  switch (job.data().source_case()) {
    case DatasetSource::kStore: {
      const DatasetSource::StoreQuery& q = job.data().store();
      const std::string store = Field(data, "store");
      RETURN_IF_ERROR(CheckCampaignId(Field(store, "campaign_id"), q.campaign_id()));
      RETURN_IF_ERROR(CheckEnum(Field(store, "ion"), ionloop::v1::Ion_descriptor(), q.ion(),
                                /*allow_unspecified=*/true));
      RETURN_IF_ERROR(CheckLabels(Field(store, "labels"), q.labels()));
      RETURN_IF_ERROR(CheckSize(Field(store, "job_ids"), q.job_ids_size(), kMaxFrameSeqs, "ids"));
      break;
    }
    case DatasetSource::kFolder:
      // The layout is checked when the job runs (it reads the folder); here, its form.
      RETURN_IF_ERROR(CheckText(Field(data, "folder"), job.data().folder(), kMaxPathBytes, true));
      break;
    case DatasetSource::SOURCE_NOT_SET:
      return Invalid(Field(data, "source"), "must be set (store or folder)");
  }
  return ValidateTrainingOptions(job.options(), Field(path, "options"));
}

}  // namespace

absl::Status ValidateCellSpec(const CellSpec& cell, absl::string_view path) {
  RETURN_IF_ERROR(CheckEnum(Field(path, "ion"), ionloop::v1::Ion_descriptor(), cell.ion(),
                            /*allow_unspecified=*/false));
  RETURN_IF_ERROR(CheckElectrode(Field(path, "positive_electrode"), cell.positive_electrode(),
                                 ElectrodeRole::kPositive, cell.ion()));
  RETURN_IF_ERROR(CheckElectrode(Field(path, "negative_electrode"), cell.negative_electrode(),
                                 ElectrodeRole::kNegative, cell.ion()));
  RETURN_IF_ERROR(CheckText(Field(path, "electrolyte"), cell.electrolyte(), kMaxNameBytes, false));
  RETURN_IF_ERROR(CheckEnum(Field(path, "design"), ionloop::v1::CellDesign_descriptor(),
                            cell.design(), /*allow_unspecified=*/false));
  RETURN_IF_ERROR(CheckNumber(Field(path, "nominal_capacity_ah"), cell.nominal_capacity_ah(),
                              kNominalCapacity));
  if (!cell.has_protocol()) return Invalid(Field(path, "protocol"), "missing");
  RETURN_IF_ERROR(ValidateProtocol(cell.protocol(), Field(path, "protocol")));
  const std::string eol = Field(path, "eol_soh_percent");
  RETURN_IF_ERROR(CheckFinite(eol, cell.eol_soh_percent()));
  if (cell.eol_soh_percent() != 0 &&
      !(cell.eol_soh_percent() > 0 && cell.eol_soh_percent() < 100)) {
    return Invalid(eol, "must be 0 (default: 80 %) or > 0 and < 100 %, got ",
                   Num(cell.eol_soh_percent()));
  }
  return absl::OkStatus();
}

absl::Status ValidateJobSpec(const JobSpec& spec, absl::string_view path) {
  switch (spec.kind_case()) {
    case JobSpec::kCycling:
      RETURN_IF_ERROR(ValidateCycling(spec.cycling(), Field(path, "cycling")));
      break;
    case JobSpec::kXrd:
      RETURN_IF_ERROR(ValidateXrd(spec.xrd(), Field(path, "xrd")));
      break;
    case JobSpec::kSimulation:
      RETURN_IF_ERROR(ValidateSimulation(spec.simulation(), Field(path, "simulation")));
      break;
    case JobSpec::kLabel:
      RETURN_IF_ERROR(ValidateLabel(spec.label(), Field(path, "label")));
      break;
    case JobSpec::kSynthetic:
      RETURN_IF_ERROR(ValidateSynthetic(spec.synthetic(), Field(path, "synthetic")));
      break;
    case JobSpec::kTraining:
      RETURN_IF_ERROR(ValidateTraining(spec.training(), Field(path, "training")));
      break;
    case JobSpec::KIND_NOT_SET:
      return Invalid(Field(path, "kind"),
                     "no job kind set (one of cycling, xrd, simulation, label, synthetic, "
                     "training)");
  }
  RETURN_IF_ERROR(
      CheckInt<int32_t>(Field(path, "priority"), spec.priority(), kMinPriority, kMaxPriority));
  RETURN_IF_ERROR(CheckCampaignId(Field(path, "campaign_id"), spec.campaign_id()));
  return CheckLabels(Field(path, "labels"), spec.labels());
}

absl::Status ValidateSubmitJobRequest(const ionloop::v1::SubmitJobRequest& request) {
  if (!request.has_spec()) return Invalid("spec", "missing");
  RETURN_IF_ERROR(ValidateJobSpec(request.spec(), "spec"));
  const std::string& key = request.idempotency_key();
  RETURN_IF_ERROR(CheckText("idempotency_key", key, kMaxIdempotencyKeyBytes, false));
  for (size_t i = 0; i < key.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(key[i]);
    if (c < 0x20 || c == 0x7f) {
      return Invalid("idempotency_key", "must be printable, got ", Quote(key),
                     " (control character at byte ", i, ")");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateListJobsRequest(const ionloop::v1::ListJobsRequest& request) {
  for (int i = 0; i < request.states_size(); ++i) {
    RETURN_IF_ERROR(CheckEnum(Element("states", i), ionloop::v1::JobState_descriptor(),
                              request.states(i), /*allow_unspecified=*/false));
  }
  RETURN_IF_ERROR(CheckEnum("kind", ionloop::v1::JobKind_descriptor(), request.kind(),
                            /*allow_unspecified=*/true));
  RETURN_IF_ERROR(CheckCampaignId("campaign_id", request.campaign_id()));
  RETURN_IF_ERROR(CheckLabels("labels", request.labels()));
  return CheckInt<uint32_t>("page_size", request.page_size(), 0, kMaxPageSize);
}

}  // namespace ionloop::orchestrator
