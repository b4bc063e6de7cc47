// Regression tests: sims and threads (issue 11, items 3 and 8): the live-sim registry, spawn's thread check, stall counts.
#include <faultline/sim_context.hpp>

#include <faultline/gtest.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>
#include "support/message_of.hpp"

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

using faultline_test::message_of;

// -- item 3: a sim destroyed on another thread than its creator -----------------

TEST(SimThreads, ASimDestroyedOnAnotherThreadLeavesItsCreatorsRegistryIntact) {
  auto first = std::make_unique<faultline::sim_context>();
  faultline::sim_context* const gone = first.get();
  std::thread([&] { first.reset(); }).join();
  // Before the fix the creator's list still pointed at `gone`: this
  // constructor wrote into its freed memory (ASan: heap-use-after-free).
  faultline::sim_context next;
  const auto alive = faultline::sim_context::alive_on_this_thread();
  EXPECT_THAT(alive, ElementsAre(&next));
  EXPECT_NE(alive.front(), gone);
  next.run_for(1ms);
  EXPECT_EQ(next.now(), faultline::at(1ms));
}

TEST(SimThreads, ASimCreatedOnAWorkerAndDestroyedHereLeavesBothListsRight) {
  faultline::sim_context mine;
  std::unique_ptr<faultline::sim_context> theirs;
  std::vector<faultline::sim_context*> seen_by_worker;
  std::thread([&] {
    theirs = std::make_unique<faultline::sim_context>();
    seen_by_worker = faultline::sim_context::alive_on_this_thread();
  }).join();
  EXPECT_THAT(seen_by_worker, ElementsAre(theirs.get()));
  EXPECT_THAT(faultline::sim_context::alive_on_this_thread(), ElementsAre(&mine));
  theirs.reset();
  faultline::sim_context later;
  EXPECT_THAT(faultline::sim_context::alive_on_this_thread(), ElementsAre(&mine, &later));
}

TEST(SimThreads, SimsDestroyedOutOfOrderAcrossThreadsKeepTheOthersListed) {
  auto a = std::make_unique<faultline::sim_context>();
  auto b = std::make_unique<faultline::sim_context>();
  auto c = std::make_unique<faultline::sim_context>();
  std::thread([&] { b.reset(); }).join();  // from the middle
  EXPECT_THAT(faultline::sim_context::alive_on_this_thread(), ElementsAre(a.get(), c.get()));
  std::thread([&] { c.reset(); }).join();  // the newest
  faultline::sim_context d;
  EXPECT_THAT(faultline::sim_context::alive_on_this_thread(), ElementsAre(a.get(), &d));
}

// -- item 8: spawn from another thread; what a stall counts ----------------------

TEST(SimThreads, SpawnFromAnotherThreadIsRejectedBeforeTouchingTheSim) {
  faultline::sim_context sim;
  const auto events_before = sim.trace().total();
  std::string msg;
  std::thread([&] {
    msg = message_of([&] { sim.spawn("worker", []() -> asio::awaitable<void> { co_return; }); });
  }).join();
  EXPECT_THAT(msg, StartsWith("faultline: sim_context::spawn called from thread "));
  EXPECT_THAT(msg, HasSubstr("but the sim belongs to thread"));
  EXPECT_THAT(msg, HasSubstr("post to its executor"));
  EXPECT_EQ(sim.trace().total(), events_before);  // no "spawned" event, no registry entry
  EXPECT_THAT(sim.pending(), IsEmpty());
  EXPECT_EQ(sim.run(), 0u);
}

TEST(SimThreads, SpawnOfAnAwaitableFromAnotherThreadIsRejectedToo) {
  faultline::sim_context sim;
  std::string msg;
  auto body = []() -> asio::awaitable<int> { co_return 1; };
  std::thread([&] { msg = message_of([&] { sim.spawn("worker", body()); }); }).join();
  EXPECT_THAT(msg, StartsWith("faultline: sim_context::spawn called from thread "));
  EXPECT_THAT(sim.pending(), IsEmpty());
}

TEST(SimThreads, SpawnFromTheSimsOwnHandlerIsFine) {
  faultline::sim_context sim;
  bool inner_ran = false;
  auto outer = sim.spawn("outer", [&]() -> asio::awaitable<void> {
    sim.spawn("inner", [&]() -> asio::awaitable<void> {
      inner_ran = true;
      co_return;
    });
    co_return;
  });
  sim.run();
  EXPECT_TRUE(outer.done());
  EXPECT_TRUE(inner_ran);
}

TEST(SimThreads, AStallOfOnePlainCoSpawnCoroutineCountsOneCoroutine) {
  faultline::sim_context sim;
  asio::experimental::channel<void(boost::system::error_code, int)> ch(sim, 0);
  asio::co_spawn(
      sim, [&]() -> asio::awaitable<void> { co_await ch.async_receive(asio::use_awaitable); }, asio::detached);
  std::string msg = message_of([&] { sim.run(); });
  // Before the fix: "with 2 pending operations" (Asio's two work guards).
  EXPECT_THAT(msg, StartsWith("faultline: sim stalled at t=0.000s with at least 1 pending coroutine that faultline "
                              "cannot name: "));
  EXPECT_THAT(msg, Not(HasSubstr("2 pending operations")));
  EXPECT_THAT(msg, HasSubstr("sim.spawn(name, ...)"));
}

TEST(SimThreads, AStallWithNamedOperationsCountsThem) {
  faultline::sim_context sim;
  sim.spawn("parked", [&]() -> asio::awaitable<void> {
    faultline::steady_timer t(co_await asio::this_coro::executor, faultline::steady_timer::time_point::max());
    co_await t.async_wait(asio::use_awaitable);
  });
  EXPECT_THAT(message_of([&] { sim.run(); }), StartsWith("faultline: sim stalled at t=0.000s with 2 pending operations"));
}

}  // namespace
