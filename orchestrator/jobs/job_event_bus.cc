#include "orchestrator/jobs/job_event_bus.h"

#include <vector>

namespace ionloop::orchestrator {

JobEventBus::Subscription::~Subscription() { bus_->Unsubscribe(job_id_, id_); }

std::unique_ptr<JobEventBus::Subscription> JobEventBus::Subscribe(const std::string& job_id,
                                                                  Callback callback) {
  absl::MutexLock lock(&mu_);
  const uint64_t id = next_id_++;
  subscribers_[job_id].emplace(id, std::make_shared<Callback>(std::move(callback)));
  return std::unique_ptr<Subscription>(new Subscription(this, job_id, id));
}

void JobEventBus::Unsubscribe(const std::string& job_id, uint64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = subscribers_.find(job_id);
  if (it == subscribers_.end()) return;
  it->second.erase(id);
  if (it->second.empty()) subscribers_.erase(it);
}

void JobEventBus::Publish(const v1::JobEvent& event, const v1::Job& job_after) {
  std::vector<std::shared_ptr<Callback>> targets;
  {
    absl::MutexLock lock(&mu_);
    for (const std::string& key : {event.job_id(), std::string()}) {
      auto it = subscribers_.find(key);
      if (it == subscribers_.end()) continue;
      for (const auto& [id, cb] : it->second) targets.push_back(cb);
    }
  }
  for (const auto& cb : targets) (*cb)(event, job_after);
}

size_t JobEventBus::SubscriberCount() const {
  absl::MutexLock lock(&mu_);
  size_t n = 0;
  for (const auto& [key, subs] : subscribers_) n += subs.size();
  return n;
}

}  // namespace ionloop::orchestrator
