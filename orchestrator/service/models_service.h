// gRPC adapter for ionloop.v1.Models: each call runs ModelManager on the executor.
#ifndef IONLOOP_ORCHESTRATOR_SERVICE_MODELS_SERVICE_H_
#define IONLOOP_ORCHESTRATOR_SERVICE_MODELS_SERVICE_H_

#include "common/executor.h"
#include "ionloop/v1/models.grpc.pb.h"
#include "orchestrator/models/model_manager.h"

namespace ionloop::orchestrator {

class ModelsService final : public ionloop::v1::Models::CallbackService {
 public:
  ModelsService(ModelManager* manager, Executor* executor)
      : manager_(manager), executor_(executor) {}

  grpc::ServerUnaryReactor* Train(grpc::CallbackServerContext* context,
                                  const ionloop::v1::TrainRequest* request,
                                  ionloop::v1::Job* response) override;
  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* context,
                                       const ionloop::v1::ListModelsRequest* request,
                                       ionloop::v1::ListModelsResponse* response) override;
  grpc::ServerUnaryReactor* GetModel(grpc::CallbackServerContext* context,
                                     const ionloop::v1::GetModelRequest* request,
                                     ionloop::v1::Model* response) override;
  grpc::ServerUnaryReactor* PredictLifetime(
      grpc::CallbackServerContext* context, const ionloop::v1::PredictLifetimeRequest* request,
      ionloop::v1::PredictLifetimeResponse* response) override;
  grpc::ServerUnaryReactor* PredictFade(grpc::CallbackServerContext* context,
                                        const ionloop::v1::PredictFadeRequest* request,
                                        ionloop::v1::FadePrediction* response) override;
  grpc::ServerUnaryReactor* Evaluate(grpc::CallbackServerContext* context,
                                     const ionloop::v1::EvaluateRequest* request,
                                     ionloop::v1::EvaluateResponse* response) override;

 private:
  ModelManager* const manager_;
  Executor* const executor_;
};

}  // namespace ionloop::orchestrator

#endif  // IONLOOP_ORCHESTRATOR_SERVICE_MODELS_SERVICE_H_
