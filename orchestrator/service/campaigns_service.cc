#include "orchestrator/service/campaigns_service.h"

#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "orchestrator/service/grpc_status.h"
#include "orchestrator/service/respond_later.h"

namespace ionloop::orchestrator {
namespace {

namespace v1 = ::ionloop::v1;

bool Ended(v1::CampaignState s) {
  return s == v1::CAMPAIGN_STATE_STOPPED || s == v1::CAMPAIGN_STATE_COMPLETED ||
         s == v1::CAMPAIGN_STATE_FAILED;
}

// A snapshot, then each engine event; finishes after the first message whose campaign has
// ended. Events arrive on the engine thread; at most one write is in flight, and Finish is
// only called with no write in flight (as WatchJob's reactor).
class WatchCampaignReactor final : public grpc::ServerWriteReactor<v1::CampaignEvent> {
 public:
  WatchCampaignReactor(CampaignEngine* engine, const std::string& campaign_id)
      : link_(std::make_shared<Link>()) {
    link_->reactor = this;
    auto on_event = [link = link_](const v1::CampaignEvent& event) {
      absl::MutexLock lock(&link->mu);
      if (link->reactor == nullptr) return;
      if (!link->ready) {
        link->early.push_back(event);
        return;
      }
      link->reactor->Push(event);
    };
    absl::StatusOr<CampaignEngine::Watch> watch = engine->StartWatch(campaign_id, on_event);
    if (!watch.ok()) {
      {
        absl::MutexLock lock(&mu_);
        finished_ = true;
      }
      Finish(ToGrpcStatus(watch.status()));
      return;
    }
    subscription_ = std::move(watch->subscription);
    Push(std::move(watch->snapshot));
    absl::MutexLock lock(&link_->mu);
    for (v1::CampaignEvent& e : link_->early) Push(std::move(e));
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
  struct Link {
    absl::Mutex mu;
    WatchCampaignReactor* reactor ABSL_GUARDED_BY(mu) = nullptr;
    bool ready ABSL_GUARDED_BY(mu) = false;
    std::vector<v1::CampaignEvent> early ABSL_GUARDED_BY(mu);
  };

  void Push(v1::CampaignEvent event) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_ || ending_) return;
      if (Ended(event.campaign().state())) ending_ = true;
      pending_.push_back(std::move(event));
    }
    Pump();
  }

  void Pump() {
    bool write = false, finish = false;
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
  std::unique_ptr<CampaignEngine::Subscription> subscription_;
  absl::Mutex mu_;
  std::deque<v1::CampaignEvent> pending_ ABSL_GUARDED_BY(mu_);
  v1::CampaignEvent in_flight_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

grpc::ServerUnaryReactor* CampaignsService::CreateCampaign(grpc::CallbackServerContext* context,
                                                           const v1::CreateCampaignRequest* request,
                                                           v1::Campaign* response) {
  return RespondLater(executor_, context, response, [this, request] { return engine_->Create(*request); });
}

grpc::ServerUnaryReactor* CampaignsService::GetCampaign(grpc::CallbackServerContext* context,
                                                        const v1::GetCampaignRequest* request,
                                                        v1::Campaign* response) {
  return RespondLater(executor_, context, response,
                      [this, request] { return engine_->Get(request->campaign_id()); });
}

grpc::ServerUnaryReactor* CampaignsService::ListCampaigns(grpc::CallbackServerContext* context,
                                                          const v1::ListCampaignsRequest*,
                                                          v1::ListCampaignsResponse* response) {
  return RespondLater(executor_, context, response, [this] { return engine_->List(); });
}

grpc::ServerUnaryReactor* CampaignsService::PauseCampaign(grpc::CallbackServerContext* context,
                                                          const v1::CampaignRequest* request,
                                                          v1::Campaign* response) {
  return RespondLater(executor_, context, response,
                      [this, request] { return engine_->Pause(request->campaign_id()); });
}

grpc::ServerUnaryReactor* CampaignsService::ResumeCampaign(grpc::CallbackServerContext* context,
                                                           const v1::CampaignRequest* request,
                                                           v1::Campaign* response) {
  return RespondLater(executor_, context, response,
                      [this, request] { return engine_->Resume(request->campaign_id()); });
}

grpc::ServerUnaryReactor* CampaignsService::StopCampaign(grpc::CallbackServerContext* context,
                                                         const v1::CampaignRequest* request,
                                                         v1::Campaign* response) {
  return RespondLater(executor_, context, response,
                      [this, request] { return engine_->StopCampaign(request->campaign_id()); });
}

grpc::ServerWriteReactor<v1::CampaignEvent>* CampaignsService::WatchCampaign(
    grpc::CallbackServerContext*, const v1::CampaignRequest* request) {
  return new WatchCampaignReactor(engine_, request->campaign_id());
}

grpc::ServerUnaryReactor* CampaignsService::GetProposals(grpc::CallbackServerContext* context,
                                                         const v1::GetProposalsRequest* request,
                                                         v1::GetProposalsResponse* response) {
  return RespondLater(executor_, context, response,
                      [this, request] { return engine_->Proposals(request->campaign_id()); });
}

}  // namespace ionloop::orchestrator
