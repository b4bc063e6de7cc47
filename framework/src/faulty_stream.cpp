// faultline - faulty_stream's decisions: which fault each operation gets, counters, trace, pending list.
#include <faultline/detail/faulty_stream_state.hpp>
#include <faultline/detail/stream_common.hpp>
#include <faultline/chaos.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/error.hpp>

#include <algorithm>
#include <stdexcept>

namespace faultline::detail {

namespace {

const char* dir_name(stream_direction d) noexcept { return d == stream_direction::read ? "read" : "write"; }

std::string bytes_text(std::uint64_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); }

std::string duration_text(std::int64_t ns) { return to_string(sim_clock::duration(ns)); }

}  // namespace

std::int64_t transfer_time_ns(std::uint64_t n, std::uint64_t rate) noexcept {
  constexpr std::uint64_t giga = 1'000'000'000;
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  if (rate == 0 || n == 0) return 0;
  const std::uint64_t whole = n / rate;
  const std::uint64_t rem = n % rate;
  if (whole >= static_cast<std::uint64_t>(max) / giga) return max;
  std::uint64_t frac;
  if (rem <= std::numeric_limits<std::uint64_t>::max() / giga)
    frac = (rem * giga + rate - 1) / rate;  // exact, rounded up
  else
    frac = static_cast<std::uint64_t>(static_cast<long double>(rem) * giga / static_cast<long double>(rate)) + 1;
  return static_cast<std::int64_t>(whole * giga + frac);
}

faulty_stream_state::faulty_stream_state(sim_core* core) : on_sim_(core != nullptr) {
  if (!core) return;
  name_ = next_stream_name(*core, "faulty_stream");
  subject_ = core->journal().add_subject(name_);
  core->link(*this);
}

faulty_stream_state::~faulty_stream_state() {
  if (sim_core* c = core()) c->unlink(*this);
}

sim_core* faulty_stream_state::live_core(const char* caller) const {
  sim_core* c = core();
  if (on_sim_ && !c) throw_sim_gone(caller);
  return c;
}

void faulty_stream_state::fail_at(std::uint64_t n, boost::system::error_code ec, const char* caller) {
  if (!ec)
    throw std::invalid_argument(std::string("faultline: ") + caller + "(" + std::to_string(n) +
                                ", success): the error to inject is success; pass an error such as "
                                "asio::error::connection_reset");
  fail_at_.emplace_back(n, ec);
}

void faulty_stream_state::fail_at(stream_direction d, std::uint64_t n, boost::system::error_code ec) {
  if (!ec)
    throw std::invalid_argument("faultline: stream_faults::fail_at(" + std::to_string(n) +
                                ", success): the error to inject is success; pass an error such as "
                                "asio::error::connection_reset");
  settings_[index(d)].fail_at.emplace_back(n, ec);
}

void faulty_stream_state::clear() noexcept {
  settings_[0] = {};
  settings_[1] = {};
  fail_at_.clear();
  reset_at_.reset();
  eof_after_.reset();
}

fault_decision faulty_stream_state::scripted(stream_direction d, std::size_t requested) {
  namespace error = boost::asio::error;
  const fault_settings& s = settings_[index(d)];
  fault_decision r;
  r.op = ops_++;
  const std::uint64_t dop = dir_ops_[index(d)]++;
  const std::string at_op = " at op " + std::to_string(r.op);
  const char* dn = dir_name(d);

  auto fail = [&](boost::system::error_code ec, std::string text) {
    r.what = fault_decision::action::fail;
    r.ec = ec;
    record(event_kind::fault, std::move(text));
    return r;
  };

  if (reset_op_)
    return fail(error::connection_reset, std::string(dn) + ": injected connection_reset" + at_op + " (reset since op " +
                                             std::to_string(*reset_op_) + ")");
  if (reset_at_ && r.op >= *reset_at_) {
    reset_op_ = r.op;
    r.close_next_layer = true;
    return fail(error::connection_reset, std::string(dn) + ": injected connection_reset" + at_op);
  }
  for (const auto& [n, ec] : fail_at_)
    if (n == r.op) return fail(ec, std::string(dn) + ": injected " + error_name(ec) + at_op);
  for (const auto& [n, ec] : s.fail_at)
    if (n == dop) return fail(ec, std::string(dn) + ": injected " + error_name(ec) + at_op);
  if (d == stream_direction::read && eof_after_ && bytes_[0] >= *eof_after_)
    return fail(error::eof, std::string(dn) + ": injected eof after " + bytes_text(*eof_after_) + at_op);
  if (s.stall_from && dop >= *s.stall_from) {
    r.what = fault_decision::action::stall;
    record(event_kind::fault, std::string(dn) + ": injected stall" + at_op);
    return r;
  }

  std::size_t limit = s.max_bytes_per_op ? s.max_bytes_per_op : r.limit;
  if (d == stream_direction::read && eof_after_)
    limit = static_cast<std::size_t>(std::min<std::uint64_t>(limit, *eof_after_ - bytes_[0]));
  if (limit < requested) {
    r.limit = limit;
    record(event_kind::fault, std::string(dn) + ": short " + dn + ", " + bytes_text(limit) + " of " +
                                  std::to_string(requested) + at_op);
  }
  if (s.latency_ns > 0) {
    r.delay_ns = s.latency_ns;
    record(event_kind::fault, std::string(dn) + ": injected latency " + duration_text(s.latency_ns) + at_op);
  }
  if (d == stream_direction::write && s.bandwidth) {
    const std::size_t n = std::min(requested, r.limit);
    if (const std::int64_t t = transfer_time_ns(n, s.bandwidth)) {
      r.delay_ns = r.delay_ns > std::numeric_limits<std::int64_t>::max() - t ? std::numeric_limits<std::int64_t>::max()
                                                                              : r.delay_ns + t;
      record(event_kind::fault, std::string(dn) + ": bandwidth " + std::to_string(s.bandwidth) + " B/s holds " +
                                    bytes_text(n) + " for " + duration_text(t) + at_op);
    }
  }
  return r;
}

fault_decision faulty_stream_state::begin(stream_direction d, std::size_t requested) {
  fault_decision r = scripted(d, requested);
  sim_core* c = core();
  if (!c) return r;
  // Chaos decides the operations the test's settings left alone; the stream
  // is one injection point, named as in the trace ("faulty_stream#1").
  if (c->chaos_active() && r.what == fault_decision::action::pass) {
    if (const auto f = c->chaos().draw(name_, subject_)) {
      switch (f->kind) {
        case fault_kind::latency: r.delay_ns += f->latency.count(); break;
        case fault_kind::error:
        case fault_kind::exception:
          r.what = fault_decision::action::fail;
          r.ec = f->error_code ? f->error_code : make_error_code(error::injected_fault);
          break;
        case fault_kind::hang: r.what = fault_decision::action::stall; break;
        case fault_kind::cancel:
          r.what = fault_decision::action::fail;
          r.ec = boost::asio::error::operation_aborted;
          break;
        case fault_kind::clock: break;  // draw() never returns one: wall clocks only
      }
    }
  }
  switch (r.what) {
    case fault_decision::action::fail:
      c->count_fault(r.ec == boost::asio::error::operation_aborted ? fault_kind::cancel : fault_kind::error);
      break;
    case fault_decision::action::stall: c->count_fault(fault_kind::hang); break;
    case fault_decision::action::pass: break;
  }
  if (r.delay_ns > 0) c->count_fault(fault_kind::latency);
  return r;
}

std::int64_t faulty_stream_state::read_throttle(const fault_decision& d, std::size_t n) {
  const fault_settings& s = settings_[index(stream_direction::read)];
  const std::int64_t t = transfer_time_ns(n, s.bandwidth);
  if (t)
    record(event_kind::fault, "read: bandwidth " + std::to_string(s.bandwidth) + " B/s holds " + bytes_text(n) +
                                  " for " + duration_text(t) + " at op " + std::to_string(d.op));
  return t;
}

void faulty_stream_state::end(stream_direction d, std::size_t n, const boost::system::error_code& ec) noexcept {
  bytes_[index(d)] += n;
  try {
    std::string text = std::string(dir_name(d)) + " " + bytes_text(n);
    if (ec) text += ": " + error_name(ec);
    record(event_kind::io, std::move(text));
  } catch (...) {
  }
}

void faulty_stream_state::wait_begins(stream_direction d, const char* kind, std::int64_t until) noexcept {
  waits_[index(d)] = {kind, now(), until};
}

void faulty_stream_state::describe_pending(std::vector<pending_operation>& out) const {
  for (stream_direction d : {stream_direction::read, stream_direction::write}) {
    const wait_record& w = waits_[index(d)];
    if (!w.kind) continue;
    out.push_back({name_ + " " + dir_name(d), std::string(w.kind) + " stream " + dir_name(d),
                   sim_clock::time_point(sim_clock::duration(w.since)),
                   w.until < 0 ? "until cancelled" : "until " + to_string(sim_clock::time_point(sim_clock::duration(w.until)))});
  }
}

std::int64_t faulty_stream_state::now() const noexcept {
  sim_core* c = core();
  return c ? c->now() : 0;
}

void faulty_stream_state::record(event_kind kind, std::string text) noexcept {
  sim_core* c = core();
  if (!c) return;
  try {
    c->journal().record(c->now(), kind, subject_, 0, std::move(text));
  } catch (...) {
  }
}

}  // namespace faultline::detail
