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

// Canonical form only: the prefix then digits without a leading zero, so that one job
// has exactly one id ("job-01", "job-1 " and "job-+1" are not job-1).
absl::StatusOr<int64_t> ParseId(absl::string_view id, absl::string_view prefix,
                                absl::string_view what, absl::string_view field) {
  absl::string_view digits = id;
  int64_t key = 0;
  const bool ok = absl::ConsumePrefix(&digits, prefix) && !digits.empty() && digits[0] != '0' &&
                  std::all_of(digits.begin(), digits.end(),
                              [](char c) { return absl::ascii_isdigit(c); }) &&
                  absl::SimpleAtoi(digits, &key);
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": '", absl::CHexEscape(id.substr(0, 64)),
                                                   "' is not a ", what, " id (expected \"",
                                                   prefix, "<number>\")"));
  }
  return key;
}

}  // namespace

std::string FormatJobId(int64_t key) { return absl::StrCat("job-", key); }

absl::StatusOr<int64_t> ParseJobId(absl::string_view id, absl::string_view field) {
  return ParseId(id, "job-", "job", field);
}

std::string FormatCampaignId(int64_t key) { return absl::StrCat("campaign-", key); }

absl::StatusOr<int64_t> ParseCampaignId(absl::string_view id, absl::string_view field) {
  return ParseId(id, "campaign-", "campaign", field);
}

}  // namespace ionloop
