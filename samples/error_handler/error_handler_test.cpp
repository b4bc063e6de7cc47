// Tests of the error_handler sample: results, errors counted by type, timeouts apart, cancellation untouched.
#include "error_handler.hpp"

#include <faultline/gtest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
using namespace faultline::testing;
using namespace samples::error_handler;
using faultline::at;
using faultline::call_status;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using counts = std::map<std::string, std::size_t>;

std::string what(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  }
}

class ErrorHandler : public sim_test {
 protected:
  faultline::async_fake<std::string(std::string)> fetch{sim(), "fetch"};
  error_handler handler;
};

FAULTLINE_TEST_F(ErrorHandler, ASuccessReturnsTheValueAndCountsNoError) {
  fetch.on_call().after(100ms).returns("<html>");
  auto r = co_await handler.run(fetch("/a"));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.value, "<html>");
  EXPECT_EQ(sim().now(), at(100ms));
  EXPECT_EQ(handler.stats().succeeded, 1u);
  EXPECT_EQ(handler.stats().errors, 0u);
  EXPECT_THAT(handler.stats().errors_by_type, IsEmpty());
}

FAULTLINE_TEST_F(ErrorHandler, EachErrorIsReturnedAndCountedUnderItsType) {
  fetch.on_call("/bug").after(10ms).throws(std::logic_error("null session"));
  fetch.on_call("/bad").after(10ms).throws(std::invalid_argument("bad url"));
  fetch.on_call("/eof").after(10ms).fails(asio::error::eof);
  fetch.on_call("/dns").after(10ms).fails(asio::error::host_not_found);
  struct expectation {
    std::string type, what;
  };
  const std::map<std::string, expectation> expected{
      {"/bug", {"std::logic_error", "null session"}},
      {"/bad", {"std::invalid_argument", "bad url"}},
      {"/eof", {"asio.misc:2", "End of file [asio.misc:2]"}},
      {"/dns", {"asio.netdb:1", "Host not found (authoritative) [asio.netdb:1]"}}};
  for (const auto& [url, e] : expected) {
    SCOPED_TRACE(url);
    auto r = co_await handler.run(fetch(url));
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error_type, e.type);
    EXPECT_EQ(what(r.error), e.what);  // the operation's own error, untouched
    EXPECT_EQ(handler.stats().errors_by_type.at(e.type), 1u);
  }
  EXPECT_EQ(sim().now(), at(40ms));  // each failure returned the instant it happened
  EXPECT_EQ(handler.stats().errors, 4u);
}

FAULTLINE_TEST_F(ErrorHandler, StatsAfterAMixCountEachTypeExactly) {
  fetch.on_call().after(50ms).returns("ok").repeatedly();
  fetch.on_call("/flaky").after(50ms).throws(std::runtime_error("503")).times(3);
  fetch.on_call("/gone").after(50ms).fails(asio::error::eof).times(2);
  fetch.on_call("/slow").hangs();
  for (const char* url : {"/a", "/flaky", "/gone", "/flaky", "/b", "/slow", "/gone", "/flaky"})
    co_await handler.run(fetch(url), 1s);
  EXPECT_EQ(handler.stats().succeeded, 2u);
  EXPECT_EQ(handler.stats().errors, 5u);
  EXPECT_EQ(handler.stats().timeouts, 1u);
  EXPECT_EQ(handler.stats().errors_by_type, (counts{{"asio.misc:2", 2}, {"std::runtime_error", 3}}));
  EXPECT_EQ(sim().now(), at(1350ms));  // seven 50ms answers and one 1s timeout
}

FAULTLINE_TEST_F(ErrorHandler, ATimeoutIsCountedApartAtTheDeadline) {
  fetch.on_call("/slow").hangs();
  fetch.on_call("/just-in-time").after(499ms).returns("ok");
  fetch.on_call("/early-failure").after(20ms).throws(std::runtime_error("503"));
  fetch.on_call("/socket").after(300ms).fails(asio::error::timed_out);  // the operation's own timeout

  auto slow = co_await handler.run(fetch("/slow"), 500ms);
  EXPECT_EQ(slow.error_type, "timeout");
  EXPECT_EQ(sim().now(), at(500ms));
  EXPECT_THAT(fetch.calls()[0], AllOf(EndedBy(call_status::cancelled), EndedAt(at(500ms))));

  EXPECT_TRUE((co_await handler.run(fetch("/just-in-time"), 500ms)).ok());
  EXPECT_EQ(sim().now(), at(999ms));
  EXPECT_EQ((co_await handler.run(fetch("/early-failure"), 500ms)).error_type, "std::runtime_error");
  EXPECT_EQ(sim().now(), at(1019ms));  // at the failure, not at the deadline
  EXPECT_EQ((co_await handler.run(fetch("/socket"))).error_type, "timeout");

  EXPECT_EQ(handler.stats().timeouts, 2u);
  EXPECT_EQ(handler.stats().errors, 1u);
  EXPECT_EQ(handler.stats().errors_by_type, (counts{{"std::runtime_error", 1}}));
}

TEST_F(ErrorHandler, CancellationPassesThroughAndIsNotCounted) {
  fetch.on_call().hangs().repeatedly();
  auto plain = sim().spawn("plain", handler.run(fetch("/a")));
  auto with_timeout = sim().spawn("with timeout", handler.run(fetch("/b"), 1s));
  sim().run_for(300ms);
  plain.cancel();
  with_timeout.cancel();
  sim().poll();
  EXPECT_THAT(plain.result(), AllOf(WasCancelled(), CompletedAt(at(300ms))));
  EXPECT_THAT(with_timeout.result(), AllOf(WasCancelled(), CompletedAt(at(300ms))));  // not a timeout
  EXPECT_THAT(fetch.calls(), ElementsAre(AllOf(EndedBy(call_status::cancelled), EndedAt(at(300ms))),
                                         AllOf(EndedBy(call_status::cancelled), EndedAt(at(300ms)))));
  EXPECT_EQ(handler.stats().errors, 0u);
  EXPECT_EQ(handler.stats().timeouts, 0u);
  EXPECT_THAT(handler.stats().errors_by_type, IsEmpty());
}

}  // namespace
