// A tiny, dependency-free SVG plotter for the campaign report: line, step and scatter series,
// error bars, linear or log axes with "nice" ticks, a legend, horizontal reference lines and
// the y = x diagonal of a parity plot. The output is one self-contained <svg> element meant to
// be inlined into HTML: no scripts, no external fonts or stylesheets.
//
// Non-finite points (NaN, inf) and, on a log axis, non-positive values are skipped: a line
// breaks at them instead of failing.
#ifndef IONLOOP_CLIENTS_REPORT_SVG_PLOT_H_
#define IONLOOP_CLIENTS_REPORT_SVG_PLOT_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace ionloop::report {

enum class Scale { kLinear, kLog };

enum class Marker { kNone, kCircle, kSquare, kTriangle, kDiamond };

// One series. `x` and `y` have the same length; `y_err`, when not empty, too (symmetric
// ±error bars). A series with a name but no points is drawn in the legend only (a style key).
struct Series {
  std::string name;                  // legend text; empty: not in the legend
  std::vector<double> x, y;
  std::vector<double> y_err;         // optional
  std::vector<std::string> point_titles;  // optional hover text per point (SVG <title>)
  bool line = true;                  // connect the points
  bool step = false;                 // with `line`: step-after (holds y until the next x)
  bool dashed = false;
  Marker marker = Marker::kNone;
  bool hollow = false;               // marker drawn as an outline
  double line_width = 1.5;
  double marker_size = 3.5;          // radius-like, in pixels
  double opacity = 1.0;
  std::string color;                 // CSS colour; empty: the next colour of the palette
};

// A horizontal line across the plot (e.g. the 80 % end-of-life threshold).
struct ReferenceLine {
  double y = 0;
  std::string label;
  std::string color = "#b23b3b";
  bool dashed = true;
};

struct PlotSpec {
  std::string id = "plot";           // unique per HTML page: prefixes the SVG element ids
  std::string title;                 // drawn at the top and used as the accessible name
  std::string x_label, y_label;
  Scale x_scale = Scale::kLinear;
  Scale y_scale = Scale::kLinear;
  int width = 720;
  int height = 420;
  std::vector<Series> series;
  std::vector<ReferenceLine> reference_lines;
  bool diagonal = false;             // draw y = x (parity plots)
  bool same_xy_range = false;        // one range for both axes (parity plots)
  // Values the axes must include besides the data (e.g. 0, or 100 % SOH).
  std::vector<double> include_x, include_y;
  int max_legend_entries = 12;       // beyond that: "+ N more"
};

// One axis after layout: the data range [lo, hi] maps to pixels [pixel_lo, pixel_hi]
// (for y, pixel_lo is the bottom, so pixel_lo > pixel_hi).
struct Axis {
  Scale scale = Scale::kLinear;
  double lo = 0, hi = 1;
  double pixel_lo = 0, pixel_hi = 1;
  std::vector<double> ticks;

  double ToPixel(double v) const;
  // False for NaN/inf, and for v <= 0 on a log axis.
  bool CanShow(double v) const;
};

struct PlotGeometry {
  Axis x, y;
  double left = 0, top = 0, right = 0, bottom = 0;  // the plot area, in pixels
};

// "Nice" linear ticks (steps of 1, 2 or 5 × 10^k) covering [lo, hi]; the first and last tick
// bracket the data, so they are the axis ends. lo == hi is widened.
std::vector<double> LinearTicks(double lo, double hi, int target_count = 5);
// Log ticks covering [lo, hi] (lo > 0): decades (1, 10, 100, ...) when the data spans more
// than two decades, else 1-2-5 steps (100, 200, 500, 1000, ...). First and last are the ends.
std::vector<double> LogTicks(double lo, double hi);

// The layout RenderSvg uses: axis ranges, ticks and pixel mapping.
PlotGeometry ComputeGeometry(const PlotSpec& spec);

// The <svg> element.
std::string RenderSvg(const PlotSpec& spec);

// Escapes & < > " ' for HTML/XML text and attribute values.
std::string EscapeXml(absl::string_view text);

// A colour-blind-friendly palette (Okabe-Ito + Tableau), cycled.
const std::string& PaletteColor(size_t index);

// Short human-readable number: tick labels and table cells ("0.25", "1500", "1e+06").
std::string FormatTick(double v, double step);

}  // namespace ionloop::report

#endif  // IONLOOP_CLIENTS_REPORT_SVG_PLOT_H_
