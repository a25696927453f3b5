// Model commands: train, models, model, predict, evaluate.
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "clients/cli/commands.h"
#include "clients/cli/exit_codes.h"
#include "clients/cli/format.h"
#include "clients/cli/rpc_internal.h"
#include "common/job_enums.h"
#include "ionloop/v1/models.grpc.pb.h"

namespace ionloop::cli {
namespace {

namespace v1 = ::ionloop::v1;
using internal::PrintLine;
using internal::ReportRpcError;

bool Json(const GlobalOptions& global) { return global.output == OutputFormat::kJson; }

// Prediction over many cells and evaluation take longer than a status call.
constexpr absl::Duration kLongCall = absl::Minutes(10);

std::string Ref(const v1::Model& m) { return absl::StrCat(m.name(), "@", m.version()); }

std::string Figure(double v, const char* format) {
  return v == 0 ? "-" : absl::StrFormat(format, v);
}

std::string RenderModelRow(const v1::Model& m) {
  return absl::StrFormat("%-24s %-10s %-16s %6d %6d %8s %8s %6s %6s  %s", Ref(m),
                         ModelKindName(m.kind()), FormatLocalTime(m.created_at()),
                         m.data().cells(), m.metrics().validation_cells(),
                         Figure(m.metrics().mape_percent(), "%.1f%%"),
                         Figure(m.metrics().rmse_cycles(), "%.0f"),
                         Figure(m.metrics().coverage_68(), "%.2f"),
                         Figure(m.metrics().coverage_95(), "%.2f"), m.data().source());
}

std::string RenderModelDetail(const v1::Model& m) {
  std::string out = absl::StrCat("model:        ", Ref(m), "\n", "kind:         ",
                                 ModelKindName(m.kind()), "\n", "created:      ",
                                 FormatLocalTime(m.created_at()), " by ", m.training_job_id(),
                                 "\n");
  if (!m.base_model().empty()) absl::StrAppend(&out, "fine-tuned:   from ", m.base_model(), "\n");
  absl::StrAppend(&out, "data:         ", m.data().cells(), " cells, ", m.data().rows(),
                  " training rows, from ", m.data().source(), "\n");
  std::vector<std::string> ions;
  for (const auto& [ion, n] : m.data().cells_per_ion()) ions.push_back(absl::StrCat(ion, " ", n));
  std::sort(ions.begin(), ions.end());
  absl::StrAppend(&out, "ions:         ", absl::StrJoin(ions, ", "), "\n");
  if (!m.embedding().empty()) absl::StrAppend(&out, "embedding:    ", m.embedding(), "\n");
  const v1::ModelMetrics& x = m.metrics();
  absl::StrAppend(&out,
                  absl::StrFormat("held out:     %d cells: RMSE %.1f cycles, MAPE %.2f %%, "
                                  "coverage %.2f (68 %%) / %.2f (95 %%)\n",
                                  x.validation_cells(), x.rmse_cycles(), x.mape_percent(),
                                  x.coverage_68(), x.coverage_95()),
                  absl::StrFormat("training:     %.1f s, %d members\n", x.training_seconds(),
                                  m.options().ensemble_members() > 0
                                      ? m.options().ensemble_members()
                                      : 5),
                  "weights:      ", m.weights_bytes(), " bytes\n", "features:     ",
                  absl::StrJoin(m.feature_names(), ", "), "\n");
  return out;
}

}  // namespace

int RunTrain(const GlobalOptions& global, const TrainOptions& options) {
  v1::Job job;
  if (const int code = internal::CallUnary<v1::Models>(global, &v1::Models::Stub::Train,
                                                       options.request, &job);
      code != kExitOk) {
    return code;
  }
  if (options.quiet) {
    PrintLine(job.id());
  } else if (Json(global)) {
    PrintLine(ToJson(job, /*pretty=*/true));
  } else {
    PrintLine(absl::StrCat("training ", job.id(), " (", StateName(job.state()), "): ",
                           SpecSummary(job.spec())));
  }
  return options.watch ? RunWatch(global, job.id()) : kExitOk;
}

int RunModels(const GlobalOptions& global, const v1::ListModelsRequest& request) {
  v1::ListModelsResponse response;
  if (const int code = internal::CallUnary<v1::Models>(global, &v1::Models::Stub::ListModels,
                                                       request, &response);
      code != kExitOk) {
    return code;
  }
  if (Json(global)) {
    PrintLine(ToJson(response, /*pretty=*/true));
    return kExitOk;
  }
  PrintLine(absl::StrFormat("%-24s %-10s %-16s %6s %6s %8s %8s %6s %6s  %s", "MODEL", "KIND",
                            "CREATED", "CELLS", "HELD", "MAPE", "RMSE", "COV68", "COV95",
                            "DATA"));
  for (const v1::Model& m : response.models()) PrintLine(RenderModelRow(m));
  return kExitOk;
}

int RunModel(const GlobalOptions& global, const std::string& model) {
  v1::GetModelRequest request;
  request.set_model(model);
  v1::Model response;
  if (const int code = internal::CallUnary<v1::Models>(global, &v1::Models::Stub::GetModel,
                                                       request, &response);
      code != kExitOk) {
    return code;
  }
  std::fputs(Json(global) ? (ToJson(response, true) + "\n").c_str()
                          : RenderModelDetail(response).c_str(),
             stdout);
  return kExitOk;
}

int RunPredictLifetime(const GlobalOptions& global, const v1::PredictLifetimeRequest& request) {
  v1::PredictLifetimeResponse response;
  if (const int code = internal::CallUnary<v1::Models>(global, &v1::Models::Stub::PredictLifetime,
                                                       request, &response, kLongCall);
      code != kExitOk) {
    return code;
  }
  if (Json(global)) {
    PrintLine(ToJson(response, /*pretty=*/true));
    return kExitOk;
  }
  PrintLine(absl::StrCat("model ", response.model()));
  for (int i = 0; i < response.predictions_size(); ++i) {
    const v1::LifetimePrediction& p = response.predictions(i);
    PrintLine(absl::StrFormat("cell %d: end of life (%.0f %% SOH) at %.0f ± %.0f cycles", i + 1,
                              p.eol_soh_percent(), p.eol_cycles_mean(), p.eol_cycles_stddev()));
    PrintLine(absl::StrFormat("  %8s %10s %9s", "SOH_%", "CYCLES", "STDDEV"));
    for (const v1::SohCycles& c : p.points()) {
      PrintLine(absl::StrFormat("  %8.1f %10.0f %9.0f", c.soh_percent(), c.cycles_mean(),
                                c.cycles_stddev()));
    }
  }
  return kExitOk;
}

int RunPredictFade(const GlobalOptions& global, const v1::PredictFadeRequest& request) {
  v1::FadePrediction response;
  if (const int code = internal::CallUnary<v1::Models>(global, &v1::Models::Stub::PredictFade,
                                                       request, &response, kLongCall);
      code != kExitOk) {
    return code;
  }
  if (Json(global)) {
    PrintLine(ToJson(response, /*pretty=*/true));
    return kExitOk;
  }
  PrintLine(absl::StrFormat("model %s: end of life at %.0f cycles (95 %% interval %.0f..%.0f)",
                            response.model(), response.eol_cycles_mean(),
                            response.eol_cycles_low(), response.eol_cycles_high()));
  PrintLine(absl::StrFormat("  %8s %8s %8s", "CYCLE", "SOH_%", "STDDEV"));
  for (const v1::FadePoint& p : response.curve()) {
    PrintLine(absl::StrFormat("  %8d %8.2f %8.2f", p.cycle(), p.soh_mean(), p.soh_stddev()));
  }
  return kExitOk;
}

int RunEvaluate(const GlobalOptions& global, const v1::EvaluateRequest& request,
                bool per_point) {
  v1::EvaluateResponse response;
  if (const int code = internal::CallUnary<v1::Models>(global, &v1::Models::Stub::Evaluate,
                                                       request, &response, kLongCall);
      code != kExitOk) {
    return code;
  }
  if (Json(global)) {
    PrintLine(ToJson(response, /*pretty=*/true));
    return kExitOk;
  }
  if (per_point) {
    PrintLine(absl::StrFormat("%-20s %6s %10s %10s %9s %8s", "CELL", "SOH_%", "TRUE", "PREDICTED",
                              "STDDEV", "ERROR_%"));
    for (const v1::CellEvaluation& c : response.cells()) {
      PrintLine(absl::StrFormat("%-20s %6.1f %10.0f %10.0f %9.0f %+8.1f%s", c.cell_id(),
                                c.soh_percent(), c.true_cycles(), c.predicted_cycles(),
                                c.predicted_stddev(),
                                100 * (c.predicted_cycles() - c.true_cycles()) / c.true_cycles(),
                                c.scored() ? "" : "  (not scored)"));
    }
  }
  PrintLine(absl::StrFormat(
      "model %s on %s: %d cells (%d skipped), %d points: RMSE %.1f cycles, MAPE %.2f %%, "
      "coverage %.2f (68 %%) / %.2f (95 %%)",
      response.model(), request.dataset(), response.cells_evaluated(), response.cells_skipped(),
      response.cells_size(), response.rmse_cycles(), response.mape_percent(),
      response.coverage_68(), response.coverage_95()));
  return kExitOk;
}

}  // namespace ionloop::cli
