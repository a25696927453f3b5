// The worker protocol under load, each figure beside a baseline from the same run:
//
//   ingest    durable measurements/s with 1, 8 and 64 workers streaming cycle records
//             into ionloopd (acked only once committed), beside (a) a raw SQLite batched
//             insert of the same rows with the same pragmas and batch size, and (b) a raw
//             gRPC stream of the same messages to a server that acks without storing.
//   dispatch  jobs/s from SubmitJob to Assign with 100 connected workers, and the
//             submit→assign latency p50/p99, beside SubmitJob alone (no dispatch).
//
//   build/bench/worker_bench [--workers=1,8,64] [--rows=64000] [--batch=200]
//                            [--dispatch-workers=100] [--dispatch-jobs=2000]
//
// The workers here are lean protocol clients (no spool), so the figures are the
// orchestrator's; the worker runtime's own spool fsync comes on top on the worker side.
#include <sqlite3.h>
#include <stdlib.h>

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bench/bench_util.h"
#include "common/clock.h"
#include "common/flag_table.h"
#include "ionloop/v1/jobs.grpc.pb.h"
#include "ionloop/v1/workers.grpc.pb.h"
#include "orchestrator/service/server.h"
#include "spdlog/spdlog.h"

namespace {

namespace v1 = ionloop::v1;
using Stream = grpc::ClientReaderWriter<v1::WorkerMessage, v1::OrchestratorMessage>;


v1::Measurement CycleRow(uint64_t seq) {
  v1::Measurement m;
  m.set_seq(seq);
  m.mutable_recorded_at()->set_seconds(1'700'000'000 + static_cast<int64_t>(seq));
  v1::CycleRecord* c = m.mutable_cycle();
  c->set_cycle_index(static_cast<uint32_t>(seq));
  c->set_charge_capacity_ah(1.1);
  c->set_discharge_capacity_ah(1.1 - 1e-5 * static_cast<double>(seq));
  c->set_charge_energy_wh(3.6);
  c->set_discharge_energy_wh(3.5);
  c->set_coulombic_efficiency(0.999);
  c->set_mean_charge_voltage_v(3.4);
  c->set_mean_discharge_voltage_v(3.2);
  c->set_internal_resistance_ohm(0.018);
  c->set_temperature_c(30.1);
  c->set_elapsed_s(3600.0 * static_cast<double>(seq));
  return m;
}

v1::WorkerMessage HelloOf(const std::string& id, v1::JobKind kind) {
  v1::WorkerMessage m;
  m.mutable_hello()->set_worker_id(id);
  m.mutable_hello()->mutable_capabilities()->set_kind(kind);
  m.mutable_hello()->mutable_capabilities()->set_channels(1);
  return m;
}

std::unique_ptr<v1::Jobs::Stub> JobsStub(const std::string& address) {
  return v1::Jobs::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

std::string SubmitSynthetic(v1::Jobs::Stub* stub, uint64_t measurements) {
  v1::SubmitJobRequest request;
  request.mutable_spec()->mutable_synthetic()->set_measurements(measurements);
  v1::SubmitJobResponse response;
  grpc::ClientContext ctx;
  grpc::Status s = stub->SubmitJob(&ctx, request, &response);
  if (!s.ok()) {
    std::fprintf(stderr, "submit failed: %s\n", s.error_message().c_str());
    std::exit(1);
  }
  return response.job().id();
}

// A worker stream whose writes are serialized and which sends a Heartbeat every
// second from its own thread, as a real worker does (or its lease would expire).
class HeartbeatingStream {
 public:
  HeartbeatingStream(const std::string& address, const std::string& worker_id)
      : stub_(v1::Workers::NewStub(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))),
        stream_(stub_->Connect(&context_)) {
    Write(HelloOf(worker_id, v1::JOB_KIND_SYNTHETIC));
    heartbeats_ = std::thread([this] {
      v1::WorkerMessage beat;
      beat.mutable_heartbeat();
      absl::MutexLock lock(&mu_);
      while (!stopping_) {
        mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Seconds(1));
        if (!stopping_) stream_->Write(beat);
      }
    });
  }
  ~HeartbeatingStream() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    heartbeats_.join();
    context_.TryCancel();
    stream_->Finish();
  }
  void Write(const v1::WorkerMessage& m) {
    absl::MutexLock lock(&mu_);
    stream_->Write(m);
  }
  bool Read(v1::OrchestratorMessage* m) { return stream_->Read(m); }
  void Cancel() { context_.TryCancel(); }

 private:
  std::unique_ptr<v1::Workers::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<Stream> stream_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread heartbeats_;
};

// ---- ingest ----

// One streaming worker: serves whatever jobs it is assigned, each by streaming
// `rows` cycle records in updates of `batch` with up to `window` unacked, then the
// result, until `jobs_left` reaches zero. Returns the rows it delivered.
uint64_t ServeIngestJobs(const std::string& address, const std::string& worker_id, uint64_t rows,
                         int batch, int window, std::atomic<int>* jobs_left) {
  HeartbeatingStream stream(address, worker_id);
  absl::Mutex mu;
  std::deque<v1::Assign> assigns;
  uint64_t acked = 0;
  bool closed = false;
  std::thread reader([&] {
    v1::OrchestratorMessage m;
    while (stream.Read(&m)) {
      absl::MutexLock lock(&mu);
      if (m.has_assign()) {
        assigns.push_back(m.assign());
      } else if (m.has_ack()) {
        acked = std::max<uint64_t>(acked, m.ack().seq());
      } else if (m.has_error()) {
        std::fprintf(stderr, "%s: %s\n", worker_id.c_str(), m.error().message().c_str());
        std::exit(1);
      }
    }
    absl::MutexLock lock(&mu);
    closed = true;
  });
  uint64_t delivered = 0;
  const uint64_t updates = (rows + batch - 1) / batch;
  while (true) {
    v1::Assign assign;
    {
      absl::MutexLock lock(&mu);
      auto ready = [&] { return !assigns.empty() || closed || jobs_left->load() <= 0; };
      // jobs_left changes under no mutex of ours: look again every few ms.
      while (!mu.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(5))) {
      }
      if (assigns.empty()) break;
      assign = assigns.front();
      assigns.pop_front();
      acked = 0;
    }
    uint64_t next_row = 1;
    for (uint64_t seq = 1; seq <= updates + 1; ++seq) {
      {
        absl::MutexLock lock(&mu);
        auto room = [&] { return seq - acked <= static_cast<uint64_t>(window) || closed; };
        mu.Await(absl::Condition(&room));
      }
      v1::WorkerMessage m;
      if (seq <= updates) {
        v1::JobUpdate* u = m.mutable_update();
        u->set_job_id(assign.job_id());
        u->set_attempt(assign.attempt());
        u->set_seq(seq);
        for (int i = 0; i < batch && next_row <= rows; ++i) {
          *u->add_measurements() = CycleRow(next_row++);
        }
        u->set_progress(static_cast<double>(next_row - 1) / static_cast<double>(rows));
      } else {
        v1::JobResult* r = m.mutable_result();
        r->set_job_id(assign.job_id());
        r->set_attempt(assign.attempt());
        r->set_seq(seq);
        r->set_outcome(v1::JOB_OUTCOME_SUCCEEDED);
      }
      stream.Write(m);
    }
    {
      absl::MutexLock lock(&mu);
      auto all_acked = [&] { return acked == updates + 1 || closed; };
      mu.Await(absl::Condition(&all_acked));
    }
    delivered += rows;
    jobs_left->fetch_sub(1);
  }
  stream.Cancel();
  reader.join();
  return delivered;
}

// Runs `workers` streaming workers against `address` until `jobs` jobs of
// `rows_per_job` rows are done; returns rows/s. `submit` submits the jobs (the raw
// server hands out jobs on its own, one per stream).
double IngestRate(const std::string& address, int workers, int jobs, uint64_t rows_per_job,
                  int batch, bool submit) {
  std::vector<std::thread> threads;
  std::atomic<uint64_t> total{0};
  std::atomic<int> jobs_left{jobs};
  const absl::Time start = absl::Now();
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      total += ServeIngestJobs(address, absl::StrCat("ingest-", w), rows_per_job, batch, 8,
                               &jobs_left);
    });
  }
  if (submit) {
    auto stub = JobsStub(address);
    for (int j = 0; j < jobs; ++j) SubmitSynthetic(stub.get(), rows_per_job);
  }
  for (std::thread& t : threads) t.join();
  return static_cast<double>(total.load()) / absl::ToDoubleSeconds(absl::Now() - start);
}

// The baseline server: speaks the protocol, stores nothing, acks at once.
class RawAckService final : public v1::Workers::CallbackService {
  class Reactor final : public grpc::ServerBidiReactor<v1::WorkerMessage, v1::OrchestratorMessage> {
   public:
    Reactor() { StartRead(&in_); }
    void OnReadDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status::OK);
        return;
      }
      out_.Clear();
      if (in_.has_hello()) {
        // Welcome and the Assign in one go: the client reads both.
        pending_assign_ = true;
        out_.mutable_welcome()->set_lease_ms(5000);
      } else if (in_.has_update()) {
        out_.mutable_ack()->set_job_id(in_.update().job_id());
        out_.mutable_ack()->set_seq(in_.update().seq());
      } else if (in_.has_result()) {
        out_.mutable_ack()->set_job_id(in_.result().job_id());
        out_.mutable_ack()->set_seq(in_.result().seq());
      } else {
        StartRead(&in_);
        return;
      }
      StartWrite(&out_);
    }
    void OnWriteDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status::OK);
        return;
      }
      if (pending_assign_) {
        pending_assign_ = false;
        out_.Clear();
        out_.mutable_assign()->set_job_id(absl::StrCat("job-", ++next_job_));
        out_.mutable_assign()->set_attempt(1);
        StartWrite(&out_);
        return;
      }
      StartRead(&in_);
    }
    void OnDone() override { delete this; }

   private:
    v1::WorkerMessage in_;
    v1::OrchestratorMessage out_;
    bool pending_assign_ = false;
    int next_job_ = 0;
  };

 public:
  grpc::ServerBidiReactor<v1::WorkerMessage, v1::OrchestratorMessage>* Connect(
      grpc::CallbackServerContext*) override {
    return new Reactor();
  }
};

// The same rows into the same table shape, one transaction per batch, sequential.
double RawSqliteRate(const std::string& dir, uint64_t rows, int batch) {
  sqlite3* db = nullptr;
  sqlite3_open((dir + "/raw.db").c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
               "CREATE TABLE measurements (job_id INTEGER NOT NULL, attempt INTEGER NOT NULL, "
               "seq INTEGER NOT NULL, kind INTEGER NOT NULL, recorded_us INTEGER NOT NULL, "
               "payload BLOB NOT NULL, PRIMARY KEY (job_id, attempt, seq)) WITHOUT ROWID;",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO measurements VALUES (1, 1, ?, 10, ?, ?)", -1,
                     &insert, nullptr);
  const absl::Time start = absl::Now();
  std::string payload;
  for (uint64_t row = 1; row <= rows;) {
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    for (int i = 0; i < batch && row <= rows; ++i, ++row) {
      v1::Measurement m = CycleRow(row);
      m.set_job_id("job-1");
      m.set_attempt(1);
      m.SerializeToString(&payload);
      sqlite3_bind_int64(insert, 1, static_cast<int64_t>(row));
      sqlite3_bind_int64(insert, 2, m.recorded_at().seconds() * 1'000'000);
      sqlite3_bind_blob(insert, 3, payload.data(), static_cast<int>(payload.size()),
                        SQLITE_TRANSIENT);
      sqlite3_step(insert);
      sqlite3_reset(insert);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  sqlite3_finalize(insert);
  sqlite3_close(db);
  return static_cast<double>(rows) / seconds;
}

std::unique_ptr<ionloop::orchestrator::Orchestrator> StartOrchestrator(const std::string& dir) {
  ionloop::orchestrator::OrchestratorConfig config;
  config.listen_address = "127.0.0.1:0";
  config.data_dir = dir;
  config.scheduler.tick = absl::Milliseconds(20);
  auto server = ionloop::orchestrator::Orchestrator::Start(config, ionloop::SystemClock::Get());
  if (!server.ok()) {
    std::fprintf(stderr, "cannot start orchestrator: %s\n", server.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(server);
}

void RunIngest(const std::string& base, const std::vector<int>& worker_counts, uint64_t rows,
               int batch) {
  std::printf("\nDurable ingest: %llu cycle records per run in updates of %d, 8 in flight per "
              "worker\n", static_cast<unsigned long long>(rows), batch);
  std::printf("%-52s %14s %9s\n", "path", "rows/s", "vs SQLite");
  const std::string raw_dir = ionloop::bench::MakeScratchDir(base, "ingest-raw");
  const double sqlite_rate = RawSqliteRate(raw_dir, rows, batch);
  std::filesystem::remove_all(raw_dir);
  std::printf("%-52s %14.0f %9.2f\n", "raw SQLite batched insert, 1 txn/update (baseline)",
              sqlite_rate, 1.0);

  grpc::ServerBuilder builder;
  int port = 0;
  RawAckService raw_service;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&raw_service);
  std::unique_ptr<grpc::Server> raw_server = builder.BuildAndStart();
  const std::string raw_address = absl::StrCat("127.0.0.1:", port);

  for (int workers : worker_counts) {
    const uint64_t per_worker = std::max<uint64_t>(batch, rows / workers);
    const double grpc_rate = IngestRate(raw_address, workers, workers, per_worker, batch, false);
    const std::string dir = ionloop::bench::MakeScratchDir(base, absl::StrCat("ingest-", workers));
    double rate = 0;
    {
      auto orchestrator = StartOrchestrator(dir);
      rate = IngestRate(orchestrator->listen_address(), workers, workers, per_worker, batch, true);
    }
    std::filesystem::remove_all(dir);
    std::printf("%-52s %14.0f %9s\n",
                absl::StrCat("raw gRPC stream, acks without storage, ", workers, " worker(s)").c_str(),
                grpc_rate, "-");
    std::printf("%-52s %14.0f %9.2f\n",
                absl::StrCat("ionloopd durable ingest, ", workers, " worker(s)").c_str(), rate,
                rate / sqlite_rate);
  }
  raw_server->Shutdown();
}

// ---- dispatch ----

void RunDispatch(const std::string& base, int workers, int jobs) {
  const std::string dir = ionloop::bench::MakeScratchDir(base, "dispatch");
  auto orchestrator = StartOrchestrator(dir);
  const std::string address = orchestrator->listen_address();

  absl::Mutex mu;
  absl::flat_hash_map<std::string, absl::Time> submitted;  // job id → SubmitJob returned
  absl::flat_hash_map<std::string, absl::Time> assigned;   // job id → Assign received
  std::atomic<int> connected{0};
  std::vector<std::thread> threads;
  std::vector<std::unique_ptr<HeartbeatingStream>> streams(workers);
  for (int w = 0; w < workers; ++w) {
    streams[w] = std::make_unique<HeartbeatingStream>(address, absl::StrCat("dispatch-", w));
    threads.emplace_back([&, w] {
      HeartbeatingStream& stream = *streams[w];
      v1::OrchestratorMessage m;
      while (stream.Read(&m)) {
        if (m.has_welcome()) {
          ++connected;
        } else if (m.has_assign()) {
          {
            absl::MutexLock lock(&mu);
            assigned[m.assign().job_id()] = absl::Now();
          }
          v1::WorkerMessage result;  // done at once: the channel is free again
          result.mutable_result()->set_job_id(m.assign().job_id());
          result.mutable_result()->set_attempt(m.assign().attempt());
          result.mutable_result()->set_seq(1);
          result.mutable_result()->set_outcome(v1::JOB_OUTCOME_SUCCEEDED);
          stream.Write(result);
        }
      }
    });
  }
  while (connected.load() < workers) absl::SleepFor(absl::Milliseconds(5));

  // Eight submitting clients throughout, so that submission (one fsync each) is not
  // what limits dispatch; `on_submitted` sees each job id as SubmitJob returns it.
  auto submit_all = [&](const v1::SubmitJobRequest& request, int clients,
                        const std::function<void(const std::string&)>& on_submitted) {
    std::atomic<int> next{0};
    std::vector<std::thread> submitters;
    for (int c = 0; c < clients; ++c) {
      submitters.emplace_back([&] {
        auto stub = JobsStub(address);
        while (next.fetch_add(1) < jobs) {
          v1::SubmitJobResponse response;
          grpc::ClientContext ctx;
          if (!stub->SubmitJob(&ctx, request, &response).ok()) std::exit(1);
          on_submitted(response.job().id());
        }
      });
    }
    for (std::thread& t : submitters) t.join();
  };

  // SubmitJob alone first (no worker can take these: kind cycling, none registered).
  v1::SubmitJobRequest cycling_request;
  {
    v1::CyclingJob* cycling = cycling_request.mutable_spec()->mutable_cycling();
    v1::CellSpec* cell = cycling->mutable_cell();
    cell->set_ion(v1::ION_LI);
    cell->set_positive_electrode("LFP");
    cell->set_negative_electrode("graphite");
    cell->set_design(v1::CELL_DESIGN_CYLINDRICAL);
    cell->set_nominal_capacity_ah(1.1);
    cell->mutable_protocol()->set_charge_c_rate(1);
    cell->mutable_protocol()->set_discharge_c_rate(1);
    cell->mutable_protocol()->set_voltage_min_v(2.0);
    cell->mutable_protocol()->set_voltage_max_v(3.6);
    cell->mutable_protocol()->set_temperature_c(30);
    cycling->set_max_cycles(100);
  }
  const absl::Time submit_only_start = absl::Now();
  submit_all(cycling_request, 8, [](const std::string&) {});
  const double submit_only = jobs / absl::ToDoubleSeconds(absl::Now() - submit_only_start);

  struct Figures {
    double jobs_per_s = 0, p50_ms = 0, p99_ms = 0;
  };
  auto measure = [&](int clients) {
    {
      absl::MutexLock lock(&mu);
      submitted.clear();
      assigned.clear();
    }
    const absl::Time start = absl::Now();
    v1::SubmitJobRequest synthetic_request;
    synthetic_request.mutable_spec()->mutable_synthetic()->set_measurements(1);
    submit_all(synthetic_request, clients, [&](const std::string& id) {
      absl::MutexLock lock(&mu);
      submitted[id] = absl::Now();
    });
    absl::MutexLock lock(&mu);
    auto all_assigned = [&] { return static_cast<int>(assigned.size()) >= jobs; };
    mu.AwaitWithTimeout(absl::Condition(&all_assigned), absl::Minutes(5));
    absl::Time last = start;
    std::vector<double> latencies_ms;
    for (const auto& [id, t] : assigned) {
      last = std::max(last, t);
      auto it = submitted.find(id);
      if (it != submitted.end()) latencies_ms.push_back(absl::ToDoubleMilliseconds(t - it->second));
    }
    std::sort(latencies_ms.begin(), latencies_ms.end());
    auto pct = [&](double p) {
      return latencies_ms.empty()
                 ? 0.0
                 : latencies_ms[std::min(latencies_ms.size() - 1,
                                         static_cast<size_t>(p * latencies_ms.size()))];
    };
    return Figures{static_cast<double>(assigned.size()) / absl::ToDoubleSeconds(last - start),
                   pct(0.50), pct(0.99)};
  };
  // One client submits at the pace of its own commits: the latency of the dispatch
  // path itself. Eight clients submit faster than dispatch can follow: throughput,
  // with the queueing that comes with it in the latencies.
  const Figures paced = measure(1);
  const Figures flooded = measure(8);
  std::printf("\nDispatch: %d jobs per run, %d workers of 1 channel (each finishes its job at "
              "once)\n", jobs, workers);
  std::printf("%-52s %10s %10s %10s\n", "path", "jobs/s", "p50 ms", "p99 ms");
  std::printf("%-52s %10.0f %10s %10s\n", "SubmitJob alone, 8 clients (baseline)", submit_only,
              "-", "-");
  std::printf("%-52s %10.0f %10.2f %10.2f\n", "SubmitJob (1 client) -> Assign on a worker",
              paced.jobs_per_s, paced.p50_ms, paced.p99_ms);
  std::printf("%-52s %10.0f %10.2f %10.2f\n", "SubmitJob (8 clients) -> Assign on a worker",
              flooded.jobs_per_s, flooded.p50_ms, flooded.p99_ms);
  for (auto& stream : streams) stream->Cancel();
  for (std::thread& t : threads) t.join();
  streams.clear();
  orchestrator.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  std::string workers_list = "1,8,64";
  int rows = 64'000;
  int batch = 200;
  int dispatch_workers = 100;
  int dispatch_jobs = 2000;
  std::string base = std::filesystem::temp_directory_path().string();
  ionloop::FlagTable flags(
      "worker_bench — the worker protocol under load: durable ingest beside raw SQLite and a\n"
      "raw gRPC stream, and dispatch (submit → assign) with many workers.");
  flags.String("workers", &workers_list, "Comma-separated worker counts for the ingest runs.");
  flags.Int("rows", &rows, "Cycle records per ingest run (split across the workers).");
  flags.Int("batch", &batch, "Measurements per JobUpdate (and per raw SQLite transaction).");
  flags.Int("dispatch-workers", &dispatch_workers, "Workers connected for the dispatch run.");
  flags.Int("dispatch-jobs", &dispatch_jobs, "Jobs submitted in the dispatch run.");
  flags.String("dir", &base, "Where the scratch stores go (the disk being measured).");
  auto parsed = flags.Parse(argc, argv);
  if (flags.help_requested()) {
    std::printf("%s", flags.Help().c_str());
    return 0;
  }
  if (!parsed.ok() || rows < 1 || batch < 1 || dispatch_workers < 1 || dispatch_jobs < 1) {
    std::fprintf(stderr, "worker_bench: %s\n",
                 parsed.ok() ? "counts must be >= 1" : parsed.status().ToString().c_str());
    return 2;
  }
  std::vector<int> worker_counts;
  for (absl::string_view part : absl::StrSplit(workers_list, ',')) {
    int n = 0;
    if (!absl::SimpleAtoi(part, &n) || n < 1) {
      std::fprintf(stderr, "worker_bench: --workers: bad count '%s'\n", std::string(part).c_str());
      return 2;
    }
    worker_counts.push_back(n);
  }
  spdlog::set_level(spdlog::level::warn);  // the orchestrator's connect/disconnect lines
  RunIngest(base, worker_counts, static_cast<uint64_t>(rows), batch);
  RunDispatch(base, dispatch_workers, dispatch_jobs);
  return 0;
}
