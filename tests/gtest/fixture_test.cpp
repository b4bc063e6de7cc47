// Tests of sim_test, background scopes and the end-of-test checks: each fails a test that deserves it.
#include <faultline/gtest/fixture.hpp>

#include <faultline/gtest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <boost/asio/redirect_error.hpp>

#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::at;
using faultline::testing::expect_clean_teardown;
using ::testing::HasSubstr;

asio::awaitable<void> sleeper(std::chrono::milliseconds d) { co_await faultline::sleep_for(d); }

asio::awaitable<int> fails_after(std::chrono::milliseconds d) {
  co_await faultline::sleep_for(d);
  throw std::runtime_error("lost");
}

// -- expect_clean_teardown ---------------------------------------------------------------

TEST(TeardownChecks, PassAQuietSim) {
  faultline::sim_context sim;
  sim.run(sleeper(1s));
  EXPECT_TRUE(expect_clean_teardown(sim));  // any failure would fail this test
}

TEST(TeardownChecks, NameEachOperationStillPending) {
  faultline::sim_context sim;
  auto t = sim.spawn("poller", sleeper(1h));
  sim.run_for(1s);
  EXPECT_NONFATAL_FAILURE(expect_clean_teardown(sim),
                          "faultline: 2 operations are still pending at the end of the test (t=1.000s):\n"
                          "  poller (task) waiting since t=0.000s\n"
                          "  timer#1 (timer) waiting since t=0.000s until t=3600.000s\n"
                          "await or cancel them before the test ends, or start long-lived tasks with "
                          "background().spawn(name, ...), which cancels them at teardown");
  t.cancel();
  sim.run();
  EXPECT_TRUE(expect_clean_teardown(sim));
}

TEST(TeardownChecks, NameEachFailureNobodyObserved) {
  faultline::sim_context sim;
  auto t = sim.spawn("fetcher", fails_after(20ms));
  sim.run();
  EXPECT_NONFATAL_FAILURE(expect_clean_teardown(sim),
                          "faultline: 1 task failed and nobody read the outcome (an exception never retrieved):\n"
                          "  task fetcher threw std::runtime_error: lost at t=0.020s\n"
                          "read it with task.result()");
  EXPECT_TRUE(t.result().has_exception());  // reading it is observing it
  EXPECT_TRUE(expect_clean_teardown(sim));
}

TEST(TeardownChecks, CancellationIsNotAFailure) {
  faultline::sim_context sim;
  auto t = sim.spawn("cancelled", sleeper(1s));
  sim.run_for(10ms);
  t.cancel();
  sim.run();
  EXPECT_TRUE(expect_clean_teardown(sim));
}

TEST(TeardownChecks, NameEachScriptedExpectationThatNeverHappened) {
  faultline::sim_context sim;
  faultline::async_fake<std::string(std::string)> fetch(sim, "fetch");
  fetch.on_call().returns("a").times(2);
  sim.run(fetch("/x"));
  EXPECT_NONFATAL_FAILURE(expect_clean_teardown(sim),
                          "faultline: 1 scripted expectation never happened:\n"
                          "  fetch.on_call(any) step 1 returns \"a\" (used 1 of 2): never used up\n"
                          "make the code under test reach them, or remove them from the script");
  sim.run(fetch("/y"));
  EXPECT_TRUE(expect_clean_teardown(sim));
}

TEST(TeardownChecks, AHoldNeverReachedIsUnmet) {
  faultline::sim_context sim;
  faultline::async_fake<int()> f(sim, "f");
  f.on_call().returns(1);
  auto h = f.hold_next();
  EXPECT_NONFATAL_FAILURE(expect_clean_teardown(sim), "never happened");
  auto call = sim.spawn("call", f());
  sim.run_for(1ms);
  EXPECT_TRUE(h.was_reached());
  h.release();
  sim.run();
  EXPECT_EQ(call.result().value(), 1);
  EXPECT_TRUE(expect_clean_teardown(sim));
}

TEST(TeardownChecks, EachKindIsOneFailureAndCanBeSwitchedOff) {
  faultline::sim_context sim;
  faultline::async_fake<int()> f(sim, "f");
  f.on_call().returns(1).times(2);
  auto leak = sim.spawn("leak", sleeper(1h));
  auto lost = sim.spawn("lost", fails_after(1ms));
  sim.run_for(1s);
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter r(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    EXPECT_FALSE(expect_clean_teardown(sim, {}, "where.cpp", 12));
  }
  ASSERT_EQ(failures.size(), 3);
  EXPECT_THAT(failures.GetTestPartResult(0).message(), HasSubstr("leak (task) waiting since t=0.000s"));
  EXPECT_THAT(failures.GetTestPartResult(1).message(), HasSubstr("task lost"));
  EXPECT_THAT(failures.GetTestPartResult(2).message(), HasSubstr("f.on_call(any)"));
  EXPECT_STREQ(failures.GetTestPartResult(0).file_name(), "where.cpp");
  EXPECT_EQ(failures.GetTestPartResult(0).line_number(), 12);
  EXPECT_TRUE(expect_clean_teardown(sim, {false, false, false}));
  leak.cancel();
  sim.run();
  lost.result();
  sim.run(f());
  sim.run(f());  // the step serves two calls: unused, it would fail this test when f is destroyed
}

// -- sim_test, driven by hand to see what its teardown reports ---------------------------------

class probe : public faultline::testing::sim_test {
 public:
  probe() = default;
  explicit probe(const faultline::sim_options& o) : sim_test(o) {}
  void TestBody() override {}
  using sim_test::TearDown;
};

TEST(SimTest, ALeakedTaskFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(
      {
        probe p;
        p.sim().spawn("leak", sleeper(1h));
        p.sim().run_for(1s);
        p.TearDown();
      },
      "leak (task) waiting since t=0.000s");
}

TEST(SimTest, AnUnobservedFailureFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(
      {
        probe p;
        p.sim().spawn("lost", fails_after(5ms));
        p.sim().run();
        p.TearDown();
      },
      "task lost threw std::runtime_error: lost at t=0.005s");
}

TEST(SimTest, AnUnmetScriptFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(
      {
        probe p;
        faultline::async_fake<int()> f(p.sim(), "f");
        f.on_call().returns(1);
        p.TearDown();
      },
      "f.on_call(any) step 1 returns 1 (used 0 of 1): never used up");
}

TEST(SimTest, ACleanTestPasses) {
  probe p;
  faultline::async_fake<int()> f(p.sim(), "f");
  f.on_call().after(1s).returns(1);
  EXPECT_EQ(p.sim().run(f()).value(), 1);
  p.TearDown();
  p.TearDown();  // runs once
}

TEST(SimTest, BackgroundTasksAreCancelledAtTeardownAndAreNotLeaks) {
  probe p;
  int beats = 0;
  auto t = p.background().spawn("heartbeat", [&beats]() -> asio::awaitable<void> {
    for (;;) {
      co_await faultline::sleep_for(1s);
      ++beats;
    }
  });
  p.sim().run_for(2500ms);
  EXPECT_EQ(p.background().size(), 1u);
  p.TearDown();
  EXPECT_EQ(beats, 2);
  ASSERT_TRUE(t.done());
  EXPECT_TRUE(t.result().was_cancelled());
  EXPECT_EQ(t.result().completed_at(), at(2500ms));
}

TEST(SimTest, BackgroundTasksMayCleanUpInVirtualTime) {
  probe p;
  bool flushed = false;
  auto t = p.background().spawn("writer", [&flushed]() -> asio::awaitable<int> {
    try {
      co_await faultline::sleep_for(1h);
    } catch (const boost::system::system_error&) {
    }
    // A graceful shutdown: flush for 200ms after being cancelled. Asio
    // throws at every co_await of a cancelled coroutine until it resets
    // its cancellation state.
    co_await asio::this_coro::reset_cancellation_state();
    co_await faultline::sleep_for(200ms);
    flushed = true;
    co_return 7;
  });
  p.sim().run_for(1s);
  p.TearDown();
  EXPECT_TRUE(flushed);
  EXPECT_EQ(t.result().value(), 7);
  EXPECT_EQ(p.sim().now(), at(1200ms));
}

TEST(SimTest, BackgroundAwaitablesToo) {
  probe p;
  auto t = p.background().spawn("sleeper", sleeper(1h));
  p.sim().run_for(1s);
  p.TearDown();
  EXPECT_TRUE(t.result().was_cancelled());
}

TEST(SimTest, ABackgroundTaskThatIgnoresCancellationFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(
      {
        probe p;
        p.background().spawn("stubborn", []() -> asio::awaitable<void> {
          faultline::steady_timer parked(co_await asio::this_coro::executor,
                                         faultline::steady_clock::time_point::max());
          for (;;) {
            boost::system::error_code ec;
            co_await parked.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            // Swallows the cancellation and waits again: it never ends. A
            // coroutine that still has its cancellation state set would throw
            // at the next co_await; reset it to keep waiting.
            co_await asio::this_coro::reset_cancellation_state();
          }
        });
        p.sim().run_for(1s);
        p.checks().pending = false;
        p.TearDown();
      },
      "faultline: 1 background task did not end after cancellation at teardown:\n  task stubborn");
}

TEST(SimTest, ABackgroundTaskThatFailsIsStillAnUnobservedFailure) {
  EXPECT_NONFATAL_FAILURE(
      {
        probe p;
        p.background().spawn("crasher", fails_after(10ms));
        p.sim().run_for(1s);
        p.TearDown();
      },
      "task crasher threw std::runtime_error: lost at t=0.010s");
}

TEST(SimTest, ChecksCanBeSwitchedOffPerTest) {
  probe p;
  auto t = p.sim().spawn("intended", sleeper(1h));
  p.sim().run_for(1s);
  p.checks().pending = false;
  p.TearDown();
}

TEST(SimTest, AFixtureThatSkipsTearDownIsReported) {
  EXPECT_NONFATAL_FAILURE({ probe p; }, "faultline: sim_test::TearDown() did not run");
}

TEST(SimTest, OptionsReachTheSim) {
  faultline::sim_options o;
  o.horizon = std::chrono::hours(1);
  probe p(o);
  EXPECT_THROW(p.sim().run(sleeper(std::chrono::hours(2))), faultline::horizon_error);
  p.checks() = {false, false, false};
  p.TearDown();
}

}  // namespace
