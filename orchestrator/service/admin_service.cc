#include "orchestrator/service/admin_service.h"

#include <utility>

#include "common/proto_time.h"
#include "orchestrator/service/grpc_status.h"

namespace ionloop::orchestrator {

AdminService::AdminService(std::string version, Store* store, const Clock* clock)
    : version_(std::move(version)), store_(store), clock_(clock), started_at_(clock->Now()) {}

void AdminService::set_listen_address(std::string address) {
  absl::MutexLock lock(&mu_);
  listen_address_ = std::move(address);
}

grpc::ServerUnaryReactor* AdminService::GetServerInfo(grpc::CallbackServerContext* context,
                                                      const v1::GetServerInfoRequest* /*request*/,
                                                      v1::ServerInfo* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<StoreStats> stats = store_->Stats();
  if (!stats.ok()) {
    reactor->Finish(ToGrpcStatus(stats.status()));
    return reactor;
  }
  response->set_version(version_);
  *response->mutable_started_at() = ToProtoTime(started_at_);
  response->set_uptime_s(absl::ToDoubleSeconds(clock_->Now() - started_at_));
  response->set_store_path(store_->Location());
  response->set_schema_version(static_cast<uint32_t>(store_->SchemaVersion()));
  for (const auto& [state, count] : stats->jobs_by_state) {
    v1::JobStateCount* c = response->add_job_counts();
    c->set_state(state);
    c->set_count(count);
  }
  response->set_job_total(stats->job_total);
  response->set_measurement_total(stats->measurement_total);
  {
    absl::MutexLock lock(&mu_);
    response->set_listen_address(listen_address_);
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace ionloop::orchestrator
