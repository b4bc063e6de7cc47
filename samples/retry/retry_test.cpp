// Tests of retry: attempt instants under capped exponential backoff and injected jitter, errors that
// are not retried (non-retryable, cancellation), exhaustion, and cancellation during a backoff.
#include "retry.hpp"

#include <faultline/gtest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace faultline::testing;
namespace asio = boost::asio;
using faultline::at;
using samples::retry::retry;
using samples::retry::retry_on;
using samples::retry::retry_policy;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class Retry : public sim_test {
 protected:
  faultline::async_fake<std::string(std::string)> fetch{sim(), "fetch"};

  // The code under test: fetching "/a", retried as `policy` says.
  asio::awaitable<std::string> fetch_with_retry(const retry_policy& policy) {
    return retry([this] { return fetch("/a"); }, policy);
  }

  // When each attempt started.
  std::vector<faultline::sim_clock::time_point> attempts() const {
    std::vector<faultline::sim_clock::time_point> v;
    for (const auto& c : fetch.calls()) v.push_back(c.started);
    return v;
  }
};

FAULTLINE_TEST_F(Retry, RetriesWithExponentialBackoffUntilAnAttemptSucceeds) {
  fetch.on_call().fails(asio::error::connection_refused).times(3).then().after(200ms).returns("<html>");

  auto r = co_await capture(fetch_with_retry({.max_attempts = 4, .initial_delay = 1s, .multiplier = 2.0}));

  EXPECT_THAT(r, AllOf(Returned("<html>"), CompletedAt(at(7200ms))));
  EXPECT_THAT(attempts(), ElementsAre(at(0s), at(1s), at(3s), at(7s)));
}

FAULTLINE_TEST_F(Retry, WaitsAreCappedAndExhaustionRethrowsTheLastError) {
  fetch.on_call().fails(asio::error::connection_refused).times(5).then().fails(asio::error::timed_out);

  auto r = co_await capture(fetch_with_retry({.max_attempts = 6, .max_delay = 5s}));

  // Waits of 1s, 2s, 4s, then 5s and 5s instead of 8s and 16s.
  EXPECT_THAT(attempts(), ElementsAre(at(0s), at(1s), at(3s), at(7s), at(12s), at(17s)));
  EXPECT_THAT(r, AllOf(Failed(asio::error::timed_out), CompletedAt(at(17s))));
}

FAULTLINE_TEST_F(Retry, ANonRetryableErrorStopsAtOnce) {
  fetch.on_call().fails(asio::error::connection_refused).then().after(50ms).fails(asio::error::access_denied);

  retry_policy policy{.max_attempts = 5, .retryable = retry_on({asio::error::connection_refused})};

  auto r = co_await capture(fetch_with_retry(policy));

  EXPECT_THAT(attempts(), ElementsAre(at(0s), at(1s)));
  EXPECT_THAT(r, AllOf(Failed(asio::error::access_denied), CompletedAt(at(1050ms))));
}

FAULTLINE_TEST_F(Retry, JitterScalesEachWaitAsTheGeneratorSays) {
  fetch.on_call().fails(asio::error::connection_refused).repeatedly();
  std::vector<double> draws{0.5, 0.25, 1.0};
  std::size_t drawn = 0;

  auto r = co_await capture(fetch_with_retry({.max_attempts = 4, .jitter = [&] { return draws.at(drawn++); }}));

  // Waits of 1s * 0.5, 2s * 0.25 and 4s * 1.0; no draw after the last attempt.
  EXPECT_THAT(attempts(), ElementsAre(at(0ms), at(500ms), at(1000ms), at(5000ms)));
  EXPECT_EQ(drawn, 3u);
  EXPECT_THAT(r, AllOf(Failed(asio::error::connection_refused), CompletedAt(at(5s))));
}

FAULTLINE_TEST_F(Retry, AnAttemptThatWasCancelledIsNotRetried) {
  fetch.on_call().after(100ms).cancels();

  auto r = co_await capture(fetch_with_retry({.max_attempts = 3}));

  EXPECT_THAT(r, AllOf(WasCancelled(), CompletedAt(at(100ms))));
  EXPECT_EQ(fetch.call_count(), 1u);
}

FAULTLINE_TEST_F(Retry, RejectsAPolicyWithoutAttempts) {
  auto r = co_await capture(fetch_with_retry({.max_attempts = 0}));

  EXPECT_THAT(r, AllOf(Threw<std::invalid_argument>(HasSubstr("max_attempts must be at least 1, got 0")),
                       CompletedAt(at(0s))));
  EXPECT_EQ(fetch.call_count(), 0u);
}

TEST_F(Retry, CancellationDuringABackoffStopsRetryingAtOnce) {
  fetch.on_call().fails(asio::error::connection_refused).repeatedly();
  retry_policy policy{.max_attempts = 3};
  auto caller = sim().spawn("caller", fetch_with_retry(policy));

  sim().run_until(at(500ms));  // inside the first wait, which ends at 1s
  caller.cancel();
  sim().run();

  EXPECT_THAT(caller.result(), AllOf(WasCancelled(), CompletedAt(at(500ms))));
  EXPECT_THAT(attempts(), ElementsAre(at(0s)));
}

}  // namespace
