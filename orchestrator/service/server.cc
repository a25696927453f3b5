#include "orchestrator/service/server.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include "absl/strings/str_cat.h"
#include "common/executor.h"
#include "common/status_macros.h"
#include "orchestrator/jobs/job_event_bus.h"
#include "orchestrator/jobs/job_manager.h"
#include "orchestrator/service/admin_service.h"
#include "orchestrator/service/campaigns_service.h"
#include "orchestrator/service/jobs_service.h"
#include "orchestrator/service/models_service.h"
#include "orchestrator/service/workers_service.h"
#include "orchestrator/store/sqlite_store.h"

namespace ionloop::orchestrator {
namespace {

// An exclusive flock on <data_dir>/LOCK, so two daemons never share a store. The
// kernel drops it when the process dies, kill -9 included.
absl::StatusOr<int> LockDataDir(const std::string& data_dir) {
  const std::string path = data_dir + "/LOCK";
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("data dir '", data_dir, "': cannot open ", path, ": ", strerror(errno)));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {0};
    ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
    close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat("data dir '", data_dir, "' is in use by another ionloopd",
                     n > 0 ? absl::StrCat(" (pid ", absl::string_view(pid, n), ")") : ""));
  }
  const std::string pid = absl::StrCat(getpid());
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The lock is what matters; the pid is only a hint for the message above.
  }
  return fd;
}

// "host:0" + bound port → "host:port".
std::string WithPort(const std::string& address, int port) {
  const size_t colon = address.rfind(':');
  return absl::StrCat(colon == std::string::npos ? address : address.substr(0, colon), ":", port);
}

}  // namespace

struct Orchestrator::Parts {
  ~Parts() {
    if (lock_fd >= 0) close(lock_fd);
  }
  // Destroyed bottom-up: the server goes first, the lock last.
  int lock_fd = -1;
  std::unique_ptr<SqliteStore> store;
  JobEventBus bus;
  std::unique_ptr<JobManager> manager;
  // Handlers wait here for store commits (unary calls, worker reports); enough
  // threads that concurrent writers meet in one group commit.
  ThreadPoolExecutor executor{32};
  std::unique_ptr<scheduler::Scheduler> scheduler;
  std::unique_ptr<JobEventBus::Subscription> scheduler_events;
  std::unique_ptr<JobsService> jobs_service;
  std::unique_ptr<WorkersService> workers_service;
  std::unique_ptr<AdminService> admin_service;
  instruments::ElectrodeTable electrode_table;
  std::unique_ptr<ModelManager> models;
  std::unique_ptr<JobEventBus::Subscription> models_events;
  std::unique_ptr<ModelsService> models_service;
  std::unique_ptr<CampaignEngine> campaigns;
  std::unique_ptr<JobEventBus::Subscription> campaign_events;
  std::unique_ptr<CampaignsService> campaigns_service;
  std::unique_ptr<grpc::Server> server;
};

absl::StatusOr<std::unique_ptr<Orchestrator>> Orchestrator::Start(const OrchestratorConfig& config,
                                                                  const Clock* clock) {
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("data dir '", config.data_dir, "': ", ec.message()));
  }
  auto parts = std::make_unique<Parts>();
  ASSIGN_OR_RETURN(parts->lock_fd, LockDataDir(config.data_dir));
  ASSIGN_OR_RETURN(parts->store, SqliteStore::Open(config.data_dir + "/ionloop.db"));
  parts->manager = std::make_unique<JobManager>(parts->store.get(), &parts->bus, clock);
  parts->scheduler =
      std::make_unique<scheduler::Scheduler>(parts->manager.get(), clock, config.scheduler);
  RETURN_IF_ERROR(parts->scheduler->Recover());
  parts->scheduler_events = parts->bus.Subscribe(
      "", [s = parts->scheduler.get()](const v1::JobEvent& event, const v1::Job& job) {
        s->OnJobEvent(event, job);
      });
  parts->jobs_service = std::make_unique<JobsService>(parts->manager.get(), &parts->executor);
  parts->workers_service =
      std::make_unique<WorkersService>(parts->scheduler.get(), &parts->executor);
  parts->admin_service =
      std::make_unique<AdminService>(config.version, parts->store.get(), clock);
  ASSIGN_OR_RETURN(parts->electrode_table, instruments::LoadDefaultElectrodeTable());
  parts->models = std::make_unique<ModelManager>(parts->manager.get(), &parts->electrode_table,
                                                 config.models);
  parts->models_events = parts->bus.Subscribe(
      "", [m = parts->models.get()](const v1::JobEvent& event, const v1::Job& job) {
        if (job.kind() == v1::JOB_KIND_TRAINING && event.state() == v1::JOB_STATE_QUEUED &&
            event.type() == v1::JOB_EVENT_TYPE_STATE_CHANGED) {
          m->OnTrainingQueued(job.id());
        }
      });
  parts->models_service = std::make_unique<ModelsService>(parts->models.get(), &parts->executor);
  CampaignEngineConfig campaign_config;
  campaign_config.corpus_threads = config.models.corpus_threads;
  campaign_config.torch_threads = config.models.torch_threads;
  parts->campaigns = std::make_unique<CampaignEngine>(parts->manager.get(), parts->models.get(),
                                                      &parts->electrode_table, campaign_config);
  parts->campaign_events = parts->bus.Subscribe(
      "", [c = parts->campaigns.get()](const v1::JobEvent& event, const v1::Job& job) {
        c->OnJobEvent(event, job);
      });
  parts->campaigns_service =
      std::make_unique<CampaignsService>(parts->campaigns.get(), &parts->executor);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // A worker's update may carry a 4 MiB checkpoint besides its measurements.
  builder.SetMaxReceiveMessageSize(16 << 20);
  int port = 0;
  if (!config.listen_address.empty()) {
    builder.AddListeningPort(config.listen_address, grpc::InsecureServerCredentials(), &port);
  }
  builder.RegisterService(parts->jobs_service.get());
  builder.RegisterService(parts->workers_service.get());
  builder.RegisterService(parts->admin_service.get());
  builder.RegisterService(parts->models_service.get());
  builder.RegisterService(parts->campaigns_service.get());
  parts->server = builder.BuildAndStart();
  if (parts->server == nullptr || (!config.listen_address.empty() && port == 0)) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on '", config.listen_address,
                     "' (address in use, or not host:port?)"));
  }
  auto orchestrator = std::unique_ptr<Orchestrator>(new Orchestrator(std::move(parts)));
  if (!config.listen_address.empty()) {
    orchestrator->listen_address_ = WithPort(config.listen_address, port);
  }
  orchestrator->parts_->admin_service->set_listen_address(orchestrator->listen_address_);
  orchestrator->parts_->scheduler->Start();
  RETURN_IF_ERROR(orchestrator->parts_->models->Start());
  RETURN_IF_ERROR(orchestrator->parts_->campaigns->Start());
  return orchestrator;
}

Orchestrator::Orchestrator(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Orchestrator::~Orchestrator() { Shutdown(absl::Seconds(1)); }

std::string Orchestrator::store_path() const { return parts_->store->Location(); }

JobManager* Orchestrator::jobs() const { return parts_->manager.get(); }

scheduler::Scheduler* Orchestrator::scheduler() const { return parts_->scheduler.get(); }

ModelManager* Orchestrator::models() const { return parts_->models.get(); }

CampaignEngine* Orchestrator::campaigns() const { return parts_->campaigns.get(); }

std::shared_ptr<grpc::Channel> Orchestrator::InProcessChannel() {
  return parts_->server->InProcessChannel(grpc::ChannelArguments());
}

void Orchestrator::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  parts_->scheduler->Stop();
  parts_->models->Stop();
  parts_->campaigns->Stop();
  if (auto* health = parts_->server->GetHealthCheckService()) health->Shutdown();
  parts_->server->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  parts_->server->Wait();
}

}  // namespace ionloop::orchestrator
