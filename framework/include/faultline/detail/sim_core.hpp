// faultline - the non-template heart of a sim: ready queue, timer queue, clock, registry.
#pragma once

#include <faultline/detail/gmock_default.hpp>  // every faultline user gets it: see there
#include <faultline/detail/timer_queue.hpp>
#include <faultline/error.hpp>
#include <faultline/fault.hpp>
#include <faultline/sim_clock.hpp>
#include <faultline/trace.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/system/error_code.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <ratio>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace faultline {
class sim_context;
struct sim_options;
class failpoint_registry;  // failpoint.hpp: the sim's failpoints
class chaos_engine;        // chaos.hpp: the sim's chaos decisions
}  // namespace faultline

namespace faultline::net {
class host;
}

namespace faultline::detail {

class sim_core;
class task_state_base;

/// `now + d` for `d` in nanoseconds, saturated to `[now, last_instant]`: a
/// non-positive `d` is `now`, one past the end of time is `last_instant`.
constexpr std::int64_t saturating_deadline(std::int64_t now, std::int64_t d) noexcept {
  if (d <= 0) return now;
  return d > last_instant - now ? last_instant : now + d;
}

/// `d` in nanoseconds, saturated to the range of `std::int64_t` instead of
/// overflowing (`hours::max()` is about 2.9e11 times `nanoseconds::max()`).
/// A floating-point NaN counts as zero.
template <class Rep, class Period>
std::int64_t saturating_ns(std::chrono::duration<Rep, Period> d) noexcept {
  constexpr std::int64_t hi = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t lo = std::numeric_limits<std::int64_t>::min();
  // Checked in long double, whose 64-bit mantissa holds every int64 exactly
  // and whose range holds every duration's count times any ratio.
  const long double ns = std::chrono::duration<long double, std::nano>(d).count();
  if (std::isnan(ns)) return 0;
  if (ns >= static_cast<long double>(hi)) return hi;
  if (ns <= static_cast<long double>(lo)) return lo;
  if constexpr (std::is_floating_point_v<Rep>) {
    return static_cast<std::int64_t>(ns);
  } else {
    // In range: the exact integer conversion, unless its intermediate product
    // (count * num) would overflow for an odd ratio such as ratio<1, 3>.
    using ratio = std::ratio_divide<Period, std::nano>;
    const long double product = static_cast<long double>(d.count()) * static_cast<long double>(ratio::num);
    if (product >= static_cast<long double>(hi) || product <= static_cast<long double>(lo))
      return static_cast<std::int64_t>(ns);
    return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  }
}

/// The sim running on this thread, if any. Set only while one of its
/// handlers runs, so "inside a sim" means exactly "called from sim code".
inline thread_local sim_core* tls_current_core = nullptr;

/// Anything that lives on a sim and must hear when the sim goes away
/// (timers, task records, later the doubles). Linked into the core's
/// registry, in creation order, which is also the order `pending()` reports.
class sim_object {
 public:
  sim_object() = default;
  sim_object(const sim_object&) = delete;
  sim_object& operator=(const sim_object&) = delete;

  /// The sim is being destroyed: drop (never invoke) any handler held, and
  /// stop using the core. Called once; `core_` is null afterwards.
  virtual void on_sim_shutdown() noexcept {}
  /// Appends what this object has pending, for stall reports and `pending()`.
  virtual void describe_pending(std::vector<pending_operation>& /*out*/) const {}
  /// True while the object holds an operation that cannot end by itself.
  virtual bool blocks_run() const noexcept { return false; }
  /// Appends what the test scripted but never happened (a double's steps
  /// never used up, holds never released), one line each.
  virtual void describe_unmet(std::vector<std::string>& /*out*/) const {}

  sim_core* core() const noexcept { return core_; }

 protected:
  ~sim_object() = default;

 private:
  friend class sim_core;
  sim_core* core_ = nullptr;
  sim_object* prev_ = nullptr;
  sim_object* next_ = nullptr;
};

/// Per-timer state on a sim: its expiry and the waits it has in the queue.
struct sim_timer_state final : sim_object {
  std::int64_t expiry = 0;
  std::uint32_t id = 0;
  timer_wait* waits = nullptr;  // intrusive list of this timer's pending waits
  std::string name;             // given at construction; empty: its point is "timer#<id>"

  // Its waits are listed from the queue, with their deadlines.
  void on_sim_shutdown() noexcept override { waits = nullptr; }
};

/// Told when the clock is about to pass an instant it asked for
/// (`sim_core::watch_clock`): periodic invariant checks (invariant.cpp).
class clock_watch {
 public:
  /// The clock is at `at`; nothing due at `at` has run yet.
  virtual void clock_due(std::int64_t at) = 0;

 protected:
  ~clock_watch() = default;
};

class sim_core {
 public:
  sim_core(sim_context& ctx, const sim_options& options);
  ~sim_core();
  sim_core(const sim_core&) = delete;
  sim_core& operator=(const sim_core&) = delete;

  sim_context& context() const noexcept { return ctx_; }
  std::uint64_t seed() const noexcept { return seed_; }
  std::int64_t now() const noexcept { return now_; }
  faultline::trace& journal() noexcept { return trace_; }
  const faultline::trace& journal() const noexcept { return trace_; }
  /// The sim's failpoints (failpoint.hpp); never null while the sim lives.
  faultline::failpoint_registry& failpoints() const noexcept { return *failpoints_; }
  /// The sim's chaos engine (chaos.hpp); never null while the sim lives.
  faultline::chaos_engine& chaos() const noexcept { return *chaos_; }
  /// True while the chaos engine wants to see calls: the one thing an
  /// injection point reads when chaos is off.
  bool chaos_active() const noexcept { return chaos_active_; }
  void set_chaos_active(bool on) noexcept { chaos_active_ = on; }

  /// The host a handler bound to `ex` runs on. Set by the first host
  /// executor made on this sim (net/host_executor.hpp); until then the sim
  /// has no hosts, and completions skip the lookup and the current host.
  using host_lookup = net::host* (*)(const boost::asio::any_io_executor& ex) noexcept;
  void set_host_lookup(host_lookup f) noexcept { host_lookup_ = f; }
  bool has_hosts() const noexcept { return host_lookup_ != nullptr; }
  net::host* host_of(const boost::asio::any_io_executor& ex) const noexcept { return host_lookup_(ex); }

  /// Counts an injected fault, for `sim_context::faults()` and the totals.
  void count_fault(fault_kind k) noexcept { faults_.add(k); }
  const fault_counts& faults() const noexcept { return faults_; }

  bool running_in_this_thread() const noexcept { return tls_current_core == this; }
  /// Throws `std::logic_error` naming `caller` when called from a thread
  /// other than the one that created the sim (spawning touches the registry
  /// and the trace, which are not locked).
  void check_owner_thread(const char* caller) const;

  /// Queues `op` to run after everything already ready (FIFO). Safe from any
  /// thread; work from a foreign thread goes through a locked inbox.
  void post(ready_op* op) {
    if (tls_current_core == this) [[likely]]
      push_ready(op);
    else
      post_slow(op);
  }

  // Outstanding work, counted by tracked executors (co_spawn holds some for
  // a coroutine's whole life), so a stall can be told from "all done".
  void work_started() noexcept { work_.fetch_add(1, std::memory_order_relaxed); }
  void work_finished() noexcept { work_.fetch_sub(1, std::memory_order_relaxed); }
  long outstanding_work() const noexcept { return work_.load(std::memory_order_relaxed); }

  // -- timers ------------------------------------------------------------------
  void register_timer(sim_timer_state& t);
  /// Tests only: the number the next timer or sleep takes (masked to 31
  /// bits like every number), to reach the wrap without 2^31 waits.
  void set_next_timer_number_for_test(std::uint32_t n) noexcept { timer_ids_ = n - 1; }
  void unregister_timer(sim_timer_state& t) noexcept;
  // Deadlines already passed are due now: a wait is queued at
  // (max(deadline, now), next sequence number), exactly as if it had been
  // started with expires_after(0), so it fires after every wait already due
  // and the clock never moves back to it. `parked_deadline` stays parked.

  /// Queues `w` as a wait on `t` until `t.expiry`. Returns true when it is
  /// the zero-length wait that reaches `sim_options::zero_wait_limit`: the
  /// caller then names its waiter through `zero_wait_loop` (the handler's
  /// cancellation slot tells which task waits).
  [[nodiscard]] bool start_wait(sim_timer_state& t, timer_wait* w);
  /// Ends `w` early with `operation_aborted`; false if it already fired.
  bool cancel_wait(queued_wait* w);
  /// Ends every pending wait of `t` early; returns how many.
  std::size_t cancel_all(sim_timer_state& t);
  /// Queues `w` as an anonymous sleep until `deadline`: a timer of
  /// its own number in the trace and in `pending()`, without a timer object.
  /// `w` is a `sleep_wait`, or a `timer_wait` of no timer.
  [[nodiscard]] bool start_sleep(queued_wait* w, std::int64_t deadline);
  /// Stops the run (as `stop`) with a `livelock_error` naming the timer of
  /// `w`, which `start_wait`/`start_sleep` just reported as the last straw,
  /// and the task whose coroutine waits through `slot`.
  void zero_wait_loop(const queued_wait* w, const boost::asio::cancellation_slot& slot);
  /// Queues `w`, which belongs to no timer (a double's latency, say),
  /// until `deadline`. Its owner describes it in `pending()`.
  void schedule(timer_wait* w, std::int64_t deadline);
  /// Ends `w` now with `ec` (taking it out of the queue if it is there) by
  /// queueing it; its owner guarantees it is not queued already.
  void complete_now(timer_wait* w, boost::system::error_code ec);

  // -- registry ----------------------------------------------------------------
  void link(sim_object& o) noexcept;
  void unlink(sim_object& o) noexcept;
  std::vector<pending_operation> pending() const;
  std::vector<std::string> unmet() const;

  // Tasks that ended with an exception; kept so that a failure nobody looked
  // at can be reported (asyncio's "exception was never retrieved").
  void record_failure(std::shared_ptr<task_state_base> t);
  std::vector<std::string> unobserved_failures() const;

  // -- driving -----------------------------------------------------------------
  std::size_t run(const bool* stop_flag = nullptr);
  std::size_t run_until(std::int64_t bound, const char* caller);
  std::size_t advance(std::int64_t d);
  std::size_t poll();

  /// Destroys everything queued, pending or held, without invoking it, until
  /// nothing is left (destroying one handler may queue another).
  void drain() noexcept;
  /// Detaches every registered object; they report "sim is gone" afterwards.
  void orphan_objects() noexcept;
  bool shutting_down() const noexcept { return shutting_down_; }
  void begin_shutdown() noexcept { shutting_down_ = true; }

  // -- stopping (invariant.hpp) ----------------------------------------------------
  /// Ends the run at this instant: the handler running finishes, then the
  /// run rethrows `e`, and so does every later run. The first stop wins.
  void stop(std::exception_ptr e) noexcept {
    if (!stop_) stop_ = std::move(e);
  }
  const std::exception_ptr& stopped() const noexcept { return stop_; }
  /// Before the clock moves to or past `at`, sets it to `at` and calls
  /// `w->clock_due(at)` (null `w`: no watch). One watch per sim.
  void watch_clock(clock_watch* w, std::int64_t at) noexcept {
    watch_ = w;
    watch_at_ = w ? at : parked_deadline;
  }

  /// Throws, once per sim, when a plain Asio I/O object (asio::steady_timer,
  /// a socket) was created on this sim and nothing of faultline's own is
  /// pending to explain why the sim is blocked: the Asio object would wait in
  /// real time, or forever.
  void check_real_io(const char* caller);

 private:
  void push_ready(ready_op* op) noexcept {
    op->next_ = nullptr;
    if (tail_)
      tail_->next_ = op;
    else
      head_ = op;
    tail_ = op;
    if (pct_) [[unlikely]]
      pct_push(op);
  }
  ready_op* pop_ready() noexcept {
    if (perturb_ && head_ && (head_->next_ || pct_)) [[unlikely]]
      return pct_ ? pop_pct() : pop_perturbed();
    ready_op* op = head_;
    if (op) {
      head_ = op->next_;
      if (!head_) tail_ = nullptr;
    }
    return op;
  }
  ready_op* pop_perturbed() noexcept;
  // PCT (sim_options::perturb_mode): the priority of each queued op, kept
  // aside so that ready_op stays two words; looked up, never iterated.
  void pct_push(const ready_op* op) noexcept;
  ready_op* pop_pct() noexcept;
  void unlink_ready(ready_op* prev, ready_op* op) noexcept;
  void post_slow(ready_op* op);
  bool take_foreign();
  void enter(const char* caller);
  void set_now(std::int64_t t);
  void run_watch(std::int64_t t);
  std::int64_t due_at(std::int64_t deadline) const noexcept {
    return deadline == parked_deadline || deadline > now_ ? deadline : now_;
  }
  // A timer wait's deadline: due_at, then no sooner than min_wait_ after now.
  std::int64_t timer_due_at(std::int64_t deadline) const noexcept {
    const std::int64_t d = due_at(deadline);
    if (min_wait_ == 0 || d == parked_deadline) [[likely]]
      return d;
    return std::max(d, saturating_deadline(now_, min_wait_));
  }
  // True when a wait due at `deadline`, starting now, is the zero-length wait
  // that reaches the limit.
  // Under chaos: `deadline` made late by the latency drawn at t's point.
  std::int64_t late_deadline(const sim_timer_state& t, std::int64_t deadline);
  bool count_zero_wait(std::int64_t deadline) noexcept {
    return deadline == now_ && ++zero_waits_at_instant_ == zero_wait_limit_;
  }
  void fire_due();
  void run_one(ready_op* op);
  bool blocked() const noexcept;
  [[noreturn]] void throw_stall();
  [[noreturn]] void throw_livelock();
  [[noreturn]] void throw_horizon(std::int64_t next);
  std::uint32_t next_timer_id() noexcept;

  sim_context& ctx_;
  std::int64_t now_ = 0;
  ready_op* head_ = nullptr;
  ready_op* tail_ = nullptr;
  timer_queue timers_;
  std::uint32_t timer_ids_ = 0;
  std::atomic<long> work_{0};
  std::uint64_t steps_at_instant_ = 0;
  std::uint64_t step_limit_;
  std::uint64_t zero_waits_at_instant_ = 0;
  std::uint64_t zero_wait_limit_;
  std::int64_t min_wait_;
  std::uint64_t seed_;
  std::int64_t horizon_;
  bool perturb_ = false;
  bool pct_ = false;
  bool chaos_active_ = false;
  host_lookup host_lookup_ = nullptr;
  std::uint64_t perturb_draws_ = 0;
  std::unordered_map<const ready_op*, std::uint64_t> pct_priority_;
  std::vector<std::uint64_t> pct_change_points_;  // choice numbers, ascending
  std::uint64_t pct_choices_ = 0;
  std::uint64_t pct_current_ = 0;  // priority of the op running; 0 outside handlers
  std::uint64_t pct_depth_ = 0;
  fault_counts faults_;
  sim_object* objects_head_ = nullptr;
  sim_object* objects_tail_ = nullptr;
  bool shutting_down_ = false;
  bool real_io_reported_ = false;
  std::thread::id owner_;
  faultline::trace trace_;
  std::vector<std::shared_ptr<task_state_base>> failed_tasks_;

  std::mutex foreign_mutex_;
  std::atomic<bool> has_foreign_{false};
  ready_op* foreign_head_ = nullptr;
  ready_op* foreign_tail_ = nullptr;

  std::exception_ptr stop_;
  clock_watch* watch_ = nullptr;
  std::int64_t watch_at_ = parked_deadline;

  std::unique_ptr<faultline::chaos_engine> chaos_;
  // Last, so it goes first: it is linked into the registry above.
  std::unique_ptr<faultline::failpoint_registry> failpoints_;
};

}  // namespace faultline::detail
