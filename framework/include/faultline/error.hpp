// faultline - errors a sim reports instead of hanging: stall, livelock, horizon.
#pragma once

#include <faultline/sim_clock.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace faultline {

/// One operation that is suspended in a sim, as `sim.pending()` and the stall
/// report list it.
struct pending_operation {
  std::string name;               ///< "fetch", "timer#3", "task consumer"
  std::string kind;               ///< "task", "timer", "parked timer", ...
  sim_clock::time_point since{};  ///< when it started waiting
  std::string detail;             ///< e.g. "until t=2.000s"; may be empty
  std::uint64_t order = 0;        ///< trace index of the event that started it

  /// `timer#3 (timer) waiting since t=0.000s until t=2.000s`
  std::string describe() const;
};

/// Base of the errors that end a sim's run instead of letting it hang or spin.
/// `what()` is the full, printable report.
class sim_error : public std::runtime_error {
 public:
  sim_error(const std::string& what, sim_clock::time_point at, std::vector<pending_operation> pending)
      : std::runtime_error(what), at_(at), pending_(std::move(pending)) {}

  /// The virtual instant at which the sim gave up.
  sim_clock::time_point at() const noexcept { return at_; }
  /// What was still suspended then, in the order the operations started.
  const std::vector<pending_operation>& pending() const noexcept { return pending_; }

 private:
  sim_clock::time_point at_;
  std::vector<pending_operation> pending_;
};

/// Nothing is ready and no timer is pending, yet operations are still
/// suspended: without this error, `run()` would wait forever.
class stall_error : public sim_error {
  using sim_error::sim_error;
};

/// Too many handlers ran without virtual time moving: something spins.
class livelock_error : public sim_error {
  using sim_error::sim_error;
};

/// Auto-advance would move the clock past the sim's horizon: something keeps
/// scheduling timers forever (an endless retry loop, say).
class horizon_error : public sim_error {
  using sim_error::sim_error;
};

}  // namespace faultline

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace faultline {

/// Error codes of faultline's own, in the category named "faultline".
enum class error {
  /// A double was called with arguments no script step matches.
  unscripted_call = 1,
  /// A scripted exception cannot travel through an `error_code` completion
  /// (use the exception_ptr form, e.g. `async_call_ex`, or script `fails(ec)`).
  exception_not_representable,
  /// A hold was released in a way that does not fit its call.
  bad_release,
  /// A fault injected by a chaos plan or schedule (the default error code
  /// of `fault_rates`).
  injected_fault,
};

const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

/// Thrown into the caller of a double whose script has no step for the
/// call; `what()` lists the call's arguments and the steps that exist.
class script_error : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

}  // namespace faultline

template <>
struct boost::system::is_error_code_enum<faultline::error> : std::true_type {};
