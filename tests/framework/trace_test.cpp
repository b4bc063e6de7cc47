// Tests of the trace: what the sim journals, the timeline text, bounded memory, the hash.
#include <faultline/trace.hpp>

#include <faultline/gtest.hpp>
#include <faultline/sim_context.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <stdexcept>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::at;

asio::awaitable<int> fetch(bool fail) {
  co_await faultline::sleep_for(10ms);
  if (fail) throw std::runtime_error("boom");
  co_return 1;
}

TEST(Trace, TimelineShowsSpawnsTimersAndCompletionsAtTheirInstants) {
  faultline::sim_context sim;
  sim.spawn("ok", fetch(false));
  auto bad = sim.spawn("bad", fetch(true));
  sim.run();
  EXPECT_EQ(sim.trace().timeline(),
            "t=0.000s ok spawned\n"
            "t=0.000s bad spawned\n"
            "t=0.000s timer#1 waits until t=0.010s\n"
            "t=0.000s timer#2 waits until t=0.010s\n"
            "t=0.010s timer#1 fired\n"
            "t=0.010s timer#2 fired\n"
            "t=0.010s ok returned\n"
            "t=0.010s bad threw std::runtime_error: boom\n");
  bad.result();
}

TEST(Trace, RecordsCancellationOfTimersAndTasks) {
  faultline::sim_context sim;
  auto t = sim.spawn("sleeper", fetch(false));
  sim.run_for(4ms);
  t.cancel();
  sim.run();
  auto events = sim.trace().events();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[2].describe(), "t=0.004s timer#1 cancelled");
  EXPECT_EQ(events[3].describe(), "t=0.004s sleeper was cancelled");
  EXPECT_EQ(events[3].kind, faultline::event_kind::cancelled);
  EXPECT_EQ(events[3].index, 3u);
}

TEST(Trace, RecordsAStallWithItsCount) {
  faultline::sim_context sim;
  sim.spawn("stuck", []() -> asio::awaitable<void> {
    faultline::steady_timer t(co_await asio::this_coro::executor, faultline::steady_timer::time_point::max());
    co_await t.async_wait(asio::use_awaitable);
  });
  EXPECT_THROW(sim.run(), faultline::stall_error);
  EXPECT_EQ(sim.trace().events().back().describe(), "t=0.000s sim stalled: 2 pending operations");
  EXPECT_EQ(sim.trace().timeline(1), "t=0.000s sim stalled: 2 pending operations\n");
}

TEST(Trace, NotesMarkTheTestsOwnSteps) {
  faultline::sim_context sim;
  sim.run_for(1500ms);
  sim.trace().note("primary killed");
  EXPECT_EQ(sim.trace().timeline(), "t=1.500s sim note: primary killed\n");
}

TEST(Trace, KeepsTheLastEventsWithinCapacityButHashesAll) {
  faultline::sim_options small;
  small.trace_capacity = 3;
  faultline::sim_context a(small);
  for (int i = 0; i < 5; ++i) a.trace().note(std::to_string(i));
  auto events = a.trace().events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].detail, "2");
  EXPECT_EQ(events[0].index, 2u);
  EXPECT_EQ(events[2].detail, "4");
  EXPECT_EQ(a.trace().total(), 5u);

  faultline::sim_context b;  // same events, larger capacity: same hash
  for (int i = 0; i < 5; ++i) b.trace().note(std::to_string(i));
  EXPECT_EQ(a.trace().hash(), b.trace().hash());
  b.trace().note("extra");
  EXPECT_NE(a.trace().hash(), b.trace().hash());
}

TEST(Trace, SameProgramGivesTheSameTraceBitForBit) {
  auto run_once = [] {
    faultline::sim_context sim;
    for (int i = 0; i < 20; ++i)
      sim.spawn("t" + std::to_string(i), [](int i) -> asio::awaitable<void> {
        for (int k = 0; k < 3; ++k) co_await faultline::sleep_for(std::chrono::milliseconds((i * 7 + k) % 5));
      }(i));
    sim.run();
    return std::make_pair(sim.trace().hash(), sim.trace().timeline());
  };
  auto first = run_once();
  auto second = run_once();
  EXPECT_EQ(first.first, second.first);
  EXPECT_EQ(first.second, second.second);
}

TEST(Trace, FormatsInstantsWithoutLosingPrecision) {
  EXPECT_EQ(faultline::to_string(at(1250ms)), "t=1.250s");
  EXPECT_EQ(faultline::to_string(at(15us)), "t=0.000015s");
  EXPECT_EQ(faultline::to_string(at(7ns)), "t=0.000000007s");
  EXPECT_EQ(faultline::to_string(at(3601s)), "t=3601.000s");
  EXPECT_EQ(faultline::to_string(faultline::sim_clock::duration(-5ms)), "-0.005s");
}

}  // namespace
