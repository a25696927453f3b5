#include "clients/report/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ionloop::report {
namespace {

constexpr double kEps = 1e-9;
constexpr double kLegendWidth = 210;
constexpr double kLegendRow = 18;
constexpr size_t kLegendChars = 24;

bool Finite(double v) { return std::isfinite(v); }

// Pixel coordinates: two decimals are far below what a screen resolves.
std::string Px(double v) { return absl::StrFormat("%.2f", v); }

// The largest of {1, 2, 5} x 10^k that is <= v (v > 0).
double Floor125(double v) {
  const double k = std::floor(std::log10(v) + kEps);
  const double base = std::pow(10.0, k);
  const double m = v / base;
  if (m >= 5 - kEps) return 5 * base;
  if (m >= 2 - kEps) return 2 * base;
  return base;
}

// The smallest of {1, 2, 5, 10} x 10^k that is >= v (v > 0).
double Ceil125(double v) {
  const double k = std::floor(std::log10(v) + kEps);
  const double base = std::pow(10.0, k);
  const double m = v / base;
  if (m <= 1 + kEps) return base;
  if (m <= 2 + kEps) return 2 * base;
  if (m <= 5 + kEps) return 5 * base;
  return 10 * base;
}

// Cuts a UTF-8 string to at most `max_chars` code points, adding an ellipsis when cut.
std::string Truncate(const std::string& s, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;  // continuation byte
    if (chars == max_chars - 1) {
      // Is there more than one code point left?
      size_t rest = 0;
      for (size_t j = i; j < s.size(); ++j) {
        if ((static_cast<unsigned char>(s[j]) & 0xC0) != 0x80) ++rest;
      }
      if (rest > 1) return s.substr(0, i) + "\u2026";
      return s;
    }
    ++chars;
  }
  return s;
}

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void Add(double v, Scale scale) {
    if (!Finite(v) || (scale == Scale::kLog && v <= 0)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  void Add(const Range& other) {
    lo = std::min(lo, other.lo);
    hi = std::max(hi, other.hi);
  }
  bool empty() const { return !(lo <= hi); }
};

Axis MakeAxis(Range range, Scale scale, int target_ticks, double pixel_lo, double pixel_hi) {
  Axis axis;
  axis.scale = scale;
  if (range.empty()) {
    range.lo = scale == Scale::kLog ? 1 : 0;
    range.hi = scale == Scale::kLog ? 10 : 1;
  }
  axis.ticks = scale == Scale::kLog ? LogTicks(range.lo, range.hi)
                                    : LinearTicks(range.lo, range.hi, target_ticks);
  axis.lo = axis.ticks.front();
  axis.hi = axis.ticks.back();
  axis.pixel_lo = pixel_lo;
  axis.pixel_hi = pixel_hi;
  return axis;
}

struct LegendEntry {
  std::string name;
  const Series* style;
  std::string color;
};

void AppendMarker(std::string* out, Marker marker, double cx, double cy, double s,
                  const std::string& color, bool hollow, double opacity,
                  const std::string& title) {
  if (marker == Marker::kNone) return;
  const std::string paint =
      hollow ? absl::StrCat(" fill=\"#ffffff\" stroke=\"", color, "\" stroke-width=\"1.5\"")
             : absl::StrCat(" fill=\"", color, "\" stroke=\"#ffffff\" stroke-width=\"0.5\"");
  const std::string op = opacity < 1 ? absl::StrFormat(" opacity=\"%.2f\"", opacity) : "";
  const std::string inner = title.empty() ? "" : absl::StrCat("<title>", EscapeXml(title), "</title>");
  const std::string close = title.empty() ? "/>" : absl::StrCat(">", inner);
  switch (marker) {
    case Marker::kCircle:
      absl::StrAppend(out, "<circle cx=\"", Px(cx), "\" cy=\"", Px(cy), "\" r=\"", Px(s), "\"",
                      paint, op, close, title.empty() ? "" : "</circle>", "\n");
      break;
    case Marker::kSquare:
      absl::StrAppend(out, "<rect x=\"", Px(cx - s), "\" y=\"", Px(cy - s), "\" width=\"",
                      Px(2 * s), "\" height=\"", Px(2 * s), "\"", paint, op, close,
                      title.empty() ? "" : "</rect>", "\n");
      break;
    case Marker::kTriangle:
      absl::StrAppend(out, "<path d=\"M", Px(cx), ",", Px(cy - 1.25 * s), "L", Px(cx + 1.15 * s),
                      ",", Px(cy + 0.85 * s), "L", Px(cx - 1.15 * s), ",", Px(cy + 0.85 * s),
                      "Z\"", paint, op, close, title.empty() ? "" : "</path>", "\n");
      break;
    case Marker::kDiamond:
      absl::StrAppend(out, "<path d=\"M", Px(cx), ",", Px(cy - 1.3 * s), "L", Px(cx + 1.3 * s),
                      ",", Px(cy), "L", Px(cx), ",", Px(cy + 1.3 * s), "L", Px(cx - 1.3 * s), ",",
                      Px(cy), "Z\"", paint, op, close, title.empty() ? "" : "</path>", "\n");
      break;
    case Marker::kNone:
      break;
  }
}

std::string StrokeAttrs(const std::string& color, double width, bool dashed, double opacity) {
  std::string s = absl::StrCat(" fill=\"none\" stroke=\"", color, "\" stroke-width=\"",
                               absl::StrFormat("%.2f", width), "\"");
  if (dashed) absl::StrAppend(&s, " stroke-dasharray=\"6 4\"");
  if (opacity < 1) absl::StrAppend(&s, absl::StrFormat(" stroke-opacity=\"%.2f\"", opacity));
  return s;
}

}  // namespace

double Axis::ToPixel(double v) const {
  double t;
  if (scale == Scale::kLog) {
    t = (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
  } else {
    t = (v - lo) / (hi - lo);
  }
  return pixel_lo + t * (pixel_hi - pixel_lo);
}

bool Axis::CanShow(double v) const {
  return Finite(v) && (scale == Scale::kLinear || v > 0);
}

std::vector<double> LinearTicks(double lo, double hi, int target_count) {
  if (!Finite(lo) || !Finite(hi)) {
    lo = 0;
    hi = 1;
  }
  if (lo > hi) std::swap(lo, hi);
  if (hi - lo <= std::max(std::abs(lo), std::abs(hi)) * 1e-12) {
    // One value: widen around it (0 becomes [0, 1]).
    const double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
    if (lo == 0) {
      hi = pad;
    } else {
      lo -= pad;
      hi += pad;
    }
  }
  target_count = std::max(target_count, 2);
  const double raw = (hi - lo) / target_count;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  const double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const double start = std::floor(lo / step + kEps) * step;
  const double end = std::ceil(hi / step - kEps) * step;
  const long n = std::lround((end - start) / step);
  std::vector<double> ticks;
  ticks.reserve(n + 1);
  for (long i = 0; i <= n; ++i) {
    double v = std::round((start + i * step) / step) * step;
    if (std::abs(v) < step * kEps) v = 0;
    ticks.push_back(v);
  }
  return ticks;
}

std::vector<double> LogTicks(double lo, double hi) {
  if (!Finite(lo) || lo <= 0) lo = hi > 0 && Finite(hi) ? hi : 1;
  if (!Finite(hi) || hi <= 0) hi = lo;
  if (lo > hi) std::swap(lo, hi);
  double lo125 = Floor125(lo);
  double hi125 = Ceil125(hi);
  if (hi125 <= lo125 * (1 + kEps)) {  // one value on a 1-2-5 step: widen by a step each side
    lo125 = Floor125(lo125 * 0.99);
    hi125 = Ceil125(hi125 * 1.01);
  }
  std::vector<double> ticks;
  if (std::log10(hi125 / lo125) <= 2 + kEps) {
    const int klo = static_cast<int>(std::floor(std::log10(lo125) + kEps));
    const int khi = static_cast<int>(std::floor(std::log10(hi125) + kEps));
    for (int k = klo; k <= khi; ++k) {
      for (double m : {1.0, 2.0, 5.0}) {
        const double v = m * std::pow(10.0, k);
        if (v >= lo125 * (1 - kEps) && v <= hi125 * (1 + kEps)) ticks.push_back(v);
      }
    }
    return ticks;
  }
  const int dlo = static_cast<int>(std::floor(std::log10(lo) + kEps));
  int dhi = static_cast<int>(std::ceil(std::log10(hi) - kEps));
  const int step = std::max(1, (dhi - dlo + 7) / 8);  // at most ~9 labels
  dhi = dlo + ((dhi - dlo + step - 1) / step) * step;
  for (int k = dlo; k <= dhi; k += step) ticks.push_back(std::pow(10.0, k));
  return ticks;
}

std::string FormatTick(double v, double step) {
  if (!Finite(v)) return "";
  if (v == 0) return "0";
  const double a = std::abs(v);
  if (a >= 1e6 || a < 1e-4) return absl::StrFormat("%g", v);
  int decimals = 0;
  if (Finite(step) && step > 0) {
    decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + kEps)));
  } else {
    return absl::StrFormat("%g", v);
  }
  decimals = std::min(decimals, 6);
  return absl::StrFormat("%.*f", decimals, v);
}

std::string EscapeXml(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

const std::string& PaletteColor(size_t index) {
  static const auto* const kPalette = new std::vector<std::string>{
      "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9",
      "#000000", "#8C564B", "#7F7F7F", "#BCBD22", "#17BECF", "#9467BD"};
  return (*kPalette)[index % kPalette->size()];
}

PlotGeometry ComputeGeometry(const PlotSpec& spec) {
  bool has_legend = false;
  for (const Series& s : spec.series) has_legend |= !s.name.empty();

  PlotGeometry g;
  g.left = 68;
  g.top = spec.title.empty() ? 16 : 38;
  g.right = spec.width - (has_legend ? kLegendWidth : 20);
  g.bottom = spec.height - 50;
  if (g.right < g.left + 40) g.right = g.left + 40;   // absurdly small sizes stay drawable
  if (g.bottom < g.top + 40) g.bottom = g.top + 40;

  Range xr, yr;
  for (const Series& s : spec.series) {
    const size_t n = std::min(s.x.size(), s.y.size());
    for (size_t i = 0; i < n; ++i) {
      // A point counts only when both coordinates can be shown.
      const bool x_ok = Finite(s.x[i]) && (spec.x_scale == Scale::kLinear || s.x[i] > 0);
      const bool y_ok = Finite(s.y[i]) && (spec.y_scale == Scale::kLinear || s.y[i] > 0);
      if (!x_ok || !y_ok) continue;
      xr.Add(s.x[i], spec.x_scale);
      yr.Add(s.y[i], spec.y_scale);
      if (i < s.y_err.size() && Finite(s.y_err[i])) {
        const double e = std::abs(s.y_err[i]);
        yr.Add(s.y[i] + e, spec.y_scale);
        yr.Add(s.y[i] - e, spec.y_scale);  // ignored on a log axis when <= 0
      }
    }
  }
  for (double v : spec.include_x) xr.Add(v, spec.x_scale);
  for (double v : spec.include_y) yr.Add(v, spec.y_scale);
  for (const ReferenceLine& r : spec.reference_lines) yr.Add(r.y, spec.y_scale);
  if (spec.same_xy_range) {
    Range both = xr;
    if (!yr.empty()) both.Add(yr);
    xr = yr = both;
  }
  g.x = MakeAxis(xr, spec.x_scale, 6, g.left, g.right);
  g.y = MakeAxis(yr, spec.y_scale, 5, g.bottom, g.top);
  return g;
}

std::string RenderSvg(const PlotSpec& spec) {
  const PlotGeometry g = ComputeGeometry(spec);
  const std::string id = EscapeXml(spec.id);
  std::string out;
  absl::StrAppend(&out, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" id=\"", id,
                  "\" viewBox=\"0 0 ", spec.width, " ", spec.height, "\" width=\"", spec.width,
                  "\" height=\"", spec.height, "\" role=\"img\"",
                  " font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\"",
                  " font-size=\"12\">\n");
  if (!spec.title.empty()) {
    absl::StrAppend(&out, "<title>", EscapeXml(spec.title), "</title>\n");
  }
  absl::StrAppend(&out, "<rect width=\"", spec.width, "\" height=\"", spec.height,
                  "\" fill=\"#ffffff\"/>\n");
  if (!spec.title.empty()) {
    absl::StrAppend(&out, "<text x=\"", Px(g.left), "\" y=\"22\" font-size=\"14\"",
                    " font-weight=\"600\" fill=\"#222\">", EscapeXml(spec.title), "</text>\n");
  }

  // Grid and ticks.
  absl::StrAppend(&out, "<g class=\"grid\" stroke=\"#e6e6e6\" stroke-width=\"1\">\n");
  for (double t : g.x.ticks) {
    const double px = g.x.ToPixel(t);
    absl::StrAppend(&out, "<line x1=\"", Px(px), "\" y1=\"", Px(g.top), "\" x2=\"", Px(px),
                    "\" y2=\"", Px(g.bottom), "\"/>\n");
  }
  for (double t : g.y.ticks) {
    const double py = g.y.ToPixel(t);
    absl::StrAppend(&out, "<line x1=\"", Px(g.left), "\" y1=\"", Px(py), "\" x2=\"", Px(g.right),
                    "\" y2=\"", Px(py), "\"/>\n");
  }
  absl::StrAppend(&out, "</g>\n");

  auto tick_step = [](const Axis& a, size_t i) {
    if (a.scale == Scale::kLog) return a.ticks[i];
    return a.ticks.size() > 1 ? a.ticks[1] - a.ticks[0] : 1.0;
  };
  absl::StrAppend(&out, "<g class=\"axes\" fill=\"#444\" stroke=\"none\">\n");
  for (size_t i = 0; i < g.x.ticks.size(); ++i) {
    const double px = g.x.ToPixel(g.x.ticks[i]);
    absl::StrAppend(&out, "<line x1=\"", Px(px), "\" y1=\"", Px(g.bottom), "\" x2=\"", Px(px),
                    "\" y2=\"", Px(g.bottom + 5), "\" stroke=\"#444\"/>",
                    "<text x=\"", Px(px), "\" y=\"", Px(g.bottom + 18),
                    "\" text-anchor=\"middle\">", FormatTick(g.x.ticks[i], tick_step(g.x, i)),
                    "</text>\n");
  }
  for (size_t i = 0; i < g.y.ticks.size(); ++i) {
    const double py = g.y.ToPixel(g.y.ticks[i]);
    absl::StrAppend(&out, "<line x1=\"", Px(g.left - 5), "\" y1=\"", Px(py), "\" x2=\"",
                    Px(g.left), "\" y2=\"", Px(py), "\" stroke=\"#444\"/>",
                    "<text x=\"", Px(g.left - 8), "\" y=\"", Px(py + 4),
                    "\" text-anchor=\"end\">", FormatTick(g.y.ticks[i], tick_step(g.y, i)),
                    "</text>\n");
  }
  absl::StrAppend(&out, "<path d=\"M", Px(g.left), ",", Px(g.top), "V", Px(g.bottom), "H",
                  Px(g.right), "\" fill=\"none\" stroke=\"#444\" stroke-width=\"1\"/>\n");
  if (!spec.x_label.empty()) {
    absl::StrAppend(&out, "<text x=\"", Px((g.left + g.right) / 2), "\" y=\"",
                    Px(spec.height - 12), "\" text-anchor=\"middle\" fill=\"#222\">",
                    EscapeXml(spec.x_label), "</text>\n");
  }
  if (!spec.y_label.empty()) {
    const double cy = (g.top + g.bottom) / 2;
    absl::StrAppend(&out, "<text transform=\"translate(16,", Px(cy),
                    ") rotate(-90)\" text-anchor=\"middle\" fill=\"#222\">",
                    EscapeXml(spec.y_label), "</text>\n");
  }
  absl::StrAppend(&out, "</g>\n");

  // The y = x diagonal, over the range both axes share.
  if (spec.diagonal && spec.x_scale == spec.y_scale) {
    const double lo = std::max(g.x.lo, g.y.lo);
    const double hi = std::min(g.x.hi, g.y.hi);
    if (lo < hi) {
      absl::StrAppend(&out, "<line class=\"diagonal\" x1=\"", Px(g.x.ToPixel(lo)), "\" y1=\"",
                      Px(g.y.ToPixel(lo)), "\" x2=\"", Px(g.x.ToPixel(hi)), "\" y2=\"",
                      Px(g.y.ToPixel(hi)), "\"", StrokeAttrs("#888888", 1, true, 1), "/>\n");
    }
  }
  for (const ReferenceLine& r : spec.reference_lines) {
    if (!g.y.CanShow(r.y)) continue;
    const double py = g.y.ToPixel(r.y);
    absl::StrAppend(&out, "<line class=\"reference\" x1=\"", Px(g.left), "\" y1=\"", Px(py),
                    "\" x2=\"", Px(g.right), "\" y2=\"", Px(py), "\"",
                    StrokeAttrs(r.color, 1.2, r.dashed, 1), "/>\n");
    if (!r.label.empty()) {
      absl::StrAppend(&out, "<text x=\"", Px(g.right - 4), "\" y=\"", Px(py - 5),
                      "\" text-anchor=\"end\" fill=\"", r.color, "\">", EscapeXml(r.label),
                      "</text>\n");
    }
  }

  // Series.
  std::vector<LegendEntry> legend;
  size_t auto_color = 0;
  for (const Series& s : spec.series) {
    const std::string color = s.color.empty() ? PaletteColor(auto_color++) : s.color;
    if (!s.name.empty()) legend.push_back({s.name, &s, color});
    const size_t n = std::min(s.x.size(), s.y.size());
    auto ok = [&](size_t i) { return g.x.CanShow(s.x[i]) && g.y.CanShow(s.y[i]); };

    absl::StrAppend(&out, "<g class=\"series\">\n");
    if (s.line) {
      std::string d;
      bool open = false;
      for (size_t i = 0; i < n; ++i) {
        if (!ok(i)) {
          open = false;  // a gap breaks the line
          continue;
        }
        const double px = g.x.ToPixel(s.x[i]);
        const double py = g.y.ToPixel(s.y[i]);
        if (!open) {
          absl::StrAppend(&d, "M", Px(px), ",", Px(py));
          open = true;
        } else if (s.step) {
          absl::StrAppend(&d, "H", Px(px), "V", Px(py));
        } else {
          absl::StrAppend(&d, "L", Px(px), ",", Px(py));
        }
      }
      if (!d.empty()) {
        absl::StrAppend(&out, "<path d=\"", d, "\"",
                        StrokeAttrs(color, s.line_width, s.dashed, s.opacity),
                        " stroke-linejoin=\"round\"/>\n");
      }
    }
    for (size_t i = 0; i < n && i < s.y_err.size(); ++i) {
      if (!ok(i) || !Finite(s.y_err[i]) || s.y_err[i] == 0) continue;
      const double e = std::abs(s.y_err[i]);
      const double px = g.x.ToPixel(s.x[i]);
      const double lo_v = s.y[i] - e;
      // On a log axis a lower end <= 0 runs to the bottom of the plot.
      const double py_lo = g.y.CanShow(lo_v) ? std::min(g.y.ToPixel(lo_v), g.bottom) : g.bottom;
      const double py_hi = std::max(g.y.ToPixel(s.y[i] + e), g.top);
      absl::StrAppend(&out, "<path class=\"errorbar\" d=\"M", Px(px), ",", Px(py_lo), "V",
                      Px(py_hi), "M", Px(px - 3), ",", Px(py_lo), "h6M", Px(px - 3), ",",
                      Px(py_hi), "h6\"", StrokeAttrs(color, 1, false, 0.6 * s.opacity), "/>\n");
    }
    for (size_t i = 0; i < n; ++i) {
      if (!ok(i)) continue;
      AppendMarker(&out, s.marker, g.x.ToPixel(s.x[i]), g.y.ToPixel(s.y[i]), s.marker_size,
                   color, s.hollow, s.opacity,
                   i < s.point_titles.size() ? s.point_titles[i] : std::string());
    }
    absl::StrAppend(&out, "</g>\n");
  }

  // Legend, to the right of the plot area so it never hides data.
  if (!legend.empty()) {
    const size_t fit = static_cast<size_t>(std::max(1.0, (g.bottom - g.top) / kLegendRow));
    size_t shown = std::min({legend.size(), fit, static_cast<size_t>(std::max(1, spec.max_legend_entries))});
    if (shown < legend.size() && shown > 1) --shown;  // room for the "+ N more" line
    const double lx = g.right + 14;
    double ly = g.top + 8;
    absl::StrAppend(&out, "<g class=\"legend\" fill=\"#222\">\n");
    for (size_t i = 0; i < shown; ++i) {
      const LegendEntry& e = legend[i];
      const Series& st = *e.style;
      if (st.line) {
        absl::StrAppend(&out, "<line x1=\"", Px(lx), "\" y1=\"", Px(ly), "\" x2=\"", Px(lx + 24),
                        "\" y2=\"", Px(ly), "\"",
                        StrokeAttrs(e.color, st.line_width, st.dashed, st.opacity), "/>");
      }
      AppendMarker(&out, st.marker, lx + 12, ly, st.marker_size, e.color, st.hollow, 1, "");
      const std::string shown_name = Truncate(e.name, kLegendChars);
      absl::StrAppend(&out, "<text x=\"", Px(lx + 30), "\" y=\"", Px(ly + 4), "\">",
                      shown_name != e.name
                          ? absl::StrCat("<title>", EscapeXml(e.name), "</title>")
                          : "",
                      EscapeXml(shown_name), "</text>\n");
      ly += kLegendRow;
    }
    if (shown < legend.size()) {
      absl::StrAppend(&out, "<text x=\"", Px(lx + 30), "\" y=\"", Px(ly + 4),
                      "\" fill=\"#666\">+ ", legend.size() - shown, " more</text>\n");
    }
    absl::StrAppend(&out, "</g>\n");
  }
  absl::StrAppend(&out, "</svg>\n");
  return out;
}

}  // namespace ionloop::report
