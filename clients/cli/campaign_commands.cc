// Campaign commands: campaign create/status/list/watch/pause/resume/stop/proposals.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "clients/cli/commands.h"
#include "clients/cli/exit_codes.h"
#include "clients/cli/format.h"
#include "clients/cli/progress_bar.h"
#include "clients/cli/rpc_internal.h"
#include "clients/report/campaign_report.h"
#include "ionloop/v1/campaigns.grpc.pb.h"
#include "ionloop/v1/jobs.grpc.pb.h"
#include "ionloop/v1/models.grpc.pb.h"

namespace ionloop::cli {
namespace {

namespace v1 = ::ionloop::v1;
using internal::PrintError;
using internal::PrintLine;
using internal::ReportRpcError;

bool Json(const GlobalOptions& global) { return global.output == OutputFormat::kJson; }

std::string StateOf(v1::CampaignState s) {
  std::string name = v1::CampaignState_Name(s);
  return name.substr(std::string("CAMPAIGN_STATE_").size());
}

bool Ended(v1::CampaignState s) {
  return s == v1::CAMPAIGN_STATE_STOPPED || s == v1::CAMPAIGN_STATE_COMPLETED ||
         s == v1::CAMPAIGN_STATE_FAILED;
}

std::string Budget(const v1::Campaign& c) {
  const v1::CampaignBudget& b = c.spec().budget();
  std::string out = absl::StrCat(c.proposed());
  if (b.experiments() > 0) absl::StrAppend(&out, "/", b.experiments());
  absl::StrAppend(&out, " experiments, ", absl::StrFormat("%.1f", c.channel_hours()));
  if (b.channel_hours() > 0) absl::StrAppend(&out, absl::StrFormat("/%.0f", b.channel_hours()));
  absl::StrAppend(&out, " channel-h");
  return out;
}

// One line: where the campaign stands.
std::string ProgressLine(const v1::Campaign& c) {
  return absl::StrFormat(
      "%s %-9s %s | running %d, finished %d, early-stopped %d | best %.0f cycles%s | model v%d, "
      "error %.1f %%",
      c.id(), StateOf(c.state()), Budget(c), c.running(), c.finished(), c.early_stopped(),
      c.best_cycle_life(), c.best_label().empty() ? "" : absl::StrCat(" (", c.best_label(), ")"),
      c.model_version(), c.model_error_percent());
}

std::string RenderDetail(const v1::Campaign& c) {
  return absl::StrCat(
      "campaign:     ", c.id(), c.spec().name().empty() ? "" : absl::StrCat(" — ", c.spec().name()),
      "\n", "state:        ", StateOf(c.state()), ": ", c.message(), "\n",
      "created:      ", FormatLocalTime(c.created_at()), "\n",
      "policy:       ", c.spec().policy().name().empty() ? "ucb" : c.spec().policy().name(),
      c.spec().policy().batched() ? " (batched)" : " (asynchronous)", "\n",
      "candidates:   ", c.candidates(), "\n", "budget:       ", Budget(c), "\n",
      absl::StrFormat("tests:        %d running, %d finished, %d early-stopped\n", c.running(),
                      c.finished(), c.early_stopped()),
      absl::StrFormat("best:         %.0f cycles: %s (%s)\n", c.best_cycle_life(), c.best_label(),
                      c.best_proposal_id()),
      absl::StrFormat("model:        v%d, error %.1f %% (median, at proposal time)\n",
                      c.model_version(), c.model_error_percent()));
}

}  // namespace

int RunCampaignCreate(const GlobalOptions& global, const v1::CreateCampaignRequest& request,
                      bool quiet, bool watch) {
  v1::Campaign campaign;
  if (const int code = internal::CallUnary<v1::Campaigns>(
          global, &v1::Campaigns::Stub::CreateCampaign, request, &campaign);
      code != kExitOk) {
    return code;
  }
  if (quiet) {
    PrintLine(campaign.id());
  } else if (Json(global)) {
    PrintLine(ToJson(campaign, /*pretty=*/true));
  } else {
    PrintLine(absl::StrCat("created ", campaign.id(), ": ", campaign.candidates(),
                           " candidate cells, policy ",
                           campaign.spec().policy().name().empty() ? "ucb"
                                                                   : campaign.spec().policy().name()));
  }
  return watch ? RunCampaignWatch(global, campaign.id()) : kExitOk;
}

int RunCampaignStatus(const GlobalOptions& global, const std::string& id) {
  v1::GetCampaignRequest request;
  request.set_campaign_id(id);
  v1::Campaign campaign;
  if (const int code = internal::CallUnary<v1::Campaigns>(
          global, &v1::Campaigns::Stub::GetCampaign, request, &campaign);
      code != kExitOk) {
    return code;
  }
  std::fputs(Json(global) ? (ToJson(campaign, true) + "\n").c_str() : RenderDetail(campaign).c_str(),
             stdout);
  return kExitOk;
}

int RunCampaignList(const GlobalOptions& global) {
  v1::ListCampaignsResponse response;
  if (const int code = internal::CallUnary<v1::Campaigns>(
          global, &v1::Campaigns::Stub::ListCampaigns, v1::ListCampaignsRequest(), &response);
      code != kExitOk) {
    return code;
  }
  if (Json(global)) {
    PrintLine(ToJson(response, true));
    return kExitOk;
  }
  for (const v1::Campaign& c : response.campaigns()) PrintLine(ProgressLine(c));
  return kExitOk;
}

int RunCampaignControl(const GlobalOptions& global, const std::string& action,
                       const std::string& id) {
  v1::CampaignRequest request;
  request.set_campaign_id(id);
  v1::Campaign campaign;
  const auto method = action == "pause"    ? &v1::Campaigns::Stub::PauseCampaign
                      : action == "resume" ? &v1::Campaigns::Stub::ResumeCampaign
                                           : &v1::Campaigns::Stub::StopCampaign;
  if (const int code = internal::CallUnary<v1::Campaigns>(global, method, request, &campaign);
      code != kExitOk) {
    return code;
  }
  PrintLine(Json(global) ? ToJson(campaign, true) : ProgressLine(campaign));
  return kExitOk;
}

int RunCampaignWatch(const GlobalOptions& global, const std::string& id) {
  int exit_code = kExitOk;
  auto stub = internal::ConnectStub<v1::Campaigns>(global, &exit_code);
  if (stub == nullptr) return exit_code;
  v1::CampaignRequest request;
  request.set_campaign_id(id);
  grpc::ClientContext context;  // no deadline: a watch lasts as long as the campaign
  auto reader = stub->WatchCampaign(&context, request);
  const bool json = Json(global);
  const bool draw = !json && IsTerminal(stdout);
  ProgressBar bar(stdout, ProgressBar::TerminalColumns(stdout));
  v1::CampaignEvent event;
  v1::Campaign last;
  while (reader->Read(&event)) {
    last = event.campaign();
    if (json) {
      PrintLine(ToJson(event, false));
    } else {
      bar.Clear();
      if (event.type() == v1::CAMPAIGN_EVENT_TYPE_SNAPSHOT) {
        PrintLine(ProgressLine(last));
      } else {
        PrintLine(absl::StrCat(FormatLocalTime(event.at()), "  ", event.message()));
      }
      if (draw && !Ended(last.state())) {
        const uint32_t budget = last.spec().budget().experiments();
        bar.Draw(budget > 0 ? static_cast<double>(last.proposed()) / budget : 0,
                 absl::StrFormat("%d running, best %.0f, model error %.0f%%", last.running(),
                                 last.best_cycle_life(), last.model_error_percent()));
      }
    }
    std::fflush(stdout);
  }
  bar.Clear();
  const grpc::Status status = reader->Finish();
  if (!status.ok()) return ReportRpcError(global, status);
  if (!json) PrintLine(ProgressLine(last));
  if (!Ended(last.state())) {
    PrintError(absl::StrCat("ionloopd ended the watch before ", id, " finished"));
    return kExitUnreachable;
  }
  return last.state() == v1::CAMPAIGN_STATE_FAILED ? kExitJobNotSucceeded : kExitOk;
}

int RunCampaignProposals(const GlobalOptions& global, const std::string& id, bool csv) {
  v1::GetProposalsRequest request;
  request.set_campaign_id(id);
  v1::GetProposalsResponse response;
  if (const int code = internal::CallUnary<v1::Campaigns>(
          global, &v1::Campaigns::Stub::GetProposals, request, &response);
      code != kExitOk) {
    return code;
  }
  if (Json(global)) {
    PrintLine(ToJson(response, true));
    return kExitOk;
  }
  if (csv) {
    PrintLine("proposal,job_id,state,candidate,policy,batch,rank,model_version,"
              "predicted_cycles,predicted_stddev_cycles,acquisition,outcome_cycles,"
              "outcome_predicted,outcome_censored,cycles_run,channel_hours,charge_time_h");
  } else {
    PrintLine(absl::StrFormat("%-18s %-8s %-13s %9s %7s %9s %9s  %s", "PROPOSAL", "JOB", "STATE",
                              "PREDICTED", "±", "ACQ", "OUTCOME", "CELL (POLICY)"));
  }
  for (const v1::Proposal& p : response.proposals()) {
    std::string state = v1::ProposalState_Name(p.state()).substr(std::string("PROPOSAL_STATE_").size());
    if (csv) {
      PrintLine(absl::StrCat(
          p.id(), ",", p.job_id(), ",", state, ",", CsvField(p.candidate_label()), ",",
          CsvField(p.reason().policy()), ",", p.reason().batch(), ",", p.reason().rank(), ",",
          p.reason().model_version(), ",", FormatDouble(p.reason().predicted_cycles()), ",",
          FormatDouble(p.reason().predicted_stddev_cycles()), ",",
          FormatDouble(p.reason().acquisition()), ",", FormatDouble(p.outcome_cycles()), ",",
          p.outcome_predicted() ? "true" : "false", ",", p.outcome_censored() ? "true" : "false",
          ",", p.cycles_run(), ",", FormatDouble(p.channel_hours()), ",",
          FormatDouble(p.charge_time_h())));
    } else {
      PrintLine(absl::StrFormat(
          "%-18s %-8s %-13s %9.0f %7.0f %9.3f %9s  %s (%s)", p.id(), p.job_id(), state,
          p.reason().predicted_cycles(), p.reason().predicted_stddev_cycles(),
          p.reason().acquisition(),
          p.outcome_cycles() > 0 ? absl::StrFormat("%.0f%s", p.outcome_cycles(),
                                                   p.outcome_predicted() ? "*" : "")
                                 : "-",
          p.candidate_label(), p.reason().policy()));
    }
  }
  if (!csv) PrintLine("(* predicted by the early-cycle model: the test was stopped early)");
  return kExitOk;
}

namespace {

// Expected best of the first n of `values` taken in a uniformly random order: the
// random-search baseline for the same tested cells. With the values sorted ascending,
// P(max of n = v_k) = C(k-1, n-1) / C(m, n).
std::vector<double> RandomOrderBestSoFar(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const int m = static_cast<int>(values.size());
  std::vector<double> out;
  for (int n = 1; n <= m; ++n) {
    double expected = 0;
    const double log_total = std::lgamma(m + 1.0) - std::lgamma(n + 1.0) - std::lgamma(m - n + 1.0);
    for (int k = n; k <= m; ++k) {
      const double log_ways = std::lgamma(static_cast<double>(k)) - std::lgamma(static_cast<double>(n)) -
                              std::lgamma(static_cast<double>(k - n + 1));
      expected += values[k - 1] * std::exp(log_ways - log_total);
    }
    out.push_back(expected);
  }
  return out;
}

std::string ProposalStateName(v1::ProposalState s) {
  std::string name = v1::ProposalState_Name(s).substr(std::string("PROPOSAL_STATE_").size());
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return name;
}

}  // namespace

int RunCampaignReport(const GlobalOptions& global, const std::string& id, const std::string& dir) {
  v1::Campaign campaign;
  v1::GetCampaignRequest get;
  get.set_campaign_id(id);
  if (const int code = internal::CallUnary<v1::Campaigns>(
          global, &v1::Campaigns::Stub::GetCampaign, get, &campaign);
      code != kExitOk) {
    return code;
  }
  v1::GetProposalsResponse proposals;
  v1::GetProposalsRequest list;
  list.set_campaign_id(id);
  if (const int code = internal::CallUnary<v1::Campaigns>(
          global, &v1::Campaigns::Stub::GetProposals, list, &proposals);
      code != kExitOk) {
    return code;
  }
  int exit_code = kExitOk;
  auto jobs = internal::ConnectStub<v1::Jobs>(global, &exit_code);
  if (jobs == nullptr) return exit_code;
  auto models = internal::ConnectStub<v1::Models>(global, &exit_code);
  if (models == nullptr) return exit_code;

  report::CampaignReportData data;
  data.campaign_id = campaign.id();
  data.title = campaign.spec().name().empty() ? campaign.id() : campaign.spec().name();
  data.policy = campaign.spec().policy().name().empty() ? "ucb" : campaign.spec().policy().name();
  data.objective = campaign.spec().objective() == v1::CAMPAIGN_OBJECTIVE_LIFE_VS_CHARGE_TIME
                       ? "maximize cycle life, minimize charge time"
                       : "maximize cycle life";
  data.generated_at = absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone());
  data.eol_soh_percent = campaign.spec().search_space().eol_soh_percent() > 0
                             ? campaign.spec().search_space().eol_soh_percent()
                             : 80;
  data.summary = {
      {"state", absl::StrCat(StateOf(campaign.state()), ": ", campaign.message())},
      {"candidates", absl::StrCat(campaign.candidates())},
      {"budget used", Budget(campaign)},
      {"tests", absl::StrFormat("%d finished, %d stopped early, %d running", campaign.finished(),
                                campaign.early_stopped(), campaign.running())},
      {"best", absl::StrFormat("%.0f cycles: %s", campaign.best_cycle_life(), campaign.best_label())},
      {"model", absl::StrFormat("version %d; median error at proposal time %.1f %%",
                                campaign.model_version(), campaign.model_error_percent())},
  };

  std::vector<double> outcomes;
  double best = 0;
  for (const v1::Proposal& p : proposals.proposals()) {
    report::ProposalRow& row = data.proposals.emplace_back();
    row.batch = static_cast<int>(p.reason().batch());
    row.rank_in_batch = static_cast<int>(p.reason().rank());
    row.proposal_id = p.id();
    row.job_id = p.job_id();
    row.candidate_label = p.candidate_label();
    row.state = ProposalStateName(p.state());
    row.policy = p.reason().policy();
    row.model_version = static_cast<int>(p.reason().model_version());
    if (p.reason().model_version() > 0) {
      row.predicted_mean_cycles = p.reason().predicted_cycles();
      row.predicted_stddev_cycles = p.reason().predicted_stddev_cycles();
    }
    row.acquisition = p.reason().acquisition();
    row.charge_time_h = p.charge_time_h();
    const bool has_outcome = p.state() == v1::PROPOSAL_STATE_FINISHED ||
                             p.state() == v1::PROPOSAL_STATE_EARLY_STOPPED;
    if (has_outcome) {
      row.outcome_cycles = p.outcome_cycles();
      row.outcome_predicted = p.outcome_predicted();
      row.outcome_censored = p.outcome_censored();
      outcomes.push_back(p.outcome_cycles());
      best = std::max(best, p.outcome_cycles());
      data.best_so_far.push_back(best);
      if (p.reason().model_version() > 0) {
        data.parity.push_back({p.candidate_label(), p.outcome_cycles(),
                               p.reason().predicted_cycles(), p.reason().predicted_stddev_cycles(),
                               p.outcome_predicted()});
      }
      if (campaign.spec().objective() == v1::CAMPAIGN_OBJECTIVE_LIFE_VS_CHARGE_TIME) {
        data.pareto.push_back({p.candidate_label(), p.charge_time_h(), p.outcome_cycles(), false});
      }
    }
    if (p.job_id().empty() || p.state() == v1::PROPOSAL_STATE_PROPOSED) continue;
    // The measured fade curve, from the job's cycle records.
    report::FadeCurve curve;
    curve.label = p.candidate_label();
    curve.early_stopped = p.state() == v1::PROPOSAL_STATE_EARLY_STOPPED;
    v1::ListMeasurementsRequest request;
    request.set_job_id(p.job_id());
    grpc::ClientContext context;
    auto reader = jobs->ListMeasurements(&context, request);
    v1::Measurement m;
    const double nominal = p.cell().nominal_capacity_ah();
    while (reader->Read(&m)) {
      if (!m.has_cycle() || nominal <= 0) continue;
      curve.cycles.push_back(m.cycle().cycle_index());
      curve.soh_percent.push_back(100 * m.cycle().discharge_capacity_ah() / nominal);
    }
    if (!reader->Finish().ok()) continue;
    if (curve.early_stopped && !campaign.spec().early_stop().fade_model().empty()) {
      // The early-cycle model's continuation, drawn dashed.
      v1::PredictFadeRequest predict;
      predict.set_model(campaign.spec().early_stop().fade_model());
      predict.set_job_id(p.job_id());
      v1::FadePrediction forecast;
      grpc::ClientContext predict_context;
      internal::SetUnaryDeadline(global, predict_context);
      if (models->PredictFade(&predict_context, predict, &forecast).ok()) {
        for (const v1::FadePoint& f : forecast.curve()) {
          curve.predicted_cycles.push_back(f.cycle());
          curve.predicted_soh_percent.push_back(f.soh_mean());
        }
      }
    }
    data.fade_curves.push_back(std::move(curve));
  }
  data.random_best_so_far = RandomOrderBestSoFar(outcomes);
  data.random_baseline_note =
      "Random search: the expected best after n experiments had the same tested cells been run "
      "in a uniformly random order. (bench/campaign_bench compares policies against true "
      "random search on the virtual cycler, where every cell's life is known.)";
  for (auto& point : data.pareto) {
    point.on_front = std::none_of(data.pareto.begin(), data.pareto.end(), [&](const auto& other) {
      return other.cycle_life >= point.cycle_life && other.charge_time_h <= point.charge_time_h &&
             (other.cycle_life > point.cycle_life || other.charge_time_h < point.charge_time_h);
    });
  }
  absl::StatusOr<std::string> path = report::WriteCampaignReport(data, dir);
  if (!path.ok()) {
    PrintError(absl::StrCat("report: ", path.status().message()));
    return kExitRejected;
  }
  PrintLine(*path);
  return kExitOk;
}

}  // namespace ionloop::cli
