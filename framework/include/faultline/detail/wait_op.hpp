// faultline - a pending wait in a sim's timer heap, carrying the user's handler.
#pragma once

#include <faultline/detail/handler_work.hpp>
#include <faultline/detail/sim_core.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <boost/system/error_code.hpp>

#include <new>
#include <type_traits>
#include <utility>

namespace faultline::detail {

// handler_work.hpp includes sim_context.hpp, whose impl/task.hpp includes this
// file: when handler_work.hpp comes first, its template is not declared yet.
template <class Handler, class IoExecutor>
class handler_work;

/// A timer wait carrying `Handler`. `InPlace`: a coroutine's sleep, which
/// lives in storage its caller provides and keeps alive until the op
/// completes (the sleep's coroutine frame: steady_timer.hpp), so completing
/// it only destroys it; it is a `sleep_wait` (cancelled or not, no error code,
/// no timer links: 88 bytes where a `timer_wait` op takes 128). Otherwise the
/// op is allocated and freed here (`wait_op` below).
template <class Handler, class IoExecutor, bool InPlace>
class handler_wait final : public std::conditional_t<InPlace, sleep_wait, timer_wait> {
  using base_type = std::conditional_t<InPlace, sleep_wait, timer_wait>;

 public:
  /// Allocates the op and hooks it to the handler's cancellation slot: any
  /// cancellation type (terminal, partial, total) ends the wait with
  /// `operation_aborted` at the instant it is emitted, as Asio's timers do.
  static handler_wait* make(sim_core& core, Handler&& h, const IoExecutor& io_ex) {
    static_assert(!InPlace, "an in-place op is made with make_in");
    alloc_type alloc;
    handler_wait* p = alloc.allocate(1);
    try {
      ::new (static_cast<void*>(p)) handler_wait(std::move(h), io_ex);
    } catch (...) {
      alloc.deallocate(p, 1);
      throw;
    }
    return p->hook(core);
  }

  /// The same in `storage` (`sizeof(handler_wait)` bytes, aligned for it), which
  /// must outlive the op: it is never freed here.
  static handler_wait* make_in(void* storage, sim_core& core, Handler&& h, const IoExecutor& io_ex) {
    static_assert(InPlace, "an allocated op is made with make");
    return (::new (storage) handler_wait(std::move(h), io_ex))->hook(core);
  }

  /// The slot the handler is bound to (empty when it has none).
  const boost::asio::cancellation_slot& slot() const noexcept { return slot_; }

 private:
  using alloc_type = boost::asio::recycling_allocator<handler_wait>;

  struct cancellation {
    // A constructor, not an aggregate: clang 14 cannot emplace aggregates.
    cancellation(sim_core* c, queued_wait* o) noexcept : core(c), op(o) {}
    sim_core* core;
    queued_wait* op;
    void operator()(boost::asio::cancellation_type type) {
      if ((type & (boost::asio::cancellation_type::terminal | boost::asio::cancellation_type::partial |
                   boost::asio::cancellation_type::total)) != boost::asio::cancellation_type::none)
        core->cancel_wait(op);
    }
  };

  handler_wait(Handler&& h, const IoExecutor& io_ex)
      : base_type(&do_complete), handler_(std::move(h)), work_(handler_, io_ex) {}

  handler_wait* hook(sim_core& core) {
    slot_ = boost::asio::get_associated_cancellation_slot(handler_);
    if (slot_.is_connected()) slot_.template emplace<cancellation>(&core, this);
    return this;
  }

  static void do_complete(ready_op* base, bool invoke) {
    auto* self = static_cast<handler_wait*>(base);
    // The slot may live in state the handler owns: detach before moving it.
    if (self->slot_.is_connected()) self->slot_.clear();
    Handler handler(std::move(self->handler_));
    handler_work<Handler, IoExecutor> work(std::move(self->work_));
    boost::system::error_code ec;
    if constexpr (InPlace) {
      if (self->aborted) ec = boost::asio::error::operation_aborted;
    } else {
      ec = self->ec;
    }
    self->~handler_wait();
    // In place, the storage is the handler's (a frame of its coroutine): it
    // goes when the handler has run or is destroyed, after this.
    if constexpr (!InPlace) alloc_type().deallocate(self, 1);
    if (invoke) work.complete([h = std::move(handler), ec]() mutable { std::move(h)(ec); });
  }

  Handler handler_;
  handler_work<Handler, IoExecutor> work_;
  boost::asio::cancellation_slot slot_;
};

/// Allocates a wait carrying `Handler` (every wait but a sleep's, which
/// lives in its coroutine frame).
template <class Handler, class IoExecutor>
class wait_op {
 public:
  using op_type = handler_wait<Handler, IoExecutor, false>;
  static op_type* make(sim_core& core, Handler&& h, const IoExecutor& io_ex) {
    return op_type::make(core, std::move(h), io_ex);
  }
};

}  // namespace faultline::detail
