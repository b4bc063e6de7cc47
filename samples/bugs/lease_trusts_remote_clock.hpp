// Planted bug: a lease client that reads the lock server's wall-clock expiry against its own clock,
// so a host whose clock runs behind the server's holds the lease after the server gave it to another.
#pragma once

#include <faultline/net.hpp>
#include <faultline/steady_timer.hpp>
#include <faultline/system_clock.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <cstdint>

namespace samples::bugs {

namespace lease {

namespace asio = boost::asio;
namespace net = faultline::net;
inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

inline constexpr std::chrono::nanoseconds length = std::chrono::seconds(10);
/// What the buggy client subtracts from the server's expiry "for clock error": too little once
/// two hosts' clocks are further apart than that.
inline constexpr std::chrono::nanoseconds margin = std::chrono::milliseconds(200);

/// The lock service on `host`:`port`. Each connection sends one byte (the client's id) and gets
/// 8 bytes back: 0 when someone else holds the lease, otherwise the lease's end on the server's
/// wall clock in nanoseconds since the epoch (what many real lock services hand out). The server
/// itself times leases with its steady clock, which is right.
inline asio::awaitable<void> serve(net::host& host, std::uint16_t port) {
  net::tcp::acceptor acceptor(host.get_executor(), {asio::ip::tcp::v4(), port});
  faultline::steady_clock::time_point held_until{};
  char holder = 0;
  for (;;) {
    net::tcp::socket peer(host.get_executor());
    auto [ec] = co_await acceptor.async_accept(peer, use_tuple);
    if (ec) continue;
    char id = 0;
    auto [rec, rn] = co_await asio::async_read(peer, asio::buffer(&id, 1), use_tuple);
    if (rec) continue;
    std::int64_t answer = 0;
    const auto now = faultline::steady_clock::now();
    if (now >= held_until || holder == id) {
      holder = id;
      held_until = now + length;
      answer = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   (faultline::system_clock::now() + length).time_since_epoch()).count();
    }
    co_await asio::async_write(peer, asio::buffer(&answer, sizeof answer), use_tuple);
  }
}

/// A client on `host` that takes the lease `rounds` times and does its exclusive work while it
/// believes it holds it; `on_hold(true/false)` is called when it starts and stops believing so.
/// The buggy client holds while its own wall clock is before the server's expiry (minus a margin);
/// the correct one holds for the lease's length, less the margin, from when it asked, by its
/// steady clock, which needs no agreement between hosts.
template <class OnHold>
asio::awaitable<void> client(net::host& host, char id, asio::ip::tcp::endpoint server, int rounds, bool buggy,
                             OnHold on_hold) {
  using namespace std::chrono_literals;
  for (int held = 0; held < rounds;) {
    net::tcp::socket s(host.get_executor());
    auto [ec] = co_await s.async_connect(server, use_tuple);
    if (ec) {
      co_await faultline::sleep_for(1s);
      continue;
    }
    const auto asked = faultline::steady_clock::now();
    co_await asio::async_write(s, asio::buffer(&id, 1), use_tuple);
    std::int64_t expiry = 0;
    auto [rec, rn] = co_await asio::async_read(s, asio::buffer(&expiry, sizeof expiry), use_tuple);
    if (rec || expiry == 0) {
      co_await faultline::sleep_for(700ms);  // busy: ask again
      continue;
    }
    ++held;
    on_hold(true);
    if (buggy) {
      const auto until = faultline::system_clock::time_point(std::chrono::nanoseconds(expiry)) - margin;
      while (faultline::system_clock::now() < until) co_await faultline::sleep_for(100ms);
    } else {
      co_await faultline::sleep_until(asked + length - margin);
    }
    on_hold(false);
    co_await faultline::sleep_for(300ms);
  }
}

}  // namespace lease

}  // namespace samples::bugs
