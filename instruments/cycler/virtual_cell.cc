#include "instruments/cycler/virtual_cell.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ionloop::instruments::cycler {
namespace {

constexpr double kGasConstant = 8.314462618;  // J/(mol K)
constexpr double kReferenceK = 298.15;
constexpr double kZeroCelsius = 273.15;

// Shannon effective ionic radii, 6-coordinate (Å; Acta Cryst. A32 (1976) 751).
double IonicRadius(Ion ion) {
  switch (ion) {
    case Ion::kLi:
      return 0.76;
    case Ion::kNa:
      return 1.02;
    case Ion::kK:
      return 1.38;
    case Ion::kMg:
      return 0.72;
  }
  return 0.76;
}

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

bool InRange(double v, double lo, double hi) { return std::isfinite(v) && v >= lo && v <= hi; }

absl::Status CheckRate(absl::string_view field, double c) {
  if (std::isfinite(c) && c > 0 && c <= 20) return absl::OkStatus();
  return Invalid(field, absl::StrCat("must be in (0, 20] C, got ", c));
}

absl::Status ValidateConfig(const CellConfig& c) {
  if (!(std::isfinite(c.nominal_capacity_ah) && c.nominal_capacity_ah > 0 &&
        c.nominal_capacity_ah <= 1000)) {
    return Invalid("nominal_capacity_ah", absl::StrCat("must be in (0, 1000] Ah, got ",
                                                       c.nominal_capacity_ah));
  }
  const CyclingProtocol& p = c.protocol;
  if (p.charge_steps.empty()) {
    if (absl::Status s = CheckRate("protocol.charge_c_rate", p.charge_c_rate); !s.ok()) return s;
  }
  for (size_t i = 0; i < p.charge_steps.size(); ++i) {
    const std::string field = absl::StrCat("protocol.charge_steps[", i, "]");
    if (absl::Status s = CheckRate(field + ".c_rate", p.charge_steps[i].c_rate); !s.ok()) {
      return s;
    }
    const double soc = p.charge_steps[i].until_soc_percent;
    const double prev = i == 0 ? 0 : p.charge_steps[i - 1].until_soc_percent;
    if (!(std::isfinite(soc) && soc > prev && soc <= 100)) {
      return Invalid(field + ".until_soc_percent",
                     absl::StrCat("must be in (", prev, ", 100] %, got ", soc));
    }
  }
  if (absl::Status s = CheckRate("protocol.discharge_c_rate", p.discharge_c_rate); !s.ok()) {
    return s;
  }
  if (!InRange(p.voltage_min_v, 0, 5)) {
    return Invalid("protocol.voltage_min_v", absl::StrCat("must be in [0, 5] V, got ",
                                                          p.voltage_min_v));
  }
  if (!InRange(p.voltage_max_v, 0, 5) || !(p.voltage_max_v > p.voltage_min_v)) {
    return Invalid("protocol.voltage_max_v",
                   absl::StrCat("must be in [0, 5] V and > voltage_min_v (", p.voltage_min_v,
                                " V), got ", p.voltage_max_v));
  }
  if (!InRange(p.temperature_c, -40, 80)) {
    return Invalid("protocol.temperature_c", absl::StrCat("must be in [-40, 80] °C, got ",
                                                          p.temperature_c));
  }
  if (!InRange(p.rest_minutes, 0, 1440)) {
    return Invalid("protocol.rest_minutes", absl::StrCat("must be in [0, 1440] min, got ",
                                                         p.rest_minutes));
  }
  if (!(std::isfinite(c.eol_soh_percent) && c.eol_soh_percent > 0 && c.eol_soh_percent < 100)) {
    return Invalid("eol_soh_percent", absl::StrCat("must be in (0, 100) %, got ",
                                                   c.eol_soh_percent));
  }
  if (!(c.np_ratio == 0 || InRange(c.np_ratio, 0.5, 20))) {
    return Invalid("np_ratio", absl::StrCat("must be 0 (default) or in [0.5, 20], got ",
                                            c.np_ratio));
  }
  return absl::OkStatus();
}

absl::StatusOr<const ElectrodeProperties*> FindElectrode(const ElectrodeTable& table,
                                                         absl::string_view field,
                                                         absl::string_view name,
                                                         ElectrodeRole role, Ion ion) {
  const ElectrodeProperties* e = table.Find(name);
  if (e == nullptr) {
    return Invalid(field, absl::StrCat("unknown electrode \"", name, "\" (not in ",
                                       table.source_name(), ")"));
  }
  if (e->role != role) {
    return Invalid(field, absl::StrCat("\"", name, "\" is a ", ElectrodeRoleName(e->role),
                                       " electrode, not a ", ElectrodeRoleName(role), " one"));
  }
  if (!e->UsedWith(ion)) {
    return Invalid(field, absl::StrCat("\"", name, "\" is not used with ", IonSymbol(ion),
                                       " (electrode table, column ions)"));
  }
  return e;
}

}  // namespace

absl::string_view CellDesignName(CellDesign design) {
  switch (design) {
    case CellDesign::kCoin:
      return "coin";
    case CellDesign::kCylindrical:
      return "cylindrical";
    case CellDesign::kPouch:
      return "pouch";
    case CellDesign::kPrismatic:
      return "prismatic";
    case CellDesign::kSwagelok:
      return "swagelok";
    case CellDesign::kThreeElectrode:
      return "three-electrode";
  }
  return "?";
}

absl::StatusOr<VirtualCell> VirtualCell::Create(const CellConfig& config,
                                                const ElectrodeTable& table, uint64_t seed,
                                                const ModelParameters& params) {
  if (absl::Status s = ValidateConfig(config); !s.ok()) return s;
  absl::StatusOr<const ElectrodeProperties*> pos =
      FindElectrode(table, "positive_electrode", config.positive_electrode,
                    ElectrodeRole::kPositive, config.ion);
  if (!pos.ok()) return pos.status();
  absl::StatusOr<const ElectrodeProperties*> neg =
      FindElectrode(table, "negative_electrode", config.negative_electrode,
                    ElectrodeRole::kNegative, config.ion);
  if (!neg.ok()) return neg.status();

  VirtualCell cell;
  cell.config_ = config;
  cell.p_ = params;
  cell.design_ = params.design[static_cast<size_t>(config.design)];
  cell.pos_ = **pos;
  cell.neg_ = **neg;
  const double cell_e0 = StandardPotentialVsShe(config.ion);
  cell.pos_offset_v_ = StandardPotentialVsShe(cell.pos_.potential_vs) - cell_e0;
  cell.pos_ocv_ = ElectrodeOcv(cell.pos_, cell.pos_offset_v_);
  cell.neg_ocv_ =
      ElectrodeOcv(cell.neg_, StandardPotentialVsShe(cell.neg_.potential_vs) - cell_e0);
  cell.reservoir_negative_ = cell.neg_.ocv_shape == OcvShape::kMetal;
  cell.np_ratio_ = config.np_ratio > 0 ? config.np_ratio
                   : cell.neg_.ocv_shape == OcvShape::kCapacitive ? params.np_capacitive
                                                                  : params.np_insertion;

  // The charge plan: the steps, then min(1C, last rate) to the CV end (Severson 2019).
  const CyclingProtocol& protocol = config.protocol;
  constexpr double kOpen = std::numeric_limits<double>::infinity();
  if (protocol.charge_steps.empty()) {
    cell.plan_.push_back({protocol.charge_c_rate, kOpen});
  } else {
    for (const ChargeStep& s : protocol.charge_steps) {
      cell.plan_.push_back({s.c_rate, s.until_soc_percent / 100.0});
    }
    cell.plan_.push_back({std::min(1.0, protocol.charge_steps.back().c_rate), kOpen});
  }

  // Cell-to-cell variation: one stream, a fixed number of draws.
  cell.seed_ = seed;
  Rng variation(seed, /*stream=*/0);
  cell.capacity_factor_ = variation.LogNormalFactor(params.var_capacity);
  cell.resistance_factor_ = variation.LogNormalFactor(params.var_resistance);
  cell.var_sei_ = variation.LogNormalFactor(params.var_rate);
  cell.var_lam_pos_ = variation.LogNormalFactor(params.var_rate);
  cell.var_lam_neg_ = variation.LogNormalFactor(params.var_rate);
  cell.var_plating_ = variation.LogNormalFactor(params.var_rate);
  cell.var_dissolution_ = variation.LogNormalFactor(params.var_rate);
  cell.var_rho_ = variation.LogNormalFactor(params.var_rho_negative);
  cell.rng_ = Rng(seed, /*stream=*/1);

  cell.r0_ = cell.design_.r_ohm_ah * cell.resistance_factor_;
  double transport = 1;
  if (ElectrodeProperties::HasValue(cell.neg_.ionic_conductivity_s_cm)) {
    transport = std::pow(1e-5 / cell.neg_.ionic_conductivity_s_cm,
                         params.plating_transport_exponent);
  }
  cell.rho0_ = cell.design_.rho_negative_v_per_c * cell.var_rho_ * transport;
  cell.surface_soc_per_c0_ = params.plating_surface_soc_per_c * transport;
  cell.log_exchange_ = std::log(params.plating_exchange_ratio);
  cell.thermal_k_per_w_ =
      cell.design_.thermal_k_per_w * std::pow(config.nominal_capacity_ah, -2.0 / 3.0);
  cell.mech_pos_ = ElectrodeProperties::HasValue(cell.pos_.volume_change_pct)
                       ? cell.pos_.volume_change_pct / 5.0
                       : params.organic_mechanical_factor;
  cell.mech_neg_ = ElectrodeProperties::HasValue(cell.neg_.volume_change_pct)
                       ? cell.neg_.volume_change_pct / 10.0
                       : 0.0;
  const double mismatch = IonicRadius(config.ion) / IonicRadius(cell.pos_.potential_vs) - 1;
  cell.ion_factor_pos_ = 1 + params.ion_mismatch_factor * mismatch * mismatch;
  cell.sei_ion_factor_ = params.sei_ion_factor[static_cast<size_t>(config.ion)];

  cell.temperature_k_ = protocol.temperature_c + kZeroCelsius;
  cell.charge_temperature_k_ = cell.temperature_k_;
  cell.state_.temperature_c = protocol.temperature_c;

  // The window must let the new cell charge and discharge at all.
  CycleTrace fresh;
  fresh.lli_eff = 0;
  fresh.c_pos = cell.CurrentPositiveCapacity();
  fresh.c_neg = cell.CurrentNegativeCapacity();
  const double ocv_empty = cell.OcvAt(0, fresh);
  const double ocv_full = cell.OcvAt(fresh.c_pos, fresh);
  const std::string pair =
      absl::StrCat(cell.pos_.name, "/", cell.neg_.name, " (", IonSymbol(config.ion), ")");
  if (!(protocol.voltage_max_v > ocv_empty + 0.01)) {
    return Invalid("protocol.voltage_max_v",
                   absl::StrCat(protocol.voltage_max_v, " V is not above the open-circuit voltage "
                                "of the discharged ", pair, " cell (", ocv_empty,
                                " V): it cannot be charged"));
  }
  if (!(protocol.voltage_min_v < ocv_full - 0.01)) {
    return Invalid("protocol.voltage_min_v",
                   absl::StrCat(protocol.voltage_min_v, " V is not below the open-circuit voltage "
                                "of the charged ", pair, " cell (", ocv_full,
                                " V): it cannot be discharged"));
  }
  return cell;
}

double VirtualCell::initial_resistance_ohm() const { return r0_ / config_.nominal_capacity_ah; }

double VirtualCell::Arrhenius(double ea_j_mol, double temperature_k) const {
  return std::exp(-ea_j_mol / kGasConstant * (1.0 / temperature_k - 1.0 / kReferenceK));
}

double VirtualCell::KineticFactor(double ct_share, double temperature_k) const {
  return (1 - ct_share) / Arrhenius(p_.ea_electrolyte_j_mol, temperature_k) +
         ct_share / Arrhenius(p_.ea_charge_transfer_j_mol, temperature_k);
}

double VirtualCell::CurrentPositiveCapacity() const {
  return capacity_factor_ *
         std::max(0.02, 1 - state_.lam_positive - state_.lam_dissolution);
}

double VirtualCell::CurrentNegativeCapacity() const {
  return np_ratio_ * capacity_factor_ * std::max(0.02, 1 - state_.lam_negative);
}

double VirtualCell::LliEffective() const {
  return (reservoir_negative_ ? 0 : state_.lli_total()) + state_.reversible_loss;
}

double VirtualCell::PositivePotentialAt(double q, double lli_eff, double c_pos) const {
  return pos_ocv_((q + lli_eff) / c_pos);
}

double VirtualCell::NegativePotentialAt(double q, double c_neg) const {
  return reservoir_negative_ ? neg_ocv_(0) : neg_ocv_(q / c_neg);
}

double VirtualCell::OcvAt(double q, const CycleTrace& t) const {
  return PositivePotentialAt(q, t.lli_eff, t.c_pos) - NegativePotentialAt(q, t.c_neg);
}

void VirtualCell::PrepareNodes(const CycleTrace& t) {
  // Up to where the positive electrode's table ends (its wall stops any charge).
  const double q_limit = t.c_pos * (pos_ocv_.max_z() + 0.05) - t.lli_eff;
  nodes_ = std::clamp(static_cast<int>(q_limit / kNodeStep) + 2, 2, kMaxNodes);
  for (int i = 0; i < nodes_; ++i) node_ocv_[i] = OcvAt(i * kNodeStep, t);
}

double VirtualCell::NodeOcv(double q) const {
  const double u = q * kInverseNodeStep;
  int i = static_cast<int>(u);
  i = std::clamp(i, 0, nodes_ - 2);
  const double f = u - i;
  return node_ocv_[i] + f * (node_ocv_[i + 1] - node_ocv_[i]);
}

double VirtualCell::PlatingFraction(double c_rate, double q, double rho, double c_neg) const {
  if (!neg_.plating_prone) return 0;
  const double x_surface = q / c_neg + c_rate * surface_soc_per_c_;
  const double x = (c_rate * rho - neg_ocv_(x_surface)) / p_.plating_width_v + log_exchange_;
  if (x < -35) return 0;
  return 1.0 / (1.0 + std::exp(-x));
}

void VirtualCell::Charge(double rho, CycleTrace* t) {
  const double r = t->r_v_per_c;
  const double v_max = config_.protocol.voltage_max_v;
  const double h_end = p_.cv_cutoff_c * r;
  double q = t->q_start;
  size_t step = 0;
  while (step + 1 < plan_.size() && plan_[step].until_q <= q) ++step;
  double cq = 0;  // integral of the C-rate over charge: for the mean rate
  double oa = NodeOcv(q);  // OCV at q, carried from segment to segment

  for (int guard = 0; guard < 4 * kMaxNodes + 64; ++guard) {
    if (plan_[step].until_q <= q + 1e-12 && step + 1 < plan_.size()) {
      ++step;  // this step's SOC is reached
      continue;
    }
    const int i = std::min(static_cast<int>(q * kInverseNodeStep + 1e-9), nodes_ - 2);
    const double qb = std::min((i + 1) * kNodeStep, plan_[step].until_q);
    if (qb <= q) break;  // the end of the positive electrode's table: nothing left to charge
    const double c = plan_[step].c_rate;
    const double ob = NodeOcv(qb);
    const double ha = v_max - oa;
    const double hb = v_max - ob;
    if (ha <= h_end) break;  // already at the end current
    double q_cur = q;
    const double h_cc = c * r;
    if (ha > h_cc) {
      // Constant current up to where the IR-raised voltage meets v_max.
      const double q1 = hb >= h_cc ? qb : q + (ha - h_cc) / (ha - hb) * (qb - q);
      const double o1 = hb >= h_cc ? ob : v_max - h_cc;
      const double dq = q1 - q;
      t->charge_time_h += dq / c;
      t->charge_energy += dq * (0.5 * (oa + o1) + h_cc);
      t->heat += dq * h_cc;
      t->plated += dq * PlatingFraction(c, 0.5 * (q + q1), rho, t->c_neg);
      cq += c * dq;
      q_cur = q1;
      if (q1 >= qb) {
        q = qb;
        oa = ob;
        continue;
      }
    }
    // Constant voltage: the current h / r decays until C/50.
    const double h1 = ha > h_cc ? h_cc : ha;
    const bool ends_here = hb < h_end;
    const double q2 = ends_here ? q_cur + (h1 - h_end) / (h1 - hb) * (qb - q_cur) : qb;
    const double h2 = ends_here ? h_end : hb;
    const double dq = q2 - q_cur;
    if (dq > 0) {
      t->charge_time_h += (h1 - h2 > 1e-12) ? r * dq / (h1 - h2) * std::log(h1 / h2) : r * dq / h1;
      t->charge_energy += dq * v_max;
      t->heat += dq * 0.5 * (h1 + h2);
      const double c_mid = 0.5 * (h1 + h2) / r;
      t->plated += dq * PlatingFraction(c_mid, 0.5 * (q_cur + q2), rho, t->c_neg);
      cq += c_mid * dq;
    }
    q = q2;
    oa = v_max - h2;
    if (ends_here) break;
  }
  t->q_top = std::max(q, t->q_start);
  t->charge_heat = t->heat;
  const double charged = t->q_top - t->q_start;
  t->mean_charge_c = charged > 0 ? cq / charged : 0;
}

void VirtualCell::Discharge(CycleTrace* t) {
  const double c = config_.protocol.discharge_c_rate;
  const double ir = c * t->r_v_per_c;
  const double o_end = config_.protocol.voltage_min_v + ir;
  double q = t->q_top;
  double energy = 0;
  double ob = NodeOcv(q);  // OCV at q, carried downwards
  if (ob > o_end) {
    while (q > 0) {
      const int i = std::max(0, static_cast<int>(q * kInverseNodeStep - 1e-9));
      const double qa = std::min(i * kNodeStep, q);
      const double oa = node_ocv_[std::min(i, nodes_ - 1)];
      if (oa >= o_end) {
        energy += (q - qa) * (0.5 * (oa + ob) - ir);
        q = qa;
        ob = oa;
        continue;
      }
      const double qe = qa + (o_end - oa) / (ob - oa) * (q - qa);
      energy += (q - qe) * (0.5 * (o_end + ob) - ir);
      q = qe;
      break;
    }
  }
  t->q_bottom = std::max(0.0, q);
  const double delivered = t->q_top - t->q_bottom;
  t->discharge_energy = energy;
  t->discharge_time_h = delivered / c;
  t->heat += delivered * ir;
}

double VirtualCell::Age(const CycleTrace& t, double temperature_k, double cycle_time_h) {
  const double arrhenius = Arrhenius(p_.ea_ageing_j_mol, temperature_k);
  const double dod = std::max(0.0, t.q_top - t.q_bottom);
  const double dod_term = std::pow(dod, p_.dod_exponent);
  const double discharge_c = config_.protocol.discharge_c_rate;
  const double stress = 1 + p_.stress_per_charge_c * std::max(0.0, t.mean_charge_c - 1) +
                        p_.stress_per_discharge_c * std::max(0.0, discharge_c - 1);
  double parasitic = 0;

  if (!reservoir_negative_) {
    // SEI: parabolic in time, faster at low negative-electrode potential.
    const double u_neg = NegativePotentialAt(0.5 * (t.q_top + t.q_bottom), t.c_neg);
    const double f_pot = std::min(2.0, std::exp(-(u_neg - 0.1) / p_.sei_potential_scale_v));
    const double k = p_.k_sei_per_sqrt_h * f_pot * sei_ion_factor_ * arrhenius * var_sei_;
    sei_l2_ += k * k * cycle_time_h;
    const double sei = std::sqrt(sei_l2_);
    parasitic += sei - state_.lli_sei;
    state_.lli_sei = sei;
    const double cyc = p_.k_sei_cycling * dod * mech_neg_ * stress * f_pot * sei_ion_factor_ *
                       arrhenius * var_sei_;
    state_.lli_sei_cycling += cyc;
    parasitic += cyc;
    const double dead = p_.plating_dead_fraction * t.plated * var_plating_;
    state_.lli_plating += dead;
    parasitic += dead;
    state_.lam_negative += p_.k_lam_negative * dod_term * mech_neg_ * stress * arrhenius *
                               var_lam_neg_ +
                           p_.plating_lam_negative * t.plated * var_plating_;
    state_.film_resistance += p_.plating_resistance * t.plated * var_plating_;
  } else {
    parasitic += p_.metal_coulombic_loss * (t.q_top - t.q_start);
  }
  state_.plated_last_cycle = t.plated;

  // Positive electrode: mechanical fatigue x oxidation at the top of charge.
  const double u_top = PositivePotentialAt(t.q_top, t.lli_eff, t.c_pos) - pos_offset_v_;
  const double e = std::exp((u_top - p_.ox_reference_v) / p_.ox_scale_v);
  const double ox = e / (1 + e / p_.ox_max);
  state_.lam_positive += p_.k_lam_positive * dod_term * mech_pos_ * ox * stress *
                         ion_factor_pos_ * arrhenius * var_lam_pos_;

  // Organic positives dissolve: fast early, levelling off at the soluble share.
  if (pos_.dissolution_fraction > 0) {
    const double rate = cycle_time_h / p_.dissolution_tau_h *
                            Arrhenius(p_.ea_dissolution_j_mol, temperature_k) * var_dissolution_ +
                        1.0 / p_.dissolution_cycles;
    state_.lam_dissolution +=
        (pos_.dissolution_fraction - state_.lam_dissolution) * (1 - std::exp(-rate));
    parasitic += p_.dissolution_shuttle * state_.lam_dissolution;
  }

  // Reversible loss: builds with current, relaxes during the protocol's rests.
  const double rev_eq = p_.rev_max * (1 - std::exp(-t.mean_charge_c / p_.rev_rate_c));
  state_.reversible_loss += (rev_eq - state_.reversible_loss) / p_.rev_build_cycles;
  const double rest_h = config_.protocol.rest_minutes / 60.0;
  state_.reversible_loss *= std::exp(-2 * rest_h / p_.rev_tau_h);

  state_.resistance_growth =
      p_.resistance_per_sei * (state_.lli_sei + state_.lli_sei_cycling) +
      p_.resistance_per_lam * (state_.lam_positive + state_.lam_dissolution + state_.lam_negative) +
      state_.film_resistance;
  return parasitic;
}

void VirtualCell::Rest(double hours) {
  if (!(hours > 0)) return;
  const double ambient_k = config_.protocol.temperature_c + kZeroCelsius;
  const double arrhenius = Arrhenius(p_.ea_ageing_j_mol, ambient_k);
  if (!reservoir_negative_) {
    const double u_neg = NegativePotentialAt(q_, CurrentNegativeCapacity());
    const double f_pot = std::min(2.0, std::exp(-(u_neg - 0.1) / p_.sei_potential_scale_v));
    const double k = p_.k_sei_per_sqrt_h * f_pot * sei_ion_factor_ * arrhenius * var_sei_;
    sei_l2_ += k * k * hours;
    state_.lli_sei = std::sqrt(sei_l2_);
  }
  if (pos_.dissolution_fraction > 0) {
    const double rate = hours / p_.dissolution_tau_h *
                        Arrhenius(p_.ea_dissolution_j_mol, ambient_k) * var_dissolution_;
    state_.lam_dissolution +=
        (pos_.dissolution_fraction - state_.lam_dissolution) * (1 - std::exp(-rate));
  }
  state_.reversible_loss *= std::exp(-hours / p_.rev_tau_h);
  temperature_k_ = ambient_k;  // the cell cools to the chamber
  charge_temperature_k_ = ambient_k;
  elapsed_h_ += hours;
}

CycleRecord VirtualCell::RunCycle() {
  ++cycle_;
  const double q_nom = config_.nominal_capacity_ah;
  CycleTrace t;
  t.q_start = q_;
  t.lli_eff = LliEffective();
  t.c_pos = CurrentPositiveCapacity();
  t.c_neg = CurrentNegativeCapacity();
  // Kinetics at the cell temperature of the previous cycle (ambient for the first).
  const double growth = 1 + state_.resistance_growth;
  t.r_v_per_c = r0_ * KineticFactor(p_.resistance_ct_share, temperature_k_) * growth;
  const double film = 1 + state_.film_resistance +
                      p_.resistance_per_sei * (state_.lli_sei + state_.lli_sei_cycling);
  // The negative electrode's kinetics during the charge: at the charge-phase temperature.
  const double kinetic_neg = KineticFactor(p_.plating_ct_share, charge_temperature_k_);
  const double rho = rho0_ * kinetic_neg * film /
                     std::max(0.2, 1 - state_.lam_negative);

  surface_soc_per_c_ = surface_soc_per_c0_ * kinetic_neg;
  PrepareNodes(t);
  Charge(rho, &t);
  Discharge(&t);

  const double rest_h = config_.protocol.rest_minutes / 60.0;
  const double cycle_h = std::max(1e-9, t.charge_time_h + t.discharge_time_h + 2 * rest_h);
  // Mean cell temperature: chamber + thermal resistance x mean Joule heat.
  const double power_w = t.heat * q_nom / cycle_h;
  const double ambient_k = config_.protocol.temperature_c + kZeroCelsius;
  const double cell_k = ambient_k + thermal_k_per_w_ * power_w;
  temperature_k_ = cell_k;
  state_.temperature_c = cell_k - kZeroCelsius;
  // The charge phase runs warmer than the cycle mean when the charge is fast.
  charge_temperature_k_ =
      t.charge_time_h > 0
          ? ambient_k + thermal_k_per_w_ * t.charge_heat * q_nom / t.charge_time_h
          : cell_k;

  const double delivered = t.q_top - t.q_bottom;
  state_.soh = delivered;
  const double parasitic = Age(t, cell_k, cycle_h);
  q_ = t.q_bottom;
  elapsed_h_ += cycle_h;
  last_ = t;

  // What the cycler measures. A fixed number of draws per cycle keeps the stream aligned.
  const double ns = design_.noise_scale;
  const double charged = t.q_top - t.q_start + parasitic;
  const double true_dis_ah = delivered * q_nom;
  const double true_ch_ah = charged * q_nom;
  const double gain = 1 + p_.noise_capacity * ns * rng_.Normal();
  const double ce_noise = 1 + p_.noise_ce * ns * rng_.Normal();
  const double v_ch_noise = p_.noise_voltage_v * ns * rng_.Normal();
  const double v_dis_noise = p_.noise_voltage_v * ns * rng_.Normal();
  const double r_noise = 1 + p_.noise_resistance * ns * rng_.Normal();
  const double t_noise = p_.noise_temperature_k * rng_.Normal();
  const double outlier_u = rng_.Uniform();
  const double spike_u = rng_.Uniform();
  const double magnitude_u = rng_.Uniform();

  CycleRecord r;
  r.cycle_index = cycle_;
  r.true_discharge_capacity_ah = true_dis_ah;
  double dis_ah = true_dis_ah * gain * ce_noise;
  if (outlier_u < p_.outlier_probability) {
    r.outlier = true;
    dis_ah *= spike_u < p_.outlier_spike_share
                  ? 1 + p_.outlier_spike_min +
                        magnitude_u * (p_.outlier_spike_max - p_.outlier_spike_min)
                  : 1 - p_.outlier_dip_min - magnitude_u * (p_.outlier_dip_max - p_.outlier_dip_min);
  }
  const double ch_ah = true_ch_ah * gain;
  r.charge_capacity_ah = ch_ah;
  r.discharge_capacity_ah = dis_ah;
  const double mean_ch_v = charged > 0 ? t.charge_energy / (t.q_top - t.q_start) : 0;
  const double mean_dis_v = delivered > 0 ? t.discharge_energy / delivered : 0;
  r.mean_charge_voltage_v = charged > 0 ? mean_ch_v + v_ch_noise : 0;
  r.mean_discharge_voltage_v = delivered > 0 ? mean_dis_v + v_dis_noise : 0;
  r.charge_energy_wh = ch_ah * r.mean_charge_voltage_v;
  r.discharge_energy_wh = dis_ah * r.mean_discharge_voltage_v;
  r.coulombic_efficiency = ch_ah > 0 ? dis_ah / ch_ah : 0;
  r.internal_resistance_ohm =
      r0_ * KineticFactor(p_.resistance_ct_share, cell_k) * (1 + state_.resistance_growth) / q_nom *
      r_noise;
  r.temperature_c = state_.temperature_c + t_noise;
  r.elapsed_s = elapsed_h_ * 3600.0;
  return r;
}

bool VirtualCell::ReachedEol() const {
  return cycle_ > 0 && state_.soh * 100.0 < config_.eol_soh_percent;
}

VoltageCurve VirtualCell::DischargeCurve(int points) const {
  VoltageCurve curve;
  if (cycle_ == 0) return curve;
  points = std::max(points, 2);
  curve.cycle_index = cycle_;
  curve.is_charge = false;
  curve.capacity_ah.reserve(points);
  curve.voltage_v.reserve(points);
  Rng noise(seed_, 2 * static_cast<uint64_t>(cycle_) + 1000);
  const double ir = config_.protocol.discharge_c_rate * last_.r_v_per_c;
  const double span = last_.q_top - last_.q_bottom;
  const double sigma = p_.noise_curve_v * design_.noise_scale;
  for (int k = 0; k < points; ++k) {
    const double depth = span * k / (points - 1);
    const double v = OcvAt(last_.q_top - depth, last_) - ir + sigma * noise.Normal();
    curve.capacity_ah.push_back(depth * config_.nominal_capacity_ah);
    curve.voltage_v.push_back(v);
  }
  return curve;
}

VoltageCurve VirtualCell::ChargeCurve(int points) const {
  VoltageCurve curve;
  if (cycle_ == 0) return curve;
  points = std::max(points, 2);
  curve.cycle_index = cycle_;
  curve.is_charge = true;
  curve.capacity_ah.reserve(points);
  curve.voltage_v.reserve(points);
  Rng noise(seed_, 2 * static_cast<uint64_t>(cycle_) + 1001);
  const double span = last_.q_top - last_.q_start;
  const double v_max = config_.protocol.voltage_max_v;
  const double sigma = p_.noise_curve_v * design_.noise_scale;
  size_t step = 0;
  for (int k = 0; k < points; ++k) {
    const double q = last_.q_start + span * k / (points - 1);
    while (step + 1 < plan_.size() && plan_[step].until_q <= q) ++step;
    const double v = std::min(v_max, OcvAt(q, last_) + plan_[step].c_rate * last_.r_v_per_c);
    curve.capacity_ah.push_back((q - last_.q_start) * config_.nominal_capacity_ah);
    curve.voltage_v.push_back(v + sigma * noise.Normal());
  }
  return curve;
}

}  // namespace ionloop::instruments::cycler
