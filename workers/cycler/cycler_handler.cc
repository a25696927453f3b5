#include "instruments/cycler_files/proto/cycler_file_measurements.h"
#include "workers/cycler/cycler_handler.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "instruments/cycler/virtual_cell.h"
#include "instruments/cycler_files/cycler_file.h"
#include "instruments/cycler/proto/cycler_proto.h"

namespace ionloop::worker::cycler {
namespace {

namespace cyc = instruments::cycler;
namespace files = instruments::cycler_files;
using cyc::CellConfigFromProto;
using cyc::CycleRecordToProto;
using cyc::EolSohPercent;
using cyc::VoltageCurveToProto;

constexpr char kCheckpointMagic[] = "ionloop-cycler-checkpoint 1";
constexpr size_t kSummaryWindow = 5;

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// One cycle as a source produces it.
struct CycleOutput {
  v1::CycleRecord record;
  std::optional<v1::VoltageCurve> curve;
  double soh_percent = 100;  // for progress
  bool eol = false;          // end of life reached with this cycle
};

class CycleSource {
 public:
  virtual ~CycleSource() = default;
  // The next cycle; nullopt at the end of the test (a file's end).
  virtual absl::StatusOr<std::optional<CycleOutput>> Next() = 0;
};

class VirtualSource final : public CycleSource {
 public:
  VirtualSource(cyc::VirtualCell cell, std::set<uint32_t> curve_cycles)
      : cell_(std::move(cell)), curve_cycles_(std::move(curve_cycles)) {}

  absl::StatusOr<std::optional<CycleOutput>> Next() override {
    const cyc::CycleRecord r = cell_.RunCycle();
    CycleOutput out;
    out.record = CycleRecordToProto(r);
    if (curve_cycles_.count(r.cycle_index) > 0) {
      out.curve = VoltageCurveToProto(cell_.DischargeCurve());
    }
    out.soh_percent = cell_.state().soh * 100;
    out.eol = cell_.ReachedEol();
    return std::optional<CycleOutput>(std::move(out));
  }

 private:
  cyc::VirtualCell cell_;
  std::set<uint32_t> curve_cycles_;
};

class ReplaySource final : public CycleSource {
 public:
  ReplaySource(files::CyclerFile file, std::set<uint32_t> curve_cycles, double nominal_ah,
               double eol_percent)
      : file_(std::move(file)),
        curve_cycles_(std::move(curve_cycles)),
        nominal_ah_(nominal_ah),
        eol_percent_(eol_percent) {}

  absl::StatusOr<std::optional<CycleOutput>> Next() override {
    // Rows before the first cycle (an Arbin Cycle_Index 0) are no cycle.
    while (next_ < file_.cycles.size() && file_.cycles[next_].cycle_index < 1) ++next_;
    if (next_ >= file_.cycles.size()) return std::optional<CycleOutput>();
    const files::CycleSummary& s = file_.cycles[next_++];
    CycleOutput out;
    out.record = files::ToCycleRecord(s);
    if (curve_cycles_.count(out.record.cycle_index()) > 0) {
      const int64_t index = s.cycle_index;
      std::vector<files::VoltageCurve> curves =
          files::ExtractCurves(file_, /*is_charge=*/false, absl::MakeConstSpan(&index, 1));
      if (!curves.empty() && !curves.front().voltage_v.empty()) {
        out.curve = files::ToVoltageCurve(curves.front());
      }
    }
    if (s.discharge_capacity_ah > 0 && nominal_ah_ > 0) {
      out.soh_percent = s.discharge_capacity_ah / nominal_ah_ * 100;
      out.eol = out.soh_percent <= eol_percent_;
    } else {
      out.soh_percent = last_soh_percent_;
    }
    last_soh_percent_ = out.soh_percent;
    return std::optional<CycleOutput>(std::move(out));
  }

 private:
  files::CyclerFile file_;
  std::set<uint32_t> curve_cycles_;
  double nominal_ah_;
  double eol_percent_;
  size_t next_ = 0;
  double last_soh_percent_ = 100;
};

// What every attempt of one worker shares.
struct Shared {
  CyclerOptions options;
  std::optional<instruments::ElectrodeTable> table;  // virtual
  std::atomic<uint64_t> next_file{0};                // replay round-robin
};

class CyclerHandler final : public JobHandler {
 public:
  explicit CyclerHandler(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}
  JobResultReport Run(JobContext& ctx) override;

 private:
  absl::StatusOr<std::unique_ptr<CycleSource>> MakeSource(const v1::CyclingJob& job,
                                                          const CyclerCheckpoint& cp) const;
  std::shared_ptr<Shared> shared_;
};

absl::StatusOr<std::unique_ptr<CycleSource>> CyclerHandler::MakeSource(
    const v1::CyclingJob& job, const CyclerCheckpoint& cp) const {
  const std::set<uint32_t> curves(job.voltage_curve_cycles().begin(),
                                  job.voltage_curve_cycles().end());
  if (cp.backend == CyclerBackend::kReplay) {
    ASSIGN_OR_RETURN(files::CyclerFile file, files::ReadCyclerFile(cp.replay_file));
    return std::unique_ptr<CycleSource>(std::make_unique<ReplaySource>(
        std::move(file), curves, job.cell().nominal_capacity_ah(), EolSohPercent(job.cell())));
  }
  ASSIGN_OR_RETURN(cyc::CellConfig config, CellConfigFromProto(job.cell()));
  ASSIGN_OR_RETURN(cyc::VirtualCell cell, cyc::VirtualCell::Create(config, *shared_->table, cp.seed));
  return std::unique_ptr<CycleSource>(std::make_unique<VirtualSource>(std::move(cell), curves));
}

JobResultReport CyclerHandler::Run(JobContext& ctx) {
  const CyclerOptions& options = shared_->options;
  if (!ctx.spec().has_cycling()) {
    return JobResultReport::Failed("spec.cycling: not set (this handler runs cycling jobs)");
  }
  const v1::CyclingJob& job = ctx.spec().cycling();
  if (job.max_cycles() == 0) return JobResultReport::Failed("cycling.max_cycles: must be ≥ 1, got 0");

  // Which cell (or file) and where this attempt starts.
  CyclerCheckpoint cp;
  cp.backend = options.backend;
  cp.attempt = ctx.attempt();
  if (!ctx.checkpoint().empty()) {
    absl::StatusOr<CyclerCheckpoint> previous = CyclerCheckpoint::Decode(ctx.checkpoint());
    if (!previous.ok()) return JobResultReport::Failed(std::string(previous.status().message()));
    if (previous->backend != options.backend) {
      return JobResultReport::Failed(absl::StrCat(
          "checkpoint: written by the ", CyclerBackendName(previous->backend),
          " backend, this worker runs the ", CyclerBackendName(options.backend), " backend"));
    }
    cp.seed = previous->seed;
    cp.replay_file = previous->replay_file;
    // Our own checkpoint (resumed after a restart): the attempt still starts where it
    // started; an earlier attempt's: the cell goes on after its last checkpointed cycle.
    cp.start_cycle = previous->attempt == ctx.attempt() ? previous->start_cycle : previous->cycles;
  } else {
    cp.seed = CyclerSeed(options.seed, ctx.job_id(), ctx.attempt());
    if (options.backend == CyclerBackend::kReplay) {
      if (options.replay_files.empty()) return JobResultReport::Failed("replay: no file to play");
      cp.replay_file = options.replay_files[shared_->next_file.fetch_add(1) %
                                            options.replay_files.size()];
    }
  }
  cp.cycles = cp.start_cycle;

  absl::StatusOr<std::unique_ptr<CycleSource>> source = MakeSource(job, cp);
  if (!source.ok()) return JobResultReport::Failed(std::string(source.status().message()));

  const double nominal_ah = job.cell().nominal_capacity_ah();
  const double eol_percent = EolSohPercent(job.cell());
  const double max_cycles = job.max_cycles();
  uint64_t skip = ctx.resume_after_measurement_seq();  // measurements already produced
  bool checkpoint_sent = false;
  double progress = 0;
  double previous_elapsed_s = 0;
  uint32_t last_cycle = cp.start_cycle;
  uint32_t cycles_this_attempt = 0;
  std::optional<uint32_t> eol_cycle;
  std::deque<double> recent_discharge;

  auto summary = [&] {
    std::map<std::string, double> s{{"cycles", last_cycle},
                                    {"cycles_this_attempt", cycles_this_attempt}};
    if (!recent_discharge.empty()) {
      std::vector<double> v(recent_discharge.begin(), recent_discharge.end());
      std::sort(v.begin(), v.end());
      const double median = v.size() % 2 == 1 ? v[v.size() / 2]
                                              : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
      s["final_discharge_capacity_ah"] = median;
      if (nominal_ah > 0) s["final_soh_percent"] = median / nominal_ah * 100;
    }
    if (eol_cycle) s["eol_cycle"] = *eol_cycle;
    return s;
  };

  uint32_t source_cycles = 0;  // cycles the source produced (a file may hold none)
  while (true) {
    if (ctx.cancelled()) return JobResultReport::CancelledBy(ctx, summary());
    absl::StatusOr<std::optional<CycleOutput>> next = (*source)->Next();
    if (!next.ok()) return JobResultReport::Failed(std::string(next.status().message()));
    if (!next->has_value()) break;  // the end of the file
    CycleOutput& out = **next;
    const uint32_t index = out.record.cycle_index();
    ++source_cycles;
    const double cycle_hours = std::max(0.0, out.record.elapsed_s() - previous_elapsed_s) / 3600;
    previous_elapsed_s = out.record.elapsed_s();
    if (out.record.discharge_capacity_ah() > 0) {
      recent_discharge.push_back(out.record.discharge_capacity_ah());
      if (recent_discharge.size() > kSummaryWindow) recent_discharge.pop_front();
    }
    if (index <= cp.start_cycle) {
      // An earlier attempt's cycle: replayed to rebuild the cell, not this attempt's.
      last_cycle = index;
      if (out.eol) eol_cycle = index;
      if (out.eol || index >= max_cycles) break;
      continue;
    }
    std::vector<v1::Measurement> batch;
    batch.emplace_back();
    *batch.back().mutable_cycle() = std::move(out.record);
    if (out.curve) {
      batch.emplace_back();
      *batch.back().mutable_voltage_curve() = std::move(*out.curve);
    }
    const double fade =
        eol_percent < 100 ? (100 - out.soh_percent) / (100 - eol_percent) : 0;
    progress = std::clamp(std::max({progress, index / max_cycles, fade}), 0.0, 1.0);
    last_cycle = index;
    ++cycles_this_attempt;
    if (skip >= batch.size()) {
      skip -= batch.size();  // produced before a restart
    } else {
      if (skip == 0) {
        // The cycle runs while we wait (a resumed half-emitted cycle does not wait).
        const absl::Duration wait = options.time_scale > 0
                                        ? absl::Seconds(cycle_hours * options.time_scale)
                                        : options.cycle_period;
        if (wait > absl::ZeroDuration() && !ctx.SleepFor(wait)) {
          return JobResultReport::CancelledBy(ctx, summary());
        }
      }
      batch.erase(batch.begin(), batch.begin() + static_cast<ptrdiff_t>(skip));
      skip = 0;
      std::string checkpoint;
      if (!checkpoint_sent || (options.checkpoint_every_cycles > 0 &&
                               index % options.checkpoint_every_cycles == 0)) {
        cp.cycles = index;
        checkpoint = cp.Encode();
        checkpoint_sent = true;
      }
      if (absl::Status s = ctx.Emit(std::move(batch), progress, std::move(checkpoint)); !s.ok()) {
        return JobResultReport::Failed(std::string(s.message()));
      }
    }
    if (out.eol) eol_cycle = index;
    if (out.eol || index >= max_cycles) break;
  }
  if (source_cycles == 0) {
    return JobResultReport::Failed(
        absl::StrCat("replay: ", cp.replay_file, " holds no cycle (only rows before cycle 1)"));
  }
  return JobResultReport::Succeeded(summary());
}

}  // namespace

absl::string_view CyclerBackendName(CyclerBackend backend) {
  return backend == CyclerBackend::kReplay ? "replay" : "virtual";
}

uint64_t CyclerSeed(uint64_t base, absl::string_view job_id, uint32_t attempt) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a
  for (const char c : job_id) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return SplitMix64(SplitMix64(h ^ SplitMix64(base)) + attempt);
}

std::string CyclerCheckpoint::Encode() const {
  std::string out = absl::StrCat(kCheckpointMagic, "\nbackend=", CyclerBackendName(backend),
                                 "\nseed=", seed, "\nattempt=", attempt,
                                 "\nstart_cycle=", start_cycle, "\ncycles=", cycles, "\n");
  if (!replay_file.empty()) absl::StrAppend(&out, "replay_file=", replay_file, "\n");
  return out;
}

absl::StatusOr<CyclerCheckpoint> CyclerCheckpoint::Decode(absl::string_view text) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  if (lines.empty() || lines.front() != kCheckpointMagic) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint: line 1: expected \"", kCheckpointMagic, "\""));
  }
  CyclerCheckpoint cp;
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t eq = lines[i].find('=');
    const absl::string_view key = lines[i].substr(0, eq);
    const absl::string_view value =
        eq == absl::string_view::npos ? absl::string_view() : lines[i].substr(eq + 1);
    bool ok = eq != absl::string_view::npos;
    if (!ok) {
    } else if (key == "backend") {
      ok = value == "virtual" || value == "replay";
      cp.backend = value == "replay" ? CyclerBackend::kReplay : CyclerBackend::kVirtual;
    } else if (key == "seed") {
      ok = absl::SimpleAtoi(value, &cp.seed);
    } else if (key == "attempt") {
      ok = absl::SimpleAtoi(value, &cp.attempt);
    } else if (key == "start_cycle") {
      ok = absl::SimpleAtoi(value, &cp.start_cycle);
    } else if (key == "cycles") {
      ok = absl::SimpleAtoi(value, &cp.cycles);
    } else if (key == "replay_file") {
      cp.replay_file = std::string(value);
    }  // unknown keys: written by a newer worker, ignored
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint: line ", i + 1, ": bad entry \"", lines[i], "\""));
    }
  }
  if (cp.backend == CyclerBackend::kReplay && cp.replay_file.empty()) {
    return absl::InvalidArgumentError("checkpoint: replay_file missing for the replay backend");
  }
  return cp;
}

absl::StatusOr<std::vector<std::string>> ListReplayFiles(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) {
    if (!std::filesystem::is_regular_file(path, ec)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--replay-file: '", path, "' is neither a file nor a directory"));
    }
    return std::vector<std::string>{path};
  }
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string head(65536, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(in.gcount()));
    switch (files::DetectFormat(head, entry.path().filename().string())) {
      case files::CyclerFormat::kArbinCsv:
      case files::CyclerFormat::kMaccorText:
      case files::CyclerFormat::kNovonixCsv:
      case files::CyclerFormat::kBiologicText:
      case files::CyclerFormat::kBiologicMpr:
      case files::CyclerFormat::kNewareCsv:
      case files::CyclerFormat::kNewareNdax:
        out.push_back(entry.path().string());
        break;
      default:
        break;
    }
  }
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("--replay-file: cannot list '", path, "': ", ec.message()));
  }
  if (out.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--replay-file: no readable cycler file in '", path, "'"));
  }
  std::sort(out.begin(), out.end());
  return out;
}

HandlerRegistry::Factory MakeCyclerHandlerFactory(CyclerOptions options,
                                                  instruments::ElectrodeTable table) {
  auto shared = std::make_shared<Shared>();
  shared->options = std::move(options);
  shared->table = std::move(table);
  return [shared] { return std::make_unique<CyclerHandler>(shared); };
}

absl::StatusOr<HandlerRegistry::Factory> MakeCyclerHandlerFactory(CyclerOptions options) {
  auto shared = std::make_shared<Shared>();
  if (options.backend == CyclerBackend::kVirtual) {
    ASSIGN_OR_RETURN(shared->table, instruments::LoadDefaultElectrodeTable());
  } else if (options.replay_files.empty()) {
    return absl::InvalidArgumentError("--replay-file: required with --backend replay");
  }
  shared->options = std::move(options);
  return HandlerRegistry::Factory([shared] { return std::make_unique<CyclerHandler>(shared); });
}

}  // namespace ionloop::worker::cycler
