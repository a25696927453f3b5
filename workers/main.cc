// ionloop-worker: one binary for every kind of worker. It wraps one backend (the
// handler of --kind) in the worker runtime: stream to the orchestrator, spool, acks,
// reconnects, restarts.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/clock.h"
#include "common/flag_table.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"
#include "workers/runtime/worker_runtime.h"
#include "workers/synthetic/synthetic_handler.h"

namespace {

using ionloop::worker::HandlerRegistry;
using ionloop::worker::JobHandler;

// The kinds this binary serves: one line each. A kind fills in its capabilities and
// registers its handler from the parsed config.
struct WorkerKind {
  const char* name;
  ionloop::v1::JobKind kind;
  std::function<std::unique_ptr<JobHandler>()> make_handler;
};

const std::vector<WorkerKind>& Kinds() {
  static const std::vector<WorkerKind> kinds = {
      {"synthetic", ionloop::v1::JOB_KIND_SYNTHETIC,
       [] { return std::make_unique<ionloop::worker::SyntheticHandler>(); }},
      // {"cycler", ionloop::v1::JOB_KIND_CYCLING, [] { return std::make_unique<CyclerHandler>(); }},
  };
  return kinds;
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

Stops gracefully on SIGINT or SIGTERM: running jobs are paused (not ended; they resume
after a restart if the orchestrator re-attaches them), spooled updates are delivered
for up to --shutdown-grace-s, then the stream is closed.)";

}  // namespace

int main(int argc, char** argv) {
  std::string kind_name;
  int channels = 1;
  std::string server = "127.0.0.1:50051";
  std::string worker_id;
  std::string spool_dir;
  std::string log_level = "info";
  double shutdown_grace_s = 5;
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
  HandlerRegistry handlers;
  handlers.Register(kind->kind, kind->make_handler);

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
