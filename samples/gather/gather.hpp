// Multiple task errors: run every call to its end and keep each one's value or error, in input order.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <cstddef>
#include <exception>
#include <utility>
#include <variant>
#include <vector>

namespace samples::gather {

namespace asio = boost::asio;

/// What one call ended with: its value, or the exception it threw. An error code arrives
/// as `boost::system::system_error`, the way `use_awaitable` reports it.
template <class T>
using result = std::variant<T, std::exception_ptr>;

/// Runs every call concurrently and returns each one's result at its input index, once
/// all have ended: asyncio's `gather(*calls, return_exceptions=True)`. A failure neither
/// stops nor hides the other calls.
///
/// Completes when the slowest call does; at once for no calls. `T` must be
/// default-constructible (Asio passes a `T` for a call that failed).
///
/// Cancellation: every call still pending is cancelled at once, and `gather` then ends
/// cancelled (throws `system_error(operation_aborted)`), as a cancelled asyncio gather
/// does, rather than returning a vector of partial results.
template <class T>
asio::awaitable<std::vector<result<T>>> gather(std::vector<asio::awaitable<T>> calls) {
  std::vector<result<T>> results;
  if (calls.empty()) co_return results;  // a ranged parallel_group of nothing never completes

  auto exec = co_await asio::this_coro::executor;
  using operation = decltype(asio::co_spawn(exec, std::move(calls.front()), asio::deferred));
  std::vector<operation> operations;
  operations.reserve(calls.size());
  for (auto& call : calls) operations.push_back(asio::co_spawn(exec, std::move(call), asio::deferred));

  // errors[i] and values[i] belong to calls[i]; `order` lists the calls as they ended.
  auto [order, errors, values] = co_await asio::experimental::make_parallel_group(std::move(operations))
                                     .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);

  // The group forwards our cancellation to every call and still completes normally.
  auto state = co_await asio::this_coro::cancellation_state;
  if (state.cancelled() != asio::cancellation_type::none)
    throw boost::system::system_error(asio::error::operation_aborted, "gather");

  results.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (errors[i])
      results.emplace_back(std::in_place_index<1>, errors[i]);
    else
      results.emplace_back(std::in_place_index<0>, std::move(values[i]));
  }
  co_return results;
}

}  // namespace samples::gather
