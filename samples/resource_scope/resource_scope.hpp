// Sample "Async Context Managers": connect, use, and always disconnect, even when cancelled.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/this_coro.hpp>

#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace samples::resource_scope {

namespace asio = boost::asio;

/// A connection handle, as the database client hands it out.
using connection_id = int;

/// What `with_connection` needs from a database client: opening and closing
/// a connection, both asynchronous.
struct database {
  std::function<asio::awaitable<connection_id>(std::string dsn)> connect;
  std::function<asio::awaitable<void>(connection_id)> disconnect;
};

/// Connects to `dsn`, awaits `use(connection)`, then disconnects, whatever
/// `use` did: C++ destructors cannot await, so the scope is a function that
/// takes the body (Python's `async with`).
///
/// - `use` returned: disconnects, then returns its value.
/// - `use` threw: disconnects, then rethrows what `use` threw. Should the
///   disconnect fail as well, its error is dropped: the caller needs the first.
/// - A failed (or cancelled) connect throws its error; there is nothing to
///   disconnect.
/// - A failed disconnect after a successful `use` throws the disconnect error.
///
/// `db` is used by reference: it must outlive the awaited call.
///
/// Cancellation: cancelling the caller during `use` cancels `use`; the
/// disconnect still runs to its end (the coroutine's cancellation state is
/// reset for it), and then this ends as cancelled. A second cancellation
/// during the disconnect interrupts it.
///
/// **Example**:
/// ```
/// auto rows = co_await with_connection(db, "db://orders", [&](connection_id c) { return query(c, "SELECT 1"); });
/// ```
template <class Use, class Result = std::invoke_result_t<Use&, connection_id>>
Result with_connection(const database& db, std::string dsn, Use use) {
  using T = typename Result::value_type;
  connection_id c = co_await db.connect(std::move(dsn));

  // What `use` ended with, kept while disconnecting (no value for void).
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

  // Once cancelled, Asio throws operation_aborted at every co_await of this
  // coroutine, which would skip the disconnect: clear that state first. The
  // cancellation itself is still reported, through `failure`.
  co_await asio::this_coro::reset_cancellation_state();
  try {
    co_await db.disconnect(c);
  } catch (...) {
    if (!failure) throw;
  }

  if (failure) std::rethrow_exception(failure);
  if constexpr (!std::is_void_v<T>) co_return std::move(*value);
}

}  // namespace samples::resource_scope
