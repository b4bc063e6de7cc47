// faultline - chaos sweeps: seeded runs, schedule replay, delta-debugging minimisation, single-fault sweeps.
#include <faultline/sweep.hpp>

#include <faultline/detail/mix.hpp>
#include <faultline/invariant.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <utility>

#include <sys/wait.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FAULTLINE_SWEEP_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FAULTLINE_SWEEP_ASAN 1
#endif
#if defined(FAULTLINE_SWEEP_ASAN)
#include <sanitizer/common_interface_defs.h>
#endif

namespace faultline {

namespace {

std::string faults_text(std::size_t n) { return std::to_string(n) + (n == 1 ? " fault" : " faults"); }

enum class arm_with { plan, schedule, record_only };

// The engine of the run in progress on this thread, for a child's crash handler.
thread_local chaos_engine* running_engine = nullptr;

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
  struct expose {
    explicit expose(chaos_engine* e) { running_engine = e; }
    ~expose() { running_engine = nullptr; }
  } exposed(&engine);
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

// ---- Isolated runs: one child process per run, the result sent back over a pipe.
// Records are a tag byte ('R': the run's result, 'C': the schedule injected
// before a crash) followed by fields, each "<length>:<bytes>".

void put(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

void put(std::string& out, std::uint64_t n) { put(out, std::to_string(n)); }

class record_reader {
 public:
  explicit record_reader(std::string_view text) : text_(text) {}
  bool done() const noexcept { return text_.empty(); }
  char tag() {
    if (text_.empty()) throw std::runtime_error("truncated");
    const char t = text_.front();
    text_.remove_prefix(1);
    return t;
  }
  std::string_view field() {
    const auto colon = text_.find(':');
    if (colon == std::string_view::npos) throw std::runtime_error("truncated");
    std::size_t n = 0;
    for (char c : text_.substr(0, colon)) n = n * 10 + static_cast<std::size_t>(c - '0');
    if (colon + 1 + n > text_.size()) throw std::runtime_error("truncated");
    const auto f = text_.substr(colon + 1, n);
    text_.remove_prefix(colon + 1 + n);
    return f;
  }
  std::uint64_t number() { return std::stoull(std::string(field())); }

 private:
  std::string_view text_;
};

int child_fd = -1;

void write_all(int fd, const char* p, std::size_t n) noexcept {
  while (n > 0) {
    const auto w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

// Sends the faults injected so far. Not async-signal-safe (it allocates): the
// child is dying anyway, and the alarm ends it should a broken heap hang it.
extern "C" void faultline_child_crashed() {
  ::alarm(5);
  if (!running_engine || child_fd < 0) return;
  std::string rec = "C";
  put(rec, running_engine->injected().to_string());
  write_all(child_fd, rec.data(), rec.size());
  child_fd = -1;
}

extern "C" void faultline_child_signal(int sig) {
  faultline_child_crashed();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

constexpr int fatal_signals[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL};

std::string signal_name(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGALRM: return "SIGALRM";
    case SIGKILL: return "SIGKILL";
    default: return "signal " + std::to_string(sig);
  }
}

std::string result_record(const chaos_run& r) {
  std::string rec = "R";
  put(rec, r.failed ? 1 : 0);
  put(rec, r.failure);
  put(rec, r.schedule.to_string());
  put(rec, r.trace_hash);
  put(rec, r.trace_events);
  put(rec, static_cast<std::uint64_t>(r.ended.time_since_epoch().count()));
  put(rec, r.coverage.size());
  for (const auto& [name, c] : r.coverage) {
    put(rec, name);
    put(rec, c.calls);
    for (auto n : c.injected.by_kind) put(rec, n);
  }
  return rec;
}

[[noreturn]] void run_child(int fd, const sweep_options& options, std::uint64_t seed, arm_with how,
                            const fault_schedule* schedule, const chaos_scenario& scenario) {
  child_fd = fd;
  for (int sig : fatal_signals) ::signal(sig, faultline_child_signal);
#if defined(FAULTLINE_SWEEP_ASAN)
  // A sanitizer report ends the child through exit(), not a signal.
  __sanitizer_set_death_callback(faultline_child_crashed);
#endif
  std::string rec;
  try {
    rec = result_record(run_once(options, seed, how, schedule, scenario, false));
  } catch (const std::exception& e) {
    chaos_run r;
    r.failed = true;
    r.failure = e.what();
    rec = result_record(r);
  }
  write_all(fd, rec.data(), rec.size());
  ::close(fd);
  std::fflush(nullptr);
  ::_exit(0);
}

chaos_run read_result(std::string_view text, std::uint64_t seed, bool& complete, std::optional<fault_schedule>& crash) {
  chaos_run r;
  r.seed = seed;
  record_reader in(text);
  try {
    while (!in.done()) {
      const char tag = in.tag();
      if (tag == 'C') {
        crash = fault_schedule::parse(in.field());
        continue;
      }
      r.failed = in.number() != 0;
      r.failure = std::string(in.field());
      r.schedule = fault_schedule::parse(in.field());
      r.trace_hash = in.number();
      r.trace_events = in.number();
      r.ended = sim_clock::time_point(sim_clock::duration(static_cast<sim_clock::rep>(in.number())));
      const auto points = in.number();
      for (std::uint64_t i = 0; i < points; ++i) {
        auto& c = r.coverage[std::string(in.field())];
        c.calls = in.number();
        for (auto& n : c.injected.by_kind) n = in.number();
      }
      complete = true;
    }
  } catch (const std::exception&) {
    complete = false;  // a child killed mid-write: treated as a crash
  }
  return r;
}

chaos_run run_isolated(const sweep_options& options, std::uint64_t seed, arm_with how, const fault_schedule* schedule,
                       const chaos_scenario& scenario) {
  // Buffered output would be written twice, by the child and by us.
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  int fds[2];
  if (::pipe(fds) != 0)
    throw std::system_error(errno, std::generic_category(), "faultline: sweep: pipe() for an isolated run");
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::system_error(e, std::generic_category(),
                            "faultline: sweep: fork() for an isolated run; turn isolation off to run in-process");
  }
  if (pid == 0) {
    ::close(fds[0]);
    run_child(fds[1], options, seed, how, schedule, scenario);
  }
  ::close(fds[1]);
  std::string text;
  char buf[4096];
  for (;;) {
    const auto n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  bool complete = false;
  std::optional<fault_schedule> crash;
  chaos_run r = read_result(text, seed, complete, crash);
  if (complete && WIFEXITED(status) && WEXITSTATUS(status) == 0) return r;
  r = chaos_run{};
  r.seed = seed;
  r.failed = true;
  if (WIFSIGNALED(status))
    r.failure = "the run crashed with " + signal_name(WTERMSIG(status)) + " (in a child process)";
  else
    r.failure = "the run's child process exited with status " + std::to_string(WEXITSTATUS(status)) +
                " before it ended (a sanitizer's report or an exit() in the code under test; see its output)";
  if (crash)
    r.schedule = std::move(*crash);
  else if (schedule)
    r.schedule = *schedule;
  return r;
}

chaos_run run_armed(const sweep_options& options, std::uint64_t seed, arm_with how, const fault_schedule* schedule,
                    const chaos_scenario& scenario, bool keep_events) {
  if (options.isolate) return run_isolated(options, seed, how, schedule, scenario);
  return run_once(options, seed, how, schedule, scenario, keep_events);
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
    result_.schedule = fault_schedule(in_call_order(std::move(faults)));
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
    if (same) {
      result_.failure = std::move(r.failure);
      last_injected_ = std::move(r.schedule);
    }
    return same;
  }

  // Every accepted step was the last failing run, so its injection log holds
  // the minimal faults in the order the run met them; faults it never
  // reached (the budget ran out) go last.
  std::vector<fault> in_call_order(std::vector<fault> faults) const {
    std::vector<fault> out;
    for (const auto& g : last_injected_.faults()) {
      auto it = std::find_if(faults.begin(), faults.end(),
                             [&](const fault& f) { return f.point == g.point && f.call == g.call; });
      if (it == faults.end()) continue;
      out.push_back(std::move(*it));
      faults.erase(it);
    }
    for (auto& f : faults) out.push_back(std::move(f));
    return out;
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
  fault_schedule last_injected_;
};

}  // namespace

bool in_shard(const sweep_options& options, std::uint64_t seed) noexcept {
  if (options.shard_count <= 1) return true;
  return (seed - options.first_seed) % options.shard_count == options.shard_index;
}

chaos_run run_seed(const sweep_options& options, std::uint64_t seed, const chaos_scenario& scenario, bool keep_events) {
  return run_armed(options, seed, arm_with::plan, nullptr, scenario, keep_events);
}

chaos_run run_schedule(const sweep_options& options, const fault_schedule& schedule, std::uint64_t seed,
                       const chaos_scenario& scenario, bool keep_events) {
  if (options.on_schedule) options.on_schedule(schedule, seed);
  return run_armed(options, seed, arm_with::schedule, &schedule, scenario, keep_events);
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
    if (result.seeds_run > 0 && options.keep_going && !options.keep_going(result)) {
      result.stopped = true;
      break;
    }
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

std::string describe_faults(const std::map<std::string, point_coverage, std::less<>>& coverage) {
  fault_counts all;
  for (const auto& [name, c] : coverage) all += c.injected;
  std::string s;
  for (std::size_t k = 0; k < fault_kind_count; ++k) {
    if (all.by_kind[k] == 0) continue;
    if (!s.empty()) s += ", ";
    s += std::to_string(all.by_kind[k]) + " " + to_string(static_cast<fault_kind>(k));
  }
  return s.empty() ? "no faults" : s;
}

std::string describe_calls(const std::map<std::string, point_coverage, std::less<>>& coverage) {
  std::string s;
  for (const auto& [name, c] : coverage) {
    if (!s.empty()) s += ", ";
    s += name + " " + std::to_string(c.calls) + (c.calls == 1 ? " call" : " calls");
  }
  return s.empty() ? "no injection point called" : s;
}

namespace {

sweep_options run_options(const single_fault_options& options) {
  sweep_options o;
  o.sim = options.sim;
  o.isolate = options.isolate;
  return o;
}

bool wanted(const single_fault_options& o, const std::string& point) {
  if (!o.points.empty() && std::find(o.points.begin(), o.points.end(), point) == o.points.end()) return false;
  return std::find(o.excluded_points.begin(), o.excluded_points.end(), point) == o.excluded_points.end();
}

void check_options(const single_fault_options& o, const char* fn) {
  if (o.kinds.empty())
    throw std::invalid_argument(std::string("faultline: ") + fn +
                                ": options.kinds is empty; name at least one fault_kind to try");
  for (const auto& code : o.error_codes) {
    fault f;
    f.point = "p";
    f.kind = fault_kind::error;
    f.error_code = code;
    try {
      const fault_schedule check({f});
      if (!(fault_schedule::parse(check.to_string()) == check))
        throw schedule_error("it prints as " + check.to_string() + ", which parses back to another fault");
    } catch (const schedule_error& e) {
      throw std::invalid_argument(std::string("faultline: ") + fn + ": options.error_codes holds " +
                                  code.category().name() + ":" + std::to_string(code.value()) +
                                  ", which a schedule cannot replay (" + e.what() + ")");
    }
  }
}

// A point named in options.points that the fault-free run never called is
// most likely a misspelt name: a sweep over it would pass without trying anything.
void check_points(const single_fault_options& o, const chaos_run& baseline, const char* fn) {
  for (const auto& p : o.points) {
    if (baseline.coverage.count(p) != 0) continue;
    throw std::invalid_argument(std::string("faultline: ") + fn + ": options.points names \"" + p +
                                "\", which the fault-free run never called (it called: " +
                                describe_calls(baseline.coverage) + "); fix the name or drop it");
  }
}

// The faults to try at `call` of `point`, in kind order, then code or latency order.
void faults_at(const single_fault_options& o, const std::string& point, std::uint64_t call, std::vector<fault>& out) {
  for (fault_kind k : o.kinds) {
    fault f;
    f.point = point;
    f.call = call;
    f.kind = k;
    if (k == fault_kind::error) {
      if (o.error_codes.empty()) {
        f.error_code = o.error_code;
        out.push_back(f);
      }
      for (const auto& code : o.error_codes) {
        f.error_code = code;
        out.push_back(f);
      }
    } else if (k == fault_kind::latency) {
      if (o.latencies.empty()) {
        f.latency = o.latency;
        out.push_back(f);
      }
      for (auto d : o.latencies) {
        f.latency = d;
        out.push_back(f);
      }
    } else {
      out.push_back(f);
    }
  }
}

// Every fault to try in a run whose points saw `coverage`'s calls.
std::vector<fault> single_faults(const single_fault_options& o,
                                 const std::map<std::string, point_coverage, std::less<>>& coverage) {
  std::vector<fault> out;
  for (const auto& [point, c] : coverage) {
    if (!wanted(o, point)) continue;
    for (std::uint64_t call = 0; call < std::min(c.calls, o.max_call); ++call) faults_at(o, point, call, out);
  }
  return out;
}

constexpr std::uint64_t default_pair_max_call = 8;

bool before(const fault& a, const fault& b) {
  if (a.call != b.call) return a.call < b.call;
  return a.point < b.point;
}

chaos_run run_faults(const single_fault_options& options, std::vector<fault> faults, const chaos_scenario& scenario) {
  std::stable_sort(faults.begin(), faults.end(), before);
  const fault_schedule s(std::move(faults));
  if (options.on_schedule) options.on_schedule(s);
  chaos_run r = run_armed(run_options(options), options.seed, arm_with::schedule, &s, scenario, false);
  // The schedule tried, not only what was injected: a fault the run never reached still names the run.
  r.schedule = s;
  return r;
}

// Checks the options and makes the fault-free run; false when it failed (then the only failure).
bool run_baseline(const single_fault_options& options, const chaos_scenario& scenario, const char* fn,
                  single_fault_result& result) {
  check_options(options, fn);
  if (options.on_schedule) options.on_schedule(fault_schedule{});
  result.baseline = run_armed(run_options(options), options.seed, arm_with::record_only, nullptr, scenario, false);
  if (result.baseline.failed) {
    result.failures.push_back(result.baseline);
    return false;
  }
  check_points(options, result.baseline, fn);
  return true;
}

}  // namespace

single_fault_result sweep_single_faults(const single_fault_options& options, const chaos_scenario& scenario) {
  single_fault_result result;
  if (!run_baseline(options, scenario, "sweep_single_faults", result)) return result;
  for (const fault& f : single_faults(options, result.baseline.coverage)) {
    ++result.runs;
    result.tried.add(f.kind);
    chaos_run r = run_faults(options, {f}, scenario);
    if (r.failed) result.failures.push_back(std::move(r));
  }
  return result;
}

single_fault_result sweep_fault_pairs(const single_fault_options& given, const chaos_scenario& scenario) {
  single_fault_options options = given;
  if (options.max_call == UINT64_MAX) options.max_call = default_pair_max_call;
  single_fault_result result;
  if (!run_baseline(options, scenario, "sweep_fault_pairs", result)) return result;
  const std::vector<fault> firsts = single_faults(options, result.baseline.coverage);
  std::set<std::string> failing_alone;  // schedule texts of single faults that fail
  std::vector<std::pair<fault, chaos_run>> survivors;
  for (const fault& a : firsts) {
    ++result.runs;
    result.tried.add(a.kind);
    chaos_run r = run_faults(options, {a}, scenario);
    if (r.failed) {
      failing_alone.insert(r.schedule.to_string());
      result.single_failures.push_back(std::move(r));
    } else {
      survivors.emplace_back(a, std::move(r));
    }
  }
  std::set<std::string> tried;  // pairs run, by schedule text: each pair once
  for (const auto& [a, with_a] : survivors) {
    for (const fault& b : single_faults(options, with_a.coverage)) {
      if (b.point == a.point && b.call == a.call) continue;
      if (failing_alone.count(fault_schedule({b}).to_string()) != 0) continue;
      std::vector<fault> pair{a, b};
      std::stable_sort(pair.begin(), pair.end(), before);
      if (!tried.insert(fault_schedule(pair).to_string()).second) continue;
      if (result.runs >= options.max_runs) {
        result.truncated = true;
        return result;
      }
      ++result.runs;
      chaos_run r = run_faults(options, std::move(pair), scenario);
      if (r.failed) result.failures.push_back(std::move(r));
    }
  }
  return result;
}

std::string describe(const single_fault_result& r) {
  if (r.runs == 0 && r.baseline.failed)
    return "the scenario fails without any fault, at " + to_string(r.baseline.ended) + ": " + r.baseline.failure + "\n";
  std::string s;
  if (r.failures.empty()) {
    s = std::to_string(r.runs) + " faulted runs, none failed (faults tried: " + describe_faults({{"", {0, r.tried}}}) +
        "; fault-free run: " + describe_calls(r.baseline.coverage) + ")\n";
  } else {
    s = std::to_string(r.failures.size()) + " of " + std::to_string(r.runs) + " faulted runs failed:\n";
    std::size_t width = 5;
    for (const auto& f : r.failures) width = std::max(width, f.schedule.to_string().size());
    auto row = [&](const std::string& a, const std::string& b, const std::string& c) {
      s += "  " + a + std::string(width - a.size() + 2, ' ') + b + std::string(b.size() < 10 ? 10 - b.size() : 1, ' ') +
           c + "\n";
    };
    row("fault", "ended", "failure (first line)");
    for (const auto& f : r.failures) row(f.schedule.to_string(), to_string(f.ended), f.failure.substr(0, f.failure.find('\n')));
  }
  if (!r.single_failures.empty())
    s += "  " + std::to_string(r.single_failures.size()) +
         " single faults fail alone, so no pair holding one was run: the single-fault sweep reports them\n";
  if (r.truncated)
    s += "  stopped after " + std::to_string(r.runs) +
         " runs (max_runs): lower max_call, or name fewer points or kinds, to sweep every pair\n";
  return s;
}

namespace {

// Rearranges the heap's free memory from `seed` while it lives:
// chunks of assorted sizes, of which a shuffled half is freed at once, so
// allocations that follow land in holes in an order the seed decides rather
// than in the order they were made.
class heap_perturbation {
 public:
  explicit heap_perturbation(std::uint64_t seed) {
    constexpr std::size_t n = 4096;
    std::vector<std::unique_ptr<char[]>> chunks(n);
    std::uint64_t h = detail::splitmix64(seed ^ 0x68656170ull);  // "heap"
    for (auto& c : chunks) {
      h = detail::splitmix64(h);
      c.reset(new char[16 + h % 1024]);
      c[0] = 0;  // touched, so no allocator can skip it
    }
    for (std::size_t i = n - 1; i > 0; --i) {  // Fisher-Yates, from the seed
      h = detail::splitmix64(h);
      std::swap(chunks[i], chunks[h % (i + 1)]);
    }
    for (std::size_t i = 0; i < n / 2; ++i) chunks[i].reset();
    held_.reserve(n / 2);
    for (std::size_t i = n / 2; i < n; ++i) held_.push_back(std::move(chunks[i]));
  }

 private:
  std::vector<std::unique_ptr<char[]>> held_;
};

// "event 12: a vs b", or where the runs part when one is a prefix of the other.
std::string first_difference(const chaos_run& a, const chaos_run& b) {
  const std::size_t n = std::min(a.events.size(), b.events.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto& x = a.events[i];
    const auto& y = b.events[i];
    if (x.index != y.index || x.at != y.at || x.kind != y.kind || x.subject != y.subject || x.detail != y.detail)
      return "event " + std::to_string(x.index) + ": " + x.describe() + " vs " + y.describe();
  }
  if (a.events.size() != b.events.size()) {
    const auto& longer = a.events.size() > b.events.size() ? a.events : b.events;
    return "event " + std::to_string(longer[n].index) + ": one run ended before " + longer[n].describe();
  }
  return "before the retained trace; raise sim_options::trace_capacity";
}

// True when, from the first event that differs to the end of that instant,
// both runs hold the same events in another order: a different order, not
// different work (another time, another value, a call more or less).
bool reordered_at_first_difference(const chaos_run& a, const chaos_run& b) {
  const std::size_t n = std::min(a.events.size(), b.events.size());
  std::size_t i = 0;
  auto same = [](const trace_event& x, const trace_event& y) {
    return x.at == y.at && x.kind == y.kind && x.subject == y.subject && x.detail == y.detail;
  };
  while (i < n && same(a.events[i], b.events[i])) ++i;
  if (i == n || a.events[i].at != b.events[i].at) return false;
  const auto instant = a.events[i].at;
  auto rest = [&](const std::vector<trace_event>& events) {
    std::vector<std::string> out;
    for (std::size_t k = i; k < events.size() && events[k].at == instant; ++k)
      out.push_back(std::string(to_string(events[k].kind)) + '\x1f' + events[k].subject + '\x1f' + events[k].detail);
    std::sort(out.begin(), out.end());
    return out;
  };
  return rest(a.events) == rest(b.events);
}

bool same_run(const chaos_run& a, const chaos_run& b) noexcept {
  return a.trace_hash == b.trace_hash && a.trace_events == b.trace_events;
}

}  // namespace

determinism_result check_determinism(const sweep_options& options, std::uint64_t seed, const chaos_scenario& scenario) {
  sweep_options o = options;
  // Keep enough of the trace to point at the divergence.
  o.sim.trace_capacity = std::max<std::size_t>(o.sim.trace_capacity, std::size_t{1} << 16);
  const chaos_run a = run_seed(o, seed, scenario, true);
  std::optional<heap_perturbation> moved;
  if (o.determinism_moves_heap) moved.emplace(detail::splitmix64(seed));
  const chaos_run b = run_seed(o, seed, scenario, true);
  moved.reset();
  determinism_result r;
  r.first_hash = a.trace_hash;
  r.second_hash = b.trace_hash;
  r.deterministic = same_run(a, b);
  if (r.deterministic) return r;
  r.first_difference = first_difference(a, b);
  if (o.determinism_moves_heap && reordered_at_first_difference(a, b)) {
    r.address_dependent = true;
    r.first_difference =
        "the runs did the same things in another order at one instant, with the heap moved between them: the "
        "order follows heap addresses (a container ordered or hashed by pointer, such as "
        "std::set<std::shared_ptr<T>>; order by a stable key instead); " +
        r.first_difference;
  }
  return r;
}

}  // namespace faultline
