// Tests of the gMock actions for awaitable-returning mocks, and of calls without an action.
#include <faultline/gtest/actions.hpp>

#include <faultline/gtest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;
namespace asio = boost::asio;
using faultline::at;
using faultline::testing::CancelAfter;
using faultline::testing::FailAfter;
using faultline::testing::Hang;
using faultline::testing::ReturnAfter;
using faultline::testing::ReturnImmediately;
using faultline::testing::ThrowAfter;
using ::testing::_;
using ::testing::HasSubstr;

class client {
 public:
  virtual ~client() = default;
  virtual asio::awaitable<std::string> fetch(std::string url) = 0;
  virtual asio::awaitable<void> ping() = 0;
  virtual asio::awaitable<std::unique_ptr<int>> take() = 0;
};

class mock_client : public client {
 public:
  MOCK_METHOD(asio::awaitable<std::string>, fetch, (std::string url), (override));
  MOCK_METHOD(asio::awaitable<void>, ping, (), (override));
  MOCK_METHOD(asio::awaitable<std::unique_ptr<int>>, take, (), (override));
};

std::string what_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  }
}

TEST(Actions, ReturnAfterCompletesWithTheValueAfterAVirtualLatency) {
  faultline::sim_context sim;
  mock_client m;
  EXPECT_CALL(m, fetch("/a")).WillOnce(ReturnAfter(100ms, "ok"));
  auto r = sim.run([&]() -> asio::awaitable<std::string> { co_return co_await m.fetch("/a"); });
  EXPECT_EQ(r.value(), "ok");
  EXPECT_EQ(r.completed_at(), at(100ms));
}

TEST(Actions, TheLatencyCountsFromTheAwaitNotFromTheCall) {
  faultline::sim_context sim;
  mock_client m;
  EXPECT_CALL(m, fetch("/a")).WillOnce(ReturnAfter(100ms, "ok"));
  auto a = m.fetch("/a");
  sim.run_for(50ms);
  auto r = sim.run(std::move(a));
  EXPECT_EQ(r.completed_at(), at(150ms));
}

TEST(Actions, EachCallOwnsItsDataAfterGMockDropsTheAction) {
  // gMock performs a copy of the action and destroys it when the call
  // returns; clearing the expectations destroys the originals too. The
  // awaitables made before must still complete (ASan checks the memory).
  faultline::sim_context sim;
  mock_client m;
  const std::string big(1000, 'x');
  EXPECT_CALL(m, fetch(_)).WillRepeatedly(ReturnAfter(10ms, big));
  std::vector<asio::awaitable<std::string>> calls;
  for (int i = 0; i < 3; ++i) calls.push_back(m.fetch("/" + std::to_string(i)));
  ::testing::Mock::VerifyAndClearExpectations(&m);
  for (auto& c : calls) EXPECT_EQ(sim.run(std::move(c)).value(), big);
  EXPECT_EQ(sim.now(), at(30ms));
}

TEST(Actions, ConcurrentCallsOfARepeatedActionEndIndependently) {
  faultline::sim_context sim;
  mock_client m;
  EXPECT_CALL(m, fetch(_)).Times(3).WillRepeatedly(ReturnAfter(10ms, "ok"));
  auto r = sim.run([&]() -> asio::awaitable<std::string> {
    auto [a, b, c] = co_await (m.fetch("/a") && m.fetch("/b") && m.fetch("/c"));
    co_return a + b + c;
  });
  EXPECT_EQ(r.value(), "okokok");
  EXPECT_EQ(r.completed_at(), at(10ms));  // concurrent: one latency, not three
}

TEST(Actions, OnCallDefaultsAndInSequence) {
  faultline::sim_context sim;
  mock_client m;
  ON_CALL(m, fetch(_)).WillByDefault(ReturnAfter(5ms, "default"));
  {
    ::testing::InSequence seq;
    EXPECT_CALL(m, fetch("/first")).WillOnce(ReturnAfter(1ms, "one"));
    EXPECT_CALL(m, fetch("/second"));  // performs the ON_CALL default
    EXPECT_CALL(m, fetch("/first")).WillOnce(ReturnImmediately("three"));
  }
  auto r = sim.run([&]() -> asio::awaitable<std::string> {
    std::string s = co_await m.fetch("/first");
    s += " " + co_await m.fetch("/second");
    s += " " + co_await m.fetch("/first");
    co_return s;
  });
  EXPECT_EQ(r.value(), "one default three");
  EXPECT_EQ(r.completed_at(), at(6ms));
}

TEST(Actions, MoveOnlyValuesServeOneCallEachWithWillOnce) {
  faultline::sim_context sim;
  mock_client m;
  EXPECT_CALL(m, take())
      .WillOnce(ReturnAfter(1ms, std::make_unique<int>(7)))
      .WillOnce(ReturnImmediately(std::make_unique<int>(8)));
  auto r = sim.run([&]() -> asio::awaitable<int> {
    auto a = co_await m.take();
    auto b = co_await m.take();
    co_return *a * 10 + *b;
  });
  EXPECT_EQ(r.value(), 78);
  EXPECT_EQ(r.completed_at(), at(1ms));
}

TEST(Actions, VoidResults) {
  faultline::sim_context sim;
  mock_client m;
  EXPECT_CALL(m, ping())
      .WillOnce(ReturnAfter(3ms))
      .WillOnce(ReturnImmediately())
      .WillOnce(FailAfter(2ms, asio::error::timed_out));
  EXPECT_TRUE(sim.run(m.ping()).has_value());
  EXPECT_EQ(sim.now(), at(3ms));
  EXPECT_TRUE(sim.run(m.ping()).has_value());
  auto r = sim.run(m.ping());
  EXPECT_TRUE(r.has_exception());
  EXPECT_EQ(r.completed_at(), at(5ms));
}

TEST(Actions, ReturnImmediatelyResumesWithoutGoingThroughTheQueue) {
  // A handler posted before the co_await runs only if the co_await suspends.
  faultline::sim_context sim;
  mock_client m;
  EXPECT_CALL(m, fetch("/now")).WillOnce(ReturnImmediately("now"));
  EXPECT_CALL(m, fetch("/zero")).WillOnce(ReturnAfter(0ms, "zero"));
  auto r = sim.run([&]() -> asio::awaitable<std::string> {
    bool ran = false;
    asio::post(co_await asio::this_coro::executor, [&] { ran = true; });
    co_await m.fetch("/now");
    std::string s = ran ? "suspended" : "inline";
    co_await m.fetch("/zero");
    s += ran ? " suspended" : " inline";
    co_return s;
  });
  EXPECT_EQ(r.value(), "inline suspended");
  EXPECT_EQ(r.completed_at(), at(0ms));
}

TEST(Actions, ThrowAfterThrowsTheExceptionAtTheInstant) {
  faultline::sim_context sim;
  mock_client m;
  EXPECT_CALL(m, fetch(_)).WillRepeatedly(ThrowAfter(20ms, std::runtime_error("boom")));
  auto r = sim.run(m.fetch("/a"));
  EXPECT_EQ(r.describe(), "threw std::runtime_error: boom at t=0.020s");
  auto r2 = sim.run(m.fetch("/b"));
  EXPECT_EQ(r2.describe(), "threw std::runtime_error: boom at t=0.040s");
}

TEST(Actions, FailAfterThrowsASystemErrorWithTheCode) {
  faultline::sim_context sim;
  mock_client m;
  EXPECT_CALL(m, fetch(_)).WillOnce(FailAfter(30ms, asio::error::connection_refused));
  auto r = sim.run(m.fetch("/a"));
  ASSERT_TRUE(r.has_exception());
  EXPECT_EQ(r.completed_at(), at(30ms));
  try {
    r.value();
  } catch (const boost::system::system_error& e) {
    EXPECT_EQ(e.code(), asio::error::connection_refused);
  }
}

TEST(Actions, CancelAfterEndsTheCallAsCancelled) {
  faultline::sim_context sim;
  mock_client m;
  EXPECT_CALL(m, fetch(_)).WillOnce(CancelAfter(40ms));
  auto r = sim.run(m.fetch("/a"));
  EXPECT_TRUE(r.was_cancelled());
  EXPECT_EQ(r.completed_at(), at(40ms));
}

TEST(Actions, HangEndsOnlyByCancellationAndLosesATimeoutRace) {
  faultline::sim_context sim;
  mock_client m;
  EXPECT_CALL(m, fetch(_)).WillRepeatedly(Hang());
  auto r = sim.run([&]() -> asio::awaitable<std::size_t> {
    auto v = co_await (m.fetch("/a") || faultline::sleep_for(1s));
    co_return v.index();
  });
  EXPECT_EQ(r.value(), 1u);
  EXPECT_EQ(r.completed_at(), at(1s));
  EXPECT_TRUE(sim.pending().empty());  // the loser was cancelled, not leaked

  auto t = sim.spawn("hung", m.fetch("/b"));
  sim.run_for(2s);
  t.cancel();
  sim.run();
  EXPECT_TRUE(t.result().was_cancelled());
  EXPECT_EQ(t.result().completed_at(), at(3s));
}

TEST(Actions, AHangNobodyCancelsIsAStallNotAHang) {
  faultline::sim_context sim;
  mock_client m;
  EXPECT_CALL(m, fetch(_)).WillOnce(Hang());
  try {
    sim.run(m.fetch("/a"));
    FAIL() << "the run should have stalled";
  } catch (const faultline::stall_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("parked timer"));
    EXPECT_THAT(e.what(), HasSubstr("main (task) waiting since t=0.000s"));
  }
}

TEST(Actions, ANegativeLatencyIsRejectedAtOnce) {
  try {
    ReturnAfter(-5ms, "x");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "faultline: ReturnAfter: the latency is -0.005s; it must not be negative (0 completes at the same "
                 "instant)");
  }
  EXPECT_THROW(ThrowAfter(-1ms, std::runtime_error("x")), std::invalid_argument);
  EXPECT_THROW(FailAfter(-1ms, asio::error::timed_out), std::invalid_argument);
  EXPECT_THROW(CancelAfter(-1ms), std::invalid_argument);
}

TEST(Actions, AnUninterestingCallFailsTheTestAndThrowsWhenAwaited) {
  faultline::sim_context sim;
  ::testing::NiceMock<mock_client> m;  // silences gMock's own warning: ours is the failure
  std::optional<asio::awaitable<std::string>> a;
  EXPECT_NONFATAL_FAILURE(a.emplace(m.fetch("/x")),
                          "faultline: a mock method returning asio::awaitable<std::string> was called without an "
                          "action for the call");
  auto r = sim.run(std::move(*a));
  ASSERT_TRUE(r.has_exception());
  EXPECT_THAT(what_of(r.exception()), HasSubstr("WillOnce(faultline::testing::ReturnAfter(latency, value))"));
  EXPECT_THROW(r.value(), faultline::testing::missing_action_error);
}

// Issue 15 item 7: the failure is the test's, so it points at the test, not
// at faultline's own source.
TEST(Actions, AMissingActionIsReportedAtTheTestsFileAndLine) {
  ::testing::NiceMock<mock_client> m;
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    auto never_awaited = m.fetch("/x");
  }
  ASSERT_EQ(failures.size(), 1);
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  EXPECT_STREQ(failures.GetTestPartResult(0).file_name(), test->file());
  EXPECT_EQ(failures.GetTestPartResult(0).line_number(), test->line());
}

TEST(Actions, AnUnexpectedCallIsReportedByGMockAndByTheAwaitable) {
  faultline::sim_context sim;
  mock_client m;
  EXPECT_CALL(m, fetch("/a")).WillOnce(ReturnAfter(1ms, "ok"));
  ::testing::TestPartResultArray failures;
  std::optional<faultline::outcome<std::string>> r;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    r.emplace(sim.run([&]() -> asio::awaitable<std::string> { co_return co_await m.fetch("/b"); }));
  }
  // gMock reports the call once the default action has been performed.
  ASSERT_EQ(failures.size(), 2);
  EXPECT_THAT(failures.GetTestPartResult(0).message(), HasSubstr("asio::awaitable<std::string> was called without"));
  EXPECT_THAT(failures.GetTestPartResult(1).message(), HasSubstr("Unexpected mock function call"));
  EXPECT_THAT(failures.GetTestPartResult(1).message(), HasSubstr("Function call: fetch(\"/b\")"));
  EXPECT_THROW(r->value(), faultline::testing::missing_action_error);
  sim.run(m.fetch("/a"));  // satisfies the expectation
}

TEST(Actions, CallsPastTheirWillOnceAlsoFailClearly) {
  faultline::sim_context sim;
  mock_client m;
  EXPECT_CALL(m, ping()).Times(2).WillOnce(ReturnAfter(1ms));
  EXPECT_TRUE(sim.run(m.ping()).has_value());
  std::optional<asio::awaitable<void>> a;
  EXPECT_NONFATAL_FAILURE(a.emplace(m.ping()), "asio::awaitable<void> was called without an action");
  EXPECT_THROW(sim.run(std::move(*a)).value(), faultline::testing::missing_action_error);
}

// Issue 15 item 7: gMock hands the default value no call information, so
// faultline's message cannot name the method; it says where gMock names it.
// These pin that gMock keeps those promises, at the verbosity the message names.
class gmock_stdout_capture {
 public:
  explicit gmock_stdout_capture(const char* verbosity) : previous_(GMOCK_FLAG_GET(verbose)) {
    GMOCK_FLAG_SET(verbose, verbosity);
    ::testing::internal::CaptureStdout();
  }
  gmock_stdout_capture(const gmock_stdout_capture&) = delete;
  gmock_stdout_capture& operator=(const gmock_stdout_capture&) = delete;
  ~gmock_stdout_capture() {
    if (capturing_) (void)text();
  }
  std::string text() {
    capturing_ = false;
    GMOCK_FLAG_SET(verbose, previous_);
    return ::testing::internal::GetCapturedStdout();
  }

 private:
  std::string previous_;
  bool capturing_ = true;
};

TEST(Actions, AMissingActionSaysHowToFindTheMethod) {
  ::testing::NiceMock<mock_client> m;
  std::optional<asio::awaitable<std::string>> a;
  EXPECT_NONFATAL_FAILURE(a.emplace(m.fetch("/x")),
                          "Which method: gMock does not tell faultline, but its own report beside this one names the "
                          "call when it was unexpected, past its WillOnce()s, or uninteresting on a mock that is not a "
                          "NiceMock; an EXPECT_CALL without an action and a NiceMock's calls are printed with their "
                          "names only with --gmock_verbose=info.");
}

TEST(Actions, GMocksFailureBesideAMissingActionNamesAnExcessiveCallAndAStrictMocksCall) {
  mock_client m;
  ::testing::StrictMock<mock_client> strict;
  EXPECT_CALL(m, ping()).WillOnce(ReturnImmediately());
  auto first = m.ping();
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    auto excessive = m.ping();
    auto uninteresting = strict.fetch("/strict");
  }
  ASSERT_EQ(failures.size(), 4);
  EXPECT_THAT(failures.GetTestPartResult(0).message(), HasSubstr("asio::awaitable<void> was called without"));
  EXPECT_THAT(failures.GetTestPartResult(1).message(), HasSubstr("Mock function called more times than expected"));
  EXPECT_THAT(failures.GetTestPartResult(1).message(), HasSubstr("Function call: ping()"));
  EXPECT_THAT(failures.GetTestPartResult(2).message(), HasSubstr("asio::awaitable<std::string> was called without"));
  EXPECT_THAT(failures.GetTestPartResult(3).message(), HasSubstr("Uninteresting mock function call"));
  EXPECT_THAT(failures.GetTestPartResult(3).message(), HasSubstr("Function call: fetch(\"/strict\")"));
}

TEST(Actions, GMockVerboseInfoNamesAnExpectedCallWithoutAnActionAndANiceMocksCall) {
  mock_client m;
  ::testing::NiceMock<mock_client> nice;
  EXPECT_CALL(m, fetch(_));
  std::optional<asio::awaitable<std::string>> a, b;
  gmock_stdout_capture out("info");
  EXPECT_NONFATAL_FAILURE(a.emplace(m.fetch("/expected")), "--gmock_verbose=info");
  EXPECT_NONFATAL_FAILURE(b.emplace(nice.fetch("/nice")), "--gmock_verbose=info");
  const std::string printed = out.text();
  EXPECT_THAT(printed, HasSubstr("Function call: fetch(\"/expected\")"));
  EXPECT_THAT(printed, HasSubstr("Function call: fetch(\"/nice\")"));
}

TEST(Actions, GMocksWarningBesideAMissingActionNamesANaggyCallAndActionsThatRanOut) {
  mock_client naggy;
  mock_client m;
  EXPECT_CALL(m, ping()).Times(2).WillOnce(ReturnImmediately());
  std::optional<asio::awaitable<std::string>> a;
  std::optional<asio::awaitable<void>> first, second;
  gmock_stdout_capture out("warning");
  EXPECT_NONFATAL_FAILURE(a.emplace(naggy.fetch("/naggy")), "asio::awaitable<std::string> was called without");
  first.emplace(m.ping());
  EXPECT_NONFATAL_FAILURE(second.emplace(m.ping()), "asio::awaitable<void> was called without");
  const std::string printed = out.text();
  EXPECT_THAT(printed, HasSubstr("Uninteresting mock function call"));
  EXPECT_THAT(printed, HasSubstr("Function call: fetch(\"/naggy\")"));
  EXPECT_THAT(printed, HasSubstr("Actions ran out in EXPECT_CALL(m, ping())"));
}

}  // namespace
