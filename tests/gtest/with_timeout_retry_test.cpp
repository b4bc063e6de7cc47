// The docs' retry example (docs/gtest.md, docs/time-and-timeouts.md): each attempt bounded by
// faultline::with_timeout, which surfaces an attempt's failure at once where `||` waits for the
// timer; and a FAULTLINE_TEST body that joins background work with task::wait().
#include <faultline/gtest.hpp>
#include <faultline/with_timeout.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::at;
using namespace faultline::testing;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::InSequence;

class client {
 public:
  virtual ~client() = default;
  virtual asio::awaitable<std::string> fetch(std::string url) = 0;
};

class mock_client : public client {
 public:
  MOCK_METHOD(asio::awaitable<std::string>, fetch, (std::string url), (override));
};

// Up to 3 attempts, each bounded by a 1s timeout, with a 500ms backoff.
asio::awaitable<std::string> fetch_with_retry(client& c, std::string url) {
  for (int attempt = 1;; ++attempt) {
    try {
      co_return co_await faultline::with_timeout(c.fetch(url), 1s);
    } catch (const std::exception&) {
      // timed_out, or the attempt's own failure at the instant it happened. A
      // cancelled caller stops at the next co_await, which throws operation_aborted.
    }
    if (attempt == 3) throw std::runtime_error("fetch " + url + ": no answer after 3 attempts");
    co_await faultline::sleep_for(500ms);
  }
}

FAULTLINE_TEST(RetryWithWithTimeout, AFailedAttemptIsRetriedAtOnceNotAtItsTimeout) {
  mock_client m;
  {
    InSequence attempts;
    EXPECT_CALL(m, fetch("/a")).With(CalledAt(at(0ms))).WillOnce(Hang());  // timed out at 1s
    // Fails at 1.6s and is seen at 1.6s (with `||`, at the timeout: 2.5s).
    EXPECT_CALL(m, fetch("/a")).With(CalledAt(at(1500ms))).WillOnce(ThrowAfter(100ms, std::runtime_error("503")));
    EXPECT_CALL(m, fetch("/a")).With(CalledAt(at(2100ms))).WillOnce(ReturnAfter(200ms, "ok"));
  }
  auto r = co_await capture(fetch_with_retry(m, "/a"));
  EXPECT_THAT(r, AllOf(Returned("ok"), CompletedAt(at(2300ms))));
}

FAULTLINE_TEST(RetryWithWithTimeout, GivesUpAfterThreeTimeouts) {
  mock_client m;
  {
    InSequence attempts;
    for (auto t : {0ms, 1500ms, 3000ms}) EXPECT_CALL(m, fetch("/a")).With(CalledAt(at(t))).WillOnce(Hang());
  }
  auto r = co_await capture(fetch_with_retry(m, "/a"));
  EXPECT_THAT(r, AllOf(Threw<std::runtime_error>(HasSubstr("no answer after 3 attempts")), CompletedAt(at(4s))));
}

FAULTLINE_TEST(TaskWaitInATest, TheBodyJoinsBackgroundWork) {
  mock_client m;
  EXPECT_CALL(m, fetch("/warm")).WillOnce(ReturnAfter(300ms, "warm"));
  auto warmup = sim().spawn("warmup", fetch_with_retry(m, "/warm"));
  co_await faultline::sleep_for(100ms);
  CO_ASSERT_FALSE(warmup.done());
  EXPECT_EQ(co_await warmup.wait(), "warm");
  EXPECT_EQ(sim().now(), at(300ms));
}

FAULTLINE_TEST(TaskWaitInATest, AFailureOfTheJoinedTaskReachesTheBody) {
  mock_client m;
  EXPECT_CALL(m, fetch("/down")).Times(3).WillRepeatedly(ThrowAfter(10ms, std::runtime_error("503")));
  auto job = sim().spawn("job", fetch_with_retry(m, "/down"));
  CO_ASSERT_THROW(co_await job.wait(), std::runtime_error);
  EXPECT_EQ(sim().now(), at(1030ms));  // 10ms + 500ms + 10ms + 500ms + 10ms
}

}  // namespace
