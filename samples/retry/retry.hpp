// Sample "Retry Pattern for Async": retry a failing operation with capped exponential backoff and jitter.
#pragma once

#include <faultline/steady_timer.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace samples::retry {

namespace asio = boost::asio;
using duration = faultline::steady_clock::duration;

/// How often `retry` tries, and how long it waits in between.
struct retry_policy {
  /// Attempts in all, the first one included; at least 1.
  int max_attempts = 3;
  /// The wait before the second attempt.
  duration initial_delay = std::chrono::seconds(1);
  /// Each further wait is the previous one times this.
  double multiplier = 2.0;
  /// No wait is longer than this (jitter then scales it).
  duration max_delay = std::chrono::seconds(30);
  // (The `{}` below let designated initializers leave these two out without
  // GCC's -Wmissing-field-initializers.)
  /// Which errors deserve another attempt; empty: every `std::exception`.
  /// A cancellation is never retried, whatever this says.
  std::function<bool(const std::exception&)> retryable{};
  /// Optional: called once before each wait, which is multiplied by what it
  /// returns (a factor >= 0). Inject a seeded engine, e.g. a uniform draw in
  /// [0, 1) for "full jitter", so that runs can be replayed.
  std::function<double()> jitter{};
};

/// A `retry_policy::retryable` predicate: retries a `system_error` whose
/// code is one of `codes`, and nothing else.
inline std::function<bool(const std::exception&)> retry_on(std::vector<boost::system::error_code> codes) {
  return [codes = std::move(codes)](const std::exception& e) {
    const auto* se = dynamic_cast<const boost::system::system_error*>(&e);
    return se != nullptr && std::find(codes.begin(), codes.end(), se->code()) != codes.end();
  };
}

namespace detail {
// Asio reports a cancelled operation as system_error(operation_aborted).
inline bool is_cancellation(const std::exception& e) noexcept {
  const auto* se = dynamic_cast<const boost::system::system_error*>(&e);
  return se != nullptr && se->code() == asio::error::operation_aborted;
}

inline duration grow(duration d, const retry_policy& p) {
  std::chrono::duration<double, std::nano> next = d * p.multiplier;
  return next < p.max_delay ? std::chrono::duration_cast<duration>(next) : p.max_delay;
}
}  // namespace detail

/// Awaits `op()` until it succeeds, retrying errors `policy` calls
/// retryable, at most `policy.max_attempts` times in all. The first wait is
/// `initial_delay`, each next one `multiplier` times longer, capped at
/// `max_delay`, then scaled by `jitter()` if set. With the defaults, attempts
/// start at 0s, 1s, 3s (when each fails at once).
///
/// Completes with the first value `op()` returns. Throws, as it was thrown:
/// the error of the last attempt when all are used; a non-retryable error at
/// once; a cancellation (`operation_aborted`) at once, for it says someone
/// wants the work stopped, not that it went wrong; an exception not derived
/// from `std::exception`, at once. Throws `std::invalid_argument` for a
/// policy without attempts.
///
/// Cancellation: cancelling the caller cancels the pending attempt or
/// the wait; either way, no further attempt is made and this ends as
/// cancelled at that instant.
///
/// `policy` is read by reference: it must outlive the awaited call (which a
/// policy given in the `co_await` expression does).
///
/// **Example**:
/// ```
/// const retry_policy policy{.max_attempts = 5, .retryable = retry_on({asio::error::connection_refused})};
/// auto body = co_await retry([&] { return fetch("/a"); }, policy);
/// ```
template <class Op, class Result = std::invoke_result_t<Op&>>
Result retry(Op op, const retry_policy& policy) {
  if (policy.max_attempts < 1)
    throw std::invalid_argument("retry: max_attempts must be at least 1, got " + std::to_string(policy.max_attempts));
  duration delay = std::min(policy.initial_delay, policy.max_delay);
  for (int attempt = 1;; ++attempt) {
    try {
      co_return co_await op();
    } catch (const std::exception& e) {
      if (attempt == policy.max_attempts || detail::is_cancellation(e) || (policy.retryable && !policy.retryable(e)))
        throw;
    }
    duration wait = delay;
    if (policy.jitter) wait = std::chrono::duration_cast<duration>(wait * policy.jitter());
    co_await faultline::sleep_for(wait);
    delay = detail::grow(delay, policy);
  }
}

}  // namespace samples::retry
