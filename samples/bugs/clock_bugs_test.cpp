// Planted bugs found by wall-clock faults: a TTL cache that serves stale data when the wall clock steps
// back (found by chaos-drawn steps, minimised to the one step, replayed; never found without clock faults).
#include "ttl_cache_serves_stale.hpp"

#include <faultline/chaos.hpp>
#include <faultline/fake.hpp>
#include <faultline/steady_timer.hpp>
#include <faultline/sweep.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using ::testing::HasSubstr;

constexpr auto cache_ttl = 30s;

// A reader asks for "config" once a second for two minutes, fetching it from the origin (which
// answers with the steady instant it served) on a miss. Invariant: nothing served is older than the TTL.
faultline::chaos_scenario ttl_scenario(bool buggy) {
  return [buggy](faultline::sim_context& sim) {
    faultline::async_fake<std::int64_t()> origin(sim, "origin");
    origin.on_call().invokes([&sim] { return sim.now().time_since_epoch().count(); }).repeatedly();
    samples::bugs::ttl_cache<std::int64_t> cache(cache_ttl, buggy);
    sim.run([&]() -> asio::awaitable<void> {
      for (int i = 0; i < 120; ++i) {
        auto v = cache.get("config");
        if (!v) {
          v = co_await origin();
          cache.put("config", *v);
        }
        const auto age = sim.now().time_since_epoch() - std::chrono::nanoseconds(*v);
        if (age >= cache_ttl)
          throw std::runtime_error("the cache served config fetched " + faultline::to_string(age) + " ago (ttl 30s)");
        co_await faultline::sleep_for(1s);
      }
    }).value();  // rethrows what the reader threw
  };
}

faultline::sweep_options clock_steps(std::uint64_t seeds) {
  faultline::sweep_options o;
  o.seeds = seeds;
  o.plan.clocks(faultline::clock_faults().steps(0.02, -120s, 120s));
  return o;
}

TEST(ClockBugs, ATtlCacheOnWallClockStampsServesStaleDataAfterAStepBack) {
  const auto r = faultline::sweep(clock_steps(20), ttl_scenario(true));
  ASSERT_TRUE(r.failure.has_value()) << "not found within 20 seeds";
  // Found at seed 1 (bound 20): its 47th wall-clock read stepped the clock back 34.251s.
  EXPECT_EQ(r.failure->seed, 1u);
  EXPECT_EQ(r.failure->schedule.to_string(), "wall_clock#47=step(-34251ms)");
  EXPECT_THAT(r.failure->failure, HasSubstr("the cache served config fetched"));
  ASSERT_TRUE(r.minimal.has_value());
  ASSERT_TRUE(r.minimal->reproduced);
  // Minimised to the one step back that outlived the entry.
  const auto& faults = r.minimal->schedule.faults();
  ASSERT_EQ(faults.size(), 1u) << r.minimal->schedule.to_string();
  EXPECT_EQ(faults[0].point, "wall_clock");
  EXPECT_LT(faults[0].clock_step, 0s) << r.minimal->schedule.to_string();
  // Moved to the earliest read that still fails: the step right after the first put.
  EXPECT_EQ(r.minimal->schedule.to_string(), "wall_clock#1=step(-34251ms)");
  // The printed schedule replays the failure.
  const auto replayed = faultline::run_schedule(clock_steps(1), faultline::fault_schedule::parse(r.minimal->schedule.to_string()),
                                                r.failure->seed, ttl_scenario(true));
  EXPECT_TRUE(replayed.failed);
  EXPECT_THAT(replayed.failure, HasSubstr("the cache served config fetched"));
}

TEST(ClockBugs, TheTtlBugIsNotFoundWithoutWallClockFaultsAndTheSteadyCacheSurvivesThem) {
  faultline::sweep_options off;
  off.seeds = 50;
  off.plan.point("origin", faultline::fault_rates().latency(faultline::latency_dist::uniform(0ms, 500ms)));
  EXPECT_FALSE(faultline::sweep(off, ttl_scenario(true)).failure.has_value());
  const auto correct = faultline::sweep(clock_steps(50), ttl_scenario(false));
  EXPECT_FALSE(correct.failure.has_value()) << faultline::describe(correct);
}

}  // namespace
