// The adapter from a cycler file (plain structs, instruments/cycler_files) to ionloop's
// measurements: one CycleRecord per cycle, and V(Q) curves on request. The readers stay
// free of protos; the CLI's import and the worker's replay backend share this.
#ifndef IONLOOP_INSTRUMENTS_CYCLER_FILES_PROTO_CYCLER_FILE_MEASUREMENTS_H_
#define IONLOOP_INSTRUMENTS_CYCLER_FILES_PROTO_CYCLER_FILE_MEASUREMENTS_H_

#include <vector>

#include "instruments/cycler_files/cycler_file.h"
#include "ionloop/v1/measurement.pb.h"

namespace ionloop::instruments::cycler_files {

struct MeasurementOptions {
  bool discharge_curves = false;  // a VoltageCurve after each cycle's record
};

// In file order, numbered seq 1, 2, 3, ... (job_id and attempt left empty). Cycles
// the file logs before its first real cycle (Arbin's Cycle_Index 0) are skipped; absent
// optional values become 0, as the proto has no "unset" for them.
std::vector<v1::Measurement> ToMeasurements(const CyclerFile& file,
                                            const MeasurementOptions& options = {});

v1::CycleRecord ToCycleRecord(const CycleSummary& cycle);
v1::VoltageCurve ToVoltageCurve(const VoltageCurve& curve);

}  // namespace ionloop::instruments::cycler_files

#endif  // IONLOOP_INSTRUMENTS_CYCLER_FILES_PROTO_CYCLER_FILE_MEASUREMENTS_H_
