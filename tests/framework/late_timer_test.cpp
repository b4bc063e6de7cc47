// Tests of timers as chaos injection points: waits that fire late, never early.
#include <faultline/steady_timer.hpp>

#include <faultline/chaos.hpp>
#include <faultline/gtest.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::at;
using faultline::chaos_plan;
using faultline::fault_rates;
using faultline::fault_schedule;
using faultline::latency_dist;
using instants = std::vector<faultline::sim_clock::time_point>;

// Waits `n` times for 100ms on `t`, recording when each wait ended.
asio::awaitable<void> lt_beat(faultline::sim_context& sim, faultline::steady_timer& t, int n, instants& ends) {
  for (int i = 0; i < n; ++i) {
    t.expires_after(100ms);
    co_await t.async_wait(asio::use_awaitable);
    ends.push_back(sim.now());
  }
}

TEST(LateTimer, NamedTimerFiresLateByTheDrawnLatency) {
  faultline::sim_context sim;
  faultline::chaos(sim).use(chaos_plan().point("heartbeat", fault_rates().latency(latency_dist::fixed(40ms))));
  faultline::steady_timer t(sim, "heartbeat");
  EXPECT_EQ(t.point_name(), "heartbeat");
  instants ends;
  sim.spawn("beat", lt_beat(sim, t, 2, ends));
  sim.run();
  EXPECT_EQ(ends, (instants{at(140ms), at(280ms)}));
  EXPECT_EQ(faultline::chaos(sim).injected().to_string(), "heartbeat#0=latency(40ms);heartbeat#1=latency(40ms)");
  EXPECT_EQ(faultline::chaos(sim).coverage().at("heartbeat").calls, 2u);
  EXPECT_EQ(sim.faults().by_kind[static_cast<std::size_t>(faultline::fault_kind::latency)], 2u);
  const std::string timeline = sim.trace().timeline();
  EXPECT_NE(timeline.find("chaos: latency 0.040s at call #1 of heartbeat"), std::string::npos) << timeline;
}

TEST(LateTimer, ScheduleDelaysExactlyTheNamedWait) {
  faultline::sim_context sim;
  faultline::chaos(sim).replay(fault_schedule::parse("heartbeat#1=latency(25ms)"));
  faultline::steady_timer t(sim, "heartbeat");
  instants ends;
  sim.spawn("beat", lt_beat(sim, t, 3, ends));
  sim.run();
  EXPECT_EQ(ends, (instants{at(100ms), at(225ms), at(325ms)}));
  EXPECT_EQ(faultline::chaos(sim).injected().to_string(), "heartbeat#1=latency(25ms)");
}

TEST(LateTimer, UnnamedTimerIsAPointOnlyWhereThePlanNamesIt) {
  faultline::sim_context sim;
  // Defaults apply to named timers, never to unnamed ones: plans written
  // before timers were points draw what they drew then.
  faultline::chaos(sim).use(chaos_plan(fault_rates().latency(latency_dist::fixed(7ms)))
                                .point("timer#2", fault_rates().latency(latency_dist::fixed(30ms))));
  faultline::steady_timer first(sim);   // timer#1: not named by the plan
  faultline::steady_timer second(sim);  // timer#2
  EXPECT_EQ(second.point_name(), "timer#2");
  instants a, b;
  sim.spawn("a", lt_beat(sim, first, 1, a));
  sim.spawn("b", lt_beat(sim, second, 1, b));
  sim.run();
  EXPECT_EQ(a, (instants{at(100ms)}));
  EXPECT_EQ(b, (instants{at(130ms)}));
  EXPECT_EQ(faultline::chaos(sim).coverage().count("timer#1"), 0u);
  EXPECT_EQ(faultline::chaos(sim).injected().to_string(), "timer#2#0=latency(30ms)");
}

TEST(LateTimer, OtherKindsAreNeverDrawnForATimer) {
  faultline::sim_context sim;
  faultline::chaos(sim).use(chaos_plan().point(
      "heartbeat", fault_rates().error(0.5).hang(0.25).cancel(0.25).outage(faultline::outage_model::calls(1.0, 5, 5))));
  faultline::steady_timer t(sim, "heartbeat");
  instants ends;
  sim.spawn("beat", lt_beat(sim, t, 20, ends));
  sim.run();
  ASSERT_EQ(ends.size(), 20u);
  EXPECT_EQ(ends.back(), at(2000ms));
  EXPECT_TRUE(faultline::chaos(sim).injected().empty());
  EXPECT_EQ(faultline::chaos(sim).coverage().at("heartbeat").calls, 20u);
}

TEST(LateTimer, LatencyOutageSlowsATimer) {
  faultline::sim_context sim;
  faultline::chaos(sim).use(
      chaos_plan().point("heartbeat", fault_rates().outage(faultline::outage_model::calls(1.0, 2, 2).slows_by(5ms))));
  faultline::steady_timer t(sim, "heartbeat");
  instants ends;
  sim.spawn("beat", lt_beat(sim, t, 2, ends));
  sim.run();
  EXPECT_EQ(ends, (instants{at(105ms), at(210ms)}));
}

TEST(LateTimer, ScheduleNamingAnotherKindAtATimerIsRejected) {
  faultline::sim_context sim;
  faultline::chaos(sim).replay(fault_schedule::parse("heartbeat#0=error"));
  faultline::steady_timer t(sim, "heartbeat");
  instants ends;
  sim.spawn("beat", lt_beat(sim, t, 1, ends));
  try {
    sim.run();
    FAIL() << "the schedule was accepted";
  } catch (const faultline::schedule_error& e) {
    EXPECT_NE(std::string(e.what()).find("the schedule injects heartbeat#0=error, but heartbeat is a timer, which "
                                         "can only fire late: a timer point takes latency(d) only"),
              std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(ends.empty());
}

TEST(LateTimer, ParkedWaitsAndSleepsAreNotPoints) {
  faultline::sim_context sim;
  faultline::chaos(sim).use(chaos_plan(fault_rates().latency(latency_dist::fixed(9ms)))
                                .point("parked", fault_rates().latency(latency_dist::fixed(9ms))));
  faultline::steady_timer parked(sim, "parked");
  parked.expires_at(faultline::steady_timer::time_point::max());
  sim.spawn("parked", [&]() -> asio::awaitable<void> {
    boost::system::error_code ec;
    co_await parked.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  });
  auto r = sim.run([]() -> asio::awaitable<void> { co_await faultline::sleep_for(10ms); });
  EXPECT_EQ(r.completed_at(), at(10ms));
  parked.cancel();
  sim.run();
  EXPECT_TRUE(faultline::chaos(sim).injected().empty());
  EXPECT_TRUE(faultline::chaos(sim).coverage().empty());
}

TEST(LateTimer, NamedTimerOffAChaosRunIsUnchanged) {
  faultline::sim_context sim;
  faultline::steady_timer t(sim, "heartbeat");
  instants ends;
  sim.spawn("beat", lt_beat(sim, t, 2, ends));
  sim.run();
  EXPECT_EQ(ends, (instants{at(100ms), at(200ms)}));
  EXPECT_TRUE(faultline::chaos(sim).coverage().empty());
}

TEST(LateTimer, NameIsIgnoredOnARealExecutor) {
  asio::io_context io;
  faultline::steady_timer t(io, "heartbeat");
  EXPECT_FALSE(t.is_virtual());
  EXPECT_EQ(t.point_name(), "");
}

}  // namespace
