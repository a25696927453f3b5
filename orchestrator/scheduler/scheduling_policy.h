// The dispatch decision as a pure function (STYLE.md habit 9): a snapshot of the queue
// and of the workers' free slots in, the assignments to make out. No clock, no store, no
// randomness (every tie has a deterministic rule, so no RNG is needed), no server: the
// caller (the scheduler core) turns each Assignment into an Assign message and the
// QUEUED/RETRYING → ASSIGNED transition.
//
// The policy, in order of precedence:
//   1. Eligibility. A job whose `not_before` is after `now` (retry backoff) is skipped.
//      A job goes only to a worker whose capabilities pass CheckCapabilities
//      (capability_match.h) and that has a free slot.
//   2. Priority. Every job of a higher priority is considered before any of a lower one.
//   3. Fair share, within one priority: the campaign with the fewest jobs running
//      (`running_per_campaign`: ASSIGNED or RUNNING) plus assigned earlier in this call
//      goes next; ties go to the campaign whose next job is the oldest (smallest
//      `order`, then smaller job_id). Stand-alone jobs (empty campaign_id) are one
//      group, "", whose running count is running_per_campaign[""].
//   4. FIFO within a campaign: by `order`, then job_id.
//   5. Placement: among eligible workers, the one with the most free slots (spreads
//      load), ties by the smaller worker_id.
//   6. No head-of-line blocking: a job that fits no worker's free slot is passed over
//      (it stays queued) and the jobs behind it are still considered. It does not count
//      towards its campaign's share.
// The result is the same for the same input, whatever the order of `queue` and
// `workers`.
#ifndef IONLOOP_ORCHESTRATOR_SCHEDULER_SCHEDULING_POLICY_H_
#define IONLOOP_ORCHESTRATOR_SCHEDULER_SCHEDULING_POLICY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "ionloop/v1/job.pb.h"
#include "ionloop/v1/worker.pb.h"

namespace ionloop::orchestrator::scheduler {

// A job waiting for a worker (QUEUED, or RETRYING once its backoff has passed).
struct QueuedJob {
  std::string job_id;
  int64_t order = 0;  // submission order, smaller = older
  int32_t priority = 0;
  std::string campaign_id;  // empty: stand-alone
  const ionloop::v1::JobSpec* spec = nullptr;  // not owned; a null spec is never assigned
  absl::Time not_before = absl::InfinitePast();  // backoff: not eligible before
};

// A connected worker and how many more jobs it can take now.
struct WorkerSlots {
  std::string worker_id;
  const ionloop::v1::Capabilities* capabilities = nullptr;  // not owned; null: skipped
  int free_slots = 0;
};

struct Assignment {
  std::string job_id;
  std::string worker_id;

  friend bool operator==(const Assignment& a, const Assignment& b) {
    return a.job_id == b.job_id && a.worker_id == b.worker_id;
  }
};

// The assignments to make now, in the order the policy chose them (the first is the
// most deserving). Each job appears at most once; a worker appears at most free_slots
// times. See the file comment for the rules, and scheduling_policy.cc for the cost:
// O(J log J + J log C + J·K + A log W) for J queued jobs, C campaigns, W workers, K
// distinct capability sets per kind (≤ W) and A assignments (≤ total free slots).
std::vector<Assignment> Schedule(absl::Span<const QueuedJob> queue,
                                 absl::Span<const WorkerSlots> workers,
                                 const absl::flat_hash_map<std::string, int>& running_per_campaign,
                                 absl::Time now);

// Why no worker the orchestrator knows of (connected or not) could ever run `spec`:
// empty when at least one could, else
//   "no registered worker can run this job: worker cycler-1: temperature 60 °C outside
//    the worker's -10..45 °C; worker xrd-1: worker kind xrd, job is cycling"
// naming at most kMaxUnschedulableReasons workers (those of the job's kind first), then
// "; and N more". `worker_ids`, when given, runs parallel to `all_known_workers` and
// names them; otherwise they are named by position ("worker #2"). Null entries are
// skipped.
inline constexpr int kMaxUnschedulableReasons = 4;
std::string WhyUnschedulable(const ionloop::v1::JobSpec& spec,
                             absl::Span<const ionloop::v1::Capabilities* const> all_known_workers,
                             absl::Span<const std::string> worker_ids = {});

}  // namespace ionloop::orchestrator::scheduler

#endif  // IONLOOP_ORCHESTRATOR_SCHEDULER_SCHEDULING_POLICY_H_
