// faultline - FAULTLINE_CHAOS_TEST and FAULTLINE_FAULT_SWEEP_TEST: sweeps, seed logs, minimisation, replay.
#include <faultline/gtest/chaos.hpp>

#include <gtest/gtest-spi.h>

#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <utility>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FAULTLINE_CHAOS_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FAULTLINE_CHAOS_ASAN 1
#endif
#if defined(FAULTLINE_CHAOS_ASAN)
#include <sanitizer/common_interface_defs.h>
#endif

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

// Copies of the running sweep's test (register_chaos_test's shards); set
// for the length of one sweep by `sweep_driver`.
std::uint64_t running_copies = 1;

// The filter that selects this test (one instantiation of a typed or
// value-parameterised test: `Inst/Suite.Name/1`) and all its shard copies.
std::string filter_name() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  if (!info) return "*";
  std::string name = info->name();
  // Only a registered copy's "/shard<k>" is cut: a parameter may be named "shard1".
  if (auto slash = name.rfind("/shard"); running_copies > 1 && slash != std::string::npos)
    name = name.substr(0, slash) + "*";
  return std::string(info->test_suite_name()) + "." + name;
}

const std::string& self_path() {
  static const std::string path = [] {
    char buf[4096];
    const auto n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return std::string("<test binary>");
    return std::string(buf, static_cast<std::size_t>(n));
  }();
  return path;
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

// The handler order of the chaos test running, "FAULTLINE_PERTURB=... " or
// empty: every replay command carries it, since the seed replays an order
// only under the same mode.
std::string perturb_env;

std::string perturb_env_of(const sweep_options& o) {
  if (!o.perturb) return {};
  if (o.sim.perturb_mode == perturbation::pct)
    return "FAULTLINE_PERTURB=pct:" + std::to_string(o.sim.pct_depth) + " ";
  return "FAULTLINE_PERTURB=1 ";
}

// The command line that runs this test alone with `env` in front.
std::string rerun_command(const std::string& env) {
  return perturb_env + env + " " + shell_word(self_path()) + " --gtest_filter=" + shell_quote(filter_name());
}

// ---- Crash notes: what runs now, preformatted before each run, so that a
// fatal signal's handler only has to write(2) it.

char crash_note[16384];
volatile std::sig_atomic_t crash_note_size = 0;
constexpr int crash_signals[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE};
struct sigaction previous_actions[std::size(crash_signals)];

const char* crash_signal_name(int sig) noexcept {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    default: return "a fatal signal";
  }
}

void write_note(const char* head) noexcept {
  const std::size_t n = static_cast<std::size_t>(crash_note_size);
  if (n == 0) return;
  const auto put = [](const char* p, std::size_t len) {
    while (len > 0) {
      const auto w = ::write(2, p, len);
      if (w <= 0) return;
      p += w;
      len -= static_cast<std::size_t>(w);
    }
  };
  put("\n[ chaos    ] faultline: ", 25);
  put(head, std::strlen(head));
  put(crash_note, n);
}

extern "C" void faultline_chaos_fatal_signal(int sig) {
  write_note(crash_signal_name(sig));
  crash_note_size = 0;
  for (std::size_t i = 0; i < std::size(crash_signals); ++i)
    if (crash_signals[i] == sig) ::sigaction(sig, &previous_actions[i], nullptr);
  ::raise(sig);  // the previous handler (a sanitizer's, or the default) takes it from here
}

#if defined(FAULTLINE_CHAOS_ASAN)
extern "C" void faultline_chaos_sanitizer_death() { write_note("a sanitizer report"); }
#endif

// Installed for one sweep: a crash then names what was running.
class crash_guard {
 public:
  crash_guard() {
    struct sigaction a {};
    a.sa_handler = faultline_chaos_fatal_signal;
    sigemptyset(&a.sa_mask);
    for (std::size_t i = 0; i < std::size(crash_signals); ++i) ::sigaction(crash_signals[i], &a, &previous_actions[i]);
#if defined(FAULTLINE_CHAOS_ASAN)
    __sanitizer_set_death_callback(faultline_chaos_sanitizer_death);
#endif
  }
  ~crash_guard() {
    crash_note_size = 0;
#if defined(FAULTLINE_CHAOS_ASAN)
    __sanitizer_set_death_callback(nullptr);
#endif
    for (std::size_t i = 0; i < std::size(crash_signals); ++i) ::sigaction(crash_signals[i], &previous_actions[i], nullptr);
  }
  crash_guard(const crash_guard&) = delete;
  crash_guard& operator=(const crash_guard&) = delete;

  /// What a crash from now on prints after "faultline: <signal>".
  static void note(const std::string& text) {
    crash_note_size = 0;
    const std::size_t n = std::min(text.size(), sizeof crash_note);
    std::memcpy(crash_note, text.data(), n);
    crash_note_size = static_cast<std::sig_atomic_t>(n);
  }
};

// Appended and flushed before the run, so a crash cannot lose it.
void append_line(const std::string& file, const std::string& line) {
  if (file.empty()) return;
  std::ofstream log(file, std::ios::app);
  log << line << "\n";
  log.flush();
}

void log_seed(const chaos_env& e, std::uint64_t seed) {
  append_line(e.seed_log, full_name() + " seed " + std::to_string(seed));
  crash_guard::note(" during " + full_name() + ", running seed " + std::to_string(seed) +
             "\n  replay: " + rerun_command("FAULTLINE_SEED=" + std::to_string(seed)) +
             "\n  to catch, minimise and report the crash as a failure, run each seed in a child process: " +
             rerun_command("FAULTLINE_ISOLATE=1") + "\n");
}

void log_schedule(const chaos_env& e, const fault_schedule& s, std::uint64_t seed) {
  const std::string text = s.to_string();
  append_line(e.seed_log, full_name() + " schedule " + text);
  crash_guard::note(" during " + full_name() + ", running schedule " + (text.empty() ? "(no faults)" : text) +
             "\n  replay: " + rerun_command("FAULTLINE_SCHEDULE=" + shell_quote(text) + " FAULTLINE_SEED=" +
                                           std::to_string(seed)) + "\n");
}

// A failure of the running test at its own file and line, reading exactly
// `text` (ADD_FAILURE() would put "Failed" in front of it).
void report_failure(const std::string& text) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const char* file = info ? info->file() : __FILE__;
  const int line = info ? info->line() : __LINE__;
  GTEST_MESSAGE_AT_(file, line, text.c_str(), ::testing::TestPartResult::kNonFatalFailure);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string wall_time(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, s < 10 ? "%.2f s" : "%.0f s", s);
  return buf;
}

// ---- Regression files: one line per minimal failing schedule, "seed <n>: <schedule>".

struct regression {
  std::uint64_t seed = 0;
  fault_schedule schedule;
  int line = 0;
};

std::string regression_file(const chaos_env& e) {
  if (e.regressions_dir.empty()) return {};
  std::string name = filter_name();
  if (!name.empty() && name.back() == '*') name.pop_back();
  // One flat file per instantiation: `Inst/Suite.Name/1` is `Inst-Suite.Name-1.txt`.
  for (char& c : name)
    if (c == '/') c = '-';
  return (std::filesystem::path(e.regressions_dir) / (name + ".txt")).string();
}

// The file's schedules in file order; a malformed line fails the test, naming it.
std::vector<regression> read_regressions(const std::string& file, bool& ok) {
  std::vector<regression> out;
  ok = true;
  std::ifstream in(file);
  std::string text;
  for (int n = 1; std::getline(in, text); ++n) {
    if (text.empty() || text[0] == '#') continue;
    regression r;
    r.line = n;
    const auto colon = text.find(':');
    const bool seeded = text.rfind("seed ", 0) == 0 && colon != std::string::npos &&
                        std::from_chars(text.data() + 5, text.data() + colon, r.seed).ptr == text.data() + colon;
    try {
      if (!seeded) throw schedule_error("expected \"seed <n>: <schedule>\"", 0);
      r.schedule = fault_schedule::parse(std::string_view(text).substr(colon + 1));
    } catch (const schedule_error& x) {
      report_failure("faultline: " + file + ":" + std::to_string(n) + " is not a regression line (" + x.what() +
                     "); each line is \"seed <n>: <schedule>\" as the sweep appends it; fix or delete the line");
      ok = false;
      return out;
    }
    out.push_back(std::move(r));
  }
  return out;
}

// Appends `s` unless the file holds it already; never rewrites the file.
void append_regression(const chaos_env& e, std::uint64_t seed, const fault_schedule& s) {
  const std::string file = regression_file(e);
  if (file.empty()) return;
  bool ok = true;
  for (const auto& r : read_regressions(file, ok))
    if (r.seed == seed && r.schedule == s) return;
  std::error_code ec;
  std::filesystem::create_directories(e.regressions_dir, ec);
  append_line(file, "seed " + std::to_string(seed) + ": " + s.to_string());
  std::cout << "[ chaos    ] " << full_name() << ": appended the minimal schedule to " << file
            << " (check it in: it replays first on every run)" << std::endl;
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
  if (const char* v = env("FAULTLINE_PERTURB")) {
    const std::string_view text = v;
    std::uint64_t depth = 0;
    if (text == "0" || text == "1") {
      e.perturb = text == "1";
    } else if (text == "pct") {
      e.perturb = true;
      e.perturb_mode = perturbation::pct;
    } else if (text.substr(0, 4) == "pct:" && parse_u64(std::string(text.substr(4)).c_str(), depth) && depth > 0 &&
               depth <= UINT32_MAX) {
      e.perturb = true;
      e.perturb_mode = perturbation::pct;
      e.pct_depth = static_cast<std::uint32_t>(depth);
    } else {
      e.error = "FAULTLINE_PERTURB=\"" + std::string(text) +
                "\" is not a handler order; set 1 (shuffle), pct (PCT, depth 3), pct:<d> (PCT with d - 1 change "
                "points, d >= 1) or 0 (off)";
    }
  }
  if (const char* v = env("FAULTLINE_ISOLATE")) e.isolate = std::strcmp(v, "0") != 0;
  if (const char* v = env("FAULTLINE_REGRESSIONS_DIR")) e.regressions_dir = v;
  if (const char* v = env("FAULTLINE_SWEEP_BUDGET")) {
    std::string text = v;
    const char unit = text.back();
    const std::uint64_t scale = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : 0;
    if (scale != 0) text.pop_back();
    std::uint64_t n = 0;
    if (!parse_u64(text.c_str(), n) || n == 0 || n > (std::uint64_t{1} << 40))
      e.error = "FAULTLINE_SWEEP_BUDGET=\"" + std::string(v) +
                "\" is not a budget; set a number of seeds (FAULTLINE_SWEEP_BUDGET=5000) or a wall time in s, m or h "
                "(FAULTLINE_SWEEP_BUDGET=10m)";
    else if (scale == 0)
      e.seeds = n;
    else
      e.time_budget = std::chrono::seconds(n * scale);
  }
  return e;
}

namespace {

// One sweep of a chaos body, as FAULTLINE_CHAOS_TEST, FAULTLINE_FAULT_SWEEP_TEST
// and FAULTLINE_PAIRWISE_SWEEP_TEST run it, and the run_*_sweep functions
// from any test body.
class sweep_driver {
 public:
  // `current`, if any, points at the running sim for the length of each run.
  sweep_driver(chaos_body body, std::uint64_t slice_index, std::uint64_t slice_count, sim_context** current = nullptr)
      : body_(std::move(body)), current_(current), slice_index_(slice_index), slice_count_(slice_count),
        copies_before_(std::exchange(running_copies, slice_count)) {
    if (!body_) throw std::invalid_argument("faultline: the chaos sweep's body is empty; pass a coroutine function");
  }
  ~sweep_driver() { running_copies = copies_before_; }
  sweep_driver(const sweep_driver&) = delete;
  sweep_driver& operator=(const sweep_driver&) = delete;

  void chaos(sweep_options o);
  void faults(single_fault_options o, bool pairs);

 private:
  // One run of the body on `s`; failures are GoogleTest's, or thrown.
  void run_body(sim_context& s);
  chaos_scenario intercepted();
  void replay_reporting(const sweep_options& o, const fault_schedule& s, std::uint64_t seed);
  std::string replay_command(const fault_schedule& s, std::uint64_t seed) const;
  // Replays the regression file's schedules; false when one failed (reported).
  bool replay_regressions(const chaos_env& e, const sweep_options& o);

  chaos_body body_;
  sim_context** current_;
  std::uint64_t slice_index_;
  std::uint64_t slice_count_;
  std::uint64_t copies_before_;
};

void sweep_driver::run_body(sim_context& s) {
  // sim() of a FAULTLINE_CHAOS_TEST is this run's sim, and no other's after it.
  struct current_sim {
    sim_context** p;
    current_sim(sim_context** slot, sim_context& s) : p(slot) {
      if (p) *p = &s;
    }
    ~current_sim() {
      if (p) *p = nullptr;
    }
  } current{current_, s};
  // The sim's task calls the body when it starts, as FAULTLINE_CHAOS_TEST
  // always did, so work before the body's first co_await runs on the sim.
  auto out = s.run([this, &s] { return body_(s); });
  if (out.has_exception()) {
    try {
      std::rethrow_exception(out.exception());
    } catch (const std::exception& e) {
      report_failure("the chaos test's body threw " + std::string(e.what()) + " at " + to_string(out.completed_at()));
    } catch (...) {
      report_failure("the chaos test's body threw a non-standard exception at " + to_string(out.completed_at()));
    }
  } else if (out.was_cancelled()) {
    report_failure("the chaos test's body was cancelled at " + to_string(out.completed_at()));
  }
  teardown_checks checks;
  checks.unmet_expectations = false;  // faults cut scenarios short: unused steps are expected
  checks.unreached_failpoints = false;
  expect_clean_teardown(s, checks);
}

chaos_scenario sweep_driver::intercepted() {
  return [this](sim_context& s) {
    std::string failures;
    {
      failure_collector c;
      try {
        run_body(s);
      } catch (const std::exception& e) {
        report_failure(e.what());
      }
      failures = c.failures();
    }
    if (!failures.empty()) throw std::runtime_error(failures);
  };
}

std::string sweep_driver::replay_command(const fault_schedule& s, std::uint64_t seed) const {
  // Shell-quoted word by word: a point name may hold ', spaces or $.
  return rerun_command("FAULTLINE_SCHEDULE=" + shell_quote(s.to_string()) + " FAULTLINE_SEED=" + std::to_string(seed));
}

void sweep_driver::replay_reporting(const sweep_options& o, const fault_schedule& s, std::uint64_t seed) {
  sweep_options in_process = o;
  in_process.isolate = false;
  run_schedule(in_process, s, seed, [&](sim_context& sim) { run_body(sim); });
}

bool sweep_driver::replay_regressions(const chaos_env& e, const sweep_options& o) {
  const std::string file = regression_file(e);
  if (file.empty() || !std::filesystem::exists(file)) return true;
  bool ok = true;
  const auto known = read_regressions(file, ok);
  if (!ok) return false;
  const auto scenario = intercepted();
  for (const auto& r : known) {
    const chaos_run run = run_schedule(o, r.schedule, r.seed, scenario);
    if (!run.failed) continue;
    ::testing::Test::RecordProperty("faultline_regression", file + ":" + std::to_string(r.line));
    ::testing::Test::RecordProperty("faultline_minimal_schedule", r.schedule.to_string());
    report_failure("faultline: a known failure fails again: " + file + ":" + std::to_string(r.line) + " (seed " +
                   std::to_string(r.seed) + ", " + (r.schedule.empty() ? "no faults" : r.schedule.to_string()) +
                   "), before any new seed ran\n  which fails with: " + run.failure.substr(0, run.failure.find('\n')) +
                   "\n  replay: " + replay_command(r.schedule, r.seed));
    if (!o.isolate) replay_reporting(o, r.schedule, r.seed);
    return false;
  }
  if (!known.empty())
    std::cout << "[ chaos    ] " << full_name() << ": " << known.size() << " known failing schedules from " << file
              << " pass" << std::endl;
  return true;
}

void sweep_driver::chaos(sweep_options o) {
  // Faults cut scenarios short: unused steps and failpoints are expected.
  const quiet_self_reports quiet;
  const chaos_env e = chaos_env::from_environment();
  if (!e.error.empty()) {
    report_failure("faultline: " + e.error);
    return;
  }
  if (e.perturb) {
    o.perturb = true;
    o.sim.perturb_mode = e.perturb_mode;
    if (e.pct_depth) o.sim.pct_depth = *e.pct_depth;
  }
  perturb_env = perturb_env_of(o);
  o.shard_index = slice_index_;
  o.shard_count = slice_count_;
  const crash_guard guard;
  if (e.schedule) {
    if (slice_index_ != 0) return;  // one copy replays
    const auto s = schedule_from(e);
    if (!s) return;
    std::cout << "[ chaos    ] " << full_name() << " replaying schedule " << s->to_string() << std::endl;
    log_schedule(e, *s, e.seed.value_or(0));
    replay_reporting(o, *s, e.seed.value_or(0));
    return;
  }
  if (e.seed) {
    if (slice_index_ != 0) return;
    log_seed(e, *e.seed);
    o.isolate = false;  // a replay runs in-process, where a debugger can follow it
    run_seed(o, *e.seed, [&](sim_context& sim) { run_body(sim); });
    return;
  }
  o.isolate = o.isolate || e.isolate;
  o.seeds = e.seeds;
  o.on_seed = [&e](std::uint64_t seed) { log_seed(e, seed); };
  o.on_schedule = [&e](const fault_schedule& s, std::uint64_t seed) { log_schedule(e, s, seed); };
  if (slice_index_ == 0 && !replay_regressions(e, o)) return;
  const auto start = std::chrono::steady_clock::now();
  if (e.time_budget) {
    // Seeds until the wall-clock budget is spent, a progress line every 5 s.
    o.seeds = UINT64_MAX - o.first_seed;
    const auto deadline = start + *e.time_budget;
    auto next_progress = start + std::chrono::seconds(5);
    o.keep_going = [deadline, next_progress, start](const sweep_result& so_far) mutable {
      const auto now = std::chrono::steady_clock::now();
      if (now >= next_progress) {
        next_progress = now + std::chrono::seconds(5);
        const double s = seconds_since(start);
        std::cout << "[ chaos    ] " << full_name() << ": " << so_far.seeds_run << " seeds ("
                  << static_cast<std::uint64_t>(static_cast<double>(so_far.seeds_run) / s) << "/s), "
                  << describe_faults(so_far.coverage) << "; " << describe_calls(so_far.coverage) << std::endl;
      }
      return now < deadline;
    };
  }
  const sweep_result r = sweep(o, intercepted());
  const double took = seconds_since(start);
  ::testing::Test::RecordProperty("faultline_seeds_run", std::to_string(r.seeds_run));
  ::testing::Test::RecordProperty("faultline_faults", describe_faults(r.coverage));
  ::testing::Test::RecordProperty("faultline_calls", describe_calls(r.coverage));
  if (!r.failure) {
    std::string line = full_name() + ": " + std::to_string(r.seeds_run) + " seeds passed (" +
                       describe_faults(r.coverage) + "; " + describe_calls(r.coverage) + "; " + wall_time(took) + ")";
    if (!r.never_exercised.empty()) {
      line += "; never exercised:";
      for (const auto& g : r.never_exercised) line += " " + g + ";";
      ::testing::Test::RecordProperty("faultline_never_exercised", line.substr(line.find("never exercised:") + 17));
    }
    std::cout << "[ chaos    ] " << line << std::endl;
    return;
  }
  const chaos_run& f = *r.failure;
  ::testing::Test::RecordProperty("faultline_seed", std::to_string(f.seed));
  ::testing::Test::RecordProperty("faultline_schedule", f.schedule.to_string());
  const std::string range = e.time_budget ? "seeds from " + std::to_string(o.first_seed) + " within a " +
                                                 std::to_string(e.time_budget->count()) + " s budget"
                                           : "seeds " + std::to_string(o.first_seed) + ".." +
                                                 std::to_string(o.first_seed + o.seeds - 1);
  std::string report =
      "faultline: chaos sweep failed at seed " + std::to_string(f.seed) + " (of " + range + ")\n" + describe(r);
  if (!o.isolate) {
    const determinism_result d = check_determinism(o, f.seed, intercepted());
    if (!d.deterministic)
      report += "  the seed does not replay bit for bit; first difference: " + d.first_difference + "\n";
  }
  const bool minimal_found = r.minimal && r.minimal->reproduced;
  const fault_schedule& minimal = minimal_found ? r.minimal->schedule : f.schedule;
  ::testing::Test::RecordProperty("faultline_minimal_schedule", minimal.to_string());
  report += "  replay: " + replay_command(minimal, f.seed) + "\n";
  report += "  replay the seed: " + rerun_command("FAULTLINE_SEED=" + std::to_string(f.seed));
  ::testing::Test::RecordProperty("faultline_replay", replay_command(minimal, f.seed));
  report_failure(report);
  if (minimal_found) append_regression(e, f.seed, minimal);
  // Isolated, the failure may be a crash: the report above is all there is.
  if (o.isolate) return;
  // The minimal schedule once more, reported as usual: its failures, and the
  // failure timeline of its sim.
  o.on_schedule = nullptr;
  replay_reporting(o, minimal, f.seed);
}

void sweep_driver::faults(single_fault_options o, bool pairs) {
  const quiet_self_reports quiet;  // as in run_chaos
  const chaos_env e = chaos_env::from_environment();
  if (!e.error.empty()) {
    report_failure("faultline: " + e.error);
    return;
  }
  if (slice_index_ != 0) return;  // deterministic: one copy runs it all
  const crash_guard guard;
  sweep_options so;
  so.sim = o.sim;
  if (e.schedule) {
    const auto s = schedule_from(e);
    if (!s) return;
    log_schedule(e, *s, o.seed);
    replay_reporting(so, *s, o.seed);
    return;
  }
  o.isolate = o.isolate || e.isolate;
  so.isolate = o.isolate;
  so.on_schedule = [&e](const fault_schedule& s, std::uint64_t seed) { log_schedule(e, s, seed); };
  o.on_schedule = [&e, seed = o.seed](const fault_schedule& s) { log_schedule(e, s, seed); };
  if (!replay_regressions(e, so)) return;
  const char* what = pairs ? "pairwise sweep" : "single-fault sweep";
  const auto start = std::chrono::steady_clock::now();
  single_fault_result r;
  try {
    r = pairs ? sweep_fault_pairs(o, intercepted()) : sweep_single_faults(o, intercepted());
  } catch (const std::invalid_argument& x) {
    report_failure(x.what());
    return;
  }
  const double took = seconds_since(start);
  ::testing::Test::RecordProperty("faultline_runs", std::to_string(r.runs));
  ::testing::Test::RecordProperty("faultline_calls", describe_calls(r.baseline.coverage));
  ::testing::Test::RecordProperty("faultline_failures", std::to_string(r.failures.size()));
  if (r.failures.empty() && !r.truncated) {
    std::cout << "[ chaos    ] " << full_name() << ": " << what << " passed: " << describe(r).substr(0, describe(r).size() - 1)
              << " in " << wall_time(took) << std::endl;
    return;
  }
  std::string report = "faultline: " + std::string(what) + " failed: " + describe(r);
  if (r.failures.empty()) {
    report_failure(report);
    return;
  }
  const chaos_run& first = r.failures.front();
  std::string all;
  for (const auto& f : r.failures) all += (all.empty() ? "" : "\n") + f.schedule.to_string();
  ::testing::Test::RecordProperty("faultline_schedule", first.schedule.to_string());
  ::testing::Test::RecordProperty("faultline_failing_schedules", all);
  report += "  replay: " + replay_command(first.schedule, o.seed);
  if (r.failures.size() > 1) report += "\n  (that replays the first row; for another, put its fault in FAULTLINE_SCHEDULE)";
  ::testing::Test::RecordProperty("faultline_replay", replay_command(first.schedule, o.seed));
  report_failure(report);
  for (const auto& f : r.failures) append_regression(e, o.seed, f.schedule);
  if (o.isolate) return;
  so.on_schedule = nullptr;
  replay_reporting(so, first.schedule, o.seed);
}

// A FAULTLINE_CHAOS_TEST body reaches its sim through `sim()`, not a parameter.
chaos_body with_own_sim(std::function<asio::awaitable<void>()> body) {
  return [body = std::move(body)](sim_context&) { return body(); };
}

}  // namespace

sim_context& chaos_test::sim() {
  if (!sim_) throw std::logic_error("faultline: chaos_test::sim() outside a run; use it inside the chaos test's body");
  return *sim_;
}

void chaos_test::run_chaos(sweep_options o, body_fn body) {
  sweep_driver(with_own_sim(std::move(body)), slice_index_, slice_count_, &sim_).chaos(std::move(o));
}

void chaos_test::run_single_faults(single_fault_options o, body_fn body) {
  sweep_driver(with_own_sim(std::move(body)), slice_index_, slice_count_, &sim_).faults(std::move(o), false);
}

void chaos_test::run_fault_pairs(single_fault_options o, body_fn body) {
  sweep_driver(with_own_sim(std::move(body)), slice_index_, slice_count_, &sim_).faults(std::move(o), true);
}

void run_chaos_sweep(sweep_options options, chaos_body body) { sweep_driver(std::move(body), 0, 1).chaos(std::move(options)); }

void run_chaos_sweep(chaos_plan plan, chaos_body body) {
  run_chaos_sweep(chaos_test_options(std::move(plan)), std::move(body));
}

void run_fault_sweep(single_fault_options options, chaos_body body) {
  sweep_driver(std::move(body), 0, 1).faults(std::move(options), false);
}

void run_fault_sweep(chaos_body body) { run_fault_sweep({}, std::move(body)); }

void run_pairwise_sweep(single_fault_options options, chaos_body body) {
  sweep_driver(std::move(body), 0, 1).faults(std::move(options), true);
}

void run_pairwise_sweep(chaos_body body) { run_pairwise_sweep({}, std::move(body)); }

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
