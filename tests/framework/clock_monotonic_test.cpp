// Regression tests: the virtual clock never runs backwards, and the ends of time saturate (issue 11, items 1, 2, 7).
#include <faultline/sim_context.hpp>

#include <faultline/gtest.hpp>
#include <faultline/steady_clock.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/use_awaitable.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include "support/message_of.hpp"

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;
using faultline::at;
using faultline::sim_clock;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using tp = faultline::steady_clock::time_point;

constexpr auto end_of_time = sim_clock::time_point::max();           // parked waits live here
constexpr auto last_instant = sim_clock::time_point::max() - 1ns;    // where the clock saturates

struct completion {
  std::optional<error_code> ec;
  sim_clock::time_point at{};
  sim_clock::time_point clock_at{};  // what code under test reads: faultline::steady_clock
};

auto record(faultline::sim_context& sim, completion& c) {
  return [&sim, &c](error_code ec) {
    c.ec = ec;
    c.at = sim.now();
    c.clock_at = sim_clock::time_point(faultline::steady_clock::now().time_since_epoch());
  };
}

using faultline_test::message_of;

// -- item 1: a deadline already passed completes at now(), never earlier -------

TEST(PastDeadline, RunFiresItAtNowAndLeavesTheClockThere) {
  faultline::sim_context sim;
  sim.advance(10ms);
  faultline::steady_timer t(sim);
  t.expires_at(tp(5ms));
  completion c;
  t.async_wait(record(sim, c));
  sim.run();
  EXPECT_EQ(c.ec, error_code());
  EXPECT_EQ(c.at, at(10ms));
  EXPECT_EQ(c.clock_at, at(10ms));
  EXPECT_EQ(sim.now(), at(10ms));
  EXPECT_EQ(t.expiry(), tp(5ms));  // the timer still says what it was told
}

TEST(PastDeadline, RunUntilFiresItAtNowThenMovesToTheBound) {
  faultline::sim_context sim;
  sim.advance(10ms);
  faultline::steady_timer t(sim);
  t.expires_at(tp(5ms));
  completion c;
  t.async_wait(record(sim, c));
  sim.run_until(at(20ms));
  EXPECT_EQ(c.at, at(10ms));
  EXPECT_EQ(c.clock_at, at(10ms));
  EXPECT_EQ(sim.now(), at(20ms));
}

TEST(PastDeadline, PollFiresItAtNowWithoutMovingTheClock) {
  faultline::sim_context sim;
  sim.advance(10ms);
  faultline::steady_timer t(sim);
  t.expires_at(tp(5ms));
  completion c;
  t.async_wait(record(sim, c));
  EXPECT_EQ(sim.poll(), 1u);
  EXPECT_EQ(c.ec, error_code());
  EXPECT_EQ(c.at, at(10ms));
  EXPECT_EQ(sim.now(), at(10ms));
}

TEST(PastDeadline, SleepUntilAPassedInstantResumesAtNow) {
  faultline::sim_context sim;
  std::vector<sim_clock::time_point> seen;
  auto r = sim.run([&]() -> asio::awaitable<void> {
    co_await faultline::sleep_for(10ms);
    co_await faultline::sleep_until(tp(2ms));
    seen.push_back(sim.now());
    co_await faultline::sleep_until(tp::min());
    seen.push_back(sim.now());
  });
  EXPECT_TRUE(r.has_value());
  EXPECT_EQ(r.completed_at(), at(10ms));
  EXPECT_THAT(seen, ElementsAre(at(10ms), at(10ms)));
}

TEST(PastDeadline, FiresInSchedulingOrderWithOtherDueWorkLikeExpiresAfterZero) {
  faultline::sim_context sim;
  sim.advance(10ms);
  std::vector<std::string> order;
  auto log = [&](std::string name) {
    return [&order, &sim, name](error_code) { order.push_back(name + "@" + faultline::to_string(sim.now())); };
  };
  faultline::steady_timer a(sim), b(sim), c(sim), d(sim);
  a.expires_after(0ms);   // due now, scheduled first
  b.expires_at(tp(5ms));  // passed: due now, scheduled second
  c.expires_after(0ms);   // due now, scheduled third
  d.expires_at(tp(1ms));  // passed, scheduled last, earliest deadline of all
  a.async_wait(log("a"));
  b.async_wait(log("b"));
  c.async_wait(log("c"));
  d.async_wait(log("d"));
  sim.run();
  EXPECT_THAT(order, ElementsAre("a@t=0.010s", "b@t=0.010s", "c@t=0.010s", "d@t=0.010s"));
}

TEST(PastDeadline, AWaitStartedLaterAtAnEarlierPastDeadlineDoesNotOvertakeATimerDueNow) {
  // A handler at t=10ms starts a wait for t=3ms while a timer due at 10ms,
  // scheduled before it, has not fired yet: the earlier one goes first.
  faultline::sim_context sim;
  std::vector<std::string> order;
  faultline::steady_timer starter(sim, 10ms), due(sim, 10ms), late(sim);
  starter.async_wait([&](error_code) {
    late.expires_at(tp(3ms));
    late.async_wait([&](error_code) { order.push_back("late@" + faultline::to_string(sim.now())); });
  });
  due.async_wait([&](error_code) { order.push_back("due@" + faultline::to_string(sim.now())); });
  sim.run();
  EXPECT_THAT(order, ElementsAre("due@t=0.010s", "late@t=0.010s"));
}

// -- item 2: time_point::min() neither moves the clock nor breaks printing -----

TEST(EndsOfTime, ExpiresAtMinIsDueNow) {
  faultline::sim_context sim;
  sim.advance(7ms);
  faultline::steady_timer t(sim);
  t.expires_at(tp::min());
  completion c;
  t.async_wait(record(sim, c));
  EXPECT_THAT(sim.pending().back().describe(), HasSubstr("until t=0.007s"));
  sim.run();
  EXPECT_EQ(c.ec, error_code());
  EXPECT_EQ(c.at, at(7ms));
  EXPECT_EQ(sim.now(), at(7ms));
  EXPECT_THAT(sim.trace().timeline(), HasSubstr("until t=0.007s"));
}

TEST(EndsOfTime, EveryInstantPrints) {
  EXPECT_EQ(faultline::to_string(sim_clock::time_point::min()), "t=-9223372036.854775808s");
  EXPECT_EQ(faultline::to_string(sim_clock::time_point::max()), "t=9223372036.854775807s");
  EXPECT_EQ(faultline::to_string(sim_clock::duration::min()), "-9223372036.854775808s");
  EXPECT_EQ(faultline::to_string(sim_clock::duration::min() + 1ns), "-9223372036.854775807s");
  EXPECT_EQ(faultline::to_string(sim_clock::duration(-1'500'000)), "-0.001500s");
  EXPECT_EQ(faultline::to_string(sim_clock::duration(0)), "0.000s");
}

// -- item 7: huge durations saturate at the last finite instant -----------------

TEST(HugeDurations, RunForNanosecondsMaxRunsToTheLastInstant) {
  faultline::sim_context sim;
  sim.advance(1ms);
  faultline::steady_timer hour(sim, 1h), parked(sim, tp::max());
  completion h, p;
  hour.async_wait(record(sim, h));
  parked.async_wait(record(sim, p));
  sim.run_for(std::chrono::nanoseconds::max());
  EXPECT_EQ(h.at, at(1h + 1ms));
  EXPECT_FALSE(p.ec.has_value());
  EXPECT_EQ(sim.now(), last_instant);
}

TEST(HugeDurations, RunForHoursMaxIsNotNegative) {
  faultline::sim_context sim;
  sim.run_for(std::chrono::hours::max());
  EXPECT_EQ(sim.now(), last_instant);
  faultline::sim_context other;
  other.run_for(std::chrono::duration<double>(1e300));
  EXPECT_EQ(other.now(), last_instant);
}

TEST(HugeDurations, NegativeHugeDurationsAreRejectedNamingTheValue) {
  faultline::sim_context sim;
  EXPECT_EQ(message_of([&] { sim.run_for(std::chrono::hours::min()); }),
            "faultline: sim_context::run_for(-9223372036.854775808s): the duration is negative; virtual time only "
            "moves forward");
  EXPECT_THAT(message_of([&] { sim.advance(std::chrono::nanoseconds::min()); }),
              StartsWith("faultline: sim_context::advance(-9223372036.854775808s): the duration is negative"));
  EXPECT_EQ(sim.now(), at(0ms));
}

TEST(HugeDurations, AdvanceNeverFiresAParkedWait) {
  faultline::sim_context sim;
  sim.advance(1ms);
  faultline::steady_timer parked(sim, tp::max());
  completion p;
  parked.async_wait(record(sim, p));
  sim.advance(std::chrono::nanoseconds::max());
  EXPECT_FALSE(p.ec.has_value());
  EXPECT_EQ(sim.now(), last_instant);
  sim.advance(std::chrono::hours::max());  // already at the end: stays
  EXPECT_FALSE(p.ec.has_value());
  EXPECT_EQ(sim.now(), last_instant);
  ASSERT_EQ(sim.pending().size(), 1u);
  EXPECT_EQ(sim.pending()[0].kind, "parked timer");
  parked.cancel();
  sim.poll();
  EXPECT_EQ(p.ec, asio::error::operation_aborted);
  EXPECT_EQ(p.at, last_instant);
}

TEST(HugeDurations, RunUntilTheEndOfTimeStopsOneNanosecondShort) {
  faultline::sim_context sim;
  faultline::steady_timer parked(sim, tp::max());
  completion p;
  parked.async_wait(record(sim, p));
  sim.run_until(end_of_time);
  EXPECT_FALSE(p.ec.has_value());
  EXPECT_EQ(sim.now(), last_instant);
}

TEST(HugeDurations, AShortTimerNearTheEndOfTimeFiresInsteadOfParking) {
  faultline::sim_options o;
  o.horizon = sim_clock::duration::max();
  faultline::sim_context sim(o);
  sim.run_until(end_of_time - 10ns);  // 10ns before the end of time
  faultline::steady_timer t(sim);
  t.expires_after(100ns);
  EXPECT_EQ(t.expiry(), tp::max() - 1ns);
  completion c;
  t.async_wait(record(sim, c));
  EXPECT_EQ(sim.pending()[0].kind, "timer");
  sim.run();  // no stall: a finite wait is not a parked one
  EXPECT_EQ(c.ec, error_code());
  EXPECT_EQ(c.at, last_instant);
  EXPECT_EQ(sim.now(), last_instant);
}

TEST(HugeDurations, AtTheLastInstantEveryWaitIsDueNow) {
  faultline::sim_context sim;
  sim.run_for(std::chrono::hours::max());
  std::vector<sim_clock::time_point> seen;
  sim.spawn("late", [&]() -> asio::awaitable<void> {
    co_await faultline::sleep_for(1s);
    seen.push_back(sim.now());
    co_await faultline::sleep_for(std::chrono::hours::max());
    seen.push_back(sim.now());
  });
  sim.run();
  EXPECT_THAT(seen, ElementsAre(last_instant, last_instant));
}

TEST(HugeDurations, SleepAndExpiresAfterOfAnyDurationTypeSaturate) {
  faultline::sim_context sim;
  sim.advance(1ms);
  faultline::steady_timer t(sim);
  t.expires_after(std::chrono::hours::max());
  EXPECT_EQ(t.expiry(), tp::max() - 1ns);
  t.expires_after(std::chrono::nanoseconds::max());
  EXPECT_EQ(t.expiry(), tp::max() - 1ns);
  sim.spawn("sleeper", [&]() -> asio::awaitable<void> { co_await faultline::sleep_for(std::chrono::hours::max()); });
  sim.run_for(1h);
  ASSERT_EQ(sim.pending().size(), 2u);
  EXPECT_EQ(sim.pending()[1].describe(), "timer#2 (timer) waiting since t=0.001s until t=9223372036.854775806s");
}

TEST(HugeDurations, AWaitDueNowPastTheHorizonIsNotAHorizonError) {
  // A bounded run may pass the horizon; run() then only refuses to move the
  // clock further, not to fire what is due now.
  faultline::sim_options o;
  o.horizon = 1h;
  faultline::sim_context sim(o);
  sim.run_for(2h);
  auto r = sim.run([]() -> asio::awaitable<int> {
    co_await faultline::sleep_for(0s);
    co_await faultline::sleep_until(tp(1s));
    co_return 7;
  });
  EXPECT_EQ(r.value(), 7);
  EXPECT_EQ(r.completed_at(), at(2h));
  sim.spawn("beyond", []() -> asio::awaitable<void> { co_await faultline::sleep_for(1ms); });
  EXPECT_THROW(sim.run(), faultline::horizon_error);
  EXPECT_EQ(sim.now(), at(2h));
}

TEST(HugeDurations, SimsThatRanToTheEndOfTimeSaturateTheThreadsTotal) {
  // Each sim adds its virtual time to the thread's total when it dies; two
  // that reached the end of time overflowed it (UBSan: signed overflow).
  std::thread([] {
    for (int i = 0; i < 2; ++i) {
      faultline::sim_context sim;
      sim.run_for(std::chrono::hours::max());
    }
    EXPECT_EQ(faultline::totals_on_this_thread().virtual_time, last_instant.time_since_epoch());
    EXPECT_EQ(faultline::totals_on_this_thread().sims, 2u);
  }).join();
}

TEST(HugeDurations, AHugeAutoAdvanceIsAHorizonErrorNotAStall) {
  faultline::sim_context sim;
  sim.spawn("sleeper", []() -> asio::awaitable<void> { co_await faultline::sleep_for(std::chrono::hours::max()); });
  EXPECT_THAT(message_of([&] { sim.run(); }),
              StartsWith("faultline: horizon reached at t=0.000s: the next timer is due at t=9223372036.854775806s"));
}

}  // namespace
