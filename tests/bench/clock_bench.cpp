// clock_bench: what faultline::steady_clock and steady_timer cost in production, next to what they replace.
//
// Outside a sim, `faultline::steady_clock::now()` is one out-of-line call, a
// thread-local read that finds no running sim, then
// `std::chrono::steady_clock::now()` (clock_gettime through the vDSO): what
// production code pays for the seam is the difference between the first two
// benchmarks. Inside a sim it reads the sim's virtual clock and never calls
// the kernel. On an io_context, a `faultline::steady_timer` is an
// `asio::steady_timer` behind a pointer, chosen once at construction. Read
// `per_op`.
#include <faultline/sim_context.hpp>
#include <faultline/steady_clock.hpp>
#include <faultline/steady_timer.hpp>

#include <benchmark/benchmark.h>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <exception>

namespace {

namespace asio = boost::asio;

void report(benchmark::State& state) {
  state.SetItemsProcessed(state.iterations());
  state.counters["per_op"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// -- outside a sim: production ------------------------------------------------------------

void std_steady_clock_now(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(std::chrono::steady_clock::now());
  report(state);
}
BENCHMARK(std_steady_clock_now);

void faultline_steady_clock_now_outside_sim(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(faultline::steady_clock::now());
  report(state);
}
BENCHMARK(faultline_steady_clock_now_outside_sim);

// The same, on a thread where a sim exists but is not running (a test body
// between runs): still real time, at the same cost.
void faultline_steady_clock_now_sim_alive_not_running(benchmark::State& state) {
  faultline::sim_context sim;
  for (auto _ : state) benchmark::DoNotOptimize(faultline::steady_clock::now());
  report(state);
}
BENCHMARK(faultline_steady_clock_now_sim_alive_not_running);

// -- inside a sim: under test ----------------------------------------------------------------

// The loop runs inside one coroutine on the sim, so the reads see its clock.
template <class Read>
void in_sim(benchmark::State& state, Read read) {
  faultline::sim_context sim;
  sim.run([&]() -> asio::awaitable<void> {
       for (auto _ : state) benchmark::DoNotOptimize(read());
       co_return;
     })
      .value();
  report(state);
}

void faultline_steady_clock_now_in_sim(benchmark::State& state) {
  in_sim(state, [] { return faultline::steady_clock::now(); });
}
BENCHMARK(faultline_steady_clock_now_in_sim);

// For scale: sim_clock::now() (virtual time only; throws outside a sim).
void sim_clock_now_in_sim(benchmark::State& state) {
  in_sim(state, [] { return faultline::sim_clock::now(); });
}
BENCHMARK(sim_clock_now_in_sim);

// -- steady_timer on an io_context: production -------------------------------------------------

// Construction decides real or virtual once (a lookup of the executor's
// context); asio::steady_timer is the baseline.
template <class Timer>
void timer_construct(benchmark::State& state) {
  asio::io_context io;
  asio::any_io_executor ex = io.get_executor();
  for (auto _ : state) {
    Timer t(ex);
    benchmark::DoNotOptimize(t);
  }
  report(state);
}

void asio_steady_timer_construct(benchmark::State& state) { timer_construct<asio::steady_timer>(state); }
BENCHMARK(asio_steady_timer_construct);

void faultline_steady_timer_construct_on_io_context(benchmark::State& state) {
  timer_construct<faultline::steady_timer>(state);
}
BENCHMARK(faultline_steady_timer_construct_on_io_context);

// A wait on an already-expired timer: a full trip through the io_context's
// reactor (DESIGN.md's ~8,300 ns baseline).
template <class Timer>
asio::awaitable<void> expired_wait_loop(benchmark::State& state) {
  Timer t(co_await asio::this_coro::executor);
  for (auto _ : state) {
    t.expires_at(typename Timer::time_point{});  // the clock's epoch: long past
    co_await t.async_wait(asio::use_awaitable);
  }
}

template <class Timer>
void expired_wait(benchmark::State& state) {
  asio::io_context io;
  std::exception_ptr error;
  asio::co_spawn(io, expired_wait_loop<Timer>(state), [&](std::exception_ptr e) { error = e; });
  io.run();
  if (error) std::rethrow_exception(error);
  report(state);
}

void asio_steady_timer_expired_wait(benchmark::State& state) { expired_wait<asio::steady_timer>(state); }
BENCHMARK(asio_steady_timer_expired_wait);

void faultline_steady_timer_expired_wait_on_io_context(benchmark::State& state) {
  expired_wait<faultline::steady_timer>(state);
}
BENCHMARK(faultline_steady_timer_expired_wait_on_io_context);

}  // namespace

BENCHMARK_MAIN();
