#include "orchestrator/store/migrations.h"

namespace ionloop::orchestrator {

const std::vector<Migration>& SchemaMigrations() {
  static const auto* const migrations = new std::vector<Migration>{
      {1, "jobs, labels and job events", R"sql(
CREATE TABLE jobs (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: job ids stay unique
  kind              INTEGER NOT NULL,
  state             INTEGER NOT NULL,
  priority          INTEGER NOT NULL DEFAULT 0,
  campaign_id       TEXT    NOT NULL DEFAULT '',
  idempotency_key   TEXT,                               -- NULL when none was given
  spec              BLOB    NOT NULL,                   -- serialized ionloop.v1.JobSpec
  attempt           INTEGER NOT NULL DEFAULT 0,
  worker_id         TEXT    NOT NULL DEFAULT '',
  progress          REAL    NOT NULL DEFAULT 0,
  message           TEXT    NOT NULL DEFAULT '',
  cancel_requested  INTEGER NOT NULL DEFAULT 0,
  cancel_reason     TEXT    NOT NULL DEFAULT '',
  created_us        INTEGER NOT NULL,
  updated_us        INTEGER NOT NULL,
  last_event_seq    INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX jobs_by_idempotency_key ON jobs(idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_by_state ON jobs(state, id);
CREATE INDEX jobs_by_campaign ON jobs(campaign_id, id);
CREATE INDEX jobs_by_kind ON jobs(kind, id);

CREATE TABLE job_labels (
  job_id  INTEGER NOT NULL REFERENCES jobs(id),
  key     TEXT    NOT NULL,
  value   TEXT    NOT NULL,
  PRIMARY KEY (job_id, key)
) WITHOUT ROWID;
CREATE INDEX job_labels_by_pair ON job_labels(key, value, job_id);

CREATE TABLE job_events (
  job_id     INTEGER NOT NULL REFERENCES jobs(id),
  seq        INTEGER NOT NULL,
  type       INTEGER NOT NULL,
  state      INTEGER NOT NULL,
  at_us      INTEGER NOT NULL,
  message    TEXT    NOT NULL,
  worker_id  TEXT    NOT NULL,
  attempt    INTEGER NOT NULL,
  progress   REAL    NOT NULL,
  PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
)sql"},
      {2, "measurements", R"sql(
CREATE TABLE measurements (
  job_id       INTEGER NOT NULL REFERENCES jobs(id),
  attempt      INTEGER NOT NULL,
  seq          INTEGER NOT NULL,
  kind         INTEGER NOT NULL,                 -- Measurement.value field number
  recorded_us  INTEGER NOT NULL,
  payload      BLOB    NOT NULL,                 -- serialized ionloop.v1.Measurement
  PRIMARY KEY (job_id, attempt, seq)
) WITHOUT ROWID;
ALTER TABLE jobs ADD COLUMN measurement_count INTEGER NOT NULL DEFAULT 0;
)sql"},
      {3, "worker protocol bookkeeping", R"sql(
ALTER TABLE jobs ADD COLUMN update_seq INTEGER NOT NULL DEFAULT 0;   -- of the current attempt
ALTER TABLE jobs ADD COLUMN checkpoint BLOB;                         -- last reported
ALTER TABLE jobs ADD COLUMN not_before_us INTEGER NOT NULL DEFAULT 0; -- retry backoff
CREATE INDEX jobs_schedulable ON jobs(state, priority DESC, id);
)sql"},
      {4, "model registry", R"sql(
CREATE TABLE models (
  name        TEXT    NOT NULL,
  version     INTEGER NOT NULL,
  kind        INTEGER NOT NULL,                  -- ionloop.v1.ModelKind
  created_us  INTEGER NOT NULL,
  info        BLOB    NOT NULL,                  -- serialized ionloop.v1.Model
  weights     BLOB    NOT NULL,                  -- the model library's own format
  PRIMARY KEY (name, version)
) WITHOUT ROWID;
)sql"},
      {5, "campaigns", R"sql(
CREATE TABLE campaigns (
  id               INTEGER PRIMARY KEY,            -- campaign-<id>
  idempotency_key  TEXT UNIQUE,                    -- NULL when none was given
  created_us       INTEGER NOT NULL,
  info             BLOB    NOT NULL                -- serialized ionloop.v1.Campaign
);
CREATE TABLE proposals (
  campaign_id  INTEGER NOT NULL REFERENCES campaigns(id),
  seq          INTEGER NOT NULL,
  info         BLOB    NOT NULL,                   -- serialized ionloop.v1.Proposal
  PRIMARY KEY (campaign_id, seq)
) WITHOUT ROWID;
)sql"},
  };
  return *migrations;
}

}  // namespace ionloop::orchestrator
