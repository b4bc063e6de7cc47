// faultline - failures that belong to no call: the installed reporter, or stderr and the exit status.
#include <faultline/report.hpp>

#include <faultline/detail/gmock_default.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cxxabi.h>
#include <memory>

namespace faultline {

namespace {

std::atomic<failure_reporter> installed{nullptr};
thread_local int quiet_depth = 0;
std::atomic<bool> failed_unreported{false};

// Runs at exit when a failure reached no test framework: the program must
// not report success.
void fail_at_exit() {
  if (!failed_unreported.load()) return;
  std::fflush(stdout);
  std::fputs("faultline: the program is exiting with status 1 because of the failure(s) reported above\n", stderr);
  std::fflush(stderr);
  std::_Exit(1);
}

}  // namespace

failure_reporter set_failure_reporter(failure_reporter r) noexcept { return installed.exchange(r); }

quiet_self_reports::quiet_self_reports() noexcept { ++quiet_depth; }
quiet_self_reports::~quiet_self_reports() { --quiet_depth; }

void report_failure(report_kind kind, const char* file, int line, const std::string& message) {
  if (quiet_depth > 0 && kind != report_kind::missing_action) return;
  if (failure_reporter r = installed.load())
    if (r(kind, file, line, message)) return;
  std::string text;
  if (file) text = std::string(file) + ":" + std::to_string(line) + ": ";
  text += message;
  text +=
      "\n(no test framework reporter is installed, so this cannot fail the current test: link "
      "faultline::gtest_main, or include <faultline/gtest.hpp>; the program will exit with status 1)\n";
  std::fflush(stdout);
  std::fputs(text.c_str(), stderr);
  std::fflush(stderr);
  if (!failed_unreported.exchange(true)) std::atexit(&fail_at_exit);
}

namespace detail {

namespace {
void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
}
}  // namespace

std::string report_missing_action(const std::type_info& value_type, bool is_void) {
  std::string type = "void";
  if (!is_void) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> p(abi::__cxa_demangle(value_type.name(), nullptr, nullptr, &status),
                                             std::free);
    type = status == 0 && p ? std::string(p.get()) : std::string(value_type.name());
    replace_all(type, "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >", "std::string");
    replace_all(type, "std::__cxx11::", "std::");
  }
  // gMock hands a default value no call information (gmock-spec-builders.h calls DefaultValue<R>::Get() with
  // none, and with an empty description for an expected call), so the method cannot be named here; the
  // message says where gMock names it instead.
  std::string message =
      "faultline: a mock method returning asio::awaitable<" + type +
      "> was called without an action for the call; awaiting its result throws "
      "faultline::testing::missing_action_error. Which method: gMock does not tell faultline, but its own "
      "report beside this one names the call when it was unexpected, past its WillOnce()s, or uninteresting "
      "on a mock that is not a NiceMock; an EXPECT_CALL without an action and a NiceMock's calls are printed "
      "with their names only with --gmock_verbose=info. Give the call an action, e.g. EXPECT_CALL(mock, "
      "method(...)).WillOnce(faultline::testing::ReturnAfter(latency, value)), or a default with ON_CALL(mock, "
      "method).WillByDefault(...)";
  report_failure(report_kind::missing_action, nullptr, 0, message);
  return message;
}

}  // namespace detail

}  // namespace faultline
