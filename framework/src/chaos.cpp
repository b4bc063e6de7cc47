// faultline - chaos plans and the per-sim chaos engine (schedules are in fault_schedule.cpp).
#include <faultline/chaos.hpp>

#include <faultline/detail/error_names.hpp>
#include <faultline/detail/mix.hpp>
#include <faultline/detail/sim_core.hpp>
#include <faultline/sim_context.hpp>

#include <boost/asio/error.hpp>

#include <cmath>
#include <utility>

namespace faultline {

namespace {

void check_rate(const std::string& point, const char* which, double p) {
  if (!(p >= 0.0 && p <= 1.0))
    throw std::invalid_argument("faultline: chaos_plan: " + point + ": " + which + " rate " + std::to_string(p) +
                                " is not a probability; use a value in [0, 1]");
}

void check(const std::string& point, const fault_rates& r) {
  const latency_dist& l = r.latency();
  check_rate(point, "error", r.error_rate());
  check_rate(point, "hang", r.hang_rate());
  check_rate(point, "cancel", r.cancel_rate());
  check_rate(point, "latency", l.probability);
  const double sum = r.error_rate() + r.hang_rate() + r.cancel_rate();
  if (sum > 1.0 + 1e-12)
    throw std::invalid_argument("faultline: chaos_plan: " + point + ": error + hang + cancel rates sum to " +
                                std::to_string(sum) + "; they must not exceed 1");
  if (l.a.count() < 0 || l.b.count() < 0)
    throw std::invalid_argument("faultline: chaos_plan: " + point + ": a latency bound is negative (" + to_string(l.a) +
                                ", " + to_string(l.b) + "); use durations >= 0");
  // A fault drawn with this code goes into the run's schedule, which must
  // print and parse back: refuse here, where the code is chosen.
  if (r.error_code() && r.error_code() != make_error_code(error::injected_fault) &&
      !detail::error_name_round_trips(r.error_code()))
    throw std::invalid_argument("faultline: chaos_plan: " + point + ": the error code " +
                                detail::error_name(r.error_code()) + " (\"" + r.error_code().message() +
                                "\") cannot be written in a fault schedule, so a failing seed could not be replayed; "
                                "use a code of the system, generic, asio or faultline categories");
  if (l.kind == latency_dist::shape::uniform && l.b < l.a)
    throw std::invalid_argument("faultline: chaos_plan: " + point + ": uniform latency from " + to_string(l.a) +
                                " to " + to_string(l.b) + " has its bounds reversed; give the low end first");
}

bool injects_nothing(const fault_rates& r) noexcept {
  return r.error_rate() == 0.0 && r.hang_rate() == 0.0 && r.cancel_rate() == 0.0 &&
         (r.latency().kind == latency_dist::shape::none || r.latency().probability == 0.0);
}

}  // namespace

// -- plan -----------------------------------------------------------------------

chaos_plan& chaos_plan::point(std::string name, fault_rates rates) {
  if (name.empty()) throw std::invalid_argument("faultline: chaos_plan::point: the point name is empty; name a double or failpoint");
  check(name, rates);
  points_.insert_or_assign(std::move(name), std::move(rates));
  return *this;
}

chaos_plan& chaos_plan::otherwise(fault_rates rates) {
  check("every other point", rates);
  defaults_ = std::move(rates);
  return *this;
}

const fault_rates& chaos_plan::rates(std::string_view point) const {
  auto it = points_.find(point);
  return it == points_.end() ? defaults_ : it->second;
}

// -- engine ---------------------------------------------------------------------

chaos_engine::chaos_engine(detail::sim_core& core) : core_(&core) {}
chaos_engine::~chaos_engine() = default;

void chaos_engine::use(chaos_plan plan) {
  plan_ = std::move(plan);
  mode_ = mode::seeded;
  core_->set_chaos_active(true);
}

void chaos_engine::replay(fault_schedule schedule) {
  // Checked again: faults() may have been edited in place since it was built.
  schedule_ = fault_schedule(std::move(schedule.faults()));
  index_.clear();
  for (const auto& f : schedule_.faults()) index_.emplace(std::pair<std::string_view, std::uint64_t>(f.point, f.call), &f);
  mode_ = mode::scripted;
  core_->set_chaos_active(true);
}

void chaos_engine::off(bool record) {
  mode_ = mode::off;
  recording_ = record;
  core_->set_chaos_active(record);
}

std::optional<fault> chaos_engine::decide(std::string_view point, std::uint64_t call) {
  if (mode_ == mode::scripted) {
    // Ordered look-up, not schedule_.find: replaying a schedule of n faults
    // stays O(n log n) over the run.
    auto it = index_.find(std::pair<std::string_view, std::uint64_t>(point, call));
    if (it != index_.end()) return *it->second;
    return std::nullopt;
  }
  if (mode_ != mode::seeded) return std::nullopt;
  const fault_rates& r = plan_.rates(point);
  if (injects_nothing(r)) return std::nullopt;
  std::uint64_t h = detail::splitmix64(core_->seed() ^ detail::splitmix64(detail::fnv1a(point)));
  h = detail::splitmix64(h ^ call);
  const double u = detail::unit_interval(h);
  fault f;
  f.point = std::string(point);
  f.call = call;
  if (u < r.error_rate()) {
    f.kind = fault_kind::error;
    f.error_code = r.error_code();
    return f;
  }
  if (u < r.error_rate() + r.hang_rate()) {
    f.kind = fault_kind::hang;
    return f;
  }
  if (u < r.error_rate() + r.hang_rate() + r.cancel_rate()) {
    f.kind = fault_kind::cancel;
    return f;
  }
  const latency_dist& l = r.latency();
  if (l.kind == latency_dist::shape::none) return std::nullopt;
  h = detail::splitmix64(h ^ 0x6c6174656e6379ull);  // "latency": a second, independent draw
  if (!(detail::unit_interval(h) < l.probability)) return std::nullopt;
  const double w = detail::unit_interval(detail::splitmix64(h));
  double ns = 0;
  switch (l.kind) {
    case latency_dist::shape::fixed: ns = static_cast<double>(l.a.count()); break;
    case latency_dist::shape::uniform:
      ns = static_cast<double>(l.a.count()) + w * static_cast<double>((l.b - l.a).count());
      break;
    case latency_dist::shape::exponential:
      ns = -static_cast<double>(l.a.count()) * std::log1p(-w);
      if (l.b.count() > 0 && ns > static_cast<double>(l.b.count())) ns = static_cast<double>(l.b.count());
      break;
    case latency_dist::shape::none: break;
  }
  // Whole microseconds keep schedules short to print and exact to replay.
  const auto us = static_cast<std::int64_t>(ns / 1000.0);
  if (us <= 0) return std::nullopt;
  f.kind = fault_kind::latency;
  f.latency = std::chrono::microseconds(us);
  return f;
}

std::optional<fault> chaos_engine::draw(std::string_view point, std::uint32_t trace_subject) {
  auto it = coverage_.find(point);
  if (it == coverage_.end()) it = coverage_.emplace(std::string(point), point_coverage{}).first;
  const std::uint64_t call = it->second.calls++;
  auto f = decide(point, call);
  if (!f) return f;
  it->second.injected.add(f->kind);
  log_.faults().push_back(*f);
  std::string detail = "chaos: ";
  switch (f->kind) {
    case fault_kind::error: detail += "error " + detail::error_name(f->error_code); break;
    case fault_kind::latency: detail += "latency " + to_string(f->latency); break;
    default: detail += faultline::to_string(f->kind); break;
  }
  detail += " at call #" + std::to_string(call);
  core_->journal().record(core_->now(), event_kind::fault, trace_subject, static_cast<std::int64_t>(call),
                          std::move(detail));
  return f;
}

chaos_engine& chaos(sim_context& sim) noexcept { return sim.core().chaos(); }

}  // namespace faultline
