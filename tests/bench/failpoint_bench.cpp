// failpoint_bench: what a failpoint costs when nothing arms it, next to a bare nested co_await and an empty loop.
//
// Target (DESIGN.md, "Performance targets"): a disarmed failpoint costs under
// 5 ns. In Asio 1.81 every `co_await` of an `asio::awaitable` suspends (its
// await_transform wraps the awaitable in an op whose await_ready is false),
// so `co_await faultline::failpoint("x")` pays for a coroutine frame even when
// disarmed, about what a nested co_await of a trivial awaitable costs; the
// statement form `FAULTLINE_FAILPOINT("x");` is one branch on a thread-local.
// Read `per_op`; the loops run inside one coroutine, so no setup is timed.
//
// The same source is built a second time with FAULTLINE_NO_FAILPOINTS
// (failpoint_off/), so one build shows failpoints compiled in and out side by
// side; compiled out, the `_armed` cases must never fire.
//
// Every loop body ends in benchmark::ClobberMemory(), so the compiler cannot
// hoist the thread-local read out of the loop (user code between two
// failpoints makes calls that would prevent that too); the empty loop pays
// the same barrier.
#include <faultline/failpoint.hpp>
#include <faultline/sim_context.hpp>

#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>

namespace {

namespace asio = boost::asio;

void report(benchmark::State& state) {
  state.SetItemsProcessed(state.iterations());
  state.counters["per_op"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Runs `loop(state)` to completion in a fresh sim (nothing armed unless `arm`
// says so).
template <class Loop>
void in_sim(benchmark::State& state, Loop loop, const char* arm_name = nullptr, const char* arm_actions = nullptr) {
  faultline::sim_context sim;
  faultline::failpoints(sim).disarm_all();  // whatever FAULTLINE_FAILPOINTS says
  if (arm_name) faultline::failpoints(sim).arm(arm_name, arm_actions);
  auto r = sim.run(loop(state));
  if (r.has_exception()) state.SkipWithError(faultline::detail::describe_exception(r.exception()).c_str());
  // Some cases arm a name the loop never reaches on purpose (another name's cost; everything when
  // failpoints are compiled out): having read the list, the sim does not report them at its end.
  (void)faultline::failpoints(sim).unreached();
  report(state);
}

// The same loop on an io_context: outside any sim, tls_current_core is null.
template <class Loop>
void outside_sim(benchmark::State& state, Loop loop) {
  asio::io_context io;
  std::exception_ptr error;
  asio::co_spawn(io, loop(state), [&](std::exception_ptr e) { error = e; });
  io.run();
  if (error) std::rethrow_exception(error);
  report(state);
}

// -- the baselines ----------------------------------------------------------------

asio::awaitable<void> empty_loop(benchmark::State& state) {
  for (auto _ : state) benchmark::ClobberMemory();
  co_return;
}

asio::awaitable<void> trivial() { co_return; }

asio::awaitable<void> nested_co_await_loop(benchmark::State& state) {
  for (auto _ : state) {
    co_await trivial();
    benchmark::ClobberMemory();
  }
}

void baseline_empty_loop(benchmark::State& state) { in_sim(state, empty_loop); }
BENCHMARK(baseline_empty_loop);

void baseline_nested_co_await(benchmark::State& state) { in_sim(state, nested_co_await_loop); }
BENCHMARK(baseline_nested_co_await);

// -- disarmed failpoints ------------------------------------------------------------

asio::awaitable<void> co_await_loop(benchmark::State& state) {
  for (auto _ : state) {
    co_await faultline::failpoint("x");
    benchmark::ClobberMemory();
  }
}

asio::awaitable<void> macro_loop(benchmark::State& state) {
  for (auto _ : state) {
    FAULTLINE_FAILPOINT("x");
    benchmark::ClobberMemory();
  }
  co_return;  // compiled out, the macro leaves no co_await to make this a coroutine
}

void failpoint_co_await_disarmed(benchmark::State& state) { in_sim(state, co_await_loop); }
BENCHMARK(failpoint_co_await_disarmed);

void failpoint_macro_disarmed(benchmark::State& state) { in_sim(state, macro_loop); }
BENCHMARK(failpoint_macro_disarmed);

void failpoint_co_await_outside_sim(benchmark::State& state) { outside_sim(state, co_await_loop); }
BENCHMARK(failpoint_co_await_outside_sim);

void failpoint_macro_outside_sim(benchmark::State& state) { outside_sim(state, macro_loop); }
BENCHMARK(failpoint_macro_outside_sim);

// -- armed: for scale, not a target ---------------------------------------------------

// Another failpoint is armed, so "x" takes the slow path: a lookup by name
// and the coroutine frame of the armed path, then passes.
void failpoint_macro_other_armed(benchmark::State& state) { in_sim(state, macro_loop, "y", "off"); }
BENCHMARK(failpoint_macro_other_armed);

// "x" itself armed with `off`: counted, then passes.
void failpoint_macro_armed_off(benchmark::State& state) { in_sim(state, macro_loop, "x", "off"); }
BENCHMARK(failpoint_macro_armed_off);

// "x" armed with a 50% draw that falls through to `off` when it loses.
void failpoint_macro_armed_draw(benchmark::State& state) { in_sim(state, macro_loop, "x", "50%off->off"); }
BENCHMARK(failpoint_macro_armed_draw);

}  // namespace

#ifdef FAULTLINE_NO_FAILPOINTS
// Compiled out, even an armed failpoint is inert: a fault that fired would end
// the benchmark with an error, which fails its smoke test.
void compiled_out_co_await_armed_throw(benchmark::State& state) { in_sim(state, co_await_loop, "x", "throw(fired)"); }
BENCHMARK(compiled_out_co_await_armed_throw);
void compiled_out_macro_armed_throw(benchmark::State& state) { in_sim(state, macro_loop, "x", "throw(fired)"); }
BENCHMARK(compiled_out_macro_armed_throw);
#endif

BENCHMARK_MAIN();
