#include "orchestrator/service/jobs_service.h"

#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "orchestrator/jobs/job_states.h"
#include "orchestrator/service/grpc_status.h"
#include "orchestrator/service/respond_later.h"

namespace ionloop::orchestrator {
namespace {

// Streams a job's current state, then each event, and finishes after the first
// message whose job is in a terminal state. Events arrive on publishing threads; at
// most one write is in flight, and Finish is only called with no write in flight, so
// the reactor cannot be deleted under a writer.
class WatchJobReactor final : public grpc::ServerWriteReactor<v1::WatchJobResponse> {
 public:
  WatchJobReactor(JobManager* manager, const v1::WatchJobRequest& request)
      : link_(std::make_shared<Link>()) {
    link_->reactor = this;
    auto on_event = [link = link_](const v1::JobEvent& event, const v1::Job& job) {
      v1::WatchJobResponse message;
      *message.mutable_event() = event;
      *message.mutable_job() = job;
      absl::MutexLock lock(&link->mu);
      if (link->reactor == nullptr) return;
      if (!link->ready) {
        link->early.push_back(std::move(message));
        return;
      }
      link->reactor->Push(std::move(message));
    };
    absl::StatusOr<JobManager::Watch> watch = manager->StartWatch(request, std::move(on_event));
    if (!watch.ok()) {
      {
        absl::MutexLock lock(&mu_);
        finished_ = true;
      }
      Finish(ToGrpcStatus(watch.status()));
      return;
    }
    subscription_ = std::move(watch->subscription);
    Push(std::move(watch->current));
    // Events published between StartWatch and here waited in `early`.
    absl::MutexLock lock(&link_->mu);
    for (v1::WatchJobResponse& message : link_->early) Push(std::move(message));
    link_->early.clear();
    link_->ready = true;
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) cancelled_ = true;
    }
    Pump();
  }

  void OnCancel() override {
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
    }
    Pump();
  }

  void OnDone() override {
    {
      absl::MutexLock lock(&link_->mu);
      link_->reactor = nullptr;
    }
    subscription_.reset();
    delete this;
  }

 private:
  // Lets bus callbacks reach the reactor only while it is alive, and only once the
  // current state has been queued (earlier events wait in `early`).
  struct Link {
    absl::Mutex mu;
    WatchJobReactor* reactor ABSL_GUARDED_BY(mu) = nullptr;
    bool ready ABSL_GUARDED_BY(mu) = false;
    std::vector<v1::WatchJobResponse> early ABSL_GUARDED_BY(mu);
  };

  void Push(v1::WatchJobResponse message) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_ || ending_) return;
      if (message.event().seq() <= last_seq_) return;  // already sent
      last_seq_ = message.event().seq();
      if (IsTerminal(message.job().state())) ending_ = true;
      pending_.push_back(std::move(message));
    }
    Pump();
  }

  void Pump() {
    bool write = false;
    bool finish = false;
    grpc::Status status;
    {
      absl::MutexLock lock(&mu_);
      if (writing_ || finished_) return;
      if (cancelled_) {
        finished_ = finish = true;
        status = grpc::Status(grpc::StatusCode::CANCELLED, "watch cancelled");
      } else if (!pending_.empty()) {
        in_flight_ = std::move(pending_.front());
        pending_.pop_front();
        writing_ = write = true;
      } else if (ending_) {
        finished_ = finish = true;
      }
    }
    if (write) StartWrite(&in_flight_);
    if (finish) Finish(status);
  }

  std::shared_ptr<Link> link_;
  std::unique_ptr<JobEventBus::Subscription> subscription_;
  absl::Mutex mu_;
  std::deque<v1::WatchJobResponse> pending_ ABSL_GUARDED_BY(mu_);
  v1::WatchJobResponse in_flight_;  // owned by gRPC while writing_
  uint64_t last_seq_ ABSL_GUARDED_BY(mu_) = 0;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool ending_ ABSL_GUARDED_BY(mu_) = false;    // a terminal state is queued
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;  // Finish called or about to be
};

// Streams stored measurements page by page; one page is read per exhausted buffer.
class ListMeasurementsReactor final : public grpc::ServerWriteReactor<v1::Measurement> {
 public:
  ListMeasurementsReactor(JobManager* manager, const v1::ListMeasurementsRequest& request)
      : manager_(manager), request_(request) {
    NextWrite();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "client went away"));
      return;
    }
    NextWrite();
  }

  void OnDone() override { delete this; }

 private:
  static constexpr int kPageSize = 512;

  void NextWrite() {
    if (next_ == page_.size()) {
      if (exhausted_) {
        Finish(grpc::Status::OK);
        return;
      }
      absl::StatusOr<std::vector<v1::Measurement>> page =
          manager_->MeasurementPage(request_, cursor_, kPageSize);
      if (!page.ok()) {
        Finish(ToGrpcStatus(page.status()));
        return;
      }
      page_ = *std::move(page);
      next_ = 0;
      exhausted_ = static_cast<int>(page_.size()) < kPageSize;
      if (page_.empty()) {
        Finish(grpc::Status::OK);
        return;
      }
    }
    const v1::Measurement& m = page_[next_++];
    cursor_ = MeasurementCursor{m.attempt(), m.seq()};
    StartWrite(&m);
  }

  JobManager* const manager_;
  const v1::ListMeasurementsRequest request_;
  std::vector<v1::Measurement> page_;
  size_t next_ = 0;
  bool exhausted_ = false;
  MeasurementCursor cursor_;
};

// Collects an import's messages, then stores it all in one commit on the executor.
class ImportJobReactor final : public grpc::ServerReadReactor<v1::ImportJobRequest> {
 public:
  ImportJobReactor(JobManager* manager, Executor* executor, v1::SubmitJobResponse* response)
      : manager_(manager), executor_(executor), response_(response) {
    StartRead(&in_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client has sent everything
      executor_->Post([this] {
        if (!first_seen_) {
          Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "spec: missing"));
          return;
        }
        absl::StatusOr<v1::SubmitJobResponse> imported =
            manager_->Import(spec_, idempotency_key_, source_, std::move(measurements_));
        if (imported.ok()) *response_ = *std::move(imported);
        Finish(ToGrpcStatus(imported.status()));
      });
      return;
    }
    if (!first_seen_) {
      first_seen_ = true;
      spec_ = in_.spec();
      idempotency_key_ = in_.idempotency_key();
      source_ = in_.source();
    } else if (in_.has_spec() || !in_.idempotency_key().empty() || !in_.source().empty()) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "spec, idempotency_key and source belong in the first message only"));
      return;
    }
    if (measurements_.size() + in_.measurements_size() > kMaxMeasurements) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          absl::StrCat("measurements: at most ", kMaxMeasurements,
                                       " per import")));
      return;
    }
    for (v1::Measurement& m : *in_.mutable_measurements()) measurements_.push_back(std::move(m));
    StartRead(&in_);
  }

  void OnDone() override { delete this; }

 private:
  static constexpr size_t kMaxMeasurements = 5'000'000;
  JobManager* const manager_;
  Executor* const executor_;
  v1::SubmitJobResponse* const response_;
  v1::ImportJobRequest in_;
  bool first_seen_ = false;
  v1::JobSpec spec_;
  std::string idempotency_key_;
  std::string source_;
  std::vector<v1::Measurement> measurements_;
};

}  // namespace

grpc::ServerReadReactor<v1::ImportJobRequest>* JobsService::ImportJob(
    grpc::CallbackServerContext* /*context*/, v1::SubmitJobResponse* response) {
  return new ImportJobReactor(manager_, executor_, response);
}

grpc::ServerUnaryReactor* JobsService::SubmitJob(grpc::CallbackServerContext* context,
                                                 const v1::SubmitJobRequest* request,
                                                 v1::SubmitJobResponse* response) {
  return RespondLater(executor_, context, response, [this, request] { return manager_->Submit(*request); });
}

grpc::ServerUnaryReactor* JobsService::GetJob(grpc::CallbackServerContext* context,
                                              const v1::GetJobRequest* request,
                                              v1::Job* response) {
  return RespondLater(executor_, context, response, [this, request] { return manager_->Get(*request); });
}

grpc::ServerUnaryReactor* JobsService::ListJobs(grpc::CallbackServerContext* context,
                                                const v1::ListJobsRequest* request,
                                                v1::ListJobsResponse* response) {
  return RespondLater(executor_, context, response, [this, request] { return manager_->List(*request); });
}

grpc::ServerUnaryReactor* JobsService::CancelJob(grpc::CallbackServerContext* context,
                                                 const v1::CancelJobRequest* request,
                                                 v1::Job* response) {
  return RespondLater(executor_, context, response, [this, request] { return manager_->Cancel(*request); });
}

grpc::ServerWriteReactor<v1::WatchJobResponse>* JobsService::WatchJob(
    grpc::CallbackServerContext* /*context*/, const v1::WatchJobRequest* request) {
  return new WatchJobReactor(manager_, *request);
}

grpc::ServerWriteReactor<v1::Measurement>* JobsService::ListMeasurements(
    grpc::CallbackServerContext* /*context*/, const v1::ListMeasurementsRequest* request) {
  return new ListMeasurementsReactor(manager_, *request);
}

}  // namespace ionloop::orchestrator
