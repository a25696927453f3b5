#include "common/job_id.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ionloop {
namespace {
constexpr absl::string_view kPrefix = "job-";
}  // namespace

std::string FormatJobId(int64_t key) { return absl::StrCat(kPrefix, key); }

absl::StatusOr<int64_t> ParseJobId(absl::string_view id, absl::string_view field) {
  int64_t key = 0;
  if (!absl::StartsWith(id, kPrefix) || !absl::SimpleAtoi(id.substr(kPrefix.size()), &key) ||
      key < 1 || id.size() > 24 || !absl::ascii_isdigit(id[kPrefix.size()])) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": '", id.substr(0, 64), "' is not a job id (expected \"job-<number>\")"));
  }
  return key;
}

}  // namespace ionloop
