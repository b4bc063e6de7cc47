// faultline - gMock actions for mock methods returning asio::awaitable<T>, in virtual time.
#pragma once

#include <faultline/chaos.hpp>
#include <faultline/detail/format.hpp>
#include <faultline/fake.hpp>
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
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace faultline::testing {

/// One call a mock made through a `Named` action: what `async_fake::calls()`
/// holds for a double.
struct mock_call {
  std::string method;       ///< the name given to `Named`: "db.get"
  std::size_t index = 0;    ///< 0-based, among this method's calls on this sim
  std::string text;         ///< the call as printed: `db.get("k")`
  sim_clock::time_point started{};             ///< when the call was awaited
  std::optional<sim_clock::time_point> ended;  ///< when it completed; empty while pending
  call_status status = call_status::pending;
  std::string detail;  ///< the value, exception or error it ended with, as text

  /// `db.get("k") at t=0.000s -> returned "v" at t=0.010s`
  std::string describe() const;
};

/// The calls `sim` saw of the mock method named `method` (`Named`), in call
/// order: copies, so they stay valid whatever happens next. Empty if there
/// were none. Thread safety: read it from the sim's thread.
std::vector<mock_call> mock_calls(const sim_context& sim, std::string_view method);

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

// A wait that leaves no timer in the trace and in pending(): a `Named`
// call's latency or hang, which its call's own events and the sim's record
// of named calls describe instead. Elsewhere than on a sim, a real timer.
struct initiate_quiet_wait {
  template <class Handler>
  void operator()(Handler&& handler, sim_clock::duration d, bool forever) const {
    using handler_type = std::decay_t<Handler>;
    auto ex = asio::get_associated_executor(handler);
    faultline::detail::sim_core* core = faultline::detail::sim_core_of(ex);
    if (!core) {
      faultline::detail::initiate_sleep{}(std::forward<Handler>(handler), steady_clock::time_point::max(), !forever,
                                          steady_clock::duration(d.count()));
      return;
    }
    handler_type h(std::forward<Handler>(handler));
    auto* op = faultline::detail::wait_op<handler_type, decltype(ex)>::make(*core, std::move(h), ex);
    op->order = core->journal().total();
    core->schedule(op, forever ? faultline::detail::parked_deadline
                               : faultline::detail::saturating_deadline(core->now(), d.count()));
  }
};

template <class E>
asio::awaitable<void, E> quiet_wait(sim_clock::duration d, bool forever) {
  return asio::async_initiate<const asio::use_awaitable_t<E>&, void(boost::system::error_code)>(
      initiate_quiet_wait{}, asio::use_awaitable_t<E>{}, d, forever);
}

// A virtual sleep on the awaiting coroutine's executor (real time elsewhere);
// `quiet` for a Named call.
template <class E>
asio::awaitable<void, E> sleep_on(sim_clock::duration d, bool quiet) {
  if (quiet) return quiet_wait<E>(d, false);
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
asio::awaitable<T, E> return_after(sim_clock::duration d, T v, bool quiet) {
  co_await sleep_on<E>(d, quiet);
  co_return std::move(v);
}

template <class E>
asio::awaitable<void, E> return_after_void(sim_clock::duration d, bool quiet) {
  co_await sleep_on<E>(d, quiet);
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
asio::awaitable<T, E> throw_after(sim_clock::duration d, std::exception_ptr e, bool quiet) {
  co_await sleep_on<E>(d, quiet);
  std::rethrow_exception(e);
}

template <class T, class E>
asio::awaitable<T, E> hang(bool quiet) {
  if (quiet) {
    co_await quiet_wait<E>({}, true);
  } else {
    basic_steady_timer<E> t(co_await asio::this_coro::executor, steady_clock::time_point::max());
    co_await t.async_wait(asio::use_awaitable_t<E>{});
  }
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
asio::awaitable<T, E> chaos_return(std::string point, sim_clock::duration d, V v, bool quiet) {
  const std::optional<fault> f = draw_chaos(point);
  if (f && f->kind == fault_kind::hang) co_return co_await hang<T, E>(quiet);
  sim_clock::duration wait = d;
  if (f && f->kind == fault_kind::latency) wait += f->latency;
  if (wait.count() > 0) co_await sleep_on<E>(wait, quiet);
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
  asio::awaitable<T, E> make(bool quiet) const {
    if constexpr (std::is_void_v<T>) {
      // If you get an error on the following line: the mock returns
      // awaitable<void>; write ReturnAfter(d) or ReturnImmediately() without a value.
      static_assert(std::is_same_v<V, no_value>, "faultline: the mock returns asio::awaitable<void>: give no value");
      return immediate ? return_now_void<E>() : return_after_void<E>(d, quiet);
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
      return immediate ? return_now<T, E>(std::move(value)) : return_after<T, E>(d, std::move(value), quiet);
    }
  }

  template <class T, class E>
  asio::awaitable<T, E> make_once(bool quiet) && {
    if constexpr (std::is_void_v<T> || !std::is_convertible_v<V&&, T>) {
      return make<T, E>(quiet);  // void, or a mismatch that make() names
    } else {
      T value = std::move(v);
      return immediate ? return_now<T, E>(std::move(value)) : return_after<T, E>(d, std::move(value), quiet);
    }
  }
};

struct throw_maker {
  sim_clock::duration d;
  std::exception_ptr e;

  template <class T, class E>
  asio::awaitable<T, E> make(bool quiet) const {
    return throw_after<T, E>(d, e, quiet);
  }
  template <class T, class E>
  asio::awaitable<T, E> make_once(bool quiet) && {
    return throw_after<T, E>(d, std::move(e), quiet);
  }
};

template <class V>
struct chaos_maker {
  std::string point;
  sim_clock::duration d;
  V v;

  template <class T, class E>
  asio::awaitable<T, E> make(bool quiet) const {
    if constexpr (std::is_void_v<T>) {
      static_assert(std::is_same_v<V, no_value>, "faultline: the mock returns asio::awaitable<void>: give no value");
      return chaos_return<T, E>(point, d, no_value{}, quiet);
    } else {
      static_assert(!std::is_same_v<V, no_value>, "faultline: the mock returns asio::awaitable<T>: give a value");
      static_assert(std::is_copy_constructible_v<V>,
                    "faultline: this action holds a move-only value and can serve one call only: use it with WillOnce");
      return chaos_return<T, E>(point, d, v, quiet);
    }
  }
  template <class T, class E>
  asio::awaitable<T, E> make_once(bool quiet) && {
    if constexpr (std::is_void_v<T>)
      return make<T, E>(quiet);
    else
      return chaos_return<T, E>(std::move(point), d, std::move(v), quiet);
  }
};

struct hang_maker {
  template <class T, class E>
  asio::awaitable<T, E> make(bool quiet) const {
    return hang<T, E>(quiet);
  }
  template <class T, class E>
  asio::awaitable<T, E> make_once(bool quiet) && {
    return hang<T, E>(quiet);
  }
};

// ---- Named calls: records and trace events under the mocked method's name.

// Where one named call is recorded; null `log` outside a sim (nothing is).
struct named_call {
  void* log = nullptr;
  std::size_t index = 0;
};
/// Records call `text` of `method` starting now on the running sim, and
/// journals it (`call`); nothing outside a sim.
named_call start_named_call(const std::string& method, std::string text);
/// Records and journals how `c` ended: a value (its text), or `e`.
void end_named_call(const named_call& c, std::string value_text);
void end_named_call(const named_call& c, const std::exception_ptr& e);
/// Throws `std::invalid_argument` when `method` cannot name a call.
void check_method_name(const std::string& method);

template <class T, class E>
asio::awaitable<T, E> named_call_run(std::string method, std::string text, asio::awaitable<T, E> inner) {
  const named_call c = start_named_call(method, std::move(text));
  std::exception_ptr failed;
  if constexpr (std::is_void_v<T>) {
    try {
      co_await std::move(inner);
    } catch (...) {
      failed = std::current_exception();
    }
    if (failed) {
      end_named_call(c, failed);
      std::rethrow_exception(failed);
    }
    end_named_call(c, std::string());
  } else {
    std::optional<T> v;
    try {
      v.emplace(co_await std::move(inner));
    } catch (...) {
      failed = std::current_exception();
    }
    if (failed) {
      end_named_call(c, failed);
      std::rethrow_exception(failed);
    }
    std::string value_text;
    faultline::detail::append_value(value_text, *v);
    end_named_call(c, std::move(value_text));
    co_return std::move(*v);
  }
}

template <class Inner>
struct named_maker {
  std::string method;
  Inner inner;

  template <class T, class E, class... Args>
  asio::awaitable<T, E> make(const Args&... args) const {
    return named_call_run<T, E>(method, faultline::detail::format_call(method, std::forward_as_tuple(args...)),
                                inner.template make<T, E>(true));
  }
  template <class T, class E, class... Args>
  asio::awaitable<T, E> make_once(const Args&... args) && {
    std::string text = faultline::detail::format_call(method, std::forward_as_tuple(args...));
    return named_call_run<T, E>(std::move(method), std::move(text), std::move(inner).template make_once<T, E>(true));
  }
};

template <class M>
struct is_named_maker : std::false_type {};
template <class M>
struct is_named_maker<named_maker<M>> : std::true_type {};

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
    if constexpr (is_named)
      return [m = maker_](const std::decay_t<Args>&... args) -> R { return m.template make<T, E>(args...); };
    else
      return [m = maker_]() -> R { return m.template make<T, E>(false); };
  }

  template <class R, class... Args>
  operator ::testing::OnceAction<R(Args...)>() && {  // NOLINT
    using traits = check<R>;
    using T = typename traits::value_type;
    using E = typename traits::executor_type;
    if constexpr (is_named)
      return [m = std::move(maker_)](const std::decay_t<Args>&... args) mutable -> R {
        return std::move(m).template make_once<T, E>(args...);
      };
    else
      return [m = std::move(maker_)]() mutable -> R { return std::move(m).template make_once<T, E>(false); };
  }

  /// The action's maker, for `Named`.
  Maker&& maker() && { return std::move(maker_); }

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
  static constexpr bool is_named = detail::is_named_maker<Maker>::value;

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

/// Records each call the mock makes through `action` under the mocked
/// method's name, as a double records its calls: readable with
/// `mock_calls(sim, method)` (start, end, how it ended), and in the trace
/// and the failure timeline as the call with its arguments (`db.get("k")
/// called`, then `returned "v"`, `failed ...`, `threw ...` or `cancelled`),
/// with no `timer#N` for its latency; a call still in progress shows in
/// `sim.pending()` and in stall reports under its own name. gMock gives an
/// action no name for the method, hence the name here; use the one the test
/// reads back (and, for `ChaosReturnAfter`, usually its point name).
///
/// A call is recorded when it is awaited, which in `co_await mock.f(...)`
/// is the moment of the call; outside a sim nothing is recorded and the
/// action behaves as `action`. Works with every faultline action; throws
/// `std::invalid_argument` for an empty name.
///
/// **Example**:
/// ```
/// EXPECT_CALL(db, get("k")).WillOnce(Named("db.get", ReturnAfter(10ms, std::string("v"))));
/// co_await db.get("k");
/// // mock_calls(sim(), "db.get")[0].describe():
/// //   db.get("k") at t=0.000s -> returned "v" at t=0.010s
/// ```
template <class Maker>
awaitable_action<detail::named_maker<Maker>> Named(std::string method, awaitable_action<Maker> action) {
  static_assert(!detail::is_named_maker<Maker>::value, "faultline: this action is Named already; name it once");
  detail::check_method_name(method);
  return awaitable_action<detail::named_maker<Maker>>({std::move(method), std::move(action).maker()});
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
