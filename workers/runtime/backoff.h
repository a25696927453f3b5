// Reconnect backoff: exponential growth with "full jitter" (AWS Architecture Blog,
// "Exponential Backoff And Jitter"): the n-th retry waits a uniformly random time in
// [0, min(cap, initial * multiplier^n)]. Spreading retries over the whole window keeps a
// fleet of workers from reconnecting in lockstep after an orchestrator restart.
//
// The schedule is a pure function of (policy, retry, random bits); `Backoff` adds the
// retry counter and an injected random source so that tests can seed it.
#ifndef IONLOOP_WORKERS_RUNTIME_BACKOFF_H_
#define IONLOOP_WORKERS_RUNTIME_BACKOFF_H_

#include <cstdint>
#include <functional>

#include "absl/time/time.h"

namespace ionloop::worker {

struct BackoffPolicy {
  absl::Duration initial = absl::Milliseconds(100);
  absl::Duration max = absl::Seconds(10);
  double multiplier = 2.0;  // ≥ 1
};

// The upper end of the window for retry `retry` (0 for the first retry):
// min(max, initial * multiplier^retry). Never overflows, whatever `retry` is.
absl::Duration BackoffCeiling(const BackoffPolicy& policy, uint32_t retry);

// The full-jitter delay: `random_bits` (uniform over 64 bits) scaled onto
// [0, BackoffCeiling(policy, retry)].
absl::Duration FullJitterBackoff(const BackoffPolicy& policy, uint32_t retry,
                                 uint64_t random_bits);

// The retry counter. Not thread-safe (one connection loop owns it).
class Backoff {
 public:
  using RandomSource = std::function<uint64_t()>;
  Backoff(BackoffPolicy policy, RandomSource random);

  // The delay before the next attempt; advances the counter.
  absl::Duration Next();
  // After a connection that worked: the next failure starts from `initial` again.
  void Reset() { retry_ = 0; }
  uint32_t retry() const { return retry_; }

 private:
  BackoffPolicy policy_;
  RandomSource random_;
  uint32_t retry_ = 0;
};

}  // namespace ionloop::worker

#endif  // IONLOOP_WORKERS_RUNTIME_BACKOFF_H_
