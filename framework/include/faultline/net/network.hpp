// faultline - the simulated network of one sim: hosts, addresses, names, links.
#pragma once

#include <faultline/net/host_executor.hpp>
#include <faultline/sim_clock.hpp>
#include <faultline/sim_context.hpp>
#include <faultline/system_clock.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace faultline {
struct latency_dist;
}

namespace faultline::net {

namespace detail {
class net_state;
struct host_test_access;  // tests only: what a host keeps for crash
}

class network;

/// Scripted faults of one direction of a link (bytes from one host to
/// another), as Toxiproxy's toxics do to a proxied connection. Obtained from
/// `network::link(from, to)`; lives as long as the network. Each setting
/// applies to writes made after it, on every connection in that direction.
///
/// **Example**: `net.link("app", "db").reset_after(100).segment(8);`
class link_faults {
 public:
  /// Toxiproxy's `limit_data` + `reset_peer`: each connection carries its
  /// first `n` bytes in this direction, then is reset. The write that
  /// crosses the limit sends the bytes up to it and returns that count
  /// (a short write); the writer's next operation fails with
  /// `connection_reset` (a read pending then fails at once), and the peer
  /// reads the `n` bytes, then gets `connection_reset` (unread bytes are
  /// dropped when the RST arrives, as in real TCP). `n == 0`: the first
  /// write fails with `connection_reset`.
  link_faults& reset_after(std::uint64_t n);
  /// Toxiproxy's `slicer`: each write travels as segments of at most
  /// `max_bytes`, each `gap` after the one before (the first with the link's
  /// latency). A read takes what has arrived, so a reader waiting for the
  /// bytes gets the first segment alone (a short read), and with a `gap`
  /// every segment alone. Throws `std::invalid_argument` for `max_bytes == 0`
  /// or a negative gap.
  link_faults& segment(std::size_t max_bytes, sim_clock::duration gap = {});
  /// Toxiproxy's `bandwidth`: the direction carries at most
  /// `bytes_per_second`. Writes go out one after another, in order: a write
  /// of `n` bytes starts when the line is free (the previous write's last
  /// byte is through) and arrives whole (or as its segments) `n / rate`
  /// seconds later, plus the link's latency. Shared by every connection in
  /// this direction. Throws `std::invalid_argument` for 0.
  link_faults& bandwidth(std::uint64_t bytes_per_second);
  /// Toxiproxy's `slow_close`: the FIN of a `close()` or `shutdown(send)` in
  /// this direction reaches the peer `d` later than it would (bytes written
  /// before it still arrive first; an abortive close's RST is not delayed).
  /// Throws `std::invalid_argument` for a negative `d`.
  link_faults& slow_close(sim_clock::duration d);
  /// Extra latency drawn per write from `d` (`<faultline/chaos.hpp>`:
  /// `latency_dist::uniform(1ms, 50ms)`, `exponential`, `spikes`), on top of
  /// the link's latency, from the sim's seed, this direction and the
  /// write's index in it: the same seed draws the same delays. Order is kept
  /// (a write never overtakes the one before). Throws `std::invalid_argument`
  /// for a probability outside [0, 1], a negative bound or a uniform range
  /// given high end first.
  link_faults& latency(const latency_dist& d);
  /// Removes every fault from this direction.
  link_faults& clear() noexcept;

  std::optional<std::uint64_t> reset_limit() const noexcept { return reset_after_; }
  std::size_t segment_size() const noexcept { return segment_; }
  sim_clock::duration segment_gap() const noexcept { return gap_; }
  std::optional<std::uint64_t> bandwidth_limit() const noexcept { return bandwidth_; }
  sim_clock::duration slow_close_delay() const noexcept { return slow_close_; }
  /// The distribution `latency` set, if any.
  const latency_dist* latency_distribution() const noexcept { return dist_.get(); }

 private:
  friend class detail::net_state;
  link_faults(std::string from, std::string to) : from_(std::move(from)), to_(std::move(to)) {}
  std::string from_, to_;  // for messages
  std::optional<std::uint64_t> reset_after_;
  std::size_t segment_ = 0;  // 0: whole writes
  sim_clock::duration gap_{};
  std::optional<std::uint64_t> bandwidth_;
  std::int64_t line_free_ = 0;  // bandwidth: when the last write's last byte is through
  sim_clock::duration slow_close_{};
  std::shared_ptr<const latency_dist> dist_;  // shared_ptr: latency_dist stays incomplete here
  std::uint64_t draws_ = 0;                   // writes that drew from dist_
  std::uint64_t dist_key_ = 0;                // the direction's name hashed, for dist_'s draws
};

/// A simulated machine: a name the resolver knows, its addresses, and an
/// executor that makes code (and the sockets it creates) run on it.
///
/// Hosts are created by `network::add_host` and live as long as their sim.
/// Not thread-safe: used from the sim's thread.
class host {
 public:
  host(const host&) = delete;
  host& operator=(const host&) = delete;

  /// "db": what `resolver::async_resolve` answers for, and the name traces use.
  const std::string& name() const noexcept { return name_; }
  /// Its own addresses (IPv4 first, then IPv6), not counting loopback.
  const std::vector<asio::ip::address>& addresses() const noexcept { return addresses_; }
  /// The network it belongs to.
  net::network& network() const noexcept { return *net_; }

  /// The sim's executor, tagged with this host: sockets, acceptors and
  /// resolvers constructed from it (or from a coroutine spawned with it) are
  /// on this host.
  host_executor get_executor() const noexcept { return host_executor(sim_->get_executor(), const_cast<host&>(*this)); }

  /// False between `network::crash` and `network::restart`.
  bool is_up() const noexcept { return up_; }

  /// The host's boot function: spawns `f` on this host now (`spawn(task_name,
  /// f)`; if the host is down, at its next restart) and again at every
  /// `network::restart`, as an init system starts a machine's services. A
  /// host may have several; they run in the order given. Without one,
  /// `restart` brings the host back with nothing running. `f` is called
  /// once per start, so it must be copyable and start fresh state each time
  /// (what survives a crash is what `f` captures by reference: the "disk").
  ///
  /// **Example**: `db.boot("server", [&]() -> asio::awaitable<void> { co_await serve(db); });`
  template <faultline::detail::coroutine_function F>
  void boot(std::string task_name, F f) {
    static_assert(std::is_copy_constructible_v<F>,
                  "faultline: host::boot runs the function at every restart, so it must be copyable");
    boots_.push_back([this, task_name = std::move(task_name), f = std::move(f)] { spawn(task_name, f); });
    if (up_) boots_.back()();
  }

  /// `sim.spawn(task_name, f)`, with `f`'s coroutine running on this host's
  /// executor, so `co_await asio::this_coro::executor` inside names this
  /// host. Returns the sim's `task<T>` handle; cancelling it cancels `f`, and
  /// so does `network::crash` of this host. The host keeps the task for that
  /// only while it may still run (finished ones are dropped as new ones are
  /// spawned), so spawning per connection does not grow without bound.
  ///
  /// **Example**: `db.spawn("server", [&]() -> asio::awaitable<void> { ... });`
  template <faultline::detail::coroutine_function F>
  task<faultline::detail::coroutine_result_t<F>> spawn(std::string task_name, F f) {
    using result_type = faultline::detail::coroutine_result_t<F>;
    auto ex = get_executor();
    auto t = sim_->spawn(std::move(task_name), [ex, f = std::move(f)]() mutable -> asio::awaitable<result_type> {
      co_return co_await asio::co_spawn(ex, f(), asio::use_awaitable);
    });
    track({[t] { return t.done(); }, [t]() mutable { t.cancel(); }});
    return t;
  }

 private:
  friend class detail::net_state;
  friend class net::network;
  friend struct detail::host_test_access;
  host(net::network& n, sim_context& sim, std::string name, std::uint32_t index)
      : net_(&n), sim_(&sim), name_(std::move(name)), index_(index) {}

  net::network* net_;
  sim_context* sim_;
  std::string name_;
  std::vector<asio::ip::address> addresses_;
  std::uint32_t index_;
  std::uint16_t next_port_ = 49152;
  // A task spawned here, for a crash to cancel while it runs.
  struct spawned_task {
    std::function<bool()> done;
    std::function<void()> cancel;
  };
  // Keeps `t` for a crash. Finished tasks are dropped each time the list has doubled since the
  // last pruning (amortised O(1)), so a host that spawns per connection keeps what still runs,
  // not every task it ever ran.
  void track(spawned_task t);

  bool up_ = true;
  static constexpr std::size_t first_prune = 16;
  std::vector<spawned_task> on_crash_;           // the tasks spawned here, some maybe finished
  std::size_t prune_at_ = first_prune;           // on_crash_'s size that prunes it next
  std::vector<std::function<void()>> cancelled_; // kept: their cancellations may still be queued
  std::vector<std::function<void()>> boots_;     // spawns its boot functions (host::boot)
  std::uint64_t crashes_ = 0;                    // a drawn restart acts only on the crash that scheduled it
};

/// The simulated network of one sim (an Asio service of the sim_context,
/// created on first use): hosts with IPv4 and IPv6 addresses and names, and
/// one-way latencies between them. Sockets, acceptors and resolvers of
/// `<faultline/net/tcp.hpp>` live on it.
///
/// Not thread-safe: used from the sim's thread.
///
/// **Example**:
/// ```
/// auto& net = faultline::net::network::of(sim);
/// auto& db = net.add_host("db");                  // 10.0.0.1, fd00::1
/// auto& app = net.add_host("app", {"10.9.0.1"});  // or explicit addresses
/// net.set_latency("app", "db", 5ms);              // one way, both directions
/// ```
class network final : public asio::execution_context::service {
 public:
  /// For `asio::use_service<faultline::net::network>(sim)`.
  inline static asio::execution_context::id id;

  /// Throws `std::invalid_argument` unless `ctx` is a `sim_context`.
  explicit network(asio::execution_context& ctx);
  ~network() override;

  /// The network of `sim`, created on first use.
  static network& of(sim_context& sim) { return asio::use_service<network>(sim); }

  /// Adds a host named `name` with `addresses` (numeric IPv4 or IPv6); with
  /// none given, the n-th host added gets `10.0.0.n` and `fd00::n`. Throws
  /// `std::invalid_argument` for an empty or taken name, a name containing
  /// ':' (traces and chaos points read "host:port"), an unparsable or taken
  /// address, or a loopback address.
  host& add_host(std::string name, std::vector<std::string> addresses = {});
  /// The host named `name`; throws `std::invalid_argument` listing the hosts if none.
  host& get_host(std::string_view name) const;
  /// The host named "localhost" (127.0.0.1, ::1 only): where I/O objects made
  /// from the plain sim executor live.
  host& localhost() const;
  /// Every host, in creation order ("localhost" first).
  std::vector<host*> hosts() const;

  /// Sets the one-way latency between hosts `a` and `b`, both directions.
  /// Bytes already in flight keep theirs; order is kept either way. Throws
  /// `std::invalid_argument` for an unknown host or a negative latency.
  void set_latency(std::string_view a, std::string_view b, sim_clock::duration one_way);
  /// The latency of links not set with `set_latency` (0 at first), and of a
  /// host's connections to itself.
  void set_default_latency(sim_clock::duration one_way);
  /// The one-way latency from `from` to `to`.
  sim_clock::duration latency(std::string_view from, std::string_view to) const;

  /// Cuts the link between hosts `a` and `b`, both directions. TCP retransmits
  /// what it sent, so nothing is lost: segments that would arrive across the
  /// cut (SYNs, bytes, FINs, RSTs, also those already in flight) are held, in
  /// order, and arrive one latency after `heal(a, b)`. Connects and reads
  /// across the cut wait meanwhile (retransmission timeouts are not modelled).
  /// Throws `std::invalid_argument` for an unknown host or `a == b`.
  void partition(std::string_view a, std::string_view b);
  /// Restores the link between `a` and `b` and sends what was held. Healing
  /// a link that is not cut does nothing.
  void heal(std::string_view a, std::string_view b);
  /// True while the link between `a` and `b` is cut.
  bool partitioned(std::string_view a, std::string_view b) const;

  /// turmoil's hold: segments from `from` to `to` (one direction) that reach
  /// `to` from now on, and those in flight, wait there, in order, until
  /// `release(from, to)`; the other direction and other links flow. Unlike
  /// `partition`, one direction only, and released segments arrive at the
  /// release's instant (they crossed the link already), not one latency
  /// later. Throws `std::invalid_argument` for an unknown host or `from == to`.
  ///
  /// **Example**: `net.hold("app", "db"); ...; net.release("app", "db");`
  void hold(std::string_view from, std::string_view to);
  /// Ends `hold(from, to)`: what it held arrives now, in order. Releasing a
  /// direction not held does nothing.
  void release(std::string_view from, std::string_view to);
  /// True while `hold(from, to)` holds that direction.
  bool held(std::string_view from, std::string_view to) const;

  /// Crashes host `name`, as a power cut would: its sockets and listeners
  /// vanish without a FIN or RST (their pending operations end with
  /// `operation_aborted`; later use of them fails with `bad_descriptor`),
  /// tasks started with `host::spawn` on it are cancelled, and segments
  /// arriving for it are dropped, so its peers notice nothing until they time
  /// out. Throws `std::invalid_argument` for an unknown host, or one that is down.
  void crash(std::string_view name);
  /// Brings a crashed host back with no sockets: segments for its old
  /// connections are answered with an RST (`connection_reset` at the peer);
  /// its boot functions (`host::boot`) run again; without any, the test
  /// starts its programs again (`host::spawn`). Throws
  /// `std::invalid_argument` for an unknown host or one that is up.
  void restart(std::string_view name);

  /// Scripted faults of the direction `from` -> `to` (see `link_faults`).
  /// Throws `std::invalid_argument` for an unknown host.
  link_faults& link(std::string_view from, std::string_view to);

  /// Connects to `port` of `host` (every port: 0) are refused, whether or
  /// not something listens there: `connection_refused` one round trip
  /// after the connect, as a firewall's REJECT does. Undo with `unblock`.
  /// Throws `std::invalid_argument` for an unknown host.
  void refuse(std::string_view host, std::uint16_t port = 0);
  /// SYNs to `port` of `host` (every port: 0) are dropped, as a firewall's
  /// DROP does: the connect waits until cancelled or its socket is closed
  /// (retransmission and `timed_out` are not modelled; use a timeout).
  /// Undo with `unblock`. Throws `std::invalid_argument` for an unknown host.
  void blackhole(std::string_view host, std::uint16_t port = 0);
  /// Removes the `refuse` or `blackhole` of exactly (`host`, `port`); with
  /// port 0, every one of that host. Connects pending behind a blackhole
  /// stay pending (their SYN is gone). Throws `std::invalid_argument` for an unknown host.
  void unblock(std::string_view host, std::uint16_t port = 0);

  /// Host clocks: from now on, `faultline::system_clock::now()` read by code
  /// on host `name` (running through its executor) returns the sim's wall
  /// clock (`faultline::wall_clock_of(sim)`) plus `offset`, plus `drift` of
  /// the steady time that passes from now (`ppm(+100)`: 100 us fast per
  /// second). A later call replaces both; the host's clock jumps then.
  /// `faultline::steady_clock` and timers are not affected (see
  /// docs/network.md, "Host clocks"). Throws `std::invalid_argument` for an
  /// unknown host or a drift outside `[ppm::min, ppm::max]`.
  ///
  /// **Example**: `net.set_clock("db", -250ms, faultline::ppm(+200));`
  void set_clock(std::string_view name, system_clock::duration offset, ppm drift);
  /// The wall time code on host `name` reads now.
  system_clock::time_point clock_now(std::string_view name) const;

  /// For faultline's own layers.
  detail::net_state& state() const noexcept { return *state_; }

 private:
  void shutdown() override;
  std::unique_ptr<detail::net_state> state_;
};

}  // namespace faultline::net
