// Planted bugs that only time faults find: a heartbeat/fence race that needs a late timer (issue 16 item 1),
// and a composed operation that drops a late cancellation, found by PCT in fewer seeds than by the shuffle
// (issue 16 item 4). Each is found, minimised or replayed, and the correct copy passes the same sweep.
#include "heartbeat_fence_too_late.hpp"
#include "send_all_drops_late_cancel.hpp"

#include <faultline/chaos.hpp>
#include <faultline/steady_timer.hpp>
#include <faultline/sweep.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::chaos_scenario;
using faultline::fault_rates;
using faultline::latency_dist;
using faultline::sim_context;
using faultline::sweep_options;
using ::testing::HasSubstr;

// --- a node that fences itself later than its monitor gives up on it -----------------------------

// Two seconds of a node heartbeating every 100ms and writing every 10ms, its monitor checking every
// 10ms. Invariant: the node never writes at or after the instant the monitor declared it dead.
chaos_scenario fence_scenario(bool buggy) {
  return [buggy](sim_context& sim) {
    samples::bugs::heartbeat_monitor monitor;
    samples::bugs::fenced_writer node =
        buggy ? samples::bugs::writer_fencing_too_late(monitor) : samples::bugs::fenced_writer(monitor);
    const auto until = faultline::steady_clock::time_point(2s);
    sim.spawn("heartbeat", node.heartbeat(until));
    sim.spawn("writer", node.write_loop(10ms, until));
    sim.spawn("monitor", monitor.watch(10ms, until));
    sim.run();
    if (!monitor.declared_dead_at) return;
    auto text = [](faultline::steady_clock::time_point t) {
      return faultline::to_string(faultline::sim_clock::time_point(t.time_since_epoch()));
    };
    for (auto w : node.writes)
      if (w >= *monitor.declared_dead_at)
        throw std::runtime_error("two writers: the node wrote at " + text(w) +
                                 ", after its monitor declared it dead at " + text(*monitor.declared_dead_at));
  };
}

// Late timers: one heartbeat in ten fires up to 100ms late.
faultline::chaos_plan late_heartbeats() {
  return faultline::chaos_plan().point("heartbeat", fault_rates().latency(latency_dist::uniform(0ms, 100ms, 0.1)));
}

TEST(TimeFaultsFind, AFenceLongerThanTheMonitorsDeadlineOnlyWithLateTimers) {
  // Late timers off: no fault, handler orders shuffled, 200 seeds. Every gap is 100ms.
  sweep_options off;
  off.seeds = 200;
  off.perturb = true;
  const auto quiet = faultline::sweep(off, fence_scenario(true));
  EXPECT_FALSE(quiet.failure) << faultline::describe(quiet);
  EXPECT_EQ(quiet.seeds_run, 200u);

  // On: a beat more than 50ms late (chance 0.1 x 0.5 a beat, 19 beats a run) exposes it in a seed
  // with p > 0.6, so 10 seeds miss it with probability below 1e-4.
  sweep_options on;
  on.seeds = 200;
  on.plan = late_heartbeats();
  const auto r = faultline::sweep(on, fence_scenario(true));
  ASSERT_TRUE(r.failure) << "seeds 1..200 never made a heartbeat late enough";
  EXPECT_LE(r.failure->seed, 10u) << faultline::describe(r);
  EXPECT_THAT(r.failure->failure, HasSubstr("two writers"));
  // Minimised to one late heartbeat, named by the timer's point.
  ASSERT_TRUE(r.minimal);
  ASSERT_TRUE(r.minimal->reproduced);
  ASSERT_EQ(r.minimal->schedule.size(), 1u) << r.minimal->schedule.to_string();
  const auto& late = r.minimal->schedule.faults()[0];
  EXPECT_EQ(late.point, "heartbeat");
  EXPECT_EQ(late.kind, faultline::fault_kind::latency);
  EXPECT_GT(late.latency, 50ms);
  // The schedule replays: as printed, parsed back, on a fresh sim.
  const auto replayed = faultline::run_schedule(on, faultline::fault_schedule::parse(r.minimal->schedule.to_string()),
                                                r.failure->seed, fence_scenario(true));
  EXPECT_TRUE(replayed.failed);
  EXPECT_THAT(replayed.failure, HasSubstr("two writers"));

  // The correct node (fence 120ms < 150ms) passes every seed, late timers on.
  on.seeds = 100;
  const auto correct = faultline::sweep(on, fence_scenario(false));
  EXPECT_FALSE(correct.failure) << faultline::describe(correct);
  EXPECT_GT(correct.coverage.at("heartbeat").injected.by_kind[static_cast<std::size_t>(faultline::fault_kind::latency)],
            50u);
}

// --- a composed operation that drops a cancellation arriving between completion and handler ------

// Five one-second chunks, and a deadline at t=1s that reaches the send through three layers
// (session, connection, stream), each handing the stop on in its own turn of the executor, as
// layered Asio code does. Whichever same-instant completion runs first, the send must end at t=1s.
asio::awaitable<void> stop_through_layers(asio::cancellation_signal& stop) {
  co_await faultline::sleep_for(1s);
  for (int layer = 0; layer < 3; ++layer)
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  stop.emit(asio::cancellation_type::terminal);
}

chaos_scenario send_scenario(bool buggy) {
  return [buggy](sim_context& sim) {
    samples::bugs::chunk_writer write(sim, "write");
    write.on_call().after(1s).returns().repeatedly();
    asio::cancellation_signal stop;
    auto send = sim.spawn("send", [&]() -> asio::awaitable<void> {
      auto token = asio::bind_cancellation_slot(stop.slot(), asio::use_awaitable);
      if (buggy)
        co_await samples::bugs::async_send_all_dropping_late_cancel(write, 5, token);
      else
        co_await samples::bugs::async_send_all(write, 5, token);
    });
    sim.spawn("deadline", stop_through_layers(stop));
    sim.run();
    if (send.result().completed_at() != faultline::at(1s))
      throw std::runtime_error("the send stopped at t=1s ended at " + faultline::to_string(send.result().completed_at()));
  };
}

sweep_options orders(faultline::perturbation mode) {
  sweep_options o;
  o.seeds = 200;
  o.perturb = true;
  o.sim.perturb_mode = mode;
  o.minimise_budget = 0;  // no faults to minimise: the seed is the order
  return o;
}

TEST(TimeFaultsFind, ACancellationDroppedBetweenCompletionAndHandlerSoonerWithPct) {
  // FIFO: the chunk's completion was queued first and runs first, so the cancellation reaches the
  // next chunk in flight.
  const auto fifo = faultline::run_seed(sweep_options{}, 1, send_scenario(true));
  EXPECT_FALSE(fifo.failed) << fifo.failure;

  // The bug needs the deadline's whole chain (its timer, three layers) to run before the chunk's
  // one completion: the shuffle draws each of the four steps afresh (1 in 16 seeds), PCT gives the
  // chain one priority (about 1 in 2 seeds, less what its change points preempt).
  const auto shuffle = faultline::sweep(orders(faultline::perturbation::shuffle), send_scenario(true));
  const auto pct = faultline::sweep(orders(faultline::perturbation::pct), send_scenario(true));
  ASSERT_TRUE(shuffle.failure);
  ASSERT_TRUE(pct.failure);
  EXPECT_THAT(pct.failure->failure, HasSubstr("ended at t=5.000s"));
  // Measured over seeds 1..200: the shuffle fails 5 of them, the first at seed 83; PCT fails 95,
  // the first at seed 2. Both are exact: the seed fixes the order.
  EXPECT_EQ(shuffle.failure->seed, 83u) << faultline::describe(shuffle);
  EXPECT_EQ(pct.failure->seed, 2u) << faultline::describe(pct);

  // The seed replays the order: the same failure, the same trace.
  const auto again = faultline::run_seed(orders(faultline::perturbation::pct), pct.failure->seed, send_scenario(true));
  EXPECT_TRUE(again.failed);
  EXPECT_EQ(again.trace_hash, pct.failure->trace_hash);

  // The correct operation checks its cancellation state between chunks: no order breaks it.
  EXPECT_FALSE(faultline::sweep(orders(faultline::perturbation::pct), send_scenario(false)).failure);
  EXPECT_FALSE(faultline::sweep(orders(faultline::perturbation::shuffle), send_scenario(false)).failure);
}

}  // namespace
