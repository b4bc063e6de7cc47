// Tests of wall-clock faults in chaos: clock_faults draws, the schedule grammar's step/slew/skew, replay.
#include <faultline/chaos.hpp>

#include <faultline/sim_context.hpp>
#include <faultline/wall_clock.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/message_of.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::clock_faults;
using faultline::fault_schedule;
using faultline::ppm;
using faultline::system_clock;
using faultline_test::message_of;
using ::testing::HasSubstr;

// Reads the wall clock 50 times, 1 s apart; returns the readings.
std::vector<system_clock::time_point> fifty_reads(faultline::sim_context& sim) {
  std::vector<system_clock::time_point> seen;
  sim.run([&]() -> asio::awaitable<void> {
    for (int i = 0; i < 50; ++i) {
      seen.push_back(system_clock::now());
      co_await faultline::sleep_for(1s);
    }
  });
  return seen;
}

faultline::chaos_plan steps_and_slews() {
  return faultline::chaos_plan().clocks(clock_faults().steps(0.1, -60s, 60s).slews(0.1, ppm(-500), ppm(500), 10s));
}

TEST(ClockChaos, DrawsStepsAndSlewsAtWallClockReadsAndReplaysThemExactly) {
  bool stepped_back = false, slewed = false;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    faultline::sim_context sim({.seed = seed});
    faultline::chaos(sim).use(steps_and_slews());
    const auto seen = fifty_reads(sim);
    const fault_schedule drawn = faultline::chaos(sim).injected();
    for (const auto& f : drawn.faults()) {
      EXPECT_EQ(f.point, "wall_clock");
      EXPECT_EQ(f.kind, faultline::fault_kind::clock);
      if (f.clock_step < 0s) stepped_back = true;
      if (f.clock_ppm != 0) slewed = true;
    }
    for (std::size_t i = 1; i < seen.size(); ++i) {
      if (seen[i] < seen[i - 1]) {
        EXPECT_TRUE(stepped_back) << "the clock went back without a step, seed " << seed;
      }
    }
    EXPECT_EQ(sim.faults()[faultline::fault_kind::clock], drawn.size());

    faultline::sim_context again({.seed = 999});  // the schedule alone decides
    faultline::chaos(again).replay(fault_schedule::parse(drawn.to_string()));
    EXPECT_EQ(fifty_reads(again), seen) << drawn.to_string();
    EXPECT_EQ(again.trace().hash(), sim.trace().hash()) << drawn.to_string();
  }
  EXPECT_TRUE(stepped_back);
  EXPECT_TRUE(slewed);
}

TEST(ClockChaos, AReplayedStepChangesTheReadingAtThatReadExactly) {
  faultline::sim_context sim;
  faultline::chaos(sim).replay(fault_schedule::parse("wall_clock#2=step(-30s);wall_clock#4=slew(+500000ppm,2s)"));
  const auto seen = fifty_reads(sim);
  const auto start = faultline::wall_clock::default_start;
  EXPECT_EQ(seen[1], start + 1s);
  EXPECT_EQ(seen[2], start + 2s - 30s);
  EXPECT_EQ(seen[4], start + 4s - 30s);
  EXPECT_EQ(seen[5], start + 5s - 30s + 500ms);  // half as fast again, for 2 s
  EXPECT_EQ(seen[7], start + 7s - 30s + 1s);
  EXPECT_THAT(sim.trace().timeline(), HasSubstr("chaos: wall clock step(-30s) at call #2"));
}

TEST(ClockChaos, ClockRatesNeverFaultOtherPointsAndOtherRatesNeverFaultTheClock) {
  faultline::sim_context sim({.seed = 3});
  faultline::chaos(sim).use(faultline::chaos_plan(faultline::fault_rates().error(1.0)));
  const auto seen = fifty_reads(sim);
  EXPECT_TRUE(faultline::chaos(sim).injected().empty());
  EXPECT_EQ(seen.back(), faultline::wall_clock::default_start + 49s);
  EXPECT_EQ(faultline::chaos(sim).coverage().at("wall_clock").calls, 50u);
}

TEST(ClockChaos, ScheduleKindsRoundTripWithSignsAndEdgeValues) {
  for (const char* text : {"wall_clock#0=step(-30s)", "wall_clock#1=step(+1ns)", "wall_clock#2=step(+9223372036854775807ns)",
                           "wall_clock#3=step(-9223372036854775807ns)", "wall_clock#4=slew(+500ppm)",
                           "wall_clock#5=slew(-999999ppm,10s)", "wall_clock#6=slew(+1000000000ppm,1ns)",
                           "wall_clock@db#0=skew(+120ms,-80ppm)", "\"wall_clock@a b\"#7=skew(-1us,+1ppm)",
                           "wall_clock#18446744073709551615=step(+250ms)"}) {
    const auto s = fault_schedule::parse(text);
    EXPECT_EQ(s.to_string(), text);
    EXPECT_EQ(fault_schedule::parse(s.to_string()), s) << text;
  }
  // Signs are optional when parsed; printing always gives one.
  EXPECT_EQ(fault_schedule::parse("wall_clock#0=step(30s)").to_string(), "wall_clock#0=step(+30s)");
  EXPECT_EQ(fault_schedule::parse("wall_clock#0=slew(7ppm)").to_string(), "wall_clock#0=slew(+7ppm)");
  // A built fault prints and parses back to itself.
  faultline::fault f;
  f.point = "wall_clock@db";
  f.call = 3;
  f.kind = faultline::fault_kind::clock;
  f.clock_step = -1500ms;
  f.clock_ppm = 42;
  const fault_schedule built({f});
  EXPECT_EQ(built.to_string(), "wall_clock@db#3=skew(-1500ms,+42ppm)");
  EXPECT_EQ(fault_schedule::parse(built.to_string()), built);
}

TEST(ClockChaos, MalformedClockFaultsAreRefusedNamingTheProblem) {
  auto bad = [](const char* text) { return message_of([&] { fault_schedule::parse(text); }); };
  EXPECT_THAT(bad("fetch#0=step(-1s)"), HasSubstr("is a wall-clock fault at a point that is not a wall-clock read"));
  EXPECT_THAT(bad("wall_clock#0=error"), HasSubstr("is a error fault at a wall-clock read"));
  EXPECT_THAT(bad("wall_clock@#0=step(1s)"), HasSubstr("not a wall-clock read"));
  EXPECT_THAT(bad("wall_clock#0=step(0s)"), HasSubstr("changes nothing"));
  EXPECT_THAT(bad("wall_clock#0=slew(0ppm,1s)"), HasSubstr("changes nothing"));
  EXPECT_THAT(bad("wall_clock#0=step"), HasSubstr("has step without its argument; write step(-30s)"));
  EXPECT_THAT(bad("wall_clock#0=step(1s,2s)"), HasSubstr("gives step two arguments"));
  EXPECT_THAT(bad("wall_clock#0=skew(1s)"), HasSubstr("gives skew one argument; write skew(+120ms,-80ppm)"));
  EXPECT_THAT(bad("wall_clock#0=slew(500)"), HasSubstr("not a whole number of ppm: +500ppm"));
  EXPECT_THAT(bad("wall_clock#0=slew(-1000000ppm)"), HasSubstr("outside -999999ppm to +1000000000ppm"));
  EXPECT_THAT(bad("wall_clock#0=slew(+99999999999999999999ppm)"), HasSubstr("outside"));
  EXPECT_THAT(bad("wall_clock#0=step(-9223372036854775808ns)"), HasSubstr("beyond the largest"));
  EXPECT_THAT(bad("wall_clock#0=slew(+5ppm,-1s)"), HasSubstr("not a whole, non-negative number"));

  faultline::fault f;
  f.point = "wall_clock";
  f.kind = faultline::fault_kind::clock;
  f.clock_step = 1s;
  f.clock_ppm = 5;
  f.clock_for = 2s;
  EXPECT_THAT(message_of([&] { fault_schedule({f}); }), HasSubstr("which no kind prints"));
}

TEST(ClockChaos, ClockFaultOptionsRefuseBadBounds) {
  EXPECT_THAT(message_of([] { clock_faults().steps(1.5, 0s, 1s); }), HasSubstr("is not a probability"));
  EXPECT_THAT(message_of([] { clock_faults().steps(0.1, 1s, -1s); }), HasSubstr("give the lower bound first"));
  EXPECT_THAT(message_of([] { clock_faults().slews(0.1, ppm(5), ppm(-5)); }), HasSubstr("give the lower bound first"));
  EXPECT_THAT(message_of([] { clock_faults().slews(0.1, ppm(-2'000'000), ppm(5)); }), HasSubstr("out of range"));
  EXPECT_THAT(message_of([] { clock_faults().host_skew(-1s, ppm(5)); }), HasSubstr("must not be negative"));
  EXPECT_THAT(message_of([] { clock_faults().host_skew(1s, ppm(1'000'000)); }), HasSubstr("would stop"));
  EXPECT_THAT(message_of([] { faultline::chaos_plan().clocks(clock_faults().steps(0.6, 0s, 1s).slews(0.6, ppm(1), ppm(2))); }),
              HasSubstr("step + slew chances sum to 1.2"));
}

}  // namespace
