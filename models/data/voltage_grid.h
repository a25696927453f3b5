// Discharge curves on a common voltage grid: the virtual cycler (and a real cycler) report
// V(Q) sampled in capacity; the early-cycle features (Severson et al. 2019: ΔQ(V) between
// cycles) need Q(V) on one voltage grid so that curves of different cycles subtract
// point by point.
//
// Knows nothing of protobuf, gRPC, SQLite or torch.
#ifndef IONLOOP_MODELS_DATA_VOLTAGE_GRID_H_
#define IONLOOP_MODELS_DATA_VOLTAGE_GRID_H_

#include <vector>

#include "absl/status/statusor.h"
#include "instruments/cycler/cycler_types.h"
#include "models/data/cell_series.h"

namespace ionloop::models {

// `points` voltages evenly spaced from `v_high` down to `v_low` (both included), the
// orientation of a discharge. Empty for points <= 0; {v_high} for points == 1.
std::vector<double> LinearVoltageGrid(double v_high, double v_low, int points);

// Q(V) of a discharge half cycle on `grid`, from the cycler's V(Q).
//
// A discharge's voltage falls as its capacity grows; measured curves are not strictly
// monotone (noise, a flat plateau), so V is first replaced by its least-squares
// non-increasing fit (pool-adjacent-violators: unbiased, unlike a running minimum), then
// inverted by linear interpolation: Q(g) interpolates the first segment whose voltage
// falls to `g`. A voltage on a flat stretch maps to the stretch's start.
//
// Grid points outside the curve's voltage range clamp to its end capacities: a grid
// voltage above the first (highest) voltage of the curve gets the first capacity (usually
// 0: the IR drop at the start puts the top of a discharge below the charge cut-off), one
// below the last voltage gets the last capacity (the total discharged). So Q(V) is
// defined, non-decreasing as V falls, on any grid.
//
// `grid` may be decreasing (the usual) or increasing, but strictly monotone. The result
// carries `grid` as its voltage_v and the curve's cycle index. INVALID_ARGUMENT (naming
// the field and value) for fewer than 2 points, mismatched lengths, non-finite values, a
// capacity that decreases, or a grid that is empty or not strictly monotone.
absl::StatusOr<DischargeCurve> ResampleToVoltageGrid(
    const instruments::cycler::VoltageCurve& v_of_q, const std::vector<double>& grid);

}  // namespace ionloop::models

#endif  // IONLOOP_MODELS_DATA_VOLTAGE_GRID_H_
