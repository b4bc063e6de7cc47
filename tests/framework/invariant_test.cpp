// Tests of invariants at the instant: invariant(), fail_now(), every(), and a sweep's minimiser keeping the invariant.
#include <faultline/invariant.hpp>

#include "support/message_of.hpp"

#include <faultline/fake.hpp>
#include <faultline/sim_context.hpp>
#include <faultline/steady_timer.hpp>
#include <faultline/sweep.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::at;
using faultline::event_kind;
using faultline::invariant_violation;
using faultline::sim_context;
using ::testing::HasSubstr;

TEST(Invariant, StopsTheRunAtItsInstantAndNothingAfterRuns) {
  sim_context sim;
  bool after_in_same_task = false, same_instant_sibling = false, later_task = false;
  sim.spawn("checker", [&]() -> asio::awaitable<void> {
    co_await faultline::sleep_for(100ms);
    faultline::invariant(1 + 1 == 3, "arithmetic holds");
    after_in_same_task = true;
  });
  sim.spawn("sibling", [&]() -> asio::awaitable<void> {
    co_await faultline::sleep_for(100ms);
    same_instant_sibling = true;
  });
  sim.spawn("later", [&]() -> asio::awaitable<void> {
    co_await faultline::sleep_for(200ms);
    later_task = true;
  });
  try {
    sim.run();
    FAIL() << "the broken invariant did not stop the run";
  } catch (const invariant_violation& v) {
    EXPECT_EQ(v.name(), "arithmetic holds");
    EXPECT_EQ(v.at(), at(100ms));
    EXPECT_STREQ(v.what(), "faultline: invariant \"arithmetic holds\" broken at t=0.100s");
  }
  EXPECT_FALSE(after_in_same_task);
  EXPECT_FALSE(same_instant_sibling);
  EXPECT_FALSE(later_task);
  EXPECT_EQ(sim.now(), at(100ms));
  // The timeline ends there: the violation, then only the checker's own end (the exception it threw).
  const auto events = sim.trace().events();
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[events.size() - 2].kind, event_kind::invariant);
  EXPECT_EQ(events[events.size() - 2].at, at(100ms));
  EXPECT_EQ(events.back().describe(),
            "t=0.100s checker threw faultline::invariant_violation: " + std::string(faultline::broken_invariant(sim)->what()));
  EXPECT_THAT(sim.trace().timeline(), HasSubstr("t=0.100s sim invariant broken: \"arithmetic holds\""));
  // The run stays stopped: driving the sim again throws the same violation.
  EXPECT_THROW(sim.run(), invariant_violation);
  EXPECT_THROW(sim.run_for(1s), invariant_violation);
  EXPECT_FALSE(later_task);
  EXPECT_EQ(faultline::broken_invariant(sim)->at(), at(100ms));
}

TEST(Invariant, CaughtByTheCodeUnderTestStillFailsTheRun) {
  sim_context sim;
  bool went_on = false;
  EXPECT_THROW(sim.run([&]() -> asio::awaitable<void> {
    co_await faultline::sleep_for(5ms);
    try {
      faultline::fail_now("no double booking", "seat 12A sold twice");
    } catch (const std::exception&) {
      // a catch-all in the code under test
    }
    co_await faultline::sleep_for(5ms);
    went_on = true;
  }),
               invariant_violation);
  EXPECT_FALSE(went_on);
  const auto v = faultline::broken_invariant(sim);
  ASSERT_TRUE(v);
  EXPECT_THAT(v->what(), HasSubstr("\"no double booking\" broken at t=0.005s: seat 12A sold twice"));
  EXPECT_EQ(v->name(), "no double booking");
  EXPECT_TRUE(faultline::broken_invariant(sim).has_value());
}

TEST(Invariant, AHoldingInvariantChangesNothing) {
  sim_context sim;
  auto r = sim.run([&]() -> asio::awaitable<int> {
    faultline::invariant(true, "fine");
    co_await faultline::sleep_for(5ms);
    co_return 7;
  });
  EXPECT_EQ(r.value(), 7);
  EXPECT_FALSE(faultline::broken_invariant(sim));
}

// A pool that holds 5 connections from 1.05s to 1.2s, over its limit of 4, and 3 at the end.
void spike_pool(sim_context& sim, int& in_use) {
  sim.spawn("pool", [&]() -> asio::awaitable<void> {
    in_use = 3;
    co_await faultline::sleep_for(1050ms);
    in_use = 5;
    co_await faultline::sleep_for(150ms);
    in_use = 3;
    co_await faultline::sleep_for(800ms);
  });
}

TEST(InvariantEvery, CatchesAStateThatRecoversBeforeTheEnd) {
  sim_context sim;
  int in_use = 0;
  spike_pool(sim, in_use);
  faultline::every(sim, 100ms, [&] { return in_use <= 4; }, "pool within its limit");
  try {
    sim.run();
    FAIL() << "the periodic check missed the spike";
  } catch (const invariant_violation& v) {
    EXPECT_EQ(v.at(), at(1100ms));
    EXPECT_THAT(v.what(), HasSubstr("\"pool within its limit\" broken at t=1.100s: checked every 0.100s"));
  }
  EXPECT_EQ(sim.now(), at(1100ms));
  EXPECT_EQ(in_use, 5);

  // Without the check the run ends well: only a check mid-run sees it.
  sim_context plain;
  int n = 0;
  spike_pool(plain, n);
  plain.run();
  EXPECT_EQ(n, 3);
  EXPECT_EQ(plain.now(), at(2000ms));
}

TEST(InvariantEvery, SeesTheStateBeforeTheHandlersOfItsInstantAndKeepsNoRunAlive) {
  sim_context sim;
  bool broken = false;
  sim.spawn("breaker", [&]() -> asio::awaitable<void> {
    co_await faultline::sleep_for(1s);
    broken = true;
    co_await faultline::sleep_for(2s);
  });
  int checks = 0;
  faultline::every(sim, 500ms, [&] { return ++checks, !broken; }, "not broken");
  try {
    sim.run();
    FAIL();
  } catch (const invariant_violation& v) {
    EXPECT_EQ(v.at(), at(1500ms));  // the check at 1s ran before the handler at 1s
  }
  EXPECT_EQ(checks, 3);

  sim_context idle;
  int idle_checks = 0;
  idle.spawn("work", [&]() -> asio::awaitable<void> { co_await faultline::sleep_for(2500ms); });
  faultline::every(idle, 1s, [&] { return ++idle_checks, true; }, "always");
  idle.run();
  EXPECT_EQ(idle.now(), at(2500ms));
  EXPECT_EQ(idle_checks, 2);  // at 1s and 2s; none keeps the run going past the work
}

TEST(InvariantMisuse, NamesTheValueAndTheFix) {
  try {
    faultline::invariant(true, "x");
    FAIL();
  } catch (const std::logic_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("faultline::invariant(\"x\") called outside a running sim"));
  }
  EXPECT_THROW(faultline::fail_now("y"), std::logic_error);
  sim_context sim;
  auto message = [&](faultline::sim_clock::duration period, std::function<bool()> p, std::string name) {
    return faultline_test::message_of([&] { faultline::every(sim, period, std::move(p), std::move(name)); });
  };
  EXPECT_THAT(message(0ms, [] { return true; }, "c"), HasSubstr("every(0.000s, \"c\"): the period is not above 0"));
  EXPECT_THAT(message(-1s, [] { return true; }, "c"), HasSubstr("the period is not above 0"));
  EXPECT_THAT(message(1s, nullptr, "c"), HasSubstr("the predicate is empty"));
  EXPECT_THAT(message(1s, [] { return true; }, ""), HasSubstr("has no name"));
}

// Fails with the invariant "two in a row" when calls 0 and 1 both fail, and
// with a plain exception when any call fails otherwise.
void two_in_a_row(sim_context& sim) {
  faultline::async_fake<int()> op(sim, "op");
  op.on_call().after(1ms).returns(1).repeatedly();
  bool any_failed = false;
  sim.run([&]() -> asio::awaitable<void> {
    int failed_in_a_row = 0;
    for (int i = 0; i < 6; ++i) {
      try {
        co_await op();
        failed_in_a_row = 0;
      } catch (const std::exception&) {
        any_failed = true;
        faultline::invariant(++failed_in_a_row < 2 || i > 1, "two in a row");
      }
    }
  });
  if (any_failed) throw std::runtime_error("a call failed");
}

TEST(InvariantSweep, MinimisingKeepsFailingWithTheSameInvariant) {
  faultline::sweep_options o;
  const auto failing = faultline::run_schedule(
      o, faultline::fault_schedule::parse("op#0=error;op#1=error;op#4=error"), 1, two_in_a_row);
  ASSERT_TRUE(failing.failed);
  EXPECT_EQ(failing.invariant, "two in a row");
  EXPECT_EQ(failing.ended, at(2ms));
  const auto m = faultline::minimise(o, failing, two_in_a_row);
  // Any single fault also fails the run ("a call failed"), but not with this invariant.
  EXPECT_EQ(m.schedule.to_string(), "op#0=error;op#1=error");
  EXPECT_THAT(m.failure, HasSubstr("invariant \"two in a row\" broken at t=0.002s"));
  const auto plain = faultline::run_schedule(o, faultline::fault_schedule::parse("op#4=error"), 1, two_in_a_row);
  EXPECT_TRUE(plain.failed);
  EXPECT_EQ(plain.invariant, "");
}

}  // namespace
