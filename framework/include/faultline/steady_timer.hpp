// faultline - a steady timer that waits in virtual time on a sim and in real time elsewhere.
#pragma once

#include <faultline/detail/sim_core.hpp>
#include <faultline/detail/wait_op.hpp>
#include <faultline/sim_context.hpp>
#include <faultline/steady_clock.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/consign.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <type_traits>

namespace faultline {

namespace detail {
[[noreturn]] void throw_sim_gone(const char* caller);
[[noreturn]] void throw_blocking_timer_wait();
}  // namespace detail

/// The API of `asio::basic_waitable_timer<steady_clock>`, waiting in virtual
/// time when its executor belongs to a `sim_context` and in real time (it is
/// then an `asio::steady_timer`) on any other executor. Production code uses
/// it unchanged; under test, an hour of backoff takes microseconds.
///
/// `async_wait` completion signature: `void(boost::system::error_code)`;
/// success when the expiry is reached, `asio::error::operation_aborted` when
/// cancelled. Per-operation cancellation: terminal, partial and total all end
/// the wait with `operation_aborted` at the instant they are emitted.
/// Destroying the timer, `cancel()`, `expires_at()` and `expires_after()`
/// end pending waits the same way. A wait never completes inside the
/// `async_wait` call; on a sim, it completes through the sim's queue.
///
/// A wait until `time_point::max()` parks the caller until cancelled; on a sim
/// auto-advance never jumps to it, and if only such waits remain, the run
/// reports a stall.
///
/// Thread safety: distinct objects safe; shared objects unsafe (as Asio's).
///
/// **Example**:
/// ```
/// faultline::steady_timer t(co_await asio::this_coro::executor, 100ms);
/// co_await t.async_wait(asio::use_awaitable);  // on a sim: now() advanced by exactly 100ms
/// ```
template <class Executor = asio::any_io_executor>
class basic_steady_timer {
  using real_timer =
      asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>, Executor>;

 public:
  using executor_type = Executor;
  using clock_type = faultline::steady_clock;
  using duration = clock_type::duration;
  using time_point = clock_type::time_point;
  using traits_type = asio::wait_traits<clock_type>;

  template <class Executor1>
  struct rebind_executor {
    using other = basic_steady_timer<Executor1>;
  };

  explicit basic_steady_timer(const executor_type& ex) : ex_(ex) { attach({}); }

  /// A timer named `name` as a chaos injection point (faultline's addition
  /// to Asio's constructors): on a sim, chaos may make its waits fire late by
  /// a latency drawn at the point `name` (`chaos_plan::point(name, ...)`,
  /// `name#2=latency(40ms)` in a schedule), never early. A timer without a
  /// name is the point `timer#<n>`, n counting the sim's timers and sleeps
  /// in creation order. On any other executor the name is ignored.
  basic_steady_timer(const executor_type& ex, std::string name) : ex_(ex) { attach(std::move(name)); }
  template <class ExecutionContext,
            class = std::enable_if_t<std::is_convertible_v<ExecutionContext&, asio::execution_context&>>>
  basic_steady_timer(ExecutionContext& ctx, std::string name)
      : basic_steady_timer(executor_type(ctx.get_executor()), std::move(name)) {}

  template <class ExecutionContext,
            class = std::enable_if_t<std::is_convertible_v<ExecutionContext&, asio::execution_context&>>>
  explicit basic_steady_timer(ExecutionContext& ctx) : basic_steady_timer(executor_type(ctx.get_executor())) {}

  basic_steady_timer(const executor_type& ex, time_point t) : basic_steady_timer(ex) { expires_at(t); }
  basic_steady_timer(const executor_type& ex, duration d) : basic_steady_timer(ex) { expires_after(d); }

  template <class ExecutionContext,
            class = std::enable_if_t<std::is_convertible_v<ExecutionContext&, asio::execution_context&>>>
  basic_steady_timer(ExecutionContext& ctx, duration d) : basic_steady_timer(executor_type(ctx.get_executor()), d) {}

  template <class ExecutionContext,
            class = std::enable_if_t<std::is_convertible_v<ExecutionContext&, asio::execution_context&>>>
  basic_steady_timer(ExecutionContext& ctx, time_point t) : basic_steady_timer(executor_type(ctx.get_executor()), t) {}

  basic_steady_timer(basic_steady_timer&&) noexcept = default;
  basic_steady_timer& operator=(basic_steady_timer&& other) noexcept {
    if (this != &other) {
      detach();
      ex_ = std::move(other.ex_);
      sim_ = std::move(other.sim_);
      real_ = std::move(other.real_);
    }
    return *this;
  }
  /// Move-converts from a timer on another executor type, as Asio's timer does.
  template <class Executor1, class = std::enable_if_t<std::is_convertible_v<const Executor1&, executor_type>>>
  basic_steady_timer(basic_steady_timer<Executor1>&& other)
      : ex_(other.ex_),
        sim_(std::move(other.sim_)),
        real_(other.real_ ? std::make_unique<real_timer>(std::move(*other.real_)) : nullptr) {
    other.real_.reset();
  }
  template <class Executor1, class = std::enable_if_t<std::is_convertible_v<const Executor1&, executor_type>>>
  basic_steady_timer& operator=(basic_steady_timer<Executor1>&& other) {
    detach();
    ex_ = other.ex_;
    sim_ = std::move(other.sim_);
    real_ = other.real_ ? std::make_unique<real_timer>(std::move(*other.real_)) : nullptr;
    other.real_.reset();
    return *this;
  }
  basic_steady_timer(const basic_steady_timer&) = delete;
  basic_steady_timer& operator=(const basic_steady_timer&) = delete;

  ~basic_steady_timer() { detach(); }

  executor_type get_executor() const noexcept { return ex_; }

  /// True when this timer waits in virtual time (its executor is a sim's).
  bool is_virtual() const noexcept { return sim_ != nullptr; }

  /// On a sim, the chaos injection point of its waits: the name given at
  /// construction, or `timer#<n>`. Empty on any other executor.
  std::string point_name() const {
    if (!sim_) return {};
    return sim_->name.empty() ? "timer#" + std::to_string(sim_->id) : sim_->name;
  }

  time_point expiry() const {
    if (sim_) return time_point(duration(sim_->expiry));
    return time_point(std::chrono::duration_cast<duration>(real_->expiry().time_since_epoch()));
  }

  /// Sets the expiry, cancelling pending waits; returns how many were cancelled.
  std::size_t expires_at(time_point t) {
    if (!sim_) return real_->expires_at(std::chrono::steady_clock::time_point(
               std::chrono::duration_cast<std::chrono::steady_clock::duration>(t.time_since_epoch())));
    auto& core = live_core("steady_timer::expires_at");
    std::size_t n = core.cancel_all(*sim_);
    sim_->expiry = t.time_since_epoch().count();
    return n;
  }

  /// Sets the expiry to now + `d`, cancelling pending waits; returns how many.
  /// On a sim, a `d` of zero or less is due now, and a sum past the end of
  /// time saturates at the last finite instant (`time_point::max() - 1ns`):
  /// such a wait is far away, not parked (only `expires_at(time_point::max())`
  /// parks).
  std::size_t expires_after(duration d) {
    if (!sim_) return real_->expires_after(d);
    auto& core = live_core("steady_timer::expires_after");
    std::size_t n = core.cancel_all(*sim_);
    sim_->expiry = detail::saturating_deadline(core.now(), d.count());
    return n;
  }
  /// The same for any duration type, converted to nanoseconds with saturation
  /// (`expires_after(hours::max())` is the last finite instant, not an overflow).
  template <class Rep, class Period>
  std::size_t expires_after(std::chrono::duration<Rep, Period> d) {
    return expires_after(duration(detail::saturating_ns(d)));
  }

  /// Ends every pending wait with `operation_aborted`; returns how many.
  std::size_t cancel() {
    if (!sim_) return real_->cancel();
    return live_core("steady_timer::cancel").cancel_all(*sim_);
  }

  /// Ends the oldest pending wait with `operation_aborted`; returns 1, or 0
  /// when nothing waits. The others keep waiting.
  std::size_t cancel_one() {
    if (!sim_) return real_->cancel_one();
    auto& core = live_core("steady_timer::cancel_one");
    detail::timer_wait* oldest = sim_->waits;  // the newest is first
    while (oldest && oldest->next_in_timer) oldest = oldest->next_in_timer;
    return oldest && core.cancel_wait(oldest) ? 1 : 0;
  }

  /// Blocks the thread until the expiry (real time only). On a sim it throws
  /// `std::logic_error`: virtual time moves only while the sim's thread runs
  /// the sim, so a blocking wait there could never end; use `async_wait`.
  void wait() {
    if (sim_) throw_blocking_wait();
    real_->wait();
  }
  void wait(boost::system::error_code& ec) {
    if (sim_) throw_blocking_wait();
    real_->wait(ec);
  }

#if !defined(BOOST_ASIO_NO_DEPRECATED)
  // Asio's deprecated forms, so code written against them compiles unchanged.
  std::size_t cancel(boost::system::error_code& ec) {
    ec = {};
    return cancel();
  }
  std::size_t cancel_one(boost::system::error_code& ec) {
    ec = {};
    return cancel_one();
  }
  time_point expires_at() const { return expiry(); }
  std::size_t expires_at(time_point t, boost::system::error_code& ec) {
    ec = {};
    return expires_at(t);
  }
  duration expires_from_now() const {
    if (sim_) return duration(sim_->expiry - live_core("steady_timer::expires_from_now").now());
    return std::chrono::duration_cast<duration>(real_->expiry() - std::chrono::steady_clock::now());
  }
  std::size_t expires_from_now(duration d) { return expires_after(d); }
  std::size_t expires_from_now(duration d, boost::system::error_code& ec) {
    ec = {};
    return expires_after(d);
  }
#endif

  /// Waits until the expiry. Completion signature `void(error_code)`.
  template <class WaitToken = asio::default_completion_token_t<executor_type>>
  auto async_wait(WaitToken&& token = asio::default_completion_token_t<executor_type>()) {
    return asio::async_initiate<WaitToken, void(boost::system::error_code)>(initiate_wait{this}, token);
  }

 private:
  struct initiate_wait {
    basic_steady_timer* self;
    using executor_type = Executor;
    executor_type get_executor() const noexcept { return self->ex_; }

    template <class Handler>
    void operator()(Handler&& h) const {
      if (!self->sim_) {
        self->real_->async_wait(std::forward<Handler>(h));
        return;
      }
      auto& core = self->live_core("steady_timer::async_wait");
      std::decay_t<Handler> handler(std::forward<Handler>(h));
      auto* op = detail::wait_op<std::decay_t<Handler>, Executor>::make(core, std::move(handler), self->ex_);
      if (core.start_wait(*self->sim_, op)) [[unlikely]]
        core.zero_wait_loop(op, op->slot());
    }
  };

  void attach(std::string name) {
    if (detail::sim_core* core = detail::sim_core_of(ex_)) {
      sim_ = std::make_unique<detail::sim_timer_state>();
      sim_->name = std::move(name);
      core->register_timer(*sim_);
    } else {
      real_ = std::make_unique<real_timer>(ex_);
    }
  }

  void detach() noexcept {
    if (sim_ && sim_->core()) {
      sim_->core()->cancel_all(*sim_);
      sim_->core()->unregister_timer(*sim_);
    }
    sim_.reset();
  }

  template <class>
  friend class basic_steady_timer;

  [[noreturn]] static void throw_blocking_wait() { detail::throw_blocking_timer_wait(); }

  detail::sim_core& live_core(const char* caller) const {
    detail::sim_core* core = sim_->core();
    if (!core) detail::throw_sim_gone(caller);
    return *core;
  }

  executor_type ex_;
  std::unique_ptr<detail::sim_timer_state> sim_;
  std::unique_ptr<real_timer> real_;
};

/// The timer production code declares: `faultline::steady_timer t(ex);`
using steady_timer = basic_steady_timer<>;

namespace detail {

// A sleep as one asynchronous operation for any handler: on a sim the wait
// goes straight into the queue (no timer object); on any other executor a
// real timer lives as long as the wait.
struct initiate_sleep {
  template <class Handler>
  void operator()(Handler&& handler, steady_clock::time_point until, bool relative, steady_clock::duration d) const {
    using handler_type = std::decay_t<Handler>;
    auto ex = asio::get_associated_executor(handler);
    if (sim_core* core = sim_core_of(ex)) {
      std::int64_t deadline = relative ? saturating_deadline(core->now(), d.count()) : until.time_since_epoch().count();
      handler_type h(std::forward<Handler>(handler));
      auto* op = wait_op<handler_type, decltype(ex)>::make(*core, std::move(h), ex);
      if (core->start_sleep(op, deadline)) [[unlikely]]
        core->zero_wait_loop(op, op->slot());
      return;
    }
    auto timer = std::make_unique<asio::basic_waitable_timer<std::chrono::steady_clock>>(ex);
    if (relative)
      timer->expires_after(d);
    else
      timer->expires_at(std::chrono::steady_clock::time_point(
          std::chrono::duration_cast<std::chrono::steady_clock::duration>(until.time_since_epoch())));
    auto& t = *timer;
    t.async_wait(asio::consign(std::forward<Handler>(handler), std::move(timer)));
  }
};

// A sleep is the frame of `sleep_coro`, whose coroutine holds the wait record
// itself: the record needs no allocation of its own, and the frame is smaller
// than `async_initiate`'s for `use_awaitable` (which keeps copies of the
// initiation, the token and every argument). The handler is the one Asio's
// `use_awaitable` makes: the wait's completion finishes this frame with the
// error code (a `system_error` in the awaiting coroutine), pops it and
// resumes the caller, so the frame is gone right after the record. These are
// Asio's detail types, used exactly as `async_result<use_awaitable_t>` uses
// them (Boost 1.81): should they change, this fails to compile, not to run.
using sleep_executor = asio::any_io_executor;
using sleep_handler = asio::detail::awaitable_handler<sleep_executor, boost::system::error_code>;
using sleep_record = handler_wait<sleep_handler, sleep_executor, true>;

// The coroutine's one parameter, which its frame keeps: what to wait for,
// and room for the wait record. One object, so that the frame holds it once
// and the awaiter needs only its address.
struct sleep_request {
  std::int64_t value;  // the deadline, or the duration when `relative`
  bool relative;
  alignas(sleep_record) unsigned char storage[sizeof(sleep_record)];
};

struct start_sleep_in_frame {
  sleep_request* request;  // in the suspended frame

  // Called by Asio once the frame has suspended (await_transform of a
  // function object), exactly as `use_awaitable`'s own initiation is.
  asio::detail::awaitable_thread<sleep_executor>* operator()(
      asio::detail::awaitable_frame_base<sleep_executor>* frame) const {
    sleep_handler handler(frame->detach_thread());
    const sleep_executor ex = asio::get_associated_executor(handler);
    const std::int64_t value = request->value;
    if (sim_core* core = sim_core_of(ex)) {
      const std::int64_t deadline = request->relative ? saturating_deadline(core->now(), value) : value;
      sleep_record* op = sleep_record::make_in(request->storage, *core, std::move(handler), ex);
      if (core->start_sleep(op, deadline)) [[unlikely]]
        core->zero_wait_loop(op, op->slot());
    } else {
      const steady_clock::duration d(value);
      initiate_sleep{}(std::move(handler), steady_clock::time_point(d), request->relative, d);
    }
    return nullptr;
  }
};

inline asio::awaitable<void> sleep_coro(sleep_request r) {
  co_await start_sleep_in_frame{&r};
  for (;;) {
  }  // never reached: the handler pops this frame without resuming it
}

}  // namespace detail

/// Suspends the calling coroutine for `d`: virtual time on a sim, real time
/// elsewhere. Cancellation (any type) ends it early with
/// `system_error(operation_aborted)`. Completion signature of the underlying
/// operation: `void(error_code)`. On a sim, `d <= 0` completes at `now()` (through
/// the queue, after the work already due), and a huge `d` saturates at the
/// last finite instant instead of overflowing.
template <class Rep, class Period>
asio::awaitable<void> sleep_for(std::chrono::duration<Rep, Period> d) {
  detail::sleep_request r;  // the storage stays raw until the sleep starts
  r.value = detail::saturating_ns(d);
  r.relative = true;
  return detail::sleep_coro(r);
}

/// Suspends the calling coroutine until `t` (a `faultline::steady_clock` instant).
/// On a sim, an instant already passed completes at `now()`, exactly like
/// `sleep_for(0s)`; `time_point::max()` parks the caller until cancelled.
inline asio::awaitable<void> sleep_until(steady_clock::time_point t) {
  detail::sleep_request r;
  r.value = t.time_since_epoch().count();
  r.relative = false;
  return detail::sleep_coro(r);
}

}  // namespace faultline
