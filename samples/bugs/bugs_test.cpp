// Chaos sweeps over planted bugs: for each, one scenario checks the invariant the bug breaks; a seeded
// sweep finds the bug in the buggy copy within a stated number of seeds, minimises it to at most two
// faults and replays it, and the same sweep passes on the correct sample.
#include "gather_drops_error.hpp"
#include "queue_loses_item.hpp"
#include "resource_scope_skips_cleanup.hpp"
#include "retry_retries_cancellation.hpp"
#include "scenario_support.hpp"
#include "task_group_leaks_sibling.hpp"
#include "timeout_leaves_operation_running.hpp"

#include <faultline/fake.hpp>
#include <faultline/steady_timer.hpp>
#include <faultline/sweep.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::call_status;
using faultline::chaos_scenario;
using faultline::fault_rates;
using faultline::latency_dist;
using faultline::sim_context;
using faultline::sweep_options;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using bugs_test::fetch_fake;

// Every bug's sweep runs seeds 1..200 (or FAULTLINE_SEEDS, if more); each test states how many
// the bug needs at most.
const std::uint64_t seeds = bugs_test::sweep_seeds(200);

sweep_options plan_for(std::vector<std::pair<std::string, fault_rates>> points) {
  sweep_options o;
  o.seeds = seeds;
  for (auto& [name, rates] : points) o.plan.point(name, rates);
  return o;
}

// What is suspended on `sim` besides the scenario's own task, one line each.
std::string left_pending(const sim_context& sim) {
  std::string s;
  for (const auto& p : sim.pending())
    if (!(p.kind == "task" && p.name == "main")) s += "\n  " + p.describe();
  return s;
}

// The sweep finds the planted bug by seed `within`, its failure says `broken` (the invariant, not
// some other failure), the minimal schedule has at most two faults, both schedules replay (the
// original bit for bit), and the same sweep passes on the correct sample.
void expect_found_and_replayed(const sweep_options& o, const chaos_scenario& buggy, const chaos_scenario& correct,
                               std::uint64_t within, const std::string& broken) {
  const auto r = faultline::sweep(o, buggy);
  ASSERT_TRUE(r.failure) << "seeds 1.." << o.seeds << " never broke the invariant";
  EXPECT_LE(r.failure->seed, within) << faultline::describe(r);
  EXPECT_THAT(r.failure->failure, HasSubstr(broken));
  ASSERT_TRUE(r.minimal);
  EXPECT_TRUE(r.minimal->reproduced);
  EXPECT_LE(r.minimal->schedule.size(), 2u) << faultline::describe(r);
  EXPECT_THAT(r.minimal->failure, HasSubstr(broken));
  EXPECT_TRUE(faultline::run_schedule(o, r.minimal->schedule, r.failure->seed, buggy).failed);
  EXPECT_FALSE(faultline::run_schedule(o, r.minimal->schedule, r.failure->seed, correct).failed);
  const auto again = faultline::run_schedule(o, r.failure->schedule, r.failure->seed, buggy);
  EXPECT_TRUE(again.failed);
  EXPECT_EQ(again.trace_hash, r.failure->trace_hash);

  const auto clean = faultline::sweep(o, correct);
  EXPECT_FALSE(clean.failure) << faultline::describe(clean);
  EXPECT_EQ(clean.seeds_run, o.seeds);
  EXPECT_THAT(clean.never_exercised, IsEmpty());  // every fault kind of the plan hit every point
}

// --- retry: a cancelled attempt is the last one -------------------------------------------------

template <class Retry>
chaos_scenario retry_scenario(Retry retry) {
  return [retry](sim_context& sim) {
    fetch_fake fetch(sim, "fetch");
    fetch.on_call().after(50ms).returns("ok").repeatedly();
    const samples::retry::retry_policy policy{.max_attempts = 4, .initial_delay = 100ms};
    (void)sim.run(retry([&] { return fetch("/a"); }, policy));
    const auto& calls = fetch.calls();
    for (std::size_t i = 0; i + 1 < calls.size(); ++i)
      if (calls[i].status == call_status::cancelled)
        throw std::runtime_error("cancellation retried: " + calls[i].describe() + ", then " + calls[i + 1].describe());
  };
}

// No hang: retry has no deadline of its own (bounding it is the timeouts sample's job).
TEST(ChaosFinds, ARetryThatRetriesCancellation) {
  const auto o = plan_for(
      {{"fetch", fault_rates().error(0.2).cancel(0.05).latency(latency_dist::uniform(0ms, 100ms, 0.5))}});
  // A seed exposes it when a cancel lands on one of the first 3 attempts: p > 5%, so 90 seeds
  // miss it with probability < 1%.
  expect_found_and_replayed(o, retry_scenario(LIFT(samples::bugs::retry)), retry_scenario(LIFT(samples::retry::retry)),
                            90, "cancellation retried");
}

// --- timeouts: nothing left running once with_timeout has returned ------------------------------

template <class WithTimeout>
chaos_scenario timeout_scenario(WithTimeout with_timeout) {
  return [with_timeout](sim_context& sim) {
    fetch_fake fetch(sim, "fetch");
    fetch.on_call().after(100ms).returns("ok").repeatedly();
    sim.run([&]() -> asio::awaitable<void> {
      for (std::string path : {"/a", "/b"}) {
        try {
          co_await with_timeout(fetch(path), 500ms);
        } catch (const boost::system::system_error&) {
          // a timeout or the call's own error: both are fine here
        }
        if (auto left = left_pending(sim); !left.empty())
          throw std::runtime_error("with_timeout(fetch(\"" + path + "\")) returned at " +
                                   faultline::to_string(sim.now()) + " leaving pending:" + left);
      }
    }).value();
  };
}

TEST(ChaosFinds, ATimeoutThatLeavesTheOperationRunning) {
  const auto o = plan_for({{"fetch", fault_rates().error(0.2).hang(0.05).cancel(0.05).latency(
                                         latency_dist::uniform(0ms, 1s, 0.5))}});
  // A call outlives the 500ms limit when it hangs (5%) or gets over 400ms of extra latency
  // (0.7 x 0.5 x 0.6 = 21%): p > 25% per call, 1 - 0.75^2 > 43% per seed (two calls), so 10
  // seeds miss it with probability < 1%.
  expect_found_and_replayed(o, timeout_scenario(LIFT(samples::bugs::with_timeout)),
                            timeout_scenario(LIFT(samples::timeouts::with_timeout)), 10, "leaving pending");
}

// --- gather: every call's end is in its slot -----------------------------------------------------

template <class Gather>
chaos_scenario gather_scenario(Gather gather) {
  return [gather](sim_context& sim) {
    fetch_fake fetch(sim, "fetch");
    fetch.on_call().after(100ms).invokes([](const std::string& path) { return "page " + path; }).repeatedly();
    const std::vector<std::string> paths{"/a", "/b", "/c"};
    const auto results = sim.run([&]() -> asio::awaitable<std::vector<samples::gather::result<std::string>>> {
                              std::vector<asio::awaitable<std::string>> calls;
                              for (const auto& p : paths) calls.push_back(fetch(p));
                              co_return co_await gather(std::move(calls));
                            }).value();
    for (std::size_t i = 0; i < paths.size(); ++i) {
      const auto& call = *std::ranges::find(fetch.calls(), paths[i], [](const auto& c) { return std::get<0>(c.args); });
      const auto& slot = results.at(i);
      if (call.status != call_status::returned && slot.index() == 0)
        throw std::runtime_error("error dropped: " + call.describe() + ", but gather reported the value \"" +
                                 std::get<0>(slot) + "\"");
      if (call.status == call_status::returned && (slot.index() != 0 || std::get<0>(slot) != "page " + paths[i]))
        throw std::runtime_error("value lost: " + call.describe());
    }
  };
}

// No hang: gather waits for its slowest call by design (its caller bounds it).
TEST(ChaosFinds, AGatherThatDropsAnError) {
  const auto o = plan_for(
      {{"fetch", fault_rates().error(0.2).cancel(0.05).latency(latency_dist::uniform(0ms, 100ms, 0.5))}});
  // Any error or cancel among the 3 calls exposes it: p = 1 - 0.75^3 = 58%, so 6 seeds miss it
  // with probability < 1%.
  expect_found_and_replayed(o, gather_scenario(LIFT(samples::bugs::gather)),
                            gather_scenario(LIFT(samples::gather::gather)), 6, "error dropped");
}

// --- task_group: no task still running once run_all has returned ---------------------------------

template <class RunAll>
chaos_scenario task_group_scenario(RunAll run_all) {
  return [run_all](sim_context& sim) {
    faultline::async_fake<int(int)> job(sim, "job");
    job.on_call(1).after(30ms).returns(1).repeatedly();
    job.on_call(2).after(60ms).returns(2).repeatedly();
    job.on_call(3).after(90ms).returns(3).repeatedly();
    sim.run([&]() -> asio::awaitable<void> {
      std::vector<asio::awaitable<int>> tasks;
      for (int i = 1; i <= 3; ++i) tasks.push_back(job(i));
      try {
        co_await run_all(std::move(tasks));
      } catch (const samples::task_group::group_error&) {
        // a job failed: the group must have stopped the others
      }
      if (auto left = left_pending(sim); !left.empty())
        throw std::runtime_error("run_all returned at " + faultline::to_string(sim.now()) + " leaving pending:" + left);
    }).value();
  };
}

// No hang: a group without a failure waits for its slowest task by design.
TEST(ChaosFinds, ATaskGroupThatLeaksASibling) {
  const auto o = plan_for(
      {{"job", fault_rates().error(0.2).cancel(0.05).latency(latency_dist::uniform(0ms, 100ms, 0.5))}});
  // A failure (error or cancel: 25%) of job 1 (30ms) or job 2 (60ms) leaves a sibling running:
  // p > 1 - 0.75^2 > 43%, so 10 seeds miss it with probability < 1%.
  expect_found_and_replayed(o, task_group_scenario(LIFT(samples::bugs::run_all)),
                            task_group_scenario(LIFT(samples::task_group::run_all)), 10, "leaving pending");
}

// --- queue: no item lost ------------------------------------------------------------------------

template <class RunPipeline>
chaos_scenario queue_scenario(RunPipeline run_pipeline) {
  return [run_pipeline](sim_context& sim) {
    using samples::queue::item;
    faultline::async_fake<void(item)> process(sim, "process");
    process.on_call().after(100ms).returns().repeatedly();
    std::vector<item> items;
    for (int id = 1; id <= 6; ++id) items.push_back({id, "job" + std::to_string(id)});
    const auto s = sim.run(run_pipeline(items, samples::queue::process_fn(std::ref(process)),
                                        samples::queue::pipeline_options{.consumers = 2, .capacity = 2}))
                       .value();
    for (const auto& it : items) {
      const auto lists = std::ranges::count(s.processed, it.id) +
                         std::ranges::count(s.failed, it.id, &samples::queue::problem::id) +
                         std::ranges::count(s.rejected, it.id, &samples::queue::problem::id);
      if (lists != 1)
        throw std::runtime_error(std::string(lists == 0 ? "item lost: " : "item doubled: ") + "#" +
                                 std::to_string(it.id) + " is in " + std::to_string(lists) + " lists of the summary");
    }
  };
}

// No hang: the pipeline waits for every item by design (its caller bounds it).
TEST(ChaosFinds, AConsumerThatLosesAnItem) {
  const auto o = plan_for(
      {{"process", fault_rates().error(0.2).cancel(0.05).latency(latency_dist::uniform(0ms, 100ms, 0.5))}});
  // A failure (error or cancel: 25%) of one of items 1-4 loses the item its consumer takes next
  // (5 and 6 are their consumers' last): p = 1 - 0.75^4 = 68%, so 5 seeds miss it with
  // probability < 1% (0.32^5).
  expect_found_and_replayed(o, queue_scenario(LIFT(samples::bugs::run_pipeline)),
                            queue_scenario(LIFT(samples::queue::run_pipeline)), 5, "item lost");
}

// --- resource_scope: every connection opened is closed -------------------------------------------

template <class WithConnection>
chaos_scenario resource_scope_scenario(WithConnection with_connection) {
  return [with_connection](sim_context& sim) {
    using samples::resource_scope::connection_id;
    using namespace asio::experimental::awaitable_operators;
    faultline::async_fake<connection_id(std::string)> connect(sim, "db.connect");
    faultline::async_fake<std::string(connection_id)> query(sim, "db.query");
    faultline::async_fake<void(connection_id)> disconnect(sim, "db.disconnect");
    connect.on_call().after(20ms).returns(7).repeatedly();
    query.on_call().after(100ms).returns("rows").repeatedly();
    disconnect.on_call().after(10ms).returns().repeatedly();
    const samples::resource_scope::database db{
        .connect = [&](std::string dsn) { return connect(std::move(dsn)); },
        .disconnect = [&](connection_id c) { return disconnect(c); }};
    sim.run([&]() -> asio::awaitable<void> {
      // The caller gives the whole scope 1s: a slow or hung query is cancelled.
      co_await (with_connection(db, "db://orders", [&](connection_id c) { return query(c); }) ||
                faultline::sleep_for(1s));
    }).value();
    std::size_t opened = 0;
    for (const auto& c : connect.calls()) opened += c.status == call_status::returned;
    if (disconnect.call_count() != opened)
      throw std::runtime_error("cleanup skipped: " + std::to_string(opened) + " connection(s) opened, " +
                               std::to_string(disconnect.call_count()) + " disconnect call(s); last query: " +
                               (query.calls().empty() ? std::string("none") : query.calls().back().describe()));
  };
}

TEST(ChaosFinds, AScopeThatSkipsCleanupOnCancel) {
  const auto o = plan_for(
      {{"db.connect", fault_rates().error(0.1).latency(latency_dist::uniform(0ms, 100ms, 0.5))},
       {"db.query",
        fault_rates().error(0.2).hang(0.05).cancel(0.05).latency(latency_dist::uniform(0ms, 2s, 0.3))},
       {"db.disconnect", fault_rates().error(0.1)}});
  // The 1s deadline cancels the scope during the query when the query hangs (5%) or gets over
  // 900ms of extra latency (0.7 x 0.3 x 0.55 = 11%), after a connect that succeeded (90%):
  // p > 14%, so 35 seeds miss it with probability < 1%.
  expect_found_and_replayed(o, resource_scope_scenario(LIFT(samples::bugs::with_connection)),
                            resource_scope_scenario(LIFT(samples::resource_scope::with_connection)), 35,
                            "cleanup skipped");
}

}  // namespace
