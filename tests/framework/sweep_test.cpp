// Tests of chaos sweeps: finding a failing seed, minimising it, replaying it, sharding, single-fault sweeps.
#include <faultline/sweep.hpp>

#include <faultline/fake.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/error.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::fault_kind;
using faultline::fault_schedule;
using ::testing::HasSubstr;

using fetch_fake = faultline::async_fake<std::string(std::string)>;

// Retries up to 4 times, 100ms apart. The planted bug: an error at the
// *third* call is treated as final. Only a fault at fetch#2 (or a hang)
// breaks the invariant "returns ok when at most 3 attempts fail".
asio::awaitable<std::string> fetch_with_retry(fetch_fake& fetch, bool buggy) {
  for (int attempt = 0;; ++attempt) {
    try {
      co_return co_await fetch("/a");
    } catch (const boost::system::system_error&) {
      if (attempt == 3 || (buggy && attempt == 2)) throw;
    }
    co_await faultline::sleep_for(100ms);
  }
}

faultline::chaos_scenario retry_scenario(bool buggy, int* runs = nullptr) {
  return [buggy, runs](faultline::sim_context& sim) {
    if (runs) ++*runs;
    fetch_fake fetch(sim, "fetch");
    fetch.on_call().after(10ms).returns("ok").repeatedly();
    auto r = sim.run(fetch_with_retry(fetch, buggy));
    int failed_calls = 0;
    for (const auto& c : fetch.calls()) failed_calls += c.status != faultline::call_status::returned;
    if (failed_calls <= 3 && !r.has_value())
      throw std::runtime_error("gave up after " + std::to_string(failed_calls) + " failed attempts: " + r.describe());
  };
}

faultline::sweep_options error_plan(double rate) {
  faultline::sweep_options o;
  o.plan.point("fetch", faultline::fault_rates().error(rate).latency(faultline::latency_dist::uniform(1ms, 20ms, 0.5)));
  return o;
}

TEST(Sweep, PassesOnCorrectCodeAndReportsCoverage) {
  auto o = error_plan(0.3);
  o.seeds = 200;
  const auto r = faultline::sweep(o, retry_scenario(false));
  EXPECT_FALSE(r.failure) << faultline::describe(r);
  EXPECT_EQ(r.seeds_run, 200u);
  ASSERT_EQ(r.coverage.count("fetch"), 1u);
  EXPECT_GT(r.coverage.at("fetch").injected[fault_kind::error], 0u);
  EXPECT_GT(r.coverage.at("fetch").injected[fault_kind::latency], 0u);
  EXPECT_TRUE(r.never_exercised.empty()) << r.never_exercised.front();
}

TEST(Sweep, FindsMinimisesAndReplaysAPlantedBug) {
  auto o = error_plan(0.3);
  o.seeds = 200;
  std::vector<std::uint64_t> announced;
  o.on_seed = [&](std::uint64_t s) { announced.push_back(s); };
  const auto r = faultline::sweep(o, retry_scenario(true));
  ASSERT_TRUE(r.failure) << "200 seeds at 30% errors never hit three errors in a row";
  EXPECT_EQ(announced.back(), r.failure->seed);  // announced before it ran
  EXPECT_EQ(r.seeds_run, announced.size());
  ASSERT_TRUE(r.minimal);
  EXPECT_TRUE(r.minimal->reproduced);
  // The bug needs the first three attempts to fail: exactly three error faults.
  EXPECT_EQ(r.minimal->schedule.to_string(), "fetch#0=error;fetch#1=error;fetch#2=error");
  EXPECT_THAT(r.minimal->failure, HasSubstr("gave up after 3 failed attempts"));
  // Replaying either schedule fails again with the same trace, bit for bit.
  const auto again = faultline::run_schedule(o, r.failure->schedule, r.failure->seed, retry_scenario(true));
  EXPECT_TRUE(again.failed);
  EXPECT_EQ(again.trace_hash, r.failure->trace_hash);
  const auto by_seed = faultline::run_seed(o, r.failure->seed, retry_scenario(true));
  EXPECT_EQ(by_seed.trace_hash, r.failure->trace_hash);
  EXPECT_EQ(by_seed.schedule, r.failure->schedule);
  EXPECT_TRUE(faultline::run_schedule(o, r.minimal->schedule, 0, retry_scenario(true)).failed);
  EXPECT_FALSE(faultline::run_schedule(o, r.minimal->schedule, 0, retry_scenario(false)).failed);
  EXPECT_THAT(faultline::describe(r), HasSubstr("minimal schedule (3 faults"));
}

TEST(Sweep, MinimisationShortensLatenciesAndMovesFaultsEarlier) {
  // Fails when any call takes longer than 50ms in all.
  auto scenario = [](faultline::sim_context& sim) {
    fetch_fake fetch(sim, "fetch");
    fetch.on_call().after(10ms).returns("ok").repeatedly();
    sim.run([&]() -> asio::awaitable<void> {
      for (int i = 0; i < 6; ++i) co_await fetch("/x");
    });
    for (const auto& c : fetch.calls())
      if (*c.ended - c.started > 50ms) throw std::runtime_error("slow call: " + c.describe());
  };
  faultline::sweep_options o;
  faultline::chaos_run failing;
  failing.failed = true;
  failing.failure = "slow";
  failing.schedule = fault_schedule::parse("fetch#1=latency(5ms);fetch#4=latency(400ms);fetch#5=latency(3ms)");
  const auto m = faultline::minimise(o, failing, scenario);
  ASSERT_EQ(m.schedule.size(), 1u);
  const auto& f = m.schedule.faults()[0];
  EXPECT_EQ(f.call, 0u);  // moved to the first call
  EXPECT_GT(f.latency, 40ms);  // halved while still over the 50ms bound
  EXPECT_LE(f.latency, 80ms);
}

TEST(Sweep, ShardsRunEverySeedExactlyOnce) {
  std::multiset<std::uint64_t> seen;
  for (std::uint64_t shard = 0; shard < 3; ++shard) {
    auto o = error_plan(0.0);
    o.first_seed = 10;
    o.seeds = 20;
    o.shard_count = 3;
    o.shard_index = shard;
    o.on_seed = [&](std::uint64_t s) { seen.insert(s); };
    faultline::sweep(o, retry_scenario(false));
  }
  std::multiset<std::uint64_t> expected;
  for (std::uint64_t s = 10; s < 30; ++s) expected.insert(s);
  EXPECT_EQ(seen, expected);
  auto bad = error_plan(0.0);
  bad.shard_count = 2;
  bad.shard_index = 2;
  EXPECT_THROW(faultline::sweep(bad, retry_scenario(false)), std::invalid_argument);
}

TEST(SingleFaultSweep, TriesEveryCallAndKindAndListsEveryFailure) {
  // The correct retry survives any single fault except a hang (no timeout):
  // the hang at fetch#0 is the fourth run (error, latency, cancel, hang).
  faultline::single_fault_options o;
  o.kinds = {fault_kind::error, fault_kind::latency, fault_kind::cancel, fault_kind::hang};
  const auto r = faultline::sweep_single_faults(o, retry_scenario(false));
  EXPECT_FALSE(r.baseline.failed);
  EXPECT_EQ(r.baseline.coverage.at("fetch").calls, 1u);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].schedule.to_string(), "fetch#0=hang");
  EXPECT_THAT(r.failures[0].failure, HasSubstr("stalled"));
  EXPECT_EQ(r.runs, 4u);
  o.kinds = {fault_kind::error, fault_kind::latency, fault_kind::cancel};
  const auto clean = faultline::sweep_single_faults(o, retry_scenario(false));
  EXPECT_TRUE(clean.failures.empty());
  EXPECT_EQ(clean.runs, 3u);
  EXPECT_THAT(faultline::describe(clean), HasSubstr("3 faulted runs, none failed"));
}

TEST(Determinism, SameSeedSameTraceAndADivergenceIsPointedAt) {
  auto o = error_plan(0.3);
  EXPECT_TRUE(faultline::check_determinism(o, 5, retry_scenario(false)).deterministic);
  // A scenario that reads state outside the sim is not deterministic.
  int runs = 0;
  auto leaky = [&runs](faultline::sim_context& sim) {
    fetch_fake fetch(sim, "fetch");
    fetch.on_call().after(std::chrono::milliseconds(10 + runs++)).returns("ok").repeatedly();
    sim.run(fetch("/a"));
  };
  const auto d = faultline::check_determinism(faultline::sweep_options{}, 5, leaky);
  EXPECT_FALSE(d.deterministic);
  EXPECT_THAT(d.first_difference, HasSubstr("t=0.010s"));
  EXPECT_THAT(d.first_difference, HasSubstr("vs t=0.011s"));
}

TEST(Sweep, CoverageNamesPointsAndKindsNeverExercised) {
  faultline::sweep_options o;
  o.seeds = 3;
  o.plan.point("fetch", faultline::fault_rates().cancel(1e-9)).point("db.commit", faultline::fault_rates().error(0.5));
  const auto r = faultline::sweep(o, retry_scenario(false));
  EXPECT_THAT(r.never_exercised, ::testing::ElementsAre("db.commit: never called", "fetch: cancel never injected"));
}

TEST(Sweep, PerturbationFindsAnOrderingBugThatFifoHides) {
  // Two workers finish at the same instant; the code assumes the writer's
  // handler runs before the reader's, which FIFO order happens to give.
  auto scenario = [](faultline::sim_context& sim) {
    std::string value = "old";
    std::string seen;
    sim.spawn("writer", [&]() -> asio::awaitable<void> {
      co_await faultline::sleep_for(10ms);
      value = "new";
    });
    sim.spawn("reader", [&]() -> asio::awaitable<void> {
      co_await faultline::sleep_for(10ms);
      seen = value;
    });
    sim.run();
    if (seen != "new") throw std::runtime_error("the reader ran first and saw \"" + seen + "\"");
  };
  faultline::sweep_options o;
  o.seeds = 50;
  EXPECT_FALSE(faultline::sweep(o, scenario).failure);
  o.perturb = true;
  const auto r = faultline::sweep(o, scenario);
  ASSERT_TRUE(r.failure);
  EXPECT_THAT(r.failure->failure, HasSubstr("the reader ran first"));
  EXPECT_TRUE(r.failure->schedule.empty());  // no fault: the order alone breaks it
  // The seed covers the order: the failing seed fails again, bit for bit.
  const auto again = faultline::run_seed(o, r.failure->seed, scenario);
  EXPECT_TRUE(again.failed);
  EXPECT_EQ(again.trace_hash, r.failure->trace_hash);
}

}  // namespace

