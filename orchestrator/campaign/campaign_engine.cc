#include "orchestrator/campaign/campaign_engine.h"

#include <algorithm>
#include <cmath>
#include <future>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/job_enums.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "instruments/cycler/proto/cycler_proto.h"
#include "models/campaign/campaign_science.h"
#include "models/data/capacity_series.h"
#include "models/dataset_loader.h"
#include "models/fade/fade_model.h"
#include "orchestrator/campaign/campaign_spec.h"
#include "orchestrator/models/store_corpus.h"
#include "spdlog/spdlog.h"

namespace ionloop::orchestrator {
namespace {

namespace v1 = ::ionloop::v1;
namespace mc = ::ionloop::models::campaign;
namespace cyc = ::ionloop::instruments::cycler;

// Discharge curves the early-cycle features read (ΔQ 10→100, Δ area 3→100).
constexpr uint32_t kCurveCycles[] = {3, 10, 100};
// Early-stop checks of a running test: at most once per this many new measurements.
constexpr uint64_t kEarlyStopCheckEvery = 20;

bool Pending(const v1::Proposal& p) {
  return p.state() == v1::PROPOSAL_STATE_PROPOSED || p.state() == v1::PROPOSAL_STATE_RUNNING;
}

bool HasOutcome(const v1::Proposal& p) {
  return p.state() == v1::PROPOSAL_STATE_FINISHED || p.state() == v1::PROPOSAL_STATE_EARLY_STOPPED;
}

// Cycles to the EOL criterion of the cleaned capacity series, or nullopt when the test
// ended above it.
std::optional<double> CycleLifeOf(const models::CellSeries& series) {
  if (series.cycles.size() < 2) return std::nullopt;
  absl::StatusOr<models::CellSeries> clean = models::CleanCapacitySeries(series);
  absl::StatusOr<double> reference = models::ReferenceCapacity(series);
  if (!clean.ok() || !reference.ok()) return std::nullopt;
  const double eol = series.config.eol_soh_percent > 0 ? series.config.eol_soh_percent : 80;
  absl::StatusOr<std::vector<models::SohPoint>> points = models::UndersampleToSohPercentiles(
      clean->cycles, clean->capacity_ah, *reference, eol, 1);
  if (!points.ok() || points->empty() || points->back().soh_percent > eol + 1e-9) {
    return std::nullopt;
  }
  return points->back().cycle;
}

}  // namespace

struct CampaignEngine::Runtime {
  v1::Campaign campaign;
  std::vector<v1::Proposal> proposals;
  std::vector<mc::Candidate> candidates;
  std::optional<mc::Surrogate> surrogate;
  bool surrogate_trained = false;
  std::shared_ptr<const models::FadeModel> fade;
  std::map<std::string, int> by_job;          // job id → proposal index
  std::map<int, uint64_t> checked_at;         // proposal → measurement count at last check
  bool models_ready = false;
};

// ---------------------------------------------------------------------------------------
// Threading

CampaignEngine::CampaignEngine(JobManager* jobs, ModelManager* models,
                               const instruments::ElectrodeTable* table,
                               CampaignEngineConfig config)
    : jobs_(jobs), models_(models), table_(table), config_(config) {}

CampaignEngine::~CampaignEngine() { Stop(); }

CampaignEngine::Subscription::~Subscription() {
  absl::MutexLock lock(&engine_->watchers_mu_);
  engine_->watchers_.erase(id_);
}

absl::Status CampaignEngine::Start() {
  ASSIGN_OR_RETURN(std::vector<v1::Campaign> all, jobs_->store()->ListCampaigns());
  {
    absl::MutexLock lock(&mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
  for (const v1::Campaign& c : all) {
    if (c.state() == v1::CAMPAIGN_STATE_RUNNING || c.state() == v1::CAMPAIGN_STATE_PAUSED) {
      Post([this, c] {
        absl::Status s = Load(c);
        if (!s.ok()) spdlog::error("campaign {}: cannot resume: {}", c.id(), s.ToString());
      });
    }
  }
  return absl::OkStatus();
}

void CampaignEngine::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void CampaignEngine::Post(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  tasks_.push_back(std::move(task));
}

template <typename T>
absl::StatusOr<T> CampaignEngine::RunOnEngine(std::function<absl::StatusOr<T>()> task) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<T>>>();
  std::future<absl::StatusOr<T>> result = promise->get_future();
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::UnavailableError("ionloopd is shutting down");
    tasks_.push_back([promise, task = std::move(task)] { promise->set_value(task()); });
  }
  return result.get();
}

void CampaignEngine::Loop() {
  while (true) {
    std::deque<std::function<void()>> batch;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(
                               +[](CampaignEngine* e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(e->mu_) {
                                 return e->stopping_ || !e->tasks_.empty();
                               },
                               this),
                           config_.poll_interval);
      if (stopping_) {
        // Answer waiting callers rather than leave them blocked.
        batch.swap(tasks_);
        for (auto& t : batch) t();
        return;
      }
      batch.swap(tasks_);
    }
    for (auto& task : batch) task();
    // The periodic part: early stops and wall-time budgets.
    for (auto& [id, rt] : campaigns_) {
      if (rt->campaign.state() != v1::CAMPAIGN_STATE_RUNNING &&
          rt->campaign.state() != v1::CAMPAIGN_STATE_PAUSED) {
        continue;
      }
      CheckEarlyStops(*rt);
      if (rt->campaign.spec().budget().wall_time_s() > 0) Step(*rt);
    }
  }
}

// ---------------------------------------------------------------------------------------
// The API

absl::StatusOr<v1::Campaign> CampaignEngine::Create(const v1::CreateCampaignRequest& request) {
  if (!request.has_spec()) return absl::InvalidArgumentError("spec: missing");
  const v1::CampaignSpec& spec = request.spec();
  RETURN_IF_ERROR(ValidateCampaignSpec(spec));
  if (request.idempotency_key().size() > 256) {
    return absl::InvalidArgumentError(absl::StrCat(
        "idempotency_key: at most 256 bytes, got ", request.idempotency_key().size()));
  }
  // Enumerate here, on the caller's thread, so a space with no valid cell is refused now.
  const uint32_t max_candidates =
      spec.search_space().max_candidates() > 0 ? spec.search_space().max_candidates() : 100'000;
  absl::StatusOr<std::vector<mc::Candidate>> candidates = mc::EnumerateCandidates(
      SearchSpaceOf(spec.search_space()), *table_, static_cast<int>(max_candidates),
      AcquisitionOf(spec).seed);
  if (!candidates.ok()) {
    return absl::Status(candidates.status().code(),
                        absl::StrCat("spec.", candidates.status().message()));
  }
  size_t allowed = 0;
  for (const mc::Candidate& c : *candidates) {
    allowed += spec.constraints().max_charge_time_h() == 0 ||
               c.charge_time_h <= spec.constraints().max_charge_time_h();
  }
  if (allowed == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "spec.search_space: no candidate cell is valid", candidates->empty() ? "" :
        " within spec.constraints.max_charge_time_h"));
  }
  if (spec.early_stop().enabled()) {
    RETURN_IF_ERROR(
        models_->FadeModelFor(spec.early_stop().fade_model(), "spec.early_stop.fade_model").status());
  }
  v1::Campaign campaign;
  *campaign.mutable_spec() = spec;
  campaign.set_state(v1::CAMPAIGN_STATE_RUNNING);
  campaign.set_message("starting");
  campaign.set_candidates(static_cast<uint32_t>(allowed));
  ASSIGN_OR_RETURN(Store::InsertCampaignResult inserted,
                   jobs_->store()->InsertCampaign(campaign, request.idempotency_key(),
                                                  jobs_->clock()->Now()));
  if (inserted.created) {
    const v1::Campaign created = inserted.campaign;
    Post([this, created] {
      absl::Status s = Load(created);
      if (!s.ok()) spdlog::error("campaign {}: {}", created.id(), s.ToString());
    });
  }
  return inserted.campaign;
}

absl::StatusOr<v1::Campaign> CampaignEngine::Get(const std::string& campaign_id) {
  return jobs_->store()->GetCampaign(campaign_id);
}

absl::StatusOr<v1::ListCampaignsResponse> CampaignEngine::List() {
  ASSIGN_OR_RETURN(std::vector<v1::Campaign> all, jobs_->store()->ListCampaigns());
  v1::ListCampaignsResponse response;
  for (v1::Campaign& c : all) *response.add_campaigns() = std::move(c);
  return response;
}

absl::StatusOr<v1::GetProposalsResponse> CampaignEngine::Proposals(const std::string& campaign_id) {
  RETURN_IF_ERROR(jobs_->store()->GetCampaign(campaign_id).status());
  ASSIGN_OR_RETURN(std::vector<v1::Proposal> all, jobs_->store()->ListProposals(campaign_id));
  v1::GetProposalsResponse response;
  for (v1::Proposal& p : all) *response.add_proposals() = std::move(p);
  return response;
}

absl::StatusOr<v1::Campaign> CampaignEngine::Pause(const std::string& campaign_id) {
  RETURN_IF_ERROR(jobs_->store()->GetCampaign(campaign_id).status());
  return RunOnEngine<v1::Campaign>([this, campaign_id]() -> absl::StatusOr<v1::Campaign> {
    Runtime* rt = Find(campaign_id);
    if (rt == nullptr || rt->campaign.state() != v1::CAMPAIGN_STATE_RUNNING) {
      return absl::FailedPreconditionError(absl::StrCat(
          campaign_id, ": only a RUNNING campaign can be paused, it is ",
          rt ? v1::CampaignState_Name(rt->campaign.state())
             : "not loaded (finished, or its resume failed)"));
    }
    SetState(*rt, v1::CAMPAIGN_STATE_PAUSED, "paused: running tests go on, nothing new is proposed");
    return rt->campaign;
  });
}

absl::StatusOr<v1::Campaign> CampaignEngine::Resume(const std::string& campaign_id) {
  RETURN_IF_ERROR(jobs_->store()->GetCampaign(campaign_id).status());
  return RunOnEngine<v1::Campaign>([this, campaign_id]() -> absl::StatusOr<v1::Campaign> {
    Runtime* rt = Find(campaign_id);
    if (rt == nullptr || rt->campaign.state() != v1::CAMPAIGN_STATE_PAUSED) {
      return absl::FailedPreconditionError(absl::StrCat(
          campaign_id, ": only a PAUSED campaign can be resumed, it is ",
          rt ? v1::CampaignState_Name(rt->campaign.state()) : "finished"));
    }
    SetState(*rt, v1::CAMPAIGN_STATE_RUNNING, "resumed");
    Step(*rt);
    return rt->campaign;
  });
}

absl::StatusOr<v1::Campaign> CampaignEngine::StopCampaign(const std::string& campaign_id) {
  RETURN_IF_ERROR(jobs_->store()->GetCampaign(campaign_id).status());
  return RunOnEngine<v1::Campaign>([this, campaign_id]() -> absl::StatusOr<v1::Campaign> {
    Runtime* rt = Find(campaign_id);
    if (rt == nullptr || (rt->campaign.state() != v1::CAMPAIGN_STATE_RUNNING &&
                          rt->campaign.state() != v1::CAMPAIGN_STATE_PAUSED)) {
      return absl::FailedPreconditionError(
          absl::StrCat(campaign_id, ": the campaign has already ended"));
    }
    for (const v1::Proposal& p : rt->proposals) {
      if (!Pending(p) || p.job_id().empty()) continue;
      v1::CancelJobRequest cancel;
      cancel.set_job_id(p.job_id());
      cancel.set_reason("campaign stopped");
      jobs_->Cancel(cancel).IgnoreError();  // a test that just finished keeps its result
    }
    SetState(*rt, v1::CAMPAIGN_STATE_STOPPED, "stopped by a user; running tests cancelled");
    return rt->campaign;
  });
}

absl::StatusOr<CampaignEngine::Watch> CampaignEngine::StartWatch(const std::string& campaign_id,
                                                                 EventCallback on_event) {
  RETURN_IF_ERROR(jobs_->store()->GetCampaign(campaign_id).status());
  // Subscribe first, then read the snapshot: an event in between reaches the watcher too
  // (each event carries the campaign after it, so a repeat is harmless; a loss is not).
  // Nothing here waits for the engine thread, which may be busy pre-training a surrogate.
  Watch watch;
  {
    absl::MutexLock lock(&watchers_mu_);
    const uint64_t id = next_watcher_++;
    watchers_.emplace(id, std::make_pair(campaign_id, std::move(on_event)));
    watch.subscription.reset(new Subscription(this, id));
  }
  ASSIGN_OR_RETURN(v1::Campaign campaign, jobs_->store()->GetCampaign(campaign_id));
  watch.snapshot.set_type(v1::CAMPAIGN_EVENT_TYPE_SNAPSHOT);
  *watch.snapshot.mutable_campaign() = std::move(campaign);
  *watch.snapshot.mutable_at() = ToProtoTime(jobs_->clock()->Now());
  return watch;
}

void CampaignEngine::OnJobEvent(const v1::JobEvent& event, const v1::Job& job) {
  if (job.spec().campaign_id().empty() || event.type() != v1::JOB_EVENT_TYPE_STATE_CHANGED) return;
  if (job.state() != v1::JOB_STATE_RUNNING && !IsTerminal(job.state())) return;
  Post([this, job] {
    Runtime* rt = Find(job.spec().campaign_id());
    if (rt != nullptr) HandleJob(*rt, job);
  });
}

// ---------------------------------------------------------------------------------------
// Engine thread

CampaignEngine::Runtime* CampaignEngine::Find(const std::string& campaign_id) {
  auto it = campaigns_.find(campaign_id);
  return it == campaigns_.end() ? nullptr : it->second.get();
}

absl::Status CampaignEngine::Load(const v1::Campaign& campaign) {
  auto rt = std::make_unique<Runtime>();
  rt->campaign = campaign;
  const v1::CampaignSpec& spec = campaign.spec();
  const uint32_t max_candidates =
      spec.search_space().max_candidates() > 0 ? spec.search_space().max_candidates() : 100'000;
  ASSIGN_OR_RETURN(std::vector<mc::Candidate> all,
                   mc::EnumerateCandidates(SearchSpaceOf(spec.search_space()), *table_,
                                           static_cast<int>(max_candidates),
                                           AcquisitionOf(spec).seed));
  // The constraint drops candidates; indexes stay those of the enumeration.
  for (mc::Candidate& c : all) {
    if (spec.constraints().max_charge_time_h() == 0 ||
        c.charge_time_h <= spec.constraints().max_charge_time_h()) {
      rt->candidates.push_back(std::move(c));
    }
  }
  ASSIGN_OR_RETURN(rt->proposals, jobs_->store()->ListProposals(campaign.id()));
  for (size_t i = 0; i < rt->proposals.size(); ++i) {
    if (!rt->proposals[i].job_id().empty()) rt->by_job[rt->proposals[i].job_id()] = static_cast<int>(i);
  }
  Runtime& r = *rt;
  campaigns_[campaign.id()] = std::move(rt);

  absl::Status models = PrepareModels(r);
  if (!models.ok()) {
    SetState(r, v1::CAMPAIGN_STATE_FAILED, std::string(models.message()));
    return models;
  }
  // A crash may have come between storing a proposal and submitting its job, or a test
  // may have ended while ionloopd was down: catch up.
  for (size_t i = 0; i < r.proposals.size(); ++i) {
    v1::Proposal& p = r.proposals[i];
    if (!Pending(p) && p.state() != v1::PROPOSAL_STATE_EARLY_STOPPED) continue;
    if (p.job_id().empty()) {
      RETURN_IF_ERROR(SubmitJob(r, static_cast<int>(i)));
      continue;
    }
    absl::StatusOr<v1::Job> job = jobs_->store()->GetJob(p.job_id());
    if (!job.ok()) continue;
    if (p.state() == v1::PROPOSAL_STATE_EARLY_STOPPED && !IsTerminal(job->state()) &&
        !job->cancel_requested()) {
      // The crash came between recording the prediction and cancelling the test.
      v1::CancelJobRequest cancel;
      cancel.set_job_id(p.job_id());
      cancel.set_reason("early_stop");
      jobs_->Cancel(cancel).IgnoreError();
    }
    if (job->state() == v1::JOB_STATE_RUNNING || IsTerminal(job->state())) HandleJob(r, *job);
  }
  Refit(r);
  if (r.campaign.message() == "starting") r.campaign.set_message("running");
  Step(r);
  return absl::OkStatus();
}

absl::Status CampaignEngine::PrepareModels(Runtime& rt) {
  const v1::CampaignSpec& spec = rt.campaign.spec();
  const mc::Policy policy = AcquisitionOf(spec).policy;
  if (policy != mc::Policy::kRandom && policy != mc::Policy::kGrid) {
    models::TrainingSettings settings = mc::DefaultSurrogateSettings();
    settings.seed = AcquisitionOf(spec).seed;
    settings.threads = config_.torch_threads;
    ASSIGN_OR_RETURN(mc::Surrogate surrogate, mc::Surrogate::Create(*table_, settings));
    rt.surrogate.emplace(std::move(surrogate));
    if (spec.prior().has_data()) {
      std::vector<models::CellSeries> prior;
      const v1::DatasetSource& data = spec.prior().data();
      if (data.has_store()) {
        ASSIGN_OR_RETURN(StoreCorpus corpus, ReadStoreCorpus(jobs_->store(), data.store()));
        prior = std::move(corpus.cells);
      } else {
        absl::StatusOr<std::vector<models::CellSeries>> read =
            models::LoadDataset(data.folder(), *table_, config_.corpus_threads);
        if (!read.ok()) {
          return absl::Status(read.status().code(),
                              absl::StrCat("spec.prior.data.folder: ", read.status().message()));
        }
        prior = *std::move(read);
      }
      absl::Status pretrained = rt.surrogate->Pretrain(prior);
      if (!pretrained.ok()) {
        return absl::Status(pretrained.code(),
                            absl::StrCat("spec.prior: ", pretrained.message()));
      }
      rt.surrogate_trained = true;
      rt.campaign.set_model_version(static_cast<uint32_t>(rt.surrogate->version()));
      Publish(rt, v1::CAMPAIGN_EVENT_TYPE_MODEL_UPDATED,
              absl::StrCat("pre-trained on ", prior.size(), " prior cells"));
    }
  }
  if (spec.early_stop().enabled()) {
    ASSIGN_OR_RETURN(rt.fade, models_->FadeModelFor(spec.early_stop().fade_model(),
                                                    "spec.early_stop.fade_model"));
  }
  rt.models_ready = true;
  return absl::OkStatus();
}

void CampaignEngine::Step(Runtime& rt) {
  if (rt.campaign.state() == v1::CAMPAIGN_STATE_RUNNING) {
    absl::Status filled = Fill(rt);
    if (!filled.ok()) {
      spdlog::error("campaign {}: {}", rt.campaign.id(), filled.ToString());
      SetState(rt, v1::CAMPAIGN_STATE_FAILED, std::string(filled.message()));
      return;
    }
  }
  UpdateSummary(rt);
  const v1::CampaignBudget& b = rt.campaign.spec().budget();
  const double wall_s =
      absl::ToDoubleSeconds(jobs_->clock()->Now() - FromProtoTime(rt.campaign.created_at()));
  const bool spent =
      (b.experiments() > 0 && rt.proposals.size() >= b.experiments()) ||
      (b.channel_hours() > 0 && rt.campaign.channel_hours() >= b.channel_hours()) ||
      (b.wall_time_s() > 0 && wall_s >= b.wall_time_s()) ||
      rt.proposals.size() >= rt.candidates.size();
  const bool running = std::any_of(rt.proposals.begin(), rt.proposals.end(), Pending);
  if (rt.campaign.state() == v1::CAMPAIGN_STATE_RUNNING && spent && !running) {
    SetState(rt, v1::CAMPAIGN_STATE_COMPLETED,
             absl::StrFormat("budget used: %d experiments, %.1f channel-hours; best %.0f cycles (%s)",
                             rt.proposals.size(), rt.campaign.channel_hours(),
                             rt.campaign.best_cycle_life(), rt.campaign.best_label()));
  } else {
    Save(rt, {}).IgnoreError();
  }
}

absl::Status CampaignEngine::Fill(Runtime& rt) {
  const v1::CampaignSpec& spec = rt.campaign.spec();
  const int parallel = static_cast<int>(ParallelOf(spec));
  int running = 0;
  for (const v1::Proposal& p : rt.proposals) running += Pending(p);
  int free = spec.policy().batched() ? (running == 0 ? parallel : 0) : parallel - running;
  const v1::CampaignBudget& b = spec.budget();
  if (b.experiments() > 0) {
    free = std::min<int>(free, static_cast<int>(b.experiments()) - static_cast<int>(rt.proposals.size()));
  }
  if (b.channel_hours() > 0 && rt.campaign.channel_hours() >= b.channel_hours()) free = 0;
  if (b.wall_time_s() > 0 &&
      absl::ToDoubleSeconds(jobs_->clock()->Now() - FromProtoTime(rt.campaign.created_at())) >=
          b.wall_time_s()) {
    free = 0;
  }
  free = std::min<int>(free, static_cast<int>(rt.candidates.size() - rt.proposals.size()));
  if (free <= 0) return absl::OkStatus();

  std::vector<mc::Observation> observed;
  std::vector<int> pending;
  for (const v1::Proposal& p : rt.proposals) {
    if (HasOutcome(p)) {
      observed.push_back({static_cast<int>(p.candidate_index()), p.outcome_cycles(),
                          p.outcome_predicted()});
    } else if (Pending(p) || p.state() == v1::PROPOSAL_STATE_FAILED) {
      pending.push_back(static_cast<int>(p.candidate_index()));  // never propose twice
    }
  }
  mc::AcquisitionOptions options = AcquisitionOf(spec);
  options.seed += rt.proposals.size();  // a fresh random stream per batch, reproducible
  const uint32_t initial_random = spec.policy().initial_random() > 0 ? spec.policy().initial_random()
                                  : spec.prior().has_data()          ? 0
                                                                     : ParallelOf(spec);
  std::optional<mc::Surrogate::Prediction> prediction;
  if (rt.surrogate && rt.surrogate_trained) {
    ASSIGN_OR_RETURN(prediction, rt.surrogate->Predict(rt.candidates));
  }
  const bool model_driven = options.policy != mc::Policy::kRandom &&
                            options.policy != mc::Policy::kGrid && prediction.has_value() &&
                            rt.proposals.size() >= initial_random;
  std::string policy_name(mc::PolicyName(options.policy));
  if (!model_driven && options.policy != mc::Policy::kGrid) {
    if (options.policy != mc::Policy::kRandom) policy_name = "random (initial design)";
    options.policy = mc::Policy::kRandom;
  }
  // Candidates are addressed by enumeration index; SelectBatch by position.
  std::map<int, int> position;
  for (size_t i = 0; i < rt.candidates.size(); ++i) position[rt.candidates[i].index] = static_cast<int>(i);
  for (mc::Observation& o : observed) o.candidate = position[o.candidate];
  for (int& p : pending) p = position[p];
  ASSIGN_OR_RETURN(std::vector<mc::Pick> picks,
                   mc::SelectBatch(rt.candidates, model_driven ? &*prediction : nullptr, observed,
                                   pending, free, options));
  const uint32_t batch = rt.proposals.empty() ? 1 : rt.proposals.back().reason().batch() + 1;
  std::vector<int> added;
  for (const mc::Pick& pick : picks) {
    const mc::Candidate& c = rt.candidates[pick.candidate];
    v1::Proposal& p = rt.proposals.emplace_back();
    p.set_seq(static_cast<uint32_t>(rt.proposals.size()));
    p.set_id(absl::StrCat(rt.campaign.id(), "/p", p.seq()));
    p.set_campaign_id(rt.campaign.id());
    p.set_candidate_index(static_cast<uint32_t>(c.index));
    p.set_candidate_label(c.label);
    *p.mutable_cell() = cyc::CellConfigToProto(c.config);
    p.set_charge_time_h(c.charge_time_h);
    p.set_state(v1::PROPOSAL_STATE_PROPOSED);
    *p.mutable_proposed_at() = ToProtoTime(jobs_->clock()->Now());
    v1::ProposalReason* r = p.mutable_reason();
    r->set_policy(policy_name);
    r->set_rank(static_cast<uint32_t>(pick.rank));
    r->set_batch(batch);
    r->set_acquisition(pick.acquisition);
    if (prediction.has_value()) {
      const double mean = prediction->mean_log10[pick.candidate];
      const double sd = prediction->stddev_log10[pick.candidate];
      r->set_model_version(static_cast<uint32_t>(rt.surrogate->version()));
      r->set_predicted_cycles(std::pow(10.0, mean));
      r->set_predicted_stddev_cycles(0.5 * (std::pow(10.0, mean + sd) - std::pow(10.0, mean - sd)));
    }
    added.push_back(static_cast<int>(rt.proposals.size() - 1));
  }
  // Stored before the jobs exist: a crash in between resubmits them (same keys).
  UpdateSummary(rt);
  RETURN_IF_ERROR(Save(rt, added));
  for (int i : added) {
    RETURN_IF_ERROR(SubmitJob(rt, i));
    Publish(rt, v1::CAMPAIGN_EVENT_TYPE_PROPOSED,
            absl::StrFormat("proposed %s (%s)", rt.proposals[i].candidate_label(), policy_name),
            &rt.proposals[i]);
  }
  return Save(rt, added);
}

absl::Status CampaignEngine::SubmitJob(Runtime& rt, int index) {
  v1::Proposal& p = rt.proposals[index];
  const v1::CampaignSpec& spec = rt.campaign.spec();
  v1::SubmitJobRequest request;
  v1::JobSpec& job = *request.mutable_spec();
  v1::CyclingJob& cycling = *job.mutable_cycling();
  *cycling.mutable_cell() = p.cell();
  cycling.set_max_cycles(MaxCyclesOf(spec));
  for (uint32_t c : kCurveCycles) {
    if (c <= cycling.max_cycles()) cycling.add_voltage_curve_cycles(c);
  }
  job.set_campaign_id(rt.campaign.id());
  *job.mutable_labels() = spec.labels();
  (*job.mutable_labels())["proposal"] = absl::StrCat("p", p.seq());
  request.set_idempotency_key(p.id());
  ASSIGN_OR_RETURN(v1::SubmitJobResponse submitted, jobs_->Submit(request));
  p.set_job_id(submitted.job().id());
  rt.by_job[p.job_id()] = index;
  return absl::OkStatus();
}

void CampaignEngine::HandleJob(Runtime& rt, const v1::Job& job) {
  auto it = rt.by_job.find(job.id());
  if (it == rt.by_job.end()) return;
  const int index = it->second;
  v1::Proposal& p = rt.proposals[index];
  if (job.state() == v1::JOB_STATE_RUNNING) {
    if (p.state() != v1::PROPOSAL_STATE_PROPOSED) return;
    p.set_state(v1::PROPOSAL_STATE_RUNNING);
    UpdateSummary(rt);
    Save(rt, {index}).IgnoreError();
    Publish(rt, v1::CAMPAIGN_EVENT_TYPE_STARTED,
            absl::StrCat("started ", p.candidate_label(), " as ", job.id()), &p);
    return;
  }
  if (!IsTerminal(job.state()) || p.cycles_run() > 0 || p.state() == v1::PROPOSAL_STATE_FAILED ||
      p.state() == v1::PROPOSAL_STATE_FINISHED) {
    return;  // not ended, or already accounted for
  }
  absl::StatusOr<JobData> data = ReadJobData(jobs_->store(), job.id());
  if (data.ok()) {
    p.set_cycles_run(static_cast<uint32_t>(data->series.cycles.empty() ? 0 : data->series.cycles.back()));
    p.set_channel_hours(data->elapsed_s / 3600);
  }
  std::string message;
  if (p.state() == v1::PROPOSAL_STATE_EARLY_STOPPED) {
    message = absl::StrFormat("%s stopped early at cycle %d: predicted %.0f cycles",
                              p.candidate_label(), p.cycles_run(), p.outcome_cycles());
  } else if (job.state() == v1::JOB_STATE_SUCCEEDED && data.ok()) {
    std::optional<double> life = CycleLifeOf(data->series);
    // A test that ended before its cycle cap was ended by the cycler at end of life, even
    // when the smoothed measured series stops just above the criterion.
    if (!life.has_value() && p.cycles_run() < MaxCyclesOf(rt.campaign.spec())) {
      life = p.cycles_run();
    }
    p.set_state(v1::PROPOSAL_STATE_FINISHED);
    p.set_outcome_cycles(life.value_or(p.cycles_run()));
    p.set_outcome_censored(!life.has_value());
    message = absl::StrFormat("%s: %.0f cycles%s", p.candidate_label(), p.outcome_cycles(),
                              life ? "" : " (still above EOL at the cycle cap)");
  } else {
    p.set_state(v1::PROPOSAL_STATE_FAILED);
    message = absl::StrCat(p.candidate_label(), ": its test ended ",
                           v1::JobState_Name(job.state()), ": ", job.message());
  }
  Refit(rt);
  UpdateSummary(rt);
  Save(rt, {index}).IgnoreError();
  Publish(rt, v1::CAMPAIGN_EVENT_TYPE_RESULT, message, &p);
  Step(rt);
}

void CampaignEngine::CheckEarlyStops(Runtime& rt) {
  if (rt.fade == nullptr || !rt.campaign.spec().early_stop().enabled()) return;
  const int late = rt.fade->late_cycle();
  mc::EarlyStopRule rule;
  rule.enabled = true;
  rule.min_cycles = late;
  if (rt.campaign.spec().early_stop().max_relative_interval() > 0) {
    rule.max_relative_interval = rt.campaign.spec().early_stop().max_relative_interval();
  }
  for (size_t i = 0; i < rt.proposals.size(); ++i) {
    v1::Proposal& p = rt.proposals[i];
    if (p.state() != v1::PROPOSAL_STATE_RUNNING) continue;
    absl::StatusOr<v1::Job> job = jobs_->store()->GetJob(p.job_id());
    if (!job.ok() || job->state() != v1::JOB_STATE_RUNNING || job->cancel_requested()) continue;
    const uint64_t count = job->measurement_count();
    uint64_t& checked = rt.checked_at[static_cast<int>(i)];
    if (count < static_cast<uint64_t>(late) || count < checked + kEarlyStopCheckEvery) continue;
    checked = count;
    absl::StatusOr<JobData> data = ReadJobData(jobs_->store(), p.job_id());
    if (!data.ok() || data->series.cycles.empty() || data->series.cycles.back() < late) continue;
    absl::StatusOr<models::FadeForecast> forecast = rt.fade->Predict(data->series, {});
    if (!forecast.ok()) continue;
    const int done = static_cast<int>(data->series.cycles.back());
    if (!mc::ShouldStopEarly(rule, done, *forecast)) continue;
    p.set_state(v1::PROPOSAL_STATE_EARLY_STOPPED);
    p.set_outcome_cycles(forecast->eol_cycles_mean);
    p.set_outcome_stddev_cycles(forecast->eol_cycles_stddev);
    p.set_outcome_predicted(true);
    // The proposal is stored before the cancel: a restart keeps the prediction.
    UpdateSummary(rt);
    Save(rt, {static_cast<int>(i)}).IgnoreError();
    v1::CancelJobRequest cancel;
    cancel.set_job_id(p.job_id());
    cancel.set_reason("early_stop");
    jobs_->Cancel(cancel).IgnoreError();
    Refit(rt);
    Step(rt);
  }
}

void CampaignEngine::Refit(Runtime& rt) {
  if (!rt.surrogate) return;
  std::vector<mc::Observation> observed;
  std::map<int, int> position;
  for (size_t i = 0; i < rt.candidates.size(); ++i) position[rt.candidates[i].index] = static_cast<int>(i);
  for (const v1::Proposal& p : rt.proposals) {
    if (!HasOutcome(p)) continue;
    auto it = position.find(static_cast<int>(p.candidate_index()));
    if (it == position.end()) continue;
    observed.push_back({it->second, p.outcome_cycles(), p.outcome_predicted()});
  }
  if (observed.empty()) return;
  absl::Status fitted = rt.surrogate->Fit(rt.candidates, observed);
  if (!fitted.ok()) {
    spdlog::warn("campaign {}: refit failed: {}", rt.campaign.id(), fitted.ToString());
    return;
  }
  rt.surrogate_trained = true;
  rt.campaign.set_model_version(static_cast<uint32_t>(rt.surrogate->version()));
  Publish(rt, v1::CAMPAIGN_EVENT_TYPE_MODEL_UPDATED,
          absl::StrCat("model v", rt.surrogate->version(), " fitted on ", observed.size(),
                       " results"));
}

void CampaignEngine::UpdateSummary(Runtime& rt) {
  v1::Campaign& c = rt.campaign;
  uint32_t running = 0, finished = 0, stopped = 0;
  double hours = 0, best = 0;
  std::vector<double> ape;
  for (const v1::Proposal& p : rt.proposals) {
    running += Pending(p);
    finished += p.state() == v1::PROPOSAL_STATE_FINISHED;
    stopped += p.state() == v1::PROPOSAL_STATE_EARLY_STOPPED;
    hours += p.channel_hours();
    if (HasOutcome(p) && p.outcome_cycles() > best) {
      best = p.outcome_cycles();
      c.set_best_proposal_id(p.id());
      c.set_best_label(p.candidate_label());
    }
    if (p.state() == v1::PROPOSAL_STATE_FINISHED && !p.outcome_censored() &&
        p.reason().model_version() > 0 && p.outcome_cycles() > 0) {
      ape.push_back(std::abs(p.reason().predicted_cycles() - p.outcome_cycles()) / p.outcome_cycles());
    }
  }
  c.set_proposed(static_cast<uint32_t>(rt.proposals.size()));
  c.set_running(running);
  c.set_finished(finished);
  c.set_early_stopped(stopped);
  c.set_channel_hours(hours);
  c.set_best_cycle_life(best);
  if (!ape.empty()) {
    std::nth_element(ape.begin(), ape.begin() + ape.size() / 2, ape.end());
    c.set_model_error_percent(100 * ape[ape.size() / 2]);
  }
}

absl::Status CampaignEngine::Save(Runtime& rt, const std::vector<int>& changed) {
  *rt.campaign.mutable_updated_at() = ToProtoTime(jobs_->clock()->Now());
  std::vector<v1::Proposal> proposals;
  for (int i : changed) proposals.push_back(rt.proposals[i]);
  return jobs_->store()->SaveCampaign(rt.campaign, proposals);
}

void CampaignEngine::SetState(Runtime& rt, v1::CampaignState state, const std::string& message) {
  rt.campaign.set_state(state);
  rt.campaign.set_message(message);
  UpdateSummary(rt);
  Save(rt, {}).IgnoreError();
  Publish(rt, v1::CAMPAIGN_EVENT_TYPE_STATE_CHANGED, message);
}

void CampaignEngine::Publish(const Runtime& rt, v1::CampaignEventType type,
                             const std::string& message, const v1::Proposal* proposal) {
  v1::CampaignEvent event;
  event.set_type(type);
  *event.mutable_campaign() = rt.campaign;
  if (proposal != nullptr) *event.mutable_proposal() = *proposal;
  event.set_message(message);
  *event.mutable_at() = ToProtoTime(jobs_->clock()->Now());
  std::vector<EventCallback> callbacks;
  {
    absl::MutexLock lock(&watchers_mu_);
    for (const auto& [id, watcher] : watchers_) {
      if (watcher.first == rt.campaign.id()) callbacks.push_back(watcher.second);
    }
  }
  for (const EventCallback& cb : callbacks) cb(event);
}

}  // namespace ionloop::orchestrator
