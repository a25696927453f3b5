#include "common/job_id.h"

#include <cstdint>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ionloop {
namespace {

using ::testing::HasSubstr;

TEST(JobIdTest, FormatsWithPrefix) {
  EXPECT_EQ(FormatJobId(1), "job-1");
  EXPECT_EQ(FormatJobId(42), "job-42");
}

TEST(JobIdTest, RoundTrips) {
  for (int64_t key : {int64_t{1}, int64_t{7}, int64_t{1000}, int64_t{123456789012},
                      std::numeric_limits<int64_t>::max()}) {
    absl::StatusOr<int64_t> parsed = ParseJobId(FormatJobId(key));
    ASSERT_TRUE(parsed.ok()) << FormatJobId(key) << ": " << parsed.status();
    EXPECT_EQ(*parsed, key);
  }
}

TEST(JobIdTest, RejectsMalformed) {
  for (const char* id : {"", "job-0", "job-", "job-x", "JOB-1", "job--1", "job-+1", " job-1",
                         "job-1x", "job-1.5", "1", "job_1", "job-99999999999999999999"}) {
    absl::StatusOr<int64_t> parsed = ParseJobId(id);
    ASSERT_FALSE(parsed.ok()) << "accepted \"" << id << "\" as " << *parsed;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_THAT(parsed.status().message(), HasSubstr("job_id")) << id;
  }
}

// absl::SimpleAtoi skips surrounding whitespace and accepts leading zeros, so ParseJobId
// currently takes "job-1 " and "job-01" as job 1 (ids that FormatJobId never produces).
// Enable once common/job_id.cc checks that every character after "job-" is a digit and
// that there is no leading zero.
TEST(JobIdTest, RejectsNonCanonicalForms) {
  for (const char* id : {"job-1 ", "job-1\n", "job-01", "job-001"}) {
    EXPECT_FALSE(ParseJobId(id).ok()) << "accepted \"" << id << "\"";
  }
}

TEST(JobIdTest, MessageNamesFieldAndValue) {
  absl::StatusOr<int64_t> parsed = ParseJobId("job-x", "spec.label.source_job_id");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(parsed.status().message(), HasSubstr("spec.label.source_job_id"));
  EXPECT_THAT(parsed.status().message(), HasSubstr("job-x"));
}

TEST(JobIdTest, LongInputIsCutInMessage) {
  const std::string id(10'000, 'j');
  absl::StatusOr<int64_t> parsed = ParseJobId(id);
  ASSERT_FALSE(parsed.ok());
  EXPECT_LT(parsed.status().message().size(), 200u);
}

}  // namespace
}  // namespace ionloop
