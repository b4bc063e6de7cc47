// faultline - chaos sweeps: run a scenario under many seeded fault schedules, minimise a failure, replay it.
#pragma once

#include <faultline/chaos.hpp>
#include <faultline/sim_context.hpp>
#include <faultline/trace.hpp>

#include <cstdint>
#include <cstddef>
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

struct sweep_result;

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
  /// Called with each schedule before a run that replays it (minimisation's
  /// reruns, `run_schedule`): log it first, so a crash cannot lose it.
  std::function<void(const fault_schedule& schedule, std::uint64_t seed)> on_schedule;
  /// Runs each seed and schedule in a child process (`fork`), as
  /// GoogleTest's death tests do: a crash (a fatal signal, a sanitizer's
  /// exit) is then a failing run like any other, found, minimised and
  /// reported. Its failure text names the signal or exit status, and its
  /// schedule holds the faults injected before the crash. POSIX only; costs
  /// a fork per run. The child's trace events are not kept (`keep_events`).
  bool isolate = false;
  /// Asked before each seed after the first with the sweep so far; false
  /// ends the sweep there (a wall-clock budget, a progress line). The
  /// framework reads no clock: the caller's predicate does.
  std::function<bool(const sweep_result& so_far)> keep_going;
  /// `check_determinism` moves heap addresses between its runs (before the
  /// second, it holds seed-dependent chunks of assorted sizes and frees a
  /// shuffled half), so a run whose order follows addresses (sessions in a
  /// `std::set<std::shared_ptr<T>>`) diverges whatever the build, and the
  /// check says so.
  bool determinism_moves_heap = true;
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
  bool stopped = false;  ///< `keep_going` ended it before its last seed
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

/// Faults injected over every point of `coverage`, by kind, kinds never
/// injected left out: "12 error, 3 hang" ("no faults" when none).
std::string describe_faults(const std::map<std::string, point_coverage, std::less<>>& coverage);

/// Calls per point of `coverage`, in name order: "db.commit 40 calls, fetch 112 calls".
std::string describe_calls(const std::map<std::string, point_coverage, std::less<>>& coverage);

/// Options of the exhaustive fault sweeps (`sweep_single_faults`,
/// `sweep_fault_pairs`): which faults they try, and where.
///
/// **Example**: only errors, with the two codes the code under test handles
/// differently, at the first 4 calls of `fetch`:
/// ```
/// faultline::single_fault_options o;
/// o.kinds = {faultline::fault_kind::error};
/// o.error_codes = {asio::error::timed_out, asio::error::connection_reset};
/// o.points = {"fetch"};
/// o.max_call = 4;
/// ```
struct single_fault_options {
  /// Kinds tried at every call of every point.
  std::vector<fault_kind> kinds{fault_kind::error, fault_kind::hang, fault_kind::cancel, fault_kind::latency};
  /// The latency a `latency` fault adds (used when `latencies` is empty).
  sim_clock::duration latency = std::chrono::seconds(1);
  /// Error code of `error` faults (used when `error_codes` is empty).
  boost::system::error_code error_code = make_error_code(faultline::error::injected_fault);
  /// Each `latency` fault is tried once per duration here, in this order.
  std::vector<sim_clock::duration> latencies;
  /// Each `error` fault is tried once per code here, in this order. Every
  /// code must be one a schedule can name (see `fault_schedule::parse`).
  std::vector<boost::system::error_code> error_codes;
  /// Only these injection points get faults (empty: every point the
  /// fault-free run called).
  std::vector<std::string> points;
  /// These points never get faults (applied after `points`).
  std::vector<std::string> excluded_points;
  /// Calls at index `max_call` or later get no fault (a bound that keeps a
  /// pairwise sweep, quadratic in the faults, affordable; `sweep_fault_pairs`
  /// takes 8 when it is left unbounded).
  std::uint64_t max_call = UINT64_MAX;
  /// A pairwise sweep stops after this many runs and says so (`truncated`).
  std::size_t max_runs = 100000;
  sim_options sim;
  std::uint64_t seed = 0;
  /// Called with each schedule before its run (the fault-free run's is
  /// empty): log it first, so a crash cannot lose it.
  std::function<void(const fault_schedule& schedule)> on_schedule;
  /// Each run in a child process: see `sweep_options::isolate`.
  bool isolate = false;
};

/// What an exhaustive fault sweep found.
struct single_fault_result {
  chaos_run baseline;            ///< the fault-free run, which learnt each point's call count
  std::size_t runs = 0;          ///< faulted runs made
  /// Every failing run, in the order run; each schedule holds the faults
  /// tried (one, or for a pairwise sweep two in call order). When the
  /// fault-free run fails, it is the only entry.
  std::vector<chaos_run> failures;
  /// Pairwise sweeps: single faults that fail on their own (pairs holding
  /// one of them are not run).
  std::vector<chaos_run> single_failures;
  /// Single faults tried, by kind: "error" counts each code, "latency" each duration.
  fault_counts tried;
  bool truncated = false;  ///< a pairwise sweep stopped at `max_runs`
};

/// Beast's `fail_count`, generalised: runs `scenario` fault-free to learn
/// every injection point's call count, then once per (point, call, kind,
/// code or latency) with exactly that one fault, in point-name, call and
/// kind order, and collects every failing run. Deterministic and seedless:
/// a per-commit check. If the fault-free run fails, that is the result.
/// Throws `std::invalid_argument` naming the option when `kinds` is empty
/// or an error code cannot be named by a schedule.
single_fault_result sweep_single_faults(const single_fault_options& options, const chaos_scenario& scenario);

/// Every pair of faults, exhaustively: for each single fault `a` (as in
/// `sweep_single_faults`) that does not fail alone, and each fault `b` at a
/// call the run with `a` reached (so calls a retry adds are covered), runs
/// the two-fault schedule once; a pair is run once whichever fault came
/// first. Calls below `max_call` only (left unbounded, calls 0 to 7). Reports every failing pair (in call
/// order) that holds no fault failing alone; those are `single_failures`.
/// Finds what needs two faults: two failed probes in a row, two slow
/// attempts in a row.
single_fault_result sweep_fault_pairs(const single_fault_options& options, const chaos_scenario& scenario);

/// A fault sweep's report, as a table of every failing schedule with the
/// instant it ended and the first line of its failure, or one line when
/// nothing failed.
std::string describe(const single_fault_result& r);

/// Whether a seed replays bit for bit.
struct determinism_result {
  bool deterministic = true;
  std::uint64_t first_hash = 0;
  std::uint64_t second_hash = 0;
  /// On a mismatch, the first event that differs, from both runs:
  /// "event 12: t=0.100s fetch#1 returned \"a\" vs t=0.100s fetch#1 returned \"b\"".
  std::string first_difference;
  /// True when the heap was moved between the runs and they differ only in
  /// the order of the same events at the instant where they part: the run's
  /// order follows addresses. `first_difference` then starts by saying so.
  bool address_dependent = false;
};

/// FoundationDB's unseed check: runs `seed` twice and compares the traces.
/// With `options.determinism_moves_heap` (the default) the second run sees
/// the heap's free memory rearranged; runs that then do the same things at
/// an instant in another order are reported as an order that follows
/// addresses (`address_dependent`), anything else (another time, another
/// value: threads, real time, an uninitialised read) as before. The perturbation
/// relies on the allocator reusing freed memory: under AddressSanitizer,
/// which quarantines it, addresses move less, and an address-dependent order
/// may go unseen.
determinism_result check_determinism(const sweep_options& options, std::uint64_t seed,
                                     const chaos_scenario& scenario);

}  // namespace faultline
