// Tests of FAULTLINE_CHAOS_TEST, FAULTLINE_FAULT_SWEEP_TEST and the ChaosReturnAfter action.
#include <faultline/gtest/chaos.hpp>

#include <faultline/gtest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include <cstdlib>
#include <string>

namespace {

using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;
namespace asio = boost::asio;
using faultline::at;
using namespace faultline::testing;
using ::testing::HasSubstr;
using ::testing::Not;

using fetch_fake = faultline::async_fake<std::string(std::string)>;

// Up to 4 attempts, each bounded by 1s, 100ms apart. `buggy` gives up after
// the third failure: the kind of off-by-one a chaos sweep exists to find.
asio::awaitable<std::string> fetch_with_retry(fetch_fake& fetch, bool buggy) {
  for (int attempt = 0;; ++attempt) {
    try {
      auto r = co_await (fetch("/a") || faultline::sleep_for(1s));
      if (r.index() == 0) co_return std::get<0>(std::move(r));
    } catch (const boost::system::system_error&) {
    }
    if (attempt == 3 || (buggy && attempt == 2)) throw std::runtime_error("no answer");
    co_await faultline::sleep_for(100ms);
  }
}

int failed_calls(const fetch_fake& fetch) {
  int n = 0;
  for (const auto& c : fetch.calls()) n += c.status != faultline::call_status::returned;
  return n;
}

faultline::chaos_plan fetch_plan() {
  return faultline::chaos_plan().point(
      "fetch", faultline::fault_rates().error(0.3).hang(0.05).latency(faultline::latency_dist::uniform(1ms, 50ms, 0.5)));
}

FAULTLINE_CHAOS_TEST(ChaosMacro, RetryAnswersWhenAnyOfFourAttemptsDoes, fetch_plan()) {
  fetch_fake fetch(sim(), "fetch");
  fetch.on_call().after(10ms).returns("ok").repeatedly();
  auto r = co_await capture(fetch_with_retry(fetch, false));
  if (failed_calls(fetch) < 4) {
    EXPECT_THAT(r, Returned("ok"));
  } else {
    EXPECT_THAT(r, Threw<std::runtime_error>());
  }
}

FAULTLINE_FAULT_SWEEP_TEST(ChaosMacro, RetrySurvivesAnySingleFault) {
  fetch_fake fetch(sim(), "fetch");
  fetch.on_call().after(10ms).returns("ok").repeatedly();
  auto r = co_await capture(fetch_with_retry(fetch, false));
  EXPECT_THAT(r, Returned("ok"));
}

// Exposes the sweeps so a test can run one under a failure collector.
class sweep_runner : public chaos_test {
 public:
  void TestBody() override {}
  using chaos_test::run_chaos;
  using chaos_test::run_single_faults;
};

std::string failures_of(const ::testing::TestPartResultArray& results) {
  std::string s;
  for (int i = 0; i < results.size(); ++i) s += std::string(results.GetTestPartResult(i).message()) + "\n";
  return s;
}

asio::awaitable<void> buggy_body(sweep_runner& t) {
  fetch_fake fetch(t.sim(), "fetch");
  fetch.on_call().after(10ms).returns("ok").repeatedly();
  auto r = co_await capture(fetch_with_retry(fetch, true));
  if (failed_calls(fetch) < 4) {
    EXPECT_THAT(r, Returned("ok"));
  }
}

TEST(ChaosMacro, AFailingSweepReportsSeedMinimalScheduleAndReplayCommand) {
  sweep_runner t;
  ::testing::TestPartResultArray results;
  {
    ::testing::ScopedFakeTestPartResultReporter collect(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
    faultline::sweep_options o;
    o.plan.point("fetch", faultline::fault_rates().error(0.4));
    t.run_chaos(o, [&t] { return buggy_body(t); });
  }
  const std::string out = failures_of(results);
  ASSERT_GE(results.size(), 2) << out;  // the report, then the minimal schedule's own failure
  EXPECT_THAT(out, HasSubstr("chaos sweep failed at seed "));
  EXPECT_THAT(out, HasSubstr("minimal schedule (3 faults"));
  EXPECT_THAT(out, HasSubstr("replay: FAULTLINE_SCHEDULE='fetch#0=error;fetch#1=error;fetch#2=error' FAULTLINE_SEED="));
  EXPECT_THAT(out, HasSubstr("--gtest_filter="));
  EXPECT_THAT(out, HasSubstr("threw std::runtime_error: no answer"));  // the replayed failure itself
}

TEST(ChaosMacro, ASingleFaultSweepNamesEveryFaultThatBreaksIt) {
  sweep_runner t;
  ::testing::TestPartResultArray results;
  {
    ::testing::ScopedFakeTestPartResultReporter collect(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
    // Without the 1s bound a hang at the first call stalls the body.
    t.run_single_faults({}, [&t]() -> asio::awaitable<void> {
      fetch_fake fetch(t.sim(), "fetch");
      fetch.on_call().after(10ms).returns("ok").repeatedly();
      co_await fetch("/a");
    });
  }
  const std::string out = failures_of(results);
  // Every failing fault, one row each; a latency alone does not break it.
  EXPECT_THAT(out, HasSubstr("single-fault sweep failed: 3 of 4 faulted runs failed"));
  EXPECT_THAT(out, HasSubstr("  fetch#0=error "));
  EXPECT_THAT(out, HasSubstr("  fetch#0=hang "));
  EXPECT_THAT(out, HasSubstr("  fetch#0=cancel "));
  EXPECT_THAT(out, Not(HasSubstr("fetch#0=latency")));
  EXPECT_THAT(out, HasSubstr("replay: FAULTLINE_SCHEDULE='fetch#0=error'"));
}

TEST(ChaosMacro, AScheduleFromTheEnvironmentReplaysExactlyThatSchedule) {
  ::setenv("FAULTLINE_SCHEDULE", "fetch#0=error;fetch#1=hang", 1);
  sweep_runner t;
  std::string calls;
  ::testing::TestPartResultArray results;
  {
    ::testing::ScopedFakeTestPartResultReporter collect(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
    t.run_chaos(chaos_test_options(fetch_plan()), [&]() -> asio::awaitable<void> {
      fetch_fake fetch(t.sim(), "fetch");
      fetch.on_call().after(10ms).returns("ok").repeatedly();
      auto r = co_await capture(fetch_with_retry(fetch, false));
      for (const auto& c : fetch.calls()) calls += c.describe() + "\n";
      // The error at 10ms waits for the 1s bound (`||` waits for a success),
      // 100ms backoff, the hang cut by the bound at 2.1s, 100ms backoff, 10ms answer.
      EXPECT_THAT(r, CompletedAt(at(2210ms)));
    });
  }
  ::unsetenv("FAULTLINE_SCHEDULE");
  EXPECT_EQ(results.size(), 0) << failures_of(results);
  EXPECT_THAT(calls, HasSubstr("fetch(\"/a\") at t=1.100s -> cancelled at t=2.100s"));
}

TEST(ChaosMacro, AMalformedEnvironmentFailsNamingTheVariable) {
  ::setenv("FAULTLINE_SEEDS", "many", 1);
  sweep_runner t;
  EXPECT_NONFATAL_FAILURE(
      {
        sweep_runner r;
        r.run_chaos(chaos_test_options(fetch_plan()), []() -> asio::awaitable<void> { co_return; });
      },
      "FAULTLINE_SEEDS=\"many\" is not a positive number of seeds");
  ::unsetenv("FAULTLINE_SEEDS");
}

class mock_db {
 public:
  MOCK_METHOD(asio::awaitable<bool>, commit, (int id));
};

FAULTLINE_TEST(ChaosAction, ChaosReturnAfterFollowsTheSimsSchedule) {
  faultline::chaos(sim()).replay(faultline::fault_schedule::parse(
      "db.commit#1=error(timed_out);db.commit#2=latency(40ms);db.commit#3=cancel;db.commit#5=hang;"
      "db.commit#6=exception"));
  mock_db db;
  EXPECT_CALL(db, commit(::testing::_)).WillRepeatedly(ChaosReturnAfter("db.commit", 5ms, true));
  std::vector<faultline::outcome<bool>> got;
  for (int i = 0; i < 5; ++i) got.push_back(co_await capture(db.commit(i)));
  // A hang ends only by cancellation: here, a 1s bound.
  auto race = [](mock_db& d) -> asio::awaitable<std::size_t> {
    auto r = co_await (d.commit(5) || faultline::sleep_for(1s));
    co_return r.index();
  };
  auto bounded = co_await capture(race(db));
  EXPECT_THAT(bounded, Returned(1u));  // the bound won and cancelled the hanging call
  EXPECT_THAT(bounded, CompletedAt(at(1065ms)));
  EXPECT_THAT(co_await capture(db.commit(6)), Threw<std::runtime_error>(HasSubstr("db.commit call #6")));
  EXPECT_THAT(got[0], Returned(true));
  EXPECT_THAT(got[0], CompletedAt(at(5ms)));
  EXPECT_THAT(got[1], Failed(asio::error::timed_out));
  EXPECT_THAT(got[1], CompletedAt(at(10ms)));
  EXPECT_THAT(got[2], CompletedAt(at(55ms)));
  EXPECT_THAT(got[3], WasCancelled());
  EXPECT_THAT(got[4], CompletedAt(at(65ms)));
  EXPECT_EQ(faultline::chaos(sim()).coverage().at("db.commit").calls, 7u);
  EXPECT_THAT(sim().trace(), HasEvent(EventAt(at(10ms), faultline::event_kind::fault)));
}

FAULTLINE_TEST(ChaosAction, ChaosReturnAfterWithoutChaosIsReturnAfter) {
  mock_db db;
  EXPECT_CALL(db, commit(1)).WillOnce(ChaosReturnAfter("db.commit", 5ms, true));
  auto r = co_await capture(db.commit(1));
  EXPECT_THAT(r, Returned(true));
  EXPECT_THAT(r, CompletedAt(at(5ms)));
}

}  // namespace
