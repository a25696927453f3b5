// An assembled orchestrator: data directory (locked), store, job core, scheduler,
// gRPC services with health and reflection. ionloopd's main and the in-process tests both use it.
#ifndef IONLOOP_ORCHESTRATOR_SERVICE_SERVER_H_
#define IONLOOP_ORCHESTRATOR_SERVICE_SERVER_H_

#include <grpcpp/channel.h>
#include <grpcpp/server.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "orchestrator/campaign/campaign_engine.h"
#include "orchestrator/models/model_manager.h"
#include "orchestrator/scheduler/scheduler.h"

namespace ionloop::orchestrator {

class JobManager;

struct OrchestratorConfig {
  // host:port; port 0 picks a free one. Empty: no network port (in-process only).
  std::string listen_address = "127.0.0.1:50051";
  // Holds ionloop.db (SQLite, WAL) and the LOCK file. Created when missing.
  std::string data_dir = "./ionloop-data";
  std::string version = "dev";
  scheduler::SchedulerConfig scheduler;
  ModelManagerConfig models;
};

class Orchestrator {
 public:
  // FAILED_PRECONDITION when another ionloopd holds the data directory or the store
  // cannot be opened; UNAVAILABLE when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<Orchestrator>> Start(const OrchestratorConfig& config,
                                                             const Clock* clock);
  ~Orchestrator();

  // The bound address with the real port ("127.0.0.1:43127"); empty without a port.
  const std::string& listen_address() const { return listen_address_; }
  std::string store_path() const;
  std::shared_ptr<grpc::Channel> InProcessChannel();
  // The job core behind the Jobs service, and the scheduler behind Workers (tests).
  JobManager* jobs() const;
  scheduler::Scheduler* scheduler() const;
  ModelManager* models() const;
  CampaignEngine* campaigns() const;

  // Stops accepting calls, cancels open streams after `grace`, waits for handlers.
  void Shutdown(absl::Duration grace);

 private:
  struct Parts;
  explicit Orchestrator(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
  std::string listen_address_;
  bool shut_down_ = false;
};

}  // namespace ionloop::orchestrator

#endif  // IONLOOP_ORCHESTRATOR_SERVICE_SERVER_H_
