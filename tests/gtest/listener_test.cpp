// Tests of the failure-timeline listener: what it prints (against golden files), when, and how often.
#include <faultline/gtest/listener.hpp>

#include <faultline/gtest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
using faultline::testing::timeline_listener;

// Compares `actual` with tests/gtest/golden/<name> exactly. With
// FAULTLINE_UPDATE_GOLDEN=1 in the environment it rewrites the file instead.
void expect_golden(const std::string& name, const std::string& actual) {
  const std::string path = std::string(FAULTLINE_GOLDEN_DIR) + "/" + name;
  if (const char* update = std::getenv("FAULTLINE_UPDATE_GOLDEN"); update && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "cannot read " << path << "; run with FAULTLINE_UPDATE_GOLDEN=1 to create it";
  std::stringstream golden;
  golden << in.rdbuf();
  EXPECT_EQ(actual, golden.str()) << "the printed timeline differs from " << path
                                  << "; if the change is intended, rerun with FAULTLINE_UPDATE_GOLDEN=1";
}

// A fetch that fails, a backoff, and a retry that succeeds.
void retry_scenario(faultline::sim_context& sim, faultline::async_fake<std::string(std::string)>& fetch) {
  fetch.on_call().after(100ms).throws(std::runtime_error("boom")).then().after(50ms).returns("ok");
  sim.run([&]() -> asio::awaitable<std::string> {
    try {
      co_return co_await fetch("/a");
    } catch (const std::runtime_error&) {
    }
    co_await faultline::sleep_for(500ms);
    co_return co_await fetch("/a");
  });
}

::testing::TestPartResult failure() {
  return ::testing::TestPartResult(::testing::TestPartResult::kNonFatalFailure, "here.cpp", 1, "x");
}

const ::testing::TestInfo& this_test() { return *::testing::UnitTest::GetInstance()->current_test_info(); }

TEST(TimelineListener, PrintsEachLiveSimOnceAtTheFirstFailure) {
  faultline::sim_context quiet;
  quiet.run(faultline::sleep_for(2s));
  faultline::sim_context busy;
  faultline::async_fake<std::string(std::string)> fetch(busy, "fetch");
  retry_scenario(busy, fetch);

  std::ostringstream out;
  timeline_listener l(6, &out);
  l.OnTestStart(this_test());
  l.OnTestPartResult(failure());
  expect_golden("listener_two_sims.txt", out.str());

  const auto printed = out.str();
  l.OnTestPartResult(failure());  // the same test: already shown
  EXPECT_EQ(out.str(), printed);

  l.OnTestEnd(this_test());
  l.OnTestStart(this_test());  // the next test shows them again
  l.OnTestPartResult(failure());
  EXPECT_EQ(out.str(), printed + printed);
}

TEST(TimelineListener, IgnoresSuccessesAndSkipsAndCanBeSwitchedOff) {
  faultline::sim_context sim;
  sim.run(faultline::sleep_for(1s));
  std::ostringstream out;
  timeline_listener l(10, &out);
  l.OnTestStart(this_test());
  l.OnTestPartResult(::testing::TestPartResult(::testing::TestPartResult::kSuccess, "here.cpp", 1, ""));
  l.OnTestPartResult(::testing::TestPartResult(::testing::TestPartResult::kSkip, "here.cpp", 1, ""));
  EXPECT_EQ(out.str(), "");
  l.set_events(0);
  l.OnTestPartResult(failure());
  EXPECT_EQ(out.str(), "");
  l.set_events(3);
  EXPECT_EQ(l.events(), 3u);
  l.OnTestPartResult(::testing::TestPartResult(::testing::TestPartResult::kFatalFailure, "here.cpp", 1, "x"));
  EXPECT_THAT(out.str(), ::testing::StartsWith("[ timeline ] sim 1 of 1 at t=1.000s, last 3 of 4 events:\n"));
}

TEST(TimelineListener, SaysWhenTheTraceKeptFewerEventsThanHappened) {
  faultline::sim_options o;
  o.trace_capacity = 4;
  faultline::sim_context sim(o);
  faultline::async_fake<std::string(std::string)> fetch(sim, "fetch");
  retry_scenario(sim, fetch);
  std::ostringstream out;
  faultline::testing::print_timeline(out, sim, 100, 2, 3);
  expect_golden("listener_capacity.txt", out.str());

  faultline::sim_context empty;
  std::ostringstream none;
  faultline::testing::print_timeline(none, empty, 10);
  EXPECT_EQ(none.str(), "[ timeline ] sim 1 of 1 at t=0.000s, no events\n");
}

TEST(TimelineListener, TheEventCountComesFromTheEnvironment) {
  ::unsetenv("FAULTLINE_TIMELINE_EVENTS");
  EXPECT_EQ(faultline::testing::timeline_events_from_env(), 30u);
  ::setenv("FAULTLINE_TIMELINE_EVENTS", "12", 1);
  EXPECT_EQ(faultline::testing::timeline_events_from_env(), 12u);
  ::setenv("FAULTLINE_TIMELINE_EVENTS", "0", 1);
  EXPECT_EQ(faultline::testing::timeline_events_from_env(), 0u);
  ::setenv("FAULTLINE_TIMELINE_EVENTS", "many", 1);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(faultline::testing::timeline_events_from_env(), 30u);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "faultline: FAULTLINE_TIMELINE_EVENTS=\"many\" is not a number of events; using 30 (set a whole number, "
            "or 0 to switch failure timelines off)\n");
  ::unsetenv("FAULTLINE_TIMELINE_EVENTS");
}

TEST(TimelineListener, InstallingTwiceGivesTheSameListener) {
  auto& a = faultline::testing::install_timeline_listener();
  auto& b = faultline::testing::install_timeline_listener();
  EXPECT_EQ(&a, &b);
}

TEST(ReportListener, WritesOneLinePerTestWithWhatItsSimsDid) {
  const std::string path = ::testing::TempDir() + "faultline_report_test.txt";
  std::remove(path.c_str());
  faultline::testing::report_listener report(path);
  const auto& info = *::testing::UnitTest::GetInstance()->current_test_info();
  report.OnTestStart(info);
  {
    faultline::sim_context sim;
    faultline::async_fake<int(int)> f(sim, "f");
    f.on_call().after(2s).fails(asio::error::timed_out).then().hangs().then().throws(std::runtime_error("x"));
    sim.run_for(5s);
    sim.spawn("calls", [&]() -> asio::awaitable<void> {
      for (int i = 0; i < 3; ++i) {
        try {
          co_await (f(i) || faultline::sleep_for(3s));
        } catch (const std::exception&) {
        }
      }
    });
    sim.run();
  }
  report.OnTestEnd(info);
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  // 5s of run_for, then three attempts, each ended by its 3s bound (`||`
  // waits for a success, so the early error and exception wait for it too).
  EXPECT_THAT(line, ::testing::MatchesRegex("test ReportListener.WritesOneLinePerTestWithWhatItsSimsDid passed sims=1 "
                                            "virtual_ns=14000000000 wall_us=[0-9]+ latency=1 error=1 exception=1 "
                                            "hang=1 cancel=0 clock=0"));
  std::remove(path.c_str());
}

}  // namespace
