// Unary callback handlers never block a gRPC thread: the work runs on the core's
// executor and the RPC finishes with its result.
#ifndef IONLOOP_ORCHESTRATOR_SERVICE_RESPOND_LATER_H_
#define IONLOOP_ORCHESTRATOR_SERVICE_RESPOND_LATER_H_

#include <grpcpp/support/server_callback.h>

#include <utility>

#include "absl/status/statusor.h"
#include "common/executor.h"
#include "orchestrator/service/grpc_status.h"

namespace ionloop::orchestrator {

// Runs `call` on the executor and finishes the RPC with its result.
template <typename Response, typename Call>
grpc::ServerUnaryReactor* RespondLater(Executor* executor, grpc::CallbackServerContext* context,
                                       Response* response, Call call) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  executor->Post([reactor, response, call = std::move(call)] {
    absl::StatusOr<Response> result = call();
    if (result.ok()) *response = *std::move(result);
    reactor->Finish(ToGrpcStatus(result.status()));
  });
  return reactor;
}

}  // namespace ionloop::orchestrator

#endif  // IONLOOP_ORCHESTRATOR_SERVICE_RESPOND_LATER_H_
