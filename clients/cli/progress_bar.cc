#include "clients/cli/progress_bar.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "clients/cli/format.h"

namespace ionloop::cli {

bool IsTerminal(std::FILE* stream) { return isatty(fileno(stream)) == 1; }

int ProgressBar::TerminalColumns(std::FILE* stream) {
  winsize ws{};
  if (ioctl(fileno(stream), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

std::string ProgressBar::Render(double fraction, absl::string_view label, int columns) {
  if (!std::isfinite(fraction)) fraction = 0;
  fraction = std::clamp(fraction, 0.0, 1.0);
  const std::string suffix = absl::StrFormat(" %4s  %s", FormatPercent(fraction), label);
  // Room for "[", "]" and the suffix; one column spare so the cursor never wraps.
  const int inner = std::clamp(columns - 3 - static_cast<int>(suffix.size()), 10, 50);
  const int filled = static_cast<int>(std::floor(fraction * inner));
  return absl::StrCat("[", std::string(filled, '#'), std::string(inner - filled, '.'), "]", suffix);
}

void ProgressBar::Draw(double fraction, absl::string_view label) {
  const std::string bar = Render(fraction, label, columns_);
  // \r to column 0, the bar, then erase whatever a longer previous bar left behind.
  std::fprintf(out_, "\r%s\033[K", bar.c_str());
  std::fflush(out_);
  drawn_ = true;
}

void ProgressBar::Clear() {
  if (!drawn_) return;
  std::fputs("\r\033[K", out_);
  std::fflush(out_);
  drawn_ = false;
}

}  // namespace ionloop::cli
