// Tests of sim_context driving: drain-before-advance, ordering, bounds, poll and advance.
#include <faultline/sim_context.hpp>

#include <faultline/gtest.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::at;
using faultline::sim_clock;

// Starts a raw-callback wait that records (label, virtual instant) when it fires.
struct recorder {
  explicit recorder(faultline::sim_context& s) : sim(s) {}

  faultline::sim_context& sim;
  std::vector<std::pair<std::string, sim_clock::time_point>> fired;
  std::vector<std::unique_ptr<faultline::steady_timer>> timers;

  void after(sim_clock::duration d, std::string label, std::function<void()> then = {}) {
    auto& t = *timers.emplace_back(std::make_unique<faultline::steady_timer>(sim, d));
    t.async_wait([this, label = std::move(label), then = std::move(then)](boost::system::error_code ec) {
      ASSERT_FALSE(ec) << label;
      fired.emplace_back(label, sim.now());
      if (then) then();
    });
  }
};

TEST(SimContext, TimerFiresWithNowEqualToItsDeadline) {
  faultline::sim_context sim;
  auto r = sim.run([]() -> asio::awaitable<int> {
    co_await faultline::sleep_for(10ms);
    co_return 42;
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(r.completed_at(), at(10ms));
  EXPECT_EQ(sim.now(), at(10ms));
}

TEST(SimContext, TimerStartedInsideAHandlerCountsFromThatHandlersInstant) {
  faultline::sim_context sim;
  recorder rec(sim);
  rec.after(30ms, "far");  // something later, so a late jump would be visible
  rec.after(10ms, "first", [&] { rec.after(10ms, "second"); });
  sim.run();
  ASSERT_EQ(rec.fired.size(), 3u);
  EXPECT_EQ(rec.fired[0], std::make_pair(std::string("first"), at(10ms)));
  EXPECT_EQ(rec.fired[1], std::make_pair(std::string("second"), at(20ms)));
  EXPECT_EQ(rec.fired[2], std::make_pair(std::string("far"), at(30ms)));
}

TEST(SimContext, AllReadyWorkRunsBeforeTheClockMoves) {
  faultline::sim_context sim;
  int chain = 0;
  std::vector<sim_clock::time_point> chain_times;
  std::function<void()> step = [&] {
    chain_times.push_back(sim.now());
    if (++chain < 100) asio::post(sim, step);
  };
  asio::post(sim, step);
  int chain_seen_by_timer = -1;
  faultline::steady_timer t(sim, 1ns);
  t.async_wait([&](boost::system::error_code) { chain_seen_by_timer = chain; });
  sim.run();
  EXPECT_EQ(chain_seen_by_timer, 100);
  EXPECT_EQ(chain_times, std::vector<sim_clock::time_point>(100, at(0ms)));
}

TEST(SimContext, ContinuationsWokenByATimerRunBeforeTheNextInstant) {
  // A retry loop whose next attempt is due 10ms after the previous one woke:
  // each attempt must start exactly 10ms apart, never drifting later.
  faultline::sim_context sim;
  std::vector<sim_clock::time_point> attempts;
  auto r = sim.run([&]() -> asio::awaitable<void> {
    for (int i = 0; i < 3; ++i) {
      attempts.push_back(sim.now());
      co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
      co_await faultline::sleep_for(10ms);
    }
  });
  EXPECT_TRUE(r.has_value());
  EXPECT_EQ(attempts, (std::vector{at(0ms), at(10ms), at(20ms)}));
  EXPECT_EQ(r.completed_at(), at(30ms));
}

TEST(SimContext, TimeoutAroundAGatherDoesNotFireBeforeTheGatherFinishes) {
  using namespace asio::experimental::awaitable_operators;
  faultline::sim_context sim;
  auto gather = []() -> asio::awaitable<void> {
    co_await (faultline::sleep_for(10ms) && faultline::sleep_for(20ms));
    co_await faultline::sleep_for(5ms);  // the gather's own continuation
  };
  // The gather ends at 25ms; a timeout 1ns later must lose.
  auto r = sim.run([&]() -> asio::awaitable<std::size_t> {
    auto v = co_await (gather() || faultline::sleep_for(25ms + 1ns));
    co_return v.index();
  });
  EXPECT_EQ(r.value(), 0u);
  EXPECT_EQ(r.completed_at(), at(25ms));
}

TEST(SimContext, SameInstantEventsRunInDeadlineThenSchedulingOrder) {
  faultline::sim_context sim;
  recorder rec(sim);
  rec.after(30ms, "a");
  rec.after(10ms, "b");
  rec.after(20ms, "c");
  rec.after(10ms, "d");
  rec.after(30ms, "e");
  sim.run();
  std::vector<std::string> order;
  for (auto& [label, t] : rec.fired) order.push_back(label + "@" + faultline::to_string(t));
  EXPECT_EQ(order, (std::vector<std::string>{"b@t=0.010s", "d@t=0.010s", "c@t=0.020s", "a@t=0.030s",
                                             "e@t=0.030s"}));
}

TEST(SimContext, PostedHandlersRunInPostingOrder) {
  faultline::sim_context sim;
  std::string order;
  for (char c : std::string("abcde")) asio::post(sim, [&order, c] { order += c; });
  EXPECT_EQ(sim.poll(), 5u);
  EXPECT_EQ(order, "abcde");
}

TEST(SimContext, RunForNeverPassesTheBoundAndLeavesNowAtIt) {
  faultline::sim_context sim;
  recorder rec(sim);
  rec.after(50ms, "t50");
  sim.run_for(30ms);
  EXPECT_TRUE(rec.fired.empty());
  EXPECT_EQ(sim.now(), at(30ms));
  sim.run_for(20ms);  // the bound is inclusive: a timer due at it fires
  ASSERT_EQ(rec.fired.size(), 1u);
  EXPECT_EQ(rec.fired[0].second, at(50ms));
  EXPECT_EQ(sim.now(), at(50ms));
  sim.run_for(10ms);  // nothing left: the clock still moves to the bound
  EXPECT_EQ(sim.now(), at(60ms));
}

TEST(SimContext, RunUntilStopsAtTheBoundWithLaterTimersPending) {
  faultline::sim_context sim;
  recorder rec(sim);
  rec.after(10ms, "t10");
  rec.after(40ms, "t40");
  sim.run_until(at(25ms));
  ASSERT_EQ(rec.fired.size(), 1u);
  EXPECT_EQ(rec.fired[0].second, at(10ms));
  EXPECT_EQ(sim.now(), at(25ms));
  sim.run();
  EXPECT_EQ(rec.fired.size(), 2u);
  EXPECT_EQ(sim.now(), at(40ms));
}

TEST(SimContext, RunUntilABoundInThePastIsRejected) {
  faultline::sim_context sim;
  sim.run_for(10ms);
  try {
    sim.run_until(at(5ms));
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "faultline: sim_context::run_until: the bound t=0.005s is before now (t=0.010s); virtual "
                 "time only moves forward");
  }
}

TEST(SimContext, AdvanceFiresDueTimersInOrderAndRunsWhatEachMakesReady) {
  faultline::sim_context sim;
  recorder rec(sim);
  std::vector<sim_clock::time_point> posted_at;
  rec.after(20ms, "t20");
  rec.after(10ms, "t10", [&] { asio::post(sim, [&] { posted_at.push_back(sim.now()); }); });
  rec.after(40ms, "t40");
  sim.advance(25ms);
  ASSERT_EQ(rec.fired.size(), 2u);
  EXPECT_EQ(rec.fired[0], std::make_pair(std::string("t10"), at(10ms)));
  EXPECT_EQ(rec.fired[1], std::make_pair(std::string("t20"), at(20ms)));
  EXPECT_EQ(posted_at, std::vector{at(10ms)});  // ran before the clock moved on to 20ms
  EXPECT_EQ(sim.now(), at(25ms));
}

TEST(SimContext, PollRunsReadyWorkAndDueTimersWithoutMovingTheClock) {
  faultline::sim_context sim;
  recorder rec(sim);
  rec.after(0ms, "due-now");
  rec.after(1ms, "later");
  int posted = 0;
  asio::post(sim, [&] { ++posted; });
  sim.poll();
  EXPECT_EQ(posted, 1);
  ASSERT_EQ(rec.fired.size(), 1u);
  EXPECT_EQ(rec.fired[0].first, "due-now");
  EXPECT_EQ(sim.now(), at(0ms));
}

TEST(SimContext, RunReturnsTheNumberOfHandlersRun) {
  faultline::sim_context sim;
  for (int i = 0; i < 3; ++i) asio::post(sim, [] {});
  EXPECT_EQ(sim.run(), 3u);
  EXPECT_EQ(sim.run(), 0u);  // nothing left: returns at once
}

TEST(SimContext, AnHourOfVirtualTimePassesInstantly) {
  faultline::sim_context sim;
  auto r = sim.run([]() -> asio::awaitable<int> {
    int n = 0;
    for (; n < 3600; ++n) co_await faultline::sleep_for(1s);
    co_return n;
  });
  EXPECT_EQ(r.value(), 3600);
  EXPECT_EQ(sim.now(), at(1h));
}

TEST(SimContext, HandlerExceptionsPropagateOutOfRunAndTheSimStaysUsable) {
  faultline::sim_context sim;
  asio::post(sim, [] { throw std::runtime_error("from a handler"); });
  int later = 0;
  asio::post(sim, [&] { ++later; });
  EXPECT_THROW(sim.run(), std::runtime_error);
  EXPECT_EQ(later, 0);
  sim.run();
  EXPECT_EQ(later, 1);
}

}  // namespace
