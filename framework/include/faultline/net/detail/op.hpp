// faultline - a pending network operation carrying the user's handler, buffers and executor.
#pragma once

#include <faultline/detail/handler_work.hpp>
#include <faultline/net/detail/state.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/post.hpp>

#include <memory>
#include <type_traits>
#include <utility>

namespace faultline::net::detail {

/// Result tags: the completion signature of an operation.
struct result_ec {};    // void(error_code): connect, wait
struct result_ec_n {};  // void(error_code, std::size_t): read
/// No buffers (connect, accept, wait).
struct no_buffers {};
/// Selects the constructor of a socket that takes over an accepted connection.
struct adopt_tag {};

/// A pending operation. `Result` is `result_ec`, `result_ec_n`, or a socket
/// type for an accept that returns the new socket (`void(error_code, Socket)`).
template <class Handler, class IoExecutor, class Buffers, class Result>
class op_impl final : public net_op {
 public:
  static op_impl* make(Handler&& h, const IoExecutor& io_ex, const Buffers& buffers, io_state& owner) {
    auto* p = new op_impl(std::move(h), io_ex, buffers);
    p->slot_ = boost::asio::get_associated_cancellation_slot(p->handler_);
    if (p->slot_.is_connected()) p->slot_.template emplace<cancellation>(&owner, p);
    return p;
  }

  std::size_t fill(const char* data, std::size_t size) override {
    if constexpr (std::is_same_v<Buffers, no_buffers>)
      return 0;
    else
      return boost::asio::buffer_copy(buffers_, boost::asio::const_buffer(data, size));
  }

  void complete(error_code ec, std::size_t n) noexcept override {
    // The slot may live in state the handler owns: detach before moving it.
    if (slot_.is_connected()) slot_.clear();
    ec_ = ec;
    n_ = n;
    try {
      boost::asio::post(io_ex_, completion(this));
    } catch (...) {
      // Allocation failed: `completion` already freed the op and its handler.
    }
  }

  void destroy() noexcept override {
    if (slot_.is_connected()) slot_.clear();
    delete this;
  }

  /// Accepts that return a socket: the state the new socket will own.
  std::unique_ptr<socket_state> accepted;

 private:
  struct cancellation {
    // A constructor, not an aggregate: clang 14 cannot emplace aggregates.
    cancellation(io_state* o, net_op* p) noexcept : owner(o), op(p) {}
    io_state* owner;
    net_op* op;
    void operator()(boost::asio::cancellation_type type) const {
      if ((type & (boost::asio::cancellation_type::terminal | boost::asio::cancellation_type::partial |
                   boost::asio::cancellation_type::total)) != boost::asio::cancellation_type::none)
        owner->cancel_op(op);
    }
  };

  // Queued on the I/O object's executor; frees the op if destroyed unrun.
  class completion {
   public:
    explicit completion(op_impl* op) noexcept : op_(op) {}
    completion(completion&& other) noexcept : op_(std::exchange(other.op_, nullptr)) {}
    completion& operator=(completion&&) = delete;
    ~completion() {
      if (op_) op_->destroy();
    }
    void operator()() {
      op_impl* op = std::exchange(op_, nullptr);
      Handler handler(std::move(op->handler_));
      faultline::detail::handler_work<Handler, IoExecutor> work(std::move(op->work_));
      const error_code ec = op->ec_;
      if constexpr (std::is_same_v<Result, result_ec>) {
        delete op;
        work.complete([h = std::move(handler), ec]() mutable { std::move(h)(ec); });
      } else if constexpr (std::is_same_v<Result, result_ec_n>) {
        const std::size_t n = op->n_;
        delete op;
        work.complete([h = std::move(handler), ec, n]() mutable { std::move(h)(ec, n); });
      } else {
        Result socket = ec ? Result(op->io_ex_) : Result(adopt_tag{}, op->io_ex_, std::move(op->accepted));
        delete op;
        work.complete([h = std::move(handler), ec, s = std::move(socket)]() mutable { std::move(h)(ec, std::move(s)); });
      }
    }

   private:
    op_impl* op_;
  };

  op_impl(Handler&& h, const IoExecutor& io_ex, const Buffers& buffers)
      : handler_(std::move(h)), work_(handler_, io_ex), io_ex_(io_ex), buffers_(buffers) {
    if constexpr (!std::is_same_v<Buffers, no_buffers>) capacity = boost::asio::buffer_size(buffers_);
  }

  Handler handler_;
  faultline::detail::handler_work<Handler, IoExecutor> work_;
  IoExecutor io_ex_;
  Buffers buffers_;
  boost::asio::cancellation_slot slot_;
  error_code ec_;
  std::size_t n_ = 0;
};

}  // namespace faultline::net::detail
