// faultline - the virtual wall clock: system_clock readings inside a sim, steps, slews and host clocks.
#include <faultline/wall_clock.hpp>

#include <faultline/chaos.hpp>
#include <faultline/detail/sim_core.hpp>
#include <faultline/net/host_executor.hpp>
#include <faultline/net/network.hpp>
#include <faultline/sim_context.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace faultline {

namespace {

constexpr std::int64_t ns_max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t ns_min = std::numeric_limits<std::int64_t>::min();

std::int64_t saturate(long double v) noexcept {
  if (v >= static_cast<long double>(ns_max)) return ns_max;
  if (v <= static_cast<long double>(ns_min)) return ns_min;
  return static_cast<std::int64_t>(v);
}

// What a rate of `rate` ppm gains over `ns` of steady time. Floored, so a
// clock at any rate above -1000000ppm never reads less at a later instant.
long double gained(std::int64_t rate, std::int64_t ns) noexcept {
  return std::floor(static_cast<long double>(rate) * static_cast<long double>(ns) / 1e6L);
}

void check_rate(const char* caller, ppm rate) {
  if (rate.count < ppm::min || rate.count > ppm::max)
    throw std::invalid_argument(std::string("faultline: ") + caller + ": the rate " + std::to_string(rate.count) +
                                "ppm is out of range; use " + std::to_string(ppm::min) + " to " +
                                std::to_string(ppm::max) + " (a clock at -1000000ppm or below would stop or run back)");
}

// The changes of one clock: the sim's wall clock, or a host's on top of it.
struct clock_track {
  struct step {
    std::int64_t at;
    std::int64_t by;
    bool journaled;
  };
  struct slew {
    std::int64_t from;
    std::int64_t to;  // ns_max: for good
    std::int64_t rate;
  };

  std::string point;  // "wall_clock", "wall_clock@db": its injection point
  std::vector<step> steps;
  std::vector<slew> slews;
  // A host's set_clock: a fixed offset and a drift from `anchor` on.
  std::int64_t offset = 0;
  std::int64_t drift = 0;
  std::int64_t anchor = 0;
  std::uint32_t subject = 0;
  bool has_subject = false;

  long double offset_at(std::int64_t t) const noexcept {
    long double sum = static_cast<long double>(offset);
    if (drift != 0 && t > anchor) sum += gained(drift, t - anchor);
    for (const step& s : steps)
      if (s.at <= t) sum += static_cast<long double>(s.by);
    for (const slew& s : slews)
      if (t > s.from) sum += gained(s.rate, std::min(t, s.to) - s.from);
    return sum;
  }
};

clock_track named(std::string point) {
  clock_track c;
  c.point = std::move(point);
  return c;
}

}  // namespace

struct wall_clock::impl {
  sim_context* sim = nullptr;
  std::int64_t start = default_start.time_since_epoch().count();
  clock_track base = named("wall_clock");
  std::map<std::string, clock_track, std::less<>> hosts;  // by host name

  detail::sim_core& core() const noexcept { return sim->core(); }
  std::int64_t now() const noexcept { return sim->core().now(); }

  clock_track& host_track(std::string_view host) {
    auto it = hosts.find(host);
    if (it == hosts.end()) it = hosts.emplace(std::string(host), named("wall_clock@" + std::string(host))).first;
    return it->second;
  }
  const clock_track* find_host(std::string_view host) const noexcept {
    auto it = hosts.find(host);
    return it == hosts.end() ? nullptr : &it->second;
  }

  std::uint32_t subject(clock_track& c) {
    if (!c.has_subject) {
      c.subject = core().journal().add_subject(c.point);
      c.has_subject = true;
    }
    return c.subject;
  }

  std::int64_t wall_at(std::int64_t t, const clock_track* host) const noexcept {
    long double v = static_cast<long double>(start) + static_cast<long double>(t) + base.offset_at(t);
    if (host) v += host->offset_at(t);
    return saturate(v);
  }

  // Scripted steps enter the trace when a reading first includes them.
  void journal_steps(clock_track& c, std::int64_t t) {
    for (auto& s : c.steps) {
      if (s.journaled || s.at > t) continue;
      s.journaled = true;
      core().count_fault(fault_kind::clock);
      core().journal().record(t, event_kind::fault, subject(c), s.by,
                              "wall clock stepped " + std::string(s.by < 0 ? "-" : "+") +
                                  to_string(sim_clock::duration(s.by < 0 ? -s.by : s.by)) + " (scripted for " +
                                  to_string(sim_clock::time_point(sim_clock::duration(s.at))) + ")");
    }
  }

  void apply(clock_track& c, const fault& f, std::int64_t t) {
    if (f.clock_step.count() != 0) c.steps.push_back({t, f.clock_step.count(), true});
    if (f.clock_ppm != 0)
      c.slews.push_back({t, f.clock_for.count() == 0 ? ns_max : detail::saturating_deadline(t, f.clock_for.count()),
                         f.clock_ppm});
  }
};

wall_clock::wall_clock(asio::execution_context& ctx) : service(ctx), impl_(std::make_unique<impl>()) {
  detail::sim_core* core = detail::sim_core_of_context(ctx);
  if (!core)
    throw std::invalid_argument(
        "faultline: wall_clock: the execution context is not a sim_context; the virtual wall clock is a service of "
        "a faultline::sim_context (faultline::wall_clock_of(sim))");
  impl_->sim = &core->context();
}

wall_clock::~wall_clock() = default;

void wall_clock::shutdown() {}

void wall_clock::start_at(system_clock::time_point t) {
  if (impl_->now() != 0)
    throw std::logic_error("faultline: wall_clock::start_at: the sim's clock is at " +
                           to_string(sim_clock::time_point(sim_clock::duration(impl_->now()))) +
                           ", past its start; set the start before the sim runs, or use step_at(t, d) for a jump "
                           "during the run");
  impl_->start = t.time_since_epoch().count();
}

system_clock::time_point wall_clock::start() const noexcept {
  return system_clock::time_point(system_clock::duration(impl_->start));
}

wall_clock& wall_clock::step_at(sim_clock::time_point t, system_clock::duration by) {
  const std::int64_t now = impl_->now();
  if (t.time_since_epoch().count() < now)
    throw std::invalid_argument("faultline: wall_clock::step_at(" + to_string(t) + "): that instant is past (the sim is at " +
                                to_string(sim_clock::time_point(sim_clock::duration(now))) +
                                "); give an instant at or after now");
  if (by.count() == 0)
    throw std::invalid_argument("faultline: wall_clock::step_at(" + to_string(t) +
                                ", 0ns): a step of 0 changes nothing; give a nonzero step (negative: back)");
  impl_->base.steps.push_back({t.time_since_epoch().count(), by.count(), false});
  return *this;
}

wall_clock& wall_clock::slew(sim_clock::time_point t0, sim_clock::time_point t1, ppm rate) {
  const std::int64_t now = impl_->now();
  if (t0.time_since_epoch().count() < now)
    throw std::invalid_argument("faultline: wall_clock::slew(" + to_string(t0) + ", ...): the start is past (the sim is at " +
                                to_string(sim_clock::time_point(sim_clock::duration(now))) +
                                "); give a start at or after now");
  if (!(t0 < t1))
    throw std::invalid_argument("faultline: wall_clock::slew: the window [" + to_string(t0) + ", " + to_string(t1) +
                                ") is empty; give t0 < t1 (the start is inclusive, the end exclusive)");
  check_rate("wall_clock::slew", rate);
  if (rate.count == 0)
    throw std::invalid_argument("faultline: wall_clock::slew: a rate of 0ppm changes nothing; give a nonzero rate");
  impl_->base.slews.push_back({t0.time_since_epoch().count(), t1.time_since_epoch().count(), rate.count});
  return *this;
}

system_clock::time_point wall_clock::now() const { return at(sim_clock::time_point(sim_clock::duration(impl_->now()))); }

system_clock::time_point wall_clock::at(sim_clock::time_point t) const {
  return system_clock::time_point(system_clock::duration(impl_->wall_at(t.time_since_epoch().count(), nullptr)));
}

system_clock::time_point wall_clock::now_on(std::string_view host) const {
  return system_clock::time_point(system_clock::duration(impl_->wall_at(impl_->now(), impl_->find_host(host))));
}

void wall_clock::set_host_clock(std::string_view host, system_clock::duration offset, ppm drift) {
  check_rate("network::set_clock", drift);
  clock_track& c = impl_->host_track(host);
  c.offset = offset.count();
  c.drift = drift.count;
  c.anchor = impl_->now();
}

system_clock::time_point wall_clock::read(const std::string* host) {
  detail::sim_core& core = impl_->core();
  const std::int64_t t = core.now();
  clock_track& c = host ? impl_->host_track(*host) : impl_->base;
  if (core.chaos_active()) {
    if (auto f = core.chaos().draw_clock(c.point, impl_->subject(c))) {
      impl_->apply(c, *f, t);
      core.count_fault(fault_kind::clock);
    }
  }
  impl_->journal_steps(impl_->base, t);
  if (host) impl_->journal_steps(c, t);
  return system_clock::time_point(system_clock::duration(impl_->wall_at(t, host ? &c : nullptr)));
}

wall_clock& wall_clock_of(sim_context& sim) { return asio::use_service<wall_clock>(sim); }

system_clock::time_point system_clock::now() noexcept {
  if (detail::sim_core* core = detail::tls_current_core) {
    const net::host* h = net::detail::tls_current_host;
    // A host of another sim (a handler of this sim run inline from one of
    // that sim's hosts) is no host here.
    if (h && &h->network().context() != static_cast<asio::execution_context*>(&core->context())) h = nullptr;
    return wall_clock_of(core->context()).read(h ? &h->name() : nullptr);
  }
  return time_point(std::chrono::duration_cast<duration>(std::chrono::system_clock::now().time_since_epoch()));
}

}  // namespace faultline
