// The reconnect backoff: exponential ceiling with a cap, full jitter from a seeded RNG.
#include "workers/runtime/backoff.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace ionloop::worker {
namespace {

BackoffPolicy Default() { return BackoffPolicy{}; }  // 100 ms ×2 up to 10 s

TEST(BackoffCeiling, DoublesFromInitialUpToTheCap) {
  const BackoffPolicy p = Default();
  EXPECT_EQ(BackoffCeiling(p, 0), absl::Milliseconds(100));
  EXPECT_EQ(BackoffCeiling(p, 1), absl::Milliseconds(200));
  EXPECT_EQ(BackoffCeiling(p, 2), absl::Milliseconds(400));
  EXPECT_EQ(BackoffCeiling(p, 6), absl::Milliseconds(6400));
  EXPECT_EQ(BackoffCeiling(p, 7), absl::Seconds(10));  // 12.8 s capped
  EXPECT_EQ(BackoffCeiling(p, 8), absl::Seconds(10));
}

TEST(BackoffCeiling, NeverOverflowsForHugeRetryCounts) {
  const BackoffPolicy p = Default();
  EXPECT_EQ(BackoffCeiling(p, 1000), absl::Seconds(10));
  EXPECT_EQ(BackoffCeiling(p, UINT32_MAX), absl::Seconds(10));
}

TEST(BackoffCeiling, IsMonotonic) {
  const BackoffPolicy p{absl::Milliseconds(7), absl::Seconds(3), 1.7};
  absl::Duration previous = absl::ZeroDuration();
  for (uint32_t retry = 0; retry < 64; ++retry) {
    const absl::Duration c = BackoffCeiling(p, retry);
    EXPECT_GE(c, previous) << retry;
    EXPECT_LE(c, absl::Seconds(3)) << retry;
    previous = c;
  }
}

TEST(BackoffCeiling, OddPoliciesAreClamped) {
  // A multiplier below 1 would shrink: treated as 1. A cap below initial: initial.
  EXPECT_EQ(BackoffCeiling({absl::Milliseconds(50), absl::Seconds(1), 0.5}, 5),
            absl::Milliseconds(50));
  EXPECT_EQ(BackoffCeiling({absl::Milliseconds(50), absl::Milliseconds(10), 2}, 0),
            absl::Milliseconds(50));
}

TEST(FullJitterBackoff, SpansZeroToTheCeiling) {
  const BackoffPolicy p = Default();
  EXPECT_EQ(FullJitterBackoff(p, 3, 0), absl::ZeroDuration());
  const absl::Duration top = FullJitterBackoff(p, 3, UINT64_MAX);
  EXPECT_LE(top, absl::Milliseconds(800));
  EXPECT_GT(top, absl::Milliseconds(799));
  EXPECT_EQ(FullJitterBackoff(p, 3, uint64_t{1} << 63), absl::Milliseconds(400));  // the middle
}

TEST(Backoff, SeededDelaysStayWithinTheirWindowAndRepeat) {
  auto run = [](uint64_t seed) {
    std::mt19937_64 rng(seed);
    Backoff backoff(Default(), [&rng] { return rng(); });
    std::vector<absl::Duration> delays;
    for (int i = 0; i < 20; ++i) delays.push_back(backoff.Next());
    return delays;
  };
  const std::vector<absl::Duration> a = run(42);
  const std::vector<absl::Duration> b = run(42);
  const std::vector<absl::Duration> c = run(43);
  EXPECT_EQ(a, b);  // same seed, same schedule
  EXPECT_NE(a, c);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_GE(a[i], absl::ZeroDuration()) << i;
    EXPECT_LE(a[i], BackoffCeiling(Default(), static_cast<uint32_t>(i))) << i;
  }
}

TEST(Backoff, JitterSpreadsAcrossTheWindow) {
  // Many workers at the same retry count must not pick the same delay: with a seeded
  // RNG, 1000 draws at retry 7 (window 0..10 s) cover both halves of it.
  std::mt19937_64 rng(7);
  int low = 0;
  int high = 0;
  for (int i = 0; i < 1000; ++i) {
    const absl::Duration d = FullJitterBackoff(Default(), 7, rng());
    (d < absl::Seconds(5) ? low : high)++;
  }
  EXPECT_GT(low, 400);
  EXPECT_GT(high, 400);
}

TEST(Backoff, ResetStartsOverAtTheInitialWindow) {
  Backoff backoff(Default(), [] { return UINT64_MAX; });  // always the top of the window
  EXPECT_LE(backoff.Next(), absl::Milliseconds(100));
  EXPECT_GT(backoff.Next(), absl::Milliseconds(199));
  EXPECT_GT(backoff.Next(), absl::Milliseconds(399));
  EXPECT_EQ(backoff.retry(), 3u);
  backoff.Reset();
  EXPECT_EQ(backoff.retry(), 0u);
  EXPECT_LE(backoff.Next(), absl::Milliseconds(100));
}

}  // namespace
}  // namespace ionloop::worker
