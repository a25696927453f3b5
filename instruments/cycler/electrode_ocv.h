// Open-circuit potential of one electrode as a function of its state of charge, from the
// electrode table's average potential, practical window [ocv_min_v, ocv_max_v] and shape
// (docs/science.md, "Open-circuit potentials"). Tabulated once per cell so that the
// cycler's hot path is a table lookup.
#ifndef IONLOOP_INSTRUMENTS_CYCLER_ELECTRODE_OCV_H_
#define IONLOOP_INSTRUMENTS_CYCLER_ELECTRODE_OCV_H_

#include <array>

#include "instruments/electrode_table.h"

namespace ionloop::instruments::cycler {

// The normalized shape h(z) in [-1, 1] of an OCV over the practical window z in [0, 1]
// (z = fraction of the practical capacity that is charged: delithiated for a positive
// electrode, inserted for a negative one). h(0) = -1, h(1) = +1, h increasing.
double OcvShapeValue(OcvShape shape, double z);

// The potential (V, vs the table's reference metal) of electrode `e` at state z, computed
// directly (no table). Positive electrodes: z beyond 1 up to theoretical/practical
// capacity continues upward (over-delithiation); negative electrodes: z beyond 1 falls
// below ocv_min_v and through 0 V (an overfilled host: the metal plates).
double ElectrodePotential(const ElectrodeProperties& e, double z);

// The largest z of a positive electrode (theoretical / practical capacity, at most 1.25;
// 1 when the theoretical capacity is unknown) or of a negative one (1.5: the table's end).
double MaxChargeState(const ElectrodeProperties& e);

class ElectrodeOcv {
 public:
  ElectrodeOcv() = default;
  // `offset_v` is added to every potential: it moves the table's reference metal to the
  // cell's working ion (standard potentials; docs/science.md).
  ElectrodeOcv(const ElectrodeProperties& e, double offset_v);

  // Linear interpolation of the table; linear extrapolation with the end slopes outside.
  double operator()(double z) const {
    const double u = z * inv_dz_;
    if (u <= 0) return table_[0] + u * (table_[1] - table_[0]);
    if (u >= kLast) return table_[kLast] + (u - kLast) * (table_[kLast] - table_[kLast - 1]);
    const int i = static_cast<int>(u);
    const double f = u - i;
    return table_[i] + f * (table_[i + 1] - table_[i]);
  }
  double max_z() const { return max_z_; }
  bool constant() const { return constant_; }

 private:
  static constexpr int kPoints = 1025;
  static constexpr int kLast = kPoints - 1;
  std::array<double, kPoints> table_{};
  double max_z_ = 1;
  double inv_dz_ = kLast;
  bool constant_ = false;
};

}  // namespace ionloop::instruments::cycler

#endif  // IONLOOP_INSTRUMENTS_CYCLER_ELECTRODE_OCV_H_
