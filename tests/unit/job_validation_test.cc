#include "orchestrator/jobs/job_validation.h"

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "common/job_enums.h"
#include "common/model_ref.h"
#include "instruments/electrodes.h"

namespace ionloop::orchestrator {
namespace {

using ::ionloop::v1::JobSpec;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

template <typename T>
T Parse(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

// One valid spec of each kind.

JobSpec ValidCycling() {
  return Parse<JobSpec>(R"pb(
    cycling {
      cell {
        ion: ION_LI
        positive_electrode: "LFP"
        negative_electrode: "graphite"
        electrolyte: "1 M LiPF6 in EC/DMC"
        design: CELL_DESIGN_CYLINDRICAL
        nominal_capacity_ah: 1.1
        protocol {
          charge_c_rate: 4
          discharge_c_rate: 4
          voltage_min_v: 2.0
          voltage_max_v: 3.6
          temperature_c: 30
          rest_minutes: 1
        }
      }
      max_cycles: 3000
      voltage_curve_cycles: [ 10, 100 ]
    }
    priority: 5
    campaign_id: "fastcharge-2024:batch_1.a"
    labels { key: "chemistry" value: "LFP/graphite" }
  )pb");
}

JobSpec ValidXrd() {
  return Parse<JobSpec>(R"pb(
    xrd {
      sample_id: "LNO-K-01"
      wavelength_angstrom: 1.54184
      two_theta_min_deg: 10
      two_theta_max_deg: 80
      two_theta_step_deg: 0.02
      scans: 40
      operando_cell {
        ion: ION_K
        positive_electrode: "LiNiO2"
        negative_electrode: "activated-carbon"
        electrolyte: "1 M KPF6 in EC/EMC 3:7"
        design: CELL_DESIGN_THREE_ELECTRODE
        nominal_capacity_ah: 0.0005
        protocol {
          charge_c_rate: 0.1
          discharge_c_rate: 0.1
          voltage_min_v: 2.0
          voltage_max_v: 4.3
          temperature_c: 25
        }
      }
    }
  )pb");
}

JobSpec ValidSimulation() {
  return Parse<JobSpec>(R"pb(
    simulation {
      engine: "ml-md"
      salt: "NaPF6"
      solvent: "EC/EMC 3:7"
      salt_molality_mol_per_kg: 1.0
      temperature_k: 300
      timestep_fs: 0.5
      steps: 40000
      frame_interval_steps: 100
    }
  )pb");
}

JobSpec ValidLabel() {
  return Parse<JobSpec>(R"pb(
    label {
      method: "GFN2-xTB"
      source_job_id: "job-3"
      frame_seqs: [ 1, 5, 9 ]
      total_charge: 1
    }
  )pb");
}

JobSpec ValidSynthetic() {
  return Parse<JobSpec>(R"pb(
    synthetic { measurements: 100 interval_ms: 10 payload_bytes: 64 fail_after: 50 }
  )pb");
}

JobSpec ValidMgCell() {
  JobSpec spec = ValidCycling();
  auto* cell = spec.mutable_cycling()->mutable_cell();
  cell->set_ion(v1::ION_MG);
  cell->set_positive_electrode("PAQS");
  cell->set_negative_electrode("Mg");
  cell->set_design(v1::CELL_DESIGN_SWAGELOK);
  cell->set_electrolyte("0.4 M Mg(TFSI)2 + 0.8 M MgCl2 in DME");
  return spec;
}

v1::CellSpec* Cell(JobSpec& s) { return s.mutable_cycling()->mutable_cell(); }
v1::CyclingProtocol* Protocol(JobSpec& s) { return Cell(s)->mutable_protocol(); }

// ---------------------------------------------------------------------------------------
// Valid specs pass.

TEST(JobValidationTest, ValidSpecOfEachKindPasses) {
  for (const JobSpec& spec : {ValidCycling(), ValidXrd(), ValidSimulation(), ValidLabel(),
                              ValidSynthetic(), ValidMgCell()}) {
    EXPECT_TRUE(ValidateJobSpec(spec).ok()) << spec.ShortDebugString() << "\n"
                                            << ValidateJobSpec(spec);
  }
}

TEST(JobValidationTest, KindOf) {
  EXPECT_EQ(KindOf(ValidCycling()), v1::JOB_KIND_CYCLING);
  EXPECT_EQ(KindOf(ValidXrd()), v1::JOB_KIND_XRD);
  EXPECT_EQ(KindOf(ValidSimulation()), v1::JOB_KIND_SIMULATION);
  EXPECT_EQ(KindOf(ValidLabel()), v1::JOB_KIND_LABEL);
  EXPECT_EQ(KindOf(ValidSynthetic()), v1::JOB_KIND_SYNTHETIC);
  EXPECT_EQ(KindOf(JobSpec()), v1::JOB_KIND_UNSPECIFIED);
}

TEST(JobValidationTest, AcceptsEdgesAndVariants) {
  std::vector<std::pair<std::string, std::function<void(JobSpec&)>>> variants = {
      {"multi-step charge with charge_c_rate 0",
       [](JobSpec& s) {
         Protocol(s)->set_charge_c_rate(0);
         auto* a = Protocol(s)->add_charge_steps();
         a->set_c_rate(6);
         a->set_until_soc_percent(40);
         auto* b = Protocol(s)->add_charge_steps();
         b->set_c_rate(3);
         b->set_until_soc_percent(100);
       }},
      {"electrode names are case-insensitive",
       [](JobSpec& s) {
         Cell(s)->set_positive_electrode("lfp");
         Cell(s)->set_negative_electrode("GRAPHITE");
       }},
      {"LNO in a Na cell",
       [](JobSpec& s) {
         Cell(s)->set_ion(v1::ION_NA);
         Cell(s)->set_positive_electrode("LNO");
         Cell(s)->set_negative_electrode("hard-carbon");
       }},
      {"eol 0 means default", [](JobSpec& s) { Cell(s)->set_eol_soh_percent(0); }},
      {"eol 70", [](JobSpec& s) { Cell(s)->set_eol_soh_percent(70); }},
      {"C-rate exactly 20", [](JobSpec& s) { Protocol(s)->set_discharge_c_rate(20); }},
      {"temperature -40", [](JobSpec& s) { Protocol(s)->set_temperature_c(-40); }},
      {"temperature 80", [](JobSpec& s) { Protocol(s)->set_temperature_c(80); }},
      {"window 0..5 V",
       [](JobSpec& s) {
         Protocol(s)->set_voltage_min_v(0);
         Protocol(s)->set_voltage_max_v(5);
       }},
      {"rest one day", [](JobSpec& s) { Protocol(s)->set_rest_minutes(1440); }},
      {"capacity 1000 Ah", [](JobSpec& s) { Cell(s)->set_nominal_capacity_ah(1000); }},
      {"curve at max_cycles",
       [](JobSpec& s) {
         s.mutable_cycling()->set_max_cycles(100);
         s.mutable_cycling()->clear_voltage_curve_cycles();
         s.mutable_cycling()->add_voltage_curve_cycles(100);
       }},
      {"priority bounds", [](JobSpec& s) { s.set_priority(-100); }},
      {"no campaign, no labels",
       [](JobSpec& s) {
         s.clear_campaign_id();
         s.clear_labels();
       }},
      {"label key 63 chars",
       [](JobSpec& s) { (*s.mutable_labels())[std::string(63, 'k')] = std::string(256, 'v'); }},
      {"label key charset", [](JobSpec& s) { (*s.mutable_labels())["a-z_0.9/x"] = ""; }},
  };
  for (auto& [name, mutate] : variants) {
    JobSpec spec = ValidCycling();
    mutate(spec);
    EXPECT_TRUE(ValidateJobSpec(spec).ok()) << name << ": " << ValidateJobSpec(spec);
  }
}

TEST(JobValidationTest, XrdVariantsPass) {
  JobSpec structure_only = ValidXrd();
  structure_only.mutable_xrd()->clear_sample_id();
  structure_only.mutable_xrd()->set_structure("LiNiO2");
  structure_only.mutable_xrd()->clear_operando_cell();
  EXPECT_TRUE(ValidateJobSpec(structure_only).ok()) << ValidateJobSpec(structure_only);

  JobSpec synchrotron = ValidXrd();
  synchrotron.mutable_xrd()->set_wavelength_angstrom(0.1);
  synchrotron.mutable_xrd()->set_two_theta_max_deg(180);
  EXPECT_TRUE(ValidateJobSpec(synchrotron).ok()) << ValidateJobSpec(synchrotron);
}

TEST(JobValidationTest, SimulationAndLabelVariantsPass) {
  for (const char* salt : {"LiPF6", "NaPF6", "KPF6", "Mg(ClO4)2"}) {
    JobSpec spec = ValidSimulation();
    spec.mutable_simulation()->set_salt(salt);
    EXPECT_TRUE(ValidateJobSpec(spec).ok()) << salt << ": " << ValidateJobSpec(spec);
  }
  JobSpec every_step = ValidSimulation();
  every_step.mutable_simulation()->set_frame_interval_steps(40000);
  EXPECT_TRUE(ValidateJobSpec(every_step).ok());

  JobSpec gfn1 = ValidLabel();
  gfn1.mutable_label()->set_method("GFN1-xTB");
  EXPECT_TRUE(ValidateJobSpec(gfn1).ok());
}

TEST(JobValidationTest, EmptyPathGivesBareFieldNames) {
  JobSpec spec = ValidSynthetic();
  spec.mutable_synthetic()->set_measurements(0);
  absl::Status status = ValidateJobSpec(spec, "");
  EXPECT_THAT(std::string(status.message()), StartsWith("synthetic.measurements: "));
}

// Messages quoted in the issue, checked word for word.
TEST(JobValidationTest, ExactMessages) {
  JobSpec spec = ValidCycling();
  Protocol(spec)->set_charge_c_rate(-1);
  EXPECT_EQ(ValidateJobSpec(spec).message(),
            "spec.cycling.cell.protocol.charge_c_rate: must be > 0, got -1");

  spec = ValidCycling();
  Protocol(spec)->set_voltage_min_v(4.3);
  Protocol(spec)->set_voltage_max_v(4.3);
  EXPECT_EQ(ValidateJobSpec(spec).message(),
            "spec.cycling.cell.protocol.voltage_min_v: must be < voltage_max_v (4.3), got 4.3");

  spec = ValidCycling();
  Protocol(spec)->set_temperature_c(95);
  EXPECT_EQ(ValidateJobSpec(spec).message(),
            "spec.cycling.cell.protocol.temperature_c: must be within -40..80 °C, got 95");

  spec = ValidCycling();
  Cell(spec)->set_positive_electrode("NMC999");
  EXPECT_EQ(ValidateJobSpec(spec).message(),
            "spec.cycling.cell.positive_electrode: unknown electrode \"NMC999\" (known: LFP, "
            "NCA, NMC111, NMC532, NMC622, NMC811, LCO, LNO, LNMO, NVPF, NVZP, PAQS, PHBQS)");

  EXPECT_EQ(ValidateJobSpec(JobSpec()).message(),
            "spec.kind: no job kind set (one of cycling, xrd, simulation, label, synthetic, training)");

  EXPECT_EQ(ValidateSubmitJobRequest(v1::SubmitJobRequest()).message(), "spec: missing");
}

TEST(JobValidationTest, ReportsFirstErrorInFieldOrder) {
  JobSpec spec = ValidCycling();
  Protocol(spec)->set_discharge_c_rate(-2);
  Protocol(spec)->set_temperature_c(200);
  spec.set_priority(1000);
  EXPECT_THAT(std::string(ValidateJobSpec(spec).message()),
              StartsWith("spec.cycling.cell.protocol.discharge_c_rate:"));
}

TEST(JobValidationTest, LabelErrorsDoNotDependOnMapOrder) {
  JobSpec spec = ValidSynthetic();
  for (const char* key : {"Zeta", "Alpha", "Mid"}) (*spec.mutable_labels())[key] = "v";
  EXPECT_THAT(std::string(ValidateJobSpec(spec).message()), HasSubstr("\"Alpha\""));
}

// ---------------------------------------------------------------------------------------
// Every rule has a failing case: the code is INVALID_ARGUMENT, the message starts with
// the field path and names the offending value.

struct BadSpec {
  std::string name;  // test name suffix
  std::function<JobSpec()> make;
  std::string path;   // the message starts with "<path>: "
  std::string value;  // ... and contains this
};

template <typename Mutate>
std::function<JobSpec()> From(JobSpec (*base)(), Mutate mutate) {
  return [base, mutate] {
    JobSpec s = base();
    mutate(s);
    return s;
  };
}

void AddStep(JobSpec& s, double c_rate, double soc) {
  auto* step = Protocol(s)->add_charge_steps();
  step->set_c_rate(c_rate);
  step->set_until_soc_percent(soc);
}

const std::vector<BadSpec>& BadSpecs() {
  static const auto* const cases = new std::vector<BadSpec>{
      // JobSpec.
      {"NoKind", [] { return JobSpec(); }, "spec.kind", "no job kind set"},
      {"PriorityHigh", From(ValidSynthetic, [](JobSpec& s) { s.set_priority(101); }),
       "spec.priority", "got 101"},
      {"PriorityLow", From(ValidSynthetic, [](JobSpec& s) { s.set_priority(-101); }),
       "spec.priority", "got -101"},
      {"CampaignIdLong",
       From(ValidSynthetic, [](JobSpec& s) { s.set_campaign_id(std::string(129, 'c')); }),
       "spec.campaign_id", "got 129"},
      {"CampaignIdChars", From(ValidSynthetic, [](JobSpec& s) { s.set_campaign_id("camp 1"); }),
       "spec.campaign_id", "\"camp 1\""},
      {"LabelKeyUpper",
       From(ValidSynthetic, [](JobSpec& s) { (*s.mutable_labels())["Owner"] = "me"; }),
       "spec.labels", "\"Owner\""},
      {"LabelKeyEmpty", From(ValidSynthetic, [](JobSpec& s) { (*s.mutable_labels())[""] = "x"; }),
       "spec.labels", "got \"\""},
      {"LabelKeyLong",
       From(ValidSynthetic, [](JobSpec& s) { (*s.mutable_labels())[std::string(64, 'k')] = "x"; }),
       "spec.labels", "kkkkkkkk"},
      {"LabelValueLong",
       From(ValidSynthetic,
            [](JobSpec& s) { (*s.mutable_labels())["note"] = std::string(257, 'v'); }),
       "spec.labels[\"note\"]", "257 bytes"},
      {"TooManyLabels",
       From(ValidSynthetic,
            [](JobSpec& s) {
              for (int i = 0; i < 65; ++i) (*s.mutable_labels())[absl::StrCat("k", i)] = "v";
            }),
       "spec.labels", "got 65"},

      // CyclingJob and its CellSpec.
      {"CellMissing", From(ValidCycling, [](JobSpec& s) { s.mutable_cycling()->clear_cell(); }),
       "spec.cycling.cell", "missing"},
      {"IonUnset", From(ValidCycling, [](JobSpec& s) { Cell(s)->clear_ion(); }),
       "spec.cycling.cell.ion", "got ION_UNSPECIFIED"},
      {"IonUnknown",
       From(ValidCycling, [](JobSpec& s) { Cell(s)->set_ion(static_cast<v1::Ion>(9)); }),
       "spec.cycling.cell.ion", "got 9"},
      {"PositiveUnknown",
       From(ValidCycling, [](JobSpec& s) { Cell(s)->set_positive_electrode("NMC999"); }),
       "spec.cycling.cell.positive_electrode", "\"NMC999\""},
      {"PositiveEmpty", From(ValidCycling, [](JobSpec& s) { Cell(s)->clear_positive_electrode(); }),
       "spec.cycling.cell.positive_electrode", "got \"\""},
      {"PositiveIsNegative",
       From(ValidCycling, [](JobSpec& s) { Cell(s)->set_positive_electrode("graphite"); }),
       "spec.cycling.cell.positive_electrode", "\"graphite\" is a negative electrode"},
      {"NegativeIsPositive",
       From(ValidCycling, [](JobSpec& s) { Cell(s)->set_negative_electrode("LFP"); }),
       "spec.cycling.cell.negative_electrode", "\"LFP\" is a positive electrode"},
      {"NegativeUnknown",
       From(ValidCycling, [](JobSpec& s) { Cell(s)->set_negative_electrode("Zn"); }),
       "spec.cycling.cell.negative_electrode", "\"Zn\""},
      {"NvpfInLiCell",
       From(ValidCycling, [](JobSpec& s) { Cell(s)->set_positive_electrode("NVPF"); }),
       "spec.cycling.cell.positive_electrode", "\"NVPF\" is used in Na cells, not with ion ION_LI"},
      {"PaqsInNaCell",
       From(ValidCycling,
            [](JobSpec& s) {
              Cell(s)->set_ion(v1::ION_NA);
              Cell(s)->set_positive_electrode("PAQS");
            }),
       "spec.cycling.cell.positive_electrode", "ION_NA"},
      {"LnoInMgCell",
       From(ValidMgCell, [](JobSpec& s) { Cell(s)->set_positive_electrode("LiNiO2"); }),
       "spec.cycling.cell.positive_electrode", "\"LiNiO2\" is used in Li, Na or K cells"},
      {"MgMetalInLiCell",
       From(ValidCycling, [](JobSpec& s) { Cell(s)->set_negative_electrode("Mg"); }),
       "spec.cycling.cell.negative_electrode", "ION_LI"},
      {"GraphiteInMgCell",
       From(ValidMgCell, [](JobSpec& s) { Cell(s)->set_negative_electrode("graphite"); }),
       "spec.cycling.cell.negative_electrode", "ION_MG"},
      {"ElectrolyteLong",
       From(ValidCycling, [](JobSpec& s) { Cell(s)->set_electrolyte(std::string(300, 'e')); }),
       "spec.cycling.cell.electrolyte", "300 bytes"},
      {"DesignUnset", From(ValidCycling, [](JobSpec& s) { Cell(s)->clear_design(); }),
       "spec.cycling.cell.design", "got CELL_DESIGN_UNSPECIFIED"},
      {"CapacityZero", From(ValidCycling, [](JobSpec& s) { Cell(s)->set_nominal_capacity_ah(0); }),
       "spec.cycling.cell.nominal_capacity_ah", "must be > 0, got 0"},
      {"CapacityHuge",
       From(ValidCycling, [](JobSpec& s) { Cell(s)->set_nominal_capacity_ah(1500); }),
       "spec.cycling.cell.nominal_capacity_ah", "got 1500"},
      {"CapacityNaN",
       From(ValidCycling, [](JobSpec& s) { Cell(s)->set_nominal_capacity_ah(kNaN); }),
       "spec.cycling.cell.nominal_capacity_ah", "must be a finite number, got nan"},
      {"ProtocolMissing", From(ValidCycling, [](JobSpec& s) { Cell(s)->clear_protocol(); }),
       "spec.cycling.cell.protocol", "missing"},
      {"ChargeRateNegative",
       From(ValidCycling, [](JobSpec& s) { Protocol(s)->set_charge_c_rate(-1); }),
       "spec.cycling.cell.protocol.charge_c_rate", "must be > 0, got -1"},
      {"ChargeRateZeroWithoutSteps",
       From(ValidCycling, [](JobSpec& s) { Protocol(s)->set_charge_c_rate(0); }),
       "spec.cycling.cell.protocol.charge_c_rate", "got 0"},
      {"ChargeRateHigh", From(ValidCycling, [](JobSpec& s) { Protocol(s)->set_charge_c_rate(25); }),
       "spec.cycling.cell.protocol.charge_c_rate", "must be <= 20C, got 25"},
      {"ChargeRateInf",
       From(ValidCycling, [](JobSpec& s) { Protocol(s)->set_charge_c_rate(kInf); }),
       "spec.cycling.cell.protocol.charge_c_rate", "must be a finite number, got inf"},
      {"ChargeRateNegativeWithSteps",
       From(ValidCycling,
            [](JobSpec& s) {
              AddStep(s, 4, 80);
              Protocol(s)->set_charge_c_rate(-3);
            }),
       "spec.cycling.cell.protocol.charge_c_rate", "got -3"},
      {"StepRateZero",
       From(ValidCycling,
            [](JobSpec& s) {
              AddStep(s, 6, 40);
              AddStep(s, 0, 80);
            }),
       "spec.cycling.cell.protocol.charge_steps[1].c_rate", "got 0"},
      {"StepRateNaN", From(ValidCycling, [](JobSpec& s) { AddStep(s, kNaN, 40); }),
       "spec.cycling.cell.protocol.charge_steps[0].c_rate", "finite number, got nan"},
      {"StepSocZero", From(ValidCycling, [](JobSpec& s) { AddStep(s, 4, 0); }),
       "spec.cycling.cell.protocol.charge_steps[0].until_soc_percent", "got 0"},
      {"StepSocOver100", From(ValidCycling, [](JobSpec& s) { AddStep(s, 4, 100.5); }),
       "spec.cycling.cell.protocol.charge_steps[0].until_soc_percent", "got 100.5"},
      {"StepSocNotIncreasing",
       From(ValidCycling,
            [](JobSpec& s) {
              AddStep(s, 6, 40);
              AddStep(s, 5, 60);
              AddStep(s, 3, 60);
            }),
       "spec.cycling.cell.protocol.charge_steps[2].until_soc_percent",
       "must be > charge_steps[1].until_soc_percent (60), got 60"},
      {"TooManySteps",
       From(ValidCycling,
            [](JobSpec& s) {
              for (int i = 1; i <= 33; ++i) AddStep(s, 1, i);
            }),
       "spec.cycling.cell.protocol.charge_steps", "got 33"},
      {"DischargeRateZero",
       From(ValidCycling, [](JobSpec& s) { Protocol(s)->set_discharge_c_rate(0); }),
       "spec.cycling.cell.protocol.discharge_c_rate", "got 0"},
      {"VoltageMinNegative",
       From(ValidCycling, [](JobSpec& s) { Protocol(s)->set_voltage_min_v(-0.5); }),
       "spec.cycling.cell.protocol.voltage_min_v", "must be within 0..5 V, got -0.5"},
      {"VoltageMaxHigh",
       From(ValidCycling, [](JobSpec& s) { Protocol(s)->set_voltage_max_v(5.2); }),
       "spec.cycling.cell.protocol.voltage_max_v", "got 5.2"},
      {"VoltageMaxNaN",
       From(ValidCycling, [](JobSpec& s) { Protocol(s)->set_voltage_max_v(kNaN); }),
       "spec.cycling.cell.protocol.voltage_max_v", "got nan"},
      {"VoltageWindowInverted",
       From(ValidCycling, [](JobSpec& s) { Protocol(s)->set_voltage_min_v(3.7); }),
       "spec.cycling.cell.protocol.voltage_min_v", "must be < voltage_max_v (3.6), got 3.7"},
      {"TemperatureHigh",
       From(ValidCycling, [](JobSpec& s) { Protocol(s)->set_temperature_c(95); }),
       "spec.cycling.cell.protocol.temperature_c", "got 95"},
      {"TemperatureLow",
       From(ValidCycling, [](JobSpec& s) { Protocol(s)->set_temperature_c(-41); }),
       "spec.cycling.cell.protocol.temperature_c", "got -41"},
      {"TemperatureInf",
       From(ValidCycling, [](JobSpec& s) { Protocol(s)->set_temperature_c(-kInf); }),
       "spec.cycling.cell.protocol.temperature_c", "got -inf"},
      {"RestNegative", From(ValidCycling, [](JobSpec& s) { Protocol(s)->set_rest_minutes(-1); }),
       "spec.cycling.cell.protocol.rest_minutes", "got -1"},
      {"RestLong", From(ValidCycling, [](JobSpec& s) { Protocol(s)->set_rest_minutes(1441); }),
       "spec.cycling.cell.protocol.rest_minutes", "got 1441"},
      {"EolHundred", From(ValidCycling, [](JobSpec& s) { Cell(s)->set_eol_soh_percent(100); }),
       "spec.cycling.cell.eol_soh_percent", "got 100"},
      {"EolNegative", From(ValidCycling, [](JobSpec& s) { Cell(s)->set_eol_soh_percent(-5); }),
       "spec.cycling.cell.eol_soh_percent", "got -5"},
      {"EolNaN", From(ValidCycling, [](JobSpec& s) { Cell(s)->set_eol_soh_percent(kNaN); }),
       "spec.cycling.cell.eol_soh_percent", "finite number, got nan"},
      {"MaxCyclesZero",
       From(ValidCycling, [](JobSpec& s) { s.mutable_cycling()->set_max_cycles(0); }),
       "spec.cycling.max_cycles", "must be within 1..1000000, got 0"},
      {"MaxCyclesHuge",
       From(ValidCycling, [](JobSpec& s) { s.mutable_cycling()->set_max_cycles(1'000'001); }),
       "spec.cycling.max_cycles", "got 1000001"},
      {"CurveCycleBeyondMax",
       From(ValidCycling, [](JobSpec& s) { s.mutable_cycling()->add_voltage_curve_cycles(5000); }),
       "spec.cycling.voltage_curve_cycles[2]", "must be within 1..max_cycles (3000), got 5000"},
      {"CurveCycleZero",
       From(ValidCycling, [](JobSpec& s) { s.mutable_cycling()->set_voltage_curve_cycles(0, 0); }),
       "spec.cycling.voltage_curve_cycles[0]", "got 0"},
      {"CurveCycleDuplicate",
       From(ValidCycling, [](JobSpec& s) { s.mutable_cycling()->add_voltage_curve_cycles(10); }),
       "spec.cycling.voltage_curve_cycles[2]", "duplicate value, got 10"},
      {"TooManyCurveCycles",
       From(ValidCycling,
            [](JobSpec& s) {
              s.mutable_cycling()->set_max_cycles(1'000'000);
              for (int i = 0; i < 10'001; ++i)
                s.mutable_cycling()->add_voltage_curve_cycles(i + 200);
            }),
       "spec.cycling.voltage_curve_cycles", "got 10003"},

      // XrdJob.
      {"XrdNoSample", From(ValidXrd, [](JobSpec& s) { s.mutable_xrd()->clear_sample_id(); }),
       "spec.xrd", "got both empty"},
      {"XrdStructureHuge",
       From(ValidXrd,
            [](JobSpec& s) { s.mutable_xrd()->set_structure(std::string((1 << 20) + 1, 'x')); }),
       "spec.xrd.structure", "1048577 bytes"},
      {"WavelengthShort",
       From(ValidXrd, [](JobSpec& s) { s.mutable_xrd()->set_wavelength_angstrom(0.05); }),
       "spec.xrd.wavelength_angstrom", "must be within 0.1..3 Å, got 0.05"},
      {"WavelengthLong",
       From(ValidXrd, [](JobSpec& s) { s.mutable_xrd()->set_wavelength_angstrom(3.5); }),
       "spec.xrd.wavelength_angstrom", "got 3.5"},
      {"WavelengthUnset",
       From(ValidXrd, [](JobSpec& s) { s.mutable_xrd()->clear_wavelength_angstrom(); }),
       "spec.xrd.wavelength_angstrom", "got 0"},
      {"TwoThetaMinZero",
       From(ValidXrd, [](JobSpec& s) { s.mutable_xrd()->set_two_theta_min_deg(0); }),
       "spec.xrd.two_theta_min_deg", "must be > 0, got 0"},
      {"TwoThetaMaxOver180",
       From(ValidXrd, [](JobSpec& s) { s.mutable_xrd()->set_two_theta_max_deg(181); }),
       "spec.xrd.two_theta_max_deg", "must be <= 180°, got 181"},
      {"TwoThetaInverted",
       From(ValidXrd, [](JobSpec& s) { s.mutable_xrd()->set_two_theta_min_deg(90); }),
       "spec.xrd.two_theta_min_deg", "must be < two_theta_max_deg (80), got 90"},
      {"TwoThetaNaN",
       From(ValidXrd, [](JobSpec& s) { s.mutable_xrd()->set_two_theta_min_deg(kNaN); }),
       "spec.xrd.two_theta_min_deg", "got nan"},
      {"StepZero", From(ValidXrd, [](JobSpec& s) { s.mutable_xrd()->set_two_theta_step_deg(0); }),
       "spec.xrd.two_theta_step_deg", "must be > 0, got 0"},
      {"StepTooFine",
       From(ValidXrd, [](JobSpec& s) { s.mutable_xrd()->set_two_theta_step_deg(1e-5); }),
       "spec.xrd.two_theta_step_deg", "got 1e-05"},
      {"ScansZero", From(ValidXrd, [](JobSpec& s) { s.mutable_xrd()->set_scans(0); }),
       "spec.xrd.scans", "got 0"},
      {"ScansMany", From(ValidXrd, [](JobSpec& s) { s.mutable_xrd()->set_scans(100'001); }),
       "spec.xrd.scans", "got 100001"},
      {"OperandoCellBad",
       From(ValidXrd,
            [](JobSpec& s) {
              s.mutable_xrd()->mutable_operando_cell()->set_positive_electrode("NVPF");
            }),
       "spec.xrd.operando_cell.positive_electrode", "ION_K"},
      {"OperandoCellEmpty",
       From(ValidXrd, [](JobSpec& s) { s.mutable_xrd()->mutable_operando_cell()->Clear(); }),
       "spec.xrd.operando_cell.ion", "ION_UNSPECIFIED"},

      // SimulationJob.
      {"EngineEmpty",
       From(ValidSimulation, [](JobSpec& s) { s.mutable_simulation()->clear_engine(); }),
       "spec.simulation.engine", "got \"\""},
      {"SaltUnknown",
       From(ValidSimulation, [](JobSpec& s) { s.mutable_simulation()->set_salt("LiCl"); }),
       "spec.simulation.salt", "unknown salt \"LiCl\" (known: LiPF6, NaPF6, KPF6, Mg(ClO4)2)"},
      {"SaltWrongCase",
       From(ValidSimulation, [](JobSpec& s) { s.mutable_simulation()->set_salt("lipf6"); }),
       "spec.simulation.salt", "\"lipf6\""},
      {"SaltEmpty", From(ValidSimulation, [](JobSpec& s) { s.mutable_simulation()->clear_salt(); }),
       "spec.simulation.salt", "got \"\""},
      {"SolventEmpty",
       From(ValidSimulation, [](JobSpec& s) { s.mutable_simulation()->clear_solvent(); }),
       "spec.simulation.solvent", "got \"\""},
      {"MolalityZero",
       From(ValidSimulation,
            [](JobSpec& s) { s.mutable_simulation()->set_salt_molality_mol_per_kg(0); }),
       "spec.simulation.salt_molality_mol_per_kg", "got 0"},
      {"MolalityHigh",
       From(ValidSimulation,
            [](JobSpec& s) { s.mutable_simulation()->set_salt_molality_mol_per_kg(5.5); }),
       "spec.simulation.salt_molality_mol_per_kg", "must be <= 5 mol/kg, got 5.5"},
      {"SimTemperatureLow",
       From(ValidSimulation, [](JobSpec& s) { s.mutable_simulation()->set_temperature_k(150); }),
       "spec.simulation.temperature_k", "must be within 200..600 K, got 150"},
      {"SimTemperatureHigh",
       From(ValidSimulation, [](JobSpec& s) { s.mutable_simulation()->set_temperature_k(650); }),
       "spec.simulation.temperature_k", "got 650"},
      {"TimestepZero",
       From(ValidSimulation, [](JobSpec& s) { s.mutable_simulation()->set_timestep_fs(0); }),
       "spec.simulation.timestep_fs", "got 0"},
      {"TimestepLong",
       From(ValidSimulation, [](JobSpec& s) { s.mutable_simulation()->set_timestep_fs(5.01); }),
       "spec.simulation.timestep_fs", "got 5.01"},
      {"StepsZero", From(ValidSimulation, [](JobSpec& s) { s.mutable_simulation()->set_steps(0); }),
       "spec.simulation.steps", "got 0"},
      {"StepsHuge",
       From(ValidSimulation,
            [](JobSpec& s) { s.mutable_simulation()->set_steps(10'000'000'001ULL); }),
       "spec.simulation.steps", "got 10000000001"},
      {"FrameIntervalZero",
       From(ValidSimulation,
            [](JobSpec& s) { s.mutable_simulation()->set_frame_interval_steps(0); }),
       "spec.simulation.frame_interval_steps", "got 0"},
      {"FrameIntervalBeyondSteps",
       From(ValidSimulation,
            [](JobSpec& s) { s.mutable_simulation()->set_frame_interval_steps(40001); }),
       "spec.simulation.frame_interval_steps", "must be within 1..steps (40000), got 40001"},

      // LabelJob.
      {"MethodUnknown", From(ValidLabel, [](JobSpec& s) { s.mutable_label()->set_method("DFT"); }),
       "spec.label.method", "unknown method \"DFT\" (known: GFN2-xTB, GFN1-xTB)"},
      {"SourceJobIdBad",
       From(ValidLabel, [](JobSpec& s) { s.mutable_label()->set_source_job_id("job-x"); }),
       "spec.label.source_job_id", "job-x"},
      {"SourceJobIdEmpty",
       From(ValidLabel, [](JobSpec& s) { s.mutable_label()->clear_source_job_id(); }),
       "spec.label.source_job_id", "''"},
      {"FramesEmpty", From(ValidLabel, [](JobSpec& s) { s.mutable_label()->clear_frame_seqs(); }),
       "spec.label.frame_seqs", "got 0"},
      {"FrameSeqZero", From(ValidLabel, [](JobSpec& s) { s.mutable_label()->add_frame_seqs(0); }),
       "spec.label.frame_seqs[3]", "got 0"},
      {"FrameSeqDuplicate",
       From(ValidLabel, [](JobSpec& s) { s.mutable_label()->add_frame_seqs(5); }),
       "spec.label.frame_seqs[3]", "duplicate value, got 5"},
      {"TooManyFrames",
       From(ValidLabel,
            [](JobSpec& s) {
              for (int i = 0; i < 100'000; ++i) s.mutable_label()->add_frame_seqs(i + 100);
            }),
       "spec.label.frame_seqs", "got 100003"},

      // SyntheticJob.
      {"MeasurementsZero",
       From(ValidSynthetic, [](JobSpec& s) { s.mutable_synthetic()->set_measurements(0); }),
       "spec.synthetic.measurements", "must be within 1..10000000, got 0"},
      {"MeasurementsHuge",
       From(ValidSynthetic,
            [](JobSpec& s) { s.mutable_synthetic()->set_measurements(10'000'001); }),
       "spec.synthetic.measurements", "got 10000001"},
      {"IntervalLong",
       From(ValidSynthetic, [](JobSpec& s) { s.mutable_synthetic()->set_interval_ms(3'600'001); }),
       "spec.synthetic.interval_ms", "must be <= 3600000, got 3600001"},
      {"PayloadBig",
       From(ValidSynthetic,
            [](JobSpec& s) { s.mutable_synthetic()->set_payload_bytes((1 << 20) + 1); }),
       "spec.synthetic.payload_bytes", "must be <= 1048576, got 1048577"},
      {"FailAfterBeyondMeasurements",
       From(ValidSynthetic, [](JobSpec& s) { s.mutable_synthetic()->set_fail_after(101); }),
       "spec.synthetic.fail_after", "must be <= measurements (100), got 101"},
  };
  return *cases;
}

class BadSpecTest : public ::testing::TestWithParam<BadSpec> {};

TEST_P(BadSpecTest, IsInvalidArgumentNamingFieldAndValue) {
  const BadSpec& c = GetParam();
  absl::Status status = ValidateJobSpec(c.make());
  ASSERT_FALSE(status.ok()) << "accepted";
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  const std::string message(status.message());
  EXPECT_THAT(message, StartsWith(c.path + ": "));
  EXPECT_THAT(message, HasSubstr(c.value));
  EXPECT_LT(message.size(), 400u) << "messages stay short";
}

INSTANTIATE_TEST_SUITE_P(Rules, BadSpecTest, ::testing::ValuesIn(BadSpecs()),
                         [](const ::testing::TestParamInfo<BadSpec>& info) {
                           return info.param.name;
                         });

// ---------------------------------------------------------------------------------------
// SubmitJobRequest.

TEST(ValidateSubmitJobRequestTest, AcceptsValid) {
  v1::SubmitJobRequest request;
  *request.mutable_spec() = ValidCycling();
  request.set_idempotency_key("3f9c1e2a-run-7 / retry#2");
  EXPECT_TRUE(ValidateSubmitJobRequest(request).ok()) << ValidateSubmitJobRequest(request);
  request.set_idempotency_key(std::string(256, 'k'));
  EXPECT_TRUE(ValidateSubmitJobRequest(request).ok());
  request.set_idempotency_key("Zelle-Ü-12");  // non-ASCII UTF-8 is printable
  EXPECT_TRUE(ValidateSubmitJobRequest(request).ok());
}

TEST(ValidateSubmitJobRequestTest, RejectsBadRequests) {
  v1::SubmitJobRequest missing;
  EXPECT_EQ(ValidateSubmitJobRequest(missing).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateSubmitJobRequest(missing).message(), "spec: missing");

  v1::SubmitJobRequest bad_spec;
  *bad_spec.mutable_spec() = ValidSynthetic();
  bad_spec.mutable_spec()->mutable_synthetic()->set_measurements(0);
  EXPECT_THAT(std::string(ValidateSubmitJobRequest(bad_spec).message()),
              StartsWith("spec.synthetic.measurements: "));

  v1::SubmitJobRequest empty_spec;
  empty_spec.mutable_spec();
  EXPECT_THAT(std::string(ValidateSubmitJobRequest(empty_spec).message()),
              StartsWith("spec.kind: "));

  v1::SubmitJobRequest long_key;
  *long_key.mutable_spec() = ValidSynthetic();
  long_key.set_idempotency_key(std::string(257, 'k'));
  absl::Status status = ValidateSubmitJobRequest(long_key);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), StartsWith("idempotency_key: "));
  EXPECT_THAT(std::string(status.message()), HasSubstr("257 bytes"));

  v1::SubmitJobRequest control_key;
  *control_key.mutable_spec() = ValidSynthetic();
  control_key.set_idempotency_key("key\n1");
  status = ValidateSubmitJobRequest(control_key);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), StartsWith("idempotency_key: must be printable"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("\"key\\n1\""));
}

// ---------------------------------------------------------------------------------------
// ListJobsRequest.

TEST(ValidateListJobsRequestTest, AcceptsValid) {
  EXPECT_TRUE(ValidateListJobsRequest(v1::ListJobsRequest()).ok());
  v1::ListJobsRequest request = Parse<v1::ListJobsRequest>(R"pb(
    states: [ JOB_STATE_QUEUED, JOB_STATE_LOST ]
    kind: JOB_KIND_XRD
    campaign_id: "c-1"
    labels { key: "owner" value: "ana" }
    page_size: 1000
    page_token: "anything: the store checks it"
  )pb");
  EXPECT_TRUE(ValidateListJobsRequest(request).ok()) << ValidateListJobsRequest(request);
}

TEST(ValidateListJobsRequestTest, RejectsBadFilters) {
  struct Case {
    std::string text;
    std::string path;
    std::string value;
  };
  const std::vector<Case> cases = {
      {"page_size: 1001", "page_size", "must be <= 1000, got 1001"},
      {"states: [ JOB_STATE_QUEUED, JOB_STATE_UNSPECIFIED ]", "states[1]",
       "got JOB_STATE_UNSPECIFIED"},
      {"states: 42", "states[0]", "got 42"},
      {"kind: 17", "kind", "got 17"},
      {"campaign_id: \"has space\"", "campaign_id", "\"has space\""},
      {"labels { key: \"Owner\" value: \"x\" }", "labels", "\"Owner\""},
      {absl::StrCat("labels { key: \"k\" value: \"", std::string(300, 'v'), "\" }"),
       "labels[\"k\"]", "300 bytes"},
  };
  for (const Case& c : cases) {
    // Text format rejects unknown enum numbers; build those by hand.
    v1::ListJobsRequest request;
    if (c.text == "states: 42") {
      request.add_states(static_cast<v1::JobState>(42));
    } else if (c.text == "kind: 17") {
      request.set_kind(static_cast<v1::JobKind>(17));
    } else {
      request = Parse<v1::ListJobsRequest>(c.text);
    }
    absl::Status status = ValidateListJobsRequest(request);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(std::string(status.message()), StartsWith(c.path + ": ")) << c.text;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.value)) << c.text;
  }
}

// ---------------------------------------------------------------------------------------
// The electrode catalogue (instruments/electrodes.h).

using instruments::ElectrodeNames;
using instruments::ElectrodeRole;
using instruments::FindElectrode;
using instruments::Ion;

TEST(ElectrodesTest, ListsDesignNamesByRole) {
  EXPECT_THAT(ElectrodeNames(ElectrodeRole::kPositive),
              ::testing::ElementsAre("LFP", "NCA", "NMC111", "NMC532", "NMC622", "NMC811", "LCO",
                                     "LNO", "LNMO", "NVPF", "NVZP", "PAQS", "PHBQS"));
  EXPECT_THAT(ElectrodeNames(ElectrodeRole::kNegative),
              ::testing::ElementsAre("graphite", "Si-graphite", "LTO", "hard-carbon",
                                     "activated-carbon", "Mg"));
}

TEST(ElectrodesTest, FindsByNameOrAliasIgnoringCase) {
  ASSERT_NE(FindElectrode("NMC811"), nullptr);
  EXPECT_EQ(FindElectrode("nmc811"), FindElectrode("NMC811"));
  EXPECT_EQ(FindElectrode("LiNiO2"), FindElectrode("LNO"));
  EXPECT_EQ(FindElectrode("linio2")->name, "LNO");
  EXPECT_EQ(FindElectrode("Hard-Carbon")->name, "hard-carbon");
  EXPECT_EQ(FindElectrode(""), nullptr);
  EXPECT_EQ(FindElectrode("NMC999"), nullptr);
  EXPECT_EQ(FindElectrode("NMC811 "), nullptr);
}

TEST(ElectrodesTest, RolesAndIons) {
  EXPECT_EQ(FindElectrode("graphite")->role, ElectrodeRole::kNegative);
  EXPECT_EQ(FindElectrode("LFP")->role, ElectrodeRole::kPositive);
  EXPECT_THAT(FindElectrode("LNO")->Ions(), ::testing::ElementsAre(Ion::kLi, Ion::kNa, Ion::kK));
  EXPECT_THAT(FindElectrode("NVPF")->Ions(), ::testing::ElementsAre(Ion::kNa));
  EXPECT_THAT(FindElectrode("NVZP")->Ions(), ::testing::ElementsAre(Ion::kNa));
  EXPECT_THAT(FindElectrode("PAQS")->Ions(), ::testing::ElementsAre(Ion::kMg));
  EXPECT_THAT(FindElectrode("PHBQS")->Ions(), ::testing::ElementsAre(Ion::kMg));
  EXPECT_THAT(FindElectrode("Mg")->Ions(), ::testing::ElementsAre(Ion::kMg));
  EXPECT_TRUE(FindElectrode("activated-carbon")->UsedWith(Ion::kK));
  EXPECT_FALSE(FindElectrode("graphite")->UsedWith(Ion::kNa));
  // Every electrode is used with at least one ion and has a description.
  for (const auto& e : instruments::AllElectrodes()) {
    EXPECT_FALSE(e.Ions().empty()) << e.name;
    EXPECT_FALSE(e.description.empty()) << e.name;
  }
}

JobSpec ValidTraining() {
  JobSpec spec;
  v1::TrainingJob* t = spec.mutable_training();
  t->set_kind(v1::MODEL_KIND_LIFETIME);
  t->set_model_name("na-life.v2");
  t->mutable_data()->set_folder("virtual:100");
  t->mutable_options()->set_ensemble_members(5);
  t->mutable_options()->add_hidden_units(64);
  t->mutable_options()->set_base_model("li-life@3");
  return spec;
}

TEST(JobValidationTest, TrainingJobs) {
  EXPECT_TRUE(ValidateJobSpec(ValidTraining()).ok()) << ValidateJobSpec(ValidTraining());
  EXPECT_EQ(KindOf(ValidTraining()), v1::JOB_KIND_TRAINING);
  EXPECT_TRUE(RunsInOrchestrator(v1::JOB_KIND_TRAINING));
  EXPECT_FALSE(RunsInOrchestrator(v1::JOB_KIND_CYCLING));

  struct Case {
    std::function<void(v1::TrainingJob&)> mutate;
    std::string field;
    std::string value;
  };
  const std::vector<Case> cases = {
      {[](v1::TrainingJob& t) { t.set_kind(v1::MODEL_KIND_UNSPECIFIED); }, "spec.training.kind", ""},
      {[](v1::TrainingJob& t) { t.set_model_name("Upper"); }, "spec.training.model_name", "Upper"},
      {[](v1::TrainingJob& t) { t.set_model_name("a@2"); }, "spec.training.model_name", "a@2"},
      {[](v1::TrainingJob& t) { t.clear_data(); }, "spec.training.data.source", ""},
      {[](v1::TrainingJob& t) { t.mutable_data()->set_folder(""); }, "spec.training.data.folder", ""},
      {[](v1::TrainingJob& t) { t.mutable_options()->set_ensemble_members(33); },
       "spec.training.options.ensemble_members", "33"},
      {[](v1::TrainingJob& t) { t.mutable_options()->set_hidden_units(0, 0); },
       "spec.training.options.hidden_units[0]", "0"},
      {[](v1::TrainingJob& t) { t.mutable_options()->set_learning_rate(2); },
       "spec.training.options.learning_rate", "2"},
      {[](v1::TrainingJob& t) { t.mutable_options()->set_validation_fraction(0.9); },
       "spec.training.options.validation_fraction", "0.9"},
      {[](v1::TrainingJob& t) { t.mutable_options()->set_embedding("umap"); },
       "spec.training.options.embedding", "umap"},
      {[](v1::TrainingJob& t) { t.mutable_options()->set_base_model("li-life@"); },
       "spec.training.options.base_model", "li-life@"},
      {[](v1::TrainingJob& t) {
         (*t.mutable_data()->mutable_store()->mutable_labels())["Bad Key"] = "x";
       },
       "spec.training.data.store.labels", "Bad Key"},
  };
  for (const Case& c : cases) {
    JobSpec spec = ValidTraining();
    c.mutate(*spec.mutable_training());
    const absl::Status status = ValidateJobSpec(spec);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.field)) << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.value)) << status;
  }
}

TEST(ModelRefTest, ParsesNamesAndVersions) {
  auto latest = ParseModelRef("na-life", "model");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->name, "na-life");
  EXPECT_EQ(latest->version, 0u);
  auto third = ParseModelRef("a.b_c@3", "model");
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->version, 3u);
  EXPECT_EQ(ModelRefText("a", 3), "a@3");
  for (const char* bad : {"", "A", "a@", "a@0", "a@x", "a b", "@3", "a@3@4"}) {
    const absl::Status s = ParseModelRef(bad, "options.base_model").status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(s.message()), HasSubstr("options.base_model")) << bad;
  }
}

}  // namespace
}  // namespace ionloop::orchestrator
