// A small command-line parser for `ionloop CMD [ARGS] [--flags]`: GNU-style long flags
// (`--name value` or `--name=value`), global flags anywhere on the line, `--` ending
// flags, `-` as a positional (stdin). The flag tables double as the help text source, so
// a flag cannot exist without being documented.
#ifndef IONLOOP_CLIENTS_CLI_ARGS_H_
#define IONLOOP_CLIENTS_CLI_ARGS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace ionloop::cli {

enum class FlagArity {
  kSwitch,    // --all
  kValue,     // --server ADDR (the last one given wins)
  kRepeated,  // --label k=v --label k2=v2
};

struct FlagSpec {
  absl::string_view name;  // without dashes: "server"
  FlagArity arity;
  absl::string_view value_name;  // "ADDR"; empty for switches
  absl::string_view help;
};

struct CommandSpec {
  absl::string_view name;
  absl::string_view synopsis;  // arguments after the name: "ID [--reason R]"
  absl::string_view summary;   // one line for the command list
  absl::string_view details;   // the body of `ionloop help CMD`
  std::vector<FlagSpec> flags;
};

class ParsedArgs {
 public:
  // Empty when the line held only global flags.
  const std::string& command() const { return command_; }
  const std::vector<std::string>& positionals() const { return positionals_; }

  bool Has(absl::string_view flag) const { return flags_.find(flag) != flags_.end(); }
  // The last value of a kValue flag; nullopt when absent.
  std::optional<std::string> Value(absl::string_view flag) const;
  // Every value of a kRepeated (or kValue) flag, in order.
  std::vector<std::string> Values(absl::string_view flag) const;

 private:
  friend absl::StatusOr<ParsedArgs> ParseCommandLine(absl::Span<const std::string> args,
                                                     absl::Span<const FlagSpec> global_flags,
                                                     absl::Span<const CommandSpec> commands);
  std::string command_;
  std::vector<std::string> positionals_;
  std::map<std::string, std::vector<std::string>, std::less<>> flags_;
};

// `args` excludes argv[0]. The first positional names the command; flags before it must
// be global ones. `-h` is read as `--help`. INVALID_ARGUMENT for unknown commands or
// flags, a missing value, or a value given to a switch.
absl::StatusOr<ParsedArgs> ParseCommandLine(absl::Span<const std::string> args,
                                            absl::Span<const FlagSpec> global_flags,
                                            absl::Span<const CommandSpec> commands);

const CommandSpec* FindCommand(absl::Span<const CommandSpec> commands, absl::string_view name);

// Value conversions; errors name the flag and quote the text.
absl::StatusOr<double> ParseDoubleFlag(absl::string_view flag, absl::string_view text);
absl::StatusOr<int64_t> ParseIntFlag(absl::string_view flag, absl::string_view text, int64_t min,
                                     int64_t max);
// "key=value" (the value may contain '=' and be empty; the key may not).
absl::StatusOr<std::pair<std::string, std::string>> ParseLabelFlag(absl::string_view flag,
                                                                   absl::string_view text);

}  // namespace ionloop::cli

#endif  // IONLOOP_CLIENTS_CLI_ARGS_H_
