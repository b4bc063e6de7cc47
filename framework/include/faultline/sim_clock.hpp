// faultline - the virtual clock of a sim_context.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <type_traits>

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
/// faultline: stream `faultline::to_string(d)` into a message. GoogleTest
/// still prints durations readably (see the end of this file).
std::ostream& operator<<(std::ostream& os, sim_clock::time_point t);

namespace detail {

/// Prints `ticks` ticks of `num/den` seconds as the timeline does ("0.250s")
/// when that is a whole number of nanoseconds a `sim_clock::duration` holds;
/// otherwise the count and its unit, as C++20's `operator<<` does ("1.5s",
/// "3[1/3]s").
void print_duration(std::intmax_t ticks, std::intmax_t num, std::intmax_t den, std::ostream* os);
void print_duration(long double ticks, std::intmax_t num, std::intmax_t den, std::ostream* os);

}  // namespace detail

}  // namespace faultline

// GoogleTest prints every value through testing::internal::UniversalPrinter<T>,
// and durations have nothing else to hook: a PrintTo or operator<< would have to
// live in namespace std::chrono (the only place lookup searches for them), which
// a program may not extend, and libstdc++ 12 has no operator<< for durations
// (so GoogleTest printed "8-byte object <...>"). A partial specialisation of
// GoogleTest's printer for std::chrono::duration is legal C++ and needs no
// GoogleTest include; its primary template is declared as GoogleTest 1.10 to
// 1.15 define it (gtest-printers.h). A failed EXPECT_EQ on durations then
// reads "Which is: 0.250s", in any file that includes a faultline header.
// Its limits (docs/gtest.md): it replaces a PrintTo of the user's own for
// durations, and a file that includes no faultline header prints bytes.
namespace testing::internal {
template <typename T>
class UniversalPrinter;

template <class Rep, class Period>
class UniversalPrinter<std::chrono::duration<Rep, Period>> {
 public:
  static void Print(const std::chrono::duration<Rep, Period>& d, std::ostream* os) {
    if constexpr (std::is_integral_v<Rep>)
      ::faultline::detail::print_duration(static_cast<std::intmax_t>(d.count()), Period::num, Period::den, os);
    else
      ::faultline::detail::print_duration(static_cast<long double>(d.count()), Period::num, Period::den, os);
  }
};
}  // namespace testing::internal
