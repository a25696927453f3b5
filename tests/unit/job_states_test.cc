#include "orchestrator/jobs/job_states.h"

#include <gtest/gtest.h>

namespace ionloop::orchestrator {
namespace {

using v1::JobState;

constexpr JobState kAll[] = {v1::JOB_STATE_QUEUED,    v1::JOB_STATE_ASSIGNED,
                             v1::JOB_STATE_RUNNING,   v1::JOB_STATE_RETRYING,
                             v1::JOB_STATE_SUCCEEDED, v1::JOB_STATE_FAILED,
                             v1::JOB_STATE_CANCELLED, v1::JOB_STATE_LOST};

TEST(JobStatesTest, TheDesignedPathsAreLegal) {
  EXPECT_TRUE(IsLegalTransition(v1::JOB_STATE_QUEUED, v1::JOB_STATE_ASSIGNED));
  EXPECT_TRUE(IsLegalTransition(v1::JOB_STATE_ASSIGNED, v1::JOB_STATE_RUNNING));
  EXPECT_TRUE(IsLegalTransition(v1::JOB_STATE_RUNNING, v1::JOB_STATE_SUCCEEDED));
  EXPECT_TRUE(IsLegalTransition(v1::JOB_STATE_RUNNING, v1::JOB_STATE_FAILED));
  EXPECT_TRUE(IsLegalTransition(v1::JOB_STATE_RUNNING, v1::JOB_STATE_LOST));
  EXPECT_TRUE(IsLegalTransition(v1::JOB_STATE_RUNNING, v1::JOB_STATE_RETRYING));
  EXPECT_TRUE(IsLegalTransition(v1::JOB_STATE_RETRYING, v1::JOB_STATE_ASSIGNED));
  EXPECT_TRUE(IsLegalTransition(v1::JOB_STATE_RETRYING, v1::JOB_STATE_FAILED));
  EXPECT_TRUE(IsLegalTransition(v1::JOB_STATE_ASSIGNED, v1::JOB_STATE_SUCCEEDED));
}

TEST(JobStatesTest, EveryLiveStateCanBeCancelled) {
  for (JobState s : kAll) {
    EXPECT_EQ(IsLegalTransition(s, v1::JOB_STATE_CANCELLED), !IsTerminal(s)) << StateName(s);
  }
}

TEST(JobStatesTest, TerminalStatesAreFinal) {
  for (JobState from : kAll) {
    if (!IsTerminal(from)) continue;
    for (JobState to : kAll) {
      EXPECT_FALSE(IsLegalTransition(from, to)) << StateName(from) << " -> " << StateName(to);
    }
  }
}

TEST(JobStatesTest, IllegalShortcutsAreRejected) {
  EXPECT_FALSE(IsLegalTransition(v1::JOB_STATE_QUEUED, v1::JOB_STATE_RUNNING));
  EXPECT_FALSE(IsLegalTransition(v1::JOB_STATE_QUEUED, v1::JOB_STATE_SUCCEEDED));
  EXPECT_FALSE(IsLegalTransition(v1::JOB_STATE_QUEUED, v1::JOB_STATE_LOST));
  EXPECT_FALSE(IsLegalTransition(v1::JOB_STATE_RUNNING, v1::JOB_STATE_QUEUED));
  EXPECT_FALSE(IsLegalTransition(v1::JOB_STATE_RUNNING, v1::JOB_STATE_ASSIGNED));
  EXPECT_FALSE(IsLegalTransition(v1::JOB_STATE_RETRYING, v1::JOB_STATE_RUNNING));
  EXPECT_FALSE(IsLegalTransition(v1::JOB_STATE_RUNNING, v1::JOB_STATE_RUNNING));
  EXPECT_FALSE(IsLegalTransition(v1::JOB_STATE_QUEUED, v1::JOB_STATE_UNSPECIFIED));
}

TEST(JobStatesTest, CheckTransitionNamesJobAndStates) {
  absl::Status s = CheckTransition("job-7", v1::JOB_STATE_SUCCEEDED, v1::JOB_STATE_RUNNING);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("job-7"), absl::string_view::npos);
  EXPECT_NE(s.message().find("SUCCEEDED"), absl::string_view::npos);
  EXPECT_NE(s.message().find("RUNNING"), absl::string_view::npos);
  EXPECT_TRUE(CheckTransition("job-7", v1::JOB_STATE_QUEUED, v1::JOB_STATE_ASSIGNED).ok());
}

TEST(JobStatesTest, Names) {
  EXPECT_EQ(StateName(v1::JOB_STATE_QUEUED), "QUEUED");
  EXPECT_EQ(KindName(v1::JOB_KIND_CYCLING), "cycling");
  EXPECT_EQ(KindName(v1::JOB_KIND_SYNTHETIC), "synthetic");
}

}  // namespace
}  // namespace ionloop::orchestrator
