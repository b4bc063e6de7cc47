// faultline - the non-template half of a memory_stream: one end's bytes, peer link and pending read.
#pragma once

#include <faultline/detail/sim_core.hpp>

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace faultline::detail {

/// A read waiting on a memory stream end. The template half (handler,
/// buffers, executor) derives from it; the endpoint sees only this.
class memory_read_op {
 public:
  memory_read_op(const memory_read_op&) = delete;
  memory_read_op& operator=(const memory_read_op&) = delete;

  /// Copies as much of [data, data + size) as the buffers hold; returns how much.
  virtual std::size_t fill(const char* data, std::size_t size) = 0;
  /// Hands the result to the handler's executor; never calls it inline.
  /// The op frees itself (also when queueing fails: the handler is then lost).
  virtual void complete(boost::system::error_code ec, std::size_t n) noexcept = 0;
  /// Frees the op without ever calling the handler (its sim is going away).
  virtual void destroy() noexcept = 0;

  /// Total size of the buffers.
  std::size_t capacity = 0;

 protected:
  memory_read_op() = default;
  ~memory_read_op() = default;
};

/// One end of a memory stream pair. Lives on the heap so that the stream
/// object can move while its peer keeps a stable pointer to it.
///
/// Not thread-safe: both ends of a pair are used from one thread at a time.
class memory_endpoint final : public sim_object {
 public:
  /// `core` is null off a sim. An empty `name` gets "stream#N" on a sim.
  memory_endpoint(sim_core* core, std::string name);
  ~memory_endpoint();

  const std::string& name() const noexcept { return name_; }
  /// The live core, null off a sim; throws "sim is gone" if the sim died.
  sim_core* live_core(const char* caller) const;

  /// Links two fresh ends; throws `std::logic_error` if either was ever
  /// connected or both are the same object.
  static void connect(memory_endpoint& a, memory_endpoint& b);

  bool is_open() const noexcept { return open_; }
  std::size_t available() const noexcept { return inbox_.size() - head_; }
  bool read_pending() const noexcept { return pending_ != nullptr; }

  /// Closes this end: its pending read ends with operation_aborted, unread
  /// bytes are dropped, the peer reads eof after what it has buffered and its
  /// writes fail with broken_pipe. Idempotent.
  void close() noexcept;
  /// Ends a pending read with operation_aborted; returns 1 if there was one.
  std::size_t cancel() noexcept;

  /// Takes ownership of `op` and completes it now (data, eof or an error)
  /// or keeps it until data, eof, close or cancellation.
  void start_read(memory_read_op* op) noexcept;

  /// Why a write cannot proceed now, or success.
  boost::system::error_code write_error() const noexcept;
  /// Where a write appends its bytes; only when `write_error()` is success.
  std::string& peer_inbox() noexcept { return peer_->inbox_; }
  /// A write appended `n` bytes to the peer: record it, wake the peer's read.
  void wrote(std::size_t n);
  /// A write failed before moving any byte.
  void write_failed(const boost::system::error_code& ec);

  void on_sim_shutdown() noexcept override;
  void describe_pending(std::vector<pending_operation>& out) const override;
  bool blocks_run() const noexcept override { return pending_ != nullptr; }

 private:
  void deliver() noexcept;
  void finish(memory_read_op* op, boost::system::error_code ec, std::size_t n) noexcept;
  void record(std::string text) noexcept;

  std::string name_;
  std::uint32_t subject_ = 0;
  bool on_sim_ = false;
  bool open_ = true;
  bool was_connected_ = false;
  bool peer_gone_ = false;  // the peer closed or was destroyed: eof after the inbox
  memory_endpoint* peer_ = nullptr;
  std::string inbox_;  // bytes the peer wrote, from head_ on not read yet
  std::size_t head_ = 0;
  memory_read_op* pending_ = nullptr;
  std::int64_t since_ = 0;
};

}  // namespace faultline::detail
