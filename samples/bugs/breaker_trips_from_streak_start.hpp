// Planted bug (two faults): a circuit breaker that times its cooldown from the first failure of the streak.
#pragma once

#include <faultline/steady_clock.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>

namespace samples::bugs {

namespace asio = boost::asio;

/// Thrown instead of calling the dependency while the breaker is open.
struct breaker_open : std::runtime_error {
  breaker_open() : std::runtime_error("circuit breaker open") {}
};

/// A circuit breaker: `threshold` failures in a row open it; while open,
/// calls fail at once with `breaker_open`; `cooldown` after it opened, the
/// next call goes through as a probe. `buggy` plants the bug: the cooldown
/// is timed from the *first* failure of the streak instead of the one that
/// opened it, so the breaker closes early by the gap between the failures.
/// One failure never opens it: only two faults in a row show the bug.
class streak_breaker {
 public:
  using clock = faultline::steady_clock;

  streak_breaker(int threshold, clock::duration cooldown, bool buggy)
      : threshold_(threshold), cooldown_(cooldown), buggy_(buggy) {}

  template <class Op>
  auto call(Op op) -> decltype(op()) {
    if (open_until_ && clock::now() < *open_until_) throw breaker_open();
    try {
      auto r = co_await op();
      failures_ = 0;
      open_until_.reset();
      co_return r;
    } catch (const breaker_open&) {
      throw;
    } catch (...) {
      if (failures_++ == 0) streak_start_ = clock::now();
      if (failures_ >= threshold_) {
        // PLANTED BUG (when buggy_): the streak's start, not now, starts the cooldown.
        open_until_ = (buggy_ ? streak_start_ : clock::now()) + cooldown_;
        failures_ = 0;
      }
      throw;
    }
  }

 private:
  int threshold_;
  clock::duration cooldown_;
  bool buggy_;
  int failures_ = 0;
  clock::time_point streak_start_{};
  std::optional<clock::time_point> open_until_;
};

}  // namespace samples::bugs
