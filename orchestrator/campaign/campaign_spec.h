// Campaign specs: validation (every error names the field and the value) and the
// conversion to the campaign science's plain structs (models/campaign).
#ifndef IONLOOP_ORCHESTRATOR_CAMPAIGN_CAMPAIGN_SPEC_H_
#define IONLOOP_ORCHESTRATOR_CAMPAIGN_CAMPAIGN_SPEC_H_

#include "absl/status/statusor.h"
#include "ionloop/v1/campaign.pb.h"
#include "models/campaign/campaign_science.h"

namespace ionloop::orchestrator {

// Defaults the spec leaves to the server.
inline constexpr uint32_t kDefaultParallel = 8;
inline constexpr uint32_t kDefaultCampaignMaxCycles = 3000;


// INVALID_ARGUMENT "spec.search_space.charge.c1_rate.max: ..." style messages. Electrode
// names are checked against the table later, when the candidates are enumerated.
absl::Status ValidateCampaignSpec(const ionloop::v1::CampaignSpec& spec,
                                  absl::string_view path = "spec");

models::campaign::SearchSpace SearchSpaceOf(const ionloop::v1::SearchSpace& space);
models::campaign::AcquisitionOptions AcquisitionOf(const ionloop::v1::CampaignSpec& spec);
uint32_t ParallelOf(const ionloop::v1::CampaignSpec& spec);
uint32_t MaxCyclesOf(const ionloop::v1::CampaignSpec& spec);

}  // namespace ionloop::orchestrator

#endif  // IONLOOP_ORCHESTRATOR_CAMPAIGN_CAMPAIGN_SPEC_H_
