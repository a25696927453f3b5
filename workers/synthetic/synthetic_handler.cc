#include "workers/synthetic/synthetic_handler.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ionloop::worker {

double SyntheticValue(uint64_t seq) {
  const double x = static_cast<double>(seq);
  return std::sin(x / 100.0) + x / 1000.0;
}

std::string SyntheticPayload(uint64_t seq, uint32_t bytes) {
  std::string payload(bytes, '\0');
  uint64_t state = seq * 0x9E3779B97F4A7C15ull + 1;
  for (uint32_t i = 0; i < bytes; ++i) {
    if (i % 8 == 0) state = state * 6364136223846793005ull + 1442695040888963407ull;
    payload[i] = static_cast<char>((state >> (8 * (i % 8))) & 0xff);
  }
  return payload;
}

JobResultReport SyntheticHandler::Run(JobContext& ctx) {
  if (!ctx.spec().has_synthetic()) {
    return JobResultReport::Failed("spec.synthetic: not set (this handler runs synthetic jobs)");
  }
  const v1::SyntheticJob& job = ctx.spec().synthetic();
  const uint64_t total = job.measurements();
  const absl::Duration interval = absl::Milliseconds(job.interval_ms());
  uint64_t done = std::min(ctx.resume_after_measurement_seq(), total);
  auto summary = [&] {
    std::map<std::string, double> s{{"measurements", static_cast<double>(done)}};
    if (done > 0) s["last_value"] = SyntheticValue(done);
    return s;
  };
  while (done < total) {
    if (job.fail_after() > 0 && done >= job.fail_after()) {
      return JobResultReport::Failed(
          absl::StrCat("synthetic failure after ", job.fail_after(), " measurements (fail_after)"));
    }
    if (ctx.cancelled()) return JobResultReport::CancelledBy(ctx, summary());
    const uint64_t seq = done + 1;
    v1::Measurement m;
    v1::SyntheticSample* sample = m.mutable_synthetic();
    sample->set_value(SyntheticValue(seq));
    if (job.payload_bytes() > 0) sample->set_payload(SyntheticPayload(seq, job.payload_bytes()));
    std::vector<v1::Measurement> batch;
    batch.push_back(std::move(m));
    const absl::Status emitted =
        ctx.Emit(std::move(batch), static_cast<double>(seq) / static_cast<double>(total), "");
    if (!emitted.ok()) return JobResultReport::Failed(std::string(emitted.message()));
    done = seq;
    if (interval > absl::ZeroDuration() && done < total && !ctx.SleepFor(interval)) {
      return JobResultReport::CancelledBy(ctx, summary());
    }
  }
  if (job.fail_after() > 0 && done >= job.fail_after()) {
    return JobResultReport::Failed(
        absl::StrCat("synthetic failure after ", job.fail_after(), " measurements (fail_after)"));
  }
  return JobResultReport::Succeeded(summary());
}

}  // namespace ionloop::worker
