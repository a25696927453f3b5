#include "orchestrator/models/model_manager.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/job_enums.h"
#include "common/model_ref.h"
#include "common/status_macros.h"
#include "instruments/cycler/proto/cycler_proto.h"
#include "models/dataset_loader.h"
#include "models/fade/fade_model.h"
#include "models/lifetime/lifetime_model.h"
#include "orchestrator/jobs/job_validation.h"
#include "orchestrator/models/store_corpus.h"
#include "spdlog/spdlog.h"

namespace ionloop::orchestrator {
namespace {

namespace v1 = ::ionloop::v1;
namespace cyc = ::ionloop::instruments::cycler;

// The worker id training jobs carry while ionloopd runs them.
constexpr char kTrainerId[] = "ionloopd-trainer";
constexpr int kMaxPredictCells = 100'000;
constexpr int kMaxSohLevels = 1000;

models::TrainingSettings SettingsOf(const v1::TrainingOptions& o, int torch_threads) {
  models::TrainingSettings s;
  if (o.ensemble_members() > 0) s.members = static_cast<int>(o.ensemble_members());
  if (o.hidden_units_size() > 0) s.hidden.assign(o.hidden_units().begin(), o.hidden_units().end());
  if (o.max_epochs() > 0) s.max_epochs = static_cast<int>(o.max_epochs());
  if (o.learning_rate() > 0) s.learning_rate = o.learning_rate();
  if (o.validation_fraction() > 0) s.validation_fraction = o.validation_fraction();
  if (o.patience() > 0) s.patience = static_cast<int>(o.patience());
  if (o.seed() > 0) s.seed = o.seed();
  s.threads = torch_threads;
  return s;
}

v1::ModelMetrics MetricsOf(const models::ModelReport& r) {
  v1::ModelMetrics m;
  m.set_validation_cells(static_cast<uint32_t>(r.validation_cells));
  m.set_rmse_cycles(r.rmse_cycles);
  m.set_mape_percent(r.mape_percent);
  m.set_coverage_68(r.coverage_68);
  m.set_coverage_95(r.coverage_95);
  m.set_training_seconds(r.training_seconds);
  return m;
}

v1::TrainingDataSummary SummaryOf(const std::vector<models::CellSeries>& cells,
                                  const std::string& source, int rows) {
  v1::TrainingDataSummary s;
  s.set_source(source);
  s.set_cells(static_cast<uint32_t>(cells.size()));
  s.set_rows(static_cast<uint32_t>(rows));
  double lo = INFINITY, hi = -INFINITY;
  for (const models::CellSeries& c : cells) {
    const std::string ion(instruments::IonSymbol(c.config.ion));
    (*s.mutable_cells_per_ion())[ion] += 1;
    if (c.has_cycle_life()) {
      lo = std::min(lo, c.cycle_life);
      hi = std::max(hi, c.cycle_life);
    }
  }
  if (std::isfinite(lo)) {
    s.set_min_cycle_life(lo);
    s.set_max_cycle_life(hi);
  }
  return s;
}

TransitionDetails Because(std::string message) {
  TransitionDetails details;
  details.message = std::move(message);
  return details;
}

}  // namespace

// A deserialized model version: exactly one of the two is set.
struct ModelManager::Loaded {
  v1::Model info;
  std::optional<models::LifetimeModel> lifetime;
  std::optional<models::FadeModel> fade;
};

ModelManager::ModelManager(JobManager* jobs, const instruments::ElectrodeTable* table,
                           ModelManagerConfig config)
    : jobs_(jobs), table_(table), config_(config) {}

ModelManager::~ModelManager() { Stop(); }

absl::Status ModelManager::Start() {
  // Jobs an earlier ionloopd queued or was running: run them (again).
  JobFilter filter;
  filter.kind = v1::JOB_KIND_TRAINING;
  filter.states = {v1::JOB_STATE_QUEUED, v1::JOB_STATE_ASSIGNED, v1::JOB_STATE_RUNNING};
  std::vector<std::string> unfinished;
  std::string token;
  do {
    ASSIGN_OR_RETURN(JobPage page, jobs_->store()->ListJobs(filter, 500, token));
    for (const v1::Job& job : page.jobs) unfinished.push_back(job.id());
    token = std::move(page.next_page_token);
  } while (!token.empty());
  std::reverse(unfinished.begin(), unfinished.end());  // oldest first
  {
    absl::MutexLock lock(&mu_);
    stopping_ = false;
    for (std::string& id : unfinished) pending_.push_back(std::move(id));
  }
  trainer_ = std::thread([this] { TrainerLoop(); });
  return absl::OkStatus();
}

void ModelManager::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (trainer_.joinable()) trainer_.join();
}

void ModelManager::OnTrainingQueued(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  pending_.push_back(job_id);
}

void ModelManager::TrainerLoop() {
  while (true) {
    std::string job_id;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](ModelManager* m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(m->mu_) {
            return m->stopping_ || !m->pending_.empty();
          },
          this));
      if (stopping_) return;
      job_id = std::move(pending_.front());
      pending_.pop_front();
    }
    absl::StatusOr<v1::Job> ended = RunTrainingJob(job_id);
    if (!ended.ok()) spdlog::warn("training job {}: {}", job_id, ended.status().ToString());
  }
}

absl::StatusOr<v1::Job> ModelManager::Train(const v1::TrainRequest& request) {
  if (!request.has_training()) {
    return absl::InvalidArgumentError("training: missing");
  }
  v1::SubmitJobRequest submit;
  *submit.mutable_spec()->mutable_training() = request.training();
  submit.set_idempotency_key(request.idempotency_key());
  // The job's creation event reaches OnTrainingQueued through the event bus.
  ASSIGN_OR_RETURN(v1::SubmitJobResponse submitted, jobs_->Submit(submit));
  return submitted.job();
}

absl::StatusOr<v1::Job> ModelManager::RunTrainingJob(const std::string& job_id) {
  ASSIGN_OR_RETURN(v1::Job job, jobs_->Get([&] {
                     v1::GetJobRequest r;
                     r.set_job_id(job_id);
                     return r;
                   }()));
  if (!job.spec().has_training()) {
    return absl::InvalidArgumentError(absl::StrCat(job_id, " is not a training job"));
  }
  if (IsTerminal(job.state())) return job;
  if (job.cancel_requested()) {
    return jobs_->Transition(job_id, v1::JOB_STATE_CANCELLED, Because("cancelled"));
  }
  const uint32_t attempt = job.attempt() + 1;
  const std::string restart =
      job.state() == v1::JOB_STATE_QUEUED ? "" : " (again: ionloopd restarted during training)";
  if (job.state() == v1::JOB_STATE_QUEUED) {
    TransitionDetails assign = Because("training");
    assign.worker_id = kTrainerId;
    assign.attempt = attempt;
    ASSIGN_OR_RETURN(job, jobs_->Transition(job_id, v1::JOB_STATE_ASSIGNED, assign));
  }
  if (job.state() == v1::JOB_STATE_ASSIGNED) {
    ASSIGN_OR_RETURN(job, jobs_->Transition(job_id, v1::JOB_STATE_RUNNING,
                                            Because(absl::StrCat("training", restart))));
  }
  absl::StatusOr<v1::Model> model = TrainAndStore(job);
  if (model.ok()) {
    TransitionDetails done = Because(absl::StrFormat("model %s: %d validation cells, MAPE %.1f %%, RMSE %.0f "
                                    "cycles",
                                    ModelRefText(model->name(), model->version()),
                                    model->metrics().validation_cells(),
                                    model->metrics().mape_percent(),
                                    model->metrics().rmse_cycles()));
    done.progress = 1.0;
    return jobs_->Transition(job_id, v1::JOB_STATE_SUCCEEDED, done);
  }
  if (absl::IsCancelled(model.status())) {
    bool stopping;
    {
      absl::MutexLock lock(&mu_);
      stopping = stopping_;
    }
    // Stopped by Stop(): left RUNNING for the next start. Otherwise a user's cancel.
    if (stopping) return jobs_->store()->GetJob(job_id);
    return jobs_->Transition(job_id, v1::JOB_STATE_CANCELLED, Because("cancelled"));
  }
  return jobs_->Transition(job_id, v1::JOB_STATE_FAILED,
                           Because(std::string(model.status().message())));
}

absl::StatusOr<v1::Model> ModelManager::TrainAndStore(const v1::Job& job) {
  const v1::TrainingJob& training = job.spec().training();
  const absl::Time started = absl::Now();

  // The data.
  std::vector<models::CellSeries> cells;
  std::string source;
  if (training.data().has_store()) {
    ASSIGN_OR_RETURN(StoreCorpus corpus, ReadStoreCorpus(jobs_->store(), training.data().store()));
    cells = std::move(corpus.cells);
    source = DescribeStoreQuery(training.data().store());
  } else {
    source = training.data().folder();
    absl::StatusOr<std::vector<models::CellSeries>> read =
        models::LoadDataset(source, *table_, config_.corpus_threads);
    if (!read.ok()) {
      return absl::Status(read.status().code(),
                          absl::StrCat("spec.training.data.folder: ", read.status().message()));
    }
    cells = *std::move(read);
  }
  if (cells.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("no cells with data in ", source));
  }
  jobs_->ReportProgress(job.id(), 0.02, absl::StrCat("read ", cells.size(), " cells from ", source))
      .IgnoreError();

  // Progress → the job; a cancel or Stop() ends the training.
  absl::Time last_report = absl::InfinitePast();
  const models::TrainingProgressFn progress = [&](double fraction, const std::string& message) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return false;
    }
    const absl::Time now = absl::Now();
    if (now - last_report < absl::Milliseconds(500) && fraction < 1) return true;
    last_report = now;
    absl::StatusOr<v1::Job> j = jobs_->ReportProgress(job.id(), 0.05 + 0.9 * fraction, message);
    return j.ok() && !j->cancel_requested();
  };

  const models::TrainingSettings settings = SettingsOf(training.options(), config_.torch_threads);
  std::shared_ptr<const Loaded> base;
  if (!training.options().base_model().empty()) {
    ASSIGN_OR_RETURN(base, Load(training.options().base_model(), "spec.training.options.base_model"));
    if (base->info.kind() != training.kind()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "spec.training.options.base_model: '", training.options().base_model(), "' is a ",
          ModelKindName(base->info.kind()), " model, not ", ModelKindName(training.kind())));
    }
  }

  v1::Model info;
  info.set_name(training.model_name());
  info.set_kind(training.kind());
  info.set_training_job_id(job.id());
  *info.mutable_options() = training.options();
  if (base != nullptr) {
    info.set_base_model(ModelRefText(base->info.name(), base->info.version()));
  }
  std::string weights;
  models::ModelReport report;
  std::vector<std::string> features;
  switch (training.kind()) {
    case v1::MODEL_KIND_LIFETIME: {
      models::LifetimeOptions options;
      options.training = settings;
      if (!training.options().embedding().empty()) options.embedding = training.options().embedding();
      ASSIGN_OR_RETURN(models::LifetimeModel model,
                       models::LifetimeModel::Train(cells, *table_, options, progress,
                                                    base ? &*base->lifetime : nullptr));
      ASSIGN_OR_RETURN(weights, model.Serialize());
      report = model.report();
      features = model.feature_names();
      info.set_embedding(model.embedding_kind());
      break;
    }
    case v1::MODEL_KIND_EARLY_FADE: {
      models::FadeOptions options;
      options.training = settings;
      ASSIGN_OR_RETURN(models::FadeModel model,
                       models::FadeModel::Train(cells, options, progress,
                                                base ? &*base->fade : nullptr));
      ASSIGN_OR_RETURN(weights, model.Serialize());
      report = model.report();
      features = model.feature_names();
      break;
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("spec.training.kind: unknown model kind ", training.kind()));
  }
  report.training_seconds = absl::ToDoubleSeconds(absl::Now() - started);
  for (std::string& f : features) info.add_feature_names(std::move(f));
  *info.mutable_data() = SummaryOf(cells, source, report.training_rows);
  *info.mutable_metrics() = MetricsOf(report);
  return jobs_->store()->InsertModel(std::move(info), weights, jobs_->clock()->Now());
}

absl::StatusOr<std::shared_ptr<const ModelManager::Loaded>> ModelManager::Load(
    absl::string_view model_ref, absl::string_view field) {
  ASSIGN_OR_RETURN(ModelRef ref, ParseModelRef(model_ref, field));
  // "name" means the latest: resolve it first, so the cache key is exact.
  absl::StatusOr<v1::Model> found = jobs_->store()->GetModel(ref.name, ref.version);
  if (!found.ok()) {
    return absl::Status(found.status().code(), absl::StrCat(field, ": ", found.status().message()));
  }
  v1::Model info = *std::move(found);
  const std::string key = ModelRefText(info.name(), info.version());
  {
    absl::MutexLock lock(&cache_mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(std::string weights, jobs_->store()->GetModelWeights(info.name(), info.version()));
  auto loaded = std::make_shared<Loaded>();
  switch (info.kind()) {
    case v1::MODEL_KIND_LIFETIME: {
      ASSIGN_OR_RETURN(models::LifetimeModel m, models::LifetimeModel::Deserialize(weights, *table_));
      loaded->lifetime.emplace(std::move(m));
      break;
    }
    case v1::MODEL_KIND_EARLY_FADE: {
      ASSIGN_OR_RETURN(models::FadeModel m, models::FadeModel::Deserialize(weights));
      loaded->fade.emplace(std::move(m));
      break;
    }
    default:
      return absl::DataLossError(absl::StrCat("model ", key, ": unknown kind ", info.kind()));
  }
  loaded->info = std::move(info);
  absl::MutexLock lock(&cache_mu_);
  return cache_.try_emplace(key, std::move(loaded)).first->second;
}

absl::StatusOr<std::shared_ptr<const models::FadeModel>> ModelManager::FadeModelFor(
    absl::string_view ref, absl::string_view field) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Loaded> loaded, Load(ref, field));
  if (!loaded->fade) {
    return absl::FailedPreconditionError(absl::StrCat(field, ": '", ref, "' is a ",
                                                      ModelKindName(loaded->info.kind()),
                                                      " model, not an early_fade model"));
  }
  return std::shared_ptr<const models::FadeModel>(loaded, &*loaded->fade);
}

absl::StatusOr<v1::ListModelsResponse> ModelManager::List(const v1::ListModelsRequest& request) {
  if (!request.name().empty()) {
    RETURN_IF_ERROR(ParseModelRef(request.name(), "name").status());
    if (request.name().find('@') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("name: a model name without @version, got \"", request.name(), "\""));
    }
  }
  if (!v1::ModelKind_IsValid(request.kind())) {
    return absl::InvalidArgumentError(absl::StrCat("kind: unknown value ", request.kind()));
  }
  ASSIGN_OR_RETURN(std::vector<v1::Model> models,
                   jobs_->store()->ListModels(request.name(), request.kind()));
  v1::ListModelsResponse response;
  for (v1::Model& m : models) *response.add_models() = std::move(m);
  return response;
}

absl::StatusOr<v1::Model> ModelManager::Get(const v1::GetModelRequest& request) {
  ASSIGN_OR_RETURN(ModelRef ref, ParseModelRef(request.model(), "model"));
  return jobs_->store()->GetModel(ref.name, ref.version);
}

absl::StatusOr<v1::PredictLifetimeResponse> ModelManager::PredictLifetime(
    const v1::PredictLifetimeRequest& request) {
  if (request.cells_size() < 1 || request.cells_size() > kMaxPredictCells) {
    return absl::InvalidArgumentError(absl::StrCat("cells: 1..", kMaxPredictCells,
                                                   " cells, got ", request.cells_size()));
  }
  if (request.soh_percent_size() > kMaxSohLevels) {
    return absl::InvalidArgumentError(absl::StrCat("soh_percent: at most ", kMaxSohLevels,
                                                   " levels, got ", request.soh_percent_size()));
  }
  for (int i = 0; i < request.soh_percent_size(); ++i) {
    const double s = request.soh_percent(i);
    if (!(s > 0 && s <= 100)) {
      return absl::InvalidArgumentError(
          absl::StrCat("soh_percent[", i, "]: must be in (0, 100], got ", s));
    }
  }
  if (request.loading_level_size() != 0 && request.loading_level_size() != request.cells_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "loading_level: one per cell or none, got ", request.loading_level_size(), " for ",
        request.cells_size(), " cells"));
  }
  std::vector<models::LifetimeQuery> queries(request.cells_size());
  for (int i = 0; i < request.cells_size(); ++i) {
    const std::string field = absl::StrCat("cells[", i, "]");
    RETURN_IF_ERROR(ValidateCellSpec(request.cells(i), field));
    ASSIGN_OR_RETURN(queries[i].config, cyc::CellConfigFromProto(request.cells(i)));
    if (request.loading_level_size() > 0) queries[i].loading_level = request.loading_level(i);
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const Loaded> loaded, Load(request.model(), "model"));
  if (!loaded->lifetime) {
    return absl::FailedPreconditionError(absl::StrCat(
        "model: '", request.model(), "' is a ", ModelKindName(loaded->info.kind()),
        " model; PredictLifetime needs a lifetime model"));
  }
  // Levels: the request's, or every percent from 100 down to the lowest EOL asked for.
  std::vector<double> levels(request.soh_percent().begin(), request.soh_percent().end());
  if (levels.empty()) {
    double lowest = 100;
    for (const models::LifetimeQuery& q : queries) lowest = std::min(lowest, q.config.eol_soh_percent);
    for (double s = 100; s >= lowest - 1e-9; s -= 1) levels.push_back(s);
  }
  // EOL levels of each cell go in the same batch.
  std::vector<double> all_levels = levels;
  for (const models::LifetimeQuery& q : queries) {
    if (std::find(all_levels.begin(), all_levels.end(), q.config.eol_soh_percent) == all_levels.end()) {
      all_levels.push_back(q.config.eol_soh_percent);
    }
  }
  ASSIGN_OR_RETURN(std::vector<std::vector<models::SohCycles>> predicted,
                   loaded->lifetime->Predict(queries, all_levels));
  v1::PredictLifetimeResponse response;
  response.set_model(ModelRefText(loaded->info.name(), loaded->info.version()));
  for (size_t i = 0; i < queries.size(); ++i) {
    v1::LifetimePrediction* p = response.add_predictions();
    const double eol = queries[i].config.eol_soh_percent;
    p->set_eol_soh_percent(eol);
    for (size_t j = 0; j < all_levels.size(); ++j) {
      const models::SohCycles& c = predicted[i][j];
      if (j < levels.size()) {
        v1::SohCycles* point = p->add_points();
        point->set_soh_percent(c.soh_percent);
        point->set_cycles_mean(c.cycles_mean);
        point->set_cycles_stddev(c.cycles_stddev);
      }
      if (all_levels[j] == eol) {
        p->set_eol_cycles_mean(c.cycles_mean);
        p->set_eol_cycles_stddev(c.cycles_stddev);
      }
    }
  }
  return response;
}

absl::StatusOr<v1::FadePrediction> ModelManager::PredictFade(const v1::PredictFadeRequest& request) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Loaded> loaded, Load(request.model(), "model"));
  if (!loaded->fade) {
    return absl::FailedPreconditionError(absl::StrCat(
        "model: '", request.model(), "' is a ", ModelKindName(loaded->info.kind()),
        " model; PredictFade needs an early_fade model"));
  }
  models::CellSeries early;
  switch (request.source_case()) {
    case v1::PredictFadeRequest::kJobId: {
      absl::StatusOr<models::CellSeries> series = ReadJobSeries(jobs_->store(), request.job_id());
      if (!series.ok()) {
        return absl::Status(series.status().code(),
                            absl::StrCat("job_id: ", series.status().message()));
      }
      early = *std::move(series);
      break;
    }
    case v1::PredictFadeRequest::kData: {
      ASSIGN_OR_RETURN(early, CellSeriesFromEarlyData(request.data(), "data"));
      break;
    }
    case v1::PredictFadeRequest::SOURCE_NOT_SET:
      return absl::InvalidArgumentError("source: set job_id or data");
  }
  std::vector<int> cycles;
  for (int i = 0; i < request.cycles_size(); ++i) {
    if (request.cycles(i) == 0 || request.cycles(i) > 1'000'000) {
      return absl::InvalidArgumentError(
          absl::StrCat("cycles[", i, "]: must be in 1..1000000, got ", request.cycles(i)));
    }
    cycles.push_back(static_cast<int>(request.cycles(i)));
  }
  ASSIGN_OR_RETURN(models::FadeForecast forecast, loaded->fade->Predict(early, cycles));
  v1::FadePrediction response;
  response.set_model(ModelRefText(loaded->info.name(), loaded->info.version()));
  for (const models::FadePoint& p : forecast.curve) {
    v1::FadePoint* out = response.add_curve();
    out->set_cycle(static_cast<uint32_t>(p.cycle));
    out->set_soh_mean(p.soh_mean);
    out->set_soh_stddev(p.soh_stddev);
  }
  response.set_eol_cycles_mean(forecast.eol_cycles_mean);
  response.set_eol_cycles_low(forecast.eol_cycles_low);
  response.set_eol_cycles_high(forecast.eol_cycles_high);
  return response;
}

absl::StatusOr<v1::EvaluateResponse> ModelManager::Evaluate(const v1::EvaluateRequest& request) {
  if (request.dataset().empty()) return absl::InvalidArgumentError("dataset: must be set");
  ASSIGN_OR_RETURN(std::shared_ptr<const Loaded> loaded, Load(request.model(), "model"));
  absl::StatusOr<std::vector<models::CellSeries>> cells =
      models::LoadDataset(request.dataset(), *table_, config_.corpus_threads);
  if (!cells.ok()) {
    return absl::Status(cells.status().code(),
                        absl::StrCat("dataset: ", cells.status().message()));
  }
  ASSIGN_OR_RETURN(models::Evaluation evaluation,
                   loaded->lifetime ? loaded->lifetime->Evaluate(*cells)
                                    : loaded->fade->Evaluate(*cells));
  v1::EvaluateResponse response;
  response.set_model(ModelRefText(loaded->info.name(), loaded->info.version()));
  for (const models::EvaluatedPoint& p : evaluation.points) {
    v1::CellEvaluation* c = response.add_cells();
    c->set_cell_id(p.cell_id);
    c->set_soh_percent(p.soh_percent);
    c->set_true_cycles(p.true_cycles);
    c->set_predicted_cycles(p.predicted_cycles);
    c->set_predicted_stddev(p.predicted_stddev);
    c->set_scored(p.scored);
  }
  response.set_cells_evaluated(static_cast<uint32_t>(evaluation.cells_evaluated));
  response.set_cells_skipped(static_cast<uint32_t>(evaluation.cells_skipped));
  response.set_rmse_cycles(evaluation.rmse_cycles);
  response.set_mape_percent(evaluation.mape_percent);
  response.set_coverage_68(evaluation.coverage_68);
  response.set_coverage_95(evaluation.coverage_95);
  return response;
}

}  // namespace ionloop::orchestrator
