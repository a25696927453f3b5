#include "clients/cli/job_spec_input.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"

namespace ionloop::cli {
namespace {

using ionloop::v1::JobSpec;

// Finds "<prefix><TEXT>" in `descriptor`, accepting lower case, '-' for '_' and the full
// name; the UNSPECIFIED value is not a choice.
absl::StatusOr<int> ParseEnum(const google::protobuf::EnumDescriptor* descriptor,
                              absl::string_view prefix, absl::string_view what,
                              absl::string_view text) {
  std::string name = absl::StrReplaceAll(absl::AsciiStrToUpper(text), {{"-", "_"}});
  if (!absl::StartsWith(name, prefix)) name = absl::StrCat(prefix, name);
  const google::protobuf::EnumValueDescriptor* value = descriptor->FindValueByName(name);
  if (value != nullptr && value->number() != 0) return value->number();
  std::vector<std::string> choices;
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor* v = descriptor->value(i);
    if (v->number() == 0) continue;
    choices.push_back(absl::StrReplaceAll(
        absl::AsciiStrToLower(absl::StripPrefix(v->name(), prefix)), {{"_", "-"}}));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown ", what, " '", text, "' (one of ", absl::StrJoin(choices, ", "), ")"));
}

// The JSON parser's messages can span lines (with a caret under the error); the CLI
// prints one-line errors.
std::string OneLine(absl::string_view text) {
  std::string out;
  for (absl::string_view part : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    part = absl::StripAsciiWhitespace(part);
    if (part == "^") continue;
    absl::StrAppend(&out, out.empty() ? "" : " ", part);
  }
  return out;
}

// Per-ion defaults for the quick cycling job: a common full cell of each chemistry.
struct IonDefaults {
  const char* positive;
  const char* negative;
  const char* electrolyte;
  double v_min;
  double v_max;
};

const IonDefaults* DefaultsFor(ionloop::v1::Ion ion) {
  static const IonDefaults kLi = {"NMC811", "graphite", "1 M LiPF6 in EC/EMC 3:7", 2.8, 4.2};
  static const IonDefaults kNa = {"NVPF", "hard-carbon", "1 M NaPF6 in EC/PC", 2.0, 4.25};
  switch (ion) {
    case ionloop::v1::ION_LI:
      return &kLi;
    case ionloop::v1::ION_NA:
      return &kNa;
    default:
      return nullptr;  // K and Mg cells vary too much to guess
  }
}

}  // namespace

absl::Status ParseJsonMessage(absl::string_view json, absl::string_view source,
                              google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), message, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": not a valid ",
                                                   message->GetDescriptor()->name(), " in JSON: ",
                                                   OneLine(std::string(status.message()))));
  }
  return absl::OkStatus();
}

absl::Status LoadJsonMessage(const std::string& path, google::protobuf::Message* message) {
  std::stringstream contents;
  if (path == "-") {
    contents << std::cin.rdbuf();
    return ParseJsonMessage(contents.str(), "<stdin>", message);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  contents << in.rdbuf();
  if (in.bad()) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  return ParseJsonMessage(contents.str(), path, message);
}

absl::StatusOr<JobSpec> ParseJobSpecJson(absl::string_view json, absl::string_view source) {
  JobSpec spec;
  RETURN_IF_ERROR(ParseJsonMessage(json, source, &spec));
  return spec;
}

absl::StatusOr<JobSpec> LoadJobSpec(const std::string& path) {
  JobSpec spec;
  RETURN_IF_ERROR(LoadJsonMessage(path, &spec));
  return spec;
}

absl::StatusOr<JobSpec> BuildQuickCyclingSpec(const QuickCyclingOptions& o) {
  ionloop::v1::Ion ion = ionloop::v1::ION_LI;
  if (o.ion.has_value()) {
    absl::StatusOr<ionloop::v1::Ion> parsed = ParseIon(*o.ion);
    if (!parsed.ok())
      return absl::InvalidArgumentError(absl::StrCat("--ion: ", parsed.status().message()));
    ion = *parsed;
  }
  ionloop::v1::CellDesign design = ionloop::v1::CELL_DESIGN_COIN;
  if (o.design.has_value()) {
    absl::StatusOr<ionloop::v1::CellDesign> parsed = ParseCellDesign(*o.design);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--design: ", parsed.status().message()));
    }
    design = *parsed;
  }
  const IonDefaults* defaults = DefaultsFor(ion);
  if (defaults == nullptr &&
      !(o.positive && o.negative && o.v_min.has_value() && o.v_max.has_value())) {
    return absl::InvalidArgumentError(
        absl::StrCat("--ion ", *o.ion,
                     " has no default cell: give --positive, --negative, --v-min and --v-max"));
  }

  JobSpec spec;
  ionloop::v1::CyclingJob* cycling = spec.mutable_cycling();
  cycling->set_max_cycles(o.max_cycles.value_or(500));
  for (uint32_t c : o.curve_cycles) cycling->add_voltage_curve_cycles(c);
  ionloop::v1::CellSpec* cell = cycling->mutable_cell();
  cell->set_ion(ion);
  cell->set_positive_electrode(o.positive.value_or(defaults ? defaults->positive : ""));
  cell->set_negative_electrode(o.negative.value_or(defaults ? defaults->negative : ""));
  cell->set_electrolyte(o.electrolyte.value_or(defaults ? defaults->electrolyte : ""));
  cell->set_design(design);
  cell->set_nominal_capacity_ah(o.capacity_ah.value_or(0.005));
  cell->set_eol_soh_percent(o.eol_soh_percent.value_or(0));  // 0: the server's 80 %
  ionloop::v1::CyclingProtocol* protocol = cell->mutable_protocol();
  protocol->set_charge_c_rate(o.charge_c.value_or(1.0));
  protocol->set_discharge_c_rate(o.discharge_c.value_or(1.0));
  protocol->set_voltage_min_v(o.v_min.value_or(defaults ? defaults->v_min : 0));
  protocol->set_voltage_max_v(o.v_max.value_or(defaults ? defaults->v_max : 0));
  protocol->set_temperature_c(o.temperature_c.value_or(25.0));
  protocol->set_rest_minutes(o.rest_minutes.value_or(0));
  return spec;
}

void ApplySpecOverrides(const SpecOverrides& overrides, JobSpec& spec) {
  if (overrides.priority.has_value()) spec.set_priority(*overrides.priority);
  if (overrides.campaign_id.has_value()) spec.set_campaign_id(*overrides.campaign_id);
  for (const auto& [key, value] : overrides.labels) (*spec.mutable_labels())[key] = value;
}

absl::StatusOr<ionloop::v1::JobState> ParseJobState(absl::string_view text) {
  absl::StatusOr<int> v =
      ParseEnum(ionloop::v1::JobState_descriptor(), "JOB_STATE_", "job state", text);
  if (!v.ok()) return v.status();
  return static_cast<ionloop::v1::JobState>(*v);
}

absl::StatusOr<ionloop::v1::JobKind> ParseJobKind(absl::string_view text) {
  absl::StatusOr<int> v =
      ParseEnum(ionloop::v1::JobKind_descriptor(), "JOB_KIND_", "job kind", text);
  if (!v.ok()) return v.status();
  return static_cast<ionloop::v1::JobKind>(*v);
}

absl::StatusOr<ionloop::v1::Ion> ParseIon(absl::string_view text) {
  absl::StatusOr<int> v = ParseEnum(ionloop::v1::Ion_descriptor(), "ION_", "ion", text);
  if (!v.ok()) return v.status();
  return static_cast<ionloop::v1::Ion>(*v);
}

absl::StatusOr<ionloop::v1::CellDesign> ParseCellDesign(absl::string_view text) {
  absl::StatusOr<int> v =
      ParseEnum(ionloop::v1::CellDesign_descriptor(), "CELL_DESIGN_", "cell design", text);
  if (!v.ok()) return v.status();
  return static_cast<ionloop::v1::CellDesign>(*v);
}

}  // namespace ionloop::cli
