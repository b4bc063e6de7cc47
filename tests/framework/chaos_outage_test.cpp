// Tests of correlated faults (outages), time windows and swarm mode in chaos plans, at exact virtual instants.
#include <faultline/chaos.hpp>

#include "support/call_n.hpp"
#include "support/message_of.hpp"

#include <faultline/fake.hpp>
#include <faultline/sim_context.hpp>
#include <faultline/sweep.hpp>

#include <boost/asio/error.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::at;
using faultline::chaos_plan;
using faultline::fault_schedule;
using faultline::outage_model;
using faultline::sim_context;
using outage_rates = faultline::fault_rates;
using ::testing::HasSubstr;

using outage_fetch = faultline::async_fake<std::string(std::string)>;

// Runs `n` calls of a "fetch" fake under `plan`, seeded with `seed`: each call takes 10ms, failing
// or not (an error comes after the scripted latency), so call i starts at i x 10ms.
struct outage_run {
  std::vector<std::string> results;
  std::string schedule;
  std::uint64_t trace_hash = 0;
};

outage_run run_outage_plan(const chaos_plan& plan, int n, std::uint64_t seed = 1) {
  sim_context sim({.seed = seed});
  outage_fetch fetch(sim, "fetch");
  fetch.on_call().after(10ms).returns("ok").repeatedly();
  faultline::chaos(sim).use(plan);
  auto r = sim.run(faultline_test::call_n(fetch, n));
  return {r.value(), faultline::chaos(sim).injected().to_string(), sim.trace().hash()};
}

using strings = std::vector<std::string>;

TEST(ChaosOutage, LastsItsLengthInCallsAndFailsEachCallOnce) {
  // Entered for sure, but only by a call made before 1ms: the call at t=0.
  const auto plan = chaos_plan().point("fetch", outage_rates().outage(outage_model::calls(1.0, 3, 3).during(at(0ms), at(1ms))));
  const auto r = run_outage_plan(plan, 5);
  EXPECT_EQ(r.results, (strings{"error", "error", "error", "ok", "ok"}));
  EXPECT_EQ(r.schedule, "fetch#0=error;fetch#1=error;fetch#2=error");
}

TEST(ChaosOutage, LastsItsLengthInVirtualTimeEndExclusive) {
  // Calls start at 0, 10, 20, 30ms: a 20ms outage from t=0 covers [0, 20ms).
  auto timed = [](faultline::sim_clock::duration d) {
    return chaos_plan().point("fetch", outage_rates().outage(outage_model::lasting(1.0, d, d).during(at(0ms), at(1ms))));
  };
  EXPECT_EQ(run_outage_plan(timed(20ms), 4).results, (strings{"error", "error", "ok", "ok"}));
  EXPECT_EQ(run_outage_plan(timed(20ms + 1ns), 4).results, (strings{"error", "error", "error", "ok"}));
}

TEST(ChaosOutage, InjectsWhatItIsToldAtEveryCallItCovers) {
  auto with = [](outage_model m) {
    return chaos_plan().point("fetch", outage_rates().outage(m.during(at(0ms), at(1ms))));
  };
  const auto refused = run_outage_plan(with(outage_model::calls(1.0, 2, 2).fails_with(asio::error::connection_refused)), 3);
  EXPECT_EQ(refused.schedule, "fetch#0=error(connection_refused);fetch#1=error(connection_refused)");
  EXPECT_EQ(run_outage_plan(with(outage_model::calls(1.0, 2, 2).cancels()), 3).results,
            (strings{"cancelled", "cancelled", "ok"}));

  // A brownout: each covered call takes 90ms more, so the third starts at 200ms.
  sim_context sim;
  outage_fetch fetch(sim, "fetch");
  fetch.on_call().after(10ms).returns("ok").repeatedly();
  faultline::chaos(sim).use(with(outage_model::calls(1.0, 2, 2).slows_by(90ms)));
  sim.run(faultline_test::call_n(fetch, 3));
  ASSERT_EQ(fetch.calls().size(), 3u);
  EXPECT_EQ(*fetch.calls()[0].ended, at(100ms));
  EXPECT_EQ(fetch.calls()[2].started, at(200ms));
  EXPECT_EQ(*fetch.calls()[2].ended, at(210ms));
  EXPECT_EQ(faultline::chaos(sim).injected().to_string(), "fetch#0=latency(90ms);fetch#1=latency(90ms)");

  // A hanging outage stalls the caller at the first call it covers.
  sim_context hung;
  outage_fetch f2(hung, "fetch");
  f2.on_call().after(10ms).returns("ok").repeatedly();
  faultline::chaos(hung).use(with(outage_model::calls(1.0, 1, 1).hangs()));
  EXPECT_THROW(hung.run(faultline_test::call_n(f2, 2)), faultline::stall_error);
  EXPECT_EQ(faultline::chaos(hung).injected().to_string(), "fetch#0=hang");
}

TEST(ChaosWindow, FaultsOnlyInTheWindowStartInclusiveEndExclusive) {
  // Calls at 0, 10, ..., 50ms; every call in [20ms, 40ms) fails.
  const auto plan = chaos_plan().point("fetch", outage_rates().error(1.0).during(at(20ms), at(40ms)));
  EXPECT_EQ(run_outage_plan(plan, 6).results, (strings{"ok", "ok", "error", "error", "ok", "ok"}));
  // The window bounds outages too: one running at 30ms ends there.
  const auto cut = chaos_plan().point(
      "fetch", outage_rates().outage(outage_model::calls(1.0, 10, 10)).during(at(10ms), at(30ms)));
  EXPECT_EQ(run_outage_plan(cut, 4).results, (strings{"ok", "error", "error", "ok"}));
}

TEST(ChaosOutage, TheSameSeedGivesTheSameScheduleAndTraceAndItReplays) {
  const auto plan = chaos_plan().point("fetch", outage_rates().error(0.02).outage(outage_model()));
  const auto a = run_outage_plan(plan, 300, 7);
  const auto b = run_outage_plan(plan, 300, 7);
  EXPECT_EQ(a.schedule, b.schedule);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_NE(a.schedule, run_outage_plan(plan, 300, 8).schedule);
  // Faults come in runs: some call fails right after a failed call.
  const auto s = fault_schedule::parse(a.schedule);
  bool consecutive = false;
  for (std::size_t i = 1; i < s.size(); ++i) consecutive |= s.faults()[i].call == s.faults()[i - 1].call + 1;
  EXPECT_TRUE(consecutive) << a.schedule;

  sim_context sim({.seed = 7});
  outage_fetch fetch(sim, "fetch");
  fetch.on_call().after(10ms).returns("ok").repeatedly();
  faultline::chaos(sim).replay(s);
  EXPECT_EQ(sim.run(faultline_test::call_n(fetch, 300)).value(), a.results);
  EXPECT_EQ(sim.trace().hash(), a.trace_hash);
}

TEST(ChaosOutage, DefaultsFailTenCallsInARowWithinTwoHundredSeeds) {
  // The documented bound: a call retried up to 16 times once per seed sees
  // 10 failures in a row with chance 0.05 x 23/32 per seed (about 7 in 200).
  const auto plan = chaos_plan().point("fetch", outage_rates().outage(outage_model()));
  int found = 0;
  std::uint64_t first = 0;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    const auto r = run_outage_plan(plan, 10, seed);
    if (r.results == strings(10, "error")) {
      ++found;
      if (!first) first = seed;
    }
  }
  EXPECT_GE(found, 1);
  EXPECT_LE(found, 20);
  EXPECT_GT(first, 0u);
}

TEST(ChaosOutage, MisuseNamesTheValueAndTheFix) {
  using faultline_test::message_of;
  EXPECT_THAT(message_of([] { outage_model::calls(0.1, -1, 3); }), HasSubstr("shortest outage is -1 calls"));
  EXPECT_THAT(message_of([] { outage_model::calls(0.1, 5, 3); }), HasSubstr("longest outage (3 calls) is shorter"));
  EXPECT_THAT(message_of([] { outage_model::lasting(0.1, -5ms, 1s); }), HasSubstr("shortest outage is -0.005s"));
  EXPECT_THAT(message_of([] { outage_model::calls(1.5, 1, 3); }), HasSubstr("enter rate 1.5"));
  EXPECT_THAT(message_of([] { outage_model().slows_by(0ms); }), HasSubstr("give at least 1us"));
  EXPECT_THAT(message_of([] { outage_model().during(at(2s), at(1s)); }),
              HasSubstr("window [t=2.000s, t=1.000s) is empty"));
  EXPECT_THAT(message_of([] { outage_rates().during(at(1s), at(1s)); }), HasSubstr("give t0 < t1"));
  EXPECT_THAT(message_of([] { chaos_plan().point("db", outage_rates().outage(outage_model().fails_with({}))); }),
              HasSubstr("success code"));
}

// Two points and three kinds under swarm mode: each seed runs with a subset.
faultline::sweep_options swarm_options() {
  faultline::sweep_options o;
  o.plan.point("fetch", outage_rates().error(0.3).latency(faultline::latency_dist::fixed(5ms, 0.3)))
      .point("store", outage_rates().error(0.3).outage(outage_model()))
      .swarm();
  return o;
}

void swarm_scenario(sim_context& sim) {
  outage_fetch fetch(sim, "fetch");
  outage_fetch store(sim, "store");
  fetch.on_call().after(10ms).returns("ok").repeatedly();
  store.on_call().after(10ms).returns("ok").repeatedly();
  sim.run([&]() -> asio::awaitable<void> {
    co_await faultline_test::call_n(fetch, 20);
    co_await faultline_test::call_n(store, 20);
  });
}

// The "off" list of one half ("kinds" or "points") of a swarm subset:
// `kinds on: error; off: latency | points on: fetch; off: store`.
std::vector<std::string> swarm_off(const std::string& swarm, const std::string& half) {
  const auto bar = swarm.find(" | ");
  std::string part = half == "kinds" ? swarm.substr(0, bar) : swarm.substr(bar + 3);
  std::vector<std::string> out;
  const auto off = part.find("; off: ");
  if (off == std::string::npos) return out;
  part = part.substr(off + 7);
  for (std::size_t at = 0; at <= part.size();) {
    const auto comma = std::min(part.find(", ", at), part.size());
    out.push_back(part.substr(at, comma - at));
    at = comma + 2;
  }
  return out;
}

bool listed(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

TEST(ChaosSwarm, EachSeedInjectsOnlyItsSubsetAndReportsIt) {
  const auto o = swarm_options();
  bool saw_point_off = false, saw_kind_off = false;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    const auto r = faultline::run_seed(o, seed, swarm_scenario);
    ASSERT_THAT(r.swarm, HasSubstr("kinds on: ")) << seed;
    ASSERT_THAT(r.swarm, HasSubstr(" | points on: ")) << seed;
    const auto kinds_off = swarm_off(r.swarm, "kinds");
    const auto points_off = swarm_off(r.swarm, "points");
    saw_kind_off |= !kinds_off.empty();
    saw_point_off |= !points_off.empty();
    for (const auto& f : r.schedule.faults()) {
      EXPECT_FALSE(listed(points_off, f.point)) << r.swarm << " but " << f.to_string();
      // An outage's faults are errors too: an error with error off came from an outage.
      const bool latency_off = f.kind == faultline::fault_kind::latency && listed(kinds_off, "latency");
      const bool errors_off = f.kind == faultline::fault_kind::error && listed(kinds_off, "error") &&
                              listed(kinds_off, "outage");
      EXPECT_FALSE(latency_off || errors_off) << r.swarm << " but " << f.to_string();
    }
    // Replay needs no subset: the schedule alone repeats the run.
    const auto again = faultline::run_schedule(o, r.schedule, seed, swarm_scenario);
    EXPECT_EQ(again.trace_hash, r.trace_hash) << seed;
    EXPECT_EQ(again.schedule, r.schedule);
    EXPECT_EQ(again.swarm, "");
    EXPECT_EQ(faultline::run_seed(o, seed, swarm_scenario).swarm, r.swarm);
  }
  EXPECT_TRUE(saw_point_off);
  EXPECT_TRUE(saw_kind_off);
}

TEST(ChaosSwarm, AFailingSeedsReportNamesItsSubset) {
  auto o = swarm_options();
  o.seeds = 200;
  const auto r = faultline::sweep(o, [](sim_context& sim) {
    outage_fetch store(sim, "store");
    store.on_call().after(10ms).returns("ok").repeatedly();
    const auto got = sim.run(faultline_test::call_n(store, 6)).value();
    for (std::size_t i = 0; i + 2 < got.size(); ++i)
      if (got[i] == "error" && got[i + 1] == "error" && got[i + 2] == "error")
        throw std::runtime_error("three store failures in a row");
  });
  ASSERT_TRUE(r.failure);
  EXPECT_FALSE(listed(swarm_off(r.failure->swarm, "points"), "store")) << r.failure->swarm;
  EXPECT_THAT(faultline::describe(r), HasSubstr("  swarm subset: " + r.failure->swarm + "\n"));
}

}  // namespace
