// gRPC adapter for ionloop.v1.Campaigns: unary calls run CampaignEngine on the executor;
// WatchCampaign streams the engine's events.
#ifndef IONLOOP_ORCHESTRATOR_SERVICE_CAMPAIGNS_SERVICE_H_
#define IONLOOP_ORCHESTRATOR_SERVICE_CAMPAIGNS_SERVICE_H_

#include "common/executor.h"
#include "ionloop/v1/campaigns.grpc.pb.h"
#include "orchestrator/campaign/campaign_engine.h"

namespace ionloop::orchestrator {

class CampaignsService final : public ionloop::v1::Campaigns::CallbackService {
 public:
  CampaignsService(CampaignEngine* engine, Executor* executor)
      : engine_(engine), executor_(executor) {}

  grpc::ServerUnaryReactor* CreateCampaign(grpc::CallbackServerContext* context,
                                           const ionloop::v1::CreateCampaignRequest* request,
                                           ionloop::v1::Campaign* response) override;
  grpc::ServerUnaryReactor* GetCampaign(grpc::CallbackServerContext* context,
                                        const ionloop::v1::GetCampaignRequest* request,
                                        ionloop::v1::Campaign* response) override;
  grpc::ServerUnaryReactor* ListCampaigns(grpc::CallbackServerContext* context,
                                          const ionloop::v1::ListCampaignsRequest* request,
                                          ionloop::v1::ListCampaignsResponse* response) override;
  grpc::ServerUnaryReactor* PauseCampaign(grpc::CallbackServerContext* context,
                                          const ionloop::v1::CampaignRequest* request,
                                          ionloop::v1::Campaign* response) override;
  grpc::ServerUnaryReactor* ResumeCampaign(grpc::CallbackServerContext* context,
                                           const ionloop::v1::CampaignRequest* request,
                                           ionloop::v1::Campaign* response) override;
  grpc::ServerUnaryReactor* StopCampaign(grpc::CallbackServerContext* context,
                                         const ionloop::v1::CampaignRequest* request,
                                         ionloop::v1::Campaign* response) override;
  grpc::ServerWriteReactor<ionloop::v1::CampaignEvent>* WatchCampaign(
      grpc::CallbackServerContext* context, const ionloop::v1::CampaignRequest* request) override;
  grpc::ServerUnaryReactor* GetProposals(grpc::CallbackServerContext* context,
                                         const ionloop::v1::GetProposalsRequest* request,
                                         ionloop::v1::GetProposalsResponse* response) override;

 private:
  CampaignEngine* const engine_;
  Executor* const executor_;
};

}  // namespace ionloop::orchestrator

#endif  // IONLOOP_ORCHESTRATOR_SERVICE_CAMPAIGNS_SERVICE_H_
