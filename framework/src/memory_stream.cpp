// faultline - memory_stream's endpoints: buffering, eof and close, pending reads, trace.
#include <faultline/detail/memory_stream_endpoint.hpp>
#include <faultline/detail/stream_common.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/error.hpp>

#include <stdexcept>
#include <utility>

namespace faultline::detail {

memory_endpoint::memory_endpoint(sim_core* core, std::string name) : name_(std::move(name)), on_sim_(core != nullptr) {
  if (!core) return;
  if (name_.empty()) name_ = next_stream_name(*core, "stream");
  subject_ = core->journal().add_subject(name_);
  core->link(*this);
}

memory_endpoint::~memory_endpoint() {
  close();
  if (sim_core* c = core()) c->unlink(*this);
}

sim_core* memory_endpoint::live_core(const char* caller) const {
  sim_core* c = core();
  if (on_sim_ && !c) throw_sim_gone(caller);
  return c;
}

void memory_endpoint::connect(memory_endpoint& a, memory_endpoint& b) {
  if (&a == &b)
    throw std::logic_error("faultline: memory_stream connect: " + a.name_ +
                           " cannot be connected to itself; create two streams (make_memory_stream_pair)");
  for (memory_endpoint* e : {&a, &b}) {
    if (e->was_connected_ || !e->open_)
      throw std::logic_error("faultline: memory_stream connect: " + e->name_ +
                             (e->open_ ? " is already connected" : " is closed") +
                             "; a memory stream is connected once, like a socket: create a new pair");
  }
  a.peer_ = &b;
  b.peer_ = &a;
  a.was_connected_ = b.was_connected_ = true;
}

void memory_endpoint::close() noexcept {
  if (!open_) return;
  open_ = false;
  record("close");
  inbox_.clear();
  head_ = 0;
  if (memory_endpoint* p = std::exchange(peer_, nullptr)) {
    p->peer_ = nullptr;
    p->peer_gone_ = true;
    p->deliver();
  }
  cancel();
}

std::size_t memory_endpoint::cancel() noexcept {
  memory_read_op* op = std::exchange(pending_, nullptr);
  if (!op) return 0;
  record("read cancelled");
  finish(op, boost::asio::error::operation_aborted, 0);
  return 1;
}

void memory_endpoint::start_read(memory_read_op* op) noexcept {
  namespace error = boost::asio::error;
  if (!open_) {
    record("read failed: bad_descriptor (this end is closed)");
    return finish(op, error::bad_descriptor, 0);
  }
  if (op->capacity == 0) return finish(op, {}, 0);
  if (available() == 0 && !peer_gone_ && !peer_) {
    record("read failed: not_connected");
    return finish(op, error::not_connected, 0);
  }
  pending_ = op;
  since_ = core() ? core()->now() : 0;
  deliver();
}

void memory_endpoint::deliver() noexcept {
  if (!pending_) return;
  if (available() > 0) {
    memory_read_op* op = std::exchange(pending_, nullptr);
    const std::size_t n = op->fill(inbox_.data() + head_, available());
    head_ += n;
    if (head_ == inbox_.size()) {
      inbox_.clear();
      head_ = 0;
    } else if (head_ > 4096 && head_ > inbox_.size() / 2) {
      inbox_.erase(0, head_);
      head_ = 0;
    }
    record("read " + std::to_string(n) + (n == 1 ? " byte" : " bytes"));
    finish(op, {}, n);
  } else if (peer_gone_) {
    memory_read_op* op = std::exchange(pending_, nullptr);
    record("read: eof");
    finish(op, boost::asio::error::eof, 0);
  }
}

boost::system::error_code memory_endpoint::write_error() const noexcept {
  namespace error = boost::asio::error;
  if (!open_) return error::bad_descriptor;
  if (peer_gone_) return error::broken_pipe;
  if (!peer_) return error::not_connected;
  return {};
}

void memory_endpoint::wrote(std::size_t n) {
  record("write " + std::to_string(n) + (n == 1 ? " byte" : " bytes"));
  peer_->deliver();
}

void memory_endpoint::write_failed(const boost::system::error_code& ec) {
  record("write failed: " + error_name(ec));
}

void memory_endpoint::finish(memory_read_op* op, boost::system::error_code ec, std::size_t n) noexcept {
  // While a sim is torn down nothing may run or be queued; the handler is
  // dropped, as a sim drops every handler it still holds.
  sim_core* c = core();
  if (on_sim_ && (!c || c->shutting_down())) {
    op->destroy();
    return;
  }
  op->complete(ec, n);
}

void memory_endpoint::record(std::string text) noexcept {
  sim_core* c = core();
  if (!c) return;
  try {
    c->journal().record(c->now(), event_kind::io, subject_, 0, std::move(text));
  } catch (...) {
  }
}

void memory_endpoint::on_sim_shutdown() noexcept {
  // Destroying the handler may destroy the coroutine that owns this stream
  // (and so this endpoint): touch nothing after it.
  if (memory_read_op* op = std::exchange(pending_, nullptr)) op->destroy();
}

void memory_endpoint::describe_pending(std::vector<pending_operation>& out) const {
  if (pending_)
    out.push_back({name_ + " read", "stream read", sim_clock::time_point(sim_clock::duration(since_)), ""});
}

}  // namespace faultline::detail
