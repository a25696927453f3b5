#include "clients/cli/usage.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ionloop::cli {
namespace {

constexpr size_t kHelpColumn = 28;

constexpr char kExitCodes[] = R"(Exit codes:
  0  success (watch: the job ended SUCCEEDED)
  1  ionloopd rejected the request; the gRPC code and message are printed,
     e.g. "NOT_FOUND: ...", "INVALID_ARGUMENT: ...", "FAILED_PRECONDITION: ..."
  2  usage error, or a job file that cannot be read or parsed (nothing was sent)
  3  ionloopd unreachable: UNAVAILABLE or DEADLINE_EXCEEDED (retrying may help)
  4  watch: the job ended FAILED, CANCELLED or LOST
)";

constexpr char kEnvironmentAndExamples[] = R"(Environment:
  IONLOOP_SERVER   default for --server (else 127.0.0.1:50051)

Examples:
  ionloop submit examples/jobs/cycling.json --label batch=7
  ionloop submit --cycling --ion na --positive NVPF --negative hard-carbon \
      --capacity-ah 0.005 --v-min 2.0 --v-max 4.25 --max-cycles 500
  id=$(ionloop submit --quiet job.json) && ionloop watch "$id"
  ionloop list --state queued,running --kind cycling --all
  ionloop measurements job-12 --csv > job-12.csv
  ionloop --server lab1:50051 --output json status job-12
)";

// "  --name VALUE   help", continuation lines of the help indented to kHelpColumn.
std::string RenderFlags(absl::Span<const FlagSpec> flags) {
  std::string out;
  for (const FlagSpec& f : flags) {
    std::string left = absl::StrCat("  ", f.name == "help" ? "-h, " : "", "--", f.name);
    if (!f.value_name.empty()) absl::StrAppend(&left, " ", f.value_name);
    bool first = true;
    for (absl::string_view line : absl::StrSplit(f.help, '\n')) {
      if (first && left.size() + 2 <= kHelpColumn) {
        absl::StrAppend(&out, left, std::string(kHelpColumn - left.size(), ' '), line, "\n");
      } else {
        if (first) absl::StrAppend(&out, left, "\n");
        absl::StrAppend(&out, std::string(kHelpColumn, ' '), line, "\n");
      }
      first = false;
    }
  }
  return out;
}

std::string Indent(absl::string_view text, absl::string_view prefix) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    absl::StrAppend(&out, line.empty() ? "" : prefix, line, "\n");
  }
  return out;
}

std::string CommandSection(const CommandSpec& c) {
  std::string out = absl::StrCat("ionloop ", c.name, c.synopsis.empty() ? "" : " ", c.synopsis,
                                 "\n", c.details.empty() ? "" : Indent(c.details, "  "));
  if (!c.flags.empty()) absl::StrAppend(&out, "\n", RenderFlags(c.flags));
  return out;
}

}  // namespace

std::string FullUsage(absl::Span<const FlagSpec> global_flags,
                      absl::Span<const CommandSpec> commands) {
  std::string out =
      "ionloop: the command-line client of the ionloop orchestrator (ionloopd)\n\n"
      "Usage: ionloop [GLOBAL FLAGS] COMMAND [ARGS] [FLAGS]\n\nCommands:\n";
  size_t width = 0;
  for (const CommandSpec& c : commands) width = std::max(width, c.name.size());
  for (const CommandSpec& c : commands) {
    absl::StrAppend(&out, "  ", c.name, std::string(width - c.name.size() + 3, ' '), c.summary,
                    "\n");
  }
  absl::StrAppend(&out, "\nGlobal flags (anywhere on the line):\n", RenderFlags(global_flags));
  for (const CommandSpec& c : commands) absl::StrAppend(&out, "\n", CommandSection(c));
  absl::StrAppend(&out, "\n", kExitCodes, "\n", kEnvironmentAndExamples);
  return out;
}

std::string CommandUsage(const CommandSpec& command, absl::Span<const FlagSpec> global_flags) {
  return absl::StrCat("Usage: ", CommandSection(command),
                      "\nGlobal flags (anywhere on the line):\n", RenderFlags(global_flags), "\n",
                      kExitCodes);
}

}  // namespace ionloop::cli
