#include "instruments/cycler/fade_analysis.h"

#include <algorithm>
#include <cmath>

namespace ionloop::instruments::cycler {
namespace {

// Least-squares slope of values[from, to) against the index.
double Slope(const std::vector<double>& v, size_t from, size_t to) {
  const double n = static_cast<double>(to - from);
  if (n < 2) return NAN;
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = from; i < to; ++i) {
    const double x = static_cast<double>(i);
    sx += x;
    sy += v[i];
    sxx += x * x;
    sxy += x * v[i];
  }
  const double d = n * sxx - sx * sx;
  return d == 0 ? NAN : (n * sxy - sx * sy) / d;
}

}  // namespace

int FirstBelow(const std::vector<double>& values, double threshold) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] < threshold) return static_cast<int>(i);
  }
  return -1;
}

double FadeAcceleration(const std::vector<double>& capacity, double early_from, double early_to,
                        double tail) {
  const size_t n = capacity.size();
  if (n < 20) return NAN;
  const auto at = [n](double share) {
    return std::min(n, static_cast<size_t>(std::lround(share * static_cast<double>(n))));
  };
  const double early = -Slope(capacity, at(early_from), std::max(at(early_to), at(early_from) + 2));
  const double late = -Slope(capacity, std::min(at(1 - tail), n - 2), n);
  if (!(early > 0)) return NAN;
  return late / early;
}

int KneeIndex(const std::vector<double>& capacity) {
  const size_t n = capacity.size();
  if (n < 3) return -1;
  const double y0 = capacity.front();
  const double slope = (capacity.back() - y0) / static_cast<double>(n - 1);
  int best = -1;
  double best_d = 0;
  for (size_t i = 1; i + 1 < n; ++i) {
    const double d = capacity[i] - (y0 + slope * static_cast<double>(i));
    if (d > best_d) {
      best_d = d;
      best = static_cast<int>(i);
    }
  }
  return best;
}

}  // namespace ionloop::instruments::cycler
