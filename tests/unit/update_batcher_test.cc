// Coalescing emitted measurements into JobUpdates: count and byte limits, checkpoints,
// progress-only updates.
#include "workers/runtime/update_batcher.h"

#include <gtest/gtest.h>

#include <vector>

namespace ionloop::worker {
namespace {

std::vector<v1::Measurement> Samples(size_t n, size_t payload_bytes = 0) {
  std::vector<v1::Measurement> out(n);
  for (size_t i = 0; i < n; ++i) {
    out[i].set_seq(i + 1);
    out[i].mutable_synthetic()->set_value(static_cast<double>(i));
    if (payload_bytes > 0) out[i].mutable_synthetic()->set_payload(std::string(payload_bytes, 'x'));
  }
  return out;
}

TEST(UpdateBatcher, CutsFullBatchesAndKeepsTheRest) {
  UpdateBatcher b(BatchLimits{256, 1 << 20});
  std::vector<v1::JobUpdate> ready = b.Add(Samples(1000), 0.25, "");
  ASSERT_EQ(ready.size(), 3u);
  for (const auto& u : ready) {
    EXPECT_EQ(u.measurements_size(), 256);
    EXPECT_DOUBLE_EQ(u.progress(), 0.25);
    EXPECT_TRUE(u.checkpoint().empty());
  }
  EXPECT_EQ(ready[1].measurements(0).seq(), 257u);  // in order
  EXPECT_EQ(b.pending_measurements(), 1000u - 768u);
  auto rest = b.TakeAll();
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(rest->measurements_size(), 232);
  EXPECT_EQ(rest->measurements(0).seq(), 769u);
  EXPECT_FALSE(b.TakeAll().has_value());
}

TEST(UpdateBatcher, OneAtATimeFillsTheSameBatch) {
  UpdateBatcher b(BatchLimits{4, 1 << 20});
  int cut = 0;
  for (int i = 0; i < 10; ++i) {
    auto ready = b.Add(Samples(1), (i + 1) / 10.0, "");
    for (const auto& u : ready) {
      EXPECT_EQ(u.measurements_size(), 4);
      ++cut;
    }
  }
  EXPECT_EQ(cut, 2);
  EXPECT_EQ(b.pending_measurements(), 2u);
  EXPECT_DOUBLE_EQ(b.TakeAll()->progress(), 1.0);
}

TEST(UpdateBatcher, RespectsTheByteLimit) {
  UpdateBatcher b(BatchLimits{256, 10'000});
  auto ready = b.Add(Samples(10, 3000), 0.5, "");  // ~3 per update
  size_t total = 0;
  for (const auto& u : ready) {
    EXPECT_LE(u.ByteSizeLong(), 10'000u + 100);
    EXPECT_GE(u.measurements_size(), 1);
    total += static_cast<size_t>(u.measurements_size());
  }
  if (auto rest = b.TakeAll()) total += static_cast<size_t>(rest->measurements_size());
  EXPECT_EQ(total, 10u);
  EXPECT_GE(ready.size(), 3u);
}

TEST(UpdateBatcher, AMeasurementBiggerThanTheLimitTravelsAlone) {
  UpdateBatcher b(BatchLimits{256, 1000});
  auto ready = b.Add(Samples(3, 5000), 0.5, "");
  ASSERT_EQ(ready.size(), 3u);
  for (const auto& u : ready) EXPECT_EQ(u.measurements_size(), 1);
}

TEST(UpdateBatcher, ACheckpointCutsAtOnceWithTheMeasurementsBeforeIt) {
  UpdateBatcher b(BatchLimits{256, 1 << 20});
  EXPECT_TRUE(b.Add(Samples(10), 0.1, "").empty());
  auto ready = b.Add(Samples(5), 0.2, "state-15");
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].measurements_size(), 15);
  EXPECT_EQ(ready[0].checkpoint(), "state-15");
  EXPECT_DOUBLE_EQ(ready[0].progress(), 0.2);
  EXPECT_FALSE(b.has_pending());
}

TEST(UpdateBatcher, ABigCheckpointGoesInAnUpdateOfItsOwn) {
  UpdateBatcher b(BatchLimits{256, 10'000});
  auto ready = b.Add(Samples(5, 1000), 0.5, std::string(9'000, 'c'));
  ASSERT_EQ(ready.size(), 2u);
  EXPECT_EQ(ready[0].measurements_size(), 5);
  EXPECT_TRUE(ready[0].checkpoint().empty());
  EXPECT_EQ(ready[1].measurements_size(), 0);
  EXPECT_EQ(ready[1].checkpoint().size(), 9'000u);
}

TEST(UpdateBatcher, ProgressAloneMakesAnUpdate) {
  UpdateBatcher b(BatchLimits{});
  EXPECT_FALSE(b.has_pending());
  EXPECT_TRUE(b.Add({}, 0.4, "").empty());
  EXPECT_TRUE(b.has_pending());
  auto u = b.TakeAll();
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->measurements_size(), 0);
  EXPECT_DOUBLE_EQ(u->progress(), 0.4);
  EXPECT_FALSE(b.has_pending());
}

TEST(UpdateBatcher, NothingPendingAfterAnExactlyFullBatch) {
  UpdateBatcher b(BatchLimits{4, 1 << 20});
  auto ready = b.Add(Samples(8), 1.0, "");
  EXPECT_EQ(ready.size(), 2u);
  EXPECT_FALSE(b.has_pending());
}

}  // namespace
}  // namespace ionloop::worker
