// Planted bug (retry): a backoff whose cap is lost after 10 failures in a row. Copied from samples/retry/retry.hpp.
#pragma once

#include "retry.hpp"

#include <faultline/steady_timer.hpp>

#include <boost/asio/awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace samples::bugs {

namespace asio = boost::asio;
using samples::retry::retry_policy;

namespace detail {

// The wait after `failures` failures in a row: initial_delay x multiplier^(failures - 1), capped.
inline samples::retry::duration backoff_after(int failures, const retry_policy& policy) {
  using samples::retry::duration;
  // PLANTED BUG: a guard meant to keep pow() from growing without bound
  // returns early for long runs of failures, and skips the cap: after 10
  // failures in a row the wait jumps to initial_delay x multiplier^10.
  if (failures >= 10) return std::chrono::duration_cast<duration>(policy.initial_delay * std::pow(policy.multiplier, 10));
  const auto d = std::chrono::duration_cast<duration>(policy.initial_delay * std::pow(policy.multiplier, failures - 1));
  return std::min(d, policy.max_delay);
}

}  // namespace detail

/// `samples::retry::retry`, with one bug: the wait is computed from the
/// number of failures so far, and from the 10th failure in a row on it is no
/// longer capped at `max_delay` (with 100ms doubling, the 11th attempt starts
/// 102.4s after the 10th instead of `max_delay` after it).
template <class Op, class Result = std::invoke_result_t<Op&>>
Result retry_with_lost_cap(Op op, const retry_policy& policy) {
  if (policy.max_attempts < 1)
    throw std::invalid_argument("retry: max_attempts must be at least 1, got " + std::to_string(policy.max_attempts));
  for (int attempt = 1;; ++attempt) {
    try {
      co_return co_await op();
    } catch (const std::exception& e) {
      if (attempt == policy.max_attempts || samples::retry::detail::is_cancellation(e) ||
          (policy.retryable && !policy.retryable(e)))
        throw;
    }
    auto wait = detail::backoff_after(attempt, policy);
    if (policy.jitter) wait = std::chrono::duration_cast<samples::retry::duration>(wait * policy.jitter());
    co_await faultline::sleep_for(wait);
  }
}

}  // namespace samples::bugs
