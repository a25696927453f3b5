// The transport-free core of the Models API and ionloopd's model trainer.
//
// Train submits a TRAINING job; one trainer thread runs training jobs one at a time (they
// are CPU-bound: running two would only halve each), off the RPC threads, and reports
// progress through the job, so `ionloop watch` and Jobs.WatchJob follow it like any job.
// A finished training stores the model as the next version of its name in the store
// (weights, feature schema, training-data summary, held-out metrics).
//
// Predictions load a model version once and keep it (versions never change), so a
// campaign's many calls pay deserialization once.
//
// After a restart, Start() runs again every training job an earlier ionloopd left queued
// or running (training is deterministic for a seed: the result is the same model).
#ifndef IONLOOP_ORCHESTRATOR_MODELS_MODEL_MANAGER_H_
#define IONLOOP_ORCHESTRATOR_MODELS_MODEL_MANAGER_H_

#include <deque>
#include <memory>
#include <string>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "instruments/electrode_table.h"
#include "ionloop/v1/models.pb.h"
#include "orchestrator/jobs/job_manager.h"

namespace ionloop::models {
class FadeModel;
}  // namespace ionloop::models

namespace ionloop::orchestrator {

struct ModelManagerConfig {
  // Torch intra-op threads for training and prediction; 0: torch's default (all cores).
  // One by default: small networks gain little from more, and a training must not starve
  // the RPC and scheduler threads.
  int torch_threads = 1;
  // Threads that generate "virtual:N" data sets.
  int corpus_threads = 0;
};

class ModelManager {
 public:
  // Does not take ownership; all must outlive the manager.
  ModelManager(JobManager* jobs, const instruments::ElectrodeTable* table,
               ModelManagerConfig config);
  ~ModelManager();  // Stop()

  // Starts the trainer thread and queues the training jobs left unfinished.
  absl::Status Start();
  // Stops the trainer after the current epoch; its job stays RUNNING and is resumed by
  // the next Start() (here or after a restart).
  void Stop();

  absl::StatusOr<ionloop::v1::Job> Train(const ionloop::v1::TrainRequest& request);
  absl::StatusOr<ionloop::v1::ListModelsResponse> List(const ionloop::v1::ListModelsRequest& request);
  absl::StatusOr<ionloop::v1::Model> Get(const ionloop::v1::GetModelRequest& request);
  absl::StatusOr<ionloop::v1::PredictLifetimeResponse> PredictLifetime(
      const ionloop::v1::PredictLifetimeRequest& request);
  absl::StatusOr<ionloop::v1::FadePrediction> PredictFade(
      const ionloop::v1::PredictFadeRequest& request);
  absl::StatusOr<ionloop::v1::EvaluateResponse> Evaluate(
      const ionloop::v1::EvaluateRequest& request);

  // An early_fade model by reference ("name" or "name@version"), loaded once; for the
  // campaign engine's early stopping. Errors name `field`.
  absl::StatusOr<std::shared_ptr<const models::FadeModel>> FadeModelFor(absl::string_view ref,
                                                                       absl::string_view field);

  // A training job was queued (by Train or by Jobs.SubmitJob): the trainer will run it.
  // Called from the job event bus; cheap.
  void OnTrainingQueued(const std::string& job_id);

  // Runs one training job to its end on the calling thread (the trainer thread's body;
  // tests call it directly). Returns the job as it ended.
  absl::StatusOr<ionloop::v1::Job> RunTrainingJob(const std::string& job_id);

 private:
  struct Loaded;  // a deserialized model version

  absl::StatusOr<std::shared_ptr<const Loaded>> Load(absl::string_view model_ref,
                                                     absl::string_view field);
  absl::StatusOr<ionloop::v1::Model> TrainAndStore(const ionloop::v1::Job& job);
  void TrainerLoop();

  JobManager* const jobs_;
  const instruments::ElectrodeTable* const table_;
  const ModelManagerConfig config_;

  absl::Mutex mu_;
  std::deque<std::string> pending_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread trainer_;

  absl::Mutex cache_mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const Loaded>> cache_ ABSL_GUARDED_BY(cache_mu_);
};

}  // namespace ionloop::orchestrator

#endif  // IONLOOP_ORCHESTRATOR_MODELS_MODEL_MANAGER_H_
