// What sim_test reports about doubles and failpoints, once each: destroyed in the body, or checked at teardown.
#include <faultline/gtest.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using fetch_fake = faultline::async_fake<std::string(std::string)>;

class BodyReports : public faultline::testing::sim_test {
 protected:
  // Runs `body` as FAULTLINE_TEST does, then the teardown; returns the failures both reported. The
  // body's failure is fatal in a real test, which skips the pending check at teardown; intercepted
  // here, it is not, so the check is switched off.
  template <class Body>
  std::vector<std::string> failures_of_body_and_teardown(Body body) {
    checks().pending = false;
    ::testing::TestPartResultArray failures;
    {
      ::testing::ScopedFakeTestPartResultReporter reporter(
          ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
      run_coroutine_body(std::move(body), __FILE__, __LINE__);
      TearDown();
    }
    std::vector<std::string> messages;
    for (int i = 0; i < failures.size(); ++i) messages.push_back(failures.GetTestPartResult(i).message());
    return messages;
  }
};

// A double local to a FAULTLINE_TEST body is gone before teardown: it reports
// itself when the body ends (this runs a body as FAULTLINE_TEST does).
TEST_F(BodyReports, ADoubleLocalToTheBodyFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(run_coroutine_body(
                              [this]() -> asio::awaitable<void> {
                                fetch_fake fetch(sim(), "fetch");
                                fetch.on_call().returns("a").then().throws(std::runtime_error("never"));
                                EXPECT_EQ(co_await fetch("/x"), "a");
                              },
                              __FILE__, __LINE__),
                          "faultline: 1 scripted expectation never happened (fetch was destroyed with it unmet)");
}

TEST_F(BodyReports, TheChecksOptOutCoversDoublesDestroyedInTheBody) {
  checks().unmet_expectations = false;
  run_coroutine_body(
      [this]() -> asio::awaitable<void> {
        fetch_fake fetch(sim(), "fetch");
        fetch.on_call().returns("a").then().returns("b");
        EXPECT_EQ(co_await fetch("/x"), "a");
      },
      __FILE__, __LINE__);
}

// verify() thrown out of a body names the fix itself; the body report does not
// add "assert it with EXPECT_THROW", which would only hide the unmet steps.
TEST_F(BodyReports, VerifyInTheBodyIsReportedWithoutSuggestingExpectThrow) {
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    run_coroutine_body(
        [this]() -> asio::awaitable<void> {
          fetch_fake fetch(sim(), "fetch");
          fetch.on_call().returns("a");
          fetch.verify();
          co_return;
        },
        __FILE__, __LINE__);
  }
  ASSERT_EQ(failures.size(), 1);  // verify() showed the lines: the double does not report them again
  const std::string message = failures.GetTestPartResult(0).message();
  EXPECT_THAT(message, ::testing::HasSubstr("faultline: fetch has unmet expectations:\n  fetch.on_call(any) step 1"));
  EXPECT_THAT(message, ::testing::Not(::testing::HasSubstr("EXPECT_THROW")));
}

class MemberDouble : public faultline::testing::sim_test {
 protected:
  fetch_fake fetch{sim(), "fetch"};
};

// A fixture member is reported by the teardown check, and not again when it
// is destroyed afterwards (that would fail this test a second time).
TEST_F(MemberDouble, IsReportedOnceAtTeardown) {
  fetch.on_call().returns("a");
  EXPECT_NONFATAL_FAILURE(TearDown(), "faultline: 1 scripted expectation never happened:\n"
                                      "  fetch.on_call(any) step 1 returns \"a\" (used 0 of 1): never used up");
}

TEST_F(MemberDouble, AFixtureOptOutCoversMembersToo) {
  checks().unmet_expectations = false;
  fetch.on_call().returns("a");
}

class Failpoints : public faultline::testing::sim_test {};

// Reported by the teardown check, and not again when the sim ends.
TEST_F(Failpoints, AnArmedNameNeverReachedIsReportedOnceAtTeardown) {
  faultline::failpoints(sim()).arm("db.comit", "hang");
  EXPECT_NONFATAL_FAILURE(TearDown(),
                          "faultline: 1 armed failpoint was never reached during the test:\n  db.comit=hang\n"
                          "check each name against the failpoint in the code (a typo?)");
}

TEST_F(Failpoints, TheChecksOptOutCoversThem) {
  checks().unreached_failpoints = false;
  faultline::failpoints(sim()).arm("db.comit", "hang");
}

FAULTLINE_TEST_F(Failpoints, ReachedOnesAreFine) {
  faultline::failpoints(sim()).arm("db.commit", "1*delay(5)");
  co_await faultline::failpoint("db.commit");
  EXPECT_EQ(sim().now(), faultline::at(5ms));
}

// A plain Asio timer stalls the body; the teardown's polls must not report it
// twice more.
TEST_F(BodyReports, APlainAsioTimerIsReportedOnceWithTheTeardown) {
  const auto failures = failures_of_body_and_teardown([]() -> asio::awaitable<void> {
    asio::steady_timer t(co_await asio::this_coro::executor, 10ms);
    co_await t.async_wait(asio::use_awaitable);
  });
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_THAT(failures[0], ::testing::HasSubstr("a plain asio::steady_timer was created on this sim"));
}

// A real socket in a test body: one failure naming the simulated network's
// types (issue 12 item 5), not the plain-timer message, and not repeated by
// the teardown's polls.
TEST_F(BodyReports, ARealSocketIsReportedOnceWithTheTeardown) {
  const auto failures = failures_of_body_and_teardown([]() -> asio::awaitable<void> {
    asio::ip::tcp::socket socket(co_await asio::this_coro::executor);
    socket.open(asio::ip::tcp::v4());
    co_await socket.async_wait(asio::ip::tcp::socket::wait_read, asio::use_awaitable);
  });
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_THAT(failures[0], ::testing::HasSubstr("a real asio::ip::tcp socket or acceptor was created on this sim"));
  EXPECT_THAT(failures[0], ::testing::HasSubstr("faultline::net::tcp::socket"));
  EXPECT_THAT(failures[0], ::testing::HasSubstr("docs/network.md"));
  EXPECT_THAT(failures[0], ::testing::Not(::testing::HasSubstr("steady_timer")));
}

// Chaos runs cut scenarios short on purpose: doubles left with steps there
// are not reported (the sweep would otherwise fail on every faulted seed).
FAULTLINE_CHAOS_TEST(ChaosReports, UnusedStepsInAChaosRunAreNotReported,
                     faultline::chaos_plan().point("fetch", faultline::fault_rates().error(0.5))) {
  fetch_fake fetch(sim(), "fetch");
  fetch.on_call().returns("a").then().returns("b");
  try {
    co_await fetch("/x");
    co_await fetch("/y");
  } catch (const boost::system::system_error&) {
    // A fault ends the scenario early: after one at /x, step 2 is never used.
  }
}

}  // namespace
