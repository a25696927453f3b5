#include "orchestrator/service/jobs_service.h"

#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "orchestrator/jobs/job_states.h"
#include "common/status_macros.h"
#include "orchestrator/service/event_stream_reactor.h"
#include "orchestrator/service/grpc_status.h"
#include "orchestrator/service/respond_later.h"

namespace ionloop::orchestrator {
namespace {

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
  using Reactor = EventStreamReactor<v1::WatchJobResponse, JobEventBus::Subscription>;
  const v1::WatchJobRequest watch = *request;
  auto subscribe = [this, watch](Reactor::Sink sink) -> absl::StatusOr<Reactor::Start> {
    auto on_event = [sink = std::move(sink)](const v1::JobEvent& event, const v1::Job& job) {
      v1::WatchJobResponse message;
      *message.mutable_event() = event;
      *message.mutable_job() = job;
      sink(std::move(message));
    };
    ASSIGN_OR_RETURN(JobManager::Watch started, manager_->StartWatch(watch, std::move(on_event)));
    return Reactor::Start{std::move(started.current), std::move(started.subscription)};
  };
  // Events carry their seq: one already sent (the snapshot's) is not sent again. The
  // stream ends after the first message whose job is in a terminal state.
  auto last_seq = std::make_shared<uint64_t>(0);
  auto accept = [last_seq](const v1::WatchJobResponse& m) {
    if (m.event().seq() <= *last_seq) return false;
    *last_seq = m.event().seq();
    return true;
  };
  auto last = [](const v1::WatchJobResponse& m) { return IsTerminal(m.job().state()); };
  return new Reactor(subscribe, accept, last);
}

grpc::ServerWriteReactor<v1::Measurement>* JobsService::ListMeasurements(
    grpc::CallbackServerContext* /*context*/, const v1::ListMeasurementsRequest* request) {
  return new ListMeasurementsReactor(manager_, *request);
}

}  // namespace ionloop::orchestrator
