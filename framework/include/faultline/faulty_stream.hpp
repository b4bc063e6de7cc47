// faultline - a stream wrapper that injects latency, errors, eof, resets, short ops, stalls and bandwidth limits.
#pragma once

#include <faultline/detail/faulty_stream_state.hpp>
#include <faultline/sim_context.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace faultline {

/// The faults of one direction (reads or writes) of a `basic_faulty_stream`,
/// from `stream.reads()` or `stream.writes()`. A handle: the settings live in
/// the stream; each setter applies to operations started afterwards and
/// returns the handle, so settings chain:
/// `s.writes().latency(100ms).max_bytes_per_op(3);`
///
/// Operations of one direction are numbered 0, 1, 2, ... in the order they
/// start (`fail_at`, `stall_from` count these).
class stream_faults {
 public:
  /// Every operation waits `d` before it reaches the next layer (virtual time
  /// on a sim, real time elsewhere). A write reaches the peer `d` later; a
  /// read starts `d` later. Cancellation during the wait ends the operation
  /// with `operation_aborted`, having moved no byte.
  template <class Rep, class Period>
  stream_faults& latency(std::chrono::duration<Rep, Period> d) {
    const auto ns = std::chrono::duration_cast<sim_clock::duration>(d).count();
    if (ns < 0)
      throw std::invalid_argument("faultline: stream_faults::latency(" + to_string(sim_clock::duration(ns)) +
                                  "): the latency is negative");
    settings().latency_ns = ns;
    return *this;
  }

  /// Limits the bandwidth to `bytes_per_second` (0: unlimited): an operation
  /// moving n bytes takes n / rate longer, rounded up to a nanosecond. A write
  /// waits before reaching the next layer (with its latency); a read waits
  /// after the next layer delivered its bytes. Cancelling that wait (terminal
  /// or partial; total cancellation is not allowed once bytes moved) ends the
  /// read with `operation_aborted` and the count of bytes it already holds.
  stream_faults& bandwidth(std::uint64_t bytes_per_second) noexcept {
    settings().bandwidth = bytes_per_second;
    return *this;
  }

  /// Short reads and writes: each operation hands at most `k` bytes to the
  /// next layer (0: no limit), like Toxiproxy's slicer; `asio::async_write`
  /// then takes several operations for one message.
  stream_faults& max_bytes_per_op(std::size_t k) noexcept {
    settings().max_bytes_per_op = k;
    return *this;
  }

  /// Operation `n` of this direction (0-based) fails with `ec` without
  /// touching the next layer; later operations pass. May be called for
  /// several `n`. Throws `std::invalid_argument` if `ec` is success.
  stream_faults& fail_at(std::uint64_t n, boost::system::error_code ec) {
    state_->fail_at(dir_, n, ec);
    return *this;
  }

  /// Operation `n` of this direction and every later one hang until
  /// cancelled (per-operation cancellation of any type, `cancel()`, `close()`
  /// or destroying the stream), then end with `operation_aborted`. On a sim,
  /// a stalled operation is listed by `pending()`, and a run that waits only
  /// on it ends in a stall report.
  stream_faults& stall_from(std::uint64_t n) noexcept {
    settings().stall_from = n;
    return *this;
  }
  /// Every operation of this direction started from now on hangs.
  stream_faults& stall() noexcept { return stall_from(state_->ops_started(dir_)); }

  /// This direction passes everything through again.
  stream_faults& clear() noexcept {
    settings() = {};
    return *this;
  }

  /// Operations of this direction started so far.
  std::uint64_t ops_started() const noexcept { return state_->ops_started(dir_); }

 private:
  template <class NextLayer>
  friend class basic_faulty_stream;

  stream_faults(detail::faulty_stream_state& s, detail::stream_direction d) noexcept : state_(&s), dir_(d) {}
  detail::fault_settings& settings() noexcept { return state_->settings(dir_); }

  detail::faulty_stream_state* state_;
  detail::stream_direction dir_;
};

/// Wraps a stream (anything with `async_read_some`, `async_write_some` and
/// `get_executor()`: a `memory_stream` on a sim, an `asio::ip::tcp::socket`
/// on an io_context, ...) and injects faults into its operations, while
/// itself modelling `AsyncReadStream` and `AsyncWriteStream`.
///
/// Faults, per direction (`reads()`, `writes()`, see `stream_faults`):
/// latency, bandwidth, short operations (`max_bytes_per_op`), an error at the
/// n-th operation of that direction, a stall. For the whole stream:
/// - `fail_at(n, ec)`: operation `n` (0-based, reads and writes counted
///   together in the order they start) fails with `ec`, never reaching the
///   next layer. Sweeping `n` over a protocol visits every fault position
///   (Beast's `fail_count`, one operation at a time).
/// - `reset_at(n)`: the connection resets at operation `n`: it and every later
///   operation fail with `asio::error::connection_reset`, and the next layer
///   is closed (for a socket, with SO_LINGER 0, so the peer gets a real RST;
///   a memory_stream peer reads eof).
/// - `eof_after(bytes)`: reads end with `asio::error::eof` once `bytes` bytes
///   were read (the read reaching the limit is shortened to it).
///
/// Each operation's faults are decided when it starts, in this order: reset,
/// `fail_at` (stream, then direction), eof, stall; otherwise short, latency,
/// bandwidth combine. On a sim every injected fault is recorded in the trace
/// (`faulty_stream#1 fault: read: injected connection_reset at op 3`), and
/// every operation's end too (`faulty_stream#1 io: read 5 bytes`).
///
/// Completion signatures: `void(error_code, std::size_t)`. Nothing completes
/// inside the initiating call (an injected error is posted through the
/// stream's executor first). Per-operation cancellation: terminal, partial
/// and total end a stalled or delayed operation with `operation_aborted` at
/// the instant of emission; an operation in the next layer gets the signal
/// forwarded. Destroying the stream ends its operations with
/// `operation_aborted`. At most one read and one write may be pending at once.
///
/// Thread safety: as the next layer's (not thread-safe).
///
/// **Example** (on a sim):
/// ```
/// auto [a, b] = faultline::make_memory_stream_pair(sim);
/// faultline::basic_faulty_stream<faultline::memory_stream> client(std::move(a));
/// client.writes().latency(100ms);
/// client.fail_at(3, asio::error::connection_reset);
/// ```
template <class NextLayer>
class basic_faulty_stream {
  static_assert(!std::is_reference_v<NextLayer>,
                "basic_faulty_stream owns its next layer: if you get an error on the following line, wrap the "
                "stream itself (std::move it in), not a reference to it");

  using timer_type = basic_steady_timer<typename NextLayer::executor_type>;

 public:
  using next_layer_type = NextLayer;
  using executor_type = typename NextLayer::executor_type;

  /// Constructs the next layer from `args` (e.g. `std::move(socket)`).
  template <class... Args>
    requires std::is_constructible_v<NextLayer, Args&&...>
  explicit basic_faulty_stream(Args&&... args) : impl_(std::make_shared<impl>(std::forward<Args>(args)...)) {}

  /// A moved-from stream may only be destroyed or assigned to.
  basic_faulty_stream(basic_faulty_stream&&) noexcept = default;
  basic_faulty_stream& operator=(basic_faulty_stream&&) noexcept = default;
  basic_faulty_stream(const basic_faulty_stream&) = delete;
  basic_faulty_stream& operator=(const basic_faulty_stream&) = delete;

  /// Ends pending operations with `operation_aborted` and destroys the next layer.
  ~basic_faulty_stream() = default;

  executor_type get_executor() const noexcept { return impl_->next.get_executor(); }
  next_layer_type& next_layer() noexcept { return impl_->next; }
  const next_layer_type& next_layer() const noexcept { return impl_->next; }

  /// The trace subject on a sim ("faulty_stream#1"); empty elsewhere.
  const std::string& name() const noexcept { return impl_->state.name(); }

  /// The faults of reads / writes.
  stream_faults reads() noexcept { return stream_faults(impl_->state, detail::stream_direction::read); }
  stream_faults writes() noexcept { return stream_faults(impl_->state, detail::stream_direction::write); }

  /// Operation `n` of the stream (reads and writes counted together, 0-based,
  /// in start order) fails with `ec` without touching the next layer. May be
  /// called for several `n`. Throws `std::invalid_argument` if `ec` is success.
  basic_faulty_stream& fail_at(std::uint64_t n, boost::system::error_code ec) {
    impl_->state.fail_at(n, ec, "faulty_stream::fail_at");
    return *this;
  }
  /// The connection resets at operation `n`: it and every later operation
  /// fail with `connection_reset`, and the next layer is closed.
  basic_faulty_stream& reset_at(std::uint64_t n) noexcept {
    impl_->state.reset_at(n);
    return *this;
  }
  /// Reads end with `eof` once `bytes` bytes were read through this stream.
  basic_faulty_stream& eof_after(std::uint64_t bytes) noexcept {
    impl_->state.eof_after(bytes);
    return *this;
  }
  /// Removes every fault of both directions (a reset already happened stays).
  basic_faulty_stream& clear_faults() noexcept {
    impl_->state.clear();
    return *this;
  }

  /// Operations started so far (reads and writes).
  std::uint64_t ops_started() const noexcept { return impl_->state.ops_started(); }
  /// Bytes moved by completed reads / writes.
  std::uint64_t bytes_read() const noexcept { return impl_->state.bytes(detail::stream_direction::read); }
  std::uint64_t bytes_written() const noexcept { return impl_->state.bytes(detail::stream_direction::write); }

  /// Ends stalled and delayed operations with `operation_aborted`, and
  /// cancels the next layer's operations if it has `cancel()`.
  void cancel() {
    cancel_waits("faulty_stream::cancel");
    if constexpr (requires(NextLayer& s) { s.cancel(); }) impl_->next.cancel();
  }

  /// Ends stalled and delayed operations with `operation_aborted`, then
  /// closes the next layer (which ends its own operations).
  void close()
    requires requires(NextLayer& s) { s.close(); }
  {
    cancel_waits("faulty_stream::close");
    impl_->next.close();
  }

  /// Reads through the faults. Completion signature `void(error_code, std::size_t)`.
  template <class MutableBufferSequence, class ReadToken = asio::default_completion_token_t<executor_type>>
  auto async_read_some(const MutableBufferSequence& buffers,
                       ReadToken&& token = asio::default_completion_token_t<executor_type>()) {
    static_assert(asio::is_mutable_buffer_sequence<MutableBufferSequence>::value,
                  "faulty_stream::async_read_some needs a MutableBufferSequence");
    impl_->state.live_core("faulty_stream::async_read_some");
    return asio::async_compose<ReadToken, void(boost::system::error_code, std::size_t)>(
        io_op<MutableBufferSequence, asio::mutable_buffer, detail::stream_direction::read>{impl_, buffers}, token,
        impl_->next.get_executor());
  }

  /// Writes through the faults. Completion signature `void(error_code, std::size_t)`.
  template <class ConstBufferSequence, class WriteToken = asio::default_completion_token_t<executor_type>>
  auto async_write_some(const ConstBufferSequence& buffers,
                        WriteToken&& token = asio::default_completion_token_t<executor_type>()) {
    static_assert(asio::is_const_buffer_sequence<ConstBufferSequence>::value,
                  "faulty_stream::async_write_some needs a ConstBufferSequence");
    impl_->state.live_core("faulty_stream::async_write_some");
    return asio::async_compose<WriteToken, void(boost::system::error_code, std::size_t)>(
        io_op<ConstBufferSequence, asio::const_buffer, detail::stream_direction::write>{impl_, buffers}, token,
        impl_->next.get_executor());
  }

 private:
  // Heap-held so that the stream can move while operations are pending; an
  // operation holds it weakly and, finding it gone, ends with
  // operation_aborted without touching it. Destruction order matters: the
  // timers first (aborting waits), then the state, then the next layer.
  struct impl {
    template <class... Args>
    explicit impl(Args&&... args)
        : next(std::forward<Args>(args)...),
          state(detail::sim_core_of(next.get_executor())),
          timers{timer_type(next.get_executor()), timer_type(next.get_executor())} {}

    NextLayer next;
    detail::faulty_stream_state state;
    timer_type timers[2];
  };

  void cancel_waits(const char* caller) {
    impl_->state.live_core(caller);
    for (auto& t : impl_->timers) t.cancel();
  }

  // The first `limit` bytes of `buffers`, for short operations.
  template <class Buffer, class Buffers>
  static std::vector<Buffer> prefix(const Buffers& buffers, std::size_t limit) {
    std::vector<Buffer> out;
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers) && limit > 0;
         ++it) {
      Buffer b(*it);
      if (b.size() > limit) b = Buffer(b.data(), limit);
      limit -= b.size();
      out.push_back(b);
    }
    return out;
  }

  // Closes the next layer for a reset; a socket gets SO_LINGER 0 first, so
  // the peer sees connection_reset, not an orderly end.
  static void close_for_reset(NextLayer& s) noexcept {
    boost::system::error_code ec;
    if constexpr (requires { s.set_option(asio::socket_base::linger(true, 0), ec); })
      s.set_option(asio::socket_base::linger(true, 0), ec);
    if constexpr (requires { s.close(ec); }) {
      s.close(ec);
    } else if constexpr (requires { s.close(); }) {
      try {
        s.close();
      } catch (...) {
      }
    }
  }

  template <class Buffers, class Buffer, detail::stream_direction Dir>
  struct io_op {
    enum class step : unsigned char { start, injected, waited, transferred, throttled };

    std::weak_ptr<impl> weak;
    Buffers buffers;
    step at = step::start;
    detail::fault_decision decision{};
    boost::system::error_code result{};
    std::size_t moved = 0;

    io_op(const std::shared_ptr<impl>& p, const Buffers& b) : weak(p), buffers(b) {}

    template <class Self>
    void operator()(Self& self, boost::system::error_code ec = {}, std::size_t n = 0) {
      namespace error = asio::error;
      switch (at) {
        case step::start: {
          std::shared_ptr<impl> p = weak.lock();  // alive: the initiating call holds the stream
          self.reset_cancellation_state(asio::enable_total_cancellation());
          decision = p->state.begin(Dir, asio::buffer_size(buffers));
          if (decision.close_next_layer) close_for_reset(p->next);
          if (decision.what == detail::fault_decision::action::fail) {
            at = step::injected;
            result = decision.ec;
            asio::post(p->next.get_executor(), std::move(self));
            return;
          }
          if (decision.what == detail::fault_decision::action::stall) {
            at = step::waited;
            auto& t = p->timers[static_cast<int>(Dir)];
            t.expires_at(steady_clock::time_point::max());
            p->state.wait_begins(Dir, "stalled", -1);
            t.async_wait(std::move(self));
            return;
          }
          if (decision.delay_ns > 0) {
            at = step::waited;
            auto& t = p->timers[static_cast<int>(Dir)];
            t.expires_after(steady_clock::duration(decision.delay_ns));
            p->state.wait_begins(Dir, "delayed", t.expiry().time_since_epoch().count());
            t.async_wait(std::move(self));
            return;
          }
          return transfer(self, *p);
        }
        case step::injected:
          return finish(self, result, 0);
        case step::waited: {
          std::shared_ptr<impl> p = weak.lock();
          if (!p) return self.complete(error::operation_aborted, 0);
          p->state.wait_ends(Dir);
          if (ec || decision.what == detail::fault_decision::action::stall ||
              self.cancelled() != asio::cancellation_type::none)
            return finish(self, error::operation_aborted, 0);
          return transfer(self, *p);
        }
        case step::transferred: {
          result = ec;
          moved = n;
          std::shared_ptr<impl> p = weak.lock();
          if (!p) return self.complete(ec, n);
          if constexpr (Dir == detail::stream_direction::read) {
            if (n > 0 && p->state.settings(Dir).bandwidth) {
              if (const std::int64_t t_ns = p->state.read_throttle(decision, n)) {
                // Bytes have moved: total cancellation (no side effects) no longer applies.
                self.reset_cancellation_state(asio::enable_partial_cancellation());
                at = step::throttled;
                auto& t = p->timers[static_cast<int>(Dir)];
                t.expires_after(steady_clock::duration(t_ns));
                p->state.wait_begins(Dir, "throttled", t.expiry().time_since_epoch().count());
                t.async_wait(std::move(self));
                return;
              }
            }
          }
          return finish(self, ec, n);
        }
        case step::throttled: {
          if (std::shared_ptr<impl> p = weak.lock()) p->state.wait_ends(Dir);
          return finish(self, ec ? boost::system::error_code(error::operation_aborted) : result, moved);
        }
      }
    }

    template <class Self>
    void transfer(Self& self, impl& p) {
      at = step::transferred;
      const std::size_t size = asio::buffer_size(buffers);
      if (decision.limit < size) {
        if constexpr (Dir == detail::stream_direction::read)
          p.next.async_read_some(prefix<Buffer>(buffers, decision.limit), std::move(self));
        else
          p.next.async_write_some(prefix<Buffer>(buffers, decision.limit), std::move(self));
      } else {
        if constexpr (Dir == detail::stream_direction::read)
          p.next.async_read_some(buffers, std::move(self));
        else
          p.next.async_write_some(buffers, std::move(self));
      }
    }

    template <class Self>
    void finish(Self& self, boost::system::error_code ec, std::size_t n) {
      if (std::shared_ptr<impl> p = weak.lock()) p->state.end(Dir, n, ec);
      self.complete(ec, n);
    }
  };

  std::shared_ptr<impl> impl_;
};

/// `faultline::faulty_stream<asio::ip::tcp::socket> s(std::move(socket));`
template <class NextLayer>
using faulty_stream = basic_faulty_stream<NextLayer>;

}  // namespace faultline
