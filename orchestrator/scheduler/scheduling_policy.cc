#include "orchestrator/scheduler/scheduling_policy.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <queue>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/job_enums.h"
#include "orchestrator/scheduler/capability_match.h"

namespace ionloop::orchestrator::scheduler {
namespace {

// How Schedule stays fast (J queued jobs, W workers, C campaigns, K distinct capability
// sets among the workers of one kind, A assignments):
//
// - Jobs are sorted once by (priority desc, order, job_id): O(J log J). A priority level
//   is then a contiguous run; within it, each campaign's jobs are already FIFO, and a
//   job's index in the sorted run is its age rank.
// - Fair share is a min-heap of the level's campaigns keyed by (running + assigned,
//   index of the campaign's next job). Only the popped campaign's key changes, so it is
//   pushed back with its new key: O(log C) per job considered.
// - Workers with identical Capabilities (a rack of the same cycler model) form one
//   capability class, which keeps its workers with a free slot in an ordered set keyed
//   by (free slots desc, worker_id rank): the preferred worker of a class is its first.
// - Placing a job looks only at the classes of its kind that still have a free slot,
//   and checks a class's capabilities only when its first worker would beat the best
//   found so far: ≤ K checks, then O(log W) to move the chosen worker. A job whose kind
//   has no free slot left at all costs O(1).
// - The call ends as soon as no worker has a free slot.
//
// Total O(J log J + J log C + J·K + A log W), against the O(J·W·C) of rescanning every
// campaign and every worker for each job. In a lab K is small (a few instrument models
// per kind); at worst K = W. Memoizing checks per distinct requirement set was tried and
// dropped: campaigns explore continuous protocol parameters, so most jobs' requirements
// are distinct and the memo cost more than it saved.
//
// Measured (-O2, a shared 2-core machine, 10 000 queued jobs × 100 workers): 8 slots
// each, one or ten capability sets: 0.5–1.5 ms; 100 slots each (8 000 assignments in one
// call): 5–7 ms; 100 distinct capability sets and 10 000 distinct, mostly unplaceable
// requirement sets while 97 workers sit idle (the J·K worst case): 10–12 ms.

struct Worker {
  const WorkerSlots* slots;
  int free;
  int capability_class;
};

// Workers with equal Capabilities.
struct CapabilityClass {
  const v1::Capabilities* capabilities;     // of its first worker
  std::set<std::pair<int, int>> available;  // (-free slots, rank), free slots > 0
};

// The capability classes of one job kind.
struct KindClasses {
  std::vector<int> classes;
  size_t workers_with_slots = 0;
};

class Scheduler {
 public:
  explicit Scheduler(absl::Span<const WorkerSlots> workers) {
    for (const WorkerSlots& w : workers) {
      if (w.capabilities != nullptr && w.free_slots > 0) workers_.push_back({&w, w.free_slots, -1});
    }
    // Rank = position by worker_id: the tie-break among workers with as many free slots.
    std::stable_sort(workers_.begin(), workers_.end(), [](const Worker& a, const Worker& b) {
      return a.slots->worker_id < b.slots->worker_id;
    });
    absl::flat_hash_map<std::string, int> class_of_capabilities;  // by serialized bytes
    for (int rank = 0; rank < static_cast<int>(workers_.size()); ++rank) {
      Worker& w = workers_[rank];
      const v1::Capabilities& caps = *w.slots->capabilities;
      auto [it, inserted] = class_of_capabilities.try_emplace(caps.SerializeAsString(),
                                                              static_cast<int>(classes_.size()));
      KindClasses& kind = kinds_[caps.kind()];
      if (inserted) {
        classes_.push_back({&caps, {}});
        kind.classes.push_back(it->second);
      }
      w.capability_class = it->second;
      classes_[it->second].available.insert({-w.free, rank});
      ++kind.workers_with_slots;
      total_free_ += static_cast<size_t>(w.free);
    }
    workers_with_slots_ = workers_.size();
  }

  bool AnySlotLeft() const { return workers_with_slots_ > 0; }
  size_t TotalFreeSlots() const { return total_free_; }

  // The worker `job` goes to, or null when none that can run it has a free slot.
  const WorkerSlots* Place(const QueuedJob& job) {
    auto kind = kinds_.find(KindOf(*job.spec));
    if (kind == kinds_.end() || kind->second.workers_with_slots == 0) return nullptr;
    const JobRequirements requirements = RequirementsOf(*job.spec);
    CapabilityClass* best = nullptr;
    for (int k : kind->second.classes) {
      CapabilityClass& c = classes_[k];
      if (c.available.empty()) continue;
      if (best != nullptr && !(*c.available.begin() < *best->available.begin())) continue;
      if (Satisfies(*c.capabilities, requirements)) best = &c;
    }
    if (best == nullptr) return nullptr;

    const int rank = best->available.begin()->second;
    best->available.erase(best->available.begin());
    Worker& w = workers_[rank];
    --total_free_;
    if (--w.free > 0) {
      best->available.insert({-w.free, rank});
    } else {
      --workers_with_slots_;
      --kind->second.workers_with_slots;
    }
    return w.slots;
  }

 private:
  std::vector<Worker> workers_;  // by rank
  std::vector<CapabilityClass> classes_;
  absl::flat_hash_map<int, KindClasses> kinds_;  // by JobKind
  size_t workers_with_slots_ = 0;
  size_t total_free_ = 0;
};

// A job's place in the queue: priority desc, then order, then job_id. The keys are
// copied out of QueuedJob so that sorting compares without chasing pointers.
struct SortKey {
  int32_t priority;
  int64_t order;
  const QueuedJob* job;
};

bool BeforeInQueue(const SortKey& a, const SortKey& b) {
  if (a.priority != b.priority) return a.priority > b.priority;
  if (a.order != b.order) return a.order < b.order;
  return a.job->job_id < b.job->job_id;
}

}  // namespace

std::vector<Assignment> Schedule(absl::Span<const QueuedJob> queue,
                                 absl::Span<const WorkerSlots> workers,
                                 const absl::flat_hash_map<std::string, int>& running_per_campaign,
                                 absl::Time now) {
  std::vector<Assignment> out;
  Scheduler scheduler(workers);
  if (!scheduler.AnySlotLeft()) return out;

  std::vector<SortKey> keys;
  keys.reserve(queue.size());
  for (const QueuedJob& job : queue) {
    if (job.spec != nullptr && job.not_before <= now) keys.push_back({job.priority, job.order, &job});
  }
  std::sort(keys.begin(), keys.end(), BeforeInQueue);
  // From here on a job is its index in `jobs`: a smaller index is a higher priority or,
  // within a priority, an older job (the FIFO and tie-break order).
  std::vector<const QueuedJob*> jobs;
  jobs.reserve(keys.size());
  for (const SortKey& key : keys) jobs.push_back(key.job);
  out.reserve(std::min(jobs.size(), scheduler.TotalFreeSlots()));

  // Campaigns by index; share[c] = running + assigned in this call (across levels).
  absl::flat_hash_map<absl::string_view, int> campaign_index;
  std::vector<int> share;
  std::vector<int> campaign_of(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    auto [it, inserted] = campaign_index.try_emplace(jobs[i]->campaign_id, share.size());
    if (inserted) {
      auto running = running_per_campaign.find(jobs[i]->campaign_id);
      share.push_back(running == running_per_campaign.end() ? 0 : running->second);
    }
    campaign_of[i] = it->second;
  }

  // One priority level at a time: jobs[begin, end).
  struct Group {
    int campaign;
    std::vector<size_t> jobs;  // indices into `jobs`, FIFO
    size_t next = 0;
  };
  std::vector<int> group_of_campaign(share.size(), -1);
  for (size_t begin = 0; begin < jobs.size() && scheduler.AnySlotLeft();) {
    size_t end = begin;
    while (end < keys.size() && keys[end].priority == keys[begin].priority) ++end;

    std::vector<Group> groups;
    for (size_t i = begin; i < end; ++i) {
      int& g = group_of_campaign[campaign_of[i]];
      if (g < 0) {
        g = static_cast<int>(groups.size());
        groups.push_back({campaign_of[i], {}, 0});
      }
      groups[g].jobs.push_back(i);
    }
    for (const Group& group : groups) group_of_campaign[group.campaign] = -1;

    // Min-heap on (share, index of the campaign's next job). The index is unique, so it
    // settles every tie: the oldest next job first. Only the popped campaign's share
    // changes, so the keys of the others stay current.
    using Entry = std::tuple<int, size_t, int>;  // (share, next job, group)
    std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap;
    for (int g = 0; g < static_cast<int>(groups.size()); ++g) {
      heap.push({share[groups[g].campaign], groups[g].jobs.front(), g});
    }

    while (!heap.empty() && scheduler.AnySlotLeft()) {
      const size_t i = std::get<1>(heap.top());
      const int g = std::get<2>(heap.top());
      heap.pop();
      Group& group = groups[g];
      ++group.next;
      if (const WorkerSlots* worker = scheduler.Place(*jobs[i])) {
        out.push_back({jobs[i]->job_id, worker->worker_id});
        ++share[group.campaign];
      }
      if (group.next < group.jobs.size()) {
        heap.push({share[group.campaign], group.jobs[group.next], g});
      }
    }
    begin = end;
  }
  return out;
}

std::string WhyUnschedulable(const v1::JobSpec& spec,
                             absl::Span<const v1::Capabilities* const> all_known_workers,
                             absl::Span<const std::string> worker_ids) {
  const JobRequirements requirements = RequirementsOf(spec);
  std::vector<std::string> same_kind;  // the informative reasons come first
  std::vector<std::string> other_kind;
  for (size_t i = 0; i < all_known_workers.size(); ++i) {
    const v1::Capabilities* caps = all_known_workers[i];
    if (caps == nullptr) continue;
    const absl::Status status = CheckRequirements(*caps, requirements);
    if (status.ok()) return "";
    const std::string name =
        i < worker_ids.size() ? worker_ids[i] : absl::StrCat("#", i + 1);
    (caps->kind() == requirements.kind ? same_kind : other_kind)
        .push_back(absl::StrCat("worker ", name, ": ", status.message()));
  }
  std::string out = "no registered worker can run this job: ";
  if (same_kind.empty() && other_kind.empty()) return out + "no worker is registered";
  const size_t total = same_kind.size() + other_kind.size();
  size_t shown = 0;
  for (const auto* list : {&same_kind, &other_kind}) {
    for (const std::string& reason : *list) {
      if (shown == static_cast<size_t>(kMaxUnschedulableReasons)) break;
      absl::StrAppend(&out, shown == 0 ? "" : "; ", reason);
      ++shown;
    }
  }
  if (shown < total) absl::StrAppend(&out, "; and ", total - shown, " more");
  return out;
}

}  // namespace ionloop::orchestrator::scheduler
