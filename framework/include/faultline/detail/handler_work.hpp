// faultline - keeps a handler's executor busy while its operation is pending, then dispatches to it.
#pragma once

#include <faultline/detail/current_host.hpp>
#include <faultline/sim_context.hpp>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/prefer.hpp>

#include <memory>
#include <type_traits>
#include <utility>

namespace faultline::detail {

template <class T>
struct is_host_executor : std::false_type {};
template <class Inner>
struct is_host_executor<net::basic_host_executor<Inner>> : std::true_type {};

/// The host a handler bound to `ex` runs on, or null; `core` has hosts.
template <class Executor>
net::host* host_of_executor(const Executor& ex, const sim_core& core) noexcept {
  if constexpr (is_host_executor<Executor>::value)
    return &ex.get_host();
  else if constexpr (std::is_base_of_v<boost::asio::any_io_executor, Executor>)
    return core.host_of(ex);
  else
    return nullptr;
}

/// What Asio's own I/O objects do for a handler: hold outstanding work on its
/// associated executor (so that executor's run() does not return early), and
/// complete by dispatching to that executor, never by calling the handler
/// from the sim's queue directly. The ranged parallel_group depends on the
/// latter: its handlers are associated with system_executor.
///
/// When the handler belongs to the sim the operation runs on (a coroutine on
/// the sim, a plain callback), neither is needed: the sim already knows the
/// operation is pending, and the completion runs on the sim's thread, so the
/// handler is called directly. That is Asio's own shortcut for io_context.
/// The direct call bypasses a host executor (net/host_executor.hpp), which
/// would say which host runs the handler; so in a sim that has hosts (and
/// only there) the handler's host is looked up at the start and made current
/// around the call. Everything else costs 16 bytes and no lookup.
template <class Handler, class IoExecutor>
class handler_work {
  using associated_type = boost::asio::associated_executor_t<Handler, IoExecutor>;
  using work_type = std::decay_t<decltype(boost::asio::prefer(
      std::declval<const associated_type&>(), boost::asio::execution::outstanding_work.tracked))>;

 public:
  handler_work(const Handler& h, const IoExecutor& io_ex) {
    associated_type ex = boost::asio::get_associated_executor(h, io_ex);
    sim_core* own = sim_core_of(ex);
    if (own && own == sim_core_of(io_ex)) {
      own_ = own;
      host_ = own->has_hosts() ? host_of_executor(ex, *own) : nullptr;
    } else {
      // Foreign executors are rare (parallel_group's system_executor, another
      // context): their tracked work lives aside, so the common op stays small.
      work_ = new work_type(boost::asio::prefer(ex, boost::asio::execution::outstanding_work.tracked));
    }
  }
  handler_work(handler_work&& other) noexcept : own_(other.own_) {
    if (own_)
      host_ = other.host_;
    else
      work_ = std::exchange(other.work_, nullptr);
  }
  handler_work(const handler_work&) = delete;
  handler_work& operator=(const handler_work&) = delete;
  handler_work& operator=(handler_work&&) = delete;
  ~handler_work() {
    if (!own_) delete work_;
  }

  /// Runs `f` on the handler's executor: directly when that is the running
  /// sim, through the executor otherwise.
  template <class F>
  void complete(F&& f) {
    if (own_) {
      if (own_->running_in_this_thread() && !own_->shutting_down()) [[likely]] {
        if (!own_->has_hosts()) [[likely]] {
          std::forward<F>(f)();
        } else {
          const net::detail::current_host_scope on(host_);
          std::forward<F>(f)();
        }
        return;
      }
      // Off the sim's thread or at shutdown: the sim's executor queues it.
      own_->context().get_executor().execute(std::forward<F>(f));
      return;
    }
    boost::asio::prefer(*work_, boost::asio::execution::blocking.possibly).execute(std::forward<F>(f));
  }

 private:
  sim_core* own_ = nullptr;
  union {
    net::host* host_;   // own_: the host the handler runs on, when the sim has hosts
    work_type* work_ = nullptr;  // otherwise
  };
};

}  // namespace faultline::detail
