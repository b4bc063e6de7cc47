// faultline - gMock actions for mock methods returning asio::awaitable<T>, in virtual time.
#pragma once

#include <faultline/chaos.hpp>
#include <faultline/sim_clock.hpp>
#include <faultline/steady_clock.hpp>
#include <faultline/steady_timer.hpp>

#include <gmock/gmock-actions.h>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace faultline::testing {

namespace detail {

template <class R>
struct awaitable_traits : std::false_type {};
template <class T, class E>
struct awaitable_traits<asio::awaitable<T, E>> : std::true_type {
  using value_type = T;
  using executor_type = E;
};

/// Throws `std::invalid_argument` naming `action` when `d` is negative.
void check_latency(const char* action, sim_clock::duration d);

template <class Rep, class Period>
sim_clock::duration latency(const char* action, std::chrono::duration<Rep, Period> d) {
  auto ns = std::chrono::duration_cast<sim_clock::duration>(d);
  check_latency(action, ns);
  return ns;
}

template <class E>
asio::awaitable<void, E> timer_sleep(sim_clock::duration d) {
  basic_steady_timer<E> t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable_t<E>{});
}

// A virtual sleep on the awaiting coroutine's executor (real time elsewhere).
template <class E>
asio::awaitable<void, E> sleep_on(sim_clock::duration d) {
  if constexpr (std::is_same_v<E, asio::any_io_executor>)
    return sleep_for(d);
  else
    return timer_sleep<E>(d);
}

// The coroutines behind the actions. Everything they use is a parameter, so
// it lives in the coroutine frame: gMock copies an action before performing
// it and destroys the copy when the call returns, long before the caller
// awaits the result (a lambda coroutine's captures would be gone by then).

template <class T, class E>
asio::awaitable<T, E> return_after(sim_clock::duration d, T v) {
  co_await sleep_on<E>(d);
  co_return std::move(v);
}

template <class E>
asio::awaitable<void, E> return_after_void(sim_clock::duration d) {
  co_await sleep_on<E>(d);
}

template <class T, class E>
asio::awaitable<T, E> return_now(T v) {
  co_return std::move(v);
}

template <class E>
asio::awaitable<void, E> return_now_void() {
  co_return;
}

template <class T, class E>
asio::awaitable<T, E> throw_after(sim_clock::duration d, std::exception_ptr e) {
  co_await sleep_on<E>(d);
  std::rethrow_exception(e);
}

template <class T, class E>
asio::awaitable<T, E> hang() {
  basic_steady_timer<E> t(co_await asio::this_coro::executor, steady_clock::time_point::max());
  co_await t.async_wait(asio::use_awaitable_t<E>{});
  // A wait until time_point::max() ends only by cancellation, which the
  // co_await above throws as system_error(operation_aborted).
  throw boost::system::system_error(asio::error::operation_aborted, "faultline::testing::Hang");
}

/// The running sim's chaos decision for a call at `point` (none outside a
/// sim or while its chaos engine is off); journaled and counted like a
/// double's.
std::optional<fault> draw_chaos(const std::string& point);
[[noreturn]] void throw_chaos_fault(const fault& f);

// Draws at the moment the caller awaits the result, which in
// `co_await mock.f(...)` is the moment of the call.
template <class T, class E, class V>
asio::awaitable<T, E> chaos_return(std::string point, sim_clock::duration d, V v) {
  const std::optional<fault> f = draw_chaos(point);
  if (f && f->kind == fault_kind::hang) co_return co_await hang<T, E>();
  sim_clock::duration wait = d;
  if (f && f->kind == fault_kind::latency) wait += f->latency;
  if (wait.count() > 0) co_await sleep_on<E>(wait);
  if (f && f->kind != fault_kind::latency) throw_chaos_fault(*f);
  if constexpr (std::is_void_v<T>)
    co_return;
  else
    co_return T(std::move(v));
}

/// Marks `ReturnAfter(d)` / `ReturnImmediately()` for `awaitable<void>`.
struct no_value {};

// What each action produces for a mock returning awaitable<T, E>. make() is
// for Action (copyable, performed any number of times); make_once() for
// OnceAction (WillOnce), which may move a move-only value out.

template <class V>
struct return_maker {
  sim_clock::duration d;
  bool immediate;
  V v;

  template <class T, class E>
  asio::awaitable<T, E> make() const {
    if constexpr (std::is_void_v<T>) {
      // If you get an error on the following line: the mock returns
      // awaitable<void>; write ReturnAfter(d) or ReturnImmediately() without a value.
      static_assert(std::is_same_v<V, no_value>, "faultline: the mock returns asio::awaitable<void>: give no value");
      return immediate ? return_now_void<E>() : return_after_void<E>(d);
    } else {
      // If you get an error on the following line: the mock returns
      // awaitable<T> with T not void; ReturnAfter(d, value) needs the value.
      static_assert(!std::is_same_v<V, no_value>, "faultline: the mock returns asio::awaitable<T>: give a value");
      // If you get an error on the following line: a move-only value can
      // serve one call only; use the action with WillOnce, not
      // WillRepeatedly or ON_CALL.
      static_assert(std::is_copy_constructible_v<V>,
                    "faultline: this action holds a move-only value and can serve one call only: use it with WillOnce");
      static_assert(std::is_convertible_v<const V&, T>,
                    "faultline: the value does not convert to the mock's result type");
      T value = v;
      return immediate ? return_now<T, E>(std::move(value)) : return_after<T, E>(d, std::move(value));
    }
  }

  template <class T, class E>
  asio::awaitable<T, E> make_once() && {
    if constexpr (std::is_void_v<T> || !std::is_convertible_v<V&&, T>) {
      return make<T, E>();  // void, or a mismatch that make() names
    } else {
      T value = std::move(v);
      return immediate ? return_now<T, E>(std::move(value)) : return_after<T, E>(d, std::move(value));
    }
  }
};

struct throw_maker {
  sim_clock::duration d;
  std::exception_ptr e;

  template <class T, class E>
  asio::awaitable<T, E> make() const {
    return throw_after<T, E>(d, e);
  }
  template <class T, class E>
  asio::awaitable<T, E> make_once() && {
    return throw_after<T, E>(d, std::move(e));
  }
};

template <class V>
struct chaos_maker {
  std::string point;
  sim_clock::duration d;
  V v;

  template <class T, class E>
  asio::awaitable<T, E> make() const {
    if constexpr (std::is_void_v<T>) {
      static_assert(std::is_same_v<V, no_value>, "faultline: the mock returns asio::awaitable<void>: give no value");
      return chaos_return<T, E>(point, d, no_value{});
    } else {
      static_assert(!std::is_same_v<V, no_value>, "faultline: the mock returns asio::awaitable<T>: give a value");
      static_assert(std::is_copy_constructible_v<V>,
                    "faultline: this action holds a move-only value and can serve one call only: use it with WillOnce");
      return chaos_return<T, E>(point, d, v);
    }
  }
  template <class T, class E>
  asio::awaitable<T, E> make_once() && {
    if constexpr (std::is_void_v<T>)
      return make<T, E>();
    else
      return chaos_return<T, E>(std::move(point), d, std::move(v));
  }
};

struct hang_maker {
  template <class T, class E>
  asio::awaitable<T, E> make() const {
    return hang<T, E>();
  }
  template <class T, class E>
  asio::awaitable<T, E> make_once() && {
    return hang<T, E>();
  }
};

}  // namespace detail

/// A gMock action for a mock method returning `asio::awaitable<T, E>`.
/// Converts to `::testing::Action` (`WillRepeatedly`, `ON_CALL`, `DoAll`) and
/// to `::testing::OnceAction` (`WillOnce`, which also takes move-only values).
/// Each call gets a coroutine of its own that owns copies of what it needs.
template <class Maker>
class awaitable_action {
 public:
  explicit awaitable_action(Maker m) : maker_(std::move(m)) {}

  template <class R, class... Args>
  operator ::testing::Action<R(Args...)>() const {  // NOLINT: implicit, as gMock's own actions
    using traits = check<R>;
    using T = typename traits::value_type;
    using E = typename traits::executor_type;
    return [m = maker_]() -> R { return m.template make<T, E>(); };
  }

  template <class R, class... Args>
  operator ::testing::OnceAction<R(Args...)>() && {  // NOLINT
    using traits = check<R>;
    using T = typename traits::value_type;
    using E = typename traits::executor_type;
    return [m = std::move(maker_)]() mutable -> R { return std::move(m).template make_once<T, E>(); };
  }

 private:
  template <class R>
  struct check : detail::awaitable_traits<R> {
    // If you get an error on the following line: faultline's actions
    // (ReturnAfter, ThrowAfter, FailAfter, Hang, CancelAfter,
    // ReturnImmediately) are for mock methods returning asio::awaitable<T>;
    // use gMock's Return or Throw for other methods.
    static_assert(detail::awaitable_traits<R>::value,
                  "faultline: this action is for mock methods returning asio::awaitable<T>");
  };

  Maker maker_;
};

/// Completes with `value` after `latency`, a virtual sleep (on a sim) of the
/// coroutine that awaits the result; the latency counts from that
/// `co_await`, which is the moment of the call in `co_await mock.f(...)`.
/// The value is copied for each call (move-only values: `WillOnce` only).
/// Cancellation (any type) during the latency ends the call with
/// `system_error(operation_aborted)`.
///
/// **Example**:
/// ```
/// EXPECT_CALL(mock, fetch("/a")).WillOnce(ReturnAfter(100ms, "ok"));
/// auto body = co_await mock.fetch("/a");  // "ok", at t=0.100s
/// ```
template <class Rep, class Period, class V>
awaitable_action<detail::return_maker<std::decay_t<V>>> ReturnAfter(std::chrono::duration<Rep, Period> latency,
                                                                    V&& value) {
  return awaitable_action<detail::return_maker<std::decay_t<V>>>(
      {detail::latency("ReturnAfter", latency), false, std::forward<V>(value)});
}

/// Completes normally after `latency`, for mocks returning `awaitable<void>`.
template <class Rep, class Period>
awaitable_action<detail::return_maker<detail::no_value>> ReturnAfter(std::chrono::duration<Rep, Period> latency) {
  return awaitable_action<detail::return_maker<detail::no_value>>({detail::latency("ReturnAfter", latency), false, {}});
}

/// Completes with `value` without suspending: the `co_await` resumes at once,
/// at the same instant, without going through the sim's queue.
template <class V>
awaitable_action<detail::return_maker<std::decay_t<V>>> ReturnImmediately(V&& value) {
  return awaitable_action<detail::return_maker<std::decay_t<V>>>({sim_clock::duration{}, true, std::forward<V>(value)});
}

/// Completes normally without suspending, for mocks returning `awaitable<void>`.
inline awaitable_action<detail::return_maker<detail::no_value>> ReturnImmediately() {
  return awaitable_action<detail::return_maker<detail::no_value>>({sim_clock::duration{}, true, {}});
}

/// Throws `exception` into the awaiting coroutine after `latency`. Every call
/// rethrows the same exception object (as gMock's `Throw`).
template <class Rep, class Period, class Exception>
awaitable_action<detail::throw_maker> ThrowAfter(std::chrono::duration<Rep, Period> latency, Exception exception) {
  std::exception_ptr e;
  if constexpr (std::is_same_v<Exception, std::exception_ptr>)
    e = std::move(exception);
  else
    e = std::make_exception_ptr(std::move(exception));
  return awaitable_action<detail::throw_maker>({detail::latency("ThrowAfter", latency), std::move(e)});
}

/// Fails with `ec` after `latency`: throws `boost::system::system_error(ec)`
/// into the awaiting coroutine, as Asio's `use_awaitable` does.
template <class Rep, class Period>
awaitable_action<detail::throw_maker> FailAfter(std::chrono::duration<Rep, Period> latency,
                                                boost::system::error_code ec) {
  return awaitable_action<detail::throw_maker>(
      {detail::latency("FailAfter", latency), std::make_exception_ptr(boost::system::system_error(ec))});
}

/// Ends as cancelled after `latency` (`system_error(operation_aborted)`), as
/// if the callee gave up; `outcome::was_cancelled()` is then true.
template <class Rep, class Period>
awaitable_action<detail::throw_maker> CancelAfter(std::chrono::duration<Rep, Period> latency) {
  return awaitable_action<detail::throw_maker>(
      {detail::latency("CancelAfter", latency),
       std::make_exception_ptr(boost::system::system_error(asio::error::operation_aborted))});
}

/// Lets the running sim's chaos engine decide the call, as it decides a
/// double's: each call is the next call of injection point `point`. No fault:
/// completes with `value` after `latency`. Otherwise, as drawn from the
/// plan (or replayed from a schedule): `error` throws
/// `system_error(code)` after `latency`, `latency` adds to it, `hang` waits
/// for cancellation, `cancel` throws `operation_aborted` after `latency`.
/// Outside a sim, or with chaos off, it is `ReturnAfter(latency, value)`.
///
/// **Example**:
/// ```
/// ON_CALL(db, commit(_)).WillByDefault(ChaosReturnAfter("db.commit", 5ms, true));
/// ```
template <class Rep, class Period, class V>
awaitable_action<detail::chaos_maker<std::decay_t<V>>> ChaosReturnAfter(std::string point,
                                                                      std::chrono::duration<Rep, Period> latency,
                                                                      V&& value) {
  return awaitable_action<detail::chaos_maker<std::decay_t<V>>>(
      {std::move(point), detail::latency("ChaosReturnAfter", latency), std::forward<V>(value)});
}

/// `ChaosReturnAfter` for mocks returning `awaitable<void>`.
template <class Rep, class Period>
awaitable_action<detail::chaos_maker<detail::no_value>> ChaosReturnAfter(std::string point,
                                                                         std::chrono::duration<Rep, Period> latency) {
  return awaitable_action<detail::chaos_maker<detail::no_value>>(
      {std::move(point), detail::latency("ChaosReturnAfter", latency), {}});
}

/// Never completes by itself: only cancellation of the awaiting coroutine (a
/// `||` timeout, `task.cancel()`, a parallel_group) ends it, with
/// `system_error(operation_aborted)`. On a sim it shows in `pending()` and in
/// stall reports as a parked timer.
inline awaitable_action<detail::hang_maker> Hang() { return awaitable_action<detail::hang_maker>({}); }

}  // namespace faultline::testing

// gMock's default for awaitable<T> mocks without an action (a clear failure,
// not a crash) is in <faultline/detail/gmock_default.hpp>, which every
// faultline header brings in.
