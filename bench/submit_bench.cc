// SubmitJob throughput, durable, through gRPC on loopback — beside a raw SQLite
// insert of the same rows with one transaction per job, on the same disk, in the same
// run. Both commit with WAL + synchronous=FULL, so both pay one fsync per job; the
// ratio is what validation, gRPC and the store's bookkeeping cost on top.
//
//   build/bench/submit_bench [--jobs=2000] [--clients=1,8] [--dir=/tmp]
#include <sqlite3.h>
#include <stdlib.h>

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/bench_util.h"
#include "common/clock.h"
#include "common/flag_table.h"
#include "ionloop/v1/jobs.grpc.pb.h"
#include "orchestrator/service/server.h"

namespace {

using ionloop::v1::JobSpec;

JobSpec BenchSpec(int i) {
  JobSpec spec;
  auto* cell = spec.mutable_cycling()->mutable_cell();
  cell->set_ion(ionloop::v1::ION_NA);
  cell->set_positive_electrode("NVPF");
  cell->set_negative_electrode("hard-carbon");
  cell->set_electrolyte("1 M NaPF6 in EC/DEC");
  cell->set_design(ionloop::v1::CELL_DESIGN_COIN);
  cell->set_nominal_capacity_ah(0.004);
  auto* p = cell->mutable_protocol();
  p->set_charge_c_rate(0.5 + 0.01 * (i % 100));
  p->set_discharge_c_rate(1);
  p->set_voltage_min_v(2.0);
  p->set_voltage_max_v(4.25);
  p->set_temperature_c(25);
  spec.mutable_cycling()->set_max_cycles(1000);
  spec.set_campaign_id("bench");
  (*spec.mutable_labels())["bench"] = "submit";
  return spec;
}


// The same rows the store writes for one job (job, label, creation event), one
// transaction each, with the same pragmas. No validation, no RPC.
double RawSqliteJobsPerSecond(const std::string& dir, int jobs) {
  sqlite3* db = nullptr;
  sqlite3_open((dir + "/raw.db").c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
               "CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, kind INTEGER, state "
               "INTEGER, priority INTEGER, campaign_id TEXT, idempotency_key TEXT, spec BLOB, "
               "created_us INTEGER, updated_us INTEGER, message TEXT, last_event_seq INTEGER);"
               "CREATE UNIQUE INDEX k ON jobs(idempotency_key) WHERE idempotency_key IS NOT NULL;"
               "CREATE INDEX s ON jobs(state, id); CREATE INDEX c ON jobs(campaign_id, id);"
               "CREATE INDEX kd ON jobs(kind, id);"
               "CREATE TABLE job_labels (job_id INTEGER, key TEXT, value TEXT, PRIMARY KEY "
               "(job_id, key)) WITHOUT ROWID;"
               "CREATE TABLE job_events (job_id INTEGER, seq INTEGER, type INTEGER, state "
               "INTEGER, at_us INTEGER, message TEXT, worker_id TEXT, attempt INTEGER, progress "
               "REAL, PRIMARY KEY (job_id, seq)) WITHOUT ROWID;",
               nullptr, nullptr, nullptr);
  sqlite3_stmt *job_stmt, *label_stmt, *event_stmt;
  sqlite3_prepare_v2(db,
                     "INSERT INTO jobs (kind, state, priority, campaign_id, idempotency_key, "
                     "spec, created_us, updated_us, message, last_event_seq) VALUES "
                     "(1, 1, 0, 'bench', ?, ?, ?, ?, 'queued', 1)",
                     -1, &job_stmt, nullptr);
  sqlite3_prepare_v2(db, "INSERT INTO job_labels VALUES (?, 'bench', 'submit')", -1, &label_stmt,
                     nullptr);
  sqlite3_prepare_v2(db, "INSERT INTO job_events VALUES (?, 1, 1, 1, ?, 'queued', '', 0, 0)", -1,
                     &event_stmt, nullptr);
  const absl::Time start = absl::Now();
  for (int i = 0; i < jobs; ++i) {
    const std::string spec = BenchSpec(i).SerializeAsString();
    const std::string key = absl::StrCat("raw-", i);
    const int64_t now = absl::ToUnixMicros(absl::Now());
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    sqlite3_bind_text(job_stmt, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    sqlite3_bind_blob(job_stmt, 2, spec.data(), static_cast<int>(spec.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(job_stmt, 3, now);
    sqlite3_bind_int64(job_stmt, 4, now);
    sqlite3_step(job_stmt);
    sqlite3_reset(job_stmt);
    const int64_t id = sqlite3_last_insert_rowid(db);
    sqlite3_bind_int64(label_stmt, 1, id);
    sqlite3_step(label_stmt);
    sqlite3_reset(label_stmt);
    sqlite3_bind_int64(event_stmt, 1, id);
    sqlite3_bind_int64(event_stmt, 2, now);
    sqlite3_step(event_stmt);
    sqlite3_reset(event_stmt);
    if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "raw sqlite commit failed: %s\n", sqlite3_errmsg(db));
      std::exit(1);
    }
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  sqlite3_finalize(job_stmt);
  sqlite3_finalize(label_stmt);
  sqlite3_finalize(event_stmt);
  sqlite3_close(db);
  return jobs / seconds;
}

struct GrpcResult {
  double jobs_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

GrpcResult GrpcJobsPerSecond(const std::string& dir, int jobs, int clients) {
  ionloop::orchestrator::OrchestratorConfig config;
  config.listen_address = "127.0.0.1:0";
  config.data_dir = dir;
  auto server = ionloop::orchestrator::Orchestrator::Start(config, ionloop::SystemClock::Get());
  if (!server.ok()) {
    std::fprintf(stderr, "cannot start orchestrator: %s\n", server.status().ToString().c_str());
    std::exit(1);
  }
  const std::string address = (*server)->listen_address();
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  std::vector<std::vector<double>> latencies(clients);
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      // One channel per client, as separate client processes would have.
      grpc::ChannelArguments args;
      args.SetInt("grpc.channel_id", c);  // keeps channels from being shared
      auto stub = ionloop::v1::Jobs::NewStub(
          grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
      for (int i = next.fetch_add(1); i < jobs; i = next.fetch_add(1)) {
        ionloop::v1::SubmitJobRequest request;
        *request.mutable_spec() = BenchSpec(i);
        request.set_idempotency_key(absl::StrCat("grpc-", i));
        ionloop::v1::SubmitJobResponse response;
        grpc::ClientContext ctx;
        const absl::Time t0 = absl::Now();
        if (!stub->SubmitJob(&ctx, request, &response).ok()) failures.fetch_add(1);
        latencies[c].push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (failures.load() > 0) std::fprintf(stderr, "warning: %d submits failed\n", failures.load());
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  GrpcResult r;
  r.jobs_per_s = jobs / seconds;
  r.p50_ms = all[all.size() / 2];
  r.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int jobs = 2000;
  std::string clients_list = "1,8";
  std::string base = std::filesystem::temp_directory_path().string();
  ionloop::FlagTable flags(
      "submit_bench — durable SubmitJob throughput through gRPC on loopback, beside a raw\n"
      "SQLite insert of the same rows (one transaction per job) in the same run.");
  flags.Int("jobs", &jobs, "Jobs per measurement.");
  flags.String("clients", &clients_list, "Comma-separated concurrent client counts.");
  flags.String("dir", &base, "Where the scratch stores go (the disk being measured).");
  auto parsed = flags.Parse(argc, argv);
  if (flags.help_requested()) {
    std::printf("%s", flags.Help().c_str());
    return 0;
  }
  if (!parsed.ok() || jobs < 10) {
    std::fprintf(stderr, "submit_bench: %s\n",
                 parsed.ok() ? "--jobs: at least 10" : parsed.status().ToString().c_str());
    return 2;
  }
  std::vector<int> client_counts;
  for (absl::string_view part : absl::StrSplit(clients_list, ',')) {
    int n = 0;
    if (!absl::SimpleAtoi(part, &n) || n < 1) {
      std::fprintf(stderr, "submit_bench: --clients: bad count '%s'\n", std::string(part).c_str());
      return 2;
    }
    client_counts.push_back(n);
  }

  const std::string raw_dir = ionloop::bench::MakeScratchDir(base, "raw");
  const double raw = RawSqliteJobsPerSecond(raw_dir, jobs);
  std::printf("SubmitJob, durable (WAL, synchronous=FULL), %d jobs, scratch in %s\n", jobs,
              base.c_str());
  std::printf("%-44s %12s %10s %10s %8s\n", "path", "jobs/s", "p50 ms", "p99 ms", "vs raw");
  std::printf("%-44s %12.0f %10s %10s %8s\n", "raw SQLite insert, 1 txn/job (baseline)", raw, "-",
              "-", "1.00");
  for (int clients : client_counts) {
    const std::string dir = ionloop::bench::MakeScratchDir(base, absl::StrCat("grpc", clients));
    const GrpcResult r = GrpcJobsPerSecond(dir, jobs, clients);
    std::printf("%-44s %12.0f %10.2f %10.2f %8.2f\n",
                absl::StrCat("ionloopd SubmitJob via gRPC, ", clients, " client(s)").c_str(),
                r.jobs_per_s, r.p50_ms, r.p99_ms, r.jobs_per_s / raw);
    std::filesystem::remove_all(dir);
  }
  std::filesystem::remove_all(raw_dir);
  return 0;
}
