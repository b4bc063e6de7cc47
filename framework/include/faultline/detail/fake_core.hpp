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
  std::size_t index = 0;  // the call's number in its double's records
};

/// Everything about a double that does not depend on its signature.
///
/// Its calls are trace subjects it names itself (`call_text`), only when the
/// trace is read; the derived destructor calls `retire_subjects`.
class fake_core : public sim_object,
                  public faultline::trace::subject_source,
                  public std::enable_shared_from_this<fake_core> {
 public:
  /// `file`/`line`: where the double was created, for reports about it.
  fake_core(sim_core& core, std::string name, const char* file = nullptr, int line = 0);
  ~fake_core();

  const std::string& name() const noexcept { return name_; }
  /// The sim, or a clear error naming `caller` if it is gone.
  sim_core& live(const char* caller) const;
  /// True when a call whose handler runs on `ctx` can complete: the common
  /// case, the caller runs on this double's sim, costs one comparison.
  bool caller_can_wait(boost::asio::execution_context& ctx) const;
  /// Empty when a call whose handler runs on `ctx` can complete; otherwise
  /// the error that says why not: `ctx` is neither this double's sim nor
  /// Asio's system context (an io_context, another sim), so the call would
  /// wait for a queue nobody runs there.
  std::string wrong_caller(boost::asio::execution_context& ctx) const;

  /// The call `index` as printed: `fetch("/a")`.
  virtual std::string call_text(std::size_t index) const = 0;
  std::string subject_name(std::uint32_t key) const final { return call_text(key); }
  /// The trace subject for call `index` (its start and end share it).
  std::uint32_t add_call_subject(sim_core& core, std::size_t index) {
    return core.journal().add_subject(source_, static_cast<std::uint32_t>(index));
  }

  /// Pins (`fake_pin`) held by calls being started or pending. The handle's
  /// destructor sets `keep_alive` while there are any; the last unpin drops it.
  std::size_t pins = 0;
  std::shared_ptr<fake_core> keep_alive;
  /// Drops one pin; may destroy `f`.
  static void unpin(fake_core* f) noexcept {
    if (--f->pins == 0 && f->keep_alive) auto last = std::move(f->keep_alive);
  }

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

 protected:
  /// The trace names the retained calls now and never asks this double
  /// again; for the derived destructor (call_text is gone after it).
  void retire_subjects() noexcept;

 private:
  faultline::trace* journal_;  // the sim's, while the sim lives
  std::uint32_t source_;
  std::string name_;
  const char* file_;
  int line_;
  pending_call* head_ = nullptr;
  mutable std::vector<std::string> seen_unmet_;
};

/// Keeps a double's state alive for one call, without a shared_ptr's atomic
/// count on every call: the state counts its pins, and only a handle
/// destroyed while some are held turns them into a shared_ptr (`keep_alive`).
class fake_pin {
 public:
  explicit fake_pin(fake_core* f) noexcept : f_(f) { ++f_->pins; }
  fake_pin(const fake_pin& o) noexcept : f_(o.f_) {
    if (f_) ++f_->pins;
  }
  fake_pin(fake_pin&& o) noexcept : f_(o.f_) { o.f_ = nullptr; }
  fake_pin& operator=(const fake_pin&) = delete;
  fake_pin& operator=(fake_pin&&) = delete;
  ~fake_pin() {
    if (f_) fake_core::unpin(f_);
  }
  fake_core* get() const noexcept { return f_; }

 private:
  fake_core* f_;
};

}  // namespace faultline::detail
