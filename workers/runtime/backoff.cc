#include "workers/runtime/backoff.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace ionloop::worker {

absl::Duration BackoffCeiling(const BackoffPolicy& policy, uint32_t retry) {
  const absl::Duration initial = std::max(policy.initial, absl::ZeroDuration());
  const absl::Duration cap = std::max(policy.max, initial);
  const double multiplier = std::max(policy.multiplier, 1.0);
  // In double seconds: multiplier^retry overflows to +inf, never wraps.
  const double seconds =
      absl::ToDoubleSeconds(initial) * std::pow(multiplier, static_cast<double>(retry));
  if (!(seconds < absl::ToDoubleSeconds(cap))) return cap;  // also catches inf / NaN
  return absl::Seconds(seconds);
}

absl::Duration FullJitterBackoff(const BackoffPolicy& policy, uint32_t retry,
                                 uint64_t random_bits) {
  const absl::Duration ceiling = BackoffCeiling(policy, retry);
  // The top 53 bits give a uniform double in [0, 1).
  const double unit = static_cast<double>(random_bits >> 11) * 0x1.0p-53;
  return absl::Nanoseconds(std::floor(unit * absl::ToDoubleNanoseconds(ceiling)));
}

Backoff::Backoff(BackoffPolicy policy, RandomSource random)
    : policy_(std::move(policy)), random_(std::move(random)) {}

absl::Duration Backoff::Next() {
  const absl::Duration delay = FullJitterBackoff(policy_, retry_, random_());
  if (retry_ < UINT32_MAX) ++retry_;
  return delay;
}

}  // namespace ionloop::worker
