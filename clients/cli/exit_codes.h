// Exit codes of the `ionloop` command. Scripts branch on these, so they are part of the
// CLI's contract: add new ones, never renumber.
#ifndef IONLOOP_CLIENTS_CLI_EXIT_CODES_H_
#define IONLOOP_CLIENTS_CLI_EXIT_CODES_H_

namespace ionloop::cli {

enum ExitCode : int {
  kExitOk = 0,
  // ionloopd answered and refused: NOT_FOUND, INVALID_ARGUMENT, FAILED_PRECONDITION, ...
  kExitRejected = 1,
  // Bad command line or unreadable / unparsable job file. Nothing was sent.
  kExitUsage = 2,
  // No answer from ionloopd (UNAVAILABLE, DEADLINE_EXCEEDED): retrying may help.
  kExitUnreachable = 3,
  // `watch`: the job ended FAILED, CANCELLED or LOST.
  kExitJobNotSucceeded = 4,
};

}  // namespace ionloop::cli

#endif  // IONLOOP_CLIENTS_CLI_EXIT_CODES_H_
