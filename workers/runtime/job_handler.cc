#include "workers/runtime/job_handler.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace ionloop::worker {

JobResultReport JobResultReport::Succeeded(std::map<std::string, double> summary) {
  JobResultReport r;
  r.outcome = v1::JOB_OUTCOME_SUCCEEDED;
  r.summary = std::move(summary);
  return r;
}

JobResultReport JobResultReport::Failed(std::string message) {
  JobResultReport r;
  r.outcome = v1::JOB_OUTCOME_FAILED;
  r.message = std::move(message);
  return r;
}

JobResultReport JobResultReport::Cancelled(std::string message) {
  JobResultReport r;
  r.outcome = v1::JOB_OUTCOME_CANCELLED;
  r.message = std::move(message);
  return r;
}

JobResultReport JobResultReport::StoppedEarly(std::map<std::string, double> summary) {
  JobResultReport r = Succeeded(std::move(summary));
  r.stopped_early = true;
  r.message = "stopped early";
  return r;
}

JobResultReport JobResultReport::CancelledBy(const JobContext& ctx,
                                             std::map<std::string, double> summary) {
  const std::string reason = ctx.cancel_reason();
  if (reason == kCancelEarlyStop) return StoppedEarly(std::move(summary));
  JobResultReport r = Cancelled(absl::StrCat("cancelled (", reason.empty() ? "no reason" : reason, ")"));
  r.summary = std::move(summary);
  return r;
}

const HandlerRegistry::Factory* HandlerRegistry::Find(v1::JobKind kind) const {
  auto it = factories_.find(kind);
  return it == factories_.end() ? nullptr : &it->second;
}

std::vector<v1::JobKind> HandlerRegistry::kinds() const {
  std::vector<v1::JobKind> out;
  for (const auto& [kind, factory] : factories_) out.push_back(kind);
  return out;
}

}  // namespace ionloop::worker
