// Tests of faultline::wall_clock: the start, scripted steps and slews, what the trace records, misuse.
#include <faultline/wall_clock.hpp>

#include <faultline/sim_context.hpp>

#include <boost/asio/io_context.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/message_of.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::at;
using faultline::ppm;
using faultline::system_clock;
using faultline::wall_clock;
using faultline_test::message_of;
using ::testing::HasSubstr;

constexpr auto start = wall_clock::default_start;

// Reads system_clock inside the sim at each of `instants` (ascending).
std::vector<system_clock::time_point> read_at(faultline::sim_context& sim, std::vector<std::chrono::nanoseconds> instants) {
  std::vector<system_clock::time_point> seen;
  sim.run([&]() -> asio::awaitable<void> {
    for (auto t : instants) {
      co_await faultline::sleep_for(t - sim.now().time_since_epoch());
      seen.push_back(system_clock::now());
    }
  });
  return seen;
}

TEST(WallClock, StartAtSetsTheWallTimeAtTheSimsStart) {
  faultline::sim_context sim;
  auto& wall = faultline::wall_clock_of(sim);
  EXPECT_EQ(wall.start(), start);
  const auto y2k = system_clock::from_time_t(946'684'800);
  wall.start_at(y2k);
  EXPECT_EQ(wall.start(), y2k);
  EXPECT_THAT(read_at(sim, {0s, 3s}), ::testing::ElementsAre(y2k, y2k + 3s));
}

TEST(WallClock, StartAtAfterTheClockMovedIsRefusedNamingStepAt) {
  faultline::sim_context sim;
  sim.run_for(2s);
  EXPECT_EQ(message_of([&] { faultline::wall_clock_of(sim).start_at(start); }),
            "faultline: wall_clock::start_at: the sim's clock is at t=2.000s, past its start; set the start before "
            "the sim runs, or use step_at(t, d) for a jump during the run");
}

TEST(WallClock, AStepBackTakesEffectExactlyAtItsInstant) {
  faultline::sim_context sim;
  faultline::wall_clock_of(sim).step_at(at(5s), -30s);
  EXPECT_THAT(read_at(sim, {4999ms, 5s, 6s}),
              ::testing::ElementsAre(start + 4999ms, start + 5s - 30s, start + 6s - 30s));
}

TEST(WallClock, StepsAddUpForwardAndBack) {
  faultline::sim_context sim;
  faultline::wall_clock_of(sim).step_at(at(1s), 1h).step_at(at(2s), -10min).step_at(at(2s), 1ns);
  EXPECT_THAT(read_at(sim, {1s, 2s}), ::testing::ElementsAre(start + 1s + 1h, start + 2s + 1h - 10min + 1ns));
  EXPECT_EQ(faultline::wall_clock_of(sim).at(at(0s)), start);  // at() answers for any instant
}

TEST(WallClock, ASlewRunsFastInsideItsWindowAndKeepsWhatItGained) {
  faultline::sim_context sim;
  faultline::wall_clock_of(sim).slew(at(10s), at(20s), ppm(+500));
  // 500 ppm of 10 s is 5 ms.
  EXPECT_THAT(read_at(sim, {10s, 12s, 20s, 30s}),
              ::testing::ElementsAre(start + 10s, start + 12s + 1ms, start + 20s + 5ms, start + 30s + 5ms));
}

TEST(WallClock, ASlowSlewStaysMonotonicAtEveryNanosecond) {
  faultline::sim_context sim;
  auto& wall = faultline::wall_clock_of(sim);
  wall.slew(at(0s), at(1s), ppm(-999'999));  // nearly stopped
  auto prev = wall.at(at(0s));
  for (std::int64_t ns = 1; ns < 5000; ++ns) {
    const auto t = wall.at(faultline::sim_clock::time_point(std::chrono::nanoseconds(ns)));
    ASSERT_GE(t, prev) << "at " << ns << "ns";
    prev = t;
  }
  EXPECT_EQ(wall.at(at(2s)), start + 2s - 999'999us);
}

TEST(WallClock, TheTraceRecordsAStepAtTheFirstReadingThatIncludesIt) {
  faultline::sim_context sim;
  faultline::wall_clock_of(sim).step_at(at(5s), -30s).step_at(at(1h), 1s);
  read_at(sim, {7s});
  std::vector<std::string> lines;
  for (const auto& e : sim.trace().events())
    if (e.kind == faultline::event_kind::fault) lines.push_back(e.describe());
  EXPECT_THAT(lines, ::testing::ElementsAre(::testing::AllOf(
                         HasSubstr("t=7.000s"), HasSubstr("wall_clock"),
                         HasSubstr("wall clock stepped -30.000s (scripted for t=5.000s)"))));
  EXPECT_EQ(sim.faults()[faultline::fault_kind::clock], 1u);
}

TEST(WallClock, TheTestBodyReadsTheWallClockWithoutDrawingOrRecording) {
  faultline::sim_context sim;
  faultline::wall_clock_of(sim).step_at(at(1s), 1s);
  sim.run_for(2s);
  EXPECT_EQ(faultline::wall_clock_of(sim).now(), start + 3s);
  EXPECT_EQ(sim.trace().total(), 0u);
}

TEST(WallClock, MisuseIsRefusedWithTheValueAndTheFix) {
  faultline::sim_context sim;
  sim.run_for(2s);
  auto& wall = faultline::wall_clock_of(sim);
  EXPECT_EQ(message_of([&] { wall.step_at(at(1s), 1s); }),
            "faultline: wall_clock::step_at(t=1.000s): that instant is past (the sim is at t=2.000s); give an "
            "instant at or after now");
  EXPECT_EQ(message_of([&] { wall.step_at(at(3s), 0s); }),
            "faultline: wall_clock::step_at(t=3.000s, 0ns): a step of 0 changes nothing; give a nonzero step "
            "(negative: back)");
  EXPECT_THAT(message_of([&] { wall.slew(at(1s), at(3s), ppm(1)); }), HasSubstr("the start is past"));
  EXPECT_EQ(message_of([&] { wall.slew(at(3s), at(3s), ppm(1)); }),
            "faultline: wall_clock::slew: the window [t=3.000s, t=3.000s) is empty; give t0 < t1 (the start is "
            "inclusive, the end exclusive)");
  EXPECT_EQ(message_of([&] { wall.slew(at(3s), at(4s), ppm(-1'000'000)); }),
            "faultline: wall_clock::slew: the rate -1000000ppm is out of range; use -999999 to 1000000000 (a clock "
            "at -1000000ppm or below would stop or run back)");
  EXPECT_THAT(message_of([&] { wall.slew(at(3s), at(4s), ppm(1'000'000'001)); }), HasSubstr("1000000001ppm"));
  EXPECT_THAT(message_of([&] { wall.slew(at(3s), at(4s), ppm(0)); }), HasSubstr("a rate of 0ppm changes nothing"));
  asio::io_context io;
  EXPECT_THAT(message_of([&] { asio::use_service<wall_clock>(io); }), HasSubstr("not a sim_context"));
}

}  // namespace
