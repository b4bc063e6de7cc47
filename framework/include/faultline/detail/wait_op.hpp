// faultline - a pending wait in a sim's timer heap, carrying the user's handler.
#pragma once

#include <faultline/detail/handler_work.hpp>
#include <faultline/detail/sim_core.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <boost/system/error_code.hpp>

#include <new>
#include <utility>

namespace faultline::detail {

// handler_work.hpp includes sim_context.hpp, whose impl/task.hpp includes this
// file: when handler_work.hpp comes first, its template is not declared yet.
template <class Handler, class IoExecutor>
class handler_work;

template <class Handler, class IoExecutor>
class wait_op final : public timer_wait {
 public:
  /// Allocates the op and hooks it to the handler's cancellation slot: any
  /// cancellation type (terminal, partial, total) ends the wait with
  /// `operation_aborted` at the instant it is emitted, as Asio's timers do.
  static wait_op* make(sim_core& core, Handler&& h, const IoExecutor& io_ex) {
    alloc_type alloc;
    wait_op* p = alloc.allocate(1);
    try {
      ::new (static_cast<void*>(p)) wait_op(std::move(h), io_ex);
    } catch (...) {
      alloc.deallocate(p, 1);
      throw;
    }
    p->slot_ = boost::asio::get_associated_cancellation_slot(p->handler_);
    if (p->slot_.is_connected()) p->slot_.template emplace<cancellation>(&core, p);
    return p;
  }

  /// The slot the handler is bound to (empty when it has none).
  const boost::asio::cancellation_slot& slot() const noexcept { return slot_; }

 private:
  using alloc_type = boost::asio::recycling_allocator<wait_op>;

  struct cancellation {
    // A constructor, not an aggregate: clang 14 cannot emplace aggregates.
    cancellation(sim_core* c, timer_wait* o) noexcept : core(c), op(o) {}
    sim_core* core;
    timer_wait* op;
    void operator()(boost::asio::cancellation_type type) {
      if ((type & (boost::asio::cancellation_type::terminal | boost::asio::cancellation_type::partial |
                   boost::asio::cancellation_type::total)) != boost::asio::cancellation_type::none)
        core->cancel_wait(op);
    }
  };

  wait_op(Handler&& h, const IoExecutor& io_ex)
      : timer_wait(&do_complete), handler_(std::move(h)), work_(handler_, io_ex) {}

  static void do_complete(ready_op* base, bool invoke) {
    auto* self = static_cast<wait_op*>(base);
    // The slot may live in state the handler owns: detach before moving it.
    if (self->slot_.is_connected()) self->slot_.clear();
    Handler handler(std::move(self->handler_));
    handler_work<Handler, IoExecutor> work(std::move(self->work_));
    boost::system::error_code ec = self->ec;
    self->~wait_op();
    alloc_type().deallocate(self, 1);
    if (invoke) work.complete([h = std::move(handler), ec]() mutable { std::move(h)(ec); });
  }

  Handler handler_;
  handler_work<Handler, IoExecutor> work_;
  boost::asio::cancellation_slot slot_;
};

}  // namespace faultline::detail
