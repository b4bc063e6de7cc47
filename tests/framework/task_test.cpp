// Tests of sim.spawn / sim.run(awaitable): outcomes, names, cancellation, unobserved failures.
#include <faultline/outcome.hpp>

#include <faultline/gtest.hpp>
#include <faultline/sim_context.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/use_awaitable.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <thread>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::at;
using ::testing::ElementsAre;

asio::awaitable<int> after(std::chrono::milliseconds d, int v) {
  co_await faultline::sleep_for(d);
  if (v < 0) throw std::invalid_argument("negative");
  co_return v;
}

TEST(Task, RunReturnsTheValueAndTheInstant) {
  faultline::sim_context sim;
  auto r = sim.run(after(20ms, 5));
  EXPECT_TRUE(r.has_value());
  EXPECT_EQ(r.value(), 5);
  EXPECT_EQ(r.describe(), "returned at t=0.020s");
}

TEST(Task, RunCapturesAnExceptionAtTheInstantItWasThrown) {
  faultline::sim_context sim;
  auto r = sim.run(after(30ms, -1));
  ASSERT_TRUE(r.has_exception());
  EXPECT_FALSE(r.was_cancelled());
  EXPECT_EQ(r.completed_at(), at(30ms));
  EXPECT_EQ(r.describe(), "threw std::invalid_argument: negative at t=0.030s");
  EXPECT_THROW(r.value(), std::invalid_argument);
}

TEST(Task, RunStopsWhenTheAwaitableEndsLeavingOtherTasksPending) {
  faultline::sim_context sim;
  auto bg = sim.spawn("background", after(1s, 1));
  auto r = sim.run(after(10ms, 2));
  EXPECT_EQ(sim.now(), at(10ms));
  EXPECT_FALSE(bg.done());
  sim.run();
  EXPECT_EQ(bg.result().value(), 1);
  EXPECT_EQ(bg.result().completed_at(), at(1s));
}

TEST(Task, ResultOfAPendingTaskSaysToRunFurther) {
  faultline::sim_context sim;
  auto t = sim.spawn("slow", after(1s, 1));
  try {
    t.result();
    FAIL();
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(),
                 "faultline: task::result: task slow has not finished yet; run the sim further (sim.run(), "
                 "run_for, advance) first");
  }
  sim.run();
}

TEST(Task, MoveOnlyResultsWithoutADefaultConstructor) {
  struct token {
    explicit token(int v) : v(std::make_unique<int>(v)) {}
    std::unique_ptr<int> v;
  };
  faultline::sim_context sim;
  auto r = sim.run([]() -> asio::awaitable<token> {
    co_await faultline::sleep_for(1ms);
    co_return token(9);
  });
  token t = std::move(r).value();
  EXPECT_EQ(*t.v, 9);
}

TEST(Task, FailuresNobodyReadAreListedUntilRead) {
  faultline::sim_context sim;
  auto a = sim.spawn("a", after(10ms, -1));
  sim.spawn("b", after(20ms, -2));  // handle dropped: nobody can read it
  sim.spawn("c", after(5ms, 3));    // succeeded: never listed
  sim.run();
  EXPECT_THAT(sim.unobserved_failures(),
              ElementsAre("task a threw std::invalid_argument: negative at t=0.010s",
                          "task b threw std::invalid_argument: negative at t=0.020s"));
  EXPECT_TRUE(a.result().has_exception());
  EXPECT_THAT(sim.unobserved_failures(), ElementsAre("task b threw std::invalid_argument: negative at t=0.020s"));
}

TEST(Task, CancellationIsNotAnUnobservedFailure) {
  faultline::sim_context sim;
  auto t = sim.spawn("cancelled", after(1s, 1));
  sim.run_for(100ms);
  t.cancel();
  sim.run();
  EXPECT_TRUE(sim.unobserved_failures().empty());
  EXPECT_TRUE(t.result().was_cancelled());
  EXPECT_EQ(t.result().describe(), "was cancelled at t=0.100s");
}

TEST(Task, CancelOfAFinishedTaskDoesNothing) {
  faultline::sim_context sim;
  auto t = sim.spawn("done", after(1ms, 1));
  sim.run();
  t.cancel();
  sim.run();
  EXPECT_EQ(t.result().value(), 1);
}

TEST(Task, SpawnKeepsACapturingCoroutineLambdaAliveUntilItEnds) {
  faultline::sim_context sim;
  auto t = sim.spawn("captures", [big = std::string(1000, 'x'), n = 3]() -> asio::awaitable<std::size_t> {
    co_await faultline::sleep_for(1s);  // the statement that spawned it is long over
    co_return big.size() + static_cast<std::size_t>(n);
  });
  sim.run();
  EXPECT_EQ(t.result().value(), 1003u);
  EXPECT_EQ(t.result().completed_at(), at(1s));
}

TEST(Task, VoidTasks) {
  faultline::sim_context sim;
  auto r = sim.run([]() -> asio::awaitable<void> { co_await faultline::sleep_for(2ms); });
  EXPECT_TRUE(r.has_value());
  EXPECT_NO_THROW(r.value());
  EXPECT_EQ(r.describe(), "returned at t=0.002s");
}

TEST(Task, CurrentNamesTheSimRunningOnThisThread) {
  faultline::sim_context sim;
  EXPECT_EQ(faultline::sim_context::current(), nullptr);
  faultline::sim_context* seen = nullptr;
  sim.run([&]() -> asio::awaitable<void> {
    seen = faultline::sim_context::current();
    co_return;
  });
  EXPECT_EQ(seen, &sim);
}

TEST(SimRegistry, ListsTheSimsAliveOnThisThreadOldestFirst) {
  auto before = faultline::sim_context::alive_on_this_thread().size();
  faultline::sim_context a;
  std::vector<faultline::sim_context*> seen_elsewhere;
  {
    faultline::sim_context b;
    EXPECT_EQ(faultline::sim_context::alive_on_this_thread(),
              (std::vector<faultline::sim_context*>{&a, &b}));
    std::thread([&] { seen_elsewhere = faultline::sim_context::alive_on_this_thread(); }).join();
  }
  EXPECT_TRUE(seen_elsewhere.empty());
  EXPECT_EQ(faultline::sim_context::alive_on_this_thread(), std::vector<faultline::sim_context*>{&a});
  EXPECT_EQ(before, 0u);
}

}  // namespace
