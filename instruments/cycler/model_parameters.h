// Every tunable of the virtual cycler's degradation model, documented once, here.
// docs/science.md gives the equations these enter. Electrode-specific physics comes from
// the electrode table (potentials, volume change, conductivity, plating-prone,
// dissolution fraction); what is left here is either a physical constant with a source,
// an order-of-magnitude estimate, or a rate constant calibrated to a published figure —
// each says which.
//
// Units: capacities and losses are fractions of the nominal capacity; rates are C-rates
// (1/h); "per cycle" means per full-depth equivalent cycle unless said otherwise.
#ifndef IONLOOP_INSTRUMENTS_CYCLER_MODEL_PARAMETERS_H_
#define IONLOOP_INSTRUMENTS_CYCLER_MODEL_PARAMETERS_H_

#include <array>

#include "instruments/cycler/cycler_types.h"

namespace ionloop::instruments::cycler {

// Per cell design (order-of-magnitude estimates unless said otherwise).
struct DesignParameters {
  // DC resistance times nominal capacity at 25 °C, Ω·Ah (= V of IR drop per C of
  // current): an A123 1.1 Ah 18650 has ~20-25 mΩ; research coin and Swagelok cells with
  // thick electrodes, wide separators and a metal counter electrode are far higher.
  double r_ohm_ah;
  // Overpotential of the negative electrode per C of charge current at 25 °C, V/C: what
  // pushes its potential toward the metal (plating). Cylindrical: calibrated so that
  // Severson's LFP/graphite policies live 150-2300 cycles at 30 °C (see the test);
  // the others: thicker, energy-type electrodes (estimate).
  double rho_negative_v_per_c;
  // Thermal resistance cell -> chamber at 1 Ah, K/W; scaled by (Q/1 Ah)^(-2/3) (surface
  // grows as volume^(2/3)). 18650 in a fixture with forced convection: ~12 K/W.
  double thermal_k_per_w;
  // Multiplies every measurement noise (coin and Swagelok cells are noisier: contact,
  // small currents on the same ranges).
  double noise_scale;
};

struct ModelParameters {
  // ---- Arrhenius temperature dependence, exp(-Ea/R (1/T - 1/T_ref)), T_ref 25 °C.
  // SEI growth and cycling fade: 31.7 kJ/mol, the activation energy of capacity loss of
  // graphite/LiFePO4 cells (Wang et al., J. Power Sources 196 (2011) 3942); within the
  // 20-60 kJ/mol reported for SEI-dominated ageing (e.g. Waldmann et al., J. Power Sources
  // 262 (2014) 129; Schmalstieg et al., J. Power Sources 257 (2014) 325).
  double ea_ageing_j_mol = 31700;
  // Resistances and overpotentials fall with temperature through two processes, mixed:
  //   r(T) = r25 ((1 - s) / A(Ea_electrolyte, T) + s / A(Ea_charge_transfer, T)),
  // A the Arrhenius rate factor. Electrolyte transport: ~18 kJ/mol (conductivity of LiPF6
  // in carbonates, Valøen & Reimers, J. Electrochem. Soc. 152 (2005) A882); charge
  // transfer: ~55 kJ/mol (Jow et al., J. Electrochem. Soc. 165 (2018) A361: 50-70).
  // Near room temperature the electrolyte term dominates (fast-charge plating is
  // transport-limited); below ~0 °C charge transfer does (cold plating). The cell's DC
  // resistance grows ~x4 from 25 to 0 °C with s = 0.4 (estimate); the negative
  // electrode's plating overpotential uses s = 0.3 (calibrated with the plating constants).
  double ea_electrolyte_j_mol = 18000;
  double ea_charge_transfer_j_mol = 55000;
  double resistance_ct_share = 0.4;
  double plating_ct_share = 0.3;
  // Organic-cathode dissolution (estimate).
  double ea_dissolution_j_mol = 30000;

  // ---- SEI (loss of lithium inventory on the negative electrode).
  // Parabolic growth: d(L^2)/dt = k^2, k = k_sei * f_pot(U_neg) * f_ion * Arrhenius.
  // 2.7e-4 /sqrt(h) gives ~2.5 % loss in a year at 25 °C for graphite at mid/high SOC
  // (order of magnitude of calendar-ageing studies, e.g. Keil et al., J. Electrochem. Soc.
  // 163 (2016) A1872).
  double k_sei_per_sqrt_h = 2.7e-4;
  // f_pot = exp(-(U_neg - 0.1 V) / scale), capped at 2: electrolyte reduction slows as the
  // negative electrode's potential rises (vs its own metal); LTO at 1.55 V gets ~3e-3.
  double sei_potential_scale_v = 0.25;
  // Fresh surface from the negative electrode's volume change: loss per cycle at 10 %
  // volume change and full depth (graphite: ~3 % per 1000 cycles; estimate).
  double k_sei_cycling = 3.0e-5;
  // Na/K SEI is less stable and more soluble than Li's (Hwang et al. 2017 review;
  // factors are estimates).
  std::array<double, 4> sei_ion_factor = {1.0, 1.6, 2.0, 1.0};  // Li, Na, K, Mg

  // ---- Loss of positive active material (cracking, surface reconstruction, transition
  // metal dissolution, electrolyte oxidation).
  // d lam_pe / cycle = k * DOD^dod_exponent * (dV_pos / 5 %) * ox(U_top) * stress * f_ion
  // * Arrhenius. Tuned by hand so that NMC811/graphite at 1C, 25 °C, 2.8-4.2 V reaches
  // 80 % in ~1000-1500 cycles (the order of Ni-rich cells in Preger et al., J. Electrochem.
  // Soc. 167 (2020) 120532); not fitted to a data set.
  double k_lam_positive = 3.3e-5;
  // Electrolyte oxidation / surface instability at the top of charge:
  // ox = e / (1 + e / ox_max), e = exp((U_top - ox_ref) / ox_scale), U_top the positive
  // electrode's potential at the end of charge on its own scale (vs the metal its table
  // row is measured against: its delithiation state drives the surface degradation, so
  // LiNiO2 in a K electrolyte is judged on the Li scale). 0.15 V makes a
  // 4.2 V cut-off ~2x as damaging as 4.1 V (order of cut-off studies on NMC).
  double ox_reference_v = 4.1;
  double ox_scale_v = 0.15;
  double ox_max = 30;
  // Organic positives have no volume-change entry: their mechanical factor (estimate).
  double organic_mechanical_factor = 0.4;
  double dod_exponent = 1.5;  // Wöhler-like DOD dependence of mechanical fatigue
  // stress = 1 + a_c (mean charge C-rate - 1)+ + a_d (discharge C-rate - 1)+: diffusion-
  // induced stress grows with current (estimate).
  double stress_per_charge_c = 0.3;
  double stress_per_discharge_c = 0.1;
  // A foreign, larger ion intercalating into a host made for another (Na+/K+ into LiNiO2,
  // BIG-MAP D11.5 §5): f_ion = 1 + k (r_ion / r_host - 1)^2 with Shannon radii
  // (Acta Cryst. A32 (1976) 751: Li+ 0.76, Na+ 1.02, K+ 1.38, Mg2+ 0.72 Å). K+ in LNO fades
  // ~4x faster than Li+, as the seed's Fig. 10 shows qualitatively (estimate).
  double ion_mismatch_factor = 5;

  // ---- Loss of negative active material (particle cracking, contact loss).
  // d lam_ne / cycle = k * DOD^dod_exponent * (dV_neg / 10 %) * stress * Arrhenius.
  double k_lam_negative = 1.0e-5;

  // ---- Metal plating on the negative electrode while charging.
  // The metal plates where the negative electrode's local potential, pushed down by the
  // charge overpotential, nears 0 V vs the metal. Share of the charge current that plates
  // (Butler-Volmer competition of plating with insertion):
  //   f = 1 / (1 + exp(-(eta - U_neg(x_s)) / width) / exchange_ratio)
  //   eta = C-rate * rho_negative(T) * (1 + film) / (1 - lam_ne)
  //   x_s = x + surface_soc_per_c * C-rate / Arrhenius: the particle surfaces fill ahead of
  //         the bulk at high rate (solid diffusion), so a fast charge risks plating even at
  //         moderate SOC (why Severson's high first-step rates shorten life).
  // Plated metal is mostly stripped again on discharge; a share becomes dead (LLI), dead
  // metal clogs pores (lam_ne) and its SEI thickens the film (resistance and eta grow):
  // the positive feedback that makes a knee (Attia et al., J. Electrochem. Soc. 169 (2022)
  // 060517). width, exchange_ratio, surface_soc_per_c, the three damage constants and the
  // cylindrical rho_negative were calibrated together to Severson's lives (test
  // SeversonPoliciesLiveAsLongAsTheRealCells); they are not independently measured.
  double plating_width_v = 0.025;
  double plating_exchange_ratio = 5e-4;
  double plating_surface_soc_per_c = 0.02;
  double plating_dead_fraction = 0.1;
  double plating_lam_negative = 0.3;
  double plating_resistance = 4.0;
  // A slower negative-electrode solid-state transport raises its overpotential and surface
  // filling: both *= (1e-5 S/cm / sigma_ion)^exponent (graphite is the reference; estimate).
  double plating_transport_exponent = 0.15;

  // ---- Resistance growth: r = r0 (1 + a_sei * LLI_sei + a_lam * (lam_pe + lam_ne) + film).
  double resistance_per_sei = 1.5;
  double resistance_per_lam = 1.0;

  // ---- Organic-cathode dissolution (PAQS, PHBQS in ethers): the soluble share f of the
  // active material (table: dissolution_fraction) dissolves as
  // d lam_diss = (f - lam_diss) (1 - exp(-(t / tau * Arrhenius + 1 / n))): fast early fade
  // that levels off (time constants: estimates giving ~25-30 % loss in the first ~30
  // cycles at C/5, as Mg-organic cells show; e.g. Bitenc et al. 2015).
  double dissolution_tau_h = 150;
  double dissolution_cycles = 50;
  // Charge lost per cycle to the shuttle of dissolved species, per unit dissolved share.
  double dissolution_shuttle = 0.05;
  // Coulombic inefficiency of plating/stripping on a metal counter electrode (Mg in
  // Mg(TFSI)2 + MgCl2 / DME: ~98-99 %; Shterenberg et al. 2015, seed ref. 4-6).
  double metal_coulombic_loss = 0.01;

  // ---- Reversible capacity loss that recovers on rest (Li trapped in the anode
  // overhang and concentration gradients; e.g. Epding et al., J. Energy Storage 22 (2019)
  // 249; the NASA PCoE cells' regeneration after rests). Builds towards
  // rev_max (1 - exp(-C/rev_rate_c)) with time constant rev_build_cycles, relaxes as
  // exp(-t_rest / tau) (estimates).
  double rev_max = 0.02;
  double rev_rate_c = 3;
  double rev_build_cycles = 30;
  double rev_tau_h = 8;

  // ---- Protocol details.
  double cv_cutoff_c = 0.02;  // CV ends at C/50 (Severson et al. 2019)
  // Default N/P ratios: insertion hosts and activated carbon ("capacity excess > 100 %",
  // BIG-MAP D11.5). Metal counter electrodes are an unlimited reservoir.
  double np_insertion = 1.1;
  double np_capacitive = 2.0;

  // ---- Cell-to-cell variation (log-normal sigmas; Baumhöfer et al., J. Power Sources 247
  // (2014) 332 found a few % spread in capacity and ~10-20 % in life of identical cells).
  double var_capacity = 0.005;
  double var_resistance = 0.05;
  double var_rate = 0.10;            // each degradation rate constant independently
  double var_rho_negative = 0.03;    // plating overpotential

  // ---- Measurement noise (per design, multiplied by DesignParameters::noise_scale).
  double noise_capacity = 4e-4;   // relative, common to charge and discharge (gain)
  double noise_ce = 5e-5;         // relative, independent
  double noise_voltage_v = 5e-4;  // on mean voltages
  double noise_temperature_k = 0.1;
  double noise_resistance = 0.01;  // relative
  double noise_curve_v = 3e-4;     // on V(Q) curve points
  // Occasional outliers (a loose contact, a temperature excursion, a logging glitch; the
  // CALCE CS2_38 dip at cycle 118 is a real one): probability per cycle; most are dips
  // of 2-8 % of the capacity, a share are spikes of 1-3 %.
  double outlier_probability = 0.002;
  double outlier_dip_min = 0.02;
  double outlier_dip_max = 0.08;
  double outlier_spike_share = 0.2;
  double outlier_spike_min = 0.01;
  double outlier_spike_max = 0.03;

  // Per design, indexed by CellDesign.
  std::array<DesignParameters, 6> design = {{
      {0.10, 0.035, 1.2, 2.5},   // coin
      {0.025, 0.022, 13, 1.0},   // cylindrical (rho: calibrated to Severson 2019)
      {0.035, 0.030, 6, 1.0},    // pouch
      {0.035, 0.030, 8, 1.0},    // prismatic
      {0.25, 0.040, 1.0, 4.0},   // Swagelok
      {0.30, 0.040, 1.0, 4.0},   // three-electrode
  }};
};

}  // namespace ionloop::instruments::cycler

#endif  // IONLOOP_INSTRUMENTS_CYCLER_MODEL_PARAMETERS_H_
