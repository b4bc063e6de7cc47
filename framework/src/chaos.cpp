// faultline - chaos plans, fault schedules (printing, parsing) and the per-sim chaos engine.
#include <faultline/chaos.hpp>

#include <faultline/detail/error_names.hpp>
#include <faultline/detail/mix.hpp>
#include <faultline/detail/sim_core.hpp>
#include <faultline/sim_context.hpp>

#include <boost/asio/error.hpp>

#include <charconv>
#include <cmath>
#include <utility>

namespace faultline {

namespace {

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

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
  if (l.kind == latency_dist::shape::uniform && l.b < l.a)
    throw std::invalid_argument("faultline: chaos_plan: " + point + ": uniform latency from " + to_string(l.a) +
                                " to " + to_string(l.b) + " has its bounds reversed; give the low end first");
}

bool injects_nothing(const fault_rates& r) noexcept {
  return r.error_rate() == 0.0 && r.hang_rate() == 0.0 && r.cancel_rate() == 0.0 &&
         (r.latency().kind == latency_dist::shape::none || r.latency().probability == 0.0);
}

// The most readable exact unit: 250ms, 1500us, 3s.
std::string duration_token(sim_clock::duration d) {
  const auto ns = d.count();
  if (ns != 0 && ns % 1'000'000'000 == 0) return std::to_string(ns / 1'000'000'000) + "s";
  if (ns != 0 && ns % 1'000'000 == 0) return std::to_string(ns / 1'000'000) + "ms";
  if (ns != 0 && ns % 1'000 == 0) return std::to_string(ns / 1'000) + "us";
  return std::to_string(ns) + "ns";
}

bool is_default_error(const boost::system::error_code& ec) {
  return !ec || ec == make_error_code(error::injected_fault);
}

[[noreturn]] void bad_schedule(std::string_view text, std::string_view part, const std::string& why) {
  throw schedule_error("faultline: fault schedule " + quote(text) + ": " + quote(part) + " " + why +
                       "; write point#call=kind, kinds error, error(name), exception, hang, cancel, latency(250ms), "
                       "separated by ';'");
}

sim_clock::duration parse_duration(std::string_view text, std::string_view part, std::string_view s) {
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || p == s.data() || n < 0) bad_schedule(text, part, "has no whole, non-negative latency");
  const std::string_view unit(p, static_cast<std::size_t>(s.data() + s.size() - p));
  std::int64_t scale = 0;
  if (unit == "ns") scale = 1;
  else if (unit == "us") scale = 1'000;
  else if (unit == "ms") scale = 1'000'000;
  else if (unit == "s") scale = 1'000'000'000;
  else bad_schedule(text, part, "has a latency without a unit (ns, us, ms or s)");
  return sim_clock::duration(n * scale);
}

fault parse_fault(std::string_view text, std::string_view part) {
  // Points may contain '#' ("faulty_stream#1"): the call index follows the last one.
  const auto eq = part.find('=');
  const auto hash = eq == std::string_view::npos ? std::string_view::npos : part.rfind('#', eq);
  if (hash == std::string_view::npos || hash == 0 || eq == std::string_view::npos)
    bad_schedule(text, part, "is not of the form point#call=kind");
  fault f;
  f.point = std::string(part.substr(0, hash));
  const auto call = part.substr(hash + 1, eq - hash - 1);
  auto [p, ec] = std::from_chars(call.data(), call.data() + call.size(), f.call);
  if (ec != std::errc() || p != call.data() + call.size() || call.empty())
    bad_schedule(text, part, "has no call index after '#'");
  std::string_view kind = part.substr(eq + 1);
  std::string_view arg;
  if (const auto open = kind.find('('); open != std::string_view::npos) {
    if (kind.back() != ')') bad_schedule(text, part, "opens '(' without closing it");
    arg = kind.substr(open + 1, kind.size() - open - 2);
    kind = kind.substr(0, open);
  }
  if (kind == "error") {
    f.kind = fault_kind::error;
    f.error_code = make_error_code(error::injected_fault);
    if (!arg.empty() && !detail::lookup_error(arg, f.error_code))
      bad_schedule(text, part, "names an unknown error; use " + detail::error_name_list());
  } else if (kind == "exception" && arg.empty()) {
    f.kind = fault_kind::exception;
  } else if (kind == "hang" && arg.empty()) {
    f.kind = fault_kind::hang;
  } else if (kind == "cancel" && arg.empty()) {
    f.kind = fault_kind::cancel;
  } else if (kind == "latency") {
    f.kind = fault_kind::latency;
    f.latency = parse_duration(text, part, arg);
  } else {
    bad_schedule(text, part, "has an unknown fault kind");
  }
  return f;
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

// -- schedule -------------------------------------------------------------------

std::string fault::to_string() const {
  std::string s = point + "#" + std::to_string(call) + "=";
  switch (kind) {
    case fault_kind::error:
      s += "error";
      if (!is_default_error(error_code)) s += "(" + detail::error_name(error_code) + ")";
      break;
    case fault_kind::exception: s += "exception"; break;
    case fault_kind::hang: s += "hang"; break;
    case fault_kind::cancel: s += "cancel"; break;
    case fault_kind::latency: s += "latency(" + duration_token(latency) + ")"; break;
  }
  return s;
}

bool operator==(const fault& a, const fault& b) noexcept {
  if (a.point != b.point || a.call != b.call || a.kind != b.kind) return false;
  if (a.kind == fault_kind::latency) return a.latency == b.latency;
  if (a.kind == fault_kind::error)
    return a.error_code == b.error_code || (is_default_error(a.error_code) && is_default_error(b.error_code));
  return true;
}

fault_schedule fault_schedule::parse(std::string_view text) {
  std::vector<fault> faults;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(';', start);
    if (end == std::string_view::npos) end = text.size();
    auto part = text.substr(start, end - start);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) {
      fault f = parse_fault(text, part);
      for (const auto& g : faults)
        if (g.point == f.point && g.call == f.call) bad_schedule(text, part, "gives a second fault to the same call");
      faults.push_back(std::move(f));
    }
    start = end + 1;
  }
  return fault_schedule(std::move(faults));
}

std::string fault_schedule::to_string() const {
  std::string s;
  for (const auto& f : faults_) {
    if (!s.empty()) s += ';';
    s += f.to_string();
  }
  return s;
}

const fault* fault_schedule::find(std::string_view point, std::uint64_t call) const noexcept {
  for (const auto& f : faults_)
    if (f.call == call && f.point == point) return &f;
  return nullptr;
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
  schedule_ = std::move(schedule);
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
    if (const fault* f = schedule_.find(point, call)) return *f;
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
