// faultline - failpoint registry (arming, hits, seeded draws, hangs) and the armed path of failpoint().
#include <faultline/failpoint.hpp>

#include <faultline/detail/error_names.hpp>
#include <faultline/detail/mix.hpp>
#include <faultline/chaos.hpp>

#include <faultline/detail/handler_work.hpp>
#include <faultline/report.hpp>
#include <faultline/sim_context.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <new>
#include <utility>

namespace faultline {

namespace {

namespace aerr = boost::asio::error;
using boost::system::error_code;
using detail::error_name_list;
using detail::fnv1a;
using detail::lookup_error;
using detail::splitmix64;
using detail::unit_interval;

std::string quote(std::string_view s) {
  std::string q = "\"";
  q += s;
  q += '"';
  return q;
}

// Names armed from FAULTLINE_FAILPOINTS arm every sim of the run, so a test
// that never reaches one is no news; a name no sim reached during the whole
// run is (a typo): reported when the program exits.
struct env_names {
  std::mutex m;
  std::map<std::string, bool, std::less<>> reached;
  bool at_exit = false;
};

env_names& env_state() {
  static env_names* s = new env_names;  // read at exit, after static destructors may have run
  return *s;
}

void report_env_unreached() {
  std::string names;
  {
    env_names& s = env_state();
    std::lock_guard lock(s.m);
    for (const auto& [name, reached] : s.reached)
      if (!reached) names += (names.empty() ? "" : ", ") + name;
  }
  if (names.empty()) return;
  const char* allow = std::getenv("FAULTLINE_FAILPOINTS_UNREACHED");
  if (allow && std::strcmp(allow, "ok") == 0) return;
  std::fflush(stdout);
  std::fprintf(stderr,
               "faultline: FAULTLINE_FAILPOINTS armed %s, which no sim of this run reached; check the name against "
               "the failpoint in the code (a typo?), or set FAULTLINE_FAILPOINTS_UNREACHED=ok when the spec is meant "
               "for tests this run does not include; exiting with status 1\n",
               names.c_str());
  std::fflush(stderr);
  std::_Exit(1);
}

void note_env_armed(const std::vector<std::string>& names) {
  env_names& s = env_state();
  std::lock_guard lock(s.m);
  for (const auto& n : names) s.reached.try_emplace(n, false);
  if (!s.at_exit) {
    s.at_exit = true;
    std::atexit(&report_env_unreached);
  }
}

void note_env_reached(std::string_view name) {
  env_names& s = env_state();
  std::lock_guard lock(s.m);
  auto it = s.reached.find(name);
  if (it != s.reached.end()) it->second = true;
}

}  // namespace

// -- failpoint_error ------------------------------------------------------------

failpoint_error::failpoint_error(std::string_view name, std::string_view message)
    : std::runtime_error("failpoint " + std::string(name) + ": " +
                         (message.empty() ? std::string("injected fault") : std::string(message))),
      name_(std::make_shared<const std::string>(name)) {}

// -- the registry ---------------------------------------------------------------

/// A hanging failpoint: not in the timer heap, listed by the registry until
/// cancelled (then queued through the sim like any completion).
struct failpoint_registry::hang_base : detail::timer_wait {
  using timer_wait::timer_wait;
  const std::string* name = nullptr;
  hang_base* prev_hang = nullptr;
  hang_base* next_hang = nullptr;
  bool listed = false;
};

namespace {

struct armed_task {
  failpoint_task spec;
  std::uint64_t left = 0;  // fires left when spec.count is set
  error_code ec;           // error(...): resolved when armed
  std::string detail;      // the journal's text: the task without p% and count
};

struct armed_config {
  std::string name;
  std::vector<armed_task> tasks;
};

}  // namespace

struct failpoint_registry::impl {
  struct entry {
    std::vector<armed_task> tasks;  // empty: disarmed
    std::uint64_t hits = 0;
    std::uint64_t name_hash = 0;
    std::uint32_t subject = 0;  // in the trace; 0 until the first journaled hit
    bool from_env = false;      // armed by FAULTLINE_FAILPOINTS, not by the test
    const char* file = nullptr;  // where the test armed it
    int line = 0;
  };
  std::map<std::string, entry, std::less<>> entries;
  hang_base* hangs = nullptr;  // newest first
  std::string empty;           // the message of a chaos fault

  // Parses `text` and resolves every error name, so that arming can no
  // longer fail. Throws failpoint_spec_error with positions into `text`.
  static std::vector<armed_config> prepare(std::string_view text) {
    std::vector<armed_config> out;
    for (auto& c : parse_failpoints(text)) {
      armed_config a{std::move(c.name), {}};
      for (auto& t : c.tasks) {
        armed_task at;
        if (t.action == failpoint_action::error && !lookup_error(t.arg, at.ec)) {
          // The parser kept no positions: find the name inside error( ... ).
          std::size_t pos = 0;
          for (std::size_t from = 0; (from = text.find("error", from)) != std::string_view::npos; from += 5) {
            std::size_t i = from + 5;
            while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
            if (i >= text.size() || text[i] != '(') continue;
            ++i;
            while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
            if (text.substr(i, t.arg.size()) == t.arg) {
              pos = i;
              break;
            }
          }
          throw failpoint_spec_error(text, pos, error_name_list(), "the unknown error name " + quote(t.arg));
        }
        failpoint_task shown = t;
        shown.probability = 100.0;
        shown.count.reset();
        at.detail = to_string(shown);
        at.left = t.count.value_or(0);
        at.spec = std::move(t);
        a.tasks.push_back(std::move(at));
      }
      out.push_back(std::move(a));
    }
    return out;
  }
};

failpoint_registry::failpoint_registry(detail::sim_core& core) : sim_(&core), impl_(std::make_unique<impl>()) {
  core.link(*this);
}

failpoint_registry::~failpoint_registry() {
  on_sim_shutdown();
  if (detail::sim_core* c = core()) c->unlink(*this);
}

namespace detail {

std::unique_ptr<failpoint_registry> make_failpoint_registry(sim_core& core) {
  std::unique_ptr<failpoint_registry> r(new failpoint_registry(core));
  if (const char* env = std::getenv("FAULTLINE_FAILPOINTS")) {
    r->arm_all(env);
    std::vector<std::string> names;
    for (auto& [name, e] : r->impl_->entries)
      if (!e.tasks.empty()) {
        e.from_env = true;
        names.push_back(name);
      }
    note_env_armed(names);
  }
  return r;
}

}  // namespace detail

failpoint_registry& failpoints(sim_context& sim) noexcept { return sim.core().failpoints(); }
const failpoint_registry& failpoints(const sim_context& sim) noexcept {
  return const_cast<sim_context&>(sim).core().failpoints();
}

void failpoint_registry::arm(std::string_view name, std::string_view actions, const char* file, int line) {
  std::string text(name);
  text += '=';
  text += actions;
  auto configs = impl::prepare(text);
  // A name the grammar refuses fails in the parser; a second entry here
  // means the actions held a ';'.
  if (configs.size() != 1 || configs[0].name != name) {
    const std::size_t semi = text.find(';', name.size() + 1);
    throw failpoint_spec_error(text, semi == std::string::npos ? name.size() + 1 : semi,
                               "the actions of failpoint " + quote(name) +
                                   " alone (arm one failpoint at a time; arm_all takes a whole spec)",
                               "\";\"");
  }
  auto [it, added] = impl_->entries.try_emplace(std::move(configs[0].name));
  if (added) it->second.name_hash = fnv1a(it->first);
  if (it->second.tasks.empty()) ++armed_;
  it->second.tasks = std::move(configs[0].tasks);
  it->second.from_env = false;
  it->second.file = file;
  it->second.line = line;
}

void failpoint_registry::arm_all(std::string_view spec, const char* file, int line) {
  auto configs = impl::prepare(spec);
  for (auto& c : configs) {
    auto [it, added] = impl_->entries.try_emplace(std::move(c.name));
    if (added) it->second.name_hash = fnv1a(it->first);
    if (it->second.tasks.empty()) ++armed_;
    it->second.tasks = std::move(c.tasks);
    it->second.from_env = false;
    it->second.file = file;
    it->second.line = line;
  }
}

std::vector<std::string> failpoint_registry::list_unreached() const {
  std::vector<std::string> out;
  for (const auto& [name, e] : impl_->entries) {
    if (e.tasks.empty() || e.from_env || e.hits != 0) continue;
    failpoint_config c{name, {}};
    for (const auto& t : e.tasks) c.tasks.push_back(t.spec);
    out.push_back(to_string(c));
  }
  return out;
}

std::vector<std::string> failpoint_registry::unreached() const {
  seen_unreached_ = list_unreached();
  return seen_unreached_;
}

void failpoint_registry::report_unreached() noexcept {
  if (reported_) return;
  reported_ = true;
  try {
    std::vector<std::string> names;
    for (auto& n : list_unreached())
      if (std::find(seen_unreached_.begin(), seen_unreached_.end(), n) == seen_unreached_.end())
        names.push_back(std::move(n));
    if (names.empty()) return;
    std::string msg = "faultline: " + std::to_string(names.size()) +
                      (names.size() == 1 ? " armed failpoint was" : " armed failpoints were") +
                      " never reached before the sim ended:";
    for (const auto& n : names) msg += "\n  " + n;
    msg +=
        "\ncheck each name against the failpoint in the code (a typo?) and make the code under test reach it, or "
        "disarm it (failpoints(sim).disarm(name)) if the test expects it unreached";
    // Located where the first of them (in name order) was armed.
    const impl::entry* first = nullptr;
    const std::string first_name = names.front().substr(0, names.front().find('='));
    for (const auto& [name, e] : impl_->entries)
      if (name == first_name) {
        first = &e;
        break;
      }
    report_failure(report_kind::unreached_failpoint, first ? first->file : nullptr, first ? first->line : 0, msg);
  } catch (...) {
    // Reporting while the sim ends: nothing sensible is left to do.
  }
}

bool failpoint_registry::disarm(std::string_view name) {
  auto it = impl_->entries.find(name);
  if (it == impl_->entries.end() || it->second.tasks.empty()) return false;
  it->second.tasks.clear();
  --armed_;
  return true;
}

void failpoint_registry::disarm_all() {
  for (auto& [name, e] : impl_->entries) e.tasks.clear();
  armed_ = 0;
}

bool failpoint_registry::is_armed(std::string_view name) const {
  auto it = impl_->entries.find(name);
  return it != impl_->entries.end() && !it->second.tasks.empty();
}

std::uint64_t failpoint_registry::hits(std::string_view name) const {
  auto it = impl_->entries.find(name);
  return it == impl_->entries.end() ? 0 : it->second.hits;
}

std::string failpoint_registry::spec() const {
  std::string s;
  for (const auto& [name, e] : impl_->entries) {
    if (e.tasks.empty()) continue;
    failpoint_config c{name, {}};
    for (const auto& t : e.tasks) c.tasks.push_back(t.spec);
    if (!s.empty()) s += ';';
    s += to_string(c);
  }
  return s;
}

namespace {
void count(detail::sim_core& core, failpoint_action a) noexcept {
  switch (a) {
    case failpoint_action::off: break;
    case failpoint_action::delay: core.count_fault(fault_kind::latency); break;
    case failpoint_action::throw_exception: core.count_fault(fault_kind::exception); break;
    case failpoint_action::error: core.count_fault(fault_kind::error); break;
    case failpoint_action::hang: core.count_fault(fault_kind::hang); break;
    case failpoint_action::cancel: core.count_fault(fault_kind::cancel); break;
  }
}
}  // namespace

detail::failpoint_decision failpoint_registry::hit(std::string_view name) {
  detail::failpoint_decision d;
  auto it = impl_->entries.find(name);
  if (it != impl_->entries.end() && !it->second.tasks.empty()) {
    impl::entry& e = it->second;
    const std::uint64_t index = e.hits++;
    if (e.from_env && index == 0) [[unlikely]]
      note_env_reached(it->first);
    for (std::size_t i = 0; i < e.tasks.size(); ++i) {
      armed_task& t = e.tasks[i];
      if (t.spec.count && t.left == 0) continue;  // used up
      const double p = t.spec.probability;
      if (p < 100.0) {
        // One independent draw per (seed, name, hit, task): replays exactly,
        // and adding a failpoint elsewhere changes no other failpoint's draws.
        std::uint64_t h = splitmix64(sim_->seed() ^ splitmix64(e.name_hash));
        h = splitmix64(h ^ index);
        h = splitmix64(h ^ i);
        const double u = unit_interval(h);
        if (!(u * 100.0 < p)) continue;
      }
      if (t.spec.count) --t.left;
      d.action = t.spec.action;
      d.name = &it->first;
      if (d.action == failpoint_action::off) return d;
      d.delay = t.spec.delay;
      d.ec = t.ec;
      d.message = &t.spec.arg;
      if (e.subject == 0) e.subject = sim_->journal().add_subject(it->first);
      sim_->journal().record(sim_->now(), event_kind::failpoint, e.subject, static_cast<std::int64_t>(index),
                             t.detail);
      count(*sim_, d.action);
      return d;
    }
  }
  // What the test armed wins; chaos decides the hits it left alone.
  if (sim_->chaos_active()) return chaos_hit(name);
  return d;
}

detail::failpoint_decision failpoint_registry::chaos_hit(std::string_view name) {
  detail::failpoint_decision d;
  auto [it, added] = impl_->entries.try_emplace(std::string(name));
  impl::entry& e = it->second;
  if (added) e.name_hash = fnv1a(it->first);
  if (e.subject == 0) e.subject = sim_->journal().add_subject(it->first);
  const auto f = sim_->chaos().draw(name, e.subject);
  if (!f) return d;
  d.name = &it->first;
  switch (f->kind) {
    case fault_kind::latency:
      d.action = failpoint_action::delay;
      d.delay = f->latency;
      break;
    case fault_kind::error:
      d.action = failpoint_action::error;
      d.ec = f->error_code;
      break;
    case fault_kind::exception: d.action = failpoint_action::throw_exception; break;
    case fault_kind::hang: d.action = failpoint_action::hang; break;
    case fault_kind::cancel: d.action = failpoint_action::cancel; break;
    case fault_kind::clock: return {};  // draw() never returns one: wall clocks only
  }
  d.message = &impl_->empty;
  count(*sim_, d.action);
  return d;
}

// -- hangs ----------------------------------------------------------------------

void failpoint_registry::start_hang(hang_base* h, const std::string* name) {
  h->name = name;
  h->since = sim_->now();
  h->order = sim_->journal().total() - 1;  // the "failpoint hit: hang" event
  h->prev_hang = nullptr;
  h->next_hang = impl_->hangs;
  if (impl_->hangs) impl_->hangs->prev_hang = h;
  impl_->hangs = h;
  h->listed = true;
}

namespace {
void unlist(failpoint_registry::hang_base*& head, failpoint_registry::hang_base* h) noexcept {
  if (h->prev_hang)
    h->prev_hang->next_hang = h->next_hang;
  else
    head = h->next_hang;
  if (h->next_hang) h->next_hang->prev_hang = h->prev_hang;
  h->prev_hang = h->next_hang = nullptr;
  h->listed = false;
}
}  // namespace

void failpoint_registry::cancel_hang(hang_base* h) noexcept {
  if (!h->listed) return;
  unlist(impl_->hangs, h);
  if (detail::sim_core* c = core()) c->complete_now(h, aerr::operation_aborted);
}

void failpoint_registry::describe_pending(std::vector<pending_operation>& out) const {
  std::vector<pending_operation> mine;
  for (const hang_base* h = impl_->hangs; h; h = h->next_hang)
    mine.push_back({"failpoint " + *h->name, "hanging failpoint", sim_clock::time_point(sim_clock::duration(h->since)),
                    "until cancelled", h->order});
  out.insert(out.end(), mine.rbegin(), mine.rend());  // oldest first
}

bool failpoint_registry::blocks_run() const noexcept { return impl_->hangs != nullptr; }

void failpoint_registry::on_sim_shutdown() noexcept {
  report_unreached();
  // Destroying a hang destroys the coroutine suspended in it, never resuming it.
  while (hang_base* h = impl_->hangs) {
    unlist(impl_->hangs, h);
    h->destroy();
  }
}

// -- the armed path -------------------------------------------------------------

namespace detail {
namespace {

template <class Handler, class IoExecutor>
class hang_op final : public failpoint_registry::hang_base {
 public:
  // Hooked to the handler's cancellation slot: any type that reaches it
  // (terminal, partial, total) ends the hang with operation_aborted.
  static hang_op* make(failpoint_registry& reg, Handler&& h, const IoExecutor& io_ex) {
    alloc_type alloc;
    hang_op* p = alloc.allocate(1);
    try {
      ::new (static_cast<void*>(p)) hang_op(std::move(h), io_ex);
    } catch (...) {
      alloc.deallocate(p, 1);
      throw;
    }
    p->slot_ = boost::asio::get_associated_cancellation_slot(p->handler_);
    if (p->slot_.is_connected()) p->slot_.template emplace<cancellation>(&reg, p);
    return p;
  }

 private:
  using alloc_type = boost::asio::recycling_allocator<hang_op>;

  struct cancellation {
    // A constructor, not an aggregate: emplace() uses (), which clang 14 does
    // not accept for aggregates.
    cancellation(failpoint_registry* r, failpoint_registry::hang_base* o) noexcept : reg(r), op(o) {}
    failpoint_registry* reg;
    failpoint_registry::hang_base* op;
    void operator()(boost::asio::cancellation_type type) {
      if ((type & (boost::asio::cancellation_type::terminal | boost::asio::cancellation_type::partial |
                   boost::asio::cancellation_type::total)) != boost::asio::cancellation_type::none)
        reg->cancel_hang(op);
    }
  };

  hang_op(Handler&& h, const IoExecutor& io_ex)
      : hang_base(&do_complete), handler_(std::move(h)), work_(handler_, io_ex) {}

  static void do_complete(ready_op* base, bool invoke) {
    auto* self = static_cast<hang_op*>(base);
    // The slot may live in state the handler owns: detach before moving it.
    if (self->slot_.is_connected()) self->slot_.clear();
    Handler handler(std::move(self->handler_));
    handler_work<Handler, IoExecutor> work(std::move(self->work_));
    error_code ec = self->ec;
    self->~hang_op();
    alloc_type().deallocate(self, 1);
    if (invoke) work.complete([h = std::move(handler), ec]() mutable { std::move(h)(ec); });
  }

  Handler handler_;
  handler_work<Handler, IoExecutor> work_;
  boost::asio::cancellation_slot slot_;
};

struct initiate_hang {
  sim_core* core;
  const std::string* name;

  template <class Handler>
  void operator()(Handler&& h) const {
    using op_type = hang_op<std::decay_t<Handler>, sim_context::executor_type>;
    std::decay_t<Handler> handler(std::forward<Handler>(h));
    auto& reg = core->failpoints();
    reg.start_hang(op_type::make(reg, std::move(handler), core->context().get_executor()), name);
  }
};

[[noreturn]] void throw_code(error_code ec, const std::string& name) {
  throw boost::system::system_error(ec, "failpoint " + name);
}

}  // namespace

asio::awaitable<void> failpoint_hit(std::string_view name) {
  sim_core* core = tls_current_core;
  if (!core) co_return;
  const failpoint_decision d = core->failpoints().hit(name);
  switch (d.action) {
    case failpoint_action::off:
      co_return;
    case failpoint_action::delay: {
      steady_timer t(co_await asio::this_coro::executor, d.delay);
      error_code ec;
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) throw_code(ec, *d.name);
      co_return;
    }
    case failpoint_action::throw_exception:
      throw failpoint_error(*d.name, *d.message);
    case failpoint_action::error:
      throw_code(d.ec, *d.name);
    case failpoint_action::hang: {
      error_code ec;
      auto token = asio::redirect_error(asio::use_awaitable, ec);
      co_await asio::async_initiate<decltype(token), void(error_code)>(initiate_hang{core, d.name}, token);
      if (ec) throw_code(ec, *d.name);
      co_return;
    }
    case failpoint_action::cancel:
      throw_code(aerr::operation_aborted, *d.name);
  }
}

}  // namespace detail

}  // namespace faultline
