#include "workers/runtime/update_batcher.h"

#include <algorithm>
#include <utility>

namespace ionloop::worker {
namespace {

// A measurement's share of an update on the wire: its bytes plus tag and length.
size_t WireBytes(const v1::Measurement& m) { return m.ByteSizeLong() + 6; }

}  // namespace

UpdateBatcher::UpdateBatcher(BatchLimits limits) : limits_(limits) {
  limits_.max_measurements = std::max<size_t>(limits_.max_measurements, 1);
  limits_.max_bytes = std::max<size_t>(limits_.max_bytes, 1);
}

v1::JobUpdate UpdateBatcher::Cut() {
  v1::JobUpdate out;
  out.Swap(&pending_);
  pending_.set_progress(out.progress());  // later cuts keep the latest progress
  pending_bytes_ = 0;
  progress_dirty_ = false;
  return out;
}

std::vector<v1::JobUpdate> UpdateBatcher::Add(std::vector<v1::Measurement> measurements,
                                              double progress, std::string checkpoint) {
  std::vector<v1::JobUpdate> out;
  for (v1::Measurement& m : measurements) {
    const size_t bytes = WireBytes(m);
    if (!pending_.measurements().empty() && pending_bytes_ + bytes > limits_.max_bytes) {
      out.push_back(Cut());
    }
    *pending_.add_measurements() = std::move(m);
    pending_bytes_ += bytes;
    pending_.set_progress(progress);
    if (pending_measurements() >= limits_.max_measurements || pending_bytes_ >= limits_.max_bytes) {
      out.push_back(Cut());
    }
  }
  pending_.set_progress(progress);
  for (v1::JobUpdate& u : out) u.set_progress(progress);
  progress_dirty_ = true;
  if (!checkpoint.empty()) {
    // Keep each update near max_bytes: a big checkpoint travels without measurements.
    if (!pending_.measurements().empty() &&
        pending_bytes_ + checkpoint.size() > limits_.max_bytes) {
      out.push_back(Cut());
    }
    v1::JobUpdate last = Cut();
    last.set_checkpoint(std::move(checkpoint));
    out.push_back(std::move(last));
  } else if (!measurements.empty() && pending_.measurements().empty() && !out.empty()) {
    progress_dirty_ = false;  // the last full batch carried the progress
  }
  return out;
}

std::optional<v1::JobUpdate> UpdateBatcher::TakeAll() {
  if (!has_pending()) return std::nullopt;
  return Cut();
}

}  // namespace ionloop::worker
