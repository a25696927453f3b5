#include "clients/report/svg_plot.h"

#include <cmath>
#include <limits>
#include <regex>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ionloop::report {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

struct Point {
  double x, y;
};
// The data markers drawn as circles (the legend's are left out).
std::vector<Point> Circles(std::string svg) {
  svg = svg.substr(0, svg.find("<g class=\"legend\""));
  std::vector<Point> out;
  const std::regex re("<circle cx=\"([-0-9.]+)\" cy=\"([-0-9.]+)\"");
  for (std::sregex_iterator it(svg.begin(), svg.end(), re), end; it != end; ++it) {
    out.push_back({std::stod((*it)[1]), std::stod((*it)[2])});
  }
  return out;
}

TEST(LinearTicksTest, NiceStepsThatBracketTheData) {
  EXPECT_THAT(LinearTicks(0, 97, 5), ElementsAre(0, 20, 40, 60, 80, 100));
  EXPECT_THAT(LinearTicks(62.5, 100, 5), ElementsAre(60, 70, 80, 90, 100));
  const std::vector<double> small = LinearTicks(0.013, 0.087, 5);
  ASSERT_GE(small.size(), 3u);
  EXPECT_LE(small.front(), 0.013);
  EXPECT_GE(small.back(), 0.087);
  EXPECT_LE(small.size(), 11u);
  const double step = small[1] - small[0];
  const double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
  EXPECT_TRUE(std::abs(mantissa - 1) < 1e-6 || std::abs(mantissa - 2) < 1e-6 ||
              std::abs(mantissa - 5) < 1e-6)
      << step;
}

TEST(LinearTicksTest, OneValueIsWidened) {
  const std::vector<double> t = LinearTicks(5, 5);
  ASSERT_GE(t.size(), 2u);
  EXPECT_LT(t.front(), 5);
  EXPECT_GT(t.back(), 5);
  EXPECT_THAT(LinearTicks(0, 0).front(), 0);
  EXPECT_GT(LinearTicks(0, 0).back(), 0);
}

TEST(LogTicksTest, DecadesWhenTheDataSpansSeveral) {
  EXPECT_THAT(LogTicks(1, 5000), ElementsAre(1, 10, 100, 1000, 10000));
  EXPECT_THAT(LogTicks(3, 420), ElementsAre(1, 10, 100, 1000));
}

TEST(LogTicksTest, OneTwoFiveWithinTwoDecades) {
  EXPECT_THAT(LogTicks(300, 1800), ElementsAre(200, 500, 1000, 2000));
  EXPECT_THAT(LogTicks(1, 100), ElementsAre(1, 2, 5, 10, 20, 50, 100));
}

TEST(LogTicksTest, ManyDecadesAreThinnedToPowersOfTen) {
  const std::vector<double> t = LogTicks(0.1, 1e12);
  EXPECT_LE(t.size(), 10u);
  EXPECT_LE(t.front(), 0.1);
  EXPECT_GE(t.back(), 1e12);
  for (double v : t) {
    EXPECT_NEAR(std::log10(v), std::round(std::log10(v)), 1e-9) << v;
  }
}

TEST(LogTicksTest, OneValueAndBadInputStayUsable) {
  const std::vector<double> one = LogTicks(500, 500);
  ASSERT_GE(one.size(), 2u);
  EXPECT_LT(one.front(), 500);
  EXPECT_GT(one.back(), 500);
  const std::vector<double> bad = LogTicks(-3, kNaN);
  ASSERT_GE(bad.size(), 2u);
  EXPECT_GT(bad.front(), 0);
}

TEST(FormatTickTest, DecimalsFollowTheStep) {
  EXPECT_EQ(FormatTick(0, 0.2), "0");
  EXPECT_EQ(FormatTick(0.6000000001, 0.2), "0.6");
  EXPECT_EQ(FormatTick(1500, 500), "1500");
  EXPECT_EQ(FormatTick(0.05, 0.05), "0.05");
  EXPECT_EQ(FormatTick(1e7, 1e7), "1e+07");
}

PlotSpec TwoPointSpec() {
  PlotSpec spec;
  Series s;
  s.name = "cells";
  s.x = {0, 10};
  s.y = {0, 100};
  s.marker = Marker::kCircle;
  spec.series.push_back(s);
  return spec;
}

TEST(GeometryTest, AxisMinimumLandsOnTheAxes) {
  const PlotSpec spec = TwoPointSpec();
  const PlotGeometry g = ComputeGeometry(spec);
  EXPECT_DOUBLE_EQ(g.x.lo, 0);
  EXPECT_DOUBLE_EQ(g.x.hi, 10);
  EXPECT_DOUBLE_EQ(g.y.lo, 0);
  EXPECT_DOUBLE_EQ(g.y.hi, 100);
  EXPECT_DOUBLE_EQ(g.x.ToPixel(0), g.left);
  EXPECT_DOUBLE_EQ(g.y.ToPixel(0), g.bottom);
  EXPECT_DOUBLE_EQ(g.x.ToPixel(10), g.right);
  EXPECT_DOUBLE_EQ(g.y.ToPixel(100), g.top);
  EXPECT_DOUBLE_EQ(g.x.ToPixel(5), (g.left + g.right) / 2);
  EXPECT_LT(g.top, g.bottom);

  // And the rendered markers sit exactly there.
  const std::vector<Point> c = Circles(RenderSvg(spec));
  ASSERT_EQ(c.size(), 2u);
  EXPECT_NEAR(c[0].x, g.left, 0.01);
  EXPECT_NEAR(c[0].y, g.bottom, 0.01);
  EXPECT_NEAR(c[1].x, g.right, 0.01);
  EXPECT_NEAR(c[1].y, g.top, 0.01);
}

TEST(GeometryTest, LogAxisSpacesDecadesEvenly) {
  PlotSpec spec = TwoPointSpec();
  spec.series[0].x = {1, 1000};
  spec.series[0].y = {1, 1000};
  spec.x_scale = spec.y_scale = Scale::kLog;
  const PlotGeometry g = ComputeGeometry(spec);
  EXPECT_THAT(g.x.ticks, ElementsAre(1, 10, 100, 1000));
  EXPECT_DOUBLE_EQ(g.x.ToPixel(1), g.left);
  EXPECT_NEAR(g.x.ToPixel(10) - g.x.ToPixel(1), g.x.ToPixel(1000) - g.x.ToPixel(100), 1e-9);
  EXPECT_NEAR(g.y.ToPixel(std::sqrt(1000.0)), (g.top + g.bottom) / 2, 1e-9);
}

TEST(GeometryTest, SameRangeForParityAndDiagonalDrawn) {
  PlotSpec spec = TwoPointSpec();
  spec.series[0].x = {300, 900};
  spec.series[0].y = {500, 2000};
  spec.x_scale = spec.y_scale = Scale::kLog;
  spec.same_xy_range = true;
  spec.diagonal = true;
  const PlotGeometry g = ComputeGeometry(spec);
  EXPECT_EQ(g.x.ticks, g.y.ticks);
  EXPECT_LE(g.x.lo, 300);
  EXPECT_GE(g.x.hi, 2000);
  EXPECT_THAT(RenderSvg(spec), HasSubstr("class=\"diagonal\""));
}

TEST(GeometryTest, ErrorBarsAndReferenceLinesWidenTheRange) {
  PlotSpec spec = TwoPointSpec();
  spec.series[0].y_err = {0, 30};  // 100 + 30
  spec.reference_lines.push_back({-10, "floor"});
  const PlotGeometry g = ComputeGeometry(spec);
  EXPECT_GE(g.y.hi, 130);
  EXPECT_LE(g.y.lo, -10);
  EXPECT_THAT(RenderSvg(spec), HasSubstr("class=\"errorbar\""));
}

TEST(RenderSvgTest, NonFinitePointsAreSkippedAndBreakTheLine) {
  PlotSpec spec;
  Series s;
  s.x = {1, 2, 3, 4, 5, 6};
  s.y = {10, kNaN, 30, kInf, -kInf, 60};
  s.marker = Marker::kCircle;
  spec.series.push_back(s);
  const PlotGeometry g = ComputeGeometry(spec);
  EXPECT_TRUE(std::isfinite(g.y.lo) && std::isfinite(g.y.hi));
  EXPECT_LE(g.y.lo, 10);
  EXPECT_GE(g.y.hi, 60);
  const std::string svg = RenderSvg(spec);
  EXPECT_EQ(Circles(svg).size(), 3u);
  EXPECT_THAT(svg, Not(HasSubstr("nan")));
  EXPECT_THAT(svg, Not(HasSubstr("inf")));
  // Three separate pieces of line: 10 | 30 | 60.
  const std::regex path_re("<path d=\"([^\"]*)\" fill=\"none\" stroke=\"#0072B2\"");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(svg, m, path_re)) << svg;
  EXPECT_EQ(Count(m[1].str(), "M"), 3u) << m[1];
}

TEST(RenderSvgTest, NonPositiveValuesAreSkippedOnLogAxes) {
  PlotSpec spec;
  spec.y_scale = Scale::kLog;
  Series s;
  s.x = {1, 2, 3};
  s.y = {0, -5, 100};
  s.y_err = {1, 1, 200};  // lower end below zero: runs to the bottom
  s.line = false;
  s.marker = Marker::kCircle;
  spec.series.push_back(s);
  const std::string svg = RenderSvg(spec);
  EXPECT_EQ(Circles(svg).size(), 1u);
  EXPECT_THAT(svg, Not(HasSubstr("nan")));
}

TEST(RenderSvgTest, NoDataStillRenders) {
  PlotSpec spec;
  Series s;
  s.x = {kNaN};
  s.y = {kNaN};
  spec.series.push_back(s);
  spec.x_scale = Scale::kLog;
  const std::string svg = RenderSvg(spec);
  EXPECT_THAT(svg, HasSubstr("<svg"));
  EXPECT_THAT(svg, HasSubstr("</svg>"));
  EXPECT_THAT(svg, Not(HasSubstr("nan")));
}

TEST(RenderSvgTest, StepLinesUseHorizontalThenVerticalMoves) {
  PlotSpec spec;
  Series s;
  s.x = {1, 2, 3};
  s.y = {5, 7, 9};
  s.step = true;
  spec.series.push_back(s);
  const std::string svg = RenderSvg(spec);
  EXPECT_THAT(svg, testing::ContainsRegex("d=\"M[0-9.]+,[0-9.]+H[0-9.]+V[0-9.]+H[0-9.]+V"));
}

TEST(RenderSvgTest, TextIsEscapedAndLegendListsNamedSeries) {
  PlotSpec spec = TwoPointSpec();
  spec.series[0].name = "<script>alert('x')</script>";
  spec.title = "A & B";
  spec.x_label = "x <unit>";
  Series hidden;
  hidden.x = {1};
  hidden.y = {1};
  spec.series.push_back(hidden);  // no name: not in the legend
  const std::string svg = RenderSvg(spec);
  EXPECT_THAT(svg, Not(HasSubstr("<script>")));
  EXPECT_THAT(svg, HasSubstr("&lt;script&gt;"));
  EXPECT_THAT(svg, HasSubstr("A &amp; B"));
  EXPECT_THAT(svg, HasSubstr("x &lt;unit&gt;"));
  EXPECT_THAT(svg, HasSubstr("class=\"legend\""));
}

TEST(RenderSvgTest, LongLegendsAreCut) {
  PlotSpec spec;
  spec.max_legend_entries = 5;
  for (int i = 0; i < 20; ++i) {
    Series s;
    s.name = "cell " + std::to_string(i);
    s.x = {0, 1};
    s.y = {0, static_cast<double>(i)};
    spec.series.push_back(s);
  }
  const std::string svg = RenderSvg(spec);
  EXPECT_THAT(svg, HasSubstr("+ 16 more"));
  EXPECT_THAT(svg, HasSubstr(">cell 3<"));
  EXPECT_THAT(svg, Not(HasSubstr(">cell 4<")));
}

TEST(EscapeXmlTest, EscapesAllFive) {
  EXPECT_EQ(EscapeXml("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

}  // namespace
}  // namespace ionloop::report
