// The demo's planted bug: a chaos test of the retry that retries cancellation. It FAILS by design (so it
// is not registered with CTest): the sweep finds the bug, minimises the schedule, and prints the command
// that replays it. faultline_demo runs it and then runs that command.
#include "retry_retries_cancellation.hpp"

#include <faultline/gtest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace {

using namespace std::chrono_literals;
using namespace faultline::testing;
using faultline::fault_rates;
using faultline::latency_dist;

// Attempts fail (20%), end cancelled (5%) or come late (up to 100ms, half the rest). No hang:
// retry has no deadline of its own. The sweep hits a cancellation before the last attempt within
// a few dozen seeds.
const auto plan = faultline::chaos_plan().point(
    "fetch", fault_rates().error(0.2).cancel(0.05).latency(latency_dist::uniform(0ms, 100ms, 0.5)));

FAULTLINE_CHAOS_TEST(PlantedBug, RetryDoesNotRetryCancellation, plan) {
  faultline::async_fake<std::string(std::string)> fetch(sim(), "fetch");
  fetch.on_call().after(50ms).returns("ok").repeatedly();
  const samples::retry::retry_policy policy{.max_attempts = 4, .initial_delay = 100ms};

  auto r = co_await capture(samples::bugs::retry([&] { return fetch("/a"); }, policy));

  // A cancelled attempt says "stop": no attempt may follow it, and the retry ends cancelled.
  const auto& calls = fetch.calls();
  const auto cancelled = std::find_if(calls.begin(), calls.end(),
                                      [](const auto& c) { return c.status == faultline::call_status::cancelled; });
  if (cancelled != calls.end()) {
    const auto attempts_after_cancellation = calls.end() - cancelled - 1;
    EXPECT_EQ(attempts_after_cancellation, 0) << cancelled->describe() << ", yet retried at "
                                              << faultline::to_string(calls.back().started);
    EXPECT_THAT(r, WasCancelled());
  }
}

}  // namespace
