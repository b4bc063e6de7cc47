// Tests of with_timeout: an answer in time, a hang, a fault before the deadline (against the naive
// `||` version, which hides it), and a caller that cancels the whole thing.
#include "timeouts.hpp"

#include <faultline/gtest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
using namespace faultline::testing;
namespace asio = boost::asio;
using faultline::at;
using faultline::call_status;
using faultline::event_kind;
using samples::timeouts::naive_with_timeout;
using samples::timeouts::timeout_error;
using samples::timeouts::with_timeout;
using ::testing::AllOf;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class Timeouts : public sim_test {
 protected:
  faultline::async_fake<std::string(std::string)> fetch{sim(), "fetch"};
};

FAULTLINE_TEST_F(Timeouts, AnAnswerBeforeTheDeadlineIsReturnedAndTheTimerCancelled) {
  fetch.on_call().after(300ms).returns("<html>");

  auto r = co_await capture(with_timeout(fetch("/a"), 1s));

  EXPECT_THAT(r, AllOf(Returned("<html>"), CompletedAt(at(300ms))));
  EXPECT_THAT(sim().trace(), HasEvent(EventAt(at(300ms), event_kind::timer_cancelled)));
  // Only the test body itself is still running: no timer waits on.
  EXPECT_THAT(sim().pending(), Each(Field(&faultline::pending_operation::kind, "task")));
}

FAULTLINE_TEST_F(Timeouts, AHangingOperationIsCancelledAtTheDeadline) {
  fetch.on_call().hangs();

  auto r = co_await capture(with_timeout(fetch("/a"), 1s));

  EXPECT_THAT(r, AllOf(Threw<timeout_error>(HasSubstr("no result within 1000ms")), Failed(asio::error::timed_out),
                       CompletedAt(at(1s))));
  EXPECT_THAT(fetch.calls(), ElementsAre(AllOf(CalledAt(at(0ms)), EndedBy(call_status::cancelled), EndedAt(at(1s)))));
}

// This test and the next tell the two versions apart: a fault at 100ms, a 1s limit.
FAULTLINE_TEST_F(Timeouts, AFaultBeforeTheDeadlinePropagatesAtOnce) {
  fetch.on_call("/refused").after(100ms).fails(asio::error::connection_refused);
  fetch.on_call("/broken").after(100ms).throws(std::runtime_error("bad gateway"));

  auto refused = co_await capture(with_timeout(fetch("/refused"), 1s));
  EXPECT_THAT(refused, AllOf(Failed(asio::error::connection_refused), CompletedAt(at(100ms))));

  auto broken = co_await capture(with_timeout(fetch("/broken"), 1s));
  EXPECT_THAT(broken, AllOf(Threw<std::runtime_error>("bad gateway"), CompletedAt(at(200ms))));
}

FAULTLINE_TEST_F(Timeouts, NaiveOrTimeoutHidesTheFaultUntilTheDeadline) {
  fetch.on_call().after(100ms).fails(asio::error::connection_refused);

  auto r = co_await capture(naive_with_timeout(fetch("/refused"), 1s));

  // The call failed at 100ms, yet the caller hears of a timeout, 900ms later.
  EXPECT_THAT(fetch.calls(), ElementsAre(AllOf(EndedBy(call_status::failed), EndedAt(at(100ms)))));
  EXPECT_THAT(r, AllOf(Threw<timeout_error>(), CompletedAt(at(1s))));
}

FAULTLINE_TEST_F(Timeouts, BoundsOperationsWithoutAResultToo) {
  faultline::async_fake<void()> flush(sim(), "cache.flush");
  flush.on_call().after(200ms).returns().then().hangs();

  EXPECT_THAT(co_await capture(with_timeout(flush(), 1s)), AllOf(Returned(), CompletedAt(at(200ms))));
  EXPECT_THAT(co_await capture(with_timeout(flush(), 1s)), AllOf(Threw<timeout_error>(), CompletedAt(at(1200ms))));
}

TEST_F(Timeouts, CancellingTheCallerCancelsTheOperationAndTheTimer) {
  fetch.on_call().hangs();
  auto caller = sim().spawn("caller", with_timeout(fetch("/a"), 1s));

  sim().run_until(at(300ms));
  caller.cancel();
  sim().run();

  // Cancelled, not timed out: the caller's cancellation is reported as such.
  EXPECT_THAT(caller.result(), AllOf(WasCancelled(), CompletedAt(at(300ms))));
  EXPECT_THAT(fetch.calls(), ElementsAre(AllOf(EndedBy(call_status::cancelled), EndedAt(at(300ms)))));
  EXPECT_THAT(sim().trace(), HasEvent(EventAt(at(300ms), event_kind::timer_cancelled)));
  EXPECT_THAT(sim().pending(), IsEmpty());
}

}  // namespace
