// A server stream of "the current state, then each event" (Jobs.WatchJob,
// Campaigns.WatchCampaign). Events arrive on other threads (the job event bus, the
// campaign engine); at most one write is in flight, and Finish is only called with no
// write in flight, so the reactor cannot be deleted under a writer. Events published
// between the subscription and the snapshot's write wait in a buffer, so none is lost.
#ifndef IONLOOP_ORCHESTRATOR_SERVICE_EVENT_STREAM_REACTOR_H_
#define IONLOOP_ORCHESTRATOR_SERVICE_EVENT_STREAM_REACTOR_H_

#include <grpcpp/support/server_callback.h>

#include <deque>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "orchestrator/service/grpc_status.h"

namespace ionloop::orchestrator {

template <typename Message, typename Subscription>
class EventStreamReactor final : public grpc::ServerWriteReactor<Message> {
 public:
  // Where the subscription delivers events (any thread).
  using Sink = std::function<void(Message)>;
  struct Start {
    Message snapshot;
    std::unique_ptr<Subscription> subscription;
  };
  // `subscribe` subscribes the sink and returns the snapshot (or the error the stream
  // ends with). `accept` may drop a message (e.g. one already sent; called under the
  // reactor's lock, in order); `last` ends the stream after that message.
  EventStreamReactor(const std::function<absl::StatusOr<Start>(Sink)>& subscribe,
                     std::function<bool(const Message&)> accept,
                     std::function<bool(const Message&)> last)
      : link_(std::make_shared<Link>()), accept_(std::move(accept)), last_(std::move(last)) {
    link_->reactor = this;
    Sink sink = [link = link_](Message message) {
      absl::MutexLock lock(&link->mu);
      if (link->reactor == nullptr) return;
      if (!link->ready) {
        link->early.push_back(std::move(message));
        return;
      }
      link->reactor->Push(std::move(message));
    };
    absl::StatusOr<Start> started = subscribe(std::move(sink));
    if (!started.ok()) {
      {
        absl::MutexLock lock(&mu_);
        finished_ = true;
      }
      this->Finish(ToGrpcStatus(started.status()));
      return;
    }
    subscription_ = std::move(started->subscription);
    Push(std::move(started->snapshot));
    absl::MutexLock lock(&link_->mu);
    for (Message& message : link_->early) Push(std::move(message));
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
  // Lets the sink reach the reactor only while it is alive, and only once the snapshot
  // has been queued (earlier events wait in `early`).
  struct Link {
    absl::Mutex mu;
    EventStreamReactor* reactor ABSL_GUARDED_BY(mu) = nullptr;
    bool ready ABSL_GUARDED_BY(mu) = false;
    std::vector<Message> early ABSL_GUARDED_BY(mu);
  };

  void Push(Message message) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_ || ending_) return;
      if (!accept_(message)) return;
      if (last_(message)) ending_ = true;
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
    if (write) this->StartWrite(&in_flight_);
    if (finish) this->Finish(status);
  }

  std::shared_ptr<Link> link_;
  const std::function<bool(const Message&)> accept_;
  const std::function<bool(const Message&)> last_;
  std::unique_ptr<Subscription> subscription_;
  absl::Mutex mu_;
  std::deque<Message> pending_ ABSL_GUARDED_BY(mu_);
  Message in_flight_;  // owned by gRPC while writing_
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool ending_ ABSL_GUARDED_BY(mu_) = false;  // the last message is queued
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;  // Finish called or about to be
};

}  // namespace ionloop::orchestrator

#endif  // IONLOOP_ORCHESTRATOR_SERVICE_EVENT_STREAM_REACTOR_H_
