#include "models/data/voltage_grid.h"

#include <cmath>
#include <cstddef>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ionloop::models {
namespace {

// The least-squares non-increasing fit of `v` (pool-adjacent-violators, equal weights).
std::vector<double> NonIncreasingFit(const std::vector<double>& v) {
  struct Block {
    double sum;
    size_t count;
    double mean() const { return sum / static_cast<double>(count); }
  };
  std::vector<Block> blocks;
  blocks.reserve(v.size());
  for (double x : v) {
    blocks.push_back({x, 1});
    // A later block may not lie above an earlier one: pool them.
    while (blocks.size() > 1 &&
           blocks[blocks.size() - 1].mean() > blocks[blocks.size() - 2].mean()) {
      Block last = blocks.back();
      blocks.pop_back();
      blocks.back().sum += last.sum;
      blocks.back().count += last.count;
    }
  }
  std::vector<double> fit;
  fit.reserve(v.size());
  for (const Block& b : blocks) fit.insert(fit.end(), b.count, b.mean());
  return fit;
}

}  // namespace

std::vector<double> LinearVoltageGrid(double v_high, double v_low, int points) {
  std::vector<double> grid;
  if (points <= 0) return grid;
  grid.reserve(static_cast<size_t>(points));
  if (points == 1) {
    grid.push_back(v_high);
    return grid;
  }
  const double step = (v_low - v_high) / (points - 1);
  for (int i = 0; i < points; ++i) grid.push_back(v_high + step * i);
  grid.back() = v_low;  // exact end point despite rounding
  return grid;
}

absl::StatusOr<DischargeCurve> ResampleToVoltageGrid(
    const instruments::cycler::VoltageCurve& v_of_q, const std::vector<double>& grid) {
  const std::vector<double>& q = v_of_q.capacity_ah;
  const std::vector<double>& v = v_of_q.voltage_v;
  if (q.size() != v.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("v_of_q: capacity_ah has ", q.size(), " points but voltage_v has ", v.size()));
  }
  if (q.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("v_of_q: needs at least 2 points, got ", q.size()));
  }
  for (size_t i = 0; i < q.size(); ++i) {
    if (!std::isfinite(q[i]) || !std::isfinite(v[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("v_of_q: point ", i, " is not finite (Q ", q[i], " Ah, V ", v[i], " V)"));
    }
    if (i > 0 && q[i] < q[i - 1]) {
      return absl::InvalidArgumentError(absl::StrCat("v_of_q.capacity_ah[", i, "]: ", q[i],
                                                     " Ah is below the previous point's ", q[i - 1],
                                                     " Ah"));
    }
  }
  if (grid.empty()) return absl::InvalidArgumentError("grid: empty");
  for (size_t i = 0; i < grid.size(); ++i) {
    if (!std::isfinite(grid[i])) {
      return absl::InvalidArgumentError(absl::StrCat("grid[", i, "]: not finite (", grid[i], ")"));
    }
  }
  if (grid.size() >= 2) {
    const bool decreasing = grid[1] < grid[0];
    for (size_t i = 1; i < grid.size(); ++i) {
      if (decreasing ? !(grid[i] < grid[i - 1]) : !(grid[i] > grid[i - 1])) {
        return absl::InvalidArgumentError(absl::StrCat(
            "grid[", i, "]: ", grid[i], " V breaks the strict monotonicity of the grid (previous ",
            grid[i - 1], " V)"));
      }
    }
  }

  const std::vector<double> fit = NonIncreasingFit(v);
  const size_t n = fit.size();
  DischargeCurve out;
  out.cycle = static_cast<int>(v_of_q.cycle_index);
  out.voltage_v = grid;
  out.capacity_ah.resize(grid.size());
  // Q(g): the first i with fit[i] <= g, interpolated against i - 1 (fit[i-1] > g there).
  // Binary search on the non-increasing fit.
  for (size_t k = 0; k < grid.size(); ++k) {
    const double g = grid[k];
    if (g >= fit.front()) {
      out.capacity_ah[k] = q.front();
      continue;
    }
    if (g < fit.back()) {
      out.capacity_ah[k] = q.back();
      continue;
    }
    size_t lo = 0, hi = n - 1;  // fit[lo] > g >= fit[hi]
    while (hi - lo > 1) {
      const size_t mid = lo + (hi - lo) / 2;
      if (fit[mid] <= g) {
        hi = mid;
      } else {
        lo = mid;
      }
    }
    const double t = (fit[lo] - g) / (fit[lo] - fit[hi]);
    out.capacity_ah[k] = q[lo] + t * (q[hi] - q[lo]);
  }
  return out;
}

}  // namespace ionloop::models
