// faultline - sim_context construction, teardown, and the task records.
#include <faultline/detail/task_state.hpp>
#include <faultline/sim_context.hpp>
#include <faultline/steady_clock.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/detail/scheduler.hpp>

#include <mutex>
#include <stdexcept>
#include <thread>

namespace faultline {

namespace detail {

namespace {
// Registered by every sim_context and by nothing else, so its presence tells
// a sim from any other execution context (which has no virtual functions to
// dynamic_cast on).
class sim_marker : public asio::execution_context::service {
 public:
  static asio::execution_context::id id;
  explicit sim_marker(asio::execution_context& ctx) : service(ctx) {}

 private:
  void shutdown() override {}
};
asio::execution_context::id sim_marker::id;
}  // namespace

}  // namespace detail

namespace {
// Every live sim of the process, oldest first, each with the thread that
// created it. One list under a lock rather than one per thread: a sim may be
// destroyed on another thread than its creator (handed to a worker, owned by
// an object that dies elsewhere), and a per-thread list would then keep a
// dangling pointer on the creator's thread, or belong to a thread already gone.
struct alive_list {
  std::mutex mutex;
  sim_context* head = nullptr;
  sim_context* tail = nullptr;
};
alive_list& alive() {
  // Built inside the first sim's constructor, so it outlives every sim, static ones too.
  static alive_list list;
  return list;
}
}  // namespace

std::vector<sim_context*> sim_context::alive_on_this_thread() {
  const auto me = std::this_thread::get_id();
  std::vector<sim_context*> out;
  auto& list = alive();
  std::lock_guard lock(list.mutex);
  for (sim_context* s = list.head; s; s = s->next_alive_)
    if (s->creator_ == me) out.push_back(s);
  return out;
}

sim_totals& sim_context::thread_totals() noexcept {
  thread_local sim_totals totals;
  return totals;
}

sim_totals totals_on_this_thread() noexcept { return sim_context::thread_totals(); }

sim_context::sim_context(const sim_options& options)
    : creator_(std::this_thread::get_id()), core_(*this, options) {
  // A plain Asio timer or socket created on this context asks for Asio's
  // scheduler, which would otherwise start a hidden thread and complete
  // real-time waits on it, racing the sim. One without its own thread keeps
  // everything on the sim's thread; check_real_io() then names the misuse.
  asio::add_service<asio::detail::scheduler>(*this, new asio::detail::scheduler(*this, 0, false));
  asio::make_service<detail::sim_marker>(*this);
  // Last, so that a constructor that throws leaves nothing behind in the list.
  auto& list = alive();
  std::lock_guard lock(list.mutex);
  prev_alive_ = list.tail;
  if (list.tail)
    list.tail->next_alive_ = this;
  else
    list.head = this;
  list.tail = this;
}

sim_context::~sim_context() {
  // Summed per thread for reporters (FAULTLINE_REPORT): a sim's last word.
  auto& totals = thread_totals();
  ++totals.sims;
  // Saturating: a sim that ran to the end of time must not overflow the sum.
  totals.virtual_time = sim_clock::duration(detail::saturating_deadline(totals.virtual_time.count(), core_.now()));
  totals.faults += core_.faults();
  {
    auto& list = alive();
    std::lock_guard lock(list.mutex);
    if (next_alive_)
      next_alive_->prev_alive_ = prev_alive_;
    else
      list.tail = prev_alive_;
    if (prev_alive_)
      prev_alive_->next_alive_ = next_alive_;
    else
      list.head = next_alive_;
  }
  core_.begin_shutdown();
  // Services (channels, a stray Asio timer) drop their pending handlers
  // first; destroying those may queue more work on us, which drain() frees.
  shutdown();
  core_.drain();
  destroy();
  core_.drain();
  // Objects drop what they hold (a double's hanging calls); destroying those
  // may queue a little more.
  core_.orphan_objects();
  core_.drain();
}

sim_context* sim_context::current() noexcept {
  detail::sim_core* c = detail::tls_current_core;
  return c ? &c->context() : nullptr;
}

void sim_context::throw_negative(const char* caller, std::int64_t ns) {
  throw std::invalid_argument(std::string("faultline: ") + caller + "(" +
                              to_string(sim_clock::duration(ns)) +
                              "): the duration is negative; virtual time only moves forward");
}

sim_clock::time_point sim_clock::now() {
  if (detail::sim_core* c = detail::tls_current_core) return time_point(duration(c->now()));
  throw std::logic_error(
      "faultline: sim_clock::now() called outside a running sim; read sim.now() in the test body, or "
      "faultline::steady_clock::now() in code that also runs outside a sim");
}

steady_clock::time_point steady_clock::now() noexcept {
  if (detail::sim_core* c = detail::tls_current_core) return time_point(duration(c->now()));
  return time_point(
      std::chrono::duration_cast<duration>(std::chrono::steady_clock::now().time_since_epoch()));
}

namespace detail {

sim_core* sim_core_of_context(asio::execution_context& ctx) noexcept {
  if (!asio::has_service<sim_marker>(ctx)) return nullptr;
  return &static_cast<sim_context&>(ctx).core();
}

void throw_sim_gone(const char* caller) {
  throw std::logic_error(std::string("faultline: ") + caller +
                         ": the sim_context this object belongs to was destroyed; keep the sim alive "
                         "longer than the timers, tasks and doubles that use it");
}

// -- tasks --------------------------------------------------------------------

task_state_base::task_state_base(sim_core& core, std::string name) : name_(std::move(name)) {
  core.link(*this);
  subject_ = core.journal().add_subject(name_);
  since_ = core.now();
  order_ = core.journal().total();
  core.journal().record(since_, event_kind::spawned, subject_);
}

task_state_base::~task_state_base() {
  if (sim_core* c = core()) c->unlink(*this);
}

void task_state_base::describe_pending(std::vector<pending_operation>& out) const {
  if (!done_)
    out.push_back({name_, "task", sim_clock::time_point(sim_clock::duration(since_)), "", order_});
}

void task_state_base::on_sim_shutdown() noexcept {}

void task_state_base::cancel(boost::asio::cancellation_type type) {
  if (!core()) throw_sim_gone("task::cancel");
  if (!done_) signal_.emit(type);
}

std::int64_t task_state_base::now() const {
  if (sim_core* c = core()) return c->now();
  throw_sim_gone("task");
}

void task_state_base::finish(const std::exception_ptr& e) {
  done_ = true;
  sim_core* c = core();
  if (!c) return;
  if (!e) {
    c->journal().record(c->now(), event_kind::returned, subject_);
  } else if (detail::is_cancellation(e)) {
    c->journal().record(c->now(), event_kind::cancelled, subject_);
  } else {
    c->journal().record(c->now(), event_kind::threw, subject_, 0, describe_exception(e));
    c->record_failure(shared_from_this());
  }
}

void task_state_base::throw_not_done(const char* caller) const {
  throw std::logic_error(std::string("faultline: ") + caller + ": task " + name_ +
                         " has not finished yet; run the sim further (sim.run(), run_for, advance) first");
}

void task_state_base::throw_abandoned() const {
  throw std::logic_error("faultline: sim_context::run: task " + name_ +
                         " never finished, yet nothing is left to run or pending: its coroutine was destroyed while "
                         "suspended, because the operation it awaited dropped its completion handler without calling "
                         "it (in Asio 1.81 a ranged parallel_group with no operations does this; guard the empty case)");
}

}  // namespace detail
}  // namespace faultline
