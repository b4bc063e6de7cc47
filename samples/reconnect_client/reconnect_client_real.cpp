// reconnect_client against real TCP: the same client (built with RECONNECT_CLIENT_REAL_TCP) and a pong
// server on an io_context over loopback; exits 0 once a heartbeat got its reply (bounded by 5 s).
#include "reconnect_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <cstdio>
#include <string>

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;
namespace rc = samples::reconnect_client;

int main() {
  asio::io_context io;
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});  // an ephemeral port
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto peer = co_await acceptor.async_accept(asio::use_awaitable);
        std::string in;
        auto [ec, n] = co_await asio::async_read_until(peer, asio::dynamic_buffer(in), '\n',
                                                       asio::as_tuple(asio::use_awaitable));
        if (!ec && in.substr(0, n) == "ping\n") co_await asio::async_write(peer, asio::buffer("pong\n", 5), asio::use_awaitable);
      },
      asio::detached);

  bool connected = false, answered = false;
  rc::client_options options{.host = "127.0.0.1",
                             .service = std::to_string(acceptor.local_endpoint().port()),
                             .heartbeat_interval = 20ms};
  rc::client client(io.get_executor(), options, [&](const rc::client_event& e) {
    connected = connected || e.what == rc::client_event::kind::connected;
    if (e.what == rc::client_event::kind::heartbeat_ok) {
      answered = true;
      io.stop();  // one exchange is enough; run() is left suspended and destroyed with io
    }
  });
  asio::co_spawn(io, client.run(), asio::detached);
  io.run_for(5s);
  const bool ok = connected && answered;
  std::printf("reconnect_client_real: %s, %s: %s\n", connected ? "connected" : "never connected",
              answered ? "a heartbeat was answered" : "no heartbeat answered", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
