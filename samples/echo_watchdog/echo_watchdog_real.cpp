// echo_watchdog against real TCP: the same server on an io_context over loopback, one echo, then the
// watchdog closes the idle connection. Exits 0 when both happened, 1 otherwise (bounded by 5 s).
#include "echo_watchdog.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>

#include <chrono>
#include <cstdio>
#include <string>

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;
namespace ew = samples::echo_watchdog;

int main() {
  ew::server_stats stats;  // before io: sessions io destroys at the end still count themselves out
  const ew::server_options options{.idle_timeout = 100ms};
  asio::io_context io;
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});  // an ephemeral port
  asio::co_spawn(io, ew::serve(acceptor, options, stats), asio::detached);

  std::string reply(5, '\0');
  boost::system::error_code idle_end;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        tcp::socket s(io);
        co_await s.async_connect(acceptor.local_endpoint(), asio::use_awaitable);
        co_await asio::async_write(s, asio::buffer("hello", 5), asio::use_awaitable);
        co_await asio::async_read(s, asio::buffer(reply), asio::use_awaitable);
        char c;
        auto [ec, n] = co_await s.async_read_some(asio::buffer(&c, 1), asio::as_tuple(asio::use_awaitable));
        idle_end = ec;  // eof: the watchdog closed the idle session
        acceptor.close();
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run_for(5s);
  const bool ok = io.stopped() && reply == "hello" && idle_end == asio::error::eof && stats.idle_closed == 1;
  std::printf("echo_watchdog_real: reply \"%s\", then %s; %d session(s) closed idle: %s\n", reply.c_str(),
              idle_end.message().c_str(), stats.idle_closed, ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
