// Planted bug (task_group): a task group that leaks a sibling. Copied from
// samples/task_group/task_group.hpp.
#pragma once

#include "task_group.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <exception>
#include <memory>
#include <utility>
#include <vector>

namespace samples::bugs {

namespace asio = boost::asio;
using samples::task_group::group_error;

namespace detail {
// What the detached tasks report: each one's value or error, and a channel
// that names each task as it ends.
template <class T>
struct detached_group {
  detached_group(const asio::any_io_executor& ex, std::size_t n) : ended(ex, n), values(n), errors(n) {}
  asio::experimental::channel<void(boost::system::error_code, std::size_t)> ended;
  std::vector<T> values;
  std::vector<std::exception_ptr> errors;
};
}  // namespace detail

/// `samples::task_group::run_all`, with one bug: it throws `group_error` at
/// the first task's error as it should, but the siblings still running are
/// neither cancelled nor awaited: they run on after `run_all` has thrown.
template <class T>
asio::awaitable<std::vector<T>> run_all(std::vector<asio::awaitable<T>> tasks) {
  if (tasks.empty()) co_return std::vector<T>{};

  auto exec = co_await asio::this_coro::executor;
  auto group = std::make_shared<detail::detached_group<T>>(exec, tasks.size());
  // PLANTED BUG: each task is spawned detached and reports its end through a
  // channel; "fail fast" then stops reading at the first error and throws.
  // No cancellation signal reaches the siblings, and nobody awaits them.
  for (std::size_t i = 0; i < tasks.size(); ++i)
    asio::co_spawn(exec, std::move(tasks[i]), [group, i](std::exception_ptr e, T value) {
      group->errors[i] = e;
      group->values[i] = std::move(value);
      group->ended.try_send(boost::system::error_code{}, i);
    });
  std::vector<std::size_t> order;
  while (order.size() < tasks.size()) {
    order.push_back(co_await group->ended.async_receive(asio::use_awaitable));
    if (group->errors[order.back()]) break;
  }

  samples::task_group::detail::throw_if_failed(order, group->errors);
  co_return std::move(group->values);
}

}  // namespace samples::bugs
