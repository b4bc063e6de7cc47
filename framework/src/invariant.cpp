// faultline - invariants at the instant: recording a violation, stopping the sim, periodic checks.
#include <faultline/invariant.hpp>

#include <faultline/detail/sim_core.hpp>
#include <faultline/sim_context.hpp>

#include <boost/asio/execution_context.hpp>

#include <exception>
#include <utility>
#include <vector>

namespace faultline {

namespace {

namespace asio = boost::asio;

std::string quoted(std::string_view name) { return "\"" + std::string(name) + "\""; }

std::string message(const std::string& name, const std::string& detail, sim_clock::time_point at) {
  std::string s = "faultline: invariant " + quoted(name) + " broken at " + to_string(at);
  if (!detail.empty()) s += ": " + detail;
  return s;
}

detail::sim_core& running_core(const char* caller, std::string_view name) {
  detail::sim_core* core = detail::tls_current_core;
  if (!core)
    throw std::logic_error(std::string("faultline: ") + caller + "(" + quoted(name) +
                           ") called outside a running sim; call it from code the sim runs (a coroutine, a "
                           "double's hook, an every() predicate), and check state in the test body with an "
                           "ordinary assertion");
  return *core;
}

[[noreturn]] void break_invariant(detail::sim_core& core, std::string_view name, std::string_view detail) {
  // A second violation in the same run (code that caught the first and went
  // on) keeps the first: the run ended there.
  if (!core.stopped()) {
    const auto at = sim_clock::time_point(sim_clock::duration(core.now()));
    std::string text = quoted(name);
    if (!detail.empty()) text += ": " + std::string(detail);
    core.journal().record(core.now(), event_kind::invariant, 0, 0, std::move(text));
    core.stop(std::make_exception_ptr(invariant_violation(std::string(name), std::string(detail), at)));
  }
  std::rethrow_exception(core.stopped());
}

// The periodic checks of one sim, woken by the core as the clock passes them.
class invariant_service final : public asio::execution_context::service, public detail::clock_watch {
 public:
  using key_type = invariant_service;
  static inline asio::execution_context::id id;

  explicit invariant_service(asio::execution_context& ctx)
      : asio::execution_context::service(ctx), core_(&static_cast<sim_context&>(ctx).core()) {}

  void add(sim_clock::duration period, std::function<bool()> predicate, std::string name) {
    const std::int64_t p = period.count();
    checks_.push_back({p, detail::saturating_deadline(core_->now(), p), std::move(predicate), std::move(name)});
    arm();
  }

  void clock_due(std::int64_t at) override {
    for (auto& c : checks_) {
      if (c.next != at) continue;
      c.next = detail::saturating_deadline(at, c.period);
      if (!c.predicate())
        break_invariant(*core_, c.name, "checked every " + to_string(sim_clock::duration(c.period)));
    }
    arm();
  }

 private:
  struct check {
    std::int64_t period;
    std::int64_t next;
    std::function<bool()> predicate;
    std::string name;
  };

  void arm() {
    std::int64_t next = detail::parked_deadline;
    for (const auto& c : checks_) next = std::min(next, c.next);
    // At the end of time nothing is due any more: no watch.
    core_->watch_clock(next >= detail::last_instant ? nullptr : this, next);
  }

  void shutdown() override {
    core_->watch_clock(nullptr, detail::parked_deadline);
    checks_.clear();
  }

  detail::sim_core* core_;
  std::vector<check> checks_;
};

}  // namespace

invariant_violation::invariant_violation(std::string name, const std::string& detail, sim_clock::time_point at)
    : std::runtime_error(message(name, detail, at)), name_(std::move(name)), at_(at) {}

void invariant(bool cond, std::string_view name) {
  detail::sim_core& core = running_core("faultline::invariant", name);
  if (!cond) break_invariant(core, name, {});
}

void fail_now(std::string_view name, std::string_view detail) {
  break_invariant(running_core("faultline::fail_now", name), name, detail);
}

void every(sim_context& sim, sim_clock::duration period, std::function<bool()> predicate, std::string name) {
  if (name.empty())
    throw std::invalid_argument("faultline: every: the check has no name; name the invariant it checks");
  if (period.count() <= 0)
    throw std::invalid_argument("faultline: every(" + to_string(period) + ", " + quoted(name) +
                                "): the period is not above 0; give a positive virtual period such as 100ms");
  if (!predicate)
    throw std::invalid_argument("faultline: every(" + to_string(period) + ", " + quoted(name) +
                                "): the predicate is empty; give a callable returning whether the invariant holds");
  sim.core().check_owner_thread("faultline::every");
  asio::use_service<invariant_service>(sim).add(period, std::move(predicate), std::move(name));
}

std::optional<invariant_violation> broken_invariant(sim_context& sim) {
  const std::exception_ptr& e = sim.core().stopped();
  if (!e) return std::nullopt;
  try {
    std::rethrow_exception(e);
  } catch (const invariant_violation& v) {
    return v;
  } catch (...) {
  }
  return std::nullopt;
}

}  // namespace faultline
