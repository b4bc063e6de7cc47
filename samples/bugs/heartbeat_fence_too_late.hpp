// Planted bug (leases): a node that fences itself later than its monitor declares it dead, so a late
// heartbeat leaves a window with two writers. Written for this file.
#pragma once

#include <faultline/steady_clock.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <optional>
#include <vector>

namespace samples::bugs {

namespace asio = boost::asio;
using std::chrono::milliseconds;

/// Declares a node dead when no heartbeat came for more than `dead_after`;
/// a heartbeat from a node declared dead is refused (the node steps down).
struct heartbeat_monitor {
  faultline::steady_clock::duration dead_after{milliseconds(150)};
  faultline::steady_clock::time_point last_seen{};
  std::optional<faultline::steady_clock::time_point> declared_dead_at;

  bool beat() {
    if (declared_dead_at) return false;
    last_seen = faultline::steady_clock::now();
    return true;
  }
  /// Checks every `every` until `until`.
  asio::awaitable<void> watch(faultline::steady_clock::duration every, faultline::steady_clock::time_point until) {
    while (!declared_dead_at && faultline::steady_clock::now() < until) {
      co_await faultline::sleep_for(every);
      if (faultline::steady_clock::now() - last_seen > dead_after) declared_dead_at = faultline::steady_clock::now();
    }
  }
};

/// A node that writes while it believes it is alive: it heartbeats every
/// `period` on a timer named "heartbeat", and stops writing when its own
/// last accepted heartbeat is `fence_after` old or older, or a heartbeat was
/// refused. Correct only while `fence_after` is at most the monitor's
/// `dead_after`: then the node has stopped before the monitor gives up on it.
struct fenced_writer {
  explicit fenced_writer(heartbeat_monitor& m, faultline::steady_clock::duration fence = milliseconds(120))
      : monitor(&m), fence_after(fence) {}

  heartbeat_monitor* monitor;
  faultline::steady_clock::duration period{milliseconds(100)};
  faultline::steady_clock::duration fence_after;
  faultline::steady_clock::time_point last_beat{};
  bool stepped_down = false;
  std::vector<faultline::steady_clock::time_point> writes;

  bool believes_alive() const {
    return !stepped_down && faultline::steady_clock::now() - last_beat < fence_after;
  }
  asio::awaitable<void> heartbeat(faultline::steady_clock::time_point until) {
    faultline::steady_timer t(co_await asio::this_coro::executor, "heartbeat");
    while (!stepped_down && faultline::steady_clock::now() < until) {
      t.expires_after(period);
      co_await t.async_wait(asio::use_awaitable);
      if (monitor->beat())
        last_beat = faultline::steady_clock::now();
      else
        stepped_down = true;
    }
  }
  asio::awaitable<void> write_loop(faultline::steady_clock::duration every, faultline::steady_clock::time_point until) {
    while (faultline::steady_clock::now() < until) {
      if (believes_alive()) writes.push_back(faultline::steady_clock::now());
      co_await faultline::sleep_for(every);
    }
  }
};

/// PLANTED BUG: the node's fence is 200ms, longer than the monitor's 150ms
/// (written as "two missed heartbeats" on one side and "one and a half" on
/// the other). With heartbeats on time the gap is never above 100ms and
/// neither matters; a heartbeat more than 50ms late makes the monitor
/// declare the node dead while it still writes.
inline fenced_writer writer_fencing_too_late(heartbeat_monitor& m) { return fenced_writer(m, milliseconds(200)); }

}  // namespace samples::bugs
