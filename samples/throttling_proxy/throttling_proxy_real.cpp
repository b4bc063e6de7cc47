// throttling_proxy against real TCP: the same proxy on an io_context over loopback between a client and an
// echo upstream, 200 bytes at 2000 bytes/s in 100-byte chunks; exits 0 when the echo came back whole
// and no sooner than the throttle allows (bounded by 5 s).
#include "throttling_proxy.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>

#include <chrono>
#include <cstdio>
#include <string>

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;
namespace tp = samples::throttling_proxy;

int main() {
  asio::io_context io;
  const auto loopback = asio::ip::make_address("127.0.0.1");
  tcp::acceptor upstream(io, {loopback, 0});  // ephemeral ports
  tcp::acceptor proxy(io, {loopback, 0});
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto peer = co_await upstream.async_accept(asio::use_awaitable);
        char buf[1024];
        for (;;) {
          auto [ec, n] = co_await peer.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
          if (ec) co_return;
          co_await asio::async_write(peer, asio::buffer(buf, n), asio::use_awaitable);
        }
      },
      asio::detached);
  asio::co_spawn(io, tp::serve(proxy, {.upstream = upstream.local_endpoint(), .bytes_per_second = 2000, .chunk = 100}),
                 asio::detached);

  std::string back(200, '\0');
  auto elapsed = std::chrono::steady_clock::duration::zero();
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        const auto start = std::chrono::steady_clock::now();
        tcp::socket s(io);
        co_await s.async_connect(proxy.local_endpoint(), asio::use_awaitable);
        co_await asio::async_write(s, asio::buffer(std::string(200, 'x')), asio::use_awaitable);
        co_await asio::async_read(s, asio::buffer(back), asio::use_awaitable);
        elapsed = std::chrono::steady_clock::now() - start;
        io.stop();
      },
      asio::detached);
  io.run_for(5s);
  // Two chunks each way at 2000 bytes/s: the second chunk waits 50 ms in each direction, overlapping:
  // at least 50 ms in all (a lower bound only: real time is never asserted exactly).
  const bool ok = back == std::string(200, 'x') && elapsed >= 50ms;
  std::printf("throttling_proxy_real: %zu bytes echoed through the proxy in %lld ms: %s\n", back.size(),
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()),
              ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
