#include "orchestrator/service/workers_service.h"

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "orchestrator/service/grpc_status.h"
#include "spdlog/spdlog.h"

namespace ionloop::orchestrator {
namespace {

using ConnectReactorBase = grpc::ServerBidiReactor<v1::WorkerMessage, v1::OrchestratorMessage>;

v1::OrchestratorMessage ProtocolErrorOf(const absl::Status& status) {
  v1::OrchestratorMessage message;
  message.mutable_error()->set_code(static_cast<int32_t>(status.code()));
  message.mutable_error()->set_message(std::string(status.message()));
  return message;
}

// One worker's stream. Reads run ahead of handling: messages wait in an inbox that one
// executor task at a time drains in order, so consecutive updates of a worker share one
// commit and its acks keep their order. The inbox is bounded (reading pauses when it
// is full). Writes come from any thread (the scheduler's Assigns and Cancels) through a
// queue with one write in flight. Finish is only called with no write in flight and
// no drain running, so the reactor cannot be deleted under either.
class ConnectReactor final : public ConnectReactorBase {
 public:
  ConnectReactor(scheduler::Scheduler* scheduler, Executor* executor)
      : scheduler_(scheduler), executor_(executor), channel_(std::make_shared<Channel>(this)) {
    reading_ = true;
    StartRead(&in_);
  }

  void OnReadDone(bool ok) override {
    bool read_more = false;
    bool start_drain = false;
    {
      absl::MutexLock lock(&mu_);
      if (ok) {
        inbox_.push_back(std::move(in_));
        read_more = inbox_.size() < kMaxInbox && !finish_status_;
      } else {
        read_closed_ = true;  // the worker closed its side, or the stream broke
      }
      reading_ = read_more;
      if (!draining_ && !finished_) draining_ = start_drain = true;
    }
    if (read_more) StartRead(&in_);
    if (start_drain) executor_->Post([this] { Drain(); });
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok && !finish_status_) {
        finish_status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed");
      }
    }
    Pump();
  }

  void OnCancel() override {
    LeaveScheduler();
    RequestFinish(grpc::Status(grpc::StatusCode::CANCELLED, "stream cancelled"));
  }

  void OnDone() override {
    LeaveScheduler();
    channel_->Detach();
    delete this;
  }

 private:
  // What the scheduler holds: Send queues on this stream while it lives.
  class Channel final : public scheduler::WorkerChannel {
   public:
    explicit Channel(ConnectReactor* reactor) : reactor_(reactor) {}
    void Send(const v1::OrchestratorMessage& message) override {
      absl::MutexLock lock(&mu_);
      if (reactor_ != nullptr) reactor_->Enqueue(message);
    }
    void Close(const absl::Status& status) override {
      absl::MutexLock lock(&mu_);
      if (reactor_ != nullptr) reactor_->RequestFinish(ToGrpcStatus(status));
    }
    void Detach() {
      absl::MutexLock lock(&mu_);
      reactor_ = nullptr;
    }

   private:
    absl::Mutex mu_;
    ConnectReactor* reactor_ ABSL_GUARDED_BY(mu_);
  };

  static constexpr size_t kMaxInbox = 64;

  // Handles the inbox until it is empty, then either waits for more or, once the
  // worker has closed its side, leaves the scheduler and finishes.
  void Drain() {
    bool closed = false;
    while (true) {
      std::deque<v1::WorkerMessage> batch;
      {
        absl::MutexLock lock(&mu_);
        batch.swap(inbox_);
        closed = read_closed_;
        if (batch.empty()) {
          draining_ = false;
          if (closed && !finish_status_) finish_status_ = grpc::Status::OK;
          break;
        }
      }
      Handle(batch);
      bool resume = false;
      {
        absl::MutexLock lock(&mu_);
        resume = !reading_ && !read_closed_ && !finish_status_ && inbox_.size() < kMaxInbox;
        if (resume) reading_ = true;
      }
      if (resume) StartRead(&in_);
    }
    if (closed) LeaveScheduler();
    Pump();  // the last touch of `this` here: Pump may finish the stream
  }

  void Handle(std::deque<v1::WorkerMessage>& batch) {
    std::vector<const v1::JobUpdate*> updates;  // a run of consecutive updates
    auto flush_updates = [&] {
      if (updates.empty()) return;
      for (const v1::OrchestratorMessage& answer : scheduler_->HandleUpdates(worker_id_, updates)) {
        Enqueue(answer);
      }
      updates.clear();
    };
    for (const v1::WorkerMessage& message : batch) {
      {
        absl::MutexLock lock(&mu_);
        if (finish_status_) return;  // finishing: the rest is dropped
      }
      if (message.kind_case() == v1::WorkerMessage::kUpdate && !worker_id_.empty()) {
        updates.push_back(&message.update());
        continue;
      }
      flush_updates();
      HandleOne(message);
    }
    flush_updates();
  }

  void HandleOne(const v1::WorkerMessage& message) {
    if (worker_id_.empty()) {
      if (message.kind_case() != v1::WorkerMessage::kHello) {
        RequestFinish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                   "the first message on a Connect stream must be Hello"));
        return;
      }
      absl::Status connected = scheduler_->Connect(message.hello(), channel_);
      if (!connected.ok()) {
        spdlog::warn("refused worker '{}': {}", message.hello().worker_id(), connected.ToString());
        RequestFinish(ToGrpcStatus(connected));
        return;
      }
      absl::MutexLock lock(&mu_);
      worker_id_ = message.hello().worker_id();
      return;
    }
    switch (message.kind_case()) {
      case v1::WorkerMessage::kHello:
        Enqueue(ProtocolErrorOf(absl::FailedPreconditionError(
            absl::StrCat("hello: already connected as '", worker_id_, "'; Hello only once"))));
        break;
      case v1::WorkerMessage::kHeartbeat:
        scheduler_->Heartbeat(worker_id_);
        break;
      case v1::WorkerMessage::kUpdate:
        Enqueue(scheduler_->HandleUpdate(worker_id_, message.update()));
        break;
      case v1::WorkerMessage::kResult:
        Enqueue(scheduler_->HandleResult(worker_id_, message.result()));
        break;
      case v1::WorkerMessage::KIND_NOT_SET:
        Enqueue(ProtocolErrorOf(absl::InvalidArgumentError(
            "message: empty WorkerMessage (set hello, heartbeat, update or result)")));
        break;
    }
  }

  void LeaveScheduler() {
    std::string id;
    {
      absl::MutexLock lock(&mu_);
      if (left_ || worker_id_.empty()) return;
      left_ = true;
      id = worker_id_;
    }
    scheduler_->Disconnect(id, channel_.get());
  }

  void Enqueue(const v1::OrchestratorMessage& message) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_ || finish_status_) return;
      pending_.push_back(message);
    }
    Pump();
  }

  // Sets the status to finish with; the stream finishes once writes and drains are done.
  void RequestFinish(const grpc::Status& status) {
    {
      absl::MutexLock lock(&mu_);
      if (!finish_status_) finish_status_ = status;
    }
    Pump();
  }

  void Pump() {
    bool write = false;
    std::optional<grpc::Status> finish;
    {
      absl::MutexLock lock(&mu_);
      if (writing_ || finished_) return;
      if (!pending_.empty() && !(finish_status_ && !finish_status_->ok())) {
        out_ = std::move(pending_.front());
        pending_.pop_front();
        writing_ = write = true;
      } else if (finish_status_ && !draining_) {
        finished_ = true;
        finish = *finish_status_;
      }
    }
    if (write) StartWrite(&out_);
    if (finish) Finish(*finish);
  }

  scheduler::Scheduler* const scheduler_;
  Executor* const executor_;
  const std::shared_ptr<Channel> channel_;
  v1::WorkerMessage in_;   // owned by gRPC while reading_
  v1::OrchestratorMessage out_;  // owned by gRPC while writing_

  absl::Mutex mu_;
  std::string worker_id_;  // set once, by the Hello; read on the executor thread
  bool left_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<v1::OrchestratorMessage> pending_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<v1::WorkerMessage> inbox_ ABSL_GUARDED_BY(mu_);
  bool reading_ ABSL_GUARDED_BY(mu_) = false;      // a read is outstanding
  bool read_closed_ ABSL_GUARDED_BY(mu_) = false;  // no more reads will succeed
  bool draining_ ABSL_GUARDED_BY(mu_) = false;     // a Drain task is queued or running
  std::optional<grpc::Status> finish_status_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

grpc::ServerBidiReactor<v1::WorkerMessage, v1::OrchestratorMessage>* WorkersService::Connect(
    grpc::CallbackServerContext* /*context*/) {
  return new ConnectReactor(scheduler_, executor_);
}

grpc::ServerUnaryReactor* WorkersService::ListWorkers(grpc::CallbackServerContext* context,
                                                      const v1::ListWorkersRequest* /*request*/,
                                                      v1::ListWorkersResponse* response) {
  for (v1::WorkerInfo& info : scheduler_->ListWorkers()) *response->add_workers() = std::move(info);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace ionloop::orchestrator
