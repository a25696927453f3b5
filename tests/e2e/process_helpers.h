// Real processes for end-to-end tests: a scratch directory, an ionloopd child on a
// free loopback port, and a command runner that captures output.
#ifndef IONLOOP_TESTS_E2E_PROCESS_HELPERS_H_
#define IONLOOP_TESTS_E2E_PROCESS_HELPERS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/testing/temp_dir.h"

namespace ionloop::testing {

// Any child (ionloop-worker here) with its output appended to `log_path`.
class ChildProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(const std::vector<std::string>& argv,
                                                             const std::string& log_path);
  virtual ~ChildProcess();  // SIGTERM, then SIGKILL after 10 s.
  pid_t pid() const { return pid_; }
  // SIGKILL and reap: the crash case.
  void Kill9();
  // SIGTERM and reap; returns the exit code (or 128+signal).
  int Terminate();

 protected:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}

 private:
  pid_t pid_;
};

// An `ionloopd` child listening on 127.0.0.1:<free port>. Start() returns once the
// daemon has written <data_dir>/ionloopd.address, i.e. it is serving.
class DaemonProcess final : public ChildProcess {
 public:
  static absl::StatusOr<std::unique_ptr<DaemonProcess>> Start(
      const std::string& data_dir, const std::vector<std::string>& extra_args = {});
  const std::string& address() const { return address_; }

 private:
  DaemonProcess(pid_t pid, std::string address) : ChildProcess(pid), address_(std::move(address)) {}
  std::string address_;
};

// `ionloop-worker --kind <kind> --server <server> --worker-id <id> --spool-dir <spool>
// --channels <channels>`, logging to <spool>.log.
absl::StatusOr<std::unique_ptr<ChildProcess>> StartWorker(
    const std::string& server, const std::string& worker_id, const std::string& spool_dir,
    int channels = 1, const std::string& kind = "synthetic");
// The same with `extra_args` appended (kind-specific flags, e.g. --cycle-period-ms=1).
absl::StatusOr<std::unique_ptr<ChildProcess>> StartWorkerWithArgs(
    const std::string& server, const std::string& worker_id, const std::string& spool_dir,
    int channels, const std::string& kind, const std::vector<std::string>& extra_args);

// A loopback port nobody listens on right now (for a daemon that must come back on
// the same address after a restart).
int PickFreePort();

struct CommandResult {
  int exit_code = -1;  // 128+signal when killed
  std::string out;
  std::string err;
};

// "exit N", then stdout and stderr: for failure messages.
std::string Describe(const CommandResult& r);

// Runs argv[0] with arguments, feeding `stdin_data`, killing it after `timeout`.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         absl::Duration timeout = absl::Seconds(60),
                         const std::string& stdin_data = "");

// Absolute paths of the built binaries (set by CMake).
std::string IonloopdPath();
std::string IonloopCliPath();
std::string IonloopWorkerPath();
// The examples/ folder of the source tree.
std::string ExamplesDir();

}  // namespace ionloop::testing

#endif  // IONLOOP_TESTS_E2E_PROCESS_HELPERS_H_
