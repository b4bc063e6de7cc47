// Planted bug (timeouts): a timeout that leaves the operation running. Copied from
// samples/timeouts/timeouts.hpp.
#pragma once

#include "timeouts.hpp"

#include <faultline/steady_timer.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace samples::bugs {

namespace asio = boost::asio;
using samples::timeouts::duration;
using samples::timeouts::timeout_error;

namespace detail {
// How a detached operation ended, and a channel that says it has.
template <class T>
struct detached_result {
  explicit detached_result(const asio::any_io_executor& ex) : signal(ex, 1) {}
  asio::experimental::channel<void(boost::system::error_code)> signal;
  bool ended = false;
  std::exception_ptr failure;
  std::optional<std::conditional_t<std::is_void_v<T>, std::monostate, T>> value;
};
}  // namespace detail

/// `samples::timeouts::with_timeout`, with one bug: on a timeout it throws
/// `timeout_error` at `limit` as it should, but `op` is never cancelled and
/// runs on (a call still pending, a timer still armed) after this returned.
template <class T>
asio::awaitable<T> with_timeout(asio::awaitable<T> op, duration limit) {
  namespace ex = asio::experimental;
  auto exec = co_await asio::this_coro::executor;
  faultline::steady_timer timer(exec, limit);
  // PLANTED BUG: `op` is spawned detached ("so that the timer need not wait
  // for it"), and the group races the timer against a signal that `op`
  // ended. When the timer wins, the group cancels the wait for the signal,
  // not `op`: nothing ever cancels `op`.
  auto ended = std::make_shared<detail::detached_result<T>>(exec);
  asio::co_spawn(exec, std::move(op), [ended](std::exception_ptr e, auto... value) {
    ended->ended = true;
    ended->failure = e;
    if (!e) ended->value.emplace(std::move(value)...);
    ended->signal.try_send(boost::system::error_code{});
  });
  auto [order, signal_error, timer_error] =
      co_await ex::make_parallel_group(ended->signal.async_receive(asio::deferred), timer.async_wait(asio::deferred))
          .async_wait(ex::wait_for_one(), asio::use_awaitable);
  if (!ended->ended && !timer_error) throw timeout_error(limit);
  if (!ended->ended) throw boost::system::system_error(asio::error::operation_aborted, "with_timeout");
  if (ended->failure) std::rethrow_exception(ended->failure);
  if constexpr (!std::is_void_v<T>) co_return std::move(*ended->value);
}

}  // namespace samples::bugs
