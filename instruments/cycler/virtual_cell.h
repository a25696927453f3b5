// The virtual cycler's cell: a ground-truth degradation model of one cell on one cycler
// channel, deterministic per seed (docs/science.md, "Virtual cycler").
//
//   ASSIGN_OR_RETURN(ElectrodeTable table, LoadDefaultElectrodeTable());
//   ASSIGN_OR_RETURN(VirtualCell cell, VirtualCell::Create(config, table, seed));
//   while (!cell.ReachedEol() && cell.cycles() < max_cycles) {
//     CycleRecord r = cell.RunCycle();          // instantaneous: ~1 µs
//     if (want_curve) VoltageCurve c = cell.DischargeCurve();
//   }
//
// The model is instantaneous; pacing a cycle to micro- or milliseconds of wall time (time
// acceleration) is the worker's business. Chemistries differ through the electrode
// table's physics (potentials, volume change, transport, plating, dissolution), not
// through per-chemistry branches.
//
// Not thread-safe; one cell per channel. Copyable (a copy is an identical twin).
#ifndef IONLOOP_INSTRUMENTS_CYCLER_VIRTUAL_CELL_H_
#define IONLOOP_INSTRUMENTS_CYCLER_VIRTUAL_CELL_H_

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "instruments/cycler/cycler_types.h"
#include "instruments/cycler/electrode_ocv.h"
#include "instruments/cycler/model_parameters.h"
#include "instruments/cycler/random.h"
#include "instruments/electrode_table.h"

namespace ionloop::instruments::cycler {

// The hidden state of the cell (fractions of the nominal capacity unless said otherwise).
struct DegradationState {
  double lli_sei = 0;            // lithium (ion) inventory lost to SEI growth, sqrt(t) part
  double lli_sei_cycling = 0;    // ... to SEI re-formed on cracked surfaces
  double lli_plating = 0;        // ... to dead plated metal
  double lam_positive = 0;       // positive active material lost (mechanical/oxidative)
  double lam_dissolution = 0;    // positive active material dissolved (organics)
  double lam_negative = 0;       // negative active material lost
  double film_resistance = 0;    // relative resistance growth from plating products
  double reversible_loss = 0;    // recoverable on rest
  double plated_last_cycle = 0;  // charge that plated during the last charge
  double resistance_growth = 0;  // total relative DC-resistance growth
  double temperature_c = 0;      // mean cell temperature of the last cycle
  double soh = 1;                // true discharge capacity of the last cycle / nominal

  double lli_total() const { return lli_sei + lli_sei_cycling + lli_plating; }
};

class VirtualCell {
 public:
  // INVALID_ARGUMENT for an unknown electrode, a wrong role or ion, a protocol outside
  // what a cycler can run, or a voltage window the cell can never charge into.
  static absl::StatusOr<VirtualCell> Create(const CellConfig& config, const ElectrodeTable& table,
                                            uint64_t seed,
                                            const ModelParameters& params = ModelParameters());

  // Runs one charge/discharge cycle (with the protocol's rests) and returns what the
  // cycler measures.
  CycleRecord RunCycle();

  // An open-circuit rest of `hours` at the current (discharged) state: calendar ageing
  // continues, the reversible loss recovers.
  void Rest(double hours);

  // The true (noise-free) discharge capacity of the last cycle is below the EOL criterion.
  bool ReachedEol() const;

  // V(Q) of the last cycle's discharge / charge at `points` points (>= 2), from the
  // electrode OCVs and the cell's resistance at that cycle. Empty before the first cycle.
  VoltageCurve DischargeCurve(int points = 100) const;
  VoltageCurve ChargeCurve(int points = 100) const;

  uint32_t cycles() const { return cycle_; }
  double elapsed_s() const { return elapsed_h_ * 3600.0; }
  const DegradationState& state() const { return state_; }
  const CellConfig& config() const { return config_; }
  // Initial true capacity / nominal (cell-to-cell variation), and the cell's DC
  // resistance (Ω) at 25 °C when new.
  double initial_capacity_factor() const { return capacity_factor_; }
  double initial_resistance_ohm() const;

 private:
  static constexpr int kMaxNodes = 160;
  static constexpr double kNodeStep = 0.02;  // OCV nodes every 2 % of nominal capacity
  static constexpr double kInverseNodeStep = 1 / kNodeStep;

  struct ChargePlanStep {
    double c_rate;
    double until_q;  // SOC (fraction of nominal) where the next step starts
  };
  // What one cycle saw, kept for the V(Q) curves and the degradation update.
  struct CycleTrace {
    double q_start = 0, q_top = 0, q_bottom = 0;
    double lli_eff = 0, c_pos = 1, c_neg = 1;
    double r_v_per_c = 0;  // cell resistance, V per C
    double charge_time_h = 0, discharge_time_h = 0;
    double charge_energy = 0, discharge_energy = 0;  // V x fraction of nominal
    double heat = 0;                                 // V x fraction of nominal
    double charge_heat = 0;                          // ... of the charge alone
    double plated = 0;                               // fraction of nominal
    double mean_charge_c = 0;
  };

  VirtualCell() = default;

  // exp(-Ea/R (1/T - 1/298.15 K)): a rate's factor relative to 25 °C.
  double Arrhenius(double ea_j_mol, double temperature_k) const;
  // A resistance's factor relative to 25 °C (ModelParameters: electrolyte + charge transfer).
  double KineticFactor(double ct_share, double temperature_k) const;
  double PositivePotentialAt(double q, double lli_eff, double c_pos) const;
  double NegativePotentialAt(double q, double c_neg) const;
  double OcvAt(double q, const CycleTrace& t) const;
  void PrepareNodes(const CycleTrace& t);
  double NodeOcv(double q) const;  // linear in the node table
  double ChargeRateAt(double q, int* step) const;
  double PlatingFraction(double c_rate, double q, double rho, double c_neg) const;
  void Charge(double rho, CycleTrace* t);
  void Discharge(CycleTrace* t);
  // Applies one cycle's ageing; returns the charge (fraction of nominal) that went into
  // side reactions during it (it adds to the measured charge capacity).
  double Age(const CycleTrace& t, double temperature_k, double cycle_time_h);
  double CurrentPositiveCapacity() const;
  double CurrentNegativeCapacity() const;
  double LliEffective() const;

  CellConfig config_;
  ModelParameters p_;
  DesignParameters design_;
  ElectrodeProperties pos_;
  ElectrodeProperties neg_;
  ElectrodeOcv pos_ocv_;
  ElectrodeOcv neg_ocv_;
  bool reservoir_negative_ = false;  // a metal counter electrode
  double np_ratio_ = 1.1;
  double pos_offset_v_ = 0;  // table reference metal -> cell ion, V
  std::vector<ChargePlanStep> plan_;

  // Cell-to-cell variation, drawn once from the seed.
  uint64_t seed_ = 0;
  double capacity_factor_ = 1;
  double resistance_factor_ = 1;
  double var_sei_ = 1, var_lam_pos_ = 1, var_lam_neg_ = 1, var_plating_ = 1, var_rho_ = 1;
  double var_dissolution_ = 1;

  // Derived constants.
  double r0_ = 0.03;          // V per C at 25 °C, new
  double rho0_ = 0.02;        // V per C at 25 °C, new
  double surface_soc_per_c0_ = 0.05;  // at 25 °C
  double surface_soc_per_c_ = 0.05;   // at the current cycle's temperature
  double log_exchange_ = 0;
  double thermal_k_per_w_ = 10;
  double mech_pos_ = 1, mech_neg_ = 1, ion_factor_pos_ = 1, sei_ion_factor_ = 1;

  // State.
  DegradationState state_;
  double sei_l2_ = 0;  // (lli_sei)^2
  double q_ = 0;       // charge stored now, fraction of nominal
  double temperature_k_ = 298.15;         // mean of the last cycle
  double charge_temperature_k_ = 298.15;  // during the last charge
  double elapsed_h_ = 0;
  uint32_t cycle_ = 0;
  CycleTrace last_;
  Rng rng_{0};

  std::array<double, kMaxNodes> node_ocv_{};
  int nodes_ = 0;
};

}  // namespace ionloop::instruments::cycler

#endif  // IONLOOP_INSTRUMENTS_CYCLER_VIRTUAL_CELL_H_
