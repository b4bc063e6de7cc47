// Planted bugs that independent faults do not find: a backoff cap lost after a long outage (found by the
// default outage settings) and a pool over its limit only mid-run (found by an invariant checked at the instant).
#include "backoff_cap_lost_after_long_outage.hpp"
#include "pool_exceeds_limit_on_error.hpp"
#include "scenario_support.hpp"

#include <faultline/fake.hpp>
#include <faultline/invariant.hpp>
#include <faultline/sweep.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::chaos_scenario;
using faultline::fault_rates;
using faultline::outage_model;
using faultline::sim_context;
using faultline::sweep_options;
using ::testing::HasSubstr;
using ::testing::StartsWith;

using bugs_test::fetch_fake;

// --- a backoff whose cap is lost after 10 failures in a row -------------------------------------

constexpr auto backoff_cap = 2s;

// Five requests one after another, each retried up to 16 times with 100ms doubling waits capped
// at 2s; a request that fails 16 times is given up (that is the caller's business). Checks that
// no wait between two attempts exceeded the cap.
template <class Retry>
chaos_scenario backoff_scenario(Retry retry) {
  return [retry](sim_context& sim) {
    fetch_fake fetch(sim, "fetch");
    fetch.on_call().after(20ms).returns("ok").repeatedly();
    const samples::retry::retry_policy policy{.max_attempts = 16, .initial_delay = 100ms, .max_delay = backoff_cap};
    sim.run([&]() -> asio::awaitable<void> {
      for (int i = 0; i < 5; ++i) {
        try {
          co_await retry([&] { return fetch("/r" + std::to_string(i)); }, policy);
        } catch (const boost::system::system_error&) {
          // every attempt failed: the outage outlasted the request
        }
      }
    }).value();
    const auto& calls = fetch.calls();
    for (std::size_t i = 0; i + 1 < calls.size(); ++i)
      if (calls[i + 1].started - *calls[i].ended > backoff_cap)
        throw std::runtime_error("backoff over the cap: " + calls[i].describe() + ", next attempt at " +
                                 faultline::to_string(calls[i + 1].started));
  };
}

TEST(ChaosFindsOutage, ABackoffWhoseCapIsLostAfterALongOutage) {
  sweep_options o;
  o.seeds = bugs_test::sweep_seeds(200);
  // The library's default outages, nothing else (outage_model's documentation).
  o.plan.point("fetch", fault_rates().outage(outage_model()));
  const auto buggy = backoff_scenario(LIFT(samples::bugs::retry_with_lost_cap));
  const auto correct = backoff_scenario(LIFT(samples::retry::retry));

  // Each request's first attempt starts an outage of at least 10 calls with chance
  // 0.05 x 23/32 = 0.036 (lengths 1..32), so a seed of 5 requests exposes the bug with
  // p >= 1 - 0.964^5 = 0.167, and 26 seeds miss it with probability 0.833^26 < 1%.
  const auto r = faultline::sweep(o, buggy);
  ASSERT_TRUE(r.failure) << "seeds 1..200 never lost the cap";
  EXPECT_LE(r.failure->seed, 26u) << faultline::describe(r);
  EXPECT_THAT(r.failure->failure, HasSubstr("backoff over the cap"));
  ASSERT_TRUE(r.minimal);
  ASSERT_TRUE(r.minimal->reproduced);
  EXPECT_FALSE(r.minimal->budget_exhausted);
  // Exactly the 10 failures in a row the bug needs, one per call, all of one request.
  const auto& m = r.minimal->schedule;
  ASSERT_EQ(m.size(), 10u) << faultline::describe(r);
  for (std::size_t i = 1; i < m.size(); ++i) EXPECT_EQ(m.faults()[i].call, m.faults()[0].call + i) << m.to_string();
  EXPECT_THAT(r.minimal->failure, HasSubstr("backoff over the cap"));
  EXPECT_TRUE(faultline::run_schedule(o, m, r.failure->seed, buggy).failed);
  EXPECT_FALSE(faultline::run_schedule(o, m, r.failure->seed, correct).failed);
  // Nine in a row are not enough.
  auto nine = m;
  nine.faults().pop_back();
  EXPECT_FALSE(faultline::run_schedule(o, nine, r.failure->seed, buggy).failed);
  const auto again = faultline::run_schedule(o, r.failure->schedule, r.failure->seed, buggy);
  EXPECT_TRUE(again.failed);
  EXPECT_EQ(again.trace_hash, r.failure->trace_hash);

  const auto clean = faultline::sweep(o, correct);
  EXPECT_FALSE(clean.failure) << faultline::describe(clean);
  EXPECT_EQ(clean.seeds_run, o.seeds);
  EXPECT_GT(clean.coverage.at("fetch").injected[faultline::fault_kind::error], 0u);
}

// --- a pool over its limit for a while, closed again by the end ---------------------------------

constexpr int pool_limit = 2;

// Six jobs share a pool of 2 connections (connect 10ms, query 30ms, disconnect 50ms); a failed
// query is the job's own business. With `check_mid_run`, every 5ms of virtual time the
// connections open must be within the limit. At the end: every job ended and nothing is open.
template <class WithConnection>
chaos_scenario pool_scenario(WithConnection with_connection, bool check_mid_run = true) {
  return [with_connection, check_mid_run](sim_context& sim) {
    faultline::async_fake<void()> connect(sim, "db.connect");
    faultline::async_fake<std::string()> query(sim, "db.query");
    faultline::async_fake<void()> disconnect(sim, "db.disconnect");
    connect.on_call().after(10ms).returns().repeatedly();
    query.on_call().after(30ms).returns("row").repeatedly();
    disconnect.on_call().after(50ms).returns().repeatedly();
    samples::bugs::connection_pool pool(sim.get_executor(), pool_limit);
    int open = 0;
    int ended = 0;
    if (check_mid_run)
      faultline::every(sim, 5ms, [&] { return open <= pool_limit; }, "open connections within the pool limit");
    for (int i = 0; i < 6; ++i) {
      sim.spawn("job" + std::to_string(i), [&]() -> asio::awaitable<void> {
        try {
          co_await with_connection(
              pool, [&]() -> asio::awaitable<void> { co_await connect(); ++open; }, [&] { return query(); },
              [&]() -> asio::awaitable<void> { co_await disconnect(); --open; });
        } catch (const boost::system::system_error&) {
          // the job failed; the pool must not care
        }
        ++ended;
      });
    }
    sim.run();
    if (ended != 6 || open != 0)
      throw std::runtime_error(std::to_string(ended) + " jobs ended, " + std::to_string(open) + " connections open");
  };
}

TEST(ChaosFindsOutage, APoolOverItsLimitOnlyMidRun) {
  sweep_options o;
  o.seeds = bugs_test::sweep_seeds(200);
  o.plan.point("db.query", fault_rates().error(0.2));
  const auto buggy = pool_scenario(LIFT(samples::bugs::with_connection_early_release));
  const auto correct = pool_scenario(LIFT(samples::bugs::with_connection));

  // A failed query among the first four (jobs 4 and 5 wait for a slot until then) breaks it:
  // p = 1 - 0.8^4 = 0.59 per seed, and 6 seeds miss it with probability 0.41^6 < 1%.
  const auto r = faultline::sweep(o, buggy);
  ASSERT_TRUE(r.failure) << "seeds 1..200 never broke the limit";
  EXPECT_LE(r.failure->seed, 6u) << faultline::describe(r);
  EXPECT_EQ(r.failure->invariant, "open connections within the pool limit");
  EXPECT_THAT(r.failure->failure,
              StartsWith("faultline: invariant \"open connections within the pool limit\" broken at t="));
  ASSERT_TRUE(r.minimal);
  EXPECT_EQ(r.minimal->schedule.size(), 1u) << faultline::describe(r);
  // The minimal run: query #0 fails at 40ms, its slot goes back at once, job 2 connects by 50ms
  // while job 0's disconnect runs until 90ms: the check at 55ms is the first to see 3 open.
  EXPECT_EQ(r.minimal->schedule.to_string(), "db.query#0=error");
  EXPECT_THAT(r.minimal->failure, HasSubstr("\"open connections within the pool limit\" broken at t=0.055s"));
  const auto replayed = faultline::run_schedule(o, r.minimal->schedule, r.failure->seed, buggy);
  EXPECT_TRUE(replayed.failed);
  EXPECT_EQ(replayed.ended, faultline::at(55ms));  // the run stopped at the instant, not at the end
  EXPECT_FALSE(faultline::run_schedule(o, r.minimal->schedule, r.failure->seed, correct).failed);
  // The end-of-run check alone does not see it: everything is closed again by then.
  const auto end_only = pool_scenario(LIFT(samples::bugs::with_connection_early_release), false);
  EXPECT_FALSE(faultline::run_schedule(o, r.minimal->schedule, r.failure->seed, end_only).failed);
  EXPECT_FALSE(faultline::run_schedule(o, r.failure->schedule, r.failure->seed, end_only).failed);

  const auto clean = faultline::sweep(o, correct);
  EXPECT_FALSE(clean.failure) << faultline::describe(clean);
  EXPECT_EQ(clean.seeds_run, o.seeds);
}

}  // namespace
