#include "common/flag_table.h"

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ionloop {

void FlagTable::String(std::string name, std::string* target, std::string help) {
  rows_.push_back({std::move(name), "TEXT", *target, std::move(help),
                   [target](absl::string_view v) {
                     *target = std::string(v);
                     return absl::OkStatus();
                   }});
}

void FlagTable::Double(std::string name, double* target, std::string help) {
  const std::string flag = name;
  rows_.push_back({std::move(name), "NUMBER", absl::StrCat(*target), std::move(help),
                   [target, flag](absl::string_view v) {
                     double d = 0;
                     if (!absl::SimpleAtod(v, &d) || !std::isfinite(d)) {
                       return absl::InvalidArgumentError(
                           absl::StrCat("--", flag, ": expected a number, got '", v, "'"));
                     }
                     *target = d;
                     return absl::OkStatus();
                   }});
}

void FlagTable::Int(std::string name, int* target, std::string help) {
  const std::string flag = name;
  rows_.push_back({std::move(name), "INT", absl::StrCat(*target), std::move(help),
                   [target, flag](absl::string_view v) {
                     if (!absl::SimpleAtoi(v, target)) {
                       return absl::InvalidArgumentError(
                           absl::StrCat("--", flag, ": expected an integer, got '", v, "'"));
                     }
                     return absl::OkStatus();
                   }});
}

void FlagTable::Bool(std::string name, bool* target, std::string help) {
  const std::string flag = name;
  rows_.push_back({std::move(name), "", *target ? "true" : "false", std::move(help),
                   [target, flag](absl::string_view v) {
                     if (!absl::SimpleAtob(v, target)) {
                       return absl::InvalidArgumentError(
                           absl::StrCat("--", flag, ": expected true or false, got '", v, "'"));
                     }
                     return absl::OkStatus();
                   }});
}

absl::StatusOr<std::vector<std::string>> FlagTable::Parse(int argc, const char* const* argv) {
  std::vector<std::string> positionals;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") {
      for (++i; i < argc; ++i) positionals.emplace_back(argv[i]);
      break;
    }
    if (arg == "--help" || arg == "-h") {
      help_requested_ = true;
      return positionals;
    }
    if (!absl::StartsWith(arg, "--")) {
      positionals.emplace_back(arg);
      continue;
    }
    arg.remove_prefix(2);
    absl::string_view name = arg;
    absl::string_view value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != absl::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    const Row* row = nullptr;
    for (const Row& r : rows_) {
      if (r.name == name) row = &r;
    }
    if (row == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, " (see --help)"));
    }
    if (!has_value) {
      if (row->value_name.empty()) {
        value = "true";  // a bare boolean switch
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return absl::InvalidArgumentError(absl::StrCat("--", name, ": missing value"));
      }
    }
    absl::Status s = row->set(value);
    if (!s.ok()) return s;
  }
  return positionals;
}

std::string FlagTable::Help() const {
  std::string out = usage_;
  absl::StrAppend(&out, "\n\nFlags:\n");
  for (const Row& r : rows_) {
    absl::StrAppend(&out, "  --", r.name, r.value_name.empty() ? "" : "=" + r.value_name,
                    "  (default: ", r.default_text.empty() ? "\"\"" : r.default_text, ")\n      ",
                    r.help, "\n");
  }
  absl::StrAppend(&out, "  --help\n      Print this text and exit.\n");
  return out;
}

}  // namespace ionloop
