// Streaming commands: watch and measurements. Both print as messages arrive: a watch
// can last for weeks and a job can hold millions of measurements.
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "clients/cli/commands.h"
#include "clients/cli/exit_codes.h"
#include "clients/cli/format.h"
#include "clients/cli/progress_bar.h"
#include "clients/cli/rpc_internal.h"
#include "ionloop/v1/jobs.grpc.pb.h"

namespace ionloop::cli {

using internal::PrintError;
using internal::PrintLine;
using internal::ReportRpcError;

int RunWatch(const GlobalOptions& global, const std::string& job_id) {
  int exit_code = kExitOk;
  auto stub = internal::ConnectStub<ionloop::v1::Jobs>(global, &exit_code);
  if (stub == nullptr) return exit_code;
  ionloop::v1::WatchJobRequest request;
  request.set_job_id(job_id);
  grpc::ClientContext context;  // no deadline: a watch lasts as long as the job
  auto reader = stub->WatchJob(&context, request);

  const bool json = global.output == OutputFormat::kJson;
  const bool draw_bar = !json && IsTerminal(stdout);
  ProgressBar bar(stdout, ProgressBar::TerminalColumns(stdout));
  ionloop::v1::WatchJobResponse response;
  ionloop::v1::Job last;
  while (reader->Read(&response)) {
    if (response.has_job()) {
      last = response.job();
    } else {
      last.set_state(response.event().state());
      last.set_progress(response.event().progress());
      last.set_message(response.event().message());
    }
    if (json) {
      PrintLine(ToJson(response, /*pretty=*/false));
    } else {
      bar.Clear();
      PrintLine(RenderWatchLine(response));
      if (draw_bar && !::ionloop::IsTerminal(last.state())) {
        bar.Draw(last.progress(), StateName(last.state()));
      }
    }
    std::fflush(stdout);  // a script following the output sees each event at once
  }
  bar.Clear();
  const grpc::Status status = reader->Finish();
  if (!status.ok()) return ReportRpcError(global, status);
  if (last.state() == ionloop::v1::JOB_STATE_UNSPECIFIED) {
    PrintError(absl::StrCat("ionloopd at ", global.server, " sent nothing about ", job_id));
    return kExitUnreachable;
  }
  if (!::ionloop::IsTerminal(last.state())) {
    // The server closed the stream early, e.g. while shutting down: watching again helps.
    PrintError(absl::StrCat("ionloopd at ", global.server, " ended the watch before ", job_id,
                            " finished (last state ", StateName(last.state()), ")"));
    return kExitUnreachable;
  }
  if (last.state() == ionloop::v1::JOB_STATE_SUCCEEDED) return kExitOk;
  PrintError(absl::StrCat(job_id, " ended ", StateName(last.state()),
                          last.message().empty() ? "" : absl::StrCat(": ", last.message())));
  return kExitJobNotSucceeded;
}

int RunMeasurements(const GlobalOptions& global, const std::string& job_id, uint32_t attempt,
                    bool csv) {
  int exit_code = kExitOk;
  auto stub = internal::ConnectStub<ionloop::v1::Jobs>(global, &exit_code);
  if (stub == nullptr) return exit_code;
  ionloop::v1::ListMeasurementsRequest request;
  request.set_job_id(job_id);
  request.set_attempt(attempt);
  grpc::ClientContext context;  // no deadline: the stream may be long
  auto reader = stub->ListMeasurements(&context, request);

  const bool json = !csv && global.output == OutputFormat::kJson;
  // The header waits for the first row or a clean end, so that an error (unknown job)
  // leaves stdout empty rather than holding a lone header.
  bool header_printed = false;
  auto print_header = [&] {
    if (header_printed || json) return;
    PrintLine(csv ? MeasurementCsvHeader() : MeasurementTableHeader());
    header_printed = true;
  };
  uint64_t count = 0;
  ionloop::v1::Measurement m;
  while (reader->Read(&m)) {
    print_header();
    if (csv) {
      PrintLine(MeasurementCsvRow(m));
    } else if (json) {
      PrintLine(ToJson(m, /*pretty=*/false));  // JSON Lines
    } else {
      PrintLine(MeasurementTableRow(m));
    }
    ++count;
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) {
    std::fflush(stdout);
    return ReportRpcError(global, status);
  }
  if (count == 0 && !csv && !json) {
    internal::PrintNote(absl::StrCat("(no measurements for ", job_id,
                                     attempt > 0 ? absl::StrCat(" attempt ", attempt) : "", ")"));
    return kExitOk;
  }
  print_header();
  return kExitOk;
}

}  // namespace ionloop::cli
