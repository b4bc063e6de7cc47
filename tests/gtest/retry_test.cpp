// The adapter at work: a retry-with-timeout function tested against a gMock mock, attempt times exact.
#include <faultline/gtest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;
namespace asio = boost::asio;
using faultline::at;
using namespace faultline::testing;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::InSequence;

class http_client {
 public:
  virtual ~http_client() = default;
  virtual asio::awaitable<std::string> fetch(std::string url) = 0;
};

class mock_http_client : public http_client {
 public:
  MOCK_METHOD(asio::awaitable<std::string>, fetch, (std::string url), (override));
};

// The code under test: up to 3 attempts, each bounded by a 1s timeout, with
// a 500ms backoff between them. Asio's `||` waits for the first *success*,
// so an attempt that fails early still ends when its timeout fires.
asio::awaitable<std::string> fetch_with_retry(http_client& c, std::string url) {
  for (int attempt = 1;; ++attempt) {
    try {
      auto r = co_await (c.fetch(url) || faultline::sleep_for(1s));
      if (r.index() == 0) co_return std::get<0>(std::move(r));
    } catch (const std::exception&) {
      // both the attempt and the timer failed: count it as a failed attempt
    }
    if (attempt == 3) throw std::runtime_error("fetch " + url + ": no answer after 3 attempts");
    co_await faultline::sleep_for(500ms);
  }
}

FAULTLINE_TEST(RetryWithTimeout, RetriesAtExactInstantsUntilAnAttemptAnswers) {
  mock_http_client m;
  {
    InSequence attempts;
    EXPECT_CALL(m, fetch("/a")).With(CalledAt(at(0ms))).WillOnce(Hang());
    // Fails after 100ms, but the `||` hides it until the timeout at 2.5s.
    EXPECT_CALL(m, fetch("/a")).With(CalledAt(at(1500ms))).WillOnce(ThrowAfter(100ms, std::runtime_error("503")));
    EXPECT_CALL(m, fetch("/a")).With(CalledAt(at(3000ms))).WillOnce(ReturnAfter(200ms, "ok"));
  }
  auto r = co_await capture(fetch_with_retry(m, "/a"));
  EXPECT_THAT(r, AllOf(Returned("ok"), CompletedAt(at(3200ms))));
}

FAULTLINE_TEST(RetryWithTimeout, GivesUpAfterThreeTimeouts) {
  mock_http_client m;
  {
    InSequence attempts;
    for (auto t : {0ms, 1500ms, 3000ms}) EXPECT_CALL(m, fetch("/a")).With(CalledAt(at(t))).WillOnce(Hang());
  }
  auto r = co_await capture(fetch_with_retry(m, "/a"));
  EXPECT_THAT(r, AllOf(Threw<std::runtime_error>(HasSubstr("no answer after 3 attempts")), CompletedAt(at(4s))));
}

FAULTLINE_TEST(RetryWithTimeout, AnAnswerInTimeNeedsNoRetry) {
  mock_http_client m;
  EXPECT_CALL(m, fetch("/a")).With(CalledAt(at(0ms))).WillOnce(ReturnAfter(999ms, "fast"));
  auto r = co_await capture(fetch_with_retry(m, "/a"));
  EXPECT_THAT(r, AllOf(Returned("fast"), CompletedWithin(1s)));
}

FAULTLINE_TEST(RetryWithTimeout, ErrorsAndCancellationsAreRetriedToo) {
  mock_http_client m;
  {
    InSequence attempts;
    EXPECT_CALL(m, fetch("/a")).With(CalledAt(at(0ms))).WillOnce(FailAfter(10ms, asio::error::connection_refused));
    EXPECT_CALL(m, fetch("/a")).With(CalledAt(at(1500ms))).WillOnce(CancelAfter(10ms));
    EXPECT_CALL(m, fetch("/a")).With(CalledAt(at(3000ms))).WillOnce(ReturnImmediately("at once"));
  }
  CO_ASSERT_EQ(co_await fetch_with_retry(m, "/a"), "at once");
  EXPECT_EQ(sim().now(), at(3000ms));
}

TEST(RetryWithTimeout, AnAttemptAtTheWrongInstantFailsNamingBothInstants) {
  faultline::sim_context sim;
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    mock_http_client m;
    InSequence attempts;
    EXPECT_CALL(m, fetch("/a")).With(CalledAt(at(0ms))).WillOnce(Hang());
    // Wrong on purpose: the second attempt comes after the 1s timeout and the 500ms backoff.
    EXPECT_CALL(m, fetch("/a")).With(CalledAt(at(1200ms))).WillRepeatedly(ReturnAfter(1ms, "ok"));
    sim.run(fetch_with_retry(m, "/a"));
  }
  std::string all;
  for (int i = 0; i < failures.size(); ++i) all += failures.GetTestPartResult(i).message() + std::string("\n");
  EXPECT_THAT(all, HasSubstr("Unexpected mock function call"));
  EXPECT_THAT(all, HasSubstr("Expected args: was called at t=1.200s\n           Actual: don't match, which is made at "
                             "t=1.500s, 0.300s late"));
}

}  // namespace
