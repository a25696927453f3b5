// Private to models/campaign: numbers that describe a charging protocol's shape, shared by
// the surrogate's inputs and the design space in which SelectBatch measures distances.
#ifndef IONLOOP_MODELS_CAMPAIGN_CAMPAIGN_FEATURES_INTERNAL_H_
#define IONLOOP_MODELS_CAMPAIGN_CAMPAIGN_FEATURES_INTERNAL_H_

#include <array>
#include <string>
#include <vector>

#include "instruments/cycler/cycler_types.h"

namespace ionloop::models::campaign::internal {

// The charge rate (C) the cycler applies at `soc_percent` (0..100) of the protocol, its
// steps as the cycler runs them: each step until its SOC, then min(1C, last rate) to 100 %;
// no steps: charge_c_rate throughout.
double ChargeRateAt(const instruments::cycler::CyclingProtocol& protocol, double soc_percent);

// Hours of constant-current charge from `from_percent` to `to_percent` SOC.
double ChargeHours(const instruments::cycler::CyclingProtocol& protocol, double from_percent,
                   double to_percent);

// log10 of the mean charge rate (C) over the SOC bins 0-20, 20-40, 40-60 and 60-80 %
// (bin width / time spent in the bin). A parametrization-free description of a
// single- or multi-step charge: protocols that differ only in where a step ends still get
// different values (the lifetime featurizer's effective and maximum rates do not see it).
constexpr int kChargeShapeBins = 4;
std::array<float, kChargeShapeBins> ChargeShapeFeatures(
    const instruments::cycler::CyclingProtocol& protocol);
std::vector<std::string> ChargeShapeNames();

}  // namespace ionloop::models::campaign::internal

#endif  // IONLOOP_MODELS_CAMPAIGN_CAMPAIGN_FEATURES_INTERNAL_H_
