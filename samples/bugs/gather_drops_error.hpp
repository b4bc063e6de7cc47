// Planted bug (gather): a gather that drops an error. Copied from samples/gather/gather.hpp.
#pragma once

#include "gather.hpp"

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
#include <vector>

namespace samples::bugs {

namespace asio = boost::asio;
using samples::gather::result;

/// `samples::gather::gather`, with one bug: a call that failed is reported
/// as having returned the default `T` Asio passes for it, so its error is lost.
template <class T>
asio::awaitable<std::vector<result<T>>> gather(std::vector<asio::awaitable<T>> calls) {
  std::vector<result<T>> results;
  if (calls.empty()) co_return results;

  auto exec = co_await asio::this_coro::executor;
  using operation = decltype(asio::co_spawn(exec, std::move(calls.front()), asio::deferred));
  std::vector<operation> operations;
  operations.reserve(calls.size());
  for (auto& call : calls) operations.push_back(asio::co_spawn(exec, std::move(call), asio::deferred));

  auto [order, errors, values] = co_await asio::experimental::make_parallel_group(std::move(operations))
                                     .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);

  auto state = co_await asio::this_coro::cancellation_state;
  if (state.cancelled() != asio::cancellation_type::none)
    throw boost::system::system_error(asio::error::operation_aborted, "gather");

  results.reserve(values.size());
  // PLANTED BUG: `errors` is never read: every slot takes `values[i]`, which
  // for a failed call is the default-constructed `T`, so the failure
  // looks like a success with an empty value.
  for (std::size_t i = 0; i < values.size(); ++i) results.emplace_back(std::in_place_index<0>, std::move(values[i]));
  co_return results;
}

}  // namespace samples::bugs
