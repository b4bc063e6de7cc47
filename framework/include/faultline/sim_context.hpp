// faultline - the simulated execution context: Asio code runs unchanged on a virtual clock.
#pragma once

#include <faultline/detail/sim_core.hpp>
#include <faultline/error.hpp>
#include <faultline/outcome.hpp>
#include <faultline/sim_clock.hpp>
#include <faultline/trace.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/recycling_allocator.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace faultline {

namespace asio = boost::asio;

/// How a perturbed sim (`sim_options::perturb`) orders the handlers ready at
/// one instant.
enum class perturbation : std::uint8_t {
  /// Each next handler is drawn uniformly from those ready.
  shuffle,
  /// PCT (Burckhardt et al., "A Randomized Scheduler with Probabilistic
  /// Guarantees of Finding Bugs", ASPLOS 2010): every handler has a priority
  /// and the highest ready one runs. A handler queued while another runs (a
  /// coroutine's next step, what it posts) inherits that one's priority, so
  /// one logical thread runs ahead of the others; anything else (a timer
  /// firing) gets a fresh priority drawn from the seed. At `pct_depth - 1`
  /// change points, drawn from the seed among the first `pct_steps` choices,
  /// the handler chosen drops below every other priority and yields.
  pct,
};

/// Guards and sizes of a sim. The defaults suit unit tests; a chaos sweep or a
/// soak test may raise them.
struct sim_options {
  /// Handlers that may run at one virtual instant before the sim reports a
  /// livelock (something posting work to itself forever).
  std::uint64_t step_limit = std::uint64_t{1} << 22;
  /// Auto-advance (`run()`) never moves the clock past this virtual instant; an
  /// endless retry loop ends with `horizon_error` instead of spinning.
  sim_clock::duration horizon = std::chrono::hours(24);
  /// How many trace events are kept for reading (`total()` and `hash()` cover all).
  std::size_t trace_capacity = 2048;
  /// Seeds every random decision made in this sim (failpoint probabilities,
  /// chaos plans): the same seed gives the same run.
  std::uint64_t seed = 0;
  /// Schedule perturbation: handlers ready at the same virtual instant run in
  /// an order drawn from `seed` instead of FIFO, to find ordering bugs. The
  /// same seed gives the same order.
  bool perturb = false;
  /// The order `perturb` draws: a uniform shuffle (the default) or PCT.
  perturbation perturb_mode = perturbation::shuffle;
  /// PCT's bug depth d: the run has d - 1 priority change points. At least 1.
  std::uint32_t pct_depth = 3;
  /// PCT's change points fall among the first `pct_steps` choices (pops with
  /// two or more handlers ready). At least 1.
  std::uint64_t pct_steps = 1000;
  /// Zero-length timer waits (a `steady_timer` wait or a sleep whose deadline
  /// is not after the instant it starts) that may start at one virtual instant
  /// before the run fails with `livelock_error` naming the timer and the task
  /// waiting on it: a loop whose sleep rounds to 0 ns never lets time move.
  /// The count starts over whenever the clock moves. 0 turns the check off
  /// (the step limit still ends a loop that never stops).
  std::uint64_t zero_wait_limit = 1024;
  /// Every timer wait (`steady_timer::async_wait`, `sleep_for`, `sleep_until`)
  /// lasts at least this long: its deadline is `max(expiry, start + min_wait)`,
  /// as real timers never complete in zero time. Off (0) by default, because
  /// it moves every zero or shorter wait later, so instants a test asserts
  /// change. `expiry()` still reports what the code asked for; parked waits
  /// (`time_point::max()`) stay parked; doubles' latencies are not timers.
  sim_clock::duration min_wait{0};
};

template <class T>
class task;

namespace detail {
template <class T>
class task_state;
template <class A>
struct awaitable_value;
template <class T, class E>
struct awaitable_value<asio::awaitable<T, E>> {
  using type = T;
};
/// A callable that returns an asio::awaitable: a coroutine lambda.
template <class F>
concept coroutine_function = requires(F& f) { typename awaitable_value<std::decay_t<decltype(f())>>::type; };
template <coroutine_function F>
using coroutine_result_t = typename awaitable_value<std::decay_t<std::invoke_result_t<F&>>>::type;
}  // namespace detail

/// A simulated execution context: a single-threaded ready queue and a virtual
/// clock, on which ordinary `asio::awaitable` code, `co_spawn`, the awaitable
/// operators, `parallel_group` and `experimental::channel` run unchanged, while
/// every timer (`faultline::steady_timer`) waits in virtual time.
///
/// Driving it:
/// - `run()` runs ready work; when nothing is ready it jumps the clock to the
///   earliest timer and fires it (auto-advance). All ready work runs before
///   the clock moves, and a timer fires with `now()` equal to its deadline.
/// - `run_for(d)`, `run_until(t)`: the same, never passing the bound, and
///   leaving `now()` at the bound.
/// - `advance(d)`: moves the clock by `d`, firing due timers in (deadline,
///   scheduling order) and running what each makes ready.
/// - `poll()`: runs what is ready now; the clock stays.
/// - `run(awaitable)`: spawns it and runs until it ends; returns its `outcome`.
///
/// A run never hangs: when operations are suspended but nothing can make
/// progress it throws `stall_error` naming them; a spinning loop ends in
/// `livelock_error`, an endless timer loop in `horizon_error`.
///
/// Thread safety: a sim belongs to the thread that created it; driving it
/// from another thread, or from inside one of its own handlers, throws.
/// Executors may post to it from any thread.
///
/// **Example**:
/// ```
/// faultline::sim_context sim;
/// auto r = sim.run([]() -> asio::awaitable<int> {
///   co_await faultline::sleep_for(10ms);
///   co_return 42;
/// }());
/// assert(r.value() == 42 && r.completed_at() == faultline::at(10ms));
/// ```
class sim_context : public asio::execution_context {
 public:
  template <unsigned Bits>
  class basic_executor_type;
  /// The default executor: may run a handler inline when already inside the
  /// sim (like `io_context`'s), counts no work.
  using executor_type = basic_executor_type<0>;

  sim_context() : sim_context(sim_options{}) {}
  explicit sim_context(const sim_options& options);
  /// Destroys every suspended coroutine and queued handler without running
  /// any of them; timers and doubles that outlive the sim report "sim is gone".
  ~sim_context();

  executor_type get_executor() noexcept;

  /// Virtual time since the sim's start.
  sim_clock::time_point now() const noexcept { return sim_clock::time_point(sim_clock::duration(core_.now())); }

  /// Huge durations and bounds saturate at the end of time: the clock stops at
  /// `time_point::max() - 1ns`, the last finite instant, so `run_for(hours::max())`
  /// and `advance(nanoseconds::max())` fire every finite timer and never a
  /// parked one (`time_point::max()`). Negative durations and bounds before
  /// `now()` throw `std::invalid_argument`.
  std::size_t run() { return core_.run(); }
  template <class Rep, class Period>
  std::size_t run_for(std::chrono::duration<Rep, Period> d) {
    return run_until_ns(detail::saturating_deadline(core_.now(), to_ns(d, "sim_context::run_for")),
                        "sim_context::run_for");
  }
  std::size_t run_until(sim_clock::time_point t) {
    return run_until_ns(t.time_since_epoch().count(), "sim_context::run_until");
  }
  template <class Rep, class Period>
  std::size_t advance(std::chrono::duration<Rep, Period> d) {
    return core_.advance(to_ns(d, "sim_context::advance"));
  }
  std::size_t poll() { return core_.poll(); }

  /// Spawns `a` as a task named "main" and runs until it ends, auto-advancing
  /// the clock. Other tasks still suspended then stay suspended (call `run()`
  /// to finish them). Throws `stall_error` if `a` can never end.
  template <class T>
  outcome<T> run(asio::awaitable<T> a);
  /// The same for a coroutine function, which is kept alive until it ends:
  /// `sim.run([&]() -> asio::awaitable<int> { ... })`.
  template <detail::coroutine_function F>
  outcome<detail::coroutine_result_t<F>> run(F f);

  /// Starts `a` as a named task. The name appears in `pending()`, in stall
  /// reports and in the trace. The returned handle reads the task's outcome;
  /// a task that fails and whose outcome nobody reads is listed by
  /// `unobserved_failures()`. Call it on the sim's thread (the test body, or
  /// one of the sim's handlers); from another thread it throws
  /// `std::logic_error` (post to the sim's executor instead).
  template <class T>
  task<T> spawn(std::string name, asio::awaitable<T> a);
  /// The same for a coroutine function, kept alive (with its captures) for
  /// as long as the task runs. Prefer it for lambdas that capture: in
  /// `spawn("x", [&]() -> asio::awaitable<void> {...}())` the lambda object
  /// is destroyed at the end of the statement, before its coroutine reads
  /// the captures (as with asio::co_spawn, which takes the function too).
  template <detail::coroutine_function F>
  task<detail::coroutine_result_t<F>> spawn(std::string name, F f);

  /// What is suspended now, in the order it started: named tasks, timer waits
  /// (parked ones too), and what later layers register.
  std::vector<pending_operation> pending() const { return core_.pending(); }

  /// Tasks that ended with an exception (not cancellation) whose outcome
  /// nobody read: "task fetch threw std::runtime_error: x at t=1.000s".
  std::vector<std::string> unobserved_failures() const { return core_.unobserved_failures(); }

  /// What the test scripted on this sim's doubles but never happened: steps
  /// never used up, holds never reached or released. One line each.
  std::vector<std::string> unmet_expectations() const { return core_.unmet(); }

  faultline::trace& trace() noexcept { return core_.journal(); }
  const faultline::trace& trace() const noexcept { return core_.journal(); }

  /// How many faults of each kind this sim injected so far (scripted steps
  /// of doubles, failpoint actions, stream faults, chaos decisions).
  const fault_counts& faults() const noexcept { return core_.faults(); }

  /// The sim running on the calling thread, or null outside any sim's handler.
  static sim_context* current() noexcept;

  /// Every sim created on the calling thread and still alive, oldest first
  /// (for a test listener that prints their timelines when an assertion
  /// fails). A sim may be destroyed on another thread than its creator; it
  /// leaves this list then too.
  static std::vector<sim_context*> alive_on_this_thread();

  /// For faultline's own layers.
  detail::sim_core& core() noexcept { return core_; }
  static sim_totals& thread_totals() noexcept;

 private:
  sim_context* prev_alive_ = nullptr;  // process-wide list of live sims
  sim_context* next_alive_ = nullptr;
  std::thread::id creator_;

  // Saturates instead of overflowing: duration_cast of hours::max() to
  // nanoseconds is signed overflow.
  template <class Rep, class Period>
  static std::int64_t to_ns(std::chrono::duration<Rep, Period> d, const char* caller) {
    const std::int64_t ns = detail::saturating_ns(d);
    if (ns < 0) throw_negative(caller, ns);
    return ns;
  }
  [[noreturn]] static void throw_negative(const char* caller, std::int64_t ns);
  template <class T>
  task<T> start_task(std::shared_ptr<detail::task_state<T>> state, asio::awaitable<void> body);
  template <class T>
  outcome<T> run_task(task<T> t);
  std::size_t run_until_ns(std::int64_t t, const char* caller) { return core_.run_until(t, caller); }

  detail::sim_core core_;
};

/// The executor of a `sim_context`. `Bits` encode its properties: blocking
/// never (1), outstanding work tracked (2), relationship continuation (4).
/// Converts to `asio::any_io_executor`.
///
/// Thread safety: copies may be used from any thread; `execute` from a thread
/// other than the sim's queues the function for the sim's thread.
template <unsigned Bits>
class sim_context::basic_executor_type {
  static constexpr unsigned never_bit = 1, tracked_bit = 2, continuation_bit = 4;

 public:
  basic_executor_type(const basic_executor_type& other) noexcept : core_(other.core_) {
    if constexpr (Bits & tracked_bit)
      if (core_) core_->work_started();
  }
  basic_executor_type(basic_executor_type&& other) noexcept : core_(other.core_) {
    if constexpr (Bits & tracked_bit) other.core_ = nullptr;
  }
  ~basic_executor_type() {
    if constexpr (Bits & tracked_bit)
      if (core_) core_->work_finished();
  }
  basic_executor_type& operator=(const basic_executor_type& other) noexcept {
    basic_executor_type tmp(other);
    std::swap(core_, tmp.core_);
    return *this;
  }
  basic_executor_type& operator=(basic_executor_type&& other) noexcept {
    std::swap(core_, other.core_);
    return *this;
  }

  sim_context& query(asio::execution::context_t) const noexcept { return core_->context(); }
  static constexpr asio::execution::mapping_t query(asio::execution::mapping_t) noexcept {
    return asio::execution::mapping.thread;
  }
  constexpr asio::execution::blocking_t query(asio::execution::blocking_t) const noexcept {
    if constexpr (Bits & never_bit)
      return asio::execution::blocking.never;
    else
      return asio::execution::blocking.possibly;
  }
  constexpr asio::execution::outstanding_work_t query(asio::execution::outstanding_work_t) const noexcept {
    if constexpr (Bits & tracked_bit)
      return asio::execution::outstanding_work.tracked;
    else
      return asio::execution::outstanding_work.untracked;
  }
  constexpr asio::execution::relationship_t query(asio::execution::relationship_t) const noexcept {
    if constexpr (Bits & continuation_bit)
      return asio::execution::relationship.continuation;
    else
      return asio::execution::relationship.fork;
  }

  basic_executor_type<Bits | never_bit> require(asio::execution::blocking_t::never_t) const {
    return basic_executor_type<Bits | never_bit>(core_);
  }
  basic_executor_type<Bits & ~never_bit> require(asio::execution::blocking_t::possibly_t) const {
    return basic_executor_type<Bits & ~never_bit>(core_);
  }
  basic_executor_type<Bits | tracked_bit> require(asio::execution::outstanding_work_t::tracked_t) const {
    return basic_executor_type<Bits | tracked_bit>(core_);
  }
  basic_executor_type<Bits & ~tracked_bit> require(asio::execution::outstanding_work_t::untracked_t) const {
    return basic_executor_type<Bits & ~tracked_bit>(core_);
  }
  basic_executor_type<Bits | continuation_bit> require(asio::execution::relationship_t::continuation_t) const {
    return basic_executor_type<Bits | continuation_bit>(core_);
  }
  basic_executor_type<Bits & ~continuation_bit> require(asio::execution::relationship_t::fork_t) const {
    return basic_executor_type<Bits & ~continuation_bit>(core_);
  }

  /// Runs `f` inline when the executor may block and the caller is already
  /// inside this sim; otherwise queues it behind everything ready.
  template <class F>
  void execute(F&& f) const {
    if constexpr (!(Bits & never_bit)) {
      if (core_->running_in_this_thread() && !core_->shutting_down()) {
        std::decay_t<F> tmp(std::forward<F>(f));
        std::move(tmp)();
        return;
      }
    }
    core_->post(function_op<std::decay_t<F>>::make(std::forward<F>(f)));
  }

  /// True when called from one of this sim's handlers.
  bool running_in_this_thread() const noexcept { return core_->running_in_this_thread(); }

  /// For faultline's own layers.
  detail::sim_core* core() const noexcept { return core_; }

  friend bool operator==(const basic_executor_type& a, const basic_executor_type& b) noexcept {
    return a.core_ == b.core_;
  }
  friend bool operator!=(const basic_executor_type& a, const basic_executor_type& b) noexcept {
    return a.core_ != b.core_;
  }

 private:
  friend class sim_context;
  template <unsigned>
  friend class basic_executor_type;

  explicit basic_executor_type(detail::sim_core* core) noexcept : core_(core) {
    if constexpr (Bits & tracked_bit)
      if (core_) core_->work_started();
  }

  // A queued function. The block is freed before the function runs, so a
  // handler that posts again reuses it (Asio's recycling allocator).
  template <class F>
  struct function_op final : detail::ready_op {
    template <class G>
    explicit function_op(G&& g) : ready_op(&do_complete), f_(std::forward<G>(g)) {}

    template <class G>
    static function_op* make(G&& g) {
      alloc_type alloc;
      function_op* p = alloc.allocate(1);
      try {
        return ::new (static_cast<void*>(p)) function_op(std::forward<G>(g));
      } catch (...) {
        alloc.deallocate(p, 1);
        throw;
      }
    }

    static void do_complete(detail::ready_op* base, bool invoke) {
      auto* self = static_cast<function_op*>(base);
      F f(std::move(self->f_));
      self->~function_op();
      alloc_type().deallocate(self, 1);
      if (invoke) std::move(f)();
    }

    using alloc_type = asio::recycling_allocator<function_op>;
    F f_;
  };

  detail::sim_core* core_;
};

inline sim_context::executor_type sim_context::get_executor() noexcept { return executor_type(&core_); }

namespace detail {

sim_core* sim_core_of_context(asio::execution_context& ctx) noexcept;

template <class T>
struct is_sim_executor : std::false_type {};
template <unsigned Bits>
struct is_sim_executor<sim_context::basic_executor_type<Bits>> : std::true_type {};

/// The sim behind an executor, or null when it belongs to another context.
/// The common cases (a sim executor, or one inside any_io_executor) need no
/// lookup; strands and other adapters fall back to asking the context.
template <class Executor>
sim_core* sim_core_of(const Executor& ex) noexcept {
  if constexpr (is_sim_executor<Executor>::value) {
    return ex.core();
  } else {
    if constexpr (std::is_same_v<Executor, asio::any_io_executor>) {
      if (auto* p = ex.template target<sim_context::executor_type>()) return p->core();
    }
    return sim_core_of_context(asio::query(ex, asio::execution::context));
  }
}

}  // namespace detail

}  // namespace faultline

#include <faultline/impl/task.hpp>
