// faultline_net_bench: what a simulated TCP round trip costs, and what an idle connection weighs.
//
// Targets (issue 12, Performance): one simulated 64-byte round trip (the
// client writes 64 bytes, the peer reads and writes them back, the client
// reads them) costs at most 3x `co_await asio::post(use_awaitable)` on an
// io_context (BM_AsioPost) and at least 20x less than the same round trip
// over real loopback TCP (BM_LoopbackTcpRoundTrip64); both references run in
// this binary. Read `per_round_trip`, and `bytes_per_connection` for 10,000
// open connections with one pending read each.
#include <faultline/net.hpp>
#include <faultline/sim_context.hpp>

#include <benchmark/benchmark.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <malloc.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <new>
#include <string>
#include <vector>

// -- counting global operator new/delete --------------------------------------

// Always on, so the timed benchmarks (sim and Asio references alike) pay the
// same few instructions per allocation. The benchmarks are single-threaded:
// plain counters suffice. Usable sizes (what malloc really hands out) are
// counted on both sides so they cancel.
namespace {
std::int64_t live_bytes = 0;
std::int64_t live_allocations = 0;

void* counted_new(std::size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (!p) throw std::bad_alloc();
  live_bytes += static_cast<std::int64_t>(malloc_usable_size(p));
  ++live_allocations;
  return p;
}

void counted_delete(void* p) noexcept {
  if (!p) return;
  live_bytes -= static_cast<std::int64_t>(malloc_usable_size(p));
  --live_allocations;
  std::free(p);
}
}  // namespace

void* operator new(std::size_t n) { return counted_new(n); }
void* operator new[](std::size_t n) { return counted_new(n); }
void operator delete(void* p) noexcept { counted_delete(p); }
void operator delete[](void* p) noexcept { counted_delete(p); }
void operator delete(void* p, std::size_t) noexcept { counted_delete(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_delete(p); }

namespace {

namespace asio = boost::asio;
namespace net = faultline::net;
using namespace std::chrono_literals;

constexpr std::size_t message_size = 64;

// A zero-latency round trip never advances the clock, so the default step
// limit would call a long run at one instant a livelock; the default 24h
// horizon would end the 5 ms-latency run early. A benchmark is neither.
faultline::sim_options long_run() {
  faultline::sim_options o;
  o.horizon = std::chrono::hours(1'000'000);
  o.step_limit = std::uint64_t{1} << 40;
  return o;
}

// The sim's trace ring (2,048 records) grows during the first events; these
// round trips run before timing starts, as sim_bench.cpp's warmup_sleeps do.
constexpr int warmup_round_trips = 4096;

void report_round_trips(benchmark::State& state) {
  state.SetItemsProcessed(state.iterations());
  state.counters["per_round_trip"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                        benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void rethrow(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

// The peer: reads 64 bytes and writes them back until the client closes. The
// same template serves the simulated and the real socket.
template <class Socket>
asio::awaitable<void> echo(Socket& peer) {
  std::array<char, message_size> buf{};
  for (;;) {
    auto [ec, n] = co_await asio::async_read(peer, asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;  // eof: the client closed
    co_await asio::async_write(peer, asio::buffer(buf, n), asio::use_awaitable);
  }
}

template <class Socket>
asio::awaitable<void> round_trip(Socket& s, std::array<char, message_size>& out, std::array<char, message_size>& in) {
  co_await asio::async_write(s, asio::buffer(out), asio::use_awaitable);
  co_await asio::async_read(s, asio::buffer(in), asio::use_awaitable);
}

// -- the simulated round trip -------------------------------------------------

// Hosts "db" and "app"; the connection is set up once, outside the timed loop.
void sim_round_trip(benchmark::State& state, faultline::sim_clock::duration latency) {
  faultline::sim_context sim(long_run());
  auto& network = net::network::of(sim);
  auto& db = network.add_host("db");
  auto& app = network.add_host("app");
  network.set_latency("app", "db", latency);
  net::tcp::acceptor acceptor(db.get_executor(), {asio::ip::tcp::v4(), 5432});
  net::tcp::socket server(db.get_executor());
  net::tcp::socket client(app.get_executor());
  const asio::ip::tcp::endpoint db_endpoint{db.addresses().front(), 5432};

  db.spawn("server", [&]() -> asio::awaitable<void> {
    co_await acceptor.async_accept(server, asio::use_awaitable);
    co_await echo(server);
  });
  sim.run([&]() -> asio::awaitable<void> {
       co_await client.async_connect(db_endpoint, asio::use_awaitable);
       std::array<char, message_size> out{}, in{};
       out.fill('x');
       for (int i = 0; i < warmup_round_trips; ++i) co_await round_trip(client, out, in);
       for (auto _ : state) co_await round_trip(client, out, in);
       if (in != out) state.SkipWithError("faultline: the echo came back different");
       client.close();  // the server reads eof and ends
     })
      .value();
  sim.run();
  report_round_trips(state);
}

// Zero latency, the network's default.
void BM_SimTcpRoundTrip64(benchmark::State& state) { sim_round_trip(state, 0ms); }
BENCHMARK(BM_SimTcpRoundTrip64);

// 5 ms one way: each round trip is 10 ms of virtual time, which costs no wall
// time (the clock jumps), only the timer queue's work for the two arrivals.
void BM_SimTcpRoundTrip64_Latency5ms(benchmark::State& state) { sim_round_trip(state, 5ms); }
BENCHMARK(BM_SimTcpRoundTrip64_Latency5ms);

// The floor under a round trip's shape: it awaits four completions (a write
// and a read on each side), each through an executor, never inline. Here the
// same four as bare posts to a host's executor on the same sim, without the
// network: what the sim's executor and Asio's coroutine machinery cost alone.
void BM_SimPost4(benchmark::State& state) {
  faultline::sim_context sim(long_run());
  auto& app = net::network::of(sim).add_host("app");
  sim.run([&]() -> asio::awaitable<void> {
       const auto ex = app.get_executor();
       for (auto _ : state)
         for (int i = 0; i < 4; ++i) co_await asio::post(ex, asio::use_awaitable);
     })
      .value();
  report_round_trips(state);
}
BENCHMARK(BM_SimPost4);

// -- Asio references ----------------------------------------------------------

asio::awaitable<void> post_loop(asio::io_context& ioc, benchmark::State& state) {
  for (auto _ : state) co_await asio::post(ioc, asio::use_awaitable);
}

// A default io_context, as users write it (not the lock-free concurrency hint 1).
void BM_AsioPost(benchmark::State& state) {
  asio::io_context ioc;
  asio::co_spawn(ioc, post_loop(ioc, state), rethrow);
  ioc.run();
  report_round_trips(state);
}
BENCHMARK(BM_AsioPost);

// Client and peer on one io_context thread, as the sim runs them; no_delay
// on both sides so Nagle never holds a 64-byte write.
void BM_LoopbackTcpRoundTrip64(benchmark::State& state) {
  asio::io_context ioc;
  asio::ip::tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket server(ioc);
  asio::ip::tcp::socket client(ioc);
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        co_await acceptor.async_accept(server, asio::use_awaitable);
        server.set_option(asio::ip::tcp::no_delay(true));
        co_await echo(server);
      },
      rethrow);
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        co_await client.async_connect(acceptor.local_endpoint(), asio::use_awaitable);
        client.set_option(asio::ip::tcp::no_delay(true));
        std::array<char, message_size> out{}, in{};
        out.fill('x');
        for (int i = 0; i < 64; ++i) co_await round_trip(client, out, in);
        for (auto _ : state) co_await round_trip(client, out, in);
        if (in != out) state.SkipWithError("faultline: the echo came back different");
        client.close();
      },
      rethrow);
  ioc.run();
  report_round_trips(state);
}
BENCHMARK(BM_LoopbackTcpRoundTrip64);

// -- memory per open connection -----------------------------------------------

// Counted per connection, everything the sim and the user allocate for it:
// both sockets (the accepted ones in a vector), the client coroutine's frame
// and co_spawn's state, the connection's byte queues, the pending read.
void BM_SimIdleConnectionMemory(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    faultline::sim_context sim(long_run());
    auto& network = net::network::of(sim);
    auto& db = network.add_host("db");
    auto& app = network.add_host("app");
    net::tcp::acceptor acceptor(db.get_executor(), {asio::ip::tcp::v4(), 5432});
    const asio::ip::tcp::endpoint db_endpoint{db.addresses().front(), 5432};
    std::vector<net::tcp::socket> accepted;  // destroyed before the sim
    std::size_t reads_pending = 0;

    const std::int64_t bytes_before = live_bytes;
    const std::int64_t allocations_before = live_allocations;
    accepted.reserve(n);
    asio::co_spawn(
        db.get_executor(),
        [&]() -> asio::awaitable<void> {
          while (accepted.size() < n) accepted.push_back(co_await acceptor.async_accept(asio::use_awaitable));
        },
        asio::detached);
    // Zero latency: a batch's SYNs all arrive before the accept loop runs
    // again, so a batch must fit the backlog (4096, Linux's somaxconn clamp).
    constexpr std::size_t batch = 4000;
    for (std::size_t i = 0; i < n; ++i) {
      if (i % batch == 0) sim.run_for(1ms);
      asio::co_spawn(
          app.get_executor(),
          [&]() -> asio::awaitable<void> {
            net::tcp::socket s(co_await asio::this_coro::executor);
            co_await s.async_connect(db_endpoint, asio::use_awaitable);
            char byte;
            ++reads_pending;
            co_await s.async_read_some(asio::buffer(&byte, 1), asio::use_awaitable);  // never completes
          },
          asio::detached);
    }
    sim.run_for(1ms);
    if (accepted.size() != n || reads_pending != n) {
      state.SkipWithError(("faultline: " + std::to_string(accepted.size()) + " connections accepted and " + std::to_string(reads_pending) + " reads pending, not " + std::to_string(n) + " of each").c_str());
      break;
    }
    state.counters["bytes_per_connection"] =
        static_cast<double>(live_bytes - bytes_before) / static_cast<double>(n);
    state.counters["allocations_per_connection"] =
        static_cast<double>(live_allocations - allocations_before) / static_cast<double>(n);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_SimIdleConnectionMemory)->Arg(10'000)->Iterations(1)->Unit(benchmark::kMillisecond);

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
