// The cycler worker's handler against a fake JobContext: the proto ↔ struct adapter, runs
// to EOL / max_cycles, early stop and cancel, voltage curves, resume after a restart
// (identical records, no duplicate), the checkpoint format, capabilities from flags, and
// the replay of a real cycler file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "google/protobuf/util/message_differencer.h"
#include "instruments/cycler_files/cycler_file.h"
#include "instruments/electrode_table.h"
#include "instruments/cycler_files/proto/cycler_file_measurements.h"
#include "instruments/cycler/proto/cycler_proto.h"
#include "workers/cycler/cycler_config.h"
#include "workers/cycler/cycler_handler.h"

#ifndef IONLOOP_SHARED_DATA_DIR
#define IONLOOP_SHARED_DATA_DIR ""
#endif

namespace ionloop::worker::cycler {
namespace {

using instruments::cycler::CellConfigFromProto;
using instruments::cycler::CellConfigToProto;
using instruments::cycler::DesignFromProto;
using instruments::cycler::DesignToProto;
using instruments::cycler::IonFromProto;
using instruments::cycler::IonToProto;

using ::testing::HasSubstr;

// Records what the handler emits; cancels itself after `cancel_after_cycles` CycleRecords.
class FakeContext final : public JobContext {
 public:
  explicit FakeContext(v1::CyclingJob job, uint64_t resume_after = 0, std::string checkpoint = "",
                       uint32_t attempt = 1)
      : checkpoint_(std::move(checkpoint)), resume_after_(resume_after), attempt_(attempt) {
    *spec_.mutable_cycling() = std::move(job);
  }
  const v1::JobSpec& spec() const override { return spec_; }
  v1::JobSpec* mutable_spec() { return &spec_; }
  const std::string& job_id() const override { return job_id_; }
  uint32_t attempt() const override { return attempt_; }
  const std::string& checkpoint() const override { return checkpoint_; }
  uint64_t resume_after_measurement_seq() const override { return resume_after_; }
  absl::Status Emit(std::vector<v1::Measurement> ms, double progress,
                    std::string checkpoint) override {
    for (auto& m : ms) {
      m.set_seq(resume_after_ + emitted.size() + 1);  // what the runtime does
      if (m.has_cycle()) ++cycles_seen_;
      emitted.push_back(std::move(m));
    }
    progresses.push_back(progress);
    if (!checkpoint.empty()) checkpoints[emitted.empty() ? resume_after_ : emitted.back().seq()] = checkpoint;
    if (cancel_after_cycles > 0 && cycles_seen_ >= cancel_after_cycles) {
      cancelled_ = true;
      reason_ = cancel_reason_to_use;
    }
    return absl::OkStatus();
  }
  absl::Status Flush() override { return absl::OkStatus(); }
  bool cancelled() const override { return cancelled_; }
  std::string cancel_reason() const override { return reason_; }
  bool SleepFor(absl::Duration d) override {
    slept += d;
    ++sleeps;
    return !cancelled_;
  }

  std::vector<v1::Measurement> emitted;
  std::vector<double> progresses;
  std::map<uint64_t, std::string> checkpoints;  // seq of the last measurement with it → checkpoint
  absl::Duration slept;
  int sleeps = 0;
  size_t cancel_after_cycles = 0;
  std::string cancel_reason_to_use = "user";

  std::vector<v1::CycleRecord> Cycles() const {
    std::vector<v1::CycleRecord> out;
    for (const auto& m : emitted) {
      if (m.has_cycle()) out.push_back(m.cycle());
    }
    return out;
  }
  std::vector<v1::VoltageCurve> Curves() const {
    std::vector<v1::VoltageCurve> out;
    for (const auto& m : emitted) {
      if (m.has_voltage_curve()) out.push_back(m.voltage_curve());
    }
    return out;
  }

 private:
  v1::JobSpec spec_;
  std::string job_id_ = "01JCYCLERTESTJOB000000000";
  std::string checkpoint_;
  uint64_t resume_after_;
  uint32_t attempt_;
  size_t cycles_seen_ = 0;
  bool cancelled_ = false;
  std::string reason_;
};

const instruments::ElectrodeTable& Table() {
  static const instruments::ElectrodeTable* table = [] {
    absl::StatusOr<instruments::ElectrodeTable> t = instruments::LoadDefaultElectrodeTable();
    EXPECT_TRUE(t.ok()) << t.status();
    return new instruments::ElectrodeTable(t.ok() ? *std::move(t) : instruments::ElectrodeTable());
  }();
  return *table;
}

// The example job's Na-ion coin cell (examples/jobs/cycling.json).
v1::CyclingJob NaCoin(uint32_t max_cycles, double eol = 80) {
  v1::CyclingJob job;
  v1::CellSpec* cell = job.mutable_cell();
  cell->set_ion(v1::ION_NA);
  cell->set_positive_electrode("NVPF");
  cell->set_negative_electrode("hard-carbon");
  cell->set_electrolyte("1 M NaPF6 in EC/EMC 3:7");
  cell->set_design(v1::CELL_DESIGN_COIN);
  cell->set_nominal_capacity_ah(0.0015);
  v1::CyclingProtocol* p = cell->mutable_protocol();
  p->set_charge_c_rate(1);
  p->set_discharge_c_rate(1);
  p->set_voltage_min_v(2.0);
  p->set_voltage_max_v(4.25);
  p->set_temperature_c(25);
  p->set_rest_minutes(10);
  cell->set_eol_soh_percent(eol);
  job.set_max_cycles(max_cycles);
  return job;
}

// A hot, fast-charged NMC811/graphite pouch: reaches a 95 % EOL within a few hundred cycles.
v1::CyclingJob HotNmc811(uint32_t max_cycles) {
  v1::CyclingJob job;
  v1::CellSpec* cell = job.mutable_cell();
  cell->set_ion(v1::ION_LI);
  cell->set_positive_electrode("NMC811");
  cell->set_negative_electrode("graphite");
  cell->set_design(v1::CELL_DESIGN_POUCH);
  cell->set_nominal_capacity_ah(2.0);
  v1::CyclingProtocol* p = cell->mutable_protocol();
  p->set_charge_c_rate(3);
  p->set_discharge_c_rate(1);
  p->set_voltage_min_v(2.8);
  p->set_voltage_max_v(4.2);
  p->set_temperature_c(45);
  cell->set_eol_soh_percent(95);
  job.set_max_cycles(max_cycles);
  return job;
}

JobResultReport RunJob(FakeContext& ctx, CyclerOptions options = {}) {
  std::unique_ptr<JobHandler> handler = MakeCyclerHandlerFactory(std::move(options), Table())();
  return handler->Run(ctx);
}

CyclerOptions Fast() {
  CyclerOptions o;
  o.cycle_period = absl::ZeroDuration();
  return o;
}

bool Same(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

// ---- the adapter --------------------------------------------------------------------

TEST(CyclerAdapter, CellSpecBecomesTheModelsConfig) {
  v1::CellSpec cell = NaCoin(10).cell();
  cell.set_eol_soh_percent(0);  // the default
  cell.mutable_protocol()->add_charge_steps()->set_c_rate(4);
  cell.mutable_protocol()->mutable_charge_steps(0)->set_until_soc_percent(40);
  cell.mutable_protocol()->add_charge_steps()->set_c_rate(1);
  cell.mutable_protocol()->mutable_charge_steps(1)->set_until_soc_percent(100);
  absl::StatusOr<instruments::cycler::CellConfig> c = CellConfigFromProto(cell);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->ion, instruments::Ion::kNa);
  EXPECT_EQ(c->positive_electrode, "NVPF");
  EXPECT_EQ(c->negative_electrode, "hard-carbon");
  EXPECT_EQ(c->electrolyte, "1 M NaPF6 in EC/EMC 3:7");
  EXPECT_EQ(c->design, instruments::cycler::CellDesign::kCoin);
  EXPECT_DOUBLE_EQ(c->nominal_capacity_ah, 0.0015);
  EXPECT_DOUBLE_EQ(c->eol_soh_percent, 80);
  ASSERT_EQ(c->protocol.charge_steps.size(), 2u);
  EXPECT_DOUBLE_EQ(c->protocol.charge_steps[0].c_rate, 4);
  EXPECT_DOUBLE_EQ(c->protocol.charge_steps[0].until_soc_percent, 40);
  EXPECT_DOUBLE_EQ(c->protocol.charge_steps[1].until_soc_percent, 100);
  EXPECT_DOUBLE_EQ(c->protocol.discharge_c_rate, 1);
  EXPECT_DOUBLE_EQ(c->protocol.voltage_min_v, 2.0);
  EXPECT_DOUBLE_EQ(c->protocol.voltage_max_v, 4.25);
  EXPECT_DOUBLE_EQ(c->protocol.temperature_c, 25);
  EXPECT_DOUBLE_EQ(c->protocol.rest_minutes, 10);

  cell.set_eol_soh_percent(70);
  EXPECT_DOUBLE_EQ(CellConfigFromProto(cell)->eol_soh_percent, 70);
  // And back: the spec round-trips through the config.
  EXPECT_TRUE(Same(CellConfigToProto(*CellConfigFromProto(cell)), cell));
  for (v1::Ion ion : {v1::ION_LI, v1::ION_NA, v1::ION_K, v1::ION_MG}) {
    EXPECT_EQ(IonToProto(*IonFromProto(ion)), ion);
  }
  for (int d = 1; d <= 6; ++d) {
    const auto design = static_cast<v1::CellDesign>(d);
    EXPECT_EQ(DesignToProto(*DesignFromProto(design)), design);
  }
  cell.set_design(v1::CELL_DESIGN_UNSPECIFIED);
  EXPECT_THAT(std::string(CellConfigFromProto(cell).status().message()), HasSubstr("cell.design"));
  cell.set_ion(v1::ION_UNSPECIFIED);
  EXPECT_THAT(std::string(CellConfigFromProto(cell).status().message()), HasSubstr("cell.ion"));
}

TEST(CyclerAdapter, RecordsAndCurvesCopyFieldByField) {
  instruments::cycler::CycleRecord r;
  r.cycle_index = 7;
  r.charge_capacity_ah = 1.01;
  r.discharge_capacity_ah = 1.0;
  r.charge_energy_wh = 3.4;
  r.discharge_energy_wh = 3.2;
  r.coulombic_efficiency = 0.99;
  r.mean_charge_voltage_v = 3.4;
  r.mean_discharge_voltage_v = 3.2;
  r.internal_resistance_ohm = 0.02;
  r.temperature_c = 31;
  r.elapsed_s = 3600;
  r.true_discharge_capacity_ah = 1.05;
  const v1::CycleRecord p = CycleRecordToProto(r);
  EXPECT_EQ(p.cycle_index(), 7u);
  EXPECT_DOUBLE_EQ(p.charge_capacity_ah(), 1.01);
  EXPECT_DOUBLE_EQ(p.discharge_capacity_ah(), 1.0);  // measured, not the truth
  EXPECT_DOUBLE_EQ(p.charge_energy_wh(), 3.4);
  EXPECT_DOUBLE_EQ(p.discharge_energy_wh(), 3.2);
  EXPECT_DOUBLE_EQ(p.coulombic_efficiency(), 0.99);
  EXPECT_DOUBLE_EQ(p.mean_charge_voltage_v(), 3.4);
  EXPECT_DOUBLE_EQ(p.mean_discharge_voltage_v(), 3.2);
  EXPECT_DOUBLE_EQ(p.internal_resistance_ohm(), 0.02);
  EXPECT_DOUBLE_EQ(p.temperature_c(), 31);
  EXPECT_DOUBLE_EQ(p.elapsed_s(), 3600);

  instruments::cycler::VoltageCurve c{10, false, {0, 0.5, 1.0}, {3.4, 3.3, 2.5}};
  const v1::VoltageCurve pc = VoltageCurveToProto(c);
  EXPECT_EQ(pc.cycle_index(), 10u);
  EXPECT_FALSE(pc.is_charge());
  EXPECT_THAT(pc.capacity_ah(), ::testing::ElementsAre(0, 0.5, 1.0));
  EXPECT_THAT(pc.voltage_v(), ::testing::ElementsAre(3.4, 3.3, 2.5));

  instruments::cycler_files::CycleSummary s;
  s.cycle_index = 3;
  s.charge_capacity_ah = 2;
  s.discharge_capacity_ah = 1.9;
  s.mean_discharge_voltage_v = 3.6;
  s.elapsed_s = 99;
  const v1::CycleRecord ps = instruments::cycler_files::ToCycleRecord(s);
  EXPECT_EQ(ps.cycle_index(), 3u);
  EXPECT_DOUBLE_EQ(ps.discharge_capacity_ah(), 1.9);
  EXPECT_DOUBLE_EQ(ps.mean_discharge_voltage_v(), 3.6);
  EXPECT_DOUBLE_EQ(ps.mean_charge_voltage_v(), 0);  // absent in the file
  EXPECT_DOUBLE_EQ(ps.elapsed_s(), 99);
}

// ---- the virtual backend ------------------------------------------------------------

TEST(CyclerHandler, RunsToEndOfLife) {
  FakeContext ctx(HotNmc811(100000));
  const JobResultReport r = RunJob(ctx, Fast());
  ASSERT_EQ(r.outcome, v1::JOB_OUTCOME_SUCCEEDED) << r.message;
  EXPECT_FALSE(r.stopped_early);
  const std::vector<v1::CycleRecord> cycles = ctx.Cycles();
  ASSERT_GT(cycles.size(), 10u);
  ASSERT_LT(cycles.size(), 100000u);
  for (size_t i = 0; i < cycles.size(); ++i) {
    ASSERT_EQ(cycles[i].cycle_index(), i + 1);
    ASSERT_EQ(ctx.emitted[i].seq(), i + 1);
  }
  ASSERT_TRUE(r.summary.count("eol_cycle"));
  EXPECT_EQ(r.summary.at("eol_cycle"), cycles.size());
  EXPECT_EQ(r.summary.at("cycles"), cycles.size());
  EXPECT_LT(r.summary.at("final_soh_percent"), 97);
  EXPECT_GT(cycles.front().discharge_capacity_ah(), cycles.back().discharge_capacity_ah());
  // Progress rises to 1 (SOH-based: the EOL criterion is met), never falls.
  EXPECT_DOUBLE_EQ(ctx.progresses.back(), 1.0);
  for (size_t i = 1; i < ctx.progresses.size(); ++i) {
    ASSERT_GE(ctx.progresses[i], ctx.progresses[i - 1]);
  }
}

TEST(CyclerHandler, StopsAtMaxCyclesWithPacing) {
  FakeContext ctx(NaCoin(40));
  CyclerOptions o;
  o.cycle_period = absl::Milliseconds(3);
  const JobResultReport r = RunJob(ctx, o);
  ASSERT_EQ(r.outcome, v1::JOB_OUTCOME_SUCCEEDED) << r.message;
  ASSERT_EQ(ctx.Cycles().size(), 40u);
  EXPECT_EQ(ctx.Cycles().back().cycle_index(), 40u);
  EXPECT_EQ(r.summary.at("cycles"), 40);
  EXPECT_EQ(r.summary.count("eol_cycle"), 0u);
  EXPECT_GT(r.summary.at("final_soh_percent"), 80);
  EXPECT_EQ(ctx.sleeps, 40);  // one wait per cycle, through ctx.SleepFor
  EXPECT_EQ(ctx.slept, absl::Milliseconds(3 * 40));
  EXPECT_DOUBLE_EQ(ctx.progresses.back(), 1.0);
  EXPECT_DOUBLE_EQ(ctx.progresses.front(), 1.0 / 40);
}

TEST(CyclerHandler, TimeScalePacesBySimulatedHours) {
  FakeContext ctx(NaCoin(3));
  CyclerOptions o;
  o.time_scale = 0.001;  // 1 ms of wall time per simulated hour
  ASSERT_EQ(RunJob(ctx, o).outcome, v1::JOB_OUTCOME_SUCCEEDED);
  // 1C charge + 1C discharge + two 10-minute rests: a bit over 2 h per cycle.
  const double hours = ctx.Cycles().back().elapsed_s() / 3600;
  EXPECT_GT(hours, 3 * 1.5);
  EXPECT_NEAR(absl::ToDoubleMilliseconds(ctx.slept), hours * 1.0, 1e-3);
}

TEST(CyclerHandler, EarlyStopEndsSucceededWithStoppedEarly) {
  FakeContext ctx(NaCoin(1000));
  ctx.cancel_after_cycles = 25;
  ctx.cancel_reason_to_use = kCancelEarlyStop;
  const JobResultReport r = RunJob(ctx, Fast());
  EXPECT_EQ(r.outcome, v1::JOB_OUTCOME_SUCCEEDED);
  EXPECT_TRUE(r.stopped_early);
  EXPECT_EQ(ctx.Cycles().size(), 25u);
  EXPECT_EQ(r.summary.at("cycles"), 25);
}

TEST(CyclerHandler, UserCancelEndsCancelledAndIsNoticedDuringTheWait) {
  FakeContext ctx(NaCoin(1000));
  ctx.cancel_after_cycles = 5;
  const JobResultReport r = RunJob(ctx, CyclerOptions{});  // paced: the wait sees the cancel
  EXPECT_EQ(r.outcome, v1::JOB_OUTCOME_CANCELLED);
  EXPECT_FALSE(r.stopped_early);
  EXPECT_THAT(r.message, HasSubstr("user"));
  EXPECT_EQ(ctx.Cycles().size(), 5u);
}

TEST(CyclerHandler, EmitsDischargeCurvesForTheRequestedCycles) {
  v1::CyclingJob job = NaCoin(30);
  job.add_voltage_curve_cycles(10);
  job.add_voltage_curve_cycles(1);
  job.add_voltage_curve_cycles(30);
  FakeContext ctx(job);
  ASSERT_EQ(RunJob(ctx, Fast()).outcome, v1::JOB_OUTCOME_SUCCEEDED);
  const std::vector<v1::VoltageCurve> curves = ctx.Curves();
  ASSERT_EQ(curves.size(), 3u);
  EXPECT_EQ(ctx.emitted.size(), 33u);
  uint32_t expected[] = {1, 10, 30};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(curves[i].cycle_index(), expected[i]);
    EXPECT_FALSE(curves[i].is_charge());
    ASSERT_GT(curves[i].voltage_v_size(), 2);
    EXPECT_EQ(curves[i].voltage_v_size(), curves[i].capacity_ah_size());
    EXPECT_GT(curves[i].voltage_v(0), curves[i].voltage_v(curves[i].voltage_v_size() - 1));
  }
  // Each curve follows its cycle's record.
  for (size_t i = 0; i < ctx.emitted.size(); ++i) {
    if (ctx.emitted[i].has_voltage_curve()) {
      ASSERT_GT(i, 0u);
      EXPECT_EQ(ctx.emitted[i - 1].cycle().cycle_index(),
                ctx.emitted[i].voltage_curve().cycle_index());
    }
  }
}

TEST(CyclerHandler, SeedsComeFromTheJobIdAndAttemptOrTheSeedFlag) {
  EXPECT_EQ(CyclerSeed(0, "job-a", 1), CyclerSeed(0, "job-a", 1));
  EXPECT_NE(CyclerSeed(0, "job-a", 1), CyclerSeed(0, "job-b", 1));
  EXPECT_NE(CyclerSeed(0, "job-a", 1), CyclerSeed(0, "job-a", 2));
  EXPECT_NE(CyclerSeed(0, "job-a", 1), CyclerSeed(7, "job-a", 1));
  // The same job and options reproduce the same records; another --seed gives another cell.
  FakeContext a(NaCoin(20)), b(NaCoin(20)), c(NaCoin(20));
  CyclerOptions other = Fast();
  other.seed = 42;
  RunJob(a, Fast());
  RunJob(b, Fast());
  RunJob(c, other);
  ASSERT_EQ(a.emitted.size(), 20u);
  for (size_t i = 0; i < a.emitted.size(); ++i) EXPECT_TRUE(Same(a.emitted[i], b.emitted[i])) << i;
  EXPECT_NE(a.emitted[0].cycle().discharge_capacity_ah(), c.emitted[0].cycle().discharge_capacity_ah());
}

TEST(CyclerHandler, CheckpointRoundTripsAndRefusesGarbage) {
  CyclerCheckpoint cp;
  cp.backend = CyclerBackend::kReplay;
  cp.seed = 18446744073709551615ull;
  cp.replay_file = "/data/cell 1.csv";
  cp.attempt = 3;
  cp.start_cycle = 17;
  cp.cycles = 250;
  absl::StatusOr<CyclerCheckpoint> back = CyclerCheckpoint::Decode(cp.Encode());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->backend, CyclerBackend::kReplay);
  EXPECT_EQ(back->seed, cp.seed);
  EXPECT_EQ(back->replay_file, cp.replay_file);
  EXPECT_EQ(back->attempt, 3u);
  EXPECT_EQ(back->start_cycle, 17u);
  EXPECT_EQ(back->cycles, 250u);
  EXPECT_FALSE(CyclerCheckpoint::Decode("hello").ok());
  EXPECT_FALSE(CyclerCheckpoint::Decode("ionloop-cycler-checkpoint 1\nseed=x\n").ok());
  // A broken checkpoint fails the attempt with a message (no silent restart).
  FakeContext ctx(NaCoin(10), 0, "not a checkpoint");
  const JobResultReport r = RunJob(ctx, Fast());
  EXPECT_EQ(r.outcome, v1::JOB_OUTCOME_FAILED);
  EXPECT_THAT(r.message, HasSubstr("checkpoint"));
}

// The last checkpoint emitted with measurements up to `seq`, as the runtime keeps it.
std::string CheckpointAt(const FakeContext& run, uint64_t seq) {
  std::string last;
  for (const auto& [at, cp] : run.checkpoints) {
    if (at <= seq) last = cp;
  }
  return last;
}

TEST(CyclerHandler, AResumedRunYieldsTheSameRecordsWithNoDuplicate) {
  v1::CyclingJob job = NaCoin(260);
  job.add_voltage_curve_cycles(10);
  job.add_voltage_curve_cycles(100);
  job.add_voltage_curve_cycles(150);
  FakeContext whole(job);
  ASSERT_EQ(RunJob(whole, Fast()).outcome, v1::JOB_OUTCOME_SUCCEEDED);
  ASSERT_EQ(whole.emitted.size(), 263u);
  ASSERT_FALSE(whole.checkpoints.empty());
  EXPECT_EQ(whole.checkpoints.begin()->first, 1u);  // with the first batch
  // Restarts at: after cycle 1, in the middle of cycle 10 (record spooled, curve not),
  // after cycle 10's curve, past a periodic checkpoint, just before the end, at the end.
  for (uint64_t after : {1, 10, 11, 105, 153, 262, 263}) {
    SCOPED_TRACE(after);
    const std::string cp = CheckpointAt(whole, after);
    ASSERT_FALSE(cp.empty());
    FakeContext resumed(job, after, cp);
    const JobResultReport r = RunJob(resumed, Fast());
    ASSERT_EQ(r.outcome, v1::JOB_OUTCOME_SUCCEEDED) << r.message;
    ASSERT_EQ(resumed.emitted.size(), 263 - after);
    for (size_t i = 0; i < resumed.emitted.size(); ++i) {
      ASSERT_TRUE(Same(resumed.emitted[i], whole.emitted[after + i]))
          << "seq " << after + i + 1 << ":\n"
          << resumed.emitted[i].DebugString() << "\nvs\n"
          << whole.emitted[after + i].DebugString();
    }
    EXPECT_EQ(r.summary.at("cycles"), 260);
  }
}

TEST(CyclerHandler, AnEarlierAttemptsCheckpointContinuesTheSameCell) {
  FakeContext first(NaCoin(300));
  ASSERT_EQ(RunJob(first, Fast()).outcome, v1::JOB_OUTCOME_SUCCEEDED);
  const std::string cp = CheckpointAt(first, 200);  // written at cycle 200
  FakeContext second(NaCoin(300), 0, cp, /*attempt=*/2);
  ASSERT_EQ(RunJob(second, Fast()).outcome, v1::JOB_OUTCOME_SUCCEEDED);
  const std::vector<v1::CycleRecord> a = first.Cycles(), b = second.Cycles();
  ASSERT_EQ(b.size(), 100u);
  EXPECT_EQ(b.front().cycle_index(), 201u);
  EXPECT_EQ(second.emitted.front().seq(), 1u);  // a new attempt numbers from 1
  for (size_t i = 0; i < b.size(); ++i) EXPECT_TRUE(Same(b[i], a[200 + i])) << i;
}

TEST(CyclerHandler, RefusesOtherKindsAndBadCells) {
  FakeContext other_kind(NaCoin(5));
  other_kind.mutable_spec()->mutable_synthetic()->set_measurements(3);
  const JobResultReport wrong = RunJob(other_kind, Fast());
  EXPECT_EQ(wrong.outcome, v1::JOB_OUTCOME_FAILED);
  EXPECT_THAT(wrong.message, HasSubstr("spec.cycling"));
  v1::CyclingJob bad = NaCoin(5);
  bad.mutable_cell()->set_positive_electrode("unobtainium");
  FakeContext bad_ctx(bad);
  const JobResultReport r = RunJob(bad_ctx, Fast());
  EXPECT_EQ(r.outcome, v1::JOB_OUTCOME_FAILED);
  EXPECT_THAT(r.message, HasSubstr("unobtainium"));
  EXPECT_TRUE(bad_ctx.emitted.empty());
}

// ---- flags → capabilities and options -----------------------------------------------

TEST(CyclerConfig, DefaultsAcceptTheExampleJobs) {
  v1::Capabilities caps;
  ASSERT_TRUE(FillCyclerCapabilities(CyclerFlags{}, &caps).ok());
  EXPECT_DOUBLE_EQ(caps.temperature_min_c(), -20);
  EXPECT_DOUBLE_EQ(caps.temperature_max_c(), 60);
  EXPECT_DOUBLE_EQ(caps.voltage_min_v(), 0);
  EXPECT_DOUBLE_EQ(caps.voltage_max_v(), 5);
  EXPECT_DOUBLE_EQ(caps.current_max_a(), 10);
  EXPECT_EQ(caps.ions_size(), 4);
  EXPECT_EQ(caps.cell_designs_size(), 6);
  EXPECT_EQ(caps.cell_designs(5), v1::CELL_DESIGN_THREE_ELECTRODE);
  absl::StatusOr<CyclerOptions> o = CyclerOptionsFromFlags(CyclerFlags{});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->backend, CyclerBackend::kVirtual);
  EXPECT_EQ(o->cycle_period, absl::Milliseconds(5));
}

TEST(CyclerConfig, FlagsAreCheckedAndNamed) {
  CyclerFlags f;
  f.ions = "Li, na";
  f.designs = "coin,Three-Electrode";
  f.temperature_range = "0:45";
  v1::Capabilities caps;
  ASSERT_TRUE(FillCyclerCapabilities(f, &caps).ok());
  EXPECT_THAT(caps.ions(), ::testing::ElementsAre(v1::ION_LI, v1::ION_NA));
  EXPECT_THAT(caps.cell_designs(),
              ::testing::ElementsAre(v1::CELL_DESIGN_COIN, v1::CELL_DESIGN_THREE_ELECTRODE));
  EXPECT_DOUBLE_EQ(caps.temperature_max_c(), 45);
  auto message = [](CyclerFlags bad) {
    v1::Capabilities c;
    absl::Status s = FillCyclerCapabilities(bad, &c);
    if (s.ok()) s = CyclerOptionsFromFlags(bad).status();
    return std::string(s.message());
  };
  CyclerFlags bad;
  bad.ions = "li,xx";
  EXPECT_THAT(message(bad), HasSubstr("--ions"));
  bad = {};
  bad.designs = "brick";
  EXPECT_THAT(message(bad), HasSubstr("--designs"));
  bad = {};
  bad.voltage_range = "5:0";
  EXPECT_THAT(message(bad), HasSubstr("--voltage-range"));
  bad = {};
  bad.temperature_range = "cold";
  EXPECT_THAT(message(bad), HasSubstr("--temperature-range"));
  bad = {};
  bad.backend = "hardware";
  EXPECT_THAT(message(bad), HasSubstr("--backend"));
  bad = {};
  bad.backend = "replay";
  EXPECT_THAT(message(bad), HasSubstr("--replay-file"));
  bad = {};
  bad.seed = "-1";
  EXPECT_THAT(message(bad), HasSubstr("--seed"));
  bad = {};
  bad.cycle_period_ms = -1;
  EXPECT_THAT(message(bad), HasSubstr("--cycle-period-ms"));
}

// ---- the replay backend -------------------------------------------------------------

std::string SharedData() { return IONLOOP_SHARED_DATA_DIR; }

#define SKIP_WITHOUT_FIXTURE(path)                                                          \
  do {                                                                                      \
    std::error_code ec_;                                                                    \
    if (!std::filesystem::is_regular_file(path, ec_)) {                                     \
      GTEST_SKIP() << "fixture '" << path << "' not found (../shared/data/cellpy_fixtures): " \
                   << "skipping the replay test";                                           \
    }                                                                                       \
  } while (false)

// neware_uio.csv: 4 cycles; per-cycle capacities checked by hand in cycler_files_test.cc.
constexpr double kNewareQc[] = {0.00424934, 0.00424668, 0.00783477, 0.00143796};
constexpr double kNewareQd[] = {0.00508628, 0.00436841, 0.00797423, 0.00331516};

CyclerOptions Replay(const std::string& path) {
  CyclerOptions o = Fast();
  o.backend = CyclerBackend::kReplay;
  o.replay_files = {path};
  return o;
}

TEST(CyclerReplay, PlaysTheFilesCyclesAsRecords) {
  const std::string path = SharedData() + "/cellpy_fixtures/neware_uio.csv";
  SKIP_WITHOUT_FIXTURE(path);
  v1::CyclingJob job = NaCoin(100);
  job.mutable_cell()->set_nominal_capacity_ah(0.001);  // never at EOL
  job.add_voltage_curve_cycles(1);
  FakeContext ctx(job);
  CyclerOptions o = Replay(path);
  o.cycle_period = absl::Milliseconds(1);
  const JobResultReport r = RunJob(ctx, o);
  ASSERT_EQ(r.outcome, v1::JOB_OUTCOME_SUCCEEDED) << r.message;
  const std::vector<v1::CycleRecord> cycles = ctx.Cycles();
  ASSERT_EQ(cycles.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(cycles[i].cycle_index(), static_cast<uint32_t>(i + 1));
    EXPECT_NEAR(cycles[i].charge_capacity_ah(), kNewareQc[i], 1e-12) << i;
    EXPECT_NEAR(cycles[i].discharge_capacity_ah(), kNewareQd[i], 1e-12) << i;
  }
  EXPECT_DOUBLE_EQ(cycles[3].elapsed_s(), 144 * 3600 + 2 * 60 + 18);
  ASSERT_EQ(ctx.Curves().size(), 1u);
  EXPECT_NEAR(ctx.Curves()[0].capacity_ah(ctx.Curves()[0].capacity_ah_size() - 1), kNewareQd[0], 1e-12);
  EXPECT_EQ(ctx.sleeps, 4);
  EXPECT_EQ(r.summary.at("cycles"), 4);
  EXPECT_EQ(r.summary.count("eol_cycle"), 0u);
}

TEST(CyclerReplay, StopsAtEolAndMaxCyclesAndResumes) {
  const std::string path = SharedData() + "/cellpy_fixtures/neware_uio.csv";
  SKIP_WITHOUT_FIXTURE(path);
  v1::CyclingJob job = NaCoin(100);
  job.mutable_cell()->set_nominal_capacity_ah(0.006);  // cycle 2: 0.00437 / 0.006 = 73 % ≤ 80 %
  FakeContext eol(job);
  JobResultReport r = RunJob(eol, Replay(path));
  ASSERT_EQ(r.outcome, v1::JOB_OUTCOME_SUCCEEDED) << r.message;
  EXPECT_EQ(eol.Cycles().size(), 2u);
  EXPECT_EQ(r.summary.at("eol_cycle"), 2);

  job.mutable_cell()->set_nominal_capacity_ah(0.001);
  job.set_max_cycles(3);
  FakeContext max(job);
  ASSERT_EQ(RunJob(max, Replay(path)).outcome, v1::JOB_OUTCOME_SUCCEEDED);
  EXPECT_EQ(max.Cycles().size(), 3u);

  // Resumed after cycle 1: the same file (from the checkpoint), cycles 2 and 3.
  FakeContext resumed(job, 1, CheckpointAt(max, 1));
  ASSERT_EQ(RunJob(resumed, Replay("/nonexistent/other-file.csv")).outcome, v1::JOB_OUTCOME_SUCCEEDED);
  ASSERT_EQ(resumed.emitted.size(), 2u);
  EXPECT_TRUE(Same(resumed.emitted[0], max.emitted[1]));
  EXPECT_TRUE(Same(resumed.emitted[1], max.emitted[2]));
}

TEST(CyclerReplay, ADirectoryIsPlayedRoundRobin) {
  const std::string dir = SharedData() + "/cellpy_fixtures";
  SKIP_WITHOUT_FIXTURE(dir + "/neware_uio.csv");
  absl::StatusOr<std::vector<std::string>> files = ListReplayFiles(dir);
  ASSERT_TRUE(files.ok()) << files.status();
  // .res cannot be read: left out; .ndax is read.
  for (const std::string& f : *files) {
    EXPECT_THAT(f, ::testing::Not(HasSubstr(".res")));
  }
  EXPECT_THAT(*files, ::testing::Contains(dir + "/20260302_IFE_BTS85_2_9_8_1.ndax"));
  EXPECT_THAT(*files, ::testing::Contains(dir + "/neware_uio.csv"));
  EXPECT_FALSE(ListReplayFiles("/nonexistent").ok());
  // Two jobs of one worker get two files, each recorded in its checkpoint.
  CyclerOptions o = Fast();
  o.backend = CyclerBackend::kReplay;
  o.replay_files = {dir + "/neware_uio.csv", dir + "/maccor_001.txt"};
  HandlerRegistry::Factory factory = MakeCyclerHandlerFactory(o, instruments::ElectrodeTable());
  v1::CyclingJob job = NaCoin(2);
  job.mutable_cell()->set_nominal_capacity_ah(0.00001);
  FakeContext a(job), b(job);
  ASSERT_EQ(factory()->Run(a).outcome, v1::JOB_OUTCOME_SUCCEEDED);
  ASSERT_EQ(factory()->Run(b).outcome, v1::JOB_OUTCOME_SUCCEEDED);
  EXPECT_THAT(a.checkpoints.begin()->second, HasSubstr("neware_uio.csv"));
  EXPECT_THAT(b.checkpoints.begin()->second, HasSubstr("maccor_001.txt"));
}

}  // namespace
}  // namespace ionloop::worker::cycler
