// faultline - FAULTLINE_CHAOS_TEST and FAULTLINE_FAULT_SWEEP_TEST: sweeps, seed logs, minimisation, replay.
#include <faultline/gtest/chaos.hpp>

#include <gtest/gtest-spi.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <unistd.h>

namespace faultline::testing {

namespace {

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

bool parse_u64(const char* text, std::uint64_t& out) {
  const char* end = text + std::strlen(text);
  auto [p, ec] = std::from_chars(text, end, out);
  return ec == std::errc() && p == end;
}

std::string full_name() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return info ? std::string(info->test_suite_name()) + "." + info->name() : std::string("?");
}

// The filter that selects this test and its shard copies.
std::string filter_name() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  if (!info) return "*";
  std::string name = info->name();
  if (auto slash = name.find("/shard"); slash != std::string::npos) name = name.substr(0, slash) + "*";
  return std::string(info->test_suite_name()) + "." + name;
}

std::string self_path() {
  char buf[4096];
  const auto n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "<test binary>";
  return std::string(buf, static_cast<std::size_t>(n));
}

// One POSIX shell word that the shell reads back as `s`, whatever it holds:
// single quotes, with each ' written as '\''.
std::string shell_quote(std::string_view s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  q += '\'';
  return q;
}

// `s` as it is when the shell needs no quoting for it (a plain path), else quoted.
std::string shell_word(std::string_view s) {
  bool plain = !s.empty();
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
                    c == '.' || c == '_' || c == '-' || c == '+' || c == ',' || c == ':' || c == '@' || c == '%';
    plain = plain && ok;
  }
  return plain ? std::string(s) : shell_quote(s);
}

// The command line that runs this test alone with `env` in front.
std::string rerun_command(const std::string& env) {
  return env + " " + shell_word(self_path()) + " --gtest_filter=" + shell_quote(filter_name());
}

void log_seed(const chaos_env& e, std::uint64_t seed) {
  std::cout << "[ chaos    ] " << full_name() << " seed " << seed << std::endl;
  if (e.seed_log.empty()) return;
  // Appended and flushed before the run, so a crash cannot lose it.
  std::ofstream log(e.seed_log, std::ios::app);
  log << full_name() << " seed " << seed << "\n";
}

// Collects the failures of one run instead of reporting them.
class failure_collector {
 public:
  failure_collector() : reporter_(::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results_) {}
  std::string failures() const {
    std::string s;
    for (int i = 0; i < results_.size(); ++i) {
      const auto& r = results_.GetTestPartResult(i);
      if (!r.failed()) continue;
      if (!s.empty()) s += "\n";
      s += r.message();
    }
    return s;
  }

 private:
  ::testing::TestPartResultArray results_;
  ::testing::ScopedFakeTestPartResultReporter reporter_;
};

// FAULTLINE_SCHEDULE, parsed; a malformed one fails the test.
std::optional<fault_schedule> schedule_from(const chaos_env& e) {
  try {
    return fault_schedule::parse(*e.schedule);
  } catch (const schedule_error& x) {
    ADD_FAILURE() << x.what() << " (from FAULTLINE_SCHEDULE)";
    return std::nullopt;
  }
}

}  // namespace

chaos_env chaos_env::from_environment() {
  chaos_env e;
  if (const char* v = env("FAULTLINE_SEEDS")) {
    if (!parse_u64(v, e.seeds) || e.seeds == 0)
      e.error = "FAULTLINE_SEEDS=\"" + std::string(v) + "\" is not a positive number of seeds; set e.g. FAULTLINE_SEEDS=1000";
  }
  if (const char* v = env("FAULTLINE_SEED")) {
    std::uint64_t s = 0;
    if (!parse_u64(v, s))
      e.error = "FAULTLINE_SEED=\"" + std::string(v) + "\" is not a seed; set a whole number, e.g. FAULTLINE_SEED=17";
    else
      e.seed = s;
  }
  if (const char* v = env("FAULTLINE_SCHEDULE")) e.schedule = v;
  if (const char* v = env("FAULTLINE_SEED_LOG")) e.seed_log = v;
  if (const char* v = env("FAULTLINE_PERTURB")) e.perturb = std::strcmp(v, "0") != 0;
  return e;
}

sim_context& chaos_test::sim() {
  if (!sim_) throw std::logic_error("faultline: chaos_test::sim() outside a run; use it inside the chaos test's body");
  return *sim_;
}

void chaos_test::run_body(sim_context& s, const body_fn& body) {
  sim_ = &s;
  struct reset {
    sim_context*& p;
    ~reset() { p = nullptr; }
  } r{sim_};
  auto out = s.run(body);
  if (out.has_exception()) {
    try {
      std::rethrow_exception(out.exception());
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the chaos test's body threw " << e.what() << " at " << to_string(out.completed_at());
    } catch (...) {
      ADD_FAILURE() << "the chaos test's body threw a non-standard exception at " << to_string(out.completed_at());
    }
  } else if (out.was_cancelled()) {
    ADD_FAILURE() << "the chaos test's body was cancelled at " << to_string(out.completed_at());
  }
  teardown_checks checks;
  checks.unmet_expectations = false;  // faults cut scenarios short: unused steps are expected
  checks.unreached_failpoints = false;
  expect_clean_teardown(s, checks);
}

chaos_scenario chaos_test::intercepted(const body_fn& body) {
  return [this, &body](sim_context& s) {
    std::string failures;
    {
      failure_collector c;
      try {
        run_body(s, body);
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
      }
      failures = c.failures();
    }
    if (!failures.empty()) throw std::runtime_error(failures);
  };
}

std::string chaos_test::replay_command(const fault_schedule& s, std::uint64_t seed) const {
  // Shell-quoted word by word: a point name may hold ', spaces or $.
  return rerun_command("FAULTLINE_SCHEDULE=" + shell_quote(s.to_string()) + " FAULTLINE_SEED=" + std::to_string(seed));
}

void chaos_test::replay_reporting(const sweep_options& o, const fault_schedule& s, std::uint64_t seed,
                                  const body_fn& body) {
  run_schedule(o, s, seed, [&](sim_context& sim) { run_body(sim, body); });
}

void chaos_test::run_chaos(sweep_options o, body_fn body) {
  // Faults cut scenarios short: unused steps and failpoints are expected.
  const quiet_self_reports quiet;
  const chaos_env e = chaos_env::from_environment();
  if (!e.error.empty()) {
    ADD_FAILURE() << "faultline: " << e.error;
    return;
  }
  o.perturb = o.perturb || e.perturb;
  o.shard_index = slice_index_;
  o.shard_count = slice_count_;
  if (e.schedule) {
    if (slice_index_ != 0) return;  // one copy replays
    const auto s = schedule_from(e);
    if (!s) return;
    std::cout << "[ chaos    ] " << full_name() << " replaying schedule " << s->to_string() << std::endl;
    replay_reporting(o, *s, e.seed.value_or(0), body);
    return;
  }
  if (e.seed) {
    if (slice_index_ != 0) return;
    log_seed(e, *e.seed);
    run_seed(o, *e.seed, [&](sim_context& sim) { run_body(sim, body); });
    return;
  }
  o.seeds = e.seeds;
  o.on_seed = [&e](std::uint64_t seed) { log_seed(e, seed); };
  const sweep_result r = sweep(o, intercepted(body));
  if (!r.never_exercised.empty()) {
    std::cout << "[ chaos    ] " << full_name() << " never exercised:";
    for (const auto& g : r.never_exercised) std::cout << " " << g << ";";
    std::cout << std::endl;
  }
  if (!r.failure) {
    std::cout << "[ chaos    ] " << full_name() << " passed " << r.seeds_run << " seeds" << std::endl;
    return;
  }
  const chaos_run& f = *r.failure;
  RecordProperty("faultline_seed", std::to_string(f.seed));
  RecordProperty("faultline_schedule", f.schedule.to_string());
  std::string report = "faultline: chaos sweep failed at seed " + std::to_string(f.seed) + " (seed " +
                       std::to_string(f.seed) + " of " + std::to_string(o.first_seed) + ".." +
                       std::to_string(o.first_seed + o.seeds - 1) + ")\n" + describe(r);
  const determinism_result d = check_determinism(o, f.seed, intercepted(body));
  if (!d.deterministic) report += "  the seed does not replay bit for bit; first difference: " + d.first_difference + "\n";
  const fault_schedule& minimal = r.minimal && r.minimal->reproduced ? r.minimal->schedule : f.schedule;
  RecordProperty("faultline_minimal_schedule", minimal.to_string());
  report += "  replay: " + replay_command(minimal, f.seed) + "\n";
  report += "  replay the seed: " + rerun_command("FAULTLINE_SEED=" + std::to_string(f.seed));
  std::cout << "[ chaos    ] " << report << std::endl;
  ADD_FAILURE() << report;
  // The minimal schedule once more, reported as usual: its failures, and the
  // failure timeline of its sim.
  std::cout << "[ chaos    ] replaying the minimal schedule " << minimal.to_string() << std::endl;
  replay_reporting(o, minimal, f.seed, body);
}

void chaos_test::run_single_faults(single_fault_options o, body_fn body) {
  const quiet_self_reports quiet;  // as in run_chaos
  const chaos_env e = chaos_env::from_environment();
  if (!e.error.empty()) {
    ADD_FAILURE() << "faultline: " << e.error;
    return;
  }
  if (slice_index_ != 0) return;  // deterministic: one copy runs it all
  sweep_options so;
  so.sim = o.sim;
  if (e.schedule) {
    const auto s = schedule_from(e);
    if (s) replay_reporting(so, *s, o.seed, body);
    return;
  }
  const single_fault_result r = sweep_single_faults(o, intercepted(body));
  std::cout << "[ chaos    ] " << full_name() << " single-fault sweep: " << r.runs << " runs over";
  for (const auto& [point, c] : r.baseline.coverage) std::cout << " " << point << " (" << c.calls << " calls)";
  std::cout << std::endl;
  if (!r.failure) return;
  const chaos_run& f = *r.failure;
  RecordProperty("faultline_schedule", f.schedule.to_string());
  std::string report = f.schedule.empty()
                           ? "faultline: the scenario fails without any fault: " + f.failure
                           : "faultline: single-fault sweep failed with " + f.schedule.to_string() + " (run " +
                                 std::to_string(r.runs) + ")\n  which fails with: " + f.failure;
  report += "\n  replay: " + replay_command(f.schedule, o.seed);
  ADD_FAILURE() << report;
  replay_reporting(so, f.schedule, o.seed, body);
}

void register_chaos_test(const char* suite, const char* name, const char* file, int line,
                         std::function<chaos_test*()> make) {
  std::uint64_t shards = 1;
  if (const char* v = env("GTEST_TOTAL_SHARDS")) {
    if (!parse_u64(v, shards) || shards == 0) shards = 1;
  }
  for (std::uint64_t k = 0; k < shards; ++k) {
    const std::string test = shards == 1 ? std::string(name) : std::string(name) + "/shard" + std::to_string(k);
    ::testing::RegisterTest(suite, test.c_str(), nullptr, nullptr, file, line,
                            [make, k, shards]() -> ::testing::Test* {
                              chaos_test* t = make();
                              t->set_slice(k, shards);
                              return t;
                            });
  }
}

}  // namespace faultline::testing
