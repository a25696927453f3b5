// The store's cycling jobs as model data: a job's CellSpec and its measurements (cycle
// records, discharge V(Q) curves) → models::CellSeries. Also early-cycle data sent in a
// PredictFade request. The proto side of the models library, which knows no protos.
#ifndef IONLOOP_ORCHESTRATOR_MODELS_STORE_CORPUS_H_
#define IONLOOP_ORCHESTRATOR_MODELS_STORE_CORPUS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ionloop/v1/model.pb.h"
#include "ionloop/v1/job.pb.h"
#include "ionloop/v1/measurement.pb.h"
#include "models/data/cell_series.h"
#include "orchestrator/store/store.h"

namespace ionloop::orchestrator {

// Points on the voltage grid a stored V(Q) curve is resampled to, Q(V).
inline constexpr int kCurveGridPoints = 200;

// One cycling job: its cell, the discharge capacity of every cycle record (in cycle
// order; resends across attempts collapse to the last), and each discharge curve as Q(V)
// on a grid over the protocol's voltage window. INVALID_ARGUMENT for a job that is not a
// cycling job.
absl::StatusOr<models::CellSeries> CellSeriesFromJob(
    const ionloop::v1::Job& job, const std::vector<ionloop::v1::Measurement>& measurements);

// Every cycling job matching `query` in a state that has data (RUNNING, SUCCEEDED,
// CANCELLED, LOST: running and finished tests both teach), with ≥ 2 cycle records.
struct StoreCorpus {
  std::vector<models::CellSeries> cells;
  int jobs_without_data = 0;
};
absl::StatusOr<StoreCorpus> ReadStoreCorpus(Store* store,
                                            const ionloop::v1::DatasetSource::StoreQuery& query);

// One job's series, and the test time of its last cycle record (channel time used).
struct JobData {
  models::CellSeries series;
  double elapsed_s = 0;
};
absl::StatusOr<JobData> ReadJobData(Store* store, const std::string& job_id);

// The cells of one job only (PredictFade by job id).
absl::StatusOr<models::CellSeries> ReadJobSeries(Store* store, const std::string& job_id);

// A PredictFade request's early-cycle data; `field` prefixes error messages.
absl::StatusOr<models::CellSeries> CellSeriesFromEarlyData(const ionloop::v1::EarlyCycleData& data,
                                                           const std::string& field);

// "store(campaign_id=c1, ion=ION_NA, labels{a=b}, 3 job ids)": the summary's source.
std::string DescribeStoreQuery(const ionloop::v1::DatasetSource::StoreQuery& query);

}  // namespace ionloop::orchestrator

#endif  // IONLOOP_ORCHESTRATOR_MODELS_STORE_CORPUS_H_
