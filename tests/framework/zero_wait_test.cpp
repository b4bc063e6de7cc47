// Tests of the zero-length wait loop check (sim_options::zero_wait_limit) and sim_options::min_wait.
#include <faultline/sim_context.hpp>

#include <faultline/gtest.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::at;

// A backoff computed in double that rounds to 0 ns: the bug issue 13 met.
std::chrono::nanoseconds zw_rounded_backoff() { return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double, std::micro>(0.0004)); }

asio::awaitable<void> zw_spin_on_timer(int* iterations) {
  faultline::steady_timer t(co_await asio::this_coro::executor);
  for (;;) {
    t.expires_after(zw_rounded_backoff());
    co_await t.async_wait(asio::use_awaitable);
    ++*iterations;
  }
}

TEST(ZeroWait, LoopOnATimerFailsNamingTheTimerAndTheTask) {
  faultline::sim_context sim;
  int iterations = 0;
  sim.spawn("other", faultline::sleep_for(1s));
  sim.spawn("poller", zw_spin_on_timer(&iterations));
  try {
    sim.run();
    FAIL() << "the loop was not caught";
  } catch (const faultline::livelock_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("faultline: zero-length wait loop at t=0"), std::string::npos) << what;
    EXPECT_NE(what.find("1024 timer waits of zero length"), std::string::npos) << what;
    // timer#1 is the sleep of task "other"; the poller's timer is the second.
    EXPECT_NE(what.find("the last was on timer#2, awaited by task poller"), std::string::npos) << what;
    EXPECT_NE(what.find("sim_options::min_wait"), std::string::npos) << what;
    EXPECT_EQ(e.at(), at(0ms));
  }
  // The waits before the 1024th completed; the run stopped while the last was queued.
  EXPECT_EQ(iterations, 1023);
  EXPECT_EQ(sim.now(), at(0ms));
}

TEST(ZeroWait, LoopOfSleepsNamesTheSleepAndTheTask) {
  faultline::sim_options o;
  o.zero_wait_limit = 10;
  faultline::sim_context sim(o);
  int iterations = 0;
  try {
    sim.run([&]() -> asio::awaitable<void> {
      for (;;) {
        co_await faultline::sleep_for(zw_rounded_backoff());
        ++iterations;
      }
    });
    FAIL() << "the loop was not caught";
  } catch (const faultline::livelock_error& e) {
    EXPECT_NE(std::string(e.what()).find("10 timer waits of zero length started at this instant, so virtual time "
                                         "can never move; the last was on timer#10 (a sleep_for/sleep_until), "
                                         "awaited by task main"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(iterations, 9);
}

TEST(ZeroWait, CoroutineWithoutATaskIsStillCaught) {
  faultline::sim_options o;
  o.zero_wait_limit = 10;
  faultline::sim_context sim(o);
  int iterations = 0;
  asio::co_spawn(sim, zw_spin_on_timer(&iterations), asio::detached);
  try {
    sim.run();
    FAIL() << "the loop was not caught";
  } catch (const faultline::livelock_error& e) {
    EXPECT_NE(std::string(e.what()).find("awaited by a coroutine faultline cannot name (start it with sim.spawn"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(iterations, 9);
}

// Near misses: none of these is a zero-length wait loop.
TEST(ZeroWait, LimitMinusOneZeroWaitsAtOneInstantPass) {
  faultline::sim_options o;
  o.zero_wait_limit = 100;
  faultline::sim_context sim(o);
  auto r = sim.run([]() -> asio::awaitable<int> {
    faultline::steady_timer t(co_await asio::this_coro::executor);
    int n = 0;
    for (; n < 99; ++n) {
      t.expires_after(0ns);
      co_await t.async_wait(asio::use_awaitable);
    }
    co_await faultline::sleep_for(1ms);
    co_return n;
  });
  EXPECT_EQ(r.value(), 99);
  EXPECT_EQ(r.completed_at(), at(1ms));
}

TEST(ZeroWait, CountStartsOverWhenTheClockMoves) {
  faultline::sim_options o;
  o.zero_wait_limit = 100;
  faultline::sim_context sim(o);
  // A consumer that yields with expires_after(0) once per item, items
  // arriving 60 at a time every millisecond: 600 zero-length waits, never
  // 100 at one instant.
  auto r = sim.run([]() -> asio::awaitable<int> {
    faultline::steady_timer t(co_await asio::this_coro::executor);
    int handled = 0;
    for (int batch = 0; batch < 10; ++batch) {
      for (int i = 0; i < 60; ++i, ++handled) {
        t.expires_after(0ns);
        co_await t.async_wait(asio::use_awaitable);
      }
      co_await faultline::sleep_for(1ms);
    }
    co_return handled;
  });
  EXPECT_EQ(r.value(), 600);
  EXPECT_EQ(r.completed_at(), at(10ms));
}

TEST(ZeroWait, YieldingThroughPostIsNotAZeroWait) {
  faultline::sim_options o;
  o.zero_wait_limit = 10;
  faultline::sim_context sim(o);
  auto r = sim.run([]() -> asio::awaitable<int> {
    int n = 0;
    for (; n < 1000; ++n) co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    co_return n;
  });
  EXPECT_EQ(r.value(), 1000);
}

TEST(ZeroWait, SameInstantProducerAndConsumerPass) {
  faultline::sim_context sim;  // the default limit
  // A consumer that polls a queue with expires_after(0) while a producer
  // fills it at the same instant, yielding through post between items.
  std::deque<int> queue;
  int consumed = 0;
  sim.spawn("producer", [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 500; ++i) {
      queue.push_back(i);
      co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    }
    queue.push_back(-1);
  });
  auto consumer = sim.spawn("consumer", [&]() -> asio::awaitable<void> {
    faultline::steady_timer t(co_await asio::this_coro::executor);
    for (;;) {
      while (queue.empty()) {
        t.expires_after(0ns);
        co_await t.async_wait(asio::use_awaitable);
      }
      const int item = queue.front();
      queue.pop_front();
      if (item < 0) co_return;
      ++consumed;
    }
  });
  sim.run();
  EXPECT_TRUE(consumer.done());
  EXPECT_EQ(consumed, 500);
  EXPECT_EQ(sim.now(), at(0ms));
}

TEST(ZeroWait, ZeroLimitTurnsTheCheckOffAndTheStepLimitRemains) {
  faultline::sim_options o;
  o.zero_wait_limit = 0;
  o.step_limit = 5000;
  faultline::sim_context sim(o);
  int iterations = 0;
  sim.spawn("poller", zw_spin_on_timer(&iterations));
  EXPECT_THROW(sim.run(), faultline::livelock_error);
  EXPECT_GT(iterations, 1024);
}

TEST(ZeroWait, MinWaitLetsTheSameLoopMakeProgress) {
  faultline::sim_options o;
  o.min_wait = 1us;
  faultline::sim_context sim(o);
  auto r = sim.run([]() -> asio::awaitable<std::int64_t> {
    faultline::steady_timer t(co_await asio::this_coro::executor);
    for (int i = 0; i < 5000; ++i) {
      t.expires_after(zw_rounded_backoff());
      co_await t.async_wait(asio::use_awaitable);
    }
    // expiry() reports what the code asked for, not the stretched deadline.
    co_return (t.expiry() - faultline::steady_clock::time_point(4999us)).count();
  });
  EXPECT_EQ(r.value(), 0);
  EXPECT_EQ(r.completed_at(), at(5000us));
}

TEST(ZeroWait, MinWaitStretchesShortWaitsOnlyAndKeepsParkedOnes) {
  faultline::sim_options o;
  o.min_wait = 1ms;
  faultline::sim_context sim(o);
  std::vector<faultline::sim_clock::time_point> ends;
  sim.spawn("sleeps", [&]() -> asio::awaitable<void> {
    co_await faultline::sleep_for(0ms);
    ends.push_back(sim.now());
    co_await faultline::sleep_for(300us);
    ends.push_back(sim.now());
    co_await faultline::sleep_for(5ms);  // longer than min_wait: as asked
    ends.push_back(sim.now());
    co_await faultline::sleep_until(faultline::steady_clock::time_point(1ms));  // passed: min_wait from now
    ends.push_back(sim.now());
  });
  auto parked = sim.spawn("parked", faultline::sleep_until(faultline::steady_clock::time_point::max()));
  sim.run_for(100ms);
  EXPECT_EQ(ends, (std::vector<faultline::sim_clock::time_point>{at(1ms), at(2ms), at(7ms), at(8ms)}));
  ASSERT_EQ(sim.pending().size(), 2u);  // the parked task and its wait
  EXPECT_EQ(sim.pending()[1].detail, "until cancelled");
  parked.cancel();
  sim.run();
  EXPECT_EQ(sim.now(), at(100ms));
}

TEST(ZeroWait, NegativeMinWaitIsRejected) {
  faultline::sim_options o;
  o.min_wait = -1ns;
  try {
    faultline::sim_context sim(o);
    FAIL() << "accepted a negative min_wait";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("sim_options::min_wait is -1ns; it must be zero (off) or positive"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
