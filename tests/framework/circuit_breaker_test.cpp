// Tests of a circuit breaker written against faultline::steady_clock, at exact virtual instants.
#include "support/circuit_breaker.hpp"

#include <faultline/gtest.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::at;
using resilience::circuit_breaker;
using ::testing::ElementsAre;
using dependency = faultline::async_fake<std::string(std::string)>;

// A faultline::steady_clock instant inside a sim: time since the sim's start.
faultline::steady_clock::time_point instant(faultline::steady_clock::duration d) {
  return faultline::steady_clock::time_point(d);
}

const char* name(circuit_breaker::state s) {
  switch (s) {
    case circuit_breaker::state::closed:
      return "closed";
    case circuit_breaker::state::open:
      return "open";
    case circuit_breaker::state::half_open:
      return "half-open";
  }
  return "?";
}

// One call through the breaker, logged when it ends as
// "t=2.010s failed (open)": the instant, how it ended, the breaker's state then.
asio::awaitable<void> attempt(circuit_breaker& breaker, dependency& dep, std::vector<std::string>& log,
                              std::string path = "/status") {
  std::string how;
  try {
    how = co_await breaker.call([&] { return dep(path); });
  } catch (const resilience::circuit_open_error&) {
    how = "rejected";
  } catch (const boost::system::system_error& e) {
    how = e.code() == asio::error::operation_aborted ? "cancelled" : "failed";
  }
  log.push_back(faultline::to_string(faultline::sim_clock::now()) + " " + how + " (" +
                name(breaker.current_state()) + ")");
}

// Calls at each instant in turn, one after the other.
asio::awaitable<void> calls_at(std::vector<faultline::steady_clock::duration> instants, circuit_breaker& breaker,
                               dependency& dep, std::vector<std::string>& log) {
  for (auto d : instants) {
    co_await faultline::sleep_until(instant(d));
    co_await attempt(breaker, dep, log);
  }
}

std::vector<faultline::sim_clock::time_point> starts(const dependency& dep) {
  std::vector<faultline::sim_clock::time_point> out;
  for (const auto& c : dep.calls()) out.push_back(c.started);
  return out;
}

constexpr circuit_breaker::options three_then_5s{.failure_threshold = 3, .open_for = 5s};

TEST(CircuitBreaker, OpensAtTheThresholdAndThenFailsFastWithoutCallingTheDependency) {
  faultline::sim_context sim;
  dependency dep(sim, "dep");
  dep.on_call().after(10ms).fails(asio::error::connection_refused).repeatedly();
  circuit_breaker breaker(three_then_5s);
  std::vector<std::string> log;

  // The third failure ends at t=2.010s and opens the circuit until t=7.010s.
  sim.run(calls_at({0s, 1s, 2s, 2010ms, 5s, 7010ms - 1ns}, breaker, dep, log)).value();

  EXPECT_THAT(log, ElementsAre("t=0.010s failed (closed)", "t=1.010s failed (closed)", "t=2.010s failed (open)",
                               "t=2.010s rejected (open)", "t=5.000s rejected (open)",
                               "t=7.009999999s rejected (open)"));
  EXPECT_THAT(starts(dep), ElementsAre(at(0s), at(1s), at(2s)));  // rejected calls never reached it
  EXPECT_EQ(breaker.open_until(), instant(7010ms));
}

TEST(CircuitBreaker, LetsOneProbeThroughAfterExactlyTheOpenDurationAndClosesOnItsSuccess) {
  faultline::sim_context sim;
  dependency dep(sim, "dep");
  dep.on_call().after(10ms).fails(asio::error::connection_refused).times(3).then()
      .after(100ms).returns("ok").repeatedly();
  circuit_breaker breaker(three_then_5s);
  std::vector<std::string> log;

  // The probe starts at t=7.010s and succeeds at t=7.110s; a second caller
  // arriving while it runs is rejected, and calls after it go through.
  sim.spawn("caller", calls_at({0s, 1s, 2s, 7010ms - 1ns, 7010ms, 7110ms}, breaker, dep, log));
  sim.spawn("bystander", calls_at({7060ms}, breaker, dep, log));
  sim.run();

  EXPECT_THAT(log, ElementsAre("t=0.010s failed (closed)", "t=1.010s failed (closed)", "t=2.010s failed (open)",
                               "t=7.009999999s rejected (open)", "t=7.060s rejected (half-open)",
                               "t=7.110s ok (closed)", "t=7.210s ok (closed)"));
  EXPECT_THAT(starts(dep), ElementsAre(at(0s), at(1s), at(2s), at(7010ms), at(7110ms)));
}

TEST(CircuitBreaker, AFailedProbeReopensTheCircuitForAnotherFullPeriod) {
  faultline::sim_context sim;
  dependency dep(sim, "dep");
  dep.on_call().after(10ms).fails(asio::error::connection_refused).times(3).then()
      .after(100ms).fails(asio::error::timed_out).then()
      .after(100ms).returns("ok");
  circuit_breaker breaker(three_then_5s);
  std::vector<std::string> log;

  // The probe at t=7.010s fails at t=7.110s: open again until t=12.110s.
  sim.run(calls_at({0s, 1s, 2s, 7010ms, 7110ms, 12110ms - 1ns, 12110ms}, breaker, dep, log)).value();

  EXPECT_THAT(log, ElementsAre("t=0.010s failed (closed)", "t=1.010s failed (closed)", "t=2.010s failed (open)",
                               "t=7.110s failed (open)", "t=7.110s rejected (open)",
                               "t=12.109999999s rejected (open)", "t=12.210s ok (closed)"));
  EXPECT_THAT(starts(dep), ElementsAre(at(0s), at(1s), at(2s), at(7010ms), at(12110ms)));
  EXPECT_TRUE(dep.unmet().empty());
}

TEST(CircuitBreaker, OnlyConsecutiveFailuresCount) {
  faultline::sim_context sim;
  dependency dep(sim, "dep");
  dep.on_call().fails(asio::error::connection_reset).times(2).then().returns("ok").then()
      .fails(asio::error::connection_reset).repeatedly();
  circuit_breaker breaker(three_then_5s);
  std::vector<std::string> log;

  sim.run(calls_at({0s, 1s, 2s, 3s, 4s, 5s, 6s}, breaker, dep, log)).value();

  EXPECT_THAT(log, ElementsAre("t=0.000s failed (closed)", "t=1.000s failed (closed)", "t=2.000s ok (closed)",
                               "t=3.000s failed (closed)", "t=4.000s failed (closed)", "t=5.000s failed (open)",
                               "t=6.000s rejected (open)"));
  EXPECT_EQ(dep.call_count(), 6u);
}

TEST(CircuitBreaker, ACancelledProbeNeitherClosesNorReopensTheCircuit) {
  using namespace asio::experimental::awaitable_operators;
  faultline::sim_context sim;
  dependency dep(sim, "dep");
  dep.on_call().after(10ms).fails(asio::error::connection_refused).times(3).then().hangs().then().returns("ok");
  circuit_breaker breaker(three_then_5s);
  std::vector<std::string> log;

  // (g++ 12 rejects a braced list built inside a coroutine: "array used as initializer".)
  std::vector<faultline::steady_clock::duration> failing{0s, 1s, 2s};
  auto r = sim.run([&]() -> asio::awaitable<void> {
    co_await calls_at(failing, breaker, dep, log);
    co_await faultline::sleep_until(instant(7010ms));
    // The probe hangs; the caller's 1s timeout cancels it at t=8.010s.
    co_await (attempt(breaker, dep, log) || faultline::sleep_for(1s));
    co_await attempt(breaker, dep, log);
  });

  r.value();
  EXPECT_THAT(log, ElementsAre("t=0.010s failed (closed)", "t=1.010s failed (closed)", "t=2.010s failed (open)",
                               "t=8.010s cancelled (half-open)", "t=8.010s ok (closed)"));
  EXPECT_THAT(starts(dep), ElementsAre(at(0s), at(1s), at(2s), at(7010ms), at(8010ms)));
}

TEST(CircuitBreaker, IgnoresAResultFromBeforeTheLastStateChange) {
  faultline::sim_context sim;
  dependency dep(sim, "dep");
  dep.on_call().after(10ms).fails(asio::error::connection_refused).times(3).then().returns("ok").then()
      .fails(asio::error::connection_refused);
  dep.on_call("/slow").after(9s).fails(asio::error::timed_out);
  circuit_breaker breaker(three_then_5s);
  std::vector<std::string> log;

  // The slow call starts while closed and fails at t=9.000s, after the circuit
  // opened (t=2.010s) and closed again (probe at t=7.010s): it must not count
  // towards the new closed period, or the failure at t=10s would be the second.
  sim.spawn("slow", attempt(breaker, dep, log, "/slow"));
  sim.spawn("caller", calls_at({0s, 1s, 2s, 7010ms, 10s}, breaker, dep, log));
  sim.run();

  EXPECT_THAT(log, ElementsAre("t=0.010s failed (closed)", "t=1.010s failed (closed)", "t=2.010s failed (open)",
                               "t=7.010s ok (closed)", "t=9.000s failed (closed)", "t=10.000s failed (closed)"));
  EXPECT_EQ(breaker.consecutive_failures(), 1u);
}

TEST(CircuitBreaker, AProbeDestroyedWithItsExecutorGivesBackItsSlot) {
  circuit_breaker breaker(three_then_5s);
  {
    faultline::sim_context sim;
    dependency dep(sim, "dep");
    dep.on_call().after(10ms).fails(asio::error::connection_refused).times(3).then().hangs();
    std::vector<std::string> log;
    sim.spawn("caller", calls_at({0s, 1s, 2s, 7010ms}, breaker, dep, log));
    EXPECT_THROW(sim.run(), faultline::stall_error);  // the probe hangs
    EXPECT_EQ(breaker.current_state(), circuit_breaker::state::half_open);
  }  // the suspended probe is destroyed without being resumed

  faultline::sim_context sim;
  dependency dep(sim, "dep");
  dep.on_call().returns("ok");
  std::vector<std::string> log;
  sim.run(attempt(breaker, dep, log)).value();
  EXPECT_THAT(log, ElementsAre("t=0.000s ok (closed)"));  // the next call probed
}

TEST(CircuitBreaker, RejectsAThresholdOfZero) {
  circuit_breaker::options zero{.failure_threshold = 0, .open_for = 1s};
  EXPECT_THROW(circuit_breaker{zero}, std::invalid_argument);
}

}  // namespace
