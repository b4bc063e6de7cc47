// faultline_fake_bench: what an immediate call of an async_fake costs, next to co_await post (DESIGN.md: at most 1.5x).
#include <faultline/fake.hpp>

#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>
#include <exception>
#include <string>

namespace {

namespace asio = boost::asio;

void per_call(benchmark::State& state) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["per_call"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                  benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void rethrow(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

// A fake returning at once; the loop runs inside one sim run, so only the call costs.
void fake_immediate_call(benchmark::State& state) {
  faultline::sim_options o;
  o.step_limit = std::uint64_t{1} << 40;  // every call completes at t=0: not a livelock here
  faultline::sim_context sim(o);
  faultline::async_fake<int(int)> fake(sim, "fake");
  fake.on_call().returns(1).repeatedly();
  asio::co_spawn(
      sim,
      [&]() -> asio::awaitable<void> {
        int sum = 0;
        for (auto _ : state) sum += co_await fake(7);
        benchmark::DoNotOptimize(sum);
      },
      rethrow);
  sim.run();
  per_call(state);
}
BENCHMARK(fake_immediate_call);

// The same call through the error_code form and a callback: no coroutine at all.
void fake_immediate_callback(benchmark::State& state) {
  faultline::sim_options o;
  o.step_limit = std::uint64_t{1} << 40;
  faultline::sim_context sim(o);
  faultline::async_fake<int(int)> fake(sim, "fake");
  fake.on_call().returns(1).repeatedly();
  struct again {
    faultline::async_fake<int(int)>& fake;
    benchmark::State& state;
    void operator()(boost::system::error_code, int) const {
      if (state.KeepRunning()) fake.async_call(7, *this);
    }
  };
  if (state.KeepRunning()) fake.async_call(7, again{fake, state});
  sim.run();
  per_call(state);
}
BENCHMARK(fake_immediate_callback);

// Baseline in the same run: co_await post on an io_context.
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

}  // namespace

BENCHMARK_MAIN();
