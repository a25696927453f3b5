// Help texts, rendered from the same command and flag tables that the parser uses.
#ifndef IONLOOP_CLIENTS_CLI_USAGE_H_
#define IONLOOP_CLIENTS_CLI_USAGE_H_

#include <string>

#include "absl/types/span.h"
#include "clients/cli/args.h"

namespace ionloop::cli {

// `ionloop --help`: every command and flag, exit codes, environment, examples.
std::string FullUsage(absl::Span<const FlagSpec> global_flags,
                      absl::Span<const CommandSpec> commands);
// `ionloop help CMD` / `ionloop CMD --help`.
std::string CommandUsage(const CommandSpec& command, absl::Span<const FlagSpec> global_flags);

}  // namespace ionloop::cli

#endif  // IONLOOP_CLIENTS_CLI_USAGE_H_
