// Tests that ordinary Asio coroutine machinery runs unchanged on a sim:
// co_spawn, this_coro::executor, post/dispatch/defer, and the awaitable operators.
#include <faultline/sim_context.hpp>

#include <faultline/gtest.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/defer.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/multiple_exceptions.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;
namespace asio = boost::asio;
using faultline::at;
using faultline::sim_clock;

// Sleeps for `d` and returns `v`; records the instant it was cancelled, if it was.
asio::awaitable<int> value_after(sim_clock::duration d, int v, sim_clock::time_point* cancelled_at = nullptr) {
  try {
    co_await faultline::sleep_for(d);
  } catch (const boost::system::system_error& e) {
    if (cancelled_at && e.code() == asio::error::operation_aborted) *cancelled_at = sim_clock::now();
    throw;
  }
  co_return v;
}

asio::awaitable<int> throw_after(sim_clock::duration d, const char* what) {
  co_await faultline::sleep_for(d);
  throw std::runtime_error(what);
}

TEST(AsioOnSim, CoSpawnRunsOnTheSimAndThisCoroExecutorIsTheSims) {
  faultline::sim_context sim;
  bool same = false;
  asio::co_spawn(
      sim,
      [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        same = ex == asio::any_io_executor(sim.get_executor());
      },
      asio::detached);
  sim.run();
  EXPECT_TRUE(same);
}

TEST(AsioOnSim, PostDispatchAndDeferResumeAtTheSameInstant) {
  faultline::sim_context sim;
  auto r = sim.run([]() -> asio::awaitable<sim_clock::time_point> {
    auto ex = co_await asio::this_coro::executor;
    co_await faultline::sleep_for(3ms);
    co_await asio::post(ex, asio::use_awaitable);
    co_await asio::dispatch(ex, asio::use_awaitable);
    co_await asio::defer(ex, asio::use_awaitable);
    co_return sim_clock::now();
  });
  EXPECT_EQ(r.value(), at(3ms));
}

TEST(AsioOnSim, DispatchFromInsideTheSimRunsInlinePostDoesNot) {
  faultline::sim_context sim;
  std::string order;
  asio::post(sim, [&] {
    asio::post(sim, [&] { order += "post;"; });
    asio::defer(sim, [&] { order += "defer;"; });
    asio::dispatch(sim, [&] { order += "dispatch;"; });
    order += "end;";
  });
  sim.run();
  EXPECT_EQ(order, "dispatch;end;post;defer;");
}

TEST(AsioOnSim, AndWaitsForBothAndEndsWithTheLater) {
  faultline::sim_context sim;
  auto r = sim.run([]() -> asio::awaitable<int> {
    auto [a, b] = co_await (value_after(10ms, 1) && value_after(30ms, 2));
    co_return a * 10 + b;
  });
  EXPECT_EQ(r.value(), 12);
  EXPECT_EQ(r.completed_at(), at(30ms));
}

TEST(AsioOnSim, OrEndsWithTheFirstAndCancelsTheOtherAtThatInstant) {
  faultline::sim_context sim;
  sim_clock::time_point loser_cancelled{};
  auto r = sim.run([&]() -> asio::awaitable<std::size_t> {
    auto v = co_await (value_after(40ms, 1, &loser_cancelled) || value_after(15ms, 2));
    co_return v.index();
  });
  EXPECT_EQ(r.value(), 1u);
  EXPECT_EQ(r.completed_at(), at(15ms));
  EXPECT_EQ(loser_cancelled, at(15ms));
}

// Pins an Asio fact the samples rely on: `a || b` waits for one *success*,
// so a fault in `a` stays hidden until `b` (here, a timeout) completes.
TEST(AsioOnSim, OrHidesAFaultUntilTheOtherOperandSucceeds) {
  faultline::sim_context sim;
  auto r = sim.run([]() -> asio::awaitable<std::size_t> {
    auto v = co_await (throw_after(5ms, "fault") || value_after(100ms, 2));
    co_return v.index();
  });
  EXPECT_EQ(r.value(), 1u);
  EXPECT_EQ(r.completed_at(), at(100ms));
}

TEST(AsioOnSim, OrWhereBothFailRethrowsAtTheLaterFailure) {
  faultline::sim_context sim;
  auto r = sim.run([]() -> asio::awaitable<void> {
    co_await (throw_after(5ms, "first") || throw_after(20ms, "second"));
  });
  ASSERT_TRUE(r.has_exception());
  EXPECT_EQ(r.completed_at(), at(20ms));
}

// Pins the other half: `a && b` fails as soon as either fails, cancelling the
// sibling. When the sibling then ends with operation_aborted, both operands
// failed, and Asio 1.81 throws multiple_exceptions whose first_exception() is
// operand 0's: the sibling's operation_aborted when operand 1 is the one that
// faulted. A gather helper must look past it for the real fault.
std::exception_ptr first_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const asio::multiple_exceptions& m) {
    return m.first_exception();
  } catch (...) {
  }
  return nullptr;
}

TEST(AsioOnSim, AndFailsAtTheFirstFaultAndReportsOperandZerosException) {
  faultline::sim_context sim;
  sim_clock::time_point sibling_cancelled{};
  auto r = sim.run([&]() -> asio::awaitable<void> {
    co_await (value_after(100ms, 1, &sibling_cancelled) && throw_after(5ms, "fault"));
  });
  EXPECT_EQ(r.completed_at(), at(5ms));
  EXPECT_EQ(sibling_cancelled, at(5ms));
  ASSERT_TRUE(r.has_exception());
  EXPECT_EQ(faultline::detail::describe_exception(first_of(r.exception())),
            "boost::system::system_error: Operation canceled [system:125]");

  auto direct = sim.run([]() -> asio::awaitable<void> {
    co_await (throw_after(5ms, "fault") && value_after(100ms, 1));
  });
  ASSERT_TRUE(direct.has_exception());
  EXPECT_EQ(direct.completed_at(), at(10ms));
  EXPECT_EQ(faultline::detail::describe_exception(first_of(direct.exception())), "std::runtime_error: fault");
}

TEST(AsioOnSim, CoSpawnCancellationReachesASuspendedCoroutine) {
  faultline::sim_context sim;
  auto t = sim.spawn("worker", value_after(1h, 1));
  sim.run_for(250ms);
  t.cancel();
  sim.run();
  ASSERT_TRUE(t.done());
  EXPECT_TRUE(t.result().was_cancelled());
  EXPECT_EQ(t.result().completed_at(), at(250ms));
}

}  // namespace
