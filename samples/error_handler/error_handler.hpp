// A production error handler for async operations: (ok, value or error), errors counted by type, timeouts apart.
#pragma once

#include <faultline/steady_timer.hpp>

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
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace samples::error_handler {

namespace asio = boost::asio;

/// How a handled operation ended: its value, or the error it failed with.
template <class T>
struct result {
  std::optional<T> value;    ///< set when the operation succeeded
  std::exception_ptr error;  ///< set when it failed or timed out
  std::string error_type;    ///< the key the error was counted under (see `error_type_of`)

  bool ok() const noexcept { return value.has_value(); }
};

/// What an `error_handler` has seen. Cancelled runs are in none of the counts:
/// cancellation is the caller's decision, not an error.
struct error_stats {
  std::size_t succeeded = 0;
  std::size_t errors = 0;    ///< failures other than timeouts
  std::size_t timeouts = 0;  ///< our deadline passed, or the operation itself timed out
  std::map<std::string, std::size_t> errors_by_type;  ///< `errors`, by `error_type_of`; no timeouts
};

/// The key an error is counted under: "timeout" for `timed_out`; "category:value"
/// for any other `system_error` ("asio.misc:2" for eof); otherwise the exception's
/// dynamic type ("std::runtime_error"), or "unknown" for what is not a std::exception.
std::string error_type_of(const std::exception_ptr& e);

/// True for the error a cancelled Asio operation completes with.
bool is_cancellation(const std::exception_ptr& e);

/// Runs operations, turning their failures into results and counting them.
///
/// Not thread-safe: use one handler per strand (or guard it).
class error_handler {
 public:
  using duration = faultline::steady_timer::duration;

  /// Awaits `op` and returns its value, or the error it failed with, counted
  /// under its type. With a `timeout`, an operation still running at the
  /// deadline is cancelled and its result is a timeout (`timed_out`); a failure
  /// before the deadline is reported at once.
  ///
  /// Cancellation is not handled: when the awaiting coroutine is cancelled, or
  /// `op` ends with `operation_aborted`, that is rethrown and counted nowhere.
  template <class T>
  asio::awaitable<result<T>> run(asio::awaitable<T> op, std::optional<duration> timeout = std::nullopt);

  const error_stats& stats() const noexcept { return stats_; }

 private:
  void count(const std::string& type);

  error_stats stats_;
};

namespace detail {

// Races `op` against a deadline in a parallel group, which ends at the first
// completion of either: Asio's `op || timer` would wait for the first *success*
// and hide an early failure until the deadline. The deadline goes first: when
// we are cancelled, both end with operation_aborted.
template <class T>
asio::awaitable<T> within(asio::awaitable<T> op, error_handler::duration limit) {
  // If you get an error on the following line: a parallel group passes a T even for a failed operation.
  static_assert(std::is_default_constructible_v<T>,
                "error_handler::run with a timeout needs a default-constructible T");
  auto ex = co_await asio::this_coro::executor;
  faultline::steady_timer deadline(ex, limit);
  auto [order, deadline_error, op_error, value] =
      co_await asio::experimental::make_parallel_group(deadline.async_wait(asio::deferred),
                                                       asio::co_spawn(ex, std::move(op), asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
  if (order[0] == 0 && !deadline_error) throw boost::system::system_error(asio::error::timed_out, "error_handler::run");
  if (op_error) std::rethrow_exception(op_error);
  co_return std::move(value);
}

}  // namespace detail

template <class T>
asio::awaitable<result<T>> error_handler::run(asio::awaitable<T> op, std::optional<duration> timeout) {
  static_assert(!std::is_void_v<T>, "error_handler::run needs a value: return std::monostate{} from a void operation");
  result<T> r;
  try {
    if (timeout)
      r.value.emplace(co_await detail::within(std::move(op), *timeout));
    else
      r.value.emplace(co_await std::move(op));
  } catch (...) {
    r.error = std::current_exception();
  }
  if (r.ok()) {
    ++stats_.succeeded;
    co_return r;
  }
  if (is_cancellation(r.error)) std::rethrow_exception(r.error);
  r.error_type = error_type_of(r.error);
  count(r.error_type);
  co_return r;
}

}  // namespace samples::error_handler
