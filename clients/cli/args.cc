#include "clients/cli/args.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ionloop::cli {
namespace {

const FlagSpec* FindFlag(absl::Span<const FlagSpec> flags, absl::string_view name) {
  for (const FlagSpec& f : flags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

}  // namespace

std::optional<std::string> ParsedArgs::Value(absl::string_view flag) const {
  auto it = flags_.find(flag);
  if (it == flags_.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> ParsedArgs::Values(absl::string_view flag) const {
  auto it = flags_.find(flag);
  if (it == flags_.end()) return {};
  return it->second;
}

const CommandSpec* FindCommand(absl::Span<const CommandSpec> commands, absl::string_view name) {
  for (const CommandSpec& c : commands) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

absl::StatusOr<ParsedArgs> ParseCommandLine(absl::Span<const std::string> args,
                                            absl::Span<const FlagSpec> global_flags,
                                            absl::Span<const CommandSpec> commands) {
  ParsedArgs parsed;
  const CommandSpec* command = nullptr;
  bool flags_ended = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const bool is_flag = !flags_ended && arg.size() > 1 && arg[0] == '-';
    if (!is_flag) {
      if (command == nullptr) {
        command = FindCommand(commands, arg);
        if (command == nullptr) {
          return absl::InvalidArgumentError(absl::StrCat("unknown command '", arg, "'"));
        }
        parsed.command_ = arg;
      } else {
        parsed.positionals_.push_back(arg);
      }
      continue;
    }
    if (arg == "--") {
      flags_ended = true;
      continue;
    }
    absl::string_view body = arg;
    if (arg == "-h") {
      body = "help";
    } else if (!absl::ConsumePrefix(&body, "--")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag '", arg, "' (flags are spelled --name)"));
    }
    absl::string_view name = body;
    std::optional<std::string> inline_value;
    if (size_t eq = body.find('='); eq != absl::string_view::npos) {
      name = body.substr(0, eq);
      inline_value = std::string(body.substr(eq + 1));
    }
    const FlagSpec* spec = FindFlag(global_flags, name);
    if (spec == nullptr && command != nullptr) spec = FindFlag(command->flags, name);
    if (spec == nullptr) {
      if (command == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            "unknown flag --", name, " before the command (only global flags go there)"));
      }
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, " for '", command->name, "'"));
    }
    std::vector<std::string>& values = parsed.flags_[std::string(name)];
    if (spec->arity == FlagArity::kSwitch) {
      if (inline_value.has_value()) {
        return absl::InvalidArgumentError(absl::StrCat("flag --", name, " takes no value"));
      }
      continue;
    }
    if (inline_value.has_value()) {
      values.push_back(*std::move(inline_value));
    } else if (i + 1 < args.size()) {
      // The next word is the value even when it starts with '-': "--temperature-c -10".
      values.push_back(args[++i]);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --", name, " needs a value (", spec->value_name, ")"));
    }
  }
  return parsed;
}

absl::StatusOr<double> ParseDoubleFlag(absl::string_view flag, absl::string_view text) {
  double value = 0;
  if (!absl::SimpleAtod(text, &value) || !std::isfinite(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": expected a number, got '", text, "'"));
  }
  return value;
}

absl::StatusOr<int64_t> ParseIntFlag(absl::string_view flag, absl::string_view text, int64_t min,
                                     int64_t max) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": expected an integer, got '", text, "'"));
  }
  if (value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": must be in ", min, "..", max, ", got ", value));
  }
  return value;
}

absl::StatusOr<std::pair<std::string, std::string>> ParseLabelFlag(absl::string_view flag,
                                                                   absl::string_view text) {
  std::pair<std::string, std::string> kv = absl::StrSplit(text, absl::MaxSplits('=', 1));
  if (kv.first.empty() || text.find('=') == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": expected key=value, got '", text, "'"));
  }
  return kv;
}

}  // namespace ionloop::cli
