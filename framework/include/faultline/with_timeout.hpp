// faultline - with_timeout and cancel_after: a deadline on an awaitable that surfaces its failure at once.
#pragma once

#include <faultline/steady_clock.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace faultline {

namespace detail {
/// `system_error(asio::error::timed_out)`, what `with_timeout` throws at its deadline.
[[noreturn]] void throw_timed_out();
/// Rejects a negative timeout, naming the caller and the value.
void check_timeout(const char* caller, steady_clock::duration d);

// Runs `op`, keeping its value in the caller's frame, so the group's
// completion carries only an exception_ptr and T needs no default constructor.
template <class T>
asio::awaitable<void> keep_result(asio::awaitable<T> op, std::optional<T>* out) {
  out->emplace(co_await std::move(op));
}
inline asio::awaitable<void> keep_result(asio::awaitable<void> op, std::optional<int>*) { co_await std::move(op); }

// The race behind with_timeout and cancel_after: `op` against a faultline
// timer in a parallel_group that waits for the first to finish, cancels the
// other with `type`, and completes only when both have ended.
template <class T>
asio::awaitable<T> race_deadline(asio::awaitable<T> op, steady_clock::duration d, asio::cancellation_type type,
                                 bool timed_out_at_deadline) {
  auto ex = co_await asio::this_coro::executor;
  std::optional<std::conditional_t<std::is_void_v<T>, int, T>> value;
  basic_steady_timer<decltype(ex)> deadline(ex, d);
  // The group is a named variable: GCC 12 mishandles temporaries with
  // destructors inside a co_await expression.
  auto group = asio::experimental::make_parallel_group(
      asio::co_spawn(ex, keep_result(std::move(op), &value), asio::deferred), deadline.async_wait(asio::deferred));
  auto [order, error, timer_ec] =
      co_await group.async_wait(asio::experimental::wait_for_one(type), asio::use_awaitable);
  // The timer finishing first without an error is the deadline; finishing
  // first with operation_aborted means the caller was cancelled, and then the
  // operation's own ending (usually its cancellation) is the answer.
  if (timed_out_at_deadline && order[0] == 1 && !timer_ec) throw_timed_out();
  if (error) std::rethrow_exception(error);
  if constexpr (!std::is_void_v<T>) co_return std::move(*value);
}
}  // namespace detail

/// Awaits `op` with a deadline `d` from now (virtual time on a sim, real time
/// elsewhere), surfacing the operation's own failure at once.
///
/// Completion:
/// - `op` returns before the deadline: its value, at that instant.
/// - `op` throws before the deadline: that exception, at that instant. (Asio's
///   `op || timer` waits for one *success*, so a fault in `op` stays hidden
///   until the timer fires; this does not.)
/// - The deadline comes first: `op` receives terminal cancellation, and once
///   it has ended (its cancellation awaited, so nothing of it is left running),
///   `with_timeout` throws `system_error(asio::error::timed_out)`. How `op`
///   ended after the cancellation is discarded, even a value.
/// - The caller is cancelled (terminal, the coroutine default): `op` receives
///   the same cancellation, the timer is cancelled, and `with_timeout` ends the
///   way `op` ends, usually `system_error(operation_aborted)`; never
///   `timed_out`.
///
/// A negative `d` throws `std::invalid_argument`; zero means "the deadline is
/// now" (an `op` that needs no virtual time at all may still win the race).
///
/// **Example**:
/// ```
/// try {
///   auto body = co_await faultline::with_timeout(client.fetch("/a"), 2s);
/// } catch (const boost::system::system_error& e) {
///   if (e.code() != asio::error::timed_out) throw;  // fetch's own failure, at once
/// }
/// ```
template <class T, class Rep, class Period>
asio::awaitable<T> with_timeout(asio::awaitable<T> op, std::chrono::duration<Rep, Period> d) {
  const auto dd = std::chrono::duration_cast<steady_clock::duration>(d);
  detail::check_timeout("with_timeout", dd);
  return detail::race_deadline(std::move(op), dd, asio::cancellation_type::terminal, true);
}

/// Awaits `op`, emitting cancellation of `type` into it `d` from now if it has
/// not ended by then, and ends exactly as `op` ends (Asio's `cancel_after`
/// shape). With the default terminal type a coroutine ends with
/// `system_error(operation_aborted)` at the deadline; an `op` that catches its
/// cancellation may return a fallback value instead. Partial and total
/// cancellation reach a coroutine only if it enabled them
/// (`this_coro::reset_cancellation_state`); an `op` that ignores the
/// cancellation is awaited to its natural end. Caller cancellation and
/// negative `d` behave as for `with_timeout`.
template <class T, class Rep, class Period>
asio::awaitable<T> cancel_after(asio::awaitable<T> op, std::chrono::duration<Rep, Period> d,
                                asio::cancellation_type type = asio::cancellation_type::terminal) {
  const auto dd = std::chrono::duration_cast<steady_clock::duration>(d);
  detail::check_timeout("cancel_after", dd);
  return detail::race_deadline(std::move(op), dd, type, false);
}

}  // namespace faultline
