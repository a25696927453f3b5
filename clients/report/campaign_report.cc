#include "clients/report/campaign_report.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "clients/report/svg_plot.h"
#include "common/status_macros.h"

namespace ionloop::report {
namespace {

namespace fs = std::filesystem;

// Up to this many cells get their own legend entry on the fade plot; more get style keys.
constexpr size_t kMaxNamedFadeCurves = 10;

bool Finite(double v) { return std::isfinite(v); }
bool HasOutcome(double v) { return Finite(v) && v > 0; }

std::string CsvNumber(double v) { return Finite(v) ? absl::StrFormat("%.10g", v) : ""; }
std::string CsvBool(bool b) { return b ? "true" : "false"; }

// Joins already-formatted fields into one CSV line. LF line ends: RFC 4180 asks for CRLF,
// but every CSV reader accepts LF and it keeps the files friendly to grep, awk and diff.
std::string CsvLine(std::initializer_list<std::string> fields) {
  std::string line;
  bool first = true;
  for (const std::string& f : fields) {
    if (!first) line += ',';
    line += f;
    first = false;
  }
  line += '\n';
  return line;
}

std::string Html(absl::string_view s) { return EscapeXml(s); }

std::string Cycles(double v) { return Finite(v) ? absl::StrFormat("%.0f", v) : "\u2014"; }

// ---- Input checks -------------------------------------------------------------------------

absl::Status Validate(const CampaignReportData& data) {
  for (size_t i = 0; i < data.fade_curves.size(); ++i) {
    const FadeCurve& c = data.fade_curves[i];
    if (c.cycles.size() != c.soh_percent.size()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "fade_curves[%d] (\"%s\"): cycles has %d values but soh_percent has %d", i, c.label,
          c.cycles.size(), c.soh_percent.size()));
    }
    if (c.predicted_cycles.size() != c.predicted_soh_percent.size()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "fade_curves[%d] (\"%s\"): predicted_cycles has %d values but predicted_soh_percent "
          "has %d",
          i, c.label, c.predicted_cycles.size(), c.predicted_soh_percent.size()));
    }
  }
  return absl::OkStatus();
}

// ---- Plots --------------------------------------------------------------------------------

std::string NoData(absl::string_view what) {
  return absl::StrCat("<p class=\"empty\">No data yet: ", Html(what), ".</p>\n");
}

std::string Figure(const std::string& svg, const std::string& caption, const std::string& csv) {
  return absl::StrCat("<figure>\n", svg, "<figcaption>", caption,
                      (caption.empty() ? "" : " "), "Data: <a href=\"", Html(csv), "\">",
                      Html(csv), "</a>.</figcaption>\n</figure>\n");
}

std::string FadeSection(const CampaignReportData& data) {
  std::string out = "<section id=\"fade\">\n<h2>Capacity fade</h2>\n";
  bool any = false;
  bool any_prediction = false;
  for (const FadeCurve& c : data.fade_curves) {
    for (size_t i = 0; i < c.cycles.size(); ++i) {
      any |= Finite(c.cycles[i]) && Finite(c.soh_percent[i]);
    }
    any_prediction |= !c.predicted_cycles.empty();
  }
  if (!any) {
    return absl::StrCat(out, NoData("no cell has reported a cycle"), "</section>\n");
  }
  const bool named = data.fade_curves.size() <= kMaxNamedFadeCurves;
  PlotSpec spec;
  spec.id = "plot-fade";
  spec.x_label = "cycle";
  spec.y_label = "state of health (%)";
  spec.include_x = {0};
  spec.reference_lines.push_back(
      {data.eol_soh_percent, absl::StrFormat("%g %% EOL", data.eol_soh_percent)});
  for (size_t i = 0; i < data.fade_curves.size(); ++i) {
    const FadeCurve& c = data.fade_curves[i];
    const std::string& color = PaletteColor(i);
    Series measured;
    if (named) measured.name = c.early_stopped ? c.label + " (early-stopped)" : c.label;
    measured.x = c.cycles;
    measured.y = c.soh_percent;
    measured.color = color;
    measured.opacity = named ? 1.0 : 0.8;
    measured.line_width = named ? 1.6 : 1.1;
    spec.series.push_back(measured);
    if (!c.predicted_cycles.empty()) {
      Series predicted;
      // Start the dashed continuation at the last measured point so the two lines join.
      for (size_t j = c.cycles.size(); j-- > 0;) {
        if (Finite(c.cycles[j]) && Finite(c.soh_percent[j])) {
          if (c.predicted_cycles.empty() || c.predicted_cycles.front() > c.cycles[j]) {
            predicted.x.push_back(c.cycles[j]);
            predicted.y.push_back(c.soh_percent[j]);
          }
          break;
        }
      }
      predicted.x.insert(predicted.x.end(), c.predicted_cycles.begin(), c.predicted_cycles.end());
      predicted.y.insert(predicted.y.end(), c.predicted_soh_percent.begin(),
                         c.predicted_soh_percent.end());
      predicted.color = color;
      predicted.dashed = true;
      predicted.opacity = measured.opacity;
      predicted.line_width = measured.line_width;
      spec.series.push_back(predicted);
    }
  }
  // Style keys (a name and no points: legend only).
  if (!named) {
    Series key;
    key.name = "measured";
    key.color = "#555555";
    spec.series.push_back(key);
  }
  if (any_prediction) {
    Series key;
    key.name = "model continuation";
    key.color = "#555555";
    key.dashed = true;
    spec.series.push_back(key);
  }
  size_t early = 0;
  for (const FadeCurve& c : data.fade_curves) early += c.early_stopped;
  const std::string caption = absl::StrFormat(
      "%d cell%s, %d stopped early; dashed: the model's predicted continuation; red line: "
      "end of life at %g %% SOH.",
      data.fade_curves.size(), data.fade_curves.size() == 1 ? "" : "s", early,
      data.eol_soh_percent);
  return absl::StrCat(out, Figure(RenderSvg(spec), caption, "fade_curves.csv"), "</section>\n");
}

std::string ParitySection(const CampaignReportData& data) {
  std::string out = "<section id=\"parity\">\n<h2>Predicted vs measured cycle life</h2>\n";
  Series measured, early;
  measured.name = "run to end of life";
  measured.line = false;
  measured.marker = Marker::kCircle;
  measured.color = PaletteColor(0);
  early.name = "early-stopped (predicted)";
  early.line = false;
  early.marker = Marker::kTriangle;
  early.hollow = true;
  early.color = PaletteColor(3);
  double abs_pct_sum = 0;
  int abs_pct_n = 0;
  for (const ParityPoint& p : data.parity) {
    if (!(Finite(p.measured_cycles) && Finite(p.predicted_cycles) && p.measured_cycles > 0 &&
          p.predicted_cycles > 0)) {
      continue;
    }
    Series& s = p.early_stopped ? early : measured;
    s.x.push_back(p.measured_cycles);
    s.y.push_back(p.predicted_cycles);
    s.y_err.push_back(Finite(p.predicted_stddev) ? p.predicted_stddev : 0);
    s.point_titles.push_back(absl::StrCat(
        p.label, ": measured ", Cycles(p.measured_cycles), ", predicted ",
        Cycles(p.predicted_cycles),
        Finite(p.predicted_stddev) ? absl::StrCat(" \u00b1 ", Cycles(p.predicted_stddev)) : "",
        " cycles"));
    if (!p.early_stopped) {
      abs_pct_sum += std::abs(p.predicted_cycles - p.measured_cycles) / p.measured_cycles;
      ++abs_pct_n;
    }
  }
  if (measured.x.empty() && early.x.empty()) {
    return absl::StrCat(out, NoData("no cell has both a measured and a predicted life"),
                        "</section>\n");
  }
  PlotSpec spec;
  spec.id = "plot-parity";
  spec.x_label = "measured cycle life (cycles)";
  spec.y_label = "predicted cycle life (cycles)";
  spec.x_scale = spec.y_scale = Scale::kLog;
  spec.diagonal = true;
  spec.same_xy_range = true;
  spec.height = 460;
  if (!measured.x.empty()) spec.series.push_back(measured);
  if (!early.x.empty()) spec.series.push_back(early);
  std::string caption = absl::StrFormat(
      "%d cell%s; log-log; bars: \u00b11 standard deviation of the ensemble; dashed: y = x.",
      measured.x.size() + early.x.size(),
      measured.x.size() + early.x.size() == 1 ? "" : "s");
  if (abs_pct_n > 0) {
    absl::StrAppend(&caption,
                    absl::StrFormat(" Mean absolute error over the %d cell%s run to end of life: "
                                    "%.1f %%.",
                                    abs_pct_n, abs_pct_n == 1 ? "" : "s",
                                    100 * abs_pct_sum / abs_pct_n));
  }
  return absl::StrCat(out, Figure(RenderSvg(spec), caption, "parity.csv"), "</section>\n");
}

std::vector<double> OneToN(size_t n) {
  std::vector<double> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<double>(i + 1);
  return x;
}

std::string BestSection(const CampaignReportData& data) {
  std::string out = "<section id=\"best\">\n<h2>Best so far vs random search</h2>\n";
  auto any_finite = [](const std::vector<double>& v) {
    return std::any_of(v.begin(), v.end(), [](double d) { return Finite(d); });
  };
  if (!any_finite(data.best_so_far) && !any_finite(data.random_best_so_far)) {
    return absl::StrCat(out, NoData("no experiment has finished"), "</section>\n");
  }
  PlotSpec spec;
  spec.id = "plot-best";
  spec.x_label = "experiments completed";
  spec.y_label = "best cycle life so far (cycles)";
  spec.include_x = {0};
  if (any_finite(data.random_best_so_far)) {
    Series random;
    random.name = "random search";
    random.x = OneToN(data.random_best_so_far.size());
    random.y = data.random_best_so_far;
    random.step = true;
    random.dashed = true;
    random.color = "#7F7F7F";
    spec.series.push_back(random);
  }
  if (any_finite(data.best_so_far)) {
    Series campaign;
    campaign.name = data.policy.empty() ? "campaign" : absl::StrCat("campaign (", data.policy, ")");
    campaign.x = OneToN(data.best_so_far.size());
    campaign.y = data.best_so_far;
    campaign.step = true;
    campaign.line_width = 2.2;
    campaign.color = PaletteColor(0);
    spec.series.push_back(campaign);
  }
  const std::string caption =
      data.random_baseline_note.empty() ? std::string() : Html(data.random_baseline_note);
  return absl::StrCat(out, Figure(RenderSvg(spec), caption, "best_so_far.csv"), "</section>\n");
}

std::string ParetoSection(const CampaignReportData& data) {
  std::string out = "<section id=\"pareto\">\n<h2>Pareto front: charge time vs cycle life</h2>\n";
  Series all, front;
  all.name = "tested";
  all.line = false;
  all.marker = Marker::kCircle;
  all.hollow = true;
  all.color = "#9A9A9A";
  front.name = "Pareto front";
  // A staircase, not straight segments: a point between two front points is not achievable.
  front.step = true;
  front.marker = Marker::kDiamond;
  front.marker_size = 4.5;
  front.line_width = 1.8;
  front.color = PaletteColor(1);
  std::vector<const CampaignReportData::ParetoPoint*> on_front;
  for (const auto& p : data.pareto) {
    if (!Finite(p.charge_time_h) || !Finite(p.cycle_life)) continue;
    const std::string title = absl::StrFormat("%s: %.2f h, %s cycles", p.label, p.charge_time_h,
                                              Cycles(p.cycle_life));
    if (p.on_front) {
      on_front.push_back(&p);
    } else {
      all.x.push_back(p.charge_time_h);
      all.y.push_back(p.cycle_life);
      all.point_titles.push_back(title);
    }
  }
  std::sort(on_front.begin(), on_front.end(), [](const auto* a, const auto* b) {
    return a->charge_time_h < b->charge_time_h;
  });
  for (const auto* p : on_front) {
    front.x.push_back(p->charge_time_h);
    front.y.push_back(p->cycle_life);
    front.point_titles.push_back(absl::StrFormat("%s: %.2f h, %s cycles (on the front)",
                                                 p->label, p->charge_time_h,
                                                 Cycles(p->cycle_life)));
  }
  if (all.x.empty() && front.x.empty()) {
    return absl::StrCat(out, NoData("no point has both a charge time and a cycle life"),
                        "</section>\n");
  }
  PlotSpec spec;
  spec.id = "plot-pareto";
  spec.x_label = "charge time (h)";
  spec.y_label = "cycle life (cycles)";
  spec.include_x = {0};
  if (!all.x.empty()) spec.series.push_back(all);
  if (!front.x.empty()) spec.series.push_back(front);
  const std::string caption = absl::StrFormat(
      "%d point%s, %d on the front (faster charging and longer life: no other point beats "
      "them on both).",
      all.x.size() + front.x.size(), all.x.size() + front.x.size() == 1 ? "" : "s",
      front.x.size());
  return absl::StrCat(out, Figure(RenderSvg(spec), caption, "pareto.csv"), "</section>\n");
}

// ---- Tables -------------------------------------------------------------------------------

std::string SummarySection(const CampaignReportData& data) {
  if (data.summary.empty()) return "";
  std::string out = "<section id=\"summary\">\n<h2>Summary</h2>\n<dl class=\"summary\">\n";
  for (const auto& [key, value] : data.summary) {
    absl::StrAppend(&out, "<dt>", Html(key), "</dt><dd>", Html(value), "</dd>\n");
  }
  absl::StrAppend(&out, "</dl>\n</section>\n");
  return out;
}

std::string ProposalsSection(const CampaignReportData& data) {
  std::string out = "<section id=\"proposals\">\n<h2>Proposals</h2>\n";
  if (data.proposals.empty()) {
    return absl::StrCat(out, NoData("the campaign has not proposed a cell"), "</section>\n");
  }
  absl::StrAppend(
      &out,
      "<p class=\"note\">Why each cell was proposed (the model version, its predicted life and "
      "spread, the acquisition value, the rank in its batch) and what happened to it. "
      "Data: <a href=\"proposals.csv\">proposals.csv</a>.</p>\n",
      "<div class=\"table-wrap\">\n<table class=\"proposals\">\n<thead>\n",
      "<tr><th rowspan=\"2\">Proposal</th><th rowspan=\"2\">Candidate</th>"
      "<th rowspan=\"2\" class=\"num\">Charge time (h)</th>"
      "<th colspan=\"6\" class=\"group\">Reason</th>"
      "<th colspan=\"3\" class=\"group\">Outcome</th></tr>\n",
      "<tr><th>Policy</th><th class=\"num\">Batch</th><th class=\"num\">Rank</th>"
      "<th class=\"num\">Model</th><th class=\"num\">Predicted (cycles)</th>"
      "<th class=\"num\">Acquisition</th>"
      "<th>State</th><th class=\"num\">Cycle life</th><th>Job</th></tr>\n</thead>\n<tbody>\n");
  for (const ProposalRow& p : data.proposals) {
    std::string predicted = "\u2014";
    if (HasOutcome(p.predicted_mean_cycles)) {
      predicted = Cycles(p.predicted_mean_cycles);
      if (Finite(p.predicted_stddev_cycles) && p.predicted_stddev_cycles > 0) {
        absl::StrAppend(&predicted, " \u00b1 ", Cycles(p.predicted_stddev_cycles));
      }
    }
    const bool show_acq = Finite(p.acquisition) && (p.model_version > 0 || p.acquisition != 0);
    std::string outcome = "\u2014";
    if (HasOutcome(p.outcome_cycles)) {
      outcome = absl::StrCat(p.outcome_censored ? "\u2265 " : "", Cycles(p.outcome_cycles));
      if (p.outcome_predicted) {
        absl::StrAppend(&outcome,
                        " <span class=\"tag\" title=\"predicted by the early-cycle model\">"
                        "predicted</span>");
      }
    }
    absl::StrAppend(
        &out, "<tr><td><code>", Html(p.proposal_id), "</code></td><td>", Html(p.candidate_label),
        "</td><td class=\"num\">",
        Finite(p.charge_time_h) ? absl::StrFormat("%.2f", p.charge_time_h) : "\u2014",
        "</td><td>", Html(p.policy), "</td><td class=\"num\">",
        p.batch > 0 ? absl::StrCat(p.batch) : "\u2014", "</td><td class=\"num\">",
        p.rank_in_batch > 0 ? absl::StrCat(p.rank_in_batch) : "\u2014", "</td><td class=\"num\">",
        p.model_version > 0 ? absl::StrCat("v", p.model_version) : "\u2014",
        "</td><td class=\"num\">", predicted, "</td><td class=\"num\">",
        show_acq ? absl::StrFormat("%.4g", p.acquisition) : "\u2014", "</td><td>",
        "<span class=\"state\">", Html(p.state), "</span></td><td class=\"num\">", outcome,
        "</td><td><code>", Html(p.job_id), "</code></td></tr>\n");
  }
  absl::StrAppend(&out, "</tbody>\n</table>\n</div>\n</section>\n");
  return out;
}

constexpr absl::string_view kCss = R"css(
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f7f7f5; color: #1d1d1f;
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 28px 22px 64px; }
h1 { font-size: 1.8rem; line-height: 1.25; margin: 0 0 .3rem; }
h2 { font-size: 1.25rem; margin: 2.4rem 0 .8rem; padding-bottom: .25rem; border-bottom: 1px solid #ddd; }
.meta { color: #555; margin: 0; }
.meta span + span::before { content: " \00b7 "; color: #aaa; }
code { font: .88em/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
a { color: #0b5cad; }
nav { margin: 1rem 0 0; font-size: .95rem; }
nav a { margin-right: 1rem; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1.5rem; margin: 0; }
dl.summary dt { color: #555; }
dl.summary dd { margin: 0; font-variant-numeric: tabular-nums; }
figure { margin: 0; }
svg.plot { display: block; max-width: 100%; height: auto; background: #fff;
  border: 1px solid #e2e2e2; border-radius: 6px; }
figcaption { color: #555; font-size: .92rem; margin-top: .5rem; max-width: 75ch; }
.empty { color: #666; font-style: italic; background: #fff; border: 1px dashed #ccc;
  border-radius: 6px; padding: 1.2rem; }
.note { color: #555; font-size: .92rem; max-width: 75ch; }
.table-wrap { overflow-x: auto; background: #fff; border: 1px solid #e2e2e2; border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: .88rem; font-variant-numeric: tabular-nums; }
th, td { padding: .35rem .6rem; border-bottom: 1px solid #ececec; text-align: left; white-space: nowrap; }
thead th { background: #f2f2ef; font-weight: 600; }
th.group { text-align: center; border-left: 1px solid #ddd; }
.num { text-align: right; }
tbody tr:nth-child(even) { background: #fafaf8; }
.tag { font-size: .75rem; background: #fdf0d5; color: #7a4b00; border-radius: 3px; padding: 0 .3rem; }
.state { font-size: .82rem; }
footer { margin-top: 3rem; color: #888; font-size: .85rem; }
@media print { body { background: #fff; } .table-wrap, svg.plot { border: none; } }
)css";

// ---- Files --------------------------------------------------------------------------------

absl::Status WriteFileAtomically(const fs::path& path, const std::string& content) {
  const std::string tmp = path.string() + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot write ", path.string()));
  }
  const size_t written = std::fwrite(content.data(), 1, content.size(), f);
  const int write_errno = written == content.size() ? 0 : errno;
  if (std::fclose(f) != 0 || write_errno != 0) {
    const int e = write_errno != 0 ? write_errno : errno;
    std::remove(tmp.c_str());
    return absl::ErrnoToStatus(e, absl::StrCat("cannot write ", path.string()));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    return absl::ErrnoToStatus(e, absl::StrCat("cannot write ", path.string()));
  }
  return absl::OkStatus();
}

}  // namespace

std::string CsvField(const std::string& value) {
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string FadeCurvesCsv(const CampaignReportData& data) {
  std::string out = CsvLine({"cell", "cycle", "soh_percent", "kind", "early_stopped"});
  for (const FadeCurve& c : data.fade_curves) {
    const size_t n = std::min(c.cycles.size(), c.soh_percent.size());
    for (size_t i = 0; i < n; ++i) {
      out += CsvLine({CsvField(c.label), CsvNumber(c.cycles[i]), CsvNumber(c.soh_percent[i]),
                      "measured", CsvBool(c.early_stopped)});
    }
    const size_t m = std::min(c.predicted_cycles.size(), c.predicted_soh_percent.size());
    for (size_t i = 0; i < m; ++i) {
      out += CsvLine({CsvField(c.label), CsvNumber(c.predicted_cycles[i]),
                      CsvNumber(c.predicted_soh_percent[i]), "predicted",
                      CsvBool(c.early_stopped)});
    }
  }
  return out;
}

std::string ParityCsv(const CampaignReportData& data) {
  std::string out = CsvLine(
      {"cell", "measured_cycles", "predicted_cycles", "predicted_stddev_cycles", "early_stopped"});
  for (const ParityPoint& p : data.parity) {
    out += CsvLine({CsvField(p.label), CsvNumber(p.measured_cycles), CsvNumber(p.predicted_cycles),
                    CsvNumber(p.predicted_stddev), CsvBool(p.early_stopped)});
  }
  return out;
}

std::string BestSoFarCsv(const CampaignReportData& data) {
  std::string out = CsvLine({"experiment", "best_cycles", "random_best_cycles"});
  const size_t n = std::max(data.best_so_far.size(), data.random_best_so_far.size());
  for (size_t i = 0; i < n; ++i) {
    out += CsvLine({absl::StrCat(i + 1),
                    i < data.best_so_far.size() ? CsvNumber(data.best_so_far[i]) : "",
                    i < data.random_best_so_far.size() ? CsvNumber(data.random_best_so_far[i])
                                                       : ""});
  }
  return out;
}

std::string ParetoCsv(const CampaignReportData& data) {
  std::string out = CsvLine({"cell", "charge_time_h", "cycle_life_cycles", "on_front"});
  for (const auto& p : data.pareto) {
    out += CsvLine({CsvField(p.label), CsvNumber(p.charge_time_h), CsvNumber(p.cycle_life),
                    CsvBool(p.on_front)});
  }
  return out;
}

std::string ProposalsCsv(const CampaignReportData& data) {
  std::string out = CsvLine({"proposal_id", "job_id", "candidate", "charge_time_h", "policy",
                             "batch", "rank_in_batch", "model_version", "predicted_mean_cycles",
                             "predicted_stddev_cycles", "acquisition", "state", "outcome_cycles",
                             "outcome_predicted", "outcome_censored"});
  for (const ProposalRow& p : data.proposals) {
    out += CsvLine({CsvField(p.proposal_id), CsvField(p.job_id), CsvField(p.candidate_label),
                    CsvNumber(p.charge_time_h), CsvField(p.policy), absl::StrCat(p.batch),
                    absl::StrCat(p.rank_in_batch), absl::StrCat(p.model_version),
                    CsvNumber(p.predicted_mean_cycles), CsvNumber(p.predicted_stddev_cycles),
                    CsvNumber(p.acquisition), CsvField(p.state),
                    HasOutcome(p.outcome_cycles) ? CsvNumber(p.outcome_cycles) : "",
                    CsvBool(p.outcome_predicted), CsvBool(p.outcome_censored)});
  }
  return out;
}

absl::StatusOr<std::string> RenderCampaignReportHtml(const CampaignReportData& data) {
  RETURN_IF_ERROR(Validate(data));
  const std::string title =
      !data.title.empty() ? data.title : absl::StrCat("Campaign ", data.campaign_id);
  std::string out;
  absl::StrAppend(&out,
                  "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                  "<title>",
                  Html(title), " \u2014 ionloop report</title>\n<style>", kCss,
                  "</style>\n</head>\n<body>\n<main>\n<header>\n<h1>", Html(title), "</h1>\n",
                  "<p class=\"meta\">");
  if (!data.campaign_id.empty()) {
    absl::StrAppend(&out, "<span>campaign <code>", Html(data.campaign_id), "</code></span>");
  }
  if (!data.policy.empty()) absl::StrAppend(&out, "<span>policy ", Html(data.policy), "</span>");
  if (!data.objective.empty()) {
    absl::StrAppend(&out, "<span>objective: ", Html(data.objective), "</span>");
  }
  if (!data.generated_at.empty()) {
    absl::StrAppend(&out, "<span>generated <time datetime=\"", Html(data.generated_at), "\">",
                    Html(data.generated_at), "</time></span>");
  }
  absl::StrAppend(&out, "</p>\n<nav>", data.summary.empty() ? "" : "<a href=\"#summary\">Summary</a>",
                  "<a href=\"#fade\">Capacity fade</a><a href=\"#parity\">Parity</a>"
                  "<a href=\"#best\">Best so far</a>",
                  data.pareto.empty() ? "" : "<a href=\"#pareto\">Pareto front</a>",
                  "<a href=\"#proposals\">Proposals</a></nav>\n</header>\n");
  absl::StrAppend(&out, SummarySection(data), FadeSection(data), ParitySection(data),
                  BestSection(data));
  if (!data.pareto.empty()) absl::StrAppend(&out, ParetoSection(data));
  absl::StrAppend(&out, ProposalsSection(data),
                  "<footer>Written by ionloop. Every plot's data is in the CSV file named "
                  "under it, in this folder.</footer>\n</main>\n</body>\n</html>\n");
  return out;
}

absl::StatusOr<std::string> WriteCampaignReport(const CampaignReportData& data,
                                                const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("report directory: empty path");
  ASSIGN_OR_RETURN(std::string html, RenderCampaignReportHtml(data));

  const fs::path root(dir);
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) {
    return absl::ErrnoToStatus(ec.value(),
                               absl::StrCat("cannot create report directory ", dir));
  }
  if (!fs::is_directory(root, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("report directory ", dir, " exists and is not a directory"));
  }

  RETURN_IF_ERROR(WriteFileAtomically(root / "fade_curves.csv", FadeCurvesCsv(data)));
  RETURN_IF_ERROR(WriteFileAtomically(root / "parity.csv", ParityCsv(data)));
  RETURN_IF_ERROR(WriteFileAtomically(root / "best_so_far.csv", BestSoFarCsv(data)));
  RETURN_IF_ERROR(WriteFileAtomically(root / "proposals.csv", ProposalsCsv(data)));
  if (!data.pareto.empty()) {
    RETURN_IF_ERROR(WriteFileAtomically(root / "pareto.csv", ParetoCsv(data)));
  } else {
    fs::remove(root / "pareto.csv", ec);  // a stale one from an earlier report; best effort
  }
  // index.html last: once it is there, everything it links to is too.
  const fs::path index = root / "index.html";
  RETURN_IF_ERROR(WriteFileAtomically(index, html));
  return index.string();
}

}  // namespace ionloop::report
