#include "orchestrator/scheduler/capability_match.h"

#include <cmath>
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ionloop::orchestrator::scheduler {
namespace {

using ::testing::HasSubstr;

// A Na-ion coin cell: 1C on 0.004 Ah, 2.0..4.25 V, 25 °C.
v1::JobSpec Cycling() {
  v1::JobSpec spec;
  v1::CellSpec* cell = spec.mutable_cycling()->mutable_cell();
  cell->set_ion(v1::ION_NA);
  cell->set_positive_electrode("NVPF");
  cell->set_negative_electrode("hard-carbon");
  cell->set_design(v1::CELL_DESIGN_COIN);
  cell->set_nominal_capacity_ah(0.004);
  v1::CyclingProtocol* p = cell->mutable_protocol();
  p->set_charge_c_rate(1);
  p->set_discharge_c_rate(1);
  p->set_voltage_min_v(2.0);
  p->set_voltage_max_v(4.25);
  p->set_temperature_c(25);
  spec.mutable_cycling()->set_max_cycles(500);
  return spec;
}

v1::CyclingProtocol* Protocol(v1::JobSpec* spec) {
  return spec->mutable_cycling()->mutable_cell()->mutable_protocol();
}

// A Li/Na cycler for coin and pouch cells: -10..45 °C, 1.5..4.5 V, 5 A.
v1::Capabilities Cycler() {
  v1::Capabilities caps;
  caps.set_kind(v1::JOB_KIND_CYCLING);
  caps.set_channels(8);
  caps.set_temperature_min_c(-10);
  caps.set_temperature_max_c(45);
  caps.set_voltage_min_v(1.5);
  caps.set_voltage_max_v(4.5);
  caps.set_current_max_a(5);
  caps.add_ions(v1::ION_LI);
  caps.add_ions(v1::ION_NA);
  caps.add_cell_designs(v1::CELL_DESIGN_COIN);
  caps.add_cell_designs(v1::CELL_DESIGN_POUCH);
  return caps;
}

v1::JobSpec Xrd(double wavelength) {
  v1::JobSpec spec;
  v1::XrdJob* xrd = spec.mutable_xrd();
  xrd->set_sample_id("sample-7");
  xrd->set_wavelength_angstrom(wavelength);
  xrd->set_two_theta_min_deg(10);
  xrd->set_two_theta_max_deg(80);
  xrd->set_two_theta_step_deg(0.02);
  xrd->set_scans(1);
  return spec;
}

v1::Capabilities Diffractometer() {
  v1::Capabilities caps;
  caps.set_kind(v1::JOB_KIND_XRD);
  caps.set_channels(1);
  caps.add_xrd_wavelengths_angstrom(1.54184);
  return caps;
}

// Expects FAILED_PRECONDITION whose message contains `text`.
void ExpectRefused(const v1::Capabilities& caps, const v1::JobSpec& spec,
                   const std::string& text) {
  const absl::Status status = CheckCapabilities(caps, spec);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(text));
  EXPECT_FALSE(Satisfies(caps, RequirementsOf(spec)));
}

void ExpectAccepted(const v1::Capabilities& caps, const v1::JobSpec& spec) {
  EXPECT_TRUE(CheckCapabilities(caps, spec).ok()) << CheckCapabilities(caps, spec);
  EXPECT_TRUE(Satisfies(caps, RequirementsOf(spec)));
}

// ---- kind ----

TEST(CapabilityMatchTest, AMatchingCyclerAccepts) { ExpectAccepted(Cycler(), Cycling()); }

TEST(CapabilityMatchTest, KindMustMatch) {
  ExpectRefused(Diffractometer(), Cycling(), "worker kind xrd, job is cycling");
  ExpectRefused(Cycler(), Xrd(1.54184), "worker kind cycling, job is xrd");
}

TEST(CapabilityMatchTest, ASpecWithoutKindNeverMatches) {
  v1::Capabilities caps;
  caps.set_kind(v1::JOB_KIND_UNSPECIFIED);
  ExpectRefused(caps, v1::JobSpec(), "no kind");
}

// ---- ion and design ----

TEST(CapabilityMatchTest, IonMustBeSupported) {
  v1::JobSpec spec = Cycling();
  spec.mutable_cycling()->mutable_cell()->set_ion(v1::ION_K);
  ExpectRefused(Cycler(), spec, "needs ion K, worker supports LI, NA");

  v1::Capabilities li_only = Cycler();
  li_only.clear_ions();
  li_only.add_ions(v1::ION_LI);
  ExpectRefused(li_only, Cycling(), "needs ion NA, worker supports LI");
}

TEST(CapabilityMatchTest, NoIonsListedMeansAnyIon) {
  v1::Capabilities caps = Cycler();
  caps.clear_ions();
  v1::JobSpec spec = Cycling();
  spec.mutable_cycling()->mutable_cell()->set_ion(v1::ION_MG);
  ExpectAccepted(caps, spec);
}

TEST(CapabilityMatchTest, DesignMustBeSupported) {
  v1::JobSpec spec = Cycling();
  spec.mutable_cycling()->mutable_cell()->set_design(v1::CELL_DESIGN_SWAGELOK);
  ExpectRefused(Cycler(), spec, "needs cell design SWAGELOK, worker supports COIN, POUCH");

  v1::Capabilities any_design = Cycler();
  any_design.clear_cell_designs();
  ExpectAccepted(any_design, spec);
}

// ---- temperature ----

TEST(CapabilityMatchTest, TemperatureMustBeInRange) {
  v1::JobSpec spec = Cycling();
  Protocol(&spec)->set_temperature_c(60);
  ExpectRefused(Cycler(), spec, "temperature 60 °C outside the worker's -10..45 °C");
  Protocol(&spec)->set_temperature_c(-20);
  ExpectRefused(Cycler(), spec, "temperature -20 °C outside the worker's -10..45 °C");
}

TEST(CapabilityMatchTest, TemperatureBoundsAreInclusive) {
  v1::JobSpec spec = Cycling();
  Protocol(&spec)->set_temperature_c(45);
  ExpectAccepted(Cycler(), spec);
  Protocol(&spec)->set_temperature_c(-10);
  ExpectAccepted(Cycler(), spec);
}

TEST(CapabilityMatchTest, AnUnsetTemperatureRangeIsNoLimit) {
  v1::Capabilities caps = Cycler();
  caps.clear_temperature_min_c();
  caps.clear_temperature_max_c();
  v1::JobSpec spec = Cycling();
  Protocol(&spec)->set_temperature_c(80);
  ExpectAccepted(caps, spec);
  Protocol(&spec)->set_temperature_c(-40);
  ExpectAccepted(caps, spec);
}

TEST(CapabilityMatchTest, ARangeStartingAtZeroIsARealLimit) {
  v1::Capabilities caps = Cycler();
  caps.set_temperature_min_c(0);  // 0..45 °C: declared, not unset
  v1::JobSpec spec = Cycling();
  Protocol(&spec)->set_temperature_c(-5);
  ExpectRefused(caps, spec, "temperature -5 °C outside the worker's 0..45 °C");
}

TEST(CapabilityMatchTest, ANanTemperatureNeverFitsADeclaredRange) {
  v1::JobSpec spec = Cycling();
  Protocol(&spec)->set_temperature_c(std::numeric_limits<double>::quiet_NaN());
  ExpectRefused(Cycler(), spec, "temperature nan °C");
}

// ---- voltage ----

TEST(CapabilityMatchTest, VoltageWindowMustFit) {
  v1::JobSpec spec = Cycling();
  Protocol(&spec)->set_voltage_max_v(4.6);
  ExpectRefused(Cycler(), spec, "voltage window 2..4.6 V outside the worker's 1.5..4.5 V");
  spec = Cycling();
  Protocol(&spec)->set_voltage_min_v(1.0);
  ExpectRefused(Cycler(), spec, "voltage window 1..4.25 V outside the worker's 1.5..4.5 V");
  spec = Cycling();
  Protocol(&spec)->set_voltage_min_v(1.5);
  Protocol(&spec)->set_voltage_max_v(4.5);
  ExpectAccepted(Cycler(), spec);  // inclusive
}

TEST(CapabilityMatchTest, AnUnsetVoltageRangeIsNoLimit) {
  v1::Capabilities caps = Cycler();
  caps.clear_voltage_min_v();
  caps.clear_voltage_max_v();
  v1::JobSpec spec = Cycling();
  Protocol(&spec)->set_voltage_min_v(0.1);
  Protocol(&spec)->set_voltage_max_v(5);
  ExpectAccepted(caps, spec);
}

// ---- current ----

v1::JobSpec BigCell(double charge_c, double discharge_c) {
  v1::JobSpec spec = Cycling();
  spec.mutable_cycling()->mutable_cell()->set_nominal_capacity_ah(2.2);
  Protocol(&spec)->set_charge_c_rate(charge_c);
  Protocol(&spec)->set_discharge_c_rate(discharge_c);
  return spec;
}

TEST(CapabilityMatchTest, CurrentIsTheLargestRateTimesCapacity) {
  ExpectRefused(Cycler(), BigCell(4, 1), "needs current 8.8 A (4C × 2.2 Ah), worker max 5 A");
  ExpectRefused(Cycler(), BigCell(1, 3), "needs current 6.6 A (3C × 2.2 Ah), worker max 5 A");
  ExpectAccepted(Cycler(), BigCell(2, 2));  // 4.4 A
}

TEST(CapabilityMatchTest, EveryChargeStepCountsAndChargeRateIsIgnoredWithSteps) {
  v1::JobSpec spec = BigCell(1, 1);
  v1::ChargeStep* step = Protocol(&spec)->add_charge_steps();
  step->set_c_rate(6);
  step->set_until_soc_percent(50);
  step = Protocol(&spec)->add_charge_steps();
  step->set_c_rate(1);
  step->set_until_soc_percent(80);
  ExpectRefused(Cycler(), spec, "needs current 13.2 A (6C × 2.2 Ah), worker max 5 A");

  // With steps, charge_c_rate is ignored (cell.proto): only the steps count.
  spec = BigCell(10, 1);
  step = Protocol(&spec)->add_charge_steps();
  step->set_c_rate(2);
  step->set_until_soc_percent(100);
  ExpectAccepted(Cycler(), spec);  // max(2, 1) × 2.2 = 4.4 A
}

TEST(CapabilityMatchTest, CurrentAtTheLimitFitsDespiteRounding) {
  v1::Capabilities caps = Cycler();
  caps.set_current_max_a(0.3);
  v1::JobSpec spec = Cycling();
  spec.mutable_cycling()->mutable_cell()->set_nominal_capacity_ah(0.1);
  Protocol(&spec)->set_charge_c_rate(3);  // 3 × 0.1 = 0.30000000000000004
  ExpectAccepted(caps, spec);
  Protocol(&spec)->set_charge_c_rate(3.01);
  ExpectRefused(caps, spec, "worker max 0.3 A");
}

TEST(CapabilityMatchTest, AnUnsetCurrentLimitIsNoLimit) {
  v1::Capabilities caps = Cycler();
  caps.clear_current_max_a();
  ExpectAccepted(caps, BigCell(20, 20));
}

// ---- xrd ----

TEST(CapabilityMatchTest, XrdWavelengthWithinATolerance) {
  ExpectAccepted(Diffractometer(), Xrd(1.54184));
  ExpectAccepted(Diffractometer(), Xrd(1.5415));  // 0.00034 Å off
  ExpectRefused(Diffractometer(), Xrd(1.5406), "needs wavelength 1.5406 Å, worker has 1.54184 Å");
  v1::Capabilities two = Diffractometer();
  two.add_xrd_wavelengths_angstrom(0.7107);
  ExpectAccepted(two, Xrd(0.7107));
  ExpectRefused(two, Xrd(0.5), "needs wavelength 0.5 Å, worker has 1.54184, 0.7107 Å");
}

TEST(CapabilityMatchTest, NoWavelengthsListedMeansAny) {
  v1::Capabilities caps = Diffractometer();
  caps.clear_xrd_wavelengths_angstrom();
  ExpectAccepted(caps, Xrd(0.1));
}

TEST(CapabilityMatchTest, AStoredSampleIgnoresCellLimits) {
  v1::Capabilities caps = Diffractometer();
  caps.set_temperature_min_c(20);
  caps.set_temperature_max_c(30);
  caps.set_current_max_a(0.01);
  caps.add_ions(v1::ION_LI);
  ExpectAccepted(caps, Xrd(1.54184));
}

TEST(CapabilityMatchTest, AnOperandoCellMustFitTheDiffractometersCellLimits) {
  v1::Capabilities caps = Diffractometer();
  caps.set_temperature_min_c(20);
  caps.set_temperature_max_c(30);
  caps.set_voltage_min_v(1);
  caps.set_voltage_max_v(4.3);
  caps.set_current_max_a(0.01);
  caps.add_ions(v1::ION_NA);

  v1::JobSpec spec = Xrd(1.54184);
  *spec.mutable_xrd()->mutable_operando_cell() = Cycling().cycling().cell();
  ExpectAccepted(caps, spec);

  v1::JobSpec hot = spec;
  hot.mutable_xrd()->mutable_operando_cell()->mutable_protocol()->set_temperature_c(60);
  ExpectRefused(caps, hot, "operando cell: temperature 60 °C outside the worker's 20..30 °C");

  v1::JobSpec lithium = spec;
  lithium.mutable_xrd()->mutable_operando_cell()->set_ion(v1::ION_LI);
  ExpectRefused(caps, lithium, "operando cell: needs ion LI, worker supports NA");

  v1::JobSpec high_v = spec;
  high_v.mutable_xrd()->mutable_operando_cell()->mutable_protocol()->set_voltage_max_v(4.5);
  ExpectRefused(caps, high_v, "operando cell: voltage window 2..4.5 V outside the worker's 1..4.3 V");

  v1::JobSpec big = spec;
  big.mutable_xrd()->mutable_operando_cell()->set_nominal_capacity_ah(0.02);
  ExpectRefused(caps, big, "operando cell: needs current 0.02 A (1C × 0.02 Ah), worker max 0.01 A");

  // The wavelength is checked first.
  v1::JobSpec wrong_wave = hot;
  wrong_wave.mutable_xrd()->set_wavelength_angstrom(0.5);
  ExpectRefused(caps, wrong_wave, "needs wavelength 0.5 Å");
}

// ---- simulation, label, synthetic ----

TEST(CapabilityMatchTest, SimulationEngineMustBeListed) {
  v1::JobSpec spec;
  spec.mutable_simulation()->set_engine("lammps");
  v1::Capabilities caps;
  caps.set_kind(v1::JOB_KIND_SIMULATION);
  ExpectAccepted(caps, spec);  // empty: any
  caps.add_simulation_engines("ml-md");
  caps.add_simulation_engines("xtb-md");
  ExpectRefused(caps, spec, "needs simulation engine lammps, worker supports ml-md, xtb-md");
  spec.mutable_simulation()->set_engine("ml-md");
  ExpectAccepted(caps, spec);
  spec.mutable_simulation()->set_engine("ML-MD");  // exact match
  ExpectRefused(caps, spec, "needs simulation engine ML-MD");
}

TEST(CapabilityMatchTest, LabelMethodMustBeListed) {
  v1::JobSpec spec;
  spec.mutable_label()->set_method("GFN1-xTB");
  v1::Capabilities caps;
  caps.set_kind(v1::JOB_KIND_LABEL);
  ExpectAccepted(caps, spec);  // empty: any
  caps.add_label_methods("GFN2-xTB");
  ExpectRefused(caps, spec, "needs label method GFN1-xTB, worker supports GFN2-xTB");
  caps.add_label_methods("GFN1-xTB");
  ExpectAccepted(caps, spec);
}

TEST(CapabilityMatchTest, SyntheticNeedsOnlyTheKind) {
  v1::JobSpec spec;
  spec.mutable_synthetic()->set_measurements(10);
  v1::Capabilities caps;
  caps.set_kind(v1::JOB_KIND_SYNTHETIC);
  caps.set_temperature_min_c(100);
  caps.set_temperature_max_c(101);
  caps.set_current_max_a(1e-9);
  caps.add_ions(v1::ION_MG);
  ExpectAccepted(caps, spec);
  caps.set_kind(v1::JOB_KIND_SIMULATION);
  ExpectRefused(caps, spec, "worker kind simulation, job is synthetic");
}

// ---- requirements ----

TEST(CapabilityMatchTest, RequirementsOfACyclingJob) {
  const JobRequirements r = RequirementsOf(BigCell(4, 1));
  EXPECT_EQ(r.kind, v1::JOB_KIND_CYCLING);
  EXPECT_TRUE(r.has_cell);
  EXPECT_FALSE(r.operando);
  EXPECT_EQ(r.ion, v1::ION_NA);
  EXPECT_EQ(r.design, v1::CELL_DESIGN_COIN);
  EXPECT_DOUBLE_EQ(r.max_c_rate, 4);
  EXPECT_DOUBLE_EQ(r.current_a, 8.8);
  EXPECT_FALSE(r.has_wavelength);
}

TEST(CapabilityMatchTest, EqualSpecsHaveEqualRequirements) {
  v1::JobSpec a = Cycling();
  v1::JobSpec b = Cycling();
  b.mutable_cycling()->set_max_cycles(10);  // not a requirement
  b.set_priority(7);
  EXPECT_EQ(RequirementsOf(a), RequirementsOf(b));
  Protocol(&b)->set_temperature_c(26);
  EXPECT_NE(RequirementsOf(a), RequirementsOf(b));
}

// ---- pinned vs restartable ----

TEST(CapabilityMatchTest, CyclingAndOperandoXrdArePinned) {
  EXPECT_TRUE(IsPinned(Cycling()));
  v1::JobSpec operando = Xrd(1.54184);
  *operando.mutable_xrd()->mutable_operando_cell() = Cycling().cycling().cell();
  EXPECT_TRUE(IsPinned(operando));
}

TEST(CapabilityMatchTest, EverythingElseIsRestartable) {
  EXPECT_FALSE(IsPinned(Xrd(1.54184)));  // a stored sample
  v1::JobSpec spec;
  spec.mutable_simulation()->set_engine("ml-md");
  EXPECT_FALSE(IsPinned(spec));
  spec.mutable_label()->set_method("GFN2-xTB");
  EXPECT_FALSE(IsPinned(spec));
  spec.mutable_synthetic()->set_measurements(1);
  EXPECT_FALSE(IsPinned(spec));
  EXPECT_FALSE(IsPinned(v1::JobSpec()));
}

}  // namespace
}  // namespace ionloop::orchestrator::scheduler
