// faultline - facts about Asio that faultline's timers and doubles must match, each pinned on a sim and, where it applies, on an io_context.
#include <faultline/steady_timer.hpp>

#include <faultline/fake.hpp>
#include <faultline/sim_context.hpp>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;

// Three waits on one timer, then cancel(): the order their handlers run in.
template <class Context>
std::vector<int> order_of_cancelled_waits(Context& ctx) {
  faultline::steady_timer t(ctx.get_executor(), 1h);
  std::vector<int> order;
  for (int i = 0; i < 3; ++i)
    t.async_wait([&order, i](error_code ec) { order.push_back(ec == asio::error::operation_aborted ? i : -1); });
  EXPECT_EQ(t.cancel(), 3u);
  ctx.run();
  return order;
}

// Asio's timer queue completes cancelled waits oldest first (its per-timer op_queue is FIFO);
// code that hands out work by waking waiters in turn depends on it.
TEST(AsioParity, CancelCompletesATimersWaitsOldestFirstOnAnIoContext) {
  asio::io_context io;
  EXPECT_EQ(order_of_cancelled_waits(io), (std::vector<int>{0, 1, 2}));
}

TEST(AsioParity, CancelCompletesATimersWaitsOldestFirstOnASim) {
  faultline::sim_context sim;
  EXPECT_EQ(order_of_cancelled_waits(sim), (std::vector<int>{0, 1, 2}));
}

TEST(AsioParity, ExpiresAfterCancelsOldestFirstToo) {
  faultline::sim_context sim;
  faultline::steady_timer t(sim.get_executor(), 1h);
  std::vector<int> order;
  for (int i = 0; i < 3; ++i) t.async_wait([&order, i](error_code) { order.push_back(i); });
  EXPECT_EQ(t.expires_after(1s), 3u);
  sim.run();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(sim.now(), faultline::at(0s));
}

// A double's latency that would pass the end of time saturates there: the call stays pending
// instead of wrapping to a negative deadline that completes at once.
TEST(HugeLatency, AScriptedLatencyPastTheEndOfTimeNeverCompletes) {
  faultline::sim_context sim;
  sim.advance(1ms);
  faultline::async_fake<std::string()> fetch(sim, "fetch");
  fetch.on_call().after(std::chrono::nanoseconds::max()).returns("late");
  auto t = sim.spawn("caller", [&]() -> asio::awaitable<std::string> { co_return co_await fetch(); });
  sim.run_for(1h);
  ASSERT_EQ(fetch.calls().size(), 1u);
  EXPECT_EQ(fetch.calls()[0].status, faultline::call_status::pending);
  EXPECT_EQ(sim.now(), faultline::at(1h + 1ms));
  t.cancel();
  sim.run();
  EXPECT_EQ(fetch.calls()[0].status, faultline::call_status::cancelled);
}

}  // namespace
