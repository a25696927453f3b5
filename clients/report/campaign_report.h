// The campaign report: one self-contained folder with index.html (inline SVG plots, inline
// CSS, no scripts, no external assets: it opens offline from a file:// URL) and the CSV
// behind each plot. Plain data in, files out: no gRPC, no protobuf. `ionloop campaign report`
// and `ionloop demo` fill CampaignReportData from RPCs and call WriteCampaignReport.
//
// Conventions of the input: a NaN number means "unknown"; it is skipped in plots and written
// as an empty CSV cell. Every string is HTML-escaped on output.
#ifndef IONLOOP_CLIENTS_REPORT_CAMPAIGN_REPORT_H_
#define IONLOOP_CLIENTS_REPORT_CAMPAIGN_REPORT_H_

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace ionloop::report {

inline constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();

// State of health vs cycle for one cell. An early-stopped cell may carry the model's
// continuation (drawn dashed, in the cell's colour, from its last measured point).
struct FadeCurve {
  std::string label;
  std::vector<double> cycles, soh_percent;             // same length
  bool early_stopped = false;
  std::vector<double> predicted_cycles, predicted_soh_percent;  // same length; may be empty
};

// Predicted vs measured cycle life of one cell. For an early-stopped cell "measured" is the
// recorded outcome (itself a prediction of the early-cycle model); it is drawn differently.
struct ParityPoint {
  std::string label;
  double measured_cycles = kUnknown;
  double predicted_cycles = kUnknown;
  double predicted_stddev = kUnknown;                  // cycles; NaN or 0: no error bar
  bool early_stopped = false;
};

// One proposal and why it was made (mirrors ionloop.v1.Proposal and its ProposalReason).
struct ProposalRow {
  int batch = 0;                                       // 0: none (asynchronous filling)
  int rank_in_batch = 0;                               // 1 = first pick of its batch
  std::string proposal_id, job_id, candidate_label;
  std::string state;                                   // e.g. "running", "early_stopped"
  std::string policy;                                  // e.g. "ei", "random"
  int model_version = 0;                               // 0: no model (random/initial design)
  double predicted_mean_cycles = kUnknown;
  double predicted_stddev_cycles = kUnknown;
  double acquisition = kUnknown;
  double outcome_cycles = kUnknown;                    // NaN or <= 0: no outcome yet
  bool outcome_predicted = false;                      // from the early-cycle model
  bool outcome_censored = false;                       // hit the cycle cap before EOL (">=")
  double charge_time_h = kUnknown;
};

struct CampaignReportData {
  std::string campaign_id, title, policy, objective;
  std::string generated_at;                            // RFC 3339
  std::vector<std::pair<std::string, std::string>> summary;  // shown in order
  std::vector<FadeCurve> fade_curves;
  double eol_soh_percent = 80;                         // the end-of-life line on the fade plot
  std::vector<ParityPoint> parity;
  std::vector<double> best_so_far;                     // best cycle life after experiment 1..n
  std::vector<double> random_best_so_far;              // random-search baseline, same x
  std::string random_baseline_note;                    // shown under the plot
  struct ParetoPoint {
    std::string label;
    double charge_time_h = kUnknown;
    double cycle_life = kUnknown;
    bool on_front = false;
  };
  std::vector<ParetoPoint> pareto;                     // empty: single objective, no plot
  std::vector<ProposalRow> proposals;
};

// Creates `dir` (and parents) and writes, each atomically (temp file + rename):
//   index.html, fade_curves.csv, parity.csv, best_so_far.csv, proposals.csv, and
//   pareto.csv when there are Pareto points (a stale pareto.csv is removed otherwise).
// Plots with no data show a "no data yet" note; their CSV holds the header only.
// Returns the path of index.html. Errors: INVALID_ARGUMENT for inconsistent input (naming
// the field and cell), otherwise the errno-mapped code with a message naming the file.
absl::StatusOr<std::string> WriteCampaignReport(const CampaignReportData& data,
                                                const std::string& dir);

// The pieces, for tests and for callers that serve the page themselves.
absl::StatusOr<std::string> RenderCampaignReportHtml(const CampaignReportData& data);
std::string FadeCurvesCsv(const CampaignReportData& data);
std::string ParityCsv(const CampaignReportData& data);
std::string BestSoFarCsv(const CampaignReportData& data);
std::string ParetoCsv(const CampaignReportData& data);
std::string ProposalsCsv(const CampaignReportData& data);

// One RFC 4180 field: quoted when it holds a comma, quote, CR or LF; quotes doubled.
std::string CsvField(const std::string& value);

}  // namespace ionloop::report

#endif  // IONLOOP_CLIENTS_REPORT_CAMPAIGN_REPORT_H_
