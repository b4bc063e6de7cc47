// Planted bug (resource_scope): a scope that skips cleanup on cancel. Copied from
// samples/resource_scope/resource_scope.hpp.
#pragma once

#include "resource_scope.hpp"

#include <boost/asio/awaitable.hpp>

#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace samples::bugs {

namespace asio = boost::asio;
using samples::resource_scope::connection_id;
using samples::resource_scope::database;

/// `samples::resource_scope::with_connection`, with one bug: once the caller
/// has cancelled, the disconnect is never made (the connection leaks).
template <class Use, class Result = std::invoke_result_t<Use&, connection_id>>
Result with_connection(const database& db, std::string dsn, Use use) {
  using T = typename Result::value_type;
  connection_id c = co_await db.connect(std::move(dsn));

  std::exception_ptr failure;
  std::optional<std::conditional_t<std::is_void_v<T>, std::monostate, T>> value;
  try {
    if constexpr (std::is_void_v<T>)
      co_await use(c);
    else
      value.emplace(co_await use(c));
  } catch (...) {
    failure = std::current_exception();
  }

  // PLANTED BUG: no `co_await asio::this_coro::reset_cancellation_state()`
  // here. After a cancellation the coroutine's state stays cancelled, so the
  // `co_await` below throws operation_aborted before calling disconnect, and
  // the catch below swallows it because `failure` is set.
  try {
    co_await db.disconnect(c);
  } catch (...) {
    if (!failure) throw;
  }

  if (failure) std::rethrow_exception(failure);
  if constexpr (!std::is_void_v<T>) co_return std::move(*value);
}

}  // namespace samples::bugs
