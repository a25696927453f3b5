#include "tests/e2e/process_helpers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace ionloop::testing {
namespace {

// Waits up to `timeout` for `pid` to exit; returns its exit code, or -1 on timeout.
int WaitFor(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return -1;
    }
    if (r < 0 && errno != EINTR) return -1;
    if (absl::Now() > deadline) return -1;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

pid_t Spawn(const std::vector<std::string>& argv, int stdin_fd, int stdout_fd, int stderr_fd) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    if (stdin_fd >= 0) dup2(stdin_fd, STDIN_FILENO);
    if (stdout_fd >= 0) dup2(stdout_fd, STDOUT_FILENO);
    if (stderr_fd >= 0) dup2(stderr_fd, STDERR_FILENO);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DaemonProcess>> DaemonProcess::Start(
    const std::string& data_dir, const std::vector<std::string>& extra_args) {
  const std::string address_file = data_dir + "/ionloopd.address";
  std::filesystem::create_directories(data_dir);
  std::filesystem::remove(address_file);
  std::vector<std::string> argv = {IonloopdPath(), "--listen=127.0.0.1:0",
                                   "--data-dir=" + data_dir, "--log-level=warn"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  const std::string log_path = data_dir + "/ionloopd.test.log";
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  pid_t pid = Spawn(argv, -1, log_fd, log_fd);
  if (log_fd >= 0) close(log_fd);
  if (pid < 0) return absl::InternalError("fork failed");

  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    std::ifstream in(address_file);
    std::string address;
    if (in && std::getline(in, address) && !address.empty()) {
      return std::unique_ptr<DaemonProcess>(new DaemonProcess(pid, address));
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      std::ifstream log(log_path);
      std::stringstream ss;
      ss << log.rdbuf();
      return absl::InternalError(absl::StrCat("ionloopd exited early: ", ss.str()));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  kill(pid, SIGKILL);
  WaitFor(pid, absl::Seconds(5));
  return absl::DeadlineExceededError("ionloopd did not write its address within 30 s");
}

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(
    const std::vector<std::string>& argv, const std::string& log_path) {
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  pid_t pid = Spawn(argv, -1, log_fd, log_fd);
  if (log_fd >= 0) close(log_fd);
  if (pid < 0) return absl::InternalError("fork failed");
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid));
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) Terminate();
}

void ChildProcess::Kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  WaitFor(pid_, absl::Seconds(10));
  pid_ = -1;
}

int ChildProcess::Terminate() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int code = WaitFor(pid_, absl::Seconds(10));
  if (code == -1) {
    kill(pid_, SIGKILL);
    code = WaitFor(pid_, absl::Seconds(5));
  }
  pid_ = -1;
  return code;
}

absl::StatusOr<std::unique_ptr<ChildProcess>> StartWorker(const std::string& server,
                                                          const std::string& worker_id,
                                                          const std::string& spool_dir,
                                                          int channels, const std::string& kind) {
  return StartWorkerWithArgs(server, worker_id, spool_dir, channels, kind, {});
}

absl::StatusOr<std::unique_ptr<ChildProcess>> StartWorkerWithArgs(
    const std::string& server, const std::string& worker_id, const std::string& spool_dir,
    int channels, const std::string& kind, const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv = {IonloopWorkerPath(),       "--kind=" + kind,
                                   "--server=" + server,      "--worker-id=" + worker_id,
                                   "--spool-dir=" + spool_dir, absl::StrCat("--channels=", channels),
                                   "--log-level=warn"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  return ChildProcess::Start(argv, spool_dir + ".log");
}

int PickFreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

CommandResult RunCommand(const std::vector<std::string>& argv, absl::Duration timeout,
                         const std::string& stdin_data) {
  CommandResult result;
  signal(SIGPIPE, SIG_IGN);  // a child that never reads stdin must not kill the test
  int in_pipe[2], out_pipe[2], err_pipe[2];
  // Close-on-exec: a child must not inherit the other ends (its own stdin's write end
  // would keep it from ever seeing EOF). dup2 clears the flag on 0, 1 and 2.
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0 ||
      pipe2(err_pipe, O_CLOEXEC) != 0) {
    return result;
  }
  pid_t pid = Spawn(argv, in_pipe[0], out_pipe[1], err_pipe[1]);
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (!stdin_data.empty()) {
    ssize_t ignored = write(in_pipe[1], stdin_data.data(), stdin_data.size());
    (void)ignored;
  }
  close(in_pipe[1]);

  const absl::Time deadline = absl::Now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    const int wait_ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (wait_ms <= 0) break;
    if (poll(fds, 2, wait_ms) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (pollfd& p : fds) {
    if (p.fd >= 0) close(p.fd);
  }
  result.exit_code = WaitFor(pid, std::max(absl::ZeroDuration(), deadline - absl::Now()));
  if (result.exit_code == -1) {
    kill(pid, SIGKILL);
    WaitFor(pid, absl::Seconds(5));
    result.exit_code = 137;
    result.err += "\n[test harness: killed after timeout]";
  }
  return result;
}

std::string IonloopdPath() { return IONLOOPD_PATH; }
std::string IonloopCliPath() { return IONLOOP_CLI_PATH; }
std::string IonloopWorkerPath() { return IONLOOP_WORKER_PATH; }
std::string ExamplesDir() { return IONLOOP_EXAMPLES_DIR; }

std::string Describe(const CommandResult& r) {
  return absl::StrCat("exit ", r.exit_code, "\n--- stdout:\n", r.out, "--- stderr:\n", r.err);
}

}  // namespace ionloop::testing
