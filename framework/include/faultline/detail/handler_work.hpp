// faultline - keeps a handler's executor busy while its operation is pending, then dispatches to it.
#pragma once

#include <faultline/detail/current_host.hpp>
#include <faultline/sim_context.hpp>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/prefer.hpp>

#include <type_traits>
#include <utility>
#include <variant>

namespace faultline::detail {

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
template <class Handler, class IoExecutor>
class handler_work {
  using associated_type = boost::asio::associated_executor_t<Handler, IoExecutor>;
  using work_type = std::decay_t<decltype(boost::asio::prefer(
      std::declval<const associated_type&>(), boost::asio::execution::outstanding_work.tracked))>;

 public:
  handler_work(const Handler& h, const IoExecutor& io_ex)
      : handler_work(boost::asio::get_associated_executor(h, io_ex), sim_core_of(io_ex)) {}

  /// Runs `f` on the handler's executor: directly when that is the running
  /// sim, through the executor otherwise.
  template <class F>
  void complete(F&& f) {
    if (own_ && own_->running_in_this_thread() && !own_->shutting_down()) {
      const net::detail::current_host_scope on(host_);
      std::forward<F>(f)();
      return;
    }
    std::visit(
        [&f](auto& ex) {
          boost::asio::prefer(ex, boost::asio::execution::blocking.possibly).execute(std::forward<F>(f));
        },
        ex_);
  }

 private:
  using variant_type = std::variant<associated_type, work_type>;

  handler_work(associated_type ex, sim_core* io_core) : handler_work(ex, io_core, sim_core_of(ex)) {}
  handler_work(associated_type& ex, sim_core* io_core, sim_core* own)
      : own_(own && own == io_core ? own : nullptr),
        // The direct call in complete() bypasses a host executor, which
        // would say which host runs the handler (for the host's clock).
        host_(own_ ? net::detail::host_of_handler(ex) : nullptr),
        ex_(own_ ? variant_type(std::in_place_index<0>, std::move(ex))
                 : variant_type(std::in_place_index<1>,
                                boost::asio::prefer(ex, boost::asio::execution::outstanding_work.tracked))) {}

  sim_core* own_;
  net::host* host_;
  variant_type ex_;
};

}  // namespace faultline::detail

// Defines host_of_handler; last, as it needs sim_context complete.
#include <faultline/net/host_executor.hpp>
