// faultline_bench: what a virtual sleep costs in time and memory, next to the Asio baselines DESIGN.md names.
//
// Targets (DESIGN.md, "Performance targets"): a virtual sleep costs no more
// than `co_await post(io_context, use_awaitable)` and at least 25x less than
// an expired real timer; on issue 14's workloads W1-W3 (docs/performance.md)
// faultline aims at half Tokio's paused clock. Read `per_sleep`, `per_event`
// and `bytes_per_pending`.
#include <faultline/sim_context.hpp>
#include <faultline/steady_timer.hpp>

#include <benchmark/benchmark.h>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <malloc.h>

#include <chrono>
#include <ctime>
#include <cstdint>
#include <exception>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// The default 24h horizon would end a long sequential run (1ms per sleep) in
// horizon_error, and the default step limit would call spawning 1M tasks at
// t=0 a livelock; a benchmark is neither.
faultline::sim_options long_run() {
  faultline::sim_options o;
  o.horizon = std::chrono::hours(1'000'000);
  o.step_limit = std::uint64_t{1} << 40;
  return o;
}

// Seconds per sleep (printed as e.g. "180ns"), even when one benchmark
// iteration covers many sleeps (the concurrent case).
void report_sleeps(benchmark::State& state, std::int64_t sleeps) {
  state.SetItemsProcessed(sleeps);
  state.counters["per_sleep"] =
      benchmark::Counter(static_cast<double>(sleeps), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// A sim's first sleeps also grow its trace ring (2,048 records by default), whose
// reallocations and page faults a short run would charge to every sleep; the
// steady-state benchmarks start timing after this many. sim_fresh shows that
// start-up cost on its own.
constexpr int warmup_sleeps = 16384;

void rethrow(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

// -- sequential virtual sleeps ------------------------------------------------

// The coroutine drives the benchmark loop itself, so one sim run covers every
// sleep and no per-iteration setup is timed.
asio::awaitable<void> sleep_loop(benchmark::State& state) {
  for (int i = 0; i < warmup_sleeps; ++i) co_await faultline::sleep_for(1ms);
  for (auto _ : state) co_await faultline::sleep_for(1ms);
}

void sim_sleep_for(benchmark::State& state) {
  faultline::sim_context sim(long_run());
  sim.run(sleep_loop(state)).value();
  report_sleeps(state, state.iterations());
}
BENCHMARK(sim_sleep_for);

// The same wait on one reused timer: the difference to sleep_for is what
// sleep_for's own coroutine frame and per-call timer construction cost.
asio::awaitable<void> timer_loop(benchmark::State& state) {
  faultline::steady_timer t(co_await asio::this_coro::executor);
  for (int i = 0; i < warmup_sleeps; ++i) {
    t.expires_after(1ms);
    co_await t.async_wait(asio::use_awaitable);
  }
  for (auto _ : state) {
    t.expires_after(1ms);
    co_await t.async_wait(asio::use_awaitable);
  }
}

void sim_timer_reused(benchmark::State& state) {
  faultline::sim_context sim(long_run());
  sim.run(timer_loop(state)).value();
  report_sleeps(state, state.iterations());
}
BENCHMARK(sim_timer_reused);

// What a unit test sees: a fresh sim per run of N sleeps, sim construction,
// trace growth and teardown included.
asio::awaitable<void> sleeps(std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) co_await faultline::sleep_for(1ms);
}

void sim_fresh(benchmark::State& state) {
  for (auto _ : state) {
    faultline::sim_context sim;
    sim.run(sleeps(state.range(0))).value();
  }
  report_sleeps(state, state.iterations() * state.range(0));
}
BENCHMARK(sim_fresh)->Arg(100)->Arg(10'000);

// -- the timer alone: a plain callback re-arming itself, no coroutine ---------

struct rearm {
  faultline::steady_timer* timer;
  benchmark::State* state;
  int* warmup;
  void operator()(boost::system::error_code) const {
    if (*warmup > 0)
      --*warmup;
    else if (!state->KeepRunning())
      return;
    timer->expires_after(1ms);
    timer->async_wait(*this);
  }
};

void sim_timer_callback(benchmark::State& state) {
  faultline::sim_context sim(long_run());
  faultline::steady_timer t(sim.get_executor());
  int warmup = warmup_sleeps;
  rearm{&t, &state, &warmup}({});
  sim.run();
  report_sleeps(state, state.iterations());
}
BENCHMARK(sim_timer_callback);

// -- Asio baselines -----------------------------------------------------------

asio::awaitable<void> post_loop(asio::io_context& ioc, benchmark::State& state) {
  for (auto _ : state) co_await asio::post(ioc, asio::use_awaitable);
}

// A default io_context, as users write it (not the lock-free concurrency hint 1).
void asio_post(benchmark::State& state) {
  asio::io_context ioc;
  asio::co_spawn(ioc, post_loop(ioc, state), rethrow);
  ioc.run();
  report_sleeps(state, state.iterations());
}
BENCHMARK(asio_post);

asio::awaitable<void> expired_wait_loop(benchmark::State& state) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  for (auto _ : state) {
    t.expires_at(std::chrono::steady_clock::time_point{});  // the clock's epoch: long past
    co_await t.async_wait(asio::use_awaitable);
  }
}

void asio_expired_timer(benchmark::State& state) {
  asio::io_context ioc;
  asio::co_spawn(ioc, expired_wait_loop(state), rethrow);
  ioc.run();
  report_sleeps(state, state.iterations());
}
BENCHMARK(asio_expired_timer);

// -- many concurrent sleepers (Tokio: 259 ns per sleep with 10,000 tasks) -----

asio::awaitable<void> sleep_forever() {
  for (;;) co_await faultline::sleep_for(1ms);
}

// One iteration is one virtual millisecond: every task wakes once and sleeps
// again. The tasks are destroyed, suspended, with the sim.
void sim_sleep_concurrent(benchmark::State& state) {
  const std::int64_t tasks = state.range(0);
  faultline::sim_context sim(long_run());
  for (std::int64_t i = 0; i < tasks; ++i) asio::co_spawn(sim, sleep_forever(), asio::detached);
  sim.poll();         // every task is now in its first sleep
  sim.run_for(2ms);   // two rounds fill the trace ring (see warmup_sleeps)
  for (auto _ : state) sim.run_for(1ms);
  report_sleeps(state, state.iterations() * tasks);
}
BENCHMARK(sim_sleep_concurrent)->Arg(10'000);

// -- memory per pending sleep -------------------------------------------------

// Large blocks (the timer heap's vector) come from mmap and show in hblkhd,
// not uordblks. Single-threaded, so the main arena sees everything.
std::int64_t heap_in_use() {
  const struct mallinfo2 m = mallinfo2();
  return static_cast<std::int64_t>(m.uordblks + m.hblkhd);
}

// Counted per task: the spawned coroutine's frame and co_spawn's state are
// part of what a pending sleep costs a user, as in Tokio's figure. At 10k the
// sim's trace ring (~0.9 MB once the waits fill it) adds ~90 bytes to each;
// at 1M it is noise.
asio::awaitable<void> sleep_once() { co_await faultline::sleep_for(1h); }

void sim_pending_memory(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  for (auto _ : state) {
    faultline::sim_context sim(long_run());
    const std::int64_t before = heap_in_use();
    for (std::int64_t i = 0; i < n; ++i) asio::co_spawn(sim, sleep_once(), asio::detached);
    sim.poll();
    state.counters["bytes_per_pending"] = static_cast<double>(heap_in_use() - before) / static_cast<double>(n);
    sim.run();  // jumps to t=1h and completes them all
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(sim_pending_memory)->Arg(10'000)->Arg(1'000'000)->Iterations(1)->Unit(benchmark::kMillisecond);

asio::awaitable<void> real_sleep() {
  asio::steady_timer timer(co_await asio::this_coro::executor, 1h);
  co_await timer.async_wait(asio::use_awaitable);
}

// Real waits never fire here: destroying the io_context frees them, with
// their coroutines, as Asio's shutdown does for any pending operation.
void asio_pending_memory(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  for (auto _ : state) {
    asio::io_context ioc;
    const std::int64_t before = heap_in_use();
    for (std::int64_t i = 0; i < n; ++i) asio::co_spawn(ioc, real_sleep(), asio::detached);
    ioc.poll();
    state.counters["bytes_per_pending"] = static_cast<double>(heap_in_use() - before) / static_cast<double>(n);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(asio_pending_memory)->Arg(10'000)->Arg(1'000'000)->Iterations(1)->Unit(benchmark::kMillisecond);

// -- issue 14's workloads (docs/performance.md) -----------------------------------
//
// W1: one task sleeps 1 ms virtual N times (reference: `co_await post` on an io_context).
// W2: T tasks, task i sleeps (i+1) ms R times (reference: the same coroutines resuming through
//     `post`, the floor any scheduler pays without a timer).
// W3: N tasks, task i sleeps until its own deadline ((i*7919) mod N)+1 ms, all pending, then all
//     fire (reference: Asio's own timer queue with N coroutines, driven by a clock the benchmark
//     moves, so that every wait is pending before the first fires and none idles).
// The full sizes are the (10^6 events); the smoke test runs the small ones only.

// Process CPU seconds, like the times Google Benchmark's counters divide by:
// on a shared machine wall time mostly measures the neighbours.
double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

// -- W1: sequential sleeps -----------------------------------------------------

asio::awaitable<void> w1_sleeper(std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) co_await faultline::sleep_for(1ms);
}

void W1_sim_sleep(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  for (auto _ : state) {
    faultline::sim_context sim(long_run());
    sim.run(w1_sleeper(n)).value();
  }
  report_sleeps(state, state.iterations() * n);
}
BENCHMARK(W1_sim_sleep)->Arg(10'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

asio::awaitable<void> w1_poster(asio::io_context& ioc, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) co_await asio::post(ioc, asio::use_awaitable);
}

// A default io_context, as users write it (not the lock-free concurrency hint 1).
void W1_asio_post(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  for (auto _ : state) {
    asio::io_context ioc;
    asio::co_spawn(ioc, w1_poster(ioc, n), rethrow);
    ioc.run();
  }
  report_sleeps(state, state.iterations() * n);
}
BENCHMARK(W1_asio_post)->Arg(10'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

// -- W2: many periodic sleepers ---------------------------------------------------

asio::awaitable<void> w2_sleeper(std::int64_t period_ms, std::int64_t rounds) {
  for (std::int64_t r = 0; r < rounds; ++r) co_await faultline::sleep_for(std::chrono::milliseconds(period_ms));
}

void W2_sim_sleep(benchmark::State& state) {
  const std::int64_t tasks = state.range(0);
  const std::int64_t rounds = state.range(1);
  for (auto _ : state) {
    faultline::sim_context sim(long_run());
    for (std::int64_t i = 0; i < tasks; ++i) asio::co_spawn(sim, w2_sleeper(i + 1, rounds), rethrow);
    sim.run();
  }
  report_sleeps(state, state.iterations() * tasks * rounds);
}
BENCHMARK(W2_sim_sleep)->Args({100, 100})->Args({10'000, 100})->Unit(benchmark::kMillisecond);

asio::awaitable<void> w2_poster(std::int64_t rounds) {
  auto ex = co_await asio::this_coro::executor;
  for (std::int64_t r = 0; r < rounds; ++r) co_await asio::post(ex, asio::use_awaitable);
}

void W2_asio_post(benchmark::State& state) {
  const std::int64_t tasks = state.range(0);
  const std::int64_t rounds = state.range(1);
  for (auto _ : state) {
    asio::io_context ioc;
    for (std::int64_t i = 0; i < tasks; ++i) asio::co_spawn(ioc, w2_poster(rounds), rethrow);
    ioc.run();
  }
  report_sleeps(state, state.iterations() * tasks * rounds);
}
BENCHMARK(W2_asio_post)->Args({100, 100})->Args({10'000, 100})->Unit(benchmark::kMillisecond);

// -- W3: a million pending deadlines, then all fire --------------------------------

// 7919 is prime, so for N = 10^k the deadlines are a permutation of 1..N ms: all distinct, scattered.
std::int64_t w3_deadline_ms(std::int64_t i, std::int64_t n) { return (i * 7919) % n + 1; }

// Counts the sleepers that woke, so a run that lost one is an error, not a fast number.
std::int64_t w3_woken = 0;

asio::awaitable<void> w3_sim_sleeper(std::int64_t ms) {
  co_await faultline::sleep_until(faultline::steady_clock::time_point(std::chrono::milliseconds(ms)));
  ++w3_woken;
}

// Times W3's two phases separately (`schedule_ns`: spawning and starting every
// sleep; `fire_ns`: firing them all) and measures the memory of the pending
// sleeps at their peak.
struct w3_phases {
  double schedule_s = 0;
  double fire_s = 0;
  std::int64_t bytes = 0;

  template <class Context, class Spawn, class Fire>
  void measure(Context& ctx, std::int64_t n, Spawn spawn, Fire fire) {
    const std::int64_t before = heap_in_use();
    double t0 = cpu_seconds();
    for (std::int64_t i = 0; i < n; ++i) spawn(i);
    ctx.poll();  // every task is now in its sleep
    schedule_s += cpu_seconds() - t0;
    bytes = heap_in_use() - before;
    t0 = cpu_seconds();
    fire();
    fire_s += cpu_seconds() - t0;
  }

  void report(benchmark::State& state, std::int64_t n) const {
    report_sleeps(state, state.iterations() * n);
    const auto sleeps = static_cast<double>(state.iterations() * n);
    state.counters["schedule_ns"] = schedule_s * 1e9 / sleeps;
    state.counters["fire_ns"] = fire_s * 1e9 / sleeps;
    state.counters["bytes_per_pending"] = static_cast<double>(bytes) / static_cast<double>(n);
  }
};

void W3_sim_sleep(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  w3_phases phases;
  for (auto _ : state) {
    faultline::sim_context sim(long_run());
    w3_woken = 0;
    phases.measure(
        sim, n, [&](std::int64_t i) { asio::co_spawn(sim, w3_sim_sleeper(w3_deadline_ms(i, n)), rethrow); },
        [&] { sim.run(); });
    if (w3_woken != n) state.SkipWithError("not every sleeper woke");
  }
  phases.report(state, n);
}
BENCHMARK(W3_sim_sleep)->Arg(10'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

// A steady clock that moves only when told: Asio's timer queue (a binary heap
// of deadlines) and reactor run unchanged, and every wait is pending before
// the clock jumps past all of them.
struct manual_clock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = std::chrono::duration<rep, period>;
  using time_point = std::chrono::time_point<manual_clock, duration>;
  static constexpr bool is_steady = true;
  static time_point now() noexcept { return current; }
  static inline time_point current{};
};
using manual_timer = asio::basic_waitable_timer<manual_clock>;

asio::awaitable<void> w3_asio_sleeper(std::int64_t ms) {
  manual_timer timer(co_await asio::this_coro::executor, manual_clock::time_point(std::chrono::milliseconds(ms)));
  co_await timer.async_wait(asio::use_awaitable);
}

void W3_asio_timer(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  w3_phases phases;
  for (auto _ : state) {
    manual_clock::current = manual_clock::time_point{};
    asio::io_context ioc;
    phases.measure(
        ioc, n, [&](std::int64_t i) { asio::co_spawn(ioc, w3_asio_sleeper(w3_deadline_ms(i, n)), rethrow); },
        [&] {
          manual_clock::current = manual_clock::time_point(std::chrono::milliseconds(n + 1));
          ioc.run();
        });
  }
  phases.report(state, n);
}
BENCHMARK(W3_asio_timer)->Arg(10'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
#ifndef NDEBUG
  benchmark::AddCustomContext("faultline_note", "built without NDEBUG: numbers mean something only in Release");
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
