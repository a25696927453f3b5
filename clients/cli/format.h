// How `ionloop` prints jobs, events, measurements and server info: aligned tables for
// people, proto JSON for programs, CSV for spreadsheets. Pure functions of the messages:
// no I/O, no gRPC.
#ifndef IONLOOP_CLIENTS_CLI_FORMAT_H_
#define IONLOOP_CLIENTS_CLI_FORMAT_H_

#include <google/protobuf/message.h>
#include <google/protobuf/repeated_ptr_field.h>
#include <google/protobuf/timestamp.pb.h>

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/job_enums.h"
#include "ionloop/v1/admin.pb.h"
#include "ionloop/v1/job.pb.h"
#include "ionloop/v1/jobs.pb.h"
#include "ionloop/v1/measurement.pb.h"
#include "ionloop/v1/workers.pb.h"

namespace ionloop::cli {

// Enum names as users type and read them.
using ::ionloop::KindName;   // "cycling"
using ::ionloop::StateName;  // "QUEUED"
std::string EventTypeName(ionloop::v1::JobEventType type);  // "state", "cancel", "progress"

// Local time, "2024-05-01 14:03:07"; "-" when unset.
std::string FormatLocalTime(const google::protobuf::Timestamp& ts);
// RFC 3339 in UTC with microseconds, "2024-05-01T12:03:07.123456Z"; empty when unset.
std::string FormatRfc3339(const google::protobuf::Timestamp& ts);
// "42%" from 0..1.
std::string FormatPercent(double fraction);
// Shortest text that reads back as the same double.
std::string FormatDouble(double value);

// One line describing what a spec asks for, e.g.
// "na NVPF|hard-carbon coin 0.005 Ah, 1C/1C 2-4.25 V, 25 C, <= 500 cycles".
std::string SpecSummary(const ionloop::v1::JobSpec& spec);

// Proto JSON with the .proto field names and default values printed (so that
// "created": false is visible). `pretty` indents; otherwise one line (JSON Lines).
std::string ToJson(const google::protobuf::Message& message, bool pretty);

// Columns padded to the widest cell; two spaces between columns; no trailing blanks.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string Render() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

std::string RenderJobList(const google::protobuf::RepeatedPtrField<ionloop::v1::Job>& jobs);
std::string RenderJobDetail(const ionloop::v1::Job& job);
std::string RenderServerInfo(const ionloop::v1::ServerInfo& info, absl::string_view server);
std::string RenderWorkerList(
    const google::protobuf::RepeatedPtrField<ionloop::v1::WorkerInfo>& workers);
// "li,na 25..45 C 0..5 V 10 A", "wavelengths 1.54184 A", ...: what a worker offers.
std::string SummarizeCapabilities(const ionloop::v1::Capabilities& caps);

// `watch`: "2024-05-01 14:03:07  QUEUED      0%  state     queued"
std::string RenderWatchLine(const ionloop::v1::WatchJobResponse& response);

// `measurements` as a streaming table (fixed widths: rows are printed as they arrive).
std::string MeasurementTableHeader();
std::string MeasurementTableRow(const ionloop::v1::Measurement& m);

// `measurements --csv`: one schema for every kind, so that a stream can start before the
// kinds are known. Cycle records fill the unit-suffixed cycle columns; the other kinds
// leave them empty and put their value, as proto JSON, in `payload_json` (synthetic
// samples give their payload's size instead of its bytes).
std::string MeasurementCsvHeader();
std::string MeasurementCsvRow(const ionloop::v1::Measurement& m);
// RFC 4180 quoting when needed.
std::string CsvField(absl::string_view text);

}  // namespace ionloop::cli

#endif  // IONLOOP_CLIENTS_CLI_FORMAT_H_
