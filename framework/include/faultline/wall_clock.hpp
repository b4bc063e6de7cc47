// faultline - the virtual wall clock of a sim, and the test's script of its steps and slews.
#pragma once

#include <faultline/sim_clock.hpp>
#include <faultline/system_clock.hpp>

#include <boost/asio/execution_context.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace faultline {

namespace asio = boost::asio;

class sim_context;

/// The virtual wall clock of one sim: what `faultline::system_clock::now()`
/// reads inside it. An Asio service of the sim, created on first use
/// (`faultline::wall_clock_of(sim)`).
///
/// At steady instant `t` (virtual time since the sim's start) it reads
///
///     start() + t + (the steps due by t) + (the slew accumulated by t)
///
/// - `start()` is 2026-01-01 00:00:00 UTC (`default_start`) unless `start_at` moved it.
/// - A step (`step_at(t, d)`) jumps the wall clock by `d`, forward or back, at
///   steady instant `t`; readings at `t` and later include it.
/// - A slew (`slew(t0, t1, ppm(n))`) makes the wall clock gain `n` millionths
///   of the steady time that passes in `[t0, t1)`: it runs fast (n > 0) or
///   slow (n < 0) there, and keeps what it gained afterwards.
/// - Chaos (`chaos_plan::clocks`) adds steps and slews drawn per seed, at reads
///   of the clock (see docs/chaos.md, "Wall clocks").
/// - On a simulated host, `net::network::set_clock` adds the host's offset and drift.
///
/// Steady time (`sim.now()`, `faultline::steady_clock`, timers) never changes:
/// only wall-clock readings do. The trace records a step at the first reading
/// of the clock that includes it (a step nobody reads changes nothing).
///
/// Not thread-safe: used from the sim's thread, like the sim.
///
/// **Example**:
/// ```
/// faultline::sim_context sim;
/// auto& wall = faultline::wall_clock_of(sim);
/// wall.step_at(faultline::at(5s), -30s);                          // an NTP step back at t=5s
/// wall.slew(faultline::at(10s), faultline::at(20s), faultline::ppm(+500));  // runs fast for 10s
/// ```
class wall_clock final : public asio::execution_context::service {
 public:
  /// For `asio::use_service<faultline::wall_clock>(sim)`.
  inline static asio::execution_context::id id;

  /// 2026-01-01 00:00:00 UTC: where every sim's wall clock starts by default.
  static constexpr system_clock::time_point default_start{system_clock::duration(1'767'225'600'000'000'000)};

  /// Throws `std::invalid_argument` unless `ctx` is a `sim_context`.
  explicit wall_clock(asio::execution_context& ctx);
  ~wall_clock() override;

  /// Sets the wall time at the sim's start (steady instant 0). Throws
  /// `std::logic_error` once the sim's clock has moved: use `step_at` for a
  /// jump during the run.
  void start_at(system_clock::time_point t);
  system_clock::time_point start() const noexcept;

  /// At steady instant `t`, the wall clock jumps by `by` (negative: back).
  /// Throws `std::invalid_argument` when `t` is before the sim's now.
  wall_clock& step_at(sim_clock::time_point t, system_clock::duration by);
  /// In `[t0, t1)` the wall clock runs `rate` fast or slow. Throws
  /// `std::invalid_argument` unless `now <= t0 < t1` and `rate` is in range.
  wall_clock& slew(sim_clock::time_point t0, sim_clock::time_point t1, ppm rate);

  /// The wall time at the sim's current instant, as code outside any host
  /// reads it (without drawing chaos faults: the test's own look).
  system_clock::time_point now() const;
  /// The wall time at steady instant `t`, from what is scripted and drawn so far.
  system_clock::time_point at(sim_clock::time_point t) const;

  /// The wall time host `host` reads now (its offset and drift included).
  system_clock::time_point now_on(std::string_view host) const;
  /// From now on, the wall clock read on host `host` is this clock plus
  /// `offset`, plus `drift` of the steady time that passes from now. A
  /// later call replaces both (the clock jumps to the new offset then).
  /// `net::network::set_clock` is the checked entry (it knows the hosts).
  void set_host_clock(std::string_view host, system_clock::duration offset, ppm drift);

  /// For `faultline::system_clock`: a reading by code running on `host`
  /// (null: on no host), which chaos may fault before it returns.
  system_clock::time_point read(const std::string* host);

 private:
  void shutdown() override;
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The wall clock of `sim`, created on first use.
wall_clock& wall_clock_of(sim_context& sim);

}  // namespace faultline
