// Planted bugs that need the exhaustive sweeps: a breaker that only two faults in a row break (found by
// the pairwise sweep, passed by the single-fault sweep), and a crash after a failed call (found in
// child-process mode, minimised to its one fault and replayed); the correct copies pass both.
#include "breaker_trips_from_streak_start.hpp"
#include "pool_uses_discarded_session.hpp"
#include "scenario_support.hpp"

#include <faultline/fake.hpp>
#include <faultline/gtest/chaos.hpp>
#include <faultline/steady_timer.hpp>
#include <faultline/sweep.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::call_status;
using faultline::chaos_scenario;
using faultline::sim_context;
using ::testing::HasSubstr;

using page_fake = faultline::async_fake<std::string(std::string)>;

// --- breaker: the cooldown timed from the first failure of the streak ---------------------------

constexpr auto breaker_cooldown = 1000ms;

// 12 requests 300ms apart through a breaker (2 failures in a row open it for 1s). Invariant: once two
// calls in a row failed, no call reaches the dependency for the full cooldown.
chaos_scenario breaker_scenario(bool buggy) {
  return [buggy](sim_context& sim) {
    page_fake page(sim, "page");
    page.on_call().after(10ms).returns("ok").repeatedly();
    samples::bugs::streak_breaker breaker(2, breaker_cooldown, buggy);
    sim.run([&]() -> asio::awaitable<void> {
      for (int i = 0; i < 12; ++i) {
        try {
          co_await breaker.call([&] { return page("/status"); });
        } catch (const std::exception&) {
        }
        co_await faultline::sleep_for(300ms);
      }
    });
    const auto& calls = page.calls();
    for (std::size_t i = 0; i + 2 < calls.size(); ++i) {
      if (calls[i].status == call_status::returned || calls[i + 1].status == call_status::returned) continue;
      const auto opened = *calls[i + 1].ended;
      if (calls[i + 2].started < opened + breaker_cooldown)
        throw std::runtime_error("the breaker let " + calls[i + 2].describe() + " through " +
                                 faultline::to_string(calls[i + 2].started - opened) + " after it opened");
      break;
    }
  };
}

faultline::single_fault_options errors_only() {
  faultline::single_fault_options o;
  o.kinds = {faultline::fault_kind::error};
  return o;
}

TEST(SweepFinds, ABreakerThatOnlyTwoFailuresInARowBreak) {
  const auto single = faultline::sweep_single_faults(errors_only(), breaker_scenario(true));
  EXPECT_THAT(single.failures, ::testing::IsEmpty()) << faultline::describe(single);
  EXPECT_EQ(single.runs, 12u);  // one error at each of the 12 calls

  const auto pairs = faultline::sweep_fault_pairs(errors_only(), breaker_scenario(true));
  std::string failing;
  for (const auto& f : pairs.failures) failing += f.schedule.to_string() + "\n";
  // Exactly the pairs of consecutive calls within the bound (calls 0..7), in call order.
  EXPECT_EQ(failing,
            "page#0=error;page#1=error\npage#1=error;page#2=error\npage#2=error;page#3=error\n"
            "page#3=error;page#4=error\npage#4=error;page#5=error\npage#5=error;page#6=error\n"
            "page#6=error;page#7=error\n");
  ASSERT_FALSE(pairs.failures.empty());
  EXPECT_THAT(pairs.failures[0].failure, HasSubstr("at t=1.220s -> returned \"ok\" at t=1.230s through 0.900s after it opened"));
  EXPECT_THAT(faultline::describe(pairs), HasSubstr("7 of "));
  // A failing pair replays: the same two faults break it again; the correct breaker survives them.
  faultline::sweep_options o;
  EXPECT_TRUE(faultline::run_schedule(o, pairs.failures[0].schedule, 0, breaker_scenario(true)).failed);
  EXPECT_FALSE(faultline::run_schedule(o, pairs.failures[0].schedule, 0, breaker_scenario(false)).failed);

  const auto clean = faultline::sweep_fault_pairs(errors_only(), breaker_scenario(false));
  EXPECT_THAT(clean.failures, ::testing::IsEmpty()) << faultline::describe(clean);
  EXPECT_EQ(clean.runs, 8u + 28u);  // each error at calls 0..7, then each pair of them
  EXPECT_FALSE(clean.truncated);
}

// The same, as a user writes it: the correct breaker passes both sweeps in GoogleTest's form.
FAULTLINE_PAIRWISE_SWEEP_TEST(SweepPasses, TheCorrectBreakerSurvivesEveryPairOfErrors, errors_only()) {
  page_fake page(sim(), "page");
  page.on_call().after(10ms).returns("ok").repeatedly();
  samples::bugs::streak_breaker breaker(2, breaker_cooldown, false);
  int through = 0;
  for (int i = 0; i < 6; ++i) {
    try {
      co_await breaker.call([&] { return page("/status"); });
      ++through;
    } catch (const std::exception&) {
    }
    co_await faultline::sleep_for(300ms);
  }
  EXPECT_GE(through, 6 - 2 - 3);  // at most two errors, and at most 3 requests in the cooldown
}

// --- pool: a session used after it was discarded ------------------------------------------------

chaos_scenario pool_scenario(bool buggy) {
  return [buggy](sim_context& sim) {
    page_fake page(sim, "page");
    page.on_call().after(10ms).returns("ok").repeatedly();
    samples::bugs::session_pool pool(buggy);
    sim.run([&]() -> asio::awaitable<void> {
      for (int i = 0; i < 5; ++i) {
        try {
          co_await pool.request([&] { return page("/a"); });
        } catch (const std::exception&) {
        }
      }
    });
    // Sessions are reused, never piled up.
    if (pool.idle() > 1) throw std::runtime_error("the pool holds " + std::to_string(pool.idle()) + " idle sessions");
  };
}

TEST(SweepFinds, ACrashAfterAFailedCallInChildProcesses) {
  faultline::sweep_options o;
  o.plan.point("page", faultline::fault_rates().error(0.1).latency(faultline::latency_dist::uniform(0ms, 5ms)));
  o.seeds = 200;
  o.isolate = true;
  const auto r = faultline::sweep(o, pool_scenario(true));
  ASSERT_TRUE(r.failure) << "200 seeds at 10% errors over 5 calls never failed a call";
  // A crash, reported like any failure, with the faults injected before it.
  EXPECT_THAT(r.failure->failure, ::testing::AnyOf(HasSubstr("crashed with SIGABRT"), HasSubstr("exited with status")));
  EXPECT_FALSE(r.failure->schedule.empty());
  ASSERT_TRUE(r.minimal);
  EXPECT_TRUE(r.minimal->reproduced);
  // Minimised in child processes to the one error, moved to the first call.
  EXPECT_EQ(r.minimal->schedule.to_string(), "page#0=error");
  // Replayed, it crashes again; the correct pool survives it, and the whole sweep.
  EXPECT_TRUE(faultline::run_schedule(o, r.minimal->schedule, r.failure->seed, pool_scenario(true)).failed);
  EXPECT_FALSE(faultline::run_schedule(o, r.minimal->schedule, r.failure->seed, pool_scenario(false)).failed);
  o.seeds = bugs_test::sweep_seeds(50);  // a fork per seed: enough to pass every seed the buggy pool needed
  const auto clean = faultline::sweep(o, pool_scenario(false));
  EXPECT_FALSE(clean.failure) << faultline::describe(clean);
}

}  // namespace
