// GoogleTest prints faultline's instants and outcomes through the core headers alone (no
// <faultline/gtest/print.hpp>, no adapter include), and multiple_exceptions shows its first cause.
// This file must include nothing from faultline but the core.
#include <faultline/faultline.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/multiple_exceptions.hpp>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// A deliberately failing copy of the README's first test
// (tests/framework/readme_example_test.cpp): the retry is expected one
// second too late.
template <class Fetch>
asio::awaitable<std::string> fetch_with_retry(Fetch& fetch, std::string url) {
  for (int attempt = 1;; ++attempt) {
    try {
      co_return co_await fetch(url);
    } catch (const boost::system::system_error& e) {
      if (e.code() != asio::error::connection_refused || attempt == 3) throw;
    }
    co_await faultline::sleep_for(1s);
  }
}

void failing_readme_copy() {
  faultline::sim_context sim;
  faultline::async_fake<std::string(std::string)> fetch(sim, "fetch");
  fetch.on_call().fails(asio::error::connection_refused).then().after(50ms).returns("<html>");

  auto r = sim.run(fetch_with_retry(fetch, "/index"));

  EXPECT_EQ(r.value(), "<html>");
  EXPECT_EQ(fetch.calls()[1].started, faultline::at(2s)) << "retry seen at " << sim.now();
}

TEST(Printing, AFailedTimeCheckPrintsInstantsWithoutExtraIncludes) {
  // Before the core had an operator<< for instants, GoogleTest printed
  // "8-byte object <00-CA 9A-3B ...>" here.
  EXPECT_NONFATAL_FAILURE(failing_readme_copy(), "Which is: t=1.000s");
  EXPECT_NONFATAL_FAILURE(failing_readme_copy(), "Which is: t=2.000s");
  EXPECT_NONFATAL_FAILURE(failing_readme_copy(), "retry seen at t=1.050s");
}

// Deliberately failing checks on durations and on two sims' instants.
void failing_duration_check() {
  faultline::sim_context sim;
  sim.run(faultline::sleep_for(250ms));
  const faultline::sim_clock::duration waited = sim.now().time_since_epoch();
  EXPECT_EQ(waited, 300ms);
}

void failing_now_check() {
  faultline::sim_context a;
  faultline::sim_context b;
  a.run(faultline::sleep_for(1s));
  b.run(faultline::sleep_for(1500ms));
  EXPECT_EQ(a.now(), b.now());
}

TEST(Printing, AFailedDurationCheckPrintsSecondsWithoutExtraIncludes) {
  // Before the core's printer for durations, GoogleTest printed
  // "8-byte object <80-B2 E6-0E ...>" here (libstdc++ 12 has no operator<< for them).
  EXPECT_NONFATAL_FAILURE(failing_duration_check(), "waited\n    Which is: 0.250s\n  300ms\n    Which is: 0.300s");
  EXPECT_NONFATAL_FAILURE(failing_now_check(), "a.now()\n    Which is: t=1.000s\n  b.now()\n    Which is: t=1.500s");
}

TEST(Printing, DurationsOfEveryUnitPrint) {
  using ::testing::PrintToString;
  EXPECT_EQ(PrintToString(faultline::sim_clock::duration(1250ms)), "1.250s");
  EXPECT_EQ(PrintToString(15us), "0.000015s");
  EXPECT_EQ(PrintToString(2min), "120.000s");
  EXPECT_EQ(PrintToString(-250ms), "-0.250s");
  EXPECT_EQ(PrintToString(std::chrono::duration<double>(1.5)), "1.5s");
  EXPECT_EQ(PrintToString(std::chrono::duration<double, std::milli>(0.25)), "0.25ms");
  // Not a whole number of nanoseconds, or more than a sim_clock::duration
  // holds: the count and its unit, as C++20's operator<< prints them.
  EXPECT_EQ(PrintToString(std::chrono::duration<long long, std::ratio<1, 3>>(1)), "1[1/3]s");
  EXPECT_EQ(PrintToString(std::chrono::hours(3'000'000)), "3000000h");
  EXPECT_EQ(PrintToString(std::chrono::duration<int, std::ratio<7>>(2)), "14.000s");
  EXPECT_EQ(PrintToString(std::vector<std::chrono::milliseconds>{1ms, 2ms}), "{ 0.001s, 0.002s }");
}

TEST(Printing, InstantsStreamAndPrintAsTheTimelineDoes) {
  std::ostringstream os;
  os << faultline::at(1250ms) << " " << faultline::at(15us);
  EXPECT_EQ(os.str(), "t=1.250s t=0.000015s");
  EXPECT_EQ(::testing::PrintToString(faultline::at(2s)), "t=2.000s");
}

TEST(Printing, OutcomesPrintTheirValueWhenItCanBeStreamed) {
  faultline::sim_context sim;
  auto r = sim.run([]() -> asio::awaitable<std::string> {
    co_await faultline::sleep_for(200ms);
    co_return "ok";
  });
  EXPECT_EQ(::testing::PrintToString(r), "returned ok at t=0.200s");
  struct opaque {};
  auto o = sim.run([]() -> asio::awaitable<opaque> { co_return opaque{}; });
  EXPECT_EQ(::testing::PrintToString(o), "returned at t=0.200s");
  auto v = sim.run(faultline::sleep_for(1h));
  std::ostringstream os;
  os << v;
  EXPECT_EQ(os.str(), "returned at t=3600.200s");
}

asio::awaitable<int> throw_after(std::chrono::milliseconds d, const char* what) {
  co_await faultline::sleep_for(d);
  throw std::runtime_error(what);
}

asio::awaitable<int> value_after(std::chrono::milliseconds d, int v) {
  co_await faultline::sleep_for(d);
  co_return v;
}

TEST(Printing, MultipleExceptionsShowsItsFirstInnerException) {
  auto e = std::make_exception_ptr(
      asio::multiple_exceptions(std::make_exception_ptr(std::runtime_error("503 from fetch"))));
  auto o = faultline::outcome<int>::threw(e, faultline::at(5ms));
  EXPECT_EQ(o.describe(), "threw boost::asio::multiple_exceptions (first: std::runtime_error: 503 from fetch) at t=0.005s");
}

TEST(Printing, AndsFailureNamesTheCauseInTheOutcomeAndTheTrace) {
  using namespace asio::experimental::awaitable_operators;
  faultline::sim_context sim;
  auto t = sim.spawn("both", []() -> asio::awaitable<void> {
    co_await (throw_after(5ms, "503") && value_after(1s, 1));
  });
  sim.run();
  // Asio 1.81 reports operand 0's exception first: here the fault itself.
  // (With the operands swapped it is the sibling's operation_aborted.)
  const std::string cause = "boost::asio::multiple_exceptions (first: std::runtime_error: 503)";
  EXPECT_EQ(t.result().describe(), "threw " + cause + " at " + faultline::to_string(t.result().completed_at()));
  const std::string timeline = sim.trace().timeline();
  EXPECT_NE(timeline.find("both threw " + cause), std::string::npos) << timeline;
}

}  // namespace
