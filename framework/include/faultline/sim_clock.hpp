// faultline - the virtual clock of a sim_context.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace faultline {

/// The virtual clock of a `sim_context`.
///
/// Its epoch is the instant the sim was created, so `sim.now()` reads as
/// "virtual time since the start of the test" and assertions read naturally:
/// `EXPECT_EQ(sim.now(), faultline::at(10ms))`.
///
/// `now()` returns the virtual time of the sim that is running on the calling
/// thread; outside a running sim it throws `std::logic_error`, since there is
/// no virtual time to read there. Code that must run in both worlds reads
/// `faultline::steady_clock` instead.
struct sim_clock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = std::chrono::duration<rep, period>;
  using time_point = std::chrono::time_point<sim_clock, duration>;
  static constexpr bool is_steady = true;

  static time_point now();
};

/// The virtual instant `d` after the sim's start: `faultline::at(1500ms)`.
template <class Rep, class Period>
constexpr sim_clock::time_point at(std::chrono::duration<Rep, Period> d) {
  return sim_clock::time_point(std::chrono::duration_cast<sim_clock::duration>(d));
}

/// Formats an instant as the timeline prints it: `t=1.250s`, `t=0.000015s`.
/// Whole milliseconds print with three decimals; finer instants with as many
/// digits (in groups of three) as they need, so no information is lost.
std::string to_string(sim_clock::time_point t);

/// Formats a duration the same way, without the `t=`: `1.250s`.
std::string to_string(sim_clock::duration d);

/// Streams an instant as `t=1.250s`. Found by argument-dependent lookup (a
/// `sim_clock::time_point` is a `std::chrono::time_point` of a faultline type),
/// so GoogleTest prints `sim.now()` in a failed `EXPECT_EQ` without any
/// faultline include, and `EXPECT_TRUE(ok) << "at " << sim.now()` reads well.
/// A duration is a plain `std::chrono::duration`, which lookup never ties to
/// faultline: stream `faultline::to_string(d)`, or compare instants
/// (`faultline::at(d)`) rather than durations in assertions.
std::ostream& operator<<(std::ostream& os, sim_clock::time_point t);

}  // namespace faultline
