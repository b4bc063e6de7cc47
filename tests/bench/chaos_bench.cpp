// faultline_chaos_bench: seeds per second of a chaos sweep over the retry sample (DESIGN.md: >= 20,000 on one core).
#include "retry.hpp"

#include <faultline/fake.hpp>
#include <faultline/sweep.hpp>

#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using fetch_fake = faultline::async_fake<std::string(std::string)>;

// The retry sample's main scenario: up to 4 attempts with 100ms, 200ms, 400ms
// backoff against a fetch that answers in 10ms unless chaos says otherwise.
void retry_scenario(faultline::sim_context& sim) {
  fetch_fake fetch(sim, "fetch");
  fetch.on_call().after(10ms).returns("ok").repeatedly();
  samples::retry::retry_policy policy;
  policy.max_attempts = 4;
  policy.initial_delay = 100ms;
  auto r = sim.run(samples::retry::retry([&] { return fetch("/a"); }, policy));
  // It may give up only after 4 failed attempts, or at once when an attempt is cancelled.
  const auto& calls = fetch.calls();
  const bool last_cancelled = !calls.empty() && calls.back().status == faultline::call_status::cancelled;
  if (!r.has_value() && calls.size() < 4 && !last_cancelled) throw std::runtime_error("gave up early");
}

faultline::sweep_options plan() {
  faultline::sweep_options o;
  o.plan.point("fetch", faultline::fault_rates().error(0.3).cancel(0.02).latency(
                            faultline::latency_dist::uniform(1ms, 50ms, 0.3)));
  o.minimise_budget = 0;
  return o;
}

void seeds_per_second(benchmark::State& state) {
  state.counters["seeds_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// One seed: a fresh sim, chaos armed, the scenario, the log and coverage read back.
void chaos_seed_retry(benchmark::State& state) {
  const auto o = plan();
  std::uint64_t seed = 1;
  for (auto _ : state) benchmark::DoNotOptimize(faultline::run_seed(o, seed++, retry_scenario).failed);
  seeds_per_second(state);
}
BENCHMARK(chaos_seed_retry);

// A whole sweep of 1,000 seeds, as FAULTLINE_CHAOS_TEST runs it (the
// scenario holds, so every seed runs).
void sweep_1000_seeds(benchmark::State& state, faultline::sweep_options o) {
  o.seeds = 1000;
  for (auto _ : state) {
    const auto r = faultline::sweep(o, retry_scenario);
    if (r.failure || r.seeds_run != 1000) state.SkipWithError("the retry scenario failed under chaos");
  }
  state.counters["seeds_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 1000.0, benchmark::Counter::kIsRate);
}

void chaos_sweep_retry_1000(benchmark::State& state) { sweep_1000_seeds(state, plan()); }
BENCHMARK(chaos_sweep_retry_1000)->Unit(benchmark::kMillisecond);

// Issue 13's figure: the same sweep with correlated outages (the library's
// default `outage_model()`) on top of the rates, and swarm mode (each seed
// enables a random subset of points and fault kinds).
void chaos_sweep_retry_outages_swarm_1000(benchmark::State& state) {
  auto o = plan();
  o.plan = faultline::chaos_plan()
               .point("fetch", faultline::fault_rates()
                                   .error(0.3)
                                   .cancel(0.02)
                                   .latency(faultline::latency_dist::uniform(1ms, 50ms, 0.3))
                                   .outage(faultline::outage_model()))
               .swarm();
  sweep_1000_seeds(state, std::move(o));
}
BENCHMARK(chaos_sweep_retry_outages_swarm_1000)->Unit(benchmark::kMillisecond);

// The same scenario on a fresh sim without chaos: what the sweep machinery adds.
void plain_run_retry(benchmark::State& state) {
  for (auto _ : state) {
    faultline::sim_context sim;
    retry_scenario(sim);
  }
  seeds_per_second(state);
}
BENCHMARK(plain_run_retry);

// Asio baseline in the same run: a fresh io_context running one coroutine
// that posts as many times as the scenario awaits (about 4).
void asio_fresh_context_4_posts(benchmark::State& state) {
  for (auto _ : state) {
    asio::io_context io;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          for (int i = 0; i < 4; ++i) co_await asio::post(io, asio::use_awaitable);
        },
        asio::detached);
    io.run();
  }
  seeds_per_second(state);
}
BENCHMARK(asio_fresh_context_4_posts);

}  // namespace

BENCHMARK_MAIN();
