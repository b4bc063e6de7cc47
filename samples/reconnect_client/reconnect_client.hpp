// reconnect_client - a client that connects with a timeout, reconnects with capped backoff and
// detects a dead connection by heartbeats.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace samples::reconnect_client {

namespace asio = boost::asio;
using duration = std::chrono::steady_clock::duration;

struct client_options {
  std::string host;     // a name or a numeric address
  std::string service;  // a port number
  duration connect_timeout = std::chrono::seconds(1);  // resolve and connect, per attempt
  duration initial_backoff = std::chrono::milliseconds(100);  // after the first failed attempt; doubles
  duration max_backoff = std::chrono::seconds(2);
  duration heartbeat_interval = std::chrono::seconds(1);  // between a reply and the next "ping"
  duration heartbeat_timeout = std::chrono::milliseconds(500);  // a "pong" later than this: the connection is dead
};

// What the client reports to its observer (a log, metrics, a test).
struct client_event {
  enum class kind { connected, connect_failed, heartbeat_ok, disconnected };
  kind what;
  boost::system::error_code error;  // why a connect failed or a connection was dropped (timed_out: no reply in time)
};

// Keeps one connection to host:service alive: resolve and connect (bounded by connect_timeout); on
// failure wait initial_backoff, doubling up to max_backoff, and try again; once connected, send
// "ping\n" every heartbeat_interval and expect "pong\n" within heartbeat_timeout, else drop the
// connection and reconnect at once. The backoff starts over after each successful connect.
class client {
 public:
  // ex: where it runs (an io_context's executor; a faultline::net host's executor under test).
  client(asio::any_io_executor ex, client_options options, std::function<void(const client_event&)> observer = {});

  // Runs until cancelled (per-operation cancellation of the awaitable, or its coroutine's). Never
  // completes otherwise.
  asio::awaitable<void> run();

 private:
  asio::any_io_executor ex_;
  client_options options_;
  std::function<void(const client_event&)> observer_;
};

}  // namespace samples::reconnect_client
