// faultline - a wall clock that reads virtual wall time inside a sim and real time elsewhere.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>

namespace faultline {

/// A Clock for production code that stamps, expires or schedules by wall
/// time (TTLs, certificates, cron-like jobs): a drop-in for
/// `std::chrono::system_clock`, with the same epoch (1970-01-01 00:00:00 UTC).
///
/// `now()` returns the virtual wall time of the sim whose handler runs on the
/// calling thread, and `std::chrono::system_clock::now()` everywhere else.
/// Inside a sim the wall clock reads
///
///     start + steady time since the sim's start + steps + slew
///
/// where `start` is 2026-01-01 00:00:00 UTC unless the test sets it
/// (`faultline::wall_clock_of(sim).start_at(...)`, `<faultline/wall_clock.hpp>`),
/// and steps (jumps forward or back) and slews (running fast or slow) come from
/// the test's script or from chaos. On a simulated host (`<faultline/net/network.hpp>`)
/// the host's own offset and drift are added. `faultline::steady_clock` is
/// never affected: steady time never jumps.
///
/// Not steady (`is_steady` is false): unlike `steady_clock`, it may go back.
/// Thread-safe.
struct system_clock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = std::chrono::duration<rep, period>;
  using time_point = std::chrono::time_point<system_clock, duration>;
  static constexpr bool is_steady = false;

  static time_point now() noexcept;

  /// Whole seconds since the epoch, rounded toward negative infinity like
  /// `std::chrono::system_clock::to_time_t` on common platforms.
  static std::time_t to_time_t(const time_point& t) noexcept {
    return static_cast<std::time_t>(std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count());
  }
  static time_point from_time_t(std::time_t t) noexcept {
    return time_point(std::chrono::duration_cast<duration>(std::chrono::seconds(t)));
  }

  /// For `std::chrono::clock_cast` and formatting: the same instant as a
  /// `std::chrono::sys_time` (both clocks count from the Unix epoch).
  template <class Duration>
  static std::chrono::sys_time<Duration> to_sys(const std::chrono::time_point<system_clock, Duration>& t) {
    return std::chrono::sys_time<Duration>(t.time_since_epoch());
  }
  template <class Duration>
  static std::chrono::time_point<system_clock, Duration> from_sys(const std::chrono::sys_time<Duration>& t) {
    return std::chrono::time_point<system_clock, Duration>(t.time_since_epoch());
  }
};

/// A rate change of a clock, in parts per million: `ppm(+500)` runs 500 us
/// fast per second of steady time, `ppm(-200)` 200 us slow. A clock keeps
/// moving forward whatever the rate: values from -999,999 (nearly stopped)
/// to +1,000,000,000 (1001 times as fast) are accepted.
struct ppm {
  std::int64_t count = 0;

  constexpr explicit ppm(std::int64_t n) noexcept : count(n) {}
  friend constexpr bool operator==(ppm a, ppm b) noexcept = default;

  static constexpr std::int64_t min = -999'999;
  static constexpr std::int64_t max = 1'000'000'000;
};

}  // namespace faultline
