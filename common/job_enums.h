// Facts about the job enums that every process shares: the kind a spec has, which
// states are final, and the names users type and read.
#ifndef IONLOOP_COMMON_JOB_ENUMS_H_
#define IONLOOP_COMMON_JOB_ENUMS_H_

#include <string>

#include "ionloop/v1/job.pb.h"

namespace ionloop {

// JOB_KIND_UNSPECIFIED when no kind is set.
ionloop::v1::JobKind KindOf(const ionloop::v1::JobSpec& spec);

// Kinds that ionloopd runs itself (training) and never hands to a worker.
bool RunsInOrchestrator(ionloop::v1::JobKind kind);

// SUCCEEDED, FAILED, CANCELLED and LOST: nothing follows them.
bool IsTerminal(ionloop::v1::JobState state);

// "QUEUED", "RUNNING", ...: the enum name without its prefix.
std::string StateName(ionloop::v1::JobState state);
// "cycling", "xrd", ...
std::string KindName(ionloop::v1::JobKind kind);
// "lifetime", "early_fade".
std::string ModelKindName(ionloop::v1::ModelKind kind);

}  // namespace ionloop

#endif  // IONLOOP_COMMON_JOB_ENUMS_H_
