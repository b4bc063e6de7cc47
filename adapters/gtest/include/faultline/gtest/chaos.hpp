// faultline - chaos sweeps as GoogleTest tests: FAULTLINE_CHAOS_TEST, FAULTLINE_FAULT_SWEEP_TEST, run_chaos_sweep.
#pragma once

#include <faultline/gtest/fixture.hpp>

#include <faultline/chaos.hpp>
#include <faultline/sim_context.hpp>
#include <faultline/sweep.hpp>

#include <gtest/gtest.h>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace faultline::testing {

/// How a chaos test runs, from the environment (each unset variable keeps
/// the default):
/// - `FAULTLINE_SEEDS=<n>`: seeds per sweep (default 100);
/// - `FAULTLINE_SEED=<n>`: run only seed n, failures reported as they happen;
/// - `FAULTLINE_SCHEDULE=<schedule>`: run once injecting exactly this fault
///   schedule (with `FAULTLINE_SEED`, the sim's seed for that run);
/// - `FAULTLINE_SEED_LOG=<file>`: append `<test> seed <n>` (or `<test>
///   schedule <s>`) before each run, flushed, so a crash cannot lose it;
/// - `FAULTLINE_PERTURB=1`: also shuffle same-instant handlers by seed;
///   `FAULTLINE_PERTURB=pct` or `pct:<d>`: order them by PCT instead
///   (`perturbation::pct`, depth d, default 3); `0`: as the test says. Every
///   printed replay command carries the order the test ran with;
/// - `FAULTLINE_ISOLATE=1`: run each seed or schedule in a child process, so
///   a crash is found, minimised and reported like any failure;
/// - `FAULTLINE_REGRESSIONS_DIR=<dir>`: the directory of the regression
///   files (`<dir>/<Suite>.<Test>.txt`): their schedules replay before any
///   new seed, and every new minimal failing schedule is appended.
/// - `FAULTLINE_SWEEP_BUDGET=<n>` seeds, or `<n>s`, `<n>m`, `<n>h` of wall
///   time: seeds run until the budget is spent (overrides `FAULTLINE_SEEDS`),
///   with a progress line every 5 s; sharded, each seed still runs once.
/// A malformed value fails the test, naming the variable and the fix.
struct chaos_env {
  std::uint64_t seeds = 100;
  std::optional<std::uint64_t> seed;
  std::optional<std::string> schedule;
  std::string seed_log;
  bool perturb = false;
  perturbation perturb_mode = perturbation::shuffle;
  std::optional<std::uint32_t> pct_depth;
  bool isolate = false;
  std::string regressions_dir;
  std::optional<std::chrono::seconds> time_budget;
  std::string error;  ///< non-empty: what is wrong with the environment

  static chaos_env from_environment();
};

/// A plan alone, or full sweep options, as the third argument of
/// FAULTLINE_CHAOS_TEST.
inline sweep_options chaos_test_options(sweep_options o) { return o; }
inline sweep_options chaos_test_options(chaos_plan p) {
  sweep_options o;
  o.plan = std::move(p);
  return o;
}

/// The optional third argument of FAULTLINE_FAULT_SWEEP_TEST and
/// FAULTLINE_PAIRWISE_SWEEP_TEST: none (the defaults), or options.
inline single_fault_options fault_sweep_options() { return {}; }
inline single_fault_options fault_sweep_options(single_fault_options o) { return o; }

/// The fixture behind FAULTLINE_CHAOS_TEST and FAULTLINE_FAULT_SWEEP_TEST:
/// the body runs once per seed (or per single fault), each time on a fresh
/// sim reachable as `sim()`. A run fails when the body records a GoogleTest
/// failure, throws, stalls, or leaves operations pending or failures
/// unobserved (the teardown checks of `sim_test`, but script steps left
/// unused are fine: faults cut scenarios short).
///
/// A passing sweep prints one line: seeds, faults injected by kind, calls
/// per point, wall time. On the first failing seed it reports once: the
/// seed and its schedule, whether the seed replays (determinism), the
/// minimal schedule in call order and the command that replays it; then it
/// replays the minimal schedule with GoogleTest's reporting on (so the
/// body's own failure and the timeline appear as usual). Seeds, faults,
/// coverage and schedules also go to the XML report (`RecordProperty`).
///
/// Crashes: each seed or schedule goes to `FAULTLINE_SEED_LOG` before its
/// run; a fatal signal (SIGSEGV, SIGABRT, SIGBUS, SIGFPE) during a sweep
/// prints the running seed or schedule and the replay command before the
/// process dies. With `FAULTLINE_ISOLATE=1` (or `sweep_options::isolate`)
/// each run is a child process: a crash is a failure like any other.
///
/// Regression files: see `chaos_env`; known failures replay first and the
/// test fails at the first that still fails, without running new seeds.
///
/// Sharding: when `GTEST_TOTAL_SHARDS` is set, the test is registered once
/// per shard (`Name/shard0`, `Name/shard1`, ...); copy k runs the seeds
/// whose offset is k modulo the count, so GoogleTest's own sharding gives
/// each shard one copy and each seed runs exactly once across shards.
///
/// Thread safety: as any GoogleTest test.
class chaos_test : public ::testing::Test {
 public:
  /// The sim of the current run.
  sim_context& sim();

  /// Copy `index` of `count` (sharding); set by the registration.
  void set_slice(std::uint64_t index, std::uint64_t count) noexcept {
    slice_index_ = index;
    slice_count_ = count;
  }

 protected:
  using body_fn = std::function<asio::awaitable<void>()>;
  /// FAULTLINE_CHAOS_TEST's TestBody: a seeded sweep.
  void run_chaos(sweep_options options, body_fn body);
  /// FAULTLINE_FAULT_SWEEP_TEST's TestBody: an exhaustive single-fault sweep.
  void run_single_faults(single_fault_options options, body_fn body);
  /// FAULTLINE_PAIRWISE_SWEEP_TEST's TestBody: every pair of faults.
  void run_fault_pairs(single_fault_options options, body_fn body);

 private:
  sim_context* sim_ = nullptr;
  std::uint64_t slice_index_ = 0;
  std::uint64_t slice_count_ = 1;
};

/// The body of a sweep run by `run_chaos_sweep`, `run_fault_sweep` or
/// `run_pairwise_sweep`: a coroutine function called once per run with that
/// run's fresh sim.
using chaos_body = std::function<asio::awaitable<void>(sim_context&)>;

/// A seeded chaos sweep, exactly as FAULTLINE_CHAOS_TEST runs it, from the
/// body of any GoogleTest test: `TEST`, `TEST_F`, and above all `TEST_P` and
/// `TYPED_TEST`, so one sweep runs against several implementations or
/// parameters (a correct variant and a planted bug, two backends, three
/// retry policies). `body` runs once per seed on a fresh sim, with chaos
/// drawing faults from `plan` (a `chaos_plan`, or full `sweep_options`); a
/// run fails as a FAULTLINE_CHAOS_TEST run does, and so does the test.
///
/// The environment (`chaos_env`), the summary line, the failure report,
/// seed logs, crash notes, regression files and XML properties are those of
/// FAULTLINE_CHAOS_TEST, named after the running test *instantiation*:
/// `Inst/Suite.Name/1` (value-parameterised) or `Suite/0.Name` (typed), so
/// the printed replay command (`--gtest_filter=` plus `FAULTLINE_SCHEDULE`
/// and `FAULTLINE_SEED`) runs exactly that one instantiation, and its
/// regression file is `<dir>/Inst-Suite.Name-1.txt` (`/` becomes `-`). Give
/// the instantiations names (`INSTANTIATE_TEST_SUITE_P`'s name generator,
/// `TYPED_TEST_SUITE`'s name class) and replays and regression files follow
/// the variant, not its position in the list.
///
/// Sharding: GoogleTest's sharding gives each instantiation to one shard,
/// which runs its whole sweep; every seed of every instantiation still runs
/// exactly once.
///
/// The body is a lambda coroutine that may capture by reference: the
/// function keeps it alive until the sweep ends, which outlasts every run.
/// Call it from the test's own thread, once per call of the sweep (it is not
/// reentrant); throws `std::invalid_argument` if `body` is empty.
///
/// **Example**:
/// ```
/// struct retry_variant {
///   std::string name;
///   int max_attempts;  // the planted bug: 3 instead of 4
/// };
/// class RetryVariants : public ::testing::TestWithParam<retry_variant> {};
///
/// TEST_P(RetryVariants, AnswersWhenAnyOfFourAttemptsDoes) {
///   faultline::testing::run_chaos_sweep(
///       faultline::chaos_plan().point("fetch", faultline::fault_rates().error(0.3)),
///       [&](faultline::sim_context& sim) -> boost::asio::awaitable<void> {
///         faultline::async_fake<std::string(std::string)> fetch(sim, "fetch");
///         fetch.on_call().after(10ms).returns("ok").repeatedly();
///         auto r = co_await capture(fetch_with_retry(fetch, GetParam().max_attempts));
///         if (count_failed(fetch) < 4) {
///           EXPECT_THAT(r, Returned("ok"));
///         }
///       });
/// }
/// INSTANTIATE_TEST_SUITE_P(Retry, RetryVariants,
///                          ::testing::Values(retry_variant{"correct", 4}, retry_variant{"gives_up_early", 3}),
///                          [](const auto& info) { return info.param.name; });
/// ```
void run_chaos_sweep(sweep_options options, chaos_body body);
void run_chaos_sweep(chaos_plan plan, chaos_body body);

/// An exhaustive single-fault sweep, exactly as FAULTLINE_FAULT_SWEEP_TEST
/// runs it, from any test body; named after the running instantiation as
/// `run_chaos_sweep` is. `options` picks kinds, error codes, latencies and
/// points.
void run_fault_sweep(single_fault_options options, chaos_body body);
void run_fault_sweep(chaos_body body);

/// Every pair of faults, exactly as FAULTLINE_PAIRWISE_SWEEP_TEST runs it,
/// from any test body; named after the running instantiation as
/// `run_chaos_sweep` is.
void run_pairwise_sweep(single_fault_options options, chaos_body body);
void run_pairwise_sweep(chaos_body body);

/// Registers a chaos test `suite.name` (or one copy per shard) whose body
/// `make()` creates; used by the macros.
void register_chaos_test(const char* suite, const char* name, const char* file, int line,
                         std::function<chaos_test*()> make);

}  // namespace faultline::testing

#define FAULTLINE_CHAOS_CLASS_NAME_(suite, name) suite##_##name##_FaultlineChaosTest

/// A chaos sweep as a GoogleTest test. The body is a coroutine run once per
/// seed on a fresh sim (`sim()`), with chaos drawing faults from `plan` (a
/// `faultline::chaos_plan` or `faultline::sweep_options`) at every double,
/// failpoint and stream it reaches; it sets up its doubles and checks its
/// invariants with EXPECT_* / CO_ASSERT_*.
///
/// **Example**:
/// ```
/// FAULTLINE_CHAOS_TEST(RetryChaos, AnswersWhenAnAttemptSucceeds,
///                      faultline::chaos_plan().point("fetch", faultline::fault_rates().error(0.3))) {
///   faultline::async_fake<std::string(std::string)> fetch(sim(), "fetch");
///   fetch.on_call().after(10ms).returns("ok").repeatedly();
///   auto r = co_await capture(fetch_with_retry(fetch, "/a"));
///   if (count_failed(fetch) < 4) EXPECT_THAT(r, Returned("ok"));
/// }
/// ```
#define FAULTLINE_CHAOS_TEST(suite, name, plan) \
  FAULTLINE_CHAOS_TEST_IMPL_(suite, name, run_chaos(::faultline::testing::chaos_test_options(plan), body))

/// An exhaustive single-fault sweep as a GoogleTest test (Beast's
/// fail_count, generalised): the body runs fault-free once, then once per
/// (injection point, call, fault kind) with exactly that fault. Every
/// failing fault is reported in one table (fault, instant, first line of
/// the failure), with the replay command of the first, which is then
/// replayed with the timeline. An optional third argument, a
/// `faultline::single_fault_options`, picks kinds, error codes, latencies
/// and points.
///
/// **Example**:
/// ```
/// faultline::single_fault_options only_fetch_errors() {
///   faultline::single_fault_options o;
///   o.kinds = {faultline::fault_kind::error};
///   o.points = {"fetch"};
///   return o;
/// }
/// FAULTLINE_FAULT_SWEEP_TEST(Retry, SurvivesAnyFetchError, only_fetch_errors()) { ... }
/// ```
#define FAULTLINE_FAULT_SWEEP_TEST(suite, name, ...) \
  FAULTLINE_CHAOS_TEST_IMPL_(suite, name,          \
                             run_single_faults(::faultline::testing::fault_sweep_options(__VA_ARGS__), body))

/// Every pair of faults as a GoogleTest test (`faultline::sweep_fault_pairs`):
/// reports, as one table, every failing two-fault schedule that holds no
/// fault failing alone. Runs grow with the square of the faults: bound them
/// with the options' `max_call`, `points` and `kinds` (default `max_call` 8).
#define FAULTLINE_PAIRWISE_SWEEP_TEST(suite, name, ...) \
  FAULTLINE_CHAOS_TEST_IMPL_(suite, name,             \
                             run_fault_pairs(::faultline::testing::fault_sweep_options(__VA_ARGS__), body))

#define FAULTLINE_CHAOS_TEST_IMPL_(suite, name, run_call)                                                 \
  class FAULTLINE_CHAOS_CLASS_NAME_(suite, name) final : public ::faultline::testing::chaos_test {        \
   private:                                                                                               \
    void TestBody() override {                                                                            \
      body_fn body = [this] { return faultline_chaos_body_(); };                                          \
      this->run_call;                                                                                     \
    }                                                                                                     \
    ::boost::asio::awaitable<void> faultline_chaos_body_();                                               \
    static const bool faultline_registered_;                                                              \
  };                                                                                                      \
  const bool FAULTLINE_CHAOS_CLASS_NAME_(suite, name)::faultline_registered_ =                            \
      (::faultline::testing::register_chaos_test(                                                         \
           GTEST_STRINGIFY_(suite), GTEST_STRINGIFY_(name), __FILE__, __LINE__,                           \
           []() -> ::faultline::testing::chaos_test* { return new FAULTLINE_CHAOS_CLASS_NAME_(suite, name); }), \
       true);                                                                                             \
  ::boost::asio::awaitable<void> FAULTLINE_CHAOS_CLASS_NAME_(suite, name)::faultline_chaos_body_()
