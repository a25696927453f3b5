#include "common/job_enums.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace ionloop {

v1::JobKind KindOf(const v1::JobSpec& spec) {
  switch (spec.kind_case()) {
    case v1::JobSpec::kCycling:
      return v1::JOB_KIND_CYCLING;
    case v1::JobSpec::kXrd:
      return v1::JOB_KIND_XRD;
    case v1::JobSpec::kSimulation:
      return v1::JOB_KIND_SIMULATION;
    case v1::JobSpec::kLabel:
      return v1::JOB_KIND_LABEL;
    case v1::JobSpec::kSynthetic:
      return v1::JOB_KIND_SYNTHETIC;
    case v1::JobSpec::kTraining:
      return v1::JOB_KIND_TRAINING;
    case v1::JobSpec::KIND_NOT_SET:
      break;
  }
  return v1::JOB_KIND_UNSPECIFIED;
}

bool RunsInOrchestrator(v1::JobKind kind) { return kind == v1::JOB_KIND_TRAINING; }

bool IsTerminal(v1::JobState state) {
  switch (state) {
    case v1::JOB_STATE_SUCCEEDED:
    case v1::JOB_STATE_FAILED:
    case v1::JOB_STATE_CANCELLED:
    case v1::JOB_STATE_LOST:
      return true;
    default:
      return false;
  }
}

std::string StateName(v1::JobState state) {
  const std::string& name = v1::JobState_Name(state);
  if (name.empty()) return absl::StrCat("STATE_", static_cast<int>(state));
  return std::string(absl::StripPrefix(name, "JOB_STATE_"));
}

std::string KindName(v1::JobKind kind) {
  const std::string& name = v1::JobKind_Name(kind);
  if (name.empty()) return absl::StrCat("kind_", static_cast<int>(kind));
  return absl::AsciiStrToLower(absl::StripPrefix(name, "JOB_KIND_"));
}

std::string ModelKindName(v1::ModelKind kind) {
  const std::string& name = v1::ModelKind_Name(kind);
  if (name.empty()) return absl::StrCat("model_kind_", static_cast<int>(kind));
  return absl::AsciiStrToLower(absl::StripPrefix(name, "MODEL_KIND_"));
}

}  // namespace ionloop
