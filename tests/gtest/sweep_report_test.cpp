// Tests of what the chaos macros print and keep: one-line summaries, one report per failure, the
// fault table, crash notes and child-process sweeps, seed logs, and regression files.
#include <faultline/gtest/chaos.hpp>

#include <faultline/gtest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using namespace faultline::testing;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

using report_fake = faultline::async_fake<std::string(std::string)>;

class report_runner : public chaos_test {
 public:
  void TestBody() override {}
  using chaos_test::run_chaos;
  using chaos_test::run_fault_pairs;
  using chaos_test::run_single_faults;
};

// Sets an environment variable for one scope.
class scoped_env {
 public:
  scoped_env(const char* name, const std::string& value) : name_(name) { ::setenv(name, value.c_str(), 1); }
  ~scoped_env() { ::unsetenv(name_); }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

 private:
  const char* name_;
};

// Three attempts; `buggy` gives up after the second failure. Counts the body's runs.
asio::awaitable<void> three_attempts(report_runner& t, bool buggy, int& runs) {
  ++runs;
  report_fake fetch(t.sim(), "fetch");
  fetch.on_call().after(10ms).returns("ok").repeatedly();
  int failed = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto r = co_await capture(fetch("/a"));
    if (r.has_value()) co_return;
    ++failed;
    if (buggy && failed == 2) break;
    co_await faultline::sleep_for(100ms);
  }
  EXPECT_EQ(failed, 3) << "gave up after " << failed << " failed attempts";
}

faultline::sweep_options errors(double rate) {
  faultline::sweep_options o;
  o.plan.point("fetch", faultline::fault_rates().error(rate));
  return o;
}

std::string read_text(const std::string& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(ChaosReport, APassingSweepPrintsOneSummaryLine) {
  const scoped_env seeds("FAULTLINE_SEEDS", "20");
  report_runner t;
  int runs = 0;
  ::testing::internal::CaptureStdout();
  t.run_chaos(errors(0.2), [&] { return three_attempts(t, false, runs); });
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(runs, 20);
  EXPECT_EQ(count(out, "\n"), 1) << out;
  EXPECT_THAT(out, StartsWith("[ chaos    ] ChaosReport.APassingSweepPrintsOneSummaryLine: 20 seeds passed ("));
  EXPECT_THAT(out, HasSubstr(" error; fetch "));  // faults by kind, then calls per point
}

TEST(ChaosReport, ABudgetOfSeedsOrWallTimeBoundsTheSweep) {
  report_runner t;
  int runs = 0;
  {
    const scoped_env budget("FAULTLINE_SWEEP_BUDGET", "25");
    ::testing::internal::CaptureStdout();
    t.run_chaos(errors(0.2), [&] { return three_attempts(t, false, runs); });
    EXPECT_THAT(::testing::internal::GetCapturedStdout(), HasSubstr(": 25 seeds passed ("));
    EXPECT_EQ(runs, 25);
  }
  {
    // Seeds until a second of wall time is spent: many, and each at most once.
    const scoped_env budget("FAULTLINE_SWEEP_BUDGET", "1s");
    runs = 0;
    ::testing::internal::CaptureStdout();
    t.run_chaos(errors(0.2), [&] { return three_attempts(t, false, runs); });
    EXPECT_THAT(::testing::internal::GetCapturedStdout(), HasSubstr(" seeds passed ("));
    EXPECT_GT(runs, 25);
  }
  const scoped_env budget("FAULTLINE_SWEEP_BUDGET", "10x");
  EXPECT_NONFATAL_FAILURE(t.run_chaos(errors(0.2), [&] { return three_attempts(t, false, runs); }),
                          "FAULTLINE_SWEEP_BUDGET=\"10x\" is not a budget; set a number of seeds");
}

TEST(ChaosReport, AFailingSweepIsReportedOnceWithTheMinimalScheduleInCallOrder) {
  report_runner t;
  int runs = 0;
  ::testing::TestPartResultArray results;
  ::testing::internal::CaptureStdout();
  {
    ::testing::ScopedFakeTestPartResultReporter collect(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
    t.run_chaos(errors(0.5), [&] { return three_attempts(t, true, runs); });
  }
  const std::string out = ::testing::internal::GetCapturedStdout();
  ASSERT_EQ(results.size(), 2);  // the report, then the minimal schedule's replay
  const std::string report = results.GetTestPartResult(0).message();
  EXPECT_THAT(report, StartsWith("faultline: chaos sweep failed at seed "));
  EXPECT_THAT(report, HasSubstr("minimal schedule (2 faults"));
  EXPECT_THAT(report, HasSubstr("replay: FAULTLINE_SCHEDULE='fetch#0=error;fetch#1=error'"));
  EXPECT_THAT(results.GetTestPartResult(1).message(), HasSubstr("gave up after 2 failed attempts"));
  EXPECT_EQ(count(out, "chaos sweep failed"), 0) << out;  // not printed a second time
  EXPECT_EQ(count(out, " seed "), 0) << out;              // no line per seed
}

TEST(ChaosReport, AFaultSweepListsEveryFailingFaultInOneTable) {
  report_runner t;
  faultline::single_fault_options o;
  o.kinds = {faultline::fault_kind::error, faultline::fault_kind::latency};
  o.latencies = {5ms, 2s};
  int runs = 0;
  ::testing::TestPartResultArray results;
  {
    ::testing::ScopedFakeTestPartResultReporter collect(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
    t.run_single_faults(o, [&]() -> asio::awaitable<void> {
      ++runs;
      report_fake fetch(t.sim(), "fetch");
      fetch.on_call().after(10ms).returns("ok").repeatedly();
      for (int i = 0; i < 2; ++i) {
        auto r = co_await capture(fetch("/a"));
        EXPECT_THAT(r, Returned("ok"));
        EXPECT_LT(r.completed_at() - faultline::at(0ms), 1s) << "call " << i << " too slow";
      }
    });
  }
  // 1 fault-free run, 2 calls x (1 error + 2 latencies), then the first failure's replay.
  EXPECT_EQ(runs, 1 + 6 + 1);
  ASSERT_EQ(results.size(), 2);
  const std::string report = results.GetTestPartResult(0).message();
  EXPECT_THAT(report, StartsWith("faultline: single-fault sweep failed: 4 of 6 faulted runs failed:\n"
                                 "  fault                ended     failure (first line)\n"
                                 "  fetch#0=error        t=0.020s  Value of: r\n"
                                 "  fetch#0=latency(2s)  t=2.020s  Expected: (r.completed_at() - faultline::at(0ms)) < (1s)"));
  EXPECT_THAT(report, HasSubstr("\n  fetch#1=error        t=0.020s  Value of: r\n"
                                "  fetch#1=latency(2s)  t=2.020s  Expected: "));
  EXPECT_THAT(report, Not(HasSubstr("latency(5ms)")));
  // The body's own failure on replay reads as itself, not "Failed\n...".
  EXPECT_THAT(results.GetTestPartResult(1).message(), Not(StartsWith("Failed")));
}

TEST(ChaosReport, MisspeltPointsAndNoKindsAreRejectedWithTheFix) {
  report_runner t;
  faultline::single_fault_options o;
  o.points = {"fecth"};
  auto body = [&]() -> asio::awaitable<void> {
    report_fake fetch(t.sim(), "fetch");
    fetch.on_call().returns("ok").repeatedly();
    co_await fetch("/a");
  };
  EXPECT_NONFATAL_FAILURE(t.run_single_faults(o, body),
                          "options.points names \"fecth\", which the fault-free run never called (it called: fetch 1 call)");
  o.points.clear();
  o.kinds.clear();
  EXPECT_NONFATAL_FAILURE(t.run_fault_pairs(o, body), "options.kinds is empty; name at least one fault_kind");
}

// A body that crashes when a call fails: the bug a child process catches.
asio::awaitable<void> aborts_on_failure(report_runner& t) {
  report_fake fetch(t.sim(), "fetch");
  fetch.on_call().after(10ms).returns("ok").repeatedly();
  for (int i = 0; i < 3; ++i) {
    auto r = co_await capture(fetch("/a"));
    if (!r.has_value()) std::abort();
  }
}

TEST(ChaosCrash, AFatalSignalInProcessNamesTheRunningSeedAndItsReplay) {
  EXPECT_DEATH(
      {
        const scoped_env seeds("FAULTLINE_SEEDS", "50");
        report_runner t;
        t.run_chaos(errors(0.3), [&] { return aborts_on_failure(t); });
      },
      "faultline: SIGABRT during ChaosCrash.AFatalSignalInProcessNamesTheRunningSeedAndItsReplay, running seed "
      "[0-9]+\n  replay: FAULTLINE_SEED=[0-9]+ ");
}

TEST(ChaosCrash, AChildProcessSweepReportsMinimisesAndLogsACrash) {
  const std::string log = ::testing::TempDir() + "faultline_crash_seed_log.txt";
  std::filesystem::remove(log);
  const scoped_env isolate("FAULTLINE_ISOLATE", "1");
  const scoped_env seed_log("FAULTLINE_SEED_LOG", log);
  report_runner t;
  ::testing::TestPartResultArray results;
  {
    ::testing::ScopedFakeTestPartResultReporter collect(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
    t.run_chaos(errors(0.3), [&] { return aborts_on_failure(t); });
  }
  ASSERT_EQ(results.size(), 1);  // the report alone: a crash is not replayed in-process
  const std::string report = results.GetTestPartResult(0).message();
  EXPECT_THAT(report, HasSubstr("crashed with SIGABRT (in a child process)"));
  EXPECT_THAT(report, HasSubstr("minimal schedule (1 fault"));
  EXPECT_THAT(report, HasSubstr("replay: FAULTLINE_SCHEDULE='fetch#0=error' FAULTLINE_SEED="));
  // Every seed, and every schedule minimisation tried, was logged before it ran.
  const std::string logged = read_text(log);
  EXPECT_THAT(logged, StartsWith("ChaosCrash.AChildProcessSweepReportsMinimisesAndLogsACrash seed 1\n"));
  EXPECT_THAT(logged, HasSubstr("ChaosCrash.AChildProcessSweepReportsMinimisesAndLogsACrash schedule fetch#0=error\n"));
}

TEST(ChaosRegressions, AFailureIsAppendedReplayedFirstAndKeptAfterTheFix) {
  const std::string dir = ::testing::TempDir() + "faultline_regressions";
  std::filesystem::remove_all(dir);
  const scoped_env regressions("FAULTLINE_REGRESSIONS_DIR", dir);
  const scoped_env seeds("FAULTLINE_SEEDS", "30");
  const std::string file = dir + "/ChaosRegressions.AFailureIsAppendedReplayedFirstAndKeptAfterTheFix.txt";
  auto sweep = [](bool buggy, int& runs) {
    report_runner t;
    ::testing::TestPartResultArray results;
    ::testing::ScopedFakeTestPartResultReporter collect(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
    ::testing::internal::CaptureStdout();
    t.run_chaos(errors(0.5), [&] { return three_attempts(t, buggy, runs); });
    ::testing::internal::GetCapturedStdout();
    return results.size() == 0 ? std::string() : std::string(results.GetTestPartResult(0).message());
  };
  int runs = 0;
  const std::string found = sweep(true, runs);
  ASSERT_THAT(found, HasSubstr("chaos sweep failed at seed "));
  const std::string recorded = read_text(file);
  ASSERT_THAT(recorded, ::testing::MatchesRegex("seed [0-9]+: fetch#0=error;fetch#1=error\n"));

  // Next run: the known failure replays first and fails fast, before any new seed.
  runs = 0;
  const std::string again = sweep(true, runs);
  EXPECT_THAT(again, StartsWith("faultline: a known failure fails again: " + file + ":1 (seed "));
  EXPECT_THAT(again, HasSubstr("fetch#0=error;fetch#1=error), before any new seed ran"));
  EXPECT_EQ(runs, 2);  // the regression, then its replay with the timeline
  EXPECT_EQ(read_text(file), recorded);

  // Fixed: the regression passes, then the sweep; the file stays as it was.
  runs = 0;
  EXPECT_EQ(sweep(false, runs), "");
  EXPECT_EQ(runs, 1 + 30);
  EXPECT_EQ(read_text(file), recorded);
  std::filesystem::remove_all(dir);
}

}  // namespace
