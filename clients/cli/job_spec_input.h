// Where `ionloop submit` gets its JobSpec: a JSON file (or stdin), or the quick cycling
// flags, then the --priority / --campaign / --label overrides.
#ifndef IONLOOP_CLIENTS_CLI_JOB_SPEC_INPUT_H_
#define IONLOOP_CLIENTS_CLI_JOB_SPEC_INPUT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include <google/protobuf/message.h>

#include "ionloop/v1/job.pb.h"

namespace ionloop::cli {

// A JobSpec in protobuf's JSON mapping ("-" reads stdin). Unknown fields are errors, so
// that a misspelt field does not silently fall back to its default. INVALID_ARGUMENT
// with the parser's message, NOT_FOUND when the file cannot be read.
absl::StatusOr<ionloop::v1::JobSpec> LoadJobSpec(const std::string& path);
// Any message from a JSON file ("-": stdin), unknown fields refused.
absl::Status LoadJsonMessage(const std::string& path, google::protobuf::Message* message);
absl::StatusOr<ionloop::v1::JobSpec> ParseJobSpecJson(absl::string_view json,
                                                      absl::string_view source);

// `submit --cycling`: unset fields take the defaults listed in `ionloop help submit`.
struct QuickCyclingOptions {
  std::optional<std::string> ion;  // li, na, k, mg (or ION_NA)
  std::optional<std::string> positive;
  std::optional<std::string> negative;
  std::optional<std::string> electrolyte;
  std::optional<std::string> design;  // coin, pouch, three-electrode, ...
  std::optional<double> capacity_ah;
  std::optional<double> charge_c;
  std::optional<double> discharge_c;
  std::optional<double> v_min;
  std::optional<double> v_max;
  std::optional<double> temperature_c;
  std::optional<double> rest_minutes;
  std::optional<double> eol_soh_percent;
  std::optional<uint32_t> max_cycles;
  std::vector<uint32_t> curve_cycles;
};
absl::StatusOr<ionloop::v1::JobSpec> BuildQuickCyclingSpec(const QuickCyclingOptions& options);

// Flags that apply to any spec, file or quick.
struct SpecOverrides {
  std::optional<int32_t> priority;
  std::optional<std::string> campaign_id;
  std::vector<std::pair<std::string, std::string>> labels;  // added to the spec's own
};
void ApplySpecOverrides(const SpecOverrides& overrides, ionloop::v1::JobSpec& spec);

// Enum values from flag text: "queued" / "QUEUED" / "JOB_STATE_QUEUED", and the like.
absl::StatusOr<ionloop::v1::JobState> ParseJobState(absl::string_view text);
absl::StatusOr<ionloop::v1::JobKind> ParseJobKind(absl::string_view text);
absl::StatusOr<ionloop::v1::Ion> ParseIon(absl::string_view text);
absl::StatusOr<ionloop::v1::CellDesign> ParseCellDesign(absl::string_view text);

}  // namespace ionloop::cli

#endif  // IONLOOP_CLIENTS_CLI_JOB_SPEC_INPUT_H_
