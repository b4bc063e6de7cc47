// Tests of FAULTLINE_TEST, FAULTLINE_TEST_F, CO_ASSERT_* and capture().
#include <faultline/gtest/test.hpp>

#include <faultline/gtest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::at;
using ::testing::Ge;
using ::testing::HasSubstr;

asio::awaitable<int> value_after(std::chrono::milliseconds d, int v) {
  co_await faultline::sleep_for(d);
  co_return v;
}

asio::awaitable<void> nothing() { co_return; }

asio::awaitable<void> thrower() {
  co_await faultline::sleep_for(1ms);
  throw std::runtime_error("boom");
}

asio::awaitable<void> fatal_helper() { CO_ASSERT_TRUE(false) << "in the helper"; }

// -- the macros, for real ------------------------------------------------------------

FAULTLINE_TEST(CoTest, TheBodyIsACoroutineOnAFreshSimInVirtualTime) {
  EXPECT_EQ(sim().now(), at(0ms));
  co_await faultline::sleep_for(1h);
  EXPECT_EQ(sim().now(), at(1h));
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  EXPECT_STREQ(info->test_suite_name(), "CoTest");
  EXPECT_STREQ(info->name(), "TheBodyIsACoroutineOnAFreshSimInVirtualTime");
}

TEST(CoTest, PlainTestsShareTheSuite) { SUCCEED(); }

FAULTLINE_TEST(CoTest, AssertionsMayAwaitInTheirArguments) {
  CO_ASSERT_EQ(co_await value_after(10ms, 3), 3);
  CO_ASSERT_THAT(co_await value_after(10ms, 5), Ge(4));
  CO_ASSERT_THROW(co_await thrower(), std::runtime_error);
  EXPECT_THROW(co_await thrower(), std::runtime_error);
  EXPECT_EQ(co_await value_after(1ms, 7), 7);
  EXPECT_EQ(sim().now(), at(23ms));
}

FAULTLINE_TEST(CoTest, CaptureTurnsAnAwaitIntoAnOutcomeForTheMatchers) {
  using namespace faultline::testing;
  auto ok = co_await capture(value_after(20ms, 1));
  EXPECT_THAT(ok, AllOf(Returned(1), CompletedAt(at(20ms))));
  auto bad = co_await capture(thrower());
  EXPECT_THAT(bad, AllOf(Threw<std::runtime_error>("boom"), CompletedAt(at(21ms))));
}

TEST(CoTest, CaptureOutsideASimStampsTheEpoch) {
  // capture() is usable on any executor; off a sim there is no virtual time.
  asio::io_context io;
  std::optional<faultline::outcome<int>> r;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { r.emplace(co_await faultline::testing::capture(value_after(0ms, 4))); },
      asio::detached);
  io.run();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value(), 4);
  EXPECT_EQ(r->completed_at(), at(0ms));
}

class FetchTest : public faultline::testing::sim_test {
 protected:
  void SetUp() override { fetch.on_call().after(100ms).returns("ok").repeatedly(); }
  faultline::async_fake<std::string(std::string)> fetch{sim(), "fetch"};
};

FAULTLINE_TEST_F(FetchTest, FixtureMembersAreReachableInTheBody) {
  CO_ASSERT_EQ(co_await fetch("/a"), "ok");
  EXPECT_EQ(sim().now(), at(100ms));
}

TEST_F(FetchTest, PlainTestFSharesTheFixture) { EXPECT_EQ(sim().run(fetch("/b")).value(), "ok"); }

FAULTLINE_TEST(CoTest, BackgroundTasksOutliveTheBodyAndAreCancelledAtTeardown) {
  static int beats = 0;  // outlives the body, as the task does
  beats = 0;
  background().spawn("heartbeat", []() -> asio::awaitable<void> {
    for (;;) {
      co_await faultline::sleep_for(1s);
      ++beats;
    }
  });
  co_await faultline::sleep_for(3500ms);
  EXPECT_EQ(beats, 3);
}

// -- the macros' failure output, on hand-driven fixtures ------------------------------

class body_runner : public faultline::testing::sim_test {
 public:
  void TestBody() override {}
  template <class F>
  void run(F body) {
    run_coroutine_body(std::move(body), "body.cpp", 7);
    checks() = {false, false, false};
    TearDown();
  }
};

void run_stalling_body() {
  body_runner t;
  t.run([]() -> asio::awaitable<void> {
    faultline::steady_timer parked(co_await asio::this_coro::executor, faultline::steady_clock::time_point::max());
    co_await parked.async_wait(asio::use_awaitable);
  });
}

void run_throwing_body() {
  body_runner t;
  t.run([]() -> asio::awaitable<void> { co_await thrower(); });
}

void run_cancelled_body() {
  body_runner t;
  t.run([]() -> asio::awaitable<void> {
    co_await faultline::sleep_for(5ms);
    throw boost::system::system_error(asio::error::operation_aborted);
  });
}

TEST(CoTestFailures, ABodyThatStallsFailsWithTheStallReport) {
  EXPECT_FATAL_FAILURE(run_stalling_body(), "faultline: sim stalled at t=0.000s with 2 pending operations");
  EXPECT_FATAL_FAILURE(run_stalling_body(), "parked timer");
}

TEST(CoTestFailures, TheStallIsReportedAtTheTestsLocation) {
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter r(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    run_stalling_body();
  }
  ASSERT_EQ(failures.size(), 1);
  EXPECT_TRUE(failures.GetTestPartResult(0).fatally_failed());
  EXPECT_STREQ(failures.GetTestPartResult(0).file_name(), "body.cpp");
  EXPECT_EQ(failures.GetTestPartResult(0).line_number(), 7);
}

TEST(CoTestFailures, ABodyThatThrowsFailsNamingTheException) {
  EXPECT_FATAL_FAILURE(run_throwing_body(),
                       "faultline: the test body threw std::runtime_error: boom at t=0.001s; catch it in the body, or "
                       "assert it with EXPECT_THROW or CO_ASSERT_THROW");
}

TEST(CoTestFailures, ABodyEndedByCancellationSaysSo) {
  EXPECT_FATAL_FAILURE(run_cancelled_body(),
                       "faultline: the test body was cancelled at t=0.005s: an operation_aborted");
}

// -- CO_ASSERT_*: each one ends the coroutine on failure, and only then ------------------

using co_body = std::function<asio::awaitable<void>(bool&)>;

struct co_case {
  const char* name;
  co_body failing;
  const char* message;  // in the failure
  co_body passing;
};

bool is_even(int n) { return n % 2 == 0; }
bool sum_is(int a, int b, int c) { return a + b == c; }
bool all_equal3(int a, int b, int c) { return a == b && b == c; }
bool all_equal4(int a, int b, int c, int d) { return a == b && b == c && c == d; }
bool all_equal5(int a, int b, int c, int d, int e) { return a == b && b == c && c == d && d == e; }
::testing::AssertionResult positive(const char* expr, int n) {
  if (n > 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << expr << " is not positive";
}
::testing::AssertionResult ordered(const char*, const char*, int a, int b) {
  if (a < b) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << a << " is not below " << b;
}
::testing::AssertionResult format3(const char*, const char*, const char*, int a, int b, int c) {
  return a + b == c ? ::testing::AssertionSuccess() : ::testing::AssertionFailure() << "format3 failed";
}
::testing::AssertionResult format4(const char*, const char*, const char*, const char*, int a, int b, int c, int d) {
  return a + b + c == d ? ::testing::AssertionSuccess() : ::testing::AssertionFailure() << "format4 failed";
}
::testing::AssertionResult format5(const char*, const char*, const char*, const char*, const char*, int a, int b, int c,
                                   int d, int e) {
  return a + b + c + d == e ? ::testing::AssertionSuccess() : ::testing::AssertionFailure() << "format5 failed";
}

// One row of the table: a body where the assertion fails, and one where it
// holds, each a coroutine lambda (the assertions only compile in coroutines).
#define FAULTLINE_CASE(name, failing, message, passing)   \
  co_case {                                               \
    name,                                                 \
        [](bool& end) -> asio::awaitable<void> {          \
          failing;                                        \
          end = true;                                     \
        },                                                \
        message, [](bool& end) -> asio::awaitable<void> { \
          passing;                                        \
          end = true;                                     \
        }                                                 \
  }

std::vector<co_case> co_cases() {
  return {
      FAULTLINE_CASE("TRUE", CO_ASSERT_TRUE(co_await value_after(1ms, 0) == 1), "Value of: co_await value_after",
                     CO_ASSERT_TRUE(co_await value_after(1ms, 1) == 1)),
      FAULTLINE_CASE("FALSE", CO_ASSERT_FALSE(1 == 1), "Value of: 1 == 1", CO_ASSERT_FALSE(1 == 2)),
      FAULTLINE_CASE("EQ", CO_ASSERT_EQ(co_await value_after(1ms, 1), 2), "Expected equality of these values",
                     CO_ASSERT_EQ(co_await value_after(1ms, 2), 2)),
      FAULTLINE_CASE("NE", CO_ASSERT_NE(1, 1), "Expected: (1) != (1)", CO_ASSERT_NE(1, 2)),
      FAULTLINE_CASE("LE", CO_ASSERT_LE(2, 1), "Expected: (2) <= (1)", CO_ASSERT_LE(1, 1)),
      FAULTLINE_CASE("LT", CO_ASSERT_LT(1, 1), "Expected: (1) < (1)", CO_ASSERT_LT(1, 2)),
      FAULTLINE_CASE("GE", CO_ASSERT_GE(1, 2), "Expected: (1) >= (2)", CO_ASSERT_GE(2, 2)),
      FAULTLINE_CASE("GT", CO_ASSERT_GT(1, 1), "Expected: (1) > (1)", CO_ASSERT_GT(2, 1)),
      FAULTLINE_CASE("STREQ", CO_ASSERT_STREQ("a", "b"), "Expected equality of these values",
                     CO_ASSERT_STREQ("a", "a")),
      FAULTLINE_CASE("STRNE", CO_ASSERT_STRNE("a", "a"), "Expected: (\"a\") != (\"a\")", CO_ASSERT_STRNE("a", "b")),
      FAULTLINE_CASE("STRCASEEQ", CO_ASSERT_STRCASEEQ("a", "B"), "Ignoring case", CO_ASSERT_STRCASEEQ("a", "A")),
      FAULTLINE_CASE("STRCASENE", CO_ASSERT_STRCASENE("a", "A"), "(ignoring case)", CO_ASSERT_STRCASENE("a", "b")),
      FAULTLINE_CASE("FLOAT_EQ", CO_ASSERT_FLOAT_EQ(1.0f, 2.0f), "Expected equality of these values",
                     CO_ASSERT_FLOAT_EQ(1.0f, 1.0f)),
      FAULTLINE_CASE("DOUBLE_EQ", CO_ASSERT_DOUBLE_EQ(1.0, 2.0), "Expected equality of these values",
                     CO_ASSERT_DOUBLE_EQ(1.0, 1.0)),
      FAULTLINE_CASE("NEAR", CO_ASSERT_NEAR(1.0, 2.0, 0.5), "The difference between 1.0 and 2.0 is 1",
                     CO_ASSERT_NEAR(1.0, 1.2, 0.5)),
      FAULTLINE_CASE("THROW", CO_ASSERT_THROW(co_await nothing(), std::runtime_error), "Actual: it throws nothing",
                     CO_ASSERT_THROW(co_await thrower(), std::runtime_error)),
      FAULTLINE_CASE("NO_THROW", CO_ASSERT_NO_THROW(co_await thrower()), "Actual: it throws std::runtime_error",
                     CO_ASSERT_NO_THROW(co_await nothing())),
      FAULTLINE_CASE("ANY_THROW", CO_ASSERT_ANY_THROW(co_await nothing()), "Actual: it doesn't",
                     CO_ASSERT_ANY_THROW(co_await thrower())),
      FAULTLINE_CASE("THAT", CO_ASSERT_THAT(co_await value_after(1ms, 3), Ge(4)), "Expected: is >= 4",
                     CO_ASSERT_THAT(co_await value_after(1ms, 4), Ge(4))),
      FAULTLINE_CASE("NO_FATAL_FAILURE", CO_ASSERT_NO_FATAL_FAILURE(co_await fatal_helper()),
                     "doesn't generate new fatal failures", CO_ASSERT_NO_FATAL_FAILURE(co_await nothing())),
      FAULTLINE_CASE("PRED1", CO_ASSERT_PRED1(is_even, 3), "is_even(3) evaluates to false",
                     CO_ASSERT_PRED1(is_even, 2)),
      FAULTLINE_CASE("PRED2", CO_ASSERT_PRED2([](int a, int b) { return a < b; }, 2, 1), "evaluates to false",
                     CO_ASSERT_PRED2([](int a, int b) { return a < b; }, 1, 2)),
      FAULTLINE_CASE("PRED3", CO_ASSERT_PRED3(sum_is, 1, 1, 3), "sum_is(1, 1, 3) evaluates to false",
                     CO_ASSERT_PRED3(sum_is, 1, 1, 2)),
      FAULTLINE_CASE("PRED3 all_equal", CO_ASSERT_PRED3(all_equal3, 1, 1, 2), "all_equal3(1, 1, 2)",
                     CO_ASSERT_PRED3(all_equal3, 1, 1, 1)),
      FAULTLINE_CASE("PRED4", CO_ASSERT_PRED4(all_equal4, 1, 1, 1, 2), "all_equal4(1, 1, 1, 2)",
                     CO_ASSERT_PRED4(all_equal4, 1, 1, 1, 1)),
      FAULTLINE_CASE("PRED5", CO_ASSERT_PRED5(all_equal5, 1, 1, 1, 1, 2), "all_equal5(1, 1, 1, 1, 2)",
                     CO_ASSERT_PRED5(all_equal5, 1, 1, 1, 1, 1)),
      FAULTLINE_CASE("PRED_FORMAT1", CO_ASSERT_PRED_FORMAT1(positive, -1), "-1 is not positive",
                     CO_ASSERT_PRED_FORMAT1(positive, 1)),
      FAULTLINE_CASE("PRED_FORMAT2", CO_ASSERT_PRED_FORMAT2(ordered, 2, 1), "2 is not below 1",
                     CO_ASSERT_PRED_FORMAT2(ordered, 1, 2)),
      FAULTLINE_CASE("PRED_FORMAT3", CO_ASSERT_PRED_FORMAT3(format3, 1, 1, 3), "format3 failed",
                     CO_ASSERT_PRED_FORMAT3(format3, 1, 1, 2)),
      FAULTLINE_CASE("PRED_FORMAT4", CO_ASSERT_PRED_FORMAT4(format4, 1, 1, 1, 4), "format4 failed",
                     CO_ASSERT_PRED_FORMAT4(format4, 1, 1, 1, 3)),
      FAULTLINE_CASE("PRED_FORMAT5", CO_ASSERT_PRED_FORMAT5(format5, 1, 1, 1, 1, 5), "format5 failed",
                     CO_ASSERT_PRED_FORMAT5(format5, 1, 1, 1, 1, 4)),
      FAULTLINE_CASE("FAIL", CO_FAIL() << "stop here", "stop here", co_await nothing()),
  };
}

// Runs `body` on a fresh sim, collecting the failures it reports; returns
// whether the body reached its end.
bool run_capturing(const co_body& body, ::testing::TestPartResultArray& failures) {
  faultline::sim_context sim;
  bool end = false;
  ::testing::ScopedFakeTestPartResultReporter r(
      ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
  sim.run(body(end)).value();
  return end;
}

TEST(CoAssert, EachFailingAssertionRecordsAFatalFailureAndEndsTheCoroutine) {
  for (const auto& c : co_cases()) {
    SCOPED_TRACE(c.name);
    ::testing::TestPartResultArray failures;
    EXPECT_FALSE(run_capturing(c.failing, failures)) << "the coroutine went on after the failure";
    // NO_FATAL_FAILURE also sees the helper's own failure.
    ASSERT_GE(failures.size(), 1);
    const auto& last = failures.GetTestPartResult(failures.size() - 1);
    EXPECT_TRUE(last.fatally_failed());
    EXPECT_THAT(last.message(), HasSubstr(c.message));
  }
}

TEST(CoAssert, EachPassingAssertionLetsTheCoroutineGoOn) {
  for (const auto& c : co_cases()) {
    SCOPED_TRACE(c.name);
    ::testing::TestPartResultArray failures;
    EXPECT_TRUE(run_capturing(c.passing, failures));
    EXPECT_EQ(failures.size(), 0);
  }
}

void run_failing_co_assert() {
  faultline::sim_context sim;
  sim.run([]() -> asio::awaitable<void> {
    CO_ASSERT_EQ(co_await value_after(5ms, 1), 2) << "after " << 5 << "ms";
    ADD_FAILURE() << "not reached";
  });
}

TEST(CoAssert, WorksWithGTestSpiAndStreamsMessages) { EXPECT_FATAL_FAILURE(run_failing_co_assert(), "after 5ms"); }

TEST(CoAssert, CoSkipMarksTheTestSkippedAndEndsTheCoroutine) {
  ::testing::TestPartResultArray results;
  EXPECT_FALSE(run_capturing(
      [](bool& end) -> asio::awaitable<void> {
        CO_SKIP();
        end = true;
      },
      results));
  ASSERT_EQ(results.size(), 1);
  EXPECT_TRUE(results.GetTestPartResult(0).skipped());
}

}  // namespace
