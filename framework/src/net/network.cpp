// faultline - the simulated network: hosts, links, packets in flight, TCP sockets and listeners.
#include <faultline/chaos.hpp>
#include <faultline/detail/error_names.hpp>
#include <faultline/detail/mix.hpp>
#include <faultline/net/detail/state.hpp>
#include <faultline/net/network.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/system/system_error.hpp>
#include <boost/asio/error.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <new>
#include <optional>
#include <set>
#include <stdexcept>
#include <utility>

namespace faultline::net {

namespace detail {

namespace {

enum class packet_kind : std::uint8_t { syn, syn_ack, refused, data, fin, rst };

std::string bytes_text(std::size_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); }

// "write 64 bytes" on the stack: the hot path's trace text costs no
// allocation (the trace copies it into a slot whose buffer it reuses).
class count_text {
 public:
  count_text(std::string_view before, std::size_t n) {
    std::memcpy(buf_, before.data(), before.size());
    size_ = before.size();
    size_ = static_cast<std::size_t>(std::to_chars(buf_ + size_, buf_ + sizeof buf_, n).ptr - buf_);
    const std::string_view unit = n == 1 ? " byte" : " bytes";
    std::memcpy(buf_ + size_, unit.data(), unit.size());
    size_ += unit.size();
  }
  operator std::string_view() const noexcept { return {buf_, size_}; }

 private:
  char buf_[48];  // the longest prefix ("arrived ") + 20 digits + " bytes"
  std::size_t size_;
};

bool is_loopback(const asio::ip::address& a) noexcept { return a.is_loopback(); }

// One decision at a network chaos point, counted in the sim's totals like a double's.
std::optional<fault> chaos_draw(faultline::detail::sim_core& core, const std::string& point, std::uint32_t subject) {
  auto f = core.chaos().draw(point, subject);
  if (f) core.count_fault(f->kind);
  return f;
}

// An error fault's code, or `fallback` when the plan left the default (injected_fault).
error_code drawn_code(const fault& f, error_code fallback) {
  if (!f.error_code || f.error_code == make_error_code(faultline::error::injected_fault)) return fallback;
  return f.error_code;
}

}  // namespace

/// Everything the network knows: hosts, latencies, live sockets by id,
/// listeners by (host, port), ports in use.
class net_state {
 public:
  net_state(network& n, sim_context& s) : net(n), sim(s), core(s.core()) {
    auto h = std::unique_ptr<host>(new host(n, s, "localhost", 0));
    hosts.push_back(std::move(h));
  }

  network& net;
  sim_context& sim;
  faultline::detail::sim_core& core;
  std::vector<std::unique_ptr<host>> hosts;  // creation order; "localhost" first
  std::map<asio::ip::address, host*> by_address;
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::int64_t> latencies;
  std::int64_t default_latency = 0;
  std::uint64_t next_id = 1;
  std::map<std::uint64_t, io_state*> objects;     // every live socket and acceptor, by creation
  std::map<std::uint64_t, socket_state*> sockets;  // open sockets by id: where packets go
  std::map<std::pair<std::uint32_t, std::uint16_t>, acceptor_state*> listeners;
  std::map<std::pair<std::uint32_t, std::uint16_t>, int> ports;  // (host, port) -> users
  // Scripted faults: per direction (from, to), and refuse/blackhole per (host, port; 0 = every port).
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::unique_ptr<link_faults>> links;
  enum class block : std::uint8_t { refuse, blackhole };
  std::map<std::pair<std::uint32_t, std::uint16_t>, block> blocks;

  static std::uint32_t index(const host& h) noexcept { return h.index_; }

  host* find(std::string_view name) const {
    for (const auto& h : hosts)
      if (h->name() == name) return h.get();
    return nullptr;
  }
  host& get(std::string_view name, const char* caller) const {
    if (host* h = find(name)) return *h;
    std::string known;
    for (const auto& h : hosts) known += (known.empty() ? "" : ", ") + h->name();
    throw std::invalid_argument(std::string("faultline: ") + caller + ": no host named \"" + std::string(name) +
                                "\"; the network has " + known + " (add it with network::add_host)");
  }

  /// The host that answers at `a` for a packet sent from `from`.
  host* host_for(const asio::ip::address& a, host& from) const {
    if (is_loopback(a) || a.is_unspecified()) return &from;
    auto it = by_address.find(a);
    return it == by_address.end() ? nullptr : it->second;
  }

  std::int64_t latency(const host& from, const host& to) const {
    auto it = latencies.find({from.index_, to.index_});
    return it == latencies.end() ? default_latency : it->second;
  }

  /// "db:5432" for an endpoint seen from `self`.
  std::string name(const tcp_endpoint& ep, host& self) const {
    host* h = host_for(ep.address(), self);
    return (h ? h->name() : ep.address().to_string()) + ":" + std::to_string(ep.port());
  }

  std::uint16_t take_port(host& h, std::uint16_t port) {
    if (port == 0) {
      for (int tries = 0; tries < 16384; ++tries) {
        std::uint16_t p = h.next_port_;
        h.next_port_ = h.next_port_ == 65535 ? 49152 : static_cast<std::uint16_t>(h.next_port_ + 1);
        if (!ports.count({h.index_, p})) {
          port = p;
          break;
        }
      }
      if (port == 0) return 0;
    }
    ++ports[{h.index_, port}];
    return port;
  }
  /// What bind(2) does for sockets and acceptors alike: the address must be one of `h`'s (or
  /// loopback, or unspecified) and the port free; port 0 takes an ephemeral one. Returns the
  /// endpoint now bound, or nothing with `ec` set.
  std::optional<tcp_endpoint> claim(host& h, const tcp_endpoint& ep, error_code& ec) {
    const auto& a = ep.address();
    if (!a.is_unspecified() && !a.is_loopback() &&
        std::find(h.addresses().begin(), h.addresses().end(), a) == h.addresses().end()) {
      ec = boost::system::errc::make_error_code(boost::system::errc::address_not_available);
      return std::nullopt;
    }
    const std::uint16_t port = ep.port() != 0 && ports.count({h.index_, ep.port()}) ? 0 : take_port(h, ep.port());
    if (port == 0) {
      ec = boost::asio::error::address_in_use;
      return std::nullopt;
    }
    return tcp_endpoint(a, port);
  }
  void release_port(host& h, std::uint16_t port) noexcept {
    auto it = ports.find({h.index_, port});
    if (it != ports.end() && --it->second <= 0) ports.erase(it);
  }

  struct packet final : faultline::detail::timer_wait {
    packet() : timer_wait(&on_ready) {}
    net_state* net = nullptr;
    packet_kind kind = packet_kind::data;
    std::uint64_t to = 0;    // socket id (all but syn)
    std::uint64_t from = 0;  // sending socket id
    host* to_host = nullptr;
    host* from_host = nullptr;
    tcp_endpoint src, dst;
    std::string bytes;
    error_code ec;  // refused: what the connect fails with (connection_refused when empty)

    static void on_ready(faultline::detail::ready_op* base, bool invoke) {
      std::unique_ptr<packet> p(static_cast<packet*>(base));
      if (!invoke) return;
      net_state* net = p->net;
      net->arrive(p);
      if (p) net->recycle(std::move(p));
    }
  };

  // Data packets and their byte buffers are reused: a busy connection sends
  // one per write and frees it on arrival, so a round trip allocates neither.
  std::vector<std::unique_ptr<packet>> spare_packets;
  std::vector<std::string> spare_bytes;  // empty, with room (socket_state::take_buffer)
  static constexpr std::size_t max_spare_packets = 64;
  static constexpr std::size_t max_spare_capacity = 4096;  // larger buffers go back to the heap
  std::unique_ptr<packet> new_packet() {
    if (spare_packets.empty()) return std::make_unique<packet>();
    std::unique_ptr<packet> p = std::move(spare_packets.back());
    spare_packets.pop_back();
    return p;
  }
  void recycle(std::unique_ptr<packet> p) noexcept {
    std::string bytes = std::move(p->bytes);
    try {
      if (bytes.capacity() > std::string().capacity() && bytes.capacity() <= max_spare_capacity &&
          spare_bytes.size() < max_spare_packets) {
        bytes.clear();
        spare_bytes.push_back(std::move(bytes));
      }
      if (spare_packets.size() >= max_spare_packets) return;
      // Back to a fresh packet in place: no field of the last trip survives.
      p->~packet();
      new (p.get()) packet();
      spare_packets.push_back(std::move(p));
    } catch (...) {
    }
  }

  /// Sends `p` from `from` to `to` after the link's latency; `order_after`
  /// keeps one direction of a connection in order whatever the latency does.
  /// `extra` is added to the latency (a late SYN or segment, chaos's or a script's).
  void send(std::unique_ptr<packet> p, host& from, host& to, std::int64_t* order_after = nullptr,
            std::int64_t extra = 0) {
    p->net = this;
    p->to_host = &to;
    p->from_host = &from;
    std::int64_t deadline = faultline::detail::saturating_deadline(
        core.now(), faultline::detail::saturating_deadline(latency(from, to), extra));
    if (order_after) {
      deadline = std::max(deadline, *order_after);
      *order_after = deadline;
    }
    p->order = core.journal().total();
    core.schedule(p.release(), deadline);
  }

  void send_to_socket(packet_kind kind, socket_state& from, std::uint64_t to_id, std::string bytes = {},
                      std::int64_t extra = 0) {
    // A chaos hang holds this direction for good: nothing after it arrives but an RST.
    if (from.held_ && kind != packet_kind::rst) return;
    auto p = new_packet();
    p->kind = kind;
    p->from = from.id_;
    p->to = to_id;
    p->src = from.local_;
    p->dst = from.remote_;
    p->bytes = std::move(bytes);
    host* to = host_for(from.remote_.address(), *from.host_);
    if (!to) return;
    send(std::move(p), *from.host_, *to, &from.last_arrival_, extra);
  }

  /// The scripted faults of `from` -> `to`, if any were set.
  link_faults* link_of(const host& from, const host& to) const {
    if (links.empty()) return nullptr;
    auto it = links.find({from.index_, to.index_});
    return it == links.end() ? nullptr : it->second.get();
  }
  link_faults& make_link(host& from, host& to) {
    auto& slot = links[{from.index_, to.index_}];
    if (!slot) slot.reset(new link_faults(from.name(), to.name()));
    return *slot;
  }

  /// Wakes an acceptor whose accept chaos delayed.
  struct wake final : faultline::detail::timer_wait {
    wake() : timer_wait(&on_ready) {}
    net_state* net = nullptr;
    std::uint64_t acceptor = 0;
    static void on_ready(faultline::detail::ready_op* base, bool invoke) {
      std::unique_ptr<wake> w(static_cast<wake*>(base));
      if (!invoke) return;
      auto it = w->net->objects.find(w->acceptor);
      if (it == w->net->objects.end()) return;
      if (auto* a = dynamic_cast<acceptor_state*>(it->second)) a->match();
    }
  };

  void arrive(std::unique_ptr<packet>& owned);
  void arrive_syn(packet& p);

  // Partitions, as (lower index, higher index); segments held across them, in arrival order.
  std::set<std::pair<std::uint32_t, std::uint32_t>> cuts;
  std::vector<std::unique_ptr<packet>> held;
  std::uint32_t subject = 0;  // "network", for partitions and crashes

  static std::pair<std::uint32_t, std::uint32_t> cut_key(const host& a, const host& b) noexcept {
    return std::minmax(a.index_, b.index_);
  }
  void note(const std::string& text) {
    if (!subject) subject = core.journal().add_subject("network");
    core.journal().record(core.now(), event_kind::net, subject, 0, text);
  }

  // Partitions and crashes drawn by chaos (defined under "chaos: partitions and crashes").
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint64_t> cut_generation;  // a drawn heal heals only its cut
  void chaos_before_send(host& from, host* to, std::uint32_t trace_subject);
  void chaos_crash(host& h, std::uint32_t trace_subject);
  void chaos_partition(host& from, host& to, std::uint32_t trace_subject);
  bool reject_exception(const fault& f, const char* what, const char* takes);
  void at(std::int64_t when, std::function<void()> fn);
  void boot(host& h);

  // network::hold: directions (from, to) whose arriving segments wait for release, in arrival order.
  std::set<std::pair<std::uint32_t, std::uint32_t>> holds;
  std::vector<std::unique_ptr<packet>> held_by_hold;
  bool hold_arrival(std::unique_ptr<packet>& owned);

  // link_faults::slow_close and bandwidth.
  std::int64_t fin_delay(const socket_state& s) const;
  std::int64_t transmission_delay(link_faults& link, std::size_t n);
  std::int64_t drawn_latency(link_faults& link);  // link_faults::latency
};

// -- io_state -----------------------------------------------------------------

io_state::io_state(faultline::detail::sim_core& core, net::host& h)
    : host_(&h), net_(&network::of(core.context()).state()) {
  subject_ = core.journal().add_subject(h.name());
  core.link(*this);
}

io_state::~io_state() {
  if (faultline::detail::sim_core* c = core()) c->unlink(*this);
}

faultline::detail::sim_core& io_state::live(const char* caller) const {
  faultline::detail::sim_core* c = core();
  if (!c || !net_) faultline::detail::throw_sim_gone(caller);
  return *c;
}

void io_state::finish(net_op* op, error_code ec, std::size_t n) noexcept {
  // While a sim is torn down nothing may run or be queued: the handler is
  // dropped, as a sim drops every handler it still holds.
  faultline::detail::sim_core* c = core();
  if (!c || c->shutting_down() || !net_) {
    op->destroy();
    return;
  }
  op->complete(ec, n);
}

void io_state::record(std::string_view text) noexcept {
  faultline::detail::sim_core* c = core();
  if (!c) return;
  try {
    c->journal().record(c->now(), event_kind::net, subject_, 0, text);
  } catch (...) {
  }
}

// -- socket_state -------------------------------------------------------------

socket_state::socket_state(faultline::detail::sim_core& core, net::host& h) : io_state(core, h) {
  id_ = net_->next_id++;
  net_->objects[id_] = this;
}

socket_state::~socket_state() {
  error_code ignored;
  close(ignored);
  if (net_) net_->objects.erase(id_);
}

void socket_state::open(const boost::asio::ip::tcp& protocol, error_code& ec) {
  ec = {};
  if (open_) {
    ec = boost::asio::error::already_open;
    return;
  }
  open_ = true;
  v6_ = protocol == boost::asio::ip::tcp::v6();
  bound_ = connecting_ = connected_ = accepted_ = false;
  rd_shutdown_ = wr_shutdown_ = fin_received_ = reset_ = held_ = false;
  sent_ = 0;
  pending_error_ = {};
  local_ = remote_ = tcp_endpoint();
  peer_id_ = 0;
  inbox_.clear();
  head_ = 0;
  if (net_) net_->sockets[id_] = this;
}

void socket_state::close(error_code& ec) {
  ec = {};
  if (!open_) return;
  open_ = false;
  if (net_) {
    record("close");
    if (connected_ && !reset_ && peer_id_) {
      const bool abortive = linger_enabled && linger_seconds == 0;
      const bool unread = inbox_.size() > head_;
      if (abortive || unread)
        net_->send_to_socket(packet_kind::rst, *this, peer_id_);
      else if (!wr_shutdown_)
        net_->send_to_socket(packet_kind::fin, *this, peer_id_, {}, net_->fin_delay(*this));
    }
    if (owns_port_) net_->release_port(*host_, local_.port());
    owns_port_ = false;
    net_->sockets.erase(id_);
    // A later open() is a new socket: packets for this one find nobody.
    net_->objects.erase(id_);
    id_ = net_->next_id++;
    net_->objects[id_] = this;
  }
  connected_ = connecting_ = false;
  inbox_.clear();
  head_ = 0;
  cancel();
}

std::size_t socket_state::cancel() noexcept {
  std::vector<net_op*> ops;
  take_all_ops(ops);
  if (!ops.empty()) record("cancel " + std::to_string(ops.size()) + (ops.size() == 1 ? " operation" : " operations"));
  for (net_op* op : ops) finish(op, boost::asio::error::operation_aborted, 0);
  return ops.size();
}

void socket_state::take_all_ops(std::vector<net_op*>& out) noexcept {
  try {
    if (connect_) {
      out.push_back(std::exchange(connect_, nullptr));
      connecting_ = false;
    }
    if (read_) out.push_back(std::exchange(read_, nullptr));
    for (net_op* w = std::exchange(waits_, nullptr); w;) {
      net_op* next = w->next;
      out.push_back(w);
      w = next;
    }
  } catch (...) {
  }
}

void socket_state::cancel_op(net_op* op) noexcept {
  if (op == connect_) {
    connect_ = nullptr;
    connecting_ = false;
    record("connect cancelled");
  } else if (op == read_) {
    read_ = nullptr;
    record("read cancelled");
  } else {
    net_op** p = &waits_;
    while (*p && *p != op) p = &(*p)->next;
    if (!*p) return;
    *p = op->next;
    record("wait cancelled");
  }
  finish(op, boost::asio::error::operation_aborted, 0);
}

void socket_state::shutdown(int what, error_code& ec) {
  ec = {};
  if (!open_) {
    ec = boost::asio::error::bad_descriptor;
    return;
  }
  if (!connected_) {
    ec = boost::asio::error::not_connected;
    return;
  }
  if (what != boost::asio::socket_base::shutdown_receive && !wr_shutdown_) {
    wr_shutdown_ = true;
    record("shutdown send");
    if (!reset_ && net_) net_->send_to_socket(packet_kind::fin, *this, peer_id_, {}, net_->fin_delay(*this));
  }
  if (what != boost::asio::socket_base::shutdown_send && !rd_shutdown_) {
    rd_shutdown_ = true;
    record("shutdown receive");
    deliver();
    complete_waits(true);
  }
}

void socket_state::bind(const tcp_endpoint& ep, error_code& ec) {
  ec = {};
  if (!open_) {
    ec = boost::asio::error::bad_descriptor;
    return;
  }
  if (bound_ || connected_ || connecting_) {
    ec = boost::asio::error::invalid_argument;
    return;
  }
  auto local = net_->claim(*host_, ep, ec);
  if (!local) return;
  local_ = *local;
  bound_ = true;
  owns_port_ = true;
}

tcp_endpoint socket_state::local_endpoint(error_code& ec) const {
  ec = open_ ? error_code() : error_code(boost::asio::error::bad_descriptor);
  return open_ ? local_ : tcp_endpoint();
}

tcp_endpoint socket_state::remote_endpoint(error_code& ec) const {
  ec = {};
  if (!open_) ec = boost::asio::error::bad_descriptor;
  else if (!connected_) ec = boost::asio::error::not_connected;
  return ec ? tcp_endpoint() : remote_;
}

std::size_t socket_state::available(error_code& ec) const {
  ec = open_ ? error_code() : error_code(boost::asio::error::bad_descriptor);
  return open_ ? inbox_.size() - head_ : 0;
}

void socket_state::option_set(const char* what) noexcept { record(std::string("set ") + what); }

std::string socket_state::take_buffer() noexcept {
  if (!net_ || net_->spare_bytes.empty()) return {};
  std::string b = std::move(net_->spare_bytes.back());
  net_->spare_bytes.pop_back();
  return b;
}

std::string socket_state::describe() const {
  if (!net_) return host_->name();
  const std::string self = host_->name() + ":" + std::to_string(local_.port());
  if (!connected_ && !connecting_) return self;
  return self + (accepted_ ? " <- " : " -> ") + net_->name(remote_, *host_);
}

void socket_state::start_connect(net_op* op, const tcp_endpoint& to) {
  error_code ec;
  if (!open_) open(to.protocol(), ec);
  if (!ec && connected_) ec = boost::asio::error::already_connected;
  if (!ec && connecting_) ec = boost::asio::error::already_started;
  if (!ec && !host_->is_up()) ec = boost::asio::error::network_down;
  host* target = ec ? nullptr : net_->host_for(to.address(), *host_);
  if (!ec && !target) ec = boost::asio::error::host_unreachable;
  if (!ec && !bound_) {
    // The source address: loopback to itself, else the host's first address of the family.
    asio::ip::address src = to.address().is_v6() ? asio::ip::address(asio::ip::address_v6::loopback())
                                                 : asio::ip::address(asio::ip::address_v4::loopback());
    if (!to.address().is_loopback() && !to.address().is_unspecified())
      for (const auto& a : host_->addresses())
        if (a.is_v6() == to.address().is_v6()) {
          src = a;
          break;
        }
    const std::uint16_t port = net_->take_port(*host_, 0);
    if (port == 0) ec = boost::asio::error::address_in_use;
    owns_port_ = port != 0;
    local_ = tcp_endpoint(src, port);
  }
  if (ec) {
    record("connect to " + net_->name(to, *host_) + " failed: " + faultline::detail::error_name(ec));
    return finish(op, ec, 0);
  }
  remote_ = to;
  connecting_ = true;
  connect_ = op;
  op->since = core()->now();
  op->order = core()->journal().total();
  subject_ = core()->journal().add_subject(describe());
  record("connect");
  std::int64_t late = 0;
  if (core()->chaos_active()) {
    net_->chaos_before_send(*host_, target, subject_);
    if (const auto f = chaos_draw(*core(), point("connect"), subject_)) switch (f->kind) {
        case fault_kind::latency:
          late = f->latency.count();
          break;
        case fault_kind::clock:  // draw() never returns one
          break;
        case fault_kind::hang:
          // A dropped SYN: nothing comes back, the connect waits for its canceller.
          record("syn dropped (chaos)");
          return;
        case fault_kind::cancel:
          connect_ = nullptr;
          connecting_ = false;
          record("connect cancelled (chaos)");
          return finish(op, boost::asio::error::operation_aborted, 0);
        case fault_kind::error:
        case fault_kind::exception: {
          // The answer a REJECT gives: back from the target, one round trip after the SYN.
          auto r = std::make_unique<net_state::packet>();
          r->kind = packet_kind::refused;
          r->to = id_;
          r->ec = drawn_code(*f, boost::asio::error::connection_refused);
          return net_->send(std::move(r), *target, *host_, nullptr, net_->latency(*host_, *target));
        }
      }
  }
  auto p = std::make_unique<net_state::packet>();
  p->kind = packet_kind::syn;
  p->from = id_;
  p->src = local_;
  p->dst = to;
  net_->send(std::move(p), *host_, *target, &last_arrival_, late);
}

std::string socket_state::point(const char* what) const {
  host* peer = net_->host_for(remote_.address(), *host_);
  return "net:" + host_->name() + "->" + (peer ? peer->name() : remote_.address().to_string()) + ":" + what;
}

void socket_state::reset_both_ends() noexcept {
  if (net_ && peer_id_ && !reset_) net_->send_to_socket(packet_kind::rst, *this, peer_id_);
  reset_ = true;
  pending_error_ = boost::asio::error::connection_reset;
  inbox_.clear();
  head_ = 0;
  record("reset");
  deliver();
  complete_waits(true);
}

void socket_state::start_read(net_op* op) {
  namespace error = boost::asio::error;
  if (!open_) return finish(op, error::bad_descriptor, 0);
  if (op->capacity == 0) return finish(op, {}, 0);
  if (!connected_ && !reset_ && !fin_received_) return finish(op, error::not_connected, 0);
  read_ = op;
  op->since = core()->now();
  op->order = core()->journal().total();
  deliver();
}

void socket_state::deliver() noexcept {
  if (!read_) return;
  if (pending_error_) {
    net_op* op = std::exchange(read_, nullptr);
    const error_code ec = std::exchange(pending_error_, {});
    record("read failed: " + faultline::detail::error_name(ec));
    finish(op, ec, 0);
  } else if (inbox_.size() > head_) {
    net_op* op = std::exchange(read_, nullptr);
    const std::size_t n = op->fill(inbox_.data() + head_, inbox_.size() - head_);
    head_ += n;
    if (head_ == inbox_.size()) {
      inbox_.clear();
      head_ = 0;
    } else if (head_ > 4096 && head_ > inbox_.size() / 2) {
      inbox_.erase(0, head_);
      head_ = 0;
    }
    record(count_text("read ", n));
    finish(op, {}, n);
  } else if (fin_received_ || reset_ || rd_shutdown_) {
    net_op* op = std::exchange(read_, nullptr);
    record("read: eof");
    finish(op, boost::asio::error::eof, 0);
  }
}

void socket_state::start_wait(net_op* op, int wait_type) {
  if (!open_) return finish(op, boost::asio::error::bad_descriptor, 0);
  op->wait_type = wait_type;
  op->since = core()->now();
  op->order = core()->journal().total();
  op->next = nullptr;
  net_op** p = &waits_;
  while (*p) p = &(*p)->next;
  *p = op;
  complete_waits(true);
}

void socket_state::complete_waits(bool /*readable*/) noexcept {
  const bool readable = inbox_.size() > head_ || fin_received_ || reset_ || rd_shutdown_ || pending_error_;
  const bool writable = connected_ || reset_;
  net_op** p = &waits_;
  while (*p) {
    net_op* op = *p;
    const bool ready = (op->wait_type == boost::asio::socket_base::wait_read && readable) ||
                       (op->wait_type == boost::asio::socket_base::wait_write && writable) ||
                       (op->wait_type == boost::asio::socket_base::wait_error && (reset_ || pending_error_));
    if (ready) {
      *p = op->next;
      finish(op, {}, 0);
    } else {
      p = &op->next;
    }
  }
}

std::size_t socket_state::write(std::string&& bytes, error_code& ec) {
  namespace error = boost::asio::error;
  ec = {};
  if (!open_) ec = error::bad_descriptor;
  else if (pending_error_) ec = std::exchange(pending_error_, {});
  else if (reset_ || wr_shutdown_) ec = error::broken_pipe;
  else if (!connected_) ec = error::not_connected;
  if (ec) {
    record("write failed: " + faultline::detail::error_name(ec));
    return 0;
  }
  std::size_t n = bytes.size();
  if (n == 0) return 0;
  if (held_) {
    record("write " + bytes_text(n) + " held (chaos hang)");
    sent_ += n;
    return n;
  }
  link_faults* link = nullptr;
  if (!net_->links.empty()) {
    host* peer = net_->host_for(remote_.address(), *host_);
    link = peer ? net_->link_of(*host_, *peer) : nullptr;
  }
  bool reset_after_send = false;
  if (link && link->reset_limit()) {
    const std::uint64_t limit = *link->reset_limit();
    if (sent_ >= limit) {
      record("write failed: reset after " + bytes_text(limit) + " (link_faults::reset_after)");
      reset_both_ends();
      pending_error_ = {};
      ec = error::connection_reset;
      return 0;
    }
    if (n > limit - sent_) {
      n = static_cast<std::size_t>(limit - sent_);
      bytes.resize(n);
      reset_after_send = true;
    }
  }
  // Where the write is cut into segments (none: one segment), and how far apart they arrive.
  std::size_t piece = link && link->segment_size() ? link->segment_size() : n;
  std::int64_t gap = link ? link->segment_gap().count() : 0;
  std::int64_t late = 0;
  if (core()->chaos_active()) {
    net_->chaos_before_send(*host_, net_->host_for(remote_.address(), *host_), subject_);
    if (const auto f = chaos_draw(*core(), point("data"), subject_)) switch (f->kind) {
        case fault_kind::latency:
          late = faultline::detail::saturating_deadline(late, f->latency.count());
          break;
        case fault_kind::clock:  // draw() never returns one
          break;
        case fault_kind::hang:
          // Held until the connection closes: these bytes, later ones and the FIN never arrive.
          held_ = true;
          record("write " + bytes_text(n) + " held (chaos hang)");
          sent_ += n;
          return n;
        case fault_kind::cancel:
          record("write cancelled (chaos)");
          ec = error::operation_aborted;
          return 0;
        case fault_kind::error:
        case fault_kind::exception:
          record("write failed: reset (chaos)");
          reset_both_ends();
          pending_error_ = {};
          ec = drawn_code(*f, error::connection_reset);
          return 0;
      }
    // A drawn split: the write arrives as two segments, the second late by a latency fault's amount.
    if (const auto f = chaos_draw(*core(), point("segment"), subject_); f && n >= 2) {
      piece = n - n / 2;
      gap = f->kind == fault_kind::latency ? f->latency.count() : 0;
    }
  }
  if (link && link->bandwidth_limit())
    late = faultline::detail::saturating_deadline(late, net_->transmission_delay(*link, n));
  if (link && link->latency_distribution())
    late = faultline::detail::saturating_deadline(late, net_->drawn_latency(*link));
  record(count_text("write ", n));
  sent_ += n;
  if (piece >= n) {
    net_->send_to_socket(packet_kind::data, *this, peer_id_, std::move(bytes), late);
  } else {
    for (std::size_t at = 0; at < n; at += piece, late = faultline::detail::saturating_deadline(late, gap))
      net_->send_to_socket(packet_kind::data, *this, peer_id_, bytes.substr(at, std::min(piece, n - at)), late);
  }
  if (reset_after_send) {
    record("reset after " + bytes_text(sent_) + " (link_faults::reset_after)");
    reset_both_ends();
  }
  return n;
}

void socket_state::vanish(std::vector<net_op*>& ops) noexcept {
  if (open_ && net_) {
    record("gone (host crashed)");
    if (owns_port_) net_->release_port(*host_, local_.port());
    net_->sockets.erase(id_);
    net_->objects.erase(id_);
    id_ = net_->next_id++;
    net_->objects[id_] = this;
  }
  open_ = owns_port_ = connected_ = connecting_ = false;
  inbox_.clear();
  head_ = 0;
  take_all_ops(ops);
}

void socket_state::on_sim_shutdown() noexcept {
  // Destroying a handler may destroy the coroutine that owns this socket:
  // collect first, touch nothing after.
  std::vector<net_op*> ops;
  take_all_ops(ops);
  net_ = nullptr;
  for (net_op* op : ops) op->destroy();
}

void socket_state::describe_pending(std::vector<pending_operation>& out) const {
  const auto since = [](const net_op* op) { return sim_clock::time_point(sim_clock::duration(op->since)); };
  if (connect_) out.push_back({"connect on " + describe(), "net connect", since(connect_), "", connect_->order});
  if (read_) out.push_back({"read on " + describe(), "net read", since(read_), "", read_->order});
  for (const net_op* w = waits_; w; w = w->next) {
    const char* what = w->wait_type == boost::asio::socket_base::wait_read    ? "wait (read) on "
                       : w->wait_type == boost::asio::socket_base::wait_write ? "wait (write) on "
                                                                               : "wait (error) on ";
    out.push_back({what + describe(), "net wait", since(w), "", w->order});
  }
}

// -- acceptor_state -------------------------------------------------------------

acceptor_state::acceptor_state(faultline::detail::sim_core& core, net::host& h) : io_state(core, h) {
  id_ = net_->next_id++;
  net_->objects[id_] = this;
}

acceptor_state::~acceptor_state() {
  error_code ignored;
  close(ignored);
  if (net_) net_->objects.erase(id_);
}

void acceptor_state::open(const boost::asio::ip::tcp& protocol, error_code& ec) {
  ec = {};
  if (open_) {
    ec = boost::asio::error::already_open;
    return;
  }
  open_ = true;
  v6_ = protocol == boost::asio::ip::tcp::v6();
  bound_ = listening_ = false;
  local_ = tcp_endpoint();
}

void acceptor_state::bind(const tcp_endpoint& ep, error_code& ec) {
  ec = {};
  if (!open_) {
    ec = boost::asio::error::bad_descriptor;
    return;
  }
  if (bound_) {
    ec = boost::asio::error::invalid_argument;
    return;
  }
  auto local = net_->claim(*host_, ep, ec);
  if (!local) return;
  local_ = *local;
  bound_ = true;
}

void acceptor_state::listen(int backlog, error_code& ec) {
  ec = {};
  if (!open_) {
    ec = boost::asio::error::bad_descriptor;
    return;
  }
  if (!bound_) {
    bind(tcp_endpoint(v6_ ? boost::asio::ip::tcp::v6() : boost::asio::ip::tcp::v4(), 0), ec);
    if (ec) return;
  }
  // Linux clamps to somaxconn (4096) and a negative backlog to 0.
  backlog_ = std::clamp(backlog, 0, 4096);
  listening_ = true;
  net_->listeners[{net_state::index(*host_), local_.port()}] = this;
  subject_ = core()->journal().add_subject(host_->name() + ":" + std::to_string(local_.port()));
  record("listen " + local_.address().to_string() + ":" + std::to_string(local_.port()) + " backlog " +
         std::to_string(backlog_));
}

void acceptor_state::close(error_code& ec) {
  ec = {};
  if (!open_) return;
  open_ = false;
  std::vector<std::unique_ptr<socket_state>> unaccepted = std::move(ready_);
  ready_.clear();
  if (net_) {
    record("close");
    if (listening_) net_->listeners.erase({net_state::index(*host_), local_.port()});
    if (bound_) net_->release_port(*host_, local_.port());
    // Connections nobody accepted are reset, as the kernel does.
    for (auto& s : unaccepted) s->linger_enabled = true, s->linger_seconds = 0;
  }
  listening_ = bound_ = false;
  unaccepted.clear();
  cancel();
}

std::size_t acceptor_state::cancel() noexcept {
  std::vector<net_op*> ops;
  take_all_ops(ops);
  if (!ops.empty()) record("cancel " + std::to_string(ops.size()) + (ops.size() == 1 ? " accept" : " accepts"));
  for (net_op* op : ops) finish(op, boost::asio::error::operation_aborted, 0);
  return ops.size();
}

void acceptor_state::take_all_ops(std::vector<net_op*>& out) noexcept {
  try {
    for (net_op* a = std::exchange(accepts_, nullptr); a;) {
      net_op* next = a->next;
      out.push_back(a);
      a = next;
    }
  } catch (...) {
  }
}

tcp_endpoint acceptor_state::local_endpoint(error_code& ec) const {
  ec = open_ ? error_code() : error_code(boost::asio::error::bad_descriptor);
  return open_ ? local_ : tcp_endpoint();
}

void acceptor_state::option_set(const char* what) noexcept { record(std::string("set ") + what); }

void acceptor_state::start_accept(net_op* op) {
  namespace error = boost::asio::error;
  if (!open_) return finish(op, error::bad_descriptor, 0);
  if (!listening_) return finish(op, error::invalid_argument, 0);
  if (op->accept_into->is_open()) return finish(op, error::already_open, 0);
  op->since = core()->now();
  op->order = core()->journal().total();
  op->next = nullptr;
  net_op** p = &accepts_;
  while (*p) p = &(*p)->next;
  *p = op;
  match();
}

void acceptor_state::match() noexcept {
  if (!net_) return;
  while (!ready_.empty()) {
    // The first accept chaos neither hangs nor holds back takes the oldest connection.
    const std::int64_t now = core()->now();
    net_op** at = &accepts_;
    while (*at && ((*at)->hung || (*at)->not_before > now)) at = &(*at)->next;
    if (!*at) return;
    if ((*at)->not_before == 0 && core()->chaos_active() && chaos_accept(at)) continue;
    net_op* op = std::exchange(*at, (*at)->next);
    std::unique_ptr<socket_state> conn = std::move(ready_.front());
    ready_.erase(ready_.begin());
    socket_state& into = *op->accept_into;
    // The user's socket takes over the connection and its id (where packets go).
    error_code ignored;
    into.close(ignored);
    net_->objects.erase(into.id_);
    net_->objects.erase(conn->id_);
    net_->sockets.erase(conn->id_);
    into.id_ = conn->id_;
    net_->objects[into.id_] = &into;
    net_->sockets[into.id_] = &into;
    into.host_ = conn->host_;
    into.subject_ = conn->subject_;
    into.open_ = true;
    into.v6_ = conn->v6_;
    into.connected_ = conn->connected_;
    into.accepted_ = true;
    into.fin_received_ = conn->fin_received_;
    into.reset_ = conn->reset_;
    into.held_ = false;
    into.sent_ = 0;
    into.pending_error_ = conn->pending_error_;
    into.local_ = conn->local_;
    into.remote_ = conn->remote_;
    into.peer_id_ = conn->peer_id_;
    into.last_arrival_ = conn->last_arrival_;
    into.inbox_ = std::move(conn->inbox_);
    into.head_ = conn->head_;
    // The husk is gone without a word: it must not send a FIN or free the port.
    conn->open_ = false;
    conn->net_ = nullptr;
    conn.reset();
    record("accept " + net_->name(into.remote_, *into.host_));
    if (core()->chaos_active()) {
      try {
        net_->chaos_crash(*host_, subject_);
      } catch (...) {  // no memory for the point's name: no fault
      }
    }
    finish(op, {}, 0);
  }
}

bool acceptor_state::chaos_accept(net_op** at) noexcept {
  net_op* op = *at;
  std::optional<fault> f;
  try {
    f = chaos_draw(*core(), "net:" + host_->name() + ":" + std::to_string(local_.port()) + ":accept", subject_);
  } catch (...) {
    return false;  // no memory for the point's name: no fault
  }
  if (!f) return false;
  const std::string from = net_->name(ready_.front()->remote_, *host_);
  switch (f->kind) {
    case fault_kind::clock:  // draw() never returns one
      return false;
    case fault_kind::error:
    case fault_kind::exception: {
      // As accept(2) failing with EMFILE does, the connection stays queued for the next accept.
      const error_code ec = drawn_code(*f, boost::asio::error::no_descriptors);
      *at = op->next;
      record("accept failed: " + faultline::detail::error_name(ec) + " (chaos); " + from + " stays in the backlog");
      finish(op, ec, 0);
      return true;
    }
    case fault_kind::cancel:
      *at = op->next;
      record("accept cancelled (chaos)");
      finish(op, boost::asio::error::operation_aborted, 0);
      return true;
    case fault_kind::hang:
      op->hung = true;
      record("accept held (chaos) until cancelled or closed");
      return true;
    case fault_kind::latency: {
      op->not_before = faultline::detail::saturating_deadline(core()->now(), f->latency.count());
      record("accept late by " + to_string(f->latency) + " (chaos)");
      try {
        auto w = std::make_unique<net_state::wake>();
        w->net = net_;
        w->acceptor = id_;
        core()->schedule(w.release(), op->not_before);
      } catch (...) {
        op->not_before = 0;  // no memory for the wake-up: no delay
        return false;
      }
      return true;
    }
  }
  return false;
}

void acceptor_state::cancel_op(net_op* op) noexcept {
  net_op** p = &accepts_;
  while (*p && *p != op) p = &(*p)->next;
  if (!*p) return;
  *p = op->next;
  record("accept cancelled");
  finish(op, boost::asio::error::operation_aborted, 0);
}

void acceptor_state::vanish(std::vector<net_op*>& ops) noexcept {
  if (open_ && net_) {
    record("gone (host crashed)");
    if (listening_) net_->listeners.erase({net_state::index(*host_), local_.port()});
    if (bound_) net_->release_port(*host_, local_.port());
  }
  for (auto& conn : ready_) {
    conn->open_ = false;  // silently: a crashed kernel sends nothing
    conn->net_->sockets.erase(conn->id_);
  }
  ready_.clear();
  open_ = listening_ = bound_ = false;
  take_all_ops(ops);
}

void acceptor_state::on_sim_shutdown() noexcept {
  std::vector<net_op*> ops;
  take_all_ops(ops);
  net_ = nullptr;
  for (net_op* op : ops) op->destroy();
}

void acceptor_state::describe_pending(std::vector<pending_operation>& out) const {
  for (const net_op* a = accepts_; a; a = a->next)
    out.push_back({"accept on " + host_->name() + ":" + std::to_string(local_.port()), "net accept",
                   sim_clock::time_point(sim_clock::duration(a->since)), "", a->order});
}

// -- packets arriving -----------------------------------------------------------

void net_state::arrive(std::unique_ptr<packet>& owned) {
  packet& p = *owned;
  // A crashed host hears nothing; a cut link holds what crosses it until heal.
  if (!p.to_host->up_) return;
  if (p.from_host != p.to_host && cuts.count(cut_key(*p.from_host, *p.to_host))) {
    held.push_back(std::move(owned));
    return;
  }
  if (!holds.empty() && hold_arrival(owned)) return;
  if (p.kind == packet_kind::syn) return arrive_syn(p);
  auto it = sockets.find(p.to);
  socket_state* s = it == sockets.end() ? nullptr : it->second;
  switch (p.kind) {
    case packet_kind::syn_ack:
      if (!s || !s->connecting_) {
        // The connect was given up meanwhile: the client's kernel resets the connection.
        auto rst = std::make_unique<packet>();
        rst->kind = packet_kind::rst;
        rst->to = p.from;
        send(std::move(rst), *p.to_host, *p.from_host);
        return;
      }
      s->connecting_ = false;
      s->connected_ = true;
      s->peer_id_ = p.from;
      s->record("connected");
      s->complete_waits(true);
      s->finish(std::exchange(s->connect_, nullptr), {}, 0);
      return;
    case packet_kind::refused: {
      if (!s || !s->connecting_) return;
      const error_code ec = p.ec ? p.ec : error_code(boost::asio::error::connection_refused);
      s->connecting_ = false;
      s->record("connect failed: " + faultline::detail::error_name(ec));
      s->finish(std::exchange(s->connect_, nullptr), ec, 0);
      return;
    }
    case packet_kind::data:
      if (!s || !s->open_) {
        // Bytes for a closed socket: its kernel answers with an RST.
        if (p.from) {
          auto rst = std::make_unique<packet>();
          rst->kind = packet_kind::rst;
          rst->to = p.from;
          send(std::move(rst), *p.to_host, *p.from_host);
        }
        return;
      }
      if (s->reset_) return;
      s->inbox_.append(p.bytes);
      s->record(count_text("arrived ", p.bytes.size()));
      s->deliver();
      s->complete_waits(true);
      return;
    case packet_kind::fin:
      if (!s || !s->open_ || s->reset_) return;
      s->fin_received_ = true;
      s->record("arrived: fin");
      s->deliver();
      s->complete_waits(true);
      return;
    case packet_kind::rst:
      if (!s || !s->open_ || s->reset_) return;
      s->reset_ = true;
      // After the peer's FIN (CLOSE_WAIT) Linux reports EPIPE, else ECONNRESET.
      s->pending_error_ = s->fin_received_ ? error_code(boost::asio::error::broken_pipe)
                                           : error_code(boost::asio::error::connection_reset);
      s->inbox_.clear();
      s->head_ = 0;
      s->record("arrived: rst");
      s->deliver();
      s->complete_waits(true);
      return;
    case packet_kind::syn:
      return;
  }
}

void net_state::arrive_syn(packet& p) {
  auto cit = sockets.find(p.from);
  socket_state* client = cit == sockets.end() ? nullptr : cit->second;
  host& server_host = *p.to_host;
  host* client_host = client ? client->host_ : nullptr;
  auto lit = listeners.find({server_host.index_, p.dst.port()});
  acceptor_state* acc = lit == listeners.end() ? nullptr : lit->second;
  if (acc && !acc->local_.address().is_unspecified() && acc->local_.address() != p.dst.address() &&
      !(acc->local_.address().is_loopback() && p.dst.address().is_loopback()))
    acc = nullptr;
  if (!client) return;  // the client gave up before the SYN arrived
  bool refused = false;
  if (!blocks.empty()) {
    auto b = blocks.find({server_host.index_, p.dst.port()});
    if (b == blocks.end()) b = blocks.find({server_host.index_, std::uint16_t{0}});
    if (b != blocks.end() && b->second == block::blackhole) {
      note("blackhole " + name(p.dst, server_host) + ": syn from " + name(p.src, server_host) + " dropped");
      return;
    }
    refused = b != blocks.end();
  }
  if (!acc || refused) {
    auto r = std::make_unique<packet>();
    r->kind = packet_kind::refused;
    r->to = p.from;
    send(std::move(r), server_host, *client_host);
    return;
  }
  if (acc->ready_.size() > static_cast<std::size_t>(acc->backlog_)) {
    acc->record("syn from " + name(p.src, server_host) + " dropped: accept queue full (backlog " +
                std::to_string(acc->backlog_) + ")");
    return;
  }
  auto conn = std::make_unique<socket_state>(core, server_host);
  conn->open_ = true;
  conn->v6_ = p.dst.address().is_v6();
  conn->connected_ = true;
  conn->accepted_ = true;
  conn->local_ = p.dst;
  conn->remote_ = p.src;
  conn->peer_id_ = p.from;
  sockets[conn->id_] = conn.get();
  conn->subject_ = core.journal().add_subject(conn->describe());
  conn->record("connection from " + name(p.src, server_host));
  auto ack = std::make_unique<packet>();
  ack->kind = packet_kind::syn_ack;
  ack->to = p.from;
  ack->from = conn->id_;
  send(std::move(ack), server_host, *client_host, &conn->last_arrival_);
  acc->ready_.push_back(std::move(conn));
  acc->match();
}

// -- hold and release -----------------------------------------------------------

bool net_state::hold_arrival(std::unique_ptr<packet>& owned) {
  if (!holds.count({owned->from_host->index_, owned->to_host->index_})) return false;
  held_by_hold.push_back(std::move(owned));
  return true;
}

// -- slow close and bandwidth ------------------------------------------------------

std::int64_t net_state::fin_delay(const socket_state& s) const {
  if (links.empty()) return 0;
  host* peer = host_for(s.remote_.address(), *s.host_);
  const link_faults* link = peer ? link_of(*s.host_, *peer) : nullptr;
  return link ? link->slow_close_.count() : 0;
}

std::int64_t net_state::transmission_delay(link_faults& link, std::size_t n) {
  // The direction sends one write after another: this one starts when the line is free, and its
  // last byte is through n / rate seconds later (rounded up to the nanosecond).
  // long double: exact for the byte counts and rates of a test, and no 128-bit integers (ISO C++).
  const long double ns = std::ceil(static_cast<long double>(n) * 1e9L / static_cast<long double>(*link.bandwidth_));
  const std::int64_t start = std::max(core.now(), link.line_free_);
  const std::int64_t done = faultline::detail::saturating_deadline(
      start, ns >= 9.2e18L ? INT64_MAX : static_cast<std::int64_t>(ns));
  link.line_free_ = done;
  return done - core.now();
}

std::int64_t net_state::drawn_latency(link_faults& link) {
  // Seeded like a chaos point: (sim seed, direction, write index), independent of everything else.
  std::uint64_t h = faultline::detail::splitmix64(core.seed() ^ faultline::detail::splitmix64(link.dist_key_));
  h = faultline::detail::splitmix64(h ^ link.draws_++);
  const std::optional<double> ns = faultline::detail::draw_latency_ns(*link.dist_, h);
  if (!ns) return 0;
  return *ns >= 9.2e18 ? INT64_MAX : static_cast<std::int64_t>(*ns);
}

// -- chaos: partitions and crashes ---------------------------------------------

namespace {
// A deferred network action (a drawn crash, heal or restart), fired by the sim's timer queue.
struct later final : faultline::detail::timer_wait {
  later() : timer_wait(&on_ready) {}
  std::function<void()> fn;
  static void on_ready(faultline::detail::ready_op* base, bool invoke) {
    std::unique_ptr<later> l(static_cast<later*>(base));
    if (invoke) l->fn();
  }
};
}  // namespace

void net_state::at(std::int64_t when, std::function<void()> fn) {
  auto l = std::make_unique<later>();
  l->fn = std::move(fn);
  l->order = core.journal().total();
  core.schedule(l.release(), when);
}

void net_state::boot(host& h) {
  // Over a copy: a boot function may add another.
  const auto boots = h.boots_;
  for (const auto& b : boots) b();
}

bool net_state::reject_exception(const fault& f, const char* what, const char* takes) {
  if (f.kind != fault_kind::exception && f.kind != fault_kind::clock) return false;
  core.stop(std::make_exception_ptr(schedule_error("faultline: the schedule injects " + f.to_string() + ", but " +
                                                   f.point + " is " + what + ", which takes " + takes +
                                                   " only; fix or drop that entry")));
  return true;
}

void net_state::chaos_before_send(host& from, host* to, std::uint32_t trace_subject) {
  chaos_crash(from, trace_subject);
  if (to && to != &from) chaos_partition(from, *to, trace_subject);
}

void net_state::chaos_crash(host& h, std::uint32_t trace_subject) {
  const auto f = chaos_draw(core, "net:" + h.name() + ":crash", trace_subject);
  if (!f || reject_exception(*f, "a host crash point", "error (a reboot), hang, cancel (as error) or latency(d)"))
    return;
  // Down for good (hang), for the drawn time (latency), or rebooted at once (error, cancel).
  const bool for_good = f->kind == fault_kind::hang;
  const std::int64_t down = f->kind == fault_kind::latency ? f->latency.count() : 0;
  // The power goes right after this operation, through the queue: the code that made the call is running now.
  host* hp = &h;
  at(core.now(), [this, hp, for_good, down] {
    if (!hp->up_) return;  // down already: that crash decides when it is back
    net.crash(hp->name());
    if (for_good) return;
    if (down == 0) return net.restart(hp->name());  // a reboot: back in the same event
    const std::uint64_t crash = hp->crashes_;
    at(faultline::detail::saturating_deadline(core.now(), down), [this, hp, crash] {
      if (!hp->up_ && hp->crashes_ == crash) net.restart(hp->name());
    });
  });
}

void net_state::chaos_partition(host& from, host& to, std::uint32_t trace_subject) {
  const auto f = chaos_draw(core, "net:" + from.name() + "->" + to.name() + ":partition", trace_subject);
  if (!f || reject_exception(*f, "a partition point", "hang, error or cancel (a cut for good) or latency(d)")) return;
  const auto key = cut_key(from, to);
  const std::uint64_t generation = ++cut_generation[key];
  if (cuts.insert(key).second) note("partition " + from.name() + " <-> " + to.name());
  if (f->kind != fault_kind::latency) return;
  host* a = &from;
  host* b = &to;
  at(faultline::detail::saturating_deadline(core.now(), f->latency.count()), [this, a, b, key, generation] {
    if (cut_generation[key] == generation) net.heal(a->name(), b->name());
  });
}

}  // namespace detail
}  // namespace faultline::net

namespace faultline::net {

namespace detail {

std::unique_ptr<socket_state> make_socket_state(faultline::detail::sim_core* core, net::host* h, const char* caller) {
  if (!core)
    throw std::invalid_argument(std::string("faultline: ") + caller +
                                ": the executor does not belong to a sim_context; the simulated network runs only on "
                                "a faultline::sim_context (use asio::ip::tcp on an io_context)");
  net::network& n = network::of(core->context());
  if (h && &h->network() != &n)
    throw std::invalid_argument(std::string("faultline: ") + caller + ": host \"" + h->name() +
                                "\" belongs to another sim_context; create the socket from an executor of this sim");
  return std::make_unique<socket_state>(*core, h ? *h : n.localhost());
}

std::unique_ptr<acceptor_state> make_acceptor_state(faultline::detail::sim_core* core, net::host* h,
                                                    const char* caller) {
  if (!core)
    throw std::invalid_argument(std::string("faultline: ") + caller +
                                ": the executor does not belong to a sim_context; the simulated network runs only on "
                                "a faultline::sim_context (use asio::ip::tcp on an io_context)");
  net::network& n = network::of(core->context());
  if (h && &h->network() != &n)
    throw std::invalid_argument(std::string("faultline: ") + caller + ": host \"" + h->name() +
                                "\" belongs to another sim_context; create the acceptor from an executor of this sim");
  return std::make_unique<acceptor_state>(*core, h ? *h : n.localhost());
}

std::vector<tcp_endpoint> resolve(faultline::detail::sim_core* core, net::host* /*h*/, const std::string& host_name,
                                  const std::string& service, error_code& ec) {
  ec = {};
  if (!core)
    throw std::invalid_argument(
        "faultline: net::resolver::async_resolve: the executor does not belong to a sim_context; the simulated "
        "resolver runs only on a faultline::sim_context (use asio::ip::tcp::resolver on an io_context)");
  unsigned port = 0;
  if (!service.empty()) {
    auto [end, err] = std::from_chars(service.data(), service.data() + service.size(), port);
    if (err != std::errc() || end != service.data() + service.size() || port > 65535) {
      ec = boost::asio::error::service_not_found;
      return {};
    }
  }
  const auto p = static_cast<std::uint16_t>(port);
  std::vector<tcp_endpoint> out;
  error_code parse;
  const asio::ip::address numeric = asio::ip::make_address(host_name, parse);
  if (!parse) {
    out.emplace_back(numeric, p);
  } else if (host_name == "localhost") {
    out.emplace_back(asio::ip::address_v4::loopback(), p);
    out.emplace_back(asio::ip::address_v6::loopback(), p);
  } else if (net::host* target = network::of(core->context()).state().find(host_name)) {
    for (const auto& a : target->addresses())
      if (a.is_v4()) out.emplace_back(a, p);
    for (const auto& a : target->addresses())
      if (a.is_v6()) out.emplace_back(a, p);
  } else {
    ec = boost::asio::error::host_not_found;
  }
  return out;
}

void throw_error(const error_code& ec, const char* caller) { throw boost::system::system_error(ec, caller); }

void throw_moved_from(const char* caller) {
  throw std::logic_error(std::string("faultline: ") + caller + ": the object was moved from; use the one it was moved to");
}

}  // namespace detail

// -- link_faults ----------------------------------------------------------------

link_faults& link_faults::reset_after(std::uint64_t n) {
  reset_after_ = n;
  return *this;
}

link_faults& link_faults::segment(std::size_t max_bytes, sim_clock::duration gap) {
  const std::string call = "faultline: link_faults(\"" + from_ + "\" -> \"" + to_ + "\")::segment(" +
                           std::to_string(max_bytes) + ", " + to_string(gap) + "): ";
  if (max_bytes == 0)
    throw std::invalid_argument(call + "a segment holds at least 1 byte; use clear() for whole writes");
  if (gap.count() < 0) throw std::invalid_argument(call + "the gap is negative; use 0 or more");
  segment_ = max_bytes;
  gap_ = gap;
  return *this;
}

link_faults& link_faults::bandwidth(std::uint64_t bytes_per_second) {
  if (bytes_per_second == 0)
    throw std::invalid_argument("faultline: link_faults(\"" + from_ + "\" -> \"" + to_ +
                                "\")::bandwidth(0): a link carries at least 1 byte a second; use clear() for no limit");
  bandwidth_ = bytes_per_second;
  return *this;
}

link_faults& link_faults::slow_close(sim_clock::duration d) {
  if (d.count() < 0)
    throw std::invalid_argument("faultline: link_faults(\"" + from_ + "\" -> \"" + to_ + "\")::slow_close(" +
                                to_string(d) + "): the delay is negative; use 0 or more");
  slow_close_ = d;
  return *this;
}

link_faults& link_faults::latency(const latency_dist& d) {
  faultline::detail::check_latency_dist(d, "faultline: link_faults(\"" + from_ + "\" -> \"" + to_ + "\")::latency: ");
  dist_ = d.kind == latency_dist::shape::none ? nullptr : std::make_shared<const latency_dist>(d);
  draws_ = 0;
  dist_key_ = faultline::detail::fnv1a("link:" + from_ + "->" + to_);
  return *this;
}

link_faults& link_faults::clear() noexcept {
  reset_after_.reset();
  segment_ = 0;
  gap_ = {};
  bandwidth_.reset();
  slow_close_ = {};
  dist_.reset();
  return *this;
}

// -- network --------------------------------------------------------------------

namespace {
sim_context& as_sim(asio::execution_context& ctx) {
  faultline::detail::sim_core* core = faultline::detail::sim_core_of_context(ctx);
  if (!core)
    throw std::invalid_argument(
        "faultline: net::network: the execution context is not a sim_context; the simulated network is a service "
        "of a faultline::sim_context (network::of(sim))");
  return core->context();
}
}  // namespace

network::network(asio::execution_context& ctx) : service(ctx) {
  sim_context& sim = as_sim(ctx);
  state_ = std::make_unique<detail::net_state>(*this, sim);
  host& lo = *state_->hosts.front();
  lo.addresses_ = {};
}

network::~network() = default;

void host::track(spawned_task t) {
  if (on_crash_.size() >= prune_at_) {
    std::erase_if(on_crash_, [](const spawned_task& s) { return s.done(); });
    prune_at_ = std::max(first_prune, 2 * on_crash_.size());
  }
  on_crash_.push_back(std::move(t));
}

host& network::add_host(std::string name, std::vector<std::string> addresses) {
  auto& st = *state_;
  if (name.empty())
    throw std::invalid_argument("faultline: network::add_host: a host needs a name (the resolver answers for it)");
  if (name.find(':') != std::string::npos)
    throw std::invalid_argument("faultline: network::add_host(\"" + name +
                                "\"): a host name cannot contain ':' (traces and chaos points read \"host:port\"); "
                                "use a name without ':' and give addresses as the second argument");
  if (st.find(name))
    throw std::invalid_argument("faultline: network::add_host: a host named \"" + name +
                                "\" exists already; host names are unique");
  const auto n = static_cast<std::uint32_t>(st.hosts.size());
  std::vector<asio::ip::address> parsed;
  if (addresses.empty()) {
    if (n > 65535)
      throw std::invalid_argument("faultline: network::add_host: too many hosts for automatic addresses; give \"" +
                                  name + "\" explicit addresses");
    asio::ip::address_v4::bytes_type v4{10, 0, static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n & 255)};
    asio::ip::address_v6::bytes_type v6{};
    v6[0] = 0xfd;
    v6[14] = static_cast<unsigned char>(n >> 8);
    v6[15] = static_cast<unsigned char>(n & 255);
    parsed = {asio::ip::address_v4(v4), asio::ip::address_v6(v6)};
  } else {
    for (const std::string& text : addresses) {
      boost::system::error_code ec;
      asio::ip::address a = asio::ip::make_address(text, ec);
      if (ec)
        throw std::invalid_argument("faultline: network::add_host(\"" + name + "\"): \"" + text +
                                    "\" is not a numeric IPv4 or IPv6 address (names come from the host's name)");
      if (a.is_loopback() || a.is_unspecified())
        throw std::invalid_argument("faultline: network::add_host(\"" + name + "\"): " + text +
                                    " is a loopback or unspecified address; every host has 127.0.0.1 and ::1 already");
      parsed.push_back(a);
    }
    std::stable_partition(parsed.begin(), parsed.end(), [](const asio::ip::address& a) { return a.is_v4(); });
  }
  for (const auto& a : parsed) {
    auto it = st.by_address.find(a);
    if (it != st.by_address.end())
      throw std::invalid_argument("faultline: network::add_host(\"" + name + "\"): " + a.to_string() +
                                  " belongs to host \"" + it->second->name() + "\" already; addresses are unique");
  }
  auto h = std::unique_ptr<host>(new host(*this, st.sim, std::move(name), n));
  h->addresses_ = std::move(parsed);
  for (const auto& a : h->addresses_) st.by_address[a] = h.get();
  st.hosts.push_back(std::move(h));
  return *st.hosts.back();
}

host& network::get_host(std::string_view name) const { return state_->get(name, "network::get_host"); }

host& network::localhost() const { return *state_->hosts.front(); }

std::vector<host*> network::hosts() const {
  std::vector<host*> out;
  for (const auto& h : state_->hosts) out.push_back(h.get());
  return out;
}

void network::set_latency(std::string_view a, std::string_view b, sim_clock::duration one_way) {
  host& ha = state_->get(a, "network::set_latency");
  host& hb = state_->get(b, "network::set_latency");
  if (one_way.count() < 0)
    throw std::invalid_argument("faultline: network::set_latency(\"" + ha.name() + "\", \"" + hb.name() +
                                "\"): the latency " + to_string(one_way) + " is negative; use 0 or more");
  state_->latencies[{ha.index_, hb.index_}] = one_way.count();
  state_->latencies[{hb.index_, ha.index_}] = one_way.count();
}

void network::set_default_latency(sim_clock::duration one_way) {
  if (one_way.count() < 0)
    throw std::invalid_argument("faultline: network::set_default_latency: the latency " + to_string(one_way) +
                                " is negative; use 0 or more");
  state_->default_latency = one_way.count();
}

sim_clock::duration network::latency(std::string_view from, std::string_view to) const {
  return sim_clock::duration(
      state_->latency(state_->get(from, "network::latency"), state_->get(to, "network::latency")));
}

void network::partition(std::string_view a, std::string_view b) {
  host& ha = state_->get(a, "network::partition");
  host& hb = state_->get(b, "network::partition");
  if (&ha == &hb)
    throw std::invalid_argument("faultline: network::partition(\"" + ha.name() + "\", \"" + hb.name() +
                                "\"): a host cannot be cut from itself; name two hosts (or crash it)");
  ++state_->cut_generation[detail::net_state::cut_key(ha, hb)];  // a scripted cut outlives a drawn heal
  if (state_->cuts.insert(detail::net_state::cut_key(ha, hb)).second)
    state_->note("partition " + ha.name() + " <-> " + hb.name());
}

void network::heal(std::string_view a, std::string_view b) {
  host& ha = state_->get(a, "network::heal");
  host& hb = state_->get(b, "network::heal");
  const auto key = detail::net_state::cut_key(ha, hb);
  if (!state_->cuts.erase(key)) return;
  // Release what was held, in the order it reached the cut.
  std::vector<std::unique_ptr<detail::net_state::packet>> keep, release;
  for (auto& p : state_->held)
    (detail::net_state::cut_key(*p->from_host, *p->to_host) == key ? release : keep).push_back(std::move(p));
  state_->held = std::move(keep);
  state_->note("heal " + ha.name() + " <-> " + hb.name() + ", " + std::to_string(release.size()) +
               (release.size() == 1 ? " segment released" : " segments released"));
  for (auto& p : release) {
    host& from = *p->from_host;
    host& to = *p->to_host;
    state_->send(std::move(p), from, to);
  }
}

void network::hold(std::string_view from, std::string_view to) {
  host& a = state_->get(from, "network::hold");
  host& b = state_->get(to, "network::hold");
  if (&a == &b)
    throw std::invalid_argument("faultline: network::hold(\"" + a.name() + "\", \"" + b.name() +
                                "\"): a host's connections to itself cross no link; name two hosts");
  if (state_->holds.insert({a.index_, b.index_}).second) state_->note("hold " + a.name() + " -> " + b.name());
}

void network::release(std::string_view from, std::string_view to) {
  host& a = state_->get(from, "network::release");
  host& b = state_->get(to, "network::release");
  if (!state_->holds.erase({a.index_, b.index_})) return;
  std::vector<std::unique_ptr<detail::net_state::packet>> keep, release;
  for (auto& p : state_->held_by_hold)
    (p->from_host == &a && p->to_host == &b ? release : keep).push_back(std::move(p));
  state_->held_by_hold = std::move(keep);
  state_->note("release " + a.name() + " -> " + b.name() + ", " + std::to_string(release.size()) +
               (release.size() == 1 ? " segment" : " segments"));
  // They crossed the link already: they arrive now, in the order they were held.
  for (auto& p : release) {
    p->order = state_->core.journal().total();
    state_->core.schedule(p.release(), state_->core.now());
  }
}

bool network::held(std::string_view from, std::string_view to) const {
  host& a = state_->get(from, "network::held");
  host& b = state_->get(to, "network::held");
  return state_->holds.count({a.index_, b.index_}) > 0;
}

link_faults& network::link(std::string_view from, std::string_view to) {
  return state_->make_link(state_->get(from, "network::link"), state_->get(to, "network::link"));
}

void network::refuse(std::string_view name, std::uint16_t port) {
  host& h = state_->get(name, "network::refuse");
  state_->blocks[{h.index_, port}] = detail::net_state::block::refuse;
  state_->note("refuse connects to " + h.name() + ":" + (port ? std::to_string(port) : std::string("*")));
}

void network::blackhole(std::string_view name, std::uint16_t port) {
  host& h = state_->get(name, "network::blackhole");
  state_->blocks[{h.index_, port}] = detail::net_state::block::blackhole;
  state_->note("blackhole " + h.name() + ":" + (port ? std::to_string(port) : std::string("*")));
}

void network::unblock(std::string_view name, std::uint16_t port) {
  host& h = state_->get(name, "network::unblock");
  auto& blocks = state_->blocks;
  if (port != 0)
    blocks.erase({h.index_, port});
  else
    blocks.erase(blocks.lower_bound({h.index_, std::uint16_t{0}}), blocks.upper_bound({h.index_, std::uint16_t{65535}}));
  state_->note("unblock " + h.name() + ":" + (port ? std::to_string(port) : std::string("*")));
}

bool network::partitioned(std::string_view a, std::string_view b) const {
  host& ha = state_->get(a, "network::partitioned");
  host& hb = state_->get(b, "network::partitioned");
  return state_->cuts.count(detail::net_state::cut_key(ha, hb)) > 0;
}

void network::crash(std::string_view name) {
  host& h = state_->get(name, "network::crash");
  if (!h.up_)
    throw std::invalid_argument("faultline: network::crash(\"" + h.name() +
                                "\"): the host is down already; restart it first");
  h.up_ = false;
  ++h.crashes_;
  state_->note("crash " + h.name());
  std::vector<detail::io_state*> on_host;
  for (auto& [id, o] : state_->objects)
    if (o->host_ == &h) on_host.push_back(o);
  std::vector<detail::net_op*> ops;
  for (detail::io_state* o : on_host) {
    if (auto* s = dynamic_cast<detail::socket_state*>(o))
      s->vanish(ops);
    else if (auto* a = dynamic_cast<detail::acceptor_state*>(o))
      a->vanish(ops);
  }
  for (detail::net_op* op : ops) op->complete(asio::error::operation_aborted, 0);
  auto tasks = std::move(h.on_crash_);
  h.on_crash_.clear();
  h.prune_at_ = host::first_prune;
  for (auto& t : tasks) {
    if (t.done()) continue;
    t.cancel();
    // The cancellation reaches its coroutine through the queue, maybe after the task ended: its
    // state must outlive that, even when nobody else holds the task (a boot function's).
    h.cancelled_.push_back(std::move(t.cancel));
  }
}

void network::restart(std::string_view name) {
  host& h = state_->get(name, "network::restart");
  if (h.up_)
    throw std::invalid_argument("faultline: network::restart(\"" + h.name() +
                                "\"): the host is up; crash it first");
  h.up_ = true;
  state_->note("restart " + h.name());
  state_->boot(h);
}

void network::shutdown() {
  // The sim is going away: drop every pending operation's handler without
  // running it. Destroying a handler may destroy the coroutine that owns a
  // socket, so detach everything first, then destroy.
  // Connections nobody accepted are destroyed last, once nothing can send.
  std::vector<detail::net_op*> ops;
  std::vector<std::unique_ptr<detail::socket_state>> unaccepted;
  std::vector<detail::io_state*> objects;
  for (auto& [id, o] : state_->objects) objects.push_back(o);
  for (detail::io_state* o : objects) {
    if (auto* s = dynamic_cast<detail::socket_state*>(o))
      s->take_all_ops(ops);
    else if (auto* a = dynamic_cast<detail::acceptor_state*>(o)) {
      a->take_all_ops(ops);
      for (auto& conn : a->ready_) unaccepted.push_back(std::move(conn));
      a->ready_.clear();
    }
    o->net_ = nullptr;
  }
  state_->objects.clear();
  state_->sockets.clear();
  state_->listeners.clear();
  state_->held.clear();
  state_->held_by_hold.clear();
  for (detail::net_op* op : ops) op->destroy();
  unaccepted.clear();
}

}  // namespace faultline::net
