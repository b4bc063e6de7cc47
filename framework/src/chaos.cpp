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

namespace detail {
// fault_schedule.cpp: `step(-30s)`, `slew(+500ppm,10s)`, ... as a schedule prints it.
std::string clock_fault_text(const fault& f);
}  // namespace detail

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
  detail::check_latency_dist(l, "faultline: chaos_plan: " + point + ": ");
  const double sum = r.error_rate() + r.hang_rate() + r.cancel_rate();
  if (sum > 1.0 + 1e-12)
    throw std::invalid_argument("faultline: chaos_plan: " + point + ": error + hang + cancel rates sum to " +
                                std::to_string(sum) + "; they must not exceed 1");
  // A fault drawn with this code goes into the run's schedule, which must
  // print and parse back: refuse here, where the code is chosen.
  if (r.error_code() && r.error_code() != make_error_code(error::injected_fault) &&
      !detail::error_name_round_trips(r.error_code()))
    throw std::invalid_argument("faultline: chaos_plan: " + point + ": the error code " +
                                detail::error_name(r.error_code()) + " (\"" + r.error_code().message() +
                                "\") cannot be written in a fault schedule, so a failing seed could not be replayed; "
                                "use a code of the system, generic, asio or faultline categories");
  if (const auto& o = r.outage()) {
    check_rate(point, "outage enter", o->enter());
    if (o->kind() == fault_kind::error && !detail::error_name_round_trips(o->error_code()) &&
        o->error_code() != make_error_code(error::injected_fault))
      throw std::invalid_argument("faultline: chaos_plan: " + point + ": the outage error code " +
                                  detail::error_name(o->error_code()) +
                                  " cannot be written in a fault schedule; use a code of the system, generic, asio "
                                  "or faultline categories");
  }
}

bool injects_nothing(const fault_rates& r) noexcept {
  return r.error_rate() == 0.0 && r.hang_rate() == 0.0 && r.cancel_rate() == 0.0 &&
         (r.latency().kind == latency_dist::shape::none || r.latency().probability == 0.0) &&
         (!r.outage() || r.outage()->enter() == 0.0);
}

time_window checked_window(const char* caller, sim_clock::time_point t0, sim_clock::time_point t1) {
  if (!(t0 < t1))
    throw std::invalid_argument(std::string("faultline: ") + caller + ": the window [" + to_string(t0) + ", " +
                                to_string(t1) + ") is empty: it ends at or before its start; give t0 < t1 " +
                                "(the start is inclusive, the end exclusive)");
  return {t0, t1};
}

// The kinds swarm mode switches on and off, as bits of chaos_engine::swarm_kinds_.
enum swarm_kind : unsigned { sw_error, sw_hang, sw_cancel, sw_latency, sw_outage, sw_count };
constexpr const char* swarm_kind_names[sw_count] = {"error", "hang", "cancel", "latency", "outage"};

unsigned kinds_of(const fault_rates& r) noexcept {
  unsigned m = 0;
  if (r.error_rate() > 0) m |= 1u << sw_error;
  if (r.hang_rate() > 0) m |= 1u << sw_hang;
  if (r.cancel_rate() > 0) m |= 1u << sw_cancel;
  if (r.latency().kind != latency_dist::shape::none && r.latency().probability > 0) m |= 1u << sw_latency;
  if (r.outage() && r.outage()->enter() > 0) m |= 1u << sw_outage;
  return m;
}

unsigned kinds_of(const chaos_plan& plan) noexcept {
  unsigned m = kinds_of(plan.defaults());
  for (const auto& [name, r] : plan.points()) m |= kinds_of(r);
  return m;
}

// Salts that make the draws for one (seed, point, call) independent of each other.
constexpr std::uint64_t salt_latency = 0x6c6174656e6379ull;  // "latency"
constexpr std::uint64_t salt_outage = 0x6f75746167650000ull;  // "outage"
constexpr std::uint64_t salt_swarm = 0x737761726d000000ull;   // "swarm"
constexpr std::uint64_t salt_skew = 0x736b657700000000ull;    // "skew"
constexpr std::uint64_t salt_step = 0x7374657000000000ull;    // "step"

// A uniform integer in [lo, hi] from `h`.
std::int64_t uniform_in(std::uint64_t h, std::int64_t lo, std::int64_t hi) noexcept {
  const auto span = static_cast<std::uint64_t>(hi - lo);
  if (span == 0) return lo;
  const std::uint64_t k = span == ~std::uint64_t{0} ? h : h % (span + 1);
  return lo + static_cast<std::int64_t>(k);
}

}  // namespace

// -- outages and windows ----------------------------------------------------------

namespace {
// The length checks both outage forms share; `min_text`/`max_text` are the
// lengths as the message prints them, `unit` follows them where the reader
// needs it, `at_least` is the rule a too-short one broke.
void check_outage_lengths(const char* caller, bool min_ok, bool ordered, const std::string& min_text,
                          const std::string& max_text, const char* unit, const char* at_least) {
  if (!min_ok)
    throw std::invalid_argument(std::string("faultline: ") + caller + ": the shortest outage is " + min_text +
                                unit + "; " + at_least);
  if (!ordered)
    throw std::invalid_argument(std::string("faultline: ") + caller + ": the longest outage (" + max_text + unit +
                                ") is shorter than the shortest (" + min_text + "); give the shorter length first");
}
}  // namespace

outage_model outage_model::calls(double enter, std::int64_t min, std::int64_t max) {
  check_outage_lengths("outage_model::calls", min >= 1, max >= min, std::to_string(min), std::to_string(max),
                       " calls", "an outage lasts at least 1 call");
  check_rate("outage_model::calls", "enter", enter);
  outage_model m;
  m.enter_ = enter;
  m.min_calls_ = min;
  m.max_calls_ = max;
  return m;
}

outage_model outage_model::lasting(double enter, sim_clock::duration min, sim_clock::duration max) {
  check_outage_lengths("outage_model::lasting", min.count() > 0, max >= min, to_string(min), to_string(max), "",
                       "an outage lasts a positive virtual time (1ns at least)");
  check_rate("outage_model::lasting", "enter", enter);
  outage_model m;
  m.enter_ = enter;
  m.timed_ = true;
  m.min_time_ = min;
  m.max_time_ = max;
  return m;
}

outage_model& outage_model::fails_with(boost::system::error_code code) {
  if (!code)
    throw std::invalid_argument("faultline: outage_model::fails_with: " + detail::error_name(code) +
                                " is a success code, so calls in an outage would not fail; give an error code");
  kind_ = fault_kind::error;
  code_ = code;
  return *this;
}

outage_model& outage_model::hangs() {
  kind_ = fault_kind::hang;
  return *this;
}

outage_model& outage_model::cancels() {
  kind_ = fault_kind::cancel;
  return *this;
}

outage_model& outage_model::slows_by(sim_clock::duration d) {
  // Whole microseconds, as chaos latencies are: the schedule prints them exactly.
  if (std::chrono::duration_cast<std::chrono::microseconds>(d).count() <= 0)
    throw std::invalid_argument("faultline: outage_model::slows_by: the added latency " + to_string(d) +
                                " is below 1us; give at least 1us");
  kind_ = fault_kind::latency;
  latency_ = std::chrono::duration_cast<std::chrono::microseconds>(d);
  return *this;
}

outage_model& outage_model::during(sim_clock::time_point t0, sim_clock::time_point t1) {
  window_ = checked_window("outage_model::during", t0, t1);
  return *this;
}

fault_rates& fault_rates::during(sim_clock::time_point t0, sim_clock::time_point t1) {
  window_ = checked_window("fault_rates::during", t0, t1);
  return *this;
}

// -- wall clocks ----------------------------------------------------------------

namespace {
std::int64_t whole_ms(sim_clock::duration d) noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

void check_ppm_range(const char* caller, const char* which, ppm r) {
  if (r.count < ppm::min || r.count > ppm::max)
    throw std::invalid_argument(std::string("faultline: ") + caller + ": the " + which + " " +
                                std::to_string(r.count) + "ppm is out of range; use " + std::to_string(ppm::min) +
                                " to " + std::to_string(ppm::max) + " (below -999999 the clock would stop or run back)");
}
}  // namespace

clock_faults& clock_faults::steps(double p, sim_clock::duration lo, sim_clock::duration hi) {
  check_rate("clock_faults::steps", "step", p);
  if (hi < lo)
    throw std::invalid_argument("faultline: clock_faults::steps: the largest step " + to_string(hi) +
                                " is below the smallest " + to_string(lo) + "; give the lower bound first");
  step_rate_ = p;
  step_min_ = lo;
  step_max_ = hi;
  return *this;
}

clock_faults& clock_faults::slews(double p, ppm lo, ppm hi, sim_clock::duration length) {
  check_rate("clock_faults::slews", "slew", p);
  check_ppm_range("clock_faults::slews", "rate", lo);
  check_ppm_range("clock_faults::slews", "rate", hi);
  if (hi.count < lo.count)
    throw std::invalid_argument("faultline: clock_faults::slews: the highest rate " + std::to_string(hi.count) +
                                "ppm is below the lowest " + std::to_string(lo.count) +
                                "ppm; give the lower bound first");
  if (length.count() < 0)
    throw std::invalid_argument("faultline: clock_faults::slews: the length " + to_string(length) +
                                " is negative; give a length >= 0 (0: for the rest of the run)");
  slew_rate_ = p;
  slew_min_ = lo;
  slew_max_ = hi;
  slew_length_ = length;
  return *this;
}

clock_faults& clock_faults::host_skew(sim_clock::duration max_offset, ppm max_drift) {
  if (max_offset.count() < 0 || max_drift.count < 0)
    throw std::invalid_argument("faultline: clock_faults::host_skew: the bounds (" + to_string(max_offset) + ", " +
                                std::to_string(max_drift.count) +
                                "ppm) must not be negative; they bound the skew either way");
  if (max_drift.count > -ppm::min)
    throw std::invalid_argument("faultline: clock_faults::host_skew: the drift bound " +
                                std::to_string(max_drift.count) + "ppm is above " + std::to_string(-ppm::min) +
                                "ppm; a clock drifting back that much would stop");
  max_offset_ = max_offset;
  max_drift_ = max_drift;
  return *this;
}

bool clock_faults::none() const noexcept {
  return step_rate_ == 0.0 && slew_rate_ == 0.0 && whole_ms(max_offset_) == 0 && max_drift_.count == 0;
}

chaos_plan& chaos_plan::clocks(clock_faults f) {
  const double sum = f.step_rate() + f.slew_rate();
  if (sum > 1.0 + 1e-12)
    throw std::invalid_argument("faultline: chaos_plan::clocks: step + slew chances sum to " + std::to_string(sum) +
                                "; they must not exceed 1 (each read draws at most one fault)");
  clocks_ = f;
  return *this;
}

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
  outages_.clear();
  swarm_kinds_ = ~0u;
  if (plan_.swarming()) {
    const unsigned possible = kinds_of(plan_);
    const std::uint64_t h = detail::splitmix64(core_->seed() ^ salt_swarm);
    swarm_kinds_ = static_cast<unsigned>(h) & possible;
    // An empty subset would waste the seed: keep one kind, drawn too.
    if (swarm_kinds_ == 0 && possible != 0) {
      unsigned n = 0;
      for (unsigned k = 0; k < sw_count; ++k) n += (possible >> k) & 1u;
      auto pick = static_cast<unsigned>((h >> 32) % n);
      for (unsigned k = 0; k < sw_count; ++k)
        if (((possible >> k) & 1u) && pick-- == 0) swarm_kinds_ = 1u << k;
    }
  }
  core_->set_chaos_active(true);
}

bool chaos_engine::swarm_point_on(std::string_view point) const noexcept {
  return (detail::splitmix64(core_->seed() ^ salt_swarm ^ detail::splitmix64(detail::fnv1a(point))) & 1u) != 0;
}

std::string chaos_engine::swarm_subset() const {
  if (mode_ != mode::seeded || !plan_.swarming()) return {};
  const unsigned possible = kinds_of(plan_);
  std::string on, off;
  auto add = [](std::string& to, std::string_view what) {
    if (!to.empty()) to += ", ";
    to += what;
  };
  for (unsigned k = 0; k < sw_count; ++k)
    if ((possible >> k) & 1u) add((swarm_kinds_ >> k) & 1u ? on : off, swarm_kind_names[k]);
  std::string s = "kinds on: " + (on.empty() ? std::string("none") : on) + (off.empty() ? "" : "; off: " + off);
  std::map<std::string_view, bool> points;  // name order, so the report is stable
  for (const auto& [name, r] : plan_.points()) points.emplace(name, swarm_point_on(name));
  for (const auto& [name, c] : coverage_) points.emplace(name, swarm_point_on(name));
  on.clear();
  off.clear();
  for (const auto& [name, enabled] : points) add(enabled ? on : off, name);
  s += " | points on: " + (on.empty() ? std::string("none") : on) + (off.empty() ? "" : "; off: " + off);
  return s;
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

std::optional<fault> chaos_engine::decide(std::string_view point, std::uint64_t call, bool timer) {
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
  if (!r.window().contains(sim_clock::time_point(sim_clock::duration(core_->now())))) return std::nullopt;
  const bool swarm = plan_.swarming();
  if (swarm && !swarm_point_on(point)) return std::nullopt;
  auto on = [&](swarm_kind k) { return ((swarm_kinds_ >> k) & 1u) != 0; };
  std::uint64_t h = detail::splitmix64(core_->seed() ^ detail::splitmix64(detail::fnv1a(point)));
  h = detail::splitmix64(h ^ call);
  // A timer can only be late: its point draws latency and latency outages only.
  if (r.outage() && on(sw_outage) && (!timer || r.outage()->kind() == fault_kind::latency))
    if (auto f = outage_fault(point, call, *r.outage(), h)) return f;
  const double u = detail::unit_interval(h);
  // Swarm mode switches a kind off by zeroing its rate; the others keep theirs.
  const double error_rate = on(sw_error) && !timer ? r.error_rate() : 0.0;
  const double hang_rate = on(sw_hang) && !timer ? r.hang_rate() : 0.0;
  const double cancel_rate = on(sw_cancel) && !timer ? r.cancel_rate() : 0.0;
  fault f;
  f.point = std::string(point);
  f.call = call;
  if (u < error_rate) {
    f.kind = fault_kind::error;
    f.error_code = r.error_code();
    return f;
  }
  if (u < error_rate + hang_rate) {
    f.kind = fault_kind::hang;
    return f;
  }
  if (u < error_rate + hang_rate + cancel_rate) {
    f.kind = fault_kind::cancel;
    return f;
  }
  const latency_dist& l = r.latency();
  if (l.kind == latency_dist::shape::none || !on(sw_latency)) return std::nullopt;
  h = detail::splitmix64(h ^ salt_latency);  // a second, independent draw
  const std::optional<double> ns = detail::draw_latency_ns(l, h);
  if (!ns) return std::nullopt;
  // Whole microseconds keep schedules short to print and exact to replay.
  const auto us = static_cast<std::int64_t>(*ns / 1000.0);
  if (us <= 0) return std::nullopt;
  f.kind = fault_kind::latency;
  f.latency = std::chrono::microseconds(us);
  return f;
}

namespace detail {
std::optional<double> draw_latency_ns(const latency_dist& l, std::uint64_t h) noexcept {
  if (!(unit_interval(h) < l.probability)) return std::nullopt;
  const double w = unit_interval(splitmix64(h));
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
  return ns;
}

void check_latency_dist(const latency_dist& l, std::string_view caller) {
  const auto fail = [&](const std::string& what) { throw std::invalid_argument(std::string(caller) + what); };
  if (!(l.probability >= 0.0 && l.probability <= 1.0))
    fail("the latency probability " + std::to_string(l.probability) + " is not in [0, 1]; use a value in [0, 1]");
  if (l.a.count() < 0 || l.b.count() < 0)
    fail("a latency bound is negative (" + to_string(l.a) + ", " + to_string(l.b) + "); use durations >= 0");
  if (l.kind == latency_dist::shape::uniform && l.b < l.a)
    fail("uniform latency from " + to_string(l.a) + " to " + to_string(l.b) +
         " has its bounds reversed; give the low end first");
}
}  // namespace detail

std::optional<fault> chaos_engine::outage_fault(std::string_view point, std::uint64_t call, const outage_model& o,
                                                std::uint64_t h) {
  const std::int64_t now = core_->now();
  auto it = outages_.find(point);
  if (it == outages_.end()) it = outages_.emplace(std::string(point), outage_state{}).first;
  outage_state& st = it->second;
  if (!st.active || (o.timed() ? now >= st.until_time : call >= st.until_call)) {
    st.active = false;
    if (!o.window().contains(sim_clock::time_point(sim_clock::duration(now)))) return std::nullopt;
    std::uint64_t g = detail::splitmix64(h ^ salt_outage);
    if (!(detail::unit_interval(g) < o.enter())) return std::nullopt;
    g = detail::splitmix64(g);
    st.active = true;
    if (o.timed()) {
      const std::int64_t len = uniform_in(g, o.min_time().count(), o.max_time().count());
      st.until_time = detail::saturating_deadline(now, len);
    } else {
      st.until_call = call + static_cast<std::uint64_t>(uniform_in(g, o.min_calls(), o.max_calls()));
    }
  }
  fault f;
  f.point = std::string(point);
  f.call = call;
  f.kind = o.kind();
  if (f.kind == fault_kind::error) f.error_code = o.error_code();
  if (f.kind == fault_kind::latency) f.latency = o.latency();
  return f;
}

std::optional<fault> chaos_engine::decide_clock(std::string_view point, std::uint64_t call) {
  if (mode_ == mode::scripted) {
    auto it = index_.find(std::pair<std::string_view, std::uint64_t>(point, call));
    if (it != index_.end() && it->second->kind == fault_kind::clock) return *it->second;
    return std::nullopt;
  }
  if (mode_ != mode::seeded) return std::nullopt;
  const clock_faults& c = plan_.clocks();
  if (c.none()) return std::nullopt;
  std::uint64_t h = detail::splitmix64(core_->seed() ^ detail::splitmix64(detail::fnv1a(point)));
  h = detail::splitmix64(h ^ call);
  fault f;
  f.point = std::string(point);
  f.call = call;
  f.kind = fault_kind::clock;
  if (call == 0 && point != "wall_clock" && (whole_ms(c.max_offset()) != 0 || c.max_drift().count != 0)) {
    std::uint64_t g = detail::splitmix64(h ^ salt_skew);
    const std::int64_t off = whole_ms(c.max_offset());
    f.clock_step = std::chrono::milliseconds(uniform_in(g, -off, off));
    f.clock_ppm = uniform_in(detail::splitmix64(g), -c.max_drift().count, c.max_drift().count);
    if (f.clock_step.count() == 0 && f.clock_ppm == 0) return std::nullopt;
    return f;
  }
  const double u = detail::unit_interval(h);
  const std::uint64_t g = detail::splitmix64(h ^ salt_step);
  if (u < c.step_rate()) {
    f.clock_step = std::chrono::milliseconds(uniform_in(g, whole_ms(c.step_min()), whole_ms(c.step_max())));
    if (f.clock_step.count() == 0) return std::nullopt;
    return f;
  }
  if (u < c.step_rate() + c.slew_rate()) {
    f.clock_ppm = uniform_in(g, c.slew_min().count, c.slew_max().count);
    f.clock_for = c.slew_length();
    if (f.clock_ppm == 0) return std::nullopt;
    return f;
  }
  return std::nullopt;
}

std::optional<fault> chaos_engine::draw(std::string_view point, std::uint32_t trace_subject) {
  return draw_at(point, trace_subject, point_kind::plain);
}

bool chaos_engine::names_point(std::string_view point) const {
  if (mode_ == mode::seeded) return plan_.points().find(point) != plan_.points().end();
  if (mode_ != mode::scripted) return false;
  auto it = index_.lower_bound(std::pair<std::string_view, std::uint64_t>(point, 0));
  return it != index_.end() && it->first.first == point;
}

std::optional<fault> chaos_engine::draw_timer(std::string_view point, std::uint32_t trace_subject) {
  if (mode_ == mode::off) return std::nullopt;
  return draw_at(point, trace_subject, point_kind::timer);
}

std::optional<fault> chaos_engine::draw_clock(std::string_view point, std::uint32_t trace_subject) {
  return draw_at(point, trace_subject, point_kind::clock);
}

std::optional<fault> chaos_engine::draw_at(std::string_view point, std::uint32_t trace_subject, point_kind kind) {
  auto it = coverage_.find(point);
  if (it == coverage_.end()) it = coverage_.emplace(std::string(point), point_coverage{}).first;
  const std::uint64_t call = it->second.calls++;
  const bool clock = kind == point_kind::clock;
  auto f = clock ? decide_clock(point, call) : decide(point, call, kind == point_kind::timer);
  // A schedule keeps clock faults at clock points (fault_schedule checks),
  // but a double may be named like one: it never gets a clock fault.
  if (!f || (f->kind == fault_kind::clock) != clock) return std::nullopt;
  it->second.injected.add(f->kind);
  log_.faults().push_back(*f);
  std::string detail = "chaos: ";
  switch (f->kind) {
    case fault_kind::error: detail += "error " + detail::error_name(f->error_code); break;
    case fault_kind::latency: detail += "latency " + to_string(f->latency); break;
    case fault_kind::clock: detail += "wall clock " + detail::clock_fault_text(*f); break;
    default: detail += faultline::to_string(f->kind); break;
  }
  detail += " at call #" + std::to_string(call);
  if (kind == point_kind::timer) detail += " of " + std::string(point);  // the trace names the timer by number only
  core_->journal().record(core_->now(), event_kind::fault, trace_subject, static_cast<std::int64_t>(call),
                          std::move(detail));
  return f;
}

chaos_engine& chaos(sim_context& sim) noexcept { return sim.core().chaos(); }

}  // namespace faultline
