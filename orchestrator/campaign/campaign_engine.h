// The campaign engine (DESIGN.md §6.7): the loop that turns instruments and models into a
// materials-acceleration platform. It reacts to events — a campaign created or resumed, a
// job's start or end, a running test with enough early cycles — on one thread of its own
// (so campaign state needs no locks and no RPC ever waits for a model): it refits the
// surrogate, scores every candidate with the acquisition function, keeps a batch diverse,
// submits the picks as cycling jobs, and records each proposal with its reason.
//
// Durability: the campaign and its proposals live in the store. A proposal is stored
// before its job is submitted, and the job's idempotency key is "<campaign>/p<seq>", so a
// crash between the two resubmits the same job on restart: no proposal is lost or
// duplicated. Start() rebuilds every running campaign from the store (the surrogate is
// refitted: training is deterministic for a seed).
//
// Early stopping (Attia et al. 2020): for a campaign with early_stop, every running test
// whose first cycles are stored is scored by the early-cycle model; a confident
// prediction becomes the outcome (flagged as predicted) and the test is cancelled with
// reason "early_stop", freeing its channel.
#ifndef IONLOOP_ORCHESTRATOR_CAMPAIGN_CAMPAIGN_ENGINE_H_
#define IONLOOP_ORCHESTRATOR_CAMPAIGN_CAMPAIGN_ENGINE_H_

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "instruments/electrode_table.h"
#include "ionloop/v1/campaigns.pb.h"
#include "orchestrator/jobs/job_manager.h"
#include "orchestrator/models/model_manager.h"

namespace ionloop::orchestrator {

struct CampaignEngineConfig {
  // How often running tests are checked for early stopping (and budgets for wall time).
  absl::Duration poll_interval = absl::Milliseconds(500);
  int corpus_threads = 0;  // for a prior given as virtual:N
  int torch_threads = 0;
};

class CampaignEngine {
 public:
  // Does not take ownership; all must outlive the engine.
  CampaignEngine(JobManager* jobs, ModelManager* models, const instruments::ElectrodeTable* table,
                 CampaignEngineConfig config);
  ~CampaignEngine();  // Stop()

  // Starts the engine thread and resumes the campaigns the store holds as running.
  absl::Status Start();
  void Stop();

  absl::StatusOr<ionloop::v1::Campaign> Create(const ionloop::v1::CreateCampaignRequest& request);
  absl::StatusOr<ionloop::v1::Campaign> Get(const std::string& campaign_id);
  absl::StatusOr<ionloop::v1::ListCampaignsResponse> List();
  absl::StatusOr<ionloop::v1::Campaign> Pause(const std::string& campaign_id);
  absl::StatusOr<ionloop::v1::Campaign> Resume(const std::string& campaign_id);
  absl::StatusOr<ionloop::v1::Campaign> StopCampaign(const std::string& campaign_id);
  absl::StatusOr<ionloop::v1::GetProposalsResponse> Proposals(const std::string& campaign_id);

  // A watch: the campaign as stored, and `on_event` for every event from the moment of
  // subscription (one may repeat what the snapshot already shows), on the engine thread
  // (it must not block). Destroying the subscription unsubscribes. Never waits for the
  // engine thread.
  using EventCallback = std::function<void(const ionloop::v1::CampaignEvent&)>;
  class Subscription {
   public:
    ~Subscription();
   private:
    friend class CampaignEngine;
    Subscription(CampaignEngine* engine, uint64_t id) : engine_(engine), id_(id) {}
    CampaignEngine* engine_;
    uint64_t id_;
  };
  struct Watch {
    ionloop::v1::CampaignEvent snapshot;
    std::unique_ptr<Subscription> subscription;
  };
  absl::StatusOr<Watch> StartWatch(const std::string& campaign_id, EventCallback on_event);

  // From the job event bus: a job of some campaign changed state.
  void OnJobEvent(const ionloop::v1::JobEvent& event, const ionloop::v1::Job& job);

 private:
  struct Runtime;  // one campaign's in-memory state (engine thread only)

  // Runs `task` on the engine thread and waits for its result.
  template <typename T>
  absl::StatusOr<T> RunOnEngine(std::function<absl::StatusOr<T>()> task);
  void Post(std::function<void()> task);
  void Loop();

  // Engine-thread work.
  absl::Status Load(const ionloop::v1::Campaign& campaign);
  absl::Status PrepareModels(Runtime& rt);
  void Step(Runtime& rt);                    // results → refit → fill free slots → budget
  void HandleJob(Runtime& rt, const ionloop::v1::Job& job);
  void CheckEarlyStops(Runtime& rt);
  absl::Status Fill(Runtime& rt);
  void Refit(Runtime& rt);
  void UpdateSummary(Runtime& rt);
  absl::Status Save(Runtime& rt, const std::vector<int>& changed_proposals);
  void SetState(Runtime& rt, ionloop::v1::CampaignState state, const std::string& message);
  void Publish(const Runtime& rt, ionloop::v1::CampaignEventType type, const std::string& message,
               const ionloop::v1::Proposal* proposal = nullptr);
  absl::Status SubmitJob(Runtime& rt, int proposal);
  Runtime* Find(const std::string& campaign_id);

  JobManager* const jobs_;
  ModelManager* const models_;
  const instruments::ElectrodeTable* const table_;
  const CampaignEngineConfig config_;

  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;

  absl::Mutex watchers_mu_;
  uint64_t next_watcher_ ABSL_GUARDED_BY(watchers_mu_) = 1;
  std::map<uint64_t, std::pair<std::string, EventCallback>> watchers_ ABSL_GUARDED_BY(watchers_mu_);

  // Engine thread only.
  std::map<std::string, std::unique_ptr<Runtime>> campaigns_;
};

}  // namespace ionloop::orchestrator

#endif  // IONLOOP_ORCHESTRATOR_CAMPAIGN_CAMPAIGN_ENGINE_H_
