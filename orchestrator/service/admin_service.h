// gRPC adapter for ionloop.v1.Admin: what this orchestrator is and holds.
#ifndef IONLOOP_ORCHESTRATOR_SERVICE_ADMIN_SERVICE_H_
#define IONLOOP_ORCHESTRATOR_SERVICE_ADMIN_SERVICE_H_

#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "ionloop/v1/admin.grpc.pb.h"
#include "orchestrator/store/store.h"

namespace ionloop::orchestrator {

class AdminService final : public ionloop::v1::Admin::CallbackService {
 public:
  AdminService(std::string version, Store* store, const Clock* clock);

  // The address actually bound (known only once the server has started).
  void set_listen_address(std::string address);

  grpc::ServerUnaryReactor* GetServerInfo(grpc::CallbackServerContext* context,
                                          const ionloop::v1::GetServerInfoRequest* request,
                                          ionloop::v1::ServerInfo* response) override;

 private:
  const std::string version_;
  Store* const store_;
  const Clock* const clock_;
  const absl::Time started_at_;
  absl::Mutex mu_;
  std::string listen_address_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ionloop::orchestrator

#endif  // IONLOOP_ORCHESTRATOR_SERVICE_ADMIN_SERVICE_H_
