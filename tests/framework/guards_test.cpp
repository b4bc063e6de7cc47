// Tests of what ends a run instead of a hang: stall, livelock, horizon; and teardown.
#include <faultline/error.hpp>

#include <faultline/gtest.hpp>
#include <faultline/sim_context.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::at;
using ::testing::HasSubstr;

asio::awaitable<void> park_forever() {
  faultline::steady_timer t(co_await asio::this_coro::executor, faultline::steady_timer::time_point::max());
  co_await t.async_wait(asio::use_awaitable);
}

TEST(Stall, RunReportsEveryPendingOperationInsteadOfHanging) {
  faultline::sim_context sim;
  sim.spawn("sleeper", []() -> asio::awaitable<void> { co_await faultline::sleep_for(5ms); });
  sim.spawn("parked", park_forever());
  try {
    sim.run();
    FAIL() << "expected stall_error";
  } catch (const faultline::stall_error& e) {
    EXPECT_EQ(e.at(), at(5ms));  // the sleeper finished; the parked task never can
    ASSERT_EQ(e.pending().size(), 2u);
    EXPECT_EQ(e.pending()[0].describe(), "parked (task) waiting since t=0.000s");
    EXPECT_EQ(e.pending()[1].describe(), "timer#2 (parked timer) waiting since t=0.000s until cancelled");
    EXPECT_THAT(e.what(), HasSubstr("faultline: sim stalled at t=0.005s with 2 pending operations"));
    EXPECT_THAT(e.what(), HasSubstr("\n  parked (task) waiting since t=0.000s"));
  }
}

TEST(Stall, ParkedTimerIsNeverJumpedTo) {
  faultline::sim_context sim;
  sim.spawn("parked", park_forever());
  EXPECT_THROW(sim.run(), faultline::stall_error);
  EXPECT_EQ(sim.now(), at(0ms));
}

TEST(Stall, ChannelNobodyWritesToIsAStallNamingTheTask) {
  faultline::sim_context sim;
  asio::experimental::channel<void(boost::system::error_code, int)> ch(sim, 0);
  sim.spawn("consumer", [&]() -> asio::awaitable<void> { co_await ch.async_receive(asio::use_awaitable); });
  try {
    sim.run();
    FAIL() << "expected stall_error";
  } catch (const faultline::stall_error& e) {
    ASSERT_EQ(e.pending().size(), 1u);
    EXPECT_EQ(e.pending()[0].name, "consumer");
  }
}

TEST(Stall, UnnamedCoroutinesAreCountedWhenTheyCannotBeNamed) {
  faultline::sim_context sim;
  asio::experimental::channel<void(boost::system::error_code, int)> ch(sim, 0);
  asio::co_spawn(
      sim, [&]() -> asio::awaitable<void> { co_await ch.async_receive(asio::use_awaitable); }, asio::detached);
  try {
    sim.run();
    FAIL() << "expected stall_error";
  } catch (const faultline::stall_error& e) {
    EXPECT_TRUE(e.pending().empty());
    EXPECT_THAT(e.what(), HasSubstr("of outstanding work that faultline cannot name"));
    EXPECT_THAT(e.what(), HasSubstr("sim.spawn(name, ...)"));
  }
}

TEST(Stall, RunOfAnAwaitableThatCanNeverEndThrows) {
  faultline::sim_context sim;
  EXPECT_THROW(sim.run(park_forever()), faultline::stall_error);
}

TEST(Stall, PendingListsWhatIsSuspendedAtAnyTime) {
  faultline::sim_context sim;
  sim.spawn("fetch", []() -> asio::awaitable<void> { co_await faultline::sleep_for(2s); });
  sim.run_for(500ms);
  auto p = sim.pending();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].describe(), "fetch (task) waiting since t=0.000s");
  EXPECT_EQ(p[1].describe(), "timer#1 (timer) waiting since t=0.000s until t=2.000s");
  sim.run();
  EXPECT_TRUE(sim.pending().empty());
}

TEST(Livelock, StepLimitEndsASpinningLoop) {
  faultline::sim_options opts;
  opts.step_limit = 1000;
  faultline::sim_context sim(opts);
  sim.spawn("spinner", []() -> asio::awaitable<void> {
    for (;;) co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  });
  try {
    sim.run();
    FAIL() << "expected livelock_error";
  } catch (const faultline::livelock_error& e) {
    EXPECT_EQ(e.at(), at(0ms));
    EXPECT_THAT(e.what(), HasSubstr("faultline: livelock at t=0.000s: 1000 handlers ran without virtual time "
                                    "advancing"));
    EXPECT_THAT(e.what(), HasSubstr("sim_options::step_limit"));
    ASSERT_EQ(e.pending().size(), 1u);
    EXPECT_EQ(e.pending()[0].name, "spinner");
  }
}

TEST(Livelock, TheLimitCountsPerInstantNotPerRun) {
  faultline::sim_options opts;
  opts.step_limit = 50;
  faultline::sim_context sim(opts);
  auto r = sim.run([]() -> asio::awaitable<int> {
    int n = 0;
    for (; n < 500; ++n) co_await faultline::sleep_for(1ms);  // few steps at each instant
    co_return n;
  });
  EXPECT_EQ(r.value(), 500);
}

TEST(Horizon, EndlessRetryLoopEndsAtTheHorizon) {
  faultline::sim_options opts;
  opts.horizon = 1h;
  faultline::sim_context sim(opts);
  sim.spawn("retry", []() -> asio::awaitable<void> {
    for (;;) co_await faultline::sleep_for(1s);
  });
  try {
    sim.run();
    FAIL() << "expected horizon_error";
  } catch (const faultline::horizon_error& e) {
    EXPECT_EQ(e.at(), at(1h));
    EXPECT_EQ(sim.now(), at(1h));
    EXPECT_THAT(e.what(), HasSubstr("faultline: horizon reached at t=3600.000s: the next timer is due at "
                                    "t=3601.000s, past the horizon t=3600.000s"));
  }
  // Bounded runs are the test's own choice and may go past the horizon.
  sim.run_for(2s);
  EXPECT_EQ(sim.now(), at(3602s));
}

TEST(Options, RejectsAZeroStepLimitAndANonPositiveHorizon) {
  faultline::sim_options a;
  a.step_limit = 0;
  EXPECT_THROW(faultline::sim_context{a}, std::invalid_argument);
  faultline::sim_options b;
  b.horizon = -1s;
  try {
    faultline::sim_context sim(b);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "faultline: sim_options::horizon is -1.000s; it must be positive");
  }
}

// Counts live instances, so a test can tell that a destroyed sim freed the
// coroutine frames holding them.
struct tracked_local {
  static inline int alive = 0;
  tracked_local() { ++alive; }
  tracked_local(const tracked_local&) { ++alive; }
  ~tracked_local() { --alive; }
};

TEST(Teardown, DestroyingASimFreesSuspendedCoroutinesWithoutRunningThem) {
  bool resumed = false;
  {
    faultline::sim_context sim;
    asio::experimental::channel<void(boost::system::error_code, int)> ch(sim, 0);
    auto body = [&](faultline::sim_clock::duration d) -> asio::awaitable<void> {
      tracked_local local;
      co_await faultline::sleep_for(d);
      resumed = true;
    };
    sim.spawn("sleeps", body(1h));
    sim.spawn("parked", [&]() -> asio::awaitable<void> {
      tracked_local local;
      co_await park_forever();
      resumed = true;
    });
    sim.spawn("receiver", [&]() -> asio::awaitable<void> {
      tracked_local local;
      co_await ch.async_receive(asio::use_awaitable);
      resumed = true;
    });
    asio::post(sim, [&] { resumed = true; });  // queued, never run
    sim.run_for(1ms);
    resumed = false;
    asio::post(sim, [&] { resumed = true; });
    EXPECT_EQ(tracked_local::alive, 3);
  }
  EXPECT_EQ(tracked_local::alive, 0);
  EXPECT_FALSE(resumed);
}

TEST(Teardown, TaskHandleOutlivesItsSim) {
  std::optional<faultline::task<int>> t;
  {
    faultline::sim_context sim;
    t = sim.spawn("late", []() -> asio::awaitable<int> {
      co_await faultline::sleep_for(1s);
      co_return 1;
    });
  }
  EXPECT_FALSE(t->done());
  EXPECT_THROW(t->result(), std::logic_error);
  EXPECT_THROW(t->cancel(), std::logic_error);
}

}  // namespace
