// Planted bug (retry): a retry that retries cancellation. Copied from samples/retry/retry.hpp.
#pragma once

#include "retry.hpp"

#include <faultline/steady_timer.hpp>

#include <boost/asio/awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace samples::bugs {

namespace asio = boost::asio;
using samples::retry::retry_policy;

/// `samples::retry::retry`, with one bug: an attempt that ended cancelled
/// (`operation_aborted`) is retried like any other error, so work someone
/// wanted stopped is started again.
template <class Op, class Result = std::invoke_result_t<Op&>>
Result retry(Op op, const retry_policy& policy) {
  using samples::retry::duration;
  if (policy.max_attempts < 1)
    throw std::invalid_argument("retry: max_attempts must be at least 1, got " + std::to_string(policy.max_attempts));
  duration delay = std::min(policy.initial_delay, policy.max_delay);
  for (int attempt = 1;; ++attempt) {
    try {
      co_return co_await op();
    } catch (const std::exception& e) {
      // PLANTED BUG: no `detail::is_cancellation(e)` here: a cancelled attempt
      // counts as a retryable failure and another attempt follows.
      if (attempt == policy.max_attempts || (policy.retryable && !policy.retryable(e))) throw;
    }
    duration wait = delay;
    if (policy.jitter) wait = std::chrono::duration_cast<duration>(wait * policy.jitter());
    co_await faultline::sleep_for(wait);
    delay = samples::retry::detail::grow(delay, policy);
  }
}

}  // namespace samples::bugs
