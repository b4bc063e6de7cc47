// faultline - the sim_test fixture: a fresh sim per test, background tasks, end-of-test checks.
#pragma once

#include <faultline/gtest/print.hpp>
#include <faultline/outcome.hpp>
#include <faultline/report.hpp>
#include <faultline/sim_context.hpp>

#include <gtest/gtest.h>
#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace faultline::testing {

/// Which end-of-test checks run (all, by default). A test that leaves
/// something behind on purpose switches one off: `checks().pending = false;`.
struct teardown_checks {
  /// Operations still suspended (`sim.pending()`): tasks, timer waits, calls
  /// of doubles, held calls.
  bool pending = true;
  /// Tasks that failed and whose outcome nobody read (`sim.unobserved_failures()`).
  bool unobserved_failures = true;
  /// Script steps never used up and holds never released (`sim.unmet_expectations()`),
  /// and doubles destroyed during the test with such steps left.
  bool unmet_expectations = true;
  /// Failpoints the test armed that no code reached (`failpoints(sim).unreached()`).
  bool unreached_failpoints = true;
};

/// Makes `faultline::report_failure` (a double destroyed with unmet script
/// steps, an armed failpoint never reached, a mocked awaitable call without
/// an action) add a nonfatal failure to the running GoogleTest test. Done by
/// `faultline::gtest_main` and by every translation unit that includes this
/// header; call it from your own `main()` otherwise. Outside a running test
/// faultline falls back to stderr and a failing exit status.
void install_failure_reporter() noexcept;

namespace detail {
// Any test that includes the adapter reports to GoogleTest, whatever its main().
inline const bool failure_reporter_installed = (install_failure_reporter(), true);
}  // namespace detail

/// Checks what `sim` left behind and adds one nonfatal failure per kind of
/// leftover, each naming every culprit and the fix: operations still
/// pending, failed tasks nobody observed, scripted expectations that never
/// happened, armed failpoints never reached. Returns true when nothing was found. `sim_test` calls it at
/// teardown; a plain `TEST` with its own sim may call it at its end.
/// `file` and `line` locate the failures (default: the current test).
///
/// **Example**:
/// ```
/// TEST(Worker, StopsCleanly) {
///   faultline::sim_context sim;
///   ...
///   faultline::testing::expect_clean_teardown(sim);
/// }
/// ```
bool expect_clean_teardown(const sim_context& sim, const teardown_checks& checks = {}, const char* file = nullptr,
                           int line = 0);

namespace detail {

/// The running sim's instant, or the epoch outside any sim (for `capture`).
sim_clock::time_point capture_instant() noexcept;

struct background_state {
  std::size_t running = 0;
  bool idle = true;  // running == 0, as a flag the sim's run loop can watch
};

// Counts a background task while its coroutine frame exists. A parameter of
// the coroutine, so it is destroyed with the frame however the task ends,
// even if it never started.
class background_guard {
 public:
  explicit background_guard(std::shared_ptr<background_state> s) : s_(std::move(s)) {
    ++s_->running;
    s_->idle = false;
  }
  background_guard(background_guard&& other) noexcept : s_(std::move(other.s_)) {}
  background_guard& operator=(background_guard&&) = delete;
  ~background_guard() {
    if (s_ && --s_->running == 0) s_->idle = true;
  }

 private:
  std::shared_ptr<background_state> s_;
};

template <class T>
asio::awaitable<T> background_body(background_guard, asio::awaitable<T> a) {
  co_return co_await std::move(a);
}

// The function object lives in this frame until the coroutine it started ends.
template <class T, class F>
asio::awaitable<T> background_body_fn(background_guard, F f) {
  if constexpr (std::is_void_v<T>)
    co_await f();
  else
    co_return co_await f();
}

// A test body given as a coroutine function: kept alive in this frame while its coroutine runs.
template <class F>
asio::awaitable<void> body_fn(F f) {
  co_await f();
}

}  // namespace detail

/// Tasks allowed to outlive the code that started them (a server loop, a
/// heartbeat, a consumer): `stop()` cancels those still running and runs the
/// sim until they have ended, so they are not reported as leaks.
///
/// Cancellation: `stop()` emits terminal cancellation into each task (as
/// `task::cancel()`); a task may clean up asynchronously (virtual time then
/// advances) but must end. A task that fails (not by cancellation) is
/// still an unobserved failure unless its outcome is read.
///
/// Lifetime: a background task outlives the test body, so it must not refer
/// to the body's local variables; use fixture members.
///
/// Thread safety: use it on the sim's thread, outside the sim's handlers for `stop()`.
class background_scope {
 public:
  explicit background_scope(sim_context& sim) : sim_(&sim), state_(std::make_shared<detail::background_state>()) {}
  background_scope(const background_scope&) = delete;
  background_scope& operator=(const background_scope&) = delete;

  /// Starts `a` as a task named `name` on the sim (see `sim_context::spawn`).
  template <class T>
  task<T> spawn(std::string name, asio::awaitable<T> a) {
    auto t = sim_->spawn(std::move(name), detail::background_body<T>(detail::background_guard(state_), std::move(a)));
    add(t);
    return t;
  }

  /// Starts a coroutine function (a lambda) as a task; the function object is
  /// kept alive until its coroutine ends, as by `sim_context::spawn`.
  ///
  /// **Example**:
  /// ```
  /// background().spawn("heartbeat", [this]() -> asio::awaitable<void> {
  ///   for (;;) { co_await faultline::sleep_for(1s); co_await link.ping(); }
  /// });
  /// ```
  template <faultline::detail::coroutine_function F>
  task<faultline::detail::coroutine_result_t<F>> spawn(std::string name, F f) {
    using T = faultline::detail::coroutine_result_t<F>;
    auto t =
        sim_->spawn(std::move(name), detail::background_body_fn<T>(detail::background_guard(state_), std::move(f)));
    add(t);
    return t;
  }

  /// Tasks started so far.
  std::size_t size() const noexcept { return entries_.size(); }

  /// Cancels every task still running and runs the sim (auto-advancing its
  /// clock) until they have ended. Returns a line per problem, empty when
  /// all ended: tasks that did not end after cancellation (the sim stalled,
  /// spun or hit its horizon instead). Call it outside the sim's handlers.
  std::vector<std::string> stop();

 private:
  struct entry {
    std::string name;
    std::function<bool()> done;
    std::function<void()> cancel;
  };

  template <class T>
  void add(task<T> t) {
    entries_.push_back({t.name(), [t] { return t.done(); }, [t]() mutable { t.cancel(); }});
  }

  sim_context* sim_;
  std::shared_ptr<detail::background_state> state_;
  std::vector<entry> entries_;
};

/// A GoogleTest fixture owning a fresh `sim_context` per test, reachable as
/// `sim()`, with a `background()` scope for long-lived tasks. At teardown it
/// cancels the background tasks, runs what is ready at the current instant,
/// and fails the test, naming each culprit, for operations still pending,
/// failed tasks nobody observed, and scripted expectations that never
/// happened (see `teardown_checks`). When the test already has a fatal
/// failure or was skipped (a CO_ASSERT, a stall or CO_SKIP ended the body
/// early), leftovers are expected and only unobserved failures are reported.
///
/// `FAULTLINE_TEST` uses it; `FAULTLINE_TEST_F` fixtures derive from it. A
/// fixture that overrides `TearDown()` must call `sim_test::TearDown()` at
/// its end (a missed call is reported). Members of a derived fixture are
/// built after the sim and destroyed before it, so doubles may be members:
///
/// **Example**:
/// ```
/// class FetchTest : public faultline::testing::sim_test {
///  protected:
///   faultline::async_fake<std::string(std::string)> fetch{sim(), "fetch"};
/// };
/// FAULTLINE_TEST_F(FetchTest, ReturnsTheBody) {
///   fetch.on_call().after(100ms).returns("ok");
///   CO_ASSERT_EQ(co_await fetch("/a"), "ok");
///   EXPECT_EQ(sim().now(), faultline::at(100ms));
/// }
/// ```
class sim_test : public ::testing::Test {
 public:
  /// The sim of this test.
  sim_context& sim() noexcept { return sim_; }
  /// Tasks that may outlive the test body; cancelled at teardown.
  background_scope& background() noexcept { return background_; }
  /// The end-of-test checks to run; all by default.
  teardown_checks& checks() noexcept { return checks_; }

 protected:
  sim_test() : sim_test(sim_options{}) {}
  /// A fixture needing a seed or other guards passes them here from its constructor.
  explicit sim_test(const sim_options& options) : sim_(options), background_(sim_) {}
  ~sim_test() override;

  /// Stops the background tasks, then runs the end-of-test checks. Runs once.
  void TearDown() override;

  /// Runs a coroutine test body to completion on `sim()` (FAULTLINE_TEST's
  /// TestBody). A body that throws, is cancelled, stalls, spins or passes
  /// the horizon fails the test with a fatal failure at `file`:`line`.
  /// This overload is compiled once, in the library: FAULTLINE_TEST passes
  /// its body's awaitable here, so a test file does not instantiate the task
  /// machinery (co_spawn, the task frame) once per test.
  void run_coroutine_body(asio::awaitable<void> body, const char* file, int line);
  /// The same for a coroutine function, kept alive until its coroutine ends.
  template <class F>
  void run_coroutine_body(F body, const char* file, int line) {
    run_coroutine_body(detail::body_fn(std::move(body)), file, line);
  }

 private:
  static void report_body(const outcome<void>* r, const std::exception* e, const char* file, int line);

  // Lets reports made while the test runs (a double destroyed in the body)
  // honour checks(); declared before the sim, so it outlives it.
  struct checks_scope {
    explicit checks_scope(const teardown_checks* c) noexcept;
    ~checks_scope();
    checks_scope(const checks_scope&) = delete;
    checks_scope& operator=(const checks_scope&) = delete;
    const teardown_checks* previous;
  };

  teardown_checks checks_;
  checks_scope checks_scope_{&checks_};
  sim_context sim_;
  background_scope background_;
  bool torn_down_ = false;
};

}  // namespace faultline::testing
