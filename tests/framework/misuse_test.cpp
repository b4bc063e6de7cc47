// Tests that misuse of a sim ends in a clear error naming the call and the fix.
#include <faultline/sim_context.hpp>

#include <faultline/gtest.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include "support/message_of.hpp"

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using ::testing::HasSubstr;
using ::testing::StartsWith;

using faultline_test::message_of;

TEST(Misuse, DrivingASimFromAnotherThreadIsRejected) {
  faultline::sim_context sim;
  std::string msg;
  std::thread([&] { msg = message_of([&] { sim.run(); }); }).join();
  EXPECT_THAT(msg, StartsWith("faultline: sim_context::run called from thread "));
  EXPECT_THAT(msg, HasSubstr("but the sim belongs to thread"));
  EXPECT_THAT(msg, HasSubstr("create and drive it on one thread"));
}

TEST(Misuse, PostingFromAnotherThreadIsSafeAndRunsOnTheSimsThread) {
  faultline::sim_context sim;
  std::thread::id ran_on;
  std::thread([&] { asio::post(sim, [&] { ran_on = std::this_thread::get_id(); }); }).join();
  EXPECT_EQ(sim.run(), 1u);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(Misuse, NegativeDurationsAreRejected) {
  faultline::sim_context sim;
  EXPECT_EQ(message_of([&] { sim.advance(-5ms); }),
            "faultline: sim_context::advance(-0.005s): the duration is negative; virtual time only moves "
            "forward");
  EXPECT_THAT(message_of([&] { sim.run_for(-1s); }), StartsWith("faultline: sim_context::run_for(-1.000s)"));
}

TEST(Misuse, RunningASimFromInsideItsOwnHandlerIsRejected) {
  faultline::sim_context sim;
  std::string msg;
  asio::post(sim, [&] { msg = message_of([&] { sim.run_for(1s); }); });
  sim.run();
  EXPECT_EQ(msg,
            "faultline: sim_context::run_for called from inside one of this sim's own handlers; a sim cannot "
            "run itself: co_await the operation instead");
}

TEST(Misuse, ATimerWhoseSimIsGoneSaysSo) {
  auto sim = std::make_unique<faultline::sim_context>();
  faultline::steady_timer t(*sim, 1s);
  sim.reset();
  EXPECT_THAT(message_of([&] { t.async_wait([](boost::system::error_code) {}); }),
              StartsWith("faultline: steady_timer::async_wait: the sim_context this object belongs to was "
                         "destroyed; keep the sim alive longer"));
  EXPECT_THAT(message_of([&] { t.expires_after(1s); }), StartsWith("faultline: steady_timer::expires_after:"));
  EXPECT_THAT(message_of([&] { t.cancel(); }), StartsWith("faultline: steady_timer::cancel:"));
}

// A coroutine on the sim that waits on a plain (real-time) Asio timer.
void spawn_plain_timer_wait(faultline::sim_context& sim) {
  asio::co_spawn(
      sim,
      []() -> asio::awaitable<void> {
        asio::steady_timer t(co_await asio::this_coro::executor, 10ms);
        co_await t.async_wait(asio::use_awaitable);
      },
      asio::detached);
}

TEST(Misuse, APlainAsioSteadyTimerOnASimIsNamedWithTheFix) {
  faultline::sim_context sim;
  spawn_plain_timer_wait(sim);
  std::string msg = message_of([&] { sim.run(); });
  EXPECT_THAT(msg, StartsWith("faultline: sim_context::run: a plain asio::steady_timer was created on this sim; "
                              "it waits in real time"));
  EXPECT_THAT(msg, HasSubstr("Use faultline::steady_timer (same API)"));
}

// Asio cannot say whether its timer has a wait pending, so the misuse is told
// once: later runs and polls (a fixture's teardown) do not repeat it.
TEST(Misuse, APlainTimerIsReportedOncePerSim) {
  faultline::sim_context sim;
  spawn_plain_timer_wait(sim);
  EXPECT_THAT(message_of([&] { sim.run(); }), HasSubstr("a plain asio::steady_timer was created on this sim"));
  EXPECT_EQ(message_of([&] { sim.poll(); }), "(no exception)");
  EXPECT_EQ(message_of([&] { sim.advance(1s); }), "(no exception)");
}

// A real socket merely constructed on the sim does not take the blame for a
// stall that faultline's own pending operations explain.
TEST(Misuse, ARealSocketDoesNotHideAStallOfFaultlinesOwn) {
  faultline::sim_context sim;
  asio::ip::tcp::socket socket(sim);
  faultline::steady_timer parked(sim, faultline::steady_timer::time_point::max());
  parked.async_wait([](boost::system::error_code) {});
  EXPECT_EQ(message_of([&] { sim.advance(1s); }), "(no exception)");
  const std::string msg = message_of([&] { sim.run(); });
  EXPECT_THAT(msg, StartsWith("faultline: sim stalled at t=1.000s with 1 pending operation"));
  EXPECT_THAT(msg, HasSubstr("timer#1"));
  EXPECT_THAT(msg, HasSubstr("(a real asio::ip::tcp socket or acceptor was also created on this sim"));
  EXPECT_THAT(msg, HasSubstr("Use faultline::net::tcp::socket, acceptor and resolver"));
  parked.cancel();
  sim.run();
}

// A coroutine on the sim that waits on a real socket or acceptor: opened (a
// real descriptor, no traffic), never readable, since the sim never runs
// Asio's reactor.
template <class Object = asio::ip::tcp::socket>
void spawn_real_socket_wait(faultline::sim_context& sim) {
  asio::co_spawn(
      sim,
      []() -> asio::awaitable<void> {
        Object object(co_await asio::this_coro::executor);
        object.open(asio::ip::tcp::v4());
        co_await object.async_wait(Object::wait_read, asio::use_awaitable);
      },
      asio::detached);
}

// Issue 12 item 5: a real socket on a sim points to the simulated network's
// types, and is not mistaken for a plain timer.
TEST(Misuse, ARealSocketOnASimPointsToTheSimulatedNetwork) {
  faultline::sim_context sim;
  spawn_real_socket_wait(sim);
  const std::string msg = message_of([&] { sim.run(); });
  EXPECT_THAT(msg, StartsWith("faultline: sim_context::run: a real asio::ip::tcp socket or acceptor was created on "
                              "this sim; it waits in real time and can never complete on a sim. Use "
                              "faultline::net::tcp::socket, acceptor and resolver (the same API, on the sim's "
                              "simulated network; see docs/network.md), or give real I/O an io_context"));
  EXPECT_THAT(msg, ::testing::Not(HasSubstr("steady_timer")));
  // Once per sim: later runs (a fixture's teardown) do not repeat it.
  EXPECT_EQ(message_of([&] { sim.poll(); }), "(no exception)");
  EXPECT_EQ(message_of([&] { sim.run_for(1s); }), "(no exception)");
}

TEST(Misuse, ARealAcceptorIsNamedLikeASocket) {
  faultline::sim_context sim;
  spawn_real_socket_wait<asio::ip::tcp::acceptor>(sim);
  EXPECT_THAT(message_of([&] { sim.run(); }),
              StartsWith("faultline: sim_context::run: a real asio::ip::tcp socket or acceptor was created on this "
                         "sim;"));
}

// A timer and a socket on one sim: the timer is named (its fix is the one
// that applies to a wait that never ends), and still once.
TEST(Misuse, APlainTimerBesideARealSocketIsNamedAsTheTimer) {
  faultline::sim_context sim;
  asio::ip::tcp::socket socket(sim);
  spawn_plain_timer_wait(sim);
  EXPECT_THAT(message_of([&] { sim.run(); }),
              StartsWith("faultline: sim_context::run: a plain asio::steady_timer was created on this sim;"));
  EXPECT_EQ(message_of([&] { sim.poll(); }), "(no exception)");
}

TEST(Misuse, SimClockNowOutsideARunningSimSaysWhatToReadInstead) {
  EXPECT_THAT(message_of([] { faultline::sim_clock::now(); }),
              StartsWith("faultline: sim_clock::now() called outside a running sim; read sim.now()"));
}

}  // namespace
