// faultline - shared state of a task started with sim_context::spawn.
#pragma once

#include <faultline/detail/sim_core.hpp>
#include <faultline/outcome.hpp>

#include <boost/asio/cancellation_signal.hpp>

#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <string>

namespace faultline::detail {

/// What every task shares regardless of its result type: name, registry
/// entry, trace subject, cancellation signal. Lives as long as the task's
/// handle or its coroutine, whichever is longer.
class task_state_base : public sim_object, public std::enable_shared_from_this<task_state_base> {
 public:
  task_state_base(sim_core& core, std::string name);
  virtual ~task_state_base();

  const std::string& name() const noexcept { return name_; }
  bool done() const noexcept { return done_; }
  const bool* done_flag() const noexcept { return &done_; }
  void mark_observed() noexcept { observed_ = true; }
  bool observed() const noexcept { return observed_; }
  boost::asio::cancellation_signal& signal() noexcept { return signal_; }
  /// Set by the task's coroutine when it starts: the slot its awaits hand
  /// to operations, so the sim can name the task behind a wait.
  void set_thread_slot(boost::asio::cancellation_slot s) noexcept { thread_slot_ = s; }
  bool runs_through(const boost::asio::cancellation_slot& s) const noexcept {
    return s.is_connected() && s == thread_slot_;
  }
  /// "task main threw std::runtime_error: x at t=1.000s"
  virtual std::string describe_failure() const = 0;

  void describe_pending(std::vector<pending_operation>& out) const override;
  void on_sim_shutdown() noexcept override;

  /// Emits cancellation of `type` into the task; checks the sim is alive.
  void cancel(boost::asio::cancellation_type type);
  /// For `sim.run(...)`: the sim ran out of work with nothing pending, yet
  /// the task never finished.
  [[noreturn]] void throw_abandoned() const;

  /// Parks `w` (a coroutine awaiting `task::wait()`) until the task ends; it
  /// then completes with success through the sim's queue. The wait sits in
  /// the heap at "never", so per-operation cancellation ends it with
  /// `operation_aborted` (`sim_core::cancel_wait`), and a wait that can never
  /// end is part of a stall report.
  void add_joiner(timer_wait* w) {
    sim_core* c = core();
    w->order = c->journal().total();
    c->schedule(w, std::numeric_limits<std::int64_t>::max());
    // Linked into joiners_ so that cancel_wait and complete_now unlink it.
    w->timer = &joiners_;
    w->prev_in_timer = nullptr;
    w->next_in_timer = joiners_.waits;
    if (joiners_.waits) joiners_.waits->prev_in_timer = w;
    joiners_.waits = w;
  }

 protected:
  /// Records the end in the trace and registry; `e` is null for a value.
  void finish(const std::exception_ptr& e);
  std::int64_t now() const;
  [[noreturn]] void throw_not_done(const char* caller) const;
  /// Wakes every coroutine awaiting `task::wait()`, oldest first.
  void release_joiners() {
    sim_core* c = core();
    if (!c) return;
    while (timer_wait* w = oldest_joiner()) c->complete_now(w, {});
  }

 private:
  timer_wait* oldest_joiner() const noexcept {
    timer_wait* w = joiners_.waits;
    while (w && w->next_in_timer) w = w->next_in_timer;
    return w;
  }

  std::string name_;
  std::uint32_t subject_ = 0;
  std::int64_t since_ = 0;
  std::uint64_t order_ = 0;
  bool done_ = false;
  bool observed_ = false;
  boost::asio::cancellation_signal signal_;
  boost::asio::cancellation_slot thread_slot_;
  // Never registered with the core (no id, no trace entries): only the list
  // of waits parked by add_joiner.
  sim_timer_state joiners_;
};

template <class T>
class task_state final : public task_state_base {
 public:
  using task_state_base::task_state_base;

  void set_value(T v) { value_.emplace(std::move(v)); }
  void complete(std::exception_ptr e) {
    auto at = sim_clock::time_point(sim_clock::duration(now()));
    if (e || !value_)
      result_.emplace(outcome<T>::threw(e, at));
    else
      result_.emplace(outcome<T>::returned(std::move(*value_), at));
    value_.reset();
    finish(e);
    release_joiners();
  }
  outcome<T>& result(const char* caller) {
    if (!result_) throw_not_done(caller);
    mark_observed();
    return *result_;
  }
  std::string describe_failure() const override {
    return "task " + name() + " " + (result_ ? result_->describe() : std::string("is pending"));
  }

 private:
  std::optional<T> value_;
  std::optional<outcome<T>> result_;
};

template <>
class task_state<void> final : public task_state_base {
 public:
  using task_state_base::task_state_base;

  void complete(std::exception_ptr e) {
    auto at = sim_clock::time_point(sim_clock::duration(now()));
    result_.emplace(e ? outcome<void>::threw(e, at) : outcome<void>::returned(at));
    finish(e);
    release_joiners();
  }
  outcome<void>& result(const char* caller) {
    if (!result_) throw_not_done(caller);
    mark_observed();
    return *result_;
  }
  std::string describe_failure() const override {
    return "task " + name() + " " + (result_ ? result_->describe() : std::string("is pending"));
  }

 private:
  std::optional<outcome<void>> result_;
};

}  // namespace faultline::detail
