// reconnect_client - connect with a timeout, reconnect with capped backoff, heartbeats.
#include "reconnect_client.hpp"

#include <faultline/steady_timer.hpp>
#ifndef RECONNECT_CLIENT_REAL_TCP
#include <faultline/net.hpp>
#endif

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <utility>

namespace samples::reconnect_client {

namespace {

#ifdef RECONNECT_CLIENT_REAL_TCP
using tcp = asio::ip::tcp;
#else
using tcp = faultline::net::tcp;  // the library as tests link it; the real program defines RECONNECT_CLIENT_REAL_TCP
#endif
using boost::system::error_code;
using namespace asio::experimental::awaitable_operators;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Cancelled, throws operation_aborted: a cancelled run() ends in a backoff or between heartbeats.
asio::awaitable<void> sleep(duration d) {
  faultline::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::use_awaitable);
}

// The losing side of an `||`: cancelled, it just ends.
asio::awaitable<void> timeout(duration d) {
  faultline::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(use_tuple);
}

asio::awaitable<error_code> resolve_and_connect(tcp::socket& socket, const client_options& o) {
  tcp::resolver resolver(socket.get_executor());
  auto [ec, results] = co_await resolver.async_resolve(o.host, o.service, use_tuple);
  if (ec) co_return ec;
  auto [cec, endpoint] = co_await asio::async_connect(socket, results, use_tuple);
  co_return cec;
}

// Ends with the reason the connection is dead: timed_out when a reply is late, else the read or write error.
asio::awaitable<error_code> heartbeat(tcp::socket& socket, const client_options& o,
                                      const std::function<void(const client_event&)>& notify) {
  std::string in;
  for (;;) {
    co_await sleep(o.heartbeat_interval);
    auto [wec, wn] = co_await asio::async_write(socket, asio::buffer("ping\n", 5), use_tuple);
    if (wec) co_return wec;
    auto reply = co_await (asio::async_read_until(socket, asio::dynamic_buffer(in), '\n', use_tuple) ||
                           timeout(o.heartbeat_timeout));
    if (reply.index() == 1) co_return asio::error::timed_out;
    auto [rec, n] = std::get<0>(reply);
    if (rec) co_return rec;
    in.erase(0, n);
    notify({client_event::kind::heartbeat_ok, {}});
  }
}

}  // namespace

client::client(asio::any_io_executor ex, client_options options, std::function<void(const client_event&)> observer)
    : ex_(std::move(ex)), options_(std::move(options)), observer_(std::move(observer)) {
  if (!observer_) observer_ = [](const client_event&) {};
}

asio::awaitable<void> client::run() {
  duration backoff = options_.initial_backoff;
  for (;;) {
    tcp::socket socket(ex_);
    auto attempt = co_await (resolve_and_connect(socket, options_) || timeout(options_.connect_timeout));
    error_code ec = attempt.index() == 1 ? error_code(asio::error::timed_out) : std::get<0>(attempt);
    if (ec) {
      observer_({client_event::kind::connect_failed, ec});
      co_await sleep(backoff);
      backoff = std::min(backoff * 2, options_.max_backoff);
      continue;
    }
    backoff = options_.initial_backoff;
    observer_({client_event::kind::connected, {}});
    ec = co_await heartbeat(socket, options_, observer_);
    observer_({client_event::kind::disconnected, ec});
  }
}

}  // namespace samples::reconnect_client
