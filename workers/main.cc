// ionloop-worker: one binary for every kind of worker. It wraps one backend (the
// handler of --kind) in the worker runtime: stream to the orchestrator, spool, acks,
// reconnects, restarts.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/clock.h"
#include "common/flag_table.h"
#include "common/status_macros.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"
#include "workers/cycler/cycler_config.h"
#include "workers/cycler/cycler_handler.h"
#include "workers/runtime/worker_runtime.h"
#include "workers/synthetic/synthetic_handler.h"

namespace {

using ionloop::worker::HandlerRegistry;
using ionloop::worker::JobHandler;

// Everything the flags (and --config) set.
struct WorkerFlags {
  std::string kind;
  int channels = 1;
  std::string server = "127.0.0.1:50051";
  std::string worker_id;
  std::string spool_dir;
  std::string log_level = "info";
  double shutdown_grace_s = 5;
  std::string config_file;
  ionloop::worker::cycler::CyclerFlags cycler;  // --kind cycler
};

// A kind's set-up: fills its part of the capabilities (kind and channels are set
// already) and makes its handler factory from the flags. INVALID_ARGUMENT for bad flags.
using SetUp = std::function<absl::StatusOr<HandlerRegistry::Factory>(
    const WorkerFlags&, ionloop::v1::Capabilities*)>;

absl::StatusOr<HandlerRegistry::Factory> SetUpSynthetic(const WorkerFlags&,
                                                        ionloop::v1::Capabilities*) {
  return HandlerRegistry::Factory(
      [] { return std::make_unique<ionloop::worker::SyntheticHandler>(); });
}

absl::StatusOr<HandlerRegistry::Factory> SetUpCycler(const WorkerFlags& flags,
                                                     ionloop::v1::Capabilities* caps) {
  namespace cycler = ionloop::worker::cycler;
  RETURN_IF_ERROR(cycler::FillCyclerCapabilities(flags.cycler, caps));
  ASSIGN_OR_RETURN(cycler::CyclerOptions options, cycler::CyclerOptionsFromFlags(flags.cycler));
  if (options.backend == cycler::CyclerBackend::kReplay) {
    spdlog::info("replay backend: {} file(s) from {}", options.replay_files.size(),
                 flags.cycler.replay_file);
  }
  return cycler::MakeCyclerHandlerFactory(std::move(options));
}

// The kinds this binary serves: one line each.
struct WorkerKind {
  const char* name;
  ionloop::v1::JobKind kind;
  SetUp set_up;
};

const std::vector<WorkerKind>& Kinds() {
  static const std::vector<WorkerKind> kinds = {
      {"synthetic", ionloop::v1::JOB_KIND_SYNTHETIC, SetUpSynthetic},
      {"cycler", ionloop::v1::JOB_KIND_CYCLING, SetUpCycler},
  };
  return kinds;
}

// The value of --config in argv ("--config=F" or "--config F"), or "".
std::string ConfigFileArg(int argc, char** argv) {
  std::string path;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (absl::StartsWith(arg, "--config=")) path = std::string(arg.substr(9));
    if (arg == "--config" && i + 1 < argc) path = argv[++i];
  }
  return path;
}

// Applies a config file's `name = value` lines (flag names without "--"; blank lines
// and '#' comments ignored) through the flag table, before the command line: flags given
// on the command line override the file.
absl::Status ApplyConfigFile(const std::string& path, ionloop::FlagTable& flags) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("--config: cannot open '", path, "'"));
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text.front() == '#') continue;
    const size_t eq = text.find('=');
    const absl::string_view name =
        absl::StripAsciiWhitespace(text.substr(0, eq == absl::string_view::npos ? text.size() : eq));
    if (eq == absl::string_view::npos || name == "config" || name == "help") {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ": expected 'name = value' (a flag name without --)"));
    }
    const std::string arg =
        absl::StrCat("--", name, "=", absl::StripAsciiWhitespace(text.substr(eq + 1)));
    const char* args[] = {"ionloop-worker", arg.c_str()};
    if (absl::StatusOr<std::vector<std::string>> r = flags.Parse(2, args); !r.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", number, ": ", r.status().message()));
    }
  }
  return absl::OkStatus();
}

std::string KindNames() {
  std::vector<std::string> names;
  for (const WorkerKind& k : Kinds()) names.push_back(k.name);
  return absl::StrJoin(names, ", ");
}

// A stable default id: <hostname>-<kind>, reduced to the characters ids allow.
std::string DefaultWorkerId(const std::string& kind) {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof(host), "worker");
  std::string id;
  for (const char* p = host; *p != '\0'; ++p) {
    const char c = *p;
    id.push_back(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
                         c == ':' || c == '-'
                     ? c
                     : '-');
  }
  id = absl::StrCat(id, "-", kind);
  if (id.size() > 128) id.resize(128);
  return id;
}

constexpr char kUsage[] = R"(ionloop-worker — runs jobs of one kind for an ionloopd orchestrator.

Connects to --server over one gRPC stream (Workers.Connect), says which kind and how
many channels it offers, and runs up to --channels assigned jobs at once. Every update
it produces is written and fsynced to --spool-dir before it is sent and kept there
until the orchestrator acknowledges it: a lost connection is re-established with
backoff and the unacknowledged updates are resent; a killed worker started again
with the same --worker-id and --spool-dir reports its unfinished jobs and resumes the
ones the orchestrator gives back.

Usage:
  ionloop-worker --kind synthetic --channels 4 --server 127.0.0.1:50051
                 [--worker-id ID] [--spool-dir DIR] [--log-level info]
  ionloop-worker --kind cycler --channels 8 [--cycle-period-ms 5] [--seed N]
                 [--temperature-range -20:60] [--voltage-range 0:5] [--max-current-a 10]
                 [--ions li,na,k,mg] [--designs coin,pouch,...]
  ionloop-worker --kind cycler --backend replay --replay-file FILE|DIR
  ionloop-worker --config examples/workers/cycler.conf [--flag value ...]

--config FILE holds 'name = value' lines, one flag each (names without --, '#'
comments); flags given on the command line override the file.

Kinds:
  synthetic  SyntheticJob: numbered samples (load tests, demos).
  cycler     CyclingJob: one cell per channel, cycled to end of life, max_cycles or a
             Cancel, one CycleRecord per cycle (plus discharge V(Q) curves for the
             requested cycles). --backend virtual: the virtual cycler, seeded from
             (--seed, job id, attempt); --backend replay: recorded cycler files played
             as if live. Cycling jobs are pinned; after a restart an attempt resumes
             exactly after its last spooled measurement.

Stops gracefully on SIGINT or SIGTERM: running jobs are paused (not ended; they resume
after a restart if the orchestrator re-attaches them), spooled updates are delivered
for up to --shutdown-grace-s, then the stream is closed.)";

}  // namespace

int main(int argc, char** argv) {
  WorkerFlags config;
  std::string& kind_name = config.kind;
  int& channels = config.channels;
  std::string& server = config.server;
  std::string& worker_id = config.worker_id;
  std::string& spool_dir = config.spool_dir;
  std::string& log_level = config.log_level;
  double& shutdown_grace_s = config.shutdown_grace_s;
  ionloop::worker::cycler::CyclerFlags& cycler = config.cycler;
  ionloop::FlagTable flags(kUsage);
  flags.String("kind", &kind_name, absl::StrCat("The job kind this worker runs: ", KindNames(), "."));
  flags.Int("channels", &channels,
            "Jobs run at once, 1..10000; announced as Capabilities.channels.");
  flags.String("server", &server, "The orchestrator's gRPC address, host:port.");
  flags.String("worker-id", &worker_id,
               "Stable id across restarts, [A-Za-z0-9_.:-]{1,128}. Default: <hostname>-<kind>.");
  flags.String("spool-dir", &spool_dir,
               "Where unacknowledged updates are kept (created when missing; one worker per "
               "directory). Default: ./ionloop-worker-<worker-id>-spool.");
  flags.String("log-level", &log_level, "trace, debug, info, warn, error or off.");
  flags.Double("shutdown-grace-s", &shutdown_grace_s,
               "On SIGINT/SIGTERM, seconds to wait for the orchestrator to acknowledge what is "
               "spooled before the stream is closed.");
  flags.String("config", &config.config_file,
               "A file of 'name = value' lines setting any of these flags (see above); the "
               "command line overrides it.");
  // --kind cycler
  flags.String("backend", &cycler.backend,
               "cycler: 'virtual' (the virtual cycler model) or 'replay' (recorded cycler "
               "files, --replay-file).");
  flags.String("replay-file", &cycler.replay_file,
               "cycler replay: a cycler file (Arbin/Novonix/Neware CSV, Maccor/BioLogic text, "
               "BioLogic .mpr), or a directory whose readable files are assigned to jobs "
               "round-robin.");
  flags.Int("cycle-period-ms", &cycler.cycle_period_ms,
            "cycler: wall milliseconds per cycle (pacing through a cancellable wait); 0: as "
            "fast as possible.");
  flags.Double("time-scale", &cycler.time_scale,
               "cycler: if > 0, wall seconds per simulated (recorded) hour of cycling, "
               "instead of --cycle-period-ms.");
  flags.String("seed", &cycler.seed,
               "cycler virtual: base seed (uint64); each cell's seed mixes it with the job id "
               "and attempt.");
  flags.String("temperature-range", &cycler.temperature_range,
               "cycler: chamber temperatures offered, MIN:MAX in degC (Capabilities).");
  flags.String("voltage-range", &cycler.voltage_range,
               "cycler: voltage window offered, MIN:MAX in V (Capabilities).");
  flags.Double("max-current-a", &cycler.max_current_a,
               "cycler: the largest current per channel, A; 0: no limit (Capabilities).");
  flags.String("ions", &cycler.ions, "cycler: working ions accepted, of li,na,k,mg.");
  flags.String("designs", &cycler.designs,
               "cycler: cell designs accepted, of coin,cylindrical,pouch,prismatic,swagelok,"
               "three-electrode.");
  if (const std::string file = ConfigFileArg(argc, argv); !file.empty()) {
    if (absl::Status s = ApplyConfigFile(file, flags); !s.ok()) {
      std::fprintf(stderr, "ionloop-worker: %s\n", std::string(s.message()).c_str());
      return 2;
    }
  }
  absl::StatusOr<std::vector<std::string>> positionals = flags.Parse(argc, argv);
  if (flags.help_requested()) {
    std::printf("%s", flags.Help().c_str());
    return 0;
  }
  if (!positionals.ok() || !positionals->empty()) {
    std::fprintf(stderr, "ionloop-worker: %s\n",
                 positionals.ok() ? absl::StrCat("unexpected argument '", positionals->front(),
                                                 "' (see --help)").c_str()
                                  : std::string(positionals.status().message()).c_str());
    return 2;
  }
  const WorkerKind* kind = nullptr;
  for (const WorkerKind& k : Kinds()) {
    if (kind_name == k.name) kind = &k;
  }
  if (kind == nullptr) {
    std::fprintf(stderr, "ionloop-worker: --kind: must be one of %s, got '%s'\n",
                 KindNames().c_str(), kind_name.c_str());
    return 2;
  }
  if (channels < 1 || channels > 10'000) {
    std::fprintf(stderr, "ionloop-worker: --channels: must be within 1..10000, got %d\n", channels);
    return 2;
  }
  if (!(shutdown_grace_s >= 0)) {
    std::fprintf(stderr, "ionloop-worker: --shutdown-grace-s: must be ≥ 0, got %g\n",
                 shutdown_grace_s);
    return 2;
  }
  const spdlog::level::level_enum level = spdlog::level::from_str(log_level);
  if (level == spdlog::level::off && log_level != "off") {
    std::fprintf(stderr, "ionloop-worker: --log-level: unknown level '%s' (trace, debug, info, "
                 "warn, error, off)\n", log_level.c_str());
    return 2;
  }
  spdlog::set_default_logger(spdlog::stderr_color_mt("ionloop-worker"));
  spdlog::set_level(level);

  ionloop::worker::WorkerOptions options;
  options.server = server;
  options.worker_id = worker_id.empty() ? DefaultWorkerId(kind->name) : worker_id;
  options.spool_dir =
      spool_dir.empty() ? absl::StrCat("./ionloop-worker-", options.worker_id, "-spool") : spool_dir;
  options.capabilities.set_kind(kind->kind);
  options.capabilities.set_channels(static_cast<uint32_t>(channels));
  options.software = absl::StrCat("ionloop-worker ", IONLOOP_VERSION, " ", kind->name);
  absl::StatusOr<HandlerRegistry::Factory> factory = kind->set_up(config, &options.capabilities);
  if (!factory.ok()) {
    if (factory.status().code() == absl::StatusCode::kInvalidArgument) {
      std::fprintf(stderr, "ionloop-worker: %s\n", std::string(factory.status().message()).c_str());
      return 2;
    }
    spdlog::error("cannot start: {}", factory.status().ToString());
    return 1;
  }
  HandlerRegistry handlers;
  handlers.Register(kind->kind, *std::move(factory));

  // Block the stop signals in every thread (the runtime's and gRPC's inherit the mask);
  // the main thread takes them with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto runtime = ionloop::worker::WorkerRuntime::Create(options, std::move(handlers),
                                                        ionloop::SystemClock::Get());
  if (!runtime.ok()) {
    if (runtime.status().code() == absl::StatusCode::kInvalidArgument) {
      std::fprintf(stderr, "ionloop-worker: %s\n", std::string(runtime.status().message()).c_str());
      return 2;
    }
    spdlog::error("cannot start: {}", runtime.status().ToString());
    return 1;
  }
  (*runtime)->Start();

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  spdlog::info("signal {}: stopping (up to {} s to deliver what is spooled)", signal_number,
               shutdown_grace_s);
  (*runtime)->Stop(absl::Seconds(shutdown_grace_s));
  const auto snapshot = (*runtime)->snapshot();
  runtime->reset();
  spdlog::info("stopped");
  return snapshot.spool_health.ok() ? 0 : 1;
}
