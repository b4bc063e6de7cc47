// Tests of faultline::steady_timer on a sim (virtual) and on an io_context (real).
#include <faultline/steady_timer.hpp>

#include <faultline/gtest.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include "support/cancellation_names.hpp"

#include <optional>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;
using faultline::at;
using faultline::sim_clock;

struct completion {
  std::optional<error_code> ec;
  sim_clock::time_point at{};
};

auto record(faultline::sim_context& sim, completion& c) {
  return [&sim, &c](error_code ec) {
    c.ec = ec;
    c.at = sim.now();
  };
}

TEST(SteadyTimer, IsVirtualOnASimAndRealElsewhere) {
  faultline::sim_context sim;
  asio::io_context io;
  EXPECT_TRUE(faultline::steady_timer(sim).is_virtual());
  EXPECT_TRUE(faultline::steady_timer(asio::any_io_executor(sim.get_executor())).is_virtual());
  EXPECT_FALSE(faultline::steady_timer(io).is_virtual());
}

TEST(SteadyTimer, ExpiryFollowsExpiresAfterAndExpiresAt) {
  faultline::sim_context sim;
  sim.run_for(5ms);
  faultline::steady_timer t(sim);
  t.expires_after(10ms);
  EXPECT_EQ(t.expiry().time_since_epoch(), 15ms);
  t.expires_at(faultline::steady_clock::time_point(40ms));
  EXPECT_EQ(t.expiry().time_since_epoch(), 40ms);
}

TEST(SteadyTimer, NeverCompletesInsideAsyncWaitEvenWhenAlreadyExpired) {
  faultline::sim_context sim;
  faultline::steady_timer t(sim, 0ms);
  completion c;
  t.async_wait(record(sim, c));
  EXPECT_FALSE(c.ec.has_value());
  sim.poll();
  ASSERT_TRUE(c.ec.has_value());
  EXPECT_FALSE(*c.ec);
  EXPECT_EQ(c.at, at(0ms));
}

TEST(SteadyTimer, CancelEndsEveryWaitWithOperationAbortedAtThatInstant) {
  faultline::sim_context sim;
  faultline::steady_timer t(sim, 1s);
  completion a, b;
  t.async_wait(record(sim, a));
  t.async_wait(record(sim, b));
  faultline::steady_timer killer(sim, 300ms);
  std::size_t cancelled = 0;
  killer.async_wait([&](error_code) { cancelled = t.cancel(); });
  sim.run();
  EXPECT_EQ(cancelled, 2u);
  EXPECT_EQ(a.ec, asio::error::operation_aborted);
  EXPECT_EQ(b.ec, asio::error::operation_aborted);
  EXPECT_EQ(a.at, at(300ms));
  EXPECT_EQ(b.at, at(300ms));
  EXPECT_EQ(sim.now(), at(300ms));  // the cancelled deadline is not waited for
}

TEST(SteadyTimer, ResettingTheExpiryCancelsPendingWaits) {
  faultline::sim_context sim;
  faultline::steady_timer t(sim, 1s);
  completion a;
  t.async_wait(record(sim, a));
  EXPECT_EQ(t.expires_after(2s), 1u);
  completion b;
  t.async_wait(record(sim, b));
  sim.run();
  EXPECT_EQ(a.ec, asio::error::operation_aborted);
  EXPECT_EQ(a.at, at(0ms));
  EXPECT_FALSE(*b.ec);
  EXPECT_EQ(b.at, at(2s));
}

TEST(SteadyTimer, DestroyingTheTimerCancelsItsWaits) {
  faultline::sim_context sim;
  completion c;
  {
    faultline::steady_timer t(sim, 1s);
    t.async_wait(record(sim, c));
  }
  sim.run();
  EXPECT_EQ(c.ec, asio::error::operation_aborted);
  EXPECT_EQ(c.at, at(0ms));
}

TEST(SteadyTimer, CancelAfterFiringCancelsNothing) {
  faultline::sim_context sim;
  faultline::steady_timer t(sim, 10ms);
  completion c;
  t.async_wait(record(sim, c));
  sim.run();
  EXPECT_EQ(t.cancel(), 0u);
  EXPECT_FALSE(*c.ec);
}

// Every cancellation type ends a virtual wait at the instant it is emitted.
class SteadyTimerCancellation : public ::testing::TestWithParam<asio::cancellation_type> {};

TEST_P(SteadyTimerCancellation, EndsTheWaitAtTheInstantOfEmission) {
  faultline::sim_context sim;
  faultline::steady_timer t(sim, 1s);
  asio::cancellation_signal sig;
  completion c;
  t.async_wait(asio::bind_cancellation_slot(sig.slot(), record(sim, c)));
  faultline::steady_timer emitter(sim, 250ms);
  emitter.async_wait([&](error_code) { sig.emit(GetParam()); });
  sim.run();
  EXPECT_EQ(c.ec, asio::error::operation_aborted);
  EXPECT_EQ(c.at, at(250ms));
}

INSTANTIATE_TEST_SUITE_P(AllTypes, SteadyTimerCancellation,
                         ::testing::Values(asio::cancellation_type::terminal, asio::cancellation_type::partial,
                                           asio::cancellation_type::total),
                         faultline_test::cancellation_name);

// A sleep's wait lives in its coroutine's frame and knows only "fired" or
// "cancelled": cancelling it still ends it at the instant of emission with
// system_error(operation_aborted), and the sleeps around it keep their order.
TEST_P(SteadyTimerCancellation, EndsASleepAtTheInstantOfEmission) {
  faultline::sim_context sim;
  asio::cancellation_signal sig;
  completion c;
  std::vector<int> woke;
  const auto sleeper = [&](int n, std::chrono::milliseconds d) -> asio::awaitable<void> {
    // A coroutine lets only terminal cancellation through unless told otherwise.
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    try {
      co_await faultline::sleep_for(d);
      woke.push_back(n);
    } catch (const boost::system::system_error& e) {
      c.ec = e.code();
      c.at = sim.now();
    }
  };
  asio::co_spawn(sim, sleeper(1, 300ms), asio::detached);
  asio::co_spawn(sim, sleeper(0, 1s), asio::bind_cancellation_slot(sig.slot(), asio::detached));
  asio::co_spawn(sim, sleeper(2, 300ms), asio::detached);
  faultline::steady_timer emitter(sim, 250ms);
  emitter.async_wait([&](error_code) { sig.emit(GetParam()); });
  sim.run();
  EXPECT_EQ(c.ec, asio::error::operation_aborted);
  EXPECT_EQ(c.at, at(250ms));
  EXPECT_EQ(woke, (std::vector<int>{1, 2}));
  EXPECT_EQ(sim.now(), at(300ms));
}

TEST(SteadyTimer, CancellationAfterTheWaitEndedIsHarmless) {
  faultline::sim_context sim;
  faultline::steady_timer t(sim, 10ms);
  asio::cancellation_signal sig;
  completion c;
  t.async_wait(asio::bind_cancellation_slot(sig.slot(), record(sim, c)));
  sim.run();
  sig.emit(asio::cancellation_type::terminal);
  sim.run();
  EXPECT_FALSE(*c.ec);
  EXPECT_EQ(c.at, at(10ms));
}

TEST(SteadyTimer, WorksWithDeferredAndUseFutureTokens) {
  faultline::sim_context sim;
  faultline::steady_timer t(sim, 7ms);
  auto op = t.async_wait(asio::deferred);
  completion c;
  std::move(op)(record(sim, c));
  sim.run();
  EXPECT_EQ(c.at, at(7ms));

  faultline::steady_timer t2(sim, 3ms);
  std::future<void> f = t2.async_wait(asio::use_future);
  sim.run();
  EXPECT_NO_THROW(f.get());
  EXPECT_EQ(sim.now(), at(10ms));
}

TEST(SteadyTimer, SleepForReturnsAfterExactlyTheDuration) {
  faultline::sim_context sim;
  sim.run_for(3ms);
  auto r = sim.run([]() -> asio::awaitable<void> { co_await faultline::sleep_for(1500us); });
  EXPECT_EQ(r.completed_at(), at(4500us));
}

TEST(SteadyTimer, SleepUntilASteadyClockInstantComputedInsideTheSim) {
  faultline::sim_context sim;
  auto r = sim.run([]() -> asio::awaitable<void> {
    co_await faultline::sleep_for(1s);
    co_await faultline::sleep_until(faultline::steady_clock::now() + 250ms);
  });
  EXPECT_EQ(r.completed_at(), at(1250ms));
}

TEST(SteadyTimerReal, WaitsInRealTimeOnAnIoContext) {
  asio::io_context io;
  faultline::steady_timer t(io, 2ms);
  std::optional<error_code> result;
  faultline::steady_clock::time_point completed_at;
  t.async_wait([&](error_code ec) {
    result = ec;
    completed_at = faultline::steady_clock::now();
  });
  io.run();
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(*result);
  EXPECT_GE(completed_at, t.expiry());  // the contract, not a timing
}

TEST(SteadyTimerReal, CancelAndSleepForWorkOnAnIoContext) {
  asio::io_context io;
  faultline::steady_timer t(io, 1h);
  std::optional<error_code> result;
  t.async_wait([&](error_code ec) { result = ec; });
  asio::post(io, [&] { t.cancel(); });
  bool slept = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await faultline::sleep_for(1ms);
        slept = true;
      },
      asio::detached);
  io.run();
  EXPECT_EQ(result, asio::error::operation_aborted);
  EXPECT_TRUE(slept);
}

TEST(SteadyTimerReal, SleepUntilAPassedInstantReturnsOnAnIoContext) {
  asio::io_context io;
  bool slept = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await faultline::sleep_until(faultline::steady_clock::time_point{});
        slept = true;
      },
      asio::detached);
  io.run();
  EXPECT_TRUE(slept);
}

TEST(SteadyTimerReal, ParkedTimerWaitsUntilCancelledOnAnIoContext) {
  asio::io_context io;
  faultline::steady_timer parked(io, faultline::steady_timer::time_point::max());
  std::optional<error_code> result;
  parked.async_wait([&](error_code ec) { result = ec; });
  faultline::steady_timer waker(io, 1ms);
  waker.async_wait([&](error_code) { parked.cancel(); });
  io.run();
  EXPECT_EQ(result, asio::error::operation_aborted);
}

}  // namespace

// Timer numbers are 31 bits and 0 means "described by its owner": a sleep numbered past the
// wrap must still be traced and reported, not silently dropped from pending() and the trace.
TEST(SteadyTimer, SleepsNumberedAcrossTheWrapAreStillPendingAndTraced) {
  faultline::sim_context sim;
  faultline::detail::sim_core_of(sim.get_executor())->set_next_timer_number_for_test(0x7FFF'FFFEu);
  for (int i = 1; i <= 3; ++i)
    asio::co_spawn(sim, faultline::sleep_for(std::chrono::milliseconds(i)), asio::detached);
  sim.poll();
  std::vector<std::string> timers;
  for (const auto& p : sim.pending())
    if (p.kind == "timer") timers.push_back(p.name);
  EXPECT_EQ(timers, (std::vector<std::string>{"timer#2147483646", "timer#2147483647", "timer#1"}));
  sim.run();
  EXPECT_EQ(sim.now(), faultline::at(3ms));
  const std::string timeline = sim.trace().timeline();
  EXPECT_NE(timeline.find("timer#1 fired"), std::string::npos) << timeline;
}
