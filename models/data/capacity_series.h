// Postprocessing of a measured capacity series (DESIGN.md §6.1): outlier correction,
// smoothing, and undersampling to one point per SOH percentile. Each step is a pure
// function on plain vectors so that it can be tested and reused on its own;
// `CleanCapacitySeries` chains them for a `CellSeries`.
//
// Choices (and why):
// - Outliers: a Hampel filter (rolling median ± n·1.4826·MAD). The median and the MAD are
//   robust, so a single dip (a cycler hiccup, a skipped CV step such as CALCE CS2_38 at
//   cycle 118) neither hides itself nor drags its neighbours along, and the filter follows
//   a knee in the fade curve instead of flattening it (a global z-score would not). The
//   replacement is the rolling median. Default 11-point window (half_window 5) and 3σ
//   (Pearson's rule): narrow enough for the fastest fades we see, wide enough that a run
//   of 2 bad points is still a minority of the window; plus a floor of 2 % of the local
//   median so that ordinary sub-percent recovery after rests is left to the smoother
//   (see HampelFilter).
// - Smoothing: Savitzky–Golay (local least-squares polynomial). It keeps the level and the
//   slope of a fade curve (no lag, unlike a moving average) and, with order ≥ 2, the
//   curvature of a knee; LOWESS would do as well but costs more and is not linear.
//   Default window 11, order 2.
// - Undersampling: linear interpolation between measured cycles of the cleaned series,
//   first crossing of each SOH level (so later capacity recovery after a rest does not
//   move a level back in time).
#ifndef IONLOOP_MODELS_DATA_CAPACITY_SERIES_H_
#define IONLOOP_MODELS_DATA_CAPACITY_SERIES_H_

#include <vector>

#include "absl/status/statusor.h"
#include "models/data/cell_series.h"

namespace ionloop::models {

// Hampel filter. For every point i the window is the 2·half_window+1 points centred on i,
// shifted (not truncated) at both ends so that it stays inside the series: every point is
// judged against the same number of neighbours. With m the window's median and
// MAD its median absolute deviation, a point with
//   |x_i − m| > max(n_sigmas·1.4826·MAD, min_relative_deviation·|m|)
// is replaced by m (1.4826·MAD estimates σ for Gaussian noise). The relative floor
// (default 2 % of the local median) is there because real capacity series have long flat
// stretches where the MAD is tiny next to ordinary ~1 % capacity recovery after rests:
// with the pure 3σ rule, 93 of 958 CALCE CS2_38 points (and 79 of 846 of CS2_35) would be
// "outliers"; with the floor, 5 (cycles 86, 118, 691, 707, 746: dips of 2–15 %), while
// NASA B0005 keeps its regeneration jumps (2 of 168 replaced). Pass 0 for the textbook
// filter. Where MAD is 0 (a flat, quantized stretch) no point is replaced. Series shorter
// than the window use the whole series as the window.
// `replaced` (optional) receives the 0-based indices of the replaced points.
// INVALID_ARGUMENT when half_window < 1, n_sigmas <= 0, min_relative_deviation < 0 or a
// value is not finite.
absl::StatusOr<std::vector<double>> HampelFilter(const std::vector<double>& values,
                                                 int half_window, double n_sigmas,
                                                 std::vector<int>* replaced = nullptr,
                                                 double min_relative_deviation = 0.02);

// Savitzky–Golay smoothing: each point becomes the value at that point of the
// least-squares polynomial of degree `poly_order` fitted to the `window` points around it
// (window odd, > poly_order). Edges: the first and last window/2 points take the value of
// the polynomial fitted to the first (last) `window` points (SciPy's mode="interp"), so
// there is no padding bias and any polynomial of degree ≤ poly_order passes through
// unchanged everywhere. The samples are taken as equally spaced (cycle index); a series
// shorter than `window` uses the largest odd window it holds (and a lower order if
// needed); one of fewer than 2 points is returned as is.
// INVALID_ARGUMENT when window is even or < 1, poly_order < 0 or >= window, or a value is
// not finite.
absl::StatusOr<std::vector<double>> SavitzkyGolay(const std::vector<double>& values,
                                                  int window, int poly_order);

struct SohPoint {
  double soh_percent = 0;  // 100, 99, ...
  double cycle = 0;        // (fractional) cycle at which the series first reaches it
};

// One point per SOH level 100, 100−step, ... down to `lowest_soh_percent` (inclusive when
// on the grid) or the lowest level the series reaches. SOH = 100·capacity/reference.
// Each level's cycle is the first crossing: the first measured point at or below the
// level, linearly interpolated with the point before it. Levels at or above the first
// measured SOH (a cell that starts above or below 100 %) map to the first measured cycle.
// The returned cycles are non-decreasing by construction. Pass a cleaned series: a single
// outlier dip would otherwise count as a crossing.
// INVALID_ARGUMENT for empty or unequal inputs, cycles not strictly increasing, non-finite
// values, reference <= 0, step <= 0, or lowest outside (0, 100].
absl::StatusOr<std::vector<SohPoint>> UndersampleToSohPercentiles(
    const std::vector<double>& cycles, const std::vector<double>& capacity,
    double reference_capacity_ah, double lowest_soh_percent, double step_percent = 1);

struct CleaningOptions {
  bool correct_outliers = true;
  int hampel_half_window = 5;
  double hampel_n_sigmas = 3;
  double hampel_min_relative_deviation = 0.02;
  bool smooth = true;
  int savgol_window = 11;
  int savgol_poly_order = 2;
};

// A copy of `cell` whose capacity_ah went through the Hampel filter, then Savitzky–Golay
// (each as enabled in `options`). `replaced` (optional) receives the indices the Hampel
// filter replaced. INVALID_ARGUMENT (naming the cell) for bad options or a malformed series
// (cycles and capacity of unequal length).
absl::StatusOr<CellSeries> CleanCapacitySeries(const CellSeries& cell,
                                               const CleaningOptions& options = {},
                                               std::vector<int>* replaced = nullptr);

// The capacity that SOH is measured against: config.nominal_capacity_ah when > 0 (note
// that CellConfig's default, 0.001 Ah, counts: readers must set it), else the median of
// the first 5 measured cycles (the median ignores one formation-cycle outlier; 5 cycles
// are early enough that fade has not started). FAILED_PRECONDITION when neither exists.
absl::StatusOr<double> ReferenceCapacity(const CellSeries& cell);

// Median of the first min(n, values.size()) values; NaN when that is none.
double MedianOfFirst(const std::vector<double>& values, size_t n);

}  // namespace ionloop::models

#endif  // IONLOOP_MODELS_DATA_CAPACITY_SERIES_H_
