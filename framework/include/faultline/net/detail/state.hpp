// faultline - the non-template half of the simulated network: pending operations, socket and acceptor state.
#pragma once

#include <faultline/detail/sim_core.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::net {
class host;
class network;
}  // namespace faultline::net

namespace faultline::net::detail {

using error_code = boost::system::error_code;
using tcp_endpoint = boost::asio::ip::tcp::endpoint;
class net_state;
class socket_state;

/// A pending connect, accept, read or wait. The template half (handler,
/// executor, buffers) derives from it; the network sees only this.
class net_op {
 public:
  net_op(const net_op&) = delete;
  net_op& operator=(const net_op&) = delete;

  /// Reads: copies as much of [data, data + size) as the buffers hold.
  virtual std::size_t fill(const char* /*data*/, std::size_t /*size*/) { return 0; }
  /// Hands the result to the handler's executor, never inline; frees the op.
  virtual void complete(error_code ec, std::size_t n) noexcept = 0;
  /// Frees the op without calling the handler (the sim is going away).
  virtual void destroy() noexcept = 0;

  std::size_t capacity = 0;               // reads: total size of the buffers
  socket_state* accept_into = nullptr;    // accepts: the socket that receives the connection
  std::int64_t since = 0;                 // virtual instant it started
  std::uint64_t order = 0;                // trace index when it started
  int wait_type = 0;                      // waits: read, write or error
  bool hung = false;                      // accepts: a chaos hang keeps it from every connection
  std::int64_t not_before = 0;            // accepts: a chaos latency holds it back until then
  net_op* next = nullptr;                 // accept queue and wait list

 protected:
  net_op() = default;
  ~net_op() = default;
};

/// What sockets and acceptors share: the sim link, the host, cancellation.
class io_state : public faultline::detail::sim_object {
 public:
  /// Ends `op` with operation_aborted if it is still pending here.
  virtual void cancel_op(net_op* op) noexcept = 0;
  /// The live sim, or throws: "the sim_context this object belongs to was destroyed".
  faultline::detail::sim_core& live(const char* caller) const;
  net::host& get_host() const noexcept { return *host_; }

 protected:
  io_state(faultline::detail::sim_core& core, net::host& h);
  ~io_state();
  /// Completes `op` through its handler's executor, or drops it while the sim is torn down.
  void finish(net_op* op, error_code ec, std::size_t n) noexcept;
  void record(std::string_view text) noexcept;

  net::host* host_;
  net_state* net_;           // null once the network is gone
  std::uint32_t subject_ = 0;  // trace subject, renamed when the socket connects

  friend class net_state;
  friend class net::network;
};

/// One simulated TCP socket: its endpoints, its receive buffer and its
/// pending operations. Lives on the heap so the socket object can move.
class socket_state final : public io_state {
 public:
  socket_state(faultline::detail::sim_core& core, net::host& h);
  ~socket_state();

  bool is_open() const noexcept { return open_; }
  void open(const boost::asio::ip::tcp& protocol, error_code& ec);
  void close(error_code& ec);
  std::size_t cancel() noexcept;
  void shutdown(int what, error_code& ec);
  void bind(const tcp_endpoint& ep, error_code& ec);
  tcp_endpoint local_endpoint(error_code& ec) const;
  tcp_endpoint remote_endpoint(error_code& ec) const;
  std::size_t available(error_code& ec) const;

  // Options: recorded; linger decides whether close() is abortive.
  bool no_delay = false;
  bool keep_alive = false;
  bool reuse_address = false;
  bool linger_enabled = false;
  int linger_seconds = 0;
  void option_set(const char* what) noexcept;

  /// Takes ownership of `op`; it completes later (never inside this call).
  void start_connect(net_op* op, const tcp_endpoint& to);
  void start_read(net_op* op);
  void start_wait(net_op* op, int wait_type);
  /// An empty buffer for the next write's bytes, with the room of one an
  /// earlier arrival freed when there is one (writes then allocate nothing).
  std::string take_buffer() noexcept;
  /// Sends `bytes`; returns how many were accepted, or sets `ec`.
  std::size_t write(std::string&& bytes, error_code& ec);
  bool read_pending() const noexcept { return read_ != nullptr; }

  void cancel_op(net_op* op) noexcept override;
  void on_sim_shutdown() noexcept override;
  void describe_pending(std::vector<pending_operation>& out) const override;
  bool blocks_run() const noexcept override { return read_ || connect_ || waits_; }

 private:
  friend class net_state;
  friend class acceptor_state;
  friend class net::network;

  void deliver() noexcept;
  void vanish(std::vector<net_op*>& ops) noexcept;  // its host crashed
  void complete_waits(bool readable) noexcept;
  void take_all_ops(std::vector<net_op*>& out) noexcept;
  std::string describe() const;
  /// The connection is reset here and an RST goes to the peer: a pending
  /// read fails with connection_reset now, later operations see eof or broken_pipe.
  void reset_both_ends() noexcept;
  /// "net:app->db:<what>": this socket's chaos point for `what`.
  std::string point(const char* what) const;

  std::uint64_t id_ = 0;
  bool open_ = false;
  bool v6_ = false;
  bool bound_ = false;
  bool owns_port_ = false;       // bound or connected from an ephemeral port of its own
  bool connecting_ = false;
  bool connected_ = false;
  bool accepted_ = false;        // server side of a connection
  bool rd_shutdown_ = false;     // shutdown(receive): reads end in eof without waiting
  bool wr_shutdown_ = false;     // shutdown(send) or close: writes fail
  bool fin_received_ = false;    // eof after the buffered bytes
  bool reset_ = false;           // an RST arrived: error reported once, then eof / broken_pipe
  bool held_ = false;            // a chaos hang holds this direction's bytes and FIN forever
  std::uint64_t sent_ = 0;       // bytes written on this connection (link_faults::reset_after)
  error_code pending_error_;     // connection_reset, reported by the next read or write
  tcp_endpoint local_, remote_;
  std::uint64_t peer_id_ = 0;
  std::int64_t last_arrival_ = 0;  // keeps bytes of this direction in order
  std::string inbox_;
  std::size_t head_ = 0;
  net_op* read_ = nullptr;
  net_op* connect_ = nullptr;
  net_op* waits_ = nullptr;
};

/// One simulated listening socket: its address, backlog and accept queues.
class acceptor_state final : public io_state {
 public:
  acceptor_state(faultline::detail::sim_core& core, net::host& h);
  ~acceptor_state();

  bool is_open() const noexcept { return open_; }
  void open(const boost::asio::ip::tcp& protocol, error_code& ec);
  void bind(const tcp_endpoint& ep, error_code& ec);
  void listen(int backlog, error_code& ec);
  void close(error_code& ec);
  std::size_t cancel() noexcept;
  tcp_endpoint local_endpoint(error_code& ec) const;
  bool reuse_address = false;
  void option_set(const char* what) noexcept;

  /// Takes ownership of `op`, whose `accept_into` is the socket to fill.
  void start_accept(net_op* op);

  void cancel_op(net_op* op) noexcept override;
  void on_sim_shutdown() noexcept override;
  void describe_pending(std::vector<pending_operation>& out) const override;
  bool blocks_run() const noexcept override { return accepts_ != nullptr; }

 private:
  friend class net_state;
  friend class net::network;
  void match() noexcept;
  /// Chaos at `net:db:5432:accept` for `op`: true when it took `op` out of the running for now.
  bool chaos_accept(net_op** at) noexcept;
  void vanish(std::vector<net_op*>& ops) noexcept;  // its host crashed
  void take_all_ops(std::vector<net_op*>& out) noexcept;

  std::uint64_t id_ = 0;  // its key in the network's objects (a chaos latency's wake-up finds it so)
  bool open_ = false;
  bool v6_ = false;
  bool bound_ = false;
  bool listening_ = false;
  int backlog_ = 0;
  tcp_endpoint local_;
  std::vector<std::unique_ptr<socket_state>> ready_;  // established, not accepted yet
  net_op* accepts_ = nullptr;                         // FIFO of pending accepts
};

/// A new socket or acceptor state on the host that `h` names (null: the
/// network's "localhost"), on the sim `core` (null: not a sim; throws).
std::unique_ptr<socket_state> make_socket_state(faultline::detail::sim_core* core, net::host* h, const char* caller);
std::unique_ptr<acceptor_state> make_acceptor_state(faultline::detail::sim_core* core, net::host* h,
                                                    const char* caller);

/// Resolves `host_name` and `service` as the simulated resolver does.
std::vector<tcp_endpoint> resolve(faultline::detail::sim_core* core, net::host* h, const std::string& host_name,
                                  const std::string& service, error_code& ec);

[[noreturn]] void throw_error(const error_code& ec, const char* caller);

}  // namespace faultline::net::detail
