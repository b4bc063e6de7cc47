// Tests of faultline::steady_clock: the running sim's virtual time inside a sim, real time elsewhere.
#include <faultline/steady_clock.hpp>

#include <faultline/gtest.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <latch>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;
using faultline::at;
using faultline::sim_clock;
using faultline::steady_clock;
using ::testing::ElementsAre;

// -- the Clock requirements ([time.clock.req]) ----------------------------------------

static_assert(std::chrono::is_clock_v<steady_clock>);
static_assert(steady_clock::is_steady);
static_assert(std::is_same_v<steady_clock::rep, std::int64_t>);
static_assert(std::is_same_v<steady_clock::period, std::nano>);
static_assert(std::is_same_v<steady_clock::duration, std::chrono::nanoseconds>);
static_assert(
    std::is_same_v<steady_clock::time_point, std::chrono::time_point<steady_clock, std::chrono::nanoseconds>>);
static_assert(std::is_same_v<steady_clock::time_point::clock, steady_clock>);
static_assert(std::is_same_v<decltype(steady_clock::now()), steady_clock::time_point>);
static_assert(noexcept(steady_clock::now()));  // TrivialClock
// The timer takes the clock's time points, on every executor.
static_assert(std::is_same_v<faultline::steady_timer::clock_type, steady_clock>);
static_assert(std::is_same_v<faultline::steady_timer::time_point, steady_clock::time_point>);

// Inside a sim, steady_clock's epoch is the sim's start, like sim_clock's: this
// reads a steady_clock instant on the sim's timeline, for faultline::at().
sim_clock::time_point on_sim(steady_clock::time_point t) { return sim_clock::time_point(t.time_since_epoch()); }

// std::chrono::steady_clock's reading on steady_clock's scale (same epoch).
steady_clock::time_point std_now() {
  return steady_clock::time_point(std::chrono::duration_cast<steady_clock::duration>(
      std::chrono::steady_clock::now().time_since_epoch()));
}

// Nanoseconds since the epoch, so a failed comparison of real instants prints numbers.
std::int64_t ns(steady_clock::time_point t) { return t.time_since_epoch().count(); }

// -- inside a sim -----------------------------------------------------------------------

TEST(SteadyClock, ReadsTheSimsVirtualTimeInsideCoroutines) {
  faultline::sim_context sim;
  faultline::async_fake<int()> dep(sim, "dep");
  dep.on_call().after(40ms).returns(1);
  std::vector<sim_clock::time_point> seen;
  sim.run([&]() -> asio::awaitable<void> {
    seen.push_back(on_sim(steady_clock::now()));
    co_await faultline::sleep_for(10ms);
    seen.push_back(on_sim(steady_clock::now()));
    faultline::steady_timer t(co_await asio::this_coro::executor, 1500us);
    co_await t.async_wait(asio::use_awaitable);
    seen.push_back(on_sim(steady_clock::now()));
    co_await dep();
    seen.push_back(on_sim(steady_clock::now()));
    co_await faultline::sleep_for(2h);
    seen.push_back(on_sim(steady_clock::now()));
    EXPECT_EQ(on_sim(steady_clock::now()), sim.now());
  });
  EXPECT_THAT(seen, ElementsAre(at(0ms), at(10ms), at(11500us), at(51500us), at(2h + 51500us)));
}

TEST(SteadyClock, ReadsTheSimsVirtualTimeInsidePlainHandlers) {
  faultline::sim_context sim;
  std::vector<sim_clock::time_point> seen;
  auto read = [&] {
    seen.push_back(on_sim(steady_clock::now()));
    EXPECT_EQ(on_sim(steady_clock::now()), sim.now());
  };
  faultline::steady_timer a(sim, 3ms);
  a.async_wait([&](error_code) { read(); });
  faultline::steady_timer b(sim, 7s);
  b.async_wait([&](error_code) { read(); });
  sim.run_for(5ms);  // fires a; b is pending
  asio::post(sim, read);
  sim.poll();  // at the run_for bound
  sim.advance(1s);
  asio::post(sim, read);
  sim.poll();
  sim.run();  // fires b
  EXPECT_THAT(seen, ElementsAre(at(3ms), at(5ms), at(1005ms), at(7s)));
}

TEST(SteadyClock, ExpiresAtNowPlusADurationWaitsExactlyThatLongOnASim) {
  faultline::sim_context sim;
  faultline::steady_timer::time_point deadline;
  auto r = sim.run([&]() -> asio::awaitable<void> {
    co_await faultline::sleep_for(1s);
    faultline::steady_timer t(co_await asio::this_coro::executor);
    deadline = steady_clock::now() + 250ms;
    t.expires_at(deadline);
    co_await t.async_wait(asio::use_awaitable);
  });
  EXPECT_EQ(on_sim(deadline), at(1250ms));
  EXPECT_EQ(r.completed_at(), at(1250ms));
}

// -- outside a sim ------------------------------------------------------------------------

TEST(SteadyClock, ReadsRealMonotonicTimeOutsideASim) {
  auto before = std_now();
  auto t1 = steady_clock::now();
  auto t2 = steady_clock::now();
  auto after = std_now();
  EXPECT_LE(ns(before), ns(t1));
  EXPECT_LE(ns(t1), ns(t2));
  EXPECT_LE(ns(t2), ns(after));
}

TEST(SteadyClock, ReadsRealTimeInTheTestBodyWhileASimExistsOrAfterItRan) {
  faultline::sim_context sim;
  sim.run_for(2h);  // virtual time far from real time, whichever is ahead
  auto before = std_now();
  auto t = steady_clock::now();
  auto after = std_now();
  EXPECT_LE(ns(before), ns(t));
  EXPECT_LE(ns(t), ns(after));
  EXPECT_NE(on_sim(t), sim.now());
}

TEST(SteadyClock, ReadsRealTimeInAnIoContextsHandlers) {
  faultline::sim_context sim;  // alive, not running: must not leak into the io_context
  sim.run_for(1h);
  asio::io_context io;
  std::optional<steady_clock::time_point> before, t, after;
  asio::post(io, [&] {
    before = std_now();
    t = steady_clock::now();
    after = std_now();
  });
  io.run();
  ASSERT_TRUE(t.has_value());
  EXPECT_LE(ns(*before), ns(*t));
  EXPECT_LE(ns(*t), ns(*after));
}

TEST(SteadyClock, ExpiresAtNowPlusADurationWaitsInRealTimeOnAnIoContext) {
  asio::io_context io;
  faultline::steady_timer t(io);
  auto start = std_now();
  auto deadline = steady_clock::now() + 2ms;
  t.expires_at(deadline);
  EXPECT_EQ(ns(t.expiry()), ns(deadline));
  std::optional<error_code> result;
  std::optional<steady_clock::time_point> fired_at;
  t.async_wait([&](error_code ec) {
    result = ec;
    fired_at = std_now();  // std::chrono::steady_clock: same instants as the timer's
  });
  io.run_for(60s);  // a backstop, never a timing
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(*result);
  EXPECT_LT(ns(start), ns(deadline));
  EXPECT_GE(ns(*fired_at), ns(deadline));  // waited for the deadline, read on std::chrono::steady_clock
}

TEST(SteadyClock, SleepUntilNowPlusADurationWaitsInRealTimeInACoroutineOnAnIoContext) {
  asio::io_context io;
  std::optional<steady_clock::time_point> start, deadline, woke_at;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        start = std_now();
        deadline = steady_clock::now() + 1ms;
        co_await faultline::sleep_until(*deadline);
        woke_at = std_now();
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run_for(60s);
  ASSERT_TRUE(woke_at.has_value());
  EXPECT_LT(ns(*start), ns(*deadline));  // a real instant, not a virtual one
  EXPECT_GE(ns(*woke_at), ns(*deadline));
}

// -- several sims ---------------------------------------------------------------------------

TEST(SteadyClock, TwoSimsOnOneThreadEachSeeTheirOwnTime) {
  faultline::sim_context a, b;
  std::vector<sim_clock::time_point> seen_by_a, seen_by_b;
  b.run_for(1h);  // b is far ahead of a

  faultline::steady_timer ta(a, 10ms);
  ta.async_wait([&](error_code) { seen_by_a.push_back(on_sim(steady_clock::now())); });
  faultline::steady_timer tb(b, 5s);
  tb.async_wait([&](error_code) { seen_by_b.push_back(on_sim(steady_clock::now())); });

  a.run();  // b exists and is ahead; a's handler sees a's time
  b.run();
  asio::post(a, [&] { seen_by_a.push_back(on_sim(steady_clock::now())); });
  asio::post(b, [&] { seen_by_b.push_back(on_sim(steady_clock::now())); });
  b.poll();  // in the opposite order
  a.poll();

  EXPECT_THAT(seen_by_a, ElementsAre(at(10ms), at(10ms)));
  EXPECT_THAT(seen_by_b, ElementsAre(at(1h + 5s), at(1h + 5s)));
}

TEST(SteadyClock, ASimDrivenFromAnotherSimsHandlerSeesItsOwnTime) {
  faultline::sim_context outer, inner;
  std::vector<sim_clock::time_point> seen;
  auto read = [&] { seen.push_back(on_sim(steady_clock::now())); };
  auto r = outer.run([&]() -> asio::awaitable<void> {
    co_await faultline::sleep_for(10ms);
    read();  // outer: 10ms
    faultline::steady_timer t(inner, 3s);
    t.async_wait([&](error_code) { read(); });  // inner: 3s
    inner.run();
    read();  // outer again, once inner returned: 10ms
    co_await faultline::sleep_for(5ms);
    read();  // outer: 15ms
  });
  r.value();
  EXPECT_THAT(seen, ElementsAre(at(10ms), at(3s), at(10ms), at(15ms)));
  EXPECT_EQ(inner.now(), at(3s));
}

TEST(SteadyClock, SimsInParallelThreadsEachSeeTheirOwnTime) {
  constexpr int sleeps = 20'000;
  std::latch start(3);
  // Each thread counts the readings that differ from its own sim's time; a
  // clock shared between threads would show the other sim's (or real) time.
  auto run_sim = [&](steady_clock::duration step, int& wrong, sim_clock::time_point& end) {
    faultline::sim_context sim;
    start.arrive_and_wait();
    sim.run([&]() -> asio::awaitable<void> {
      for (int i = 1; i <= sleeps; ++i) {
        co_await faultline::sleep_for(step);
        if (on_sim(steady_clock::now()) != at(step * i)) ++wrong;
      }
    }).value();
    end = sim.now();
  };
  int wrong_a = 0, wrong_b = 0, wrong_real = 0;
  sim_clock::time_point end_a, end_b;
  std::thread ta(run_sim, steady_clock::duration(1ms), std::ref(wrong_a), std::ref(end_a));
  std::thread tb(run_sim, steady_clock::duration(7ms), std::ref(wrong_b), std::ref(end_b));
  std::thread tr([&] {  // outside any sim, while both run
    start.arrive_and_wait();
    for (int i = 0; i < sleeps; ++i) {
      auto before = std_now();
      auto t = steady_clock::now();
      if (t < before || std_now() < t) ++wrong_real;
    }
  });
  ta.join();
  tb.join();
  tr.join();
  EXPECT_EQ(wrong_a, 0);
  EXPECT_EQ(wrong_b, 0);
  EXPECT_EQ(wrong_real, 0);
  EXPECT_EQ(end_a, at(20s));
  EXPECT_EQ(end_b, at(140s));
}

}  // namespace
