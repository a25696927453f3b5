// Store on one SQLite file in WAL mode with synchronous=FULL: a commit survives a
// process kill and a power cut. One connection, serialized by a mutex; SQLite
// commits are the bottleneck either way, and one connection keeps it simple.
#ifndef IONLOOP_ORCHESTRATOR_STORE_SQLITE_STORE_H_
#define IONLOOP_ORCHESTRATOR_STORE_SQLITE_STORE_H_

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "orchestrator/store/store.h"

struct sqlite3;

namespace ionloop::orchestrator {

struct SqliteStoreOptions {
  // Apply migrations up to this version only (tests of upgrades); 0: all.
  int max_schema_version = 0;
};

class SqliteStore final : public Store {
 public:
  // Opens or creates the file and applies pending migrations. FAILED_PRECONDITION when
  // the file was written by a newer ionloopd (unknown schema version).
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                           SqliteStoreOptions options = {});
  ~SqliteStore() override;

  absl::StatusOr<InsertJobResult> InsertJob(const ionloop::v1::JobSpec& spec,
                                            absl::string_view idempotency_key,
                                            absl::Time now) override;
  absl::StatusOr<InsertJobResult> InsertFinishedJob(const ionloop::v1::JobSpec& spec,
                                                    absl::string_view idempotency_key,
                                                    const JobDecision& finish,
                                                    absl::Time now) override;
  absl::StatusOr<ionloop::v1::Job> GetJob(absl::string_view job_id) override;
  absl::StatusOr<JobPage> ListJobs(const JobFilter& filter, int page_size,
                                   absl::string_view page_token) override;
  absl::StatusOr<JobChange> UpdateJob(absl::string_view job_id, const JobDecision& decide,
                                      absl::Time now) override;
  std::vector<absl::StatusOr<JobChange>> UpdateJobs(
      absl::Span<const std::pair<std::string, JobDecision>> updates, absl::Time now) override;
  absl::StatusOr<JobRecord> GetJobRecord(absl::string_view job_id) override;
  absl::StatusOr<std::vector<JobRecord>> ListSchedulableJobs(
      int limit, absl::Span<const ionloop::v1::JobKind> kinds = {},
      int64_t after_order = 0) override;
  absl::StatusOr<std::vector<JobRecord>> ListHeldJobs() override;
  absl::StatusOr<std::vector<ionloop::v1::JobEvent>> ListJobEvents(absl::string_view job_id,
                                                                   uint64_t after_seq) override;
  absl::StatusOr<int> AppendMeasurements(
      absl::Span<const ionloop::v1::Measurement> measurements) override;
  absl::StatusOr<std::vector<ionloop::v1::Measurement>> ReadMeasurements(
      absl::string_view job_id, uint32_t attempt, MeasurementCursor after, int limit) override;
  absl::StatusOr<StoreStats> Stats() override;
  absl::StatusOr<ionloop::v1::Model> InsertModel(ionloop::v1::Model model,
                                                 absl::string_view weights,
                                                 absl::Time now) override;
  absl::StatusOr<ionloop::v1::Model> GetModel(absl::string_view name, uint32_t version) override;
  absl::StatusOr<std::string> GetModelWeights(absl::string_view name, uint32_t version) override;
  absl::StatusOr<std::vector<ionloop::v1::Model>> ListModels(absl::string_view name,
                                                             ionloop::v1::ModelKind kind) override;
  absl::StatusOr<InsertCampaignResult> InsertCampaign(ionloop::v1::Campaign campaign,
                                                      absl::string_view idempotency_key,
                                                      absl::Time now) override;
  absl::Status SaveCampaign(const ionloop::v1::Campaign& campaign,
                            absl::Span<const ionloop::v1::Proposal> proposals) override;
  absl::StatusOr<ionloop::v1::Campaign> GetCampaign(absl::string_view campaign_id) override;
  absl::StatusOr<std::vector<ionloop::v1::Campaign>> ListCampaigns() override;
  absl::StatusOr<std::vector<ionloop::v1::Proposal>> ListProposals(
      absl::string_view campaign_id) override;
  std::string Location() const override { return path_; }
  int SchemaVersion() const override { return schema_version_; }

 private:
  SqliteStore(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  absl::Status Migrate(int max_version);

  // Group commit (LevelDB's writer queue): each writer queues its write; the first in
  // line becomes the leader, runs every queued write in one transaction (one fsync),
  // each inside its own savepoint, and hands each writer its own result. Concurrent
  // writers thus share fsyncs instead of waiting for one each.
  struct PendingWrite {
    const std::function<absl::Status()>* apply;
    absl::Status result;
    bool done = false;
  };
  absl::Status Write(const std::function<absl::Status()>& apply);

  absl::StatusOr<InsertJobResult> InsertJobLocked(const ionloop::v1::JobSpec& spec,
                                                  absl::string_view idempotency_key,
                                                  absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<JobChange> UpdateJobLocked(int64_t key, absl::string_view job_id,
                                            const JobDecision& decide, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<int> AppendMeasurementsLocked(
      absl::Span<const ionloop::v1::Measurement> measurements, const std::vector<int64_t>& keys)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Inserts one job's rows (INSERT OR IGNORE) and bumps its count; returns new rows.
  absl::StatusOr<int> InsertMeasurementsLocked(
      int64_t key, absl::Span<const ionloop::v1::Measurement> measurements)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::vector<JobRecord>> ReadRecordsLocked(const std::string& sql)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  absl::Mutex mu_;  // the connection
  sqlite3* const db_ ABSL_GUARDED_BY(mu_);
  int schema_version_ = 0;

  absl::Mutex queue_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::deque<PendingWrite*> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool leader_active_ ABSL_GUARDED_BY(queue_mu_) = false;
};

}  // namespace ionloop::orchestrator

#endif  // IONLOOP_ORCHESTRATOR_STORE_SQLITE_STORE_H_
