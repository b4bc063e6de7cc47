// faultline - coroutine tests for GoogleTest: FAULTLINE_TEST, FAULTLINE_TEST_F and CO_ASSERT_*.
#pragma once

#include <faultline/gtest/fixture.hpp>

#include <faultline/outcome.hpp>
#include <faultline/sim_context.hpp>

#include <gtest/gtest.h>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/this_coro.hpp>

#include <coroutine>

#include <exception>
#include <type_traits>
#include <utility>

namespace faultline::testing {

/// Awaits `a` and returns how it ended, as an `outcome<T>` stamped with the
/// sim's current instant, instead of throwing: the outcome matchers
/// (`Returned`, `Threw`, `Failed`, `WasCancelled`, `CompletedAt`) then apply
/// inside a coroutine test. A cancellation of the awaiting coroutine is
/// captured too (as `was_cancelled()`).
///
/// **Example**:
/// ```
/// auto r = co_await faultline::testing::capture(fetch_with_retry(client, "/a"));
/// EXPECT_THAT(r, AllOf(Threw<std::runtime_error>(), CompletedAt(faultline::at(4s))));
/// ```
template <class T>
asio::awaitable<outcome<T>> capture(asio::awaitable<T> a) {
  std::exception_ptr e;
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(a);
      co_return outcome<void>::returned(detail::capture_instant());
    } else {
      T v = co_await std::move(a);
      co_return outcome<T>::returned(std::move(v), detail::capture_instant());
    }
  } catch (...) {
    e = std::current_exception();
  }
  co_return outcome<T>::threw(std::move(e), detail::capture_instant());
}

}  // namespace faultline::testing

/// Defines a test whose body is a coroutine (`co_await` works in it) run on a
/// fresh sim, reachable as `sim()`, with `background()` for long-lived
/// tasks. The macro drives the sim until the body ends; a body that stalls
/// fails with the stall report instead of hanging, and one that throws fails
/// naming the exception. The end-of-test checks of `sim_test` then run.
/// `EXPECT_*` work as usual; use `CO_ASSERT_*` instead of `ASSERT_*` (whose
/// `return` does not compile in a coroutine). Tests made with `TEST` may
/// share the suite.
///
/// **Example**:
/// ```
/// FAULTLINE_TEST(Retry, GivesUpAfterThreeAttempts) {
///   mock_client client;
///   EXPECT_CALL(client, fetch("/a")).Times(3).WillRepeatedly(faultline::testing::Hang());
///   auto r = co_await faultline::testing::capture(fetch_with_retry(client, "/a"));
///   EXPECT_THAT(r, Threw<std::runtime_error>());
///   CO_ASSERT_EQ(sim().now(), faultline::at(4s));
/// }
/// ```
#define FAULTLINE_TEST(test_suite_name, test_name) \
  FAULTLINE_TEST_IMPL_(test_suite_name, test_name, ::faultline::testing::sim_test, ::testing::Test)

/// As `FAULTLINE_TEST`, with a fixture derived from `faultline::testing::sim_test`
/// (its members are reachable in the body, as with `TEST_F`). Tests made with
/// `TEST_F` may share the fixture.
#define FAULTLINE_TEST_F(test_fixture, test_name) \
  FAULTLINE_TEST_IMPL_(test_fixture, test_name, test_fixture, test_fixture)

#define FAULTLINE_TEST_CLASS_NAME_(test_suite_name, test_name) test_suite_name##_##test_name##_FaultlineTest

// Registers through ::testing::RegisterTest (GoogleTest's public API for
// tests defined at run time) with the fixture type TEST/TEST_F would use, so
// both kinds of test may share a suite. The trailing body becomes the
// definition of the coroutine member faultline_test_body_().
#define FAULTLINE_TEST_IMPL_(test_suite_name, test_name, parent_class, registered_class)                        \
  static_assert(sizeof(GTEST_STRINGIFY_(test_suite_name)) > 1, "test_suite_name must not be empty");            \
  static_assert(sizeof(GTEST_STRINGIFY_(test_name)) > 1, "test_name must not be empty");                        \
  /* If you get an error on the following line: FAULTLINE_TEST_F needs a fixture derived from */                \
  /* faultline::testing::sim_test, which owns the sim the coroutine body runs on. */                            \
  static_assert(::std::is_base_of_v<::faultline::testing::sim_test, parent_class>,                              \
                "faultline: the fixture of FAULTLINE_TEST_F must derive from faultline::testing::sim_test");    \
  class FAULTLINE_TEST_CLASS_NAME_(test_suite_name, test_name) final : public parent_class {                    \
   public:                                                                                                      \
    FAULTLINE_TEST_CLASS_NAME_(test_suite_name, test_name)() = default;                                         \
                                                                                                                \
   private:                                                                                                     \
    void TestBody() override {                                                                                  \
      this->run_coroutine_body(faultline_test_body_(), __FILE__, __LINE__);                                     \
    }                                                                                                           \
    ::boost::asio::awaitable<void> faultline_test_body_();                                                      \
    static ::testing::TestInfo* const faultline_test_info_;                                                     \
  };                                                                                                            \
  ::testing::TestInfo* const FAULTLINE_TEST_CLASS_NAME_(test_suite_name, test_name)::faultline_test_info_ =     \
      ::testing::RegisterTest(                                                                                  \
          GTEST_STRINGIFY_(test_suite_name), GTEST_STRINGIFY_(test_name), nullptr, nullptr, __FILE__, __LINE__, \
          []() -> registered_class* { return new FAULTLINE_TEST_CLASS_NAME_(test_suite_name, test_name); });    \
  ::boost::asio::awaitable<void> FAULTLINE_TEST_CLASS_NAME_(test_suite_name, test_name)::faultline_test_body_()

// -- CO_ASSERT_* ------------------------------------------------------------------
//
// The ASSERT_* family for coroutines returning asio::awaitable<void>: on
// failure they record a fatal failure and `co_return` (GoogleTest's ASSERT_*
// `return`, which does not compile in a coroutine; folly's CO_ASSERT_* are
// the model). Messages stream as usual: `CO_ASSERT_TRUE(ok) << "why";`. In a
// helper coroutine they end the helper only; its caller continues unless it
// checks, e.g. `CO_ASSERT_NO_FATAL_FAILURE(co_await helper());`.
// The conditions may co_await: `CO_ASSERT_EQ(co_await fetch("/a"), "ok");`.

//
// In a coroutine that returns a value (asio::awaitable<int>) they cannot
// work: `co_return` without a value needs the promise's return_void. Only the
// coroutine's promise knows, and only a co_await can reach it: the macro
// co_awaits a probe first, whose await_suspend is a template over the
// promise type and static_asserts it. The probe sits in a discarded
// `if constexpr (false)` branch: checked when the coroutine compiles, never
// run, so it costs nothing. Being an if/else, `if (x) CO_FAIL();` draws GCC's
// -Wdangling-else, as `if (x) EXPECT_TRUE(y);` does with GoogleTest's own
// else-blocker: brace the if. (In a coroutine template the discarded branch is
// not instantiated; the compiler's error on the co_return then quotes the
// comment there.) tests/gtest/compile_fail checks the message.
namespace faultline::detail {

struct co_assert_probe {};

template <class Promise>
concept coroutine_returning_void = requires(Promise& p) { p.return_void(); };

template <class Promise>
consteval bool co_assert_in_void_coroutine() {
  // If you get an error on the following line: a CO_ASSERT_*, CO_FAIL or
  // CO_SKIP is in a coroutine that returns a value, and they end the
  // coroutine with a `co_return;` that has no value to give.
  static_assert(coroutine_returning_void<Promise>,
                "faultline: CO_ASSERT_*, CO_FAIL and CO_SKIP work only in a coroutine returning "
                "asio::awaitable<void> (they end it with `co_return;`); in one returning a value, use EXPECT_* "
                "and co_return a value, or move the assertions into an awaitable<void> helper");
  return true;
}

template <class Executor>
boost::asio::awaitable<co_assert_probe, Executor> co_assert_probe_on(const Executor&) noexcept;

}  // namespace faultline::detail

// The probe is an awaitable of faultline's own type, because Asio's promise
// accepts only its awaitables (and async operations) in a co_await.
namespace boost::asio {
template <class Executor>
class awaitable<::faultline::detail::co_assert_probe, Executor> {
 public:
  bool await_ready() const noexcept { return true; }
  template <class Promise, bool = ::faultline::detail::co_assert_in_void_coroutine<Promise>()>
  void await_suspend(std::coroutine_handle<Promise>) const noexcept {}
  void await_resume() const noexcept {}
};
}  // namespace boost::asio

template <class Executor>
boost::asio::awaitable<faultline::detail::co_assert_probe, Executor> faultline::detail::co_assert_probe_on(
    const Executor&) noexcept {
  return {};
}

// clang-format off
#define FAULTLINE_CO_CHECK_VOID_COROUTINE_() \
  GTEST_AMBIGUOUS_ELSE_BLOCKER_ if constexpr (false) { co_await ::faultline::detail::co_assert_probe_on(co_await ::boost::asio::this_coro::executor); } else
#define FAULTLINE_CO_FATAL_FAILURE_(message) \
  FAULTLINE_CO_CHECK_VOID_COROUTINE_() co_return /* faultline: CO_ASSERT_* and CO_FAIL work only in a coroutine returning asio::awaitable<void>; in one returning a value, use EXPECT_* and co_return a value, or move the assertions into an awaitable<void> helper */ GTEST_MESSAGE_(message, ::testing::TestPartResult::kFatalFailure)
// clang-format on

/// Records a fatal failure and ends the coroutine (`FAIL()`).
#define CO_FAIL() FAULTLINE_CO_FATAL_FAILURE_("Failed")
/// Marks the test skipped and ends the coroutine (`GTEST_SKIP()`).
#define CO_SKIP() FAULTLINE_CO_CHECK_VOID_COROUTINE_() co_return GTEST_MESSAGE_("", ::testing::TestPartResult::kSkip)

#define CO_ASSERT_TRUE(condition) GTEST_TEST_BOOLEAN_(condition, #condition, false, true, FAULTLINE_CO_FATAL_FAILURE_)
#define CO_ASSERT_FALSE(condition) \
  GTEST_TEST_BOOLEAN_(!(condition), #condition, true, false, FAULTLINE_CO_FATAL_FAILURE_)

#define CO_ASSERT_EQ(val1, val2) \
  GTEST_PRED_FORMAT2_(::testing::internal::EqHelper::Compare, val1, val2, FAULTLINE_CO_FATAL_FAILURE_)
#define CO_ASSERT_NE(val1, val2) \
  GTEST_PRED_FORMAT2_(::testing::internal::CmpHelperNE, val1, val2, FAULTLINE_CO_FATAL_FAILURE_)
#define CO_ASSERT_LE(val1, val2) \
  GTEST_PRED_FORMAT2_(::testing::internal::CmpHelperLE, val1, val2, FAULTLINE_CO_FATAL_FAILURE_)
#define CO_ASSERT_LT(val1, val2) \
  GTEST_PRED_FORMAT2_(::testing::internal::CmpHelperLT, val1, val2, FAULTLINE_CO_FATAL_FAILURE_)
#define CO_ASSERT_GE(val1, val2) \
  GTEST_PRED_FORMAT2_(::testing::internal::CmpHelperGE, val1, val2, FAULTLINE_CO_FATAL_FAILURE_)
#define CO_ASSERT_GT(val1, val2) \
  GTEST_PRED_FORMAT2_(::testing::internal::CmpHelperGT, val1, val2, FAULTLINE_CO_FATAL_FAILURE_)

#define CO_ASSERT_STREQ(s1, s2) \
  GTEST_PRED_FORMAT2_(::testing::internal::CmpHelperSTREQ, s1, s2, FAULTLINE_CO_FATAL_FAILURE_)
#define CO_ASSERT_STRNE(s1, s2) \
  GTEST_PRED_FORMAT2_(::testing::internal::CmpHelperSTRNE, s1, s2, FAULTLINE_CO_FATAL_FAILURE_)
#define CO_ASSERT_STRCASEEQ(s1, s2) \
  GTEST_PRED_FORMAT2_(::testing::internal::CmpHelperSTRCASEEQ, s1, s2, FAULTLINE_CO_FATAL_FAILURE_)
#define CO_ASSERT_STRCASENE(s1, s2) \
  GTEST_PRED_FORMAT2_(::testing::internal::CmpHelperSTRCASENE, s1, s2, FAULTLINE_CO_FATAL_FAILURE_)

#define CO_ASSERT_FLOAT_EQ(val1, val2) \
  GTEST_PRED_FORMAT2_(::testing::internal::CmpHelperFloatingPointEQ<float>, val1, val2, FAULTLINE_CO_FATAL_FAILURE_)
#define CO_ASSERT_DOUBLE_EQ(val1, val2) \
  GTEST_PRED_FORMAT2_(::testing::internal::CmpHelperFloatingPointEQ<double>, val1, val2, FAULTLINE_CO_FATAL_FAILURE_)
#define CO_ASSERT_NEAR(val1, val2, abs_error) \
  GTEST_PRED_FORMAT3_(::testing::internal::DoubleNearPredFormat, val1, val2, abs_error, FAULTLINE_CO_FATAL_FAILURE_)

#define CO_ASSERT_THROW(statement, expected_exception) \
  GTEST_TEST_THROW_(statement, expected_exception, FAULTLINE_CO_FATAL_FAILURE_)
#define CO_ASSERT_NO_THROW(statement) GTEST_TEST_NO_THROW_(statement, FAULTLINE_CO_FATAL_FAILURE_)
#define CO_ASSERT_ANY_THROW(statement) GTEST_TEST_ANY_THROW_(statement, FAULTLINE_CO_FATAL_FAILURE_)

/// `ASSERT_THAT`: `CO_ASSERT_THAT(co_await fetch("/a"), HasSubstr("ok"));`.
#define CO_ASSERT_THAT(value, matcher)                                                        \
  GTEST_PRED_FORMAT1_(::testing::internal::MakePredicateFormatterFromMatcher(matcher), value, \
                      FAULTLINE_CO_FATAL_FAILURE_)

/// Ends the coroutine if `statement` adds a fatal failure. Caveat: GoogleTest
/// watches for failures through a per-thread reporter installed for the
/// duration of the statement; if the statement suspends, another coroutine
/// must not start and finish its own *_NO_FATAL_FAILURE (or EXPECT_FATAL_FAILURE)
/// in the meantime.
#define CO_ASSERT_NO_FATAL_FAILURE(statement) GTEST_TEST_NO_FATAL_FAILURE_(statement, FAULTLINE_CO_FATAL_FAILURE_)

#define CO_ASSERT_PRED_FORMAT1(pred_format, v1) GTEST_PRED_FORMAT1_(pred_format, v1, FAULTLINE_CO_FATAL_FAILURE_)
#define CO_ASSERT_PRED1(pred, v1) GTEST_PRED1_(pred, v1, FAULTLINE_CO_FATAL_FAILURE_)
#define CO_ASSERT_PRED_FORMAT2(pred_format, v1, v2) \
  GTEST_PRED_FORMAT2_(pred_format, v1, v2, FAULTLINE_CO_FATAL_FAILURE_)
#define CO_ASSERT_PRED2(pred, v1, v2) GTEST_PRED2_(pred, v1, v2, FAULTLINE_CO_FATAL_FAILURE_)
#define CO_ASSERT_PRED_FORMAT3(pred_format, v1, v2, v3) \
  GTEST_PRED_FORMAT3_(pred_format, v1, v2, v3, FAULTLINE_CO_FATAL_FAILURE_)
#define CO_ASSERT_PRED3(pred, v1, v2, v3) GTEST_PRED3_(pred, v1, v2, v3, FAULTLINE_CO_FATAL_FAILURE_)
#define CO_ASSERT_PRED_FORMAT4(pred_format, v1, v2, v3, v4) \
  GTEST_PRED_FORMAT4_(pred_format, v1, v2, v3, v4, FAULTLINE_CO_FATAL_FAILURE_)
#define CO_ASSERT_PRED4(pred, v1, v2, v3, v4) GTEST_PRED4_(pred, v1, v2, v3, v4, FAULTLINE_CO_FATAL_FAILURE_)
#define CO_ASSERT_PRED_FORMAT5(pred_format, v1, v2, v3, v4, v5) \
  GTEST_PRED_FORMAT5_(pred_format, v1, v2, v3, v4, v5, FAULTLINE_CO_FATAL_FAILURE_)
#define CO_ASSERT_PRED5(pred, v1, v2, v3, v4, v5) GTEST_PRED5_(pred, v1, v2, v3, v4, v5, FAULTLINE_CO_FATAL_FAILURE_)
