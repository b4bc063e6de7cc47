// echo_watchdog - an echo server whose sessions close a connection idle for too long.
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

#include <chrono>
#include <memory>
#include <utility>

namespace samples::echo_watchdog {

namespace asio = boost::asio;
using clock = faultline::steady_clock;  // virtual time on a sim, std::chrono::steady_clock elsewhere

struct server_options {
  clock::duration idle_timeout = std::chrono::seconds(10);  // a session idle this long is closed
  clock::duration accept_pause = std::chrono::milliseconds(100);  // after a failed accept (EMFILE: no busy loop)
};

// What the server has done, for metrics; not thread-safe (read it on the server's executor).
struct server_stats {
  int accepted = 0;
  int accept_errors = 0;
  int open_sessions = 0;  // sessions alive now
  int idle_closed = 0;    // sessions the watchdog closed
};

// One connection: echoes what it reads until the peer closes, an error, or the watchdog.
// Socket: asio::ip::tcp::socket, or faultline::net::tcp::socket under test.
template <class Socket>
class session : public std::enable_shared_from_this<session<Socket>> {
 public:
  session(Socket socket, clock::duration idle_timeout, server_stats& stats)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), idle_timeout_(idle_timeout), stats_(stats) {
    ++stats_.open_sessions;
  }
  ~session() { --stats_.open_sessions; }
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  void start() {
    using namespace asio::experimental::awaitable_operators;
    asio::co_spawn(
        socket_.get_executor(),
        [self = this->shared_from_this()]() -> asio::awaitable<void> { co_await (self->echo() || self->watchdog()); },
        asio::detached);
  }

 private:
  asio::awaitable<void> echo() {
    char data[1024];
    for (;;) {
      deadline_ = clock::now() + idle_timeout_;
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(data), asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;  // eof, reset, ...: the session ends and closes its socket
      auto [wec, wn] = co_await asio::async_write(socket_, asio::buffer(data, n), asio::as_tuple(asio::use_awaitable));
      if (wec) co_return;
    }
  }

  // Ends (and so cancels echo) once the deadline passes without a read completing.
  asio::awaitable<void> watchdog() {
    for (auto now = clock::now(); deadline_ > now; now = clock::now()) {
      timer_.expires_at(deadline_);
      co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    ++stats_.idle_closed;
  }

  Socket socket_;
  faultline::steady_timer timer_;
  clock::time_point deadline_{};
  clock::duration idle_timeout_;
  server_stats& stats_;
};

// Accepts forever, one session per connection; a failed accept (EMFILE, ENOBUFS) is counted,
// waited out for `accept_pause` and retried, so it never stops the server.
// Acceptor: asio::ip::tcp::acceptor, or faultline::net::tcp::acceptor under test.
template <class Acceptor>
asio::awaitable<void> serve(Acceptor& acceptor, const server_options& options, server_stats& stats) {
  faultline::steady_timer pause(acceptor.get_executor());
  for (;;) {
    auto [ec, peer] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (!acceptor.is_open()) co_return;  // closed: the server stops
    if (ec) {
      ++stats.accept_errors;
      pause.expires_after(options.accept_pause);
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    ++stats.accepted;
    std::make_shared<session<decltype(peer)>>(std::move(peer), options.idle_timeout, stats)->start();
  }
}

}  // namespace samples::echo_watchdog
