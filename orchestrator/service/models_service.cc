#include "orchestrator/service/models_service.h"

#include "orchestrator/service/respond_later.h"

namespace ionloop::orchestrator {

namespace v1 = ::ionloop::v1;

grpc::ServerUnaryReactor* ModelsService::Train(grpc::CallbackServerContext* context,
                                               const v1::TrainRequest* request,
                                               v1::Job* response) {
  return RespondLater(executor_, context, response, [this, request] { return manager_->Train(*request); });
}

grpc::ServerUnaryReactor* ModelsService::ListModels(grpc::CallbackServerContext* context,
                                                    const v1::ListModelsRequest* request,
                                                    v1::ListModelsResponse* response) {
  return RespondLater(executor_, context, response, [this, request] { return manager_->List(*request); });
}

grpc::ServerUnaryReactor* ModelsService::GetModel(grpc::CallbackServerContext* context,
                                                  const v1::GetModelRequest* request,
                                                  v1::Model* response) {
  return RespondLater(executor_, context, response, [this, request] { return manager_->Get(*request); });
}

grpc::ServerUnaryReactor* ModelsService::PredictLifetime(grpc::CallbackServerContext* context,
                                                         const v1::PredictLifetimeRequest* request,
                                                         v1::PredictLifetimeResponse* response) {
  return RespondLater(executor_, context, response,
                      [this, request] { return manager_->PredictLifetime(*request); });
}

grpc::ServerUnaryReactor* ModelsService::PredictFade(grpc::CallbackServerContext* context,
                                                     const v1::PredictFadeRequest* request,
                                                     v1::FadePrediction* response) {
  return RespondLater(executor_, context, response,
                      [this, request] { return manager_->PredictFade(*request); });
}

grpc::ServerUnaryReactor* ModelsService::Evaluate(grpc::CallbackServerContext* context,
                                                  const v1::EvaluateRequest* request,
                                                  v1::EvaluateResponse* response) {
  return RespondLater(executor_, context, response,
                      [this, request] { return manager_->Evaluate(*request); });
}

}  // namespace ionloop::orchestrator
