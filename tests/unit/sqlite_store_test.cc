#include "orchestrator/store/sqlite_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "orchestrator/store/migrations.h"
#include "tests/testing/job_specs.h"
#include "tests/testing/temp_dir.h"

namespace ionloop::orchestrator {
namespace {

using ::ionloop::testing::CycleMeasurement;
using ::ionloop::testing::CyclingSpec;
using ::ionloop::testing::SyntheticSpec;
using ::ionloop::testing::TempDir;
using ::testing::HasSubstr;

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

// Runs SQL on a store file behind the store's back.
void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
  sqlite3_free(err);
  sqlite3_close(db);
}

int64_t RawInt(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
  int64_t v = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) v = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return v;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/ionloop.db";
    auto store = SqliteStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  v1::Job Insert(const v1::JobSpec& spec, const std::string& key = "") {
    auto r = store_->InsertJob(spec, key, kT0);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->job : v1::Job();
  }

  absl::StatusOr<JobChange> SetState(const std::string& id, v1::JobState to) {
    return store_->UpdateJob(
        id,
        [to](const JobRecord&) -> absl::StatusOr<JobMutation> {
          JobMutation m;
          m.state = to;
          m.event_type = v1::JOB_EVENT_TYPE_STATE_CHANGED;
          return m;
        },
        kT0 + absl::Seconds(1));
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(SqliteStoreTest, MigratesAnEmptyFileToTheLatestSchema) {
  const int latest = SchemaMigrations().back().version;
  EXPECT_EQ(store_->SchemaVersion(), latest);
  EXPECT_EQ(RawInt(path_, "PRAGMA user_version"), latest);
  Insert(SyntheticSpec());
  EXPECT_TRUE(std::filesystem::exists(path_ + "-wal"));  // WAL mode is on
  EXPECT_EQ(RawInt(path_, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'measurements'"), 1);
}

TEST_F(SqliteStoreTest, MigratesAnExistingOlderFileKeepingItsRows) {
  store_.reset();
  const std::string old_path = dir_.path() + "/old.db";
  {
    auto v1_store = SqliteStore::Open(old_path, {.max_schema_version = 1});
    ASSERT_TRUE(v1_store.ok()) << v1_store.status();
    EXPECT_EQ((*v1_store)->SchemaVersion(), 1);
  }
  ASSERT_EQ(RawInt(old_path, "PRAGMA user_version"), 1);
  ASSERT_EQ(RawInt(old_path, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'measurements'"),
            0);
  // A job written by a version-1 ionloopd.
  std::string spec_hex;
  {
    std::string bytes;
    SyntheticSpec(3).SerializeToString(&bytes);
    static const char* digits = "0123456789ABCDEF";
    for (unsigned char c : bytes) {
      spec_hex += digits[c >> 4];
      spec_hex += digits[c & 15];
    }
  }
  RawExec(old_path,
          "INSERT INTO jobs (kind, state, spec, created_us, updated_us, last_event_seq) VALUES "
          "(5, 1, X'" + spec_hex + "', 1, 1, 1);"
          "INSERT INTO job_events VALUES (1, 1, 1, 1, 1, 'queued', '', 0, 0);");

  auto upgraded = SqliteStore::Open(old_path);
  ASSERT_TRUE(upgraded.ok()) << upgraded.status();
  EXPECT_EQ((*upgraded)->SchemaVersion(), SchemaMigrations().back().version);
  auto job = (*upgraded)->GetJob("job-1");
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->spec().synthetic().measurements(), 3u);
  EXPECT_EQ(job->measurement_count(), 0u);
  ASSERT_TRUE((*upgraded)->AppendMeasurements({CycleMeasurement("job-1", 1, 1)}).ok());
  EXPECT_EQ((*upgraded)->GetJob("job-1")->measurement_count(), 1u);
}

TEST_F(SqliteStoreTest, ReopeningAppliesNothingTwice) {
  const v1::Job job = Insert(CyclingSpec());
  store_.reset();
  auto again = SqliteStore::Open(path_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->GetJob(job.id())->spec().SerializeAsString(),
            job.spec().SerializeAsString());
}

TEST_F(SqliteStoreTest, RefusesAFileFromANewerIonloopd) {
  store_.reset();
  RawExec(path_, "PRAGMA user_version = 999");
  auto store = SqliteStore::Open(path_);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("999"));
}

TEST_F(SqliteStoreTest, InsertedJobIsQueuedWithOneEvent) {
  const v1::Job job = Insert(CyclingSpec("camp-1"));
  EXPECT_EQ(job.id(), "job-1");
  EXPECT_EQ(job.state(), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(job.kind(), v1::JOB_KIND_CYCLING);
  auto stored = store_->GetJob(job.id());
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->SerializeAsString(), job.SerializeAsString());
  auto events = store_->ListJobEvents(job.id(), 0);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].seq(), 1u);
  EXPECT_EQ((*events)[0].state(), v1::JOB_STATE_QUEUED);
}

TEST_F(SqliteStoreTest, IdempotencyKeyReturnsTheSameJob) {
  auto first = store_->InsertJob(CyclingSpec(), "key-A", kT0);
  auto second = store_->InsertJob(CyclingSpec(), "key-A", kT0 + absl::Seconds(5));
  auto other = store_->InsertJob(CyclingSpec(), "key-B", kT0);
  auto unkeyed1 = store_->InsertJob(CyclingSpec(), "", kT0);
  auto unkeyed2 = store_->InsertJob(CyclingSpec(), "", kT0);
  ASSERT_TRUE(first.ok() && second.ok() && other.ok() && unkeyed1.ok() && unkeyed2.ok());
  EXPECT_TRUE(first->created);
  EXPECT_FALSE(second->created);
  EXPECT_FALSE(second->event.has_value());
  EXPECT_EQ(second->job.id(), first->job.id());
  EXPECT_EQ(second->job.created_at().seconds(), first->job.created_at().seconds());
  EXPECT_NE(other->job.id(), first->job.id());
  EXPECT_NE(unkeyed1->job.id(), unkeyed2->job.id());
  EXPECT_EQ(store_->Stats()->job_total, 4u);
  EXPECT_EQ(store_->ListJobEvents(first->job.id(), 0)->size(), 1u);
}

TEST_F(SqliteStoreTest, UpdateJobRecordsNumberedEvents) {
  const v1::Job job = Insert(SyntheticSpec());
  ASSERT_TRUE(SetState(job.id(), v1::JOB_STATE_ASSIGNED).ok());
  auto change = SetState(job.id(), v1::JOB_STATE_RUNNING);
  ASSERT_TRUE(change.ok()) << change.status();
  EXPECT_EQ(change->job.state(), v1::JOB_STATE_RUNNING);
  ASSERT_TRUE(change->event.has_value());
  EXPECT_EQ(change->event->seq(), 3u);
  auto events = store_->ListJobEvents(job.id(), 1);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].state(), v1::JOB_STATE_ASSIGNED);
  EXPECT_EQ((*events)[1].state(), v1::JOB_STATE_RUNNING);
  EXPECT_EQ(store_->GetJob(job.id())->state(), v1::JOB_STATE_RUNNING);
}

TEST_F(SqliteStoreTest, ARejectedDecisionWritesNothing) {
  const v1::Job job = Insert(SyntheticSpec());
  auto change = store_->UpdateJob(
      job.id(),
      [](const JobRecord&) -> absl::StatusOr<JobMutation> {
        return absl::FailedPreconditionError("no");
      },
      kT0);
  EXPECT_EQ(change.status().code(), absl::StatusCode::kFailedPrecondition);
  auto noop = store_->UpdateJob(
      job.id(), [](const JobRecord&) -> absl::StatusOr<JobMutation> { return JobMutation(); }, kT0);
  ASSERT_TRUE(noop.ok());
  EXPECT_FALSE(noop->event.has_value());
  EXPECT_EQ(store_->ListJobEvents(job.id(), 0)->size(), 1u);
  EXPECT_EQ(store_->GetJob(job.id())->state(), v1::JOB_STATE_QUEUED);
}

TEST_F(SqliteStoreTest, UnknownAndMalformedIds) {
  EXPECT_EQ(store_->GetJob("job-42").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetJob("42").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SetState("job-42", v1::JOB_STATE_ASSIGNED).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->ListJobEvents("job-42", 0).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, PaginatesNewestFirstWithoutGapsOrRepeats) {
  for (int i = 0; i < 25; ++i) Insert(SyntheticSpec());
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto page = store_->ListJobs(JobFilter(), 10, token);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const v1::Job& j : page->jobs) seen.push_back(j.id());
    token = page->next_page_token;
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_EQ(seen.front(), "job-25");
  EXPECT_EQ(seen.back(), "job-1");
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 25u);
}

TEST_F(SqliteStoreTest, AnExactlyFullLastPageHasNoNextToken) {
  for (int i = 0; i < 10; ++i) Insert(SyntheticSpec());
  auto page = store_->ListJobs(JobFilter(), 10, "");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->jobs.size(), 10u);
  EXPECT_TRUE(page->next_page_token.empty());
}

TEST_F(SqliteStoreTest, RejectsAForgedPageToken) {
  auto page = store_->ListJobs(JobFilter(), 10, "not-a-token");
  EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(page.status().message()), HasSubstr("page_token"));
}

TEST_F(SqliteStoreTest, FiltersByStateKindCampaignAndLabels) {
  v1::JobSpec labeled = CyclingSpec("camp-A");
  (*labeled.mutable_labels())["chemistry"] = "na";
  (*labeled.mutable_labels())["batch"] = "7";
  const v1::Job a = Insert(labeled);
  const v1::Job b = Insert(CyclingSpec("camp-B"));
  const v1::Job c = Insert(SyntheticSpec());
  ASSERT_TRUE(SetState(c.id(), v1::JOB_STATE_CANCELLED).ok());

  auto ids = [&](const JobFilter& f) {
    std::vector<std::string> out;
    absl::StatusOr<JobPage> page = store_->ListJobs(f, 100, "");
    EXPECT_TRUE(page.ok()) << page.status();
    if (page.ok()) {
      for (const v1::Job& j : page->jobs) out.push_back(j.id());
    }
    return out;
  };
  JobFilter by_state;
  by_state.states = {v1::JOB_STATE_CANCELLED};
  EXPECT_THAT(ids(by_state), ::testing::ElementsAre(c.id()));
  by_state.states = {v1::JOB_STATE_QUEUED, v1::JOB_STATE_CANCELLED};
  EXPECT_EQ(ids(by_state).size(), 3u);
  JobFilter by_kind;
  by_kind.kind = v1::JOB_KIND_CYCLING;
  EXPECT_THAT(ids(by_kind), ::testing::ElementsAre(b.id(), a.id()));
  JobFilter by_campaign;
  by_campaign.campaign_id = "camp-B";
  EXPECT_THAT(ids(by_campaign), ::testing::ElementsAre(b.id()));
  JobFilter by_labels;
  by_labels.labels = {{"chemistry", "na"}, {"batch", "7"}};
  EXPECT_THAT(ids(by_labels), ::testing::ElementsAre(a.id()));
  by_labels.labels = {{"chemistry", "na"}, {"batch", "8"}};
  EXPECT_TRUE(ids(by_labels).empty());
}

TEST_F(SqliteStoreTest, MeasurementsAreIdempotentOnJobAttemptSeq) {
  const v1::Job job = Insert(CyclingSpec());
  std::vector<v1::Measurement> batch;
  for (uint64_t seq = 1; seq <= 5; ++seq) batch.push_back(CycleMeasurement(job.id(), 1, seq));
  EXPECT_EQ(*store_->AppendMeasurements(batch), 5);
  // A resend with one new row stores only the new row.
  batch.push_back(CycleMeasurement(job.id(), 1, 6));
  EXPECT_EQ(*store_->AppendMeasurements(batch), 1);
  EXPECT_EQ(*store_->AppendMeasurements({CycleMeasurement(job.id(), 2, 1)}), 1);
  EXPECT_EQ(store_->GetJob(job.id())->measurement_count(), 7u);
  EXPECT_EQ(store_->Stats()->measurement_total, 7u);

  auto all = store_->ReadMeasurements(job.id(), 0, {}, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 7u);
  EXPECT_EQ((*all)[5].seq(), 6u);
  EXPECT_EQ((*all)[6].attempt(), 2u);
  EXPECT_DOUBLE_EQ((*all)[0].cycle().discharge_capacity_ah(),
                   batch[0].cycle().discharge_capacity_ah());
  auto page = store_->ReadMeasurements(job.id(), 0, MeasurementCursor{1, 4}, 2);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].seq(), 5u);
  auto second_attempt = store_->ReadMeasurements(job.id(), 2, {}, 100);
  ASSERT_EQ(second_attempt->size(), 1u);
}

TEST_F(SqliteStoreTest, ABatchWithAnUnknownJobIsRejectedWhole) {
  const v1::Job job = Insert(CyclingSpec());
  auto r = store_->AppendMeasurements(
      {CycleMeasurement(job.id(), 1, 1), CycleMeasurement("job-99", 1, 1)});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("job-99"));
  EXPECT_TRUE(store_->ReadMeasurements(job.id(), 0, {}, 10)->empty());
  EXPECT_EQ(store_->AppendMeasurements({CycleMeasurement("bogus", 1, 1)}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ReadMeasurements("job-99", 0, {}, 10).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, StatsCountJobsByState) {
  Insert(SyntheticSpec());
  const v1::Job b = Insert(SyntheticSpec());
  ASSERT_TRUE(SetState(b.id(), v1::JOB_STATE_CANCELLED).ok());
  auto stats = store_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->job_total, 2u);
  ASSERT_EQ(stats->jobs_by_state.size(), 2u);
  EXPECT_EQ(stats->jobs_by_state[0], std::make_pair(v1::JOB_STATE_QUEUED, uint64_t{1}));
  EXPECT_EQ(stats->jobs_by_state[1], std::make_pair(v1::JOB_STATE_CANCELLED, uint64_t{1}));
}

// Concurrent writers share group commits: every write lands exactly once, and a
// failing write in a batch does not take the others down with it.
TEST_F(SqliteStoreTest, ConcurrentWritersAreGroupCommittedIndependently) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = store_->InsertJob(SyntheticSpec(), absl::StrCat("t", t, "-", i % 20), kT0);
        ASSERT_TRUE(r.ok()) << r.status();
        ids[t].push_back(r->job.id());
        // Interleave a write that fails inside the same batches.
        auto bad = store_->UpdateJob(
            r->job.id(),
            [](const JobRecord&) -> absl::StatusOr<JobMutation> {
              return absl::FailedPreconditionError("refused");
            },
            kT0);
        ASSERT_EQ(bad.status().code(), absl::StatusCode::kFailedPrecondition);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  std::set<std::string> distinct;
  for (int t = 0; t < kThreads; ++t) {
    // Keys repeat after 20 per thread: the second half returns the first half's jobs.
    for (int i = 20; i < kPerThread; ++i) EXPECT_EQ(ids[t][i], ids[t][i - 20]);
    distinct.insert(ids[t].begin(), ids[t].end());
  }
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kThreads * 20));
  EXPECT_EQ(store_->Stats()->job_total, static_cast<uint64_t>(kThreads * 20));
  for (const std::string& id : distinct) {
    EXPECT_EQ(store_->ListJobEvents(id, 0)->size(), 1u) << id;
  }
}

TEST_F(SqliteStoreTest, ModelRegistryNumbersVersionsPerName) {
  v1::Model model;
  model.set_name("life");
  model.set_kind(v1::MODEL_KIND_LIFETIME);
  model.add_feature_names("soh_fraction");
  auto first = store_->InsertModel(model, "weights-1", kT0);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->version(), 1u);
  EXPECT_EQ(first->weights_bytes(), 9u);
  auto second = store_->InsertModel(model, "weights-two", kT0 + absl::Seconds(1));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->version(), 2u);
  model.set_name("fade");
  model.set_kind(v1::MODEL_KIND_EARLY_FADE);
  ASSERT_TRUE(store_->InsertModel(model, "f", kT0 + absl::Seconds(2)).ok());

  auto latest = store_->GetModel("life", 0);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->version(), 2u);
  EXPECT_EQ(*store_->GetModelWeights("life", 1), "weights-1");
  EXPECT_EQ(*store_->GetModelWeights("life", 0), "weights-two");
  EXPECT_EQ(store_->GetModel("life", 3).status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(store_->GetModel("life", 3).status().message()), HasSubstr("life@3"));
  EXPECT_EQ(store_->GetModelWeights("none", 0).status().code(), absl::StatusCode::kNotFound);

  auto all = store_->ListModels("", v1::MODEL_KIND_UNSPECIFIED);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].name(), "fade");  // newest first
  auto lives = store_->ListModels("life", v1::MODEL_KIND_UNSPECIFIED);
  ASSERT_EQ(lives->size(), 2u);
  EXPECT_EQ((*lives)[0].version(), 2u);
  EXPECT_EQ(store_->ListModels("", v1::MODEL_KIND_EARLY_FADE)->size(), 1u);

  // Models survive a reopen.
  store_.reset();
  auto reopened = SqliteStore::Open(path_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->GetModel("life", 2)->feature_names(0), "soh_fraction");
}

}  // namespace
}  // namespace ionloop::orchestrator
