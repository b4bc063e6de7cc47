// Tests of task::wait(): awaiting a spawned task from a coroutine, its failure, its cancellation.
#include <faultline/sim_context.hpp>

#include <faultline/gtest.hpp>
#include <faultline/steady_timer.hpp>
#include <faultline/with_timeout.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::at;
using faultline::sim_clock;
using faultline::testing::Returned;
using faultline::testing::Threw;
using faultline::testing::WasCancelled;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

asio::awaitable<int> after(sim_clock::duration d, int v) {
  co_await faultline::sleep_for(d);
  if (v < 0) throw std::invalid_argument("negative");
  co_return v;
}

TEST(TaskWait, ReturnsTheTasksValueAtTheInstantItEnds) {
  faultline::sim_context sim;
  auto r = sim.run([&]() -> asio::awaitable<int> {
    auto t = sim.spawn("worker", after(40ms, 5));
    co_await faultline::sleep_for(10ms);
    co_return co_await t.wait() + 1;
  });
  EXPECT_THAT(r, Returned(6));
  EXPECT_EQ(r.completed_at(), at(40ms));
}

TEST(TaskWait, RethrowsTheTasksExceptionAndMarksItObserved) {
  faultline::sim_context sim;
  auto worker = sim.spawn("worker", after(20ms, -1));
  auto r = sim.run([worker]() -> asio::awaitable<int> { co_return co_await worker.wait(); });
  EXPECT_THAT(r, Threw<std::invalid_argument>(HasSubstr("negative")));
  EXPECT_EQ(r.completed_at(), at(20ms));
  // The main task's failure was observed by run(); the worker's by wait().
  EXPECT_THAT(sim.unobserved_failures(), ::testing::IsEmpty());
}

TEST(TaskWait, ATaskAlreadyDoneIsNotWaitedFor) {
  faultline::sim_context sim;
  auto worker = sim.spawn("worker", after(20ms, 3));
  sim.run();
  auto r = sim.run([worker]() -> asio::awaitable<int> { co_return co_await worker.wait(); });
  EXPECT_THAT(r, Returned(3));
  EXPECT_EQ(r.completed_at(), at(20ms));
}

TEST(TaskWait, EveryWaiterWakesInTheOrderItBeganWaiting) {
  faultline::sim_context sim;
  auto worker = sim.spawn("worker", faultline::sleep_for(50ms));
  std::vector<std::string> woke;
  for (const char* name : {"a", "b", "c"})
    sim.spawn(name, [worker, name, &woke]() -> asio::awaitable<void> {
      co_await worker.wait();
      woke.push_back(std::string(name) + " " + faultline::to_string(sim_clock::now()));
    });
  sim.run();
  EXPECT_THAT(woke, ElementsAre("a t=0.050s", "b t=0.050s", "c t=0.050s"));
}

TEST(TaskWait, ACancelledTaskRethrowsItsCancellation) {
  faultline::sim_context sim;
  auto worker = sim.spawn("worker", after(1h, 1));
  auto waiter = sim.spawn("waiter", [worker]() -> asio::awaitable<int> { co_return co_await worker.wait(); });
  sim.run_for(70ms);
  worker.cancel();
  sim.run();
  EXPECT_THAT(waiter.result(), WasCancelled());
  EXPECT_EQ(waiter.result().completed_at(), at(70ms));
}

// Decision: cancelling the awaiter stops the waiting only; the task runs on.
TEST(TaskWait, CancellingTheWaiterStopsWaitingAndLeavesTheTaskRunning) {
  faultline::sim_context sim;
  auto worker = sim.spawn("worker", after(500ms, 9));
  auto waiter = sim.spawn("waiter", [worker]() -> asio::awaitable<int> { co_return co_await worker.wait(); });
  sim.run_for(100ms);
  waiter.cancel();
  sim.run();
  EXPECT_THAT(waiter.result(), WasCancelled());
  EXPECT_EQ(waiter.result().completed_at(), at(100ms));
  EXPECT_THAT(worker.result(), Returned(9));
  EXPECT_EQ(worker.result().completed_at(), at(500ms));
}

TEST(TaskWait, WithTimeoutGivesUpOnATaskWithoutEndingIt) {
  faultline::sim_context sim;
  auto worker = sim.spawn("worker", after(500ms, 9));
  auto r = sim.run([worker]() -> asio::awaitable<int> { co_return co_await faultline::with_timeout(worker.wait(), 200ms); });
  ASSERT_TRUE(r.has_exception());
  EXPECT_THAT(r.describe(), HasSubstr("at t=0.200s"));
  EXPECT_FALSE(worker.done());
  sim.run();
  EXPECT_EQ(worker.result().completed_at(), at(500ms));
}

TEST(TaskWait, AWaitForATaskThatCanNeverEndIsAStall) {
  faultline::sim_context sim;
  auto stuck = sim.spawn("stuck", faultline::sleep_until(faultline::steady_clock::time_point::max()));
  try {
    sim.run([stuck]() -> asio::awaitable<void> { co_await stuck.wait(); });
    ADD_FAILURE() << "expected a stall";
  } catch (const faultline::stall_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("stuck (task)"));
    EXPECT_THAT(e.what(), HasSubstr("main (task)"));
  }
}

TEST(TaskWait, AMoveOnlyValueGoesToTheFirstWaiter) {
  faultline::sim_context sim;
  auto worker = sim.spawn("worker", []() -> asio::awaitable<std::unique_ptr<int>> {
    co_await faultline::sleep_for(5ms);
    co_return std::make_unique<int>(4);
  });
  auto r = sim.run([worker]() -> asio::awaitable<int> { co_return *co_await worker.wait(); });
  EXPECT_THAT(r, Returned(4));
}

}  // namespace
