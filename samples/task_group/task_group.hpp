// Task groups: the first error cancels the siblings, and every task's end is reported with it.
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
#include <stdexcept>
#include <utility>
#include <vector>

namespace samples::task_group {

namespace asio = boost::asio;

/// How one task of a group ended.
enum class task_status {
  succeeded,
  failed,     ///< a real error: the task's own
  cancelled,  ///< stopped by the group because a sibling failed
};

struct task_end {
  task_status status = task_status::succeeded;
  std::exception_ptr error;  ///< the exception it ended with, unless it succeeded
};

/// Thrown by `run_all` when a task failed: the error that stopped the group, and how
/// every task ended (Python's ExceptionGroup), so a caller can handle each real error and
/// tell them from the siblings cancelled because of them.
class group_error : public std::runtime_error {
 public:
  group_error(std::size_t first_failed, std::vector<task_end> tasks);

  /// The index of the task whose error cancelled the others.
  std::size_t first_failed() const noexcept { return first_; }
  const std::exception_ptr& first_error() const noexcept { return tasks_[first_].error; }
  /// How each task ended, in input order.
  const std::vector<task_end>& tasks() const noexcept { return tasks_; }

 private:
  std::size_t first_;
  std::vector<task_end> tasks_;
};

namespace detail {
/// Throws the `group_error` for these completions (`order`: task indices as they ended;
/// `errors[i]`: task i's exception or null); returns when every task succeeded.
void throw_if_failed(const std::vector<std::size_t>& order, const std::vector<std::exception_ptr>& errors);
}  // namespace detail

/// Runs every task concurrently and returns their values in input order: asyncio's
/// TaskGroup. The first task to fail cancels the others still running; once they have
/// ended, `run_all` throws `group_error`. An error code counts as a failure (it arrives
/// as `boost::system::system_error`).
///
/// Completes when the last task ends: on success, with the slowest; on failure, at the
/// first error's instant when the siblings end at once on cancellation. A sibling that
/// fails before the cancellation reaches it (at the same instant) is `failed`, not
/// `cancelled`. `T` must be default-constructible (Asio passes one for a failed task).
///
/// Cancellation: every task still running is cancelled, and `run_all` ends cancelled
/// (throws `system_error(operation_aborted)`), not with a `group_error`.
template <class T>
asio::awaitable<std::vector<T>> run_all(std::vector<asio::awaitable<T>> tasks) {
  if (tasks.empty()) co_return std::vector<T>{};  // a ranged parallel_group of nothing never completes

  auto exec = co_await asio::this_coro::executor;
  using operation = decltype(asio::co_spawn(exec, std::move(tasks.front()), asio::deferred));
  std::vector<operation> operations;
  operations.reserve(tasks.size());
  for (auto& task : tasks) operations.push_back(asio::co_spawn(exec, std::move(task), asio::deferred));

  // wait_for_one_error: the first completion with an exception cancels the rest; the
  // group still waits for all of them to end.
  auto [order, errors, values] = co_await asio::experimental::make_parallel_group(std::move(operations))
                                     .async_wait(asio::experimental::wait_for_one_error(), asio::use_awaitable);

  // The group forwards our cancellation to every task and still completes normally.
  auto state = co_await asio::this_coro::cancellation_state;
  if (state.cancelled() != asio::cancellation_type::none)
    throw boost::system::system_error(asio::error::operation_aborted, "run_all");

  detail::throw_if_failed(order, errors);
  co_return std::move(values);
}

}  // namespace samples::task_group
