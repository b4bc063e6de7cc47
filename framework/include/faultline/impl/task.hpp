// faultline - sim_context::spawn and sim_context::run(awaitable).
#pragma once

#include <faultline/detail/task_state.hpp>
#include <faultline/sim_context.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>

#include <memory>
#include <string>

namespace faultline {

/// A handle to a task started with `sim_context::spawn`. Copyable; every copy
/// refers to the same task.
template <class T>
class task {
 public:
  const std::string& name() const noexcept { return state_->name(); }
  bool done() const noexcept { return state_->done(); }

  /// How the task ended. Throws `std::logic_error` while it is still pending.
  /// Reading it marks a failure as observed.
  outcome<T>& result() { return state_->result("task::result"); }

  /// Asks the task to stop: emits `type` on the cancellation slot its
  /// coroutine was spawned with. Coroutines accept terminal cancellation by
  /// default; partial and total reach only a coroutine that enabled them
  /// (`this_coro::reset_cancellation_state`).
  void cancel(asio::cancellation_type type = asio::cancellation_type::terminal) { state_->cancel(type); }

 private:
  friend class sim_context;
  explicit task(std::shared_ptr<detail::task_state<T>> s) : state_(std::move(s)) {}
  std::shared_ptr<detail::task_state<T>> state_;
};

namespace detail {
// Stores the value in the state from inside the coroutine, so T needs no
// default constructor (co_spawn's handler would otherwise demand one).
template <class T>
asio::awaitable<void> task_body(std::shared_ptr<task_state<T>> s, asio::awaitable<T> a) {
  if constexpr (std::is_void_v<T>)
    co_await std::move(a);
  else
    s->set_value(co_await std::move(a));
}

// The function object is a parameter, so it lives in this coroutine's frame
// until the coroutine it started has finished.
template <class T, class F>
asio::awaitable<void> task_body_fn(std::shared_ptr<task_state<T>> s, F f) {
  if constexpr (std::is_void_v<T>)
    co_await f();
  else
    s->set_value(co_await f());
}
}  // namespace detail

template <class T>
task<T> sim_context::start_task(std::shared_ptr<detail::task_state<T>> state, asio::awaitable<void> body) {
  asio::co_spawn(get_executor(), std::move(body),
                 asio::bind_cancellation_slot(state->signal().slot(),
                                              [state](std::exception_ptr e) { state->complete(std::move(e)); }));
  return task<T>(std::move(state));
}

template <class T>
outcome<T> sim_context::run_task(task<T> t) {
  core_.run(t.state_->done_flag());
  if (!t.state_->done()) t.state_->throw_abandoned();
  return std::move(t.result());
}

template <class T>
task<T> sim_context::spawn(std::string name, asio::awaitable<T> a) {
  core_.check_owner_thread("sim_context::spawn");
  auto state = std::make_shared<detail::task_state<T>>(core_, std::move(name));
  auto body = detail::task_body<T>(state, std::move(a));
  return start_task<T>(std::move(state), std::move(body));
}

template <detail::coroutine_function F>
task<detail::coroutine_result_t<F>> sim_context::spawn(std::string name, F f) {
  using T = detail::coroutine_result_t<F>;
  core_.check_owner_thread("sim_context::spawn");
  auto state = std::make_shared<detail::task_state<T>>(core_, std::move(name));
  auto body = detail::task_body_fn<T>(state, std::move(f));
  return start_task<T>(std::move(state), std::move(body));
}

template <class T>
outcome<T> sim_context::run(asio::awaitable<T> a) {
  return run_task(spawn("main", std::move(a)));
}

template <detail::coroutine_function F>
outcome<detail::coroutine_result_t<F>> sim_context::run(F f) {
  return run_task(spawn("main", std::move(f)));
}

}  // namespace faultline
