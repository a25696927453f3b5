#include "common/job_id.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/strip.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ionloop {
namespace {
constexpr absl::string_view kPrefix = "job-";
}  // namespace

std::string FormatJobId(int64_t key) { return absl::StrCat(kPrefix, key); }

absl::StatusOr<int64_t> ParseJobId(absl::string_view id, absl::string_view field) {
  // Canonical form only: "job-" then digits without a leading zero, so that one job
  // has exactly one id ("job-01", "job-1 " and "job-+1" are not job-1).
  absl::string_view digits = id;
  int64_t key = 0;
  const bool ok = absl::ConsumePrefix(&digits, kPrefix) && !digits.empty() && digits[0] != '0' &&
                  std::all_of(digits.begin(), digits.end(),
                              [](char c) { return absl::ascii_isdigit(c); }) &&
                  absl::SimpleAtoi(digits, &key);
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": '", absl::CHexEscape(id.substr(0, 64)),
                                                   "' is not a job id (expected \"job-<number>\")"));
  }
  return key;
}

}  // namespace ionloop
