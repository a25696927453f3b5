// The Models service end to end in one process: a training job runs on ionloopd's
// trainer, the model lands in the registry, and predictions and evaluation use it; the
// store corpus path trains on imported cycling jobs. Small corpora and few epochs: these
// tests check behaviour, not accuracy (bench/models_bench does that).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/job_enums.h"
#include "google/protobuf/util/message_differencer.h"
#include "instruments/cycler/proto/cycler_proto.h"
#include "instruments/cycler/virtual_cell.h"
#include "instruments/electrode_table.h"
#include "ionloop/v1/models.grpc.pb.h"
#include "tests/integration/service_fixture.h"

namespace ionloop::testing {
namespace {

using ::testing::HasSubstr;
namespace cyc = instruments::cycler;

class ModelsServiceTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    models_ = v1::Models::NewStub(channel_);
  }

  // Trains and follows the job to its end (WatchJob ends at a terminal state).
  v1::Job TrainAndWait(const v1::TrainingJob& training) {
    v1::TrainRequest request;
    *request.mutable_training() = training;
    v1::Job job;
    grpc::ClientContext ctx;
    const grpc::Status status = models_->Train(&ctx, request, &job);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(job.kind(), v1::JOB_KIND_TRAINING);
    return WaitForEnd(job.id());
  }

  v1::Job WaitForEnd(const std::string& id) {
    grpc::ClientContext ctx;
    v1::WatchJobRequest request;
    request.set_job_id(id);
    auto reader = jobs_->WatchJob(&ctx, request);
    v1::WatchJobResponse message;
    v1::Job last;
    while (reader->Read(&message)) last = message.job();
    EXPECT_TRUE(reader->Finish().ok());
    return last;
  }

  static v1::TrainingJob SmallTraining(v1::ModelKind kind, const std::string& name,
                                       const std::string& folder) {
    v1::TrainingJob t;
    t.set_kind(kind);
    t.set_model_name(name);
    t.mutable_data()->set_folder(folder);
    t.mutable_options()->set_ensemble_members(2);
    t.mutable_options()->set_max_epochs(25);
    t.mutable_options()->add_hidden_units(16);
    return t;
  }

  static v1::CellSpec NmcGraphite() {
    v1::CellSpec cell;
    cell.set_ion(v1::ION_LI);
    cell.set_positive_electrode("NMC811");
    cell.set_negative_electrode("graphite");
    cell.set_electrolyte("1 M LiPF6 in EC/EMC 3:7");
    cell.set_design(v1::CELL_DESIGN_POUCH);
    cell.set_nominal_capacity_ah(0.05);
    v1::CyclingProtocol* p = cell.mutable_protocol();
    p->set_charge_c_rate(1);
    p->set_discharge_c_rate(1);
    p->set_voltage_min_v(2.8);
    p->set_voltage_max_v(4.2);
    p->set_temperature_c(25);
    return cell;
  }

  std::unique_ptr<v1::Models::Stub> models_;
};

TEST_F(ModelsServiceTest, TrainListGetPredictEvaluate) {
  const v1::Job job =
      TrainAndWait(SmallTraining(v1::MODEL_KIND_LIFETIME, "life", "virtual:40:7"));
  ASSERT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << job.message();
  EXPECT_THAT(job.message(), HasSubstr("model life@1"));
  EXPECT_EQ(job.worker_id(), "ionloopd-trainer");

  v1::ListModelsResponse list;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(models_->ListModels(&ctx, v1::ListModelsRequest(), &list).ok());
  }
  ASSERT_EQ(list.models_size(), 1);
  const v1::Model& model = list.models(0);
  EXPECT_EQ(model.name(), "life");
  EXPECT_EQ(model.version(), 1u);
  EXPECT_EQ(model.kind(), v1::MODEL_KIND_LIFETIME);
  EXPECT_EQ(model.training_job_id(), job.id());
  EXPECT_EQ(model.data().cells(), 40u);
  EXPECT_EQ(model.data().source(), "virtual:40:7");
  EXPECT_GT(model.data().rows(), 0u);
  EXPECT_GT(model.weights_bytes(), 0u);
  EXPECT_EQ(model.embedding(), "encoder");
  ASSERT_FALSE(model.feature_names().empty());
  EXPECT_THAT(std::vector<std::string>(model.feature_names().begin(), model.feature_names().end()),
              ::testing::Contains("temperature_c"));

  v1::Model got;
  {
    grpc::ClientContext ctx;
    v1::GetModelRequest request;
    request.set_model("life@1");
    ASSERT_TRUE(models_->GetModel(&ctx, request, &got).ok());
  }
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(got, model));

  // An untested cell: the whole curve and end of life, with a spread.
  v1::PredictLifetimeRequest predict;
  predict.set_model("life");
  *predict.add_cells() = NmcGraphite();
  predict.add_soh_percent(95);
  predict.add_soh_percent(90);
  v1::PredictLifetimeResponse predicted;
  {
    grpc::ClientContext ctx;
    const grpc::Status s = models_->PredictLifetime(&ctx, predict, &predicted);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_EQ(predicted.model(), "life@1");
  ASSERT_EQ(predicted.predictions_size(), 1);
  const v1::LifetimePrediction& p = predicted.predictions(0);
  ASSERT_EQ(p.points_size(), 2);
  EXPECT_DOUBLE_EQ(p.points(0).soh_percent(), 95);
  EXPECT_GT(p.points(0).cycles_mean(), 0);
  EXPECT_GT(p.points(0).cycles_stddev(), 0);
  EXPECT_DOUBLE_EQ(p.eol_soh_percent(), 80);
  EXPECT_GT(p.eol_cycles_mean(), 0);

  v1::EvaluateRequest evaluate;
  evaluate.set_model("life@1");
  evaluate.set_dataset("virtual:12:99");
  v1::EvaluateResponse evaluation;
  {
    grpc::ClientContext ctx;
    const grpc::Status s = models_->Evaluate(&ctx, evaluate, &evaluation);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_EQ(evaluation.model(), "life@1");
  EXPECT_EQ(evaluation.cells_evaluated() + evaluation.cells_skipped(), 12u);
  EXPECT_GT(evaluation.cells_size(), 0);
  EXPECT_GT(evaluation.rmse_cycles(), 0);

  // A second training of the same name is version 2; "life" now means it.
  ASSERT_EQ(TrainAndWait(SmallTraining(v1::MODEL_KIND_LIFETIME, "life", "virtual:30:8")).state(),
            v1::JOB_STATE_SUCCEEDED);
  {
    grpc::ClientContext ctx;
    v1::GetModelRequest request;
    request.set_model("life");
    ASSERT_TRUE(models_->GetModel(&ctx, request, &got).ok());
  }
  EXPECT_EQ(got.version(), 2u);
}

TEST_F(ModelsServiceTest, BadRequestsNameTheFieldAndValue) {
  const auto train_error = [&](v1::TrainingJob training) {
    v1::TrainRequest request;
    *request.mutable_training() = std::move(training);
    v1::Job job;
    grpc::ClientContext ctx;
    return models_->Train(&ctx, request, &job);
  };
  v1::TrainingJob bad_name = SmallTraining(v1::MODEL_KIND_LIFETIME, "Life Model", "virtual:10");
  grpc::Status s = train_error(bad_name);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("spec.training.model_name"));
  EXPECT_THAT(s.error_message(), HasSubstr("Life Model"));

  v1::TrainingJob no_kind = SmallTraining(v1::MODEL_KIND_UNSPECIFIED, "x", "virtual:10");
  s = train_error(no_kind);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("spec.training.kind"));

  v1::TrainingJob bad_base = SmallTraining(v1::MODEL_KIND_LIFETIME, "x", "virtual:10");
  bad_base.mutable_options()->set_base_model("x@0");
  s = train_error(bad_base);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("spec.training.options.base_model"));

  v1::TrainingJob bad_members = SmallTraining(v1::MODEL_KIND_LIFETIME, "x", "virtual:10");
  bad_members.mutable_options()->set_ensemble_members(1000);
  s = train_error(bad_members);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("ensemble_members"));

  // A folder that is not there: the job fails and says why.
  const v1::Job failed =
      TrainAndWait(SmallTraining(v1::MODEL_KIND_EARLY_FADE, "fade", "severson:/nonexistent:train"));
  EXPECT_EQ(failed.state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(failed.message(), HasSubstr("spec.training.data.folder"));
  EXPECT_THAT(failed.message(), HasSubstr("/nonexistent"));

  v1::GetModelRequest get;
  get.set_model("nothing@3");
  v1::Model model;
  grpc::ClientContext ctx1;
  s = models_->GetModel(&ctx1, get, &model);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("nothing@3"));

  get.set_model("Bad@x");
  grpc::ClientContext ctx2;
  s = models_->GetModel(&ctx2, get, &model);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("model"));

  v1::PredictLifetimeRequest predict;
  predict.set_model("nothing");
  grpc::ClientContext ctx3;
  v1::PredictLifetimeResponse predicted;
  s = models_->PredictLifetime(&ctx3, predict, &predicted);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("cells"));

  *predict.add_cells() = NmcGraphite();
  predict.add_soh_percent(120);
  grpc::ClientContext ctx4;
  s = models_->PredictLifetime(&ctx4, predict, &predicted);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("soh_percent[0]"));
  EXPECT_THAT(s.error_message(), HasSubstr("120"));

  v1::PredictFadeRequest fade;
  fade.set_model("nothing");
  fade.set_job_id("job-1");
  grpc::ClientContext ctx5;
  v1::FadePrediction forecast;
  s = models_->PredictFade(&ctx5, fade, &forecast);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ModelsServiceTest, WrongModelKindIsAFailedPrecondition) {
  ASSERT_EQ(TrainAndWait(SmallTraining(v1::MODEL_KIND_LIFETIME, "life", "virtual:30:5")).state(),
            v1::JOB_STATE_SUCCEEDED);
  v1::PredictFadeRequest fade;
  fade.set_model("life");
  fade.mutable_data()->set_nominal_capacity_ah(1);
  v1::FadePrediction forecast;
  grpc::ClientContext ctx;
  const grpc::Status s = models_->PredictFade(&ctx, fade, &forecast);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("lifetime"));
}

// Training from the store: cycling jobs recorded elsewhere (imported), picked by label.
TEST_F(ModelsServiceTest, TrainsOnTheStoresCyclingJobs) {
  absl::StatusOr<instruments::ElectrodeTable> table = instruments::LoadDefaultElectrodeTable();
  ASSERT_TRUE(table.ok()) << table.status();
  for (int i = 0; i < 12; ++i) {
    v1::CellSpec cell = NmcGraphite();
    cell.mutable_protocol()->set_charge_c_rate(0.5 + 0.5 * i);
    cell.mutable_protocol()->set_temperature_c(15 + 2.5 * i);
    absl::StatusOr<cyc::CellConfig> config = cyc::CellConfigFromProto(cell);
    ASSERT_TRUE(config.ok()) << config.status();
    absl::StatusOr<cyc::VirtualCell> vc = cyc::VirtualCell::Create(*config, *table, 100 + i);
    ASSERT_TRUE(vc.ok()) << vc.status();
    std::vector<v1::Measurement> measurements;
    while (!vc->ReachedEol() && vc->cycles() < 600) {
      v1::Measurement& m = measurements.emplace_back();
      m.set_seq(measurements.size());
      *m.mutable_cycle() = cyc::CycleRecordToProto(vc->RunCycle());
    }
    v1::JobSpec spec;
    *spec.mutable_cycling()->mutable_cell() = cell;
    spec.mutable_cycling()->set_max_cycles(600);
    (*spec.mutable_labels())["set"] = i < 10 ? "training" : "other";
    ASSERT_TRUE(server_->jobs()->Import(spec, "", "test", std::move(measurements)).ok());
  }
  v1::TrainingJob training = SmallTraining(v1::MODEL_KIND_LIFETIME, "store", "");
  (*training.mutable_data()->mutable_store()->mutable_labels())["set"] = "training";
  const v1::Job job = TrainAndWait(training);
  ASSERT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << job.message();
  v1::GetModelRequest get;
  get.set_model("store");
  v1::Model model;
  grpc::ClientContext ctx;
  ASSERT_TRUE(models_->GetModel(&ctx, get, &model).ok());
  EXPECT_EQ(model.data().cells(), 10u);
  EXPECT_EQ(model.data().cells_per_ion().at("Li"), 10u);
  EXPECT_THAT(model.data().source(), HasSubstr("set=training"));
}

TEST_F(ModelsServiceTest, CancellingATrainingJobStopsIt) {
  v1::TrainingJob training = SmallTraining(v1::MODEL_KIND_LIFETIME, "slow", "virtual:40:3");
  training.mutable_options()->set_max_epochs(100000);
  training.mutable_options()->set_patience(100000);
  v1::TrainRequest request;
  *request.mutable_training() = training;
  v1::Job job;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(models_->Train(&ctx, request, &job).ok());
  }
  // Wait until it runs, then cancel: the trainer sees cancel_requested at its next epoch.
  {
    grpc::ClientContext ctx;
    v1::WatchJobRequest watch;
    watch.set_job_id(job.id());
    auto reader = jobs_->WatchJob(&ctx, watch);
    v1::WatchJobResponse message;
    while (reader->Read(&message) && message.job().progress() < 0.05) {
    }
    ctx.TryCancel();
    reader->Finish();
  }
  v1::CancelJobRequest cancel;
  cancel.set_job_id(job.id());
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(jobs_->CancelJob(&ctx, cancel, &job).ok());
  }
  EXPECT_EQ(WaitForEnd(job.id()).state(), v1::JOB_STATE_CANCELLED);
}

}  // namespace
}  // namespace ionloop::testing
