// faultline - sim_test, background scopes and the end-of-test checks.
#include <faultline/gtest/fixture.hpp>

#include <faultline/error.hpp>
#include <faultline/failpoint.hpp>

#include <cstring>
#include <string>

namespace faultline::testing {

namespace {

std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string lines(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& item : items) s += "\n  " + item;
  return s;
}

// Where a failure that belongs to no assertion is reported: the given
// location, else the current test's definition.
struct location {
  const char* file;
  int line;
};

location locate(const char* file, int line) {
  if (file) return {file, line};
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) return {info->file(), info->line()};
  return {"unknown file", 0};
}

bool is_script_error(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const script_error&) {
    return true;
  } catch (...) {
    return false;
  }
}

// The checks of the sim_test running on this thread, if any.
thread_local const teardown_checks* current_checks = nullptr;

bool report_to_gtest(report_kind kind, const char* file, int line, const std::string& message) {
  if (!::testing::UnitTest::GetInstance()->current_test_info()) return false;
  if (kind != report_kind::missing_action) {
    // As the fixture's teardown: after a fatal failure or a skip, leftovers
    // are a consequence, not news; and the test's opt-outs hold.
    if (::testing::Test::HasFatalFailure() || ::testing::Test::IsSkipped()) return true;
    if (current_checks && kind == report_kind::unmet_script && !current_checks->unmet_expectations) return true;
    if (current_checks && kind == report_kind::unreached_failpoint && !current_checks->unreached_failpoints)
      return true;
  }
  // A double built by std::optional::emplace or std::make_unique is
  // "created" inside the standard library: the test's own location says more.
  if (file && std::strncmp(file, "/usr/include/", 13) == 0) file = nullptr;
  const location at = locate(file, line);
  ADD_FAILURE_AT(at.file, at.line) << message;
  return true;
}

}  // namespace

void install_failure_reporter() noexcept { set_failure_reporter(&report_to_gtest); }

sim_test::checks_scope::checks_scope(const teardown_checks* c) noexcept : previous(current_checks) {
  current_checks = c;
}
sim_test::checks_scope::~checks_scope() { current_checks = previous; }

namespace detail {

sim_clock::time_point capture_instant() noexcept {
  const sim_context* sim = sim_context::current();
  return sim ? sim->now() : sim_clock::time_point{};
}

}  // namespace detail

bool expect_clean_teardown(const sim_context& sim, const teardown_checks& checks, const char* file, int line) {
  const location at = locate(file, line);
  bool clean = true;
  if (checks.pending) {
    auto ops = sim.pending();
    if (!ops.empty()) {
      clean = false;
      std::vector<std::string> items;
      for (const auto& op : ops) items.push_back(op.describe());
      ADD_FAILURE_AT(at.file, at.line) << "faultline: " << plural(ops.size(), "operation is", "operations are")
                                       << " still pending at the end of the test (" << to_string(sim.now())
                                       << "):" << lines(items)
                                       << "\nawait or cancel them before the test ends, or start long-lived tasks with "
                                          "background().spawn(name, ...), which cancels them at teardown";
    }
  }
  if (checks.unobserved_failures) {
    auto failures = sim.unobserved_failures();
    if (!failures.empty()) {
      clean = false;
      ADD_FAILURE_AT(at.file, at.line)
          << "faultline: " << plural(failures.size(), "task", "tasks")
          << " failed and nobody read the outcome (an exception never retrieved):" << lines(failures)
          << "\nread it with task.result() (e.g. EXPECT_THAT(t.result(), Threw<E>())), or await the work "
             "instead of detaching it";
    }
  }
  if (checks.unmet_expectations) {
    auto unmet = sim.unmet_expectations();
    if (!unmet.empty()) {
      clean = false;
      ADD_FAILURE_AT(at.file, at.line) << "faultline: "
                                       << plural(unmet.size(), "scripted expectation", "scripted expectations")
                                       << " never happened:" << lines(unmet)
                                       << "\nmake the code under test reach them, or remove them from the script";
    }
  }
  if (checks.unreached_failpoints) {
    auto names = failpoints(sim).unreached();
    if (!names.empty()) {
      clean = false;
      ADD_FAILURE_AT(at.file, at.line)
          << "faultline: " << plural(names.size(), "armed failpoint was", "armed failpoints were")
          << " never reached during the test:" << lines(names)
          << "\ncheck each name against the failpoint in the code (a typo?) and make the code under test reach it, "
             "or disarm it (failpoints(sim).disarm(name)) if the test expects it unreached";
    }
  }
  return clean;
}

std::vector<std::string> background_scope::stop() {
  std::vector<std::string> problems;
  for (auto& e : entries_)
    if (!e.done()) e.cancel();
  std::string report;
  try {
    // Runs until every background coroutine has ended; their completions may
    // still be queued at that instant, so run what is ready too.
    if (!state_->idle) sim_->core().run(&state_->idle);
    sim_->poll();
  } catch (const std::exception& e) {
    report = e.what();
  }
  std::vector<std::string> names;
  for (auto& entry : entries_)
    if (!entry.done()) names.push_back("task " + entry.name);
  if (names.empty() && report.empty()) return problems;
  std::string problem = "faultline: ";
  if (names.empty())
    problem += "stopping the background tasks at teardown failed";
  else
    problem += plural(names.size(), "background task", "background tasks") +
               " did not end after cancellation at teardown:" + lines(names) +
               "\na background task must end when cancelled (let operation_aborted propagate, or return once "
               "this_coro::cancellation_state is cancelled)";
  if (!report.empty()) problem += "; the sim reported:\n" + report;
  problems.push_back(std::move(problem));
  return problems;
}

sim_test::~sim_test() {
  if (!torn_down_)
    ADD_FAILURE() << "faultline: sim_test::TearDown() did not run, so the end-of-test checks were skipped; a "
                     "fixture that overrides TearDown() must call sim_test::TearDown() at its end";
}

void sim_test::TearDown() {
  if (torn_down_) return;
  torn_down_ = true;
  const location at = locate(nullptr, 0);
  for (const auto& problem : background_.stop()) ADD_FAILURE_AT(at.file, at.line) << problem;
  try {
    // Completions due at this instant (a task that ended together with the
    // body) are not leaks: let them run before looking.
    sim_.poll();
  } catch (const std::exception& e) {
    ADD_FAILURE_AT(at.file, at.line) << "faultline: running what was ready at teardown failed: " << e.what();
  }
  teardown_checks checks = checks_;
  if (HasFatalFailure() || IsSkipped()) {
    // The body stopped early (a CO_ASSERT, a stall, a skip): what it left
    // behind is a consequence, not news. Failures nobody saw may be the cause.
    checks.pending = false;
    checks.unmet_expectations = false;
    checks.unreached_failpoints = false;
  }
  expect_clean_teardown(sim_, checks, at.file, at.line);
}

void sim_test::run_coroutine_body(asio::awaitable<void> body, const char* file, int line) {
  std::optional<outcome<void>> r;
  try {
    r.emplace(sim_.run(std::move(body)));
  } catch (const std::exception& e) {
    report_body(nullptr, &e, file, line);
    return;
  }
  report_body(&*r, nullptr, file, line);
}

void sim_test::report_body(const outcome<void>* r, const std::exception* e, const char* file, int line) {
  // GTEST_FAIL_AT records a fatal failure but, unlike FAIL(), does not return.
  if (e) {
    if (dynamic_cast<const sim_error*>(e)) {
      // A stall, livelock or horizon report names the pending operations and
      // the last events already; print it as it is.
      GTEST_FAIL_AT(file, line) << e->what();
    } else {
      GTEST_FAIL_AT(file, line) << "faultline: running the test body failed: " << e->what();
    }
  } else if (r->has_exception() && is_script_error(r->exception())) {
    // verify(), or a call no step served: the message names the fix.
    GTEST_FAIL_AT(file, line) << "faultline: the test body " << r->describe();
  } else if (r->has_exception()) {
    GTEST_FAIL_AT(file, line) << "faultline: the test body " << r->describe()
                              << "; catch it in the body, or assert it with EXPECT_THROW or CO_ASSERT_THROW";
  } else if (r->was_cancelled()) {
    GTEST_FAIL_AT(file, line) << "faultline: the test body " << r->describe()
                              << ": an operation_aborted escaped it (a cancelled operation it awaited?); catch "
                                 "it, or assert it with CO_ASSERT_THROW";
  }
}

}  // namespace faultline::testing
