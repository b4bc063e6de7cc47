// faultline - a steady clock that reads virtual time inside a sim and real time elsewhere.
#pragma once

#include <chrono>
#include <cstdint>

namespace faultline {

/// A Clock (and TrivialClock) for production code that measures elapsed
/// time: circuit breakers, rate limiters, leases, deadline budgets.
///
/// `now()` returns the virtual time of the sim whose handler is running on
/// the calling thread, and `std::chrono::steady_clock::now()` everywhere
/// else. Each sim sees only its own time, so sims in parallel test threads
/// (or several alive on one thread) never see each other's clocks.
///
/// Its time points are what `faultline::steady_timer::expires_at` takes, on a
/// sim and on an `io_context` alike. Note that code in a test body outside
/// the sim (before `sim.run()`) reads real time: compute deadlines inside
/// the coroutine, or use `expires_after`.
///
/// Thread-safe.
struct steady_clock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = std::chrono::duration<rep, period>;
  using time_point = std::chrono::time_point<steady_clock, duration>;
  static constexpr bool is_steady = true;

  static time_point now() noexcept;
};

}  // namespace faultline
