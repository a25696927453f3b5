// A cell as the models see it: what it is and how it was cycled (known before any test),
// and what was measured (a capacity series, some early discharge curves). Data-set readers
// (Severson, INL, cycler files), the virtual-cycler corpus generator and the store adapter
// all produce this one struct; featurizers and models consume it.
//
// Knows nothing of protobuf, gRPC, SQLite or torch.
#ifndef IONLOOP_MODELS_DATA_CELL_SERIES_H_
#define IONLOOP_MODELS_DATA_CELL_SERIES_H_

#include <cmath>
#include <string>
#include <vector>

#include "instruments/cycler/cycler_types.h"

namespace ionloop::models {

// Discharge capacity as a function of voltage, Q(V), for one cycle, sampled on a voltage
// grid (Severson et al. 2019 use 1000 points from 3.6 V down to 2.0 V).
struct DischargeCurve {
  int cycle = 0;                    // 1-based cycle index
  std::vector<double> voltage_v;    // the grid, strictly monotonic (usually decreasing)
  std::vector<double> capacity_ah;  // discharged capacity at each grid voltage
};

struct CellSeries {
  std::string id;  // unique within its data set: "train/cell12", "P492-24", "virtual-0042"

  // What the cell is and how it is cycled (ion, electrodes, design, nominal capacity,
  // protocol, EOL criterion). Fields a data set does not state keep their defaults.
  instruments::cycler::CellConfig config;
  // Electrode loading where a data set varies it (INL: 1 low, 2 moderate, 3 high); 0 when
  // not stated.
  double loading_level = 0;

  // Measured discharge capacity per cycle; `cycles` is 1-based, strictly increasing, and
  // may skip cycles (Severson's files start at cycle 2).
  std::vector<double> cycles;
  std::vector<double> capacity_ah;

  // Q(V) of some early cycles (for the early-cycle features), ordered by cycle.
  std::vector<DischargeCurve> curves;

  // Cycles to end of life as the data set states it (Severson: first cycle under 0.88 Ah;
  // the virtual cycler: the true value), NaN when the cell did not reach it.
  double cycle_life = NAN;

  bool has_cycle_life() const { return !std::isnan(cycle_life); }
};

}  // namespace ionloop::models

#endif  // IONLOOP_MODELS_DATA_CELL_SERIES_H_
