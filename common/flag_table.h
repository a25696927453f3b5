// Flags for the daemons (ionloopd, ionloop-worker): one table per binary that parses
// `--name=value` / `--name value` into a typed config struct and prints --help from
// the same rows, so a flag cannot exist undocumented. Names use dashes
// (--data-dir), as the README and deploy files spell them.
#ifndef IONLOOP_COMMON_FLAG_TABLE_H_
#define IONLOOP_COMMON_FLAG_TABLE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ionloop {

class FlagTable {
 public:
  // `usage` is printed above the flag list.
  explicit FlagTable(std::string usage) : usage_(std::move(usage)) {}

  // Each binds a flag to a field; the field's value at registration is the default.
  void String(std::string name, std::string* target, std::string help);
  void Double(std::string name, double* target, std::string help);
  void Int(std::string name, int* target, std::string help);
  void Bool(std::string name, bool* target, std::string help);

  // Parses argv[1..]. Returns the positional arguments. INVALID_ARGUMENT naming the
  // flag for an unknown flag, a missing value or a value of the wrong type.
  // `--help`/`-h` sets help_requested() and stops parsing.
  absl::StatusOr<std::vector<std::string>> Parse(int argc, const char* const* argv);
  bool help_requested() const { return help_requested_; }
  std::string Help() const;

 private:
  struct Row {
    std::string name;
    std::string value_name;  // "STRING", "NUMBER", ""
    std::string default_text;
    std::string help;
    std::function<absl::Status(absl::string_view)> set;
  };
  std::string usage_;
  std::vector<Row> rows_;
  bool help_requested_ = false;
};

}  // namespace ionloop

#endif  // IONLOOP_COMMON_FLAG_TABLE_H_
