#include "orchestrator/models/store_corpus.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "instruments/cycler/proto/cycler_proto.h"
#include "models/data/voltage_grid.h"

namespace ionloop::orchestrator {
namespace {

namespace v1 = ::ionloop::v1;
namespace cyc = ::ionloop::instruments::cycler;

constexpr int kPageSize = 500;

}  // namespace

absl::StatusOr<models::CellSeries> CellSeriesFromJob(const v1::Job& job,
                                                     const std::vector<v1::Measurement>& measurements) {
  if (!job.spec().has_cycling()) {
    return absl::InvalidArgumentError(
        absl::StrCat("job ", job.id(), " is not a cycling job (kind ", job.kind(), ")"));
  }
  models::CellSeries series;
  series.id = job.id();
  ASSIGN_OR_RETURN(series.config, cyc::CellConfigFromProto(job.spec().cycling().cell()));
  const cyc::CyclingProtocol& protocol = series.config.protocol;
  const std::vector<double> grid =
      models::LinearVoltageGrid(protocol.voltage_max_v, protocol.voltage_min_v, kCurveGridPoints);

  // Later attempts resend cycles an earlier one measured: the last word wins.
  std::map<uint32_t, double> capacity_by_cycle;
  std::map<uint32_t, models::DischargeCurve> curve_by_cycle;
  for (const v1::Measurement& m : measurements) {
    if (m.has_cycle()) {
      capacity_by_cycle[m.cycle().cycle_index()] = m.cycle().discharge_capacity_ah();
    } else if (m.has_voltage_curve() && !m.voltage_curve().is_charge()) {
      const v1::VoltageCurve& c = m.voltage_curve();
      cyc::VoltageCurve curve;
      curve.cycle_index = c.cycle_index();
      curve.capacity_ah.assign(c.capacity_ah().begin(), c.capacity_ah().end());
      curve.voltage_v.assign(c.voltage_v().begin(), c.voltage_v().end());
      absl::StatusOr<models::DischargeCurve> q_of_v = models::ResampleToVoltageGrid(curve, grid);
      if (!q_of_v.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("job ", job.id(), " measurement seq ",
                                                       m.seq(), ": ", q_of_v.status().message()));
      }
      q_of_v->cycle = static_cast<int>(c.cycle_index());
      curve_by_cycle[c.cycle_index()] = *std::move(q_of_v);
    }
  }
  for (const auto& [cycle, capacity] : capacity_by_cycle) {
    series.cycles.push_back(cycle);
    series.capacity_ah.push_back(capacity);
  }
  for (auto& [cycle, curve] : curve_by_cycle) series.curves.push_back(std::move(curve));
  return series;
}

absl::StatusOr<JobData> ReadJobData(Store* store, const std::string& job_id) {
  ASSIGN_OR_RETURN(v1::Job job, store->GetJob(job_id));
  std::vector<v1::Measurement> measurements;
  MeasurementCursor after;
  while (true) {
    ASSIGN_OR_RETURN(std::vector<v1::Measurement> page,
                     store->ReadMeasurements(job_id, /*attempt=*/0, after, kPageSize));
    if (page.empty()) break;
    after.attempt = page.back().attempt();
    after.seq = page.back().seq();
    for (v1::Measurement& m : page) measurements.push_back(std::move(m));
  }
  JobData data;
  for (const v1::Measurement& m : measurements) {
    if (m.has_cycle()) data.elapsed_s = std::max(data.elapsed_s, m.cycle().elapsed_s());
  }
  ASSIGN_OR_RETURN(data.series, CellSeriesFromJob(job, measurements));
  return data;
}

absl::StatusOr<models::CellSeries> ReadJobSeries(Store* store, const std::string& job_id) {
  ASSIGN_OR_RETURN(JobData data, ReadJobData(store, job_id));
  return std::move(data.series);
}

absl::StatusOr<StoreCorpus> ReadStoreCorpus(Store* store,
                                            const v1::DatasetSource::StoreQuery& query) {
  JobFilter filter;
  filter.kind = v1::JOB_KIND_CYCLING;
  filter.states = {v1::JOB_STATE_RUNNING, v1::JOB_STATE_SUCCEEDED, v1::JOB_STATE_CANCELLED,
                   v1::JOB_STATE_LOST};
  filter.campaign_id = query.campaign_id();
  std::vector<std::pair<std::string, std::string>> labels(query.labels().begin(),
                                                          query.labels().end());
  std::sort(labels.begin(), labels.end());
  filter.labels = std::move(labels);

  std::vector<std::string> job_ids(query.job_ids().begin(), query.job_ids().end());
  if (job_ids.empty()) {
    std::string token;
    do {
      ASSIGN_OR_RETURN(JobPage page, store->ListJobs(filter, kPageSize, token));
      for (const v1::Job& job : page.jobs) {
        if (query.ion() != v1::ION_UNSPECIFIED &&
            job.spec().cycling().cell().ion() != query.ion()) {
          continue;
        }
        job_ids.push_back(job.id());
      }
      token = std::move(page.next_page_token);
    } while (!token.empty());
    std::reverse(job_ids.begin(), job_ids.end());  // oldest first: a stable order
  }

  StoreCorpus corpus;
  for (const std::string& id : job_ids) {
    ASSIGN_OR_RETURN(models::CellSeries series, ReadJobSeries(store, id));
    if (series.cycles.size() < 2) {
      ++corpus.jobs_without_data;
      continue;
    }
    corpus.cells.push_back(std::move(series));
  }
  return corpus;
}

absl::StatusOr<models::CellSeries> CellSeriesFromEarlyData(const v1::EarlyCycleData& data,
                                                           const std::string& field) {
  const auto invalid = [&](absl::string_view sub, auto... what) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".", sub, ": ", what...));
  };
  if (!(data.nominal_capacity_ah() > 0)) {
    return invalid("nominal_capacity_ah", "must be > 0, got ", data.nominal_capacity_ah());
  }
  if (!(data.temperature_c() >= -40 && data.temperature_c() <= 80)) {
    return invalid("temperature_c", "must be in [-40, 80] °C, got ", data.temperature_c());
  }
  if (data.cycles_size() != data.discharge_capacity_ah_size()) {
    return invalid("discharge_capacity_ah", "has ", data.discharge_capacity_ah_size(),
                   " values for ", data.cycles_size(), " cycles");
  }
  models::CellSeries series;
  series.id = "request";
  series.config.nominal_capacity_ah = data.nominal_capacity_ah();
  series.config.protocol.temperature_c = data.temperature_c();
  for (int i = 0; i < data.cycles_size(); ++i) {
    if (data.cycles(i) == 0 || (i > 0 && data.cycles(i) <= data.cycles(i - 1))) {
      return invalid(absl::StrCat("cycles[", i, "]"), "must be >= 1 and increasing, got ",
                     data.cycles(i));
    }
    if (!std::isfinite(data.discharge_capacity_ah(i)) || data.discharge_capacity_ah(i) < 0) {
      return invalid(absl::StrCat("discharge_capacity_ah[", i, "]"),
                     "must be finite and >= 0, got ", data.discharge_capacity_ah(i));
    }
    series.cycles.push_back(data.cycles(i));
    series.capacity_ah.push_back(data.discharge_capacity_ah(i));
  }
  for (int i = 0; i < data.curves_size(); ++i) {
    const v1::DischargeCurveData& c = data.curves(i);
    const std::string sub = absl::StrCat("curves[", i, "]");
    if (c.voltage_v_size() < 2 || c.voltage_v_size() != c.capacity_ah_size()) {
      return invalid(sub, "needs >= 2 points and as many capacities as voltages, got ",
                     c.voltage_v_size(), " voltages and ", c.capacity_ah_size(), " capacities");
    }
    for (int j = 0; j < c.voltage_v_size(); ++j) {
      if (!std::isfinite(c.voltage_v(j)) || !std::isfinite(c.capacity_ah(j))) {
        return invalid(absl::StrCat(sub, ".voltage_v[", j, "]"), "non-finite point");
      }
    }
    models::DischargeCurve& curve = series.curves.emplace_back();
    curve.cycle = static_cast<int>(c.cycle());
    curve.voltage_v.assign(c.voltage_v().begin(), c.voltage_v().end());
    curve.capacity_ah.assign(c.capacity_ah().begin(), c.capacity_ah().end());
  }
  return series;
}

std::string DescribeStoreQuery(const v1::DatasetSource::StoreQuery& query) {
  std::vector<std::string> parts;
  if (!query.campaign_id().empty()) parts.push_back(absl::StrCat("campaign_id=", query.campaign_id()));
  if (query.ion() != v1::ION_UNSPECIFIED) parts.push_back(absl::StrCat("ion=", v1::Ion_Name(query.ion())));
  for (const auto& [k, v] : query.labels()) parts.push_back(absl::StrCat(k, "=", v));
  if (query.job_ids_size() > 0) parts.push_back(absl::StrCat(query.job_ids_size(), " job ids"));
  return absl::StrCat("store(", absl::StrJoin(parts, ", "), ")");
}

}  // namespace ionloop::orchestrator
