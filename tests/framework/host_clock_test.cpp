// Tests of host clocks: each simulated host's wall-clock offset and drift, scripted and drawn by chaos.
#include <faultline/net/network.hpp>

#include <faultline/chaos.hpp>
#include <faultline/wall_clock.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/message_of.hpp"

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace net = faultline::net;
using faultline::ppm;
using faultline::system_clock;
using faultline_test::message_of;
using ::testing::HasSubstr;

constexpr auto start = faultline::wall_clock::default_start;

struct clock_hosts {
  faultline::sim_context sim;
  net::network& network = net::network::of(sim);
  net::host& db = network.add_host("db");
  net::host& app = network.add_host("app");

  // What code on `h` reads at t=0s and at t=10s.
  std::vector<system_clock::time_point> readings_on(net::host& h) {
    std::vector<system_clock::time_point> seen;
    h.spawn("reader", [&]() -> asio::awaitable<void> {
      seen.push_back(system_clock::now());
      co_await faultline::sleep_for(10s);
      seen.push_back(system_clock::now());
    });
    sim.run();
    return seen;
  }
};

TEST(HostClock, OffsetAndDriftApplyToCodeOnThatHostOnly) {
  clock_hosts h;
  h.network.set_clock("db", -250ms, ppm(+200));
  // 200 ppm of 10 s is 2 ms.
  EXPECT_THAT(h.readings_on(h.db), ::testing::ElementsAre(start - 250ms, start + 10s - 250ms + 2ms));
  EXPECT_EQ(h.network.clock_now("db"), start + 10s - 250ms + 2ms);
  EXPECT_EQ(h.network.clock_now("app"), start + 10s);
  EXPECT_EQ(faultline::wall_clock_of(h.sim).now(), start + 10s);
}

TEST(HostClock, ReadingsFollowTheHostWhoseHandlerRunsNotTheHostThatStartedIt) {
  clock_hosts h;
  h.network.set_clock("db", 1h, ppm(0));
  std::vector<system_clock::time_point> seen;
  h.app.spawn("client", [&]() -> asio::awaitable<void> {
    seen.push_back(system_clock::now());  // app
    co_await asio::co_spawn(h.db.get_executor(), [&]() -> asio::awaitable<void> {
      seen.push_back(system_clock::now());  // db
      co_return;
    }, asio::use_awaitable);
    seen.push_back(system_clock::now());  // back on app
  });
  h.sim.spawn("plain", [&]() -> asio::awaitable<void> {
    seen.push_back(system_clock::now());  // no host
    co_return;
  });
  h.sim.run();
  EXPECT_THAT(seen, ::testing::ElementsAre(start, start + 1h, start, start));
}

TEST(HostClock, HostClocksAddToTheSimsWallClockSteps) {
  clock_hosts h;
  h.network.set_clock("db", 5s, ppm(0));
  faultline::wall_clock_of(h.sim).step_at(faultline::at(1s), -1min);
  EXPECT_THAT(h.readings_on(h.db), ::testing::ElementsAre(start + 5s, start + 10s + 5s - 1min));
}

TEST(HostClock, ALaterSetClockReplacesOffsetAndDriftFromThatInstant) {
  clock_hosts h;
  h.network.set_clock("db", 0s, ppm(+1000));
  h.sim.run_for(10s);  // gained 10 ms
  EXPECT_EQ(h.network.clock_now("db"), start + 10s + 10ms);
  h.network.set_clock("db", 3ms, ppm(-1000));
  EXPECT_EQ(h.network.clock_now("db"), start + 10s + 3ms);
  h.sim.run_for(1s);
  EXPECT_EQ(h.network.clock_now("db"), start + 11s + 2ms);
}

TEST(HostClock, ChaosDrawsOneSkewPerHostAtItsFirstReadAndReplaysIt) {
  const auto plan = faultline::chaos_plan().clocks(faultline::clock_faults().host_skew(2s, ppm(50'000)));
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    std::string drawn;
    auto run = [&](auto&& arm) {
      faultline::sim_context sim({.seed = seed});
      auto& network = net::network::of(sim);
      auto& db = network.add_host("db");
      auto& app = network.add_host("app");
      arm(sim);
      std::vector<system_clock::time_point> out;
      for (net::host* host : {&db, &app})
        host->spawn("reader", [&out]() -> asio::awaitable<void> {
          for (int i = 0; i < 3; ++i) {
            out.push_back(system_clock::now());
            co_await faultline::sleep_for(10s);
          }
        });
      sim.run();
      drawn = faultline::chaos(sim).injected().to_string();
      return out;
    };
    const auto seen = run([&](faultline::sim_context& sim) { faultline::chaos(sim).use(plan); });
    const std::string schedule = drawn;
    const auto parsed = faultline::fault_schedule::parse(schedule);  // kept: faults() refers into it
    for (const auto& f : parsed.faults()) {
      EXPECT_EQ(f.call, 0u) << schedule;  // one skew per host, at its first read
      EXPECT_LE(std::chrono::abs(f.clock_step), 2s) << schedule;
      EXPECT_LE(std::abs(f.clock_ppm), 50'000) << schedule;
    }
    EXPECT_THAT(schedule, HasSubstr("wall_clock@db#0=")) << "seed " << seed;  // 1 in 4001*100001 draws nothing
    EXPECT_EQ(run([&](faultline::sim_context& sim) {
                faultline::chaos(sim).replay(faultline::fault_schedule::parse(schedule));
              }),
              seen);
  }
}

TEST(HostClock, UnknownHostsAndBadDriftsAreRefused) {
  clock_hosts h;
  EXPECT_THAT(message_of([&] { h.network.set_clock("cache", 1s, ppm(0)); }), HasSubstr("cache"));
  EXPECT_THAT(message_of([&] { h.network.clock_now("cache"); }), HasSubstr("cache"));
  EXPECT_THAT(message_of([&] { h.network.set_clock("db", 1s, ppm(-1'000'000)); }),
              HasSubstr("faultline: network::set_clock: the rate -1000000ppm is out of range"));
}

}  // namespace
