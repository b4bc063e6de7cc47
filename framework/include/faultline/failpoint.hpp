// faultline - named failpoints in user code, armed per sim by tests or by FAULTLINE_FAILPOINTS.
#pragma once

#include <faultline/detail/sim_core.hpp>
#include <faultline/failpoint_spec.hpp>

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace faultline {

namespace asio = boost::asio;

class sim_context;

/// What a failpoint armed with `throw` or `throw(message)` throws.
/// `what()` is `failpoint db.commit: message`, or
/// `failpoint db.commit: injected fault` when the spec gave no message.
/// Copying never throws.
class failpoint_error : public std::runtime_error {
 public:
  failpoint_error(std::string_view name, std::string_view message);

  /// The failpoint that threw: "db.commit".
  const std::string& name() const noexcept { return *name_; }

 private:
  std::shared_ptr<const std::string> name_;
};

class failpoint_registry;

namespace detail {

// What one hit of an armed failpoint does; filled by the registry, carried
// out by the slow path of `failpoint()`.
struct failpoint_decision {
  failpoint_action action = failpoint_action::off;
  sim_clock::duration delay{};
  boost::system::error_code ec;
  const std::string* message = nullptr;  // `throw`: the spec's message
  const std::string* name = nullptr;     // owned by the registry, outlives the hit
};

std::unique_ptr<failpoint_registry> make_failpoint_registry(sim_core& core);

}  // namespace detail

/// The failpoints of one sim: which are armed, with what, and how often each
/// was reached. Every sim has its own (`faultline::failpoints(sim)`), so tests
/// running in parallel threads never see each other's faults.
///
/// A sim arms itself from the environment variable `FAULTLINE_FAILPOINTS`
/// when it is constructed; a malformed value makes the sim's constructor
/// throw `failpoint_spec_error`. Tests then arm, re-arm and disarm at will.
///
/// Semantics (those of the Rust crate fail-rs): each hit of an armed
/// failpoint offers its tasks in order; the first one not used up that wins
/// its `p%` draw fires and spends one of its `count`; if none fires, the hit
/// passes. The `p%` draws come from (the sim's seed, the failpoint name, the
/// hit's index), so the same `sim_options::seed` replays the same faults.
///
/// Actions, when a task fires (the operation is the `co_await failpoint(...)`):
/// - `off`: passes.
/// - `delay(ms)`: a virtual sleep of `ms` on a `faultline::steady_timer`;
///   cancellation ends it early with `system_error(operation_aborted)`.
/// - `throw`, `throw(message)`: throws `failpoint_error`.
/// - `error(name)`, `error(number)`: throws `boost::system::system_error` with
///   that code (names from `asio::error`, e.g. `connection_refused`, `eof`,
///   `timed_out`; a number is a `system_category` code). `what()` starts with
///   `failpoint db.commit: `.
/// - `hang`: suspends until cancelled (per-operation cancellation of any type
///   the coroutine lets through), then throws `system_error(operation_aborted)`;
///   `sim.pending()` and stall reports list it as
///   `failpoint db.commit (hanging failpoint) waiting since t=... until cancelled`.
/// - `cancel`: throws `system_error(operation_aborted)` at once.
///
/// Every hit that does something other than `off` is recorded in the sim's
/// trace as `t=0.010s db.commit failpoint hit: error(connection_refused)`.
///
/// Thread safety: belongs to its sim's thread, like the sim.
///
/// **Example**:
/// ```
/// faultline::sim_context sim;
/// faultline::failpoints(sim).arm("db.commit", "2*error(connection_refused)->off");
/// // the first two commits fail, later ones pass
/// ```
class failpoint_registry final : public detail::sim_object {
 public:
  ~failpoint_registry();

  /// Arms `name` with `actions`, the text after the `=` of the spec grammar
  /// (`parse_failpoints`): `"25%delay(100)->error(timed_out)"`. Re-arming
  /// replaces the tasks and their counts; `hits` keeps counting.
  ///
  /// Throws `failpoint_spec_error` (positions refer to `name=actions`) when
  /// the text does not parse, holds more than one entry, or names an error
  /// that does not exist. Nothing changes when it throws.
  ///
  /// `file`/`line` default to the caller: an armed failpoint that no code
  /// reaches before the sim ends is reported there (see `unreached()`).
  void arm(std::string_view name, std::string_view actions, const char* file = __builtin_FILE(),
           int line = __builtin_LINE());

  /// Arms every entry of a whole spec, `"a=off;b=2*hang"`, as
  /// `FAULTLINE_FAILPOINTS` spells it. Names not in the spec stay as they
  /// were. All or nothing: when it throws (`failpoint_spec_error`), nothing
  /// changes.
  void arm_all(std::string_view spec, const char* file = __builtin_FILE(), int line = __builtin_LINE());

  /// Disarms `name`: it becomes inert again. A hang it started keeps
  /// hanging until cancelled. Returns whether it was armed.
  bool disarm(std::string_view name);

  /// Disarms every failpoint (those armed from the environment too).
  void disarm_all();

  /// True while `name` is armed.
  bool is_armed(std::string_view name) const;

  /// How many times `name` was reached while armed (passing hits included).
  /// A disarmed failpoint costs one branch and counts nothing: arm it with
  /// `off` to count without injecting anything.
  std::uint64_t hits(std::string_view name) const;

  /// What is armed now, in name order, as a spec `arm_all` accepts:
  /// `"a=off;db.commit=2*error(eof)->off"`. Counts are the armed ones, not
  /// what is left of them.
  std::string spec() const;

  /// Failpoints armed by the test that are still armed and were never
  /// reached, one `name=actions` line each, in name order (a typo such as
  /// `db.comit` shows up here). When the sim ends, those nobody read here are
  /// reported as a failure of the current test (`report_failure`); a test
  /// that expects one unreached disarms it, or asserts this list. Names armed
  /// from `FAULTLINE_FAILPOINTS` are not listed: every test gets them, so the
  /// program reports at exit those that no sim of the run reached.
  std::vector<std::string> unreached() const;

  /// True when any failpoint is armed; the only thing a disarmed
  /// `failpoint()` reads.
  bool any_armed() const noexcept { return armed_ != 0; }

  /// For `failpoint()`: counts the hit, draws, journals, and says what to do.
  /// Hits that nothing armed decides go to the sim's chaos engine, if active.
  detail::failpoint_decision hit(std::string_view name);

  // -- hanging operations, for failpoint()'s slow path ---------------------------
  struct hang_base;
  void start_hang(hang_base* h, const std::string* name);
  void cancel_hang(hang_base* h) noexcept;

  void describe_pending(std::vector<pending_operation>& out) const override;
  bool blocks_run() const noexcept override;
  void on_sim_shutdown() noexcept override;

 private:
  friend std::unique_ptr<failpoint_registry> detail::make_failpoint_registry(detail::sim_core& core);
  explicit failpoint_registry(detail::sim_core& core);

  detail::failpoint_decision chaos_hit(std::string_view name);
  std::vector<std::string> list_unreached() const;
  void report_unreached() noexcept;

  struct impl;
  std::size_t armed_ = 0;
  bool reported_ = false;
  mutable std::vector<std::string> seen_unreached_;
  detail::sim_core* sim_;
  std::unique_ptr<impl> impl_;
};

/// The failpoints of `sim`, to arm and inspect from a test.
failpoint_registry& failpoints(sim_context& sim) noexcept;
const failpoint_registry& failpoints(const sim_context& sim) noexcept;

namespace detail {

/// The whole disarmed cost of a failpoint: one thread-local read and the
/// branches on it. False outside a sim, and in a sim where nothing is armed.
inline bool failpoint_armed() noexcept {
  const sim_core* c = tls_current_core;
  return c != nullptr && (c->failpoints().any_armed() || c->chaos_active());
}

/// The armed path: looks `name` up in the running sim and does what its
/// tasks say. `name` must stay alive until this starts (the macro and
/// `failpoint()` await it at once).
asio::awaitable<void> failpoint_hit(std::string_view name);

}  // namespace detail

#ifndef FAULTLINE_NO_FAILPOINTS

/// A named injection point in user code. Inert, and returns at once, unless
/// the sim running on this thread has `name` armed (`failpoints(sim).arm`,
/// or `FAULTLINE_FAILPOINTS`); then it delays, throws, fails with an error
/// code, hangs until cancelled or completes as cancelled, as armed. See
/// `failpoint_registry` for the actions and what each throws.
///
/// Cost when disarmed: a coroutine frame, since every `co_await` of an
/// `asio::awaitable` suspends; `FAULTLINE_FAILPOINT(name);` is the form that
/// costs one branch. With `FAULTLINE_NO_FAILPOINTS` defined, both are
/// compiled out.
///
/// **Example**:
/// ```
/// asio::awaitable<void> commit(db& d) {
///   co_await faultline::failpoint("db.commit");
///   co_await d.async_commit(asio::use_awaitable);
/// }
/// ```
inline asio::awaitable<void> failpoint(std::string_view name) {
  if (detail::failpoint_armed()) [[unlikely]]
    co_await detail::failpoint_hit(name);
}

/// The zero-cost failpoint statement, for the body of an `asio::awaitable`
/// coroutine: `FAULTLINE_FAILPOINT("db.commit");`. When the running sim has
/// nothing armed (or outside any sim) it costs one branch on a thread-local
/// and does not evaluate `name`; otherwise it behaves exactly as
/// `co_await faultline::failpoint(name)`.
#define FAULTLINE_FAILPOINT(name)                        \
  if (::faultline::detail::failpoint_armed()) [[unlikely]] \
    co_await ::faultline::detail::failpoint_hit(name);   \
  else                                                   \
    static_cast<void>(0)

#else  // FAULTLINE_NO_FAILPOINTS: failpoints are compiled out.

inline asio::awaitable<void> failpoint(std::string_view) { co_return; }

#define FAULTLINE_FAILPOINT(name) static_cast<void>(0)

#endif

}  // namespace faultline
