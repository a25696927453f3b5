// ionloopd: the ionloop orchestrator daemon.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/flag_table.h"
#include "orchestrator/service/server.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace {

constexpr char kUsage[] = R"(ionloopd — the ionloop orchestrator.

Holds jobs, their events and measurements in one SQLite file, schedules them onto
connected workers, trains lifetime and capacity-fade models (LibTorch) as training
jobs, and serves the ionloop.v1 gRPC API (Jobs, Workers, Models, Admin), the gRPC
health service and server reflection.

Usage:
  ionloopd [--listen=127.0.0.1:50051] [--data-dir=./ionloop-data] [--log-level=info]

Stops gracefully on SIGINT or SIGTERM. Every acknowledged write is on disk before
the reply (SQLite WAL, synchronous=FULL), so a kill -9 loses nothing acknowledged.)";

// Written via rename, so a reader never sees a half-written file.
bool WriteAddressFile(const std::string& data_dir, const std::string& address) {
  const std::string path = data_dir + "/ionloopd.address";
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << address << "\n";
    if (!out.flush()) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  ionloop::orchestrator::OrchestratorConfig config;
  config.version = IONLOOP_VERSION;
  std::string log_level = "info";
  double shutdown_grace_s = 5;
  ionloop::FlagTable flags(kUsage);
  flags.String("listen", &config.listen_address,
               "gRPC address host:port. Port 0 picks a free one; 0.0.0.0 listens on every "
               "interface. The bound address is written to <data-dir>/ionloopd.address.");
  flags.String("data-dir", &config.data_dir,
               "Directory for the store (ionloop.db, SQLite WAL) and the LOCK file. Created "
               "when missing; one ionloopd per directory.");
  flags.String("log-level", &log_level, "trace, debug, info, warn, error or off.");
  flags.Double("shutdown-grace-s", &shutdown_grace_s,
               "On SIGINT/SIGTERM, seconds open streams get before they are cancelled.");
  // The scheduler's timings (docs/worker-protocol.md explains each).
  auto to_ms = [](absl::Duration d) { return static_cast<int>(absl::ToInt64Milliseconds(d)); };
  int heartbeat_ms = to_ms(config.scheduler.heartbeat_interval);
  int lease_ms = to_ms(config.scheduler.lease);
  int grace_ms = to_ms(config.scheduler.grace);
  int cancel_timeout_ms = to_ms(config.scheduler.cancel_timeout);
  int backoff_ms = to_ms(config.scheduler.backoff_base);
  flags.Int("heartbeat-ms", &heartbeat_ms, "How often workers are asked to send a heartbeat.");
  flags.Int("lease-ms", &lease_ms,
            "A worker silent this long is disconnected; its jobs start their grace period.");
  flags.Int("grace-ms", &grace_ms,
            "How long a disconnected worker's jobs wait for it to come back before pinned "
            "jobs (cells on a cycler channel) become LOST and restartable ones are requeued.");
  flags.Int("max-attempts", &config.scheduler.max_attempts,
            "Attempts a restartable job gets before it is FAILED.");
  flags.Int("retry-backoff-ms", &backoff_ms,
            "Wait before a requeued job's first retry; doubles per attempt, at most 60 s.");
  flags.Int("cancel-timeout-ms", &cancel_timeout_ms,
            "A cancel the worker does not confirm within this ends the job CANCELLED anyway.");
  flags.Int("torch-threads", &config.models.torch_threads,
            "Threads of each model training or prediction (LibTorch intra-op); 0: all "
            "cores. Small networks gain little from more.");
  flags.Int("corpus-threads", &config.models.corpus_threads,
            "Threads that generate virtual:N data sets for training; 0: all cores.");
  absl::StatusOr<std::vector<std::string>> positionals = flags.Parse(argc, argv);
  if (flags.help_requested()) {
    std::printf("%s", flags.Help().c_str());
    return 0;
  }
  if (!positionals.ok() || !positionals->empty()) {
    std::fprintf(stderr, "ionloopd: %s\n",
                 positionals.ok() ? absl::StrCat("unexpected argument '", positionals->front(),
                                                 "' (see --help)").c_str()
                                  : std::string(positionals.status().message()).c_str());
    return 2;
  }
  for (const auto& [name, value] : {std::pair<const char*, int>{"heartbeat-ms", heartbeat_ms},
                                     {"lease-ms", lease_ms},
                                     {"grace-ms", grace_ms},
                                     {"max-attempts", config.scheduler.max_attempts},
                                     {"retry-backoff-ms", backoff_ms},
                                     {"cancel-timeout-ms", cancel_timeout_ms}}) {
    if (value < 1) {
      std::fprintf(stderr, "ionloopd: --%s: must be >= 1, got %d\n", name, value);
      return 2;
    }
  }
  if (config.models.torch_threads < 0 || config.models.corpus_threads < 0) {
    std::fprintf(stderr, "ionloopd: --torch-threads and --corpus-threads must be >= 0\n");
    return 2;
  }
  if (heartbeat_ms >= lease_ms) {
    std::fprintf(stderr, "ionloopd: --heartbeat-ms (%d) must be shorter than --lease-ms (%d)\n",
                 heartbeat_ms, lease_ms);
    return 2;
  }
  config.scheduler.heartbeat_interval = absl::Milliseconds(heartbeat_ms);
  config.scheduler.lease = absl::Milliseconds(lease_ms);
  config.scheduler.grace = absl::Milliseconds(grace_ms);
  config.scheduler.cancel_timeout = absl::Milliseconds(cancel_timeout_ms);
  config.scheduler.backoff_base = absl::Milliseconds(backoff_ms);
  config.scheduler.tick = std::min(absl::Milliseconds(100), absl::Milliseconds(heartbeat_ms));
  const spdlog::level::level_enum level = spdlog::level::from_str(log_level);
  if (level == spdlog::level::off && log_level != "off") {
    std::fprintf(stderr, "ionloopd: --log-level: unknown level '%s' (trace, debug, info, warn, "
                 "error, off)\n", log_level.c_str());
    return 2;
  }
  spdlog::set_default_logger(spdlog::stderr_color_mt("ionloopd"));  // stdout stays clean
  spdlog::set_level(level);

  // Block the stop signals in every thread (gRPC's are created below and inherit the
  // mask); the main thread takes them with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  if (config.listen_address.empty()) {
    std::fprintf(stderr, "ionloopd: --listen: must be host:port, got an empty value\n");
    return 2;
  }

  auto orchestrator =
      ionloop::orchestrator::Orchestrator::Start(config, ionloop::SystemClock::Get());
  if (!orchestrator.ok()) {
    spdlog::error("cannot start: {}", orchestrator.status().ToString());
    return 1;
  }
  if (!WriteAddressFile(config.data_dir, (*orchestrator)->listen_address())) {
    spdlog::warn("could not write {}/ionloopd.address", config.data_dir);
  }
  spdlog::info("ionloopd {} serving on {} (store {})", config.version,
               (*orchestrator)->listen_address(), (*orchestrator)->store_path());

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  spdlog::info("signal {}: shutting down", signal_number);
  (*orchestrator)->Shutdown(absl::Seconds(shutdown_grace_s));
  std::error_code ec;
  std::filesystem::remove(config.data_dir + "/ionloopd.address", ec);
  spdlog::info("stopped");
  return 0;
}
