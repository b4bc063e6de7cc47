// faultline - chaos sweeps: run a scenario under many seeded fault schedules, minimise a failure, replay it.
#pragma once

#include <faultline/chaos.hpp>
#include <faultline/sim_context.hpp>
#include <faultline/trace.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace faultline {

/// A chaos scenario: given a fresh sim whose chaos engine is armed, it builds
/// its doubles on the sim, runs the code under test and checks invariants.
/// It reports a broken invariant by throwing (any exception; its `what()`
/// becomes the failure text). A stall, livelock or horizon error from
/// `sim.run()` is a failure like any other: a hang found by chaos.
using chaos_scenario = std::function<void(sim_context& sim)>;

/// One run of a scenario: the seed or schedule it ran with, whether it
/// failed, and what chaos injected.
struct chaos_run {
  std::uint64_t seed = 0;
  bool failed = false;
  std::string failure;         ///< what the scenario threw
  std::string invariant;       ///< the invariant that stopped the run (invariant.hpp), if one did
  std::string swarm;           ///< a swarm plan's subset for this seed (`chaos_engine::swarm_subset`)
  fault_schedule schedule;     ///< faults injected, in order: replaying it repeats the run
  std::map<std::string, point_coverage, std::less<>> coverage;
  std::uint64_t trace_hash = 0;
  std::uint64_t trace_events = 0;
  sim_clock::time_point ended{};  ///< the sim's clock when the scenario returned or threw
  std::vector<trace_event> events;  ///< the retained trace, when asked for (determinism checks)
};

/// How a sweep runs.
struct sweep_options {
  chaos_plan plan;
  std::uint64_t first_seed = 1;
  std::uint64_t seeds = 100;  ///< seeds first_seed .. first_seed + seeds - 1
  /// Sharding: this process runs the seeds whose offset from `first_seed`
  /// is `shard_index` modulo `shard_count`, so every seed runs exactly once
  /// across shards (GoogleTest's GTEST_TOTAL_SHARDS / GTEST_SHARD_INDEX).
  std::uint64_t shard_index = 0;
  std::uint64_t shard_count = 1;
  /// Also shuffle handlers ready at the same instant (`sim_options::perturb`),
  /// drawn from the same seed.
  bool perturb = false;
  /// Reruns minimisation may spend on a failure (0: do not minimise).
  std::size_t minimise_budget = 300;
  /// The rest of each run's sim options; `seed` and `perturb` are set per run.
  sim_options sim;
  /// Called with each seed before its run (print it, append it to a log).
  std::function<void(std::uint64_t seed)> on_seed;
};

/// The smallest failing schedule minimisation found.
struct minimised_failure {
  fault_schedule schedule;
  std::string failure;           ///< what the minimal schedule's run threw
  std::size_t runs = 0;          ///< reruns spent
  bool reproduced = true;        ///< false: replaying the original schedule passed (not deterministic?)
  bool budget_exhausted = false; ///< stopped early: the schedule may shrink further
};

/// What a sweep found.
struct sweep_result {
  std::uint64_t seeds_run = 0;
  std::optional<chaos_run> failure;       ///< the first failing seed's run
  std::optional<minimised_failure> minimal;
  /// Calls and injected faults per point over every run, in name order.
  std::map<std::string, point_coverage, std::less<>> coverage;
  /// Points the plan names that no run called, and fault kinds the plan
  /// gives a rate that were never injected at a point: "fetch: hang never injected".
  std::vector<std::string> never_exercised;
};

/// True when `seed` belongs to this shard of the sweep.
bool in_shard(const sweep_options& options, std::uint64_t seed) noexcept;

/// Runs `scenario` once on a fresh sim seeded with `seed`, chaos drawing from
/// `options.plan`.
chaos_run run_seed(const sweep_options& options, std::uint64_t seed, const chaos_scenario& scenario,
                   bool keep_events = false);

/// Runs `scenario` once injecting exactly `schedule` (the sim seeded with
/// `seed`, which matters for perturbation and failpoint `p%` draws only).
chaos_run run_schedule(const sweep_options& options, const fault_schedule& schedule, std::uint64_t seed,
                       const chaos_scenario& scenario, bool keep_events = false);

/// Shrinks a failing run's schedule while the scenario still fails: delta
/// debugging over its faults (drop halves, quarters, ... single faults),
/// then halving each latency, then moving each fault to the earliest call
/// that still fails. At most `options.minimise_budget` reruns. When an
/// invariant stopped the failing run, "fails" means "breaks that same
/// invariant": the minimal schedule never trades it for another failure.
minimised_failure minimise(const sweep_options& options, const chaos_run& failing, const chaos_scenario& scenario);

/// Runs this shard's seeds in order until one fails, then minimises it.
///
/// **Example**:
/// ```
/// faultline::sweep_options o;
/// o.plan.point("fetch", faultline::fault_rates().error(0.3).hang(0.1));
/// auto r = faultline::sweep(o, [](faultline::sim_context& sim) {
///   faultline::async_fake<std::string(std::string)> fetch(sim, "fetch");
///   fetch.on_call().after(10ms).returns("ok").repeatedly();
///   auto out = sim.run(fetch_with_retry(fetch, "/a"));
///   if (!out.has_value()) throw std::runtime_error("no answer: " + out.describe());
/// });
/// if (r.failure) std::cout << describe(r);
/// ```
sweep_result sweep(const sweep_options& options, const chaos_scenario& scenario);

/// A sweep's report: seeds run, the failing seed and schedule, the minimal
/// schedule and its failure, coverage gaps. Several lines.
std::string describe(const sweep_result& r);

/// Options of an exhaustive single-fault sweep.
struct single_fault_options {
  /// Kinds tried at every call of every point.
  std::vector<fault_kind> kinds{fault_kind::error, fault_kind::hang, fault_kind::cancel, fault_kind::latency};
  /// The latency a `latency` fault adds.
  sim_clock::duration latency = std::chrono::seconds(1);
  /// Error code of `error` faults.
  boost::system::error_code error_code = make_error_code(faultline::error::injected_fault);
  sim_options sim;
  std::uint64_t seed = 0;
};

/// What an exhaustive single-fault sweep found.
struct single_fault_result {
  chaos_run baseline;            ///< the fault-free run, which learnt each point's call count
  std::size_t runs = 0;          ///< single-fault runs made
  std::optional<chaos_run> failure;  ///< the first one that failed (its schedule has the one fault)
};

/// Beast's `fail_count`, generalised: runs `scenario` fault-free to learn
/// every injection point's call count, then once per (point, call, kind)
/// with exactly that one fault, in point-name, call and kind order, and
/// stops at the first failure. Deterministic and seedless: a per-commit check.
/// If the fault-free run fails, that is the result (`failure` is the baseline).
single_fault_result sweep_single_faults(const single_fault_options& options, const chaos_scenario& scenario);

/// Whether a seed replays bit for bit.
struct determinism_result {
  bool deterministic = true;
  std::uint64_t first_hash = 0;
  std::uint64_t second_hash = 0;
  /// On a mismatch, the first event that differs, from both runs:
  /// "event 12: t=0.100s fetch#1 returned \"a\" vs t=0.100s fetch#1 returned \"b\"".
  std::string first_difference;
};

/// FoundationDB's unseed check: runs `seed` twice and compares the traces.
determinism_result check_determinism(const sweep_options& options, std::uint64_t seed,
                                     const chaos_scenario& scenario);

}  // namespace faultline
