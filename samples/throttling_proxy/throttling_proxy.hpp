// throttling_proxy - a TCP proxy between clients and one upstream that limits each direction to a byte rate.
#pragma once

#include <faultline/steady_clock.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>

namespace samples::throttling_proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;  // endpoints only: the socket types are template parameters
using boost::system::error_code;
using clock = faultline::steady_clock;  // virtual time on a sim, std::chrono::steady_clock elsewhere

struct proxy_options {
  tcp::endpoint upstream;
  std::size_t bytes_per_second = 64 * 1024;  // per direction and connection
  std::size_t chunk = 1024;                  // the most bytes forwarded at once
  clock::duration accept_pause = std::chrono::milliseconds(100);  // after a failed accept (EMFILE: no busy loop)
};

namespace detail {

inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Forwards from -> to, starting a chunk of n bytes no earlier than n / rate after the previous one
// started. Ends with the error that ended the direction (eof when `from` was closed cleanly).
template <class Socket>
asio::awaitable<error_code> transfer(Socket& from, Socket& to, const proxy_options& o) {
  std::string buf(o.chunk, '\0');
  faultline::steady_timer pace(from.get_executor());
  auto next = clock::now();
  for (;;) {
    auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), use_tuple);
    if (ec) co_return ec;
    pace.expires_at(std::max(next, clock::now()));
    co_await pace.async_wait(use_tuple);
    next = pace.expiry() + std::chrono::duration_cast<clock::duration>(std::chrono::seconds(1) * n) /
                               static_cast<long long>(o.bytes_per_second);
    auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf.data(), n), use_tuple);
    if (wec) co_return wec;
  }
}

// Ends `s` the way its peer ended: a reset is passed on as a reset (linger 0), anything else as a close.
template <class Socket>
void close_like(Socket& s, const error_code& why) {
  error_code ignored;
  if (why == asio::error::connection_reset) s.set_option(asio::socket_base::linger(true, 0), ignored);
  s.close(ignored);
}

}  // namespace detail

// One client: connects to the upstream, then forwards both ways until one side ends, and ends the
// other side the same way. A client whose upstream cannot be reached is reset.
// Socket: asio::ip::tcp::socket, or faultline::net::tcp::socket under test.
template <class Socket>
asio::awaitable<void> proxy_one(Socket client, proxy_options o) {
  using namespace asio::experimental::awaitable_operators;
  Socket upstream(client.get_executor());
  auto [cec] = co_await upstream.async_connect(o.upstream, detail::use_tuple);
  if (cec) {
    detail::close_like(client, asio::error::connection_reset);
    co_return;
  }
  auto ended = co_await (detail::transfer(client, upstream, o) || detail::transfer(upstream, client, o));
  if (ended.index() == 0)
    detail::close_like(upstream, std::get<0>(ended));
  else
    detail::close_like(client, std::get<1>(ended));
}

// Accepts clients until the acceptor is closed, proxying each to o.upstream. A failed accept (EMFILE,
// ENOBUFS) is retried after o.accept_pause: retrying at once would spin while descriptors stay short.
template <class Acceptor>
asio::awaitable<void> serve(Acceptor& acceptor, proxy_options o) {
  if (o.bytes_per_second == 0 || o.chunk == 0)
    throw std::invalid_argument("throttling_proxy: bytes_per_second and chunk must be positive (got " +
                                std::to_string(o.bytes_per_second) + " and " + std::to_string(o.chunk) + ")");
  if (o.accept_pause <= clock::duration::zero())
    throw std::invalid_argument(
        "throttling_proxy: accept_pause must be positive, or a failing accept is retried in a busy loop (got " +
        std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(o.accept_pause).count()) + "ns)");
  faultline::steady_timer pause(acceptor.get_executor());
  while (acceptor.is_open()) {
    auto [ec, client] = co_await acceptor.async_accept(detail::use_tuple);
    if (!ec) {
      asio::co_spawn(acceptor.get_executor(), proxy_one(std::move(client), o), asio::detached);
    } else if (acceptor.is_open()) {
      pause.expires_after(o.accept_pause);
      co_await pause.async_wait(detail::use_tuple);
    }
  }
}

}  // namespace samples::throttling_proxy
