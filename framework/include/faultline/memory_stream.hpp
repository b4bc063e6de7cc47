// faultline - an in-memory, connected pair of byte streams (a socketpair for tests), virtual on a sim.
#pragma once

#include <faultline/detail/handler_work.hpp>
#include <faultline/detail/memory_stream_endpoint.hpp>
#include <faultline/sim_context.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace faultline {

namespace detail {

template <class Handler, class IoExecutor, class Buffers>
class memory_read_op_impl;

}  // namespace detail

/// One end of an in-memory, connected pair of byte streams: what one end
/// writes, the other reads, like a socketpair or Beast's `test::stream`.
/// Models `AsyncReadStream` and `AsyncWriteStream`, so `asio::async_read`,
/// `async_write`, `async_read_until` and any protocol code run over it. On a
/// `sim_context` nothing is real: reads wait in the sim as pending operations
/// and the trace records every transfer ("stream#1 io: write 12 bytes"). On an
/// `io_context` it works the same, in memory.
///
/// Making a pair: `auto [a, b] = faultline::make_memory_stream_pair(ex);`, or
/// `faultline::memory_stream a(ex), b(ex); faultline::connect(a, b);`.
///
/// Semantics:
/// - `async_read_some` completes as soon as the peer has written bytes (with
///   at most the buffers' size), or waits for them. A read with empty buffers
///   completes at once with 0 bytes.
/// - `async_write_some` moves all its bytes into the peer's buffer (unbounded)
///   and completes with their count.
/// - `close()` (and destroying a stream) ends this end's pending read with
///   `operation_aborted` and drops bytes it has not read; the peer reads what
///   it has buffered, then `asio::error::eof`; the peer's writes then fail
///   with `asio::error::broken_pipe`.
/// - On the closed end itself reads and writes fail with
///   `asio::error::bad_descriptor`; before `connect`, with `not_connected`.
///
/// Completion signatures: `void(error_code, std::size_t)`. No operation
/// completes inside its initiating call; each completes through the handler's
/// associated executor (on a sim, through the sim's queue). Per-operation
/// cancellation: a pending read ends with `operation_aborted` at the instant
/// terminal, partial or total cancellation is emitted (it has moved no byte);
/// `cancel()` does the same. Writes never wait, so they are never cancelled.
///
/// At most one read may be pending per end (as for sockets); starting a second
/// throws `std::logic_error`. On a sim, a pending read is listed by
/// `sim.pending()` and in stall reports (`stream#1 read (stream read) waiting
/// since t=0.000s`); using the stream after its sim is gone throws.
///
/// Thread safety: not thread-safe; both ends of a pair are used from one
/// thread at a time (a sim, or a single-threaded io_context). On an
/// io_context, destroy the streams before the context.
///
/// **Example**:
/// ```
/// faultline::sim_context sim;
/// auto [client, server] = faultline::make_memory_stream_pair(sim);
/// asio::async_write(client, asio::buffer("ping", 4), [](error_code, std::size_t) {});
/// char buf[4];
/// asio::async_read(server, asio::buffer(buf), [](error_code ec, std::size_t n) { /* "ping", n == 4 */ });
/// sim.run();
/// ```
template <class Executor = asio::any_io_executor>
class basic_memory_stream {
 public:
  using executor_type = Executor;

  template <class Executor1>
  struct rebind_executor {
    using other = basic_memory_stream<Executor1>;
  };

  /// An unconnected end. `name` is its trace subject; empty gives
  /// "stream#N", numbered per sim in creation order.
  explicit basic_memory_stream(const executor_type& ex, std::string name = {})
      : ex_(ex), ep_(std::make_unique<detail::memory_endpoint>(detail::sim_core_of(ex_), std::move(name))) {}

  template <class ExecutionContext,
            class = std::enable_if_t<std::is_convertible_v<ExecutionContext&, asio::execution_context&>>>
  explicit basic_memory_stream(ExecutionContext& ctx, std::string name = {})
      : basic_memory_stream(executor_type(ctx.get_executor()), std::move(name)) {}

  /// A moved-from stream may only be destroyed or assigned to.
  basic_memory_stream(basic_memory_stream&&) noexcept = default;
  basic_memory_stream& operator=(basic_memory_stream&&) noexcept = default;
  basic_memory_stream(const basic_memory_stream&) = delete;
  basic_memory_stream& operator=(const basic_memory_stream&) = delete;

  /// Closes this end (see `close()`).
  ~basic_memory_stream() = default;

  executor_type get_executor() const noexcept { return ex_; }

  /// The trace subject: "stream#1", or the name given at construction.
  const std::string& name() const { return endpoint("memory_stream::name").name(); }

  bool is_open() const { return ep_ && ep_->is_open(); }

  /// Bytes the peer has written that this end has not read yet.
  std::size_t available() const { return endpoint("memory_stream::available").available(); }

  /// Closes this end: a pending read ends with `operation_aborted`; the peer
  /// reads its buffered bytes, then `eof`; its writes fail with `broken_pipe`.
  /// Closing twice does nothing.
  void close() { live("memory_stream::close").close(); }
  /// As `close()`; never fails (for code written against sockets).
  void close(boost::system::error_code& ec) {
    ec = {};
    close();
  }

  /// Ends a pending read with `operation_aborted`; returns how many ended (0 or 1).
  std::size_t cancel() { return live("memory_stream::cancel").cancel(); }

  /// Reads at least one byte (unless `buffers` is empty), waiting until the
  /// peer writes. Completion signature `void(error_code, std::size_t)`;
  /// `asio::error::eof` once the peer closed and every byte was read.
  template <class MutableBufferSequence, class ReadToken = asio::default_completion_token_t<executor_type>>
  auto async_read_some(const MutableBufferSequence& buffers,
                       ReadToken&& token = asio::default_completion_token_t<executor_type>()) {
    static_assert(asio::is_mutable_buffer_sequence<MutableBufferSequence>::value,
                  "memory_stream::async_read_some needs a MutableBufferSequence");
    return asio::async_initiate<ReadToken, void(boost::system::error_code, std::size_t)>(initiate_read{this},
                                                                                         token, buffers);
  }

  /// Writes every byte of `buffers` to the peer's buffer. Completion
  /// signature `void(error_code, std::size_t)`; `asio::error::broken_pipe`
  /// once the peer closed.
  template <class ConstBufferSequence, class WriteToken = asio::default_completion_token_t<executor_type>>
  auto async_write_some(const ConstBufferSequence& buffers,
                        WriteToken&& token = asio::default_completion_token_t<executor_type>()) {
    static_assert(asio::is_const_buffer_sequence<ConstBufferSequence>::value,
                  "memory_stream::async_write_some needs a ConstBufferSequence");
    return asio::async_initiate<WriteToken, void(boost::system::error_code, std::size_t)>(initiate_write{this},
                                                                                          token, buffers);
  }

  template <class Executor1>
  friend void connect(basic_memory_stream<Executor1>& a, basic_memory_stream<Executor1>& b);

 private:
  struct initiate_read {
    basic_memory_stream* self;
    using executor_type = Executor;
    executor_type get_executor() const noexcept { return self->ex_; }

    template <class Handler, class Buffers>
    void operator()(Handler&& handler, const Buffers& buffers) const {
      detail::memory_endpoint& ep = self->live("memory_stream::async_read_some");
      if (ep.read_pending())
        throw std::logic_error("faultline: memory_stream::async_read_some: " + ep.name() +
                               " already has a read pending; wait for it to complete before starting another");
      using op_type = detail::memory_read_op_impl<std::decay_t<Handler>, Executor, Buffers>;
      ep.start_read(op_type::make(std::forward<Handler>(handler), self->ex_, buffers, ep));
    }
  };

  struct initiate_write {
    basic_memory_stream* self;
    using executor_type = Executor;
    executor_type get_executor() const noexcept { return self->ex_; }

    template <class Handler, class Buffers>
    void operator()(Handler&& handler, const Buffers& buffers) const {
      detail::memory_endpoint& ep = self->live("memory_stream::async_write_some");
      boost::system::error_code ec = ep.write_error();
      std::size_t n = 0;
      if (ec) {
        ep.write_failed(ec);
      } else {
        std::string& to = ep.peer_inbox();
        for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
          asio::const_buffer b(*it);
          to.append(static_cast<const char*>(b.data()), b.size());
          n += b.size();
        }
        ep.wrote(n);
      }
      // Through the stream's executor, then the handler's: never inline.
      asio::post(self->ex_, asio::append(std::forward<Handler>(handler), ec, n));
    }
  };

  detail::memory_endpoint& endpoint(const char* caller) const {
    if (!ep_)
      throw std::logic_error(std::string("faultline: ") + caller +
                             ": the stream was moved from; use the stream it was moved to");
    return *ep_;
  }
  detail::memory_endpoint& live(const char* caller) const {
    detail::memory_endpoint& ep = endpoint(caller);
    ep.live_core(caller);
    return ep;
  }

  executor_type ex_;
  std::unique_ptr<detail::memory_endpoint> ep_;
};

/// Connects two fresh ends: what one writes, the other reads. Throws
/// `std::logic_error` if either end was connected before, is closed, or both
/// are the same stream.
template <class Executor>
void connect(basic_memory_stream<Executor>& a, basic_memory_stream<Executor>& b) {
  detail::memory_endpoint::connect(a.live("memory_stream connect"), b.live("memory_stream connect"));
}

/// The memory stream tests declare: `faultline::memory_stream s(ex);`
using memory_stream = basic_memory_stream<>;

/// Two connected ends on `ex` (a sim's executor, an io_context's, or any
/// executor): what `first` writes, `second` reads, and back.
///
/// **Example**: `auto [client, server] = faultline::make_memory_stream_pair(sim);`
inline std::pair<memory_stream, memory_stream> make_memory_stream_pair(const asio::any_io_executor& ex) {
  std::pair<memory_stream, memory_stream> p{memory_stream(ex), memory_stream(ex)};
  faultline::connect(p.first, p.second);
  return p;
}

template <class ExecutionContext,
          class = std::enable_if_t<std::is_convertible_v<ExecutionContext&, asio::execution_context&>>>
std::pair<memory_stream, memory_stream> make_memory_stream_pair(ExecutionContext& ctx) {
  return make_memory_stream_pair(asio::any_io_executor(ctx.get_executor()));
}

namespace detail {

// A pending read of a memory stream: owns the handler, keeps its executor
// busy, and listens on its cancellation slot.
template <class Handler, class IoExecutor, class Buffers>
class memory_read_op_impl final : public memory_read_op {
 public:
  static memory_read_op_impl* make(Handler&& h, const IoExecutor& io_ex, const Buffers& buffers,
                                   memory_endpoint& ep) {
    auto* p = new memory_read_op_impl(std::move(h), io_ex, buffers);
    p->slot_ = boost::asio::get_associated_cancellation_slot(p->handler_);
    if (p->slot_.is_connected()) p->slot_.template emplace<cancellation>(&ep);
    return p;
  }

  std::size_t fill(const char* data, std::size_t size) override {
    return boost::asio::buffer_copy(buffers_, boost::asio::const_buffer(data, size));
  }

  void complete(boost::system::error_code ec, std::size_t n) noexcept override {
    // The slot may live in state the handler owns: detach before moving it.
    if (slot_.is_connected()) slot_.clear();
    ec_ = ec;
    n_ = n;
    try {
      boost::asio::post(io_ex_, completion(this));
    } catch (...) {
      // Allocation failed: `completion` already freed the op, and the
      // handler with it.
    }
  }

  void destroy() noexcept override {
    if (slot_.is_connected()) slot_.clear();
    delete this;
  }

 private:
  struct cancellation {
    explicit cancellation(memory_endpoint* e) noexcept : ep(e) {}
    memory_endpoint* ep;
    void operator()(boost::asio::cancellation_type type) const {
      if ((type & (boost::asio::cancellation_type::terminal | boost::asio::cancellation_type::partial |
                   boost::asio::cancellation_type::total)) != boost::asio::cancellation_type::none)
        ep->cancel();
    }
  };

  // Queued on the stream's executor; frees the op if destroyed unrun (a
  // context torn down with it still queued).
  class completion {
   public:
    explicit completion(memory_read_op_impl* op) noexcept : op_(op) {}
    completion(completion&& other) noexcept : op_(std::exchange(other.op_, nullptr)) {}
    completion& operator=(completion&&) = delete;
    ~completion() {
      if (op_) op_->destroy();
    }
    void operator()() {
      memory_read_op_impl* op = std::exchange(op_, nullptr);
      Handler handler(std::move(op->handler_));
      handler_work<Handler, IoExecutor> work(std::move(op->work_));
      const boost::system::error_code ec = op->ec_;
      const std::size_t n = op->n_;
      delete op;
      work.complete([h = std::move(handler), ec, n]() mutable { std::move(h)(ec, n); });
    }

   private:
    memory_read_op_impl* op_;
  };

  memory_read_op_impl(Handler&& h, const IoExecutor& io_ex, const Buffers& buffers)
      : handler_(std::move(h)), work_(handler_, io_ex), io_ex_(io_ex), buffers_(buffers) {
    capacity = boost::asio::buffer_size(buffers_);
  }

  Handler handler_;
  handler_work<Handler, IoExecutor> work_;
  IoExecutor io_ex_;
  Buffers buffers_;
  boost::asio::cancellation_slot slot_;
  boost::system::error_code ec_;
  std::size_t n_ = 0;
};

}  // namespace detail

}  // namespace faultline
