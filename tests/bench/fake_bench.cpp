// faultline_fake_bench: what a call of an async_fake costs, next to its reference in the same binary
// (issue 14: an immediate call at most 1.5x `co_await post`, a call with latency at most 1.5x a
// virtual sleep of the same duration). Read `per_call` and compare within one run.
#include <faultline/fake.hpp>
#include <faultline/steady_timer.hpp>

#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <string>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Every immediate call completes at t=0 (not a livelock here), and a long
// run of 1ms latencies must not meet the default 24h horizon.
const faultline::sim_options long_run{.step_limit = std::uint64_t{1} << 40, .horizon = std::chrono::hours(1'000'000)};

// A sim's first events grow its trace ring (2,048 records by default); timing
// starts after this many calls or sleeps, as in faultline_bench.
constexpr int warmup = 16384;

void per_call(benchmark::State& state) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["per_call"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                  benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void rethrow(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

// The loop runs inside one sim run, so only the calls cost.
asio::awaitable<void> call_loop(benchmark::State& state, faultline::async_fake<int(int)>& fake) {
  int sum = 0;
  for (int i = 0; i < warmup; ++i) sum += co_await fake(7);
  for (auto _ : state) sum += co_await fake(7);
  benchmark::DoNotOptimize(sum);
}

// A fake returning at once.
void fake_immediate_call(benchmark::State& state) {
  faultline::sim_context sim(long_run);
  faultline::async_fake<int(int)> fake(sim, "fake");
  fake.on_call().returns(1).repeatedly();
  asio::co_spawn(sim, call_loop(state, fake), rethrow);
  sim.run();
  per_call(state);
}
BENCHMARK(fake_immediate_call);

// Reference for the immediate call, in the same run: co_await post on an io_context.
void asio_post(benchmark::State& state) {
  asio::io_context io;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        for (auto _ : state) co_await asio::post(ex, asio::use_awaitable);
      },
      rethrow);
  io.run();
  per_call(state);
}
BENCHMARK(asio_post);

// A fake answering after 1ms of virtual time: a real pending timer per call.
void fake_latency_call(benchmark::State& state) {
  faultline::sim_context sim(long_run);
  faultline::async_fake<int(int)> fake(sim, "fake");
  fake.on_call().after(1ms).returns(1).repeatedly();
  asio::co_spawn(sim, call_loop(state, fake), rethrow);
  sim.run();
  per_call(state);
}
BENCHMARK(fake_latency_call);

// Reference for the call with latency, in the same run: a virtual sleep of the same 1ms.
void sim_sleep(benchmark::State& state) {
  faultline::sim_context sim(long_run);
  asio::co_spawn(
      sim,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < warmup; ++i) co_await faultline::sleep_for(1ms);
        for (auto _ : state) co_await faultline::sleep_for(1ms);
      },
      rethrow);
  sim.run();
  per_call(state);
}
BENCHMARK(sim_sleep);

}  // namespace

BENCHMARK_MAIN();
