// Proto ↔ struct adapter of the virtual cycler, shared by the cycler worker and the
// orchestrator's models: ionloop.v1 cells and protocols to the
// virtual cycler's CellConfig, and the cycle records and V(Q) curves of the virtual
// cycler (instruments/cycler) and of real cycler files (instruments/cycler_files) to
// ionloop.v1.CycleRecord / VoltageCurve. Field-by-field copies plus the defaults the
// protos leave to the reader (eol_soh_percent 0 → 80 %).
#ifndef IONLOOP_INSTRUMENTS_CYCLER_PROTO_CYCLER_PROTO_H_
#define IONLOOP_INSTRUMENTS_CYCLER_PROTO_CYCLER_PROTO_H_

#include <optional>

#include "absl/status/statusor.h"
#include "instruments/cycler/cycler_types.h"
#include "instruments/cycler_files/cycler_file.h"
#include "instruments/electrodes.h"
#include "ionloop/v1/cell.pb.h"
#include "ionloop/v1/measurement.pb.h"

namespace ionloop::instruments::cycler {

namespace v1 = ::ionloop::v1;

inline constexpr double kDefaultEolSohPercent = 80;

// ION_LI → Ion::kLi, ...; nullopt for ION_UNSPECIFIED and unknown values.
std::optional<instruments::Ion> IonFromProto(v1::Ion ion);
v1::Ion IonToProto(instruments::Ion ion);
// CELL_DESIGN_COIN → CellDesign::kCoin, ...; nullopt for UNSPECIFIED and unknown values.
std::optional<instruments::cycler::CellDesign> DesignFromProto(v1::CellDesign design);
v1::CellDesign DesignToProto(instruments::cycler::CellDesign design);

// The effective end-of-life criterion of a cell: eol_soh_percent, or 80 when it is 0.
double EolSohPercent(const v1::CellSpec& cell);

// CellSpec → CellConfig: ion, electrodes, electrolyte, design, nominal capacity, the
// protocol (constant-current or multi-step charge, discharge rate, voltage window,
// temperature, rest) and the EOL criterion. INVALID_ARGUMENT naming the field for an
// unspecified ion or design; everything else (electrode names, rates, window) is checked
// by VirtualCell::Create.
absl::StatusOr<instruments::cycler::CellConfig> CellConfigFromProto(const v1::CellSpec& cell);

// CellConfig → CellSpec: the inverse of CellConfigFromProto (np_ratio has no field).
v1::CellSpec CellConfigToProto(const instruments::cycler::CellConfig& config);

// The virtual cycler's record → the proto (the ground-truth fields are not sent).
v1::CycleRecord CycleRecordToProto(const instruments::cycler::CycleRecord& record);
v1::VoltageCurve VoltageCurveToProto(const instruments::cycler::VoltageCurve& curve);

// A real file's cycles → the proto: instruments/cycler_files/proto (ToCycleRecord,
// ToVoltageCurve), shared with `ionloop import`.

}  // namespace ionloop::instruments::cycler

#endif  // IONLOOP_INSTRUMENTS_CYCLER_PROTO_CYCLER_PROTO_H_
