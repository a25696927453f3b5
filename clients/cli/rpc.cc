#include <algorithm>
#include <chrono>
#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "clients/cli/exit_codes.h"
#include "clients/cli/rpc_internal.h"

namespace ionloop::cli::internal {
namespace {

constexpr absl::Duration kMaxConnectTimeout = absl::Seconds(5);
// Measurements (XRD patterns, MD frames, synthetic payloads up to 1 MiB) can exceed
// gRPC's 4 MiB default.
constexpr int kMaxReceiveBytes = 64 << 20;

std::chrono::system_clock::time_point DeadlineAfter(absl::Duration d) {
  return absl::ToChronoTime(absl::Now() + d);
}

}  // namespace

grpc::Status OpenChannel(const GlobalOptions& global, std::shared_ptr<grpc::Channel>* channel) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxReceiveBytes);
  *channel = grpc::CreateCustomChannel(global.server, grpc::InsecureChannelCredentials(), args);
  const absl::Duration timeout = std::min(global.timeout, kMaxConnectTimeout);
  const auto deadline = DeadlineAfter(timeout);
  grpc_connectivity_state state = (*channel)->GetState(/*try_to_connect=*/true);
  while (state != GRPC_CHANNEL_READY) {
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_SHUTDOWN) {
      return grpc::Status::OK;  // the RPC reports why, see the header
    }
    if (!(*channel)->WaitForStateChange(state, deadline)) {
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                          absl::StrCat("no connection within ", absl::FormatDuration(timeout)));
    }
    state = (*channel)->GetState(/*try_to_connect=*/true);
  }
  return grpc::Status::OK;
}

void SetUnaryDeadline(const GlobalOptions& global, grpc::ClientContext& context) {
  context.set_deadline(DeadlineAfter(global.timeout));
}

int ReportRpcError(const GlobalOptions& global, const grpc::Status& status) {
  const grpc::StatusCode code = status.error_code();
  if (code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED) {
    PrintError(absl::StrCat("cannot reach ionloopd at ", global.server, ": ",
                            status.error_message(), " (",
                            absl::StatusCodeToString(static_cast<absl::StatusCode>(code)), ")"));
    return kExitUnreachable;
  }
  // gRPC and absl share the canonical code numbers; absl spells them "NOT_FOUND".
  PrintError(absl::StrCat(absl::StatusCodeToString(static_cast<absl::StatusCode>(code)), ": ",
                          status.error_message()));
  return kExitRejected;
}

void PrintLine(absl::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
}

void PrintError(absl::string_view text) {
  // One fprintf, so that the line reaches stderr in one piece.
  std::fprintf(stderr, "ionloop: %.*s\n", static_cast<int>(text.size()), text.data());
}

void PrintNote(absl::string_view text) {
  std::fprintf(stderr, "%.*s\n", static_cast<int>(text.size()), text.data());
}

}  // namespace ionloop::cli::internal
