// End-to-end tests of the `ionloop` command against a real ionloopd on a free loopback
// port. With no workers yet, submitted jobs stay QUEUED, which makes cancel, watch and
// list deterministic.
#include <arpa/inet.h>
#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ionloop/v1/admin.pb.h"
#include "ionloop/v1/jobs.pb.h"
#include "tests/e2e/process_helpers.h"

namespace ionloop::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kCsvHeaderStart[] = "job_id,attempt,seq,recorded_at,cycle_index,charge_capacity_ah,";

template <typename Message>
Message ParseJson(const std::string& json) {
  Message message;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &message);
  EXPECT_TRUE(status.ok()) << status.message() << "\n" << json;
  return message;
}

// A loopback port with nothing listening on it: bound, read back, released.
int UnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  close(fd);
  return ntohs(addr.sin_port);
}

// A child whose output the test reads while it runs (RunCommand only returns at exit):
// `watch` must be seen following a live job before another command cancels it.
// stdout and stderr share one pipe.
class LiveProcess {
 public:
  explicit LiveProcess(const std::vector<std::string>& argv) {
    int fds[2];
    // Close-on-exec: other children (RunCommand's) must not hold the pipe open.
    if (pipe2(fds, O_CLOEXEC) != 0) return;
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      int devnull = open("/dev/null", O_RDONLY);
      dup2(devnull, STDIN_FILENO);
      dup2(fds[1], STDOUT_FILENO);
      dup2(fds[1], STDERR_FILENO);
      close(fds[0]);
      execv(args[0], args.data());
      _exit(127);
    }
    close(fds[1]);
    fd_ = fds[0];
  }
  ~LiveProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) close(fd_);
  }

  // Reads until the output contains `needle`; false on EOF or timeout.
  bool WaitForOutput(absl::string_view needle, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (!absl::StrContains(out_, needle)) {
      if (!ReadSome(deadline)) return false;
    }
    return true;
  }

  // Reads to EOF and reaps the child: its exit code, or -1 if it did not finish in time
  // (it is then killed).
  int Wait(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (ReadSome(deadline)) {
    }
    if (!eof_) kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);  // EOF or SIGKILL: either way the child is ending
    pid_ = -1;
    if (!eof_) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  const std::string& out() const { return out_; }

 private:
  // One chunk of output; false at EOF or the deadline.
  bool ReadSome(absl::Time deadline) {
    if (fd_ < 0 || eof_) return false;
    const int wait_ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (wait_ms <= 0) return false;
    pollfd p = {fd_, POLLIN, 0};
    if (poll(&p, 1, wait_ms) <= 0) return absl::Now() < deadline;
    char buf[4096];
    const ssize_t n = read(fd_, buf, sizeof(buf));
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    out_.append(buf, static_cast<size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  bool eof_ = false;
  std::string out_;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<DaemonProcess>> daemon =
        DaemonProcess::Start(dir_.path() + "/data");
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = *std::move(daemon);
  }

  // `ionloop --server <daemon> args...`
  CommandResult Cli(const std::vector<std::string>& args, const std::string& stdin_data = "") {
    std::vector<std::string> argv = {IonloopCliPath(), "--server", daemon_->address()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, absl::Seconds(60), stdin_data);
  }

  // Submits with --quiet and returns the new job's id ("" after a test failure).
  std::string Submit(std::vector<std::string> args) {
    args.insert(args.begin(), "submit");
    args.push_back("--quiet");
    const CommandResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    const std::string id(absl::StripAsciiWhitespace(r.out));
    EXPECT_THAT(id, StartsWith("job-")) << Describe(r);
    return id;
  }

  std::string Example(absl::string_view name) {
    return absl::StrCat(ExamplesDir(), "/jobs/", name, ".json");
  }

  std::string WriteFile(absl::string_view name, absl::string_view contents) {
    const std::string path = absl::StrCat(dir_.path(), "/", name);
    std::ofstream(path) << contents;
    return path;
  }

  TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST(CliHelpTest, HelpPrintsEveryCommandAndExitsZero) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--help"}, {"-h"}, {"help"}}) {
    std::vector<std::string> argv = {IonloopCliPath()};
    argv.insert(argv.end(), args.begin(), args.end());
    const CommandResult r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    for (const char* word : {"submit", "status", "list", "cancel", "watch", "measurements", "info",
                             "--server", "--output", "--timeout", "--idempotency-key", "--cycling",
                             "--csv", "Exit codes", "Examples"}) {
      EXPECT_THAT(r.out, HasSubstr(word)) << args[0];
    }
  }
}

TEST(CliHelpTest, CommandHelpShowsThatCommandsFlags) {
  const CommandResult help_cmd = RunCommand({IonloopCliPath(), "help", "list"});
  EXPECT_EQ(help_cmd.exit_code, 0) << Describe(help_cmd);
  EXPECT_THAT(help_cmd.out, HasSubstr("--page-size"));
  const CommandResult flag = RunCommand({IonloopCliPath(), "submit", "--help"});
  EXPECT_EQ(flag.exit_code, 0) << Describe(flag);
  EXPECT_THAT(flag.out, HasSubstr("--max-cycles"));
}

TEST(CliHelpTest, UsageErrorsExitTwo) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"frobnicate"},
           {"status"},
           {"status", "job-1", "job-2"},
           {"list", "--no-such-flag"},
           {"list", "--state", "sleeping"},
           {"list", "--page-size", "many"},
           {"--output", "yaml", "info"},
           {"submit", "--ion", "na", "job.json"},
           {"submit", "--cycling", "--ion", "unobtainium"},
           {"train", "lifetime", "--dataset", "virtual:10"},
           {"train", "sideways", "--dataset", "virtual:10", "--name", "x"},
           {"train", "lifetime", "--name", "x"},
           {"train", "early", "--name", "x", "--dataset", "d", "--from-store"},
           {"train", "lifetime", "--name", "x", "--dataset", "d", "--ion", "na"},
           {"predict", "--model", "m"},
           {"predict", "--model", "m", "--job", "job-1", "--soh", "90"},
           {"evaluate", "--model", "m"},
           {"model"},
       }) {
    std::vector<std::string> argv = {IonloopCliPath(), "--server", "127.0.0.1:1"};
    argv.insert(argv.end(), args.begin(), args.end());
    const CommandResult r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 2) << absl::StrJoin(args, " ") << "\n" << Describe(r);
    EXPECT_THAT(r.err, StartsWith("ionloop: ")) << absl::StrJoin(args, " ");
  }
}

TEST_F(CliTest, SubmitsEveryExampleFile) {
  for (const char* name : {"cycling", "xrd", "simulation", "label", "synthetic"}) {
    const CommandResult r = Cli({"submit", Example(name)});
    EXPECT_EQ(r.exit_code, 0) << name << "\n" << Describe(r);
    EXPECT_THAT(r.out, HasSubstr("created job-")) << name;
    EXPECT_THAT(r.out, HasSubstr("QUEUED")) << name;
    EXPECT_THAT(r.out, Not(HasSubstr("JOB_STATE_"))) << name;
  }
}

TEST_F(CliTest, SubmitsFromStdinWithLabelOverrides) {
  const CommandResult r =
      Cli({"--output", "json", "submit", "-", "--label", "batch=7", "--priority", "5"},
          R"({"synthetic": {"measurements": 10, "interval_ms": 1}})");
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const auto response = ParseJson<ionloop::v1::SubmitJobResponse>(r.out);
  EXPECT_TRUE(response.created());
  EXPECT_EQ(response.job().kind(), ionloop::v1::JOB_KIND_SYNTHETIC);
  EXPECT_EQ(response.job().spec().priority(), 5);
  EXPECT_EQ(response.job().spec().labels().at("batch"), "7");
  // Proto field names, not lowerCamel.
  EXPECT_THAT(r.out, HasSubstr("\"idempotency_key\""));
}

TEST_F(CliTest, SubmitsQuickCyclingJobFromFlags) {
  const std::string id =
      Submit({"--cycling",   "--ion",         "na",     "--positive", "NVPF", "--negative",
              "hard-carbon", "--capacity-ah", "0.005",  "--charge-c", "1",    "--discharge-c",
              "1",           "--v-min",       "2.0",    "--v-max",    "4.25", "--temperature-c",
              "25",          "--max-cycles",  "500",    "--design",   "coin", "--campaign",
              "camp-1",      "--label",       "cell=A7"});
  const CommandResult r = Cli({"status", id, "--output", "json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const auto job = ParseJson<ionloop::v1::Job>(r.out);
  EXPECT_EQ(job.id(), id);
  EXPECT_EQ(job.state(), ionloop::v1::JOB_STATE_QUEUED);
  const ionloop::v1::CellSpec& cell = job.spec().cycling().cell();
  EXPECT_EQ(cell.ion(), ionloop::v1::ION_NA);
  EXPECT_EQ(cell.positive_electrode(), "NVPF");
  EXPECT_EQ(cell.negative_electrode(), "hard-carbon");
  EXPECT_EQ(cell.design(), ionloop::v1::CELL_DESIGN_COIN);
  EXPECT_DOUBLE_EQ(cell.nominal_capacity_ah(), 0.005);
  EXPECT_DOUBLE_EQ(cell.protocol().voltage_max_v(), 4.25);
  EXPECT_EQ(job.spec().cycling().max_cycles(), 500u);
  EXPECT_EQ(job.spec().campaign_id(), "camp-1");
  EXPECT_EQ(job.spec().labels().at("cell"), "A7");

  // Defaults fill everything that was left out, and the server accepts them.
  const std::string defaults_id = Submit({"--cycling"});
  EXPECT_NE(defaults_id, id);
}

TEST_F(CliTest, StatusPrintsStateWithoutPrefix) {
  const std::string id = Submit({Example("cycling")});
  // Global flags may also follow the command.
  const CommandResult r = RunCommand(
      {IonloopCliPath(), "status", id, "--server", daemon_->address(), "--timeout", "30"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr(id));
  EXPECT_THAT(r.out, HasSubstr("QUEUED"));
  EXPECT_THAT(r.out, HasSubstr("cycling"));
  EXPECT_THAT(r.out, Not(HasSubstr("JOB_STATE_")));
}

TEST_F(CliTest, ListFiltersByKindStateAndLabel) {
  const std::string cycling = Submit({Example("cycling"), "--label", "batch=a"});
  const std::string xrd = Submit({Example("xrd"), "--label", "batch=b"});
  const std::string synthetic = Submit({Example("synthetic"), "--label", "batch=b"});
  ASSERT_EQ(Cli({"cancel", xrd}).exit_code, 0);

  const CommandResult by_kind = Cli({"list", "--kind", "cycling", "--output", "json"});
  ASSERT_EQ(by_kind.exit_code, 0) << Describe(by_kind);
  const auto kind_page = ParseJson<ionloop::v1::ListJobsResponse>(by_kind.out);
  ASSERT_EQ(kind_page.jobs_size(), 1) << by_kind.out;
  EXPECT_EQ(kind_page.jobs(0).id(), cycling);

  const CommandResult by_state = Cli({"list", "--state", "cancelled"});
  ASSERT_EQ(by_state.exit_code, 0) << Describe(by_state);
  EXPECT_THAT(by_state.out, HasSubstr(xrd));
  EXPECT_THAT(by_state.out, HasSubstr("CANCELLED"));
  EXPECT_THAT(by_state.out, Not(HasSubstr(cycling + " ")));

  const CommandResult by_states =
      Cli({"list", "--state", "queued,cancelled", "--label", "batch=b", "--output", "json"});
  ASSERT_EQ(by_states.exit_code, 0) << Describe(by_states);
  const auto states_page = ParseJson<ionloop::v1::ListJobsResponse>(by_states.out);
  ASSERT_EQ(states_page.jobs_size(), 2) << by_states.out;
  EXPECT_EQ(states_page.jobs(0).id(), synthetic);  // newest first
  EXPECT_EQ(states_page.jobs(1).id(), xrd);
}

TEST_F(CliTest, ListFollowsPagesWithAll) {
  for (int i = 0; i < 3; ++i) Submit({Example("synthetic")});
  const CommandResult one_page = Cli({"list", "--page-size", "2"});
  ASSERT_EQ(one_page.exit_code, 0) << Describe(one_page);
  EXPECT_THAT(one_page.err, HasSubstr("--all"));
  EXPECT_THAT(one_page.out, Not(HasSubstr("job-1 ")));

  const CommandResult all = Cli({"list", "--page-size", "2", "--all", "--output", "json"});
  ASSERT_EQ(all.exit_code, 0) << Describe(all);
  const auto response = ParseJson<ionloop::v1::ListJobsResponse>(all.out);
  EXPECT_EQ(response.jobs_size(), 3);
  EXPECT_EQ(response.next_page_token(), "");
}

TEST_F(CliTest, CancelTwiceFailsWithFailedPrecondition) {
  const std::string id = Submit({Example("cycling")});
  const CommandResult first = Cli({"cancel", id, "--reason", "wrong cell"});
  ASSERT_EQ(first.exit_code, 0) << Describe(first);
  EXPECT_THAT(first.out, HasSubstr("CANCELLED"));

  const CommandResult second = Cli({"cancel", id});
  EXPECT_EQ(second.exit_code, 1) << Describe(second);
  EXPECT_THAT(second.err, HasSubstr("FAILED_PRECONDITION"));
  EXPECT_EQ(second.err.find('\n'), second.err.size() - 1) << "one line: " << second.err;
}

TEST_F(CliTest, WatchOfCancelledJobExitsNonZero) {
  const std::string id = Submit({Example("cycling")});
  ASSERT_EQ(Cli({"cancel", id}).exit_code, 0);
  const CommandResult r = Cli({"watch", id});
  EXPECT_EQ(r.exit_code, 4) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("CANCELLED"));
}

TEST_F(CliTest, WatchReturnsWhenAnotherCommandCancels) {
  const std::string id = Submit({Example("cycling")});
  LiveProcess watch({IonloopCliPath(), "--server", daemon_->address(), "watch", id});
  // The first line is the current state: from here on the watch is live.
  ASSERT_TRUE(watch.WaitForOutput("QUEUED", absl::Seconds(30))) << watch.out();

  const CommandResult cancel = Cli({"cancel", id, "--reason", "operator"});
  ASSERT_EQ(cancel.exit_code, 0) << Describe(cancel);

  EXPECT_EQ(watch.Wait(absl::Seconds(30)), 4) << watch.out();
  EXPECT_THAT(watch.out(), HasSubstr("CANCELLED"));
  EXPECT_THAT(watch.out(), HasSubstr("operator"));
}

TEST_F(CliTest, WatchJsonPrintsOneObjectPerLine) {
  const std::string id = Submit({Example("cycling")});
  ASSERT_EQ(Cli({"cancel", id}).exit_code, 0);
  const CommandResult r = Cli({"--output", "json", "watch", id});
  EXPECT_EQ(r.exit_code, 4) << Describe(r);
  for (absl::string_view line : absl::StrSplit(r.out, '\n', absl::SkipEmpty())) {
    const auto response = ParseJson<ionloop::v1::WatchJobResponse>(std::string(line));
    EXPECT_EQ(response.job().id(), id);
  }
}

TEST_F(CliTest, MeasurementsCsvPrintsHeaderForJobWithoutMeasurements) {
  const std::string id = Submit({Example("cycling")});
  const CommandResult r = Cli({"measurements", id, "--csv"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, StartsWith(kCsvHeaderStart));
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << "header only: " << r.out;

  const CommandResult unknown = Cli({"measurements", "job-999", "--csv"});
  EXPECT_EQ(unknown.exit_code, 1) << Describe(unknown);
  EXPECT_EQ(unknown.out, "");
}

TEST_F(CliTest, InfoReportsServer) {
  Submit({Example("cycling")});
  const CommandResult table = Cli({"info"});
  ASSERT_EQ(table.exit_code, 0) << Describe(table);
  EXPECT_THAT(table.out, HasSubstr("version"));
  EXPECT_THAT(table.out, HasSubstr("QUEUED 1"));

  const CommandResult json = Cli({"info", "--output", "json"});
  ASSERT_EQ(json.exit_code, 0) << Describe(json);
  const auto info = ParseJson<ionloop::v1::ServerInfo>(json.out);
  EXPECT_EQ(info.job_total(), 1u);
  EXPECT_FALSE(info.version().empty());
}

TEST_F(CliTest, ServerAddressComesFromEnvironment) {
  struct EnvGuard {
    explicit EnvGuard(const std::string& value) { setenv("IONLOOP_SERVER", value.c_str(), 1); }
    ~EnvGuard() { unsetenv("IONLOOP_SERVER"); }
  } guard(daemon_->address());
  const CommandResult r = RunCommand({IonloopCliPath(), "info"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
}

TEST_F(CliTest, SameIdempotencyKeyYieldsSameJob) {
  const std::string first = Submit({Example("synthetic"), "--idempotency-key", "run-42"});
  const CommandResult again =
      Cli({"submit", Example("synthetic"), "--idempotency-key", "run-42", "--output", "json"});
  ASSERT_EQ(again.exit_code, 0) << Describe(again);
  const auto response = ParseJson<ionloop::v1::SubmitJobResponse>(again.out);
  EXPECT_EQ(response.job().id(), first);
  EXPECT_FALSE(response.created());

  const CommandResult table = Cli({"submit", Example("synthetic"), "--idempotency-key", "run-42"});
  ASSERT_EQ(table.exit_code, 0) << Describe(table);
  EXPECT_THAT(table.out, HasSubstr(first));
  EXPECT_THAT(table.out, HasSubstr("existing"));

  EXPECT_NE(Submit({Example("synthetic"), "--idempotency-key", "run-43"}), first);
}

TEST_F(CliTest, BadJobFileExitsTwo) {
  const CommandResult missing = Cli({"submit", dir_.path() + "/no-such-job.json"});
  EXPECT_EQ(missing.exit_code, 2) << Describe(missing);
  EXPECT_THAT(missing.err, HasSubstr("no-such-job.json"));

  const CommandResult broken = Cli({"submit", WriteFile("broken.json", R"({"cycling": )")});
  EXPECT_EQ(broken.exit_code, 2) << Describe(broken);
  EXPECT_THAT(broken.err, HasSubstr("broken.json"));

  const CommandResult misspelt =
      Cli({"submit", WriteFile("misspelt.json", R"({"cycling": {"max_cyclez": 3}})")});
  EXPECT_EQ(misspelt.exit_code, 2) << Describe(misspelt);
  EXPECT_THAT(misspelt.err, HasSubstr("max_cyclez"));

  // Nothing reached the server.
  const CommandResult list = Cli({"list", "--output", "json"});
  ASSERT_EQ(list.exit_code, 0) << Describe(list);
  EXPECT_EQ(ParseJson<ionloop::v1::ListJobsResponse>(list.out).jobs_size(), 0);
}

TEST_F(CliTest, InvalidSpecIsRejectedWithExitOne) {
  const CommandResult r = Cli({"submit", "--cycling", "--capacity-ah", "-1"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(r.err, HasSubstr("nominal_capacity_ah"));
}

TEST_F(CliTest, UnknownJobExitsOneWithNotFound) {
  for (const char* command : {"status", "cancel", "watch", "measurements"}) {
    const CommandResult r = Cli({command, "job-999"});
    EXPECT_EQ(r.exit_code, 1) << command << "\n" << Describe(r);
    EXPECT_THAT(r.err, HasSubstr("NOT_FOUND")) << command;
  }
  const CommandResult malformed = Cli({"status", "not-a-job"});
  EXPECT_EQ(malformed.exit_code, 1) << Describe(malformed);
  EXPECT_THAT(malformed.err, HasSubstr("INVALID_ARGUMENT"));
}

TEST(CliServerDownTest, UnreachableServerExitsThree) {
  const int port = UnusedPort();
  ASSERT_GT(port, 0);
  const std::string address = absl::StrCat("127.0.0.1:", port);
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"status", "job-1"}, {"list"}, {"watch", "job-1"}, {"info"}}) {
    std::vector<std::string> argv = {IonloopCliPath(), "--server", address, "--timeout", "3"};
    argv.insert(argv.end(), args.begin(), args.end());
    const CommandResult r = RunCommand(argv, absl::Seconds(30));
    EXPECT_EQ(r.exit_code, 3) << args[0] << "\n" << Describe(r);
    EXPECT_THAT(r.err, HasSubstr(absl::StrCat("cannot reach ionloopd at ", address)));
  }
}

}  // namespace
}  // namespace ionloop::testing

namespace ionloop::testing {
namespace {

// `ionloop import` against a real ionloopd, on a real Maccor export from
// ../shared/data (skipped when that folder is absent).
class CliImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fixture_ = std::string(IONLOOP_SHARED_DATA_DIR) +
               "/beep_fixtures/PreDiag_000229_000229_truncated.034";
    if (!std::filesystem::exists(fixture_)) {
      GTEST_SKIP() << "no " << fixture_ << ": the shared reference data is not here";
    }
    auto daemon = DaemonProcess::Start(dir_.path() + "/data");
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = std::move(*daemon);
    cell_ = ExamplesDir() + "/cells/prediag_nmc532_graphite.json";
  }

  CommandResult Cli(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {IonloopCliPath(), "--server", daemon_->address()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  }

  TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::string fixture_;
  std::string cell_;
};

TEST_F(CliImportTest, ImportsAMaccorFileAsAFinishedJobOnce) {
  CommandResult r = Cli({"import", fixture_, "--cell-spec", cell_, "--idempotency-key", "p229",
                         "--curves"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("imported job-1 (SUCCEEDED): 2 cycles"), std::string::npos) << r.out;
  // The cycle records carry the file's numbers (cycle 1 discharged 4.7626133936 Ah:
  // the sum over the discharge steps of cycle 0 in the file, counted from 1 here).
  CommandResult csv = Cli({"measurements", "job-1", "--csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_NE(csv.out.find("job-1,1,1,,1,3.85290120929"), std::string::npos) << csv.out.substr(0, 400);
  EXPECT_NE(csv.out.find(",4.7626133936,"), std::string::npos) << csv.out.substr(0, 400);
  EXPECT_NE(csv.out.find("voltage_curve"), std::string::npos);
  // Importing again with the key changes nothing.
  CommandResult again = Cli({"import", fixture_, "--cell-spec", cell_, "--idempotency-key", "p229"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("existing job-1"), std::string::npos) << again.out;
  CommandResult list = Cli({"--output", "json", "list"});
  EXPECT_EQ(list.out.find("job-2"), std::string::npos) << list.out;
}

TEST_F(CliImportTest, ACorruptedFileIsRefusedWithItsLineAndNothingIsStored) {
  std::ifstream in(fixture_);
  std::stringstream contents;
  contents << in.rdbuf();
  std::string text = contents.str();
  // Break a voltage in the 100th data row.
  size_t pos = 0;
  for (int line = 0; line < 102; ++line) pos = text.find('\n', pos) + 1;
  const size_t volts = text.find("\t3.", pos);
  ASSERT_NE(volts, std::string::npos);
  text.replace(volts + 1, 2, "3x");
  const std::string broken = dir_.path() + "/broken.034";
  std::ofstream(broken) << text;
  CommandResult r = Cli({"import", broken, "--cell-spec", cell_});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.err.find("broken.034:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not a number"), std::string::npos) << r.err;
  CommandResult list = Cli({"list"});
  EXPECT_EQ(list.out.find("job-"), std::string::npos) << list.out;
  CommandResult missing_cell = Cli({"import", fixture_});
  EXPECT_EQ(missing_cell.exit_code, 2);
  EXPECT_NE(missing_cell.err.find("--cell-spec"), std::string::npos) << missing_cell.err;
}

// The model commands against a real ionloopd: train (a training job, followed with
// --watch), list, show, predict for an example cell, evaluate on a generated data set.
TEST_F(CliTest, TrainsListsPredictsAndEvaluatesAModel) {
  const CommandResult trained =
      Cli({"train", "lifetime", "--dataset", "virtual:30:4", "--name", "life", "--members", "2",
           "--epochs", "20", "--hidden", "16", "--watch"});
  ASSERT_EQ(trained.exit_code, 0) << Describe(trained);
  EXPECT_THAT(trained.out, HasSubstr("SUCCEEDED"));
  EXPECT_THAT(trained.out, HasSubstr("model life@1"));

  const CommandResult models = Cli({"models"});
  ASSERT_EQ(models.exit_code, 0) << Describe(models);
  EXPECT_THAT(models.out, HasSubstr("life@1"));
  EXPECT_THAT(models.out, HasSubstr("virtual:30:4"));

  const CommandResult shown = Cli({"model", "life@1"});
  ASSERT_EQ(shown.exit_code, 0) << Describe(shown);
  EXPECT_THAT(shown.out, HasSubstr("soh_fraction"));
  EXPECT_THAT(shown.out, HasSubstr("encoder"));

  const CommandResult predicted =
      Cli({"predict", "--model", "life", "--cell",
           absl::StrCat(ExamplesDir(), "/cells/prediag_nmc532_graphite.json"), "--soh", "90,80"});
  ASSERT_EQ(predicted.exit_code, 0) << Describe(predicted);
  EXPECT_THAT(predicted.out, HasSubstr("end of life (80 % SOH)"));

  const CommandResult evaluated =
      Cli({"evaluate", "--model", "life@1", "--dataset", "virtual:8:77", "--per-cell"});
  ASSERT_EQ(evaluated.exit_code, 0) << Describe(evaluated);
  EXPECT_THAT(evaluated.out, HasSubstr("virtual-0000"));
  EXPECT_THAT(evaluated.out, HasSubstr("RMSE"));

  const CommandResult unknown = Cli({"model", "life@9"});
  EXPECT_EQ(unknown.exit_code, 1) << Describe(unknown);
  EXPECT_THAT(unknown.err, HasSubstr("NOT_FOUND"));
  EXPECT_THAT(unknown.err, HasSubstr("life@9"));
}

}  // namespace
}  // namespace ionloop::testing
