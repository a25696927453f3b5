// Unary commands: submit, status, list, cancel, info.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "clients/cli/commands.h"
#include "clients/cli/exit_codes.h"
#include "clients/cli/format.h"
#include "clients/cli/rpc_internal.h"
#include "instruments/cycler_files/cycler_file.h"
#include "instruments/cycler_files/proto/cycler_file_measurements.h"
#include "ionloop/v1/admin.grpc.pb.h"
#include "ionloop/v1/jobs.grpc.pb.h"
#include "ionloop/v1/workers.grpc.pb.h"

namespace ionloop::cli {
namespace {

using internal::PrintLine;
using internal::PrintNote;
using internal::ReportRpcError;
using ionloop::v1::Job;

bool Json(const GlobalOptions& global) { return global.output == OutputFormat::kJson; }

std::unique_ptr<ionloop::v1::Jobs::Stub> JobsStub(const GlobalOptions& global, int* exit_code) {
  return internal::ConnectStub<ionloop::v1::Jobs>(global, exit_code);
}

}  // namespace

int RunSubmit(const GlobalOptions& global, const SubmitOptions& options) {
  int exit_code = kExitOk;
  auto stub = JobsStub(global, &exit_code);
  if (stub == nullptr) return exit_code;
  ionloop::v1::SubmitJobRequest request;
  *request.mutable_spec() = options.spec;
  request.set_idempotency_key(options.idempotency_key);
  ionloop::v1::SubmitJobResponse response;
  grpc::ClientContext context;
  internal::SetUnaryDeadline(global, context);
  const grpc::Status status = stub->SubmitJob(&context, request, &response);
  if (!status.ok()) return ReportRpcError(global, status);

  const Job& job = response.job();
  if (options.quiet) {
    PrintLine(job.id());
  } else if (Json(global)) {
    PrintLine(ToJson(response, /*pretty=*/true));
  } else if (response.created()) {
    PrintLine(absl::StrCat("created ", job.id(), " (", StateName(job.state()),
                           "): ", KindName(job.kind()), ", ", SpecSummary(job.spec())));
  } else {
    PrintLine(absl::StrCat("existing ", job.id(), " (", StateName(job.state()),
                           "): idempotency key '", job.idempotency_key(),
                           "' was used before; nothing new submitted"));
  }
  return kExitOk;
}

int RunStatus(const GlobalOptions& global, const std::string& job_id) {
  int exit_code = kExitOk;
  auto stub = JobsStub(global, &exit_code);
  if (stub == nullptr) return exit_code;
  ionloop::v1::GetJobRequest request;
  request.set_job_id(job_id);
  Job job;
  grpc::ClientContext context;
  internal::SetUnaryDeadline(global, context);
  const grpc::Status status = stub->GetJob(&context, request, &job);
  if (!status.ok()) return ReportRpcError(global, status);
  std::fputs(
      Json(global) ? (ToJson(job, /*pretty=*/true) + "\n").c_str() : RenderJobDetail(job).c_str(),
      stdout);
  return kExitOk;
}

int RunList(const GlobalOptions& global, const ListOptions& options) {
  int exit_code = kExitOk;
  auto stub = JobsStub(global, &exit_code);
  if (stub == nullptr) return exit_code;
  ionloop::v1::ListJobsRequest request = options.request;
  // All pages gathered into one response: the table needs every row to align, and JSON
  // readers get one document either way.
  ionloop::v1::ListJobsResponse all;
  while (true) {
    ionloop::v1::ListJobsResponse page;
    grpc::ClientContext context;
    internal::SetUnaryDeadline(global, context);
    const grpc::Status status = stub->ListJobs(&context, request, &page);
    if (!status.ok()) return ReportRpcError(global, status);
    for (Job& job : *page.mutable_jobs()) *all.add_jobs() = std::move(job);
    all.set_next_page_token(page.next_page_token());
    if (!options.all || page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  if (Json(global)) {
    PrintLine(ToJson(all, /*pretty=*/true));
    return kExitOk;
  }
  if (all.jobs().empty()) {
    PrintNote("(no jobs match)");
    return kExitOk;
  }
  std::fputs(RenderJobList(all.jobs()).c_str(), stdout);
  if (!all.next_page_token().empty()) {
    // On stderr, so that `ionloop list | ...` sees only rows.
    std::fflush(stdout);
    PrintNote(absl::StrCat("(more jobs: add --all, or --page-token ", all.next_page_token(), ")"));
  }
  return kExitOk;
}

int RunCancel(const GlobalOptions& global, const std::string& job_id, const std::string& reason) {
  int exit_code = kExitOk;
  auto stub = JobsStub(global, &exit_code);
  if (stub == nullptr) return exit_code;
  ionloop::v1::CancelJobRequest request;
  request.set_job_id(job_id);
  request.set_reason(reason);
  Job job;
  grpc::ClientContext context;
  internal::SetUnaryDeadline(global, context);
  const grpc::Status status = stub->CancelJob(&context, request, &job);
  if (!status.ok()) return ReportRpcError(global, status);
  if (Json(global)) {
    PrintLine(ToJson(job, /*pretty=*/true));
  } else if (job.state() == ionloop::v1::JOB_STATE_CANCELLED) {
    PrintLine(absl::StrCat("cancelled ", job.id(), " (", StateName(job.state()), ")"));
  } else {
    PrintLine(absl::StrCat("cancel requested for ", job.id(), " (", StateName(job.state()),
                           "); its worker will stop it. Follow with: ionloop watch ", job.id()));
  }
  return kExitOk;
}

int RunInfo(const GlobalOptions& global) {
  int exit_code = kExitOk;
  auto stub = internal::ConnectStub<ionloop::v1::Admin>(global, &exit_code);
  if (stub == nullptr) return exit_code;
  ionloop::v1::ServerInfo info;
  grpc::ClientContext context;
  internal::SetUnaryDeadline(global, context);
  const grpc::Status status =
      stub->GetServerInfo(&context, ionloop::v1::GetServerInfoRequest(), &info);
  if (!status.ok()) return ReportRpcError(global, status);
  std::fputs(Json(global) ? (ToJson(info, /*pretty=*/true) + "\n").c_str()
                          : RenderServerInfo(info, global.server).c_str(),
             stdout);
  return kExitOk;
}

int RunImport(const GlobalOptions& global, const ImportOptions& options) {
  namespace files = ionloop::instruments::cycler_files;
  // Parse locally first: a file that cannot be read sends nothing.
  absl::StatusOr<files::CyclerFile> file = files::ReadCyclerFile(options.file);
  if (!file.ok()) {
    std::fprintf(stderr, "ionloop: import: %s\n", std::string(file.status().message()).c_str());
    return kExitUsage;
  }
  files::MeasurementOptions measurement_options;
  measurement_options.discharge_curves = options.curves;
  std::vector<ionloop::v1::Measurement> measurements =
      files::ToMeasurements(*file, measurement_options);
  uint32_t cycles = 0;
  for (const auto& m : measurements) cycles += m.has_cycle() ? 1 : 0;
  if (cycles == 0) {
    std::fprintf(stderr, "ionloop: import: %s: no complete cycle in the file\n",
                 options.file.c_str());
    return kExitUsage;
  }
  for (const std::string& warning : file->warnings) {
    std::fprintf(stderr, "ionloop: import: warning: %s\n", warning.c_str());
  }

  int exit_code = kExitOk;
  auto stub = JobsStub(global, &exit_code);
  if (stub == nullptr) return exit_code;
  ionloop::v1::ImportJobRequest first;
  *first.mutable_spec() = options.spec;
  first.mutable_spec()->mutable_cycling()->set_max_cycles(cycles);
  first.set_idempotency_key(options.idempotency_key);
  const std::string base = options.file.substr(options.file.find_last_of('/') + 1);
  first.set_source(absl::StrCat(files::FormatName(file->format), ": ", base));
  ionloop::v1::SubmitJobResponse response;
  grpc::ClientContext context;
  auto writer = stub->ImportJob(&context, &response);
  // Chunks well under gRPC's 4 MiB message limit.
  constexpr size_t kChunk = 2000;
  ionloop::v1::ImportJobRequest chunk = std::move(first);
  for (size_t i = 0; i < measurements.size(); ++i) {
    *chunk.add_measurements() = std::move(measurements[i]);
    if (chunk.measurements_size() == static_cast<int>(kChunk)) {
      if (!writer->Write(chunk)) break;
      chunk.Clear();
    }
  }
  if (chunk.measurements_size() > 0 || chunk.has_spec()) writer->Write(chunk);
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  if (!status.ok()) return ReportRpcError(global, status);

  const Job& job = response.job();
  if (options.quiet) {
    PrintLine(job.id());
  } else if (Json(global)) {
    PrintLine(ToJson(response, /*pretty=*/true));
  } else if (response.created()) {
    PrintLine(absl::StrCat("imported ", job.id(), " (", StateName(job.state()), "): ", cycles,
                           " cycles, ", job.measurement_count(), " measurements from ",
                           files::FormatName(file->format), " file ", base));
  } else {
    PrintLine(absl::StrCat("existing ", job.id(), ": idempotency key '", job.idempotency_key(),
                           "' was used before; nothing new imported"));
  }
  return kExitOk;
}

int RunWorkers(const GlobalOptions& global) {
  int exit_code = kExitOk;
  auto stub = internal::ConnectStub<ionloop::v1::Workers>(global, &exit_code);
  if (stub == nullptr) return exit_code;
  ionloop::v1::ListWorkersResponse response;
  grpc::ClientContext context;
  internal::SetUnaryDeadline(global, context);
  const grpc::Status status =
      stub->ListWorkers(&context, ionloop::v1::ListWorkersRequest(), &response);
  if (!status.ok()) return ReportRpcError(global, status);
  std::fputs(Json(global) ? (ToJson(response, /*pretty=*/true) + "\n").c_str()
                          : RenderWorkerList(response.workers()).c_str(),
             stdout);
  return kExitOk;
}

}  // namespace ionloop::cli
