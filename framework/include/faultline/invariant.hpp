// faultline - invariants at the instant: a broken invariant stops the run where it broke.
#pragma once

#include <faultline/sim_clock.hpp>

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace faultline {

class sim_context;

/// What a run throws when an invariant broke (`invariant`, `fail_now`,
/// `every`): `what()` is `faultline: invariant "pool within its limit"
/// broken at t=1.250s` (then `: ` and the detail, if one was given).
class invariant_violation : public std::runtime_error {
 public:
  invariant_violation(std::string name, const std::string& detail, sim_clock::time_point at);

  /// The invariant's name: what a sweep's minimiser keeps failing.
  const std::string& name() const noexcept { return name_; }
  /// The virtual instant it broke.
  sim_clock::time_point at() const noexcept { return at_; }

 private:
  std::string name_;
  sim_clock::time_point at_;
};

/// Fails the running sim at this virtual instant unless `cond` holds. Call
/// it anywhere code runs on a sim: a coroutine, a double's hook, an `every`
/// predicate. When `cond` is false it records an `invariant` event in the
/// trace at `now()`, throws `invariant_violation` (so the calling code stops
/// there too), and the sim runs no further handler: `run`, `run_for`,
/// `advance`, `poll` and `sim.run(awaitable)` throw the violation, now and on
/// every later call, even if the code under test caught it. In a sweep the
/// run fails with the invariant's name as its criterion: minimisation keeps
/// only schedules that break this same invariant.
///
/// Throws `std::logic_error` when no sim is running on the calling thread
/// (the test body between runs): check the state with an assertion there.
///
/// **Example**:
/// ```
/// pool.on_acquire([&] { faultline::invariant(pool.in_use() <= limit, "pool within its limit"); });
/// ```
void invariant(bool cond, std::string_view name);

/// `invariant(false, name)`, with `detail` added to the message (what was
/// seen: "5 connections, limit 4"); the name alone is the criterion.
[[noreturn]] void fail_now(std::string_view name, std::string_view detail = {});

/// Checks `predicate` every `period` of virtual time on `sim`, from
/// `now() + period` on, and fails the run at the first instant it returns
/// false, as `invariant(false, name)` would. A check at instant `t` sees the
/// state that every handler before `t` left and runs before any handler due
/// at `t`. Checks never keep a run going: `run()` ends when the code under
/// test has nothing left, and checks due later do not run. Several checks due
/// at one instant run in the order they were added.
///
/// Throws `std::invalid_argument` for a period not above 0, an empty
/// predicate or an empty name. Call it on the sim's thread.
void every(sim_context& sim, sim_clock::duration period, std::function<bool()> predicate, std::string name);

/// The invariant that stopped `sim`'s run, if one did.
std::optional<invariant_violation> broken_invariant(sim_context& sim);

}  // namespace faultline
