// The one place where absl::Status becomes grpc::Status.
#ifndef IONLOOP_ORCHESTRATOR_SERVICE_GRPC_STATUS_H_
#define IONLOOP_ORCHESTRATOR_SERVICE_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace ionloop::orchestrator {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace ionloop::orchestrator

#endif  // IONLOOP_ORCHESTRATOR_SERVICE_GRPC_STATUS_H_
