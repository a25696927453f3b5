// ionloopd: the ionloop orchestrator daemon.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/flag_table.h"
#include "orchestrator/service/server.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace {

constexpr char kUsage[] = R"(ionloopd — the ionloop orchestrator.

Holds jobs, their events and measurements in one SQLite file and serves the
ionloop.v1 gRPC API (Jobs, Admin), the gRPC health service and server reflection.

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
