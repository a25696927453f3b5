// In-process fan-out of committed job events to watchers (WatchJob streams now,
// campaigns later). Publish happens after the commit; callbacks run on the
// publishing thread outside the bus lock, so a callback may subscribe or cancel a
// subscription without deadlock. Callbacks must be quick and must not block.
#ifndef IONLOOP_ORCHESTRATOR_JOBS_JOB_EVENT_BUS_H_
#define IONLOOP_ORCHESTRATOR_JOBS_JOB_EVENT_BUS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "ionloop/v1/job.pb.h"

namespace ionloop::orchestrator {

class JobEventBus {
 public:
  using Callback = std::function<void(const ionloop::v1::JobEvent& event,
                                      const ionloop::v1::Job& job_after)>;

  // Ends its subscription when destroyed. A callback already running may finish after.
  class Subscription {
   public:
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;

   private:
    friend class JobEventBus;
    Subscription(JobEventBus* bus, std::string job_id, uint64_t id)
        : bus_(bus), job_id_(std::move(job_id)), id_(id) {}
    JobEventBus* bus_;
    std::string job_id_;
    uint64_t id_;
  };

  // Events of `job_id`; an empty id receives the events of every job.
  std::unique_ptr<Subscription> Subscribe(const std::string& job_id, Callback callback);
  void Publish(const ionloop::v1::JobEvent& event, const ionloop::v1::Job& job_after);
  size_t SubscriberCount() const;

 private:
  void Unsubscribe(const std::string& job_id, uint64_t id);

  mutable absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<std::string, absl::flat_hash_map<uint64_t, std::shared_ptr<Callback>>>
      subscribers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ionloop::orchestrator

#endif  // IONLOOP_ORCHESTRATOR_JOBS_JOB_EVENT_BUS_H_
