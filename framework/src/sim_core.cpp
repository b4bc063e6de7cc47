// faultline - the sim's scheduler loop, timers and registry.
#include <faultline/detail/sim_core.hpp>
#include <faultline/chaos.hpp>
#include <faultline/detail/mix.hpp>
#include <faultline/detail/task_state.hpp>
#include <faultline/failpoint.hpp>
#include <faultline/sim_context.hpp>

#include <boost/asio/detail/call_stack.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/resolver_service.hpp>
#include <boost/asio/detail/thread_context.hpp>
#include <boost/asio/detail/thread_info_base.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/system_timer.hpp>

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace faultline::detail {
namespace {

constexpr std::int64_t never = parked_deadline;

std::string at(std::int64_t ns) { return to_string(sim_clock::time_point(sim_clock::duration(ns))); }

// Asio recycles the memory of handlers and coroutine frames only on a thread
// it knows runs an execution context (io_context::run registers one). Being
// registered while a sim runs gives the sim the same recycling; the cache is
// per thread, so sims that follow one another on a thread reuse it.
using asio_call_stack = boost::asio::detail::call_stack<boost::asio::detail::thread_context,
                                                        boost::asio::detail::thread_info_base>;
boost::asio::detail::thread_info_base& thread_cache() {
  static thread_local boost::asio::detail::thread_info_base cache;
  return cache;
}
boost::asio::detail::thread_context asio_key;

// Makes this core "the sim running on this thread" for the scope, restoring
// whatever was current before (a sim driven from inside another sim's handler).
class current_scope {
 public:
  explicit current_scope(sim_core* c) noexcept : saved_(tls_current_core), asio_(&asio_key, thread_cache()) {
    tls_current_core = c;
  }
  ~current_scope() { tls_current_core = saved_; }
  current_scope(const current_scope&) = delete;
  current_scope& operator=(const current_scope&) = delete;

 private:
  sim_core* saved_;
  asio_call_stack::context asio_;
};

std::string thread_name(std::thread::id id) {
  std::ostringstream s;
  s << id;
  return s.str();
}

void unlink_from_timer(timer_wait* w) noexcept {
  sim_timer_state* t = w->timer;
  if (!t) return;
  if (w->prev_in_timer)
    w->prev_in_timer->next_in_timer = w->next_in_timer;
  else
    t->waits = w->next_in_timer;
  if (w->next_in_timer) w->next_in_timer->prev_in_timer = w->prev_in_timer;
  w->prev_in_timer = w->next_in_timer = nullptr;
  w->timer = nullptr;
}

// A wait leaving the queue: what it completes with (a sleep only knows
// whether it was cancelled), and, for a timer's, out of the timer's list.
void settle(queued_wait* w, bool aborted) noexcept {
  if (w->is_sleep) [[likely]] {
    static_cast<sleep_wait*>(w)->aborted = aborted;
    return;
  }
  auto* t = static_cast<timer_wait*>(w);
  unlink_from_timer(t);
  if (aborted)
    t->ec = boost::asio::error::operation_aborted;
  else
    t->ec = {};
}

// A real Asio I/O object created on a sim's executor, and what to use
// instead. Asio creates one service per kind of object on first use, so the
// services present say what was created (never whether it has a wait
// pending). The most specific kind wins; a socket's reactor alone is no timer.
struct real_io_use {
  std::string what;  // empty: none
  std::string fix;
};

real_io_use find_real_io(boost::asio::execution_context& ctx) {
  namespace asio = boost::asio;
  if (!asio::has_service<asio::detail::reactor>(ctx) && !asio::has_service<asio::detail::resolver_service<asio::ip::tcp>>(ctx))
    return {};
  using steady_service = asio::detail::deadline_timer_service<
      asio::detail::chrono_time_traits<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>>>;
  using system_service = asio::detail::deadline_timer_service<
      asio::detail::chrono_time_traits<std::chrono::system_clock, asio::wait_traits<std::chrono::system_clock>>>;
  const std::string timer_fix = "Use faultline::steady_timer (same API), which waits in virtual time, or give real I/O an io_context";
  const std::string net_fix =
      "Use faultline::net::tcp::socket, acceptor and resolver (the same API, on the sim's simulated network; "
      "see docs/network.md), or give real I/O an io_context";
  if (asio::has_service<steady_service>(ctx)) return {"a plain asio::steady_timer", timer_fix};
  if (asio::has_service<system_service>(ctx)) return {"a plain asio::system_timer", timer_fix};
  if (asio::has_service<asio::detail::reactive_socket_service<asio::ip::tcp>>(ctx))
    return {"a real asio::ip::tcp socket or acceptor", net_fix};
  if (asio::has_service<asio::detail::resolver_service<asio::ip::tcp>>(ctx))
    return {"a real asio::ip::tcp::resolver", net_fix};
  return {"an Asio I/O object (a socket?)", "Give real I/O an io_context, or put a double or faultline::memory_stream in its place"};
}

}  // namespace

sim_core::sim_core(sim_context& ctx, const sim_options& options)
    : ctx_(ctx),
      step_limit_(options.step_limit),
      zero_wait_limit_(options.zero_wait_limit),
      min_wait_(options.min_wait.count()),
      seed_(options.seed),
      horizon_(options.horizon.count()),
      perturb_(options.perturb),
      pct_(options.perturb && options.perturb_mode == perturbation::pct),
      owner_(std::this_thread::get_id()),
      trace_(options.trace_capacity) {
  if (options.step_limit == 0)
    throw std::invalid_argument("faultline: sim_options::step_limit is 0; it must allow at least one handler per instant");
  if (options.min_wait.count() < 0)
    throw std::invalid_argument("faultline: sim_options::min_wait is " + std::to_string(options.min_wait.count()) + "ns" +
                                "; it must be zero (off) or positive");
  if (options.horizon.count() <= 0)
    throw std::invalid_argument("faultline: sim_options::horizon is " + to_string(options.horizon) +
                                "; it must be positive");
  if (options.pct_depth == 0)
    throw std::invalid_argument("faultline: sim_options::pct_depth is 0; PCT needs a depth of at least 1 (1: no "
                                "change points, only seeded priorities)");
  if (options.pct_steps == 0)
    throw std::invalid_argument("faultline: sim_options::pct_steps is 0; change points need at least 1 choice to "
                                "fall among");
  if (pct_) {
    // d - 1 change points among the first pct_steps choices, drawn from the seed.
    pct_depth_ = options.pct_depth;
    for (std::uint32_t i = 1; i < options.pct_depth; ++i)
      pct_change_points_.push_back(1 + splitmix64(seed_ ^ splitmix64(0x5043'5400'0000'0000ull + i)) % options.pct_steps);
    std::sort(pct_change_points_.begin(), pct_change_points_.end());
  }
  trace_.set_clock(&now_);
  trace_.add_subject("sim");  // subject 0: the sim itself
  // The sim's own failpoints, armed from FAULTLINE_FAILPOINTS (throws
  // failpoint_spec_error when that is malformed).
  chaos_ = std::make_unique<faultline::chaos_engine>(*this);
  failpoints_ = make_failpoint_registry(*this);
}

sim_core::~sim_core() = default;

// -- queue --------------------------------------------------------------------

ready_op* sim_core::pop_perturbed() noexcept {
  // Everything queued is ready at this instant; any order among it is one
  // the program could see. Draw which runs next from (seed, draw number).
  std::size_t n = 0;
  for (ready_op* p = head_; p; p = p->next_) ++n;
  std::size_t k = static_cast<std::size_t>(splitmix64(seed_ ^ splitmix64(++perturb_draws_)) % n);
  ready_op* prev = nullptr;
  ready_op* op = head_;
  while (k-- > 0) {
    prev = op;
    op = op->next_;
  }
  if (prev)
    prev->next_ = op->next_;
  else
    head_ = op->next_;
  if (tail_ == op) tail_ = prev;
  return op;
}

void sim_core::unlink_ready(ready_op* prev, ready_op* op) noexcept {
  if (prev)
    prev->next_ = op->next_;
  else
    head_ = op->next_;
  if (tail_ == op) tail_ = prev;
}

void sim_core::pct_push(const ready_op* op) noexcept {
  // Inside a handler: the same logical thread (a coroutine's next step, what
  // it posts) keeps its priority. Elsewhere (a timer firing): a fresh one,
  // above every change point's (1 .. depth - 1).
  std::uint64_t p = pct_current_;
  if (p == 0) p = pct_depth_ + (splitmix64(seed_ ^ splitmix64(++perturb_draws_)) >> 2);
  try {
    pct_priority_[op] = p;
  } catch (...) {
    // Out of memory for the side table: the op runs at the lowest priority.
  }
}

ready_op* sim_core::pop_pct() noexcept {
  // The highest priority runs; equal ones (one thread's steps) in FIFO order.
  auto priority = [this](const ready_op* op) {
    auto it = pct_priority_.find(op);
    return it == pct_priority_.end() ? std::uint64_t{0} : it->second;
  };
  auto pick = [&](ready_op*& prev_best) {
    ready_op* best = head_;
    std::uint64_t best_p = priority(best);
    prev_best = nullptr;
    for (ready_op *prev = head_, *p = head_->next_; p; prev = p, p = p->next_)
      if (const std::uint64_t q = priority(p); q > best_p) {
        best = p;
        best_p = q;
        prev_best = prev;
      }
    return best;
  };
  ready_op* prev = nullptr;
  ready_op* op = pick(prev);
  if (head_->next_) {
    // A choice: at the i-th change point the chosen op drops to priority
    // d - i, below every fresh one and every earlier change point's, and the
    // highest other runs instead.
    ++pct_choices_;
    std::size_t i = 0;
    while (i < pct_change_points_.size() && pct_change_points_[i] < pct_choices_) ++i;
    if (i < pct_change_points_.size() && pct_change_points_[i] == pct_choices_) {
      pct_priority_[op] = pct_depth_ - 1 - i;
      op = pick(prev);
    }
  }
  unlink_ready(prev, op);
  auto it = pct_priority_.find(op);
  pct_current_ = it == pct_priority_.end() ? 1 : it->second;
  if (it != pct_priority_.end()) pct_priority_.erase(it);
  return op;
}

void sim_core::post_slow(ready_op* op) {
  if (std::this_thread::get_id() == owner_) {
    push_ready(op);
    return;
  }
  std::lock_guard lock(foreign_mutex_);
  op->next_ = nullptr;
  if (foreign_tail_)
    foreign_tail_->next_ = op;
  else
    foreign_head_ = op;
  foreign_tail_ = op;
  has_foreign_.store(true, std::memory_order_release);
}

bool sim_core::take_foreign() {
  if (!has_foreign_.load(std::memory_order_acquire)) return false;
  ready_op* head;
  {
    std::lock_guard lock(foreign_mutex_);
    head = foreign_head_;
    foreign_head_ = foreign_tail_ = nullptr;
    has_foreign_.store(false, std::memory_order_relaxed);
  }
  bool any = head != nullptr;
  while (head) {
    ready_op* next = head->next_;
    push_ready(head);
    head = next;
  }
  return any;
}

// -- timers -------------------------------------------------------------------

// Timer numbers are 31 bits, what a trace subject holds beside trace::timer_bit, and 0 means "its
// owner describes it" (no trace events, not in pending()): the numbering skips 0 when it wraps, so
// a wait started after 2^31 others is still traced and reported.
std::uint32_t sim_core::next_timer_id() noexcept {
  timer_ids_ = (timer_ids_ + 1) & ~trace::timer_bit;
  if (timer_ids_ == 0) timer_ids_ = 1;
  return timer_ids_;
}

void sim_core::register_timer(sim_timer_state& t) {
  t.id = next_timer_id();
  link(t);
}

void sim_core::unregister_timer(sim_timer_state& t) noexcept { unlink(t); }

bool sim_core::start_wait(sim_timer_state& t, timer_wait* w) {
  w->deadline = timer_due_at(t.expiry);
  if (chaos_active_) [[unlikely]]
    w->deadline = late_deadline(t, w->deadline);
  w->since = now_;
  w->order = trace_.total();
  w->timer_id = t.id;
  w->timer = &t;
  w->prev_in_timer = nullptr;
  w->next_in_timer = t.waits;
  if (t.waits) t.waits->prev_in_timer = w;
  t.waits = w;
  trace_.record(now_, event_kind::timer_wait, trace::timer_bit | t.id, w->deadline);
  // An expiry already reached still completes through the queue, never inline.
  timers_.push(w, w->deadline);
  return count_zero_wait(w->deadline);
}

std::int64_t sim_core::late_deadline(const sim_timer_state& t, std::int64_t deadline) {
  if (deadline == never) return deadline;  // a parked wait never fires: late means nothing
  const std::string point = t.name.empty() ? "timer#" + std::to_string(t.id) : t.name;
  // An unnamed timer is a point only where the plan or schedule names it, so
  // plans written before timers were points (whose defaults would apply to
  // every timer) draw exactly what they drew then.
  if (t.name.empty() && !chaos_->names_point(point)) return deadline;
  const auto f = chaos_->draw_timer(point, trace::timer_bit | t.id);
  if (!f) return deadline;
  if (f->kind != fault_kind::latency) {
    stop(std::make_exception_ptr(schedule_error(
        "faultline: the schedule injects " + f->to_string() + ", but " + point +
        " is a timer, which can only fire late: a timer point takes latency(d) only (" + point + "#" +
        std::to_string(f->call) + "=latency(40ms)); fix or drop that entry")));
    return deadline;
  }
  count_fault(fault_kind::latency);
  return saturating_deadline(deadline, f->latency.count());
}

bool sim_core::cancel_wait(queued_wait* w) {
  if (!timer_queue::queued(w)) return false;
  timers_.erase(w);
  settle(w, true);
  if (w->timer_id) trace_.record(now_, event_kind::timer_cancelled, trace::timer_bit | w->timer_id);
  push_ready(w);
  return true;
}

bool sim_core::start_sleep(queued_wait* w, std::int64_t deadline) {
  w->deadline = timer_due_at(deadline);
  w->since = now_;
  w->order = trace_.total();
  w->timer_id = next_timer_id();
  trace_.record(now_, event_kind::timer_wait, trace::timer_bit | w->timer_id, w->deadline);
  timers_.push(w, w->deadline);
  return count_zero_wait(w->deadline);
}

void sim_core::schedule(timer_wait* w, std::int64_t deadline) {
  w->since = now_;
  w->timer_id = 0;  // w->order was set by the owner when the operation began
  w->timer = nullptr;
  timers_.push(w, due_at(deadline));
}

void sim_core::complete_now(timer_wait* w, boost::system::error_code ec) {
  if (timer_queue::queued(w)) timers_.erase(w);
  unlink_from_timer(w);
  w->ec = ec;
  push_ready(w);
}

std::size_t sim_core::cancel_all(sim_timer_state& t) {
  // Asio completes a timer's cancelled waits oldest first; the list keeps the newest first.
  timer_wait* w = t.waits;
  if (!w) return 0;
  while (w->next_in_timer) w = w->next_in_timer;
  std::size_t n = 0;
  while (w) {
    timer_wait* older_first = w->prev_in_timer;
    n += cancel_wait(w) ? 1 : 0;
    w = older_first;
  }
  return n;
}

void sim_core::fire_due() {
  while (queued_wait* w = timers_.pop_due(now_)) {
    settle(w, false);
    if (w->timer_id) trace_.record(now_, event_kind::timer_fired, trace::timer_bit | w->timer_id);
    push_ready(w);
  }
}

// -- registry -----------------------------------------------------------------

void sim_core::link(sim_object& o) noexcept {
  o.core_ = this;
  o.prev_ = objects_tail_;
  o.next_ = nullptr;
  if (objects_tail_)
    objects_tail_->next_ = &o;
  else
    objects_head_ = &o;
  objects_tail_ = &o;
}

void sim_core::unlink(sim_object& o) noexcept {
  if (o.core_ != this) return;
  if (o.prev_)
    o.prev_->next_ = o.next_;
  else
    objects_head_ = o.next_;
  if (o.next_)
    o.next_->prev_ = o.prev_;
  else
    objects_tail_ = o.prev_;
  o.prev_ = o.next_ = nullptr;
  o.core_ = nullptr;
}

std::vector<pending_operation> sim_core::pending() const {
  std::vector<pending_operation> out;
  for (const sim_object* o = objects_head_; o; o = o->next_) o->describe_pending(out);
  for (const queued_wait* w : timers_.waits()) {
    if (!w->timer_id) continue;  // described by its owner
    const bool parked = w->deadline == never;
    out.push_back({"timer#" + std::to_string(w->timer_id), parked ? "parked timer" : "timer",
                   sim_clock::time_point(sim_clock::duration(w->since)),
                   parked ? "until cancelled" : "until " + at(w->deadline), w->order});
  }
  std::stable_sort(out.begin(), out.end(), [](const pending_operation& a, const pending_operation& b) {
    return a.since != b.since ? a.since < b.since : a.order < b.order;
  });
  return out;
}

std::vector<std::string> sim_core::unmet() const {
  std::vector<std::string> out;
  for (const sim_object* o = objects_head_; o; o = o->next_) o->describe_unmet(out);
  return out;
}

void sim_core::record_failure(std::shared_ptr<task_state_base> t) { failed_tasks_.push_back(std::move(t)); }

std::vector<std::string> sim_core::unobserved_failures() const {
  std::vector<std::string> out;
  for (const auto& t : failed_tasks_)
    if (!t->observed()) out.push_back(t->describe_failure());
  return out;
}

bool sim_core::blocked() const noexcept {
  if (work_.load(std::memory_order_relaxed) > 0 || !timers_.empty()) return true;
  for (const sim_object* o = objects_head_; o; o = o->next_)
    if (o->blocks_run()) return true;
  return false;
}

// -- driving ------------------------------------------------------------------

void sim_core::check_owner_thread(const char* caller) const {
  if (std::this_thread::get_id() != owner_)
    throw std::logic_error(std::string("faultline: ") + caller + " called from thread " +
                           thread_name(std::this_thread::get_id()) + ", but the sim belongs to thread " +
                           thread_name(owner_) +
                           " that created it; a sim is single-threaded: spawn and drive it on that thread, or "
                           "post to its executor (asio::post(sim, ...)) from other threads");
}

void sim_core::enter(const char* caller) {
  if (stop_) std::rethrow_exception(stop_);  // a broken invariant ended this sim's run for good
  if (tls_current_core == this)
    throw std::logic_error(std::string("faultline: ") + caller +
                           " called from inside one of this sim's own handlers; a sim cannot run itself: "
                           "co_await the operation instead");
  if (std::this_thread::get_id() != owner_)
    throw std::logic_error(std::string("faultline: ") + caller + " called from thread " +
                           thread_name(std::this_thread::get_id()) + ", but the sim belongs to thread " +
                           thread_name(owner_) +
                           " that created it; a sim is single-threaded: create and drive it on one thread");
}

void sim_core::set_now(std::int64_t t) {
  // Every deadline queued is at least `now_` (due_at) and every bound is
  // checked, so this never fires; it is here so that a bug moving the clock
  // back fails loudly instead of corrupting a test's instants.
  if (t < now_)
    throw std::logic_error("faultline: internal error: the virtual clock would move back from " + at(now_) +
                           " to " + at(t) + "; please report this");
  if (t > last_instant)
    throw std::logic_error("faultline: internal error: the virtual clock would move to " + at(t) +
                           ", the parked instant; please report this");
  if (t != now_) {
    if (t >= watch_at_) [[unlikely]]
      run_watch(t);
    now_ = t;
    steps_at_instant_ = 0;
    zero_waits_at_instant_ = 0;
  }
}

void sim_core::run_watch(std::int64_t t) {
  // Each watched instant is visited on the way to `t`, so a periodic check
  // sees the state every earlier handler left, at its own instant.
  while (watch_ && watch_at_ <= t) {
    const std::int64_t at = watch_at_;
    watch_at_ = parked_deadline;
    now_ = at;
    steps_at_instant_ = 0;
    zero_waits_at_instant_ = 0;
    watch_->clock_due(at);
    if (stop_) std::rethrow_exception(stop_);
  }
}

void sim_core::run_one(ready_op* op) {
  if (++steps_at_instant_ > step_limit_) {
    push_ready(op);  // keep it for the report and for destruction
    throw_livelock();
  }
  op->invoke();
  if (pct_) [[unlikely]]
    pct_current_ = 0;  // what is queued from now on (timers firing) is no one's continuation
  if (stop_) [[unlikely]]
    std::rethrow_exception(stop_);
}

std::size_t sim_core::run(const bool* stop) {
  enter("sim_context::run");
  current_scope scope(this);
  std::size_t n = 0;
  for (;;) {
    if (stop && *stop) return n;
    if (ready_op* op = pop_ready()) {
      run_one(op);
      ++n;
      continue;
    }
    if (take_foreign()) continue;
    if (const std::int64_t next = timers_.next_deadline(); next != never) {
      // Only moving the clock past the horizon is a runaway; a wait due now
      // (a bounded run may have gone past the horizon) is not.
      if (next > now_ && next > horizon_) throw_horizon(next);
      set_now(next);
      fire_due();
      continue;
    }
    if (blocked()) {
      check_real_io("sim_context::run");
      throw_stall();
    }
    return n;
  }
}

std::size_t sim_core::run_until(std::int64_t bound, const char* caller) {
  enter(caller);
  if (bound < now_)
    throw std::invalid_argument(std::string("faultline: ") + caller + ": the bound " + at(bound) +
                                " is before now (" + at(now_) + "); virtual time only moves forward");
  // The end of time (time_point::max()) is where parked waits live: a bound
  // there runs every finite timer and stops one nanosecond short of it.
  if (bound > last_instant) bound = last_instant;
  current_scope scope(this);
  std::size_t n = 0;
  for (;;) {
    if (ready_op* op = pop_ready()) {
      run_one(op);
      ++n;
      continue;
    }
    if (take_foreign()) continue;
    if (const std::int64_t next = timers_.next_deadline(); next <= bound) {
      set_now(next);
      fire_due();
      continue;
    }
    break;
  }
  set_now(bound);
  if (blocked()) check_real_io(caller);
  return n;
}

std::size_t sim_core::advance(std::int64_t d) {
  return run_until(saturating_deadline(now_, d), "sim_context::advance");
}

std::size_t sim_core::poll() {
  // Running until "now" is exactly a poll: ready work and due timers, no clock movement.
  return run_until(now_, "sim_context::poll");
}

// -- reports ------------------------------------------------------------------

namespace {

std::string list_pending(const std::vector<pending_operation>& ops, long work) {
  std::string s;
  for (const auto& op : ops) {
    s += "\n  ";
    s += op.describe();
  }
  if (ops.empty() && work > 0) {
    s += "\n  " + std::to_string(work) + (work == 1 ? " unit" : " units") +
         " of outstanding work that faultline cannot name: a coroutine started with co_spawn waits for "
         "something that never completes (a channel nobody writes to?); start it with "
         "sim.spawn(name, ...) to see its name here";
  }
  return s;
}

std::string tail(const trace& t) {
  std::string s = t.timeline(10);
  return s.empty() ? std::string() : "\nlast events:\n" + s;
}

}  // namespace

void sim_core::throw_stall() {
  auto ops = pending();
  const long work = outstanding_work();
  // Units of outstanding work are not operations: one co_spawn coroutine
  // holds two (Asio's spawn and handler work guards), an Asio operation it
  // awaits may hold more. All faultline knows then is that at least one
  // coroutine is suspended, so that is what it counts.
  const std::size_t count = ops.empty() ? 1 : ops.size();
  std::string summary = ops.empty() ? std::string("at least 1 pending coroutine that faultline cannot name")
                                    : std::to_string(count) + (count == 1 ? " pending operation" : " pending operations");
  trace_.record(now_, event_kind::stalled, 0, static_cast<std::int64_t>(count), summary);
  std::string msg = "faultline: sim stalled at " + at(now_) + " with " + summary +
                    ": nothing is ready and no timer will fire, so they can never complete" +
                    list_pending(ops, work) + tail(trace_);
  if (!real_io_reported_) {
    const real_io_use io = find_real_io(static_cast<boost::asio::execution_context&>(ctx_));
    if (!io.what.empty())
      msg += "\n(" + io.what + " was also created on this sim: if a coroutine awaits it, it waits in real time and "
             "can never complete on a sim. " + io.fix + ")";
  }
  throw stall_error(msg, sim_clock::time_point(sim_clock::duration(now_)), std::move(ops));
}

void sim_core::throw_livelock() {
  trace_.record(now_, event_kind::livelock, 0, static_cast<std::int64_t>(step_limit_));
  auto ops = pending();
  std::string msg = "faultline: livelock at " + at(now_) + ": " + std::to_string(step_limit_) +
                    " handlers ran without virtual time advancing; something keeps posting work to itself "
                    "(a busy-wait?). Raise sim_options::step_limit if this much work at one instant is intended" +
                    list_pending(ops, outstanding_work()) + tail(trace_);
  throw livelock_error(msg, sim_clock::time_point(sim_clock::duration(now_)), std::move(ops));
}

void sim_core::zero_wait_loop(const queued_wait* w, const boost::asio::cancellation_slot& slot) {
  // The coroutine waiting is the task whose coroutine's cancellation state
  // hands out `slot` (task_state_base::runs_through); a coroutine started
  // with plain co_spawn, or one that reset its cancellation state, has none.
  std::string waiter;
  for (const sim_object* o = objects_head_; o && waiter.empty(); o = o->next_)
    if (const auto* t = dynamic_cast<const task_state_base*>(o); t && t->runs_through(slot))
      waiter = "task " + t->name();
  if (waiter.empty()) waiter = "a coroutine faultline cannot name (start it with sim.spawn(name, ...) to see its name)";
  const std::string number = "timer#" + std::to_string(w->timer_id);
  const sim_timer_state* owner = w->is_sleep ? nullptr : static_cast<const timer_wait*>(w)->timer;
  const std::string timer = !owner               ? number + " (a sleep_for/sleep_until)"
                            : owner->name.empty() ? number
                                                  : owner->name + " (" + number + ")";
  trace_.record(now_, event_kind::livelock, trace::timer_bit | w->timer_id,
                static_cast<std::int64_t>(zero_wait_limit_));
  std::string msg = "faultline: zero-length wait loop at " + at(now_) + ": " + std::to_string(zero_wait_limit_) +
                    " timer waits of zero length started at this instant, so virtual time can never move; the "
                    "last was on " + timer + ", awaited by " + waiter +
                    ". A sleep or expiry that rounds to 0 ns (a duration computed in double?) retried forever does "
                    "this: give the wait a positive duration, or set sim_options::min_wait so that every timer "
                    "wait lasts at least that long; raise sim_options::zero_wait_limit if this many zero-length "
                    "waits at one instant are intended" +
                    list_pending(pending(), outstanding_work()) + tail(trace_);
  stop(std::make_exception_ptr(livelock_error(msg, sim_clock::time_point(sim_clock::duration(now_)), pending())));
}

void sim_core::throw_horizon(std::int64_t next) {
  trace_.record(now_, event_kind::horizon, 0, next);
  auto ops = pending();
  std::string msg = "faultline: horizon reached at " + at(now_) + ": the next timer is due at " + at(next) +
                    ", past the horizon " + at(horizon_) +
                    " (sim_options::horizon); something keeps scheduling timers (an endless retry loop?). "
                    "Raise the horizon if the test really spans that much virtual time" +
                    list_pending(ops, outstanding_work()) + tail(trace_);
  throw horizon_error(msg, sim_clock::time_point(sim_clock::duration(now_)), std::move(ops));
}

void sim_core::check_real_io(const char* caller) {
  // Said once per sim: the test has failed already, and every later
  // run/poll (a fixture's teardown polls twice) would only repeat it.
  if (real_io_reported_) return;
  const real_io_use io = find_real_io(static_cast<boost::asio::execution_context&>(ctx_));
  if (io.what.empty()) return;
  // Asio cannot tell whether its object has an operation pending, but
  // faultline knows its own: when they explain the block, a real socket
  // that was merely constructed is not the cause, and the stall report (or
  // the bounded run's silence) is the right answer.
  // A task is listed as pending while it awaits anything, the Asio object
  // included, so only an operation of faultline's own counts.
  const auto ops = pending();
  if (std::any_of(ops.begin(), ops.end(), [](const pending_operation& op) { return op.kind != "task"; })) return;
  real_io_reported_ = true;
  throw std::logic_error("faultline: " + std::string(caller) + ": " + io.what +
                         " was created on this sim; it waits in real time and can never complete on a sim. " +
                         io.fix);
}

// -- teardown -----------------------------------------------------------------

void sim_core::drain() noexcept {
  for (;;) {
    bool any = false;
    take_foreign();
    while (ready_op* op = pop_ready()) {
      op->destroy();
      any = true;
    }
    while (queued_wait* w = timers_.take_any()) {
      if (!w->is_sleep) unlink_from_timer(static_cast<timer_wait*>(w));
      w->destroy();
      any = true;
    }
    if (!any) return;
  }
}

void sim_core::orphan_objects() noexcept {
  while (sim_object* o = objects_head_) {
    unlink(*o);
    o->on_sim_shutdown();
  }
}

}  // namespace faultline::detail
