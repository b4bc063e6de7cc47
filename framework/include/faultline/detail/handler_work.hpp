// faultline - keeps a handler's executor busy while its operation is pending, then dispatches to it.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/prefer.hpp>

#include <type_traits>
#include <utility>

namespace faultline::detail {

/// What Asio's own I/O objects do for a handler: hold outstanding work on its
/// associated executor (so that executor's run() does not return early), and
/// complete by dispatching to that executor, never by calling the handler
/// from the sim's queue directly. The ranged parallel_group depends on the
/// latter: its handlers are associated with system_executor.
template <class Handler, class IoExecutor>
class handler_work {
  using associated_type = boost::asio::associated_executor_t<Handler, IoExecutor>;
  using work_type = std::decay_t<decltype(boost::asio::prefer(
      std::declval<const associated_type&>(), boost::asio::execution::outstanding_work.tracked))>;

 public:
  handler_work(const Handler& h, const IoExecutor& io_ex)
      : work_(boost::asio::prefer(boost::asio::get_associated_executor(h, io_ex),
                                  boost::asio::execution::outstanding_work.tracked)) {}

  /// Runs `f` on the handler's executor: inline when that is the running sim
  /// (or any executor that allows it), queued otherwise.
  template <class F>
  void complete(F&& f) {
    boost::asio::prefer(work_, boost::asio::execution::blocking.possibly).execute(std::forward<F>(f));
  }

 private:
  work_type work_;
};

}  // namespace faultline::detail
