// The worker's durable spool: numbering, acks, compaction, reload after a restart, torn
// tails, damage, resend order, group commit. Real files in a temp dir; no network.
#include "workers/runtime/spool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/testing/temp_dir.h"

namespace ionloop::worker {
namespace {

using ::ionloop::testing::TempDir;
using ::testing::HasSubstr;

v1::Assign MakeAssign(const std::string& job_id, uint32_t attempt, const std::string& checkpoint = "") {
  v1::Assign a;
  a.set_job_id(job_id);
  a.set_attempt(attempt);
  a.mutable_spec()->mutable_synthetic()->set_measurements(100);
  a.set_checkpoint(checkpoint);
  return a;
}

// An update carrying measurements first..last (inclusive; none when last < first).
v1::WorkerMessage Update(const std::string& job_id, uint32_t attempt, uint64_t first,
                         uint64_t last, const std::string& checkpoint = "") {
  v1::WorkerMessage m;
  v1::JobUpdate* u = m.mutable_update();
  u->set_job_id(job_id);
  u->set_attempt(attempt);
  for (uint64_t s = first; s <= last && last > 0; ++s) {
    v1::Measurement* x = u->add_measurements();
    x->set_seq(s);
    x->mutable_synthetic()->set_value(static_cast<double>(s));
  }
  u->set_progress(0.5);
  u->set_checkpoint(checkpoint);
  return m;
}

v1::WorkerMessage Result(const std::string& job_id, uint32_t attempt) {
  v1::WorkerMessage m;
  m.mutable_result()->set_job_id(job_id);
  m.mutable_result()->set_attempt(attempt);
  m.mutable_result()->set_outcome(v1::JOB_OUTCOME_SUCCEEDED);
  return m;
}

// "job/attempt#seq" of every record NextToSend yields, in order.
std::vector<std::string> SendOrder(const Spool& spool) {
  std::vector<std::string> out;
  uint64_t after = 0;
  while (auto r = spool.NextToSend(after)) {
    const v1::WorkerMessage& m = *r->message;
    out.push_back(m.has_update()
                      ? absl::StrCat(m.update().job_id(), "/", m.update().attempt(), "#", m.update().seq())
                      : absl::StrCat(m.result().job_id(), "/", m.result().attempt(), "#", m.result().seq(), "R"));
    after = r->lsn;
  }
  return out;
}

class SpoolTest : public ::testing::Test {
 protected:
  std::unique_ptr<Spool> MustOpen(SpoolOptions options = {}) {
    auto spool = Spool::Open(dir_.path() + "/spool", "worker-1", options);
    EXPECT_TRUE(spool.ok()) << spool.status();
    return spool.ok() ? std::move(*spool) : nullptr;
  }
  std::string LogPath() const { return dir_.path() + "/spool/spool.log"; }
  uint64_t LogSize() const { return std::filesystem::file_size(LogPath()); }

  uint64_t MustAppend(Spool& spool, v1::WorkerMessage m) {
    auto r = spool.Append(std::move(m));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->lsn : 0;
  }

  TempDir dir_;
};

TEST_F(SpoolTest, NumbersRecordsPerAttemptAndReleasesOnAck) {
  auto spool = MustOpen();
  ASSERT_TRUE(spool->StartJob(MakeAssign("job-1", 1)).ok());
  ASSERT_TRUE(spool->StartJob(MakeAssign("job-2", 1)).ok());
  MustAppend(*spool, Update("job-1", 1, 1, 3));
  MustAppend(*spool, Update("job-2", 1, 1, 1));
  MustAppend(*spool, Update("job-1", 1, 4, 6));
  const uint64_t last = MustAppend(*spool, Update("job-1", 1, 7, 9));
  ASSERT_TRUE(spool->WaitDurable(last).ok());

  EXPECT_THAT(SendOrder(*spool), ::testing::ElementsAre("job-1/1#1", "job-2/1#1", "job-1/1#2", "job-1/1#3"));
  EXPECT_EQ(spool->UnackedUpdates({"job-1", 1}), 3u);

  const uint64_t three_bytes = spool->UnackedBacklog({"job-1", 1}).bytes;
  EXPECT_GT(three_bytes, 0u);
  EXPECT_TRUE(spool->Ack({"job-1", 1}, 2));
  EXPECT_EQ(spool->UnackedUpdates({"job-1", 1}), 1u);
  EXPECT_GT(spool->UnackedBacklog({"job-1", 1}).bytes, 0u);
  EXPECT_LT(spool->UnackedBacklog({"job-1", 1}).bytes, three_bytes);
  EXPECT_THAT(SendOrder(*spool), ::testing::ElementsAre("job-2/1#1", "job-1/1#3"));
  const auto state = spool->Job({"job-1", 1});
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->acked_seq, 2u);
  EXPECT_EQ(state->last_seq, 3u);
  EXPECT_EQ(state->last_measurement_seq, 9u);
  EXPECT_FALSE(state->finished);

  EXPECT_FALSE(spool->Ack({"job-9", 1}, 1));  // not held: ignored
  EXPECT_TRUE(spool->Ack({"job-1", 1}, 1));   // behind the watermark: no-op
  EXPECT_EQ(spool->Job({"job-1", 1})->acked_seq, 2u);
}

TEST_F(SpoolTest, TheResultContinuesTheNumberingAndItsAckForgetsTheAttempt) {
  auto spool = MustOpen();
  ASSERT_TRUE(spool->StartJob(MakeAssign("job-1", 1)).ok());
  MustAppend(*spool, Update("job-1", 1, 1, 2));
  auto result = spool->Append(Result("job-1", 1));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->message->result().seq(), 2u);
  EXPECT_TRUE(spool->Job({"job-1", 1})->finished);

  auto late = spool->Append(Update("job-1", 1, 3, 3));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition) << late.status();

  EXPECT_TRUE(spool->Ack({"job-1", 1}, 2));
  EXPECT_FALSE(spool->Job({"job-1", 1}).has_value());
  EXPECT_EQ(spool->UnackedBacklog({"job-1", 1}).bytes, 0u);
  EXPECT_EQ(spool->unacked_records(), 0u);
}

TEST_F(SpoolTest, RefusesWhatItCannotSpool) {
  auto spool = MustOpen();
  EXPECT_EQ(spool->Append(Update("job-1", 1, 1, 1)).status().code(),
            absl::StatusCode::kFailedPrecondition);  // never started
  ASSERT_TRUE(spool->StartJob(MakeAssign("job-1", 1)).ok());
  EXPECT_EQ(spool->StartJob(MakeAssign("job-1", 1)).code(), absl::StatusCode::kAlreadyExists);
  v1::WorkerMessage heartbeat;
  heartbeat.mutable_heartbeat();
  EXPECT_EQ(spool->Append(heartbeat).status().code(), absl::StatusCode::kInvalidArgument);
  auto big = spool->Append(Update("job-1", 1, 1, 1, std::string(kMaxCheckpointBytes + 1, 'c')));
  EXPECT_EQ(big.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(big.status().message()), HasSubstr("checkpoint"));
}

TEST_F(SpoolTest, ReloadsEverythingUnfinishedAfterAReopen) {
  {
    auto spool = MustOpen();
    ASSERT_TRUE(spool->StartJob(MakeAssign("job-1", 1, "from-attempt-0")).ok());
    ASSERT_TRUE(spool->StartJob(MakeAssign("job-2", 3)).ok());
    ASSERT_TRUE(spool->StartJob(MakeAssign("job-3", 1)).ok());
    MustAppend(*spool, Update("job-1", 1, 1, 4));
    MustAppend(*spool, Update("job-2", 3, 1, 1));
    MustAppend(*spool, Update("job-1", 1, 5, 8, "cp-8"));
    MustAppend(*spool, Update("job-3", 1, 1, 1));
    MustAppend(*spool, Result("job-3", 1));
    MustAppend(*spool, Update("job-1", 1, 9, 10));
    MustAppend(*spool, Result("job-2", 3));
    spool->Ack({"job-1", 1}, 1);
    spool->Ack({"job-3", 1}, 2);  // job-3 is done
    ASSERT_TRUE(spool->Sync().ok());
  }  // like a kill: nothing else happens at close that the reload depends on

  auto spool = MustOpen();
  auto jobs = spool->Jobs();
  ASSERT_EQ(jobs.size(), 2u);
  const auto one = spool->Job({"job-1", 1});
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->assign.spec().synthetic().measurements(), 100u);
  EXPECT_EQ(one->acked_seq, 1u);
  EXPECT_EQ(one->last_seq, 3u);
  EXPECT_EQ(one->last_measurement_seq, 10u);
  EXPECT_EQ(one->last_checkpoint, "cp-8");
  EXPECT_FALSE(one->finished);
  const auto two = spool->Job({"job-2", 3});
  ASSERT_TRUE(two.has_value());
  EXPECT_TRUE(two->finished);
  EXPECT_EQ(two->last_seq, 2u);
  EXPECT_FALSE(spool->Job({"job-3", 1}).has_value());

  EXPECT_GT(one->unacked_bytes, 0u);
  EXPECT_EQ(one->unacked_updates, 2u);
  // Resend order is the original log order.
  EXPECT_THAT(SendOrder(*spool),
              ::testing::ElementsAre("job-2/3#1", "job-1/1#2", "job-1/1#3", "job-2/3#2R"));
  // Numbering continues.
  auto next = spool->Append(Update("job-1", 1, 11, 11));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->message->update().seq(), 4u);
}

TEST_F(SpoolTest, AnAttemptWithoutUpdatesKeepsItsAssignCheckpoint) {
  {
    auto spool = MustOpen();
    ASSERT_TRUE(spool->StartJob(MakeAssign("job-1", 2, "earlier")).ok());
    ASSERT_TRUE(spool->Sync().ok());
  }
  auto spool = MustOpen();
  const auto state = spool->Job({"job-1", 2});
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->last_seq, 0u);
  EXPECT_EQ(state->last_checkpoint, "earlier");
}

TEST_F(SpoolTest, DropForgetsAnAttemptForGood) {
  {
    auto spool = MustOpen();
    ASSERT_TRUE(spool->StartJob(MakeAssign("job-1", 1)).ok());
    ASSERT_TRUE(spool->StartJob(MakeAssign("job-2", 1)).ok());
    MustAppend(*spool, Update("job-1", 1, 1, 1));
    const uint64_t lsn = MustAppend(*spool, Update("job-2", 1, 1, 1));
    ASSERT_TRUE(spool->WaitDurable(lsn).ok());
    EXPECT_TRUE(spool->Drop({"job-1", 1}));
    EXPECT_FALSE(spool->Drop({"job-1", 1}));
    EXPECT_THAT(SendOrder(*spool), ::testing::ElementsAre("job-2/1#1"));
    EXPECT_EQ(spool->Append(Update("job-1", 1, 2, 2)).status().code(),
              absl::StatusCode::kFailedPrecondition);
    ASSERT_TRUE(spool->Sync().ok());
  }
  auto spool = MustOpen();
  EXPECT_FALSE(spool->Job({"job-1", 1}).has_value());
  EXPECT_TRUE(spool->Job({"job-2", 1}).has_value());
}

TEST_F(SpoolTest, ATornLastRecordIsDroppedAndTheSpoolGoesOn) {
  {
    auto spool = MustOpen();
    ASSERT_TRUE(spool->StartJob(MakeAssign("job-1", 1)).ok());
    MustAppend(*spool, Update("job-1", 1, 1, 5));
    MustAppend(*spool, Update("job-1", 1, 6, 10));
    ASSERT_TRUE(spool->Sync().ok());
  }
  // A crash in the middle of writing the last record: cut its tail off.
  std::filesystem::resize_file(LogPath(), LogSize() - 7);
  {
    auto spool = MustOpen();
    EXPECT_GT(spool->stats().torn_bytes_dropped, 0u);
    const auto state = spool->Job({"job-1", 1});
    ASSERT_TRUE(state.has_value());
    EXPECT_EQ(state->last_seq, 1u);
    EXPECT_EQ(state->last_measurement_seq, 5u);
    auto again = spool->Append(Update("job-1", 1, 6, 10));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->message->update().seq(), 2u);
    ASSERT_TRUE(spool->Sync().ok());
  }
  auto spool = MustOpen();
  EXPECT_EQ(spool->stats().torn_bytes_dropped, 0u);  // the reopen cut the tail off
  EXPECT_EQ(spool->Job({"job-1", 1})->last_seq, 2u);
}

TEST_F(SpoolTest, TornTailsOfEveryShapeAreDropped) {
  struct Case {
    const char* name;
    std::string tail;
  };
  const std::vector<Case> cases = {
      {"a few header bytes", std::string("\x10\x00\x00", 3)},
      {"a header promising more than is there", std::string("\xff\x00\x00\x00\x01\x02\x03\x04\x02zz", 11)},
      {"a zero-filled block", std::string(4096, '\0')},
      {"a whole frame with a bad CRC", std::string("\x03\x00\x00\x00\xde\xad\xbe\xef\x02\x08\x01", 11)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    const std::string spool_dir = dir.path() + "/s";
    {
      auto spool = Spool::Open(spool_dir, "w", {});
      ASSERT_TRUE(spool.ok());
      ASSERT_TRUE((*spool)->StartJob(MakeAssign("job-1", 1)).ok());
      ASSERT_TRUE((*spool)->Append(Update("job-1", 1, 1, 3)).ok());
      ASSERT_TRUE((*spool)->Sync().ok());
    }
    {
      std::ofstream out(spool_dir + "/spool.log", std::ios::binary | std::ios::app);
      out << c.tail;
    }
    auto spool = Spool::Open(spool_dir, "w", {});
    ASSERT_TRUE(spool.ok()) << spool.status();
    EXPECT_EQ((*spool)->stats().torn_bytes_dropped, c.tail.size());
    EXPECT_EQ((*spool)->Job({"job-1", 1})->last_seq, 1u);
  }
}

TEST_F(SpoolTest, DamageInTheMiddleIsAClearErrorNotACrash) {
  {
    auto spool = MustOpen();
    ASSERT_TRUE(spool->StartJob(MakeAssign("job-1", 1)).ok());
    MustAppend(*spool, Update("job-1", 1, 1, 5));
    MustAppend(*spool, Update("job-1", 1, 6, 10));
    ASSERT_TRUE(spool->Sync().ok());
  }
  {
    // Flip one byte inside the first record's body (header 8 + frame header 8 + 2).
    std::fstream f(LogPath(), std::ios::binary | std::ios::in | std::ios::out);
    f.seekg(18);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x40);
    f.seekp(18);
    f.write(&c, 1);
  }
  auto spool = Spool::Open(dir_.path() + "/spool", "worker-1", {});
  ASSERT_FALSE(spool.ok());
  EXPECT_EQ(spool.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(spool.status().message()), HasSubstr("CRC"));
  EXPECT_THAT(std::string(spool.status().message()), HasSubstr(LogPath()));
  EXPECT_THAT(std::string(spool.status().message()), HasSubstr("byte 8"));
}

TEST_F(SpoolTest, AFileThatIsNotASpoolIsRefused) {
  std::filesystem::create_directories(dir_.path() + "/spool");
  {
    std::ofstream out(LogPath());
    out << "hello, I am a text file\n";
  }
  auto spool = Spool::Open(dir_.path() + "/spool", "worker-1", {});
  ASSERT_FALSE(spool.ok());
  EXPECT_EQ(spool.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(spool.status().message()), HasSubstr("not an ionloop worker spool"));
}

TEST_F(SpoolTest, CompactsWhenEverythingIsAcked) {
  SpoolOptions options;
  options.compact_min_bytes = 16 << 10;
  auto spool = MustOpen(options);
  ASSERT_TRUE(spool->StartJob(MakeAssign("job-1", 1, "cp-0")).ok());
  uint64_t seq = 0;
  for (int i = 0; i < 50; ++i) {
    v1::WorkerMessage m = Update("job-1", 1, static_cast<uint64_t>(i) * 10 + 1,
                                 static_cast<uint64_t>(i) * 10 + 10, i == 30 ? "cp-310" : "");
    m.mutable_update()->mutable_measurements(0)->mutable_synthetic()->set_payload(std::string(1000, 'p'));
    MustAppend(*spool, std::move(m));
    ++seq;
  }
  ASSERT_TRUE(spool->Sync().ok());
  const uint64_t before = LogSize();
  EXPECT_GT(before, 50u * 1000);
  EXPECT_TRUE(spool->Ack({"job-1", 1}, seq));
  ASSERT_TRUE(spool->Sync().ok());  // runs after the compaction it requested
  EXPECT_EQ(spool->stats().compactions, 1u);
  EXPECT_LT(LogSize(), 1000u);
  EXPECT_EQ(LogSize(), spool->stats().file_bytes);

  // The live attempt survives compaction and a reopen, numbering included.
  spool.reset();
  spool = MustOpen(options);
  const auto state = spool->Job({"job-1", 1});
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->acked_seq, 50u);
  EXPECT_EQ(state->last_seq, 50u);
  EXPECT_EQ(state->last_measurement_seq, 500u);
  EXPECT_EQ(state->last_checkpoint, "cp-310");
  EXPECT_EQ(state->assign.checkpoint(), "cp-0");
  EXPECT_EQ(spool->Append(Update("job-1", 1, 501, 501))->message->update().seq(), 51u);
}

TEST_F(SpoolTest, CompactsABigFileThatIsMostlyAckedAndKeepsTheRest) {
  SpoolOptions options;
  options.compact_min_bytes = 64 << 10;
  auto spool = MustOpen(options);
  ASSERT_TRUE(spool->StartJob(MakeAssign("job-1", 1)).ok());
  ASSERT_TRUE(spool->StartJob(MakeAssign("job-2", 1)).ok());
  MustAppend(*spool, Update("job-2", 1, 1, 1));  // stays unacked throughout
  for (int i = 1; i <= 100; ++i) {
    v1::WorkerMessage m = Update("job-1", 1, static_cast<uint64_t>(i), static_cast<uint64_t>(i));
    m.mutable_update()->mutable_measurements(0)->mutable_synthetic()->set_payload(std::string(1000, 'p'));
    MustAppend(*spool, std::move(m));
  }
  ASSERT_TRUE(spool->Sync().ok());
  spool->Ack({"job-1", 1}, 100);
  ASSERT_TRUE(spool->Sync().ok());
  EXPECT_EQ(spool->stats().compactions, 1u);
  EXPECT_LT(LogSize(), 4096u);
  EXPECT_THAT(SendOrder(*spool), ::testing::ElementsAre("job-2/1#1"));
  spool.reset();
  spool = MustOpen(options);
  EXPECT_THAT(SendOrder(*spool), ::testing::ElementsAre("job-2/1#1"));
  EXPECT_EQ(spool->Job({"job-1", 1})->last_seq, 100u);
}

TEST_F(SpoolTest, AReopenReplaysWithoutRewritingAndCompactsInTheBackground) {
  SpoolOptions never;
  never.compact_min_bytes = 1u << 30;
  {
    auto spool = MustOpen(never);
    ASSERT_TRUE(spool->StartJob(MakeAssign("job-1", 1)).ok());
    for (int i = 1; i <= 100; ++i) {
      v1::WorkerMessage m = Update("job-1", 1, static_cast<uint64_t>(i), static_cast<uint64_t>(i));
      m.mutable_update()->mutable_measurements(0)->mutable_synthetic()->set_payload(std::string(1000, 'p'));
      MustAppend(*spool, std::move(m));
    }
    spool->Ack({"job-1", 1}, 99);
    ASSERT_TRUE(spool->Sync().ok());
    EXPECT_EQ(spool->stats().compactions, 0u);
  }
  const uint64_t bloated = LogSize();
  EXPECT_GT(bloated, 100u * 1000);
  {
    auto spool = MustOpen(never);  // a start keeps the file as it is
    EXPECT_EQ(LogSize(), bloated);
    EXPECT_EQ(spool->stats().file_bytes, bloated);
  }
  SpoolOptions eager;
  eager.compact_min_bytes = 16 << 10;
  auto spool = MustOpen(eager);
  ASSERT_TRUE(spool->Sync().ok());  // after the compaction the open requested
  EXPECT_EQ(spool->stats().compactions, 1u);
  EXPECT_LT(LogSize(), 4096u);
  EXPECT_THAT(SendOrder(*spool), ::testing::ElementsAre("job-1/1#100"));
}

TEST_F(SpoolTest, OneDirectoryOneWorker) {
  auto first = MustOpen();
  auto second = Spool::Open(dir_.path() + "/spool", "worker-1", {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("in use"));
  first.reset();
  EXPECT_TRUE(Spool::Open(dir_.path() + "/spool", "worker-1", {}).ok());
  auto other = Spool::Open(dir_.path() + "/spool", "worker-2", {});
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(other.status().message()), HasSubstr("belongs to worker 'worker-1'"));
}

TEST_F(SpoolTest, ConcurrentAppendsShareFsyncs) {
  auto spool = MustOpen();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_TRUE(spool->StartJob(MakeAssign(absl::StrCat("job-", t + 1), 1)).ok());
  }
  std::atomic<int> listened{0};
  spool->SetDurableListener([&listened] { listened.fetch_add(1); });
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 1; i <= kPerThread; ++i) {
        auto r = spool->Append(Update(absl::StrCat("job-", t + 1), 1, static_cast<uint64_t>(i),
                                      static_cast<uint64_t>(i)));
        if (!r.ok() || r->message->update().seq() != static_cast<uint64_t>(i) ||
            !spool->WaitDurable(r->lsn).ok()) {
          failures.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  const Spool::Stats stats = spool->stats();
  EXPECT_EQ(stats.appends, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_GE(stats.syncs, 1u);
  EXPECT_LE(stats.syncs, stats.appends);  // never more than one per append
  EXPECT_GE(listened.load(), 1);
  EXPECT_EQ(SendOrder(*spool).size(), static_cast<size_t>(kThreads * kPerThread));
  spool->SetDurableListener(nullptr);

  spool.reset();
  spool = MustOpen();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(spool->Job({absl::StrCat("job-", t + 1), 1})->last_seq,
              static_cast<uint64_t>(kPerThread));
  }
}

TEST_F(SpoolTest, RecordsAreSendableOnlyOnceDurable) {
  auto spool = MustOpen();
  ASSERT_TRUE(spool->StartJob(MakeAssign("job-1", 1)).ok());
  const uint64_t lsn = MustAppend(*spool, Update("job-1", 1, 1, 1));
  // Either not yet synced (nothing to send) or synced (the record): never anything else.
  auto early = spool->NextToSend(0);
  if (early.has_value()) {
    EXPECT_EQ(early->lsn, lsn);
  }
  ASSERT_TRUE(spool->WaitDurable(lsn).ok());
  auto later = spool->NextToSend(0);
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(later->lsn, lsn);
}

}  // namespace
}  // namespace ionloop::worker
