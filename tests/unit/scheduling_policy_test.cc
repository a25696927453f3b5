#include "orchestrator/scheduler/scheduling_policy.h"

#include <algorithm>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "orchestrator/scheduler/capability_match.h"

namespace ionloop::orchestrator::scheduler {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

v1::JobSpec CyclingSpec(v1::Ion ion = v1::ION_NA, double temperature_c = 25) {
  v1::JobSpec spec;
  v1::CellSpec* cell = spec.mutable_cycling()->mutable_cell();
  cell->set_ion(ion);
  cell->set_design(v1::CELL_DESIGN_COIN);
  cell->set_nominal_capacity_ah(0.004);
  v1::CyclingProtocol* p = cell->mutable_protocol();
  p->set_charge_c_rate(1);
  p->set_discharge_c_rate(1);
  p->set_voltage_min_v(2.0);
  p->set_voltage_max_v(4.25);
  p->set_temperature_c(temperature_c);
  spec.mutable_cycling()->set_max_cycles(500);
  return spec;
}

v1::JobSpec XrdSpec(double wavelength = 1.54184) {
  v1::JobSpec spec;
  spec.mutable_xrd()->set_sample_id("s");
  spec.mutable_xrd()->set_wavelength_angstrom(wavelength);
  return spec;
}

v1::JobSpec SimulationSpec(const std::string& engine = "ml-md") {
  v1::JobSpec spec;
  spec.mutable_simulation()->set_engine(engine);
  return spec;
}

v1::Capabilities CyclerCaps(double t_min = -10, double t_max = 45) {
  v1::Capabilities caps;
  caps.set_kind(v1::JOB_KIND_CYCLING);
  caps.set_channels(8);
  caps.set_temperature_min_c(t_min);
  caps.set_temperature_max_c(t_max);
  caps.set_voltage_min_v(1.5);
  caps.set_voltage_max_v(4.5);
  caps.set_current_max_a(5);
  caps.add_ions(v1::ION_LI);
  caps.add_ions(v1::ION_NA);
  return caps;
}

v1::Capabilities XrdCaps() {
  v1::Capabilities caps;
  caps.set_kind(v1::JOB_KIND_XRD);
  caps.set_channels(1);
  caps.add_xrd_wavelengths_angstrom(1.54184);
  return caps;
}

v1::Capabilities SimCaps() {
  v1::Capabilities caps;
  caps.set_kind(v1::JOB_KIND_SIMULATION);
  caps.set_channels(4);
  caps.add_simulation_engines("ml-md");
  return caps;
}

// Owns the specs and capabilities the policy's inputs point to.
class SchedulingPolicyTest : public ::testing::Test {
 protected:
  const v1::JobSpec* Spec(v1::JobSpec spec) {
    specs_.push_back(std::move(spec));
    return &specs_.back();
  }
  const v1::Capabilities* Caps(v1::Capabilities caps) {
    caps_.push_back(std::move(caps));
    return &caps_.back();
  }

  // Cycling jobs by default; the job id is "<campaign or sa>-<order>".
  QueuedJob Job(int64_t order, const std::string& campaign = "", int32_t priority = 0,
                const v1::JobSpec* spec = nullptr) {
    QueuedJob job;
    job.job_id = absl::StrCat(campaign.empty() ? "sa" : campaign, "-", order);
    job.order = order;
    job.priority = priority;
    job.campaign_id = campaign;
    job.spec = spec != nullptr ? spec : Spec(CyclingSpec());
    return job;
  }

  WorkerSlots Cycler(const std::string& id, int free) {
    return WorkerSlots{id, Caps(CyclerCaps()), free};
  }

  std::vector<Assignment> Run(const std::vector<QueuedJob>& queue,
                              const std::vector<WorkerSlots>& workers,
                              const absl::flat_hash_map<std::string, int>& running = {}) {
    return Schedule(queue, workers, running, kNow);
  }

  static std::vector<std::string> JobIds(const std::vector<Assignment>& out) {
    std::vector<std::string> ids;
    for (const Assignment& a : out) ids.push_back(a.job_id);
    return ids;
  }

  std::deque<v1::JobSpec> specs_;
  std::deque<v1::Capabilities> caps_;
};

// ---- basics ----

TEST_F(SchedulingPolicyTest, NothingToDoWithoutJobsOrSlots) {
  EXPECT_THAT(Run({}, {Cycler("c1", 4)}), IsEmpty());
  EXPECT_THAT(Run({Job(1)}, {}), IsEmpty());
  EXPECT_THAT(Run({Job(1)}, {Cycler("c1", 0)}), IsEmpty());
  EXPECT_THAT(Run({Job(1)}, {WorkerSlots{"c1", nullptr, 4}}), IsEmpty());
  QueuedJob no_spec = Job(1);
  no_spec.spec = nullptr;
  EXPECT_THAT(Run({no_spec}, {Cycler("c1", 4)}), IsEmpty());
}

TEST_F(SchedulingPolicyTest, AssignsEveryJobThatFits) {
  EXPECT_THAT(Run({Job(1), Job(2)}, {Cycler("c1", 4)}),
              ElementsAre(Assignment{"sa-1", "c1"}, Assignment{"sa-2", "c1"}));
}

TEST_F(SchedulingPolicyTest, NeverExceedsAWorkersFreeSlots) {
  std::vector<QueuedJob> queue;
  for (int i = 0; i < 10; ++i) queue.push_back(Job(i));
  const auto out = Run(queue, {Cycler("c1", 2), Cycler("c2", 1)});
  ASSERT_EQ(out.size(), 3u);
  std::map<std::string, int> per_worker;
  for (const Assignment& a : out) ++per_worker[a.worker_id];
  EXPECT_EQ(per_worker["c1"], 2);
  EXPECT_EQ(per_worker["c2"], 1);
  EXPECT_THAT(JobIds(out), ElementsAre("sa-0", "sa-1", "sa-2"));
}

// ---- priority and FIFO ----

TEST_F(SchedulingPolicyTest, HigherPriorityFirst) {
  EXPECT_THAT(Run({Job(1, "", 0), Job(2, "", 5)}, {Cycler("c1", 1)}),
              ElementsAre(Assignment{"sa-2", "c1"}));
  EXPECT_THAT(JobIds(Run({Job(1, "", -3), Job(2, "", 0), Job(3, "", 9), Job(4, "", 0)},
                         {Cycler("c1", 8)})),
              ElementsAre("sa-3", "sa-2", "sa-4", "sa-1"));
}

TEST_F(SchedulingPolicyTest, PriorityBeatsFairShare) {
  // A already runs 50 jobs, but its job has the higher priority.
  EXPECT_THAT(JobIds(Run({Job(1, "B", 0), Job(2, "A", 10)}, {Cycler("c1", 1)},
                         {{"A", 50}})),
              ElementsAre("A-2"));
}

TEST_F(SchedulingPolicyTest, FifoWithinACampaign) {
  // Submission order, not the order of the snapshot.
  EXPECT_THAT(JobIds(Run({Job(7, "A"), Job(3, "A"), Job(5, "A")}, {Cycler("c1", 2)})),
              ElementsAre("A-3", "A-5"));
}

// ---- fair share ----

TEST_F(SchedulingPolicyTest, FairShareAcrossThreeCampaigns) {
  std::vector<QueuedJob> queue;
  for (int i = 0; i < 10; ++i) queue.push_back(Job(i, "A"));  // A submitted first
  queue.push_back(Job(10, "B"));
  queue.push_back(Job(11, "B"));
  queue.push_back(Job(12, "C"));
  queue.push_back(Job(13, "C"));

  // 3 slots: one each, each campaign's oldest, in order of their oldest job.
  EXPECT_THAT(JobIds(Run(queue, {Cycler("c1", 3)})), ElementsAre("A-0", "B-10", "C-12"));
  // 6 slots: two each.
  EXPECT_THAT(JobIds(Run(queue, {Cycler("c1", 6)})),
              ElementsAre("A-0", "B-10", "C-12", "A-1", "B-11", "C-13"));
  // 8 slots: B and C have nothing left, A takes the rest.
  EXPECT_THAT(JobIds(Run(queue, {Cycler("c1", 8)})),
              ElementsAre("A-0", "B-10", "C-12", "A-1", "B-11", "C-13", "A-2", "A-3"));
}

TEST_F(SchedulingPolicyTest, FairShareCountsRunningJobs) {
  std::vector<QueuedJob> queue = {Job(1, "A"), Job(2, "A"), Job(3, "B"), Job(4, "B"),
                                  Job(5, "C")};
  // A runs 3, B runs 1, C none: C, then B (1 vs A's 3), then B again (2 < 3).
  EXPECT_THAT(JobIds(Run(queue, {Cycler("c1", 3)}, {{"A", 3}, {"B", 1}})),
              ElementsAre("C-5", "B-3", "B-4"));
  // One more slot: B has reached A's 3 and has no jobs left, so A's oldest goes.
  EXPECT_THAT(JobIds(Run(queue, {Cycler("c1", 4)}, {{"A", 3}, {"B", 1}})),
              ElementsAre("C-5", "B-3", "B-4", "A-1"));
}

TEST_F(SchedulingPolicyTest, FairShareTiesGoToTheOldestJob) {
  EXPECT_THAT(JobIds(Run({Job(5, "B"), Job(3, "C"), Job(4, "A")}, {Cycler("c1", 3)})),
              ElementsAre("C-3", "A-4", "B-5"));
}

TEST_F(SchedulingPolicyTest, StandAloneJobsShareOneGroup) {
  // Three stand-alone jobs count as one campaign against campaign A.
  std::vector<QueuedJob> queue = {Job(1), Job(2), Job(3), Job(4, "A"), Job(5, "A")};
  EXPECT_THAT(JobIds(Run(queue, {Cycler("c1", 2)})), ElementsAre("sa-1", "A-4"));
  EXPECT_THAT(JobIds(Run(queue, {Cycler("c1", 2)}, {{"", 2}})), ElementsAre("A-4", "A-5"));
}

TEST_F(SchedulingPolicyTest, FairShareAppliesWithinEachPriority) {
  // Priority 5: A and B share; then priority 0 with the shares carried over.
  std::vector<QueuedJob> queue = {Job(1, "A", 5), Job(2, "A", 5), Job(3, "B", 5),
                                  Job(4, "A", 0), Job(5, "C", 0), Job(6, "C", 0)};
  EXPECT_THAT(JobIds(Run(queue, {Cycler("c1", 5)})),
              ElementsAre("A-1", "B-3", "A-2", "C-5", "C-6"));
}

// ---- capabilities ----

TEST_F(SchedulingPolicyTest, JobsGoOnlyToCapableWorkers) {
  std::vector<QueuedJob> queue = {
      Job(1, "", 0, Spec(XrdSpec())), Job(2), Job(3, "", 0, Spec(SimulationSpec())),
      Job(4, "", 0, Spec(CyclingSpec(v1::ION_NA, 60)))};  // needs a hot chamber
  std::vector<WorkerSlots> workers = {
      Cycler("cold", 4), WorkerSlots{"hot", Caps(CyclerCaps(20, 80)), 1},
      WorkerSlots{"xrd", Caps(XrdCaps()), 1}, WorkerSlots{"sim", Caps(SimCaps()), 4}};
  const auto out = Run(queue, workers);
  EXPECT_THAT(out, UnorderedElementsAre(Assignment{"sa-1", "xrd"}, Assignment{"sa-2", "cold"},
                                        Assignment{"sa-3", "sim"}, Assignment{"sa-4", "hot"}));
  for (const Assignment& a : out) {
    const QueuedJob& job = *std::find_if(queue.begin(), queue.end(),
                                         [&](const QueuedJob& j) { return j.job_id == a.job_id; });
    const WorkerSlots& worker = *std::find_if(
        workers.begin(), workers.end(), [&](const WorkerSlots& w) { return w.worker_id == a.worker_id; });
    EXPECT_TRUE(CheckCapabilities(*worker.capabilities, *job.spec).ok()) << a.job_id;
  }
}

TEST_F(SchedulingPolicyTest, ABlockedJobDoesNotBlockTheJobsBehindIt) {
  // A's oldest job needs K, which no worker supports; it neither blocks A's next job nor
  // uses A's share.
  std::vector<QueuedJob> queue = {Job(1, "A", 0, Spec(CyclingSpec(v1::ION_K))), Job(2, "A"),
                                  Job(3, "B"), Job(4, "A")};
  EXPECT_THAT(JobIds(Run(queue, {Cycler("c1", 2)})), ElementsAre("A-2", "B-3"));
  // A higher-priority job that fits nowhere does not hold back lower priorities.
  queue.push_back(Job(0, "D", 50, Spec(XrdSpec())));
  EXPECT_THAT(JobIds(Run(queue, {Cycler("c1", 2)})), ElementsAre("A-2", "B-3"));
}

TEST_F(SchedulingPolicyTest, AJobWhoseWorkersAreFullLetsOthersThrough) {
  // The hot worker has one slot: the second hot job waits, the ordinary jobs go on.
  std::vector<QueuedJob> queue = {Job(1, "", 0, Spec(CyclingSpec(v1::ION_NA, 60))),
                                  Job(2, "", 0, Spec(CyclingSpec(v1::ION_NA, 60))), Job(3),
                                  Job(4)};
  std::vector<WorkerSlots> workers = {WorkerSlots{"hot", Caps(CyclerCaps(20, 80)), 1},
                                      Cycler("cold", 2)};
  EXPECT_THAT(Run(queue, workers),
              ElementsAre(Assignment{"sa-1", "hot"}, Assignment{"sa-3", "cold"},
                          Assignment{"sa-4", "cold"}));
}

// ---- backoff ----

TEST_F(SchedulingPolicyTest, JobsInBackoffAreSkipped) {
  QueuedJob waiting = Job(1);
  waiting.not_before = kNow + absl::Seconds(1);
  QueuedJob due = Job(2);
  due.not_before = kNow;  // due exactly now: eligible
  QueuedJob past = Job(3);
  past.not_before = kNow - absl::Seconds(30);
  EXPECT_THAT(JobIds(Run({waiting, due, past}, {Cycler("c1", 4)})), ElementsAre("sa-2", "sa-3"));
  EXPECT_THAT(JobIds(Schedule({waiting}, {Cycler("c1", 4)}, {}, kNow + absl::Seconds(1))),
              ElementsAre("sa-1"));
}

// ---- placement ----

TEST_F(SchedulingPolicyTest, PrefersTheWorkerWithTheMostFreeSlots) {
  std::vector<WorkerSlots> workers = {Cycler("w-b", 3), Cycler("w-c", 1), Cycler("w-a", 3)};
  EXPECT_THAT(Run({Job(1)}, workers), ElementsAre(Assignment{"sa-1", "w-a"}));  // tie: id
  // Spreads: a(3) → b(3) → a(2) → b(2) → a(1) b(1) c(1) by id.
  EXPECT_THAT(Run({Job(1), Job(2), Job(3), Job(4), Job(5), Job(6), Job(7), Job(8)}, workers),
              ElementsAre(Assignment{"sa-1", "w-a"}, Assignment{"sa-2", "w-b"},
                          Assignment{"sa-3", "w-a"}, Assignment{"sa-4", "w-b"},
                          Assignment{"sa-5", "w-a"}, Assignment{"sa-6", "w-b"},
                          Assignment{"sa-7", "w-c"}));
  std::vector<WorkerSlots> uneven = {Cycler("w-a", 1), Cycler("w-z", 5)};
  EXPECT_THAT(Run({Job(1)}, uneven), ElementsAre(Assignment{"sa-1", "w-z"}));
}

TEST_F(SchedulingPolicyTest, WorkersOfDifferentModelsCompeteOnFreeSlots) {
  // Both can run a 25 °C cell; the one with more free slots wins, whatever its model.
  std::vector<WorkerSlots> workers = {Cycler("cold", 2),
                                      WorkerSlots{"hot", Caps(CyclerCaps(20, 80)), 3},
                                      WorkerSlots{"x", Caps(XrdCaps()), 9}};
  EXPECT_THAT(Run({Job(1), Job(2), Job(3)}, workers),
              ElementsAre(Assignment{"sa-1", "hot"}, Assignment{"sa-2", "cold"},
                          Assignment{"sa-3", "hot"}));
}

// ---- determinism ----

TEST_F(SchedulingPolicyTest, TheResultDoesNotDependOnInputOrder) {
  std::vector<QueuedJob> queue;
  const std::string campaigns[] = {"", "A", "B", "C"};
  for (int i = 0; i < 60; ++i) {
    const v1::JobSpec* spec = i % 5 == 0   ? Spec(XrdSpec())
                              : i % 7 == 0 ? Spec(CyclingSpec(v1::ION_NA, 60))
                                           : Spec(CyclingSpec());
    queue.push_back(Job(i, campaigns[i % 4], i % 3 - 1, spec));
  }
  std::vector<WorkerSlots> workers = {Cycler("c1", 5), Cycler("c2", 3),
                                      WorkerSlots{"hot", Caps(CyclerCaps(20, 80)), 2},
                                      WorkerSlots{"x", Caps(XrdCaps()), 2}, Cycler("c3", 5)};
  const absl::flat_hash_map<std::string, int> running = {{"A", 2}, {"C", 1}};
  const auto expected = Run(queue, workers, running);
  ASSERT_EQ(expected.size(), 17u);
  std::mt19937 rng(42);  // seeded: the test is reproducible
  for (int round = 0; round < 20; ++round) {
    std::shuffle(queue.begin(), queue.end(), rng);
    std::shuffle(workers.begin(), workers.end(), rng);
    EXPECT_EQ(Run(queue, workers, running), expected) << "round " << round;
  }
}

// ---- scale ----

TEST_F(SchedulingPolicyTest, TenThousandJobsOnAHundredWorkersAreFairAndFifo) {
  // 10 campaigns × 1000 jobs, interleaved; 100 workers × 5 slots = 500 slots: every
  // campaign gets exactly its 50 oldest jobs.
  const v1::JobSpec* spec = Spec(CyclingSpec());
  std::vector<QueuedJob> queue;
  for (int i = 0; i < 10'000; ++i) queue.push_back(Job(i, absl::StrCat("camp", i % 10), 0, spec));
  std::vector<WorkerSlots> workers;
  for (int w = 0; w < 100; ++w) workers.push_back(Cycler(absl::StrCat("cycler-", w), 5));

  const auto out = Run(queue, workers);
  ASSERT_EQ(out.size(), 500u);
  std::map<std::string, int> per_worker;
  std::set<std::string> assigned;
  for (const Assignment& a : out) {
    ++per_worker[a.worker_id];
    EXPECT_TRUE(assigned.insert(a.job_id).second) << a.job_id << " assigned twice";
  }
  EXPECT_EQ(per_worker.size(), 100u);
  for (const auto& [id, n] : per_worker) EXPECT_EQ(n, 5) << id;
  for (int i = 0; i < 10'000; ++i) {
    const bool among_oldest = i < 500;  // jobs 0..499 are each campaign's 50 oldest
    EXPECT_EQ(assigned.count(queue[i].job_id) == 1, among_oldest) << queue[i].job_id;
  }
}

TEST_F(SchedulingPolicyTest, TenThousandMixedJobsOnAHundredWorkersKeepEveryRule) {
  // Mixed kinds, priorities, campaigns, backoff, unplaceable jobs; the assertions are
  // the policy's invariants.
  const v1::JobSpec* kinds[] = {Spec(CyclingSpec()), Spec(CyclingSpec(v1::ION_LI, 60)),
                                Spec(CyclingSpec(v1::ION_K)), Spec(XrdSpec()),
                                Spec(XrdSpec(0.7107)), Spec(SimulationSpec()),
                                Spec(SimulationSpec("lammps"))};
  std::mt19937 rng(7);
  std::vector<QueuedJob> queue;
  for (int i = 0; i < 10'000; ++i) {
    QueuedJob job = Job(i, i % 13 == 0 ? "" : absl::StrCat("c", rng() % 20),
                        static_cast<int32_t>(rng() % 3) - 1, kinds[rng() % 7]);
    if (rng() % 10 == 0) job.not_before = kNow + absl::Seconds(5);
    queue.push_back(job);
  }
  std::vector<WorkerSlots> workers;
  for (int w = 0; w < 100; ++w) {
    const v1::Capabilities* caps = w < 50   ? Caps(CyclerCaps())
                                   : w < 60 ? Caps(CyclerCaps(20, 80))
                                   : w < 80 ? Caps(XrdCaps())
                                            : Caps(SimCaps());
    workers.push_back(WorkerSlots{absl::StrCat("w", w), caps, static_cast<int>(rng() % 6)});
  }
  absl::flat_hash_map<std::string, int> running;
  for (int c = 0; c < 20; ++c) running[absl::StrCat("c", c)] = static_cast<int>(rng() % 4);

  const auto out = Run(queue, workers, running);
  ASSERT_FALSE(out.empty());

  // Capability checks of the 7 specs × 100 workers, done once.
  std::map<std::pair<const v1::JobSpec*, const v1::Capabilities*>, bool> can_run;
  auto CanRun = [&](const WorkerSlots& w, const QueuedJob& j) {
    auto [it, inserted] = can_run.try_emplace({j.spec, w.capabilities}, false);
    if (inserted) it->second = CheckCapabilities(*w.capabilities, *j.spec).ok();
    return it->second;
  };
  absl::flat_hash_map<std::string, size_t> job_index;
  for (size_t i = 0; i < queue.size(); ++i) job_index[queue[i].job_id] = i;
  absl::flat_hash_map<std::string, size_t> worker_index;
  std::vector<int> left;
  for (size_t w = 0; w < workers.size(); ++w) {
    worker_index[workers[w].worker_id] = w;
    left.push_back(workers[w].free_slots);
  }
  std::vector<bool> assigned(queue.size(), false);
  for (const Assignment& a : out) {
    const size_t j = job_index.at(a.job_id);
    const size_t w = worker_index.at(a.worker_id);
    EXPECT_FALSE(assigned[j]) << a.job_id << " assigned twice";
    assigned[j] = true;
    EXPECT_GE(--left[w], 0) << a.worker_id;
    EXPECT_LE(queue[j].not_before, kNow) << a.job_id;
    EXPECT_TRUE(CheckCapabilities(*workers[w].capabilities, *queue[j].spec).ok()) << a.job_id;
  }
  auto Waiting = [&](size_t j) { return !assigned[j] && queue[j].not_before <= kNow; };

  // Work-conserving: an eligible job left waiting has no capable worker with a slot left.
  for (size_t j = 0; j < queue.size(); ++j) {
    if (!Waiting(j)) continue;
    for (size_t w = 0; w < workers.size(); ++w) {
      EXPECT_FALSE(left[w] > 0 && CanRun(workers[w], queue[j]))
          << queue[j].job_id << " waits while " << workers[w].worker_id << " has a slot";
    }
  }
  for (const Assignment& a : out) {
    const QueuedJob& given = queue[job_index.at(a.job_id)];
    const WorkerSlots& worker = workers[worker_index.at(a.worker_id)];
    for (size_t j = 0; j < queue.size(); ++j) {
      if (!Waiting(j)) continue;
      const QueuedJob& waiting = queue[j];
      // Priority: no slot a waiting job could use went to a job of lower priority.
      EXPECT_FALSE(waiting.priority > given.priority && CanRun(worker, waiting))
          << waiting.job_id << " (priority " << waiting.priority << ") waits while "
          << a.job_id << " (priority " << given.priority << ") got " << a.worker_id;
      // FIFO: within a campaign and priority, no younger job with the same requirements
      // went before an older one that waits.
      if (waiting.campaign_id == given.campaign_id && waiting.priority == given.priority &&
          waiting.spec == given.spec) {
        EXPECT_LT(given.order, waiting.order) << given.job_id << " before " << waiting.job_id;
      }
    }
  }
}

// ---- why unschedulable ----

TEST_F(SchedulingPolicyTest, WhyUnschedulableIsEmptyWhenSomeWorkerFits) {
  const v1::Capabilities xrd = XrdCaps();
  const v1::Capabilities cycler = CyclerCaps();
  const v1::Capabilities* known[] = {&xrd, &cycler};
  EXPECT_EQ(WhyUnschedulable(CyclingSpec(), known), "");
}

TEST_F(SchedulingPolicyTest, WhyUnschedulableNamesEachWorkersReason) {
  const v1::Capabilities xrd = XrdCaps();
  const v1::Capabilities cycler = CyclerCaps();
  const v1::Capabilities* known[] = {&xrd, &cycler};
  const std::string ids[] = {"xrd-1", "cycler-1"};
  // The cycler (same kind) is listed first.
  EXPECT_EQ(WhyUnschedulable(CyclingSpec(v1::ION_NA, 60), known, ids),
            "no registered worker can run this job: worker cycler-1: temperature 60 °C "
            "outside the worker's -10..45 °C; worker xrd-1: worker kind xrd, job is cycling");
  // Without ids, workers are named by position.
  EXPECT_EQ(WhyUnschedulable(CyclingSpec(v1::ION_K), known),
            "no registered worker can run this job: worker #2: needs ion K, worker supports "
            "LI, NA; worker #1: worker kind xrd, job is cycling");
}

TEST_F(SchedulingPolicyTest, WhyUnschedulableCapsTheList) {
  std::vector<v1::Capabilities> caps(7, XrdCaps());
  std::vector<const v1::Capabilities*> known;
  std::vector<std::string> ids;
  for (size_t i = 0; i < caps.size(); ++i) {
    known.push_back(&caps[i]);
    ids.push_back(absl::StrCat("xrd-", i));
  }
  known.push_back(nullptr);  // skipped
  const std::string why = WhyUnschedulable(XrdSpec(0.5), known, ids);
  EXPECT_THAT(why, StartsWith("no registered worker can run this job: worker xrd-0: needs "
                              "wavelength 0.5 Å, worker has 1.54184 Å; worker xrd-1"));
  EXPECT_THAT(why, HasSubstr("worker xrd-3"));
  EXPECT_THAT(why, Not(HasSubstr("worker xrd-4")));
  EXPECT_THAT(why, ::testing::EndsWith("; and 3 more"));
}

TEST_F(SchedulingPolicyTest, WhyUnschedulableWithNoWorkers) {
  EXPECT_EQ(WhyUnschedulable(SimulationSpec(), {}),
            "no registered worker can run this job: no worker is registered");
}

}  // namespace
}  // namespace ionloop::orchestrator::scheduler
