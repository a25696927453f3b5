// The synthetic job kind (JobSpec.synthetic): a stand-in instrument for tests, demos and
// load. It emits `measurements` SyntheticSample rows numbered 1..N whose value and
// payload are pure functions of their seq, `interval_ms` apart (0: as fast as the
// runtime takes them), with progress = done / N.
//
// - fail_after > 0: after emitting that many it reports FAILED.
// - Resumed after a worker restart: continues after resume_after_measurement_seq(), so
//   the attempt still ends with exactly the seqs 1..N.
// - Cancel: reports CANCELLED; Cancel{reason: "early_stop"}: reports SUCCEEDED with
//   stopped_early (the samples so far are its result).
// Summary: {"measurements": rows emitted by this attempt in total, "last_value": ...}.
#ifndef IONLOOP_WORKERS_SYNTHETIC_SYNTHETIC_HANDLER_H_
#define IONLOOP_WORKERS_SYNTHETIC_SYNTHETIC_HANDLER_H_

#include <cstdint>
#include <string>

#include "workers/runtime/job_handler.h"

namespace ionloop::worker {

// The value of sample `seq`: sin(seq / 100) + seq / 1000, exactly reproducible.
double SyntheticValue(uint64_t seq);
// `bytes` bytes derived from `seq` (a cheap byte pattern, not random).
std::string SyntheticPayload(uint64_t seq, uint32_t bytes);

class SyntheticHandler final : public JobHandler {
 public:
  JobResultReport Run(JobContext& ctx) override;
};

}  // namespace ionloop::worker

#endif  // IONLOOP_WORKERS_SYNTHETIC_SYNTHETIC_HANDLER_H_
