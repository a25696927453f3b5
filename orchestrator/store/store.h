// The orchestrator's durable state: jobs, their events, and measurements. Everything a
// Store method returns OK for is committed (fsynced) before it returns.
//
// Domain values are the ionloop.v1 message classes (protobuf only, no gRPC): they are
// the vocabulary the whole platform already shares, so the store does not mirror them
// in a second set of structs.
#ifndef IONLOOP_ORCHESTRATOR_STORE_STORE_H_
#define IONLOOP_ORCHESTRATOR_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "ionloop/v1/campaign.pb.h"
#include "ionloop/v1/job.pb.h"
#include "ionloop/v1/measurement.pb.h"
#include "ionloop/v1/model.pb.h"

namespace ionloop::orchestrator {

struct JobFilter {
  std::vector<ionloop::v1::JobState> states;  // any of; empty: all
  ionloop::v1::JobKind kind = ionloop::v1::JOB_KIND_UNSPECIFIED;  // unspecified: all
  std::string campaign_id;                                        // empty: all
  std::vector<std::pair<std::string, std::string>> labels;        // all must match
};

struct JobPage {
  std::vector<ionloop::v1::Job> jobs;
  std::string next_page_token;  // empty on the last page
};

struct InsertJobResult {
  ionloop::v1::Job job;
  bool created = false;                     // false: the idempotency key matched
  std::optional<ionloop::v1::JobEvent> event;  // the creation event, when created
  std::optional<ionloop::v1::JobEvent> finish_event;  // InsertFinishedJob's second event
};

// A job with the bookkeeping the worker protocol needs and the API does not show.
struct JobRecord {
  ionloop::v1::Job job;
  int64_t order = 0;         // submission order (smaller: older)
  uint64_t update_seq = 0;   // last applied update/result seq of the current attempt
  std::string checkpoint;    // the last checkpoint a worker reported (any attempt)
  absl::Time not_before = absl::InfinitePast();  // backoff: not schedulable before
};

// What an UpdateJob decision changes. Unset fields stay as they are. An event is
// recorded only when `event_type` is set; a mutation with nothing set writes nothing.
struct JobMutation {
  std::optional<ionloop::v1::JobState> state;
  std::optional<std::string> worker_id;
  std::optional<uint32_t> attempt;
  std::optional<double> progress;
  std::optional<std::string> message;
  std::optional<std::string> cancel_reason;  // set: cancel_requested becomes true
  std::optional<uint64_t> update_seq;
  std::optional<std::string> checkpoint;
  std::optional<absl::Time> not_before;
  // Stored with the job, idempotent on (job, attempt, seq). job_id must be the job's.
  std::vector<ionloop::v1::Measurement> measurements;
  ionloop::v1::JobEventType event_type = ionloop::v1::JOB_EVENT_TYPE_UNSPECIFIED;

  bool Empty() const {
    return !state && !worker_id && !attempt && !progress && !message && !cancel_reason &&
           !update_seq && !checkpoint && !not_before && measurements.empty() &&
           event_type == ionloop::v1::JOB_EVENT_TYPE_UNSPECIFIED;
  }
};

// Decides, from the job as stored right now, what to change. Runs inside the
// store's write transaction, so the decision and the write are atomic. Must be quick
// and must not call back into the store.
using JobDecision = std::function<absl::StatusOr<JobMutation>(const JobRecord& current)>;

struct JobChange {
  ionloop::v1::Job job;                        // after the change
  std::optional<ionloop::v1::JobEvent> event;  // set when the mutation recorded one
  int new_measurements = 0;                    // rows that were not stored before
};

// Position in a job's measurements, ordered by (attempt, seq).
struct MeasurementCursor {
  uint32_t attempt = 0;
  uint64_t seq = 0;
};

struct StoreStats {
  std::vector<std::pair<ionloop::v1::JobState, uint64_t>> jobs_by_state;
  uint64_t job_total = 0;
  uint64_t measurement_total = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Stores a QUEUED job and its creation event. With a non-empty idempotency key
  // that is already stored, returns that job instead (created = false).
  virtual absl::StatusOr<InsertJobResult> InsertJob(const ionloop::v1::JobSpec& spec,
                                                    absl::string_view idempotency_key,
                                                    absl::Time now) = 0;

  // InsertJob, then — in the same commit, only when the job is new — `finish` applied
  // to it (an imported test: its measurements and terminal state). `finish`'s error
  // leaves nothing behind.
  virtual absl::StatusOr<InsertJobResult> InsertFinishedJob(const ionloop::v1::JobSpec& spec,
                                                            absl::string_view idempotency_key,
                                                            const JobDecision& finish,
                                                            absl::Time now) = 0;

  // NOT_FOUND for an unknown id, INVALID_ARGUMENT for a malformed one.
  virtual absl::StatusOr<ionloop::v1::Job> GetJob(absl::string_view job_id) = 0;

  // Newest first. `page_token` is empty or a token from a previous page.
  virtual absl::StatusOr<JobPage> ListJobs(const JobFilter& filter, int page_size,
                                           absl::string_view page_token) = 0;

  // Reads the job, asks `decide`, applies the mutation and records its event, in one
  // transaction. `decide`'s error is returned as is and nothing is written.
  virtual absl::StatusOr<JobChange> UpdateJob(absl::string_view job_id, const JobDecision& decide,
                                              absl::Time now) = 0;

  // Several UpdateJobs in one commit; each succeeds or fails on its own.
  virtual std::vector<absl::StatusOr<JobChange>> UpdateJobs(
      absl::Span<const std::pair<std::string, JobDecision>> updates, absl::Time now) = 0;

  virtual absl::StatusOr<JobRecord> GetJobRecord(absl::string_view job_id) = 0;

  // QUEUED and RETRYING jobs of `kinds` (empty: every kind) submitted after
  // `after_order`, highest priority first, then oldest first.
  virtual absl::StatusOr<std::vector<JobRecord>> ListSchedulableJobs(
      int limit, absl::Span<const ionloop::v1::JobKind> kinds = {}, int64_t after_order = 0) = 0;
  // ASSIGNED and RUNNING jobs (held by a worker), oldest first.
  virtual absl::StatusOr<std::vector<JobRecord>> ListHeldJobs() = 0;

  // Events of a job with seq > after_seq, in order.
  virtual absl::StatusOr<std::vector<ionloop::v1::JobEvent>> ListJobEvents(
      absl::string_view job_id, uint64_t after_seq) = 0;

  // Stores measurements in one transaction. Idempotent on (job_id, attempt, seq): a
  // row already stored is skipped. Returns how many rows were new.
  virtual absl::StatusOr<int> AppendMeasurements(
      absl::Span<const ionloop::v1::Measurement> measurements) = 0;

  // Up to `limit` measurements after `after`, in (attempt, seq) order; attempt 0
  // means every attempt.
  virtual absl::StatusOr<std::vector<ionloop::v1::Measurement>> ReadMeasurements(
      absl::string_view job_id, uint32_t attempt, MeasurementCursor after, int limit) = 0;

  virtual absl::StatusOr<StoreStats> Stats() = 0;

  // ---- the model registry ----
  // Stores `model` with its weights as the next version of model.name() (1 for a new
  // name) and returns it with version, created_at and weights_bytes filled in.
  virtual absl::StatusOr<ionloop::v1::Model> InsertModel(ionloop::v1::Model model,
                                                         absl::string_view weights,
                                                         absl::Time now) = 0;
  // `version` 0 means the latest. NOT_FOUND names the model.
  virtual absl::StatusOr<ionloop::v1::Model> GetModel(absl::string_view name,
                                                      uint32_t version) = 0;
  virtual absl::StatusOr<std::string> GetModelWeights(absl::string_view name,
                                                      uint32_t version) = 0;
  // Newest first; empty `name` / unspecified `kind` match all.
  virtual absl::StatusOr<std::vector<ionloop::v1::Model>> ListModels(
      absl::string_view name, ionloop::v1::ModelKind kind) = 0;

  // ---- campaigns ----
  // Stores a new campaign (id, created_at and updated_at assigned). With an idempotency
  // key already used, returns that campaign and stores nothing (created = false).
  struct InsertCampaignResult {
    ionloop::v1::Campaign campaign;
    bool created = false;
  };
  virtual absl::StatusOr<InsertCampaignResult> InsertCampaign(ionloop::v1::Campaign campaign,
                                                              absl::string_view idempotency_key,
                                                              absl::Time now) = 0;
  // The campaign and any of its proposals (inserted or replaced by seq), in one commit.
  virtual absl::Status SaveCampaign(const ionloop::v1::Campaign& campaign,
                                    absl::Span<const ionloop::v1::Proposal> proposals) = 0;
  // NOT_FOUND / INVALID_ARGUMENT naming the id.
  virtual absl::StatusOr<ionloop::v1::Campaign> GetCampaign(absl::string_view campaign_id) = 0;
  // Newest first.
  virtual absl::StatusOr<std::vector<ionloop::v1::Campaign>> ListCampaigns() = 0;
  // In seq order.
  virtual absl::StatusOr<std::vector<ionloop::v1::Proposal>> ListProposals(
      absl::string_view campaign_id) = 0;

  // Where the data lives (a file path for SQLite).
  virtual std::string Location() const = 0;
  virtual int SchemaVersion() const = 0;
};

}  // namespace ionloop::orchestrator

#endif  // IONLOOP_ORCHESTRATOR_STORE_STORE_H_
