// Sample "Timeout Handling": bound an awaited operation by a deadline without hiding its faults.
#pragma once

#include <faultline/steady_timer.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <exception>
#include <string>
#include <type_traits>
#include <utility>

namespace samples::timeouts {

namespace asio = boost::asio;
using duration = faultline::steady_timer::duration;

/// Thrown when an operation did not finish within its limit. It is a
/// `system_error` carrying `asio::error::timed_out`, so callers that match
/// error codes (`e.code() == asio::error::timed_out`) catch it too.
class timeout_error : public boost::system::system_error {
 public:
  explicit timeout_error(duration limit)
      : system_error(asio::error::timed_out,
                     "with_timeout: no result within " +
                         std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(limit).count()) + "ms"),
        limit_(limit) {}

  duration limit() const noexcept { return limit_; }

 private:
  duration limit_;
};

/// Awaits `op`, but for no longer than `limit`.
///
/// Completes with `op`'s value, or throws what `op` threw the moment it threw
/// it, or throws `timeout_error` at exactly `limit`, after cancelling `op`.
/// Whichever comes first cancels the other, and this returns only once both
/// have ended: no timer and no call is left behind. (A value `op` still
/// delivers after being cancelled is returned; a failure at the very instant
/// of the deadline counts as a timeout.)
///
/// Cancellation: cancelling the caller cancels `op` and the timer; this then
/// ends as cancelled (`operation_aborted`), never as a timeout.
///
/// `T` must be default-constructible (`co_spawn`'s completion passes a `T`
/// even on failure).
///
/// **Example**:
/// ```
/// std::string body = co_await with_timeout(fetch("/a"), 2s);
/// ```
template <class T>
asio::awaitable<T> with_timeout(asio::awaitable<T> op, duration limit) {
  namespace ex = asio::experimental;
  auto exec = co_await asio::this_coro::executor;
  faultline::steady_timer timer(exec, limit);
  // wait_for_one, not `||`: the group ends at the first completion of either
  // kind, so a failure of `op` is not held back until the timer fires.
  auto results = co_await ex::make_parallel_group(asio::co_spawn(exec, std::move(op), asio::deferred),
                                                  timer.async_wait(asio::deferred))
                     .async_wait(ex::wait_for_one(), asio::use_awaitable);
  const std::exception_ptr& failure = std::get<1>(results);
  const boost::system::error_code& timer_error = std::get<std::tuple_size_v<decltype(results)> - 1>(results);
  // `op` failed and the timer expired: `op` was cancelled because of it. A
  // timer that ended with an error was cancelled instead, by `op` finishing
  // first or by our caller, and `failure` tells which.
  if (failure && !timer_error) throw timeout_error(limit);
  if (failure) std::rethrow_exception(failure);
  if constexpr (!std::is_void_v<T>) co_return std::move(std::get<2>(results));
}

/// ANTI-PATTERN, kept to show what goes wrong: `op || sleep_for(limit)`.
///
/// Asio's `a || b` waits for the first *success*. When `op` fails before the
/// deadline, the failure is held back until the timer succeeds at `limit`,
/// and is then reported as a timeout: the caller waits longer than needed and
/// never learns the real error. Use `with_timeout`.
template <class T>
asio::awaitable<T> naive_with_timeout(asio::awaitable<T> op, duration limit) {
  using namespace asio::experimental::awaitable_operators;
  auto r = co_await (std::move(op) || faultline::sleep_for(limit));
  if (r.index() == 1) throw timeout_error(limit);
  if constexpr (!std::is_void_v<T>) co_return std::get<0>(std::move(r));
}

}  // namespace samples::timeouts
