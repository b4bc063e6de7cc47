// faultline - gMock's default result for mocked methods returning asio::awaitable<T>: a clear failure, never a crash.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/this_coro.hpp>

#include <stdexcept>
#include <string>
#include <type_traits>
#include <typeinfo>

namespace faultline::testing {

/// Thrown into the coroutine that awaits the result of a mocked call that had
/// no action (an uninteresting or unexpected call, or one past its
/// `WillOnce`s). The call has also failed the test when it was made.
class missing_action_error : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

}  // namespace faultline::testing

namespace faultline::detail {

/// Reports (`report_failure`) a mocked call returning
/// `asio::awaitable<value_type>` (or `<void>`) that had no action; returns
/// the text the awaitable throws.
std::string report_missing_action(const std::type_info& value_type, bool is_void);

template <class T, class E>
boost::asio::awaitable<T, E> missing_action(std::string message) {
  (void)co_await boost::asio::this_coro::executor;  // makes this a coroutine: nothing happens until awaited
  throw ::faultline::testing::missing_action_error(message);
}

}  // namespace faultline::detail

// gMock returns DefaultValue<R>::Get() for a call without an action
// (uninteresting, unexpected, or past its WillOnce()s). For awaitable<T> its
// built-in default is a null awaitable that crashes when awaited; this one
// fails the test at the call and throws missing_action_error when awaited.
// It lives here, in a header every faultline user includes (through
// sim_context.hpp), so a mock file that never includes <faultline/gtest.hpp>
// gets it too; gMock is not included: its primary template is declared as
// gMock 1.12 defines it (gmock-actions.h), and this is the one definition.
namespace testing::internal {
template <typename T>
class BuiltInDefaultValue;

template <class T, class E>
class BuiltInDefaultValue<boost::asio::awaitable<T, E>> {
 public:
  static bool Exists() { return true; }
  static boost::asio::awaitable<T, E> Get() {
    return ::faultline::detail::missing_action<T, E>(
        ::faultline::detail::report_missing_action(typeid(T),
                                                   std::is_void_v<T>));
  }
};
}  // namespace testing::internal
