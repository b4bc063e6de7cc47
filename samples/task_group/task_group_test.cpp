// Tests of run_all: the first error cancels the siblings at its instant, and every task's end is reported.
#include "task_group.hpp"

#include <faultline/gtest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <initializer_list>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace samples::task_group {
void PrintTo(task_status s, std::ostream* os) {
  *os << (s == task_status::succeeded ? "succeeded" : s == task_status::failed ? "failed" : "cancelled");
}
}  // namespace samples::task_group

namespace {

using namespace std::chrono_literals;
using namespace faultline::testing;
namespace asio = boost::asio;
using faultline::at;
using faultline::call_status;
using samples::task_group::group_error;
using samples::task_group::run_all;
using samples::task_group::task_status;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<task_status> statuses(const group_error& e) {
  std::vector<task_status> v;
  for (const auto& t : e.tasks()) v.push_back(t.status);
  return v;
}

class RunAll : public sim_test {
 protected:
  std::vector<asio::awaitable<std::string>> processes(std::initializer_list<std::string> items) {
    std::vector<asio::awaitable<std::string>> tasks;
    for (const auto& item : items) tasks.push_back(process(item));
    return tasks;
  }

  // The group_error run_all throws for these tasks; none when it does not throw one.
  asio::awaitable<std::optional<group_error>> error_of(std::vector<asio::awaitable<std::string>> tasks) {
    try {
      co_await run_all(std::move(tasks));
    } catch (const group_error& e) {
      co_return e;
    }
    co_return std::nullopt;
  }

  faultline::async_fake<std::string(std::string)> process{sim(), "process"};
};

FAULTLINE_TEST_F(RunAll, ReturnsEveryValueInInputOrderWhenAllSucceed) {
  process.on_call("item1").after(300ms).returns("Processed item1");
  process.on_call("item2").after(100ms).returns("Processed item2");
  auto tasks = processes({"item1", "item2"});
  auto values = co_await run_all(std::move(tasks));
  EXPECT_THAT(values, ElementsAre("Processed item1", "Processed item2"));
  EXPECT_EQ(sim().now(), at(300ms));
}

FAULTLINE_TEST_F(RunAll, TheFirstErrorCancelsTheSiblingsAtItsInstant) {
  process.on_call("item1").after(50ms).returns("Processed item1");
  process.on_call("error").after(100ms).throws(std::invalid_argument("Cannot process error"));
  process.on_call("item2").after(1s).returns("Processed item2");
  auto tasks = processes({"item1", "error", "item2"});
  auto error = co_await error_of(std::move(tasks));
  CO_ASSERT_TRUE(error) << "run_all did not throw a group_error";
  EXPECT_EQ(sim().now(), at(100ms));
  EXPECT_EQ(error->first_failed(), 1u);
  EXPECT_THAT(statuses(*error), ElementsAre(task_status::succeeded, task_status::failed, task_status::cancelled));
  EXPECT_STREQ(error->what(), "run_all: task 1 failed: Cannot process error (1 failed, 1 cancelled, 1 succeeded)");
  EXPECT_THAT(process.calls()[2], AllOf(EndedBy(call_status::cancelled), EndedAt(at(100ms))));
}

// A task whose callee gives up ends in operation_aborted too; as the first error it is a
// failure of its own: nobody had cancelled it.
FAULTLINE_TEST_F(RunAll, ACalleeGivingUpFirstIsAFailureNotACancellation) {
  process.on_call("a").after(1s).returns("Processed a");
  process.on_call("b").after(100ms).cancels();
  auto tasks = processes({"a", "b"});
  auto error = co_await error_of(std::move(tasks));
  CO_ASSERT_TRUE(error) << "run_all did not throw a group_error";
  EXPECT_EQ(error->first_failed(), 1u);
  EXPECT_THAT(statuses(*error), ElementsAre(task_status::cancelled, task_status::failed));
  EXPECT_EQ(sim().now(), at(100ms));
}

FAULTLINE_TEST_F(RunAll, ReturnsNothingAtOnceForNoTasks) {
  auto tasks = processes({});
  auto values = co_await run_all(std::move(tasks));
  EXPECT_THAT(values, IsEmpty());
  EXPECT_EQ(sim().now(), at(0ms));
}

// The next tests drive the sim by hand, to act from outside at exact instants.

// Both calls fail at 100ms: "a" first, which cancels the group, but "b"'s error is already
// on its way, so it is reported as the real failure it is, not as a cancellation. (Holds
// fail both at once; scripted latencies ending at the same instant hit a faultline bug.)
TEST_F(RunAll, TwoFailuresAtTheSameInstantAreBothReported) {
  auto a = process.hold_next();
  auto b = process.hold_next();
  process.on_call("c").hangs();
  auto group = sim().spawn("group", error_of(processes({"a", "b", "c"})));
  sim().run_until(at(100ms));
  a.fail(std::invalid_argument("Cannot process a"));
  b.fail(asio::error::connection_reset);
  sim().run();
  auto& error = group.result().value();
  ASSERT_TRUE(error) << "run_all did not throw a group_error";
  EXPECT_EQ(error->first_failed(), 0u);
  EXPECT_THAT(statuses(*error), ElementsAre(task_status::failed, task_status::failed, task_status::cancelled));
  EXPECT_THAT(group.result(), CompletedAt(at(100ms)));
  EXPECT_THAT(process.calls(), ElementsAre(AllOf(EndedBy(call_status::threw), EndedAt(at(100ms))),
                                           AllOf(EndedBy(call_status::failed), EndedAt(at(100ms))),
                                           AllOf(EndedBy(call_status::cancelled), EndedAt(at(100ms)))));
}

TEST_F(RunAll, ExternalCancellationCancelsEveryTaskAndEndsTheGroupCancelled) {
  process.on_call("a").after(100ms).returns("Processed a");
  process.on_call("b").hangs();
  process.on_call("c").after(500ms).returns("Processed c");
  auto group = sim().spawn("group", run_all(processes({"a", "b", "c"})));
  sim().run_until(at(150ms));
  group.cancel();
  sim().run();
  // Cancelled, not a group_error: no task failed, the caller asked to stop.
  EXPECT_THAT(group.result(), AllOf(WasCancelled(), CompletedAt(at(150ms))));
  EXPECT_THAT(process.calls(), ElementsAre(AllOf(EndedBy(call_status::returned), EndedAt(at(100ms))),
                                           AllOf(EndedBy(call_status::cancelled), EndedAt(at(150ms))),
                                           AllOf(EndedBy(call_status::cancelled), EndedAt(at(150ms)))));
}

}  // namespace
