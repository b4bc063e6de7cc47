// Sample "Async Error Aggregation": process a batch concurrently and report every item's outcome.
#pragma once

#include <faultline/steady_timer.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace samples::error_aggregation {

namespace asio = boost::asio;
using duration = faultline::steady_timer::duration;

/// How one item of a batch ended.
enum class item_status { ok, failed, timed_out, cancelled };

/// "ok", "failed", "timed_out", "cancelled".
const char* to_string(item_status s) noexcept;

/// The record of one item: its id and either its value or what went wrong.
template <class T>
struct item_result {
  std::string id;
  item_status status = item_status::failed;
  T value{};                     ///< the item's value, when `ok()`
  std::string error;             ///< what went wrong, when not `ok()`: "Connection refused", "bad item"
  std::exception_ptr exception;  ///< what was thrown, for failed and cancelled items: rethrow it to inspect

  bool ok() const noexcept { return status == item_status::ok; }
};

namespace detail {
/// True for Asio's cancellation: `system_error(operation_aborted)`.
bool is_cancellation(const std::exception_ptr& e) noexcept;
/// What an exception says: an error code's message, or `what()`.
std::string describe(const std::exception_ptr& e);
/// "no result within 1000ms".
std::string describe_timeout(duration limit);

// Processes one item; never throws: whatever happens ends up in the record.
template <class T, class Process>
asio::awaitable<item_result<T>> process_item(std::string id, Process& process, std::optional<duration> timeout) {
  namespace ex = asio::experimental;
  item_result<T> r;
  r.id = std::move(id);
  try {
    if (!timeout) {
      r.value = co_await process(std::as_const(r.id));
    } else {
      // wait_for_one, not `||`: a failure before the deadline is recorded at
      // once instead of waiting for the timer (`||` waits for a success).
      auto exec = co_await asio::this_coro::executor;
      faultline::steady_timer timer(exec, *timeout);
      auto [order, failure, value, timer_error] =
          co_await ex::make_parallel_group(asio::co_spawn(exec, process(std::as_const(r.id)), asio::deferred),
                                           timer.async_wait(asio::deferred))
              .async_wait(ex::wait_for_one(), asio::use_awaitable);
      if (order[0] == 1 && !timer_error) {
        r.status = item_status::timed_out;
        r.error = describe_timeout(*timeout);
        co_return r;
      }
      if (failure) std::rethrow_exception(failure);
      r.value = std::move(value);
    }
    r.status = item_status::ok;
  } catch (...) {
    r.exception = std::current_exception();
    r.status = is_cancellation(r.exception) ? item_status::cancelled : item_status::failed;
    r.error = describe(r.exception);
  }
  co_return r;
}
}  // namespace detail

/// Processes every item of `ids` concurrently with `process(id)` and returns
/// one record per item, in the order of `ids`, once every item has ended. A
/// failed item (an exception or an error code) does not stop the others: it
/// is recorded, with its exception, and the batch goes on (asyncio's
/// `gather(..., return_exceptions=True)`).
///
/// `item_timeout`, if set, bounds each item: an item still running then is
/// cancelled and recorded as `timed_out`, so one hanging item cannot hold
/// the batch forever. A failure before the deadline is recorded at once.
///
/// Cancellation: cancelling the caller cancels every item still running;
/// their records say `cancelled`, finished items keep theirs, and the batch
/// returns all the records at that instant rather than throwing, so what was
/// done before the cancellation is not lost. (The caller's own next
/// `co_await` then throws `operation_aborted`, as usual in Asio.)
///
/// `T`, the value type of `process`'s awaitable, must be default-constructible.
///
/// **Example**:
/// ```
/// auto records = co_await process_batch({"a", "b"}, [&](const std::string& id) { return resize(id); }, 2s);
/// for (auto& r : records) if (!r.ok()) log(r.id, to_string(r.status), r.error);
/// ```
template <class Process, class T = typename std::invoke_result_t<Process&, const std::string&>::value_type>
asio::awaitable<std::vector<item_result<T>>> process_batch(std::vector<std::string> ids, Process process,
                                                            std::optional<duration> item_timeout = std::nullopt) {
  namespace ex = asio::experimental;
  // A ranged parallel_group of no operations never completes (Asio 1.81).
  if (ids.empty()) co_return std::vector<item_result<T>>{};
  auto exec = co_await asio::this_coro::executor;
  using op_type =
      decltype(asio::co_spawn(exec, detail::process_item<T>(std::string(), process, item_timeout), asio::deferred));
  std::vector<op_type> ops;
  ops.reserve(ids.size());
  for (auto& id : ids)
    ops.push_back(asio::co_spawn(exec, detail::process_item<T>(std::move(id), process, item_timeout), asio::deferred));
  // Each item catches its own errors, so waiting for all never cancels one
  // because another failed; the results come back in launch order.
  auto [order, errors, records] =
      co_await ex::make_parallel_group(std::move(ops)).async_wait(ex::wait_for_all(), asio::use_awaitable);
  co_return std::move(records);
}

}  // namespace samples::error_aggregation
