// Model references as users write them: "name" (the latest version) or "name@version".
#ifndef IONLOOP_COMMON_MODEL_REF_H_
#define IONLOOP_COMMON_MODEL_REF_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ionloop {

struct ModelRef {
  std::string name;
  uint32_t version = 0;  // 0: the latest
};

// INVALID_ARGUMENT naming `field` and the text for anything but [a-z0-9_.-]{1,63}
// optionally followed by @N (N >= 1).
absl::StatusOr<ModelRef> ParseModelRef(absl::string_view text, absl::string_view field);

// "name@3".
std::string ModelRefText(absl::string_view name, uint32_t version);

}  // namespace ionloop

#endif  // IONLOOP_COMMON_MODEL_REF_H_
