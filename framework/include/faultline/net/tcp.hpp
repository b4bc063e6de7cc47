// faultline - drop-in simulated TCP: socket, acceptor and resolver with asio::ip::tcp's API.
#pragma once

#include <faultline/net/detail/op.hpp>
#include <faultline/net/detail/state.hpp>
#include <faultline/net/host_executor.hpp>
#include <faultline/net/network.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/basic_resolver_results.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace faultline::net {

template <class Executor>
class basic_acceptor;

namespace detail {
template <class Option>
constexpr bool is_known_option_v =
    std::is_same_v<Option, asio::ip::tcp::no_delay> || std::is_same_v<Option, asio::socket_base::keep_alive> ||
    std::is_same_v<Option, asio::socket_base::linger> || std::is_same_v<Option, asio::socket_base::reuse_address>;

[[noreturn]] void throw_moved_from(const char* caller);
}  // namespace detail

/// A simulated TCP socket with the API of `asio::ip::tcp::socket` that
/// asynchronous code uses. It lives on the host its executor names (see
/// `host_executor`; the plain sim executor means "localhost") and moves bytes
/// through the sim's network in virtual time.
///
/// Completion signatures: `async_connect` and `async_wait`:
/// `void(error_code)`; `async_read_some` and `async_write_some`:
/// `void(error_code, std::size_t)`. Every operation completes through the
/// handler's associated executor, never inside the initiating call. A pending
/// connect, read or wait ends with `operation_aborted` at `close()`,
/// `cancel()`, or when terminal, partial or total cancellation is emitted on
/// its slot. Writes never wait (the send buffer is unbounded).
///
/// Errors follow TCP (see docs/network.md): `connection_refused`,
/// `connection_reset` (once, after the peer's abortive close), `eof` after the
/// peer's `shutdown(send)` or close, `broken_pipe` writing to a closed peer,
/// `bad_descriptor` on a closed socket, `not_connected` before connecting.
///
/// Thread safety: as Asio's sockets; used from the sim's thread.
template <class Executor = asio::any_io_executor>
class basic_socket {
 public:
  using executor_type = Executor;
  using protocol_type = asio::ip::tcp;
  using endpoint_type = asio::ip::tcp::endpoint;
  using lowest_layer_type = basic_socket;
  using shutdown_type = asio::socket_base::shutdown_type;
  using wait_type = asio::socket_base::wait_type;
  static constexpr shutdown_type shutdown_receive = asio::socket_base::shutdown_receive;
  static constexpr shutdown_type shutdown_send = asio::socket_base::shutdown_send;
  static constexpr shutdown_type shutdown_both = asio::socket_base::shutdown_both;

  template <class Executor1>
  struct rebind_executor {
    using other = basic_socket<Executor1>;
  };

  /// An unopened socket on the host `ex` names. Throws
  /// `std::invalid_argument` if `ex` does not belong to a sim_context.
  explicit basic_socket(const executor_type& ex)
      : ex_(ex), state_(detail::make_socket_state(faultline::detail::sim_core_of(ex_), detail::host_of(ex_),
                                                  "net::socket")) {}
  /// An open socket of `protocol`.
  basic_socket(const executor_type& ex, const protocol_type& protocol) : basic_socket(ex) { open(protocol); }

  template <class ExecutionContext,
            class = std::enable_if_t<std::is_convertible_v<ExecutionContext&, asio::execution_context&>>>
  explicit basic_socket(ExecutionContext& ctx) : basic_socket(executor_type(ctx.get_executor())) {}

  /// For the network: a socket owning an accepted connection.
  basic_socket(detail::adopt_tag, const executor_type& ex, std::unique_ptr<detail::socket_state> state)
      : ex_(ex), state_(std::move(state)) {}

  /// A moved-from socket may only be destroyed or assigned to.
  basic_socket(basic_socket&&) noexcept = default;
  basic_socket& operator=(basic_socket&& other) noexcept {
    if (this != &other) {
      reset();
      ex_ = std::move(other.ex_);
      state_ = std::move(other.state_);
    }
    return *this;
  }
  /// From a socket with another executor type (`as_default_on_t` and back).
  template <class Executor1, class = std::enable_if_t<std::is_convertible_v<const Executor1&, executor_type>>>
  basic_socket(basic_socket<Executor1>&& other) : ex_(other.get_executor()), state_(std::move(other.state_)) {}

  /// Closes the socket (pending operations end with `operation_aborted`).
  ~basic_socket() { reset(); }

  executor_type get_executor() const noexcept { return ex_; }
  lowest_layer_type& lowest_layer() noexcept { return *this; }
  const lowest_layer_type& lowest_layer() const noexcept { return *this; }

  /// The host this socket is on.
  net::host& get_host() const { return state("net::socket::get_host").get_host(); }

  void open(const protocol_type& protocol = protocol_type::v4()) { throwing(&basic_socket::open, "open", protocol); }
  void open(const protocol_type& protocol, boost::system::error_code& ec) { state("net::socket::open").open(protocol, ec); }
  bool is_open() const noexcept { return state_ && state_->is_open(); }

  /// Closes the socket: pending operations end with `operation_aborted`; the
  /// peer reads what is in flight, then `eof` (an RST instead with
  /// `linger(true, 0)` or unread bytes here).
  void close() { throwing0(&basic_socket::close, "close"); }
  void close(boost::system::error_code& ec) { state("net::socket::close").close(ec); }
  /// Ends every pending operation with `operation_aborted`.
  void cancel() { state("net::socket::cancel").cancel(); }
  void cancel(boost::system::error_code& ec) {
    ec = {};
    cancel();
  }
  void shutdown(shutdown_type what) { throwing(&basic_socket::shutdown, "shutdown", what); }
  void shutdown(shutdown_type what, boost::system::error_code& ec) {
    state("net::socket::shutdown").shutdown(static_cast<int>(what), ec);
  }
  void bind(const endpoint_type& ep) { throwing(&basic_socket::bind, "bind", ep); }
  void bind(const endpoint_type& ep, boost::system::error_code& ec) { state("net::socket::bind").bind(ep, ec); }

  endpoint_type local_endpoint() const { return throwing_get(&basic_socket::local_endpoint, "local_endpoint"); }
  endpoint_type local_endpoint(boost::system::error_code& ec) const {
    return state("net::socket::local_endpoint").local_endpoint(ec);
  }
  endpoint_type remote_endpoint() const { return throwing_get(&basic_socket::remote_endpoint, "remote_endpoint"); }
  endpoint_type remote_endpoint(boost::system::error_code& ec) const {
    return state("net::socket::remote_endpoint").remote_endpoint(ec);
  }
  /// Bytes that arrived and were not read yet.
  std::size_t available() const { return throwing_get(&basic_socket::available, "available"); }
  std::size_t available(boost::system::error_code& ec) const { return state("net::socket::available").available(ec); }

  /// `no_delay`, `keep_alive`, `linger` and `reuse_address` are recorded;
  /// `linger(true, 0)` makes `close()` abortive (an RST).
  template <class Option>
  void set_option(const Option& option) {
    boost::system::error_code ec;
    set_option(option, ec);
    if (ec) detail::throw_error(ec, "set_option");
  }
  template <class Option>
  void set_option(const Option& option, boost::system::error_code& ec) {
    // If you get an error on the following line, the option is not simulated
    // (yet): use no_delay, keep_alive, linger or reuse_address.
    static_assert(detail::is_known_option_v<Option>,
                  "faultline::net::socket simulates no_delay, keep_alive, linger and reuse_address only");
    detail::socket_state& s = state("net::socket::set_option");
    ec = {};
    if (!s.is_open()) {
      ec = asio::error::bad_descriptor;
      return;
    }
    if constexpr (std::is_same_v<Option, asio::ip::tcp::no_delay>) {
      s.no_delay = option.value();
      s.option_set(option.value() ? "no_delay on" : "no_delay off");
    } else if constexpr (std::is_same_v<Option, asio::socket_base::keep_alive>) {
      s.keep_alive = option.value();
      s.option_set(option.value() ? "keep_alive on" : "keep_alive off");
    } else if constexpr (std::is_same_v<Option, asio::socket_base::linger>) {
      s.linger_enabled = option.enabled();
      s.linger_seconds = option.timeout();
      s.option_set(option.enabled() ? (option.timeout() == 0 ? "linger on, 0s (abortive close)" : "linger on")
                                    : "linger off");
    } else {
      s.reuse_address = option.value();
      s.option_set(option.value() ? "reuse_address on" : "reuse_address off");
    }
  }
  template <class Option>
  void get_option(Option& option) const {
    boost::system::error_code ec;
    get_option(option, ec);
    if (ec) detail::throw_error(ec, "get_option");
  }
  template <class Option>
  void get_option(Option& option, boost::system::error_code& ec) const {
    // If you get an error on the following line, the option is not simulated (yet).
    static_assert(detail::is_known_option_v<Option>,
                  "faultline::net::socket simulates no_delay, keep_alive, linger and reuse_address only");
    const detail::socket_state& s = state("net::socket::get_option");
    ec = {};
    if (!s.is_open()) {
      ec = asio::error::bad_descriptor;
      return;
    }
    if constexpr (std::is_same_v<Option, asio::ip::tcp::no_delay>)
      option = Option(s.no_delay);
    else if constexpr (std::is_same_v<Option, asio::socket_base::keep_alive>)
      option = Option(s.keep_alive);
    else if constexpr (std::is_same_v<Option, asio::socket_base::linger>)
      option = Option(s.linger_enabled, s.linger_seconds);
    else
      option = Option(s.reuse_address);
  }

  /// Connects to `peer`, opening the socket first if needed. Completion
  /// signature `void(error_code)`: success after one round trip,
  /// `connection_refused` when nothing listens there.
  template <class ConnectToken = asio::default_completion_token_t<executor_type>>
  auto async_connect(const endpoint_type& peer,
                     ConnectToken&& token = asio::default_completion_token_t<executor_type>()) {
    return asio::async_initiate<ConnectToken, void(boost::system::error_code)>(
        [this](auto&& handler, const endpoint_type& to) {
          using op_type = detail::op_impl<std::decay_t<decltype(handler)>, Executor, detail::no_buffers,
                                          detail::result_ec>;
          detail::socket_state& s = state("net::socket::async_connect");
          s.start_connect(op_type::make(std::move(handler), ex_, {}, s), to);
        },
        token, peer);
  }

  /// Reads at least one byte (unless `buffers` is empty), waiting until some
  /// arrive. Completion signature `void(error_code, std::size_t)`. At most one
  /// read may be pending; starting another throws `std::logic_error`.
  template <class MutableBufferSequence, class ReadToken = asio::default_completion_token_t<executor_type>>
  auto async_read_some(const MutableBufferSequence& buffers,
                       ReadToken&& token = asio::default_completion_token_t<executor_type>()) {
    static_assert(asio::is_mutable_buffer_sequence<MutableBufferSequence>::value,
                  "net::socket::async_read_some needs a MutableBufferSequence");
    return asio::async_initiate<ReadToken, void(boost::system::error_code, std::size_t)>(
        [this](auto&& handler, const MutableBufferSequence& b) {
          using op_type =
              detail::op_impl<std::decay_t<decltype(handler)>, Executor, MutableBufferSequence, detail::result_ec_n>;
          detail::socket_state& s = state("net::socket::async_read_some");
          if (s.read_pending())
            throw std::logic_error(
                "faultline: net::socket::async_read_some: a read is already pending on this socket; wait for it "
                "to complete before starting another");
          s.start_read(op_type::make(std::move(handler), ex_, b, s));
        },
        token, buffers);
  }

  /// Sends every byte of `buffers` (the send buffer is unbounded). Completion
  /// signature `void(error_code, std::size_t)`.
  template <class ConstBufferSequence, class WriteToken = asio::default_completion_token_t<executor_type>>
  auto async_write_some(const ConstBufferSequence& buffers,
                        WriteToken&& token = asio::default_completion_token_t<executor_type>()) {
    static_assert(asio::is_const_buffer_sequence<ConstBufferSequence>::value,
                  "net::socket::async_write_some needs a ConstBufferSequence");
    return asio::async_initiate<WriteToken, void(boost::system::error_code, std::size_t)>(
        [this](auto&& handler, const ConstBufferSequence& b) {
          detail::socket_state& s = state("net::socket::async_write_some");
          std::string bytes = s.take_buffer();
          bytes.reserve(asio::buffer_size(b));
          for (auto it = asio::buffer_sequence_begin(b); it != asio::buffer_sequence_end(b); ++it) {
            asio::const_buffer cb(*it);
            bytes.append(static_cast<const char*>(cb.data()), cb.size());
          }
          boost::system::error_code ec;
          const std::size_t n = s.write(std::move(bytes), ec);
          // Through the socket's executor, then the handler's: never inline.
          asio::post(ex_, asio::append(std::move(handler), ec, n));
        },
        token, buffers);
  }

  /// Waits until the socket is readable (bytes, eof or an error to report),
  /// writable (at once when connected) or has an error. Completion signature
  /// `void(error_code)`.
  template <class WaitToken = asio::default_completion_token_t<executor_type>>
  auto async_wait(wait_type w, WaitToken&& token = asio::default_completion_token_t<executor_type>()) {
    return asio::async_initiate<WaitToken, void(boost::system::error_code)>(
        [this](auto&& handler, wait_type what) {
          using op_type = detail::op_impl<std::decay_t<decltype(handler)>, Executor, detail::no_buffers,
                                          detail::result_ec>;
          detail::socket_state& s = state("net::socket::async_wait");
          s.start_wait(op_type::make(std::move(handler), ex_, {}, s), static_cast<int>(what));
        },
        token, w);
  }

 private:
  template <class>
  friend class basic_socket;
  template <class>
  friend class basic_acceptor;

  detail::socket_state& state(const char* caller) const {
    if (!state_) detail::throw_moved_from(caller);
    state_->live(caller);
    return *state_;
  }
  void reset() noexcept {
    if (!state_ || !state_->core()) {
      state_.reset();
      return;
    }
    boost::system::error_code ignored;
    state_->close(ignored);
    state_.reset();
  }
  template <class Arg>
  void throwing(void (basic_socket::*f)(Arg, boost::system::error_code&), const char* what, Arg a) {
    boost::system::error_code ec;
    (this->*f)(a, ec);
    if (ec) detail::throw_error(ec, what);
  }
  void throwing0(void (basic_socket::*f)(boost::system::error_code&), const char* what) {
    boost::system::error_code ec;
    (this->*f)(ec);
    if (ec) detail::throw_error(ec, what);
  }
  template <class R>
  R throwing_get(R (basic_socket::*f)(boost::system::error_code&) const, const char* what) const {
    boost::system::error_code ec;
    R r = (this->*f)(ec);
    if (ec) detail::throw_error(ec, what);
    return r;
  }

  executor_type ex_;
  std::unique_ptr<detail::socket_state> state_;
};

/// A simulated listening socket with the API of `asio::ip::tcp::acceptor`.
/// It listens on the host its executor names; `bind` takes one of that
/// host's addresses, a loopback address, or the unspecified address (all of
/// them), and port 0 picks an ephemeral port.
///
/// `async_accept(socket&, token)`: `void(error_code)`; `async_accept(token)`:
/// `void(error_code, socket)` (the socket uses the acceptor's executor). A
/// pending accept ends with `operation_aborted` at `close()`, `cancel()` or
/// any cancellation type emitted on its slot. Accepts complete in the order
/// they were started, with connections in the order they arrived.
template <class Executor = asio::any_io_executor>
class basic_acceptor {
 public:
  using executor_type = Executor;
  using protocol_type = asio::ip::tcp;
  using endpoint_type = asio::ip::tcp::endpoint;
  using socket_type = basic_socket<Executor>;

  template <class Executor1>
  struct rebind_executor {
    using other = basic_acceptor<Executor1>;
  };

  /// An unopened acceptor on the host `ex` names.
  explicit basic_acceptor(const executor_type& ex)
      : ex_(ex), state_(detail::make_acceptor_state(faultline::detail::sim_core_of(ex_), detail::host_of(ex_),
                                                    "net::acceptor")) {}
  basic_acceptor(const executor_type& ex, const protocol_type& protocol) : basic_acceptor(ex) { open(protocol); }
  /// Opens, sets `reuse_address` if asked, binds to `ep` and listens, as Asio's does.
  basic_acceptor(const executor_type& ex, const endpoint_type& ep, bool reuse_addr = true) : basic_acceptor(ex) {
    open(ep.protocol());
    if (reuse_addr) set_option(asio::socket_base::reuse_address(true));
    bind(ep);
    listen();
  }
  template <class ExecutionContext,
            class = std::enable_if_t<std::is_convertible_v<ExecutionContext&, asio::execution_context&>>>
  explicit basic_acceptor(ExecutionContext& ctx) : basic_acceptor(executor_type(ctx.get_executor())) {}

  basic_acceptor(basic_acceptor&&) noexcept = default;
  basic_acceptor& operator=(basic_acceptor&& other) noexcept {
    if (this != &other) {
      reset();
      ex_ = std::move(other.ex_);
      state_ = std::move(other.state_);
    }
    return *this;
  }
  ~basic_acceptor() { reset(); }

  executor_type get_executor() const noexcept { return ex_; }
  net::host& get_host() const { return state("net::acceptor::get_host").get_host(); }

  void open(const protocol_type& protocol = protocol_type::v4()) {
    boost::system::error_code ec;
    open(protocol, ec);
    if (ec) detail::throw_error(ec, "open");
  }
  void open(const protocol_type& protocol, boost::system::error_code& ec) {
    state("net::acceptor::open").open(protocol, ec);
  }
  bool is_open() const noexcept { return state_ && state_->is_open(); }
  void bind(const endpoint_type& ep) {
    boost::system::error_code ec;
    bind(ep, ec);
    if (ec) detail::throw_error(ec, "bind");
  }
  void bind(const endpoint_type& ep, boost::system::error_code& ec) { state("net::acceptor::bind").bind(ep, ec); }
  /// Listens with room for `backlog + 1` connections nobody accepted yet (as Linux).
  void listen(int backlog = asio::socket_base::max_listen_connections) {
    boost::system::error_code ec;
    listen(backlog, ec);
    if (ec) detail::throw_error(ec, "listen");
  }
  void listen(int backlog, boost::system::error_code& ec) { state("net::acceptor::listen").listen(backlog, ec); }
  /// Stops listening: pending accepts end with `operation_aborted`;
  /// connections not accepted yet are reset.
  void close() {
    boost::system::error_code ec;
    close(ec);
    if (ec) detail::throw_error(ec, "close");
  }
  void close(boost::system::error_code& ec) { state("net::acceptor::close").close(ec); }
  void cancel() { state("net::acceptor::cancel").cancel(); }
  void cancel(boost::system::error_code& ec) {
    ec = {};
    cancel();
  }
  endpoint_type local_endpoint() const {
    boost::system::error_code ec;
    endpoint_type ep = local_endpoint(ec);
    if (ec) detail::throw_error(ec, "local_endpoint");
    return ep;
  }
  endpoint_type local_endpoint(boost::system::error_code& ec) const {
    return state("net::acceptor::local_endpoint").local_endpoint(ec);
  }

  /// `reuse_address` is recorded (a simulated port is free again at close).
  template <class Option>
  void set_option(const Option& option) {
    boost::system::error_code ec;
    set_option(option, ec);
    if (ec) detail::throw_error(ec, "set_option");
  }
  template <class Option>
  void set_option(const Option& option, boost::system::error_code& ec) {
    // If you get an error on the following line, the option is not simulated on acceptors.
    static_assert(std::is_same_v<Option, asio::socket_base::reuse_address>,
                  "faultline::net::acceptor simulates reuse_address only");
    detail::acceptor_state& s = state("net::acceptor::set_option");
    ec = {};
    if (!s.is_open()) {
      ec = asio::error::bad_descriptor;
      return;
    }
    s.reuse_address = option.value();
    s.option_set(option.value() ? "reuse_address on" : "reuse_address off");
  }
  template <class Option>
  void get_option(Option& option) const {
    static_assert(std::is_same_v<Option, asio::socket_base::reuse_address>,
                  "faultline::net::acceptor simulates reuse_address only");
    option = Option(state("net::acceptor::get_option").reuse_address);
  }

  /// Accepts the next connection into `peer`, which must not be open.
  template <class Executor1, class AcceptToken = asio::default_completion_token_t<executor_type>>
  auto async_accept(basic_socket<Executor1>& peer,
                    AcceptToken&& token = asio::default_completion_token_t<executor_type>()) {
    return asio::async_initiate<AcceptToken, void(boost::system::error_code)>(
        [this, &peer](auto&& handler) {
          using op_type = detail::op_impl<std::decay_t<decltype(handler)>, Executor, detail::no_buffers,
                                          detail::result_ec>;
          detail::acceptor_state& s = state("net::acceptor::async_accept");
          detail::socket_state& into = peer.state("net::acceptor::async_accept");
          auto* op = op_type::make(std::move(handler), ex_, {}, s);
          op->accept_into = &into;
          s.start_accept(op);
        },
        token);
  }

  /// Accepts the next connection into a new socket. Completion signature
  /// `void(error_code, socket_type)`.
  template <class AcceptToken = asio::default_completion_token_t<executor_type>>
  auto async_accept(AcceptToken&& token = asio::default_completion_token_t<executor_type>()) {
    return asio::async_initiate<AcceptToken, void(boost::system::error_code, socket_type)>(
        [this](auto&& handler) {
          using op_type = detail::op_impl<std::decay_t<decltype(handler)>, Executor, detail::no_buffers, socket_type>;
          detail::acceptor_state& s = state("net::acceptor::async_accept");
          auto* op = op_type::make(std::move(handler), ex_, {}, s);
          try {
            op->accepted = detail::make_socket_state(faultline::detail::sim_core_of(ex_), &s.get_host(),
                                                     "net::acceptor::async_accept");
          } catch (...) {
            op->destroy();
            throw;
          }
          op->accept_into = op->accepted.get();
          s.start_accept(op);
        },
        token);
  }

 private:
  detail::acceptor_state& state(const char* caller) const {
    if (!state_) detail::throw_moved_from(caller);
    state_->live(caller);
    return *state_;
  }
  void reset() noexcept {
    if (state_ && state_->core()) {
      boost::system::error_code ignored;
      state_->close(ignored);
    }
    state_.reset();
  }

  executor_type ex_;
  std::unique_ptr<detail::acceptor_state> state_;
};

/// The simulated resolver: `async_resolve(host, service)` answers from the
/// network's hosts. `host` is a host name, "localhost", or a numeric address;
/// `service` a port number. Results are `asio::ip::tcp::resolver::results_type`
/// (IPv4 addresses first), so `asio::async_connect(socket, results, token)`
/// and range-for work as with Asio. An unknown name fails with
/// `asio::error::host_not_found`, a service that is not a number with
/// `asio::error::service_not_found`. Completion signature
/// `void(error_code, results_type)`; it never completes inline.
template <class Executor = asio::any_io_executor>
class basic_resolver {
 public:
  using executor_type = Executor;
  using protocol_type = asio::ip::tcp;
  using endpoint_type = asio::ip::tcp::endpoint;
  using results_type = asio::ip::basic_resolver_results<asio::ip::tcp>;

  template <class Executor1>
  struct rebind_executor {
    using other = basic_resolver<Executor1>;
  };

  explicit basic_resolver(const executor_type& ex) : ex_(ex) {}
  template <class ExecutionContext,
            class = std::enable_if_t<std::is_convertible_v<ExecutionContext&, asio::execution_context&>>>
  explicit basic_resolver(ExecutionContext& ctx) : ex_(ctx.get_executor()) {}

  executor_type get_executor() const noexcept { return ex_; }
  /// Nothing to cancel: a simulated resolve completes at once (through the queue).
  void cancel() {}

  template <class ResolveToken = asio::default_completion_token_t<executor_type>>
  auto async_resolve(std::string_view host_name, std::string_view service,
                     ResolveToken&& token = asio::default_completion_token_t<executor_type>()) {
    return asio::async_initiate<ResolveToken, void(boost::system::error_code, results_type)>(
        [this](auto&& handler, std::string h, std::string s) {
          boost::system::error_code ec;
          std::vector<endpoint_type> eps = detail::resolve(faultline::detail::sim_core_of(ex_), detail::host_of(ex_),
                                                           h, s, ec);
          results_type r = ec ? results_type() : results_type::create(eps.begin(), eps.end(), h, s);
          asio::post(ex_, asio::append(std::move(handler), ec, std::move(r)));
        },
        token, std::string(host_name), std::string(service));
  }

 private:
  executor_type ex_;
};

/// `asio::ip::tcp`'s nested names, simulated: code written against
/// `Tcp::socket`, `Tcp::acceptor`, `Tcp::resolver`, `Tcp::endpoint` switches
/// to the simulated network by changing one type.
struct tcp {
  using socket = basic_socket<>;
  using acceptor = basic_acceptor<>;
  using resolver = basic_resolver<>;
  using endpoint = asio::ip::tcp::endpoint;
  using no_delay = asio::ip::tcp::no_delay;
  static asio::ip::tcp v4() noexcept { return asio::ip::tcp::v4(); }
  static asio::ip::tcp v6() noexcept { return asio::ip::tcp::v6(); }
};

namespace detail {

// asio::async_connect over a range: try each endpoint in turn.
template <class Socket, class Endpoint>
struct range_connect_op {
  Socket* socket;
  std::vector<Endpoint> endpoints;
  std::size_t index = 0;
  int phase = 0;  // 0: start, 1: an attempt ended, 2: nothing to try

  template <class Self>
  void operator()(Self& self, boost::system::error_code ec = {}) {
    if (phase == 2) return self.complete(ec, Endpoint());
    if (phase == 1) {
      if (!ec) return self.complete(ec, endpoints[index]);
      if (ec == asio::error::operation_aborted || ++index == endpoints.size()) return self.complete(ec, Endpoint());
    } else if (endpoints.empty()) {
      phase = 2;
      return asio::post(socket->get_executor(),
                        asio::append(std::move(self), boost::system::error_code(asio::error::not_found)));
    }
    phase = 1;
    boost::system::error_code ignored;
    socket->close(ignored);
    socket->async_connect(endpoints[index], std::move(self));
  }
};

}  // namespace detail

}  // namespace faultline::net

namespace boost::asio {

/// `asio::async_connect(socket, endpoints, token)` for a simulated socket:
/// tries each endpoint in order until one connects. Completion signature
/// `void(error_code, tcp::endpoint)`; `asio::error::not_found` for an empty
/// range. Declared in Asio's namespace so that code calling
/// `asio::async_connect` compiles unchanged against `faultline::net::tcp`.
template <class Executor, class EndpointSequence,
          class RangeConnectToken = default_completion_token_t<Executor>,
          class = std::enable_if_t<is_endpoint_sequence<EndpointSequence>::value>>
auto async_connect(faultline::net::basic_socket<Executor>& s, const EndpointSequence& endpoints,
                   RangeConnectToken&& token = default_completion_token_t<Executor>()) {
  using endpoint = ip::tcp::endpoint;
  std::vector<endpoint> eps;
  for (const auto& e : endpoints) eps.push_back(endpoint(e));
  return async_compose<RangeConnectToken, void(boost::system::error_code, endpoint)>(
      faultline::net::detail::range_connect_op<faultline::net::basic_socket<Executor>, endpoint>{&s, std::move(eps)},
      token, s);
}

}  // namespace boost::asio
