#include "instruments/cycler/electrode_ocv.h"

#include <algorithm>
#include <cmath>

namespace ionloop::instruments::cycler {
namespace {

constexpr double kEdge = 0.002;  // z is clamped to [kEdge, 1 - kEdge] in the logit
// Beyond the practical window of a positive electrode the potential climbs 1 V over the
// extra capacity up to the theoretical one (layered oxides: ~+0.2 V for +7 % capacity,
// as NMC811 charged to 4.5 instead of 4.3 V); with no headroom it climbs 20 V per unit.
// The headroom is capped at 25 % of the practical capacity (LiCoO2 charged to 4.5 V
// gains about that much; organics, far below their theoretical capacity for kinetic
// reasons, do not gain more by a higher cut-off).
constexpr double kMaxOverchargeShare = 0.25;
constexpr double kOverchargeRiseV = 1.0;
constexpr double kWallSlopeVPerUnit = 20.0;
// An overfilled negative host falls 2 V per unit of extra charge (graphite at 0.07 V
// reaches 0 V after 3.5 % overfill), i.e. the metal plates.
constexpr double kOverfillSlopeVPerUnit = 2.0;
constexpr double kNegativeMaxZ = 1.5;

double Logit01(double z) {
  static const double kMax = std::log((1 - kEdge) / kEdge);
  const double c = std::clamp(z, kEdge, 1 - kEdge);
  return std::log(c / (1 - c)) / kMax;
}

double SignedSquare(double x) { return x < 0 ? -x * x : x * x; }

// Potential inside the practical window (z in [0, 1]).
double InWindow(const ElectrodeProperties& e, double z) {
  const double h = OcvShapeValue(e.ocv_shape, z);
  const double up = e.ocv_max_v - e.avg_potential_v;
  const double down = e.avg_potential_v - e.ocv_min_v;
  if (e.role == ElectrodeRole::kPositive) return e.avg_potential_v + (h >= 0 ? up : down) * h;
  return e.avg_potential_v - (h >= 0 ? down : up) * h;
}

}  // namespace

double OcvShapeValue(OcvShape shape, double z) {
  z = std::clamp(z, 0.0, 1.0);
  const double lin = 2 * z - 1;
  switch (shape) {
    case OcvShape::kPlateau:
      return 0.04 * lin + 0.96 * SignedSquare(Logit01(z));
    case OcvShape::kTwoPlateau:
      return 0.04 * lin + 0.5 * std::tanh((z - 0.5) / 0.03) + 0.46 * SignedSquare(Logit01(z));
    case OcvShape::kSloping:
      return 0.6 * lin + 0.4 * Logit01(z);
    case OcvShape::kCapacitive:
      return lin;
    case OcvShape::kMetal:
      return 0;
  }
  return lin;
}

double MaxChargeState(const ElectrodeProperties& e) {
  if (e.role == ElectrodeRole::kNegative) return kNegativeMaxZ;
  if (std::isnan(e.theoretical_capacity_mah_g)) return 1.0;
  return std::clamp(e.theoretical_capacity_mah_g / e.practical_capacity_mah_g, 1.0,
                    1.0 + kMaxOverchargeShare);
}

double ElectrodePotential(const ElectrodeProperties& e, double z) {
  if (e.ocv_shape == OcvShape::kMetal) return e.avg_potential_v;
  if (z <= 1) return InWindow(e, z);
  if (e.role == ElectrodeRole::kNegative) return e.ocv_min_v - kOverfillSlopeVPerUnit * (z - 1);
  const double headroom = MaxChargeState(e) - 1;
  const double slope = headroom > 0.01 ? kOverchargeRiseV / headroom : kWallSlopeVPerUnit;
  return e.ocv_max_v + slope * (z - 1);
}

ElectrodeOcv::ElectrodeOcv(const ElectrodeProperties& e, double offset_v) {
  constant_ = e.ocv_shape == OcvShape::kMetal;
  // Positive electrodes are tabulated a little past their theoretical capacity so that
  // the charge always meets a rising wall.
  max_z_ = MaxChargeState(e);
  const double span = e.role == ElectrodeRole::kPositive ? max_z_ + 0.05 : max_z_;
  const double dz = span / kLast;
  inv_dz_ = 1.0 / dz;
  for (int i = 0; i < kPoints; ++i) {
    const double z = i * dz;
    double u = ElectrodePotential(e, z);
    if (e.role == ElectrodeRole::kPositive && z > max_z_) {
      u = ElectrodePotential(e, max_z_) + kWallSlopeVPerUnit * (z - max_z_);
    }
    table_[i] = u + offset_v;
  }
}

}  // namespace ionloop::instruments::cycler
