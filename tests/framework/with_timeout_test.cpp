// Tests of faultline::with_timeout and faultline::cancel_after: the operation's own failure at
// once, timed_out at the deadline with the operation's cancellation awaited, caller cancellation.
#include <faultline/with_timeout.hpp>

#include <faultline/gtest.hpp>
#include <faultline/sim_context.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::at;
using faultline::sim_clock;
using faultline::testing::Returned;
using faultline::testing::Threw;
using faultline::testing::WasCancelled;
using ::testing::HasSubstr;

// Sleeps for `d`, then returns `v`; records when it saw cancellation and
// when it had finished unwinding from it.
struct probe {
  std::optional<sim_clock::time_point> cancelled_at;
  std::optional<sim_clock::time_point> cleaned_up_at;
};

asio::awaitable<int> value_after(sim_clock::duration d, int v, probe* p = nullptr) {
  try {
    co_await faultline::sleep_for(d);
  } catch (const boost::system::system_error& e) {
    if (!p || e.code() != asio::error::operation_aborted) throw;
    p->cancelled_at = sim_clock::now();
  }
  if (p && p->cancelled_at) {
    // Cleanup that takes virtual time: the caller must not return before it ends.
    co_await asio::this_coro::reset_cancellation_state();
    co_await faultline::sleep_for(30ms);
    p->cleaned_up_at = sim_clock::now();
    throw boost::system::system_error(asio::error::operation_aborted);
  }
  co_return v;
}

asio::awaitable<int> throw_after(sim_clock::duration d, const char* what) {
  co_await faultline::sleep_for(d);
  throw std::runtime_error(what);
}

bool is_timed_out(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const boost::system::system_error& se) {
    return se.code() == asio::error::timed_out;
  } catch (...) {
  }
  return false;
}

TEST(WithTimeout, ReturnsTheValueAtTheInstantTheOperationEnds) {
  faultline::sim_context sim;
  auto r = sim.run(faultline::with_timeout(value_after(20ms, 7), 1s));
  EXPECT_THAT(r, Returned(7));
  EXPECT_EQ(r.completed_at(), at(20ms));
  // The timer was cancelled, not left to fire: nothing else ran to t=1s.
  sim.run();
  EXPECT_EQ(sim.now(), at(20ms));
}

// The `||` trap: Asio's `a || b` waits for one *success*, so the fault at 5ms
// stays hidden until the timer fires at 2s. with_timeout surfaces it at 5ms.
TEST(WithTimeout, SurfacesTheOperationsFailureAtOnceWhereOrWaitsForTheTimer) {
  using namespace asio::experimental::awaitable_operators;
  faultline::sim_context sim;
  auto trap = sim.run([]() -> asio::awaitable<int> {
    auto v = co_await (throw_after(5ms, "503") || faultline::sleep_for(2s));
    co_return v.index() == 0 ? std::get<0>(v) : -1;
  });
  // The fault at 5ms is hidden until the timer succeeds at 2s, and then lost:
  // the caller sees a timeout.
  EXPECT_THAT(trap, Returned(-1));
  EXPECT_EQ(trap.completed_at(), at(2s));

  faultline::sim_context sim2;
  auto r = sim2.run(faultline::with_timeout(throw_after(5ms, "503"), 2s));
  EXPECT_THAT(r, Threw<std::runtime_error>(HasSubstr("503")));
  EXPECT_EQ(r.completed_at(), at(5ms));
}

TEST(WithTimeout, ThrowsTimedOutAtTheDeadlineAfterTheOperationsCancellationEnded) {
  faultline::sim_context sim;
  probe p;
  auto r = sim.run(faultline::with_timeout(value_after(1h, 7, &p), 250ms));
  ASSERT_TRUE(r.has_exception());
  EXPECT_TRUE(is_timed_out(r.exception())) << r.describe();
  EXPECT_FALSE(r.was_cancelled());
  ASSERT_TRUE(p.cancelled_at.has_value());
  EXPECT_EQ(*p.cancelled_at, at(250ms));
  // The operation's 30ms of cleanup ran before with_timeout returned.
  ASSERT_TRUE(p.cleaned_up_at.has_value());
  EXPECT_EQ(*p.cleaned_up_at, at(280ms));
  EXPECT_EQ(r.completed_at(), at(280ms));
  EXPECT_THAT(r.describe(), HasSubstr("at t=0.280s"));
}

TEST(WithTimeout, TheDeadlineIsMeasuredFromTheCall) {
  faultline::sim_context sim;
  auto r = sim.run([]() -> asio::awaitable<int> {
    co_await faultline::sleep_for(100ms);
    co_return co_await faultline::with_timeout(value_after(1h, 1), 50ms);
  });
  ASSERT_TRUE(r.has_exception());
  EXPECT_TRUE(is_timed_out(r.exception()));
  EXPECT_EQ(r.completed_at(), at(150ms));
}

TEST(WithTimeout, CancellingTheCallerCancelsTheOperationAndIsNotATimeout) {
  faultline::sim_context sim;
  probe p;
  auto t = sim.spawn("caller", faultline::with_timeout(value_after(1h, 7, &p), 1s));
  sim.run_for(300ms);
  t.cancel();
  sim.run();
  EXPECT_THAT(t.result(), WasCancelled());
  ASSERT_TRUE(p.cancelled_at.has_value());
  EXPECT_EQ(*p.cancelled_at, at(300ms));
  EXPECT_EQ(t.result().completed_at(), at(330ms));  // after the operation's cleanup
  EXPECT_EQ(sim.now(), at(330ms));                  // the 1s deadline was cancelled too
}

TEST(WithTimeout, WorksForVoidAndForValuesWithoutADefaultConstructor) {
  struct no_default {
    explicit no_default(int x) : v(x) {}
    int v;
  };
  faultline::sim_context sim;
  auto v = sim.run(faultline::with_timeout(faultline::sleep_for(10ms), 1s));
  EXPECT_TRUE(v.has_value());
  EXPECT_EQ(v.completed_at(), at(10ms));
  auto nd = sim.run(faultline::with_timeout(
      []() -> asio::awaitable<no_default> {
        co_await faultline::sleep_for(5ms);
        co_return no_default(3);
      }(),
      1s));
  EXPECT_EQ(nd.value().v, 3);
  auto late = sim.run(faultline::with_timeout(faultline::sleep_for(1h), 40ms));
  ASSERT_TRUE(late.has_exception());
  EXPECT_TRUE(is_timed_out(late.exception()));
  EXPECT_EQ(late.completed_at(), at(55ms));
}

TEST(WithTimeout, NegativeTimeoutIsRejectedWithTheValue) {
  faultline::sim_context sim;
  auto r = sim.run([]() -> asio::awaitable<int> { co_return co_await faultline::with_timeout(value_after(1ms, 1), -5ms); });
  EXPECT_THAT(r, Threw<std::invalid_argument>(HasSubstr("faultline: with_timeout: negative timeout -0.005s")));
}

TEST(CancelAfter, EndsAsTheOperationEndsAfterItsCancellation) {
  faultline::sim_context sim;
  auto aborted = sim.run(faultline::cancel_after(value_after(1h, 7), 100ms));
  EXPECT_THAT(aborted, WasCancelled());
  EXPECT_EQ(aborted.completed_at(), at(100ms));

  // An operation that turns its cancellation into a fallback value.
  auto fallback = sim.run(faultline::cancel_after(
      []() -> asio::awaitable<std::string> {
        try {
          co_await faultline::sleep_for(1h);
        } catch (const boost::system::system_error&) {
          co_return "fallback";
        }
        co_return "fresh";
      }(),
      100ms));
  EXPECT_THAT(fallback, Returned(std::string("fallback")));
  EXPECT_EQ(fallback.completed_at(), at(200ms));  // called at 100ms
}

TEST(CancelAfter, AnOperationThatEndsFirstIsUntouched) {
  faultline::sim_context sim;
  auto r = sim.run(faultline::cancel_after(throw_after(10ms, "boom"), 100ms));
  EXPECT_THAT(r, Threw<std::runtime_error>(HasSubstr("boom")));
  EXPECT_EQ(r.completed_at(), at(10ms));
}

}  // namespace
