#include "common/model_ref.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ionloop {

absl::StatusOr<ModelRef> ParseModelRef(absl::string_view text, absl::string_view field) {
  const auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": must be \"name\" or \"name@version\" (name [a-z0-9_.-]{1,63}, version >= 1), "
               "got \"",
        absl::CEscape(text), "\""));
  };
  ModelRef ref;
  const size_t at = text.find('@');
  const absl::string_view name = text.substr(0, at);
  if (name.empty() || name.size() > 63 ||
      !std::all_of(name.begin(), name.end(), [](char c) {
        return absl::ascii_islower(static_cast<unsigned char>(c)) ||
               absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
               c == '-';
      })) {
    return bad();
  }
  ref.name = std::string(name);
  if (at != absl::string_view::npos &&
      (!absl::SimpleAtoi(text.substr(at + 1), &ref.version) || ref.version == 0)) {
    return bad();
  }
  return ref;
}

std::string ModelRefText(absl::string_view name, uint32_t version) {
  return absl::StrCat(name, "@", version);
}

}  // namespace ionloop
