// Tests of faultline::system_clock: virtual wall time inside a sim, real wall time elsewhere.
#include <faultline/system_clock.hpp>

#include <faultline/sim_context.hpp>
#include <faultline/steady_clock.hpp>
#include <faultline/wall_clock.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>
#include <type_traits>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::system_clock;

static_assert(std::chrono::is_clock_v<system_clock>);
static_assert(!system_clock::is_steady);
static_assert(std::is_same_v<system_clock::rep, std::int64_t>);
static_assert(std::is_same_v<system_clock::period, std::nano>);
static_assert(std::is_same_v<system_clock::time_point, std::chrono::time_point<system_clock, std::chrono::nanoseconds>>);
static_assert(noexcept(system_clock::now()));

std::int64_t wall_ns(system_clock::time_point t) { return t.time_since_epoch().count(); }
std::int64_t std_wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// 2026-01-01 00:00:00 UTC in seconds since the Unix epoch.
constexpr std::time_t new_year_2026 = 1'767'225'600;

TEST(SystemClock, StartsAtTheDocumentedDateInsideASim) {
  EXPECT_EQ(system_clock::to_time_t(faultline::wall_clock::default_start), new_year_2026);
  faultline::sim_context sim;
  std::vector<system_clock::time_point> seen;
  sim.run([&]() -> asio::awaitable<void> {
    seen.push_back(system_clock::now());
    co_await faultline::sleep_for(1500ms);
    seen.push_back(system_clock::now());
    co_await faultline::sleep_for(20h);
    seen.push_back(system_clock::now());
  });
  const auto start = system_clock::from_time_t(new_year_2026);
  EXPECT_THAT(seen, ::testing::ElementsAre(start, start + 1500ms, start + 20h + 1500ms));
}

TEST(SystemClock, ReadsRealWallTimeOutsideASimAndInAnIoContext) {
  faultline::sim_context sim;  // alive and far along: must not leak out of its handlers
  sim.run_for(1000h);
  const auto before = std_wall_ns();
  const auto t = system_clock::now();
  const auto after = std_wall_ns();
  EXPECT_LE(before, wall_ns(t));
  EXPECT_LE(wall_ns(t), after);

  asio::io_context io;
  std::optional<std::int64_t> b, r, a;
  asio::post(io, [&] {
    b = std_wall_ns();
    r = wall_ns(system_clock::now());
    a = std_wall_ns();
  });
  io.run();
  ASSERT_TRUE(r.has_value());
  EXPECT_LE(*b, *r);
  EXPECT_LE(*r, *a);
}

TEST(SystemClock, ToTimeTFloorsAndFromTimeTIsExact) {
  EXPECT_EQ(system_clock::to_time_t(system_clock::time_point(1999ms)), 1);
  EXPECT_EQ(system_clock::to_time_t(system_clock::time_point(-1ns)), -1);  // before 1970: floor, not truncation
  EXPECT_EQ(system_clock::to_time_t(system_clock::time_point(-1s)), -1);
  EXPECT_EQ(system_clock::from_time_t(new_year_2026).time_since_epoch(), std::chrono::seconds(new_year_2026));
  EXPECT_EQ(system_clock::from_time_t(-5).time_since_epoch(), -5s);
  EXPECT_EQ(system_clock::to_time_t(system_clock::from_time_t(new_year_2026)), new_year_2026);
}

TEST(SystemClock, ConvertsToSysTimeWithTheSameEpoch) {
  const auto t = system_clock::from_time_t(new_year_2026) + 250ms;
  const std::chrono::sys_time<std::chrono::nanoseconds> s = system_clock::to_sys(t);
  EXPECT_EQ(s.time_since_epoch(), t.time_since_epoch());
  EXPECT_EQ(system_clock::from_sys(s), t);
}

TEST(SystemClock, SteadyClockIsUntouchedByWallClockSteps) {
  faultline::sim_context sim;
  faultline::wall_clock_of(sim).step_at(faultline::at(1s), -1h);
  std::vector<std::int64_t> steady;
  sim.run([&]() -> asio::awaitable<void> {
    co_await faultline::sleep_for(2s);
    steady.push_back(faultline::steady_clock::now().time_since_epoch().count());
    EXPECT_EQ(system_clock::now(), faultline::wall_clock::default_start + 2s - 1h);
  });
  EXPECT_THAT(steady, ::testing::ElementsAre(std::chrono::nanoseconds(2s).count()));
}

}  // namespace
