// A one-line progress bar for terminals, redrawn in place under the event lines that
// `ionloop watch` prints.
#ifndef IONLOOP_CLIENTS_CLI_PROGRESS_BAR_H_
#define IONLOOP_CLIENTS_CLI_PROGRESS_BAR_H_

#include <cstdio>
#include <string>

#include "absl/strings/string_view.h"

namespace ionloop::cli {

// Whether `stream` is a terminal (a bar on a pipe would be garbage in a log).
bool IsTerminal(std::FILE* stream);

class ProgressBar {
 public:
  // `columns`: the terminal width; the bar fits in it.
  ProgressBar(std::FILE* out, int columns) : out_(out), columns_(columns) {}
  // Width of the terminal behind `stream`, or 80.
  static int TerminalColumns(std::FILE* stream);

  // "[#########.........]  42%  RUNNING", replacing the previous bar.
  void Draw(double fraction, absl::string_view label);
  // Erases the bar so that an ordinary line can be printed in its place.
  void Clear();

  // The text of the bar without terminal control codes (for tests).
  static std::string Render(double fraction, absl::string_view label, int columns);

 private:
  std::FILE* out_;
  int columns_;
  bool drawn_ = false;
};

}  // namespace ionloop::cli

#endif  // IONLOOP_CLIENTS_CLI_PROGRESS_BAR_H_
