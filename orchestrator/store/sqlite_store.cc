#include "orchestrator/store/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/job_id.h"
#include "common/job_enums.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "orchestrator/store/migrations.h"
#include "orchestrator/store/sqlite_statement_internal.h"

namespace ionloop::orchestrator {
namespace {

using sqlite_internal::Exec;
using sqlite_internal::SqliteError;
using sqlite_internal::Statement;
using sqlite_internal::Transaction;

constexpr char kJobColumns[] =
    "id, kind, state, priority, campaign_id, idempotency_key, spec, attempt, worker_id, "
    "progress, message, cancel_requested, cancel_reason, created_us, updated_us, "
    "last_event_seq, measurement_count, update_seq, checkpoint, not_before_us";

constexpr char kQueuedMessage[] = "queued";

// A job row: the record plus the store's own bookkeeping.
struct StoredJob {
  int64_t key = 0;
  int64_t last_event_seq = 0;
  JobRecord record;
};

absl::StatusOr<StoredJob> JobFromRow(const Statement& row) {
  StoredJob stored;
  stored.key = row.Int(0);
  stored.record.order = stored.key;
  v1::Job& job = stored.record.job;
  job.set_id(FormatJobId(stored.key));
  job.set_kind(static_cast<v1::JobKind>(row.Int(1)));
  job.set_state(static_cast<v1::JobState>(row.Int(2)));
  job.set_idempotency_key(row.Text(5));
  if (!job.mutable_spec()->ParseFromArray(row.Blob(6).data(),
                                          static_cast<int>(row.Blob(6).size()))) {
    return absl::DataLossError(absl::StrCat(job.id(), ": stored spec does not parse"));
  }
  job.set_attempt(static_cast<uint32_t>(row.Int(7)));
  job.set_worker_id(row.Text(8));
  job.set_progress(row.Double(9));
  job.set_message(row.Text(10));
  job.set_cancel_requested(row.Int(11) != 0);
  job.set_cancel_reason(row.Text(12));
  *job.mutable_created_at() = MicrosToProtoTime(row.Int(13));
  *job.mutable_updated_at() = MicrosToProtoTime(row.Int(14));
  stored.last_event_seq = row.Int(15);
  job.set_measurement_count(static_cast<uint64_t>(row.Int(16)));
  stored.record.update_seq = static_cast<uint64_t>(row.Int(17));
  stored.record.checkpoint = std::string(row.Blob(18));
  if (row.Int(19) != 0) stored.record.not_before = absl::FromUnixMicros(row.Int(19));
  return stored;
}

absl::StatusOr<StoredJob> ReadJob(sqlite3* db, int64_t key, absl::string_view job_id) {
  ASSIGN_OR_RETURN(Statement stmt,
                   Statement::Prepare(db, absl::StrCat("SELECT ", kJobColumns,
                                                       " FROM jobs WHERE id = ?")));
  stmt.Bind(1, key);
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("job_id: no job '", job_id, "'"));
  return JobFromRow(stmt);
}

v1::JobEvent EventOf(const v1::Job& job, v1::JobEventType type, int64_t seq, absl::Time now) {
  v1::JobEvent event;
  event.set_job_id(job.id());
  event.set_seq(static_cast<uint64_t>(seq));
  event.set_type(type);
  event.set_state(job.state());
  *event.mutable_at() = ToProtoTime(now);
  event.set_message(job.message());
  event.set_worker_id(job.worker_id());
  event.set_attempt(job.attempt());
  event.set_progress(job.progress());
  return event;
}

absl::Status InsertEvent(sqlite3* db, int64_t key, const v1::JobEvent& event) {
  ASSIGN_OR_RETURN(Statement stmt,
                   Statement::Prepare(db,
                                      "INSERT INTO job_events (job_id, seq, type, state, at_us, "
                                      "message, worker_id, attempt, progress) "
                                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  stmt.Bind(1, key)
      .Bind(2, static_cast<int64_t>(event.seq()))
      .Bind(3, static_cast<int64_t>(event.type()))
      .Bind(4, static_cast<int64_t>(event.state()))
      .Bind(5, absl::ToUnixMicros(FromProtoTime(event.at())))
      .Bind(6, event.message())
      .Bind(7, event.worker_id())
      .Bind(8, static_cast<int64_t>(event.attempt()))
      .Bind(9, event.progress());
  return stmt.Run();
}

std::string EncodePageToken(int64_t last_key) {
  return absl::WebSafeBase64Escape(absl::StrCat("jobs<", last_key));
}

absl::StatusOr<int64_t> DecodePageToken(absl::string_view token) {
  std::string raw;
  int64_t key = 0;
  if (!absl::WebSafeBase64Unescape(token, &raw) || raw.rfind("jobs<", 0) != 0 ||
      !absl::SimpleAtoi(absl::string_view(raw).substr(5), &key) || key < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_token: '", token.substr(0, 64), "' is not a token returned by ListJobs"));
  }
  return key;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                               SqliteStoreOptions options) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                 nullptr);
  if (rc != SQLITE_OK) {
    absl::Status s = SqliteError(db, rc, absl::StrCat("open '", path, "'"));
    sqlite3_close(db);
    return absl::FailedPreconditionError(s.message());
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, db));
  absl::MutexLock lock(&store->mu_);
  // WAL: readers never block the writer. synchronous=FULL: a commit is on disk
  // before we acknowledge it, power cut included.
  sqlite3_busy_timeout(db, 5000);
  RETURN_IF_ERROR(Exec(db, "PRAGMA journal_mode = WAL"));
  RETURN_IF_ERROR(Exec(db, "PRAGMA synchronous = FULL"));
  RETURN_IF_ERROR(Exec(db, "PRAGMA foreign_keys = ON"));
  {
    ASSIGN_OR_RETURN(Statement mode, Statement::Prepare(db, "PRAGMA journal_mode"));
    ASSIGN_OR_RETURN(bool row, mode.Step());
    if (!row || mode.Text(0) != "wal") {
      return absl::FailedPreconditionError(
          absl::StrCat("store '", path, "': cannot switch to WAL mode (file system?)"));
    }
  }
  RETURN_IF_ERROR(store->Migrate(options.max_schema_version));
  return store;
}

SqliteStore::~SqliteStore() {
  absl::MutexLock lock(&mu_);
  sqlite3_close(db_);
}

absl::Status SqliteStore::Migrate(int max_version) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  const std::vector<Migration>& migrations = SchemaMigrations();
  const int latest = migrations.back().version;
  const int target = max_version > 0 ? std::min(max_version, latest) : latest;
  ASSIGN_OR_RETURN(Statement version_stmt, Statement::Prepare(db_, "PRAGMA user_version"));
  ASSIGN_OR_RETURN(bool row, version_stmt.Step());
  int current = row ? static_cast<int>(version_stmt.Int(0)) : 0;
  if (current > latest) {
    return absl::FailedPreconditionError(absl::StrCat(
        "store '", path_, "' has schema version ", current, " but this ionloopd knows up to ",
        latest, "; run a newer ionloopd"));
  }
  for (const Migration& m : migrations) {
    if (m.version <= current || m.version > target) continue;
    ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_));
    RETURN_IF_ERROR(Exec(db_, m.sql));
    RETURN_IF_ERROR(Exec(db_, absl::StrCat("PRAGMA user_version = ", m.version).c_str()));
    RETURN_IF_ERROR(txn.Commit());
    current = m.version;
  }
  schema_version_ = current;
  return absl::OkStatus();
}

absl::StatusOr<InsertJobResult> SqliteStore::InsertJob(const v1::JobSpec& spec,
                                                       absl::string_view idempotency_key,
                                                       absl::Time now) {
  absl::StatusOr<InsertJobResult> result;
  RETURN_IF_ERROR(Write([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    result = InsertJobLocked(spec, idempotency_key, now);
    return result.status();
  }));
  return result;
}

absl::StatusOr<InsertJobResult> SqliteStore::InsertFinishedJob(const v1::JobSpec& spec,
                                                               absl::string_view idempotency_key,
                                                               const JobDecision& finish,
                                                               absl::Time now) {
  absl::StatusOr<InsertJobResult> result;
  RETURN_IF_ERROR(Write([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS -> absl::Status {
    result = InsertJobLocked(spec, idempotency_key, now);
    if (!result.ok() || !result->created) return result.status();
    const std::string id = result->job.id();
    ASSIGN_OR_RETURN(const int64_t key, ParseJobId(id));
    absl::StatusOr<JobChange> finished = UpdateJobLocked(key, id, finish, now);
    if (!finished.ok()) {
      result = finished.status();  // the savepoint rolls the insert back too
      return result.status();
    }
    result->job = std::move(finished->job);
    result->finish_event = std::move(finished->event);
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<InsertJobResult> SqliteStore::InsertJobLocked(const v1::JobSpec& spec,
                                                             absl::string_view idempotency_key,
                                                             absl::Time now) {
  InsertJobResult result;
  if (!idempotency_key.empty()) {
    ASSIGN_OR_RETURN(Statement find,
                     Statement::Prepare(db_, "SELECT id FROM jobs WHERE idempotency_key = ?"));
    find.Bind(1, idempotency_key);
    ASSIGN_OR_RETURN(bool found, find.Step());
    if (found) {
      const int64_t key = find.Int(0);
      ASSIGN_OR_RETURN(StoredJob existing, ReadJob(db_, key, FormatJobId(key)));
      result.job = std::move(existing.record.job);
      result.created = false;
      return result;  // nothing written
    }
  }

  const v1::JobKind kind = KindOf(spec);
  const int64_t now_us = absl::ToUnixMicros(now);
  std::string spec_bytes;
  spec.SerializeToString(&spec_bytes);
  ASSIGN_OR_RETURN(Statement insert,
                   Statement::Prepare(db_,
                                      "INSERT INTO jobs (kind, state, priority, campaign_id, "
                                      "idempotency_key, spec, created_us, updated_us, "
                                      "message, last_event_seq) "
                                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)"));
  insert.Bind(1, static_cast<int64_t>(kind))
      .Bind(2, static_cast<int64_t>(v1::JOB_STATE_QUEUED))
      .Bind(3, static_cast<int64_t>(spec.priority()))
      .Bind(4, spec.campaign_id())
      .BindBlob(6, spec_bytes)
      .Bind(7, now_us)
      .Bind(8, now_us)
      .Bind(9, absl::string_view(kQueuedMessage));
  if (idempotency_key.empty()) {
    insert.BindNull(5);
  } else {
    insert.Bind(5, idempotency_key);
  }
  RETURN_IF_ERROR(insert.Run());
  const int64_t key = sqlite3_last_insert_rowid(db_);

  if (!spec.labels().empty()) {
    ASSIGN_OR_RETURN(Statement label, Statement::Prepare(db_,
                                                         "INSERT INTO job_labels (job_id, key, "
                                                         "value) VALUES (?, ?, ?)"));
    for (const auto& [k, v] : spec.labels()) {
      label.Bind(1, key).Bind(2, k).Bind(3, v);
      RETURN_IF_ERROR(label.Run());
      label.Reset();
    }
  }

  v1::Job& job = result.job;
  job.set_id(FormatJobId(key));
  *job.mutable_spec() = spec;
  job.set_kind(kind);
  job.set_state(v1::JOB_STATE_QUEUED);
  job.set_message(kQueuedMessage);
  job.set_idempotency_key(std::string(idempotency_key));
  *job.mutable_created_at() = ToProtoTime(now);
  *job.mutable_updated_at() = ToProtoTime(now);
  v1::JobEvent event = EventOf(job, v1::JOB_EVENT_TYPE_STATE_CHANGED, 1, now);
  RETURN_IF_ERROR(InsertEvent(db_, key, event));
  result.created = true;
  result.event = std::move(event);
  return result;
}

absl::Status SqliteStore::Write(const std::function<absl::Status()>& apply) {
  PendingWrite self;
  self.apply = &apply;
  std::vector<PendingWrite*> batch;
  {
    absl::MutexLock queue_lock(&queue_mu_);
    queue_.push_back(&self);
    auto my_turn = [this, &self]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return self.done || (!leader_active_ && queue_.front() == &self);
    };
    queue_mu_.Await(absl::Condition(&my_turn));
    if (self.done) return self.result;  // a leader committed it for us
    leader_active_ = true;
    batch.assign(queue_.begin(), queue_.end());
    queue_.clear();
  }

  absl::Status commit;
  {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<Transaction> txn = Transaction::Begin(db_);
    commit = txn.status();
    if (commit.ok()) {
      for (PendingWrite* w : batch) {
        // A savepoint per write: one failing write leaves the others intact.
        w->result = Exec(db_, "SAVEPOINT write");
        if (w->result.ok()) w->result = (*w->apply)();
        if (w->result.ok()) {
          w->result = Exec(db_, "RELEASE write");
        } else {
          Exec(db_, "ROLLBACK TO write").IgnoreError();
          Exec(db_, "RELEASE write").IgnoreError();
        }
      }
      commit = txn->Commit();
    }
  }

  absl::MutexLock queue_lock(&queue_mu_);
  for (PendingWrite* w : batch) {
    if (!commit.ok()) w->result = commit;
    w->done = true;
  }
  leader_active_ = false;
  return self.result;
}

absl::StatusOr<v1::Job> SqliteStore::GetJob(absl::string_view job_id) {
  ASSIGN_OR_RETURN(const int64_t key, ParseJobId(job_id));
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(StoredJob stored, ReadJob(db_, key, job_id));
  return std::move(stored.record.job);
}

absl::StatusOr<JobPage> SqliteStore::ListJobs(const JobFilter& filter, int page_size,
                                              absl::string_view page_token) {
  int64_t before_key = 0;
  if (!page_token.empty()) {
    ASSIGN_OR_RETURN(before_key, DecodePageToken(page_token));
  }
  std::string sql = absl::StrCat("SELECT ", kJobColumns, " FROM jobs WHERE 1");
  if (!filter.states.empty()) {
    absl::StrAppend(&sql, " AND state IN (",
                    absl::StrJoin(std::vector<std::string>(filter.states.size(), "?"), ","),
                    ")");
  }
  if (filter.kind != v1::JOB_KIND_UNSPECIFIED) absl::StrAppend(&sql, " AND kind = ?");
  if (!filter.campaign_id.empty()) absl::StrAppend(&sql, " AND campaign_id = ?");
  for (size_t i = 0; i < filter.labels.size(); ++i) {
    absl::StrAppend(&sql,
                    " AND EXISTS (SELECT 1 FROM job_labels l WHERE l.job_id = jobs.id"
                    " AND l.key = ? AND l.value = ?)");
  }
  if (before_key > 0) absl::StrAppend(&sql, " AND id < ?");
  absl::StrAppend(&sql, " ORDER BY id DESC LIMIT ?");

  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(db_, sql));
  int i = 1;
  for (v1::JobState s : filter.states) stmt.Bind(i++, static_cast<int64_t>(s));
  if (filter.kind != v1::JOB_KIND_UNSPECIFIED) stmt.Bind(i++, static_cast<int64_t>(filter.kind));
  if (!filter.campaign_id.empty()) stmt.Bind(i++, filter.campaign_id);
  for (const auto& [k, v] : filter.labels) {
    stmt.Bind(i++, k);
    stmt.Bind(i++, v);
  }
  if (before_key > 0) stmt.Bind(i++, before_key);
  stmt.Bind(i++, static_cast<int64_t>(page_size) + 1);  // one extra: is there a next page?

  JobPage page;
  int64_t last_key = 0;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    if (static_cast<int>(page.jobs.size()) == page_size) {
      page.next_page_token = EncodePageToken(last_key);
      break;
    }
    ASSIGN_OR_RETURN(StoredJob stored, JobFromRow(stmt));
    last_key = stored.key;
    page.jobs.push_back(std::move(stored.record.job));
  }
  return page;
}

absl::StatusOr<JobChange> SqliteStore::UpdateJob(absl::string_view job_id,
                                                 const JobDecision& decide, absl::Time now) {
  ASSIGN_OR_RETURN(const int64_t key, ParseJobId(job_id));
  absl::StatusOr<JobChange> change;
  RETURN_IF_ERROR(Write([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    change = UpdateJobLocked(key, job_id, decide, now);
    return change.status();
  }));
  return change;
}

absl::StatusOr<JobChange> SqliteStore::UpdateJobLocked(int64_t key, absl::string_view job_id,
                                                       const JobDecision& decide,
                                                       absl::Time now) {
  ASSIGN_OR_RETURN(StoredJob stored, ReadJob(db_, key, job_id));
  ASSIGN_OR_RETURN(JobMutation m, decide(stored.record));
  JobChange change;
  if (m.Empty()) {
    change.job = std::move(stored.record.job);
    return change;  // a no-op decision writes nothing
  }

  v1::Job& job = stored.record.job;
  JobRecord& record = stored.record;
  if (m.state) job.set_state(*m.state);
  if (m.worker_id) job.set_worker_id(*m.worker_id);
  if (m.attempt) job.set_attempt(*m.attempt);
  if (m.progress) job.set_progress(*m.progress);
  if (m.message) job.set_message(*m.message);
  if (m.cancel_reason) {
    job.set_cancel_requested(true);
    job.set_cancel_reason(*m.cancel_reason);
  }
  if (m.update_seq) record.update_seq = *m.update_seq;
  if (m.checkpoint) record.checkpoint = *m.checkpoint;
  if (m.not_before) record.not_before = *m.not_before;
  if (!m.measurements.empty()) {
    for (v1::Measurement& measurement : m.measurements) {
      if (measurement.job_id() != job.id()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "measurement for '", measurement.job_id(), "' in an update of ", job.id()));
      }
    }
    ASSIGN_OR_RETURN(change.new_measurements, InsertMeasurementsLocked(key, m.measurements));
    job.set_measurement_count(job.measurement_count() +
                              static_cast<uint64_t>(change.new_measurements));
  }
  *job.mutable_updated_at() = ToProtoTime(now);
  const bool has_event = m.event_type != v1::JOB_EVENT_TYPE_UNSPECIFIED;
  const int64_t seq = stored.last_event_seq + (has_event ? 1 : 0);

  ASSIGN_OR_RETURN(Statement update,
                   Statement::Prepare(db_,
                                      "UPDATE jobs SET state = ?, worker_id = ?, attempt = ?, "
                                      "progress = ?, message = ?, cancel_requested = ?, "
                                      "cancel_reason = ?, updated_us = ?, last_event_seq = ?, "
                                      "update_seq = ?, checkpoint = ?, not_before_us = ? "
                                      "WHERE id = ?"));
  update.Bind(1, static_cast<int64_t>(job.state()))
      .Bind(2, job.worker_id())
      .Bind(3, static_cast<int64_t>(job.attempt()))
      .Bind(4, job.progress())
      .Bind(5, job.message())
      .Bind(6, static_cast<int64_t>(job.cancel_requested() ? 1 : 0))
      .Bind(7, job.cancel_reason())
      .Bind(8, absl::ToUnixMicros(now))
      .Bind(9, seq)
      .Bind(10, static_cast<int64_t>(record.update_seq))
      .BindBlob(11, record.checkpoint)
      .Bind(12, record.not_before == absl::InfinitePast() ? int64_t{0}
                                                          : absl::ToUnixMicros(record.not_before))
      .Bind(13, key);
  RETURN_IF_ERROR(update.Run());
  if (has_event) {
    v1::JobEvent event = EventOf(job, m.event_type, seq, now);
    RETURN_IF_ERROR(InsertEvent(db_, key, event));
    change.event = std::move(event);
  }
  change.job = std::move(job);
  return change;
}

std::vector<absl::StatusOr<JobChange>> SqliteStore::UpdateJobs(
    absl::Span<const std::pair<std::string, JobDecision>> updates, absl::Time now) {
  std::vector<absl::StatusOr<JobChange>> changes(updates.size(),
                                                 absl::InternalError("not applied"));
  absl::Status commit = Write([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    for (size_t i = 0; i < updates.size(); ++i) {
      absl::StatusOr<int64_t> key = ParseJobId(updates[i].first);
      if (!key.ok()) {
        changes[i] = key.status();
        continue;
      }
      // A savepoint each: one refused decision leaves the others in the commit.
      RETURN_IF_ERROR(Exec(db_, "SAVEPOINT one_update"));
      changes[i] = UpdateJobLocked(*key, updates[i].first, updates[i].second, now);
      RETURN_IF_ERROR(Exec(db_, changes[i].ok() ? "RELEASE one_update"
                                                : "ROLLBACK TO one_update"));
      if (!changes[i].ok()) RETURN_IF_ERROR(Exec(db_, "RELEASE one_update"));
    }
    return absl::OkStatus();
  });
  if (!commit.ok()) {
    for (auto& change : changes) change = commit;
  }
  return changes;
}

absl::StatusOr<JobRecord> SqliteStore::GetJobRecord(absl::string_view job_id) {
  ASSIGN_OR_RETURN(const int64_t key, ParseJobId(job_id));
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(StoredJob stored, ReadJob(db_, key, job_id));
  return std::move(stored.record);
}

absl::StatusOr<std::vector<JobRecord>> SqliteStore::ListSchedulableJobs(
    int limit, absl::Span<const v1::JobKind> kinds, int64_t after_order) {
  std::string kind_filter = after_order > 0 ? absl::StrCat(" AND id > ", after_order) : "";
  if (!kinds.empty()) {
    absl::StrAppend(&kind_filter,
        " AND kind IN (",
        absl::StrJoin(kinds, ",", [](std::string* out, v1::JobKind k) {
          absl::StrAppend(out, static_cast<int>(k));
        }),
        ")");
  }
  absl::MutexLock lock(&mu_);
  return ReadRecordsLocked(
      absl::StrCat("SELECT ", kJobColumns, " FROM jobs WHERE state IN (",
                   static_cast<int>(v1::JOB_STATE_QUEUED), ",",
                   static_cast<int>(v1::JOB_STATE_RETRYING), ")", kind_filter,
                   " ORDER BY priority DESC, id LIMIT ", limit));
}

absl::StatusOr<std::vector<JobRecord>> SqliteStore::ListHeldJobs() {
  absl::MutexLock lock(&mu_);
  return ReadRecordsLocked(absl::StrCat("SELECT ", kJobColumns, " FROM jobs WHERE state IN (",
                                        static_cast<int>(v1::JOB_STATE_ASSIGNED), ",",
                                        static_cast<int>(v1::JOB_STATE_RUNNING),
                                        ") ORDER BY id"));
}

absl::StatusOr<std::vector<JobRecord>> SqliteStore::ReadRecordsLocked(const std::string& sql) {
  ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(db_, sql));
  std::vector<JobRecord> records;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    ASSIGN_OR_RETURN(StoredJob stored, JobFromRow(stmt));
    records.push_back(std::move(stored.record));
  }
  return records;
}

absl::StatusOr<std::vector<v1::JobEvent>> SqliteStore::ListJobEvents(absl::string_view job_id,
                                                                     uint64_t after_seq) {
  ASSIGN_OR_RETURN(const int64_t key, ParseJobId(job_id));
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(StoredJob stored, ReadJob(db_, key, job_id));
  ASSIGN_OR_RETURN(Statement stmt,
                   Statement::Prepare(db_,
                                      "SELECT seq, type, state, at_us, message, worker_id, "
                                      "attempt, progress FROM job_events WHERE job_id = ? AND "
                                      "seq > ? ORDER BY seq"));
  stmt.Bind(1, key).Bind(2, static_cast<int64_t>(after_seq));
  std::vector<v1::JobEvent> events;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    v1::JobEvent& e = events.emplace_back();
    e.set_job_id(stored.record.job.id());
    e.set_seq(static_cast<uint64_t>(stmt.Int(0)));
    e.set_type(static_cast<v1::JobEventType>(stmt.Int(1)));
    e.set_state(static_cast<v1::JobState>(stmt.Int(2)));
    *e.mutable_at() = MicrosToProtoTime(stmt.Int(3));
    e.set_message(stmt.Text(4));
    e.set_worker_id(stmt.Text(5));
    e.set_attempt(static_cast<uint32_t>(stmt.Int(6)));
    e.set_progress(stmt.Double(7));
  }
  return events;
}

absl::StatusOr<int> SqliteStore::AppendMeasurements(
    absl::Span<const v1::Measurement> measurements) {
  if (measurements.empty()) return 0;
  // Parse every id before taking the lock: a bad one rejects the whole batch.
  std::vector<int64_t> keys;
  keys.reserve(measurements.size());
  for (size_t i = 0; i < measurements.size(); ++i) {
    ASSIGN_OR_RETURN(int64_t key,
                     ParseJobId(measurements[i].job_id(),
                                absl::StrCat("measurements[", i, "].job_id")));
    keys.push_back(key);
  }
  absl::StatusOr<int> inserted;
  RETURN_IF_ERROR(Write([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    inserted = AppendMeasurementsLocked(measurements, keys);
    return inserted.status();
  }));
  return inserted;
}

absl::StatusOr<int> SqliteStore::AppendMeasurementsLocked(
    absl::Span<const v1::Measurement> measurements, const std::vector<int64_t>& keys) {
  ASSIGN_OR_RETURN(Statement exists, Statement::Prepare(db_, "SELECT 1 FROM jobs WHERE id = ?"));
  int inserted = 0;
  // Runs of the same job go in together (batches are mostly one job).
  for (size_t begin = 0; begin < measurements.size();) {
    size_t end = begin + 1;
    while (end < measurements.size() && keys[end] == keys[begin]) ++end;
    exists.Reset();
    exists.Bind(1, keys[begin]);
    ASSIGN_OR_RETURN(bool found, exists.Step());
    if (!found) {
      return absl::NotFoundError(absl::StrCat("measurements[", begin, "].job_id: no job '",
                                              measurements[begin].job_id(), "'"));
    }
    ASSIGN_OR_RETURN(int n, InsertMeasurementsLocked(keys[begin],
                                                     measurements.subspan(begin, end - begin)));
    inserted += n;
    begin = end;
  }
  return inserted;
}

absl::StatusOr<int> SqliteStore::InsertMeasurementsLocked(
    int64_t key, absl::Span<const v1::Measurement> measurements) {
  ASSIGN_OR_RETURN(Statement insert,
                   Statement::Prepare(db_,
                                      "INSERT OR IGNORE INTO measurements (job_id, attempt, seq, "
                                      "kind, recorded_us, payload) VALUES (?, ?, ?, ?, ?, ?)"));
  int inserted = 0;
  std::string payload;
  for (const v1::Measurement& m : measurements) {
    m.SerializeToString(&payload);
    insert.Reset();
    insert.Bind(1, key)
        .Bind(2, static_cast<int64_t>(m.attempt()))
        .Bind(3, static_cast<int64_t>(m.seq()))
        .Bind(4, static_cast<int64_t>(m.value_case()))
        .Bind(5, absl::ToUnixMicros(FromProtoTime(m.recorded_at())))
        .BindBlob(6, payload);
    RETURN_IF_ERROR(insert.Run());
    inserted += sqlite3_changes(db_);
  }
  if (inserted > 0) {
    ASSIGN_OR_RETURN(Statement count,
                     Statement::Prepare(db_,
                                        "UPDATE jobs SET measurement_count = "
                                        "measurement_count + ? WHERE id = ?"));
    count.Bind(1, static_cast<int64_t>(inserted)).Bind(2, key);
    RETURN_IF_ERROR(count.Run());
  }
  return inserted;
}

absl::StatusOr<std::vector<v1::Measurement>> SqliteStore::ReadMeasurements(
    absl::string_view job_id, uint32_t attempt, MeasurementCursor after, int limit) {
  ASSIGN_OR_RETURN(const int64_t key, ParseJobId(job_id));
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(ReadJob(db_, key, job_id).status());
  std::string sql =
      "SELECT payload FROM measurements WHERE job_id = ? AND (attempt > ? OR (attempt = ? AND "
      "seq > ?))";
  if (attempt > 0) sql += " AND attempt = ?";
  sql += " ORDER BY attempt, seq LIMIT ?";
  ASSIGN_OR_RETURN(Statement stmt, Statement::Prepare(db_, sql));
  stmt.Bind(1, key)
      .Bind(2, static_cast<int64_t>(after.attempt))
      .Bind(3, static_cast<int64_t>(after.attempt))
      .Bind(4, static_cast<int64_t>(after.seq));
  int next = 5;
  if (attempt > 0) stmt.Bind(next++, static_cast<int64_t>(attempt));
  stmt.Bind(next, static_cast<int64_t>(limit));
  std::vector<v1::Measurement> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    v1::Measurement& m = out.emplace_back();
    absl::string_view blob = stmt.Blob(0);
    if (!m.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
      return absl::DataLossError(absl::StrCat(job_id, ": a stored measurement does not parse"));
    }
  }
  return out;
}

absl::StatusOr<StoreStats> SqliteStore::Stats() {
  absl::MutexLock lock(&mu_);
  StoreStats stats;
  ASSIGN_OR_RETURN(Statement by_state,
                   Statement::Prepare(db_,
                                      "SELECT state, COUNT(*), SUM(measurement_count) FROM jobs "
                                      "GROUP BY state ORDER BY state"));
  while (true) {
    ASSIGN_OR_RETURN(bool row, by_state.Step());
    if (!row) break;
    const auto n = static_cast<uint64_t>(by_state.Int(1));
    stats.jobs_by_state.emplace_back(static_cast<v1::JobState>(by_state.Int(0)), n);
    stats.job_total += n;
    stats.measurement_total += static_cast<uint64_t>(by_state.Int(2));
  }
  return stats;
}

absl::StatusOr<v1::Model> SqliteStore::InsertModel(v1::Model model, absl::string_view weights,
                                                   absl::Time now) {
  RETURN_IF_ERROR(Write([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    ASSIGN_OR_RETURN(Statement last, Statement::Prepare(db_,
                                                        "SELECT COALESCE(MAX(version), 0) FROM "
                                                        "models WHERE name = ?"));
    last.Bind(1, model.name());
    ASSIGN_OR_RETURN(bool row, last.Step());
    const int64_t version = row ? last.Int(0) + 1 : 1;
    model.set_version(static_cast<uint32_t>(version));
    *model.mutable_created_at() = ToProtoTime(now);
    model.set_weights_bytes(weights.size());
    ASSIGN_OR_RETURN(Statement insert,
                     Statement::Prepare(db_,
                                        "INSERT INTO models (name, version, kind, created_us, "
                                        "info, weights) VALUES (?, ?, ?, ?, ?, ?)"));
    const std::string info = model.SerializeAsString();
    insert.Bind(1, model.name())
        .Bind(2, version)
        .Bind(3, static_cast<int64_t>(model.kind()))
        .Bind(4, absl::ToUnixMicros(now))
        .BindBlob(5, info)
        .BindBlob(6, weights);
    return insert.Run();
  }));
  return model;
}

namespace {

// "name@3", or "name" for the latest version.
std::string ModelRef(absl::string_view name, uint32_t version) {
  return version == 0 ? std::string(name) : absl::StrCat(name, "@", version);
}

}  // namespace

absl::StatusOr<v1::Model> SqliteStore::GetModel(absl::string_view name, uint32_t version) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement select,
                   Statement::Prepare(db_, version == 0
                                               ? "SELECT info FROM models WHERE name = ? "
                                                 "ORDER BY version DESC LIMIT 1"
                                               : "SELECT info FROM models WHERE name = ? AND "
                                                 "version = ?"));
  select.Bind(1, name);
  if (version != 0) select.Bind(2, static_cast<int64_t>(version));
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("no model '", ModelRef(name, version), "'"));
  v1::Model model;
  if (!model.ParseFromArray(select.Blob(0).data(), static_cast<int>(select.Blob(0).size()))) {
    return absl::DataLossError(absl::StrCat("model '", ModelRef(name, version),
                                            "': stored description does not parse"));
  }
  return model;
}

absl::StatusOr<std::string> SqliteStore::GetModelWeights(absl::string_view name,
                                                         uint32_t version) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement select,
                   Statement::Prepare(db_, version == 0
                                               ? "SELECT weights FROM models WHERE name = ? "
                                                 "ORDER BY version DESC LIMIT 1"
                                               : "SELECT weights FROM models WHERE name = ? AND "
                                                 "version = ?"));
  select.Bind(1, name);
  if (version != 0) select.Bind(2, static_cast<int64_t>(version));
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("no model '", ModelRef(name, version), "'"));
  return std::string(select.Blob(0));
}

absl::StatusOr<std::vector<v1::Model>> SqliteStore::ListModels(absl::string_view name,
                                                               v1::ModelKind kind) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement select,
                   Statement::Prepare(db_,
                                      "SELECT info FROM models WHERE (?1 = '' OR name = ?1) AND "
                                      "(?2 = 0 OR kind = ?2) ORDER BY created_us DESC, name, "
                                      "version DESC"));
  select.Bind(1, name).Bind(2, static_cast<int64_t>(kind));
  std::vector<v1::Model> models;
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    v1::Model& model = models.emplace_back();
    if (!model.ParseFromArray(select.Blob(0).data(), static_cast<int>(select.Blob(0).size()))) {
      return absl::DataLossError("a stored model description does not parse");
    }
  }
  return models;
}

namespace {

template <typename Message>
absl::StatusOr<Message> ParseBlob(absl::string_view blob, absl::string_view what) {
  Message message;
  if (!message.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
    return absl::DataLossError(absl::StrCat(what, ": stored row does not parse"));
  }
  return message;
}

}  // namespace

absl::StatusOr<Store::InsertCampaignResult> SqliteStore::InsertCampaign(
    v1::Campaign campaign, absl::string_view idempotency_key, absl::Time now) {
  InsertCampaignResult result;
  RETURN_IF_ERROR(Write([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS -> absl::Status {
    if (!idempotency_key.empty()) {
      ASSIGN_OR_RETURN(Statement existing,
                       Statement::Prepare(db_, "SELECT info FROM campaigns WHERE idempotency_key = ?"));
      existing.Bind(1, idempotency_key);
      ASSIGN_OR_RETURN(bool found, existing.Step());
      if (found) {
        ASSIGN_OR_RETURN(result.campaign, ParseBlob<v1::Campaign>(existing.Blob(0), "campaign"));
        result.created = false;
        return absl::OkStatus();
      }
    }
    ASSIGN_OR_RETURN(Statement next,
                     Statement::Prepare(db_, "SELECT COALESCE(MAX(id), 0) + 1 FROM campaigns"));
    ASSIGN_OR_RETURN(bool row, next.Step());
    const int64_t id = row ? next.Int(0) : 1;
    campaign.set_id(FormatCampaignId(id));
    *campaign.mutable_created_at() = ToProtoTime(now);
    *campaign.mutable_updated_at() = ToProtoTime(now);
    ASSIGN_OR_RETURN(Statement insert,
                     Statement::Prepare(db_,
                                        "INSERT INTO campaigns (id, idempotency_key, created_us, "
                                        "info) VALUES (?, ?, ?, ?)"));
    insert.Bind(1, id);
    if (idempotency_key.empty()) {
      insert.BindNull(2);
    } else {
      insert.Bind(2, idempotency_key);
    }
    insert.Bind(3, absl::ToUnixMicros(now)).BindBlob(4, campaign.SerializeAsString());
    RETURN_IF_ERROR(insert.Run());
    result.campaign = campaign;
    result.created = true;
    return absl::OkStatus();
  }));
  return result;
}

absl::Status SqliteStore::SaveCampaign(const v1::Campaign& campaign,
                                       absl::Span<const v1::Proposal> proposals) {
  ASSIGN_OR_RETURN(const int64_t id, ParseCampaignId(campaign.id(), "campaign.id"));
  return Write([&]() ABSL_NO_THREAD_SAFETY_ANALYSIS -> absl::Status {
    ASSIGN_OR_RETURN(Statement update,
                     Statement::Prepare(db_, "UPDATE campaigns SET info = ? WHERE id = ?"));
    update.BindBlob(1, campaign.SerializeAsString()).Bind(2, id);
    RETURN_IF_ERROR(update.Run());
    if (sqlite3_changes(db_) == 0) {
      return absl::NotFoundError(absl::StrCat("no campaign '", campaign.id(), "'"));
    }
    ASSIGN_OR_RETURN(Statement upsert,
                     Statement::Prepare(db_,
                                        "INSERT OR REPLACE INTO proposals (campaign_id, seq, info) "
                                        "VALUES (?, ?, ?)"));
    for (const v1::Proposal& p : proposals) {
      upsert.Reset();
      upsert.Bind(1, id).Bind(2, static_cast<int64_t>(p.seq())).BindBlob(3, p.SerializeAsString());
      RETURN_IF_ERROR(upsert.Run());
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::Campaign> SqliteStore::GetCampaign(absl::string_view campaign_id) {
  ASSIGN_OR_RETURN(const int64_t id, ParseCampaignId(campaign_id));
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement select,
                   Statement::Prepare(db_, "SELECT info FROM campaigns WHERE id = ?"));
  select.Bind(1, id);
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("no campaign '", campaign_id, "'"));
  return ParseBlob<v1::Campaign>(select.Blob(0), campaign_id);
}

absl::StatusOr<std::vector<v1::Campaign>> SqliteStore::ListCampaigns() {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement select,
                   Statement::Prepare(db_, "SELECT info FROM campaigns ORDER BY id DESC"));
  std::vector<v1::Campaign> campaigns;
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    ASSIGN_OR_RETURN(v1::Campaign c, ParseBlob<v1::Campaign>(select.Blob(0), "campaign"));
    campaigns.push_back(std::move(c));
  }
  return campaigns;
}

absl::StatusOr<std::vector<v1::Proposal>> SqliteStore::ListProposals(absl::string_view campaign_id) {
  ASSIGN_OR_RETURN(const int64_t id, ParseCampaignId(campaign_id));
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Statement select,
                   Statement::Prepare(db_, "SELECT info FROM proposals WHERE campaign_id = ? "
                                           "ORDER BY seq"));
  select.Bind(1, id);
  std::vector<v1::Proposal> proposals;
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    ASSIGN_OR_RETURN(v1::Proposal p, ParseBlob<v1::Proposal>(select.Blob(0), "proposal"));
    proposals.push_back(std::move(p));
  }
  return proposals;
}

}  // namespace ionloop::orchestrator
