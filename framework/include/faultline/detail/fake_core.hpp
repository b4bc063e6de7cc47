// faultline - the non-template part of a double: pending calls, trace, teardown.
#pragma once

#include <faultline/detail/sim_core.hpp>
#include <faultline/sim_clock.hpp>

#include <boost/asio/execution_context.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace faultline::detail {

/// A call of a double that has not completed: waiting out its latency (in
/// the sim's heap), hanging until cancelled, or held by the test.
struct pending_call : timer_wait {
  enum class state : std::uint8_t { latency, hanging, held, completing };
  using timer_wait::timer_wait;

  state st = state::completing;
  bool linked = false;
  pending_call* prev_call = nullptr;
  pending_call* next_call = nullptr;
  const std::string* text = nullptr;  // the call as printed: fetch("/a")
};

/// Everything about a double that does not depend on its signature.
class fake_core : public sim_object, public std::enable_shared_from_this<fake_core> {
 public:
  /// `file`/`line`: where the double was created, for reports about it.
  fake_core(sim_core& core, std::string name, const char* file = nullptr, int line = 0);
  ~fake_core();

  const std::string& name() const noexcept { return name_; }
  /// The sim, or a clear error naming `caller` if it is gone.
  sim_core& live(const char* caller) const;
  /// Empty when a call whose handler runs on `ctx` can complete; otherwise
  /// the error that says why not: `ctx` is neither this double's sim nor
  /// Asio's system context (an io_context, another sim), so the call would
  /// wait for a queue nobody runs there.
  std::string wrong_caller(boost::asio::execution_context& ctx) const;

  /// `unmet()`, remembered as seen by the test: a double destroyed with
  /// exactly these lines left is not reported again.
  std::vector<std::string> unmet_seen() const;
  /// Reports (`report_failure`) unmet lines nobody looked at; for the
  /// destructor of the double's handle.
  void report_unmet_at_destruction() const noexcept;

  void add_pending(pending_call* c) noexcept;
  void remove_pending(pending_call* c) noexcept;
  /// Ends `c` now with operation_aborted (per-operation cancellation, or the
  /// double being destroyed). False if it was already completing.
  bool cancel_call(pending_call* c) noexcept;
  /// Cancels every pending call; returns how many.
  std::size_t cancel_all() noexcept;

  void describe_pending(std::vector<pending_operation>& out) const override;
  bool blocks_run() const noexcept override;
  void on_sim_shutdown() noexcept override;
  void describe_unmet(std::vector<std::string>& out) const override;
  /// Steps never used up and holds never released, one line each.
  virtual std::vector<std::string> unmet() const = 0;

 private:
  std::string name_;
  const char* file_;
  int line_;
  pending_call* head_ = nullptr;
  mutable std::vector<std::string> seen_unmet_;
};

}  // namespace faultline::detail
