// faultline - sim_context::spawn and sim_context::run(awaitable).
#pragma once

#include <faultline/detail/task_state.hpp>
#include <faultline/sim_context.hpp>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <string>
#include <type_traits>

namespace faultline {

namespace detail {
[[noreturn]] void throw_sim_gone(const char* caller);
template <class Handler, class IoExecutor>
class wait_op;  // detail/wait_op.hpp, included at the end: it includes sim_context.hpp, which includes this

// Parks the awaiting coroutine's handler on the task until it ends.
struct initiate_join {
  std::shared_ptr<task_state_base> state;
  template <class Handler>
  void operator()(Handler&& handler) const {
    using handler_type = std::decay_t<Handler>;
    sim_core* core = state->core();
    if (!core) throw_sim_gone("task::wait");
    auto ex = asio::get_associated_executor(handler);
    handler_type h(std::forward<Handler>(handler));
    state->add_joiner(wait_op<handler_type, decltype(ex)>::make(*core, std::move(h), ex));
  }
};
}  // namespace detail

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

  /// Waits, from a coroutine on the same sim, until the task ends; then
  /// returns its value or rethrows its exception (a cancelled task rethrows
  /// `system_error(operation_aborted)`). Like `result()`, it marks a failure
  /// as observed. A task already finished is not waited for.
  ///
  /// Cancelling the awaiting coroutine only stops the waiting: `wait()` ends
  /// with `system_error(operation_aborted)` at that instant and the task runs
  /// on (call `cancel()` to stop it too). So `with_timeout(t.wait(), 1s)`
  /// gives up on the task without ending it.
  ///
  /// The value is copied, so any number of coroutines can wait; a value that
  /// can only be moved is moved out, and only the first waiter gets it.
  /// A task that can never end makes its waiters part of a stall report.
  ///
  /// **Example**: `int n = co_await sim.spawn("count", count_rows()).wait();`
  asio::awaitable<T> wait() const {
    std::shared_ptr<detail::task_state<T>> s = state_;
    if (!s->done()) {
      // Named, not a braced temporary inside co_await: GCC 12 destroys such a
      // temporary twice (docs/gtest.md, "A GCC 12 trap").
      detail::initiate_join join{s};
      co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(boost::system::error_code)>(
          std::move(join), asio::use_awaitable);
    }
    outcome<T>& r = s->result("task::wait");
    if constexpr (std::is_void_v<T>)
      r.value();
    else if constexpr (std::is_copy_constructible_v<T>)
      co_return r.value();
    else
      co_return std::move(r.value());
  }

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
  // Named, not a temporary: GCC 12 cannot deduce a co_await's type in this template.
  const asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
  s->set_thread_slot(state.slot());
  if constexpr (std::is_void_v<T>)
    co_await std::move(a);
  else
    s->set_value(co_await std::move(a));
}

// The function object is a parameter, so it lives in this coroutine's frame
// until the coroutine it started has finished.
template <class T, class F>
asio::awaitable<void> task_body_fn(std::shared_ptr<task_state<T>> s, F f) {
  // Named, not a temporary: GCC 12 cannot deduce a co_await's type in this template.
  const asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
  s->set_thread_slot(state.slot());
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

#include <faultline/detail/wait_op.hpp>
