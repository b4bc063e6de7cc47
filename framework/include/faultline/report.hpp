// faultline - failures that belong to no call: how faultline reports them to the running test.
#pragma once

#include <string>

namespace faultline {

/// What a failure reported through `report_failure` is about, so that a
/// reporter can honour the test's opt-outs for each kind.
enum class report_kind {
  /// A double destroyed with script steps never used up or holds never released.
  unmet_script,
  /// A failpoint armed on a sim that no code reached before the sim ended.
  unreached_failpoint,
  /// A mocked call returning `asio::awaitable<T>` that had no action.
  missing_action,
};

/// Reports one failure: `file`/`line` locate it (null: unknown), `message`
/// says what happened and the fix. Returns false when it cannot report it
/// (no test is running); faultline then falls back to stderr.
using failure_reporter = bool (*)(report_kind kind, const char* file, int line, const std::string& message);

/// Installs `r` as the process-wide reporter and returns the previous one
/// (null: none). `faultline::gtest_main` and every translation unit that
/// includes `<faultline/gtest.hpp>` install GoogleTest's, which adds a
/// nonfatal failure to the running test. Thread safety: may be called from
/// any thread.
failure_reporter set_failure_reporter(failure_reporter r) noexcept;

/// Reports a failure that belongs to no call (a double destroyed with unmet
/// script steps, an armed failpoint never reached): through the installed
/// reporter, else on stderr, and then the program exits with status 1 when
/// it ends, so the failure never passes silently. Does nothing while a
/// `quiet_self_reports` scope of this thread is open, except for
/// `report_kind::missing_action`.
void report_failure(report_kind kind, const char* file, int line, const std::string& message);

/// While one exists on a thread, `report_failure` drops unmet-script and
/// unreached-failpoint reports made on that thread: chaos runs cut
/// scenarios short on purpose, so unused steps there are expected.
class quiet_self_reports {
 public:
  quiet_self_reports() noexcept;
  ~quiet_self_reports();
  quiet_self_reports(const quiet_self_reports&) = delete;
  quiet_self_reports& operator=(const quiet_self_reports&) = delete;
};

}  // namespace faultline
