// Small helpers the benchmarks share.
#ifndef IONLOOP_BENCH_BENCH_UTIL_H_
#define IONLOOP_BENCH_BENCH_UTIL_H_

#include <stdlib.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"

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

}  // namespace ionloop::bench

#endif  // IONLOOP_BENCH_BENCH_UTIL_H_
