// Small helpers the benchmarks share.
#ifndef IONLOOP_BENCH_BENCH_UTIL_H_
#define IONLOOP_BENCH_BENCH_UTIL_H_

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/flag_table.h"

namespace ionloop::bench {

// A fresh scratch directory under `base` (the disk being measured); exits on failure.
inline std::string MakeScratchDir(const std::string& base, const std::string& name) {
  std::string tmpl = absl::StrCat(base, "/ionloop-bench-", name, "-XXXXXX");
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    std::exit(1);
  }
  return tmpl;
}

// The value, or exit(1) after printing `what` and the error: a benchmark cannot go on
// without it.
template <typename T>
T OrDie(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, v.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(v);
}
inline void OrDie(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

// Parses the command line: nullopt to go on, or main's exit code after --help (0) or a
// bad flag (2, with the help).
inline std::optional<int> ParseFlags(FlagTable& flags, int argc, char** argv) {
  auto parsed = flags.Parse(argc, argv);
  if (flags.help_requested()) {
    std::printf("%s", flags.Help().c_str());
    return 0;
  }
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s\n%s", parsed.status().ToString().c_str(), flags.Help().c_str());
    return 2;
  }
  return std::nullopt;
}

}  // namespace ionloop::bench

#endif  // IONLOOP_BENCH_BENCH_UTIL_H_
