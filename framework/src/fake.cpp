// faultline - the non-template parts of async_fake: pending calls, latches, descriptions.
#include <faultline/fake.hpp>

#include <faultline/report.hpp>

#include <boost/asio/system_executor.hpp>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace faultline {

const char* to_string(call_status s) noexcept {
  switch (s) {
    case call_status::pending: return "pending";
    case call_status::returned: return "returned";
    case call_status::threw: return "threw";
    case call_status::failed: return "failed";
    case call_status::cancelled: return "cancelled";
  }
  return "unknown";
}

namespace detail {

void count_plan_faults(sim_core& core, int kind, bool has_latency) noexcept {
  using k = script_step<int>::kind;
  if (has_latency) core.count_fault(fault_kind::latency);
  switch (static_cast<k>(kind)) {
    case k::throws: core.count_fault(fault_kind::exception); break;
    case k::fails: core.count_fault(fault_kind::error); break;
    case k::hangs: core.count_fault(fault_kind::hang); break;
    case k::cancels: core.count_fault(fault_kind::cancel); break;
    default: break;
  }
}

std::exception_ptr chaos_exception(const fault& f) {
  return std::make_exception_ptr(std::runtime_error("faultline: injected fault at " + f.point + " call #" +
                                                    std::to_string(f.call)));
}

void throw_script_misuse(const std::string& fake, const std::string& what) {
  throw std::logic_error("faultline: " + fake + ": " + what);
}

const char* step_verb(int kind) noexcept {
  using k = script_step<int>::kind;
  switch (static_cast<k>(kind)) {
    case k::none: return "has no action";
    case k::returns: return "returns";
    case k::throws: return "throws";
    case k::fails: return "fails";
    case k::hangs: return "hangs";
    case k::cancels: return "cancels";
    case k::invokes: return "invokes a function";
  }
  return "acts";
}

std::string describe_step_common(const char* verb, sim_clock::duration latency, const std::string& value_text,
                                 std::size_t used, std::size_t times, bool forever) {
  std::string s;
  if (latency.count() > 0) s += "after " + to_string(latency) + " ";
  s += verb;
  if (!value_text.empty()) s += " " + value_text;
  s += forever ? " (every call, used " + std::to_string(used) + ")"
               : " (used " + std::to_string(used) + " of " + std::to_string(times) + ")";
  return s;
}

std::string describe_call(const std::string& text, sim_clock::time_point started,
                          const std::optional<sim_clock::time_point>& ended, call_status status,
                          const std::string& detail) {
  std::string s = text + " at " + to_string(started);
  if (!ended) return s + " -> pending";
  s += " -> ";
  s += to_string(status);
  if (!detail.empty()) s += " " + detail;
  return s + " at " + to_string(*ended);
}

// -- fake_core ----------------------------------------------------------------

fake_core::fake_core(sim_core& core, std::string name, const char* file, int line)
    : journal_(&core.journal()), source_(core.journal().add_source(*this)), name_(std::move(name)), file_(file),
      line_(line) {
  core.link(*this);
}

void fake_core::retire_subjects() noexcept {
  if (!journal_) return;
  journal_->retire_source(source_);
  journal_ = nullptr;
}

fake_core::~fake_core() {
  if (sim_core* c = core()) c->unlink(*this);
}

sim_core& fake_core::live(const char* caller) const {
  if (sim_core* c = core()) return *c;
  throw std::logic_error(std::string("faultline: ") + caller + " on " + name_ +
                         ": the sim_context this double belongs to was destroyed; keep the sim alive longer "
                         "than its doubles");
}

bool fake_core::caller_can_wait(boost::asio::execution_context& ctx) const {
  const sim_core* own = core();
  return !own || &ctx == static_cast<boost::asio::execution_context*>(&own->context()) || wrong_caller(ctx).empty();
}

std::string fake_core::wrong_caller(boost::asio::execution_context& ctx) const {
  const sim_core* own = core();
  if (!own || &ctx == static_cast<boost::asio::execution_context*>(&own->context())) return {};
  // use_future and the ranged parallel_group complete through the system
  // executor, which any thread may run: the sim's queue still drives them.
  if (&ctx == &boost::asio::query(boost::asio::system_executor(), boost::asio::execution::context)) return {};
  const char* where = sim_core_of_context(ctx) ? "another sim_context"
                                               : "an io_context (or another execution context that is not a sim)";
  return std::string("faultline: ") + name_ + " was called from a coroutine (or handler) running on " + where +
                         ", not on the sim_context " + name_ +
                         " was created with, whose queue alone completes its calls: the call would never complete; "
                         "run the caller on the double's sim (sim.run(...), or co_spawn on sim.get_executor()), or "
                         "create the double on the sim the caller runs on";
}

std::vector<std::string> fake_core::unmet_seen() const {
  auto u = unmet();
  seen_unmet_ = u;
  return u;
}

void fake_core::report_unmet_at_destruction() const noexcept {
  try {
    // Only lines the test has not seen (a hold destroyed since drops out).
    std::vector<std::string> u;
    for (auto& line : unmet())
      if (std::find(seen_unmet_.begin(), seen_unmet_.end(), line) == seen_unmet_.end()) u.push_back(std::move(line));
    if (u.empty()) return;
    std::string msg = "faultline: " + std::to_string(u.size()) +
                      (u.size() == 1 ? " scripted expectation" : " scripted expectations") + " never happened (" +
                      name_ + " was destroyed with " + (u.size() == 1 ? "it" : "them") + " unmet):";
    for (const auto& line : u) msg += "\n  " + line;
    msg +=
        "\nmake the code under test reach them, or remove them from the script (a test that expects them unmet "
        "asserts " +
        name_ + ".unmet() before the end)";
    report_failure(report_kind::unmet_script, file_, line_, msg);
  } catch (...) {
    // Reporting from a destructor: nothing sensible is left to do.
  }
}

void fake_core::add_pending(pending_call* c) noexcept {
  c->linked = true;
  c->prev_call = nullptr;
  c->next_call = head_;
  if (head_) head_->prev_call = c;
  head_ = c;
}

void fake_core::remove_pending(pending_call* c) noexcept {
  if (!c->linked) return;
  if (c->prev_call)
    c->prev_call->next_call = c->next_call;
  else
    head_ = c->next_call;
  if (c->next_call) c->next_call->prev_call = c->prev_call;
  c->prev_call = c->next_call = nullptr;
  c->linked = false;
}

bool fake_core::cancel_call(pending_call* c) noexcept {
  if (c->st == pending_call::state::completing) return false;
  // Its latency ran out and the heap already queued it: that completion
  // wins (queueing it again would link it into the ready list twice).
  if (c->st == pending_call::state::latency && c->heap_index == timer_wait::not_in_heap) return false;
  sim_core* core_ptr = core();
  if (!core_ptr) return false;
  c->st = pending_call::state::completing;
  core_ptr->complete_now(c, boost::asio::error::operation_aborted);
  return true;
}

std::size_t fake_core::cancel_all() noexcept {
  std::size_t n = 0;
  for (pending_call* c = head_; c; c = c->next_call) n += cancel_call(c) ? 1 : 0;
  return n;
}

void fake_core::describe_pending(std::vector<pending_operation>& out) const {
  std::vector<pending_operation> mine;
  for (const pending_call* c = head_; c; c = c->next_call) {
    const auto since = sim_clock::time_point(sim_clock::duration(c->since));
    switch (c->st) {
      case pending_call::state::latency:
        mine.push_back({call_text(c->index), "call", since,
                        "in its latency until " + to_string(sim_clock::time_point(sim_clock::duration(c->deadline))),
                        c->order});
        break;
      case pending_call::state::hanging:
        mine.push_back({call_text(c->index), "hanging call", since, "until cancelled", c->order});
        break;
      case pending_call::state::held:
        mine.push_back({call_text(c->index), "held call", since, "until the test releases it", c->order});
        break;
      case pending_call::state::completing: break;
    }
  }
  // The list is newest first; report in call order.
  out.insert(out.end(), mine.rbegin(), mine.rend());
}

bool fake_core::blocks_run() const noexcept {
  for (const pending_call* c = head_; c; c = c->next_call)
    if (c->st == pending_call::state::hanging || c->st == pending_call::state::held) return true;
  return false;
}

void fake_core::on_sim_shutdown() noexcept {
  // The trace outlives this call only as long as the sim.
  retire_subjects();
  // Destroying a call may release the last share of this state: keep it alive here.
  auto keep = weak_from_this().lock();
  while (pending_call* c = head_) {
    remove_pending(c);
    if (c->heap_index == timer_wait::not_in_heap) c->destroy();  // the heap's were drained already
  }
}

void fake_core::describe_unmet(std::vector<std::string>& out) const {
  // sim.unmet_expectations() (the fixture's teardown check) has shown them.
  auto mine = unmet_seen();
  out.insert(out.end(), mine.begin(), mine.end());
}

// -- latch --------------------------------------------------------------------

latch::latch(sim_core& core, std::string what) : what_(std::move(what)) { core.link(*this); }

latch::~latch() {
  while (latch_waiter* w = head_) cancel(w);
  if (sim_core* c = core()) c->unlink(*this);
}

void latch::add(latch_waiter* w) {
  w->owner = this;
  if (open_) {
    w->owner = nullptr;
    core()->post(w);
    return;
  }
  w->next_waiter = head_;
  head_ = w;
}

void latch::open() {
  open_ = true;
  // Waiters were pushed newest first; complete them in the order they came.
  std::vector<latch_waiter*> ws;
  for (latch_waiter* w = head_; w; w = w->next_waiter) ws.push_back(w);
  head_ = nullptr;
  for (auto it = ws.rbegin(); it != ws.rend(); ++it) {
    (*it)->owner = nullptr;
    core()->post(*it);
  }
}

void latch::cancel(latch_waiter* w) noexcept {
  latch_waiter** p = &head_;
  while (*p && *p != w) p = &(*p)->next_waiter;
  if (!*p) return;
  *p = w->next_waiter;
  w->owner = nullptr;
  w->ec = boost::asio::error::operation_aborted;
  if (sim_core* c = core())
    c->post(w);
  else
    w->destroy();
}

void latch::describe_pending(std::vector<pending_operation>& out) const {
  std::vector<pending_operation> mine;
  for (const latch_waiter* w = head_; w; w = w->next_waiter)
    mine.push_back({what_, "hold", sim_clock::time_point(sim_clock::duration(w->since)), "waiting for the call", w->order});
  out.insert(out.end(), mine.rbegin(), mine.rend());
}

void latch::on_sim_shutdown() noexcept {
  while (latch_waiter* w = head_) {
    head_ = w->next_waiter;
    w->owner = nullptr;
    w->destroy();
  }
}

}  // namespace detail
}  // namespace faultline

// -- Out of the headers, so that a test file does not parse <charconv> ---------

namespace faultline::detail {

std::size_t integer_text(long long v, char (&digits)[24]) noexcept {
  return static_cast<std::size_t>(std::to_chars(digits, digits + sizeof digits, v).ptr - digits);
}

std::size_t integer_text(unsigned long long v, char (&digits)[24]) noexcept {
  return static_cast<std::size_t>(std::to_chars(digits, digits + sizeof digits, v).ptr - digits);
}

}  // namespace faultline::detail
