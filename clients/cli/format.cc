#include "clients/cli/format.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/proto_time.h"

namespace ionloop::cli {
namespace {

using ionloop::v1::Job;
using ionloop::v1::JobSpec;
using ionloop::v1::Measurement;

bool IsUnset(const google::protobuf::Timestamp& ts) { return ts.seconds() == 0 && ts.nanos() == 0; }

// "ION_NA" -> "na", "CELL_DESIGN_THREE_ELECTRODE" -> "three-electrode".
std::string LowerEnumName(const std::string& full, absl::string_view prefix, int value) {
  if (full.empty()) return absl::StrCat("?", value);
  absl::string_view name = full;
  absl::ConsumePrefix(&name, prefix);
  return absl::StrReplaceAll(absl::AsciiStrToLower(name), {{"_", "-"}});
}

std::string OrDash(absl::string_view s) { return s.empty() ? "-" : std::string(s); }

std::string CycleSummary(const ionloop::v1::CyclingJob& c) {
  const ionloop::v1::CellSpec& cell = c.cell();
  const ionloop::v1::CyclingProtocol& p = cell.protocol();
  std::vector<std::string> parts;
  std::string cell_text = LowerEnumName(ionloop::v1::Ion_Name(cell.ion()), "ION_", cell.ion());
  absl::StrAppend(&cell_text, " ", OrDash(cell.positive_electrode()), "|",
                  OrDash(cell.negative_electrode()));
  if (cell.design() != ionloop::v1::CELL_DESIGN_UNSPECIFIED) {
    absl::StrAppend(
        &cell_text, " ",
        LowerEnumName(ionloop::v1::CellDesign_Name(cell.design()), "CELL_DESIGN_", cell.design()));
  }
  absl::StrAppend(&cell_text, " ", FormatDouble(cell.nominal_capacity_ah()), " Ah");
  parts.push_back(std::move(cell_text));
  const std::string charge = p.charge_steps_size() > 0
                                 ? absl::StrCat(p.charge_steps_size(), "-step")
                                 : absl::StrCat(FormatDouble(p.charge_c_rate()), "C");
  parts.push_back(absl::StrCat(charge, "/", FormatDouble(p.discharge_c_rate()), "C ",
                               FormatDouble(p.voltage_min_v()), "-",
                               FormatDouble(p.voltage_max_v()), " V"));
  parts.push_back(absl::StrCat(FormatDouble(p.temperature_c()), " C"));
  parts.push_back(absl::StrCat("<= ", c.max_cycles(), " cycles"));
  return absl::StrJoin(parts, ", ");
}

std::string XrdSummary(const ionloop::v1::XrdJob& x) {
  std::string s = absl::StrCat(
      "sample ", OrDash(x.sample_id()), ", ", FormatDouble(x.two_theta_min_deg()), "-",
      FormatDouble(x.two_theta_max_deg()), " deg step ", FormatDouble(x.two_theta_step_deg()), ", ",
      x.scans(), x.scans() == 1 ? " scan" : " scans", ", ", FormatDouble(x.wavelength_angstrom()),
      " A");
  if (x.has_operando_cell()) absl::StrAppend(&s, ", operando");
  return s;
}

std::string SimulationSummary(const ionloop::v1::SimulationJob& s) {
  return absl::StrCat(OrDash(s.engine()), " ", OrDash(s.salt()), " ",
                      FormatDouble(s.salt_molality_mol_per_kg()), " mol/kg in ",
                      OrDash(s.solvent()), ", ", FormatDouble(s.temperature_k()), " K, ", s.steps(),
                      " steps x ", FormatDouble(s.timestep_fs()), " fs");
}

std::string LabelSummary(const ionloop::v1::LabelJob& l) {
  return absl::StrCat(OrDash(l.method()), " of ", l.frame_seqs_size(), " frames from ",
                      OrDash(l.source_job_id()));
}

std::string SyntheticSummary(const ionloop::v1::SyntheticJob& s) {
  std::string text = absl::StrCat(s.measurements(), " measurements every ", s.interval_ms(), " ms");
  if (s.payload_bytes() > 0) absl::StrAppend(&text, ", ", s.payload_bytes(), " B payload");
  if (s.fail_after() > 0) absl::StrAppend(&text, ", fails after ", s.fail_after());
  return text;
}

std::string TrainingSummary(const ionloop::v1::TrainingJob& t) {
  const std::string data = t.data().has_store() ? "jobs in the store" : t.data().folder();
  return absl::StrCat(ModelKindName(t.kind()), " model ", t.model_name(), " from ", data);
}

// The oneof field name, which is also the CSV `kind`.
std::string MeasurementKind(const Measurement& m) {
  switch (m.value_case()) {
    case Measurement::kCycle:
      return "cycle";
    case Measurement::kVoltageCurve:
      return "voltage_curve";
    case Measurement::kXrdPattern:
      return "xrd_pattern";
    case Measurement::kMdFrame:
      return "md_frame";
    case Measurement::kSynthetic:
      return "synthetic";
    case Measurement::VALUE_NOT_SET:
      break;
  }
  return "";
}

std::string RangeText(absl::Span<const double> values, absl::string_view unit) {
  if (values.empty()) return "";
  auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  return absl::StrCat(FormatDouble(*lo), "-", FormatDouble(*hi), " ", unit);
}

std::string MeasurementSummary(const Measurement& m) {
  switch (m.value_case()) {
    case Measurement::kCycle: {
      const ionloop::v1::CycleRecord& c = m.cycle();
      return absl::StrFormat("cycle %u  Qc %s Ah  Qd %s Ah  CE %.4f  R %s ohm  %s C",
                             c.cycle_index(), FormatDouble(c.charge_capacity_ah()),
                             FormatDouble(c.discharge_capacity_ah()), c.coulombic_efficiency(),
                             FormatDouble(c.internal_resistance_ohm()),
                             FormatDouble(c.temperature_c()));
    }
    case Measurement::kVoltageCurve: {
      const ionloop::v1::VoltageCurve& v = m.voltage_curve();
      return absl::StrCat("cycle ", v.cycle_index(), v.is_charge() ? " charge, " : " discharge, ",
                          v.voltage_v_size(), " points, ", RangeText(v.voltage_v(), "V"));
    }
    case Measurement::kXrdPattern: {
      const ionloop::v1::XrdPattern& x = m.xrd_pattern();
      return absl::StrCat(x.two_theta_deg_size(), " points, ", RangeText(x.two_theta_deg(), "deg"),
                          ", SOC ", FormatDouble(x.state_of_charge()));
    }
    case Measurement::kMdFrame: {
      const ionloop::v1::MdFrame& f = m.md_frame();
      std::string s = absl::StrCat("step ", f.step(), ", ", f.species_size(), " atoms, E ",
                                   FormatDouble(f.energy_ev()), " eV");
      if (f.labeled()) absl::StrAppend(&s, ", labeled ", OrDash(f.label_method()));
      return s;
    }
    case Measurement::kSynthetic:
      return absl::StrCat("value ", FormatDouble(m.synthetic().value()), ", ",
                          m.synthetic().payload().size(), " B payload");
    case Measurement::VALUE_NOT_SET:
      break;
  }
  return "(empty)";
}

}  // namespace

std::string EventTypeName(ionloop::v1::JobEventType type) {
  switch (type) {
    case ionloop::v1::JOB_EVENT_TYPE_STATE_CHANGED:
      return "state";
    case ionloop::v1::JOB_EVENT_TYPE_CANCEL_REQUESTED:
      return "cancel";
    case ionloop::v1::JOB_EVENT_TYPE_PROGRESS:
      return "progress";
    default:
      return "event";
  }
}


std::string FormatLocalTime(const google::protobuf::Timestamp& ts) {
  if (IsUnset(ts)) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", FromProtoTime(ts), absl::LocalTimeZone());
}

std::string FormatRfc3339(const google::protobuf::Timestamp& ts) {
  if (IsUnset(ts)) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", FromProtoTime(ts), absl::UTCTimeZone());
}

std::string FormatPercent(double fraction) {
  if (!std::isfinite(fraction)) fraction = 0;
  fraction = std::clamp(fraction, 0.0, 1.0);
  // Floor, so that 99.7 % does not already read "100%".
  return absl::StrCat(static_cast<int>(std::floor(fraction * 100)), "%");
}

std::string FormatDouble(double value) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  if (ec != std::errc()) return absl::StrCat(value);
  return std::string(buf, end);
}

std::string SpecSummary(const JobSpec& spec) {
  switch (spec.kind_case()) {
    case JobSpec::kCycling:
      return CycleSummary(spec.cycling());
    case JobSpec::kXrd:
      return XrdSummary(spec.xrd());
    case JobSpec::kSimulation:
      return SimulationSummary(spec.simulation());
    case JobSpec::kLabel:
      return LabelSummary(spec.label());
    case JobSpec::kSynthetic:
      return SyntheticSummary(spec.synthetic());
    case JobSpec::kTraining:
      return TrainingSummary(spec.training());
    case JobSpec::KIND_NOT_SET:
      break;
  }
  return "(no kind)";
}

std::string ToJson(const google::protobuf::Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string out;
  const auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) {
    // Only malformed messages fail to print; say so in JSON rather than print nothing.
    return absl::StrCat("{\"error\": \"cannot print ", message.GetTypeName(), " as JSON\"}");
  }
  return std::string(absl::StripTrailingAsciiWhitespace(out));
}

std::string Table::Render() const {
  std::vector<size_t> widths(header_.size(), 0);
  auto widen = [&widths](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  };
  widen(header_);
  for (const auto& row : rows_) widen(row);
  std::string out;
  auto append = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      if (i > 0) line += "  ";
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size(), ' ');
    }
    absl::StrAppend(&out, absl::StripTrailingAsciiWhitespace(line), "\n");
  };
  append(header_);
  for (const auto& row : rows_) append(row);
  return out;
}

std::string RenderJobList(const google::protobuf::RepeatedPtrField<Job>& jobs) {
  Table table({"ID", "KIND", "STATE", "PROGRESS", "PRIORITY", "CREATED", "CAMPAIGN", "SPEC"});
  for (const Job& job : jobs) {
    table.AddRow({job.id(), KindName(job.kind()), StateName(job.state()),
                  FormatPercent(job.progress()), absl::StrCat(job.spec().priority()),
                  FormatLocalTime(job.created_at()), OrDash(job.spec().campaign_id()),
                  SpecSummary(job.spec())});
  }
  return table.Render();
}

std::string RenderJobDetail(const Job& job) {
  std::vector<std::pair<std::string, std::string>> rows = {
      {"job", job.id()},
      {"kind", KindName(job.kind())},
      {"state", StateName(job.state())},
      {"progress", FormatPercent(job.progress())},
      {"message", OrDash(job.message())},
      {"spec", SpecSummary(job.spec())},
      {"priority", absl::StrCat(job.spec().priority())},
      {"campaign", OrDash(job.spec().campaign_id())},
  };
  // Sorted, so that the output is stable (proto maps have no order).
  std::vector<std::string> labels;
  for (const auto& [k, v] : job.spec().labels()) labels.push_back(absl::StrCat(k, "=", v));
  std::sort(labels.begin(), labels.end());
  rows.push_back({"labels", labels.empty() ? "-" : absl::StrJoin(labels, ", ")});
  rows.push_back({"attempt", absl::StrCat(job.attempt())});
  rows.push_back({"worker", OrDash(job.worker_id())});
  rows.push_back({"measurements", absl::StrCat(job.measurement_count())});
  rows.push_back({"created", FormatLocalTime(job.created_at())});
  rows.push_back({"updated", FormatLocalTime(job.updated_at())});
  if (job.cancel_requested()) {
    rows.push_back({"cancel", absl::StrCat("requested (", OrDash(job.cancel_reason()), ")")});
  }
  if (!job.idempotency_key().empty()) rows.push_back({"idempotency key", job.idempotency_key()});
  size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  std::string out;
  for (const auto& [key, value] : rows) {
    absl::StrAppend(&out, key, ":", std::string(width - key.size() + 2, ' '), value, "\n");
  }
  return out;
}

std::string RenderServerInfo(const ionloop::v1::ServerInfo& info, absl::string_view server) {
  std::vector<std::string> counts;
  for (const ionloop::v1::JobStateCount& c : info.job_counts()) {
    counts.push_back(absl::StrCat(StateName(c.state()), " ", c.count()));
  }
  std::string jobs = absl::StrCat(info.job_total(), " total");
  if (!counts.empty()) absl::StrAppend(&jobs, " (", absl::StrJoin(counts, ", "), ")");
  const absl::Duration uptime = absl::Seconds(std::floor(std::max(0.0, info.uptime_s())));
  Table table({"server:", std::string(server)});
  table.AddRow({"listening on:", OrDash(info.listen_address())});
  table.AddRow({"version:", OrDash(info.version())});
  table.AddRow({"started:", FormatLocalTime(info.started_at())});
  table.AddRow({"uptime:", absl::FormatDuration(uptime)});
  table.AddRow(
      {"store:", absl::StrCat(OrDash(info.store_path()), " (schema ", info.schema_version(), ")")});
  table.AddRow({"jobs:", jobs});
  table.AddRow({"measurements:", absl::StrCat(info.measurement_total())});
  return table.Render();
}

std::string SummarizeCapabilities(const ionloop::v1::Capabilities& caps) {
  std::vector<std::string> parts;
  if (!caps.ions().empty()) {
    std::vector<std::string> ions;
    for (int ion : caps.ions()) {
      ions.push_back(LowerEnumName(ionloop::v1::Ion_Name(ion), "ION_", ion));
    }
    parts.push_back(absl::StrJoin(ions, ","));
  }
  if (caps.temperature_min_c() != 0 || caps.temperature_max_c() != 0) {
    parts.push_back(absl::StrCat(FormatDouble(caps.temperature_min_c()), "..",
                                 FormatDouble(caps.temperature_max_c()), " C"));
  }
  if (caps.voltage_min_v() != 0 || caps.voltage_max_v() != 0) {
    parts.push_back(absl::StrCat(FormatDouble(caps.voltage_min_v()), "..",
                                 FormatDouble(caps.voltage_max_v()), " V"));
  }
  if (caps.current_max_a() != 0) parts.push_back(absl::StrCat(FormatDouble(caps.current_max_a()), " A"));
  if (!caps.xrd_wavelengths_angstrom().empty()) {
    std::vector<std::string> w;
    for (double l : caps.xrd_wavelengths_angstrom()) w.push_back(FormatDouble(l));
    parts.push_back(absl::StrCat(absl::StrJoin(w, ","), " A"));
  }
  if (!caps.simulation_engines().empty()) parts.push_back(absl::StrJoin(caps.simulation_engines(), ","));
  if (!caps.label_methods().empty()) parts.push_back(absl::StrJoin(caps.label_methods(), ","));
  return parts.empty() ? "-" : absl::StrJoin(parts, " ");
}

std::string RenderWorkerList(
    const google::protobuf::RepeatedPtrField<ionloop::v1::WorkerInfo>& workers) {
  if (workers.empty()) return "no workers\n";
  Table table({"WORKER", "KIND", "STATE", "CHANNELS", "CAPABILITIES", "RUNNING", "LAST SEEN"});
  for (const ionloop::v1::WorkerInfo& w : workers) {
    const std::string state = LowerEnumName(ionloop::v1::WorkerState_Name(w.state()),
                                            "WORKER_STATE_", w.state());
    table.AddRow({w.worker_id(), KindName(w.capabilities().kind()), absl::AsciiStrToUpper(state),
                  absl::StrCat(w.running_job_ids_size(), "/", w.capabilities().channels()),
                  SummarizeCapabilities(w.capabilities()),
                  w.running_job_ids().empty() ? "-" : absl::StrJoin(w.running_job_ids(), ","),
                  FormatLocalTime(w.last_seen())});
  }
  return table.Render();
}

std::string RenderWatchLine(const ionloop::v1::WatchJobResponse& response) {
  const ionloop::v1::JobEvent& event = response.event();
  std::string line = absl::StrFormat(
      "%s  %-9s %4s  %-8s %s", FormatLocalTime(event.at()), StateName(event.state()),
      FormatPercent(response.has_job() ? response.job().progress() : event.progress()),
      EventTypeName(event.type()), event.message());
  if (!event.worker_id().empty()) {
    absl::StrAppend(&line, " [worker ", event.worker_id(), ", attempt ", event.attempt(), "]");
  }
  return std::string(absl::StripTrailingAsciiWhitespace(line));
}

std::string MeasurementTableHeader() {
  return absl::StrFormat("%7s %8s  %-19s  %-13s  %s", "ATTEMPT", "SEQ", "RECORDED", "KIND",
                         "VALUE");
}

std::string MeasurementTableRow(const Measurement& m) {
  return absl::StrFormat("%7u %8u  %-19s  %-13s  %s", m.attempt(), m.seq(),
                         FormatLocalTime(m.recorded_at()), MeasurementKind(m),
                         MeasurementSummary(m));
}

std::string MeasurementCsvHeader() {
  return "job_id,attempt,seq,recorded_at,cycle_index,charge_capacity_ah,"
         "discharge_capacity_ah,charge_energy_wh,discharge_energy_wh,coulombic_efficiency,"
         "mean_charge_voltage_v,mean_discharge_voltage_v,internal_resistance_ohm,"
         "temperature_c,elapsed_s,kind,payload_json";
}

std::string MeasurementCsvRow(const Measurement& m) {
  std::string row = absl::StrCat(CsvField(m.job_id()), ",", m.attempt(), ",", m.seq(), ",",
                                 FormatRfc3339(m.recorded_at()), ",");
  std::string payload;
  if (m.has_cycle()) {
    const ionloop::v1::CycleRecord& c = m.cycle();
    absl::StrAppend(
        &row, c.cycle_index(), ",", FormatDouble(c.charge_capacity_ah()), ",",
        FormatDouble(c.discharge_capacity_ah()), ",", FormatDouble(c.charge_energy_wh()), ",",
        FormatDouble(c.discharge_energy_wh()), ",", FormatDouble(c.coulombic_efficiency()), ",",
        FormatDouble(c.mean_charge_voltage_v()), ",", FormatDouble(c.mean_discharge_voltage_v()),
        ",", FormatDouble(c.internal_resistance_ohm()), ",", FormatDouble(c.temperature_c()), ",",
        FormatDouble(c.elapsed_s()), ",");
  } else {
    row += ",,,,,,,,,,,";  // the 11 cycle columns
    switch (m.value_case()) {
      case Measurement::kVoltageCurve:
        payload = ToJson(m.voltage_curve(), /*pretty=*/false);
        break;
      case Measurement::kXrdPattern:
        payload = ToJson(m.xrd_pattern(), /*pretty=*/false);
        break;
      case Measurement::kMdFrame:
        payload = ToJson(m.md_frame(), /*pretty=*/false);
        break;
      case Measurement::kSynthetic: {
        // Up to 1 MiB of opaque bytes helps nobody in a spreadsheet; its size does.
        const double v = m.synthetic().value();
        payload = absl::StrCat(
            "{\"value\":",
            std::isfinite(v) ? FormatDouble(v) : absl::StrCat("\"", FormatDouble(v), "\""),
            ",\"payload_bytes\":", m.synthetic().payload().size(), "}");
        break;
      }
      default:
        break;
    }
  }
  absl::StrAppend(&row, MeasurementKind(m), ",", CsvField(payload));
  return row;
}

std::string CsvField(absl::string_view text) {
  if (text.find_first_of(",\"\r\n") == absl::string_view::npos) return std::string(text);
  return absl::StrCat("\"", absl::StrReplaceAll(text, {{"\"", "\"\""}}), "\"");
}

}  // namespace ionloop::cli
