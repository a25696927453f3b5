// Job ids as users see them ("job-42") and as the store keys them (42).
#ifndef IONLOOP_COMMON_JOB_ID_H_
#define IONLOOP_COMMON_JOB_ID_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ionloop {

std::string FormatJobId(int64_t key);

// INVALID_ARGUMENT naming `field` when `id` is not of the form "job-<n>", n ≥ 1.
absl::StatusOr<int64_t> ParseJobId(absl::string_view id, absl::string_view field = "job_id");

// The same for campaigns: "campaign-<n>".
std::string FormatCampaignId(int64_t key);
absl::StatusOr<int64_t> ParseCampaignId(absl::string_view id,
                                        absl::string_view field = "campaign_id");

}  // namespace ionloop

#endif  // IONLOOP_COMMON_JOB_ID_H_
