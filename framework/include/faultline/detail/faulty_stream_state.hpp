// faultline - the non-template half of a faulty_stream: fault settings, decisions, counters, trace.
#pragma once

#include <faultline/detail/sim_core.hpp>

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace faultline::detail {

enum class stream_direction : unsigned char { read = 0, write = 1 };

/// What one direction of a faulty stream injects (see `stream_faults`).
struct fault_settings {
  std::int64_t latency_ns = 0;
  std::uint64_t bandwidth = 0;       // bytes per second; 0: unlimited
  std::size_t max_bytes_per_op = 0;  // 0: unlimited
  std::vector<std::pair<std::uint64_t, boost::system::error_code>> fail_at;
  std::optional<std::uint64_t> stall_from;
};

/// What one operation does, decided when it starts.
struct fault_decision {
  enum class action : unsigned char { pass, fail, stall };
  action what = action::pass;
  boost::system::error_code ec;  // for `fail`
  std::int64_t delay_ns = 0;     // wait before the next layer: latency, plus bandwidth for writes
  std::size_t limit = std::numeric_limits<std::size_t>::max();  // bytes handed to the next layer at most
  std::uint64_t op = 0;          // index among all operations of the stream
  bool close_next_layer = false;  // the connection resets now
};

/// Settings, counters and trace of one faulty stream; a sim object when the
/// next layer lives on a sim (for the trace, `pending()` and "sim is gone").
class faulty_stream_state final : public sim_object {
 public:
  explicit faulty_stream_state(sim_core* core);
  ~faulty_stream_state();

  const std::string& name() const noexcept { return name_; }
  bool on_sim() const noexcept { return on_sim_; }
  /// The live core, null off a sim; throws "sim is gone" if the sim died.
  sim_core* live_core(const char* caller) const;

  fault_settings& settings(stream_direction d) noexcept { return settings_[index(d)]; }
  std::uint64_t ops_started(stream_direction d) const noexcept { return dir_ops_[index(d)]; }
  std::uint64_t ops_started() const noexcept { return ops_; }
  std::uint64_t bytes(stream_direction d) const noexcept { return bytes_[index(d)]; }

  void fail_at(std::uint64_t n, boost::system::error_code ec, const char* caller);
  void fail_at(stream_direction d, std::uint64_t n, boost::system::error_code ec);
  void reset_at(std::uint64_t n) noexcept { reset_at_ = n; }
  void eof_after(std::uint64_t bytes) noexcept { eof_after_ = bytes; }
  /// Back to pass-through; a reset already happened stays.
  void clear() noexcept;

  /// Numbers the next operation of direction `d`, for `requested` bytes, and
  /// decides its faults; records each injected fault in the trace.
  fault_decision begin(stream_direction d, std::size_t requested);
  /// For a read that moved `n` bytes: how long bandwidth holds it (0: not at
  /// all); records the fault.
  std::int64_t read_throttle(const fault_decision& d, std::size_t n);
  /// Counts and records how an operation ended ("read 5 bytes", "read 0 bytes: eof").
  void end(stream_direction d, std::size_t n, const boost::system::error_code& ec) noexcept;

  /// An operation of `d` waits in the stream (stall, latency, bandwidth);
  /// `until` < 0 for a stall. Listed by `describe_pending`.
  void wait_begins(stream_direction d, const char* kind, std::int64_t until) noexcept;
  void wait_ends(stream_direction d) noexcept { waits_[index(d)].kind = nullptr; }

  void describe_pending(std::vector<pending_operation>& out) const override;

 private:
  static std::size_t index(stream_direction d) noexcept { return static_cast<std::size_t>(d); }
  fault_decision scripted(stream_direction d, std::size_t requested);
  std::int64_t now() const noexcept;
  void record(event_kind kind, std::string text) noexcept;

  struct wait_record {
    const char* kind = nullptr;  // null: not waiting
    std::int64_t since = 0;
    std::int64_t until = -1;
  };

  std::string name_;
  std::uint32_t subject_ = 0;
  bool on_sim_ = false;
  fault_settings settings_[2];
  std::vector<std::pair<std::uint64_t, boost::system::error_code>> fail_at_;
  std::optional<std::uint64_t> reset_at_;
  std::optional<std::uint64_t> eof_after_;
  std::optional<std::uint64_t> reset_op_;  // the op at which the connection was reset
  std::uint64_t ops_ = 0;
  std::uint64_t dir_ops_[2] = {0, 0};
  std::uint64_t bytes_[2] = {0, 0};
  wait_record waits_[2];
};

/// Time to move `n` bytes at `bytes_per_second`, rounded up to a nanosecond.
std::int64_t transfer_time_ns(std::uint64_t n, std::uint64_t bytes_per_second) noexcept;

}  // namespace faultline::detail
