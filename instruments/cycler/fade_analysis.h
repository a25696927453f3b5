// Measurable shape features of a capacity-fade curve, used by the virtual cycler's tests
// and available to analysis code: cycles to a threshold and the "knee" (the cycle after
// which fade accelerates; Attia et al., J. Electrochem. Soc. 169 (2022) 060517).
#ifndef IONLOOP_INSTRUMENTS_CYCLER_FADE_ANALYSIS_H_
#define IONLOOP_INSTRUMENTS_CYCLER_FADE_ANALYSIS_H_

#include <vector>

namespace ionloop::instruments::cycler {

// Index (0-based) of the first value below `threshold`, or -1 if none is.
int FirstBelow(const std::vector<double>& values, double threshold);

// Fade acceleration: the least-squares fade rate (capacity lost per cycle) over the last
// `tail` share of the series, divided by the rate over the window [early_from, early_to]
// (shares of its length). A curve that fades linearly gives ~1, a decelerating
// (sqrt(t), SEI-dominated) one < 1, a curve with a knee well above 1. The tests call a
// knee "present" when this is >= 2 (and absent when < 1.5). NaN if the early rate is not
// a loss (<= 0) or the series has fewer than 20 points.
double FadeAcceleration(const std::vector<double>& capacity, double early_from = 0.1,
                        double early_to = 0.4, double tail = 0.2);

// Knee onset by the maximum distance above the chord from the first to the last point
// (Kneedle-style; the curve must lie above the chord, as a concave fade curve does).
// Returns the index, or -1 when no point lies above the chord.
int KneeIndex(const std::vector<double>& capacity);

}  // namespace ionloop::instruments::cycler

#endif  // IONLOOP_INSTRUMENTS_CYCLER_FADE_ANALYSIS_H_
