// faultline - a GoogleTest listener that prints the virtual timeline of the sims of a failing test.
#pragma once

#include <gtest/gtest.h>

#include <faultline/fault.hpp>

#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

namespace faultline {
class sim_context;
}  // namespace faultline

namespace faultline::testing {

/// How many events a failure timeline shows: the value of the environment
/// variable `FAULTLINE_TIMELINE_EVENTS` if set (0 switches timelines off),
/// else 30. A value that is not a number is reported on stderr and ignored.
std::size_t timeline_events_from_env();

/// When an assertion fails, prints the virtual timeline (the last `events`
/// trace events) of every sim alive on the failing thread, once per sim per
/// test, right after GoogleTest's failure message, so a CI log shows what
/// happened and when:
///
/// ```
/// [ timeline ] sim 1 of 1 at t=3.000s, last 4 of 9 events:
///   t=1.500s timer#2 fired
///   ...
/// ```
///
/// It reads the sims while the failure is reported, so they are still alive:
/// sims destroyed before the failure (at the end of a helper) are not shown.
///
/// Thread safety: as GoogleTest's listeners; each sim is read on its own thread.
class timeline_listener : public ::testing::EmptyTestEventListener {
 public:
  /// Prints to `out` (stdout when null), `events` events per sim.
  explicit timeline_listener(std::size_t events = timeline_events_from_env(), std::ostream* out = nullptr)
      : events_(events), out_(out) {}

  /// Changes how many events are printed; 0 switches timelines off.
  void set_events(std::size_t n) noexcept { events_ = n; }
  std::size_t events() const noexcept { return events_; }

  void OnTestStart(const ::testing::TestInfo& info) override;
  void OnTestPartResult(const ::testing::TestPartResult& result) override;
  void OnTestEnd(const ::testing::TestInfo& info) override;

 private:
  std::size_t events_;
  std::ostream* out_;
  std::vector<const sim_context*> printed_;  // this test's, already shown
};

/// Appends a `timeline_listener` to GoogleTest's listeners and returns it;
/// later calls return the same one. Call it from `main` after
/// `InitGoogleTest`/`InitGoogleMock`, or at static initialisation:
///
/// **Example**:
/// ```
/// // In any test file of the binary: opt in once.
/// [[maybe_unused]] static auto& timeline = faultline::testing::install_timeline_listener();
/// ```
/// Linking `faultline::gtest_main` instead of `GTest::gtest_main` does the same.
timeline_listener& install_timeline_listener();

/// Writes the timeline block of `sim` as the listener prints it: a header
/// naming it as sim `index` (1-based) of `count`, then its last `events`
/// events, one a line, indented.
void print_timeline(std::ostream& out, const sim_context& sim, std::size_t events, std::size_t index = 1,
                    std::size_t count = 1);

/// Writes one line per test to a file, for tools that summarise a run (the
/// demo does): the test's name, whether it passed, and what its sims did:
///
/// ```
/// test Retry.BacksOffExponentially passed sims=1 virtual_ns=7000000000 wall_us=85 latency=3 error=3 exception=0 hang=0 cancel=0
/// ```
///
/// The numbers are the sums over the sims destroyed during the test on the
/// test's thread (`faultline::totals_on_this_thread()`); wall time is real
/// time, for reports only.
class report_listener : public ::testing::EmptyTestEventListener {
 public:
  explicit report_listener(std::string path) : path_(std::move(path)) {}

  void OnTestStart(const ::testing::TestInfo& info) override;
  void OnTestEnd(const ::testing::TestInfo& info) override;

 private:
  std::string path_;
  sim_totals before_;
  std::chrono::steady_clock::time_point started_;
};

/// Appends a `report_listener` writing to the file named by the environment
/// variable `FAULTLINE_REPORT`, if it is set (`faultline::gtest_main` calls
/// this). Returns whether it did.
bool install_report_listener_from_env();

}  // namespace faultline::testing
