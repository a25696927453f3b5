// Counter normalisation (raw cycler counters → cumulative within the cycle), the
// per-cycle summary, and V(Q) curves.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "instruments/cycler_files/reader_internal.h"

namespace ionloop::instruments::cycler_files {
namespace internal {
namespace {

bool StepBoundary(const Sample& prev, const Sample& cur) {
  if (cur.step != prev.step) return true;
  return std::isfinite(cur.step_time_s) && std::isfinite(prev.step_time_s) &&
         cur.step_time_s < prev.step_time_s;
}

// Rewrites one counter in place; returns whether any sample carried a value.
bool Accumulate(std::vector<Sample>& samples, double Sample::*field, CounterReset reset) {
  bool any = false;
  double completed = 0;
  double last = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    Sample& s = samples[i];
    if (i == 0 || s.cycle != samples[i - 1].cycle) {
      completed = 0;
      last = 0;
    } else if (reset == CounterReset::kEachStep && StepBoundary(samples[i - 1], s)) {
      completed += last;
      last = 0;
    }
    const double raw = s.*field;
    if (!std::isnan(raw)) {
      any = true;
      const double v = std::fabs(raw);
      if (v < 0.5 * last) completed += last;  // the cycler reset its counter
      last = v;
    }
    s.*field = completed + last;
  }
  return any;
}

// ∫V dQ / ∫dQ over increments of a cumulative counter, or nullopt when nothing flowed.
std::optional<double> WeightedVoltage(const std::vector<Sample>& samples, size_t begin,
                                      size_t end, double Sample::*counter) {
  double q = 0, vq = 0;
  for (size_t i = begin + 1; i < end; ++i) {
    const double dq = samples[i].*counter - samples[i - 1].*counter;
    if (dq <= 0) continue;
    q += dq;
    vq += 0.5 * (samples[i].voltage_v + samples[i - 1].voltage_v) * dq;
  }
  if (!(q > 0) || !std::isfinite(vq / q)) return std::nullopt;
  return vq / q;
}

CycleSummary Summarize(const CyclerFile& file, size_t begin, size_t end, int cycle_base) {
  const std::vector<Sample>& s = file.samples;
  CycleSummary c;
  c.file_cycle = s[begin].cycle;
  c.cycle_index = s[begin].cycle - cycle_base + 1;
  c.first_sample = begin;
  c.num_samples = end - begin;
  c.start_s = s[begin].test_time_s;
  c.elapsed_s = s[end - 1].test_time_s;
  double t_sum = 0;
  size_t t_n = 0;
  for (size_t i = begin; i < end; ++i) {
    c.charge_capacity_ah = std::max(c.charge_capacity_ah, s[i].charge_capacity_ah);
    c.discharge_capacity_ah = std::max(c.discharge_capacity_ah, s[i].discharge_capacity_ah);
    if (file.has_energy) {
      c.charge_energy_wh = std::max(c.charge_energy_wh, s[i].charge_energy_wh);
      c.discharge_energy_wh = std::max(c.discharge_energy_wh, s[i].discharge_energy_wh);
    }
    const double r = s[i].internal_resistance_ohm;
    if (std::isfinite(r) && r != 0) c.internal_resistance_ohm = r;
    const double t = s[i].temperature_c;
    if (std::isfinite(t)) {
      t_sum += t;
      ++t_n;
      c.min_temperature_c = c.min_temperature_c ? std::min(*c.min_temperature_c, t) : t;
      c.max_temperature_c = c.max_temperature_c ? std::max(*c.max_temperature_c, t) : t;
    }
  }
  if (t_n > 0) c.temperature_c = t_sum / static_cast<double>(t_n);
  if (c.charge_capacity_ah > 0) {
    c.coulombic_efficiency = c.discharge_capacity_ah / c.charge_capacity_ah;
    if (c.charge_energy_wh > 0) {
      c.mean_charge_voltage_v = c.charge_energy_wh / c.charge_capacity_ah;
    } else {
      c.mean_charge_voltage_v =
          WeightedVoltage(s, begin, end, &Sample::charge_capacity_ah);
    }
  }
  if (c.discharge_capacity_ah > 0) {
    if (c.discharge_energy_wh > 0) {
      c.mean_discharge_voltage_v = c.discharge_energy_wh / c.discharge_capacity_ah;
    } else {
      c.mean_discharge_voltage_v =
          WeightedVoltage(s, begin, end, &Sample::discharge_capacity_ah);
    }
  }
  for (std::optional<double>* v : {&c.coulombic_efficiency, &c.mean_charge_voltage_v,
                                   &c.mean_discharge_voltage_v}) {
    if (*v && !std::isfinite(**v)) v->reset();
  }
  return c;
}

}  // namespace

absl::Status Finish(CounterReset reset, int cycle_base, CyclerFile* file) {
  std::vector<Sample>& samples = file->samples;
  if (samples.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(BaseName(file->source), ": no data rows"));
  }
  Accumulate(samples, &Sample::charge_capacity_ah, reset);
  Accumulate(samples, &Sample::discharge_capacity_ah, reset);
  const bool charge_energy = Accumulate(samples, &Sample::charge_energy_wh, reset);
  const bool discharge_energy = Accumulate(samples, &Sample::discharge_energy_wh, reset);
  file->has_energy = charge_energy || discharge_energy;
  if (!file->has_energy) {
    for (Sample& s : samples) s.charge_energy_wh = s.discharge_energy_wh = kNaN;
  }
  file->has_temperature = absl::c_any_of(
      samples, [](const Sample& s) { return std::isfinite(s.temperature_c); });
  file->has_internal_resistance = absl::c_any_of(samples, [](const Sample& s) {
    return std::isfinite(s.internal_resistance_ohm) && s.internal_resistance_ohm != 0;
  });

  bool warned_back = false;
  size_t begin = 0;
  for (size_t i = 1; i <= samples.size(); ++i) {
    if (i < samples.size() && samples[i].cycle == samples[begin].cycle) continue;
    file->cycles.push_back(Summarize(*file, begin, i, cycle_base));
    if (i < samples.size() && samples[i].cycle < samples[begin].cycle && !warned_back) {
      warned_back = true;
      file->warnings.push_back(absl::StrCat(
          BaseName(file->source), ":", samples[i].line, ": the cycle number goes back from ",
          samples[begin].cycle, " to ", samples[i].cycle,
          "; cycles are summarised in file order"));
    }
    begin = i;
  }
  return absl::OkStatus();
}

}  // namespace internal

std::vector<VoltageCurve> ExtractCurves(const CyclerFile& file, bool is_charge,
                                        absl::Span<const int64_t> cycle_indices) {
  std::vector<VoltageCurve> curves;
  for (const CycleSummary& c : file.cycles) {
    if (!cycle_indices.empty() && !absl::c_linear_search(cycle_indices, c.cycle_index)) {
      continue;
    }
    VoltageCurve curve;
    curve.cycle_index = c.cycle_index;
    curve.is_charge = is_charge;
    const size_t end = std::min(file.samples.size(), c.first_sample + c.num_samples);
    for (size_t i = c.first_sample; i < end; ++i) {
      const Sample& s = file.samples[i];
      if (is_charge ? !(s.current_a > 0) : !(s.current_a < 0)) continue;
      curve.capacity_ah.push_back(is_charge ? s.charge_capacity_ah : s.discharge_capacity_ah);
      curve.voltage_v.push_back(s.voltage_v);
    }
    if (!curve.voltage_v.empty()) curves.push_back(std::move(curve));
  }
  return curves;
}

}  // namespace ionloop::instruments::cycler_files
