// The scheduler core: who is connected, who holds which job, leases renewed by
// heartbeats, grace periods, retries with backoff, cancel forwarding, and dispatch of
// queued jobs to free channels (the decision itself is scheduling_policy.h's pure
// Schedule). No gRPC: the Workers service hands it messages and a WorkerChannel to
// answer on; tests drive it with a FakeClock and fake channels.
//
// Locking: `mu_` guards the registry and is never held while calling JobManager (whose
// commits may wait on disk, and whose event publication calls back into OnJobEvent).
#ifndef IONLOOP_ORCHESTRATOR_SCHEDULER_SCHEDULER_H_
#define IONLOOP_ORCHESTRATOR_SCHEDULER_SCHEDULER_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "ionloop/v1/workers.pb.h"
#include "orchestrator/jobs/job_manager.h"

namespace ionloop::orchestrator::scheduler {

// One worker's stream, as the scheduler sees it. Send queues and never blocks.
class WorkerChannel {
 public:
  virtual ~WorkerChannel() = default;
  virtual void Send(const ionloop::v1::OrchestratorMessage& message) = 0;
  // Ends the stream with `status` once queued messages are written.
  virtual void Close(const absl::Status& status) = 0;
};

// Every tunable, documented once (ionloopd's flags set them).
struct SchedulerConfig {
  absl::Duration heartbeat_interval = absl::Seconds(1);  // asked of workers
  absl::Duration lease = absl::Seconds(5);         // silent this long: disconnected
  absl::Duration grace = absl::Seconds(30);        // then this long for it to come back
  absl::Duration cancel_timeout = absl::Seconds(30);  // unconfirmed cancel: CANCELLED
  absl::Duration backoff_base = absl::Seconds(1);  // retry n waits base·2^(n-1) ...
  absl::Duration backoff_max = absl::Seconds(60);  // ... at most this
  int max_attempts = 3;                            // restartable jobs, then FAILED
  int queue_window = 10'000;                       // queued jobs considered per round
  absl::Duration tick = absl::Milliseconds(100);   // background loop period
};

// Backoff before retry `attempt` + 1 of a job whose attempt `attempt` was lost.
absl::Duration RetryBackoff(const SchedulerConfig& config, uint32_t attempt);

class Scheduler {
 public:
  Scheduler(JobManager* jobs, const Clock* clock, SchedulerConfig config);
  ~Scheduler();  // Stop()s

  // After a restart: jobs the store says are held belong to workers that have not
  // reconnected yet; their lease and grace run from now.
  absl::Status Recover();

  // The background loop: Tick() every config.tick and whenever work arrives.
  void Start();
  void Stop();

  // A worker's Hello on a new stream. On success the Welcome is the first message
  // sent on `channel` (then cancels for reported jobs that are not its any more).
  // INVALID_ARGUMENT for a malformed Hello, ALREADY_EXISTS when a live stream already
  // uses the worker id; nothing is sent then.
  absl::Status Connect(const ionloop::v1::Hello& hello, std::shared_ptr<WorkerChannel> channel);
  // The stream ended. Its jobs keep their worker through the lease and grace.
  void Disconnect(const std::string& worker_id, const WorkerChannel* channel);
  void Heartbeat(const std::string& worker_id);
  // Apply a report; the answer is an Ack (also for a resend) or a ProtocolError.
  ionloop::v1::OrchestratorMessage HandleUpdate(const std::string& worker_id,
                                                const ionloop::v1::JobUpdate& update);
  // Several updates of one worker in one commit; one answer each, in order.
  std::vector<ionloop::v1::OrchestratorMessage> HandleUpdates(
      const std::string& worker_id, absl::Span<const ionloop::v1::JobUpdate* const> updates);
  ionloop::v1::OrchestratorMessage HandleResult(const std::string& worker_id,
                                                const ionloop::v1::JobResult& result);

  // Every committed job event (subscribe it to the JobEventBus): forwards cancel
  // requests to the holding worker and wakes dispatch.
  void OnJobEvent(const ionloop::v1::JobEvent& event, const ionloop::v1::Job& job);

  // Expires leases, graces and unconfirmed cancels, then fills free channels.
  void Tick();

  std::vector<ionloop::v1::WorkerInfo> ListWorkers() const;

 private:
  struct HeldJob {
    uint32_t attempt = 0;
    std::string campaign_id;
    bool pinned = false;
    absl::Time cancel_sent_at = absl::InfiniteFuture();  // when Cancel went out
    std::string cancel_reason;
  };
  struct Session {
    std::string worker_id;
    ionloop::v1::Capabilities capabilities;
    bool capabilities_known = false;  // false for a placeholder from Recover()
    std::string software;
    std::shared_ptr<WorkerChannel> channel;  // null while disconnected
    bool connecting = false;
    absl::Time connected_at = absl::InfinitePast();
    absl::Time last_seen = absl::InfinitePast();
    absl::Time disconnected_at = absl::InfinitePast();  // grace runs from here
    bool gone = false;  // grace expired; kept for ListWorkers and unschedulable reasons
    absl::flat_hash_map<std::string, HeldJob> jobs;
  };
  struct Expired {
    std::string worker_id;
    std::vector<std::pair<std::string, HeldJob>> jobs;
  };

  void ExpireLeasesAndGraces();
  void ExpireCancels();
  void Dispatch();
  void ReleaseLostJob(const std::string& worker_id, const std::string& job_id,
                      const HeldJob& held, const std::string& why);
  void RunLoop();
  void Wake() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  JobManager* const jobs_;
  const Clock* const clock_;
  const SchedulerConfig config_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Session> sessions_ ABSL_GUARDED_BY(mu_);
  // Job id → its holder, for cancel forwarding.
  absl::flat_hash_map<std::string, std::string> holder_of_ ABSL_GUARDED_BY(mu_);
  // Bumped whenever the set of known capabilities changes: every waiting job's reason
  // is recomputed then; otherwise only jobs queued after `noted_up_to_order_`.
  uint64_t workers_version_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t noted_version_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t noted_up_to_order_ ABSL_GUARDED_BY(mu_) = 0;
  bool queue_changed_ ABSL_GUARDED_BY(mu_) = true;  // a job was queued since the last round
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread loop_;
  absl::Mutex tick_mu_;  // one Tick at a time
};

}  // namespace ionloop::orchestrator::scheduler

#endif  // IONLOOP_ORCHESTRATOR_SCHEDULER_SCHEDULER_H_
