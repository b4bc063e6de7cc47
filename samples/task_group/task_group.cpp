// Task groups: group_error and how each task's end is classified.
#include "task_group.hpp"

#include <algorithm>
#include <string>

namespace samples::task_group {

namespace {

bool is_cancellation(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const boost::system::system_error& se) {
    return se.code() == asio::error::operation_aborted;
  } catch (...) {
    return false;
  }
}

std::string message_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "an exception not derived from std::exception";
  }
}

// "run_all: task 1 failed: boom (2 failed, 1 cancelled, 1 succeeded)"
std::string describe(std::size_t first, const std::vector<task_end>& tasks) {
  std::size_t failed = 0, cancelled = 0;
  for (const auto& t : tasks) {
    failed += t.status == task_status::failed;
    cancelled += t.status == task_status::cancelled;
  }
  return "run_all: task " + std::to_string(first) + " failed: " + message_of(tasks[first].error) + " (" +
         std::to_string(failed) + " failed, " + std::to_string(cancelled) + " cancelled, " +
         std::to_string(tasks.size() - failed - cancelled) + " succeeded)";
}

}  // namespace

group_error::group_error(std::size_t first_failed, std::vector<task_end> tasks)
    : std::runtime_error(describe(first_failed, tasks)), first_(first_failed), tasks_(std::move(tasks)) {}

namespace detail {

void throw_if_failed(const std::vector<std::size_t>& order, const std::vector<std::exception_ptr>& errors) {
  // The first task to end with an error is the one that cancelled the rest.
  auto first = std::find_if(order.begin(), order.end(), [&](std::size_t i) { return errors[i] != nullptr; });
  if (first == order.end()) return;

  std::vector<task_end> tasks(errors.size());
  for (std::size_t i = 0; i < errors.size(); ++i) {
    if (!errors[i]) continue;
    // A sibling ending in operation_aborted was stopped by us; any other error is its own.
    // The first error is real even if it is operation_aborted: nobody had cancelled yet.
    const bool stopped = i != *first && is_cancellation(errors[i]);
    tasks[i] = {stopped ? task_status::cancelled : task_status::failed, errors[i]};
  }
  throw group_error(*first, std::move(tasks));
}

}  // namespace detail

}  // namespace samples::task_group
