// faultline - chaos sweeps: seeded runs, schedule replay, delta-debugging minimisation, single-fault sweeps.
#include <faultline/sweep.hpp>

#include <faultline/invariant.hpp>

#include <algorithm>
#include <exception>
#include <utility>

namespace faultline {

namespace {

std::string faults_text(std::size_t n) { return std::to_string(n) + (n == 1 ? " fault" : " faults"); }

enum class arm_with { plan, schedule, record_only };

chaos_run run_once(const sweep_options& options, std::uint64_t seed, arm_with how, const fault_schedule* schedule,
                   const chaos_scenario& scenario, bool keep_events) {
  sim_options so = options.sim;
  so.seed = seed;
  so.perturb = options.perturb;
  chaos_run r;
  r.seed = seed;
  sim_context sim(so);
  auto& engine = chaos(sim);
  switch (how) {
    case arm_with::plan: engine.use(options.plan); break;
    case arm_with::schedule: engine.replay(*schedule); break;
    case arm_with::record_only: engine.off(true); break;
  }
  try {
    scenario(sim);
  } catch (const std::exception& e) {
    r.failed = true;
    r.failure = e.what();
  } catch (...) {
    r.failed = true;
    r.failure = "an exception that is not a std::exception";
  }
  if (r.failed && r.failure.empty()) r.failure = "(an exception with an empty what())";
  // Broken even if the scenario caught the violation and went on.
  if (auto v = broken_invariant(sim)) {
    r.invariant = v->name();
    if (!r.failed) r.failure = v->what();
    r.failed = true;
  }
  r.swarm = engine.swarm_subset();
  r.schedule = engine.injected();
  r.coverage = engine.coverage();
  r.trace_hash = sim.trace().hash();
  r.trace_events = sim.trace().total();
  r.ended = sim.now();
  if (keep_events) r.events = sim.trace().events();
  return r;
}

void merge(std::map<std::string, point_coverage, std::less<>>& into,
           const std::map<std::string, point_coverage, std::less<>>& from) {
  for (const auto& [name, c] : from) {
    auto& m = into[name];
    m.calls += c.calls;
    m.injected += c.injected;
  }
}

std::vector<std::string> gaps(const chaos_plan& plan, const std::map<std::string, point_coverage, std::less<>>& cov) {
  std::vector<std::string> out;
  std::map<std::string, bool, std::less<>> points;  // name -> named by the plan
  for (const auto& [name, c] : cov) points[name] = false;
  for (const auto& [name, r] : plan.points()) points[name] = true;
  // Not a structured binding: clang 14 cannot capture one in the lambda below.
  for (const auto& point : points) {
    const std::string& name = point.first;
    const bool named = point.second;
    auto it = cov.find(name);
    if (it == cov.end() || it->second.calls == 0) {
      if (named) out.push_back(name + ": never called");
      continue;
    }
    const fault_rates& r = plan.rates(name);
    const fault_counts& got = it->second.injected;
    auto check = [&](fault_kind k, bool possible) {
      if (possible && got[k] == 0) out.push_back(name + ": " + to_string(k) + " never injected");
    };
    check(fault_kind::error, r.error_rate() > 0);
    check(fault_kind::hang, r.hang_rate() > 0);
    check(fault_kind::cancel, r.cancel_rate() > 0);
    check(fault_kind::latency, r.latency().kind != latency_dist::shape::none && r.latency().probability > 0);
  }
  return out;
}

class minimiser {
 public:
  minimiser(const sweep_options& o, const chaos_run& failing, const chaos_scenario& s)
      : options_(o), seed_(failing.seed), invariant_(failing.invariant), scenario_(s) {}

  minimised_failure run(std::vector<fault> faults, std::string failure) {
    result_.failure = std::move(failure);
    if (!fails(faults)) {
      result_.reproduced = false;
      result_.schedule = fault_schedule(std::move(faults));
      return result_;
    }
    ddmin(faults);
    if (faults.size() == 1) {
      std::vector<fault> none;
      if (fails(none)) faults.clear();
    }
    shorten_latencies(faults);
    move_earlier(faults);
    result_.schedule = fault_schedule(std::move(faults));
    return result_;
  }

 private:
  bool fails(const std::vector<fault>& faults) {
    if (result_.runs >= options_.minimise_budget) {
      result_.budget_exhausted = true;
      return false;
    }
    ++result_.runs;
    const fault_schedule s(faults);
    chaos_run r = run_schedule(options_, s, seed_, scenario_);
    const bool same = r.failed && (invariant_.empty() || r.invariant == invariant_);
    if (same) result_.failure = std::move(r.failure);
    return same;
  }

  // Zeller's ddmin, complements only: a failure caused by k faults shrinks
  // to them in O(k log n) reruns.
  void ddmin(std::vector<fault>& faults) {
    std::size_t n = 2;
    while (faults.size() >= 2) {
      const std::size_t chunk = (faults.size() + n - 1) / n;
      bool reduced = false;
      for (std::size_t start = 0; start < faults.size(); start += chunk) {
        std::vector<fault> rest;
        for (std::size_t i = 0; i < faults.size(); ++i)
          if (i < start || i >= start + chunk) rest.push_back(faults[i]);
        if (fails(rest)) {
          faults = std::move(rest);
          n = std::max<std::size_t>(n - 1, 2);
          reduced = true;
          break;
        }
      }
      if (!reduced) {
        if (n >= faults.size()) break;
        n = std::min(n * 2, faults.size());
      }
    }
  }

  void shorten_latencies(std::vector<fault>& faults) {
    for (auto& f : faults) {
      if (f.kind != fault_kind::latency) continue;
      while (f.latency >= std::chrono::microseconds(2)) {
        fault shorter = f;
        shorter.latency = std::chrono::duration_cast<std::chrono::microseconds>(f.latency / 2);
        auto trial = faults;
        for (auto& g : trial)
          if (g.point == f.point && g.call == f.call) g = shorter;
        if (!fails(trial)) break;
        f = shorter;
      }
    }
  }

  static bool taken(const std::vector<fault>& faults, const fault& f, std::uint64_t call) {
    for (const auto& g : faults)
      if (&g != &f && g.point == f.point && g.call == call) return true;
    return false;
  }

  // The earliest call at which the fault still breaks the run: a binary
  // search, assuming earlier calls mostly keep failing once one does.
  void move_earlier(std::vector<fault>& faults) {
    for (auto& f : faults) {
      std::uint64_t lo = 0, hi = f.call;
      while (lo < hi) {
        const std::uint64_t mid = lo + (hi - lo) / 2;
        if (taken(faults, f, mid)) {
          lo = mid + 1;
          continue;
        }
        const std::uint64_t keep = f.call;
        f.call = mid;
        const bool still = fails(faults);
        f.call = keep;
        if (still)
          hi = mid;
        else
          lo = mid + 1;
      }
      f.call = hi;
    }
  }

  const sweep_options& options_;
  std::uint64_t seed_;
  std::string invariant_;
  const chaos_scenario& scenario_;
  minimised_failure result_;
};

}  // namespace

bool in_shard(const sweep_options& options, std::uint64_t seed) noexcept {
  if (options.shard_count <= 1) return true;
  return (seed - options.first_seed) % options.shard_count == options.shard_index;
}

chaos_run run_seed(const sweep_options& options, std::uint64_t seed, const chaos_scenario& scenario, bool keep_events) {
  return run_once(options, seed, arm_with::plan, nullptr, scenario, keep_events);
}

chaos_run run_schedule(const sweep_options& options, const fault_schedule& schedule, std::uint64_t seed,
                       const chaos_scenario& scenario, bool keep_events) {
  return run_once(options, seed, arm_with::schedule, &schedule, scenario, keep_events);
}

minimised_failure minimise(const sweep_options& options, const chaos_run& failing, const chaos_scenario& scenario) {
  return minimiser(options, failing, scenario).run(failing.schedule.faults(), failing.failure);
}

sweep_result sweep(const sweep_options& options, const chaos_scenario& scenario) {
  if (options.shard_count == 0 || options.shard_index >= options.shard_count)
    throw std::invalid_argument("faultline: sweep: shard " + std::to_string(options.shard_index) + " of " +
                                std::to_string(options.shard_count) +
                                " does not exist; the index must be below the count");
  sweep_result result;
  for (std::uint64_t i = 0; i < options.seeds; ++i) {
    const std::uint64_t seed = options.first_seed + i;
    if (!in_shard(options, seed)) continue;
    if (options.on_seed) options.on_seed(seed);
    chaos_run r = run_seed(options, seed, scenario);
    ++result.seeds_run;
    merge(result.coverage, r.coverage);
    if (r.failed) {
      result.failure = std::move(r);
      break;
    }
  }
  if (result.failure && options.minimise_budget > 0) result.minimal = minimise(options, *result.failure, scenario);
  result.never_exercised = gaps(options.plan, result.coverage);
  return result;
}

std::string describe(const sweep_result& r) {
  std::string s = "ran " + std::to_string(r.seeds_run) + (r.seeds_run == 1 ? " seed" : " seeds");
  if (!r.failure) {
    s += ", all passed\n";
  } else {
    const auto& f = *r.failure;
    s += "; seed " + std::to_string(f.seed) + " failed at " + to_string(f.ended) + ": " + f.failure + "\n";
    s += "  schedule (" + faults_text(f.schedule.size()) + "): " + f.schedule.to_string() + "\n";
    if (!f.swarm.empty()) s += "  swarm subset: " + f.swarm + "\n";
    if (r.minimal) {
      const auto& m = *r.minimal;
      if (!m.reproduced) {
        s += "  replaying that schedule passed: the scenario is not deterministic (check_determinism finds where)\n";
      } else {
        s += "  minimal schedule (" + faults_text(m.schedule.size()) + ", " + std::to_string(m.runs) +
             " reruns" + (m.budget_exhausted ? ", budget used up" : "") + "): " + m.schedule.to_string() + "\n";
        s += "  which fails with: " + m.failure + "\n";
      }
    }
  }
  if (!r.never_exercised.empty()) {
    s += "  never exercised in the " + std::to_string(r.seeds_run) + (r.seeds_run == 1 ? " seed" : " seeds") + " run:";
    for (const auto& g : r.never_exercised) s += " " + g + ";";
    s += "\n";
  }
  return s;
}

single_fault_result sweep_single_faults(const single_fault_options& options, const chaos_scenario& scenario) {
  sweep_options o;
  o.sim = options.sim;
  single_fault_result result;
  result.baseline = run_once(o, options.seed, arm_with::record_only, nullptr, scenario, false);
  if (result.baseline.failed) {
    result.failure = result.baseline;
    return result;
  }
  for (const auto& [point, c] : result.baseline.coverage) {
    for (std::uint64_t call = 0; call < c.calls; ++call) {
      for (fault_kind k : options.kinds) {
        fault f;
        f.point = point;
        f.call = call;
        f.kind = k;
        if (k == fault_kind::latency) f.latency = options.latency;
        if (k == fault_kind::error) f.error_code = options.error_code;
        const fault_schedule s({f});
        ++result.runs;
        chaos_run r = run_schedule(o, s, options.seed, scenario);
        if (r.failed) {
          result.failure = std::move(r);
          return result;
        }
      }
    }
  }
  return result;
}

determinism_result check_determinism(const sweep_options& options, std::uint64_t seed, const chaos_scenario& scenario) {
  sweep_options o = options;
  // Keep enough of the trace to point at the divergence.
  o.sim.trace_capacity = std::max<std::size_t>(o.sim.trace_capacity, std::size_t{1} << 16);
  const chaos_run a = run_seed(o, seed, scenario, true);
  const chaos_run b = run_seed(o, seed, scenario, true);
  determinism_result r;
  r.first_hash = a.trace_hash;
  r.second_hash = b.trace_hash;
  r.deterministic = a.trace_hash == b.trace_hash && a.trace_events == b.trace_events;
  if (r.deterministic) return r;
  const std::size_t n = std::min(a.events.size(), b.events.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto& x = a.events[i];
    const auto& y = b.events[i];
    if (x.index != y.index || x.at != y.at || x.kind != y.kind || x.subject != y.subject || x.detail != y.detail) {
      r.first_difference = "event " + std::to_string(x.index) + ": " + x.describe() + " vs " + y.describe();
      return r;
    }
  }
  if (a.events.size() != b.events.size()) {
    const auto& longer = a.events.size() > b.events.size() ? a.events : b.events;
    r.first_difference = "event " + std::to_string(longer[n].index) + ": one run ended before " + longer[n].describe();
  } else {
    r.first_difference = "before the retained trace; raise sim_options::trace_capacity";
  }
  return r;
}

}  // namespace faultline
