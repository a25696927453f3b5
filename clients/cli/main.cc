// ionloop: the command-line client of ionloopd. Every flag is declared here, once, with
// its help text; the parsed line becomes typed options for commands.h.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "clients/cli/args.h"
#include "clients/cli/commands.h"
#include "clients/cli/exit_codes.h"
#include "clients/cli/job_spec_input.h"
#include "clients/cli/usage.h"
#include "common/status_macros.h"

namespace ionloop::cli {
namespace {

using Arity = FlagArity;

constexpr char kDefaultServer[] = "127.0.0.1:50051";
constexpr int64_t kMaxUint32 = std::numeric_limits<uint32_t>::max();

const std::vector<FlagSpec>& GlobalFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {"server", Arity::kValue, "ADDR",
       "ionloopd host:port (default: $IONLOOP_SERVER,\n"
       "else 127.0.0.1:50051)"},
      {"output", Arity::kValue, "table|json",
       "table (default), or json: proto JSON with the\n"
       ".proto field names; one object per line for\n"
       "watch and measurements"},
      {"timeout", Arity::kValue, "SECONDS",
       "deadline of each unary call (default 10);\n"
       "connecting gives up after min(SECONDS, 5)"},
      {"help", Arity::kSwitch, "", "this text; with a command, that command's help"},
  };
  return *flags;
}

// The quick cycling flags of `submit`, also used to reject them without --cycling.
const std::vector<FlagSpec>& QuickCyclingFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {"cycling", Arity::kSwitch, "", "build a cycling job from the flags below"},
      {"ion", Arity::kValue, "ION", "li (default), na, k or mg"},
      {"positive", Arity::kValue, "NAME",
       "positive electrode (default NMC811 for li,\nNVPF for na)"},
      {"negative", Arity::kValue, "NAME",
       "negative electrode (default graphite for li,\nhard-carbon for na)"},
      {"electrolyte", Arity::kValue, "TEXT",
       "default 1 M LiPF6 in EC/EMC 3:7 (li),\n1 M NaPF6 in EC/PC (na)"},
      {"design", Arity::kValue, "DESIGN",
       "coin (default), cylindrical, pouch, prismatic,\nswagelok, three-electrode"},
      {"capacity-ah", Arity::kValue, "AH", "nominal capacity in Ah (default 0.005)"},
      {"charge-c", Arity::kValue, "RATE", "charge C-rate, 1/h (default 1)"},
      {"discharge-c", Arity::kValue, "RATE", "discharge C-rate, 1/h (default 1)"},
      {"v-min", Arity::kValue, "V", "lower cut-off voltage (default 2.8 li, 2.0 na)"},
      {"v-max", Arity::kValue, "V", "upper cut-off voltage (default 4.2 li, 4.25 na)"},
      {"temperature-c", Arity::kValue, "C", "chamber temperature, degC (default 25)"},
      {"rest-min", Arity::kValue, "MIN", "rest after each half cycle, minutes (default 0)"},
      {"eol-soh", Arity::kValue, "PERCENT",
       "end of life, % of nominal capacity\n(default: the server's 80)"},
      {"max-cycles", Arity::kValue, "N", "stop after N cycles (default 500)"},
      {"curve-cycles", Arity::kValue, "N,N,...",
       "cycles whose V(Q) discharge curve is\nrecorded, e.g. 10,100"},
  };
  return *flags;
}

std::vector<FlagSpec> SubmitFlags() {
  std::vector<FlagSpec> flags = {
      {"idempotency-key", Arity::kValue, "KEY",
       "the same key always yields the same job: a\n"
       "repeat returns the first job, queues nothing"},
      {"priority", Arity::kValue, "N", "-100..100, higher runs first (overrides file)"},
      {"campaign", Arity::kValue, "ID", "owning campaign (overrides file)"},
      {"label", Arity::kRepeated, "KEY=VALUE", "add a label; repeatable"},
      {"quiet", Arity::kSwitch, "", "print only the job id"},
  };
  const auto& quick = QuickCyclingFlags();
  flags.insert(flags.end(), quick.begin(), quick.end());
  return flags;
}

const std::vector<CommandSpec>& Commands() {
  static const auto* commands = new std::vector<CommandSpec>{
      {"submit", "FILE.json|- [flags]  or  ionloop submit --cycling [flags]",
       "queue a job from a JSON file, stdin, or quick cycling flags",
       "FILE holds a JobSpec in protobuf's JSON mapping (see examples/jobs/), e.g.\n"
       "  {\"cycling\": {\"cell\": {\"ion\": \"ION_NA\", ...}, \"max_cycles\": 500},\n"
       "   \"priority\": 5, \"labels\": {\"batch\": \"7\"}}\n"
       "snake_case or lowerCamel field names; unknown fields are errors.\n"
       "'-' reads the JSON from stdin.\n"
       "--cycling builds a cycling job from flags instead; omitted flags take the\n"
       "defaults below. Prints the job id, its state and whether it was newly created.",
       SubmitFlags()},
      {"status",
       "ID",
       "show one job",
       "Prints the job's state, progress, spec summary, labels, worker and times.",
       {}},
      {"list",
       "[flags]",
       "list jobs, newest first",
       "Filters combine (all must match). Prints one page unless --all.",
       {
           {"state", Arity::kRepeated, "S[,S...]",
            "queued, assigned, running, retrying,\n"
            "succeeded, failed, cancelled, lost; any\n"
            "matches; comma lists and repeats allowed"},
           {"kind", Arity::kValue, "KIND", "cycling, xrd, simulation, label or synthetic"},
           {"campaign", Arity::kValue, "ID", "jobs of this campaign"},
           {"label", Arity::kRepeated, "KEY=VALUE", "jobs with this label; repeatable"},
           {"page-size", Arity::kValue, "N", "jobs per page, 1..1000 (default 100)"},
           {"page-token", Arity::kValue, "TOKEN", "continue from a previous page"},
           {"all", Arity::kSwitch, "", "follow the pages to the end"},
       }},
      {"cancel",
       "ID [--reason R]",
       "cancel a job",
       "A queued job is cancelled at once; a running one is asked to stop and its\n"
       "worker confirms (follow with `ionloop watch ID`). Cancelling a finished job\n"
       "is FAILED_PRECONDITION (exit 1).",
       {{"reason", Arity::kValue, "TEXT", "recorded with the job (default \"user\")"}}},
      {"watch",
       "ID",
       "follow a job until it ends",
       "Prints one line per event: time, state, progress, event type, message.\n"
       "On a terminal a progress bar follows the last line. Exits 0 when the job\n"
       "ends SUCCEEDED and 4 when it ends FAILED, CANCELLED or LOST.",
       {}},
      {"measurements",
       "ID [--attempt N] [--csv]",
       "print a job's measurements",
       "Streams the stored measurements in (attempt, seq) order. The table shows a\n"
       "one-line summary per measurement; --output json prints one Measurement per\n"
       "line (JSON Lines). --csv prints one schema for every kind:\n"
       "  job_id,attempt,seq,recorded_at,cycle_index,charge_capacity_ah,\n"
       "  discharge_capacity_ah,charge_energy_wh,discharge_energy_wh,\n"
       "  coulombic_efficiency,mean_charge_voltage_v,mean_discharge_voltage_v,\n"
       "  internal_resistance_ohm,temperature_c,elapsed_s,kind,payload_json\n"
       "recorded_at is RFC 3339 UTC. Cycle records fill the cycle columns; the\n"
       "other kinds (voltage_curve, xrd_pattern, md_frame, synthetic) leave them\n"
       "empty and put their value as proto JSON in payload_json (synthetic samples\n"
       "give {\"value\", \"payload_bytes\"} rather than the bytes). With no\n"
       "measurements, --csv prints the header alone.",
       {
           {"attempt", Arity::kValue, "N", "only this attempt (default: all)"},
           {"csv", Arity::kSwitch, "", "CSV with a header, as above"},
       }},
      {"info",
       "",
       "show what the server is and holds",
       "Version, uptime, store path and schema, job counts by state, measurements.",
       {}},
      {"import",
       "FILE --cell-spec CELL.json [flags]",
       "store a finished test from a cycler file as a job",
       "Reads a real cycler export (Arbin CSV, Maccor text, Novonix CSV, BioLogic text\n"
       "or .mpr, Neware CSV; the format is detected from the content), turns it into\n"
       "one cycle record per cycle, and stores it as a SUCCEEDED cycling job with its\n"
       "measurements in one commit: all of it or nothing. CELL.json is a CellSpec in\n"
       "JSON (what the cell is and how it was cycled; see examples/cells/). A file\n"
       "that cannot be parsed is refused with file, line and column (exit 2).",
       {
           {"cell-spec", Arity::kValue, "CELL.json", "the cell and its protocol (required)"},
           {"curves", Arity::kSwitch, "", "also store each cycle's V(Q) discharge curve"},
           {"idempotency-key", Arity::kValue, "KEY",
            "the same key always yields the same job (re-importing is harmless)"},
           {"campaign", Arity::kValue, "ID", "owning campaign"},
           {"label", Arity::kRepeated, "KEY=VALUE", "add a label; repeatable"},
           {"quiet", Arity::kSwitch, "", "print only the job id"},
       }},
      {"workers",
       "",
       "list the workers the server knows",
       "One row per worker: id, kind, state (CONNECTED, DISCONNECTED: silent, its jobs\n"
       "wait out the grace period; GONE), channels in use, capabilities, running jobs\n"
       "and when it was last heard from.",
       {}},
      {"train",
       "lifetime|early (--dataset SPEC | --from-store [filters]) --name NAME [flags]",
       "train a lifetime or early-cycle fade model (a training job)",
       "ionloopd trains a deep ensemble as a TRAINING job (follow it with watch, or\n"
       "--watch) and stores the result as the next version of NAME. Data:\n"
       "  --dataset severson:ROOT:SPLIT  Severson et al. 2019 layout, on ionloopd's host\n"
       "  --dataset inl:DIR              INL NMC pouch layout\n"
       "  --dataset virtual:N[:SEED]     N virtual-cycler tests (the seed's Table 1 design)\n"
       "  --from-store                   cycling jobs in the store (--campaign, --ion,\n"
       "                                 --label narrow them)\n"
       "lifetime: cell properties + SOH → cycles (needs no measured cycle);\n"
       "early: the first 100 cycles → the rest of the capacity curve and end of life.",
       {
           {"dataset", Arity::kValue, "SPEC", "a data-set folder (forms above)"},
           {"from-store", Arity::kSwitch, "", "train on the store's cycling jobs"},
           {"campaign", Arity::kValue, "ID", "with --from-store: this campaign's jobs"},
           {"ion", Arity::kValue, "ION", "with --from-store: li, na, k or mg cells only"},
           {"label", Arity::kRepeated, "KEY=VALUE", "with --from-store: jobs with this label"},
           {"name", Arity::kValue, "NAME", "model name, [a-z0-9_.-]{1,63} (required)"},
           {"members", Arity::kValue, "K", "ensemble members, 1..32 (default 5)"},
           {"hidden", Arity::kValue, "N,N,...", "hidden layer widths (default 64,64)"},
           {"epochs", Arity::kValue, "N", "at most N epochs per member (default 400)"},
           {"learning-rate", Arity::kValue, "X", "Adam step size (default 0.001)"},
           {"patience", Arity::kValue, "N", "early-stopping patience, epochs (default 25)"},
           {"validation", Arity::kValue, "F", "share of cells held out, 0.05..0.5 (default 0.15)"},
           {"seed", Arity::kValue, "N", "random seed (default 1)"},
           {"embedding", Arity::kValue, "KIND", "lifetime: encoder (default) or pca"},
           {"base", Arity::kValue, "NAME[@V]", "fine-tune this model (transfer Li → Na/K/Mg)"},
           {"idempotency-key", Arity::kValue, "KEY", "the same key yields the same job"},
           {"watch", Arity::kSwitch, "", "follow the training job until it ends"},
           {"quiet", Arity::kSwitch, "", "print only the job id"},
       }},
      {"models",
       "[--name NAME] [--kind lifetime|early]",
       "list trained models, newest first",
       "One row per version: held-out MAPE and RMSE (cycles), and the share of\n"
       "held-out truths inside the 68 % and 95 % intervals (calibration).",
       {
           {"name", Arity::kValue, "NAME", "only this model's versions"},
           {"kind", Arity::kValue, "KIND", "lifetime or early"},
       }},
      {"model", "NAME[@VERSION]", "show one model: data, metrics, feature schema", "", {}},
      {"predict",
       "--model M (--cell CELL.json... [--soh P,P] | --job ID [--cycles N,N])",
       "predict with a model",
       "Lifetime model: for each CellSpec file (what the cell is and how it will be\n"
       "cycled; examples/cells/), the cycles at each SOH level with their spread.\n"
       "Early-cycle model: from a cycling job's first 100 cycles, the rest of its\n"
       "capacity curve with a band and its end of life with a 95 % interval.",
       {
           {"model", Arity::kValue, "NAME[@V]", "the model (required)"},
           {"cell", Arity::kRepeated, "CELL.json", "a cell to predict; repeatable"},
           {"soh", Arity::kValue, "P,P,...", "SOH levels, % (default 100 down to EOL)"},
           {"job", Arity::kValue, "ID", "a cycling job with its early cycles"},
           {"cycles", Arity::kValue, "N,N,...", "where to report the curve"},
       }},
      {"evaluate",
       "--model M --dataset SPEC [--per-cell]",
       "score a model on a data-set folder",
       "ionloopd reads SPEC (severson:ROOT:SPLIT, inl:DIR, virtual:N[:SEED]; the\n"
       "folder may hold cells the model never saw), predicts from what the model may\n"
       "see (early-cycle models: the first 100 cycles), and prints RMSE in cycles,\n"
       "MAPE, and interval coverage; --per-cell adds one line per prediction.",
       {
           {"model", Arity::kValue, "NAME[@V]", "the model (required)"},
           {"dataset", Arity::kValue, "SPEC", "the data set (required)"},
           {"per-cell", Arity::kSwitch, "", "one line per cell (and SOH level)"},
       }},
      {"campaign",
       "create FILE | status ID | list | watch ID | pause ID | resume ID | stop ID |\n"
       "                 proposals ID [--csv] | report ID [--out DIR]",
       "run and follow closed-loop campaigns",
       "A campaign searches a space of cells and protocols for the longest life (or\n"
       "the best life vs charge time), proposing tests to the cyclers with a model and\n"
       "an acquisition function, stopping tests early when the early-cycle model is\n"
       "confident, until its budget is used. FILE is a CampaignSpec in JSON\n"
       "(examples/campaigns/ documents every field).\n"
       "  create     validate and start; --watch follows it live\n"
       "  status     where it stands: budget used, best so far, model error\n"
       "  watch      live: proposals, test starts and results, model updates\n"
       "  pause      stop proposing (running tests go on); resume goes on\n"
       "  stop       cancel its running tests and end it\n"
       "  proposals  every proposal with its reason (model version, predicted life and\n"
       "             spread, acquisition value, rank) and its outcome\n"
       "  report     an HTML page with plots and the CSV behind each, in DIR\n"
       "             (default ./<campaign id>-report); prints its path",
       {
           {"idempotency-key", Arity::kValue, "KEY", "create: the same key yields the same campaign"},
           {"watch", Arity::kSwitch, "", "create: follow the campaign until it ends"},
           {"quiet", Arity::kSwitch, "", "create: print only the campaign id"},
           {"csv", Arity::kSwitch, "", "proposals: CSV with a header"},
           {"out", Arity::kValue, "DIR", "report: where to write it"},
       }},
      {"help", "[COMMAND]", "show this text, or one command's help", "", {}},
  };
  return *commands;
}

absl::Status UsageError(absl::string_view message) { return absl::InvalidArgumentError(message); }

// Marks errors of the job file (as opposed to the command line) for Main().
absl::Status JobFileError(const absl::Status& status) {
  return absl::FailedPreconditionError(status.message());
}

absl::StatusOr<GlobalOptions> ToGlobalOptions(const ParsedArgs& args) {
  GlobalOptions global;
  const char* env = std::getenv("IONLOOP_SERVER");
  global.server =
      args.Value("server").value_or(env != nullptr && *env != '\0' ? env : kDefaultServer);
  if (global.server.empty()) return UsageError("--server: empty address");
  const std::string output = args.Value("output").value_or("table");
  if (output == "table") {
    global.output = OutputFormat::kTable;
  } else if (output == "json") {
    global.output = OutputFormat::kJson;
  } else {
    return UsageError(absl::StrCat("--output: expected table or json, got '", output, "'"));
  }
  if (auto text = args.Value("timeout")) {
    ASSIGN_OR_RETURN(const double seconds, ParseDoubleFlag("timeout", *text));
    if (seconds <= 0 || seconds > 1e6) {
      return UsageError(absl::StrCat("--timeout: must be in (0, 1e6] seconds, got ", *text));
    }
    global.timeout = absl::Seconds(seconds);
  }
  return global;
}

// Exactly one positional: the job id.
absl::StatusOr<std::string> OneJobId(const ParsedArgs& args) {
  if (args.positionals().size() != 1) {
    return UsageError(absl::StrCat(args.command(), ": expected one job id, got ",
                                   args.positionals().size(), " arguments"));
  }
  return args.positionals()[0];
}

absl::Status NoPositionals(const ParsedArgs& args) {
  if (!args.positionals().empty()) {
    return UsageError(
        absl::StrCat(args.command(), ": unexpected argument '", args.positionals()[0], "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Labels(const ParsedArgs& args) {
  std::vector<std::pair<std::string, std::string>> labels;
  for (const std::string& text : args.Values("label")) {
    ASSIGN_OR_RETURN(auto kv, ParseLabelFlag("label", text));
    labels.push_back(std::move(kv));
  }
  return labels;
}

absl::StatusOr<std::optional<double>> OptionalDouble(const ParsedArgs& args,
                                                     absl::string_view flag) {
  auto text = args.Value(flag);
  if (!text.has_value()) return std::optional<double>();
  ASSIGN_OR_RETURN(const double value, ParseDoubleFlag(flag, *text));
  return std::optional<double>(value);
}

absl::StatusOr<QuickCyclingOptions> ToQuickCyclingOptions(const ParsedArgs& args) {
  QuickCyclingOptions o;
  o.ion = args.Value("ion");
  o.positive = args.Value("positive");
  o.negative = args.Value("negative");
  o.electrolyte = args.Value("electrolyte");
  o.design = args.Value("design");
  ASSIGN_OR_RETURN(o.capacity_ah, OptionalDouble(args, "capacity-ah"));
  ASSIGN_OR_RETURN(o.charge_c, OptionalDouble(args, "charge-c"));
  ASSIGN_OR_RETURN(o.discharge_c, OptionalDouble(args, "discharge-c"));
  ASSIGN_OR_RETURN(o.v_min, OptionalDouble(args, "v-min"));
  ASSIGN_OR_RETURN(o.v_max, OptionalDouble(args, "v-max"));
  ASSIGN_OR_RETURN(o.temperature_c, OptionalDouble(args, "temperature-c"));
  ASSIGN_OR_RETURN(o.rest_minutes, OptionalDouble(args, "rest-min"));
  ASSIGN_OR_RETURN(o.eol_soh_percent, OptionalDouble(args, "eol-soh"));
  if (auto text = args.Value("max-cycles")) {
    ASSIGN_OR_RETURN(const int64_t n, ParseIntFlag("max-cycles", *text, 0, kMaxUint32));
    o.max_cycles = static_cast<uint32_t>(n);
  }
  if (auto text = args.Value("curve-cycles")) {
    for (absl::string_view item : absl::StrSplit(*text, ',', absl::SkipWhitespace())) {
      ASSIGN_OR_RETURN(const int64_t n, ParseIntFlag("curve-cycles", item, 0, kMaxUint32));
      o.curve_cycles.push_back(static_cast<uint32_t>(n));
    }
  }
  return o;
}

absl::StatusOr<SubmitOptions> ToSubmitOptions(const ParsedArgs& args) {
  SubmitOptions options;
  if (args.Has("cycling")) {
    if (!args.positionals().empty()) {
      return UsageError("submit: give a job file or --cycling, not both");
    }
    ASSIGN_OR_RETURN(const QuickCyclingOptions quick, ToQuickCyclingOptions(args));
    ASSIGN_OR_RETURN(options.spec, BuildQuickCyclingSpec(quick));
  } else {
    for (const FlagSpec& f : QuickCyclingFlags()) {
      if (args.Has(f.name)) {
        return UsageError(absl::StrCat("submit: --", f.name, " only applies with --cycling"));
      }
    }
    if (args.positionals().size() != 1) {
      return UsageError(absl::StrCat("submit: expected one job file (or - or --cycling), got ",
                                     args.positionals().size(), " arguments"));
    }
    absl::StatusOr<ionloop::v1::JobSpec> spec = LoadJobSpec(args.positionals()[0]);
    if (!spec.ok()) return JobFileError(spec.status());
    options.spec = *std::move(spec);
  }
  SpecOverrides overrides;
  if (auto text = args.Value("priority")) {
    ASSIGN_OR_RETURN(const int64_t p,
                     ParseIntFlag("priority", *text, std::numeric_limits<int32_t>::min(),
                                  std::numeric_limits<int32_t>::max()));
    overrides.priority = static_cast<int32_t>(p);
  }
  overrides.campaign_id = args.Value("campaign");
  ASSIGN_OR_RETURN(overrides.labels, Labels(args));
  ApplySpecOverrides(overrides, options.spec);
  options.idempotency_key = args.Value("idempotency-key").value_or("");
  options.quiet = args.Has("quiet");
  return options;
}

absl::StatusOr<ListOptions> ToListOptions(const ParsedArgs& args) {
  RETURN_IF_ERROR(NoPositionals(args));
  ListOptions options;
  ionloop::v1::ListJobsRequest& request = options.request;
  for (const std::string& text : args.Values("state")) {
    for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
      absl::StatusOr<ionloop::v1::JobState> state = ParseJobState(item);
      if (!state.ok()) return UsageError(absl::StrCat("--state: ", state.status().message()));
      request.add_states(*state);
    }
  }
  if (auto text = args.Value("kind")) {
    absl::StatusOr<ionloop::v1::JobKind> kind = ParseJobKind(*text);
    if (!kind.ok()) return UsageError(absl::StrCat("--kind: ", kind.status().message()));
    request.set_kind(*kind);
  }
  request.set_campaign_id(args.Value("campaign").value_or(""));
  ASSIGN_OR_RETURN(const auto labels, Labels(args));
  for (const auto& [key, value] : labels) (*request.mutable_labels())[key] = value;
  if (auto text = args.Value("page-size")) {
    ASSIGN_OR_RETURN(const int64_t n, ParseIntFlag("page-size", *text, 0, kMaxUint32));
    request.set_page_size(static_cast<uint32_t>(n));
  }
  request.set_page_token(args.Value("page-token").value_or(""));
  options.all = args.Has("all");
  return options;
}

absl::StatusOr<ionloop::v1::ModelKind> ParseModelKind(absl::string_view text) {
  if (text == "lifetime") return ionloop::v1::MODEL_KIND_LIFETIME;
  if (text == "early" || text == "early_fade" || text == "fade") {
    return ionloop::v1::MODEL_KIND_EARLY_FADE;
  }
  return UsageError(absl::StrCat("model kind: expected lifetime or early, got '", text, "'"));
}

absl::StatusOr<std::vector<uint32_t>> UintList(const ParsedArgs& args, absl::string_view flag,
                                               int64_t min, int64_t max) {
  std::vector<uint32_t> out;
  if (auto text = args.Value(flag)) {
    for (absl::string_view item : absl::StrSplit(*text, ',', absl::SkipWhitespace())) {
      ASSIGN_OR_RETURN(const int64_t n, ParseIntFlag(flag, item, min, max));
      out.push_back(static_cast<uint32_t>(n));
    }
  }
  return out;
}

absl::StatusOr<int> RunTrainCommand(const ParsedArgs& args, const GlobalOptions& global) {
  if (args.positionals().size() != 1) {
    return UsageError("train: expected the model kind, lifetime or early");
  }
  TrainOptions options;
  ionloop::v1::TrainingJob& job = *options.request.mutable_training();
  ASSIGN_OR_RETURN(const ionloop::v1::ModelKind kind, ParseModelKind(args.positionals()[0]));
  job.set_kind(kind);
  const std::optional<std::string> name = args.Value("name");
  if (!name) return UsageError("train: --name NAME is required");
  job.set_model_name(*name);
  const std::optional<std::string> dataset = args.Value("dataset");
  if (dataset.has_value() == args.Has("from-store")) {
    return UsageError("train: give exactly one of --dataset SPEC and --from-store");
  }
  if (dataset) {
    for (absl::string_view f : {"campaign", "ion", "label"}) {
      if (args.Has(f)) return UsageError(absl::StrCat("train: --", f, " only applies with --from-store"));
    }
    job.mutable_data()->set_folder(*dataset);
  } else {
    ionloop::v1::DatasetSource::StoreQuery& q = *job.mutable_data()->mutable_store();
    q.set_campaign_id(args.Value("campaign").value_or(""));
    if (auto ion = args.Value("ion")) {
      absl::StatusOr<ionloop::v1::Ion> parsed = ParseIon(*ion);
      if (!parsed.ok()) return UsageError(absl::StrCat("--ion: ", parsed.status().message()));
      q.set_ion(*parsed);
    }
    ASSIGN_OR_RETURN(const auto labels, Labels(args));
    for (const auto& [key, value] : labels) (*q.mutable_labels())[key] = value;
  }
  ionloop::v1::TrainingOptions& o = *job.mutable_options();
  if (auto t = args.Value("members")) {
    ASSIGN_OR_RETURN(const int64_t n, ParseIntFlag("members", *t, 1, 32));
    o.set_ensemble_members(static_cast<uint32_t>(n));
  }
  ASSIGN_OR_RETURN(const std::vector<uint32_t> hidden, UintList(args, "hidden", 1, 1024));
  for (uint32_t h : hidden) o.add_hidden_units(h);
  if (auto t = args.Value("epochs")) {
    ASSIGN_OR_RETURN(const int64_t n, ParseIntFlag("epochs", *t, 1, 100'000));
    o.set_max_epochs(static_cast<uint32_t>(n));
  }
  if (auto t = args.Value("patience")) {
    ASSIGN_OR_RETURN(const int64_t n, ParseIntFlag("patience", *t, 1, 100'000));
    o.set_patience(static_cast<uint32_t>(n));
  }
  if (auto t = args.Value("seed")) {
    ASSIGN_OR_RETURN(const int64_t n, ParseIntFlag("seed", *t, 1, std::numeric_limits<int64_t>::max()));
    o.set_seed(static_cast<uint64_t>(n));
  }
  ASSIGN_OR_RETURN(const std::optional<double> lr, OptionalDouble(args, "learning-rate"));
  if (lr) o.set_learning_rate(*lr);
  ASSIGN_OR_RETURN(const std::optional<double> validation, OptionalDouble(args, "validation"));
  if (validation) o.set_validation_fraction(*validation);
  o.set_embedding(args.Value("embedding").value_or(""));
  o.set_base_model(args.Value("base").value_or(""));
  options.request.set_idempotency_key(args.Value("idempotency-key").value_or(""));
  options.watch = args.Has("watch");
  options.quiet = args.Has("quiet");
  return RunTrain(global, options);
}

absl::StatusOr<int> RunCampaignCommand(const ParsedArgs& args, const GlobalOptions& global) {
  const std::vector<std::string>& words = args.positionals();
  if (words.empty()) {
    return UsageError("campaign: expected create, status, list, watch, pause, resume, stop, "
                      "proposals or report");
  }
  const std::string& action = words[0];
  const auto one_argument = [&](const char* what) -> absl::StatusOr<std::string> {
    if (words.size() != 2) {
      return UsageError(absl::StrCat("campaign ", action, ": expected one ", what, ", got ",
                                     words.size() - 1, " arguments"));
    }
    return words[1];
  };
  if (action == "create") {
    ASSIGN_OR_RETURN(const std::string path, one_argument("campaign file"));
    ionloop::v1::CreateCampaignRequest request;
    if (absl::Status s = LoadJsonMessage(path, request.mutable_spec()); !s.ok()) {
      return JobFileError(s);
    }
    request.set_idempotency_key(args.Value("idempotency-key").value_or(""));
    return RunCampaignCreate(global, request, args.Has("quiet"), args.Has("watch"));
  }
  if (action == "list") {
    if (words.size() != 1) return UsageError("campaign list: takes no arguments");
    return RunCampaignList(global);
  }
  ASSIGN_OR_RETURN(const std::string id, one_argument("campaign id"));
  if (action == "status") return RunCampaignStatus(global, id);
  if (action == "watch") return RunCampaignWatch(global, id);
  if (action == "pause" || action == "resume" || action == "stop") {
    return RunCampaignControl(global, action, id);
  }
  if (action == "proposals") return RunCampaignProposals(global, id, args.Has("csv"));
  if (action == "report") {
    return RunCampaignReport(global, id, args.Value("out").value_or(absl::StrCat(id, "-report")));
  }
  return UsageError(absl::StrCat("campaign: unknown action '", action, "'"));
}

absl::StatusOr<int> RunPredictCommand(const ParsedArgs& args, const GlobalOptions& global) {
  RETURN_IF_ERROR(NoPositionals(args));
  const std::optional<std::string> model = args.Value("model");
  if (!model) return UsageError("predict: --model is required");
  const std::vector<std::string> cells = args.Values("cell");
  const std::optional<std::string> job = args.Value("job");
  if (cells.empty() == !job.has_value()) {
    return UsageError("predict: give --cell CELL.json (lifetime) or --job ID (early), not both");
  }
  if (job) {
    if (args.Has("soh")) return UsageError("predict: --soh applies to --cell predictions");
    ionloop::v1::PredictFadeRequest request;
    request.set_model(*model);
    request.set_job_id(*job);
    ASSIGN_OR_RETURN(const std::vector<uint32_t> cycles, UintList(args, "cycles", 1, 1'000'000));
    for (uint32_t c : cycles) request.add_cycles(c);
    return RunPredictFade(global, request);
  }
  if (args.Has("cycles")) return UsageError("predict: --cycles applies to --job predictions");
  ionloop::v1::PredictLifetimeRequest request;
  request.set_model(*model);
  for (const std::string& path : cells) {
    if (absl::Status s = LoadJsonMessage(path, request.add_cells()); !s.ok()) return JobFileError(s);
  }
  if (auto text = args.Value("soh")) {
    for (absl::string_view item : absl::StrSplit(*text, ',', absl::SkipWhitespace())) {
      ASSIGN_OR_RETURN(const double soh, ParseDoubleFlag("soh", item));
      request.add_soh_percent(soh);
    }
  }
  return RunPredictLifetime(global, request);
}

// Runs the parsed command. A non-OK status means nothing was sent (exit 2): a usage
// error (INVALID_ARGUMENT) or a bad job file (FAILED_PRECONDITION).
absl::StatusOr<int> Dispatch(const ParsedArgs& args, const GlobalOptions& global) {
  const std::string& command = args.command();
  if (command == "submit") {
    ASSIGN_OR_RETURN(const SubmitOptions options, ToSubmitOptions(args));
    return RunSubmit(global, options);
  }
  if (command == "status") {
    ASSIGN_OR_RETURN(const std::string id, OneJobId(args));
    return RunStatus(global, id);
  }
  if (command == "list") {
    ASSIGN_OR_RETURN(const ListOptions options, ToListOptions(args));
    return RunList(global, options);
  }
  if (command == "cancel") {
    ASSIGN_OR_RETURN(const std::string id, OneJobId(args));
    return RunCancel(global, id, args.Value("reason").value_or("user"));
  }
  if (command == "watch") {
    ASSIGN_OR_RETURN(const std::string id, OneJobId(args));
    return RunWatch(global, id);
  }
  if (command == "measurements") {
    ASSIGN_OR_RETURN(const std::string id, OneJobId(args));
    uint32_t attempt = 0;
    if (auto text = args.Value("attempt")) {
      ASSIGN_OR_RETURN(const int64_t n, ParseIntFlag("attempt", *text, 0, kMaxUint32));
      attempt = static_cast<uint32_t>(n);
    }
    return RunMeasurements(global, id, attempt, args.Has("csv"));
  }
  if (command == "info") {
    RETURN_IF_ERROR(NoPositionals(args));
    return RunInfo(global);
  }
  if (command == "import") {
    if (args.positionals().size() != 1) {
      return UsageError(absl::StrCat("import: expected one cycler file, got ",
                                     args.positionals().size(), " arguments"));
    }
    ImportOptions options;
    options.file = args.positionals()[0];
    const std::optional<std::string> cell_path = args.Value("cell-spec");
    if (!cell_path) return UsageError("import: --cell-spec CELL.json is required");
    ionloop::v1::CyclingJob* cycling = options.spec.mutable_cycling();
    if (absl::Status s = LoadJsonMessage(*cell_path, cycling->mutable_cell()); !s.ok()) {
      return JobFileError(s);
    }
    SpecOverrides overrides;
    overrides.campaign_id = args.Value("campaign");
    ASSIGN_OR_RETURN(overrides.labels, Labels(args));
    ApplySpecOverrides(overrides, options.spec);
    options.idempotency_key = args.Value("idempotency-key").value_or("");
    options.curves = args.Has("curves");
    options.quiet = args.Has("quiet");
    return RunImport(global, options);
  }
  if (command == "train") return RunTrainCommand(args, global);
  if (command == "campaign") return RunCampaignCommand(args, global);
  if (command == "models") {
    RETURN_IF_ERROR(NoPositionals(args));
    ionloop::v1::ListModelsRequest request;
    request.set_name(args.Value("name").value_or(""));
    if (auto kind = args.Value("kind")) {
      ASSIGN_OR_RETURN(const ionloop::v1::ModelKind k, ParseModelKind(*kind));
      request.set_kind(k);
    }
    return RunModels(global, request);
  }
  if (command == "model") {
    if (args.positionals().size() != 1) {
      return UsageError(absl::StrCat("model: expected one model (NAME or NAME@VERSION), got ",
                                     args.positionals().size(), " arguments"));
    }
    return RunModel(global, args.positionals()[0]);
  }
  if (command == "predict") return RunPredictCommand(args, global);
  if (command == "evaluate") {
    RETURN_IF_ERROR(NoPositionals(args));
    ionloop::v1::EvaluateRequest request;
    const std::optional<std::string> model = args.Value("model");
    const std::optional<std::string> dataset = args.Value("dataset");
    if (!model || !dataset) return UsageError("evaluate: --model and --dataset are required");
    request.set_model(*model);
    request.set_dataset(*dataset);
    return RunEvaluate(global, request, args.Has("per-cell"));
  }
  if (command == "workers") {
    RETURN_IF_ERROR(NoPositionals(args));
    return RunWorkers(global);
  }
  return UsageError(absl::StrCat("unknown command '", command, "'"));
}

int PrintUsageError(absl::string_view message, absl::string_view command) {
  std::fprintf(stderr, "ionloop: %.*s (see 'ionloop help%s%.*s')\n",
               static_cast<int>(message.size()), message.data(), command.empty() ? "" : " ",
               static_cast<int>(command.size()), command.data());
  return kExitUsage;
}

int Main(const std::vector<std::string>& argv) {
  const auto& globals = GlobalFlags();
  const auto& commands = Commands();
  absl::StatusOr<ParsedArgs> args = ParseCommandLine(argv, globals, commands);
  if (!args.ok()) {
    // Point at the command's help when the line names one.
    absl::string_view command;
    for (const std::string& word : argv) {
      if (FindCommand(commands, word) != nullptr) {
        command = word;
        break;
      }
    }
    return PrintUsageError(args.status().message(), command == "help" ? "" : command);
  }

  // Help first: it must work whatever else is wrong with the line.
  const bool help_command = args->command() == "help";
  if (help_command || args->Has("help")) {
    const CommandSpec* topic = nullptr;
    if (help_command && !args->positionals().empty()) {
      topic = FindCommand(commands, args->positionals()[0]);
      if (topic == nullptr) {
        return PrintUsageError(
            absl::StrCat("no help for unknown command '", args->positionals()[0], "'"), "");
      }
    } else if (!help_command && !args->command().empty()) {
      topic = FindCommand(commands, args->command());
    }
    const std::string text =
        topic != nullptr ? CommandUsage(*topic, globals) : FullUsage(globals, commands);
    std::fputs(text.c_str(), stdout);
    return kExitOk;
  }
  if (args->command().empty()) {
    return PrintUsageError("no command given", "");
  }

  absl::StatusOr<GlobalOptions> global = ToGlobalOptions(*args);
  if (!global.ok()) return PrintUsageError(global.status().message(), args->command());
  absl::StatusOr<int> code = Dispatch(*args, *global);
  if (!code.ok()) {
    // A job file that cannot be read or parsed: the message stands alone, a pointer to
    // the command's help would not help.
    if (code.status().code() == absl::StatusCode::kFailedPrecondition) {
      std::fprintf(stderr, "ionloop: %s\n", std::string(code.status().message()).c_str());
      return kExitUsage;
    }
    return PrintUsageError(code.status().message(), args->command());
  }
  return *code;
}

}  // namespace
}  // namespace ionloop::cli

int main(int argc, char** argv) {
  return ionloop::cli::Main(std::vector<std::string>(argv + 1, argv + argc));
}
