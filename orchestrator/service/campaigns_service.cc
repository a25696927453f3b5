#include "orchestrator/service/campaigns_service.h"

#include <string>

#include "common/status_macros.h"
#include "orchestrator/service/event_stream_reactor.h"
#include "orchestrator/service/respond_later.h"

namespace ionloop::orchestrator {
namespace {

namespace v1 = ::ionloop::v1;

bool Ended(v1::CampaignState s) {
  return s == v1::CAMPAIGN_STATE_STOPPED || s == v1::CAMPAIGN_STATE_COMPLETED ||
         s == v1::CAMPAIGN_STATE_FAILED;
}

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
  using Reactor = EventStreamReactor<v1::CampaignEvent, CampaignEngine::Subscription>;
  const std::string id = request->campaign_id();
  auto subscribe = [this, id](Reactor::Sink sink) -> absl::StatusOr<Reactor::Start> {
    ASSIGN_OR_RETURN(CampaignEngine::Watch watch,
                     engine_->StartWatch(id, [sink = std::move(sink)](const v1::CampaignEvent& e) {
                       sink(e);
                     }));
    return Reactor::Start{std::move(watch.snapshot), std::move(watch.subscription)};
  };
  // Ends after the first message whose campaign has ended.
  return new Reactor(
      subscribe, [](const v1::CampaignEvent&) { return true; },
      [](const v1::CampaignEvent& e) { return Ended(e.campaign().state()); });
}

grpc::ServerUnaryReactor* CampaignsService::GetProposals(grpc::CallbackServerContext* context,
                                                         const v1::GetProposalsRequest* request,
                                                         v1::GetProposalsResponse* response) {
  return RespondLater(executor_, context, response,
                      [this, request] { return engine_->Proposals(request->campaign_id()); });
}

}  // namespace ionloop::orchestrator
