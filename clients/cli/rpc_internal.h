// Channel set-up, deadlines, output and error reporting shared by the command files.
// Private to the CLI: the only header here that pulls in gRPC.
#ifndef IONLOOP_CLIENTS_CLI_RPC_INTERNAL_H_
#define IONLOOP_CLIENTS_CLI_RPC_INTERNAL_H_

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <memory>

#include "absl/strings/string_view.h"
#include "clients/cli/commands.h"

namespace ionloop::cli::internal {

// An insecure channel to global.server that is connected, or has failed, within
// min(global.timeout, 5 s). A refused connection returns at once (OK, with the channel
// in TRANSIENT_FAILURE): the fail-fast RPC that follows then fails with the transport's
// own reason, e.g. "Connection refused". An address that never answers gives
// DEADLINE_EXCEEDED here instead of a hang.
grpc::Status OpenChannel(const GlobalOptions& global, std::shared_ptr<grpc::Channel>* channel);

// A stub of `Service` on a channel from OpenChannel, or nullptr after printing why
// there is none (with `*exit_code` set).
template <typename Service>
std::unique_ptr<typename Service::Stub> ConnectStub(const GlobalOptions& global, int* exit_code);

// The deadline of one unary call.
void SetUnaryDeadline(const GlobalOptions& global, grpc::ClientContext& context);

// Prints the one-line error for `status` on stderr and returns the exit code:
// kExitUnreachable for UNAVAILABLE / DEADLINE_EXCEEDED, kExitRejected otherwise.
int ReportRpcError(const GlobalOptions& global, const grpc::Status& status);

// A line on stdout; "ionloop: <text>" on stderr; a remark on stderr that is no error
// (kept off stdout so that pipes see only data).
void PrintLine(absl::string_view text);
void PrintError(absl::string_view text);
void PrintNote(absl::string_view text);

template <typename Service>
std::unique_ptr<typename Service::Stub> ConnectStub(const GlobalOptions& global, int* exit_code) {
  std::shared_ptr<grpc::Channel> channel;
  const grpc::Status status = OpenChannel(global, &channel);
  if (!status.ok()) {
    *exit_code = ReportRpcError(global, status);
    return nullptr;
  }
  return Service::NewStub(channel);
}

// One unary call of `Service` on a fresh channel, with the unary deadline (at least
// `min_deadline`, for calls that train or score many cells): kExitOk with `*response`
// filled, or the exit code after the error was printed.
template <typename Service, typename Request, typename Response>
int CallUnary(const GlobalOptions& global,
              grpc::Status (Service::Stub::*method)(grpc::ClientContext*, const Request&,
                                                    Response*),
              const Request& request, Response* response,
              absl::Duration min_deadline = absl::ZeroDuration()) {
  int exit_code = 0;
  auto stub = ConnectStub<Service>(global, &exit_code);
  if (stub == nullptr) return exit_code;
  GlobalOptions options = global;
  options.timeout = std::max(global.timeout, min_deadline);
  grpc::ClientContext context;
  SetUnaryDeadline(options, context);
  const grpc::Status status = ((*stub).*method)(&context, request, response);
  return status.ok() ? 0 : ReportRpcError(global, status);
}

}  // namespace ionloop::cli::internal

#endif  // IONLOOP_CLIENTS_CLI_RPC_INTERNAL_H_
