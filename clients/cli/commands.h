// The `ionloop` commands. Each takes typed options (parsed in main.cc), talks to
// ionloopd, prints its result and returns the process exit code (exit_codes.h).
#ifndef IONLOOP_CLIENTS_CLI_COMMANDS_H_
#define IONLOOP_CLIENTS_CLI_COMMANDS_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "ionloop/v1/job.pb.h"
#include "ionloop/v1/campaigns.pb.h"
#include "ionloop/v1/jobs.pb.h"
#include "ionloop/v1/models.pb.h"

namespace ionloop::cli {

enum class OutputFormat { kTable, kJson };

struct GlobalOptions {
  std::string server;  // host:port
  OutputFormat output = OutputFormat::kTable;
  // Deadline of each unary call; connecting gives up after min(timeout, 5 s).
  absl::Duration timeout = absl::Seconds(10);
};

struct SubmitOptions {
  ionloop::v1::JobSpec spec;
  std::string idempotency_key;
  bool quiet = false;  // print only the job id
};

struct ImportOptions {
  std::string file;             // the cycler export
  ionloop::v1::JobSpec spec;    // cycling, from --cell-spec and the overrides
  std::string idempotency_key;
  bool curves = false;          // also store each cycle's V(Q) discharge curve
  bool quiet = false;
};

struct ListOptions {
  ionloop::v1::ListJobsRequest request;
  bool all = false;  // follow next_page_token to the end
};

struct TrainOptions {
  ionloop::v1::TrainRequest request;
  bool watch = false;  // follow the training job to its end
  bool quiet = false;  // print only the job id
};

int RunSubmit(const GlobalOptions& global, const SubmitOptions& options);
int RunStatus(const GlobalOptions& global, const std::string& job_id);
int RunList(const GlobalOptions& global, const ListOptions& options);
int RunCancel(const GlobalOptions& global, const std::string& job_id, const std::string& reason);
int RunWatch(const GlobalOptions& global, const std::string& job_id);
int RunMeasurements(const GlobalOptions& global, const std::string& job_id, uint32_t attempt,
                    bool csv);
int RunInfo(const GlobalOptions& global);
int RunWorkers(const GlobalOptions& global);
int RunImport(const GlobalOptions& global, const ImportOptions& options);
int RunTrain(const GlobalOptions& global, const TrainOptions& options);
int RunModels(const GlobalOptions& global, const ionloop::v1::ListModelsRequest& request);
int RunModel(const GlobalOptions& global, const std::string& model);
int RunPredictLifetime(const GlobalOptions& global,
                       const ionloop::v1::PredictLifetimeRequest& request);
int RunPredictFade(const GlobalOptions& global, const ionloop::v1::PredictFadeRequest& request);
int RunCampaignCreate(const GlobalOptions& global,
                      const ionloop::v1::CreateCampaignRequest& request, bool quiet, bool watch);
int RunCampaignStatus(const GlobalOptions& global, const std::string& id);
int RunCampaignList(const GlobalOptions& global);
// "pause", "resume" or "stop".
int RunCampaignControl(const GlobalOptions& global, const std::string& action,
                       const std::string& id);
int RunCampaignWatch(const GlobalOptions& global, const std::string& id);
int RunCampaignProposals(const GlobalOptions& global, const std::string& id, bool csv);
int RunCampaignReport(const GlobalOptions& global, const std::string& id, const std::string& dir);
int RunEvaluate(const GlobalOptions& global, const ionloop::v1::EvaluateRequest& request,
                bool per_point);

}  // namespace ionloop::cli

#endif  // IONLOOP_CLIENTS_CLI_COMMANDS_H_
